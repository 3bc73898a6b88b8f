//! What the server is told on the command line, with the defaults of `shardlog serve`.

use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::Credentials;

/// Largest request body accepted. The largest legal request is a PutRecords of 10 MiB of data and
/// partition keys, which base64 (4/3) and JSON framing of 500 entries bring to about 13.5 MiB.
pub const BODY_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Largest request head (request line and headers) accepted over HTTP/1.1 and HTTP/2.
pub const HEADER_BYTES_MAX: usize = 64 * 1024;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Signature checking.
    pub credentials: Credentials,
    /// `MaxRecordSizeInKiB` for streams created without one (the Kinesis default is 1024).
    pub default_max_record_size_kib: Option<u32>,
    /// Most connections served at once; further clients wait in the accept backlog.
    pub connections_max: usize,
    /// Time allowed to receive a request's head, and then its body.
    pub request_read_timeout: Duration,
    /// Time in-flight requests get to finish at shutdown.
    pub shutdown_grace: Duration,
    /// Largest request body.
    pub body_bytes_max: usize,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 4567)),
            credentials: Credentials::default(),
            default_max_record_size_kib: None,
            connections_max: 1024,
            request_read_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            body_bytes_max: BODY_BYTES_MAX,
        }
    }
}
