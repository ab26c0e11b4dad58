//! The cost of observability: ingest and search through `aiex up` with metrics and
//! tracing off, and on (`--metrics-listen` scraped, traces exported over OTLP/HTTP to a
//! collector in this process at 1% sampling), run side by side in alternating order.
//!
//! `obs-bench --corpus DIR [--runs 3] [--requests 3000] [--clients 8]`

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aiex_proto::v1 as pb;
use anyhow::{Context, Result, bail};
use clap::Parser;
use tonic::transport::Channel;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    /// The `aiex` binary [default: $CARGO_TARGET_DIR/release/aiex, else target/release/aiex].
    #[arg(long)]
    aiex: Option<PathBuf>,
    /// The corpus to ingest [default: the Elixir source from scripts/fetch-elixir-corpus.sh].
    #[arg(long)]
    corpus: Option<PathBuf>,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Searches per run and mode.
    #[arg(long, default_value_t = 3000)]
    requests: usize,
    /// Concurrent search clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    #[arg(long, default_value_t = 4)]
    partitions: u32,
}

const QUERIES: &[&str] = &[
    "GenServer.call",
    "handle_info/2",
    "String.split",
    "parse command line switches",
    "read a file line by line",
    "Enum.map",
    "start a supervisor with child specs",
    "Keyword.get",
];

/// An OTLP/HTTP endpoint that accepts every export (counting requests and bytes).
struct Collector {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
}

fn start_collector() -> Result<Collector> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let requests = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let (r, b) = (requests.clone(), bytes.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let (r, b) = (r.clone(), b.clone());
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 65536];
                loop {
                    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match conn.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + 4 + length {
                        match conn.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..head_end + 4 + length);
                    r.fetch_add(1, Ordering::Relaxed);
                    b.fetch_add(length as u64, Ordering::Relaxed);
                    let reply = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                    if conn.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(Collector {
        addr,
        requests,
        bytes,
    })
}

/// A running `aiex up`.
struct Up {
    child: Child,
    url: String,
    metrics: Option<String>,
    _scratch: tempfile::TempDir,
}

