//! What the CLI prints: readable text for people, `--json` for scripts.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use aiex_node::chunk::Chunk;
use aiex_node::graph::{SymbolGraph, SymbolSite};
use aiex_node::ingest::{IngestProgress, IngestStats, PartitionSet, RepoSummary};
use aiex_node::search::{SearchHit, SearchRequest};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::SymbolsCommand;

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn paint(s: &str, code: &str) -> String {
    if color() {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

pub fn progress_bar(progress: Arc<IngestProgress>) -> ProgressBar {
    let bar = ProgressBar::new(progress.files_total.load(Ordering::Relaxed).max(1));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files  {msg}",
        )
        .expect("valid template"),
    );
    bar
}

pub fn tick(bar: &ProgressBar, progress: &IngestProgress, started: Instant) {
    let total = progress.files_total.load(Ordering::Relaxed);
    let done = progress.files_done.load(Ordering::Relaxed);
    let bytes = progress.bytes_done.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64().max(1e-3);
    bar.set_length(total.max(1));
    bar.set_position(done);
    bar.set_message(format!(
        "{:.0} files/s  {:.1} MB/s",
        done as f64 / secs,
        bytes as f64 / 1e6 / secs
    ));
}

pub fn ingest_summary(
    repo: &str,
    s: &IngestStats,
    elapsed: Duration,
    set: &PartitionSet,
    json: bool,
) -> Result<()> {
    if json {
        let v = json!({
            "repository": repo,
            "stats": s,
            "seconds": elapsed.as_secs_f64(),
            "index_bytes": set.size_on_disk(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let secs = elapsed.as_secs_f64().max(1e-6);
    println!(
        "{} {repo}: {} files seen, {} indexed ({} chunks), {} unchanged, {} deleted, {} skipped ({} binary, {} too large), {} failed",
        paint("indexed", "1;32"),
        s.files_seen,
        s.files_indexed,
        s.chunks,
        s.files_unchanged,
        s.files_deleted,
        s.files_skipped_binary + s.files_skipped_large,
        s.files_skipped_binary,
        s.files_skipped_large,
        s.files_failed
    );
    println!(
        "{:.2} MB in {:.2} s ({:.1} MB/s, {:.0} files/s); index {:.1} MB in {}",
        s.bytes as f64 / 1e6,
        secs,
        s.bytes as f64 / 1e6 / secs,
        s.files_seen as f64 / secs,
        set.size_on_disk() as f64 / 1e6,
        set.dir().display()
    );
    Ok(())
}

/// Highlights the query's words (case-insensitively) in a line.
fn highlight(line: &str, words: &[String]) -> String {
    if !color() || words.is_empty() {
        return line.to_string();
    }
    let lower = line.to_lowercase();
    if lower.len() != line.len() {
        return line.to_string();
    }
    let mut marks = vec![false; line.len()];
    for w in words {
        let mut from = 0;
        while let Some(i) = lower[from..].find(w.as_str()) {
            let s = from + i;
            for m in &mut marks[s..s + w.len()] {
                *m = true;
            }
            from = s + w.len();
        }
    }
    let mut out = String::new();
    let mut on = false;
    for (i, c) in line.char_indices() {
        if marks[i] != on {
            out.push_str(if marks[i] { "\x1b[1;33m" } else { "\x1b[0m" });
            on = marks[i];
        }
        out.push(c);
    }
    if on {
        out.push_str("\x1b[0m");
    }
    out
}

pub fn search_results(
    request: &SearchRequest,
    hits: &[SearchHit],
    took: Duration,
    json: bool,
) -> Result<()> {
    if json {
        let v: Vec<_> = hits
            .iter()
            .map(|h| {
                json!({
                    "score": h.score,
                    "repository": h.chunk.repo,
                    "path": h.chunk.path,
                    "start_line": h.chunk.start_line,
                    "end_line": h.chunk.end_line,
                    "module": h.chunk.module,
                    "symbol": h.symbol,
                    "kind": h.chunk.kind,
                    "snippet": h.snippet,
                    "snippet_start_line": h.snippet_start_line,
                    "chunk_id": h.chunk.id,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"query": request.query, "hits": v, "took_micros": took.as_micros() as u64})
            )?
        );
        return Ok(());
    }
    if hits.is_empty() {
        println!("no results for {:?}", request.query);
        return Ok(());
    }
    let words: Vec<String> = request
        .query
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
        .collect();
    let mut out = std::io::stdout().lock();
    for (i, h) in hits.iter().enumerate() {
        writeln!(
            out,
            "{:>2}. {}:{}  {}  {}  {}",
            i + 1,
            paint(&format!("{}/{}", h.chunk.repo, h.chunk.path), "35"),
            paint(&h.chunk.start_line.to_string(), "32"),
            paint(&h.symbol, "1"),
            paint(h.chunk.kind.as_str(), "2"),
            paint(&format!("{:.2}", h.score), "2"),
        )?;
        for (k, line) in h.snippet.lines().enumerate() {
            writeln!(
                out,
                "    {} {}",
                paint(&format!("{:>5}", h.snippet_start_line as usize + k), "2"),
                highlight(line, &words)
            )?;
        }
    }
    writeln!(
        out,
        "{} results in {:.1} ms",
        hits.len(),
        took.as_secs_f64() * 1e3
    )?;
    Ok(())
}

pub fn chunks(chunks: &[Chunk], json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(chunks)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    for c in chunks {
        let arities = if c.arities.is_empty() {
            String::new()
        } else {
            format!(" arities {:?}", c.arities)
        };
        let part = c
            .part
            .map(|(k, n)| format!(" part {k}/{n}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>5}-{:<5} {:<13} {}{}{}{}{}",
            c.start_line,
            c.end_line,
            c.kind.as_str(),
            paint(&c.display_symbol(), "1"),
            arities,
            part,
            if c.has_error {
                paint(" has_error", "31")
            } else {
                String::new()
            },
            if c.tags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", c.tags.join(", "))
            },
        )?;
        if !c.signature.is_empty() && c.kind != aiex_node::chunk::ChunkKind::ModuleHeader {
            writeln!(out, "              sig  {}", c.signature)?;
        }
        if let Some(doc) = &c.doc {
            let first = doc.lines().next().unwrap_or("");
            writeln!(out, "              doc  {first}")?;
        }
        for s in &c.specs {
            writeln!(out, "              spec {s}")?;
        }
        if c.defines.len() > 1 {
            let syms: Vec<String> = c.defines.iter().flat_map(|d| d.symbols()).collect();
            writeln!(out, "              defs {}", syms.join(", "))?;
        }
        if !c.calls.is_empty() {
            writeln!(out, "              calls {}", c.calls.join(", "))?;
        }
    }
    Ok(())
}

pub fn repo_list(repos: &[RepoSummary], json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(repos)?);
        return Ok(());
    }
    if repos.is_empty() {
        println!("no repositories indexed: run `aiex index PATH`");
    }
    for r in repos {
        println!(
            "{:<30} {:>7} files {:>8} chunks {:>9.2} MB",
            r.repo,
            r.files,
            r.chunks,
            r.bytes as f64 / 1e6
        );
    }
    Ok(())
}

fn sites(sites: &[SymbolSite], json: bool, empty: &str) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(sites)?);
    } else if sites.is_empty() {
        println!("{empty}");
    } else {
        for s in sites {
            println!(
                "{}:{}  {}  {}",
                paint(&format!("{}/{}", s.repo, s.path), "35"),
                paint(&s.start_line.to_string(), "32"),
                paint(&s.symbol, "1"),
                s.signature
            );
        }
    }
    Ok(())
}

pub fn symbols(graph: &SymbolGraph, command: SymbolsCommand) -> Result<()> {
    match command {
        SymbolsCommand::Def { symbol, json } => sites(
            &graph.definitions(&symbol),
            json,
            &format!("no definition of {symbol} is indexed"),
        ),
        SymbolsCommand::Callers { symbol, json } => sites(
            &graph.callers(&symbol),
            json,
            &format!("no indexed code calls {symbol}"),
        ),
        SymbolsCommand::Callees { symbol, json } => {
            let callees = graph.callees(&symbol);
            if json {
                println!("{}", serde_json::to_string_pretty(&callees)?);
            } else if callees.is_empty() {
                println!("{symbol} calls nothing that Aiex can name (or is not indexed)");
            } else {
                for c in callees {
                    println!("{c}");
                }
            }
            Ok(())
        }
        SymbolsCommand::Map {
            tokens,
            focus,
            json,
        } => {
            let (map, used) = graph.repo_map(tokens, &focus);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({"map": map, "tokens": used}))?
                );
            } else {
                print!("{map}");
                eprintln!("({used} tokens of {tokens})");
            }
            Ok(())
        }
    }
}
