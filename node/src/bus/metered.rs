//! A [`Bus`] that counts what passes through it: published, consumed, acknowledged,
//! redelivered and dead-lettered messages (a dead letter is a job submitted to
//! [`DEAD_LETTER_QUEUE`]) and jobs in flight. Each process wraps the bus it opens, so
//! both implementations are measured the same way. Queue depths are not counted here
//! (a process sees only its own submits and acks): the gateway samples them from the
//! bus (`aiex_gateway::queue_depth`).

use std::sync::Arc;
use std::time::Duration;

use aiex_proto::subjects::DEAD_LETTER_QUEUE;
use async_trait::async_trait;
use bytes::Bytes;
use metrics::{counter, gauge};

use super::{Batch, Bus, BusResult, Job, Record, Requests, Subscription};
use crate::metrics::{
    BUS_ACKED_TOTAL, BUS_CONSUMED_TOTAL, BUS_IN_FLIGHT, BUS_PUBLISHED_TOTAL, BUS_REDELIVERED_TOTAL,
};

pub struct Metered {
    inner: Arc<dyn Bus>,
}

impl Metered {
    pub fn wrap(inner: Arc<dyn Bus>) -> Arc<dyn Bus> {
        Arc::new(Metered { inner })
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

    async fn backlog(&self, stream: &str, after: &[u64]) -> BusResult<Vec<u64>> {
        self.inner.backlog(stream, after).await
    }

    async fn submit(&self, queue: &str, payload: Bytes) -> BusResult<u64> {
        let id = self.inner.submit(queue, payload).await?;
        counter!(BUS_PUBLISHED_TOTAL).increment(1);
        if queue == DEAD_LETTER_QUEUE {
            crate::metrics::dead_lettered(1);
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
        Ok(())
    }

    async fn queue_len(&self, queue: &str) -> BusResult<u64> {
        self.inner.queue_len(queue).await
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

#[cfg(test)]
mod tests {
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;
    use crate::bus::local::LocalBus;

    /// The value of the one sample of `series` (name and labels as rendered).
    fn sample(text: &str, series: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
            .parse()
            .expect("a number")
    }

    #[test]
    fn every_bus_operation_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // The runtime runs on this thread, where the recorder is installed.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        metrics::with_local_recorder(&recorder, || {
            runtime.block_on(async {
                let local = LocalBus::open(&dir.path().join("bus.redb")).unwrap();
                let bus = Metered::wrap(Arc::new(local));
                let records = (0..3)
                    .map(|i| Record::put(0, format!("k{i}"), Default::default(), Bytes::new()))
                    .collect();
                bus.publish("TEST", records).await.unwrap();
                let page = bus.read("TEST", 0, 0, 10, false).await.unwrap();
                assert_eq!(page.messages.len(), 3);
                bus.submit("work", Bytes::from_static(b"a")).await.unwrap();
                bus.submit("work", Bytes::from_static(b"b")).await.unwrap();
                let wait = Duration::from_secs(5);
                let job = bus.take("work", wait, wait).await.unwrap().expect("a job");
                bus.ack("work", job.id).await.unwrap();
                bus.submit(DEAD_LETTER_QUEUE, Bytes::from_static(b"{}"))
                    .await
                    .unwrap();
            })
        });
        let text = handle.render();
        assert_eq!(sample(&text, BUS_PUBLISHED_TOTAL), 6.0, "3 records, 3 jobs");
        assert_eq!(sample(&text, BUS_CONSUMED_TOTAL), 4.0, "3 messages, 1 job");
        assert_eq!(sample(&text, BUS_ACKED_TOTAL), 1.0);
        assert_eq!(sample(&text, crate::metrics::BUS_DEAD_LETTERED_TOTAL), 1.0);
        assert_eq!(sample(&text, BUS_IN_FLIGHT), 0.0);
        assert!(
            !text.contains(BUS_REDELIVERED_TOTAL),
            "nothing was redelivered"
        );
    }
}
