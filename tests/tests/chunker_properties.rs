//! Property and robustness tests for the chunker (`aiex_node::chunk::chunk_file`).
//!
//! The promise under test: for every input, `chunk_file` never panics, and when it chunks
//! a file the chunks' own byte spans tile it exactly (the first starts at 0, each starts
//! where the previous ended, the last ends at the end of the file, none is empty), each
//! chunk's `content` is its span read as lossy UTF-8, and its line numbers agree with its
//! bytes. Inputs: the real Elixir standard library, arbitrary bytes, generated Elixir-ish
//! text (well-formed, broken, CRLF, invalid UTF-8), pathological nesting and a 50 MB file.
//!
//! The standard-library tests need the corpus unpacked by `scripts/fetch-elixir-corpus.sh`
//! (default `/var/tmp/aiex-corpus/elixir-lang-*`, or `AIEX_ELIXIR_SRC=<dir>`); without it
//! they fail, saying so.

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use aiex_node::chunk::{
    Chunk, ChunkKind, ChunkerConfig, FileChunks, SkipReason, chunk_file, chunk_file_staged,
};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::Config as ProptestConfig;

// ------------------------------------------------------------------------------ helpers

const REPO: &str = "props";

/// What `chunk_file` must decide before chunking, computed independently of the library:
/// too large first, then binary (a NUL byte in the first 8 KiB), else chunked.
fn expected_skip(src: &[u8], config: &ChunkerConfig) -> Option<SkipReason> {
    if src.len() as u64 > config.max_file_bytes {
        Some(SkipReason::TooLarge {
            size: src.len() as u64,
            limit: config.max_file_bytes,
        })
    } else if src[..src.len().min(8192)].contains(&0) {
        Some(SkipReason::Binary)
    } else {
        None
    }
}

/// Runs the chunker (catching a panic as an error), checks the skip decision and, when the
/// file is chunked, every invariant of [`check_chunks`]. Returns the chunks (empty when
/// skipped).
fn run_chunker(path: &str, src: &[u8], config: &ChunkerConfig) -> Result<Vec<Chunk>, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| chunk_file(REPO, path, src, config)))
        .map_err(|e| format!("{path}: chunk_file panicked: {}", panic_message(&*e)))?;
    match (outcome, expected_skip(src, config)) {
        (FileChunks::Skipped(got), Some(want)) if got == want => Ok(Vec::new()),
        (FileChunks::Skipped(got), want) => Err(format!(
            "{path}: skipped as {got:?}, expected {want:?} ({} bytes, budget {})",
            src.len(),
            config.budget
        )),
        (FileChunks::Chunked(_), Some(want)) => Err(format!(
            "{path}: chunked, expected Skipped({want:?}) ({} bytes)",
            src.len()
        )),
        (FileChunks::Chunked(cs), None) => {
            check_chunks(path, src, &cs, config)?;
            Ok(cs)
        }
    }
}

/// Like [`run_chunker`], panicking on a broken invariant (proptest catches and shrinks).
fn chunk_ok(path: &str, src: &[u8], config: &ChunkerConfig) -> Vec<Chunk> {
    run_chunker(path, src, config).unwrap_or_else(|e| panic!("{e}"))
}

fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = e.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = e.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

/// Non-whitespace characters as the library defines them: chars that are not ASCII
/// whitespace. Only compared for spans that are valid UTF-8.
fn non_ws_chars(s: &str) -> usize {
    s.chars().filter(|c| !c.is_ascii_whitespace()).count()
}

/// The invariants every chunked file must satisfy:
/// - tiling: non-empty file => non-empty list, first start 0, contiguous, last end = len,
///   no empty chunk; an empty file => no chunks;
/// - `content` is exactly the lossy UTF-8 of the span;
/// - `start_line`/`end_line` are the 1-based lines of the first and last byte;
/// - for valid UTF-8 input: spans never split a character and `size` counts the span's
///   non-whitespace characters;
/// - `part = Some((k, n))` runs are numbered 1..=n consecutively, with n >= 2.
fn check_chunks(
    path: &str,
    src: &[u8],
    cs: &[Chunk],
    config: &ChunkerConfig,
) -> Result<(), String> {
    let fail = |msg: String| {
        Err(format!(
            "{path} (budget {}): {msg}\n{}",
            config.budget,
            dump(cs)
        ))
    };
    if src.is_empty() {
        if !cs.is_empty() {
            return fail("an empty file must give no chunks".into());
        }
        return Ok(());
    }
    if cs.is_empty() {
        return fail(format!(
            "a non-empty file ({} bytes) gave no chunks",
            src.len()
        ));
    }
    // What the chunker reads: the file with any credential masked (same length).
    let masked = aiex_node::chunk::secrets::mask(src);
    let src: &[u8] = masked.as_deref().unwrap_or(src);
    let valid_utf8 = std::str::from_utf8(src).is_ok();
    let mut expected_start = 0usize;
    let mut newlines_before = 0u32; // '\n' bytes in src[..chunk.start_byte]
    let mut open_part: Option<(u32, u32)> = None;
    for (i, c) in cs.iter().enumerate() {
        if c.start_byte != expected_start {
            return fail(format!(
                "chunk {i} starts at {} but the previous one ended at {expected_start}",
                c.start_byte
            ));
        }
        if c.end_byte <= c.start_byte {
            return fail(format!(
                "chunk {i} is empty or inverted: {}..{}",
                c.start_byte, c.end_byte
            ));
        }
        if c.end_byte > src.len() {
            return fail(format!(
                "chunk {i} ends at {} past the file's {} bytes",
                c.end_byte,
                src.len()
            ));
        }
        let span = &src[c.start_byte..c.end_byte];
        if c.content != String::from_utf8_lossy(span) {
            return fail(format!(
                "chunk {i}: content differs from the bytes of its span"
            ));
        }
        let span_newlines = span.iter().filter(|&&b| b == b'\n').count() as u32;
        let last_byte_newline = u32::from(span[span.len() - 1] == b'\n');
        let (want_start, want_end) = (
            newlines_before + 1,
            newlines_before + 1 + span_newlines - last_byte_newline,
        );
        if (c.start_line, c.end_line) != (want_start, want_end) {
            return fail(format!(
                "chunk {i} ({}..{}): lines {}..{}, expected {want_start}..{want_end}",
                c.start_byte, c.end_byte, c.start_line, c.end_line
            ));
        }
        if valid_utf8 {
            match std::str::from_utf8(span) {
                Err(_) => {
                    return fail(format!(
                        "chunk {i} ({}..{}) splits a UTF-8 character of a valid UTF-8 file",
                        c.start_byte, c.end_byte
                    ));
                }
                Ok(text) if non_ws_chars(text) != c.size => {
                    return fail(format!(
                        "chunk {i}: size {} but the span has {} non-whitespace chars",
                        c.size,
                        non_ws_chars(text)
                    ));
                }
                Ok(_) => {}
            }
        }
        match (open_part, c.part) {
            (_, Some((k, n))) if n < 2 || k < 1 || k > n => {
                return fail(format!("chunk {i}: bad part {k}/{n}"));
            }
            (Some((pk, pn)), Some((k, n))) if k != pk + 1 || n != pn => {
                return fail(format!("chunk {i}: part {k}/{n} follows part {pk}/{pn}"));
            }
            (Some((pk, pn)), None) if pk != pn => {
                return fail(format!("chunk {i}: split stopped after part {pk}/{pn}"));
            }
            (None, Some((k, n))) if k != 1 => {
                return fail(format!("chunk {i}: a split starts at part {k}/{n}"));
            }
            _ => {}
        }
        open_part = c.part.filter(|(k, n)| k < n);
        newlines_before += span_newlines;
        expected_start = c.end_byte;
    }
    if expected_start != src.len() {
        return fail(format!(
            "the last chunk ends at {expected_start}, the file has {} bytes",
            src.len()
        ));
    }
    if let Some((k, n)) = open_part {
        return fail(format!("the file ends inside a split, after part {k}/{n}"));
    }
    Ok(())
}

