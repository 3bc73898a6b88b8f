//! `shardlog`: the command-line entry point. `shardlog serve` runs the Kinesis-compatible server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::builder::TypedValueParser as _;
use clap::{Parser, Subcommand};
use shardlog::Durability;
use shardlog::engine::{Engine, EngineLimits, EngineOptions};
use shardlog_server::auth::Credentials;
use shardlog_server::config::{BLOCKING_THREADS_DEFAULT, IDLE_TIMEOUT_DEFAULT};
use shardlog_server::{Server, ServerConfig};

mod rlimit;

/// An embeddable Kinesis-style stream engine, served over the Kinesis wire protocol.
#[derive(Parser)]
#[command(name = "shardlog", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Kinesis Data Streams API (point the AWS CLI or an SDK's endpoint here).
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Where streams are stored.
    #[arg(long, default_value = "./shardlog-data")]
    data_dir: PathBuf,
    /// Address to listen on. Loopback by default: binding elsewhere is an explicit choice.
    #[arg(long, default_value = "127.0.0.1:4567")]
    listen: SocketAddr,
    /// Region that appears in ARNs and messages.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Account id that appears in ARNs and messages (12 digits).
    #[arg(long, default_value = "000000000000", value_parser = parse_account_id)]
    account_id: String,
    /// When records reach the disk: `page-cache` (survives a process crash), `sync` (every put
    /// waits for fsync, shared by concurrent puts), or `interval:<ms>` (fsync in the background).
    #[arg(long, default_value = "page-cache", value_parser = parse_durability)]
    durability: Durability,
    /// How long a new stream stays CREATING, and a registered consumer CREATING (and DELETING
    /// after deregistration), in ms (Kinesis takes seconds).
    #[arg(long, default_value_t = 0)]
    create_delay_ms: u64,
    /// How long a stream stays UPDATING after a reshard, a mode switch, an encryption change or a
    /// warm throughput change, in ms.
    #[arg(long, default_value_t = 0)]
    update_delay_ms: u64,
    /// Most open shards in all streams together: the account's shard quota, counted as Kinesis
    /// counts it (DescribeLimits reports it as ShardLimit and the count as OpenShardCount).
    ///
    /// A CreateStream, SplitShard, MergeShards or UpdateShardCount that would take the count past
    /// it fails with LimitExceededException, and an ON_DEMAND split that would does not happen. A
    /// reshard counts the shards it opens and stops counting the parents it closes: closed shards
    /// keep their records, and their files, until retention expires them, but do not count.
    /// DeleteStream gives its stream's open shards back. This bounds how many shards clients can
    /// make the server keep open, not how much each holds (retention and the write rate decide
    /// that). Lowering it below the shards already open refuses growth and removes nothing.
    #[arg(long, default_value_t = 1000)]
    shard_limit: u64,
    /// Most UpdateShardCount calls per stream in a rolling 24 hours (Kinesis: 10), or `none`.
    #[arg(long, default_value = "10", value_parser = parse_daily_limit)]
    shard_count_updates_per_day: DailyLimit,
    /// Most capacity-mode switches per stream in a rolling 24 hours (Kinesis: 2), or `none`.
    #[arg(long, default_value = "2", value_parser = parse_daily_limit)]
    mode_switches_per_day: DailyLimit,
    /// Largest size of a segment file, in MiB: a shard's segments start at 32 KiB and grow
    /// fourfold to it as the shard fills them.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    segment_mib: u64,
    /// MaxRecordSizeInKiB for streams created without one (1024–10240).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1024..=10240))]
    max_record_size_kib: Option<u32>,
    /// Accept only requests signed with this key (`ACCESS_KEY:SECRET`, repeatable). Without it,
    /// any well-formed SigV4 signature is accepted.
    #[arg(long = "credentials", value_parser = parse_credentials)]
    credentials: Vec<(String, String)>,
    /// Hold PROVISIONED streams to Kinesis' per-shard limits (writes 1 MiB/s and 1 000 records/s,
    /// reads 2 MiB/s and 5 calls/s), refusing the excess with ProvisionedThroughputExceeded.
    #[arg(long)]
    enforce_throughput_limits: bool,
    /// Most connections served at once. At the cap, the connection idle the longest (at least
    /// 1 s) is closed to make room for a new one.
    #[arg(long, default_value_t = 1024)]
    connections_max: usize,
    /// Close a connection with no request in progress and no byte moving for this many seconds.
    #[arg(long, default_value_t = IDLE_TIMEOUT_DEFAULT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout_secs: u64,
    /// Also accept requests addressed to this host name or address (repeatable; `*` for any).
    /// Only localhost, loopback addresses and the address the server listens on are accepted
    /// otherwise, so that web pages cannot reach it through DNS rebinding: add the name that
    /// containers or LAN clients use to reach it.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// Let web pages from this origin (`http://host:port`) call the server from the browser
    /// (repeatable; `*` for any page at all). Without it no cross-origin request is served; the
    /// console, served by the server itself, needs none.
    #[arg(long = "cors-origin", value_name = "ORIGIN", value_parser = parse_origin)]
    cors_origins: Vec<String>,
    /// Most threads running API calls at once (tokio's blocking pool); further calls wait for one.
    #[arg(long, default_value_t = BLOCKING_THREADS_DEFAULT,
          value_parser = clap::value_parser!(u16).range(1..=512).map(usize::from))]
    blocking_threads: usize,
    /// Log filter: error, warn, info (one line per request), debug, trace, or a tracing directive.
    #[arg(long, default_value = "info")]
    log_level: String,
}

