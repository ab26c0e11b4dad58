//! The assist worker: takes jobs from the assist queue, runs each against the provider
//! chain of its task and notifies its events on the job's reply subject.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aiex_proto::subjects::{
    ASSIST_QUEUE, assist_cancel_subject, assist_reply_subject, assist_waiting_subject,
};
use bytes::Bytes;
use futures::StreamExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::elixir_check::{extract_code, syntax_error};
use super::prompt::{build_prompt, history_messages};
use super::session::{self, Turn};
use super::{AssistJob, Frame, FrameEvent, Retriever, Task, WireCode};
use crate::NodeError;
use crate::bus::{Bus, Job};
use crate::context::{LlmSummary, TokenCounter, fit_history};
use crate::llm::{ChatRequest, Event, LlmConfig, LlmError, Message, Provider, Providers};

/// How a worker runs jobs.
#[derive(Debug, Clone)]
pub struct AssistOptions {
    /// How long a taken job stays invisible: a worker that dies before its first token
    /// leaves the job to be delivered again after this long. Keep it below the gateway's
    /// idle timeout.
    pub ack_wait: Duration,
    /// How often a running job says it is alive while the provider is silent.
    pub heartbeat: Duration,
    /// Characters of retrieved context in a prompt.
    pub context_chars: usize,
    /// Jobs run at once by this worker.
    pub max_concurrent: usize,
    /// The mesh member id this worker runs in, named in its events (empty: embedded).
    pub member: String,
    /// Tokens of a chat's earlier turns sent with a new one: the newest turns verbatim,
    /// the older ones summarised by the model in at most a quarter of it.
    pub history_tokens: usize,
}

/// [`AssistOptions::history_tokens`] by default.
pub const DEFAULT_HISTORY_TOKENS: usize = 8_000;

impl Default for AssistOptions {
    fn default() -> AssistOptions {
        AssistOptions {
            ack_wait: Duration::from_secs(30),
            heartbeat: Duration::from_secs(5),
            context_chars: 24_000,
            max_concurrent: 16,
            member: String::new(),
            history_tokens: DEFAULT_HISTORY_TOKENS,
        }
    }
}

/// The configured providers, or why there are none.
pub struct Llm {
    providers: Result<Providers, LlmError>,
    models: HashMap<String, String>,
}

