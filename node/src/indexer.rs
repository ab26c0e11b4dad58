//! The indexer: follows the file log into this node's partitions.
//!
//! One task per partition waits for new messages after the partition's watermark, reads
//! them a page at a time, chunks and indexes the page in parallel on a dedicated rayon
//! pool, and commits with the page's last sequence as the new watermark (when it has
//! caught up, or every few thousand files). The index and its watermark commit
//! atomically, so a crash replays from the last commit and indexing is idempotent (an
//! unchanged content hash costs nothing): at-least-once delivery gives exactly-once
//! index contents.
//!
//! In embedded mode ([`Indexer::start`]) every partition of the set is followed. A
//! cluster node ([`Indexer::start_with`], [`Indexer::set_held`]) follows the partitions
//! placed on it: a gained partition resumes from its local watermark, or without a local
//! copy is created empty and replayed from the start of the log (which keeps the newest
//! message per file, so reading it from 0 is the replay); a lost one stops, leaves the
//! set at once and has its local copy deleted after a grace period, unless it is gained
//! back first.
//!
//! A write or commit that fails (a full disk, say) loses nothing: the partition gives up
//! what it applied since its last commit and follows again from that commit's watermark,
//! after a back-off, until the writes succeed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::bus::files::{self, FileChange};
use crate::bus::{Bus, LogMessage};
use crate::chunk::ChunkerConfig;
use crate::error::{NodeError, Result};
use crate::index::PartitionIndex;
use crate::ingest::{FileOutcome, PartitionSet};
use aiex_proto::partition::partition_of;
use aiex_proto::subjects::{DEAD_LETTER_QUEUE, FILES_STREAM};

/// Messages read per page.
const PAGE: usize = 256;
/// Commit at least this often while catching up on a long backlog.
const COMMIT_EVERY_FILES: usize = 4096;
const COMMIT_EVERY: Duration = Duration::from_secs(2);
/// The longest wait before following a partition again after failed writes.
const RETRY_AT_MOST: Duration = Duration::from_secs(30);

/// Per-repository counts of what the indexer did since this process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepoActivity {
    pub failed: u64,
}

/// How the indexer treats partitions it loses.
#[derive(Debug, Clone)]
pub struct IndexerOptions {
    /// How long the local copy of a lost partition is kept before it is deleted; a
    /// partition gained back within it resumes from its watermark instead of replaying.
    pub drop_grace: Duration,
}

impl Default for IndexerOptions {
    fn default() -> Self {
        IndexerOptions {
            drop_grace: Duration::from_secs(5 * 60),
        }
    }
}

/// Follows the file log into a [`PartitionSet`].
pub struct Indexer {
    set: Arc<PartitionSet>,
    bus: Arc<dyn Bus>,
    chunker: ChunkerConfig,
    options: IndexerOptions,
    pool: rayon::ThreadPool,
    /// Partitions written to and not yet committed, at most
    /// [`MAX_OPEN_WRITERS`](crate::ingest::MAX_OPEN_WRITERS) / 2 at once: a partition
    /// takes a permit before applying a page and gives it back with its commit, so that
    /// an ingest spread over every partition does not open every partition's writer at
    /// once (each holds threads and buffers; committed ones are closed).
    writing: Arc<tokio::sync::Semaphore>,
    activity: Mutex<HashMap<String, RepoActivity>>,
    files_indexed: AtomicU64,
    dead_lettered: AtomicU64,
    write_failures: AtomicU64,
    /// Set by [`Indexer::shutdown`], so that a re-index stops early.
    stopping: AtomicBool,
    watermarks: watch::Sender<Vec<u64>>,
    /// Which partitions are followed and which wait to be dropped; one change at a time.
    held: tokio::sync::Mutex<Holdings>,
}

#[derive(Default)]
struct Holdings {
    followers: BTreeMap<u32, Follower>,
    /// Lost partitions whose local copy is deleted when the grace period ends, with the
    /// id of the timer that will delete it.
    dropping: BTreeMap<u32, (u64, JoinHandle<()>)>,
    next_drop_id: u64,
    shut_down: bool,
}

