//! Integration tests of the partition index and of ingesting a directory into a
//! [`PartitionSet`]: incremental indexing by content hash, deletions, restart without
//! rebuild, the commit watermark, idempotent upserts, search filters, repository removal,
//! skipped files, argument validation and `.gitignore`.
//!
//! Every test writes a small Mix project into a temporary directory and indexes it into
//! another temporary directory.

use std::collections::BTreeSet;
use std::path::Path;

use aiex_node::NodeError;
use aiex_node::chunk::{Chunk, ChunkKind, ChunkerConfig, FileChunks, chunk_file};
use aiex_node::index::{FileChunkFilter, FileEntry, PartitionIndex};
use aiex_node::ingest::{IngestOptions, IngestStats, PartitionSet};
use aiex_node::search::{Filters, SearchHit, SearchRequest};

mod common;
use common::*;

/// Files of the project that the walk sees (everything but what `.gitignore` excludes).
const VISIBLE_FILES: [(&str, &str); 8] = [
    (".gitignore", GITIGNORE),
    ("lib/my_app/cart.ex", CART_EX),
    ("lib/my_app/cart/item.ex", ITEM_EX),
    ("lib/my_app/catalog.ex", CATALOG_EX),
    ("lib/my_app/pricing.ex", PRICING_EX),
    ("lib/my_app/util.ex", UTIL_EX),
    ("mix.exs", MIX_EXS),
    ("test/my_app/cart_test.exs", CART_TEST_EXS),
];

const INVOICE_EX: &str = r##"defmodule Billing.Invoice do
  @moduledoc "Invoices sent to customers once an order ships."

  @doc """
  The total amount due on an invoice in cents, including the shipping fee and taxes.
  """
  def total(%{lines: lines, shipping: shipping}) do
    Enum.sum(lines) + shipping
  end
end
"##;

/// Writes the small `billing` project under `root`.
fn write_billing(root: &Path) {
    write(root, "lib/billing/invoice.ex", INVOICE_EX);
}

// ------------------------------------------------------------------------------ helpers

const PARTITIONS: u32 = 4;

fn options() -> IngestOptions {
    IngestOptions {
        threads: 2,
        ..IngestOptions::default()
    }
}

/// A project directory and a data directory, both temporary.
struct Env {
    _tmp: tempfile::TempDir,
    src: std::path::PathBuf,
    data: std::path::PathBuf,
}

fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("my_app");
    let data = tmp.path().join("data");
    write_project(&src);
    Env {
        src,
        data,
        _tmp: tmp,
    }
}

fn ingest(set: &PartitionSet, repo: &str, root: &Path) -> IngestStats {
    set.ingest_dir(repo, root, &options(), None)
        .unwrap_or_else(|e| panic!("ingest of {repo} failed: {e}"))
}

fn search_with(set: &PartitionSet, query: &str, filters: Filters, limit: usize) -> Vec<SearchHit> {
    set.search(&SearchRequest {
        query: query.to_string(),
        filters,
        limit,
    })
    .unwrap_or_else(|e| panic!("search {query:?} failed: {e}"))
}

fn search(set: &PartitionSet, query: &str) -> Vec<SearchHit> {
    search_with(set, query, Filters::default(), 20)
}

/// Searches `query` and asserts that `symbol` is the first hit.
fn assert_first(set: &PartitionSet, query: &str, symbol: &str) {
    let hits = search(set, query);
    assert_eq!(
        hits.first().map(|h| h.symbol.as_str()),
        Some(symbol),
        "{query}:\n{}",
        describe(&hits)
    );
}

/// (path, symbol) of each hit, in rank order.
fn keys(hits: &[SearchHit]) -> Vec<(String, String)> {
    hits.iter()
        .map(|h| (h.chunk.path.clone(), h.symbol.clone()))
        .collect()
}

fn describe(hits: &[SearchHit]) -> String {
    hits.iter()
        .map(|h| {
            format!(
                "  {:.3} {}/{} {} [{}]\n",
                h.score, h.chunk.repo, h.chunk.path, h.symbol, h.chunk.kind
            )
        })
        .collect()
}

/// Every committed chunk of every partition.
fn all_chunks(set: &PartitionSet) -> Vec<Chunk> {
    set.partitions()
        .iter()
        .flat_map(|p| p.all_chunks().unwrap())
        .collect()
}

/// Whether any committed chunk defines `Mod.fun/arity`.
fn defines(chunks: &[Chunk], symbol: &str) -> bool {
    chunks.iter().any(|c| {
        c.defines
            .iter()
            .any(|d| d.symbols().iter().any(|s| s == symbol))
    })
}

/// The queries whose results the restart and no-op tests compare.
const QUERIES: [&str; 5] = [
    "MyApp.Cart.add_item/3",
    "normalize_sku",
    "unit price of a product in cents",
    "volume discount",
    "line item quantity",
];

fn snapshot(set: &PartitionSet) -> Vec<Vec<(String, String)>> {
    QUERIES.iter().map(|q| keys(&search(set, q))).collect()
}

fn chunk_count(path: &str, src: &str) -> usize {
    match chunk_file("shop", path, src.as_bytes(), &ChunkerConfig::default()) {
        FileChunks::Chunked(cs) => cs.len(),
        FileChunks::Skipped(r) => panic!("{path} skipped: {r}"),
    }
}

#[track_caller]
fn assert_invalid(err: NodeError, expected_field: &str) {
    match err {
        NodeError::InvalidArgument { field, ref reason } => {
            assert_eq!(
                field, expected_field,
                "wrong field named (reason: {reason})"
            );
            assert!(!reason.is_empty());
        }
        other => panic!("expected InvalidArgument naming {expected_field}, got {other:?}"),
    }
}

// ------------------------------------------------------------------------------ tests

#[test]
fn add_indexes_a_project_and_finds_the_named_function_first() {
    let env = env();
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    let stats = ingest(&set, "shop", &env.src);

    let expected_bytes: u64 = VISIBLE_FILES.iter().map(|(_, s)| s.len() as u64).sum();
    assert_eq!(stats.files_seen, VISIBLE_FILES.len() as u64, "{stats:?}");
    assert_eq!(stats.files_indexed, VISIBLE_FILES.len() as u64, "{stats:?}");
    assert_eq!(stats.files_unchanged, 0, "{stats:?}");
    assert_eq!(stats.files_deleted, 0, "{stats:?}");
    assert_eq!(stats.files_failed, 0, "{stats:?}");
    assert_eq!(stats.files_skipped_binary, 0, "{stats:?}");
    assert_eq!(stats.files_skipped_large, 0, "{stats:?}");
    assert_eq!(stats.bytes, expected_bytes, "{stats:?}");
    assert!(stats.chunks > 0, "{stats:?}");

    // The chunk counter is what the chunker produces and what the index holds.
    let expected_chunks: usize = VISIBLE_FILES.iter().map(|(p, s)| chunk_count(p, s)).sum();
    assert_eq!(stats.chunks, expected_chunks as u64);
    let chunks = all_chunks(&set);
    assert_eq!(chunks.len() as u64, stats.chunks);
    let summary = set.repos();
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].repo, "shop");
    assert_eq!(summary[0].files, VISIBLE_FILES.len() as u64);
    assert_eq!(summary[0].chunks, stats.chunks);
    assert_eq!(summary[0].bytes, expected_bytes);

    // Identifier query: the definition comes first.
    let hits = search(&set, "MyApp.Cart.add_item/3");
    assert!(!hits.is_empty());
    let top = &hits[0];
    assert_eq!(top.symbol, "MyApp.Cart.add_item/3", "\n{}", describe(&hits));
    assert_eq!(top.chunk.repo, "shop");
    assert_eq!(top.chunk.path, "lib/my_app/cart.ex");
    assert_eq!(top.chunk.kind, ChunkKind::Function);
    assert!(top.chunk.content.contains("def add_item("));
    assert!(
        top.snippet.contains("add_item"),
        "snippet: {:?}",
        top.snippet
    );
    assert!(top.snippet_start_line >= top.chunk.start_line);
    assert!(top.snippet_start_line <= top.chunk.end_line);
    for w in hits.windows(2) {
        assert!(w[0].score >= w[1].score, "ranked:\n{}", describe(&hits));
    }

    // Natural-language query with words of the @doc.
    let hits = search(&set, "merging quantity into an existing line item");
    assert_eq!(
        hits.first().map(|h| h.symbol.as_str()),
        Some("MyApp.Cart.add_item/3"),
        "\n{}",
        describe(&hits)
    );

    // A bare function name.
    let hits = search(&set, "normalize_sku");
    assert_eq!(
        hits.first().map(|h| h.symbol.as_str()),
        Some("MyApp.Util.normalize_sku/1"),
        "\n{}",
        describe(&hits)
    );

    // A public function before a private one of the same name and module.
    write(
        &env.src,
        "lib/my_app/changeset.ex",
        concat!(
            "defmodule MyApp.Changeset do\n",
            "  @doc \"Applies params.\"\n",
            "  def cast(data, params, permitted, opts \\\\ []),\n",
            "    do: cast(data, %{}, %{}, params, permitted, [], opts)\n",
            "\n",
            "  defp cast(%{} = d, %{} = t, %{} = c, p, perm, e, o) when is_list(perm),\n",
            "    do: {d, t, c, p, e, o}\n",
            "end\n",
        ),
    );
    ingest(&set, "shop", &env.src);
    for query in ["MyApp.Changeset.cast", "Changeset.cast", "cast"] {
        let hits = search(&set, query);
        assert_eq!(
            hits.first().map(|h| h.symbol.as_str()),
            Some("MyApp.Changeset.cast/4"),
            "{query}:\n{}",
            describe(&hits)
        );
    }
    let hits = search(&set, "MyApp.Changeset.cast/7");
    assert_eq!(
        hits.first().map(|h| h.symbol.as_str()),
        Some("MyApp.Changeset.cast/7"),
        "\n{}",
        describe(&hits)
    );

    // The limit is honoured.
    assert_eq!(search_with(&set, "item", Filters::default(), 2).len(), 2);
}

#[test]
fn unchanged_files_are_skipped_on_reingest() {
    let env = env();
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    let first = ingest(&set, "shop", &env.src);
    let before = snapshot(&set);
    let chunks_before = all_chunks(&set).len();

    let again = ingest(&set, "shop", &env.src);
    assert_eq!(again.files_seen, first.files_seen, "{again:?}");
    assert_eq!(again.files_unchanged, again.files_seen, "{again:?}");
    assert_eq!(again.files_indexed, 0, "{again:?}");
    assert_eq!(again.chunks, 0, "{again:?}");
    assert_eq!(again.files_deleted, 0, "{again:?}");
    assert_eq!(again.bytes, first.bytes, "{again:?}");

    assert_eq!(snapshot(&set), before);
    assert_eq!(all_chunks(&set).len(), chunks_before);
}

#[test]
fn another_budget_chunks_unchanged_files_again_once() {
    let env = env();
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    let first = ingest(&set, "shop", &env.src);
    assert!(first.files_indexed > 0);
    assert_eq!(ingest(&set, "shop", &env.src).files_indexed, 0);

    // The same bytes under another budget: every file is chunked again, once.
    let mut smaller = options();
    smaller.chunker.budget = 200;
    let again = set.ingest_dir("shop", &env.src, &smaller, None).unwrap();
    assert_eq!(again.files_indexed, first.files_indexed, "{again:?}");
    assert!(
        again.chunks > first.chunks,
        "a smaller budget cuts more chunks: {again:?}"
    );
    let entry = set
        .partition_for("shop", "lib/my_app/cart.ex")
        .unwrap()
        .file("shop", "lib/my_app/cart.ex")
        .unwrap();
    assert!(
        entry
            .content_hash
            .contains(&format!(" {} ", smaller.chunker.fingerprint())),
        "{entry:?}"
    );
    let steady = set.ingest_dir("shop", &env.src, &smaller, None).unwrap();
    assert_eq!(steady.files_indexed, 0, "{steady:?}");
    assert_eq!(steady.files_unchanged, steady.files_seen, "{steady:?}");
}

#[test]
fn a_changed_file_is_the_only_one_reindexed() {
    let env = env();
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    ingest(&set, "shop", &env.src);
    assert!(defines(&all_chunks(&set), "MyApp.Cart.add_item/3"));
    let item_entry = set
        .partition_for("shop", "lib/my_app/cart/item.ex")
        .unwrap()
        .file("shop", "lib/my_app/cart/item.ex")
        .unwrap();
    let cart_entry = set
        .partition_for("shop", "lib/my_app/cart.ex")
        .unwrap()
        .file("shop", "lib/my_app/cart.ex")
        .unwrap();

    // Rename add_item/3 to put_item/3.
    let renamed = CART_EX.replace("add_item", "put_item");
    write(&env.src, "lib/my_app/cart.ex", &renamed);
    let stats = ingest(&set, "shop", &env.src);
    assert_eq!(stats.files_indexed, 1, "{stats:?}");
    assert_eq!(stats.files_unchanged, stats.files_seen - 1, "{stats:?}");
    assert_eq!(stats.files_deleted, 0, "{stats:?}");
    assert_eq!(
        stats.chunks,
        chunk_count("lib/my_app/cart.ex", &renamed) as u64
    );

    // The manifest moved for the changed file only.
    let cart_after = set
        .partition_for("shop", "lib/my_app/cart.ex")
        .unwrap()
        .file("shop", "lib/my_app/cart.ex")
        .unwrap();
    assert_ne!(cart_after.content_hash, cart_entry.content_hash);
    assert_eq!(
        set.partition_for("shop", "lib/my_app/cart/item.ex")
            .unwrap()
            .file("shop", "lib/my_app/cart/item.ex")
            .unwrap(),
        item_entry
    );

    // The old name is gone as a definition (the test file still calls it, unchanged)...
    let chunks = all_chunks(&set);
    assert!(!defines(&chunks, "MyApp.Cart.add_item/3"));
    assert!(defines(&chunks, "MyApp.Cart.put_item/3"));
    let old = search(&set, "MyApp.Cart.add_item/3");
    assert!(
        old.iter().all(|h| h.symbol != "MyApp.Cart.add_item/3"
            && !(h.chunk.path == "lib/my_app/cart.ex" && h.chunk.content.contains("add_item"))),
        "stale chunk of the old version:\n{}",
        describe(&old)
    );
    // ...and the new one is found first.
    let new = search(&set, "MyApp.Cart.put_item/3");
    assert_eq!(
        new.first().map(|h| h.symbol.as_str()),
        Some("MyApp.Cart.put_item/3"),
        "\n{}",
        describe(&new)
    );
    // Exactly one copy of the changed file's chunks.
    let cart_chunks = chunks
        .iter()
        .filter(|c| c.path == "lib/my_app/cart.ex")
        .count();
    assert_eq!(cart_chunks, chunk_count("lib/my_app/cart.ex", &renamed));
}

