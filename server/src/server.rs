//! The HTTP side: accepting connections, reading requests within limits, answering.
//!
//! Every connection speaks HTTP/1.1 or HTTP/2 with prior knowledge (hyper-util's auto builder
//! tells them apart by the preface), because the JavaScript SDK v3 and the KCL use cleartext HTTP/2.
//!
//! Who may talk to the server at all is [`crate::origin_policy`]'s decision (the `Host` and
//! `Origin` checks), made before anything else; with `--credentials`, `/metrics` needs a valid
//! signature as the API does.
//!
//! Limits, so that no client can make the server allocate or wait without bound, and no client
//! that does nothing can keep the server from the others:
//! - at most `connections_max` connections; at the cap the longest-idle connection (idle for at
//!   least a second) gives way to the new one, and while none is idle the new one waits;
//! - a connection with no request in progress and no byte moving for `idle_timeout` is closed
//!   (a fresh connection that never sends, HTTP/1.1 keep-alive, HTTP/2 alike; see
//!   [`crate::connections`]);
//! - request heads of at most [`HEADER_BYTES_MAX`] bytes, received within
//!   `request_read_timeout`, and at most [`H2_STREAMS_MAX`] concurrent streams per HTTP/2
//!   connection;
//! - request bodies of at most `body_bytes_max` (checked on `Content-Length` first, then while
//!   reading), received within `request_read_timeout` and never slower than `body_rate` after
//!   its grace period. A body's bytes are reserved (its `Content-Length`, or `body_bytes_max`
//!   when it declares none) from a budget of [`BODIES_IN_FLIGHT_MAX`] × `body_bytes_max` (1 GiB by
//!   default) until its call is answered, and one connection holds at most
//!   [`BODIES_PER_CONNECTION_MAX`] bodies at once, so a stalled body holds only what it declared,
//!   and one HTTP/2 connection cannot take every body;
//! - response bytes: each call reserves [`RESPONSE_BYTES_MAX`] before it runs and keeps its
//!   response's actual size reserved until the last byte is handed to the socket, within
//!   [`RESPONSE_BYTES_PER_CONNECTION_MAX`] per connection and [`RESPONSE_BYTES_QUEUED_MAX`] in all,
//!   so a client that does not read (an HTTP/2 zero window) queues at most its connection's share;
//! - when the body or response budget runs out, the longest-idle connection holding some of it
//!   gives way, as for connection slots.
//!
//! So request bodies and queued responses take at most 1 GiB + 256 MiB together, whatever the
//! clients do, plus what the protocols buffer per connection before a handler reads it (hyper's
//! HTTP/1.1 buffer of at most [`HEADER_BYTES_MAX`], HTTP/2's 1 MiB flow-control window), 1 GiB more
//! at 1024 connections. What decoding a body costs on top is bounded by the decoder, per call.
//!
//! A request is decoded, authenticated and executed on the blocking pool: decoding a 14 MiB body
//! or hashing it for SigV4 is CPU work, and the library may fsync.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use shardlog::Engine;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::budgets::{ByteBudget, Held};
use crate::config::{HEADER_BYTES_MAX, ServerConfig};
use crate::connections::{
    ActivityIo, Connection, Connections, EVICTION_IDLE_MIN, Holding, Registered,
};
use crate::error::ApiError;
use crate::front_end::{self, error_reply};
use crate::ops::Context;
use crate::origin_policy::{OriginPolicy, Verdict};
use crate::protocol::{Fields, Protocol, TARGET_PREFIX};
use crate::request_body::BodyError;
use crate::response_body::{PushedEvents, ResponseBody};

/// How many of the largest bodies the body budget holds at once.
pub const BODIES_IN_FLIGHT_MAX: usize = 64;
/// Most request bodies one connection holds at once (read or being executed); an HTTP/2
/// connection's further streams wait for its own.
pub const BODIES_PER_CONNECTION_MAX: usize = 8;
/// Most concurrent streams on one HTTP/2 connection.
pub const H2_STREAMS_MAX: u32 = 64;
/// Response bytes a call reserves before it runs: more than the largest response (a GetRecords of
/// 10 MiB of data is about 14 MiB of JSON). A larger one reserves the rest once built.
pub const RESPONSE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most response bytes reserved or queued for one connection.
pub const RESPONSE_BYTES_PER_CONNECTION_MAX: usize = 4 * RESPONSE_BYTES_MAX;
/// Most response bytes reserved or queued in all.
pub const RESPONSE_BYTES_QUEUED_MAX: usize = 16 * RESPONSE_BYTES_MAX;
/// The `Content-Type` of a streamed answer (SubscribeToShard).
const EVENT_STREAM_TYPE: &str = "application/vnd.amazon.eventstream";
/// How often a new connection that waits at the cap looks for one to give way.
const SLOT_RETRY: Duration = Duration::from_millis(100);

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    state: Arc<State>,
}

