//! Fan-out search over real node gRPC servers (`aiex.mesh.v1.Node` on loopback), each
//! holding the partitions the ring places on it: results are complete while a node is
//! down (its partitions are served by replicas), and partitions nobody can serve are
//! reported, never silently dropped.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aiex_gateway::fanout::{FanOut, LiveNode};
use aiex_node::bus::local::LocalBus;
use aiex_node::chunk::ChunkerConfig;
use aiex_node::indexer::Indexer;
use aiex_node::ingest::PartitionSet;
use aiex_node::ring::Placement;
use aiex_node::service::NodeService;
use aiex_proto::mesh::v1::node_server::NodeServer;
use aiex_proto::partition::partition_of;
use aiex_proto::v1 as pb;
use tokio::sync::oneshot;

const P: u32 = 16;

/// The sample project plus 48 generated modules, each with one unique function.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/inventory");
    let mut files: Vec<(String, Vec<u8>)> = ignore::WalkBuilder::new(&root)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect();
    for i in 0..48 {
        files.push((
            format!("lib/gen/mod_{i}.ex"),
            format!(
                "defmodule Gen.Mod{i} do\n  @doc \"Computes the quibble number {i}.\"\n  def quibble_{i}(x), do: x + {i}\nend\n"
            )
            .into_bytes(),
        ));
    }
    files
}

fn index(set: &PartitionSet, files: &[(String, Vec<u8>)]) {
    for (path, bytes) in files {
        if set.partition_for("shop", path).is_ok() {
            set.apply_file("shop", path, bytes, &ChunkerConfig::default())
                .unwrap();
        }
    }
    set.commit_all().unwrap();
}

struct Node {
    id: String,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Node {
    async fn start(
        id: &str,
        dir: &Path,
        placement: &Placement,
        files: &[(String, Vec<u8>)],
    ) -> Node {
        let set = PartitionSet::open_with(&dir.join(id), P, placement.held_by(id)).unwrap();
        index(&set, files);
        // The service answers from the indexer's partitions; its (empty) in-process log
        // never changes what the test indexed straight into the set.
        let bus = Arc::new(LocalBus::open(&dir.join(format!("{id}.redb"))).unwrap());
        let indexer = Indexer::start(Arc::new(set), bus, ChunkerConfig::default(), 1).unwrap();
        let service = NodeService {
            node_id: id.to_string(),
            indexer,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(NodeServer::new(service))
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(listener),
                    async {
                        let _ = stopped.await;
                    },
                )
                .await
                .unwrap();
        });
        Node {
            id: id.to_string(),
            addr,
            stop: Some(stop),
            task,
        }
    }

    fn live(&self) -> LiveNode {
        LiveNode {
            node_id: self.id.clone(),
            grpc_address: self.addr,
        }
    }

    async fn kill(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        (&mut self.task).await.unwrap();
    }
}

fn query(q: &str) -> pb::SearchRequest {
    pb::SearchRequest {
        query: q.into(),
        filters: None,
        limit: 5,
    }
}

async fn top_symbol(
    fan: &FanOut,
    pl: &Placement,
    live: &[LiveNode],
    q: &str,
) -> (String, Vec<u32>) {
    let r = fan
        .search(pl, live, query(q), Duration::from_secs(30))
        .await;
    (
        r.hits.first().map(|h| h.symbol.clone()).unwrap_or_default(),
        r.missing_partitions,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_is_complete_while_a_node_is_down_and_reports_what_nobody_serves() {
    let dir = tempfile::tempdir().unwrap();
    let files = corpus();
    let ids = ["a", "b", "c"];
    let placement = Placement::compute(&ids, P, 2, 128);
    let mut nodes = Vec::new();
    for id in ids {
        nodes.push(Node::start(id, dir.path(), &placement, &files).await);
    }
    let fan = FanOut::default();
    let live: Vec<LiveNode> = nodes.iter().map(Node::live).collect();

    // Every unique function is found, with nothing missing.
    let check_all = |live: Vec<LiveNode>| {
        let fan = &fan;
        let placement = &placement;
        async move {
            for i in 0..48 {
                let (symbol, missing) =
                    top_symbol(fan, placement, &live, &format!("quibble_{i}")).await;
                assert!(missing.is_empty(), "partitions {missing:?} missing");
                assert_eq!(symbol, format!("Gen.Mod{i}.quibble_{i}/1"));
            }
        }
    };
    check_all(live.clone()).await;
    let (symbol, _) = top_symbol(&fan, &placement, &live, "Inventory.Stock.release").await;
    assert_eq!(symbol, "Inventory.Stock.release/2");

    // A search that finds nothing under a path counts what is under it, each partition
    // once, as one node holding everything would (0: nothing is indexed there).
    let whole = PartitionSet::open(&dir.path().join("whole"), P).unwrap();
    index(&whole, &files);
    for (path, q) in [("lib/inventory", "zorblax"), ("lib/nowhere", "zorblax")] {
        let mut request = query(q);
        request.filters = Some(pb::SearchFilters {
            path_prefix: path.into(),
            ..Default::default()
        });
        let local = aiex_node::service::request_from_pb(request.clone()).unwrap();
        let expected = whole.count_under_path(&local.filters).unwrap();
        let r = fan
            .search(&placement, &live, request, Duration::from_secs(30))
            .await;
        assert!(
            r.hits.is_empty() && r.missing_partitions.is_empty(),
            "{r:?}"
        );
        assert_eq!(r.under_path, expected, "{path}");
        assert_eq!(expected.is_some_and(|n| n > 0), path == "lib/inventory");
    }
    let mut found = query("quibble_3");
    found.filters = Some(pb::SearchFilters {
        path_prefix: "lib/gen/".into(),
        ..Default::default()
    });
    let r = fan
        .search(&placement, &live, found, Duration::from_secs(30))
        .await;
    assert_eq!((r.hits.is_empty(), r.under_path), (false, None), "{r:?}");

    // Node a dies; gossip has not noticed yet (still listed live): its partitions are
    // retried on their replicas.
    nodes[0].kill().await;
    check_all(live.clone()).await;
    // Gossip noticed: a is no longer listed.
    check_all(live[1..].to_vec()).await;

    // b dies too: partitions held only by a and b have no live holder and are reported.
    nodes[1].kill().await;
    let expected: Vec<u32> = (0..P)
        .filter(|p| !placement.holders(*p).iter().any(|n| n == "c"))
        .collect();
    assert!(
        !expected.is_empty(),
        "with R=2 some partitions are held only by a and b"
    );
    let r = fan
        .search(&placement, &live, query("quibble"), Duration::from_secs(30))
        .await;
    assert_eq!(r.missing_partitions, expected);
    // Nothing found under a path while partitions are missing: no count, which could only
    // be partial.
    let mut under = query("zorblax");
    under.filters = Some(pb::SearchFilters {
        path_prefix: "lib/nowhere".into(),
        ..Default::default()
    });
    let partial = fan
        .search(&placement, &live, under, Duration::from_secs(30))
        .await;
    assert!(partial.hits.is_empty() && !partial.missing_partitions.is_empty());
    assert_eq!(partial.under_path, None, "{partial:?}");
    // What c holds is still answered.
    let held_by_c: BTreeSet<u32> = placement.held_by("c").into_iter().collect();
    for h in &r.hits {
        assert!(
            held_by_c.contains(&partition_of(&h.repository, &h.path, P)),
            "{h:?}"
        );
    }
    assert!(!r.hits.is_empty());
    nodes[2].kill().await;
}
