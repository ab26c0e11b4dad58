//! Token-aware context: over random projects, targets and budgets the prompt fits its
//! budget, keeps the target, shows no chunk twice, collapses before it drops and never
//! carries a credential; the chat window keeps the newest turns and summarises the rest.

use std::collections::HashSet;

use aiex_node::chunk::{Chunk, ChunkKind, ChunkerConfig, FileChunks, chunk_file};
use aiex_node::context::history::{ExtractiveSummary, SUMMARY_HEADER, fit_history};
use aiex_node::context::{
    ChunkSource, Context, ContextBuilder, ContextRequest, SecretFilter, SectionKind,
    TRUNCATION_MARKER, Target, TokenCounter,
};
use aiex_node::graph::SymbolGraph;
use aiex_node::llm::Message;
use aiex_node::search::SearchHit;
use proptest::prelude::*;

/// Chunks in memory, looked up the way the index does.
struct Mem(Vec<Chunk>);

impl ChunkSource for Mem {
    fn definition(&self, symbol: &str) -> aiex_node::error::Result<Vec<Chunk>> {
        Ok(self
            .0
            .iter()
            .filter(|c| c.defines_symbol(symbol))
            .cloned()
            .collect())
    }

    fn file_chunks(&self, repo: &str, path: &str) -> aiex_node::error::Result<Vec<Chunk>> {
        let mut out: Vec<Chunk> = self
            .0
            .iter()
            .filter(|c| c.repo == repo && c.path == path)
            .cloned()
            .collect();
        out.sort_by_key(|c| c.start_byte);
        Ok(out)
    }

    fn repos_with_file(&self, path: &str) -> aiex_node::error::Result<Vec<String>> {
        let mut repos: Vec<String> = self
            .0
            .iter()
            .filter(|c| c.path == path)
            .map(|c| c.repo.clone())
            .collect();
        repos.dedup();
        Ok(repos)
    }
}

/// One generated function: its body length and the functions it calls.
#[derive(Debug, Clone)]
struct Fun {
    lines: usize,
    calls: Vec<(usize, usize)>,
}

/// A generated project: modules of functions `App.M{m}.f{f}/1`.
#[derive(Debug, Clone)]
struct Project {
    modules: Vec<(usize, Vec<Fun>)>,
}

const SECRET: &str = "sk-proj-Zq9TeStSeCrEt4242";

impl Project {
    fn sources(&self, secret_in: Option<(usize, usize)>) -> Vec<(String, String)> {
        self.modules
            .iter()
            .enumerate()
            .map(|(m, (doc, funs))| {
                let mut src = format!(
                    "defmodule App.M{m} do\n  @moduledoc \"\"\"\n  {}\n  \"\"\"\n  alias App.Util\n  defstruct [:id, :name]\n  @type t :: %__MODULE__{{}}\n\n",
                    "Module documentation sentence. ".repeat(*doc)
                );
                for (f, fun) in funs.iter().enumerate() {
                    src.push_str(&format!("  @spec f{f}(integer()) :: integer()\n  def f{f}(x) do\n"));
                    if secret_in == Some((m, f)) {
                        src.push_str(&format!("    key = \"{SECRET}\"\n"));
                    }
                    for l in 0..fun.lines {
                        src.push_str(&format!("    x = x * {l} + {}\n", l + f));
                    }
                    for (cm, cf) in &fun.calls {
                        src.push_str(&format!("    x = App.M{cm}.f{cf}(x)\n"));
                    }
                    src.push_str("    x\n  end\n\n");
                }
                src.push_str("end\n");
                (format!("lib/app/m{m}.ex"), src)
            })
            .collect()
    }

    fn chunks(&self, secret_in: Option<(usize, usize)>) -> Vec<Chunk> {
        let config = ChunkerConfig::default();
        let mut out = Vec::new();
        for (path, src) in self.sources(secret_in) {
            match chunk_file("app", &path, src.as_bytes(), &config) {
                FileChunks::Chunked(c) => out.extend(c),
                FileChunks::Skipped(r) => panic!("{path} skipped: {r}"),
            }
        }
        out
    }
}

fn project() -> impl Strategy<Value = Project> {
    (1usize..4).prop_flat_map(|n_mod| {
        let fun = (
            0usize..30,
            prop::collection::vec((0..n_mod, 0usize..4), 0..3),
        )
            .prop_map(|(lines, calls)| Fun { lines, calls });
        prop::collection::vec(
            (0usize..12, prop::collection::vec(fun, 4..5)),
            n_mod..=n_mod,
        )
        .prop_map(|modules| Project { modules })
    })
}

fn hits_for(chunks: &[Chunk], picks: &[usize]) -> Vec<SearchHit> {
    picks
        .iter()
        .map(|i| {
            let c = chunks[i % chunks.len()].clone();
            SearchHit {
                score: 1.0,
                partition: 0,
                symbol: c.display_symbol(),
                snippet: String::new(),
                snippet_start_line: c.start_line,
                chunk: c,
            }
        })
        .collect()
}

/// Every invariant of a fitted context.
fn check(ctx: &Context, counter: &TokenCounter, target: &[&Chunk]) -> Result<(), TestCaseError> {
    let rendered = ctx.render();
    prop_assert!(ctx.tokens <= ctx.budget, "{} > {}", ctx.tokens, ctx.budget);
    prop_assert_eq!(counter.count(&rendered), ctx.tokens);
    // The target is there, whole, or shorter (docs shortened, a module's functions by
    // their heads) or cut with the marker, and said so.
    let t: Vec<_> = ctx
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Target)
        .collect();
    prop_assert_eq!(t.len(), 1);
    // Every code block is closed, so nothing after one is read as code.
    prop_assert_eq!(rendered.matches("```").count() % 2, 0, "an open code block");
    if ctx.truncated {
        let text = t[0].text.strip_suffix("\n```").unwrap_or(&t[0].text);
        let cut = text.ends_with(TRUNCATION_MARKER) && t[0].title.ends_with("[truncated]");
        let shorter = !text.contains(TRUNCATION_MARKER)
            && (t[0].title.ends_with("[docs shortened]")
                || t[0].title.ends_with("functions by their heads]"));
        prop_assert!(cut || shorter, "{}\n{}", t[0].title, t[0].text);
    } else {
        for c in target {
            prop_assert!(
                t[0].text
                    .contains(c.content.trim_start_matches('\n').trim_end()),
                "the target's body is missing"
            );
        }
    }
    // No chunk twice, no span inside another.
    let mut ids = HashSet::new();
    for s in &ctx.sections {
        for id in &s.chunk_ids {
            prop_assert!(ids.insert(id.clone()), "chunk {} shown twice", id);
        }
    }
    let spans: Vec<_> = ctx
        .sections
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.spans.iter().map(move |sp| (i, sp)))
        .collect();
    for (i, a) in &spans {
        for (j, b) in &spans {
            prop_assert!(i == j || !a.within(b), "{:?} inside {:?}", a, b);
        }
    }
    // Collapsing comes before dropping.
    if !ctx.dropped.is_empty() {
        for s in &ctx.sections {
            prop_assert!(
                s.kind.is_required() || !s.collapsible(),
                "dropped {:?} while {} could still collapse",
                ctx.dropped,
                s.title
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn contexts_fit_keep_the_target_and_never_repeat(
        p in project(),
        pick in (0usize..16, 0usize..4),
        target_kind in 0usize..4,
        budget in 64usize..2500,
        hit_picks in prop::collection::vec(0usize..64, 0..6),
        exact in any::<bool>(),
    ) {
        let m = pick.0 % p.modules.len();
        let f = pick.1;
        let chunks = p.chunks(Some((m, f)));
        let graph = SymbolGraph::build(&chunks);
        let source = Mem(chunks.clone());
        let counter = TokenCounter::for_model(if exact { "gpt-4o" } else { "claude-sonnet-4" });
        let symbol = format!("App.M{m}.f{f}/1");
        let function: Vec<&Chunk> = chunks
            .iter()
            .filter(|c| c.kind == ChunkKind::Function && c.defines.iter().any(|d| d.symbols().contains(&symbol)))
            .collect();
        prop_assert!(!function.is_empty());
        let path = format!("lib/app/m{m}.ex");
        let line = function[0].end_line;
        // A function merged with others into a chunk is shown by its own lines: those
        // from its head to its end must be there.
        let own_lines: Vec<Chunk> = (function.iter())
            .map(|c| {
                let d = (c.defines.iter()).find(|d| d.symbols().contains(&symbol)).unwrap();
                let lines: Vec<&str> = c.content.split_inclusive('\n').collect();
                let (from, to) = ((d.line - c.start_line) as usize, (d.end_line - c.start_line) as usize);
                Chunk { content: lines[from..=to.min(lines.len() - 1)].concat(), ..(*c).clone() }
            })
            .collect();
        let (target, target_chunks): (String, Vec<&Chunk>) = match target_kind {
            0 => (symbol.clone(), own_lines.iter().collect()),
            1 => (
                format!("App.M{m}"),
                chunks.iter().filter(|c| c.kind == ChunkKind::ModuleHeader && c.module == format!("App.M{m}")).collect(),
            ),
            2 => (path.clone(), chunks.iter().filter(|c| c.path == path).collect()),
            _ => (
                format!("{path}:{line}-{}", line + 2),
                chunks
                    .iter()
                    .filter(|c| c.path == path && c.start_line <= line + 2 && c.end_line >= line)
                    .collect(),
            ),
        };
        prop_assert!(!target_chunks.is_empty());
        let secrets = SecretFilter::from_vars([("OPENAI_API_KEY".to_string(), SECRET.to_string())]);
        let ctx = ContextBuilder::new(&graph, &source, counter.clone())
            .secrets(secrets)
            .search_hits(hits_for(&chunks, &hit_picks))
            .build(&ContextRequest {
                question: "what does it compute?".into(),
                target: Some(target.clone()),
                budget: Some(budget),
                repositories: Vec::new(),
            })
            .expect("a context");
        prop_assert!(!ctx.render().contains(SECRET), "the secret leaked");
        let redacted: Vec<Chunk> = target_chunks
            .iter()
            .map(|c| Chunk { content: c.content.replace(SECRET, "[redacted]"), ..(*c).clone() })
            .collect();
        check(&ctx, &counter, &redacted.iter().collect::<Vec<_>>())?;
    }

    #[test]
    fn the_window_keeps_the_newest_turns_and_summarises_the_rest(
        turns in prop::collection::vec(("[a-z ]{1,40}\\. [a-z ]{0,200}", any::<bool>()), 0..20),
        budget in 20usize..400,
    ) {
        let turns: Vec<Message> = turns
            .into_iter()
            .map(|(t, user)| if user { Message::user(t) } else { Message::assistant(t) })
            .collect();
        let counter = TokenCounter::for_model("claude-sonnet-4");
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let h = rt.block_on(fit_history(&turns, budget, &counter, &ExtractiveSummary));
        let all: usize = turns.iter().map(|t| counter.count(&t.content)).sum();
        let used: usize = h.messages().iter().map(|m| counter.count(&m.content)).sum();
        prop_assert!(used <= budget, "{} > {}", used, budget);
        prop_assert_eq!(used, h.tokens);
        // The recent turns are the newest ones, verbatim, in order.
        prop_assert_eq!(&turns[h.summarized_turns..], &h.recent[..]);
        if all <= budget {
            prop_assert_eq!(h.summarized_turns, 0);
            prop_assert!(h.summary.is_none());
        } else {
            prop_assert!(h.summarized_turns > 0);
            // The newest turn stays whenever it fits the recent part of the window.
            let newest = counter.count(&turns.last().unwrap().content);
            if newest <= budget - budget / 4 {
                prop_assert!(!h.recent.is_empty());
            }
            if let Some(s) = &h.summary {
                prop_assert!(s.content.starts_with(SUMMARY_HEADER));
            }
        }
    }
}

fn inventory() -> (Vec<Chunk>, SymbolGraph) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/inventory");
    let mut chunks = Vec::new();
    for (rel, abs, _) in aiex_node::ingest::walk(&root).unwrap().files {
        let bytes = std::fs::read(abs).unwrap();
        if let FileChunks::Chunked(c) =
            chunk_file("inventory", &rel, &bytes, &ChunkerConfig::default())
        {
            chunks.extend(c);
        }
    }
    let graph = SymbolGraph::build(&chunks);
    (chunks, graph)
}

/// The context of a question alone, in the whole budget.
fn ask(source: &Mem, graph: &SymbolGraph, question: &str) -> Context {
    ContextBuilder::new(graph, source, TokenCounter::for_model("gpt-4o"))
        .build(&ContextRequest {
            question: question.into(),
            target: None,
            budget: None,
            repositories: Vec::new(),
        })
        .unwrap()
}

fn build(source: &Mem, graph: &SymbolGraph, target: &str, budget: Option<usize>) -> Context {
    ContextBuilder::new(graph, source, TokenCounter::for_model("gpt-4o"))
        .secrets(SecretFilter::default())
        .build(&ContextRequest {
            question: "How does reserving stock work?".into(),
            target: Some(target.into()),
            budget,
            repositories: Vec::new(),
        })
        .unwrap()
}

#[test]
fn a_function_target_brings_its_module_callers_and_callees() {
    let (chunks, graph) = inventory();
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Inventory.Stock.reserve/4", None);
    let kinds: HashSet<SectionKind> = ctx.sections.iter().map(|s| s.kind).collect();
    for k in [
        SectionKind::Target,
        SectionKind::ModuleHeader,
        SectionKind::Caller,
        SectionKind::RepoMap,
        SectionKind::Question,
    ] {
        assert!(
            kinds.contains(&k),
            "no {k:?} in {:#?}",
            ctx.sections.iter().map(|s| &s.title).collect::<Vec<_>>()
        );
    }
    let prompt = ctx.render();
    assert!(
        prompt.contains("def reserve(server, sku, quantity, opts \\\\ [])"),
        "{prompt}"
    );
    assert!(prompt.contains("defmodule Inventory.Stock"));
    assert!(ctx.dropped.is_empty() && !ctx.truncated);
    assert!(prompt.ends_with("## Question\nHow does reserving stock work?\n\n"));
}

/// A question that names a module and its functions, in words or as `Mod.fun/arity`,
/// brings their code before any search hit, and the module's header.
#[test]
fn what_the_question_names_comes_into_its_context() {
    let (chunks, graph) = inventory();
    let source = Mem(chunks);
    let ask = |question: &str| {
        ContextBuilder::new(&graph, &source, TokenCounter::for_model("gpt-4o"))
            .secrets(SecretFilter::default())
            .build(&ContextRequest {
                question: question.into(),
                target: None,
                budget: None,
                repositories: Vec::new(),
            })
            .unwrap()
    };
    let ctx = ask("How does handle_info work in Inventory.Stock? And Inventory.Stock.release/2?");
    let titles: Vec<&str> = ctx.sections.iter().map(|s| s.title.as_str()).collect();
    for named in [
        "Named in the question: Inventory.Stock.release/2",
        "Named in the question: Inventory.Stock.handle_info",
    ] {
        assert!(
            titles.iter().any(|t| t.starts_with(named)),
            "{named}: {titles:#?}"
        );
    }
    assert!(
        ctx.sections
            .iter()
            .any(|s| s.kind == SectionKind::ModuleHeader
                && s.text.contains("defmodule Inventory.Stock")),
        "{titles:#?}"
    );
    let prompt = ctx.render();
    assert!(
        prompt.contains("def release(server, reservation_id) do"),
        "{prompt}"
    );
    assert!(
        prompt.contains("def handle_info(:sweep_expired, state) do"),
        "{prompt}"
    );
    // Words that name nothing indexed bring nothing.
    let ctx = ask("How does the_missing_piece work in Nowhere.Module?");
    assert!(
        !ctx.sections
            .iter()
            .any(|s| s.title.starts_with("Named in the question")),
        "{:#?}",
        ctx.sections.iter().map(|s| &s.title).collect::<Vec<_>>()
    );
}

#[test]
fn a_tighter_budget_collapses_first_then_drops_and_a_tiny_one_cuts_the_target() {
    let (chunks, graph) = inventory();
    let source = Mem(chunks);
    let full = build(&source, &graph, "Inventory.Stock.reserve/4", None);
    let target_tokens: usize = full
        .sections
        .iter()
        .filter(|s| s.kind.is_required())
        .map(|s| s.tokens)
        .sum();
    // Shrinking the budget from the full size: the first change is a collapse, not a drop.
    let first_change = (200..=full.tokens)
        .rev()
        .step_by(40)
        .map(|b| build(&source, &graph, "Inventory.Stock.reserve/4", Some(b)))
        .find(|c| c.sections.iter().any(|s| s.collapsed) || !c.dropped.is_empty())
        .expect("some budget changes the context");
    assert!(first_change.tokens <= first_change.budget);
    assert!(
        first_change.sections.iter().any(|s| s.collapsed),
        "nothing collapsed"
    );
    assert!(
        first_change.dropped.is_empty(),
        "dropped before collapsing: {:?}",
        first_change.dropped
    );
    // Only the target and question fit.
    let tight = build(
        &source,
        &graph,
        "Inventory.Stock.reserve/4",
        Some(target_tokens + 5),
    );
    assert!(!tight.dropped.is_empty());
    assert!(
        tight.sections.iter().all(|s| s.kind.is_required()),
        "{:?}",
        tight.sections
    );
    assert!(!tight.truncated);
    // Smaller than the target alone: cut, with the marker, and said so.
    let tiny = build(&source, &graph, "Inventory.Stock.reserve/4", Some(80));
    assert!(tiny.truncated && tiny.tokens <= 80);
    assert!(tiny.render().contains(TRUNCATION_MARKER));
    assert_eq!(
        tiny.render().matches("```").count() % 2,
        0,
        "{}",
        tiny.render()
    );
}

/// A section too big for the budget (the header of a module the question names, whose
/// doc runs to thousands of words) collapses every body of lower priority before itself;
/// then the bodies that fit come back, so the context is not a list of signatures far
/// under its budget (Broadway: 1,324 tokens of 8,000, every hit collapsed).
#[test]
fn bodies_collapsed_to_make_room_come_back_when_they_fit() {
    let doc: String = (0..1_500)
        .map(|i| format!("  The stock keeper explains step {i} at length.\n"))
        .collect();
    let mut small = String::from("defmodule App.Small do\n");
    for f in 0..4 {
        small.push_str(&format!("  def helper{f}(x) do\n"));
        for l in 0..12 {
            small.push_str(&format!("    x = x * {l} + {f}\n"));
        }
        small.push_str("    x\n  end\n\n");
    }
    small.push_str("end\n");
    let sources = [
        (
            "lib/big.ex",
            format!(
                "defmodule App.Big do\n  @moduledoc \"\"\"\n{doc}  \"\"\"\n\n  def run(x), do: x\nend\n"
            ),
        ),
        ("lib/small.ex", small),
    ];
    let mut chunks = Vec::new();
    for (path, src) in &sources {
        if let FileChunks::Chunked(c) =
            chunk_file("app", path, src.as_bytes(), &ChunkerConfig::default())
        {
            chunks.extend(c);
        }
    }
    let graph = SymbolGraph::build(&chunks);
    let helpers: Vec<Chunk> = (chunks.iter())
        .filter(|c| c.name.starts_with("helper"))
        .cloned()
        .collect();
    assert_eq!(helpers.len(), 4);
    let hits = hits_for(&helpers, &[0, 1, 2, 3]);
    let source = Mem(chunks);
    let ctx = ContextBuilder::new(&graph, &source, TokenCounter::for_model("gpt-4o"))
        .search_hits(hits)
        .build(&ContextRequest {
            question: "How does App.Big keep the stock?".into(),
            target: None,
            budget: Some(2_000),
            repositories: Vec::new(),
        })
        .unwrap();
    assert!(ctx.tokens <= 2_000, "{}", ctx.tokens);
    let header = (ctx.sections.iter())
        .find(|s| s.kind == SectionKind::ModuleHeader)
        .expect("the header of the module named");
    assert!(header.collapsed, "{header:?}");
    let hits: Vec<_> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::SearchHit)
        .collect();
    assert_eq!(hits.len(), 4, "{hits:#?}");
    for h in hits {
        assert!(
            !h.collapsed,
            "{} collapsed in {} tokens",
            h.title, ctx.tokens
        );
    }
}

