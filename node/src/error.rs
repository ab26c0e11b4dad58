//! The node's error enum, mapped once to a small set of codes (and from there, in the
//! gateway, to `tonic::Code`). Callers match on variants, never on message strings.

use std::path::PathBuf;

/// The small set of outcomes every Aiex error maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    FailedPrecondition,
    Unavailable,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("{what} not found: {name}")]
    NotFound { what: &'static str, name: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("index {path}: {source}")]
    Index {
        path: PathBuf,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error(
        "data directory {path} was created with {found} partitions, but {wanted} were asked for; \
         use the same partition count or a new data directory"
    )]
    PartitionMismatch {
        path: PathBuf,
        found: u32,
        wanted: u32,
    },
    #[error(
        "partition {partition} is not held by this node; ask the node that owns it, or hold it first"
    )]
    PartitionNotHeld { partition: u32 },
    #[error(
        "another process is writing to the index in {path}; wait for it to finish (a search \
         does not need to wait)"
    )]
    Busy { path: PathBuf },
    #[error("corrupt index data in {path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    /// A commit refused because the partition gave up uncommitted changes (a failed
    /// commit) since the committer last looked: what it applied since may be gone.
    #[error(
        "partition {partition} gave up its uncommitted changes (a failed commit, or a \
         re-index that ended early) while this was being written; nothing was committed: run \
         it again"
    )]
    Discarded { partition: u32 },
    #[error(transparent)]
    Bus(#[from] crate::bus::BusError),
    #[error("a background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    /// A peer the request needs did not answer (the message says which and what to do).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Llm(#[from] crate::llm::LlmError),
    #[error(transparent)]
    Embed(#[from] crate::embed::EmbedError),
}

impl NodeError {
    pub fn code(&self) -> ErrorCode {
        match self {
            NodeError::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            NodeError::NotFound { .. } => ErrorCode::NotFound,
            NodeError::PartitionMismatch { .. } => ErrorCode::FailedPrecondition,
            NodeError::Busy { .. } | NodeError::PartitionNotHeld { .. } => ErrorCode::Unavailable,
            NodeError::Io { .. } | NodeError::Index { .. } | NodeError::Corrupt { .. } => {
                ErrorCode::Internal
            }
            NodeError::Bus(e) => e.code(),
            NodeError::Task(_) => ErrorCode::Internal,
            NodeError::Cluster(e) => e.code(),
            NodeError::Unavailable(_) | NodeError::Discarded { .. } => ErrorCode::Unavailable,
            NodeError::Llm(e) => e.code(),
            NodeError::Embed(crate::embed::EmbedError::Model { .. }) => {
                ErrorCode::FailedPrecondition
            }
            NodeError::Embed(crate::embed::EmbedError::Run(_)) => ErrorCode::Internal,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> NodeError {
        let path = path.into();
        move |source| NodeError::Io { path, source }
    }

    pub(crate) fn index(
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(tantivy::TantivyError) -> NodeError {
        let path = path.into();
        move |source| match &source {
            // Taking tantivy's lock file needs write access, even to read.
            tantivy::TantivyError::LockFailure(
                tantivy::directory::error::LockError::IoError(e),
                _,
            ) => NodeError::Io {
                source: std::io::Error::new(
                    e.kind(),
                    format!(
                        "cannot take the index's lock file ({e}); Aiex needs write access to \
                             its data directory, even to search it (copy it somewhere writable)"
                    ),
                ),
                path,
            },
            _ => NodeError::Index { path, source },
        }
    }
}

pub type Result<T, E = NodeError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A data directory Aiex cannot write (a read-only copy) is named with what to do,
    /// not as tantivy's debug dump of the lock error.
    #[test]
    fn a_lock_file_that_cannot_be_taken_says_why() {
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let lock = tantivy::TantivyError::LockFailure(
            tantivy::directory::error::LockError::IoError(std::sync::Arc::new(denied)),
            None,
        );
        let err = NodeError::index("/srv/aiex/index/p0001")(lock);
        let message = err.to_string();
        for part in ["/srv/aiex/index/p0001", "write access", "lock file"] {
            assert!(message.contains(part), "{part:?} missing from: {message}");
        }
        assert!(!message.contains("None"), "{message}");
        assert_eq!(err.code(), ErrorCode::Internal);
    }
}
