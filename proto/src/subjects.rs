//! NATS stream and subject names. Nothing else in Aiex spells these as literals.

/// The durable file log: one message kept per file subject, tombstones for deletes.
pub const FILES_STREAM: &str = "AIEX_FILES";

/// The repository registry: one message per repository (its last upload's summary).
pub const REPOS_STREAM: &str = "AIEX_REPOS";

/// Headers of a file-log message. The payload is the file's content.
pub mod headers {
    /// The repository name.
    pub const REPO: &str = "Aiex-Repo";
    /// The file's relative path (`/`-separated, UTF-8).
    pub const PATH: &str = "Aiex-Path";
    /// The blake3 hash of the content, hex.
    pub const HASH: &str = "Aiex-Hash";
    /// The file mode bits, decimal.
    pub const MODE: &str = "Aiex-Mode";
    /// On the NATS bus, every log message: its key (for files `repo` NUL `path`),
    /// percent-encoded.
    pub const KEY: &str = "Aiex-Key";
    /// On the NATS bus, a tombstone: `delete` (absent on a put).
    pub const OP: &str = "Aiex-Op";
    /// The file-event format version, decimal ([`super::FILE_EVENT_VERSION`]); absent
    /// means 1 (logs written before the header existed).
    pub const VERSION: &str = "Aiex-Version";
}

/// The cluster's own settings that every member must share (today: the partition
/// count), as a keyed log with one key.
pub const CLUSTER_STREAM: &str = "AIEX_CLUSTER";
/// The key of the cluster layout record on [`CLUSTER_STREAM`].
pub const LAYOUT_KEY: &str = "layout";

/// The file-event format this version writes and reads.
pub const FILE_EVENT_VERSION: u32 = 1;

/// The work queue where nodes put file-log messages they cannot index (malformed, of an
/// unknown version, oversized), with the reason, for an operator to inspect. The message
/// itself stays in the log.
pub const DEAD_LETTER_QUEUE: &str = "dead-letters";

/// Prefix of every file-log subject: `aiex.files.<partition>.<repo>.<path-id>`.
pub const FILES_SUBJECT_PREFIX: &str = "aiex.files";

/// The subject a file version is published on.
pub fn file_subject(partition: u32, repo_id: &str, path_id: &str) -> String {
    format!("{FILES_SUBJECT_PREFIX}.{partition}.{repo_id}.{path_id}")
}

/// Prefix of the subjects of any other log stream: `aiex.log.<stream>.<partition>.<key-id>`.
pub const LOG_SUBJECT_PREFIX: &str = "aiex.log";

/// The subject prefix of log stream `stream`.
pub fn log_subject_prefix(stream: &str) -> String {
    if stream == FILES_STREAM {
        FILES_SUBJECT_PREFIX.to_string()
    } else {
        format!("{LOG_SUBJECT_PREFIX}.{stream}")
    }
}

/// Work queue `q` is the stream `AIEX_Q_<q>` on the subject `aiex.queue.<q>`.
pub const QUEUE_STREAM_PREFIX: &str = "AIEX_Q_";
pub const QUEUE_SUBJECT_PREFIX: &str = "aiex.queue";

/// Request/reply subject `s` is served on `aiex.rpc.<s>`.
pub const RPC_SUBJECT_PREFIX: &str = "aiex.rpc";

/// The work queue of assist jobs (explain, complete, generate, chat): any node's assist
/// worker takes them.
pub const ASSIST_QUEUE: &str = "assist";

/// Prefix of the subject an assist job's events are notified on:
/// `aiex.assist.reply.<request-id>`.
pub const ASSIST_REPLY_PREFIX: &str = "aiex.assist.reply";

/// Prefix of the subject that cancels an assist job: `aiex.assist.cancel.<request-id>`.
pub const ASSIST_CANCEL_PREFIX: &str = "aiex.assist.cancel";

/// The subject the events of assist request `id` are notified on.
pub fn assist_reply_subject(id: &str) -> String {
    format!("{ASSIST_REPLY_PREFIX}.{id}")
}

/// The subject that cancels assist request `id`.
pub fn assist_cancel_subject(id: &str) -> String {
    format!("{ASSIST_CANCEL_PREFIX}.{id}")
}

/// Prefix of the subject a gateway answers while it waits for the events of an assist
/// request: `aiex.assist.waiting.<request-id>`. A worker given a job again (its first
/// worker died) asks it first, and drops the job when nobody answers.
pub const ASSIST_WAITING_PREFIX: &str = "aiex.assist.waiting";

/// The subject a gateway answers while it waits for assist request `id`.
pub fn assist_waiting_subject(id: &str) -> String {
    format!("{ASSIST_WAITING_PREFIX}.{id}")
}

/// Chat sessions: an append-only log, one message per turn, keyed `<session>/<turn>`.
pub const SESSIONS_STREAM: &str = "AIEX_SESSIONS";

/// The wildcard subject covering every file of one partition.
pub fn partition_subject(partition: u32) -> String {
    format!("{FILES_SUBJECT_PREFIX}.{partition}.>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_tokenised_by_partition() {
        assert_eq!(file_subject(7, "r1", "p9"), "aiex.files.7.r1.p9");
        assert_eq!(partition_subject(7), "aiex.files.7.>");
        assert_eq!(log_subject_prefix(FILES_STREAM), FILES_SUBJECT_PREFIX);
        assert_eq!(log_subject_prefix(REPOS_STREAM), "aiex.log.AIEX_REPOS");
    }
}
