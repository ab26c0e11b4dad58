//! How a member joins the mesh: its identity, where it gossips, whom it asks first, and
//! how quickly it gives up on a silent peer.
//!
//! # Failure detection
//!
//! Chitchat's detector declares a peer dead once no new heartbeat of it has arrived for
//! `phi_threshold` times the mean interval between its heartbeats so far; liveness is
//! re-evaluated at the end of every gossip round. A peer's heartbeats arrive about once
//! per gossip interval in a large cluster, and two to four times per interval in a small
//! one (every exchange in either direction, and every peer relaying it, carries them).
//! With the defaults (500 ms, 12) a hard-killed member was removed after 3 to 4 s in a
//! three-member cluster and 4 to 5 s in a ten-member one (loopback, measured by
//! `detection_time_over_five_kills` in `node/tests/cluster.rs`); expect up to about
//! 6.5 s in a large cluster.
//!
//! The same timeout is how long a member may stall (or its observer: a member that
//! stalls sees its peers as dead for a moment) before it is taken for dead, which moves
//! its partitions. Chitchat's default threshold, 8, detects a third faster and
//! tolerates a third less; raise the threshold or the interval on machines that pause.

use std::net::SocketAddr;
use std::time::Duration;

use super::ClusterError;
use super::member::{Role, check_dialable};

/// Default [`ClusterConfig::cluster_id`].
pub const DEFAULT_CLUSTER_ID: &str = "aiex";
/// Default [`ClusterConfig::gossip_interval`]: a round every 500 ms costs each member a
/// few small UDP datagrams per peer it picks (at most 3 live ones, a seed and a dead one).
pub const DEFAULT_GOSSIP_INTERVAL: Duration = Duration::from_millis(500);
/// Default [`ClusterConfig::phi_threshold`] (see the module documentation).
pub const DEFAULT_PHI_THRESHOLD: f64 = 12.0;
/// Default [`ClusterConfig::dead_node_grace_period`]: long enough for every member to
/// have agreed a peer is dead, short enough that restarts do not pile up.
pub const DEFAULT_DEAD_NODE_GRACE_PERIOD: Duration = Duration::from_secs(5 * 60);
/// Default [`ClusterConfig::marked_for_deletion_grace_period`].
pub const DEFAULT_MARKED_FOR_DELETION_GRACE_PERIOD: Duration = Duration::from_secs(60 * 60);

/// Heartbeat intervals sampled by the failure detector, per peer (chitchat's default).
pub(crate) const SAMPLING_WINDOW_SIZE: usize = 1_000;
/// Heartbeat intervals longer than this (a paused peer) are left out of the mean.
pub(crate) const MIN_MAX_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);

/// Membership settings. [`ClusterConfig::new`] fills in defaults that work on a laptop
/// and in Kubernetes; change the public fields to tune.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Unique in the cluster and stable across restarts (a StatefulSet pod name, a host
    /// name). The hash ring places partitions by node id.
    pub node_id: String,
    pub role: Role,
    /// Where the gossip UDP socket binds, e.g. `0.0.0.0:7946`. The port must not be 0:
    /// peers learn it from the advertised address.
    pub listen_gossip: SocketAddr,
    /// The gossip address peers should use; required when `listen_gossip` is a wildcard
    /// address (in Kubernetes, the pod IP). Defaults to `listen_gossip`.
    pub advertise_gossip: Option<SocketAddr>,
    /// Where peers dial this member's gRPC server (`ip:port`, not a wildcard).
    pub grpc_address: SocketAddr,
    /// Members to ask first, as `ip:port` or `host:port`. A host name may resolve to
    /// several addresses (a Kubernetes headless service); names are resolved at start,
    /// every second while this member knows no peer, and every minute by chitchat.
    /// An empty list starts a new cluster.
    pub seeds: Vec<String>,
    /// Members only talk to members with the same cluster id.
    pub cluster_id: String,
    /// Time between gossip rounds.
    pub gossip_interval: Duration,
    /// How many mean heartbeat intervals a peer may stay silent before it is declared
    /// dead (see the module documentation).
    pub phi_threshold: f64,
    /// How long a dead peer's state is kept before it is forgotten. A dead peer is
    /// removed from [`super::Cluster::members`] as soon as it is detected dead; this only
    /// bounds how long its last state is remembered.
    pub dead_node_grace_period: Duration,
    /// How long deleted keys are remembered (members never delete their keys today).
    pub marked_for_deletion_grace_period: Duration,
}

