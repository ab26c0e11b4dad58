//! The observability endpoint of real server processes started with `--metrics-listen`:
//! `aiex up`, and a cluster's `aiex gateway` and `aiex node` on a real `nats-server`.
//! Health answers, every series the Grafana dashboard queries is exported from process
//! start, the main series count what the processes did (an upload, indexing, a search,
//! an assist job), and the queue depth shows the file log's backlog while no node
//! follows it, then drains once a node has indexed it.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::fake_llm::{Fake, openai};
use common::nats::{NatsServer, free_udp_port, member_args};
use common::{SERVER_TIMEOUT, Server, http_get};

/// Partitions of the test cluster.
const PARTITIONS: u32 = 4;
/// How long a cluster may take to index the sample, or a sampled gauge to follow (queue
/// depths are sampled every 5 s): far above what it needs.
const CONVERGE: Duration = Duration::from_secs(120);

fn start(data: &Path) -> Server {
    Server::start_role(
        data,
        &[
            "up",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    )
}

/// Waits until `/health/readyz` answers 200 (readiness is set once serving, just after
/// the address file is written).
fn wait_ready(server: &Server, metrics: &str) {
    let deadline = Instant::now() + SERVER_TIMEOUT;
    loop {
        let (status, _) = http_get(metrics, "/health/readyz");
        if status == 200 {
            return;
        }
        assert_eq!(status, 503, "readyz answers 200 or 503");
        assert!(
            Instant::now() < deadline,
            "never ready within {SERVER_TIMEOUT:?}:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn scrape(metrics: &str) -> String {
    let (status, body) = http_get(metrics, "/metrics");
    assert_eq!(status, 200, "/metrics: {body}");
    body
}

/// The sum of the samples of `name` whose labels include every one of `labels`
/// (`key="value"`); None when there is no such sample.
fn value(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, sample)) = line.rsplit_once(' ') else {
            continue;
        };
        let (series_name, series_labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        if series_name != name || !labels.iter().all(|l| series_labels.contains(l)) {
            continue;
        }
        let v: f64 = sample
            .parse()
            .unwrap_or_else(|_| panic!("bad sample: {line}"));
        *found.get_or_insert(0.0) += v;
    }
    found
}

fn positive(text: &str, name: &str, labels: &[&str]) -> f64 {
    let v = value(text, name, labels)
        .unwrap_or_else(|| panic!("no {name}{labels:?} in /metrics:\n{text}"));
    assert!(v > 0.0, "{name}{labels:?} is {v}, expected > 0:\n{text}");
    v
}

/// Every `aiex_*` metric name in the dashboard's panel expressions and in the list the
/// chart keeps next to it.
fn dashboard_names() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../helm/aiex/dashboards");
    let json = std::fs::read_to_string(dir.join("aiex.json")).expect("read aiex.json");
    let dashboard: serde_json::Value = serde_json::from_str(&json).expect("aiex.json is JSON");
    let mut exprs = Vec::new();
    collect_exprs(&dashboard, &mut exprs);
    assert!(!exprs.is_empty(), "the dashboard has no panel expressions");
    let mut names: BTreeSet<String> = exprs.iter().flat_map(|e| metric_names(e)).collect();
    let listed = std::fs::read_to_string(dir.join("metrics.txt")).expect("read metrics.txt");
    names.extend(listed.split_whitespace().flat_map(metric_names));
    names
}

fn collect_exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::String(s) if k == "expr" => out.push(s.clone()),
                    _ => collect_exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

/// The `aiex_[a-z_]+` words of a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let bytes = expr.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    while let Some(at) = expr[i..].find("aiex_") {
        let start = i + at;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let mut end = start + "aiex_".len();
        while end < bytes.len() && (bytes[end].is_ascii_lowercase() || bytes[end] == b'_') {
            end += 1;
        }
        if boundary && end > start + "aiex_".len() {
            names.push(expr[start..end].to_string());
        }
        i = end;
    }
    names
}

