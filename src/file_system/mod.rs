//! The file system as the library uses it for durability: the one place that knows what it takes
//! for a change to survive a crash and a power loss, and the seam through which tests make those
//! steps fail.
//!
//! Two kinds of failure are meant below. A *crash* is the process dying (kill -9, a panic that
//! aborts) while the kernel keeps running: whatever was written, synced or not, is in the page
//! cache and stays. A *power loss* (or a kernel crash) keeps only what was fsynced: file data by an
//! fsync of the file, a directory entry (a file created, renamed or removed) by an fsync of its
//! directory. What this module promises rests on two assumptions about the file system (those
//! shardlog runs on, ext4, xfs and tmpfs, keep them): `rename` over an existing file is atomic, so
//! the target names either the old file or the new one, never neither; and fsyncing a directory
//! makes its entries durable.
//!
//! - [`FileSystem`] is the trait: syncing a file, a range of a file's shared mapping or a
//!   directory, reserving a file's blocks, and locking a file. [`OsFileSystem`] is the real one; [`FaultyFileSystem`] is the real one with
//!   failures a test switches on (a failing fsync needs a failing device otherwise).
//! - `durable.rs` builds the atomic replace of a small file on it (temporary file, fsync, rename,
//!   fsync of the directory), whole (`replace`) or in two steps (`StagedFile`), and through a
//!   spare reserved ahead of need where a full disk must not stop it (`replace_through_spare`).

mod durable;
mod faulty;
mod lock;

use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;

use memmap2::MmapRaw;

pub(crate) use self::durable::{StagedFile, replace, replace_through_spare};
pub use self::faulty::FaultyFileSystem;
pub use self::lock::FileLock;

/// The file-system calls on which the library's durability rests. Every implementation must keep
/// the contract of each method; a test implementation may fail any call, as a disk can.
pub trait FileSystem: Send + Sync + fmt::Debug {
    /// Makes what was written to `file` durable (fdatasync): its data survives a power loss.
    fn sync_data(&self, file: &File) -> io::Result<()>;

    /// Makes `file`'s data and metadata, its length among them, durable (fsync).
    fn sync_all(&self, file: &File) -> io::Result<()>;

    /// Makes the bytes of `range`, written through a shared mapping of a file, durable (msync
    /// with MS_SYNC, which on Linux is an fdatasync of the range).
    fn sync_mapped(&self, range: MappedRange<'_>) -> io::Result<()>;

    /// Makes the entries of directory `dir` (files created, renamed or removed in it) survive a
    /// power loss; a crash keeps them anyway. The files' contents are not synced by this.
    fn sync_directory(&self, dir: &Path) -> io::Result<()>;

    /// Reserves real blocks for the first `len` bytes of `file`, growing it if needed, so that
    /// writes through a mapping of it cannot hit a hole (and fail with SIGBUS on a full disk).
    fn reserve(&self, file: &File, len: u64) -> io::Result<()>;

    /// Opens (creating it if needed) the file at `path` and takes an exclusive lock on it, held for
    /// as long as the returned [`FileLock`] lives. Fails with [`io::ErrorKind::WouldBlock`] if
    /// another holder, in this process or another, has it.
    fn lock_exclusively(&self, path: &Path) -> io::Result<FileLock>;
}

/// A range of a shared, writable mapping of a file: what [`FileSystem::sync_mapped`] makes durable.
#[derive(Debug, Clone, Copy)]
pub struct MappedRange<'a> {
    map: &'a MmapRaw,
    from: usize,
    len: usize,
}

impl MappedRange<'_> {
    /// The bytes `[from, from + len)` of `map`.
    pub(crate) fn new(map: &MmapRaw, from: u64, len: u64) -> MappedRange<'_> {
        MappedRange {
            map,
            from: usize::try_from(from).unwrap_or(usize::MAX),
            len: usize::try_from(len).unwrap_or(usize::MAX),
        }
    }

    /// Writes the range's dirty pages back and waits for them: what the OS file system does.
    pub fn sync(&self) -> io::Result<()> {
        self.map.flush_range(self.from, self.len)
    }
}

/// The operating system's file system, unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsFileSystem;

impl OsFileSystem {
    /// The OS file system, shared.
    pub fn shared() -> Arc<dyn FileSystem> {
        Arc::new(OsFileSystem)
    }
}

impl FileSystem for OsFileSystem {
    fn sync_data(&self, file: &File) -> io::Result<()> {
        file.sync_data()
    }

    fn sync_all(&self, file: &File) -> io::Result<()> {
        file.sync_all()
    }

    fn sync_mapped(&self, range: MappedRange<'_>) -> io::Result<()> {
        range.sync()
    }

    fn sync_directory(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn reserve(&self, file: &File, len: u64) -> io::Result<()> {
        let len = libc::off_t::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file too large"))?;
        // SAFETY: plain syscall on a file descriptor the caller owns; no memory is passed.
        let code = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
        if code == 0 {
            Ok(())
        } else {
            Err(io::Error::from_raw_os_error(code))
        }
    }

    fn lock_exclusively(&self, path: &Path) -> io::Result<FileLock> {
        FileLock::acquire(path)
    }
}
