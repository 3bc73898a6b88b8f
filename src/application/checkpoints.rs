//! The durable checkpoints of one application in one stream: one small file per shard, in the
//! stream's own directory, so they go wherever the stream goes.
//!
//! ```text
//! <data dir>/streams/<stream>/applications/<application>/
//!   LOCK                          locked while an instance of the application is open
//!   shard-000000000003.checkpoint the application's progress in shard 3
//! ```
//!
//! A checkpoint file is a [`checksummed_text`] file, replaced atomically by
//! `file_system::replace` (written beside, fsynced, renamed over, directory fsynced):
//!
//! ```text
//! stream_created_ms 1700000000000
//! shard 3 1700000042
//! after 49654312870235423484302858745434757658345034098767872050
//! crc 1a2b3c4d
//! ```
//!
//! `after N` means every record up to sequence number N is handled (resume after it); `end` in its
//! place means the whole shard is handled (its children may start).
//!
//! Why it cannot resume from the wrong place:
//! - *Torn or damaged file*: the replace is atomic, so a crash leaves the old checkpoint or the
//!   new one; anything else (a zeroed or truncated file after a media error, a hand edit) fails
//!   its checksum and is refused with [`ApplicationError::CorruptCheckpoint`], never used.
//! - *Another stream of the same name*: deleting a stream moves its directory, checkpoints and
//!   all, to the trash in one rename, so a stream created again under the name starts with none.
//!   An instance still running on the deleted stream cannot create the directory again (only
//!   [`CheckpointDir::open`] creates it, one level at a time under a stream directory that must
//!   exist, and refuses a deleted stream), and should it write into the new stream's directory of
//!   the same application anyway (deleted and re-created between its check and its write), the
//!   file names the old stream's creation time and shard identity, which match nothing of the new
//!   stream: such a file is ignored and removed, never resumed from. (Shard creation times are
//!   handed out strictly increasing by the engine, so a shard identity is never reused.) In that
//!   narrow window the stale write replaces the new stream's checkpoint of the same shard index,
//!   if it has one: the new stream's application then reads that shard again from its oldest
//!   record, which is at-least-once delivery, not a skip.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ApplicationError;
use super::name::ApplicationName;
use crate::checksummed_text;
use crate::file_system::{self, FileLock, FileSystem};
use crate::sequence::{SequenceNumber, ShardIdentity};

const APPLICATIONS_DIR: &str = "applications";
const LOCK_FILE: &str = "LOCK";
const SUFFIX: &str = ".checkpoint";

/// How far an application has handled one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardProgress {
    /// Every record up to and including this sequence number is handled: resume after it.
    After(SequenceNumber),
    /// The shard is closed and every record of it is handled: its children may start.
    Ended,
}

/// One application's checkpoint directory in one stream, locked for as long as this lives.
#[derive(Debug)]
pub(crate) struct CheckpointDir {
    dir: PathBuf,
    stream_created_ms: u64,
    file_system: Arc<dyn FileSystem>,
    /// Held locked exclusively: two instances of one application would each deliver every
    /// record and overwrite each other's checkpoints.
    _lock: FileLock,
}

impl CheckpointDir {
    /// Opens (creating if needed) the directory of `application` in the stream stored in
    /// `stream_dir`, created at `stream_created_ms`, and locks it.
    pub(crate) fn open(
        file_system: &Arc<dyn FileSystem>,
        stream_dir: &Path,
        stream_name: &str,
        stream_created_ms: u64,
        application: &ApplicationName,
    ) -> Result<CheckpointDir, ApplicationError> {
        let applications = stream_dir.join(APPLICATIONS_DIR);
        let dir = applications.join(application.as_str());
        // One level at a time, never the stream's own directory: a stream deleted under a stale
        // handle fails here (NotFound) instead of getting a directory that is no stream.
        for created in [&applications, &dir] {
            match fs::create_dir(created) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(ApplicationError::io("creating", created, error)),
            }
        }
        // The entries survive a power loss, so a checkpoint written in them does too. Synced at
        // every open, not only when created: a crash between creating and syncing them would
        // otherwise leave them unsynced for good.
        for synced in [&applications, stream_dir] {
            file_system
                .sync_directory(synced)
                .map_err(|error| ApplicationError::io("syncing", synced, error))?;
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock =
            file_system
                .lock_exclusively(&lock_path)
                .map_err(|error| match error.kind() {
                    std::io::ErrorKind::WouldBlock => ApplicationError::InUse {
                        application: application.to_string(),
                        stream: stream_name.to_owned(),
                    },
                    _ => ApplicationError::io("locking", &lock_path, error),
                })?;
        Ok(CheckpointDir {
            dir,
            stream_created_ms,
            file_system: Arc::clone(file_system),
            _lock: lock,
        })
    }