/// Whether `name` is exported: a `# TYPE` line or a sample; a histogram's `_bucket`,
/// `_sum` and `_count` must be real histogram series (not a summary's).
fn exported(text: &str, name: &str) -> bool {
    let typed = |n: &str, kind: Option<&str>| {
        text.lines().any(|l| {
            l.strip_prefix("# TYPE ")
                .and_then(|rest| rest.strip_prefix(n))
                .and_then(|rest| rest.strip_prefix(' '))
                .is_some_and(|k| kind.is_none_or(|kind| k == kind))
        })
    };
    let sampled = |n: &str| {
        text.lines().any(|l| {
            l.strip_prefix(n)
                .is_some_and(|rest| rest.starts_with(['{', ' ']))
        })
    };
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && typed(base, Some("histogram"))
        {
            return sampled(name) || suffix != "_bucket";
        }
    }
    typed(name, None) || sampled(name)
}

#[test]
fn the_dashboard_metrics_are_exported_from_process_start() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp.path().join("data"));
    let metrics = server.metrics_addr();
    let text = scrape(&metrics);
    let names = dashboard_names();
    assert!(names.len() >= 19, "too few dashboard metrics: {names:?}");
    let missing: Vec<&String> = names.iter().filter(|n| !exported(&text, n)).collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries {missing:?}, not in /metrics:\n{text}"
    );
    // Histograms are histograms, with buckets, not summaries.
    assert!(
        text.contains("# TYPE aiex_search_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("aiex_search_duration_seconds_bucket{le=\"0.001\"}"),
        "{text}"
    );
    server.terminate();
}

#[test]
fn metrics_and_health_follow_what_the_server_does() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&tmp.path().join("data"));
    let metrics = server.metrics_addr();
    assert_eq!(http_get(&metrics, "/health/livez").0, 200);
    wait_ready(&server, &metrics);
    assert_eq!(http_get(&metrics, "/nowhere").0, 404);

    let sample = common::sample();
    let added = server.json(&["repo", "add", sample.to_str().unwrap(), "--json"]);
    assert_eq!(added["repository"], "inventory", "{added}");
    let seen = common::num(&added, "files_seen") as f64;
    let skipped = common::num(&added, "files_skipped") as f64;
    let answer = server.json(&["search", "reserve stock", "--json"]);
    assert!(!common::hits(&answer).is_empty(), "{answer}");

    let text = scrape(&metrics);
    positive(
        &text,
        "aiex_gateway_requests_total",
        &["method=\"aiex.v1.Search/Search\"", "code=\"OK\""],
    );
    positive(
        &text,
        "aiex_gateway_request_duration_seconds_count",
        &["method=\"aiex.v1.Search/Search\""],
    );
    let uploads = positive(
        &text,
        "aiex_gateway_requests_total",
        &["method=\"aiex.v1.Repositories/Upload\""],
    );
    assert!(uploads >= 1.0);
    let files = positive(&text, "aiex_ingest_files_total", &[]);
    assert_eq!(files, seen, "every uploaded file is counted once");
    let bytes = positive(&text, "aiex_ingest_bytes_total", &[]);
    assert_eq!(bytes, common::num(&added, "bytes") as f64);
    let chunks = positive(&text, "aiex_chunk_chunks_total", &[]);
    positive(&text, "aiex_chunk_seconds_count", &[]);
    positive(&text, "aiex_search_duration_seconds_count", &[]);
    let documents = positive(&text, "aiex_index_documents", &[]);
    assert!(
        documents <= chunks,
        "{documents} documents from {chunks} chunks"
    );
    positive(&text, "aiex_index_size_bytes", &[]);
    positive(&text, "aiex_index_commit_seconds_count", &[]);
    positive(&text, "aiex_bus_published_total", &[]);
    positive(&text, "aiex_bus_consumed_total", &[]);
    assert_eq!(value(&text, "aiex_search_partial_total", &[]), Some(0.0));
    assert_eq!(
        value(&text, "aiex_gateway_requests_in_flight", &[]),
        Some(0.0)
    );

    // Uploading the same files again publishes nothing: each is skipped as unchanged.
    server.json(&["repo", "add", sample.to_str().unwrap(), "--json"]);
    let text = scrape(&metrics);
    assert_eq!(
        value(
            &text,
            "aiex_ingest_skipped_total",
            &["reason=\"unchanged\""]
        ),
        Some(seen - skipped),
        "{text}"
    );

    // The queue depths are sampled here too: the indexed file log has no backlog.
    scrape_until(
        &metrics,
        "the file log's backlog and the assist queue's depth are sampled, both 0",
        |text| {
            files_backlog(text) == Some(0.0)
                && value(text, "aiex_bus_queue_depth", &["queue=\"assist\""]) == Some(0.0)
        },
        || server.log(),
    );
    server.terminate();
}