#[test]
fn file_and_line_targets_and_bad_targets() {
    let (chunks, graph) = inventory();
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "lib/inventory/stock.ex:83-84", None);
    let target = ctx
        .sections
        .iter()
        .find(|s| s.kind == SectionKind::Target)
        .unwrap();
    assert!(
        target.text.contains("def release(server, reservation_id)"),
        "{}",
        target.text
    );
    assert!(!target.text.contains("def snapshot"));
    let whole = build(&source, &graph, "lib/inventory/stock.ex", None);
    let target = whole
        .sections
        .iter()
        .find(|s| s.kind == SectionKind::Target)
        .unwrap();
    assert!(target.text.contains("def snapshot") && target.text.contains("def release"));
    assert_eq!(
        Target::parse("Inventory.Stock").unwrap(),
        Target::Module("Inventory.Stock".into())
    );
    assert_eq!(
        Target::parse("Inventory.Stock.reserve!/4").unwrap(),
        Target::Function("Inventory.Stock.reserve!/4".into())
    );
    assert_eq!(
        Target::parse("README.md").unwrap(),
        Target::File {
            path: "README.md".into(),
            lines: None
        }
    );
    assert_eq!(
        Target::parse("lib/inventory/stock.ex:83").unwrap(),
        Target::File {
            path: "lib/inventory/stock.ex".into(),
            lines: Some((83, 83))
        }
    );
    assert!(Target::parse("../etc/passwd").is_err());
    assert!(Target::parse("lib/a.ex:9-3").is_err());
    // A function named without its module, or by its module's last segment, is the one
    // it names, as `aiex symbols` takes it (Oban Web's `Helpers.can?/2`).
    assert_eq!(
        Target::parse("reserve!/4").unwrap(),
        Target::Function("reserve!/4".into())
    );
    for short in ["Stock.reserve!/4", "reserve!/4"] {
        let ctx = build(&source, &graph, short, None);
        let target = (ctx.sections.iter())
            .find(|s| s.kind == SectionKind::Target)
            .unwrap_or_else(|| panic!("{short}: {:#?}", ctx.sections));
        assert!(
            target.title.contains("Inventory.Stock.reserve!/4"),
            "{short}: {}",
            target.title
        );
    }
    // An absolute path is named as one, with what to write instead.
    let absolute = Target::parse("/home/me/shop/lib/a.ex:3").unwrap_err();
    assert!(
        absolute.to_string().contains("is an absolute path")
            && absolute.to_string().contains("`repo/lib/a.ex`"),
        "{absolute}"
    );
    let missing = ContextBuilder::new(&graph, &source, TokenCounter::for_model("gpt-4o"))
        .build(&ContextRequest {
            target: Some("Inventory.Nope.f/1".into()),
            ..ContextRequest::default()
        })
        .unwrap_err();
    assert!(
        missing.to_string().contains("Inventory.Nope.f/1"),
        "{missing}"
    );
    // Lines past the file's end: how long the file is.
    let past = ContextBuilder::new(&graph, &source, TokenCounter::for_model("gpt-4o"))
        .build(&ContextRequest {
            target: Some("lib/inventory/stock.ex:9000-9010".into()),
            ..ContextRequest::default()
        })
        .unwrap_err()
        .to_string();
    let length = (source.0.iter())
        .filter(|c| c.path == "lib/inventory/stock.ex")
        .map(|c| c.end_line)
        .max()
        .unwrap();
    assert!(
        past.contains(&format!("(the file has {length} lines)")),
        "{past}"
    );
}

/// The same definition in two repositories (vendored code) is shown once in the target
/// section, whose title says so; both copies count as shown.
#[test]
fn identical_target_definitions_are_shown_once() {
    let (chunks, _) = inventory();
    let mut all = chunks.clone();
    all.extend(chunks.into_iter().map(|mut c| {
        c.repo = "vendored".into();
        c.id = format!("vendored-{}", c.id);
        c
    }));
    let graph = SymbolGraph::build(&all);
    let source = Mem(all);
    let ctx = build(&source, &graph, "Inventory.Stock.reserve/4", None);
    let target = ctx
        .sections
        .iter()
        .find(|s| s.kind == SectionKind::Target)
        .unwrap();
    assert_eq!(target.chunk_ids.len(), 2, "{:?}", target.chunk_ids);
    assert!(
        target.title.ends_with("; 1 identical copy shown once)"),
        "{}",
        target.title
    );
    assert_eq!(
        target
            .text
            .matches("def reserve(server, sku, quantity, opts")
            .count(),
        1,
        "{}",
        target.text
    );
    // The module header, callers and callees too: one section each, naming the copy.
    let titles: Vec<&String> = ctx.sections.iter().map(|s| &s.title).collect();
    let header = ctx
        .sections
        .iter()
        .find(|s| s.kind == SectionKind::ModuleHeader && s.title.contains("Inventory.Stock"))
        .unwrap_or_else(|| panic!("{titles:#?}"));
    assert!(
        header.title.ends_with("[1 identical copy elsewhere]") && header.chunk_ids.len() == 2,
        "{titles:#?}"
    );
    let mut distinct = HashSet::new();
    for s in &ctx.sections {
        assert!(
            distinct.insert((s.kind, &s.text)),
            "{} is repeated",
            s.title
        );
    }
}

/// A caller whose definition is split in parts (a long doc, a long body) is shown by the
/// part that makes the call, not by the part with its head.
#[test]
fn a_long_caller_is_shown_by_the_part_that_makes_the_call() {
    let doc: String = (1..=30)
        .map(|i| {
            format!(
                "  Step {i} of placing an order: check the basket, the stock and the address.\n"
            )
        })
        .collect();
    let body: String = (1..=30)
        .map(|i| format!("    order = Shop.Audit.note(order, :step_{i}, \"checked the basket\")\n"))
        .collect();
    // Called through an alias, without the default argument: `charge/1` of `charge/2`.
    let orders = format!(
        "defmodule Shop.Orders do\n  alias Shop.Payments\n\n  @doc \"\"\"\n{doc}  \"\"\"\n  def place(order) do\n{body}    Payments.charge(order)\n  end\nend\n"
    );
    let payments = "defmodule Shop.Payments do\n  @doc \"Charges an order.\"\n  def charge(order, opts \\\\ []), do: {:ok, order, opts}\nend\n";
    let audit = "defmodule Shop.Audit do\n  def note(order, _step, _text), do: order\nend\n";
    let mut chunks = Vec::new();
    for (path, src) in [
        ("lib/shop/orders.ex", orders.as_str()),
        ("lib/shop/payments.ex", payments),
        ("lib/shop/audit.ex", audit),
    ] {
        let FileChunks::Chunked(c) =
            chunk_file("shop", path, src.as_bytes(), &ChunkerConfig::default())
        else {
            panic!("{path} was not chunked");
        };
        chunks.extend(c);
    }
    let parts: Vec<&Chunk> = chunks
        .iter()
        .filter(|c| c.path == "lib/shop/orders.ex" && c.part.is_some())
        .collect();
    assert!(
        parts.len() >= 3,
        "place/1 is split in {} parts",
        parts.len()
    );
    let calling = parts
        .iter()
        .find(|c| c.content.contains("Payments.charge(order)"))
        .expect("a part holds the call");
    assert_ne!(
        calling.part.unwrap().0,
        1,
        "the call is not in the first part"
    );
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks.clone());
    let ctx = build(&source, &graph, "Shop.Payments.charge/2", None);
    let callers: Vec<_> = ctx
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Caller)
        .collect();
    assert_eq!(callers.len(), 1, "{:#?}", ctx.sections);
    let caller = callers[0];
    assert_eq!(
        caller.title,
        format!(
            "Caller: Shop.Orders.place/1 (lib/shop/orders.ex:{}-{})",
            calling.start_line, calling.end_line
        )
    );
    assert!(
        caller.text.contains("Payments.charge(order)"),
        "{}",
        caller.text
    );
    assert_eq!(caller.chunk_ids, vec![calling.id.clone()]);

    // Called in two parts: both are shown, as one caller.
    let twice = orders.replace(
        "  def place(order) do\n",
        "  def place(order) do\n    Payments.charge(order, retry: true)\n",
    );
    let mut chunks: Vec<Chunk> = chunks
        .into_iter()
        .filter(|c| c.path != "lib/shop/orders.ex")
        .collect();
    let FileChunks::Chunked(c) = chunk_file(
        "shop",
        "lib/shop/orders.ex",
        twice.as_bytes(),
        &ChunkerConfig::default(),
    ) else {
        panic!("orders.ex was not chunked");
    };
    let calling: Vec<String> = (c.iter())
        .filter(|p| p.part.is_some() && p.content.contains("Payments.charge(order"))
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(calling.len(), 2, "two parts call: {c:#?}");
    chunks.extend(c);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Shop.Payments.charge/2", None);
    let callers: Vec<_> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Caller)
        .collect();
    assert_eq!(callers.len(), 1, "{:#?}", ctx.sections);
    assert_eq!(callers[0].chunk_ids, calling, "{}", callers[0].title);
    assert!(
        callers[0].text.contains("retry: true"),
        "{}",
        callers[0].text
    );
    // The first part shows its head as written, not again in its header
    // (AshDoubleEntry's `def change(…) # part 1/3` above `def change(…) do`).
    assert_eq!(
        callers[0].text.matches("def place(order)").count(),
        1,
        "{}",
        callers[0].text
    );
}

/// A file target in several repositories is an error naming them; `repo/path` or
/// `--repo` picks one.
#[test]
fn a_file_target_in_several_repositories_names_them() {
    let mut chunks = Vec::new();
    for repo in ["blog", "shop"] {
        let src = format!(
            "defmodule {}.App do\n  def hello, do: :{repo}\nend\n",
            repo.to_uppercase()
        );
        let FileChunks::Chunked(c) = chunk_file(
            repo,
            "lib/app.ex",
            src.as_bytes(),
            &ChunkerConfig::default(),
        ) else {
            panic!("not chunked");
        };
        chunks.extend(c);
    }
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ask = |target: &str, repositories: &[&str]| {
        ContextBuilder::new(&graph, &source, TokenCounter::for_model("gpt-4o"))
            .secrets(SecretFilter::default())
            .build(&ContextRequest {
                question: "what does it do?".into(),
                target: Some(target.into()),
                budget: None,
                repositories: repositories.iter().map(|r| r.to_string()).collect(),
            })
    };
    let err = ask("lib/app.ex", &[]).unwrap_err().to_string();
    assert!(err.contains("several repositories (blog, shop)"), "{err}");
    assert!(err.contains("blog/lib/app.ex"), "{err}");
    for (target, repos, want, not) in [
        ("shop/lib/app.ex", &[][..], ":shop", ":blog"),
        ("lib/app.ex", &["blog"][..], ":blog", ":shop"),
        ("blog/lib/app.ex:1-2", &[][..], ":blog", ":shop"),
    ] {
        let prompt = ask(target, repos).unwrap().render();
        assert!(
            prompt.contains(want) && !prompt.contains(not),
            "{target}:\n{prompt}"
        );
    }
}

