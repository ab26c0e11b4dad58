//! Membership: which members are live, what role each plays, where to dial it and
//! whether it is ready, learnt by [chitchat] gossip over UDP.
//!
//! A [`Cluster`] joins the mesh through seeds (`ip:port` or a DNS name such as a
//! Kubernetes headless service), gossips this member's [`Member`] facts and nothing
//! else, and turns chitchat's failure detector into a view of live members that the
//! rest of the node reads ([`Cluster::members`]) or follows ([`Cluster::subscribe`]).
//! Every member computes placement from this view, so nothing about partitions is
//! gossiped.
//!
//! - [`member`]: the gossip keys and the one typed parser ([`Member`]);
//! - [`config`]: [`ClusterConfig`], its defaults and the failure detector's tuning;
//! - [`events`]: the change stream ([`MemberEvent`], [`MemberEvents`]).
//!
//! Chitchat has no goodbye message: a member that stops, however it stops, is removed
//! by its peers' failure detectors. [`Cluster::shutdown`] first gossips `ready = false`
//! so peers stop sending it work before it is gone.

pub mod config;
pub mod events;
pub mod member;
mod transport;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chitchat::{
    ChitchatConfig, ChitchatHandle, ChitchatId, FailureDetectorConfig, NodeState, ProtocolVersion,
    spawn_chitchat,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn};

pub use config::ClusterConfig;
pub use events::{MemberEvent, MemberEvents};
pub use member::{Member, Role};

use crate::readiness::Readiness;
use events::{MemberView, diff};
use transport::MeteredUdpTransport;

/// While a member knows no peer, it resolves its DNS seeds this often (chitchat alone
/// re-resolves them once a minute).
const LONELY_SEED_RESOLVE_INTERVAL: Duration = Duration::from_secs(1);

/// How many gossip intervals [`Cluster::shutdown`] keeps gossiping once a round has
/// carried the cleared readiness (the change reaches a peer in the exchange that round
/// starts, or in the peer's own next round).
const GOODBYE_ROUNDS: u32 = 2;
/// How long [`Cluster::shutdown`] waits, in gossip intervals, for that first round.
const GOODBYE_ROUND_TIMEOUT: u32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("invalid cluster setting `{field}`: {reason}")]
    Config { field: &'static str, reason: String },
    #[error(
        "cannot gossip on {address}/udp: {reason}; is another process using the port? \
         Pick another listen_gossip port or stop that process"
    )]
    Bind { address: SocketAddr, reason: String },
    #[error("member {node_id} (generation {generation}) gossips a bad `{key}`: {reason}")]
    BadMemberState {
        node_id: String,
        generation: u64,
        key: &'static str,
        reason: String,
    },
    #[error("gossip stopped: {reason}")]
    Stopped { reason: String },
}

impl ClusterError {
    pub fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            ClusterError::Config { .. } => ErrorCode::InvalidArgument,
            ClusterError::Bind { .. } => ErrorCode::FailedPrecondition,
            ClusterError::BadMemberState { .. } => ErrorCode::Internal,
            ClusterError::Stopped { .. } => ErrorCode::Unavailable,
        }
    }
}

/// This member's place in the mesh. Dropping it stops gossip at once, without clearing
/// readiness first (peers see a crash); [`Cluster::shutdown`] leaves politely.
pub struct Cluster {
    handle: Arc<ChitchatHandle>,
    self_member: Member,
    ready: Readiness,
    gossip_interval: Duration,
    views: watch::Receiver<Arc<MemberView>>,
    invalid_members: Arc<AtomicUsize>,
    tasks: Vec<JoinHandle<()>>,
}

