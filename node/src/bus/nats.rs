//! The [`Bus`] on NATS JetStream, for cluster mode: every Aiex process connects to the
//! same NATS servers and shares the log, the work queues and request/reply through them.
//!
//! # Log streams
//!
//! A log stream is a JetStream stream of the same name (`AIEX_FILES`, `AIEX_REPOS`),
//! created on first use: file storage, one message kept per subject
//! (`max_messages_per_subject: 1`), de-duplication of `Nats-Msg-Id` within
//! [`NatsBusOptions::dedup_window`], message deletion through the API denied (the log
//! keeps tombstones instead), no roll-ups.
//!
//! A record's subject is `<prefix>.<partition>.<key-id>`: the prefix is
//! [`subjects::log_subject_prefix`] (`aiex.files` for the file log, `aiex.log.<stream>`
//! otherwise), the key id is the first 32 hex digits of the blake3 hash of the key, so a
//! key of any bytes (`repo` NUL `path` for files) maps to one subject token and the newest
//! message of a key is the one JetStream keeps. The key itself travels in the
//! [`headers::KEY`] header, a delete as [`headers::OP`]`: delete` with an empty payload on
//! the key's subject, which replaces the key's previous message. Header values (the key
//! and the record's own headers) are percent-encoded where NATS could not carry them
//! as is: `%`, control characters (NUL, CR, LF, ...) and spaces at either end. Header
//! names starting with `Nats-` and the two above are reserved.
//!
//! `publish` sends every record without waiting, keeping at most
//! [`NatsBusOptions::max_publishes_in_flight`] acknowledgements outstanding, and returns
//! the sequences once every acknowledgement arrived: an acknowledged message is stored
//! by JetStream. A duplicate `msg_id` is acknowledged with the first message's sequence.
//! Unlike the in-process bus, a batch is **not atomic**: when publishing fails part-way,
//! the records acknowledged so far stay stored; retry the whole batch with the same
//! `msg_id`s and nothing is stored twice. Messages of the failed attempt that were still
//! buffered in the client reach the server after the reconnection, before the retry's,
//! so a retried batch can be stored out of record order (its sequences then do not
//! increase along the batch). That is harmless across keys; for a key with several
//! records in the batch, `publish` notices when its last record is not the newest and
//! publishes that record again.
//!
//! `read` creates an ephemeral consumer (memory storage, no acknowledgements) filtered on
//! `<prefix>.<partition>.>` starting at `after + 1`, pulls up to `limit` messages that are
//! there now (no waiting) and deletes the consumer. Every delivery says how many
//! messages of the partition follow it, so when the page reaches the end of the
//! partition its last sequence is the partition's newest. Otherwise (a full page, or an
//! empty one after `after`) the newest sequence comes from a second consumer delivering
//! the last message of the filter, headers only. `wait_for` asks for the newest sequence
//! and, when it is not past `after`, long-polls a consumer starting at `after + 1`: the
//! server answers as soon as a message is stored, so no publish is missed. `backlog`
//! reads the stream's last sequence and, for each partition whose watermark is behind
//! it, creates a consumer starting after the watermark (headers only, deleted at once):
//! its pending count is the partition's backlog.
//!
//! # Work queues
//!
//! Queue `q` is the stream `AIEX_Q_<q>` (work-queue retention, file storage) on the
//! subject `aiex.queue.<q>`, read through one durable pull consumer, `aiex-workers`,
//! with explicit acknowledgements. A job's id is its stream sequence. A consumer has one
//! ack wait, but `take` gives one per job: right after a job is delivered, `take` sends
//! a negative acknowledgement with a delay of `ack_wait` and waits for the server to
//! confirm it. The job stays pending (only its acknowledgement can remove it), and the
//! server delivers it again when the delay is over, with the delivery counted. That
//! state lives in the server, so it survives the client and a server restart. The
//! consumer's own ack wait, 30 s, only matters when a job is delivered but never
//! delayed: its process died in between, or its `take` was cancelled mid-pull. `ack` acknowledges the delivery it was taken with and waits for
//! the server's confirmation; jobs taken by another [`NatsBus`] (or one before a
//! restart) are unknown to this one. `queue_len` is the stream's message count: with
//! work-queue retention a job leaves the stream when it is acknowledged.
//!
//! # Request/reply
//!
//! Core NATS: `serve(s)` joins the queue group `aiex` on `aiex.rpc.<s>`, so requests are
//! spread over every process serving `s`; `request` fails at once with `NoResponders`
//! when no one serves, and a request dropped without a reply is answered with a header
//! that the requester turns into `NoResponders` too.
//!
//! # Limits
//!
//! A message (headers and payload) must fit the server's `max_payload` (1 MB unless
//! configured; 64 MB at most): larger payloads are refused with an `InvalidArgument`
//! that names the limit. A key moved to another partition leaves its old message in the
//! old partition (the trait says a key lives in one partition). Acknowledged means
//! stored by JetStream, not necessarily on disk: with the default `sync_interval`
//! JetStream batches its writes and syncs every two minutes, so a crash of a single
//! server can lose the last acknowledged messages. Run three replicas, or
//! `sync_interval: always` on a single server, where that matters.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use aiex_proto::subjects::{self, headers};
use async_nats::header::{NATS_EXPECTED_STREAM, NATS_MESSAGE_ID};
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::context::{
    CreateStreamErrorKind, GetStreamErrorKind, PublishAckFuture, PublishErrorKind,
};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{
    self as js_stream, ConsumerError, ConsumerErrorKind, DiscardPolicy, RetentionPolicy,
    StorageType,
};
use async_nats::jetstream::{self, AckKind, ErrorCode};
use async_nats::{HeaderMap, HeaderName, HeaderValue};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{
    Batch, Bus, BusError, BusResult, Headers, Job, LogMessage, Op, Record, Request, Requests,
    Subscription,
};
use super::{validate_name, validate_read, validate_subject};