#[test]
fn a_file_removed_from_disk_is_removed_from_the_index() {
    let env = env();
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    ingest(&set, "shop", &env.src);
    let path = "lib/my_app/pricing.ex";
    assert!(all_chunks(&set).iter().any(|c| c.path == path));
    assert!(
        search(&set, "apply_discounts")
            .iter()
            .any(|h| h.chunk.path == path)
    );

    std::fs::remove_file(env.src.join(path)).unwrap();
    let stats = ingest(&set, "shop", &env.src);
    assert_eq!(stats.files_deleted, 1, "{stats:?}");
    assert_eq!(
        stats.files_seen,
        VISIBLE_FILES.len() as u64 - 1,
        "{stats:?}"
    );
    assert_eq!(stats.files_indexed, 0, "{stats:?}");
    assert_eq!(stats.files_unchanged, stats.files_seen, "{stats:?}");

    assert!(
        set.partition_for("shop", path)
            .unwrap()
            .file("shop", path)
            .is_none()
    );
    assert!(
        !set.partitions()
            .iter()
            .any(|p| p.files_of("shop").iter().any(|f| f == path))
    );
    assert!(!all_chunks(&set).iter().any(|c| c.path == path));
    for q in [
        "apply_discounts",
        "MyApp.Pricing.line_price/1",
        "volume discount",
    ] {
        let hits = search(&set, q);
        assert!(
            hits.iter().all(|h| h.chunk.path != path),
            "{q}: deleted file still found:\n{}",
            describe(&hits)
        );
    }
    assert_eq!(set.repos()[0].files, VISIBLE_FILES.len() as u64 - 1);

    // Deleting again finds nothing more to delete.
    assert_eq!(ingest(&set, "shop", &env.src).files_deleted, 0);
}

#[test]
fn reopening_the_data_directory_keeps_index_and_manifest() {
    let env = env();
    let manifest = |set: &PartitionSet| -> Vec<(String, FileEntry)> {
        VISIBLE_FILES
            .iter()
            .map(|(path, _)| {
                let entry = set
                    .partition_for("shop", path)
                    .unwrap()
                    .file("shop", path)
                    .unwrap_or_else(|| panic!("{path} missing from the manifest"));
                (path.to_string(), entry)
            })
            .collect()
    };
    let (before, chunks_before, repos_before, manifest_before) = {
        let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
        ingest(&set, "shop", &env.src);
        let chunks = all_chunks(&set).len();
        (snapshot(&set), chunks, set.repos(), manifest(&set))
    }; // dropped: writers and locks released
    assert!(before.iter().all(|hits| !hits.is_empty()));
    for ((path, entry), (_, src)) in manifest_before.iter().zip(VISIBLE_FILES) {
        assert_eq!(entry.bytes, src.len() as u64, "{path}");
        assert_eq!(entry.chunks as usize, chunk_count(path, src), "{path}");
    }

    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    assert_eq!(set.partition_count(), PARTITIONS);
    // Readable straight away, before anything is ingested, with the manifest read back.
    assert_eq!(snapshot(&set), before);
    assert_eq!(all_chunks(&set).len(), chunks_before);
    assert_eq!(set.repos(), repos_before);
    assert_eq!(manifest(&set), manifest_before);

    // The manifest survived: nothing is re-indexed.
    let stats = ingest(&set, "shop", &env.src);
    assert_eq!(stats.files_seen, VISIBLE_FILES.len() as u64, "{stats:?}");
    assert_eq!(stats.files_unchanged, stats.files_seen, "{stats:?}");
    assert_eq!(stats.files_indexed, 0, "{stats:?}");
    assert_eq!(stats.chunks, 0, "{stats:?}");
    assert_eq!(stats.files_deleted, 0, "{stats:?}");
    assert_eq!(snapshot(&set), before);
    assert_eq!(all_chunks(&set).len(), chunks_before);
}

/// Damaged index files (bytes overwritten in every postings file, as a failing
/// disk or a copy cut short leaves them) give an error that names the partition's
/// directory and says what to do, never a panic: tantivy panics on some damaged files,
/// and the reads that run into one turn it into an error.
#[test]
fn damaged_index_files_give_an_error_naming_the_partition() {
    let env = env();
    {
        let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
        ingest(&set, "shop", &env.src);
    }
    let mut damaged = 0;
    for partition in std::fs::read_dir(&env.data).unwrap() {
        let partition = partition.unwrap().path();
        if !partition.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&partition).unwrap() {
            let file = file.unwrap().path();
            let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext != "idx" {
                continue;
            }
            let mut bytes = std::fs::read(&file).unwrap();
            // A fixed pattern, so every run damages the files alike. (Damaged postings make
            // tantivy panic; a damaged term dictionary mostly gives it an error.)
            for i in (0..bytes.len() * 6 / 10).step_by(7) {
                bytes[i] = bytes[i].wrapping_mul(31).wrapping_add(0x5b);
            }
            std::fs::write(&file, bytes).unwrap();
            damaged += 1;
        }
    }
    assert!(damaged > 0, "no postings file found");
    let outcome = std::panic::catch_unwind(|| {
        let set = PartitionSet::open(&env.data, PARTITIONS)?;
        let request = SearchRequest {
            query: "cart total".into(),
            filters: Filters::default(),
            limit: 10,
        };
        set.search(&request)?;
        set.graph()?;
        Ok::<_, NodeError>(())
    });
    let err = match outcome {
        Ok(Ok(())) => panic!("damaged postings were read without an error"),
        Ok(Err(e)) => e.to_string(),
        Err(_) => panic!("a damaged index panicked instead of giving an error"),
    };
    assert!(err.contains(&env.data.display().to_string()), "{err}");

    // A panic inside a guarded read is an error naming the directory and the way out.
    let dir = env.data.join("p0001");
    let err = aiex_node::index::guarded(&dir, || -> Result<(), NodeError> {
        panic!("index out of bounds: the len is 26 but the index is 26")
    })
    .unwrap_err();
    assert!(matches!(err, NodeError::Corrupt { .. }), "{err:?}");
    let message = err.to_string();
    for part in [
        dir.display().to_string().as_str(),
        "index out of bounds",
        "delete this directory",
        "index again",
        "node/tests/index.rs:",
    ] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
}

#[test]
fn watermark_is_committed_and_survives_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p0000");
    {
        let p = PartitionIndex::open(&dir, 0).unwrap();
        assert_eq!(p.watermark(), 0, "a new partition starts at 0");
        p.commit(Some(42)).unwrap();
        assert_eq!(p.watermark(), 42);
    }
    {
        let p = PartitionIndex::open(&dir, 0).unwrap();
        assert_eq!(
            p.watermark(),
            42,
            "the watermark is read back from the commit"
        );
        // A commit without a watermark keeps it, with and without changes.
        p.commit(None).unwrap();
        assert_eq!(p.watermark(), 42);
        let chunks = match chunk_file(
            "shop",
            "lib/my_app/util.ex",
            UTIL_EX.as_bytes(),
            &ChunkerConfig::default(),
        ) {
            FileChunks::Chunked(cs) => cs,
            FileChunks::Skipped(r) => panic!("{r}"),
        };
        p.upsert_file(
            "shop",
            "lib/my_app/util.ex",
            "h1",
            UTIL_EX.len() as u64,
            chunks,
        )
        .unwrap();
        p.commit(None).unwrap();
        assert_eq!(p.watermark(), 42);
    }
    let p = PartitionIndex::open(&dir, 0).unwrap();
    assert_eq!(p.watermark(), 42);
    assert_eq!(p.files_of("shop"), vec!["lib/my_app/util.ex".to_string()]);
    assert!(!p.all_chunks().unwrap().is_empty());
    // Moving it forward again.
    p.commit(Some(43)).unwrap();
    drop(p);
    assert_eq!(PartitionIndex::open(&dir, 0).unwrap().watermark(), 43);
}

#[test]
fn upserting_the_same_file_twice_stores_its_chunks_once() {
    let tmp = tempfile::tempdir().unwrap();
    let p = PartitionIndex::open(tmp.path(), 0).unwrap();
    let path = "lib/my_app/cart.ex";
    let chunks = match chunk_file("shop", path, CART_EX.as_bytes(), &ChunkerConfig::default()) {
        FileChunks::Chunked(cs) => cs,
        FileChunks::Skipped(r) => panic!("{r}"),
    };
    assert!(chunks.len() > 1);
    let n = chunks.len();
    let bytes = CART_EX.len() as u64;

    // Twice before one commit.
    p.upsert_file("shop", path, "hash-1", bytes, chunks.clone())
        .unwrap();
    p.upsert_file("shop", path, "hash-1", bytes, chunks.clone())
        .unwrap();
    p.commit(None).unwrap();
    let stored = p.all_chunks().unwrap();
    assert_eq!(stored.len(), n, "each chunk exactly once");
    let ids: BTreeSet<&str> = stored.iter().map(|c| c.id.as_str()).collect();
    let expected: BTreeSet<&str> = chunks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, expected);
    // One file document besides the chunks.
    assert_eq!(p.searcher().num_docs(), n as u64 + 1);
    let entry = p.file("shop", path).unwrap();
    assert_eq!(entry.chunks, n as u64);
    assert_eq!(entry.bytes, bytes);
    assert_eq!(entry.content_hash, "hash-1");

    // Once more, in a later commit.
    p.upsert_file("shop", path, "hash-1", bytes, chunks.clone())
        .unwrap();
    p.commit(None).unwrap();
    assert_eq!(p.all_chunks().unwrap().len(), n);
    assert_eq!(p.searcher().num_docs(), n as u64 + 1);
    assert_eq!(p.files_of("shop"), vec![path.to_string()]);

    // The stored chunks round-trip unchanged.
    let mut stored = p.all_chunks().unwrap();
    stored.sort_by_key(|c| c.start_byte);
    assert_eq!(stored, chunks);

    // Deleting reports whether the file was there.
    assert!(p.delete_file("shop", path).unwrap());
    assert!(!p.delete_file("shop", path).unwrap());
    p.commit(None).unwrap();
    assert!(p.all_chunks().unwrap().is_empty());
    assert_eq!(p.searcher().num_docs(), 0);
    assert!(p.file("shop", path).is_none());
}

/// `shop` and `billing`, both indexed.
fn two_repos() -> (Env, PartitionSet) {
    let env = env();
    let billing = env.src.parent().unwrap().join("billing");
    write_billing(&billing);
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    ingest(&set, "shop", &env.src);
    ingest(&set, "billing", &billing);
    (env, set)
}

#[test]
fn filter_by_repository() {
    let (_env, set) = two_repos();
    let all = search(&set, "total");
    let repos: BTreeSet<&str> = all.iter().map(|h| h.chunk.repo.as_str()).collect();
    assert_eq!(
        repos,
        BTreeSet::from(["billing", "shop"]),
        "\n{}",
        describe(&all)
    );

    let only = |repo: &str| {
        search_with(
            &set,
            "total",
            Filters {
                repos: vec![repo.to_string()],
                ..Filters::default()
            },
            20,
        )
    };
    let billing = only("billing");
    assert!(billing.iter().all(|h| h.chunk.repo == "billing"));
    assert_eq!(
        billing.first().map(|h| h.symbol.as_str()),
        Some("Billing.Invoice.total/1"),
        "\n{}",
        describe(&billing)
    );
    let shop = only("shop");
    assert!(!shop.is_empty());
    assert!(shop.iter().all(|h| h.chunk.repo == "shop"));
    assert!(shop.iter().any(|h| h.symbol == "MyApp.Cart.total/1"));
    assert!(only("nobody").is_empty());

    // Several repositories: either.
    let both = search_with(
        &set,
        "total",
        Filters {
            repos: vec!["shop".into(), "billing".into()],
            ..Filters::default()
        },
        20,
    );
    assert_eq!(keys(&both), keys(&all));
}

#[test]
fn filter_by_path_prefix() {
    let env = env();
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    ingest(&set, "shop", &env.src);
    let unfiltered = search(&set, "item quantity");
    assert!(
        unfiltered
            .iter()
            .any(|h| !h.chunk.path.starts_with("lib/my_app/cart")),
        "the query must also match outside the prefix:\n{}",
        describe(&unfiltered)
    );

    // As hits show it too: `repo/path`; and the repository's name alone is all of it.
    let whole = search_with(
        &set,
        "item quantity",
        Filters {
            path_prefix: Some("shop".into()),
            ..Filters::default()
        },
        50,
    );
    assert_eq!(
        keys(&whole),
        keys(&search_with(&set, "item quantity", Filters::default(), 50))
    );
    for prefix in [
        "lib/my_app/cart",
        "./lib/my_app/cart",
        "shop/lib/my_app/cart",
    ] {
        let hits = search_with(
            &set,
            "item quantity",
            Filters {
                path_prefix: Some(prefix.to_string()),
                ..Filters::default()
            },
            50,
        );
        let paths: BTreeSet<&str> = hits.iter().map(|h| h.chunk.path.as_str()).collect();
        assert_eq!(
            paths,
            BTreeSet::from(["lib/my_app/cart.ex", "lib/my_app/cart/item.ex"]),
            "prefix {prefix}:\n{}",
            describe(&hits)
        );
    }

    let tests = search_with(
        &set,
        "item quantity",
        Filters {
            path_prefix: Some("test/".into()),
            ..Filters::default()
        },
        50,
    );
    assert!(!tests.is_empty());
    assert!(tests.iter().all(|h| h.chunk.path.starts_with("test/")));

    // Another repository's name in front matches nothing.
    let other = search_with(
        &set,
        "item quantity",
        Filters {
            path_prefix: Some("billing/lib/my_app/cart".into()),
            ..Filters::default()
        },
        50,
    );
    assert!(other.is_empty(), "\n{}", describe(&other));

    // A prefix is a prefix, not a pattern: `.` is literal.
    let none = search_with(
        &set,
        "item quantity",
        Filters {
            path_prefix: Some("lib.my_app".into()),
            ..Filters::default()
        },
        50,
    );
    assert!(none.is_empty(), "\n{}", describe(&none));
}

#[test]
fn filter_by_kind() {
    let env = env();
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    ingest(&set, "shop", &env.src);
    let by_kinds = |kinds: Vec<ChunkKind>| {
        search_with(
            &set,
            "cart item",
            Filters {
                kinds,
                ..Filters::default()
            },
            50,
        )
    };
    let unfiltered = by_kinds(vec![]);
    let kinds: BTreeSet<&str> = unfiltered.iter().map(|h| h.chunk.kind.as_str()).collect();
    assert!(
        kinds.contains("function") && kinds.contains("test") && kinds.contains("module_header"),
        "{kinds:?}"
    );

    for kind in [
        ChunkKind::Function,
        ChunkKind::Test,
        ChunkKind::ModuleHeader,
    ] {
        let hits = by_kinds(vec![kind]);
        assert!(!hits.is_empty(), "no {kind} hit");
        assert!(
            hits.iter().all(|h| h.chunk.kind == kind),
            "{kind}:\n{}",
            describe(&hits)
        );
    }
    let tests = by_kinds(vec![ChunkKind::Test]);
    assert!(
        tests
            .iter()
            .all(|h| h.chunk.path == "test/my_app/cart_test.exs")
    );
    let headers = by_kinds(vec![ChunkKind::ModuleHeader]);
    assert!(headers.iter().any(|h| h.symbol == "MyApp.Cart"));

    let mixed = by_kinds(vec![ChunkKind::Function, ChunkKind::Test]);
    let kinds: BTreeSet<&str> = mixed.iter().map(|h| h.chunk.kind.as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["function", "test"]));
}

