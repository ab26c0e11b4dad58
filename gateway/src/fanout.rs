//! Fan-out search across the mesh: every partition is asked of one live holder (the
//! owner first, then its replicas), each node answers its partitions' top hits within a
//! deadline, and the gateway merges them. Partitions no live holder answered for are
//! reported in `missing_partitions`, never silently dropped.
//!
//! A search takes two rounds: the query's BM25 statistics are gathered from every
//! partition and summed, then every partition is searched with the sum, so the merged
//! ranking is the one a single node holding every partition computes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use aiex_node::ring::Placement;
use aiex_node::search::QueryStats;
use aiex_node::service::{stats_from_pb, stats_to_pb};
use aiex_proto::mesh::v1 as mesh;
use aiex_proto::v1 as pb;
use tonic::transport::Channel;

/// A live member that can serve searches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveNode {
    pub node_id: String,
    pub grpc_address: SocketAddr,
}

/// The nodes to ask for each partition, best first (index = partition).
pub type Candidates = Vec<Vec<LiveNode>>;

/// Candidates from placement alone: each partition's live holders, owner first.
pub fn candidates_from_placement(placement: &Placement, live: &[LiveNode]) -> Candidates {
    let by_id: HashMap<&str, &LiveNode> = live.iter().map(|n| (n.node_id.as_str(), n)).collect();
    (0..placement.partitions())
        .map(|p| {
            placement
                .holders(p)
                .iter()
                .filter_map(|id| by_id.get(id.as_str()).map(|n| (*n).clone()))
                .collect()
        })
        .collect()
}

/// Node id -> its address and the partitions to ask of it.
pub type Plan = BTreeMap<String, (SocketAddr, Vec<u32>)>;

/// Which partitions to ask of which node, given the ones that already failed.
///
/// Each pending partition goes to its first candidate that has not failed it; the
/// result maps node ids to their address and partitions, plus the partitions left
/// without a candidate.
pub fn plan(
    candidates: &[Vec<LiveNode>],
    pending: &[u32],
    failed: &BTreeMap<u32, BTreeSet<String>>,
) -> (Plan, Vec<u32>) {
    let mut by_node = Plan::new();
    let mut orphans = Vec::new();
    for &p in pending {
        let tried = failed.get(&p);
        let choice = candidates
            .get(p as usize)
            .into_iter()
            .flatten()
            .find(|n| !tried.is_some_and(|t| t.contains(&n.node_id)));
        match choice {
            Some(n) => by_node
                .entry(n.node_id.clone())
                .or_insert_with(|| (n.grpc_address, Vec::new()))
                .1
                .push(p),
            None => orphans.push(p),
        }
    }
    (by_node, orphans)
}

/// Connections to nodes, made lazily and kept.
#[derive(Default)]
pub struct FanOut {
    channels: Mutex<HashMap<SocketAddr, Channel>>,
}

/// Adds the caller's trace context to every request.
type TraceInterceptor = fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status>;

/// A node client (it carries the caller's trace context to the node).
pub type NodeClient = mesh::node_client::NodeClient<
    tonic::service::interceptor::InterceptedService<Channel, TraceInterceptor>,
>;

impl FanOut {
    pub fn client(&self, addr: SocketAddr) -> NodeClient {
        let channel = self
            .channels
            .lock()
            .expect("channels lock")
            .entry(addr)
            .or_insert_with(|| {
                Channel::from_shared(format!("http://{addr}"))
                    .expect("a socket address is a valid URI")
                    .connect_timeout(Duration::from_secs(2))
                    .tcp_nodelay(true)
                    .connect_lazy()
            })
            .clone();
        mesh::node_client::NodeClient::with_interceptor(
            channel,
            aiex_node::telemetry::propagate as TraceInterceptor,
        )
        .max_decoding_message_size(256 << 20)
        .max_encoding_message_size(16 << 20)
    }

    /// Calls `call` once per node with the partitions it is asked for (each partition
    /// on its first candidate), within `deadline` per attempt. A partition whose node
    /// fails, times out or does not hold it is retried on its next candidate; those no
    /// candidate answered for are returned, sorted, after the answers.
    pub async fn scatter<R, F, Fut>(
        &self,
        candidates: &[Vec<LiveNode>],
        deadline: Duration,
        call: F,
    ) -> (Vec<R>, Vec<u32>)
    where
        F: Fn(NodeClient, Vec<u32>) -> Fut,
        Fut: Future<Output = Result<(R, Vec<u32>), tonic::Status>>,
    {
        let mut pending: Vec<u32> = (0..candidates.len() as u32).collect();
        let mut failed: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
        let mut answers = Vec::new();
        let mut missing = Vec::new();
        while !pending.is_empty() {
            let (by_node, orphans) = plan(candidates, &pending, &failed);
            missing.extend(orphans);
            if by_node.is_empty() {
                break;
            }
            let calls = by_node.into_iter().map(|(node, (addr, partitions))| {
                let answer = call(self.client(addr), partitions.clone());
                async move {
                    let answer = tokio::time::timeout(deadline, answer).await;
                    (node, partitions, answer)
                }
            });
            pending = Vec::new();
            for (node, partitions, answer) in futures::future::join_all(calls).await {
                let retry = match answer {
                    Ok(Ok((answer, not_held))) => {
                        answers.push(answer);
                        not_held
                    }
                    Ok(Err(status)) => {
                        tracing::warn!(node = %node, error = %status, "node call failed; trying replicas");
                        partitions
                    }
                    Err(_) => {
                        tracing::warn!(node = %node, ?deadline, "node call timed out; trying replicas");
                        partitions
                    }
                };
                for p in retry {
                    failed.entry(p).or_default().insert(node.clone());
                    pending.push(p);
                }
            }
        }
        missing.sort_unstable();
        missing.dedup();
        (answers, missing)
    }