/// One partition's follower task and its own stop signal.
struct Follower {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Indexer {
    /// Starts following every partition `set` holds (call from within a tokio runtime).
    pub fn start(
        set: Arc<PartitionSet>,
        bus: Arc<dyn Bus>,
        chunker: ChunkerConfig,
        threads: usize,
    ) -> Result<Arc<Indexer>> {
        let indexer = Indexer::new(set, bus, chunker, threads, IndexerOptions::default())?;
        let mut holdings = Holdings::default();
        for index in indexer.set.partitions() {
            let p = index.partition();
            holdings.followers.insert(p, indexer.spawn_follower(p));
        }
        *indexer
            .held
            .try_lock()
            .expect("a new indexer is not shared yet") = holdings;
        Ok(indexer)
    }

    /// Starts following the partitions `held`, opening each (a local copy resumes from its
    /// watermark, a missing one is created and replayed from the start of the log).
    /// Partitions the set holds or has on disk but that are not in `held` are handled as
    /// lost: removed from the set and deleted after the grace period.
    pub async fn start_with(
        set: Arc<PartitionSet>,
        bus: Arc<dyn Bus>,
        chunker: ChunkerConfig,
        threads: usize,
        options: IndexerOptions,
        held: impl IntoIterator<Item = u32>,
    ) -> Result<Arc<Indexer>> {
        let indexer = Indexer::new(set, bus, chunker, threads, options)?;
        let this = indexer.clone();
        let on_disk = tokio::task::spawn_blocking(move || this.set.on_disk()).await??;
        let held: BTreeSet<u32> = held.into_iter().collect();
        {
            let mut holdings = indexer.held.lock().await;
            for p in on_disk.into_iter().filter(|p| !held.contains(p)) {
                if indexer.set.partition(p).is_none() {
                    indexer.schedule_drop(&mut holdings, p);
                }
            }
        }
        indexer.set_held(held).await?;
        Ok(indexer)
    }

