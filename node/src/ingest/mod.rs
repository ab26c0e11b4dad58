//! The partitions one node holds, and feeding them from a directory on disk.
//!
//! A set holds some of the cluster's `P` partitions (all of them in embedded mode, the
//! ones placed on this node in a cluster); partitions are added and removed as placement
//! changes, and search, the graph and repository counts see only the held ones.
//!
//! Indexing parses every file exactly once, in parallel: a pool of workers reads, hashes
//! and (when the content hash changed) parses each file and cuts it into drafts. Finding
//! its calls, making its chunks and their documents and handing them to the partition's
//! index writer is done by writer threads when there are more cores than workers (on the
//! cores the workers leave idle), so that a worker does little but parse; otherwise the
//! worker does it too. An unchanged file costs a read and a hash; files that disappeared
//! are removed. Each partition commits once its files are in.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak, mpsc};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::chunk::{ChunkerConfig, StagedChunks, chunk_file_staged};
use crate::embed::Encoder;
use crate::error::{NodeError, Result};
use crate::graph::SymbolGraph;
use crate::index::{PartitionIndex, WriterGauge};
use crate::search::{SearchHit, SearchRequest};
use aiex_proto::partition::partition_of;

/// Counters of one ingest run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestStats {
    pub files_seen: u64,
    pub files_unchanged: u64,
    pub files_indexed: u64,
    pub files_skipped_binary: u64,
    pub files_skipped_large: u64,
    /// Text files with a line over [`crate::chunk::MAX_TEXT_LINE_BYTES`]: minified
    /// scripts, source maps.
    #[serde(default)]
    pub files_skipped_minified: u64,
    /// Files of credentials: private keys, `.env`, `*.secret.exs`.
    #[serde(default)]
    pub files_skipped_secret: u64,
    pub files_failed: u64,
    /// Files removed from the index: gone from the directory, or skipped now (over a
    /// lower size limit, say) where a version was indexed.
    pub files_deleted: u64,
    pub bytes: u64,
    pub chunks: u64,
    /// Entries the walk left out: symbolic links, names that are not UTF-8, unreadable
    /// entries (see [`walk`]).
    #[serde(default)]
    pub files_passed_over: u64,
    /// The first [`PASSED_OVER_LISTED`] of them, each as `path: why`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passed_over: Vec<String>,
    /// The first [`SKIPPED_LISTED`] files skipped (binary, too large, minified,
    /// credentials), by path, each as `path: why`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// The first [`SKIPPED_LISTED`] files that could not be read, by path, each as
    /// `path: why`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
    /// Time spent walking, in chunking and indexing, and committing, in milliseconds.
    #[serde(default)]
    pub walk_millis: u64,
    #[serde(default)]
    pub process_millis: u64,
    #[serde(default)]
    pub commit_millis: u64,
}

impl IngestStats {
    /// Files skipped: binary, too large, minified, credentials.
    pub fn files_skipped(&self) -> u64 {
        self.files_skipped_binary
            + self.files_skipped_large
            + self.files_skipped_minified
            + self.files_skipped_secret
    }
}

/// How many of the entries a walk left out [`IngestStats::passed_over`] names.
pub const PASSED_OVER_LISTED: usize = 20;

/// How many of the files skipped or not read [`IngestStats::skipped`] and
/// [`IngestStats::failed`] name.
pub const SKIPPED_LISTED: usize = 20;

/// Keeps `entry` if it is among the first [`SKIPPED_LISTED`] by path: the list is the
/// same whatever order the workers finish in, and never longer.
fn keep_listed(list: &mut Vec<String>, entry: String) {
    let at = list.partition_point(|e| *e < entry);
    if at < SKIPPED_LISTED {
        list.insert(at, entry);
        list.truncate(SKIPPED_LISTED);
    }
}

/// The reason a skipped file's marker records ([`PartitionIndex::mark_skipped`]).
fn skip_tag(outcome: FileOutcome) -> &'static str {
    match outcome {
        FileOutcome::SkippedBinary => "binary",
        FileOutcome::SkippedLarge => "too_large",
        FileOutcome::SkippedMinified => "minified",
        FileOutcome::SkippedSecret => "credentials",
        FileOutcome::Unchanged | FileOutcome::Indexed(_) | FileOutcome::Unreadable(_) => "other",
    }
}

/// The outcome a marker's reason stands for (see [`skip_tag`]).
fn skip_outcome(tag: &str) -> Option<FileOutcome> {
    Some(match tag {
        "binary" => FileOutcome::SkippedBinary,
        "too_large" => FileOutcome::SkippedLarge,
        "minified" => FileOutcome::SkippedMinified,
        "credentials" => FileOutcome::SkippedSecret,
        _ => return None,
    })
}

/// Why a file was skipped or not read, as [`IngestStats::skipped`] names it.
fn skip_reason(outcome: FileOutcome, size: u64, chunker: &ChunkerConfig) -> Option<String> {
    use crate::chunk::SkipReason;
    Some(match outcome {
        FileOutcome::Unchanged | FileOutcome::Indexed(_) => return None,
        FileOutcome::SkippedBinary => SkipReason::Binary.to_string(),
        FileOutcome::SkippedLarge => format!(
            "{} (--max-file-bytes)",
            SkipReason::TooLarge {
                size,
                limit: chunker.max_file_bytes
            }
        ),
        FileOutcome::SkippedMinified => format!(
            "minified or generated file: a line is over the {}-byte line limit",
            crate::chunk::MAX_TEXT_LINE_BYTES
        ),
        FileOutcome::SkippedSecret => SkipReason::Secret.to_string(),
        FileOutcome::Unreadable(kind) => format!("cannot be read: {kind}"),
    })
}

/// Live counters, for progress bars.
#[derive(Debug, Default)]
pub struct IngestProgress {
    pub files_total: AtomicU64,
    pub files_done: AtomicU64,
    pub bytes_done: AtomicU64,
}

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub chunker: ChunkerConfig,
    /// Worker threads (parsing is the bottleneck: one per core).
    pub threads: usize,
    /// Remove indexed files of the repository that are no longer on disk.
    pub delete_missing: bool,
    /// Writer threads, which make the chunks of files the workers parsed and write them
    /// to the index. `None`: one per [`WORKERS_PER_WRITER`] workers, on cores the workers
    /// leave idle (none when there is a worker per core); `Some(0)`: workers write.
    pub writers: Option<usize>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            chunker: ChunkerConfig::default(),
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            delete_missing: true,
            writers: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct LayoutFile {
    partitions: u32,
}

/// The partitions of one node, under one data directory.
pub struct PartitionSet {
    dir: PathBuf,
    /// The cluster's partition count `P`, fixed per data directory.
    count: u32,
    partitions: RwLock<BTreeMap<u32, Arc<PartitionIndex>>>,
    /// Serialises adding and removing, so a partition is never opened twice.
    membership: Mutex<()>,
    graph: Mutex<Option<Arc<SymbolGraph>>>,
    /// Partitions committed through [`PartitionSet::commit_partition`], least recently
    /// first: the order idle writers are closed in.
    recent_writers: Mutex<std::collections::VecDeque<u32>>,
    /// Counts the partitions' open writers.
    writers: Arc<WriterGauge>,
    /// The sentence encoder, when embeddings are on (see [`crate::embed`]).
    encoder: OnceLock<Arc<Encoder>>,
    /// Wakes the background embedder with partitions that committed.
    embed_queue: Mutex<Option<mpsc::Sender<u32>>>,
}

