#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shardlog_server_fuzz::server_request_decode(data));