#[test]
fn filter_by_module_includes_nested_modules() {
    let env = env();
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    ingest(&set, "shop", &env.src);
    let hits = search_with(
        &set,
        "item quantity",
        Filters {
            module: Some("MyApp.Cart".into()),
            ..Filters::default()
        },
        50,
    );
    let modules: BTreeSet<&str> = hits.iter().map(|h| h.chunk.module.as_str()).collect();
    assert_eq!(
        modules,
        BTreeSet::from(["MyApp.Cart", "MyApp.Cart.Item", "MyApp.Cart.Summary"]),
        "\n{}",
        describe(&hits)
    );
    // MyApp.CartTest shares the prefix as a string but is not nested in MyApp.Cart.
    assert!(hits.iter().all(|h| h.chunk.module != "MyApp.CartTest"));
    assert!(
        search(&set, "item quantity")
            .iter()
            .any(|h| h.chunk.module == "MyApp.CartTest" || h.chunk.module == "MyApp.Pricing"),
        "the unfiltered query reaches other modules"
    );

    // The nested module alone excludes its parent.
    let nested = search_with(
        &set,
        "item quantity",
        Filters {
            module: Some("MyApp.Cart.Item".into()),
            ..Filters::default()
        },
        50,
    );
    assert!(!nested.is_empty());
    assert!(nested.iter().all(|h| h.chunk.module == "MyApp.Cart.Item"));

    // Filters combine.
    let combined = search_with(
        &set,
        "item quantity",
        Filters {
            module: Some("MyApp.Cart".into()),
            kinds: vec![ChunkKind::Function],
            path_prefix: Some("lib/my_app/cart/".into()),
            repos: vec!["shop".into()],
        },
        50,
    );
    assert!(!combined.is_empty());
    assert!(combined.iter().all(|h| h.chunk.kind == ChunkKind::Function
        && h.chunk.path == "lib/my_app/cart/item.ex"
        && h.chunk.module == "MyApp.Cart.Item"));
}

#[test]
fn remove_repo_drops_only_that_repository() {
    let (env, set) = two_repos();
    let shop_before = search_with(
        &set,
        "total",
        Filters {
            repos: vec!["shop".into()],
            ..Filters::default()
        },
        20,
    );
    let shop_chunks = all_chunks(&set).iter().filter(|c| c.repo == "shop").count();
    assert!(all_chunks(&set).iter().any(|c| c.repo == "billing"));

    assert_eq!(set.remove_repo("billing").unwrap(), 1);

    let chunks = all_chunks(&set);
    assert!(chunks.iter().all(|c| c.repo == "shop"));
    assert_eq!(chunks.len(), shop_chunks);
    let hits = search(&set, "total");
    assert!(
        hits.iter().all(|h| h.chunk.repo == "shop"),
        "\n{}",
        describe(&hits)
    );
    assert_eq!(keys(&hits), keys(&shop_before));
    assert_eq!(
        set.repos()
            .iter()
            .map(|r| r.repo.as_str())
            .collect::<Vec<_>>(),
        vec!["shop"]
    );
    assert!(
        set.partitions()
            .iter()
            .all(|p| p.files_of("billing").is_empty())
    );
    assert!(
        set.partition_for("billing", "lib/billing/invoice.ex")
            .unwrap()
            .file("billing", "lib/billing/invoice.ex")
            .is_none()
    );
    // Removing an unknown repository removes nothing.
    assert_eq!(set.remove_repo("billing").unwrap(), 0);

    // The removal is durable, and shop's manifest is intact.
    drop(set);
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    assert!(all_chunks(&set).iter().all(|c| c.repo == "shop"));
    let stats = ingest(&set, "shop", &env.src);
    assert_eq!(stats.files_unchanged, stats.files_seen, "{stats:?}");
}

/// Credentials never reach the index: files of them are skipped and counted, values that
/// look like them are masked wherever they are.
#[test]
fn credentials_are_never_indexed() {
    let env = env();
    write(
        &env.src,
        ".env",
        "STRIPE_SECRET_KEY=sk_live_quokka4eC39HqLyjWDarjt\n",
    );
    write(
        &env.src,
        "priv/cert/selfsigned_key.pem",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkquokka\n-----END PRIVATE KEY-----\n",
    );
    write(
        &env.src,
        "config/prod.secret.exs",
        "import Config\nconfig :my_app, secret_key_base: \"quokkabase1234567890\"\n",
    );
    write(
        &env.src,
        "config/runtime.exs",
        concat!(
            "import Config\n",
            "config :my_app, MyApp.Repo, password: \"hunter2quokka\", pool_size: 10\n",
            "config :stripity_stripe, api_key: \"sk_live_51Hquokkabcdefghijklmnop\"\n",
        ),
    );
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    let stats = ingest(&set, "shop", &env.src);
    assert_eq!(stats.files_skipped_secret, 3, "{stats:?}");
    assert_eq!(
        stats.files_indexed,
        VISIBLE_FILES.len() as u64 + 1,
        "{stats:?}"
    );
    let chunks = all_chunks(&set);
    for c in &chunks {
        assert!(!c.content.contains("quokka"), "{}: {}", c.path, c.content);
        assert!(c.path != ".env" && !c.path.ends_with(".pem") && !c.path.ends_with(".secret.exs"));
    }
    let runtime: String = chunks
        .iter()
        .filter(|c| c.path == "config/runtime.exs")
        .map(|c| c.content.as_str())
        .collect();
    assert!(
        runtime.contains("password: \"*************\", pool_size: 10"),
        "{runtime}"
    );
    for query in [
        "hunter2quokka",
        "quokka",
        "sk_live_51Hquokkabcdefghijklmnop",
        "MIIEvQIBADANBgkquokka",
    ] {
        // Code elsewhere may share a word part ("2" of "hunter2quokka"); no config may.
        let hits = search(&set, query);
        assert!(
            hits.iter().all(|h| !h.chunk.path.starts_with("config/")
                && !h.chunk.path.starts_with(".env")
                && !h.chunk.path.starts_with("priv/")),
            "{query}:\n{}",
            describe(&hits)
        );
    }
    assert!(
        !search(&set, "pool_size").is_empty(),
        "the rest of the file is indexed"
    );
}

#[test]
fn binary_and_oversized_files_are_counted_and_not_indexed() {
    let env = env();
    let mut binary = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR quokkabinary ".to_vec();
    binary.extend_from_slice(&[0u8, 1, 2, 3, 255, 0]);
    std::fs::create_dir_all(env.src.join("priv/static")).unwrap();
    std::fs::write(env.src.join("priv/static/logo.png"), &binary).unwrap();
    // Minified: one line over 4,096 bytes, as bundlers and source maps write.
    let minified = format!(
        "/* quokkaminified */ {}\n",
        "function a(b){return b+1};".repeat(170)
    );
    std::fs::write(env.src.join("priv/static/app.min.js"), &minified).unwrap();
    let mut big = String::from("defmodule MyApp.Generated do\n");
    for i in 0..200 {
        big.push_str(&format!(
            "  def wombat_generated_{i}, do: {{:wombatvalue, {i}}}\n"
        ));
    }
    big.push_str("end\n");
    write(&env.src, "lib/my_app/generated.ex", &big);

    let mut opts = options();
    opts.chunker.max_file_bytes = 6000;
    assert!(big.len() as u64 > opts.chunker.max_file_bytes);
    assert!((minified.len() as u64) < opts.chunker.max_file_bytes);
    assert!(
        VISIBLE_FILES
            .iter()
            .all(|(_, s)| (s.len() as u64) < opts.chunker.max_file_bytes)
    );

    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    let stats = set.ingest_dir("shop", &env.src, &opts, None).unwrap();
    assert_eq!(
        stats.files_seen,
        VISIBLE_FILES.len() as u64 + 3,
        "{stats:?}"
    );
    assert_eq!(stats.files_skipped_binary, 1, "{stats:?}");
    assert_eq!(stats.files_skipped_large, 1, "{stats:?}");
    assert_eq!(stats.files_skipped_minified, 1, "{stats:?}");
    assert_eq!(stats.files_indexed, VISIBLE_FILES.len() as u64, "{stats:?}");
    assert_eq!(stats.files_failed, 0, "{stats:?}");

    // What the index holds of each: a marker of a file read and skipped (counted after
    // a restart), nothing of one too large to read.
    for (path, query, marker) in [
        ("priv/static/logo.png", "quokkabinary", Some("binary")),
        ("priv/static/app.min.js", "quokkaminified", Some("minified")),
        ("lib/my_app/generated.ex", "wombat_generated_7", None),
        ("lib/my_app/generated.ex", "wombatvalue", None),
    ] {
        let hits = search(&set, query);
        assert!(hits.is_empty(), "{query}:\n{}", describe(&hits));
        let partition = set.partition_for("shop", path).unwrap();
        assert!(!partition.has_file("shop", path));
        assert_eq!(
            partition.file("shop", path).and_then(|f| f.skipped),
            marker.map(str::to_string),
            "{path}"
        );
        assert!(!all_chunks(&set).iter().any(|c| c.path == path));
    }
    assert_eq!(
        (set.repos()[0].files, set.repos()[0].skipped),
        (VISIBLE_FILES.len() as u64, 2)
    );
    drop(set);
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    assert_eq!(
        (set.repos()[0].files, set.repos()[0].skipped),
        (VISIBLE_FILES.len() as u64, 2),
        "reopened"
    );

    // A file indexed while small is removed once it grows over the limit.
    write(
        &env.src,
        "lib/my_app/generated.ex",
        "defmodule MyApp.Generated do\n  def wombat_small, do: :ok\nend\n",
    );
    let stats = set.ingest_dir("shop", &env.src, &opts, None).unwrap();
    assert_eq!(stats.files_indexed, 1, "{stats:?}");
    assert_eq!(stats.files_skipped_large, 0, "{stats:?}");
    assert_eq!(stats.files_skipped_binary, 1, "{stats:?}");
    let in_generated = |hits: Vec<SearchHit>| {
        hits.iter()
            .any(|h| h.chunk.path == "lib/my_app/generated.ex")
    };
    assert!(in_generated(search(&set, "wombat_small")));
    write(&env.src, "lib/my_app/generated.ex", &big);
    let stats = set.ingest_dir("shop", &env.src, &opts, None).unwrap();
    assert_eq!(stats.files_skipped_large, 1, "{stats:?}");
    assert!(!in_generated(search(&set, "wombat_small")));
    assert!(
        set.partition_for("shop", "lib/my_app/generated.ex")
            .unwrap()
            .file("shop", "lib/my_app/generated.ex")
            .is_none()
    );

    // A skipped file that goes takes its marker with it, and was never indexed: not
    // counted as deleted. One that turns into text is indexed in its place.
    std::fs::remove_file(env.src.join("priv/static/logo.png")).unwrap();
    std::fs::write(
        env.src.join("priv/static/app.min.js"),
        "/* quokkaminified */\nfunction a(b) { return b + 1 }\n",
    )
    .unwrap();
    let stats = set.ingest_dir("shop", &env.src, &opts, None).unwrap();
    assert_eq!(
        (
            stats.files_deleted,
            stats.files_skipped_binary,
            stats.files_indexed
        ),
        (0, 0, 1),
        "{stats:?}"
    );
    assert_eq!(set.repos()[0].skipped, 0);
    assert!(!search(&set, "quokkaminified").is_empty());
    let logo = "priv/static/logo.png";
    assert!(
        set.partition_for("shop", logo)
            .unwrap()
            .file("shop", logo)
            .is_none()
    );
}

#[test]
fn bad_input_is_rejected_with_the_field_named() {
    let env = env();
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    ingest(&set, "shop", &env.src);

    let request = |query: &str, limit: usize| SearchRequest {
        query: query.to_string(),
        filters: Filters::default(),
        limit,
    };
    assert_invalid(set.search(&request("", 10)).unwrap_err(), "query");
    assert_invalid(set.search(&request("   \t", 10)).unwrap_err(), "query");
    assert_invalid(set.search(&request("cart", 0)).unwrap_err(), "limit");
    assert_invalid(
        set.search(&request("cart", 1_000_000)).unwrap_err(),
        "limit",
    );

    for bad in ["../x", "", ".hidden", "a/b", "x y"] {
        let err = set
            .ingest_dir(bad, &env.src, &options(), None)
            .expect_err(bad);
        assert_invalid(err, "repository");
    }
    // Nothing was indexed under a bad name.
    assert_eq!(set.repos().len(), 1);

    // A path that is not a directory.
    let file = env.src.join("mix.exs");
    let err = set.ingest_dir("shop", &file, &options(), None).unwrap_err();
    assert_invalid(err, "path");

    // Another partition count on an existing data directory.
    drop(set);
    match PartitionSet::open(&env.data, PARTITIONS + 1) {
        Err(NodeError::PartitionMismatch { found, wanted, .. }) => {
            assert_eq!(found, PARTITIONS);
            assert_eq!(wanted, PARTITIONS + 1);
        }
        Err(other) => panic!("expected PartitionMismatch, got {other:?}"),
        Ok(_) => panic!("expected PartitionMismatch, the directory was reopened"),
    }
    assert!(matches!(
        PartitionSet::open(&env.data, 0),
        Err(NodeError::InvalidArgument {
            field: "partitions",
            ..
        })
    ));
    // The right count still opens it, with the data intact.
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    assert!(!search(&set, "MyApp.Cart.add_item/3").is_empty());
}

#[test]
fn gitignored_files_are_not_indexed() {
    let env = env();
    assert!(env.src.join("lib/my_app/scratch.ex").exists());
    assert!(env.src.join("tmp/notes.ex").exists());
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    let stats = ingest(&set, "shop", &env.src);
    assert_eq!(stats.files_seen, VISIBLE_FILES.len() as u64, "{stats:?}");

    let mut files: Vec<String> = set
        .partitions()
        .iter()
        .flat_map(|p| p.files_of("shop"))
        .collect();
    files.sort();
    let mut expected: Vec<String> = VISIBLE_FILES.iter().map(|(p, _)| p.to_string()).collect();
    expected.sort();
    assert_eq!(files, expected);

    let hits = search(&set, "zanzibarquux");
    assert!(hits.is_empty(), "\n{}", describe(&hits));
    assert!(
        !all_chunks(&set)
            .iter()
            .any(|c| c.module == "MyApp.Scratch" || c.path.starts_with("tmp/"))
    );

    // Un-ignoring the file makes the next ingest pick it up.
    write(&env.src, ".gitignore", "/_build/\n/deps/\n/tmp/\n");
    let stats = ingest(&set, "shop", &env.src);
    assert_eq!(
        stats.files_indexed, 2,
        "scratch.ex and the .gitignore: {stats:?}"
    );
    assert_eq!(
        search(&set, "zanzibarquux")
            .first()
            .map(|h| h.symbol.as_str()),
        Some("MyApp.Scratch.zanzibarquux/0")
    );
}

