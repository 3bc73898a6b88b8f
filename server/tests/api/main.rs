//! Scenarios of the Kinesis API over raw HTTP/1.1 and HTTP/2: the front end's answers, exact
//! errors and the model's constraints, signatures, CBOR, restarts and damaged or full disks. One module per
//! scenario, named as a sentence saying what must hold.
//!
//! Run one with `cargo test -p shardlog-server --test api <scenario>`.

#[path = "../common/mod.rs"]
mod common;

mod a_chunked_request_then_a_half_close_still_gets_its_answer;
mod a_damaged_stream_is_reported_and_every_other_stream_is_served;
mod a_full_disk_gets_internal_failure_and_reads_go_on;
mod a_stream_being_created_is_described_without_shards;
mod a_taken_port_is_named_with_the_flag_that_moves_it;
mod answers_kinesis_changed_since_kinesalite_recorded_them_follow_kinesis_today;
mod bad_requests_get_the_exact_kinesis_errors;
mod cbor_bodies_round_trip;
mod create_stream_reads_a_huge_shard_count_as_java_does_and_answers_with_the_account_quota;
mod encryption_policy_account_and_warm_throughput_requests_get_kinesis_errors;
mod every_model_constraint_is_enforced_with_the_kinesis_message;
mod foreign_hosts_and_origins_are_refused_unless_allowed;
mod garbage_input_never_crashes_the_server;
mod http2_prior_knowledge_is_served;
mod malformed_requests_get_kinesis_errors_and_the_server_stays_healthy;
mod records_survive_a_server_restart;
mod signatures_are_held_to_their_scope_date_and_expiry_as_aws_does;
mod signatures_are_verified_when_credentials_are_given;
mod split_and_merge_name_shards_as_leniently_as_kinesis;
mod tags_are_held_to_kinesis_character_and_count_rules;
mod the_access_log_names_the_operation_asked_for;
mod the_front_end_answers_as_kinesis_before_any_operation_reads_the_request;
mod throttling_and_metrics_show_through_the_api;