/// Partitions whose files are all in that may wait for their commit while a directory is
/// ingested; beyond it the workers wait, so open writers stay bounded when commits are
/// slower than parsing (many small files over many partitions).
const COMMITS_QUEUED: usize = 2;

/// Parsed files that may wait for each writer while a directory is ingested; beyond it
/// the workers wait. A parsed file holds its source and tree (tens of times the source),
/// so few wait: what is in flight stays a few files per thread, as without writers.
const WRITES_QUEUED_PER_WRITER: usize = 2;

/// Ingest workers per writer thread. A writer's share of a file (its calls, chunks and
/// documents) is about a quarter of a worker's (the parse and the cut into drafts).
pub const WORKERS_PER_WRITER: usize = 3;

/// Writer threads for `workers` ingest workers on `cores` cores: only on cores the
/// workers leave idle. With a core per worker, a writer would only take time from them,
/// so each worker writes its own files.
fn writer_threads(workers: usize, cores: usize) -> usize {
    cores
        .saturating_sub(workers)
        .min(workers.div_ceil(WORKERS_PER_WRITER))
}

/// Index writers kept open at once by a set; beyond it the least recently committed
/// clean ones are closed. Each open writer holds an indexing thread, merge threads and
/// about 9–17 MB (bench/README.md, "Memory per partition"), which a node holding 170 of
/// 256 partitions would otherwise pay for every one of them.
pub const MAX_OPEN_WRITERS: usize = 16;

/// What [`PartitionSet::search_partitions`] found, and which asked-for partitions this
/// set does not hold (the caller asks another node for those).
#[derive(Debug, Clone)]
pub struct PartitionSearch {
    pub hits: Vec<SearchHit>,
    pub not_held: Vec<u32>,
    /// When nothing was found under a path filter: how many chunks of the searched
    /// partitions are under the path (see [`crate::search::count_under_path`]).
    pub under_path: Option<u64>,
}

