//! The console's write actions, each checked by what the page then reads back through the API:
//! a tag added, the retention raised to two days and lowered again, a shard split in half (the
//! parent closed, its children listed beside it) and the children merged, the shard count updated
//! and the capacity mode switched (a third switch in a day refused), and the stream deleted only
//! once its name is typed. Along the way, the page reads as a person expects: the disabled
//! shard-count input looks disabled, the creation time is a date and a time of day, and the
//! shard-count form shows only while the stream is provisioned.

use crate::browser::Browser;
use crate::common::ServeProcess;

const PARENT: &str = "shardId-000000000000";
const LEFT: &str = "shardId-000000000001";
const RIGHT: &str = "shardId-000000000002";
const MERGED: &str = "shardId-000000000003";

fn shard_cell(shard: &str, column: usize) -> String {
    format!("#shard-rows tr[data-shard=\"{shard}\"] td:nth-child({column})")
}

#[test]
fn console_reshards_retains_tags_and_deletes_a_stream() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServeProcess::start(dir.path(), &[]);
    let browser = Browser::start();
    browser.open(&format!("{}/console", server.endpoint()));

    // On-demand is chosen first: the shard count cannot be typed, and does not look as if it
    // could.
    let looks = |css: &str| {
        browser.run(
            "const style = getComputedStyle(document.querySelector(arguments[0])); \
             return `${style.backgroundColor} ${style.color}`;",
            serde_json::json!([css]),
        )
    };
    assert_ne!(looks("#create-shards"), looks("#create-name"));

    browser.type_into("#create-name", "orders");
    browser.click("#create-mode option[value=\"PROVISIONED\"]");
    browser.type_into("#create-shards", "1");
    browser.click("#create-submit");
    browser.wait_for_text("#detail-status-text", |text| text == "Active");
    assert_eq!(browser.text("#detail-mode").as_deref(), Some("Provisioned"));
    let created = browser.text("#detail-created").expect("a creation time");
    assert!(
        created.ends_with(" UTC") && !created.contains('Z'),
        "{created}"
    );
    browser.wait_for_visible_text("#shard-count-submit", |text| !text.is_empty());

    // A tag.
    browser.type_into("#tag-key", "team");
    browser.type_into("#tag-value", "billing");
    browser.click("#tag-submit");
    let tag = browser.wait_for_text("#tags [data-tag=\"team\"]", |text| !text.is_empty());
    assert!(tag.starts_with("team = billing"), "{tag}");

    // Retention up to two days (IncreaseStreamRetentionPeriod), then back (Decrease...).
    browser.type_into("#retention-hours", "48");
    browser.click("#retention-submit");
    browser.wait_for_text("#detail-retention", |text| text == "2 days");
    browser.type_into("#retention-hours", "24");
    browser.click("#retention-submit");
    browser.wait_for_text("#detail-retention", |text| text == "24 hours");
    assert_eq!(browser.text("#retention-error").as_deref(), Some(""));

    // Split the only shard in half: it closes, and two children cover its range.
    browser.wait_for_text(&shard_cell(PARENT, 2), |text| text == "Open");
    browser.click(&format!(
        "#shard-rows tr[data-shard=\"{PARENT}\"] button[data-action=\"SplitShard\"]"
    ));
    browser.wait_for_text(&shard_cell(PARENT, 2), |text| text == "Closed");
    assert_eq!(
        browser.text(&shard_cell(PARENT, 4)),
        Some(format!("{LEFT}, {RIGHT}"))
    );
    assert_eq!(browser.text(&shard_cell(LEFT, 3)).as_deref(), Some(PARENT));
    let left_range = browser.text(&shard_cell(LEFT, 5)).expect("left range");
    assert!(
        left_range.starts_with("0 – ") && left_range.ends_with("(50%)"),
        "{left_range}"
    );
    assert_eq!(browser.text("#detail-open-shards").as_deref(), Some("2"));

    // Merge the two children back into one.
    browser.click(&format!(
        "#shard-rows tr[data-shard=\"{LEFT}\"] button[data-action=\"MergeShards\"]"
    ));
    browser.wait_for_text(&shard_cell(MERGED, 2), |text| text == "Open");
    assert_eq!(
        browser.text(&shard_cell(MERGED, 3)),
        Some(format!("{LEFT}, {RIGHT}"))
    );
    assert_eq!(
        browser.text(&shard_cell(LEFT, 2)).as_deref(),
        Some("Closed")
    );
    assert!(
        browser
            .text(&shard_cell(MERGED, 5))
            .is_some_and(|range| range.ends_with("(100%)"))
    );
    assert_eq!(browser.text("#shard-error").as_deref(), Some(""));

    // Scale to two shards (UpdateShardCount), then switch the capacity mode: to on-demand and
    // back, and a third switch in a day is refused with the API's message.
    browser.type_into("#shard-count", "2");
    browser.click("#shard-count-submit");
    browser.wait_for_text("#detail-open-shards", |text| text == "2");
    browser.click("#capacity-mode option[value=\"ON_DEMAND\"]");
    browser.click("#capacity-submit");
    browser.wait_for_text("#detail-mode", |text| text == "On-demand");
    browser.wait_until("the shard-count form to hide", || {
        browser
            .visible_text("#shard-count-submit")
            .is_none()
            .then_some(())
    });
    browser.click("#capacity-mode option[value=\"PROVISIONED\"]");
    browser.click("#capacity-submit");
    browser.wait_for_text("#detail-mode", |text| text == "Provisioned");
    browser.click("#capacity-mode option[value=\"ON_DEMAND\"]");
    browser.click("#capacity-submit");
    browser.wait_for_text("#capacity-error", |text| {
        text.contains("has been switched 2 times in the last 24 hours")
    });
    assert_eq!(browser.text("#detail-mode").as_deref(), Some("Provisioned"));

    // Delete from the list: a wrong name is refused, the right one deletes.
    browser.click(".breadcrumb a");
    browser.click("#streams-rows tr[data-stream=\"orders\"] button");
    browser.type_into("#delete-confirm-name", "order");
    browser.click("#delete-submit");
    browser.wait_for_text("#delete-error", |text| text == "The name does not match.");
    browser.type_into("#delete-confirm-name", "orders");
    browser.click("#delete-submit");
    browser.wait_for_visible_text("#streams-empty", |text| text.contains("No data streams"));
    browser.wait_until("the deleted stream's row to go", || {
        (browser.text("#streams-rows").as_deref() == Some("")).then_some(())
    });

    drop(browser);
    server.terminate();
}
