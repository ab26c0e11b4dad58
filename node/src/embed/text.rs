//! What of a chunk is embedded: a definition's name and head plus the first sentences of
//! its documentation. Short on purpose: the model costs about 20 MFLOP per word piece, and
//! a summary says what a function is for better than its body does.

use crate::chunk::{Chunk, ChunkKind};

/// Characters of documentation kept (about 60 word pieces). Measured with `bench/eval`:
/// 480 characters embedded 11% more text for no better fused recall.
const DOC_CHARS: usize = 280;

/// The text embedded for `chunk`, or `None` for chunks that get no vector: tests, text
/// files, code under test directories, and the later parts of a split definition (the
/// first part speaks for the whole).
pub fn embed_text(chunk: &Chunk) -> Option<String> {
    match chunk.kind {
        ChunkKind::Function
        | ChunkKind::Macro
        | ChunkKind::Guard
        | ChunkKind::Delegate
        | ChunkKind::Type
        | ChunkKind::ModuleHeader => {}
        ChunkKind::Test | ChunkKind::Describe | ChunkKind::Setup | ChunkKind::Text => {
            return None;
        }
    }
    if chunk.part.is_some_and(|(k, _)| k > 1)
        || chunk.path.starts_with("test/")
        || chunk.path.contains("/test/")
        || chunk.path.ends_with("_test.exs")
    {
        return None;
    }
    let mut text = match chunk.kind {
        ChunkKind::ModuleHeader => chunk.module.clone(),
        _ => head(chunk),
    };
    if let Some(doc) = chunk.doc.as_deref() {
        let summary = summary(doc);
        if !summary.is_empty() {
            text.push_str(": ");
            text.push_str(&summary);
        }
    }
    Some(text)
}

/// `Mod.fun(args)`: the signature without its `def`, qualified by the module.
fn head(chunk: &Chunk) -> String {
    let sig = chunk.signature.trim();
    let sig = sig
        .split_once(char::is_whitespace)
        .filter(|(keyword, _)| keyword.starts_with("def") || keyword.starts_with('@'))
        .map_or(sig, |(_, rest)| rest.trim());
    let sig = if sig.is_empty() {
        chunk.name.as_str()
    } else {
        sig
    };
    let sig: String = sig.chars().take(160).collect();
    if chunk.module.is_empty() {
        sig
    } else {
        format!("{}.{}", chunk.module, sig)
    }
}

/// The first paragraph of a doc (two when the first is short), markdown marks dropped,
/// cut at a sentence end near [`DOC_CHARS`].
fn summary(doc: &str) -> String {
    let mut out = String::new();
    for paragraph in doc.split("\n\n") {
        let p = paragraph.trim();
        if p.is_empty() {
            continue;
        }
        // Examples and code blocks say little in words.
        if p.starts_with("##") || p.starts_with("```") || p.starts_with("iex>") {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(
            p.split_whitespace()
                .flat_map(|w| [w, " "])
                .collect::<String>()
                .trim_end()
                .chars()
                .filter(|c| !matches!(c, '`' | '*')),
        );
        if out.len() >= DOC_CHARS / 2 {
            break;
        }
    }
    if out.len() > DOC_CHARS {
        let mut cut = DOC_CHARS;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        let end = out[..cut].rfind(". ").map_or(cut, |i| i + 1);
        out.truncate(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_keep_the_first_sentences_without_markup() {
        let doc = "Returns `true` if *all* elements are truthy.\n\nIterates over the enumerable.\n\n## Examples\n\n    iex> Enum.all?([1])\n";
        assert_eq!(
            summary(doc),
            "Returns true if all elements are truthy. Iterates over the enumerable."
        );
        let long = "word ".repeat(200);
        assert!(summary(&long).len() <= DOC_CHARS);
        let unicode = "é".repeat(400);
        assert!(summary(&unicode).len() <= DOC_CHARS);
    }
}
