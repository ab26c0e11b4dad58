//! The checks every [`Bus`] implementation must pass, written against the trait only, so
//! the in-process bus and the NATS bus run exactly the same suite.
//!
//! Each check uses stream, queue and subject names of its own (a unique suffix per call),
//! so checks can share one bus, also one that outlives a run. They panic on failure, like
//! assertions. None asserts that something happens *fast*: waits have generous timeouts
//! and only "it happened before the timeout" is checked, so a loaded machine does not
//! make them flaky.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::{Bus, BusError, Headers, Job, LogMessage, Op, Record, replay};

/// How long a check waits for something that should happen (far above any real delay).
const PATIENCE: Duration = Duration::from_secs(30);
/// An ack wait no check outlives: a job taken with it stays invisible.
const LONG_ACK_WAIT: Duration = Duration::from_secs(120);

/// Runs every check that needs only a bus (not [`durable_across_restart`]).
pub async fn run_all(bus: Arc<dyn Bus>) {
    let bus = &*bus;
    log_keeps_newest_per_key(bus).await;
    log_reads_partitions_separately(bus).await;
    log_replay_pages_and_last_seq(bus).await;
    log_tombstones(bus).await;
    log_follow_wakes_on_publish(bus).await;
    log_dedup_by_msg_id(bus).await;
    log_sequences_monotonic_across_streams_and_partitions(bus).await;
    log_rejects_bad_names(bus).await;
    log_backlog_counts_past_each_watermark(bus).await;
    queue_take_ack(bus).await;
    queue_redelivers_after_ack_wait(bus).await;
    queue_ack_unknown_job_errors(bus).await;
    queue_take_times_out_with_none(bus).await;
    queue_competing_takers_each_job_once(bus).await;
    queue_len_counts_unacknowledged_jobs(bus).await;
    request_reply_roundtrip(bus).await;
    request_without_server_is_no_responders(bus).await;
    request_times_out(bus).await;
    notify_reaches_every_subscriber_in_order(bus).await;
}

/// Publishing a key again replaces its message, across calls and within one call.
pub async fn log_keeps_newest_per_key(bus: &dyn Bus) {
    let stream = unique("newest");
    let first = publish(bus, &stream, vec![put(0, "a", "a1"), put(0, "b", "b1")]).await;
    let second = publish(bus, &stream, vec![put(0, "a", "a2")]).await;
    let third = publish(bus, &stream, vec![put(0, "c", "c1"), put(0, "c", "c2")]).await;

    let messages = replay_all(bus, &stream, 0).await;
    assert_eq!(
        summary(&messages),
        vec![
            (first[1], "b".to_string(), "b1".to_string()),
            (second[0], "a".to_string(), "a2".to_string()),
            (third[1], "c".to_string(), "c2".to_string()),
        ],
        "only the newest message of each key is kept"
    );
    let batch = read(bus, &stream, 0, 0, 100).await;
    assert_eq!(batch.last_seq, third[1]);
}

/// Each partition is read on its own, with its own `last_seq`.
pub async fn log_reads_partitions_separately(bus: &dyn Bus) {
    let stream = unique("partitions");
    let mut records = Vec::new();
    for i in 0..12u32 {
        records.push(put(i % 3, &format!("k{i}"), &format!("v{i}")));
    }
    let seqs = publish(bus, &stream, records).await;

    for partition in 0..3u32 {
        let expected: Vec<(u64, String, String)> = (0..12u32)
            .filter(|i| i % 3 == partition)
            .map(|i| (seqs[i as usize], format!("k{i}"), format!("v{i}")))
            .collect();
        let batch = read(bus, &stream, partition, 0, 100).await;
        assert_eq!(summary(&batch.messages), expected, "partition {partition}");
        assert!(
            batch.messages.iter().all(|m| m.partition == partition),
            "partition {partition} holds only its own messages"
        );
        assert_eq!(
            batch.last_seq,
            expected.last().map_or(0, |m| m.0),
            "last_seq of partition {partition}"
        );
    }
    let empty = read(bus, &stream, 7, 0, 100).await;
    assert!(empty.messages.is_empty(), "partition 7 was never written");
    assert_eq!(empty.last_seq, 0);
}

