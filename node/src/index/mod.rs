//! One on-disk tantivy index per partition, holding chunks and their metadata.
//!
//! Besides chunk documents, each indexed file has one `file` document carrying its content
//! hash, so the manifest that makes indexing incremental lives in the same commit as the
//! chunks it describes: a crash can never leave a manifest that disagrees with the index.
//! The last applied log sequence (the watermark a node resumes from) is the commit payload,
//! atomic with the data for the same reason.

mod schema;
pub mod tokenizer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use serde::{Deserialize, Serialize};
use tantivy::collector::DocSetCollector;
use tantivy::directory::MmapDirectory;
use tantivy::indexer::UserOperation;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::chunk::Chunk;
use crate::embed::{Encoder, VECTORS_FILE, VectorStore, embed_text, text_hash};
use crate::error::{NodeError, Result};
pub use schema::{DOC_CHUNK, DOC_FILE, DOCUMENT_VERSION, EXACT_KEY, Fields, PLACEHOLDER_NAME};

/// The file whose lock says which process writes a partition.
const WRITER_CLAIM_FILE: &str = "writer.claim";

/// Chunks embedded per call of the encoder when a partition's vectors are synced.
const EMBED_GROUP: usize = 512;

/// Memory budget of one partition's writer. Tantivy needs at least 15 MB per thread.
const WRITER_MEMORY_BYTES: usize = 32 * 1024 * 1024;

/// Openings of partitions in this process, in the high half of each one's discards count.
static OPENINGS: AtomicU64 = AtomicU64::new(0);

/// What the index knows about one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The blake3 hash of the content, a space, the chunker's fingerprint
    /// ([`ChunkerConfig::fingerprint`](crate::chunk::ChunkerConfig::fingerprint)) and
    /// ` d` with the [`DOCUMENT_VERSION`].
    pub content_hash: String,
    pub chunks: u64,
    pub bytes: u64,
    /// Why the file is not indexed, when this version of it was read and skipped (binary,
    /// minified, credentials, too large to chunk): the index keeps a marker with no
    /// chunks, so that what it skipped is counted after a restart and a skipped file that
    /// has not changed costs a hash. (An older version of Aiex would read a marker as a
    /// file indexed with no chunks: going back to one needs a fresh index.)
    #[serde(default)]
    pub skipped: Option<String>,
}

/// What the `kind` field of a skipped file's marker starts with (then the reason).
const SKIPPED_KIND_PREFIX: &str = "skipped:";

/// A repository's counts in one partition.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RepoStats {
    /// Files indexed, their chunks and bytes.
    pub files: u64,
    pub chunks: u64,
    pub bytes: u64,
    /// Files whose current version was skipped (see [`FileEntry::skipped`]).
    pub skipped: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CommitPayload {
    watermark: u64,
}

/// The identity of a file across repositories: `repo \0 path`.
pub fn file_key(repo: &str, path: &str) -> String {
    format!("{repo}\u{0}{path}")
}

/// One partition's index.
pub struct PartitionIndex {
    partition: u32,
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    /// Opened on the first write, so readers (a search while another process indexes)
    /// never need the index's write lock; closed again by [`PartitionIndex::close_writer`]
    /// when clean (each open writer holds its own threads and buffers).
    writer: RwLock<Option<CountedWriter>>,
    /// Counts the open writers of the set this partition belongs to.
    writers: Arc<WriterGauge>,
    /// This process's claim to write the partition, taken with the first writer and kept
    /// while the partition is open, so that closing an idle writer does not let another
    /// process write in between (tantivy's own lock lives only as long as a writer).
    claim: OnceLock<std::fs::File>,
    fields: Fields,
    manifest: RwLock<HashMap<String, FileEntry>>,
    watermark: AtomicU64,
    dirty: AtomicBool,
    commit_lock: Mutex<()>,
    /// Embedding vectors of the chunks, loaded on first use (only when embeddings are on).
    vectors: RwLock<Option<Arc<VectorStore>>>,
    /// Serialises [`PartitionIndex::sync_vectors`].
    vector_sync: Mutex<()>,
    /// Counts the times uncommitted changes were given up, from a value unique to this
    /// opening of the partition.
    discarded: AtomicU64,
    /// False while the manifest could not be read from the last commit and was cleared:
    /// then deletes are written whether or not the manifest knows the file.
    manifest_complete: AtomicBool,
    /// Counts commits that changed something (0 at open).
    generation: AtomicU64,
    /// The generation the vectors were last brought in step with (`u64::MAX`: never).
    vectors_generation: AtomicU64,
}

