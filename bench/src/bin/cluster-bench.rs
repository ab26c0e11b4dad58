//! The mesh against the embedded mode: real `nats-server`, `aiex node` and `aiex gateway`
//! processes on this machine, driven like a user would (`aiex repo add`) and measured
//! from outside (gRPC clients in this process, CPU time from /proc).
//!
//! - `ingest --nodes 1,3 --corpus DIR [--runs 3]`: for each run, a fresh `aiex up` and,
//!   for each N, a fresh cluster (nats-server with JetStream, N nodes with R = min(2, N),
//!   one gateway); times `aiex repo add DIR` (spawn to exit: walk, upload, publish,
//!   index, wait until searchable) and reads the CPU seconds every server process used.
//! - `search --nodes 1,3 --corpus DIR [--requests 300]`: the embedded server and one
//!   cluster per N, all running at once, each holding DIR; then one sequential client
//!   per mode (a tonic `aiex.v1.Search` client in this process), requests interleaved
//!   across the modes so every mode sees the same minutes.
//! - `failover --corpus DIR [--runs 5]`: 3 nodes, R = 2, DIR indexed; each run kills -9
//!   one node other than the seed `n1` and measures the time until the gateway's cluster
//!   status no longer lists it, and until every partition is held, with a caught-up
//!   watermark, by every holder of the new placement; then restarts it and waits until
//!   the placement with it is complete again (also timed).
//!
//! Each step prints a table, then one JSON line with every number.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aiex_bench::up::{aiex_binary, aiex_command, cpu_seconds_of};
use aiex_bench::{QUERY_MIX, mb_per_s, percentile};
use aiex_proto::mesh::v1 as mesh;
use aiex_proto::v1 as pb;
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use tonic::transport::Channel;

#[derive(Parser)]
struct Args {
    /// The `aiex` binary [default: $CARGO_TARGET_DIR/release/aiex, else target/release/aiex].
    #[arg(long, global = true)]
    aiex: Option<PathBuf>,
    /// The `nats-server` binary.
    #[arg(long, global = true, default_value = "nats-server")]
    nats_server: PathBuf,
    /// Partitions of every member and of the embedded server.
    #[arg(long, global = true, default_value_t = 64)]
    partitions: u32,
    /// Indexing threads of every node and of `aiex up` [default: the binary's, one per core].
    #[arg(long, global = true)]
    index_threads: Option<usize>,
    /// Gossip interval of every member, ms [default: the binary's, 500].
    #[arg(long, global = true)]
    gossip_interval_ms: Option<u64>,
    /// Keep the scratch directories (logs, data) under this directory instead of deleting them.
    #[arg(long, global = true)]
    keep: Option<PathBuf>,
    #[command(subcommand)]
    step: Step,
}

