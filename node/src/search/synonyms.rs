//! Programming vocabulary that people use interchangeably ("folder" and "directory",
//! "delete" and "remove"). A query word also matches the other words of its group, at a
//! lower weight, so a question phrased in one vocabulary finds docs written in another.
//! The groups are general programming vocabulary, not tuned to any one codebase.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::index::tokenizer::{analyze, code_analyzer};

const GROUPS: &[&[&str]] = &[
    &["remove", "delete", "drop", "discard", "erase"],
    &["folder", "directory", "dir"],
    &["create", "make", "new", "build"],
    &["get", "fetch", "retrieve", "lookup"],
    &["find", "search", "locate", "lookup"],
    &["convert", "transform", "turn"],
    &["count", "size", "length"],
    &["combine", "merge", "join", "concat", "concatenate"],
    &["check", "verify", "validate", "ensure"],
    &["text", "string", "binary"],
    &["number", "integer", "int"],
    &["collection", "enumerable", "enum"],
    &["dictionary", "dict", "map", "hash"],
    &["copy", "clone", "duplicate"],
    &["unique", "distinct", "dedupe", "deduplicate"],
    &["run", "execute", "invoke", "eval", "evaluate"],
    &["start", "launch", "spawn", "begin"],
    &["stop", "terminate", "halt", "kill", "shutdown"],
    &["print", "write", "output", "display", "show"],
    &["error", "exception", "failure"],
    &["environment", "env"],
    &["configuration", "config", "setting", "settings"],
    &["timestamp", "datetime"],
    &["url", "uri", "link"],
    &["format", "render", "pretty"],
    &["send", "deliver", "dispatch", "broadcast"],
    &["extension", "suffix"],
    &["element", "item", "entry"],
    &["concurrent", "concurrently", "parallel", "async"],
    &["capture", "collect", "grab"],
    &["pad", "fill"],
    &["uppercase", "upcase"],
    &["lowercase", "downcase"],
    &["compare", "comparison", "diff", "difference"],
    &["replace", "substitute"],
    &["split", "break", "chunk", "divide"],
    &["group", "bucket", "partition"],
    &["flatten", "collapse"],
    &["args", "arguments", "argv", "parameters", "params"],
    &["pause", "sleep"],
    &["notify", "monitor"],
    &["deep", "nested"],
    &["later", "after", "delay", "delayed"],
    &["shell", "console", "terminal", "iex"],
    &["reload", "recompile"],
    &["previous", "last", "prior"],
    &["lazy", "lazily", "stream"],
    &["expand", "resolve", "absolute"],
];

/// Stemmed term -> the stemmed terms of its groups (without itself).
fn table() -> &'static HashMap<String, Vec<String>> {
    static TABLE: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut analyzer = code_analyzer();
        let mut table: HashMap<String, Vec<String>> = HashMap::new();
        for group in GROUPS {
            let stems: Vec<String> = group
                .iter()
                .filter_map(|w| analyze(&mut analyzer, w).into_iter().next())
                .collect();
            for s in &stems {
                let entry = table.entry(s.clone()).or_default();
                for other in &stems {
                    if other != s && !entry.contains(other) {
                        entry.push(other.clone());
                    }
                }
            }
        }
        table
    })
}

/// The other terms of the groups `term` (already analyzed) belongs to.
pub fn expand(term: &str) -> &'static [String] {
    table().get(term).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_expand_both_ways_on_stems() {
        assert!(expand("folder").iter().any(|t| t == "directori"));
        assert!(expand("directori").iter().any(|t| t == "folder"));
        assert!(expand("zebra").is_empty());
    }
}