/// A set holding many partitions keeps at most `MAX_OPEN_WRITERS` writers open: idle
/// ones are closed after their commit and opened again by the next write, which loses
/// nothing. A second process (here a second set) still cannot write while the first one
/// holds the partitions, whether or not their writers are open.
#[test]
fn idle_writers_are_closed_and_reopened_without_losing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("index");
    let partitions = 40;
    let set = PartitionSet::open(&dir, partitions).unwrap();
    let chunker = aiex_node::chunk::ChunkerConfig::default();
    let source = |i: usize, v: usize| {
        format!("defmodule M{i} do\n  def f{v}(x), do: x + {v}\nend\n").into_bytes()
    };
    // 80 files over most partitions, each partition committed as the
    // indexer does (a page, then its commit).
    let files: Vec<(String, u32)> = (0..80)
        .map(|i| {
            let path = format!("lib/m{i}.ex");
            let p = aiex_proto::partition::partition_of("r", &path, partitions);
            (path, p)
        })
        .collect();
    for (i, (path, p)) in files.iter().enumerate() {
        set.apply_file("r", path, &source(i, 1), &chunker).unwrap();
        set.commit_partition(*p, Some(i as u64 + 1)).unwrap();
        assert!(
            set.open_writers() <= aiex_node::ingest::MAX_OPEN_WRITERS,
            "{} writers open after file {i}",
            set.open_writers()
        );
    }
    let touched: std::collections::BTreeSet<u32> = files.iter().map(|(_, p)| *p).collect();
    assert!(
        touched.len() > aiex_node::ingest::MAX_OPEN_WRITERS,
        "{touched:?}"
    );

    // A second writer of the same directory is refused, even for a closed writer.
    let other = PartitionSet::open(&dir, partitions).unwrap();
    let closed = touched
        .iter()
        .copied()
        .find(|p| !set.partition(*p).unwrap().writer_open())
        .expect("some writer was closed");
    let (path, _) = files.iter().find(|(_, p)| *p == closed).unwrap();
    let err = other
        .apply_file("r", path, &source(999, 9), &chunker)
        .unwrap_err();
    assert!(matches!(err, NodeError::Busy { .. }), "{err}");
    drop(other);

    // Rewriting every file reopens closed writers; everything is there after a reopen.
    for (i, (path, p)) in files.iter().enumerate() {
        set.apply_file("r", path, &source(i, 2), &chunker).unwrap();
        set.commit_partition(*p, Some(1000 + i as u64)).unwrap();
    }
    drop(set);
    let set = PartitionSet::open(&dir, partitions).unwrap();
    let chunks = all_chunks(&set);
    for i in 0..files.len() {
        assert!(defines(&chunks, &format!("M{i}.f2/1")), "M{i}.f2/1 missing");
        assert!(
            !defines(&chunks, &format!("M{i}.f1/1")),
            "M{i}.f1/1 left over"
        );
    }
}

#[test]
fn an_ingest_that_meets_another_writer_changes_nothing() {
    // Another process (here: another opening of the directory) writes the partition the
    // ingest would come to last. The ingest is refused before it changes any partition,
    // instead of committing the partitions before that one and then failing.
    let env = env();
    let walked = aiex_node::ingest::walk(&env.src).unwrap().files;
    let touched: std::collections::BTreeSet<u32> = walked
        .iter()
        .map(|(path, _, _)| aiex_proto::partition::partition_of("my_app", path, PARTITIONS))
        .collect();
    assert!(
        touched.len() > 1,
        "the project spans one partition: {touched:?}"
    );
    let last = *touched.last().unwrap();
    let other = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    other.partition(last).unwrap().claim_writer().unwrap();

    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    let err = set
        .ingest_dir("my_app", &env.src, &options(), None)
        .unwrap_err();
    assert!(matches!(err, NodeError::Busy { .. }), "{err}");
    drop(set);
    drop(other);

    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    assert!(
        all_chunks(&set).is_empty(),
        "a refused ingest committed chunks"
    );
    // Once the other writer is gone, the same ingest goes through.
    let stats = ingest(&set, "my_app", &env.src);
    assert_eq!(stats.files_indexed as usize, walked.len());
}

#[test]
fn ingesting_commits_each_partition_when_its_files_are_in() {
    // One worker takes the files partition by partition, and each partition is committed
    // (then its writer may be closed) once its last file is in, the worker waiting when
    // commits fall behind: a directory spread over 48 partitions never has more than a few
    // writers open beyond the set's limit, where committing everything at the end would
    // hold all 48 open until then.
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("spread");
    let partitions = 48;
    for i in 0..240 {
        write(
            &src,
            &format!("lib/m{i}.ex"),
            &format!("defmodule M{i} do\n  def f(x), do: x + {i}\nend\n"),
        );
    }
    let set = PartitionSet::open(&tmp.path().join("index"), partitions).unwrap();
    assert_eq!(set.peak_open_writers(), 0);
    let options = IngestOptions {
        threads: 1,
        ..IngestOptions::default()
    };
    let stats = set.ingest_dir("r", &src, &options, None).unwrap();
    // Counted as writers open and close, not sampled: a sampler that reads each partition
    // in turn counts a writer closed and another opened meanwhile as both open (it saw
    // 21 on a loaded CI machine).
    let most_open = set.peak_open_writers();
    assert_eq!(
        (stats.files_indexed, stats.files_failed),
        (240, 0),
        "{stats:?}"
    );
    let touched: BTreeSet<u32> = (0..240)
        .map(|i| aiex_proto::partition::partition_of("r", &format!("lib/m{i}.ex"), partitions))
        .collect();
    assert!(
        touched.len() > aiex_node::ingest::MAX_OPEN_WRITERS + 8,
        "{touched:?}"
    );
    assert!(most_open > 0, "no writer was counted open");
    assert!(
        most_open <= aiex_node::ingest::MAX_OPEN_WRITERS + 4,
        "{most_open} writers open at once during the ingest"
    );
    let chunks = all_chunks(&set);
    for i in 0..240 {
        assert!(defines(&chunks, &format!("M{i}.f/1")), "M{i}.f/1 missing");
    }
}

#[test]
fn a_failed_commit_forgets_what_it_lost_so_the_file_is_indexed_again() {
    // The partition's directory vanishes under the writer, so its commit cannot write.
    // What was pending is lost with the writer; the file must then count as not indexed
    // (applying it again indexes it) rather than be skipped as unchanged and be missing.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("index");
    let set = PartitionSet::open(&dir, 1).unwrap();
    let chunker = ChunkerConfig::default();
    let a = b"defmodule Kept do\n  def here(x), do: x\nend\n";
    let b = b"defmodule Lost do\n  def pending(x), do: x\nend\n";
    set.apply_file("r", "lib/kept.ex", a, &chunker).unwrap();
    set.commit_all().unwrap();
    set.apply_file("r", "lib/lost.ex", b, &chunker).unwrap();
    let partition_dir = set.partition(0).unwrap().dir().to_path_buf();
    let away = tmp.path().join("away");
    std::fs::rename(&partition_dir, &away).unwrap();
    let err = set.commit_all().unwrap_err();
    std::fs::rename(&away, &partition_dir).unwrap();
    assert!(
        err.to_string()
            .contains(&partition_dir.display().to_string()),
        "{err}"
    );

    let again = set.apply_file("r", "lib/lost.ex", b, &chunker).unwrap();
    assert!(
        matches!(again, aiex_node::ingest::FileOutcome::Indexed(_)),
        "{again:?}: the lost file was skipped"
    );
    assert!(matches!(
        set.apply_file("r", "lib/kept.ex", a, &chunker).unwrap(),
        aiex_node::ingest::FileOutcome::Unchanged
    ));
    set.commit_all().unwrap();
    let chunks = all_chunks(&set);
    assert!(defines(&chunks, "Lost.pending/1"), "Lost.pending/1 missing");
    assert!(defines(&chunks, "Kept.here/1"), "Kept.here/1 missing");
}

/// Reading only some chunks of a file from the index (by id, by defined symbol, by call,
/// by kind) gives exactly the file's chunks that the filter accepts, for every filter the
/// project's chunks give rise to.
#[test]
fn reading_some_chunks_of_a_file_equals_filtering_all_of_them() {
    let env = env();
    let set = PartitionSet::open(&env.data, 8).unwrap();
    ingest(&set, "my_app", &env.src);
    let chunks = all_chunks(&set);
    let mut files: Vec<String> = chunks.iter().map(|c| c.path.clone()).collect();
    files.sort();
    files.dedup();
    let mut filters: Vec<FileChunkFilter> = vec![
        FileChunkFilter::Kinds(vec![ChunkKind::ModuleHeader, ChunkKind::Type]),
        FileChunkFilter::Kinds(vec![ChunkKind::Function]),
        FileChunkFilter::Kinds(vec![]),
        FileChunkFilter::Ids(vec![]),
        FileChunkFilter::Ids(vec!["no such id".into()]),
        FileChunkFilter::Defines("MyApp.Nope.fun/1".into()),
        FileChunkFilter::Calls("Enum".into()),
    ];
    filters.push(FileChunkFilter::Ids(
        chunks.iter().take(3).map(|c| c.id.clone()).collect(),
    ));
    for c in &chunks {
        filters.push(FileChunkFilter::Ids(vec![c.id.clone()]));
        for d in &c.defines {
            for symbol in d.symbols() {
                if let Some((base, _)) = symbol.rsplit_once('/') {
                    filters.push(FileChunkFilter::Defines(base.to_string()));
                }
                filters.push(FileChunkFilter::Defines(symbol));
            }
        }
        for call in &c.calls {
            if let Some((base, _)) = call.rsplit_once('/') {
                filters.push(FileChunkFilter::Calls(base.to_string()));
            }
            filters.push(FileChunkFilter::Calls(call.clone()));
        }
    }
    let mut found = 0;
    for path in &files {
        let all = set.chunks_of_file("my_app", path).unwrap();
        assert!(!all.is_empty(), "{path}");
        let partition = set.partition_for("my_app", path).unwrap();
        for f in &filters {
            let expected: Vec<&Chunk> = all.iter().filter(|c| f.accepts(c)).collect();
            let got = partition.chunks_of_file_where("my_app", path, f).unwrap();
            assert_eq!(got.iter().collect::<Vec<_>>(), expected, "{path} {f:?}");
            found += got.len();
        }
    }
    assert!(
        found > chunks.len(),
        "{found} chunks read for {} filters",
        filters.len()
    );
    // A file that is not indexed has no chunks, whatever the filter.
    let partition = set.partition_for("my_app", "lib/nope.ex").unwrap();
    assert!(
        partition
            .chunks_of_file_where(
                "my_app",
                "lib/nope.ex",
                &FileChunkFilter::Kinds(vec![ChunkKind::Function])
            )
            .unwrap()
            .is_empty()
    );
}

/// An index written with another schema (an older Aiex) is refused with an error that
/// says what to do, not tantivy's bare schema error.
#[test]
fn an_index_of_another_schema_is_refused_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p0000");
    std::fs::create_dir_all(&dir).unwrap();
    let mut b = tantivy::schema::Schema::builder();
    b.add_text_field("body", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(&dir, b.build()).unwrap();
    let err = PartitionIndex::open(&dir, 0)
        .err()
        .expect("the index is refused");
    let text = err.to_string();
    assert!(
        text.contains("incompatible Aiex version") && text.contains("re-index"),
        "{text}"
    );
    assert!(text.contains("p0000"), "{text}");
}

/// What the symbol graph reads: every chunk, with its metadata and without its text.
#[test]
fn chunks_without_text_are_every_chunk_with_its_text_dropped() {
    let env = env();
    let set = PartitionSet::open(&env.data, 8).unwrap();
    ingest(&set, "my_app", &env.src);
    let mut checked = 0;
    for p in set.partitions() {
        let mut expected = p.all_chunks().unwrap();
        for c in &mut expected {
            c.content.clear();
            c.header.clear();
            c.doc = None;
        }
        let got = p.all_chunks_without_text().unwrap();
        assert_eq!(got, expected, "partition {}", p.partition());
        assert!(
            got.iter()
                .all(|c| c.content.is_empty() && !c.path.is_empty())
        );
        checked += got.len();
    }
    assert_eq!(checked, all_chunks(&set).len());
    assert!(checked > 10, "{checked} chunks");
}

/// The filter travels the mesh protocol unchanged, and an unknown kind is refused by name.
#[test]
fn file_chunk_filters_cross_the_mesh_protocol_unchanged() {
    for f in [
        FileChunkFilter::Ids(vec!["a".into(), "b".into()]),
        FileChunkFilter::Defines("MyApp.Cart.total/1".into()),
        FileChunkFilter::Calls("Enum.map".into()),
        FileChunkFilter::Kinds(vec![ChunkKind::ModuleHeader, ChunkKind::Type]),
    ] {
        assert_eq!(FileChunkFilter::from_pb(&f.to_pb()).unwrap(), f);
    }
    let bad = aiex_proto::mesh::v1::FileChunkFilter {
        kinds: vec!["module_header".into(), "modul".into()],
        ..Default::default()
    };
    let err = FileChunkFilter::from_pb(&bad).unwrap_err().to_string();
    assert!(err.contains("modul") && err.contains("only.kinds"), "{err}");
}

/// A writer that applied changes and then finds that the partition gave them up (another
/// writer's commit failed, or they were discarded) must not commit its watermark over
/// them: the commit is refused, and the files count as not indexed.
#[test]
fn a_commit_after_a_discard_is_refused_and_the_files_are_applied_again() {
    let tmp = tempfile::tempdir().unwrap();
    let set = PartitionSet::open(&tmp.path().join("index"), 1).unwrap();
    let chunker = ChunkerConfig::default();
    let index = set.partition(0).unwrap();
    let a = b"defmodule Given do\n  def up(x), do: x\nend\n";
    let seen = index.discards();
    set.apply_file("r", "lib/given.ex", a, &chunker).unwrap();
    index.discard_uncommitted();
    assert_eq!(index.discards(), seen + 1);

    let err = set
        .commit_partition_unless_discarded(0, Some(7), seen)
        .unwrap_err();
    assert!(
        matches!(err, aiex_node::error::NodeError::Discarded { partition: 0 }),
        "{err}"
    );
    assert_eq!(
        index.watermark(),
        0,
        "the watermark moved over lost changes"
    );
    assert!(
        matches!(
            set.apply_file("r", "lib/given.ex", a, &chunker).unwrap(),
            aiex_node::ingest::FileOutcome::Indexed(_)
        ),
        "the discarded file was skipped as unchanged"
    );
    set.commit_partition_unless_discarded(0, Some(7), index.discards())
        .unwrap();
    assert_eq!(index.watermark(), 7);
    assert!(defines(&all_chunks(&set), "Given.up/1"));
}

