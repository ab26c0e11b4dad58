//! The bus: what Aiex processes share, behind one trait with two implementations.
//!
//! - a **partitioned durable log** of keyed messages (the file log `AIEX_FILES` and the
//!   repository registry `AIEX_REPOS`): `publish` returns once the messages are durable;
//!   only the newest message of each key is kept (a delete is kept as a tombstone);
//!   sequences are stream-wide and increase monotonically; `read` pages through one
//!   partition after a sequence, so reading from 0 replays the partition keeping the last
//!   message per key, and `wait_for` + `read` follows it; `backlog` counts what each
//!   partition holds past a watermark;
//! - a **work queue**: `submit`, `take` (the job is invisible for `ack_wait`), `ack`;
//!   a job not acknowledged in time is delivered again; `queue_len` counts the jobs not
//!   yet acknowledged;
//! - **request/reply**: `serve` a subject, `request` on it with a timeout;
//! - **notifications**: `notify` a subject, fire-and-forget and at most once, to whoever
//!   `subscribe`d to it (assist token streams, cancellations).
//!
//! [`local::LocalBus`] is the in-process implementation for the embedded mode, persisted
//! under the data directory; [`nats::NatsBus`] is the NATS JetStream implementation for
//! cluster mode. Both pass the same [`suite`].

pub mod files;
pub mod local;
pub mod metered;
pub mod nats;
pub mod suite;

use std::collections::BTreeMap;
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;
use tokio::sync::{mpsc, oneshot};

/// Message headers (small, string-valued, like NATS headers).
pub type Headers = BTreeMap<String, String>;

/// What a log message does to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// The key now holds this message.
    Put,
    /// The key was deleted; the tombstone is kept as the key's newest message.
    Delete,
}

/// A message to append to a log stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub partition: u32,
    /// Unique within the stream (for files: repository and path).
    pub key: String,
    pub op: Op,
    pub headers: Headers,
    pub payload: Bytes,
    /// De-duplication id: publishing the same id again within the de-duplication
    /// window stores nothing and returns the first sequence.
    pub msg_id: Option<String>,
}

impl Record {
    pub fn put(partition: u32, key: impl Into<String>, headers: Headers, payload: Bytes) -> Record {
        Record {
            partition,
            key: key.into(),
            op: Op::Put,
            headers,
            payload,
            msg_id: None,
        }
    }

    pub fn delete(partition: u32, key: impl Into<String>, headers: Headers) -> Record {
        Record {
            partition,
            key: key.into(),
            op: Op::Delete,
            headers,
            payload: Bytes::new(),
            msg_id: None,
        }
    }

    pub fn with_msg_id(mut self, id: impl Into<String>) -> Record {
        self.msg_id = Some(id.into());
        self
    }
}

/// A message read from a log stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMessage {
    pub seq: u64,
    pub partition: u32,
    pub key: String,
    pub op: Op,
    pub headers: Headers,
    /// Empty when read with `headers_only`.
    pub payload: Bytes,
}

/// One page of a partition.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub messages: Vec<LogMessage>,
    /// The partition's newest sequence when the page was read (0 when empty): the reader
    /// has caught up when its last message's sequence reaches it.
    pub last_seq: u64,
}

/// A job taken from a work queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: u64,
    pub payload: Bytes,
    /// 1 on the first delivery.
    pub deliveries: u32,
}

/// A request received on a served subject; answer it with [`Request::reply`].
#[derive(Debug)]
pub struct Request {
    pub payload: Bytes,
    reply: oneshot::Sender<Bytes>,
}

impl Request {
    pub fn new(payload: Bytes) -> (Request, oneshot::Receiver<Bytes>) {
        let (reply, rx) = oneshot::channel();
        (Request { payload, reply }, rx)
    }

    /// Sends the reply (a requester that gave up is not an error).
    pub fn reply(self, payload: Bytes) {
        let _ = self.reply.send(payload);
    }
}

/// Requests arriving on a served subject.
pub type Requests = mpsc::Receiver<Request>;

/// Payloads notified on a subscribed subject, in the order one notifier sent them. Drop it
/// to unsubscribe.
pub type Subscription = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("bus storage: {0}")]
    Storage(String),
    #[error("no one serves `{subject}`")]
    NoResponders { subject: String },
    #[error("`{what}` timed out after {after:?}")]
    Timeout { what: String, after: Duration },
    #[error("job {id} is not pending on queue `{queue}` (already acknowledged?)")]
    UnknownJob { queue: String, id: u64 },
    #[error("the bus is closed")]
    Closed,
    #[error("bus unavailable: {0}")]
    Unavailable(String),
}

impl BusError {
    pub fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            BusError::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            BusError::UnknownJob { .. } => ErrorCode::NotFound,
            BusError::NoResponders { .. }
            | BusError::Timeout { .. }
            | BusError::Closed
            | BusError::Unavailable(_) => ErrorCode::Unavailable,
            BusError::Storage(_) => ErrorCode::Internal,
        }
    }
}

pub type BusResult<T> = std::result::Result<T, BusError>;

