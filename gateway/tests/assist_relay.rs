//! The gateway's side of assist streaming, with the test in the worker's place: the
//! gateway runs for real (an embedded server whose own worker is not started), and the
//! test takes the job from the real bus and notifies frames as a worker would, dying
//! where a worker might. Checks: a worker that dies before answering is replaced by the
//! redelivered job; one that dies mid-answer ends the stream with UNAVAILABLE after the
//! idle timeout (never a hang); a lost frame is detected; a client that goes away
//! cancels the job.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aiex_gateway::GatewayConfig;
use aiex_gateway::embedded::{EmbeddedConfig, EmbeddedServer};
use aiex_node::assist::{ASSIST_ANSWERED, ASSIST_WAITING, AssistJob, Frame, FrameEvent, Task};
use aiex_node::bus::{Bus, Job};
use aiex_node::chunk::ChunkerConfig;
use aiex_proto::subjects::{
    ASSIST_QUEUE, assist_cancel_subject, assist_reply_subject, assist_waiting_subject,
};
use aiex_proto::v1 as pb;
use bytes::Bytes;
use futures::StreamExt;
use pb::assist_client::AssistClient;
use tonic::Code;
use tonic::transport::Channel;

const PATIENCE: Duration = Duration::from_secs(60);

struct Gateway {
    bus: Arc<dyn Bus>,
    client: AssistClient<Channel>,
    _dir: tempfile::TempDir,
    _task: tokio::task::JoinHandle<()>,
}

async fn gateway(idle: Duration) -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedServer::start(EmbeddedConfig {
        data_dir: dir.path().join("data"),
        partitions: 1,
        index_threads: 1,
        chunker: ChunkerConfig::default(),
        gateway: GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            assist_idle_timeout: idle,
            ..GatewayConfig::default()
        },
        // A provider is configured (the gateway refuses assist requests otherwise); the
        // test, not a worker, answers the jobs, so it is never called.
        llm: Some(
            serde_json::from_value(serde_json::json!({
                "providers": [{
                    "name": "unused",
                    "kind": "ollama",
                    "base_url": "http://127.0.0.1:9",
                    "model": "llama3"
                }]
            }))
            .unwrap(),
        ),
        assist: Default::default(),
        embed_model: None,
    })
    .await
    .unwrap();
    let addr = server.local_addr();
    let bus = server.state.bus.clone();
    // Serve without `run`, so no worker takes jobs: the test is the worker.
    let task = tokio::spawn(async move {
        let _ = aiex_gateway::server::serve(server.state, server.listener, std::future::pending())
            .await;
    });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    Gateway {
        bus,
        client: AssistClient::new(channel),
        _dir: dir,
        _task: task,
    }
}

async fn take(bus: &dyn Bus, ack_wait: Duration) -> (Job, AssistJob) {
    let job = bus
        .take(ASSIST_QUEUE, ack_wait, PATIENCE)
        .await
        .unwrap()
        .expect("the gateway submitted a job");
    let assist: AssistJob = serde_json::from_slice(&job.payload).unwrap();
    (job, assist)
}

async fn send(bus: &dyn Bus, id: &str, attempt: u32, seq: u64, event: FrameEvent) {
    let frame = Frame {
        attempt,
        seq,
        worker: String::new(),
        event,
    };
    bus.notify(
        &assist_reply_subject(id),
        Bytes::from(serde_json::to_vec(&frame).unwrap()),
    )
    .await
    .unwrap();
}

fn token(text: &str) -> FrameEvent {
    FrameEvent::Token { text: text.into() }
}

fn done() -> FrameEvent {
    FrameEvent::Done {
        session_id: String::new(),
        provider: "test".into(),
        model: String::new(),
        valid_elixir: false,
        repaired: false,
        code: String::new(),
    }
}

