//! Search and the symbol graph over the real Elixir standard library.

use aiex_node::chunk::{ChunkKind, Visibility};
use aiex_node::graph::SymbolSite;
use aiex_node::search::{Filters, SearchHit, SearchRequest};
use aiex_tests::elixir_index;

fn search(query: &str, filters: Filters, limit: usize) -> Vec<SearchHit> {
    elixir_index()
        .search(&SearchRequest {
            query: query.into(),
            filters,
            limit,
        })
        .expect("search")
}

/// Whether the hit defines `Mod.fun/arity` (or, for `Mod.fun`, any arity of it).
fn defines(hit: &SearchHit, symbol: &str) -> bool {
    hit.chunk
        .defines
        .iter()
        .flat_map(|d| d.symbols())
        .any(|s| s == symbol || (!symbol.contains('/') && s.starts_with(&format!("{symbol}/"))))
}

#[test]
fn identifier_queries_hit_the_definition_first() {
    let cases = [
        (
            "GenServer.call",
            "lib/elixir/lib/gen_server.ex",
            "GenServer.call",
        ),
        (
            "GenServer.call/3",
            "lib/elixir/lib/gen_server.ex",
            "GenServer.call/3",
        ),
        ("String.split", "lib/elixir/lib/string.ex", "String.split"),
        ("Enum.map", "lib/elixir/lib/enum.ex", "Enum.map"),
        (
            "Keyword.get/3",
            "lib/elixir/lib/keyword.ex",
            "Keyword.get/3",
        ),
        ("Path.join", "lib/elixir/lib/path.ex", "Path.join"),
        // The module named whole before one ending in its name (`Mix.Config`,
        // `EEx.SyntaxError`).
        ("Config", "lib/elixir/lib/config.ex", "Config"),
        (
            "Config.config/3",
            "lib/elixir/lib/config.ex",
            "Config.config/3",
        ),
        (
            "SyntaxError.message/1",
            "lib/elixir/lib/exception.ex",
            "SyntaxError.message/1",
        ),
        // Operators are definitions too.
        ("Kernel.<>/2", "lib/elixir/lib/kernel.ex", "Kernel.<>/2"),
        ("Kernel.+/2", "lib/elixir/lib/kernel.ex", "Kernel.+/2"),
        ("Kernel.=~", "lib/elixir/lib/kernel.ex", "Kernel.=~/2"),
        ("|>", "lib/elixir/lib/kernel.ex", "Kernel.|>/2"),
        ("Kernel.../2", "lib/elixir/lib/kernel.ex", "Kernel.../2"),
        // A bare `..` is the range, not the dot of `Kernel.SpecialForms`; a bare `/` is
        // shown as itself.
        ("..", "lib/elixir/lib/kernel.ex", "Kernel..."),
        ("../2", "lib/elixir/lib/kernel.ex", "Kernel.../2"),
        ("/", "lib/elixir/lib/kernel.ex", "Kernel.//2"),
        (
            "Kernel.SpecialForms../2",
            "lib/elixir/lib/kernel/special_forms.ex",
            "Kernel.SpecialForms../2",
        ),
        // Case tells `sigil_R` and `sigil_r` apart, though keys match without it too.
        (
            "Kernel.sigil_R/2",
            "lib/elixir/lib/kernel.ex",
            "Kernel.sigil_R/2",
        ),
        ("sigil_R", "lib/elixir/lib/kernel.ex", "Kernel.sigil_R/2"),
        (
            "Kernel.sigil_r/2",
            "lib/elixir/lib/kernel.ex",
            "Kernel.sigil_r/2",
        ),
        ("sigil_r", "lib/elixir/lib/kernel.ex", "Kernel.sigil_r/2"),
        // The exact keys' mark must not make `==` another operator's exact key.
        ("Kernel.==/2", "lib/elixir/lib/kernel.ex", "Kernel.==/2"),
        ("Kernel.===/2", "lib/elixir/lib/kernel.ex", "Kernel.===/2"),
        ("===", "lib/elixir/lib/kernel.ex", "Kernel.===/2"),
        // `::` is an operator, though colons also end words and begin atoms.
        (
            "Kernel.SpecialForms.::/2",
            "lib/elixir/lib/kernel/special_forms.ex",
            "Kernel.SpecialForms.::/2",
        ),
        (
            "::",
            "lib/elixir/lib/kernel/special_forms.ex",
            "Kernel.SpecialForms.::/2",
        ),
        // Split for size, their `@doc` a part of its own: the hit is the part with the
        // `def` line.
        ("Kernel.exit/1", "lib/elixir/lib/kernel.ex", "Kernel.exit/1"),
        (
            "String.split/2",
            "lib/elixir/lib/string.ex",
            "String.split/2",
        ),
        ("URI.parse/1", "lib/elixir/lib/uri.ex", "URI.parse/1"),
        (
            "OptionParser.parse/2",
            "lib/elixir/lib/option_parser.ex",
            "OptionParser.parse/2",
        ),
        ("Enum.sort/2", "lib/elixir/lib/enum.ex", "Enum.sort/2"),
        // A capture, the full module name, an arity not typed yet.
        ("&Enum.map/2", "lib/elixir/lib/enum.ex", "Enum.map/2"),
        ("Elixir.Enum.map/2", "lib/elixir/lib/enum.ex", "Enum.map/2"),
        ("Enum.map/", "lib/elixir/lib/enum.ex", "Enum.map"),
        // Named by `unquote(:name)` or an operator in parentheses.
        (
            "Kernel.SpecialForms.fn/1",
            "lib/elixir/lib/kernel/special_forms.ex",
            "Kernel.SpecialForms.fn/1",
        ),
        (
            "Kernel.SpecialForms.unquote_splicing/1",
            "lib/elixir/lib/kernel/special_forms.ex",
            "Kernel.SpecialForms.unquote_splicing/1",
        ),
        (
            "Bitwise.~~~/1",
            "lib/elixir/lib/bitwise.ex",
            "Bitwise.~~~/1",
        ),
        ("Kernel.../0", "lib/elixir/lib/kernel.ex", "Kernel.../0"),
        // Defined once per level by `for level <- @levels do defmacro unquote(level)(…)`.
        ("Logger.info/2", "lib/logger/lib/logger.ex", "Logger.info/2"),
        (
            "Logger.warning",
            "lib/logger/lib/logger.ex",
            "Logger.warning",
        ),
    ];
    // Every sigil whose name differs from another's in case alone, qualified and bare:
    // the one named as written comes first, however often the other's doc names it.
    let sigils: Vec<(String, String)> = ["s", "S", "c", "C", "w", "W", "r", "R"]
        .iter()
        .flat_map(|l| {
            let symbol = format!("Kernel.sigil_{l}/2");
            [
                (symbol.clone(), symbol.clone()),
                (format!("sigil_{l}"), symbol),
            ]
        })
        .collect();
    let cases = cases.into_iter().chain(
        sigils
            .iter()
            .map(|(q, s)| (q.as_str(), "lib/elixir/lib/kernel.ex", s.as_str())),
    );
    for (query, path, symbol) in cases {
        let hits = search(query, Filters::default(), 5);
        let first = hits
            .first()
            .unwrap_or_else(|| panic!("no hits for {query}"));
        assert_eq!(
            first.chunk.path, path,
            "{query}: first hit {}",
            first.symbol
        );
        assert!(
            defines(first, symbol),
            "{query}: first hit {} does not define {symbol}",
            first.symbol
        );
        // The hit shows the definition's head, not only its doc.
        let c = &first.chunk;
        assert!(
            c.defines
                .iter()
                .filter(|d| d.symbols().iter().any(|s| s.starts_with(symbol)))
                .all(|d| c.start_line <= d.line && d.line <= c.end_line),
            "{query}: lines {}-{} of {} leave out the definition's head",
            c.start_line,
            c.end_line,
            first.symbol
        );
    }
    // An operator alone shows as itself, not as the first definition of its chunk.
    for (query, shown) in [
        ("/", "Kernel.//2"),
        ("../2", "Kernel.../2"),
        ("|>", "Kernel.|>/2"),
    ] {
        let hits = search(query, Filters::default(), 3);
        assert_eq!(
            hits.first().map(|h| h.symbol.as_str()),
            Some(shown),
            "{query}"
        );
    }
}

