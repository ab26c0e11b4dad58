//! Helpers shared by Aiex's cross-crate tests: where the real Elixir corpus is, and one
//! index of it built once per test binary.

use std::path::PathBuf;
use std::sync::OnceLock;

use aiex_node::ingest::{IngestOptions, PartitionSet};

/// The unpacked Elixir 1.14 source. Panics with instructions when it is missing: tests
/// that need it fail loudly rather than skip.
pub fn elixir_corpus() -> PathBuf {
    if let Some(dir) = std::env::var_os("AIEX_ELIXIR_SRC") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("lib/elixir/lib/enum.ex").is_file(),
            "AIEX_ELIXIR_SRC={} does not hold the Elixir source (no lib/elixir/lib/enum.ex)",
            dir.display()
        );
        return dir;
    }
    let base = PathBuf::from("/var/tmp/aiex-corpus");
    if let Ok(entries) = std::fs::read_dir(&base) {
        for e in entries.flatten() {
            let p = e.path();
            if p.join("lib/elixir/lib/enum.ex").is_file() {
                return p;
            }
        }
    }
    panic!(
        "the Elixir 1.14 source is missing: run scripts/fetch-elixir-corpus.sh \
         (it unpacks Debian's elixir-lang source into /var/tmp/aiex-corpus), \
         or set AIEX_ELIXIR_SRC to an unpacked Elixir source tree"
    );
}

/// An index of the whole Elixir source as repository `elixir`, built once per process.
pub fn elixir_index() -> &'static PartitionSet {
    static INDEX: OnceLock<(tempfile::TempDir, PartitionSet)> = OnceLock::new();
    let (_, set) = INDEX.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let set = PartitionSet::open(&dir.path().join("index"), 8).expect("open index");
        let stats = set
            .ingest_dir("elixir", &elixir_corpus(), &IngestOptions::default(), None)
            .expect("index the Elixir source");
        assert!(
            stats.files_indexed > 500,
            "indexed too few files: {stats:?}"
        );
        (dir, set)
    });
    set
}
