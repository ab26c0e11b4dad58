//! Indexing the real Elixir standard library through each way the ingest can run: workers
//! that write their own files, or workers that parse and writer threads that make the
//! chunks and write them.

use std::path::Path;

use aiex_node::chunk::Chunk;
use aiex_node::ingest::{IngestOptions, IngestStats, PartitionSet};
use aiex_tests::elixir_corpus;

const PARTITIONS: u32 = 4;

/// Copies the directory tree `from` to `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every committed chunk of the set, in id order.
fn chunks(set: &PartitionSet) -> Vec<Chunk> {
    let mut all: Vec<Chunk> = set
        .partitions()
        .iter()
        .flat_map(|p| p.all_chunks().unwrap())
        .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

/// The counters of a run, without its timings.
fn counts(s: &IngestStats) -> [u64; 7] {
    [
        s.files_seen,
        s.files_unchanged,
        s.files_indexed,
        s.files_failed,
        s.files_deleted,
        s.chunks,
        s.bytes,
    ]
}

fn ingest(set: &PartitionSet, src: &Path, threads: usize, writers: usize) -> IngestStats {
    let options = IngestOptions {
        threads,
        writers: Some(writers),
        ..IngestOptions::default()
    };
    set.ingest_dir("elixir", src, &options, None)
        .unwrap_or_else(|e| panic!("{threads} workers, {writers} writers: {e}"))
}

#[test]
fn the_stdlib_indexes_the_same_with_and_without_writer_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("elixir");
    copy_tree(&elixir_corpus().join("lib"), &src.join("lib"));

    // Workers alone, as the reference.
    let reference = PartitionSet::open(&tmp.path().join("reference"), PARTITIONS).unwrap();
    let expected_stats = ingest(&reference, &src, 1, 0);
    let expected = chunks(&reference);
    assert!(
        expected_stats.files_indexed >= 500 && expected_stats.files_failed == 0,
        "{expected_stats:?}"
    );
    assert_eq!(expected.len() as u64, expected_stats.chunks);

    // One writer behind one worker, and two writers sharing the files of three workers.
    for (threads, writers) in [(1, 1), (3, 2)] {
        let dir = tmp.path().join(format!("w{threads}-{writers}"));
        let set = PartitionSet::open(&dir, PARTITIONS).unwrap();
        let stats = ingest(&set, &src, threads, writers);
        assert_eq!(
            counts(&stats),
            counts(&expected_stats),
            "{threads} workers, {writers} writers: {stats:?}"
        );
        let got = chunks(&set);
        assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(&expected) {
            assert!(
                g == e,
                "{threads} workers, {writers} writers: chunk {} of {} differs:\n{g:?}\n{e:?}",
                e.name,
                e.path
            );
        }
        // After a restart, nothing is indexed again.
        drop(set);
        let set = PartitionSet::open(&dir, PARTITIONS).unwrap();
        let again = ingest(&set, &src, threads, writers);
        assert_eq!(
            (again.files_unchanged, again.files_indexed, again.chunks),
            (expected_stats.files_indexed, 0, 0),
            "{again:?}"
        );
    }

    // A change and a deletion, through writers: the index is what a fresh build by the
    // workers alone makes of the new tree.
    let set = PartitionSet::open(&tmp.path().join("w3-2"), PARTITIONS).unwrap();
    let changed = src.join("lib/elixir/lib/enum.ex");
    let mut text = std::fs::read_to_string(&changed).unwrap();
    text.push_str("\ndefmodule Enum.Added do\n  def added(x), do: Enum.map(x, & &1)\nend\n");
    std::fs::write(&changed, text).unwrap();
    std::fs::remove_file(src.join("lib/elixir/lib/string.ex")).unwrap();
    let stats = ingest(&set, &src, 3, 2);
    assert_eq!(
        (stats.files_indexed, stats.files_deleted, stats.files_failed),
        (1, 1, 0),
        "{stats:?}"
    );
    let fresh = PartitionSet::open(&tmp.path().join("fresh"), PARTITIONS).unwrap();
    ingest(&fresh, &src, 1, 0);
    let (got, want) = (chunks(&set), chunks(&fresh));
    assert!(
        got == want,
        "after a change and a deletion: {} chunks against {} from a fresh build",
        got.len(),
        want.len()
    );
    assert!(got.iter().any(|c| c.name.contains("Enum.Added")));
    assert!(
        !got.iter().any(|c| c.path == "lib/elixir/lib/string.ex"),
        "the deleted file's chunks are still indexed"
    );
}