impl PartitionSet {
    /// Opens (or creates) all `count` partitions under `dir`. A directory created with
    /// another partition count is refused rather than silently re-partitioned.
    /// The partition count a data directory's index was created with (its
    /// `layout.json`), or `None` when there is no index there yet. Reads nothing else and
    /// creates nothing.
    pub fn existing_count(dir: &Path) -> Result<Option<u32>> {
        let layout_path = dir.join("layout.json");
        match std::fs::read(&layout_path) {
            Ok(bytes) => {
                let layout: LayoutFile =
                    serde_json::from_slice(&bytes).map_err(|e| NodeError::Corrupt {
                        path: layout_path.clone(),
                        reason: e.to_string(),
                    })?;
                Ok(Some(layout.partitions))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(NodeError::io(&layout_path)(e)),
        }
    }

    pub fn open(dir: &Path, count: u32) -> Result<PartitionSet> {
        PartitionSet::open_with(dir, count, 0..count)
    }

    /// Opens (or creates) the partitions `held` of a cluster of `count` partitions under
    /// `dir`; others are added later with [`PartitionSet::add_partition`].
    pub fn open_with(
        dir: &Path,
        count: u32,
        held: impl IntoIterator<Item = u32>,
    ) -> Result<PartitionSet> {
        if count == 0 || count > 4096 {
            return Err(NodeError::InvalidArgument {
                field: "partitions",
                reason: format!("must be between 1 and 4096, got {count}"),
            });
        }
        let held: Vec<u32> = held.into_iter().collect();
        if let Some(p) = held.iter().find(|p| **p >= count) {
            return Err(NodeError::InvalidArgument {
                field: "partition",
                reason: format!("{p} is out of range: the cluster has {count} partitions"),
            });
        }
        std::fs::create_dir_all(dir).map_err(NodeError::io(dir))?;
        match PartitionSet::existing_count(dir)? {
            Some(found) if found != count => {
                return Err(NodeError::PartitionMismatch {
                    path: dir.to_path_buf(),
                    found,
                    wanted: count,
                });
            }
            Some(_) => {}
            None => {
                let layout_path = dir.join("layout.json");
                let json = serde_json::to_vec(&LayoutFile { partitions: count })
                    .expect("layout serialises");
                std::fs::write(&layout_path, json).map_err(NodeError::io(&layout_path))?;
            }
        }
        let writers = Arc::<WriterGauge>::default();
        let partitions = held
            .into_par_iter()
            .map(|p| {
                let index =
                    PartitionIndex::open_counted(&partition_dir(dir, p), p, writers.clone())?;
                Ok((p, Arc::new(index)))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        let set = PartitionSet {
            dir: dir.to_path_buf(),
            count,
            partitions: RwLock::new(partitions),
            membership: Mutex::new(()),
            graph: Mutex::new(None),
            recent_writers: Mutex::default(),
            writers,
            encoder: OnceLock::new(),
            embed_queue: Mutex::new(None),
        };
        set.record_totals();
        Ok(set)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cluster's partition count `P` (not how many this set holds).
    pub fn partition_count(&self) -> u32 {
        self.count
    }

    /// The held partitions, in partition order.
    pub fn partitions(&self) -> Vec<Arc<PartitionIndex>> {
        self.read().values().cloned().collect()
    }

    /// The numbers of the held partitions, ascending.
    pub fn held(&self) -> Vec<u32> {
        self.read().keys().copied().collect()
    }

    /// Partition `p`, when held.
    pub fn partition(&self, p: u32) -> Option<Arc<PartitionIndex>> {
        self.read().get(&p).cloned()
    }

    /// The partitions with a local copy under the data directory, held or not.
    pub fn on_disk(&self) -> Result<Vec<u32>> {
        let entries = std::fs::read_dir(&self.dir).map_err(NodeError::io(&self.dir))?;
        let mut found: Vec<u32> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name();
                let digits = name.to_str()?.strip_prefix('p')?;
                let p: u32 = digits.parse().ok()?;
                (digits.len() == 4 && p < self.count).then_some(p)
            })
            .collect();
        found.sort_unstable();
        Ok(found)
    }

    /// Opens partition `p` (creating `pNNNN` when there is no local copy) and adds it to
    /// the set; a held partition is returned as it is.
    pub fn add_partition(&self, p: u32) -> Result<Arc<PartitionIndex>> {
        if p >= self.count {
            return Err(NodeError::InvalidArgument {
                field: "partition",
                reason: format!(
                    "{p} is out of range: the cluster has {} partitions",
                    self.count
                ),
            });
        }
        let _membership = self.membership.lock().expect("membership lock");
        if let Some(index) = self.partition(p) {
            return Ok(index);
        }
        let index = Arc::new(PartitionIndex::open_counted(
            &partition_dir(&self.dir, p),
            p,
            self.writers.clone(),
        )?);
        self.write().insert(p, index.clone());
        *self.graph.lock().expect("graph lock") = None;
        Ok(index)
    }

    /// Removes partition `p` from the set, so search no longer sees it. The local copy
    /// stays on disk (see [`PartitionSet::delete_partition_dir`]); the index closes when
    /// the last user of the returned handle drops it.
    pub fn remove_partition(&self, p: u32) -> Option<Arc<PartitionIndex>> {
        let _membership = self.membership.lock().expect("membership lock");
        let removed = self.write().remove(&p);
        if removed.is_some() {
            *self.graph.lock().expect("graph lock") = None;
        }
        removed
    }

    /// Deletes the local copy of partition `p`, which must not be held. Returns whether
    /// there was one.
    pub fn delete_partition_dir(&self, p: u32) -> Result<bool> {
        let _membership = self.membership.lock().expect("membership lock");
        if self.read().contains_key(&p) {
            return Err(NodeError::InvalidArgument {
                field: "partition",
                reason: format!("partition {p} is held; remove it before deleting its directory"),
            });
        }
        let dir = partition_dir(&self.dir, p);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(NodeError::io(dir)(e)),
        }
    }

    /// The held partition a file belongs to, or [`NodeError::PartitionNotHeld`].
    pub fn partition_for(&self, repo: &str, path: &str) -> Result<Arc<PartitionIndex>> {
        let p = partition_of(repo, path, self.count);
        self.partition(p)
            .ok_or(NodeError::PartitionNotHeld { partition: p })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<u32, Arc<PartitionIndex>>> {
        self.partitions.read().expect("partitions lock")
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<u32, Arc<PartitionIndex>>> {
        self.partitions.write().expect("partitions lock")
    }

    /// Indexes the directory `root` as repository `repo`, honouring `.gitignore`.
    ///
    /// Each partition is committed once all its files are in, so when a file fails (the
    /// error is returned) the partitions finished before it are already committed and
    /// searchable; the others are committed when they finish, as usual.
    pub fn ingest_dir(
        &self,
        repo: &str,
        root: &Path,
        options: &IngestOptions,
        progress: Option<&IngestProgress>,
    ) -> Result<IngestStats> {
        validate_repo_name(repo)?;
        let meta = std::fs::metadata(root).map_err(NodeError::io(root))?;
        if !meta.is_dir() {
            return Err(NodeError::InvalidArgument {
                field: "path",
                reason: format!("{} is not a directory", root.display()),
            });
        }
        // Every partition may change (new files, or files gone from the directory): claim
        // them all before changing any, so a second writer fails here and not halfway.
        for p in self.partitions() {
            p.claim_writer()?;
        }
        let started = Instant::now();
        let Walk { files, passed_over } = walk(root)?;
        let walked = started.elapsed();
        if let Some(p) = progress {
            p.files_total.store(files.len() as u64, Ordering::Relaxed);
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.threads.max(1))
            .thread_name(|i| format!("aiex-ingest-{i}"))
            .build()
            .map_err(|e| NodeError::InvalidArgument {
                field: "threads",
                reason: e.to_string(),
            })?;
        // Files in partition order, so that each worker finishes partitions one after
        // another: a partition is committed (on its own thread) as soon as its last file is
        // in, while the workers parse the next ones. What is left to commit at the end is
        // the last few partitions (one committing, at most [`COMMITS_QUEUED`] waiting), not
        // all of them, and only a few writers are open at a time: workers wait when
        // [`COMMITS_QUEUED`] partitions are already waiting for their commit.
        let mut work: Vec<(u32, &(String, PathBuf, u64))> = files
            .iter()
            .map(|f| (partition_of(repo, &f.0, self.count), f))
            .collect();
        work.sort_by_key(|(p, _)| *p);
        let mut left: BTreeMap<u32, AtomicU64> = BTreeMap::new();
        for (p, _) in &work {
            left.entry(*p)
                .or_insert_with(|| AtomicU64::new(0))
                .fetch_add(1, Ordering::Relaxed);
        }
        let stats = Mutex::new(IngestStats::default());
        let first_error: Mutex<Option<NodeError>> = Mutex::new(None);
        let (done_tx, done_rx) = mpsc::sync_channel::<u32>(COMMITS_QUEUED);
        let workers = options.threads.max(1);
        let wanted_writers = options.writers.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            writer_threads(workers, cores)
        });
        let (write_tx, write_rx) = mpsc::sync_channel::<(u32, Box<Chunked>)>(
            WRITES_QUEUED_PER_WRITER * wanted_writers.max(1),
        );
        // Held by the writers alone: when the last one ends (it panicked), sends fail and
        // the workers write their files themselves.
        let write_rx = Arc::new(Mutex::new(write_rx));
        let fail = |e: NodeError| {
            first_error.lock().expect("error lock").get_or_insert(e);
        };
        // A file is in once its chunks are written (or it needed none); the partition's
        // last file in sends it to the committer. Without a committer the send fails, and
        // commit_all below commits the partition.
        let file_in = |partition: u32, done: &mpsc::SyncSender<u32>| {
            if left[&partition].fetch_sub(1, Ordering::AcqRel) == 1 {
                let _ = done.send(partition);
            }
        };
        let written = |outcome: Result<u64>| {
            let mut s = stats.lock().expect("stats lock");
            match outcome {
                Ok(chunks) => {
                    s.files_indexed += 1;
                    s.chunks += chunks;
                }
                Err(e) => {
                    s.files_failed += 1;
                    drop(s);
                    fail(e);
                }
            }
        };
        // When the last file is in; the commits still running then count as commit time.
        let processed = std::thread::scope(|scope| {
            let committer = std::thread::Builder::new()
                .name("aiex-commit".into())
                .spawn_scoped(scope, || {
                    for partition in done_rx {
                        if let Err(e) = self.commit_one(partition, None, None) {
                            fail(e);
                        }
                    }
                });
            if let Err(e) = committer {
                // Not fatal: the sends below fail, and commit_all commits everything.
                tracing::warn!(error = %e, "no committer thread; committing at the end");
            }
            // The workers read, parse and cut files up. Where cores are left idle, writers
            // find the files' calls, make their chunks and the index's documents, so that
            // a worker's core does little but parse (the bottleneck).
            let mut writers = Vec::new();
            for i in 0..wanted_writers {
                let (write_rx, done) = (write_rx.clone(), done_tx.clone());
                let writer = std::thread::Builder::new()
                    .name(format!("aiex-write-{i}"))
                    .spawn_scoped(scope, move || {
                        loop {
                            let next = write_rx.lock().expect("write queue lock").recv();
                            let Ok((partition, chunked)) = next else {
                                break;
                            };
                            written(chunked.write(repo));
                            file_in(partition, &done);
                        }
                    });
                match writer {
                    Ok(handle) => writers.push(handle),
                    // Not fatal: with no writer at all the workers write their files.
                    Err(e) => tracing::warn!(error = %e, "a writer thread did not start"),
                }
            }
            drop(write_rx);
            let write_tx = (!writers.is_empty()).then_some(write_tx);
            pool.install(|| {
                work.par_iter().for_each_with(
                    (write_tx, done_tx),
                    |(write, done), (partition, file)| {
                        let (rel, abs, size) = file;
                        // Indexed before: a file skipped now (a lower size limit) has its
                        // old version removed, which counts as deleted.
                        let held = (self.partition_for(repo, rel).ok())
                            .is_some_and(|p| p.has_file(repo, rel));
                        let outcome = self.ingest_file(repo, rel, abs, *size, &options.chunker);
                        if let Some(p) = progress {
                            p.files_done.fetch_add(1, Ordering::Relaxed);
                            p.bytes_done.fetch_add(*size, Ordering::Relaxed);
                        }
                        let mut s = stats.lock().expect("stats lock");
                        s.files_seen += 1;
                        // Bytes read: a file over the size limit is not.
                        if !matches!(outcome, Ok(Prepared::Done(FileOutcome::SkippedLarge))) {
                            s.bytes += size;
                        }
                        match outcome {
                            Ok(Prepared::Chunked(chunked)) => {
                                drop(s);
                                let unsent = match write {
                                    Some(w) => w.send((*partition, chunked)).err().map(|e| e.0.1),
                                    None => Some(chunked),
                                };
                                // No writer, or none left (they panicked): write here.
                                if let Some(chunked) = unsent {
                                    written(chunked.write(repo));
                                    file_in(*partition, done);
                                }
                                return;
                            }
                            Ok(Prepared::Done(done)) => {
                                if let Some(why) = skip_reason(done, *size, &options.chunker) {
                                    let list = match done {
                                        FileOutcome::Unreadable(_) => &mut s.failed,
                                        _ => {
                                            s.files_deleted += u64::from(held);
                                            &mut s.skipped
                                        }
                                    };
                                    keep_listed(list, format!("{rel}: {why}"));
                                }
                                match done {
                                    FileOutcome::Unchanged => s.files_unchanged += 1,
                                    FileOutcome::Indexed(chunks) => {
                                        s.files_indexed += 1;
                                        s.chunks += chunks;
                                    }
                                    FileOutcome::SkippedBinary => s.files_skipped_binary += 1,
                                    FileOutcome::SkippedLarge => s.files_skipped_large += 1,
                                    FileOutcome::SkippedMinified => s.files_skipped_minified += 1,
                                    FileOutcome::SkippedSecret => s.files_skipped_secret += 1,
                                    FileOutcome::Unreadable(_) => s.files_failed += 1,
                                }
                            }
                            Err(e) => {
                                s.files_failed += 1;
                                drop(s);
                                fail(e);
                            }
                        }
                        file_in(*partition, done);
                    },
                );
            });
            // The workers are done; the files they parsed are in once the writers are.
            for writer in writers {
                if let Err(panic) = writer.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            Instant::now()
        });
        let early_commits = processed.elapsed();
        if let Some(e) = first_error.into_inner().expect("error lock") {
            return Err(e);
        }
        let mut stats = stats.into_inner().expect("stats lock");
        stats.files_passed_over = passed_over.len() as u64;
        stats.passed_over = passed_over
            .iter()
            .take(PASSED_OVER_LISTED)
            .map(|p| p.to_string())
            .collect();
        stats.walk_millis = walked.as_millis() as u64;
        stats.process_millis = (processed - started - walked).as_millis() as u64;
        if options.delete_missing {
            let present: std::collections::HashSet<&str> =
                files.iter().map(|(rel, _, _)| rel.as_str()).collect();
            for p in self.partitions() {
                for path in p.files_of(repo) {
                    if !present.contains(path.as_str()) && p.delete_file(repo, &path)? {
                        stats.files_deleted += 1;
                    }
                }
            }
        }
        let commit_started = Instant::now();
        self.commit_all()?;
        stats.commit_millis = (early_commits + commit_started.elapsed()).as_millis() as u64;
        Ok(stats)
    }

    fn ingest_file(
        &self,
        repo: &str,
        rel: &str,
        abs: &Path,
        size: u64,
        chunker: &ChunkerConfig,
    ) -> Result<Prepared> {
        let partition = self.partition_for(repo, rel)?;
        if size > chunker.max_file_bytes {
            // Not read at all; a previously indexed version is removed.
            partition.delete_file(repo, rel)?;
            return Ok(Prepared::Done(FileOutcome::SkippedLarge));
        }
        let bytes = match std::fs::read(abs) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(path = %abs.display(), error = %e, "file unreadable, skipped");
                return Ok(Prepared::Done(FileOutcome::Unreadable(e.kind())));
            }
        };
        self.prepare_file(repo, rel, Cow::Owned(bytes), chunker, false)
    }