/// A question naming a function by the end of its module (`Typespec` for
/// `Kernel.Typespec`) finds that function first, though another module's function of that
/// name matches the words alike: in a question the module named whole is not preferred.
#[test]
fn a_question_naming_a_function_by_its_module_s_end_finds_it() {
    for (question, symbol) in [
        (
            "what does Typespec.defines_type? return",
            "Kernel.Typespec.defines_type?/2",
        ),
        (
            "explain the options of Range.slice and its errors",
            "Enumerable.Range.slice/1",
        ),
    ] {
        let hits = search(question, Filters::default(), 5);
        let first = hits.first().expect("hits");
        assert!(
            defines(first, symbol),
            "{question}: first {} ({})",
            first.symbol,
            first.chunk.path
        );
    }
}

/// Every public function, macro, guard and delegate the standard library's `lib/`
/// defines is the first hit of a search for its `Mod.fun/arity`, and for its `Mod.fun`:
/// over 4,000 names, among them modules that end in another's name (`Mix.Config`,
/// `EEx.SyntaxError`), operators and special forms (`Kernel.SpecialForms.%{}/1`).
#[test]
fn every_public_definition_is_the_first_hit_for_its_name() {
    use aiex_node::chunk::Visibility;
    let mut symbols: Vec<String> = Vec::new();
    for p in elixir_index().partitions() {
        for chunk in p.all_chunks_without_text().expect("read the chunks") {
            if !chunk.path.contains("/lib/") || chunk.path.contains("/test/") {
                continue;
            }
            for d in &chunk.defines {
                if d.kind.is_callable()
                    && d.visibility == Visibility::Public
                    && !d.implied
                    && !d.module.is_empty()
                    && !aiex_node::chunk::is_placeholder(&d.name)
                {
                    symbols.extend(d.symbols());
                }
            }
        }
    }
    symbols.sort();
    symbols.dedup();
    // And `Mod.fun`, any arity (an operator with a `/` in it aside: `Kernel.//2`).
    let heads: Vec<String> = (symbols.iter())
        .filter_map(|s| s.rsplit_once('/').map(|(head, _)| head.to_string()))
        .filter(|head| !head.contains('/'))
        .collect();
    assert!(symbols.len() > 2_000, "{} definitions", symbols.len());
    symbols.extend(heads);
    symbols.sort();
    symbols.dedup();
    let missed: Vec<String> = symbols
        .iter()
        .filter_map(|symbol| {
            let hits = search(symbol, Filters::default(), 5);
            let first = hits.first();
            (!first.is_some_and(|h| defines(h, symbol))).then(|| {
                format!(
                    "{symbol}: first {:?}",
                    first.map(|h| (&h.symbol, &h.chunk.path))
                )
            })
        })
        .collect();
    assert!(
        missed.is_empty(),
        "{} of {} not first:\n{}",
        missed.len(),
        symbols.len(),
        missed.join("\n")
    );
}

