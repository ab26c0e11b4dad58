//! The in-process bus of the embedded mode: one [redb] database file under the data
//! directory holds every log stream and work queue, so a single Aiex process needs no
//! NATS server.
//!
//! # Layout
//!
//! Fixed tables:
//!
//! | table               | key                          | value                        |
//! |---------------------|------------------------------|------------------------------|
//! | `log_streams`       | stream                       | last sequence given out      |
//! | `log_dedup`         | (stream, msg id)             | (sequence, published at ms)  |
//! | `log_dedup_by_time` | (published at ms, stream, id)| () (finds expired ids)       |
//! | `queue_last_ids`    | queue                        | last job id given out        |
//!
//! Tables created on first use, per stream and per queue (names are restricted to
//! `[A-Za-z0-9_-]`, so they cannot collide):
//!
//! | table                      | key              | value                          |
//! |----------------------------|------------------|--------------------------------|
//! | `log:{stream}:messages`    | (partition, seq) | encoded message (see below)    |
//! | `log:{stream}:payloads`    | (partition, seq) | the message's payload          |
//! | `log:{stream}:keys`        | key              | (partition, seq) of its newest |
//! | `queue:{queue}:jobs`       | job id           | payload                        |
//! | `queue:{queue}:deliveries` | job id           | deliveries so far              |
//!
//! Reading a partition after a sequence is a range scan of `log:{stream}:messages`; the
//! partition's newest sequence is the last key of its range. A message is stored as a
//! version byte, the op, the length-prefixed key and headers; its payload (the raw
//! bytes, never JSON) sits in `log:{stream}:payloads` under the same key, so a
//! `headers_only` read (a gateway rebuilding its manifests at start) never loads file
//! contents. (Logs written before this split carry the payload after the headers in the
//! message value; reads handle both.)
//!
//! # Durability
//!
//! `publish`, `submit` and `ack` return after a redb commit with the default durability,
//! which syncs the file: what they acknowledged survives a crash. A publish is one
//! transaction, so a batch is stored entirely or not at all. Sequences and job ids are
//! persisted with the data and never reused. De-duplication ids are persisted with their
//! publication time, so a retried publish is recognised after a restart too.
//!
//! Which jobs are in flight (taken, not acknowledged, ack deadline not passed) is kept in
//! memory: after a restart every unacknowledged job is delivered again. Delivery counts
//! are written without syncing and become durable with the next synced commit, so after
//! a crash a count may be lower than the real number of deliveries.
//!
//! Request/reply and notifications (a tokio broadcast channel per subject) are in
//! memory only, as in NATS.
//!
//! All redb work runs on tokio's blocking pool. The file is locked while a [`LocalBus`]
//! is alive (redb refuses a second open, also from another process) and released when
//! the bus and any storage call still running on its behalf are gone.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use redb::{
    Database, DatabaseError, Durability, ReadOnlyTable, ReadTransaction, ReadableDatabase,
    ReadableTable, ReadableTableMetadata, TableDefinition, TableError,
};
use tokio::sync::{Notify, broadcast, mpsc};

use super::{
    Batch, Bus, BusError, BusResult, Headers, Job, LogMessage, Op, Record, Request, Requests,
    Subscription,
};
use super::{validate_name, validate_read, validate_subject};

/// stream → last sequence given out.
/// redb's page cache.
const CACHE_BYTES: usize = 64 << 20;

const STREAMS: TableDefinition<&str, u64> = TableDefinition::new("log_streams");
/// (stream, msg id) → (sequence, published at, ms since the epoch).
const DEDUP: TableDefinition<(&str, &str), (u64, u64)> = TableDefinition::new("log_dedup");
/// (published at, stream, msg id): finds expired de-duplication ids without a scan.
const DEDUP_BY_TIME: TableDefinition<(u64, &str, &str), ()> =
    TableDefinition::new("log_dedup_by_time");
/// queue → last job id given out.
const QUEUES: TableDefinition<&str, u64> = TableDefinition::new("queue_last_ids");

