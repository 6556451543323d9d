//! Atomic file replacement: write a temporary sibling, sync it, rename it over the target.
//!
//! `rename` within one directory is atomic on POSIX file systems and on NTFS, so a reader (or a
//! crash) sees either the old file or the complete new one, never a truncated mix. The
//! temporary file lives in the target's directory because a rename across file systems is a
//! copy, not atomic. On any failure the temporary file is removed and the target is untouched.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// How many temporary names to try before giving up (names collide only with leftovers of a
/// crashed process that had the same pid).
const MAX_TEMP_ATTEMPTS: u32 = 64;

/// Distinguishes the temporary files of concurrent saves within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with what `write` writes, atomically.
///
/// `write` receives a buffered writer on the temporary file (it is also `Seek`, as zip
/// archives need). The data is flushed and `sync_all`ed before the rename, and the directory
/// is synced after it (best effort) so that the rename itself survives a power cut.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let (temp_path, file) = create_temp_sibling(path)?;
    let result = fill_and_sync(path, file, write)
        .and_then(|()| fs::rename(&temp_path, path).map_err(|e| Error::io(path, e)));
    if result.is_err() {
        // The error being reported is the interesting one; a failed cleanup cannot be reported
        // alongside it, and the name is recognisably temporary.
        let _ = fs::remove_file(&temp_path);
    } else {
        sync_directory(path);
    }
    result
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
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
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
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(directory) {
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
}
