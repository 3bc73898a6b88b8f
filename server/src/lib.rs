//! # shardlog-server
//!
//! A server that speaks the Amazon Kinesis Data Streams wire protocol on top of the shardlog
//! engine, so code written for the AWS CLI and SDKs runs against it by changing only the endpoint.
//!
//! The layers, outside in:
//! - [`server`]: TCP accept loop, HTTP/1.1 and HTTP/2 (cleartext, prior knowledge), limits on
//!   connections, headers, bodies and time; `/health`; graceful shutdown. Its parts:
//!   [`origin_policy`] (which hosts and web pages are served), [`connections`] (idleness, and
//!   which connection gives way), [`budgets`] (bytes held for bodies and responses),
//!   [`request_body`] and [`response_body`].
//! - [`metrics`]: `GET /metrics`, the library's Kinesis metrics in the Prometheus text format.
//! - [`console`]: the embedded web console, a single-page app that is one more API client.
//! - [`front_end`]: what Kinesis answers before an operation reads its fields (method, body,
//!   content type, body syntax, operation), in Kinesis' order and bytes.
//! - [`auth`]: SigV4 checking, lenient (well-formed) or strict (verified) by configuration.
//! - [`protocol`]: the JSON and CBOR encodings and the Kinesis error shape.
//! - [`ops`]: one small handler per operation, grouped by what it touches.
//!
//! The library stays free of async code; every operation runs on tokio's blocking pool, because a
//! library call may fsync and must not stall the reactor.

#![warn(missing_docs)]

pub mod auth;
pub mod budgets;
pub mod config;
pub mod connections;
pub mod console;
pub mod error;
pub mod front_end;
pub mod metrics;
pub mod ops;
pub mod origin_policy;
pub mod protocol;
pub mod request_body;
pub mod response_body;
pub mod server;

pub use crate::config::ServerConfig;
pub use crate::server::Server;
