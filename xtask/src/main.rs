//! `cargo xtask <command>`: the project's developer commands (README: run and test).
//!
//! One module per command; add a command with a module and a line in `main`.

mod bench;
mod bench_app;
mod bindings;
mod ensure;
mod headless;
mod icons;
mod pg;
mod python;
mod report;
mod run;
mod screenshot;
mod test;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

  run [--users N] [--xvfb]   build, start a demo server (N users, default 500), open the app
  test [--no-ui|--no-rust|--no-e2e|--only ui|rust|e2e] [-- E2E-FILTER]
                             every check and test; ends with `summary: N passed, M failed, K skipped`
  screenshot [--out PATH]    docs/screenshot.png of the real app (headless)
  icons                      redraw icons/ with ImageMagick
  bindings                   regenerate the UI's TypeScript bindings
  bench [server|activity|load|scim|client|app]  the benchmarks of BENCHMARKS.md (all by default; release builds)
  postgres                   a throwaway PostgreSQL cluster; prints its URL, stops on Enter";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r),
        None => ("help", &[][..]),
    };
    let result = match cmd {
        // These two report through their own summary line.
        "test" => return test::test(rest),
        "test-inner" => return test::test_inner(rest),
        "run" => run::run(rest),
        "screenshot" => screenshot::screenshot(rest),
        "screenshot-inner" => screenshot::screenshot_inner(),
        "icons" => icons::icons(),
        "bindings" => bindings::bindings(),
        "bench" => bench::bench(rest),
        "postgres" => pg::postgres(rest),
        "bench-app-inner" => bench_app::bench_app_inner(),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