    /// Indexes one file's bytes (skipping it when its content hash is already indexed).
    pub fn apply_file(
        &self,
        repo: &str,
        path: &str,
        bytes: &[u8],
        chunker: &ChunkerConfig,
    ) -> Result<FileOutcome> {
        self.apply_file_with(repo, path, bytes, chunker, false)
    }

    /// [`PartitionSet::apply_file`]; with `again`, chunks and indexes the file even when
    /// its content is already indexed (a re-index after a chunker change).
    pub fn apply_file_with(
        &self,
        repo: &str,
        path: &str,
        bytes: &[u8],
        chunker: &ChunkerConfig,
        again: bool,
    ) -> Result<FileOutcome> {
        match self.prepare_file(repo, path, Cow::Borrowed(bytes), chunker, again)? {
            Prepared::Chunked(chunked) => Ok(FileOutcome::Indexed(chunked.write(repo)?)),
            Prepared::Done(outcome) => Ok(outcome),
        }
    }

    /// Everything of [`PartitionSet::apply_file_with`] up to the parse: the chunks are
    /// made and written by [`Chunked::write`].
    fn prepare_file(
        &self,
        repo: &str,
        path: &str,
        bytes: Cow<'_, [u8]>,
        chunker: &ChunkerConfig,
        again: bool,
    ) -> Result<Prepared> {
        let partition = self.partition_for(repo, path)?;
        // The content's hash and what else decides its chunks and documents: a file indexed
        // by another chunker version, budget or document version is chunked again.
        let hash = format!(
            "{} {} d{}",
            blake3::hash(&bytes).to_hex(),
            chunker.fingerprint(),
            crate::index::DOCUMENT_VERSION
        );
        if !again
            && let Some(known) = partition.file(repo, path)
            && known.content_hash == hash
        {
            // A skipped version is skipped again, for the same reason, unread (a reason
            // this version does not know is chunked again).
            match known.skipped.as_deref().map(skip_outcome) {
                None => return Ok(Prepared::Done(FileOutcome::Unchanged)),
                Some(Some(outcome)) => return Ok(Prepared::Done(outcome)),
                Some(None) => {}
            }
        }
        let started = std::time::Instant::now();
        let size = bytes.len() as u64;
        // Copied only here, when the file is to be chunked, and only if it was borrowed.
        let chunks = match chunk_file_staged(repo, path, bytes.into_owned(), chunker) {
            Ok(staged) => staged,
            Err(reason) => {
                let outcome = match reason {
                    crate::chunk::SkipReason::Binary => FileOutcome::SkippedBinary,
                    crate::chunk::SkipReason::TooLarge { .. } => FileOutcome::SkippedLarge,
                    crate::chunk::SkipReason::Minified { .. } => FileOutcome::SkippedMinified,
                    crate::chunk::SkipReason::Secret => FileOutcome::SkippedSecret,
                };
                // The index keeps a marker of the skipped version, so that it is counted
                // after a restart and costs only a hash while it does not change.
                partition.mark_skipped(repo, path, &hash, size, skip_tag(outcome))?;
                return Ok(Prepared::Done(outcome));
            }
        };
        Ok(Prepared::Chunked(Box::new(Chunked {
            partition,
            path: path.to_string(),
            hash,
            bytes: size,
            chunks,
            chunking: started.elapsed(),
        })))
    }