struct State {
    engine: Arc<Engine>,
    config: ServerConfig,
    origin_policy: OriginPolicy,
    connections: Arc<Connections>,
    /// Request bodies being read or executed.
    body_bytes: ByteBudget,
    /// Responses being built or not yet handed to the socket.
    response_bytes: ByteBudget,
}

/// What a request's handling knows of its connection.
struct ConnectionShare {
    connection: Arc<Connection>,
    /// The address the client reached (the listening address may be unspecified, 0.0.0.0).
    local: SocketAddr,
    /// [`BODIES_PER_CONNECTION_MAX`] permits.
    body_slots: Semaphore,
    /// [`RESPONSE_BYTES_PER_CONNECTION_MAX`].
    response_bytes: ByteBudget,
    /// Turns true when the server begins to shut down (streamed responses end then).
    stopped: watch::Receiver<bool>,
}

/// An HTTP response with its whole body in memory, as the server sends it (an operation's own
/// answer, before encoding, is an `ops::Reply`).
type HttpReply = Response<Bytes>;

impl Server {
    /// Binds the listening socket. When the address is taken, the error names it and `--listen`.
    pub async fn bind(config: ServerConfig, engine: Arc<Engine>) -> io::Result<Server> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|error| cannot_listen(config.listen, error))?;
        let origin_policy =
            OriginPolicy::new(config.allowed_hosts.clone(), config.cors_origins.clone());
        let body_bytes = ByteBudget::shared(
            BODIES_IN_FLIGHT_MAX.saturating_mul(config.body_bytes_max),
            Holding::BodyBytes,
        );
        Ok(Server {
            listener,
            state: Arc::new(State {
                engine,
                config,
                origin_policy,
                connections: Arc::new(Connections::new()),
                body_bytes,
                response_bytes: ByteBudget::shared(
                    RESPONSE_BYTES_QUEUED_MAX,
                    Holding::ResponseBytes,
                ),
            }),
        })
    }

    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish
    /// (for at most the configured grace period) and returns. Live subscriptions do not hold it
    /// up: their event streams end at once, normally. The caller flushes the engine.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let Server { listener, state } = self;
        let builder = http_builder(&state.config);
        let (stop, stopped) = watch::channel(false);
        tokio::pin!(shutdown);
        'accepting: loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a little instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            // At the cap, the longest-idle connection gives way; while none can, this one waits
            // (and the kernel's backlog holds the clients behind it).
            while state.connections.count() >= state.config.connections_max {
                state.connections.evict_longest_idle(Holding::Slot, 1);
                tokio::select! {
                    () = state.connections.changed_or(SLOT_RETRY) => {}
                    () = &mut shutdown => break 'accepting,
                }
            }
            let registered = state.connections.register();
            tokio::spawn(serve_connection(
                Arc::clone(&state),
                builder.clone(),
                stream,
                peer,
                registered,
                stopped.clone(),
            ));
        }
        drop(listener);
        tracing::info!("shutting down: no new connections; finishing requests in flight");
        let _ = stop.send(true);
        let drained = async {
            while state.connections.count() > 0 {
                state.connections.changed_or(SLOT_RETRY).await;
            }
        };
        tokio::select! {
            () = drained => {}
            () = tokio::time::sleep(state.config.shutdown_grace) => {
                tracing::warn!("requests still in flight after the grace period; closing anyway");
            }
        }
        Ok(())
    }
}

/// The error of a listening address that cannot be bound, naming it and the flag that moves it.
fn cannot_listen(address: SocketAddr, error: io::Error) -> io::Error {
    let hint = if error.kind() == io::ErrorKind::AddrInUse {
        "another program (perhaps another shardlog) listens there; stop it, or choose another \
         address with --listen, for example --listen 127.0.0.1:4568"
    } else {
        "choose another address with --listen"
    };
    io::Error::new(
        error.kind(),
        format!("cannot listen on {address}: {error}; {hint}"),
    )
}

