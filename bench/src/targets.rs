//! `Module.fun/arity` targets for the assist benchmarks, picked deterministically from
//! the Elixir source: a few well-known functions first, then public functions spread
//! evenly over the sorted list of every public function the chunker finds under `lib/`.
//! Operators are left out. Every copy of the corpus holds the same modules, so each target resolves in an index
//! of N copies too (to N definitions).

use std::collections::BTreeSet;
use std::path::Path;

use aiex_node::chunk::{ChunkKind, ChunkerConfig, FileChunks, Visibility, chunk_file};

/// Named first, when the source defines them.
const WELL_KNOWN: &[&str] = &[
    "Enum.map/2",
    "String.split/3",
    "GenServer.call/3",
    "Enum.reduce/3",
    "Keyword.get/3",
    "Map.get/3",
    "Macro.expand/2",
    "Path.join/2",
    "File.read/1",
    "Supervisor.start_link/2",
    "Regex.escape/1",
    "OptionParser.parse/2",
];

/// Every public function of the source under `dir` (not its tests), as `Mod.fun/arity`.
pub fn public_functions(dir: &Path) -> anyhow::Result<BTreeSet<String>> {
    let config = ChunkerConfig::default();
    let mut out = BTreeSet::new();
    for f in crate::load_elixir_files(dir)? {
        if !f.path.contains("lib/") || f.path.contains("/test/") || !f.path.ends_with(".ex") {
            continue;
        }
        let FileChunks::Chunked(chunks) = chunk_file("targets", &f.path, &f.bytes, &config) else {
            continue;
        };
        for d in chunks.iter().flat_map(|c| &c.defines) {
            if matches!(d.kind, ChunkKind::Function | ChunkKind::Delegate)
                && d.visibility == Visibility::Public
                && !d.module.is_empty()
                && is_plain_name(&d.name)
            {
                out.extend(d.symbols());
            }
        }
    }
    Ok(out)
}

/// A name a person types after `Mod.`: not an operator (`Kernel.+/2`) and not a
/// compiler hook (`__using__`).
fn is_plain_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') && !name.starts_with("__")
}

/// `n` targets from the source under `dir`: [`WELL_KNOWN`] ones it defines, then every
/// k-th of the rest (sorted), so the same source always gives the same list.
pub fn pick(dir: &Path, n: usize) -> anyhow::Result<Vec<String>> {
    let all = public_functions(dir)?;
    let mut picked: Vec<String> = WELL_KNOWN
        .iter()
        .filter(|s| all.contains(**s))
        .map(|s| s.to_string())
        .take(n)
        .collect();
    let rest: Vec<&String> = all.iter().filter(|s| !picked.contains(s)).collect();
    let want = n.saturating_sub(picked.len()).min(rest.len());
    for j in 0..want {
        picked.push(rest[j * rest.len() / want].clone());
    }
    if picked.is_empty() {
        anyhow::bail!("no public functions under {}", dir.display());
    }
    Ok(picked)
}