    /// Removes a repository from every partition. Returns the number of files removed.
    pub fn remove_repo(&self, repo: &str) -> Result<u64> {
        let mut removed = 0;
        for p in self.partitions() {
            removed += p.delete_repo(repo)?;
        }
        self.commit_all()?;
        Ok(removed)
    }

    /// Commits every partition with pending changes, in parallel.
    pub fn commit_all(&self) -> Result<()> {
        let started = std::time::Instant::now();
        let partitions = self.partitions();
        partitions
            .par_iter()
            .map(|p| p.commit(None))
            .collect::<Result<Vec<()>>>()?;
        *self.graph.lock().expect("graph lock") = None;
        self.record_commit(started);
        self.embed_later(partitions.iter().map(|p| p.partition()));
        self.trim_writers(None);
        Ok(())
    }

    /// Commits one partition, recording the log sequence it has applied up to.
    pub fn commit_partition(&self, partition: u32, watermark: Option<u64>) -> Result<()> {
        self.commit_one(partition, watermark, None)?;
        self.record_totals();
        Ok(())
    }

    /// [`PartitionSet::commit_partition`], unless the partition gave up uncommitted
    /// changes since its [`discards`](crate::index::PartitionIndex::discards) read
    /// `seen` (see [`commit_unless_discarded`](crate::index::PartitionIndex::commit_unless_discarded)).
    pub fn commit_partition_unless_discarded(
        &self,
        partition: u32,
        watermark: Option<u64>,
        seen: u64,
    ) -> Result<()> {
        self.commit_one(partition, watermark, Some(seen))?;
        self.record_totals();
        Ok(())
    }

    /// [`PartitionSet::commit_partition`] without the index totals, which read every
    /// partition's manifest: `ingest_dir` commits partition after partition and records
    /// them once at the end.
    fn commit_one(&self, partition: u32, watermark: Option<u64>, seen: Option<u64>) -> Result<()> {
        let started = std::time::Instant::now();
        self.partition(partition)
            .ok_or(NodeError::PartitionNotHeld { partition })?
            .commit_unless_discarded(watermark, seen)?;
        *self.graph.lock().expect("graph lock") = None;
        crate::metrics::index_committed(started.elapsed());
        self.embed_later([partition]);
        self.trim_writers(Some(partition));
        Ok(())
    }

    /// Turns embeddings on: searches in plain words are fused with embedding similarity,
    /// and [`PartitionSet::sync_vectors`] (or the background embedder, see
    /// [`PartitionSet::spawn_embedder`]) keeps the vectors in step with the chunks.
    /// Fails if embeddings are already on with another encoder.
    pub fn set_encoder(&self, encoder: Arc<Encoder>) -> Result<()> {
        let set = self.encoder.get_or_init(|| encoder.clone());
        if !Arc::ptr_eq(set, &encoder) {
            return Err(NodeError::InvalidArgument {
                field: "encoder",
                reason: "embeddings are already on with another model".into(),
            });
        }
        Ok(())
    }

    /// The encoder, when embeddings are on.
    pub fn encoder(&self) -> Option<&Arc<Encoder>> {
        self.encoder.get()
    }

    /// Embeds what the last commit of every held partition lacks, on the calling thread
    /// (partitions in parallel on the rayon pool). Nothing to do without an encoder.
    pub fn sync_vectors(&self) -> Result<crate::index::VectorSync> {
        self.sync_vectors_with(None)
    }

    /// [`PartitionSet::sync_vectors`], counting what it embeds into `progress`.
    pub fn sync_vectors_with(
        &self,
        progress: Option<&crate::index::EmbedProgress>,
    ) -> Result<crate::index::VectorSync> {
        let Some(encoder) = self.encoder.get() else {
            return Ok(Default::default());
        };
        let done = self
            .partitions()
            .par_iter()
            .map(|p| p.sync_vectors_with(encoder, progress))
            .collect::<Result<Vec<_>>>()?;
        Ok(done
            .into_iter()
            .fold(Default::default(), |a, b| crate::index::VectorSync {
                embedded: a.embedded + b.embedded,
                removed: a.removed + b.removed,
                total: a.total + b.total,
            }))
    }

    /// Starts the background embedder: one thread that, after each commit, brings the
    /// committed partitions' vectors in step (one partition at a time, its matrix products
    /// on that one thread, so indexing keeps the other cores). It starts with every held
    /// partition (catching up after a restart) and ends when the set is dropped.
    pub fn spawn_embedder(self: &Arc<Self>) -> Result<()> {
        let Some(encoder) = self.encoder.get().cloned() else {
            return Ok(());
        };
        let mut queue = self.embed_queue.lock().expect("embed queue lock");
        if queue.is_some() {
            return Ok(());
        }
        let (tx, rx) = mpsc::channel::<u32>();
        for p in self.held() {
            let _ = tx.send(p);
        }
        *queue = Some(tx);
        drop(queue);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "aiex-embed-math".into())
            .build()
            .map_err(|e| NodeError::Unavailable(format!("cannot start the embedder: {e}")))?;
        let set: Weak<PartitionSet> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("aiex-embed".into())
            .spawn(move || embedder(set, encoder, rx, pool))
            .map_err(|e| NodeError::Unavailable(format!("cannot start the embedder: {e}")))?;
        Ok(())
    }

    /// Hands committed partitions to the background embedder, if it runs.
    fn embed_later(&self, partitions: impl IntoIterator<Item = u32>) {
        if let Some(tx) = self.embed_queue.lock().expect("embed queue lock").as_ref() {
            for p in partitions {
                let _ = tx.send(p);
            }
        }
    }

    /// Closes the least recently committed clean writers beyond [`MAX_OPEN_WRITERS`]
    /// (never `just_committed`'s). A dirty writer (being written to) stays open.
    fn trim_writers(&self, just_committed: Option<u32>) {
        let mut recent = self.recent_writers.lock().expect("writers lock");
        if let Some(p) = just_committed {
            recent.retain(|&q| q != p);
            recent.push_back(p);
        }
        let mut open: Vec<Arc<PartitionIndex>> = self
            .partitions()
            .into_iter()
            .filter(|p| p.writer_open())
            .collect();
        if open.len() > MAX_OPEN_WRITERS {
            let mut excess = open.len() - MAX_OPEN_WRITERS;
            // Never committed here first, then least recently committed.
            let rank = |p: u32| recent.iter().position(|&q| q == p).map_or(0, |i| i + 1);
            open.sort_by_key(|p| rank(p.partition()));
            for index in open {
                if excess == 0 {
                    break;
                }
                if Some(index.partition()) != just_committed && index.close_writer() {
                    excess -= 1;
                }
            }
        }
        let held = self.read();
        recent.retain(|q| held.get(q).is_some_and(|p| p.writer_open()));
    }

    /// How many partitions have their writer open.
    pub fn open_writers(&self) -> usize {
        self.writers.open()
    }

    /// The most partitions that had their writer open at once since the set was opened.
    pub fn peak_open_writers(&self) -> usize {
        self.writers.peak()
    }

    /// Records a commit's time and the held partitions' chunk count and on-disk size.
    fn record_commit(&self, started: std::time::Instant) {
        crate::metrics::index_committed(started.elapsed());
        self.record_totals();
    }

    /// Records the held partitions' chunk count and on-disk size.
    fn record_totals(&self) {
        let partitions = self.partitions();
        let documents = partitions
            .iter()
            .flat_map(|p| p.repo_stats().into_values())
            .map(|stats| stats.chunks)
            .sum();
        let bytes = partitions.iter().map(|p| p.size_on_disk()).sum();
        crate::metrics::index_totals(documents, bytes);
    }

    /// Repositories with their file, chunk and byte counts.
    pub fn repos(&self) -> Vec<RepoSummary> {
        summarise(&self.partitions())
    }

    /// The held ones of `partitions`, and the others.
    fn held_of(&self, partitions: &[u32]) -> (Vec<Arc<PartitionIndex>>, Vec<u32>) {
        let mut wanted = partitions.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let map = self.read();
        let (held, missing): (Vec<u32>, Vec<u32>) =
            wanted.into_iter().partition(|p| map.contains_key(p));
        (held.iter().map(|p| map[p].clone()).collect(), missing)
    }

    /// [`PartitionSet::repos`] over the held ones of `partitions`, and the others.
    pub fn repos_of(&self, partitions: &[u32]) -> (Vec<RepoSummary>, Vec<u32>) {
        let (held, missing) = self.held_of(partitions);
        (summarise(&held), missing)
    }

    /// The paths of `repo`'s skipped files (see [`crate::index::FileEntry::skipped`]) in
    /// the held ones of `partitions`, and the others.
    pub fn skipped_paths_of(&self, repo: &str, partitions: &[u32]) -> (Vec<String>, Vec<u32>) {
        let (held, missing) = self.held_of(partitions);
        let paths = (held.iter())
            .flat_map(|p| p.skipped_files_of(repo))
            .collect();
        (paths, missing)
    }

    /// Every chunk of the held ones of `partitions` without its text (content, header,
    /// doc): what [`SymbolGraph::build`] reads. The others are returned too.
    pub fn graph_chunks_of(
        &self,
        partitions: &[u32],
    ) -> Result<(Vec<crate::chunk::Chunk>, Vec<u32>)> {
        let (held, missing) = self.held_of(partitions);
        let chunks: Vec<Vec<crate::chunk::Chunk>> = held
            .par_iter()
            .map(|p| p.all_chunks_without_text())
            .collect::<Result<_>>()?;
        Ok((chunks.into_iter().flatten().collect(), missing))
    }
}