/// How every connection speaks HTTP.
fn http_builder(config: &ServerConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.request_read_timeout)
        .max_buf_size(HEADER_BYTES_MAX.max(8192))
        // A client may close its sending side once its request is sent (a chunked body's end
        // is in the framing, not the close): it still gets its answer.
        .half_close(true);
    // No keep-alive pings: they would make an idle connection look active. The idle timeout is
    // what frees the slots of peers that vanished.
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(HEADER_BYTES_MAX as u32)
        .max_concurrent_streams(H2_STREAMS_MAX);
    builder
}

/// Serves one connection until it ends, is idle for the idle timeout, gives way to another, or
/// the server stops.
async fn serve_connection(
    state: Arc<State>,
    builder: auto::Builder<TokioExecutor>,
    stream: TcpStream,
    peer: SocketAddr,
    registered: Registered,
    mut stopped: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let connection = Arc::clone(registered.connection());
    let share = Arc::new(ConnectionShare {
        connection: Arc::clone(&connection),
        local: stream.local_addr().unwrap_or(state.config.listen),
        body_slots: Semaphore::new(BODIES_PER_CONNECTION_MAX),
        response_bytes: ByteBudget::per_connection(RESPONSE_BYTES_PER_CONNECTION_MAX),
        stopped: stopped.clone(),
    });
    let idle_timeout_serving = state.config.idle_timeout;
    let service = service_fn(move |request| {
        let state = Arc::clone(&state);
        let share = Arc::clone(&share);
        async move { Ok::<_, Infallible>(handle(state, share, request).await) }
    });
    let io = TokioIo::new(ActivityIo::new(stream, Arc::clone(&connection)));
    let serving = builder.serve_connection(io, service);
    tokio::pin!(serving);
    let mut stopping = false;
    loop {
        // Once the server stops, requests in progress may finish, but a connection that idles
        // (a stalled body, an unread response, a keep-alive pause) is not waited for.
        let idle_timeout = if stopping {
            EVICTION_IDLE_MIN.min(idle_timeout_serving)
        } else {
            idle_timeout_serving
        };
        let idle_check_in = connection
            .idle_for()
            .map_or(idle_timeout, |idle| idle_timeout.saturating_sub(idle));
        tokio::select! {
            result = serving.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                break;
            }
            () = connection.close_requested() => {
                tracing::debug!(%peer, "connection closed to make room for another");
                break;
            }
            _ = stopped.changed(), if !stopping => {
                stopping = true;
                serving.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep(idle_check_in) => {
                if connection.idle_for().is_some_and(|idle| idle >= idle_timeout) {
                    tracing::debug!(%peer, "idle connection closed");
                    break;
                }
            }
        }
    }
    // Dropping `serving` closes the socket and releases what the connection held; requests still
    // running for it (HTTP/2 runs them in tasks of their own) stop waiting.
    connection.ask_to_close();
    drop(registered);
}

/// Answers one HTTP request.
async fn handle(
    state: Arc<State>,
    share: Arc<ConnectionShare>,
    request: Request<Incoming>,
) -> Response<ResponseBody> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let verdict = state.origin_policy.judge(
        request.headers(),
        request.uri(),
        state.config.listen,
        share.local,
    );
    // Answered by `route` as a preflight, the one answer without `x-amz-id-2`, as in Kinesis.
    let preflight =
        request.method() == Method::OPTIONS && matches!(verdict, Verdict::ServeCrossOrigin(_));
    let answering = async {
        match verdict {
            Verdict::Refuse(message) => {
                tracing::info!(request_id, message, "request refused");
                (
                    refusal(&request, message),
                    RequestLogEntry::default(),
                    Vec::new(),
                )
            }
            Verdict::Serve => route(&state, &share, request, false).await,
            Verdict::ServeCrossOrigin(origin) => {
                let (mut response, log, held) = route(&state, &share, request, true).await;
                crate::origin_policy::add_cors_headers(response.headers_mut(), origin);
                (response, log, held)
            }
        }
    };
    // A request of a connection that is gone (idle, or given way) stops waiting for budgets: no
    // one would read its answer.
    let (mut response, log, held) = tokio::select! {
        biased;
        answered = answering => answered,
        () = share.connection.close_requested() => {
            (plain_status(StatusCode::SERVICE_UNAVAILABLE), RequestLogEntry::default(), Vec::new())
        }
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-RequestId", value);
    }
    if !preflight && let Ok(value) = HeaderValue::from_str(&extended_request_id()) {
        headers.insert("x-amz-id-2", value);
    }
    let status = response.status().as_u16();
    let latency_us = started.elapsed().as_micros() as u64;
    let operation = log.operation.as_deref().unwrap_or("-");
    let stream = log.stream.as_deref().unwrap_or("-");
    match log.error {
        Some(error) if status >= 500 => {
            tracing::error!(request_id, operation, stream, status, latency_us, error)
        }
        Some(error) => {
            tracing::info!(request_id, operation, stream, status, latency_us, error)
        }
        None => tracing::info!(request_id, operation, stream, status, latency_us),
    }
    match response.extensions_mut().remove::<PushedEvents>() {
        Some(events) => {
            let feed = events.take();
            response.map(|body| match feed {
                Some(feed) => ResponseBody::streamed(
                    body,
                    held,
                    feed,
                    Arc::clone(&share.connection),
                    Arc::clone(&state.connections),
                    share.stopped.clone(),
                ),
                None => ResponseBody::new(body, held),
            })
        }
        None => response.map(|body| ResponseBody::new(body, held)),
    }
}