#[test]
fn a_hit_shows_the_arity_the_query_names() {
    // `String.split/2..3` is one chunk (a default argument); asked for `/2`, it says `/2`.
    for (query, shown) in [
        ("String.split/2", "String.split/2"),
        ("String.split/3", "String.split/3"),
        ("string.split/2", "String.split/2"),
    ] {
        let hits = search(query, Filters::default(), 3);
        let first = hits.first().expect("hits");
        assert_eq!(first.symbol, shown, "{query}");
        assert_eq!(first.chunk.arities, vec![2, 3], "{query}");
    }
    let hits = search("String.split", Filters::default(), 5);
    let both = hits
        .iter()
        .find(|h| h.chunk.arities == [2, 3])
        .expect("String.split/2..3 among the hits");
    assert_eq!(both.symbol, "String.split/3", "no arity named: the highest");
}

#[test]
fn arity_queries_hit_a_definition_of_that_arity() {
    for query in ["handle_info/2", "handle_call/3", "init/1"] {
        let hits = search(query, Filters::default(), 3);
        let first = hits.first().expect("hits");
        let (name, arity) = query.split_once('/').unwrap();
        assert!(
            first
                .chunk
                .defines
                .iter()
                .any(|d| d.name == name && d.arities.contains(&arity.parse().unwrap())),
            "{query}: first hit {} is not a definition",
            first.symbol
        );
    }
    // A bare callback name: the behaviour's documented `@callback` comes before the many
    // implementations, which match the name as well and mention it more in their bodies.
    for (query, callback) in [
        ("handle_info/2", "GenServer.handle_info/2"),
        ("handle_call/3", "GenServer.handle_call/3"),
    ] {
        let hits = search(query, Filters::default(), 5);
        assert_eq!(
            hits.first().map(|h| h.symbol.as_str()),
            Some(callback),
            "{query}: {:?}",
            hits.iter().map(|h| &h.symbol).collect::<Vec<_>>()
        );
    }
}

