//! Placement that follows membership: every member recomputes the same [`Placement`]
//! from the live nodes it sees, once membership has been quiet for a settle period, so
//! a burst of changes (a rolling restart, a node seen by gossip one peer at a time)
//! moves partitions once instead of once per change.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Placement;
use crate::cluster::{Cluster, Member, Role};

/// How placement is computed; the same on every member of a cluster.
#[derive(Debug, Clone)]
pub struct PlacementConfig {
    /// Partitions P (fixed per cluster).
    pub partitions: u32,
    /// Copies of each partition, the owner included (R).
    pub replication: u32,
    pub vnodes: u32,
    /// How long membership must stay unchanged before placement is recomputed.
    pub settle: Duration,
    /// Before the first placement, how long to wait for peers when seeds were given
    /// (a member that starts alone would otherwise place every partition on itself).
    pub first_wait: Duration,
}

impl PlacementConfig {
    pub fn new(partitions: u32, replication: u32) -> PlacementConfig {
        PlacementConfig {
            partitions,
            replication,
            vnodes: super::DEFAULT_VIRTUAL_NODES,
            settle: Duration::from_millis(750),
            first_wait: Duration::from_secs(2),
        }
    }
}

/// The live members and the placement computed from the node members among them.
#[derive(Debug, Clone)]
pub struct PlacementView {
    /// Every live member (nodes and gateways), by node id.
    pub members: Vec<Member>,
    pub placement: Placement,
    /// Bumped each time the placement's set of nodes changes.
    pub version: u64,
}

impl PlacementView {
    /// The live members that hold partitions.
    pub fn nodes(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.role == Role::Node)
    }

    pub fn member(&self, node_id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.node_id == node_id)
    }
}

/// Follows `cluster`'s membership: the returned receiver holds the current view (none
/// until the first placement is computed). The task ends with the cluster's gossip.
pub fn follow(
    cluster: &Cluster,
    config: PlacementConfig,
    has_seeds: bool,
) -> (watch::Receiver<Option<Arc<PlacementView>>>, JoinHandle<()>) {
    let (tx, rx) = watch::channel::<Option<Arc<PlacementView>>>(None);
    let mut events = cluster.subscribe();
    let members = cluster.members_watch();
    let task = tokio::spawn(async move {
        let mut wait = if has_seeds {
            config.first_wait
        } else {
            config.settle
        };
        let mut version = 0;
        let mut last_nodes: Option<Vec<String>> = None;
        loop {
            // Wait for quiet: `wait` without a membership change.
            loop {
                match tokio::time::timeout(wait, events.next()).await {
                    Ok(Some(_)) => {
                        // Readiness flips are not placement changes: apply at once.
                        wait = config.settle;
                    }
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            let live = members();
            let mut nodes: Vec<String> = live
                .iter()
                .filter(|m| m.role == Role::Node)
                .map(|m| m.node_id.clone())
                .collect();
            nodes.sort();
            let changed = last_nodes.as_ref() != Some(&nodes);
            if changed {
                version += 1;
            }
            let placement = if changed || tx.borrow().is_none() {
                Placement::compute(&nodes, config.partitions, config.replication, config.vnodes)
            } else {
                tx.borrow()
                    .as_ref()
                    .expect("a view was sent")
                    .placement
                    .clone()
            };
            if changed {
                tracing::info!(
                    version,
                    nodes = nodes.len(),
                    "membership settled; placement recomputed"
                );
            }
            last_nodes = Some(nodes);
            tx.send_replace(Some(Arc::new(PlacementView {
                members: live,
                placement,
                version,
            })));
            // Sleep until the next change.
            match events.next().await {
                Some(_) => wait = config.settle,
                None => return,
            }
        }
    });
    (rx, task)
}
