//! A tower layer enforcing `max_concurrent_requests` (refusing, not queueing, with
//! RESOURCE_EXHAUSTED) and reporting tonic's "message too large" (OUT_OF_RANGE) as
//! RESOURCE_EXHAUSTED, as the gRPC spec asks for messages over the limit.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tokio::sync::Semaphore;
use tonic::Status;
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
                    return Box::pin(async move { Ok(status.into_http()) });
                }
            }
        };
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(request).await?;
            drop(permit);
            remap_too_large(&mut response);
            Ok(response)
        })
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
