//! Assist: explain, complete, generate a module or its tests, and chat, run as jobs on
//! the work queue [`ASSIST_QUEUE`](aiex_proto::subjects::ASSIST_QUEUE).
//!
//! The gateway subscribes to the request's reply subject, then submits an [`AssistJob`];
//! any process's [`worker::AssistWorker`] takes it, builds the prompt from search hits
//! and the symbol graph ([`prompt::build_prompt`]), calls the provider chain of the task
//! and notifies each event back as a [`Frame`] with a sequence number, so the gateway
//! notices a lost event. Generated Elixir is parsed before it is returned
//! ([`elixir_check`]); a syntax error earns the model one repair round. Chat turns are an
//! append-only log on the bus ([`session`]).
//!
//! Delivery: the worker acknowledges the job only after its last frame (`Done` or
//! `Error`). A worker that dies before any token leaves the job to be delivered again
//! after the ack wait, and the new attempt streams from the start; the gateway follows
//! the newest attempt until a token has arrived, then only that attempt, so a worker
//! dying mid-answer ends the stream with an error once heartbeats stop.

pub mod elixir_check;
pub mod prompt;
pub mod session;
pub mod worker;

use std::sync::Arc;

use aiex_proto::v1 as pb;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::graph::SymbolGraph;
use crate::{ErrorCode, NodeError};

pub use worker::{AssistOptions, AssistWorker, Llm};

/// One assist request, as queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistJob {
    /// The request id: names the reply and cancel subjects.
    pub id: String,
    pub task: Task,
    /// After this (ms since the epoch) nobody waits for the answer: the job is dropped.
    pub expires_at_ms: u64,
    /// W3C trace context of the request that queued it (empty when traces are off).
    #[serde(default)]
    pub trace: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Task {
    Explain {
        target: String,
        detail: String,
        focus: String,
        repositories: Vec<String>,
        code: String,
    },
    Complete {
        path: String,
        repository: String,
        line: u32,
        prefix: String,
        suffix: String,
    },
    GenerateModule {
        name: String,
        description: String,
        repositories: Vec<String>,
    },
    GenerateTests {
        target: String,
        repositories: Vec<String>,
        code: String,
    },
    Chat {
        session_id: String,
        message: String,
        repositories: Vec<String>,
    },
}

impl Task {
    /// The provider chain this task uses (`[llm.chains]`), falling back to `default`.
    pub fn chain_name(&self) -> &'static str {
        match self {
            Task::Explain { .. } => "explain",
            Task::Complete { .. } => "complete",
            Task::GenerateModule { .. } => "generate_module",
            Task::GenerateTests { .. } => "generate_tests",
            Task::Chat { .. } => "chat",
        }
    }

    pub fn repositories(&self) -> &[String] {
        match self {
            Task::Explain { repositories, .. }
            | Task::GenerateModule { repositories, .. }
            | Task::GenerateTests { repositories, .. }
            | Task::Chat { repositories, .. } => repositories,
            Task::Complete { .. } => &[],
        }
    }
}

/// A gateway's reply on `assist_waiting_subject` while it waits for a request's first
/// token: a worker given the job again runs it.
pub const ASSIST_WAITING: &[u8] = b"waiting";
/// ... and once tokens of an earlier delivery reached its client: the job is dropped.
pub const ASSIST_ANSWERED: &[u8] = b"answered";

/// One event of an assist job, as notified on its reply subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// The job's delivery that sent it (1 on the first).
    pub attempt: u32,
    /// 0, 1, 2, ... within one attempt.
    pub seq: u64,
    /// The mesh member running the attempt (empty in the embedded mode): a gateway that
    /// sees it leave the cluster mid-answer ends the stream without waiting out its idle
    /// timeout.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub worker: String,
    pub event: FrameEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FrameEvent {
    /// The worker is still at it (sent while the provider is silent).
    Heartbeat,
    Token {
        text: String,
    },
    Usage {
        input: u32,
        output: u32,
    },
    Done {
        session_id: String,
        provider: String,
        model: String,
        valid_elixir: bool,
        repaired: bool,
        code: String,
    },
    Error {
        code: WireCode,
        message: String,
    },
}

