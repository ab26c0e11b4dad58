//! The Assist service: each call becomes a job on the assist queue; the events its worker
//! notifies on the request's reply subject are relayed to the client as they arrive.
//!
//! The relay subscribes before submitting, so no event is missed; it checks sequence
//! numbers (a gap ends the stream with UNAVAILABLE), follows the newest delivery of the
//! job until a token has arrived (a worker that died before answering is replaced by the
//! redelivered job) and only that delivery afterwards, and gives up after
//! `assist_idle_timeout` without any event, heartbeats included, so a dead worker never
//! leaves the client hanging. When the client goes away, the worker is told to cancel.
//! The first event is awaited before the call answers, so an error before any token
//! (no provider configured: FAILED_PRECONDITION) is the call's status.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aiex_node::assist::{
    ASSIST_ANSWERED, ASSIST_WAITING, AssistJob, Frame, FrameEvent, Retriever, Task, new_id, now_ms,
    session,
};
use aiex_node::bus::{Bus, Subscription};
use aiex_node::graph::SymbolGraph;
use aiex_node::{ErrorCode, NodeError};
use aiex_proto::subjects::{
    ASSIST_QUEUE, assist_cancel_subject, assist_reply_subject, assist_waiting_subject,
};
use aiex_proto::v1 as pb;
use async_trait::async_trait;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use crate::backend::Backend;
use crate::error::{GatewayError, grpc_code};
use crate::service::GatewayState;

/// How long a queued job waits for a worker before it is dropped unanswered.
const JOB_TTL: Duration = Duration::from_secs(600);

/// How often a relay that waits checks that the member answering is still live.
const LIVENESS_CHECK: Duration = Duration::from_secs(1);

/// Longest accepted text field (a message, a prefix, code).
const MAX_TEXT_BYTES: usize = 1 << 20;

pub type AssistStream = Pin<Box<dyn Stream<Item = Result<pb::AssistEvent, Status>> + Send>>;

pub struct AssistService(pub Arc<GatewayState>);

/// The gateway's backend as the workers' source of context.
pub struct BackendRetriever(pub Arc<dyn Backend>);

#[async_trait]
impl Retriever for BackendRetriever {
    async fn search(
        &self,
        query: &str,
        repositories: &[String],
        limit: u32,
    ) -> Result<Vec<pb::SearchHit>, NodeError> {
        let response = self
            .0
            .search(pb::SearchRequest {
                query: query.to_string(),
                filters: Some(pb::SearchFilters {
                    repositories: repositories.to_vec(),
                    ..Default::default()
                }),
                limit,
            })
            .await?;
        Ok(response.hits)
    }

    async fn graph(&self) -> Result<Arc<SymbolGraph>, NodeError> {
        self.0.graph().await
    }

    fn chunk_source(&self) -> Option<Arc<dyn aiex_node::context::ChunkSource + Send + Sync>> {
        self.0.chunk_source()
    }
}

fn required(field: &'static str, value: &str) -> Result<(), GatewayError> {
    if value.trim().is_empty() {
        return Err(GatewayError::InvalidArgument {
            field,
            reason: "must not be empty".into(),
        });
    }
    Ok(())
}

/// An Elixir module name: dot-separated aliases, each a capital letter then letters,
/// digits or `_` (`Greeter`, `MyApp.Accounts.User`).
fn module_name(field: &'static str, value: &str) -> Result<(), GatewayError> {
    let alias = |segment: &str| {
        let mut chars = segment.chars();
        chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if value.len() > 256 || !value.split('.').all(alias) {
        return Err(GatewayError::InvalidArgument {
            field,
            reason: format!(
                "`{}` is not an Elixir module name: use aliases like `MyApp.Accounts.User` \
                 (each part a capital letter, then letters, digits or `_`)",
                value.chars().take(80).collect::<String>()
            ),
        });
    }
    Ok(())
}

fn bounded(field: &'static str, value: &str) -> Result<(), GatewayError> {
    if value.len() > MAX_TEXT_BYTES {
        return Err(GatewayError::InvalidArgument {
            field,
            reason: format!("is longer than {MAX_TEXT_BYTES} bytes"),
        });
    }
    Ok(())
}

fn detail_name(d: i32) -> &'static str {
    match pb::Detail::try_from(d).unwrap_or(pb::Detail::Unspecified) {
        pb::Detail::Basic => "basic",
        pb::Detail::Advanced => "advanced",
        _ => "intermediate",
    }
}

fn focus_name(f: i32) -> &'static str {
    match pb::Focus::try_from(f).unwrap_or(pb::Focus::Unspecified) {
        pb::Focus::Architecture => "architecture",
        pb::Focus::Patterns => "patterns",
        pb::Focus::Performance => "performance",
        pb::Focus::Security => "security",
        pb::Focus::Unspecified => "",
    }
}

