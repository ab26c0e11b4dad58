//! The size budget: counting non-whitespace characters, and merging neighbours that are
//! too small to be useful alone. (Splitting needs the syntax tree and lives in `elixir.rs`.)

use super::{Draft, ScopedCalls, Visibility, dedup_keep_first};

/// Non-whitespace characters (not bytes) in `bytes`, read as UTF-8 where it is valid:
/// bytes that are neither ASCII whitespace (`\t \n \x0C \r` and space) nor UTF-8
/// continuation bytes (`0b10xx_xxxx`).
///
/// Chunking counts every span of every file this way more than once, so the count is
/// written to vectorise: no branch per byte, one-byte counters over blocks of 255 bytes
/// (16 times faster than a filtered count on the Elixir source).
pub fn non_whitespace_chars(bytes: &[u8]) -> usize {
    let mut count = 0usize;
    for block in bytes.chunks(255) {
        let mut in_block: u8 = 0;
        for &b in block {
            let space = (b == b' ') | (b == b'\t') | (b == b'\n') | (b == 0x0C) | (b == b'\r');
            let continuation = (b & 0xC0) == 0x80;
            in_block += u8::from(!(space | continuation));
        }
        count += usize::from(in_block);
    }
    count
}

/// Whether two drafts may share a chunk: code of the same module and the same kind (a
/// merged chunk is found by that kind, and names its first member), neither documented
/// (a chunk has one doc, and a documented definition is worth its own chunk, name and
/// embedding), neither part of a split nor broken. Tests are never merged: each is named
/// by its own title (and its describe's), and merging would hide the others' names.
fn mergeable(a: &Draft, b: &Draft) -> bool {
    a.scope == b.scope
        && a.module == b.module
        && a.kind.is_callable()
        && a.kind == b.kind
        && a.doc.is_none()
        && b.doc.is_none()
        && a.part.is_none()
        && b.part.is_none()
        && !a.has_error
        && !b.has_error
        // A definition under `if`/`for` is tagged conditional: merged with one that is
        // not, the tag would cover both (and no definition carries its own). Clauses of
        // one function still join (`for` clauses, then a catch-all one).
        && (conditional(a) == conditional(b) || same_function(a, b))
}

/// Whether `b` holds more clauses of the function `a` ends with.
fn same_function(a: &Draft, b: &Draft) -> bool {
    match (a.defines.last(), b.defines.first()) {
        (Some(x), Some(y)) => {
            b.defines.len() == 1 && x.name == y.name && x.arities == y.arities && x.kind == y.kind
        }
        _ => false,
    }
}

fn conditional(d: &Draft) -> bool {
    d.tags.iter().any(|t| t == "conditional")
}

/// Merges runs of adjacent small drafts (each under `merge_below` non-whitespace
/// characters) that [`mergeable`] allows, keeping each merged draft within `budget`.
/// Drafts must be in file order and contiguous; the result still tiles the same bytes.
pub(crate) fn merge_small(
    src: &[u8],
    drafts: Vec<Draft>,
    merge_below: usize,
    budget: usize,
) -> Vec<Draft> {
    let mut out: Vec<(Draft, usize)> = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let size = non_whitespace_chars(&src[draft.start..draft.end]);
        if let Some((last, last_size)) = out.last_mut() {
            let last_is_small = last.tags.iter().any(|t| t == "merged") || *last_size < merge_below;
            if size < merge_below
                && last_is_small
                && *last_size + size <= budget
                && last.end == draft.start
                && mergeable(last, &draft)
            {
                absorb(last, draft);
                *last_size += size;
                continue;
            }
        }
        out.push((draft, size));
    }
    out.into_iter().map(|(d, _)| d).collect()
}