    /// Every checkpoint of this stream's shards, by shard index. Files of shards no longer in
    /// `listed` (retention forgot them) and files that belong to another stream of the same name
    /// are removed; a damaged file is an error.
    pub(crate) fn load(
        &self,
        listed: &BTreeMap<u32, ShardIdentity>,
    ) -> Result<BTreeMap<u32, ShardProgress>, ApplicationError> {
        let mut loaded = BTreeMap::new();
        let entries = fs::read_dir(&self.dir)
            .map_err(|error| ApplicationError::io("listing", &self.dir, error))?;
        for entry in entries {
            let entry = entry.map_err(|error| ApplicationError::io("listing", &self.dir, error))?;
            let Some(index) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.strip_prefix("shard-"))
                .and_then(|name| name.strip_suffix(SUFFIX))
                .and_then(|index| index.parse::<u32>().ok())
            else {
                continue; // the lock, or a `.tmp` a crash left (the next replace overwrites it)
            };
            let path = entry.path();
            let bytes =
                fs::read(&path).map_err(|error| ApplicationError::io("reading", &path, error))?;
            let corrupt = |reason: &str| ApplicationError::CorruptCheckpoint {
                path: path.clone(),
                reason: reason.to_owned(),
            };
            // Damage is as likely to leave bytes that are not UTF-8 as any other: also corrupt.
            let text = std::str::from_utf8(&bytes).map_err(|_| corrupt("not UTF-8 text"))?;
            let body = checksummed_text::open(text).map_err(|error| corrupt(&error.to_string()))?;
            let (stream_created_ms, shard, progress) = decode(body).map_err(corrupt)?;
            if shard.index != index {
                return Err(corrupt("its shard is not the one its name says"));
            }
            let ours =
                stream_created_ms == self.stream_created_ms && listed.get(&index) == Some(&shard);
            if ours {
                loaded.insert(index, progress);
            } else {
                // A forgotten shard's, or another stream's: nothing to resume from.
                fs::remove_file(&path)
                    .map_err(|error| ApplicationError::io("removing", &path, error))?;
            }
        }
        Ok(loaded)
    }

    /// Makes `progress` in `shard` durable: once this returns `Ok`, a crash or a power loss
    /// resumes from it. On `Err`, the previous checkpoint is in force (see
    /// `file_system::replace`).
    pub(crate) fn store(
        &self,
        shard: ShardIdentity,
        progress: ShardProgress,
    ) -> Result<(), ApplicationError> {
        debug_assert!(
            match progress {
                ShardProgress::After(number) => number.shard() == shard,
                ShardProgress::Ended => true,
            },
            "a checkpoint names a record of its own shard"
        );
        let path = self.path(shard.index);
        let text = checksummed_text::seal(encode(self.stream_created_ms, shard, progress));
        file_system::replace(&self.file_system, &path, text.as_bytes())
            .map_err(|error| ApplicationError::io("writing checkpoint", &path, error))
    }

    fn path(&self, index: u32) -> PathBuf {
        self.dir.join(format!("shard-{index:012}{SUFFIX}"))
    }
}

fn encode(stream_created_ms: u64, shard: ShardIdentity, progress: ShardProgress) -> String {
    let progress = match progress {
        ShardProgress::After(number) => format!("after {number}"),
        ShardProgress::Ended => "end".to_owned(),
    };
    format!(
        "stream_created_ms {stream_created_ms}\nshard {} {}\n{progress}\n",
        shard.index, shard.created_secs
    )
}