fn explain() -> pb::ExplainRequest {
    pb::ExplainRequest {
        target: "Inventory.Stock".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_dying_before_its_first_token_is_replaced_by_the_redelivered_job() {
    let mut g = gateway(Duration::from_secs(30)).await;
    let bus = g.bus.clone();
    let worker = tokio::spawn(async move {
        // The first worker takes the job and dies silently.
        let (first, assist) = take(&*bus, Duration::from_millis(500)).await;
        assert_eq!(first.deliveries, 1);
        assert!(matches!(assist.task, Task::Explain { .. }));
        // The job comes back; this worker answers.
        let (again, same) = take(&*bus, Duration::from_secs(30)).await;
        assert_eq!((again.id, again.deliveries), (first.id, 2));
        send(&*bus, &same.id, 2, 0, FrameEvent::Heartbeat).await;
        send(&*bus, &same.id, 2, 1, token("hello ")).await;
        send(&*bus, &same.id, 2, 2, token("world")).await;
        send(&*bus, &same.id, 2, 3, done()).await;
        bus.ack(ASSIST_QUEUE, again.id).await.unwrap();
    });
    let mut stream = g.client.explain(explain()).await.unwrap().into_inner();
    let mut text = String::new();
    let mut finished = false;
    while let Some(event) = stream.next().await {
        match event.unwrap().event.unwrap() {
            pb::assist_event::Event::Token(t) => text.push_str(&t.text),
            pb::assist_event::Event::Done(d) => {
                assert_eq!(d.provider, "test");
                finished = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(finished);
    assert_eq!(text, "hello world");
    worker.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_dying_mid_answer_ends_the_stream_with_unavailable() {
    let mut g = gateway(Duration::from_secs(2)).await;
    let bus = g.bus.clone();
    let (ids, got_ids) = tokio::sync::oneshot::channel();
    let worker = tokio::spawn(async move {
        let (_job, assist) = take(&*bus, Duration::from_secs(60)).await;
        // Before any token, the gateway says it waits (a new delivery would run).
        assert_eq!(waiting(&*bus, &assist.id).await.unwrap(), ASSIST_WAITING);
        send(&*bus, &assist.id, 1, 0, token("half an ")).await;
        // ... and nothing more: no heartbeat, no Done.
        ids.send(assist.id).unwrap();
    });
    let mut stream = g.client.explain(explain()).await.unwrap().into_inner();
    let first = stream.next().await.unwrap().unwrap();
    assert!(matches!(
        first.event,
        Some(pb::assist_event::Event::Token(_))
    ));
    let id = got_ids.await.unwrap();
    // A token reached the client: a new delivery would answer nobody.
    assert_eq!(waiting(&*g.bus, &id).await.unwrap(), ASSIST_ANSWERED);
    let end = tokio::time::timeout(PATIENCE, stream.next())
        .await
        .expect("the gateway gives up, never hangs")
        .expect("an error, not a silent end");
    let status = end.expect_err("the stream ends with an error");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("stopped answering"), "{status:?}");
    worker.await.unwrap();
    // The gateway gave up: nobody answers any more.
    assert!(waiting(&*g.bus, &id).await.is_err());
}

async fn waiting(bus: &dyn Bus, id: &str) -> Result<Bytes, aiex_node::bus::BusError> {
    bus.request(
        &assist_waiting_subject(id),
        Bytes::new(),
        Duration::from_secs(5),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_frame_is_detected() {
    let mut g = gateway(Duration::from_secs(30)).await;
    let bus = g.bus.clone();
    let worker = tokio::spawn(async move {
        let (_job, assist) = take(&*bus, Duration::from_secs(60)).await;
        send(&*bus, &assist.id, 1, 0, token("a")).await;
        send(&*bus, &assist.id, 1, 2, token("c")).await;
    });
    let mut stream = g.client.explain(explain()).await.unwrap().into_inner();
    stream.next().await.unwrap().unwrap();
    let status = stream.next().await.unwrap().expect_err("a gap is an error");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status.message().contains("lost assist events 1..2"),
        "{status:?}"
    );
    worker.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_worker_at_all_is_unavailable_after_the_idle_timeout() {
    let mut g = gateway(Duration::from_secs(1)).await;
    let status = g
        .client
        .explain(explain())
        .await
        .expect_err("nobody answers");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status
            .message()
            .contains("no assist worker took the request"),
        "{status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_going_away_cancels_the_job() {
    let mut g = gateway(Duration::from_secs(30)).await;
    let bus = g.bus.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let worker = tokio::spawn(async move {
        let (_job, assist) = take(&*bus, Duration::from_secs(60)).await;
        let mut cancel = bus
            .subscribe(&assist_cancel_subject(&assist.id))
            .await
            .unwrap();
        send(&*bus, &assist.id, 1, 0, token("a")).await;
        let _ = tx.send(());
        tokio::time::timeout(PATIENCE, cancel.next())
            .await
            .expect("the gateway cancels the job")
            .expect("a cancel notification");
    });
    let mut stream = g.client.explain(explain()).await.unwrap().into_inner();
    stream.next().await.unwrap().unwrap();
    rx.await.unwrap();
    drop(stream);
    worker.await.unwrap();
}
