//! Token counts per model family, and each family's context window.
//!
//! OpenAI-style models are counted exactly with their own BPE (`tiktoken-rs`, whose
//! vocabularies are compiled into the binary, so counting needs no network at build or
//! run time): `o200k_base` for the GPT-4o, GPT-4.1, GPT-5 and o-series models,
//! `cl100k_base` for GPT-4 and GPT-3.5.
//!
//! Anthropic, Google and open models (Llama, Mistral, Qwen, anything served by Ollama) do
//! not publish a tokenizer we can embed, so their count is an estimate: characters divided
//! by 3.5, rounded up. Code tokenizes denser than English prose (about 4 characters a
//! token): identifiers split at case changes and underscores, and operators and
//! punctuation often take a token each. Measured with `o200k_base` (and `cl100k_base`),
//! the sample project ran at 3.62 (3.65) characters a token and 400 files of the Elixir
//! 1.14 standard library at 3.53 (3.55), so 3.5 slightly over-counts Elixir, the safe
//! side. Other vendors' tokenizers differ by some percent either way; the budget also
//! keeps a reserve for the model's answer, so a few percent off never overflows a window.
//! The estimate is additive (the count of a concatenation is at most the sum of the
//! counts), which the context fitter relies on.

use serde::{Deserialize, Serialize};

/// How a model's text is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tokenizer {
    /// Exact: GPT-4o, GPT-4.1, GPT-5, o1/o3/o4.
    O200kBase,
    /// Exact: GPT-4, GPT-3.5.
    Cl100kBase,
    /// Characters / 3.5, rounded up (see the module docs).
    CharEstimate,
}

impl Tokenizer {
    pub fn as_str(self) -> &'static str {
        match self {
            Tokenizer::O200kBase => "o200k_base",
            Tokenizer::Cl100kBase => "cl100k_base",
            Tokenizer::CharEstimate => "estimate (chars/3.5)",
        }
    }
}

/// Counts tokens the way one model does, and knows that model's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCounter {
    model: String,
    tokenizer: Tokenizer,
    window: usize,
}

/// The model `aiex context` assumes when none is named.
pub const DEFAULT_MODEL: &str = "gpt-4o";

impl TokenCounter {
    /// The counter for `model` (a provider's model name, case-insensitive; a
    /// `provider/` prefix such as `openai/gpt-4o` is ignored). Unknown models get the
    /// estimate and an 8k window, the smallest window still in common use.
    pub fn for_model(model: &str) -> TokenCounter {
        let name = model.trim().to_ascii_lowercase();
        let bare = name.rsplit('/').next().unwrap_or(&name).to_string();
        let (tokenizer, window) = family(&bare);
        TokenCounter {
            model: model.trim().to_string(),
            tokenizer,
            window,
        }
    }

    /// Whether the model belongs to a family Aiex knows (its tokenizer and window);
    /// others are counted by estimate with an 8,192-token window.
    pub fn is_known(model: &str) -> bool {
        let name = model.trim().to_ascii_lowercase();
        let bare = name.rsplit('/').next().unwrap_or(&name);
        family(bare) != UNKNOWN_FAMILY
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn tokenizer(&self) -> Tokenizer {
        self.tokenizer
    }

    /// The model's context window, in tokens (prompt and answer together).
    pub fn window(&self) -> usize {
        self.window
    }

    /// Tokens kept free for the answer: a quarter of the window, at most 4096.
    pub fn reserved_output(&self) -> usize {
        (self.window / 4).min(4096)
    }

    /// The default prompt budget: the window minus the reserved output.
    pub fn default_budget(&self) -> usize {
        self.window - self.reserved_output()
    }

    /// Tokens in `text`.
    pub fn count(&self, text: &str) -> usize {
        match self.tokenizer {
            Tokenizer::O200kBase => tiktoken_rs::o200k_base_singleton()
                .encode_with_special_tokens(text)
                .len(),
            Tokenizer::Cl100kBase => tiktoken_rs::cl100k_base_singleton()
                .encode_with_special_tokens(text)
                .len(),
            Tokenizer::CharEstimate => estimate(text),
        }
    }
}

/// Characters / 3.5, rounded up.
pub fn estimate(text: &str) -> usize {
    (text.chars().count() * 2).div_ceil(7)
}

/// The tokenizer and window of a lowercase model name without provider prefix.
fn family(model: &str) -> (Tokenizer, usize) {
    let starts = |p: &str| model.starts_with(p);
    if starts("gpt-4o") || starts("chatgpt-4o") || starts("gpt-4.5") {
        (Tokenizer::O200kBase, 128_000)
    } else if starts("gpt-4.1") || starts("gpt-5") {
        // 1M (4.1) and 400k (5): counted as 272k, the smaller documented prompt limit.
        (Tokenizer::O200kBase, 272_000)
    } else if starts("o1") || starts("o3") || starts("o4") {
        (Tokenizer::O200kBase, 200_000)
    } else if starts("gpt-4-turbo") || starts("gpt-4-1106") || starts("gpt-4-0125") {
        (Tokenizer::Cl100kBase, 128_000)
    } else if starts("gpt-4-32k") {
        (Tokenizer::Cl100kBase, 32_768)
    } else if starts("gpt-4") {
        (Tokenizer::Cl100kBase, 8_192)
    } else if starts("gpt-3.5") {
        (Tokenizer::Cl100kBase, 16_385)
    } else if starts("claude") {
        (Tokenizer::CharEstimate, 200_000)
    } else if starts("gemini") {
        (Tokenizer::CharEstimate, 1_000_000)
    } else if starts("llama3.1") || starts("llama3.2") || starts("llama3.3") || starts("llama-3.") {
        (Tokenizer::CharEstimate, 128_000)
    } else if starts("qwen") || starts("mistral") || starts("mixtral") || starts("codestral") {
        (Tokenizer::CharEstimate, 32_768)
    } else {
        UNKNOWN_FAMILY
    }
}

/// How a model of no known family is counted.
const UNKNOWN_FAMILY: (Tokenizer, usize) = (Tokenizer::CharEstimate, 8_192);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_pick_their_tokenizer_and_window() {
        let c = TokenCounter::for_model("gpt-4o-mini");
        assert_eq!((c.tokenizer(), c.window()), (Tokenizer::O200kBase, 128_000));
        assert_eq!(c.default_budget(), 128_000 - 4096);
        let c = TokenCounter::for_model("openai/GPT-4");
        assert_eq!((c.tokenizer(), c.window()), (Tokenizer::Cl100kBase, 8_192));
        let c = TokenCounter::for_model("claude-sonnet-4-5");
        assert_eq!(
            (c.tokenizer(), c.window()),
            (Tokenizer::CharEstimate, 200_000)
        );
        let c = TokenCounter::for_model("something-new");
        assert_eq!(c.default_budget(), 8_192 - 2_048);
        assert!(!TokenCounter::is_known("something-new"));
        for known in [
            "gpt-4o",
            "openai/GPT-4",
            "claude-sonnet-4-5",
            "llama3.1:8b",
            "qwen2.5-coder",
        ] {
            assert!(TokenCounter::is_known(known), "{known}");
        }
    }

    #[test]
    fn tiktoken_counts_exactly_and_the_estimate_rounds_up() {
        let c = TokenCounter::for_model("gpt-4o");
        assert_eq!(c.count("hello world"), 2);
        assert_eq!(c.count(""), 0);
        assert_eq!(estimate("abcdefg"), 2);
        assert_eq!(estimate("abcdefgh"), 3);
        assert_eq!(estimate(""), 0);
    }
}
