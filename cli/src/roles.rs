//! The cluster roles: `aiex node` (holds partitions) and `aiex gateway` (the front door),
//! both mesh members over NATS JetStream and gossip.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aiex_gateway::mesh::{MeshAssist, MeshBackend, MeshConfig, MeshOptions, MeshServer};
use aiex_gateway::{GatewayConfig, Limits};
use aiex_node::assist::{AssistOptions, Llm};
use aiex_node::chunk::ChunkerConfig;
use aiex_node::cluster::{ClusterConfig, Role};
use aiex_node::indexer::IndexerOptions;
use aiex_node::ring::follow::PlacementConfig;
use aiex_node::role::{NodeRole, NodeRoleConfig};
use anyhow::{Context, Result, bail};
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::Settings;

/// Partitions of a new cluster (fixed once its file log exists).
pub const DEFAULT_CLUSTER_PARTITIONS: u32 = 256;
pub const DEFAULT_NODE_PORT: u16 = 7788;
pub const DEFAULT_GOSSIP_PORT: u16 = 7946;

/// What both roles need to join the mesh.
#[derive(Debug, Args)]
pub struct MeshArgs {
    /// The NATS server with JetStream, e.g. nats://nats:4222.
    #[arg(long, env = "AIEX_NATS_URL", value_name = "URL")]
    nats: String,
    /// Gossip seeds, `host:port` or `ip:port`, comma-separated (a Kubernetes headless
    /// service name works). None starts a new cluster.
    #[arg(
        long,
        env = "AIEX_SEEDS",
        value_delimiter = ',',
        value_name = "HOST:PORT"
    )]
    seeds: Vec<String>,
    /// This member's id, unique and stable across restarts [default: the host name].
    #[arg(long, env = "AIEX_NODE_ID")]
    node_id: Option<String>,
    /// Where the gossip UDP socket binds [default: the --listen IP, port 7946].
    #[arg(long, env = "AIEX_GOSSIP_LISTEN", value_name = "IP:PORT")]
    gossip_listen: Option<SocketAddr>,
    /// The IP peers dial (required when listening on 0.0.0.0; in Kubernetes, the pod IP).
    #[arg(long, env = "AIEX_ADVERTISE", value_name = "IP")]
    advertise: Option<IpAddr>,
    /// Copies of each partition, the owner included (the same on every member).
    #[arg(long, env = "AIEX_REPLICAS", default_value_t = aiex_node::ring::DEFAULT_REPLICATION)]
    replicas: u32,
    /// Copies of each JetStream stream this member creates: 1 on a single NATS server,
    /// 3 on a NATS cluster (streams that exist keep theirs).
    #[arg(long, env = "AIEX_STREAM_REPLICAS", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=5))]
    stream_replicas: u8,
    /// Members only talk to members with the same cluster id.
    #[arg(long, env = "AIEX_CLUSTER_ID")]
    cluster_id: Option<String>,
    /// Time between gossip rounds, in milliseconds.
    #[arg(long, env = "AIEX_GOSSIP_INTERVAL_MS")]
    gossip_interval_ms: Option<u64>,
    /// Failure detector threshold: how many mean heartbeat intervals a silent peer gets
    /// before it is declared dead (higher is slower and more tolerant of pauses).
    #[arg(long, env = "AIEX_PHI_THRESHOLD")]
    phi_threshold: Option<f64>,
    /// How long a dead peer's last state is remembered, in seconds.
    #[arg(long, env = "AIEX_DEAD_NODE_GRACE_SECS")]
    dead_node_grace_secs: Option<u64>,
    /// Write the bound gRPC address to this file once listening (for scripts and tests).
    #[arg(long, value_name = "FILE")]
    addr_file: Option<PathBuf>,
    /// Assist jobs this member runs at once; 0 takes none. A member with no LLM provider
    /// configured takes none either.
    #[arg(long, env = "AIEX_ASSIST_JOBS", default_value_t = AssistOptions::default().max_concurrent)]
    assist_jobs: usize,
    /// Serve /metrics, /health/livez and /health/readyz over HTTP here [default: off].
    #[arg(long, env = "AIEX_METRICS_LISTEN", value_name = "IP:PORT")]
    metrics_listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct NodeArgs {
    #[command(flatten)]
    mesh: MeshArgs,
    /// Where the node's gRPC server listens [default: 127.0.0.1:7788; port 0 picks one].
    #[arg(long, env = "AIEX_LISTEN", value_name = "IP:PORT")]
    listen: Option<SocketAddr>,
    /// Indexing threads [default: one per core].
    #[arg(long, env = "AIEX_INDEX_THREADS", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    index_threads: Option<usize>,
    /// How long the local copy of a lost partition is kept, in seconds.
    #[arg(long, env = "AIEX_DROP_GRACE_SECS", default_value_t = 300)]
    drop_grace_secs: u64,
}