/// The bus. Object-safe, so a process holds an `Arc<dyn Bus>` whichever implementation
/// it runs on.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Appends `records` to `stream`, in order; returns their sequences once durable.
    /// A key lives in one partition (the file log's partition is a function of the key).
    /// Records sharing a `msg_id`, in one call or within the window, are stored once and
    /// all return the first sequence.
    async fn publish(&self, stream: &str, records: Vec<Record>) -> BusResult<Vec<u64>>;

    /// Up to `limit` messages of `partition` with sequence > `after`, in sequence order.
    async fn read(
        &self,
        stream: &str,
        partition: u32,
        after: u64,
        limit: usize,
        headers_only: bool,
    ) -> BusResult<Batch>;

    /// Waits until `partition` holds a message with sequence > `after` (or `timeout`
    /// passes); returns the partition's newest sequence.
    async fn wait_for(
        &self,
        stream: &str,
        partition: u32,
        after: u64,
        timeout: Duration,
    ) -> BusResult<u64>;

    /// For each partition `p` of `stream` (`after.len()` partitions), how many messages
    /// have a sequence above `after[p]`: what a reader at those watermarks still has to
    /// apply. A stream nothing was published to has none.
    async fn backlog(&self, stream: &str, after: &[u64]) -> BusResult<Vec<u64>>;

    /// Queues a job; returns its id once durable.
    async fn submit(&self, queue: &str, payload: Bytes) -> BusResult<u64>;

    /// Takes the next job, waiting up to `timeout` for one. The job is invisible to other
    /// takers for `ack_wait`; unacknowledged, it is delivered again.
    async fn take(
        &self,
        queue: &str,
        ack_wait: Duration,
        timeout: Duration,
    ) -> BusResult<Option<Job>>;

    /// Acknowledges a job: it is never delivered again.
    async fn ack(&self, queue: &str, id: u64) -> BusResult<()>;

    /// How many jobs `queue` holds: submitted and not yet acknowledged, taken ones
    /// included (0 for a queue never used).
    async fn queue_len(&self, queue: &str) -> BusResult<u64>;

    /// Serves `subject`: requests arrive on the returned channel (one server per subject
    /// in the in-process bus; a queue group in NATS).
    async fn serve(&self, subject: &str) -> BusResult<Requests>;

    /// Sends a request and waits for its reply. A server that drops the request without
    /// replying yields `NoResponders` or `Timeout` depending on the implementation.
    async fn request(&self, subject: &str, payload: Bytes, timeout: Duration) -> BusResult<Bytes>;

    /// Sends `payload` to every current subscriber of `subject`: fire-and-forget, at most
    /// once, nothing stored (no subscriber, no delivery). A slow subscriber may miss
    /// payloads, so a stream of notifications carries its own sequence numbers.
    async fn notify(&self, subject: &str, payload: Bytes) -> BusResult<()>;

    /// Subscribes to `subject`: every payload notified after this returns is delivered.
    async fn subscribe(&self, subject: &str) -> BusResult<Subscription>;
}

/// Every message of `partition` (the newest per key, tombstones included), in sequence
/// order, read page by page.
pub async fn replay(
    bus: &dyn Bus,
    stream: &str,
    partition: u32,
    headers_only: bool,
) -> BusResult<Vec<LogMessage>> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let batch = bus
            .read(stream, partition, after, 1024, headers_only)
            .await?;
        let Some(last) = batch.messages.last() else {
            return Ok(out);
        };
        after = last.seq;
        let done = after >= batch.last_seq;
        out.extend(batch.messages);
        if done {
            return Ok(out);
        }
    }
}

/// Stream and queue names: non-empty, `[A-Za-z0-9_-]` (valid NATS stream names too).
pub(crate) fn validate_name(field: &'static str, name: &str) -> BusResult<()> {
    if name.is_empty() {
        return Err(BusError::InvalidArgument {
            field,
            reason: "must not be empty".to_string(),
        });
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(BusError::InvalidArgument {
            field,
            reason: format!("`{name}` contains {c:?}; use only letters, digits, `_` and `-`"),
        });
    }
    Ok(())
}

/// Subjects: non-empty, no whitespace and no NATS wildcards.
pub(crate) fn validate_subject(subject: &str) -> BusResult<()> {
    let bad = |reason: String| {
        Err(BusError::InvalidArgument {
            field: "subject",
            reason,
        })
    };
    if subject.is_empty() {
        return bad("must not be empty".to_string());
    }
    if let Some(c) = subject
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '*' || *c == '>')
    {
        return bad(format!("`{subject}` contains {c:?}"));
    }
    if subject.starts_with('.') || subject.ends_with('.') || subject.contains("..") {
        return bad(format!("`{subject}` has an empty token"));
    }
    Ok(())
}

/// The arguments every `read` checks: a valid stream name and a limit of at least 1.
pub(crate) fn validate_read(stream: &str, limit: usize) -> BusResult<()> {
    validate_name("stream", stream)?;
    if limit == 0 {
        return Err(BusError::InvalidArgument {
            field: "limit",
            reason: "must be at least 1".to_string(),
        });
    }
    Ok(())
}
