//! [`GuardedProvider`]: a provider behind its rate limits, retries and circuit breaker.
//!
//! One call: ask the breaker, wait for the rate limits, send, and read the stream up to
//! its first token (or its end). A failure up to that point is retried, with exponential
//! backoff and full jitter, if it is the kind that may pass (429, 5xx, timeout, dropped
//! connection); a 429's `Retry-After` is honoured as the least wait. Once the first token
//! is in hand the stream is returned and nothing is ever retried: a failure after that
//! reaches the caller as an error in the stream.

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use super::breaker::{BreakerState, CircuitBreaker};
use super::limit::RateLimiter;
use super::{ChatRequest, Event, EventStream, LlmError, Provider};
use crate::metrics::LlmLabels;

/// How a provider's failed calls are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The backoff before the first retry; it doubles for each later one.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the error goes to the caller
    /// (and a chain fails over) instead.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): a uniformly random duration in
    /// `[cap/2, cap]` where `cap = min(max_delay, base_delay * 2^retry)`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let half = cap / 2;
        let spread = u64::try_from((cap - half).as_nanos()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            RandomState::new().hash_one(retry) % (spread + 1)
        };
        half + Duration::from_nanos(jitter)
    }
}

/// A provider with rate limits, retries and a circuit breaker around it.
pub struct GuardedProvider {
    inner: Arc<dyn Provider>,
    limiter: RateLimiter,
    breaker: Arc<CircuitBreaker>,
    retry: RetryPolicy,
    /// Added to the prompt estimate when charging the tokens limit: the most the answer
    /// may use.
    max_tokens: u32,
}

impl std::fmt::Debug for GuardedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedProvider")
            .field("name", &self.inner.name())
            .field("limiter", &self.limiter)
            .field("breaker", &self.breaker.state())
            .field("retry", &self.retry)
            .finish()
    }
}