/// A short listing of chunks for failure messages (at most 40 rows).
fn dump(cs: &[Chunk]) -> String {
    let mut out = String::new();
    for c in cs.iter().take(40) {
        let _ = writeln!(
            out,
            "  {:>8}..{:<8} L{}-{} {:<13} {:?} part={:?} err={} size={}",
            c.start_byte,
            c.end_byte,
            c.start_line,
            c.end_line,
            c.kind.as_str(),
            c.name,
            c.part,
            c.has_error,
            c.size
        );
    }
    if cs.len() > 40 {
        let _ = writeln!(out, "  ... {} more", cs.len() - 40);
    }
    out
}

fn config_with_budget(budget: usize) -> ChunkerConfig {
    ChunkerConfig {
        budget,
        ..ChunkerConfig::default()
    }
}

/// `cases` proptest cases, or `$PROPTEST_CASES` when set (for longer local runs).
fn proptest_config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        // No regression files next to the test: shrunk failures are printed instead.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ------------------------------------------------------------------------------ corpus

/// Every regular file under `dir` (symlinks not followed), sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("read {}: {e}", d.display()));
            let ty = entry.file_type().expect("file type");
            if ty.is_dir() {
                stack.push(entry.path());
            } else if ty.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

struct CorpusFile {
    rel: String,
    bytes: Vec<u8>,
}

fn corpus_files() -> (Vec<CorpusFile>, Vec<CorpusFile>) {
    let dir = aiex_tests::elixir_corpus();
    let (mut elixir, mut other) = (Vec::new(), Vec::new());
    for path in files_under(&dir) {
        let rel = path
            .strip_prefix(&dir)
            .expect("under the corpus")
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let file = CorpusFile { rel, bytes };
        if file.rel.ends_with(".ex") || file.rel.ends_with(".exs") {
            elixir.push(file);
        } else {
            other.push(file);
        }
    }
    assert!(
        elixir.len() >= 500,
        "expected about 537 .ex/.exs files in {}, found {}: re-run scripts/fetch-elixir-corpus.sh",
        dir.display(),
        elixir.len()
    );
    (elixir, other)
}

