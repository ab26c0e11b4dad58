//! One upload of a repository: files in, file-log messages out, in durable batches.
//!
//! Each file is checked (its path must be relative and stay inside the repository; a
//! file over the size limit or that looks binary is skipped and counted), hashed, and
//! published only when its hash differs from the log's. The commit publishes
//! tombstones for the files the upload did not contain (a full snapshot) and the
//! repository's record with the sequences the index must reach.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use aiex_node::bus::{Record, files};
use aiex_node::chunk::looks_binary;
use aiex_proto::partition::partition_of;
use aiex_proto::subjects::FILES_STREAM;
use bytes::Bytes;

use crate::config::Limits;
use crate::error::GatewayError;
use crate::registry::{Registry, RepoRecord, Source, UploadGuard};

/// Publish when this many files or bytes are pending. The first batches are small, so
/// the indexer starts while the rest of the upload is still arriving; the batch doubles
/// up to `BATCH_FILES`. One batch is written while the next one fills.
const FIRST_BATCH_FILES: usize = 32;
const BATCH_FILES: usize = 512;
const BATCH_BYTES: usize = 16 << 20;

/// A publish running in the background: the files' (partition, hash or None, path), and
/// the sequences the bus gave them.
type InFlight = tokio::task::JoinHandle<(
    Vec<(u32, Option<String>, String)>,
    Result<Vec<u64>, aiex_node::bus::BusError>,
)>;

pub struct UploadSession {
    registry: Arc<Registry>,
    limits: Limits,
    repo: String,
    source: String,
    /// Files skipped now whose indexed version this upload removes (a lower size limit).
    removed_skipped: u64,
    guard: UploadGuard,
    seen: HashSet<String>,
    /// The files the index holds as read and skipped when the upload began: sent
    /// unchanged, they are counted by the index's skipped count, not as unchanged.
    skipped_by_the_index: HashSet<String>,
    pending: Vec<(String, Record)>,
    pending_bytes: usize,
    bytes: u64,
    targets: BTreeMap<u32, u64>,
    batch_files: usize,
    in_flight: Option<InFlight>,
}

impl UploadSession {
    pub fn begin(
        registry: Arc<Registry>,
        limits: Limits,
        repo: &str,
        source: &Source,
    ) -> Result<UploadSession, GatewayError> {
        aiex_node::ingest::validate_repo_name(repo)?;
        let guard = registry.begin_upload(repo, source)?;
        Ok(UploadSession {
            registry,
            limits,
            repo: repo.to_string(),
            source: source.at.clone(),
            removed_skipped: 0,
            guard,
            seen: HashSet::new(),
            skipped_by_the_index: HashSet::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            bytes: 0,
            targets: BTreeMap::new(),
            batch_files: FIRST_BATCH_FILES,
            in_flight: None,
        })
    }

    /// Notes the files the index holds as skipped (see [`Backend::skipped_paths`]).
    ///
    /// [`Backend::skipped_paths`]: crate::backend::Backend::skipped_paths
    pub fn skipped_by_the_index(&mut self, paths: Vec<String>) {
        self.skipped_by_the_index = paths.into_iter().collect();
    }

    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// Notes a file that was not sent because it is over the size limit (it counts as
    /// skipped, and a previously indexed version is removed).
    pub async fn skip(&mut self, path: &[u8]) -> Result<(), GatewayError> {
        let path = validate_path(path)?;
        self.count_file()?;
        crate::metrics::file_skipped("too_large");
        self.skipped(path).await
    }

    /// Counts a file against `max_upload_files`.
    fn count_file(&self) -> Result<(), GatewayError> {
        let files = self
            .guard
            .progress
            .files_seen
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        if files > self.limits.max_upload_files {
            return Err(GatewayError::LimitExceeded {
                what: "files in one upload (max_upload_files)",
                limit: self.limits.max_upload_files,
            });
        }
        Ok(())
    }

    /// Counts as skipped the entries a server-side walk left out (symbolic links, names
    /// that are not UTF-8, unreadable entries): nothing is sent for them.
    pub fn passed_over(&self, n: u64) {
        self.guard
            .progress
            .files_skipped
            .fetch_add(n, Ordering::Relaxed);
        crate::metrics::files_skipped("passed_over", n);
    }

