//! Starts a real `gatehouse-server` process with a freshly seeded demo database.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const OWNER: &str = "owner@acme.test";
pub const PASSWORD: &str = "client-test-password";

pub struct ServerProcess {
    pub url: String,
    child: Child,
    db: PathBuf,
    args: Vec<String>,
    _dir: tempfile::TempDir,
}

/// The server binary: `GATEHOUSE_SERVER_BIN`, or the one built next to this test.
pub fn server_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("GATEHOUSE_SERVER_BIN") {
        return PathBuf::from(p);
    }
    // target/debug/deps/client-<hash> → target/debug/gatehouse-server
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(|d| d.parent()).unwrap().join(format!("gatehouse-server{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} is missing: run `cargo build -p gatehouse-server` first (cargo xtask test does)", bin.display());
    bin
}

impl ServerProcess {
    /// A seeded server; `args` go to `serve`.
    pub fn start(args: &[&str]) -> Self {
        Self::start_seeded(&[], args)
    }

    /// A server seeded with `seed` added to the demo's arguments (e.g. `--events`);
    /// `args` go to `serve`.
    pub fn start_seeded(seed: &[&str], args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.db");
        let seeded = Command::new(server_bin())
            .args(["seed", "--demo", "--users", "120"])
            .args(seed)
            .arg("--db")
            .arg(&db)
            .env("GATEHOUSE_OWNER_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(seeded.status.success(), "seed failed: {}", String::from_utf8_lossy(&seeded.stderr));
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let (url, child) = serve(&db, "127.0.0.1:0", &args);
        Self { url, child, db, args, _dir: dir }
    }

    /// Kills the server at once (SIGKILL: no graceful shutdown, requests cut mid-way).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's database file, for checking its state directly.
    pub fn db_path(&self) -> &std::path::Path {
        &self.db
    }

    /// Starts the server again on the same database and address.
    pub fn restart(&mut self) {
        self.kill();
        let addr = self.url.trim_start_matches("http://").to_owned();
        // The port was just released; a few quick tries cover a slow release.
        for attempt in 0.. {
            match std::panic::catch_unwind(|| serve(&self.db, &addr, &self.args)) {
                Ok((url, child)) => {
                    assert_eq!(url, self.url);
                    self.child = child;
                    return;
                }
                Err(e) if attempt >= 50 => std::panic::resume_unwind(e),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
            }
        }
    }
}

fn serve(db: &std::path::Path, listen: &str, args: &[String]) -> (String, Child) {
    let mut child = Command::new(server_bin())
        .args(["serve", "--listen", listen, "--db"])
        .arg(db)
        .args(args)
        .env("GATEHOUSE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| {
        let _ = child.kill();
        panic!("unexpected first line {line:?}")
    });
    (url.to_owned(), child)
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
