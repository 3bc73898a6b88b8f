//! What the integration tests share: a server on an ephemeral loopback port, an AWS SDK client
//! pointed at it, and raw HTTP/1.1 and HTTP/2 requests. Every wait is bounded.

#![allow(dead_code)] // each test file uses a different part of this

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use shardlog::engine::{Engine, EngineOptions};
use shardlog_server::{Server, ServerConfig};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The longest any test step may take before the test fails.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// A syntactically complete SigV4 header; accepted when the server verifies nothing.
pub const WELL_FORMED_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, \
    SignedHeaders=host;x-amz-date, Signature=0123456789abcdef";

/// Runs `future`, failing the test if it takes longer than [`STEP_TIMEOUT`].
pub async fn bounded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP_TIMEOUT, future)
        .await
        .expect("test step timed out")
}

/// A server running on 127.0.0.1 on an ephemeral port, with its engine.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its engine.
    pub engine: Arc<Engine>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Starts a server over the data directory `dir`.
    pub async fn start(dir: &Path, config: ServerConfig) -> TestServer {
        TestServer::start_with(dir, config, EngineOptions::default()).await
    }

    /// Starts a server over the data directory `dir`, with an engine opened with `options`.
    pub async fn start_with(
        dir: &Path,
        config: ServerConfig,
        options: EngineOptions,
    ) -> TestServer {
        let engine = Arc::new(Engine::open(dir, options).expect("engine opens"));
        let config = ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..config
        };
        let server = Server::bind(config, Arc::clone(&engine))
            .await
            .expect("server binds");
        let addr = server.local_addr().expect("bound address");
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = signal.await;
        }));
        TestServer {
            addr,
            engine,
            shutdown,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts the server down gracefully and flushes the engine.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        bounded(self.task)
            .await
            .expect("server task joins")
            .expect("server ran cleanly");
        self.engine.sync().expect("engine flushes");
    }

    /// Shuts the server down gracefully without flushing the engine (whose disk may be full).
    pub async fn stop_without_flush(self) {
        let _ = self.shutdown.send(());
        bounded(self.task)
            .await
            .expect("server task joins")
            .expect("server ran cleanly");
    }
}

/// An AWS SDK client for the server, signing with these credentials. Retries are off, so a test
/// sees every error the server sends (the SDK would otherwise retry throttling with backoff).
pub fn sdk_client(endpoint: &str, access_key: &str, secret: &str) -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            access_key, secret, None, None, "test",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}

/// Keeps an AWS tool run as a child process (the CLI, boto3) from reading the user's AWS
/// configuration or the instance metadata service, and from retrying: `scratch` is a directory
/// for the (absent) config files.
pub fn isolate_aws_tool(command: &mut std::process::Command, scratch: &Path) {
    command
        .env("AWS_CONFIG_FILE", scratch.join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            scratch.join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1");
}

/// Whether boto3 can be imported, for a test that drives it. In CI, where `.ci/run` installs it,
/// its absence fails the test; elsewhere the test is skipped, saying so under `test`'s name.
pub fn boto3_or_skip(test: &str) -> bool {
    let installed = std::process::Command::new("python3")
        .args(["-c", "import boto3"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "boto3 must be installed in CI (see .ci/run)"
        );
        eprintln!("SKIPPED {test}: boto3 is not installed");
    }
    installed
}

/// An answer to a raw request.
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// A Kinesis call as raw JSON over HTTP/1.1, with a well-formed (unverified) signature.
pub async fn call_json(addr: SocketAddr, operation: &str, body: &str) -> Answer {
    let request = Request::post("/")
        .header("host", addr.to_string())
        .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-date", "20150830T123600Z")
        .header("authorization", WELL_FORMED_AUTHORIZATION)
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("request builds");
    send_http1(addr, request).await
}

/// Sends one request over a new HTTP/1.1 connection.
pub async fn send_http1(addr: SocketAddr, request: Request<Full<Bytes>>) -> Answer {
    bounded(async {
        let stream = TcpStream::connect(addr).await.expect("connects");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(connection);
        let response = sender.send_request(request).await.expect("response");
        collect(response).await
    })
    .await
}

/// Sends requests over one new HTTP/2 connection (prior knowledge, no upgrade).
pub async fn send_http2(addr: SocketAddr, requests: Vec<Request<Full<Bytes>>>) -> Vec<Answer> {
    bounded(async {
        let stream = TcpStream::connect(addr).await.expect("connects");
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .expect("HTTP/2 handshake");
        tokio::spawn(connection);
        let mut answers = Vec::new();
        for request in requests {
            let response = sender.send_request(request).await.expect("response");
            answers.push(collect(response).await);
        }
        answers
    })
    .await
}

async fn collect(response: http::Response<hyper::body::Incoming>) -> Answer {
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.expect("body").to_bytes(),
    }
}

/// The `shardlog` binary, started as `shardlog serve` on an ephemeral loopback port.
pub struct ServeProcess {
    /// The child process.
    pub child: std::process::Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its log, read until the listening line.
    pub log_head: String,
    /// The lines logged after the listening line, as they come (read in the background, so the
    /// child never blocks on a full pipe).
    log_rest: std::sync::mpsc::Receiver<String>,
}