    /// Counts a skipped file and deletes the version the log holds, if any: a file the
    /// index cannot take any more must not keep answering searches with old content.
    async fn skipped(&mut self, path: String) -> Result<(), GatewayError> {
        self.guard
            .progress
            .files_skipped
            .fetch_add(1, Ordering::Relaxed);
        let held = self.registry.with(|repos| {
            repos
                .get(&self.repo)
                .and_then(|e| e.files.get(&path))
                .map(|v| v.partition)
        });
        let Some(partition) = held else {
            return Ok(());
        };
        self.removed_skipped += 1;
        self.pending
            .push((String::new(), files::delete(partition, &self.repo, &path)));
        if self.pending.len() >= BATCH_FILES {
            self.send().await?;
        }
        Ok(())
    }

    /// Adds one file.
    pub async fn add(
        &mut self,
        path: &[u8],
        content: Bytes,
        mode: u32,
    ) -> Result<(), GatewayError> {
        let path = validate_path(path)?;
        self.count_file()?;
        let progress = &self.guard.progress;
        crate::metrics::file_received(content.len());
        self.bytes += content.len() as u64;
        progress
            .bytes
            .fetch_add(content.len() as u64, Ordering::Relaxed);
        if self.bytes > self.limits.max_upload_bytes {
            return Err(GatewayError::LimitExceeded {
                what: "bytes in one upload (max_upload_bytes)",
                limit: self.limits.max_upload_bytes,
            });
        }
        if content.len() as u64 > self.limits.max_file_bytes {
            crate::metrics::file_skipped("too_large");
            return self.skipped(path).await;
        }
        if looks_binary(&content) {
            crate::metrics::file_skipped("binary");
            return self.skipped(path).await;
        }
        self.seen.insert(path.clone());
        let hash = blake3::hash(&content).to_hex().to_string();
        if self.registry.file_hash(&self.repo, &path).as_deref() == Some(hash.as_str()) {
            if self.skipped_by_the_index.contains(&path) {
                // Skipped again, unread: the status counts it among the index's skips.
                crate::metrics::file_skipped("unchanged");
                return Ok(());
            }
            progress.files_unchanged.fetch_add(1, Ordering::Relaxed);
            crate::metrics::file_skipped("unchanged");
            return Ok(());
        }
        let partition = partition_of(&self.repo, &path, self.registry.partitions());
        self.pending_bytes += content.len();
        self.pending.push((
            hash.clone(),
            files::put(partition, &self.repo, &path, &hash, mode, content),
        ));
        if self.pending.len() >= self.batch_files || self.pending_bytes >= BATCH_BYTES {
            self.send().await?;
        }
        Ok(())
    }
    /// Publishes everything pending; it is durable when this returns.
    pub async fn flush(&mut self) -> Result<(), GatewayError> {
        self.send().await?;
        self.settle().await
    }

