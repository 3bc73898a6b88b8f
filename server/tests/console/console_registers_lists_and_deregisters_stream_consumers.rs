//! The console shows a stream's enhanced fan-out consumers and registers and deregisters them,
//! each step checked both on the page and through the API: a consumer registered in the browser
//! appears with its name, Kinesis-form ARN, a creation time, and its status going from Creating to
//! Active (the server holds it CREATING for a moment); one registered by an SDK-like client
//! appears too; a name the API refuses shows the API's message; and Deregister removes a
//! consumer (through Deleting) from the page and from ListStreamConsumers.

use crate::browser::Browser;
use crate::common::{ServeProcess, bounded, call_json};
use http::StatusCode;

const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks";

fn consumer_cell(name: &str, column: usize) -> String {
    format!("#consumer-rows tr[data-consumer=\"{name}\"] td:nth-child({column})")
}

/// The consumers ListStreamConsumers names, through the API.
fn listed_consumers(server: &ServeProcess) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let answer = bounded(call_json(
            server.addr,
            "ListStreamConsumers",
            &format!(r#"{{"StreamARN":"{STREAM_ARN}"}}"#),
        ))
        .await;
        assert_eq!(answer.status, StatusCode::OK);
        let mut names: Vec<String> = answer.json()["Consumers"]
            .as_array()
            .expect("consumers")
            .iter()
            .map(|consumer| consumer["ConsumerName"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    })
}

fn register_through_the_api(server: &ServeProcess, name: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = runtime.block_on(call_json(
        server.addr,
        "RegisterStreamConsumer",
        &format!(r#"{{"StreamARN":"{STREAM_ARN}","ConsumerName":"{name}"}}"#),
    ));
    assert_eq!(answer.status, StatusCode::OK);
}

#[test]
fn console_registers_lists_and_deregisters_stream_consumers() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Streams and consumers stay CREATING (and consumers DELETING) for 1.5 s, so the page shows
    // each state on its way.
    let server = ServeProcess::start(dir.path(), &["--create-delay-ms", "1500"]);
    let browser = Browser::start();
    browser.open(&format!("{}/console", server.endpoint()));

    browser.type_into("#create-name", "clicks");
    browser.click("#create-mode option[value=\"PROVISIONED\"]");
    browser.type_into("#create-shards", "1");
    browser.click("#create-submit");
    browser.wait_for_text("#detail-status-text", |text| text == "Active");
    browser.wait_for_visible_text("#consumers-empty", |text| {
        text == "No registered consumers."
    });

    // Registered in the browser: Creating, then Active, with its ARN and creation time.
    browser.type_into("#consumer-name", "dashboard");
    browser.click("#consumer-submit");
    browser.wait_for_text(&consumer_cell("dashboard", 2), |text| text == "Creating");
    browser.wait_for_text(&consumer_cell("dashboard", 2), |text| text == "Active");
    let arn = browser
        .text(&consumer_cell("dashboard", 3))
        .expect("an ARN");
    let prefix = format!("{STREAM_ARN}/consumer/dashboard:");
    assert!(
        arn.strip_prefix(&prefix)
            .is_some_and(|epoch| epoch.parse::<u64>().is_ok()),
        "{arn}"
    );
    let created = browser
        .text(&consumer_cell("dashboard", 4))
        .expect("a creation time");
    assert!(created.ends_with(" UTC"), "{created}");
    assert_eq!(listed_consumers(&server), ["dashboard"]);

    // Registered by another client: the page shows it too.
    register_through_the_api(&server, "archiver");
    browser.wait_for_text(&consumer_cell("archiver", 2), |text| text == "Active");

    // A name the API refuses: its message, as the API words it.
    browser.type_into("#consumer-name", "no spaces allowed");
    browser.click("#consumer-submit");
    browser.wait_for_text("#consumer-error", |text| {
        text.starts_with("ValidationException:") && text.contains("consumerName")
    });

    // Deregistered in the browser: Deleting, then gone from the page and from the API.
    browser.click(
        "#consumer-rows tr[data-consumer=\"dashboard\"] \
         button[data-action=\"DeregisterStreamConsumer\"]",
    );
    browser.wait_for_text(&consumer_cell("dashboard", 2), |text| text == "Deleting");
    browser.wait_until("the deregistered consumer's row to go", || {
        browser
            .text(&consumer_cell("dashboard", 1))
            .is_none()
            .then_some(())
    });
    assert_eq!(listed_consumers(&server), ["archiver"]);

    drop(browser);
    server.terminate();
}
