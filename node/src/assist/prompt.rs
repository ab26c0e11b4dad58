//! The prompt of each assist task: instructions, the history of a chat, and context from
//! the index (the target's definition, its callers and callees, then search hits) cut to
//! a budget. [`build_prompt`] is the one entry point; where whole chunks can be looked
//! up it uses the token-aware context builder (`crate::context`).

use std::fmt::Write as _;

use crate::llm::Message;

use super::session::Turn;
use super::{Retriever, Task};

const SYSTEM: &str = "You are Aiex, an expert Elixir engineer helping with an Elixir codebase. \
Answer precisely; when you show code, use fenced ```elixir blocks.";

/// Search hits retrieved for a prompt.
const SEARCH_HITS: u32 = 12;

/// The messages for `task`, after `history` (chat only: the earlier turns as messages,
/// already fitted to their budget, see [`history_messages`]), with at most about
/// `budget_chars` characters of retrieved context.
pub async fn build_prompt(
    task: &Task,
    history: &[Message],
    retriever: &dyn Retriever,
    budget_chars: usize,
) -> Vec<Message> {
    let context = retrieve(task, retriever, budget_chars).await;
    let mut messages = vec![Message::system(SYSTEM)];
    messages.extend(history.iter().cloned());
    let mut ask = String::new();
    if !context.is_empty() {
        let _ = write!(ask, "Context from the codebase:\n\n{context}\n---\n\n");
    }
    ask.push_str(&instructions(task));
    messages.push(Message::user(ask));
    messages
}

/// A chat's earlier turns as messages, oldest first.
pub fn history_messages(turns: &[Turn]) -> Vec<Message> {
    turns
        .iter()
        .flat_map(|t| {
            [
                Message::user(t.user.clone()),
                Message::assistant(t.assistant.clone()),
            ]
        })
        .collect()
}

/// The question itself.
fn instructions(task: &Task) -> String {
    match task {
        Task::Explain {
            target,
            detail,
            focus,
            code,
            ..
        } => {
            let detail = match detail.as_str() {
                "basic" => "for someone new to Elixir: plain words, what it does and why",
                "advanced" => {
                    "in depth: design decisions, edge cases, OTP and concurrency behaviour"
                }
                _ => "for a working Elixir developer: what it does, how, and how it fits in",
            };
            let focus = match focus.as_str() {
                "architecture" => {
                    " Focus on architecture: responsibilities, boundaries, data flow."
                }
                "patterns" => " Focus on the Elixir and OTP patterns it uses.",
                "performance" => " Focus on performance: complexity, processes, memory, hot paths.",
                "security" => " Focus on security: input handling, secrets, injection, atoms.",
                _ => "",
            };
            let mut s = format!("Explain `{target}` {detail}.{focus}");
            if !code.is_empty() {
                let _ = write!(s, "\n\nThe code:\n```elixir\n{code}\n```");
            }
            s
        }
        Task::Complete {
            path,
            line,
            prefix,
            suffix,
            ..
        } => format!(
            "Complete the Elixir code at the cursor (<CURSOR>) in {path}, line {line}. Reply \
             with only the code to insert at the cursor, in one ```elixir block, nothing else.\n\n\
             ```elixir\n{prefix}<CURSOR>{suffix}\n```"
        ),
        Task::GenerateModule {
            name, description, ..
        } => format!(
            "Write a complete Elixir module named `{name}`: {description}\n\nInclude a \
             @moduledoc, and a @doc and a @spec for every public function. Reply with the \
             whole module in one ```elixir block."
        ),
        Task::GenerateTests { target, code, .. } => {
            let mut s = format!(
                "Write ExUnit tests for `{target}`: `use ExUnit.Case, async: true`, one \
                 `describe` block per public function with focused `test`s for normal cases, \
                 edge cases and errors, and StreamData properties (`use ExUnitProperties`, \
                 `property ... check all`) where a property fits. Reply with the whole test \
                 module in one ```elixir block."
            );
            if !code.is_empty() {
                let _ = write!(s, "\n\nThe code under test:\n```elixir\n{code}\n```");
            }
            s
        }
        Task::Chat { message, .. } => message.clone(),
    }
}

/// What to look up for `task`: a symbol for the graph, and a search query.
fn lookups(task: &Task) -> (Option<&str>, String) {
    match task {
        Task::Explain { target, .. } | Task::GenerateTests { target, .. } => {
            // `Mod`, `Mod.fun` or `Mod.fun/arity`; not a path or a line range.
            let is_symbol = target.chars().next().is_some_and(char::is_uppercase)
                && !target.contains(':')
                && !target.contains(char::is_whitespace);
            let symbol = is_symbol.then_some(target.as_str());
            (symbol, target.clone())
        }
        Task::Complete { prefix, .. } => {
            let tail: Vec<&str> = prefix.lines().rev().take(3).collect();
            (None, tail.into_iter().rev().collect::<Vec<_>>().join(" "))
        }
        Task::GenerateModule {
            name, description, ..
        } => (None, format!("{name} {description}")),
        Task::Chat { message, .. } => (None, message.clone()),
    }
}