/// Capacity of a served subject's request channel.
const REQUEST_CHANNEL_CAPACITY: usize = 64;
/// The durable consumer every process takes a queue's jobs through.
const WORKERS_CONSUMER: &str = "aiex-workers";
/// The queue group of served subjects.
const RPC_QUEUE_GROUP: &str = "aiex";
/// The workers consumer's own ack wait (see the module docs).
const QUEUE_BASE_ACK_WAIT: Duration = Duration::from_secs(30);
/// Ack waits and timeouts are capped here (JetStream takes nanoseconds in an `i64`).
const FAR_FUTURE: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 10);
/// The server deletes an ephemeral consumer idle this long (if its explicit delete was lost).
const EPHEMERAL_IDLE: Duration = Duration::from_secs(30);
/// The longest one pull request waits at the server; longer waits pull again, so a
/// request lost to a reconnection costs at most this.
const MAX_PULL_WAIT: Duration = Duration::from_secs(10);
/// The shortest pull expiry sent to the server.
const MIN_PULL_WAIT: Duration = Duration::from_millis(10);
/// Partitions `backlog` counts at once (one consumer each).
const BACKLOG_COUNTS_IN_FLIGHT: usize = 8;
/// The largest page one `read` pulls.
const MAX_READ_BATCH: usize = 10_000;
/// How long a taken job stays in memory after its ack wait passed, for a late `ack`.
const TAKEN_GRACE: Duration = Duration::from_secs(600);
/// Hex digits of a key id (128 bits of blake3).
const KEY_ID_HEX_DIGITS: usize = 32;
/// The value of [`headers::OP`] on a tombstone.
const OP_DELETE: &str = "delete";
/// Set on a reply that is not the server's answer: `dropped` (the server dropped the
/// request) or `error` (the reply could not be sent; the payload says why).
const RPC_STATUS_HEADER: &str = "Aiex-Rpc-Status";
const RPC_DROPPED: &str = "dropped";
const RPC_ERROR: &str = "error";

/// Tuning of a [`NatsBus`].
#[derive(Debug, Clone)]
pub struct NatsBusOptions {
    /// Replicas of the streams the bus creates: 1 on a single server, 3 in a cluster.
    /// Streams that already exist keep theirs.
    pub replicas: usize,
    /// How long a record's `msg_id` is remembered (the streams' duplicate window).
    pub dedup_window: Duration,
    /// Publish acknowledgements one `publish` call awaits at once.
    pub max_publishes_in_flight: usize,
    /// How long one exchange with the server may take: a JetStream API call, a publish
    /// acknowledgement, the next message of a page, the initial connection.
    pub request_timeout: Duration,
}

