//! A file system whose syncs a test can make fail: the real one otherwise. A real failing fsync
//! needs a failing device; this gives a test the same answer from the same call, so what the
//! library does after it (latch the log, refuse the change, leave no trace) can be checked.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{FileLock, FileSystem, MappedRange, OsFileSystem};

/// [`OsFileSystem`], except that one sync fails when a test asks for it.
#[derive(Debug, Default)]
pub struct FaultyFileSystem {
    /// Syncs (of files, mapped ranges or directories) until the one that fails, counting it; 0
    /// when none is to fail.
    syncs_until_failure: AtomicUsize,
}

impl FaultyFileSystem {
    /// A file system that fails nothing yet.
    pub fn new() -> FaultyFileSystem {
        FaultyFileSystem::default()
    }

    /// Makes the next sync, of a file, a mapped range or a directory, fail with an I/O error.
    pub fn fail_next_sync(&self) {
        self.fail_sync_number(1);
    }

    /// Makes the `n`th sync from now fail (1 is the next one; 0 fails none), replacing any failure
    /// asked for before. Trying `n` = 1, 2, 3, … until an operation succeeds fails each of its
    /// syncs in turn.
    pub fn fail_sync_number(&self, n: usize) {
        self.syncs_until_failure.store(n, Ordering::SeqCst);
    }

    /// Whether a failure asked for has not happened yet.
    pub fn failure_pending(&self) -> bool {
        self.syncs_until_failure.load(Ordering::SeqCst) > 0
    }

    /// Fails this sync if it is the one asked to fail.
    fn sync_allowed(&self) -> io::Result<()> {
        let before = self
            .syncs_until_failure
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .unwrap_or(0);
        if before == 1 {
            Err(io::Error::other("injected sync failure"))
        } else {
            Ok(())
        }
    }
}

impl FileSystem for FaultyFileSystem {
    fn sync_data(&self, file: &File) -> io::Result<()> {
        self.sync_allowed()?;
        OsFileSystem.sync_data(file)
    }

    fn sync_all(&self, file: &File) -> io::Result<()> {
        self.sync_allowed()?;
        OsFileSystem.sync_all(file)
    }

    fn sync_mapped(&self, range: MappedRange<'_>) -> io::Result<()> {
        self.sync_allowed()?;
        OsFileSystem.sync_mapped(range)
    }

    fn sync_directory(&self, dir: &Path) -> io::Result<()> {
        self.sync_allowed()?;
        OsFileSystem.sync_directory(dir)
    }

    fn reserve(&self, file: &File, len: u64) -> io::Result<()> {
        OsFileSystem.reserve(file, len)
    }

    fn lock_exclusively(&self, path: &Path) -> io::Result<FileLock> {
        OsFileSystem.lock_exclusively(path)
    }
}
