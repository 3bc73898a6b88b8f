//! What the server is told on the command line, with the defaults of `shardlog serve`.

use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::Credentials;
use crate::request_body::BodyRate;

/// Largest request body accepted. The largest legal request is a PutRecords of 10 MiB of data and
/// partition keys, which base64 (4/3) and JSON framing of 500 entries bring to about 13.5 MiB.
pub const BODY_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Largest request head (request line and headers) accepted over HTTP/1.1 and HTTP/2.
pub const HEADER_BYTES_MAX: usize = 64 * 1024;

/// Most threads in the blocking pool, where every API call runs (`--blocking-threads`).
///
/// Why 8: each call is one is either CPU work (decoding, SigV4 hashing, copying records into
/// a log), which cannot go faster than the cores allow, or a wait for fsync, which group commit
/// shares: one fsync serves every put waiting on it, so more threads waiting for it add nothing. A
/// handful more threads than a small machine has cores keep the cores busy while some calls wait
/// on the disk; past that, calls queue for a thread (in order, within the in-flight bound) instead
/// of each holding a thread and its stack. tokio's default (512) would let 64 calls hold 64 threads.
///
/// The whole server then runs at most 1 (main) + one tokio worker per core + this many + 1 (the
/// engine's maintenance thread) + the shard logs' shared background threads (at most one per core,
/// however many shards): 14 threads on 2 cores. None of it grows with shards or connections.
/// Blocking threads start on demand and end after 10 s idle, so an idle server holds fewer.
pub const BLOCKING_THREADS_DEFAULT: usize = 8;

/// How long a connection may be idle before it is closed (`--idle-timeout-secs`).
///
/// Longer than the idle timeouts of the SDKs' connection pools (the Rust SDK keeps a connection
/// 90 s, the Java SDK 60 s), so a client's pool drops a connection before the server does and
/// rarely sends a request on one the server is closing.
pub const IDLE_TIMEOUT_DEFAULT: Duration = Duration::from_secs(120);

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Signature checking.
    pub credentials: Credentials,
    /// `MaxRecordSizeInKiB` for streams created without one (the Kinesis default is 1024).
    pub default_max_record_size_kib: Option<u32>,
    /// Most connections served at once; at the cap the longest-idle one gives way to a new one,
    /// and while none is idle, further clients wait in the accept backlog.
    pub connections_max: usize,
    /// Time a connection may go with no request in progress and no byte moving before it is
    /// closed.
    pub idle_timeout: Duration,
    /// Time allowed to receive a request's head, and then its body.
    pub request_read_timeout: Duration,
    /// The slowest a request body may arrive.
    pub body_rate: BodyRate,
    /// Host names accepted besides loopback and the listening address (`--allow-host`; `*` for
    /// any).
    pub allowed_hosts: Vec<String>,
    /// Origins of web pages allowed to call the server cross-origin (`--cors-origin`; `*` for
    /// any).
    pub cors_origins: Vec<String>,
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
            idle_timeout: IDLE_TIMEOUT_DEFAULT,
            request_read_timeout: Duration::from_secs(30),
            body_rate: BodyRate {
                bytes_per_sec_min: 1024,
                grace: Duration::from_secs(5),
            },
            allowed_hosts: Vec::new(),
            cors_origins: Vec::new(),
            shutdown_grace: Duration::from_secs(10),
            body_bytes_max: BODY_BYTES_MAX,
        }
    }
}