#[test]
fn symbols_differing_in_case_or_merged_arities_are_named_as_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("app");
    std::fs::create_dir_all(src.join("lib")).unwrap();
    std::fs::write(
        src.join("lib/json.ex"),
        // Its moduledoc names `JSON` again and again; `JSON`'s is long: the case of a
        // module named alone still decides.
        "defmodule Json do\n  @moduledoc \"JSON JSON JSON JSON.\"\n  @doc \"Reads.\"\n  def read(x), do: x\nend\n",
    )
    .unwrap();
    std::fs::write(
        src.join("lib/json_upper.ex"),
        format!(
            "defmodule JSON do\n  @moduledoc \"\"\"\n{}  \"\"\"\n  @doc \"Reads.\"\n  def read(x), do: x\nend\n",
            "  Encodes and decodes values, with options for keys, escaping and pretty printing.\n".repeat(12)
        ),
    )
    .unwrap();
    // Two small clauses of different arities: one merged chunk, `split/2` first.
    std::fs::write(
        src.join("lib/text.ex"),
        "defmodule Text do\n  def split(a, b), do: {a, b}\n  def split(a, b, c), do: {a, b, c}\nend\n",
    )
    .unwrap();
    // `sigil_x`'s doc names `sigil_X` again and again: the words must not outweigh the
    // case of the name asked for.
    let doc = "Unlike sigil_X, it escapes. See sigil_X. Prefer sigil_X when unsure.";
    std::fs::write(
        src.join("lib/my_sigils.ex"),
        format!(
            "defmodule MySigils do\n  @doc \"{doc}\"\n  defmacro sigil_x(term, modifiers) do\n    {{term, modifiers, :lower, :escaped, :interpolated}}\n  end\n\n  @doc \"Raw.\"\n  defmacro sigil_X(term, modifiers) do\n    {{term, modifiers, :upper, :raw, :verbatim}}\n  end\nend\n"
        ),
    )
    .unwrap();
    let set = PartitionSet::open(&tmp.path().join("data"), PARTITIONS).unwrap();
    ingest(&set, "app", &src);
    for (query, symbol) in [
        ("MySigils.sigil_X/2", "MySigils.sigil_X/2"),
        ("sigil_X", "MySigils.sigil_X/2"),
        ("MySigils.sigil_x/2", "MySigils.sigil_x/2"),
        ("sigil_x", "MySigils.sigil_x/2"),
    ] {
        let hits = search(&set, query);
        assert_eq!(hits[0].symbol, symbol, "{query}: {}", describe(&hits));
        assert!(
            hits[0].score > hits[1].score,
            "{query}: the case decides, not a tie: {}",
            describe(&hits)
        );
    }
    for (query, module) in [
        ("JSON", "JSON"),
        ("Json", "Json"),
        ("JSON.read", "JSON"),
        ("Json.read/1", "Json"),
    ] {
        let hits = search(&set, query);
        assert_eq!(hits[0].chunk.module, module, "{query}: {}", describe(&hits));
        assert!(
            hits[0].score > hits[1].score,
            "{query}: the case decides, not a tie: {}",
            describe(&hits)
        );
    }
    let hits = search(&set, "Text.split/3");
    assert_eq!(hits[0].chunk.arities, vec![2], "the merged chunk");
    assert_eq!(hits[0].symbol, "Text.split/3");
    assert_eq!(search(&set, "Text.split/2")[0].symbol, "Text.split/2");
}

/// A hit on a chunk of several small functions merged is named by the function the
/// query names, with its head, not by the chunk's first function.
#[test]
fn a_hit_on_merged_functions_names_the_one_asked_for() {
    let env = env();
    write(
        &env.src,
        "lib/pass.ex",
        "defmodule Pass do\n  def load_document(doc), do: doc\n\n  def dump_results(results), do: results\nend\n",
    );
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    ingest(&set, "shop", &env.src);
    let merged = all_chunks(&set)
        .into_iter()
        .find(|c| c.path == "lib/pass.ex" && c.defines.len() == 2)
        .expect("the two functions share one chunk");
    assert_eq!(merged.display_symbol(), "Pass.load_document/1");
    for query in ["dump_results", "Pass.dump_results", "Pass.dump_results/1"] {
        let hits = search(&set, query);
        assert_eq!(
            hits[0].symbol,
            "Pass.dump_results/1",
            "{query}\n{}",
            describe(&hits)
        );
        assert_eq!(
            hits[0].chunk.signature_for(&hits[0].symbol),
            "def dump_results(results)"
        );
    }
    // Another module's function of the same name is not a name for this chunk.
    let hits = search(&set, "Other.dump_results");
    assert!(
        hits.iter().all(|h| h.symbol != "Other.dump_results/1"),
        "{}",
        describe(&hits)
    );
}

/// A function whose long doc splits it in parts is one search result (its best part),
/// and the part with its head carries its doc too.
#[test]
fn the_parts_of_a_split_function_are_one_result() {
    let env = env();
    let doc: String = (0..60)
        .map(|i| format!("  Step {i} verifies the signed token against its maximum age.\n\n"))
        .collect();
    write(
        &env.src,
        "lib/token.ex",
        &format!(
            "defmodule Token do\n  @doc \"\"\"\n  Verifies a signed token.\n\n{doc}  \"\"\"\n  def verify(token, max_age) do\n    {{token, max_age}}\n  end\nend\n"
        ),
    );
    let set = PartitionSet::open(&env.data, PARTITIONS).unwrap();
    ingest(&set, "shop", &env.src);
    let parts: Vec<Chunk> = all_chunks(&set)
        .into_iter()
        .filter(|c| c.path == "lib/token.ex" && c.name == "verify")
        .collect();
    assert!(parts.len() > 1, "the doc splits the function");
    let head = parts
        .iter()
        .find(|c| !c.defines.is_empty())
        .expect("a part defines it");
    assert!(head.part.is_some_and(|(k, _)| k > 1));
    assert!(
        head.doc
            .as_deref()
            .is_some_and(|d| d.starts_with("Verifies a signed token."))
    );
    let hits = search(&set, "verifies the signed token maximum age");
    let verify: Vec<&SearchHit> = hits.iter().filter(|h| h.chunk.name == "verify").collect();
    assert_eq!(verify.len(), 1, "{}", describe(&hits));
}

/// Two arities of one function documented apart are one answer to a question (its best
/// chunk), so they do not take two places of the top; an identifier query lists both.
#[test]
fn a_question_lists_the_arities_of_one_function_once() {
    let (_tmp, set) = indexed(&[(
        "lib/tree.ex",
        "defmodule Tree do\n  @doc \"Walks the syntax tree, applying fun to every node.\"\n  def walk(ast, fun), do: walk(ast, nil, fun)\n\n  @doc \"Walks the syntax tree with an accumulator, applying fun to every node.\"\n  def walk(ast, acc, fun), do: {ast, acc, fun}\n\n  @doc \"Counts the nodes of the syntax tree.\"\n  def size(ast), do: ast\nend\n",
    )]);
    let walks = |hits: &[SearchHit]| {
        let mut arities: Vec<u32> = hits
            .iter()
            .filter(|h| h.chunk.name == "walk")
            .flat_map(|h| h.chunk.arities.clone())
            .collect();
        arities.sort_unstable();
        arities
    };
    let all = all_chunks(&set);
    assert_eq!(
        all.iter().filter(|c| c.name == "walk").count(),
        2,
        "each arity is its own chunk"
    );
    let hits = search(
        &set,
        "walk the syntax tree applying a function to every node",
    );
    assert_eq!(walks(&hits).len(), 1, "{}", describe(&hits));
    assert!(
        hits.iter().any(|h| h.chunk.name == "size"),
        "{}",
        describe(&hits)
    );
    let hits = search(&set, "Tree.walk");
    assert_eq!(walks(&hits), [2, 3], "{}", describe(&hits));
    // A question that names both arities lists both.
    let hits = search(&set, "how does Tree.walk/2 differ from Tree.walk/3");
    assert_eq!(walks(&hits), [2, 3], "{}", describe(&hits));
}

/// A module header that holds a type of the module's own name shows the module when the
/// query names the module, and the type when the query names the type.
#[test]
fn a_header_holding_a_type_shows_what_the_query_names() {
    let (_tmp, set) = indexed(&[(
        "lib/config.ex",
        "defmodule Shop.Config do\n  @moduledoc \"Settings of the shop.\"\n  @type config :: map()\n\n  @doc \"Reads the settings.\"\n  def read(path), do: File.read!(path)\nend\n",
    )]);
    let header = all_chunks(&set)
        .into_iter()
        .find(|c| c.kind == ChunkKind::ModuleHeader)
        .expect("a header");
    assert!(
        header.defines.iter().any(|d| d.name == "config"),
        "the header holds the type: {:?}",
        header.defines
    );
    assert_first(&set, "Config", "Shop.Config");
    assert_first(&set, "Shop.Config.config", "Shop.Config.config/0");
}

/// A bare `handle_event/3` names the contract before its implementations: the behaviour's
/// `@callback` comes first, though each short implementation mentions the name more for its
/// length; the hit shows the callback the query names, even merged with its neighbours.
/// Naming the module finds that module's implementation first.
#[test]
fn a_bare_callback_name_ranks_the_callback_before_its_implementations() {
    let implementation = |i: usize| {
        format!(
            "defmodule App.Live{i} do\n  @behaviour App.Live\n\n  @impl true\n  def handle_event(\"save\", params, socket) do\n    send(self(), {{:handle_event, params}})\n    {{:noreply, socket}}\n  end\nend\n"
        )
    };
    let (_tmp, set) = indexed_numbered(
        6,
        |i| (format!("lib/live{i}.ex"), implementation(i)),
        (
            "lib/live.ex",
            "defmodule App.Live do\n  @moduledoc \"Live pages.\"\n\n  @callback mount(socket :: term()) :: {:ok, term()}\n\n  @callback render(assigns :: map()) :: term()\n\n  @callback handle_event(event :: binary(), params :: map(), socket :: term()) ::\n              {:noreply, term()}\n\n  @optional_callbacks mount: 1, render: 1\nend\n",
        ),
    );
    for query in ["handle_event/3", "handle_event"] {
        let hits = search(&set, query);
        assert_eq!(
            hits[0].symbol,
            "App.Live.handle_event/3",
            "{query}:\n{}",
            describe(&hits)
        );
        assert!(
            hits[0]
                .chunk
                .defines
                .iter()
                .any(|d| d.kind == ChunkKind::Type && d.name == "handle_event"),
            "{query}: the callback's chunk"
        );
        assert!(
            hits[1..6]
                .iter()
                .all(|h| h.symbol.ends_with(".handle_event/3")
                    && h.chunk.module.starts_with("App.Live")),
            "{query}: the implementations follow:\n{}",
            describe(&hits)
        );
    }
    let hits = search(&set, "App.Live3.handle_event");
    assert_eq!(
        hits[0].symbol,
        "App.Live3.handle_event/3",
        "{}",
        describe(&hits)
    );
}

/// A protocol's function, undocumented, still names the contract before its many
/// implementations (AshJsonApi's `to_json_api_error/1` and its 37 `defimpl`s).
#[test]
fn a_bare_protocol_function_ranks_the_protocol_before_its_implementations() {
    let implementation = |i: usize| {
        format!(
            "defimpl App.ToError, for: App.Error{i} do\n  def to_error(error), do: %{{to_error: error}}\nend\n"
        )
    };
    let (_tmp, set) = indexed_numbered(
        6,
        |i| (format!("lib/error{i}.ex"), implementation(i)),
        (
            "lib/to_error.ex",
            "defprotocol App.ToError do\n  @moduledoc \"Turns an error into the API's error object: its code, title, detail and source pointer.\"\n\n  def to_error(error)\n\n  def code(error)\n\n  def status(error)\nend\n",
        ),
    );
    for query in ["to_error/1", "to_error"] {
        let hits = search(&set, query);
        assert_eq!(
            hits[0].symbol,
            "App.ToError.to_error/1",
            "{query}:\n{}",
            describe(&hits)
        );
    }
}

/// A query naming a module's function finds the function before the `@callback` of the
/// same name and arity the module also declares (ExDoc.Markdown's `to_ast/2`); the
/// callback alone is still found by its name.
#[test]
fn a_named_function_ranks_before_the_callback_of_its_name() {
    let (_tmp, set) = indexed(&[(
        "lib/ex_doc/markdown.ex",
        concat!(
            "defmodule ExDoc.Markdown do\n",
            "  @moduledoc \"Adapters for Markdown.\"\n",
            "\n",
            "  @doc \"Converts markdown into HTML AST.\"\n",
            "  @callback to_ast(String.t(), Keyword.t()) :: term()\n",
            "\n",
            "  @doc \"Checks if the adapter is available.\"\n",
            "  @callback available?() :: boolean()\n",
            "\n",
            "  @doc \"\"\"\n",
            "  Converts the given markdown document to HTML AST, with the configured adapter.\n",
            "  \"\"\"\n",
            "  def to_ast(text, opts \\\\ []) when is_binary(text) do\n",
            "    {processor, options} = get_markdown_processor(opts)\n",
            "    processor.to_ast(text, options)\n",
            "  end\n",
            "\n",
            "  defp get_markdown_processor(opts), do: Keyword.pop(opts, :markdown_processor)\n",
            "end\n",
        ),
    )]);
    for query in [
        "ExDoc.Markdown.to_ast/2",
        "ExDoc.Markdown.to_ast",
        "Markdown.to_ast",
    ] {
        let hits = search(&set, query);
        assert_eq!(
            hits[0].chunk.kind,
            ChunkKind::Function,
            "{query}:\n{}",
            describe(&hits)
        );
        assert_eq!(hits[0].symbol, "ExDoc.Markdown.to_ast/2", "{query}");
    }
    assert_first(
        &set,
        "ExDoc.Markdown.available?",
        "ExDoc.Markdown.available?/0",
    );
    // A `@callback` the module header holds (a small behaviour, Lexical's `Transport`)
    // comes after the function of its name too.
    let (_tmp, set) = indexed(&[(
        "lib/lexical/server/transport.ex",
        concat!(
            "defmodule Lexical.Server.Transport do\n",
            "  @moduledoc \"A behaviour for a transport.\"\n",
            "  @callback write(Jason.Encoder.t()) :: Jason.Encoder.t()\n",
            "\n",
            "  @implementation Application.compile_env(:server, :transport, Stdio)\n",
            "\n",
            "  defdelegate write(message), to: @implementation\n",
            "end\n",
        ),
    )]);
    for query in ["Transport.write", "Lexical.Server.Transport.write/1"] {
        let hits = search(&set, query);
        assert_eq!(
            hits[0].chunk.kind,
            ChunkKind::Delegate,
            "{query}:\n{}",
            describe(&hits)
        );
    }
    assert_eq!(
        search(&set, "Transport")[0].chunk.kind,
        ChunkKind::ModuleHeader
    );
}

