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
use common::fake_llm::{Fake, openai};
use common::llm_server::Reply;
use common::nats::{NatsServer, free_udp_port, member_args};
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

/// Extra arguments and environment of one member, by member id (`gw` is the gateway).
type Setup = Box<dyn Fn(&str) -> (Vec<String>, Vec<(String, String)>)>;

/// A NATS server, nodes and a gateway, each a real process.
struct Mesh {
    tmp: tempfile::TempDir,
    nats: NatsServer,
    seed: u16,
    nodes: BTreeMap<String, Server>,
    gateway: Server,
    setup: Setup,
}

impl Mesh {
    fn start(nodes: usize) -> Mesh {
        Mesh::start_with(nodes, Box::new(|_| (Vec::new(), Vec::new())))
    }

    fn start_with(nodes: usize, setup: Setup) -> Mesh {
        let tmp = tempfile::tempdir().unwrap();
        let nats = NatsServer::start();
        let seed = free_udp_port();
        let mut mesh = Mesh {
            gateway: Mesh::start_member(
                &tmp.path().join("gateway"),
                Mesh::role_args(&nats, "gateway", "gw", free_udp_port(), seed),
                &setup("gw"),
            ),
            tmp,
            nats,
            seed,
            nodes: BTreeMap::new(),
            setup,
        };
        for i in 1..=nodes {
            let port = if i == 1 { seed } else { free_udp_port() };
            mesh.add_node(&format!("n{i}"), port);
        }
        mesh.wait_converged();
        mesh
    }

    fn role_args(nats: &NatsServer, role: &str, id: &str, gossip: u16, seed: u16) -> Vec<String> {
        let mut args = member_args(nats, PARTITIONS, role, id, gossip, seed);
        args.extend(["--replicas", "2"].map(String::from));
        if role == "node" {
            args.extend(["--index-threads", "1", "--drop-grace-secs", "5"].map(String::from));
        }
        args
    }