#[tonic::async_trait]
impl pb::assist_server::Assist for AssistService {
    type ExplainStream = AssistStream;
    type CompleteStream = AssistStream;
    type GenerateModuleStream = AssistStream;
    type GenerateTestsStream = AssistStream;
    type ChatStream = AssistStream;

    async fn explain(
        &self,
        request: Request<pb::ExplainRequest>,
    ) -> Result<Response<AssistStream>, Status> {
        let r = request.into_inner();
        self.0.all_known(&r.repositories)?;
        required("target", &r.target)?;
        bounded("code", &r.code)?;
        self.run(Task::Explain {
            target: r.target,
            detail: detail_name(r.detail).into(),
            focus: focus_name(r.focus).into(),
            repositories: r.repositories,
            code: r.code,
        })
        .await
    }

    async fn complete(
        &self,
        request: Request<pb::CompleteRequest>,
    ) -> Result<Response<AssistStream>, Status> {
        let r = request.into_inner();
        required("path", &r.path)?;
        bounded("prefix", &r.prefix)?;
        bounded("suffix", &r.suffix)?;
        self.run(Task::Complete {
            path: r.path,
            repository: r.repository,
            line: r.line,
            prefix: r.prefix,
            suffix: r.suffix,
        })
        .await
    }

    async fn generate_module(
        &self,
        request: Request<pb::GenerateModuleRequest>,
    ) -> Result<Response<AssistStream>, Status> {
        let r = request.into_inner();
        self.0.all_known(&r.repositories)?;
        required("name", &r.name)?;
        module_name("name", &r.name)?;
        required("description", &r.description)?;
        bounded("description", &r.description)?;
        self.run(Task::GenerateModule {
            name: r.name,
            description: r.description,
            repositories: r.repositories,
        })
        .await
    }

    async fn generate_tests(
        &self,
        request: Request<pb::GenerateTestsRequest>,
    ) -> Result<Response<AssistStream>, Status> {
        let r = request.into_inner();
        self.0.all_known(&r.repositories)?;
        required("target", &r.target)?;
        bounded("code", &r.code)?;
        self.run(Task::GenerateTests {
            target: r.target,
            repositories: r.repositories,
            code: r.code,
        })
        .await
    }

    async fn chat(
        &self,
        request: Request<pb::ChatRequest>,
    ) -> Result<Response<AssistStream>, Status> {
        let r = request.into_inner();
        self.0.all_known(&r.repositories)?;
        required("message", &r.message)?;
        bounded("message", &r.message)?;
        let session_id = if r.session_id.is_empty() {
            new_id()
        } else {
            session::validate_id(&r.session_id).map_err(|reason| {
                GatewayError::InvalidArgument {
                    field: "session_id",
                    reason,
                }
            })?;
            // Resuming a session that never was (a mistyped id) would start a new one
            // silently, without the history the user meant to continue.
            let turns = session::load(&*self.0.bus, &r.session_id)
                .await
                .map_err(|e| GatewayError::from(NodeError::from(e)))?;
            if turns.is_empty() {
                return Err(GatewayError::Node(NodeError::NotFound {
                    what: "chat session",
                    name: format!(
                        "{} (start a new session without --session; its id is printed \
                         after the first answer)",
                        r.session_id
                    ),
                })
                .into());
            }
            r.session_id
        };
        self.run(Task::Chat {
            session_id,
            message: r.message,
            repositories: r.repositories,
        })
        .await
    }
}