impl Cluster {
    /// Validates `config`, binds the gossip socket and starts gossiping, not ready.
    /// Seeds are contacted in the first round; an unresolvable seed name is logged and
    /// retried, not an error (a headless service has no address until pods start).
    pub async fn start(config: ClusterConfig) -> Result<Cluster, ClusterError> {
        config.validate()?;
        let self_member = Member {
            node_id: config.node_id.clone(),
            generation: generation_now(),
            role: config.role,
            grpc_address: config.grpc_address,
            gossip_address: config.gossip_address(),
            ready: false,
        };
        let chitchat_config = ChitchatConfig {
            chitchat_id: self_member.chitchat_id(),
            cluster_id: config.cluster_id.clone(),
            gossip_interval: config.gossip_interval,
            listen_addr: config.listen_gossip,
            seed_nodes: config.seeds.clone(),
            failure_detector_config: FailureDetectorConfig {
                phi_threshold: config.phi_threshold,
                sampling_window_size: config::SAMPLING_WINDOW_SIZE,
                max_interval: config.max_heartbeat_interval(),
                // The prior for a new peer's heartbeat interval: with chitchat's default
                // (5 s), a peer dying soon after it joined would go unnoticed for up to
                // phi_threshold x 5 s.
                initial_interval: config.gossip_interval,
                dead_node_grace_period: config.dead_node_grace_period,
            },
            marked_for_deletion_grace_period: config.marked_for_deletion_grace_period,
            catchup_callback: None,
            extra_liveness_predicate: None,
            // V1 compresses digests, but V0 members cannot read it: switch only once
            // every member in the field runs a version that reads V1.
            protocol_version: ProtocolVersion::V0,
        };
        let handle = spawn_chitchat(
            chitchat_config,
            self_member.key_values(),
            &MeteredUdpTransport,
        )
        .await
        .map_err(|e| ClusterError::Bind {
            address: config.listen_gossip,
            reason: format!("{e:#}"),
        })?;
        let handle = Arc::new(handle);
        let live_nodes = handle.with_chitchat(|c| c.live_nodes_watcher()).await;

        let initial = MemberView::from([(self_member.node_id.clone(), self_member.clone())]);
        let (views_tx, views) = watch::channel(Arc::new(initial));
        let invalid_members = Arc::new(AtomicUsize::new(0));
        let mut tasks = vec![tokio::spawn(follow_live_nodes(
            live_nodes,
            handle.termination_watcher(),
            views_tx,
            invalid_members.clone(),
        ))];
        let dns_seeds: Vec<String> = config
            .seeds
            .iter()
            .filter(|seed| !config::is_literal_seed(seed))
            .cloned()
            .collect();
        if !dns_seeds.is_empty() {
            let own = [config.listen_gossip, self_member.gossip_address];
            tasks.push(tokio::spawn(resolve_seeds_while_alone(
                handle.clone(),
                dns_seeds,
                own,
                views.clone(),
            )));
        }
        info!(
            node_id = %self_member.node_id,
            generation = self_member.generation,
            role = %self_member.role,
            gossip_address = %self_member.gossip_address,
            seeds = ?config.seeds,
            "gossip started"
        );
        Ok(Cluster {
            handle,
            self_member,
            ready: Readiness::new(),
            gossip_interval: config.gossip_interval,
            views,
            invalid_members,
            tasks,
        })
    }

    /// The live members this member sees, itself included, by node id.
    pub fn members(&self) -> Vec<Member> {
        self.views.borrow().values().cloned().collect()
    }