#[test]
fn natural_language_finds_functions_by_their_docs() {
    let cases = [
        (
            "remove the element at a given index from a list",
            "List.delete_at/2",
        ),
        (
            "get the exact numerator and denominator of a float",
            "Float.ratio/1",
        ),
        (
            "make a synchronous request to a server process and wait",
            "GenServer.call/3",
        ),
    ];
    // A name in a question is context, not what is asked for: the many `handle_call/3`s
    // must not fill the list (with names weighed as in identifier queries, 21st).
    let query = "how do I reply to a caller from outside handle_call";
    let hits = search(query, Filters::default(), 10);
    assert!(
        hits.iter().any(|h| defines(h, "GenServer.reply/2")),
        "{query}: GenServer.reply/2 not in the top 10: {:?}",
        hits.iter().map(|h| &h.symbol).collect::<Vec<_>>()
    );
    for (query, symbol) in cases {
        let hits = search(query, Filters::default(), 5);
        assert!(
            hits.iter().any(|h| defines(h, symbol)),
            "{query}: {symbol} not in the top 5: {:?}",
            hits.iter().map(|h| &h.symbol).collect::<Vec<_>>()
        );
    }
}

#[test]
fn results_carry_snippets_lines_and_symbols() {
    let hits = search("GenServer.call", Filters::default(), 3);
    let h = &hits[0];
    assert!(h.chunk.start_line >= 1 && h.chunk.end_line >= h.chunk.start_line);
    assert!(h.snippet_start_line >= h.chunk.start_line && h.snippet_start_line <= h.chunk.end_line);
    assert!(!h.snippet.is_empty());
    assert!(h.chunk.content.contains(h.snippet.lines().next().unwrap()));
    assert_eq!(h.symbol, "GenServer.call/3");
    assert_eq!(h.chunk.module, "GenServer");
    assert!(h.score > 0.0);
    // Ranked by score.
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn filters_restrict_results() {
    let tests_only = search(
        "split a string",
        Filters {
            kinds: vec![ChunkKind::Test, ChunkKind::Describe],
            ..Filters::default()
        },
        20,
    );
    assert!(!tests_only.is_empty());
    assert!(tests_only.iter().all(|h| h.chunk.kind.is_test()));

    let in_module = search(
        "parse",
        Filters {
            module: Some("Mix".into()),
            ..Filters::default()
        },
        20,
    );
    assert!(!in_module.is_empty());
    assert!(
        in_module
            .iter()
            .all(|h| h.chunk.module == "Mix" || h.chunk.module.starts_with("Mix."))
    );

    let under_path = search(
        "capture",
        Filters {
            path_prefix: Some("lib/ex_unit/".into()),
            ..Filters::default()
        },
        20,
    );
    assert!(!under_path.is_empty());
    assert!(
        under_path
            .iter()
            .all(|h| h.chunk.path.starts_with("lib/ex_unit/"))
    );

    let other_repo = search(
        "GenServer.call",
        Filters {
            repos: vec!["no-such-repo".into()],
            ..Filters::default()
        },
        5,
    );
    assert!(other_repo.is_empty());
}

#[test]
fn symbol_graph_over_the_standard_library() {
    let graph = elixir_index().graph().expect("graph");
    let defs = graph.definitions("Enum.map/2");
    assert_eq!(defs.len(), 1, "{defs:?}");
    assert_eq!(defs[0].path, "lib/elixir/lib/enum.ex");

    // Enum.map/2 is called through aliases and pipes all over the library.
    let callers = graph.callers("Enum.map/2");
    assert!(callers.len() > 50, "only {} callers", callers.len());
    assert!(callers.iter().any(|c| c.path.starts_with("lib/mix/")));

    let callees = graph.callees("Enum.map_join/3");
    assert!(!callees.is_empty());
    assert!(
        callees.iter().all(|c| c.contains('/') && c.contains('.')),
        "{callees:?}"
    );

    // Ranking: core functions called everywhere outrank leaves.
    let rank = graph.rank(&[]);
    let pos = |s: &str| rank.iter().position(|(r, _)| r == s).unwrap_or(usize::MAX);
    assert!(pos("Enum.map/2") < pos("Mix.Tasks.Xref.run/1"));

    // Within the budget as OpenAI's tokenizer counts it, not only by the estimate.
    let counter = aiex_node::context::TokenCounter::for_model("gpt-4o");
    for budget in [50, 400, 2000, 8000] {
        let (map, tokens) = graph.repo_map(budget, &[]);
        assert!(tokens <= budget, "{tokens} > {budget}");
        assert!(!map.is_empty());
        let real = counter.count(&map);
        assert!(real <= budget, "{real} o200k tokens > {budget}");
    }
    // Use ExUnit.Case's imports: `assert` is called from the tests.
    let assert_callers = graph.callers("ExUnit.Assertions.assert/1");
    assert!(
        assert_callers.len() > 100,
        "only {} callers of assert/1",
        assert_callers.len()
    );
    let (focused, _) = graph.repo_map(200, &["ExUnit.CaptureLog".to_string()]);
    assert!(focused.contains("capture_log"), "{focused}");
}

/// One public function or macro the Elixir compiler exports, from
/// `tests/data/elixir-1.14-exports.tsv` (`scripts/elixir-exports.exs`).
#[derive(Debug)]
struct Export {
    symbol: String,
    doc: String,
    path: String,
}

fn compiler_exports() -> Vec<Export> {
    include_str!("../data/elixir-1.14-exports.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 7, "a row of seven fields: {l}");
            Export {
                symbol: format!("{}.{}/{}", f[0], f[2], f[3]),
                doc: f[4].to_string(),
                path: f[6].to_string(),
            }
        })
        .collect()
}