/// The background embedder's loop (see [`PartitionSet::spawn_embedder`]).
fn embedder(
    set: Weak<PartitionSet>,
    encoder: Arc<Encoder>,
    rx: mpsc::Receiver<u32>,
    pool: rayon::ThreadPool,
) {
    while let Ok(first) = rx.recv() {
        let mut pending = std::collections::BTreeSet::from([first]);
        pending.extend(rx.try_iter());
        for p in pending {
            let Some(set) = set.upgrade() else { return };
            let Some(index) = set.partition(p) else {
                continue;
            };
            drop(set);
            if !index.vectors_behind() {
                continue;
            }
            let started = Instant::now();
            match pool.install(|| index.sync_vectors(&encoder)) {
                Ok(done) if done.embedded > 0 || done.removed > 0 => {
                    crate::metrics::embedded(done.embedded, started.elapsed());
                    tracing::info!(
                        partition = p,
                        embedded = done.embedded,
                        removed = done.removed,
                        vectors = done.total,
                        seconds = started.elapsed().as_secs_f64(),
                        "partition vectors in step"
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(partition = p, error = %e, "embedding failed; retried after the next commit");
                }
            }
        }
    }
}

/// Per-repository counts over `partitions`.
fn summarise(partitions: &[Arc<PartitionIndex>]) -> Vec<RepoSummary> {
    let mut all: std::collections::BTreeMap<String, RepoSummary> = Default::default();
    for p in partitions {
        for (repo, stats) in p.repo_stats() {
            let e = all.entry(repo.clone()).or_insert_with(|| RepoSummary {
                repo,
                ..Default::default()
            });
            e.files += stats.files;
            e.chunks += stats.chunks;
            e.bytes += stats.bytes;
            e.skipped += stats.skipped;
        }
    }
    all.into_values().collect()
}

impl PartitionSet {
    /// Searches every held partition.
    pub fn search(&self, request: &SearchRequest) -> Result<Vec<SearchHit>> {
        let held = self.partitions();
        let parts: Vec<&PartitionIndex> = held.iter().map(|p| p.as_ref()).collect();
        crate::search::search_with(&parts, request, None, self.encoder().map(|e| e.as_ref()))
    }

    /// [`crate::search::count_under_path`] over every held partition.
    pub fn count_under_path(&self, filters: &crate::search::Filters) -> Result<Option<u64>> {
        let held = self.partitions();
        let parts: Vec<&PartitionIndex> = held.iter().map(|p| p.as_ref()).collect();
        crate::search::count_under_path(&parts, filters)
    }

    /// Searches the given partitions, those of them this set holds; the others are
    /// reported in [`PartitionSearch::not_held`].
    pub fn search_partitions(
        &self,
        request: &SearchRequest,
        partitions: &[u32],
    ) -> Result<PartitionSearch> {
        self.search_partitions_with(request, partitions, None)
    }

    /// [`PartitionSet::search_partitions`] scoring with cluster-wide `stats` when given.
    pub fn search_partitions_with(
        &self,
        request: &SearchRequest,
        partitions: &[u32],
        stats: Option<&crate::search::QueryStats>,
    ) -> Result<PartitionSearch> {
        let (held, not_held) = self.held_of(partitions);
        let parts: Vec<&PartitionIndex> = held.iter().map(|p| p.as_ref()).collect();
        let hits =
            crate::search::search_with(&parts, request, stats, self.encoder().map(|e| e.as_ref()))?;
        let under_path = match hits.is_empty() {
            true => crate::search::count_under_path(&parts, &request.filters)?,
            false => None,
        };
        Ok(PartitionSearch {
            hits,
            not_held,
            under_path,
        })
    }

    /// The BM25 statistics of `request` over the held ones of `partitions`, and the others.
    pub fn query_stats(
        &self,
        request: &SearchRequest,
        partitions: &[u32],
    ) -> Result<(crate::search::QueryStats, Vec<u32>)> {
        let (held, missing) = self.held_of(partitions);
        let parts: Vec<&PartitionIndex> = held.iter().map(|p| p.as_ref()).collect();
        Ok((crate::search::query_stats(&parts, request)?, missing))
    }

    /// The symbol graph of everything indexed (cached until the next commit).
    pub fn graph(&self) -> Result<Arc<SymbolGraph>> {
        if let Some(g) = self.graph.lock().expect("graph lock").as_ref() {
            return Ok(g.clone());
        }
        // Each partition's part of the graph is built from its chunks (without their
        // text) and the chunks dropped, so no more than a partition per thread is held.
        let parts: Vec<SymbolGraph> = self
            .partitions()
            .par_iter()
            .map(|p| Ok(SymbolGraph::part(&p.all_chunks_without_text()?)))
            .collect::<Result<_>>()?;
        let graph = Arc::new(SymbolGraph::merge(parts));
        *self.graph.lock().expect("graph lock") = Some(graph.clone());
        Ok(graph)
    }

    /// The chunks defining `symbol` (`Mod.fun/arity`, `Mod.fun` or `Mod`) in every held
    /// partition, ordered by repository, path and position.
    pub fn chunks_of_symbol(&self, symbol: &str) -> Result<Vec<crate::chunk::Chunk>> {
        chunks_defining(&self.partitions(), symbol)
    }

    /// [`PartitionSet::chunks_of_symbol`] over the held ones of `partitions`, and the others.
    pub fn chunks_of_symbol_in(
        &self,
        symbol: &str,
        partitions: &[u32],
    ) -> Result<(Vec<crate::chunk::Chunk>, Vec<u32>)> {
        let (held, missing) = self.held_of(partitions);
        Ok((chunks_defining(&held, symbol)?, missing))
    }

    /// The repositories holding `path` among the held ones of `partitions`, and the others.
    pub fn repos_with_file_in(&self, path: &str, partitions: &[u32]) -> (Vec<String>, Vec<u32>) {
        let (held, missing) = self.held_of(partitions);
        let mut repos: Vec<String> = summarise(&held)
            .into_iter()
            .map(|r| r.repo)
            .filter(|repo| held.iter().any(|p| p.has_file(repo, path)))
            .collect();
        repos.sort();
        repos.dedup();
        (repos, missing)
    }
}

/// The chunks of `partitions` defining `symbol`, by repository, path and position.
fn chunks_defining(
    partitions: &[Arc<PartitionIndex>],
    symbol: &str,
) -> Result<Vec<crate::chunk::Chunk>> {
    let found: Vec<Vec<crate::chunk::Chunk>> = partitions
        .par_iter()
        .map(|p| p.chunks_defining(symbol))
        .collect::<Result<_>>()?;
    let mut chunks: Vec<crate::chunk::Chunk> = found.into_iter().flatten().collect();
    chunks.sort_by(|a, b| (&a.repo, &a.path, a.start_byte).cmp(&(&b.repo, &b.path, b.start_byte)));
    Ok(chunks)
}

impl PartitionSet {
    /// A file's chunks in file order (none when the file is not indexed; its partition
    /// not being held here is [`NodeError::PartitionNotHeld`]).
    pub fn chunks_of_file(&self, repo: &str, path: &str) -> Result<Vec<crate::chunk::Chunk>> {
        self.partition_for(repo, path)?.chunks_of_file(repo, path)
    }

    /// The chunks of one file that `only` names, in file order (only those are read).
    pub fn chunks_of_file_where(
        &self,
        repo: &str,
        path: &str,
        only: &crate::index::FileChunkFilter,
    ) -> Result<Vec<crate::chunk::Chunk>> {
        self.partition_for(repo, path)?
            .chunks_of_file_where(repo, path, only)
    }

    /// Bytes on disk of all partitions.
    pub fn size_on_disk(&self) -> u64 {
        crate::index::dir_size(&self.dir)
    }
}

/// Where partition `p` lives under a data directory.
fn partition_dir(dir: &Path, p: u32) -> PathBuf {
    dir.join(format!("p{p:04}"))
}

/// A repository as the index sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoSummary {
    pub repo: String,
    pub files: u64,
    pub chunks: u64,
    pub bytes: u64,
    /// Files whose current version the index holds as read and skipped (binary,
    /// minified, credentials, too large to chunk), not indexed.
    #[serde(default)]
    pub skipped: u64,
}