/// Counts the index writers open at once among the partitions that share it (a
/// [`crate::ingest::PartitionSet`]'s), and the most ever open: exact, where sampling
/// each partition in turn can count a writer closed and another opened since as both open.
#[derive(Debug, Default)]
pub struct WriterGauge {
    open: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

impl WriterGauge {
    /// Writers open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// The most writers open at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// An open writer, counted in its partition's [`WriterGauge`] until it is dropped (and
/// its threads have ended).
struct CountedWriter {
    writer: Option<IndexWriter<TantivyDocument>>,
    gauge: Arc<WriterGauge>,
}

impl CountedWriter {
    fn new(writer: IndexWriter<TantivyDocument>, gauge: &Arc<WriterGauge>) -> CountedWriter {
        let open = gauge.open.fetch_add(1, Ordering::SeqCst) + 1;
        gauge.peak.fetch_max(open, Ordering::SeqCst);
        CountedWriter {
            writer: Some(writer),
            gauge: gauge.clone(),
        }
    }
}

impl std::ops::Deref for CountedWriter {
    type Target = IndexWriter<TantivyDocument>;
    fn deref(&self) -> &Self::Target {
        self.writer.as_ref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for CountedWriter {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.writer.as_mut().expect("present until dropped")
    }
}

impl Drop for CountedWriter {
    fn drop(&mut self) {
        // Dropping tantivy's writer waits for its threads: counted closed after that.
        drop(self.writer.take());
        self.gauge.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What one [`PartitionIndex::sync_vectors`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VectorSync {
    /// Chunks embedded now (new, or whose text changed).
    pub embedded: usize,
    /// Vectors dropped (their chunk is gone, changed or moved; a moved chunk keeps its
    /// vector under its new id without being embedded again).
    pub removed: usize,
    /// Vectors held afterwards.
    pub total: usize,
}

/// Live counts of an embedding pass, for a progress bar: the definitions found to embed
/// (each partition adds its own once it has compared its chunks with its vectors) and
/// those embedded so far.
#[derive(Debug, Default)]
pub struct EmbedProgress {
    pub wanted: AtomicU64,
    pub done: AtomicU64,
}

/// Runs `read` over the index in `dir`, turning a panic inside tantivy (which it raises
/// on some damaged files: an out-of-range offset in a postings list or a term
/// dictionary) into [`NodeError::Corrupt`] naming the partition's directory and what to
/// do, instead of ending the process.
pub fn guarded<T>(dir: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    quiet_panics_while_guarded();
    GUARDED.with(|g| g.set(g.get() + 1));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    GUARDED.with(|g| g.set(g.get() - 1));
    match outcome {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown failure".into());
            let at = PANICKED_AT.with(|p| p.take()).unwrap_or_default();
            tracing::error!(dir = %dir.display(), panic = %what, at = %at, "reading the index failed");
            Err(NodeError::Corrupt {
                path: dir.to_path_buf(),
                reason: format!(
                    "reading it failed ({what}, at {at}); the index files may be damaged: \
                     delete this directory (or the whole data directory) and index again"
                ),
            })
        }
    }
}

thread_local! {
    /// How many [`guarded`] reads this thread is inside.
    static GUARDED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// Where the last panic inside a guarded read happened (file:line), for its error.
    static PANICKED_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Keeps the panic hook from printing a panic that [`guarded`] turns into an error (the
/// error says what happened; a backtrace on stderr would only alarm). Other panics are
/// printed by the hook that was installed before.
fn quiet_panics_while_guarded() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.with(|g| g.get()) == 0 {
                previous(info);
            } else {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                PANICKED_AT.with(|p| *p.borrow_mut() = at);
            }
        }));
    });
}

impl PartitionIndex {
    /// Opens the partition's index under `dir`, creating it if absent. Reopening never
    /// rebuilds: the manifest and watermark are read back from the last commit.
    pub fn open(dir: &Path, partition: u32) -> Result<PartitionIndex> {
        PartitionIndex::open_counted(dir, partition, Arc::default())
    }

