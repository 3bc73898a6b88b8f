//! A server whose data directory fills up answers writes with `InternalFailure` (HTTP 500, or
//! per entry in PutRecords), never crashes, keeps serving every record it acknowledged before,
//! and keeps answering `/health` and the control plane. Once there is room again, the shard takes
//! writes again without a restart (issue 12, item 8).
//!
//! The disk is a real 12 MiB tmpfs: a shard's segments are 4 MiB and 64 KiB (four records of the
//! stream's 1 MiB limit), so two fit and the third cannot be reserved. It is mounted for the test,
//! which needs root (CI runs as root); the test is skipped, saying so, where mounting is not
//! permitted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{TestServer, bounded, call_json, send_http1};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use shardlog::EngineOptions;
use shardlog_server::ServerConfig;

/// Bytes of each record: the disk takes a few dozen.
const RECORD_BYTES: usize = 200 * 1024;
/// Entries in each PutRecords call.
const ENTRIES_PER_CALL: usize = 2;

/// A small tmpfs, unmounted when dropped.
struct TinyDisk {
    path: PathBuf,
    _parent: tempfile::TempDir,
}

impl TinyDisk {
    /// Mounts one, or says why it cannot.
    fn mount(bytes: u64) -> Result<TinyDisk, String> {
        let parent = tempfile::tempdir().unwrap();
        let path = parent.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(&path)
            .output()
            .map_err(|error| format!("running mount: {error}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
        }
        Ok(TinyDisk {
            path,
            _parent: parent,
        })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Frees room: the disk grows to `bytes` while in use.
    fn grow(&self, bytes: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={bytes}")])
            .arg(&self.path)
            .status()
            .expect("running mount");
        assert!(status.success(), "remounting the tmpfs larger failed");
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Record `id`'s data: its id in the first 8 bytes, then a pattern that depends on it.
fn record_data(id: u64) -> Vec<u8> {
    let mut data: Vec<u8> = (0..RECORD_BYTES)
        .map(|at| (at as u64 ^ id.wrapping_mul(0x9e37)) as u8)
        .collect();
    data[..8].copy_from_slice(&id.to_be_bytes());
    data
}

fn assert_internal_failure(answer: &crate::common::Answer, what: &str) {
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR, "{what}");
    assert_eq!(
        answer.json(),
        json!({"__type": "InternalFailure", "message": "Internal Service Failure"}),
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_gets_internal_failure_and_reads_go_on() {
    let disk = match TinyDisk::mount(12 << 20) {
        Ok(disk) => disk,
        Err(reason) => {
            eprintln!(
                "SKIPPED: mounting a tmpfs is not permitted here ({reason}); CI runs this as root"
            );
            return;
        }
    };
    let options = EngineOptions {
        segment_bytes: 1 << 20,
        maintenance_interval: None,
        ..EngineOptions::default()
    };
    let server = TestServer::start_with(disk.path(), ServerConfig::default(), options).await;
    let addr = server.addr;
    bounded(async {
        let created = call_json(addr, "CreateStream", r#"{"StreamName":"s","ShardCount":1}"#).await;
        assert_eq!(created.status, StatusCode::OK);

        // Fill the disk. Acknowledged: id → sequence number. Attempted but failed: may or may
        // not be stored (a failed sync can follow a good copy), so the reads below may show them.
        let mut acknowledged: Vec<(u64, String)> = Vec::new();
        let mut failed_ids: Vec<u64> = Vec::new();
        let mut failed_calls = 0;
        let mut refused_whole_calls = 0;
        let mut next_id = 0u64;
        while failed_calls < 3 {
            assert!(next_id < 1000, "a 12 MiB disk cannot take 200 MB");
            let ids: Vec<u64> = (next_id..next_id + ENTRIES_PER_CALL as u64).collect();
            next_id += ENTRIES_PER_CALL as u64;
            let records: Vec<Value> = ids
                .iter()
                .map(|&id| json!({"PartitionKey": "k", "Data": BASE64.encode(record_data(id))}))
                .collect();
            let body = json!({"StreamName": "s", "Records": records}).to_string();
            let answer = call_json(addr, "PutRecords", &body).await;
            if answer.status != StatusCode::OK {
                assert_internal_failure(&answer, "a PutRecords on a full disk");
                failed_ids.extend(&ids);
                failed_calls += 1;
                refused_whole_calls += 1;
                continue;
            }
            let reply = answer.json();
            let entries = reply["Records"].as_array().unwrap();
            assert_eq!(entries.len(), ids.len());
            let mut failed_here = 0;
            for (id, entry) in ids.iter().zip(entries) {
                match entry["SequenceNumber"].as_str() {
                    Some(sequence_number) => acknowledged.push((*id, sequence_number.to_owned())),
                    None => {
                        assert_eq!(entry["ErrorCode"], "InternalFailure", "{entry}");
                        assert_eq!(entry["ErrorMessage"], "Internal Service Failure", "{entry}");
                        failed_ids.push(*id);
                        failed_here += 1;
                    }
                }
            }
            assert_eq!(reply["FailedRecordCount"], failed_here);
            failed_calls += usize::from(failed_here > 0);
        }
        // Two segments of 4 MiB fit before the third cannot be reserved: 20 records each.
        assert!(acknowledged.len() >= 30, "only {} records fit", acknowledged.len());

        // Single writes that need a new segment fail the same way, as a whole-call
        // InternalFailure (a small one may still fit in the active segment, and is taken).
        // (Not counted among the failed attempts that may be stored: it must not be.)
        let late = next_id;
        next_id += 1;
        let single = json!({"StreamName": "s", "PartitionKey": "k", "Data": BASE64.encode(record_data(late))});
        let answer = call_json(addr, "PutRecord", &single.to_string()).await;
        assert_internal_failure(&answer, "a PutRecord on a full disk");

        // Room again: the shard takes writes without a restart (it used to answer 500 until one).
        disk.grow(64 << 20);
        for _ in 0..3 {
            let id = next_id;
            next_id += 1;
            let body = json!({"StreamName": "s", "PartitionKey": "k", "Data": BASE64.encode(record_data(id))});
            let answer = call_json(addr, "PutRecord", &body.to_string()).await;
            assert_eq!(answer.status, StatusCode::OK, "a PutRecord once there is room: {:?}", answer.body);
            let sequence_number = answer.json()["SequenceNumber"].as_str().unwrap().to_owned();
            acknowledged.push((id, sequence_number));
        }

        // Everything acknowledged reads back, intact and in order; nothing else but failed
        // attempts, none twice.
        let iterator = call_json(
            addr,
            "GetShardIterator",
            r#"{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"#,
        )
        .await;
        assert_eq!(iterator.status, StatusCode::OK);
        let mut iterator = iterator.json()["ShardIterator"].as_str().unwrap().to_owned();
        let mut read: Vec<(u64, String)> = Vec::new();
        loop {
            let body = json!({"ShardIterator": iterator, "Limit": 10}).to_string();
            let answer = call_json(addr, "GetRecords", &body).await;
            assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
            let reply = answer.json();
            let records = reply["Records"].as_array().unwrap();
            for record in records {
                let data = BASE64.decode(record["Data"].as_str().unwrap()).unwrap();
                let id = u64::from_be_bytes(data[..8].try_into().unwrap());
                assert_eq!(data, record_data(id), "record {id} is damaged");
                read.push((id, record["SequenceNumber"].as_str().unwrap().to_owned()));
            }
            if records.is_empty() && reply["MillisBehindLatest"] == 0 {
                break;
            }
            iterator = reply["NextShardIterator"].as_str().unwrap().to_owned();
        }
        let read_ids: HashMap<u64, &str> = read.iter().map(|(id, s)| (*id, s.as_str())).collect();
        assert_eq!(read_ids.len(), read.len(), "a record was read twice");
        for (id, sequence_number) in &acknowledged {
            assert_eq!(
                read_ids.get(id).copied(),
                Some(sequence_number.as_str()),
                "acknowledged record {id} is missing"
            );
        }
        for (id, _) in &read {
            assert!(
                acknowledged.iter().any(|(acked, _)| acked == id) || failed_ids.contains(id),
                "record {id} was never written"
            );
        }
        let read_order: Vec<u64> = read.iter().map(|(id, _)| *id).collect();
        let mut sorted = read_order.clone();
        sorted.sort_unstable();
        assert_eq!(read_order, sorted, "records out of order");

        let health = Request::get("/health").body(Full::new(Bytes::new())).unwrap();
        assert_eq!(send_http1(addr, health).await.status, StatusCode::OK);
        let summary = call_json(addr, "DescribeStreamSummary", r#"{"StreamName":"s"}"#).await;
        assert_eq!(summary.status, StatusCode::OK);
        eprintln!(
            "{} records acknowledged and read back; {} attempted after the disk filled ({} whole \
             calls refused, {} entries failed inside answered calls; {} of them stored)",
            acknowledged.len(),
            failed_ids.len(),
            refused_whole_calls,
            failed_ids.len() - refused_whole_calls * ENTRIES_PER_CALL,
            read.len() - acknowledged.len()
        );
    })
    .await;
    // The engine's final flush may fail on the full disk: only the server must stop cleanly.
    server.stop_without_flush().await;
}
