//! The observability endpoint every server process can open (`--metrics-listen`): a
//! small HTTP/1.1 server answering
//!
//! - `/metrics`: the Prometheus text format, from the one recorder installed here;
//! - `/health/livez`: 200 while the process runs;
//! - `/health/readyz`: 200 while the process's readiness bit is set (the bit a node or
//!   gateway gossips, and gRPC health shows), 503 otherwise.
//!
//! It opens before the role starts, so liveness answers while the role connects to its
//! dependencies; readiness is attached once the role has started.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aiex_node::readiness::Readiness;
use anyhow::{Context, Result};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Histogram buckets, in seconds: 1 ms to 2 min covers a chunk, a commit, a search and
/// an LLM request.
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];
/// How often histograms are compacted (the exporter does it only when asked).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// A running endpoint; readiness reads 503 until [`Endpoint::attach`] is called.
pub struct Endpoint {
    readiness: Arc<OnceLock<Readiness>>,
}

impl Endpoint {
    /// Installs the process's metrics recorder, registers every series, binds `listen`
    /// and serves in the background until the process ends.
    pub async fn start(listen: SocketAddr) -> Result<Endpoint> {
        let prometheus = PrometheusBuilder::new()
            .set_buckets(SECONDS_BUCKETS)
            .context("configuring histogram buckets")?
            .install_recorder()
            .context("installing the metrics recorder")?;
        aiex_node::metrics::register_node();
        aiex_gateway::metrics::register_gateway();
        let listener = TcpListener::bind(listen).await.with_context(|| {
            format!("cannot listen on {listen} for metrics (choose another --metrics-listen)")
        })?;
        let local_addr = listener.local_addr().context("the metrics listener")?;
        let readiness = Arc::new(OnceLock::new());
        tokio::spawn(upkeep(prometheus.clone()));
        tokio::spawn(accept(listener, prometheus, readiness.clone()));
        eprintln!("aiex: metrics and health on http://{local_addr}/metrics");
        Ok(Endpoint { readiness })
    }

    /// Shows `readiness` on `/health/readyz` from now on.
    pub fn attach(&self, readiness: Readiness) {
        let _ = self.readiness.set(readiness);
    }
}

/// Starts the endpoint when `listen` is given.
pub async fn start(listen: Option<SocketAddr>) -> Result<Option<Endpoint>> {
    match listen {
        Some(listen) => Ok(Some(Endpoint::start(listen).await?)),
        None => Ok(None),
    }
}

/// Attaches `readiness` to the endpoint, if there is one.
pub fn attach(endpoint: &Option<Endpoint>, readiness: Readiness) {
    if let Some(endpoint) = endpoint {
        endpoint.attach(readiness);
    }
}

async fn upkeep(prometheus: PrometheusHandle) {
    let mut every = tokio::time::interval(UPKEEP_EVERY);
    loop {
        every.tick().await;
        prometheus.run_upkeep();
    }
}

async fn accept(
    listener: TcpListener,
    prometheus: PrometheusHandle,
    readiness: Arc<OnceLock<Readiness>>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a metrics connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let prometheus = prometheus.clone();
        let readiness = readiness.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let response = answer(&request, &prometheus, readiness.get());
                async move { Ok::<_, Infallible>(response) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "metrics connection ended with an error");
            }
        });
    }
}

fn answer(
    request: &Request<Incoming>,
    prometheus: &PrometheusHandle,
    readiness: Option<&Readiness>,
) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "use GET\n");
    }
    match request.uri().path() {
        "/metrics" => {
            let mut response = text(StatusCode::OK, prometheus.render());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        "/health/livez" => text(StatusCode::OK, "ok\n"),
        "/health/readyz" => {
            if readiness.is_some_and(Readiness::is_ready) {
                text(StatusCode::OK, "ready\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
            }
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /metrics, /health/livez or /health/readyz\n",
        ),
    }
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}
