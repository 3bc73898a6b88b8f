//! The HTTP side: accepting connections, reading requests within limits, answering.
//!
//! Every connection speaks HTTP/1.1 or HTTP/2 with prior knowledge (hyper-util's auto builder
//! tells them apart by the preface), because the JavaScript SDK v3 and the KCL use cleartext HTTP/2.
//!
//! Limits, so that no client can make the server allocate or wait without bound:
//! - at most `connections_max` connections; beyond it the server stops accepting (the kernel's
//!   backlog holds the rest) rather than failing;
//! - at most [`REQUESTS_IN_FLIGHT_MAX`] request bodies held at once, each at most `body_bytes_max`
//!   (checked on `Content-Length` first, then while reading), so bodies in memory stay under
//!   about 1 GiB;
//! - request heads of at most [`HEADER_BYTES_MAX`] bytes, and at most [`H2_STREAMS_MAX`]
//!   concurrent streams per HTTP/2 connection;
//! - `request_read_timeout` to receive a head, and again to receive a body.
//!
//! A request is decoded, authenticated and executed on the blocking pool: decoding a 14 MiB body
//! or hashing it for SigV4 is CPU work, and the library may fsync.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use shardlog::Engine;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::{HEADER_BYTES_MAX, ServerConfig};
use crate::error::ApiError;
use crate::ops::{Context, Operation};
use crate::protocol::{Fields, Protocol, TARGET_PREFIX};

/// Most request bodies read or processed at once, over all connections.
pub const REQUESTS_IN_FLIGHT_MAX: usize = 64;
/// Most concurrent streams on one HTTP/2 connection.
pub const H2_STREAMS_MAX: u32 = 64;

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    state: Arc<State>,
}

struct State {
    engine: Arc<Engine>,
    config: ServerConfig,
    requests_in_flight: Semaphore,
}

type Reply = Response<Full<Bytes>>;

impl Server {
    /// Binds the listening socket.
    pub async fn bind(config: ServerConfig, engine: Arc<Engine>) -> io::Result<Server> {
        let listener = TcpListener::bind(config.listen).await?;
        Ok(Server {
            listener,
            state: Arc::new(State {
                engine,
                config,
                requests_in_flight: Semaphore::new(REQUESTS_IN_FLIGHT_MAX),
            }),
        })
    }

    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish
    /// (for at most the configured grace period) and returns. The caller flushes the engine.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let Server { listener, state } = self;
        let connections = Arc::new(Semaphore::new(state.config.connections_max));
        let graceful = GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(state.config.request_read_timeout)
            .max_buf_size(HEADER_BYTES_MAX.max(8192));
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(HEADER_BYTES_MAX as u32)
            .max_concurrent_streams(H2_STREAMS_MAX)
            // Pings find peers that vanished without closing, so their slots are freed.
            .keep_alive_interval(std::time::Duration::from_secs(30))
            .keep_alive_timeout(std::time::Duration::from_secs(20));
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                permit = Arc::clone(&connections).acquire_owned() => permit,
                () = &mut shutdown => break,
            };
            let Ok(permit) = permit else { break };
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a little instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let state = Arc::clone(&state);
            let service = service_fn(move |request| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(handle(state, request).await) }
            });
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                drop(permit);
            });
        }
        drop(listener);
        tracing::info!("shutting down: no new connections; finishing requests in flight");
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(state.config.shutdown_grace) => {
                tracing::warn!("requests still in flight after the grace period; closing anyway");
            }
        }
        Ok(())
    }
}

/// Answers one HTTP request.
async fn handle(state: Arc<State>, request: Request<Incoming>) -> Reply {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let origin = request.headers().contains_key(header::ORIGIN);
    let (mut response, log) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/health") => (
            plain(StatusCode::OK, "text/plain", Bytes::from_static(b"ok\n")),
            Log::default(),
        ),
        (&Method::GET, "/metrics") => {
            let engine = Arc::clone(&state.engine);
            // Snapshots walk every stream: off the reactor, like every engine call.
            let text = tokio::task::spawn_blocking(move || crate::metrics::render(&engine))
                .await
                .unwrap_or_default();
            (
                plain(
                    StatusCode::OK,
                    "text/plain; version=0.0.4",
                    Bytes::from(text),
                ),
                Log::default(),
            )
        }
        (&Method::GET, path)
            if let Some(page) = crate::console::answer(path, request.headers()) =>
        {
            (page, Log::default())
        }
        (&Method::OPTIONS, _) => (preflight(&request), Log::default()),
        (&Method::POST, _) => api(&state, request).await,
        _ => (access_denied(), Log::default()),
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-RequestId", value);
    }
    if origin {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(
                "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,\
                 x-amzn-ErrorMessage,Date",
            ),
        );
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
    response
}

/// What the request log says about an API call.
#[derive(Default)]
struct Log {
    /// The operation asked for (served or not).
    operation: Option<String>,
    stream: Option<String>,
    error: Option<&'static str>,
}