impl Up {
    fn start(aiex: &Path, partitions: u32, observed: Option<&Collector>) -> Result<Up> {
        let scratch = tempfile::tempdir()?;
        let addr_file = scratch.path().join("addr");
        let log_path = scratch.path().join("up.log");
        let mut command = Command::new(aiex);
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().to_string();
            if key.starts_with("AIEX_") || key.starts_with("OTEL_") {
                command.env_remove(key);
            }
        }
        command
            .env("XDG_CONFIG_HOME", scratch.path())
            .arg("--data-dir")
            .arg(scratch.path().join("data"))
            .arg("--partitions")
            .arg(partitions.to_string())
            .args(["up", "--listen", "127.0.0.1:0", "--addr-file"])
            .arg(&addr_file)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path)?);
        if let Some(c) = observed {
            command
                .args(["--metrics-listen", "127.0.0.1:0"])
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{}", c.addr))
                .env("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
                .env("OTEL_TRACES_SAMPLER_ARG", "0.01");
        }
        let mut child = command.spawn().context("starting aiex up")?;
        let deadline = Instant::now() + Duration::from_secs(120);
        let url = loop {
            if let Ok(url) = std::fs::read_to_string(&addr_file)
                && url.ends_with('\n')
            {
                break url.trim().to_string();
            }
            if let Some(status) = child.try_wait()? {
                bail!(
                    "aiex up exited with {status}: {}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("aiex up wrote no address within 120 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // The metrics address is in the log (`--metrics-listen` with port 0).
        let metrics = observed.and_then(|_| {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            log.lines().find_map(|l| {
                let i = l.find("http://")?;
                let rest = &l[i + 7..];
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '/')
                    .unwrap_or(rest.len());
                l.contains("metrics").then(|| rest[..end].to_string())
            })
        });
        Ok(Up {
            child,
            url,
            metrics,
            _scratch: scratch,
        })
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `aiex repo add` of the corpus; seconds until searchable.
fn ingest(aiex: &Path, url: &str, corpus: &Path) -> Result<f64> {
    let out = Command::new(aiex)
        .args(["--addr", url, "repo", "add"])
        .arg(corpus)
        .args(["--name", "corpus", "--json"])
        .stderr(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!("repo add failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    v["total_seconds"]
        .as_f64()
        .context("repo add printed no total_seconds")
}

/// Searches per second with `clients` concurrent clients sending `requests` in all.
async fn search_rate(url: &str, requests: usize, clients: usize) -> Result<f64> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let channel = Channel::from_shared(url.to_string())?.connect().await?;
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = pb::search_client::SearchClient::new(channel);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= requests {
                    return Ok::<_, tonic::Status>(());
                }
                client
                    .search(pb::SearchRequest {
                        query: QUERIES[i % QUERIES.len()].to_string(),
                        filters: None,
                        limit: 10,
                    })
                    .await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(requests as f64 / started.elapsed().as_secs_f64())
}

fn scrape(addr: &str) -> Result<usize> {
    let mut conn = std::net::TcpStream::connect(addr)?;
    write!(
        conn,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut body = String::new();
    conn.read_to_string(&mut body)?;
    Ok(body.lines().filter(|l| l.starts_with("aiex_")).count())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let args = Args::parse();
    let aiex = args.aiex.clone().unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| PathBuf::from("target"), PathBuf::from)
            .join("release/aiex")
    });
    if !aiex.exists() {
        bail!(
            "no aiex binary at {}: build it with `cargo build --release -p aiex`",
            aiex.display()
        );
    }
    let corpus = match &args.corpus {
        Some(c) => c.clone(),
        None => aiex_bench::elixir_corpus_dir()?,
    };
    let collector = start_collector()?;
    let rt = tokio::runtime::Runtime::new()?;
    let (mut ingest_off, mut ingest_on, mut search_off, mut search_on) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut series = 0;
    for run in 0..args.runs {
        // Alternate which mode goes first, so drift on a shared machine hits both.
        let order = if run % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for observed in order {
            let up = Up::start(&aiex, args.partitions, observed.then_some(&collector))?;
            let secs = ingest(&aiex, &up.url, &corpus)?;
            // Warm up, then measure.
            rt.block_on(search_rate(&up.url, 200, args.clients))?;
            let rate = rt.block_on(search_rate(&up.url, args.requests, args.clients))?;
            if observed {
                if let Some(m) = &up.metrics {
                    series = scrape(m)?;
                }
                ingest_on.push(secs);
                search_on.push(rate);
            } else {
                ingest_off.push(secs);
                search_off.push(rate);
            }
            eprintln!(
                "run {run} {}: ingest {secs:.2} s, search {rate:.0} req/s",
                if observed { "on " } else { "off" }
            );
        }
    }
    // Let the batch exporter's last export arrive.
    std::thread::sleep(Duration::from_millis(500));
    let (io, ii) = (median(ingest_off.clone()), median(ingest_on.clone()));
    let (so, si) = (median(search_off.clone()), median(search_on.clone()));
    println!(
        "ingest (s, median of {}): off {io:.2}, on {ii:.2}: on/off time {:.3}",
        args.runs,
        ii / io
    );
    println!(
        "search (req/s, {} clients, median of {}): off {so:.0}, on {si:.0}: on/off throughput {:.3}",
        args.clients,
        args.runs,
        si / so
    );
    println!(
        "exported: {} OTLP requests, {} bytes; /metrics served {series} aiex_ samples",
        collector.requests.load(Ordering::Relaxed),
        collector.bytes.load(Ordering::Relaxed)
    );
    println!(
        "{}",
        serde_json::json!({
            "ingest_seconds_off": ingest_off, "ingest_seconds_on": ingest_on,
            "search_rps_off": search_off, "search_rps_on": search_on,
            "ingest_ratio": ii / io, "search_ratio": si / so,
            "otlp_requests": collector.requests.load(Ordering::Relaxed),
            "metrics_samples": series,
        })
    );
    Ok(())
}
