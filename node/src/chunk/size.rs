//! The size budget: counting non-whitespace characters, and merging neighbours that are
//! too small to be useful alone. (Splitting needs the syntax tree and lives in `elixir.rs`.)

use super::{ChunkKind, Draft};

/// Non-whitespace characters (not bytes) in `bytes`, read as UTF-8 where it is valid.
pub fn non_whitespace_chars(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .filter(|&&b| !b.is_ascii_whitespace() && (b & 0xC0) != 0x80)
        .count()
}

/// Whether two drafts may share a chunk: same module, both code or both tests (never
/// mixed), and neither is part of a split.
fn mergeable(a: &Draft, b: &Draft) -> bool {
    let family = |k: ChunkKind| {
        if k.is_callable() {
            1
        } else if k == ChunkKind::Test {
            2
        } else {
            0
        }
    };
    a.scope == b.scope
        && a.module == b.module
        && family(a.kind) != 0
        && family(a.kind) == family(b.kind)
        && a.part.is_none()
        && b.part.is_none()
        && !a.has_error
        && !b.has_error
}

/// Merges runs of adjacent small drafts (each under `merge_below` non-whitespace
/// characters) of the same module and family, keeping each merged draft within `budget`.
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
    for t in next.tags {
        into.tag(&t);
    }
    into.defines.extend(next.defines);
    for c in next.calls {
        if !into.calls.contains(&c) {
            into.calls.push(c);
        }
    }
    into.specs.extend(next.specs);
    if into.doc.is_none() {
        into.doc = next.doc;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes_or_spaces() {
        assert_eq!(non_whitespace_chars(b" a b\n\tc "), 3);
        assert_eq!(non_whitespace_chars("é ü".as_bytes()), 2);
    }
}
