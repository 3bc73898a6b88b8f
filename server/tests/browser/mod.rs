//! A headless Chromium driven over WebDriver (chromedriver), for the console's end-to-end tests.
//!
//! The WebDriver protocol is JSON over HTTP on loopback; the few commands the tests need fit in a
//! small blocking client (one `Connection: close` request per command), so no browser-automation
//! crate is needed. Every wait is bounded by [`WAIT_MAX`]; a missing browser fails the test with
//! the command that installs it, never skips it.

#![allow(dead_code)] // each test file uses a different part of this

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The longest a test waits for the page to reach a state before it fails.
pub const WAIT_MAX: Duration = Duration::from_secs(60);
/// How often a wait looks again.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// The longest one WebDriver command may take (starting the browser is the slowest).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);
/// The W3C key under which an element reference travels.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where Debian's `chromium` and `chromium-driver` put their programs; overridable.
fn program(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found (set {variable} or `apt-get install -y chromium chromium-driver`)",
        path.display()
    );
    path
}

/// A chromedriver process and one browser session in it; both end when this is dropped.
pub struct Browser {
    driver: Child,
    driver_addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless Chromium with a fresh profile.
    pub fn start() -> Browser {
        Browser::start_with(&[])
    }

    /// Like [`Browser::start`], with more Chromium command-line arguments (for instance
    /// `--host-resolver-rules=MAP name 127.0.0.1`, to give a test its own host names).
    pub fn start_with(extra_args: &[&str]) -> Browser {
        let chromium = program("SHARDLOG_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = program("SHARDLOG_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("bound address").port()
        };
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver_addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut browser = Browser {
            driver,
            driver_addr,
            session: String::new(),
            _profile: tempfile::tempdir().expect("profile directory"),
        };
        browser.wait_until("chromedriver to answer", || {
            let status = browser.command("GET", "/status", None).ok()?;
            status["ready"].as_bool().filter(|ready| *ready)
        });
        let profile = browser._profile.path().display().to_string();
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,2000",
        ]
        .iter()
        .chain(extra_args)
        .map(|arg| (*arg).to_owned())
        .collect();
        args.push(format!("--user-data-dir={profile}"));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                // The machine has no outside network: without these Chromium keeps trying.
                "args": args,
            },
        }}});
        let created = browser
            .command("POST", "/session", Some(&capabilities))
            .unwrap_or_else(|error| panic!("Chromium did not start: {error}"));
        browser.session = created["sessionId"]
            .as_str()
            .expect("the new session has an id")
            .to_owned();
        browser
    }

    /// Opens `url`.
    pub fn open(&self, url: &str) {
        self.session_command("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body) in the page with `args` and returns what it returns.
    pub fn run(&self, script: &str, args: Value) -> Value {
        self.session_command(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
    }

    /// The text of the first element matching `css`, or `None` while there is none.
    pub fn text(&self, css: &str) -> Option<String> {
        self.run(
            "const element = document.querySelector(arguments[0]); \
             return element ? element.textContent : null;",
            json!([css]),
        )
        .as_str()
        .map(str::to_owned)
    }

    /// The text of the first element matching `css` if it is rendered (not `hidden`, not
    /// `display: none`), else `None`: what a user can actually see.
    pub fn visible_text(&self, css: &str) -> Option<String> {
        self.run(
            "const element = document.querySelector(arguments[0]); \
             return element && element.checkVisibility() ? element.textContent : null;",
            json!([css]),
        )
        .as_str()
        .map(str::to_owned)
    }

    /// Waits until the first element matching `css` is rendered with a text that `accept`
    /// takes; returns it.
    pub fn wait_for_visible_text(&self, css: &str, accept: impl Fn(&str) -> bool) -> String {
        self.wait_until(&format!("visible text of {css}"), || {
            self.visible_text(css).filter(|text| accept(text))
        })
    }

    /// Waits until the first element matching `css` has a text that `accept` takes; returns it.
    pub fn wait_for_text(&self, css: &str, accept: impl Fn(&str) -> bool) -> String {
        self.wait_until(&format!("text of {css}"), || {
            self.text(css).filter(|text| accept(text))
        })
    }

    /// Waits until an element matches `css` and returns its WebDriver reference.
    pub fn element(&self, css: &str) -> String {
        self.wait_until(&format!("an element matching {css}"), || {
            let found = self
                .command(
                    "POST",
                    &format!("/session/{}/element", self.session),
                    Some(&json!({ "using": "css selector", "value": css })),
                )
                .ok()?;
            found[ELEMENT_KEY].as_str().map(str::to_owned)
        })
    }

    /// Clicks the first element matching `css`, as a user would.
    pub fn click(&self, css: &str) {
        let element = self.element(css);
        self.session_command("POST", &format!("/element/{element}/click"), json!({}));
    }

    /// Replaces the value of the input matching `css` by typing `text` into it.
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.session_command("POST", &format!("/element/{element}/clear"), json!({}));
        self.session_command(
            "POST",
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        );
    }

    /// Saves a PNG of the viewport at `path` and returns its bytes.
    pub fn screenshot(&self, path: &Path) -> Vec<u8> {
        let encoded = self.session_command("GET", "/screenshot", Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("a screenshot is base64 text"))
            .expect("the screenshot decodes");
        std::fs::write(path, &png).expect("the screenshot is written");
        png
    }

    /// Retries `attempt` until it gives a value, failing the test after [`WAIT_MAX`].
    pub fn wait_until<T>(&self, what: &str, mut attempt: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT_MAX;
        loop {
            if let Some(value) = attempt() {
                return value;
            }
            if Instant::now() >= deadline {
                let page = self
                    .command(
                        "POST",
                        &format!("/session/{}/execute/sync", self.session),
                        Some(&json!({"script": "return document.body.innerText;", "args": []})),
                    )
                    .map(|value| value.to_string())
                    .unwrap_or_default();
                panic!("waited {WAIT_MAX:?} for {what}; the page reads:\n{page}");
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    fn session_command(&self, method: &str, path: &str, body: Value) -> Value {
        let body = (!body.is_null()).then_some(body);
        self.command(
            method,
            &format!("/session/{}{path}", self.session),
            body.as_ref(),
        )
        .unwrap_or_else(|error| panic!("WebDriver {method} {path}: {error}"))
    }

    /// One WebDriver command: its `value` on success, the WebDriver error as text otherwise.
    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut stream = TcpStream::connect_timeout(&self.driver_addr, COMMAND_TIMEOUT)
            .map_err(|error| error.to_string())?;
        stream
            .set_read_timeout(Some(COMMAND_TIMEOUT))
            .map_err(|error| error.to_string())?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.driver_addr,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|error| error.to_string())?;
        // chromedriver keeps the connection open despite `Connection: close`: read what
        // Content-Length says rather than to the end.
        let mut response = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        let (head, body) = loop {
            let read = stream.read(&mut chunk).map_err(|error| error.to_string())?;
            if read == 0 {
                return Err(format!(
                    "the connection closed mid-response: {}",
                    String::from_utf8_lossy(&response)
                ));
            }
            response.extend_from_slice(&chunk[..read]);
            let text = String::from_utf8_lossy(&response);
            let Some((head, body)) = text.split_once("\r\n\r\n") else {
                continue;
            };
            let length = head
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                .ok_or_else(|| format!("a response without Content-Length: {head}"))?;
            if body.len() >= length {
                break (head.to_owned(), body.to_owned());
            }
        };
        let ok = head.starts_with("HTTP/1.1 200");
        let json: Value =
            serde_json::from_str(&body).map_err(|error| format!("{error}: {body}"))?;
        if ok {
            Ok(json["value"].clone())
        } else {
            Err(json["value"].to_string())
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = self.command("DELETE", &path, None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Whether `bytes` start like a PNG file.
pub fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}