/// Lines inside a chunk that merged small functions count the functions they hold, not
/// the chunk's: one of four one-liners brings its callers and callees (OpenaiEx's
/// `http.ex:21-24`, one `get/3` of a chunk of four).
#[test]
fn lines_in_a_merged_chunk_bring_the_calls_of_the_functions_they_hold() {
    let http = concat!(
        "defmodule Shop.Http do\n", // 1
        "  def get(c, url, params), do: get(c, Shop.Url.build(url, params))\n", // 2
        "  def get(c, url), do: {c, url}\n", // 3
        "  def delete(c, url), do: {c, url}\n", // 4
        "  def head(c, url), do: {c, url}\n", // 5
        "  def put(c, url), do: {c, url}\n", // 6
        "end\n",
        "defmodule Shop.Client do\n",
        "  def fetch(c), do: Shop.Http.get(c, \"/x\", [])\n",
        "end\n",
        "defmodule Shop.Url do\n",
        "  def build(url, params) do\n",
        "    {url, params}\n",
        "  end\n",
        "end\n",
    );
    let chunks = match chunk_file(
        "shop",
        "lib/shop/http.ex",
        http.as_bytes(),
        &ChunkerConfig::default(),
    ) {
        FileChunks::Chunked(c) => c,
        _ => panic!("not chunked"),
    };
    let merged = (chunks.iter())
        .find(|c| c.defines.iter().any(|d| d.name == "delete"))
        .expect("a chunk defining delete/2");
    assert!(
        merged.defines.len() > 2,
        "the one-liners merge: {:?}",
        merged.defines.iter().map(|d| &d.name).collect::<Vec<_>>()
    );
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "lib/shop/http.ex:2-2", None);
    let titles: Vec<&str> = ctx.sections.iter().map(|s| s.title.as_str()).collect();
    for want in ["Called: Shop.Url.build/2", "Caller: Shop.Client.fetch/1"] {
        assert!(
            titles.iter().any(|t| t.starts_with(want)),
            "{want}: {titles:#?}"
        );
    }
}

/// The chunks of `(path, source)` files, small neighbours not merged.
fn unmerged_chunks(sources: &[(&str, &str)]) -> Vec<Chunk> {
    split_chunks(sources, ChunkerConfig::default().budget)
}

/// [`unmerged_chunks`] under a chunk budget of `budget` (a small one splits).
fn split_chunks(sources: &[(&str, &str)], budget: usize) -> Vec<Chunk> {
    let config = ChunkerConfig {
        budget,
        merge_below: 0,
        ..ChunkerConfig::default()
    };
    let mut chunks = Vec::new();
    for (path, src) in sources {
        let FileChunks::Chunked(c) = chunk_file("shop", path, src.as_bytes(), &config) else {
            panic!("{path} was not chunked");
        };
        chunks.extend(c);
    }
    chunks
}

/// Callers through another arity (default arguments), through module-level code and
/// from tests all come, the library's own first; a caller taking default arguments is
/// named by its arities.
#[test]
fn callers_come_by_every_arity_library_first_tests_last() {
    let sources = [
        (
            "aaa_test/a_test.exs",
            "defmodule ATest do\n  use ExUnit.Case\n  test \"f\" do\n    assert A.f(1) == 2\n  end\nend\n",
        ),
        (
            "lib/a.ex",
            "defmodule A do\n  def f(x, y \\\\ 1), do: x + y\nend\n",
        ),
        (
            "lib/b.ex",
            "defmodule B do\n  def g, do: 1\n  @seed A.f(3)\n  def k, do: @seed\n  def h(z \\\\ 2), do: A.f(1, z)\nend\n",
        ),
        ("examples/c.exs", "IO.inspect(A.f(5))\n"),
    ];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let callers: Vec<String> = build(&source, &graph, "A.f/2", None)
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Caller)
        .map(|s| s.title.clone())
        .collect();
    let at = |needle: &str| {
        callers
            .iter()
            .position(|t| t.contains(needle))
            .unwrap_or_else(|| panic!("no caller {needle}: {callers:#?}"))
    };
    let (g, body, script, test) = (
        // A caller with default arguments is named by its arities, as `aiex chunk` names it.
        at("Caller: B.h/0..1 "),
        at("Caller: B (module body)"),
        at("examples/c.exs"),
        at("a_test.exs"),
    );
    assert!(g < script && body < script && script < test, "{callers:#?}");
}

#[test]
fn callers_of_an_imported_function_include_tests_and_scripts() {
    let util = "defmodule Shop.Util do\n  def helper(x), do: x\nend\n";
    let orders = "defmodule Shop.Orders do\n  import Shop.Util\n  def place(order), do: helper(order)\nend\n";
    let test = concat!(
        "defmodule Shop.UtilTest do\n",
        "  use ExUnit.Case\n",
        "  import Shop.Util\n",
        "  test \"helper gives back what it gets\" do\n",
        "    assert helper(1) == 1\n",
        "  end\n",
        "end\n",
    );
    let chunks = unmerged_chunks(&[
        ("lib/shop/util.ex", util),
        ("lib/shop/orders.ex", orders),
        ("test/shop/util_test.exs", test),
    ]);
    let graph = SymbolGraph::build(&chunks);
    assert_eq!(graph.callers("Shop.Util.helper/1").len(), 2);
    let source = Mem(chunks);
    let callers_of = |target: &str| -> Vec<String> {
        build(&source, &graph, target, None)
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Caller)
            .map(|s| s.title.clone())
            .collect()
    };
    let callers = callers_of("Shop.Util.helper/1");
    assert_eq!(callers.len(), 2, "{callers:?}");
    assert!(
        callers.contains(&"Caller: Shop.Orders.place/1 (lib/shop/orders.ex:3-4)".to_string()),
        "{callers:?}"
    );
    assert!(
        callers
            .iter()
            .any(|t| t.contains("helper gives back what it gets") && t.contains("util_test.exs")),
        "the test calling the imported function is a caller: {callers:?}"
    );
    // Named without its arity, the same callers.
    assert_eq!(callers_of("Shop.Util.helper"), callers);
}

/// Hits from a search that answers while the rest is gathered make the same context as
/// hits given up front; the late search is asked once, and its failure fails the build.
#[test]
fn late_search_hits_make_the_same_context_as_hits_given_first() {
    let (chunks, graph) = inventory();
    let source = Mem(chunks.clone());
    let hits = hits_for(&chunks, &[3, 7, 11, 19]);
    let request = ContextRequest {
        question: "How does reserving stock work?".into(),
        target: Some("Inventory.Stock.reserve/4".into()),
        budget: None,
        repositories: Vec::new(),
    };
    let counter = || TokenCounter::for_model("gpt-4o");
    let first = ContextBuilder::new(&graph, &source, counter())
        .search_hits(hits.clone())
        .build(&request)
        .unwrap();
    assert!(
        first
            .sections
            .iter()
            .any(|s| s.kind == SectionKind::SearchHit),
        "{:#?}",
        first.sections
    );
    let asked = std::sync::atomic::AtomicUsize::new(0);
    let later = ContextBuilder::new(&graph, &source, counter()).search_hits_later(|| {
        asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(hits.clone())
    });
    assert_eq!(later.build(&request).unwrap().render(), first.render());
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
    let failing = ContextBuilder::new(&graph, &source, counter()).search_hits_later(|| {
        Err(aiex_node::NodeError::InvalidArgument {
            field: "query",
            reason: "the search failed".into(),
        })
    });
    let err = failing.build(&request).unwrap_err();
    assert!(err.to_string().contains("the search failed"), "{err}");
}

/// A function over the size budget, with a `@doc` longer than the budget itself: the
/// part showing its `def` line defines it, every part's calls are its own, and as a
/// target it comes whole, doc to last line; a module target brings the module's code.
#[test]
fn a_split_definition_is_defined_where_its_head_is_and_comes_whole() {
    let doc: String = (0..70)
        .map(|i| format!("  Paragraph line {i} explaining how the batch is run and retried.\n"))
        .collect();
    let body: String = (0..70)
        .map(|i| format!("    Logger.debug(\"step {i} of the batch, padded to a long line\")\n"))
        .collect();
    let source = format!(
        "defmodule Big do\n  @doc \"\"\"\n{doc}  \"\"\"\n  def run(x) do\n    First.call(x)\n{body}    Last.call(x)\n  end\n\n  def small(y), do: y\nend\n\ndefmodule Other do\n  def caller, do: Big.run(1)\nend\n"
    );
    let def_line = source.lines().position(|l| l == "  def run(x) do").unwrap() as u32 + 1;
    let last_line = source
        .lines()
        .position(|l| l == "    Last.call(x)")
        .unwrap() as u32
        + 2;
    let FileChunks::Chunked(chunks) = chunk_file(
        "app",
        "lib/big.ex",
        source.as_bytes(),
        &ChunkerConfig::default(),
    ) else {
        panic!("not chunked")
    };
    let parts: Vec<&Chunk> = chunks.iter().filter(|c| c.name == "run").collect();
    assert!(parts.len() >= 3, "{parts:#?}");
    assert!(parts[0].end_line < def_line, "the doc is a part of its own");
    let defining: Vec<&Chunk> = parts
        .iter()
        .copied()
        .filter(|c| !c.defines.is_empty())
        .collect();
    assert_eq!(defining.len(), 1, "{parts:#?}");
    assert!(defining[0].start_line <= def_line && def_line <= defining[0].end_line);

    let graph = SymbolGraph::build(&chunks);
    let site = &graph.definitions("Big.run/1")[0];
    assert_eq!((site.start_line, site.end_line), (def_line, last_line));
    let callees = graph.callees("Big.run/1");
    for c in ["First.call/1", "Last.call/1", "Logger.debug/1"] {
        assert!(callees.contains(&c.to_string()), "{c} not in {callees:?}");
    }
    // Only functions and the other module's caller: no part is a caller of its own.
    assert_eq!(graph.callers("Last.call/1").len(), 1);
    assert_eq!(graph.callers("Big.run/1")[0].symbol, "Other.caller/0");

    let source = Mem(chunks);
    // The target sections of `target`'s context, which show each of `shown` and none of
    // `hidden`.
    let check_target = |target: &str, shown: &[&str], hidden: &str| {
        let ctx = build(&source, &graph, target, None);
        let text: String = ctx
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Target)
            .map(|s| s.text.as_str())
            .collect();
        for s in shown {
            assert!(
                text.contains(s),
                "{s} not in the target {target}:
{text}"
            );
        }
        assert!(!text.contains(hidden), "{hidden} in the target {target}");
    };
    check_target(
        "Big.run/1",
        &[
            "Paragraph line 0 explaining",
            "def run(x) do",
            "First.call(x)",
            "Last.call(x)",
        ],
        "def small",
    );
    check_target(
        "Big",
        &[
            "defmodule Big do",
            "def run(x) do",
            "Last.call(x)",
            "def small(y)",
        ],
        "def caller",
    );
}

/// Callees come in the order the target's code calls them, the module's own first (its
/// helpers, which nothing else shows), so that with more callees than fit the first ones
/// called are kept.
#[test]
fn callees_come_in_the_order_the_code_calls_them() {
    let sources = [
        (
            "lib/a.ex",
            "defmodule A do\n  def run(x) do\n    x |> zeta() |> B.beta()\n    alpha(x)\n    zeta(x)\n  end\n  def zeta(x), do: x\n  def alpha(x), do: x\nend\n",
        ),
        ("lib/b.ex", "defmodule B do\n  def beta(x), do: x\nend\n"),
    ];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    assert_eq!(
        graph.callees_in_call_order("A.run/1"),
        ["A.zeta/1", "B.beta/1", "A.alpha/1"]
    );
    assert_eq!(
        graph.callees("A.run/1"),
        ["A.alpha/1", "A.zeta/1", "B.beta/1"]
    );
    let source = Mem(chunks);
    let callees: Vec<String> = build(&source, &graph, "A.run/1", None)
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Callee)
        .map(|s| s.title.split(" (").next().unwrap().to_string())
        .collect();
    assert_eq!(
        callees,
        ["Called: A.zeta/1", "Called: A.alpha/1", "Called: B.beta/1"]
    );
}

/// A callee merged with its neighbours into one chunk (a server's small client functions
/// and callbacks) is shown by its own lines, with the `@impl` above it; another callee of
/// the same chunk by its own.
#[test]
fn a_callee_merged_with_its_neighbours_is_shown_by_its_own_lines() {
    let actor = concat!(
        "defmodule Vcr.Options do\n",                               // 1
        "  use GenServer\n",                                        // 2
        "\n",                                                       // 3
        "  def start(arg), do: GenServer.start(__MODULE__, arg)\n", // 4
        "\n",                                                       // 5
        "  def get(pid) do\n",                                      // 6
        "    GenServer.call(pid, :get)\n",                          // 7
        "  end\n",                                                  // 8
        "\n",                                                       // 9
        "  @impl true\n",                                           // 10
        "  def init(arg), do: {:ok, arg}\n",                        // 11
        "\n",                                                       // 12
        "  def set(pid, x), do: GenServer.cast(pid, {:set, x})\n",  // 13
        "end\n",                                                    // 14
    );
    let handler = concat!(
        "defmodule Vcr.Handler do\n",
        "  def options(pid) do\n",
        "    Vcr.Options.get(pid)\n",
        "    Vcr.Options.init(pid)\n",
        "    %Vcr.Token{}\n",
        "  end\n",
        "end\n",
        "defmodule Vcr.Token do\n",
        "  defstruct [\n",
        "    :token,\n",
        "    :expires\n",
        "  ]\n",
        "  def new, do: %__MODULE__{}\n",
        "end\n",
    );
    let mut chunks = Vec::new();
    for (path, src) in [
        ("lib/vcr/options.ex", actor),
        ("lib/vcr/handler.ex", handler),
    ] {
        match chunk_file("vcr", path, src.as_bytes(), &ChunkerConfig::default()) {
            FileChunks::Chunked(c) => chunks.extend(c),
            FileChunks::Skipped(r) => panic!("{path}: {r}"),
        }
    }
    // The four functions are one chunk.
    let merged = (chunks.iter())
        .find(|c| c.defines.len() == 4)
        .unwrap_or_else(|| panic!("a merged chunk: {chunks:#?}"));
    assert_eq!((merged.start_line, merged.end_line), (3, 14));
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Vcr.Handler.options/1", None);
    let callees: Vec<(&str, &str)> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Callee)
        .map(|s| (s.title.as_str(), s.text.as_str()))
        .collect();
    assert_eq!(callees.len(), 3, "{callees:#?}");
    // A struct is shown by its whole header, not by its `defstruct`'s first line.
    let (title, text) = callees[2];
    assert!(
        title.starts_with("Called: Vcr.Token.__struct__/0"),
        "{title}"
    );
    assert!(text.contains(":expires"), "{text}");
    let (title, text) = callees[0];
    assert!(
        title.starts_with("Called: Vcr.Options.get/1 (lib/vcr/options.ex:6-8)"),
        "{title}"
    );
    assert!(text.contains("GenServer.call(pid, :get)"), "{text}");
    for other in ["def start", "def init", "def set"] {
        assert!(!text.contains(other), "{other} in:\n{text}");
    }
    let (title, text) = callees[1];
    assert!(
        title.starts_with("Called: Vcr.Options.init/1 (lib/vcr/options.ex:10-11)"),
        "{title}"
    );
    assert!(text.contains("@impl true\n  def init(arg)"), "{text}");
    assert!(!text.contains("def set"), "{text}");
    // A target merged so is shown by its own lines, and so is a caller merged with it
    // (`start/1` starts the server, running `init/1`).
    let ctx = build(&source, &graph, "Vcr.Options.init/1", None);
    let target = (ctx.sections.iter())
        .find(|s| s.kind == SectionKind::Target)
        .expect("a target section");
    assert!(target.text.contains("def init(arg)"), "{}", target.text);
    assert!(!target.text.contains("def get"), "{}", target.text);
    let callers: Vec<(&str, &str)> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Caller)
        .map(|s| (s.title.as_str(), s.text.as_str()))
        .collect();
    let start = (callers.iter())
        .find(|(title, _)| title.starts_with("Caller: Vcr.Options.start/1 (lib/vcr/options.ex:4"))
        .unwrap_or_else(|| panic!("start/1 among {callers:#?}"));
    assert!(!start.1.contains("def get"), "{}", start.1);
}

/// A long module header (a user guide in its `@moduledoc`) is shown with its docs cut to
/// their first paragraph, so that it does not take the room of the target's callers.
#[test]
fn a_long_module_header_is_shown_with_its_docs_shortened() {
    let guide: String = (0..80)
        .map(|i| format!("  Option {i} of the producer, described at length.\n"))
        .collect();
    let src = format!(
        "defmodule Rabbit.Producer do\n  @moduledoc \"\"\"\n  A RabbitMQ producer.\n\n{guide}  \"\"\"\n  alias Rabbit.Client\n\n  def connect(state), do: Client.open(state)\nend\n"
    );
    let chunks = unmerged_chunks(&[("lib/rabbit/producer.ex", src.as_str())]);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Rabbit.Producer.connect/1", None);
    let header = (ctx.sections.iter())
        .find(|s| s.kind == SectionKind::ModuleHeader)
        .unwrap_or_else(|| panic!("{:#?}", ctx.sections));
    assert!(
        header.title.ends_with("[docs shortened]"),
        "{}",
        header.title
    );
    assert!(
        header.text.contains("A RabbitMQ producer."),
        "{}",
        header.text
    );
    assert!(!header.text.contains("Option 40"), "{}", header.text);
    assert!(
        header.text.contains("alias Rabbit.Client"),
        "{}",
        header.text
    );
}

