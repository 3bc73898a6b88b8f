//! The attack of issue 12, in headless Chromium: a page served from another origin tries to
//! list the streams, read a record and delete a stream. By default the browser's same-origin
//! policy stops all three (the server grants no CORS, and refuses the calls), and the stream is
//! still there; with `--cors-origin` naming that page's origin, the same page does all three.
//! And DNS rebinding: a page under a name that resolves to the server (Chromium maps
//! `rebound.test` to 127.0.0.1 here) is refused with a message naming `--allow-host`, until the
//! server allows that name; then the console works under it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

use crate::browser::Browser;
use crate::common::{ServeProcess, WELL_FORMED_AUTHORIZATION, call_json};
use http::StatusCode;
use serde_json::Value;

/// The attacker's page: three calls to the server at `target`, results in `window.attack`.
fn attack_page(target: SocketAddr) -> String {
    format!(
        r#"<!doctype html><title>attacker</title><script>
const target = "http://{target}/";
async function call(operation, input) {{
  const response = await fetch(target, {{
    method: "POST",
    headers: {{
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "Kinesis_20131202." + operation,
      "x-amz-date": "20150830T123600Z",
      "authorization": "{WELL_FORMED_AUTHORIZATION}",
    }},
    body: JSON.stringify(input),
  }});
  const text = await response.text();
  return text ? JSON.parse(text) : {{ status: response.status }};
}}
async function attempt(step) {{
  try {{ return await step(); }} catch (error) {{ return "blocked: " + error; }}
}}
(async () => {{
  const attack = {{}};
  attack.list = await attempt(() => call("ListStreams", {{}}));
  attack.read = await attempt(async () => {{
    const iterator = await call("GetShardIterator", {{
      StreamName: "secret", ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }});
    return await call("GetRecords", {{ ShardIterator: iterator.ShardIterator }});
  }});
  attack.delete = await attempt(() => call("DeleteStream", {{ StreamName: "secret" }}));
  window.attack = attack;
}})();
</script>"#
    )
}

/// Serves the attacker's page for `/attack/<port>` on a loopback port of its own (another
/// origin than the server's), until the test ends.
fn serve_attacker_pages(listener: TcpListener) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = [0u8; 4096];
            let read = stream.read(&mut head).unwrap_or(0);
            let request = String::from_utf8_lossy(&head[..read]);
            let port = request
                .split_whitespace()
                .nth(1)
                .and_then(|path| path.strip_prefix("/attack/"))
                .and_then(|port| port.parse::<u16>().ok());
            let body = match port {
                Some(port) => attack_page(SocketAddr::from(([127, 0, 0, 1], port))),
                None => String::new(),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Creates stream `secret` with one record.
fn create_secret(runtime: &tokio::runtime::Runtime, addr: SocketAddr) {
    runtime.block_on(async {
        let created = call_json(
            addr,
            "CreateStream",
            r#"{"StreamName":"secret","ShardCount":1}"#,
        );
        assert_eq!(created.await.status, StatusCode::OK);
        let put = r#"{"StreamName":"secret","PartitionKey":"k","Data":"c2VjcmV0"}"#;
        assert_eq!(
            call_json(addr, "PutRecord", put).await.status,
            StatusCode::OK
        );
    });
}

fn secret_exists(runtime: &tokio::runtime::Runtime, addr: SocketAddr) -> bool {
    let answer = runtime.block_on(call_json(addr, "ListStreams", "{}"));
    answer.json()["StreamNames"]
        .as_array()
        .is_some_and(|names| names.iter().any(|name| name == "secret"))
}

/// Opens the attacker's page against `server` and returns what its three calls got.
fn run_attack(browser: &Browser, attacker: SocketAddr, server: SocketAddr) -> Value {
    browser.open(&format!("http://{attacker}/attack/{}", server.port()));
    browser.wait_until("the attack to finish", || {
        let attack = browser.run("return window.attack ?? null;", Value::Array(vec![]));
        (!attack.is_null()).then_some(attack)
    })
}

fn blocked(outcome: &Value) -> bool {
    outcome
        .as_str()
        .is_some_and(|text| text.starts_with("blocked: TypeError"))
}

#[test]
fn pages_from_other_origins_cannot_touch_streams_in_a_real_browser() {
    let runtime = runtime();
    let attacker = TcpListener::bind("127.0.0.1:0").expect("a port for the attacker");
    let attacker_addr = attacker.local_addr().expect("bound address");
    serve_attacker_pages(attacker);
    let browser = Browser::start_with(&[
        "--host-resolver-rules=MAP rebound.test 127.0.0.1",
        "--disable-features=HttpsUpgrades",
    ]);

    // By default: nothing gets through.
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServeProcess::start(dir.path(), &[]);
    create_secret(&runtime, server.addr);
    let attack = run_attack(&browser, attacker_addr, server.addr);
    for step in ["list", "read", "delete"] {
        assert!(blocked(&attack[step]), "{step}: {attack}");
    }
    assert!(secret_exists(&runtime, server.addr));

    // DNS rebinding: the page is refused, and says which flag would let it in.
    browser.open(&format!(
        "http://rebound.test:{}/console",
        server.addr.port()
    ));
    browser.wait_until("the refusal", || {
        let text = browser.text("body")?;
        text.contains("--allow-host rebound.test").then_some(())
    });
    server.terminate();

    // With --cors-origin naming the attacker's page, and --allow-host the rebound name, the
    // same pages work: the allowed origin lists, reads and deletes.
    let dir = tempfile::tempdir().expect("temp dir");
    let origin = format!("http://{attacker_addr}");
    let server = ServeProcess::start(
        dir.path(),
        &["--cors-origin", &origin, "--allow-host", "rebound.test"],
    );
    create_secret(&runtime, server.addr);
    let attack = run_attack(&browser, attacker_addr, server.addr);
    assert_eq!(attack["list"]["StreamNames"][0], "secret", "{attack}");
    assert_eq!(attack["read"]["Records"][0]["Data"], "c2VjcmV0", "{attack}");
    assert_eq!(attack["delete"]["status"], 200, "{attack}");
    assert!(!secret_exists(&runtime, server.addr));
    // The console works under that name, though plain http there is no secure context (no
    // Web Crypto): it signs with its own SHA-256 and lists the stream.
    create_secret(&runtime, server.addr);
    browser.open(&format!(
        "http://rebound.test:{}/console",
        server.addr.port()
    ));
    browser.wait_for_text("#streams-rows tr[data-stream=\"secret\"] td", |text| {
        text == "secret"
    });

    drop(browser);
    server.terminate();
}
