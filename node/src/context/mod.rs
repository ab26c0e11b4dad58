//! Token-aware context: what a prompt about some code should contain, fitted to a model.
//!
//! For a question and/or a target (a file, `path:10-20`, a module, `Mod.fun/arity`),
//! [`ContextBuilder`] gathers, from the symbol graph, the chunk index ([`ChunkSource`])
//! and search hits found beforehand:
//!
//! 1. the target's own definition, whole (never dropped; cut with a marker only when it
//!    alone is larger than the budget);
//! 2. its module header (moduledoc, `use`/`alias`, struct) and the module's types;
//! 3. what it calls and who calls it, signature and body;
//! 4. the search hits;
//! 5. the ranked repository map.
//!
//! A chunk appears once, and never when a larger span already included holds it. The
//! result must fit `budget` tokens (the model window minus the output reserve, counted as
//! the model counts, see [`tokens`]): bodies are collapsed to signatures first, lowest
//! priority first (map, search hits, callers, callees, module header), and only then are
//! whole sections dropped, lowest priority first. Every text passes the [`secrets`]
//! filter before it is counted.
//!
//! Search hits come in as plain [`SearchHit`]s and chunks through the [`ChunkSource`]
//! trait, so the same builder serves the embedded mode (a [`PartitionSet`]) and, later,
//! a gateway looking chunks up over the mesh.

mod fit;
pub mod history;
pub mod secrets;
mod target;
pub mod tokens;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::chunk::{Chunk, ChunkKind};
use crate::error::{NodeError, Result};
use crate::graph::{MODULE_BODY, SymbolGraph, SymbolSite};
use crate::index::FileChunkFilter;
use crate::ingest::PartitionSet;
use crate::search::SearchHit;

pub use history::{ExtractiveSummary, History, LlmSummary, Summarizer, fit_history};
pub use secrets::SecretFilter;
pub use target::Target;
pub use tokens::{TokenCounter, Tokenizer};

/// Where chunks are looked up by symbol and by file.
pub trait ChunkSource {
    /// The chunks defining `symbol`: `Mod.fun/arity`, `Mod.fun` (any arity), or `Mod`
    /// (its module header).
    fn definition(&self, symbol: &str) -> Result<Vec<Chunk>>;
    /// Every chunk of one file, in file order.
    fn file_chunks(&self, repo: &str, path: &str) -> Result<Vec<Chunk>>;
    /// The chunks of one file that `only` names, in file order. A source backed by an
    /// index reads only those.
    fn file_chunks_where(
        &self,
        repo: &str,
        path: &str,
        only: &FileChunkFilter,
    ) -> Result<Vec<Chunk>> {
        let mut chunks = self.file_chunks(repo, path)?;
        chunks.retain(|c| only.accepts(c));
        Ok(chunks)
    }
    /// The repositories that hold `path` (a file target names no repository).
    fn repos_with_file(&self, path: &str) -> Result<Vec<String>>;
}

impl ChunkSource for PartitionSet {
    fn definition(&self, symbol: &str) -> Result<Vec<Chunk>> {
        self.chunks_of_symbol(symbol)
    }

    fn file_chunks(&self, repo: &str, path: &str) -> Result<Vec<Chunk>> {
        self.chunks_of_file(repo, path)
    }

    fn file_chunks_where(
        &self,
        repo: &str,
        path: &str,
        only: &FileChunkFilter,
    ) -> Result<Vec<Chunk>> {
        self.chunks_of_file_where(repo, path, only)
    }

    fn repos_with_file(&self, path: &str) -> Result<Vec<String>> {
        Ok(self
            .repos()
            .into_iter()
            .map(|r| r.repo)
            .filter(|repo| {
                self.partition_for(repo, path)
                    .is_ok_and(|p| p.has_file(repo, path))
            })
            .collect())
    }
}

/// What a context is asked for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContextRequest {
    pub question: String,
    /// A file path, `path:START-END`, `Module`, `Module.fun` or `Module.fun/arity`.
    pub target: Option<String>,
    /// Tokens the prompt may take [default: the model's window minus its output reserve].
    pub budget: Option<usize>,
    /// Only these repositories (all when empty; the repository map is not filtered).
    pub repositories: Vec<String>,
}

/// The smallest budget accepted: room for a question and a cut definition.
pub const MIN_BUDGET: usize = 64;

/// The search hits a question alone centres the repository map on (with what it names).
const MAP_FOCUS_HITS: usize = 3;

/// Where a caller is, for the order callers are shown in: the library's own code first,
/// then scripts, examples and the rest, tests last.
fn caller_rank(path: &str) -> u8 {
    let test = path.starts_with("test/") || path.contains("/test/") || path.ends_with("_test.exs");
    if test {
        2
    } else if path.starts_with("lib/") || path.contains("/lib/") {
        0
    } else {
        1
    }
}

/// Functions and modules a question names that come into its context before the hits.
const MAX_NAMED_FUNCTIONS: usize = 4;
const MAX_NAMED_MODULES: usize = 2;

/// Search hits shown at most in an 8k-token budget (the search asks for more when it does
/// not know yet which repository the target is in; see
/// [`crate::service::context_search`]).
pub const MAX_HITS: usize = 8;

/// Attributes Elixir reads itself, beside those that describe (`@spec`, `@impl`, …): no
/// value a function reads.
const COMPILER_HOOKS: [&str; 4] = [
    "before_compile",
    "after_compile",
    "on_definition",
    "external_resource",
];

/// A function whose callers and callees a context gathers, and the other functions of
/// the lines asked for with it (`path:START-END`), whose callers it may share.
#[derive(Clone, Copy)]
struct Calls<'a> {
    symbol: &'a str,
    siblings: &'a [String],
    /// The lines asked for, when they are part of `symbol` only (a range inside a long
    /// split function): the callees they call come first.
    within: Option<&'a str>,
}

/// The most functions `path:START-END` lines may hold for their callers and callees to
/// come, as a function target's.
const MAX_RANGE_FUNCTIONS: usize = 3;

/// The most functions a `use` defines listed for a module target.
const MAX_GENERATED_SHOWN: usize = 40;

/// The module of `Mod.fun/arity` (`Mod`).
fn symbol_module(symbol: &str) -> &str {
    let head = symbol.rsplit_once('/').map_or(symbol, |(h, _)| h);
    head.rsplit_once('.').map_or("", |(m, _)| m)
}

/// How many callers (or callees) a budget holds, `n` being what an 8k-token one holds:
/// in proportion, up to 4 times as many from 32k tokens (a 16,000-token budget holds
/// nearly twice as many, not as many; what does not fit is collapsed, then dropped, as
/// always).
pub fn budget_scaled(n: usize, budget: usize) -> usize {
    (n.saturating_mul(budget) / 8_192).clamp(n, 4 * n)
}

/// The most parts of a split definition a search hit shows together.
const MAX_JOINED_PARTS: usize = 3;

/// The most parts of a split caller read for the ones that make the call.
const MAX_CALLER_PARTS: usize = 64;

/// The most lines of calls in a caller's parts not shown that its title names.
const MORE_CALL_LINES: usize = 12;

/// The most parts of the header of a module a question names that its context shows:
/// a long one (a router's) comes by its first parts.
const MAX_NAMED_HEADER_PARTS: usize = 6;

/// How many times [`max_hits`] a context shows while its budget has room for them
/// (the search asks for as many).
pub const MAX_FILL_HITS: usize = 2;

/// Search hits shown at most in a context of `budget` tokens: [`MAX_HITS`] per 8k tokens,
/// in proportion (a 16,000-token budget shows 15, not the 8 of 8,192), from 8 up to 32.
pub fn max_hits(budget: usize) -> usize {
    budget_scaled(MAX_HITS, budget)
}

/// The words of a question that may name code: modules (`Phoenix.LiveView.Channel`), and
/// functions (`Enum.map/2`, `Enum.map`, `handle_event`, `valid?`), in order, each once.
/// Sentence punctuation around them (`Channel?`, `(map/2)`, a closing `.`) is left out.
fn named_in(question: &str) -> (Vec<String>, Vec<String>) {
    let mut modules: Vec<String> = Vec::new();
    let mut functions: Vec<String> = Vec::new();
    let is_word = |c: char| c.is_alphanumeric() || "_.?!/".contains(c);
    for raw in question.split(|c: char| !is_word(c)) {
        let word = raw.trim_end_matches('.').trim_start_matches('.');
        let word = word.strip_prefix("Elixir.").unwrap_or(word);
        // "… release/2?": the question mark ends the sentence, not the name.
        let word = match word.strip_suffix('?') {
            Some(w)
                if w.rsplit_once('/')
                    .is_some_and(|(_, a)| a.parse::<u32>().is_ok()) =>
            {
                w
            }
            _ => word,
        };
        if word.len() < 3 || word.len() > 200 {
            continue;
        }
        let (head, arity) = match word.rsplit_once('/') {
            Some((h, a)) if !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) => (h, true),
            _ => (word.trim_end_matches('/'), false),
        };
        let segments: Vec<&str> = head.split('.').collect();
        let module_segment = |s: &str| {
            s.starts_with(|c: char| c.is_ascii_uppercase())
                && s.chars().all(|c| c.is_alphanumeric() || c == '_')
        };
        let function_name = |s: &str| {
            let body = s.trim_end_matches(['?', '!']);
            s.len() - body.len() <= 1
                && body.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let (last, init) = segments.split_last().expect("split gives one at least");
        let push = |list: &mut Vec<String>, s: String| {
            if !list.contains(&s) {
                list.push(s);
            }
        };
        if !arity
            && segments
                .iter()
                .all(|s| module_segment(s.trim_end_matches('?')))
        {
            push(&mut modules, head.trim_end_matches('?').to_string());
        } else if function_name(last) && init.iter().all(|s| module_segment(s)) {
            if !init.is_empty() {
                push(&mut modules, init.join("."));
            }
            // A function in words is snake_case, ends in ?/! or has an arity: not "the"
            // or "work". A `?` may end the sentence, not the name: both are tried.
            let marked = last.ends_with(['?', '!']);
            if !init.is_empty() || arity || last.contains('_') || marked {
                push(&mut functions, word.to_string());
                if let Some(plain) = word.strip_suffix('?') {
                    push(&mut functions, plain.to_string());
                }
            }
        }
    }
    (modules, functions)
}

/// What a section holds, from the most to the least important.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    Question,
    Target,
    /// A function the question names (`Explain Ecto.Changeset.cast/4`).
    Named,
    ModuleHeader,
    Callee,
    Caller,
    SearchHit,
    RepoMap,
}

impl SectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SectionKind::Question => "question",
            SectionKind::Target => "target",
            SectionKind::Named => "named",
            SectionKind::ModuleHeader => "module_header",
            SectionKind::Callee => "callee",
            SectionKind::Caller => "caller",
            SectionKind::SearchHit => "search_hit",
            SectionKind::RepoMap => "repo_map",
        }
    }

    /// The question and the target are never collapsed or dropped.
    pub fn is_required(self) -> bool {
        matches!(self, SectionKind::Question | SectionKind::Target)
    }

    /// Where the section goes in the prompt: background first, the target and the
    /// question last, nearest to the answer.
    fn render_rank(self) -> u8 {
        match self {
            SectionKind::RepoMap => 0,
            SectionKind::ModuleHeader => 1,
            SectionKind::Callee => 2,
            SectionKind::Caller => 3,
            SectionKind::SearchHit => 4,
            SectionKind::Named => 5,
            SectionKind::Target => 6,
            SectionKind::Question => 7,
        }
    }
}

/// A span of one file a section shows (for de-duplication).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSpan {
    pub repo: String,
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
}

impl SourceSpan {
    fn of(chunk: &Chunk) -> SourceSpan {
        SourceSpan {
            repo: chunk.repo.clone(),
            path: chunk.path.clone(),
            start_line: chunk.start_line,
            end_line: chunk.end_line,
        }
    }

    /// Whether `self` lies inside `other`.
    pub fn within(&self, other: &SourceSpan) -> bool {
        self.repo == other.repo
            && self.path == other.path
            && self.start_line >= other.start_line
            && self.end_line <= other.end_line
    }
}

/// One part of the prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub kind: SectionKind,
    pub title: String,
    pub text: String,
    /// Tokens of the rendered section (title and text), as the model counts them.
    pub tokens: usize,
    /// Whether the body was replaced by its signature.
    pub collapsed: bool,
    /// The chunks shown (empty for the question and the map).
    pub chunk_ids: Vec<String>,
    pub spans: Vec<SourceSpan>,
    /// The signature-only text, while the section is not collapsed.
    #[serde(skip)]
    collapsed_text: Option<String>,
    /// Shorter forms of a target, mildest first, each with what its title then says:
    /// its docs cut to their first paragraph, then (a module or file) its functions
    /// shown by their heads. What a target too large for the budget gives up before its
    /// end is cut.
    #[serde(skip)]
    shortened_text: Vec<(&'static str, String)>,
    /// For a caller, and the callers named beyond those shown: the function called.
    #[serde(skip)]
    caller_of: Option<String>,
}

impl Section {
    /// Whether the body could still be collapsed to a shorter signature (false once it
    /// was, or once collapsing was found not to save anything).
    pub fn collapsible(&self) -> bool {
        self.collapsed_text.is_some()
    }

    /// The section as it appears in the prompt.
    pub fn render(&self) -> String {
        block(&self.title, &self.text)
    }
}

fn block(title: &str, text: &str) -> String {
    format!("## {title}\n{text}\n\n")
}

/// A section left out to fit the budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    pub kind: SectionKind,
    pub title: String,
    pub tokens: usize,
}

/// The context of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub model: String,
    pub tokenizer: Tokenizer,
    /// In prompt order.
    pub sections: Vec<Section>,
    /// Tokens of [`Context::render`].
    pub tokens: usize,
    pub budget: usize,
    pub dropped: Vec<Dropped>,
    /// Whether the target's definition alone was over the budget and was cut.
    pub truncated: bool,
}

impl Context {
    /// The prompt text.
    pub fn render(&self) -> String {
        self.sections.iter().map(Section::render).collect()
    }
}

/// What replaces the cut-off end of a definition larger than the budget.
pub const TRUNCATION_MARKER: &str =
    "\n# … [truncated: this definition is longer than the token budget allows]";

/// The longest prefix of `text` (on a character boundary) of at most `max_tokens`.
pub fn truncate_to(text: &str, max_tokens: usize, counter: &TokenCounter) -> String {
    truncate_with(text, |prefix| counter.count(prefix) <= max_tokens)
}

/// The longest prefix of `text` for which `fits` holds (empty when none does). Token
/// counts grow with the prefix almost everywhere, so a binary search finds it.
fn truncate_with(text: &str, fits: impl Fn(&str) -> bool) -> String {
    if fits(text) {
        return text.to_string();
    }
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let (mut lo, mut hi) = (0usize, bounds.len());
    // Invariant: the prefix ending at bounds[lo] fits (bounds[0] = 0, the empty prefix,
    // is accepted even when it does not, and checked by the caller).
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if fits(&text[..bounds[mid]]) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let end = bounds.get(lo).copied().unwrap_or(0);
    text[..end].to_string()
}

/// Builds contexts over one symbol graph and chunk source.
pub struct ContextBuilder<'a> {
    graph: &'a SymbolGraph,
    source: &'a dyn ChunkSource,
    counter: TokenCounter,
    secrets: SecretFilter,
    hits: Vec<SearchHit>,
    /// Search hits still on their way (see [`ContextBuilder::search_hits_later`]).
    late_hits: std::sync::Mutex<Option<LateHits<'a>>>,
    /// Most callers and callees shown.
    pub max_callers: usize,
    pub max_callees: usize,
}

/// Search hits asked for when the context needs them.
type LateHits<'a> = Box<dyn FnOnce() -> Result<Vec<SearchHit>> + Send + 'a>;