/// The module attributes a function target reads, set between other functions (so in
/// their chunks), are shown with their values; one the header shows is not repeated.
#[test]
fn the_module_attributes_a_target_reads_are_shown() {
    let client = concat!(
        "defmodule Kafka.Client do\n",
        "  @moduledoc \"A client.\"\n",
        "  @timeout 5_000\n",
        "\n",
        "  def retry_count, do: @retry_count\n",
        "\n",
        "  @retry_count 3\n",
        "  @reconnect_delay_ms 500\n",
        "  @backoff [\n",
        "    base: 2,\n",
        "    max: 30\n",
        "  ]\n",
        "\n",
        "  @backoff_doc \"Backoff.\"\n",
        "  @spec other(term) :: term\n",
        "  def other(x), do: x\n",
        "\n",
        "  def reconnect(state) do\n",
        "    if state == :bad, do: raise(\"see the function's @spec and @backoff_doc\")\n",
        "    Process.sleep(@reconnect_delay_ms * Keyword.get(@backoff, :base))\n",
        "    {state, @timeout, @missing}\n",
        "  end\n",
        "\n",
        "  @reconnect_delay_ms 900\n",
        "  def later, do: @reconnect_delay_ms\n",
        "\n",
        "  def opts do\n",
        "    @backoff\n",
        "    |> Keyword.merge(max: 60)\n",
        "  end\n",
        "end\n",
    );
    let chunks = unmerged_chunks(&[("lib/kafka/client.ex", client)]);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Kafka.Client.reconnect/1", None);
    let attributes: Vec<_> = (ctx.sections.iter())
        .filter(|s| s.title.starts_with("Module attributes read"))
        .collect();
    assert_eq!(attributes.len(), 1, "{:#?}", ctx.sections);
    let a = attributes[0];
    assert_eq!(
        a.title,
        "Module attributes read: Kafka.Client (lib/kafka/client.ex:8, 9-12)"
    );
    assert!(a.text.contains("@reconnect_delay_ms 500"), "{}", a.text);
    assert!(a.text.contains("max: 30\n]"), "{}", a.text);
    // In the header shown already, or set nowhere: not here.
    assert!(!a.text.contains("@timeout"), "{}", a.text);
    assert!(!a.text.contains("@retry_count"), "{}", a.text);
    // The setting in force where the target is: the last one before it.
    assert!(!a.text.contains("900"), "{}", a.text);
    // Named in a string, or an attribute Elixir reads itself: no read (Req's
    // `"(see the function's @spec)"`).
    assert!(!a.text.contains("@spec"), "{}", a.text);
    assert!(!a.text.contains("Backoff."), "{}", a.text);
    // A read heading a pipeline over lines is a read.
    let ctx = build(&source, &graph, "Kafka.Client.opts/0", None);
    let read = (ctx.sections.iter())
        .find(|s| s.title.starts_with("Module attributes read"))
        .unwrap_or_else(|| panic!("{:#?}", ctx.sections));
    assert!(read.text.contains("max: 30"), "{}", read.text);
    // A target that sets the attribute itself, just above its `def` (ExAws.S3's
    // `@params`), shows its own value only; a `case` clause matching an attribute's value
    // (`@tinyint -> :tinyint`) sets nothing (Tds' `to_atom/1`).
    let s3 = concat!(
        "defmodule S3 do\n",
        "  def head, do: :ok\n",
        "\n",
        "  @params [:delimiter, :marker]\n",
        "  def list_objects(opts), do: Keyword.take(opts, @params)\n",
        "\n",
        "  @tinyint 0x30\n",
        "  def to_atom(token) do\n",
        "    case token do\n",
        "      @tinyint -> :tinyint\n",
        "    end\n",
        "  end\n",
        "\n",
        "  @params [:delimiter, :continuation_token]\n",
        "  def list_objects_v2(opts), do: {Keyword.take(opts, @params), @tinyint}\n",
        "end\n",
    );
    let chunks = unmerged_chunks(&[("lib/s3.ex", s3)]);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "S3.list_objects_v2/1", None);
    let read = (ctx.sections.iter())
        .find(|s| s.title.starts_with("Module attributes read"))
        .unwrap_or_else(|| panic!("{:#?}", ctx.sections));
    assert!(read.text.contains("@tinyint 0x30"), "{}", read.text);
    assert!(!read.text.contains(":marker"), "{}", read.text);
    assert!(!read.text.contains("-> :tinyint"), "{}", read.text);
    let target = (ctx.sections.iter())
        .find(|s| s.kind == SectionKind::Target)
        .unwrap();
    assert!(
        target.text.contains(":continuation_token"),
        "{}",
        target.text
    );
}

/// A target too large for the budget gives up the rest of its docs before any code.
#[test]
fn a_target_over_the_budget_shortens_its_docs_before_its_code() {
    let long_doc: String = (0..40)
        .map(|i| format!("  Paragraph {i} says a great deal more about how totals are made.\n\n"))
        .collect();
    let src = format!(
        "defmodule Ledger do\n  @doc \"\"\"\n  Sums the entries.\n\n{long_doc}  \"\"\"\n  @spec total([integer]) :: integer\n  def total(entries) do\n    Enum.sum(entries)\n  end\nend\n"
    );
    let chunks = unmerged_chunks(&[("lib/ledger.ex", src.as_str())]);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let whole = build(&source, &graph, "Ledger.total/1", None);
    assert!(!whole.truncated);
    let ctx = build(&source, &graph, "Ledger.total/1", Some(200));
    let prompt = ctx.render();
    assert!(ctx.truncated && ctx.tokens <= 200, "{prompt}");
    for kept in [
        "Sums the entries.",
        "def total(entries) do",
        "Enum.sum(entries)",
        "[docs shortened]",
    ] {
        assert!(prompt.contains(kept), "{kept} missing from {prompt}");
    }
    assert!(!prompt.contains("Paragraph 3 "), "{prompt}");
    assert!(!prompt.contains(TRUNCATION_MARKER), "{prompt}");
}

/// With no repository named, a target's search hits and map come from its own
/// repository; callers in other repositories still come, and naming repositories
/// overrides it.
#[test]
fn a_targets_hits_and_map_come_from_its_own_repository() {
    let config = ChunkerConfig {
        merge_below: 0,
        ..ChunkerConfig::default()
    };
    let mut chunks = Vec::new();
    for (repo, path, src) in [
        (
            "phoenix",
            "lib/token.ex",
            "defmodule Token do\n  def verify(t), do: t\n  def sign(t), do: t\nend\n",
        ),
        (
            "plug",
            "lib/csrf.ex",
            "defmodule Csrf do\n  def check(t), do: Token.verify(t)\n  def mask(t), do: t\nend\n",
        ),
    ] {
        let FileChunks::Chunked(c) = chunk_file(repo, path, src.as_bytes(), &config) else {
            panic!("{path} was not chunked");
        };
        chunks.extend(c);
    }
    let graph = SymbolGraph::build(&chunks);
    let hits = hits_for(&chunks, &(0..chunks.len()).collect::<Vec<_>>());
    let source = Mem(chunks);
    let context = |repositories: Vec<String>| {
        ContextBuilder::new(&graph, &source, TokenCounter::for_model("gpt-4o"))
            .search_hits(hits.clone())
            .build(&ContextRequest {
                question: "how is a token checked?".into(),
                target: Some("Token.verify/1".into()),
                budget: None,
                repositories,
            })
            .unwrap()
    };
    let titles = |ctx: &Context, kind: SectionKind| -> Vec<String> {
        ctx.sections
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.title.clone())
            .collect()
    };
    let ctx = context(Vec::new());
    let found = titles(&ctx, SectionKind::SearchHit);
    assert!(
        found.iter().any(|t| t.contains("Token.sign/1")),
        "{found:#?}"
    );
    assert!(
        found.iter().all(|t| !t.contains("lib/csrf.ex")),
        "{found:#?}"
    );
    let map = ctx.render();
    assert!(!map.contains("Csrf.mask"), "{map}");
    let callers = titles(&ctx, SectionKind::Caller);
    assert!(
        callers.iter().any(|t| t.contains("Csrf.check/1")),
        "{callers:#?}"
    );
    // Naming both repositories brings both.
    let both = context(vec!["phoenix".into(), "plug".into()]);
    let found = titles(&both, SectionKind::SearchHit);
    assert!(
        found.iter().any(|t| t.contains("Csrf.mask/1")),
        "{found:#?}"
    );
}

/// A data literal on one long line (a base64 image) is shown cut in the prompt, so a
/// module target is not cut inside it before its functions.
#[test]
fn a_long_data_line_is_shown_cut() {
    let blob = "iVBORw0KGgo".repeat(3_000);
    let src = format!(
        "defmodule Debugger do\n  @moduledoc \"Shows errors.\"\n  @logo \"data:image/png;base64,{blob}\"\n  def logo, do: @logo\nend\n"
    );
    let chunks = unmerged_chunks(&[("lib/debugger.ex", src.as_str())]);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Debugger", Some(2_000));
    let prompt = ctx.render();
    assert!(!ctx.truncated, "{prompt}");
    assert!(
        prompt.contains("more bytes of this line left out"),
        "{prompt}"
    );
    assert!(prompt.contains("def logo, do: @logo"), "{prompt}");
    assert!(prompt.len() < 4_000, "{} bytes", prompt.len());
}

/// A module target over the budget shows its functions by their heads before anything
/// is cut, so a small window still holds the module's whole API.
#[test]
fn a_module_target_over_the_budget_keeps_every_function_head() {
    let funs: String = (0..30)
        .map(|i| {
            format!(
                "  @spec step{i}(integer) :: integer\n  def step{i}(x) do\n    y = x * {i} + 1\n    z = y - {i}\n    Enum.sum([x, y, z, {i}])\n  end\n\n"
            )
        })
        .collect();
    let src = format!("defmodule Steps do\n  @moduledoc \"Thirty steps.\"\n\n{funs}end\n");
    let chunks = unmerged_chunks(&[("lib/steps.ex", src.as_str())]);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let whole = build(&source, &graph, "Steps", None);
    assert!(!whole.truncated);
    // Two thirds of it: the first functions whole, the later ones by their heads (a
    // quarter more at each step, not all at once, so the budget is not left mostly
    // empty).
    let ctx = build(&source, &graph, "Steps", Some(whole.tokens * 2 / 3));
    let prompt = ctx.render();
    assert!(ctx.truncated && ctx.tokens <= ctx.budget, "{prompt}");
    assert!(prompt.contains("functions by their heads]"), "{prompt}");
    assert!(!prompt.contains("[functions by their heads]"), "{prompt}");
    // Its one-paragraph doc is not said to be shortened.
    assert!(!prompt.contains("docs shortened"), "{prompt}");
    for i in 0..30 {
        assert!(
            prompt.contains(&format!("def step{i}(x)")),
            "step{i} missing: {prompt}"
        );
    }
    assert!(prompt.contains("Enum.sum([x, y, z, 0])"), "{prompt}");
    assert!(!prompt.contains("Enum.sum([x, y, z, 29])"), "{prompt}");
    assert!(!prompt.contains(TRUNCATION_MARKER), "{prompt}");
    // Tighter: every function by its head.
    let ctx = build(&source, &graph, "Steps", Some(whole.tokens / 3));
    let prompt = ctx.render();
    assert!(prompt.contains("[functions by their heads]"), "{prompt}");
    for i in 0..30 {
        assert!(
            prompt.contains(&format!("def step{i}(x)")),
            "step{i}: {prompt}"
        );
    }
    assert!(!prompt.contains("Enum.sum"), "{prompt}");
    // With a doc of two paragraphs, cut first, the title says so.
    let src = format!(
        "defmodule Steps do\n  @moduledoc \"\"\"\n  Thirty steps.\n\n  {}\n  \"\"\"\n\n{funs}end\n",
        "A second paragraph. ".repeat(40)
    );
    let chunks = unmerged_chunks(&[("lib/steps.ex", src.as_str())]);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let whole = build(&source, &graph, "Steps", None);
    let prompt = build(&source, &graph, "Steps", Some(whole.tokens / 3)).render();
    assert!(
        prompt.contains("[docs shortened, functions by their heads]"),
        "{prompt}"
    );
}

/// A target cut (or shortened) to fit leaves room that what was dropped to make it fit
/// takes back (a 1,500-token context of such a target used 133 tokens, its callee,
/// module header and map dropped).
#[test]
fn what_was_dropped_comes_back_when_the_cut_target_leaves_room() {
    let bullets: String = (0..120)
        .map(|i| {
            format!("  * `:opt{i}` - controls aspect number {i} of how the request is built.\n\n")
        })
        .collect();
    let big = format!(
        "defmodule Big do\n  @moduledoc \"Big module.\"\n\n  @doc \"\"\"\n  Builds a request.\n\n{bullets}  \"\"\"\n  def build(x) do\n    x |> Help.one() |> Help.two()\n  end\nend\n"
    );
    let help = "defmodule Help do\n  @doc \"One.\"\n  def one(x), do: x + 1\n  @doc \"Two.\"\n  def two(x), do: x * 2\nend\n";
    let chunks = unmerged_chunks(&[("lib/big.ex", &big), ("lib/help.ex", help)]);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    // Whole, its parts read as one block as written: no part header repeats its head.
    let whole = build(&source, &graph, "Big.build/1", None);
    let target = (whole.sections.iter())
        .find(|s| s.kind == SectionKind::Target)
        .unwrap();
    let parts = (source.0.iter()).filter(|c| c.name == "build").count();
    assert!(parts >= 2, "the target is split in parts for this test");
    assert_eq!(target.text.matches("```").count(), 2, "{}", target.text);
    assert_eq!(
        target.text.matches("def build(x)").count(),
        1,
        "{}",
        target.text
    );
    assert!(!target.text.contains("# part "), "{}", target.text);
    assert!(
        target
            .text
            .starts_with("```elixir\n# lib/big.ex\ndefmodule Big do\n")
    );

    let ctx = build(&source, &graph, "Big.build/1", Some(1000));
    let titles: Vec<&str> = ctx.sections.iter().map(|s| s.title.as_str()).collect();
    assert!(ctx.truncated, "{titles:?}");
    assert!(ctx.tokens <= ctx.budget, "{} > {}", ctx.tokens, ctx.budget);
    for callee in ["Called: Help.one/1", "Called: Help.two/1"] {
        assert!(
            titles.iter().any(|t| t.starts_with(callee)),
            "{callee} is back: {titles:?}, dropped {:?}",
            ctx.dropped.iter().map(|d| &d.title).collect::<Vec<_>>()
        );
    }
    assert!(
        titles.iter().any(|t| t.starts_with("Module header: Big")),
        "{titles:?}"
    );
}

/// Callees beyond those shown whole are named too (Postgrex's `handle_execute/4`: 8 of
/// its 10 callees shown, "0 dropped", nothing said of the other two).
#[test]
fn callees_beyond_those_shown_are_named() {
    let helpers: String = (0..14)
        .map(|i| format!("  def step{i}(x), do: x + {i}\n"))
        .collect();
    let calls: String = (0..14)
        .map(|i| format!("    x = Steps.step{i}(x)\n"))
        .collect();
    let src_steps = format!("defmodule Steps do\n{helpers}end\n");
    // Recursive, too: the target is never among the callees named.
    let src_run = format!(
        "defmodule Run do\n  def all(x) do\n{calls}    if x > 100, do: x, else: all(x)\n  end\nend\n"
    );
    let chunks = unmerged_chunks(&[("lib/steps.ex", &src_steps), ("lib/run.ex", &src_run)]);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Run.all/1", Some(4000));
    let shown: Vec<&str> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Callee && s.title.starts_with("Called: "))
        .map(|s| s.title.as_str())
        .collect();
    let others: Vec<_> = (ctx.sections.iter())
        .filter(|s| s.title.starts_with("Also called by Run.all/1"))
        .collect();
    assert_eq!(others.len(), 1, "{shown:?}");
    let named: Vec<&str> = others[0].text.lines().collect();
    assert_eq!(shown.len() + named.len(), 14, "{shown:?} {named:?}");
    assert!(others[0].title.contains(&format!("{} more", named.len())));
    // The first called are shown, the last named, in the order called.
    assert!(shown[0].contains("Steps.step0/1"), "{shown:?}");
    assert_eq!(*named.last().unwrap(), "Steps.step13/1");
    assert!(!named.contains(&"Run.all/1"), "{named:?}");
}

