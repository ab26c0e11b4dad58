//! The `aiex` binary as a user runs it: a real process, the sample Mix project, a temporary
//! data directory, and `--json` output parsed and checked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/inventory")
}

fn aiex(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aiex"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run aiex")
}

fn json(data: &Path, args: &[&str]) -> Value {
    let out = aiex(data, args);
    assert!(
        out.status.success(),
        "aiex {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "aiex {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn index_search_and_look_up_symbols_of_a_real_project() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let sample = sample();
    let sample = sample.to_str().unwrap();

    // Searching before anything is indexed says what to do.
    let out = aiex(d, &["search", "stock"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("aiex index"));

    let first = json(d, &["index", sample, "--name", "inventory", "--json"]);
    let stats = &first["stats"];
    assert!(stats["files_indexed"].as_u64().unwrap() >= 10, "{first}");
    assert_eq!(stats["files_failed"], 0);
    assert_eq!(stats["files_seen"], stats["files_indexed"]);
    assert!(stats["chunks"].as_u64().unwrap() > 50);

    // Unchanged: nothing is re-indexed.
    let again = json(d, &["index", sample, "--name", "inventory", "--json"]);
    assert_eq!(again["stats"]["files_indexed"], 0);
    assert_eq!(again["stats"]["files_unchanged"], stats["files_seen"]);

    let hits = json(
        d,
        &[
            "search",
            "cancel a reservation and return units to stock",
            "--json",
        ],
    );
    let top = &hits["hits"][0];
    assert_eq!(top["symbol"], "Inventory.Stock.release/2", "{hits}");
    assert_eq!(top["path"], "lib/inventory/stock.ex");
    assert!(top["start_line"].as_u64().unwrap() > 1);

    let only_tests = json(
        d,
        &[
            "search", "reserve", "--kind", "test", "--kind", "describe", "--json",
        ],
    );
    let kinds: Vec<&str> = only_tests["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.is_empty());
    assert!(
        kinds.iter().all(|k| *k == "test" || *k == "describe"),
        "{kinds:?}"
    );

    let defs = json(d, &["symbols", "def", "Inventory.Stock.reserve", "--json"]);
    assert!(
        defs.as_array()
            .unwrap()
            .iter()
            .any(|s| s["symbol"] == "Inventory.Stock.reserve/4"
                && s["path"] == "lib/inventory/stock.ex"),
        "{defs}"
    );
    // The delegate in `Inventory` and the order reservation both call it.
    let callers = json(
        d,
        &["symbols", "callers", "Inventory.Stock.reserve/4", "--json"],
    );
    let caller_symbols: Vec<&str> = callers
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert!(
        caller_symbols.contains(&"Inventory.reserve/4"),
        "{caller_symbols:?}"
    );
    assert!(
        caller_symbols.contains(&"Inventory.reserve_order/3"),
        "{caller_symbols:?}"
    );

    let map = json(d, &["symbols", "map", "--tokens", "200", "--json"]);
    assert!(map["tokens"].as_u64().unwrap() <= 200);
    assert!(map["map"].as_str().unwrap().contains("lib/inventory/"));

    let repos = json(d, &["repo", "list", "--json"]);
    assert_eq!(repos[0]["repo"], "inventory");

    let out = aiex(d, &["repo", "rm", "inventory"]);
    assert!(out.status.success());
    let out = aiex(d, &["repo", "rm", "inventory"]);
    assert!(!out.status.success(), "removing twice is an error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not indexed"));
}

#[test]
fn chunk_shows_how_aiex_sees_a_file_without_an_index() {
    let data = tempfile::tempdir().unwrap();
    let file = sample().join("lib/inventory/pricing.ex");
    let chunks = json(data.path(), &["chunk", file.to_str().unwrap(), "--json"]);
    let chunks = chunks.as_array().unwrap();
    assert!(
        chunks
            .iter()
            .any(|c| c["kind"] == "module_header" && c["module"] == "Inventory.Priceable")
    );
    assert!(chunks.iter().any(|c| c["kind"] == "guard"));
    // The chunks tile the file.
    let len = std::fs::metadata(&file).unwrap().len();
    let mut at = 0;
    for c in chunks {
        assert_eq!(c["start_byte"].as_u64().unwrap(), at);
        at = c["end_byte"].as_u64().unwrap();
    }
    assert_eq!(at, len);

    let missing = aiex(data.path(), &["chunk", "/no/such/file.ex"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/no/such/file.ex"));
}

#[test]
fn bad_arguments_are_named() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    json(d, &["index", sample().to_str().unwrap(), "--json"]);
    let out = aiex(d, &["search", "stock", "--limit", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("limit"));
    let out = aiex(d, &["search", "stock", "--kind", "fn"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown chunk kind `fn`"));
    let out = aiex(d, &["index", sample().to_str().unwrap(), "--name", "../x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("repository"));
}