/// The sections gathered, before fitting.
struct Gathered {
    sections: Vec<Section>,
    seen_ids: HashSet<String>,
    /// Each section by kind and text: an identical copy (vendored or copied code) joins
    /// the section already shown instead of repeating it. The value is the section's
    /// index, its copies elsewhere and its title before they were counted.
    by_text: HashMap<(SectionKind, String), (usize, usize, String)>,
}

impl Gathered {
    /// Marks the section pushed last as about the callers of `symbol`.
    fn mark_caller_of(&mut self, symbol: &str) {
        if let Some(s) = self.sections.last_mut() {
            s.caller_of = Some(symbol.to_string());
        }
    }

    /// The sections, the tokens of those whose titles copies changed counted again.
    fn into_sections(mut self, counter: &TokenCounter) -> Vec<Section> {
        for &(i, copies, _) in self.by_text.values() {
            if copies > 0 {
                let s = &mut self.sections[i];
                s.tokens = counter.count(&block(&s.title, &s.text));
            }
        }
        self.sections
    }

    /// Whether a chunk is already shown, itself or inside a larger span (or holds one).
    fn shown(&self, chunk: &Chunk) -> bool {
        self.seen_ids.contains(&chunk.id) || self.span_shown(&SourceSpan::of(chunk))
    }

    /// Whether a section shows code holding `span`, or held in it.
    fn span_shown(&self, span: &SourceSpan) -> bool {
        (self.sections.iter())
            .flat_map(|s| &s.spans)
            .any(|s| span.within(s) || s.within(span))
    }

    /// Whether sections show most of `span` (two thirds of its lines or more): a
    /// quote's clauses shown as a function a `use` defines, then the part of the
    /// `__using__` that writes them.
    fn mostly_shown(&self, span: &SourceSpan) -> bool {
        self.mostly_shown_lines(span, span.start_line..=span.end_line)
    }

    /// [`Gathered::mostly_shown`] for a chunk, by its lines of code (not its blank
    /// lines, nor those closing blocks: a part ending a `__using__` closes its quote).
    fn chunk_mostly_shown(&self, chunk: &Chunk) -> bool {
        let code = (chunk.content.lines().zip(chunk.start_line..))
            .filter(|(l, _)| !matches!(l.trim(), "" | "end" | ")" | "]" | "}"))
            .map(|(_, n)| n);
        self.mostly_shown_lines(&SourceSpan::of(chunk), code)
    }

    fn mostly_shown_lines(&self, span: &SourceSpan, lines: impl Iterator<Item = u32>) -> bool {
        let shown: Vec<&SourceSpan> = (self.sections.iter())
            .flat_map(|s| &s.spans)
            .filter(|s| s.repo == span.repo && s.path == span.path)
            .collect();
        if shown.is_empty() {
            return false;
        }
        let (mut all, mut inside) = (0usize, 0usize);
        for line in lines {
            all += 1;
            inside +=
                usize::from((shown.iter()).any(|s| s.start_line <= line && line <= s.end_line));
        }
        all > 0 && 3 * inside >= 2 * all
    }
}