/// `read` pages in sequence order after a sequence; `last_seq` tells when the reader has
/// caught up; `headers_only` leaves payloads out; an unknown stream is empty.
pub async fn log_replay_pages_and_last_seq(bus: &dyn Bus) {
    let stream = unique("pages");
    let records = (0..25)
        .map(|i| {
            let mut record = put(0, &format!("k{i:02}"), &format!("v{i}"));
            record.headers.insert("n".to_string(), i.to_string());
            record
        })
        .collect();
    let seqs = publish(bus, &stream, records).await;
    let newest = *seqs.last().expect("25 sequences");

    let mut after = 0;
    let mut pages = Vec::new();
    loop {
        let batch = read(bus, &stream, 0, after, 10).await;
        assert_eq!(batch.last_seq, newest, "last_seq is the partition's newest");
        let Some(last) = batch.messages.last() else {
            break;
        };
        after = last.seq;
        pages.push(batch.messages);
        assert!(pages.len() <= 3, "25 messages take 3 pages of 10");
    }
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![10, 10, 5]
    );
    let paged: Vec<u64> = pages.iter().flatten().map(|m| m.seq).collect();
    assert_eq!(paged, seqs, "pages cover every message once, in order");

    let middle = read(bus, &stream, 0, seqs[11], 3).await;
    assert_eq!(
        middle.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        seqs[12..15].to_vec(),
        "reading after a sequence starts right after it"
    );

    let replayed = replay_all(bus, &stream, 0).await;
    assert_eq!(replayed.len(), 25);
    assert_eq!(replayed[3].payload, Bytes::from("v3"));
    assert_eq!(replayed[3].headers.get("n").map(String::as_str), Some("3"));

    let headers_only = replay(bus, &stream, 0, true).await.expect("replay");
    assert_eq!(headers_only.len(), 25);
    assert!(headers_only.iter().all(|m| m.payload.is_empty()));
    assert_eq!(
        headers_only[3].headers.get("n").map(String::as_str),
        Some("3")
    );
    assert_eq!(headers_only[3].key, "k03");

    let unknown = read(bus, &unique("never-published"), 0, 0, 10).await;
    assert!(unknown.messages.is_empty());
    assert_eq!(unknown.last_seq, 0);

    let err = bus
        .read(&stream, 0, 0, 0, false)
        .await
        .expect_err("limit 0");
    assert_invalid(&err, "limit");
}

/// A delete is kept as a tombstone that replaces the key's message, and is replaced in
/// turn by a later put.
pub async fn log_tombstones(bus: &dyn Bus) {
    let stream = unique("tombstones");
    publish(
        bus,
        &stream,
        vec![put(0, "gone", "v1"), put(0, "kept", "v1")],
    )
    .await;
    let mut headers = Headers::new();
    headers.insert("why".to_string(), "removed".to_string());
    let deleted = publish(bus, &stream, vec![Record::delete(0, "gone", headers)]).await;

    let messages = replay_all(bus, &stream, 0).await;
    assert_eq!(
        messages.len(),
        2,
        "the tombstone replaced the put: {messages:?}"
    );
    let tombstone = &messages[1];
    assert_eq!(tombstone.seq, deleted[0]);
    assert_eq!(tombstone.key, "gone");
    assert_eq!(tombstone.op, Op::Delete);
    assert!(tombstone.payload.is_empty());
    assert_eq!(
        tombstone.headers.get("why").map(String::as_str),
        Some("removed")
    );
    assert_eq!(messages[0].key, "kept");
    assert_eq!(messages[0].op, Op::Put);

    let again = publish(bus, &stream, vec![put(0, "gone", "v2")]).await;
    let messages = replay_all(bus, &stream, 0).await;
    assert_eq!(
        summary(&messages),
        vec![
            (messages[0].seq, "kept".to_string(), "v1".to_string()),
            (again[0], "gone".to_string(), "v2".to_string()),
        ]
    );
    assert!(messages.iter().all(|m| m.op == Op::Put));
}