/// Chunks every file with `config`; returns all chunks or every failure at once.
fn chunk_corpus(files: &[CorpusFile], config: &ChunkerConfig) -> Vec<(String, Vec<Chunk>)> {
    let mut failures = Vec::new();
    let mut out = Vec::new();
    for f in files {
        match run_chunker(&f.rel, &f.bytes, config) {
            Ok(cs) => out.push((f.rel.clone(), cs)),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files broke an invariant with budget {}:\n{}",
        failures.len(),
        files.len(),
        config.budget,
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    out
}

#[test]
fn stdlib_elixir_files_tile_parse_cleanly_and_respect_the_budget() {
    let (elixir, _) = corpus_files();
    let config = ChunkerConfig::default();
    let chunked = chunk_corpus(&elixir, &config);

    let mut total = 0usize;
    let mut with_error = Vec::new();
    let mut over_budget = Vec::new();
    for (rel, cs) in &chunked {
        assert!(!cs.is_empty() || elixir.iter().any(|f| &f.rel == rel && f.bytes.is_empty()));
        for c in cs {
            total += 1;
            if c.has_error {
                with_error.push(format!(
                    "{rel}:{}-{} {} {}",
                    c.start_line, c.end_line, c.kind, c.name
                ));
            }
            if c.size > config.budget {
                over_budget.push((
                    c.size,
                    format!(
                        "{rel}:{}-{} {} {} size={} part={:?}",
                        c.start_line, c.end_line, c.kind, c.name, c.size, c.part
                    ),
                ));
            }
        }
    }
    assert!(
        with_error.is_empty(),
        "the Elixir standard library parses cleanly, yet {} chunks have has_error:\n{}",
        with_error.len(),
        with_error
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // A chunk may exceed the budget only when it cannot be split (one long line, one string
    // or heredoc, one statement); those must stay rare.
    over_budget.sort_by_key(|o| std::cmp::Reverse(o.0));
    let limit = total / 50; // 2%
    eprintln!(
        "stdlib: {} files, {total} chunks, {} over the {}-char budget (limit {limit})",
        chunked.len(),
        over_budget.len(),
        config.budget
    );
    for (_, what) in over_budget.iter().take(10) {
        eprintln!("  over budget: {what}");
    }
    assert!(
        over_budget.len() < limit.max(1),
        "{} of {total} chunks are over the {}-char budget (must be < 2%); largest:\n{}",
        over_budget.len(),
        config.budget,
        over_budget
            .iter()
            .take(20)
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// [`chunk_file_staged`], both steps: what an index build makes of a file.
fn chunk_in_two_steps(path: &str, src: &[u8], config: &ChunkerConfig) -> FileChunks {
    match chunk_file_staged(REPO, path, src.to_vec(), config) {
        // Finished on another thread, as an index build's writer does.
        Ok(staged) => {
            FileChunks::Chunked(std::thread::spawn(move || staged.finish()).join().unwrap())
        }
        Err(reason) => FileChunks::Skipped(reason),
    }
}

/// Asserts that both ways of chunking a file agree, chunk for chunk.
fn assert_two_steps_agree(path: &str, src: &[u8], config: &ChunkerConfig) {
    let whole = format!("{:?}", chunk_file(REPO, path, src, config));
    let staged = format!("{:?}", chunk_in_two_steps(path, src, config));
    assert!(
        whole == staged,
        "{path}: chunked in two steps differs from chunk_file\nchunk_file: {}\ntwo steps:  {}",
        &whole[..whole.len().min(2000)],
        &staged[..staged.len().min(2000)]
    );
}

#[test]
fn stdlib_files_chunk_the_same_in_two_steps() {
    let (elixir, other) = corpus_files();
    for config in [ChunkerConfig::default(), config_with_budget(300)] {
        for f in elixir.iter().chain(&other) {
            assert_two_steps_agree(&f.rel, &f.bytes, &config);
        }
    }
    // The other ways out: credentials masked, a broken definition blanked and parsed
    // again, an empty file, a credentials file, a binary file, a minified one.
    let token = format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "lib/pay.ex",
            format!("defmodule Pay do\n  def key, do: \"{token}\"\n  def go(x), do: x\nend\n")
                .into_bytes(),
        ),
        (
            "lib/broken.ex",
            b"defmodule B do\n  def a(x) do\n    x +\n  def b, do: 1\nend\n".to_vec(),
        ),
        ("lib/empty.ex", Vec::new()),
        (".env", b"TOKEN=abc\n".to_vec()),
        ("lib/bin.ex", b"def\0x".to_vec()),
        ("assets/app.min.js", vec![b'x'; 100_000]),
        (
            "lib/generated.ex",
            b"# codegen: do not edit\ndefmodule G do\n  def a, do: 1\nend\n".to_vec(),
        ),
        (
            "priv/generated.txt",
            b"// Code generated by a tool. DO NOT EDIT.\nhello\n".to_vec(),
        ),
    ];
    for (path, src) in &cases {
        assert_two_steps_agree(path, src, &ChunkerConfig::default());
    }
    // A file a tool wrote has every chunk tagged, whichever way it is chunked.
    for (path, src) in &cases[cases.len() - 2..] {
        let FileChunks::Chunked(chunks) = chunk_in_two_steps(path, src, &Default::default()) else {
            panic!("{path} was not chunked");
        };
        assert!(!chunks.is_empty(), "{path}");
        for c in &chunks {
            assert!(
                c.tags.iter().any(|t| t == "generated"),
                "{path}: {:?}",
                c.tags
            );
        }
    }
    let FileChunks::Chunked(pay) =
        chunk_in_two_steps("lib/pay.ex", &cases[0].1, &Default::default())
    else {
        panic!("lib/pay.ex was not chunked");
    };
    assert!(
        pay.iter().all(|c| !c.content.contains(&token)),
        "the credential reached a chunk chunked in two steps"
    );
}

#[test]
fn stdlib_elixir_files_tile_with_small_and_large_budgets() {
    let (elixir, _) = corpus_files();
    for budget in [300, 100_000] {
        let chunked = chunk_corpus(&elixir, &config_with_budget(budget));
        let chunks: usize = chunked.iter().map(|(_, cs)| cs.len()).sum();
        eprintln!("stdlib with budget {budget}: {chunks} chunks");
    }
}

#[test]
fn stdlib_non_elixir_files_tile_as_text() {
    let (_, other) = corpus_files();
    assert!(
        !other.is_empty(),
        "the corpus has README.md, .erl, .txt ... files"
    );
    let chunked = chunk_corpus(&other, &ChunkerConfig::default());
    let md = chunked
        .iter()
        .filter(|(rel, _)| rel.ends_with(".md"))
        .count();
    assert!(
        md >= 5,
        "expected the corpus's .md files to be chunked, got {md}"
    );
    for (rel, cs) in &chunked {
        for c in cs {
            assert_eq!(
                c.kind,
                ChunkKind::Text,
                "{rel}: a non-Elixir file gives text chunks"
            );
        }
    }
    // The same files under a small budget: many more cuts, same tiling.
    chunk_corpus(&other, &config_with_budget(50));
}

// ------------------------------------------------------------------------------ arbitrary bytes

/// Size budgets, including the degenerate 0 and unbounded ones.
fn budget() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0), 1 => Just(usize::MAX), 8 => 1usize..2000]
}

fn merge_below() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0), 1 => Just(usize::MAX), 4 => 0usize..300]
}

/// Bytes biased toward what stresses an Elixir parser, plus fully arbitrary ones.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => any::<u8>(),
        2 => select(b"\n\r\t \"'#()[]{}%<>~@:;,.|&\\=-+*/?!".to_vec()),
        2 => select(b"adefmoulnpcrsty_ABMX019".to_vec()),
        1 => select(vec![0xc3, 0xa9, 0xe2, 0x9c, 0x93, 0xf0, 0x9f, 0x8e, 0x89, 0xff, 0xfe, 0x80]),
    ]
}

