//! A file system whose syncs a test can make fail: the real one otherwise. A real failing fsync
//! needs a failing device; this gives a test the same answer from the same call, so what the
//! library does after it (latch the log, refuse the change, leave no trace) can be checked.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{FileSystem, MappedRange, OsFileSystem};

/// [`OsFileSystem`], except that the next syncs fail when a test asks for it.
#[derive(Debug, Default)]
pub struct FaultyFileSystem {
    /// How many of the next syncs (file or directory) fail.
    syncs_to_fail: AtomicUsize,
}

impl FaultyFileSystem {
    /// A file system that fails nothing yet.
    pub fn new() -> FaultyFileSystem {
        FaultyFileSystem::default()
    }

    /// Makes the next sync, of a file, a mapped range or a directory, fail with an I/O error.
    pub fn fail_next_sync(&self) {
        self.syncs_to_fail.fetch_add(1, Ordering::SeqCst);
    }

    /// Fails this sync if one was asked to fail.
    fn sync_allowed(&self) -> io::Result<()> {
        let failed = self
            .syncs_to_fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if failed {
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

    fn lock_exclusively(&self, path: &Path) -> io::Result<File> {
        OsFileSystem.lock_exclusively(path)
    }
}
