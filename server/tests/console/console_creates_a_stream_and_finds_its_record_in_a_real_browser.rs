//! The Kinesis tutorial, done in the web console in headless Chromium against `shardlog serve`:
//! create `data-analysis-stream` in ON_DEMAND mode through the form, watch it go from Creating to
//! Active, read On-demand and 24 hours on its detail page, put "Hello, Kinesis!" through the
//! put-record form, find it in the data viewer and see it counted on the monitoring charts. A
//! screenshot of the page is left in `target/tmp/console-screenshot.png`.

use crate::browser::{Browser, is_png};
use crate::common::ServeProcess;

/// Long enough that the page's first look at the new stream (right after CreateStream answers)
/// sees it CREATING even on a loaded machine.
const CREATE_DELAY_MS: &str = "6000";

#[test]
fn console_creates_a_stream_and_finds_its_record_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServeProcess::start(dir.path(), &["--create-delay-ms", CREATE_DELAY_MS]);
    let browser = Browser::start();

    // A browser asking for `/` gets the console.
    browser.open(&format!("{}/", server.endpoint()));
    browser.wait_for_visible_text("#streams-empty", |text| text.contains("No data streams"));

    browser.type_into("#create-name", "data-analysis-stream");
    browser.click("#create-mode option[value=\"ON_DEMAND\"]");
    browser.click("#create-submit");

    // The detail page opens on the new stream: first Creating, then Active by itself.
    let first = browser.wait_for_text("#detail-status-text", |text| !text.is_empty());
    assert_eq!(first, "Creating");
    browser.wait_for_text("#detail-status-text", |text| text == "Active");
    assert_eq!(browser.text("#detail-mode").as_deref(), Some("On-demand"));
    assert_eq!(
        browser.text("#detail-retention").as_deref(),
        Some("24 hours")
    );
    let arn = browser.text("#detail-arn").expect("the ARN is shown");
    assert!(
        arn.starts_with("arn:aws:kinesis:") && arn.ends_with(":stream/data-analysis-stream"),
        "{arn}"
    );

    // The tutorial's record, through the put-record form.
    browser.type_into("#put-key", "partition-1");
    browser.type_into("#put-data", "Hello, Kinesis!");
    browser.click("#put-submit");
    let shard = browser.wait_for_text("#put-shard", |text| text.starts_with("shardId-"));
    let sequence = browser.wait_for_text("#put-sequence", |text| !text.is_empty());

    // Read it back from the start of its shard in the data viewer.
    browser.click(&format!("#viewer-shard option[value=\"{shard}\"]"));
    browser.click("#viewer-position option[value=\"TRIM_HORIZON\"]");
    browser.click("#viewer-submit");
    let row = format!("#viewer-rows tr[data-sequence=\"{sequence}\"]");
    let data = browser.wait_for_text(&format!("{row} td.data"), |text| !text.is_empty());
    assert_eq!(data, "Hello, Kinesis!");
    assert_eq!(
        browser.text(&format!("{row} td:nth-child(3)")).as_deref(),
        Some("partition-1")
    );

    // The shards table lists the shard the record went to, open.
    let shard_row = format!("#shard-rows tr[data-shard=\"{shard}\"]");
    let state = browser.wait_for_text(&format!("{shard_row} td:nth-child(2)"), |text| {
        !text.is_empty()
    });
    assert_eq!(state, "Open");

    // Monitoring reads /metrics: the stream's IncomingRecords counter reaches the one record,
    // and each chart has drawn a line for the stream and one per open shard.
    browser.wait_for_text(
        "#charts [data-metric=\"IncomingRecords\"] .reading",
        |text| text == "stream total: 1",
    );
    let lines = browser.run(
        "return document.querySelectorAll('#charts [data-metric=\"IncomingRecords\"] polyline').length;",
        serde_json::json!([]),
    );
    let open_shards: u64 = browser
        .text("#detail-open-shards")
        .and_then(|text| text.parse().ok())
        .expect("the open shard count");
    assert_eq!(lines.as_u64(), Some(1 + open_shards.min(5)));

    let screenshot = browser.screenshot(
        &std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshot.png"),
    );
    assert!(is_png(&screenshot));

    // Back on the list, the stream's row says what the detail page said.
    browser.click(".breadcrumb a");
    let row = "#streams-rows tr[data-stream=\"data-analysis-stream\"]";
    browser.wait_for_text(&format!("{row} td:nth-child(2)"), |text| text == "Active");
    assert_eq!(
        browser.text(&format!("{row} td:nth-child(3)")).as_deref(),
        Some("On-demand")
    );
    assert_eq!(
        browser.text(&format!("{row} td:nth-child(5)")).as_deref(),
        Some("24 hours")
    );

    drop(browser);
    server.terminate();
}