impl<'a> ContextBuilder<'a> {
    /// A builder counting as `counter` does, redacting the process environment's
    /// credentials.
    pub fn new(
        graph: &'a SymbolGraph,
        source: &'a dyn ChunkSource,
        counter: TokenCounter,
    ) -> ContextBuilder<'a> {
        ContextBuilder {
            graph,
            source,
            counter,
            secrets: SecretFilter::from_env(),
            hits: Vec::new(),
            late_hits: std::sync::Mutex::new(None),
            max_callers: 6,
            max_callees: 8,
        }
    }

    /// Redacts these credentials instead of the environment's.
    pub fn secrets(mut self, secrets: SecretFilter) -> Self {
        self.secrets = secrets;
        self
    }

    /// Search hits for the question, best first.
    pub fn search_hits(mut self, hits: Vec<SearchHit>) -> Self {
        self.hits = hits;
        self
    }

    /// Search hits from a search that runs while the rest is gathered: `hits` is called
    /// (by the first [`ContextBuilder::build`] only) once the target, its module and its
    /// callers and callees are in, and may block until the search answers. Its hits come
    /// after those of [`ContextBuilder::search_hits`].
    pub fn search_hits_later(
        self,
        hits: impl FnOnce() -> Result<Vec<SearchHit>> + Send + 'a,
    ) -> Self {
        *self.late_hits.lock().expect("late hits lock") = Some(Box::new(hits));
        self
    }

    pub fn counter(&self) -> &TokenCounter {
        &self.counter
    }

    /// Gathers and fits the context of `request`.
    pub fn build(&self, request: &ContextRequest) -> Result<Context> {
        let budget = request
            .budget
            .unwrap_or_else(|| self.counter.default_budget());
        if budget < MIN_BUDGET {
            return Err(NodeError::InvalidArgument {
                field: "token_budget",
                reason: format!("must be at least {MIN_BUDGET}, got {budget}"),
            });
        }
        if request.question.trim().is_empty() && request.target.is_none() {
            return Err(NodeError::InvalidArgument {
                field: "question",
                reason: "ask a question, name a target, or both".into(),
            });
        }
        let repos = &request.repositories;
        let in_repos = |c: &Chunk| repos.is_empty() || repos.contains(&c.repo);
        let mut g = Gathered {
            sections: Vec::new(),
            seen_ids: HashSet::new(),
            by_text: HashMap::new(),
        };
        let mut focus: Vec<String> = Vec::new();
        // The repositories of the target, when no repository was asked for: its search
        // hits and map come from them (callers from other repositories still come).
        let mut target_repos: Vec<String> = Vec::new();
        if let Some(t) = &request.target {
            let mut target = Target::parse(t)?;
            let mut chunks = self.target_chunks(&target, &in_repos, repos)?;
            // A function named without its module, or by its module's last segments
            // (`Helpers.can?/2`, `can?/2`), as `aiex symbols` takes it: the one it names.
            if chunks.is_empty()
                && let Target::Function(s) = &target
            {
                let in_scope = |site: &SymbolSite| repos.is_empty() || repos.contains(&site.repo);
                let mut named: Vec<String> = (self.graph.definitions_as_written(s, in_scope))
                    .into_iter()
                    .map(|site| site.symbol)
                    .collect();
                named.sort_unstable();
                named.dedup();
                match &named[..] {
                    [one] if one != s => {
                        target = Target::Function(one.clone());
                        chunks = self.target_chunks(&target, &in_repos, repos)?;
                    }
                    [_, _, ..] => {
                        return Err(NodeError::InvalidArgument {
                            field: "target",
                            reason: format!(
                                "`{s}` names {} functions ({}): name one with its module",
                                named.len(),
                                (named.iter().take(4).cloned().collect::<Vec<_>>()).join(", ")
                            ),
                        });
                    }
                    _ => {}
                }
            }
            if chunks.is_empty() {
                // A symbol: the names it may have meant, as `aiex symbols` offers them.
                let name = t.trim().to_string();
                let similar = match &target {
                    Target::Function(s) | Target::Module(s) => (self.graph.similar(s, 4))
                        .into_iter()
                        .filter(|m| m != s)
                        .take(3)
                        .collect(),
                    Target::File { .. } => Vec::new(),
                };
                // Lines past a file's end: how long the file is.
                let past_end = match &target {
                    Target::File {
                        path,
                        lines: Some(_),
                    } => self.file_length(path, repos)?,
                    _ => None,
                };
                return Err(NodeError::NotFound {
                    what: "target",
                    name: match (past_end, similar.is_empty()) {
                        (Some(n), _) => format!("{name} (the file has {n} lines)"),
                        (None, true) => name,
                        (None, false) => format!("{name} (did you mean {}?)", similar.join(", ")),
                    },
                });
            }
            if repos.is_empty() {
                target_repos = chunks.iter().map(|c| c.repo.clone()).collect();
                target_repos.sort();
                target_repos.dedup();
            }
            let label = match &target {
                Target::Function(s) | Target::Module(s) => s.clone(),
                Target::File { path, lines: None } => path.clone(),
                Target::File {
                    path,
                    lines: Some((a, b)),
                } => format!("{path}:{a}-{b}"),
            };
            // Identical definitions (vendored or copied code) are shown once; the title
            // lists where they all are.
            let mut keys: HashSet<String> = HashSet::new();
            let unique: Vec<&Chunk> = chunks
                .iter()
                .filter(|c| keys.insert(same_code(c)))
                .collect();
            let copies = chunks.len() - unique.len();
            // The parts of a split definition read as written, one block.
            let text = (join_adjacent(&unique).iter())
                .map(|(c, text)| fence(c, text))
                .collect::<Vec<_>>()
                .join("\n");
            // A function a `use` defines: its module's header, then the quote's clauses.
            let text = match &target {
                Target::Function(symbol)
                    if unique.iter().all(|c| c.kind == ChunkKind::ModuleHeader) =>
                {
                    let mut text = text;
                    for (quoted, _) in self.quoted_texts(symbol, &in_repos)? {
                        text.push('\n');
                        text.push_str(&quoted);
                    }
                    text
                }
                _ => text,
            };
            let shorter = shorter_forms(&target, &unique);
            let where_ = places(&chunks);
            let same = match copies {
                0 => String::new(),
                1 => "; 1 identical copy shown once".to_string(),
                n => format!("; {n} identical copies shown once"),
            };
            self.push(
                &mut g,
                SectionKind::Target,
                format!("Target: {label} ({where_}{same})"),
                text,
                None,
                &chunks,
            );
            if let Some(s) = g
                .sections
                .iter_mut()
                .find(|s| s.kind == SectionKind::Target)
            {
                s.shortened_text = (shorter.into_iter())
                    .map(|(what, t)| (what, self.secrets.redact(&t)))
                    .collect();
            }
            match &target {
                Target::Function(symbol) => {
                    focus.push(symbol.clone());
                    self.gather_module(&mut g, &chunks, &in_repos, true)?;
                    // A larger window holds more of them.
                    let calls = Calls {
                        symbol,
                        siblings: &[],
                        within: None,
                    };
                    self.gather_calls(&mut g, calls, &in_repos, repos, budget)?;
                }
                Target::Module(module) => {
                    focus.push(module.clone());
                    self.gather_module(&mut g, &chunks, &in_repos, false)?;
                    self.push_generated(&mut g, module);
                }
                Target::File { lines, .. } => {
                    focus.extend(chunks.iter().map(Chunk::display_symbol));
                    // Lines of a file: the types their code names, as a function's; a
                    // whole file: all its types.
                    self.gather_module(&mut g, &chunks, &in_repos, lines.is_some())?;
                    // Lines holding a function (`http2.ex:2119-2140`, exactly
                    // `handle_rst_stream/3`), or a few (the two arities of
                    // `is_first_message?` selected together): their callers and callees,
                    // as a function target's.
                    let callable =
                        |d: &&crate::chunk::Definition| d.kind.is_callable() && !d.implied;
                    // Of a chunk that merged small functions (`get/3`, `get/2`,
                    // `delete/2`), those the lines hold; all, when they hold none (a
                    // doc's lines above them).
                    let in_lines = |d: &&crate::chunk::Definition| {
                        lines.is_none_or(|(a, b)| d.line <= b && d.end_line >= a)
                    };
                    let mut functions: Vec<String> = (chunks.iter())
                        .flat_map(|c| {
                            let held = c.defines.iter().filter(callable).filter(in_lines);
                            match held.clone().next() {
                                Some(_) => held.collect::<Vec<_>>(),
                                None => c.defines.iter().filter(callable).collect(),
                            }
                        })
                        .filter_map(|d| d.symbols().into_iter().next_back())
                        .collect();
                    // Lines in a later part of a function split in more parts than are
                    // shown together (Jido's 184-line `handle_info/2`): the function the
                    // part with its head defines.
                    // (Once per split function, for lines only.)
                    let mut read: HashSet<(&str, &str, u32)> = HashSet::default();
                    let later = (chunks.iter())
                        .filter(|_| lines.is_some())
                        .filter(|c| c.part.is_some() && c.defines.is_empty());
                    for c in later {
                        let n = c.part.map_or(0, |(_, n)| n);
                        if !read.insert((c.module.as_str(), c.name.as_str(), n)) {
                            continue;
                        }
                        for part in self.parts_upto(c, MAX_CALLER_PARTS)? {
                            functions.extend(
                                (part.defines.iter())
                                    .filter(callable)
                                    .filter_map(|d| d.symbols().into_iter().next_back()),
                            );
                        }
                    }
                    let mut seen: HashSet<String> = HashSet::default();
                    functions.retain(|f| seen.insert(f.clone()));
                    // A test's lines: what the test calls (the code under test), by the
                    // name the graph knows it under (`path:line name`).
                    if functions.is_empty() {
                        functions = (chunks.iter())
                            .filter(|c| c.kind.is_test() && c.defines.is_empty())
                            .map(crate::graph::source_symbol)
                            .collect();
                        functions.dedup();
                    }
                    // Of a split function, the lines of its parts asked for.
                    let within: String = match lines {
                        Some((a, b)) if functions.len() == 1 => (chunks.iter())
                            .filter(|c| c.part.is_some())
                            .flat_map(Chunk::numbered_lines)
                            .filter(|(n, _)| (*a..=*b).contains(n))
                            .map(|(_, l)| format!("{l}\n"))
                            .collect(),
                        _ => String::new(),
                    };
                    if lines.is_some() && functions.len() <= MAX_RANGE_FUNCTIONS {
                        for symbol in &functions {
                            let calls = Calls {
                                symbol,
                                siblings: &functions,
                                within: Some(within.as_str()).filter(|w| !w.is_empty()),
                            };
                            self.gather_calls(&mut g, calls, &in_repos, repos, budget)?;
                        }
                    }
                }
            }
        }
        if request.target.is_none() {
            self.gather_named(&mut g, &request.question, &in_repos, &mut focus)?;
        }
        let late = self.late_hits.lock().expect("late hits lock").take();
        let late = match late {
            Some(hits) => hits()?,
            None => Vec::new(),
        };
        let scope: &[String] = if repos.is_empty() {
            &target_repos
        } else {
            repos
        };
        let mut hits_shown = 0;
        let most_hits = max_hits(budget);
        // Past those, the next hits while what is gathered leaves room for them, the map
        // and the question: a small budget is not left half empty.
        let room = budget.saturating_sub(budget / 4);
        let mut used: usize = g.sections.iter().map(|s| s.tokens).sum();
        for hit in self.hits.iter().chain(&late) {
            if hits_shown == MAX_FILL_HITS * most_hits {
                break;
            }
            let c = &hit.chunk;
            if !(scope.is_empty() || scope.contains(&c.repo))
                || g.shown(c)
                || g.chunk_mostly_shown(c)
            {
                continue;
            }
            let cost = self.counter.count(&c.content);
            if hits_shown >= most_hits && used + cost > room {
                break;
            }
            used += cost;
            // A question alone: the map centres on what its best hits define too.
            if request.target.is_none()
                && hits_shown < MAP_FOCUS_HITS
                && self.graph.is_defined(&hit.symbol)
                && !focus.contains(&hit.symbol)
            {
                focus.push(hit.symbol.clone());
            }
            // A part of a split definition (a long doc, its body) is shown with the other
            // parts of its definition, as written, when they are few: a question that
            // matches the doc needs the code too.
            let mut parts = self.parts_of(c)?;
            // A part shown already (a caller's part that makes the call): this one alone.
            if parts.iter().any(|p| g.shown(p)) {
                parts.clear();
            }
            used += (parts.iter())
                .filter(|p| p.id != c.id)
                .map(|p| self.counter.count(&p.content))
                .sum::<usize>();
            let title = format!("Search hit: {}", hit.symbol);
            self.push_parts(&mut g, SectionKind::SearchHit, title, c, &parts);
            hits_shown += 1;
        }
        let map_tokens = (budget / 8).clamp(64, 1024);
        let (map, _) = self.graph.repo_map_in(map_tokens, &focus, scope);
        if !map.trim().is_empty() {
            self.push(
                &mut g,
                SectionKind::RepoMap,
                "Repository map (ranked definitions)".into(),
                map.trim_end().to_string(),
                None,
                &[],
            );
        }
        if !request.question.trim().is_empty() {
            self.push(
                &mut g,
                SectionKind::Question,
                "Question".into(),
                request.question.trim().to_string(),
                None,
                &[],
            );
        }
        let mut sections = g.into_sections(&self.counter);
        sections.sort_by_key(|s| s.kind.render_rank());
        Ok(self.fit(sections, budget))
    }

    /// What the quotes that write `symbol`, a function `use`s define, say: for each, a
    /// line naming the `use` and the quoting function, then its clauses as written there
    /// (at most [`MAX_QUOTED_LINES`] lines).
    fn quoted_texts(
        &self,
        symbol: &str,
        in_repos: &dyn Fn(&Chunk) -> bool,
    ) -> Result<Vec<(String, SourceSpan)>> {
        let mut out: Vec<(String, SourceSpan)> = Vec::new();
        let mut seen: HashSet<(String, String, u32)> = HashSet::new();
        for site in self.graph.definitions(symbol) {
            let (Some(by), Some(at)) = (&site.generated_by, &site.quoted_at) else {
                continue;
            };
            let file = &at.file;
            if !seen.insert((file.repo.clone(), file.path.clone(), at.start_line)) {
                continue;
            }
            // The quote's parts may be chunks of their own (a long `__using__` is split):
            // the file's chunks over those lines.
            let mut chunks: Vec<Chunk> = (self.source.file_chunks(&file.repo, &file.path)?)
                .into_iter()
                .filter(|c| {
                    in_repos(c) && c.start_line <= at.end_line && c.end_line >= at.start_line
                })
                .collect();
            chunks.sort_by_key(|c| c.start_byte);
            let Some(first) = chunks.first().filter(|c| c.start_line <= at.start_line) else {
                continue;
            };
            let joined: String = chunks.iter().map(|c| c.content.as_str()).collect();
            let all: Vec<&str> = joined.lines().collect();
            let from = ((at.start_line - first.start_line) as usize).min(all.len());
            // The `@doc` and `@spec` the quote writes above the clauses come with them.
            let indent = all.get(from).map_or(0, |l| l.len() - l.trim_start().len());
            let lead = lead_lines(&all[..from], indent);
            let wanted = at.end_line.saturating_sub(at.start_line) as usize + 1 + lead;
            let lines: Vec<&str> = (all.iter().copied())
                .skip(from - lead)
                .take(wanted.min(MAX_QUOTED_LINES))
                .collect();
            let mut text = lines.join("\n");
            if wanted > MAX_QUOTED_LINES {
                text.push_str(&format!("\n# ... {} more lines", wanted - MAX_QUOTED_LINES));
            }
            // The quote is often in another repository (a dependency's): named then.
            let path = if file.repo == site.repo {
                file.path.clone()
            } else {
                format!("{}/{}", file.repo, file.path)
            };
            // A `use`'s quote, or a macro's called in the module (`Mod.macro/2`).
            let by = match by.contains('/') {
                true => format!("a call of `{by}`"),
                false => format!("`use {by}`, in {}", file.symbol),
            };
            let span = SourceSpan {
                repo: file.repo.clone(),
                path: file.path.clone(),
                start_line: at.start_line - lead as u32,
                end_line: at.end_line,
            };
            out.push((
                format!(
                    "Defined by {by} ({path}:{}-{}):\n{}",
                    span.start_line,
                    span.end_line,
                    fence(first, &dedent(&text))
                ),
                span,
            ));
        }
        Ok(out)
    }

    fn target_chunks(
        &self,
        target: &Target,
        in_repos: &dyn Fn(&Chunk) -> bool,
        repos: &[String],
    ) -> Result<Vec<Chunk>> {
        let mut chunks: Vec<Chunk> = match target {
            Target::Function(symbol) => {
                let (headers, mut defining): (Vec<Chunk>, Vec<Chunk>) = (self.source)
                    .definition(symbol)?
                    .into_iter()
                    .partition(|c| c.kind == ChunkKind::ModuleHeader);
                if defining.is_empty() {
                    // Defined where it is implied (`defexception`'s `exception/1`) or
                    // by a `use` (`use Ecto.Repo`'s `all/2`): its module's header.
                    defining = headers;
                }
                // A component declared by a bodiless head (its `attr`s) whose body is
                // a template `embed_templates` reads: the template too.
                let bodiless = |c: &Chunk| c.tags.iter().any(|t| t == "bodiless");
                if !defining.is_empty() && defining.iter().all(bodiless) {
                    for site in self.graph.definitions(symbol) {
                        if site.generated_by.is_some() && crate::chunk::is_template_path(&site.path)
                        {
                            let file = self.source.file_chunks(&site.repo, &site.path)?;
                            defining.extend(file.into_iter().filter(|c| {
                                c.start_line <= site.end_line && c.end_line >= site.start_line
                            }));
                        }
                    }
                }
                if defining.is_empty() {
                    for site in self.graph.definitions(symbol) {
                        let before = defining.len();
                        if site.generated_by.is_some() {
                            let at_header = (self.source.definition(&site.module)?)
                                .into_iter()
                                .filter(|c| {
                                    c.kind == ChunkKind::ModuleHeader
                                        && (c.repo == site.repo && c.path == site.path)
                                });
                            defining.extend(at_header);
                        }
                        if defining.len() == before {
                            // A template's function (`embed_templates`), or one a
                            // `for` names after what another file's function returns:
                            // the code at its site.
                            defining.extend(
                                (self.source.file_chunks(&site.repo, &site.path)?)
                                    .into_iter()
                                    .filter(|c| {
                                        c.start_line <= site.end_line
                                            && c.end_line >= site.start_line
                                    }),
                            );
                        }
                    }
                }
                // One of several small functions merged into a chunk: its own lines.
                (self.with_every_part(defining)?.into_iter())
                    .map(|c| narrowed_to(&c, symbol).unwrap_or(c))
                    .collect()
            }
            Target::Module(module) => {
                // The whole module: its header and every chunk of its own (not those of
                // the modules nested in it), in each file defining it.
                let mut files: Vec<(String, String)> = self
                    .source
                    .definition(module)?
                    .into_iter()
                    .filter(|c| c.kind == ChunkKind::ModuleHeader)
                    .map(|c| (c.repo, c.path))
                    .collect();
                files.dedup();
                let mut all = Vec::new();
                for (repo, path) in files {
                    all.extend(
                        self.source
                            .file_chunks(&repo, &path)?
                            .into_iter()
                            .filter(|c| &c.module == module || c.also_modules.contains(module)),
                    );
                }
                all
            }
            Target::File { path, lines } => {
                let (repos, path) = self.target_file(path, repos)?;
                let mut all = Vec::new();
                for repo in repos {
                    let file = self.source.file_chunks(&repo, &path)?;
                    let overlapping = |c: &&Chunk| {
                        lines.is_none_or(|(a, b)| c.start_line <= b && c.end_line >= a)
                    };
                    // Of the lines asked for, a chunk whose only ones are blank (the
                    // blank line an editor's selection takes in after a function,
                    // which starts the next chunk) is not asked for.
                    let with_code: Vec<&Chunk> = (file.iter().filter(overlapping))
                        .filter(|c| lines.is_none_or(|(a, b)| holds_code(c, a, b)))
                        .collect();
                    let chosen: Vec<&Chunk> = match with_code.is_empty() {
                        true => file.iter().filter(overlapping).collect(),
                        false => with_code,
                    };
                    // Lines inside a function split in parts: the function, whole (its
                    // callers and callees are the whole function's).
                    let mut parts: Vec<Chunk> = Vec::new();
                    if lines.is_some() {
                        for c in chosen.iter().filter(|c| c.part.is_some()) {
                            parts.extend(self.parts_of(c)?);
                        }
                    }
                    all.extend(chosen.into_iter().cloned());
                    all.extend(parts);
                }
                all
            }
        };
        chunks.retain(|c| in_repos(c));
        chunks.sort_by(|a, b| {
            (&a.repo, &a.path, a.start_byte).cmp(&(&b.repo, &b.path, b.start_byte))
        });
        chunks.dedup_by(|a, b| a.id == b.id);
        Ok(chunks)
    }

    /// How many lines an indexed target file has (its last chunk's last line), when it is
    /// indexed.
    fn file_length(&self, path: &str, repos: &[String]) -> Result<Option<u32>> {
        let (found, path) = self.target_file(path, repos)?;
        let mut last = None;
        for repo in found {
            let end = (self.source.file_chunks(&repo, &path)?.iter())
                .map(|c| c.end_line)
                .max();
            last = last.max(end);
        }
        Ok(last)
    }

    /// The repository holding a target file, and its path there: `lib/a.ex` in the one
    /// repository (of those asked for) that has it, or `repo/lib/a.ex` as search hits
    /// name it. A path in several repositories is an error naming them, not a mix.
    fn target_file(&self, path: &str, asked_for: &[String]) -> Result<(Vec<String>, String)> {
        let asked = |repo: &str| asked_for.is_empty() || asked_for.iter().any(|r| r == repo);
        let mut repos: Vec<String> = self.source.repos_with_file(path)?;
        repos.retain(|r| asked(r));
        if repos.is_empty()
            && let Some((repo, rest)) = path.split_once('/')
            && asked(repo)
            && self.source.repos_with_file(rest)?.iter().any(|r| r == repo)
        {
            return Ok((vec![repo.to_string()], rest.to_string()));
        }
        repos.sort();
        repos.dedup();
        if repos.len() > 1 {
            return Err(NodeError::InvalidArgument {
                field: "target",
                reason: format!(
                    "`{path}` is in several repositories ({}): name one with --repo, or write \
                     `{}/{path}`",
                    repos.join(", "),
                    repos[0]
                ),
            });
        }
        Ok((repos, path.to_string()))
    }

    /// `chunks` with the other parts of each split definition among them (the part with
    /// its head defines it; a long `@doc` before it and the rest of its body are parts of
    /// their own), so a target comes whole.
    fn with_every_part(&self, chunks: Vec<Chunk>) -> Result<Vec<Chunk>> {
        let mut out = Vec::with_capacity(chunks.len());
        // Copies of the same code (vendored, or a repository indexed twice) are shown
        // once: their other parts are read for the first copy only.
        let mut expanded: HashSet<String> = HashSet::default();
        for chunk in chunks {
            let Some((k, n)) = chunk.part else {
                out.push(chunk);
                continue;
            };
            if !expanded.insert(chunk.content_hash.clone()) {
                out.push(chunk);
                continue;
            }
            // The parts share their kind and follow each other: the file's chunks of that
            // kind hold them, side by side.
            let same_kind = FileChunkFilter::Kinds(vec![chunk.kind]);
            let file = self
                .source
                .file_chunks_where(&chunk.repo, &chunk.path, &same_kind)?;
            let parts = file
                .iter()
                .position(|c| c.id == chunk.id)
                .and_then(|at| at.checked_sub(k as usize - 1))
                .map(|first| &file[first..file.len().min(first + n as usize)])
                .filter(|parts| {
                    parts.len() == n as usize
                        && parts.iter().zip(1..).all(|(c, j)| {
                            c.part == Some((j, n))
                                && c.module == chunk.module
                                && c.name == chunk.name
                        })
                });
            match parts {
                Some(parts) => out.extend(parts.iter().cloned()),
                None => out.push(chunk),
            }
        }
        Ok(out)
    }

    /// The module headers and types of the modules the target chunks belong to.
    /// What the question names and the index defines, before the search hits: functions
    /// (`Enum.map/2`, `Enum.map`, or "handle_event in Phoenix.LiveView.Channel": a module
    /// and one of its functions in words) with their code, and modules with their header.
    fn gather_named(
        &self,
        g: &mut Gathered,
        question: &str,
        in_repos: &dyn Fn(&Chunk) -> bool,
        focus: &mut Vec<String>,
    ) -> Result<()> {
        let (modules, words) = named_in(question);
        let defined = |s: &str| !self.graph.definitions(s).is_empty();
        let modules: Vec<&String> = modules.iter().filter(|m| defined(m)).collect();
        let mut functions: Vec<String> = Vec::new();
        for name in &words {
            if name.contains('.') && defined(name) {
                functions.push(name.clone());
            }
        }
        for module in &modules {
            for word in words.iter().filter(|w| !w.contains('.')) {
                let symbol = format!("{module}.{word}");
                if defined(&symbol) && !functions.contains(&symbol) {
                    functions.push(symbol);
                }
            }
        }
        for symbol in functions.iter().take(MAX_NAMED_FUNCTIONS) {
            let function = Target::Function(symbol.clone());
            let chunks = self.target_chunks(&function, in_repos, &[])?;
            if chunks.is_empty() {
                continue;
            }
            focus.push(symbol.clone());
            for c in &chunks {
                if !g.shown(c) {
                    // A split definition reads as one block, as written, when its parts
                    // are few (as a target's or a search hit's).
                    let title = format!("Named in the question: {symbol}");
                    let parts = self.parts_of(c)?;
                    self.push_parts(g, SectionKind::Named, title, c, &parts);
                }
            }
        }
        for module in modules.into_iter().take(MAX_NAMED_MODULES) {
            // Its header only: a module named in passing does not bring its types.
            let headers: Vec<Chunk> = self
                .source
                .definition(module)?
                .into_iter()
                .filter(|c| c.kind == ChunkKind::ModuleHeader && in_repos(c))
                .collect();
            focus.push(module.clone());
            // Each file's header whole, its parts joined as a target's is.
            let mut files: Vec<(&str, &str)> = (headers.iter())
                .map(|c| (c.repo.as_str(), c.path.as_str()))
                .collect();
            files.dedup();
            let only_headers = FileChunkFilter::Kinds(vec![ChunkKind::ModuleHeader]);
            for (repo, path) in files {
                let file = self.source.file_chunks_where(repo, path, &only_headers)?;
                // The first few parts of a long one (a router's): named in passing, it
                // need not take the budget whole, nor be dropped whole to fit.
                let parts: Vec<&Chunk> = (file.iter())
                    .filter(|c| c.module == *module && in_repos(c) && !g.shown(c))
                    .take(MAX_NAMED_HEADER_PARTS)
                    .collect();
                self.push_header(g, &parts);
            }
        }
        Ok(())
    }

    /// The section of a module's header, `headers` its parts in one file (in order): one
    /// section, however many parts, adjacent ones joined as written, apart ones (module
    /// code between its functions) after a line saying so.
    fn push_header(&self, g: &mut Gathered, headers: &[&Chunk]) {
        let runs: Vec<&[&Chunk]> = headers
            .chunk_by(|a, b| a.end_byte == b.start_byte)
            .collect();
        let Some(first) = runs.first().map(|r| r[0]) else {
            return;
        };
        let text = (runs.iter())
            .map(|run| join_adjacent(run).swap_remove(0).1)
            .collect::<Vec<_>>()
            .join("\n  # …\n");
        // A long header (a library's user guide in its `@moduledoc`) keeps its docs' first
        // paragraphs: the rest would take the room of the target's callers.
        let shortened = (text.lines().count() > LONG_HEADER_LINES)
            .then(|| shorten_docs(&text))
            .flatten();
        let mut said = if shortened.is_some() {
            " [docs shortened]"
        } else {
            ""
        };
        let text = shortened.unwrap_or(text);
        // Still long with data (AshPostgres' DSL schema, 3,600 tokens before `setup/1`):
        // each attribute's value by its first line.
        let text = match (text.lines().count() > LONG_HEADER_LINES)
            .then(|| shorten_data_attributes(&text))
            .flatten()
        {
            Some(short) => {
                said = match said.is_empty() {
                    true => " [data shortened]",
                    false => " [docs and data shortened]",
                };
                short
            }
            None => text,
        };
        let lines = (runs.iter())
            .map(|run| format!("{}-{}", run[0].start_line, run[run.len() - 1].end_line))
            .collect::<Vec<_>>()
            .join(", ");
        let title = format!(
            "Module header: {} ({}:{lines}){said}",
            first.display_symbol(),
            first.path,
        );
        let owned: Vec<Chunk> = headers.iter().map(|&c| c.clone()).collect();
        let key = format!("{}\0{text}", first.module);
        let texts = (
            fence(first, &text),
            Some(fence(first, &signature_only(first))),
        );
        self.push_keyed(g, SectionKind::ModuleHeader, title, texts, &owned, key);
    }

    /// The headers and types of the target's modules. A module header split in parts
    /// is one section, its parts joined as written. For a function target (`used_types`),
    /// only the types its code names (`t()`, `opts()`): a module's other types would fill
    /// the budget the target's callers and callees need.
    fn gather_module(
        &self,
        g: &mut Gathered,
        target: &[Chunk],
        in_repos: &dyn Fn(&Chunk) -> bool,
        used_types: bool,
    ) -> Result<()> {
        let mut modules: Vec<(&str, &str, &str)> = target
            .iter()
            .filter(|c| !c.module.is_empty())
            .map(|c| (c.repo.as_str(), c.path.as_str(), c.module.as_str()))
            .collect();
        modules.dedup();
        let headers_and_types =
            FileChunkFilter::Kinds(vec![ChunkKind::ModuleHeader, ChunkKind::Type]);
        let names_type = |c: &Chunk| {
            !used_types
                || c.defines.iter().any(|d| {
                    let called = format!("{}(", d.name);
                    target.iter().any(|t| {
                        t.content.match_indices(&called).any(|(i, _)| {
                            // `t(` itself, not the end of `list_t(`, `Map.t(` is fine.
                            !t.content[..i].ends_with(|ch: char| ch.is_alphanumeric() || ch == '_')
                        })
                    })
                })
        };
        for (repo, path, module) in modules.into_iter().take(4) {
            let file = self
                .source
                .file_chunks_where(repo, path, &headers_and_types)?;
            let mine: Vec<&Chunk> = (file.iter())
                .filter(|c| c.module == module && in_repos(c) && !g.shown(c))
                .collect();
            // For a function, a header part that only sets data attributes (Makeup's
            // `@autumn_style Style.make_style(…)`, one of 21) is no header: what the
            // function reads of them comes as the attributes it reads, below.
            // The later parts of such a part, split, go with it.
            let mut dropping = false;
            let headers: Vec<&Chunk> = (mine.iter().copied())
                .filter(|c| c.kind == ChunkKind::ModuleHeader)
                .enumerate()
                .filter(|&(i, c)| {
                    let continued = c.part.is_some_and(|(k, _)| k > 1);
                    dropping = used_types
                        && i > 0
                        && ((continued && dropping) || (!continued && sets_data_only(&c.content)));
                    !dropping
                })
                .map(|(_, c)| c)
                .collect();
            self.push_header(g, &headers);
            for c in mine.into_iter().filter(|c| c.kind == ChunkKind::Type) {
                if names_type(c) {
                    let title = format!("Type: {}", c.display_symbol());
                    self.push_chunk(g, SectionKind::ModuleHeader, title, c);
                }
            }
            if used_types {
                self.push_attributes(g, target, repo, path, module)?;
            }
        }
        Ok(())
    }

    /// The functions a `use` defines in a module target (`use Mojito.Base` defines
    /// `Mojito.get/3` and 13 more; the module's own file has 8 lines): by their heads,
    /// with where each quote is, at most [`MAX_GENERATED_SHOWN`].
    fn push_generated(&self, g: &mut Gathered, module: &str) {
        let sites = self.graph.generated_in(module, MAX_GENERATED_SHOWN + 1);
        if sites.is_empty() {
            return;
        }
        let mut by: Vec<&str> = Vec::new();
        let mut lines: Vec<String> = Vec::new();
        for site in sites.iter().take(MAX_GENERATED_SHOWN) {
            let Some(used) = site.generated_by.as_deref() else {
                continue;
            };
            if !by.contains(&used) {
                by.push(used);
            }
            let place = match &site.quoted_at {
                Some(q) => format!("  # {}:{}", q.file.path, q.start_line),
                None => String::new(),
            };
            // A head with default arguments defines several arities: listed once.
            let line = format!("{}{place}", site.signature);
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        if sites.len() > MAX_GENERATED_SHOWN {
            lines.push("# … and more".to_string());
        }
        let by = (by.iter())
            .map(|b| match b.contains('/') {
                true => format!("a call of `{b}`"),
                false => format!("`use {b}`"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let title = format!("Functions defined in {module} by {by}");
        let text = format!("```elixir\n{}\n```", lines.join("\n"));
        self.push(g, SectionKind::ModuleHeader, title, text, None, &[]);
    }

    /// The module attributes a function target reads (`@reconnect_delay_ms`), as the
    /// module sets them where the header shown does not hold them: set between
    /// functions, they are lines of another function's chunk.
    fn push_attributes(
        &self,
        g: &mut Gathered,
        target: &[Chunk],
        repo: &str,
        path: &str,
        module: &str,
    ) -> Result<()> {
        let mut names: Vec<&str> = Vec::new();
        for t in target.iter().filter(|t| t.module == module) {
            for (i, _) in t.content.match_indices('@') {
                let rest = &t.content[i + 1..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                let name = &rest[..end];
                // A read: a name, not one the target sets on its own line (`@x value`),
                // nor a doc; `@opts` heading a pipeline over lines is a read.
                let line_start = t.content[..i].rfind('\n').map_or(0, |n| n + 1);
                let value = rest[end..].strip_prefix(' ').is_some_and(sets_a_value);
                let sets = t.content[line_start..i].trim().is_empty() && value;
                // Written in a string on its line (`"(see the function's @spec)"`).
                let in_string = t.content[line_start..i].matches('"').count() % 2 == 1;
                if name.starts_with(|c: char| c.is_ascii_lowercase())
                    && !sets
                    && !in_string
                    && !crate::chunk::calls::DESCRIBING_ATTRIBUTES.contains(&name)
                    && !COMPILER_HOOKS.contains(&name)
                    && !names.contains(&name)
                    && names.len() < MAX_ATTRIBUTES_READ
                {
                    names.push(name);
                }
            }
        }
        // A name the target sets itself (`@params [...]` just above its `def`, ExAws.S3's
        // way): its value is in the target, and another function's would mislead.
        names.retain(|name| {
            let set = format!("@{name} ");
            !(target.iter()).any(|t| {
                t.content
                    .lines()
                    .any(|l| (l.trim_start().strip_prefix(set.as_str())).is_some_and(sets_a_value))
            })
        });
        if names.is_empty() {
            return Ok(());
        }
        let file = self.source.file_chunks(repo, path)?;
        // The setting in force where the target is: the last one before it.
        let before = (target.iter())
            .filter(|t| t.module == module)
            .map(|t| t.start_line)
            .min()
            .unwrap_or(u32::MAX);
        let mut found: Vec<(u32, u32, String)> = Vec::new();
        for name in &names {
            let set = format!("@{name} ");
            let settings: Vec<(&Chunk, usize)> = (file.iter().filter(|c| c.module == module))
                .flat_map(|c| {
                    (c.content.lines().enumerate())
                        .filter(|(k, l)| {
                            // A setting, not a `case` clause matching the value (`@tinyint ->
                            // :tinyint`).
                            (l.trim_start().strip_prefix(set.as_str())).is_some_and(sets_a_value)
                                && c.start_line + (*k as u32) < before
                        })
                        .map(move |(k, _)| (c, k))
                })
                .collect();
            let place = settings.last().map(|&(c, at)| {
                let lines: Vec<&str> = c.content.lines().collect();
                // The statement: to its brackets' close, so many lines at most.
                let mut depth = 0i64;
                let mut end = at;
                for (k, line) in lines.iter().enumerate().skip(at).take(MAX_ATTRIBUTE_LINES) {
                    depth += line.matches(['(', '[', '{']).count() as i64
                        - line.matches([')', ']', '}']).count() as i64;
                    end = k;
                    if depth <= 0 {
                        break;
                    }
                }
                let first = c.start_line + at as u32;
                let mut text = lines[at..=end].join("\n");
                if depth > 0 {
                    text.push_str("\n  # …");
                }
                (first, c.start_line + end as u32, text)
            });
            let Some((first, last, text)) = place else {
                continue;
            };
            let span = SourceSpan {
                repo: repo.to_string(),
                path: path.to_string(),
                start_line: first,
                end_line: last,
            };
            if !g.span_shown(&span) && !found.iter().any(|(f, _, _)| *f == first) {
                found.push((first, last, text));
            }
        }
        if found.is_empty() {
            return Ok(());
        }
        found.sort();
        let lines = (found.iter())
            .map(|(a, b, _)| match a == b {
                true => a.to_string(),
                false => format!("{a}-{b}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let title = format!("Module attributes read: {module} ({path}:{lines})");
        let text = found
            .iter()
            .map(|(_, _, t)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let Some(within) = target.iter().find(|t| t.module == module) else {
            return Ok(());
        };
        let text = fence(within, dedent(&text).trim_end());
        self.push(g, SectionKind::ModuleHeader, title, text, None, &[]);
        Ok(())
    }

    /// What `symbol` calls and who calls it.
    fn gather_calls(
        &self,
        g: &mut Gathered,
        Calls {
            symbol,
            siblings,
            within,
        }: Calls<'_>,
        in_repos: &dyn Fn(&Chunk) -> bool,
        repos: &[String],
        budget: usize,
    ) -> Result<()> {
        let max_callers = budget_scaled(self.max_callers, budget);
        let max_callees = budget_scaled(self.max_callees, budget);
        let mut shown = 0;
        let mut more_callees: Vec<String> = Vec::new();
        // The target's code, read for the messages it sends: once, and only when it
        // calls a server callback.
        let mut target_text: Option<String> = None;
        // In the order the code calls them: with more callees than fit, the first ones
        // called are kept, and the others named. A callee that only delegates
        // (`defdelegate make_version_struct(…), to: Serializer`) is followed by what it
        // delegates to, the code that runs.
        let mut order: Vec<String> = Vec::new();
        // The module's own functions first (Sentry's `send_event/2`: its pipeline of
        // private steps, not the config getters it reads), then other modules', then the
        // structs it builds, each in call order.
        let mut callees = self.graph.callees_in_call_order(symbol);
        let own_module = symbol_module(symbol);
        callees.sort_by_key(|c| match c.ends_with(".__struct__/0") {
            true => 2,
            false => u8::from(symbol_module(c) != own_module),
        });
        // Lines asked for inside a long function: what they call first.
        if let Some(within) = within {
            callees.sort_by_key(|c| !names_function(within, c));
        }
        for callee in callees {
            let sites = self.graph.definitions(&callee);
            let delegates =
                !sites.is_empty() && sites.iter().all(|s| s.kind == ChunkKind::Delegate);
            if !order.contains(&callee) {
                order.push(callee.clone());
            }
            if delegates {
                for to in self.graph.callees(&callee) {
                    if to != symbol && !order.contains(&to) {
                        order.push(to);
                    }
                }
            }
        }
        // A copy of a standard library module kept as data (`benchmarks/data/kernel.ex`)
        // is Elixir's, not indexed code the target calls; unless the target is such data.
        let target_is_data = self.graph.only_stdlib_copies(symbol);
        for callee in order {
            if !self.graph.is_defined(&callee)
                || (!target_is_data && self.graph.only_stdlib_copies(&callee))
            {
                continue; // Not indexed (Enum.map, a dependency).
            }
            // Calling itself (a function a `use` defines has no chunk marked shown).
            if callee == symbol {
                continue;
            }
            if shown >= max_callees {
                // Named when not shown elsewhere (a recursive call, a callee merged into
                // the target's chunk); past the names listed, only counted.
                let in_scope = callee != symbol
                    && (self.graph.definitions(&callee).iter())
                        .any(|d| repos.is_empty() || repos.contains(&d.repo));
                let shown_elsewhere = in_scope
                    && more_callees.len() < MORE_CALLERS_LISTED
                    && (self.source.definition(&callee)?.iter())
                        .filter(|c| c.kind != ChunkKind::ModuleHeader && in_repos(c))
                        .all(|c| g.shown(c));
                if in_scope && !shown_elsewhere {
                    more_callees.push(callee);
                }
                continue;
            }
            let mut definition = self.source.definition(&callee)?;
            let mut clauses_taken = false;
            // A server callback reached through a message shows the clauses that take
            // the messages the target sends, where its clauses are parts of their own
            // (chunks of their own, or parts of a split callback, defined by its first).
            if message_callback_name(&callee).is_some() {
                let mut all: Vec<Chunk> = Vec::new();
                for c in &definition {
                    let parts = self.parts_upto(c, usize::MAX)?;
                    if parts.is_empty() {
                        all.push(c.clone());
                    } else {
                        all.extend(parts);
                    }
                }
                all.dedup_by(|a, b| a.id == b.id);
                if all.len() > 1 {
                    if target_text.is_none() {
                        let chunks = self.source.definition(symbol)?;
                        target_text = Some(chunks.iter().map(|c| c.content.as_str()).collect());
                    }
                    // No clause found taking them: the callback as it is defined.
                    if handling_clauses(&mut all, &callee, target_text.as_deref().unwrap_or("")) {
                        definition = all;
                        clauses_taken = true;
                    }
                }
            }
            let written =
                (definition.iter()).any(|c| c.kind != ChunkKind::ModuleHeader && in_repos(c));
            // A struct built or matched is shown by its definition, in its module's header.
            let header_shown = callee.ends_with(".__struct__/0");
            // A function its module also declares as a callback (Swarm's `Strategy` has
            // `@callback key_to_node/2` and the `def key_to_node/2` dispatching to it): the
            // function, once.
            let callable = (definition.iter()).any(|c| c.kind.is_callable() && in_repos(c));
            for c in definition {
                if callable && c.kind == ChunkKind::Type {
                    continue;
                }
                // One of several small functions merged into a chunk: its own lines.
                let mut c = narrowed_to(&c, &callee).unwrap_or(c);
                // A struct's long header keeps its docs' first paragraphs, as the target's.
                if c.kind == ChunkKind::ModuleHeader
                    && c.content.lines().count() > LONG_HEADER_LINES
                    && let Some(short) = shorten_docs(&c.content)
                {
                    c.content = short;
                }
                if (c.kind == ChunkKind::ModuleHeader && !header_shown)
                    || !in_repos(&c)
                    || g.shown(&c)
                {
                    continue;
                }
                // A split callee reads whole, as written, when its parts are few; the
                // clauses of a callback chosen above are shown as they are.
                let parts = if clauses_taken {
                    Vec::new()
                } else {
                    self.parts_of(&c)?
                };
                let title = format!("Called: {callee}");
                if self.push_parts(g, SectionKind::Callee, title, &c, &parts) {
                    shown += 1;
                }
            }
            // A function a `use` defines (`Repo.transaction/2`, called by another the
            // same `use` defines): the quote's clauses.
            if !written && self.push_quoted(g, SectionKind::Callee, "Called", &callee, in_repos)? {
                shown += 1;
            }
        }
        if !more_callees.is_empty() {
            let title = format!(
                "Also called by {symbol}: {} more, not shown",
                more_callees.len()
            );
            self.push(
                g,
                SectionKind::Callee,
                title,
                named_list(more_callees),
                None,
                &[],
            );
        }
        // Each caller is shown by the chunk of it that makes the call (the part of a long
        // definition split in parts that holds the call, not the part with its head).
        // Only the chunks that call `symbol` are read, once per file.
        let calling = FileChunkFilter::Calls(symbol.to_string());
        // Called at any of its arities (a default argument left out).
        let callee_of = crate::graph::sites::Callee::of(symbol)
            .map(|c| c.with_arities(self.graph.definition_arities(symbol)));
        // The other functions of the lines asked for: a split caller's parts calling any
        // of them are shown together, once, as written.
        let sibling_callees: Vec<Option<crate::graph::sites::Callee>> = (siblings.iter())
            .filter(|s| s.as_str() != symbol)
            .map(|s| {
                crate::graph::sites::Callee::of(s)
                    .map(|c| c.with_arities(self.graph.definition_arities(s)))
            })
            .collect();
        let mut files: HashMap<(String, String), Vec<Chunk>> = HashMap::new();
        let mut shown = 0;
        let mut fallbacks = 0;
        // How a call without a module names `symbol` (`helper/1` for `Util.helper/1`).
        let unqualified = self.graph.definitions(symbol).first().and_then(|d| {
            let local = symbol.strip_prefix(d.module.as_str())?.strip_prefix('.')?;
            (!d.module.is_empty()).then(|| local.to_string())
        });
        // The library's own callers first, then scripts and examples, tests last.
        // The target calling itself at another arity, where a `use` defines it (its
        // clauses are the target's): no other caller.
        // Not when the quote writes that arity's clauses apart (Honeybadger's
        // `filter_map/1` above the `filter_map/2` it calls): they are a caller.
        let (target_head, _) = symbol.rsplit_once('/').unwrap_or((symbol, ""));
        let target_quotes: Vec<_> = (self.graph.definitions(symbol).into_iter())
            .filter_map(|d| d.quoted_at)
            .collect();
        let itself = |site: &SymbolSite| {
            site.generated_by.is_some()
                && site
                    .symbol
                    .rsplit_once('/')
                    .is_some_and(|(head, _)| head == target_head)
                && site.quoted_at.as_ref().is_none_or(|q| {
                    target_quotes.iter().any(|t| {
                        (&t.file.repo, &t.file.path) == (&q.file.repo, &q.file.path)
                            && t.start_line <= q.start_line
                            && q.end_line <= t.end_line
                    })
                })
        };
        let mut callers: Vec<SymbolSite> = (self.graph.callers(symbol).into_iter())
            .filter(|s| !itself(s))
            .collect();
        callers.sort_by_key(|s| caller_rank(&s.path));
        let mut rest = callers.len();
        let mut unfound: Vec<&SymbolSite> = Vec::new();
        for (i, site) in callers.iter().enumerate() {
            if shown >= max_callers {
                rest = i;
                break;
            }
            let key = (site.repo.clone(), site.path.clone());
            if !files.contains_key(&key) {
                let chunks = self
                    .source
                    .file_chunks_where(&site.repo, &site.path, &calling)?;
                files.insert(key.clone(), chunks);
            }
            let end_line = site.end_line.max(site.start_line);
            let overlaps = |c: &&Chunk| {
                c.kind != ChunkKind::ModuleHeader
                    && c.start_line <= end_line
                    && c.end_line >= site.start_line
            };
            // Of the parts of a long caller (its site is the part with its head), the
            // one that makes the call.
            let head = format!("{}.", site.module);
            // Of the same name and arity (`export/1` and `export/2` may both be split).
            let arity = site
                .symbol
                .rsplit_once('/')
                .and_then(|(_, a)| a.parse::<u32>().ok());
            let part_of_caller = |c: &&Chunk| {
                c.part.is_some()
                    && (site.symbol.strip_prefix(head.as_str()))
                        .and_then(|s| s.strip_prefix(c.name.as_str()))
                        .is_some_and(|s| s.starts_with('/'))
                    && c.module == site.module
                    && arity.is_some_and(|a| c.arities.contains(&a))
            };
            let found = (files[&key].iter())
                .filter(|c| overlaps(c) || part_of_caller(c))
                .find(|c| makes_call(c, &callee_of))
                .or_else(|| files[&key].iter().find(overlaps))
                .cloned();
            // A call without a module (an imported function, resolved by the graph) is
            // not among the chunk's qualified calls: find the chunk by `fun/arity`.
            let found = match (found, &unqualified) {
                (Some(c), _) => Some(c),
                // Bounded: a popular imported function has thousands of call sites.
                (None, Some(local)) if fallbacks < 2 * max_callers => {
                    fallbacks += 1;
                    self.source
                        .file_chunks_where(
                            &site.repo,
                            &site.path,
                            &FileChunkFilter::Calls(local.clone()),
                        )?
                        .iter()
                        .find(overlaps)
                        .cloned()
                }
                _ => None,
            };
            // A call the chunk does not list as written: another arity of a definition
            // with default arguments, an alias a `use` makes, module-level code.
            let found = match found {
                None if fallbacks < 2 * max_callers => {
                    fallbacks += 1;
                    // The chunk defining the caller, or (a test, a script, module-level
                    // code) the chunks of its kind.
                    let filter = if site.symbol.ends_with(MODULE_BODY) {
                        FileChunkFilter::Kinds(ChunkKind::CALLABLE.to_vec())
                    } else if site.symbol.contains(' ') {
                        FileChunkFilter::Kinds(vec![site.kind])
                    } else {
                        FileChunkFilter::Defines(site.symbol.clone())
                    };
                    let chunks = self
                        .source
                        .file_chunks_where(&site.repo, &site.path, &filter)?;
                    chunks.iter().find(overlaps).cloned()
                }
                found => found,
            };
            // A part that does not make the call (the head of a caller whose later part
            // calls at another arity, or through an alias): the file's parts are read for
            // the one that does.
            let found = match found {
                Some(c)
                    if c.part.is_some()
                        && !makes_call(&c, &callee_of)
                        && fallbacks < 2 * max_callers =>
                {
                    fallbacks += 1;
                    let all = self.source.file_chunks(&site.repo, &site.path)?;
                    (all.iter())
                        .filter(part_of_caller)
                        .find(|p| makes_call(p, &callee_of))
                        .cloned()
                        .or(Some(c))
                }
                found => found,
            };
            // A template's function (`embed_templates`): its file's code at its site, as
            // written (its calls name modules as the rendering module aliases them).
            let found = match found {
                None if crate::chunk::is_template_path(&site.path)
                    && fallbacks < 2 * max_callers =>
                {
                    fallbacks += 1;
                    let chunks = self.source.file_chunks(&site.repo, &site.path)?;
                    chunks.iter().find(overlaps).cloned()
                }
                found => found,
            };
            let Some(c) = found else {
                // A caller a `use` defines whose quote is shown already (the `__using__`
                // that writes it, a caller too): not again.
                let quote_shown = site.quoted_at.as_ref().is_some_and(|q| {
                    let span = SourceSpan {
                        repo: q.file.repo.clone(),
                        path: q.file.path.clone(),
                        start_line: q.start_line,
                        end_line: q.end_line,
                    };
                    g.span_shown(&span) || g.mostly_shown(&span)
                });
                if quote_shown {
                    continue;
                }
                // A caller a `use` defines: the quote's clauses that call.
                if site.generated_by.is_some()
                    && self.push_quoted(g, SectionKind::Caller, "Caller", &site.symbol, in_repos)?
                {
                    shown += 1;
                } else if repos.is_empty() || repos.contains(&site.repo) {
                    // No chunk of it found (a module body calling a macro): named below.
                    unfound.push(site);
                }
                continue;
            };
            // One of several small functions merged into a chunk: its own lines.
            let c = &narrowed_to(&c, &site.symbol).unwrap_or(c);
            if !in_repos(c) || g.shown(c) || g.chunk_mostly_shown(c) {
                continue;
            }
            let caller = if site.symbol.ends_with(MODULE_BODY) {
                format!("{}{MODULE_BODY}", site.module)
            } else if site.symbol.contains(' ') {
                c.display_symbol()
            } else {
                arity_range(c, &site.symbol)
            };
            // A caller split in parts: each part that makes the call (bounded as a split
            // callee's are), so that none of its call sites is left out.
            let mut calling_parts: Vec<Chunk> = match c.part {
                Some(_) => (self.parts_upto(c, MAX_CALLER_PARTS)?.into_iter())
                    .filter(|p| {
                        makes_call(p, &callee_of)
                            || sibling_callees.iter().any(|s| makes_call(p, s))
                    })
                    .collect(),
                None => Vec::new(),
            };
            // Of a long caller calling in more parts than are shown together (Oban Web's
            // `config_section/1`: 17 calls over 5 parts), the first ones, and the lines
            // of the calls in the others named.
            let mut title = format!("Caller: {caller}");
            if calling_parts.len() > MAX_JOINED_PARTS {
                let mut rest = calling_parts.split_off(MAX_JOINED_PARTS);
                // The part found first stays among those shown.
                if let Some(at) = rest.iter().position(|p| p.id == c.id) {
                    let found = rest.remove(at);
                    rest.extend(calling_parts.pop());
                    calling_parts.push(found);
                }
                let mut lines: Vec<u32> = Vec::new();
                for p in &rest {
                    if let Some(callee) = &callee_of {
                        let scope = crate::graph::sites::Scope::of(p);
                        let found = crate::graph::sites::call_lines(
                            &p.content,
                            p.start_line,
                            callee,
                            &scope,
                        );
                        lines.extend(found.into_iter().map(|(line, _)| line));
                    }
                }
                lines.sort_unstable();
                if !lines.is_empty() {
                    let named: Vec<String> = (lines.iter().take(MORE_CALL_LINES))
                        .map(u32::to_string)
                        .collect();
                    let more = match lines.len() > MORE_CALL_LINES {
                        true => format!(" and {} more", lines.len() - MORE_CALL_LINES),
                        false => String::new(),
                    };
                    title.push_str(&format!(
                        " (also calls at lines {}{more})",
                        named.join(", ")
                    ));
                }
            }
            let pushed = if calling_parts.len() > 1 && !calling_parts.iter().any(|p| g.shown(p)) {
                self.push_parts(g, SectionKind::Caller, title, c, &calling_parts)
            } else {
                self.push_chunk(g, SectionKind::Caller, title, c)
            };
            if pushed {
                shown += 1;
                g.mark_caller_of(symbol);
            }
        }
        // The callers beyond those shown, by name: how widely it is used, for a few tokens
        // (`aiex symbols callers` lists them all).
        // A function with default arguments calls at each arity from one definition: it
        // is named once, by its arities (`sale_fixture/2..3`); and the target itself
        // (calling itself at another arity) is no other caller.
        let own: Vec<(String, u32)> = (self.graph.definitions(symbol).into_iter())
            .map(|d| (d.path, d.start_line))
            .collect();
        // Each name, with the place (path, line) and arities of a function's.
        type Named<'s> = (String, Option<(&'s str, u32)>, Vec<u32>);
        let mut named: Vec<Named> = Vec::new();
        let sites = unfound.into_iter().chain(&callers[rest..]);
        for site in sites.filter(|s| repos.is_empty() || repos.contains(&s.repo)) {
            if (own.iter()).any(|(path, line)| *path == site.path && *line == site.start_line) {
                continue;
            }
            let function = (site.symbol.rsplit_once('/'))
                .and_then(|(head, a)| Some((head, a.parse::<u32>().ok()?)))
                .filter(|_| !site.symbol.contains(' '));
            // A module's code outside its functions (each part of a split header, as
            // Makeup's 21 style attributes) is named once, by its module.
            let module_code =
                site.symbol.ends_with(MODULE_BODY) || site.kind == ChunkKind::ModuleHeader;
            let (name, place, arity) = if module_code {
                (format!("{} ({})", site.module, site.path), None, None)
            } else if site.symbol.contains(' ') && !site.symbol.starts_with(&site.path) {
                (format!("{} ({})", site.symbol, site.path), None, None)
            } else if let Some((head, arity)) = function {
                let place = (site.path.as_str(), site.start_line);
                (head.to_string(), Some(place), Some(arity))
            } else {
                // A test's name starts with its file's path and line already.
                (site.symbol.clone(), None, None)
            };
            match named.iter_mut().find(|(n, p, _)| *n == name && *p == place) {
                Some((_, _, arities)) => arities.extend(arity),
                None => named.push((name, place, arity.into_iter().collect())),
            }
        }
        // A name several places share (a view's `render/2`, one per template) is told
        // apart by its place.
        let mut count: HashMap<String, usize> = HashMap::default();
        for (name, ..) in &named {
            *count.entry(name.clone()).or_default() += 1;
        }
        let more: Vec<String> = (named.into_iter())
            .map(|(name, place, mut arities)| {
                arities.sort_unstable();
                arities.dedup();
                let shared = count.get(&name).is_some_and(|&n| n > 1);
                let label = match (arities.first(), arities.last()) {
                    (Some(lo), Some(hi)) if lo != hi => format!("{name}/{lo}..{hi}"),
                    (Some(a), _) => format!("{name}/{a}"),
                    _ => name,
                };
                match place {
                    Some((path, line)) if shared => format!("{label} ({path}:{line})"),
                    _ => label,
                }
            })
            .collect();
        if !more.is_empty() {
            let title = format!("Other callers of {symbol}: {} more, not shown", more.len());
            if self.push(g, SectionKind::Caller, title, named_list(more), None, &[]) {
                g.mark_caller_of(symbol);
            }
        }
        Ok(())
    }

    /// A section for `symbol`, a function a `use` defines, of the clauses its quote
    /// writes ([`ContextBuilder::quoted_texts`]), titled `{what}: {symbol}`: whether one
    /// was added (none when no quote is indexed, or it is shown already).
    fn push_quoted(
        &self,
        g: &mut Gathered,
        kind: SectionKind,
        what: &str,
        symbol: &str,
        in_repos: &dyn Fn(&Chunk) -> bool,
    ) -> Result<bool> {
        let quoted = self.quoted_texts(symbol, in_repos)?;
        // Shown already, as most of the `__using__` that writes it (a caller too).
        if quoted.is_empty() || quoted.iter().all(|(_, span)| g.mostly_shown(span)) {
            return Ok(false);
        }
        let title = format!("{what}: {symbol}");
        let (texts, spans): (Vec<String>, Vec<SourceSpan>) = quoted.into_iter().unzip();
        let pushed = self.push(g, kind, title, texts.join("\n"), None, &[]);
        // Its lines are shown: the `__using__` part that holds most of them is not again.
        if pushed && let Some(section) = g.sections.last_mut() {
            section.spans.extend(spans);
        }
        Ok(pushed)
    }

    /// The parts of the split definition `chunk` is a part of, in order, when they are at
    /// most [`MAX_JOINED_PARTS`]; else (or for a chunk that is no part) none.
    fn parts_of(&self, chunk: &Chunk) -> Result<Vec<Chunk>> {
        self.parts_upto(chunk, MAX_JOINED_PARTS)
    }

    /// [`Self::parts_of`], for a definition split in `most` parts at most.
    fn parts_upto(&self, chunk: &Chunk, most: usize) -> Result<Vec<Chunk>> {
        let Some((_, n)) = chunk.part else {
            return Ok(Vec::new());
        };
        if n as usize > most || !chunk.kind.is_callable() {
            return Ok(Vec::new());
        }
        let mut parts: Vec<Chunk> = (self.source.file_chunks(&chunk.repo, &chunk.path)?)
            .into_iter()
            .filter(|c| {
                c.part.is_some_and(|(_, m)| m == n)
                    && (c.kind, &c.module, &c.name) == (chunk.kind, &chunk.module, &chunk.name)
            })
            .collect();
        parts.sort_by_key(|c| c.start_byte);
        // The run of `n` consecutive parts that holds `chunk` (the same name may be split
        // twice in one file: another arity, another clause group).
        let at = parts.iter().position(|c| c.id == chunk.id);
        let (Some(at), Some((k, _))) = (at, chunk.part) else {
            return Ok(Vec::new());
        };
        let Some(first) = (at + 1).checked_sub(k as usize) else {
            return Ok(Vec::new());
        };
        match parts.get(first..first + n as usize) {
            Some(run) if run.windows(2).all(|w| w[0].end_byte == w[1].start_byte) => {
                Ok(run.to_vec())
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Adds the section of `chunk` with the other `parts` of its split definition (when
    /// there are several), read as one block as written; false when it joined an
    /// identical one.
    fn push_parts(
        &self,
        g: &mut Gathered,
        kind: SectionKind,
        title: String,
        chunk: &Chunk,
        parts: &[Chunk],
    ) -> bool {
        if parts.len() <= 1 {
            return self.push_chunk(g, kind, title, chunk);
        }
        let refs: Vec<&Chunk> = parts.iter().collect();
        let text = (join_adjacent(&refs).iter())
            .map(|(c, text)| fence(c, text))
            .collect::<Vec<_>>()
            .join("\n");
        let title = format!("{title} ({})", places(parts));
        self.push(g, kind, title, text, collapsed_form(chunk), parts)
    }

    /// Adds a chunk's section; false when it joined an identical one.
    fn push_chunk(
        &self,
        g: &mut Gathered,
        kind: SectionKind,
        title: String,
        chunk: &Chunk,
    ) -> bool {
        let title = format!("{title} ({})", places(std::slice::from_ref(chunk)));
        let text = fence(
            chunk,
            &format!("{}{}", part_header(chunk, chunk), chunk.content),
        );
        self.push_keyed(
            g,
            kind,
            title,
            (text, collapsed_form(chunk)),
            std::slice::from_ref(chunk),
            same_code(chunk),
        )
    }

    /// Adds a section, or joins an identical one of the same kind (its title then says
    /// how many copies there are elsewhere); false when it joined.
    fn push(
        &self,
        g: &mut Gathered,
        kind: SectionKind,
        title: String,
        text: String,
        collapsed_text: Option<String>,
        chunks: &[Chunk],
    ) -> bool {
        let key = text.clone();
        self.push_keyed(g, kind, title, (text, collapsed_text), chunks, key)
    }

    /// [`ContextBuilder::push`], joining sections of the same kind and `key`.
    fn push_keyed(
        &self,
        g: &mut Gathered,
        kind: SectionKind,
        title: String,
        (text, collapsed_text): (String, Option<String>),
        chunks: &[Chunk],
        key: String,
    ) -> bool {
        let title = self.secrets.redact(&title);
        let text = self.secrets.redact(&text);
        for c in chunks {
            g.seen_ids.insert(c.id.clone());
        }
        if let Some((i, copies, base)) = g.by_text.get_mut(&(kind, key.clone())) {
            *copies += 1;
            let s = &mut g.sections[*i];
            s.title = match *copies {
                1 => format!("{base} [1 identical copy elsewhere]"),
                n => format!("{base} [{n} identical copies elsewhere]"),
            };
            // Counted again once every copy has joined (`Gathered::into_sections`).
            s.chunk_ids.extend(chunks.iter().map(|c| c.id.clone()));
            s.spans.extend(chunks.iter().map(SourceSpan::of));
            return false;
        }
        let collapsed_text = collapsed_text.map(|t| self.secrets.redact(&t));
        let tokens = self.counter.count(&block(&title, &text));
        g.by_text
            .insert((kind, key), (g.sections.len(), 0, title.clone()));
        g.sections.push(Section {
            kind,
            title,
            text,
            tokens,
            collapsed: false,
            chunk_ids: chunks.iter().map(|c| c.id.clone()).collect(),
            spans: chunks.iter().map(SourceSpan::of).collect(),
            collapsed_text,
            shortened_text: Vec::new(),
            caller_of: None,
        });
        true
    }
}

/// The lines of `symbol`'s definition in a chunk that merges several small ones (`start/1`,
/// `set/2`, `get/1` and a server's callbacks): from the end of the definition before it,
/// so with its doc, `@spec` and `@impl` lines, to its last line, as a chunk of its own
/// (its id marked with its line). `None` where the chunk holds one definition only, or
/// is a part of a split one.
fn narrowed_to(chunk: &Chunk, symbol: &str) -> Option<Chunk> {
    // A module header's defines are what it implies too (`__struct__/0` at its
    // `defstruct`'s first line): it is shown whole.
    if chunk.defines.len() < 2 || chunk.part.is_some() || !chunk.kind.is_callable() {
        return None;
    }
    let d = (chunk.defines.iter()).find(|d| d.symbols().iter().any(|s| s == symbol))?;
    if !d.kind.is_callable() || d.implied {
        return None;
    }
    let before = (chunk.defines.iter())
        .filter(|o| o.end_line < d.line)
        .map(|o| o.end_line + 1)
        .max()
        .unwrap_or(chunk.start_line);
    let lines: Vec<&str> = chunk.content.split_inclusive('\n').collect();
    let at = |line: u32| line.checked_sub(chunk.start_line).map(|i| i as usize);
    let (mut from, to) = (
        at(before.max(chunk.start_line))?,
        at(d.end_line.min(chunk.end_line))?,
    );
    if to >= lines.len() || from > to {
        return None;
    }
    while from < to && lines[from].trim().is_empty() {
        from += 1;
    }
    // Nothing to cut away: the definition is the chunk.
    if from == 0 && to + 1 >= lines.len() {
        return None;
    }
    let content: String = lines[from..=to].concat();
    let first = &lines[..from];
    let start_byte = chunk.start_byte + first.iter().map(|l| l.len()).sum::<usize>();
    Some(Chunk {
        id: format!("{}:{}", chunk.id, d.line),
        kind: d.kind,
        name: d.name.clone(),
        arities: d.arities.clone(),
        visibility: d.visibility,
        signature: d.signature.clone(),
        doc: None,
        specs: Vec::new(),
        defines: vec![d.clone()],
        start_line: chunk.start_line + from as u32,
        end_line: chunk.start_line + to as u32,
        code_line: d.line,
        start_byte,
        end_byte: start_byte + content.len(),
        calls: d.calls.clone(),
        size: content.len(),
        token_estimate: (content.len() / 4) as u32,
        content,
        ..chunk.clone()
    })
}

/// What makes two chunks the same code wherever they are: their module and text,
/// without the path line a split part's header starts with.
fn same_code(chunk: &Chunk) -> String {
    let path_line = format!("# {}\n", chunk.path);
    let header = chunk
        .header
        .strip_prefix(path_line.as_str())
        .unwrap_or(&chunk.header);
    format!("{}\0{header}{}", chunk.module, chunk.content)
}

/// `path:start-end` of each chunk, merged per file.
fn places(chunks: &[Chunk]) -> String {
    // Adjacent chunks of one file (a split definition's parts) read as one range.
    let mut ranges: Vec<(&str, u32, u32)> = Vec::new();
    for c in chunks {
        match ranges.last_mut() {
            Some((path, _, end)) if *path == c.path && c.start_line == *end + 1 => {
                *end = c.end_line;
            }
            _ => ranges.push((&c.path, c.start_line, c.end_line)),
        }
    }
    let mut out: Vec<String> = Vec::new();
    for (path, start, end) in ranges {
        let p = format!("{path}:{start}-{end}");
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.len() > 3 {
        let n = out.len();
        out.truncate(3);
        out.push(format!("and {} more", n - 3));
    }
    out.join(", ")
}

/// Callers (or callees) beyond those shown that are listed by name.
const MORE_CALLERS_LISTED: usize = 30;

/// Names one per line, the first [`MORE_CALLERS_LISTED`] of them, then how many more.
fn named_list(names: Vec<String>) -> String {
    let n = names.len();
    let mut text = (names.iter().take(MORE_CALLERS_LISTED))
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("\n");
    if n > MORE_CALLERS_LISTED {
        text.push_str(&format!("\nand {} more", n - MORE_CALLERS_LISTED));
    }
    text
}

/// Code in a fence of the chunk's language.
/// The most lines of a quote a target that a `use` defines shows.
const MAX_QUOTED_LINES: usize = 60;

/// Whether `chunk` has a line that is not blank among lines `a..=b` of its file.
fn holds_code(chunk: &Chunk, a: u32, b: u32) -> bool {
    let from = a.max(chunk.start_line) - chunk.start_line;
    let to = b.min(chunk.end_line).saturating_sub(chunk.start_line);
    (chunk.content.lines())
        .skip(from as usize)
        .take((to + 1).saturating_sub(from) as usize)
        .any(|l| !l.trim().is_empty())
}

/// Whether `chunk`'s text calls `callee` on one of its lines.
fn makes_call(chunk: &Chunk, callee: &Option<crate::graph::sites::Callee>) -> bool {
    use crate::graph::sites::{Scope, call_lines};
    callee.as_ref().is_some_and(|callee| {
        !call_lines(&chunk.content, chunk.start_line, callee, &Scope::of(chunk)).is_empty()
    })
}

/// Functions that send a server a message, and the callback that takes it.
const MESSAGE_SENDERS: [(&str, &str); 13] = [
    ("GenServer.call(", "handle_call"),
    (":gen_server.call(", "handle_call"),
    ("GenServer.cast(", "handle_cast"),
    (":gen_server.cast(", "handle_cast"),
    ("GenStage.call(", "handle_call"),
    ("GenStage.cast(", "handle_cast"),
    ("GenStage.async_info(", "handle_info"),
    ("send(", "handle_info"),
    ("send_after(", "handle_info"),
    ("send_interval(", "handle_info"),
    ("start_timer(", "handle_info"),
    ("start_async(", "handle_async"),
    ("Process.send(", "handle_info"),
];

/// The tags of the messages `text` sends to `callback` (`handle_call`): the atom a
/// message is, or starts its tuple, in `GenServer.call(server, {:put, items})`,
/// `GenServer.cast(server, :flush)`, `send(pid, {:done, ref})`.
fn message_tags(text: &str, callback: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    // A LiveView's events: `phx-submit="save"` (or `={:save}`), `JS.push("save")`.
    if callback == "handle_event" {
        let bound = crate::chunk::calls::bound_events(text.as_bytes()).into_iter();
        let pushed = text.match_indices("JS.push(\"").filter_map(|(at, push)| {
            let rest = &text[at + push.len()..];
            rest.find('"').map(|end| (at, rest[..end].to_string()))
        });
        for (_, name) in bound.chain(pushed) {
            if !name.is_empty() && !tags.contains(&name) {
                tags.push(name);
            }
        }
        return tags;
    }
    for (sender, _) in MESSAGE_SENDERS.iter().filter(|(_, c)| *c == callback) {
        for (at, _) in text.match_indices(sender) {
            let fresh = at == 0
                || !matches!(text.as_bytes()[at - 1], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_');
            let rest = &text[at + sender.len()..];
            // The message follows the first comma outside brackets.
            let mut depth = 0usize;
            let comma = rest.bytes().position(|b| match b {
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    false
                }
                b')' | b']' | b'}' => match depth.checked_sub(1) {
                    Some(d) => {
                        depth = d;
                        false
                    }
                    None => true,
                },
                b',' => depth == 0,
                _ => false,
            });
            // `:erlang.start_timer(time, self(), msg)` sends `{:timeout, ref, msg}`.
            if fresh && *sender == "start_timer(" {
                if !tags.iter().any(|t| t == "timeout") {
                    tags.push("timeout".to_string());
                }
                continue;
            }
            let Some(comma) = comma.filter(|&c| fresh && rest.as_bytes()[c] == b',') else {
                continue;
            };
            let message = rest[comma + 1..].trim_start();
            let message = message.strip_prefix('{').unwrap_or(message).trim_start();
            let Some(atom) = message.strip_prefix(':') else {
                continue;
            };
            let end = atom
                .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '?' | '!')))
                .unwrap_or(atom.len());
            if end > 0 && !tags.iter().any(|t| t == &atom[..end]) {
                tags.push(atom[..end].to_string());
            }
        }
    }
    tags
}

/// The clause of a server callback (`Mod.handle_call/3`) among `chunks` (its file's)
/// that takes a message `sender` sends it: its line and head (`def handle_call({:put,
/// items}, _from, state) do`), for a callee listed at the clause it reaches rather than
/// at the callback's first.
pub fn clause_taking_message(
    chunks: &[Chunk],
    callee: &str,
    sender: &str,
) -> Option<(u32, String)> {
    let callback = message_callback_name(callee)?;
    let module = callee.rsplit_once('/')?.0.rsplit_once('.')?.0;
    let tags = message_tags(sender, callback);
    // The callee's module's (a file may hold another server, or a test calling it).
    let mut ordered: Vec<&Chunk> = chunks.iter().filter(|c| c.module == module).collect();
    ordered.sort_by_key(|c| c.start_line);
    ordered.into_iter().find_map(|c| {
        let at = tags
            .iter()
            .find_map(|t| clause_head_at(&c.content, callback, t))?;
        let line =
            c.start_line + memchr::memchr_iter(b'\n', &c.content.as_bytes()[..at]).count() as u32;
        let start = c.content[..at].rfind('\n').map_or(0, |n| n + 1);
        let end = c.content[at..]
            .find('\n')
            .map_or(c.content.len(), |n| at + n);
        Some((line, c.content[start..end].trim().to_string()))
    })
}

/// `handle_call` of `Mod.handle_call/3` (or `handle_cast`, `handle_info`, a LiveView's
/// `handle_event`): a callback a message (or an event) reaches.
fn message_callback_name(callee: &str) -> Option<&str> {
    callee
        .rsplit_once('/')
        .and_then(|(head, _)| head.rsplit_once('.'))
        .map(|(_, name)| name)
        .filter(|n| {
            matches!(
                *n,
                "handle_call" | "handle_cast" | "handle_info" | "handle_event" | "handle_async"
            )
        })
}

/// Where in `text` a clause of `callback` taking the message tagged `tag` begins
/// (`handle_call({:put` or `handle_call(:put`, the tag whole).
fn clause_head_at(text: &str, callback: &str, tag: &str) -> Option<usize> {
    [
        format!("{callback}({{:{tag}"),
        format!("{callback}(:{tag}"),
        format!("{callback}(\"{tag}\""),
    ]
    .iter()
    .find_map(|head| {
        text.match_indices(head.as_str()).find_map(|(at, _)| {
            let end = at + head.len();
            (text[end..].chars().next())
                .is_none_or(|ch| !(ch.is_alphanumeric() || ch == '_'))
                .then_some(at)
        })
    })
}

/// Keeps, of the parts of a server callback (`Mod.handle_call/3` split by clause), those
/// whose clauses take a message `target` sends it (`def handle_call({:put, items}, …)`),
/// when any does; else all of them (a clause that takes any message, a message built
/// elsewhere).
fn handling_clauses(parts: &mut Vec<Chunk>, callee: &str, target: &str) -> bool {
    let Some(callback) = message_callback_name(callee) else {
        return false;
    };
    if parts.len() < 2 {
        return false;
    }
    let tags = message_tags(target, callback);
    let takes =
        |c: &Chunk| (tags.iter()).any(|t| clause_head_at(&c.content, callback, t).is_some());
    let found = parts.iter().any(takes);
    if found {
        parts.retain(takes);
    }
    found
}

/// How many of the last `lines` are the `@doc`, `@spec` and `@impl` attributes written
/// right above a definition indented by `indent` (a heredoc doc whole, a spec over
/// several lines, its later lines deeper), at most [`MAX_LEAD_LINES`]; 0 when they are
/// not that.
fn lead_lines(lines: &[&str], indent: usize) -> usize {
    let attribute = |t: &str| {
        ["@doc", "@spec", "@impl", "@deprecated", "@since"]
            .iter()
            .any(|a| {
                t.strip_prefix(a)
                    .is_some_and(|r| r.is_empty() || r.starts_with([' ', '(']))
            })
    };
    let (mut count, mut lead) = (0, 0);
    let mut in_heredoc = false;
    for line in lines.iter().rev().take(MAX_LEAD_LINES) {
        let t = line.trim();
        count += 1;
        if in_heredoc {
            if attribute(t) && t.ends_with("\"\"\"") {
                in_heredoc = false;
                lead = count;
            }
        } else if t == "\"\"\"" {
            in_heredoc = true;
        } else if attribute(t) {
            lead = count;
        } else if !t.is_empty() && line.len() - line.trim_start().len() > indent {
            // A spec's continued line: counted once its `@spec` is.
        } else {
            break;
        }
    }
    lead
}

/// Lines above a quoted definition read for its `@doc` and `@spec`.
const MAX_LEAD_LINES: usize = 60;

/// The lines without the indentation they all share (a quote's clauses sit deep).
fn dedent(text: &str) -> String {
    let indent = (text.lines())
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    (text.lines())
        .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The header a run of a split piece's parts, `first` to `last`, is shown under: the
/// parts it holds (`# parts 2-3/3`, not only the first's `part 2/3`); a part that
/// starts with its head as written, without the head its header repeats
/// (AshDoubleEntry's `def change(…) # part 1/3` above `def change(…) do`).
fn part_header(first: &Chunk, last: &Chunk) -> String {
    let (Some((k, n)), Some((l, _))) = (first.part, last.part) else {
        return first.header.clone();
    };
    let label = format!(" # part {k}/{n}\n");
    let Some(head) = first.header.strip_suffix(label.as_str()) else {
        return first.header.clone();
    };
    let parts = match l > k {
        true => format!("# parts {k}-{l}/{n}\n"),
        false => format!("# part {k}/{n}\n"),
    };
    let (above, sig) = head.rsplit_once('\n').map_or(("", head), |(a, s)| (a, s));
    let repeated = first.kind != ChunkKind::ModuleHeader
        && !sig.trim().is_empty()
        && (first.content.lines())
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('@'))
            .is_some_and(|code| code.starts_with(sig.trim()));
    match repeated {
        true if above.is_empty() => format!("  {parts}"),
        true => format!("{above}\n  {parts}"),
        false => format!("{head} {parts}"),
    }
}

/// A chunk's text as a Markdown code block. Its fence is longer than any run of
/// backticks in the text (a doc's own ```` ```elixir ```` example, a Markdown file's
/// blocks), so nothing inside closes it.
fn fence(chunk: &Chunk, text: &str) -> String {
    let lang = match chunk.language {
        crate::chunk::Language::Elixir => "elixir",
        crate::chunk::Language::Text => "",
    };
    let text = crate::chunk::elide_long_lines(text.trim_start_matches('\n').trim_end());
    let fence = "`".repeat(fit::longest_backtick_run(&text).max(2) + 1);
    format!("{fence}{lang}\n{text}\n{fence}")
}

/// Consecutive chunks of one file joined into one text (the first one's header, then
/// each one's content): the parts of a split definition or header read as written.
/// A run that begins with the first part of a piece shows what that part's header
/// repeats (the `defmodule` line of a module header, a function's specs and head, `part
/// 1/n`) as written, so its header is only the path and, for a definition, its module.
fn join_adjacent<'c>(chunks: &[&'c Chunk]) -> Vec<(&'c Chunk, String)> {
    let mut runs: Vec<Vec<&Chunk>> = Vec::new();
    for &c in chunks {
        match runs.last_mut() {
            Some(run)
                if (&run[0].repo, &run[0].path) == (&c.repo, &c.path)
                    && run[run.len() - 1].end_byte == c.start_byte =>
            {
                run.push(c)
            }
            _ => runs.push(vec![c]),
        }
    }
    runs.into_iter()
        .map(|run| {
            let first = run[0];
            let mut text = if run.len() > 1 && first.part.is_some_and(|(k, _)| k == 1) {
                let mut header = format!("# {}\n", first.path);
                if first.kind != ChunkKind::ModuleHeader && !first.module.is_empty() {
                    header.push_str(&format!("defmodule {} do\n", first.module));
                }
                header
            } else {
                part_header(first, run[run.len() - 1])
            };
            for c in &run {
                text.push_str(&c.content);
            }
            (run[run.len() - 1], text)
        })
        .collect()
}

/// A target's shorter forms, mildest first, each with what its title then says (see
/// [`Section::shortened_text`]); `unique` are its chunks, each distinct code once.
fn shorter_forms(target: &Target, unique: &[&Chunk]) -> Vec<(&'static str, String)> {
    // Docs cut to their first paragraph, the parts of a split piece joined first, as a
    // doc may run from one part into the next; whether any was cut.
    let docs_cut = |chunks: &[&Chunk]| {
        let mut cut = false;
        let mut blocks = Vec::new();
        for (c, whole) in join_adjacent(chunks) {
            let short = shorten_docs(&whole);
            cut |= short.is_some();
            blocks.push(fence(c, short.as_deref().unwrap_or(&whole)));
        }
        (blocks, cut)
    };
    let mut forms = Vec::new();
    let (blocks, cut) = docs_cut(unique);
    if cut {
        forms.push((SHORTER_FORMS[0], blocks.join("\n")));
    }
    if !matches!(target, Target::Function(_)) && unique.iter().any(|c| c.kind.is_callable()) {
        // A module or file: its headers and types with short docs, its functions by
        // their specs and heads (one block per run of them), in order.
        let heads_of = |run: &[&Chunk]| {
            // Every clause's head (a server's `handle_info/2` by each message it takes),
            // each once: the parts of a split function repeat its first head.
            let mut heads: Vec<String> = Vec::new();
            let mut seen: HashSet<String> = HashSet::new();
            for c in run {
                let head = signature_only(c);
                let first = head.strip_suffix(BODY_OMITTED).unwrap_or(&head).trim_end();
                for line in first.lines().map(str::to_string).chain(clause_heads(c)) {
                    if seen.insert(line.split_whitespace().collect()) {
                        heads.push(line);
                    }
                }
            }
            fence(run[0], &format!("{}\n{BODIES_OMITTED}", heads.join("\n")))
        };
        // First the later functions by their heads, a quarter more at each step, so a
        // budget that holds some of the bodies is not left mostly empty.
        // A split function's parts are one function: shown whole or by heads together.
        let starts_function =
            |c: &Chunk| c.kind.is_callable() && c.part.is_none_or(|(k, _)| k == 1);
        let callables = unique.iter().filter(|c| starts_function(c)).count();
        // Said to shorten docs only where it does (a `@moduledoc false` module has none).
        let steps = [callables * 3 / 4, callables / 2, callables / 4, 0];
        let labels = match cut {
            true => &SHORTER_FORMS[1..5],
            false => &SHORTER_FORMS[5..],
        };
        for (&what, whole) in labels.iter().zip(steps) {
            if whole > 0 && (callables < 4 || whole >= callables) {
                continue;
            }
            let mut counted = 0;
            let shown_whole: Vec<bool> = (unique.iter())
                .map(|c| {
                    counted += usize::from(starts_function(c));
                    !c.kind.is_callable() || counted <= whole
                })
                .collect();
            let positions: Vec<usize> = (0..unique.len()).collect();
            let mut blocks = Vec::new();
            for run in positions.chunk_by(|&a, &b| shown_whole[a] == shown_whole[b]) {
                let chunks: Vec<&Chunk> = run.iter().map(|&i| unique[i]).collect();
                if shown_whole[run[0]] {
                    blocks.extend(docs_cut(&chunks).0);
                } else {
                    blocks.push(heads_of(&chunks));
                }
            }
            forms.push((what, blocks.join("\n")));
        }
    }
    forms
}

/// What each shorter form of a target says of itself in its title: its docs cut, then (a
/// module or file) more and more of its functions by their heads, with its docs cut or
/// with none to cut.
pub(crate) const SHORTER_FORMS: [&str; 9] = [
    "docs shortened",
    "docs shortened, its last quarter of functions by their heads",
    "docs shortened, its last half of functions by their heads",
    "docs shortened, its last three quarters of functions by their heads",
    "docs shortened, functions by their heads",
    "its last quarter of functions by their heads",
    "its last half of functions by their heads",
    "its last three quarters of functions by their heads",
    "functions by their heads",
];

/// `text` with each `@doc`, `@moduledoc` and `@typedoc` heredoc cut to its first
/// paragraph and a line saying so; None when no doc has more than one paragraph.
fn shorten_docs(text: &str) -> Option<String> {
    const OPENERS: [&str; 3] = ["@doc ", "@moduledoc ", "@typedoc "];
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        out.push_str(line);
        i += 1;
        let opener = line.trim();
        let delimiter = ["\"\"\"", "\'\'\'"]
            .into_iter()
            .find(|d| opener.ends_with(d) && opener.len() > d.len());
        let (true, Some(delimiter)) = (OPENERS.iter().any(|p| opener.starts_with(p)), delimiter)
        else {
            continue;
        };
        let Some(close) = (i..lines.len()).find(|&j| lines[j].trim() == delimiter) else {
            continue; // Not closed in this text (a part of a split chunk): left whole.
        };
        let first_blank = (i..close).find(|&j| lines[j].trim().is_empty());
        match first_blank {
            Some(blank) if (blank + 1..close).any(|j| !lines[j].trim().is_empty()) => {
                for l in &lines[i..blank] {
                    out.push_str(l);
                }
                let indent = &lines[close][..lines[close].len() - lines[close].trim_start().len()];
                out.push_str(indent);
                out.push_str("… [the rest of this doc is left out]\n");
                changed = true;
            }
            _ => {
                for l in &lines[i..close] {
                    out.push_str(l);
                }
            }
        }
        i = close;
    }
    changed.then_some(out)
}

/// Whether `value`, written after `@name `, sets the attribute (`[1, 2]`, `0x30`,
/// `"text"`): not an operator after it (a `case` clause `@name -> x`, a match `@name =
/// x`, a guard's `@name when …`).
fn sets_a_value(value: &str) -> bool {
    value.starts_with(|c: char| c.is_ascii_alphanumeric() || "\"'[{%:~-@".contains(c))
        && !value.starts_with("->")
        && !value.starts_with("when ")
        && !value.starts_with("and ")
        && !value.starts_with("or ")
        && !value.starts_with("in ")
}

/// A chunk collapsed to its heads, fenced; none for text without a head (a README's
/// lines: "body omitted" alone says nothing, so such a section is dropped whole).
fn collapsed_form(chunk: &Chunk) -> Option<String> {
    let heads = signature_only(chunk);
    (!heads.trim_start().starts_with(BODY_OMITTED)).then(|| fence(chunk, &heads))
}

/// A chunk shown by its specs and heads only.
fn signature_only(chunk: &Chunk) -> String {
    let mut lines: Vec<String> = chunk.specs.clone();
    // A test is shown by its own head, not by those of modules it defines in its body.
    let heads: Vec<&str> = (chunk.defines.iter())
        .filter(|_| !chunk.kind.is_test())
        .map(|d| d.signature.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    if heads.is_empty() {
        lines.push(chunk.signature.clone());
    } else {
        lines.extend(heads.iter().map(|s| s.to_string()));
    }
    lines.retain(|l| !l.trim().is_empty());
    lines.dedup();
    format!("{}\n{BODY_OMITTED}", lines.join("\n"))
}

/// The heads of the clauses of the functions `chunk` defines, as written in its code
/// (`def handle_info(:tick, socket)`), each on one line: the clauses written at the
/// indentation of the first, so that a quote's definitions inside one are not taken.
fn clause_heads(chunk: &Chunk) -> Vec<String> {
    const KEYWORDS: [&str; 4] = ["def ", "defp ", "defmacro ", "defmacrop "];
    // A later part of a split function defines nothing: it is named by its function.
    let names: Vec<&str> = (chunk.defines.iter())
        .filter(|d| d.kind.is_callable())
        .map(|d| d.name.as_str())
        .chain(chunk.kind.is_callable().then_some(chunk.name.as_str()))
        .collect();
    let lines: Vec<&str> = chunk.content.lines().collect();
    let mut indent = None;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        let Some(rest) = KEYWORDS.iter().find_map(|k| code.strip_prefix(k)) else {
            continue;
        };
        let named = names.iter().any(|n| {
            rest.strip_prefix(n)
                .is_some_and(|after| after.is_empty() || after.starts_with(['(', ' ', ',']))
        });
        let at = line.len() - code.len();
        if !named || indent.is_some_and(|i| i != at) {
            continue;
        }
        indent = Some(at);
        // A head written over lines (`def f(\n a,\n b\n) do`, a struct's fields in its
        // pattern one a line), read to its parentheses' close, within a bound.
        let mut head = code.trim_end().to_string();
        let mut next = i + 1;
        let open = |h: &str| h.matches('(').count() > h.matches(')').count();
        while open(&head) && next < lines.len() && next <= i + MAX_HEAD_LINES {
            head.push(' ');
            head.push_str(lines[next].trim());
            next += 1;
        }
        // Its guard on the next line (`when is_list(nodes) do`), as its signature has it.
        if let Some(guard) = (lines.get(next).map(|l| l.trim()))
            .filter(|l| l.starts_with("when ") && !head.contains(" when "))
        {
            head.push(' ');
            head.push_str(guard);
        }
        // `def f(a),` with its `do:` on the next line ends at its comma.
        let head = match head.find(", do:") {
            Some(cut) => &head[..cut],
            None => (head.strip_suffix(" do"))
                .or_else(|| head.strip_suffix(','))
                .unwrap_or(&head),
        };
        // On one line as the definition's signature is (`f(%S{a: a} = s)`, not `f( %S{
        // a: a } = s`), so that the two are one head.
        out.push(crate::chunk::collapse_whitespace(head));
    }
    out
}

/// A module header over this many lines is shown with its docs cut to their first
/// paragraphs.
const LONG_HEADER_LINES: usize = 60;

/// Whether `text` writes a call of `symbol`'s function by its name (`name(`, or
/// `&name/2` captured), not the end of another name.
fn names_function(text: &str, symbol: &str) -> bool {
    let Some(name) = (symbol.rsplit_once('/'))
        .and_then(|(head, _)| head.rsplit_once('.'))
        .map(|(_, name)| name)
    else {
        return false;
    };
    text.match_indices(name).any(|(at, _)| {
        let fresh = !text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        let rest = &text[at + name.len()..];
        fresh && rest.starts_with(['(', '/'])
    })
}

/// The most lines of a module attribute's value a long header shows whole.
const MAX_DATA_ATTRIBUTE_LINES: usize = 8;

/// A long header's module attributes whose values go on over many lines
/// (`@manage_tenant %Spark.Dsl.Section{` and 40 lines of schema): each by its first
/// line, the rest counted (`# … 40 more lines`). None when there are none.
fn shorten_data_attributes(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        out.push_str(line);
        out.push('\n');
        i += 1;
        let t = line.trim_start();
        let indent = line.len() - t.len();
        let data = t.strip_prefix('@').is_some_and(|rest| {
            let name = (rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
                .next()
                .unwrap_or("");
            name.starts_with(|c: char| c.is_ascii_lowercase())
                && !crate::chunk::calls::DESCRIBING_ATTRIBUTES.contains(&name)
                && !COMPILER_HOOKS.contains(&name)
        });
        if !data {
            continue;
        }
        // The value's further lines: deeper than the attribute, and the line closing it
        // at its depth (`}`, `]`, `)`, a heredoc's `"""`).
        let mut j = i;
        while let Some(l) = lines.get(j) {
            let lt = l.trim_start();
            let deeper = lt.is_empty() || l.len() - lt.len() > indent;
            j += 1;
            if !deeper {
                let closes = lt.starts_with(['}', ']', ')']) || lt.starts_with("\"\"\"");
                if !closes {
                    j -= 1;
                }
                break;
            }
        }
        let mut end = j;
        while end > i && lines[end - 1].trim().is_empty() {
            end -= 1;
        }
        let more = end - i;
        if more > MAX_DATA_ATTRIBUTE_LINES {
            out.push_str(&format!("{}  # … {more} more lines\n", &line[..indent]));
            changed = true;
            i = end;
        }
    }
    changed.then_some(out)
}

/// The most module attributes a function target reads that its context shows, and the
/// most lines each is shown by.
const MAX_ATTRIBUTES_READ: usize = 8;
const MAX_ATTRIBUTE_LINES: usize = 48;

/// Whether a module header part only sets data attributes (`@autumn_style
/// Style.make_style(…)`): each statement (each line at its least indentation) sets a
/// module attribute that describes nothing and is no compiler hook.
fn sets_data_only(content: &str) -> bool {
    let code =
        || (content.lines()).filter(|l| !(l.trim().is_empty() || l.trim_start().starts_with('#')));
    let Some(least) = code().map(|l| l.len() - l.trim_start().len()).min() else {
        return false;
    };
    code()
        .filter(|l| l.len() - l.trim_start().len() == least)
        .all(|l| {
            let Some(rest) = l.trim_start().strip_prefix('@') else {
                return false;
            };
            let name = rest
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            name.starts_with(|c: char| c.is_ascii_lowercase())
                && !crate::chunk::calls::DESCRIBING_ATTRIBUTES.contains(&name)
                && !COMPILER_HOOKS.contains(&name)
                && !matches!(name, "behaviour" | "derive" | "compile" | "dialyzer")
        })
}

/// The most lines a clause's head is read over.
const MAX_HEAD_LINES: usize = 40;

/// Ends a chunk shown by its heads, and a run of functions shown so.
const BODY_OMITTED: &str = "# … body omitted";
const BODIES_OMITTED: &str = "# … bodies omitted";

/// `symbol` (`Mod.fun/arity`) as a caller is named elsewhere: with the arities of its
/// definition in `chunk` when it takes default arguments (`Kino.Frame.render/2..3`, as
/// `aiex chunk` and `symbols callers` name it), else as it is.
fn arity_range(chunk: &Chunk, symbol: &str) -> String {
    // A later part of a split definition defines nothing itself: its chunk's arities
    // are the definition's.
    let arities = match (chunk.defines.iter()).find(|d| d.symbols().iter().any(|s| s == symbol)) {
        Some(d) => &d.arities,
        None if chunk.part.is_some()
            && symbol.rsplit_once('/').is_some_and(|(head, a)| {
                head.rsplit_once('.').map_or(head, |(_, name)| name) == chunk.name
                    && a.parse::<u32>().is_ok_and(|a| chunk.arities.contains(&a))
            }) =>
        {
            &chunk.arities
        }
        None => return symbol.to_string(),
    };
    match (arities.first(), arities.last()) {
        (Some(&lo), Some(&hi)) if hi > lo && arities.len() as u32 == hi - lo + 1 => {
            let name = symbol.rsplit_once('/').map_or(symbol, |(name, _)| name);
            format!("{name}/{lo}..{hi}")
        }
        _ => symbol.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{
        MAX_HITS, budget_scaled, clause_head_at, max_hits, message_tags, named_in,
        shorten_data_attributes, shorten_docs, shorter_forms, signature_only,
    };

    /// A LiveView's events are its `handle_event/3` clauses' messages: bound in markup
    /// (`phx-submit="create_bounty"`, `={:save}`) or pushed (`JS.push("toggle")`), each
    /// taken by the clause whose first argument is its name (Algora's dashboard).
    #[test]
    fn events_reach_the_handle_event_clause_of_their_name() {
        let text = "<.form phx-submit=\"create_bounty\">\n<button phx-click={:save}>\n<a phx-click={JS.push(\"toggle\")}>\n<a phx-click={\"kick:#{@id}\"}>\n";
        assert_eq!(
            message_tags(text, "handle_event"),
            ["create_bounty", "save", "kick:", "toggle"]
        );
        let kick = "def handle_event(\"kick:\" <> id, _, s), do: {:noreply, s}\n";
        assert_eq!(clause_head_at(kick, "handle_event", "kick:"), Some(4));
        let clauses = "def handle_event(\"restore\", _, s), do: s\ndef handle_event(\"create_bounty\" = e, p, s) do\n";
        assert_eq!(
            clause_head_at(clauses, "handle_event", "create_bounty"),
            Some(clauses.find("handle_event(\"create").unwrap())
        );
        assert_eq!(clause_head_at(clauses, "handle_event", "create"), None);
    }
    use crate::chunk::{ChunkerConfig, FileChunks, chunk_file};
    use crate::context::Target;

    /// A long header's data attributes come by their first lines (AshPostgres' DSL
    /// sections); short ones, docs and `use` lines stay whole.
    #[test]
    fn a_long_headers_data_attributes_come_by_their_first_lines() {
        let fields: String = (0..12)
            .map(|i| format!("      field_{i}: :string,\n"))
            .collect();
        let text = format!(
            "defmodule Shop.DataLayer do\n  use Spark.Dsl.Extension\n  @short [:a, :b]\n  @section %Spark.Dsl.Section{{\n    name: :section,\n    schema: [\n{fields}    ]\n  }}\n  @behaviour Ash.DataLayer\n"
        );
        let short = shorten_data_attributes(&text).expect("a long value");
        assert_eq!(
            short,
            "defmodule Shop.DataLayer do\n  use Spark.Dsl.Extension\n  @short [:a, :b]\n  @section %Spark.Dsl.Section{\n    # … 16 more lines\n  @behaviour Ash.DataLayer\n"
        );
        assert_eq!(shorten_data_attributes("  @short [:a,\n    :b]\n"), None);
    }

    /// A budget holds callers and callees in proportion to an 8k-token one's, from as
    /// many up to four times as many.
    #[test]
    fn callers_and_callees_grow_with_the_budget() {
        assert_eq!(budget_scaled(8, 100), 8);
        assert_eq!(budget_scaled(8, 8_192), 8);
        assert_eq!(budget_scaled(8, 16_000), 15);
        assert_eq!(budget_scaled(6, 24_576), 18);
        assert_eq!(budget_scaled(8, 1_000_000), 32);
    }

    /// A head written over many lines (a struct's fields in its pattern, one a line) is
    /// one head, shown once as its signature reads it (libgraph's `do_delete_edges/3`).
    #[test]
    fn a_head_over_many_lines_is_shown_once_and_whole() {
        let fields: String = (0..10)
            .map(|i| format!("           field_{i}: f{i},\n"))
            .collect();
        let src = format!(
            "defmodule G do\n  def other(x), do: x\n\n  defp do_delete_edges(\n         %__MODULE__{{\n{fields}           last: l\n         }} = g,\n         v1,\n         v2\n       ) do\n    {{g, v1, v2, l}}\n  end\nend\n"
        );
        let config = ChunkerConfig {
            merge_below: 0,
            ..ChunkerConfig::default()
        };
        let FileChunks::Chunked(chunks) = chunk_file("r", "lib/g.ex", src.as_bytes(), &config)
        else {
            panic!("not chunked");
        };
        let unique: Vec<&crate::chunk::Chunk> = chunks.iter().collect();
        let forms = shorter_forms(&Target::Module("G".into()), &unique);
        let (_, heads) = (forms.iter())
            .find(|(what, _)| what.ends_with("functions by their heads"))
            .unwrap_or_else(|| panic!("{forms:?}"));
        let shown: Vec<&str> = (heads.lines())
            .filter(|l| l.starts_with("defp do_delete_edges"))
            .collect();
        assert_eq!(shown.len(), 1, "{heads}");
        assert!(shown[0].ends_with("last: l} = g, v1, v2)"), "{heads}");
    }

    /// A module cut to fit shows a function split in parts whole or by its heads, never
    /// its first part whole and the rest by heads (bors's `check_code_owner/3`).
    #[test]
    fn a_split_function_is_cut_to_heads_whole() {
        let small = |i: usize| format!("  def f{i}(x), do: x + {i}\n\n");
        let long: String = (0..40)
            .map(|i| {
                format!("    x = step(x, :step_number_{i}, \"a line long enough to count\")\n")
            })
            .collect();
        let mut src = String::from("defmodule M do\n");
        for i in 0..3 {
            src.push_str(&small(i));
        }
        src.push_str(&format!(
            "  def long(x) do\n    first_marker(x)\n{long}    last_marker(x)\n  end\n\n"
        ));
        for i in 3..7 {
            src.push_str(&small(i));
        }
        src.push_str("end\n");
        let config = ChunkerConfig {
            budget: 900,
            merge_below: 0,
            ..ChunkerConfig::default()
        };
        let FileChunks::Chunked(chunks) = chunk_file("r", "lib/m.ex", src.as_bytes(), &config)
        else {
            panic!("not chunked");
        };
        let parts = chunks.iter().filter(|c| c.name == "long").count();
        assert!(parts >= 2, "long/1 is split for this test: {parts}");
        let unique: Vec<&crate::chunk::Chunk> = chunks.iter().collect();
        let forms = shorter_forms(&Target::Module("M".into()), &unique);
        assert!(forms.len() >= 3, "{forms:?}");
        for (what, text) in &forms {
            assert_eq!(
                text.contains("first_marker(x)"),
                text.contains("last_marker(x)"),
                "{what}:\n{text}"
            );
        }
    }

    #[test]
    fn a_larger_budget_shows_more_hits_in_proportion() {
        assert_eq!(max_hits(0), MAX_HITS);
        assert_eq!(max_hits(4_000), MAX_HITS);
        assert_eq!(max_hits(8_192), MAX_HITS);
        assert_eq!(max_hits(16_000), 15);
        assert_eq!(max_hits(32_768), 4 * MAX_HITS);
        assert_eq!(max_hits(usize::MAX), 4 * MAX_HITS);
    }

    #[test]
    fn a_test_is_shown_by_its_head_not_by_the_modules_it_defines() {
        let src = "defmodule ATest do\n  test \"fakes\" do\n    defmodule Fake do\n      def run(x), do: x\n    end\n    assert Fake.run(1) == 1\n  end\nend\n";
        let FileChunks::Chunked(chunks) = chunk_file(
            "r",
            "test/a_test.exs",
            src.as_bytes(),
            &ChunkerConfig::default(),
        ) else {
            panic!("chunked");
        };
        let test = chunks.iter().find(|c| c.name == "fakes").expect("the test");
        assert_eq!(test.defines.len(), 2, "{:#?}", test.defines);
        let shown = signature_only(test);
        assert!(shown.starts_with("test \"fakes\""), "{shown}");
        assert!(!shown.contains("def run"), "{shown}");
        // Text without a head has no collapsed form: it is dropped whole, not shown as
        // "body omitted" alone.
        let FileChunks::Chunked(text) = chunk_file(
            "shop",
            "README.md",
            b"# Retry mode\n\nRe-runs the tools that failed last time.\n",
            &ChunkerConfig::default(),
        ) else {
            panic!("chunked");
        };
        assert_eq!(super::collapsed_form(&text[0]), None);
        assert!(super::collapsed_form(test).is_some());
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// The messages a target sends: the atom of `GenServer.call(server, {:put, x})`, of
    /// `GenServer.cast(s, :flush)`, of `send(pid, {:done, r})`, over several lines too.
    #[test]
    fn the_messages_a_function_sends_are_read_by_their_tags() {
        let text = "def f(s) do\n  GenServer.call(s, {:messages_succeeded, ids, false})\n  GenServer.call(\n    via(s),\n    :peek\n  )\n  GenServer.cast(s, :flush)\n  send(self(), {:done, 1})\n  Process.send_after(self(), :tick, 1_000)\n  MyGenServer.call(s, :other)\n  :erlang.start_timer(500, self(), :expire)\nend\n";
        assert_eq!(
            super::message_tags(text, "handle_call"),
            strings(&["messages_succeeded", "peek"])
        );
        assert_eq!(
            super::message_tags(text, "handle_cast"),
            strings(&["flush"])
        );
        assert_eq!(
            super::message_tags(text, "handle_info"),
            strings(&["done", "tick", "timeout"])
        );
        assert_eq!(
            super::message_tags(
                "{:ok, start_async(socket, :load, fn -> 1 end)}",
                "handle_async"
            ),
            strings(&["load"])
        );
    }

    /// A server whose `handle_call/3` clauses are parts of their own shows the ones that
    /// take the target's messages; with none that does, all of them.
    #[test]
    fn a_callback_reached_by_a_message_shows_the_clauses_that_take_it() {
        let body: String = (0..16)
            .map(|k| format!("    x{k} = Map.get(state, :k{k})\n"))
            .collect();
        let src = format!(
            "defmodule S do\n  def handle_call({{:put, items}}, _from, state) do\n{body}    {{:reply, :ok, state}}\n  end\n\n  def handle_call(:peek, _from, state) do\n{body}    {{:reply, state, state}}\n  end\n\n  def handle_call(:peek_all, _from, state) do\n{body}    {{:reply, state, state}}\n  end\nend\n"
        );
        let config = ChunkerConfig {
            budget: 500,
            ..ChunkerConfig::default()
        };
        let FileChunks::Chunked(chunks) = chunk_file("r", "lib/s.ex", src.as_bytes(), &config)
        else {
            panic!("chunked");
        };
        let parts: Vec<_> = chunks
            .into_iter()
            .filter(|c| c.name == "handle_call")
            .collect();
        assert_eq!(parts.len(), 3, "{parts:#?}");
        let mut shown = parts.clone();
        super::handling_clauses(&mut shown, "S.handle_call/3", "GenServer.call(s, :peek)");
        assert_eq!(shown.len(), 1);
        assert!(shown[0].content.contains("handle_call(:peek, "));
        let mut shown = parts.clone();
        super::handling_clauses(
            &mut shown,
            "S.handle_call/3",
            "GenServer.call(s, {:get, 1})",
        );
        assert_eq!(shown.len(), 3, "no clause takes :get: all are shown");
        let mut shown = parts.clone();
        super::handling_clauses(&mut shown, "S.other/3", "GenServer.call(s, :peek)");
        assert_eq!(shown.len(), 3, "not a callback");
    }

    /// A doc's own code block does not close the block the chunk is shown in.
    #[test]
    fn a_chunk_holding_a_fence_is_shown_in_a_longer_one() {
        let src = "defmodule A do\n  @doc \"\"\"\n  Runs.\n\n  ```elixir\n  A.f(1)\n  ```\n  \"\"\"\n  def f(x), do: x\nend\n";
        let FileChunks::Chunked(chunks) =
            chunk_file("r", "lib/a.ex", src.as_bytes(), &ChunkerConfig::default())
        else {
            panic!("chunked");
        };
        let f = chunks.iter().find(|c| c.name == "f").expect("f");
        let shown = super::fence(f, &f.content);
        assert!(shown.starts_with("````elixir\n"), "{shown}");
        assert!(shown.ends_with("\n````"), "{shown}");
        let plain = chunks.iter().find(|c| c.name == "A").expect("the header");
        assert!(super::fence(plain, &plain.content).starts_with("```elixir\n"));
    }

    #[test]
    fn long_docs_are_cut_to_their_first_paragraph() {
        let text = "  @doc \"\"\"\n  Splits it.\n  Twice.\n\n  ## Examples\n\n      iex> f(1)\n  \"\"\"\n  @doc since: \"1.0\"\n  def f(x), do: x\n";
        assert_eq!(
            shorten_docs(text).unwrap(),
            "  @doc \"\"\"\n  Splits it.\n  Twice.\n  … [the rest of this doc is left out]\n  \"\"\"\n  @doc since: \"1.0\"\n  def f(x), do: x\n"
        );
        // `~S'''` docs and module docs too.
        let module = "  @moduledoc ~S'''\n  One.\n\n  Two.\n  '''\n";
        assert!(
            shorten_docs(module)
                .unwrap()
                .contains("One.\n  … [the rest")
        );
        // Nothing to cut: one paragraph, a one-line doc, a heredoc left open, a string.
        for whole in [
            "  @doc \"\"\"\n  One.\n  \"\"\"\n  def f, do: 1\n",
            "  @doc \"One.\"\n  def f, do: 1\n",
            "  @doc \"\"\"\n  One.\n\n  Two.\n",
            "  x = \"\"\"\n  a\n\n  b\n  \"\"\"\n",
        ] {
            assert_eq!(shorten_docs(whole), None, "{whole}");
        }
    }

    #[test]
    fn a_question_names_modules_and_functions() {
        let (modules, functions) = named_in(
            "How does handle_event work in Phoenix.LiveView.Channel? Compare &Enum.map/2, \
             Elixir.String.split and (valid?) but not the words.",
        );
        assert_eq!(
            modules,
            strings(&[
                "How",
                "Phoenix.LiveView.Channel",
                "Compare",
                "Enum",
                "String"
            ])
        );
        assert_eq!(
            functions,
            strings(&[
                "handle_event",
                "Enum.map/2",
                "String.split",
                "valid?",
                "valid"
            ])
        );
        // Operators and malformed arities name nothing; short words are skipped.
        let (modules, functions) = named_in("is Kernel.../2 or Map.get/x fine. IO");
        assert!(
            modules.is_empty() && functions.is_empty(),
            "{modules:?} {functions:?}"
        );
    }
}