/// `wait_for` returns at once when the partition is ahead, and wakes on a publish
/// otherwise; on timeout it returns the partition's newest sequence.
pub async fn log_follow_wakes_on_publish(bus: &dyn Bus) {
    let stream = unique("follow");

    let quiet = bus
        .wait_for(&stream, 0, 0, Duration::from_millis(100))
        .await
        .expect("wait_for on an empty stream");
    assert_eq!(quiet, 0, "nothing published: timeout returns 0");

    let started = Instant::now();
    let waiter = bus.wait_for(&stream, 1, 0, PATIENCE);
    let publisher = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        publish(bus, &stream, vec![put(1, "k", "v")]).await
    };
    let (woken, published) = tokio::join!(waiter, publisher);
    let woken = woken.expect("wait_for");
    assert!(
        started.elapsed() < PATIENCE,
        "wait_for was not woken by the publish"
    );
    assert_eq!(woken, published[0]);

    let ahead = bus
        .wait_for(&stream, 1, 0, PATIENCE)
        .await
        .expect("wait_for behind the partition");
    assert_eq!(ahead, published[0], "returns the newest sequence");

    let caught_up = bus
        .wait_for(&stream, 1, published[0], Duration::from_millis(100))
        .await
        .expect("wait_for caught up");
    assert_eq!(
        caught_up, published[0],
        "timeout returns the newest sequence"
    );

    // Follow a partition with wait_for + read while another partition is written too.
    let follower = async {
        let mut after = published[0];
        let mut seen = Vec::new();
        while seen.len() < 3 {
            let newest = bus
                .wait_for(&stream, 1, after, PATIENCE)
                .await
                .expect("wait_for");
            assert!(newest > after, "wait_for returned without news");
            let batch = read(bus, &stream, 1, after, 100).await;
            assert!(
                !batch.messages.is_empty(),
                "wait_for saw news that read does not"
            );
            for message in batch.messages {
                after = message.seq;
                seen.push(message.key);
            }
        }
        seen
    };
    let publisher = async {
        for i in 0..3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            publish(
                bus,
                &stream,
                vec![
                    put(0, &format!("other{i}"), "x"),
                    put(1, &format!("f{i}"), "x"),
                ],
            )
            .await;
        }
    };
    let (seen, ()) = tokio::join!(follower, publisher);
    assert_eq!(seen, vec!["f0", "f1", "f2"]);
}

/// A record with a `msg_id` published again stores nothing and returns the first
/// sequence.
pub async fn log_dedup_by_msg_id(bus: &dyn Bus) {
    let stream = unique("dedup");
    let first = publish(bus, &stream, vec![put(0, "k", "first").with_msg_id("m1")]).await;
    let retry = publish(bus, &stream, vec![put(0, "k", "retry").with_msg_id("m1")]).await;
    assert_eq!(retry, first, "a duplicate returns the first sequence");
    assert_eq!(
        summary(&replay_all(bus, &stream, 0).await),
        vec![(first[0], "k".to_string(), "first".to_string())],
        "the duplicate stored nothing"
    );

    let other = publish(bus, &stream, vec![put(0, "k", "second").with_msg_id("m2")]).await;
    assert!(other[0] > first[0], "a new id is a new message");

    let batch = publish(
        bus,
        &stream,
        vec![
            put(0, "x", "x1").with_msg_id("m3"),
            put(0, "y", "y1").with_msg_id("m3"),
            put(0, "z", "z1"),
        ],
    )
    .await;
    assert_eq!(batch[0], batch[1], "a duplicate within one call");
    assert!(batch[2] > batch[0]);
    assert_eq!(
        summary(&replay_all(bus, &stream, 0).await),
        vec![
            (other[0], "k".to_string(), "second".to_string()),
            (batch[0], "x".to_string(), "x1".to_string()),
            (batch[2], "z".to_string(), "z1".to_string()),
        ]
    );

    let elsewhere = unique("dedup-other");
    let separate = publish(bus, &elsewhere, vec![put(0, "k", "v").with_msg_id("m1")]).await;
    assert_eq!(
        replay_all(bus, &elsewhere, 0).await.len(),
        1,
        "ids are per stream"
    );
    assert!(separate[0] >= 1);
}