/// A function target's module header, split in parts (here by its many attributes; a
/// long moduledoc is one part, never cut inside), is one section with its parts joined
/// as written; of the module's types only those the target names
/// come (found on Mint.HTTP and Ash.Changeset: five `Module header` sections, and 13
/// unrelated documented types filling the budget; undocumented ones are in the header).
#[test]
fn a_split_module_header_is_one_section_and_only_named_types_come() {
    let attributes: String = (0..90)
        .map(|i| {
            format!("  @line{i} \"Line {i} of a long header about connections and requests.\"\n")
        })
        .collect();
    let source = format!(
        "defmodule Conn do\n  @moduledoc \"Connections.\"\n{attributes}\n  @typedoc \"A connection.\"\n  @type t() :: %{{id: integer()}}\n\n  @typedoc \"A callback.\"\n  @type unrelated_callback() :: (term() -> term())\n\n  @typedoc \"A phase.\"\n  @type other_phase() :: :before | :after\n\n  @spec request(t(), String.t()) :: {{:ok, t()}} | :error\n  def request(conn, path) do\n    Conn.Wire.send(conn, path)\n  end\nend\n"
    );
    let chunks = unmerged_chunks(&[("lib/conn.ex", &source)]);
    let header_parts = chunks
        .iter()
        .filter(|c| c.kind == ChunkKind::ModuleHeader)
        .count();
    assert!(header_parts >= 2, "the header must be split for this test");
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Conn.request/2", None);
    let headers: Vec<_> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::ModuleHeader && s.title.starts_with("Module header"))
        .collect();
    assert_eq!(
        headers.len(),
        1,
        "{:#?}",
        ctx.sections.iter().map(|s| &s.title).collect::<Vec<_>>()
    );
    assert!(headers[0].text.contains("Line 0 of") && headers[0].text.contains("Line 89 of"));
    assert!(!headers[0].text.contains("part 2/"), "{}", headers[0].text);
    // The repository map still lists every type; the sections of code are the named.
    let types = |ctx: &Context| -> String {
        (ctx.sections.iter())
            .filter(|s| s.kind != SectionKind::RepoMap)
            .map(|s| s.text.as_str())
            .collect()
    };
    let shown = types(&ctx);
    let titles: Vec<(&String, SectionKind)> =
        ctx.sections.iter().map(|s| (&s.title, s.kind)).collect();
    assert!(shown.contains("@type t() ::"), "{titles:#?}");
    assert!(!shown.contains("unrelated_callback"), "{titles:#?}");
    assert!(!shown.contains("other_phase"), "{shown}");
    // A module target keeps every type.
    let whole = types(&build(&source, &graph, "Conn", None));
    assert!(whole.contains("unrelated_callback") && whole.contains("other_phase"));
    // A question naming the module shows its header whole too, not its first part
    // (realtime's `Realtime.PromEx`).
    let asked = ask(&source, &graph, "what does Conn.request/2 send?");
    let headers: Vec<_> = (asked.sections.iter())
        .filter(|s| s.title.starts_with("Module header: Conn"))
        .collect();
    assert_eq!(headers.len(), 1, "{:#?}", asked.sections);
    assert!(
        headers[0].text.contains("Line 0 of") && headers[0].text.contains("Line 89 of"),
        "{}",
        headers[0].text
    );
    assert_eq!(headers[0].text.matches("defmodule Conn do").count(), 1);
    // A very long one (a router's) comes by its first parts only.
    let attributes: String = (0..600)
        .map(|i| format!("  @line{i} \"Line {i} of a very long header.\"\n"))
        .collect();
    let long = format!("defmodule Router do\n{attributes}\n  def request(conn), do: conn\nend\n");
    let chunks = unmerged_chunks(&[("lib/router.ex", &long)]);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let asked = ask(&source, &graph, "what does Router.request/1 do?");
    let header = (asked.sections.iter())
        .find(|s| s.title.starts_with("Module header: Router"))
        .unwrap_or_else(|| panic!("{:#?}", asked.sections));
    assert!(header.text.contains("Line 0 of"), "{}", header.text);
    assert!(!header.text.contains("Line 599 of"), "{}", header.text);
}

/// `Util.helper/1` and `n` files calling it, the `i`th `caller(i)` (its path and
/// source): indexed, with their graph.
fn util_helper_called_by(
    n: usize,
    caller: impl Fn(usize) -> (String, String),
) -> (Mem, SymbolGraph) {
    let mut sources = vec![(
        "lib/util.ex".to_string(),
        "defmodule Util do\n  def helper(x), do: x + 1\nend\n".to_string(),
    )];
    sources.extend((0..n).map(caller));
    let refs: Vec<(&str, &str)> = sources
        .iter()
        .map(|(p, s)| (p.as_str(), s.as_str()))
        .collect();
    let chunks = unmerged_chunks(&refs);
    let graph = SymbolGraph::build(&chunks);
    (Mem(chunks), graph)
}

/// Callers named alike beyond those shown (a view's `render/2`, one per template) are
/// told apart by their places (Teiserver's section menus).
#[test]
fn callers_named_alike_are_told_apart_by_their_places() {
    let (source, graph) = util_helper_called_by(30, |i| {
        (
            format!("lib/view{i}.ex"),
            format!("defmodule View do\n  def render(x), do: Util.helper(x) * {i}\nend\n"),
        )
    });
    let ctx = build(&source, &graph, "Util.helper/1", None);
    let others = (ctx.sections.iter())
        .find(|s| s.title.starts_with("Other callers of Util.helper/1"))
        .unwrap_or_else(|| panic!("{:#?}", ctx.sections));
    let named: Vec<&str> = others
        .text
        .lines()
        .filter(|l| !l.starts_with("and "))
        .collect();
    assert!(named.len() > 1, "{named:?}");
    let mut places: Vec<&str> = Vec::new();
    for name in &named {
        let place = (name.strip_prefix("View.render/1 ("))
            .and_then(|rest| rest.strip_suffix(":2)"))
            .unwrap_or_else(|| panic!("{name}"));
        assert!(place.starts_with("lib/view"), "{name}");
        assert!(!places.contains(&place), "{name} twice");
        places.push(place);
    }
}

/// A caller calling in more parts than are shown together shows its first calling
/// parts and names the lines of the calls in the others (Oban Web's `config_section/1`:
/// 17 calls over 5 parts, 14 of them gone unsaid).
#[test]
fn a_long_callers_calls_in_parts_not_shown_are_named() {
    let body: String = (0..600)
        .map(|j| format!("    x{j} = Util.helper({j}) + {j}\n"))
        .collect();
    let sources = [
        (
            "lib/util.ex",
            "defmodule Util do\n  def helper(x), do: x + 1\nend\n".to_string(),
        ),
        (
            "lib/long.ex",
            format!("defmodule Long do\n  def run do\n{body}    x0\n  end\nend\n"),
        ),
    ];
    let refs: Vec<(&str, &str)> = sources.iter().map(|(p, s)| (*p, s.as_str())).collect();
    let chunks = unmerged_chunks(&refs);
    let parts = (chunks.iter())
        .filter(|c| c.name == "run" && c.part.is_some())
        .count();
    assert!(parts > 3, "{parts} parts");
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Util.helper/1", Some(100_000));
    let caller = (ctx.sections.iter())
        .find(|s| s.title.starts_with("Caller: Long.run/0"))
        .unwrap_or_else(|| {
            panic!(
                "{:#?}",
                ctx.sections.iter().map(|s| &s.title).collect::<Vec<_>>()
            )
        });
    assert!(
        caller.title.contains("(also calls at lines "),
        "{}",
        caller.title
    );
    assert!(caller.title.contains("more)"), "{}", caller.title);
}

/// Callers dropped to fit a budget count among the callers "not shown" (Expo's
/// `parse_file!/2` read "1 more" with six missing): shown and counted make all seven.
#[test]
fn callers_dropped_to_fit_count_as_not_shown() {
    // Seven callers: six shown, one named.
    let (source, graph) = util_helper_called_by(7, |i| {
        let body: String = (0..20)
            .map(|j| format!("    assert Util.helper({j}) == {j} + 1 + {i} - {i}\n"))
            .collect();
        (
            format!("test/user{i}_test.exs"),
            format!(
                "defmodule User{i}Test do\n  use ExUnit.Case\n  test \"helper {i}\" do\n{body}  end\nend\n"
            ),
        )
    });
    let mut checked = 0;
    for budget in (100..300).step_by(2) {
        let ctx = build(&source, &graph, "Util.helper/1", Some(budget));
        let dropped = (ctx.dropped.iter())
            .filter(|d| d.title.starts_with("Caller: "))
            .count();
        let Some(others) =
            (ctx.sections.iter()).find(|s| s.title.starts_with("Other callers of Util.helper/1"))
        else {
            continue;
        };
        if dropped == 0 {
            continue;
        }
        let shown = (ctx.sections.iter())
            .filter(|s| s.title.starts_with("Caller: "))
            .count();
        let more: usize = (others.title.split(": ").nth(1))
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}", others.title));
        assert_eq!(shown + more, 7, "budget {budget}: {}", others.title);
        checked += 1;
    }
    assert!(checked > 0, "no budget dropped callers and kept the count");
}

/// Callers beyond those shown whole are named in one short section, so a widely used
/// function does not look used six times (Credo.Code.prewalk/3 has 115 callers).
#[test]
fn callers_beyond_those_shown_are_named() {
    // More than the most callers shown whole (6, times 4 in a large window).
    let (source, graph) = util_helper_called_by(30, |i| {
        (
            format!("lib/user{i}.ex"),
            format!("defmodule User{i} do\n  def run(x), do: Util.helper(x) * {i}\nend\n"),
        )
    });
    let ctx = build(&source, &graph, "Util.helper/1", None);
    let shown = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Caller && s.title.starts_with("Caller: "))
        .count();
    let others: Vec<_> = (ctx.sections.iter())
        .filter(|s| s.title.starts_with("Other callers of Util.helper/1"))
        .collect();
    assert_eq!(
        others.len(),
        1,
        "{:#?}",
        ctx.sections.iter().map(|s| &s.title).collect::<Vec<_>>()
    );
    let named: Vec<&str> = others[0].text.lines().collect();
    assert_eq!(shown + named.len(), 30, "{named:?}");
    assert!(others[0].title.contains(&format!("{} more", named.len())));
    for name in named {
        assert!(
            name.starts_with("User") && name.ends_with(".run/1"),
            "{name}"
        );
    }
    // A function with few callers has no such section.
    let few = build(&source, &graph, "User0.run/1", None);
    assert!(
        !few.sections
            .iter()
            .any(|s| s.title.starts_with("Also called by"))
    );
    assert!(
        !few.sections
            .iter()
            .any(|s| s.title.starts_with("Other callers"))
    );
}

/// A callee split in parts comes whole, as written, under one title naming its lines
/// once (Accent's `EntriesCommitProcessor.process/1` showed its doc and three lines); a
/// function with default arguments calling at two arities is one other caller, named by
/// its arities, and the target calling itself is none.
#[test]
fn a_split_callee_comes_whole_and_other_callers_are_named_once() {
    let doc: String = (1..=12)
        .map(|i| format!("  Step {i} of indexing: reads the source and writes its items.\n"))
        .collect();
    let body: String = (1..=12)
        .map(|i| format!("    items = Index.step(items, :step_{i}, source)\n"))
        .collect();
    let indexer = format!(
        "defmodule Shop.Indexer do\n  @doc \"\"\"\n{doc}  \"\"\"\n  def index(source) do\n    items = []\n{body}    Shop.Downloads.enqueue(items)\n  end\nend\n"
    );
    // A test's fixture, whose callers in the library come first; and a helper with a
    // default argument calling it, one caller at two arities.
    let run = "defmodule Shop.Run do\n  def run(source), do: Shop.Indexer.index(source)\n\n  def fixture(a, b, c \\\\ %{})\n  def fixture(%{} = a, b, c), do: fixture(a.id, b, c)\n  def fixture(a, b, c), do: Shop.Indexer.index({a, b, c})\nend\ndefmodule Shop.Helpers do\n  def helper(a, b \\\\ 1), do: Shop.Run.fixture(a, b, 0)\nend\n".to_string();
    // Enough other callers that some are only named.
    let callers: String = (0..30)
        .map(|i| {
            format!("defmodule Shop.User{i} do\n  def go(x), do: Shop.Run.fixture(x, {i})\nend\n")
        })
        .collect();
    let config = ChunkerConfig {
        budget: 900,
        merge_below: 0,
        ..ChunkerConfig::default()
    };
    let mut chunks = Vec::new();
    for (path, src) in [
        ("lib/indexer.ex", &indexer),
        ("test/support/run.ex", &run),
        ("lib/users.ex", &callers),
    ] {
        let FileChunks::Chunked(mut cs) = chunk_file("app", path, src.as_bytes(), &config) else {
            panic!("not chunked");
        };
        chunks.append(&mut cs);
    }
    assert_eq!(
        (chunks.iter()).filter(|c| c.name == "index").count(),
        2,
        "index/1 is split for this test"
    );
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Shop.Run.run/1", None);
    let called: Vec<_> = (ctx.sections.iter())
        .filter(|s| s.title.starts_with("Called: Shop.Indexer.index/1"))
        .collect();
    assert_eq!(called.len(), 1, "{:#?}", ctx.sections);
    assert!(
        called[0].title.ends_with("(lib/indexer.ex:2-32)"),
        "{}",
        called[0].title
    );
    for line in [
        "Step 12 of indexing",
        ":step_12",
        "Shop.Downloads.enqueue(items)",
    ] {
        assert!(called[0].text.contains(line), "{line}: {}", called[0].text);
    }
    let ctx = build(&source, &graph, "Shop.Run.fixture/3", None);
    let others: Vec<_> = (ctx.sections.iter())
        .filter(|s| s.title.starts_with("Other callers of"))
        .collect();
    assert_eq!(others.len(), 1, "{:#?}", ctx.sections);
    assert!(
        !others[0].text.contains("Shop.Run.fixture"),
        "{}",
        others[0].text
    );
    let named: Vec<&str> = others[0].text.lines().collect();
    let unique: std::collections::HashSet<&&str> = named.iter().collect();
    assert_eq!(unique.len(), named.len(), "{named:?}");
    assert!(named.contains(&"Shop.Helpers.helper/1..2"), "{named:?}");
}