fn absorb(into: &mut Draft, next: Draft) {
    into.end = next.end;
    into.tag("merged");
    // As visible as its most visible definition, and deprecated only when all are: a
    // public function merged after a `defp` (or a deprecated one) is still the API.
    let deprecated = |tags: &[String]| tags.iter().any(|t| t == "deprecated");
    let all_deprecated = deprecated(&into.tags) && deprecated(&next.tags);
    into.visibility = match (into.visibility, next.visibility) {
        (Visibility::Public, _) | (_, Visibility::Public) => Visibility::Public,
        (Visibility::Hidden, _) | (_, Visibility::Hidden) => Visibility::Hidden,
        _ => Visibility::Private,
    };
    for t in next.tags {
        into.tag(&t);
    }
    if !all_deprecated {
        into.tags.retain(|t| t != "deprecated");
    }
    let mut defines = next.defines;
    if next.imports != into.imports || next.import_filters != into.import_filters {
        // Its module had other imports where it is (an `import` between the two): its
        // calls without a module keep those, not the merged chunk's.
        for d in &mut defines {
            let calls = std::mem::take(&mut d.unqualified_calls);
            ScopedCalls::add(
                &mut d.scoped_calls,
                &next.imports,
                &next.import_filters,
                &calls,
            );
            ScopedCalls::dedup(&mut d.scoped_calls);
        }
        ScopedCalls::add(
            &mut into.scoped_calls,
            &next.imports,
            &next.import_filters,
            &next.unqualified_calls,
        );
        ScopedCalls::dedup(&mut into.scoped_calls);
    } else {
        for c in next.unqualified_calls {
            if !into.unqualified_calls.contains(&c) {
                into.unqualified_calls.push(c);
            }
        }
    }
    into.defines.extend(defines);
    for c in next.calls {
        if !into.calls.contains(&c) {
            into.calls.push(c);
        }
    }
    for (from, to) in [
        (next.module_calls, &mut into.module_calls),
        (
            next.module_unqualified_calls,
            &mut into.module_unqualified_calls,
        ),
        (next.plugged_calls, &mut into.plugged_calls),
    ] {
        for c in from {
            if !to.contains(&c) {
                to.push(c);
            }
        }
    }
    for s in next.scoped_calls {
        ScopedCalls::add(
            &mut into.scoped_calls,
            &s.imports,
            &s.import_filters,
            &s.calls,
        );
    }
    ScopedCalls::dedup(&mut into.scoped_calls);
    // Equal unless the module has so many aliases that each chunk names its own.
    if next.aliases != into.aliases {
        into.aliases.extend(next.aliases);
        dedup_keep_first(&mut into.aliases);
    }
    into.specs.extend(next.specs);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::ChunkKind;

    #[test]
    fn a_merged_draft_is_as_visible_as_its_most_visible_definition() {
        let src = b"defp a, do: 1\ndef b, do: 2\ndefp c, do: 3\n";
        let draft = |start: usize, end: usize, visibility: Visibility, deprecated: bool| {
            let mut d = Draft::new(ChunkKind::Function, start, end);
            d.visibility = visibility;
            if deprecated {
                d.tag("deprecated");
            }
            d
        };
        let merged = |drafts: Vec<Draft>| {
            let out = merge_small(src, drafts, 100, 1000);
            assert_eq!(out.len(), 1);
            out.into_iter().next().unwrap()
        };
        let m = merged(vec![
            draft(0, 14, Visibility::Private, true),
            draft(14, 27, Visibility::Public, false),
            draft(27, 41, Visibility::Private, true),
        ]);
        assert_eq!(m.visibility, Visibility::Public);
        assert!(!m.tags.iter().any(|t| t == "deprecated"), "{:?}", m.tags);
        let m = merged(vec![
            draft(0, 14, Visibility::Private, true),
            draft(14, 27, Visibility::Hidden, true),
        ]);
        assert_eq!(m.visibility, Visibility::Hidden);
        assert!(m.tags.iter().any(|t| t == "deprecated"), "{:?}", m.tags);
        let m = merged(vec![
            draft(0, 14, Visibility::Private, false),
            draft(14, 27, Visibility::Private, false),
        ]);
        assert_eq!(m.visibility, Visibility::Private);
    }

    #[test]
    fn counts_characters_not_bytes_or_spaces() {
        assert_eq!(non_whitespace_chars(b" a b\n\tc "), 3);
        assert_eq!(non_whitespace_chars("é ü".as_bytes()), 2);
    }

    #[test]
    fn the_block_count_equals_the_plain_definition() {
        // Every byte value, at every length across block edges (255, 510, ...).
        let bytes: Vec<u8> = (0..2000u32).map(|i| (i * 7 + i / 256) as u8).collect();
        let plain = |b: &[u8]| {
            b.iter()
                .filter(|&&b| !b.is_ascii_whitespace() && (b & 0xC0) != 0x80)
                .count()
        };
        for len in [0, 1, 254, 255, 256, 509, 510, 511, 1000, 2000] {
            assert_eq!(
                non_whitespace_chars(&bytes[..len]),
                plain(&bytes[..len]),
                "{len}"
            );
        }
        let dense = vec![b'x'; 1020];
        assert_eq!(non_whitespace_chars(&dense), 1020);
    }
}
