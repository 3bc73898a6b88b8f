//! Server-side encryption: StartStreamEncryption and StopStreamEncryption. The key is recorded
//! and reported by DescribeStream and DescribeStreamSummary; shardlog stores records as written,
//! unencrypted (see the library's `stream::encryption`).

use std::sync::Arc;

use shardlog::Stream;
use shardlog::stream::{InvalidKmsKeyId, KmsKeyId};

use super::{Context, Reply, StreamRef};
use crate::error::ApiError;
use crate::protocol::Fields;
use crate::protocol::fields::{Checks, NAME, STREAM_ARN, STREAM_ID, STREAM_NAME_LENGTH};

/// Reads `StreamARN`, `StreamId` and `StreamName`, checked in the front end's (alphabetical)
/// order. `StreamId` is reserved by Kinesis: it is checked against the model and then ignored.
pub(super) fn read_stream_ref<'r>(
    fields: &Fields<'r, '_>,
    checks: &mut Checks,
) -> Result<StreamRef<'r>, ApiError> {
    let arn = fields.string("StreamARN")?;
    let id = fields.string("StreamId")?;
    let name = fields.string("StreamName")?;
    checks.text("streamARN", arn, Some(STREAM_ARN), (1, 2048));
    checks.text("streamId", id, Some(STREAM_ID), (1, 24));
    checks.text("streamName", name, Some(NAME), STREAM_NAME_LENGTH);
    Ok(StreamRef { name, arn })
}

/// What both operations take, checked: the stream named (and how it was named), and the key,
/// if `EncryptionType` is `KMS` (the only type either operation accepts).
struct Request<'r> {
    stream_ref: StreamRef<'r>,
    stream: Arc<Stream>,
    key: KmsKeyId,
}

fn read_request<'r>(
    context: &Context<'_>,
    fields: &Fields<'r, '_>,
    operation: &str,
) -> Result<Request<'r>, ApiError> {
    let encryption_type = fields.string("EncryptionType")?;
    let key_id = fields.string("KeyId")?;
    let mut checks = Checks::new();
    checks.required("encryptionType", &encryption_type);
    checks.one_of("encryptionType", encryption_type, &["NONE", "KMS"]);
    checks.required("keyId", &key_id);
    checks.text("keyId", key_id, None, (1, 2048));
    let stream_ref = read_stream_ref(fields, &mut checks)?;
    checks.finish()?;
    // The stream must exist before its encryption is looked at.
    let stream = stream_ref.resolve(context.engine)?;
    if encryption_type != Some("KMS") {
        return Err(ApiError::invalid_argument(format!(
            "KMS is the only valid EncryptionType for {operation}."
        )));
    }
    let key = KmsKeyId::parse(key_id.unwrap_or_default()).map_err(|InvalidKmsKeyId(key)| {
        ApiError::client(
            "KMSNotFoundException",
            format!(
                "Invalid keyId {key}: a KMS key is named by its key id, key ARN, alias name \
                 (alias/...) or alias ARN."
            ),
        )
    })?;
    Ok(Request {
        stream_ref,
        stream,
        key,
    })
}

/// `StartStreamEncryption`.
pub fn start_stream_encryption(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let request = read_request(context, &fields, "StartStreamEncryption")?;
    request.stream.start_encryption(request.key)?;
    Ok(Reply::empty(request.stream_ref.display()))
}

/// `StopStreamEncryption`. The key must be well-formed, as in a start; it need not be the key
/// recorded.
pub fn stop_stream_encryption(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let request = read_request(context, &fields, "StopStreamEncryption")?;
    request.stream.stop_encryption()?;
    Ok(Reply::empty(request.stream_ref.display()))
}
