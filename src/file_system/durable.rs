//! The atomic, durable replace of a small file: the new content is written to `<name>.tmp` beside
//! it and fsynced, renamed over `<name>`, and the directory is fsynced (see the parent module for
//! what a crash and a power loss keep). [`replace`] does all of it; [`StagedFile`] splits it in
//! two, for a caller that must make a change irreversible elsewhere between writing the new
//! content (the part that needs free space) and putting it in force. [`replace_through_spare`]
//! needs no free space at all, for the one file that must be written for an engine to open.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::FileSystem;

/// Replaces the file at `path` with `bytes`, durably and atomically.
///
/// - `Ok`: the new content is in force and survives a crash and a power loss.
/// - `Err`: no temporary file is left behind (a full disk's failures must not take more of it),
///   and the target is whole, with either its old content or, only if syncing the directory after
///   the rename failed, its new one: then the new content survives a crash but a power loss may
///   bring the old one back.
/// - A crash or a power loss while it runs leaves the target whole, old or new, never a mix. A
///   `<name>.tmp` may be left then; the next replace overwrites it.
pub(crate) fn replace(
    file_system: &Arc<dyn FileSystem>,
    path: &Path,
    bytes: &[u8],
) -> io::Result<()> {
    StagedFile::write(file_system, path, bytes)?.commit()
}

/// Bytes reserved for a spare (one page): a file replaced through its spare must not be longer.
pub(crate) const SPARE_BYTES: u64 = 4096;

/// Replaces the file at `path` with `bytes` (at most [`SPARE_BYTES`]) as [`replace`] does, but
/// without taking a new file or a new block from the file system, so that it succeeds on a disk
/// that is completely full: the new content is written into `<name>.spare`, a file reserved beside
/// the target ahead of need, which is then fsynced and renamed over the target. The rename frees
/// the old file's inode and block, and they become the next spare (reserved, fsynced, its
/// directory entry synced) before this returns.
///
/// Where there is no spare yet (the first replace, a directory from before spares, or a spare that
/// could not be reserved again for lack of space), this is [`replace`] followed by reserving one.
/// No room to reserve the next spare is not an error: the content is in force, and the next
/// replace goes the ordinary way. The guarantees on `Ok`, `Err`, crash and power loss are
/// [`replace`]'s (on `Err` the new content may be in force, as when the directory sync after the
/// rename fails: here also when an fsync of the next spare fails); a crash may also leave the
/// spare missing or holding a content never put in force, which no reader looks at.
pub(crate) fn replace_through_spare(
    file_system: &Arc<dyn FileSystem>,
    path: &Path,
    bytes: &[u8],
) -> io::Result<()> {
    if bytes.len() as u64 > SPARE_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a file replaced through its spare must fit in the spare",
        ));
    }
    let spare = spare_path(path);
    let reserved = match write_into_spare(file_system, &spare, bytes) {
        Ok(()) => {
            fs::rename(&spare, path)?;
            let reserved = reserve_spare(file_system, &spare);
            // One directory sync for the rename (which must survive a power loss) and the next
            // spare's entry (which need not: without it the next replace goes the ordinary way).
            file_system.sync_directory(parent_dir(path))?;
            reserved
        }
        // No spare: the ordinary way, which needs a new file and a block.
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            replace(file_system, path, bytes)?;
            reserve_spare(file_system, &spare)
        }
        Err(error) => return Err(error),
    };
    match reserved {
        // No room for the next spare: the content is in force, and the next replace goes the
        // ordinary way (and reserves a spare again once there is room).
        Err(error) if is_out_of_space(&error) => Ok(()),
        // Any other failure (an fsync's) says the disk is failing: the caller hears of it, as
        // from an fsync of the target.
        reserved => reserved,
    }
}

/// ENOSPC, or EDQUOT: the file system has no room for this user.
fn is_out_of_space(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// Writes `bytes` over the start of the existing spare, cuts it to their length (which frees
/// nothing within the first block) and fsyncs it. `NotFound` when there is no spare.
fn write_into_spare(
    file_system: &Arc<dyn FileSystem>,
    spare: &Path,
    bytes: &[u8],
) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(spare)?;
    file.write_all_at(bytes, 0)?;
    file.set_len(bytes.len() as u64)?;
    file_system.sync_all(&file)
}

/// Creates the spare if needed and reserves its block, fsynced so that the block survives a power
/// loss; its directory entry is the caller's to sync, or not. On failure no spare is left (a spare
/// without its block would make the next replace need one).
fn reserve_spare(file_system: &Arc<dyn FileSystem>, spare: &Path) -> io::Result<()> {
    let reserved = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(spare)
        .and_then(|file| {
            file_system.reserve(&file, SPARE_BYTES)?;
            file_system.sync_all(&file)
        });
    if reserved.is_err() {
        let _ = fs::remove_file(spare);
    }
    reserved
}

