//! Scenarios driven by clients nobody on the project wrote: the AWS CLI, boto3, the AWS SDK for
//! JavaScript v3 and the Rust `aws-sdk-kinesis`, and the README's examples run as written. One module per
//! scenario, named as a sentence saying what must hold.
//!
//! Run one with `cargo test -p shardlog-server --test clients <scenario>`.

#[path = "../common/mod.rs"]
mod common;

mod aws_cli_runs_the_tutorial;
mod boto3_records_encryption_policies_and_account_settings_across_a_restart;
mod boto3_subscribe_to_shard_receives_pushed_records_and_a_splits_children;
mod javascript_sdk_v3_is_verified_over_http2;
mod javascript_sdk_v3_receives_pushed_records_through_subscribe_to_shard;
mod readme_boto3_example_runs_against_the_server;
mod readme_fan_out_examples_run_against_the_server;
mod registered_consumers_work_through_boto3_and_survive_a_restart;
mod rust_sdk_subscription_receives_pushed_records_children_and_typed_exceptions;
mod sdk_reads_from_every_iterator_type_and_pages;
mod sdk_reshards_and_changes_stream_settings;
mod sdk_runs_the_kinesis_tutorial;