/// `aiex ROLE` (`gateway` or `node`) of a cluster on `nats`, gossiping on `gossip` with
/// the node `n1` on `seed` as its seed, with metrics on a free port and the fake LLM
/// provider `llm` (for whichever role runs assist workers).
fn cluster_member(
    data: &Path,
    nats: &NatsServer,
    role: &str,
    id: &str,
    gossip: u16,
    seed: u16,
    llm: &Fake,
) -> Server {
    let mut args = member_args(nats, PARTITIONS, role, id, gossip, seed);
    args.extend(["--metrics-listen", "127.0.0.1:0"].map(String::from));
    if role == "node" {
        args.extend(["--index-threads", "1"].map(String::from));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [
        ("OPENAI_BASE_URL", llm.server.url.as_str()),
        ("OPENAI_MODEL", "gpt-test"),
    ];
    Server::start_role_env(data, &args, &env)
}

/// Scrapes `metrics` until `check` holds for the text, failing with `what` and the last
/// text after [`CONVERGE`].
fn scrape_until(
    metrics: &str,
    what: &str,
    check: impl Fn(&str) -> bool,
    logs: impl Fn() -> String,
) -> String {
    let deadline = Instant::now() + CONVERGE;
    loop {
        let text = scrape(metrics);
        if check(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {CONVERGE:?}; last scrape:\n{text}\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The file log's backlog the gateway reports, summed over partitions (None before the
/// first sample).
fn files_backlog(text: &str) -> Option<f64> {
    value(text, "aiex_bus_queue_depth", &["queue=\"files\""])
}

#[test]
fn a_cluster_gateway_and_node_export_what_they_did_and_the_file_log_backlog_drains() {
    let tmp = tempfile::tempdir().unwrap();
    let nats = NatsServer::start();
    let llm = Fake::start(|_, _| openai(&["Inventory.Stock ", "keeps the stock levels."]));
    let seed = free_udp_port();
    let gateway = cluster_member(
        &tmp.path().join("gw"),
        &nats,
        "gateway",
        "gw",
        free_udp_port(),
        seed,
        &llm,
    );
    let gw_metrics = gateway.metrics_addr();
    wait_ready(&gateway, &gw_metrics);

    // No node yet: the upload is published to the file log and nobody applies it, so the
    // whole of it is the backlog.
    let sample = common::sample();
    let added = gateway.json(&[
        "repo",
        "add",
        sample.to_str().unwrap(),
        "--no-wait",
        "--json",
    ]);
    assert_eq!(added["repository"], "inventory", "{added}");
    let seen = common::num(&added, "files_seen") as f64;
    let published = seen - common::num(&added, "files_skipped") as f64;
    assert!(published > 0.0, "{added}");
    let text = scrape_until(
        &gw_metrics,
        "the gateway reports every published file as the file log's backlog",
        |text| files_backlog(text) == Some(published),
        || gateway.log(),
    );
    for p in 0..PARTITIONS {
        let partition = format!("partition=\"{p}\"");
        assert!(
            value(
                &text,
                "aiex_bus_queue_depth",
                &["queue=\"files\"", &partition]
            )
            .is_some(),
            "no backlog for partition {p}:\n{text}"
        );
    }

    // A node joins and indexes everything: the backlog drains to 0.
    let node = cluster_member(
        &tmp.path().join("n1"),
        &nats,
        "node",
        "n1",
        seed,
        seed,
        &llm,
    );
    let node_metrics = node.metrics_addr();
    wait_ready(&node, &node_metrics);
    let logs = || format!("gateway log:\n{}\nnode log:\n{}", gateway.log(), node.log());
    let deadline = Instant::now() + CONVERGE;
    while gateway.json(&["repo", "status", "inventory", "--json"])["state"] != "ready" {
        assert!(Instant::now() < deadline, "never ready:\n{}", logs());
        std::thread::sleep(Duration::from_millis(250));
    }
    scrape_until(
        &gw_metrics,
        "the file log's backlog drains once the node has indexed it",
        |text| files_backlog(text) == Some(0.0),
        logs,
    );

    // A search and an assist job (taken from the queue and acknowledged by a worker).
    let answer = gateway.json(&["search", "reserve stock", "--json"]);
    assert!(!common::hits(&answer).is_empty(), "{answer}");
    let out = gateway.run(&["explain", "Inventory.Stock"]);
    assert!(
        out.status.success(),
        "explain failed: {}\n{}",
        common::stderr(&out),
        logs()
    );

    // The worker acknowledges the assist job after it has sent the answer, so the
    // acknowledgement may land a moment after `explain` returns: scrape both until one of
    // them has counted it.
    let acked = |gw: &str, nd: &str| {
        value(gw, "aiex_bus_acked_total", &[]).unwrap_or(0.0)
            + value(nd, "aiex_bus_acked_total", &[]).unwrap_or(0.0)
    };
    let deadline = Instant::now() + CONVERGE;
    let (gw, nd) = loop {
        let (gw, nd) = (scrape(&gw_metrics), scrape(&node_metrics));
        if acked(&gw, &nd) >= 1.0 {
            break (gw, nd);
        }
        assert!(
            Instant::now() < deadline,
            "no job acknowledged within {CONVERGE:?}:\n{gw}\n{nd}\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    // The gateway: RPCs, ingest, search, the bus, membership and gossip.
    positive(
        &gw,
        "aiex_gateway_requests_total",
        &["method=\"aiex.v1.Search/Search\"", "code=\"OK\""],
    );
    positive(
        &gw,
        "aiex_gateway_requests_total",
        &["method=\"aiex.v1.Repositories/Upload\"", "code=\"OK\""],
    );
    positive(
        &gw,
        "aiex_gateway_request_duration_seconds_count",
        &["method=\"aiex.v1.Search/Search\""],
    );
    assert_eq!(positive(&gw, "aiex_ingest_files_total", &[]), seen);
    assert_eq!(
        positive(&gw, "aiex_ingest_bytes_total", &[]),
        common::num(&added, "bytes") as f64
    );
    positive(&gw, "aiex_search_duration_seconds_count", &[]);
    assert!(positive(&gw, "aiex_bus_published_total", &[]) >= published);
    // The node: chunking, the index, the file log read, placement.
    let chunks = positive(&nd, "aiex_chunk_chunks_total", &[]);
    positive(&nd, "aiex_chunk_seconds_count", &[]);
    let documents = positive(&nd, "aiex_index_documents", &[]);
    assert!(
        documents <= chunks,
        "{documents} documents from {chunks} chunks"
    );
    positive(&nd, "aiex_index_size_bytes", &[]);
    positive(&nd, "aiex_index_commit_seconds_count", &[]);
    assert!(positive(&nd, "aiex_bus_consumed_total", &[]) >= published);
    assert_eq!(
        value(&nd, "aiex_cluster_partitions_owned", &[]),
        Some(f64::from(PARTITIONS)),
        "the only node owns every partition"
    );
    // Both: membership and gossip; the assist job was acknowledged by one of them.
    for (who, text) in [("gateway", &gw), ("node", &nd)] {
        assert_eq!(
            value(text, "aiex_cluster_live_members", &[]),
            Some(2.0),
            "the {who} sees itself and the other:\n{text}"
        );
        positive(
            text,
            "aiex_cluster_gossip_bytes_total",
            &["direction=\"sent\""],
        );
        positive(
            text,
            "aiex_cluster_gossip_bytes_total",
            &["direction=\"received\""],
        );
    }
    scrape_until(
        &gw_metrics,
        "the assist queue's depth is sampled, and empty once the job is acknowledged",
        |text| value(text, "aiex_bus_queue_depth", &["queue=\"assist\""]) == Some(0.0),
        logs,
    );

    // Every series the dashboard queries is exported by the node or the gateway.
    let names = dashboard_names();
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !exported(&gw, n) && !exported(&nd, n))
        .collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries {missing:?}, exported by neither the node nor the gateway"
    );
    drop(node);
    drop(gateway);
}