/// `<path>.spare`: the file reserved beside `path` for [`replace_through_spare`].
fn spare_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".spare");
    PathBuf::from(name)
}

/// The new content of a file, durable beside it under a temporary name but not yet in force: the
/// first half of [`replace`]. Everything that needs free space happens in [`StagedFile::write`], so
/// a caller can stage a change, then make it irreversible elsewhere, then
/// [`commit`](StagedFile::commit) it with a rename that cannot fail for lack of space.
///
/// Invariant: while a `StagedFile` lives, its temporary file exists; dropping it uncommitted
/// removes the file, leaving the target as it was.
#[must_use = "a staged file takes effect only when committed"]
#[derive(Debug)]
pub(crate) struct StagedFile {
    target: PathBuf,
    temporary: PathBuf,
    file_system: Arc<dyn FileSystem>,
}

impl StagedFile {
    /// Writes `bytes` to `<path>.tmp` and fsyncs it. On `Err`, no temporary file is left behind.
    pub(crate) fn write(
        file_system: &Arc<dyn FileSystem>,
        path: &Path,
        bytes: &[u8],
    ) -> io::Result<StagedFile> {
        let staged = StagedFile {
            target: path.to_owned(),
            temporary: temporary_path(path),
            file_system: Arc::clone(file_system),
        };
        // From here on, an early return drops `staged`, which removes the temporary file.
        let mut file = File::create(&staged.temporary)?;
        file.write_all(bytes)?;
        staged.file_system.sync_all(&file)?;
        Ok(staged)
    }

    /// Puts the new content in force: renames it over the target, then fsyncs the directory. On
    /// `Err` the guarantees are those of [`replace`]'s.
    pub(crate) fn commit(self) -> io::Result<()> {
        fs::rename(&self.temporary, &self.target)?;
        self.file_system.sync_directory(parent_dir(&self.target))
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        // After a commit the temporary file is gone already: nothing to do, and nothing to report.
        let _ = fs::remove_file(&self.temporary);
    }
}

/// `<path>.tmp`: where the new content of `path` is written before it is renamed into place.
fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// The directory holding `path`'s entry (a bare file name is in the current directory).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::file_system::OsFileSystem;

    fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
        super::replace(&OsFileSystem::shared(), path, bytes)
    }

    #[test]
    fn a_replace_puts_the_new_content_in_force_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.meta");
        replace(&path, b"first\n").unwrap();
        replace(&path, b"second\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second\n");
        assert!(!dir.path().join("state.meta.tmp").exists());
    }

    #[test]
    fn a_failed_replace_leaves_neither_a_temporary_file_nor_a_changed_target() {
        let dir = tempfile::tempdir().unwrap();
        // A rename cannot put a file over a non-empty directory: the write succeeds, the commit
        // fails, after the temporary file was written and synced.
        let path = dir.path().join("state.meta");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("kept"), b"old").unwrap();
        assert!(replace(&path, b"new").is_err());
        assert!(!dir.path().join("state.meta.tmp").exists());
        assert_eq!(fs::read(path.join("kept")).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_staged_file_dropped_uncommitted_leaves_the_target_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.meta");
        replace(&path, b"old").unwrap();
        let staged = StagedFile::write(&OsFileSystem::shared(), &path, b"new").unwrap();
        assert_eq!(fs::read(dir.path().join("state.meta.tmp")).unwrap(), b"new");
        drop(staged);
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert!(!dir.path().join("state.meta.tmp").exists());
    }

    #[test]
    fn a_bare_file_name_lives_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("state.meta")), Path::new("."));
        assert_eq!(parent_dir(Path::new("a/state.meta")), Path::new("a"));
    }

    #[test]
    fn a_replace_through_the_spare_puts_the_content_in_force_and_reserves_the_next_spare() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.meta");
        let spare = dir.path().join("engine.meta.spare");
        let file_system = OsFileSystem::shared();
        // No spare yet: the ordinary way, then a spare is reserved.
        replace_through_spare(&file_system, &path, b"a longer first content\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"a longer first content\n");
        assert_eq!(fs::metadata(&spare).unwrap().len(), SPARE_BYTES);
        // Through the spare: the new content exactly, shorter than what the spare held.
        replace_through_spare(&file_system, &path, b"second\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second\n");
        assert_eq!(fs::metadata(&spare).unwrap().len(), SPARE_BYTES);
        assert!(!dir.path().join("engine.meta.tmp").exists());
    }

    #[test]
    fn content_longer_than_the_spare_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.meta");
        let file_system = OsFileSystem::shared();
        replace_through_spare(&file_system, &path, b"kept\n").unwrap();
        let too_long = vec![b'x'; SPARE_BYTES as usize + 1];
        let error = replace_through_spare(&file_system, &path, &too_long).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(fs::read(&path).unwrap(), b"kept\n");
    }
}