    /// [`open`](Self::open), counting its writers in `writers` (shared by a set's
    /// partitions).
    pub fn open_counted(
        dir: &Path,
        partition: u32,
        writers: Arc<WriterGauge>,
    ) -> Result<PartitionIndex> {
        std::fs::create_dir_all(dir).map_err(NodeError::io(dir))?;
        let directory = MmapDirectory::open(dir).map_err(|e| NodeError::Corrupt {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
        let schema = schema::build();
        let incompatible = || {
            NodeError::Corrupt {
            path: dir.to_path_buf(),
            reason: "the index was written by an incompatible Aiex version; remove the data directory and re-index".into(),
        }
        };
        let index = Index::open_or_create(directory, schema.clone()).map_err(|e| match e {
            tantivy::TantivyError::SchemaError(_) => incompatible(),
            e => NodeError::index(dir)(e),
        })?;
        if index.schema() != schema {
            return Err(incompatible());
        }
        index
            .tokenizers()
            .register(tokenizer::CODE_ANALYZER, tokenizer::code_analyzer());
        let fields = Fields::from_schema(&index.schema());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(NodeError::index(dir))?;
        let metas = index.load_metas().map_err(NodeError::index(dir))?;
        let watermark = match metas.payload.as_deref() {
            Some(p) => {
                serde_json::from_str::<CommitPayload>(p)
                    .map_err(|e| NodeError::Corrupt {
                        path: dir.to_path_buf(),
                        reason: format!("commit payload: {e}"),
                    })?
                    .watermark
            }
            None => 0,
        };
        let this = PartitionIndex {
            partition,
            dir: dir.to_path_buf(),
            index,
            reader,
            writer: RwLock::new(None),
            writers,
            claim: OnceLock::new(),
            fields,
            manifest: RwLock::new(HashMap::new()),
            watermark: AtomicU64::new(watermark),
            dirty: AtomicBool::new(false),
            commit_lock: Mutex::new(()),
            vectors: RwLock::new(None),
            vector_sync: Mutex::new(()),
            // Counts of different openings never match: a count read from a partition
            // that was closed and opened again since cannot pass for the new one's.
            discarded: AtomicU64::new(OPENINGS.fetch_add(1 << 32, Ordering::Relaxed)),
            manifest_complete: AtomicBool::new(true),
            generation: AtomicU64::new(0),
            vectors_generation: AtomicU64::new(u64::MAX),
        };
        guarded(dir, || this.load_manifest())?;
        Ok(this)
    }

    fn load_manifest(&self) -> Result<()> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.doc_type, schema::DOC_FILE),
            IndexRecordOption::Basic,
        );
        let addresses = searcher
            .search(&query, &DocSetCollector)
            .map_err(NodeError::index(&self.dir))?;
        let mut manifest = HashMap::with_capacity(addresses.len());
        for addr in addresses {
            let doc: TantivyDocument = searcher.doc(addr).map_err(NodeError::index(&self.dir))?;
            let key = str_field(&doc, self.fields.file_key);
            let kind = str_field(&doc, self.fields.kind);
            let entry = FileEntry {
                skipped: kind.strip_prefix(SKIPPED_KIND_PREFIX).map(str::to_string),
                content_hash: str_field(&doc, self.fields.content_hash),
                chunks: doc
                    .get_first(self.fields.chunk_count)
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0),
                bytes: doc
                    .get_first(self.fields.file_bytes)
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0),
            };
            manifest.insert(key, entry);
        }
        *self.manifest.write().expect("manifest lock") = manifest;
        Ok(())
    }

    /// Takes the claim to write the partition (a lock on its claim file, kept until this
    /// `PartitionIndex` is dropped), or fails with [`NodeError::Busy`] when another
    /// process (or another opening of the directory) holds it. Writing takes it anyway; a
    /// job that may write many partitions takes them all first, so that it fails before
    /// changing any when another writer is at work (even if, as it turns out, it had
    /// nothing to change).
    pub fn claim_writer(&self) -> Result<()> {
        if self.claim.get().is_none() {
            let path = self.dir.join(WRITER_CLAIM_FILE);
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(NodeError::io(&path))?;
            match file.try_lock() {
                Ok(()) => {
                    let _ = self.claim.set(file);
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(NodeError::Busy {
                        path: self.dir.clone(),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(NodeError::io(&path)(e)),
            }
        }
        Ok(())
    }

    /// Opens the index writer.
    fn open_writer(&self) -> Result<CountedWriter> {
        self.claim_writer()?;
        let writer = self
            .index
            .writer_with_num_threads(1, WRITER_MEMORY_BYTES)
            .map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => NodeError::Busy {
                    path: self.dir.clone(),
                },
                other => NodeError::index(&self.dir)(other),
            })?;
        Ok(CountedWriter::new(writer, &self.writers))
    }

    /// Changes the index with the writer (opened first if closed). The partition is
    /// marked dirty while the writer is held, so it is never closed with the change
    /// uncommitted.
    fn modify<T>(&self, f: impl FnOnce(&IndexWriter<TantivyDocument>) -> Result<T>) -> Result<T> {
        loop {
            {
                let guard = self.writer.read().expect("writer lock");
                if let Some(writer) = guard.as_ref() {
                    self.dirty.store(true, Ordering::SeqCst);
                    return f(writer);
                }
            }
            let mut guard = self.writer.write().expect("writer lock");
            if guard.is_none() {
                *guard = Some(self.open_writer()?);
            }
        }
    }

    /// Whether the writer is open.
    pub fn writer_open(&self) -> bool {
        self.writer.read().expect("writer lock").is_some()
    }

    /// Closes the writer if everything written with it is committed (its threads end and
    /// its buffers are freed; the next write opens it again). Returns whether it is
    /// closed now.
    pub fn close_writer(&self) -> bool {
        let _serial = self.commit_lock.lock().expect("commit lock");
        let mut guard = self.writer.write().expect("writer lock");
        if self.dirty.load(Ordering::SeqCst) {
            return guard.is_none();
        }
        guard.take();
        true
    }

    pub fn partition(&self) -> u32 {
        self.partition
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// A searcher on the last commit.
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// The last applied log sequence, as of the last commit.
    pub fn watermark(&self) -> u64 {
        self.watermark.load(Ordering::SeqCst)
    }

    /// Whether the index holds an indexed version of a file, not a skipped one
    /// (uncommitted changes included).
    pub fn has_file(&self, repo: &str, path: &str) -> bool {
        self.manifest
            .read()
            .expect("manifest lock")
            .get(&file_key(repo, path))
            .is_some_and(|e| e.skipped.is_none())
    }

    /// What the index holds for a file (including uncommitted changes of this process):
    /// its indexed version, or the marker of a skipped one.
    pub fn file(&self, repo: &str, path: &str) -> Option<FileEntry> {
        self.manifest
            .read()
            .expect("manifest lock")
            .get(&file_key(repo, path))
            .cloned()
    }

    /// Paths of a repository's files in this partition, the skipped ones too.
    pub fn files_of(&self, repo: &str) -> Vec<String> {
        let prefix = file_key(repo, "");
        self.manifest
            .read()
            .expect("manifest lock")
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }

    /// Paths of a repository's files in this partition whose current version was read
    /// and skipped (see [`FileEntry::skipped`]).
    pub fn skipped_files_of(&self, repo: &str) -> Vec<String> {
        let prefix = file_key(repo, "");
        (self.manifest.read().expect("manifest lock").iter())
            .filter(|(_, e)| e.skipped.is_some())
            .filter_map(|(k, _)| k.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }

    /// Repositories with at least one file here (indexed or skipped), with their counts.
    pub fn repo_stats(&self) -> HashMap<String, RepoStats> {
        let mut out: HashMap<String, RepoStats> = HashMap::new();
        for (key, entry) in self.manifest.read().expect("manifest lock").iter() {
            let repo = key.split('\u{0}').next().unwrap_or_default().to_string();
            let e = out.entry(repo).or_default();
            if entry.skipped.is_some() {
                e.skipped += 1;
            } else {
                e.files += 1;
                e.chunks += entry.chunks;
                e.bytes += entry.bytes;
            }
        }
        out
    }

    /// Replaces a file's chunks (idempotent: applying the same version twice changes nothing).
    pub fn upsert_file(
        &self,
        repo: &str,
        path: &str,
        content_hash: &str,
        bytes: u64,
        chunks: Vec<Chunk>,
    ) -> Result<()> {
        let key = file_key(repo, path);
        let count = chunks.len() as u64;
        // One batch per file: its operations reach the writer's thread in one hand-over
        // (not one wake-up per chunk) and land in the same segment.
        let mut ops = Vec::with_capacity(chunks.len() + 2);
        ops.push(UserOperation::Delete(Term::from_field_text(
            self.fields.file_key,
            &key,
        )));
        ops.extend(
            chunks
                .into_iter()
                .map(|chunk| UserOperation::Add(schema::chunk_document(&self.fields, &key, chunk))),
        );
        ops.push(UserOperation::Add(schema::file_document(
            &self.fields,
            &key,
            repo,
            path,
            content_hash,
            bytes,
            count,
        )));
        let entry = FileEntry {
            content_hash: content_hash.to_string(),
            chunks: count,
            bytes,
            skipped: None,
        };
        self.write_file(key, ops, entry)
    }

    /// Runs a file's operations and records its manifest entry. The manifest changes
    /// under the same writer lock as the documents, so that giving up uncommitted
    /// changes forgets both or neither.
    fn write_file(&self, key: String, ops: Vec<UserOperation>, entry: FileEntry) -> Result<()> {
        self.modify(|writer| {
            writer.run(ops).map_err(NodeError::index(&self.dir))?;
            self.manifest
                .write()
                .expect("manifest lock")
                .insert(key, entry);
            Ok(())
        })
    }

    /// Removes a file's chunks and records that this version of it (`content_hash`) was
    /// skipped, and why (`reason`, a short tag: `minified`).
    pub fn mark_skipped(
        &self,
        repo: &str,
        path: &str,
        content_hash: &str,
        bytes: u64,
        reason: &str,
    ) -> Result<()> {
        let key = file_key(repo, path);
        let mut marker =
            schema::file_document(&self.fields, &key, repo, path, content_hash, bytes, 0);
        marker.add_text(self.fields.kind, format!("{SKIPPED_KIND_PREFIX}{reason}"));
        let ops = vec![
            UserOperation::Delete(Term::from_field_text(self.fields.file_key, &key)),
            UserOperation::Add(marker),
        ];
        let entry = FileEntry {
            content_hash: content_hash.to_string(),
            chunks: 0,
            bytes,
            skipped: Some(reason.to_string()),
        };
        self.write_file(key, ops, entry)
    }

    /// Removes a file's chunks (or the marker of its skipped version). Returns whether
    /// the file was indexed (a marker removed is not).
    pub fn delete_file(&self, repo: &str, path: &str) -> Result<bool> {
        let key = file_key(repo, path);
        let complete = self.manifest_complete.load(Ordering::SeqCst);
        if complete
            && !self
                .manifest
                .read()
                .expect("manifest lock")
                .contains_key(&key)
        {
            return Ok(false);
        }
        self.modify(|writer| {
            let known = self.manifest.write().expect("manifest lock").remove(&key);
            // Read again under the writer lock, under which a discard changes it.
            if known.is_some() || !self.manifest_complete.load(Ordering::SeqCst) {
                writer.delete_term(Term::from_field_text(self.fields.file_key, &key));
            }
            Ok(known.is_some_and(|e| e.skipped.is_none()))
        })
    }

    /// Removes every file of a repository. Returns how many indexed files were removed
    /// (markers of skipped files go too, uncounted).
    pub fn delete_repo(&self, repo: &str) -> Result<u64> {
        let prefix = file_key(repo, "");
        let complete = self.manifest_complete.load(Ordering::SeqCst);
        let any = self
            .manifest
            .read()
            .expect("manifest lock")
            .keys()
            .any(|k| k.starts_with(&prefix));
        if complete && !any {
            return Ok(0);
        }
        self.modify(|writer| {
            let mut manifest = self.manifest.write().expect("manifest lock");
            let mut removed = 0u64;
            let mut any = false;
            manifest.retain(|k, e| {
                let gone = k.starts_with(&prefix);
                any |= gone;
                removed += u64::from(gone && e.skipped.is_none());
                !gone
            });
            if any || !self.manifest_complete.load(Ordering::SeqCst) {
                writer.delete_term(Term::from_field_text(self.fields.repo, repo));
            }
            Ok(removed)
        })
    }

    /// Makes every change so far durable and visible, recording `watermark` if given.
    /// A commit with nothing to do is skipped (unless the watermark moves).
    pub fn commit(&self, watermark: Option<u64>) -> Result<()> {
        self.commit_unless_discarded(watermark, None)
    }

    /// [`commit`](Self::commit), unless changes were given up since
    /// [`discards`](Self::discards) read `seen`: then nothing is committed and the error
    /// says so, because what the caller applied since may be gone (another writer's
    /// failed commit dropped it), and recording its watermark would skip it for good.
    pub fn commit_unless_discarded(&self, watermark: Option<u64>, seen: Option<u64>) -> Result<()> {
        let _serial = self.commit_lock.lock().expect("commit lock");
        if let Some(seen) = seen
            && seen != self.discards()
        {
            return Err(NodeError::Discarded {
                partition: self.partition,
            });
        }
        let new_mark = watermark.unwrap_or_else(|| self.watermark());
        if !self.dirty.swap(false, Ordering::SeqCst) && new_mark == self.watermark() {
            return Ok(());
        }
        let payload = serde_json::to_string(&CommitPayload {
            watermark: new_mark,
        })
        .expect("payload serialises");
        let mut guard = self.writer.write().expect("writer lock");
        if guard.is_none() {
            // Only the watermark moves: a writer to commit it with.
            *guard = Some(self.open_writer()?);
        }
        let writer = guard.as_mut().expect("opened above");
        let committed = writer.prepare_commit().and_then(|mut prepared| {
            prepared.set_payload(&payload);
            prepared.commit()
        });
        if let Err(e) = committed {
            // The changes since the last commit are lost (tantivy kills a writer whose
            // thread failed, a full disk for one).
            self.forget_uncommitted(guard);
            return Err(NodeError::index(&self.dir)(e));
        }
        self.watermark.store(new_mark, Ordering::SeqCst);
        if self.manifest_complete.load(Ordering::SeqCst) {
            drop(guard);
            self.reader.reload().map_err(NodeError::index(&self.dir))?;
        } else {
            // Everything is committed, so the manifest can be read again, before any
            // write lands (the writer lock is still held).
            let reloaded = self.reader.reload().map_err(NodeError::index(&self.dir));
            if reloaded.is_ok() && self.load_manifest().is_ok() {
                self.manifest_complete.store(true, Ordering::SeqCst);
            }
            drop(guard);
            reloaded?;
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Gives up every change since the last commit: drops the writer (with whatever it
    /// still holds) and reads the manifest again from the last commit, so the files whose
    /// documents were pending count as not indexed and are applied again (by the next
    /// ingest, or by the follower going back to [`watermark`](Self::watermark)) instead
    /// of being skipped as unchanged. For a writer that can no longer write: tantivy
    /// kills one whose thread failed (a full disk, a vanished directory), and every later
    /// write and commit with it fails.
    pub fn discard_uncommitted(&self) {
        let _serial = self.commit_lock.lock().expect("commit lock");
        let guard = self.writer.write().expect("writer lock");
        self.dirty.store(false, Ordering::SeqCst);
        self.forget_uncommitted(guard);
    }

    /// A token that changes each time uncommitted changes are given up, and differs
    /// between openings of the partition: a writer that sees it move knows that what it
    /// applied since may be gone.
    pub fn discards(&self) -> u64 {
        self.discarded.load(Ordering::SeqCst)
    }

    /// [`discard_uncommitted`](Self::discard_uncommitted) with the commit lock and the
    /// writer lock held. The writer lock is kept until the manifest is read again, so
    /// no write lands in between (writes change the manifest under that lock).
    fn forget_uncommitted(
        &self,
        mut guard: std::sync::RwLockWriteGuard<'_, Option<CountedWriter>>,
    ) {
        guard.take();
        self.discarded.fetch_add(1, Ordering::SeqCst);
        // The manifest is read from the last commit: the reader is brought up to it first
        // (a commit whose reader reload failed is not seen otherwise). If that fails too
        // (the directory is gone), the reader's last view is the best there is.
        if let Err(e) = self.reader.reload() {
            tracing::warn!(partition = self.partition, error = %e, "reloading the reader failed");
        }
        if let Err(reload) = self.load_manifest() {
            // Then every file counts as not indexed: the next ingest rewrites them all.
            tracing::error!(
                partition = self.partition,
                error = %reload,
                "re-reading the manifest from the last commit failed; forgetting it"
            );
            self.manifest.write().expect("manifest lock").clear();
            self.manifest_complete.store(false, Ordering::SeqCst);
        } else {
            self.manifest_complete.store(true, Ordering::SeqCst);
        }
        drop(guard);
    }

    /// Loads a stored chunk.
    pub fn chunk(&self, searcher: &Searcher, addr: tantivy::DocAddress) -> Result<Chunk> {
        guarded(&self.dir, || {
            let doc: TantivyDocument = searcher.doc(addr).map_err(NodeError::index(&self.dir))?;
            schema::chunk_from_document(&self.fields, &doc, true).map_err(|reason| {
                NodeError::Corrupt {
                    path: self.dir.clone(),
                    reason,
                }
            })
        })
    }

    /// The committed chunks matching one exact term of `field` (chunk documents only).
    fn chunks_with_term(&self, field: tantivy::schema::Field, value: &str) -> Result<Vec<Chunk>> {
        self.chunks_matching(&term_query(field, value))
    }

    /// The committed chunks `query` matches (chunk documents only), decoded.
    fn chunks_matching(&self, query: &dyn Query) -> Result<Vec<Chunk>> {
        guarded(&self.dir, || self.chunks_matching_unguarded(query))
    }

    fn chunks_matching_unguarded(&self, query: &dyn Query) -> Result<Vec<Chunk>> {
        let searcher = self.searcher();
        let docs = searcher
            .search(query, &DocSetCollector)
            .map_err(NodeError::index(&self.dir))?;
        let mut out = Vec::new();
        for addr in docs {
            let doc: TantivyDocument = searcher.doc(addr).map_err(NodeError::index(&self.dir))?;
            if str_field(&doc, self.fields.doc_type) == schema::DOC_CHUNK {
                out.push(
                    schema::chunk_from_document(&self.fields, &doc, true).map_err(|reason| {
                        NodeError::Corrupt {
                            path: self.dir.clone(),
                            reason,
                        }
                    })?,
                );
            }
        }
        Ok(out)
    }

    /// The chunks defining `symbol` exactly: `Mod.fun/arity`, `Mod.fun` (every arity) or
    /// `Mod` (its module header), as of the last commit.
    pub fn chunks_defining(&self, symbol: &str) -> Result<Vec<Chunk>> {
        self.chunks_with_term(self.fields.defines, symbol)
    }

    /// A file's chunks in file order, as of the last commit.
    pub fn chunks_of_file(&self, repo: &str, path: &str) -> Result<Vec<Chunk>> {
        let mut chunks = self.chunks_with_term(self.fields.file_key, &file_key(repo, path))?;
        chunks.sort_by_key(|c| c.start_byte);
        Ok(chunks)
    }

    /// The chunks of one file that match `only`, in file order: only those are read and
    /// decoded (a file may have hundreds of chunks; a context needs two or three).
    pub fn chunks_of_file_where(
        &self,
        repo: &str,
        path: &str,
        only: &FileChunkFilter,
    ) -> Result<Vec<Chunk>> {
        let (field, values): (tantivy::schema::Field, Vec<&str>) = match only {
            FileChunkFilter::Ids(ids) => (
                self.fields.chunk_id,
                ids.iter().map(String::as_str).collect(),
            ),
            FileChunkFilter::Defines(symbol) => (self.fields.defines, vec![symbol.as_str()]),
            FileChunkFilter::Calls(symbol) => (self.fields.calls, vec![symbol.as_str()]),
            FileChunkFilter::Kinds(kinds) => {
                (self.fields.kind, kinds.iter().map(|k| k.as_str()).collect())
            }
        };
        let any_value: Vec<(Occur, Box<dyn Query>)> = values
            .into_iter()
            .map(|v| {
                (
                    Occur::Should,
                    Box::new(term_query(field, v)) as Box<dyn Query>,
                )
            })
            .collect();
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(term_query(self.fields.file_key, &file_key(repo, path))),
            ),
            (Occur::Must, Box::new(BooleanQuery::new(any_value))),
        ]);
        let mut chunks = self.chunks_matching(&query)?;
        chunks.sort_by_key(|c| c.start_byte);
        Ok(chunks)
    }

    /// Every chunk of the last commit, in no particular order.
    pub fn all_chunks(&self) -> Result<Vec<Chunk>> {
        self.every_chunk(true)
    }

    /// [`PartitionIndex::all_chunks`] without their text (content, header and doc are
    /// empty): what the symbol graph reads. Each chunk's text is dropped as soon as it is
    /// decoded, so reading a large partition does not hold all its text at once.
    pub fn all_chunks_without_text(&self) -> Result<Vec<Chunk>> {
        self.every_chunk(false)
    }

    fn every_chunk(&self, with_text: bool) -> Result<Vec<Chunk>> {
        guarded(&self.dir, || self.every_chunk_unguarded(with_text))
    }

    fn every_chunk_unguarded(&self, with_text: bool) -> Result<Vec<Chunk>> {
        let searcher = self.searcher();
        let mut out = Vec::new();
        for segment in searcher.segment_readers() {
            let store = segment
                .get_store_reader(16)
                .map_err(|e| NodeError::io(&self.dir)(e))?;
            for doc in store.iter::<TantivyDocument>(segment.alive_bitset()) {
                let doc = doc.map_err(NodeError::index(&self.dir))?;
                if str_field(&doc, self.fields.doc_type) == schema::DOC_CHUNK {
                    let chunk = schema::chunk_from_document(&self.fields, &doc, with_text)
                        .map_err(|reason| NodeError::Corrupt {
                            path: self.dir.clone(),
                            reason,
                        })?;
                    out.push(chunk);
                }
            }
        }
        Ok(out)
    }

    /// The partition's embedding vectors for `encoder`'s model, read from disk on first
    /// use. A damaged file is logged and treated as empty (the next sync re-embeds).
    pub fn vectors(&self, encoder: &Encoder) -> Arc<VectorStore> {
        if let Some(v) = self.vectors.read().expect("vectors lock").as_ref()
            && v.model() == encoder.fingerprint()
        {
            return v.clone();
        }
        let mut slot = self.vectors.write().expect("vectors lock");
        if let Some(v) = slot.as_ref()
            && v.model() == encoder.fingerprint()
        {
            return v.clone();
        }
        let path = self.dir.join(VECTORS_FILE);
        let store = VectorStore::load(&path, encoder.fingerprint(), encoder.dim())
            .unwrap_or_else(|reason| {
                tracing::warn!(path = %path.display(), %reason, "unreadable vector file; the partition will be embedded again");
                VectorStore::empty(encoder.fingerprint(), encoder.dim())
            });
        let store = Arc::new(store);
        *slot = Some(store.clone());
        store
    }

    /// Whether the partition holds vectors of `encoder`'s model, without loading them
    /// (the loaded store, else its file's header).
    pub fn has_vectors(&self, encoder: &Encoder) -> bool {
        if let Some(v) = self.vectors.read().expect("vectors lock").as_ref()
            && v.model() == encoder.fingerprint()
        {
            return !v.is_empty();
        }
        let path = self.dir.join(VECTORS_FILE);
        VectorStore::count_in(&path, encoder.fingerprint(), encoder.dim()) > 0
    }

    /// Whether the partition holds vectors of any model (read from its file's header).
    pub fn has_any_vectors(&self) -> bool {
        VectorStore::count_any(&self.dir.join(VECTORS_FILE)) > 0
    }

    /// Whether the vectors may lag the last commit (no sync since it).
    pub fn vectors_behind(&self) -> bool {
        self.vectors_generation.load(Ordering::SeqCst) != self.generation.load(Ordering::SeqCst)
    }

    /// Brings the vectors in step with the last commit: embeds the chunks that have no
    /// vector or whose embedded text changed, drops those of chunks that are gone, and
    /// saves the store (atomically) when anything changed. Runs on the calling thread.
    pub fn sync_vectors(&self, encoder: &Encoder) -> Result<VectorSync> {
        self.sync_vectors_with(encoder, None)
    }

    /// [`PartitionIndex::sync_vectors`], counting what it embeds into `progress`.
    pub fn sync_vectors_with(
        &self,
        encoder: &Encoder,
        progress: Option<&EmbedProgress>,
    ) -> Result<VectorSync> {
        let _serial = self.vector_sync.lock().expect("vector sync lock");
        let generation = self.generation.load(Ordering::SeqCst);
        let current = self.vectors(encoder);
        let mut wanted = Vec::new();
        for chunk in self.all_chunks()? {
            if let Some(text) = embed_text(&chunk) {
                let hash = text_hash(&text);
                wanted.push((chunk.id, text, hash));
            }
        }
        wanted.sort_by(|a, b| a.0.cmp(&b.0));
        wanted.dedup_by(|a, b| a.0 == b.0);
        // A chunk whose text is already embedded (under its id, or under another id: code
        // above it moved, so its id changed) keeps that vector; the rest are embedded.
        let by_hash = current.ids_by_hash();
        let mut reuse: Vec<Option<&str>> = Vec::with_capacity(wanted.len());
        let mut fresh: Vec<usize> = Vec::new();
        for (i, (id, _, hash)) in wanted.iter().enumerate() {
            if current.hash_of(id) == Some(hash) {
                reuse.push(Some(id.as_str()));
            } else if let Some(from) = by_hash.get(hash) {
                reuse.push(Some(*from));
            } else {
                reuse.push(None);
                fresh.push(i);
            }
        }
        let unchanged = wanted
            .iter()
            .zip(&reuse)
            .filter(|((id, _, _), from)| **from == Some(id.as_str()))
            .count();
        let removed = current.len() - unchanged;
        if fresh.is_empty() && unchanged == wanted.len() && removed == 0 {
            self.vectors_generation.store(generation, Ordering::SeqCst);
            return Ok(VectorSync {
                total: current.len(),
                ..VectorSync::default()
            });
        }
        if let Some(p) = progress {
            p.wanted.fetch_add(fresh.len() as u64, Ordering::Release);
        }
        // Embedded in groups, each quantised at once: memory stays at one group of f32s.
        let mut embedded = VectorStore::empty(encoder.fingerprint(), encoder.dim());
        for group in fresh.chunks(EMBED_GROUP) {
            let texts: Vec<&str> = group.iter().map(|&i| wanted[i].1.as_str()).collect();
            for (&i, v) in group.iter().zip(encoder.embed(&texts)?) {
                embedded.push(wanted[i].0.clone(), wanted[i].2, &v);
            }
            if let Some(p) = progress {
                p.done.fetch_add(group.len() as u64, Ordering::Release);
            }
        }
        let mut store = VectorStore::empty(encoder.fingerprint(), encoder.dim());
        for ((id, _, _), from) in wanted.iter().zip(&reuse) {
            match from {
                Some(from) => store.copy_from(&current, from, id),
                None => store.copy_from(&embedded, id, id),
            }
        }
        let path = self.dir.join(VECTORS_FILE);
        store.save(&path).map_err(NodeError::io(&path))?;
        let total = store.len();
        *self.vectors.write().expect("vectors lock") = Some(Arc::new(store));
        self.vectors_generation.store(generation, Ordering::SeqCst);
        Ok(VectorSync {
            embedded: fresh.len(),
            removed,
            total,
        })
    }

    /// Bytes the index takes on disk.
    pub fn size_on_disk(&self) -> u64 {
        dir_size(&self.dir)
    }
}

fn str_field(doc: &TantivyDocument, field: tantivy::schema::Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Total size of the files under a directory.
pub fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                match e.metadata() {
                    Ok(m) if m.is_dir() => stack.push(e.path()),
                    Ok(m) => total += m.len(),
                    Err(_) => {}
                }
            }
        }
    }
    total
}

