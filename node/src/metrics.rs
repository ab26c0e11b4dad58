//! The node's metrics: one table of every series aiex-node records (name, kind, unit,
//! labels, meaning), described to the recorder and touched at start so each one is
//! exported from the first scrape, plus small helpers the subsystems call.
//!
//! Names are `aiex_<subsystem>_<name>` with the unit in the name (`_seconds`, `_bytes`,
//! counters end in `_total`). Without an installed recorder (tests, `aiex index`) every
//! call here is a no-op.

use std::time::Duration;

use metrics::{Unit, counter, gauge, histogram};

/// What a series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One series: everything needed to describe it, touch it at start and document it.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: Unit,
    pub help: &'static str,
    /// Label names, each with the placeholder value the series is registered with at
    /// start (so a labelled series exists before its first real event).
    pub labels: &'static [(&'static str, &'static str)],
}

impl Metric {
    const fn new(name: &'static str, kind: Kind, unit: Unit, help: &'static str) -> Metric {
        Metric {
            name,
            kind,
            unit,
            help,
            labels: &[],
        }
    }

    const fn labelled(self, labels: &'static [(&'static str, &'static str)]) -> Metric {
        Metric { labels, ..self }
    }
}

// Chunking and indexing.
pub const CHUNK_CHUNKS_TOTAL: &str = "aiex_chunk_chunks_total";
pub const CHUNK_PARSE_ERRORS_TOTAL: &str = "aiex_chunk_parse_errors_total";
pub const CHUNK_SECONDS: &str = "aiex_chunk_seconds";
pub const INDEX_DOCUMENTS: &str = "aiex_index_documents";
pub const INDEX_SIZE_BYTES: &str = "aiex_index_size_bytes";
pub const INDEX_COMMIT_SECONDS: &str = "aiex_index_commit_seconds";
pub const INDEX_WATERMARK_LAG: &str = "aiex_index_watermark_lag";
pub const INDEX_WRITE_FAILURES_TOTAL: &str = "aiex_index_write_failures_total";
pub const EMBED_CHUNKS_TOTAL: &str = "aiex_embed_chunks_total";
pub const EMBED_SECONDS: &str = "aiex_embed_seconds";
// The bus.
pub const BUS_PUBLISHED_TOTAL: &str = "aiex_bus_published_total";
pub const BUS_CONSUMED_TOTAL: &str = "aiex_bus_consumed_total";
pub const BUS_ACKED_TOTAL: &str = "aiex_bus_acked_total";
pub const BUS_REDELIVERED_TOTAL: &str = "aiex_bus_redelivered_total";
pub const BUS_DEAD_LETTERED_TOTAL: &str = "aiex_bus_dead_lettered_total";
pub const BUS_IN_FLIGHT: &str = "aiex_bus_in_flight";
pub const BUS_QUEUE_DEPTH: &str = "aiex_bus_queue_depth";
// Membership and placement.
pub const CLUSTER_LIVE_MEMBERS: &str = "aiex_cluster_live_members";
pub const CLUSTER_PARTITIONS_OWNED: &str = "aiex_cluster_partitions_owned";
pub const CLUSTER_PARTITIONS_MOVED_TOTAL: &str = "aiex_cluster_partitions_moved_total";
pub const CLUSTER_GOSSIP_BYTES_TOTAL: &str = "aiex_cluster_gossip_bytes_total";
// LLM providers (described now; recorded by the provider layer).
pub const LLM_REQUESTS_TOTAL: &str = "aiex_llm_requests_total";
pub const LLM_TOKENS_TOTAL: &str = "aiex_llm_tokens_total";
pub const LLM_REQUEST_DURATION_SECONDS: &str = "aiex_llm_request_duration_seconds";
pub const LLM_TIME_TO_FIRST_TOKEN_SECONDS: &str = "aiex_llm_time_to_first_token_seconds";
pub const LLM_ERRORS_TOTAL: &str = "aiex_llm_errors_total";
pub const LLM_RETRIES_TOTAL: &str = "aiex_llm_retries_total";
pub const LLM_FAILOVERS_TOTAL: &str = "aiex_llm_failovers_total";
pub const LLM_BREAKER_STATE: &str = "aiex_llm_breaker_state";
pub const LLM_RATE_LIMIT_WAIT_SECONDS: &str = "aiex_llm_rate_limit_wait_seconds";