fn parse_account_id(text: &str) -> Result<String, String> {
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err("an account id is 12 digits".to_owned())
    }
}

/// A per-day limit: a count, or none.
#[derive(Clone, Copy)]
struct DailyLimit(Option<u32>);

fn parse_daily_limit(text: &str) -> Result<DailyLimit, String> {
    match text {
        "none" => Ok(DailyLimit(None)),
        _ => text
            .parse()
            .map(|limit| DailyLimit(Some(limit)))
            .map_err(|_| "expected a count or none".to_owned()),
    }
}

fn parse_durability(text: &str) -> Result<Durability, String> {
    match text {
        "page-cache" => Ok(Durability::PageCache),
        "sync" => Ok(Durability::Sync),
        _ => text
            .strip_prefix("interval:")
            .and_then(|ms| ms.parse::<u64>().ok())
            .filter(|&ms| ms > 0)
            .map(|ms| Durability::Interval(Duration::from_millis(ms)))
            .ok_or_else(|| "expected page-cache, sync or interval:<ms>".to_owned()),
    }
}

fn parse_origin(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    match rest {
        _ if text == "*" => Ok(text.to_owned()),
        Some(host) if !host.is_empty() && !host.trim_end_matches('/').contains('/') => {
            Ok(text.to_owned())
        }
        _ => Err(
            "expected an origin such as http://localhost:3000 (scheme, host, port), or *"
                .to_owned(),
        ),
    }
}

fn parse_credentials(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((key, secret)) if !key.is_empty() && !secret.is_empty() => {
            Ok((key.to_owned(), secret.to_owned()))
        }
        _ => Err("expected ACCESS_KEY:SECRET".to_owned()),
    }
}

fn main() -> std::process::ExitCode {
    let Command::Serve(args) = Cli::parse().command;
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    rlimit::raise_open_files_limit();
    // Workers stay at tokio's default (one per core): they only accept, read bodies and answer.
    // The calls themselves run on the blocking pool, bounded so the server's thread count does
    // not grow with its load (see BLOCKING_THREADS_DEFAULT for the arithmetic).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(args.blocking_threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "shardlog serve failed");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let options = EngineOptions {
        durability: args.durability,
        create_delay_ms: args.create_delay_ms,
        update_delay_ms: args.update_delay_ms,
        enforce_throughput_limits: args.enforce_throughput_limits,
        segment_bytes: args.segment_mib << 20,
        limits: EngineLimits {
            max_open_shards: args.shard_limit,
            shard_count_updates_per_day: args.shard_count_updates_per_day.0,
            mode_switches_per_day: args.mode_switches_per_day.0,
            ..EngineLimits::default()
        },
        account_id: args.account_id,
        region: args.region,
        ..EngineOptions::default()
    };
    let data_dir = args.data_dir.clone();
    let engine =
        Arc::new(tokio::task::spawn_blocking(move || Engine::open(&data_dir, options)).await??);
    // A damaged stream does not stop the server: it answers InternalFailure naming the damage.
    for damaged in engine.damaged_streams() {
        tracing::error!(
            stream = %damaged.name,
            damage = %damaged.damage,
            "stream cannot be served (every other stream is); delete it, or repair its files \
             under the data directory's streams/ and restart"
        );
    }
    let config = ServerConfig {
        listen: args.listen,
        credentials: Credentials::new(args.credentials),
        default_max_record_size_kib: args.max_record_size_kib,
        connections_max: args.connections_max,
        idle_timeout: Duration::from_secs(args.idle_timeout_secs),
        allowed_hosts: args.allow_hosts,
        cors_origins: args.cors_origins,
        ..ServerConfig::default()
    };
    let verifying = config.credentials.verifies();
    let server = Server::bind(config, Arc::clone(&engine)).await?;
    tracing::info!(
        address = %server.local_addr()?,
        data_dir = %args.data_dir.display(),
        signatures = if verifying { "verified" } else { "accepted unverified" },
        "shardlog serving the Kinesis API"
    );
    server.run(shutdown_signal()).await?;
    tokio::task::spawn_blocking(move || engine.sync()).await??;
    tracing::info!("engine flushed; bye");
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
