//! The engine's own durable state: the key that authenticates tokens, the last shard creation
//! second handed out, and the epoch that leases every log's counters. It also holds the data
//! directory's lock. Streams see it only as the [`ShardCreationSeconds`] of their shard ledger.
//!
//! `engine.meta` is a three-line text file, replaced atomically and durably through a spare
//! reserved beside it (`engine.meta.spare`, see `file_system::replace_through_spare`), because
//! every open stores a new epoch: an engine must open on a completely full disk, to serve reads
//! and take the deletes that free it.
//!
//! ```text
//! iterator_key 0123…(64 hex digits)
//! last_shard_created_secs 1700000000
//! epoch 41
//! ```

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use crate::error::LogError;
use crate::file_system::{self, FileLock, FileSystem};
use crate::stream::{ShardCreationSeconds, StreamError, StreamResult};

const ENGINE_FILE: &str = "engine.meta";
const LOCK_FILE: &str = "LOCK";

/// `engine.meta`, loaded, with the data directory's lock.
#[derive(Debug)]
pub(crate) struct EngineMeta {
    dir: PathBuf,
    file_system: Arc<dyn FileSystem>,
    /// The data directory's `LOCK` file, locked exclusively (`file_system::FileLock`) for as long
    /// as this lives, which is as long as any stream of the engine (their shared ledger holds it):
    /// two engines on one directory, in one process or two, would run two logs per shard and hand
    /// out sequence numbers twice.
    _lock: FileLock,
    /// Authenticates shard iterator and list tokens.
    pub iterator_key: [u8; 32],
    /// Shard creation seconds are handed out strictly increasing, so that a sequence number from one
    /// shard can never be mistaken for one from another, in any stream of the engine.
    last_shard_created_secs: u64,
    /// How many times the engine was opened before this open, stored (incremented) durably before
    /// any shard log opens: the logs' counter epoch (see `LogOptions::counter_epoch`).
    pub epoch: u64,
}

impl EngineMeta {
    /// Loads `engine.meta` from `dir`, or creates it with a fresh random key.
    pub fn load_or_create(
        file_system: &Arc<dyn FileSystem>,
        dir: &Path,
    ) -> StreamResult<EngineMeta> {
        let lock = lock_data_dir(file_system, dir)?;
        let path = dir.join(ENGINE_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => {
                let mut meta =
                    EngineMeta::decode(file_system, dir, lock, &text).ok_or_else(|| {
                        StreamError::Storage(LogError::corrupt(
                            &path,
                            0,
                            "unreadable engine metadata",
                        ))
                    })?;
                // A new epoch, durable before any log hands out a counter in it.
                meta.epoch += 1;
                meta.store()?;
                Ok(meta)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut iterator_key = [0u8; 32];
                fs::File::open("/dev/urandom")
                    .and_then(|mut random| random.read_exact(&mut iterator_key))
                    .map_err(|error| LogError::io("reading /dev/urandom", "/dev/urandom", error))?;
                let meta = EngineMeta {
                    dir: dir.to_owned(),
                    file_system: Arc::clone(file_system),
                    _lock: lock,
                    iterator_key,
                    last_shard_created_secs: 0,
                    epoch: 0,
                };
                meta.store()?;
                Ok(meta)
            }
            Err(error) => Err(LogError::io("reading engine metadata", &path, error).into()),
        }
    }

    fn decode(
        file_system: &Arc<dyn FileSystem>,
        dir: &Path,
        lock: FileLock,
        text: &str,
    ) -> Option<EngineMeta> {
        let mut key = None;
        let mut last = None;
        // Files from before epochs were stored have none: they start at 0.
        let mut epoch = Some(0);
        for line in text.lines() {
            match line.split_once(' ')? {
                ("iterator_key", hex) => key = crate::hex::decode(hex)?.try_into().ok(),
                ("last_shard_created_secs", value) => last = value.parse().ok(),
                ("epoch", value) => epoch = value.parse().ok(),
                _ => {}
            }
        }
        Some(EngineMeta {
            dir: dir.to_owned(),
            file_system: Arc::clone(file_system),
            _lock: lock,
            iterator_key: key?,
            last_shard_created_secs: last?,
            epoch: epoch?,
        })
    }

    fn store(&self) -> StreamResult<()> {
        let text = format!(
            "iterator_key {}\nlast_shard_created_secs {}\nepoch {}\n",
            crate::hex::encode(&self.iterator_key),
            self.last_shard_created_secs,
            self.epoch
        );
        file_system::replace_through_spare(
            &self.file_system,
            &self.dir.join(ENGINE_FILE),
            text.as_bytes(),
        )
        .map_err(|error| LogError::io("writing engine metadata", &self.dir, error).into())
    }
}

impl ShardCreationSeconds for EngineMeta {
    fn allocate(&mut self, now_secs: u64) -> StreamResult<u64> {
        let secs = now_secs.max(self.last_shard_created_secs + 1);
        let previous = self.last_shard_created_secs;
        self.last_shard_created_secs = secs;
        if let Err(error) = self.store() {
            self.last_shard_created_secs = previous;
            return Err(error);
        }
        Ok(secs)
    }
}

/// Takes the data directory's lock, or fails with [`LogError::InUse`] if another engine holds it.
fn lock_data_dir(file_system: &Arc<dyn FileSystem>, dir: &Path) -> StreamResult<FileLock> {
    let path = dir.join(LOCK_FILE);
    file_system.lock_exclusively(&path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::WouldBlock {
            LogError::InUse { path }.into()
        } else {
            LogError::io("locking the data directory", &path, error).into()
        }
    })
}
