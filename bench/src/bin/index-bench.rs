//! Index and search benchmarks, each step a separate process so peak memory is its own.
//!
//! - `prepare --copies N --out DIR`: the Elixir corpus's `.ex`/`.exs` files, N times under
//!   distinct paths (`copy_000/...`).
//! - `parse --corpus DIR`: parse-only throughput (tree-sitter, one thread): the baseline.
//! - `index --corpus DIR --data DIR --threads T`: end-to-end index build (walk, hash, chunk,
//!   index, commit); run twice on the same data dir to time a re-index of unchanged files.
//! - `search --corpus DIR --data DIR`: latency of a fixed query mix on the index vs `rg`
//!   over the same raw files, same terms, same run.
//!
//! Every step prints one JSON line; `bench/run.sh` runs them and prints the report.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use aiex_bench::{QUERY_MIX, elixir_corpus_dir, load_elixir_files, mb_per_s, percentile};
use aiex_node::ingest::{IngestOptions, PartitionSet};
use aiex_node::search::{Filters, SearchRequest};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::json;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    step: Step,
}

#[derive(Subcommand)]
enum Step {
    Prepare {
        #[arg(long)]
        copies: usize,
        #[arg(long)]
        out: PathBuf,
    },
    Parse {
        #[arg(long)]
        corpus: PathBuf,
    },
    Index {
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Build from scratch this many times (the data dir is wiped first) and report the
        /// fastest; with 1, an existing index in the data dir is updated incrementally.
        #[arg(long, default_value_t = 1)]
        fresh_runs: usize,
        #[arg(long, default_value_t = aiex_proto::partition::DEFAULT_EMBEDDED_PARTITIONS)]
        partitions: u32,
        /// Writer threads [default: as `aiex index` chooses, on cores the workers leave
        /// idle]; 0: the workers write their own files.
        #[arg(long)]
        writers: Option<usize>,
    },
    Search {
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = aiex_proto::partition::DEFAULT_EMBEDDED_PARTITIONS)]
        partitions: u32,
        /// Timed runs of each query.
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
    /// Where an index's bytes go: each field's terms, term dictionary and postings, and
    /// the document store, summed over the partitions.
    Space {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = aiex_proto::partition::DEFAULT_EMBEDDED_PARTITIONS)]
        partitions: u32,
    },
}

/// CPU time this process has used (user and system, all threads), in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given; a zeroed rusage is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    aiex_node::alloc::init();
    match Args::parse().step {
        Step::Prepare { copies, out } => prepare(copies, &out),
        Step::Parse { corpus } => parse(&corpus),
        Step::Index {
            corpus,
            data,
            threads,
            fresh_runs,
            partitions,
            writers,
        } => index(&corpus, &data, threads, fresh_runs, partitions, writers),
        Step::Search {
            corpus,
            data,
            partitions,
            runs,
        } => search(&corpus, &data, partitions, runs),
        Step::Space { data, partitions } => space(&data, partitions),
    }
}

fn prepare(copies: usize, out: &Path) -> Result<()> {
    let src = elixir_corpus_dir()?;
    let files = load_elixir_files(&src)?;
    let mut bytes = 0usize;
    for c in 0..copies {
        for f in &files {
            let dest = out.join(format!("copy_{c:03}")).join(&f.path);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            if !dest.exists() {
                std::fs::write(&dest, &f.bytes)?;
            }
            bytes += f.bytes.len();
        }
    }
    println!(
        "{}",
        json!({"step": "prepare", "copies": copies, "files": files.len() * copies, "bytes": bytes, "dir": out})
    );
    Ok(())
}

fn parse(corpus: &Path) -> Result<()> {
    let files = load_elixir_files(corpus)?;
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    let secs = aiex_bench::best_of(3, || {
        for f in &files {
            std::hint::black_box(aiex_node::chunk::parse(&f.bytes));
        }
    });
    println!(
        "{}",
        json!({"step": "parse", "bytes": bytes, "seconds": secs, "mb_s": mb_per_s(bytes, secs)})
    );
    Ok(())
}