/// An `x-amz-id-2`, the extended request id every Kinesis answer but a preflight carries: 72
/// random bytes in base64, as Kinesis' are 64 to 80.
fn extended_request_id() -> String {
    let random: Vec<u8> = (0..5)
        .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
        .take(72)
        .collect();
    base64::engine::general_purpose::STANDARD.encode(random)
}

/// Dispatches a request the origin policy lets through. `cross_origin` says whether it comes
/// from an allowed page of another origin (whose preflights are answered).
async fn route(
    state: &Arc<State>,
    share: &Arc<ConnectionShare>,
    request: Request<Incoming>,
    cross_origin: bool,
) -> (HttpReply, RequestLogEntry, Vec<Held>) {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/health") => (
            plain(StatusCode::OK, "text/plain", Bytes::from_static(b"ok\n")),
            RequestLogEntry::default(),
            Vec::new(),
        ),
        (&Method::GET, "/metrics") => metrics(state, share, &request).await,
        (&Method::GET, path)
            if let Some(page) =
                crate::console::answer(path, request.headers(), state.engine.region()) =>
        {
            (page, RequestLogEntry::default(), Vec::new())
        }
        // Every OPTIONS of an allowed page is a preflight, as Kinesis answers any OPTIONS with
        // an Origin.
        (&Method::OPTIONS, _) if cross_origin => {
            let mut response = plain_status(StatusCode::OK);
            crate::origin_policy::add_preflight_headers(response.headers_mut(), request.headers());
            (response, RequestLogEntry::default(), Vec::new())
        }
        (&Method::POST, _) => api(state, share, request).await,
        _ => {
            let refusal = front_end::refuse_undeclared(&clone_head(&request).into_parts().0);
            let log = RequestLogEntry {
                error: Some(refusal.kind()),
                ..RequestLogEntry::default()
            };
            (refusal.into_reply(), log, Vec::new())
        }
    }
}

/// A request the origin policy refuses: a Kinesis error for an API call, text for anything else.
fn refusal(request: &Request<Incoming>, message: String) -> HttpReply {
    let protocol = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(Protocol::from_content_type);
    match protocol {
        Some(protocol) => error_reply(
            protocol,
            &ApiError {
                status: StatusCode::FORBIDDEN,
                ..ApiError::client("AccessDeniedException", message)
            },
        ),
        None => plain(
            StatusCode::FORBIDDEN,
            "text/plain; charset=utf-8",
            Bytes::from(message + "\n"),
        ),
    }
}

