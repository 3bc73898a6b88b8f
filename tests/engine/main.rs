//! Scenarios of the engine as a whole: its data directory and lock, creating and deleting streams,
//! damaged streams, full disks, a writer that reshards killed with SIGKILL, maintenance, the
//! tutorial, and the one-way layering of the library's modules. One module per scenario, named as a
//! sentence saying what must hold.
//!
//! Run one with `cargo test -p shardlog --test engine <scenario>`.

#[path = "../support/mod.rs"]
mod support;

mod a_failed_sync_fails_creating_and_resharding_and_leaves_no_trace;
mod a_full_disk_is_an_error_not_a_crash;
mod acknowledged_puts_survive_sigkill_of_a_writer_that_reshards;
mod an_engine_opens_on_a_completely_full_disk_and_serves_reads_and_deletes;
mod an_interrupted_stream_creation_is_cleaned_up_on_open;
mod creating_deleting_and_resharding_on_a_full_disk_complete_or_leave_no_trace;
mod engine_catalog_survives_reopen_and_deleted_streams_stay_gone;
mod engine_delete_stream_stops_writes_through_handles_taken_before;
mod engine_rejects_tags_outside_the_kinesis_limits;
mod engine_rejects_unknown_existing_and_invalid_streams;
mod engine_sync_records_the_durable_point_of_every_written_shard;
mod on_demand_streams_split_hot_shards_by_themselves;
mod one_damaged_stream_never_stops_the_engine_from_serving_the_others;
mod one_data_directory_is_opened_by_one_engine_at_a_time;
mod recorded_settings_and_the_account_commitment_survive_reopen;
mod the_library_layers_run_one_way;
mod the_tutorial_stream_works_as_written;
