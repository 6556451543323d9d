//! Atomic file replacement: write a temporary sibling, sync it, rename it over the target.
//!
//! `rename` within one directory is atomic on POSIX file systems and on NTFS, so a reader (or a
//! crash) sees either the old file or the complete new one, never a truncated mix. The
//! temporary file lives in the target's directory because a rename across file systems is a
//! copy, not atomic. On any failure the temporary file is removed and the target is untouched.
//!
//! "Replace this file" as a user means it: a target that is a symbolic link is resolved, so the
//! file it points to is replaced and the link stays; an existing target's permissions are
//! copied onto the new file. A process killed mid-save leaves its temporary
//! `.{name}.{pid}.{n}.tmp` behind; each save removes the leftovers of the same target whose
//! process is no longer running (on Linux, no `/proc/{pid}`; elsewhere, when older than a day).

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(target_os = "linux"))]
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};

/// How many temporary names to try before giving up (names collide only with leftovers of a
/// crashed process that had the same pid).
const MAX_TEMP_ATTEMPTS: u32 = 64;

/// Distinguishes the temporary files of concurrent saves within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many links a symbolic-link chain may have (Linux's own limit is 40).
const MAX_SYMLINK_HOPS: usize = 40;

/// Where the liveness of a process cannot be asked, a leftover temporary is stale after this.
#[cfg(not(target_os = "linux"))]
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Replaces `path` with what `write` writes, atomically.
///
/// `write` receives a buffered writer on the temporary file (it is also `Seek`, as zip
/// archives need). The data is flushed and `sync_all`ed before the rename, and the directory
/// is synced after it (best effort) so that the rename itself survives a power cut.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let target = resolve_symlinks(path)?;
    remove_stale_temporaries(&target);
    let (temp_path, file) = create_temp_sibling(&target)?;
    let result = keep_permissions(&target, &file)
        .and_then(|()| fill_and_sync(path, file, write))
        .and_then(|()| fs::rename(&temp_path, &target).map_err(|e| Error::io(path, e)));
    if result.is_err() {
        // The error being reported is the interesting one; a failed cleanup cannot be reported
        // alongside it, and the name is recognisably temporary.
        let _ = fs::remove_file(&temp_path);
    } else {
        sync_directory(&target);
    }
    result
}

