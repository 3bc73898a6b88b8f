//! What an application's code implements ([`RecordProcessor`]) and what it is handed to record its
//! progress ([`Checkpointer`]).

use super::checkpoints::{CheckpointDir, ShardProgress};
use super::{ApplicationError, ProcessorError};
use crate::record::Record;
use crate::sequence::{SequenceNumber, ShardIdentity};
use crate::stream::{ShardId, Stream, StreamStatus};

/// Records delivered together from one shard.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// The shard they come from.
    pub shard_id: ShardId,
    /// The records, in sequence-number order, each after every record delivered before from this
    /// shard. Never empty.
    pub records: &'a [Record],
    /// How far behind the newest record of the shard the batch is: now minus the arrival of its
    /// last record, or 0 when the shard holds nothing newer.
    pub millis_behind_latest: u64,
}

/// The application's code for one shard. The application makes one per shard it starts reading
/// (see [`Application::start`](super::Application::start)) and calls it from one thread at a
/// time, in this order: [`process`](RecordProcessor::process) for each batch, then either
/// [`shard_ended`](RecordProcessor::shard_ended) once, when the shard is closed and every record
/// of it was delivered, or [`stopping`](RecordProcessor::stopping), when the application stops
/// first.
///
/// Returning an error from any of them stops the application with
/// [`ApplicationError::Processor`]; the records after the shard's last checkpoint are delivered
/// again when it runs next.
pub trait RecordProcessor: Send {
    /// Handles a batch. With [`CheckpointPolicy::AfterEachBatch`](super::CheckpointPolicy), the
    /// application checkpoints after the batch once this returns `Ok`; with `Manual`, call the
    /// checkpointer when the records are safely handled.
    fn process(
        &mut self,
        batch: Batch<'_>,
        checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError>;

    /// The shard is closed and every record of it was delivered. When this returns `Ok`, the
    /// application checkpoints the shard's end, whatever the policy: the shard's records all count
    /// as handled from then on, and its children may start. (A `Manual` processor that holds
    /// records it has not finished must finish them here.)
    fn shard_ended(
        &mut self,
        shard_id: ShardId,
        checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        let _ = (shard_id, checkpointer);
        Ok(())
    }

    /// The application is stopping before the shard ended: a `Manual` processor may checkpoint
    /// what it finished. Not called after a crash, obviously, nor after an error.
    fn stopping(
        &mut self,
        shard_id: ShardId,
        checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        let _ = (shard_id, checkpointer);
        Ok(())
    }
}

/// Records durably how far a processor has handled its shard. Each checkpoint is durable when the
/// call returns `Ok` (file written, fsynced, renamed, directory fsynced): a crash or power loss
/// after it resumes right after the checkpointed record, and never before it.
pub struct Checkpointer<'a> {
    pub(super) stream: &'a Stream,
    pub(super) store: &'a CheckpointDir,
    pub(super) shard: ShardIdentity,
    /// The last record delivered to the processor, if any.
    pub(super) delivered: Option<SequenceNumber>,
    /// The last checkpoint in force. Invariant: only grows, and never passes `delivered`.
    pub(super) checkpointed: &'a mut Option<SequenceNumber>,
}

impl Checkpointer<'_> {
    /// The shard.
    pub fn shard_id(&self) -> ShardId {
        ShardId::new(self.shard.index)
    }

    /// The last checkpoint in force in this shard: every record up to it is handled.
    pub fn last_checkpoint(&self) -> Option<SequenceNumber> {
        *self.checkpointed
    }

    /// Checkpoints at the last record delivered so far: none of the records delivered until now
    /// is delivered again. Does nothing if that is the last checkpoint already.
    pub fn checkpoint(&mut self) -> Result<(), ApplicationError> {
        match self.delivered {
            Some(last) => self.checkpoint_at(last),
            None => Ok(()),
        }
    }

    /// Checkpoints at `sequence_number`, which must be a record of this shard delivered to the
    /// processor and not before the last checkpoint ([`ApplicationError::InvalidCheckpoint`]
    /// otherwise): the records up to it are not delivered again, those after it are, should the
    /// application stop before a later checkpoint.
    pub fn checkpoint_at(
        &mut self,
        sequence_number: SequenceNumber,
    ) -> Result<(), ApplicationError> {
        let invalid = |reason| ApplicationError::InvalidCheckpoint {
            shard: ShardId::new(self.shard.index),
            sequence_number,
            reason,
        };
        if sequence_number.shard() != self.shard {
            return Err(invalid("it is not a sequence number of this shard"));
        }
        if self.delivered.is_none_or(|last| sequence_number > last) {
            return Err(invalid("no record up to it was delivered yet"));
        }
        if let Some(last) = *self.checkpointed {
            if sequence_number < last {
                return Err(invalid("the shard is checkpointed after it already"));
            }
            if sequence_number == last {
                return Ok(());
            }
        }
        self.store(ShardProgress::After(sequence_number))?;
        *self.checkpointed = Some(sequence_number);
        Ok(())
    }

    /// Writes `progress` unless the stream is being deleted (its directory may be another
    /// stream's by now; see `checkpoints`).
    pub(super) fn store(&self, progress: ShardProgress) -> Result<(), ApplicationError> {
        if self.stream.status() == StreamStatus::Deleting {
            return Err(ApplicationError::StreamDeleted {
                stream: self.stream.name().to_string(),
            });
        }
        self.store.store(self.shard, progress)
    }
}
