//! The `aiex node` role: a mesh member that holds partitions.
//!
//! It connects to NATS (the file log), opens its partitions' indexes under the data
//! directory, joins the gossip, and follows placement: once membership settles it
//! computes the same placement as every other member and makes the partitions placed on
//! it (as owner or replica) the ones its indexer follows. A gained partition resumes
//! from its local watermark or replays the log; a lost one is dropped after a grace
//! period. It serves `aiex.mesh.v1.Node` to gateways and gossips itself ready once its
//! first placement is applied and its gRPC server is listening.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aiex_proto::mesh::v1 as mesh;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::bus::metered::Metered;
use crate::bus::nats::NatsBus;
use crate::chunk::ChunkerConfig;
use crate::cluster::{Cluster, ClusterConfig, Role};
use crate::error::{NodeError, Result};
use crate::indexer::{Indexer, IndexerOptions};
use crate::ingest::PartitionSet;
use crate::ring::follow::{self, PlacementConfig, PlacementView};
use crate::service::NodeService;

/// Everything `aiex node` needs.
#[derive(Debug, Clone)]
pub struct NodeRoleConfig {
    pub node_id: String,
    pub data_dir: PathBuf,
    pub nats_url: String,
    /// Copies of each JetStream stream this node creates (1 on a single server, 3 on a
    /// NATS cluster).
    pub stream_replicas: usize,
    /// Where the gRPC server listens; port 0 picks one.
    pub listen: SocketAddr,
    /// The address peers dial (required when `listen` is a wildcard address).
    pub advertise: Option<IpAddr>,
    pub cluster: ClusterConfig,
    pub placement: PlacementConfig,
    pub index_threads: usize,
    pub chunker: ChunkerConfig,
    pub indexer: IndexerOptions,
    /// Sentence-embedding model directory (see [`crate::embed`]); off when `None`. Every
    /// node of a cluster should use the same model, or rankings differ between nodes.
    pub embed_model: Option<std::path::PathBuf>,
}

/// The address peers should dial for a server bound to `bound`.
pub fn advertised(bound: SocketAddr, advertise: Option<IpAddr>) -> Result<SocketAddr> {
    match advertise {
        Some(ip) => Ok(SocketAddr::new(ip, bound.port())),
        None if bound.ip().is_unspecified() => Err(NodeError::InvalidArgument {
            field: "advertise",
            reason: format!(
                "the server listens on the wildcard address {bound}: name the address peers \
                 should dial with --advertise (in Kubernetes, the pod IP)"
            ),
        }),
        None => Ok(bound),
    }
}

/// Bus settings for a member: defaults, with `replicas` copies of each stream it creates.
pub fn nats_options(replicas: usize) -> crate::bus::nats::NatsBusOptions {
    crate::bus::nats::NatsBusOptions {
        replicas: replicas.max(1),
        ..Default::default()
    }
}

/// Makes sure every member of the cluster uses the same partition count: the first
/// member records its count on the bus (de-duplicated, so of two first members only one
/// record is kept), and a member started with another count is refused, naming both.
pub async fn agree_on_partitions(bus: &dyn crate::bus::Bus, partitions: u32) -> Result<()> {
    use aiex_proto::subjects::{CLUSTER_STREAM, LAYOUT_KEY};

    let recorded = |batch: crate::bus::Batch| -> Result<Option<u32>> {
        let Some(m) = batch.messages.iter().rev().find(|m| m.key == LAYOUT_KEY) else {
            return Ok(None);
        };
        let value: serde_json::Value =
            serde_json::from_slice(&m.payload).map_err(|e| NodeError::InvalidArgument {
                field: "partitions",
                reason: format!("the cluster layout record on {CLUSTER_STREAM} is unreadable: {e}"),
            })?;
        match value["partitions"].as_u64() {
            Some(n) => Ok(Some(n as u32)),
            None => Err(NodeError::InvalidArgument {
                field: "partitions",
                reason: format!(
                    "the cluster layout record on {CLUSTER_STREAM} has no partition count: {value}"
                ),
            }),
        }
    };
    let mut found = recorded(bus.read(CLUSTER_STREAM, 0, 0, 64, false).await?)?;
    if found.is_none() {
        let record = crate::bus::Record::put(
            0,
            LAYOUT_KEY,
            crate::bus::Headers::new(),
            serde_json::json!({ "partitions": partitions })
                .to_string()
                .into(),
        )
        .with_msg_id(LAYOUT_KEY);
        bus.publish(CLUSTER_STREAM, vec![record]).await?;
        found = recorded(bus.read(CLUSTER_STREAM, 0, 0, 64, false).await?)?;
    }
    match found {
        Some(n) if n == partitions => Ok(()),
        Some(n) => Err(NodeError::InvalidArgument {
            field: "partitions",
            reason: format!(
                "this cluster was created with {n} partitions, but this member was started \
                 with {partitions}: start it with --partitions {n}"
            ),
        }),
        None => Err(NodeError::InvalidArgument {
            field: "partitions",
            reason: format!("the cluster layout record on {CLUSTER_STREAM} could not be written"),
        }),
    }
}

/// A started node: listening, gossiping, following placement.
pub struct NodeRole {
    pub node_id: String,
    pub indexer: Arc<Indexer>,
    pub cluster: Arc<Cluster>,
    pub placement: watch::Receiver<Option<Arc<PlacementView>>>,
    /// The bus the indexer follows (assist workers take their jobs from it too).
    pub bus: Arc<dyn crate::bus::Bus>,
    listener: TcpListener,
    tasks: Vec<JoinHandle<()>>,
}