/// Which chunks of one file to read ([`PartitionIndex::chunks_of_file_where`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChunkFilter {
    /// The chunks with these ids.
    Ids(Vec<String>),
    /// The chunks defining this symbol ([`Chunk::defines_symbol`]).
    Defines(String),
    /// The chunks whose own code calls this symbol: `Mod.fun/arity`, or `Mod.fun` (any
    /// arity), or `fun/arity` (or `fun`) called without a module.
    Calls(String),
    /// The chunks of these kinds.
    Kinds(Vec<crate::chunk::ChunkKind>),
}

impl FileChunkFilter {
    /// Whether `chunk` is one of those the filter names (what the index query selects).
    pub fn accepts(&self, chunk: &Chunk) -> bool {
        match self {
            FileChunkFilter::Ids(ids) => ids.contains(&chunk.id),
            FileChunkFilter::Defines(symbol) => chunk.defines_symbol(symbol),
            FileChunkFilter::Calls(symbol) => chunk
                .calls_in_text()
                .any(|c| c == symbol || c.rsplit_once('/').is_some_and(|(b, _)| b == symbol)),
            FileChunkFilter::Kinds(kinds) => kinds.contains(&chunk.kind),
        }
    }
}

impl FileChunkFilter {
    /// The filter as the mesh protocol carries it.
    pub fn to_pb(&self) -> aiex_proto::mesh::v1::FileChunkFilter {
        let mut pb = aiex_proto::mesh::v1::FileChunkFilter::default();
        match self {
            FileChunkFilter::Ids(ids) => pb.ids = ids.clone(),
            FileChunkFilter::Defines(symbol) => pb.defines = symbol.clone(),
            FileChunkFilter::Calls(symbol) => pb.calls = symbol.clone(),
            FileChunkFilter::Kinds(kinds) => {
                pb.kinds = kinds.iter().map(|k| k.as_str().to_string()).collect()
            }
        }
        pb
    }

    /// The filter a mesh request carries; an unknown kind is an error naming it.
    pub fn from_pb(pb: &aiex_proto::mesh::v1::FileChunkFilter) -> Result<FileChunkFilter> {
        Ok(if !pb.defines.is_empty() {
            FileChunkFilter::Defines(pb.defines.clone())
        } else if !pb.calls.is_empty() {
            FileChunkFilter::Calls(pb.calls.clone())
        } else if !pb.kinds.is_empty() {
            let kinds = pb
                .kinds
                .iter()
                .map(|k| {
                    k.parse::<crate::chunk::ChunkKind>().map_err(|reason| {
                        NodeError::InvalidArgument {
                            field: "only.kinds",
                            reason,
                        }
                    })
                })
                .collect::<Result<_>>()?;
            FileChunkFilter::Kinds(kinds)
        } else {
            FileChunkFilter::Ids(pb.ids.clone())
        })
    }
}

fn term_query(field: tantivy::schema::Field, value: &str) -> TermQuery {
    TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    )
}