/// Sequences increase across calls and partitions of a stream and are never reused,
/// also when the message holding one was replaced.
pub async fn log_sequences_monotonic_across_streams_and_partitions(bus: &dyn Bus) {
    let a = unique("seq-a");
    let b = unique("seq-b");
    let mut seen_a = Vec::new();
    let mut seen_b = Vec::new();
    for round in 0..5u32 {
        // Each partition alternates between two keys of its own.
        let records_a = (0..4u32)
            .map(|p| put(p, &format!("p{p}-k{}", round % 2), &format!("r{round}")))
            .collect();
        seen_a.extend(publish(bus, &a, records_a).await);
        seen_b.extend(publish(bus, &b, vec![put(0, "same", "v")]).await);
    }
    for (name, seqs) in [("a", &seen_a), ("b", &seen_b)] {
        assert!(seqs[0] >= 1, "stream {name} starts at 1 or later");
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "stream {name}: sequences strictly increase: {seqs:?}"
        );
    }
    assert_eq!(seen_a.len(), 20);

    // Only the newest per key is left: the last two rounds.
    let mut left = Vec::new();
    for partition in 0..4 {
        left.extend(replay_all(bus, &a, partition).await);
    }
    let mut left: Vec<u64> = left.iter().map(|m| m.seq).collect();
    left.sort_unstable();
    assert_eq!(left, seen_a[12..].to_vec());
    let b_left = replay_all(bus, &b, 0).await;
    assert_eq!(
        b_left.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![seen_b[4]]
    );
}

/// Bad stream, queue and key names are refused, and a batch with a bad record stores
/// nothing.
pub async fn log_rejects_bad_names(bus: &dyn Bus) {
    for bad in [
        "",
        "has space",
        "has.dot",
        "has/slash",
        "has*star",
        "has>gt",
    ] {
        let err = bus
            .publish(bad, vec![put(0, "k", "v")])
            .await
            .expect_err("bad stream name");
        assert_invalid(&err, "stream");
        let err = bus
            .read(bad, 0, 0, 10, false)
            .await
            .expect_err("bad stream name");
        assert_invalid(&err, "stream");
        let err = bus
            .wait_for(bad, 0, 0, Duration::from_millis(10))
            .await
            .expect_err("bad stream name");
        assert_invalid(&err, "stream");
        let err = bus
            .submit(bad, Bytes::from("job"))
            .await
            .expect_err("bad queue name");
        assert_invalid(&err, "queue");
    }

    let stream = unique("bad-key");
    let err = bus
        .publish(&stream, vec![put(0, "good", "v"), put(0, "", "v")])
        .await
        .expect_err("empty key");
    assert_invalid(&err, "key");
    assert!(
        replay_all(bus, &stream, 0).await.is_empty(),
        "a batch with a bad record stores nothing"
    );
}

/// `backlog` counts each partition's messages past its watermark: only the newest
/// message of a key, tombstones included; a stream never published to has none.
pub async fn log_backlog_counts_past_each_watermark(bus: &dyn Bus) {
    let stream = unique("backlog");
    assert_eq!(backlog(bus, &stream, &[0, 0]).await, vec![0, 0]);
    let first = publish(
        bus,
        &stream,
        vec![
            put(0, "a", "a1"),
            put(1, "d", "d1"),
            put(0, "b", "b1"),
            put(0, "c", "c1"),
        ],
    )
    .await;
    assert_eq!(backlog(bus, &stream, &[0, 0, 0]).await, vec![3, 1, 0]);
    assert_eq!(
        backlog(bus, &stream, &[first[0], first[1], 0]).await,
        vec![2, 0, 0],
        "b and c follow a"
    );
    assert_eq!(
        backlog(bus, &stream, &[first[3], u64::MAX, first[3]]).await,
        vec![0, 0, 0]
    );

    // `a` again: its old message is gone, its new one follows every watermark above.
    let again = publish(bus, &stream, vec![put(0, "a", "a2")]).await;
    assert_eq!(backlog(bus, &stream, &[0, 0]).await, vec![3, 1]);
    assert_eq!(backlog(bus, &stream, &[first[3], 0]).await, vec![1, 1]);
    // A tombstone is a message to apply too.
    publish(bus, &stream, vec![Record::delete(1, "d", Headers::new())]).await;
    assert_eq!(
        backlog(bus, &stream, &[again[0], first[1]]).await,
        vec![0, 1]
    );
}

