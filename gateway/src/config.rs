//! Gateway configuration: where it listens and the limits it enforces.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Limits on what one client may send. Every limit answers RESOURCE_EXHAUSTED, naming
/// the limit, when crossed (a file over `max_file_bytes` is skipped and counted instead,
/// as the local indexer does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Files larger than this are skipped (and counted) rather than indexed.
    pub max_file_bytes: u64,
    /// Total bytes of one upload.
    pub max_upload_bytes: u64,
    /// Files in one upload.
    pub max_upload_files: u64,
    /// One gRPC message (a file in an upload is one message).
    pub max_request_bytes: usize,
    /// Requests being served at once; more are refused, not queued.
    pub max_concurrent_requests: usize,
}

impl Limits {
    /// The default `max_request_bytes`: 16 MiB.
    pub const DEFAULT_MAX_REQUEST_BYTES: usize = 16 << 20;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 4 << 20,
            max_upload_bytes: 8 << 30,
            max_upload_files: 2_000_000,
            max_request_bytes: Limits::DEFAULT_MAX_REQUEST_BYTES,
            max_concurrent_requests: 512,
        }
    }
}

/// The gateway.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    pub limits: Limits,
    /// Directories `AddPath` may index (embedded mode); empty disables `AddPath`.
    pub allowed_roots: Vec<PathBuf>,
    /// This member's id, as the cluster status shows it.
    pub node_id: String,
    /// How long `Remove` waits for the index to drop a repository's chunks.
    pub apply_timeout: Duration,
    /// An assist stream with no event (token or worker heartbeat) for this long ends
    /// with UNAVAILABLE: its worker is gone.
    pub assist_idle_timeout: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            limits: Limits::default(),
            allowed_roots: Vec::new(),
            node_id: "embedded".into(),
            apply_timeout: Duration::from_secs(120),
            assist_idle_timeout: Duration::from_secs(60),
        }
    }
}

/// The gateway's default port on 127.0.0.1.
pub const DEFAULT_PORT: u16 = 7787;
