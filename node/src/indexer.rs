//! The indexer: follows the file log into this node's partitions.
//!
//! One task per partition waits for new messages after the partition's watermark, reads
//! them a page at a time, chunks and indexes the page in parallel on a dedicated rayon
//! pool, and commits with the page's last sequence as the new watermark (when it has
//! caught up, or every few thousand files). The index and its watermark commit
//! atomically, so a crash replays from the last commit and indexing is idempotent (an
//! unchanged content hash costs nothing): at-least-once delivery gives exactly-once
//! index contents.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::bus::files::{self, FileChange};
use crate::bus::{Bus, BusError, LogMessage};
use crate::chunk::ChunkerConfig;
use crate::error::{NodeError, Result};
use crate::ingest::{FileOutcome, PartitionSet};
use aiex_proto::subjects::FILES_STREAM;

/// Messages read per page.
const PAGE: usize = 256;
/// Commit at least this often while catching up on a long backlog.
const COMMIT_EVERY_FILES: usize = 4096;
const COMMIT_EVERY: Duration = Duration::from_secs(2);

/// Per-repository counts of what the indexer did since this process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepoActivity {
    pub failed: u64,
    pub skipped: u64,
}

/// Follows the file log into a [`PartitionSet`].
pub struct Indexer {
    set: Arc<PartitionSet>,
    bus: Arc<dyn Bus>,
    chunker: ChunkerConfig,
    pool: rayon::ThreadPool,
    activity: Mutex<HashMap<String, RepoActivity>>,
    watermarks: watch::Sender<Vec<u64>>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Indexer {
    /// Starts following every partition of `set` (call from within a tokio runtime).
    pub fn start(
        set: Arc<PartitionSet>,
        bus: Arc<dyn Bus>,
        chunker: ChunkerConfig,
        threads: usize,
    ) -> Result<Arc<Indexer>> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("aiex-index-{i}"))
            .build()
            .map_err(|e| NodeError::InvalidArgument {
                field: "threads",
                reason: e.to_string(),
            })?;
        let marks = set.partitions().iter().map(|p| p.watermark()).collect();
        let indexer = Arc::new(Indexer {
            set,
            bus,
            chunker,
            pool,
            activity: Mutex::new(HashMap::new()),
            watermarks: watch::channel(marks).0,
            stop: watch::channel(false).0,
            tasks: Mutex::new(Vec::new()),
        });
        let tasks = (0..indexer.set.partition_count())
            .map(|p| tokio::spawn(indexer.clone().follow(p)))
            .collect();
        *indexer.tasks.lock().expect("tasks lock") = tasks;
        Ok(indexer)
    }

    pub fn partitions(&self) -> &Arc<PartitionSet> {
        &self.set
    }

    /// The last applied log sequence of every partition.
    pub fn watermarks(&self) -> Vec<u64> {
        self.watermarks.borrow().clone()
    }

    /// What the indexer counted for `repo` since start.
    pub fn activity(&self, repo: &str) -> RepoActivity {
        self.activity
            .lock()
            .expect("activity lock")
            .get(repo)
            .copied()
            .unwrap_or_default()
    }

    /// Whether every partition has applied at least up to its target sequence.
    pub fn has_applied(&self, targets: &BTreeMap<u32, u64>) -> bool {
        let marks = self.watermarks.borrow();
        targets
            .iter()
            .all(|(p, seq)| marks.get(*p as usize).is_some_and(|m| m >= seq))
    }

    /// Waits until [`Indexer::has_applied`] (true) or `timeout` (false).
    pub async fn wait_applied(&self, targets: &BTreeMap<u32, u64>, timeout: Duration) -> bool {
        let mut rx = self.watermarks.subscribe();
        let check = |marks: &Vec<u64>| {
            targets
                .iter()
                .all(|(p, seq)| marks.get(*p as usize).is_some_and(|m| m >= seq))
        };
        tokio::time::timeout(timeout, rx.wait_for(check))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Re-chunks every file of `repo` from the log (after a chunker change, say).
    /// Returns how many files were indexed again.
    pub async fn reindex(self: &Arc<Self>, repo: &str) -> Result<u64> {
        let mut total = 0;
        for p in 0..self.set.partition_count() {
            let this = self.clone();
            let r = repo.to_string();
            tokio::task::spawn_blocking(move || this.set.partitions()[p as usize].delete_repo(&r))
                .await
                .map_err(join_error)??;
            let mut after = 0;
            loop {
                let batch = self
                    .bus
                    .read(FILES_STREAM, p, after, PAGE, false)
                    .await
                    .map_err(NodeError::Bus)?;
                let Some(last) = batch.messages.last() else {
                    break;
                };
                after = last.seq;
                let mine: Vec<LogMessage> = batch
                    .messages
                    .into_iter()
                    .filter(|m| {
                        m.headers
                            .get(aiex_proto::subjects::headers::REPO)
                            .map(String::as_str)
                            == Some(repo)
                    })
                    .collect();
                let this = self.clone();
                total += tokio::task::spawn_blocking(move || this.apply(&mine))
                    .await
                    .map_err(join_error)? as u64;
                if after >= batch.last_seq {
                    break;
                }
            }
            let this = self.clone();
            tokio::task::spawn_blocking(move || this.set.commit_partition(p, None))
                .await
                .map_err(join_error)??;
        }
        Ok(total)
    }

    /// Stops following, committing what was applied. Idempotent.
    pub async fn shutdown(&self) {
        self.stop.send_replace(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().expect("tasks lock"));
        for t in tasks {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "indexer task failed");
            }
        }
    }

    async fn follow(self: Arc<Self>, p: u32) {
        let mut stop = self.stop.subscribe();
        let mut after = self.set.partitions()[p as usize].watermark();
        let mut pending = 0usize;
        let mut last_commit = Instant::now();
        loop {
            if *stop.borrow() {
                break;
            }
            let waited = tokio::select! {
                r = self.bus.wait_for(FILES_STREAM, p, after, Duration::from_secs(1)) => r,
                _ = stop.changed() => break,
            };
            let batch = match waited {
                Ok(newest) if newest > after => {
                    self.bus.read(FILES_STREAM, p, after, PAGE, false).await
                }
                Ok(_) => continue,
                Err(e) => Err(e),
            };
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(partition = p, error = %e, "reading the file log failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = stop.changed() => break,
                    }
                }
            };
            let Some(last) = batch.messages.last().map(|m| m.seq) else {
                continue;
            };
            let caught_up = last >= batch.last_seq;
            let this = self.clone();
            let messages = batch.messages;
            let n = messages.len();
            if let Err(e) = tokio::task::spawn_blocking(move || this.apply(&messages)).await {
                tracing::error!(partition = p, error = %e, "indexing a page panicked");
                break;
            }
            pending += n;
            after = last;
            if caught_up || pending >= COMMIT_EVERY_FILES || last_commit.elapsed() >= COMMIT_EVERY {
                if !self.commit(p, after).await {
                    break;
                }
                pending = 0;
                last_commit = Instant::now();
            }
        }
        if pending > 0 {
            self.commit(p, after).await;
        }
    }

    /// Commits partition `p` at watermark `seq`; false when committing failed.
    async fn commit(self: &Arc<Self>, p: u32, seq: u64) -> bool {
        let this = self.clone();
        match tokio::task::spawn_blocking(move || this.set.commit_partition(p, Some(seq))).await {
            Ok(Ok(())) => {
                self.watermarks.send_modify(|m| m[p as usize] = seq);
                true
            }
            Ok(Err(e)) => {
                tracing::error!(partition = p, error = %e, "commit failed; the partition stops following");
                false
            }
            Err(e) => {
                tracing::error!(partition = p, error = %e, "commit panicked");
                false
            }
        }
    }

    /// Applies one page of messages in parallel (a page holds each key at most once).
    /// Returns how many files were indexed.
    fn apply(&self, messages: &[LogMessage]) -> usize {
        let outcomes: Vec<(String, Outcome)> = self.pool.install(|| {
            messages
                .par_iter()
                .map(|m| match files::parse(m) {
                    Err(e) => {
                        tracing::error!(error = %e, "skipping a malformed file-log message");
                        (String::new(), Outcome::Failed)
                    }
                    Ok(event) => {
                        let result = match &event.change {
                            FileChange::Put { content, .. } => self
                                .set
                                .apply_file(&event.repo, &event.path, content, &self.chunker)
                                .map(|o| match o {
                                    FileOutcome::Indexed(_) => Outcome::Indexed,
                                    FileOutcome::Unchanged => Outcome::Unchanged,
                                    FileOutcome::SkippedBinary | FileOutcome::SkippedLarge => {
                                        Outcome::Skipped
                                    }
                                    FileOutcome::Unreadable => Outcome::Failed,
                                }),
                            FileChange::Delete => self
                                .set
                                .partition_for(&event.repo, &event.path)
                                .delete_file(&event.repo, &event.path)
                                .map(|_| Outcome::Unchanged),
                        };
                        let outcome = result.unwrap_or_else(|e| {
                            tracing::error!(repo = %event.repo, path = %event.path, error = %e, "indexing failed");
                            Outcome::Failed
                        });
                        (event.repo, outcome)
                    }
                })
                .collect()
        });
        let mut indexed = 0;
        let mut activity = self.activity.lock().expect("activity lock");
        for (repo, outcome) in outcomes {
            match outcome {
                Outcome::Indexed => indexed += 1,
                Outcome::Unchanged => {}
                Outcome::Skipped => activity.entry(repo).or_default().skipped += 1,
                Outcome::Failed => activity.entry(repo).or_default().failed += 1,
            }
        }
        indexed
    }
}

enum Outcome {
    Indexed,
    Unchanged,
    Skipped,
    Failed,
}

fn join_error(e: tokio::task::JoinError) -> NodeError {
    NodeError::Bus(BusError::Storage(format!("a blocking task failed: {e}")))
}