impl Default for NatsBusOptions {
    fn default() -> NatsBusOptions {
        NatsBusOptions {
            replicas: 1,
            dedup_window: Duration::from_secs(120),
            max_publishes_in_flight: 256,
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// The [`Bus`] on NATS JetStream.
pub struct NatsBus {
    client: async_nats::Client,
    js: jetstream::Context,
    /// The server URL without credentials, for messages.
    url: String,
    options: NatsBusOptions,
    /// Log streams known to exist with the right configuration.
    log_streams: Mutex<HashSet<String>>,
    /// The workers consumer of each queue known to exist.
    queues: Mutex<HashMap<String, PullConsumer>>,
    /// Jobs taken and not yet acknowledged, by (queue, id).
    taken: Mutex<HashMap<(String, u64), TakenJob>>,
    /// The consumer a partition's last page was read with, kept so that the next page
    /// (a read from where that one ended) continues with it instead of creating another.
    cursors: Mutex<HashMap<CursorKey, Cursor>>,
}

/// (stream, partition, headers only).
type CursorKey = (String, u32, bool);

/// An ephemeral consumer positioned after sequence `after` of its partition.
struct Cursor {
    consumer: PullConsumer,
    after: u64,
    /// The partition's newest sequence its last page reported.
    newest: u64,
    /// Last used; a cursor idle for [`CURSOR_IDLE`] is replaced (the server forgets
    /// ephemeral consumers after [`EPHEMERAL_IDLE`]).
    used: Instant,
}

/// Longest a read cursor is reused after its last page.
const CURSOR_IDLE: Duration = Duration::from_secs(10);
/// Most read cursors kept; beyond it the oldest are released.
const MAX_CURSORS: usize = 1024;

/// A record ready to publish.
#[derive(Clone)]
struct Encoded {
    subject: String,
    message: PublishMessage,
    msg_id: Option<String>,
}

struct TakenJob {
    /// The delivery, which acknowledges the job.
    delivery: jetstream::Message,
    /// When the job becomes visible again.
    deadline: Instant,
}

impl Drop for NatsBus {
    /// Deletes the kept read cursors (the server would after [`EPHEMERAL_IDLE`]).
    fn drop(&mut self) {
        let cursors: Vec<(CursorKey, Cursor)> = lock(&self.cursors).drain().collect();
        if cursors.is_empty() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        for ((stream, ..), cursor) in cursors {
            self.release(&stream, &cursor.consumer);
        }
    }
}

impl fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsBus")
            .field("url", &self.url)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl NatsBus {
    /// Connects to the NATS server(s) at `url` (`nats://host:4222`, comma-separated for
    /// several) with default options. The connection is re-established automatically
    /// when lost; failing to connect the first time is an error.
    pub async fn connect(url: &str) -> BusResult<NatsBus> {
        NatsBus::connect_with(url, NatsBusOptions::default()).await
    }

    /// Like [`NatsBus::connect`], with `options`.
    pub async fn connect_with(url: &str, options: NatsBusOptions) -> BusResult<NatsBus> {
        if options.max_publishes_in_flight == 0 {
            return Err(BusError::InvalidArgument {
                field: "max_publishes_in_flight",
                reason: "must be at least 1".to_string(),
            });
        }
        let shown = redact_url(url);
        let events_url = shown.clone();
        let client = async_nats::ConnectOptions::new()
            .name("aiex")
            .max_reconnects(None)
            .connection_timeout(options.request_timeout)
            .request_timeout(Some(options.request_timeout))
            .event_callback(move |event| {
                let url = events_url.clone();
                async move { log_connection_event(&url, event) }
            })
            .connect(url)
            .await
            .map_err(|e| {
                BusError::Unavailable(format!(
                    "cannot connect to NATS at {shown}: {}; start a NATS server with JetStream \
                     there (`nats-server -js`) or give the URL of a running one",
                    redact_text(&e.to_string(), url)
                ))
            })?;
        let js = jetstream::ContextBuilder::new()
            .timeout(options.request_timeout)
            .build(client.clone());
        js.query_account().await.map_err(|e| {
            BusError::Unavailable(format!(
                "the NATS server at {shown} answers but JetStream does not ({e}); enable \
                 JetStream on it (`nats-server -js`, or a `jetstream {{}}` block in its \
                 configuration)"
            ))
        })?;
        tracing::info!(url = %shown, "connected to nats");
        Ok(NatsBus {
            client,
            js,
            url: shown,
            options,
            log_streams: Mutex::default(),
            queues: Mutex::default(),
            taken: Mutex::default(),
            cursors: Mutex::default(),
        })
    }

    /// The server URL, without credentials.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Creates log stream `stream` unless it is known to exist; checks that an existing
    /// one keeps one message per subject.
    async fn ensure_log_stream(&self, stream: &str) -> BusResult<()> {
        if lock(&self.log_streams).contains(stream) {
            return Ok(());
        }
        let subject = format!("{}.>", subjects::log_subject_prefix(stream));
        let config = js_stream::Config {
            name: stream.to_string(),
            description: Some("Aiex log: the newest message of each key".to_string()),
            subjects: vec![subject.clone()],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::Old,
            max_messages_per_subject: 1,
            duplicate_window: self.options.dedup_window,
            num_replicas: self.options.replicas,
            deny_delete: true,
            allow_rollup: false,
            ..Default::default()
        };
        let info = self.ensure_stream(config).await?;
        if info.config.max_messages_per_subject != 1 || !info.config.subjects.contains(&subject) {
            return Err(BusError::Storage(format!(
                "the NATS stream `{stream}` exists with another configuration (subjects {:?}, \
                 max_msgs_per_subject {}); Aiex needs subjects [\"{subject}\"] and \
                 max_msgs_per_subject 1: fix it with `nats stream edit {stream}` or remove it",
                info.config.subjects, info.config.max_messages_per_subject
            )));
        }
        lock(&self.log_streams).insert(stream.to_string());
        Ok(())
    }

    /// The workers consumer of `queue`, creating its stream and the consumer if needed.
    async fn queue_consumer(&self, queue: &str) -> BusResult<PullConsumer> {
        if let Some(consumer) = lock(&self.queues).get(queue) {
            return Ok(consumer.clone());
        }
        let stream = queue_stream(queue);
        let config = js_stream::Config {
            name: stream.clone(),
            description: Some("Aiex work queue".to_string()),
            subjects: vec![queue_subject(queue)],
            storage: StorageType::File,
            retention: RetentionPolicy::WorkQueue,
            discard: DiscardPolicy::Old,
            duplicate_window: self.options.dedup_window,
            num_replicas: self.options.replicas,
            ..Default::default()
        };
        let info = self.ensure_stream(config).await?;
        if info.config.retention != RetentionPolicy::WorkQueue {
            return Err(BusError::Storage(format!(
                "the NATS stream `{stream}` of queue `{queue}` exists without work-queue \
                 retention; remove it (`nats stream rm {stream}`) so Aiex can create it"
            )));
        }
        let consumer = pull::Config {
            durable_name: Some(WORKERS_CONSUMER.to_string()),
            description: Some("Aiex workers".to_string()),
            ack_policy: AckPolicy::Explicit,
            ack_wait: QUEUE_BASE_ACK_WAIT,
            max_deliver: -1,
            ..Default::default()
        };
        let consumer = self
            .js
            .create_consumer_on_stream(consumer, &stream)
            .await
            .map_err(|e| {
                consumer_error(
                    format!("creating the consumer of queue `{queue}` on {}", self.url),
                    e,
                )
            })?;
        lock(&self.queues).insert(queue.to_string(), consumer.clone());
        Ok(consumer)
    }

    async fn ensure_stream(&self, config: js_stream::Config) -> BusResult<js_stream::Info> {
        let name = config.name.clone();
        let stream = self.js.get_or_create_stream(config).await.map_err(|e| {
            let what = format!("creating the NATS stream `{name}` on {}", self.url);
            match e.kind() {
                CreateStreamErrorKind::TimedOut | CreateStreamErrorKind::JetStreamUnavailable => {
                    BusError::Unavailable(format!("{what}: {e}"))
                }
                _ => BusError::Storage(format!("{what}: {e}")),
            }
        })?;
        Ok(stream.cached_info().clone())
    }

    /// An ephemeral consumer of `filter` on `stream` without acknowledgements, or `None`
    /// when the stream does not exist. Release it with [`NatsBus::release`].
    async fn ephemeral(
        &self,
        stream: &str,
        filter: &str,
        deliver_policy: DeliverPolicy,
        headers_only: bool,
    ) -> BusResult<Option<PullConsumer>> {
        let config = pull::Config {
            deliver_policy,
            ack_policy: AckPolicy::None,
            filter_subject: filter.to_string(),
            headers_only,
            inactive_threshold: EPHEMERAL_IDLE,
            memory_storage: true,
            num_replicas: 1,
            ..Default::default()
        };
        match self.js.create_consumer_on_stream(config, stream).await {
            Ok(consumer) => Ok(Some(consumer)),
            Err(e) if is_stream_not_found(e.kind()) => Ok(None),
            Err(e) => Err(consumer_error(
                format!("reading `{filter}` of stream `{stream}` on {}", self.url),
                e,
            )),
        }
    }

    /// A page read with a new consumer starting at `first`: the consumer, how many
    /// messages it had pending, and what it pulled. `None` when the stream is missing.
    #[allow(clippy::type_complexity)]
    async fn fresh_page(
        &self,
        stream: &str,
        partition: u32,
        filter: &str,
        first: u64,
        headers_only: bool,
        limit: usize,
    ) -> BusResult<Option<(PullConsumer, Option<u64>, Vec<jetstream::Message>)>> {
        let start = DeliverPolicy::ByStartSequence {
            start_sequence: first,
        };
        let Some(consumer) = self.ephemeral(stream, filter, start, headers_only).await? else {
            return Ok(None);
        };
        let pending = consumer.cached_info().num_pending;
        let pulled = if pending == 0 {
            Ok(Vec::new())
        } else {
            self.pull_now(&consumer, limit).await
        };
        match pulled {
            Ok(pulled) => Ok(Some((consumer, Some(pending), pulled))),
            Err(reason) => {
                self.release(stream, &consumer);
                Err(BusError::Unavailable(format!(
                    "reading partition {partition} of stream `{stream}` on {}: {reason}",
                    self.url
                )))
            }
        }
    }

    /// The cursor of `key` if it stands right after `after` and is fresh; a stale or
    /// misplaced one is released.
    /// Returns it with the newest sequence its last page reported.
    fn take_cursor(&self, key: &CursorKey, after: u64) -> Option<(PullConsumer, u64)> {
        let cursor = lock(&self.cursors).remove(key)?;
        if cursor.after == after && cursor.used.elapsed() < CURSOR_IDLE {
            Some((cursor.consumer, cursor.newest))
        } else {
            self.release(&key.0, &cursor.consumer);
            None
        }
    }

    /// Keeps `consumer`, positioned after `after`, for the next page of `key`.
    fn keep_cursor(&self, key: CursorKey, consumer: PullConsumer, after: u64, newest: u64) {
        let mut released = Vec::new();
        {
            let mut cursors = lock(&self.cursors);
            if cursors.len() >= MAX_CURSORS {
                let now = Instant::now();
                let stale: Vec<CursorKey> = cursors
                    .iter()
                    .filter(|(_, c)| now.duration_since(c.used) >= CURSOR_IDLE)
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in stale {
                    if let Some(c) = cursors.remove(&k) {
                        released.push((k.0, c.consumer));
                    }
                }
            }
            if cursors.len() < MAX_CURSORS {
                let used = Instant::now();
                if let Some(old) = cursors.insert(
                    key.clone(),
                    Cursor {
                        consumer,
                        after,
                        newest,
                        used,
                    },
                ) {
                    released.push((key.0, old.consumer));
                }
            } else {
                released.push((key.0, consumer));
            }
        }
        for (stream, consumer) in released {
            self.release(&stream, &consumer);
        }
    }

    /// Deletes an ephemeral consumer in the background (the server would delete it
    /// after [`EPHEMERAL_IDLE`] anyway).
    fn release(&self, stream: &str, consumer: &PullConsumer) {
        let js = self.js.clone();
        let stream = stream.to_string();
        let name = consumer.cached_info().name.clone();
        tokio::spawn(async move {
            if let Err(e) = js.delete_consumer_from_stream(&name, &stream).await {
                tracing::debug!(%stream, consumer = %name, error = %e, "could not delete an ephemeral consumer");
            }
        });
    }

    /// The messages `consumer` has now, up to `limit` (no waiting for new ones).
    async fn pull_now(
        &self,
        consumer: &PullConsumer,
        limit: usize,
    ) -> Result<Vec<jetstream::Message>, String> {
        let timeout = self.options.request_timeout;
        let mut batch =
            tokio::time::timeout(timeout, consumer.fetch().max_messages(limit).messages())
                .await
                .map_err(|_| format!("no answer within {timeout:?}"))?
                .map_err(|e| e.to_string())?;
        let mut messages = Vec::with_capacity(limit.min(1024));
        while messages.len() < limit {
            match tokio::time::timeout(timeout, batch.next()).await {
                Err(_) => return Err(format!("no message within {timeout:?}")),
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(e.to_string()),
                Ok(Some(Ok(message))) => messages.push(message),
            }
        }
        Ok(messages)
    }

    /// The first message `consumer` gets within `wait`, waiting for one to be stored.
    async fn pull_one(
        &self,
        consumer: &PullConsumer,
        wait: Duration,
    ) -> Result<Option<jetstream::Message>, String> {
        let wait = wait.clamp(MIN_PULL_WAIT, MAX_PULL_WAIT);
        let timeout = self.options.request_timeout;
        let mut batch = tokio::time::timeout(
            timeout,
            consumer.batch().max_messages(1).expires(wait).messages(),
        )
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))?
        .map_err(|e| e.to_string())?;
        // The server ends the pull at `wait`; the margin covers a pull lost on the way.
        match tokio::time::timeout(wait + timeout, batch.next()).await {
            Err(_) | Ok(None) => Ok(None),
            Ok(Some(Err(e))) => Err(e.to_string()),
            Ok(Some(Ok(message))) => Ok(Some(message)),
        }
    }

    /// The newest sequence of `filter` on `stream` (0 when it holds nothing).
    async fn newest(&self, stream: &str, filter: &str) -> BusResult<u64> {
        let Some(consumer) = self
            .ephemeral(stream, filter, DeliverPolicy::Last, true)
            .await?
        else {
            return Ok(0);
        };
        let newest = if consumer.cached_info().num_pending == 0 {
            Ok(0)
        } else {
            self.pull_now(&consumer, 1).await.and_then(|messages| {
                messages.first().map_or(Ok(0), |message| {
                    message
                        .info()
                        .map(|info| info.stream_sequence)
                        .map_err(|e| e.to_string())
                })
            })
        };
        self.release(stream, &consumer);
        newest.map_err(|reason| {
            BusError::Unavailable(format!(
                "reading the newest sequence of `{filter}` in stream `{stream}` on {}: {reason}",
                self.url
            ))
        })
    }

    /// The state of stream `stream` (message count, last sequence), or `None` when it
    /// does not exist. Never creates it.
    async fn stream_state(&self, stream: &str) -> BusResult<Option<js_stream::State>> {
        match self.js.get_stream(stream).await {
            Ok(found) => Ok(Some(found.cached_info().state.clone())),
            Err(e) => match e.kind() {
                GetStreamErrorKind::JetStream(js)
                    if js.error_code() == ErrorCode::STREAM_NOT_FOUND =>
                {
                    Ok(None)
                }
                _ => Err(BusError::Unavailable(format!(
                    "reading the state of stream `{stream}` on {}: {e}",
                    self.url
                ))),
            },
        }
    }

    /// How many messages of `partition` follow `after`: the pending count of a
    /// consumer starting right after it (created and deleted again).
    async fn count_after(&self, stream: &str, partition: u32, after: u64) -> BusResult<u64> {
        let filter = partition_filter(stream, partition);
        let start = DeliverPolicy::ByStartSequence {
            start_sequence: after + 1,
        };
        let Some(consumer) = self.ephemeral(stream, &filter, start, true).await? else {
            return Ok(0);
        };
        let pending = consumer.cached_info().num_pending;
        self.release(stream, &consumer);
        Ok(pending)
    }

    /// Checks sizes and encodes `record` for `stream`.
    fn encode_record(
        &self,
        stream: &str,
        prefix: &str,
        index: usize,
        record: Record,
    ) -> BusResult<Encoded> {
        if record.key.is_empty() {
            return Err(BusError::InvalidArgument {
                field: "key",
                reason: format!("record {index}: a record key must not be empty"),
            });
        }
        let mut map = HeaderMap::new();
        for (name, value) in &record.headers {
            let header = user_header_name(name).map_err(|reason| BusError::InvalidArgument {
                field: "headers",
                reason: format!("record {index}: {reason}"),
            })?;
            map.insert(header, header_value(value));
        }
        map.insert(headers::KEY, header_value(&record.key));
        if record.op == Op::Delete {
            map.insert(headers::OP, header_value(OP_DELETE));
        }
        if let Some(id) = &record.msg_id {
            if id.is_empty() {
                return Err(BusError::InvalidArgument {
                    field: "msg_id",
                    reason: format!("record {index}: a msg_id must not be empty"),
                });
            }
            map.insert(NATS_MESSAGE_ID, header_value(id));
        }
        map.insert(NATS_EXPECTED_STREAM, header_value(stream));
        self.check_size(&map, record.payload.len(), &format!("record {index}"))?;
        let subject = format!("{prefix}.{}.{}", record.partition, key_id(&record.key));
        let message = PublishMessage::build().payload(record.payload).headers(map);
        Ok(Encoded {
            subject,
            message,
            msg_id: record.msg_id,
        })
    }

    /// Refuses a message larger than the server's `max_payload`.
    fn check_size(&self, map: &HeaderMap, payload: usize, what: &str) -> BusResult<()> {
        let max = self.client.max_payload();
        let size = headers_wire_len(map) + payload;
        if size > max {
            return Err(BusError::InvalidArgument {
                field: "payload",
                reason: format!(
                    "{what} takes {size} bytes with its headers, more than the \
                     {max}-byte `max_payload` of the NATS server at {}; raise `max_payload` \
                     in the server configuration (64 MB at most) or send smaller records",
                    self.url
                ),
            });
        }
        Ok(())
    }

    /// The sequence of record `index`, the first `index` records being acknowledged.
    async fn await_ack(
        &self,
        stream: &str,
        index: usize,
        total: usize,
        ack: PublishAckFuture,
    ) -> BusResult<u64> {
        ack.await
            .map(|ack| ack.sequence)
            .map_err(|e| self.publish_error(stream, index, index, total, &e))
    }

    /// Publishing record `index` failed, `acked` records being acknowledged.
    fn publish_error(
        &self,
        stream: &str,
        index: usize,
        acked: usize,
        total: usize,
        error: &jetstream::context::PublishError,
    ) -> BusError {
        let stored = match acked {
            0 => format!("none of the {total} records is known to be stored"),
            _ => format!("the first {acked} of {total} records are stored"),
        };
        let stored = format!(
            "{stored}, later ones may be; retry the publish (records with a msg_id are not \
             stored twice)"
        );
        match error.kind() {
            PublishErrorKind::TimedOut | PublishErrorKind::BrokenPipe => {
                BusError::Unavailable(format!(
                    "publishing record {index} to stream `{stream}`: no acknowledgement from \
                     NATS at {} within {:?} ({error}); {stored}",
                    self.url, self.options.request_timeout
                ))
            }
            PublishErrorKind::StreamNotFound => {
                lock(&self.log_streams).remove(stream);
                BusError::Unavailable(format!(
                    "publishing record {index} to stream `{stream}`: the stream is gone from \
                     NATS at {} (deleted?); {stored}; the next publish creates it again",
                    self.url
                ))
            }
            PublishErrorKind::MaxPayloadExceeded => BusError::InvalidArgument {
                field: "payload",
                reason: format!(
                    "record {index} is larger than the `max_payload` of NATS at {}: {error}",
                    self.url
                ),
            },
            _ => BusError::Storage(format!(
                "NATS at {} refused record {index} on stream `{stream}`: {error}; {stored}",
                self.url
            )),
        }
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, stream: &str, records: Vec<Record>) -> BusResult<Vec<u64>> {
        validate_name("stream", stream)?;
        let prefix = subjects::log_subject_prefix(stream);
        let total = records.len();
        // Everything is checked before anything is sent.
        let mut outgoing = Vec::with_capacity(total);
        for (index, record) in records.into_iter().enumerate() {
            outgoing.push(self.encode_record(stream, &prefix, index, record)?);
        }
        if outgoing.is_empty() {
            return Ok(Vec::new());
        }
        self.ensure_log_stream(stream).await?;
        let subjects: Vec<String> = outgoing.iter().map(|e| e.subject.clone()).collect();
        let last_of_repeated_keys = last_of_repeated_keys(&outgoing);

        let window = self.options.max_publishes_in_flight;
        let mut seqs = Vec::with_capacity(total);
        let mut in_flight: VecDeque<PublishAckFuture> = VecDeque::with_capacity(window);
        for (index, encoded) in outgoing.into_iter().enumerate() {
            if in_flight.len() >= window
                && let Some(ack) = in_flight.pop_front()
            {
                let acked = seqs.len();
                seqs.push(self.await_ack(stream, acked, total, ack).await?);
            }
            let ack = self
                .js
                .send_publish(encoded.subject, encoded.message)
                .await
                .map_err(|e| self.publish_error(stream, index, seqs.len(), total, &e))?;
            in_flight.push_back(ack);
        }
        while let Some(ack) = in_flight.pop_front() {
            let acked = seqs.len();
            seqs.push(self.await_ack(stream, acked, total, ack).await?);
        }

        // A retry of a batch whose first attempt failed part-way may find some records
        // already stored (the first attempt's messages still reach the server after a
        // reconnection): those are acknowledged as duplicates with their old sequence,
        // while earlier records of the batch are stored now. For a key with several
        // records in the batch, its last record must still end up newest.
        let mut newest_of_key: HashMap<&str, u64> = HashMap::new();
        for (subject, seq) in subjects.iter().zip(&seqs) {
            let newest = newest_of_key.entry(subject.as_str()).or_default();
            *newest = (*newest).max(*seq);
        }
        for (index, encoded) in last_of_repeated_keys {
            let newest = newest_of_key
                .get(subjects[index].as_str())
                .copied()
                .unwrap_or_default();
            if seqs[index] >= newest {
                continue;
            }
            let Some(id) = &encoded.msg_id else {
                continue;
            };
            // A new id derived from the state seen, so retrying this call is safe too.
            let message = encoded.message.header(
                NATS_MESSAGE_ID,
                header_value(&format!("{id}/after/{newest}")),
            );
            tracing::warn!(
                %stream,
                record = index,
                "a retried batch was stored out of order; publishing the last record of its key again"
            );
            let ack = self
                .js
                .send_publish(encoded.subject, message)
                .await
                .map_err(|e| self.publish_error(stream, index, total, total, &e))?;
            seqs[index] = ack
                .await
                .map(|ack| ack.sequence)
                .map_err(|e| self.publish_error(stream, index, total, total, &e))?;
        }
        Ok(seqs)
    }

    async fn read(
        &self,
        stream: &str,
        partition: u32,
        after: u64,
        limit: usize,
        headers_only: bool,
    ) -> BusResult<Batch> {
        validate_read(stream, limit)?;
        let filter = partition_filter(stream, partition);
        let Some(first) = after.checked_add(1) else {
            let last_seq = self.newest(stream, &filter).await?;
            return Ok(Batch {
                messages: Vec::new(),
                last_seq,
            });
        };
        let key: CursorKey = (stream.to_string(), partition, headers_only);
        let limit = limit.min(MAX_READ_BATCH);
        // The next page of a sequential read continues with the last page's consumer.
        let reused = self.take_cursor(&key, after);
        let known_newest = reused.as_ref().map_or(0, |(_, newest)| *newest);
        let (consumer, pending, pulled) = match reused {
            Some((consumer, _)) => match self.pull_now(&consumer, limit).await {
                Ok(pulled) => (consumer, None, pulled),
                Err(reason) => {
                    // Gone with a reconnection or the server's idle timeout: start afresh.
                    tracing::debug!(%stream, partition, %reason, "a read cursor failed; recreating it");
                    self.release(stream, &consumer);
                    match self
                        .fresh_page(stream, partition, &filter, first, headers_only, limit)
                        .await?
                    {
                        Some(fresh) => fresh,
                        None => return Ok(Batch::default()),
                    }
                }
            },
            None => match self
                .fresh_page(stream, partition, &filter, first, headers_only, limit)
                .await?
            {
                Some(fresh) => fresh,
                None => return Ok(Batch::default()),
            },
        };
        let next_after = pulled
            .last()
            .and_then(|m| m.info().ok().map(|i| i.stream_sequence))
            .unwrap_or(after);
        let pending = pending.unwrap_or(u64::MAX);

        let mut messages = Vec::with_capacity(pulled.len());
        let mut following = pending;
        let decoded: BusResult<()> = pulled.iter().try_for_each(|delivery| {
            let (message, after_it) =
                decode_log_message(stream, partition, delivery, headers_only)?;
            following = after_it;
            messages.push(message);
            Ok(())
        });
        if let Err(e) = decoded {
            self.release(stream, &consumer);
            return Err(e);
        }
        let last_seq = match messages.last() {
            Some(last) if following == 0 => last.seq,
            None if pending == 0 && after == 0 => 0,
            // Mid-replay: the newest sequence found for an earlier page still lies ahead,
            // so the reader is told it has not caught up without asking again. (It may
            // be lower than the newest now; it is asked again once reached or passed.)
            Some(last) if known_newest > last.seq => known_newest,
            last => {
                let newest = self.newest(stream, &filter).await?;
                newest.max(last.map_or(0, |m| m.seq))
            }
        };
        self.keep_cursor(key, consumer, next_after, last_seq);
        Ok(Batch { messages, last_seq })
    }

    async fn backlog(&self, stream: &str, after: &[u64]) -> BusResult<Vec<u64>> {
        validate_name("stream", stream)?;
        // One call answers the common case, every partition caught up with the log's
        // head; only partitions behind it are counted, a few at a time.
        let Some(state) = self.stream_state(stream).await? else {
            return Ok(vec![0; after.len()]);
        };
        let head = state.last_sequence;
        let marks: Vec<(u32, u64)> = (0..).zip(after.iter().copied()).collect();
        futures::stream::iter(marks)
            .map(|(partition, mark)| async move {
                if mark >= head {
                    Ok(0)
                } else {
                    self.count_after(stream, partition, mark).await
                }
            })
            .buffered(BACKLOG_COUNTS_IN_FLIGHT)
            .collect::<Vec<BusResult<u64>>>()
            .await
            .into_iter()
            .collect()
    }

    async fn wait_for(
        &self,
        stream: &str,
        partition: u32,
        after: u64,
        timeout: Duration,
    ) -> BusResult<u64> {
        validate_name("stream", stream)?;
        // Created now, so the wait can start before the first publish.
        self.ensure_log_stream(stream).await?;
        let deadline = deadline_after(timeout);
        let filter = partition_filter(stream, partition);
        loop {
            let newest = self.newest(stream, &filter).await?;
            let now = Instant::now();
            if newest > after || now >= deadline {
                return Ok(newest);
            }
            let Some(first) = after.checked_add(1) else {
                tokio::time::sleep_until(deadline).await;
                continue;
            };
            let start = DeliverPolicy::ByStartSequence {
                start_sequence: first,
            };
            let Some(consumer) = self.ephemeral(stream, &filter, start, true).await? else {
                // The stream was deleted under us: nothing can arrive until it is back.
                lock(&self.log_streams).remove(stream);
                return Ok(0);
            };
            let woken = if consumer.cached_info().num_pending > 0 {
                Ok(None)
            } else {
                self.pull_one(&consumer, deadline - now).await
            };
            self.release(stream, &consumer);
            let woken = woken.map_err(|reason| {
                BusError::Unavailable(format!(
                    "waiting on partition {partition} of stream `{stream}` on {}: {reason}",
                    self.url
                ))
            })?;
            if let Some(delivery) = woken
                && let Ok(info) = delivery.info()
                && info.pending == 0
            {
                return Ok(info.stream_sequence);
            }
        }
    }

    async fn submit(&self, queue: &str, payload: Bytes) -> BusResult<u64> {
        validate_name("queue", queue)?;
        self.queue_consumer(queue).await?;
        let stream = queue_stream(queue);
        let mut map = HeaderMap::new();
        map.insert(NATS_EXPECTED_STREAM, header_value(&stream));
        self.check_size(&map, payload.len(), "the job")?;
        let message = PublishMessage::build().payload(payload).headers(map);
        let failed = |e: &jetstream::context::PublishError| {
            let what = format!("submitting to queue `{queue}` on {}", self.url);
            match e.kind() {
                PublishErrorKind::StreamNotFound => {
                    lock(&self.queues).remove(queue);
                    BusError::Unavailable(format!(
                        "{what}: its stream `{stream}` is gone (deleted?); the next submit creates it again"
                    ))
                }
                PublishErrorKind::TimedOut | PublishErrorKind::BrokenPipe => {
                    BusError::Unavailable(format!("{what}: {e}; the job may be queued or not"))
                }
                _ => BusError::Storage(format!("{what}: {e}")),
            }
        };
        let ack = self
            .js
            .send_publish(queue_subject(queue), message)
            .await
            .map_err(|e| failed(&e))?;
        ack.await.map(|ack| ack.sequence).map_err(|e| failed(&e))
    }

    async fn take(
        &self,
        queue: &str,
        ack_wait: Duration,
        timeout: Duration,
    ) -> BusResult<Option<Job>> {
        validate_name("queue", queue)?;
        let consumer = self.queue_consumer(queue).await?;
        let deadline = deadline_after(timeout);
        let delivery = loop {
            let now = Instant::now();
            let pulled = if timeout.is_zero() || now >= deadline {
                self.pull_now(&consumer, 1)
                    .await
                    .map(|messages| messages.into_iter().next())
            } else {
                self.pull_one(&consumer, deadline - now).await
            };
            let pulled = pulled.map_err(|reason| {
                // Created again by the next call, should the stream or consumer be gone.
                lock(&self.queues).remove(queue);
                BusError::Unavailable(format!(
                    "taking from queue `{queue}` on {}: {reason}",
                    self.url
                ))
            })?;
            match pulled {
                Some(delivery) => break delivery,
                None if Instant::now() >= deadline => return Ok(None),
                None => {}
            }
        };
        let info = delivery.info().map_err(|e| {
            BusError::Storage(format!(
                "a job of queue `{queue}` came without JetStream metadata: {e}"
            ))
        })?;
        let id = info.stream_sequence;
        let deliveries = u32::try_from(info.delivered.max(1)).unwrap_or(u32::MAX);
        // Invisible for `ack_wait` from now on, until acknowledged (see the module docs).
        let ack_wait = ack_wait.min(FAR_FUTURE);
        delivery
            .double_ack_with(AckKind::Nak(Some(ack_wait)))
            .await
            .map_err(|e| {
                BusError::Unavailable(format!(
                    "taking job {id} from queue `{queue}` on {}: the server did not confirm \
                     its ack wait ({e}); it is delivered again within {QUEUE_BASE_ACK_WAIT:?}",
                    self.url
                ))
            })?;
        let job = Job {
            id,
            payload: delivery.payload.clone(),
            deliveries,
        };
        let now = Instant::now();
        let mut taken = lock(&self.taken);
        taken.retain(|_, job| job.deadline + TAKEN_GRACE > now);
        taken.insert(
            (queue.to_string(), id),
            TakenJob {
                delivery,
                deadline: now + ack_wait,
            },
        );
        Ok(Some(job))
    }

    async fn ack(&self, queue: &str, id: u64) -> BusResult<()> {
        validate_name("queue", queue)?;
        let key = (queue.to_string(), id);
        let Some(job) = lock(&self.taken).remove(&key) else {
            return Err(BusError::UnknownJob {
                queue: queue.to_string(),
                id,
            });
        };
        if let Err(e) = job.delivery.double_ack().await {
            // Kept, so the acknowledgement can be retried.
            lock(&self.taken).entry(key).or_insert(job);
            return Err(BusError::Unavailable(format!(
                "acknowledging job {id} of queue `{queue}` on {}: {e}; retry the ack",
                self.url
            )));
        }
        Ok(())
    }

    async fn queue_len(&self, queue: &str) -> BusResult<u64> {
        validate_name("queue", queue)?;
        // Work-queue retention: a job leaves the stream when it is acknowledged.
        let state = self.stream_state(&queue_stream(queue)).await?;
        Ok(state.map_or(0, |s| s.messages))
    }

    async fn serve(&self, subject: &str) -> BusResult<Requests> {
        validate_subject(subject)?;
        let mut subscriber = self
            .client
            .queue_subscribe(rpc_subject(subject), RPC_QUEUE_GROUP.to_string())
            .await
            .map_err(|e| {
                BusError::Unavailable(format!("serving `{subject}` on {}: {e}", self.url))
            })?;
        let (tx, rx) = mpsc::channel(REQUEST_CHANNEL_CAPACITY);
        let client = self.client.clone();
        let subject = subject.to_string();
        tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    message = subscriber.next() => match message {
                        Some(message) => message,
                        None => break,
                    },
                    () = tx.closed() => break,
                };
                let Some(reply_to) = message.reply else {
                    tracing::warn!(%subject, "ignored a request without a reply subject");
                    continue;
                };
                let (request, answer) = Request::new(message.payload);
                if tx.send(request).await.is_err() {
                    break;
                }
                let client = client.clone();
                let subject = subject.clone();
                tokio::spawn(async move {
                    let sent = match answer.await {
                        Ok(reply) => match client.publish(reply_to.clone(), reply).await {
                            Ok(()) => Ok(()),
                            Err(e) => {
                                tracing::warn!(%subject, error = %e, "could not send a reply");
                                let reason = format!(
                                    "the server of `{subject}` could not send its reply: {e}"
                                );
                                client
                                    .publish_with_headers(
                                        reply_to,
                                        rpc_status(RPC_ERROR),
                                        Bytes::from(reason),
                                    )
                                    .await
                            }
                        },
                        Err(_) => {
                            client
                                .publish_with_headers(
                                    reply_to,
                                    rpc_status(RPC_DROPPED),
                                    Bytes::new(),
                                )
                                .await
                        }
                    };
                    if let Err(e) = sent {
                        tracing::warn!(%subject, error = %e, "could not answer a request");
                    }
                });
            }
            if let Err(e) = subscriber.unsubscribe().await {
                tracing::debug!(%subject, error = %e, "could not unsubscribe");
            }
        });
        Ok(rx)
    }

    async fn request(&self, subject: &str, payload: Bytes, timeout: Duration) -> BusResult<Bytes> {
        validate_subject(subject)?;
        let timed_out = || BusError::Timeout {
            what: format!("request on `{subject}`"),
            after: timeout,
        };
        let request = async_nats::Request::new()
            .payload(payload)
            .timeout(Some(timeout));
        let reply = tokio::time::timeout(
            timeout,
            self.client.send_request(rpc_subject(subject), request),
        )
        .await
        .map_err(|_| timed_out())?;
        let reply = reply.map_err(|e| match e.kind() {
            async_nats::RequestErrorKind::NoResponders => BusError::NoResponders {
                subject: subject.to_string(),
            },
            async_nats::RequestErrorKind::TimedOut => timed_out(),
            async_nats::RequestErrorKind::MaxPayloadExceeded => BusError::InvalidArgument {
                field: "payload",
                reason: format!(
                    "the request on `{subject}` is larger than the `max_payload` of NATS at {}: {e}",
                    self.url
                ),
            },
            async_nats::RequestErrorKind::InvalidSubject => BusError::InvalidArgument {
                field: "subject",
                reason: format!("`{subject}`: {e}"),
            },
            async_nats::RequestErrorKind::Other => {
                BusError::Unavailable(format!("request on `{subject}` to {}: {e}", self.url))
            }
        })?;
        let status = reply
            .headers
            .as_ref()
            .and_then(|h| h.get(RPC_STATUS_HEADER))
            .map(|v| v.as_str().to_string());
        match status.as_deref() {
            None => Ok(reply.payload),
            Some(RPC_DROPPED) => Err(BusError::NoResponders {
                subject: subject.to_string(),
            }),
            Some(_) => Err(BusError::Unavailable(
                String::from_utf8_lossy(&reply.payload).into_owned(),
            )),
        }
    }

    async fn notify(&self, subject: &str, payload: Bytes) -> BusResult<()> {
        validate_subject(subject)?;
        self.client
            .publish(subject.to_string(), payload)
            .await
            .map_err(|e| {
                BusError::Unavailable(format!("notifying `{subject}` on {}: {e}", self.url))
            })
    }

    async fn subscribe(&self, subject: &str) -> BusResult<Subscription> {
        validate_subject(subject)?;
        let unavailable = |e: String| {
            BusError::Unavailable(format!("subscribing to `{subject}` on {}: {e}", self.url))
        };
        let subscriber = self
            .client
            .subscribe(subject.to_string())
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        // The server has the subscription once the flush returns, so a notification sent
        // after this returns (from any connection) reaches it.
        self.client
            .flush()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        Ok(Box::pin(subscriber.map(|message| message.payload)))
    }
}