/// A wrong arity still finds the function by its qualified name (`Completion.completion/6`
/// when only `/4` exists), above chunks that only mention it; the right arity comes
/// first.
#[test]
fn a_wrong_arity_finds_the_function_at_its_real_arity() {
    let (_tmp, set) = indexed(&[
        (
            "lib/ls/completion.ex",
            concat!(
                "defmodule LS.Providers.Completion do\n",
                "  @moduledoc \"Completion provider.\"\n",
                "  def completion(text, line, character, options) do\n",
                "    LS.Engine.suggest(text, line, character, options)\n",
                "  end\n",
                "  def completion(text), do: completion(text, 1, 1, [])\n",
                "end\n",
            ),
        ),
        (
            "lib/ls/pipes.ex",
            concat!(
                "defmodule LS.Commands.Pipes do\n",
                "  @moduledoc \"Pipes: see LS.Providers.Completion.completion/4 and completion options.\"\n",
                "  def run(completion, providers), do: {completion, providers}\n",
                "end\n",
            ),
        ),
    ]);
    for query in [
        "LS.Providers.Completion.completion/6",
        "Completion.completion/6",
    ] {
        let hits = search(&set, query);
        assert_eq!(
            hits[0].symbol,
            "LS.Providers.Completion.completion/4",
            "{query}:\n{}",
            describe(&hits)
        );
    }
    assert_first(
        &set,
        "Completion.completion/1",
        "LS.Providers.Completion.completion/1",
    );
    assert_first(
        &set,
        "Completion.completion/4",
        "LS.Providers.Completion.completion/4",
    );
    // With a long module whose words every sibling's header matches as well
    // (AshPaperTrail's `ChangeBuilders.FullDiff.ListChange.build/3`, only `/2` defined).
    let sibling = |name: &str| {
        format!(
            "defmodule Paper.ChangeBuilders.FullDiff.{name} do\n  @moduledoc \"Paper change builders: the full diff of a {name}.\"\n  alias Paper.ChangeBuilders.FullDiff.Helpers\n  def run(x), do: Helpers.go(x)\nend\n"
        )
    };
    let list = "defmodule Paper.ChangeBuilders.FullDiff.ListChange do\n  def build(attribute, changeset) do\n    {attribute, changeset}\n  end\nend\n";
    let (_tmp, set) = indexed(&[
        ("lib/full_diff/list_change.ex", list),
        ("lib/full_diff/map.ex", &sibling("MapChange")),
        ("lib/full_diff/embedded.ex", &sibling("EmbeddedChange")),
        ("lib/full_diff/helpers.ex", &sibling("Helpers")),
        ("lib/full_diff.ex", &sibling("Union")),
    ]);
    assert_first(
        &set,
        "Paper.ChangeBuilders.FullDiff.ListChange.build/3",
        "Paper.ChangeBuilders.FullDiff.ListChange.build/2",
    );
}

/// A question naming a function with its module asks about that one: other modules'
/// functions of the name (each instrumentation's `handle_event/4`) weigh less than the
/// named module's code about the question's words.
#[test]
fn a_question_naming_a_qualified_function_weighs_its_namesakes_elsewhere_less() {
    let handler = |module: &str| {
        format!(
            "defmodule {module} do\n  def handle_event(event, measurements, metadata, config) do\n    query = metadata.query\n    source = metadata.source\n    {{event, measurements, query, source, config}}\n  end\nend\n"
        )
    };
    let ecto = "defmodule Otel.Ecto do\n  def handle_event(event, measurements, metadata, config) do\n    {event, measurements, span_name(metadata), config}\n  end\n\n  @doc \"The span's name: the table the query reads.\"\n  def span_name(metadata) do\n    case metadata do\n      %{source: table} when is_binary(table) -> table\n      %{repo: repo} -> inspect(repo)\n      _ -> \"ecto\"\n    end\n  end\nend\n";
    let (_tmp, set) = indexed(&[
        ("lib/ecto.ex", ecto),
        ("lib/xandra.ex", &handler("Otel.Xandra")),
        ("lib/loader.ex", &handler("Otel.Loader")),
        ("lib/grpc.ex", &handler("Otel.Grpc")),
    ]);
    let hits = search(
        &set,
        "what does Otel.Ecto.handle_event do with the query source",
    );
    assert_eq!(
        hits[0].symbol,
        "Otel.Ecto.handle_event/4",
        "{}",
        describe(&hits)
    );
    let at = |symbol: &str| hits.iter().position(|h| h.symbol == symbol);
    let named_module = at("Otel.Ecto.span_name/1").expect("span_name/1 found");
    for namesake in ["Otel.Xandra", "Otel.Loader", "Otel.Grpc"] {
        let namesake = at(&format!("{namesake}.handle_event/4")).unwrap_or(usize::MAX);
        assert!(namesake > named_module, "{}", describe(&hits));
    }
}

/// A question that names an identifier is still a question: it asks about the public API,
/// so hidden implementations (`@moduledoc false`) of the name it mentions weigh less than
/// the documented public function it is after.
#[test]
fn a_question_naming_an_identifier_still_prefers_the_public_api() {
    let internal = |i: usize| {
        format!(
            "defmodule Internal.State{i} do\n  @moduledoc false\n\n  def handle_call(:reply, from, state) do\n    {{:reply, :ok, [from | state]}}\n  end\nend\n"
        )
    };
    let (_tmp, set) = indexed_numbered(
        5,
        |i| (format!("lib/internal/state{i}.ex"), internal(i)),
        (
            "lib/server.ex",
            "defmodule Server do\n  @moduledoc \"A server process.\"\n\n  @doc \"Sends a reply to a caller that is waiting, from another process.\"\n  def reply(client, message), do: send(client, message)\nend\n",
        ),
    );
    assert_first(
        &set,
        "reply to a waiting caller from outside handle_call",
        "Server.reply/2",
    );
    // Also where the name ends the question.
    assert_first(
        &set,
        "how do I reply to a waiting caller from outside handle_call?",
        "Server.reply/2",
    );
    // Named with its module, a hidden function weighs as in an identifier query.
    assert_first(
        &set,
        "what does Internal.State3.handle_call do with the caller",
        "Internal.State3.handle_call/3",
    );
}

/// A question that names a type or module with its module ("which fields does
/// Shop.Order.t have") ranks it as an identifier query would: not under the functions
/// that share its words, as unnamed headers and types are in a question.
#[test]
fn a_question_naming_a_type_finds_it_first() {
    let (_tmp, set) = indexed(&[
        (
            "lib/order.ex",
            "defmodule Shop.Order do\n  @moduledoc \"An order.\"\n\n  defstruct [:id, :lines]\n\n  @typedoc \"An order and its lines.\"\n  @type t :: %__MODULE__{id: integer(), lines: list()}\n\n  @doc \"The total of the order.\"\n  def total(order), do: length(order.lines)\nend\n",
        ),
        (
            "lib/report.ex",
            "defmodule Shop.Report do\n  @doc \"Lists which fields a report row has.\"\n  def fields(row), do: Map.keys(row)\n\n  @doc \"Which fields of a row have a value.\"\n  def filled_fields(row), do: Enum.filter(Map.keys(row), &Map.get(row, &1))\nend\n",
        ),
    ]);
    let hits = search(&set, "which fields does Shop.Order.t have");
    let first = hits.first().expect("hits");
    assert!(
        first
            .chunk
            .defines
            .iter()
            .any(|d| d.module == "Shop.Order" && d.name == "t"),
        "{}",
        describe(&hits)
    );
}

/// A question naming a function with its module asks about that function: "what does
/// Lazy.distinct_count return" finds `Lazy.distinct_count/1`, one of 24 functions a
/// `for` defines in one chunk (whose many symbol keys must not bury it), though that
/// chunk says none of the question's words and the documented `Series.distinct_count/1`
/// says them all.
#[test]
fn a_question_naming_a_function_with_its_module_finds_it_first() {
    // Other modules of one function each, as most chunks are: the mean chunk has few keys.
    let mut files = util_modules(30);
    files.push((
        "lib/series.ex".into(),
        "defmodule Shop.Series do\n  @doc \"Returns the distinct count: how many distinct values the series holds.\"\n  def distinct_count(series), do: series |> Enum.uniq() |> length()\n\n  @doc \"Returns the count of values.\"\n  def count(series), do: length(series)\nend\n".into(),
    ));
    files.push((
        "lib/lazy.ex".into(),
        "defmodule Shop.Lazy do\n  @ops [:sum, :min, :max, :mean, :median, :mode, :count, :distinct_count, :first, :last,\n        :argmin, :argmax, :variance, :standard_deviation, :quantile, :skew, :product,\n        :nil_count, :size, :all, :any, :cumulative_sum, :cumulative_max, :cumulative_min]\n\n  for op <- @ops do\n    def unquote(op)(series), do: {unquote(op), [series]}\n  end\nend\n".into(),
    ));
    files.push((
        "lib/email.ex".into(),
        "defmodule Shop.Email do\n  @doc \"Sends the code to verify the email.\"\n  def verify(email), do: {:send, email}\n\n  def verify?(email, code), do: email == code\nend\n".into(),
    ));
    files.push((
        "lib/query.ex".into(),
        "defmodule Shop.Query do\n  ops = [==: :equal, <: :less, >: :greater, +: :add, -: :subtract]\n\n  for {op, fun} <- ops do\n    def unquote(op)(left, right), do: apply(Shop.Series, fun, [left, right])\n  end\nend\n".into(),
    ));
    let (_tmp, set) = indexed(&files);
    // An operator written with its module is a function the question names.
    let hits = search(&set, "what does Query.< return");
    assert_eq!(
        hits.first().map(|h| h.symbol.as_str()),
        Some("Shop.Query.</2"),
        "{}",
        describe(&hits)
    );
    // A `?` that ends the sentence may be the name's too: the name as written comes first.
    for question in [
        "when should I call Email.verify?",
        "when does Email.verify? return true",
    ] {
        let hits = search(&set, question);
        assert_eq!(
            hits.first().map(|h| h.symbol.as_str()),
            Some("Shop.Email.verify?/2"),
            "{question}: {}",
            describe(&hits)
        );
    }
    for question in [
        "what does Lazy.distinct_count return",
        "what does Shop.Lazy.distinct_count/1 return",
        // The sentence's `?` is not the name's.
        "when should I call Lazy.distinct_count?",
    ] {
        let hits = search(&set, question);
        let first = hits.first().expect("hits");
        assert_eq!(
            first.symbol,
            "Shop.Lazy.distinct_count/1",
            "{question}: {}",
            describe(&hits)
        );
    }
    // A bare name in a question is still context: the documented function comes first.
    let hits = search(&set, "what does distinct_count return");
    assert_eq!(
        hits.first().map(|h| h.symbol.as_str()),
        Some("Shop.Series.distinct_count/1"),
        "{}",
        describe(&hits)
    );
}

/// A protocol's bodiless functions are its callbacks: a question ranks the function that
/// does the work before the protocol function it dispatches to, as it does for callbacks.
#[test]
fn a_question_ranks_a_protocol_function_as_a_callback() {
    let (_tmp, set) = indexed(&[
        (
            "lib/measurable.ex",
            "defprotocol Measurable do\n  @moduledoc \"Things that have a size.\"\n\n  @doc \"Counts the elements of the collection.\"\n  def count(collection)\nend\n",
        ),
        (
            "lib/bag.ex",
            "defmodule Bag do\n  @doc \"Counts how many elements the bag holds.\"\n  def size(bag), do: Measurable.count(bag)\nend\n",
        ),
    ]);
    let all = all_chunks(&set);
    assert!(
        all.iter()
            .any(|c| c.name == "count" && c.tags.iter().any(|t| t == "bodiless")),
        "the protocol function is a chunk of its own"
    );
    assert_first(&set, "count the elements a collection holds", "Bag.size/1");
    // Named, it comes first: identifier queries weigh it as any function.
    assert_first(&set, "Measurable.count", "Measurable.count/1");
}

/// Code a tool wrote (`# codegen: do not edit` at its top) answers few questions: a
/// question puts the hand-written function first, even where the generated one says the
/// question's words better; named, the generated function is found first.
#[test]
fn a_question_ranks_generated_code_under_the_projects_own() {
    let (_tmp, set) = indexed(&[
        (
            "lib/protocol/save_reason.ex",
            "# codegen: do not edit\ndefmodule Protocol.SaveReason do\n  @doc \"Parse again after a delay, once the user stops typing.\"\n  def after_delay, do: 2\nend\n",
        ),
        (
            "lib/parser.ex",
            "defmodule Parser do\n  @doc \"Parses the document again after a delay, once typing stops.\"\n  def debounce(doc), do: doc\nend\n",
        ),
    ]);
    let all = all_chunks(&set);
    for c in &all {
        let generated = c.tags.iter().any(|t| t == "generated");
        assert_eq!(
            generated,
            c.path.starts_with("lib/protocol/"),
            "{} {:?}",
            c.path,
            c.tags
        );
    }
    let question = "parse again after a delay once the user stops typing";
    assert_first(&set, question, "Parser.debounce/1");
    assert_first(
        &set,
        "Protocol.SaveReason.after_delay",
        "Protocol.SaveReason.after_delay/0",
    );
    assert_first(&set, "after_delay", "Protocol.SaveReason.after_delay/0");
}