/// A Kinesis API call.
async fn api(state: &Arc<State>, request: Request<Incoming>) -> (Reply, Log) {
    let body_bytes_max = state.config.body_bytes_max;
    let declared_bytes = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_bytes.is_some_and(|bytes| bytes > body_bytes_max as u64) {
        return (too_large(), Log::default());
    }
    // Bounds the bodies held in memory; waiting here is fair queueing, not failure.
    let Ok(_in_flight) = state.requests_in_flight.acquire().await else {
        return (
            plain_status(StatusCode::SERVICE_UNAVAILABLE),
            Log::default(),
        );
    };
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(
        state.config.request_read_timeout,
        Limited::new(body, body_bytes_max).collect(),
    )
    .await;
    let body = match read {
        Err(_elapsed) => return (plain_status(StatusCode::REQUEST_TIMEOUT), Log::default()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            return (too_large(), Log::default());
        }
        Ok(Err(_)) => return (plain_status(StatusCode::BAD_REQUEST), Log::default()),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let state = Arc::clone(state);
    let outcome = tokio::task::spawn_blocking(move || execute(&state, &parts, &body)).await;
    match outcome {
        Ok(reply) => reply,
        Err(error) => {
            tracing::error!(%error, "request handler failed");
            let error = ApiError::internal();
            (
                error_reply(Protocol::Json, &error),
                Log {
                    error: Some(error.kind),
                    ..Log::default()
                },
            )
        }
    }
}

/// Authenticates, decodes and runs a call: content type and target, operation, signature (over
/// the raw body, so that an unsigned or forged request costs no decoding), body syntax, then the
/// operation's own validation.
fn execute(state: &State, parts: &http::request::Parts, body: &[u8]) -> (Reply, Log) {
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let protocol = Protocol::from_content_type(content_type);
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let operation = target
        .strip_prefix(TARGET_PREFIX)
        .and_then(Operation::from_name);
    let asked = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
    let mut log = Log {
        operation: (!asked.is_empty()).then(|| asked.to_owned()),
        ..Log::default()
    };
    let Some(protocol) = protocol else {
        // Neither JSON nor CBOR: the front end answers in XML, as it cannot know the encoding.
        let reply = if target.split_once('.').is_none() {
            access_denied()
        } else {
            plain(
                StatusCode::NOT_FOUND,
                "application/xml",
                Bytes::from_static(b"<UnknownOperationException/>\n"),
            )
        };
        return (reply, log);
    };
    let result = (|| {
        let operation = operation.ok_or_else(|| ApiError::unknown_operation(target))?;
        let region = state.engine.region();
        state
            .config
            .credentials
            .check(parts, body, region, unix_secs())?;
        let tree = protocol.decode(body)?;
        let fields = Fields::new(&tree, protocol);
        log.stream = stream_named(&fields);
        let context = Context {
            engine: &state.engine,
            protocol,
            default_max_record_size_kib: state.config.default_max_record_size_kib,
        };
        operation.run(&context, fields)
    })();
    match result {
        Ok(reply) => {
            log.stream = reply.stream.or(log.stream);
            let response = plain(
                StatusCode::OK,
                protocol.content_type(),
                Bytes::from(reply.body),
            );
            (response, log)
        }
        Err(error) => {
            log.error = Some(error.kind);
            (error_reply(protocol, &error), log)
        }
    }
}

/// The front end's XML answer to a request it cannot tie to an operation (no JSON or CBOR body
/// type and no target, or not a POST at all).
fn access_denied() -> Reply {
    plain(
        StatusCode::FORBIDDEN,
        "application/xml",
        Bytes::from_static(
            b"<AccessDeniedException>\n  <Message>Unable to determine service/operation name to \
              be authorized</Message>\n</AccessDeniedException>\n",
        ),
    )
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

fn error_reply(protocol: Protocol, error: &ApiError) -> Reply {
    let mut response = plain(
        error.status,
        protocol.content_type(),
        Bytes::from(protocol.error_body(error)),
    );
    if let Ok(value) = HeaderValue::from_str(error.kind) {
        response.headers_mut().insert("x-amzn-ErrorType", value);
    }
    response
}

fn plain(status: StatusCode, content_type: &'static str, body: Bytes) -> Reply {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn plain_status(status: StatusCode) -> Reply {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

fn too_large() -> Reply {
    let mut response = plain_status(StatusCode::PAYLOAD_TOO_LARGE);
    // The unread rest of the body makes the connection unusable for another request.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A CORS preflight: allow what is asked, for two days (as kinesalite answers).
fn preflight(request: &Request<Incoming>) -> Reply {
    let mut response = plain_status(StatusCode::OK);
    let headers = response.headers_mut();
    for (asked, allowed) in [
        (
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
        ),
        (
            header::ACCESS_CONTROL_REQUEST_METHOD,
            header::ACCESS_CONTROL_ALLOW_METHODS,
        ),
    ] {
        if let Some(value) = request.headers().get(asked) {
            headers.insert(allowed, value.clone());
        }
    }
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("172800"),
    );
    response
}
