//! The cluster mode end to end, with real processes: a real `nats-server` with
//! JetStream, `aiex node` processes gossiping over real UDP on loopback, an `aiex gateway`,
//! and the client commands talking to the gateway. Nodes are killed with SIGKILL, paused
//! with SIGSTOP (a node cut off from the mesh), joined late; the NATS server is stopped and
//! started again during ingest. After each, the indexes are compared partition by
//! partition with the embedded mode's, over the Elixir 1.14 standard library.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aiex_node::ingest::PartitionSet;
use aiex_node::ring::Placement;
use aiex_proto::mesh::v1 as mesh;
use common::nats::{NatsServer, free_udp_port};
use common::{Server, num, signal};
use serde_json::Value;

const PARTITIONS: u32 = 16;
const CONVERGE: Duration = Duration::from_secs(120);

/// Identifier and natural-language queries over the Elixir standard library.
const QUERIES: &[&str] = &[
    "GenServer.call",
    "handle_info/2",
    "String.split",
    "Enum.map",
    "Keyword.get",
    "parse command line switches",
    "start a supervisor with child specs",
    "read a file line by line",
    "format a date as ISO 8601",
    "Task.async_stream",
];

fn corpus() -> PathBuf {
    aiex_tests::elixir_corpus()
}

/// Polls `check` until it holds, failing with `what` (and `context()`) after `timeout`.
fn wait_until(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let deadline = Instant::now() + timeout;
    while !check() {
        if Instant::now() > deadline {
            panic!("{what}: not within {timeout:?}\n{}", context());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A NATS server, nodes and a gateway, each a real process.
struct Mesh {
    tmp: tempfile::TempDir,
    nats: NatsServer,
    seed: u16,
    nodes: BTreeMap<String, Server>,
    gateway: Server,
}

impl Mesh {
    fn start(nodes: usize) -> Mesh {
        let tmp = tempfile::tempdir().unwrap();
        let nats = NatsServer::start();
        let seed = free_udp_port();
        let gateway_args = Mesh::role_args(&nats, "gateway", "gw", free_udp_port(), seed);
        let gateway_args: Vec<&str> = gateway_args.iter().map(String::as_str).collect();
        let mut mesh = Mesh {
            gateway: Server::start_role(&tmp.path().join("gateway"), &gateway_args),
            tmp,
            nats,
            seed,
            nodes: BTreeMap::new(),
        };
        for i in 1..=nodes {
            let port = if i == 1 { seed } else { free_udp_port() };
            mesh.add_node(&format!("n{i}"), port);
        }
        mesh.wait_converged();
        mesh
    }

    fn role_args(nats: &NatsServer, role: &str, id: &str, gossip: u16, seed: u16) -> Vec<String> {
        let mut args: Vec<String> = [
            "--partitions",
            &PARTITIONS.to_string(),
            role,
            "--nats",
            &nats.url(),
            "--node-id",
            id,
            "--listen",
            "127.0.0.1:0",
            "--gossip-listen",
            &format!("127.0.0.1:{gossip}"),
            "--seeds",
            &format!("127.0.0.1:{seed}"),
            "--replicas",
            "2",
            "--gossip-interval-ms",
            "200",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if role == "node" {
            args.extend(["--index-threads", "1", "--drop-grace-secs", "5"].map(String::from));
        }
        args
    }

    fn add_node(&mut self, id: &str, gossip: u16) {
        let args = Mesh::role_args(&self.nats, "node", id, gossip, self.seed);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = Server::start_role(&self.tmp.path().join(id), &args);
        self.nodes.insert(id.to_string(), server);
    }

    /// Copies every process's log to a directory that outlives the test; returns where.
    fn keep_logs(&self) -> String {
        let dir = std::env::temp_dir().join(format!("aiex-cluster-logs-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("gateway.log"), self.gateway.log());
        for (id, n) in &self.nodes {
            let _ = std::fs::write(dir.join(format!("{id}.log")), n.log());
        }
        format!("logs kept in {}", dir.display())
    }

    fn logs(&self) -> String {
        let mut out = format!("gateway log:\n{}\n", self.gateway.log());
        for (id, n) in &self.nodes {
            out += &format!("{id} log:\n{}\n", n.log());
        }
        out
    }

    fn status(&self) -> Value {
        self.gateway.json(&["cluster", "status", "--json"])
    }

    /// The live node ids the gateway's placement is built from.
    fn placed_nodes(status: &Value) -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        for p in status["placement"].as_array().unwrap() {
            ids.insert(p["owner"].as_str().unwrap().to_string());
            for r in p["replicas"].as_array().unwrap() {
                ids.insert(r.as_str().unwrap().to_string());
            }
        }
        ids
    }

    /// Waits until the gateway places partitions on exactly the running nodes, all
    /// ready, and every node holds exactly what that placement gives it.
    fn wait_converged(&self) {
        let want: BTreeSet<String> = self.nodes.keys().cloned().collect();
        wait_until(
            "the mesh converges",
            CONVERGE,
            || {
                let status = self.status();
                let ready: BTreeSet<String> = status["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|m| m["role"] == "ROLE_NODE" && m["ready"] == true)
                    .map(|m| m["node_id"].as_str().unwrap().to_string())
                    .collect();
                if ready != want || Mesh::placed_nodes(&status) != want {
                    return false;
                }
                let expected = Placement::compute(
                    &want.iter().collect::<Vec<_>>(),
                    PARTITIONS,
                    2,
                    aiex_node::ring::DEFAULT_VIRTUAL_NODES,
                );
                self.holdings().iter().all(|(id, held)| {
                    held.keys().copied().collect::<Vec<_>>() == expected.held_by(id)
                })
            },
            || format!("status: {}\n{}", self.status(), self.logs()),
        );
    }

    /// Each live node's partitions and watermarks, asked of the node directly.
    fn holdings(&self) -> BTreeMap<String, BTreeMap<u32, u64>> {
        let status = self.status();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut out = BTreeMap::new();
        for m in status["members"].as_array().unwrap() {
            if m["role"] != "ROLE_NODE" {
                continue;
            }
            let id = m["node_id"].as_str().unwrap().to_string();
            let addr = format!("http://{}", m["grpc_address"].as_str().unwrap());
            let answer = rt.block_on(async {
                let mut client = mesh::node_client::NodeClient::connect(addr).await.ok()?;
                client
                    .partitions(mesh::PartitionsRequest {})
                    .await
                    .ok()
                    .map(|r| r.into_inner())
            });
            if let Some(r) = answer {
                out.insert(
                    id,
                    r.partitions
                        .into_iter()
                        .map(|p| (p.partition, p.watermark))
                        .collect(),
                );
            }
        }
        out
    }

    /// `(chunk id, content hash)` of every chunk in each partition, per node holding it.
    fn chunks_by_holder(&self) -> BTreeMap<(u32, String), Vec<ChunkKey>> {
        let status = self.status();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut out = BTreeMap::new();
        for m in status["members"].as_array().unwrap() {
            if m["role"] != "ROLE_NODE" {
                continue;
            }
            let id = m["node_id"].as_str().unwrap().to_string();
            let addr = format!("http://{}", m["grpc_address"].as_str().unwrap());
            rt.block_on(async {
                let mut client = mesh::node_client::NodeClient::connect(addr)
                    .await
                    .unwrap()
                    .max_decoding_message_size(256 << 20);
                let held = client
                    .partitions(mesh::PartitionsRequest {})
                    .await
                    .unwrap()
                    .into_inner();
                for p in held.partitions {
                    let facts = client
                        .graph_facts(mesh::PartitionsQuery {
                            partitions: vec![p.partition],
                        })
                        .await
                        .unwrap()
                        .into_inner();
                    assert!(facts.missing_partitions.is_empty());
                    out.insert((p.partition, id.clone()), chunk_keys(&facts.chunks_json));
                }
            });
        }
        out
    }
}

/// A chunk as the comparisons see it: path, id and content hash.
type ChunkKey = (String, String, String);

fn chunk_keys(json: &[u8]) -> Vec<ChunkKey> {
    let chunks: Vec<Value> = serde_json::from_slice(json).unwrap();
    let mut keys: Vec<ChunkKey> = chunks
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap().to_string(),
                c["id"].as_str().unwrap().to_string(),
                c["content_hash"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    keys.sort();
    keys
}

/// What the embedded mode produced for the corpus: search answers, the repository's
/// counts, and every partition's chunks.
struct Reference {
    answers: BTreeMap<String, Vec<(String, String)>>,
    files: u64,
    chunks: u64,
    partitions: BTreeMap<u32, Vec<ChunkKey>>,
}

fn embedded_reference(tmp: &Path) -> Reference {
    let data = tmp.join("embedded");
    let server = Server::start_role(
        &data,
        &[
            "--partitions",
            &PARTITIONS.to_string(),
            "up",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    let added = server.json(&[
        "repo",
        "add",
        corpus().to_str().unwrap(),
        "--name",
        "elixir",
        "--json",
    ]);
    assert_eq!(added["state"], "ready", "{added}");
    let answers = answers(&server);
    assert!(server.terminate().success());
    let set = PartitionSet::open(&data.join("server/index"), PARTITIONS).unwrap();
    let partitions = (0..PARTITIONS)
        .map(|p| {
            let (chunks, missing) = set.graph_chunks_of(&[p]).unwrap();
            assert!(missing.is_empty());
            let mut keys: Vec<ChunkKey> = chunks
                .into_iter()
                .map(|c| (c.path, c.id, c.content_hash))
                .collect();
            keys.sort();
            (p, keys)
        })
        .collect();
    Reference {
        answers,
        files: num(&added, "files_indexed"),
        chunks: num(&added, "chunks"),
        partitions,
    }
}

/// The `(path, symbol)` of each hit of a search answer, failing on partial results.
fn complete_top(answer: &Value, query: &str) -> Vec<(String, String)> {
    assert_eq!(
        answer["missing_partitions"].as_array().map_or(0, Vec::len),
        0,
        "partial results for {query:?}: {answer}"
    );
    answer["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["path"].as_str().unwrap().to_string(),
                h["symbol"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The highest watermark any node reported for each partition.
fn best_marks(holdings: &BTreeMap<String, BTreeMap<u32, u64>>) -> BTreeMap<u32, u64> {
    let mut best: BTreeMap<u32, u64> = BTreeMap::new();
    for (p, m) in holdings.values().flatten() {
        let e = best.entry(*p).or_default();
        *e = (*e).max(*m);
    }
    best
}

/// The top five `(path, symbol)` of each query, failing on partial results.
fn answers(server: &Server) -> BTreeMap<String, Vec<(String, String)>> {
    QUERIES
        .iter()
        .map(|q| {
            let answer = server.json(&["search", q, "--limit", "5", "--json"]);
            (q.to_string(), complete_top(&answer, q))
        })
        .collect()
}

/// Uploads the corpus as `elixir` through the gateway, every file sent; with `wait`, the
/// command returns once it is searchable.
fn add_corpus(mesh: &Mesh, wait: bool) -> Value {
    let corpus = corpus();
    let mut args = vec![
        "repo",
        "add",
        corpus.to_str().unwrap(),
        "--name",
        "elixir",
        "--json",
    ];
    if !wait {
        args.push("--no-wait");
    }
    let added = mesh.gateway.json(&args);
    assert_eq!(
        num(&added, "files_seen"),
        num(&added["client"], "files_sent"),
        "{added}"
    );
    if wait {
        assert_eq!(added["state"], "ready", "{added}");
    }
    added
}

fn repo_status(mesh: &Mesh) -> Value {
    mesh.gateway.json(&["repo", "status", "elixir", "--json"])
}

/// Every partition is held by its placement's holders, each with exactly the chunks
/// (ids and content hashes) the embedded mode has: nothing lost, nothing duplicated.
fn assert_same_as_reference(mesh: &Mesh, reference: &Reference) {
    // READY needs one caught-up copy of each partition; a holder that gained a partition
    // may still be replaying it. Wait until every copy has applied as far as the best.
    wait_until(
        "every replica catches up",
        Duration::from_secs(600),
        || {
            let holdings = mesh.holdings();
            let best = best_marks(&holdings);
            holdings
                .values()
                .all(|held| held.iter().all(|(p, m)| *m == best[p]))
        },
        || mesh.logs(),
    );
    let status = repo_status(mesh);
    assert_eq!(status["state"], "ready", "{status}");
    assert_eq!(num(&status, "files_indexed"), reference.files, "{status}");
    assert_eq!(num(&status, "chunks"), reference.chunks, "{status}");
    let held = mesh.chunks_by_holder();
    for p in 0..PARTITIONS {
        let holders: Vec<&String> = held
            .keys()
            .filter(|(q, _)| *q == p)
            .map(|(_, id)| id)
            .collect();
        assert_eq!(holders.len(), 2, "partition {p} has holders {holders:?}");
        for id in holders {
            let keys = &held[&(p, id.clone())];
            let unique: BTreeSet<_> = keys.iter().collect();
            assert_eq!(
                unique.len(),
                keys.len(),
                "partition {p} on {id} has duplicates"
            );
            let want = &reference.partitions[&p];
            if keys != want {
                let have: BTreeSet<&ChunkKey> = keys.iter().collect();
                let want: BTreeSet<&ChunkKey> = want.iter().collect();
                panic!(
                    "partition {p} on {id} differs from the embedded index: missing {:?}, extra {:?}\n{}",
                    want.difference(&have).take(10).collect::<Vec<_>>(),
                    have.difference(&want).take(10).collect::<Vec<_>>(),
                    mesh.keep_logs()
                );
            }
        }
    }
    assert_eq!(answers(&mesh.gateway), reference.answers);
}

#[test]
fn three_nodes_answer_like_embedded_and_lose_nothing_when_one_is_killed_mid_index() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = embedded_reference(tmp.path());
    let mut mesh = Mesh::start(3);
    let status = mesh.status();
    assert_eq!(status["partition_count"], PARTITIONS, "{status}");
    assert_eq!(Mesh::placed_nodes(&status).len(), 3, "{status}");

    add_corpus(&mesh, false);
    // Kill n2 once indexing is under way, before it has finished.
    wait_until(
        "indexing starts",
        CONVERGE,
        || num(&repo_status(&mesh), "files_indexed") > 0,
        || mesh.logs(),
    );
    let mut victim = mesh.nodes.remove("n2").unwrap();
    victim.kill_in_place();
    assert_ne!(
        repo_status(&mesh)["state"],
        "ready",
        "indexing finished before the node was killed; the test needs a larger corpus"
    );

    // While n2 is down (and before gossip notices), searches still answer completely.
    for q in QUERIES {
        complete_top(&mesh.gateway.json(&["search", q, "--json"]), q);
    }
    // Its partitions are placed on the survivors, which index them; then everything
    // is there exactly once per replica.
    mesh.wait_converged();
    wait_until(
        "the repository is ready",
        Duration::from_secs(600),
        || repo_status(&mesh)["state"] == "ready",
        || mesh.logs(),
    );
    assert_same_as_reference(&mesh, &reference);
    drop(victim);
}

#[test]
fn a_joining_node_takes_its_share_while_results_stay_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = embedded_reference(tmp.path());
    let mut mesh = Mesh::start(3);
    add_corpus(&mesh, true);
    assert_eq!(answers(&mesh.gateway), reference.answers);
    let before = Placement::compute(
        &["n1", "n2", "n3"],
        PARTITIONS,
        2,
        aiex_node::ring::DEFAULT_VIRTUAL_NODES,
    );

    // Search continuously while n4 joins and replays its partitions.
    let stop = Arc::new(AtomicBool::new(false));
    let addr = mesh.gateway.addr.clone();
    let expected = reference.answers.clone();
    let searcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut rounds = 0;
            while !stop.load(Ordering::Relaxed) || rounds == 0 {
                for q in ["GenServer.call", "String.split"] {
                    let out =
                        common::aiex(&["--addr", &addr, "search", q, "--limit", "5", "--json"]);
                    let answer = common::ok_json(&["search"], &out);
                    let top = complete_top(&answer, q);
                    assert_eq!(
                        top, expected[q],
                        "results changed during the join for {q:?}"
                    );
                }
                rounds += 1;
            }
            rounds
        })
    };
    mesh.add_node("n4", free_udp_port());
    mesh.wait_converged();
    wait_until(
        "n4 has caught up",
        Duration::from_secs(600),
        || {
            let holdings = mesh.holdings();
            let best = best_marks(&holdings);
            holdings
                .get("n4")
                .is_some_and(|held| held.iter().all(|(p, m)| *m == best[p]))
        },
        || mesh.logs(),
    );
    stop.store(true, Ordering::Relaxed);
    let rounds = searcher
        .join()
        .expect("searches stayed complete and unchanged");
    assert!(rounds > 0);

    // Only n4's share moved: every partition that changed holders gained n4.
    let after = Placement::compute(
        &["n1", "n2", "n3", "n4"],
        PARTITIONS,
        2,
        aiex_node::ring::DEFAULT_VIRTUAL_NODES,
    );
    for p in 0..PARTITIONS {
        let (b, a) = (before.holders(p), after.holders(p));
        if b != a {
            assert!(a.iter().any(|n| n == "n4"), "partition {p}: {b:?} -> {a:?}");
        }
    }
    assert_same_as_reference(&mesh, &reference);
}

#[test]
fn ingest_resumes_after_nats_restarts_and_a_cut_off_node_rejoins_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = embedded_reference(tmp.path());
    let mut mesh = Mesh::start(3);
    add_corpus(&mesh, false);

    // NATS goes away while the nodes are indexing, and comes back on the same storage.
    mesh.nats.stop();
    std::thread::sleep(Duration::from_secs(2));
    mesh.nats.spawn();
    wait_until(
        "the repository is ready after the NATS restart",
        Duration::from_secs(600),
        || repo_status(&mesh)["state"] == "ready",
        || format!("{}\nnats log:\n{}", mesh.logs(), mesh.nats.log()),
    );
    assert_same_as_reference(&mesh, &reference);

    // n3 stops answering anything, gossip included (SIGSTOP): the others declare it
    // dead and take over its partitions; results stay complete.
    let pid = mesh.nodes["n3"].pid();
    signal(pid, "STOP");
    wait_until(
        "n3 is declared dead",
        CONVERGE,
        || !Mesh::placed_nodes(&mesh.status()).contains("n3"),
        || mesh.logs(),
    );
    assert_eq!(answers(&mesh.gateway), reference.answers);
    // It comes back: the mesh converges on three nodes again, with no partition served
    // twice in a result and nothing missing.
    signal(pid, "CONT");
    mesh.wait_converged();
    wait_until(
        "the repository is ready after n3 rejoined",
        Duration::from_secs(600),
        || repo_status(&mesh)["state"] == "ready",
        || mesh.logs(),
    );
    let wide = mesh
        .gateway
        .json(&["search", "GenServer", "--limit", "200", "--json"]);
    let ids: Vec<&str> = wide["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["chunk_id"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "duplicate hits after the heal: {wide}"
    );
    assert_same_as_reference(&mesh, &reference);
}
