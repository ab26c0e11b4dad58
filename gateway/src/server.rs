//! The gRPC server: the `aiex.v1` services, gRPC health and server reflection, behind
//! the limits layer. gRPC health follows the process's readiness bit; queue depths are
//! sampled while it serves.

use std::future::Future;
use std::sync::Arc;

use aiex_proto::v1 as pb;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::server::NamedService;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::assist::AssistService;
use crate::error::GatewayError;
use crate::limits::LimitsLayer;
use crate::service::{
    ClusterService, GatewayState, HealthService, RepositoriesService, SearchService,
};

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    state: Arc<GatewayState>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), GatewayError> {
    let max = state.config.limits.max_request_bytes;
    let (health, health_service) = tonic_health::server::health_reporter();
    let follow_readiness = tokio::spawn(report_readiness(state.readiness.subscribe(), health));
    let queue_depths = tokio::spawn(crate::queue_depth::sample_forever(
        state.bus.clone(),
        state.backend.clone(),
    ));
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(aiex_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| GatewayError::Internal(format!("reflection: {e}")))?;
    let served = tonic::transport::Server::builder()
        .trace_fn(aiex_node::telemetry::grpc_span)
        .layer(LimitsLayer::new(
            state.config.limits.max_concurrent_requests,
        ))
        .add_service(
            pb::repositories_server::RepositoriesServer::new(RepositoriesService(state.clone()))
                .max_decoding_message_size(max),
        )
        .add_service(
            pb::search_server::SearchServer::new(SearchService(state.clone()))
                .max_decoding_message_size(max),
        )
        .add_service(
            pb::assist_server::AssistServer::new(AssistService(state.clone()))
                .max_decoding_message_size(max),
        )
        .add_service(
            pb::cluster_server::ClusterServer::new(ClusterService(state.clone()))
                .max_decoding_message_size(max),
        )
        .add_service(
            pb::health_server::HealthServer::new(HealthService(state.clone()))
                .max_decoding_message_size(max),
        )
        .add_service(health_service)
        .add_service(reflection)
        .serve_with_incoming_shutdown(
            // TCP_NODELAY: without it a response's trailer waits for a delayed ACK (~40 ms).
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await
        .map_err(|e| GatewayError::Internal(format!("gRPC server: {e}")));
    follow_readiness.abort();
    queue_depths.abort();
    served
}

/// Shows the readiness bit in gRPC health: the whole server ("") and each `aiex.v1`
/// service are SERVING while ready, NOT_SERVING otherwise.
async fn report_readiness(mut ready: watch::Receiver<bool>, health: HealthReporter) {
    loop {
        let status = if *ready.borrow_and_update() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for service in [
            "",
            <pb::repositories_server::RepositoriesServer<RepositoriesService> as NamedService>::NAME,
            <pb::search_server::SearchServer<SearchService> as NamedService>::NAME,
            <pb::assist_server::AssistServer<AssistService> as NamedService>::NAME,
            <pb::cluster_server::ClusterServer<ClusterService> as NamedService>::NAME,
        ] {
            health.set_service_status(service, status).await;
        }
        if ready.changed().await.is_err() {
            return;
        }
    }
}