fn arbitrary_bytes() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(byte(), 0..4096), any::<bool>()).prop_map(|(mut bytes, strip_nul)| {
        // Most inputs keep no NUL so they are chunked rather than skipped as binary.
        if strip_nul {
            for b in &mut bytes {
                if *b == 0 {
                    *b = b'\n';
                }
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(proptest_config(192))]

    #[test]
    fn arbitrary_bytes_never_panic_and_tile(
        bytes in arbitrary_bytes(),
        budget in budget(),
        merge_below in merge_below(),
    ) {
        let config = ChunkerConfig { budget, merge_below, ..ChunkerConfig::default() };
        // Templates too: their tags and `{…}` are read as code.
        for path in [
            "lib/fuzz.ex",
            "test/fuzz_test.exs",
            "docs/fuzz.md",
            "lib/fuzz.html.heex",
            "lib/fuzz.html.eex",
        ] {
            chunk_ok(path, &bytes, &config);
        }
        assert_two_steps_agree("lib/fuzz.ex", &bytes, &config);
    }

    #[test]
    fn arbitrary_bytes_with_nul_are_binary(
        mut bytes in prop::collection::vec(any::<u8>(), 1..4096),
        at in any::<Index>(),
    ) {
        let i = at.index(bytes.len());
        bytes[i] = 0;
        for path in ["lib/fuzz.ex", "docs/fuzz.md"] {
            let got = chunk_file(REPO, path, &bytes, &ChunkerConfig::default());
            prop_assert!(
                matches!(got, FileChunks::Skipped(SkipReason::Binary)),
                "{path}: NUL at {i} of {} bytes must be Skipped(Binary), got {got:?}",
                bytes.len()
            );
        }
    }
}

// ------------------------------------------------------------------------------ generated Elixir

/// Words for strings, docs and comments: no `"`, `\`, `#{` or `/`, some non-ASCII.
fn words() -> impl Strategy<Value = String> {
    prop::collection::vec(
        select(vec![
            "alpha",
            "beta",
            "héllo",
            "日本語",
            "✓",
            "🎉",
            "naïve",
            "x1",
            "Ω",
            "--",
            "42",
            "ünïcödé",
            "done",
            "end",
            "def",
            "do:",
            "(",
            "[",
            ",",
            "ß",
        ]),
        0..8,
    )
    .prop_map(|w| w.join(" "))
}

fn fn_name() -> impl Strategy<Value = String> {
    "f_[a-z0-9_]{0,6}"
}

fn mod_name() -> impl Strategy<Value = String> {
    "[A-Z][a-z0-9]{0,6}"
}

/// One statement of a function body (valid Elixir; may span several lines).
fn statement() -> impl Strategy<Value = String> {
    prop_oneof![
        (fn_name(), words()).prop_map(|(v, t)| format!("{v} = \"{t}\"")),
        (mod_name(), fn_name()).prop_map(|(m, f)| format!("{m}.{f}(1, :a, [key: \"v\"])")),
        words().prop_map(|t| format!("# {t}")),
        words().prop_map(|t| format!("IO.puts(\"#{{inspect(x)}} {t}\")")),
        words().prop_map(|t| format!("s = ~S\"\"\"\n{t}\n  {t}\n\"\"\"")),
        words().prop_map(|t| format!("h = \"\"\"\n{t}\n#{{x}}\n\"\"\"")),
        words().prop_map(|t| format!("c = '{t}'")),
        words().prop_map(|t| format!("r = ~r/[a-z]+ {t}/u")),
        Just("w = ~w(a b c)a".to_string()),
        Just("Enum.map(list, fn x -> x * 2 end)".to_string()),
        Just("case x do\n  {:ok, v} -> v\n  _ -> nil\nend".to_string()),
        Just("x |> Enum.sort() |> Enum.reverse()".to_string()),
        Just("m = %{\"b\" => [1, 2, 3], a: 1}".to_string()),
        Just("<<a::8, rest::binary>> = data".to_string()),
        Just(
            "with {:ok, a} <- f(), {:ok, b} <- g(a) do\n  a + b\nelse\n  _ -> :error\nend"
                .to_string()
        ),
        Just("try do\n  raise \"x\"\nrescue\n  e in RuntimeError -> e\nend".to_string()),
    ]
}

fn body() -> impl Strategy<Value = String> {
    prop::collection::vec(statement(), 0..25).prop_map(|s| s.join("\n"))
}

/// A definition with its leading attributes.
fn definition() -> impl Strategy<Value = String> {
    (
        select(vec!["def", "defp", "defmacro", "defmacrop"]),
        fn_name(),
        0usize..4,
        any::<bool>(),
        body(),
        prop::option::of(words()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(kw, name, arity, default, body, doc, spec, one_line)| {
            let mut args: Vec<String> = (0..arity).map(|i| format!("a{i}")).collect();
            if default && let Some(last) = args.last_mut() {
                last.push_str(" \\\\ nil");
            }
            let mut out = String::new();
            if let Some(doc) = doc {
                out.push_str(&format!(
                    "@doc \"\"\"\n{doc}\n\n  Example: `{name}()`\n\"\"\"\n"
                ));
            }
            if spec {
                let params = vec!["term()"; arity].join(", ");
                out.push_str(&format!("@spec {name}({params}) :: term()\n"));
            }
            if one_line {
                out.push_str(&format!("{kw} {name}({}), do: :ok\n", args.join(", ")));
            } else {
                out.push_str(&format!(
                    "{kw} {name}({}) do\n{body}\n:ok\nend\n",
                    args.join(", ")
                ));
            }
            out
        })
}

/// One item of a module body, other than a nested module.
fn item() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => definition(),
        1 => words().prop_map(|t| format!("# {t}\n")),
        1 => fn_name().prop_map(|n| format!("@type {n} :: integer() | nil\n")),
        1 => fn_name().prop_map(|n| format!("@callback {n}(term()) :: :ok\n")),
        1 => fn_name().prop_map(|n| format!("defguard is_{n}(v) when is_integer(v) and v > 0\n")),
        1 => (fn_name(), mod_name()).prop_map(|(n, m)| format!("defdelegate {n}(a), to: {m}\n")),
        1 => mod_name().prop_map(|m| format!("alias Foo.{m}\nimport Bar.{m}, only: [x: 1]\n")),
        1 => definition().prop_map(|d| format!("if Code.ensure_loaded?(Jason) do\n{d}end\n")),
        1 => (words(), body()).prop_map(|(t, b)| format!("test \"{t}\" do\n{b}\nassert true\nend\n")),
        1 => (words(), words(), body())
            .prop_map(|(d, t, b)| format!("describe \"{d}\" do\nsetup do\n:ok\nend\n\ntest \"{t}\" do\n{b}\nend\nend\n")),
        1 => Just("defstruct [:a, b: 1]\n".to_string()),
        1 => (fn_name(), body()).prop_map(|(n, b)| {
            format!("def {n}(0), do: 0\n@doc false\n# second clause\ndef {n}(x) when x > 0 do\n{b}\nx\nend\n")
        }),
        1 => definition().prop_map(|d| format!("if a do\nunless b do\ncase c do\n_ ->\n{d}end\nend\nend\n")),
        1 => fn_name().prop_map(|n| {
            format!("defmacro __using__(_) do\nquote do\ndef {n}(x), do: x\nend\nend\n")
        }),
        1 => body().prop_map(|b| {
            format!("defimpl String.Chars, for: [Foo, Bar] do\ndef to_string(x) do\n{b}\n\"\"\nend\nend\n")
        }),
    ]
}

/// A module with items, nesting modules down to `depth`.
fn module(depth: u32) -> BoxedStrategy<String> {
    let items = if depth == 0 {
        prop::collection::vec(item(), 0..8).boxed()
    } else {
        prop::collection::vec(prop_oneof![4 => item(), 1 => module(depth - 1)], 0..8).boxed()
    };
    (
        mod_name(),
        prop::option::of(words()),
        items,
        select(vec!["defmodule", "defprotocol"]),
    )
        .prop_map(|(name, moduledoc, items, kw)| {
            let kw = if kw == "defprotocol" && items.is_empty() {
                kw
            } else {
                "defmodule"
            };
            let mut out = format!("{kw} {name} do\n");
            if let Some(doc) = moduledoc {
                out.push_str(&format!("@moduledoc \"\"\"\n{doc}\n\"\"\"\n"));
            }
            for i in items {
                out.push_str(&i);
                out.push('\n');
            }
            out.push_str("end\n");
            out
        })
        .boxed()
}

/// A well-formed Elixir file: optional script lines, then modules.
fn elixir_file() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(statement(), 0..3),
        prop::collection::vec(module(2), 1..4),
    )
        .prop_map(|(script, modules)| {
            let mut out = String::new();
            for s in script {
                out.push_str(&s);
                out.push('\n');
            }
            for m in modules {
                out.push_str(&m);
                out.push('\n');
            }
            out
        })
}