#[derive(Debug, Args)]
pub struct GatewayArgs {
    #[command(flatten)]
    mesh: MeshArgs,
    /// Where the public gRPC API listens [default: 127.0.0.1:7787; port 0 picks one].
    #[arg(long, env = "AIEX_LISTEN", value_name = "IP:PORT")]
    listen: Option<SocketAddr>,
    /// A directory the gateway may index by path (repeatable).
    #[arg(long = "allow-root", value_name = "DIR")]
    allow_roots: Vec<PathBuf>,
}

fn cluster_config(
    mesh: &MeshArgs,
    role: Role,
    listen: SocketAddr,
    default_gossip_port: u16,
) -> Result<ClusterConfig> {
    let node_id = mesh.node_id.clone().unwrap_or_else(crate::client::hostname);
    let gossip = mesh
        .gossip_listen
        .unwrap_or_else(|| SocketAddr::new(listen.ip(), default_gossip_port));
    let mut config = ClusterConfig::new(node_id, role, gossip, listen);
    if gossip.ip().is_unspecified() {
        let Some(ip) = mesh.advertise else {
            bail!(
                "gossip listens on the wildcard address {gossip}: name the IP peers should \
                 use with --advertise (in Kubernetes, the pod IP)"
            );
        };
        config.advertise_gossip = Some(SocketAddr::new(ip, gossip.port()));
    }
    config.seeds = mesh
        .seeds
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    if let Some(id) = &mesh.cluster_id {
        config.cluster_id = id.clone();
    }
    if let Some(ms) = mesh.gossip_interval_ms {
        if ms == 0 {
            bail!("--gossip-interval-ms must be at least 1");
        }
        config.gossip_interval = Duration::from_millis(ms);
    }
    if let Some(phi) = mesh.phi_threshold {
        if !(phi.is_finite() && phi > 0.0) {
            bail!("--phi-threshold must be a positive number, got {phi}");
        }
        config.phi_threshold = phi;
    }
    if let Some(secs) = mesh.dead_node_grace_secs {
        config.dead_node_grace_period = Duration::from_secs(secs);
    }
    Ok(config)
}

fn placement(settings: &Settings, mesh: &MeshArgs) -> Result<PlacementConfig> {
    let partitions = settings
        .partitions_flag
        .unwrap_or(DEFAULT_CLUSTER_PARTITIONS);
    if partitions == 0 || partitions > 4096 {
        bail!("--partitions must be between 1 and 4096, got {partitions}");
    }
    if mesh.replicas == 0 {
        bail!("--replicas must be at least 1");
    }
    Ok(PlacementConfig::new(partitions, mesh.replicas))
}

fn assist_options(mesh: &MeshArgs, member: &str) -> Result<AssistOptions> {
    Ok(AssistOptions {
        max_concurrent: mesh.assist_jobs,
        member: member.to_string(),
        ..crate::client::assist_options()?
    })
}

fn write_addr_file(file: &Option<PathBuf>, addr: SocketAddr) -> Result<()> {
    if let Some(f) = file {
        std::fs::write(f, format!("http://{addr}\n"))
            .with_context(|| format!("cannot write {}", f.display()))?;
    }
    Ok(())
}

