//! The code tokenizer: identifiers are kept whole and also split into their words, so
//! `handle_info` matches `handle_info`, `handle` and `info`, and `GenServer` matches
//! `genserver`, `gen` and `server`; then lowercase and English stems.

use rustc_hash::FxHashMap;
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

/// The analyzer name registered on every partition index.
pub const CODE_ANALYZER: &str = "aiex_code";

/// Words longer than this (bytes) are not indexed: they are data, not vocabulary.
const MAX_WORD_BYTES: usize = 64;

/// Stems remembered per tokenizer before the cache starts over.
const STEM_CACHE_ENTRIES: usize = 200_000;

/// Splitting, lowercasing and English stemming, for indexing and queries alike.
pub fn code_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(CodeTokenizer::default())
}

/// Splits text into identifier-like words (letters, digits, `_`), emitting each word and,
/// when it has several, its snake_case and CamelCase parts at the same position; every
/// token is lowercased and stemmed. Code repeats its identifiers endlessly, so stems are
/// cached and token buffers reused: indexing spends its time on the index, not on malloc.
#[derive(Clone)]
pub struct CodeTokenizer {
    tokens: Vec<Token>,
    len: usize,
    stems: FxHashMap<Box<str>, Box<str>>,
    stemmer: frostem::Stemmer,
    lower: String,
}

impl Default for CodeTokenizer {
    fn default() -> Self {
        CodeTokenizer {
            tokens: Vec::new(),
            len: 0,
            stems: FxHashMap::default(),
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
            lower: String::new(),
        }
    }
}

pub struct CodeTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl CodeTokenizer {
    fn push(&mut self, word: &str, offset: usize, position: usize) {
        self.lower.clear();
        if word.is_ascii() {
            self.lower.push_str(word);
            self.lower.make_ascii_lowercase();
        } else {
            self.lower.extend(word.chars().flat_map(char::to_lowercase));
        }
        if self.stems.len() >= STEM_CACHE_ENTRIES {
            self.stems.clear();
        }
        let stem: &str = match self.stems.get(self.lower.as_str()) {
            Some(s) => s,
            None => {
                let stemmed: Box<str> = self.stemmer.stem(&self.lower).into();
                self.stems.insert(self.lower.as_str().into(), stemmed);
                &self.stems[self.lower.as_str()]
            }
        };
        if self.len == self.tokens.len() {
            self.tokens.push(Token::default());
        }
        let token = &mut self.tokens[self.len];
        token.text.clear();
        token.text.push_str(stem);
        token.offset_from = offset;
        token.offset_to = offset + word.len();
        token.position = position;
        token.position_length = 1;
        self.len += 1;
    }
}

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream<'a> {
        self.len = 0;
        let bytes = text.as_bytes();
        let mut position = 0usize;
        let mut i = 0usize;
        while i < bytes.len() {
            if !is_word_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_word_byte(bytes[i]) {
                i += 1;
            }
            let word = &text[start..i];
            let trimmed = word.trim_matches('_');
            if trimmed.is_empty() || trimmed.len() > MAX_WORD_BYTES {
                continue;
            }
            let offset = start + (word.len() - word.trim_start_matches('_').len());
            self.push(trimmed, offset, position);
            let tb = trimmed.as_bytes();
            let mut part_start = 0usize;
            for j in 1..=tb.len() {
                let boundary = j == tb.len()
                    || tb[j] == b'_'
                    || (tb[j].is_ascii_uppercase() && tb[j - 1].is_ascii_lowercase())
                    || (tb[j].is_ascii_digit() != tb[j - 1].is_ascii_digit() && tb[j - 1] != b'_');
                if boundary {
                    let part = trimmed[part_start..j].trim_matches('_');
                    if !part.is_empty() && part.len() < trimmed.len() {
                        let part_offset = offset
                            + part_start
                            + (trimmed[part_start..j].len()
                                - trimmed[part_start..j].trim_start_matches('_').len());
                        self.push(part, part_offset, position);
                    }
                    part_start = j;
                }
            }
            position += 1;
        }
        CodeTokenStream {
            tokens: &mut self.tokens[..self.len],
            next: 0,
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
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
