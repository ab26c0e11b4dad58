//! The cluster mode's gateway: a mesh member (it gossips, it never holds partitions)
//! that serves the public API over the nodes behind it.
//!
//! It follows placement like every member, and polls every live node for the partitions
//! it holds and their watermarks. Each partition is asked of the live node holding it
//! with the highest watermark, ties going to the placement's order (owner, then
//! replicas): a node that just gained a partition and is still replaying it is not
//! asked while a caught-up copy is live, so results stay complete while partitions move.
//! A repository is READY when, for each partition it was published to, some live node
//! has applied the log up to the repository's last sequence there.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aiex_node::NodeError;
use aiex_node::assist::{AssistOptions, AssistWorker, Llm};
use aiex_node::bus::Bus;
use aiex_node::bus::metered::Metered;
use aiex_node::bus::nats::NatsBus;
use aiex_node::chunk::Chunk;
use aiex_node::cluster::{Cluster, ClusterConfig, Role};
use aiex_node::graph::SymbolGraph;
use aiex_node::indexer::RepoActivity;
use aiex_node::ingest::RepoSummary;
use aiex_node::readiness::Readiness;
use aiex_node::ring::follow::{self, PlacementConfig, PlacementView};
use aiex_proto::mesh::v1 as mesh;
use aiex_proto::v1 as pb;
use async_trait::async_trait;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::backend::Backend;
use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::fanout::{Candidates, FanOut, LiveNode};
use crate::registry::Registry;
use crate::service::GatewayState;

/// What nodes reported holding, by node id.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Holdings {
    pub nodes: BTreeMap<String, NodeHoldings>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeHoldings {
    pub grpc_address: SocketAddr,
    /// Partition -> watermark.
    pub marks: BTreeMap<u32, u64>,
}

/// How the gateway talks to nodes.
#[derive(Debug, Clone)]
pub struct MeshOptions {
    /// Per attempt of a fanned-out call (search, counts).
    pub deadline: Duration,
    /// How often nodes are asked for their partitions and watermarks.
    pub poll_interval: Duration,
}

impl Default for MeshOptions {
    fn default() -> Self {
        MeshOptions {
            deadline: Duration::from_secs(10),
            poll_interval: Duration::from_millis(250),
        }
    }
}

/// A symbol graph and the (node, watermark) chosen for each partition it was built from.
type CachedGraph = (Vec<(String, u64)>, Arc<SymbolGraph>);

/// The nodes behind a cluster gateway.
pub struct MeshBackend {
    partitions: u32,
    views: watch::Receiver<Option<Arc<PlacementView>>>,
    holdings: watch::Receiver<Arc<Holdings>>,
    fanout: Arc<FanOut>,
    options: MeshOptions,
    activity: Mutex<HashMap<String, RepoActivity>>,
    /// The graph and the (partition, node, watermark) choices it was built from.
    graph: tokio::sync::Mutex<Option<CachedGraph>>,
    poller: JoinHandle<()>,
}

impl Drop for MeshBackend {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

impl MeshBackend {
    pub fn new(
        partitions: u32,
        views: watch::Receiver<Option<Arc<PlacementView>>>,
        options: MeshOptions,
    ) -> MeshBackend {
        let fanout = Arc::new(FanOut::default());
        let (tx, holdings) = watch::channel(Arc::new(Holdings::default()));
        let poller = tokio::spawn(poll_holdings(
            views.clone(),
            fanout.clone(),
            tx,
            options.clone(),
        ));
        MeshBackend {
            partitions,
            views,
            holdings,
            fanout,
            options,
            activity: Mutex::new(HashMap::new()),
            graph: tokio::sync::Mutex::new(None),
            poller,
        }
    }

    /// What the nodes last reported.
    pub fn holdings(&self) -> Arc<Holdings> {
        self.holdings.borrow().clone()
    }

    /// Waits until the nodes' reports change (for tests and tools).
    pub async fn holdings_changed(&self) {
        let mut rx = self.holdings.clone();
        let _ = rx.changed().await;
    }

    /// Each partition's nodes to ask, best first.
    pub fn candidates(&self) -> Candidates {
        let view = self.views.borrow().clone();
        let holdings = self.holdings();
        candidates(self.partitions, view.as_deref(), &holdings)
    }

    /// The best watermark a live node reported for each partition.
    fn best_marks(holdings: &Holdings, partitions: u32) -> Vec<u64> {
        let mut marks = vec![0; partitions as usize];
        for node in holdings.nodes.values() {
            for (p, m) in &node.marks {
                if let Some(slot) = marks.get_mut(*p as usize) {
                    *slot = (*slot).max(*m);
                }
            }
        }
        marks
    }

