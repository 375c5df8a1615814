//! Looks through every file the app wrote for secrets that must live only in the keyring.

use anyhow::Result;
use std::path::{Path, PathBuf};

/// Where, relative to HOME, apps keep data, config, caches, state and logs (XDG).
const BASES: &[&str] = &[".local/share", ".config", ".cache", ".local/state"];

/// What a scan found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every file read.
    pub files: Vec<PathBuf>,
    /// (file, label of the needle found in it).
    pub hits: Vec<(PathBuf, String)>,
}

/// Reads every file under the app's directories (any folder in an XDG base whose name
/// contains "gatehouse", e.g. `dev.gatehouse.app`, including its `logs/`) and reports
/// which needles occur. Needles are (label, bytes); only labels are reported, so a
/// secret never reaches the test output.
pub fn scan_app_dirs(home: &Path, needles: &[(&str, &[u8])]) -> Result<Scan> {
    let mut scan = Scan::default();
    for base in BASES {
        let Ok(entries) = std::fs::read_dir(home.join(base)) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().to_lowercase().contains("gatehouse") {
                walk(&entry.path(), needles, &mut scan)?;
            }
        }
    }
    Ok(scan)
}

fn walk(path: &Path, needles: &[(&str, &[u8])], scan: &mut Scan) -> Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)?.flatten() {
            walk(&entry.path(), needles, scan)?;
        }
    } else if meta.is_file() {
        // A file may vanish while the app runs; that is not a finding.
        let Ok(bytes) = std::fs::read(path) else {
            return Ok(());
        };
        for (label, needle) in needles {
            if !needle.is_empty() && bytes.windows(needle.len()).any(|w| w == *needle) {
                scan.hits.push((path.to_owned(), (*label).to_owned()));
            }
        }
        scan.files.push(path.to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_needles_only_in_app_dirs() {
        let home = tempfile::tempdir().unwrap();
        let app = home.path().join(".local/share/dev.gatehouse.app/logs");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(app.join("app.log"), b"refresh ghr_abc stored").unwrap();
        std::fs::write(app.join("clean.log"), b"nothing here").unwrap();
        let other = home.path().join(".config/other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("x"), b"ghr_abc").unwrap();

        let scan = scan_app_dirs(home.path(), &[("refresh prefix", b"ghr_")]).unwrap();
        assert_eq!(scan.files.len(), 2);
        assert_eq!(scan.hits.len(), 1);
        assert!(scan.hits[0].0.ends_with("app.log"));
        assert_eq!(scan.hits[0].1, "refresh prefix");
    }
}
