//! The bus suite on the in-process bus, one test per check, plus what only `LocalBus`
//! promises: the file lock, large payloads, large batches, one server per subject.

use std::sync::Arc;
use std::time::Duration;

use aiex_node::bus::local::{LocalBus, LocalBusOptions};
use aiex_node::bus::{Bus, BusError, Headers, Op, Record, replay, suite};
use bytes::Bytes;
use tempfile::TempDir;

fn local_bus() -> (TempDir, Arc<dyn Bus>) {
    let dir = TempDir::new().expect("temp dir");
    let bus = LocalBus::open(&dir.path().join("bus").join("bus.redb")).expect("open the bus");
    (dir, Arc::new(bus))
}

macro_rules! suite_tests {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_dir, bus) = local_bus();
                suite::$check(&*bus).await;
            }
        )*
    };
}

suite_tests!(
    log_keeps_newest_per_key,
    log_reads_partitions_separately,
    log_replay_pages_and_last_seq,
    log_tombstones,
    log_follow_wakes_on_publish,
    log_dedup_by_msg_id,
    log_sequences_monotonic_across_streams_and_partitions,
    log_rejects_bad_names,
    log_backlog_counts_past_each_watermark,
    queue_take_ack,
    queue_redelivers_after_ack_wait,
    queue_ack_unknown_job_errors,
    queue_take_times_out_with_none,
    queue_competing_takers_each_job_once,
    queue_len_counts_unacknowledged_jobs,
    request_reply_roundtrip,
    request_without_server_is_no_responders,
    request_times_out,
    notify_reaches_every_subscriber_in_order,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_shares_one_bus() {
    let (_dir, bus) = local_bus();
    suite::run_all(bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_across_restart() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("bus.redb");
    suite::durable_across_restart(|| {
        let path = path.clone();
        async move {
            let bus = LocalBus::open(&path).expect("reopen the bus");
            Arc::new(bus) as Arc<dyn Bus>
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_open_names_the_other_process() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("bus.redb");
    let first = LocalBus::open(&path).expect("first open");
    let err = LocalBus::open(&path).expect_err("the file is locked");
    let BusError::Storage(message) = &err else {
        panic!("expected a storage error, got {err:?}");
    };
    assert!(
        message.contains("another Aiex process is using the data directory"),
        "{message}"
    );
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    drop(first);
    LocalBus::open(&path).expect("the lock is released when the bus is dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_reports_unusable_paths() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let err = LocalBus::open(&file.join("bus.redb")).expect_err("parent is a file");
    assert!(
        matches!(&err, BusError::Storage(m) if m.contains("not-a-dir")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_payload_round_trips() {
    let (_dir, bus) = local_bus();
    let payload: Bytes = (0..8 * 1024 * 1024u32)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    let mut headers = Headers::new();
    headers.insert("size".to_string(), payload.len().to_string());
    let seqs = bus
        .publish(
            "big",
            vec![Record::put(0, "blob", headers, payload.clone())],
        )
        .await
        .expect("publish 8 MB");

    let batch = bus.read("big", 0, 0, 10, false).await.expect("read");
    assert_eq!(batch.messages.len(), 1);
    assert_eq!(batch.messages[0].seq, seqs[0]);
    assert!(
        batch.messages[0].payload == payload,
        "the payload round-trips"
    );

    let headers_only = bus.read("big", 0, 0, 10, true).await.expect("read");
    assert!(headers_only.messages[0].payload.is_empty());
    assert_eq!(
        headers_only.messages[0]
            .headers
            .get("size")
            .map(String::as_str),
        Some("8388608")
    );

    let id = bus
        .submit("big-jobs", payload.clone())
        .await
        .expect("submit");
    let job = bus
        .take("big-jobs", Duration::from_secs(60), Duration::from_secs(30))
        .await
        .expect("take")
        .expect("the job");
    assert_eq!(job.id, id);
    assert!(job.payload == payload, "the job payload round-trips");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_records_in_one_publish() {
    let (_dir, bus) = local_bus();
    let records: Vec<Record> = (0..10_000)
        .map(|i| {
            Record::put(
                0,
                format!("repo\0dir/file{i:05}.ex"),
                Headers::new(),
                Bytes::from(format!("content {i}")),
            )
        })
        .collect();
    let seqs = bus.publish("many", records).await.expect("publish");
    assert_eq!(seqs, (1..=10_000).collect::<Vec<u64>>());

    let messages = replay(&*bus, "many", 0, false).await.expect("replay");
    assert_eq!(messages.len(), 10_000);
    for (i, message) in messages.iter().enumerate() {
        assert_eq!(message.seq, i as u64 + 1);
        assert_eq!(message.key, format!("repo\0dir/file{i:05}.ex"));
        assert_eq!(message.payload, Bytes::from(format!("content {i}")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequences_start_at_one_per_stream() {
    let (_dir, bus) = local_bus();
    let a = bus
        .publish("a", vec![Record::put(3, "k", Headers::new(), Bytes::new())])
        .await
        .expect("publish");
    let b = bus
        .publish("b", vec![Record::put(0, "k", Headers::new(), Bytes::new())])
        .await
        .expect("publish");
    assert_eq!((a, b), (vec![1], vec![1]));
    assert!(
        bus.publish("a", Vec::new())
            .await
            .expect("empty publish")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_moving_partitions_leaves_the_old_one() {
    let (_dir, bus) = local_bus();
    let put = |partition| Record::put(partition, "k", Headers::new(), Bytes::from("v"));
    bus.publish("moves", vec![put(0)]).await.expect("publish");
    let moved = bus.publish("moves", vec![put(1)]).await.expect("publish");
    let old = bus.read("moves", 0, 0, 10, false).await.expect("read");
    assert!(old.messages.is_empty());
    assert_eq!(old.last_seq, 0);
    let new = bus.read("moves", 1, 0, 10, false).await.expect("read");
    assert_eq!(new.messages.len(), 1);
    assert_eq!(new.messages[0].seq, moved[0]);
    assert_eq!(new.messages[0].op, Op::Put);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedup_ids_expire_after_the_window() {
    let dir = TempDir::new().expect("temp dir");
    let window = Duration::from_millis(200);
    let bus = LocalBus::open_with(
        &dir.path().join("bus.redb"),
        LocalBusOptions {
            dedup_window: window,
        },
    )
    .expect("open");
    let record = || Record::put(0, "k", Headers::new(), Bytes::from("v")).with_msg_id("id");
    let first = bus.publish("s", vec![record()]).await.expect("publish");
    tokio::time::sleep(window * 3).await;
    let second = bus.publish("s", vec![record()]).await.expect("publish");
    assert!(
        second[0] > first[0],
        "an id older than the window is forgotten"
    );
    let third = bus.publish("s", vec![record()]).await.expect("publish");
    assert_eq!(
        third, second,
        "and remembered again from its new publication"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_counts_survive_a_clean_restart() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("bus.redb");
    let bus = LocalBus::open(&path).expect("open");
    let id = bus.submit("q", Bytes::from("job")).await.expect("submit");
    let job = take_now(&bus, "q").await;
    assert_eq!((job.id, job.deliveries), (id, 1));
    // A synced commit makes the unsynced delivery count durable.
    let other = bus.submit("q", Bytes::from("other")).await.expect("submit");
    drop(bus);

    let bus = LocalBus::open(&path).expect("reopen");
    let job = take_now(&bus, "q").await;
    assert_eq!((job.id, job.deliveries), (id, 2));
    let job = take_now(&bus, "q").await;
    assert_eq!((job.id, job.deliveries), (other, 1));
}

async fn take_now(bus: &LocalBus, queue: &str) -> aiex_node::bus::Job {
    bus.take(queue, Duration::from_secs(60), Duration::from_secs(30))
        .await
        .expect("take")
        .expect("a job")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_per_subject() {
    let (_dir, bus) = local_bus();
    let requests = bus.serve("aiex.one").await.expect("serve");
    let err = bus.serve("aiex.one").await.expect_err("already served");
    assert!(
        matches!(
            err,
            BusError::InvalidArgument {
                field: "subject",
                ..
            }
        ),
        "{err:?}"
    );
    drop(requests);
    let err = bus
        .request("aiex.one", Bytes::from("x"), Duration::from_secs(30))
        .await
        .expect_err("the server is gone");
    assert!(matches!(err, BusError::NoResponders { .. }), "{err:?}");
    let _requests = bus.serve("aiex.one").await.expect("serve again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_request_is_no_responders() {
    let (_dir, bus) = local_bus();
    let mut requests = bus.serve("aiex.drops").await.expect("serve");
    let server = tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            drop(request);
        }
    });
    let err = bus
        .request("aiex.drops", Bytes::from("x"), Duration::from_secs(60))
        .await
        .expect_err("dropped without a reply");
    assert!(matches!(err, BusError::NoResponders { .. }), "{err:?}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_subjects_are_refused() {
    let (_dir, bus) = local_bus();
    for bad in ["", "a b", "a.*", "a.>"] {
        let err = bus.serve(bad).await.expect_err("bad subject");
        assert!(
            matches!(
                err,
                BusError::InvalidArgument {
                    field: "subject",
                    ..
                }
            ),
            "{err:?}"
        );
        let err = bus
            .request(bad, Bytes::new(), Duration::from_secs(1))
            .await
            .expect_err("bad subject");
        assert!(
            matches!(
                err,
                BusError::InvalidArgument {
                    field: "subject",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
