//! `cargo xtask icons`: draws the application icons with ImageMagick, reproducibly.
//!
//! The in-app logo (ui/src/lib/ui/Logo.svelte: a white gatehouse on an indigo rounded
//! square, 32-unit viewBox) drawn at 1024 px (x29 plus a 48 px margin) and scaled
//! down, so the window icon and the logo in the app match. Tauri wants RGBA PNGs,
//! hence `PNG32:`.

use crate::say;
use crate::util;
use anyhow::{Result, bail};
use std::process::Command;

/// The UI's `--accent` colour.
const BACKGROUND: &str = "#4f46e5";
const MASTER: u32 = 1024;

/// The drawing, in 1024 px coordinates: (fill, MVG primitive).
const SHAPES: &[(&str, &str)] = &[
    (BACKGROUND, "roundrectangle 48,48 975,975 232,232"),
    // Logo.svelte's "M9 24V13l7-5 7 5v11h-4.5v-6h-5v6z", scaled.
    (
        "white",
        "path 'M 309,744 L 309,425 L 512,280 L 715,425 L 715,744 L 584.5,744 \
         L 584.5,570 L 439.5,570 L 439.5,744 Z'",
    ),
];

/// Writes icons/{32x32,128x128,128x128@2x,icon}.png and icons/icon.ico.
pub fn icons() -> Result<()> {
    let dir = util::root().join("icons");
    std::fs::create_dir_all(&dir)?;
    let master = dir.join(".master.png");
    let mut draw = Command::new("convert");
    draw.args(["-size", &format!("{MASTER}x{MASTER}"), "xc:none"]);
    for (fill, shape) in SHAPES {
        draw.args(["-fill", fill, "-draw", shape]);
    }
    draw.arg(format!("PNG32:{}", master.display()));
    util::run("convert (draw)", &mut draw)?;

    for (name, px) in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)] {
        let out = dir.join(name);
        util::run(
            "convert (resize)",
            Command::new("convert")
                .arg(&master)
                .args(["-filter", "Lanczos", "-resize", &format!("{px}x{px}"), "-strip"])
                .arg(format!("PNG32:{}", out.display())),
        )?;
        check_rgba(&out)?;
    }
    util::run(
        "convert (ico)",
        Command::new("convert").arg(&master).args(["-define", "icon:auto-resize=256,128,64,48,32,16"]).arg(dir.join("icon.ico")),
    )?;
    std::fs::remove_file(&master)?;
    say!("wrote icons to {}", dir.display());
    Ok(())
}

fn check_rgba(path: &std::path::Path) -> Result<()> {
    let out = Command::new("identify").args(["-format", "%[channels]"]).arg(path).output()?;
    let channels = String::from_utf8_lossy(&out.stdout);
    if !channels.starts_with("srgba") && !channels.starts_with("rgba") {
        bail!("{} is {channels}, not RGBA", path.display());
    }
    Ok(())
}
