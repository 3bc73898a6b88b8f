//! The data directory's layout, and the two renames that make creating and deleting a stream
//! all-or-nothing.
//!
//! ```text
//! <data dir>/
//!   streams/<name>/        a stream, only ever a whole one
//!   staging/<name>/        a stream being created: emptied at open
//!   trash/<name>.<e>.<n>/  a stream being deleted: emptied at open and by maintenance
//! ```
//!
//! A stream directory enters `streams/` in one rename, from `staging/`, once its `stream.meta` is
//! durable there; it leaves in one rename, into `trash/`. Whatever fails or crashes when, `streams/`
//! never holds a part-made or part-deleted stream, and a name there is never reused while an older
//! stream's files are still in it: a failed creation's files are in `staging/`, which is emptied
//! before the next creation uses it, and a deleted stream's are in `trash/`, under a name no later
//! deletion repeats. Nothing in `staging/` or `trash/` is ever read: it is removed unopened.
//!
//! Deleting needs no free space (two renames and removals, no file written), so a full disk can
//! always be relieved by deleting a stream. See docs/FORMAT.md §7 for the crash-safety argument.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Arc;

use crate::file_system::FileSystem;
use crate::stream::{StreamMeta, StreamName};

const STREAMS: &str = "streams";
const STAGING: &str = "staging";
const TRASH: &str = "trash";

/// The data directory's three parts.
#[derive(Debug)]
pub(crate) struct DataDir {
    streams: PathBuf,
    staging: PathBuf,
    trash: PathBuf,
    /// The engine's epoch: with `deletions`, it makes every trash name unique for the life of the
    /// data directory, even while earlier trash could not be removed.
    epoch: u64,
    deletions: AtomicU64,
    file_system: Arc<dyn FileSystem>,
}

impl DataDir {
    /// Makes the three directories under `root` if they are missing.
    pub(crate) fn create(
        root: &Path,
        epoch: u64,
        file_system: &Arc<dyn FileSystem>,
    ) -> io::Result<DataDir> {
        let data_dir = DataDir {
            streams: root.join(STREAMS),
            staging: root.join(STAGING),
            trash: root.join(TRASH),
            epoch,
            deletions: AtomicU64::new(0),
            file_system: Arc::clone(file_system),
        };
        for dir in [&data_dir.streams, &data_dir.staging, &data_dir.trash] {
            fs::create_dir_all(dir)?;
        }
        Ok(data_dir)
    }

    /// Where streams live.
    pub(crate) fn streams(&self) -> &Path {
        &self.streams
    }

    /// The directory of the stream named `name`.
    pub(crate) fn stream_dir(&self, name: &StreamName) -> PathBuf {
        self.streams.join(name.as_str())
    }

    /// Removes what failed or crashed creations and deletions left in `staging/` and `trash/`.
    pub(crate) fn sweep(&self) -> io::Result<()> {
        for entry in fs::read_dir(&self.staging)? {
            remove_any(&entry?.path())?;
        }
        self.empty_trash()
    }

    /// Removes every deleted stream's files still in `trash/`.
    pub(crate) fn empty_trash(&self) -> io::Result<()> {
        for entry in fs::read_dir(&self.trash)? {
            remove_any(&entry?.path())?;
        }
        Ok(())
    }

    /// Makes a stream whose catalog entry is `meta` appear in `streams/` whole, or not at all: it
    /// is built in `staging/`, made durable there, then renamed into place. On failure nothing of
    /// it is left in `streams/` or `staging/`.
    pub(crate) fn create_stream(&self, meta: &StreamMeta) -> io::Result<PathBuf> {
        let staged = self.staging.join(meta.name.as_str());
        let built = remove_any(&staged)
            .and_then(|()| fs::create_dir(&staged))
            .and_then(|()| meta.store_on(&self.file_system, &staged))
            .and_then(|()| self.publish(&staged, &meta.name));
        if built.is_err() {
            let _ = remove_any(&staged);
        }
        built
    }

    /// Renames a built stream into `streams/` and makes the rename durable. If that last step
    /// fails the stream is taken out again: the creation failed, as it must when it cannot be made
    /// durable (a power loss right then may still bring the stream back, whole, like a record
    /// whose sync failed, but never a part of it).
    fn publish(&self, staged: &Path, name: &StreamName) -> io::Result<PathBuf> {
        let target = self.stream_dir(name);
        // Fails if a non-empty directory has the name: the engine checks names first, and every
        // directory in `streams/` is known to it, as a stream or as a damaged one.
        fs::rename(staged, &target)?;
        if let Err(error) = self.sync_directories(&self.streams, &self.staging) {
            if let Ok(trashed) = self.move_to_trash(name) {
                let _ = remove_any(&trashed.path);
            }
            return Err(error);
        }
        Ok(target)
    }

    /// Makes a rename from one directory into the other durable.
    fn sync_directories(&self, first: &Path, second: &Path) -> io::Result<()> {
        self.file_system.sync_directory(first)?;
        self.file_system.sync_directory(second)
    }

    /// Takes the stream named `name` out of `streams/` in one rename, which needs no free space.
    /// An error means the stream is still in place. Once renamed, the stream is deleted; whether
    /// the rename is durable yet is [`Trashed::synced`].
    pub(crate) fn move_to_trash(&self, name: &StreamName) -> io::Result<Trashed> {
        let deletion = self.deletions.fetch_add(1, Ordering::Relaxed);
        let path = self.trash.join(format!("{name}.{}.{deletion}", self.epoch));
        fs::rename(self.stream_dir(name), &path)?;
        let synced = self.sync_directories(&self.streams, &self.trash);
        Ok(Trashed { path, synced })
    }
}

/// A stream's files, moved out of `streams/`.
#[derive(Debug)]
pub(crate) struct Trashed {
    /// Where they are now: remove them with [`remove_any`].
    pub path: PathBuf,
    /// Syncing the two directories: until it succeeds, a power loss may bring the stream back.
    pub synced: io::Result<()>,
}

/// Removes a directory tree or a file; one already gone is fine.
pub(crate) fn remove_any(path: &Path) -> io::Result<()> {
    let removed = match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(error) => Err(error),
    };
    removed.or_else(not_found_is_ok)
}

fn not_found_is_ok(error: io::Error) -> io::Result<()> {
    if error.kind() == io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(error)
    }
}