type MessagesTable<'a> = TableDefinition<'a, (u32, u64), &'static [u8]>;
type KeysTable<'a> = TableDefinition<'a, &'static str, (u32, u64)>;
type ReadOnlyMessages = ReadOnlyTable<(u32, u64), &'static [u8]>;
type JobsTable<'a> = TableDefinition<'a, u64, &'static [u8]>;
type DeliveriesTable<'a> = TableDefinition<'a, u64, u32>;

/// Capacity of a served subject's request channel.
const REQUEST_CHANNEL_CAPACITY: usize = 64;
/// Notifications a subscriber may fall behind by before it misses some.
const NOTIFY_CHANNEL_CAPACITY: usize = 4096;

/// Tuning of a [`LocalBus`].
#[derive(Debug, Clone)]
pub struct LocalBusOptions {
    /// How long a record's `msg_id` is remembered: publishing the same id again within
    /// this window stores nothing and returns the first sequence.
    pub dedup_window: Duration,
}

impl Default for LocalBusOptions {
    fn default() -> LocalBusOptions {
        LocalBusOptions {
            dedup_window: Duration::from_secs(120),
        }
    }
}

/// The in-process [`Bus`], persisted in one redb file.
pub struct LocalBus {
    db: Arc<Database>,
    path: PathBuf,
    options: LocalBusOptions,
    /// Woken after a publish touching (stream, partition); created by the first waiter.
    partitions: Mutex<HashMap<(String, u32), Arc<Notify>>>,
    queues: Mutex<HashMap<String, Arc<QueueState>>>,
    servers: Mutex<HashMap<String, mpsc::Sender<Request>>>,
    /// Subscribed subjects.
    topics: Mutex<HashMap<String, broadcast::Sender<Bytes>>>,
}

/// What a queue keeps in memory.
#[derive(Default)]
struct QueueState {
    /// Ack deadlines of the jobs taken and not acknowledged, by id. Held while a take or
    /// an ack reads and writes storage, so the two never race on the same job.
    in_flight: Mutex<HashMap<u64, Instant>>,
    /// Woken after a submit.
    submitted: Notify,
}

/// The result of one attempt to take a job.
enum TakeAttempt {
    Taken(Job),
    /// Nothing available; the earliest ack deadline of a job in flight, if any.
    Empty(Option<Instant>),
}

impl fmt::Debug for LocalBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalBus")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl LocalBus {
    /// Opens (creating it and its parent directories if needed) the bus database at
    /// `path` with default options. Blocks on file I/O: call it at startup or from
    /// `spawn_blocking`.
    pub fn open(path: &Path) -> BusResult<LocalBus> {
        LocalBus::open_with(path, LocalBusOptions::default())
    }

    /// Like [`LocalBus::open`], with `options`.
    pub fn open_with(path: &Path, options: LocalBusOptions) -> BusResult<LocalBus> {
        let dir = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| {
            BusError::Storage(format!(
                "cannot create the directory {} for the bus database: {e}",
                dir.display()
            ))
        })?;
        // A bounded page cache: the log holds file contents, and the default (1 GiB) would
        // let a replay of a large log keep most of it resident.
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| match e {
                DatabaseError::DatabaseAlreadyOpen => BusError::Storage(format!(
                    "another Aiex process is using the data directory {} (the bus database {} \
                 is locked); stop that process or choose another data directory",
                    dir.display(),
                    path.display()
                )),
                other => BusError::Storage(format!(
                    "cannot open the bus database {}: {other}",
                    path.display()
                )),
            })?;
        // Create the fixed tables, so read transactions can always open them.
        let init = || -> Result<(), redb::Error> {
            let txn = db.begin_write()?;
            txn.open_table(STREAMS)?;
            txn.open_table(DEDUP)?;
            txn.open_table(DEDUP_BY_TIME)?;
            txn.open_table(QUEUES)?;
            txn.commit()?;
            Ok(())
        };
        init().map_err(|e| {
            BusError::Storage(format!(
                "cannot initialise the bus database {}: {e}",
                path.display()
            ))
        })?;
        Ok(LocalBus {
            db: Arc::new(db),
            path: path.to_path_buf(),
            options,
            partitions: Mutex::default(),
            queues: Mutex::default(),
            servers: Mutex::default(),
            topics: Mutex::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on the blocking pool with the database.
    async fn blocking<T, W>(&self, work: W) -> BusResult<T>
    where
        T: Send + 'static,
        W: FnOnce(&Database) -> BusResult<T> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(|e| BusError::Storage(format!("bus storage task failed: {e}")))?
    }

    fn queue_state(&self, queue: &str) -> Arc<QueueState> {
        let mut queues = lock(&self.queues);
        Arc::clone(queues.entry(queue.to_string()).or_default())
    }

    fn partition_notify(&self, stream: &str, partition: u32) -> Arc<Notify> {
        let mut partitions = lock(&self.partitions);
        Arc::clone(
            partitions
                .entry((stream.to_string(), partition))
                .or_default(),
        )
    }

    async fn newest_seq(&self, stream: &str, partition: u32) -> BusResult<u64> {
        let stream = stream.to_string();
        self.blocking(move |db| {
            let txn = db
                .begin_read()
                .context(|| format!("reading stream `{stream}`"))?;
            let Some(messages) = open_messages(&txn, &stream)? else {
                return Ok(0);
            };
            newest_in_partition(&messages, partition)
                .context(|| format!("reading stream `{stream}`"))
        })
        .await
    }

    async fn try_take(
        &self,
        queue: &str,
        state: &Arc<QueueState>,
        ack_wait: Duration,
    ) -> BusResult<TakeAttempt> {
        let queue = queue.to_string();
        let state = Arc::clone(state);
        self.blocking(move |db| take_blocking(db, &queue, &state, ack_wait))
            .await
    }
}

