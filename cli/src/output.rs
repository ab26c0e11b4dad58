//! What the CLI prints: readable text for people, `--json` for scripts.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use aiex_node::chunk::Chunk;
use aiex_node::graph::SymbolGraph;
use aiex_node::graph::sites::MAX_CALL_LINES;
use aiex_node::ingest::{IngestProgress, IngestStats, PartitionSet};
use aiex_proto::v1 as pb;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::SymbolsCommand;
use crate::client::LocalCounts;

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

/// A bar for the embedding stage: definitions embedded of those found to embed.
pub fn embed_bar() -> ProgressBar {
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} definitions embedded",
        )
        .expect("valid template"),
    );
    bar
}

pub fn embed_tick(bar: &ProgressBar, progress: &aiex_node::index::EmbedProgress) {
    // `done` first: a partition counts what it wants before what it embeds, so the
    // position never passes the length.
    let done = progress.done.load(Ordering::Acquire);
    let wanted = progress.wanted.load(Ordering::Acquire);
    bar.set_length(wanted.max(done).max(1));
    bar.set_position(done);
}

/// What the embedding stage after an offline index did.
#[derive(Debug, serde::Serialize)]
pub struct Embedded {
    pub definitions: usize,
    pub vectors: usize,
    pub seconds: f64,
}