const PROVIDER: &[(&str, &str)] = &[("provider", "none"), ("model", "none")];

/// Every series aiex-node records.
pub const METRICS: &[Metric] = &[
    Metric::new(
        CHUNK_CHUNKS_TOTAL,
        Kind::Counter,
        Unit::Count,
        "chunks produced by the chunker",
    ),
    Metric::new(
        CHUNK_PARSE_ERRORS_TOTAL,
        Kind::Counter,
        Unit::Count,
        "files whose Elixir parse tree had errors (chunked anyway)",
    ),
    Metric::new(
        CHUNK_SECONDS,
        Kind::Histogram,
        Unit::Seconds,
        "time to chunk one file",
    ),
    Metric::new(
        INDEX_DOCUMENTS,
        Kind::Gauge,
        Unit::Count,
        "chunks in the partitions this process holds",
    ),
    Metric::new(
        INDEX_SIZE_BYTES,
        Kind::Gauge,
        Unit::Bytes,
        "on-disk size of the partitions this process holds",
    ),
    Metric::new(
        INDEX_COMMIT_SECONDS,
        Kind::Histogram,
        Unit::Seconds,
        "time to commit one partition's index",
    ),
    Metric::new(
        INDEX_WATERMARK_LAG,
        Kind::Gauge,
        Unit::Count,
        "file-log messages a partition has not applied yet (log head minus watermark)",
    )
    .labelled(&[("partition", "none")]),
    Metric::new(
        INDEX_WRITE_FAILURES_TOTAL,
        Kind::Counter,
        Unit::Count,
        "failed writes or commits of a partition (each retried from its last commit)",
    ),
    Metric::new(
        EMBED_CHUNKS_TOTAL,
        Kind::Counter,
        Unit::Count,
        "chunks embedded by the background embedder (new or changed definitions)",
    ),
    Metric::new(
        EMBED_SECONDS,
        Kind::Histogram,
        Unit::Seconds,
        "time to bring one partition's embedding vectors in step with its last commit",
    ),
    Metric::new(
        BUS_PUBLISHED_TOTAL,
        Kind::Counter,
        Unit::Count,
        "records and jobs published to the bus",
    ),
    Metric::new(
        BUS_CONSUMED_TOTAL,
        Kind::Counter,
        Unit::Count,
        "log messages read and jobs taken from the bus",
    ),
    Metric::new(
        BUS_ACKED_TOTAL,
        Kind::Counter,
        Unit::Count,
        "jobs acknowledged",
    ),
    Metric::new(
        BUS_REDELIVERED_TOTAL,
        Kind::Counter,
        Unit::Count,
        "jobs taken again after an earlier delivery was not acknowledged",
    ),
    Metric::new(
        BUS_DEAD_LETTERED_TOTAL,
        Kind::Counter,
        Unit::Count,
        "messages given up on and set aside",
    ),
    Metric::new(
        BUS_IN_FLIGHT,
        Kind::Gauge,
        Unit::Count,
        "jobs this process took and has not acknowledged",
    ),
    Metric::new(
        BUS_QUEUE_DEPTH,
        Kind::Gauge,
        Unit::Count,
        "work waiting: unacknowledged jobs of a queue, unapplied file-log messages of a partition",
    )
    .labelled(&[("queue", "none")]),
    Metric::new(
        CLUSTER_LIVE_MEMBERS,
        Kind::Gauge,
        Unit::Count,
        "live mesh members this member sees, itself included",
    ),
    Metric::new(
        CLUSTER_PARTITIONS_OWNED,
        Kind::Gauge,
        Unit::Count,
        "partitions this node owns (replicas not counted)",
    ),
    Metric::new(
        CLUSTER_PARTITIONS_MOVED_TOTAL,
        Kind::Counter,
        Unit::Count,
        "partitions this node gained after its first placement",
    ),
    Metric::new(
        CLUSTER_GOSSIP_BYTES_TOTAL,
        Kind::Counter,
        Unit::Bytes,
        "gossip bytes sent and received",
    )
    .labelled(&[("direction", "sent"), ("direction", "received")]),
    Metric::new(
        LLM_REQUESTS_TOTAL,
        Kind::Counter,
        Unit::Count,
        "LLM requests by outcome",
    )
    .labelled(&[("provider", "none"), ("model", "none"), ("outcome", "none")]),
    Metric::new(
        LLM_TOKENS_TOTAL,
        Kind::Counter,
        Unit::Count,
        "LLM tokens by direction (input, output)",
    )
    .labelled(&[
        ("provider", "none"),
        ("model", "none"),
        ("direction", "none"),
    ]),
    Metric::new(
        LLM_REQUEST_DURATION_SECONDS,
        Kind::Histogram,
        Unit::Seconds,
        "LLM request time, to the last token",
    )
    .labelled(PROVIDER),
    Metric::new(
        LLM_TIME_TO_FIRST_TOKEN_SECONDS,
        Kind::Histogram,
        Unit::Seconds,
        "LLM time to the first streamed token",
    )
    .labelled(PROVIDER),
    Metric::new(
        LLM_ERRORS_TOTAL,
        Kind::Counter,
        Unit::Count,
        "LLM requests that failed",
    )
    .labelled(PROVIDER),
    Metric::new(
        LLM_RETRIES_TOTAL,
        Kind::Counter,
        Unit::Count,
        "LLM requests retried",
    )
    .labelled(PROVIDER),
    Metric::new(
        LLM_FAILOVERS_TOTAL,
        Kind::Counter,
        Unit::Count,
        "LLM requests moved to the next provider",
    )
    .labelled(PROVIDER),
    Metric::new(
        LLM_BREAKER_STATE,
        Kind::Gauge,
        Unit::Count,
        "circuit breaker state: 0 closed, 1 half-open, 2 open",
    )
    .labelled(PROVIDER),
    Metric::new(
        LLM_RATE_LIMIT_WAIT_SECONDS,
        Kind::Histogram,
        Unit::Seconds,
        "time waited on a provider's rate limit",
    )
    .labelled(PROVIDER),
];

