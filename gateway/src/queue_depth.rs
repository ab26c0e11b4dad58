//! How much work is waiting, sampled from the bus into `aiex_bus_queue_depth`:
//!
//! - `queue="files"`, one series per `partition`: the file-log messages past the best
//!   watermark a live copy of the partition has applied, as the backend last saw it
//!   (in a cluster, what the nodes reported; embedded, the indexer's own);
//! - `queue="assist"` and `queue="dead-letters"`: the jobs not yet acknowledged.
//!
//! The depths are the cluster's, not this process's, so every process serving the public
//! API reports the same values (the dashboard takes the maximum). A sample costs a few
//! JetStream calls, plus one short-lived consumer per partition behind the log's head,
//! so it runs every [`SAMPLE_EVERY`] rather than per message.

use std::sync::Arc;
use std::time::Duration;

use aiex_node::bus::Bus;
use aiex_proto::subjects::{ASSIST_QUEUE, DEAD_LETTER_QUEUE, FILES_STREAM};
use tokio::time::{Instant, MissedTickBehavior};

use crate::backend::Backend;

/// How often the depths are sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// The work queues whose depth is reported.
const QUEUES: &[&str] = &[ASSIST_QUEUE, DEAD_LETTER_QUEUE];

/// Samples every [`SAMPLE_EVERY`], the first time one interval after the start (so a
/// cluster gateway has heard from the nodes), until the task is aborted.
pub async fn sample_forever(bus: Arc<dyn Bus>, backend: Arc<dyn Backend>) {
    let mut every = tokio::time::interval_at(Instant::now() + SAMPLE_EVERY, SAMPLE_EVERY);
    every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        sample(bus.as_ref(), backend.as_ref()).await;
    }
}

/// Samples every depth once. A depth the bus cannot tell now (NATS unreachable) keeps its
/// last value.
pub async fn sample(bus: &dyn Bus, backend: &dyn Backend) {
    match bus.backlog(FILES_STREAM, &backend.watermarks()).await {
        Ok(counts) => {
            for (p, messages) in counts.into_iter().enumerate() {
                aiex_node::metrics::file_log_depth(p as u32, messages);
            }
        }
        Err(e) => tracing::debug!(error = %e, "sampling the file log's backlog failed"),
    }
    for queue in QUEUES {
        match bus.queue_len(queue).await {
            Ok(jobs) => aiex_node::metrics::queue_depth(queue, jobs),
            Err(e) => tracing::debug!(queue, error = %e, "sampling a queue's depth failed"),
        }
    }
}