pub fn ingest_summary(
    repo: &str,
    s: &IngestStats,
    elapsed: Duration,
    embedding: Option<Embedded>,
    set: &PartitionSet,
    json: bool,
) -> Result<()> {
    passed_over_warnings(&s.passed_over, s.files_passed_over);
    skipped_notes(s);
    if s.files_seen == 0 {
        eprintln!("{}", nothing_found_warning(repo));
    } else if s.files_skipped() + s.files_failed >= s.files_seen {
        eprintln!(
            "{}",
            nothing_indexed_warning(repo, s.files_seen, ", as listed above")
        );
    }
    if json {
        // The same top-level counts as `aiex repo add --json` and `repo status --json`, so
        // a script reads either mode alike; `stats` has the finer ones. `seconds` is the
        // indexing alone, `total_seconds` the command with its embedding stage;
        // `index_bytes` is the whole offline index (every repository in it).
        let total = elapsed.as_secs_f64() + embedding.as_ref().map_or(0.0, |e| e.seconds);
        let v = json!({
            "repository": repo,
            "state": "ready",
            "files_seen": s.files_seen,
            "files_unchanged": s.files_unchanged,
            "files_indexed": s.files_indexed,
            "files_skipped": s.files_skipped() + s.files_passed_over,
            "files_failed": s.files_failed,
            "files_deleted": s.files_deleted,
            "files_passed_over": s.files_passed_over,
            "bytes": s.bytes,
            "chunks": s.chunks,
            "total_seconds": total,
            "stats": s,
            "seconds": elapsed.as_secs_f64(),
            "embedding": embedding,
            "index_bytes": set.size_on_disk(),
            "repositories_in_index": set.repos().iter().filter(|r| r.files > 0).count(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let secs = elapsed.as_secs_f64().max(1e-6);
    let passed = if s.files_passed_over > 0 {
        format!(", {} passed over (see the warnings)", s.files_passed_over)
    } else {
        String::new()
    };
    println!(
        "{} {repo}: {} files seen, {} indexed ({} chunks), {} unchanged, {} deleted, {} skipped ({} binary, {} too large, {} minified, {} credentials), {} failed{passed}",
        paint("indexed", "1;32"),
        s.files_seen,
        s.files_indexed,
        s.chunks,
        s.files_unchanged,
        s.files_deleted,
        s.files_skipped(),
        s.files_skipped_binary,
        s.files_skipped_large,
        s.files_skipped_minified,
        s.files_skipped_secret,
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

/// What `aiex index` and `aiex repo add` say when the walk found no file at all.
pub fn nothing_found_warning(repo: &str) -> String {
    format!(
        "warning: no file found to index in {repo} (the directory is empty, or every file \
         in it is ignored by .gitignore or passed over): nothing of it can be searched"
    )
}

/// What `aiex index` and `aiex repo add` say when every file the walk found was skipped
/// or could not be read; `why` says where the reasons are.
pub fn nothing_indexed_warning(repo: &str, seen: u64, why: &str) -> String {
    let files = if seen == 1 { "file" } else { "files" };
    format!(
        "warning: none of the {seen} {files} found in {repo} could be indexed (each was \
         skipped or unreadable{why}): nothing of it can be searched"
    )
}

/// Names on stderr the files that could not be read (each a warning) and the first few
/// skipped ones; `--json` lists the first [`aiex_node::ingest::SKIPPED_LISTED`] of each.
fn skipped_notes(s: &IngestStats) {
    for entry in &s.failed {
        eprintln!("warning: {}", shown(entry));
    }
    let more = s.files_failed.saturating_sub(s.failed.len() as u64);
    if more > 0 {
        eprintln!("warning: and {more} more files could not be read");
    }
    const SHOWN: usize = 5;
    let skipped = s.files_skipped();
    for entry in s.skipped.iter().take(SHOWN) {
        eprintln!("skipped {}", shown(entry));
    }
    let more = skipped.saturating_sub(s.skipped.len().min(SHOWN) as u64);
    if more > 0 {
        eprintln!(
            "skipped {more} more files (--json lists the first {})",
            aiex_node::ingest::SKIPPED_LISTED
        );
    }
}

/// Warns on stderr of the entries a walk left out: the ones listed, then how many more.
pub fn passed_over_warnings(listed: &[String], total: u64) {
    for entry in listed {
        eprintln!("warning: passed over {}", shown(entry));
    }
    let more = total.saturating_sub(listed.len() as u64);
    if more > 0 {
        eprintln!("warning: and {more} more entries passed over");
    }
}

/// Text from indexed files (or a model's answer) made safe to print on a terminal: control
/// characters other than newline and tab (an escape sequence that recolours or clears
/// the screen, a bell, a carriage return that hides what came before) are shown escaped,
/// `\x1b` or `\u{9b}`, instead of reaching the terminal. JSON output escapes them
/// itself.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    // Also the bidirectional-text controls that reorder what is shown ("Trojan Source")
    // and the Unicode line and paragraph separators.
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    std::borrow::Cow::Owned(out)
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

/// A hit's kind, with the tags that tell why it may rank lower than its words suggest
/// (`function, generated`, `function, deprecated`).
fn kind_label(h: &pb::SearchHit) -> String {
    let mut label = h.kind.clone();
    for tag in (h.tags.iter()).filter(|t| matches!(t.as_str(), "generated" | "deprecated")) {
        label.push_str(", ");
        label.push_str(tag);
    }
    label
}

pub fn search_results(
    query: &str,
    hits: &[pb::SearchHit],
    missing_partitions: &[u32],
    took: Duration,
    json: bool,
) -> Result<()> {
    if json {
        let v: Vec<_> = hits
            .iter()
            .map(|h| {
                let span = h.span.unwrap_or_default();
                json!({
                    "score": h.score,
                    "repository": h.repository,
                    "path": h.path,
                    "start_line": span.start_line,
                    "end_line": span.end_line,
                    "module": h.module,
                    "symbol": h.symbol,
                    "kind": h.kind,
                    "signature": h.signature,
                    "snippet": h.snippet,
                    "snippet_start_line": h.snippet_start_line,
                    "chunk_id": h.chunk_id,
                    "generated_by": (!h.generated_by.is_empty()).then_some(&h.generated_by),
                    "quoted_at": h.quoted_at.as_ref().map(quote_json),
                    "uses": (!h.uses.is_empty()).then_some(&h.uses),
                    "named_after": (!h.named_after.is_empty()).then_some(&h.named_after),
                    "tags": h.tags,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "query": query,
                "hits": v,
                "missing_partitions": missing_partitions,
                "took_micros": took.as_micros() as u64,
            }))?
        );
        return Ok(());
    }
    if !missing_partitions.is_empty() {
        eprintln!("warning: partial results: partitions {missing_partitions:?} did not answer");
    }
    if hits.is_empty() {
        println!("no results for {query:?}");
        return Ok(());
    }
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
        .collect();
    let mut out = std::io::stdout().lock();
    for (i, h) in hits.iter().enumerate() {
        let span = h.span.unwrap_or_default();
        writeln!(
            out,
            "{:>2}. {}:{}  {}  {}  {}",
            i + 1,
            paint(&shown(&format!("{}/{}", h.repository, h.path)), "35"),
            paint(&span.start_line.to_string(), "32"),
            paint(&shown(&h.symbol), "1"),
            paint(&kind_label(h), "2"),
            paint(&format!("{:.2}", h.score), "2"),
        )?;
        // A function a `use` defines has no code of its own to show: its head, and whose
        // `quote` wrote it.
        if !h.generated_by.is_empty() {
            writeln!(
                out,
                "    {} {}",
                paint("defined by", "2"),
                highlight(
                    &shown(&format!(
                        "{}: {}{}",
                        generated_by(&h.generated_by),
                        h.signature,
                        (h.quoted_at.as_ref())
                            .map(|q| format!("  (quoted at {})", quote_place(q)))
                            .unwrap_or_default()
                    )),
                    &words
                )
            )?;
        }
        // One a `for` names: its head, and whose list named it; the code is the `for`'s.
        if !h.named_after.is_empty() {
            writeln!(
                out,
                "    {} {}",
                paint("named after", "2"),
                highlight(
                    &shown(&format!("{}: {}", h.named_after, h.signature)),
                    &words
                )
            )?;
        }
        for (k, line) in h.snippet.lines().enumerate() {
            writeln!(
                out,
                "    {} {}",
                paint(&format!("{:>5}", h.snippet_start_line as usize + k), "2"),
                highlight(&shown(line), &words)
            )?;
        }
    }
    writeln!(
        out,
        "{} result{} in {:.1} ms",
        hits.len(),
        if hits.len() == 1 { "" } else { "s" },
        took.as_secs_f64() * 1e3
    )?;
    Ok(())
}

/// `repo/path:line` of the clauses a quote writes.
fn quote_place(q: &pb::QuoteRef) -> String {
    let line = q.span.unwrap_or_default().start_line;
    shown(&format!("{}/{}:{line}", q.repository, q.path)).into_owned()
}

fn quote_json(q: &pb::QuoteRef) -> serde_json::Value {
    let span = q.span.unwrap_or_default();
    json!({
        "symbol": q.symbol,
        "repository": q.repository,
        "path": q.path,
        "start_line": span.start_line,
        "end_line": span.end_line,
    })
}

pub fn chunks(chunks: &[Chunk], json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(chunks)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let mut any_bare = false;
    let mut any_runtime = false;
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
            paint(&shown(&c.display_symbol()), "1"),
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
            writeln!(out, "              sig  {}", shown(&c.signature))?;
        }
        if let Some(doc) = &c.doc {
            let first = doc.lines().next().unwrap_or("");
            writeln!(out, "              doc  {}", shown(first))?;
        }
        for s in &c.specs {
            writeln!(out, "              spec {}", shown(s))?;
        }
        if c.defines.len() > 1 {
            let syms: Vec<String> = c.defines.iter().flat_map(|d| d.symbols()).collect();
            writeln!(out, "              defs {}", shown(&syms.join(", ")))?;
        }
        // Calls through a module chosen at run time (`adapter.call(env)`): by name, the
        // index links each to the callback of the name.
        let runtime_prefix = format!("{}.", aiex_node::chunk::RUNTIME_MODULE);
        let (runtime, calls): (Vec<&String>, Vec<&String>) = c
            .calls
            .iter()
            .partition(|call| call.starts_with(&runtime_prefix));
        if !calls.is_empty() {
            let calls: Vec<&str> = calls.iter().map(|s| s.as_str()).collect();
            writeln!(out, "              calls {}", shown(&calls.join(", ")))?;
        }
        if !runtime.is_empty() {
            any_runtime = true;
            let runtime: Vec<&str> = (runtime.iter())
                .map(|s| &s[runtime_prefix.len()..])
                .collect();
            writeln!(out, "              runtime {}", shown(&runtime.join(", ")))?;
        }
        // Calls without a module: the index resolves them through the module's imports
        // and what its `use`s import, which one file does not show.
        let mut bare: Vec<&str> = Vec::new();
        for call in c.all_unqualified_calls().chain(&c.module_unqualified_calls) {
            if !bare.contains(&call.as_str()) {
                bare.push(call);
            }
        }
        if !bare.is_empty() {
            any_bare = true;
            writeln!(out, "              bare  {}", shown(&bare.join(", ")))?;
        }
    }
    if any_bare {
        // One file does not show what its module imports through a `use`, nor the
        // aliases a `use` makes: the index does.
        writeln!(
            out,
            "(calls as this file alone shows them: `bare` calls have no module here; an \
             index resolves them, and aliases a `use` makes, through imports and `use`s: \
             `aiex symbols callees Mod.fun/arity`)"
        )?;
    }
    if any_runtime {
        writeln!(
            out,
            "(`runtime` calls go through a module chosen at run time (`adapter.call(env)`): \
             an index links each to the one behaviour callback of its name and arity)"
        )?;
    }
    Ok(())
}

fn state_name(s: &pb::RepositoryStatus) -> &'static str {
    match s.state() {
        pb::RepositoryState::Indexing => "indexing",
        pb::RepositoryState::Ready => "ready",
        pb::RepositoryState::Failed => "failed",
        pb::RepositoryState::Incomplete => "incomplete",
        pb::RepositoryState::Unspecified => "unknown",
    }
}

fn status_json(s: &pb::RepositoryStatus) -> serde_json::Value {
    json!({
        "repository": s.repository,
        "state": state_name(s),
        "files_seen": s.files_seen,
        "files_unchanged": s.files_unchanged,
        "files_indexed": s.files_indexed,
        "files_skipped": s.files_skipped,
        "files_failed": s.files_failed,
        "files_deleted": s.files_deleted,
        "bytes": s.bytes,
        "chunks": s.chunks,
    })
}

pub fn repo_list(repos: &[pb::RepositoryStatus], json: bool) -> Result<()> {
    if json {
        let v: Vec<_> = repos.iter().map(status_json).collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    if repos.is_empty() {
        println!("no repositories yet: run `aiex repo add PATH`");
    }
    for r in repos {
        println!(
            "{:<30} {:<10} {:>7} files {:>8} chunks {:>9.2} MB",
            r.repository,
            state_name(r),
            r.files_indexed,
            r.chunks,
            r.bytes as f64 / 1e6
        );
    }
    Ok(())
}

pub fn repo_status(s: &pb::RepositoryStatus, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&status_json(s))?);
        return Ok(());
    }
    println!("{}  {}", paint(&s.repository, "1"), state_name(s));
    println!(
        "  last upload: {} files seen, {} unchanged, {} skipped, {} deleted, {:.2} MB",
        s.files_seen,
        s.files_unchanged,
        s.files_skipped,
        s.files_deleted,
        s.bytes as f64 / 1e6
    );
    println!(
        "  index: {} files, {} chunks, {} failed",
        s.files_indexed, s.chunks, s.files_failed
    );
    if let Some(hint) = state_hint(s) {
        println!("  {hint}");
    }
    Ok(())
}

/// What to do about a repository in a state that needs something done.
fn state_hint(s: &pb::RepositoryStatus) -> Option<String> {
    match s.state() {
        pb::RepositoryState::Incomplete => Some(format!(
            "its last upload ended without its commit (the client went away): `aiex repo add \
             PATH --name {}` sends what is missing",
            s.repository
        )),
        _ => None,
    }
}

pub fn spinner() -> ProgressBar {
    let s = ProgressBar::new_spinner();
    s.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .expect("valid template"),
    );
    s.enable_steady_tick(Duration::from_millis(100));
    s
}