impl Llm {
    /// Providers from `config` when it lists any, else from the environment
    /// (`OPENAI_API_KEY`, ...). A missing configuration is kept as the error every job
    /// answers with.
    pub fn load(config: Option<&LlmConfig>) -> Llm {
        let config = match config.filter(|c| !c.providers.is_empty()) {
            Some(c) => Ok(c.clone()),
            None => LlmConfig::from_env(),
        };
        let models = config
            .as_ref()
            .map(|c| {
                c.providers
                    .iter()
                    .map(|p| (p.name.clone(), p.model.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let providers = config.and_then(|c| {
            let env = |name: &str| std::env::var(name).ok();
            Providers::build(&c, &env)
        });
        if let Err(e) = &providers {
            tracing::warn!(error = %e, "assist runs without an LLM provider");
        }
        Llm { providers, models }
    }

    /// The mesh has `workers` live assist workers: each provider's cluster-wide rate
    /// limits are divided among them.
    pub fn set_live_workers(&self, workers: usize) {
        if let Ok(providers) = &self.providers {
            providers.set_live_nodes(workers.max(1));
        }
    }

    /// Whether a provider is configured (`Err` says how to configure one).
    pub fn check(&self) -> Result<(), LlmError> {
        self.providers.as_ref().map(|_| ()).map_err(Clone::clone)
    }
}

pub struct AssistWorker {
    bus: Arc<dyn Bus>,
    llm: Arc<Llm>,
    retriever: Arc<dyn Retriever>,
    options: AssistOptions,
    /// Jobs running here, so a delivery of one of them again (its ack wait passed while
    /// it runs) is not run twice.
    running: Mutex<HashSet<u64>>,
}

/// How a job ended, before it is notified.
struct Outcome {
    text: String,
    provider: String,
    model: String,
    valid_elixir: bool,
    repaired: bool,
    code: String,
}

impl AssistWorker {
    pub fn new(
        bus: Arc<dyn Bus>,
        llm: Arc<Llm>,
        retriever: Arc<dyn Retriever>,
        options: AssistOptions,
    ) -> Arc<AssistWorker> {
        Arc::new(AssistWorker {
            bus,
            llm,
            retriever,
            options,
            running: Mutex::default(),
        })
    }

    /// Takes and runs jobs until `shutdown` is cancelled.
    pub fn start(self: &Arc<Self>, shutdown: CancellationToken) -> JoinHandle<()> {
        let worker = self.clone();
        tokio::spawn(async move {
            let slots = Arc::new(tokio::sync::Semaphore::new(worker.options.max_concurrent));
            loop {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let taken = tokio::select! {
                    () = shutdown.cancelled() => return,
                    taken = worker.bus.take(ASSIST_QUEUE, worker.options.ack_wait, Duration::from_secs(1)) => taken,
                };
                match taken {
                    Ok(Some(job)) => {
                        if !lock(&worker.running).insert(job.id) {
                            continue;
                        }
                        let worker = worker.clone();
                        let shutdown = shutdown.clone();
                        tokio::spawn(async move {
                            let id = job.id;
                            worker.run(job, shutdown).await;
                            lock(&worker.running).remove(&id);
                            drop(permit);
                        });
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "taking an assist job failed; retrying");
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                }
            }
        })
    }

    async fn run(&self, job: Job, shutdown: CancellationToken) {
        let assist: AssistJob = match serde_json::from_slice(&job.payload) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(job = job.id, error = %e, "dropped an unreadable assist job");
                self.ack(job.id).await;
                return;
            }
        };
        if assist.expires_at_ms < super::now_ms() {
            tracing::info!(request = %assist.id, "dropped an expired assist job");
            self.ack(job.id).await;
            return;
        }
        if job.deliveries > 1 && !self.someone_waits(&assist.id).await {
            // The gateway gave up (its client saw an error or went away), or tokens of
            // an earlier delivery reached the client: running the job again would call
            // the provider, and append a chat turn, for nobody.
            tracing::info!(
                request = %assist.id,
                attempt = job.deliveries,
                "dropped an assist job given again: nobody waits for it any more"
            );
            self.ack(job.id).await;
            return;
        }
        // A child of the request that queued the job, when traces are exported.
        let span =
            tracing::info_span!("assist job", request = %assist.id, attempt = job.deliveries);
        crate::telemetry::follow_headers(&span, &assist.trace);
        tracing::Instrument::instrument(self.run_traced(job, assist, shutdown), span).await
    }

    /// Whether a gateway still waits for the events of request `id` from a new delivery.
    async fn someone_waits(&self, id: &str) -> bool {
        self.bus
            .request(
                &assist_waiting_subject(id),
                Bytes::new(),
                Duration::from_secs(5),
            )
            .await
            .is_ok_and(|reply| reply.as_ref() == super::ASSIST_WAITING)
    }

    async fn run_traced(&self, job: Job, assist: AssistJob, shutdown: CancellationToken) {
        let emitter = Arc::new(Emitter {
            bus: self.bus.clone(),
            subject: assist_reply_subject(&assist.id),
            worker: self.options.member.clone(),
            attempt: job.deliveries,
            seq: tokio::sync::Mutex::new(0),
        });
        let cancel = shutdown.child_token();
        // The gateway asks to stop when its client goes away.
        let watch_cancel = match self.bus.subscribe(&assist_cancel_subject(&assist.id)).await {
            Ok(mut sub) => {
                let cancel = cancel.clone();
                Some(tokio::spawn(async move {
                    if sub.next().await.is_some() {
                        cancel.cancel();
                    }
                }))
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch for cancellation");
                None
            }
        };
        // Stopped, never aborted, so a heartbeat is never cut half-sent (its number
        // taken, the frame lost), which the gateway would see as a gap.
        let stop_heartbeat = CancellationToken::new();
        let heartbeat = {
            let emitter = emitter.clone();
            let every = self.options.heartbeat;
            let stop = stop_heartbeat.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(every) => {}
                    }
                    emitter.send(FrameEvent::Heartbeat).await;
                }
            })
        };
        let result = self.execute(&assist, &emitter, cancel.clone()).await;
        stop_heartbeat.cancel();
        let _ = heartbeat.await;
        if let Some(w) = watch_cancel {
            w.abort();
        }
        let last = match result {
            Ok(outcome) => FrameEvent::Done {
                session_id: match &assist.task {
                    Task::Chat { session_id, .. } => session_id.clone(),
                    _ => String::new(),
                },
                provider: outcome.provider,
                model: outcome.model,
                valid_elixir: outcome.valid_elixir,
                repaired: outcome.repaired,
                code: outcome.code,
            },
            Err(e) => {
                if shutdown.is_cancelled() {
                    // The process is stopping: leave the job to another worker.
                    return;
                }
                if !matches!(e, NodeError::Llm(LlmError::Cancelled)) {
                    tracing::warn!(request = %assist.id, error = %e, "assist job failed");
                }
                FrameEvent::Error {
                    code: WireCode::from(e.code()),
                    message: e.to_string(),
                }
            }
        };
        emitter.send(last).await;
        self.ack(job.id).await;
    }

    async fn ack(&self, id: u64) {
        if let Err(e) = self.bus.ack(ASSIST_QUEUE, id).await {
            tracing::warn!(job = id, error = %e, "could not acknowledge an assist job");
        }
    }

    async fn execute(
        &self,
        job: &AssistJob,
        emitter: &Emitter,
        cancel: CancellationToken,
    ) -> Result<Outcome, NodeError> {
        let providers = self.llm.providers.as_ref().map_err(|e| e.clone())?;
        let chain = providers.chain(job.task.chain_name());
        let provider = chain
            .members()
            .first()
            .map(|s| s.to_string())
            .unwrap_or_default();
        let model = self.llm.models.get(&provider).cloned().unwrap_or_default();
        let turns = match &job.task {
            Task::Chat { session_id, .. } => session::load(&*self.bus, session_id).await?,
            _ => Vec::new(),
        };
        // The newest turns verbatim within the budget; older ones summarised by the model.
        let history = if turns.is_empty() {
            Vec::new()
        } else {
            let fitted = fit_history(
                &history_messages(&turns),
                self.options.history_tokens,
                &TokenCounter::for_model(&model),
                &LlmSummary {
                    provider: &*chain,
                    cancel: cancel.clone(),
                },
            )
            .await;
            if fitted.summarized_turns > 0 {
                tracing::info!(
                    summarized = fitted.summarized_turns,
                    kept = fitted.recent.len(),
                    tokens = fitted.tokens,
                    "older chat turns summarised"
                );
            }
            fitted.messages()
        };
        let mut messages = build_prompt(
            &job.task,
            &history,
            &*self.retriever,
            self.options.context_chars,
        )
        .await;
        let text = stream_answer(&*chain, messages.clone(), emitter, cancel.clone()).await?;
        let mut outcome = Outcome {
            text,
            provider,
            model,
            valid_elixir: false,
            repaired: false,
            code: String::new(),
        };
        match &job.task {
            Task::GenerateModule { .. } | Task::GenerateTests { .. } => {
                outcome.code = extract_code(&outcome.text);
                if let Some(error) = syntax_error(&outcome.code) {
                    emitter
                        .send(FrameEvent::Token {
                            text: format!(
                                "\n\n# aiex: the code above does not parse ({error}); asking for a repair\n\n"
                            ),
                        })
                        .await;
                    messages.push(Message::assistant(outcome.text.clone()));
                    messages.push(Message::user(format!(
                        "That code has a syntax error at {error}. Reply with the whole \
                         corrected code in one ```elixir block."
                    )));
                    let repaired = stream_answer(&*chain, messages, emitter, cancel).await?;
                    outcome.repaired = true;
                    outcome.code = extract_code(&repaired);
                    outcome.text = repaired;
                }
                outcome.valid_elixir = syntax_error(&outcome.code).is_none();
            }
            Task::Complete { prefix, suffix, .. } => {
                outcome.code = extract_code(&outcome.text);
                let joined = |code: &str| format!("{prefix}{code}{suffix}");
                // Judge the completion only when the file parsed without it.
                if syntax_error(&joined("")).is_none() {
                    if let Some(error) = syntax_error(&joined(&outcome.code)) {
                        messages.push(Message::assistant(outcome.text.clone()));
                        messages.push(Message::user(format!(
                            "Inserted at the cursor, that code makes the file fail to parse \
                             ({error}, counting lines from the start of the file). Reply with \
                             the corrected code to insert, in one ```elixir block."
                        )));
                        emitter
                            .send(FrameEvent::Token {
                                text: format!(
                                    "\n\n# aiex: the completion does not parse ({error}); asking for a repair\n\n"
                                ),
                            })
                            .await;
                        let repaired = stream_answer(&*chain, messages, emitter, cancel).await?;
                        outcome.repaired = true;
                        outcome.code = extract_code(&repaired);
                        outcome.text = repaired;
                    }
                    outcome.valid_elixir = syntax_error(&joined(&outcome.code)).is_none();
                }
            }
            Task::Chat {
                session_id,
                message,
                ..
            } => {
                let turn = Turn {
                    user: message.clone(),
                    assistant: outcome.text.clone(),
                };
                session::append(&*self.bus, session_id, history.len(), &turn, &job.id).await?;
            }
            Task::Explain { .. } => {}
        }
        Ok(outcome)
    }
}