impl ClusterConfig {
    /// A config with the default cluster id, timings and no seeds.
    pub fn new(
        node_id: impl Into<String>,
        role: Role,
        listen_gossip: SocketAddr,
        grpc_address: SocketAddr,
    ) -> ClusterConfig {
        ClusterConfig {
            node_id: node_id.into(),
            role,
            listen_gossip,
            advertise_gossip: None,
            grpc_address,
            seeds: Vec::new(),
            cluster_id: DEFAULT_CLUSTER_ID.to_string(),
            gossip_interval: DEFAULT_GOSSIP_INTERVAL,
            phi_threshold: DEFAULT_PHI_THRESHOLD,
            dead_node_grace_period: DEFAULT_DEAD_NODE_GRACE_PERIOD,
            marked_for_deletion_grace_period: DEFAULT_MARKED_FOR_DELETION_GRACE_PERIOD,
        }
    }

    /// The gossip address peers use.
    pub fn gossip_address(&self) -> SocketAddr {
        self.advertise_gossip.unwrap_or(self.listen_gossip)
    }

    /// Checks every field; the error names the first bad one and what to do.
    pub fn validate(&self) -> Result<(), ClusterError> {
        let bad = |field: &'static str, reason: String| ClusterError::Config { field, reason };
        if self.node_id.trim().is_empty() || self.node_id.chars().any(char::is_whitespace) {
            return Err(bad(
                "node_id",
                format!("{:?} must be non-empty and contain no spaces", self.node_id),
            ));
        }
        if self.cluster_id.trim().is_empty() {
            return Err(bad("cluster_id", "must not be empty".to_string()));
        }
        if self.listen_gossip.port() == 0 {
            return Err(bad(
                "listen_gossip",
                format!(
                    "{} has port 0; pick a fixed port, since peers learn it from the \
                     advertised address",
                    self.listen_gossip
                ),
            ));
        }
        match self.advertise_gossip {
            Some(advertise) => {
                check_dialable(advertise).map_err(|reason| bad("advertise_gossip", reason))?
            }
            None if self.listen_gossip.ip().is_unspecified() => {
                return Err(bad(
                    "advertise_gossip",
                    format!(
                        "listen_gossip {} is a wildcard address peers cannot dial; set the \
                         address to advertise (in Kubernetes, the pod IP)",
                        self.listen_gossip
                    ),
                ));
            }
            None => {}
        }
        check_dialable(self.grpc_address).map_err(|reason| bad("grpc_address", reason))?;
        for seed in &self.seeds {
            check_seed(seed).map_err(|reason| bad("seeds", reason))?;
        }
        if self.gossip_interval < Duration::from_millis(10) {
            return Err(bad(
                "gossip_interval",
                format!("{:?} is too short; use 10 ms or more", self.gossip_interval),
            ));
        }
        if !self.phi_threshold.is_finite() || self.phi_threshold <= 0.0 {
            return Err(bad(
                "phi_threshold",
                format!("{} must be a positive number", self.phi_threshold),
            ));
        }
        if self.dead_node_grace_period.is_zero() {
            return Err(bad(
                "dead_node_grace_period",
                "must not be zero".to_string(),
            ));
        }
        if self.marked_for_deletion_grace_period.is_zero() {
            return Err(bad(
                "marked_for_deletion_grace_period",
                "must not be zero".to_string(),
            ));
        }
        Ok(())
    }

    /// Heartbeat intervals longer than this are left out of the detector's mean.
    pub(crate) fn max_heartbeat_interval(&self) -> Duration {
        (self.gossip_interval * 20).max(MIN_MAX_HEARTBEAT_INTERVAL)
    }
}

/// Whether a seed is a literal socket address (no resolution needed).
pub(crate) fn is_literal_seed(seed: &str) -> bool {
    seed.parse::<SocketAddr>().is_ok()
}

/// A seed is `ip:port`, `[ipv6]:port` or `host:port` with a port that is not 0.
fn check_seed(seed: &str) -> Result<(), String> {
    if let Ok(address) = seed.parse::<SocketAddr>() {
        return check_dialable(address).map_err(|reason| format!("seed {seed:?}: {reason}"));
    }
    let Some((host, port)) = seed.rsplit_once(':') else {
        return Err(format!("seed {seed:?} has no port; write host:port"));
    };
    let port_ok = port.parse::<u16>().is_ok_and(|port| port != 0);
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_');
    if !port_ok || !host_ok {
        return Err(format!(
            "seed {seed:?} is not ip:port or host:port (e.g. aiex-gossip.aiex.svc:7946)"
        ));
    }
    Ok(())
}
