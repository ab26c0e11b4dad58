//! The LLM provider layer: one streaming interface over OpenAI (and any OpenAI-compatible
//! server), Anthropic, Google Gemini and Ollama, made dependable for the assist workers.
//!
//! Layers, from the wire up:
//!
//! - [`frame`]: incremental SSE and NDJSON framing of a response body;
//! - [`http`]: [`HttpProvider`], one real HTTP client per configured provider, speaking
//!   that provider's API (request shape, auth header, stream format, usage fields);
//! - [`limit`]: per-provider requests-per-minute and tokens-per-minute limits (`governor`),
//!   divided among the live nodes of the mesh by [`shared_limit`];
//! - [`breaker`]: a circuit breaker per provider (closed, open, half-open with one probe);
//! - [`guard`]: [`GuardedProvider`] puts limits, retries (exponential backoff with jitter,
//!   `Retry-After` honoured) and the breaker around a provider. It never retries once a
//!   token has reached the caller;
//! - [`chain`]: [`ProviderChain`], the providers a task tries in order, failing over within
//!   one request when a provider fails before its first token;
//! - [`config`]: [`LlmConfig`] (TOML-friendly) and [`Providers`], built from config or from
//!   the environment (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `GEMINI_API_KEY`, `OLLAMA_HOST`,
//!   or `*_API_KEY_FILE` for keys mounted as files).
//!
//! Keys live in [`Secret`], which never prints; errors carry the provider name, the HTTP
//! status and a truncated body scrubbed of the key. Cancelling the token passed to
//! [`Provider::stream`], or dropping the stream, stops the HTTP request.

pub mod breaker;
pub mod chain;
pub mod config;
pub mod error;
pub mod frame;
pub mod guard;
pub mod http;
pub mod limit;
pub mod secret;
mod wire;

use std::pin::Pin;

use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

pub use breaker::{BreakerState, CircuitBreaker};
pub use chain::ProviderChain;
pub use config::{LlmConfig, ProviderConfig, ProviderKind, Providers};
pub use error::LlmError;
pub use guard::{GuardedProvider, RetryPolicy};
pub use http::HttpProvider;
pub use limit::{Limits, Rate, RateLimiter, shared_limit};
pub use secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// One chat request, provider-neutral. The model comes from the provider's config unless
/// `model` overrides it; `max_tokens` likewise.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    pub model: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    /// Ask the provider to stream (true) or to answer in one JSON body (false). The events
    /// the caller sees are the same either way.
    pub stream: bool,
}

impl ChatRequest {
    /// A streamed request with these messages and the provider's defaults.
    pub fn new(messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            messages,
            model: None,
            max_tokens: None,
            temperature: None,
            stream: true,
        }
    }

    /// A rough token count of the prompt (4 bytes a token, plus a little per message),
    /// used to charge the tokens-per-minute limit before the provider reports usage.
    pub fn estimated_prompt_tokens(&self) -> u32 {
        let bytes: usize = self.messages.iter().map(|m| m.content.len() + 16).sum();
        u32::try_from(bytes.div_ceil(4)).unwrap_or(u32::MAX)
    }
}

/// Why the provider stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// `max_tokens` reached.
    Length,
    /// Anything else the provider said (content filter, tool use, ...), as it said it.
    Other(String),
}

impl FinishReason {
    pub(crate) fn from_provider(reason: &str) -> FinishReason {
        match reason {
            "stop" | "end_turn" | "stop_sequence" | "STOP" => FinishReason::Stop,
            "length" | "max_tokens" | "MAX_TOKENS" => FinishReason::Length,
            other => FinishReason::Other(other.to_owned()),
        }
    }
}

/// What a provider's stream yields. A successful stream is zero or more `Token`s, then one
/// `Usage`, then `Done`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Token(String),
    Usage { input: u32, output: u32 },
    Done { finish_reason: FinishReason },
}

pub type EventStream = Pin<Box<dyn Stream<Item = Result<Event, LlmError>> + Send>>;

/// A source of chat completions: a single HTTP provider, a guarded one, or a chain.
///
/// `stream` returns once the request is under way. An error returned here means nothing
/// was emitted; for [`GuardedProvider`] and [`ProviderChain`] it also means no token was
/// produced, so the caller may safely try elsewhere. Errors inside the stream come after
/// tokens and must not be retried by re-sending the request.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    fn name(&self) -> &str;

    async fn stream(
        &self,
        req: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, LlmError>;
}

/// A whole answer, collected from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub finish_reason: FinishReason,
}

/// The non-streaming call: runs `req` on `provider` and collects the answer.
pub async fn complete(
    provider: &dyn Provider,
    req: ChatRequest,
    cancel: CancellationToken,
) -> Result<Completion, LlmError> {
    let name = provider.name().to_owned();
    let mut stream = provider.stream(req, cancel).await?;
    let mut text = String::new();
    let (mut input_tokens, mut output_tokens) = (0, 0);
    while let Some(event) = stream.next().await {
        match event? {
            Event::Token(t) => text.push_str(&t),
            Event::Usage { input, output } => {
                input_tokens = input;
                output_tokens = output;
            }
            Event::Done { finish_reason } => {
                return Ok(Completion {
                    text,
                    input_tokens,
                    output_tokens,
                    finish_reason,
                });
            }
        }
    }
    Err(LlmError::StreamDropped { provider: name })
}
