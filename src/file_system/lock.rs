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
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use parking_lot::Mutex;

/// A file as the kernel knows it, whatever its name: device and inode numbers.
type FileIdentity = (u64, u64);

/// The files this process holds locks on.
static LOCKED_HERE: Mutex<BTreeSet<FileIdentity>> = Mutex::new(BTreeSet::new());

/// An exclusive lock on a file, held until this is dropped.
///
/// Invariant: while a `FileLock` lives, its file's identity is in the registry of this process's
/// locks and its file is open with a write record lock over the whole file.
#[derive(Debug)]
pub struct FileLock {
    /// `Some` until dropped: the descriptor must close before the registry entry goes.
    file: Option<File>,
    identity: FileIdentity,
}

impl FileLock {
    /// Opens (creating it if needed) the file at `path` and locks it exclusively. Fails with
    /// [`io::ErrorKind::WouldBlock`] if this process or another holds the lock.
    ///
    /// The lock is the file's, not the path's, as an `flock` is: a locked file renamed away (with
    /// a deleted stream's directory) does not lock a new file created under its old name.
    pub fn acquire(path: &Path) -> io::Result<FileLock> {
        // Held while the file is opened and locked, so that two threads cannot both get past the
        // registry.
        let mut locked_here = LOCKED_HERE.lock();
        // Checked before a descriptor is opened: closing a second descriptor of a file this
        // process has locked would release the lock.
        if let Ok(metadata) = fs::metadata(path)
            && locked_here.contains(&(metadata.dev(), metadata.ino()))
        {
            return Err(locked_by_this_process());
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        let metadata = file.metadata()?;
        let identity = (metadata.dev(), metadata.ino());
        if locked_here.contains(&identity) {
            // A locked file was renamed to `path` between the check and the open. Closing this
            // descriptor would release its lock, so it stays open.
            std::mem::forget(file);
            return Err(locked_by_this_process());
        }
        // On failure `file` closes: this process holds no lock on it, so nothing is released.
        lock_whole_file(&file)?;
        locked_here.insert(identity);
        Ok(FileLock {
            file: Some(file),
            identity,
        })
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let mut locked_here = LOCKED_HERE.lock();
        // Closing the descriptor releases the record lock; the registry entry goes with it, under
        // the registry's lock, so no other thread sees one without the other.
        drop(self.file.take());
        locked_here.remove(&self.identity);
    }
}

fn locked_by_this_process() -> io::Error {
    io::Error::new(io::ErrorKind::WouldBlock, "locked by this process")
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
    fn a_new_file_under_the_name_of_a_locked_file_renamed_away_is_not_locked() {
        let dir = tempfile::tempdir().unwrap();
        let stream_dir = dir.path().join("stream");
        fs::create_dir(&stream_dir).unwrap();
        let path = stream_dir.join("LOCK");
        let old = FileLock::acquire(&path).unwrap();
        // As a deleted stream's directory goes to the trash, and a stream of the same name comes.
        fs::rename(&stream_dir, dir.path().join("trash")).unwrap();
        fs::create_dir(&stream_dir).unwrap();
        let new = FileLock::acquire(&path).unwrap();
        let moved = FileLock::acquire(&dir.path().join("trash").join("LOCK")).unwrap_err();
        assert_eq!(
            moved.kind(),
            io::ErrorKind::WouldBlock,
            "the old file stays locked"
        );
        drop((old, new));
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