/// Jobs come out in submission order; a taken job is invisible until acknowledged.
pub async fn queue_take_ack(bus: &dyn Bus) {
    let queue = unique("take-ack");
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(submit(bus, &queue, &format!("job{i}")).await);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");

    for (i, id) in ids.iter().enumerate() {
        let job = take(bus, &queue, LONG_ACK_WAIT, PATIENCE)
            .await
            .expect("a job is waiting");
        assert_eq!(job.id, *id, "oldest first");
        assert_eq!(job.payload, Bytes::from(format!("job{i}")));
        assert_eq!(job.deliveries, 1);
        if i == 0 {
            bus.ack(&queue, job.id).await.expect("ack");
        }
    }

    // Jobs 2 and 3 are in flight, job 1 is acknowledged: nothing to take.
    let none = take(bus, &queue, LONG_ACK_WAIT, Duration::from_millis(200)).await;
    assert_eq!(
        none, None,
        "in-flight and acknowledged jobs are not delivered"
    );
    for id in &ids[1..] {
        bus.ack(&queue, *id).await.expect("ack");
    }

    let late = submit(bus, &queue, "late").await;
    assert!(late > ids[2], "ids keep increasing");
    let job = take(bus, &queue, LONG_ACK_WAIT, PATIENCE)
        .await
        .expect("the late job");
    assert_eq!(job.id, late);
    bus.ack(&queue, late).await.expect("ack");
}

/// A job not acknowledged within its ack wait is delivered again, with the delivery
/// counted.
pub async fn queue_redelivers_after_ack_wait(bus: &dyn Bus) {
    let queue = unique("redeliver");
    let id = submit(bus, &queue, "again").await;
    let first = take(bus, &queue, Duration::from_millis(200), PATIENCE)
        .await
        .expect("the job");
    assert_eq!((first.id, first.deliveries), (id, 1));

    let second = take(bus, &queue, LONG_ACK_WAIT, PATIENCE)
        .await
        .expect("redelivered after the ack wait");
    assert_eq!(second.id, id);
    assert_eq!(second.payload, Bytes::from("again"));
    assert_eq!(second.deliveries, 2);
    bus.ack(&queue, id).await.expect("ack");

    let none = take(bus, &queue, LONG_ACK_WAIT, Duration::from_millis(300)).await;
    assert_eq!(none, None, "an acknowledged job is not delivered again");
}

/// Acknowledging a job that is not pending is an error.
pub async fn queue_ack_unknown_job_errors(bus: &dyn Bus) {
    let queue = unique("ack-unknown");
    let err = bus.ack(&queue, 12345).await.expect_err("unknown job");
    assert!(
        matches!(err, BusError::UnknownJob { id: 12345, .. }),
        "{err:?}"
    );

    let id = submit(bus, &queue, "once").await;
    let job = take(bus, &queue, LONG_ACK_WAIT, PATIENCE)
        .await
        .expect("the job");
    assert_eq!(job.id, id);
    bus.ack(&queue, id).await.expect("first ack");
    let err = bus.ack(&queue, id).await.expect_err("second ack");
    assert!(
        matches!(&err, BusError::UnknownJob { id: got, .. } if *got == id),
        "{err:?}"
    );
}

/// An empty queue: `take` returns `None` after its timeout, and a waiting `take` is
/// woken by a submit.
pub async fn queue_take_times_out_with_none(bus: &dyn Bus) {
    let queue = unique("take-timeout");
    let none = take(bus, &queue, LONG_ACK_WAIT, Duration::from_millis(200)).await;
    assert_eq!(none, None);
    let none = take(bus, &queue, LONG_ACK_WAIT, Duration::ZERO).await;
    assert_eq!(none, None, "a zero timeout does not wait");

    let started = Instant::now();
    let taker = take(bus, &queue, LONG_ACK_WAIT, PATIENCE);
    let submitter = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        submit(bus, &queue, "wake").await
    };
    let (job, id) = tokio::join!(taker, submitter);
    assert!(
        started.elapsed() < PATIENCE,
        "take was not woken by the submit"
    );
    let job = job.expect("the submitted job wakes the taker");
    assert_eq!(job.id, id);
    bus.ack(&queue, id).await.expect("ack");
}

