//! Search-quality evaluation: reads a TSV of (query, expected path, expected symbol), runs
//! every query against Aiex's index and against a naive baseline (BM25 over fixed 40-line
//! windows, as naive RAG systems chunk), and prints recall@1, recall@5 and MRR for both,
//! measured at the same symbol level in the same run: a hit is the chunk that defines the
//! expected function (module and name) for Aiex, and a window overlapping that definition's
//! lines for the baseline.
//!
//! A question with several right answers lists them, paths and symbols alike separated by
//! `|` in the same order (`lib/a.ex|lib/b.ex` and `A.run/1|B.start/2`): any of them counts.
//!
//! With an embedding model (`--embed-model DIR` or `AIEX_EMBED_MODEL`), Aiex is measured
//! twice in the same run: BM25 only, then fused with embedding similarity (after embedding
//! the corpus, which is timed).
//!
//! `cargo run --release -p aiex-bench --bin eval -- [--tsv FILE] [--corpus DIR]
//! [--embed-model DIR] [--data DIR] [--candidates FILE] [--verbose] [--json]`

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use aiex_bench::{CorpusFile, elixir_corpus_dir, load_elixir_files};
use aiex_node::chunk::{Chunk, ChunkerConfig, FileChunks, chunk_file};
use aiex_node::embed::Encoder;
use aiex_node::index::PartitionIndex;
use aiex_node::ingest::PartitionSet;
use aiex_node::search::{Filters, SearchRequest, search_candidates};
use anyhow::{Context, Result, bail};
use clap::Parser;
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{STORED, STRING, Schema, TEXT, Value};
use tantivy::{Index, TantivyDocument, doc};

const WINDOW_LINES: usize = 40;
const DEPTH: usize = 10;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "bench/eval/elixir-stdlib.tsv")]
    tsv: PathBuf,
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Print every query's rank in every system.
    #[arg(long)]
    verbose: bool,
    /// The sentence-embedding model directory (scripts/fetch-embed-model.sh).
    #[arg(long, env = "AIEX_EMBED_MODEL")]
    embed_model: Option<PathBuf>,
    /// Keep the index (and its vectors) here, reusing what a previous run left.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Write every fused-ranking candidate (query, BM25, similarity, kind weight, whether
    /// it is the expected definition) to this TSV, to study the fusion.
    #[arg(long)]
    candidates: Option<PathBuf>,
    /// Print one JSON object (each system's recall@1, recall@5, MRR and ms/query, and
    /// every query's rank in each) instead of the table, for scripts.
    #[arg(long)]
    json: bool,
}

struct Case {
    query: String,
    path: String,
    symbol: String,
}

impl Case {
    /// The right answers: (path, symbol) pairs.
    fn expected(&self) -> impl Iterator<Item = (&str, &str)> {
        self.path.split('|').zip(self.symbol.split('|'))
    }