/// `GET /metrics`: the engine's metrics and the server's own gauges. With `--credentials` it
/// needs a valid signature, as every API call does.
async fn metrics(
    state: &Arc<State>,
    share: &Arc<ConnectionShare>,
    request: &Request<Incoming>,
) -> (HttpReply, RequestLogEntry, Vec<Held>) {
    if state.config.credentials.verifies() {
        let (parts, ()) = clone_head(request).into_parts();
        let region = state.engine.region();
        if let Err(error) = state
            .config
            .credentials
            .check(&parts, &[], region, unix_secs())
        {
            let log = RequestLogEntry {
                error: Some(error.kind),
                ..RequestLogEntry::default()
            };
            return (error_reply(Protocol::Json, &error), log, Vec::new());
        }
    }
    // Read before this answer reserves its own bytes, which are no client's queue.
    let gauges = server_gauges(state);
    let mut held = reserve_response(state, share).await;
    let engine = Arc::clone(&state.engine);
    let busy = share.connection.busy(&state.connections);
    // Snapshots walk every stream: off the reactor, like every engine call.
    let mut text = tokio::task::spawn_blocking(move || crate::metrics::render(&engine))
        .await
        .unwrap_or_default();
    drop(busy);
    text.push_str(&gauges);
    fit_response(state, share, &mut held, text.len()).await;
    let reply = plain(
        StatusCode::OK,
        "text/plain; version=0.0.4",
        Bytes::from(text),
    );
    (reply, RequestLogEntry::default(), held)
}

/// The request's method, URI and headers, without its body.
fn clone_head(request: &Request<Incoming>) -> Request<()> {
    let mut head = Request::new(());
    *head.method_mut() = request.method().clone();
    *head.uri_mut() = request.uri().clone();
    *head.version_mut() = request.version();
    *head.headers_mut() = request.headers().clone();
    head
}

/// The server's own gauges, in the Prometheus text format.
fn server_gauges(state: &State) -> String {
    let gauges = [
        (
            "shardlog_server_connections",
            "Connections being served.",
            state.connections.count(),
        ),
        (
            "shardlog_server_request_body_bytes_reserved",
            "Request-body bytes reserved by requests being read or executed.",
            state.body_bytes.held_bytes(),
        ),
        (
            "shardlog_server_response_bytes_reserved",
            "Response bytes reserved by calls running or queued for clients to read.",
            state.response_bytes.held_bytes(),
        ),
    ];
    let mut text = String::new();
    for (name, help, value) in gauges {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    }
    text
}

/// Reserves [`RESPONSE_BYTES_MAX`] for a response about to be built: from the connection's own
/// share first (waiting there is waiting for this client to read, so the connection stays idle
/// and can be closed meanwhile), then from the server's (waiting there is the server's doing).
async fn reserve_response(state: &Arc<State>, share: &ConnectionShare) -> Vec<Held> {
    let own = share
        .response_bytes
        .reserve(RESPONSE_BYTES_MAX, &share.connection, &state.connections)
        .await;
    let _busy = share.connection.busy(&state.connections);
    let shared = state
        .response_bytes
        .reserve(RESPONSE_BYTES_MAX, &share.connection, &state.connections)
        .await;
    vec![own, shared]
}

/// Keeps exactly `bytes` reserved for a built response: it gives back the rest, or (for a
/// response larger than foreseen) reserves the difference.
async fn fit_response(state: &State, share: &ConnectionShare, held: &mut [Held], bytes: usize) {
    if let [own, shared] = held {
        if bytes > own.bytes() {
            let more = bytes - own.bytes();
            share
                .response_bytes
                .grow(own, more, &state.connections)
                .await;
            state
                .response_bytes
                .grow(shared, more, &state.connections)
                .await;
        }
        own.shrink_to(bytes);
        shared.shrink_to(bytes);
    }
}

/// What the request log (not a shard's log) says about an API call.
#[derive(Default)]
struct RequestLogEntry {
    /// The operation asked for (served or not).
    operation: Option<String>,
    stream: Option<String>,
    error: Option<&'static str>,
}