/// What the graph does not define of what the compiler exports, and why: a symbol or a
/// module's prefix (`IO.ANSI.`), each of which must still be missing.
const NOT_DEFINED: &[(&str, &str)] = &[(
    "Inspect.Macro.Env.",
    "`Protocol.derive(Inspect, Macro.Env, only: [...])`, a call outside any module",
)];

/// The symbol graph of the standard library against what the Elixir 1.14 compiler
/// exports (`scripts/elixir-exports.exs`): every public function and macro is defined
/// (those a `use`, `defstruct`, `defimpl`, `@derive` or a macro defines too), under its
/// module, name and arity, but for [`NOT_DEFINED`]; and every public definition of those
/// modules is one the compiler exports.
#[test]
fn the_graph_defines_what_the_compiler_exports() {
    let graph = elixir_index().graph().expect("graph");
    let exports = compiler_exports();
    assert!(exports.len() > 3_500, "{} exports", exports.len());
    let mut missing: Vec<&Export> = Vec::new();
    for e in &exports {
        let sites = graph.definitions(&e.symbol);
        if !sites.iter().any(|s| s.symbol == e.symbol) {
            missing.push(e);
        }
    }
    let unexplained: Vec<String> = (missing.iter())
        .filter(|e| !NOT_DEFINED.iter().any(|(p, _)| e.symbol.starts_with(p)))
        .map(|e| format!("{} ({}, {})", e.symbol, e.path, e.doc))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} exported functions are not defined in the graph: {unexplained:#?}",
        unexplained.len()
    );
    for (prefix, why) in NOT_DEFINED {
        assert!(
            missing.iter().any(|e| e.symbol.starts_with(prefix)),
            "{prefix}* is defined now ({why}): take it off NOT_DEFINED"
        );
    }
    assert_eq!(missing.len(), 2, "{missing:#?}");

    let modules: std::collections::HashSet<&str> = (exports.iter())
        .map(|e| e.symbol.rsplit_once('.').map_or("", |(m, _)| m))
        .collect();
    let exported: std::collections::HashSet<&str> =
        exports.iter().map(|e| e.symbol.as_str()).collect();
    let public: Vec<&SymbolSite> = (graph.all_definitions())
        .filter(|s| s.kind.is_callable() && s.visibility != Visibility::Private)
        .filter(|s| modules.contains(s.module.as_str()) && !s.path.contains("/test/"))
        .collect();
    assert!(public.len() > 3_500, "{} public definitions", public.len());
    let mut extra: Vec<String> = (public.iter())
        .filter(|s| !exported.contains(s.symbol.as_str()))
        .map(|s| format!("{} {}:{}", s.symbol, s.path, s.start_line))
        .collect();
    extra.sort();
    extra.dedup();
    assert!(
        extra.is_empty(),
        "{} public definitions the compiler does not export: {extra:#?}",
        extra.len()
    );
}
