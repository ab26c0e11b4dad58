//! NATS stream and subject names. Nothing else in Aiex spells these as literals.

/// The durable file log: one message kept per file subject, tombstones for deletes.
pub const FILES_STREAM: &str = "AIEX_FILES";

/// Prefix of every file-log subject: `aiex.files.<partition>.<repo>.<path-id>`.
pub const FILES_SUBJECT_PREFIX: &str = "aiex.files";

/// The subject a file version is published on.
pub fn file_subject(partition: u32, repo_id: &str, path_id: &str) -> String {
    format!("{FILES_SUBJECT_PREFIX}.{partition}.{repo_id}.{path_id}")
}

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
    }
}