/// Streams one answer of `provider` to the emitter; returns its whole text.
async fn stream_answer(
    provider: &dyn Provider,
    messages: Vec<Message>,
    emitter: &Emitter,
    cancel: CancellationToken,
) -> Result<String, NodeError> {
    let mut stream = provider
        .stream(ChatRequest::new(messages), cancel.clone())
        .await?;
    let mut text = String::new();
    loop {
        let event = tokio::select! {
            () = cancel.cancelled() => return Err(LlmError::Cancelled.into()),
            event = stream.next() => event,
        };
        match event {
            None => {
                return Err(LlmError::StreamDropped {
                    provider: provider.name().to_string(),
                }
                .into());
            }
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(Event::Token(t))) => {
                text.push_str(&t);
                emitter.send(FrameEvent::Token { text: t }).await;
            }
            Some(Ok(Event::Usage { input, output })) => {
                emitter.send(FrameEvent::Usage { input, output }).await;
            }
            Some(Ok(Event::Done { .. })) => return Ok(text),
        }
    }
}

/// Notifies a job's frames in order, numbering them.
struct Emitter {
    bus: Arc<dyn Bus>,
    subject: String,
    worker: String,
    attempt: u32,
    seq: tokio::sync::Mutex<u64>,
}

impl Emitter {
    async fn send(&self, event: FrameEvent) {
        let mut seq = self.seq.lock().await;
        let frame = Frame {
            attempt: self.attempt,
            seq: *seq,
            worker: self.worker.clone(),
            event,
        };
        *seq += 1;
        let payload = match serde_json::to_vec(&frame) {
            Ok(p) => Bytes::from(p),
            Err(e) => {
                tracing::error!(error = %e, "cannot encode an assist frame");
                return;
            }
        };
        if let Err(e) = self.bus.notify(&self.subject, payload).await {
            tracing::warn!(subject = %self.subject, error = %e, "could not notify an assist event");
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