/// A file read, hashed and (when it changed) chunked, not yet written.
enum Prepared {
    Chunked(Box<Chunked>),
    Done(FileOutcome),
}

/// A file's chunks, or what is left to make them, on their way to its partition.
struct Chunked {
    partition: Arc<PartitionIndex>,
    path: String,
    hash: String,
    bytes: u64,
    chunks: StagedChunks,
    /// The time chunking has taken so far.
    chunking: std::time::Duration,
}

impl Chunked {
    /// Makes the file's chunks if they are still to make, and replaces the file's chunks
    /// in its partition with them (uncommitted). Returns how many there are.
    fn write(self: Box<Self>, repo: &str) -> Result<u64> {
        let started = std::time::Instant::now();
        let chunks = self.chunks.finish();
        let parse_error = chunks.iter().any(|c| c.has_error);
        let chunking = self.chunking + started.elapsed();
        crate::metrics::file_chunked(chunks.len(), parse_error, chunking);
        let count = chunks.len() as u64;
        self.partition
            .upsert_file(repo, &self.path, &self.hash, self.bytes, chunks)?;
        Ok(count)
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOutcome {
    Unchanged,
    Indexed(u64),
    SkippedBinary,
    SkippedLarge,
    SkippedMinified,
    SkippedSecret,
    /// The file could not be read (why, as the system said).
    Unreadable(std::io::ErrorKind),
}

/// Repository names become path-free identifiers in subjects and keys.
pub fn validate_repo_name(repo: &str) -> Result<()> {
    let ok = !repo.is_empty()
        && repo.len() <= 128
        && repo
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !repo.starts_with('.');
    if ok {
        Ok(())
    } else {
        let shown = match repo {
            "" => "an empty name".to_string(),
            _ => format!("`{}`", shown_name(repo)),
        };
        Err(NodeError::InvalidArgument {
            field: "repository",
            reason: format!(
                "{shown} is not a valid repository name: use 1-128 letters, digits, `-`, `_` or `.`, not starting with `.`"
            ),
        })
    }
}

/// A name as an error shows it: a long one (a mistake, or a path pasted as a name) by its
/// first 60 characters and its length, not echoed whole.
pub fn shown_name(name: &str) -> String {
    const SHOWN: usize = 60;
    match name.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}… ({} bytes)", &name[..cut], name.len()),
        None => name.to_string(),
    }
}

/// What [`walk`] found under a directory.
#[derive(Debug, Default)]
pub struct Walk {
    /// The files, as (relative path with `/`, absolute path, size), sorted by path.
    pub files: Vec<(String, PathBuf, u64)>,
    /// Entries that are not indexed, with why, in the order met.
    pub passed_over: Vec<PassedOver>,
}

/// An entry [`walk`] leaves out of the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassedOver {
    pub path: PathBuf,
    pub why: PassReason,
}

/// Why [`walk`] left an entry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassReason {
    /// A symbolic link: not followed, so nothing outside the directory is read and no file
    /// is indexed twice.
    Symlink,
    /// A path that is not valid UTF-8: paths are UTF-8 in the index, the protocol and
    /// search results.
    NonUtf8Name,
    /// A directory or file the walk could not read (the error says why).
    Unreadable(String),
    /// A directory of build output or of another project's code that no `.gitignore`
    /// left out ([`NOT_SOURCE_DIRS`]).
    NotSource,
}

/// Directories the walk leaves out below the root even when no `.gitignore` names them:
/// Mix's build output, ElixirLS's and npm's packages. (Indexed as the root itself, they
/// are read.)
pub const NOT_SOURCE_DIRS: [&str; 3] = ["_build", ".elixir_ls", "node_modules"];

impl std::fmt::Display for PassedOver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match &self.why {
            PassReason::Symlink => write!(f, "{path}: a symbolic link (links are not followed)"),
            PassReason::NonUtf8Name => write!(f, "{path}: its name is not valid UTF-8"),
            PassReason::Unreadable(e) => write!(f, "{path}: {e}"),
            PassReason::NotSource => write!(
                f,
                "{path}: build output or packages, not source (index it as a directory of \
                 its own to search it)"
            ),
        }
    }
}

