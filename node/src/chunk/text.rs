//! Files that are not Elixir (`.eex`, `.heex`, `.md`, `mix.lock`, ...) and Elixir scripts
//! with no module: runs of lines packed to the size budget, cut at paragraph breaks when
//! one is near.

use super::calls::RawCall;
use super::{ChunkKind, ChunkerConfig, Draft, FileInfo, Language, LineIndex};

/// Chunks a whole file by lines.
pub(crate) fn chunk(file: &FileInfo<'_>, config: &ChunkerConfig) -> Vec<super::Chunk> {
    if file.src.is_empty() {
        return Vec::new();
    }
    let lines = LineIndex::new(file.src);
    let calls = template_calls(file.path, file.src);
    // A template's code written over lines (`{cond do … end}`, `<%= if … do %>`) is
    // never cut: each part reads whole expressions.
    let protected: Vec<(usize, usize)> = match template_braces(file.path) {
        Some(braces) => (super::calls::template_code(file.src, braces).into_iter())
            .filter(|r| memchr::memchr(b'\n', &file.src[r.clone()]).is_some())
            .map(|r| (r.start, r.end))
            .collect(),
        None => Vec::new(),
    };
    let mut next = 0;
    line_drafts(file.src, 0, file.src.len(), config.budget, &protected)
        .into_iter()
        .map(|(start, end)| {
            let mut draft = Draft::new(ChunkKind::Text, start, end);
            draft.name = file.path.to_string();
            while let Some((at, call)) = calls.get(next).filter(|(at, _)| *at < end) {
                debug_assert!(*at >= start);
                match call {
                    RawCall::Remote { module, fun, arity } => {
                        draft.calls.push(super::symbol(module, fun, *arity))
                    }
                    RawCall::Local { fun, arity } => {
                        draft.unqualified_calls.push(super::symbol("", fun, *arity))
                    }
                    // An event binding: the embedding module's `handle_event/3`.
                    RawCall::OwnCallback { fun, arity, .. } => {
                        draft.unqualified_calls.push(super::symbol("", fun, *arity))
                    }
                    _ => {}
                }
                next += 1;
            }
            super::dedup_keep_first(&mut draft.calls);
            super::dedup_keep_first(&mut draft.unqualified_calls);
            draft.finish(file, Language::Text, &lines)
        })
        .collect()
}

/// What a template renders and calls, in the order of the file: in a `.heex` file the
/// function components (`<Mod.name>` as `Mod.name/1`, as written: a template has no
/// aliases of its own; `<.name>` as `name/1`) and the calls of its code (`<%= … %>`,
/// `{…}`); in an `.eex` or `.leex` file the calls of its `<%= … %>` code. The symbol
/// graph resolves them through the module that embeds the template. Other files: none.
fn template_calls(path: &str, src: &[u8]) -> Vec<(usize, RawCall)> {
    let mut calls = match template_braces(path) {
        Some(true) => {
            let mut calls = super::calls::component_tags(src);
            calls.extend(super::calls::template_code_calls(src, true));
            calls
        }
        Some(false) => {
            let mut calls = super::calls::template_code_calls(src, false);
            // A `.leex` template is a LiveView's: its bindings send it events.
            if path.ends_with(".leex") {
                calls.extend(super::calls::event_bindings(src));
            }
            calls
        }
        None => return Vec::new(),
    };
    calls.sort_by_key(|(at, _)| *at);
    calls
}

/// Whether `path` is a template, and whether its `{…}` are code: `.heex` (true), `.eex`
/// and `.leex` (false).
fn template_braces(path: &str) -> Option<bool> {
    if path.ends_with(".heex") {
        Some(true)
    } else if path.ends_with(".eex") || path.ends_with(".leex") {
        Some(false)
    } else {
        None
    }
}

