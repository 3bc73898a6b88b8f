//! The shard's checkpoint: the few facts recovery cannot derive from the segments.
//!
//! - **Counter lease.** The writer may hand out sequence counters below `counter_lease_limit` only;
//!   before crossing it, a larger limit is made durable here. After a crash that lost an unsynced
//!   tail, recovery resumes at the limit, so a counter that might have been handed out (and
//!   acknowledged to a producer) before the crash is never handed out again.
//! - **Durable point.** A position (segment, offset) below which every frame was synced. Damage
//!   found below it is corruption and opening fails; damage above it is a torn tail and is cut.
//! - **Clean shutdown.** Set only by a close that synced everything and wrote every index file;
//!   cleared (durably) by open before the first append. A clean checkpoint lets open skip the scan.
//!
//! The file holds two 512-byte slots written alternately, each with a generation and a CRC, so a
//! write torn by power loss leaves the other, older slot intact (the double-buffer redb and Iggy use).
//! A slot is written with `pwrite` and made durable with `fdatasync` before the writer relies on it.

use super::checksum;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::frame::{u32_at, u64_at};
use std::sync::Arc;

use crate::file_system::{self, FileSystem};
use crate::sequence::ShardIdentity;

/// Name of the checkpoint file inside a shard directory.
pub const FILE_NAME: &str = "checkpoint";
/// Name under which [`file_system::replace`] prepares a new checkpoint file before it renames it
/// into place; recovery removes one that a crash left behind.
pub const TEMPORARY_FILE_NAME: &str = "checkpoint.tmp";
const SLOT_BYTES: usize = 512;
const MAGIC: [u8; 8] = *b"SHLGCKP1";
const FLAG_CLEAN: u32 = 1;

/// A position in the log: a segment (by base counter) and a byte offset in it. Ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    /// Base counter of the segment.
    pub segment_base: u64,
    /// Byte offset within the segment file.
    pub offset: u64,
}

/// The contents of one checkpoint slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Incremented by every write; the valid slot with the larger generation wins.
    pub generation: u64,
    /// Shard this log belongs to.
    pub identity: ShardIdentity,
    /// Counters at or above this have never been handed out.
    pub counter_lease_limit: u64,
    /// Every frame before this position was synced to disk.
    pub durable: LogPosition,
    /// Set only by a clean close.
    pub clean: bool,
    /// Clean only: the next counter to hand out.
    pub next_counter: u64,
    /// Clean only: arrival time of the last record (arrivals never decrease within a shard).
    pub last_arrival_ms: u64,
    /// Clean only: the active segment's base and published length.
    pub active_end: LogPosition,
}

impl Checkpoint {
    fn encode(&self) -> [u8; SLOT_BYTES] {
        let mut slot = [0u8; SLOT_BYTES];
        let fields: [(usize, u64); 9] = [
            (8, self.generation),
            (24, self.identity.created_secs),
            (32, self.counter_lease_limit),
            (40, self.durable.segment_base),
            (48, self.durable.offset),
            (56, self.next_counter),
            (64, self.last_arrival_ms),
            (72, self.active_end.segment_base),
            (80, self.active_end.offset),
        ];
        slot[0..8].copy_from_slice(&MAGIC);
        for (offset, value) in fields {
            if let Some(field) = slot.get_mut(offset..offset + 8) {
                field.copy_from_slice(&value.to_le_bytes());
            }
        }
        slot[16..20].copy_from_slice(&self.identity.index.to_le_bytes());
        let flags = if self.clean { FLAG_CLEAN } else { 0 };
        slot[20..24].copy_from_slice(&flags.to_le_bytes());
        let crc = checksum::crc32(&slot[..SLOT_BYTES - 4]);
        slot[SLOT_BYTES - 4..].copy_from_slice(&crc.to_le_bytes());
        slot
    }

    fn decode(slot: &[u8]) -> Option<Checkpoint> {
        let body = slot.get(..SLOT_BYTES - 4)?;
        if slot.len() != SLOT_BYTES
            || body.get(..8)? != MAGIC
            || checksum::crc32(body) != u32_at(slot, SLOT_BYTES - 4)
        {
            return None;
        }
        let flags = u32_at(slot, 20);
        Some(Checkpoint {
            generation: u64_at(slot, 8),
            identity: ShardIdentity {
                index: u32_at(slot, 16),
                created_secs: u64_at(slot, 24),
            },
            counter_lease_limit: u64_at(slot, 32),
            durable: LogPosition {
                segment_base: u64_at(slot, 40),
                offset: u64_at(slot, 48),
            },
            clean: flags & FLAG_CLEAN != 0,
            next_counter: u64_at(slot, 56),
            last_arrival_ms: u64_at(slot, 64),
            active_end: LogPosition {
                segment_base: u64_at(slot, 72),
                offset: u64_at(slot, 80),
            },
        })
    }
}

