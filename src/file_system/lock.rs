//! Exclusive locks on files, held by this process until dropped: what keeps two engines off one
//! data directory and two instances of an application off one checkpoint directory.
//!
//! Why not `flock`: an `flock` belongs to the open file description, and a child process being
//! spawned holds a copy of every descriptor of its parent until it executes its program (the
//! descriptors are close-on-exec, but the window between fork and exec exists, and grows under
//! load). A lock dropped by one thread while another spawns a process therefore stays held for a
//! moment, and reopening an engine right after closing it fails with "held by another open
//! engine". POSIX record locks (`fcntl(F_SETLK)`) belong to the process instead: a child never
//! holds them, and closing the parent's descriptor releases them at once.
//!
//! Record locks do not exclude each other within one process, and closing *any* descriptor of the
//! file releases the process's lock. So this module keeps its own registry of the files locked in
//! this process: a second lock of the same file in this process is refused before the file is
//! even opened, and the registry entry is removed only after the descriptor (and with it the
//! record lock) is gone.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

/// The files this process holds locks on, by canonical path.
static LOCKED_HERE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// An exclusive lock on a file, held until this is dropped.
///
/// Invariant: while a `FileLock` lives, its canonical path is in the registry of this process's
/// locks and its file is open with a write record lock over the whole file.
#[derive(Debug)]
pub struct FileLock {
    /// `Some` until dropped: the descriptor must close before the registry entry goes.
    file: Option<File>,
    canonical: PathBuf,
}

impl FileLock {
    /// Opens (creating it if needed) the file at `path` and locks it exclusively. Fails with
    /// [`io::ErrorKind::WouldBlock`] if this process or another holds the lock.
    pub fn acquire(path: &Path) -> io::Result<FileLock> {
        let canonical = canonical_path(path)?;
        // Held while the file is opened and locked, so that two threads cannot both get past the
        // registry; and checked before the file is opened, because closing a second descriptor
        // of a file this process has locked would release the lock.
        let mut locked_here = LOCKED_HERE.lock();
        if locked_here.contains(&canonical) {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "locked by this process",
            ));
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        // On failure `file` closes: this process holds no lock on it, so nothing is released.
        lock_whole_file(&file)?;
        locked_here.insert(canonical.clone());
        Ok(FileLock {
            file: Some(file),
            canonical,
        })
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let mut locked_here = LOCKED_HERE.lock();
        // Closing the descriptor releases the record lock; the registry entry goes with it, under
        // the registry's lock, so no other thread sees one without the other.
        drop(self.file.take());
        locked_here.remove(&self.canonical);
    }
}

/// `path` with its directory canonicalized (the file itself may not exist yet): the registry's
/// key, the same for every spelling of the path.
fn canonical_path(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "a lock file needs a file name")
    })?;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    Ok(parent.canonicalize()?.join(name))
}

/// Takes a write record lock over all of `file`, without waiting.
fn lock_whole_file(file: &File) -> io::Result<()> {
    // SAFETY: `flock` is a plain C struct; all-zero is a valid value, and every field the call
    // reads is set below.
    let mut region: libc::flock = unsafe { std::mem::zeroed() };
    region.l_type = libc::F_WRLCK as libc::c_short;
    region.l_whence = libc::SEEK_SET as libc::c_short;
    region.l_start = 0;
    region.l_len = 0; // to the end of the file, however long it grows
    // SAFETY: fcntl on a descriptor owned by `file`, with a pointer to a live, initialized struct.
    let code = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &region) };
    if code == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        // Another process holds it (POSIX allows either code).
        Some(libc::EAGAIN) | Some(libc::EACCES) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            "locked by another process",
        )),
        _ => Err(error),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_in_this_process_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("LOCK");
        let first = FileLock::acquire(&path).unwrap();
        // Another spelling of the same path is the same lock.
        let other_spelling = dir.path().join(".").join("LOCK");
        let refused = FileLock::acquire(&other_spelling).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::WouldBlock);
        drop(first);
        let again = FileLock::acquire(&path).unwrap();
        drop(again);
    }

    #[test]
    fn a_child_process_being_spawned_does_not_keep_a_dropped_lock() {
        use std::os::unix::process::CommandExt;
        use std::time::Duration;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("LOCK");
        let lock = FileLock::acquire(&path).unwrap();
        // Another thread spawns a child that waits a second between fork and exec, holding a
        // copy of every descriptor of this process, the lock file's among them.
        let spawner = std::thread::spawn(|| {
            let mut command = std::process::Command::new("true");
            // SAFETY: the closure runs in the forked child before exec and only sleeps
            // (nanosleep is async-signal-safe); it touches no lock and allocates nothing.
            unsafe {
                command.pre_exec(|| {
                    std::thread::sleep(Duration::from_secs(1));
                    Ok(())
                });
            }
            command.status()
        });
        std::thread::sleep(Duration::from_millis(300));
        drop(lock);
        // The child is still between fork and exec: an flock would still be held by it.
        let again = FileLock::acquire(&path);
        assert!(spawner.join().unwrap().unwrap().success());
        assert!(again.is_ok(), "{again:?}");
    }
}