fn index(
    corpus: &Path,
    data: &Path,
    threads: usize,
    fresh_runs: usize,
    partitions: u32,
    writers: Option<usize>,
) -> Result<()> {
    let options = IngestOptions {
        threads,
        writers,
        ..IngestOptions::default()
    };
    // The fastest build: its seconds, CPU seconds and counters.
    let mut best: Option<(f64, f64, aiex_node::ingest::IngestStats)> = None;
    // With several fresh runs, parse-only runs are interleaved with the builds, so both
    // rates come from the same moments of this (shared) machine.
    let files = if fresh_runs > 1 {
        load_elixir_files(corpus)?
    } else {
        Vec::new()
    };
    let mut parse_best = f64::INFINITY;
    // Parsing alone on as many threads as the build: what the cores give when they only
    // parse, the ceiling of a build whose every file must be parsed.
    let mut parse_threads_best = f64::INFINITY;
    for _ in 0..fresh_runs.max(1) {
        if !files.is_empty() {
            parse_best = parse_best.min(aiex_bench::best_of(1, || {
                for f in &files {
                    std::hint::black_box(aiex_node::chunk::parse(&f.bytes));
                }
            }));
            if threads > 1 {
                parse_threads_best = parse_threads_best
                    .min(aiex_bench::best_of(1, || parse_on_threads(&files, threads)));
            }
        }
        if fresh_runs > 1 && data.exists() {
            std::fs::remove_dir_all(data).with_context(|| format!("wiping {}", data.display()))?;
        }
        let set = PartitionSet::open(data, partitions)?;
        let (started, cpu_started) = (Instant::now(), cpu_seconds());
        let stats = set.ingest_dir("bench", corpus, &options, None)?;
        let secs = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_started;
        if best.as_ref().is_none_or(|(b, _, _)| secs < *b) {
            best = Some((secs, cpu, stats));
        }
    }
    let (secs, cpu, stats) = best.expect("at least one run");
    let set = PartitionSet::open(data, partitions)?;
    let parsed: usize = files.iter().map(|f| f.bytes.len()).sum();
    let parse_mb_s = parse_best.is_finite().then(|| mb_per_s(parsed, parse_best));
    let parse_threads_mb_s = if threads == 1 {
        parse_mb_s
    } else {
        parse_threads_best
            .is_finite()
            .then(|| mb_per_s(parsed, parse_threads_best))
    };
    println!(
        "{}",
        json!({
            "step": "index",
            "threads": threads,
            "writers": writers,
            "fresh_runs": fresh_runs,
            "seconds": secs,
            // Cores the build kept busy on average: its CPU time over its wall time.
            "cpus_used": cpu / secs,
            "bytes": stats.bytes,
            "mb_s": mb_per_s(stats.bytes as usize, secs),
            "parse_only_mb_s": parse_mb_s,
            "ratio_to_parse_only": parse_mb_s.map(|p| mb_per_s(stats.bytes as usize, secs) / p),
            "parse_only_same_threads_mb_s": parse_threads_mb_s,
            "ratio_to_parse_only_same_threads":
                parse_threads_mb_s.map(|p| mb_per_s(stats.bytes as usize, secs) / p),
            "files": stats.files_seen,
            "indexed": stats.files_indexed,
            "unchanged": stats.files_unchanged,
            "chunks": stats.chunks,
            "walk_ms": stats.walk_millis,
            "process_ms": stats.process_millis,
            "commit_ms": stats.commit_millis,
            "index_bytes": set.size_on_disk(),
            "peak_rss_bytes": peak_rss_bytes(),
        })
    );
    Ok(())
}

/// Parses every file once on `threads` threads, each taking the next file.
fn parse_on_threads(files: &[aiex_bench::CorpusFile], threads: usize) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(f) =
                    files.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    std::hint::black_box(aiex_node::chunk::parse(&f.bytes));
                }
            });
        }
    });
}

