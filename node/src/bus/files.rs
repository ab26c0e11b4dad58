//! File events on the file log (`AIEX_FILES`): how a file version or a deletion is
//! written as a [`Record`] and read back from a [`LogMessage`].
//!
//! The key is the file key (`repo` NUL `path`); the repository, path, content hash and
//! mode travel as headers, the content as the payload.

use bytes::Bytes;

use super::{Headers, LogMessage, Op, Record};
use crate::index::file_key;
use aiex_proto::subjects::{FILE_EVENT_VERSION, headers};

/// A file version or deletion read from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEvent {
    pub seq: u64,
    pub repo: String,
    pub path: String,
    pub change: FileChange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    Put {
        hash: String,
        mode: u32,
        content: Bytes,
    },
    Delete,
}

/// A new version of a file.
pub fn put(
    partition: u32,
    repo: &str,
    path: &str,
    hash: &str,
    mode: u32,
    content: Bytes,
) -> Record {
    let mut h = base_headers(repo, path);
    h.insert(headers::HASH.into(), hash.into());
    h.insert(headers::MODE.into(), mode.to_string());
    Record::put(partition, file_key(repo, path), h, content)
}

/// The deletion of a file (a tombstone on its key).
pub fn delete(partition: u32, repo: &str, path: &str) -> Record {
    Record::delete(partition, file_key(repo, path), base_headers(repo, path))
}

fn base_headers(repo: &str, path: &str) -> Headers {
    let mut h = Headers::new();
    h.insert(headers::REPO.into(), repo.into());
    h.insert(headers::PATH.into(), path.into());
    h.insert(headers::VERSION.into(), FILE_EVENT_VERSION.to_string());
    // The trace of the upload that wrote it, when traces are exported.
    crate::telemetry::inject_headers(&mut h);
    h
}

/// Why a log message is not a file event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("file-log message {seq} is malformed: {reason}")]
pub struct MalformedEvent {
    pub seq: u64,
    pub reason: String,
}

/// Reads a file event (for `headers_only` reads the content is empty).
pub fn parse(msg: &LogMessage) -> Result<FileEvent, MalformedEvent> {
    let header = |name: &str| {
        msg.headers.get(name).ok_or_else(|| MalformedEvent {
            seq: msg.seq,
            reason: format!("header {name} is missing"),
        })
    };
    let bad = |reason: String| MalformedEvent {
        seq: msg.seq,
        reason,
    };
    if let Some(v) = msg.headers.get(headers::VERSION)
        && v.parse::<u32>() != Ok(FILE_EVENT_VERSION)
    {
        return Err(bad(format!(
            "unknown file-event version {v:?}: this node reads version {FILE_EVENT_VERSION} \
             (a newer writer? upgrade the nodes)"
        )));
    }
    let repo = header(headers::REPO)?.clone();
    let path = header(headers::PATH)?.clone();
    if msg.key != file_key(&repo, &path) {
        return Err(bad(format!(
            "its key {:?} is not the key of {repo:?} {path:?}",
            msg.key
        )));
    }
    let change = match msg.op {
        Op::Delete => FileChange::Delete,
        Op::Put => FileChange::Put {
            hash: header(headers::HASH)?.clone(),
            mode: msg
                .headers
                .get(headers::MODE)
                .and_then(|m| m.parse().ok())
                .unwrap_or(0o644),
            content: msg.payload.clone(),
        },
    };
    Ok(FileEvent {
        seq: msg.seq,
        repo,
        path,
        change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(record: Record, seq: u64) -> LogMessage {
        LogMessage {
            seq,
            partition: record.partition,
            key: record.key,
            op: record.op,
            headers: record.headers,
            payload: record.payload,
        }
    }

    #[test]
    fn puts_and_deletes_round_trip() {
        let r = put(
            3,
            "shop",
            "lib/a.ex",
            "abc",
            0o755,
            Bytes::from_static(b"x"),
        );
        assert_eq!(r.key, file_key("shop", "lib/a.ex"));
        let e = parse(&message(r, 7)).unwrap();
        assert_eq!(e.seq, 7);
        assert_eq!((e.repo.as_str(), e.path.as_str()), ("shop", "lib/a.ex"));
        assert_eq!(
            e.change,
            FileChange::Put {
                hash: "abc".into(),
                mode: 0o755,
                content: Bytes::from_static(b"x")
            }
        );
        let e = parse(&message(delete(3, "shop", "lib/a.ex"), 8)).unwrap();
        assert_eq!(e.change, FileChange::Delete);
    }

    #[test]
    fn a_message_without_headers_is_malformed() {
        let mut m = message(delete(0, "r", "p"), 9);
        m.headers.clear();
        let err = parse(&m).unwrap_err();
        assert_eq!(err.seq, 9);
        assert!(err.reason.contains(headers::REPO), "{err}");
    }
}