/// Fragments that break Elixir: unbalanced delimiters, stray keywords, open heredocs...
fn broken_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(vec![
            "defmodule A do\n", "defmodule", "defmodule B.C do", "def f(x) do\n", "defp g, do: 1\n",
            "end\n", "end", "do", "do:", "(", ")", "[", "]", "{", "}", "%{", "<<", ">>",
            "\"\"\"\n", "\"\"\"", "\"", "'", "#", "# comment\n", "~r/", "~S\"\"\"\n", "~w(",
            "@doc \"\"\"\n", "@spec f(integer) :: atom\n", "@moduledoc false\n", "\r\n", "\n",
            " ", "\t", "é", "🎉", "日本", "\\", "#{", "fn ->", "->", "|>", ",", ":", "::",
            "when", "x", "1", "?a", "?\\", "\u{feff}", "\r", "\u{2028}", "test \"t\" do\n",
            "if x do\n", "else\n", "rescue\n", "defimpl P, for: [A, B] do\n", "__MODULE__.",
            "Elixir.", "&Mod.f/2", "&&", "..", "...", "...\n",
        ]).prop_map(String::from),
        1 => definition(),
        1 => statement().prop_map(|s| s + "\n"),
    ]
}

fn broken_file() -> impl Strategy<Value = String> {
    prop::collection::vec(broken_fragment(), 0..120).prop_map(|f| f.concat())
}

/// What must not change when LF becomes CRLF in a well-formed file.
type Shape = (
    ChunkKind,
    String,
    String,
    Vec<u32>,
    Option<(u32, u32)>,
    u32,
    u32,
);

fn shape(cs: &[Chunk]) -> Vec<Shape> {
    cs.iter()
        .map(|c| {
            (
                c.kind,
                c.module.clone(),
                c.name.clone(),
                c.arities.clone(),
                c.part,
                c.start_line,
                c.end_line,
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(proptest_config(128))]

    #[test]
    fn generated_elixir_tiles_and_crlf_keeps_the_chunks(src in elixir_file(), small in 60usize..400) {
        for config in [ChunkerConfig::default(), config_with_budget(small)] {
            let lf = chunk_ok("lib/gen.ex", src.as_bytes(), &config);
            // Deterministic: the per-thread parser keeps no state between files.
            let again = chunk_ok("lib/gen.ex", src.as_bytes(), &config);
            prop_assert!(lf == again, "chunking the same file twice gave different chunks");
            let errors: Vec<&Chunk> = lf.iter().filter(|c| c.has_error).collect();
            prop_assert!(
                errors.is_empty(),
                "well-formed input gave has_error chunks:\n{}\n--- source ---\n{src}",
                dump(&lf)
            );
            let crlf_src = src.replace('\n', "\r\n");
            let crlf = chunk_ok("lib/gen.ex", crlf_src.as_bytes(), &config);
            prop_assert_eq!(
                shape(&lf),
                shape(&crlf),
                "CRLF changed the chunks (budget {}):\nLF:\n{}CRLF:\n{}--- source ---\n{}",
                config.budget,
                dump(&lf),
                dump(&crlf),
                src
            );
            // The same text is also chunked as a script and as plain text.
            chunk_ok("test/gen_test.exs", src.as_bytes(), &config);
            chunk_ok("README.md", crlf_src.as_bytes(), &config);
        }
    }

    #[test]
    fn broken_elixir_never_panics_and_tiles(
        src in broken_file(),
        crlf in any::<bool>(),
        budget in budget(),
        merge_below in merge_below(),
    ) {
        let src = if crlf { src.replace('\n', "\r\n") } else { src };
        let config = ChunkerConfig { budget, merge_below, ..ChunkerConfig::default() };
        chunk_ok("lib/broken.ex", src.as_bytes(), &config);
        chunk_ok("lib/broken.exs", src.as_bytes(), &config);
    }

    /// Well-formed files with invalid UTF-8 bytes (and broken fragments) spliced in at
    /// arbitrary byte offsets, possibly inside a multi-byte character.
    #[test]
    fn spliced_invalid_utf8_never_panics_and_tiles(
        src in elixir_file(),
        splices in prop::collection::vec(
            (
                any::<Index>(),
                prop_oneof![
                    prop::collection::vec(select(vec![0xffu8, 0xfe, 0x80, 0xbf, 0xc0, 0xc3, 0xed, 0xf0, 0xf4]), 1..4),
                    broken_fragment().prop_map(String::into_bytes),
                ],
            ),
            1..8,
        ),
        budget in 20usize..1600,
    ) {
        let mut bytes = src.into_bytes();
        for (at, insert) in splices {
            let i = at.index(bytes.len() + 1);
            bytes.splice(i..i, insert);
        }
        let config = config_with_budget(budget);
        chunk_ok("lib/spliced.ex", &bytes, &config);
        chunk_ok("notes.txt", &bytes, &config);
    }
}

// ------------------------------------------------------------------------------ invalid UTF-8

#[test]
fn invalid_utf8_inside_elixir_tiles() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "in a string and a comment",
            b"defmodule A do\n  # comment \xff\xfe here\n  def f do\n    \"str \xff\xfe here\"\n  end\nend\n".to_vec(),
        ),
        (
            "in a heredoc doc",
            b"defmodule A do\n  @doc \"\"\"\n  doc \xff\xfe\xfd\n  \"\"\"\n  def f(x), do: x\nend\n".to_vec(),
        ),
        (
            "in a function name",
            b"defmodule A do\n  def f\xffo(x) do\n    x\n  end\n  def g\xfe, do: 1\nend\n".to_vec(),
        ),
        (
            "in a module name",
            b"defmodule A\xff.B do\n  def f, do: 1\nend\ndefmodule \xfe do\nend\n".to_vec(),
        ),
        (
            "in a test name and an alias",
            b"defmodule ATest do\n  alias Foo.\xff\n  test \"t\xff\" do\n    assert 1\n  end\nend\n".to_vec(),
        ),
        (
            "lone continuation, overlong and surrogate bytes",
            b"\x80\xbfdefmodule A do\n  def f(\xc0\xaf) do\n    \"\xed\xa0\x80\"\n  end\nend\n".to_vec(),
        ),
        (
            "a truncated 4-byte character at end of file",
            b"defmodule A do\n  def f, do: \"\xf0\x9f\x8e\x89\"\nend\n\xf0\x9f\x8e".to_vec(),
        ),
        ("only invalid bytes", vec![0xff; 300]),
        ("only invalid bytes and newlines", b"\xff\n\xfe\n\xc3\n".repeat(200)),
        ("UTF-16 BOM and text", b"\xff\xfed\x00".to_vec()), // NUL: binary
    ];
    for (what, src) in cases {
        for budget in [1, 8, 40, ChunkerConfig::default().budget] {
            let config = config_with_budget(budget);
            for path in ["lib/a.ex", "test/a_test.exs", "a.md"] {
                run_chunker(path, &src, &config).unwrap_or_else(|e| panic!("{what}: {e}"));
            }
        }
    }
}