    /// Whether `chunk` is (a part of) one of the right answers.
    fn is(&self, chunk: &Chunk) -> bool {
        self.expected()
            .any(|(path, symbol)| chunk.path == path && chunk_is(chunk, symbol))
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let corpus = match args.corpus {
        Some(c) => c,
        None => elixir_corpus_dir()?,
    };
    let cases = read_cases(&args.tsv)?;
    let files = load_elixir_files(&corpus)?;
    let by_path: HashMap<&str, &CorpusFile> = files.iter().map(|f| (f.path.as_str(), f)).collect();
    for (path, _) in cases.iter().flat_map(Case::expected) {
        if !by_path.contains_key(path) {
            bail!(
                "{}: expected path {path} is not in the corpus",
                args.tsv.display(),
            );
        }
    }

    // Aiex: the real index, fed with the same files.
    let tmp = tempfile::tempdir()?;
    let data = args.data.clone().unwrap_or_else(|| tmp.path().join("aiex"));
    let set = PartitionSet::open(&data, 8)?;
    let config = ChunkerConfig::default();
    for f in &files {
        set.apply_file("elixir", &f.path, &f.bytes, &config)?;
    }
    set.commit_all()?;

    // Baseline: fixed 40-line windows, BM25 with tantivy's English analyzer.
    let baseline = Baseline::build(&files)?;

    // The baseline's rank of a case: its first window overlapping any right answer.
    let base_ranks: Vec<Option<usize>> = cases
        .iter()
        .map(|case| -> Result<Option<usize>> {
            let mut best: Option<usize> = None;
            for (path, symbol) in case.expected() {
                let target = target_lines(by_path[path], symbol)
                    .with_context(|| format!("{symbol} is not defined in {path}"))?;
                if let Some(rank) = baseline.rank(&case.query, path, target)? {
                    best = Some(best.map_or(rank, |b| b.min(rank)));
                }
            }
            Ok(best)
        })
        .collect::<Result<_>>()?;
    let (bm25_ranks, bm25_micros) = aiex_ranks(&set, &cases)?;

    let mut fused = None;
    if let Some(dir) = &args.embed_model {
        let encoder = Arc::new(Encoder::load(dir)?);
        set.set_encoder(encoder.clone())?;
        let started = Instant::now();
        let done = set.sync_vectors()?;
        let took = started.elapsed();
        let line = format!(
            "embedded {} definitions ({} vectors) in {:.1} s on {} threads",
            done.embedded,
            done.total,
            took.as_secs_f64(),
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        if args.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
        if let Some(path) = &args.candidates {
            write_candidates(&set, &encoder, &cases, path)?;
        }
        fused = Some(aiex_ranks(&set, &cases)?);
    }

    if args.json {
        let system = |ranks: &[Option<usize>], micros: Option<f64>| {
            let m = Metrics::of(ranks);
            serde_json::json!({
                "recall_at_1": m.recall_at_1,
                "recall_at_5": m.recall_at_5,
                "mrr": m.mrr,
                "ms_per_query": micros.map(|m| m / 1000.0),
            })
        };
        let report = serde_json::json!({
            "tsv": args.tsv.display().to_string(),
            "queries": cases.len(),
            "corpus": corpus.display().to_string(),
            "files": files.len(),
            "depth": DEPTH,
            "systems": {
                "aiex_bm25": system(&bm25_ranks, Some(bm25_micros)),
                "aiex_fused": fused.as_ref().map(|(r, micros)| system(r, Some(*micros))),
                "baseline": system(&base_ranks, None),
            },
            "cases": cases.iter().enumerate().map(|(i, case)| serde_json::json!({
                "query": case.query,
                "path": case.path,
                "symbol": case.symbol,
                "rank_bm25": bm25_ranks[i],
                "rank_fused": fused.as_ref().and_then(|(r, _)| r[i]),
                "rank_baseline": base_ranks[i],
            })).collect::<Vec<_>>(),
        });
        println!("{report}");
        return Ok(());
    }
    if args.verbose {
        for (i, case) in cases.iter().enumerate() {
            println!(
                "{:>4} {:>4} {:>4}  {:<60} {}",
                fmt_rank(bm25_ranks[i]),
                fused.as_ref().map_or("".into(), |(r, _)| fmt_rank(r[i])),
                fmt_rank(base_ranks[i]),
                case.query,
                case.symbol,
            );
        }
    }
    println!(
        "queries: {} ({}), corpus: {} ({} files)",
        cases.len(),
        args.tsv.display(),
        corpus.display(),
        files.len()
    );
    println!(
        "{:<40} {:>9} {:>9} {:>7} {:>12}",
        "system", "recall@1", "recall@5", "MRR", "ms/query"
    );
    report("aiex, BM25 only", &bm25_ranks, Some(bm25_micros));
    match &fused {
        Some((ranks, micros)) => report("aiex, BM25 + embeddings", ranks, Some(*micros)),
        None => println!(
            "aiex, BM25 + embeddings: not measured (no --embed-model or AIEX_EMBED_MODEL; scripts/fetch-embed-model.sh)"
        ),
    }
    report("baseline (BM25, 40-line windows)", &base_ranks, None);
    Ok(())
}

/// Aiex's rank of each case's definition (None past [`DEPTH`]) and the mean time per query.
fn aiex_ranks(set: &PartitionSet, cases: &[Case]) -> Result<(Vec<Option<usize>>, f64)> {
    let mut ranks = Vec::with_capacity(cases.len());
    let started = Instant::now();
    for case in cases {
        let hits = set.search(&SearchRequest {
            query: case.query.clone(),
            filters: Filters::default(),
            limit: DEPTH,
        })?;
        ranks.push(hits.iter().position(|h| case.is(&h.chunk)).map(|r| r + 1));
    }
    let micros = started.elapsed().as_micros() as f64 / cases.len().max(1) as f64;
    Ok((ranks, micros))
}

/// Every fused-ranking candidate of every case, as TSV.
fn write_candidates(
    set: &PartitionSet,
    encoder: &Encoder,
    cases: &[Case],
    path: &PathBuf,
) -> Result<()> {
    let held = set.partitions();
    let parts: Vec<&PartitionIndex> = held.iter().map(|p| p.as_ref()).collect();
    // How used each definition is in the corpus: its callers (each arity's distinct
    // callers, summed over its arities) and its best PageRank over the call graph, for
    // trying popularity priors offline.
    let graph = set.graph()?;
    let page_rank: HashMap<String, f64> = graph.rank(&[]).into_iter().collect();
    let usage = |chunk: &Chunk| {
        let mut callers = 0;
        let mut rank = 0.0f64;
        for d in &chunk.defines {
            for a in &d.arities {
                let symbol = format!("{}.{}/{}", d.module, d.name, a);
                callers += graph.callers(&symbol).len();
                rank = rank.max(page_rank.get(&symbol).copied().unwrap_or(0.0));
            }
        }
        (callers, rank)
    };
    let mut out = String::from(
        "case\tbm25\tsimilarity\tweight\ttarget\tsymbol\tcallers\tpagerank\tdoc_chars\tpath\tstart\tend\tcalls\tscore\n",
    );
    for (i, case) in cases.iter().enumerate() {
        let request = SearchRequest {
            query: case.query.clone(),
            filters: Filters::default(),
            limit: DEPTH,
        };
        for c in search_candidates(&parts, &request, Some(encoder))? {
            let target = case.is(&c.chunk);
            let (callers, rank) = usage(&c.chunk);
            out.push_str(&format!(
                "{i}\t{}\t{}\t{}\t{}\t{}\t{callers}\t{rank:e}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                c.bm25,
                c.similarity.map_or("".into(), |s| s.to_string()),
                c.weight,
                u8::from(target),
                c.chunk.display_symbol(),
                c.chunk.doc.as_ref().map_or(0, |d| d.len()),
                c.chunk.path,
                c.chunk.start_line,
                c.chunk.end_line,
                c.chunk.calls.join(" "),
                c.score
            ));
        }
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn fmt_rank(r: Option<usize>) -> String {
    r.map_or("-".into(), |r| r.to_string())
}

/// Recall@1, recall@5 and mean reciprocal rank of 1-based ranks (None: not found within
/// [`DEPTH`], counting 0).
#[derive(Debug, PartialEq)]
struct Metrics {
    recall_at_1: f64,
    recall_at_5: f64,
    mrr: f64,
}

impl Metrics {
    fn of(ranks: &[Option<usize>]) -> Metrics {
        let n = ranks.len().max(1) as f64;
        let at = |k: usize| ranks.iter().filter(|r| r.is_some_and(|r| r <= k)).count() as f64 / n;
        let mrr = ranks
            .iter()
            .map(|r| r.map_or(0.0, |r| 1.0 / r as f64))
            .sum::<f64>()
            / n;
        Metrics {
            recall_at_1: at(1),
            recall_at_5: at(5),
            mrr,
        }
    }
}

fn report(name: &str, ranks: &[Option<usize>], micros: Option<f64>) {
    let m = Metrics::of(ranks);
    let ms = micros.map_or("-".into(), |m| format!("{:.2}", m / 1000.0));
    println!(
        "{name:<40} {:>9.3} {:>9.3} {:>7.3} {:>12}",
        m.recall_at_1, m.recall_at_5, m.mrr, ms
    );
}

fn read_cases(path: &PathBuf) -> Result<Vec<Case>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 3 {
            bail!(
                "{}:{}: expected 3 tab-separated columns, found {}",
                path.display(),
                i + 1,
                cols.len()
            );
        }
        if cols[1].split('|').count() != cols[2].split('|').count() {
            bail!(
                "{}:{}: as many `|`-separated paths as symbols are expected",
                path.display(),
                i + 1
            );
        }
        cases.push(Case {
            query: cols[0].to_string(),
            path: cols[1].to_string(),
            symbol: cols[2].to_string(),
        });
    }
    Ok(cases)
}

/// Whether a chunk is (a part of) a definition of the function `symbol` names. The match is
/// by module and function name: `Mod.fun/4` is also found through the `Mod.fun/2` clause
/// group that carries the docs (Elixir documents one arity and delegates the others).
fn chunk_is(chunk: &Chunk, symbol: &str) -> bool {
    let qual = symbol.rsplit_once('/').map_or(symbol, |(q, _)| q);
    let Some((module, name)) = qual.rsplit_once('.') else {
        return false;
    };
    if chunk
        .defines
        .iter()
        .any(|d| d.module == module && d.name == name)
    {
        return true;
    }
    chunk.part.is_some() && chunk.module == module && chunk.name == name
}

/// The line range of the definition of `symbol` in a file, from the chunker.
fn target_lines(file: &CorpusFile, symbol: &str) -> Option<(u32, u32)> {
    let FileChunks::Chunked(chunks) =
        chunk_file("elixir", &file.path, &file.bytes, &ChunkerConfig::default())
    else {
        return None;
    };
    let defining: Vec<&Chunk> = chunks.iter().filter(|c| chunk_is(c, symbol)).collect();
    let start = defining.iter().map(|c| c.start_line).min()?;
    let end = defining.iter().map(|c| c.end_line).max()?;
    Some((start, end))
}

struct Baseline {
    index: Index,
    parser: QueryParser,
    path: tantivy::schema::Field,
    start: tantivy::schema::Field,
    end: tantivy::schema::Field,
}

impl Baseline {
    fn build(files: &[CorpusFile]) -> Result<Baseline> {
        let mut schema = Schema::builder();
        let path = schema.add_text_field("path", STRING | STORED);
        let body = schema.add_text_field(
            "body",
            TEXT.set_indexing_options(
                tantivy::schema::TextFieldIndexing::default()
                    .set_tokenizer("en_stem")
                    .set_index_option(tantivy::schema::IndexRecordOption::WithFreqsAndPositions),
            ),
        );
        let start = schema.add_u64_field("start", STORED);
        let end = schema.add_u64_field("end", STORED);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer::<TantivyDocument>(100_000_000)?;
        for f in files {
            let text = String::from_utf8_lossy(&f.bytes);
            let lines: Vec<&str> = text.lines().collect();
            for (w, window) in lines.chunks(WINDOW_LINES).enumerate() {
                let first = (w * WINDOW_LINES + 1) as u64;
                writer.add_document(doc!(
                    path => f.path.as_str(),
                    body => window.join("\n"),
                    start => first,
                    end => first + window.len() as u64 - 1,
                ))?;
            }
        }
        writer.commit()?;
        let parser = QueryParser::for_index(&index, vec![body]);
        Ok(Baseline {
            index,
            parser,
            path,
            start,
            end,
        })
    }

    /// Rank of the first window in `path` overlapping `target` lines.
    fn rank(&self, query: &str, path: &str, target: (u32, u32)) -> Result<Option<usize>> {
        let cleaned: String = query
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == ' ' {
                    c
                } else {
                    ' '
                }
            })
            .collect();
        let (q, _errors) = self.parser.parse_query_lenient(&cleaned);
        let searcher = self.index.reader()?.searcher();
        let top = searcher.search(&q, &TopDocs::with_limit(DEPTH).order_by_score())?;
        for (i, (_, addr)) in top.into_iter().enumerate() {
            let d: TantivyDocument = searcher.doc(addr)?;
            let p = d
                .get_first(self.path)
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let s = d
                .get_first(self.start)
                .and_then(|v| v.as_u64())
                .unwrap_or(0) as u32;
            let e = d.get_first(self.end).and_then(|v| v.as_u64()).unwrap_or(0) as u32;
            if p == path && s <= target.1 && e >= target.0 {
                return Ok(Some(i + 1));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_count_ranks_within_one_and_five_and_their_reciprocals() {
        let m = Metrics::of(&[Some(1), Some(3), Some(6), None]);
        assert_eq!(m.recall_at_1, 0.25);
        assert_eq!(m.recall_at_5, 0.5);
        assert!((m.mrr - (1.0 + 1.0 / 3.0 + 1.0 / 6.0) / 4.0).abs() < 1e-12);
        assert_eq!(
            Metrics::of(&[]),
            Metrics {
                recall_at_1: 0.0,
                recall_at_5: 0.0,
                mrr: 0.0
            }
        );
    }
    /// A case with several answers is answered by a chunk of any of them, in its own file.
    #[test]
    fn any_of_several_answers_counts() {
        let tsv = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            tsv.path(),
            "query\tpath\tsymbol\nq\tlib/a.ex|lib/b.ex\tA.run/1|B.go/2\n",
        )
        .unwrap();
        let cases = read_cases(&tsv.path().to_path_buf()).unwrap();
        let chunks = |path: &str, src: &str| match chunk_file(
            "elixir",
            path,
            src.as_bytes(),
            &ChunkerConfig::default(),
        ) {
            FileChunks::Chunked(c) => c,
            FileChunks::Skipped(r) => panic!("{r}"),
        };
        let a = chunks("lib/a.ex", "defmodule A do\n  def run(x), do: x\nend\n");
        let b = chunks(
            "lib/b.ex",
            "defmodule B do\n  def go(x, y), do: {x, y}\nend\n",
        );
        let elsewhere = chunks(
            "lib/c.ex",
            "defmodule B do\n  def go(x, y), do: {x, y}\nend\n",
        );
        let answers = |cs: &[Chunk]| cs.iter().any(|c| cases[0].is(c));
        assert!(answers(&a) && answers(&b) && !answers(&elsewhere));

        std::fs::write(
            tsv.path(),
            "query\tpath\tsymbol\nq\tlib/a.ex\tA.run/1|B.go/2\n",
        )
        .unwrap();
        let err = read_cases(&tsv.path().to_path_buf())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("as many `|`-separated paths as symbols"),
            "{err}"
        );
    }
}