impl ServeProcess {
    /// Starts `shardlog serve --data-dir <dir> --listen 127.0.0.1:0 <extra>` and waits (bounded)
    /// for the line announcing the address.
    pub fn start(dir: &Path, extra: &[&str]) -> ServeProcess {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shardlog"))
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0", "--log-level", "info"])
            .args(extra)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("shardlog starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (lines_sender, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                // Once nobody listens, keep draining so the child never blocks on a pipe.
                let _ = lines_sender.send(line);
            }
        });
        let mut log_head = String::new();
        let deadline = std::time::Instant::now() + STEP_TIMEOUT;
        let addr = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = lines.recv_timeout(left).unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("shardlog did not announce its address; log so far:\n{log_head}")
            });
            log_head.push_str(&line);
            log_head.push('\n');
            if let Some(rest) = line.split("address=").nth(1) {
                let text = rest.split_whitespace().next().unwrap_or_default();
                break text.parse().expect("address parses");
            }
        };
        ServeProcess {
            child,
            addr,
            log_head,
            log_rest: lines,
        }
    }

    /// The first line logged from now on that satisfies `wanted`, waiting for it (bounded).
    pub fn wait_for_log_line(&self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + STEP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.log_rest.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(_) => {}
                Err(_) => panic!("shardlog logged no such line in time"),
            }
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends SIGTERM and waits (bounded) for a clean exit.
    pub fn terminate(self) {
        self.terminate_timed();
    }

    /// Sends SIGTERM, waits (bounded) for a clean exit, and returns how long the exit took.
    pub fn terminate_timed(mut self) -> Duration {
        let signalled = std::time::Instant::now();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = std::time::Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                assert!(status.success(), "shardlog exited with {status}");
                return signalled.elapsed();
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("shardlog did not stop after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        // A test that failed midway must not leave a server running.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How a test request is signed by `aws-sigv4`, a signer independent of the server's.
pub struct Signing<'a> {
    /// The access key id.
    pub key: &'a str,
    /// The secret access key.
    pub secret: &'a str,
    /// The region of the credential scope.
    pub region: &'a str,
    /// The service of the credential scope.
    pub service: &'a str,
    /// The signing time (`X-Amz-Date`).
    pub time: std::time::SystemTime,
    /// `Some(validity)`: a presigned request (the signature in the query string).
    pub presigned_for: Option<Duration>,
}

impl Signing<'_> {
    /// Correct signing for `kinesis` in `us-east-1`, now.
    pub fn kinesis<'a>(key: &'a str, secret: &'a str) -> Signing<'a> {
        Signing {
            key,
            secret,
            region: "us-east-1",
            service: "kinesis",
            time: std::time::SystemTime::now(),
            presigned_for: None,
        }
    }

    /// An HTTP/2 JSON request for `operation`, signed over `signed_body`, then carrying `body`
    /// (which a test may make differ).
    pub fn request(
        &self,
        addr: SocketAddr,
        operation: &str,
        signed_body: &str,
        body: &str,
    ) -> Request<Full<Bytes>> {
        use aws_sigv4::http_request::{
            SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
        };
        let mut request = Request::post(format!("http://{addr}/"))
            .version(http::Version::HTTP_2)
            .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
            .header("content-type", "application/x-amz-json-1.1")
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("request builds");
        let mut settings = SigningSettings::default();
        if let Some(validity) = self.presigned_for {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(validity);
        }
        let identity =
            aws_credential_types::Credentials::new(self.key, self.secret, None, None, "test")
                .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .expect("signing parameters")
            .into();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = value.to_str().expect("text header").to_owned();
                (name.to_string(), value)
            })
            .collect();
        let signable = SignableRequest::new(
            "POST",
            request.uri().to_string(),
            headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
            SignableBody::Bytes(signed_body.as_bytes()),
        )
        .expect("signable request");
        let (instructions, _signature) =
            sign(signable, &params).expect("signing works").into_parts();
        instructions.apply_to_request_http1x(&mut request);
        request
    }
}

/// The AWS SDK for JavaScript v3 the tests run (pinned, so that a new release cannot change them).
pub const JAVASCRIPT_SDK_PACKAGE: &str = "@aws-sdk/client-kinesis@3.1143.0";

