//! Recovery from a broken definition that swallows the code after it.
//!
//! tree-sitter recovers from most errors locally, but an unclosed construct inside a
//! definition (`def broken(x do`, a `case` missing its `end`, a trailing `def g(`) can make
//! the parser read every later definition of the file, other modules included, as part of
//! the broken one: `def ok2` becomes an argument of `broken`, and nothing after it is
//! indexed. When the tree has errors, [`repair`] looks for definitions whose node runs past
//! their own lines — the lines up to the first one indented no deeper than the `def`
//! (formatted Elixir closes a definition with `end` at its own indentation) — blanks those
//! lines in a copy of the source and parses again. The blanked lines become one `text`
//! chunk with `has_error` (`carve` in `elixir.rs`); everything after them chunks as if they were not
//! there. Files without errors never get here.

use memchr::memchr;
use tree_sitter::{Node, Tree};

use super::Draft;
use super::calls::DEF_KEYWORDS;

/// Parses again at most this many times per file.
const MAX_ROUNDS: usize = 8;

/// Test blocks are definitions too: a broken `test "…" do` swallows the same way.
const TEST_KEYWORDS: [&str; 5] = ["test", "describe", "property", "setup", "setup_all"];

const MODULE_KEYWORDS: [&str; 3] = ["defmodule", "defprotocol", "defimpl"];

/// Attributes that lead into the definition below them.
const LEAD_ATTRIBUTES: [&str; 4] = ["doc", "spec", "impl", "deprecated"];

/// Keywords at a definition's own indentation that continue it (`def f do … rescue … end`).
const CONTINUATIONS: [&str; 4] = ["rescue", "catch", "else", "after"];

/// Definitions nested in an overgrown one are searched this deep for the one to blame.
const MAX_NESTING: usize = 8;

/// Definitions checked per round at most: each check looks up nodes from the root, which
/// costs the tree's depth, so a pathological file (50,000 nested unclosed modules) gives
/// up on repair instead of taking minutes. Real broken files need a few.
const MAX_CHECKS: usize = 512;

/// Re-parses `src` with the lines of overgrown definitions blanked, until none is left
/// (or [`MAX_ROUNDS`]); returns the tree of the repaired source and the blanked byte
/// ranges (whole lines), sorted and disjoint. The repaired source has the same length and the same
/// bytes outside those ranges, so node ranges and texts read from `src` stay right.
pub(crate) fn repair(
    src: &[u8],
    mut tree: Tree,
    parse: impl Fn(&[u8]) -> Option<Tree>,
) -> (Tree, Vec<(usize, usize)>) {
    let mut blanked = Vec::new();
    let mut copy: Option<Vec<u8>> = None;
    for _ in 0..MAX_ROUNDS {
        if !tree.root_node().has_error() {
            break;
        }
        let regions = overgrown(copy.as_deref().unwrap_or(src), tree.root_node());
        if regions.is_empty() {
            break;
        }
        let buf = copy.get_or_insert_with(|| src.to_vec());
        for &(start, end) in &regions {
            for b in &mut buf[start..end] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
        }
        match parse(buf) {
            Some(t) => tree = t,
            None => break,
        }
        blanked.extend(regions);
    }
    blanked.sort_unstable();
    // Ranges of several rounds or candidates may overlap: keep them disjoint.
    let mut disjoint: Vec<(usize, usize)> = Vec::with_capacity(blanked.len());
    for (start, end) in blanked {
        match disjoint.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => disjoint.push((start, end)),
        }
    }
    (tree, disjoint)
}