/// The files under `root` (honouring .gitignore, skipping .git), sorted by path, and the
/// entries left out: symbolic links, names that are not UTF-8, unreadable entries, and
/// [`NOT_SOURCE_DIRS`] below the root.
pub fn walk(root: &Path) -> Result<Walk> {
    let mut walk = Walk::default();
    let started = Instant::now();
    let not_source: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
    let left_out = not_source.clone();
    for entry in ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            let build_output = e.depth() > 0
                && e.file_type().is_some_and(|t| t.is_dir())
                && NOT_SOURCE_DIRS.iter().any(|d| e.file_name() == *d);
            if build_output {
                left_out
                    .lock()
                    .expect("walk lock")
                    .push(e.path().to_path_buf());
            }
            !build_output
        })
        .build()
    {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = walk_error_path(&e).unwrap_or_else(|| root.to_path_buf());
                let Some(io) = e.io_error() else {
                    // A bad pattern in an ignore file: the walk goes on, nothing is left out.
                    tracing::warn!(path = %path.display(), error = %e, "ignore file error");
                    continue;
                };
                tracing::warn!(path = %path.display(), error = %e, "walk error, entry skipped");
                walk.passed_over.push(PassedOver {
                    path,
                    why: PassReason::Unreadable(io.to_string()),
                });
                continue;
            }
        };
        let Some(file_type) = entry.file_type() else {
            continue; // stdin, never met under a directory
        };
        if file_type.is_symlink() {
            walk.passed_over.push(PassedOver {
                path: entry.path().to_path_buf(),
                why: PassReason::Symlink,
            });
            continue;
        }
        if !file_type.is_file() {
            continue;
        }
        let abs = entry.path().to_path_buf();
        let rel_path = abs.strip_prefix(root).unwrap_or(&abs);
        let Some(rel) = rel_path.to_str() else {
            walk.passed_over.push(PassedOver {
                path: abs,
                why: PassReason::NonUtf8Name,
            });
            continue;
        };
        let rel = if std::path::MAIN_SEPARATOR == '/' {
            rel.to_string()
        } else {
            rel.replace(std::path::MAIN_SEPARATOR, "/")
        };
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        walk.files.push((rel, abs, size));
    }
    let mut not_source = std::mem::take(&mut *not_source.lock().expect("walk lock"));
    not_source.sort();
    walk.passed_over
        .extend(not_source.into_iter().map(|path| PassedOver {
            path,
            why: PassReason::NotSource,
        }));
    let files = &mut walk.files;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    tracing::debug!(
        files = files.len(),
        passed_over = walk.passed_over.len(),
        elapsed = ?started.elapsed(),
        "walked"
    );
    Ok(walk)
}

/// The path an `ignore` walk error is about, if it names one.
fn walk_error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{
        ChunkerConfig, FileOutcome, PassReason, SKIPPED_LISTED, keep_listed, skip_reason,
        validate_repo_name, walk, writer_threads,
    };

    #[test]
    fn an_invalid_repository_name_is_shown_short() {
        let err = |name: &str| validate_repo_name(name).unwrap_err().to_string();
        assert!(err("a b").contains("`a b` is not a valid repository name"));
        assert!(err("").contains("an empty name is not a valid repository name"));
        let long = "é".repeat(10_000);
        let said = err(&long);
        assert!(
            said.contains(&format!("`{}… (20000 bytes)`", "é".repeat(60))),
            "{said}"
        );
        assert!(said.len() < 400, "{said}");
    }

    /// The files listed as skipped are the first by path, whichever order they come in,
    /// and never more than [`SKIPPED_LISTED`].
    #[test]
    fn skipped_files_listed_are_the_first_by_path_whatever_the_order() {
        let mut forward = Vec::new();
        let mut backward = Vec::new();
        let names: Vec<String> = (0..50).map(|i| format!("lib/f{i:02}.ex: why")).collect();
        for n in &names {
            keep_listed(&mut forward, n.clone());
        }
        for n in names.iter().rev() {
            keep_listed(&mut backward, n.clone());
        }
        assert_eq!(forward, names[..SKIPPED_LISTED].to_vec());
        assert_eq!(backward, forward);
        let chunker = ChunkerConfig::default();
        let why = |o| skip_reason(o, 10, &chunker);
        assert_eq!(why(FileOutcome::Unchanged), None);
        assert_eq!(why(FileOutcome::Indexed(3)), None);
        assert_eq!(
            why(FileOutcome::Unreadable(
                std::io::ErrorKind::PermissionDenied
            ))
            .as_deref(),
            Some("cannot be read: permission denied")
        );
    }

    /// Build output and packages below the root are passed over, and said so, where no
    /// `.gitignore` leaves them out; a `.gitignore` that does is not repeated; the root
    /// itself is read whatever its name.
    #[test]
    fn build_output_is_passed_over_unless_gitignored() {
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "defmodule A do\nend\n").unwrap();
        };
        for rel in [
            "app/lib/a.ex",
            "app/_build/dev/lib/a.ex",
            "app/.elixir_ls/build/a.ex",
            "app/assets/node_modules/x/index.js",
            "app/.formatter.exs",
            "app/lib/_build_helpers.ex",
        ] {
            write(rel);
        }
        let app = dir.path().join("app");
        let w = walk(&app).unwrap();
        let files: Vec<&str> = w.files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            files,
            [".formatter.exs", "lib/_build_helpers.ex", "lib/a.ex"]
        );
        let passed: Vec<(String, &PassReason)> = (w.passed_over.iter())
            .map(|p| {
                let rel = p.path.strip_prefix(&app).unwrap();
                (rel.to_string_lossy().into_owned(), &p.why)
            })
            .collect();
        assert_eq!(
            passed,
            [
                (".elixir_ls".to_string(), &PassReason::NotSource),
                ("_build".to_string(), &PassReason::NotSource),
                ("assets/node_modules".to_string(), &PassReason::NotSource),
            ]
        );
        assert!(w.passed_over[1].to_string().contains("not source"));
        // Git-ignored: left out as before, without a word.
        std::fs::write(
            app.join(".gitignore"),
            "/_build\nnode_modules/\n.elixir_ls/\n",
        )
        .unwrap();
        let w = walk(&app).unwrap();
        assert!(w.passed_over.is_empty(), "{:?}", w.passed_over);
        assert_eq!(w.files.len(), 4, "{:?}", w.files);
        // Indexed as a directory of its own, build output is read.
        let w = walk(&app.join("_build")).unwrap();
        assert_eq!(w.files.len(), 1);
    }

    #[test]
    fn writers_only_take_cores_the_workers_leave_idle() {
        // (workers, cores) -> writers
        for (workers, cores, writers) in [
            (1, 1, 0),
            (1, 2, 1),
            (2, 2, 0),
            (4, 4, 0),
            (1, 8, 1),
            (3, 8, 1),
            (4, 8, 2),
            (6, 8, 2),
            (7, 8, 1),
            (12, 16, 4),
            (16, 64, 6),
        ] {
            assert_eq!(
                writer_threads(workers, cores),
                writers,
                "{workers} workers on {cores} cores"
            );
        }
    }
}