/// A search hit that is one part of a split definition (its long doc) is shown with the
/// definition's other parts, as written: the body the doc speaks of comes with it.
#[test]
fn a_hit_on_a_part_of_a_definition_shows_its_other_parts() {
    let doc: String = (1..=12)
        .map(|i| format!("  Step {i} of indexing: reads the source and writes its items.\n"))
        .collect();
    let body: String = (1..=12)
        .map(|i| format!("    items = Index.step(items, :step_{i}, source)\n"))
        .collect();
    let src = format!(
        "defmodule Shop.Indexer do\n  @doc \"\"\"\n{doc}  \"\"\"\n  def index(source) do\n    items = []\n{body}    Shop.Downloads.enqueue(items)\n  end\nend\n"
    );
    let config = ChunkerConfig {
        budget: 900,
        merge_below: 0,
        ..ChunkerConfig::default()
    };
    let FileChunks::Chunked(chunks) = chunk_file("app", "lib/indexer.ex", src.as_bytes(), &config)
    else {
        panic!("not chunked");
    };
    let parts: Vec<usize> = (0..chunks.len())
        .filter(|&i| chunks[i].name == "index")
        .collect();
    assert_eq!(parts.len(), 2);
    let graph = SymbolGraph::build(&chunks);
    let hits = hits_for(&chunks, &parts[..1]);
    let source = Mem(chunks);
    let ctx = ContextBuilder::new(&graph, &source, TokenCounter::for_model("gpt-4o"))
        .search_hits(hits)
        .build(&ContextRequest {
            question: "how does indexing read the source?".into(),
            target: None,
            budget: Some(8_000),
            repositories: Vec::new(),
        })
        .unwrap();
    let hit: Vec<_> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::SearchHit)
        .collect();
    assert_eq!(hit.len(), 1, "{:#?}", ctx.sections);
    assert!(
        hit[0].text.contains("Step 12 of indexing"),
        "{}",
        hit[0].text
    );
    assert!(
        hit[0].text.contains("Shop.Downloads.enqueue(items)"),
        "{}",
        hit[0].text
    );
    // With the part that calls the target shown as its caller, the hit on the doc shows
    // the doc alone: no code twice (bors's `patch_preflight/3`).
    let downloads = "defmodule Shop.Downloads do\n  def enqueue(items), do: items\nend\n";
    let FileChunks::Chunked(more) =
        chunk_file("app", "lib/downloads.ex", downloads.as_bytes(), &config)
    else {
        panic!("not chunked");
    };
    let mut chunks = source.0.clone();
    chunks.extend(more);
    let graph = SymbolGraph::build(&chunks);
    let hits = hits_for(&chunks, &parts[..1]);
    let source = Mem(chunks);
    let ctx = ContextBuilder::new(&graph, &source, TokenCounter::for_model("gpt-4o"))
        .search_hits(hits)
        .build(&ContextRequest {
            question: "how does indexing read the source?".into(),
            target: Some("Shop.Downloads.enqueue/1".into()),
            budget: Some(8_000),
            repositories: Vec::new(),
        })
        .unwrap();
    let all: String = (ctx.sections.iter()).map(|s| s.text.as_str()).collect();
    assert_eq!(
        all.matches("Shop.Downloads.enqueue(items)").count(),
        1,
        "{:#?}",
        ctx.sections
    );
    assert!(all.contains("Step 12 of indexing"), "{all}");
}

/// The contexts of a question over one function per module of `src` (each a search
/// hit, in order): how many hits each budget shows, its tokens and what it dropped.
fn hits_shown(src: &str, functions: usize, budgets: &[usize]) -> Vec<(usize, usize, usize)> {
    let config = ChunkerConfig {
        merge_below: 0,
        ..ChunkerConfig::default()
    };
    let FileChunks::Chunked(chunks) = chunk_file("app", "lib/m.ex", src.as_bytes(), &config) else {
        panic!("not chunked");
    };
    let found: Vec<usize> = (0..chunks.len())
        .filter(|&i| chunks[i].kind == aiex_node::chunk::ChunkKind::Function)
        .collect();
    assert_eq!(found.len(), functions);
    let graph = SymbolGraph::build(&chunks);
    let hits = hits_for(&chunks, &found);
    let source = Mem(chunks);
    (budgets.iter())
        .map(|&budget| {
            let ctx = ContextBuilder::new(&graph, &source, TokenCounter::for_model("gpt-4o"))
                .search_hits(hits.clone())
                .build(&ContextRequest {
                    question: "which function adds a number?".into(),
                    target: None,
                    budget: Some(budget),
                    repositories: Vec::new(),
                })
                .unwrap();
            let shown = (ctx.sections.iter())
                .filter(|s| s.kind == SectionKind::SearchHit)
                .count();
            (shown, ctx.tokens, ctx.dropped.len())
        })
        .collect()
}

/// A question's search hits grow with the budget: 8 in an 8k-token window, up to 4 times
/// as many from 32k tokens, and up to twice that while the budget has room for them (a
/// small budget is not left half empty); the search asks for as many as may be shown.
#[test]
fn a_larger_budget_shows_more_search_hits() {
    let src: String = (0..40)
        .map(|i| format!("defmodule M{i} do\n  def f{i}(x), do: x + {i}\nend\n"))
        .collect();
    let shown: Vec<usize> = (hits_shown(&src, 40, &[6_000, 16_384, 100_000]).into_iter())
        .map(|(n, ..)| n)
        .collect();
    // Small hits: twice as many fit, and at the most every hit.
    assert_eq!(shown, [16, 32, 40]);
    let search = |budget: u32, model: &str| {
        aiex_node::service::context_search(&aiex_proto::v1::ContextRequest {
            question: "which function adds a number?".into(),
            token_budget: budget,
            model: model.into(),
            ..Default::default()
        })
        .expect("a question searches")
        .limit
    };
    assert_eq!(search(6_000, ""), 16);
    assert_eq!(search(40_000, ""), 64);
    // No budget given: the model's window decides (128k for gpt-4o, 8k for an unknown one).
    assert_eq!(search(0, "gpt-4o"), 64);
    assert_eq!(search(0, "some-local-model"), 16);
}

/// Hits past the first 8 come only while the budget has room for them: large ones stop
/// where a quarter of the budget is left, and the context stays within its budget.
#[test]
fn more_search_hits_fill_only_the_room_a_budget_has() {
    let body: String = (0..40)
        .map(|k| format!("    y{k} = Enum.map(x, fn v -> v * {k} + y end)\n"))
        .collect();
    let src: String = (0..20)
        .map(|i| format!("defmodule M{i} do\n  def f{i}(x, y) do\n{body}    x\n  end\nend\n"))
        .collect();
    let [(shown, tokens, dropped)] = hits_shown(&src, 20, &[12_000])[..] else {
        panic!("one budget");
    };
    assert!(8 < shown && shown < 20, "{shown} hits shown");
    assert!(tokens <= 12_000, "{tokens} tokens");
    assert_eq!(dropped, 0);
}

/// A question alone centres the map on its best hits: what they call comes into the map
/// ahead of the functions the whole project calls most.
#[test]
fn a_questions_map_centres_on_its_best_hits() {
    let mut src = String::new();
    for i in 0..30 {
        src.push_str(&format!(
            "defmodule Util{i} do\n  def helper_{i}(x), do: x + {i}\nend\n"
        ));
        src.push_str(&format!(
            "defmodule User{i} do\n  def a(x), do: Util{i}.helper_{i}(x)\n  def b(x), do: Util{i}.helper_{i}(x)\n  def c(x), do: Util{i}.helper_{i}(x)\nend\n"
        ));
    }
    src.push_str(
        "defmodule Pay do\n  def charge(card, amount), do: Gw.post_charge(card, amount)\nend\n",
    );
    src.push_str("defmodule Gw do\n  def post_charge(card, amount), do: {card, amount}\nend\n");
    let chunks = unmerged_chunks(&[("lib/app.ex", &src)]);
    let graph = SymbolGraph::build(&chunks);
    let charge = (0..chunks.len())
        .find(|&i| chunks[i].display_symbol() == "Pay.charge/2")
        .expect("Pay.charge/2 is a chunk");
    let source = Mem(chunks.clone());
    let map = |hits: Vec<SearchHit>| {
        let ctx = ContextBuilder::new(&graph, &source, TokenCounter::for_model("gpt-4o"))
            .search_hits(hits)
            .build(&ContextRequest {
                question: "how is a card charged?".into(),
                target: None,
                budget: Some(1_000),
                repositories: Vec::new(),
            })
            .unwrap();
        (ctx.sections.iter())
            .find(|s| s.kind == SectionKind::RepoMap)
            .map(|s| s.text.clone())
            .unwrap_or_default()
    };
    // Without hits the map is the project's most called functions, not the gateway's.
    let plain = map(Vec::new());
    assert!(plain.contains("helper_"), "{plain}");
    assert!(!plain.contains("post_charge"), "{plain}");
    let centred = map(hits_for(&chunks, &[charge]));
    assert!(
        centred.contains("def post_charge(card, amount)"),
        "{centred}"
    );
}

/// A template's function (`embed_templates`) has the template as its code, and the
/// components it renders as its callees.
#[test]
fn an_embedded_template_is_a_target_through_its_file() {
    let sources = [
        (
            "lib/shop_web/layouts.ex",
            concat!(
                "defmodule ShopWeb.Layouts do\n",
                "  embed_templates \"layouts/*\"\n",
                "  def nav(assigns), do: assigns\n",
                "end\n",
            ),
        ),
        (
            "lib/shop_web/layouts/app.html.heex",
            "<header>\n  <.nav />\n</header>\n",
        ),
    ];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "ShopWeb.Layouts.app/1", None);
    let shown: Vec<(SectionKind, String)> = (ctx.sections.iter())
        .map(|s| (s.kind, s.title.clone()))
        .collect();
    let target = (ctx.sections.iter())
        .find(|s| s.kind == SectionKind::Target)
        .unwrap_or_else(|| panic!("no target in {shown:#?}"));
    assert!(target.text.contains("<.nav />"), "{}", target.text);
    assert!(
        (ctx.sections.iter())
            .any(|s| s.kind == SectionKind::Callee && s.title.contains("ShopWeb.Layouts.nav/1")),
        "{shown:#?}"
    );
    // Declared by a bodiless head with its `attr`s, the template is its body: both are
    // the target (asciinema's `MediumHTML.card/1`).
    let sources = [
        (
            "lib/shop_web/medium_html.ex",
            concat!(
                "defmodule ShopWeb.MediumHTML do\n",
                "  use Phoenix.Component\n",
                "  embed_templates \"medium_html/*\"\n",
                "\n",
                "  attr :url, :string, required: true\n",
                "  def card(assigns)\n",
                "end\n",
            ),
        ),
        (
            "lib/shop_web/medium_html/card.html.heex",
            "<a href={@url} class=\"card\">\n  {render_slot(@inner_block)}\n</a>\n",
        ),
        (
            "lib/shop_web/recording_html.ex",
            "defmodule ShopWeb.RecordingHTML do\n  use Phoenix.Component\n  alias ShopWeb.MediumHTML\n  embed_templates \"recording_html/*\"\nend\n",
        ),
        (
            "lib/shop_web/recording_html/tile.html.heex",
            "<MediumHTML.card url={@url}>\n  <:preview>x</:preview>\n</MediumHTML.card>\n",
        ),
    ];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "ShopWeb.MediumHTML.card/1", None);
    let target = (ctx.sections.iter())
        .find(|s| s.kind == SectionKind::Target)
        .expect("a target");
    for written in [
        "attr :url",
        "def card(assigns)",
        "<a href={@url} class=\"card\">",
    ] {
        assert!(target.text.contains(written), "{written}: {}", target.text);
    }
    // A template calling it is shown as its caller, by the template's code.
    let caller = (ctx.sections.iter())
        .find(|s| s.title.starts_with("Caller: ShopWeb.RecordingHTML.tile/1"))
        .unwrap_or_else(|| panic!("{:#?}", ctx.sections));
    assert!(
        caller.text.contains("<MediumHTML.card url={@url}>"),
        "{}",
        caller.text
    );
}

/// A function a `for` names after what another file's function returns (Nx's
/// `for {name, _} <- Nx.Shared.unary_math_funs()`) has the `for` as its code, and what
/// its clauses call as its callees.
#[test]
fn a_function_named_by_what_another_file_returns_is_a_target_through_its_for() {
    let sources = [
        (
            "lib/calc/shared.ex",
            "defmodule Calc.Shared do\n  def funs, do: [exp: 1, log: 2]\nend\n",
        ),
        (
            "lib/calc.ex",
            concat!(
                "defmodule Calc do\n",
                "  for {name, _} <- Calc.Shared.funs() do\n",
                "    def unquote(name)(x), do: Calc.Math.run(unquote(name), x)\n",
                "  end\n",
                "end\n",
            ),
        ),
        (
            "lib/calc/math.ex",
            "defmodule Calc.Math do\n  def run(f, x), do: {f, x}\nend\n",
        ),
    ];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Calc.log/1", None);
    let shown: Vec<(SectionKind, String)> = (ctx.sections.iter())
        .map(|s| (s.kind, s.title.clone()))
        .collect();
    let target = (ctx.sections.iter())
        .find(|s| s.kind == SectionKind::Target)
        .unwrap_or_else(|| panic!("no target in {shown:#?}"));
    assert!(
        target.text.contains("Calc.Shared.funs()"),
        "{}",
        target.text
    );
    assert!(
        (ctx.sections.iter())
            .any(|s| s.kind == SectionKind::Callee && s.title.contains("Calc.Math.run/2")),
        "{shown:#?}"
    );
}

/// A function defined where it is implied (`defexception`'s `exception/1`) or by a
/// `use` has a context: its module's header, which holds what defines it, with its
/// callers; and for a `use`, the clauses its quote writes.
#[test]
fn an_implied_or_used_definition_is_a_target_through_its_module_header() {
    let sources = [(
        "lib/shop.ex",
        concat!(
            "defmodule Shop.OutOfStock do\n",
            "  defexception [:sku]\n",
            "end\n",
            "defmodule Shop.Base do\n",
            "  defmacro __using__(_) do\n",
            "    quote do\n",
            "      def fetch(id) when is_integer(id) do\n",
            "        {:ok, id}\n",
            "      end\n",
            "\n",
            "      def fetch(id), do: {:error, id}\n",
            "    end\n",
            "  end\n",
            "end\n",
            "defmodule Shop.Store do\n",
            "  use Shop.Base\n",
            "  def take(id), do: raise(Shop.OutOfStock, sku: fetch(id))\n",
            "end\n",
        ),
    )];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    for (target, header) in [
        ("Shop.OutOfStock.exception/1", "defexception [:sku]"),
        ("Shop.Store.fetch/1", "use Shop.Base"),
    ] {
        let ctx = build(&source, &graph, target, None);
        let shown: Vec<(SectionKind, String)> = (ctx.sections.iter())
            .map(|s| (s.kind, s.title.clone()))
            .collect();
        let first = (ctx.sections.iter())
            .find(|s| s.kind == SectionKind::Target)
            .unwrap_or_else(|| panic!("{target}: no target in {shown:#?}"));
        assert!(first.text.contains(header), "{target}: {}", first.text);
        assert!(
            (ctx.sections.iter())
                .any(|s| s.kind == SectionKind::Caller && s.title.contains("Shop.Store.take/1")),
            "{target}: {shown:#?}"
        );
        // Every clause the quote writes, as written there, without the quote's indent.
        let quoted = concat!(
            "Defined by `use Shop.Base`, in Shop.Base.__using__/1 (lib/shop.ex:7-11):\n",
            "```elixir\n",
            "def fetch(id) when is_integer(id) do\n",
            "  {:ok, id}\n",
            "end\n",
            "\n",
            "def fetch(id), do: {:error, id}\n",
            "```",
        );
        assert_eq!(
            first.text.contains(quoted),
            target == "Shop.Store.fetch/1",
            "{target}: {}",
            first.text
        );
    }
}

