//! [`HttpProvider`]: one provider's HTTP API, called with reqwest (rustls), the response
//! streamed and decoded frame by frame.
//!
//! The provider's `timeout` bounds each wait: for the response headers, for each piece of
//! a streamed body, and for a whole non-streamed body. A long answer that keeps arriving
//! is never cut; a provider that goes quiet is. The key is set on the request and nowhere
//! else: any error text that comes back is scrubbed of it.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, SystemTime};

use futures::stream;
use tokio_util::sync::CancellationToken;

use super::error::truncate_body;
use super::frame::Framer;
use super::wire::{Call, Decode, Fault, Wire, wire_for};
use super::{ChatRequest, Event, EventStream, LlmError, Provider, ProviderKind, Secret};

/// Where and how to reach one provider.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub kind: ProviderKind,
    /// Without a trailing slash, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub model: String,
    pub key: Option<Secret>,
    /// Used when the request does not set `max_tokens`.
    pub max_tokens: u32,
    pub timeout: Duration,
}

/// A real client of one provider's HTTP API.
pub struct HttpProvider {
    name: String,
    endpoint: Endpoint,
    http: reqwest::Client,
    wire: Box<dyn Wire>,
}

impl fmt::Debug for HttpProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProvider")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl HttpProvider {
    pub fn new(name: impl Into<String>, mut endpoint: Endpoint) -> Result<HttpProvider, LlmError> {
        let name = name.into();
        endpoint.base_url = endpoint.base_url.trim_end_matches('/').to_owned();
        // reqwest is built without a bundled crypto provider; use ring, which the NATS
        // client already brings, unless the process installed another.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .connect_timeout(endpoint.timeout)
            .user_agent(concat!("aiex/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Config(format!("provider {name}: HTTP client: {e}")))?;
        Ok(HttpProvider {
            wire: wire_for(endpoint.kind),
            name,
            endpoint,
            http,
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn scrub(&self, text: &str) -> String {
        match &self.endpoint.key {
            Some(key) => key.scrub(text),
            None => text.to_owned(),
        }
    }

    fn fault(&self, fault: Fault) -> LlmError {
        fault_error(&self.name, self.endpoint.key.as_ref(), fault)
    }

    fn transport(&self, e: &reqwest::Error) -> LlmError {
        if e.is_timeout() {
            return LlmError::Timeout {
                provider: self.name.clone(),
                after: self.endpoint.timeout,
                attempts: 1,
            };
        }
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason.push_str(": ");
            reason.push_str(&s.to_string());
            source = s.source();
        }
        LlmError::Transport {
            provider: self.name.clone(),
            reason: truncate_body(&self.scrub(&reason)),
        }
    }

    fn timeout(&self) -> LlmError {
        LlmError::Timeout {
            provider: self.name.clone(),
            after: self.endpoint.timeout,
            attempts: 1,
        }
    }

    /// Waits for `fut`, bounded by the timeout and by `cancel`.
    async fn bounded<T>(
        &self,
        cancel: &CancellationToken,
        fut: impl Future<Output = Result<T, reqwest::Error>>,
    ) -> Result<T, LlmError> {
        tokio::select! {
            _ = cancel.cancelled() => Err(LlmError::Cancelled),
            r = tokio::time::timeout(self.endpoint.timeout, fut) => match r {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(self.transport(&e)),
                Err(_) => Err(self.timeout()),
            },
        }
    }

    async fn status_error(
        &self,
        response: reqwest::Response,
        cancel: &CancellationToken,
    ) -> LlmError {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let body = match self.bounded(cancel, response.bytes()).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => format!("(body unreadable: {e})"),
        };
        LlmError::Http {
            provider: self.name.clone(),
            status,
            body: truncate_body(&self.scrub(&body)),
            retry_after,
        }
    }
}

#[async_trait::async_trait]
impl Provider for HttpProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn stream(
        &self,
        req: ChatRequest,
        cancel: CancellationToken,
    ) -> Result<EventStream, LlmError> {
        let model = req.model.as_deref().unwrap_or(&self.endpoint.model);
        let call = Call {
            http: &self.http,
            base_url: &self.endpoint.base_url,
            model,
            key: self.endpoint.key.as_ref(),
            max_tokens: req.max_tokens.unwrap_or(self.endpoint.max_tokens),
            req: &req,
        };
        let builder = self.wire.request(&call);
        let response = self.bounded(&cancel, builder.send()).await?;
        if !response.status().is_success() {
            return Err(self.status_error(response, &cancel).await);
        }
        if !req.stream {
            let bytes = self.bounded(&cancel, response.bytes()).await?;
            let body: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
                self.fault(Fault::Malformed(format!(
                    "invalid JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )))
            })?;
            let events = self.wire.decode_whole(&body).map_err(|f| self.fault(f))?;
            return Ok(Box::pin(stream::iter(events.into_iter().map(Ok))));
        }
        let body = StreamedBody {
            provider: self.name.clone(),
            key: self.endpoint.key.clone(),
            timeout: self.endpoint.timeout,
            response,
            framer: Framer::new(self.wire.framing()),
            decoder: self.wire.decoder(),
            pending: VecDeque::new(),
            cancel,
            finished: false,
        };
        let events = stream::unfold(body, |mut body| async move {
            let item = body.next().await?;
            Some((item, body))
        });
        Ok(Box::pin(events))
    }
}

/// A streamed response being decoded. It owns what it needs of the provider, so the
/// stream outlives the `&self` borrow; dropping it drops the connection.
struct StreamedBody {
    provider: String,
    key: Option<Secret>,
    timeout: Duration,
    response: reqwest::Response,
    framer: Framer,
    decoder: Box<dyn Decode>,
    pending: VecDeque<Result<Event, LlmError>>,
    cancel: CancellationToken,
    finished: bool,
}

impl StreamedBody {
    async fn next(&mut self) -> Option<Result<Event, LlmError>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            let chunk = tokio::select! {
                _ = self.cancel.cancelled() => {
                    self.finished = true;
                    return Some(Err(LlmError::Cancelled));
                }
                r = tokio::time::timeout(self.timeout, self.response.chunk()) => r,
            };
            match chunk {
                Ok(Ok(Some(bytes))) => {
                    let frames = self.framer.push(&bytes);
                    self.decode(frames);
                }
                Ok(Ok(None)) => {
                    let frames = self.framer.finish();
                    self.decode(frames);
                    if !self.finished {
                        self.finished = true;
                        match self.decoder.end() {
                            Ok(events) => self.pending.extend(events.into_iter().map(Ok)),
                            Err(f) => self.pending.push_back(Err(self.fault(f))),
                        }
                    }
                }
                Ok(Err(_)) => {
                    // The connection broke mid-body (reset, or closed before the last
                    // chunk). If the provider had already said it finished, the answer is
                    // whole; otherwise the stream was cut, whatever the transport said.
                    self.finished = true;
                    match self.decoder.end() {
                        Ok(events) => self.pending.extend(events.into_iter().map(Ok)),
                        Err(_) => {
                            return Some(Err(LlmError::StreamDropped {
                                provider: self.provider.clone(),
                            }));
                        }
                    }
                }
                Err(_) => {
                    self.finished = true;
                    return Some(Err(LlmError::Timeout {
                        provider: self.provider.clone(),
                        after: self.timeout,
                        attempts: 1,
                    }));
                }
            }
        }
    }

    fn decode(&mut self, frames: Vec<super::frame::Frame>) {
        for frame in frames {
            if self.finished {
                return;
            }
            match self.decoder.frame(&frame) {
                Ok(events) => self.pending.extend(events.into_iter().map(Ok)),
                Err(f) => {
                    let e = self.fault(f);
                    self.pending.push_back(Err(e));
                    self.finished = true;
                }
            }
            if self.decoder.done() {
                self.finished = true;
            }
        }
    }

    fn fault(&self, fault: Fault) -> LlmError {
        fault_error(&self.provider, self.key.as_ref(), fault)
    }
}

fn fault_error(provider: &str, key: Option<&Secret>, fault: Fault) -> LlmError {
    let scrub = |t: &str| key.map_or_else(|| t.to_owned(), |k| k.scrub(t));
    let provider = provider.to_owned();
    match fault {
        Fault::Malformed(reason) => LlmError::Malformed {
            provider,
            reason: truncate_body(&scrub(&reason)),
        },
        Fault::Provider { kind, message } => LlmError::Provider {
            provider,
            kind: scrub(&kind),
            message: truncate_body(&scrub(&message)),
        },
        Fault::Dropped => LlmError::StreamDropped { provider },
    }
}

/// `Retry-After` as delay-seconds (`"2"`, `"1.5"`) or an HTTP date, relative to `now`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 0.5 ", now),
            Some(Duration::from_millis(500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
