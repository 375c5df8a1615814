//! Small process and filesystem helpers shared by the subcommands.

use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Prints a progress line in the one format every subcommand uses.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        println!("xtask: {}", format_args!($($arg)*));
    }};
}

/// The workspace root (the parent of `xtask/`). `cargo run` sets CARGO_MANIFEST_DIR at
/// run time too; that one names the checkout actually invoked, whereas the compile-time
/// value can belong to another checkout sharing the target dir (CI's fresh clones do).
pub fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.parent().expect("xtask lives one level below the workspace root").to_path_buf()
}

/// The cargo that ran us (so nested builds use the same toolchain), else `cargo`.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Cargo's target directory for this workspace, honouring `CARGO_TARGET_DIR` and config.
pub fn target_dir() -> Result<PathBuf> {
    let out = cargo().args(["metadata", "--no-deps", "--format-version", "1"]).stderr(Stdio::inherit()).output().context("running cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed");
    }
    let json = String::from_utf8_lossy(&out.stdout);
    let key = "\"target_directory\":\"";
    let start = json.find(key).context("no target_directory in cargo metadata")? + key.len();
    let end = json[start..].find('"').context("unterminated target_directory")? + start;
    Ok(PathBuf::from(json[start..end].replace("\\\\", "\\")))
}

/// The real home directory, before any throwaway `HOME` is put in place.
pub fn real_home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| "/root".into())
}

/// Where cargo and rustup keep their state; pinned before `HOME` changes under them.
pub fn toolchain_env() -> Vec<(String, OsString)> {
    let home = real_home();
    let pick = |var: &str, dflt: &str| (var.to_owned(), std::env::var_os(var).unwrap_or_else(|| home.join(dflt).into()));
    vec![pick("CARGO_HOME", ".cargo"), pick("RUSTUP_HOME", ".rustup")]
}

/// Whether an executable is on `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Whether we run as root (read from /proc so no libc binding is needed).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0")))
        .unwrap_or(false)
}

/// Runs a command with inherited stdio; fails with its description if it fails.
pub fn run(what: &str, cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// A free TCP port on 127.0.0.1 (the OS picks it; we release it for the child to take).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something accepts connections on `127.0.0.1:port`.
pub fn wait_port(port: u16, timeout: Duration, child: &mut Child) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("process exited ({status}) before listening on port {port}");
        }
        if Instant::now() > deadline {
            bail!("nothing listened on port {port} within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A random password from /dev/urandom with upper case, lower case and digits.
pub fn random_password() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 64];
    loop {
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        let chars: String = bytes
            .iter()
            .filter(|&&b| (b as usize) < 256 / ALPHABET.len() * ALPHABET.len())
            .take(20)
            .map(|&b| ALPHABET[b as usize % ALPHABET.len()] as char)
            .collect();
        let has = |f: fn(&char) -> bool| chars.chars().any(|c| f(&c));
        if chars.len() == 20 && has(char::is_ascii_uppercase) && has(char::is_ascii_lowercase) && has(char::is_ascii_digit) {
            let groups: Vec<&str> = (0..4).map(|i| &chars[i * 5..i * 5 + 5]).collect();
            return Ok(groups.join("-"));
        }
    }
}

/// A child process that is stopped (with its descendants) when dropped.
pub struct Guard {
    name: String,
    child: Child,
}

impl Guard {
    /// Spawns `cmd`, to be stopped on drop.
    pub fn spawn(name: &str, cmd: &mut Command) -> Result<Self> {
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        Ok(Self { name: name.to_owned(), child })
    }

    /// The child, e.g. to take its stdout or wait for it.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Reads the first stdout line (the child's stdout must be piped), then keeps
    /// forwarding the rest to our stdout so the pipe never fills.
    pub fn first_line(&mut self) -> Result<String> {
        let out = self.child.stdout.take().context("stdout not piped")?;
        let mut reader = BufReader::new(out);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line.is_empty() {
            bail!("{} closed its output without a line", self.name);
        }
        std::thread::spawn(move || {
            for l in reader.lines().map_while(Result::ok) {
                println!("{l}");
            }
        });
        Ok(line.trim().to_owned())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        kill_tree(self.child.id());
        let _ = self.child.wait();
    }
}

/// Makes orphaned descendants (daemons, children of a crashed test) re-parent to us
/// instead of init, so [`kill_descendants`] can still find and stop them.
pub fn become_subreaper() {
    const PR_SET_CHILD_SUBREAPER: i32 = 36;
    unsafe extern "C" {
        fn prctl(option: i32, ...) -> i32;
    }
    // SAFETY: prctl with this option only reads its integer argument.
    let rc = unsafe { prctl(PR_SET_CHILD_SUBREAPER, 1u64) };
    if rc != 0 {
        eprintln!("xtask: could not become a child subreaper; leftover processes may linger");
    }
}

/// Stops every process below this one (what a step left running).
pub fn kill_descendants() {
    for pid in children_of(std::process::id()) {
        kill_tree(pid);
    }
}

/// Stops a process and everything it started: SIGTERM, a grace period, then SIGKILL.
pub fn kill_tree(pid: u32) {
    let mut pids = vec![pid];
    let mut i = 0;
    while i < pids.len() {
        pids.extend(children_of(pids[i]));
        i += 1;
    }
    signal(&pids, "TERM");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && pids.iter().any(|p| alive(*p)) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let left: Vec<u32> = pids.into_iter().filter(|p| alive(*p)).collect();
    if !left.is_empty() {
        signal(&left, "KILL");
    }
}

fn signal(pids: &[u32], sig: &str) {
    let mut cmd = Command::new("kill");
    cmd.arg(format!("-{sig}")).args(pids.iter().map(u32::to_string));
    let _ = cmd.stderr(Stdio::null()).status();
}

fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state letter is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).ok().and_then(|s| {
                // Fields after the ")" of the command name: state, ppid, …
                s.rsplit(')').next()?.split_whitespace().nth(1)?.parse::<u32>().ok()
            }) == Some(pid)
        })
        .collect()
}

/// Removes and recreates a directory.
pub fn fresh_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}
