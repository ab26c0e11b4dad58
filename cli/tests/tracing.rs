//! One trace across processes: a gateway and a node (real processes, real NATS) export
//! their spans over OTLP/HTTP to a collector in this test, and a search through the
//! gateway shows up as the gateway's request span and the node's request spans under one
//! trace id, the node's spans children of the gateway's; and an upload's trace reaches
//! the node's indexing of its files through the NATS message headers. An assist request
//! is one trace from the gateway's RPC through the job queue to the provider call.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Server;
use common::nats::{NatsServer, free_udp_port, member_args};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A span as the collector received it.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    name: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
}

/// An OTLP/HTTP trace collector on a free port: `POST /v1/traces` with a protobuf body.
fn start_collector(rt: &tokio::runtime::Runtime) -> (u16, Arc<Mutex<Vec<Received>>>) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let store = spans.clone();
    rt.spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // One request: the head, then Content-Length bytes of body.
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 8192];
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + length {
                        let mut chunk = [0u8; 65536];
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body: Vec<u8> = buf.drain(..head_end + length).skip(head_end).collect();
                    assert!(head.starts_with("post /v1/traces"), "unexpected request: {head}");
                    let request = ExportTraceServiceRequest::decode(body.as_slice())
                        .expect("an OTLP protobuf export request");
                    {
                    let mut out = store.lock().unwrap();
                    for rs in request.resource_spans {
                        let service = rs
                            .resource
                            .iter()
                            .flat_map(|r| &r.attributes)
                            .find(|a| a.key == "service.name")
                            .and_then(|a| a.value.as_ref())
                            .map(|v| format!("{:?}", v.value))
                            .unwrap_or_default();
                        for ss in rs.scope_spans {
                            for s in ss.spans {
                                out.push(Received {
                                    service: service.clone(),
                                    name: s.name,
                                    trace_id: s.trace_id,
                                    span_id: s.span_id,
                                    parent_span_id: s.parent_span_id,
                                });
                            }
                        }
                    }
                    }
                    let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if conn.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, spans)
}

#[test]
fn a_search_is_one_trace_from_the_gateway_to_the_node() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (port, spans) = start_collector(&rt);
    let endpoint = format!("http://127.0.0.1:{port}");
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    let nats = NatsServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let seed = free_udp_port();
    let mesh_args =
        |role: &str, id: &str, gossip: u16| member_args(&nats, 4, role, id, gossip, seed);
    let node_args = mesh_args("node", "n1", seed);
    let node_args: Vec<&str> = node_args.iter().map(String::as_str).collect();
    let node = Server::start_role_env(&tmp.path().join("n1"), &node_args, &env);
    let gw_args = mesh_args("gateway", "gw", free_udp_port());
    let gw_args: Vec<&str> = gw_args.iter().map(String::as_str).collect();
    let gateway = Server::start_role_env(&tmp.path().join("gw"), &gw_args, &env);

    let sample = common::sample();
    let added = gateway.json(&["repo", "add", sample.to_str().unwrap(), "--json"]);
    assert_eq!(added["state"], "ready", "{added}");
    let found = gateway.json(&["search", "release reserved stock", "--json"]);
    assert!(!found["hits"].as_array().unwrap().is_empty(), "{found}");

    // The gateway's Search span and the node's Search span share a trace id, and the
    // node's span is a child of a span of the gateway's trace.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = spans.lock().unwrap().clone();
        let gateway_search: Vec<&Received> = got
            .iter()
            .filter(|s| s.service.contains("aiex-gateway") && s.name == "/aiex.v1.Search/Search")
            .collect();
        let linked = gateway_search.iter().find_map(|g| {
            got.iter().find(|s| {
                s.service.contains("aiex-node")
                    && s.name == "/aiex.mesh.v1.Node/Search"
                    && s.trace_id == g.trace_id
                    && s.parent_span_id == g.span_id
            })
        });
        // The upload's file events carried its trace context through the NATS log: the
        // node's indexing of each file is part of the upload's trace.
        let uploads: Vec<&Received> = got
            .iter()
            .filter(|s| {
                s.service.contains("aiex-gateway") && s.name == "/aiex.v1.Repositories/Upload"
            })
            .collect();
        let indexed_in_upload_trace = got.iter().any(|s| {
            s.service.contains("aiex-node")
                && s.name == "index file"
                && uploads.iter().any(|u| u.trace_id == s.trace_id)
        });
        if linked.is_some() && indexed_in_upload_trace {
            break;
        }
        if Instant::now() > deadline {
            let by_service: BTreeMap<String, Vec<String>> =
                got.iter().fold(BTreeMap::new(), |mut m, s| {
                    m.entry(s.service.clone()).or_default().push(s.name.clone());
                    m
                });
            panic!(
                "no gateway search span with a node search span in the same trace (or no indexing \
                 span in the upload's trace) within 60 s; received: {by_service:?}\ngateway log:\n{}\nnode log:\n{}",
                gateway.log(),
                node.log()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_assist_request_is_one_trace_through_the_queue_to_the_provider_call() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (port, spans) = start_collector(&rt);
    let endpoint = format!("http://127.0.0.1:{port}");
    let fake = common::fake_llm::Fake::start(|_, _| {
        common::fake_llm::openai(&["Inventory.Stock ", "keeps stock."])
    });
    let tmp = tempfile::tempdir().unwrap();
    let server = fake.up_env(
        &tmp.path().join("data"),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let sample = common::sample();
    server.json(&["repo", "add", sample.to_str().unwrap(), "--json"]);
    let out = server.run(&["explain", "Inventory.Stock"]);
    assert!(out.status.success(), "{}", common::stderr(&out));

    // The gateway's Explain span, the worker's job span (taken from the queue) and the
    // provider call span are one trace, each a child of the one before.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = spans.lock().unwrap().clone();
        let chained = got
            .iter()
            .filter(|s| s.name == "/aiex.v1.Assist/Explain")
            .any(|rpc| {
                got.iter()
                    .filter(|job| {
                        job.name == "assist job"
                            && job.trace_id == rpc.trace_id
                            && job.parent_span_id == rpc.span_id
                    })
                    .any(|job| {
                        got.iter().any(|call| {
                            call.name == "llm call"
                                && call.trace_id == job.trace_id
                                && call.parent_span_id == job.span_id
                        })
                    })
            });
        if chained {
            break;
        }
        if Instant::now() > deadline {
            let names: Vec<(String, String)> = got
                .iter()
                .map(|s| (s.name.clone(), format!("{:?}", s.trace_id)))
                .collect();
            panic!(
                "no Explain -> assist job -> llm call chain within 60 s; received: {names:?}\nserver log:\n{}",
                server.log()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