/// A Kinesis API call.
async fn api(
    state: &Arc<State>,
    share: &Arc<ConnectionShare>,
    request: Request<Incoming>,
) -> (HttpReply, RequestLogEntry, Vec<Held>) {
    let body_bytes_max = state.config.body_bytes_max;
    let declared_bytes = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_bytes.is_some_and(|bytes| bytes > body_bytes_max as u64) {
        return (too_large(), RequestLogEntry::default(), Vec::new());
    }
    let declared_bytes = declared_bytes.map(|bytes| bytes as usize);
    // Waiting for a slot of this connection's is waiting for the client's own other requests.
    let Ok(_slot) = share.body_slots.acquire().await else {
        let reply = plain_status(StatusCode::SERVICE_UNAVAILABLE);
        return (reply, RequestLogEntry::default(), Vec::new());
    };
    let body_held = {
        let _busy = share.connection.busy(&state.connections);
        state
            .body_bytes
            .reserve(
                declared_bytes.unwrap_or(body_bytes_max),
                &share.connection,
                &state.connections,
            )
            .await
    };
    let (parts, body) = request.into_parts();
    let read = crate::request_body::read(
        body,
        declared_bytes,
        body_bytes_max,
        state.config.request_read_timeout,
        state.config.body_rate,
    )
    .await;
    let body = match read {
        Ok(body) => body,
        Err(BodyError::TooSlow) => {
            let reply = plain_status(StatusCode::REQUEST_TIMEOUT);
            return (reply, RequestLogEntry::default(), Vec::new());
        }
        Err(BodyError::TooLarge) => return (too_large(), RequestLogEntry::default(), Vec::new()),
        Err(BodyError::Broken) => {
            let reply = plain_status(StatusCode::BAD_REQUEST);
            return (reply, RequestLogEntry::default(), Vec::new());
        }
    };
    let mut held = reserve_response(state, share).await;
    let busy = share.connection.busy(&state.connections);
    let executing = Arc::clone(state);
    let outcome = tokio::task::spawn_blocking(move || execute(&executing, &parts, &body)).await;
    drop(busy);
    drop(body_held);
    let (reply, log) = match outcome {
        Ok(reply) => reply,
        Err(error) => {
            tracing::error!(%error, "request handler failed");
            let error = ApiError::internal();
            (
                error_reply(Protocol::Json, &error),
                RequestLogEntry {
                    error: Some(error.kind),
                    ..RequestLogEntry::default()
                },
            )
        }
    };
    let reserved = if reply.extensions().get::<PushedEvents>().is_some() {
        crate::ops::EVENT_STREAM_BYTES_HELD
    } else {
        reply.body().len()
    };
    fit_response(state, share, &mut held, reserved).await;
    (reply, log, held)
}

/// Runs a call through the front end's checks ([`crate::front_end`]: body, content type, body
/// syntax, operation), the signature, then the operation's own validation and the operation.
fn execute(
    state: &State,
    parts: &http::request::Parts,
    body: &[u8],
) -> (HttpReply, RequestLogEntry) {
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let asked = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
    let mut log = RequestLogEntry {
        operation: (!asked.is_empty()).then(|| asked.to_owned()),
        ..RequestLogEntry::default()
    };
    let call = match front_end::admit(parts, body) {
        Ok(call) => call,
        Err(refusal) => {
            log.error = Some(refusal.kind());
            return (refusal.into_reply(), log);
        }
    };
    let protocol = call.protocol;
    let result = (|| {
        let region = state.engine.region();
        state
            .config
            .credentials
            .check(parts, body, region, unix_secs())?;
        let fields = Fields::new(&call.tree, protocol);
        log.stream = stream_named(&fields);
        let context = Context {
            engine: &state.engine,
            protocol,
            default_max_record_size_kib: state.config.default_max_record_size_kib,
        };
        call.operation.run(&context, fields)
    })();
    match result {
        Ok(reply) => {
            log.stream = reply.stream.or(log.stream);
            let Some(feed) = reply.events else {
                let body = Bytes::from(reply.body);
                return (plain(StatusCode::OK, protocol.content_type(), body), log);
            };
            let mut response = plain(StatusCode::OK, EVENT_STREAM_TYPE, Bytes::from(reply.body));
            response.extensions_mut().insert(PushedEvents::new(feed));
            (response, log)
        }
        Err(error) => {
            log.error = Some(error.kind);
            (error_reply(protocol, &error), log)
        }
    }
}

/// The stream a request names, for the log (whether or not the request then succeeds).
fn stream_named(fields: &Fields<'_, '_>) -> Option<String> {
    if let Ok(Some(name)) = fields.string("StreamName") {
        return Some(name.to_owned());
    }
    ["StreamARN", "ResourceARN"].iter().find_map(|field| {
        let arn = fields.string(field).ok().flatten()?;
        crate::protocol::fields::parse_stream_arn(arn).map(|(_, _, name)| name.to_owned())
    })
}

fn unix_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

fn plain(status: StatusCode, content_type: &'static str, body: Bytes) -> HttpReply {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn plain_status(status: StatusCode) -> HttpReply {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}

fn too_large() -> HttpReply {
    let mut response = plain_status(StatusCode::PAYLOAD_TOO_LARGE);
    // The unread rest of the body makes the connection unusable for another request.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
