//! Runs steps with their output forwarded live, counts the test results they report,
//! and prints the closing `summary:` line.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Test counts parsed from runner output.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.passed += o.passed;
        self.failed += o.failed;
        self.skipped += o.skipped;
    }
}

/// Reads the counts from one line of cargo test or vitest output, if it is a result line.
///
/// cargo: `test result: ok. 5 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; …`
/// vitest: ` Tests  1 failed | 10 passed | 2 skipped (13)` (not the `Test Files` line).
pub fn parse_line(line: &str) -> Option<Counts> {
    let line = strip_ansi(line);
    let t = line.trim_start();
    let body = t.strip_prefix("test result:").or_else(|| t.strip_prefix("Tests "))?;
    let words: Vec<&str> = body.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut counts = Counts::default();
    let mut found = false;
    for pair in words.windows(2) {
        let Ok(n) = pair[0].parse::<u64>() else {
            continue;
        };
        match pair[1] {
            "passed" => counts.passed += n,
            "failed" => counts.failed += n,
            "ignored" | "skipped" | "todo" => counts.skipped += n,
            _ => continue,
        }
        found = true;
    }
    found.then_some(counts)
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte(@..~)
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The running totals of one `cargo xtask test`.
#[derive(Default)]
pub struct Tally {
    counts: Counts,
    failed_steps: Vec<String>,
}

impl Tally {
    /// Runs one step, forwarding and parsing its output. A step that fails without
    /// reporting a failed test (a compile error, a type check, a crash) counts as one
    /// failure, so the summary can never read "0 failed" for a failed run.
    ///
    /// A step still running after `limit` is stopped and fails, so a hung test cannot
    /// eat CI's whole time budget before the summary is printed.
    pub fn step(&mut self, name: &str, limit: Duration, cmd: &mut Command) -> bool {
        crate::say!("step: {name}");
        let (ok, counts) = match run_parsed(cmd, limit) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("xtask: {name}: {e:#}");
                (false, Counts::default())
            }
        };
        self.counts.add(counts);
        if !ok {
            if counts.failed == 0 {
                self.counts.failed += 1;
            }
            self.failed_steps.push(name.to_owned());
            eprintln!("xtask: step failed: {name}");
        }
        ok
    }

    /// Records a failure that happened outside a child process (set-up, a missing file).
    pub fn fail(&mut self, name: &str, err: &anyhow::Error) {
        eprintln!("xtask: step failed: {name}: {err:#}");
        self.counts.failed += 1;
        self.failed_steps.push(name.to_owned());
    }

    /// Prints the failed steps and then, as the very last line, the summary.
    pub fn finish(self) -> ExitCode {
        crate::util::kill_descendants();
        let _ = std::io::stderr().flush();
        for s in &self.failed_steps {
            println!("xtask: FAILED: {s}");
        }
        let c = self.counts;
        println!("summary: {} passed, {} failed, {} skipped", c.passed, c.failed, c.skipped);
        let _ = std::io::stdout().flush();
        if self.failed_steps.is_empty() && c.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
    }
}

/// Runs `cmd` with stdout and stderr forwarded line by line and parsed.
fn run_parsed(cmd: &mut Command, limit: Duration) -> anyhow::Result<(bool, Counts)> {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let counts = Arc::new(Mutex::new(Counts::default()));
    let (done_tx, done_rx) = mpsc::channel();
    if let Some(s) = child.stdout.take() {
        forward(s, false, counts.clone(), done_tx.clone());
    }
    if let Some(s) = child.stderr.take() {
        forward(s, true, counts.clone(), done_tx);
    }
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() > deadline {
            eprintln!("xtask: still running after {} min; stopping it", limit.as_secs() / 60);
            crate::util::kill_tree(child.id());
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // A leftover grandchild may hold the pipes open forever: wait for the rest of the
    // output only briefly.
    for _ in 0..2 {
        if done_rx.recv_timeout(Duration::from_secs(5)).is_err() {
            eprintln!("xtask: a leftover process still holds this step's output; not waiting");
            break;
        }
    }
    let counts = *counts.lock().unwrap_or_else(|e| e.into_inner());
    Ok((status.is_some_and(|s| s.success()), counts))
}

fn forward(src: impl Read + Send + 'static, to_stderr: bool, counts: Arc<Mutex<Counts>>, done: mpsc::Sender<()>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(src);
        let mut buf = Vec::new();
        while matches!(reader.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
            let line = String::from_utf8_lossy(&buf);
            if to_stderr {
                let _ = std::io::stderr().write_all(line.as_bytes());
            } else {
                let _ = std::io::stdout().write_all(line.as_bytes());
            }
            if let Some(c) = parse_line(&line) {
                counts.lock().unwrap_or_else(|e| e.into_inner()).add(c);
            }
            buf.clear();
        }
        let _ = done.send(());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(passed: u64, failed: u64, skipped: u64) -> Option<Counts> {
        Some(Counts { passed, failed, skipped })
    }

    #[test]
    fn parses_cargo_result_lines() {
        let l = "test result: ok. 12 passed; 0 failed; 3 ignored; 0 measured; 7 filtered out; finished in 0.52s";
        assert_eq!(parse_line(l), c(12, 0, 3));
        let l = "test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(parse_line(l), c(1, 2, 0));
    }

    #[test]
    fn parses_vitest_summary_but_not_file_counts() {
        assert_eq!(parse_line("      Tests  14 passed (14)"), c(14, 0, 0));
        assert_eq!(parse_line(" Tests  1 failed | 10 passed | 2 skipped | 1 todo (14)"), c(10, 1, 3));
        assert_eq!(parse_line(" Test Files  3 passed (3)"), None);
        assert_eq!(parse_line("\u{1b}[2m      Tests \u{1b}[22m \u{1b}[1m\u{1b}[32m5 passed\u{1b}[39m\u{1b}[22m (5)"), c(5, 0, 0));
    }

    #[test]
    fn ignores_other_lines() {
        assert_eq!(parse_line("running 5 tests"), None);
        assert_eq!(parse_line("test foo ... ok"), None);
        assert_eq!(parse_line("summary: 3 passed, 0 failed, 0 skipped"), None);
    }
}