/// The line ranges to blank: definitions that run past their own lines and swallow later
/// definitions (the innermost such, with the `@doc`/`@spec`/comment lines above them); or,
/// when there is none, the lines of definition keywords the parser left bare in an
/// `ERROR`. The walk is iterative and only enters nodes with errors.
fn overgrown(src: &[u8], root: Node<'_>) -> Vec<(usize, usize)> {
    let mut calls = Vec::new();
    let mut bare = Vec::new();
    let mut budget = MAX_CHECKS;
    find(
        src,
        root,
        root,
        usize::MAX,
        0,
        &mut budget,
        &mut calls,
        &mut bare,
    );
    if !calls.is_empty() {
        return calls;
    }
    // A definition that looks whole but stops where an ERROR starts on its own lines
    // (`def broken(x do` can parse as a body-less `def broken` followed by an ERROR
    // holding the rest of the module): it is the one to blame, not what the ERROR holds.
    let mut before_error = Vec::new();
    let mut budget = MAX_CHECKS;
    preorder_with_prev(root, |node, prev| {
        if budget == 0 {
            return false;
        }
        if node.is_error()
            && let Some(prev) = prev
            && is_definition(prev, src)
        {
            budget -= 1;
            if let Some((start, end, _)) = own_lines(src, root, prev.start_byte())
                && node.start_byte() < end
            {
                // Its lead lines later, for the first only: a definition's lead never
                // reaches back past an earlier one, so the order is the same.
                before_error.push((start, end, prev));
            }
        }
        node.has_error()
    });
    if let Some((start, end, prev)) = before_error.into_iter().min_by_key(|&(s, e, _)| (s, e)) {
        return vec![(with_lead(src, prev, start), end)];
    }
    // A bare keyword may be a whole definition the parser lost with the broken one before
    // it (`def b(y), do: y` after an unclosed `case`): blank the first, parse again.
    bare.into_iter()
        .min_by_key(|n| n.start_byte())
        .and_then(|first| {
            let (start, end, _) = own_lines(src, root, first.start_byte())?;
            Some((with_lead(src, first, start), end))
        })
        .into_iter()
        .collect()
}

/// [`overgrown`] inside `top` (a definition already found overgrown, or the root),
/// among definitions starting before `within` (the end of `top`'s own lines).
#[allow(clippy::too_many_arguments)]
fn find<'t>(
    src: &[u8],
    root: Node<'t>,
    top: Node<'t>,
    within: usize,
    nesting: usize,
    budget: &mut usize,
    calls: &mut Vec<(usize, usize)>,
    bare: &mut Vec<Node<'t>>,
) {
    preorder(top, |node| {
        if *budget == 0 {
            return false;
        }
        // The definition that swallows may itself be whole (a `case` missing its `end`
        // takes the definition's `end`, the module's goes missing): check every definition
        // met inside a node with errors.
        if node.id() != top.id()
            && node.start_byte() < within
            && is_definition(node, src)
            && let Some(left) = budget.checked_sub(1)
            && {
                *budget = left;
                true
            }
            && let Some((start, end, col)) = own_lines(src, root, node.start_byte())
            && swallows(src, root, col, end, node.end_byte())
        {
            // A definition on its own lines may be the one to blame (a broken test
            // swallows the rest of its describe, which then swallows what follows): the
            // innermost wins. Definitions after its own lines are what it swallowed.
            let found = calls.len();
            if nesting < MAX_NESTING {
                find(src, root, node, end, nesting + 1, budget, calls, bare);
            }
            if calls.len() == found {
                calls.push((with_lead(src, node, start), end));
            }
            return false;
        }
        // Inside an overgrown definition, the one to blame may be whole in the tree.
        let descend = node.id() == top.id() || nesting > 0 || node.has_error();
        if node.is_error() {
            // A definition keyword the parser could not make a call of (`def broken(x do`
            // can leave `def` and `broken` as bare identifiers in an ERROR): its lines are
            // broken whatever follows them.
            let mut children = node.walk();
            if let Some(child) = node.children(&mut children).find(|child| {
                child.kind() == "identifier"
                    && is_keyword(&src[child.start_byte()..child.end_byte()])
            }) {
                bare.push(child);
            }
        }
        descend
    });
}