pub fn add_summary(
    s: &pb::RepositoryStatus,
    local: &LocalCounts,
    uploaded: Duration,
    total: Duration,
    json: bool,
) -> Result<()> {
    let up = uploaded.as_secs_f64().max(1e-6);
    if s.files_seen == 0 {
        eprintln!("{}", nothing_found_warning(&s.repository));
    } else if s.files_indexed == 0 && s.state() == pb::RepositoryState::Ready {
        let why = "; binary, minified or generated text, credentials, or over the size limit";
        eprintln!(
            "{}",
            nothing_indexed_warning(&s.repository, s.files_seen, why)
        );
    }
    if json {
        let mut v = status_json(s);
        v["upload_seconds"] = json!(uploaded.as_secs_f64());
        v["total_seconds"] = json!(total.as_secs_f64());
        v["client"] = json!({
            "files_sent": local.files,
            "bytes_sent": local.bytes,
            "skipped_too_large": local.too_large,
            "skipped_unreadable": local.unreadable,
            "passed_over": local.passed_over,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{} {}: {} files seen, {} unchanged, {} skipped, {} deleted; index holds {} files, {} chunks ({})",
        paint("added", "1;32"),
        s.repository,
        s.files_seen,
        s.files_unchanged,
        s.files_skipped,
        s.files_deleted,
        s.files_indexed,
        s.chunks,
        state_name(s),
    );
    println!(
        "uploaded {:.2} MB in {:.2} s ({:.0} files/s, {:.1} MB/s); done in {:.2} s",
        local.bytes.max(s.bytes) as f64 / 1e6,
        up,
        s.files_seen as f64 / up,
        local.bytes.max(s.bytes) as f64 / 1e6 / up,
        total.as_secs_f64()
    );
    if s.files_failed > 0 {
        println!(
            "{} files failed to index: see the server log",
            s.files_failed
        );
    }
    if local.passed_over > 0 {
        println!(
            "{} entries were passed over (symbolic links, names that are not UTF-8, \
             unreadable entries): see the warnings",
            local.passed_over
        );
    }
    Ok(())
}

/// A `callees` answer: where each callee is defined, and the lines that call it.
pub fn callees_of(found: &[pb::SymbolRef], json: bool, symbol: &str) -> Result<()> {
    let empty = format!("{symbol} calls nothing that Aiex can name");
    print_refs(found, json, &empty, CallLines::InTheAskedFunction)
}

/// What a reference's `call_lines` are lines of.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CallLines {
    /// A caller's own (it is shown where it calls).
    InTheCaller,
    /// The function asked about, which calls the callee (noted after it).
    InTheAskedFunction,
}

/// `  (called at lines 12, 15)` after a callee; nothing for a caller, or without lines.
fn called_at(calls: CallLines, lines: &[u32]) -> String {
    if calls != CallLines::InTheAskedFunction || lines.is_empty() {
        return String::new();
    }
    let at = if lines.len() == 1 { "line" } else { "lines" };
    let lines: Vec<String> = lines.iter().map(u32::to_string).collect();
    format!("  (called at {at} {})", lines.join(", "))
}

/// A `callers` answer; an empty one says why, when the gateway (or the offline graph)
/// knows (on stderr with `--json`, which prints the empty list).
pub fn callers(found: &[pb::SymbolRef], json: bool, symbol: &str, note: &str) -> Result<()> {
    let mut empty = format!("no indexed code calls {symbol}");
    if !note.is_empty() {
        if json || !found.is_empty() {
            eprintln!("note: {note}");
        }
        empty.push_str(&format!(" ({note})"));
    }
    refs(found, json, &empty)
}

pub fn refs(refs: &[pb::SymbolRef], json: bool, empty: &str) -> Result<()> {
    print_refs(refs, json, empty, CallLines::InTheCaller)
}

fn print_refs(refs: &[pb::SymbolRef], json: bool, empty: &str, calls: CallLines) -> Result<()> {
    if json {
        // One entry per definition, as printed: a function with default arguments is
        // `symbol` at its whole arity (as its head is written), with all of them in
        // `arities`.
        let v: Vec<_> = arity_runs(refs)
            .into_iter()
            .map(|run| {
                let r = run.first;
                let span = r.span.unwrap_or_default();
                json!({
                    "symbol": run.last.symbol,
                    "arities": run.arities,
                    "module": r.module,
                    "repository": r.repository,
                    "path": r.path,
                    "start_line": span.start_line,
                    "end_line": span.end_line,
                    "kind": r.kind,
                    "signature": r.signature,
                    "generated_by": (!r.generated_by.is_empty()).then_some(&r.generated_by),
                    "quoted_at": r.quoted_at.as_ref().map(quote_json),
                    "named_after": (!r.named_after.is_empty()).then_some(&r.named_after),
                    "call_lines": r.call_lines,
                    // More lines may follow: one caller's stop at [`MAX_CALL_LINES`].
                    "call_lines_cut": cut_at_most(&r.call_lines),
                    "call_text": (!r.call_text.is_empty()).then_some(&r.call_text),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if refs.is_empty() {
        println!("{empty}");
    } else {
        // Functions one `quote` writes into every module that `use`s it (`docs_uri/0` of
        // 250 checks) are shown a few at a time, then counted: `--json` lists them all.
        const SHOWN_PER_QUOTE: usize = 3;
        let mut per_quote: std::collections::BTreeMap<(String, String, String), usize> =
            Default::default();
        for ArityRun {
            first: r, symbol, ..
        } in arity_runs(refs)
        {
            if r.path.is_empty() {
                // Not indexed (`Enum.map/2`): its name, and where the asked function calls it.
                println!(
                    "{}{}",
                    paint(&shown(&symbol), "1"),
                    called_at(calls, &r.call_lines)
                );
                continue;
            }
            if let Some(q) = r.quoted_at.as_ref().filter(|_| !r.generated_by.is_empty()) {
                // `fun/0..1` of `Mod.fun/0..1`: the module's name is the ref's own.
                let name = (symbol.strip_prefix(r.module.as_str()))
                    .and_then(|rest| rest.strip_prefix('.'))
                    .unwrap_or(symbol.as_str());
                let key = (
                    quote_place(q),
                    generated_by(&r.generated_by),
                    name.to_string(),
                );
                let seen = per_quote.entry(key).or_default();
                *seen += 1;
                if *seen > SHOWN_PER_QUOTE {
                    continue;
                }
            }
            let span = r.span.unwrap_or_default();
            // A function a `use` defines: where the module is, and whose `quote` it is; one a
            // `for` names: whose list it is.
            let generated = if !r.named_after.is_empty() {
                format!("  (named after {})", shown(&r.named_after))
            } else if r.generated_by.is_empty() {
                String::new()
            } else {
                let at = (r.quoted_at.as_ref())
                    .map(|q| format!(", quoted at {}", quote_place(q)))
                    .unwrap_or_default();
                format!(
                    "  (defined by {}{at})",
                    shown(&generated_by(&r.generated_by))
                )
            };
            // A caller that defines nothing (a test, a script) is named `path:line
            // what`: the place is printed already, so only what it is follows.
            let place = format!("{}:{} ", r.path, span.start_line);
            let symbol = match symbol.strip_prefix(&place) {
                Some(what) if what == r.path => file_caller(&r.path).to_string(),
                Some(what) => what.to_string(),
                None => symbol,
            };
            // A test is named by its own line (`test "stops"`): said once.
            let (symbol, signature) = if symbol == r.signature {
                (symbol, "")
            } else if r.path.is_empty() || !r.signature.contains(&format!("\"{symbol}\"")) {
                (symbol, r.signature.as_str())
            } else {
                (String::new(), r.signature.as_str())
            };
            // A caller is shown where it calls, with the call's code, when it was found.
            let (symbol, signature, line, also) = match r.call_lines.split_first() {
                Some(_) if calls == CallLines::InTheAskedFunction => (
                    symbol,
                    signature,
                    span.start_line,
                    called_at(calls, &r.call_lines),
                ),
                Some((first, rest)) => {
                    let symbol = if symbol.is_empty() {
                        r.signature.clone()
                    } else {
                        symbol
                    };
                    (symbol, r.call_text.as_str(), *first, also_at(rest))
                }
                None => (symbol, signature, span.start_line, String::new()),
            };
            let named = if symbol.is_empty() {
                String::new()
            } else {
                format!("{}  ", paint(&shown(&symbol), "1"))
            };
            println!(
                "{}:{}  {named}{}{also}{generated}",
                paint(&shown(&format!("{}/{}", r.repository, r.path)), "35"),
                paint(&line.to_string(), "32"),
                shown(signature)
            );
        }
        for ((place, by, name), n) in per_quote {
            if n > SHOWN_PER_QUOTE {
                println!(
                    "... and {} more modules' {} (defined by {}, quoted at {place}; --json lists them)",
                    n - SHOWN_PER_QUOTE,
                    shown(&name),
                    shown(&by)
                );
            }
        }
    }
    Ok(())
}

/// The further lines a caller calls on: `  (also 95, 101)`, the first five and a count.
/// The lines of one caller stop at [`MAX_CALL_LINES`]: past them the count is a floor.
fn also_at(lines: &[u32]) -> String {
    const SHOWN: usize = 5;
    if lines.is_empty() {
        return String::new();
    }
    let mut shown: Vec<String> = lines.iter().take(SHOWN).map(u32::to_string).collect();
    if lines.len() > SHOWN {
        // `lines` are the ones after the first.
        let floor = if lines.len() + 1 >= MAX_CALL_LINES {
            "at least "
        } else {
            ""
        };
        shown.push(format!("and {floor}{} more", lines.len() - SHOWN));
    }
    format!("  (also {})", shown.join(", "))
}

/// What a caller that is a file's code and defines nothing is: a script, or a template
/// no module renders (ExCoveralls' `EEx.eval_file` of `coverage.html.eex`).
fn file_caller(path: &str) -> &'static str {
    match aiex_node::chunk::is_template_path(path) {
        true => "(template)",
        false => "(script)",
    }
}

/// Whether a caller's call lines stopped at the most one caller keeps
/// ([`MAX_CALL_LINES`]): more may follow.
fn cut_at_most(lines: &[u32]) -> bool {
    lines.len() >= MAX_CALL_LINES
}

/// References to one definition, printed as one.
struct ArityRun<'a> {
    /// The references at the lowest and the highest arity (the same one when alone).
    first: &'a pb::SymbolRef,
    last: &'a pb::SymbolRef,
    /// `Mod.fun/3..5`, or the first reference's symbol.
    symbol: String,
    /// Every arity of the run; none for a symbol without one (a test, a module).
    arities: Vec<u32>,
}

/// The references to print, one per line: consecutive references to one definition
/// (same place, same `Mod.fun`) with consecutive arities, the arities a function with
/// default arguments has, become one line `Mod.fun/3..5`.
fn arity_runs(refs: &[pb::SymbolRef]) -> Vec<ArityRun<'_>> {
    fn split(symbol: &str) -> Option<(&str, u32)> {
        let (base, arity) = symbol.rsplit_once('/')?;
        Some((base, arity.parse().ok()?))
    }
    let mut out: Vec<ArityRun> = Vec::new();
    let mut run: Option<(usize, &str, u32, u32)> = None; // (index in out, base, first, last)
    for r in refs {
        if let (Some((at, base, first, last)), Some((b, a))) = (run, split(&r.symbol)) {
            let prev = out[at].first;
            // Functions a `use` defines share their module's header: one head is one
            // definition.
            // Not indexed (`Map.get/2` and `Map.get/3`): no one definition is known, and
            // each arity has its own call lines.
            if b == base
                && a == last + 1
                && !r.path.is_empty()
                && prev.path == r.path
                && prev.repository == r.repository
                && prev.span == r.span
                && prev.signature == r.signature
            {
                out[at].symbol = format!("{base}/{first}..{a}");
                out[at].arities.push(a);
                out[at].last = r;
                run = Some((at, base, first, a));
                continue;
            }
        }
        let parts = split(&r.symbol);
        run = parts.map(|(b, a)| (out.len(), b, a, a));
        out.push(ArityRun {
            first: r,
            last: r,
            symbol: r.symbol.clone(),
            arities: parts.map(|(_, a)| a).into_iter().collect(),
        });
    }
    out
}

pub fn repo_map(map: &str, used: usize, budget: usize, json: bool) -> Result<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"map": map, "tokens": used}))?
        );
    } else {
        let map = shown(map);
        // The count goes to stderr: on a terminal it would join the map's last line.
        match map.ends_with('\n') || map.is_empty() {
            true => print!("{map}"),
            false => println!("{map}"),
        }
        eprintln!("({used} tokens of {budget})");
    }
    Ok(())
}