    fn applied(holdings: &Holdings, partitions: u32, targets: &BTreeMap<u32, u64>) -> bool {
        let marks = MeshBackend::best_marks(holdings, partitions);
        targets
            .iter()
            .all(|(p, seq)| marks.get(*p as usize).is_some_and(|m| m >= seq))
    }

    /// Every partition's repository counts (the `Repos` RPC), with the skipped files'
    /// paths of the repository `skipped_paths_of` names (none when empty), and the
    /// partitions nobody answered for.
    async fn repo_counts(&self, skipped_paths_of: &str) -> (Vec<mesh::RepoCounts>, Vec<u32>) {
        let candidates = self.candidates();
        let (answers, missing) = self
            .fanout
            .scatter(
                &candidates,
                self.options.deadline,
                |mut client, partitions| {
                    let skipped_paths_of = skipped_paths_of.to_string();
                    async move {
                        let r = client
                            .repos(mesh::PartitionsQuery {
                                partitions,
                                skipped_paths_of,
                            })
                            .await?
                            .into_inner();
                        Ok((r.repositories, r.missing_partitions))
                    }
                },
            )
            .await;
        (answers.into_iter().flatten().collect(), missing)
    }

    fn unavailable(what: &str, missing: &[u32]) -> NodeError {
        NodeError::Unavailable(format!(
            "{what}: no live node answered for partitions {missing:?}; \
             see `aiex cluster status`"
        ))
    }
}

/// Each partition's live holders by watermark (highest first), then placement order.
pub fn candidates(
    partitions: u32,
    view: Option<&PlacementView>,
    holdings: &Holdings,
) -> Candidates {
    (0..partitions)
        .map(|p| {
            let rank = |node: &str| {
                view.and_then(|v| v.placement.holders(p).iter().position(|h| h == node))
                    .unwrap_or(usize::MAX)
            };
            let mut holders: Vec<(u64, usize, &str, SocketAddr)> = holdings
                .nodes
                .iter()
                .filter_map(|(id, h)| {
                    h.marks
                        .get(&p)
                        .map(|m| (*m, rank(id), id.as_str(), h.grpc_address))
                })
                .collect();
            holders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
            holders
                .into_iter()
                .map(|(_, _, id, addr)| LiveNode {
                    node_id: id.to_string(),
                    grpc_address: addr,
                })
                .collect()
        })
        .collect()
}

/// Asks every live node for its partitions and watermarks, every poll interval.
async fn poll_holdings(
    views: watch::Receiver<Option<Arc<PlacementView>>>,
    fanout: Arc<FanOut>,
    tx: watch::Sender<Arc<Holdings>>,
    options: MeshOptions,
) {
    let mut tick = tokio::time::interval(options.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(view) = views.borrow().clone() else {
            continue;
        };
        let calls = view.nodes().map(|m| {
            let mut client = fanout.client(m.grpc_address);
            let id = m.node_id.clone();
            let addr = m.grpc_address;
            async move {
                let answer = tokio::time::timeout(
                    Duration::from_secs(2),
                    client.partitions(mesh::PartitionsRequest {}),
                )
                .await;
                (id, addr, answer)
            }
        });
        let mut next = Holdings::default();
        for (id, addr, answer) in futures::future::join_all(calls).await {
            match answer {
                Ok(Ok(r)) => {
                    let marks = r
                        .into_inner()
                        .partitions
                        .into_iter()
                        .map(|s| (s.partition, s.watermark))
                        .collect();
                    next.nodes.insert(
                        id,
                        NodeHoldings {
                            grpc_address: addr,
                            marks,
                        },
                    );
                }
                Ok(Err(status)) => {
                    tracing::debug!(node = %id, error = %status, "node did not report its partitions")
                }
                Err(_) => tracing::debug!(node = %id, "node did not report its partitions in time"),
            }
        }
        tx.send_if_modified(|current| {
            if **current == next {
                false
            } else {
                *current = Arc::new(next);
                true
            }
        });
    }
}

#[async_trait]
impl Backend for MeshBackend {
    fn partition_count(&self) -> u32 {
        self.partitions
    }

    async fn search(&self, request: pb::SearchRequest) -> Result<pb::SearchResponse, NodeError> {
        // Bad requests are refused here, naming the field, rather than by every node.
        aiex_node::service::request_from_pb(request.clone())?;
        let candidates = self.candidates();
        Ok(self
            .fanout
            .search_candidates(&candidates, request, self.options.deadline)
            .await)
    }