#[async_trait]
impl Bus for LocalBus {
    async fn publish(&self, stream: &str, records: Vec<Record>) -> BusResult<Vec<u64>> {
        validate_name("stream", stream)?;
        for record in &records {
            if record.key.is_empty() {
                return Err(BusError::InvalidArgument {
                    field: "key",
                    reason: "a record key must not be empty".to_string(),
                });
            }
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let window = self.options.dedup_window;
        let name = stream.to_string();
        let (seqs, touched) = self
            .blocking(move |db| publish_blocking(db, &name, &records, window))
            .await?;
        let partitions = lock(&self.partitions);
        for partition in touched {
            if let Some(notify) = partitions.get(&(stream.to_string(), partition)) {
                notify.notify_waiters();
            }
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
        let stream = stream.to_string();
        self.blocking(move |db| {
            let what = || format!("reading partition {partition} of stream `{stream}`");
            let txn = db.begin_read().context(what)?;
            let Some(messages) = open_messages(&txn, &stream)? else {
                return Ok(Batch::default());
            };
            let last_seq = newest_in_partition(&messages, partition).context(what)?;
            let mut batch = Batch {
                messages: Vec::with_capacity(limit.min(1024)),
                last_seq,
            };
            let Some(first) = after.checked_add(1) else {
                return Ok(batch);
            };
            let payloads = if headers_only {
                None
            } else {
                open_payloads(&txn, &stream)?
            };
            let range = messages
                .range((partition, first)..=(partition, u64::MAX))
                .context(what)?;
            for entry in range.take(limit) {
                let (key, value) = entry.context(what)?;
                let (partition, seq) = key.value();
                let mut message = decode_message(seq, partition, value.value(), !headers_only)
                    .map_err(|reason| {
                        BusError::Storage(format!("{}: message {seq} is corrupt: {reason}", what()))
                    })?;
                if message.payload.is_empty()
                    && let Some(payloads) = &payloads
                    && let Some(payload) = payloads.get((partition, seq)).context(what)?
                {
                    message.payload = Bytes::copy_from_slice(payload.value());
                }
                batch.messages.push(message);
            }
            Ok(batch)
        })
        .await
    }

    async fn wait_for(
        &self,
        stream: &str,
        partition: u32,
        after: u64,
        timeout: Duration,
    ) -> BusResult<u64> {
        validate_name("stream", stream)?;
        let deadline = tokio_deadline(timeout);
        let notify = self.partition_notify(stream, partition);
        loop {
            let published = notify.notified();
            tokio::pin!(published);
            // Registered before reading, so a publish in between is not missed.
            published.as_mut().enable();
            let newest = self.newest_seq(stream, partition).await?;
            if newest > after || tokio::time::Instant::now() >= deadline {
                return Ok(newest);
            }
            tokio::select! {
                _ = &mut published => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    async fn backlog(&self, stream: &str, after: &[u64]) -> BusResult<Vec<u64>> {
        validate_name("stream", stream)?;
        let stream = stream.to_string();
        let after = after.to_vec();
        self.blocking(move |db| {
            let what = || format!("counting the backlog of stream `{stream}`");
            let txn = db.begin_read().context(what)?;
            let Some(messages) = open_messages(&txn, &stream)? else {
                return Ok(vec![0; after.len()]);
            };
            let mut counts = Vec::with_capacity(after.len());
            for (partition, mark) in after.iter().enumerate() {
                let partition = partition as u32;
                let mut count = 0;
                if let Some(first) = mark.checked_add(1) {
                    for entry in messages
                        .range((partition, first)..=(partition, u64::MAX))
                        .context(what)?
                    {
                        entry.context(what)?;
                        count += 1;
                    }
                }
                counts.push(count);
            }
            Ok(counts)
        })
        .await
    }

    async fn submit(&self, queue: &str, payload: Bytes) -> BusResult<u64> {
        validate_name("queue", queue)?;
        let name = queue.to_string();
        let id = self
            .blocking(move |db| submit_blocking(db, &name, &payload))
            .await?;
        self.queue_state(queue).submitted.notify_waiters();
        Ok(id)
    }

    async fn take(
        &self,
        queue: &str,
        ack_wait: Duration,
        timeout: Duration,
    ) -> BusResult<Option<Job>> {
        validate_name("queue", queue)?;
        let state = self.queue_state(queue);
        let deadline = tokio_deadline(timeout);
        loop {
            let submitted = state.submitted.notified();
            tokio::pin!(submitted);
            submitted.as_mut().enable();
            let next_expiry = match self.try_take(queue, &state, ack_wait).await? {
                TakeAttempt::Taken(job) => return Ok(Some(job)),
                TakeAttempt::Empty(next_expiry) => next_expiry,
            };
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            let wake = next_expiry
                .map(tokio::time::Instant::from_std)
                .map_or(deadline, |expiry| expiry.min(deadline));
            tokio::select! {
                _ = &mut submitted => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    async fn ack(&self, queue: &str, id: u64) -> BusResult<()> {
        validate_name("queue", queue)?;
        let state = self.queue_state(queue);
        let name = queue.to_string();
        self.blocking(move |db| ack_blocking(db, &name, &state, id))
            .await
    }

    async fn queue_len(&self, queue: &str) -> BusResult<u64> {
        validate_name("queue", queue)?;
        let jobs_name = jobs_table(queue);
        let queue = queue.to_string();
        self.blocking(move |db| {
            let what = || format!("counting the jobs of queue `{queue}`");
            let txn = db.begin_read().context(what)?;
            match txn.open_table(JobsTable::new(&jobs_name)) {
                Ok(jobs) => jobs.len().context(what),
                Err(TableError::TableDoesNotExist(_)) => Ok(0),
                Err(e) => Err(e).context(what),
            }
        })
        .await
    }

    async fn serve(&self, subject: &str) -> BusResult<Requests> {
        validate_subject(subject)?;
        let mut servers = lock(&self.servers);
        if servers.get(subject).is_some_and(|tx| !tx.is_closed()) {
            return Err(BusError::InvalidArgument {
                field: "subject",
                reason: format!("`{subject}` is already served in this process"),
            });
        }
        let (tx, rx) = mpsc::channel(REQUEST_CHANNEL_CAPACITY);
        servers.insert(subject.to_string(), tx);
        Ok(rx)
    }

    async fn request(&self, subject: &str, payload: Bytes, timeout: Duration) -> BusResult<Bytes> {
        validate_subject(subject)?;
        let no_responders = || BusError::NoResponders {
            subject: subject.to_string(),
        };
        let server = {
            let mut servers = lock(&self.servers);
            match servers.get(subject) {
                Some(tx) if !tx.is_closed() => tx.clone(),
                Some(_) => {
                    servers.remove(subject);
                    return Err(no_responders());
                }
                None => return Err(no_responders()),
            }
        };
        let (request, reply) = Request::new(payload);
        let exchange = async {
            server.send(request).await.map_err(|_| no_responders())?;
            // The server dropped the request without replying.
            reply.await.map_err(|_| no_responders())
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| BusError::Timeout {
                what: format!("request on `{subject}`"),
                after: timeout,
            })?
    }

    async fn notify(&self, subject: &str, payload: Bytes) -> BusResult<()> {
        validate_subject(subject)?;
        let mut topics = lock(&self.topics);
        if let Some(tx) = topics.get(subject)
            && tx.send(payload).is_err()
        {
            // Every subscriber is gone.
            topics.remove(subject);
        }
        Ok(())
    }

    async fn subscribe(&self, subject: &str) -> BusResult<Subscription> {
        validate_subject(subject)?;
        let rx = lock(&self.topics)
            .entry(subject.to_string())
            .or_insert_with(|| broadcast::channel(NOTIFY_CHANNEL_CAPACITY).0)
            .subscribe();
        let subject = subject.to_string();
        Ok(Box::pin(futures::stream::unfold(
            (rx, subject),
            |(mut rx, subject)| async move {
                loop {
                    match rx.recv().await {
                        Ok(payload) => return Some((payload, (rx, subject))),
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            tracing::warn!(%subject, missed, "a slow subscriber missed notifications");
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        )))
    }
}

fn publish_blocking(
    db: &Database,
    stream: &str,
    records: &[Record],
    dedup_window: Duration,
) -> BusResult<(Vec<u64>, BTreeSet<u32>)> {
    let what = || format!("publishing to stream `{stream}`");
    let now_ms = unix_millis();
    let window_ms = u64::try_from(dedup_window.as_millis()).unwrap_or(u64::MAX);
    let mut seqs = Vec::with_capacity(records.len());
    let mut touched = BTreeSet::new();
    let txn = db.begin_write().context(what)?;
    {
        let messages_name = messages_table(stream);
        let keys_name = keys_table(stream);
        let mut streams = txn.open_table(STREAMS).context(what)?;
        let mut messages = txn
            .open_table(MessagesTable::new(&messages_name))
            .context(what)?;
        let payloads_name = payloads_table(stream);
        let mut payloads = txn
            .open_table(MessagesTable::new(&payloads_name))
            .context(what)?;
        let mut keys = txn.open_table(KeysTable::new(&keys_name)).context(what)?;
        let mut dedup = txn.open_table(DEDUP).context(what)?;
        let mut dedup_by_time = txn.open_table(DEDUP_BY_TIME).context(what)?;

        // Forget de-duplication ids older than the window (of every stream).
        let cutoff = now_ms.saturating_sub(window_ms);
        let mut expired = Vec::new();
        for entry in dedup_by_time
            .extract_from_if(..(cutoff, "", ""), |_, _| true)
            .context(what)?
        {
            let (key, _) = entry.context(what)?;
            let (_, stream, id) = key.value();
            expired.push((stream.to_string(), id.to_string()));
        }
        for (stream, id) in &expired {
            dedup.remove((stream.as_str(), id.as_str())).context(what)?;
        }

        let mut last = streams.get(stream).context(what)?.map_or(0, |g| g.value());
        for record in records {
            if let Some(id) = &record.msg_id {
                let seen = dedup
                    .get((stream, id.as_str()))
                    .context(what)?
                    .map(|g| g.value());
                if let Some((seq, at)) = seen
                    && now_ms.saturating_sub(at) < window_ms
                {
                    seqs.push(seq);
                    continue;
                }
            }
            last += 1;
            let seq = last;
            let encoded = encode_message(record)?;
            messages
                .insert((record.partition, seq), encoded.as_slice())
                .context(what)?;
            if !record.payload.is_empty() {
                payloads
                    .insert((record.partition, seq), record.payload.as_ref())
                    .context(what)?;
            }
            let replaced = keys
                .insert(record.key.as_str(), (record.partition, seq))
                .context(what)?
                .map(|g| g.value());
            if let Some(previous) = replaced {
                messages.remove(previous).context(what)?;
                payloads.remove(previous).context(what)?;
                touched.insert(previous.0);
            }
            if let Some(id) = &record.msg_id {
                let replaced = dedup
                    .insert((stream, id.as_str()), (seq, now_ms))
                    .context(what)?
                    .map(|g| g.value());
                if let Some((_, at)) = replaced {
                    dedup_by_time
                        .remove((at, stream, id.as_str()))
                        .context(what)?;
                }
                dedup_by_time
                    .insert((now_ms, stream, id.as_str()), ())
                    .context(what)?;
            }
            touched.insert(record.partition);
            seqs.push(seq);
        }
        streams.insert(stream, last).context(what)?;
    }
    txn.commit().context(what)?;
    Ok((seqs, touched))
}

fn submit_blocking(db: &Database, queue: &str, payload: &[u8]) -> BusResult<u64> {
    let what = || format!("submitting to queue `{queue}`");
    let jobs_name = jobs_table(queue);
    let txn = db.begin_write().context(what)?;
    let id = {
        let mut queues = txn.open_table(QUEUES).context(what)?;
        let mut jobs = txn.open_table(JobsTable::new(&jobs_name)).context(what)?;
        let id = queues.get(queue).context(what)?.map_or(0, |g| g.value()) + 1;
        jobs.insert(id, payload).context(what)?;
        queues.insert(queue, id).context(what)?;
        id
    };
    txn.commit().context(what)?;
    Ok(id)
}

fn take_blocking(
    db: &Database,
    queue: &str,
    state: &QueueState,
    ack_wait: Duration,
) -> BusResult<TakeAttempt> {
    let what = || format!("taking from queue `{queue}`");
    let mut in_flight = lock(&state.in_flight);
    let now = Instant::now();
    in_flight.retain(|_, deadline| *deadline > now);
    let next_expiry = in_flight.values().min().copied();

    let jobs_name = jobs_table(queue);
    let found = {
        let txn = db.begin_read().context(what)?;
        let jobs = match txn.open_table(JobsTable::new(&jobs_name)) {
            Ok(jobs) => jobs,
            Err(TableError::TableDoesNotExist(_)) => return Ok(TakeAttempt::Empty(next_expiry)),
            Err(e) => return Err(e).context(what),
        };
        let mut found = None;
        for entry in jobs.range::<u64>(..).context(what)? {
            let (id, payload) = entry.context(what)?;
            let id = id.value();
            if !in_flight.contains_key(&id) {
                found = Some((id, Bytes::copy_from_slice(payload.value())));
                break;
            }
        }
        found
    };
    let Some((id, payload)) = found else {
        return Ok(TakeAttempt::Empty(next_expiry));
    };

    // Counting deliveries need not sync: the next synced commit makes it durable.
    let deliveries_name = deliveries_table(queue);
    let mut txn = db.begin_write().context(what)?;
    txn.set_durability(Durability::None).context(what)?;
    let deliveries = {
        let mut table = txn
            .open_table(DeliveriesTable::new(&deliveries_name))
            .context(what)?;
        let deliveries = table
            .get(id)
            .context(what)?
            .map_or(0, |g| g.value())
            .saturating_add(1);
        table.insert(id, deliveries).context(what)?;
        deliveries
    };
    txn.commit().context(what)?;
    in_flight.insert(id, std_deadline(Instant::now(), ack_wait));
    Ok(TakeAttempt::Taken(Job {
        id,
        payload,
        deliveries,
    }))
}

fn ack_blocking(db: &Database, queue: &str, state: &QueueState, id: u64) -> BusResult<()> {
    let what = || format!("acknowledging job {id} on queue `{queue}`");
    let mut in_flight = lock(&state.in_flight);
    let jobs_name = jobs_table(queue);
    let deliveries_name = deliveries_table(queue);
    let txn = db.begin_write().context(what)?;
    let removed = {
        let mut jobs = txn.open_table(JobsTable::new(&jobs_name)).context(what)?;
        let removed = jobs.remove(id).context(what)?.is_some();
        if removed {
            txn.open_table(DeliveriesTable::new(&deliveries_name))
                .context(what)?
                .remove(id)
                .context(what)?;
        }
        removed
    };
    if !removed {
        txn.abort().context(what)?;
        return Err(BusError::UnknownJob {
            queue: queue.to_string(),
            id,
        });
    }
    txn.commit().context(what)?;
    in_flight.remove(&id);
    Ok(())
}

/// The messages table of `stream`, or `None` if nothing was ever published to it.
fn open_messages(txn: &ReadTransaction, stream: &str) -> BusResult<Option<ReadOnlyMessages>> {
    let name = messages_table(stream);
    match txn.open_table(MessagesTable::new(&name)) {
        Ok(table) => Ok(Some(table)),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e).context(|| format!("reading stream `{stream}`")),
    }
}

/// The payloads table of `stream`, or `None` if it does not exist yet.
fn open_payloads(txn: &ReadTransaction, stream: &str) -> BusResult<Option<ReadOnlyMessages>> {
    let name = payloads_table(stream);
    match txn.open_table(MessagesTable::new(&name)) {
        Ok(table) => Ok(Some(table)),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e).context(|| format!("reading stream `{stream}`")),
    }
}

fn newest_in_partition(
    messages: &impl ReadableTable<(u32, u64), &'static [u8]>,
    partition: u32,
) -> Result<u64, redb::StorageError> {
    let newest = messages
        .range((partition, 0)..=(partition, u64::MAX))?
        .next_back()
        .transpose()?
        .map_or(0, |(key, _)| key.value().1);
    Ok(newest)
}

fn messages_table(stream: &str) -> String {
    format!("log:{stream}:messages")
}

fn payloads_table(stream: &str) -> String {
    format!("log:{stream}:payloads")
}

fn keys_table(stream: &str) -> String {
    format!("log:{stream}:keys")
}

fn jobs_table(queue: &str) -> String {
    format!("queue:{queue}:jobs")
}

fn deliveries_table(queue: &str) -> String {
    format!("queue:{queue}:deliveries")
}

const FORMAT_V1: u8 = 1;
const OP_PUT: u8 = 0;
const OP_DELETE: u8 = 1;

/// Version, op, key, headers (all length-prefixed). The payload is stored apart.
fn encode_message(record: &Record) -> BusResult<Vec<u8>> {
    let headers_len: usize = record
        .headers
        .iter()
        .map(|(name, value)| 8 + name.len() + value.len())
        .sum();
    let mut out = Vec::with_capacity(2 + 4 + record.key.len() + 4 + headers_len);
    out.push(FORMAT_V1);
    out.push(match record.op {
        Op::Put => OP_PUT,
        Op::Delete => OP_DELETE,
    });
    put_bytes(&mut out, "key", record.key.as_bytes())?;
    let count = u32::try_from(record.headers.len()).map_err(|_| too_long("headers"))?;
    out.extend_from_slice(&count.to_le_bytes());
    for (name, value) in &record.headers {
        put_bytes(&mut out, "headers", name.as_bytes())?;
        put_bytes(&mut out, "headers", value.as_bytes())?;
    }
    Ok(out)
}

fn put_bytes(out: &mut Vec<u8>, field: &'static str, bytes: &[u8]) -> BusResult<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| too_long(field))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

fn too_long(field: &'static str) -> BusError {
    BusError::InvalidArgument {
        field,
        reason: "longer than 4 GiB".to_string(),
    }
}

fn decode_message(
    seq: u64,
    partition: u32,
    bytes: &[u8],
    with_payload: bool,
) -> Result<LogMessage, String> {
    let mut reader = Reader(bytes);
    let version = reader.u8()?;
    if version != FORMAT_V1 {
        return Err(format!("unknown format version {version}"));
    }
    let op = match reader.u8()? {
        OP_PUT => Op::Put,
        OP_DELETE => Op::Delete,
        other => return Err(format!("unknown op {other}")),
    };
    let key = reader.string()?;
    let count = reader.u32()?;
    let mut headers = Headers::new();
    for _ in 0..count {
        let name = reader.string()?;
        let value = reader.string()?;
        headers.insert(name, value);
    }
    let payload = if with_payload {
        Bytes::copy_from_slice(reader.0)
    } else {
        Bytes::new()
    };
    Ok(LogMessage {
        seq,
        partition,
        key,
        op,
        headers,
        payload,
    })
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.0.len() < n {
            return Err("truncated".to_string());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        let mut le = [0; 4];
        le.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(le))
    }

    fn string(&mut self) -> Result<String, String> {
        let len = usize::try_from(self.u32()?).map_err(|e| e.to_string())?;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|e| e.to_string())
    }
}

/// Maps a redb (or other) error to [`BusError::Storage`] naming what was being done.
trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> BusResult<T>;
}

impl<T, E: fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> BusResult<T> {
        self.map_err(|e| BusError::Storage(format!("{}: {e}", what())))
    }
}

/// Locks `mutex`, recovering the data if a holder panicked (every holder leaves it
/// consistent).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Far enough to mean "never" without overflowing `Instant`.
const FAR_FUTURE: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);

fn std_deadline(now: Instant, after: Duration) -> Instant {
    now.checked_add(after)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .unwrap_or(now)
}

fn tokio_deadline(after: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(after)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .unwrap_or(now)
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_encoding_round_trips() {
        let mut headers = Headers::new();
        headers.insert("repo".to_string(), "r1".to_string());
        headers.insert("empty".to_string(), String::new());
        let record = Record::put(3, "a/b.rs", headers.clone(), Bytes::from_static(b"body"));
        let encoded = encode_message(&record).expect("encodes");
        let message = decode_message(7, 3, &encoded, true).expect("decodes");
        assert_eq!(message.key, "a/b.rs");
        assert_eq!(message.op, Op::Put);
        assert_eq!(message.headers, headers);
        // The payload is stored apart; a value written before the split carries it last.
        assert!(message.payload.is_empty());
        let mut legacy = encoded.clone();
        legacy.extend_from_slice(b"body");
        let message = decode_message(7, 3, &legacy, true).expect("decodes");
        assert_eq!(message.payload, Bytes::from_static(b"body"));
        let headers_only = decode_message(7, 3, &legacy, false).expect("decodes");
        assert!(headers_only.payload.is_empty());

        let tombstone = encode_message(&Record::delete(0, "k", Headers::new())).expect("encodes");
        assert_eq!(
            decode_message(1, 0, &tombstone, true).expect("decodes").op,
            Op::Delete
        );
    }

    #[test]
    fn corrupt_messages_are_errors() {
        let encoded =
            encode_message(&Record::put(0, "key", Headers::new(), Bytes::new())).expect("encodes");
        for cut in 0..encoded.len() {
            assert!(
                decode_message(1, 0, &encoded[..cut], true).is_err(),
                "cut at {cut}"
            );
        }
        assert!(decode_message(1, 0, &[9, 0, 0, 0, 0, 0], true).is_err());
    }

    #[test]
    fn names_are_validated() {
        assert!(validate_name("stream", "AIEX_FILES-2").is_ok());
        for bad in ["", "a.b", "a b", "a/b", "a:b", "é"] {
            assert!(validate_name("stream", bad).is_err(), "{bad:?}");
        }
        assert!(validate_subject("aiex.search.v1").is_ok());
        for bad in ["", "a b", "a.*", "a.>"] {
            assert!(validate_subject(bad).is_err(), "{bad:?}");
        }
    }
}