impl NodeRole {
    pub async fn start(config: NodeRoleConfig) -> Result<NodeRole> {
        let bus = Metered::wrap(Arc::new(
            NatsBus::connect_with(&config.nats_url, nats_options(config.stream_replicas)).await?,
        ));
        agree_on_partitions(bus.as_ref(), config.placement.partitions).await?;
        let set = {
            let dir = config.data_dir.join("index");
            let partitions = config.placement.partitions;
            std::fs::create_dir_all(&config.data_dir).map_err(NodeError::io(&config.data_dir))?;
            tokio::task::spawn_blocking(move || PartitionSet::open_with(&dir, partitions, []))
                .await??
        };
        let set = Arc::new(set);
        if let Some(model) = config.embed_model.clone() {
            let encoder =
                tokio::task::spawn_blocking(move || crate::embed::Encoder::load(&model)).await??;
            tracing::info!(model = %encoder.dir().display(), dim = encoder.dim(), "embeddings on");
            set.set_encoder(Arc::new(encoder))?;
            set.spawn_embedder()?;
        }
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|e| NodeError::InvalidArgument {
                    field: "listen",
                    reason: format!("cannot listen on {}: {e}", config.listen),
                })?;
        let bound = listener
            .local_addr()
            .map_err(|e| NodeError::InvalidArgument {
                field: "listen",
                reason: e.to_string(),
            })?;
        let mut cluster_config = config.cluster.clone();
        cluster_config.role = Role::Node;
        cluster_config.node_id = config.node_id.clone();
        cluster_config.grpc_address = advertised(bound, config.advertise)?;
        let has_seeds = !cluster_config.seeds.is_empty();
        let indexer = Indexer::start_with(
            set,
            bus.clone(),
            config.chunker.clone(),
            config.index_threads,
            config.indexer.clone(),
            [],
        )
        .await?;
        let cluster = Arc::new(Cluster::start(cluster_config).await?);
        let (placement, follower) = follow::follow(&cluster, config.placement.clone(), has_seeds);
        let apply = tokio::spawn(apply_placement(
            config.node_id.clone(),
            placement.clone(),
            indexer.clone(),
            cluster.clone(),
        ));
        tracing::info!(
            node_id = %config.node_id,
            grpc = %bound,
            nats = %config.nats_url,
            partitions = config.placement.partitions,
            replication = config.placement.replication,
            "node started"
        );
        Ok(NodeRole {
            node_id: config.node_id,
            indexer,
            cluster,
            placement,
            bus,
            listener,
            tasks: vec![follower, apply],
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener")
    }

    /// Serves until `shutdown`, then leaves the gossip and stops the indexer (which
    /// commits what it applied).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let service = NodeService {
            node_id: self.node_id.clone(),
            indexer: self.indexer.clone(),
        };
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(self.listener);
        let served = tonic::transport::Server::builder()
            .tcp_nodelay(true)
            .trace_fn(crate::telemetry::grpc_span)
            .add_service(
                mesh::node_server::NodeServer::new(service)
                    .max_decoding_message_size(16 << 20)
                    .max_encoding_message_size(256 << 20),
            )
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await;
        for task in &self.tasks {
            task.abort();
        }
        // An aborted task lets go of what it holds (the cluster among it) once awaited.
        for task in self.tasks {
            let _ = task.await;
        }
        match Arc::try_unwrap(self.cluster) {
            Ok(cluster) => {
                if let Err(e) = cluster.shutdown().await {
                    tracing::warn!(error = %e, "leaving the gossip failed");
                }
            }
            Err(_) => tracing::warn!("the cluster is still shared; leaving without goodbye"),
        }
        self.indexer.shutdown().await;
        served.map_err(|e| NodeError::InvalidArgument {
            field: "listen",
            reason: format!("the gRPC server failed: {e}"),
        })
    }
}

/// Makes the partitions placed on this node the ones its indexer follows, each time the
/// placement changes; gossips readiness once the first placement is applied.
async fn apply_placement(
    node_id: String,
    mut views: watch::Receiver<Option<Arc<PlacementView>>>,
    indexer: Arc<Indexer>,
    cluster: Arc<Cluster>,
) {
    let mut applied: Option<u64> = None;
    let mut held_before: Option<BTreeSet<u32>> = None;
    loop {
        let view = views.borrow_and_update().clone();
        if let Some(view) = view
            && applied != Some(view.version)
        {
            let held: BTreeSet<u32> = view.placement.held_by(&node_id).into_iter().collect();
            let count = held.len();
            let owned = view.placement.owned_by(&node_id).len();
            let gained = held_before
                .as_ref()
                .map_or(0, |before| held.difference(before).count());
            match indexer.set_held(held.clone()).await {
                Ok(()) => {
                    crate::metrics::placement_applied(owned, gained);
                    held_before = Some(held);
                    tracing::info!(
                        version = view.version,
                        held = count,
                        owned,
                        "placement applied"
                    );
                    if applied.is_none() {
                        cluster.set_ready(true).await;
                    }
                    applied = Some(view.version);
                }
                Err(e) => {
                    tracing::error!(error = %e, "applying the placement failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        if views.changed().await.is_err() {
            return;
        }
    }
}