    async fn graph(&self) -> Result<Arc<SymbolGraph>, NodeError> {
        // One snapshot of what nodes hold, for the choice and the cache key alike.
        let holdings = self.holdings();
        let view = self.views.borrow().clone();
        let candidates = candidates(self.partitions, view.as_deref(), &holdings);
        // The graph is rebuilt when the chosen copies or their watermarks change.
        let key: Vec<(String, u64)> = candidates
            .iter()
            .enumerate()
            .map(|(p, c)| {
                c.first()
                    .and_then(|n| {
                        let mark = holdings.nodes.get(&n.node_id)?.marks.get(&(p as u32))?;
                        Some((n.node_id.clone(), *mark))
                    })
                    .unwrap_or_default()
            })
            .collect();
        let mut cached = self.graph.lock().await;
        if let Some((k, g)) = cached.as_ref()
            && *k == key
        {
            return Ok(g.clone());
        }
        let (answers, missing) = self
            .fanout
            .scatter(
                &candidates,
                self.options.deadline,
                |mut client, partitions| async move {
                    let r = client
                        .graph_facts(mesh::PartitionsQuery {
                            partitions,
                            ..Default::default()
                        })
                        .await?
                        .into_inner();
                    Ok((r.chunks_json, r.missing_partitions))
                },
            )
            .await;
        if !missing.is_empty() {
            return Err(MeshBackend::unavailable("the symbol graph", &missing));
        }
        let graph = tokio::task::spawn_blocking(move || {
            let mut chunks: Vec<Chunk> = Vec::new();
            for json in answers {
                let part: Vec<Chunk> = serde_json::from_slice(&json).map_err(|e| {
                    NodeError::Unavailable(format!(
                        "a node sent symbol graph facts this gateway cannot read: {e}"
                    ))
                })?;
                chunks.extend(part);
            }
            Ok::<_, NodeError>(Arc::new(SymbolGraph::build(chunks.iter())))
        })
        .await??;
        *cached = Some((key, graph.clone()));
        Ok(graph)
    }

    async fn indexed(&self) -> HashMap<String, RepoSummary> {
        let (answers, missing) = self.repo_counts("").await;
        if !missing.is_empty() {
            tracing::warn!(?missing, "repository counts are missing partitions");
        }
        let mut out: HashMap<String, RepoSummary> = HashMap::new();
        let mut activity: HashMap<String, RepoActivity> = HashMap::new();
        for r in answers {
            let e = out
                .entry(r.repository.clone())
                .or_insert_with(|| RepoSummary {
                    repo: r.repository.clone(),
                    ..Default::default()
                });
            e.files += r.files;
            e.chunks += r.chunks;
            e.bytes += r.bytes;
            e.skipped += r.skipped;
            // Node-wide counts: the largest a node reports (replicas count the same files).
            let a = activity.entry(r.repository).or_default();
            a.failed = a.failed.max(r.failed);
        }
        *self.activity.lock().expect("activity lock") = activity;
        out
    }

    async fn skipped_paths(&self, repo: &str) -> Result<Vec<String>, NodeError> {
        let (answers, missing) = self.repo_counts(repo).await;
        if !missing.is_empty() {
            return Err(MeshBackend::unavailable("skipped files", &missing));
        }
        let counts: Vec<mesh::RepoCounts> = (answers.into_iter())
            .filter(|r| r.repository == repo)
            .collect();
        if counts
            .iter()
            .any(|r| r.skipped > r.skipped_paths.len() as u64)
        {
            tracing::warn!(
                repository = repo,
                "a node listed fewer skipped files than it holds: those past its list count as unchanged too"
            );
        }
        let mut paths: Vec<String> = counts.into_iter().flat_map(|r| r.skipped_paths).collect();
        // Replicas hold the same files.
        paths.sort_unstable();
        paths.dedup();
        Ok(paths)
    }

    fn activity(&self, repo: &str) -> RepoActivity {
        self.activity
            .lock()
            .expect("activity lock")
            .get(repo)
            .copied()
            .unwrap_or_default()
    }

    fn has_applied(&self, targets: &BTreeMap<u32, u64>) -> bool {
        MeshBackend::applied(&self.holdings(), self.partitions, targets)
    }

