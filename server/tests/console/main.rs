//! Scenarios of the web console: its formatting unit tests under Node.js, and the pages driven in a
//! real headless Chromium. One module per
//! scenario, named as a sentence saying what must hold.
//!
//! Run one with `cargo test -p shardlog-server --test console <scenario>`.

#[path = "../browser/mod.rs"]
mod browser;
#[path = "../common/mod.rs"]
mod common;

mod console_creates_a_stream_and_finds_its_record_in_a_real_browser;
mod console_formatting_passes_its_unit_tests;
mod console_registers_lists_and_deregisters_stream_consumers;
mod console_reshards_retains_tags_and_deletes_a_stream;
mod console_shows_the_api_error_for_an_invalid_stream_name;
mod pages_from_other_origins_cannot_touch_streams_in_a_real_browser;
