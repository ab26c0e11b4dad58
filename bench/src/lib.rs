//! Shared helpers for Aiex's benchmarks: loading a corpus, timing, formatting.

pub mod fake_llm;
pub mod targets;
pub mod up;

use std::path::{Path, PathBuf};
use std::time::Instant;

/// One file of a corpus, in memory.
pub struct CorpusFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// The Elixir corpus directory: `$AIEX_ELIXIR_SRC`, or what `scripts/fetch-elixir-corpus.sh`
/// unpacks. Errors say how to get it.
pub fn elixir_corpus_dir() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("AIEX_ELIXIR_SRC") {
        return Ok(PathBuf::from(dir));
    }
    let default = Path::new("/var/tmp/aiex-corpus");
    if let Ok(entries) = std::fs::read_dir(default) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with("elixir-lang-") && e.path().is_dir() {
                return Ok(e.path());
            }
        }
    }
    anyhow::bail!(
        "the Elixir 1.14 source is not unpacked: run scripts/fetch-elixir-corpus.sh \
         (or set AIEX_ELIXIR_SRC to a directory of Elixir source)"
    )
}

/// Loads every `.ex`/`.exs` file under `dir` (sorted by path).
pub fn load_elixir_files(dir: &Path) -> anyhow::Result<Vec<CorpusFile>> {
    let mut files = Vec::new();
    for entry in ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
    {
        let entry = entry?;
        let p = entry.path();
        let name = p.to_string_lossy();
        if entry.file_type().is_some_and(|t| t.is_file())
            && (name.ends_with(".ex") || name.ends_with(".exs"))
        {
            let rel = p
                .strip_prefix(dir)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned();
            files.push(CorpusFile {
                path: rel,
                bytes: std::fs::read(p)?,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The chunks of `files` at the default configuration (what is skipped gives none): what
/// the symbol graph of a project is built from.
pub fn chunk_all(files: &[CorpusFile]) -> Vec<aiex_node::chunk::Chunk> {
    use aiex_node::chunk::{ChunkerConfig, FileChunks, chunk_file};
    let config = ChunkerConfig::default();
    let mut chunks = Vec::new();
    for f in files {
        if let FileChunks::Chunked(cs) = chunk_file("elixir", &f.path, &f.bytes, &config) {
            chunks.extend(cs);
        }
    }
    chunks
}

/// Runs `f` `runs` times and returns the best wall time in seconds.
pub fn best_of<F: FnMut()>(runs: usize, mut f: F) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

/// Megabytes (10^6 bytes) per second.
pub fn mb_per_s(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

/// The query mix every search benchmark uses: (Aiex query, the literal `rg` searches for
/// the same thing). Six identifiers, six questions.
pub const QUERY_MIX: &[(&str, &str)] = &[
    ("GenServer.call", "GenServer.call"),
    ("handle_info/2", "def handle_info("),
    ("String.split", "String.split"),
    ("Enum.reduce", "Enum.reduce"),
    ("Keyword.get", "Keyword.get"),
    ("Macro.expand", "Macro.expand"),
    ("remove duplicate elements", "duplicate"),
    ("parse command line switches", "switches"),
    ("read a file line by line", "line by line"),
    ("supervisor restart strategy", "restart strategy"),
    ("escape regex metacharacters", "metacharacters"),
    ("convert epoch seconds to datetime", "epoch"),
];

/// The `p` quantile (0..=1) of sorted samples, nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}
