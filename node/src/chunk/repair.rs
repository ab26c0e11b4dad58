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
const MAX_ROUNDS: usize = 4;

/// Test blocks are definitions too: a broken `test "…" do` swallows the same way.
const TEST_KEYWORDS: [&str; 5] = ["test", "describe", "property", "setup", "setup_all"];

const MODULE_KEYWORDS: [&str; 3] = ["defmodule", "defprotocol", "defimpl"];

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

/// The line ranges of the outermost definitions that have errors and run past their own
/// lines. The walk is iterative and only enters nodes with errors.
fn overgrown(src: &[u8], root: Node<'_>) -> Vec<(usize, usize)> {
    let mut regions = Vec::new();
    preorder(root, |node| {
        // The definition that swallows may itself be whole (a `case` missing its `end`
        // takes the definition's `end`, the module's goes missing): check every definition
        // met inside a node with errors.
        if is_definition(node, src)
            && let Some((start, end, col)) = own_lines(src, node.start_byte())
            && swallows(src, root, col, end, node.end_byte())
        {
            regions.push((start, end));
            return false;
        }
        if node.is_error() {
            // A definition keyword the parser could not make a call of (`def broken(x do`
            // can leave `def` and `broken` as bare identifiers in an ERROR): its lines are
            // broken whatever follows them.
            let mut children = node.walk();
            for child in node.children(&mut children) {
                if child.kind() == "identifier"
                    && is_keyword(&src[child.start_byte()..child.end_byte()])
                    && let Some((start, end, _)) = own_lines(src, child.start_byte())
                {
                    regions.push((start, end));
                }
            }
        }
        node.has_error()
    });
    regions
}

/// Whether the lines `[from, to)` hold, indented no deeper than `col`, the keyword of a
/// definition or module that the tree parsed as a call (not text inside a string).
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
            if keyword
                && root
                    .descendant_for_byte_range(pos + depth, pos + depth + word_len)
                    .is_some_and(|n| n.kind() == "identifier")
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
fn own_lines(src: &[u8], start: usize) -> Option<(usize, usize, usize)> {
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
        if depth < col {
            break;
        }
        if depth == col {
            if is_end(rest) {
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

/// Whether a line (without its indentation) is the keyword `end`, not `end:` nor `ending`.
fn is_end(rest: &[u8]) -> bool {
    rest.starts_with(b"end")
        && rest
            .get(3)
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
