//! Scenarios of SubscribeToShard over raw HTTP: event-stream framing in JSON and CBOR, validation,
//! bounded slow subscribers, resets and shutdowns. One module per
//! scenario, named as a sentence saying what must hold.
//!
//! Run one with `cargo test -p shardlog-server --test subscriptions <scenario>`.

#[path = "../common/mod.rs"]
mod common;

mod a_cbor_subscription_gets_cbor_events_over_http1_and_http2;
mod a_live_subscription_ends_cleanly_when_the_server_shuts_down;
mod a_reset_or_dropped_subscription_frees_its_place;
mod a_subscriber_that_does_not_read_stays_bounded_while_others_are_served;
mod a_subscriber_that_stops_reading_is_closed_at_the_idle_timeout;
mod every_starting_position_starts_a_subscription_where_an_iterator_of_its_type_would;
mod subscribe_to_shard_requests_are_validated_with_kinesis_errors;