/// Why the checkpoint file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The file exists but neither slot is valid: only media damage can do that, since a torn write
    /// spoils at most one slot.
    #[error("both checkpoint slots are damaged")]
    Damaged,
    /// Neither slot is valid, and the first was never written: the only write the file ever had
    /// was its creation's, to the second slot, and it is torn. A creation that was synced (a log
    /// without a counter epoch) cannot tear, so there this is damage too; with an epoch it is a
    /// creation that did not reach the disk.
    #[error("the checkpoint's only write, its creation, is torn")]
    CreationTorn,
}

/// The checkpoint file, by path: it is opened for each write (a write is followed by an fdatasync
/// that costs far more than the open), so an idle shard holds no file descriptor.
pub struct CheckpointFile {
    path: PathBuf,
    current: Checkpoint,
    file_system: Arc<dyn FileSystem>,
}

impl CheckpointFile {
    /// Reads the checkpoint in `dir`. `Ok(None)` when there is no file at all (a new shard).
    pub fn open(
        file_system: &Arc<dyn FileSystem>,
        dir: &Path,
    ) -> Result<Option<CheckpointFile>, CheckpointError> {
        let path = dir.join(FILE_NAME);
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let mut bytes = [0u8; SLOT_BYTES * 2];
        let read = read_up_to(&file, &mut bytes)?;
        if bytes.iter().all(|&byte| byte == 0) {
            // Never written: a creation that did not reach the disk (see `recovery.rs`).
            return Ok(None);
        }
        let (first, second) = bytes.split_at(SLOT_BYTES);
        let slots = [
            Checkpoint::decode(first),
            (read == SLOT_BYTES * 2)
                .then(|| Checkpoint::decode(second))
                .flatten(),
        ];
        let never_rewritten = first.iter().all(|&byte| byte == 0);
        let current = slots
            .into_iter()
            .flatten()
            .max_by_key(|checkpoint| checkpoint.generation)
            .ok_or(if never_rewritten {
                CheckpointError::CreationTorn
            } else {
                CheckpointError::Damaged
            })?;
        Ok(Some(CheckpointFile {
            path,
            current,
            file_system: Arc::clone(file_system),
        }))
    }

    /// Creates the checkpoint file of a new shard, its first write in the second slot and the
    /// first slot all zeros (how `open` tells a torn creation from damage).
    ///
    /// With `durable`, it is replaced into place with [`file_system::replace`]: a crash or power
    /// loss never leaves a checkpoint file with only a torn slot, and once this returns, file and
    /// directory entry survive power loss. Without, the file is written in place and not synced:
    /// a crash may then leave it empty or zeroed, which `open` reads as no checkpoint at all, as
    /// if the creation never happened.
    pub fn create(
        file_system: &Arc<dyn FileSystem>,
        dir: &Path,
        initial: Checkpoint,
        durable: bool,
    ) -> io::Result<CheckpointFile> {
        let path = dir.join(FILE_NAME);
        let first = Checkpoint {
            generation: 1,
            ..initial
        };
        let mut image = [0u8; SLOT_BYTES * 2];
        let offset = slot_offset(first.generation);
        if let Some(slot) = image.get_mut(offset..offset + SLOT_BYTES) {
            slot.copy_from_slice(&first.encode());
        }
        if durable {
            file_system::replace(file_system, &path, &image)?;
        } else {
            std::fs::write(&path, image)?;
        }
        Ok(CheckpointFile {
            path,
            current: first,
            file_system: Arc::clone(file_system),
        })
    }

    /// The checkpoint as last written (or read).
    pub fn current(&self) -> Checkpoint {
        self.current
    }

    /// Durably replaces the checkpoint with `next` (its generation is assigned here).
    pub fn write(&mut self, next: Checkpoint) -> io::Result<()> {
        self.write_slot(next, true)
    }

    /// Like [`CheckpointFile::write`] without the sync, for a caller that syncs the file system.
    pub fn write_unsynced(&mut self, next: Checkpoint) -> io::Result<()> {
        self.write_slot(next, false)
    }