    /// Starts publishing the pending files in the background, after the previous batch
    /// is durable (so the log keeps the upload's order).
    async fn send(&mut self) -> Result<(), GatewayError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.settle().await?;
        let pending = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        self.batch_files = (self.batch_files * 2).min(BATCH_FILES);
        let (hashes, records): (Vec<String>, Vec<Record>) = pending.into_iter().unzip();
        let meta: Vec<(u32, Option<String>, String)> = records
            .iter()
            .zip(hashes)
            .map(|(r, h)| {
                let path = r
                    .headers
                    .get(aiex_proto::subjects::headers::PATH)
                    .cloned()
                    .unwrap_or_default();
                (
                    r.partition,
                    (r.op == aiex_node::bus::Op::Put).then_some(h),
                    path,
                )
            })
            .collect();
        let bus = self.registry.bus().clone();
        self.in_flight = Some(tokio::spawn(async move {
            let seqs = bus.publish(FILES_STREAM, records).await;
            (meta, seqs)
        }));
        Ok(())
    }

    /// Waits for the batch being published, and records it.
    pub async fn settle(&mut self) -> Result<(), GatewayError> {
        let Some(task) = self.in_flight.take() else {
            return Ok(());
        };
        let (meta, seqs) = task
            .await
            .map_err(|e| GatewayError::Internal(format!("publishing task failed: {e}")))?;
        let seqs = seqs.inspect_err(|_| {
            crate::metrics::files_failed(meta.iter().filter(|(_, hash, _)| hash.is_some()).count())
        })?;
        let changes = meta
            .into_iter()
            .zip(seqs)
            .map(|((partition, hash, path), seq)| {
                let t = self.targets.entry(partition).or_default();
                *t = (*t).max(seq);
                if hash.is_some() {
                    self.guard
                        .progress
                        .files_published
                        .fetch_add(1, Ordering::Relaxed);
                }
                (path, partition, hash, seq)
            })
            .collect();
        self.registry.published(&self.repo, changes);
        Ok(())
    }

    /// Ends the upload: publishes what is pending, deletes what was not uploaded (when
    /// `delete_missing`), and records the repository.
    pub async fn commit(mut self, delete_missing: bool) -> Result<RepoRecord, GatewayError> {
        self.flush().await?;
        // Removed from the index: the files skipped now that were indexed, and (with
        // `delete_missing`) those gone from the directory.
        let mut deleted = self.removed_skipped;
        if delete_missing {
            let gone: Vec<(String, u32)> = self.registry.with(|repos| {
                repos
                    .get(&self.repo)
                    .map(|e| {
                        e.files
                            .iter()
                            .filter(|(p, _)| !self.seen.contains(*p))
                            .map(|(p, v)| (p.clone(), v.partition))
                            .collect()
                    })
                    .unwrap_or_default()
            });
            deleted += gone.len() as u64;
            for chunk in gone.chunks(BATCH_FILES) {
                self.pending = chunk
                    .iter()
                    .map(|(path, p)| (String::new(), files::delete(*p, &self.repo, path)))
                    .collect();
                self.flush().await?;
            }
        }
        let (previous, source_before) = self.registry.with(|repos| {
            repos
                .get(&self.repo)
                .map(|e| {
                    (
                        e.published.clone(),
                        (e.record.as_ref())
                            .map(|r| r.source.clone())
                            .unwrap_or_default(),
                    )
                })
                .unwrap_or_default()
        });
        let mut targets = previous;
        for (p, s) in &self.targets {
            let t = targets.entry(*p).or_default();
            *t = (*t).max(*s);
        }
        let progress = &self.guard.progress;
        let record = RepoRecord {
            name: self.repo.clone(),
            files_seen: progress.files_seen.load(Ordering::Relaxed),
            files_unchanged: progress.files_unchanged.load(Ordering::Relaxed),
            files_skipped: progress.files_skipped.load(Ordering::Relaxed),
            files_deleted: deleted,
            bytes: progress.bytes.load(Ordering::Relaxed),
            targets,
            updated_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            // An upload that does not say where it comes from keeps what was known.
            source: if self.source.is_empty() {
                source_before
            } else {
                self.source.clone()
            },
        };
        self.registry.commit(record.clone()).await?;
        Ok(record)
    }
}

/// A path inside a repository: UTF-8, relative, `/`-separated, no `.`/`..`/empty parts.
pub fn validate_path(raw: &[u8]) -> Result<String, GatewayError> {
    let shown = String::from_utf8_lossy(raw);
    let bad = |reason: &str| GatewayError::InvalidArgument {
        field: "path",
        reason: format!("`{}` {reason}", shown.chars().take(200).collect::<String>()),
    };
    let path = std::str::from_utf8(raw).map_err(|_| bad("is not valid UTF-8"))?;
    if path.is_empty() {
        return Err(bad("is empty"));
    }
    if path.len() > 4096 {
        return Err(bad("is longer than 4096 bytes"));
    }
    if path.starts_with('/') || path.contains('\\') || path.as_bytes().get(1) == Some(&b':') {
        return Err(bad(
            "is absolute or not `/`-separated: send paths relative to the repository root",
        ));
    }
    if path.chars().any(|c| c.is_control()) {
        return Err(bad("contains a control character"));
    }
    if path
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(bad(
            "has an empty, `.` or `..` component: paths must stay inside the repository",
        ));
    }
    Ok(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::validate_path;

    #[test]
    fn paths_must_stay_inside_the_repository() {
        assert_eq!(validate_path(b"lib/a.ex").unwrap(), "lib/a.ex");
        for bad in [
            &b""[..],
            b"/etc/passwd",
            b"../x.ex",
            b"lib/../../x",
            b"lib//a.ex",
            b"./a.ex",
            b"C:\\x",
            b"lib\\a.ex",
            b"a\x00b",
            b"\xff\xfe.ex",
        ] {
            let err = validate_path(bad).unwrap_err().to_string();
            assert!(err.contains("path"), "{err}");
        }
    }
}