/// What a function a `use` defines calls, and who calls it, when they are defined by
/// the same `use` (Bonfire's `Repo.transact_with/2`, calling `rollback/1` and called by
/// `put_many/1`): shown by the clauses the quote writes, as the target is.
#[test]
fn callees_and_callers_a_use_defines_are_shown_by_their_quote() {
    let sources = [(
        "lib/shop.ex",
        concat!(
            "defmodule Shop.Base do\n",
            "  defmacro __using__(_) do\n",
            "    quote do\n",
            "      def fetch(id), do: lookup(id)\n",
            "      @doc \"\"\"\n",
            "      Looks an item up.\n",
            "      \"\"\"\n",
            "      @spec lookup(integer()) ::\n",
            "              {:ok, integer()}\n",
            "      def lookup(id), do: {:ok, id}\n",
            "      def fetch_all(ids), do: Enum.map(ids, &fetch/1)\n",
            "      def restock(id), do: Shop.Inventory.add(id)\n",
            "      def add(server \\\\ :store, item)\n",
            "      def add(server, {:new, item}), do: add(server, item)\n",
            "      def add(server, item), do: send(server, item)\n",
            "    end\n",
            "  end\n",
            "end\n",
            "defmodule Shop.Store do\n",
            "  use Shop.Base\n",
            "end\n",
            "defmodule Shop.Inventory do\n",
            "  def add(id), do: id\n",
            "end\n",
        ),
    )];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Shop.Store.fetch/1", None);
    let section = |kind: SectionKind, title: &str| {
        (ctx.sections.iter())
            .find(|s| s.kind == kind && s.title == title)
            .unwrap_or_else(|| {
                let shown: Vec<(SectionKind, &str)> = (ctx.sections.iter())
                    .map(|s| (s.kind, s.title.as_str()))
                    .collect();
                panic!("no {title}: {shown:#?}")
            })
    };
    let callee = section(SectionKind::Callee, "Called: Shop.Store.lookup/1");
    // With the `@doc` and `@spec` written above it in the quote.
    assert!(
        callee.text.contains(concat!(
            "```elixir\n",
            "@doc \"\"\"\n",
            "Looks an item up.\n",
            "\"\"\"\n",
            "@spec lookup(integer()) ::\n",
            "        {:ok, integer()}\n",
            "def lookup(id), do: {:ok, id}\n",
            "```"
        )),
        "{}",
        callee.text
    );
    assert!(
        callee.text.contains("(lib/shop.ex:5-10)"),
        "{}",
        callee.text
    );
    let caller = section(SectionKind::Caller, "Caller: Shop.Store.fetch_all/1");
    assert!(
        caller
            .text
            .contains("def fetch_all(ids), do: Enum.map(ids, &fetch/1)"),
        "{}",
        caller.text
    );
    // The target of a function a `use` defines: its quote shown once, as the
    // `__using__` that writes it (EventStore's `append_to_stream/5`), not again as each
    // using module's function.
    let ctx = build(&source, &graph, "Shop.Inventory.add/1", None);
    let titles: Vec<&str> = ctx.sections.iter().map(|s| s.title.as_str()).collect();
    let all: String = ctx.sections.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        all.matches("def restock(id), do: Shop.Inventory.add(id)")
            .count(),
        1,
        "{titles:#?}"
    );
    // A function a `use` defines calling itself (at another arity) is its target only,
    // not its callee nor its caller too (Quantum's `add_job/2`).
    let ctx = build(&source, &graph, "Shop.Store.add/2", None);
    let titles: Vec<&str> = ctx.sections.iter().map(|s| s.title.as_str()).collect();
    assert!(
        !(titles.iter()).any(|t| t.contains("Shop.Store.add/") && !t.starts_with("Target")),
        "{titles:#?}"
    );
}

/// A caller the context cannot show by a chunk of its own (a module body calling a
/// macro, as a `scenario "…" do` a library imports) is still named among the other callers.
#[test]
fn a_caller_without_a_chunk_of_its_own_is_named() {
    let sources = [
        (
            "lib/shop/feature.ex",
            concat!(
                "defmodule Shop.Feature do\n",
                "  defmacro scenario(name, do: block) do\n",
                "    quote do: {unquote(name), unquote(block)}\n",
                "  end\n",
                "end\n",
            ),
        ),
        (
            "test/shop/feature_test.exs",
            concat!(
                "defmodule Shop.FeatureTest do\n",
                "  import Shop.Feature\n",
                "\n",
                "  scenario \"fails\" do\n",
                "    :ok\n",
                "  end\n",
                "end\n",
            ),
        ),
    ];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    let callers: Vec<String> = (graph.callers("Shop.Feature.scenario/2").into_iter())
        .map(|s| s.symbol)
        .collect();
    assert_eq!(callers.len(), 1, "{callers:?}");
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Shop.Feature.scenario/2", None);
    let named = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Caller)
        .any(|s| s.text.contains("Shop.FeatureTest") || s.title.contains("Shop.FeatureTest"));
    let shown: Vec<(SectionKind, &str, &str)> = (ctx.sections.iter())
        .map(|s| (s.kind, s.title.as_str(), s.text.as_str()))
        .collect();
    assert!(named, "{callers:?}: {shown:#?}");
}

/// A module cut to its functions' heads shows every clause's head once (a server's
/// `handle_info/2` by each message it takes), not one head per part of a split function
/// (Claper's `EventLive.Show`, Kino's `Input.image/2`).
#[test]
fn a_module_cut_to_heads_shows_each_clause_once() {
    // Some written `def f(…),` with `do:` on the next line, as `mix format` cuts them.
    let clauses: String = (0..40)
        .map(|i| match i % 3 {
            // A guard on the next line, as `mix format` puts a long one.
            2 if i < 39 => format!(
                "  def handle_info({{:msg{i}, payload}}, socket)\n      when is_map(payload) do\n    Logger.debug(\"got message {i} with a long enough line of text to weigh\")\n    {{:noreply, assign(socket, :m{i}, payload)}}\n  end\n\n"
            ),
            1 => format!(
                "  def handle_info({{:msg{i}, payload}}, socket),\n    do: {{:noreply, assign(socket, :m{i}, payload, \"a long enough line of text to weigh\")}}\n\n"
            ),
            _ => format!(
                "  def handle_info({{:msg{i}, payload}}, socket) do\n    socket = assign(socket, :m{i}, payload)\n    Logger.debug(\"got message {i} with a long enough line of text to weigh\")\n    {{:noreply, socket}}\n  end\n\n"
            ),
        })
        .collect();
    let src = format!(
        "defmodule Show do\n  @moduledoc \"Shows.\"\n\n  def mount(_p, _s, socket),\n    do: {{:ok, socket}}\n\n{clauses}end\n"
    );
    let chunks = unmerged_chunks(&[("lib/show.ex", src.as_str())]);
    let parts = (chunks.iter())
        .filter(|c| c.name == "handle_info" && c.part.is_some())
        .count();
    assert!(parts > 1, "the function is split: {parts} parts");
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let whole = build(&source, &graph, "Show", None);
    let ctx = build(&source, &graph, "Show", Some(whole.tokens * 2 / 5));
    let prompt = ctx.render();
    assert!(prompt.contains("functions by their heads]"), "{prompt}");
    let target = &prompt[prompt.find("## Target: Show").expect("a target section")..];
    let target = &target[..target[3..].find("\n## ").map_or(target.len(), |e| e + 3)];
    // Each clause once: by its head, or whole where the budget keeps the first ones so.
    for i in 0..40 {
        let head = format!("def handle_info({{:msg{i}, payload}}, socket)");
        assert_eq!(target.matches(&head).count(), 1, "{head}: {prompt}");
    }
    assert_eq!(
        target.matches("def mount(_p, _s, socket)").count(),
        1,
        "{prompt}"
    );
    assert!(
        target.contains("def handle_info({:msg39, payload}, socket)\n"),
        "the last by its head: {prompt}"
    );
}

/// A server callback split in parts, reached through a message, shows the part with the
/// clause that takes the message, not its first part (Sequin's `produce/3` sends
/// `{:produce, …}`, taken in the seventh of eight parts).
#[test]
fn a_split_callback_shows_the_part_taking_the_message() {
    let clauses: String = (0..30)
        .map(|i| {
            format!(
                "  def handle_call({{:op{i}, payload}}, _from, state) do\n    state = Map.put(state, :k{i}, payload)\n    Logger.debug(\"handled op {i} with a long enough line of text to weigh\")\n    {{:reply, :ok, state}}\n  end\n\n"
            )
        })
        .collect();
    let src = format!(
        "defmodule Store do\n  use GenServer\n\n  def produce(server, n), do: GenServer.call(server, {{:op27, n}})\n\n{clauses}end\n"
    );
    let chunks = unmerged_chunks(&[("lib/store.ex", src.as_str())]);
    let parts = (chunks.iter())
        .filter(|c| c.name == "handle_call" && c.part.is_some())
        .count();
    assert!(parts > 3, "the callback is split: {parts} parts");
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let prompt = build(&source, &graph, "Store.produce/2", None).render();
    let callee = &prompt[prompt
        .find("## Called: Store.handle_call/3")
        .expect("a callee")..];
    let callee = &callee[..callee[3..].find("\n## ").map_or(callee.len(), |e| e + 3)];
    assert!(
        callee.contains("def handle_call({:op27, payload}, _from, state) do"),
        "{prompt}"
    );
    assert!(!callee.contains("{:op0, payload}"), "{prompt}");
}

/// A module header in parts apart (module code between functions) is one section, its
/// parts in order (ex_doc's `HTML.Templates`, whose templates are compiled below its
/// functions).
#[test]
fn a_module_header_in_parts_apart_is_one_section() {
    let later: String = (0..12)
        .map(|i| {
            format!("  Module.register_attribute(__MODULE__, :template_{i}, accumulate: true)\n")
        })
        .collect();
    let src = format!(
        "defmodule Docs.Templates do\n  @moduledoc \"Templates.\"\n\n  def render_doc(doc), do: doc\n\n{later}\n  def other(x), do: render_doc(x)\nend\n"
    );
    let chunks = unmerged_chunks(&[("lib/docs/templates.ex", src.as_str())]);
    let headers = (chunks.iter())
        .filter(|c| c.kind == ChunkKind::ModuleHeader)
        .count();
    assert!(headers >= 2, "two header parts: {chunks:#?}");
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Docs.Templates.render_doc/1", None);
    let sections: Vec<&str> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::ModuleHeader)
        .map(|s| s.title.as_str())
        .collect();
    assert_eq!(sections.len(), 1, "{sections:?}");
    assert!(sections[0].contains(", "), "both ranges: {sections:?}");
    let prompt = ctx.render();
    assert!(prompt.contains(":template_11"), "{prompt}");
    assert!(prompt.contains("@moduledoc"), "{prompt}");
}

/// A callee that only delegates (`defdelegate make_version/2, to: Trail.Serializer`) is
/// followed by the function it delegates to, the code that runs (PaperTrail's `Multi`).
#[test]
fn a_delegating_callee_brings_what_it_delegates_to() {
    let sources = [
        (
            "lib/trail/multi.ex",
            concat!(
                "defmodule Trail.Multi do\n",
                "  defdelegate make_version(event, model), to: Trail.Serializer\n",
                "  defdelegate serialize(model), to: Trail.Serializer\n",
                "\n",
                "  def insert(multi, changeset) do\n",
                "    version = make_version(%{event: \"insert\"}, changeset)\n",
                "    Map.put(multi, :version, serialize(version))\n",
                "  end\n",
                "end\n",
            ),
        ),
        (
            "lib/trail/serializer.ex",
            concat!(
                "defmodule Trail.Serializer do\n",
                "  def make_version(event, model) do\n",
                "    %{event: event, item: model, at: :os.system_time()}\n",
                "  end\n",
                "  def serialize(model), do: Map.from_struct(model)\n",
                "end\n",
            ),
        ),
    ];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Trail.Multi.insert/2", None);
    let titles: Vec<&str> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Callee)
        .map(|s| s.title.as_str())
        .collect();
    for callee in [
        "Called: Trail.Multi.make_version/2",
        "Called: Trail.Serializer.make_version/2",
        "Called: Trail.Serializer.serialize/1",
    ] {
        assert!(
            titles.iter().any(|t| t.starts_with(callee)),
            "{callee}: {titles:#?}"
        );
    }
}

/// A caller a `use` defines, shown by its quote's clauses, is not shown again as the part
/// of the split `__using__` that writes it (Mojito's `request/1`, 40 lines twice).
#[test]
fn a_quote_shown_for_its_function_is_not_shown_again_as_its_using_part() {
    let body: String = (0..12)
        .map(|i| format!("        step_{i} = Shop.Audit.note(:restock, {i})\n"))
        .collect();
    let base = format!(
        concat!(
            "defmodule Shop.Base do\n",
            "  defmacro __using__(_) do\n",
            "    quote do\n",
            "      def fetch(id) do\n",
            "        a = Shop.Audit.note(:fetch, id)\n",
            "        b = Shop.Audit.note(:fetch, a)\n",
            "        c = Shop.Audit.note(:fetch, b)\n",
            "        {{a, b, c}}\n",
            "      end\n",
            "\n",
            "      def restock(id) do\n",
            "{body}",
            "        Shop.Inventory.add(id)\n",
            "      end\n",
            "    end\n",
            "  end\n",
            "end\n",
        ),
        body = body
    );
    let sources = [
        (
            "lib/a_store.ex",
            "defmodule Shop.Store do\n  use Shop.Base\nend\n",
        ),
        ("lib/shop/base.ex", base.as_str()),
        (
            "lib/shop/inventory.ex",
            "defmodule Shop.Inventory do\n  def add(id), do: id\nend\n",
        ),
    ];
    let chunks = split_chunks(&sources, 120);
    assert!(
        chunks
            .iter()
            .any(|c| c.name == "__using__" && c.part.is_some_and(|(_, n)| n > 1)),
        "the __using__ is split"
    );
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Shop.Inventory.add/1", Some(8_000));
    let titles: Vec<&str> = ctx.sections.iter().map(|s| s.title.as_str()).collect();
    let all: String = ctx.sections.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        all.matches("step_11 = Shop.Audit.note(:restock, 11)")
            .count(),
        1,
        "{titles:#?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("Caller: Shop.Store.restock/1")),
        "{titles:#?}"
    );
}

/// A module target whose functions a `use` defines (Mojito: eight lines, and fourteen
/// functions `use Mojito.Base` writes) lists them by their heads, with their quotes.
#[test]
fn a_module_target_lists_the_functions_a_use_defines_in_it() {
    let sources = [(
        "lib/shop.ex",
        concat!(
            "defmodule Shop.Base do\n",
            "  defmacro __using__(_) do\n",
            "    quote do\n",
            "      def fetch(id), do: {:ok, id}\n",
            "      def restock(id, count \\\\ 1), do: {id, count}\n",
            "    end\n",
            "  end\n",
            "end\n",
            "defmodule Shop.Store do\n",
            "  @moduledoc \"The store.\"\n",
            "  use Shop.Base\n",
            "end\n",
        ),
    )];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Shop.Store", None);
    let titles: Vec<&str> = ctx.sections.iter().map(|s| s.title.as_str()).collect();
    let listed = (ctx.sections.iter())
        .find(|s| s.title == "Functions defined in Shop.Store by `use Shop.Base`")
        .unwrap_or_else(|| panic!("{titles:#?}"));
    assert!(
        listed.text.contains("def fetch(id)  # lib/shop.ex:4"),
        "{}",
        listed.text
    );
    assert!(
        listed.text.contains("def restock(id, count \\\\ 1)"),
        "{}",
        listed.text
    );
    // Listed once, though defined at two arities.
    assert_eq!(
        listed.text.matches("def restock").count(),
        1,
        "{}",
        listed.text
    );
}

/// A function a question names, split in parts, reads as one block, as written (a
/// target's and a search hit's do): not one section a part, the second starting in the
/// middle of a `try` (Commanded's `Multi.run/1`).
#[test]
fn a_split_function_a_question_names_reads_as_one_block() {
    let steps: String = (0..14)
        .map(|i| format!("      step_{i} = Shop.Audit.note(:run, {i})\n"))
        .collect();
    let src = format!(
        concat!(
            "defmodule Shop.Multi do\n",
            "  def run(multi) do\n",
            "    try do\n",
            "{steps}",
            "      multi\n",
            "    catch\n",
            "      :error -> multi\n",
            "    end\n",
            "  end\n",
            "end\n",
        ),
        steps = steps
    );
    let chunks = split_chunks(&[("lib/shop/multi.ex", src.as_str())], 300);
    assert!(
        chunks
            .iter()
            .filter(|c| c.name == "run" && c.part.is_some())
            .count()
            >= 2,
        "run/1 is split for this test"
    );
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = ask(&source, &graph, "how does Shop.Multi.run apply its steps");
    let named: Vec<&aiex_node::context::Section> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Named)
        .collect();
    assert_eq!(named.len(), 1, "{named:#?}");
    assert!(named[0].text.contains("step_0 = "), "{}", named[0].text);
    assert!(
        named[0].text.contains(":error -> multi"),
        "{}",
        named[0].text
    );
}