    async fn wait_applied(&self, targets: &BTreeMap<u32, u64>, timeout: Duration) -> bool {
        let mut rx = self.holdings.clone();
        let partitions = self.partitions;
        tokio::time::timeout(
            timeout,
            rx.wait_for(|h| MeshBackend::applied(h, partitions, targets)),
        )
        .await
        .is_ok_and(|r| r.is_ok())
    }

    async fn reindex(&self, repo: &str) -> Result<u64, NodeError> {
        let nodes: Vec<(String, SocketAddr)> = self
            .holdings()
            .nodes
            .iter()
            .map(|(id, h)| (id.clone(), h.grpc_address))
            .collect();
        if nodes.is_empty() {
            return Err(NodeError::Unavailable(
                "no live node to re-index on; see `aiex cluster status`".into(),
            ));
        }
        let calls = nodes.into_iter().map(|(id, addr)| {
            let mut client = self.fanout.client(addr);
            let repo = repo.to_string();
            async move {
                (
                    id,
                    client
                        .reindex(mesh::NodeReindexRequest { repository: repo })
                        .await,
                )
            }
        });
        for (id, answer) in futures::future::join_all(calls).await {
            if let Err(status) = answer {
                return Err(NodeError::Unavailable(format!(
                    "node {id} could not re-index: {}",
                    status.message()
                )));
            }
        }
        Ok(self.indexed().await.get(repo).map_or(0, |r| r.files))
    }

    fn watermarks(&self) -> Vec<u64> {
        MeshBackend::best_marks(&self.holdings(), self.partitions)
    }

    fn member_alive(&self, id: &str) -> bool {
        self.views
            .borrow()
            .as_ref()
            .is_none_or(|view| view.members.iter().any(|m| m.node_id == id))
    }

    fn chunk_source(&self) -> Option<Arc<dyn aiex_node::context::ChunkSource + Send + Sync>> {
        Some(Arc::new(MeshChunks {
            runtime: tokio::runtime::Handle::current(),
            fanout: self.fanout.clone(),
            candidates: self.candidates(),
            deadline: self.options.deadline,
        }))
    }

    fn cluster_status(&self, me: pb::Member) -> pb::ClusterStatus {
        let view = self.views.borrow().clone();
        let Some(view) = view else {
            return pb::ClusterStatus {
                members: vec![me],
                partition_count: self.partitions,
                placement: Vec::new(),
            };
        };
        let mut members: Vec<pb::Member> = view
            .members
            .iter()
            .map(|m| pb::Member {
                node_id: m.node_id.clone(),
                generation: m.generation,
                role: match m.role {
                    Role::Node => pb::Role::Node,
                    Role::Gateway => pb::Role::Gateway,
                } as i32,
                grpc_address: m.grpc_address.to_string(),
                ready: m.ready,
            })
            .collect();
        if !members.iter().any(|m| m.node_id == me.node_id) {
            members.push(me);
        }
        pb::ClusterStatus {
            members,
            partition_count: self.partitions,
            placement: (0..self.partitions)
                .map(|p| pb::PartitionPlacement {
                    partition: p,
                    owner: view.placement.owner(p).unwrap_or_default().to_string(),
                    replicas: view.placement.replicas(p).to_vec(),
                })
                .collect(),
        }
    }
}

/// Chunk look-ups for an assist context, asked of the nodes (each partition of one
/// holder). It blocks: the context is built on a blocking thread.
struct MeshChunks {
    runtime: tokio::runtime::Handle,
    fanout: Arc<FanOut>,
    candidates: Candidates,
    deadline: Duration,
}

impl MeshChunks {
    /// Asks `request` (its partitions filled in per node) of the holders of `only` (every
    /// partition when `None`); fails when a wanted partition had no holder answer.
    fn ask(
        &self,
        request: mesh::ChunksRequest,
        only: Option<u32>,
    ) -> aiex_node::error::Result<(Vec<Chunk>, Vec<String>)> {
        let candidates: Candidates = match only {
            None => self.candidates.clone(),
            Some(p) => self
                .candidates
                .iter()
                .enumerate()
                .map(|(i, c)| if i as u32 == p { c.clone() } else { Vec::new() })
                .collect(),
        };
        let (answers, missing) = self.runtime.block_on(self.fanout.scatter(
            &candidates,
            self.deadline,
            |mut client, partitions| {
                let req = mesh::ChunksRequest {
                    partitions,
                    ..request.clone()
                };
                async move {
                    let r = client.chunks(req).await?.into_inner();
                    Ok(((r.chunks_json, r.repositories), r.missing_partitions))
                }
            },
        ));
        let missing: Vec<u32> = missing
            .into_iter()
            .filter(|p| only.is_none_or(|o| o == *p))
            .collect();
        if !missing.is_empty() {
            return Err(MeshBackend::unavailable("the context", &missing));
        }
        let mut chunks = Vec::new();
        let mut repos = Vec::new();
        for (json, r) in answers {
            let part: Vec<Chunk> = serde_json::from_slice(&json).map_err(|e| {
                NodeError::Unavailable(format!("a node sent chunks this gateway cannot read: {e}"))
            })?;
            chunks.extend(part);
            repos.extend(r);
        }
        chunks.sort_by(|a, b| {
            (&a.repo, &a.path, a.start_byte).cmp(&(&b.repo, &b.path, b.start_byte))
        });
        repos.sort();
        repos.dedup();
        Ok((chunks, repos))
    }
}

impl aiex_node::context::ChunkSource for MeshChunks {
    fn definition(&self, symbol: &str) -> aiex_node::error::Result<Vec<Chunk>> {
        let request = mesh::ChunksRequest {
            symbol: symbol.to_string(),
            ..Default::default()
        };
        Ok(self.ask(request, None)?.0)
    }