fn search(corpus: &Path, data: &Path, partitions: u32, runs: usize) -> Result<()> {
    if Command::new("rg")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        bail!("ripgrep (rg) is not installed: apt-get install ripgrep");
    }
    let set = PartitionSet::open(data, partitions)?;
    if set.repos().is_empty() {
        bail!(
            "{} holds no index: run the index step first",
            data.display()
        );
    }
    let mut aiex_all = Vec::new();
    let mut rg_all = Vec::new();
    for (query, literal) in QUERY_MIX {
        let request = SearchRequest {
            query: query.to_string(),
            filters: Filters::default(),
            limit: 10,
        };
        set.search(&request)?; // warm
        for _ in 0..runs {
            let t = Instant::now();
            let hits = set.search(&request)?;
            aiex_all.push(t.elapsed().as_secs_f64());
            std::hint::black_box(hits);
        }
        // rg: the same literal over the same files; warm once, then fewer timed runs.
        let rg = |_: ()| -> Result<f64> {
            let t = Instant::now();
            let status = Command::new("rg")
                .args([
                    "-F",
                    "-i",
                    "-n",
                    "--no-heading",
                    "-g",
                    "*.{ex,exs}",
                    literal,
                ])
                .arg(corpus)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .context("running rg")?;
            if status.code() == Some(2) {
                bail!("rg failed on {literal:?}");
            }
            Ok(t.elapsed().as_secs_f64())
        };
        rg(())?;
        for _ in 0..(runs / 5).max(3) {
            rg_all.push(rg(())?);
        }
    }
    aiex_all.sort_by(f64::total_cmp);
    rg_all.sort_by(f64::total_cmp);
    let (a50, a99) = (percentile(&aiex_all, 0.5), percentile(&aiex_all, 0.99));
    let (r50, r99) = (percentile(&rg_all, 0.5), percentile(&rg_all, 0.99));
    println!(
        "{}",
        json!({
            "step": "search",
            "queries": QUERY_MIX.len(),
            "aiex_p50_ms": a50 * 1e3, "aiex_p99_ms": a99 * 1e3,
            "rg_p50_ms": r50 * 1e3, "rg_p99_ms": r99 * 1e3,
            "speedup_p50": r50 / a50, "speedup_p99": r99 / a99,
        })
    );
    Ok(())
}

fn space(data: &Path, partitions: u32) -> Result<()> {
    let set = PartitionSet::open(data, partitions)?;
    // field -> (terms, term dictionary bytes, postings bytes)
    let mut fields: std::collections::BTreeMap<String, (u64, u64, u64)> = Default::default();
    let mut store = 0u64;
    let mut total = 0u64;
    for partition in set.partitions() {
        let searcher = partition.searcher();
        let schema = searcher.schema().clone();
        let usage = searcher.space_usage()?;
        total += usage.total().get_bytes();
        for (segment, reader) in usage.segments().iter().zip(searcher.segment_readers()) {
            store += segment.store().total().get_bytes();
            for (field, entry) in schema.fields() {
                if !entry.is_indexed() {
                    continue;
                }
                let terms = reader.inverted_index(field)?.terms().num_terms() as u64;
                let bytes = |per: &tantivy::space_usage::PerFieldSpaceUsage| {
                    per.fields()
                        .filter(|u| u.field_name() == entry.name())
                        .map(|u| u.total().get_bytes())
                        .sum::<u64>()
                };
                let dict = bytes(segment.termdict());
                let postings = bytes(segment.postings());
                let e = fields.entry(entry.name().to_string()).or_default();
                e.0 += terms;
                e.1 += dict;
                e.2 += postings;
            }
        }
    }
    let fields: Vec<_> = fields
        .into_iter()
        .map(|(name, (terms, dict, postings))| {
            json!({"field": name, "terms": terms, "termdict_bytes": dict, "postings_bytes": postings})
        })
        .collect();
    println!(
        "{}",
        json!({"step": "space", "total_bytes": total, "store_bytes": store, "fields": fields})
    );
    Ok(())
}
