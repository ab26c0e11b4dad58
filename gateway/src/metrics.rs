//! The gateway's metrics: every series aiex-gateway records, in one table (see
//! [`aiex_node::metrics`] for the conventions), and the helpers its handlers call.

use std::time::Duration;

use aiex_node::metrics::{Kind, Metric};
use metrics::{Unit, counter, gauge, histogram};

// Every gRPC call.
pub const GATEWAY_REQUESTS_TOTAL: &str = "aiex_gateway_requests_total";
pub const GATEWAY_REQUEST_DURATION_SECONDS: &str = "aiex_gateway_request_duration_seconds";
pub const GATEWAY_REQUESTS_IN_FLIGHT: &str = "aiex_gateway_requests_in_flight";
// Uploads.
pub const INGEST_FILES_TOTAL: &str = "aiex_ingest_files_total";
pub const INGEST_BYTES_TOTAL: &str = "aiex_ingest_bytes_total";
pub const INGEST_SKIPPED_TOTAL: &str = "aiex_ingest_skipped_total";
pub const INGEST_FAILED_TOTAL: &str = "aiex_ingest_failed_total";
// Search.
pub const SEARCH_DURATION_SECONDS: &str = "aiex_search_duration_seconds";
pub const SEARCH_PARTIAL_TOTAL: &str = "aiex_search_partial_total";

/// Every series aiex-gateway records.
pub const METRICS: &[Metric] = &[
    Metric {
        name: GATEWAY_REQUESTS_TOTAL,
        kind: Kind::Counter,
        unit: Unit::Count,
        help: "gRPC calls answered, by method and status code",
        labels: &[("method", "none"), ("code", "OK")],
    },
    Metric {
        name: GATEWAY_REQUEST_DURATION_SECONDS,
        kind: Kind::Histogram,
        unit: Unit::Seconds,
        help: "gRPC call time, to the response headers (a stream's first message)",
        labels: &[("method", "none")],
    },
    Metric {
        name: GATEWAY_REQUESTS_IN_FLIGHT,
        kind: Kind::Gauge,
        unit: Unit::Count,
        help: "gRPC calls being answered",
        labels: &[],
    },
    Metric {
        name: INGEST_FILES_TOTAL,
        kind: Kind::Counter,
        unit: Unit::Count,
        help: "files received in uploads",
        labels: &[],
    },
    Metric {
        name: INGEST_BYTES_TOTAL,
        kind: Kind::Counter,
        unit: Unit::Bytes,
        help: "bytes of file content received in uploads",
        labels: &[],
    },
    Metric {
        name: INGEST_SKIPPED_TOTAL,
        kind: Kind::Counter,
        unit: Unit::Count,
        help: "uploaded files not published: too_large, binary or unchanged",
        labels: &[
            ("reason", "too_large"),
            ("reason", "binary"),
            ("reason", "unchanged"),
        ],
    },
    Metric {
        name: INGEST_FAILED_TOTAL,
        kind: Kind::Counter,
        unit: Unit::Count,
        help: "uploaded files whose publishing to the file log failed",
        labels: &[],
    },
    Metric {
        name: SEARCH_DURATION_SECONDS,
        kind: Kind::Histogram,
        unit: Unit::Seconds,
        help: "search time at the gateway, fan-out and merge included",
        labels: &[],
    },
    Metric {
        name: SEARCH_PARTIAL_TOTAL,
        kind: Kind::Counter,
        unit: Unit::Count,
        help: "searches answered without some partitions (missing_partitions not empty)",
        labels: &[],
    },
];

/// Registers aiex-gateway's series (see [`aiex_node::metrics::register`]).
pub fn register_gateway() {
    aiex_node::metrics::register(METRICS);
}

/// A gRPC call being answered: counted in flight until dropped (a call the client
/// cancels is dropped mid-way, so the count still comes down).
pub struct InFlight(());

impl InFlight {
    pub fn start() -> InFlight {
        gauge!(GATEWAY_REQUESTS_IN_FLIGHT).increment(1.0);
        InFlight(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        gauge!(GATEWAY_REQUESTS_IN_FLIGHT).decrement(1.0);
    }
}

/// A gRPC call (`method` is `package.Service/Method`) answered with `code` (a
/// `tonic::Code` name) after `took`.
pub fn request_finished(method: &str, code: &'static str, took: Duration) {
    counter!(GATEWAY_REQUESTS_TOTAL, "method" => method.to_string(), "code" => code).increment(1);
    histogram!(GATEWAY_REQUEST_DURATION_SECONDS, "method" => method.to_string())
        .record(took.as_secs_f64());
}

/// One file received in an upload.
pub fn file_received(bytes: usize) {
    counter!(INGEST_FILES_TOTAL).increment(1);
    counter!(INGEST_BYTES_TOTAL).increment(bytes as u64);
}

/// An uploaded file not published (`reason`: too_large, binary or unchanged).
pub fn file_skipped(reason: &'static str) {
    files_skipped(reason, 1);
}

/// Several files skipped for one reason.
pub fn files_skipped(reason: &'static str, n: u64) {
    counter!(INGEST_SKIPPED_TOTAL, "reason" => reason).increment(n);
}

/// Uploaded files whose publishing failed.
pub fn files_failed(n: usize) {
    counter!(INGEST_FAILED_TOTAL).increment(n as u64);
}

/// A search answered after `took`; `partial` when some partitions were missing.
pub fn searched(took: Duration, partial: bool) {
    histogram!(SEARCH_DURATION_SECONDS).record(took.as_secs_f64());
    if partial {
        counter!(SEARCH_PARTIAL_TOTAL).increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aiex_node::metrics::{check_name, names_in_source};

    #[test]
    fn metric_names_follow_the_naming_rules() {
        for m in METRICS {
            check_name(m).unwrap();
        }
        let declared = names_in_source(include_str!("metrics.rs"));
        assert_eq!(declared.len(), METRICS.len());
        for name in declared {
            assert!(
                METRICS.iter().any(|m| m.name == name),
                "{name} is declared but not in METRICS"
            );
        }
    }

    #[test]
    fn gateway_and_node_names_do_not_collide() {
        for m in METRICS {
            assert!(
                !aiex_node::metrics::METRICS.iter().any(|n| n.name == m.name),
                "{} is declared twice",
                m.name
            );
        }
    }
}