    fn write_slot(&mut self, next: Checkpoint, durable: bool) -> io::Result<()> {
        let next = Checkpoint {
            generation: self.current.generation + 1,
            ..next
        };
        let file = OpenOptions::new().write(true).open(&self.path)?;
        file.write_all_at(&next.encode(), slot_offset(next.generation) as u64)?;
        if durable {
            self.file_system.sync_data(&file)?;
        }
        self.current = next;
        Ok(())
    }

    /// Takes `next` as the checkpoint the next write starts from, without writing it: for a log
    /// whose open need not change the disk (see [`super::LogOptions::counter_epoch`]).
    pub fn assume(&mut self, next: Checkpoint) {
        self.current = Checkpoint {
            generation: self.current.generation,
            ..next
        };
    }

    /// Syncs the file's data (a creation that was not durable, made durable later).
    pub fn sync_file(&self) -> io::Result<()> {
        let file = OpenOptions::new().write(true).open(&self.path)?;
        self.file_system.sync_data(&file)
    }
}

/// Where the slot of a generation is: generations alternate between the two slots.
fn slot_offset(generation: u64) -> usize {
    if generation.is_multiple_of(2) {
        0
    } else {
        SLOT_BYTES
    }
}

fn read_up_to(file: &File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let Some(rest) = buffer.get_mut(filled..) else {
            break;
        };
        match file.read_at(rest, filled as u64)? {
            0 => break,
            read => filled += read,
        }
    }
    Ok(filled)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::file_system::OsFileSystem;

    fn os() -> Arc<dyn FileSystem> {
        OsFileSystem::shared()
    }

    fn sample() -> Checkpoint {
        Checkpoint {
            generation: 0,
            identity: ShardIdentity {
                index: 3,
                created_secs: 1_700_000_000,
            },
            counter_lease_limit: 1 << 24,
            durable: LogPosition {
                segment_base: 0,
                offset: 64,
            },
            clean: false,
            next_counter: 0,
            last_arrival_ms: 0,
            active_end: LogPosition {
                segment_base: 0,
                offset: 64,
            },
        }
    }

    #[test]
    fn the_newest_valid_slot_wins() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = CheckpointFile::create(&os(), dir.path(), sample(), true).unwrap();
        let later = Checkpoint {
            counter_lease_limit: 2 << 24,
            clean: true,
            ..sample()
        };
        file.write(later).unwrap();
        let reread = CheckpointFile::open(&os(), dir.path())
            .unwrap()
            .unwrap()
            .current();
        assert_eq!(reread.counter_lease_limit, 2 << 24);
        assert!(reread.clean);
        assert_eq!(reread.generation, 2);
    }

    #[test]
    fn a_torn_slot_falls_back_to_the_other() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = CheckpointFile::create(&os(), dir.path(), sample(), true).unwrap();
        file.write(Checkpoint {
            counter_lease_limit: 99,
            ..sample()
        })
        .unwrap();
        // Generation 2 lives in slot 0; garble it as a torn write would.
        let path = dir.path().join(FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[100] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let reread = CheckpointFile::open(&os(), dir.path())
            .unwrap()
            .unwrap()
            .current();
        assert_eq!(reread.generation, 1);
        assert_eq!(reread.counter_lease_limit, 1 << 24);

        bytes[SLOT_BYTES + 100] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            CheckpointFile::open(&os(), dir.path()),
            Err(CheckpointError::Damaged)
        ));
    }

    #[test]
    fn a_created_file_holds_its_first_write_in_the_second_slot_and_zeros_in_the_first() {
        for durable in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            CheckpointFile::create(&os(), dir.path(), sample(), durable).unwrap();
            let bytes = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
            assert_eq!(bytes.len(), SLOT_BYTES * 2);
            assert!(bytes[..SLOT_BYTES].iter().all(|&byte| byte == 0));
            let reread = CheckpointFile::open(&os(), dir.path())
                .unwrap()
                .unwrap()
                .current();
            assert_eq!(
                reread,
                Checkpoint {
                    generation: 1,
                    ..sample()
                }
            );
            assert!(!dir.path().join(TEMPORARY_FILE_NAME).exists());
        }
    }

    #[test]
    fn a_missing_file_means_a_new_shard() {
        let dir = tempfile::tempdir().unwrap();
        assert!(CheckpointFile::open(&os(), dir.path()).unwrap().is_none());
    }
}