// ------------------------------------------------------------------------------ deep nesting

const DEPTH: usize = 100_000;

/// Runs on the default test thread (2 MiB stack unless RUST_MIN_STACK says otherwise):
/// every walk over the tree must be iterative or depth-bounded.
fn deep(what: &str, src: &[u8]) {
    // A template reads its tags and `{…}` as code.
    for path in ["lib/deep.ex", "deep.md", "lib/deep.html.heex"] {
        for config in [ChunkerConfig::default(), config_with_budget(100)] {
            let cs = run_chunker(path, src, &config).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(!cs.is_empty(), "{what}: chunks expected");
        }
    }
}

#[test]
fn deeply_nested_if_blocks_in_a_module() {
    let mut src = String::from("defmodule A do\n");
    src.push_str(&"if x do\n".repeat(DEPTH));
    src.push_str(&"end\n".repeat(DEPTH + 1));
    deep("100k nested if/do in a module body", src.as_bytes());
}

#[test]
fn deeply_nested_quotes_calling_through_module() {
    // 50k nested quotes in one `__using__`, each calling through `__MODULE__` and
    // defining a function: the walk keeps one entry per quote it is in, and no call
    // looks further (2.6 MB, under the 4 MB a file may have).
    let mut src = String::from("defmodule A do\n  defmacro __using__(_) do\n");
    let level = "quote do\n__MODULE__.f(%__MODULE__{})\ndef g, do: h()\n";
    src.push_str(&level.repeat(DEPTH / 2));
    src.push_str(&"end\n".repeat(DEPTH / 2 + 2));
    deep(
        "50k nested quotes calling through __MODULE__",
        src.as_bytes(),
    );
}

#[test]
fn deeply_nested_uses_in_a_function() {
    // Whether a `use` is quoted comes from the walk's stack, not a walk up the tree from
    // each one (which cost the depth again per step: 2,000 levels took 14 s).
    let mut src = String::from("defmodule A do\n  def f do\n");
    src.push_str(&"use(X, ".repeat(DEPTH));
    src.push('X');
    src.push_str(&")".repeat(DEPTH));
    src.push_str("\n  end\nend\n");
    deep("100k nested use(X, ...) in a function", src.as_bytes());
}

#[test]
fn deeply_nested_if_blocks_in_a_function() {
    let mut src = String::from("defmodule A do\n  def f(x) do\n");
    src.push_str(&"if x do\n".repeat(DEPTH));
    src.push_str(&"end\n".repeat(DEPTH));
    src.push_str("  end\nend\n");
    deep("100k nested if/do in a function", src.as_bytes());
}

#[test]
fn deeply_nested_parentheses_brackets_and_maps() {
    for (open, close) in [("(", ")"), ("[", "]"), ("{", "}"), ("%{a: ", "}")] {
        let src = format!("{}{}\n", open.repeat(DEPTH), close.repeat(DEPTH));
        deep(
            &format!("100k nested {open}{close} at top level"),
            src.as_bytes(),
        );
        let src = format!(
            "defmodule A do\n  def f do\n    {}1{}\n  end\nend\n",
            open.repeat(DEPTH),
            close.repeat(DEPTH)
        );
        deep(
            &format!("100k nested {open}{close} in a function"),
            src.as_bytes(),
        );
    }
}

#[test]
fn a_hundred_thousand_list_joins_a_for_runs_over() {
    // `for x <- [:a] ++ [:b] ++ ...` names a function per atom; the lists joined are read
    // to a bounded depth, and a chain this long leaves the function as written.
    let chain = format!("{}[:z]", "[:a] ++ ".repeat(DEPTH));
    let src = format!(
        "defmodule A do\n  @xs {chain}\n  for x <- @xs do\n    def unquote(x)(), do: 1\n  end\n  for y <- {chain} do\n    def unquote(y)(), do: 2\n  end\nend\n"
    );
    deep("100k list joins in an attribute and a for", src.as_bytes());
    let cs = run_chunker("lib/deep.ex", src.as_bytes(), &ChunkerConfig::default()).unwrap();
    let names: Vec<&str> = (cs.iter())
        .flat_map(|c| c.defines.iter().map(|d| d.name.as_str()))
        .collect();
    assert!(names.contains(&"unquote(x)"), "{names:?}");
    assert!(names.contains(&"unquote(y)"), "{names:?}");
}