pub async fn node(settings: &Settings, args: NodeArgs) -> Result<()> {
    let endpoint = crate::observe::start(args.mesh.metrics_listen).await?;
    let listen = args
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], DEFAULT_NODE_PORT)));
    let cluster = cluster_config(&args.mesh, Role::Node, listen, DEFAULT_GOSSIP_PORT)?;
    let placement = placement(settings, &args.mesh)?;
    let limits: Limits = settings.file.limits.clone();
    let data_dir = settings.data_dir.join("node");
    let config = NodeRoleConfig {
        node_id: cluster.node_id.clone(),
        data_dir: data_dir.clone(),
        nats_url: args.mesh.nats.clone(),
        stream_replicas: usize::from(args.mesh.stream_replicas),
        listen,
        advertise: args.mesh.advertise,
        cluster,
        placement: placement.clone(),
        index_threads: args
            .index_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        chunker: ChunkerConfig {
            max_file_bytes: limits.max_file_bytes,
            ..ChunkerConfig::default()
        },
        indexer: IndexerOptions {
            drop_grace: Duration::from_secs(args.drop_grace_secs),
        },
        embed_model: settings.embed_model.clone(),
    };
    let node_id = config.node_id.clone();
    let role = NodeRole::start(config)
        .await
        .with_context(|| format!("starting node {node_id}"))?;
    crate::observe::attach(&endpoint, role.cluster.readiness());
    // Assist jobs build their context from the whole cluster, as the gateway does.
    let backend = Arc::new(MeshBackend::new(
        placement.partitions,
        role.placement.clone(),
        MeshOptions::default(),
    ));
    let assist = MeshAssist::new(
        role.bus.clone(),
        Arc::new(Llm::load(None)),
        backend,
        role.placement.clone(),
        assist_options(&args.mesh, &node_id)?,
    );
    let takes_jobs = assist.takes_jobs();
    let stop_assist = CancellationToken::new();
    let assist = tokio::spawn(assist.run(stop_assist.clone()));
    let addr = role.local_addr();
    write_addr_file(&args.mesh.addr_file, addr)?;
    eprintln!(
        "aiex node {node_id}: gRPC on {addr}, data in {}, {} partitions x{}, {}. Ctrl-C stops it.",
        data_dir.display(),
        placement.partitions,
        placement.replication,
        if takes_jobs {
            "takes assist jobs"
        } else {
            "takes no assist jobs"
        }
    );
    let ran = role.run(crate::client::shutdown_signal()).await;
    stop_assist.cancel();
    let _ = assist.await;
    ran?;
    eprintln!("aiex node {node_id}: stopped; everything applied is committed");
    Ok(())
}

pub async fn gateway(settings: &Settings, args: GatewayArgs) -> Result<()> {
    let endpoint = crate::observe::start(args.mesh.metrics_listen).await?;
    let listen = args
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], aiex_gateway::config::DEFAULT_PORT)));
    let cluster = cluster_config(&args.mesh, Role::Gateway, listen, DEFAULT_GOSSIP_PORT + 1)?;
    let placement = placement(settings, &args.mesh)?;
    let mut allow_roots = args.allow_roots;
    if allow_roots.is_empty() {
        allow_roots = settings.file.up.allow_roots.clone();
    }
    let assist = assist_options(&args.mesh, &cluster.node_id)?;
    let config = MeshConfig {
        nats_url: args.mesh.nats.clone(),
        stream_replicas: usize::from(args.mesh.stream_replicas),
        cluster,
        placement,
        gateway: GatewayConfig {
            listen,
            limits: settings.file.limits.clone(),
            allowed_roots: allow_roots,
            assist_idle_timeout: crate::client::assist_idle_timeout()?,
            ..GatewayConfig::default()
        },
        options: MeshOptions::default(),
        advertise: args.mesh.advertise,
        assist,
    };
    let server = MeshServer::start(config)
        .await
        .context("starting the gateway")?;
    crate::observe::attach(&endpoint, server.readiness());
    let addr = server.local_addr();
    write_addr_file(&args.mesh.addr_file, addr)?;
    eprintln!("aiex gateway: listening on {addr}. Ctrl-C stops it.");
    server.run(crate::client::shutdown_signal()).await?;
    eprintln!("aiex gateway: stopped");
    Ok(())
}