/// A library of one module per feature (Req's steps, Tesla's middleware) documents each
/// feature in its module's doc: a question whose words name the module finds its header
/// over a function that only talks about the feature. A header named in part, or not at
/// all, still weighs under the functions.
#[test]
fn a_question_whose_words_name_a_module_finds_its_header() {
    let mut files = util_modules(30);
    files.push((
        "lib/retry.ex".into(),
        "defmodule Shop.Retry do\n  @moduledoc \"\"\"\n  Retries a failed request on transient errors.\n\n  Waits longer after each attempt (exponential backoff with jitter), at most\n  `:max_retries` times; a request that keeps failing returns its last error.\n  \"\"\"\n\n  defp delay(attempt), do: Integer.pow(2, attempt) * 100\nend\n".into(),
    ));
    files.push((
        "lib/retry_policy.ex".into(),
        "defmodule Shop.RetryPolicy do\n  @moduledoc \"\"\"\n  Retries a failed request on transient errors.\n\n  Waits longer after each attempt (exponential backoff with jitter), at most\n  `:max_retries` times; a request that keeps failing returns its last error.\n  \"\"\"\n\n  defp delay(attempt), do: Integer.pow(2, attempt) * 100\nend\n".into(),
    ));
    files.push((
        "lib/http/error.ex".into(),
        "defmodule Shop.Http.Error do\n  @moduledoc \"\"\"\n  Retries a failed request on transient errors.\n\n  Waits longer after each attempt (exponential backoff with jitter), at most\n  `:max_retries` times; a request that keeps failing returns its last error.\n  \"\"\"\n\n  defexception [:reason]\nend\n".into(),
    ));
    // A struct the question names, and a module named by a word any sentence has.
    files.push((
        "lib/request.ex".into(),
        "defmodule Shop.Request do\n  @moduledoc \"\"\"\n  Retries a failed request on transient errors.\n\n  Waits longer after each attempt (exponential backoff with jitter), at most\n  `:max_retries` times; a request that keeps failing returns its last error.\n  \"\"\"\n\n  defstruct [:url, :attempt]\nend\n".into(),
    ));
    files.push((
        "lib/mix/tasks/retry.ex".into(),
        "defmodule Mix.Tasks.Retry do\n  @moduledoc \"\"\"\n  Retries a failed request on transient errors.\n\n  Waits longer after each attempt (exponential backoff with jitter), at most\n  `:max_retries` times; a request that keeps failing returns its last error.\n  \"\"\"\n\n  use Mix.Task\n  def run(_args), do: :ok\nend\n".into(),
    ));
    files.push((
        "lib/failed.ex".into(),
        "defmodule Shop.Failed do\n  @summary \"\"\"\n  Retries a failed request on transient errors.\n\n  Waits longer after each attempt (exponential backoff with jitter), at most\n  `:max_retries` times; a request that keeps failing returns its last error.\n  \"\"\"\n\n  defp delay(attempt), do: Integer.pow(2, attempt) * 100\nend\n".into(),
    ));
    files.push((
        "lib/quiet.ex".into(),
        "defmodule Shop.Quiet do\n  @summary \"\"\"\n  Retries a failed request on transient errors.\n\n  Waits longer after each attempt (exponential backoff with jitter), at most\n  `:max_retries` times; a request that keeps failing returns its last error.\n  \"\"\"\n\n  defp delay(attempt), do: Integer.pow(2, attempt) * 100\nend\n".into(),
    ));
    files.push((
        "lib/on.ex".into(),
        "defmodule Shop.Hooks.On do\n  @moduledoc \"\"\"\n  Retries a failed request on transient errors.\n\n  Waits longer after each attempt (exponential backoff with jitter), at most\n  `:max_retries` times; a request that keeps failing returns its last error.\n  \"\"\"\n\n  defp delay(attempt), do: attempt\nend\n".into(),
    ));
    files.push((
        "lib/stub.ex".into(),
        "defmodule Shop.Stub do\n  @doc \"\"\"\n  Expects a request for the stub. A retried request fetches the stub again, and a\n  stub request that keeps failing raises.\n  \"\"\"\n  def expect(name, plug), do: {name, plug}\nend\n".into(),
    ));
    let (_tmp, set) = indexed(&files);
    let hits = search(&set, "retry a failed request on errors");
    let score = |symbol: &str| (hits.iter().find(|h| h.symbol == symbol)).map(|h| h.score);
    assert_eq!(
        hits.first().map(|h| (h.symbol.as_str(), h.chunk.kind)),
        Some(("Shop.Retry", ChunkKind::ModuleHeader)),
        "{}",
        describe(&hits)
    );
    // `RetryPolicy`, the same doc named in part, weighs as any header: well under. So do
    // an exception and a struct the question's words name (`errors`, `request`), a
    // module named by a word any sentence has (`on`), and a Mix task.
    let named = score("Shop.Retry");
    for other in [
        "Shop.RetryPolicy",
        "Shop.Http.Error",
        "Shop.Request",
        "Shop.Hooks.On",
        // A Mix task is named after its command.
        "Mix.Tasks.Retry",
    ] {
        assert!(
            score(other).zip(named).is_some_and(|(o, n)| o < 0.75 * n),
            "{other}: {}",
            describe(&hits)
        );
    }
    // A module without a doc documents no feature: `Shop.Failed` (named by `failed`)
    // weighs as `Shop.Quiet` (named by nothing), with the same text in an attribute.
    let (failed, quiet) = (score("Shop.Failed"), score("Shop.Quiet"));
    assert!(
        failed.zip(quiet).is_some_and(|(f, q)| f < 1.2 * q),
        "{}",
        describe(&hits)
    );
    // A question that does not name the module: the function first.
    assert_first(
        &set,
        "what happens when a stub request keeps failing",
        "Shop.Stub.expect/2",
    );
}

/// `n` modules of one documented function each (`Shop.Util3.help_3/1`), as most chunks
/// are: a corpus for BM25 to weigh words in.
fn util_modules(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            (
                format!("lib/util_{i}.ex"),
                format!(
                    "defmodule Shop.Util{i} do\n  @doc \"Helps with stock {i}.\"\n  def help_{i}(x), do: x\nend\n"
                ),
            )
        })
        .collect()
}

/// `files` written into a temporary project and indexed as repository `app`.
fn indexed(files: &[(impl AsRef<str>, impl AsRef<str>)]) -> (tempfile::TempDir, PartitionSet) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    for (rel, content) in files {
        write(&src, rel.as_ref(), content.as_ref());
    }
    let set = PartitionSet::open(&tmp.path().join("data"), PARTITIONS).unwrap();
    ingest(&set, "app", &src);
    (tmp, set)
}

/// A module a test defines in its body is found by its name, in the test's chunk, and
/// the chunk is among those that call what the module's functions call.
#[test]
fn a_module_a_test_defines_is_found_by_its_name() {
    let (_tmp, set) = indexed(&[
        (
            "lib/repo.ex",
            "defmodule MyApp.Repo do\n  @doc \"All rows.\"\n  def all(query), do: {:ok, query}\nend\n",
        ),
        (
            "test/widget_test.exs",
            "defmodule MyApp.WidgetTest do\n  use ExUnit.Case\n  alias MyApp.Repo\n\n  test \"a data layer that raises\" do\n    defmodule CrashingLayer do\n      def run(query), do: Repo.all(query) && raise(\"boom\")\n    end\n\n    assert_raise RuntimeError, fn -> CrashingLayer.run(:q) end\n  end\nend\n",
        ),
    ]);
    for query in ["CrashingLayer.run", "MyApp.WidgetTest.CrashingLayer.run/1"] {
        let hits = search(&set, query);
        assert_eq!(
            hits[0].chunk.kind,
            ChunkKind::Test,
            "{query}:\n{}",
            describe(&hits)
        );
        assert_eq!(
            hits[0].symbol,
            "MyApp.WidgetTest.CrashingLayer.run/1",
            "{query}:\n{}",
            describe(&hits)
        );
    }
    let partition = set.partition_for("app", "test/widget_test.exs").unwrap();
    for filter in [
        FileChunkFilter::Calls("MyApp.Repo.all/1".into()),
        FileChunkFilter::Defines("MyApp.WidgetTest.CrashingLayer.run/1".into()),
    ] {
        let got = partition
            .chunks_of_file_where("app", "test/widget_test.exs", &filter)
            .unwrap();
        assert_eq!(got.len(), 1, "{filter:?}: {got:#?}");
        assert_eq!(got[0].kind, ChunkKind::Test, "{filter:?}");
        assert!(filter.accepts(&got[0]), "{filter:?}");
    }
}

/// A test is found by the words of its `describe` too, as its name shows them
/// (asciinema's `recording finalization stages the completed capture`).
#[test]
fn a_test_is_found_by_its_describe() {
    let (_tmp, set) = indexed(&[
        (
            "test/stream_server_test.exs",
            "defmodule StreamServerTest do\n  use ExUnit.Case\n  describe \"recording finalization\" do\n    test \"stages the completed capture\" do\n      assert :ok == :ok\n    end\n  end\nend\n",
        ),
        (
            "test/email_test.exs",
            "defmodule EmailTest do\n  use ExUnit.Case\n  test \"sends the change email\" do\n    assert :sent == :sent\n  end\nend\n",
        ),
    ]);
    let hits = search_with(
        &set,
        "finalization",
        Filters {
            kinds: vec![ChunkKind::Test],
            ..Filters::default()
        },
        10,
    );
    assert_eq!(
        hits.first().map(|h| h.chunk.name.as_str()),
        Some("recording finalization stages the completed capture"),
        "{}",
        describe(&hits)
    );
}

/// A text file (an SQL template) is found by its name (eventstore's
/// `query_stream_events_forward.sql.eex`).
#[test]
fn a_text_file_is_found_by_its_name() {
    let (_tmp, set) = indexed(&[
        (
            "lib/event_store/sql/statements/query_stream_events_forward.sql.eex",
            "SELECT e.event_id, e.event_type\nFROM <%= schema %>.stream_events se\nWHERE se.stream_id = $1\n",
        ),
        (
            "lib/event_store/storage/reader.ex",
            "defmodule EventStore.Storage.Reader do\n  def read_forward(conn, stream_id), do: {conn, stream_id}\nend\n",
        ),
    ]);
    for query in [
        "query_stream_events_forward",
        "query_stream_events_forward.sql.eex",
    ] {
        let hits = search(&set, query);
        assert!(
            hits.first().is_some_and(|h| h
                .chunk
                .path
                .ends_with("query_stream_events_forward.sql.eex")),
            "{query}: {}",
            describe(&hits)
        );
    }
}

/// A module named by the end of its name (`Accounts.User`, as an alias writes it) comes
/// before an implementation for it, whose module ends in that name too
/// (`Phoenix.Param.Asciinema.Accounts.User`, asciinema's).
#[test]
fn a_module_named_by_its_end_ranks_before_an_implementation_for_it() {
    // The schema's many fields make its header long, so its BM25 is under the short
    // implementation's.
    let fields: String = (0..30)
        .map(|i| format!("    field :attribute_{i}, :string\n"))
        .collect();
    let user = format!(
        "defmodule Asciinema.Accounts.User do\n  use Ecto.Schema\n  schema \"users\" do\n{fields}  end\nend\n\ndefimpl Phoenix.Param, for: Asciinema.Accounts.User do\n  def to_param(%{{username: username}}), do: username\nend\n"
    );
    let (_tmp, set) = indexed(&[
        ("lib/asciinema/accounts/user.ex", user.as_str()),
        (
            "lib/asciinema/accounts.ex",
            "defmodule Asciinema.Accounts do\n  alias Asciinema.Accounts.User\n  def get_user(id), do: Repo.get(User, id)\nend\n",
        ),
    ]);
    for query in ["Accounts.User", "User"] {
        let hits = search(&set, query);
        assert_eq!(
            (hits[0].chunk.kind, hits[0].chunk.module.as_str()),
            (ChunkKind::ModuleHeader, "Asciinema.Accounts.User"),
            "{query}:\n{}",
            describe(&hits)
        );
    }
}

/// `count` files made by `file` from their number, and one more file, indexed as
/// repository `app`.
fn indexed_numbered(
    count: usize,
    file: impl Fn(usize) -> (String, String),
    extra: (&str, &str),
) -> (tempfile::TempDir, PartitionSet) {
    let mut files: Vec<(String, String)> = (0..count).map(file).collect();
    files.push((extra.0.into(), extra.1.into()));
    indexed(&files)
}

/// A chunk's symbol keys grow with its arities and module suffixes; a match on one must
/// count the same whatever the count, or a function with default arguments (often the
/// main API: `String.split/2..3`) ranks under a one-arity clause of the same name.
#[test]
fn default_arguments_do_not_lower_a_definition_under_its_name() {
    // Other definitions, so that the name is rare and its keys weigh as in a real project.
    let others: String = (0..60)
        .map(|i| format!("defmodule Other{i} do\n  def store(x), do: x\nend\n\n"))
        .collect();
    let (_tmp, set) = indexed(&[
        (
            "lib/plain.ex",
            "defmodule Plain do\n  def fetch(a, b, c, d), do: {a, b, c, d}\nend\n",
        ),
        (
            "lib/defaults.ex",
            "defmodule Defaults.Deeply.Nested do\n  def fetch(a, b \\\\ 1, c \\\\ 2, d \\\\ 3), do: {a, b, c, d}\nend\n",
        ),
        ("lib/others.ex", &others),
    ]);
    let hits = search(&set, "fetch");
    let score = |module: &str| {
        hits.iter()
            .find(|h| h.chunk.module == module)
            .unwrap_or_else(|| panic!("no {module} hit:\n{}", describe(&hits)))
            .score
    };
    let (plain, defaults) = (score("Plain"), score("Defaults.Deeply.Nested"));
    // 4 arities and 3 module suffixes: several times the keys. With length normalisation
    // the second scored about half the first; what is left is its longer head.
    assert!(
        defaults >= 0.9 * plain,
        "{defaults} against {plain}:\n{}",
        describe(&hits)
    );
}

/// Tests (and code under test directories) are weighted down after BM25 has ranked them:
/// many implementations of a callback under `test/` that match its name as well as the
/// definition does must not push the definition out of the results.
#[test]
fn a_definition_outranks_many_down_weighted_implementations_of_its_name() {
    let impls: String = (0..150)
        .map(|i| {
            format!(
                "defmodule Impl{i} do\n  def perform(x), do: perform_all(perform_one(x))\nend\n\n"
            )
        })
        .collect();
    let (_tmp, set) = indexed(&[
        (
            "lib/worker.ex",
            "defmodule Worker do\n  @doc \"Runs one job.\"\n  def perform(job), do: run(job)\n\n  defp run(job), do: job\nend\n",
        ),
        ("test/support/impls.ex", &impls),
    ]);
    let hits = search_with(&set, "perform/1", Filters::default(), 5);
    assert_eq!(
        hits.first().map(|h| h.symbol.as_str()),
        Some("Worker.perform/1"),
        "\n{}",
        describe(&hits)
    );
    // Code under `test/` weighs half, and an undocumented function 0.9 in a query that
    // names no module: before weighting the implementations matched better, so a cut by
    // BM25 alone would have dropped the definition.
    assert!(
        hits[1].chunk.path.starts_with("test/") && hits[1].score / (0.5 * 0.9) > hits[0].score,
        "the implementations should match better before weighting:\n{}",
        describe(&hits)
    );
}

/// A search's hits as the API gives them.
fn pb_hits(set: &PartitionSet, request: &SearchRequest) -> Vec<aiex_proto::v1::SearchHit> {
    (set.search(request).unwrap().into_iter())
        .map(aiex_node::service::hit_to_pb)
        .collect()
}

/// A search as the gateway and `search --offline` serve it: a function no chunk defines
/// (a `use` defines it, a `for` names it) is found through the graph.
fn search_as_served(
    set: &PartitionSet,
    graph: &aiex_node::graph::SymbolGraph,
    request: &SearchRequest,
) -> Vec<aiex_proto::v1::SearchHit> {
    use aiex_node::search::generated::{
        add_generated_hits, function_to_look_up, lookup_searches, may_define,
    };
    let mut hits = pb_hits(set, request);
    if let Some(symbol) = function_to_look_up(request, &hits) {
        let found: Vec<_> = (lookup_searches(&symbol, request).into_iter())
            .flat_map(|search| pb_hits(set, &aiex_node::service::request_from_pb(search).unwrap()))
            .collect();
        if may_define(&symbol, &found) {
            add_generated_hits(graph, &symbol, request, &found, &mut hits);
        }
    }
    hits
}

