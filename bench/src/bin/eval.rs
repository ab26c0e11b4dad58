//! Search-quality evaluation: reads a TSV of (query, expected path, expected symbol), runs
//! every query against Aiex's index and against a naive baseline (BM25 over fixed 40-line
//! windows, as naive RAG systems chunk), and prints recall@1, recall@5 and MRR for both,
//! measured at the same symbol level in the same run: a hit is the chunk that defines the
//! expected function (module and name) for Aiex, and a window overlapping that definition's
//! lines for the baseline.
//!
//! `cargo run --release -p aiex-bench --bin eval -- [--tsv FILE] [--corpus DIR] [--verbose]`

use std::collections::HashMap;
use std::path::PathBuf;

use aiex_bench::{CorpusFile, elixir_corpus_dir, load_elixir_files};
use aiex_node::chunk::{Chunk, ChunkerConfig, FileChunks, chunk_file};
use aiex_node::ingest::PartitionSet;
use aiex_node::search::{Filters, SearchRequest};
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
    /// Print every query's rank in both systems.
    #[arg(long)]
    verbose: bool,
}

struct Case {
    query: String,
    path: String,
    symbol: String,
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
    for c in &cases {
        if !by_path.contains_key(c.path.as_str()) {
            bail!(
                "{}: expected path {} is not in the corpus",
                args.tsv.display(),
                c.path
            );
        }
    }

    // Aiex: the real index, fed with the same files.
    let tmp = tempfile::tempdir()?;
    let set = PartitionSet::open(&tmp.path().join("aiex"), 8)?;
    let config = ChunkerConfig::default();
    for f in &files {
        set.apply_file("elixir", &f.path, &f.bytes, &config)?;
    }
    set.commit_all()?;

    // Baseline: fixed 40-line windows, BM25 with tantivy's English analyzer.
    let baseline = Baseline::build(&files)?;

    let mut aiex_ranks = Vec::new();
    let mut base_ranks = Vec::new();
    for case in &cases {
        let target = target_lines(by_path[case.path.as_str()], &case.symbol)
            .with_context(|| format!("{} is not defined in {}", case.symbol, case.path))?;
        let hits = set.search(&SearchRequest {
            query: case.query.clone(),
            filters: Filters::default(),
            limit: DEPTH,
        })?;
        let aiex_rank = hits
            .iter()
            .position(|h| h.chunk.path == case.path && chunk_is(&h.chunk, &case.symbol))
            .map(|r| r + 1);
        let base_rank = baseline.rank(&case.query, &case.path, target)?;
        if args.verbose {
            let top = hits.first().map(|h| h.symbol.as_str()).unwrap_or("-");
            println!(
                "{:>4} {:>4}  {:<60} {:<40} top: {}",
                fmt_rank(aiex_rank),
                fmt_rank(base_rank),
                case.query,
                case.symbol,
                top
            );
        }
        aiex_ranks.push(aiex_rank);
        base_ranks.push(base_rank);
    }
    println!(
        "queries: {} ({}), corpus: {} ({} files)",
        cases.len(),
        args.tsv.display(),
        corpus.display(),
        files.len()
    );
    println!(
        "{:<34} {:>9} {:>9} {:>7}",
        "system", "recall@1", "recall@5", "MRR"
    );
    report("aiex (semantic chunks)", &aiex_ranks);
    report("baseline (BM25, 40-line windows)", &base_ranks);
    Ok(())
}

fn fmt_rank(r: Option<usize>) -> String {
    r.map_or("-".into(), |r| r.to_string())
}

fn report(name: &str, ranks: &[Option<usize>]) {
    let n = ranks.len() as f64;
    let at = |k: usize| ranks.iter().filter(|r| r.is_some_and(|r| r <= k)).count() as f64 / n;
    let mrr = ranks
        .iter()
        .map(|r| r.map_or(0.0, |r| 1.0 / r as f64))
        .sum::<f64>()
        / n;
    println!("{name:<34} {:>9.3} {:>9.3} {:>7.3}", at(1), at(5), mrr);
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
