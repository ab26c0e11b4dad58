//! Natural-language search with the sentence-embedding model (all-MiniLM-L6-v2, unpacked by
//! `scripts/fetch-embed-model.sh`), on the sample project `examples/inventory`: a question
//! that shares no word with the definition it asks for is answered only with embeddings;
//! identifier queries rank as before; vectors follow changed and deleted files, survive a
//! restart, and the background embedder catches up after a commit.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aiex_node::embed::{Encoder, VECTORS_FILE};
use aiex_node::ingest::{IngestOptions, PartitionSet};
use aiex_node::search::{Filters, SearchHit, SearchRequest};
use aiex_tests::{embed_model, mpnet_model};

const PARTITIONS: u32 = 4;

fn inventory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/inventory")
}

fn search(set: &PartitionSet, query: &str) -> Vec<SearchHit> {
    set.search(&SearchRequest {
        query: query.into(),
        filters: Filters::default(),
        limit: 10,
    })
    .expect("search")
}

fn rank(hits: &[SearchHit], symbol: &str) -> Option<usize> {
    hits.iter().position(|h| h.symbol == symbol).map(|r| r + 1)
}

fn encoder() -> Arc<Encoder> {
    Arc::new(Encoder::load(&embed_model()).expect("load the embedding model"))
}

/// Copies the sample project, so the tests can change its files.
fn copy_inventory(to: &std::path::Path) {
    for entry in std::fs::read_dir(inventory().join("lib/inventory")).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join("lib/inventory").join(entry.file_name());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(entry.path(), dest).unwrap();
    }
    std::fs::copy(
        inventory().join("lib/inventory.ex"),
        to.join("lib/inventory.ex"),
    )
    .unwrap();
}

/// Questions whose words hardly occur in the definition they ask for: BM25 alone ranks
/// them beyond the top 5, on words such as "pieces", "warehouse" and "process".
const QUESTIONS: &[(&str, &str)] = &[
    (
        "put more pieces of an article into the warehouse",
        "Inventory.restock/3",
    ),
    ("boot the warehouse process", "Inventory.Stock.start_link/1"),
];

#[test]
fn questions_in_other_words_are_answered_with_embeddings_only() {
    questions_answered_with(encoder());
}

#[test]
fn an_mpnet_model_embeds_as_the_reference_and_answers_the_same_questions() {
    // all-mpnet-base-v2: another architecture (relative position bias, no token types,
    // positions after the padding id), 768 dimensions. Its vector of "hello world" is the
    // one `scripts/mpnet-reference.py DIR` computes from `modeling_mpnet.py`'s formulas:
    // questions would still find their answers with a bias left out, this would not.
    let encoder = Encoder::load(&mpnet_model()).expect("load the MPNet model");
    assert_eq!(encoder.dim(), 768);
    let hello = encoder.embed(&["hello world"]).unwrap().remove(0);
    let expected = [
        0.0262497,
        0.0133956,
        -0.00453314,
        -0.0217914,
        0.0545518,
        -0.00496648,
    ];
    for (got, want) in hello.iter().zip(expected) {
        assert!(
            (got - want).abs() < 1e-5,
            "{:?} against {expected:?}",
            &hello[..6]
        );
    }
    questions_answered_with(Arc::new(encoder));
}