/// Runs `command` to completion within `limit`; its standard output, or a panic with its log.
pub fn run_bounded(mut command: std::process::Command, limit: Duration) -> String {
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{command:?} does not start: {error}"));
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().expect("waiting works").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output is collected");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The `node_modules` holding [`JAVASCRIPT_SDK_PACKAGE`], installed with npm into a cache under
/// `target/` on first use (Node.js and npm must be installed: `.ci/run` installs them). Tests that
/// run at once (threads of one test binary, or processes under nextest) take turns through a lock
/// file: two npm installs into one directory leave it broken.
pub fn installed_javascript_sdk() -> std::path::PathBuf {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("javascript-sdk");
    std::fs::create_dir_all(&cache).expect("the cache directory");
    let lock = std::fs::File::create(cache.join("install.lock")).expect("the install lock file");
    lock.lock().expect("taking the install lock");
    let modules = cache.join("node_modules");
    let version = JAVASCRIPT_SDK_PACKAGE
        .rsplit('@')
        .next()
        .expect("a pinned version");
    let manifest = modules.join("@aws-sdk/client-kinesis/package.json");
    let present = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|package| package["version"] == version);
    if !present {
        let mut npm = std::process::Command::new("npm");
        npm.args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--prefix",
        ])
        .arg(&cache)
        .arg(JAVASCRIPT_SDK_PACKAGE);
        run_bounded(npm, Duration::from_secs(300));
    }
    drop(lock);
    modules
}

/// `node tests/javascript/<script> <args>`, finding the SDK in `modules` and kept from any AWS
/// configuration of the developer's (`scratch` is a directory for the absent config files).
pub fn node_script(
    script: &str,
    args: &[&str],
    modules: &Path,
    scratch: &Path,
) -> std::process::Command {
    let mut node = std::process::Command::new("node");
    node.arg(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/javascript")
            .join(script),
    )
    .args(args)
    .env("NODE_PATH", modules);
    isolate_aws_tool(&mut node, scratch);
    node
}

/// The messages of an event-stream response body (SubscribeToShard), decoded as they arrive with
/// the server's decoder (`protocol::event_stream`, the one the fuzz targets exercise).
pub struct EventMessages {
    body: hyper::body::Incoming,
    buffered: Vec<u8>,
}

impl EventMessages {
    /// Reads the messages of `body`.
    pub fn new(body: hyper::body::Incoming) -> EventMessages {
        EventMessages {
            body,
            buffered: Vec::new(),
        }
    }

    /// The next message, or `None` when the body ends after a whole message. Bytes that are not
    /// a message, or a body that ends within one, fail the test.
    pub async fn next(&mut self) -> Option<shardlog_server::protocol::event_stream::Message> {
        use shardlog_server::protocol::event_stream::{DecodeError, decode};
        loop {
            match decode(&self.buffered) {
                Ok((message, taken)) => {
                    self.buffered.drain(..taken);
                    return Some(message);
                }
                Err(DecodeError::Incomplete) => {}
                Err(error) => panic!("the event stream is malformed: {error}"),
            }
            let frame = bounded(self.body.frame()).await;
            match frame {
                Some(frame) => {
                    if let Ok(data) = frame.expect("the body reads").into_data() {
                        self.buffered.extend_from_slice(&data);
                    }
                }
                None => {
                    assert!(
                        self.buffered.is_empty(),
                        "the event stream ends within a message"
                    );
                    return None;
                }
            }
        }
    }
}

/// Registers consumer `name` on stream `stream` (of the default account and region) over raw JSON,
/// and returns its ARN.
pub async fn register_consumer(addr: SocketAddr, stream: &str, name: &str) -> String {
    let answer = call_json(
        addr,
        "RegisterStreamConsumer",
        &format!(
            r#"{{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/{stream}",
                "ConsumerName":"{name}"}}"#
        ),
    )
    .await;
    assert_eq!(answer.status, http::StatusCode::OK, "{:?}", answer.json());
    answer.json()["Consumer"]["ConsumerARN"]
        .as_str()
        .expect("a consumer ARN")
        .to_owned()
}

/// A raw SubscribeToShard request in `content_type` (JSON or CBOR) carrying `body`, over HTTP/1.1
/// or HTTP/2 as `version` says.
pub fn subscribe_request(
    addr: SocketAddr,
    version: http::Version,
    content_type: &str,
    body: Bytes,
) -> Request<Full<Bytes>> {
    // HTTP/2 carries the authority in the URI; HTTP/1.1 in the Host header.
    let request = if version == http::Version::HTTP_2 {
        Request::post(format!("http://{addr}/"))
    } else {
        Request::post("/").header("host", addr.to_string())
    };
    request
        .version(version)
        .header("x-amz-target", "Kinesis_20131202.SubscribeToShard")
        .header("content-type", content_type)
        .header("x-amz-date", "20150830T123600Z")
        .header("authorization", WELL_FORMED_AUTHORIZATION)
        .body(Full::new(body))
        .expect("request builds")
}

/// Sends `request` over a new connection of its version and returns the response head and its
/// body's messages, without waiting for the body's end. The connection's task runs until the
/// response is dropped.
pub async fn start_event_stream(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> (http::response::Parts, EventMessages) {
    bounded(async {
        let stream = TcpStream::connect(addr).await.expect("connects");
        let response = if request.version() == http::Version::HTTP_2 {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                    .await
                    .expect("HTTP/2 handshake");
            tokio::spawn(connection);
            sender.send_request(request).await.expect("response")
        } else {
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .expect("HTTP/1.1 handshake");
            tokio::spawn(connection);
            sender.send_request(request).await.expect("response")
        };
        let (parts, body) = response.into_parts();
        (parts, EventMessages::new(body))
    })
    .await
}