pub fn cluster_status(s: &pb::ClusterStatus, json: bool) -> Result<()> {
    let mut per_node: std::collections::BTreeMap<&str, (u32, u32)> = Default::default();
    for p in &s.placement {
        per_node.entry(&p.owner).or_default().0 += 1;
        for r in &p.replicas {
            per_node.entry(r).or_default().1 += 1;
        }
    }
    if json {
        let members: Vec<_> = s
            .members
            .iter()
            .map(|m| {
                let (owned, replicas) = per_node
                    .get(m.node_id.as_str())
                    .copied()
                    .unwrap_or_default();
                json!({
                    "node_id": m.node_id,
                    "generation": m.generation,
                    "role": m.role().as_str_name(),
                    "grpc_address": m.grpc_address,
                    "ready": m.ready,
                    "partitions_owned": owned,
                    "partitions_replicated": replicas,
                })
            })
            .collect();
        let placement: Vec<_> = s
            .placement
            .iter()
            .map(|p| json!({"partition": p.partition, "owner": p.owner, "replicas": p.replicas}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "members": members,
                "partition_count": s.partition_count,
                "placement": placement,
            }))?
        );
        return Ok(());
    }
    println!(
        "{} members, {} partitions",
        s.members.len(),
        s.partition_count
    );
    for m in &s.members {
        let (owned, replicas) = per_node
            .get(m.node_id.as_str())
            .copied()
            .unwrap_or_default();
        println!(
            "  {:<24} {:<14} {:<22} {:<9} owns {owned} partitions, replicates {replicas}",
            m.node_id,
            m.role()
                .as_str_name()
                .trim_start_matches("ROLE_")
                .to_lowercase(),
            m.grpc_address,
            if m.ready { "ready" } else { "not ready" },
        );
    }
    Ok(())
}