    fn start_member(
        data: &Path,
        mut args: Vec<String>,
        (extra, env): &(Vec<String>, Vec<(String, String)>),
    ) -> Server {
        args.extend(extra.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Server::start_role_env(data, &args, &env)
    }

    fn add_node(&mut self, id: &str, gossip: u16) {
        let args = Mesh::role_args(&self.nats, "node", id, gossip, self.seed);
        let server = Mesh::start_member(&self.tmp.path().join(id), args, &(self.setup)(id));
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
                            ..Default::default()
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

/// Which node's provider got how many requests.
fn provider_calls(fakes: &BTreeMap<String, Fake>) -> BTreeMap<String, usize> {
    fakes
        .iter()
        .map(|(id, f)| (id.clone(), f.server.count()))
        .collect()
}

/// The node whose provider got one more request than in `before` (exactly one did).
fn node_that_answered(fakes: &BTreeMap<String, Fake>, before: &BTreeMap<String, usize>) -> String {
    let after = provider_calls(fakes);
    let grown: Vec<&String> = after
        .iter()
        .filter(|(id, n)| **n > before[*id])
        .map(|(id, _)| id)
        .collect();
    assert_eq!(grown.len(), 1, "one node answers: {before:?} -> {after:?}");
    assert_eq!(
        after[grown[0]],
        before[grown[0]] + 1,
        "{before:?} -> {after:?}"
    );
    grown[0].clone()
}

/// The last prompt `node`'s provider received, every message's text joined.
fn last_prompt(fakes: &BTreeMap<String, Fake>, node: &str) -> String {
    let fake = &fakes[node];
    fake.prompt(fake.server.count() - 1)
}

/// Every assist task through a cluster gateway that takes no assist jobs itself: the
/// nodes' workers answer, with context from the whole cluster. Then the node running a
/// chat turn is killed mid-answer: the client gets an error (never a hang), the session
/// keeps every completed turn and nothing of the cut one, and the job, given again to
/// another node, is dropped because nobody waits for it any more.
#[test]
fn assist_runs_on_nodes_and_a_node_killed_mid_chat_turn_loses_no_turn() {
    let hold = Arc::new(AtomicBool::new(false));
    let release = Arc::new(tokio::sync::Notify::new());
    let fakes: BTreeMap<String, Fake> = (1..=3)
        .map(|i| {
            let who = format!("n{i}");
            let (hold, release, name) = (hold.clone(), release.clone(), who.clone());
            let fake = Fake::start(move |_, _| {
                if hold.load(Ordering::SeqCst) {
                    // One token, then the provider goes quiet until released.
                    let Reply::Stream { pieces, .. } =
                        openai(&[&format!("partial from {name} "), "never sent"])
                    else {
                        unreachable!()
                    };
                    Reply::Stream {
                        content_type: "text/event-stream",
                        pieces,
                        delay: Duration::from_millis(1),
                        cut_after: None,
                        gate: Some((2, release.clone())),
                        hold_open: None,
                    }
                } else {
                    openai(&[
                        &format!("answer from {name}\n"),
                        "```elixir\ndefmodule Demo do\n  def hi, do: :ok\nend\n```\n",
                    ])
                }
            });
            (who, fake)
        })
        .collect();
    let gateway_fake = Fake::start(|_, _| openai(&["the gateway takes no jobs"]));
    let urls: BTreeMap<String, String> = fakes
        .iter()
        .map(|(id, f)| (id.clone(), f.server.url.clone()))
        .collect();
    let gateway_url = gateway_fake.server.url.clone();
    let mut mesh = Mesh::start_with(
        3,
        Box::new(move |id| {
            let url = urls.get(id).unwrap_or(&gateway_url).clone();
            let env = vec![
                ("OPENAI_BASE_URL".to_string(), url),
                ("OPENAI_MODEL".to_string(), "gpt-test".to_string()),
            ];
            let args = if id == "gw" {
                vec!["--assist-jobs".to_string(), "0".to_string()]
            } else {
                Vec::new()
            };
            (args, env)
        }),
    );
    let sample = common::sample();
    let added = mesh
        .gateway
        .json(&["repo", "add", sample.to_str().unwrap(), "--json"]);
    assert_eq!(added["state"], "ready", "{added}");
    // A file the nodes skip (a credential), uploaded again unchanged, is counted skipped
    // once and not unchanged: the gateway asks the nodes which files they skipped.
    let vault = mesh.tmp.path().join("vault");
    std::fs::create_dir_all(&vault).unwrap();
    std::fs::write(
        vault.join("a.ex"),
        "defmodule Vault do\n  def a, do: 1\nend\n",
    )
    .unwrap();
    std::fs::write(
        vault.join("server.pem"),
        "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let vault = vault.to_str().unwrap();
    let first = mesh.gateway.json(&["repo", "add", vault, "--json"]);
    let counts = |v: &Value| {
        [
            "files_seen",
            "files_unchanged",
            "files_skipped",
            "files_indexed",
        ]
        .map(|k| num(v, k))
    };
    assert_eq!(counts(&first), [2, 0, 1, 1], "{first}");
    let again = mesh.gateway.json(&["repo", "add", vault, "--json"]);
    assert_eq!(counts(&again), [2, 1, 1, 1], "{again}");

    // Each task, answered by one node, with context from the cluster's index.
    let local = mesh.tmp.path().join("greeter.ex");
    std::fs::write(
        &local,
        "defmodule Greeter do\n  def hello(name), do: \"Hello \" <> name\n\n  def inc(x) do\n  end\nend\n",
    )
    .unwrap();
    let local = local.to_str().unwrap().to_string();
    let at_line = format!("{local}:4");
    let tasks: [(&[&str], &str); 4] = [
        (&["explain", "Inventory.Stock"], "lib/inventory/stock.ex"),
        (&["complete", &at_line], "<CURSOR>"),
        (
            &["gen", "module", "Inventory.Audit", "audits stock moves"],
            "Inventory.Audit",
        ),
        (&["gen", "tests", &local], "def hello(name)"),
    ];
    for (args, in_prompt) in tasks {
        let before = provider_calls(&fakes);
        let out = mesh.gateway.run(args);
        assert!(
            out.status.success(),
            "aiex {args:?}: {}\n{}",
            common::stderr(&out),
            mesh.logs()
        );
        let node = node_that_answered(&fakes, &before);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("answer from {node}")), "{text}");
        let prompt = last_prompt(&fakes, &node);
        assert!(prompt.contains(in_prompt), "{args:?}: {prompt}");
    }
    let explained = fakes
        .values()
        .flat_map(|f| (0..f.server.count()).map(|i| f.prompt(i)))
        .find(|p| p.contains("Explain `Inventory.Stock`"))
        .unwrap();
    assert!(
        explained.contains("def reserve"),
        "the definition, fetched from the node holding it, is in the prompt: {explained}"
    );

    // A first chat turn completes.
    let before = provider_calls(&fakes);
    let out = common::wait_output(
        mesh.gateway
            .spawn_chat(None, "what does Inventory.Stock do?\n"),
        &["chat"],
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let first = node_that_answered(&fakes, &before);
    let session = common::session_id(&common::stderr(&out));

    // The second turn's node dies after its first token.
    hold.store(true, Ordering::SeqCst);
    let before = provider_calls(&fakes);
    let client = mesh
        .gateway
        .spawn_chat(Some(&session), "and how do I reserve stock?\n");
    wait_until(
        "a node calls its provider for the second turn",
        Duration::from_secs(60),
        || provider_calls(&fakes) != before,
        || mesh.logs(),
    );
    let victim = node_that_answered(&fakes, &before);
    // The held answer's first token is on its way to the client; then the node dies.
    std::thread::sleep(Duration::from_millis(500));
    mesh.nodes.get_mut(&victim).unwrap().kill_in_place();
    let cut = common::wait_output(client, &["chat", "--session"]);
    release.notify_waiters();
    let (out, err) = (String::from_utf8_lossy(&cut.stdout), common::stderr(&cut));
    assert!(
        !cut.status.success() && err.contains(&format!("({victim}) left the cluster")),
        "the client is told the node died: {out}\n{err}"
    );
    assert!(out.contains(&format!("partial from {victim}")), "{out}");

    // The session has the first turn, complete, and nothing of the second.
    hold.store(false, Ordering::SeqCst);
    let before = provider_calls(&fakes);
    let out = common::wait_output(
        mesh.gateway.spawn_chat(Some(&session), "and a Registry?\n"),
        &["chat", "--session"],
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let third = node_that_answered(&fakes, &before);
    assert_ne!(third, victim);
    let fake = &fakes[&third];
    let request = fake.server.requests()[fake.server.count() - 1].json();
    let messages: Vec<String> = request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        messages.len(),
        4,
        "system, the first turn, the new question: {messages:?}"
    );
    assert_eq!(messages[1], "what does Inventory.Stock do?");
    assert!(
        messages[2].contains(&format!("answer from {first}")),
        "{messages:?}"
    );
    assert!(messages[3].ends_with("and a Registry?"), "{messages:?}");
    assert!(!messages.iter().any(|m| m.contains("partial from")));

    // The cut turn's job comes back after its ack wait, to a live node, which drops it:
    // nobody waits for it, so no provider is called for it again.
    wait_until(
        "a node drops the cut turn's job given again",
        Duration::from_secs(120),
        || {
            mesh.nodes
                .values()
                .any(|n| n.log().contains("nobody waits for it any more"))
        },
        || mesh.logs(),
    );
    let asked_again = fakes
        .iter()
        .filter(|(id, _)| **id != victim)
        .flat_map(|(_, f)| (0..f.server.count()).map(|i| f.prompt(i)))
        .filter(|p| p.ends_with("and how do I reserve stock?"))
        .count();
    assert_eq!(asked_again, 0, "the cut turn ran again");
    assert_eq!(gateway_fake.server.count(), 0, "the gateway takes no jobs");
}
