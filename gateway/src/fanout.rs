//! Fan-out search across the mesh: every partition is asked of one live holder (the
//! owner first, then its replicas), each node answers its partitions' top hits within a
//! deadline, and the gateway merges them. Partitions no live holder answered for are
//! reported in `missing_partitions`, never silently dropped.
//!
//! Scores are BM25 with each node's own statistics, so a merged ranking across nodes is
//! close to, not exactly, the single-node one (the embedded mode sums statistics over
//! all partitions before scoring).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use aiex_node::ring::Placement;
use aiex_proto::mesh::v1 as mesh;
use aiex_proto::v1 as pb;
use tonic::transport::Channel;

/// A live member that can serve searches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveNode {
    pub node_id: String,
    pub grpc_address: SocketAddr,
}

/// Which partitions to ask of which node, given the ones that already failed.
///
/// Each partition goes to its first holder that is live and has not failed it; the
/// result maps node ids to their partitions, plus the partitions left without a holder.
pub fn plan(
    placement: &Placement,
    live: &BTreeSet<&str>,
    partitions: &[u32],
    failed: &BTreeMap<u32, BTreeSet<String>>,
) -> (BTreeMap<String, Vec<u32>>, Vec<u32>) {
    let mut by_node: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut orphans = Vec::new();
    for &p in partitions {
        let tried = failed.get(&p);
        let holder = placement
            .holders(p)
            .iter()
            .find(|n| live.contains(n.as_str()) && !tried.is_some_and(|t| t.contains(*n)));
        match holder {
            Some(n) => by_node.entry(n.clone()).or_default().push(p),
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

impl FanOut {
    fn client(&self, addr: SocketAddr) -> mesh::node_client::NodeClient<Channel> {
        let channel = self
            .channels
            .lock()
            .expect("channels lock")
            .entry(addr)
            .or_insert_with(|| {
                Channel::from_shared(format!("http://{addr}"))
                    .expect("a socket address is a valid URI")
                    .connect_timeout(Duration::from_secs(2))
                    .connect_lazy()
            })
            .clone();
        mesh::node_client::NodeClient::new(channel).max_decoding_message_size(64 << 20)
    }

    /// Searches every partition of `placement` on the live nodes, within `deadline` per
    /// attempt; a partition whose holder fails is retried on its next live holder.
    pub async fn search(
        &self,
        placement: &Placement,
        live: &[LiveNode],
        request: pb::SearchRequest,
        deadline: Duration,
    ) -> pb::SearchResponse {
        let started = std::time::Instant::now();
        let addresses: HashMap<&str, SocketAddr> = live
            .iter()
            .map(|n| (n.node_id.as_str(), n.grpc_address))
            .collect();
        let live_ids: BTreeSet<&str> = addresses.keys().copied().collect();
        let mut pending: Vec<u32> = (0..placement.partitions()).collect();
        let mut failed: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
        let mut hits = Vec::new();
        let mut missing = Vec::new();
        while !pending.is_empty() {
            let (by_node, orphans) = plan(placement, &live_ids, &pending, &failed);
            missing.extend(orphans);
            if by_node.is_empty() {
                break;
            }
            let calls = by_node.into_iter().map(|(node, partitions)| {
                let mut client = self.client(addresses[node.as_str()]);
                let req = mesh::NodeSearchRequest {
                    request: Some(request.clone()),
                    partitions: partitions.clone(),
                };
                async move {
                    let answer = tokio::time::timeout(deadline, client.search(req)).await;
                    (node, partitions, answer)
                }
            });
            pending = Vec::new();
            for (node, partitions, answer) in futures::future::join_all(calls).await {
                match answer {
                    Ok(Ok(response)) => {
                        let response = response.into_inner();
                        for p in &response.missing_partitions {
                            failed.entry(*p).or_default().insert(node.clone());
                            pending.push(*p);
                        }
                        hits.extend(response.hits);
                    }
                    Ok(Err(status)) => {
                        tracing::warn!(node = %node, error = %status, "node search failed; trying replicas");
                        for p in partitions {
                            failed.entry(p).or_default().insert(node.clone());
                            pending.push(p);
                        }
                    }
                    Err(_) => {
                        tracing::warn!(node = %node, ?deadline, "node search timed out; trying replicas");
                        for p in partitions {
                            failed.entry(p).or_default().insert(node.clone());
                            pending.push(p);
                        }
                    }
                }
            }
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        let limit = if request.limit == 0 {
            10
        } else {
            request.limit as usize
        };
        hits.truncate(limit);
        missing.sort_unstable();
        missing.dedup();
        pb::SearchResponse {
            hits,
            missing_partitions: missing,
            took_micros: started.elapsed().as_micros() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(nodes: &[&str]) -> Placement {
        Placement::compute(nodes, 16, 2, 128)
    }

    #[test]
    fn every_partition_goes_to_its_owner_when_all_are_live() {
        let pl = placement(&["a", "b", "c"]);
        let live: BTreeSet<&str> = ["a", "b", "c"].into();
        let all: Vec<u32> = (0..16).collect();
        let (by_node, orphans) = plan(&pl, &live, &all, &BTreeMap::new());
        assert!(orphans.is_empty());
        for (node, parts) in by_node {
            for p in parts {
                assert_eq!(pl.owner(p), Some(node.as_str()));
            }
        }
    }

    #[test]
    fn a_dead_or_failed_owner_falls_back_to_a_replica_then_to_missing() {
        let pl = placement(&["a", "b", "c"]);
        let live: BTreeSet<&str> = ["b", "c"].into();
        let owned_by_a = pl.owned_by("a");
        assert!(!owned_by_a.is_empty());
        let (by_node, orphans) = plan(&pl, &live, &owned_by_a, &BTreeMap::new());
        assert!(
            orphans.is_empty(),
            "R=2: every partition of a has a live replica"
        );
        for (node, parts) in &by_node {
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
        let (by_node, orphans) = plan(&pl, &live, &owned_by_a, &failed);
        assert!(by_node.is_empty());
        assert_eq!(orphans, owned_by_a);
    }
}
