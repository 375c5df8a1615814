//! Files that hold an organization's data — the local cache, exports, the log, saved
//! connections — are readable by their owner only: created 0600, in directories created
//! (or tightened to) 0700. On a shared computer another account must not read a copy of
//! the directory, and a default umask of 022 would let it.
//!
//! The mode is set when a file is created, not changed afterwards, so there is no moment
//! when it is readable by others. A file or directory that already exists with a wider
//! mode (written by an older version) is tightened when it is opened again.
//!
//! On Windows these are plain creates: the per-user profile folders the app writes to are
//! already private to the user by their ACLs.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// The mode of every file the app writes with an organization's data.
pub const FILE_MODE: u32 = 0o600;
/// The mode of the app's own directories that hold such files.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents 0700, and tightens `dir` to 0700 if it exists:
/// for the app's own directories (its data and log directories, the cache's).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    create_missing_dirs(dir)?;
    tighten(dir, DIR_MODE)
}

/// Creates `dir` and its missing parents 0700 but leaves an existing one as it is: for a
/// folder the person chose (Downloads, the Save dialog's), whose mode is theirs to set.
pub fn create_dir_if_missing(dir: &Path) -> io::Result<()> {
    create_missing_dirs(dir)
}

/// Opens `path` for writing, emptied, created 0600 (an existing file is tightened first).
pub fn create_private_file(path: &Path) -> io::Result<File> {
    tighten_if_present(path)?;
    let file = options().write(true).create(true).truncate(true).open(path)?;
    tighten_open(&file)?;
    Ok(file)
}

/// Opens `path` for appending (the log), created 0600 (an existing file is tightened).
pub fn append_private_file(path: &Path) -> io::Result<File> {
    let file = options().append(true).create(true).open(path)?;
    tighten_open(&file)?;
    Ok(file)
}

/// Makes sure `path` exists 0600 without touching its content: an empty file is created
/// when there is none, an existing one is tightened. For files another library writes
/// in place (SQLite, the store plugin), which then keep this mode.
pub fn ensure_private_file(path: &Path) -> io::Result<()> {
    let file = options().write(true).create(true).truncate(false).open(path)?;
    tighten_open(&file)
}

/// Tightens `path` to 0600 if it exists; a missing file is fine.
pub fn tighten_if_present(path: &Path) -> io::Result<()> {
    match tighten(path, FILE_MODE) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(unix)]
fn options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options.mode(FILE_MODE);
    options
}

#[cfg(not(unix))]
fn options() -> OpenOptions {
    OpenOptions::new()
}

#[cfg(unix)]
fn create_missing_dirs(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

#[cfg(not(unix))]
fn create_missing_dirs(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Sets `mode` on `path` unless it has it already (the permission bits only).
#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    if current != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(path: &Path, _mode: u32) -> io::Result<()> {
    std::fs::metadata(path).map(drop)
}

/// Sets 0600 on an open file: `mode` applies only when the open created it.
#[cfg(unix)]
fn tighten_open(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if file.metadata()?.permissions().mode() & 0o7777 != FILE_MODE {
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten_open(_file: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn files_and_directories_are_created_private_and_old_ones_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!((mode(&root.path().join("a")), mode(&dir)), (DIR_MODE, DIR_MODE), "missing parents too");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), DIR_MODE, "an existing app directory is tightened");

        let chosen = root.path().join("Downloads");
        std::fs::create_dir(&chosen).unwrap();
        std::fs::set_permissions(&chosen, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir_if_missing(&chosen).unwrap();
        assert_eq!(mode(&chosen), 0o755, "a folder the person chose keeps its mode");

        let file = dir.join("f");
        create_private_file(&file).unwrap().write_all(b"secret").unwrap();
        assert_eq!(mode(&file), FILE_MODE);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_private_file(&file).unwrap();
        assert_eq!((mode(&file), std::fs::read(&file).unwrap().len()), (FILE_MODE, 0), "tightened and emptied");

        let log = dir.join("log");
        append_private_file(&log).unwrap().write_all(b"one\n").unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
        append_private_file(&log).unwrap().write_all(b"two\n").unwrap();
        assert_eq!((mode(&log), std::fs::read_to_string(&log).unwrap().as_str()), (FILE_MODE, "one\ntwo\n"));

        let kept = dir.join("kept");
        std::fs::write(&kept, b"{}").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o644)).unwrap();
        ensure_private_file(&kept).unwrap();
        assert_eq!((mode(&kept), std::fs::read(&kept).unwrap()), (FILE_MODE, b"{}".to_vec()), "content untouched");
        // A library that rewrites the file in place keeps the mode.
        std::fs::write(&kept, b"{\"a\":1}").unwrap();
        assert_eq!(mode(&kept), FILE_MODE);
        tighten_if_present(&dir.join("missing")).unwrap();
    }
}