/// Before a parse budget, this took tree-sitter-elixir minutes (its scanner looks ahead
/// over the comment lines at every line, and the chunker parses again with the broken
/// line blanked); the chunker also walked back over the comments quadratically.
#[test]
fn a_hundred_thousand_comment_lines_above_a_broken_definition() {
    let mut src = String::from("defmodule A do\n");
    src.push_str(&"  # c\n".repeat(DEPTH));
    src.push_str("  def broken(x do\n    1\n  end\n  def ok, do: 1\nend\n");
    let cs = chunk_ok("lib/comments.ex", src.as_bytes(), &ChunkerConfig::default());
    assert!(
        cs.iter().any(|c| c.has_error),
        "the broken definition is marked"
    );
}

#[test]
fn deeply_nested_blocks_in_a_template() {
    // One EEx block opened per tag and closed 100k tags later: one expression of the
    // template's code, nested 100k deep.
    let mut src = "<%= if ok?(x) do %><p>\n".repeat(DEPTH);
    src.push_str(&"</p><% end %>\n".repeat(DEPTH));
    deep("100k nested EEx blocks", src.as_bytes());
    let src = format!(
        "<p class={{{}1{}}}></p>\n",
        "{".repeat(DEPTH),
        "}".repeat(DEPTH)
    );
    deep("100k nested braces in a HEEx attribute", src.as_bytes());
}

#[test]
fn deeply_nested_unbalanced_delimiters() {
    // Never closed: the parser's error recovery sees 100k open frames.
    deep("100k unclosed (", "(".repeat(DEPTH).as_bytes());
    deep(
        "100k unclosed [ in a module",
        format!("defmodule A do\n{}", "[".repeat(DEPTH)).as_bytes(),
    );
    deep("100k unmatched )", ")".repeat(DEPTH).as_bytes());
}

#[test]
fn deeply_nested_modules_are_kept_and_marked() {
    // 100k levels: no overflow. 40 levels: the 32 outer modules are chunked, the rest is
    // kept in the chunk before it, tagged `too_deep`, never dropped.
    let mut src = "defmodule M do\n".repeat(DEPTH);
    src.push_str(&"end\n".repeat(DEPTH));
    deep("100k nested defmodule", src.as_bytes());
    let mut src = String::new();
    for level in 0..40 {
        src.push_str(&format!(
            "defmodule M{level} do\n  def f{level}(x), do: x\n"
        ));
    }
    src.push_str(&"end\n".repeat(40));
    let cs = run_chunker("lib/deep.ex", src.as_bytes(), &ChunkerConfig::default()).expect("chunks");
    let joined: String = cs.iter().map(|c| c.content.as_str()).collect();
    assert_eq!(joined, src, "the chunks tile the file");
    let deep: Vec<&Chunk> = cs
        .iter()
        .filter(|c| c.tags.iter().any(|t| t == "too_deep"))
        .collect();
    assert_eq!(
        deep.len(),
        1,
        "one chunk holds the modules too deep to walk"
    );
    assert!(deep[0].content.contains("defmodule M39 do"));
    assert!(
        cs.iter().any(|c| c.name == "f31"),
        "the 32 outer levels are chunked"
    );
}

#[test]
fn deeply_nested_modules_in_a_test_body() {
    // A test lists the modules its body defines: 100k nested ones, and 100k nested
    // blocks each defining one, are walked without recursion; the chunk lists the
    // outer levels only and says so (`too_deep`).
    let test = |body: String| format!("defmodule ATest do\n  test \"t\" do\n{body}  end\nend\n");
    let nested = test(format!(
        "{}{}",
        "defmodule M do\n".repeat(DEPTH),
        "end\n".repeat(DEPTH)
    ));
    deep("100k nested defmodule in a test", nested.as_bytes());
    let blocks = test(format!(
        "{}{}",
        "if x do\ndefmodule M do\nend\nM.f()\n".repeat(DEPTH),
        "end\n".repeat(DEPTH)
    ));
    deep(
        "100k nested if/do defining a module in a test",
        blocks.as_bytes(),
    );
    let cs = run_chunker(
        "test/a_test.exs",
        nested.as_bytes(),
        &ChunkerConfig::default(),
    )
    .expect("chunks");
    let test_chunk = cs.iter().find(|c| c.name == "t").expect("the test's chunk");
    assert!(
        test_chunk.tags.iter().any(|t| t == "too_deep"),
        "{:?}",
        test_chunk.tags
    );
    assert_eq!(
        test_chunk.defines.len(),
        32,
        "the 32 outer levels are listed"
    );
    assert_eq!(test_chunk.defines[1].module, "ATest.M.M");
}

#[test]
fn deeply_nested_anonymous_functions() {
    let src = format!(
        "defmodule A do\n  def f do\n{}x{}\n  end\nend\n",
        "fn -> ".repeat(DEPTH),
        " end".repeat(DEPTH)
    );
    deep("100k nested fn ->", src.as_bytes());
}

#[test]
fn long_operator_chains() {
    let src = format!(
        "defmodule A do\n  def f(x) do\n    {}1\n  end\nend\n",
        "x + ".repeat(DEPTH)
    );
    deep("100k-term + chain", src.as_bytes());
    let src = format!("x{}\n", " |> f()".repeat(DEPTH));
    deep("100k-stage pipe", src.as_bytes());
    let src = format!("x = 1{}\n", " = 1".repeat(DEPTH)); // right-associative match chain
    deep("100k-deep = chain", src.as_bytes());
}

#[test]
fn deeply_nested_modules() {
    let mut src = String::new();
    for i in 0..DEPTH {
        src.push_str(&format!("defmodule M{i} do\n"));
        if i % 1000 == 0 {
            src.push_str(&format!("  def f{i}(x), do: x\n"));
        }
    }
    src.push_str(&"end\n".repeat(DEPTH));
    deep("100k nested defmodule", src.as_bytes());
    // The outermost modules still get their own headers.
    let cs = chunk_ok("lib/deep.ex", src.as_bytes(), &ChunkerConfig::default());
    assert_eq!(cs[0].kind, ChunkKind::ModuleHeader, "{}", dump(&cs));
    assert_eq!(cs[0].module, "M0", "{}", dump(&cs));

    // Same shape with an unclosed tail: modules whose bodies end in an ERROR node.
    let unclosed = "defmodule M do\n  def f(x) do\n".repeat(DEPTH / 2);
    deep("50k nested unclosed defmodule + def", unclosed.as_bytes());
}

// ------------------------------------------------------------------------------ huge files