impl AssistService {
    async fn run(&self, task: Task) -> Result<Response<AssistStream>, Status> {
        let state = &self.0;
        state
            .llm
            .check()
            .map_err(|e| GatewayError::from(NodeError::Llm(e)))?;
        let bus = state.bus.clone();
        let id = new_id();
        let events = bus
            .subscribe(&assist_reply_subject(&id))
            .await
            .map_err(GatewayError::from)?;
        let mut job = AssistJob {
            id: id.clone(),
            task,
            expires_at_ms: now_ms() + JOB_TTL.as_millis() as u64,
            trace: Default::default(),
        };
        // The worker's spans (and the provider call) join this request's trace.
        aiex_node::telemetry::inject_headers(&mut job.trace);
        let payload =
            serde_json::to_vec(&job).map_err(|e| GatewayError::Internal(e.to_string()))?;
        // Answers a worker that is given the job again (its first worker died): someone
        // still waits, unless tokens of an earlier delivery reached the client (no other
        // delivery can take over then). Stops with the relay.
        let mut waiting_requests = bus
            .serve(&assist_waiting_subject(&id))
            .await
            .map_err(GatewayError::from)?;
        let answered = Arc::new(AtomicBool::new(false));
        let seen = answered.clone();
        let waiting = AbortOnDrop(tokio::spawn(async move {
            while let Some(request) = waiting_requests.recv().await {
                request.reply(Bytes::from_static(if seen.load(Ordering::SeqCst) {
                    ASSIST_ANSWERED
                } else {
                    ASSIST_WAITING
                }));
            }
        }));
        let mut relay = Relay {
            _waiting: waiting,
            answered_flag: answered,
            events,
            backend: state.backend.clone(),
            worker: String::new(),
            idle: state.config.assist_idle_timeout,
            attempt: 0,
            next_seq: 0,
            answered: false,
            finished: false,
            cancel: CancelOnDrop {
                bus: bus.clone(),
                id: id.clone(),
                armed: true,
            },
        };
        bus.submit(ASSIST_QUEUE, Bytes::from(payload))
            .await
            .map_err(GatewayError::from)?;
        let first = relay.next().await;
        let first = match first {
            Some(Ok(event)) => event,
            Some(Err(status)) => return Err(status),
            None => return Err(Status::internal("the assist stream ended before any event")),
        };
        let rest = futures::stream::unfold(relay, |mut relay| async move {
            relay.next().await.map(|item| (item, relay))
        });
        let stream = futures::stream::once(async move { Ok(first) }).chain(rest);
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Follows one request's frames.
struct Relay {
    /// Answers `assist_waiting_subject` while the relay lives.
    _waiting: AbortOnDrop,
    /// `answered`, as the waiting task reads it.
    answered_flag: Arc<AtomicBool>,
    events: Subscription,
    /// Says whether the member running the followed attempt is still live.
    backend: Arc<dyn Backend>,
    /// That member (empty in the embedded mode).
    worker: String,
    idle: Duration,
    /// The delivery being followed (0: none yet).
    attempt: u32,
    next_seq: u64,
    /// Whether a token of `attempt` reached the client.
    answered: bool,
    finished: bool,
    cancel: CancelOnDrop,
}

impl Relay {
    /// The next client event; `None` after the last.
    async fn next(&mut self) -> Option<Result<pb::AssistEvent, Status>> {
        if self.finished {
            return None;
        }
        let mut last_event = tokio::time::Instant::now();
        loop {
            let check = LIVENESS_CHECK.min(self.idle);
            let payload = match tokio::time::timeout(check, self.events.next()).await {
                Ok(Some(p)) => p,
                Ok(None) => {
                    return self.fail(Status::unavailable("the bus closed the assist stream"));
                }
                Err(_) => {
                    if self.answered
                        && !self.worker.is_empty()
                        && !self.backend.member_alive(&self.worker)
                    {
                        // Its tokens reached the client: no other delivery can take over.
                        return self.fail(Status::unavailable(format!(
                            "the node answering this request ({}) left the cluster \
                             mid-answer; retry",
                            self.worker
                        )));
                    }
                    if last_event.elapsed() < self.idle {
                        continue;
                    }
                    let what = if self.attempt == 0 {
                        "no assist worker took the request"
                    } else {
                        "the assist worker stopped answering"
                    };
                    return self.fail(Status::unavailable(format!(
                        "{what} within {:?}; retry, and check that a node with an LLM \
                         provider is running",
                        self.idle
                    )));
                }
            };
            last_event = tokio::time::Instant::now();
            let frame: Frame = match serde_json::from_slice(&payload) {
                Ok(f) => f,
                Err(e) => {
                    tracing::warn!(error = %e, "ignored an unreadable assist frame");
                    continue;
                }
            };
            if frame.attempt != self.attempt {
                if self.answered || frame.attempt < self.attempt {
                    // Another delivery of a job already answering: ignore it.
                    continue;
                }
                // A newer delivery (the previous worker died before answering).
                if frame.seq != 0 {
                    continue;
                }
                self.attempt = frame.attempt;
                self.next_seq = 0;
            }
            self.worker.clone_from(&frame.worker);
            if frame.seq != self.next_seq {
                return self.fail(Status::unavailable(format!(
                    "lost assist events {}..{} on the bus; retry",
                    self.next_seq, frame.seq
                )));
            }
            self.next_seq += 1;
            match &frame.event {
                FrameEvent::Heartbeat => continue,
                FrameEvent::Token { .. } => {
                    self.answered = true;
                    self.answered_flag.store(true, Ordering::SeqCst);
                }
                FrameEvent::Error { code, message } => {
                    self.finished = true;
                    self.cancel.armed = false;
                    let code: ErrorCode = (*code).into();
                    return Some(Err(Status::new(grpc_code(code), message.clone())));
                }
                FrameEvent::Done { .. } => {
                    self.finished = true;
                    self.cancel.armed = false;
                }
                FrameEvent::Usage { .. } => {}
            }
            return frame.event.to_pb().map(Ok);
        }
    }

    fn fail(&mut self, status: Status) -> Option<Result<pb::AssistEvent, Status>> {
        self.finished = true;
        Some(Err(status))
    }
}

/// Tells the worker to stop when the stream is dropped before its last event.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct CancelOnDrop {
    bus: Arc<dyn Bus>,
    id: String,
    armed: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let bus = self.bus.clone();
        let subject = assist_cancel_subject(&self.id);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = bus.notify(&subject, Bytes::new()).await {
                    tracing::warn!(%subject, error = %e, "could not cancel an assist job");
                }
            });
        }
    }
}
