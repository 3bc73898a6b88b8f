//! The atomic, durable replace of a small file: the new content is written to `<name>.tmp` beside
//! it and fsynced, renamed over `<name>`, and the directory is fsynced (see the parent module for
//! what a crash and a power loss keep). [`replace`] does all of it; [`StagedFile`] splits it in
//! two, for a caller that must make a change irreversible elsewhere between writing the new
//! content (the part that needs free space) and putting it in force.

use std::fs::{self, File};
use std::io::{self, Write};
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
}