    fn file_chunks(&self, repo: &str, path: &str) -> aiex_node::error::Result<Vec<Chunk>> {
        let p = aiex_proto::partition::partition_of(repo, path, self.candidates.len() as u32);
        let request = mesh::ChunksRequest {
            repository: repo.to_string(),
            path: path.to_string(),
            ..Default::default()
        };
        Ok(self.ask(request, Some(p))?.0)
    }

    fn file_chunks_where(
        &self,
        repo: &str,
        path: &str,
        only: &aiex_node::index::FileChunkFilter,
    ) -> aiex_node::error::Result<Vec<Chunk>> {
        let p = aiex_proto::partition::partition_of(repo, path, self.candidates.len() as u32);
        let request = mesh::ChunksRequest {
            repository: repo.to_string(),
            path: path.to_string(),
            only: Some(only.to_pb()),
            ..Default::default()
        };
        // A node of an earlier version answers the whole file: filter again.
        let mut chunks = self.ask(request, Some(p))?.0;
        chunks.retain(|c| only.accepts(c));
        Ok(chunks)
    }

    fn repos_with_file(&self, path: &str) -> aiex_node::error::Result<Vec<String>> {
        let request = mesh::ChunksRequest {
            path: path.to_string(),
            ..Default::default()
        };
        Ok(self.ask(request, None)?.1)
    }
}

/// Divides the providers' cluster-wide rate limits among the live members, again on
/// every membership change. Every member counts as an assist worker (the chart gives them
/// all the same provider settings); a member that takes no jobs leaves its share unused,
/// so the cluster stays under the limits rather than over.
async fn share_llm_limits(mut views: watch::Receiver<Option<Arc<PlacementView>>>, llm: Arc<Llm>) {
    let mut last = 0;
    loop {
        let workers = views
            .borrow_and_update()
            .as_ref()
            .map_or(1, |v| v.members.len().max(1));
        if workers != last {
            llm.set_live_workers(workers);
            tracing::info!(workers, "LLM rate limits shared among the live members");
            last = workers;
        }
        if views.changed().await.is_err() {
            return;
        }
    }
}

/// A mesh member's assist worker (`aiex gateway` and `aiex node` both run one): it takes
/// jobs from the assist queue and builds their context from the whole cluster through a
/// [`MeshBackend`], so any member can answer any request. It takes no jobs when no
/// provider is configured here or `max_concurrent` is 0.
pub struct MeshAssist {
    worker: Option<Arc<AssistWorker>>,
    share_limits: JoinHandle<()>,
}

impl MeshAssist {
    pub fn new(
        bus: Arc<dyn Bus>,
        llm: Arc<Llm>,
        backend: Arc<MeshBackend>,
        views: watch::Receiver<Option<Arc<PlacementView>>>,
        options: AssistOptions,
    ) -> MeshAssist {
        let share_limits = tokio::spawn(share_llm_limits(views, llm.clone()));
        let worker = if options.max_concurrent == 0 {
            tracing::info!("this member takes no assist jobs (--assist-jobs 0)");
            None
        } else if let Err(e) = llm.check() {
            tracing::info!(reason = %e, "this member takes no assist jobs: no provider configured");
            None
        } else {
            Some(AssistWorker::new(
                bus,
                llm,
                Arc::new(crate::assist::BackendRetriever(backend)),
                options,
            ))
        };
        MeshAssist {
            worker,
            share_limits,
        }
    }