/// Concurrent takers that acknowledge what they take see every job exactly once.
pub async fn queue_competing_takers_each_job_once(bus: &dyn Bus) {
    const JOBS: usize = 200;
    let queue = unique("competing");
    let mut submitted = BTreeSet::new();
    for i in 0..JOBS {
        submitted.insert(submit(bus, &queue, &format!("job{i}")).await);
    }
    assert_eq!(submitted.len(), JOBS, "ids are unique");

    let queue = &queue;
    let taker = || async move {
        let mut taken = Vec::new();
        while let Some(job) = take(bus, queue, LONG_ACK_WAIT, Duration::from_millis(500)).await {
            assert_eq!(job.deliveries, 1, "job {} delivered twice", job.id);
            bus.ack(queue, job.id).await.expect("ack");
            taken.push(job.id);
            assert!(taken.len() <= JOBS, "more jobs taken than submitted");
        }
        taken
    };
    let (a, b, c, d) = tokio::join!(taker(), taker(), taker(), taker());
    let mut all: Vec<u64> = [a, b, c, d].concat();
    all.sort_unstable();
    let unique_taken: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(all.len(), unique_taken.len(), "a job was taken twice");
    assert_eq!(unique_taken, submitted, "every job is taken");
}

/// `queue_len` counts the jobs submitted and not acknowledged, taken ones included.
pub async fn queue_len_counts_unacknowledged_jobs(bus: &dyn Bus) {
    let queue = unique("len");
    assert_eq!(queue_len(bus, &queue).await, 0, "a queue never used");
    for i in 0..3 {
        submit(bus, &queue, &format!("job{i}")).await;
    }
    assert_eq!(queue_len(bus, &queue).await, 3);
    let job = take(bus, &queue, LONG_ACK_WAIT, PATIENCE)
        .await
        .expect("a job is waiting");
    assert_eq!(
        queue_len(bus, &queue).await,
        3,
        "a taken job counts until acknowledged"
    );
    bus.ack(&queue, job.id).await.expect("ack");
    // The acknowledgement may reach the count a moment after the ack returned.
    let deadline = Instant::now() + PATIENCE;
    while queue_len(bus, &queue).await != 2 {
        assert!(
            Instant::now() < deadline,
            "an acknowledged job still counted after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A request reaches the server and its reply comes back.
pub async fn request_reply_roundtrip(bus: &dyn Bus) {
    let subject = format!("aiex.suite.{}", unique("echo"));
    let mut requests = bus.serve(&subject).await.expect("serve");
    let server = tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            let mut reply = b"echo:".to_vec();
            reply.extend_from_slice(&request.payload);
            request.reply(Bytes::from(reply));
        }
    });
    for i in 0..3 {
        let reply = bus
            .request(&subject, Bytes::from(format!("ping{i}")), PATIENCE)
            .await
            .expect("a reply");
        assert_eq!(reply, Bytes::from(format!("echo:ping{i}")));
    }
    let big = Bytes::from(vec![7u8; 1 << 20]);
    let reply = bus
        .request(&subject, big.clone(), PATIENCE)
        .await
        .expect("a reply to a large request");
    assert_eq!(reply.len(), big.len() + 5);
    server.abort();
}

/// A request nobody serves fails at once with `NoResponders`.
pub async fn request_without_server_is_no_responders(bus: &dyn Bus) {
    let subject = format!("aiex.suite.{}", unique("nobody"));
    let err = bus
        .request(&subject, Bytes::from("hello"), PATIENCE)
        .await
        .expect_err("nobody serves the subject");
    assert!(
        matches!(&err, BusError::NoResponders { subject: s } if *s == subject),
        "{err:?}"
    );
}