/// Lines of a file holding one function read as that function's target: the types its
/// code names (not every documented type of the module) and its callers and callees
/// (Mint's `http2.ex:2119-2140`, exactly `handle_rst_stream/3`).
#[test]
fn lines_holding_one_function_bring_its_calls_and_only_its_types() {
    let sources = [(
        "lib/shop/stock.ex",
        concat!(
            "defmodule Shop.Stock do\n",             // 1
            "  @typedoc \"A setting.\"\n",           // 2
            "  @type setting :: {atom(), term()}\n", // 3
            "\n",                                    // 4
            "  def reserve(sku) do\n",               // 5
            "    sku |> lookup() |> hold()\n",       // 6
            "  end\n",                               // 7
            "\n",                                    // 8
            "  defp lookup(sku), do: {sku, 1}\n",    // 9
            "  defp hold(x), do: x\n",               // 10
            "  def check(sku), do: reserve(sku)\n",  // 11
            "end\n",                                 // 12
        ),
    )];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "lib/shop/stock.ex:5-7", None);
    let titles: Vec<&str> = ctx.sections.iter().map(|s| s.title.as_str()).collect();
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("Called: Shop.Stock.lookup/1")),
        "{titles:#?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("Caller: Shop.Stock.check/1")),
        "{titles:#?}"
    );
    assert!(
        !titles
            .iter()
            .any(|t| t.starts_with("Type: Shop.Stock.setting")),
        "{titles:#?}"
    );
    // The blank line an editor's selection takes in after the function (the next
    // chunk's first) counts for no function; lines holding two bring both's calls.
    for (range, callee, caller) in [
        (
            "lib/shop/stock.ex:5-8",
            "Called: Shop.Stock.lookup/1",
            "Caller: Shop.Stock.check/1",
        ),
        // `reserve/1` calls two of them, and is called by the third: shown once.
        (
            "lib/shop/stock.ex:9-11",
            "Caller: Shop.Stock.reserve/1",
            "Caller: Shop.Stock.reserve/1",
        ),
    ] {
        let ctx = build(&source, &graph, range, None);
        let titles: Vec<&str> = ctx.sections.iter().map(|s| s.title.as_str()).collect();
        for want in [callee, caller] {
            assert!(
                titles.iter().any(|t| t.starts_with(want)),
                "{range}: {want}: {titles:#?}"
            );
        }
    }
    let ctx = build(&source, &graph, "lib/shop/stock.ex:5-8", None);
    let target = (ctx.sections.iter())
        .find(|s| s.title.starts_with("Target"))
        .unwrap();
    assert!(!target.text.contains("defp lookup"), "{}", target.text);
}

/// A callee its module both declares as a `@callback` and defines (Swarm's
/// `Strategy.key_to_node/2` dispatching to the strategy) is shown once, by its function.
#[test]
fn a_callee_declared_as_a_callback_too_is_shown_by_its_function_once() {
    let sources = [
        (
            "lib/swarm/distribution/strategy.ex",
            concat!(
                "defmodule Swarm.Distribution.Strategy do\n",
                "  @moduledoc \"\"\"\n",
                "  This module implements the interface for custom distribution strategies.\n",
                "  The default strategy used by Swarm is a consistent hash ring.\n",
                "  \"\"\"\n",
                "  defmacro __using__(_), do: quote(do: @behaviour Swarm.Distribution.Strategy)\n",
                "  @type strategy :: term\n",
                "  @type key :: term\n",
                "  @callback create() :: strategy\n",
                "  @callback key_to_node(strategy, key) :: node() | :undefined\n",
                "\n",
                "  def key_to_node(strategy, key), do: strategy.__struct__.key_to_node(strategy, key)\n",
                "end\n",
            ),
        ),
        (
            "lib/swarm/tracker.ex",
            concat!(
                "defmodule Swarm.Tracker do\n",
                "  alias Swarm.Distribution.Strategy\n",
                "  def handle_topology_change(strategy, name) do\n",
                "    Strategy.key_to_node(strategy, name)\n",
                "  end\n",
                "end\n",
            ),
        ),
    ];
    // The types and callbacks after a definition are a chunk of their own, as Swarm's are.
    let chunks = unmerged_chunks(&sources);
    assert!(
        chunks.iter().any(|c| c.kind == ChunkKind::Type),
        "{:#?}",
        chunks
            .iter()
            .map(|c| (c.kind, c.start_line))
            .collect::<Vec<_>>()
    );
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(
        &source,
        &graph,
        "Swarm.Tracker.handle_topology_change/2",
        None,
    );
    let called: Vec<&str> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Callee)
        .map(|s| s.title.as_str())
        .collect();
    assert_eq!(called.len(), 1, "{called:#?}");
    assert!(
        called[0].starts_with("Called: Swarm.Distribution.Strategy.key_to_node/2 (lib/swarm/distribution/strategy.ex:11"),
        "{called:#?}"
    );
}

/// A Makeup style set as a module attribute of 40-odd lines: a header part of its own.
fn makeup_style(name: &str) -> String {
    let rules: String = (0..40)
        .map(|i| format!("        :token_{i} => \"#{i:06x} bold\",\n"))
        .collect();
    format!(
        "  @{name}_style Style.make_style(\n      short_name: \"{name}\",\n      styles: %{{\n{rules}      }}\n    )\n"
    )
}

/// A function's context shows the header parts that make its module, not those that
/// only set data attributes (Makeup's 21 styles, each a part of its own): the attribute
/// the function reads comes whole as the attributes it reads.
#[test]
fn a_function_reads_its_data_attribute_not_every_other() {
    let src = format!(
        "defmodule Makeup.StyleMap do\n  @moduledoc \"All styles.\"\n  alias Makeup.Style\n\n{}\n  def abap_style, do: @abap_style\n\n{}\n  def autumn_style, do: @autumn_style\n\n{}\n  def colorful_style, do: @colorful_style\nend\n",
        makeup_style("abap"),
        makeup_style("autumn"),
        makeup_style("colorful"),
    );
    let chunks = unmerged_chunks(&[("lib/makeup/style_map.ex", &src)]);
    let headers = (chunks.iter())
        .filter(|c| c.kind == ChunkKind::ModuleHeader)
        .count();
    assert!(headers >= 3, "the styles are header parts: {headers}");
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(
        &source,
        &graph,
        "Makeup.StyleMap.autumn_style/0",
        Some(8000),
    );
    let header = (ctx.sections.iter())
        .find(|s| s.title.starts_with("Module header:"))
        .unwrap_or_else(|| panic!("{:#?}", ctx.sections));
    assert!(!header.text.contains("@autumn_style"), "{}", header.text);
    assert!(!header.text.contains("@colorful_style"), "{}", header.text);
    let read = (ctx.sections.iter())
        .find(|s| s.title.starts_with("Module attributes read:"))
        .unwrap_or_else(|| panic!("{:#?}", ctx.sections));
    assert!(read.text.contains("@autumn_style"), "{}", read.text);
    assert!(read.text.contains(":token_39"), "whole: {}", read.text);
    assert!(!read.text.contains("@colorful_style"), "{}", read.text);
}

/// Callers not shown are named once per module for its code outside functions: Makeup's
/// 21 style attributes, each a header part calling `make_style/1`, are one name.
#[test]
fn callers_in_a_modules_header_parts_are_named_once() {
    let mut map = String::from("defmodule Makeup.StyleMap do\n  alias Makeup.Style\n");
    for name in ["abap", "autumn", "colorful", "default", "emacs", "friendly"] {
        map.push_str(&format!(
            "\n  def {name}, do: @{name}_style\n\n{}",
            makeup_style(name)
        ));
    }
    map.push_str("end\n");
    let style_src =
        "defmodule Makeup.Style do\n  def make_style(options \\\\ []), do: Map.new(options)\nend\n";
    let chunks = unmerged_chunks(&[
        ("lib/makeup/style_map.ex", &map),
        ("lib/makeup/style.ex", style_src),
    ]);
    let graph = SymbolGraph::build(&chunks);
    assert!(graph.callers("Makeup.Style.make_style/1").len() >= 5);
    let source = Mem(chunks);
    let ctx = build(&source, &graph, "Makeup.Style.make_style/1", Some(400));
    let others = (ctx.sections.iter())
        .find(|s| s.title.starts_with("Other callers"))
        .unwrap_or_else(|| panic!("{:#?}", ctx.sections));
    assert_eq!(
        others.text.trim(),
        "Makeup.StyleMap (lib/makeup/style_map.ex)",
        "{}",
        others.title
    );
}

/// A function a `use` defines, called by another arity that the quote writes apart
/// (Honeybadger's `filter_map/1` above the `filter_map/2` it calls), has that caller: its
/// clauses are not the target's.
#[test]
fn a_use_defined_caller_at_another_arity_written_apart_is_a_caller() {
    let sources = [(
        "lib/honeybadger/filter.ex",
        concat!(
            "defmodule Honeybadger.Filter.Mixin do\n",
            "  defmacro __using__(_) do\n",
            "    quote location: :keep do\n",
            "      def filter_context(context), do: filter_map(context)\n",
            "\n",
            "      @doc false\n",
            "      def filter_map(map) do\n",
            "        filter_map(map, Honeybadger.get_env(:filter_keys))\n",
            "      end\n",
            "\n",
            "      def filter_map(map, keys) when is_list(keys) do\n",
            "        Map.drop(map, keys)\n",
            "      end\n",
            "\n",
            "      def filter_map(map, _keys), do: map\n",
            "    end\n",
            "  end\n",
            "end\n",
            "\n",
            "defmodule Honeybadger.Filter.Default do\n",
            "  use Honeybadger.Filter.Mixin\n",
            "end\n",
        ),
    )];
    let chunks = unmerged_chunks(&sources);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks);
    let ctx = build(
        &source,
        &graph,
        "Honeybadger.Filter.Default.filter_map/2",
        None,
    );
    let caller = (ctx.sections.iter())
        .find(|s| s.title == "Caller: Honeybadger.Filter.Default.filter_map/1")
        .unwrap_or_else(|| {
            let titles: Vec<&str> = ctx.sections.iter().map(|s| s.title.as_str()).collect();
            panic!("{titles:#?}")
        });
    assert!(
        caller
            .text
            .contains("filter_map(map, Honeybadger.get_env(:filter_keys))"),
        "{}",
        caller.text
    );
}

/// Lines holding two functions whose callers share a long caller split in parts (one
/// part calling each): the caller comes once, its calling parts together as written.
/// Lines inside such a caller are its whole definition, every part (the callees listed
/// are the whole function's).
#[test]
fn a_range_s_functions_share_a_split_caller_and_lines_in_a_split_function_bring_it_whole() {
    let body: String = (1..=30)
        .map(|i| format!("    order = Shop.Audit.note(order, :step_{i}, \"checked the basket\")\n"))
        .collect();
    let orders = format!(
        "defmodule Shop.Orders do\n  alias Shop.Payments\n\n  def place(order, opts \\\\ []) do\n    order = Payments.charge(order)\n{body}{body}    Payments.refund({{order, opts}})\n  end\nend\n"
    );
    let payments = concat!(
        "defmodule Shop.Payments do\n",
        "  def charge(order), do: {:ok, order}\n",
        "  def refund(order), do: {:ok, order}\n",
        "end\n",
    );
    let audit = "defmodule Shop.Audit do\n  def note(order, _step, _text), do: order\nend\n";
    let chunks = split_chunks(
        &[
            ("lib/shop/orders.ex", orders.as_str()),
            ("lib/shop/payments.ex", payments),
            ("lib/shop/audit.ex", audit),
        ],
        ChunkerConfig::default().budget,
    );
    let parts: Vec<&Chunk> = (chunks.iter())
        .filter(|c| c.path == "lib/shop/orders.ex" && c.part.is_some())
        .collect();
    assert!(parts.len() >= 2, "place/1 is split: {chunks:#?}");
    let calling: Vec<String> = (parts.iter())
        .filter(|p| p.content.contains("Payments.charge") || p.content.contains("Payments.refund"))
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(calling.len(), 2, "{parts:#?}");
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks.clone());
    let ctx = build(&source, &graph, "lib/shop/payments.ex:2-3", None);
    let callers: Vec<_> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Caller)
        .collect();
    assert_eq!(callers.len(), 1, "{:#?}", ctx.sections);
    assert_eq!(callers[0].chunk_ids, calling, "{}", callers[0].title);
    // A later part of a caller with a default argument is named by its arities.
    let ctx = build(&source, &graph, "Shop.Payments.refund/1", None);
    let caller = (ctx.sections.iter())
        .find(|s| s.kind == SectionKind::Caller)
        .expect("a caller");
    assert!(
        caller.title.starts_with("Caller: Shop.Orders.place/1..2 ("),
        "{}",
        caller.title
    );
    // Lines in the middle of `place/1..2`: all of it.
    let middle = parts[1];
    let lines = format!(
        "lib/shop/orders.ex:{}-{}",
        middle.start_line + 1,
        middle.start_line + 2
    );
    let ctx = build(&source, &graph, &lines, None);
    let target = (ctx.sections.iter())
        .find(|s| s.kind == SectionKind::Target)
        .expect("a target");
    let all: Vec<String> = parts.iter().map(|p| p.id.clone()).collect();
    assert_eq!(target.chunk_ids, all, "{}", target.title);
}

/// A copy of a standard library module kept as data (Sourceror's
/// `benchmarks/data/kernel.ex`) is no callee of the project's code, nor an entry of a map
/// focused on it; asked for itself, it is shown.
#[test]
fn a_standard_library_copy_kept_as_data_is_no_callee() {
    let chunks = unmerged_chunks(&[
        (
            "lib/shop/patch.ex",
            "defmodule Shop.Patch do\n  def rename(name), do: Shop.Names.clean(to_string(name))\nend\n",
        ),
        (
            "lib/shop/names.ex",
            "defmodule Shop.Names do\n  def clean(name), do: String.trim(name)\nend\n",
        ),
        (
            "benchmarks/data/kernel.ex",
            "defmodule Kernel do\n  @doc \"Converts to a string.\"\n  def to_string(term), do: String.Chars.to_string(term)\nend\n",
        ),
    ]);
    let graph = SymbolGraph::build(&chunks);
    assert!(
        graph
            .callees("Shop.Patch.rename/1")
            .contains(&"Kernel.to_string/1".to_string())
    );
    let source = Mem(chunks.clone());
    let ctx = build(&source, &graph, "Shop.Patch.rename/1", None);
    let called: Vec<&str> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Callee)
        .map(|s| s.title.as_str())
        .collect();
    assert_eq!(called.len(), 1, "{called:?}");
    assert!(
        called[0].starts_with("Called: Shop.Names.clean/1"),
        "{called:?}"
    );
    let (map, _) = graph.repo_map(2000, &["Shop.Patch.rename/1".to_string()]);
    assert!(!map.contains("to_string"), "{map}");
    assert!(map.contains("clean"), "{map}");
    let (map, _) = graph.repo_map(2000, &["Kernel.to_string/1".to_string()]);
    assert!(map.contains("to_string"), "{map}");
}

/// Lines holding a test bring what the test calls: the code under test.
#[test]
fn a_test_s_lines_bring_the_code_under_test() {
    let chunks = unmerged_chunks(&[
        (
            "lib/shop/stock.ex",
            "defmodule Shop.Stock do\n  @doc \"Reserves stock.\"\n  def reserve(sku, n), do: {sku, n}\nend\n",
        ),
        (
            "test/shop/stock_test.exs",
            "defmodule Shop.StockTest do\n  use ExUnit.Case\n\n  test \"reserves\" do\n    assert Shop.Stock.reserve(:a, 1) == {:a, 1}\n  end\nend\n",
        ),
    ]);
    let graph = SymbolGraph::build(&chunks);
    let source = Mem(chunks.clone());
    let ctx = build(&source, &graph, "test/shop/stock_test.exs:4-6", None);
    let called: Vec<&str> = (ctx.sections.iter())
        .filter(|s| s.kind == SectionKind::Callee)
        .map(|s| s.title.as_str())
        .collect();
    assert_eq!(called.len(), 1, "{:#?}", ctx.sections);
    assert!(
        called[0].starts_with("Called: Shop.Stock.reserve/2"),
        "{called:?}"
    );
}