/// Retrieved context, within `budget` characters: the token-aware context (whole
/// definitions, module header, callers and callees, search hits, the repository map,
/// fitted by collapsing bodies before dropping) when the retriever can look chunks up,
/// else signatures and search snippets.
async fn retrieve(task: &Task, retriever: &dyn Retriever, budget: usize) -> String {
    if let Some(source) = retriever.chunk_source() {
        match token_context(task, retriever, source, budget).await {
            Ok(text) => return text,
            Err(e) => {
                tracing::debug!(error = %e, "no token-aware context; using signatures and snippets")
            }
        }
    }
    snippets(task, retriever, budget).await
}

/// Characters per token the budget assumes (the estimate of `context::tokens`).
const CHARS_PER_TOKEN: usize = 4;

async fn token_context(
    task: &Task,
    retriever: &dyn Retriever,
    source: std::sync::Arc<dyn crate::context::ChunkSource + Send + Sync>,
    budget: usize,
) -> Result<String, crate::NodeError> {
    let (symbol, query) = lookups(task);
    let query = query.trim().to_string();
    let graph = retriever.graph().await?;
    let request = crate::context::ContextRequest {
        question: query.clone(),
        target: symbol.map(str::to_string),
        budget: Some((budget / CHARS_PER_TOKEN).max(crate::context::MIN_BUDGET)),
        repositories: task.repositories().to_vec(),
    };
    // The search runs while the builder gathers the target, its module, callers and
    // callees (on a blocking thread); the builder takes the hits when it needs them. A
    // failed or abandoned search gives no hits.
    let (found, hits) = std::sync::mpsc::sync_channel::<Vec<aiex_proto::v1::SearchHit>>(1);
    let build = tokio::task::spawn_blocking(move || {
        let counter =
            crate::context::TokenCounter::for_model(crate::context::tokens::DEFAULT_MODEL);
        let hit_source = source.clone();
        let context = crate::context::ContextBuilder::new(&graph, source.as_ref(), counter)
            .search_hits_later(move || {
                crate::service::hits_from_pb(hit_source.as_ref(), hits.recv().unwrap_or_default())
            })
            .build(&request)?;
        Ok::<_, crate::NodeError>(context.render())
    });
    let search = async move {
        if !query.is_empty() {
            let hits = retriever
                .search(&query, task.repositories(), SEARCH_HITS)
                .await
                .unwrap_or_default();
            let _ = found.send(hits);
        }
    };
    let ((), built) = tokio::join!(search, build);
    built?
}

/// Signatures from the graph and search snippets, within `budget` characters.
async fn snippets(task: &Task, retriever: &dyn Retriever, budget: usize) -> String {
    let (symbol, query) = lookups(task);
    let mut out = String::new();
    let push = |out: &mut String, piece: String| -> bool {
        if out.len() + piece.len() > budget {
            return false;
        }
        out.push_str(&piece);
        true
    };
    if let Some(symbol) = symbol
        && let Ok(graph) = retriever.graph().await
    {
        let defs = graph.definitions(symbol);
        for d in &defs {
            push(
                &mut out,
                format!(
                    "Definition of {}: {}:{}-{} {}\n",
                    d.symbol, d.path, d.start_line, d.end_line, d.signature
                ),
            );
        }
        if !defs.is_empty() {
            let callers = graph.callers(symbol);
            if !callers.is_empty() {
                push(&mut out, "Called by:\n".into());
                for c in callers.iter().take(20) {
                    push(
                        &mut out,
                        format!(
                            "- {} ({}:{}) {}\n",
                            c.symbol, c.path, c.start_line, c.signature
                        ),
                    );
                }
            }
            let callees = graph.callees(symbol);
            if !callees.is_empty() {
                push(&mut out, "Calls:\n".into());
                for callee in callees.iter().take(20) {
                    let signature = graph
                        .definitions(callee)
                        .first()
                        .map(|d| d.signature.clone())
                        .unwrap_or_default();
                    push(&mut out, format!("- {callee} {signature}\n"));
                }
            }
            out.push('\n');
        }
    }
    let query = query.trim();
    if query.is_empty() {
        return out;
    }
    match retriever
        .search(query, task.repositories(), SEARCH_HITS)
        .await
    {
        Ok(hits) => {
            for hit in hits {
                let start = hit
                    .snippet_start_line
                    .max(hit.span.as_ref().map_or(1, |s| s.start_line));
                let piece = format!(
                    "{}:{} ({})\n```elixir\n{}\n```\n\n",
                    hit.path,
                    start,
                    hit.symbol,
                    hit.snippet.trim_end()
                );
                if !push(&mut out, piece) {
                    break;
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "assist context search failed; answering without it"),
    }
    out
}