/// A server that does not answer makes the request time out.
pub async fn request_times_out(bus: &dyn Bus) {
    let subject = format!("aiex.suite.{}", unique("silent"));
    let mut requests = bus.serve(&subject).await.expect("serve");
    // Receive and hold the requests without replying.
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Some(request) = requests.recv().await {
            held.push(request);
        }
    });
    let after = Duration::from_millis(300);
    let err = bus
        .request(&subject, Bytes::from("anyone?"), after)
        .await
        .expect_err("no reply");
    assert!(
        matches!(&err, BusError::Timeout { after: a, .. } if *a == after),
        "{err:?}"
    );
    server.abort();
}

/// A notification reaches every current subscriber, in the order it was sent; one sent
/// before anyone subscribed, or on another subject, is not delivered; a notification
/// nobody listens to is not an error; a dropped subscription stops receiving.
pub async fn notify_reaches_every_subscriber_in_order(bus: &dyn Bus) {
    use futures::StreamExt;
    let subject = format!("aiex.suite.{}", unique("notify"));
    let other = format!("aiex.suite.{}", unique("notify-other"));
    bus.notify(&subject, Bytes::from("before"))
        .await
        .expect("notify with no subscriber");
    let mut first = bus.subscribe(&subject).await.expect("subscribe");
    let mut second = bus.subscribe(&subject).await.expect("subscribe again");
    let mut elsewhere = bus.subscribe(&other).await.expect("subscribe elsewhere");
    for i in 0..100 {
        bus.notify(&subject, Bytes::from(format!("n{i}")))
            .await
            .expect("notify");
    }
    for subscription in [&mut first, &mut second] {
        for i in 0..100 {
            let got = tokio::time::timeout(PATIENCE, subscription.next())
                .await
                .expect("a notification in time")
                .expect("the subscription is open");
            assert_eq!(got, Bytes::from(format!("n{i}")));
        }
    }
    drop(second);
    bus.notify(&other, Bytes::from("other"))
        .await
        .expect("notify");
    let got = tokio::time::timeout(PATIENCE, elsewhere.next())
        .await
        .expect("a notification in time");
    assert_eq!(
        got,
        Some(Bytes::from("other")),
        "only its own subject's payloads"
    );
    bus.notify(&subject, Bytes::from("last"))
        .await
        .expect("notify");
    let got = tokio::time::timeout(PATIENCE, first.next())
        .await
        .expect("a notification in time");
    assert_eq!(got, Some(Bytes::from("last")));
    let err = bus
        .subscribe("bad subject")
        .await
        .err()
        .expect("a subject with a space is refused");
    assert!(matches!(err, BusError::InvalidArgument { .. }), "{err:?}");
}