pub fn symbols_offline(
    graph: &SymbolGraph,
    source: &(dyn aiex_node::context::ChunkSource + Send + Sync),
    command: SymbolsCommand,
) -> Result<()> {
    use aiex_gateway::service::{in_repos, site_ref};
    let sites =
        |v: Vec<aiex_node::graph::SymbolSite>| v.into_iter().map(site_ref).collect::<Vec<_>>();
    // The same checks as the gateway's, so offline and served look-ups fail alike.
    if let SymbolsCommand::Def { symbol, .. }
    | SymbolsCommand::Callers { symbol, .. }
    | SymbolsCommand::Callees { symbol, .. }
    | SymbolsCommand::Impls { symbol, .. } = &command
    {
        aiex_gateway::service::symbol_arg(symbol)?;
    }
    use aiex_gateway::service::not_indexed;
    match command {
        SymbolsCommand::Def {
            symbol,
            repos,
            json,
        } => {
            let found = sites(graph.definitions_as_written(&symbol, |s| in_repos(&repos, &s.repo)));
            if found.is_empty() {
                return Err(not_indexed(graph, &symbol, "indexed definition", &repos).into());
            }
            refs(
                &found,
                json,
                &format!("no definition of {symbol} is indexed"),
            )
        }
        SymbolsCommand::Callers {
            symbol,
            repos,
            json,
        } => {
            let (found, note) =
                aiex_gateway::service::callers_answer(Some(source), graph, &symbol, &repos)?;
            callers(&found, json, &symbol, &note)
        }
        SymbolsCommand::Impls {
            symbol,
            repos,
            json,
        } => {
            let found = aiex_gateway::service::implementations(graph, &symbol, &repos)?;
            refs(
                &found,
                json,
                &format!("no module implementing it defines {symbol}"),
            )
        }
        SymbolsCommand::Callees {
            symbol,
            repos,
            json,
        } => {
            let symbol = aiex_gateway::service::named_symbol(graph, &symbol);
            aiex_gateway::service::defined_arg(graph, &symbol, &repos)?;
            let callees = aiex_gateway::service::callee_refs(Some(source), graph, &symbol, &repos);
            callees_of(&callees, json, &symbol)
        }
        SymbolsCommand::Map {
            tokens,
            focus,
            repos,
            json,
        } => {
            aiex_gateway::service::focus_arg(graph, &focus)?;
            let (map, used) = graph.repo_map_in(tokens as usize, &focus, &repos);
            repo_map(&map, used, tokens as usize, json)
        }
    }
}

