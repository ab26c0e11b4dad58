//! The repositories the gateway knows, and the manifest of each (path -> content hash),
//! rebuilt at start from the bus: the registry stream holds one record per repository,
//! the file log (read headers-only) holds every file's newest version.
//!
//! The manifest is what makes an upload incremental: a file whose hash is already in
//! the log is not published again.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aiex_node::bus::files::{self, FileChange};
use aiex_node::bus::{self, Bus};
use aiex_proto::subjects::{FILES_STREAM, REPOS_STREAM};
use serde::{Deserialize, Serialize};

use crate::error::GatewayError;

/// The registry record of a repository, as of its last committed upload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoRecord {
    pub name: String,
    pub files_seen: u64,
    pub files_unchanged: u64,
    pub files_skipped: u64,
    pub files_deleted: u64,
    pub bytes: u64,
    /// Per partition, the log sequence the index must reach to hold this upload.
    pub targets: BTreeMap<u32, u64>,
    pub updated_unix_ms: u64,
    /// The directory the files came from (absolute, without links); empty when the
    /// client did not say (records of older versions, too).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// Where an upload's files come from, and whether it may replace another source's.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The directory, absolute and without links (empty: unknown, not checked).
    pub at: String,
    pub replace: bool,
}

/// Live counters of an upload in progress.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_seen: AtomicU64,
    pub files_unchanged: AtomicU64,
    pub files_skipped: AtomicU64,
    pub files_published: AtomicU64,
    pub bytes: AtomicU64,
}

/// One file as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVersion {
    pub hash: String,
    pub partition: u32,
}

#[derive(Debug, Default)]
pub struct RepoEntry {
    /// None until the first upload commits.
    pub record: Option<RepoRecord>,
    pub files: HashMap<String, FileVersion>,
    /// Set while an upload is running.
    pub upload: Option<Arc<Progress>>,
    /// Highest sequence published per partition, committed or not.
    pub published: BTreeMap<u32, u64>,
}

/// Every repository the gateway knows.
pub struct Registry {
    bus: Arc<dyn Bus>,
    partitions: u32,
    repos: Mutex<HashMap<String, RepoEntry>>,
}

impl Registry {
    /// Rebuilds the registry from the bus.
    pub async fn load(bus: Arc<dyn Bus>, partitions: u32) -> Result<Registry, GatewayError> {
        let mut repos: HashMap<String, RepoEntry> = HashMap::new();
        for msg in bus::replay(bus.as_ref(), REPOS_STREAM, 0, false).await? {
            if msg.op == bus::Op::Delete {
                continue;
            }
            match serde_json::from_slice::<RepoRecord>(&msg.payload) {
                Ok(record) => {
                    let name = record.name.clone();
                    repos.entry(name).or_default().record = Some(record);
                }
                Err(e) => {
                    tracing::error!(seq = msg.seq, error = %e, "unreadable repository record skipped")
                }
            }
        }
        for p in 0..partitions {
            for msg in bus::replay(bus.as_ref(), FILES_STREAM, p, true).await? {
                let event = match files::parse(&msg) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::error!(error = %e, "file-log message skipped");
                        continue;
                    }
                };
                if let FileChange::Put { hash, .. } = event.change {
                    let entry = repos.entry(event.repo).or_default();
                    entry
                        .files
                        .insert(event.path, FileVersion { hash, partition: p });
                    let e = entry.published.entry(p).or_default();
                    *e = (*e).max(msg.seq);
                } else if let Some(entry) = repos.get_mut(&event.repo) {
                    entry.files.remove(&event.path);
                    let e = entry.published.entry(p).or_default();
                    *e = (*e).max(msg.seq);
                }
            }
        }
        // A repository whose every file was deleted and whose record is gone is gone.
        repos.retain(|_, e| e.record.is_some() || !e.files.is_empty());
        Ok(Registry {
            bus,
            partitions,
            repos: Mutex::new(repos),
        })
    }

    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    /// Runs `f` on the registry's map.
    pub fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, RepoEntry>) -> T) -> T {
        f(&mut self.repos.lock().expect("registry lock"))
    }

    /// Marks an upload of `repo` as running; refused while another one runs.
    pub fn begin_upload(
        self: &Arc<Self>,
        repo: &str,
        source: &Source,
    ) -> Result<UploadGuard, GatewayError> {
        self.with(|repos| {
            let entry = repos.entry(repo.to_string()).or_default();
            if entry.upload.is_some() {
                return Err(GatewayError::Conflict(format!(
                    "an upload of repository `{repo}` is already in progress; wait for it to finish"
                )));
            }
            // Another directory under the same name (two checkouts both called `app`)
            // would replace this one's files: only when asked.
            let before = (entry.record.as_ref()).map_or("", |r| r.source.as_str());
            if !source.replace && !source.at.is_empty() && !before.is_empty() && before != source.at
            {
                return Err(GatewayError::FailedPrecondition(format!(
                    "repository `{repo}` was added from {before}; adding {} under that name would \
                     delete its files: give it another name (--name NAME), or pass --replace to \
                     index it in place of the other",
                    source.at
                )));
            }
            let progress = Arc::new(Progress::default());
            entry.upload = Some(progress.clone());
            Ok(UploadGuard {
                registry: self.clone(),
                repo: repo.to_string(),
                progress,
            })
        })
    }

    /// The hash of a file as the log holds it.
    pub fn file_hash(&self, repo: &str, path: &str) -> Option<String> {
        self.with(|repos| {
            repos
                .get(repo)
                .and_then(|e| e.files.get(path))
                .map(|v| v.hash.clone())
        })
    }

    /// Records files just published (`None`: deleted) and their sequences.
    pub fn published(&self, repo: &str, changes: Vec<(String, u32, Option<String>, u64)>) {
        self.with(|repos| {
            let entry = repos.entry(repo.to_string()).or_default();
            for (path, partition, hash, seq) in changes {
                match hash {
                    Some(hash) => {
                        entry.files.insert(path, FileVersion { hash, partition });
                    }
                    None => {
                        entry.files.remove(&path);
                    }
                }
                let e = entry.published.entry(partition).or_default();
                *e = (*e).max(seq);
            }
        })
    }

    /// Publishes and records a repository's record.
    pub async fn commit(&self, record: RepoRecord) -> Result<(), GatewayError> {
        let payload =
            serde_json::to_vec(&record).map_err(|e| GatewayError::Internal(e.to_string()))?;
        self.bus
            .publish(
                REPOS_STREAM,
                vec![bus::Record::put(
                    0,
                    record.name.clone(),
                    bus::Headers::new(),
                    payload.into(),
                )],
            )
            .await?;
        let name = record.name.clone();
        self.with(|repos| repos.entry(name).or_default().record = Some(record));
        Ok(())
    }

    /// Deletes a repository's record and forgets it.
    pub async fn forget(&self, repo: &str) -> Result<(), GatewayError> {
        self.bus
            .publish(
                REPOS_STREAM,
                vec![bus::Record::delete(0, repo, bus::Headers::new())],
            )
            .await?;
        self.with(|repos| repos.remove(repo));
        Ok(())
    }
}

/// Ends the upload mark when dropped (whether the upload committed or not).
pub struct UploadGuard {
    registry: Arc<Registry>,
    repo: String,
    pub progress: Arc<Progress>,
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        self.registry.with(|repos| {
            if let Some(e) = repos.get_mut(&self.repo) {
                e.upload = None;
                // An upload refused before it published anything leaves no repository.
                if e.record.is_none() && e.files.is_empty() && e.published.is_empty() {
                    repos.remove(&self.repo);
                }
            }
        });
    }
}

pub fn relaxed(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}