/// Function blocks per generated module: ~64 KB modules, so a 50 MB file has ~800 of them
/// and ~250,000 chunks.
const FUNCTION_BLOCKS: usize = 40;

/// A module of the 50 MB file: a header (doc, alias, struct, type) and
/// [`FUNCTION_BLOCKS`] blocks of ~1.6 KB of documented functions with distinct names.
fn generated_module(i: usize) -> String {
    let mut out = format!(
        r##"defmodule Gen.Mod{i} do
  @moduledoc """
  Generated module number {i}, used to check that very large files chunk and tile.
  It has a struct, a type, documented functions with specs and a few private helpers.
  """

  alias Gen.Mod{prev}, as: Prev
  import Enum, only: [map: 2, reduce: 3]

  defstruct [:id, :name, tags: []]

  @type t :: %__MODULE__{{id: integer(), name: String.t(), tags: [atom()]}}

"##,
        prev = i.saturating_sub(1),
    );
    for j in 0..FUNCTION_BLOCKS {
        out.push_str(&function_block(i, j));
    }
    out.push_str("end\n\n");
    out
}

fn function_block(i: usize, j: usize) -> String {
    format!(
        r##"  @doc """
  Builds a `t` for `id` {i}.

      iex> Gen.Mod{i}.new_{j}({i}, "n")
      %Gen.Mod{i}{{id: {i}, name: "n", tags: []}}
  """
  @spec new_{j}(integer(), String.t()) :: t()
  def new_{j}(id, name) when is_integer(id) and is_binary(name) do
    %__MODULE__{{id: id, name: name}}
  end

  @doc "Adds a tag, keeping tags unique."
  @spec tag_{j}(t(), atom()) :: t()
  def tag_{j}(%__MODULE__{{tags: tags}} = s, tag) when is_atom(tag) do
    if tag in tags, do: s, else: %{{s | tags: [tag | tags]}}
  end

  @doc "Sums the ids of a list of structs, checking each one."
  @spec total_{j}([t()]) :: integer()
  def total_{j}(list) do
    list
    |> map(&check_{j}!/1)
    |> reduce(0, fn %{{id: id}}, acc -> acc + id end)
  end

  def describe_{j}(%__MODULE__{{name: name, id: id}}) do
    case Prev.describe_id_{j}(id) do
      {{:ok, text}} -> "#{{name}} (#{{text}})"
      :error -> "#{{name}} (#{{id}} of module {i})"
    end
  end

  def describe_id_{j}(id) when id > {i}, do: {{:ok, Integer.to_string(id)}}
  def describe_id_{j}(_id), do: :error

  defp check_{j}!(%__MODULE__{{id: id}} = s) when is_integer(id), do: s
  defp check_{j}!(other), do: raise(ArgumentError, "not a Gen.Mod{i}: #{{inspect(other)}}")

  defp helper_{i}_{j}(x) do
    x
    |> Kernel.+({i})
    |> Kernel.*(2)
    |> Integer.to_string()
    |> String.pad_leading(12, "0")
  end

  # Keeps the private helper in use so the compiler does not warn.
  def padded_{j}(x), do: helper_{i}_{j}(x)

"##
    )
}

#[test]
fn fifty_megabyte_file_is_skipped_by_default_and_chunks_when_allowed() {
    const TARGET: usize = 50_000_000;
    let mut src = String::with_capacity(TARGET + 4096);
    let mut modules = 0usize;
    while src.len() < TARGET {
        src.push_str(&generated_module(modules));
        modules += 1;
    }
    let bytes = src.into_bytes();
    eprintln!("generated {} bytes, {modules} modules", bytes.len());

    // (a) The default 4 MiB limit: skipped, with the true size and the limit.
    let default = ChunkerConfig::default();
    match chunk_file(REPO, "lib/huge.ex", &bytes, &default) {
        FileChunks::Skipped(SkipReason::TooLarge { size, limit }) => {
            assert_eq!(size, bytes.len() as u64);
            assert_eq!(limit, default.max_file_bytes);
        }
        other => panic!(
            "a 50 MB file must be skipped as too large, got {}",
            describe(&other)
        ),
    }
    // Size is checked before content: 50 MB of NUL bytes is too large, not binary.
    let zeros = vec![0u8; TARGET];
    assert!(matches!(
        chunk_file(REPO, "lib/zeros.ex", &zeros, &default),
        FileChunks::Skipped(SkipReason::TooLarge { .. })
    ));
    drop(zeros);

    // (b) With the limit raised to 64 MiB: chunked, tiled, one header per module, in order.
    let big = ChunkerConfig {
        max_file_bytes: 64 * 1024 * 1024,
        ..ChunkerConfig::default()
    };
    let cs = chunk_ok("lib/huge.ex", &bytes, &big);
    let headers: Vec<&str> = cs
        .iter()
        .filter(|c| c.kind == ChunkKind::ModuleHeader)
        .map(|c| c.module.as_str())
        .collect();
    assert_eq!(
        headers.len(),
        modules,
        "one module_header chunk per generated module"
    );
    for (i, name) in headers.iter().enumerate() {
        assert_eq!(*name, format!("Gen.Mod{i}"));
    }
    let errors = cs.iter().filter(|c| c.has_error).count();
    assert_eq!(errors, 0, "the generated file is valid Elixir");
    eprintln!("50 MB file: {} chunks", cs.len());
}

#[test]
fn the_size_limit_is_inclusive() {
    let src = b"defmodule A do\n  def f(x), do: x\nend\n";
    let at = ChunkerConfig {
        max_file_bytes: src.len() as u64,
        ..ChunkerConfig::default()
    };
    chunk_ok("lib/a.ex", src, &at);
    let below = ChunkerConfig {
        max_file_bytes: src.len() as u64 - 1,
        ..ChunkerConfig::default()
    };
    assert!(matches!(
        chunk_file(REPO, "lib/a.ex", src, &below),
        FileChunks::Skipped(SkipReason::TooLarge { size, limit })
            if size == src.len() as u64 && limit == src.len() as u64 - 1
    ));
    // A NUL byte just past the first 8 KiB does not make a file binary.
    let mut text = vec![b'a'; 8192];
    text.push(0);
    chunk_ok("notes.txt", &text, &ChunkerConfig::default());
}

fn describe(f: &FileChunks) -> String {
    match f {
        FileChunks::Chunked(cs) => format!("Chunked({} chunks)", cs.len()),
        FileChunks::Skipped(r) => format!("Skipped({r:?})"),
    }
}