/// A fitted context: the prompt on stdout exactly as it would be sent, the count on
/// stderr (so `aiex context ... > prompt.txt` captures only the prompt); or all of it as
/// JSON.
pub fn context(c: &pb::ContextResponse, json: bool) -> Result<()> {
    let section = |s: &pb::ContextSection| json!({"kind": s.kind, "title": s.title, "tokens": s.tokens, "collapsed": s.collapsed});
    if json {
        let v = json!({
            "prompt": c.prompt,
            "tokens": c.tokens,
            "budget": c.budget,
            "model": c.model,
            "tokenizer": c.tokenizer,
            "truncated": c.truncated,
            "sections": c.sections.iter().map(section).collect::<Vec<_>>(),
            "dropped": c.dropped.iter().map(section).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    // Exactly as sent when captured in a file; control characters escaped on a terminal.
    let prompt = if std::io::IsTerminal::is_terminal(&out) {
        shown(&c.prompt)
    } else {
        std::borrow::Cow::Borrowed(c.prompt.as_str())
    };
    out.write_all(prompt.as_bytes())?;
    out.flush()?;
    let collapsed = c.sections.iter().filter(|s| s.collapsed).count();
    eprintln!(
        "tokens: {} of a {}-token budget ({}, {}); {} sections, {} collapsed, {} dropped{}",
        c.tokens,
        c.budget,
        c.model,
        c.tokenizer,
        c.sections.len(),
        collapsed,
        c.dropped.len(),
        if c.truncated {
            "; the target was cut to fit"
        } else {
            ""
        }
    );
    for d in &c.dropped {
        eprintln!(
            "  dropped {} ({} tokens): {}",
            d.kind,
            d.tokens,
            shown(&d.title)
        );
    }
    Ok(())
}

/// What defines a function nobody wrote: `use Ecto.Repo`, or a macro named with its
/// arity (`Phoenix.Router.pipeline/2`).
fn generated_by(by: &str) -> String {
    match by.contains('/') {
        true => by.to_string(),
        false => format!("use {by}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert!(matches!(
            shown("def f(x)\n\tdo"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            shown("a\u{1b}[31mred\u{7}\r\u{9b}2J\u{7f} é\n"),
            "a\\x1b[31mred\\x07\\x0d\\u{9b}2J\\x7f é\n"
        );
        assert_eq!(shown("if x \u{202e}\u{2066}"), "if x \\u{202e}\\u{2066}");
    }

    fn generated(symbol: &str, signature: &str) -> pb::SymbolRef {
        pb::SymbolRef {
            signature: signature.into(),
            generated_by: "Ecto.Repo".into(),
            ..r(symbol, "lib/repo.ex", 1)
        }
    }

    fn r(symbol: &str, path: &str, line: u32) -> pb::SymbolRef {
        pb::SymbolRef {
            symbol: symbol.into(),
            repository: "elixir".into(),
            path: path.into(),
            span: Some(pb::Span {
                start_line: line,
                end_line: line + 3,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_file_caller_is_a_script_or_a_template() {
        assert_eq!(file_caller("rel/config.exs"), "(script)");
        assert_eq!(file_caller("lib/templates/coverage.html.eex"), "(template)");
    }

    /// A caller's further lines, the first five and a count, which is a floor when the
    /// lines were cut at the most one caller keeps.
    #[test]
    fn further_call_lines_are_counted() {
        assert_eq!(also_at(&[]), "");
        assert_eq!(also_at(&[3, 4]), "  (also 3, 4)");
        let some: Vec<u32> = (1..=10).collect();
        assert_eq!(also_at(&some), "  (also 1, 2, 3, 4, 5, and 5 more)");
        let cut: Vec<u32> = (1..MAX_CALL_LINES as u32).collect();
        let all: Vec<u32> = (0..MAX_CALL_LINES as u32).collect();
        assert!(!cut_at_most(&cut) && cut_at_most(&all));
        assert!(
            also_at(&cut).ends_with(&format!("and at least {} more)", cut.len() - 5)),
            "{}",
            also_at(&cut)
        );
    }

    #[test]
    fn consecutive_arities_of_one_definition_print_as_one_line() {
        let refs = vec![
            r("EEx.function_from_string/3", "lib/eex.ex", 135),
            r("EEx.function_from_string/4", "lib/eex.ex", 135),
            r("EEx.function_from_string/5", "lib/eex.ex", 135),
            r("EEx.function_from_file/3", "lib/eex.ex", 178),
            r("EEx.function_from_file/5", "lib/eex.ex", 178),
            r("Other.f/1", "lib/a.ex", 1),
            r("Other.f/2", "lib/b.ex", 1),
            // Two functions a `use` defines, at the one header: two heads.
            generated("Repo.aggregate/2", "def aggregate(q, a, opts \\\\ [])"),
            generated("Repo.aggregate/3", "def aggregate(q, a, opts \\\\ [])"),
            generated("Repo.aggregate/4", "def aggregate(q, a, field, opts)"),
            r("Mod", "", 0),
            // Not indexed: each arity apart, with its own call lines (Accent's
            // `Map.get/2` and `Map.get/3`).
            r("Map.get/2", "", 0),
            r("Map.get/3", "", 0),
        ];
        let runs = arity_runs(&refs);
        let lines: Vec<&str> = runs.iter().map(|run| run.symbol.as_str()).collect();
        assert_eq!(
            lines,
            [
                "EEx.function_from_string/3..5",
                "EEx.function_from_file/3",
                "EEx.function_from_file/5",
                "Other.f/1",
                "Other.f/2",
                "Repo.aggregate/2..3",
                "Repo.aggregate/4",
                "Mod",
                "Map.get/2",
                "Map.get/3",
            ]
        );
        let ends: Vec<(&str, &str, Vec<u32>)> = (runs.iter())
            .map(|run| {
                let arities = run.arities.clone();
                (run.first.symbol.as_str(), run.last.symbol.as_str(), arities)
            })
            .collect();
        assert_eq!(
            ends[0],
            (
                "EEx.function_from_string/3",
                "EEx.function_from_string/5",
                vec![3, 4, 5]
            )
        );
        assert_eq!(
            ends[1],
            (
                "EEx.function_from_file/3",
                "EEx.function_from_file/3",
                vec![3]
            )
        );
        assert_eq!(
            ends[5],
            ("Repo.aggregate/2", "Repo.aggregate/3", vec![2, 3])
        );
        assert_eq!(ends[7], ("Mod", "Mod", vec![]));
    }
}