/// A function a `use` defines has no chunk of its own; searched for by name, it comes
/// first, at the using module, with the head its quote writes. Filters apply to it as to
/// chunks, and a search that finds a written definition is left as it is.
#[test]
fn a_function_a_use_defines_is_found_by_its_name() {
    use aiex_node::search::generated::function_to_look_up;
    let (_tmp, set) = indexed(&[
        (
            "lib/store.ex",
            concat!(
                "defmodule Store do\n",
                "  defmacro __using__(_opts) do\n",
                "    quote do\n",
                "      @doc \"Fetches a row by id.\"\n",
                "      def fetch(id, opts \\\\ []), do: Store.Backend.fetch(__MODULE__, id, opts)\n",
                "    end\n",
                "  end\n",
                "end\n",
            ),
        ),
        (
            "lib/my_app/repo.ex",
            "defmodule MyApp.Repo do\n  use Store\n\n  def own(x), do: x\nend\n",
        ),
        (
            "lib/my_app/fetcher.ex",
            "defmodule MyApp.Fetcher do\n  @doc \"Fetches rows, one by one.\"\n  def fetch_all(ids), do: Enum.map(ids, &MyApp.Repo.fetch/1)\nend\n",
        ),
    ]);
    let graph = set.graph().unwrap();
    let search_limited = |query: &str, filters: Filters, limit: usize| {
        let request = SearchRequest {
            query: query.into(),
            filters,
            limit,
        };
        let plain = pb_hits(&set, &request);
        assert!(
            !plain
                .iter()
                .any(|h| h.symbol.starts_with("MyApp.Repo.fetch/")),
            "no chunk defines it: {plain:?}"
        );
        let hits = search_as_served(&set, &graph, &request);
        assert!(hits.len() <= limit, "{hits:?}");
        hits
    };
    let search = |query: &str, filters: Filters| search_limited(query, filters, 5);
    // One result: the generated function; and when nothing else matches, it alone.
    let one = search_limited("MyApp.Repo.fetch/2", Filters::default(), 1);
    assert_eq!(
        (one.len(), one[0].generated_by.as_str()),
        (1, "Store"),
        "{one:?}"
    );
    let alone = search_limited(
        "MyApp.Repo.fetch/2",
        Filters {
            path_prefix: Some("lib/my_app/repo".into()),
            ..Filters::default()
        },
        5,
    );
    assert_eq!(
        (alone.iter().map(|h| h.symbol.as_str()).collect::<Vec<_>>()),
        ["MyApp.Repo.fetch/2", "MyApp.Repo"],
        "{alone:?}"
    );
    for query in [
        "MyApp.Repo.fetch",
        "MyApp.Repo.fetch/1",
        "MyApp.Repo.fetch/2",
        "Repo.fetch",
        "&MyApp.Repo.fetch/2",
    ] {
        let hits = search(query, Filters::default());
        let top = &hits[0];
        let arity = if query.ends_with("/1") { 1 } else { 2 };
        assert_eq!(
            (
                top.symbol.as_str(),
                top.generated_by.as_str(),
                top.path.as_str(),
                top.kind.as_str()
            ),
            (
                format!("MyApp.Repo.fetch/{arity}").as_str(),
                "Store",
                "lib/my_app/repo.ex",
                "function"
            ),
            "{query}: {hits:?}"
        );
        assert_eq!(top.signature, "def fetch(id, opts \\\\ [])", "{query}");
        let quote = top.quoted_at.as_ref().unwrap();
        assert_eq!(
            (
                quote.symbol.as_str(),
                quote.path.as_str(),
                quote.span.unwrap().start_line
            ),
            ("Store.__using__/1", "lib/store.ex", 5),
            "{query}"
        );
        assert_eq!(top.span.unwrap().start_line, 1, "{query}");
        // The two arities of one head are one hit, and the other hits follow it.
        assert!(
            !hits[1..].iter().any(|h| !h.generated_by.is_empty()),
            "{query}: {hits:?}"
        );
        assert!(hits[0].score >= hits[1].score, "{query}: {hits:?}");
    }
    // An arity the quote does not define, and a function nothing defines: nothing added.
    for query in ["MyApp.Repo.fetch/3", "MyApp.Repo.store"] {
        let hits = search(query, Filters::default());
        assert!(
            hits.iter().all(|h| h.generated_by.is_empty()),
            "{query}: {hits:?}"
        );
    }
    // Filters keep it or leave it out as they would its module's chunks.
    let kept = |filters: Filters| {
        search("MyApp.Repo.fetch", filters)
            .first()
            .is_some_and(|h| h.generated_by == "Store")
    };
    let with = |f: fn(&mut Filters)| {
        let mut filters = Filters::default();
        f(&mut filters);
        filters
    };
    assert!(kept(with(|f| f.repos = vec!["app".into()])));
    assert!(!kept(with(|f| f.repos = vec!["other".into()])));
    assert!(kept(with(|f| f.kinds = vec![ChunkKind::Function])));
    assert!(!kept(with(|f| f.kinds = vec![ChunkKind::Test])));
    assert!(kept(with(|f| f.module = Some("MyApp".into()))));
    assert!(!kept(with(|f| f.module = Some("MyApp.Re".into()))));
    assert!(kept(with(|f| f.path_prefix = Some("lib/my_app".into()))));
    assert!(kept(with(|f| f.path_prefix = Some("app/lib/".into()))));
    assert!(kept(with(|f| f.path_prefix = Some("app".into()))));
    assert!(!kept(with(|f| f.path_prefix = Some("lib/store".into()))));
    // A written definition found by the search leaves the hits as they are.
    let written = search("MyApp.Repo.own/1", Filters::default());
    assert_eq!(written[0].symbol, "MyApp.Repo.own/1");
    let own = SearchRequest {
        query: "MyApp.Repo.own/1".into(),
        filters: Filters::default(),
        limit: 5,
    };
    assert_eq!(function_to_look_up(&own, &written), None);
}

/// `use Ecto.Repo` without Ecto's source indexed (a Mix project's `deps/` is git-ignored)
/// defines what Ecto's quote does: searched for by name, `Repo.all` is the repo's
/// function, with the head Ecto writes and no quote to point at.
#[test]
fn a_function_a_librarys_use_defines_is_found_without_the_librarys_source() {
    let (_tmp, set) = indexed(&[
        (
            "lib/my_app/repo.ex",
            "defmodule MyApp.Repo do\n  use Ecto.Repo, otp_app: :my_app, adapter: Ecto.Adapters.Postgres\nend\n",
        ),
        (
            "lib/my_app/accounts.ex",
            "defmodule MyApp.Accounts do\n  alias MyApp.Repo\n\n  def list_users, do: Repo.all(MyApp.User)\n  def all_admins, do: []\nend\n",
        ),
    ]);
    let graph = set.graph().unwrap();
    for (query, symbol, signature) in [
        (
            "Repo.all",
            "MyApp.Repo.all/2",
            "def all(queryable, opts \\\\ [])",
        ),
        (
            "MyApp.Repo.all/1",
            "MyApp.Repo.all/1",
            "def all(queryable, opts \\\\ [])",
        ),
        (
            "MyApp.Repo.get!/2",
            "MyApp.Repo.get!/2",
            "def get!(queryable, id, opts \\\\ [])",
        ),
        (
            "Repo.query!",
            "MyApp.Repo.query!/3",
            "def query!(sql, params \\\\ [], opts \\\\ [])",
        ),
    ] {
        let request = SearchRequest {
            query: query.into(),
            filters: Filters::default(),
            limit: 5,
        };
        let hits = search_as_served(&set, &graph, &request);
        let top = &hits[0];
        assert_eq!(
            (
                top.symbol.as_str(),
                top.generated_by.as_str(),
                top.path.as_str(),
                top.signature.as_str(),
            ),
            (symbol, "Ecto.Repo", "lib/my_app/repo.ex", signature),
            "{query}: {hits:?}"
        );
        assert!(top.quoted_at.is_none(), "{query}");
    }
}

/// A function a `for` names after what a function of another file returns has no chunk of
/// its own either (`for {name, _} <- Nx.Shared.unary_math_funs() do def unquote(name)(t)`
/// defines `Nx.exp/1`); searched for by name, it comes first, with the chunk of the
/// definition the `for` writes and its head naming it. Filters apply to it as to chunks,
/// and only the names the list holds, at the arity written, are found.
#[test]
fn a_function_a_for_names_after_another_files_list_is_found_by_its_name() {
    let (_tmp, set) = indexed(&[
        (
            "lib/calc/shared.ex",
            "defmodule Calc.Shared do\n  def unary_funs, do: [exp: \"e to the x\", log: \"natural logarithm\"]\n  def names, do: [:double, :half]\nend\n",
        ),
        (
            "lib/calc/fast.ex",
            "defmodule Calc.Fast do\n  for name <- Calc.Shared.names() do\n    defdelegate unquote(name)(x), to: Calc.Impl\n  end\nend\n",
        ),
        (
            "lib/calc.ex",
            concat!(
                "defmodule Calc do\n",
                "  for {name, desc} <- Calc.Shared.unary_funs() do\n",
                "    @doc \"Computes the #{desc}.\"\n",
                "    def unquote(name)(x), do: Calc.Backend.apply(unquote(name), x)\n",
                "  end\n",
                "\n",
                "  def add(a, b), do: a + b\n",
                "end\n",
            ),
        ),
        (
            "lib/calc/user.ex",
            "defmodule Calc.User do\n  def grow(x), do: Calc.exp(x) + Calc.log(x)\nend\n",
        ),
    ]);
    let graph = set.graph().unwrap();
    let search = |query: &str, filters: Filters| {
        let request = SearchRequest {
            query: query.into(),
            filters,
            limit: 5,
        };
        search_as_served(&set, &graph, &request)
    };
    // Without it, the caller is what a search finds first.
    let plain = pb_hits(
        &set,
        &SearchRequest {
            query: "Calc.exp".into(),
            filters: Filters::default(),
            limit: 5,
        },
    );
    assert!(
        !plain.iter().any(|h| h.symbol.starts_with("Calc.exp/")),
        "no chunk defines it: {plain:?}"
    );
    for (query, name) in [
        ("Calc.exp", "exp"),
        ("Calc.exp/1", "exp"),
        ("Calc.log", "log"),
        ("&Calc.log/1", "log"),
    ] {
        let hits = search(query, Filters::default());
        let top = &hits[0];
        let span = top.span.unwrap();
        assert_eq!(
            (
                top.symbol.as_str(),
                top.path.as_str(),
                top.kind.as_str(),
                top.module.as_str(),
                top.signature.as_str(),
                top.generated_by.as_str(),
                top.named_after.as_str(),
                (span.start_line, span.end_line),
            ),
            (
                format!("Calc.{name}/1").as_str(),
                "lib/calc.ex",
                "function",
                "Calc",
                format!("def {name}(x)").as_str(),
                "",
                "Calc.Shared.unary_funs/0",
                (4, 4),
            ),
            "{query}: {hits:?}"
        );
        // With the code of the chunk the `for` writes, which is not listed again as
        // written.
        assert!(
            !top.chunk_id.is_empty() && top.snippet.contains("def unquote(name)(x)"),
            "{query}: {top:?}"
        );
        assert!(
            !hits[1..].iter().any(|h| h.chunk_id == top.chunk_id),
            "{query}: {hits:?}"
        );
        assert!(hits[0].score >= hits[1].score, "{query}: {hits:?}");
    }
    // A `defdelegate` named so too, kept or left out by kind.
    let delegate = |kinds: Vec<ChunkKind>| {
        let hits = search(
            "Calc.Fast.half",
            Filters {
                kinds,
                ..Filters::default()
            },
        );
        (hits.first())
            .filter(|h| h.symbol == "Calc.Fast.half/1")
            .map(|h| (h.kind.clone(), h.path.clone(), !h.chunk_id.is_empty()))
    };
    assert_eq!(
        delegate(Vec::new()),
        Some(("delegate".into(), "lib/calc/fast.ex".into(), true))
    );
    assert!(delegate(vec![ChunkKind::Delegate]).is_some());
    assert_eq!(delegate(vec![ChunkKind::Function]), None);
    // A name the list does not hold, an arity not written: nothing added.
    for (query, name) in [("Calc.sqrt", "Calc.sqrt"), ("Calc.exp/2", "Calc.exp")] {
        let hits = search(query, Filters::default());
        assert!(
            !hits.is_empty() && !hits.iter().any(|h| h.symbol.starts_with(name)),
            "{query}: {hits:?}"
        );
    }
    // Filters keep it or leave it out as they would its module's chunks.
    let kept = |filters: Filters| {
        search("Calc.exp", filters)
            .first()
            .is_some_and(|h| h.symbol == "Calc.exp/1")
    };
    assert!(kept(Filters {
        path_prefix: Some("lib/calc.ex".into()),
        ..Filters::default()
    }));
    assert!(!kept(Filters {
        path_prefix: Some("lib/calc/".into()),
        ..Filters::default()
    }));
    assert!(kept(Filters {
        module: Some("Calc".into()),
        ..Filters::default()
    }));
    assert!(!kept(Filters {
        module: Some("Calc.User".into()),
        ..Filters::default()
    }));
    assert!(!kept(Filters {
        kinds: vec![ChunkKind::Macro],
        ..Filters::default()
    }));
    // The placeholder itself is found by its module and `unquote`.
    let placeholder = search("Calc.unquote", Filters::default());
    assert_eq!(
        (placeholder[0].symbol.as_str(), placeholder[0].path.as_str()),
        ("Calc.unquote(name)/1", "lib/calc.ex"),
        "{placeholder:?}"
    );
}

/// A name looked up shows its definition's head, not the doc's example repeating the
/// name (Instructor's `chat_completion/2`) nor a merged neighbour's lines that call it.
#[test]
fn an_identifier_hit_shows_the_definition_head() {
    let (_tmp, set) = indexed(&[(
        "lib/shop/stock.ex",
        concat!(
            "defmodule Shop.Stock do\n",
            "  @doc \"\"\"\n",
            "  Reserves stock.\n",
            "\n",
            "      iex> Shop.Stock.reserve(:a, 1)\n",
            "      iex> Shop.Stock.reserve(:b, 2)\n",
            "      :ok\n",
            "  \"\"\"\n",
            "  def reserve(sku, n) do\n",
            "    {sku, n}\n",
            "  end\n",
            "end\n",
        ),
    )]);
    for query in ["Shop.Stock.reserve", "reserve/2"] {
        let hits = search(&set, query);
        let top = &hits[0];
        assert_eq!(
            top.symbol,
            "Shop.Stock.reserve/2",
            "{query}:\n{}",
            describe(&hits)
        );
        assert_eq!(top.snippet_start_line, 9, "{query}: {:?}", top.snippet);
        assert!(
            top.snippet.starts_with("  def reserve(sku, n) do"),
            "{:?}",
            top.snippet
        );
    }
}

/// A function a `use`'s quote defines in the modules using it (gen_rmq's test helpers
/// from `use GenRMQ.RabbitCase`) is found by its name at the quote that writes it, before
/// a function whose name only starts alike.
#[test]
fn a_function_a_quote_defines_is_found_by_its_name_at_the_quote() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("snip");
    std::fs::create_dir_all(src.join("lib")).unwrap();
    std::fs::create_dir_all(src.join("test")).unwrap();
    std::fs::write(
        src.join("test/rabbit_case.ex"),
        "defmodule Snip.Case do\n  defmacro __using__(_) do\n    quote do\n      def open_rabbit(conn), do: {:ok, conn}\n    end\n  end\nend\n",
    )
    .unwrap();
    std::fs::write(
        src.join("test/use_it_test.exs"),
        "defmodule Snip.UseIt do\n  use Snip.Case\n  def go, do: open_rabbit(1)\nend\n",
    )
    .unwrap();
    std::fs::write(
        src.join("lib/other.ex"),
        "defmodule Snip.Other do\n  def open_rabbit_count(x), do: x\nend\n",
    )
    .unwrap();
    let set = PartitionSet::open(&tmp.path().join("data"), PARTITIONS).unwrap();
    ingest(&set, "snip", &src);
    assert_first(&set, "open_rabbit", "Snip.Case.__using__/1");
    assert_first(&set, "open_rabbit/1", "Snip.Case.__using__/1");
}
