//! Pieces over the size budget become parts with headers: a clause group splits by clause,
//! a clause by runs of its body's statements, and what is still too big by lines (never
//! inside a string, sigil or heredoc). The parts tile the piece exactly; each carries a
//! header (path, module, specs, signature, `part k/n`) so it reads on its own.

use tree_sitter::Node;

use super::calls::child_of_kind;
use super::size::non_whitespace_chars;
use super::text::line_drafts;
use super::{ChunkKind, Definition, Draft, FileInfo, collapse_whitespace, text_of};

/// Splits a piece over the budget into parts with headers: a clause group by clause, a
/// clause by runs of its body's statements, and what is still too big by lines (never
/// inside a string, sigil or heredoc).
pub(crate) fn split(
    file: &FileInfo<'_>,
    mut draft: Draft,
    nodes: &[Node<'_>],
    root: Node<'_>,
    budget: usize,
    out: &mut Vec<Draft>,
) {
    let src = file.src;
    let (start, end) = (draft.start, draft.end);
    if non_whitespace_chars(&src[start..end]) <= budget {
        out.push(draft);
        return;
    }
    // Never cut inside a string, sigil or heredoc: found in the file's tree, so those of
    // the statements a piece starts with (a function's `@doc`, a test's data attribute)
    // and of pieces made of no definition (a `@callback` and its doc, a script's lines)
    // count as much as those of its clauses.
    let strings = |s: usize, e: usize| strings_in(src, root.descendant_for_byte_range(s, e), s, e);
    let mut ranges = Vec::new();
    // What comes before the first clause (its `@doc`, `@spec`, attributes): when over
    // half the budget by itself, it is a part (or parts) of its own, and the code after it
    // is cut as if it were alone, not into the leftovers of the doc's lines: the head of
    // the function goes with its body, not at the end of the doc's part.
    let lead = (nodes.first())
        .filter(|_| draft.kind != ChunkKind::ModuleHeader)
        .map(|n| line_start_cut(src, n.start_byte()))
        .filter(|&c| c > start);
    let long_lead = lead.filter(|&c| non_whitespace_chars(&src[start..c]) > budget / 2);
    if nodes.len() > 1 {
        // A first clause with no `do` block (a bodiless head for defaults, a one-line
        // `do:`) may part from a `@doc` before it, to go with the clauses after it: cut
        // only by lines, the doc and the head made a part of two lines.
        let first =
            lead.filter(|_| long_lead.is_some() || child_of_kind(nodes[0], "do_block").is_none());
        let cuts: Vec<usize> = (first.into_iter())
            .chain(
                nodes[1..]
                    .iter()
                    .map(|n| line_start_cut(src, n.start_byte())),
            )
            .collect();
        for (s, e) in pack(src, start, end, &cuts, budget) {
            let clause = nodes
                .iter()
                .filter(|n| n.start_byte() < e && n.end_byte() > s)
                .copied()
                .collect::<Vec<_>>();
            if clause.len() == 1 && non_whitespace_chars(&src[s..e]) > budget {
                let protected = strings(s, e);
                split_statements(src, clause[0], (s, e), budget, &protected, &mut ranges);
            } else if non_whitespace_chars(&src[s..e]) > budget {
                ranges.extend(line_drafts(src, s, e, budget, &strings(s, e)));
            } else {
                ranges.push((s, e));
            }
        }
    } else if let Some(node) = nodes.first() {
        let code = long_lead.unwrap_or(start);
        if code > start {
            ranges.extend(line_drafts(src, start, code, budget, &strings(start, code)));
        }
        let protected = strings(code, end);
        split_statements(src, *node, (code, end), budget, &protected, &mut ranges);
    } else {
        ranges = line_drafts(src, start, end, budget, &strings(start, end));
    }
    join_tiny_parts(src, &mut ranges, budget);
    let n = ranges.len() as u32;
    if n <= 1 {
        out.push(draft);
        return;
    }
    let mut header = format!("# {}\n", file.path);
    // A protocol's or implementation's header reads under its own first line
    // (`defprotocol Jason.Encoder do`), not under a `defmodule` it does not have.
    let opener = (draft.kind == ChunkKind::ModuleHeader)
        .then(|| draft.signature.trim_end_matches(" do"))
        .filter(|s| s.starts_with("defprotocol ") || s.starts_with("defimpl "))
        .map(str::to_string);
    match &opener {
        Some(first_line) => header.push_str(&format!("{first_line} do\n")),
        None if !draft.module.is_empty() => {
            header.push_str(&format!("defmodule {} do\n", draft.module));
        }
        None => {}
    }
    for s in &draft.specs {
        header.push_str(&format!("  {s}\n"));
    }
    // Types and callbacks go with the part holding their line: a long module header's
    // are found in the part that shows them (`GenServer.handle_call/3` in
    // the part with its `@callback`, not in the first part of the moduledoc).
    let mut part_lines: Vec<u32> = Vec::with_capacity(ranges.len());
    let (mut line, mut at) = (1u32, 0usize);
    for &(s, _) in &ranges {
        line += memchr::memchr_iter(b'\n', &src[at..s]).count() as u32;
        at = s;
        part_lines.push(line);
    }
    // Each definition goes with the part that shows its head (a long `@doc` can be a
    // part of its own), and carries the calls of every part. Sorted out once: a piece
    // split into thousands of parts may hold hundreds of definitions.
    let mut by_part: Vec<Vec<Definition>> = vec![Vec::new(); ranges.len()];
    for d in std::mem::take(&mut draft.defines) {
        let k = part_lines
            .partition_point(|&l| l <= d.line)
            .saturating_sub(1);
        by_part[k].push(d);
    }
    // A part that starts inside a template heredoc reads under its opener (`~H"""`).
    let sigil = |name: &[u8]| memchr::memmem::find(&src[start..end], name).is_some();
    let templates = match [b"~H", b"~F", b"~E", b"~L"].into_iter().any(|s| sigil(s)) {
        true => template_heredocs_in(src, root.descendant_for_byte_range(start, end), start, end),
        false => Vec::new(),
    };
    for (k, ((s, e), defines)) in ranges.into_iter().zip(by_part).enumerate() {
        let mut draft = draft.clone();
        draft.defines = defines;
        draft.start = s;
        draft.end = e;
        draft.part = Some((k as u32 + 1, n));
        if draft.kind == ChunkKind::ModuleHeader {
            // Split at its statements, read under its `defmodule` line.
        } else if let Some(sig) = clause_signature(src, nodes, s) {
            // A part of a later clause reads under that clause's head.
            draft.signature = sig;
        }
        let sig = if draft.signature.is_empty() {
            draft.name.clone()
        } else {
            draft.signature.clone()
        };
        draft.header = if draft.kind == ChunkKind::ModuleHeader
            && (sig.starts_with("defmodule ") || opener.is_some())
        {
            // Its signature is the first line the header already shows; the first part
            // starts with that line itself, which is not shown twice.
            let last = header
                .trim_end_matches('\n')
                .rsplit('\n')
                .next()
                .unwrap_or("");
            // Its first line of code: comments may come first (Nerves' SPDX lines).
            let written = String::from_utf8_lossy(&src[s..e.min(s + MAX_LEAD_BYTES)]);
            let code = (written.lines().map(str::trim_start))
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .unwrap_or("");
            match (k, last.trim()) {
                (0, line) if line.starts_with("def") && code.starts_with(line) => {
                    let above = &header[..header.len() - last.len() - 1];
                    format!("{above}  # part {}/{n}\n", k + 1)
                }
                _ => format!("{header}  # part {}/{n}\n", k + 1),
            }
        } else {
            format!("{header}  {sig} # part {}/{n}\n", k + 1)
        };
        if let Some((_, _, template, _)) =
            (templates.iter()).find(|(ts, te, ..)| *ts < s && s < *te)
        {
            draft.header.push_str(&format!("    {template}\n"));
        }
        // The doc stays with the first part, which shows it, and goes with the part
        // holding the function's head, or the `@callback`'s or `@type`'s line, which
        // the definition names.
        let names_its_definition = if draft.kind == ChunkKind::Type {
            !draft.defines.is_empty()
        } else {
            draft
                .defines
                .iter()
                .any(|d| d.kind.is_callable() && !d.implied)
        };
        if k > 0 && !names_its_definition {
            draft.doc = None;
        }
        out.push(draft);
    }
}

/// Joins a part smaller than an eighth of the budget to the next part (or else to the one
/// before it) when both fit the budget together, a small first part (a `defmodule`
/// line, a head before a heredoc that cannot be cut) to the next whatever its size, and
/// a part of next to nothing (the `end` after a heredoc that cannot be cut) to the one
/// before it whatever its size: a part of two lines reads as nothing on its own.
fn join_tiny_parts(src: &[u8], ranges: &mut Vec<(usize, usize)>, budget: usize) {
    let tiny = budget / 8;
    let size = |(s, e): (usize, usize)| non_whitespace_chars(&src[s..e]);
    let mut i = 0;
    while i < ranges.len() && ranges.len() > 1 {
        let own = size(ranges[i]);
        if own >= tiny {
            i += 1;
            continue;
        }
        let next = ranges.get(i + 1).map(|&r| size(r));
        let before = i.checked_sub(1).map(|k| size(ranges[k]));
        if let Some(next) = next
            && (i == 0 || own + next <= budget)
        {
            ranges[i + 1].0 = ranges[i].0;
            ranges.remove(i);
        } else if let Some(before) = before
            && (own + before <= budget || own <= NEXT_TO_NOTHING)
        {
            ranges[i - 1].1 = ranges[i].1;
            ranges.remove(i);
            i -= 1;
        } else {
            i += 1;
        }
    }
}

/// The most a part may hold (non-whitespace characters) to be next to nothing: `end`,
/// `end)`, `""" end`.
const NEXT_TO_NOTHING: usize = 8;

/// How far into a split module header's first part its `defmodule` line is looked for,
/// past the comments above it (a license's lines).
const MAX_LEAD_BYTES: usize = 2048;

/// The head (up to `do`) of the clause a part starting at `start` belongs to, when the
/// piece has several clauses.
fn clause_signature(src: &[u8], nodes: &[Node<'_>], start: usize) -> Option<String> {
    if nodes.len() < 2 {
        return None;
    }
    let clause = nodes
        .iter()
        .rev()
        .find(|n| line_start_cut(src, n.start_byte()) <= start)
        .or(nodes.first())?;
    let head = child_of_kind(*clause, "arguments")?.named_child(0)?;
    let keyword = clause.child_by_field_name("target")?;
    Some(
        if src[clause.start_byte()..head.start_byte()].contains(&b'(') {
            // `def(f(x), do: x)`: the head without the call's own parenthesis.
            format!(
                "{} {}",
                String::from_utf8_lossy(&src[keyword.start_byte()..keyword.end_byte()]),
                collapse_whitespace(&text_of(src, head.start_byte(), head.end_byte()))
            )
        } else {
            collapse_whitespace(&text_of(src, clause.start_byte(), head.end_byte()))
        },
    )
}

/// Splits one clause (or test block, or a header's statement) by runs of its body's
/// statements, then by lines, never inside the `protected` ranges (its strings).
fn split_statements(
    src: &[u8],
    node: Node<'_>,
    (start, end): (usize, usize),
    budget: usize,
    protected: &[(usize, usize)],
    out: &mut Vec<(usize, usize)>,
) {
    let statements: Vec<usize> = match child_of_kind(node, "do_block") {
        Some(block) => {
            let mut cursor = block.walk();
            block
                .named_children(&mut cursor)
                .skip(1)
                .map(|s| line_start_cut(src, s.start_byte()))
                .filter(|&b| b > start && b < end)
                .collect()
        }
        None => Vec::new(),
    };
    for (s, e) in pack(src, start, end, &statements, budget) {
        if non_whitespace_chars(&src[s..e]) > budget {
            let inside: Vec<(usize, usize)> = protected
                .iter()
                .copied()
                .filter(|&(a, b)| a < e && b > s)
                .collect();
            out.extend(line_drafts(src, s, e, budget, &inside));
        } else {
            out.push((s, e));
        }
    }
}

/// Moves a cut back to the start of its line when only indentation precedes it there, so
/// parts start on their own line with their indentation.
fn line_start_cut(src: &[u8], cut: usize) -> usize {
    let line_start = memchr::memrchr(b'\n', &src[..cut]).map_or(0, |i| i + 1);
    if src[line_start..cut]
        .iter()
        .all(|b| *b == b' ' || *b == b'\t')
    {
        line_start
    } else {
        cut
    }
}

/// Greedily packs `[start, end)` into runs cut only at `cuts` (ascending), each run within
/// `budget` where the cuts allow.
fn pack(
    src: &[u8],
    start: usize,
    end: usize,
    cuts: &[usize],
    budget: usize,
) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut run_start = start;
    let mut last_ok: Option<usize> = None;
    for &c in cuts.iter().filter(|&&c| c > start && c < end) {
        if non_whitespace_chars(&src[run_start..c]) > budget {
            let cut = last_ok.filter(|&l| l > run_start).unwrap_or(c);
            runs.push((run_start, cut));
            run_start = cut;
            last_ok = if cut < c && non_whitespace_chars(&src[run_start..c]) <= budget {
                Some(c)
            } else if cut < c {
                runs.push((run_start, c));
                run_start = c;
                None
            } else {
                None
            };
        } else {
            last_ok = Some(c);
        }
    }
    if non_whitespace_chars(&src[run_start..end]) > budget
        && let Some(l) = last_ok.filter(|&l| l > run_start)
    {
        runs.push((run_start, l));
        run_start = l;
    }
    runs.push((run_start, end));
    runs
}

/// A template heredoc (`~H"""`, `~F`, `~LVN`, `~E`, `~L`): its span, the opener as written, and
/// whether its `{…}` are code; `None` for any other node.
fn template_heredoc(n: Node<'_>, src: &[u8]) -> Option<(usize, usize, String, bool)> {
    if n.kind_id() != super::calls::grammar().sigil {
        return None;
    }
    let braces = match child_of_kind(n, "sigil_name").map(|s| &src[s.start_byte()..s.end_byte()]) {
        Some(b"H" | b"F" | b"LVN") => true,
        Some(b"E" | b"L") => false,
        _ => return None,
    };
    let text = &src[n.start_byte()..n.end_byte()];
    let opener = &text[..memchr::memchr(b'\n', text)?];
    let opener = std::str::from_utf8(opener).ok()?.trim_end();
    (opener.ends_with("\"\"\"") || opener.ends_with("'''"))
        .then(|| (n.start_byte(), n.end_byte(), opener.to_string(), braces))
}

/// The template heredocs ([`template_heredoc`]) under `node` that overlap `[start, end)`.
fn template_heredocs_in(
    src: &[u8],
    node: Option<Node<'_>>,
    start: usize,
    end: usize,
) -> Vec<(usize, usize, String, bool)> {
    (overlapping_strings(node, start, end).into_iter())
        .filter_map(|n| template_heredoc(n, src))
        .collect()
}

/// The strings, charlists and sigils under `node` that overlap `[start, end)`, outermost
/// (none inside another).
fn overlapping_strings(node: Option<Node<'_>>, start: usize, end: usize) -> Vec<Node<'_>> {
    let Some(node) = node else {
        return Vec::new();
    };
    let g = super::calls::grammar();
    let strings = [g.kind("string"), g.kind("charlist"), g.kind("sigil")];
    let mut out = Vec::new();
    let mut cursor = node.walk();
    'walk: loop {
        let n = cursor.node();
        let overlaps = n.start_byte() < end && n.end_byte() > start;
        let is_string = strings.contains(&n.kind_id());
        if overlaps && is_string {
            out.push(n);
        }
        // Into the children from the first that reaches the range (a block of thousands
        // of statements is not read from its first for each range).
        if overlaps && !is_string && cursor.goto_first_child_for_byte(start).is_some() {
            continue;
        }
        loop {
            // After a node that reaches the end of the range, its siblings are past it.
            if cursor.node().end_byte() < end && cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    out
}

/// Byte ranges of strings, charlists and sigils under `node` that overlap `[start, end)`:
/// never cut inside. A template heredoc (`~H"""`) may be cut between its lines of
/// markup: only its code written over lines (`{cond do … end}`) is such a range.
fn strings_in(src: &[u8], node: Option<Node<'_>>, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for n in overlapping_strings(node, start, end) {
        match template_heredoc(n, src) {
            Some((ts, te, opener, braces)) => {
                // The opener's line, and the code over lines in its content.
                let body = ts + opener.len();
                out.push((ts, body + 1));
                let html = &src[body..te];
                for code in super::calls::template_code(html, braces) {
                    if memchr::memchr(b'\n', &html[code.clone()]).is_some() {
                        out.push((body + code.start, body + code.end));
                    }
                }
            }
            None => out.push((n.start_byte(), n.end_byte())),
        }
    }
    out.sort_unstable();
    out
}