#[derive(Subcommand)]
enum Step {
    /// `aiex repo add` into 1..N-node clusters vs `aiex up`: time to searchable, CPU per process.
    Ingest {
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long, value_delimiter = ',', default_value = "1,3")]
        nodes: Vec<usize>,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Search latency through the gateway of 1..N-node clusters vs `aiex up`.
    Search {
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long, value_delimiter = ',', default_value = "1,3")]
        nodes: Vec<usize>,
        /// Timed requests per mode (the query mix round-robin).
        #[arg(long, default_value_t = 300)]
        requests: usize,
    },
    /// Kill -9 one of 3 nodes (R = 2): time to dead, time to complete re-placement.
    Failover {
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What every process start needs.
struct Env {
    aiex: PathBuf,
    nats_server: PathBuf,
    partitions: u32,
    index_threads: Option<usize>,
    gossip_interval_ms: Option<u64>,
    root: PathBuf,
    _scratch: Option<tempfile::TempDir>,
    rt: tokio::runtime::Runtime,
}

impl Env {
    /// A fresh directory for one cluster or server.
    fn dir(&self, prefix: &str) -> Result<PathBuf> {
        let d = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(&self.root)?
            .keep();
        Ok(d)
    }
}

fn main() -> Result<()> {
    aiex_node::alloc::init();
    let args = Args::parse();
    let aiex = aiex_binary(args.aiex)?;
    let (root, scratch) = match &args.keep {
        Some(k) => {
            std::fs::create_dir_all(k)?;
            (k.clone(), None)
        }
        None => {
            let t = tempfile::tempdir()?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let env = Env {
        aiex,
        nats_server: args.nats_server,
        partitions: args.partitions,
        index_threads: args.index_threads,
        gossip_interval_ms: args.gossip_interval_ms,
        root,
        _scratch: scratch,
        rt: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?,
    };
    match args.step {
        Step::Ingest {
            corpus,
            nodes,
            runs,
        } => ingest(&env, &corpus, &nodes, runs),
        Step::Search {
            corpus,
            nodes,
            requests,
        } => search(&env, &corpus, &nodes, requests),
        Step::Failover { corpus, runs } => failover(&env, &corpus, runs),
    }
}

// ---------------------------------------------------------------------------------------
// Processes

/// A running child process with its own log file.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
    /// The URL from its `--addr-file`, once written.
    url: String,
}

impl Proc {
    fn spawn(name: &str, mut command: Command, log: PathBuf) -> Result<Proc> {
        // Appends, so a restarted member keeps its earlier log.
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let child = command
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Proc {
            name: name.to_string(),
            child,
            log,
            url: String::new(),
        })
    }

    /// Waits until `file` holds a full line (the address), within 120 s.
    fn wait_addr(&mut self, file: &Path) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(url) = std::fs::read_to_string(file)
                && url.ends_with('\n')
            {
                self.url = url.trim().to_string();
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited with {status}: {}", self.name, self.log_tail());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} wrote no address within 120 s: {}",
                    self.name,
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn cpu(&self) -> f64 {
        cpu_seconds_of(self.pid())
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: signalling a child this process spawned and has not yet reaped.
        unsafe {
            libc::kill(self.pid() as libc::pid_t, sig);
        }
    }

    /// SIGKILL, then reap.
    fn kill9(mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // SIGTERM first so servers flush; SIGKILL after 10 s.
            self.signal(libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Peak resident memory of a running process.
fn peak_rss_of(pid: u32) -> u64 {
    aiex_bench::up::peak_rss_of(&format!("/proc/{pid}/status"))
}

/// A port nothing listens on now (TCP or UDP, as asked).
fn free_port(udp: bool) -> Result<u16> {
    Ok(if udp {
        std::net::UdpSocket::bind("127.0.0.1:0")?
            .local_addr()?
            .port()
    } else {
        std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port()
    })
}

/// The embedded mode: one `aiex up`.
struct Embedded {
    proc: Proc,
}

impl Embedded {
    fn start(env: &Env) -> Result<Embedded> {
        let dir = env.dir("up-")?;
        let addr = dir.join("addr");
        let mut c = aiex_command(&env.aiex, &dir);
        c.arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--partitions", &env.partitions.to_string()])
            .args(["up", "--listen", "127.0.0.1:0", "--addr-file"])
            .arg(&addr);
        if let Some(t) = env.index_threads {
            c.args(["--index-threads", &t.to_string()]);
        }
        let mut proc = Proc::spawn("aiex up", c, dir.join("up.log"))?;
        proc.wait_addr(&addr)?;
        Ok(Embedded { proc })
    }
}

/// One member's fixed identity, kept across restarts.
struct MemberSpec {
    id: String,
    dir: PathBuf,
    gossip: u16,
}

/// nats-server + N `aiex node` + one `aiex gateway`.
struct Cluster {
    n: usize,
    replicas: u32,
    nats_url: String,
    seed: String,
    specs: Vec<MemberSpec>,
    nodes: Vec<Option<Proc>>,
    gateway: Option<Proc>,
    gateway_dir: PathBuf,
    // Dropped last (fields drop in order): the gateway and nodes stop before NATS.
    nats: Proc,
}

impl Cluster {
    fn start(env: &Env, n: usize) -> Result<Cluster> {
        let dir = env.dir(&format!("cluster{n}-"))?;
        // NATS with JetStream and payloads up to 8 MB.
        let port = free_port(false)?;
        let conf = dir.join("nats.conf");
        std::fs::write(
            &conf,
            format!(
                "host: 127.0.0.1\nport: {port}\nmax_payload: 8MB\njetstream {{ store_dir: \"{}\" }}\n",
                dir.join("js").display()
            ),
        )?;
        let mut c = Command::new(&env.nats_server);
        c.arg("-c").arg(&conf);
        let nats = Proc::spawn("nats-server", c, dir.join("nats.log"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!(
                    "nats-server did not listen within 30 s: {}",
                    nats.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut specs = Vec::new();
        for i in 1..=n {
            let d = dir.join(format!("n{i}"));
            std::fs::create_dir_all(&d)?;
            specs.push(MemberSpec {
                id: format!("n{i}"),
                dir: d,
                gossip: free_port(true)?,
            });
        }
        let seed = format!("127.0.0.1:{}", specs[0].gossip);
        let gateway_dir = dir.join("gw");
        std::fs::create_dir_all(&gateway_dir)?;
        let mut cluster = Cluster {
            n,
            replicas: n.min(2) as u32,
            nats_url: format!("nats://127.0.0.1:{port}"),
            seed,
            specs,
            nodes: Vec::new(),
            gateway: None,
            gateway_dir,
            nats,
        };
        for i in 0..n {
            let p = cluster.spawn_node(env, i)?;
            cluster.nodes.push(Some(p));
        }
        let gw = cluster.spawn_gateway(env)?;
        cluster.gateway = Some(gw);
        for node in cluster.nodes.iter_mut().flatten() {
            let addr = node.log.with_file_name("addr");
            node.wait_addr(&addr)?;
        }
        let addr = cluster.gateway_dir.join("addr");
        cluster.gateway.as_mut().unwrap().wait_addr(&addr)?;
        let all: Vec<String> = cluster.specs.iter().map(|s| s.id.clone()).collect();
        let secs = cluster.wait_converged(env, &all, Duration::from_secs(60))?;
        eprintln!("cluster of {n}: converged {secs:.2} s after the gateway listened");
        Ok(cluster)
    }

    fn mesh_args(&self, c: &mut Command, env: &Env, id: &str, gossip: u16, addr: &Path) {
        c.args(["--nats", &self.nats_url, "--node-id", id])
            .args(["--listen", "127.0.0.1:0"])
            .args(["--gossip-listen", &format!("127.0.0.1:{gossip}")])
            .args(["--seeds", &self.seed])
            .args(["--replicas", &self.replicas.to_string()])
            .arg("--addr-file")
            .arg(addr);
        if let Some(ms) = env.gossip_interval_ms {
            c.args(["--gossip-interval-ms", &ms.to_string()]);
        }
    }

    /// Starts node `i` (0-based) on its data directory; its address file is removed
    /// first so a restart waits for the new address.
    fn spawn_node(&self, env: &Env, i: usize) -> Result<Proc> {
        let s = &self.specs[i];
        let addr = s.dir.join("addr");
        let _ = std::fs::remove_file(&addr);
        let mut c = aiex_command(&env.aiex, &s.dir);
        c.arg("--data-dir").arg(s.dir.join("data")).args([
            "--partitions",
            &env.partitions.to_string(),
            "node",
        ]);
        self.mesh_args(&mut c, env, &s.id, s.gossip, &addr);
        if let Some(t) = env.index_threads {
            c.args(["--index-threads", &t.to_string()]);
        }
        Proc::spawn(&s.id, c, s.dir.join("node.log"))
    }

    fn spawn_gateway(&self, env: &Env) -> Result<Proc> {
        let addr = self.gateway_dir.join("addr");
        let mut c = aiex_command(&env.aiex, &self.gateway_dir);
        c.arg("--data-dir")
            .arg(self.gateway_dir.join("data"))
            .args(["--partitions", &env.partitions.to_string(), "gateway"]);
        let gossip = free_port(true).unwrap_or(0);
        self.mesh_args(&mut c, env, "gw", gossip, &addr);
        Proc::spawn("gateway", c, self.gateway_dir.join("gateway.log"))
    }

    fn url(&self) -> &str {
        &self.gateway.as_ref().unwrap().url
    }

    fn status(&self, env: &Env) -> Result<pb::ClusterStatus> {
        let url = self.url().to_string();
        env.rt.block_on(async move {
            let ch = Channel::from_shared(url)?
                .connect_timeout(Duration::from_secs(2))
                .timeout(Duration::from_secs(5))
                .connect()
                .await?;
            Ok(pb::cluster_client::ClusterClient::new(ch)
                .status(pb::ClusterStatusRequest {})
                .await?
                .into_inner())
        })
    }

    /// Waits until the gateway sees exactly `ids` as ready nodes and places every
    /// partition on them alone (each on `replicas` of them); returns the seconds waited.
    fn wait_converged(&self, env: &Env, ids: &[String], within: Duration) -> Result<f64> {
        let started = Instant::now();
        let want: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
        let mut last;
        loop {
            match self.status(env) {
                Ok(s) if converged(&s, &want, self.replicas, env.partitions) => {
                    return Ok(started.elapsed().as_secs_f64());
                }
                Ok(s) => last = format!("{s:?}"),
                Err(e) => last = format!("{e:#}"),
            }
            if started.elapsed() > within {
                bail!(
                    "the cluster did not converge on {want:?} within {within:?}; last status: {last}\ngateway log:\n{}",
                    self.gateway.as_ref().unwrap().log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every live node's partitions and watermarks.
    fn holdings(&self, env: &Env) -> Result<BTreeMap<String, BTreeMap<u32, u64>>> {
        let urls: Vec<(String, String)> = self
            .nodes
            .iter()
            .zip(&self.specs)
            .filter_map(|(p, s)| p.as_ref().map(|p| (s.id.clone(), p.url.clone())))
            .collect();
        env.rt.block_on(async move {
            let mut out = BTreeMap::new();
            for (id, url) in urls {
                let ch = Channel::from_shared(url)?
                    .connect_timeout(Duration::from_secs(2))
                    .timeout(Duration::from_secs(5))
                    .connect()
                    .await?;
                let r = mesh::node_client::NodeClient::new(ch)
                    .partitions(mesh::PartitionsRequest {})
                    .await?
                    .into_inner();
                out.insert(
                    id,
                    r.partitions
                        .into_iter()
                        .map(|p| (p.partition, p.watermark))
                        .collect(),
                );
            }
            Ok::<_, anyhow::Error>(out)
        })
    }
}

fn converged(s: &pb::ClusterStatus, want: &BTreeSet<&str>, replicas: u32, partitions: u32) -> bool {
    let nodes: BTreeSet<&str> = s
        .members
        .iter()
        .filter(|m| m.role() == pb::Role::Node)
        .map(|m| m.node_id.as_str())
        .collect();
    let ready = s
        .members
        .iter()
        .filter(|m| m.role() == pb::Role::Node)
        .all(|m| m.ready);
    if nodes != *want || !ready || s.placement.len() != partitions as usize {
        return false;
    }
    let mut placed = BTreeSet::new();
    for p in &s.placement {
        let holders: BTreeSet<&str> = std::iter::once(p.owner.as_str())
            .chain(p.replicas.iter().map(String::as_str))
            .collect();
        if holders.len() != replicas as usize || !holders.is_subset(want) {
            return false;
        }
        placed.extend(holders);
    }
    placed == *want
}

/// The partitions of `placement` whose holders do not all hold them with a watermark
/// of at least `target` (partitions absent from `target` count as caught up at any
/// watermark, but must still be held).
fn lagging(
    placement: &[pb::PartitionPlacement],
    holdings: &BTreeMap<String, BTreeMap<u32, u64>>,
    target: &BTreeMap<u32, u64>,
) -> usize {
    placement
        .iter()
        .filter(|p| {
            let want = target.get(&p.partition).copied().unwrap_or(0);
            std::iter::once(&p.owner).chain(&p.replicas).any(|h| {
                holdings
                    .get(h)
                    .and_then(|m| m.get(&p.partition))
                    .is_none_or(|&w| w < want)
            })
        })
        .count()
}

/// The highest watermark of each partition over all nodes.
fn max_watermarks(h: &BTreeMap<String, BTreeMap<u32, u64>>) -> BTreeMap<u32, u64> {
    let mut out = BTreeMap::new();
    for m in h.values() {
        for (&p, &w) in m {
            let e = out.entry(p).or_insert(0);
            *e = (*e).max(w);
        }
    }
    out
}

/// Runs `aiex --addr URL repo add DIR --name elixir --json` to completion: its wall
/// time (spawn to exit) and its JSON summary.
fn repo_add(env: &Env, url: &str, corpus: &Path) -> Result<(f64, Value)> {
    let home = env.dir("client-")?;
    let started = Instant::now();
    let out = aiex_command(&env.aiex, &home)
        .args(["--addr", url, "repo", "add"])
        .arg(corpus)
        .args(["--name", "elixir", "--json"])
        .stdin(Stdio::null())
        .output()
        .context("running `aiex repo add`")?;
    let secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "`aiex repo add` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
        );
    }
    let summary: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "`aiex repo add --json` printed no JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    if summary["state"] != "ready" {
        bail!("`aiex repo add` ended with the repository not ready: {summary}");
    }
    Ok((secs, summary))
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    percentile(&s, 0.5)
}

fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------
// ingest

/// One `repo add` into one mode.
#[derive(Clone)]
struct IngestRun {
    seconds: f64,
    summary: Value,
    /// CPU seconds during the add: (process name, seconds).
    cpu: Vec<(String, f64)>,
    peak_rss: Vec<(String, u64)>,
}

fn ingest(env: &Env, corpus: &Path, nodes: &[usize], runs: usize) -> Result<()> {
    // Mode 0 is embedded, then one per cluster size.
    let modes: Vec<Option<usize>> = std::iter::once(None)
        .chain(nodes.iter().map(|&n| Some(n)))
        .collect();
    let name = |m: &Option<usize>| match m {
        None => "embedded `aiex up`".to_string(),
        Some(n) => format!(
            "cluster, {n} node{}, R={}",
            if *n == 1 { "" } else { "s" },
            n.min(&2)
        ),
    };
    let mut results: Vec<Vec<IngestRun>> = vec![Vec::new(); modes.len()];
    for run in 0..runs.max(1) {
        // Rotate the order so no mode always gets the same slot.
        for k in 0..modes.len() {
            let mi = (k + run) % modes.len();
            let r = match modes[mi] {
                None => {
                    let up = Embedded::start(env)?;
                    let before = up.proc.cpu();
                    let (seconds, summary) = repo_add(env, &up.proc.url, corpus)?;
                    let cpu = up.proc.cpu() - before;
                    let rss = peak_rss_of(up.proc.pid());
                    drop(up);
                    IngestRun {
                        seconds,
                        summary,
                        cpu: vec![("up".into(), cpu)],
                        peak_rss: vec![("up".into(), rss)],
                    }
                }
                Some(n) => {
                    let cluster = Cluster::start(env, n)?;
                    let mut procs: Vec<&Proc> = cluster.nodes.iter().flatten().collect();
                    procs.push(cluster.gateway.as_ref().unwrap());
                    procs.push(&cluster.nats);
                    let before: Vec<f64> = procs.iter().map(|p| p.cpu()).collect();
                    let (seconds, summary) = repo_add(env, cluster.url(), corpus)?;
                    let cpu = procs
                        .iter()
                        .zip(&before)
                        .map(|(p, b)| (p.name.clone(), p.cpu() - b))
                        .collect();
                    let peak_rss = procs
                        .iter()
                        .map(|p| (p.name.clone(), peak_rss_of(p.pid())))
                        .collect();
                    drop(procs);
                    drop(cluster);
                    IngestRun {
                        seconds,
                        summary,
                        cpu,
                        peak_rss,
                    }
                }
            };
            eprintln!(
                "run {run}: {}: {:.2} s (upload {:.2} s), {} files indexed; CPU s {} (load {})",
                name(&modes[mi]),
                r.seconds,
                r.summary["upload_seconds"].as_f64().unwrap_or(0.0),
                r.summary["files_indexed"],
                r.cpu
                    .iter()
                    .map(|(n, c)| format!("{n} {c:.2}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                load_avg()
            );
            results[mi].push(r);
        }
    }

    let files_indexed: Vec<u64> = results
        .iter()
        .flatten()
        .map(|r| r.summary["files_indexed"].as_u64().unwrap_or(0))
        .collect();
    if files_indexed.iter().any(|&f| f != files_indexed[0]) {
        eprintln!("warning: the runs report different numbers of files indexed: {files_indexed:?}");
    }
    let first = &results[0][0].summary;
    let bytes = first["bytes"].as_u64().unwrap_or(0) as usize;
    let files = first["files_seen"]
        .as_u64()
        .or(first["files_indexed"].as_u64())
        .unwrap_or(0) as f64;
    println!(
        "{} files indexed, {:.2} MB uploaded, {} runs per mode; load average at the end {}",
        files_indexed[0],
        bytes as f64 / 1e6,
        runs,
        load_avg()
    );
    println!(
        "| mode | median s | best s | files/s (median) | MB/s (median) | upload s (median) | CPU s per node (median) | node CPU s total | gateway CPU s | nats CPU s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    let mut node_total_by_mode = Vec::new();
    for (mi, rs) in results.iter().enumerate() {
        let secs: Vec<f64> = rs.iter().map(|r| r.seconds).collect();
        let (med, best) = (
            median(&secs),
            secs.iter().copied().fold(f64::INFINITY, f64::min),
        );
        let upload = median(
            &rs.iter()
                .map(|r| r.summary["upload_seconds"].as_f64().unwrap_or(0.0))
                .collect::<Vec<_>>(),
        );
        // Median CPU per process name across runs.
        let mut names: Vec<String> = rs[0].cpu.iter().map(|(n, _)| n.clone()).collect();
        names.dedup();
        let per: BTreeMap<String, f64> = names
            .iter()
            .map(|n| {
                let v: Vec<f64> = rs
                    .iter()
                    .filter_map(|r| r.cpu.iter().find(|(m, _)| m == n).map(|(_, c)| *c))
                    .collect();
                (n.clone(), median(&v))
            })
            .collect();
        let node_cpus: Vec<(&String, f64)> = per
            .iter()
            .filter(|(n, _)| !matches!(n.as_str(), "gateway" | "nats-server"))
            .map(|(n, c)| (n, *c))
            .collect();
        let node_total: f64 = node_cpus.iter().map(|(_, c)| c).sum();
        let gw = per.get("gateway").copied();
        let nats = per.get("nats-server").copied();
        node_total_by_mode.push((
            modes[mi],
            node_total,
            node_cpus.iter().map(|(_, c)| *c).fold(0.0, f64::max),
        ));
        println!(
            "| {} | {med:.2} | {best:.2} | {:.0} | {:.2} | {upload:.2} | {} | {node_total:.2} | {} | {} |",
            name(&modes[mi]),
            files / med,
            mb_per_s(bytes, med),
            node_cpus
                .iter()
                .map(|(n, c)| format!("{n} {c:.2}"))
                .collect::<Vec<_>>()
                .join(", "),
            gw.map_or("-".into(), |c| format!("{c:.2}")),
            nats.map_or("-".into(), |c| format!("{c:.2}")),
        );
        rows.push(json!({
            "mode": name(&modes[mi]),
            "nodes": modes[mi],
            "seconds": secs,
            "median_seconds": med,
            "best_seconds": best,
            "median_files_s": files / med,
            "median_mb_s": mb_per_s(bytes, med),
            "median_upload_seconds": upload,
            "median_cpu_seconds": per,
            "node_cpu_seconds_total": node_total,
            "runs": rs.iter().map(|r| json!({
                "seconds": r.seconds,
                "cpu": r.cpu.iter().map(|(n, c)| json!([n, c])).collect::<Vec<_>>(),
                "peak_rss": r.peak_rss.iter().map(|(n, b)| json!([n, b])).collect::<Vec<_>>(),
                "summary": r.summary,
            })).collect::<Vec<_>>(),
        }));
    }
    // Scaling on hardware where each node has its own cores: time ~ the busiest node's
    // CPU seconds (at the same cores per node), against the single node's.
    let single = node_total_by_mode
        .iter()
        .find(|(m, ..)| *m == Some(1))
        .map(|(_, t, _)| *t);
    let emb = node_total_by_mode
        .iter()
        .find(|(m, ..)| m.is_none())
        .map(|(_, t, _)| *t);
    let mut scaling = Vec::new();
    for (m, total, busiest) in &node_total_by_mode {
        if let (Some(n), Some(one)) = (m, single)
            && *n > 1
        {
            let r = n.min(&2);
            println!(
                "{n} nodes: node CPU total {total:.2} s = {:.2}x the single node's {one:.2} s (R={r}: ideal {r}.00x); busiest node {busiest:.2} s = {:.2} of it (ideal {r}/{n} = {:.2}) -> projected speed-up with a machine per node: {:.2}x",
                total / one,
                busiest / one,
                *r as f64 / *n as f64,
                one / busiest
            );
            scaling.push(json!({
                "nodes": n, "node_cpu_total": total, "single_node_cpu": one,
                "total_over_single": total / one, "busiest_node_cpu": busiest,
                "busiest_over_single": busiest / one, "projected_speedup": one / busiest,
            }));
        }
    }
    if let (Some(one), Some(e)) = (single, emb) {
        println!(
            "single-node cluster CPU / embedded CPU: {:.2} ({one:.2} / {e:.2} s)",
            one / e
        );
    }
    println!(
        "{}",
        json!({
            "step": "cluster_ingest",
            "corpus": corpus,
            "files_indexed": files_indexed[0],
            "bytes": bytes,
            "partitions": env.partitions,
            "index_threads": env.index_threads,
            "modes": rows,
            "scaling": scaling,
        })
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// search

fn search(env: &Env, corpus: &Path, nodes: &[usize], requests: usize) -> Result<()> {
    let up = Embedded::start(env)?;
    let mut clusters = Vec::new();
    for &n in nodes {
        clusters.push(Cluster::start(env, n)?);
    }
    let mut targets: Vec<(String, String)> =
        vec![("embedded `aiex up`".into(), up.proc.url.clone())];
    for c in &clusters {
        targets.push((
            format!("cluster, {} node(s), R={}", c.n, c.replicas),
            c.url().to_string(),
        ));
    }
    let mut index_secs = Vec::new();
    for (name, url) in &targets {
        let (secs, summary) = repo_add(env, url, corpus)?;
        eprintln!(
            "{name}: indexed {} files in {secs:.2} s",
            summary["files_indexed"]
        );
        index_secs.push(secs);
    }
    let urls: Vec<String> = targets.iter().map(|(_, u)| u.clone()).collect();
    // (latency s, server took s) per mode
    let samples = env.rt.block_on(async move {
        let mut clients = Vec::new();
        for url in &urls {
            let ch = Channel::from_shared(url.clone())?.connect().await?;
            clients.push(pb::search_client::SearchClient::new(ch));
        }
        let mut samples: Vec<Vec<(f64, f64)>> = vec![Vec::new(); urls.len()];
        let mut partial = vec![0usize; urls.len()];
        let m = clients.len();
        // Warm up: the whole mix twice on each.
        for i in 0..2 * QUERY_MIX.len() {
            for c in clients.iter_mut() {
                c.search(pb::SearchRequest {
                    query: QUERY_MIX[i % QUERY_MIX.len()].0.into(),
                    filters: None,
                    limit: 10,
                })
                .await?;
            }
        }
        for i in 0..requests {
            let q = QUERY_MIX[i % QUERY_MIX.len()].0;
            for k in 0..m {
                // Rotate which mode goes first.
                let mi = (k + i) % m;
                let t = Instant::now();
                let r = clients[mi]
                    .search(pb::SearchRequest {
                        query: q.into(),
                        filters: None,
                        limit: 10,
                    })
                    .await?
                    .into_inner();
                let lat = t.elapsed().as_secs_f64();
                if r.hits.is_empty() {
                    bail!("no hits for {q:?} from mode {mi}");
                }
                if !r.missing_partitions.is_empty() {
                    partial[mi] += 1;
                }
                samples[mi].push((lat, r.took_micros as f64 / 1e6));
            }
        }
        Ok::<_, anyhow::Error>((samples, partial))
    })?;
    let (samples, partial) = samples;
    println!(
        "{} requests per mode, sequential, one client, modes interleaved request by request; queries: the {} of `index-bench search`; load average {}",
        requests,
        QUERY_MIX.len(),
        load_avg()
    );
    println!(
        "| mode | p50 ms | p99 ms | mean ms | server-side p50 ms | p50 / embedded | p99 / embedded | partial answers |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let ms = |s: f64| s * 1e3;
    let stats: Vec<(f64, f64, f64, f64)> = samples
        .iter()
        .map(|s| {
            let mut l: Vec<f64> = s.iter().map(|x| x.0).collect();
            let mut t: Vec<f64> = s.iter().map(|x| x.1).collect();
            l.sort_by(f64::total_cmp);
            t.sort_by(f64::total_cmp);
            let mean = l.iter().sum::<f64>() / l.len() as f64;
            (
                percentile(&l, 0.5),
                percentile(&l, 0.99),
                mean,
                percentile(&t, 0.5),
            )
        })
        .collect();
    let mut rows = Vec::new();
    for (mi, (name, _)) in targets.iter().enumerate() {
        let (p50, p99, mean, s50) = stats[mi];
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            ms(p50),
            ms(p99),
            ms(mean),
            ms(s50),
            p50 / stats[0].0,
            p99 / stats[0].1,
            partial[mi]
        );
        // Per-query p50, to see which queries the fan-out costs most.
        let mut per_query = BTreeMap::new();
        for (qi, (q, _)) in QUERY_MIX.iter().enumerate() {
            let mut l: Vec<f64> = samples[mi]
                .iter()
                .enumerate()
                .filter(|(i, _)| i % QUERY_MIX.len() == qi)
                .map(|(_, x)| x.0)
                .collect();
            l.sort_by(f64::total_cmp);
            if !l.is_empty() {
                per_query.insert(q.to_string(), ms(percentile(&l, 0.5)));
            }
        }
        rows.push(json!({
            "mode": name, "p50_ms": ms(p50), "p99_ms": ms(p99), "mean_ms": ms(mean),
            "server_p50_ms": ms(s50), "p50_ratio": p50 / stats[0].0, "p99_ratio": p99 / stats[0].1,
            "partial": partial[mi], "index_seconds": index_secs[mi], "per_query_p50_ms": per_query,
        }));
    }
    println!(
        "{}",
        json!({
            "step": "cluster_search",
            "corpus": corpus,
            "requests": requests,
            "partitions": env.partitions,
            "modes": rows,
        })
    );
    drop(clusters);
    drop(up);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// failover

struct FailoverRun {
    victim: String,
    dead: f64,
    placed: f64,
    complete: f64,
    rejoin: f64,
    rejoin_complete: f64,
    searches: usize,
    partial_searches: usize,
    failed_searches: usize,
    moved: usize,
}

fn failover(env: &Env, corpus: &Path, runs: usize) -> Result<()> {
    let mut cluster = Cluster::start(env, 3)?;
    let (secs, summary) = repo_add(env, cluster.url(), corpus)?;
    eprintln!("indexed {} files in {secs:.2} s", summary["files_indexed"]);
    let all: Vec<String> = cluster.specs.iter().map(|s| s.id.clone()).collect();
    let mut out = Vec::new();
    let rt_url = cluster.url().to_string();
    for run in 0..runs.max(1) {
        // Steady state first: all three converged, every holder caught up.
        cluster.wait_converged(env, &all, Duration::from_secs(60))?;
        let before_status = cluster.status(env)?;
        let settle = Instant::now();
        let target = loop {
            let h = cluster.holdings(env)?;
            let t = max_watermarks(&h);
            if lagging(&before_status.placement, &h, &t) == 0 {
                break t;
            }
            if settle.elapsed() > Duration::from_secs(120) {
                bail!("holders did not catch up within 120 s before run {run}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let victim_i = 1 + run % 2; // n2, n3, n2, ...
        let victim = cluster.specs[victim_i].id.clone();
        let survivors: Vec<String> = all.iter().filter(|i| **i != victim).cloned().collect();
        let want: BTreeSet<&str> = survivors.iter().map(String::as_str).collect();
        // A searcher in the background: one request every 50 ms through the gateway.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let searcher = {
            let stop = stop.clone();
            let url = rt_url.clone();
            env.rt.spawn(async move {
                let (mut n, mut partial, mut failed) = (0usize, 0usize, 0usize);
                let ch = Channel::from_shared(url)?
                    .timeout(Duration::from_secs(5))
                    .connect()
                    .await?;
                let mut c = pb::search_client::SearchClient::new(ch);
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = c
                        .search(pb::SearchRequest {
                            query: QUERY_MIX[i % QUERY_MIX.len()].0.into(),
                            filters: None,
                            limit: 10,
                        })
                        .await;
                    i += 1;
                    n += 1;
                    match r {
                        Ok(r) if !r.get_ref().missing_partitions.is_empty() => partial += 1,
                        Ok(_) => {}
                        Err(_) => failed += 1,
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok::<_, anyhow::Error>((n, partial, failed))
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        let killed_at = Instant::now();
        cluster.nodes[victim_i].take().unwrap().kill9();
        // (a) dead: the victim gone from the gateway's members.
        let mut dead = None;
        let mut placed = None;
        let complete;
        let mut moved = 0;
        loop {
            let now = killed_at.elapsed().as_secs_f64();
            if now > 180.0 {
                bail!(
                    "run {run}: no complete re-placement within 180 s of killing {victim} (dead at {dead:?}, placed at {placed:?})"
                );
            }
            let s = match cluster.status(env) {
                Ok(s) => s,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            };
            if dead.is_none() && !s.members.iter().any(|m| m.node_id == victim) {
                dead = Some(now);
            }
            if dead.is_some() && placed.is_none() && converged(&s, &want, 2, env.partitions) {
                placed = Some(killed_at.elapsed().as_secs_f64());
                // Partitions whose holders changed.
                moved = s
                    .placement
                    .iter()
                    .zip(&before_status.placement)
                    .filter(|(a, b)| {
                        let ha: BTreeSet<&String> =
                            std::iter::once(&a.owner).chain(&a.replicas).collect();
                        let hb: BTreeSet<&String> =
                            std::iter::once(&b.owner).chain(&b.replicas).collect();
                        ha != hb
                    })
                    .count();
            }
            if placed.is_some() {
                let h = cluster.holdings(env)?;
                if lagging(&s.placement, &h, &target) == 0 {
                    complete = Some(killed_at.elapsed().as_secs_f64());
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (searches, partial_searches, failed_searches) = env.rt.block_on(searcher)??;
        // Restart the victim on its data directory and wait for the full placement,
        // caught up.
        let restarted = Instant::now();
        let mut p = cluster.spawn_node(env, victim_i)?;
        p.wait_addr(&cluster.specs[victim_i].dir.join("addr"))?;
        cluster.nodes[victim_i] = Some(p);
        cluster.wait_converged(env, &all, Duration::from_secs(120))?;
        let rejoin = restarted.elapsed().as_secs_f64();
        let status = cluster.status(env)?;
        let rejoin_complete = loop {
            let h = cluster.holdings(env)?;
            if lagging(&status.placement, &h, &target) == 0 {
                break restarted.elapsed().as_secs_f64();
            }
            if restarted.elapsed() > Duration::from_secs(180) {
                bail!("run {run}: {victim} did not catch up within 180 s of its restart");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let r = FailoverRun {
            victim,
            dead: dead.unwrap(),
            placed: placed.unwrap(),
            complete: complete.unwrap(),
            rejoin,
            rejoin_complete,
            searches,
            partial_searches,
            failed_searches,
            moved,
        };
        eprintln!(
            "run {run}: killed {}: dead after {:.2} s, placement without it {:.2} s, complete {:.2} s ({} partitions changed holders); searches during: {} ({} partial, {} failed); restart: converged {:.2} s, complete {:.2} s (load {})",
            r.victim,
            r.dead,
            r.placed,
            r.complete,
            r.moved,
            r.searches,
            r.partial_searches,
            r.failed_searches,
            r.rejoin,
            r.rejoin_complete,
            load_avg()
        );
        out.push(r);
    }
    let col = |f: &dyn Fn(&FailoverRun) -> f64| -> (f64, f64) {
        let v: Vec<f64> = out.iter().map(f).collect();
        (median(&v), v.iter().copied().fold(0.0, f64::max))
    };
    let (d50, dmax) = col(&|r| r.dead);
    let (p50, pmax) = col(&|r| r.placed);
    let (c50, cmax) = col(&|r| r.complete);
    let (j50, jmax) = col(&|r| r.rejoin);
    let (k50, kmax) = col(&|r| r.rejoin_complete);
    println!(
        "3 nodes, R=2, {} partitions, gossip interval {}, {} runs; {} files indexed",
        env.partitions,
        env.gossip_interval_ms
            .map_or("default (500 ms)".to_string(), |m| format!("{m} ms")),
        out.len(),
        summary["files_indexed"]
    );
    println!("| from kill -9 to | median s | max s |");
    println!("|---|---|---|");
    println!("| gateway's cluster status no longer lists the node (dead) | {d50:.2} | {dmax:.2} |");
    println!("| placement over the 2 survivors only | {p50:.2} | {pmax:.2} |");
    println!(
        "| every partition held by its new holders, caught up (complete re-placement) | {c50:.2} | {cmax:.2} |"
    );
    println!("| restart -> converged with 3 nodes | {j50:.2} | {jmax:.2} |");
    println!("| restart -> every holder caught up | {k50:.2} | {kmax:.2} |");
    let searches: usize = out.iter().map(|r| r.searches).sum();
    let partial: usize = out.iter().map(|r| r.partial_searches).sum();
    let failed: usize = out.iter().map(|r| r.failed_searches).sum();
    println!(
        "searches during the failovers (every 50 ms): {searches}, {partial} partial, {failed} failed"
    );
    println!(
        "{}",
        json!({
            "step": "cluster_failover",
            "corpus": corpus,
            "partitions": env.partitions,
            "gossip_interval_ms": env.gossip_interval_ms,
            "runs": out.iter().map(|r| json!({
                "victim": r.victim, "dead_s": r.dead, "placed_s": r.placed, "complete_s": r.complete,
                "moved_partitions": r.moved, "rejoin_converged_s": r.rejoin,
                "rejoin_complete_s": r.rejoin_complete, "searches": r.searches,
                "partial_searches": r.partial_searches, "failed_searches": r.failed_searches,
            })).collect::<Vec<_>>(),
            "dead_median_s": d50, "dead_max_s": dmax,
            "placed_median_s": p50, "placed_max_s": pmax,
            "complete_median_s": c50, "complete_max_s": cmax,
            "rejoin_converged_median_s": j50, "rejoin_complete_median_s": k50,
            "rejoin_complete_max_s": kmax,
        })
    );
    drop(cluster);
    Ok(())
}