/// Reads a delivery of `stream` as a log message, with the number of messages of the
/// partition after it.
fn decode_log_message(
    stream: &str,
    partition: u32,
    delivery: &jetstream::Message,
    headers_only: bool,
) -> BusResult<(LogMessage, u64)> {
    let bad = |reason: String| {
        BusError::Storage(format!(
            "message on `{subject}` in stream `{stream}` was not written by Aiex: {reason}; \
             remove it with `nats stream purge {stream} --subject {subject}`",
            subject = delivery.subject
        ))
    };
    let info = delivery
        .info()
        .map_err(|e| bad(format!("no JetStream metadata ({e})")))?;
    let seq = info.stream_sequence;
    let mut key = None;
    let mut op = Op::Put;
    let mut user_headers = Headers::new();
    if let Some(map) = &delivery.headers {
        for (name, values) in map.iter() {
            let name: &str = name.as_ref();
            let Some(value) = values.last() else {
                continue;
            };
            if name == headers::KEY {
                key = Some(unescape(value.as_str()));
            } else if name == headers::OP {
                op = match value.as_str() {
                    OP_DELETE => Op::Delete,
                    "put" => Op::Put,
                    other => return Err(bad(format!("message {seq} has the op `{other}`"))),
                };
            } else if !is_reserved_header(name) {
                user_headers.insert(name.to_string(), unescape(value.as_str()));
            }
        }
    }
    let key = key.ok_or_else(|| bad(format!("message {seq} has no {} header", headers::KEY)))?;
    let payload = if headers_only {
        Bytes::new()
    } else {
        delivery.payload.clone()
    };
    Ok((
        LogMessage {
            seq,
            partition,
            key,
            op,
            headers: user_headers,
            payload,
        },
        info.pending,
    ))
}