/// Describes every series of `metrics` to the installed recorder and registers it (at
/// 0, with its placeholder labels) so it is exported before its first event.
pub fn register(metrics: &[Metric]) {
    for m in metrics {
        match m.kind {
            Kind::Counter => metrics::describe_counter!(m.name, m.unit, m.help),
            Kind::Gauge => metrics::describe_gauge!(m.name, m.unit, m.help),
            Kind::Histogram => metrics::describe_histogram!(m.name, m.unit, m.help),
        }
        // Labels repeating a name are alternatives (one series each), not one set.
        let mut sets: Vec<Vec<(&str, &str)>> = vec![Vec::new()];
        for &(name, value) in m.labels {
            if sets[0].iter().any(|(n, _)| *n == name) {
                let mut alternative = sets[0].clone();
                alternative.retain(|(n, _)| *n != name);
                alternative.push((name, value));
                sets.push(alternative);
            } else {
                for set in &mut sets {
                    set.push((name, value));
                }
            }
        }
        for set in sets {
            let labels: Vec<metrics::Label> = set
                .into_iter()
                .map(|(k, v)| metrics::Label::new(k, v))
                .collect();
            match m.kind {
                Kind::Counter => counter!(m.name, labels).increment(0),
                Kind::Gauge => gauge!(m.name, labels).increment(0.0),
                Kind::Histogram => {
                    let _ = histogram!(m.name, labels);
                }
            }
        }
    }
}

/// Registers aiex-node's series (see [`register`]).
pub fn register_node() {
    register(METRICS);
}

/// One file chunked: its chunk count, whether its parse had errors, and the time taken.
pub fn file_chunked(chunks: usize, parse_error: bool, took: Duration) {
    counter!(CHUNK_CHUNKS_TOTAL).increment(chunks as u64);
    if parse_error {
        counter!(CHUNK_PARSE_ERRORS_TOTAL).increment(1);
    }
    histogram!(CHUNK_SECONDS).record(took.as_secs_f64());
}

