//! Membership over real UDP on 127.0.0.1: members join through seeds (addresses and DNS
//! names), see each other's roles, addresses and readiness, follow changes, detect a
//! hard-killed member and see it rejoin; plus the typed parser and config checks.
//!
//! Tests wait on conditions with generous timeouts and never assert on timing; the
//! detection times they print are for reading (`--nocapture`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aiex_node::cluster::{
    Cluster, ClusterConfig, ClusterError, Member, MemberEvent, MemberEvents, Role,
};
use chitchat::transport::UdpTransport;
use chitchat::{
    ChitchatConfig, ChitchatId, FailureDetectorConfig, NodeState, ProtocolVersion, spawn_chitchat,
};

/// Enough for gossip to converge on a loaded 2-core machine; tests finish as soon as
/// the condition holds.
const CONVERGE: Duration = Duration::from_secs(20);
/// Upper bound for detecting a hard-killed member (the default detector takes a few s).
const DETECT: Duration = Duration::from_secs(30);

/// A port nothing listens on right now: bind port 0, note the port, let it go.
fn free_port() -> u16 {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral port");
    socket.local_addr().expect("local address").port()
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A member on 127.0.0.1 with the default timings.
fn config(node_id: &str, role: Role, seeds: &[SocketAddr]) -> ClusterConfig {
    let mut config = ClusterConfig::new(node_id, role, local(free_port()), local(free_port()));
    config.seeds = seeds.iter().map(ToString::to_string).collect();
    config
}

async fn start(config: &ClusterConfig) -> Cluster {
    Cluster::start(config.clone())
        .await
        .expect("start a member")
}

async fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for the first event that `wanted` accepts, skipping the others.
async fn next_event(
    events: &mut MemberEvents,
    what: &str,
    timeout: Duration,
    wanted: impl Fn(&MemberEvent) -> bool,
) -> MemberEvent {
    let found = tokio::time::timeout(timeout, async {
        loop {
            let event = events.next().await.expect("the change stream ended");
            if wanted(&event) {
                return event;
            }
        }
    });
    found
        .await
        .unwrap_or_else(|_| panic!("timed out after {timeout:?} waiting for {what}"))
}

fn node_ids(cluster: &Cluster) -> Vec<String> {
    cluster.members().into_iter().map(|m| m.node_id).collect()
}

fn member(cluster: &Cluster, node_id: &str) -> Option<Member> {
    cluster.members().into_iter().find(|m| m.node_id == node_id)
}

fn is_removed(node_id: &'static str) -> impl Fn(&MemberEvent) -> bool {
    move |e| matches!(e, MemberEvent::Removed(m) if m.node_id == node_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_join_through_one_seed() {
    let a_config = config("a", Role::Node, &[]);
    let a = start(&a_config).await;
    let seed = [a_config.gossip_address()];
    let b_config = config("b", Role::Gateway, &seed);
    let b = start(&b_config).await;
    let c_config = config("c", Role::Node, &seed);
    let c = start(&c_config).await;
    b.set_ready(true).await;

    let clusters = [&a, &b, &c];
    wait_until("every member sees three, with b ready", CONVERGE, || {
        clusters.iter().all(|cluster| {
            node_ids(cluster) == ["a", "b", "c"] && member(cluster, "b").is_some_and(|b| b.ready)
        })
    })
    .await;

    for cluster in clusters {
        for (expected, own) in [(&a_config, &a), (&b_config, &b), (&c_config, &c)] {
            let seen = member(cluster, &expected.node_id).expect("member listed");
            assert_eq!(
                seen,
                own.self_member(),
                "as seen by {}",
                cluster.self_member().node_id
            );
            assert_eq!(seen.role, expected.role);
            assert_eq!(seen.grpc_address, expected.grpc_address);
            assert_eq!(seen.gossip_address, expected.listen_gossip);
            assert_eq!(seen.ready, expected.node_id == "b");
        }
    }
    assert_eq!(a.invalid_members(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_change_is_an_updated_event() {
    let a_config = config("a", Role::Gateway, &[]);
    let a = start(&a_config).await;
    let b = start(&config("b", Role::Node, &[a_config.gossip_address()])).await;
    wait_until("a sees b", CONVERGE, || member(&a, "b").is_some()).await;

    // A subscription starts with the current members.
    let mut events = a.subscribe();
    let mut initial = vec![
        events.next().await.expect("event"),
        events.next().await.expect("event"),
    ];
    initial.sort_by(|x, y| x.member().node_id.cmp(&y.member().node_id));
    assert!(
        matches!(&initial[..], [MemberEvent::Added(x), MemberEvent::Added(y)] if x.node_id == "a" && y.node_id == "b"),
        "{initial:?}"
    );

    b.set_ready(true).await;
    let event = next_event(
        &mut events,
        "b ready",
        CONVERGE,
        |e| matches!(e, MemberEvent::Updated(m) if m.node_id == "b"),
    )
    .await;
    assert_eq!(event, MemberEvent::Updated(b.self_member()));
    assert!(event.member().ready);

    b.set_ready(false).await;
    let event = next_event(
        &mut events,
        "b not ready",
        CONVERGE,
        |e| matches!(e, MemberEvent::Updated(m) if m.node_id == "b"),
    )
    .await;
    assert!(!event.member().ready);
    assert_eq!(member(&a, "b").map(|b| b.ready), Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_killed_member_is_removed_and_rejoins_with_a_new_generation() {
    let a_config = config("a", Role::Gateway, &[]);
    let a = start(&a_config).await;
    let seed = [a_config.gossip_address()];
    let b_config = config("b", Role::Node, &seed);
    let b = start(&b_config).await;
    let c = start(&config("c", Role::Node, &seed)).await;
    b.set_ready(true).await;
    for cluster in [&a, &c] {
        wait_until("b is seen ready", CONVERGE, || {
            member(cluster, "b").is_some_and(|b| b.ready)
        })
        .await;
    }
    let old_generation = b.self_member().generation;
    let mut a_events = a.subscribe();
    let mut c_events = c.subscribe();

    // Hard kill: gossip stops at once, readiness is never cleared.
    let killed_at = Instant::now();
    drop(b);
    let removed = next_event(&mut a_events, "a removes b", DETECT, is_removed("b")).await;
    let a_took = killed_at.elapsed();
    assert_eq!(removed.member().generation, old_generation);
    assert!(
        removed.member().ready,
        "a hard kill does not clear readiness"
    );
    next_event(&mut c_events, "c removes b", DETECT, is_removed("b")).await;
    let c_took = killed_at.elapsed();
    println!("hard-killed member detected by a after {a_took:?}, by c after {c_took:?}");
    assert_eq!(node_ids(&a), ["a", "c"]);

    // Same node id and address, new process: a new generation joins.
    let b = start(&b_config).await;
    let added = next_event(
        &mut a_events,
        "a adds b again",
        CONVERGE,
        |e| matches!(e, MemberEvent::Added(m) if m.node_id == "b"),
    )
    .await;
    assert!(added.member().generation > old_generation);
    assert_eq!(added.member(), &b.self_member());
    wait_until("c sees the new b", CONVERGE, || {
        member(&c, "b").is_some_and(|m| m.generation > old_generation)
    })
    .await;
    wait_until("the new b sees a and c", CONVERGE, || {
        node_ids(&b) == ["a", "b", "c"]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_clears_readiness_before_leaving() {
    let a_config = config("a", Role::Gateway, &[]);
    let a = start(&a_config).await;
    let b = start(&config("b", Role::Node, &[a_config.gossip_address()])).await;
    b.set_ready(true).await;
    wait_until("a sees b ready", CONVERGE, || {
        member(&a, "b").is_some_and(|b| b.ready)
    })
    .await;
    let mut events = a.subscribe();

    // Follow the events while b shuts down, so the two changes are seen one by one.
    let (shutdown, event) = tokio::join!(
        b.shutdown(),
        next_event(&mut events, "b not ready", CONVERGE, |e| {
            matches!(e, MemberEvent::Updated(m) | MemberEvent::Removed(m) if m.node_id == "b")
        })
    );
    shutdown.expect("shut down");
    assert!(
        matches!(&event, MemberEvent::Updated(m) if !m.ready),
        "readiness is cleared before b goes: {event:?}"
    );
    next_event(&mut events, "a removes b", DETECT, is_removed("b")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_given_as_a_dns_name_joins() {
    let a_config = config("a", Role::Node, &[]);
    let a = start(&a_config).await;
    let mut b_config = config("b", Role::Node, &[]);
    b_config.seeds = vec![format!("localhost:{}", a_config.listen_gossip.port())];
    let b = start(&b_config).await;
    wait_until("both see each other", CONVERGE, || {
        node_ids(&a) == ["a", "b"] && node_ids(&b) == ["a", "b"]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_name_that_does_not_resolve_is_not_an_error() {
    // A headless service has no address before its pods start: keep going, keep trying.
    let a_config = config("a", Role::Node, &[]);
    let a = start(&a_config).await;
    let mut b_config = config("b", Role::Node, &[]);
    b_config.seeds = vec![
        "aiex-nowhere.invalid:7946".to_string(),
        a_config.gossip_address().to_string(),
    ];
    let b = start(&b_config).await;
    wait_until("both see each other", CONVERGE, || {
        node_ids(&a) == ["a", "b"] && node_ids(&b) == ["a", "b"]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_with_an_unparseable_state_is_counted_not_listed() {
    let a_config = config("a", Role::Node, &[]);
    let a = start(&a_config).await;

    // A raw chitchat peer that gossips a role this version does not know.
    let port = free_port();
    let interval = Duration::from_millis(500);
    let rogue = spawn_chitchat(
        ChitchatConfig {
            chitchat_id: ChitchatId::new("rogue", 1, local(port)),
            cluster_id: a_config.cluster_id.clone(),
            gossip_interval: interval,
            listen_addr: local(port),
            seed_nodes: vec![a_config.gossip_address().to_string()],
            failure_detector_config: FailureDetectorConfig {
                initial_interval: interval,
                ..FailureDetectorConfig::default()
            },
            marked_for_deletion_grace_period: Duration::from_secs(60),
            catchup_callback: None,
            extra_liveness_predicate: None,
            protocol_version: ProtocolVersion::V0,
        },
        vec![
            ("role".to_string(), "primary".to_string()),
            ("grpc_addr".to_string(), "127.0.0.1:50051".to_string()),
            ("ready".to_string(), "true".to_string()),
        ],
        &UdpTransport,
    )
    .await
    .expect("start the rogue peer");

    wait_until("a counts the rogue as invalid", CONVERGE, || {
        a.invalid_members() == 1
    })
    .await;
    assert_eq!(node_ids(&a), ["a"]);
    rogue.shutdown().await.expect("stop the rogue peer");
}

fn state_with(key_values: &[(&str, &str)]) -> NodeState {
    let mut state = NodeState::for_test();
    for (key, value) in key_values {
        state.set(*key, *value);
    }
    state
}

#[test]
fn parser_reads_back_what_a_member_gossips() {
    let state = state_with(&[
        ("role", "gateway"),
        ("grpc_addr", "10.0.0.7:50051"),
        ("ready", "true"),
        ("some_future_key", "x"),
    ]);
    let member = Member::from_node_state(&state).expect("parse");
    assert_eq!(member.role, Role::Gateway);
    assert_eq!(member.grpc_address, "10.0.0.7:50051".parse().unwrap());
    assert!(member.ready);
    assert_eq!(member.chitchat_id(), *state.chitchat_id());

    let mut own = state_with(&[]);
    for (key, value) in member.key_values() {
        own.set(key, value);
    }
    assert_eq!(Member::from_node_state(&own).expect("parse"), member);
}

#[test]
fn parser_names_the_bad_key() {
    let good = [
        ("role", "node"),
        ("grpc_addr", "10.0.0.7:50051"),
        ("ready", "false"),
    ];
    let cases: [(&str, Option<&str>, &str); 7] = [
        ("role", Some("primary"), "\"primary\" is not a role"),
        ("role", None, "missing"),
        ("grpc_addr", Some("localhost:50051"), "not an ip:port"),
        ("grpc_addr", Some("0.0.0.0:50051"), "wildcard"),
        ("grpc_addr", Some("10.0.0.7:0"), "port 0"),
        ("ready", Some("yes"), "\"yes\" is not \"true\" or \"false\""),
        ("ready", None, "missing"),
    ];
    for (bad_key, bad_value, reason) in cases {
        let key_values: Vec<(&str, &str)> = good
            .iter()
            .filter(|(key, _)| *key != bad_key)
            .copied()
            .chain(bad_value.map(|value| (bad_key, value)))
            .collect();
        let error = Member::from_node_state(&state_with(&key_values)).expect_err("rejected");
        assert!(
            matches!(&error, ClusterError::BadMemberState { key, .. } if *key == bad_key),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&format!("`{bad_key}`")) && message.contains(reason),
            "{message}"
        );
        assert!(message.contains("test-node"), "names the member: {message}");
    }
}

#[test]
fn config_errors_name_the_field() {
    let valid = ClusterConfig::new("n1", Role::Node, local(7946), local(50051));
    valid.validate().expect("valid");
    let wildcard = SocketAddr::from(([0, 0, 0, 0], 7946));

    type Edit = fn(&mut ClusterConfig);
    let cases: [(&str, Edit); 10] = [
        ("node_id", |c| c.node_id = String::new()),
        ("node_id", |c| c.node_id = "two words".to_string()),
        ("cluster_id", |c| c.cluster_id = " ".to_string()),
        ("listen_gossip", |c| c.listen_gossip = local(0)),
        ("advertise_gossip", |c| {
            c.listen_gossip = SocketAddr::from(([0, 0, 0, 0], 7946))
        }),
        ("grpc_address", |c| {
            c.grpc_address = SocketAddr::from(([0, 0, 0, 0], 50051))
        }),
        ("seeds", |c| c.seeds = vec!["aiex-gossip".to_string()]),
        ("seeds", |c| c.seeds = vec!["aiex gossip:7946".to_string()]),
        ("gossip_interval", |c| c.gossip_interval = Duration::ZERO),
        ("phi_threshold", |c| c.phi_threshold = f64::NAN),
    ];
    for (field, edit) in cases {
        let mut config = valid.clone();
        edit(&mut config);
        let error = config.validate().expect_err(field);
        assert!(
            matches!(&error, ClusterError::Config { field: f, .. } if *f == field),
            "{field}: {error:?}"
        );
        assert!(error.to_string().contains(&format!("`{field}`")), "{error}");
    }

    let mut advertised = valid.clone();
    advertised.listen_gossip = wildcard;
    advertised.advertise_gossip = Some("10.1.2.3:7946".parse().unwrap());
    advertised.seeds = vec![
        "10.1.2.4:7946".to_string(),
        "[fd00::1]:7946".to_string(),
        "aiex-gossip.aiex.svc.cluster.local:7946".to_string(),
    ];
    advertised
        .validate()
        .expect("wildcard listen with an advertised address");
    assert_eq!(
        advertised.gossip_address(),
        "10.1.2.3:7946".parse().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_gossip_port_is_a_clear_error() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port();
    let config = ClusterConfig::new("a", Role::Node, local(port), local(free_port()));
    let error = Cluster::start(config)
        .await
        .err()
        .expect("the port is taken");
    assert!(matches!(error, ClusterError::Bind { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&local(port).to_string()),
        "{error}"
    );
}

/// Detection time of a hard kill with the default config, over five kills, seen by two
/// observers each. Prints the numbers; run with `--ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement (about a minute), not a check"]
async fn detection_time_over_five_kills() {
    let a_config = config("a", Role::Gateway, &[]);
    let a = start(&a_config).await;
    let seed = [a_config.gossip_address()];
    let c = start(&config("c", Role::Node, &seed)).await;
    let victim_config = config("victim", Role::Node, &seed);
    let mut times = Vec::new();
    for round in 1..=5 {
        let victim = start(&victim_config).await;
        let generation = victim.self_member().generation;
        for cluster in [&a, &c] {
            wait_until("the victim joins", CONVERGE, || {
                member(cluster, "victim").is_some_and(|m| m.generation == generation)
            })
            .await;
        }
        // Let the detectors learn the victim's heartbeat rate, as for a long-lived member.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let mut a_events = a.subscribe();
        let mut c_events = c.subscribe();
        let killed_at = Instant::now();
        drop(victim);
        next_event(
            &mut a_events,
            "a removes the victim",
            DETECT,
            is_removed("victim"),
        )
        .await;
        let by_a = killed_at.elapsed();
        next_event(
            &mut c_events,
            "c removes the victim",
            DETECT,
            is_removed("victim"),
        )
        .await;
        let by_c = killed_at.elapsed();
        println!("kill {round}: detected by a after {by_a:.2?}, by c after {by_c:.2?}");
        times.extend([by_a, by_c]);
    }
    times.sort();
    println!(
        "detection over {} observations: min {:.2?}, median {:.2?}, max {:.2?}",
        times.len(),
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