/// What was acknowledged survives closing and reopening the bus: the log (with its
/// sequences, `last_seq` and de-duplication ids) and the unacknowledged jobs, including
/// one taken and not acknowledged; acknowledged jobs stay gone. `open` must return a bus
/// on the same storage each time; the first bus is dropped before the second is opened.
pub async fn durable_across_restart<F, Fut>(open: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Bus>>,
{
    let stream = unique("durable");
    let queue = unique("durable-jobs");

    let bus = open().await;
    let before = publish(
        &*bus,
        &stream,
        vec![
            put(0, "k1", "v1"),
            put(0, "k2", "v1"),
            put(1, "k3", "v1").with_msg_id("once"),
        ],
    )
    .await;
    let replaced = publish(&*bus, &stream, vec![put(0, "k1", "v2")]).await;
    let acked = submit(&*bus, &queue, "acked").await;
    let taken = submit(&*bus, &queue, "taken").await;
    let waiting = submit(&*bus, &queue, "waiting").await;
    let job = take(&*bus, &queue, LONG_ACK_WAIT, PATIENCE)
        .await
        .expect("first job");
    assert_eq!(job.id, acked);
    bus.ack(&queue, acked).await.expect("ack");
    // Short ack wait: an implementation whose in-flight state outlives the client (NATS)
    // redelivers it soon after the restart too.
    let job = take(&*bus, &queue, Duration::from_secs(1), PATIENCE)
        .await
        .expect("second job");
    assert_eq!(job.id, taken);
    drop(bus);

    let bus = open().await;
    let partition0 = read(&*bus, &stream, 0, 0, 100).await;
    assert_eq!(
        summary(&partition0.messages),
        vec![
            (before[1], "k2".to_string(), "v1".to_string()),
            (replaced[0], "k1".to_string(), "v2".to_string()),
        ],
        "the log survives the restart"
    );
    assert_eq!(partition0.last_seq, replaced[0]);
    assert_eq!(
        summary(&replay_all(&*bus, &stream, 1).await),
        vec![(before[2], "k3".to_string(), "v1".to_string())]
    );

    let duplicate = publish(&*bus, &stream, vec![put(1, "k3", "v2").with_msg_id("once")]).await;
    assert_eq!(
        duplicate,
        vec![before[2]],
        "de-duplication ids survive the restart"
    );
    let after = publish(&*bus, &stream, vec![put(0, "k4", "v1")]).await;
    assert!(
        after[0] > replaced[0],
        "sequences continue after the restart: {} after {}",
        after[0],
        replaced[0]
    );
    let later = submit(&*bus, &queue, "later").await;
    assert!(later > waiting, "job ids continue after the restart");

    let mut delivered = BTreeSet::new();
    while delivered.len() < 3 {
        let Some(job) = take(&*bus, &queue, LONG_ACK_WAIT, PATIENCE).await else {
            break;
        };
        assert_ne!(job.id, acked, "an acknowledged job came back");
        assert!(job.deliveries >= 1);
        let expected = if job.id == taken {
            "taken"
        } else if job.id == waiting {
            "waiting"
        } else {
            "later"
        };
        assert_eq!(job.payload, Bytes::from(expected));
        assert!(delivered.insert(job.id), "job {} delivered twice", job.id);
    }
    assert_eq!(
        delivered,
        BTreeSet::from([taken, waiting, later]),
        "every unacknowledged job is delivered after the restart"
    );
    for id in &delivered {
        bus.ack(&queue, *id).await.expect("ack");
    }
    let none = take(&*bus, &queue, LONG_ACK_WAIT, Duration::from_millis(300)).await;
    assert_eq!(none, None, "nothing else is pending");
}

/// A name no other check (and no earlier run on a shared server) uses.
fn unique(base: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000_000);
    format!(
        "{base}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn put(partition: u32, key: &str, payload: &str) -> Record {
    Record::put(
        partition,
        key,
        Headers::new(),
        Bytes::from(payload.to_string()),
    )
}

async fn publish(bus: &dyn Bus, stream: &str, records: Vec<Record>) -> Vec<u64> {
    let count = records.len();
    let seqs = bus.publish(stream, records).await.expect("publish");
    assert_eq!(seqs.len(), count, "one sequence per record");
    seqs
}

async fn read(
    bus: &dyn Bus,
    stream: &str,
    partition: u32,
    after: u64,
    limit: usize,
) -> super::Batch {
    bus.read(stream, partition, after, limit, false)
        .await
        .expect("read")
}

async fn replay_all(bus: &dyn Bus, stream: &str, partition: u32) -> Vec<LogMessage> {
    replay(bus, stream, partition, false).await.expect("replay")
}

async fn backlog(bus: &dyn Bus, stream: &str, after: &[u64]) -> Vec<u64> {
    bus.backlog(stream, after).await.expect("backlog")
}

async fn queue_len(bus: &dyn Bus, queue: &str) -> u64 {
    bus.queue_len(queue).await.expect("queue_len")
}

async fn submit(bus: &dyn Bus, queue: &str, payload: &str) -> u64 {
    bus.submit(queue, Bytes::from(payload.to_string()))
        .await
        .expect("submit")
}

async fn take(bus: &dyn Bus, queue: &str, ack_wait: Duration, timeout: Duration) -> Option<Job> {
    bus.take(queue, ack_wait, timeout).await.expect("take")
}

/// (seq, key, payload as text) of each message.
fn summary(messages: &[LogMessage]) -> Vec<(u64, String, String)> {
    messages
        .iter()
        .map(|m| {
            (
                m.seq,
                m.key.clone(),
                String::from_utf8_lossy(&m.payload).into_owned(),
            )
        })
        .collect()
}

fn assert_invalid(err: &BusError, expected: &str) {
    assert!(
        matches!(err, BusError::InvalidArgument { field, .. } if *field == expected),
        "expected an invalid `{expected}`, got {err:?}"
    );
}
