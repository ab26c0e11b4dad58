//! Chat history within a token budget: the newest turns verbatim, older ones summarised.
//!
//! A conversation grows without bound, a window does not. [`fit_history`] walks back from
//! the newest turn keeping whole turns while they fit; everything older is handed to a
//! [`Summarizer`] and replaced by one summary message. The assist worker passes an LLM
//! call; [`ExtractiveSummary`] is the deterministic default (the first sentence of each
//! older turn, bounded), used when no provider is configured and in tests.

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::tokens::TokenCounter;
use crate::llm::{ChatRequest, Message, Provider, Role};

/// Turns older turns into a short text.
#[async_trait]
pub trait Summarizer: Send + Sync {
    /// A summary of `turns` (oldest first) in at most `max_tokens` tokens, as `counter`
    /// counts them. Longer answers are cut to fit by [`fit_history`].
    async fn summarize(
        &self,
        turns: &[Message],
        max_tokens: usize,
        counter: &TokenCounter,
    ) -> String;
}

/// The first sentence of each turn (at most 200 characters), newest last, cut to the
/// token bound.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractiveSummary;

/// Longest first sentence kept per turn, in characters.
const SENTENCE_CHARS: usize = 200;

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// The first sentence of `text`: up to the first `.`, `?` or `!` followed by whitespace,
/// or the first line, whichever is shorter, bounded.
pub fn first_sentence(text: &str) -> String {
    let text = text.trim();
    let line = text.lines().next().unwrap_or("");
    let mut end = line.len();
    let bytes = line.as_bytes();
    for (i, c) in line.char_indices() {
        if matches!(c, '.' | '?' | '!') && bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace())
        {
            end = i + 1;
            break;
        }
    }
    let sentence = &line[..end];
    if sentence.chars().count() > SENTENCE_CHARS {
        let cut: String = sentence.chars().take(SENTENCE_CHARS).collect();
        format!("{cut}…")
    } else {
        sentence.to_string()
    }
}

#[async_trait]
impl Summarizer for ExtractiveSummary {
    async fn summarize(
        &self,
        turns: &[Message],
        max_tokens: usize,
        counter: &TokenCounter,
    ) -> String {
        // Keep the newest older turns when not all fit.
        let mut lines: Vec<String> = Vec::new();
        let mut used = 0;
        for turn in turns.iter().rev() {
            let line = format!(
                "- {}: {}\n",
                role_name(turn.role),
                first_sentence(&turn.content)
            );
            let cost = counter.count(&line);
            if used + cost > max_tokens {
                break;
            }
            used += cost;
            lines.push(line);
        }
        lines.reverse();
        lines.concat()
    }
}

/// Asks a model (a provider chain) for the summary, and falls back to
/// [`ExtractiveSummary`] when the call fails or answers nothing, so a chat turn never
/// fails because its history was long.
pub struct LlmSummary<'a> {
    pub provider: &'a dyn Provider,
    pub cancel: CancellationToken,
}

/// What the model is asked to do with the older turns.
pub const SUMMARY_INSTRUCTIONS: &str = "Summarise the earlier part of this conversation \
between a developer and an Elixir coding assistant, for the assistant to continue it. Keep \
module and function names (`Mod.fun/arity`), decisions, code facts and open questions; \
drop pleasantries. Answer with the summary only, as short bullet points.";

#[async_trait]
impl Summarizer for LlmSummary<'_> {
    async fn summarize(
        &self,
        turns: &[Message],
        max_tokens: usize,
        counter: &TokenCounter,
    ) -> String {
        let mut transcript = String::new();
        for turn in turns {
            transcript.push_str(role_name(turn.role));
            transcript.push_str(": ");
            transcript.push_str(turn.content.trim());
            transcript.push_str("\n\n");
        }
        let mut request = ChatRequest::new(vec![
            Message::system(format!(
                "{SUMMARY_INSTRUCTIONS} Use at most {max_tokens} tokens."
            )),
            Message::user(transcript),
        ]);
        request.max_tokens = Some(u32::try_from(max_tokens).unwrap_or(u32::MAX).max(1));
        match crate::llm::complete(self.provider, request, self.cancel.clone()).await {
            Ok(done) if !done.text.trim().is_empty() => done.text.trim().to_string(),
            Ok(_) => {
                tracing::warn!(
                    "the model's summary of older chat turns was empty; using their first sentences"
                );
                ExtractiveSummary
                    .summarize(turns, max_tokens, counter)
                    .await
            }
            Err(e) => {
                tracing::warn!(error = %e, "summarising older chat turns failed; using their first sentences");
                ExtractiveSummary
                    .summarize(turns, max_tokens, counter)
                    .await
            }
        }
    }
}

