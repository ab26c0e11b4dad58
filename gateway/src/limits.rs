//! A tower layer enforcing `max_concurrent_requests` (refusing, not queueing, with
//! RESOURCE_EXHAUSTED) and reporting tonic's "message too large" (OUT_OF_RANGE) as
//! RESOURCE_EXHAUSTED, as the gRPC spec asks for messages over the limit. It also
//! measures every call (`aiex_gateway_requests_*`), refused ones included.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use tokio::sync::Semaphore;
use tonic::{Code, Status};
use tower::{Layer, Service};

#[derive(Clone)]
pub struct LimitsLayer {
    permits: Arc<Semaphore>,
    limit: usize,
}

impl LimitsLayer {
    pub fn new(max_concurrent_requests: usize) -> LimitsLayer {
        let limit = max_concurrent_requests.max(1);
        LimitsLayer {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }
}

impl<S> Layer<S> for LimitsLayer {
    type Service = Limits<S>;

    fn layer(&self, inner: S) -> Limits<S> {
        Limits {
            inner,
            permits: self.permits.clone(),
            limit: self.limit,
        }
    }
}

#[derive(Clone)]
pub struct Limits<S> {
    inner: S,
    permits: Arc<Semaphore>,
    limit: usize,
}

impl<S, B> Service<http::Request<B>> for Limits<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().trim_start_matches('/').to_owned();
        let started = Instant::now();
        let in_flight = crate::metrics::InFlight::start();
        // Health checks are always answered.
        let exempt = request.uri().path().starts_with("/grpc.health.");
        let permit = if exempt {
            None
        } else {
            match self.permits.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => {
                    let status = Status::resource_exhausted(format!(
                        "too many concurrent requests: the limit is {} (max_concurrent_requests); retry shortly",
                        self.limit
                    ));
                    drop(in_flight);
                    let response = status.into_http();
                    record(&method, &response, started);
                    return Box::pin(async move { Ok(response) });
                }
            }
        };
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let result = inner.call(request).await;
            drop(permit);
            drop(in_flight);
            let mut response = match result {
                Ok(response) => response,
                Err(e) => {
                    crate::metrics::request_finished(&method, "Unknown", started.elapsed());
                    return Err(e);
                }
            };
            remap_too_large(&mut response);
            record(&method, &response, started);
            Ok(response)
        })
    }
}

/// Records a call answered with `response`. The status is the `grpc-status` header of a
/// trailers-only response (every error before the first message), else OK: a unary
/// success, or a stream whose status only comes in its trailers.
fn record<B>(method: &str, response: &http::Response<B>, started: Instant) {
    let code = response
        .headers()
        .get("grpc-status")
        .and_then(|s| s.to_str().ok())
        .and_then(|s| s.parse::<i32>().ok())
        .map_or(Code::Ok, Code::from_i32);
    // Unknown paths are answered UNIMPLEMENTED: one label for all of them keeps the
    // series count bounded whatever clients send.
    let method = if code == Code::Unimplemented {
        "unknown"
    } else {
        method
    };
    crate::metrics::request_finished(method, code_name(code), started.elapsed());
}

fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Cancelled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

/// OUT_OF_RANGE "message length too large" (tonic's decoder) becomes RESOURCE_EXHAUSTED.
fn remap_too_large<B>(response: &mut http::Response<B>) {
    let headers = response.headers_mut();
    if headers.get("grpc-status").is_none_or(|s| s != "11") {
        return;
    }
    // grpc-message is percent-encoded.
    let Some(message) = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .filter(|m| m.contains("too%20large") || m.contains("too large"))
        .map(str::to_owned)
    else {
        return;
    };
    headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    // Name the setting, as the other limits do.
    if !message.contains("max_request_bytes")
        && let Ok(named) = http::HeaderValue::from_str(&format!("{message}%20(max_request_bytes)"))
    {
        headers.insert("grpc-message", named);
    }
}
