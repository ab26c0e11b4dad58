//! The LLM layer's error enum, mapped once to the crate's [`ErrorCode`].
//!
//! Every variant that comes from a provider names it. Bodies a provider sends back are
//! truncated and scrubbed of the provider's key before they are stored here, so an
//! `LlmError` can be logged or returned to a client as it is.

use std::time::Duration;

use crate::ErrorCode;

/// The environment variables that configure a provider, named in [`LlmError::NotConfigured`].
pub const PROVIDER_ENV_VARS: &str =
    "OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY or OLLAMA_HOST";

/// How much of an error body an error message keeps.
pub const MAX_ERROR_BODY: usize = 512;

#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    #[error(
        "no LLM provider is configured; set one of {PROVIDER_ENV_VARS} (or the *_API_KEY_FILE \
         variant pointing at a key file), or list providers in the [llm] config"
    )]
    NotConfigured,
    #[error("invalid LLM config: {0}")]
    Config(String),
    #[error("{provider}: HTTP {status}: {body}")]
    Http {
        provider: String,
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    #[error("{provider}: no response within {after:?}{}", attempts_note(*.attempts))]
    Timeout {
        provider: String,
        after: Duration,
        /// How many attempts each waited that long (retries included).
        attempts: u32,
    },
    #[error("{provider}: connection failed: {reason}")]
    Transport { provider: String, reason: String },
    #[error("{provider}: malformed response: {reason}")]
    Malformed { provider: String, reason: String },
    #[error("{provider}: the response stream ended before the provider finished")]
    StreamDropped { provider: String },
    #[error("{provider}: provider error ({kind}): {message}")]
    Provider {
        provider: String,
        kind: String,
        message: String,
    },
    #[error("{provider}: circuit breaker open after repeated failures; retry in {retry_in:?}")]
    CircuitOpen {
        provider: String,
        retry_in: Duration,
    },
    #[error(
        "{provider}: the request needs {needed} tokens but the tokens-per-minute limit is \
         {limit}; shorten the prompt or lower max_tokens"
    )]
    OverTokenLimit {
        provider: String,
        needed: u32,
        limit: u32,
    },
    #[error("the LLM request was cancelled")]
    Cancelled,
    #[error("every provider of chain {chain} failed: {}", summary(.errors))]
    ChainFailed {
        chain: String,
        errors: Vec<LlmError>,
    },
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" on each of {attempts} attempts")
    } else {
        String::new()
    }
}

fn summary(errors: &[LlmError]) -> String {
    let parts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    parts.join("; ")
}

impl LlmError {
    pub fn code(&self) -> ErrorCode {
        match self {
            LlmError::NotConfigured => ErrorCode::FailedPrecondition,
            LlmError::Config(_) | LlmError::OverTokenLimit { .. } => ErrorCode::InvalidArgument,
            LlmError::Http { status, .. } => match status {
                429 => ErrorCode::ResourceExhausted,
                401 | 403 => ErrorCode::FailedPrecondition,
                404 => ErrorCode::NotFound,
                400..=499 => ErrorCode::InvalidArgument,
                _ => ErrorCode::Unavailable,
            },
            LlmError::Timeout { .. }
            | LlmError::Transport { .. }
            | LlmError::StreamDropped { .. }
            | LlmError::Provider { .. }
            | LlmError::CircuitOpen { .. }
            | LlmError::Cancelled => ErrorCode::Unavailable,
            LlmError::Malformed { .. } => ErrorCode::Internal,
            LlmError::ChainFailed { errors, .. } => {
                errors.last().map_or(ErrorCode::Unavailable, LlmError::code)
            }
        }
    }

    /// Whether the same request to the same provider may succeed if tried again (before any
    /// token reached the caller): overload, 5xx, timeouts and dropped connections.
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Http { status, .. } => *status == 429 || *status == 408 || *status >= 500,
            LlmError::Timeout { .. }
            | LlmError::Transport { .. }
            | LlmError::StreamDropped { .. } => true,
            LlmError::Provider { kind, .. } => {
                matches!(
                    kind.as_str(),
                    "overloaded_error" | "api_error" | "rate_limit_error"
                )
            }
            _ => false,
        }
    }

    /// Whether the failure says something about the provider's health, and so counts
    /// towards opening its circuit breaker. A cancelled request, a request too large for
    /// the limits or a breaker that is already open say nothing new.
    pub fn counts_against_provider(&self) -> bool {
        !matches!(
            self,
            LlmError::Cancelled
                | LlmError::CircuitOpen { .. }
                | LlmError::OverTokenLimit { .. }
                | LlmError::NotConfigured
                | LlmError::Config(_)
                | LlmError::ChainFailed { .. }
        )
    }

    /// What the provider asked us to wait before the next request (429 `Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The first `MAX_ERROR_BODY` bytes of `body` (on a char boundary), with `…` when cut.
pub(crate) fn truncate_body(body: &str) -> String {
    let body = body.trim();
    if body.len() <= MAX_ERROR_BODY {
        return body.to_owned();
    }
    let mut end = MAX_ERROR_BODY;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &body[..end])
}
