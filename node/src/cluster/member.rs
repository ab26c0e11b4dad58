//! What one mesh member gossips, and the one place that reads and writes those keys.
//!
//! Every member gossips exactly five facts about itself: its node id and generation
//! (carried by chitchat's [`ChitchatId`], together with the gossip address), and three
//! key-values: its [`Role`] ([`ROLE_KEY`]), the address of its gRPC server
//! ([`GRPC_ADDR_KEY`]) and whether it is ready to serve ([`READY_KEY`]). Nothing outside
//! this module names a key: peers' states are read with [`Member::from_node_state`],
//! our own is written with [`Member::key_values`] and [`write_ready`].
//!
//! Keys this version does not know are ignored, so a newer member may gossip more.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use chitchat::{ChitchatId, NodeState};

use super::ClusterError;

/// The member's role: `node` or `gateway`.
pub const ROLE_KEY: &str = "role";
/// The member's gRPC address, `ip:port`, as peers should dial it.
pub const GRPC_ADDR_KEY: &str = "grpc_addr";
/// `true` once the member serves, `false` before and while it stops.
pub const READY_KEY: &str = "ready";

/// What a member does in the mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Owns partitions: chunks, indexes, searches, runs assist jobs.
    Node,
    /// The front door: serves the gRPC API, owns no partitions.
    Gateway,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Node => "node",
            Role::Gateway => "gateway",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "node" => Ok(Role::Node),
            "gateway" => Ok(Role::Gateway),
            other => Err(format!(
                "{other:?} is not a role (expected \"node\" or \"gateway\")"
            )),
        }
    }
}

/// One live member of the mesh, as its gossip describes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Member {
    /// Unique in the cluster, stable across restarts (the hash ring is built from it).
    pub node_id: String,
    /// Start time of the member's process in milliseconds since the Unix epoch: a
    /// restarted member comes back with a larger generation.
    pub generation: u64,
    pub role: Role,
    /// Where peers dial the member's gRPC server.
    pub grpc_address: SocketAddr,
    /// Where peers gossip with the member.
    pub gossip_address: SocketAddr,
    /// Whether the member serves (set after its servers bound and its dependencies
    /// answered; cleared when it stops).
    pub ready: bool,
}

impl Member {
    /// Reads a member from its gossiped state. An error names the member and the key
    /// that is missing or holds a value this version cannot read.
    pub fn from_node_state(node_state: &NodeState) -> Result<Member, ClusterError> {
        let id = node_state.chitchat_id();
        let bad = |key: &'static str, reason: String| ClusterError::BadMemberState {
            node_id: id.node_id.to_string(),
            generation: id.generation_id,
            key,
            reason,
        };
        let value = |key: &'static str| {
            node_state
                .get(key)
                .ok_or_else(|| bad(key, "the key is missing".to_string()))
        };
        if id.node_id.trim().is_empty() {
            return Err(bad("node_id", "the node id is empty".to_string()));
        }
        let role = value(ROLE_KEY)?
            .parse::<Role>()
            .map_err(|reason| bad(ROLE_KEY, reason))?;
        let grpc_address = parse_dialable_address(value(GRPC_ADDR_KEY)?)
            .map_err(|reason| bad(GRPC_ADDR_KEY, reason))?;
        let ready = match value(READY_KEY)? {
            "true" => true,
            "false" => false,
            other => {
                return Err(bad(
                    READY_KEY,
                    format!("{other:?} is not \"true\" or \"false\""),
                ));
            }
        };
        Ok(Member {
            node_id: id.node_id.to_string(),
            generation: id.generation_id,
            role,
            grpc_address,
            gossip_address: id.gossip_advertise_addr,
            ready,
        })
    }

    /// The member's identity in chitchat.
    pub fn chitchat_id(&self) -> ChitchatId {
        ChitchatId::new(self.node_id.as_str(), self.generation, self.gossip_address)
    }

    /// The key-values this member gossips: what [`Member::from_node_state`] reads back.
    pub fn key_values(&self) -> Vec<(String, String)> {
        vec![
            (ROLE_KEY.to_string(), self.role.as_str().to_string()),
            (GRPC_ADDR_KEY.to_string(), self.grpc_address.to_string()),
            (READY_KEY.to_string(), encode_ready(self.ready).to_string()),
        ]
    }
}

/// Sets this member's readiness in its own gossiped state.
pub(crate) fn write_ready(own_state: &mut NodeState, ready: bool) {
    own_state.set(READY_KEY, encode_ready(ready));
}

fn encode_ready(ready: bool) -> &'static str {
    if ready { "true" } else { "false" }
}

/// Parses an `ip:port` a peer can dial: not `0.0.0.0`/`::`, not port 0.
pub(crate) fn parse_dialable_address(value: &str) -> Result<SocketAddr, String> {
    let address: SocketAddr = value
        .parse()
        .map_err(|_| format!("{value:?} is not an ip:port socket address"))?;
    check_dialable(address)?;
    Ok(address)
}

/// Checks that peers can reach `address`: a wildcard IP or port 0 only makes sense for
/// binding.
pub(crate) fn check_dialable(address: SocketAddr) -> Result<(), String> {
    if address.ip().is_unspecified() {
        return Err(format!(
            "{address} is a wildcard address, which peers cannot dial"
        ));
    }
    if address.port() == 0 {
        return Err(format!("{address} has port 0, which peers cannot dial"));
    }
    Ok(())
}