    fn new(
        set: Arc<PartitionSet>,
        bus: Arc<dyn Bus>,
        chunker: ChunkerConfig,
        threads: usize,
        options: IndexerOptions,
    ) -> Result<Arc<Indexer>> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("aiex-index-{i}"))
            .build()
            .map_err(|e| NodeError::InvalidArgument {
                field: "threads",
                reason: e.to_string(),
            })?;
        let mut marks = vec![0; set.partition_count() as usize];
        for index in set.partitions() {
            marks[index.partition() as usize] = index.watermark();
        }
        Ok(Arc::new(Indexer {
            set,
            bus,
            chunker,
            options,
            pool,
            writing: Arc::new(tokio::sync::Semaphore::new(
                (crate::ingest::MAX_OPEN_WRITERS / 2).max(1),
            )),
            activity: Mutex::new(HashMap::new()),
            files_indexed: AtomicU64::new(0),
            dead_lettered: AtomicU64::new(0),
            write_failures: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            watermarks: watch::channel(marks).0,
            held: tokio::sync::Mutex::new(Holdings::default()),
        }))
    }

    /// Makes `held` the partitions this indexer follows. A lost partition stops (after
    /// committing what it applied), leaves the set and is deleted after the grace period;
    /// a gained one resumes from its local watermark or, without a local copy, replays
    /// the log from the start (the log keeps the newest message per file).
    pub async fn set_held(self: &Arc<Self>, held: BTreeSet<u32>) -> Result<()> {
        let count = self.set.partition_count();
        if let Some(p) = held.iter().find(|p| **p >= count) {
            return Err(NodeError::InvalidArgument {
                field: "partition",
                reason: format!("{p} is out of range: the cluster has {count} partitions"),
            });
        }
        let mut holdings = self.held.lock().await;
        if holdings.shut_down {
            return Err(NodeError::InvalidArgument {
                field: "partitions",
                reason: "the indexer has shut down".into(),
            });
        }
        let current: BTreeSet<u32> = holdings
            .followers
            .keys()
            .copied()
            .chain(self.set.held())
            .collect();
        for &p in current.difference(&held) {
            if let Some(follower) = holdings.followers.remove(&p) {
                follower.stop.send_replace(true);
                if let Err(e) = follower.task.await {
                    tracing::error!(partition = p, error = %e, "indexer task failed");
                }
            }
            self.set.remove_partition(p);
            self.watermarks.send_modify(|m| m[p as usize] = 0);
            self.schedule_drop(&mut holdings, p);
            tracing::info!(partition = p, "partition lost; stopped following");
        }
        for &p in held.iter() {
            if holdings.followers.contains_key(&p) {
                continue;
            }
            if let Some((_, timer)) = holdings.dropping.remove(&p) {
                timer.abort();
            }
            let this = self.clone();
            let index = tokio::task::spawn_blocking(move || this.set.add_partition(p)).await??;
            let mark = index.watermark();
            self.watermarks.send_modify(|m| m[p as usize] = mark);
            tracing::info!(
                partition = p,
                watermark = mark,
                "partition gained; following"
            );
            holdings.followers.insert(p, self.spawn_follower(p));
        }
        Ok(())
    }

    /// Deletes the local copy of lost partition `p` once the grace period ends, unless
    /// it is gained back first.
    fn schedule_drop(self: &Arc<Self>, holdings: &mut Holdings, p: u32) {
        let id = holdings.next_drop_id;
        holdings.next_drop_id += 1;
        let this = self.clone();
        let grace = self.options.drop_grace;
        let timer = tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let mut holdings = this.held.lock().await;
            if holdings.dropping.get(&p).map(|(i, _)| *i) != Some(id) {
                return;
            }
            holdings.dropping.remove(&p);
            let set = this.set.clone();
            match tokio::task::spawn_blocking(move || set.delete_partition_dir(p)).await {
                Ok(Ok(_)) => {
                    tracing::info!(partition = p, "local copy of a lost partition deleted")
                }
                Ok(Err(e)) => {
                    tracing::warn!(partition = p, error = %e, "deleting a lost partition failed")
                }
                Err(e) => {
                    tracing::error!(partition = p, error = %e, "deleting a lost partition panicked")
                }
            }
        });
        if let Some((_, old)) = holdings.dropping.insert(p, (id, timer)) {
            old.abort();
        }
    }

    fn spawn_follower(self: &Arc<Self>, p: u32) -> Follower {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(self.clone().follow(p, stopped));
        Follower { stop, task }
    }

    pub fn partitions(&self) -> &Arc<PartitionSet> {
        &self.set
    }

    /// The last applied log sequence of every partition (0 for those not held).
    pub fn watermarks(&self) -> Vec<u64> {
        self.watermarks.borrow().clone()
    }

    /// The last applied log sequence of partition `p`, when held.
    pub fn watermark(&self, p: u32) -> Option<u64> {
        self.set.partition(p)?;
        self.watermarks.borrow().get(p as usize).copied()
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

    /// How many file versions were chunked and indexed since start (unchanged content
    /// and deletions not counted; a version applied again after a failed write or commit
    /// counts again).
    pub fn files_indexed(&self) -> u64 {
        self.files_indexed.load(Ordering::Relaxed)
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

    /// Re-chunks every file of `repo` from the log (after a chunker change, say), files
    /// an earlier configuration skipped included. Returns how many files were indexed
    /// again.
    ///
    /// One partition at a time, the partition's follower is stopped (it commits what it
    /// applied) and the re-index is its only writer: it replays the repository's
    /// messages in log order (each file replaced in place, deletions applied), deletes
    /// the files the log no longer has, commits, and starts the follower again, which
    /// goes on from its watermark (what the re-index already applied counts as
    /// unchanged). Placement changes wait meanwhile. The work runs as its own task, so a
    /// caller that goes away does not leave a partition without its follower.
    pub async fn reindex(self: &Arc<Self>, repo: &str) -> Result<u64> {
        let this = self.clone();
        let repo = repo.to_string();
        tokio::spawn(async move { this.reindex_all(&repo).await }).await?
    }

    async fn reindex_all(self: &Arc<Self>, repo: &str) -> Result<u64> {
        let mut total = 0;
        for p in self.set.partitions().iter().map(|index| index.partition()) {
            let mut holdings = self.held.lock().await;
            if holdings.shut_down || self.stopping.load(Ordering::SeqCst) {
                return Err(NodeError::Unavailable(
                    "the indexer is shutting down; re-index after it starts again".into(),
                ));
            }
            let Some(index) = self.set.partition(p) else {
                continue;
            };
            let follower = holdings.followers.remove(&p);
            let followed = follower.is_some();
            if let Some(follower) = follower {
                follower.stop.send_replace(true);
                if let Err(e) = follower.task.await {
                    tracing::error!(partition = p, error = %e, "indexer task failed");
                }
            }
            let result = self.reindex_partition(&index, repo).await;
            if result.is_err() {
                // A retry starts clean; the follower goes on from the last commit.
                let index = index.clone();
                if let Err(e) =
                    tokio::task::spawn_blocking(move || index.discard_uncommitted()).await
                {
                    tracing::error!(partition = p, error = %e, "giving up the re-index's changes failed");
                }
            }
            if followed {
                holdings.followers.insert(p, self.spawn_follower(p));
            }
            drop(holdings);
            total += result?;
        }
        Ok(total)
    }

    async fn reindex_partition(
        self: &Arc<Self>,
        index: &Arc<PartitionIndex>,
        repo: &str,
    ) -> Result<u64> {
        let p = index.partition();
        let before: BTreeSet<String> = index.files_of(repo).into_iter().collect();
        let mut in_log: BTreeSet<String> = BTreeSet::new();
        let mut total = 0;
        let mut after = 0;
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return Err(NodeError::Unavailable(
                    "the indexer is shutting down; re-index after it starts again".into(),
                ));
            }
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
            in_log.extend(
                mine.iter()
                    .filter_map(|m| m.headers.get(aiex_proto::subjects::headers::PATH))
                    .cloned(),
            );
            let this = self.clone();
            let applied = tokio::task::spawn_blocking(move || this.apply(&mine, true)).await?;
            if let Some((_, e)) = applied.write_failed {
                return Err(e);
            }
            // The follower dead-lettered these when it met them (or will, past its
            // watermark); files newly over a lowered size limit were removed above. Only
            // logged here, so that a re-index does not queue them again.
            for d in &applied.dead {
                tracing::warn!(partition = p, seq = d.seq, reason = %d.reason, "re-index: message not indexed");
            }
            total += applied.indexed as u64;
            if after >= batch.last_seq {
                break;
            }
        }
        let gone: Vec<String> = before.difference(&in_log).cloned().collect();
        let index = index.clone();
        let this = self.clone();
        let repo = repo.to_string();
        tokio::task::spawn_blocking(move || {
            for path in &gone {
                index.delete_file(&repo, path)?;
            }
            this.set.commit_partition(p, None)
        })
        .await??;
        Ok(total)
    }

    /// Stops following, committing what was applied; lost partitions waiting for their
    /// grace period keep their local copy. A running re-index fails with Unavailable at
    /// its next page. Idempotent.
    pub async fn shutdown(&self) {
        // A running re-index gives up at its next page (failing with Unavailable, its
        // uncommitted changes discarded) and lets go of the lock.
        self.stopping.store(true, Ordering::SeqCst);
        let mut holdings = self.held.lock().await;
        holdings.shut_down = true;
        for (_, (_, timer)) in std::mem::take(&mut holdings.dropping) {
            timer.abort();
            // A cancelled timer lets go of the indexer (and the index) once it is done.
            let _ = timer.await;
        }
        let followers = std::mem::take(&mut holdings.followers);
        for follower in followers.values() {
            follower.stop.send_replace(true);
        }
        for (p, follower) in followers {
            if let Err(e) = follower.task.await {
                tracing::error!(partition = p, error = %e, "indexer task failed");
            }
        }
    }

    async fn follow(self: Arc<Self>, p: u32, mut stop: watch::Receiver<bool>) {
        // `seen`: the partition's discards when this follower last committed or started
        // over. Commits are refused when it moved: what was applied since may be gone.
        let Some((mut after, mut seen)) = self
            .set
            .partition(p)
            .map(|index| (index.watermark(), index.discards()))
        else {
            tracing::error!(partition = p, "partition not held; not following it");
            return;
        };
        let mut pending = 0usize;
        let mut last_commit = Instant::now();
        let mut writing: Option<tokio::sync::OwnedSemaphorePermit> = None;
        // Failed writes or commits in a row, for the back-off.
        let mut failures = 0u32;
        // The last sequence whose dead letters are sent.
        let mut lettered = after;
        loop {
            if *stop.borrow() {
                break;
            }
            let waited = tokio::select! {
                r = self.bus.wait_for(FILES_STREAM, p, after, Duration::from_secs(1)) => r,
                _ = stop.changed() => break,
            };
            if let Ok(newest) = &waited {
                crate::metrics::watermark_lag(p, newest.saturating_sub(after));
            }
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
            if writing.is_none() {
                writing = tokio::select! {
                    permit = self.writing.clone().acquire_owned() => permit.ok(),
                    _ = stop.changed() => break,
                };
            }
            let this = self.clone();
            let messages = batch.messages;
            let n = messages.len();
            match tokio::task::spawn_blocking(move || this.apply(&messages, false)).await {
                Ok(Applied {
                    write_failed: Some((file, error)),
                    ..
                }) => {
                    // The page's dead letters come back with it.
                    tracing::error!(partition = p, %file, %error, "writing the partition failed");
                    writing = None;
                    pending = 0;
                    match self.start_over(p, &mut failures, &mut stop).await {
                        Some((mark, discards)) => (after, seen) = (mark, discards),
                        None => break,
                    }
                    continue;
                }
                Ok(Applied { mut dead, .. }) => {
                    // A page applied again after starting over letters only what is new.
                    dead.retain(|d| d.seq > lettered);
                    lettered = lettered.max(last);
                    if !dead.is_empty() {
                        self.dead_letter(p, dead).await;
                    }
                }
                Err(e) => {
                    tracing::error!(partition = p, error = %e, "indexing a page panicked");
                    break;
                }
            }
            pending += n;
            after = last;
            crate::metrics::watermark_lag(p, batch.last_seq.saturating_sub(last));
            if caught_up || pending >= COMMIT_EVERY_FILES || last_commit.elapsed() >= COMMIT_EVERY {
                pending = 0;
                let committed = self.commit(p, after, seen).await;
                writing = None;
                match committed {
                    Commit::Done => {
                        failures = 0;
                        last_commit = Instant::now();
                    }
                    Commit::Refused => {
                        // Someone else's failed commit gave up what this follower applied
                        // (the manifest forgot it too): apply it again from the last
                        // commit. Nothing of this follower's failed, so no back-off.
                        let Some(index) = self.set.partition(p) else {
                            tracing::error!(
                                partition = p,
                                "partition no longer held; not following it"
                            );
                            break;
                        };
                        (after, seen) = (index.watermark(), index.discards());
                        tracing::warn!(
                            partition = p,
                            from = after,
                            "applied changes were given up by another writer; applying them again"
                        );
                    }
                    Commit::Failed => match self.start_over(p, &mut failures, &mut stop).await {
                        Some((mark, discards)) => (after, seen) = (mark, discards),
                        None => break,
                    },
                }
            }
        }
        if pending > 0 {
            self.commit(p, after, seen).await;
        }
    }

    /// After a failed write or commit of partition `p`: gives up what was applied since
    /// its last commit, waits (1 s, doubling with each failure in a row, at most
    /// [`RETRY_AT_MOST`]) and returns the watermark of the last commit, where following
    /// starts again, so that no message is skipped (a full disk that is cleared, an
    /// index directory that comes back), with the partition's discards count then.
    /// `None` when asked to stop while waiting, or when the partition is gone.
    async fn start_over(
        self: &Arc<Self>,
        p: u32,
        failures: &mut u32,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<(u64, u64)> {
        *failures = failures.saturating_add(1);
        self.write_failures.fetch_add(1, Ordering::Relaxed);
        crate::metrics::index_write_failed();
        let this = self.clone();
        let started = tokio::task::spawn_blocking(move || {
            let index = this.set.partition(p)?;
            index.discard_uncommitted();
            Some((index.watermark(), index.discards()))
        })
        .await;
        let (mark, discards) = match started {
            Ok(Some(started)) => started,
            Ok(None) => {
                tracing::error!(partition = p, "partition no longer held; not following it");
                return None;
            }
            Err(e) => {
                tracing::error!(partition = p, error = %e, "giving up uncommitted changes panicked; not following the partition");
                return None;
            }
        };
        let wait = Duration::from_secs(1)
            .saturating_mul(1 << (*failures - 1).min(5))
            .min(RETRY_AT_MOST);
        tracing::warn!(
            partition = p,
            from = mark,
            retry_in_ms = wait.as_millis() as u64,
            "uncommitted changes given up; following again from the last commit"
        );
        tokio::select! {
            _ = tokio::time::sleep(wait) => Some((mark, discards)),
            _ = stop.changed() => None,
        }
    }

    /// How many writes or commits of a partition failed (each is retried from the
    /// partition's last commit) since start.
    pub fn write_failures(&self) -> u64 {
        self.write_failures.load(Ordering::Relaxed)
    }

    /// Commits partition `p` at watermark `seq`, unless it gave up uncommitted changes
    /// since its discards read `seen`.
    async fn commit(self: &Arc<Self>, p: u32, seq: u64, seen: u64) -> Commit {
        let this = self.clone();
        match tokio::task::spawn_blocking(move || {
            this.set
                .commit_partition_unless_discarded(p, Some(seq), seen)
        })
        .await
        {
            Ok(Ok(())) => {
                self.watermarks.send_modify(|m| m[p as usize] = seq);
                Commit::Done
            }
            Ok(Err(NodeError::Discarded { .. })) => Commit::Refused,
            Ok(Err(e)) => {
                tracing::error!(partition = p, error = %e, "commit failed");
                Commit::Failed
            }
            Err(e) => {
                tracing::error!(partition = p, error = %e, "commit panicked");
                Commit::Failed
            }
        }
    }

    /// Applies one page of messages in parallel (a page holds each key at most once);
    /// `again`: files are chunked and indexed even when their content already is.
    fn apply(&self, messages: &[LogMessage], again: bool) -> Applied {
        let outcomes: Vec<(String, Outcome)> = self.pool.install(|| {
            messages
                .par_iter()
                .map(|m| match files::parse(m) {
                    Err(e) => (
                        String::new(),
                        Outcome::DeadLetter(m.seq, m.key.clone(), e.reason),
                    ),
                    Ok(event) => {
                        let count = self.set.partition_count();
                        let belongs = partition_of(&event.repo, &event.path, count);
                        if belongs != m.partition {
                            let reason = format!(
                                "published on partition {} but {}/{} belongs to partition \
                                 {belongs} of {count} (do the gateway and the nodes use the \
                                 same partition count?)",
                                m.partition, event.repo, event.path
                            );
                            return (
                                String::new(),
                                Outcome::DeadLetter(m.seq, m.key.clone(), reason),
                            );
                        }
                        if let FileChange::Put { content, .. } = &event.change
                            && content.len() as u64 > self.chunker.max_file_bytes
                        {
                            // Not indexed, and an older version must not stay searchable in
                            // its place.
                            let reason = format!(
                                "its payload of {} bytes is over the {}-byte file limit",
                                content.len(),
                                self.chunker.max_file_bytes
                            );
                            let removed = self
                                .set
                                .partition_for(&event.repo, &event.path)
                                .and_then(|index| index.delete_file(&event.repo, &event.path));
                            return match removed {
                                Ok(_) => (
                                    String::new(),
                                    Outcome::DeadLetter(m.seq, m.key.clone(), reason),
                                ),
                                Err(e) => (
                                    String::new(),
                                    Outcome::WriteFailed(
                                        format!("{}/{}", event.repo, event.path),
                                        e,
                                    ),
                                ),
                            };
                        }
                        // A child of the upload's trace, when it carried one.
                        let span =
                            tracing::info_span!("index file", partition = m.partition, seq = m.seq);
                        crate::telemetry::follow_headers(&span, &m.headers);
                        let _entered = span.enter();
                        let result = match &event.change {
                            FileChange::Put { content, .. } => self
                                .set
                                .apply_file_with(
                                    &event.repo,
                                    &event.path,
                                    content,
                                    &self.chunker,
                                    again,
                                )
                                .map(|o| match o {
                                    FileOutcome::Indexed(_) => Outcome::Indexed,
                                    FileOutcome::Unchanged => Outcome::Unchanged,
                                    FileOutcome::SkippedBinary
                                    | FileOutcome::SkippedLarge
                                    | FileOutcome::SkippedMinified
                                    | FileOutcome::SkippedSecret => Outcome::Skipped,
                                    FileOutcome::Unreadable(_) => Outcome::Failed,
                                }),
                            FileChange::Delete => self
                                .set
                                .partition_for(&event.repo, &event.path)
                                .and_then(|index| index.delete_file(&event.repo, &event.path))
                                .map(|_| Outcome::Unchanged),
                        };
                        // Every error here is the partition's, not the file's: the page is
                        // applied again from the last commit.
                        let outcome = result.unwrap_or_else(|e| {
                            Outcome::WriteFailed(format!("{}/{}", event.repo, event.path), e)
                        });
                        (event.repo, outcome)
                    }
                })
                .collect()
        });
        let mut applied = Applied::default();
        let mut indexed = 0usize;
        let mut activity = self.activity.lock().expect("activity lock");
        for (repo, outcome) in outcomes {
            match outcome {
                Outcome::DeadLetter(seq, key, reason) => {
                    applied.dead.push(DeadLetter { seq, key, reason })
                }
                Outcome::Indexed => indexed += 1,
                Outcome::Unchanged => {}
                // Counted from the index, which keeps a marker of each skipped file.
                Outcome::Skipped => {}
                Outcome::Failed => activity.entry(repo).or_default().failed += 1,
                Outcome::WriteFailed(file, error) => {
                    applied.write_failed.get_or_insert((file, error));
                }
            }
        }
        self.files_indexed
            .fetch_add(indexed as u64, Ordering::Relaxed);
        applied.indexed = indexed;
        applied
    }

    /// Puts messages that cannot be indexed on the dead-letter queue, with the reason,
    /// and counts them. They stay in the log; the partition moves past them.
    async fn dead_letter(&self, p: u32, dead: Vec<DeadLetter>) {
        for d in dead {
            self.dead_lettered.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(partition = p, seq = d.seq, reason = %d.reason, "file-log message dead-lettered");
            let entry = serde_json::json!({
                "stream": FILES_STREAM,
                "partition": p,
                "seq": d.seq,
                "key": d.key,
                "reason": d.reason,
            });
            let payload = bytes::Bytes::from(entry.to_string());
            if let Err(e) = self.bus.submit(DEAD_LETTER_QUEUE, payload).await {
                tracing::error!(partition = p, seq = d.seq, error = %e, "could not queue a dead letter; it stays in the log");
            }
        }
    }

    /// How many file-log messages were dead-lettered since start.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered.load(Ordering::Relaxed)
    }
}

/// How a follower's commit went.
enum Commit {
    Done,
    /// Refused: the partition gave up uncommitted changes since the follower last looked.
    Refused,
    Failed,
}

/// What applying one page did.
#[derive(Default)]
struct Applied {
    /// Files indexed.
    indexed: usize,
    /// The messages to dead-letter.
    dead: Vec<DeadLetter>,
    /// The first write to the partition that failed, if any (the file and the error):
    /// then the page must be applied again.
    write_failed: Option<(String, NodeError)>,
}

/// A file-log message that cannot be indexed.
struct DeadLetter {
    seq: u64,
    key: String,
    reason: String,
}

enum Outcome {
    /// Not a file event this node can index: sequence, key and why.
    DeadLetter(u64, String, String),
    Indexed,
    Unchanged,
    Skipped,
    Failed,
    /// Writing the file to the partition failed (not the file's fault): which file, why.
    WriteFailed(String, NodeError),
}