impl GuardedProvider {
    pub fn new(
        inner: Arc<dyn Provider>,
        limiter: RateLimiter,
        breaker: Arc<CircuitBreaker>,
        retry: RetryPolicy,
        max_tokens: u32,
    ) -> GuardedProvider {
        GuardedProvider {
            inner,
            limiter,
            breaker,
            retry,
            max_tokens,
        }
    }

    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// Sends once and reads up to the first token. The events read so far come back with
    /// the rest of the stream.
    async fn attempt(
        &self,
        req: &ChatRequest,
        cancel: &CancellationToken,
    ) -> Result<(VecDeque<Event>, EventStream), LlmError> {
        let mut stream = self.inner.stream(req.clone(), cancel.clone()).await?;
        let mut head = VecDeque::new();
        loop {
            match stream.next().await {
                Some(Ok(event)) => {
                    let first = matches!(event, Event::Token(_) | Event::Done { .. });
                    head.push_back(event);
                    if first {
                        return Ok((head, stream));
                    }
                }
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(LlmError::StreamDropped {
                        provider: self.inner.name().to_owned(),
                    });
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Provider for GuardedProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    #[tracing::instrument(name = "llm call", skip_all, fields(provider = %self.inner.name()))]
    async fn stream(
        &self,
        req: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, LlmError> {
        let name = self.inner.name();
        let labels = LlmLabels::new(name, req.model.as_deref());
        let started = Instant::now();
        let result = self.stream_guarded(req, cancel, &labels).await;
        self.record_breaker(&labels);
        match result {
            Ok((head, rest)) => {
                labels.first_token(started.elapsed());
                Ok(Box::pin(AfterFirstToken {
                    head,
                    rest,
                    breaker: Arc::clone(&self.breaker),
                    labels,
                    started,
                    finished: false,
                }))
            }
            Err(e) => {
                let outcome = if matches!(e, LlmError::Cancelled) {
                    "cancelled"
                } else {
                    "error"
                };
                labels.finished(outcome, started.elapsed());
                Err(e)
            }
        }
    }
}

impl GuardedProvider {
    fn record_breaker(&self, labels: &LlmLabels) {
        labels.breaker(match self.breaker.state() {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        });
    }

    /// Sends with retries until the first token (or the last failure).
    async fn stream_guarded(
        &self,
        req: ChatRequest,
        cancel: CancellationToken,
        labels: &LlmLabels,
    ) -> Result<(VecDeque<Event>, EventStream), LlmError> {
        let name = self.inner.name();
        let tokens = req
            .estimated_prompt_tokens()
            .saturating_add(req.max_tokens.unwrap_or(self.max_tokens));
        let mut last_error = None;
        // Earlier attempts that timed out.
        let mut timeouts = 0;
        for attempt in 0..=self.retry.max_retries {
            let permit = match self.breaker.acquire() {
                Ok(permit) => permit,
                Err(retry_in) => {
                    return Err(match last_error {
                        Some(error) => with_attempts(error, attempt, timeouts),
                        None => LlmError::CircuitOpen {
                            provider: name.to_owned(),
                            retry_in,
                        },
                    });
                }
            };
            let waiting = Instant::now();
            self.limiter.acquire(tokens, &cancel).await?;
            labels.rate_limited(waiting.elapsed());
            let error = match self.attempt(&req, &cancel).await {
                Ok(first) => {
                    permit.succeed();
                    return Ok(first);
                }
                Err(e) => e,
            };
            if error.counts_against_provider() {
                permit.fail();
            } else {
                drop(permit);
            }
            self.record_breaker(labels);
            if !error.is_retryable() || attempt == self.retry.max_retries {
                return Err(with_attempts(error, attempt + 1, timeouts + 1));
            }
            let mut wait = self.retry.backoff(attempt);
            if let Some(retry_after) = error.retry_after() {
                if retry_after > self.retry.max_retry_after {
                    return Err(error);
                }
                wait = wait.max(retry_after);
            }
            if matches!(error, LlmError::Timeout { .. }) {
                timeouts += 1;
            }
            tracing::warn!(provider = name, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, error = %error, "llm call failed, retrying");
            labels.retried();
            tokio::select! {
                _ = cancel.cancelled() => return Err(LlmError::Cancelled),
                _ = tokio::time::sleep(wait) => {}
            }
            last_error = Some(error);
        }
        Err(last_error.unwrap_or(LlmError::Cancelled))
    }
}

/// A timeout after `attempts` attempts that all timed out (`timeouts` of them) says so:
/// otherwise the time the caller waited reads as a fraction of what it was.
fn with_attempts(error: LlmError, attempts: u32, timeouts: u32) -> LlmError {
    match error {
        LlmError::Timeout {
            provider, after, ..
        } if attempts > 1 && timeouts == attempts => LlmError::Timeout {
            provider,
            after,
            attempts,
        },
        other => other,
    }
}

/// The stream after its first token: the events already read, then the rest. A failure
/// now counts against the provider's breaker, and is never retried.
struct AfterFirstToken {
    head: VecDeque<Event>,
    rest: EventStream,
    breaker: Arc<CircuitBreaker>,
    labels: LlmLabels,
    started: Instant,
    /// Whether the call's outcome was recorded.
    finished: bool,
}

impl AfterFirstToken {
    fn observe(&mut self, item: &Option<Result<Event, LlmError>>) {
        match item {
            Some(Ok(Event::Usage { input, output })) => {
                self.labels.tokens(u64::from(*input), u64::from(*output));
            }
            Some(Ok(Event::Done { .. })) | None if !self.finished => {
                self.finished = true;
                self.labels.finished("ok", self.started.elapsed());
            }
            Some(Err(e)) if !self.finished => {
                self.finished = true;
                let outcome = if matches!(e, LlmError::Cancelled) {
                    "cancelled"
                } else {
                    "error"
                };
                self.labels.finished(outcome, self.started.elapsed());
            }
            _ => {}
        }
    }
}

impl Stream for AfterFirstToken {
    type Item = Result<Event, LlmError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(event) = self.head.pop_front() {
            let item = Some(Ok(event));
            self.observe(&item);
            return Poll::Ready(item);
        }
        let item = self.rest.poll_next_unpin(cx);
        if let Poll::Ready(Some(Err(e))) = &item
            && e.counts_against_provider()
        {
            self.breaker.record_failure();
        }
        if let Poll::Ready(item) = &item {
            self.observe(item);
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let policy = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(60),
        };
        for _ in 0..50 {
            let d0 = policy.backoff(0);
            assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100));
            let d2 = policy.backoff(2);
            assert!(d2 >= Duration::from_millis(200) && d2 <= Duration::from_millis(400));
            let d9 = policy.backoff(9);
            assert!(d9 >= Duration::from_millis(500) && d9 <= Duration::from_secs(1));
        }
        assert!(policy.backoff(40) <= Duration::from_secs(1));
    }
}
