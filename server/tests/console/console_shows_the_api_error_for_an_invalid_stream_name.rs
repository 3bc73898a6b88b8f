//! With `--credentials`, the console asks for an access key and signs its calls with it for real
//! (a wrong signature would be refused before any operation runs); a stream name the API rejects
//! shows the API's own ValidationException in the create form, and no stream is created. A valid
//! one is created, and its monitoring charts read `/metrics`, which the console signs too.

use crate::browser::Browser;
use crate::common::ServeProcess;

#[test]
fn console_shows_the_api_error_for_an_invalid_stream_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Not the SDKs' default region: the page must sign for the server's.
    let server = ServeProcess::start(
        dir.path(),
        &[
            "--credentials",
            "console-key:console-secret",
            "--region",
            "eu-west-1",
        ],
    );
    let browser = Browser::start();
    browser.open(&format!("{}/console", server.endpoint()));

    // The placeholder signature is refused, so the page asks for credentials.
    browser.wait_until("the credentials dialog", || {
        browser
            .run(
                "return document.getElementById('credentials-dialog').open;",
                serde_json::json!([]),
            )
            .as_bool()
            .filter(|open| *open)
    });
    browser.type_into("#credentials-key", "console-key");
    browser.type_into("#credentials-secret", "console-secret");
    browser.click("#credentials-save");
    // Signed for real now: the (empty) list loads.
    browser.wait_for_visible_text("#streams-empty", |text| text.contains("No data streams"));
    assert_eq!(browser.text("#list-error").as_deref(), Some(""));

    browser.type_into("#create-name", "not a valid name!");
    browser.click("#create-submit");
    let error = browser.wait_for_text("#create-error", |text| !text.is_empty());
    assert!(
        error.starts_with("ValidationException: ")
            && error.contains("streamName")
            && error.contains("not a valid name!"),
        "{error}"
    );

    // Still on the list, which stays empty.
    assert_eq!(
        browser
            .run("return location.hash;", serde_json::json!([]))
            .as_str(),
        Some("")
    );
    assert_eq!(browser.text("#streams-rows").as_deref(), Some(""));

    browser.type_into("#create-name", "signed");
    browser.click("#create-submit");
    browser.wait_for_text("#monitoring-note", |text| {
        text.starts_with("Live from /metrics")
    });

    drop(browser);
    server.terminate();
}