/// One partition (or every partition, at once) committed in `took`.
pub fn index_committed(took: Duration) {
    histogram!(INDEX_COMMIT_SECONDS).record(took.as_secs_f64());
}

/// The background embedder embedded `chunks` of one partition in `took`.
pub fn embedded(chunks: usize, took: Duration) {
    counter!(EMBED_CHUNKS_TOTAL).increment(chunks as u64);
    histogram!(EMBED_SECONDS).record(took.as_secs_f64());
}

/// The chunks and on-disk bytes of every partition held.
pub fn index_totals(documents: u64, bytes: u64) {
    gauge!(INDEX_DOCUMENTS).set(documents as f64);
    gauge!(INDEX_SIZE_BYTES).set(bytes as f64);
}

/// A write or commit of a partition failed; it is retried from the last commit.
pub fn index_write_failed() {
    counter!(INDEX_WRITE_FAILURES_TOTAL).increment(1);
}

/// How far partition `p` is behind the log's head.
pub fn watermark_lag(p: u32, lag: u64) {
    gauge!(INDEX_WATERMARK_LAG, "partition" => p.to_string()).set(lag as f64);
}

/// The `queue` label of the file log's depth (one series per partition).
const FILE_LOG_QUEUE: &str = "files";

/// Work queue `queue` holds `jobs` jobs not yet acknowledged.
pub fn queue_depth(queue: &str, jobs: u64) {
    gauge!(BUS_QUEUE_DEPTH, "queue" => queue.to_string()).set(jobs as f64);
}

/// Partition `p` of the file log holds `messages` messages no live copy has applied.
pub fn file_log_depth(p: u32, messages: u64) {
    gauge!(BUS_QUEUE_DEPTH, "queue" => FILE_LOG_QUEUE, "partition" => p.to_string())
        .set(messages as f64);
}

/// A placement applied on this node: the partitions it owns now, and how many it
/// gained (0 for its first placement).
pub fn placement_applied(owned: usize, gained: usize) {
    gauge!(CLUSTER_PARTITIONS_OWNED).set(owned as f64);
    counter!(CLUSTER_PARTITIONS_MOVED_TOTAL).increment(gained as u64);
}

/// Gossip traffic (`direction` is "sent" or "received").
pub fn gossip_bytes(direction: &'static str, bytes: usize) {
    counter!(CLUSTER_GOSSIP_BYTES_TOTAL, "direction" => direction).increment(bytes as u64);
}

/// Messages given up on and put on the dead-letter queue.
pub fn dead_lettered(n: u64) {
    counter!(BUS_DEAD_LETTERED_TOTAL).increment(n);
}

/// One LLM call's labels: the provider and the model asked for (`default` when the
/// provider's default model was used).
pub struct LlmLabels {
    pub provider: String,
    pub model: String,
}

impl LlmLabels {
    pub fn new(provider: &str, model: Option<&str>) -> LlmLabels {
        LlmLabels {
            provider: provider.to_owned(),
            model: model.unwrap_or("default").to_owned(),
        }
    }