fn log_connection_event(url: &str, event: async_nats::Event) {
    match event {
        async_nats::Event::Connected => tracing::info!(%url, "nats connection established"),
        async_nats::Event::Disconnected => {
            tracing::warn!(%url, "lost the nats connection; reconnecting")
        }
        other => tracing::warn!(%url, event = %other, "nats connection event"),
    }
}

/// `<prefix>.<partition>.>`: every key of one partition.
fn partition_filter(stream: &str, partition: u32) -> String {
    format!("{}.{partition}.>", subjects::log_subject_prefix(stream))
}

fn queue_stream(queue: &str) -> String {
    format!("{}{queue}", subjects::QUEUE_STREAM_PREFIX)
}

fn queue_subject(queue: &str) -> String {
    format!("{}.{queue}", subjects::QUEUE_SUBJECT_PREFIX)
}

fn rpc_subject(subject: &str) -> String {
    format!("{}.{subject}", subjects::RPC_SUBJECT_PREFIX)
}

fn rpc_status(status: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert(RPC_STATUS_HEADER, header_value(status));
    map
}

/// For each key with several records in a batch (that can be reordered, see `publish`):
/// the index of its last record and a copy of it.
fn last_of_repeated_keys(outgoing: &[Encoded]) -> HashMap<usize, Encoded> {
    let mut last: HashMap<&str, (usize, bool)> = HashMap::new();
    for (index, encoded) in outgoing.iter().enumerate() {
        last.entry(encoded.subject.as_str())
            .and_modify(|(last, repeated)| {
                *last = index;
                *repeated = true;
            })
            .or_insert((index, false));
    }
    last.into_values()
        .filter(|(index, repeated)| *repeated && outgoing[*index].msg_id.is_some())
        .map(|(index, _)| (index, outgoing[index].clone()))
        .collect()
}