/// Where the lines of a definition starting at `start` begin once the `@doc`, `@spec`,
/// `@impl`, `@deprecated` and comment lines just above it are counted in: they belong to
/// it, and left alone they would lead into the next definition.
fn with_lead(src: &[u8], node: Node<'_>, start: usize) -> usize {
    // The named siblings before `node`, walked once from the parent's first child:
    // `prev_named_sibling` starts over from there at each step, quadratic over 100,000
    // comment lines above a definition.
    let before: Vec<Node<'_>> = match node.parent() {
        Some(parent) => {
            let mut children = parent.walk();
            (parent.named_children(&mut children))
                .take_while(|n| n.id() != node.id())
                .collect()
        }
        None => Vec::new(),
    };
    let mut start = start;
    for p in before.into_iter().rev() {
        let lead = p.kind() == "comment"
            || (p.kind() == "unary_operator" && {
                let text = &src[p.start_byte()..p.end_byte()];
                LEAD_ATTRIBUTES.iter().any(|a| {
                    text.strip_prefix(b"@")
                        .and_then(|t| t.strip_prefix(a.as_bytes()))
                        .is_some_and(|t| {
                            t.first()
                                .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'_')
                        })
                })
            });
        let line_start = src[..p.start_byte()]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        if !lead
            || !src[line_start..p.start_byte()]
                .iter()
                .all(|&b| b == b' ' || b == b'\t')
            || !src[p.end_byte()..start].iter().all(u8::is_ascii_whitespace)
            || src[p.end_byte()..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                > 1
        {
            break;
        }
        start = line_start;
    }
    start
}

/// Whether the lines `[from, to)` hold, indented no deeper than `col`, the keyword of a
/// definition or module (not text inside a string or a comment).
fn swallows(src: &[u8], root: Node<'_>, col: usize, from: usize, to: usize) -> bool {
    let mut pos = from;
    while pos < to {
        let (line_end, depth) = line_at(src, pos);
        let line = &src[pos..line_end];
        if depth <= col {
            let word_len = line[depth..]
                .iter()
                .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_')
                .count();
            let word = &line[depth..depth + word_len];
            let keyword = DEF_KEYWORDS
                .iter()
                .chain(TEST_KEYWORDS.iter())
                .chain(MODULE_KEYWORDS.iter())
                .any(|k| k.as_bytes() == word);
            // Not text inside a string or a comment (the parser may have mangled the
            // keyword itself into an ERROR).
            if keyword
                && root
                    .descendant_for_byte_range(pos + depth, pos + depth + word_len)
                    .is_some_and(|n| !matches!(n.kind(), "quoted_content" | "comment"))
            {
                return true;
            }
        }
        pos = line_end;
    }
    false
}

/// A call of `def`, `defp`, … or of `test`, `describe`, … .
fn is_definition(node: Node<'_>, src: &[u8]) -> bool {
    if node.kind() != "call" {
        return false;
    }
    let Some(target) = node.child_by_field_name("target") else {
        return false;
    };
    target.kind() == "identifier" && is_keyword(&src[target.start_byte()..target.end_byte()])
}

fn is_keyword(word: &[u8]) -> bool {
    DEF_KEYWORDS
        .iter()
        .chain(TEST_KEYWORDS.iter())
        .any(|k| k.as_bytes() == word)
}