    fn pair(&self) -> [(&'static str, String); 2] {
        [
            ("provider", self.provider.clone()),
            ("model", self.model.clone()),
        ]
    }

    /// A call ended: `outcome` is "ok", "error" or "cancelled".
    pub fn finished(&self, outcome: &'static str, took: Duration) {
        let [p, m] = self.pair();
        counter!(
            LLM_REQUESTS_TOTAL,
            &[p.clone(), m.clone(), ("outcome", outcome.to_string())]
        )
        .increment(1);
        histogram!(LLM_REQUEST_DURATION_SECONDS, &[p.clone(), m.clone()])
            .record(took.as_secs_f64());
        if outcome == "error" {
            counter!(LLM_ERRORS_TOTAL, &[p, m]).increment(1);
        }
    }

    pub fn first_token(&self, after: Duration) {
        histogram!(LLM_TIME_TO_FIRST_TOKEN_SECONDS, &self.pair()).record(after.as_secs_f64());
    }

    pub fn tokens(&self, input: u64, output: u64) {
        let [p, m] = self.pair();
        counter!(
            LLM_TOKENS_TOTAL,
            &[p.clone(), m.clone(), ("direction", "input".to_string())]
        )
        .increment(input);
        counter!(
            LLM_TOKENS_TOTAL,
            &[p, m, ("direction", "output".to_string())]
        )
        .increment(output);
    }

    pub fn retried(&self) {
        counter!(LLM_RETRIES_TOTAL, &self.pair()).increment(1);
    }

    /// The chain moved on from this provider to the next.
    pub fn failed_over(&self) {
        counter!(LLM_FAILOVERS_TOTAL, &self.pair()).increment(1);
    }

    /// 0 closed, 1 half-open, 2 open.
    pub fn breaker(&self, state: f64) {
        gauge!(LLM_BREAKER_STATE, &self.pair()).set(state);
    }

    pub fn rate_limited(&self, waited: Duration) {
        histogram!(LLM_RATE_LIMIT_WAIT_SECONDS, &self.pair()).record(waited.as_secs_f64());
    }
}

/// Whether `name` follows the naming rules for its kind and unit: `aiex_<subsystem>_<name>`
/// in lowercase, counters ending in `_total`, durations in `_seconds`, sizes in `_bytes`
/// (`_bytes_total` for a counter of bytes).
pub fn check_name(m: &Metric) -> Result<(), String> {
    let rest = m
        .name
        .strip_prefix("aiex_")
        .ok_or_else(|| format!("{} does not start with aiex_", m.name))?;
    let (subsystem, name) = rest
        .split_once('_')
        .ok_or_else(|| format!("{} has no aiex_<subsystem>_<name> shape", m.name))?;
    if subsystem.is_empty()
        || !subsystem.bytes().all(|b| b.is_ascii_lowercase())
        || name.is_empty()
        || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        return Err(format!("{} does not match ^aiex_[a-z]+_[a-z_]+$", m.name));
    }
    let base = match m.kind {
        Kind::Counter => m
            .name
            .strip_suffix("_total")
            .ok_or_else(|| format!("counter {} does not end in _total", m.name))?,
        _ => m.name,
    };
    match m.unit {
        Unit::Seconds if !base.ends_with("_seconds") => Err(format!(
            "{} is in seconds but does not end in _seconds",
            m.name
        )),
        Unit::Bytes if !base.ends_with("_bytes") => {
            Err(format!("{} is in bytes but does not end in _bytes", m.name))
        }
        _ => Ok(()),
    }
}

/// The values of every `pub const NAME: &str = "..."` in a metrics source file, so a
/// test can check that each declared name is in the crate's table.
pub fn names_in_source(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub const "))
        .filter_map(|line| line.split_once(": &str = \""))
        .filter_map(|(_, value)| value.split_once('"'))
        .map(|(name, _)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_follow_the_naming_rules() {
        for m in METRICS {
            check_name(m).unwrap();
        }
        // Every name declared in this file is in the table.
        let declared = names_in_source(include_str!("metrics.rs"));
        assert!(declared.len() >= METRICS.len());
        for name in declared {
            assert!(
                METRICS.iter().any(|m| m.name == name),
                "{name} is declared but not in METRICS"
            );
        }
    }

    #[test]
    fn the_naming_rules_catch_bad_names() {
        let bad = [
            Metric::new("aiex_chunk_chunks", Kind::Counter, Unit::Count, ""),
            Metric::new("aiex_index_commit", Kind::Histogram, Unit::Seconds, ""),
            Metric::new("aiex_index_size", Kind::Gauge, Unit::Bytes, ""),
            Metric::new("aiex_Index_size_bytes", Kind::Gauge, Unit::Bytes, ""),
            Metric::new("search_partial_total", Kind::Counter, Unit::Count, ""),
        ];
        for m in bad {
            assert!(check_name(&m).is_err(), "{} passed", m.name);
        }
    }
}