/// The subject token of a key: 128 bits of its blake3 hash, hex.
fn key_id(key: &str) -> String {
    let mut hex = blake3::hash(key.as_bytes()).to_hex().to_string();
    hex.truncate(KEY_ID_HEX_DIGITS);
    hex
}

/// Names the bus reserves: NATS's own headers and the key and op.
fn is_reserved_header(name: &str) -> bool {
    name.get(..5)
        .is_some_and(|head| head.eq_ignore_ascii_case("nats-"))
        || name.eq_ignore_ascii_case(headers::KEY)
        || name.eq_ignore_ascii_case(headers::OP)
}

fn user_header_name(name: &str) -> Result<HeaderName, String> {
    if name.is_empty() {
        return Err("a header name must not be empty".to_string());
    }
    if is_reserved_header(name) {
        return Err(format!(
            "the header name `{name}` is reserved (`Nats-*`, `{}`, `{}`)",
            headers::KEY,
            headers::OP
        ));
    }
    HeaderName::from_str(name).map_err(|_| {
        format!("the header name {name:?} has a character NATS refuses (use visible ASCII, no `:`)")
    })
}

/// A header value NATS carries as is (see [`escape`]).
fn header_value(value: &str) -> HeaderValue {
    // `escape` leaves no CR or LF, the only characters `HeaderValue` refuses.
    HeaderValue::from_str(&escape(value)).unwrap_or_default()
}