fn questions_answered_with(encoder: Arc<Encoder>) {
    let dir = tempfile::tempdir().unwrap();
    let set = PartitionSet::open(&dir.path().join("index"), PARTITIONS).unwrap();
    set.ingest_dir("inventory", &inventory(), &IngestOptions::default(), None)
        .unwrap();
    let without: Vec<Option<usize>> = QUESTIONS
        .iter()
        .map(|(q, symbol)| rank(&search(&set, q), symbol))
        .collect();
    let identifiers = ["Stock.reserve", "Pricing.format_cents/2", "low_stock"];
    let firsts: Vec<String> = identifiers
        .iter()
        .map(|q| search(&set, q)[0].symbol.clone())
        .collect();

    set.set_encoder(encoder).unwrap();
    let progress = aiex_node::index::EmbedProgress::default();
    let done = set.sync_vectors_with(Some(&progress)).unwrap();
    assert!(done.embedded > 20, "{done:?}");
    assert_eq!(done.total, done.embedded);
    // What a progress bar shows: every definition found to embed, then embedded.
    let counted = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(counted(&progress.wanted), done.embedded as u64);
    assert_eq!(counted(&progress.done), done.embedded as u64);
    for (i, (q, symbol)) in QUESTIONS.iter().enumerate() {
        let hits = search(&set, q);
        let with = rank(&hits, symbol);
        let top: Vec<&str> = hits.iter().map(|h| h.symbol.as_str()).collect();
        assert!(
            without[i].is_none_or(|r| r > 5),
            "{q:?}: BM25 alone already finds {symbol} at {:?}",
            without[i]
        );
        assert!(
            with.is_some_and(|r| r <= 5),
            "{q:?}: {symbol} is not in the top 5 with embeddings: {top:?}"
        );
    }
    // Identifier queries are not fused: the definition stays first.
    for (q, first) in identifiers.iter().zip(&firsts) {
        assert_eq!(&search(&set, q)[0].symbol, first, "{q}");
    }
}

#[test]
fn vectors_follow_changed_and_deleted_files_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    copy_inventory(&src);
    let data = dir.path().join("index");
    let encoder = encoder();
    let total = {
        let set = PartitionSet::open(&data, PARTITIONS).unwrap();
        set.set_encoder(encoder.clone()).unwrap();
        set.ingest_dir("inventory", &src, &IngestOptions::default(), None)
            .unwrap();
        let first = set.sync_vectors().unwrap();
        assert!(first.embedded > 20, "{first:?}");
        let again = set.sync_vectors().unwrap();
        assert_eq!((again.embedded, again.removed), (0, 0), "{again:?}");
        first.total
    };
    let on_disk = (0..PARTITIONS)
        .filter(|p| data.join(format!("p{p:04}")).join(VECTORS_FILE).is_file())
        .count();
    assert!(on_disk > 0);

    // A restart reads the vectors back: nothing to embed.
    let set = PartitionSet::open(&data, PARTITIONS).unwrap();
    set.set_encoder(encoder.clone()).unwrap();
    let reopened = set.sync_vectors().unwrap();
    assert_eq!((reopened.embedded, reopened.total), (0, total));

    // A changed doc re-embeds that definition only.
    let pricing = src.join("lib/inventory/pricing.ex");
    let text = std::fs::read_to_string(&pricing).unwrap();
    let changed = text.replace(
        "Formats cents as a decimal string",
        "Renders an amount of money for people to read",
    );
    assert_ne!(text, changed);
    std::fs::write(&pricing, changed).unwrap();
    set.ingest_dir("inventory", &src, &IngestOptions::default(), None)
        .unwrap();
    let after_edit = set.sync_vectors().unwrap();
    assert_eq!(after_edit.embedded, 1, "{after_edit:?}");
    assert_eq!(after_edit.total, total);

    // A deleted file drops its vectors.
    std::fs::remove_file(src.join("lib/inventory/report.ex")).unwrap();
    set.ingest_dir("inventory", &src, &IngestOptions::default(), None)
        .unwrap();
    let after_delete = set.sync_vectors().unwrap();
    assert_eq!(after_delete.embedded, 0, "{after_delete:?}");
    assert!(after_delete.removed > 0, "{after_delete:?}");
    assert_eq!(after_delete.total, total - after_delete.removed);
    assert!(
        search(&set, "save the spreadsheet into a file on disk")
            .iter()
            .all(|h| !h.symbol.starts_with("Inventory.Report")),
        "a deleted file's definitions are not found"
    );
}