/// A conversation fitted to a budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The summary of the older turns, as a system message, when there were older turns.
    pub summary: Option<Message>,
    /// The newest turns, verbatim, oldest first.
    pub recent: Vec<Message>,
    /// How many turns the summary replaces.
    pub summarized_turns: usize,
    /// Tokens of the summary and the recent turns together.
    pub tokens: usize,
}

impl History {
    /// The messages to send: the summary (if any), then the recent turns.
    pub fn messages(&self) -> Vec<Message> {
        self.summary
            .iter()
            .cloned()
            .chain(self.recent.iter().cloned())
            .collect()
    }
}

/// Prefix of the summary message.
pub const SUMMARY_HEADER: &str = "Summary of the earlier conversation:\n";

/// Keeps the newest `turns` (oldest first) within `budget` tokens and summarises the rest
/// in at most a quarter of the budget. Never exceeds `budget`.
pub async fn fit_history(
    turns: &[Message],
    budget: usize,
    counter: &TokenCounter,
    summarizer: &dyn Summarizer,
) -> History {
    let costs: Vec<usize> = turns.iter().map(|t| counter.count(&t.content)).collect();
    let total: usize = costs.iter().sum();
    if total <= budget {
        return History {
            summary: None,
            recent: turns.to_vec(),
            summarized_turns: 0,
            tokens: total,
        };
    }
    let summary_budget = budget / 4;
    let recent_budget = budget - summary_budget;
    let mut first_kept = turns.len();
    let mut used = 0;
    while first_kept > 0 && used + costs[first_kept - 1] <= recent_budget {
        first_kept -= 1;
        used += costs[first_kept];
    }
    let older = &turns[..first_kept];
    let header_cost = counter.count(SUMMARY_HEADER);
    let mut summary = None;
    let mut summary_tokens = 0;
    if !older.is_empty() && summary_budget > header_cost {
        let room = summary_budget - header_cost;
        let text = summarizer.summarize(older, room, counter).await;
        let text = super::truncate_to(&text, room, counter);
        let content = format!("{SUMMARY_HEADER}{text}");
        let tokens = counter.count(&content);
        if !text.trim().is_empty() && tokens <= summary_budget {
            summary_tokens = tokens;
            summary = Some(Message::system(content));
        }
    }
    History {
        summary,
        recent: turns[first_kept..].to_vec(),
        summarized_turns: first_kept,
        tokens: used + summary_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sentences_summarise_older_turns_and_the_newest_stay() {
        assert_eq!(first_sentence("Why? Because.\nMore"), "Why?");
        assert_eq!(first_sentence("v1.2 is out. Yes"), "v1.2 is out.");
        assert_eq!(first_sentence("no stop\nsecond line"), "no stop");
        let turns = vec![
            Message::user(format!(
                "How do I reserve stock? {}",
                "I tried everything. ".repeat(20)
            )),
            Message::assistant(format!(
                "Call Inventory.Stock.reserve/4. {}",
                "It returns a reservation. ".repeat(20)
            )),
            Message::user("And release it? ".repeat(30)),
            Message::assistant("Use release/2."),
        ];
        let counter = TokenCounter::for_model("claude-sonnet-4");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // The smallest budget whose recent part holds the last two turns.
        let newest: usize = turns[2..].iter().map(|t| counter.count(&t.content)).sum();
        let budget = (1..).find(|b| b - b / 4 >= newest).unwrap();
        let h = rt.block_on(fit_history(&turns, budget, &counter, &ExtractiveSummary));
        assert_eq!(h.summarized_turns, 2);
        assert_eq!(h.recent, turns[2..]);
        let summary = h.summary.expect("a summary").content;
        assert_eq!(
            summary,
            format!(
                "{SUMMARY_HEADER}- user: How do I reserve stock?\n- assistant: Call Inventory.Stock.reserve/4.\n"
            )
        );
        assert!(h.tokens <= budget);
    }
}
