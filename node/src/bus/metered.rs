//! A [`Bus`] that counts what passes through it: published, consumed, acknowledged and
//! redelivered messages, jobs in flight and (in-process bus only) queue depth. Each
//! process wraps the bus it opens, so both implementations are measured the same way.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use metrics::{counter, gauge};

use super::{Batch, Bus, BusResult, Job, Record, Requests, Subscription};
use crate::metrics::{
    BUS_ACKED_TOTAL, BUS_CONSUMED_TOTAL, BUS_IN_FLIGHT, BUS_PUBLISHED_TOTAL, BUS_QUEUE_DEPTH,
    BUS_REDELIVERED_TOTAL,
};

pub struct Metered {
    inner: Arc<dyn Bus>,
    /// Whether this process sees every submit and ack of its queues (the in-process
    /// bus), so submitted minus acknowledged is the queue's depth.
    sole_user: bool,
}

impl Metered {
    /// Wraps `inner`; `sole_user` when no other process uses the bus (embedded mode).
    pub fn wrap(inner: Arc<dyn Bus>, sole_user: bool) -> Arc<dyn Bus> {
        Arc::new(Metered { inner, sole_user })
    }
}

#[async_trait]
impl Bus for Metered {
    async fn publish(&self, stream: &str, records: Vec<Record>) -> BusResult<Vec<u64>> {
        let n = records.len() as u64;
        let seqs = self.inner.publish(stream, records).await?;
        counter!(BUS_PUBLISHED_TOTAL).increment(n);
        Ok(seqs)
    }

    async fn read(
        &self,
        stream: &str,
        partition: u32,
        after: u64,
        limit: usize,
        headers_only: bool,
    ) -> BusResult<Batch> {
        let batch = self
            .inner
            .read(stream, partition, after, limit, headers_only)
            .await?;
        counter!(BUS_CONSUMED_TOTAL).increment(batch.messages.len() as u64);
        Ok(batch)
    }

    async fn wait_for(
        &self,
        stream: &str,
        partition: u32,
        after: u64,
        timeout: Duration,
    ) -> BusResult<u64> {
        self.inner.wait_for(stream, partition, after, timeout).await
    }

    async fn submit(&self, queue: &str, payload: Bytes) -> BusResult<u64> {
        let id = self.inner.submit(queue, payload).await?;
        counter!(BUS_PUBLISHED_TOTAL).increment(1);
        if self.sole_user {
            gauge!(BUS_QUEUE_DEPTH, "queue" => queue.to_string()).increment(1.0);
        }
        Ok(id)
    }

    async fn take(
        &self,
        queue: &str,
        ack_wait: Duration,
        timeout: Duration,
    ) -> BusResult<Option<Job>> {
        let job = self.inner.take(queue, ack_wait, timeout).await?;
        if let Some(job) = &job {
            counter!(BUS_CONSUMED_TOTAL).increment(1);
            gauge!(BUS_IN_FLIGHT).increment(1.0);
            if job.deliveries > 1 {
                counter!(BUS_REDELIVERED_TOTAL).increment(1);
            }
        }
        Ok(job)
    }

    async fn ack(&self, queue: &str, id: u64) -> BusResult<()> {
        self.inner.ack(queue, id).await?;
        counter!(BUS_ACKED_TOTAL).increment(1);
        gauge!(BUS_IN_FLIGHT).decrement(1.0);
        if self.sole_user {
            gauge!(BUS_QUEUE_DEPTH, "queue" => queue.to_string()).decrement(1.0);
        }
        Ok(())
    }

    async fn serve(&self, subject: &str) -> BusResult<Requests> {
        self.inner.serve(subject).await
    }

    async fn request(&self, subject: &str, payload: Bytes, timeout: Duration) -> BusResult<Bytes> {
        self.inner.request(subject, payload, timeout).await
    }

    async fn notify(&self, subject: &str, payload: Bytes) -> BusResult<()> {
        self.inner.notify(subject, payload).await
    }

    async fn subscribe(&self, subject: &str) -> BusResult<Subscription> {
        self.inner.subscribe(subject).await
    }
}
