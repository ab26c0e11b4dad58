//! The code tokenizer: identifiers are kept whole and also split into their words, so
//! `handle_info` matches `handle_info`, `handle` and `info`, and `GenServer` matches
//! `genserver`, `gen` and `server`. Lowercasing and English stemming follow in the analyzer.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The analyzer name registered on every partition index.
pub const CODE_ANALYZER: &str = "aiex_code";

/// Tokenizer + lowercase + stemming, used for indexing and for queries alike.
pub fn code_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(CodeTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Splits text into identifier-like words (letters, digits, `_`), emitting each word and,
/// when it has several, its snake_case and CamelCase parts at the same position.
#[derive(Clone, Default)]
pub struct CodeTokenizer {
    tokens: Vec<Token>,
}

pub struct CodeTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream<'a> {
        self.tokens.clear();
        let bytes = text.as_bytes();
        let mut position = 0usize;
        let mut i = 0usize;
        while i < bytes.len() {
            let c = bytes[i];
            if !is_word_byte(c) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_word_byte(bytes[i]) {
                i += 1;
            }
            let word = &text[start..i];
            let trimmed = word.trim_matches('_');
            if trimmed.is_empty() {
                continue;
            }
            let offset = start + (word.len() - word.trim_start_matches('_').len());
            push(&mut self.tokens, trimmed, offset, position);
            let mut parts = 0;
            let mut part_start = 0usize;
            let tb = trimmed.as_bytes();
            for j in 1..=tb.len() {
                let boundary = j == tb.len()
                    || tb[j] == b'_'
                    || (tb[j].is_ascii_uppercase() && tb[j - 1].is_ascii_lowercase())
                    || (tb[j].is_ascii_digit() != tb[j - 1].is_ascii_digit() && tb[j - 1] != b'_');
                if boundary {
                    let part = trimmed[part_start..j].trim_matches('_');
                    if !part.is_empty() && part.len() < trimmed.len() {
                        parts += 1;
                        push(&mut self.tokens, part, offset + part_start, position);
                    }
                    part_start = j;
                }
            }
            let _ = parts;
            position += 1;
        }
        CodeTokenStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn push(tokens: &mut Vec<Token>, text: &str, offset: usize, position: usize) {
    tokens.push(Token {
        offset_from: offset,
        offset_to: offset + text.len(),
        position,
        text: text.to_string(),
        position_length: 1,
    });
}

impl TokenStream for CodeTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// The analyzed terms of a text, in order, duplicates kept.
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_identifiers_and_keeps_them_whole() {
        let mut a = code_analyzer();
        let terms = analyze(&mut a, "GenServer.handle_info(msg)");
        for t in [
            "genserv",
            "gen",
            "server",
            "handle_info",
            "handl",
            "info",
            "msg",
        ] {
            assert!(terms.contains(&t.to_string()), "{t} missing from {terms:?}");
        }
    }

    #[test]
    fn stems_natural_language() {
        let mut a = code_analyzer();
        assert_eq!(
            analyze(&mut a, "splitting strings"),
            vec!["split", "string"]
        );
    }
}