/// The file a save to `path` replaces: `path` itself, or where its chain of symbolic links
/// ends (which need not exist yet).
fn resolve_symlinks(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINK_HOPS {
        match fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let link = fs::read_link(&current).map_err(|e| Error::io(path, e))?;
                // A relative link is relative to the directory holding it.
                current = match current.parent() {
                    Some(parent) => parent.join(link),
                    None => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(Error::io(
        path,
        std::io::Error::other(format!(
            "more than {MAX_SYMLINK_HOPS} symbolic links to follow"
        )),
    ))
}

/// Gives the new file the permissions of the file it replaces, if there is one.
fn keep_permissions(target: &Path, file: &File) -> Result<()> {
    match fs::metadata(target) {
        Ok(metadata) => file
            .set_permissions(metadata.permissions())
            .map_err(|e| Error::io(target, e)),
        Err(_) => Ok(()),
    }
}

/// Removes the temporaries `.{file name}.{pid}.{n}.tmp` of `target` left by processes that
/// are no longer running. Best effort: a leftover that cannot be removed is no reason to fail
/// the save.
fn remove_stale_temporaries(target: &Path) {
    let (Some(file_name), directory) = (target.file_name(), directory_of(target)) else {
        return;
    };
    let Ok(entries) = fs::read_dir(directory) else {
        return;
    };
    let prefix = format!(".{}.", file_name.to_string_lossy());
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = leftover_pid(&name.to_string_lossy(), &prefix) else {
            continue;
        };
        if pid != std::process::id() && !process_may_be_running(pid, &entry.path()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The pid in a temporary's name `{prefix}{pid}.{n}.tmp`, if `name` is one.
fn leftover_pid(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?.strip_suffix(".tmp")?;
    let (pid, counter) = rest.split_once('.')?;
    counter.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Whether process `pid` may still be writing `temp`: on Linux, whether `/proc/{pid}` exists
/// (a pid reused by another process keeps the file, the safe side).
#[cfg(target_os = "linux")]
fn process_may_be_running(pid: u32, _temp: &Path) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Whether process `pid` may still be writing `temp`: where processes cannot be asked, a
/// temporary untouched for [`STALE_AFTER`] is taken as abandoned.
#[cfg(not(target_os = "linux"))]
fn process_may_be_running(_pid: u32, temp: &Path) -> bool {
    let modified = fs::metadata(temp).and_then(|m| m.modified());
    match modified.map(|time| SystemTime::now().duration_since(time)) {
        Ok(Ok(age)) => age < STALE_AFTER,
        _ => true,
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Writes through `write`, flushes the buffer and syncs the file to disk. Errors name
/// `target`, the path the caller asked for: the temporary file is an implementation detail.
fn fill_and_sync(
    target: &Path,
    file: File,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let mut writer = BufWriter::new(file);
    write(&mut writer)?;
    let file = writer
        .into_inner()
        .map_err(|e| Error::io(target, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(target, e))
}

/// Creates a new, empty temporary file next to `path`, named `.{file name}.{pid}.{n}.tmp`.
fn create_temp_sibling(path: &Path) -> Result<(PathBuf, File)> {
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::invalid("path", "a path ending in a file name", path.display()))?;
    let directory = directory_of(path);
    let mut last_error = None;
    for _ in 0..MAX_TEMP_ATTEMPTS {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(file_name);
        temp_name.push(format!(".{}.{n}.tmp", std::process::id()));
        let temp_path = directory.join(temp_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
        {
            Ok(file) => return Ok((temp_path, file)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last_error = Some(e),
            // Named by the target: "no such directory" is about the path the caller gave.
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    let error = last_error.unwrap_or_else(|| ErrorKind::AlreadyExists.into());
    Err(Error::io(path, error))
}

/// Syncs the directory holding `path` so the rename is durable. Best effort: some platforms
/// (Windows) cannot open a directory as a file, and the data itself is already synced.
fn sync_directory(path: &Path) {
    if let Ok(dir) = File::open(directory_of(path)) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nninit-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_target() {
        let dir = scratch_dir("replace");
        let target = dir.join("w.bin");
        fs::write(&target, b"old").unwrap();
        write_atomically(&target, |w| {
            w.write_all(b"new").map_err(|e| Error::io("w", e))
        })
        .unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(entries(&dir), ["w.bin"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn error_mid_write_keeps_the_old_file_and_no_temp() {
        let dir = scratch_dir("midwrite");
        let target = dir.join("w.bin");
        fs::write(&target, b"precious").unwrap();
        let err = write_atomically(&target, |w| {
            // Enough to spill past the buffer, so part really reaches the temporary file.
            w.write_all(&[7u8; 100_000])
                .map_err(|e| Error::io("w", e))?;
            Err(Error::invalid("payload", "injected failure", 0))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "payload must be injected failure, got 0");
        assert_eq!(fs::read(&target).unwrap(), b"precious");
        assert_eq!(entries(&dir), ["w.bin"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_reported_with_the_target_path() {
        let dir = scratch_dir("missing");
        let target = dir.join("no-such-directory").join("w.npy");
        let err = write_atomically(&target, |_| Ok(())).unwrap_err();
        match &err {
            Error::Io { path, source } => {
                assert_eq!(path, &target);
                assert_eq!(source.kind(), ErrorKind::NotFound);
            }
            other => panic!("expected an I/O error, got {other}"),
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn directory_target_fails_cleanly() {
        let dir = scratch_dir("dir");
        let target = dir.join("sub");
        fs::create_dir(&target).unwrap();
        let err = write_atomically(&target, |w| {
            w.write_all(b"x").map_err(|e| Error::io("w", e))
        })
        .unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        assert!(target.is_dir());
        assert_eq!(entries(&dir), ["sub"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn leftover_names_are_recognised_exactly() {
        let prefix = ".w.npy.";
        assert_eq!(leftover_pid(".w.npy.123.4.tmp", prefix), Some(123));
        assert_eq!(leftover_pid(".w.npy.123.tmp", prefix), None);
        assert_eq!(leftover_pid(".w.npy.x.4.tmp", prefix), None);
        assert_eq!(leftover_pid(".w.npy.123.4.tmp.bak", prefix), None);
        assert_eq!(leftover_pid(".w.npyz.123.4.tmp", prefix), None);
    }

    #[test]
    fn a_running_process_keeps_its_temporary() {
        let dir = scratch_dir("live");
        let target = dir.join("w.bin");
        // Our own pid, and pid 1, are running: their temporaries stay.
        let own = dir.join(format!(".w.bin.{}.999.tmp", std::process::id()));
        let init = dir.join(".w.bin.1.0.tmp");
        fs::write(&own, b"x").unwrap();
        fs::write(&init, b"x").unwrap();
        write_atomically(&target, |w| {
            w.write_all(b"new").map_err(|e| Error::io("w", e))
        })
        .unwrap();
        assert!(own.exists());
        #[cfg(target_os = "linux")]
        assert!(init.exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
