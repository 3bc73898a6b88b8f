#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shardlog_server_fuzz::event_stream::event_stream_round_trip(data));