/// The lines a definition starting at byte `start` owns: its first line, then every line indented
/// deeper (blank and comment lines inside), then a closing `end` at its own indentation;
/// with that indentation. `None` when the definition does not start its line or has no
/// line after it.
fn own_lines(src: &[u8], root: Node<'_>, start: usize) -> Option<(usize, usize, usize)> {
    let line_start = src[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let indent = &src[line_start..start];
    if !indent.iter().all(|&b| b == b' ' || b == b'\t') {
        return None;
    }
    let col = indent.len();
    let mut pos = start + memchr(b'\n', &src[start..])? + 1;
    let mut end = pos;
    while pos < src.len() {
        let (line_end, depth) = line_at(src, pos);
        let line = &src[pos..line_end];
        let rest = line[depth..].trim_ascii_end();
        if rest.is_empty() || rest[0] == b'#' {
            pos = line_end;
            continue;
        }
        // A line inside a string or heredoc (text at any indentation) or a `rescue` of
        // the definition's own is still the definition's.
        let inside = depth > col
            || (depth == col && CONTINUATIONS.iter().any(|k| is_word(rest, k)))
            || root
                .descendant_for_byte_range(pos + depth, pos + depth)
                .is_some_and(|n| {
                    // Text, or the closing `"""` / `'''` of a heredoc.
                    matches!(n.kind(), "quoted_content" | "string" | "charlist" | "sigil")
                        || n.kind().starts_with(['"', '\''])
                });
        if !inside {
            if depth == col && is_word(rest, "end") {
                end = line_end;
            }
            break;
        }
        end = line_end;
        pos = line_end;
    }
    Some((line_start, end, col))
}

/// The line starting at `pos`: where the next one starts, and its indentation in bytes.
fn line_at(src: &[u8], pos: usize) -> (usize, usize) {
    let line_end = memchr(b'\n', &src[pos..]).map_or(src.len(), |i| pos + i + 1);
    let depth = src[pos..line_end]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    (line_end, depth)
}

/// Whether a line (without its indentation) starts with the keyword `word`, not a longer
/// name (`ending`) nor a keyword key (`end:`).
fn is_word(rest: &[u8], word: &str) -> bool {
    rest.starts_with(word.as_bytes())
        && rest
            .get(word.len())
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'?' | b'!' | b':')))
}

/// Marks `has_error` on every draft holding a missing token (a missing `end` at the end of
/// the file marks the last draft) or a token an `ERROR` node could not place. Complete
/// definitions an `ERROR` node holds keep their own flag. Iterative; enters only nodes
/// with errors.
/// `drafts` are in file order and tile the file.
pub(crate) fn mark_errors(drafts: &mut [Draft], root: Node<'_>, src_len: usize) {
    if !root.has_error() || drafts.is_empty() || src_len == 0 {
        return;
    }
    let mut mark = |at: usize| {
        let at = at.min(src_len - 1);
        let i = drafts.partition_point(|d| d.end <= at);
        if let Some(d) = drafts.get_mut(i).filter(|d| d.start <= at) {
            d.has_error = true;
        }
    };
    preorder(root, |node| {
        if node.is_missing() {
            mark(node.start_byte());
        } else if node.is_error() {
            let mut children = node.walk();
            let mut leaves = 0;
            for child in node.children(&mut children) {
                if child.child_count() == 0 {
                    mark(child.start_byte());
                    leaves += 1;
                }
            }
            if leaves == 0 && node.child_count() == 0 {
                mark(node.start_byte());
            }
        }
        node.has_error()
    });
}

/// [`preorder`], giving each node its previous named sibling as well. The walk keeps it:
/// `prev_named_sibling` starts over from the parent's first child at every call, which
/// is quadratic over an `ERROR` holding 100,000 children.
fn preorder_with_prev<'t>(
    root: Node<'t>,
    mut visit: impl FnMut(Node<'t>, Option<Node<'t>>) -> bool,
) {
    let mut cursor = root.walk();
    // The previous named sibling at each depth of the walk.
    let mut prevs: Vec<Option<Node<'t>>> = vec![None];
    'walk: loop {
        let prev = prevs.last().copied().flatten();
        if visit(cursor.node(), prev) && cursor.goto_first_child() {
            prevs.push(None);
            continue;
        }
        loop {
            let left = cursor.node();
            if cursor.goto_next_sibling() {
                if left.is_named()
                    && let Some(last) = prevs.last_mut()
                {
                    *last = Some(left);
                }
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
            prevs.pop();
        }
    }
}

/// Visits `root` and its descendants in document order, iteratively (any depth), entering
/// a node's children only when `visit` returns true for it.
fn preorder<'t>(root: Node<'t>, mut visit: impl FnMut(Node<'t>) -> bool) {
    let mut cursor = root.walk();
    'walk: loop {
        if visit(cursor.node()) && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
}
