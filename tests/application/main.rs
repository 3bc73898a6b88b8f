//! Scenarios of applications (`shardlog::application`): whole streams read as KCL reads them,
//! lineage first, with durable checkpoints; a model test, workers on several threads, damaged
//! checkpoints and SIGKILLs. One module per scenario, named as a sentence saying what must hold.
//!
//! Run one with `cargo test -p shardlog --test application <scenario>`.

#[path = "../support/mod.rs"]
mod support;

mod a_failing_record_processor_stops_the_application_and_its_records_come_again;
mod a_stream_deleted_and_created_again_starts_its_applications_without_the_old_checkpoints;
mod an_application_refuses_a_damaged_checkpoint_instead_of_guessing_where_to_resume;
mod application_workers_share_the_shards_and_start_children_only_after_their_parents_end;
mod applications_deliver_at_least_once_in_order_from_their_checkpoints_across_sigkills;
mod applications_deliver_every_unexpired_record_in_key_order_and_resume_exactly_after_their_checkpoints;
mod checkpoints_are_refused_outside_what_was_delivered_and_before_the_last_one;
