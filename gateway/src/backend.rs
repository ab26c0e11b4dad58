//! What the gateway needs from the nodes behind it. In the embedded mode that is the
//! node in the same process; in a cluster, the owners of each partition.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aiex_node::NodeError;
use aiex_node::context::ChunkSource;
use aiex_node::graph::SymbolGraph;
use aiex_node::indexer::{Indexer, RepoActivity};
use aiex_node::ingest::RepoSummary;
use aiex_proto::v1 as pb;
use async_trait::async_trait;

/// Searches, symbol look-ups and indexing progress across every partition.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    fn partition_count(&self) -> u32;
    /// Searches every partition; partitions nobody answered for are reported in
    /// `missing_partitions`.
    async fn search(&self, request: pb::SearchRequest) -> Result<pb::SearchResponse, NodeError>;
    async fn graph(&self) -> Result<Arc<SymbolGraph>, NodeError>;
    /// Files, chunks and bytes indexed per repository.
    async fn indexed(&self) -> HashMap<String, RepoSummary>;
    /// The paths of `repo`'s files that the index holds as read and skipped (minified,
    /// credentials): an upload does not count them unchanged, as the index's own count
    /// of them is added to the skipped ones. An error when a partition is not answered.
    async fn skipped_paths(&self, repo: &str) -> Result<Vec<String>, NodeError>;
    fn activity(&self, repo: &str) -> RepoActivity;
    /// Whether every partition has applied the log up to its target sequence.
    fn has_applied(&self, targets: &BTreeMap<u32, u64>) -> bool;
    async fn wait_applied(&self, targets: &BTreeMap<u32, u64>, timeout: Duration) -> bool;
    /// Re-chunks a repository from the log; returns the files indexed again.
    async fn reindex(&self, repo: &str) -> Result<u64, NodeError>;
    fn watermarks(&self) -> Vec<u64>;
    /// The members and the placement, as this gateway (`me`) sees them.
    fn cluster_status(&self, me: pb::Member) -> pb::ClusterStatus;
    /// Chunk look-ups by symbol and by file, for building prompt context; `None` where
    /// they are not wired yet (the mesh).
    fn chunk_source(&self) -> Option<Arc<dyn ChunkSource + Send + Sync>>;
    /// Whether the mesh member `id` is live (always, in one process).
    fn member_alive(&self, id: &str) -> bool {
        let _ = id;
        true
    }
}

/// The node in this process.
pub struct Embedded {
    pub indexer: Arc<Indexer>,
}

#[async_trait]
impl Backend for Embedded {
    fn partition_count(&self) -> u32 {
        self.indexer.partitions().partition_count()
    }

    async fn search(&self, request: pb::SearchRequest) -> Result<pb::SearchResponse, NodeError> {
        let started = std::time::Instant::now();
        let request = aiex_node::service::request_from_pb(request)?;
        let set = self.indexer.partitions().clone();
        let found =
            tokio::task::spawn_blocking(move || set.search_partitions(&request, &set.held()))
                .await??;
        let under_path = found.under_path;
        Ok(pb::SearchResponse {
            hits: found
                .hits
                .into_iter()
                .map(aiex_node::service::hit_to_pb)
                .collect(),
            missing_partitions: Vec::new(),
            took_micros: started.elapsed().as_micros() as u64,
            under_path,
        })
    }

    async fn graph(&self) -> Result<Arc<SymbolGraph>, NodeError> {
        let set = self.indexer.partitions().clone();
        tokio::task::spawn_blocking(move || set.graph()).await?
    }

    async fn indexed(&self) -> HashMap<String, RepoSummary> {
        let set = self.indexer.partitions().clone();
        tokio::task::spawn_blocking(move || {
            set.repos()
                .into_iter()
                .map(|r| (r.repo.clone(), r))
                .collect()
        })
        .await
        .unwrap_or_default()
    }

    async fn skipped_paths(&self, repo: &str) -> Result<Vec<String>, NodeError> {
        let set = self.indexer.partitions().clone();
        let repo = repo.to_string();
        let paths =
            tokio::task::spawn_blocking(move || set.skipped_paths_of(&repo, &set.held()).0).await?;
        Ok(paths)
    }

    fn activity(&self, repo: &str) -> RepoActivity {
        self.indexer.activity(repo)
    }

    fn has_applied(&self, targets: &BTreeMap<u32, u64>) -> bool {
        self.indexer.has_applied(targets)
    }

    async fn wait_applied(&self, targets: &BTreeMap<u32, u64>, timeout: Duration) -> bool {
        self.indexer.wait_applied(targets, timeout).await
    }

    async fn reindex(&self, repo: &str) -> Result<u64, NodeError> {
        self.indexer.reindex(repo).await
    }

    fn watermarks(&self) -> Vec<u64> {
        self.indexer.watermarks()
    }

    fn chunk_source(&self) -> Option<Arc<dyn ChunkSource + Send + Sync>> {
        Some(self.indexer.partitions().clone())
    }

    fn cluster_status(&self, me: pb::Member) -> pb::ClusterStatus {
        let partitions = self.partition_count();
        let id = me.node_id.clone();
        pb::ClusterStatus {
            members: vec![pb::Member {
                role: pb::Role::Embedded as i32,
                ready: true,
                ..me
            }],
            partition_count: partitions,
            placement: (0..partitions)
                .map(|p| pb::PartitionPlacement {
                    partition: p,
                    owner: id.clone(),
                    replicas: Vec::new(),
                })
                .collect(),
        }
    }
}