#[test]
fn the_background_embedder_catches_up_after_a_commit() {
    let dir = tempfile::tempdir().unwrap();
    let set = Arc::new(PartitionSet::open(&dir.path().join("index"), PARTITIONS).unwrap());
    set.set_encoder(encoder()).unwrap();
    set.spawn_embedder().unwrap();
    set.ingest_dir("inventory", &inventory(), &IngestOptions::default(), None)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while set.partitions().iter().any(|p| p.vectors_behind()) {
        assert!(
            Instant::now() < deadline,
            "the background embedder did not catch up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Caught up: a synchronous sync finds nothing left to do.
    let done = set.sync_vectors().unwrap();
    assert_eq!(done.embedded, 0, "{done:?}");
    assert!(done.total > 20, "{done:?}");
}

/// A question naming a function with its module asks about that function, with
/// embeddings as without: "what does Lazy.distinct_count return" finds the undocumented
/// `Shop.Lazy.distinct_count/1` a `for` defines, first, though the documented
/// `Shop.Series.distinct_count/1` says every word of the question and is nearer in meaning.
#[test]
fn a_question_naming_a_function_with_its_module_finds_it_first_with_embeddings() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let write = |rel: &str, text: &str| {
        let path = src.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    for i in 0..30 {
        write(
            &format!("lib/util_{i}.ex"),
            &format!(
                "defmodule Shop.Util{i} do\n  @doc \"Helps with stock {i}.\"\n  def help_{i}(x), do: x\nend\n"
            ),
        );
    }
    write(
        "lib/series.ex",
        "defmodule Shop.Series do\n  @doc \"Returns the distinct count: how many distinct values the series holds.\"\n  def distinct_count(series), do: series |> Enum.uniq() |> length()\nend\n",
    );
    write(
        "lib/lazy.ex",
        "defmodule Shop.Lazy do\n  @ops [:sum, :min, :max, :mean, :median, :mode, :count, :distinct_count, :first, :last]\n\n  for op <- @ops do\n    def unquote(op)(series), do: {unquote(op), [series]}\n  end\nend\n",
    );
    let set = PartitionSet::open(&dir.path().join("index"), PARTITIONS).unwrap();
    set.ingest_dir("shop", &src, &IngestOptions::default(), None)
        .unwrap();
    set.set_encoder(encoder()).unwrap();
    set.sync_vectors().unwrap();
    let hits = search(&set, "what does Lazy.distinct_count return");
    let top: Vec<&str> = hits.iter().map(|h| h.symbol.as_str()).collect();
    assert_eq!(top.first(), Some(&"Shop.Lazy.distinct_count/1"), "{top:?}");
    // Its namesake still follows: the question's words are its.
    assert_eq!(
        rank(&hits, "Shop.Series.distinct_count/1"),
        Some(2),
        "{top:?}"
    );
    // Only the function named comes first, not the modules the question mentions, nor
    // another arity than the one it names.
    for (question, named) in [
        (
            "how does Lazy.distinct_count treat a Shop.Series or a Shop.Util3",
            &["Shop.Lazy.distinct_count/1"][..],
        ),
        ("what does Shop.Lazy.distinct_count/2 return", &[][..]),
    ] {
        let hits = search(&set, question);
        let lifted: Vec<(&str, f32)> = (hits.iter())
            .filter(|h| h.score >= 1.0)
            .map(|h| (h.symbol.as_str(), h.score))
            .collect();
        assert_eq!(
            lifted.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            named,
            "{question}: {lifted:?}"
        );
    }
}

#[test]
fn partitions_searched_apart_and_merged_by_score_rank_like_one_search() {
    // What a cluster does: each node ranks the partitions it holds with the statistics of
    // all of them, the gateway merges by score. Fused scores are per chunk, so the merge
    // must equal one search over every partition.
    let dir = tempfile::tempdir().unwrap();
    let set = PartitionSet::open(&dir.path().join("index"), PARTITIONS).unwrap();
    set.ingest_dir("inventory", &inventory(), &IngestOptions::default(), None)
        .unwrap();
    set.set_encoder(encoder()).unwrap();
    set.sync_vectors().unwrap();
    let all: Vec<u32> = (0..PARTITIONS).collect();
    let questions = QUESTIONS.iter().map(|(q, _)| *q).chain([
        "how much does one piece cost",
        "Stock.reserve",
        "what does Stock.reserve return",
    ]);
    for q in questions {
        let request = SearchRequest {
            query: q.into(),
            filters: Filters::default(),
            limit: 5,
        };
        let one: Vec<String> = set
            .search(&request)
            .unwrap()
            .into_iter()
            .map(|h| h.symbol)
            .collect();
        let (stats, _) = set.query_stats(&request, &all).unwrap();
        let mut merged: Vec<SearchHit> = Vec::new();
        for node in [vec![0, 1], vec![2], vec![3]] {
            let answer = set
                .search_partitions_with(&request, &node, Some(&stats))
                .unwrap();
            merged.extend(answer.hits);
        }
        merged.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.chunk.id.cmp(&b.chunk.id))
        });
        let merged: Vec<String> = merged.into_iter().take(5).map(|h| h.symbol).collect();
        assert_eq!(merged, one, "{q}");
    }
}