fn decode(body: &str) -> Result<(u64, ShardIdentity, ShardProgress), &'static str> {
    let mut lines = body.lines();
    let stream_created_ms = lines
        .next()
        .and_then(|line| line.strip_prefix("stream_created_ms "))
        .and_then(|ms| ms.parse::<u64>().ok())
        .ok_or("bad stream_created_ms line")?;
    let shard = lines
        .next()
        .and_then(|line| line.strip_prefix("shard "))
        .and_then(|rest| rest.split_once(' '))
        .and_then(|(index, created_secs)| {
            Some(ShardIdentity {
                index: index.parse().ok()?,
                created_secs: created_secs.parse().ok()?,
            })
        })
        .ok_or("bad shard line")?;
    let progress = match lines.next() {
        Some("end") => ShardProgress::Ended,
        Some(line) => {
            let number = line
                .strip_prefix("after ")
                .and_then(|number| number.parse::<SequenceNumber>().ok())
                .ok_or("bad progress line")?;
            if number.shard() != shard {
                return Err("its sequence number is not of its shard");
            }
            ShardProgress::After(number)
        }
        None => return Err("no progress line"),
    };
    if lines.next().is_some() {
        return Err("more lines than a checkpoint has");
    }
    Ok((stream_created_ms, shard, progress))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::file_system::OsFileSystem;

    const SHARD: ShardIdentity = ShardIdentity {
        index: 3,
        created_secs: 1_700_000_042,
    };

    fn listed() -> BTreeMap<u32, ShardIdentity> {
        BTreeMap::from([(SHARD.index, SHARD)])
    }

    fn open(stream_dir: &Path, created_ms: u64) -> CheckpointDir {
        let name = ApplicationName::new("app").unwrap();
        CheckpointDir::open(&OsFileSystem::shared(), stream_dir, "s", created_ms, &name).unwrap()
    }

    #[test]
    fn a_stored_checkpoint_loads_back_and_the_last_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let checkpoints = open(dir.path(), 7);
        let number = SequenceNumber::from_checked_parts(SHARD, 41, SHARD.created_secs);
        checkpoints
            .store(SHARD, ShardProgress::After(number))
            .unwrap();
        assert_eq!(
            checkpoints.load(&listed()).unwrap(),
            BTreeMap::from([(3, ShardProgress::After(number))])
        );
        checkpoints.store(SHARD, ShardProgress::Ended).unwrap();
        assert_eq!(
            checkpoints.load(&listed()).unwrap(),
            BTreeMap::from([(3, ShardProgress::Ended)])
        );
    }

    #[test]
    fn a_damaged_or_truncated_checkpoint_is_refused_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let checkpoints = open(dir.path(), 7);
        let number = SequenceNumber::from_checked_parts(SHARD, 41, SHARD.created_secs);
        checkpoints
            .store(SHARD, ShardProgress::After(number))
            .unwrap();
        let path = checkpoints.path(3);
        let good = fs::read_to_string(&path).unwrap();
        let later = SequenceNumber::from_checked_parts(SHARD, 42, SHARD.created_secs);
        // The last: a byte flipped to one that is not UTF-8.
        let mut not_text = good.clone().into_bytes();
        not_text[5] = 0xff;
        let damaged = [
            good.replace(&number.to_string(), &later.to_string())
                .into_bytes(),
            good.as_bytes()[..good.len() / 2].to_vec(),
            Vec::new(),
            vec![0; good.len()],
            not_text,
        ];
        for text in damaged {
            fs::write(&path, &text).unwrap();
            assert!(
                matches!(
                    checkpoints.load(&listed()),
                    Err(ApplicationError::CorruptCheckpoint { .. })
                ),
                "{:?} was used",
                String::from_utf8_lossy(&text)
            );
        }
    }

    #[test]
    fn checkpoints_of_another_stream_or_a_forgotten_shard_are_removed_unused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let old_stream = open(dir.path(), 7);
            old_stream.store(SHARD, ShardProgress::Ended).unwrap();
        }
        let new_stream = open(dir.path(), 8);
        assert!(new_stream.load(&listed()).unwrap().is_empty());
        assert!(!new_stream.path(3).exists());

        new_stream.store(SHARD, ShardProgress::Ended).unwrap();
        assert!(new_stream.load(&BTreeMap::new()).unwrap().is_empty());
        assert!(!new_stream.path(3).exists());
    }

    #[test]
    fn one_instance_of_an_application_holds_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let first = open(dir.path(), 7);
        let name = ApplicationName::new("app").unwrap();
        assert!(matches!(
            CheckpointDir::open(&OsFileSystem::shared(), dir.path(), "s", 7, &name),
            Err(ApplicationError::InUse { .. })
        ));
        drop(first);
        assert!(CheckpointDir::open(&OsFileSystem::shared(), dir.path(), "s", 7, &name).is_ok());
    }
}