impl FrameEvent {
    /// The client-visible event, or `None` for a heartbeat.
    pub fn to_pb(&self) -> Option<pb::AssistEvent> {
        use pb::assist_event::Event;
        let event = match self {
            FrameEvent::Heartbeat => return None,
            FrameEvent::Token { text } => {
                Event::Token(pb::assist_event::Token { text: text.clone() })
            }
            FrameEvent::Usage { input, output } => Event::Usage(pb::assist_event::Usage {
                input_tokens: *input,
                output_tokens: *output,
            }),
            FrameEvent::Done {
                session_id,
                provider,
                model,
                valid_elixir,
                repaired,
                code,
            } => Event::Done(pb::assist_event::Done {
                session_id: session_id.clone(),
                provider: provider.clone(),
                model: model.clone(),
                valid_elixir: *valid_elixir,
                repaired: *repaired,
                code: code.clone(),
            }),
            FrameEvent::Error { message, .. } => Event::Error(pb::assist_event::Error {
                message: message.clone(),
            }),
        };
        Some(pb::AssistEvent { event: Some(event) })
    }

    pub fn is_final(&self) -> bool {
        matches!(self, FrameEvent::Done { .. } | FrameEvent::Error { .. })
    }
}

/// [`ErrorCode`] on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireCode {
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    FailedPrecondition,
    Unavailable,
    Internal,
}

impl From<ErrorCode> for WireCode {
    fn from(code: ErrorCode) -> WireCode {
        match code {
            ErrorCode::InvalidArgument => WireCode::InvalidArgument,
            ErrorCode::NotFound => WireCode::NotFound,
            ErrorCode::ResourceExhausted => WireCode::ResourceExhausted,
            ErrorCode::FailedPrecondition => WireCode::FailedPrecondition,
            ErrorCode::Unavailable => WireCode::Unavailable,
            ErrorCode::Internal => WireCode::Internal,
        }
    }
}

impl From<WireCode> for ErrorCode {
    fn from(code: WireCode) -> ErrorCode {
        match code {
            WireCode::InvalidArgument => ErrorCode::InvalidArgument,
            WireCode::NotFound => ErrorCode::NotFound,
            WireCode::ResourceExhausted => ErrorCode::ResourceExhausted,
            WireCode::FailedPrecondition => ErrorCode::FailedPrecondition,
            WireCode::Unavailable => ErrorCode::Unavailable,
            WireCode::Internal => ErrorCode::Internal,
        }
    }
}

/// Where a worker finds context: search across the repositories and the symbol graph.
/// The gateway's backend in the embedded mode; any cluster-wide searcher otherwise.
#[async_trait]
pub trait Retriever: Send + Sync + 'static {
    async fn search(
        &self,
        query: &str,
        repositories: &[String],
        limit: u32,
    ) -> Result<Vec<pb::SearchHit>, NodeError>;
    async fn graph(&self) -> Result<Arc<SymbolGraph>, NodeError>;
    /// Where whole chunks are looked up, for the token-aware context builder (without
    /// one, prompts carry signatures and search snippets only).
    fn chunk_source(&self) -> Option<Arc<dyn crate::context::ChunkSource + Send + Sync>> {
        None
    }
}

/// A fresh request or session id: 32 hex digits, unique across processes.
pub fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = blake3::Hasher::new();
    hasher.update(&std::process::id().to_le_bytes());
    hasher.update(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.update(&now.as_nanos().to_le_bytes());
    let local = 0u8;
    hasher.update(&(std::ptr::addr_of!(local) as usize).to_le_bytes());
    hasher.finalize().to_hex()[..32].to_string()
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
