//! Logs and traces for every Aiex process.
//!
//! Logs go to stderr (`RUST_LOG` filters; `AIEX_LOG_FORMAT=json` writes one JSON object
//! per line). Traces are exported over OTLP/HTTP when the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) variable is
//! set; the standard `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER` and
//! `OTEL_TRACES_SAMPLER_ARG` variables apply (the default samples everything a parent
//! did not decide otherwise; `parentbased_traceidratio` with `0.01` samples 1%).
//!
//! W3C trace context (`traceparent`) travels in gRPC metadata (gateway to node) and in
//! bus message headers, so one trace follows a request through every process: each gRPC
//! server opens its request span as a child of the caller's ([`grpc_span`]), and clients
//! inject the current span ([`inject_metadata`], [`inject_headers`]).

use std::collections::BTreeMap;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The exporter, to flush on shutdown (none when no endpoint is configured).
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

fn otlp_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var(v).is_ok_and(|e| !e.trim().is_empty()))
}

/// Installs logging (and trace export when configured) for a process that identifies as
/// `service` (unless `OTEL_SERVICE_NAME` says otherwise). `default_filter` applies when
/// `RUST_LOG` is unset. Safe to call twice: the second call changes nothing.
pub fn init(service: &str, default_filter: &str) -> Telemetry {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let json = std::env::var("AIEX_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let fmt = if json {
        fmt.json().boxed()
    } else {
        fmt.boxed()
    };

    let mut export_error = None;
    let provider = if otlp_configured() {
        // reqwest is built without a bundled crypto provider (see the LLM layer): use
        // ring, which the NATS client already brings, unless one is installed.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
        {
            Ok(exporter) => {
                let name = std::env::var("OTEL_SERVICE_NAME")
                    .ok()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| service.to_string());
                Some(
                    SdkTracerProvider::builder()
                        .with_batch_exporter(exporter)
                        .with_resource(
                            opentelemetry_sdk::Resource::builder()
                                .with_service_name(name)
                                .build(),
                        )
                        .build(),
                )
            }
            Err(e) => {
                export_error = Some(e.to_string());
                None
            }
        }
    } else {
        None
    };
    let otel = provider.as_ref().map(|p| {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        tracing_opentelemetry::layer().with_tracer(p.tracer("aiex"))
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init();
    if let Some(e) = export_error {
        tracing::warn!(error = %e, "OTLP trace export is configured but could not start; traces are not exported");
    } else if provider.is_some() {
        tracing::info!(service, "exporting traces over OTLP");
    }
    Telemetry { provider }
}

impl Telemetry {
    /// Exports what is buffered and stops the exporter. It blocks: call it outside the
    /// async runtime, or from `spawn_blocking`.
    pub fn shutdown(self) {
        if let Some(p) = self.provider
            && let Err(e) = p.shutdown()
        {
            eprintln!("warning: flushing traces failed: {e}");
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(k, v);
        }
    }
}

struct MapCarrier<'a>(&'a mut BTreeMap<String, String>);

impl Injector for MapCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}

struct MapExtractor<'a>(&'a BTreeMap<String, String>);

impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// The span of one incoming gRPC request, a child of the caller's span when the request
/// carries W3C trace context. For `tonic::transport::Server::trace_fn`.
pub fn grpc_span(request: &http::Request<()>) -> tracing::Span {
    let path = request.uri().path();
    let span =
        tracing::info_span!("grpc", otel.name = %path, rpc.system = "grpc", rpc.method = %path);
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()));
    let _ = span.set_parent(parent);
    span
}

/// Adds the current span's trace context to an outgoing gRPC request.
pub fn inject_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut MetadataInjector(metadata));
}

/// A tonic client interceptor that adds the current span's trace context.
pub fn propagate(mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    inject_metadata(request.metadata_mut());
    Ok(request)
}

/// Adds the current span's trace context to bus message headers.
pub fn inject_headers(headers: &mut BTreeMap<String, String>) {
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut MapCarrier(headers));
}

/// Makes `span` a child of the trace context carried in bus message headers, if any.
pub fn follow_headers(span: &tracing::Span, headers: &BTreeMap<String, String>) {
    let parent = TraceContextPropagator::new().extract(&MapExtractor(headers));
    let _ = span.set_parent(parent);
}