/// Percent-encodes (as UTF-8 bytes) `%`, control characters and whitespace at either
/// end (NATS trims that).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.char_indices() {
        let at_edge = i == 0 || i + c.len_utf8() == value.len();
        if c == '%' || c.is_control() || (at_edge && c.is_whitespace()) {
            let mut utf8 = [0; 4];
            for byte in c.encode_utf8(&mut utf8).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reverses [`escape`]; a `%` not followed by two hex digits is kept as is.
fn unescape(value: &str) -> String {
    if !value.contains('%') {
        return value.to_string();
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = value.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The size of a header block on the wire, as the server counts it against `max_payload`.
fn headers_wire_len(map: &HeaderMap) -> usize {
    let mut len = b"NATS/1.0\r\n".len() + b"\r\n".len();
    for (name, values) in map.iter() {
        let name: &str = name.as_ref();
        for value in values {
            len += name.len() + b": ".len() + value.as_str().len() + b"\r\n".len();
        }
    }
    len
}

fn is_stream_not_found(kind: ConsumerErrorKind) -> bool {
    matches!(kind, ConsumerErrorKind::JetStream(e) if e.error_code() == ErrorCode::STREAM_NOT_FOUND)
}

fn consumer_error(what: String, error: ConsumerError) -> BusError {
    match error.kind() {
        ConsumerErrorKind::TimedOut | ConsumerErrorKind::Request => {
            BusError::Unavailable(format!("{what}: {error}"))
        }
        _ => BusError::Storage(format!("{what}: {error}")),
    }
}

/// Where the credentials (`user:password` or a token, before `@`) of one server URL are.
fn credentials_range(server: &str) -> Option<std::ops::Range<usize>> {
    let start = server.find("://").map_or(0, |i| i + 3);
    let end = server[start..]
        .find('/')
        .map_or(server.len(), |i| start + i);
    server[start..end]
        .rfind('@')
        .filter(|at| *at > 0)
        .map(|at| start..start + at)
}

/// `url` (servers separated by commas) with credentials replaced by `***`.
fn redact_url(url: &str) -> String {
    url.split(',')
        .map(|server| {
            let server = server.trim();
            match credentials_range(server) {
                Some(range) => format!("{}***{}", &server[..range.start], &server[range.end..]),
                None => server.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `text` with the credentials of `url` replaced by `***`.
fn redact_text(text: &str, url: &str) -> String {
    url.split(',')
        .map(str::trim)
        .filter_map(|server| credentials_range(server).map(|range| &server[range]))
        .fold(text.to_string(), |text, credentials| {
            text.replace(credentials, "***")
        })
}

fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout.min(FAR_FUTURE)).unwrap_or(now)
}

/// Locks `mutex`, recovering the data if a holder panicked (every holder leaves it
/// consistent).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