    /// Reads the live members later, without holding on to the cluster (for tasks).
    pub fn members_watch(&self) -> impl Fn() -> Vec<Member> + Send + Sync + 'static {
        let views = self.views.clone();
        move || views.borrow().values().cloned().collect()
    }

    /// This member as it gossips itself.
    pub fn self_member(&self) -> Member {
        Member {
            ready: self.ready.is_ready(),
            ..self.self_member.clone()
        }
    }

    /// How many live peers gossip a state this version cannot read. They are left out
    /// of [`Cluster::members`]; each is logged at warn level, naming the bad key.
    pub fn invalid_members(&self) -> usize {
        self.invalid_members.load(Ordering::Relaxed)
    }

    /// The readiness bit this member gossips, for `/health/readyz` and gRPC health.
    pub fn readiness(&self) -> Readiness {
        self.ready.clone()
    }

    /// Gossips this member's readiness. Peers, and this member's own view, see it after
    /// their next gossip round.
    pub async fn set_ready(&self, ready: bool) {
        self.ready.set(ready);
        self.handle
            .with_chitchat(|chitchat| member::write_ready(chitchat.self_node_state(), ready))
            .await;
    }

    /// Follows membership changes: first the current members as `Added`, then every
    /// change.
    pub fn subscribe(&self) -> MemberEvents {
        MemberEvents::new(self.views.clone())
    }

    /// Leaves the mesh: if this member was ready and has peers, gossips `ready = false`
    /// until a round has carried it and for two more intervals (about 1 to 1.5 s with
    /// the defaults), then stops gossip. Peers remove it once their failure
    /// detectors notice the silence.
    pub async fn shutdown(self) -> Result<(), ClusterError> {
        // Any peer gossip has brought counts, live or not: a peer may know this member
        // before this member's failure detector counts the peer live.
        if self.ready.is_ready()
            && self
                .handle
                .with_chitchat(|chitchat| chitchat.node_states().len() > 1)
                .await
        {
            self.set_ready(false).await;
            // Our own view changes at the end of the first round that gossiped the change.
            let mut views = self.views.clone();
            let me = &self.self_member;
            let gossiped = views.wait_for(|view| {
                view.get(&me.node_id)
                    .is_some_and(|m| m.generation == me.generation && !m.ready)
            });
            let _ =
                tokio::time::timeout(self.gossip_interval * GOODBYE_ROUND_TIMEOUT, gossiped).await;
            tokio::time::sleep(self.gossip_interval * GOODBYE_ROUNDS).await;
        }
        let _ = self.handle.initiate_shutdown();
        let stopped = self.handle.termination_watcher().await;
        info!(node_id = %self.self_member.node_id, "gossip stopped");
        stopped.map_err(|e| ClusterError::Stopped {
            reason: format!("{e:#}"),
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let _ = self.handle.initiate_shutdown();
    }
}

/// Start time in milliseconds since the Unix epoch: a restart gossips a larger
/// generation.
fn generation_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// Turns chitchat's live node states into the member view each time they change, until
/// gossip stops (then the view's sender is dropped and subscriptions end).
async fn follow_live_nodes<E: std::fmt::Display>(
    mut live_nodes: watch::Receiver<BTreeMap<ChitchatId, NodeState>>,
    stopped: impl Future<Output = Result<(), E>>,
    views: watch::Sender<Arc<MemberView>>,
    invalid_members: Arc<AtomicUsize>,
) {
    tokio::pin!(stopped);
    let mut reported = HashSet::new();
    loop {
        tokio::select! {
            changed = live_nodes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            result = &mut stopped => {
                if let Err(e) = result {
                    error!(error = %format!("{e:#}"), "gossip stopped; membership is frozen");
                }
                return;
            }
        }
        let (view, invalid) = read_view(&live_nodes.borrow_and_update(), &mut reported);
        invalid_members.store(invalid, Ordering::Relaxed);
        metrics::gauge!(crate::metrics::CLUSTER_LIVE_MEMBERS).set(view.len() as f64);
        views.send_if_modified(|current| {
            if **current == view {
                return false;
            }
            log_changes(current, &view);
            *current = Arc::new(view);
            true
        });
    }
}

/// Parses every live node state. A state that does not parse is left out, counted, and
/// logged once per version of it (`reported` remembers which).
fn read_view(
    live_nodes: &BTreeMap<ChitchatId, NodeState>,
    reported: &mut HashSet<(ChitchatId, u64)>,
) -> (MemberView, usize) {
    let mut view = MemberView::new();
    let mut invalid = 0;
    reported.retain(|(id, _)| live_nodes.contains_key(id));
    for (id, state) in live_nodes {
        match Member::from_node_state(state) {
            Ok(member) => {
                let newest = view
                    .get(&member.node_id)
                    .is_none_or(|other| other.generation < member.generation);
                if newest {
                    view.insert(member.node_id.clone(), member);
                }
            }
            Err(e) => {
                invalid += 1;
                if reported.insert((id.clone(), state.max_version())) {
                    warn!(
                        gossip_address = %id.gossip_advertise_addr,
                        error = %e,
                        "ignoring a live member whose state does not parse"
                    );
                }
            }
        }
    }
    (view, invalid)
}

fn log_changes(old: &MemberView, new: &MemberView) {
    for event in diff(old, new) {
        let (change, member) = match &event {
            MemberEvent::Added(member) => ("added", member),
            MemberEvent::Updated(member) => ("updated", member),
            MemberEvent::Removed(member) => ("removed", member),
        };
        info!(
            node_id = %member.node_id,
            generation = member.generation,
            role = %member.role,
            grpc_address = %member.grpc_address,
            ready = member.ready,
            change,
            "membership changed"
        );
    }
}

/// Resolves the DNS seeds and gossips with every address they name, each second while
/// this member sees no peer. Chitchat resolves names at start and then once a minute, so
/// a member started before its headless service listed any peer would otherwise wait a
/// minute to join.
async fn resolve_seeds_while_alone(
    handle: Arc<ChitchatHandle>,
    dns_seeds: Vec<String>,
    own_addresses: [SocketAddr; 2],
    mut views: watch::Receiver<Arc<MemberView>>,
) {
    loop {
        tokio::time::sleep(LONELY_SEED_RESOLVE_INTERVAL).await;
        if views.wait_for(|view| view.len() <= 1).await.is_err() {
            return;
        }
        for seed in &dns_seeds {
            match tokio::net::lookup_host(seed.as_str()).await {
                Ok(addresses) => {
                    for address in addresses.filter(|a| !own_addresses.contains(a)) {
                        if handle.gossip(address).is_err() {
                            return;
                        }
                    }
                }
                Err(e) => debug!(seed = %seed, error = %e, "seed does not resolve yet"),
            }
        }
    }
}