/// Splits `[start, end)` of `src` into line runs of at most `budget` non-whitespace
/// characters (a single longer line, or a protected range, stays whole). Cuts never fall
/// strictly inside one of the `protected` ranges (strings, sigils, heredocs). The runs
/// tile `[start, end)` exactly. An empty range gives one empty run.
pub(crate) fn line_drafts(
    src: &[u8],
    start: usize,
    end: usize,
    budget: usize,
    protected: &[(usize, usize)],
) -> Vec<(usize, usize)> {
    let budget = budget.max(1);
    let mut runs = Vec::new();
    let mut run_start = start;
    let mut run_size = 0usize;
    // The best paragraph break seen in the current run: (cut position, size before it).
    let mut paragraph_cut: Option<usize> = None;
    let mut pos = start;
    let mut protect_idx = 0usize;
    while pos < end {
        let line_end = memchr::memchr(b'\n', &src[pos..end]).map_or(end, |i| pos + i + 1);
        let line = &src[pos..line_end];
        let line_size = super::non_whitespace_chars(line);
        let can_cut_here = {
            while protect_idx < protected.len() && protected[protect_idx].1 <= pos {
                protect_idx += 1;
            }
            !protected[protect_idx..]
                .iter()
                .take_while(|(s, _)| *s < pos)
                .any(|(s, e)| *s < pos && pos < *e)
        };
        if can_cut_here && pos > run_start && line_size > 0 && run_size + line_size > budget {
            let cut = match paragraph_cut {
                Some(c) if c > run_start => c,
                _ => pos,
            };
            runs.push((run_start, cut));
            run_size = super::non_whitespace_chars(&src[cut..pos]);
            run_start = cut;
            paragraph_cut = None;
        }
        if can_cut_here && line_size == 0 && run_size * 2 >= budget {
            paragraph_cut = Some(pos);
        }
        run_size += line_size;
        pos = line_end;
    }
    if run_start < end || runs.is_empty() {
        // A tail of blank lines belongs to the run before it.
        match runs.last_mut() {
            Some(last) if super::non_whitespace_chars(&src[run_start..end]) == 0 => last.1 = end,
            _ => runs.push((run_start, end)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiles(runs: &[(usize, usize)], start: usize, end: usize) {
        assert_eq!(runs.first().unwrap().0, start);
        assert_eq!(runs.last().unwrap().1, end);
        for w in runs.windows(2) {
            assert_eq!(w[0].1, w[1].0);
        }
    }

    #[test]
    fn packs_lines_to_the_budget() {
        let src = "aaaa\nbbbb\ncccc\ndddd\n".as_bytes();
        let runs = line_drafts(src, 0, src.len(), 8, &[]);
        assert_eq!(runs, vec![(0, 10), (10, 20)]);
        tiles(&runs, 0, src.len());
    }

    #[test]
    fn never_cuts_inside_a_protected_range() {
        let src = "aaaa\n\"\"\"\nbbbb\ncccc\n\"\"\"\ndddd\n".as_bytes();
        let runs = line_drafts(src, 0, src.len(), 4, &[(5, 23)]);
        tiles(&runs, 0, src.len());
        for (s, _) in &runs {
            assert!(
                !(5 < *s && *s < 23),
                "cut at {s} inside the heredoc: {runs:?}"
            );
        }
    }

    /// A template's `{…}` over lines is never cut, so each part reads it whole (Keila's
    /// `{cond do … end}` cut at its middle lost the calls in it).
    #[test]
    fn a_templates_expression_over_lines_is_not_cut() {
        let mut src = String::new();
        for i in 0..30 {
            src.push_str(&format!(
                "<p class=\"row-{i}\">{{helper_{i}(@item, :field)}}</p>\n"
            ));
        }
        let open = src.len();
        src.push_str("{cond do\n");
        for i in 0..30 {
            src.push_str(&format!(
                "  @x == {i} -> local_datetime_tag(@item.sent_at_{i})\n"
            ));
        }
        src.push_str("end}\n");
        let close = src.len();
        for i in 30..60 {
            src.push_str(&format!(
                "<p class=\"row-{i}\">{{helper_{i}(@item, :field)}}</p>\n"
            ));
        }
        let file = FileInfo {
            repo: "r",
            path: "lib/web/templates/a/index.html.heex",
            src: src.as_bytes(),
        };
        let chunks = chunk(&file, &ChunkerConfig::default());
        assert!(chunks.len() > 1, "{chunks:?}");
        for c in &chunks {
            assert!(
                !(open < c.start_byte && c.start_byte < close - 1),
                "cut at {} inside {open}..{close}",
                c.start_byte
            );
        }
        let calls = chunks.iter().flat_map(|c| &c.unqualified_calls);
        assert_eq!(
            calls.filter(|c| *c == "local_datetime_tag/1").count(),
            1,
            "{chunks:?}"
        );
    }

    #[test]
    fn empty_range_gives_one_run() {
        assert_eq!(line_drafts(b"", 0, 0, 10, &[]), vec![(0, 0)]);
    }
}