    /// Searches every partition of `placement` on the live nodes (owner first).
    pub async fn search(
        &self,
        placement: &Placement,
        live: &[LiveNode],
        request: pb::SearchRequest,
        deadline: Duration,
    ) -> pb::SearchResponse {
        let candidates = candidates_from_placement(placement, live);
        self.search_candidates(&candidates, request, deadline).await
    }

    /// Searches every partition on its candidates and merges the top hits.
    pub async fn search_candidates(
        &self,
        candidates: &[Vec<LiveNode>],
        request: pb::SearchRequest,
        deadline: Duration,
    ) -> pb::SearchResponse {
        let started = std::time::Instant::now();
        // Phase one: the query's BM25 statistics over every partition, so that phase two
        // scores each partition as one node holding everything would.
        let (parts, _) = self
            .scatter(candidates, deadline, |mut client, partitions| {
                let req = mesh::NodeSearchRequest {
                    request: Some(request.clone()),
                    partitions,
                    stats: None,
                };
                async move {
                    let r = client.stats(req).await?.into_inner();
                    let missing = r.missing_partitions.clone();
                    Ok((stats_from_pb(r), missing))
                }
            })
            .await;
        let mut stats = QueryStats::default();
        for part in &parts {
            stats.merge(part);
        }
        let stats = stats_to_pb(&stats);
        let (answers, missing) = self
            .scatter(candidates, deadline, |mut client, partitions| {
                let req = mesh::NodeSearchRequest {
                    request: Some(request.clone()),
                    partitions,
                    stats: Some(stats.clone()),
                };
                async move {
                    let r = client.search(req).await?.into_inner();
                    Ok(((r.hits, r.under_path), r.missing_partitions))
                }
            })
            .await;
        // A node that found nothing under a path counts what is under it; the sum means
        // something only when every partition answered, none with hits, and each of them
        // with its count (a node of an older version sends none).
        let mut under_path: Option<u64> = Some(0);
        let mut hits: Vec<pb::SearchHit> = Vec::new();
        for (found, under) in answers {
            under_path = under_path.zip(under).map(|(sum, n)| sum + n);
            hits.extend(found);
        }
        let under_path = under_path.filter(|_| hits.is_empty() && missing.is_empty());
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.chunk_id.cmp(&b.chunk_id))
        });
        let limit = if request.limit == 0 {
            10
        } else {
            request.limit as usize
        };
        hits.truncate(limit);
        pb::SearchResponse {
            hits,
            missing_partitions: missing,
            took_micros: started.elapsed().as_micros() as u64,
            under_path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(nodes: &[&str]) -> Placement {
        Placement::compute(nodes, 16, 2, 128)
    }

    fn live(ids: &[&str]) -> Vec<LiveNode> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| LiveNode {
                node_id: id.to_string(),
                grpc_address: SocketAddr::from(([127, 0, 0, 1], 9000 + i as u16)),
            })
            .collect()
    }

    #[test]
    fn every_partition_goes_to_its_owner_when_all_are_live() {
        let pl = placement(&["a", "b", "c"]);
        let candidates = candidates_from_placement(&pl, &live(&["a", "b", "c"]));
        let all: Vec<u32> = (0..16).collect();
        let (by_node, orphans) = plan(&candidates, &all, &BTreeMap::new());
        assert!(orphans.is_empty());
        for (node, (_, parts)) in by_node {
            for p in parts {
                assert_eq!(pl.owner(p), Some(node.as_str()));
            }
        }
    }

    #[test]
    fn a_dead_or_failed_owner_falls_back_to_a_replica_then_to_missing() {
        let pl = placement(&["a", "b", "c"]);
        let candidates = candidates_from_placement(&pl, &live(&["b", "c"]));
        let owned_by_a = pl.owned_by("a");
        assert!(!owned_by_a.is_empty());
        let (by_node, orphans) = plan(&candidates, &owned_by_a, &BTreeMap::new());
        assert!(
            orphans.is_empty(),
            "R=2: every partition of a has a live replica"
        );
        for (node, (_, parts)) in &by_node {
            for p in parts {
                assert_eq!(
                    pl.replicas(*p).first().map(String::as_str),
                    Some(node.as_str())
                );
            }
        }
        // The replica failed too: nothing live is left for those partitions.
        let failed: BTreeMap<u32, BTreeSet<String>> = owned_by_a
            .iter()
            .map(|p| (*p, pl.replicas(*p).iter().cloned().collect()))
            .collect();
        let (by_node, orphans) = plan(&candidates, &owned_by_a, &failed);
        assert!(by_node.is_empty());
        assert_eq!(orphans, owned_by_a);
    }
}