/// The real model's files in a new directory, with sentence-transformers settings beside,
/// loaded.
fn model_with(dir: &std::path::Path, pooling: Option<&str>, prompts: Option<&str>) -> Encoder {
    std::fs::create_dir(dir).unwrap();
    for name in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::os::unix::fs::symlink(embed_model().join(name), dir.join(name)).unwrap();
    }
    if let Some(p) = pooling {
        std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
        std::fs::write(dir.join("1_Pooling/config.json"), p).unwrap();
    }
    if let Some(p) = prompts {
        std::fs::write(dir.join("config_sentence_transformers.json"), p).unwrap();
    }
    Encoder::load(dir).expect("load the model with its sentence-transformers settings")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn prompts_prefix_queries_and_documents_and_cls_pooling_changes_the_vectors() {
    let plain = encoder();
    let dir = tempfile::tempdir().unwrap();
    let prompted = model_with(
        &dir.path().join("prompted"),
        None,
        Some(r#"{"prompts": {"query": "query: ", "passage": "passage: "}}"#),
    );
    let question = "how do I restock an item";
    let definition = "Inventory.restock(sku, quantity): Adds stock";
    // The prompted model embeds exactly the prefixed texts.
    let q = prompted.embed_query(question).unwrap();
    let q_plain = plain
        .embed(&[&format!("query: {question}")])
        .unwrap()
        .remove(0);
    assert!(cosine(&q, &q_plain) > 0.9999, "{}", cosine(&q, &q_plain));
    let d = prompted.embed(&[definition]).unwrap().remove(0);
    let d_plain = plain
        .embed(&[&format!("passage: {definition}")])
        .unwrap()
        .remove(0);
    assert!(cosine(&d, &d_plain) > 0.9999, "{}", cosine(&d, &d_plain));
    // And differs from the unprompted text's vector, under another fingerprint, so
    // vectors of one are never reused for the other.
    let raw = plain.embed(&[definition]).unwrap().remove(0);
    assert!(cosine(&d, &raw) < 0.999, "{}", cosine(&d, &raw));
    assert_ne!(prompted.fingerprint(), plain.fingerprint());
    // Without prompts the query is embedded as is.
    let q_raw = plain.embed_query(question).unwrap();
    let q_doc = plain.embed(&[question]).unwrap().remove(0);
    assert!(cosine(&q_raw, &q_doc) > 0.9999);

    let cls = model_with(
        &dir.path().join("cls"),
        Some(r#"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#),
        None,
    );
    assert_eq!(cls.pooling(), aiex_node::embed::Pooling::Cls);
    assert_ne!(cls.fingerprint(), plain.fingerprint());
    let texts = [definition, "a different sentence about the weather"];
    let v = cls.embed(&texts).unwrap();
    let m = plain.embed(&texts).unwrap();
    for (c, mean) in v.iter().zip(&m) {
        let norm: f32 = c.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "CLS vector of length {norm}");
        assert!(cosine(c, mean) < 0.999, "CLS equals mean pooling");
    }
    // The [CLS] vector of a text does not depend on the batch it is padded in.
    let alone = cls.embed(&[definition]).unwrap().remove(0);
    assert!(cosine(&alone, &v[0]) > 0.9999, "{}", cosine(&alone, &v[0]));
}