    /// Whether this member takes assist jobs.
    pub fn takes_jobs(&self) -> bool {
        self.worker.is_some()
    }

    /// Takes jobs until `stop` is cancelled; a job running then is left to another
    /// worker (it is delivered again after its ack wait).
    pub async fn run(self, stop: CancellationToken) {
        if let Some(worker) = &self.worker {
            let _ = worker.start(stop).await;
        } else {
            stop.cancelled().await;
        }
        self.share_limits.abort();
    }
}

/// Everything `aiex gateway` needs.
#[derive(Debug, Clone)]
pub struct MeshConfig {
    pub nats_url: String,
    /// Copies of each JetStream stream the gateway creates.
    pub stream_replicas: usize,
    pub cluster: ClusterConfig,
    pub placement: PlacementConfig,
    pub gateway: GatewayConfig,
    pub options: MeshOptions,
    /// The address nodes and peers dial (required when listening on a wildcard).
    pub advertise: Option<std::net::IpAddr>,
    /// This gateway's assist worker (`max_concurrent` 0: it takes no jobs).
    pub assist: AssistOptions,
}

/// A started cluster gateway.
pub struct MeshServer {
    pub state: Arc<GatewayState>,
    pub backend: Arc<MeshBackend>,
    cluster: Cluster,
    listener: TcpListener,
    follower: JoinHandle<()>,
    /// This gateway's assist worker (providers from the environment).
    assist: MeshAssist,
}

impl MeshServer {
    pub async fn start(config: MeshConfig) -> Result<MeshServer, GatewayError> {
        let bus = Metered::wrap(Arc::new(
            NatsBus::connect_with(
                &config.nats_url,
                aiex_node::role::nats_options(config.stream_replicas),
            )
            .await?,
        ));
        aiex_node::role::agree_on_partitions(bus.as_ref(), config.placement.partitions).await?;
        let listener = TcpListener::bind(config.gateway.listen)
            .await
            .map_err(|e| {
                GatewayError::Unavailable(format!(
                    "cannot listen on {}: {e} (choose another address with --listen)",
                    config.gateway.listen
                ))
            })?;
        let bound = listener
            .local_addr()
            .map_err(|e| GatewayError::Internal(e.to_string()))?;
        let mut cluster_config = config.cluster.clone();
        cluster_config.role = Role::Gateway;
        cluster_config.grpc_address = aiex_node::role::advertised(bound, config.advertise)?;
        let has_seeds = !cluster_config.seeds.is_empty();
        let cluster = Cluster::start(cluster_config.clone())
            .await
            .map_err(NodeError::from)?;
        let (views, follower) = follow::follow(&cluster, config.placement.clone(), has_seeds);
        let llm = Arc::new(Llm::load(None));
        let partitions = config.placement.partitions;
        let registry = Arc::new(Registry::load(bus.clone(), partitions).await?);
        let backend = Arc::new(MeshBackend::new(partitions, views, config.options.clone()));
        let mut gateway = config.gateway.clone();
        gateway.listen = bound;
        gateway.node_id = cluster_config.node_id.clone();
        let assist = MeshAssist::new(
            bus.clone(),
            llm.clone(),
            backend.clone(),
            backend.views.clone(),
            config.assist,
        );
        let state = Arc::new(GatewayState {
            config: gateway,
            registry,
            backend: backend.clone(),
            bus,
            started: Instant::now(),
            readiness: cluster.readiness(),
            llm,
        });
        cluster.set_ready(true).await;
        tracing::info!(
            node_id = %cluster_config.node_id,
            grpc = %bound,
            partitions,
            "gateway started"
        );
        Ok(MeshServer {
            state,
            backend,
            cluster,
            listener,
            follower,
            assist,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.state.config.listen
    }

    /// The readiness bit this gateway gossips (set once started).
    pub fn readiness(&self) -> Readiness {
        self.state.readiness.clone()
    }

    /// Serves until `shutdown`, then leaves the gossip.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), GatewayError> {
        let stop_assist = CancellationToken::new();
        let assist = tokio::spawn(self.assist.run(stop_assist.clone()));
        let served = crate::server::serve(self.state.clone(), self.listener, shutdown).await;
        stop_assist.cancel();
        let _ = assist.await;
        self.follower.abort();
        if let Err(e) = self.cluster.shutdown().await {
            tracing::warn!(error = %e, "leaving the gossip failed");
        }
        served
    }
}
