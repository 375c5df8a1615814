//! A throwaway PostgreSQL cluster for the tests and benchmarks: Debian's PostgreSQL
//! (installed by `ensure`), `initdb` into a fresh directory, listening on 127.0.0.1 at a
//! free port with its socket in that directory, no durability (fsync off), stopped and
//! deleted when dropped. As root the cluster runs as the `postgres` system user the
//! package creates (PostgreSQL refuses to run as root); otherwise as the caller.

use crate::{say, util};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The superuser of the throwaway cluster (trust authentication on 127.0.0.1 only).
const SUPERUSER: &str = "gatehouse";

/// A running cluster.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    port: u16,
    run_as_postgres: bool,
}

impl Cluster {
    /// Starts a cluster in a fresh directory under the system's temporary directory
    /// (which the `postgres` user can reach, unlike root's home).
    pub fn start(name: &str) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("gatehouse-pg-{name}-{}", std::process::id()));
        let dir = dir.as_path();
        let bin = bin_dir()?;
        util::fresh_dir(dir)?;
        let run_as_postgres = util::is_root();
        if run_as_postgres {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir).status().context("chown the cluster directory")?;
            if !status.success() {
                bail!("chown postgres {} failed", dir.display());
            }
        }
        let cluster = Self { bin, dir: dir.to_owned(), data: dir.join("data"), port: util::free_port()?, run_as_postgres };
        cluster.run_tool(
            "initdb",
            &["-D", &cluster.data.to_string_lossy(), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
        )?;
        cluster.pg_ctl(&["start", "-w", "-t", "60", "-l", &dir.join("server.log").to_string_lossy()])?;
        say!("PostgreSQL {} on port {}", cluster.version(), cluster.port);
        Ok(cluster)
    }

    /// `postgres://` URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// The environment the tests read: the URL of the maintenance database (tests create
    /// their own databases from it).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("GATEHOUSE_TEST_POSTGRES".into(), self.url("postgres"))]
    }

    fn version(&self) -> String {
        Command::new(self.bin.join("postgres"))
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<()> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            self.port,
            self.data.display()
        );
        let mut all: Vec<&str> = vec!["-D", self.data.to_str().unwrap_or_default(), "-o", &options];
        all.extend_from_slice(args);
        self.run_tool("pg_ctl", &all)
    }

    fn run_tool(&self, tool: &str, args: &[&str]) -> Result<()> {
        let path = self.bin.join(tool);
        let mut cmd = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null());
        let started = Instant::now();
        let status = cmd.status().with_context(|| format!("starting {}", path.display()))?;
        if !status.success() {
            bail!("{tool} {} failed ({status}) after {:?}", args.join(" "), started.elapsed());
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Err(e) = self.pg_ctl(&["stop", "-m", "immediate", "-w", "-t", "30"]) {
            say!("stopping PostgreSQL: {e:#}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest installed PostgreSQL's binaries (`/usr/lib/postgresql/<major>/bin`).
fn bin_dir() -> Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .with_context(|| format!("no PostgreSQL under {} (the `postgresql` package installs it)", root.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    majors.sort();
    majors.pop().map(|(_, bin)| bin).with_context(|| format!("no initdb under {}", root.display()))
}

/// `cargo xtask postgres`: a throwaway cluster for trying the server on PostgreSQL by
/// hand, until Enter (or end of input).
pub fn postgres(_args: &[String]) -> Result<()> {
    crate::ensure::apt(&["postgresql"])?;
    let cluster = Cluster::start("shell")?;
    println!("{}", cluster.url("postgres"));
    say!("press Enter to stop it (and delete its data)");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(cluster);
    Ok(())
}
