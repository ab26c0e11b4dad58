//! Integration tests of the symbol graph: definitions by `Mod.fun/arity` and by name,
//! callees through aliases, pipes and captures, callers (tests included), PageRank, and
//! the repository map fitted to a token budget, with and without focus.
//!
//! The graph is built from a small Mix project written to a temporary directory and
//! indexed through [`PartitionSet::graph`], or from [`chunk_file`] chunks directly.

use std::sync::Arc;

use aiex_node::chunk::{Chunk, ChunkKind, ChunkerConfig, FileChunks, Visibility, chunk_file};
use aiex_node::graph::{MAP_BYTES_PER_TOKEN, SymbolGraph, SymbolSite};
use aiex_node::ingest::{IngestOptions, PartitionSet};

mod common;
use common::*;

// ------------------------------------------------------------------------------ helpers

/// The project, indexed as repository `shop`, and its graph.
struct Indexed {
    _tmp: tempfile::TempDir,
    src: std::path::PathBuf,
    set: PartitionSet,
}

fn indexed() -> Indexed {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("my_app");
    write_project(&src);
    let set = PartitionSet::open(&tmp.path().join("data"), 3).unwrap();
    let options = IngestOptions {
        threads: 2,
        ..IngestOptions::default()
    };
    let stats = set.ingest_dir("shop", &src, &options, None).unwrap();
    assert_eq!(stats.files_failed, 0, "{stats:?}");
    Indexed {
        _tmp: tmp,
        src,
        set,
    }
}

fn graph() -> (Indexed, Arc<SymbolGraph>) {
    let ix = indexed();
    let g = ix.set.graph().unwrap();
    (ix, g)
}

/// 1-based line of the only line of `src` containing `needle`.
#[track_caller]
fn line_of(src: &str, needle: &str) -> u32 {
    let found: Vec<u32> = src
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i as u32 + 1)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{needle:?} must occur once, found on {found:?}"
    );
    found[0]
}

/// The symbols of the callers of `symbol`, in the graph's order.
fn caller_symbols(g: &SymbolGraph, symbol: &str) -> Vec<String> {
    g.callers(symbol).into_iter().map(|s| s.symbol).collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The one definition of `symbol` (failing when there are none or several).
fn sole_definition(g: &SymbolGraph, symbol: &str) -> SymbolSite {
    let sites = g.definitions(symbol);
    assert_eq!(sites.len(), 1, "{symbol}: {sites:?}");
    sites.into_iter().next().unwrap()
}

/// Where the quote that wrote a definition is: its file and lines.
fn quoted_place(site: &SymbolSite) -> Option<(String, u32, u32)> {
    (site.quoted_at.as_ref()).map(|q| (q.file.path.clone(), q.start_line, q.end_line))
}

/// The symbol graph of one file's chunks.
fn graph_of(path: &str, src: &str) -> SymbolGraph {
    SymbolGraph::build(&chunks_of(path, src))
}

/// The graph of `chunks` built from their two halves, merged in both orders.
fn merged_halves(chunks: &[Chunk]) -> [SymbolGraph; 2] {
    let (a, b) = chunks.split_at(chunks.len() / 2);
    [[a, b], [b, a]].map(|parts| SymbolGraph::merge(parts.map(SymbolGraph::part)))
}

fn chunks_of(path: &str, src: &str) -> Vec<Chunk> {
    match chunk_file("shop", path, src.as_bytes(), &ChunkerConfig::default()) {
        FileChunks::Chunked(cs) => cs,
        FileChunks::Skipped(r) => panic!("{path} skipped: {r}"),
    }
}

/// The map as (path, line, signature) entries, checking its layout on the way.
fn parse_map(map: &str) -> Vec<(String, u32, String)> {
    let mut out = Vec::new();
    let mut path: Option<String> = None;
    for line in map.lines() {
        if !line.starts_with("    ") && line.starts_with("  ") {
            continue; // a module line
        }
        if let Some(entry) = line.strip_prefix("    ") {
            let (n, sig) = entry
                .split_once(": ")
                .unwrap_or_else(|| panic!("bad map line {line:?}"));
            let p = path.clone().expect("an entry before any path");
            out.push((p, n.parse().expect("a line number"), sig.to_string()));
        } else {
            let p = line
                .strip_suffix(':')
                .unwrap_or_else(|| panic!("bad path line {line:?}"));
            path = Some(p.to_string());
        }
    }
    out
}

/// The public functions of the project: (path, signature).
const PUBLIC_FUNCTIONS: [(&str, &str); 14] = [
    // The structs `%Cart{}` and `%Item{}` build, which `defstruct` defines.
    (
        "lib/my_app/cart.ex",
        "defstruct items: [], customer_id: nil",
    ),
    ("lib/my_app/cart/item.ex", "defstruct [:sku, :quantity]"),
    (
        "lib/my_app/cart.ex",
        "def add_item(%__MODULE__{items: items} = cart, sku, quantity) when quantity > 0",
    ),
    ("lib/my_app/cart.ex", "def total(%__MODULE__{items: items})"),
    (
        "lib/my_app/cart.ex",
        "def render(%MyApp.Cart{items: items})",
    ),
    (
        "lib/my_app/cart/item.ex",
        "def new(sku, quantity) when is_binary(sku) and quantity > 0",
    ),
    (
        "lib/my_app/cart/item.ex",
        "def increment(%__MODULE__{quantity: quantity} = item, by) when by > 0",
    ),
    ("lib/my_app/catalog.ex", "def unit_price(sku)"),
    (
        "lib/my_app/catalog.ex",
        "def unit_price(sku, rate) when is_number(rate) and rate > 0",
    ),
    ("lib/my_app/catalog.ex", "def known?(sku)"),
    ("lib/my_app/catalog.ex", "def legacy_export"),
    (
        "lib/my_app/pricing.ex",
        "def line_price(%Item{sku: sku, quantity: quantity})",
    ),
    (
        "lib/my_app/pricing.ex",
        "def apply_discounts(prices) when is_list(prices)",
    ),
    (
        "lib/my_app/util.ex",
        "def normalize_sku(sku) when is_binary(sku)",
    ),
    // Not `mix.exs`'s `def project`: the Mix project is not the repository's API.
];

// ------------------------------------------------------------------------------ tests

#[test]
fn definitions_by_arity_and_by_name() {
    let (ix, g) = graph();
    assert!(!g.is_empty());

    let sites = g.definitions("MyApp.Catalog.unit_price/1");
    assert_eq!(sites.len(), 1, "{sites:#?}");
    let s = &sites[0];
    assert_eq!(s.symbol, "MyApp.Catalog.unit_price/1");
    assert_eq!(s.repo, "shop");
    assert_eq!(s.path, "lib/my_app/catalog.ex");
    assert_eq!(s.kind, ChunkKind::Function);
    assert_eq!(s.visibility, Visibility::Public);
    assert_eq!(s.signature, "def unit_price(sku)");
    // The site points at the `def` line and ends with the definition's last line.
    let def_line = line_of(CATALOG_EX, "def unit_price(sku) do");
    let last_line = line_of(CATALOG_EX, "Map.get(@prices, sku, 0)") + 1;
    assert_eq!((s.start_line, s.end_line), (def_line, last_line), "{s:?}");
    // ...inside the chunk that defines it (which also holds the @doc above).
    let chunk = ix
        .set
        .partition_for("shop", "lib/my_app/catalog.ex")
        .unwrap()
        .all_chunks()
        .unwrap()
        .into_iter()
        .find(|c| c.name == "unit_price" && c.arities == [1])
        .unwrap();
    let doc_line = line_of(CATALOG_EX, "Looks up the unit price");
    assert!(
        chunk.start_line < doc_line && chunk.end_line == last_line,
        "{chunk:?}"
    );
    assert_eq!(chunk.defines[0].line, def_line);

    // Every arity by name, ordered by symbol.
    let all = g.definitions("MyApp.Catalog.unit_price");
    let symbols: Vec<&str> = all.iter().map(|s| s.symbol.as_str()).collect();
    assert_eq!(
        symbols,
        ["MyApp.Catalog.unit_price/1", "MyApp.Catalog.unit_price/2"]
    );
    assert_eq!(all[0], *s);
    let two = &all[1];
    assert_eq!(two.path, "lib/my_app/catalog.ex");
    assert_eq!(
        two.signature,
        "def unit_price(sku, rate) when is_number(rate) and rate > 0"
    );
    let def2 = line_of(CATALOG_EX, "def unit_price(sku, rate)");
    assert!(two.start_line <= def2 && def2 <= two.end_line, "{two:?}");
    assert!(two.start_line > s.end_line);

    // A nested module's function, a private function and a module.
    let render = g.definitions("MyApp.Cart.Summary.render/1");
    assert_eq!(render.len(), 1);
    assert_eq!(render[0].path, "lib/my_app/cart.ex");
    let render_line = line_of(CART_EX, "def render(");
    assert!(render[0].start_line <= render_line && render_line <= render[0].end_line);
    let merge = g.definitions("MyApp.Cart.merge_items/2");
    assert_eq!(merge.len(), 1);
    assert_eq!(merge[0].visibility, Visibility::Private);
    let module = g.definitions("MyApp.Cart.Item");
    assert_eq!(module.len(), 1, "{module:#?}");
    assert_eq!(module[0].kind, ChunkKind::ModuleHeader);
    assert_eq!(module[0].path, "lib/my_app/cart/item.ex");
    assert_eq!(module[0].start_line, 1);

    // Names that are not defined, or are only called.
    assert!(g.definitions("MyApp.Catalog.unit_price/3").is_empty());
    assert!(g.definitions("MyApp.Nope.unit_price").is_empty());
    assert!(g.definitions("Enum.map/2").is_empty());
    // A bare name never matches a qualified symbol: code calls it through its imports.
    assert!(g.definitions("unit_price").is_empty());
    assert!(g.definitions("unit_price/1").is_empty());

    // Written by a person, it names the function in every module, as do the module's
    // last aliases; a name defined nowhere still finds nothing.
    let names = |symbol: &str| -> Vec<String> {
        (g.definitions_as_written(symbol, |_| true).into_iter())
            .map(|s| s.symbol)
            .collect()
    };
    assert_eq!(
        names("unit_price"),
        ["MyApp.Catalog.unit_price/1", "MyApp.Catalog.unit_price/2"]
    );
    assert_eq!(names("unit_price/2"), ["MyApp.Catalog.unit_price/2"]);
    assert_eq!(
        names("Catalog.unit_price/1"),
        ["MyApp.Catalog.unit_price/1"]
    );
    assert_eq!(names("Summary.render"), ["MyApp.Cart.Summary.render/1"]);
    assert_eq!(
        names("Cart.Summary.render/1"),
        ["MyApp.Cart.Summary.render/1"]
    );
    assert_eq!(
        names("MyApp.Catalog.unit_price/1"),
        ["MyApp.Catalog.unit_price/1"]
    );
    // A module by its last segments, as an alias writes it (asciinema's `Accounts.User`).
    assert_eq!(names("Cart.Item"), ["MyApp.Cart.Item"]);
    assert_eq!(names("Item"), ["MyApp.Cart.Item"]);
    assert!(names("Cart.Ite").is_empty());
    assert!(names("unit_price/3").is_empty());
    assert!(names("Catalog.unit_pric").is_empty());
    assert!(
        names("MyApp.unit_price").is_empty(),
        "not a suffix of the module"
    );
    // Sites of other repositories are left out before the shorter names are tried.
    assert!(
        g.definitions_as_written("Catalog.unit_price/1", |s| s.repo == "other")
            .is_empty()
    );
    // A module filter names a module, or one with modules nested in it.
    assert!(g.has_module("MyApp.Catalog") && g.has_module("MyApp"));
    assert!(!g.has_module("MyApp.Catalog.unit_price/1") && !g.has_module("myapp.catalog"));
    // A call of a bare name gets the qualified ones as its "did you mean".
    assert_eq!(
        g.similar("unit_price", 3),
        ["MyApp.Catalog.unit_price/1", "MyApp.Catalog.unit_price/2"]
    );
    // A misspelled name by its module's last segment too (Oban Web's
    // `Helpers.oban_pth/2`).
    assert_eq!(
        g.similar("Catalog.unit_prise/2", 3)
            .first()
            .map(String::as_str),
        Some("MyApp.Catalog.unit_price/2")
    );
}

#[test]
fn callees_through_alias_pipe_and_capture() {
    let (_ix, g) = graph();
    // `items |> Enum.map(&Pricing.line_price/1) |> Pricing.apply_discounts()`:
    // pipes add one argument, the capture names its arity, aliases are expanded.
    assert_eq!(
        g.callees("MyApp.Cart.total/1"),
        strings(&[
            "Enum.map/2",
            "MyApp.Cart.__struct__/0",
            "MyApp.Pricing.apply_discounts/1",
            "MyApp.Pricing.line_price/1",
        ])
    );
    // Alias (`Item.new`), a local call to a private function, and the struct its head
    // matches (`%__MODULE__{items: items} = cart`).
    let add = g.callees("MyApp.Cart.add_item/3");
    assert_eq!(
        add,
        strings(&[
            "MyApp.Cart.Item.new/2",
            "MyApp.Cart.__struct__/0",
            "MyApp.Cart.merge_items/2"
        ])
    );
    assert_eq!(g.callees("MyApp.Cart.add_item"), add, "any arity");
    // A capture with an argument placeholder: `&Item.increment(&1, item.quantity)`.
    let merge = g.callees("MyApp.Cart.merge_items/2");
    assert!(
        merge.contains(&"MyApp.Cart.Item.increment/2".to_string()),
        "{merge:?}"
    );
    assert!(merge.contains(&"List.update_at/3".to_string()), "{merge:?}");
    // A local call to another arity of the same name.
    assert_eq!(
        g.callees("MyApp.Catalog.unit_price/2"),
        strings(&["MyApp.Catalog.unit_price/1"])
    );
    // Piped into a remote call of another module.
    assert_eq!(
        g.callees("MyApp.Util.normalize_sku/1"),
        strings(&["String.trim/1", "String.upcase/1"])
    );
    // Both arities by name.
    assert_eq!(
        g.callees("MyApp.Catalog.unit_price"),
        strings(&[
            "Map.get/3",
            "MyApp.Catalog.unit_price/1",
            "MyApp.Util.normalize_sku/1",
        ])
    );
    // A leaf calls nothing; an unknown symbol neither.
    assert!(g.callees("MyApp.Catalog.legacy_export/0").is_empty());
    assert!(g.callees("MyApp.Nope.fun/1").is_empty());
}

#[test]
fn callers_include_functions_and_tests() {
    let (_ix, g) = graph();
    let callers = g.callers("MyApp.Util.normalize_sku/1");
    let got: Vec<(&str, &str)> = callers
        .iter()
        .map(|s| (s.path.as_str(), s.symbol.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("lib/my_app/cart/item.ex", "MyApp.Cart.Item.new/2"),
            ("lib/my_app/catalog.ex", "MyApp.Catalog.unit_price/1"),
            ("lib/my_app/catalog.ex", "MyApp.Catalog.known?/1"),
        ],
        "sorted by path and line"
    );
    assert_eq!(g.callers("MyApp.Util.normalize_sku"), callers);

    // add_item/3 is called only by the two tests.
    let callers = g.callers("MyApp.Cart.add_item/3");
    assert_eq!(callers.len(), 2, "{callers:#?}");
    let first_test = line_of(CART_TEST_EXS, "test \"add_item puts");
    let second_test = line_of(CART_TEST_EXS, "test \"total applies");
    for (site, test_line) in callers.iter().zip([first_test, second_test]) {
        assert_eq!(site.path, "test/my_app/cart_test.exs");
        assert_eq!(site.kind, ChunkKind::Test);
        assert!(
            site.start_line <= test_line && test_line <= site.end_line,
            "{site:?}"
        );
        assert!(site.signature.starts_with("test \""), "{site:?}");
    }
    assert!(callers[0].symbol.contains("add_item puts a new line item"));
    assert!(
        callers[1]
            .symbol
            .contains("total applies the catalog prices")
    );

    // total/1 is called by the second test only.
    let total = g.callers("MyApp.Cart.total/1");
    assert_eq!(total.len(), 1);
    assert_eq!(total[0].symbol, callers[1].symbol);

    // Through the alias, the capture and the pipe of Cart.total/1.
    for callee in [
        "MyApp.Pricing.line_price/1",
        "MyApp.Pricing.apply_discounts/1",
    ] {
        let c = g.callers(callee);
        assert_eq!(c.len(), 1, "{callee}: {c:#?}");
        assert_eq!(c[0].symbol, "MyApp.Cart.total/1");
        assert_eq!(c[0].path, "lib/my_app/cart.ex");
    }
    // A private function's caller.
    let discount = g.callers("MyApp.Pricing.discount/1");
    assert_eq!(discount.len(), 1);
    assert_eq!(discount[0].symbol, "MyApp.Pricing.apply_discounts/1");

    assert!(g.callers("MyApp.Catalog.legacy_export/0").is_empty());
}

/// A module a test defines in its body: the graph knows where its functions are, what
/// they call, and that the test calls them; the test stays a caller of what it calls.
#[test]
fn modules_a_test_defines_are_in_the_graph() {
    let lib = concat!(
        "defmodule MyApp.Repo do\n",
        "  def all(query), do: {:ok, query}\n",
        "  def insert(row), do: {:ok, row}\n",
        "end\n",
    );
    let test = concat!(
        "defmodule MyApp.WidgetTest do\n",
        "  use ExUnit.Case\n",
        "  alias MyApp.Repo\n",
        "\n",
        "  test \"a data layer that raises\" do\n",
        "    defmodule CrashingLayer do\n",
        "      def run(query), do: Repo.all(query) && fail(query)\n",
        "      defp fail(q), do: raise(\"boom #{inspect(q)}\")\n",
        "    end\n",
        "\n",
        "    assert_raise RuntimeError, fn -> CrashingLayer.run(:q) end\n",
        "    Repo.insert(:row)\n",
        "  end\n",
        "end\n",
    );
    let mut chunks = chunks_of("lib/my_app/repo.ex", lib);
    chunks.extend(chunks_of("test/my_app/widget_test.exs", test));
    let g = SymbolGraph::build(&chunks);
    let run = "MyApp.WidgetTest.CrashingLayer.run/1";

    let defs = g.definitions(run);
    assert_eq!(defs.len(), 1, "{defs:#?}");
    assert_eq!(defs[0].path, "test/my_app/widget_test.exs");
    assert_eq!(defs[0].start_line, line_of(test, "def run(query)"));
    assert_eq!(defs[0].kind, ChunkKind::Function);
    assert!(g.has_module("MyApp.WidgetTest.CrashingLayer"));

    assert_eq!(
        g.callees(run),
        strings(&["MyApp.Repo.all/1", "MyApp.WidgetTest.CrashingLayer.fail/1"])
    );
    // The test calls the module it defined, and what it calls itself.
    let callers = g.callers(run);
    assert_eq!(callers.len(), 1, "{callers:#?}");
    assert_eq!(callers[0].kind, ChunkKind::Test);
    assert!(callers[0].symbol.contains("a data layer that raises"));
    let inserts = g.callers("MyApp.Repo.insert/1");
    assert_eq!(inserts.len(), 1, "{inserts:#?}");
    assert_eq!(inserts[0].kind, ChunkKind::Test);
    // `Repo.all/1` is called by the module's function, not by the test.
    let alls = g.callers("MyApp.Repo.all/1");
    assert_eq!(alls.len(), 1, "{alls:#?}");
    assert_eq!(alls[0].symbol, run);
}

/// A module a test defines in its body implements the behaviours its `@behaviour`s name,
/// as a module of its own does (ex_aws's `FlakyAdapter`, inside a `test`).
#[test]
fn a_module_a_test_defines_implements_its_behaviours() {
    let test = concat!(
        "defmodule ExAws.AuthCacheTest do\n",
        "  use ExUnit.Case\n",
        "  alias ExAws.Config.AuthCache\n",
        "  defmodule SleepAdapter do\n",
        "    @behaviour AuthCache.AuthConfigAdapter\n",
        "    def adapt_auth_config(c, _p, _e), do: c\n",
        "  end\n",
        "  test \"using adapter retries\" do\n",
        "    defmodule FlakyAdapter do\n",
        "      @behaviour AuthCache.AuthConfigAdapter\n",
        "      use GenServer\n",
        "      def adapt_auth_config(c, _p, _e), do: c\n",
        "    end\n",
        "    assert FlakyAdapter.adapt_auth_config(1, 2, 3) == 1\n",
        "  end\n",
        "end\n",
    );
    let g = graph_of("test/ex_aws/auth_cache_test.exs", test);
    let names = |sites: Vec<aiex_node::graph::SymbolSite>| -> Vec<String> {
        sites.into_iter().map(|s| s.symbol).collect()
    };
    let behaviour = "ExAws.Config.AuthCache.AuthConfigAdapter";
    assert_eq!(
        names(g.implementations(behaviour)),
        [
            "ExAws.AuthCacheTest.FlakyAdapter",
            "ExAws.AuthCacheTest.SleepAdapter"
        ]
    );
    assert_eq!(
        names(g.implementations(&format!("{behaviour}.adapt_auth_config/3"))),
        [
            "ExAws.AuthCacheTest.FlakyAdapter.adapt_auth_config/3",
            "ExAws.AuthCacheTest.SleepAdapter.adapt_auth_config/3"
        ]
    );
    assert_eq!(
        names(g.implementations("GenServer")),
        ["ExAws.AuthCacheTest.FlakyAdapter"]
    );
}

#[test]
fn rank_puts_a_much_called_function_above_an_uncalled_leaf() {
    let (_ix, g) = graph();
    let ranked = g.rank(&[]);
    let position = |s: &str| {
        ranked
            .iter()
            .position(|(r, _)| r == s)
            .unwrap_or_else(|| panic!("{s} not ranked"))
    };
    let score = |s: &str| ranked[position(s)].1;
    let hub = "MyApp.Util.normalize_sku/1"; // called by three functions
    let leaf = "MyApp.Catalog.legacy_export/0"; // called by nobody, calls nothing
    assert!(score(hub) > score(leaf), "{ranked:#?}");
    assert!(position(hub) < position(leaf));
    assert_eq!(ranked[0].0, hub, "the most called function ranks first");
    // Called by something beats called by nothing.
    assert!(score("MyApp.Cart.add_item/3") > score(leaf));
    assert!(score("MyApp.Catalog.unit_price/1") > score("MyApp.Catalog.known?/1"));

    // Sorted, finite, positive; only defined symbols (no calls into Enum, no tests).
    for w in ranked.windows(2) {
        assert!(w[0].1 >= w[1].1, "sorted: {ranked:#?}");
    }
    assert!(ranked.iter().all(|(_, r)| r.is_finite() && *r > 0.0));
    assert!(ranked.iter().all(|(s, _)| !g.definitions(s).is_empty()));
    assert!(
        !ranked
            .iter()
            .any(|(s, _)| s.starts_with("Enum.") || s.contains("cart_test"))
    );
    assert_eq!(ranked.len(), g.len());

    // Centred on a module: its functions (and what they call) outrank the rest.
    let focused = g.rank(&strings(&["MyApp.Catalog"]));
    let top: Vec<&str> = focused.iter().take(6).map(|(s, _)| s.as_str()).collect();
    for s in [
        "MyApp.Catalog.unit_price/1",
        "MyApp.Catalog.unit_price/2",
        "MyApp.Catalog.known?/1",
        "MyApp.Catalog.legacy_export/0",
        "MyApp.Util.normalize_sku/1",
    ] {
        assert!(top.contains(&s), "{s} not in the top of {focused:#?}");
    }
    let focused_score = |s: &str| focused.iter().find(|(r, _)| r == s).unwrap().1;
    assert!(
        focused_score("MyApp.Catalog.legacy_export/0") > focused_score("MyApp.Cart.add_item/3")
    );
}

#[test]
fn repo_map_fits_the_budget_and_lists_public_signatures() {
    let (_ix, g) = graph();
    for budget in [
        0, 1, 5, 10, 17, 20, 25, 30, 40, 50, 60, 75, 100, 150, 1000, 100_000,
    ] {
        let (map, tokens) = g.repo_map(budget, &[]);
        assert!(tokens <= budget, "budget {budget}: {tokens} tokens\n{map}");
        assert!(
            map.len() <= budget * MAP_BYTES_PER_TOKEN,
            "budget {budget}: {} bytes",
            map.len()
        );
        assert_eq!(tokens, map.len().div_ceil(MAP_BYTES_PER_TOKEN));
        let entries = parse_map(&map);
        for (path, line, sig) in &entries {
            assert!(!sig.starts_with("defp"), "private in the map: {sig}");
            assert!(
                !sig.starts_with("defmodule"),
                "module header in the map: {sig}"
            );
            assert!(
                PUBLIC_FUNCTIONS.contains(&(path.as_str(), sig.as_str())),
                "unexpected entry {path}:{line} {sig}"
            );
        }
        if budget == 0 {
            assert!(map.is_empty());
        }
    }

    // The top-ranked function makes the cut as soon as it fits.
    let (small, _) = g.repo_map(34, &[]);
    assert!(
        small.contains("lib/my_app/util.ex:\n") && small.contains("def normalize_sku(sku)"),
        "{small}"
    );

    // With room for everything: every public function, by path, at its site's line.
    let (map, tokens) = g.repo_map(100_000, &[]);
    assert!(tokens > 0);
    let entries = parse_map(&map);
    assert_eq!(entries.len(), PUBLIC_FUNCTIONS.len(), "{map}");
    for (path, sig) in PUBLIC_FUNCTIONS {
        let entry = entries
            .iter()
            .find(|(p, _, s)| p == path && s == sig)
            .unwrap_or_else(|| panic!("{path}: {sig} missing from\n{map}"));
        let site = g
            .rank(&[])
            .into_iter()
            .flat_map(|(s, _)| g.definitions(&s))
            .find(|d| d.path == path && d.signature == sig)
            .unwrap_or_else(|| panic!("no definition site for {path}: {sig}"));
        assert_eq!(entry.1, site.start_line, "{path}: {sig}");
    }
    // Paths are listed once each, sorted; entries by line within a file.
    let paths: Vec<&str> = map.lines().filter(|l| !l.starts_with("  ")).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(paths, sorted);
    for w in entries.windows(2) {
        if w[0].0 == w[1].0 {
            assert!(w[0].1 < w[1].1, "{map}");
        }
    }
    // Never private functions, module headers or tests.
    for absent in [
        "merge_items(",
        " discount(",
        "defp",
        "defmodule",
        "cart_test.exs",
        "test \"",
    ] {
        assert!(!map.contains(absent), "{absent:?} in\n{map}");
    }
}

#[test]
fn repo_map_with_focus_includes_the_focused_module_at_a_small_budget() {
    let (_ix, g) = graph();
    let focus = strings(&["MyApp.Catalog"]);
    let catalog = [
        "def unit_price(sku)",
        "def unit_price(sku, rate) when is_number(rate) and rate > 0",
        "def known?(sku)",
        "def legacy_export",
    ];
    // 100 tokens hold the catalog's four functions plus the helper they call, not the
    // whole map (about 250 tokens).
    let budget = 100;
    assert!(g.repo_map(100_000, &[]).1 > 2 * budget);
    let (map, tokens) = g.repo_map(budget, &focus);
    assert!(tokens <= budget);
    let entries = parse_map(&map);
    for sig in catalog {
        assert!(
            entries
                .iter()
                .any(|(p, _, s)| p == "lib/my_app/catalog.ex" && s == sig),
            "{sig} missing from the focused map:\n{map}"
        );
    }
    // What the focused module calls comes next; nothing unrelated crowds it out.
    assert!(map.contains("def normalize_sku(sku)"), "{map}");
    assert!(
        entries
            .iter()
            .all(|(p, _, _)| p == "lib/my_app/catalog.ex" || p == "lib/my_app/util.ex"),
        "{map}"
    );

    // Without focus, the same budget goes to the most called functions instead, and the
    // uncalled leaf of the catalog does not make it.
    let (unfocused, _) = g.repo_map(budget, &[]);
    assert!(!unfocused.contains("def legacy_export"), "{unfocused}");
    assert!(unfocused.contains("def normalize_sku(sku)"), "{unfocused}");

    // A focus on one uncalled function, with room for one entry: that function.
    let (one, _) = g.repo_map(23, &strings(&["MyApp.Catalog.legacy_export/0"]));
    let line = g.definitions("MyApp.Catalog.legacy_export/0")[0].start_line;
    assert_eq!(
        one,
        format!("lib/my_app/catalog.ex:\n  MyApp.Catalog\n    {line}: def legacy_export\n")
    );
}

/// The API first; the room it leaves goes to the public functions of internal modules
/// (`@moduledoc false`: a project's stages and workers). A focus shows what it reaches
/// whatever its documentation says, and a private function it names.
#[test]
fn repo_map_fills_its_room_with_internal_modules_and_shows_an_internal_focus() {
    let api = "defmodule Pipe do\n  @moduledoc \"Pipelines.\"\n  def start_link(opts), do: Pipe.Stage.start(opts)\n\n  def stop(name), do: Pipe.Terminator.drain(name)\nend\n";
    let stage = "defmodule Pipe.Stage do\n  @moduledoc false\n  def start(opts), do: schedule(opts)\n\n  defp schedule(opts), do: opts\nend\n";
    let terminator = "defmodule Pipe.Terminator do\n  @moduledoc false\n  def drain(name), do: flush(name)\n\n  defp flush(name), do: name\nend\n";
    let mut chunks = chunks_of("lib/pipe.ex", api);
    chunks.extend(chunks_of("lib/pipe/stage.ex", stage));
    chunks.extend(chunks_of("lib/pipe/terminator.ex", terminator));
    let g = SymbolGraph::build(&chunks);
    let signatures =
        |map: &str| -> Vec<String> { parse_map(map).into_iter().map(|(_, _, s)| s).collect() };
    // Room for everything: the API and the internal modules' public functions, never a
    // private one.
    let (all, _) = g.repo_map(10_000, &[]);
    assert_eq!(
        signatures(&all),
        [
            "def start_link(opts)",
            "def stop(name)",
            "def start(opts)",
            "def drain(name)"
        ],
        "{all}"
    );
    // Room for the API alone: the API, though the internal functions rank as high.
    let (api_only, tokens) = g.repo_map(24, &[]);
    assert!(tokens <= 24);
    assert_eq!(
        signatures(&api_only),
        ["def start_link(opts)", "def stop(name)"],
        "{api_only}"
    );
    // A focus on an internal function: it and what it reaches come first; a focus on a
    // private one shows it.
    let (drain, _) = g.repo_map(22, &strings(&["Pipe.Terminator.drain/1"]));
    assert_eq!(signatures(&drain), ["def drain(name)"], "{drain}");
    let (flush, _) = g.repo_map(22, &strings(&["Pipe.Terminator.flush/1"]));
    assert_eq!(signatures(&flush), ["defp flush(name)"], "{flush}");
    // With room, what the focus reaches comes too, private or not.
    let (reach, _) = g.repo_map(10_000, &strings(&["Pipe.Terminator.drain/1"]));
    assert!(
        signatures(&reach).contains(&"defp flush(name)".to_string()),
        "{reach}"
    );
    let (module, _) = g.repo_map(10_000, &strings(&["Pipe.Terminator"]));
    assert!(
        signatures(&module).contains(&"defp flush(name)".to_string()),
        "{module}"
    );
}

/// An internal function called from five modules or more is shown with the API, before
/// other internal modules' functions (Scholar's `Shared.to_float_type/1`, called from 30
/// modules, was left out of an 8,000-token map).
#[test]
fn repo_map_shows_a_widely_used_internal_function_with_the_api() {
    let shared = "defmodule Sci.Shared do\n  @moduledoc false\n  def to_float(x), do: x * 1.0\n\n  def rarely(x), do: x\nend\n";
    let mut chunks = chunks_of("lib/sci/shared.ex", shared);
    for i in 0..5 {
        let user = format!(
            "defmodule Sci.M{i} do\n  @moduledoc \"Model {i}.\"\n  def fit(x), do: Sci.Shared.to_float(x)\nend\n"
        );
        chunks.extend(chunks_of(&format!("lib/sci/m{i}.ex"), &user));
    }
    chunks.extend(chunks_of(
        "lib/sci/other.ex",
        "defmodule Sci.Other do\n  @moduledoc false\n  def go(x), do: Sci.Shared.rarely(x)\nend\n",
    ));
    for g in merged_halves(&chunks)
        .iter()
        .chain([&SymbolGraph::build(&chunks)])
    {
        let signatures = |budget: usize| -> Vec<String> {
            let (map, _) = g.repo_map(budget, &[]);
            parse_map(&map).into_iter().map(|(_, _, s)| s).collect()
        };
        // The smallest map showing it shows it with the API, not after all of it; and no
        // internal function called from fewer modules.
        let first = (10..400)
            .map(signatures)
            .find(|s| s.iter().any(|x| x == "def to_float(x)"))
            .expect("to_float/1 in a map");
        let fits = first.iter().filter(|x| *x == "def fit(x)").count();
        assert!(fits < 5, "{first:?}");
        for internal in ["def rarely(x)", "def go(x)"] {
            assert!(
                !first.iter().any(|x| x == internal),
                "{internal}: {first:?}"
            );
        }
        assert!(signatures(10_000).iter().any(|x| x == "def go(x)"));
    }
}

#[test]
fn repo_map_never_lists_a_private_function_merged_with_a_public_one() {
    // Small neighbours are merged into one chunk; the private helper comes first.
    let src = "defmodule Shop.Format do\n  defp pad(text), do: String.pad_leading(text, 8)\n\n  def price(cents), do: pad(Integer.to_string(cents))\nend\n";
    let chunks = chunks_of("lib/shop/format.ex", src);
    assert!(
        chunks.iter().any(|c| c.defines.len() == 2),
        "the fixture relies on merging: {chunks:#?}"
    );
    let g = SymbolGraph::build(&chunks);
    let (map, tokens) = g.repo_map(1000, &[]);
    assert!(tokens <= 1000);
    assert!(!map.contains("defp"), "private function in the map:\n{map}");
    assert!(
        !map.contains("pad(text)"),
        "private function in the map:\n{map}"
    );
    assert!(
        map.contains("def price(cents)"),
        "public function missing:\n{map}"
    );
}

#[test]
fn repo_map_of_some_repositories_lists_only_theirs() {
    let shop = "defmodule Shop.Cart do\n  def total(items), do: Enum.sum(items)\nend\n";
    let blog = "defmodule Blog.Post do\n  def title(post), do: post.title\nend\n";
    let mut chunks = chunks_of("lib/shop/cart.ex", shop);
    let mut other = chunks_of("lib/blog/post.ex", blog);
    for c in &mut other {
        c.repo = "blog".into();
    }
    chunks.extend(other);
    let g = SymbolGraph::build(&chunks);
    let (both, _) = g.repo_map(1000, &[]);
    assert!(
        both.contains("def total(items)") && both.contains("def title(post)"),
        "{both}"
    );
    let (blog_only, tokens) = g.repo_map_in(1000, &[], &strings(&["blog"]));
    assert!(tokens > 0);
    assert!(blog_only.contains("def title(post)"), "{blog_only}");
    assert!(
        !blog_only.contains("total"),
        "another repository's entry:\n{blog_only}"
    );
    let (neither, tokens) = g.repo_map_in(1000, &[], &strings(&["wiki"]));
    assert_eq!((neither.as_str(), tokens), ("", 0));
}

#[test]
fn merged_functions_keep_their_own_signature_and_calls() {
    let src = "defmodule Shop.Format do\n  defp pad(text), do: String.pad_leading(text, 8)\n\n  def price(cents), do: pad(Integer.to_string(cents))\n\n  def label(name), do: String.upcase(name)\nend\n";
    let chunks = chunks_of("lib/shop/format.ex", src);
    assert!(
        chunks.iter().any(|c| c.defines.len() == 3),
        "the fixture relies on merging: {chunks:#?}"
    );
    let g = SymbolGraph::build(&chunks);

    let label = g.definitions("Shop.Format.label/1");
    assert_eq!(label.len(), 1);
    let label_line = line_of(src, "def label(name)");
    assert!(label[0].start_line <= label_line && label_line <= label[0].end_line);
    assert_eq!(label[0].signature, "def label(name)", "{label:?}");
    assert_eq!(
        g.definitions("Shop.Format.price/1")[0].signature,
        "def price(cents)"
    );

    assert_eq!(
        g.callees("Shop.Format.label/1"),
        strings(&["String.upcase/1"])
    );
    assert_eq!(
        g.callees("Shop.Format.price/1"),
        strings(&["Integer.to_string/1", "Shop.Format.pad/1"])
    );
    let pad_callers = caller_symbols(&g, "Shop.Format.pad/1");
    assert_eq!(pad_callers, strings(&["Shop.Format.price/1"]));
}

#[test]
fn graph_from_chunks_matches_the_indexed_graph() {
    let (_ix, indexed) = graph();
    let files = [
        ("lib/my_app/cart.ex", CART_EX),
        ("lib/my_app/cart/item.ex", ITEM_EX),
        ("lib/my_app/pricing.ex", PRICING_EX),
        ("lib/my_app/catalog.ex", CATALOG_EX),
        ("lib/my_app/util.ex", UTIL_EX),
        ("test/my_app/cart_test.exs", CART_TEST_EXS),
        ("mix.exs", MIX_EXS),
        (".gitignore", GITIGNORE),
    ];
    let chunks: Vec<Chunk> = files.iter().flat_map(|(p, s)| chunks_of(p, s)).collect();
    let built = SymbolGraph::build(&chunks);
    assert_eq!(built.len(), indexed.len());
    for (symbol, _) in indexed.rank(&[]) {
        assert_eq!(
            built.definitions(&symbol),
            indexed.definitions(&symbol),
            "{symbol}"
        );
        assert_eq!(built.callees(&symbol), indexed.callees(&symbol), "{symbol}");
        assert_eq!(built.callers(&symbol), indexed.callers(&symbol), "{symbol}");
    }
    assert_eq!(built.repo_map(80, &[]), indexed.repo_map(80, &[]));
}

#[test]
fn graph_follows_changes_to_the_index() {
    let ix = indexed();
    let before = ix.set.graph().unwrap();
    assert!(Arc::ptr_eq(&before, &ix.set.graph().unwrap()), "cached");
    assert_eq!(before.definitions("MyApp.Util.normalize_sku/1").len(), 1);

    // Item.new/2 stops calling normalize_sku/1; Util gains a function.
    write(
        &ix.src,
        "lib/my_app/cart/item.ex",
        &ITEM_EX.replace("Util.normalize_sku(sku)", "sku"),
    );
    write(
        &ix.src,
        "lib/my_app/util.ex",
        &UTIL_EX.replace(
            "end\nend\n",
            "end\n\n  @doc \"\"\"\n  Whether a product code is made of upper-case letters only, as the catalog stores them.\n  \"\"\"\n  def canonical?(sku), do: normalize_sku(sku) == sku\nend\n",
        ),
    );
    let stats = ix
        .set
        .ingest_dir("shop", &ix.src, &IngestOptions::default(), None)
        .unwrap();
    assert_eq!(stats.files_indexed, 2, "{stats:?}");

    let after = ix.set.graph().unwrap();
    assert!(
        !Arc::ptr_eq(&before, &after),
        "the cache was dropped on commit"
    );
    let callers = caller_symbols(&after, "MyApp.Util.normalize_sku/1");
    assert_eq!(
        callers,
        strings(&[
            "MyApp.Catalog.unit_price/1",
            "MyApp.Catalog.known?/1",
            "MyApp.Util.canonical?/1",
        ])
    );
    assert_eq!(after.definitions("MyApp.Util.canonical?").len(), 1);
    assert_eq!(
        after.callees("MyApp.Cart.Item.new/2"),
        strings(&["MyApp.Cart.Item.__struct__/0"])
    );
    // The old graph is a snapshot, untouched.
    assert_eq!(before.callers("MyApp.Util.normalize_sku/1").len(), 3);

    // Removing the repository empties the graph.
    ix.set.remove_repo("shop").unwrap();
    let empty = ix.set.graph().unwrap();
    assert!(empty.is_empty());
    assert!(empty.rank(&[]).is_empty());
    assert_eq!(empty.repo_map(100, &[]), (String::new(), 0));
}

/// A generated function calling thousands of functions, each several times, through a
/// module name and through an import, split over many parts: every callee once, in the
/// order first called, in the chunk and in the graph. (The checks before each push
/// used to take quadratic time: 13 s to chunk such a 2 MB file, 8 s to build its graph.)
#[test]
fn a_generated_function_with_thousands_of_calls_lists_each_callee_once_in_call_order() {
    const N: usize = 3000;
    let mut lib = String::from("defmodule Gen.Lib do\n");
    for i in 0..N {
        lib.push_str(&format!("  def g{i}, do: {i}\n"));
    }
    lib.push_str("end\n");
    let mut user = String::from("defmodule Gen.User do\n  import Gen.Lib\n\n  def big do\n");
    // Each function called by name and through the import, in a scrambled order with
    // repeats: `Gen.Lib.g{(7 i) mod N}` then `g{i}`.
    let mut first_order: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for i in 0..2 * N {
        let remote = (7 * i) % N;
        user.push_str(&format!("    Gen.Lib.g{remote}()\n    g{}()\n", i % N));
        if seen.insert(remote) {
            first_order.push(format!("Gen.Lib.g{remote}/0"));
        }
    }
    user.push_str("  end\nend\n");
    assert_eq!(first_order.len(), N, "7 and {N} are coprime");

    let mut chunks = chunks_of("lib/gen/lib.ex", &lib);
    let user_chunks = chunks_of("lib/gen/user.ex", &user);
    let big: Vec<&aiex_node::chunk::Definition> = user_chunks
        .iter()
        .flat_map(|c| &c.defines)
        .filter(|d| d.name == "big")
        .collect();
    assert!(
        user_chunks.len() > 10,
        "the fixture relies on splitting: {} chunks",
        user_chunks.len()
    );
    assert_eq!(big.len(), 1, "one definition of big, on its first part");
    assert_eq!(big[0].calls, first_order, "calls by module name");
    let unqualified: Vec<String> = (0..N).map(|i| format!("g{i}/0")).collect();
    assert_eq!(
        big[0].unqualified_calls, unqualified,
        "calls through the import"
    );

    chunks.extend(user_chunks);
    let g = SymbolGraph::build(&chunks);
    assert_eq!(g.callees_in_call_order("Gen.User.big/0"), first_order);
    let callers = caller_symbols(&g, "Gen.Lib.g5/0");
    assert_eq!(callers, strings(&["Gen.User.big/0"]));
}

/// `import` brings in every public function, `@doc false` and `@moduledoc false` ones
/// too: they are hidden from the docs, not from callers.
#[test]
fn an_import_brings_in_functions_hidden_from_the_docs() {
    let helpers = concat!(
        "defmodule Shop.Helpers do\n",
        "  @moduledoc false\n",
        "  def pluck(list, key), do: Enum.map(list, &Map.fetch!(&1, key))\n",
        "end\n",
    );
    let utils = concat!(
        "defmodule Shop.Utils do\n",
        "  @moduledoc \"Utilities.\"\n",
        "  @doc false\n",
        "  def text_to_id(text), do: String.downcase(text)\n",
        "  defp secret(x), do: x\n",
        "end\n",
    );
    let user = concat!(
        "defmodule Shop.Report do\n",
        "  import Shop.Helpers, only: [pluck: 2]\n",
        "  import Shop.Utils\n",
        "  def ids(rows), do: rows |> pluck(:name) |> Enum.map(&text_to_id/1)\n",
        "  def hush(x), do: secret(x)\n",
        "end\n",
    );
    let mut chunks = chunks_of("lib/shop/helpers.ex", helpers);
    chunks.extend(chunks_of("lib/shop/utils.ex", utils));
    chunks.extend(chunks_of("lib/shop/report.ex", user));
    assert!(
        chunks
            .iter()
            .any(|c| c.name == "pluck" && c.visibility == Visibility::Hidden),
        "the fixture needs a hidden function: {chunks:#?}"
    );
    let g = SymbolGraph::build(&chunks);
    let callees = g.callees("Shop.Report.ids/1");
    for imported in ["Shop.Helpers.pluck/2", "Shop.Utils.text_to_id/1"] {
        assert!(
            callees.contains(&imported.to_string()),
            "{imported} in {callees:?}"
        );
        let callers = caller_symbols(&g, imported);
        assert_eq!(callers, strings(&["Shop.Report.ids/1"]), "{imported}");
    }
    // A private function is not imported.
    assert!(g.callers("Shop.Utils.secret/1").is_empty());
}

/// `import Mod, only: [fun: arity]` says where `fun/arity` comes from, even when `Mod`
/// is not indexed (a dependency's `Ecto.Query`); an import without a list, or with
/// `except:`, of a module not indexed says nothing about a call.
#[test]
fn an_only_list_names_where_a_call_comes_from_even_outside_the_index() {
    let src = concat!(
        "defmodule Shop.Migrations do\n",
        "  import Ecto.Query, only: [from: 2]\n",
        "  import Macro, only: [camelize: 1]\n",
        "  import Dep.Helpers\n",
        "  import Dep.Other, except: [skip: 1]\n",
        "  def versions(source), do: from(m in source, select: m.version)\n",
        "  def name(x), do: camelize(x) |> helper() |> other()\n",
        "end\n",
    );
    let g = graph_of("lib/shop/migrations.ex", src);
    assert_eq!(
        g.callees("Shop.Migrations.versions/1"),
        ["Ecto.Query.from/2"]
    );
    assert_eq!(g.callees("Shop.Migrations.name/1"), ["Macro.camelize/1"]);
    let callers = caller_symbols(&g, "Ecto.Query.from/2");
    assert_eq!(callers, strings(&["Shop.Migrations.versions/1"]));
}

/// A map that focuses on nothing lists the repository's API, not its tests, test support,
/// benchmarks or Mix project; a focus on test support still shows it.
#[test]
fn a_map_leaves_out_tests_benchmarks_and_the_mix_project() {
    let files = [
        (
            "lib/shop/cart.ex",
            "defmodule Shop.Cart do\n  def add(cart, item), do: [item | cart]\n  def total(cart), do: Enum.sum(cart)\nend\n",
        ),
        (
            "test/support/fixtures.ex",
            "defmodule Shop.Fixtures do\n  def cart, do: Shop.Cart.add([], 1) |> Shop.Cart.add(2)\n  def empty, do: cart() |> Shop.Cart.total()\nend\n",
        ),
        (
            "test/shop/cart_test.exs",
            "defmodule Shop.CartTest do\n  def helper, do: Shop.Fixtures.cart()\nend\n",
        ),
        (
            "integration_test/support/repo.ex",
            "defmodule Shop.Integration.Repo do\n  def start, do: Shop.Fixtures.empty()\nend\n",
        ),
        (
            "bench/cart_bench.exs",
            "defmodule Shop.Bench do\n  def run, do: Shop.Cart.total(Shop.Fixtures.cart())\nend\n",
        ),
        (
            "mix.exs",
            "defmodule Shop.MixProject do\n  def project, do: [app: :shop, deps: deps()]\n  defp deps, do: []\nend\n",
        ),
    ];
    let mut chunks = Vec::new();
    for (path, src) in files {
        chunks.extend(chunks_of(path, src));
    }
    let g = SymbolGraph::build(&chunks);
    let (map, _) = g.repo_map(10_000, &[]);
    let paths: Vec<String> = parse_map(&map).into_iter().map(|(p, _, _)| p).collect();
    assert!(paths.iter().all(|p| p == "lib/shop/cart.ex"), "{map}");
    assert!(
        map.contains("def add(cart, item)") && map.contains("def total(cart)"),
        "{map}"
    );
    let (focused, _) = g.repo_map(10_000, &strings(&["Shop.Fixtures"]));
    assert!(focused.contains("test/support/fixtures.ex"), "{focused}");
}

/// A module that declares a `@callback` and defines a function of the same name and
/// arity: a call runs the function, so the function is its first site, in look-ups, in
/// callees and in the map (found in Swoosh's `ApiClient.post/4`).
#[test]
fn a_function_comes_before_the_callback_of_its_name() {
    let src = concat!(
        "defmodule Shop.Client do\n",
        "  @callback post(binary) :: :ok\n",
        "\n",
        "  def post(url), do: impl().post(url)\n",
        "\n",
        "  defp impl, do: Application.fetch_env!(:shop, :client)\n",
        "end\n",
        "defmodule Shop.User do\n",
        "  def run, do: Shop.Client.post(\"x\")\n",
        "end\n",
    );
    let g = graph_of("lib/shop/client.ex", src);
    let sites = g.definitions("Shop.Client.post/1");
    let kinds: Vec<(ChunkKind, u32)> = sites.iter().map(|s| (s.kind, s.start_line)).collect();
    assert_eq!(kinds[0], (ChunkKind::Function, 4), "{kinds:?}");
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    let (map, _) = g.repo_map(10_000, &[]);
    assert!(map.contains("def post(url)"), "{map}");
}

/// A supervisor's child `{Mod, arg}` calls `Mod.child_spec/1`. Where the index holds none
/// (`use GenServer` defines it), the supervisor calls the `Mod.start_link/1` it starts;
/// where the module defines its own `child_spec/1`, that is what it calls.
#[test]
fn a_supervisor_calls_the_start_link_of_its_children() {
    let src = concat!(
        "defmodule Shop.Application do\n",
        "  use Application\n",
        "  def start(_type, _args) do\n",
        "    children = [Shop.Worker, {Shop.Pool, size: 4}]\n",
        "    Supervisor.start_link(children, strategy: :one_for_one)\n",
        "  end\n",
        "end\n",
        "defmodule Shop.Worker do\n",
        "  use GenServer\n",
        "  def start_link(arg), do: GenServer.start_link(__MODULE__, arg)\n",
        "  def init(arg), do: {:ok, arg}\n",
        "end\n",
        "defmodule Shop.Pool do\n",
        "  def child_spec(opts), do: %{id: __MODULE__, start: {__MODULE__, :start_link, [opts]}}\n",
        "  def start_link(opts), do: Agent.start_link(fn -> opts end)\n",
        "end\n",
    );
    let g = graph_of("lib/shop/application.ex", src);
    assert_eq!(
        caller_symbols(&g, "Shop.Worker.start_link/1"),
        strings(&["Shop.Application.start/2"])
    );
    assert_eq!(
        caller_symbols(&g, "Shop.Pool.child_spec/1"),
        strings(&["Shop.Application.start/2"])
    );
    // `Shop.Pool` has its own `child_spec/1`: the supervisor reaches its `start_link/1`
    // through that, not directly.
    assert_eq!(
        caller_symbols(&g, "Shop.Pool.start_link/1"),
        strings(&["Shop.Pool.child_spec/1"])
    );
    let callees = g.callees_in_call_order("Shop.Application.start/2");
    assert!(
        callees.contains(&"Shop.Worker.start_link/1".to_string()),
        "{callees:?}"
    );
}

/// A GenServer's client functions call the callbacks their messages run, so its
/// `handle_call/3` has callers, and the client function is in its context.
#[test]
fn a_genservers_client_functions_call_its_callbacks() {
    let src = concat!(
        "defmodule Shop.Cache do\n",
        "  use GenServer\n",
        "  def get(key), do: GenServer.call(__MODULE__, {:get, key})\n",
        "  def handle_call({:get, key}, _from, state), do: {:reply, Map.get(state, key), state}\n",
        "end\n",
        "defmodule Shop.Web do\n",
        "  def show(key), do: GenServer.call(Shop.Cache, {:get, key})\n",
        "end\n",
    );
    let g = graph_of("lib/shop/cache.ex", src);
    assert_eq!(
        caller_symbols(&g, "Shop.Cache.handle_call/3"),
        strings(&["Shop.Cache.get/1", "Shop.Web.show/1"])
    );
}

/// Starting a server runs its callback module's `init/1`: `GenServer.start_link(__MODULE__,
/// …)` the module's own, an alias another's. A supervisor's list of children, a module
/// in a variable or a server started by another function name no `init/1`.
#[test]
fn starting_a_server_calls_its_init() {
    let src = concat!(
        "defmodule Shop.Cache do\n",
        "  use GenServer\n",
        "  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)\n",
        "  def start(opts), do: GenServer.start(__MODULE__, opts)\n",
        "  def init(opts), do: {:ok, opts}\n",
        "end\n",
        "defmodule Shop.Sup do\n",
        "  use Supervisor\n",
        "  def start_link(arg), do: Supervisor.start_link(__MODULE__, arg)\n",
        "  def init(_arg), do: Supervisor.init([Shop.Cache], strategy: :one_for_one)\n",
        "end\n",
        "defmodule Shop.Jobs do\n",
        "  use DynamicSupervisor\n",
        "  def init(_), do: DynamicSupervisor.init(strategy: :one_for_one)\n",
        "end\n",
        "defmodule Shop.Boot do\n",
        "  def jobs, do: DynamicSupervisor.start_link(Shop.Jobs, :ok, name: Shop.Jobs)\n",
        "  def any(mod, arg), do: GenServer.start_link(mod, arg)\n",
        "  def tree, do: Supervisor.start_link([Shop.Cache], strategy: :one_for_one)\n",
        "  def init(arg), do: arg\n",
        "end\n",
    );
    for g in [graph_of("lib/shop.ex", src)]
        .into_iter()
        .chain(merged_halves(&chunks_of("lib/shop.ex", src)))
    {
        assert_eq!(
            caller_symbols(&g, "Shop.Cache.init/1"),
            strings(&["Shop.Cache.start_link/1", "Shop.Cache.start/1"])
        );
        assert_eq!(
            caller_symbols(&g, "Shop.Sup.init/1"),
            strings(&["Shop.Sup.start_link/1"])
        );
        assert_eq!(
            caller_symbols(&g, "Shop.Jobs.init/1"),
            strings(&["Shop.Boot.jobs/0"])
        );
        assert_eq!(caller_symbols(&g, "Shop.Boot.init/1"), Vec::<String>::new());
    }
    // In a `__using__`'s quote, `__MODULE__` is the using module: its `init/1` is called,
    // not the quoting module's.
    let src = concat!(
        "defmodule Shop.Server do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      use GenServer\n",
        "      def start_link(arg), do: GenServer.start_link(__MODULE__, arg)\n",
        "    end\n",
        "  end\n",
        "  def init(x), do: {:ok, x}\n",
        "end\n",
        "defmodule Shop.Counter do\n",
        "  use Shop.Server\n",
        "  def init(n), do: {:ok, n}\n",
        "end\n",
    );
    let g = graph_of("lib/shop/server.ex", src);
    assert_eq!(
        caller_symbols(&g, "Shop.Server.init/1"),
        Vec::<String>::new()
    );
    assert_eq!(
        caller_symbols(&g, "Shop.Counter.init/1"),
        strings(&["Shop.Counter.start_link/1"])
    );
}

/// Erlang's `:gen_server` and `:gen_statem`, and `GenStateMachine`, start a server as
/// `GenServer` does; with a name first, the callback module is the second argument. Their
/// `call` and `cast` (`:gen_server`'s) run `handle_call/3` and `handle_cast/2`.
#[test]
fn erlang_and_state_machine_starts_call_the_modules_init() {
    let src = concat!(
        "defmodule Conn do\n",
        "  @behaviour :gen_statem\n",
        "  def start_link(opts), do: :gen_statem.start_link(__MODULE__, opts, [])\n",
        "  def named(opts), do: :gen_statem.start({:local, :conn}, __MODULE__, opts, [])\n",
        "  def init(opts), do: {:ok, :idle, opts}\n",
        "end\n",
        "defmodule Pool do\n",
        "  @behaviour :gen_server\n",
        "  def start_link(a), do: :gen_server.start_link({:local, :pool}, Pool.Impl, a, [])\n",
        "  def start(a), do: :gen_server.start(Pool.Impl, a, [])\n",
        "  def size, do: :gen_server.call(:pool, :size)\n",
        "  def stop, do: :gen_server.cast(Pool.Impl, :stop)\n",
        "  def init(a), do: a\n",
        "  def handle_call(:size, _, s), do: {:reply, 0, s}\n",
        "end\n",
        "defmodule Pool.Impl do\n",
        "  def init(a), do: {:ok, a}\n",
        "  def handle_cast(:stop, s), do: {:stop, :normal, s}\n",
        "end\n",
        "defmodule Door do\n",
        "  use GenStateMachine\n",
        "  def start_link, do: GenStateMachine.start_link(Door, :locked)\n",
        "  def init(state), do: {:ok, state, nil}\n",
        "end\n",
    );
    for g in [graph_of("lib/conn.ex", src)]
        .into_iter()
        .chain(merged_halves(&chunks_of("lib/conn.ex", src)))
    {
        assert_eq!(
            caller_symbols(&g, "Conn.init/1"),
            strings(&["Conn.start_link/1", "Conn.named/1"])
        );
        assert_eq!(
            caller_symbols(&g, "Pool.Impl.init/1"),
            strings(&["Pool.start_link/1", "Pool.start/1"])
        );
        assert_eq!(caller_symbols(&g, "Pool.init/1"), Vec::<String>::new());
        assert_eq!(
            caller_symbols(&g, "Pool.handle_call/3"),
            strings(&["Pool.size/0"])
        );
        assert_eq!(
            caller_symbols(&g, "Pool.Impl.handle_cast/2"),
            strings(&["Pool.stop/0"])
        );
        assert_eq!(
            caller_symbols(&g, "Door.init/1"),
            strings(&["Door.start_link/0"])
        );
    }
}

/// A module a test defines in its body calls, in its module-level code, what its own
/// `use` brings (Membrane's `use Membrane.Sink` and `def_input_pad :input` inside a
/// `test`), not what the test module's does.
#[test]
fn a_module_a_test_defines_calls_from_its_module_body() {
    let lib = concat!(
        "defmodule Shop.Sink do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      import Shop.Sink.Pads\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Shop.Sink.Pads do\n",
        "  defmacro def_input_pad(name, spec), do: {name, spec}\n",
        "  def helper, do: :ok\n",
        "end\n",
        "defmodule Shop.DataCase do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      import Shop.Factory\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Shop.Factory do\n",
        "  def insert(x), do: x\n",
        "end\n",
    );
    let test = concat!(
        "defmodule Shop.SinkTest do\n",
        "  use Shop.DataCase\n",
        "  test \"pads\" do\n",
        "    defmodule PadSink do\n",
        "      use Shop.Sink\n",
        "      @moduledoc false\n",
        "      def_input_pad :input, accepted_format: :any\n",
        "      def handle_init(_, _), do: helper()\n",
        "      def handle_other(x), do: insert(x)\n",
        "      plug :check\n",
        "      def check(conn, _opts), do: conn\n",
        "    end\n",
        "    assert PadSink.handle_init(1, 2)\n",
        "  end\n",
        "end\n",
    );
    let mut chunks = chunks_of("lib/shop/sink.ex", lib);
    chunks.extend(chunks_of("test/shop/sink_test.exs", test));
    let g = SymbolGraph::build(&chunks);
    assert_eq!(
        caller_symbols(&g, "Shop.Sink.Pads.def_input_pad/2"),
        strings(&["test/shop/sink_test.exs:4 Shop.SinkTest.PadSink"])
    );
    assert_eq!(
        caller_symbols(&g, "Shop.Sink.__using__/1"),
        strings(&["test/shop/sink_test.exs:4 Shop.SinkTest.PadSink"])
    );
    // Its functions' calls resolve through its `use` too.
    assert_eq!(
        caller_symbols(&g, "Shop.Sink.Pads.helper/0"),
        strings(&["Shop.SinkTest.PadSink.handle_init/2"])
    );
    // A plug of its own function calls it.
    assert_eq!(
        caller_symbols(&g, "Shop.SinkTest.PadSink.check/2"),
        strings(&["test/shop/sink_test.exs:4 Shop.SinkTest.PadSink"])
    );
    // And through the test module's, in whose body it is.
    assert_eq!(
        caller_symbols(&g, "Shop.Factory.insert/1"),
        strings(&["Shop.SinkTest.PadSink.handle_other/1"])
    );
}

/// A value piped into an imported name without parentheses calls the imported function.
#[test]
fn a_pipe_into_an_imported_name_without_parentheses_calls_it() {
    let src = concat!(
        "defmodule Shop.Clean do\n",
        "  import String, only: [trim: 1]\n",
        "  def clean(x), do: x |> trim\n",
        "end\n",
    );
    let g = graph_of("lib/shop/clean.ex", src);
    assert_eq!(g.callees("Shop.Clean.clean/1"), strings(&["String.trim/1"]));
}

/// A router's routes call the controller actions, so an action has a caller and the
/// router is in its context.
#[test]
fn a_router_calls_its_controller_actions() {
    let src = concat!(
        "defmodule ShopWeb.Router do\n",
        "  use Phoenix.Router\n",
        "  scope \"/\", ShopWeb do\n",
        "    get \"/\", PageController, :home\n",
        "  end\n",
        "end\n",
        "defmodule ShopWeb.PageController do\n",
        "  def home(conn, _params), do: conn\n",
        "end\n",
    );
    let g = graph_of("lib/shop_web/router.ex", src);
    let callers = g.callers("ShopWeb.PageController.home/2");
    assert_eq!(callers.len(), 1, "{callers:#?}");
    assert_eq!(callers[0].module, "ShopWeb.Router", "{callers:#?}");
    assert_eq!(
        (callers[0].path.as_str(), callers[0].start_line),
        ("lib/shop_web/router.ex", 1)
    );
}

/// A plug pipeline calls what it names on each request: `plug :name` a function of the
/// module's, one it imports, or one its `use` defines (Plug.Router's `match/2`);
/// `plug Mod` the module's `call/2`; `pipe_through :browser` the function `pipeline`
/// defines. Module-level code that is no plug still calls none of the functions a
/// `use` defines in its own module (they do not exist yet when it runs).
#[test]
fn a_plug_calls_the_function_it_names_on_each_request() {
    let lib = concat!(
        "defmodule Shop.Router do\n",
        "  defmacro __using__(_opts) do\n",
        "    quote do\n",
        "      import Shop.Router\n",
        "      def call(conn, _opts), do: conn\n",
        "    end\n",
        "  end\n",
        "  defmacro pipeline(plug, do: block) do\n",
        "    quote do\n",
        "      defp unquote(plug)(conn, _) do\n",
        "        unquote(block)\n",
        "        conn\n",
        "      end\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Shop.MiniRouter do\n",
        "  defmacro __using__(_opts) do\n",
        "    quote do\n",
        "      def match(conn, _opts), do: conn\n",
        "      def dispatch(conn, _opts), do: conn\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Shop.Auth do\n",
        "  def fetch_user(conn, _opts), do: conn\n",
        "  def authorize(conn, _opts), do: conn\n",
        "end\n",
        "defmodule Shop.Helpers do\n",
        "  def fetch_cart(conn, _opts), do: conn\n",
        "end\n",
        "defmodule Shop.Web do\n",
        "  def controller do\n",
        "    quote do\n",
        "      import Shop.{Auth, Helpers}\n",
        "    end\n",
        "  end\n",
        "  defmacro __using__(which), do: apply(__MODULE__, which, [])\n",
        "end\n",
    );
    let app = concat!(
        "defmodule Shop.Web.Router do\n",                   // 1
        "  use Shop.Router\n",                              // 2
        "  import Shop.Auth\n",                             // 3
        "  pipeline :browser do\n",                         // 4
        "    plug :fetch_user\n",                           // 5
        "  end\n",                                          // 6
        "  scope \"/\" do\n",                               // 7
        "    pipe_through [:browser]\n",                    // 8
        "  end\n",                                          // 9
        "end\n",                                            // 10
        "defmodule Shop.Web.Api do\n",                      // 11
        "  use Shop.MiniRouter\n",                          // 12
        "  plug :match\n",                                  // 13
        "  plug :check when action in [:show]\n",           // 14
        "  plug Shop.Web.Router, at: \"/\"\n",              // 15
        "  plug :dispatch\n",                               // 16
        "  defp check(conn, _opts), do: conn\n",            // 17
        "end\n",                                            // 18
        "defmodule Shop.Web.Static do\n",                   // 19
        "  use Shop.MiniRouter\n",                          // 20
        "  import Shop.Routes\n",                           // 21
        "  plug :match\n",                                  // 22
        "  match(:assets, to: Shop.Assets)\n",              // 23
        "end\n",                                            // 24
        "defmodule Shop.Routes do\n",                       // 25
        "  defmacro match(path, opts), do: {path, opts}\n", // 26
        "end\n",                                            // 27
        "defmodule Shop.Web.CartController do\n",           // 28
        "  use Shop.Web, :controller\n",                    // 29
        "  plug :authorize\n",                              // 30
        "  plug :fetch_cart when action in [:show]\n",      // 31
        "  def show(conn, _), do: fetch_user(conn, [])\n",  // 32
        "end\n",                                            // 33
    );
    let mut chunks = chunks_of("lib/shop/router.ex", lib);
    chunks.extend(chunks_of("lib/shop_web.ex", app));
    let whole = SymbolGraph::build(&chunks);
    let merged = SymbolGraph::merge(chunks.chunks(2).map(SymbolGraph::part));
    for g in [&whole, &merged] {
        // `import Shop.{Auth, Helpers}` in the quote of the controller's `use` imports
        // both modules.
        assert_eq!(
            caller_symbols(g, "Shop.Auth.fetch_user/2"),
            strings(&[
                "lib/shop_web.ex:1 Shop.Web.Router",
                "Shop.Web.CartController.show/2"
            ])
        );
        for (callee, caller) in [
            ("Shop.Auth.authorize/2", "Shop.Web.CartController"),
            ("Shop.Helpers.fetch_cart/2", "Shop.Web.CartController"),
            ("Shop.Web.Router.browser/2", "Shop.Web.Router"),
            ("Shop.Web.Api.match/2", "Shop.Web.Api"),
            ("Shop.Web.Api.check/2", "Shop.Web.Api"),
            ("Shop.Web.Router.call/2", "Shop.Web.Api"),
            ("Shop.Web.Api.dispatch/2", "Shop.Web.Api"),
        ] {
            let callers: Vec<String> = (g.callers(callee).into_iter()).map(|s| s.module).collect();
            assert_eq!(callers, strings(&[caller]), "{callee}");
        }
        // `plug :match` calls the `match/2` the `use` defines; `match(:assets, …)` in the
        // same header is the module's body calling the imported macro, not the function.
        let callers = |symbol: &str| -> Vec<(String, u32)> {
            (g.callers(symbol).into_iter())
                .map(|s| (s.module, s.start_line))
                .collect()
        };
        assert_eq!(
            callers("Shop.Web.Static.match/2"),
            [("Shop.Web.Static".to_string(), 19)]
        );
        assert_eq!(
            callers("Shop.Routes.match/2"),
            [("Shop.Web.Static".to_string(), 19)]
        );
        // A module plug is initialised with `init/1` too (a call to a dependency is
        // kept, as any call with a module is).
        assert_eq!(
            g.callees("Shop.Web.Api"),
            strings(&[
                "Shop.MiniRouter.__using__/1",
                "Shop.Web.Api.check/2",
                "Shop.Web.Api.dispatch/2",
                "Shop.Web.Api.match/2",
                "Shop.Web.Router.call/2",
                "Shop.Web.Router.init/1",
            ])
        );
    }
}

/// Each `.heex` file a module's `embed_templates` finds defines a function of the module,
/// named after the file (with `suffix:`, under `root:`), whose calls are the components
/// the template renders: the module's own, those its `use`'s quote imports, and those
/// named with their module. A template no module embeds is no function.
#[test]
fn an_embedded_template_defines_a_function_that_renders_its_components() {
    let lib = concat!(
        "defmodule ShopWeb do\n",
        "  def html do\n",
        "    quote do\n",
        "      import ShopWeb.CoreComponents\n",
        "      alias ShopWeb.CoreComponents, as: UI\n",
        "    end\n",
        "  end\n",
        "  defmacro __using__(which), do: apply(__MODULE__, which, [])\n",
        "end\n",
        "defmodule ShopWeb.CoreComponents do\n",
        "  def flash(assigns), do: assigns\n",
        "end\n",
        "defmodule ShopWeb.Icons do\n",
        "  def logo(assigns), do: assigns\n",
        "end\n",
    );
    let layouts = concat!(
        "defmodule ShopWeb.Layouts do\n",                        // 1
        "  use ShopWeb, :html\n",                                // 2
        "  embed_templates \"layouts/*\"\n",                     // 3
        "  embed_templates \"../pages/*\", suffix: \"_page\"\n", // 4
        "  alias ShopWeb.Icons\n",                               // 5
        "  def nav(assigns), do: assigns\n",                     // 6
        "end\n",                                                 // 7
        "defmodule ShopWeb.Mailer do\n",
        "  embed_templates \"layouts/*\"\n",
        "end\n",
    );
    let app = concat!(
        "<header>\n  <.nav />\n  <.flash kind={:info} />\n  <Icons.logo />\n",
        "  <UI.flash />\n  <.plain />\n</header>\n"
    );
    // Long enough to be cut into several chunks, each rendering `<.flash>`.
    let long: String = (0..400)
        .map(|i| format!("<p class=\"row-{i}\">Row number {i} of the list</p> <.flash />\n"))
        .collect();
    let mut chunks = chunks_of("lib/shop_web.ex", lib);
    chunks.extend(chunks_of("lib/shop_web/components/layouts.ex", layouts));
    chunks.extend(chunks_of(
        "lib/shop_web/components/layouts/app.html.heex",
        app,
    ));
    chunks.extend(chunks_of(
        "lib/shop_web/components/layouts/plain.html.heex",
        "<p>Plain</p>\n",
    ));
    let long_chunks = chunks_of("lib/shop_web/pages/long.html.heex", &long);
    assert!(long_chunks.len() > 2, "{}", long_chunks.len());
    chunks.extend(long_chunks);
    chunks.extend(chunks_of(
        "lib/shop_web/pages/home.html.heex",
        "<.flash />\n",
    ));
    chunks.extend(chunks_of(
        "lib/shop_web/other/stray.html.heex",
        "<.flash />\n",
    ));
    let whole = SymbolGraph::build(&chunks);
    let merged = SymbolGraph::merge(chunks.chunks(3).map(SymbolGraph::part));
    for g in [&whole, &merged] {
        let sites = g.definitions("ShopWeb.Layouts.app/1");
        assert_eq!(sites.len(), 1, "{sites:?}");
        assert_eq!(
            (
                sites[0].path.as_str(),
                sites[0].start_line,
                sites[0].signature.as_str(),
                sites[0].generated_by.as_deref()
            ),
            (
                "lib/shop_web/components/layouts/app.html.heex",
                1,
                "def app(assigns)",
                Some("Phoenix.Component.embed_templates/2")
            )
        );
        // The module's own, its templates (`plain`, whose file comes later), imported,
        // through its alias and through its `use`'s alias.
        assert_eq!(
            g.callees("ShopWeb.Layouts.app/1"),
            strings(&[
                "ShopWeb.CoreComponents.flash/1",
                "ShopWeb.Icons.logo/1",
                "ShopWeb.Layouts.nav/1",
                "ShopWeb.Layouts.plain/1",
            ])
        );
        // A template that renders no component still defines its function; so does
        // every module whose pattern finds it.
        assert!(g.is_defined("ShopWeb.Layouts.plain/1"));
        assert!(g.is_defined("ShopWeb.Layouts.home_page/1"));
        assert!(g.is_defined("ShopWeb.Mailer.app/1"));
        // The stray template is rendered by no module: nothing resolves its `<.flash>`.
        // The long template, in many chunks, is one caller.
        assert_eq!(
            caller_symbols(g, "ShopWeb.CoreComponents.flash/1"),
            strings(&[
                "ShopWeb.Layouts.app/1",
                "ShopWeb.Layouts.home_page/1",
                "ShopWeb.Layouts.long_page/1",
            ])
        );
        assert!(!g.is_defined("ShopWeb.Layouts.stray/1"));
    }
}

/// The file of `EEx.function_from_file(:def, :page, Path.expand("templates/page.eex",
/// __DIR__), [:config, :node])` is the body of `page/2`: its calls are the function's,
/// read through the module's aliases and imports (ExDoc's formatters).
#[test]
fn an_eex_file_a_function_is_compiled_from_calls_what_its_code_calls() {
    let module = concat!(
        "defmodule Doc.Templates do\n",
        "  require EEx\n",
        "  alias Doc.Utils, as: H\n",
        "  import Doc.Format, only: [h: 1]\n",
        "  EEx.function_from_file(\n",
        "    :def,\n",
        "    :page,\n",
        "    Path.expand(\"templates/page.eex\", __DIR__),\n",
        "    [:config, :node]\n",
        "  )\n",
        "  EEx.function_from_file(:defp, :plain, \"lib/doc/other/plain.eex\")\n",
        "end\n",
    );
    let utils = "defmodule Doc.Utils do\n  def module_type(n), do: n\nend\ndefmodule Doc.Format do\n  def h(x), do: x\nend\n";
    let mut chunks = chunks_of("lib/doc/templates.ex", module);
    chunks.extend(chunks_of("lib/doc/utils.ex", utils));
    chunks.extend(chunks_of(
        "lib/doc/templates/page.eex",
        "<h1><%= h(config.title) %></h1>\n<p><%= H.module_type(node) %></p>\n",
    ));
    chunks.extend(chunks_of("lib/doc/other/plain.eex", "<%= h(\"x\") %>\n"));
    chunks.extend(chunks_of(
        "lib/doc/stray/page.eex",
        "<%= H.module_type(1) %>\n",
    ));
    let g = SymbolGraph::build(&chunks);
    let sites = g.definitions("Doc.Templates.page/2");
    let at_file: Vec<_> = (sites.iter())
        .filter(|s| s.path == "lib/doc/templates/page.eex")
        .collect();
    assert_eq!(at_file.len(), 1, "{sites:?}");
    assert_eq!(at_file[0].signature, "def page(config, node)");
    assert_eq!(
        at_file[0].generated_by.as_deref(),
        Some("EEx.function_from_file/5")
    );
    // What the template calls, beside what the line that compiles it calls.
    let page = g.callees("Doc.Templates.page/2");
    for callee in [
        "Doc.Format.h/1",
        "Doc.Utils.module_type/1",
        "EEx.function_from_file/4",
    ] {
        assert!(page.contains(&callee.to_string()), "{callee}: {page:?}");
    }
    let plain = g.callees("Doc.Templates.plain/0");
    assert!(plain.contains(&"Doc.Format.h/1".to_string()), "{plain:?}");
    // The stray template is no function's: its `H.module_type` stays as written.
    assert_eq!(
        caller_symbols(&g, "Doc.Utils.module_type/1"),
        strings(&["Doc.Templates.page/2"])
    );
}

/// A `for` over what a function of another file returns as a literal (Nx's `for {name,
/// _} <- Nx.Shared.unary_math_funs() do def unquote(name)(tensor)`) defines a function
/// per atom, where the `for` writes it, once the graph knows what the function returns.
#[test]
fn a_for_over_what_another_file_returns_defines_a_function_per_atom() {
    let shared = concat!(
        "defmodule Calc.Shared do\n",                                  // 1
        "  def unary_funs, do: [exp: {\"e\", 1}, log: {\"ln\", 2}]\n", // 2
        "  def names do\n",                                            // 3
        "    [:double, :half]\n",                                      // 4
        "  end\n",                                                     // 5
        "end\n",                                                       // 6
    );
    let calc = concat!(
        "defmodule Calc do\n",                                                // 1
        "  alias Calc.Shared\n",                                              // 2
        "  for {name, {desc, _}} <- Shared.unary_funs() do\n",                // 3
        "    @doc \"The #{desc}.\"\n",                                        // 4
        "    def unquote(name)(x), do: Calc.Math.run(unquote(name), x)\n",    // 5
        "  end\n",                                                            // 6
        "  for name <- Calc.Shared.names() do\n",                             // 7
        "    def unquote(name)(x, opts \\\\ []), do: {x, opts}\n",            // 8
        "  end\n",                                                            // 9
        "  for name <- Shared.unary_funs() do\n",                             // 10
        "    def unquote(name)(), do: :pairs_are_no_atoms\n",                 // 11
        "  end\n",                                                            // 12
        "  def twice(x), do: exp(x) + log(x)\n",                              // 13
        "  for {name, _} <- Calc.Other.funs() do\n",                          // 14
        "    def unquote(name)(x), do: {Calc.Math.zz(x), Calc.Math.aa(x)}\n", // 15
        "  end\n",                                                            // 16
        "end\n",                                                              // 17
    );
    let user = concat!(
        "defmodule Calc.User do\n",
        "  def go(x), do: Calc.exp(x) + Calc.half(x, [])\n",
        "end\n",
    );
    // A stub of the same module in the tests, and another repository's module of that
    // name: neither is the list a `for` of this repository's code runs over.
    let stub = "defmodule Calc.Shared do\n  def unary_funs, do: [zzz: {\"z\", 0}]\nend\n";
    let other = match chunk_file(
        "elsewhere",
        "lib/calc/shared.ex",
        b"defmodule Calc.Shared do\n  def unary_funs, do: [yyy: {\"y\", 0}]\nend\n",
        &ChunkerConfig::default(),
    ) {
        FileChunks::Chunked(cs) => cs,
        FileChunks::Skipped(r) => panic!("skipped: {r}"),
    };
    // Two other repositories define `Calc.Other.funs/0` at the same place, and this one
    // does not: the first by repository name is read, however the graph is built.
    let mut chunks = other;
    for (repo, list) in [("zeta", "[zeta_only: 1]"), ("beta", "[beta_only: 1]")] {
        let src = format!("defmodule Calc.Other do\n  def funs, do: {list}\nend\n");
        match chunk_file(
            repo,
            "lib/other.ex",
            src.as_bytes(),
            &ChunkerConfig::default(),
        ) {
            FileChunks::Chunked(cs) => chunks.extend(cs),
            FileChunks::Skipped(r) => panic!("skipped: {r}"),
        }
    }
    chunks.extend(chunks_of("test/support/shared_stub.ex", stub));
    chunks.extend(chunks_of("lib/calc/shared.ex", shared));
    chunks.extend(chunks_of("lib/calc.ex", calc));
    chunks.extend(chunks_of("lib/calc/user.ex", user));
    let whole = SymbolGraph::build(&chunks);
    let merged = SymbolGraph::merge(chunks.chunks(1).map(SymbolGraph::part));
    let pairs = SymbolGraph::merge(chunks.chunks(2).map(SymbolGraph::part));
    let reversed = SymbolGraph::merge(chunks.chunks(1).rev().map(SymbolGraph::part));
    for g in [&whole, &merged, &pairs, &reversed] {
        for symbol in ["Calc.zzz/1", "Calc.yyy/1", "Calc.zeta_only/1"] {
            assert!(g.definitions(symbol).is_empty(), "{symbol}");
        }
        assert_eq!(g.definitions("Calc.beta_only/1").len(), 1);
        // In the order the clause calls them.
        assert_eq!(
            g.callees_in_call_order("Calc.beta_only/1"),
            strings(&["Calc.Math.zz/1", "Calc.Math.aa/1"])
        );
        // It calls what the definition it is written as calls.
        assert_eq!(g.callees("Calc.exp/1"), strings(&["Calc.Math.run/2"]));
        // They stand for the definition as written among its callees' callers.
        assert_eq!(
            caller_symbols(g, "Calc.Math.run/2"),
            strings(&["Calc.exp/1", "Calc.log/1"])
        );
        assert_eq!(
            caller_symbols(g, "Calc.Math.zz/1"),
            strings(&["Calc.beta_only/1"])
        );
        let exp = g.definitions("Calc.exp/1");
        assert_eq!(exp.len(), 1, "{exp:?}");
        assert_eq!(
            (exp[0].path.as_str(), exp[0].start_line),
            ("lib/calc.ex", 5)
        );
        assert_eq!(exp[0].signature, "def exp(x)");
        assert_eq!(g.definitions("Calc.log/1").len(), 1);
        for symbol in [
            "Calc.double/1",
            "Calc.double/2",
            "Calc.half/1",
            "Calc.half/2",
        ] {
            assert_eq!(g.definitions(symbol).len(), 1, "{symbol}");
        }
        // A variable bound to a pair is no name: nothing is defined for it.
        assert!(g.definitions("Calc.exp/0").is_empty());
        assert_eq!(
            caller_symbols(g, "Calc.exp/1"),
            strings(&["Calc.twice/1", "Calc.User.go/1"])
        );
        assert_eq!(
            caller_symbols(g, "Calc.half/2"),
            strings(&["Calc.User.go/1"])
        );
        assert_eq!(caller_symbols(g, "Calc.log/1"), strings(&["Calc.twice/1"]));
    }
}

/// The Elixir code of a template calls the functions it names, as the component tags
/// do: in a `~H` through the module's own functions, imports and aliases; in an embedded
/// `.heex` file through the embedding module's (its `use`'s imports included).
#[test]
fn the_code_of_a_template_calls_the_helpers_it_names() {
    let lib = concat!(
        "defmodule ShopWeb do\n",
        "  def html do\n",
        "    quote do\n",
        "      import ShopWeb.Gettext\n",
        "    end\n",
        "  end\n",
        "  defmacro __using__(which), do: apply(__MODULE__, which, [])\n",
        "end\n",
        "defmodule ShopWeb.Gettext do\n",
        "  def translate(text), do: text\n",
        "end\n",
        "defmodule ShopWeb.Money do\n",
        "  def format(amount), do: amount\n",
        "end\n",
    );
    let page = concat!(
        "defmodule ShopWeb.PageHTML do\n",
        "  use ShopWeb, :html\n",
        "  alias ShopWeb.Money\n",
        "  embed_templates \"page_html/*\"\n",
        "  def item_class(item), do: item\n",
        "end\n",
    );
    let live = concat!(
        "defmodule ShopWeb.CartLive do\n",
        "  alias ShopWeb.Money\n",
        "  def render(assigns) do\n",
        "    ~H\"\"\"\n",
        "    <li :for={item <- visible(@items)}>{Money.format(item.price)}</li>\n",
        "    \"\"\"\n",
        "  end\n",
        "  defp visible(items), do: items\n",
        "end\n",
    );
    let template = concat!(
        "<%= for item <- @items do %>\n",
        "  <p class={item_class(item)}>{translate(\"Price\")}: <%= Money.format(item.price) %></p>\n",
        "<% end %>\n",
    );
    let mut chunks = chunks_of("lib/shop_web.ex", lib);
    chunks.extend(chunks_of("lib/shop_web/controllers/page_html.ex", page));
    chunks.extend(chunks_of(
        "lib/shop_web/controllers/page_html/show.html.heex",
        template,
    ));
    chunks.extend(chunks_of("lib/shop_web/live/cart_live.ex", live));
    let whole = SymbolGraph::build(&chunks);
    let merged = SymbolGraph::merge(chunks.chunks(2).map(SymbolGraph::part));
    for g in [&whole, &merged] {
        assert_eq!(
            g.callees("ShopWeb.PageHTML.show/1"),
            strings(&[
                "ShopWeb.Gettext.translate/1",
                "ShopWeb.Money.format/1",
                "ShopWeb.PageHTML.item_class/1",
            ])
        );
        assert_eq!(
            g.callees("ShopWeb.CartLive.render/1"),
            strings(&["ShopWeb.CartLive.visible/1", "ShopWeb.Money.format/1"])
        );
        let mut callers = caller_symbols(g, "ShopWeb.Money.format/1");
        callers.sort();
        assert_eq!(
            callers,
            strings(&["ShopWeb.CartLive.render/1", "ShopWeb.PageHTML.show/1"])
        );
    }
}

/// A `Phoenix.View` module's templates are clauses of its `render/2`, at their files, and
/// their code calls through the view: its own functions, its `use`'s imports, its aliases.
/// A LiveView with no `render/1` renders the template beside its file as `render/1`.
#[test]
fn a_phoenix_view_renders_its_templates_and_they_call_its_helpers() {
    let lib = concat!(
        "defmodule ShopWeb do\n",
        "  def view do\n",
        "    quote do\n",
        "      use Phoenix.View, root: \"lib/shop_web/templates\", namespace: ShopWeb\n",
        "      import ShopWeb.ViewHelpers\n",
        "    end\n",
        "  end\n",
        "  defmacro __using__(which), do: apply(__MODULE__, which, [])\n",
        "end\n",
        "defmodule ShopWeb.ViewHelpers do\n",
        "  def icon(name), do: name\n",
        "end\n",
        "defmodule ShopWeb.Money do\n",
        "  def format(amount), do: amount\n",
        "end\n",
    );
    let view = concat!(
        "defmodule ShopWeb.PackageView do\n",
        "  use ShopWeb, :view\n",
        "  alias ShopWeb.Money\n",
        "  def title(package), do: package.name\n",
        "end\n",
    );
    let show =
        "<h1><%= title(@package) %> <%= icon(:box) %></h1>\n<p><%= Money.format(@price) %></p>\n";
    let mut chunks = chunks_of("lib/shop_web.ex", lib);
    chunks.extend(chunks_of("lib/shop_web/views/package_view.ex", view));
    chunks.extend(chunks_of(
        "lib/shop_web/templates/package/show.html.eex",
        show,
    ));
    chunks.extend(chunks_of(
        "lib/shop_web/templates/package/index.html.heex",
        "<p>{title(@package)}</p>\n",
    ));
    // A LiveView without `render/1`, and the template beside it.
    chunks.extend(chunks_of(
        "lib/shop_web/live/cart_live.ex",
        concat!(
            "defmodule ShopWeb.CartLive do\n  use ShopWeb, :view\n  def total(cart), do: cart\n",
            "  defmodule Item do\n    use Ecto.Schema\n  end\nend\n"
        ),
    ));
    chunks.extend(chunks_of(
        "lib/shop_web/live/cart_live.html.heex",
        "<p>{total(@cart)} {icon(:cart)}</p>\n",
    ));
    let whole = SymbolGraph::build(&chunks);
    let merged = SymbolGraph::merge(chunks.chunks(2).map(SymbolGraph::part));
    for g in [&whole, &merged] {
        let mut sites: Vec<(String, String, Option<String>)> = (g
            .definitions("ShopWeb.PackageView.render/2"))
        .into_iter()
        .map(|s| (s.path, s.signature, s.generated_by))
        .collect();
        sites.sort();
        assert_eq!(
            sites,
            [
                (
                    "lib/shop_web/templates/package/index.html.heex".to_string(),
                    "def render(template, assigns)".to_string(),
                    Some("Phoenix.View".to_string())
                ),
                (
                    "lib/shop_web/templates/package/show.html.eex".to_string(),
                    "def render(template, assigns)".to_string(),
                    Some("Phoenix.View".to_string())
                ),
            ]
        );
        assert_eq!(
            g.callees("ShopWeb.PackageView.render/2"),
            strings(&[
                "ShopWeb.Money.format/1",
                "ShopWeb.PackageView.title/1",
                "ShopWeb.ViewHelpers.icon/1",
            ])
        );
        // Each template is a clause of its own, at its file.
        let mut callers: Vec<(String, String)> = (g.callers("ShopWeb.PackageView.title/1"))
            .into_iter()
            .map(|s| (s.symbol, s.path))
            .collect();
        callers.sort();
        assert_eq!(
            callers,
            [
                (
                    "ShopWeb.PackageView.render/2".to_string(),
                    "lib/shop_web/templates/package/index.html.heex".to_string()
                ),
                (
                    "ShopWeb.PackageView.render/2".to_string(),
                    "lib/shop_web/templates/package/show.html.eex".to_string()
                ),
            ]
        );
        let live = g.definitions("ShopWeb.CartLive.render/1");
        assert_eq!(live.len(), 1, "{live:?}");
        assert_eq!(
            (live[0].path.as_str(), live[0].generated_by.as_deref()),
            (
                "lib/shop_web/live/cart_live.html.heex",
                Some("Phoenix.LiveView")
            )
        );
        assert_eq!(
            g.callees("ShopWeb.CartLive.render/1"),
            strings(&["ShopWeb.CartLive.total/1", "ShopWeb.ViewHelpers.icon/1"])
        );
        // The module nested in the same file would render `item.html.heex`.
        assert!(!g.is_defined("ShopWeb.CartLive.Item.render/1"));
    }
}

/// A macro of the file whose quote writes `def unquote(name)(unquote_splicing(params))`
/// defines, at each call, the function the call's argument writes (hexpm's `Repo`):
/// it is found by `Mod.fun/arity`, its callers reach it through an alias, and it calls
/// the macro that makes it, through the module's import.
#[test]
fn a_macro_of_the_file_defines_what_its_argument_writes() {
    let src = concat!(
        "defmodule Shop.RepoHelpers do\n",
        "  defmacro defwrite({name, _meta, params}) do\n",
        "    quote do\n",
        "      def unquote(name)(unquote_splicing(params)) do\n",
        "        Shop.RepoBase.unquote(name)(unquote_splicing(params))\n",
        "      end\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Shop.Repo do\n",
        "  import Shop.RepoHelpers\n",
        "  defwrite(insert(changeset, opts \\\\ []))\n",
        "end\n",
        "defmodule Shop do\n",
        "  alias Shop.Repo\n",
        "  def save(changeset), do: Repo.insert(changeset)\n",
        "end\n",
    );
    let g = graph_of("lib/shop.ex", src);
    for symbol in ["Shop.Repo.insert/1", "Shop.Repo.insert/2"] {
        let sites: Vec<(u32, String)> = (g.definitions(symbol).into_iter())
            .map(|s| (s.start_line, s.signature))
            .collect();
        assert_eq!(
            sites,
            [(12, "def insert(changeset, opts \\\\ [])".to_string())],
            "{symbol}"
        );
    }
    assert_eq!(
        caller_symbols(&g, "Shop.Repo.insert/1"),
        strings(&["Shop.save/1"])
    );
    assert_eq!(
        g.callees("Shop.Repo.insert/2"),
        strings(&["Shop.RepoHelpers.defwrite/1"])
    );
}

/// A macro that decomposes its argument with `Macro.decompose_call/1`, or hands it to a
/// function of its module that does (Torchx's `deftensor reshape(tensor, shape)`, whose
/// `defcall` quotes `def unquote(name)(unquote_splicing(args))`), defines what the
/// argument writes where it is called; in the `do:` form too. A macro handing another
/// function's quote something else than its argument defines nothing.
#[test]
fn a_macro_defines_what_it_decomposes_itself_or_through_a_function() {
    let macros = concat!(
        "defmodule Torchx.Macro do\n",                     // 1
        "  defmacro __using__(_opts) do\n",                // 2
        "    quote do\n",                                  // 3
        "      import unquote(__MODULE__)\n",              // 4
        "    end\n",                                       // 5
        "  end\n",                                         // 6
        "  defmacro defdevice(call) do\n",                 // 7
        "    {name, args} = Macro.decompose_call(call)\n", // 8
        "    quote do\n",                                  // 9
        "      def unquote(name)(unquote_splicing(args)), do: {unquote_splicing(args)}\n", // 10
        "    end\n",                                       // 11
        "  end\n",                                         // 12
        "  defmacro deftensor(call) do\n",                 // 13
        "    defcall(call, :unwrap_tensor!)\n",            // 14
        "  end\n",                                         // 15
        "  defmacro defvalue(call), do: defcall(call, :unwrap!)\n", // 16
        "  defmacro defother(call), do: defcall(other(call), :unwrap!)\n", // 17
        "  defp other(call), do: call\n",                  // 18
        "  defp defcall(call, unwrapper) do\n",            // 19
        "    {name, args} = Macro.decompose_call(call)\n", // 20
        "    quote do\n",                                  // 21
        "      def unquote(name)(unquote_splicing(args)) do\n", // 22
        "        Torchx.NIF.unwrap(unquote(unwrapper), {unquote_splicing(args)})\n", // 23
        "      end\n",                                     // 24
        "    end\n",                                       // 25
        "  end\n",                                         // 26
        "end\n",                                           // 27
    );
    let torchx = concat!(
        "defmodule Torchx do\n",                                            // 1
        "  use Torchx.Macro\n",                                             // 2
        "  defdevice empty(shape, device)\n",                               // 3
        "  deftensor reshape(tensor, shape)\n",                             // 4
        "  defvalue item(tensor)\n",                                        // 5
        "  defother gone(tensor)\n",                                        // 6
        "end\n",                                                            // 7
        "defmodule Torchx.Backend do\n",                                    // 8
        "  def reshape(t, s), do: Torchx.reshape(t, s) |> Torchx.item()\n", // 9
        "end\n",                                                            // 10
    );
    let mut chunks = chunks_of("torchx/lib/torchx/macro.ex", macros);
    chunks.extend(chunks_of("torchx/lib/torchx.ex", torchx));
    let [ab, ba] = merged_halves(&chunks);
    for g in [SymbolGraph::build(&chunks), ab, ba] {
        for (symbol, line, by, quoted) in [
            ("Torchx.empty/2", 3, "Torchx.Macro.defdevice/1", (10, 10)),
            ("Torchx.reshape/2", 4, "Torchx.Macro.deftensor/1", (22, 24)),
            ("Torchx.item/1", 5, "Torchx.Macro.defvalue/1", (22, 24)),
        ] {
            let sites = g.definitions(symbol);
            assert_eq!(sites.len(), 1, "{symbol}: {sites:#?}");
            let s = &sites[0];
            assert_eq!(
                (
                    s.start_line,
                    s.generated_by.as_deref(),
                    s.quoted_at.as_ref().map(|q| (q.start_line, q.end_line))
                ),
                (line, Some(by), Some(quoted)),
                "{symbol}"
            );
        }
        assert!(!g.is_defined("Torchx.gone/1"));
        assert_eq!(
            g.callees("Torchx.Backend.reshape/2"),
            strings(&["Torchx.item/1", "Torchx.reshape/2"])
        );
    }
}

/// A macro whose quote defines functions by names of their own (`def schema, do:
/// @schema`, a `defstruct` in an `if`), as OpenApiSpex's `schema/2` does, defines them in
/// each module that calls it at its top: named with its module or imported. Each is sited
/// at the call, says which macro wrote it and where its quote is, and calls what its
/// quoted clauses call; a function the module writes itself stays the definition, and a
/// call inside a function defines nothing.
#[test]
fn a_macro_defines_the_functions_its_quote_names_where_a_module_calls_it() {
    let spex = concat!(
        "defmodule Spex do\n",                                             // 1
        "  defmacro schema(body, opts \\\\ []) do\n",                      // 2
        "    quote do\n",                                                  // 3
        "      @schema Spex.build_schema(unquote(body), unquote(opts))\n", // 4
        "      def schema, do: @schema\n",                                 // 5
        "      def title, do: Spex.title_of(__MODULE__.schema())\n",       // 6
        "      if Keyword.get(unquote(opts), :struct?, true) do\n",        // 7
        "        defstruct Spex.properties(@schema)\n",                    // 8
        "      end\n",                                                     // 9
        "      @behaviour Spex.Schema\n",                                  // 10
        "    end\n",                                                       // 11
        "  end\n",                                                         // 12
        "  def build_schema(body, _opts), do: body\n",                     // 13
        "  def title_of(schema), do: schema[:title]\n",                    // 14
        "  def properties(schema), do: Map.keys(schema)\n",                // 15
        "end\n",                                                           // 16
    );
    let app = concat!(
        "defmodule Shop.Schemas.User do\n", // 1
        "  require Spex\n",                 // 2
        "  Spex.schema(%{title: \"User\", properties: %{name: :string}})\n", // 3
        "end\n",                            // 4
        "defmodule Shop.Schemas.Pet do\n",  // 5
        "  import Spex\n",                  // 6
        "  schema(%{title: \"Pet\"}, struct?: false)\n", // 7
        "  def title, do: \"A pet\"\n",     // 8
        "end\n",                            // 9
        "defmodule Shop.UserController do\n", // 10
        "  alias Shop.Schemas.User\n",      // 11
        "  def show(conn), do: {conn, %User{name: User.title()}}\n", // 12
        "  def build, do: Spex.schema(%{title: \"Inline\"})\n", // 13
        "end\n",                            // 14
    );
    let mut chunks = chunks_of("lib/spex.ex", spex);
    chunks.extend(chunks_of("lib/shop/schemas.ex", app));
    let whole = SymbolGraph::build(&chunks);
    let merged = SymbolGraph::merge(chunks.chunks(2).map(SymbolGraph::part));
    for g in [&whole, &merged] {
        let site = |symbol: &str| {
            let s = sole_definition(g, symbol);
            let at = quoted_place(&s);
            (s.path, s.start_line, s.signature, s.generated_by, at)
        };
        let quoted = |from: u32, to: u32| Some(("lib/spex.ex".to_string(), from, to));
        let by = |arity: u32| Some(format!("Spex.schema/{arity}"));
        let path = "lib/shop/schemas.ex".to_string();
        assert_eq!(
            site("Shop.Schemas.User.schema/0"),
            (
                path.clone(),
                3,
                "def schema".to_string(),
                by(1),
                quoted(5, 5)
            )
        );
        assert_eq!(site("Shop.Schemas.User.title/0").1, 3);
        assert_eq!(site("Shop.Schemas.User.__struct__/0").3, by(1));
        assert_eq!(
            site("Shop.Schemas.Pet.schema/0"),
            (
                path.clone(),
                7,
                "def schema".to_string(),
                by(2),
                quoted(5, 5)
            )
        );
        // Written out, the module's own definition stands.
        assert_eq!(site("Shop.Schemas.Pet.title/0").1, 8);
        // The struct and the title are the controller's callees, through the alias.
        let callees = g.callees("Shop.UserController.show/1");
        for callee in [
            "Shop.Schemas.User.__struct__/0",
            "Shop.Schemas.User.title/0",
        ] {
            assert!(callees.iter().any(|c| c == callee), "{callee}: {callees:?}");
        }
        // The quoted `title/0` calls the module's own `schema/0`, and `Spex`'s function.
        let title = g.callees("Shop.Schemas.User.title/0");
        for callee in ["Shop.Schemas.User.schema/0", "Spex.title_of/1"] {
            assert!(title.iter().any(|c| c == callee), "{callee}: {title:?}");
        }
        // A call of the macro inside a function defines nothing in its module.
        assert!(!g.is_defined("Shop.UserController.schema/0"));
        // The quote's `@behaviour` is declared by the modules calling the macro.
        let impls: Vec<String> = (g.implementations("Spex.Schema").into_iter())
            .map(|s| s.symbol)
            .collect();
        assert_eq!(impls, strings(&["Shop.Schemas.Pet", "Shop.Schemas.User"]));
    }
}

/// A macro of another file defines functions in the modules that call it too: imported
/// (`defwrite(insert(cs))` after `import Shop.RepoHelpers`), or through a `use` whose quote
/// imports it (`pipeline :browser do … end` after `use Shop.Router`, as Phoenix's routers
/// do). Each is sited at its call, says which macro wrote it and where its quote is, and
/// is found by its callers; a function the module writes itself stays the definition.
#[test]
fn a_macro_of_another_file_defines_what_its_arguments_name() {
    let helpers = concat!(
        "defmodule Shop.RepoHelpers do\n",                        // 1
        "  defmacro defwrite({name, _meta, params}) do\n",        // 2
        "    quote do\n",                                         // 3
        "      def unquote(name)(unquote_splicing(params)) do\n", // 4
        "        Shop.RepoBase.unquote(name)(unquote_splicing(params))\n", // 5
        "      end\n",                                            // 6
        "    end\n",                                              // 7
        "  end\n",                                                // 8
        "end\n",                                                  // 9
        "defmodule Shop.Router do\n",                             // 10
        "  defmacro __using__(_opts) do\n",                       // 11
        "    quote do\n",                                         // 12
        "      import Shop.Router\n",                             // 13
        "    end\n",                                              // 14
        "  end\n",                                                // 15
        "  defmacro pipeline(plug, do: block) do\n",              // 16
        "    quote do\n",                                         // 17
        "      defp unquote(plug)(unquote(conn), _) do\n",        // 18
        "        unquote(block)\n",                               // 19
        "        conn\n",                                         // 20
        "      end\n",                                            // 21
        "    end\n",                                              // 22
        "  end\n",                                                // 23
        "end\n",                                                  // 24
    );
    let app = concat!(
        "defmodule Shop.Repo do\n",                            // 1
        "  import Shop.RepoHelpers\n",                         // 2
        "  defwrite(insert(changeset, opts \\\\ []))\n",       // 3
        "  defwrite(update(changeset))\n",                     // 4
        "  def update(changeset), do: changeset\n",            // 5
        "end\n",                                               // 6
        "defmodule Shop.Web.Router do\n",                      // 7
        "  use Shop.Router\n",                                 // 8
        "  pipeline :browser do\n",                            // 9
        "    plug :fetch_session\n",                           // 10
        "  end\n",                                             // 11
        "  def call(conn), do: browser(conn, [])\n",           // 12
        "end\n",                                               // 13
        "defmodule Shop do\n",                                 // 14
        "  alias Shop.Repo\n",                                 // 15
        "  def save(changeset), do: Repo.insert(changeset)\n", // 16
        "end\n",                                               // 17
        "defmodule Shop.Except do\n",                          // 18
        "  import Shop.RepoHelpers, except: [defwrite: 1]\n",  // 19
        "  defwrite(gone(changeset))\n",                       // 20
        "  Shop.RepoHelpers.defwrite(named(changeset))\n",     // 21
        "end\n",                                               // 22
    );
    let mut chunks = chunks_of("lib/shop/helpers.ex", helpers);
    chunks.extend(chunks_of("lib/shop.ex", app));
    // Built whole, and merged from parts that split the two files' chunks apart.
    let whole = SymbolGraph::build(&chunks);
    let merged = SymbolGraph::merge(chunks.chunks(2).map(SymbolGraph::part));
    for g in [&whole, &merged] {
        let site = |symbol: &str| {
            let s = sole_definition(g, symbol);
            let at = quoted_place(&s);
            (
                s.path,
                s.start_line,
                s.signature,
                s.visibility,
                s.generated_by,
                at,
            )
        };
        let helpers_at = |from: u32, to: u32| Some(("lib/shop/helpers.ex".to_string(), from, to));
        for symbol in ["Shop.Repo.insert/1", "Shop.Repo.insert/2"] {
            assert_eq!(
                site(symbol),
                (
                    "lib/shop.ex".to_string(),
                    3,
                    "def insert(changeset, opts \\\\ [])".to_string(),
                    Visibility::Public,
                    Some("Shop.RepoHelpers.defwrite/1".to_string()),
                    helpers_at(4, 6),
                ),
                "{symbol}"
            );
        }
        assert_eq!(
            site("Shop.Web.Router.browser/2"),
            (
                "lib/shop.ex".to_string(),
                9,
                "defp browser(conn, _)".to_string(),
                Visibility::Private,
                Some("Shop.Router.pipeline/2".to_string()),
                helpers_at(18, 21),
            )
        );
        // Written out, the module's own definition stands.
        let update = g.definitions("Shop.Repo.update/1");
        assert_eq!(update.len(), 1, "{update:?}");
        assert_eq!(
            (update[0].start_line, update[0].generated_by.clone()),
            (5, None)
        );
        assert_eq!(
            caller_symbols(g, "Shop.Repo.insert/1"),
            strings(&["Shop.save/1"])
        );
        assert_eq!(
            caller_symbols(g, "Shop.Web.Router.browser/2"),
            strings(&["Shop.Web.Router.call/1"])
        );
        // `plug :fetch_session` names no macro that defines anything.
        assert!(!g.is_defined("Shop.Web.Router.fetch_session/2"));
        // `except:` leaves the macro out; named with its module, it is called.
        assert!(!g.is_defined("Shop.Except.gone/1"));
        assert_eq!(site("Shop.Except.named/1").1, 21);
    }
    // Two repositories holding the same code: each defines its own, from its own macro.
    let other: Vec<_> = (chunks.iter().cloned())
        .map(|mut c| {
            c.repo = "other".to_string();
            c
        })
        .collect();
    chunks.extend(other);
    let g = SymbolGraph::merge(chunks.chunks(3).map(SymbolGraph::part));
    let mut sites: Vec<(String, String)> = (g.definitions("Shop.Repo.insert/1").into_iter())
        .map(|s| (s.repo, s.quoted_at.map(|q| q.file.repo).unwrap_or_default()))
        .collect();
    sites.sort();
    assert_eq!(
        sites,
        [
            ("other".to_string(), "other".to_string()),
            ("shop".to_string(), "shop".to_string())
        ]
    );
}

/// `defexception` defines `exception/1` and `message/1`: `raise Mod, opts` calls the
/// first, defined at the `defexception` line, and a `message/1` written out is the
/// definition instead of the implied one.
#[test]
fn an_exception_defines_what_raise_calls() {
    let src = concat!(
        "defmodule Shop.OutOfStock do\n",
        "  defexception [:sku]\n",
        "\n",
        "  @impl true\n",
        "  def message(%{sku: sku}), do: \"out of \" <> sku\n",
        "end\n",
        "defmodule Shop.Closed do\n",
        "  @moduledoc \"The shop is closed.\"\n",
        "  defexception message: \"closed\"\n",
        "end\n",
        "defmodule Shop do\n",
        "  def buy(sku, open?) do\n",
        "    unless open?, do: raise(Shop.Closed)\n",
        "    raise Shop.OutOfStock, sku: sku\n",
        "  end\n",
        "end\n",
    );
    let g = graph_of("lib/shop.ex", src);
    let at = |symbol: &str| -> Vec<(u32, String)> {
        let sites = g.definitions(symbol);
        sites
            .into_iter()
            .map(|s| (s.start_line, s.signature))
            .collect()
    };
    assert_eq!(
        at("Shop.Closed.exception/1"),
        [(9, "defexception message: \"closed\"".to_string())]
    );
    assert_eq!(at("Shop.Closed.message/1"), at("Shop.Closed.exception/1"));
    assert_eq!(
        at("Shop.OutOfStock.exception/1"),
        [(2, "defexception [:sku]".to_string())]
    );
    assert_eq!(
        at("Shop.OutOfStock.message/1"),
        [(5, "def message(%{sku: sku})".to_string())]
    );
    for raised in ["Shop.Closed.exception/1", "Shop.OutOfStock.exception/1"] {
        assert_eq!(
            caller_symbols(&g, raised),
            strings(&["Shop.buy/2"]),
            "{raised}"
        );
    }
    assert!(g.is_defined("Shop.Closed.exception"));
    // A module without `defexception` defines neither.
    assert!(!g.is_defined("Shop.exception/1"));
    // Two repositories holding the same exception: each defines it.
    let mut chunks = chunks_of("lib/shop.ex", src);
    let other: Vec<_> = (chunks.iter().cloned())
        .map(|mut c| {
            c.repo = "other".to_string();
            c
        })
        .collect();
    chunks.extend(other);
    let merged = SymbolGraph::merge(chunks.chunks(3).map(SymbolGraph::part));
    let mut repos: Vec<String> = (merged.definitions("Shop.Closed.exception/1").into_iter())
        .map(|s| s.repo)
        .collect();
    repos.sort();
    assert_eq!(repos, ["other", "shop"]);
}

/// A behaviour's implementations are the modules that declare `@behaviour`, `use` it
/// or `defimpl` it (a protocol); a callback's, their functions of its name and arity.
#[test]
fn implementations_of_behaviours_protocols_and_callbacks() {
    let src = concat!(
        "defmodule Shop.Storage do\n",                                  // 1
        "  @callback put(key :: String.t(), value :: term()) :: :ok\n", // 2
        "  @callback get(key :: String.t()) :: term()\n",               // 3
        "  defmacro __using__(_), do: quote(do: @behaviour Shop.Storage)\n", // 4
        "end\n",                                                        // 5
        "defmodule Shop.Storage.Memory do\n",                           // 6
        "  alias Shop.Storage\n",                                       // 7
        "  @behaviour Storage\n",                                       // 8
        "  @impl true\n",                                               // 9
        "  def put(k, v), do: Agent.update(__MODULE__, &Map.put(&1, k, v))\n", // 10
        "  @impl true\n",                                               // 11
        "  def get(k), do: Agent.get(__MODULE__, &Map.get(&1, k))\n",   // 12
        "end\n",                                                        // 13
        "defmodule Shop.Storage.Disk do\n",                             // 14
        "  use Shop.Storage\n",                                         // 15
        "  def put(_k, _v), do: :ok\n",                                 // 16
        "  def get(k, default), do: {k, default}\n",                    // 17
        "end\n",                                                        // 18
        "defprotocol Shop.Priceable do\n",                              // 19
        "  def price(item)\n",                                          // 20
        "end\n",                                                        // 21
        "defimpl Shop.Priceable, for: [Shop.Product, Shop.Bundle] do\n", // 22
        "  def price(item), do: item.price_cents\n",                    // 23
        "end\n",                                                        // 24
    );
    let g = graph_of("lib/shop.ex", src);
    let found = |symbol: &str| -> Vec<(String, u32)> {
        let sites = g.implementations(symbol);
        sites
            .into_iter()
            .map(|s| (s.symbol, s.start_line))
            .collect()
    };
    let owned = |v: &[(&str, u32)]| -> Vec<(String, u32)> {
        v.iter().map(|(s, l)| (s.to_string(), *l)).collect()
    };
    assert_eq!(
        found("Shop.Storage"),
        owned(&[("Shop.Storage.Disk", 14), ("Shop.Storage.Memory", 6)])
    );
    assert_eq!(
        found("Shop.Storage.put/2"),
        owned(&[
            ("Shop.Storage.Disk.put/2", 16),
            ("Shop.Storage.Memory.put/2", 10)
        ])
    );
    // `Disk.get/2` is another function than the callback `get/1`; by name, both.
    assert_eq!(
        found("Shop.Storage.get/1"),
        owned(&[("Shop.Storage.Memory.get/1", 12)])
    );
    assert_eq!(
        found("Shop.Storage.get"),
        owned(&[
            ("Shop.Storage.Disk.get/2", 17),
            ("Shop.Storage.Memory.get/1", 12)
        ])
    );
    assert_eq!(
        found("Shop.Priceable"),
        owned(&[
            ("Shop.Priceable.Shop.Bundle", 22),
            ("Shop.Priceable.Shop.Product", 22)
        ])
    );
    assert_eq!(
        found("Shop.Priceable.price/1"),
        owned(&[
            ("Shop.Priceable.Shop.Bundle.price/1", 23),
            ("Shop.Priceable.Shop.Product.price/1", 23)
        ])
    );
    assert!(
        g.has_implementations("Shop.Storage")
            && !g.has_implementations("Shop.Priceable.Shop.Bundle")
    );
    assert!(found("Shop.Storage.delete/1").is_empty());
    assert!(found("Shop.Storag").is_empty());

    // Through the `use`s a `use` makes: `use ShopWeb, :live_view` runs `use
    // Phoenix.LiveView` (not indexed), so the page implements it; `ShopWeb.live_view/0`
    // is no behaviour.
    let web = concat!(
        "defmodule ShopWeb do\n",
        "  def live_view do\n",
        "    quote do\n",
        "      use Phoenix.LiveView\n",
        "    end\n",
        "  end\n",
        "  defmacro __using__(which) when is_atom(which), do: apply(__MODULE__, which, [])\n",
        "end\n",
        "defmodule ShopWeb.CartLive do\n",
        "  use ShopWeb, :live_view\n",
        "  def mount(_params, _session, socket), do: {:ok, socket}\n",
        "end\n",
    );
    let g = graph_of("lib/shop_web.ex", web);
    let names = |sites: Vec<aiex_node::graph::SymbolSite>| -> Vec<String> {
        sites.into_iter().map(|s| s.symbol).collect()
    };
    assert_eq!(
        names(g.implementations("Phoenix.LiveView")),
        ["ShopWeb.CartLive"]
    );
    assert_eq!(
        names(g.implementations("Phoenix.LiveView.mount/3")),
        ["ShopWeb.CartLive.mount/3"]
    );
    assert_eq!(names(g.implementations("ShopWeb")), ["ShopWeb.CartLive"]);
    assert!(!g.has_implementations("ShopWeb.live_view/0"));

    // `use Plug.Builder` declares `@behaviour Plug`, and so do `use Plug.Router` and a
    // `use` whose quote uses one of them (Operately's plugs and APIs), the library's
    // source not indexed.
    let plugs = concat!(
        "defmodule App.Match do\n  use Plug.Builder\n  plug :match\nend\n",
        "defmodule App.Router do\n  use Plug.Router\nend\n",
        "defmodule App.Api do\n  defmacro __using__(_) do\n    quote do\n      use Plug.Builder\n    end\n  end\nend\n",
        "defmodule App.External do\n  use App.Api\nend\n",
        "defmodule App.Own do\n  @behaviour Plug\n  def init(o), do: o\n  def call(c, _), do: c\nend\n",
    );
    let g = graph_of("lib/app/plugs.ex", plugs);
    assert_eq!(
        names(g.implementations("Plug")),
        ["App.External", "App.Match", "App.Own", "App.Router"]
    );

    // A `@behaviour` the quote declares (nerves_hub_web's `use NervesHubWeb, :plug`):
    // the using module implements it, and runs nothing of it.
    let plug = concat!(
        "defmodule ShopWeb do\n",
        "  def plug do\n",
        "    quote do\n",
        "      @behaviour Plug\n",
        "      import Plug.Conn\n",
        "    end\n",
        "  end\n",
        "  defmacro __using__(which) when is_atom(which), do: apply(__MODULE__, which, [])\n",
        "end\n",
        "defmodule ShopWeb.Auth do\n",
        "  use ShopWeb, :plug\n",
        "  @impl Plug\n",
        "  def init(opts), do: opts\n",
        "  @impl Plug\n",
        "  def call(conn, _opts), do: conn\n",
        "end\n",
    );
    let g = graph_of("lib/shop_web.ex", plug);
    assert_eq!(names(g.implementations("Plug")), ["ShopWeb.Auth"]);
    assert_eq!(
        names(g.implementations("Plug.call/2")),
        ["ShopWeb.Auth.call/2"]
    );
    assert!(!g.has_implementations("@behaviour Plug"));

    // A module defined in a test's body is not credited with the test module's `use`s
    // (it is with its own `@behaviour`s); a module defined twice (under `if` and `else`) is listed at each place, its
    // functions once each; `defexception` declares `Exception`.
    let more = concat!(
        "defmodule Shop.WorkerTest do\n",                          // 1
        "  use ExUnit.Case\n",                                     // 2
        "  test \"x\" do\n",                                       // 3
        "    defmodule Fake do\n",                                 // 4
        "      @behaviour Shop.Storage\n",                         // 5
        "      def put(_, _), do: :ok\n",                          // 6
        "    end\n",                                               // 7
        "  end\n",                                                 // 8
        "end\n",                                                   // 9
        "if Code.ensure_loaded?(Jason) do\n",                      // 10
        "  defmodule Shop.Codec do\n",                             // 11
        "    use Shop.Storage\n",                                  // 12
        "    @behaviour Shop.Storage\n",                           // 13
        "    def put(k, v), do: Jason.encode!({k, v})\n",          // 14
        "  end\n",                                                 // 15
        "else\n",                                                  // 16
        "  defmodule Shop.Codec do\n",                             // 17
        "    @behaviour Shop.Storage\n",                           // 18
        "    def put(k, v), do: :erlang.term_to_binary({k, v})\n", // 19
        "  end\n",                                                 // 20
        "end\n",                                                   // 21
        "defmodule Shop.Bad do\n",                                 // 22
        "  defexception [:item]\n",                                // 23
        "end\n",                                                   // 24
    );
    let g = graph_of("lib/more.ex", more);
    assert_eq!(names(g.implementations("ExUnit.Case")), ["Shop.WorkerTest"]);
    let places = |symbol: &str| -> Vec<(String, u32)> {
        let sites = g.implementations(symbol);
        sites
            .into_iter()
            .map(|s| (s.symbol, s.start_line))
            .collect()
    };
    assert_eq!(
        places("Shop.Storage"),
        owned(&[
            ("Shop.Codec", 11),
            ("Shop.Codec", 17),
            ("Shop.WorkerTest.Fake", 4)
        ])
    );
    assert_eq!(
        places("Shop.Storage.put/2"),
        owned(&[
            ("Shop.Codec.put/2", 14),
            ("Shop.Codec.put/2", 19),
            ("Shop.WorkerTest.Fake.put/2", 6)
        ])
    );
    assert_eq!(places("Exception"), owned(&[("Shop.Bad", 22)]));
    // No `:message` field: Elixir defines no `message/1`.
    assert_eq!(
        places("Exception.exception/1"),
        owned(&[("Shop.Bad.exception/1", 23)])
    );
    assert!(places("Exception.message/1").is_empty());
}

/// A `use` defines in the module that uses it the functions its quoted code defines:
/// `MyApp.Worker.get/2` is defined by `use Shop.Base` (through `use ShopWeb, :worker`
/// as well), is called by name from the module and by other modules, and gives way to
/// a function the module writes itself. Implementations and the map list only written
/// functions, and a supervisor still reaches `start_link/1` through the generated
/// `child_spec/1`. Built in parts, the graph is the same.
#[test]
fn a_use_defines_the_functions_its_quoted_code_defines() {
    let base = concat!(
        "defmodule Shop.Base do\n",                                  // 1
        "  @callback run(term()) :: term()\n",                       // 2
        "  defmacro __using__(opts) do\n",                           // 3
        "    quote location: :keep, bind_quoted: [opts: opts] do\n", // 4
        "      @behaviour Shop.Base\n",                              // 5
        "      def child_spec(arg) do\n",                            // 6
        "        %{id: __MODULE__, start: {__MODULE__, :start_link, [arg]}}\n", // 7
        "      end\n",                                               // 8
        "      def get(id, opts \\\\ []), do: Shop.Repo.get(__MODULE__, id, opts)\n", // 9
        "      def get(nil, _), do: nil\n",                          // 10
        "      defp tidy(x), do: run(x) && gone(x) && __MODULE__.Log.put(%__MODULE__{})\n", // 11
        "      def unquote(:computed)(), do: :ok\n",                 // 12
        "      defoverridable child_spec: 1\n",                      // 13
        "    end\n",                                                 // 14
        "  end\n",                                                   // 15
        "end\n",                                                     // 16
        "defmodule ShopWeb do\n",                                    // 17
        "  def worker do\n",                                         // 18
        "    quote do\n",                                            // 19
        "      use Shop.Base\n",                                     // 20
        "    end\n",                                                 // 21
        "  end\n",                                                   // 22
        "  defmacro __using__(which) when is_atom(which), do: apply(__MODULE__, which, [])\n",
        "end\n",                                                                     // 24
        "defmodule Shop.Endpoint do\n",                                              // 25
        "  defmacro __using__(_opts) do\n",                                          // 26
        "    quote do\n",                                                            // 27
        "      unquote(server())\n",                                                 // 28
        "    end\n",                                                                 // 29
        "  end\n",                                                                   // 30
        "  defp server do\n",                                                        // 31
        "    quote do\n",                                                            // 32
        "      def start_link(opts \\\\ []), do: Supervisor.start_link([], opts)\n", // 33
        "    end\n",                                                                 // 34
        "  end\n",                                                                   // 35
        "end\n",                                                                     // 36
    );
    let users = concat!(
        "defmodule Shop.Worker do\n",                                   // 1
        "  use Shop.Base\n",                                            // 2
        "  def start_link(arg), do: Agent.start_link(fn -> arg end)\n", // 3
        "  def run(id), do: id |> get() |> tidy()\n",                   // 4
        "end\n",                                                        // 5
        "defmodule Shop.Custom do\n",                                   // 6
        "  use ShopWeb, :worker\n",                                     // 7
        "  def child_spec(arg), do: %{id: arg}\n",                      // 8
        "  def run(id), do: get(id, [])\n",                             // 9
        "end\n",                                                        // 10
        "defmodule Shop.Web.Endpoint do\n",                             // 11
        "  use Shop.Endpoint\n",                                        // 12
        "end\n",                                                        // 13
        "defmodule Shop.Sup do\n",                                      // 14
        "  def go do\n",                                                // 12
        "    Shop.Worker.get(1)\n",                                     // 13
        "    Supervisor.start_link([{Shop.Worker, 1}], strategy: :one_for_one)\n",
        "  end\n", // 15
        "end\n",   // 16
        "defmodule Shop.Routed do\n",
        "  use Shop.Hooked\n",
        "  def home, do: route(\"/\")\n",
        "end\n",
        "defmodule Shop.Worker.Log do\n",
        "  def put(x), do: x\n",
        "end\n",
        "defmodule Shop.Item do\n",
        "  use Shop.Base\n",
        "  defstruct [:a]\n",
        "end\n",
        "defmodule Shop.Op.Eq do\n",
        "  use Shop.Op\n",
        "end\n",
        "defmodule Shop.Failure do\n",
        "  use Shop.Err\n",
        "end\n",
        "defmodule Shop.Tupled do\n",
        "  @before_compile {Shop.Later, :custom}\n",
        "  def run(x), do: shout(x)\n",
        "end\n",
        "defmodule Shop.Outer do\n",
        "  @before_compile __MODULE__.Hooks\n",
        "end\n",
        "defmodule Shop.Outer.Hooks do\n",
        "  defmacro __before_compile__(_), do: quote(do: def(outer_made, do: 1))\n",
        "end\n",
        "defmodule Shop.Tabled do\n",
        "  use Shop.Lib\n",
        "  def table_name(x), do: x\n",
        "end\n",
        "defmodule Shop.Direct do\n",
        "  alias Shop.Later, as: L\n",
        "  @before_compile L\n",
        "  def go, do: later()\n",
        "end\n",
        "defmodule Shop.SpecController do\n",
        "  use Shop.Specs\n",
        "end\n",
    );
    let hooks = concat!(
        "defmodule Shop.Hooked do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      unquote(prelude())\n",
        "      @before_compile Shop.Later\n",
        "    end\n",
        "  end\n",
        "  defp prelude do\n",
        "    quote do\n",
        "      @before_compile unquote(__MODULE__)\n",
        "      import unquote(__MODULE__), only: [route: 1]\n",
        "      unquote(deeper())\n",
        "    end\n",
        "  end\n",
        "  defp deeper, do: quote(do: def(deep, do: :deep))\n",
        "  def route(path), do: path\n",
        "  defmacro __before_compile__(_env) do\n",
        "    quote do\n",
        "      def __routes__, do: []\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Shop.Later do\n",
        "  defmacro __before_compile__(_), do: quote(do: def(later, do: :ok))\n",
        "  defmacro custom(_) do\n",
        "    quote do\n",
        "      import Shop.Tools\n",
        "      def custom_made, do: :ok\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Shop.Tools do\n",
        "  def shout(x), do: x\n",
        "end\n",
        "defmodule Shop.Lib do\n",
        "  def defaults, do: []\n",
        "  def table_name(x), do: x\n",
        "  defmacro __using__(opts) do\n",
        "    quote bind_quoted: [d: __MODULE__.defaults()] do\n",
        "      def opts, do: d\n",
        "      def table, do: unquote(table_name(opts))\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Shop.Op do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      defstruct [:left, :right]\n",
        "      def new(l, r), do: struct(__MODULE__, left: l, right: r)\n",
        "      def name, do: unquote(__MODULE__.label())\n",
        "    end\n",
        "  end\n",
        "  def label, do: \"op\"\n",
        "end\n",
        "defmodule Shop.Err do\n",
        "  defmacro __using__(_), do: quote(do: defexception([:message, :code]))\n",
        "end\n",
        "defmodule Shop.Specs do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      @before_compile {Shop.Specs, :before_compile}\n",
        "    end\n",
        "  end\n",
        "  defmacro before_compile(_env) do\n",
        "    quote do\n",
        "      def open_api_operation(action), do: action\n",
        "    end\n",
        "  end\n",
        "end\n",
    );
    let mut chunks = chunks_of("lib/shop/base.ex", base);
    chunks.extend(chunks_of("lib/shop/hooks.ex", hooks));
    chunks.extend(chunks_of("lib/shop/users.ex", users));
    let g = SymbolGraph::build(&chunks);
    let site = |symbol: &str| {
        let sites = g.definitions(symbol);
        assert_eq!(sites.len(), 1, "{symbol}: {sites:#?}");
        sites.into_iter().next().unwrap()
    };

    // Sited at the using module's header, with the quote's head and its module.
    let get = site("Shop.Worker.get/2");
    assert_eq!(
        (get.path.as_str(), get.start_line, get.module.as_str()),
        ("lib/shop/users.ex", 1, "Shop.Worker")
    );
    assert_eq!(get.signature, "def get(id, opts \\\\ [])");
    assert_eq!(get.generated_by.as_deref(), Some("Shop.Base"));
    assert_eq!(get.kind, ChunkKind::Function);
    // Where the quote writes it: both clauses' lines, in the quoting function's file.
    let at = |symbol: &str| {
        site(symbol)
            .quoted_at
            .map(|q| (q.file.symbol, q.file.path, q.start_line, q.end_line))
    };
    let base_at = |symbol: &str, lines: (u32, u32)| {
        Some((
            symbol.to_string(),
            "lib/shop/base.ex".to_string(),
            lines.0,
            lines.1,
        ))
    };
    assert_eq!(
        at("Shop.Worker.get/2"),
        base_at("Shop.Base.__using__/1", (9, 10))
    );
    assert_eq!(
        at("Shop.Custom.get/1"),
        base_at("Shop.Base.__using__/1", (9, 10))
    );
    // In the helper that the `__using__` unquotes.
    assert_eq!(
        at("Shop.Web.Endpoint.start_link/1"),
        base_at("Shop.Endpoint.server/0", (33, 33))
    );
    assert_eq!(
        site("Shop.Worker.get/1").generated_by.as_deref(),
        Some("Shop.Base")
    );
    let tidy = site("Shop.Worker.tidy/1");
    assert_eq!(tidy.visibility, Visibility::Private);
    // A computed name is nobody's; quoted code defines nothing in the module it is in.
    assert!(!g.is_defined("Shop.Worker.computed/0"));
    assert!(!g.is_defined("Shop.Base.get/2"));
    assert!(!g.is_defined("ShopWeb.get/2"));

    // Through `use ShopWeb, :worker`, whose quote does `use Shop.Base`; what the module
    // writes itself is its own.
    assert_eq!(
        site("Shop.Custom.get/2").generated_by.as_deref(),
        Some("Shop.Base")
    );
    let own = site("Shop.Custom.child_spec/1");
    assert_eq!((own.start_line, own.generated_by), (8, None));
    // What a function of the used module that its `__using__` unquotes quotes.
    let start = site("Shop.Web.Endpoint.start_link/1");
    assert_eq!(
        (start.start_line, start.generated_by.as_deref()),
        (11, Some("Shop.Endpoint"))
    );
    assert!(g.is_defined("Shop.Web.Endpoint.start_link/0"));
    // What a `@before_compile` hook the quote sets quotes, also from a helper the
    // `__using__` unquotes, which imports too.
    assert_eq!(
        g.callees("Shop.Routed.home/0"),
        strings(&["Shop.Hooked.route/1"])
    );
    for (symbol, by) in [
        ("Shop.Routed.__routes__/0", "Shop.Hooked"),
        ("Shop.Routed.later/0", "Shop.Later"),
        // A helper's helper: `__using__` unquotes `prelude/0`, which unquotes `deeper/0`.
        ("Shop.Routed.deep/0", "Shop.Hooked"),
    ] {
        assert_eq!(site(symbol).generated_by.as_deref(), Some(by), "{symbol}");
    }
    assert!(!g.is_defined("Shop.Endpoint.start_link/1"));
    // A hook named with its function (`{Shop.Specs, :before_compile}`, as OpenApiSpex's
    // `ControllerSpecs` sets it): what that macro quotes.
    assert_eq!(
        site("Shop.SpecController.open_api_operation/1")
            .generated_by
            .as_deref(),
        Some("Shop.Specs")
    );
    // A `@before_compile` written in the module itself (through an alias): what its
    // hook quotes is the module's, called by name; the module calls the hook.
    assert_eq!(
        site("Shop.Direct.later/0").generated_by.as_deref(),
        Some("Shop.Later")
    );
    assert_eq!(
        g.callees("Shop.Direct.go/0"),
        strings(&["Shop.Direct.later/0"])
    );
    // What a `defstruct` or `defexception` in the quote defines; `__MODULE__` in the
    // quote is the using module, never the quoting one.
    for (symbol, by) in [
        ("Shop.Op.Eq.__struct__/0", "Shop.Op"),
        ("Shop.Failure.exception/1", "Shop.Err"),
        ("Shop.Failure.message/1", "Shop.Err"),
        ("Shop.Failure.__struct__/0", "Shop.Err"),
    ] {
        assert_eq!(site(symbol).generated_by.as_deref(), Some(by), "{symbol}");
    }
    assert_eq!(
        g.callees("Shop.Op.Eq.new/2"),
        strings(&["Shop.Op.Eq.__struct__/0"])
    );
    for quoting in ["Shop.Op.__using__/1", "Shop.Base.__using__/1"] {
        let callees = g.callees(quoting);
        assert!(
            !callees
                .iter()
                .any(|c| c.contains("__struct__") || c.contains("Log")),
            "{quoting}: {callees:?}"
        );
    }
    assert!(!g.is_defined("Shop.Op.__struct__/0"));
    // A hook named by a tuple, or through `__MODULE__`; its quote's imports land after
    // the module's own code, and reach none of it.
    for (symbol, by) in [
        ("Shop.Tupled.custom_made/0", "Shop.Later"),
        ("Shop.Outer.outer_made/0", "Shop.Outer.Hooks"),
    ] {
        assert_eq!(site(symbol).generated_by.as_deref(), Some(by), "{symbol}");
    }
    assert!(g.callees("Shop.Tupled.run/1").is_empty());
    // A quote's options, and its unquotes, run in the quoting module: their calls are
    // its own, and none of a quoted definition's.
    let lib = g.callees("Shop.Lib.__using__/1");
    for callee in ["Shop.Lib.defaults/0", "Shop.Lib.table_name/1"] {
        assert!(lib.contains(&callee.to_string()), "{callee}: {lib:?}");
    }
    assert!(g.callees("Shop.Tabled.table/0").is_empty());
    // In an unquote, `__MODULE__` is the quoting module: it runs there.
    assert!(
        g.callees("Shop.Op.__using__/1")
            .contains(&"Shop.Op.label/0".to_string())
    );
    let hook_callers = caller_symbols(&g, "Shop.Later.__before_compile__/1");
    assert!(
        hook_callers.iter().any(|c| c.contains("Shop.Direct")),
        "{hook_callers:?}"
    );

    // It calls what its quoted clauses call with a module, and what they call through
    // `__MODULE__` or by name where the using module defines it (`run/1`, the struct,
    // `__MODULE__.Log.put/1`); `gone/1`, which nothing defines, is left out.
    assert_eq!(
        g.callees("Shop.Worker.get/2"),
        strings(&["Shop.Repo.get/3"])
    );
    assert_eq!(
        g.callees_in_call_order("Shop.Worker.tidy/1"),
        strings(&["Shop.Worker.run/1", "Shop.Worker.Log.put/1"])
    );
    assert_eq!(
        g.callees_in_call_order("Shop.Item.tidy/1"),
        strings(&["Shop.Item.__struct__/0"])
    );
    assert_eq!(
        caller_symbols(&g, "Shop.Repo.get/3"),
        strings(&[
            "Shop.Base.__using__/1",
            "Shop.Worker.get/1",
            "Shop.Worker.get/2",
            "Shop.Custom.get/1",
            "Shop.Custom.get/2",
            "Shop.Item.get/1",
            "Shop.Item.get/2"
        ])
    );
    // Called by name in the module (piped too), and with the module from elsewhere.
    assert_eq!(
        g.callees_in_call_order("Shop.Worker.run/1"),
        strings(&["Shop.Worker.get/1", "Shop.Worker.tidy/1"])
    );
    assert_eq!(
        caller_symbols(&g, "Shop.Worker.get/1"),
        strings(&["Shop.Worker.run/1", "Shop.Sup.go/0"])
    );
    assert_eq!(
        g.callees("Shop.Custom.run/1"),
        strings(&["Shop.Custom.get/2"])
    );

    // The supervisor calls the generated `child_spec/1`, and still reaches the
    // `start_link/1` it starts.
    let go = g.callees_in_call_order("Shop.Sup.go/0");
    for callee in ["Shop.Worker.child_spec/1", "Shop.Worker.start_link/1"] {
        assert!(go.contains(&callee.to_string()), "{callee}: {go:?}");
    }

    // Implementations are written ones only (`child_spec/1` is no callback of
    // `Shop.Base`); so is the map.
    let impls: Vec<String> = (g.implementations("Shop.Base.child_spec/1").into_iter())
        .map(|s| s.symbol)
        .collect();
    assert_eq!(impls, strings(&["Shop.Custom.child_spec/1"]));
    let (map, _) = g.repo_map(10_000, &[]);
    assert!(!map.contains("def get(id"), "{map}");
    assert!(map.contains("    8: def child_spec(arg)\n"), "{map}");
    assert!(!map.contains("    1: def child_spec"), "{map}");

    // What the standard library's `use`s define, without its source indexed: a case
    // template's `__using__/1` (so `use Shop.DataCase` calls a definition) and a
    // process's `child_spec/1`.
    let more = concat!(
        "defmodule Shop.DataCase do\n",
        "  use ExUnit.CaseTemplate\n",
        "  using do\n",
        "    quote do\n",
        "      alias Shop.Repo\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Shop.ItemTest do\n",
        "  use Shop.DataCase\n",
        "  test \"x\", do: assert(true)\n",
        "end\n",
        "defmodule Shop.Cache do\n",
        "  use GenServer\n",
        "  def init(arg), do: {:ok, arg}\n",
        "end\n",
    );
    // ExMachina's way: a factory module `use`s a module whose quote defines
    // `insert/1..3`, and tests import the factory.
    let machina = concat!(
        "defmodule Machina do\n",
        "  defmacro __using__(_opts) do\n",
        "    quote do\n",
        "      def insert(name, attrs \\\\ %{}, opts \\\\ []), do: {name, attrs, opts}\n",
        "      def aggregate(q, a, opts \\\\ []), do: {q, a, opts}\n",
        "      def aggregate(q, a, field, opts), do: {q, a, field, opts}\n",
        "      def start_link(opts \\\\ []), do: {:ok, opts}\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Shop.Factory do\n",
        "  use Machina\n",
        "end\n",
        "defmodule Shop.FactoryTest do\n",
        "  use ExUnit.Case\n",
        "  import Shop.Factory\n",
        "  test \"y\", do: insert(:user)\n",
        "  def four, do: aggregate(1, 2, 3, 4)\n",
        "end\n",
        "defmodule Shop.App do\n",
        "  def start(_, _), do: Supervisor.start_link([Shop.Factory], strategy: :one_for_one)\n",
        "end\n",
        "defmodule Shop.BodyTest do\n",
        "  use ExUnit.Case\n",
        "  test \"a module in a test\" do\n",
        "    defmodule Made do\n",
        "      use Machina\n",
        "      def go, do: insert(:x)\n",
        "    end\n",
        "    Made.start_link([])\n",
        "  end\n",
        "end\n",
    );
    let g2 = graph_of("test/support/data_case.ex", &format!("{more}{machina}"));
    assert_eq!(
        caller_symbols(&g2, "Shop.Factory.insert/1"),
        strings(&["test/support/data_case.ex:33 y"])
    );
    // Two functions of one name at the one header: a call of one is not the other's.
    assert_eq!(
        caller_symbols(&g2, "Shop.Factory.aggregate/4"),
        strings(&["Shop.FactoryTest.four/0"])
    );
    assert!(caller_symbols(&g2, "Shop.Factory.aggregate/3").is_empty());
    // A module a test defines in its body gets what its own `use` defines.
    let made = g2.definitions("Shop.BodyTest.Made.start_link/1");
    assert_eq!(made.len(), 1, "{made:#?}");
    assert_eq!(made[0].generated_by.as_deref(), Some("Machina"));
    assert_eq!(
        g2.callees("Shop.BodyTest.Made.go/0"),
        strings(&["Shop.BodyTest.Made.insert/1"])
    );
    let in_test = caller_symbols(&g2, "Shop.BodyTest.Made.start_link/1");
    assert!(
        in_test.iter().any(|c| c.ends_with("a module in a test")),
        "{in_test:?}"
    );
    let users: Vec<String> = (g2.implementations("Machina").into_iter())
        .map(|s| s.symbol)
        .collect();
    assert!(
        users.contains(&"Shop.BodyTest.Made".to_string()),
        "{users:?}"
    );
    // A supervisor reaches a `start_link/1` a `use` defines through `child_spec/1`.
    assert_eq!(
        caller_symbols(&g2, "Shop.Factory.start_link/1"),
        strings(&["Shop.App.start/2"])
    );
    let using = g2.definitions("Shop.DataCase.__using__/1");
    assert_eq!(using.len(), 1, "{using:#?}");
    assert_eq!(
        (using[0].kind, using[0].generated_by.as_deref()),
        (ChunkKind::Macro, Some("ExUnit.CaseTemplate"))
    );
    assert_eq!(
        caller_symbols(&g2, "Shop.DataCase.__using__/1"),
        strings(&["test/support/data_case.ex:9 Shop.ItemTest"])
    );
    let spec = g2.definitions("Shop.Cache.child_spec/1");
    assert_eq!(spec.len(), 1, "{spec:#?}");
    assert_eq!(
        (spec[0].signature.as_str(), spec[0].generated_by.as_deref()),
        ("def child_spec(init_arg)", Some("GenServer"))
    );

    // Built in parts (the `use`d module in one, its users in another), the same.
    for merged in merged_halves(&chunks) {
        for symbol in [
            "Shop.Worker.get/2",
            "Shop.Worker.tidy/1",
            "Shop.Custom.get/2",
            "Shop.Custom.child_spec/1",
            "Shop.Web.Endpoint.start_link/1",
        ] {
            assert_eq!(
                merged.definitions(symbol),
                g.definitions(symbol),
                "{symbol}"
            );
        }
        assert_eq!(
            merged.callees_in_call_order("Shop.Worker.run/1"),
            g.callees_in_call_order("Shop.Worker.run/1")
        );
    }
}

/// A `use` of a widely used library whose source is not indexed (a Mix project's `deps/`
/// is git-ignored) defines what the library's quote does, as read from its source by
/// `scripts/known-uses.py`: `use Ecto.Repo` defines `all/1..2`, `get/2..3`... in the
/// repo, so its callers call a definition. Through a chain of `use`s too (`use ShopWeb,
/// :controller` quoting `use Phoenix.Controller`). What the module writes itself stays
/// its own, and where the library's source is indexed, its quotes are what count.
#[test]
fn a_use_of_a_library_not_indexed_defines_what_the_library_does() {
    let repo = "defmodule Shop.Repo do
  use Ecto.Repo, otp_app: :shop, adapter: Ecto.Adapters.Postgres

  def count(query), do: one(query)
  def reload(struct, _opts), do: struct
end
";
    let users = "defmodule Shop.Users do
  alias Shop.Repo

  def list, do: Repo.all(Shop.User)
  def fetch(id), do: Shop.User |> Repo.get!(id)
  def save(changeset), do: Repo.insert(changeset, returning: true)
end
";
    let web = "defmodule ShopWeb do
  def controller do
    quote do
      use Phoenix.Controller, formats: [:html]
    end
  end

  defmacro __using__(which) when is_atom(which), do: apply(__MODULE__, which, [])
end
";
    let controller = "defmodule ShopWeb.PageController do
  use ShopWeb, :controller

  def home(conn, _params), do: render(conn, :home)
end
";
    // A factory's `insert/1..3` is named at expansion (`def unquote(function_name)`):
    // the table has it from the library's source, read by hand.
    let factory = "defmodule Shop.Factory do
  use ExMachina.Ecto, repo: Shop.Repo

  def user_factory, do: %{name: \"Jane\"}
end

defmodule Shop.Seeds do
  import Shop.Factory

  def run, do: insert(:user)
end
";
    let mut chunks = chunks_of("lib/shop/repo.ex", repo);
    chunks.extend(chunks_of("lib/shop/users.ex", users));
    chunks.extend(chunks_of("test/support/factory.ex", factory));
    chunks.extend(chunks_of("lib/shop_web.ex", web));
    chunks.extend(chunks_of(
        "lib/shop_web/controllers/page_controller.ex",
        controller,
    ));
    let g = SymbolGraph::build(&chunks);
    let site = |g: &SymbolGraph, symbol: &str| {
        let sites = g.definitions(symbol);
        assert_eq!(sites.len(), 1, "{symbol}: {sites:#?}");
        sites.into_iter().next().unwrap()
    };

    // Sited at the repo's header, with the library's head and no quote to point at.
    for (symbol, signature) in [
        ("Shop.Repo.all/1", "def all(queryable, opts \\\\ [])"),
        ("Shop.Repo.all/2", "def all(queryable, opts \\\\ [])"),
        ("Shop.Repo.get!/2", "def get!(queryable, id, opts \\\\ [])"),
        ("Shop.Repo.insert/2", "def insert(struct, opts \\\\ [])"),
        ("Shop.Repo.one/1", "def one(queryable, opts \\\\ [])"),
        ("Shop.Repo.child_spec/1", "def child_spec(opts)"),
    ] {
        let s = site(&g, symbol);
        assert_eq!(
            (
                s.path.as_str(),
                s.start_line,
                s.signature.as_str(),
                s.generated_by.as_deref(),
                s.kind,
            ),
            (
                "lib/shop/repo.ex",
                1,
                signature,
                Some("Ecto.Repo"),
                ChunkKind::Function
            ),
            "{symbol}"
        );
        assert!(s.quoted_at.is_none(), "{symbol}");
    }
    assert!(!g.is_defined("Shop.Repo.all/3"));
    assert!(!g.is_defined("Shop.Repo.get!/1"));
    // What the repo writes itself is its own.
    let reload = site(&g, "Shop.Repo.reload/2");
    assert_eq!((reload.start_line, reload.generated_by), (5, None));
    // Its callers call the definitions, aliased, piped or not, and the repo's own code
    // calls them by name.
    assert_eq!(
        g.callees("Shop.Users.list/0"),
        strings(&["Shop.Repo.all/1"])
    );
    assert_eq!(
        g.callees("Shop.Users.fetch/1"),
        strings(&["Shop.Repo.get!/2"])
    );
    assert_eq!(
        caller_symbols(&g, "Shop.Repo.insert/2"),
        strings(&["Shop.Users.save/1"])
    );
    assert_eq!(
        g.callees("Shop.Repo.count/1"),
        strings(&["Shop.Repo.one/1"])
    );
    assert_eq!(
        g.callees("Shop.Seeds.run/0"),
        strings(&["Shop.Factory.insert/1"])
    );
    assert_eq!(
        site(&g, "Shop.Factory.insert/1").generated_by.as_deref(),
        Some("ExMachina.Ecto")
    );
    // Through the chain: the controller's `action/2`, `call/2` and `init/1`.
    for symbol in [
        "ShopWeb.PageController.action/2",
        "ShopWeb.PageController.call/2",
        "ShopWeb.PageController.init/1",
    ] {
        let s = site(&g, symbol);
        assert_eq!(
            s.generated_by.as_deref(),
            Some("Phoenix.Controller"),
            "{symbol}"
        );
    }

    // Built in parts, the same.
    for merged in merged_halves(&chunks) {
        for symbol in [
            "Shop.Repo.all/1",
            "Shop.Repo.reload/2",
            "ShopWeb.PageController.action/2",
        ] {
            assert_eq!(
                merged.definitions(symbol),
                g.definitions(symbol),
                "{symbol}"
            );
        }
        assert_eq!(
            merged.callees("Shop.Users.list/0"),
            strings(&["Shop.Repo.all/1"])
        );
    }

    // With the library's source indexed, its quote is what a `use` defines.
    let ecto = "defmodule Ecto.Repo do
  defmacro __using__(_opts) do
    quote do
      def all(queryable), do: Ecto.Repo.Queryable.all(__MODULE__, queryable)
    end
  end
end
";
    chunks.extend(chunks_of("deps/ecto/lib/ecto/repo.ex", ecto));
    let g = SymbolGraph::build(&chunks);
    let all = site(&g, "Shop.Repo.all/1");
    assert_eq!(
        (all.signature.as_str(), all.generated_by.as_deref()),
        ("def all(queryable)", Some("Ecto.Repo"))
    );
    assert!(all.quoted_at.is_some());
    assert!(!g.is_defined("Shop.Repo.all/2"));
    assert!(!g.is_defined("Shop.Repo.get!/2"));
    // What the graph cannot read from the source still comes from the table: the
    // `query/1..3` every Ecto SQL adapter's `__before_compile__` adds, and the factory's
    // `insert/1..3` ExMachina names at expansion.
    let query = site(&g, "Shop.Repo.query/1");
    assert_eq!(
        (query.signature.as_str(), query.generated_by.as_deref()),
        (
            "def query(sql, params \\\\ [], opts \\\\ [])",
            Some("Ecto.Repo")
        )
    );
    let machina = "defmodule ExMachina.Ecto do
  defmacro __using__(opts) do
    quote do
      def params_for(name, attrs \\\\ %{}), do: {name, attrs}
    end
  end
end
";
    chunks.extend(chunks_of("deps/ex_machina/lib/ex_machina/ecto.ex", machina));
    let g = SymbolGraph::build(&chunks);
    assert!(g.is_defined("Shop.Factory.params_for/1"));
    assert!(!g.is_defined("Shop.Factory.build/1"));
    assert_eq!(
        g.callees("Shop.Seeds.run/0"),
        strings(&["Shop.Factory.insert/1"])
    );
    // Each arity by its own head, as ExMachina writes them.
    for (symbol, head) in [
        ("Shop.Factory.insert/1", "def insert(factory_name)"),
        (
            "Shop.Factory.insert/3",
            "def insert(factory_name, attrs, opts)",
        ),
        (
            "Shop.Factory.insert_list/3",
            "def insert_list(number_of_records, factory_name, attrs \\\\ %{})",
        ),
    ] {
        assert_eq!(site(&g, symbol).signature, head, "{symbol}");
    }
}

/// More libraries' `use`s, as `scripts/known-uses.py` reads them from their source: a
/// Phoenix presence's `track/3..4` and `list/1`, a Splode error's `exception/1` (its quote
/// holds `defexception`, so `raise Shop.NotFound, id: 1` calls a definition), Spark's
/// options validator, Joken's token functions, Scrivener's `paginate/1..2`, Protobuf's
/// struct and codec, Bamboo's mailer, GenStage's `ConsumerSupervisor`, and Hammer's rate
/// limiter, whose functions come from the `@before_compile` module it picks from its
/// options.
#[test]
fn more_libraries_uses_define_what_their_quotes_do() {
    let src = "defmodule ShopWeb.Presence do
  use Phoenix.Presence, otp_app: :shop, pubsub_server: Shop.PubSub
end

defmodule Shop.NotFound do
  use Splode.Error, fields: [:id], class: :invalid
  def message(%{id: id}), do: \"no #{id}\"
end

defmodule Shop.ListOpts do
  use Spark.Options.Validator, schema: [limit: [type: :integer]]
end

defmodule Shop.Token do
  use Joken.Config
end

defmodule Shop.Repo do
  use Ecto.Repo, otp_app: :shop, adapter: Ecto.Adapters.Postgres
  use Scrivener, page_size: 20
end

defmodule Shop.Proto.Order do
  use Protobuf, syntax: :proto3
  field :id, 1, type: :string
end

defmodule Shop.RateLimit do
  use Hammer, backend: :ets
end

defmodule Shop.Mailer do
  use Bamboo.Mailer, otp_app: :shop
end

defmodule Shop.Executors do
  use ConsumerSupervisor
end

defmodule Shop.Orders do
  alias Shop.Proto

  def join(socket, user), do: ShopWeb.Presence.track(socket, user.id, %{})
  def online(topic), do: ShopWeb.Presence.list(topic)
  def fetch!(id), do: raise(Shop.NotFound, id: id)
  def list(opts) do
    {:ok, opts} = Shop.ListOpts.validate(opts)
    Shop.ListOpts.to_options(opts)
  end
  def sign(claims), do: Shop.Token.generate_and_sign!(claims)
  def page(query), do: Shop.Repo.paginate(query, page: 2)
  def encode(id), do: Proto.Order.encode(%Proto.Order{id: id})
  def allow?(ip), do: Shop.RateLimit.hit(ip, 1000, 10)
  def notify(email), do: Shop.Mailer.deliver_later!(email)
  def spec(opts), do: Shop.Executors.child_spec(opts)
end
";
    let chunks = chunks_of("lib/shop.ex", src);
    let expected = strings(&[
        "ShopWeb.Presence.track/3",
        "ShopWeb.Presence.list/1",
        "Shop.NotFound.exception/1",
        "Shop.ListOpts.validate/1",
        "Shop.ListOpts.to_options/1",
        "Shop.Token.generate_and_sign!/1",
        "Shop.Repo.paginate/2",
        "Shop.Proto.Order.encode/1",
        "Shop.Proto.Order.__struct__/0",
        "Shop.RateLimit.hit/3",
        "Shop.Mailer.deliver_later!/1",
        "Shop.Executors.child_spec/1",
    ]);
    let [ab, ba] = merged_halves(&chunks);
    for g in [SymbolGraph::build(&chunks), ab, ba] {
        for symbol in &expected {
            let sites = g.definitions(symbol);
            assert_eq!(sites.len(), 1, "{symbol}: {sites:#?}");
        }
        let mut called: Vec<String> = [
            "Shop.Orders.join/2",
            "Shop.Orders.online/1",
            "Shop.Orders.fetch!/1",
            "Shop.Orders.list/1",
            "Shop.Orders.sign/1",
            "Shop.Orders.page/1",
            "Shop.Orders.encode/1",
            "Shop.Orders.allow?/1",
            "Shop.Orders.notify/1",
            "Shop.Orders.spec/1",
        ]
        .iter()
        .flat_map(|f| g.callees(f))
        .filter(|c| c.starts_with("Shop"))
        .collect();
        called.sort();
        let mut want = expected.clone();
        want.sort();
        assert_eq!(called, want);
        // Where the module writes it, its own; the table's is not added beside it.
        let message = g.definitions("Shop.NotFound.message/1");
        assert_eq!(message.len(), 1, "{message:#?}");
        assert_eq!(message[0].generated_by, None);
        assert_eq!(
            g.definitions("Shop.NotFound.exception/1")[0]
                .generated_by
                .as_deref(),
            Some("Splode.Error")
        );
    }
}

/// A struct that `@derive`s a protocol implements it: the implementation
/// (`Inspect.Shop.User`, at the struct's header) is among the protocol's, and its
/// functions are defined (at the `@derive`), built whole or from parts. The struct's own
/// `inspect/2` is not one of them.
#[test]
fn a_derived_protocol_is_implemented_by_the_struct() {
    let src = "defmodule Shop.User do\n  @derive {Inspect, except: [:password]}\n  defstruct [:id, :password]\n  def inspect(user, _opts), do: user.id\nend\n\ndefmodule Shop.Cart do\n  defstruct [:items]\n\n  defimpl Inspect do\n    def inspect(cart, _opts), do: \"#Cart<>\"\n  end\nend\n";
    let chunks = chunks_of("lib/shop/user.ex", src);
    let whole = SymbolGraph::build(&chunks);
    let [ab, ba] = merged_halves(&chunks);
    for g in [&whole, &ab, &ba] {
        let mut impls: Vec<String> = (g.implementations("Inspect").into_iter())
            .map(|s| s.symbol)
            .collect();
        impls.sort();
        assert_eq!(impls, strings(&["Inspect.Shop.Cart", "Inspect.Shop.User"]));
        // Their functions: the derived one, not a function of the struct's own module.
        let mut functions: Vec<String> = (g.implementations("Inspect.inspect/2").into_iter())
            .map(|s| s.symbol)
            .collect();
        functions.sort();
        assert_eq!(
            functions,
            strings(&["Inspect.Shop.Cart.inspect/2", "Inspect.Shop.User.inspect/2"])
        );
        let defs = g.definitions("Inspect.Shop.User.inspect/2");
        assert_eq!(defs.len(), 1, "{defs:?}");
        assert_eq!(
            (defs[0].path.as_str(), defs[0].start_line),
            ("lib/shop/user.ex", 2)
        );
        assert_eq!(defs[0].signature, "@derive {Inspect, except: [:password]}");
        assert!(g.is_defined("Inspect.Shop.User.__impl__/1"));
        assert!(g.is_defined("Inspect.Shop.Cart.__impl__/1"));
        assert!(g.is_defined("Shop.User.__struct__/1"));
    }
}

/// A macro of another file called in a `for` defines a function per atom the `for`
/// binds, where an argument is its variable or an atom written around it, built whole or
/// from parts.
#[test]
fn a_macro_of_another_file_called_in_a_for_defines_a_function_per_atom() {
    let sequence = concat!(
        "defmodule Shop.Sequence do\n",                         // 1
        "  defmacro defsequence(name, code) do\n",              // 2
        "    quote bind_quoted: [name: name, code: code] do\n", // 3
        "      def unquote(name)(), do: code\n",                // 4
        "    end\n",                                            // 5
        "  end\n",                                              // 6
        "end\n",                                                // 7
    );
    let colors = concat!(
        "defmodule Shop.Colors do\n",                                  // 1
        "  import Shop.Sequence\n",                                    // 2
        "  for {color, code} <- Enum.with_index([:black, :red]) do\n", // 3
        "    defsequence(:\"light_#{color}\", code + 90)\n",           // 4
        "  end\n",                                                     // 5
        "  for n <- [1, 2] do\n",                                      // 6
        "    defsequence(:\"font_#{n}\", n)\n",                        // 7
        "  end\n",                                                     // 8
        "  def all, do: [light_red(), font_2()]\n",                    // 9
        "end\n",                                                       // 10
    );
    let mut chunks = chunks_of("lib/shop/sequence.ex", sequence);
    chunks.extend(chunks_of("lib/shop/colors.ex", colors));
    let whole = SymbolGraph::build(&chunks);
    let [ab, ba] = merged_halves(&chunks);
    for g in [&whole, &ab, &ba] {
        for (symbol, line) in [
            ("Shop.Colors.light_black/0", 4),
            ("Shop.Colors.light_red/0", 4),
            ("Shop.Colors.font_1/0", 7),
            ("Shop.Colors.font_2/0", 7),
        ] {
            let sites = g.definitions(symbol);
            assert_eq!(sites.len(), 1, "{symbol}: {sites:?}");
            assert_eq!(sites[0].start_line, line, "{symbol}");
            assert_eq!(
                sites[0].generated_by.as_deref(),
                Some("Shop.Sequence.defsequence/2"),
                "{symbol}"
            );
        }
        assert!(!g.is_defined("Shop.Colors.black/0"));
        assert_eq!(
            caller_symbols(g, "Shop.Colors.font_2/0"),
            strings(&["Shop.Colors.all/0"])
        );
    }
}

/// Calls of functions a library module exports, made without a module through an
/// `import` of it or through what a `use` imports, reach that module's function when the
/// library is not indexed (a Mix project's `deps/` is git-ignored): `cast/3` after
/// `import Ecto.Changeset`, `assign/3` in a LiveView, `json/2` in a controller whose
/// `use MyAppWeb, :controller` quote does `use Phoenix.Controller`. Imports' `only:`
/// lists, the module's own functions and an indexed library still decide.
#[test]
fn imported_library_functions_are_called_without_the_library_indexed() {
    let src = "defmodule ShopWeb do
  def controller do
    quote do
      use Phoenix.Controller, formats: [:json]
    end
  end

  defmacro __using__(which) when is_atom(which), do: apply(__MODULE__, which, [])
end

defmodule Shop.Item do
  use Ecto.Schema
  import Ecto.Changeset
  import Ecto.Query, only: [from: 2]

  schema \"items\" do
    field :name, :string
  end

  def changeset(item, attrs) do
    item
    |> cast(attrs, [:name])
    |> validate_required([:name])
    |> unique(:name)
  end

  def named(name), do: from(i in __MODULE__, where: i.name == ^name) |> where(name)
  def first_named(query), do: query |> first() |> limit(1)

  defp unique(changeset, field), do: unique_constraint(changeset, field)
  def where(query, _name), do: query
end

defmodule ShopWeb.ItemLive do
  use Phoenix.LiveView

  def mount(_params, _session, socket) do
    {:ok, socket |> assign(:items, []) |> push_event(\"loaded\", %{})}
  end
end

defmodule ShopWeb.ItemController do
  use ShopWeb, :controller

  def show(conn, _params), do: conn |> put_status(200) |> json(%{ok: true})
end

defmodule ShopWeb.ItemChannel do
  use Phoenix.Channel

  def join(_topic, _params, socket), do: {:ok, assign(socket, :joined, true)}
  def info(socket), do: {socket_ref(socket), channel(\"room:*\", ShopWeb.ItemChannel)}
end

defmodule ShopWeb.Texts do
  use Gettext, backend: ShopWeb.Gettext
  import Mox

  def hello, do: gettext(\"hello\")
  def mock, do: expect(Shop.MockClock, :now, fn -> 0 end)
end

defmodule ShopWeb.Plain do
  import Plug.Conn, except: [put_status: 2]

  def ok(conn), do: conn |> put_status(200) |> send_resp(200, \"ok\")
end

defmodule Mix.Tasks.Shop.Gen do
  import Mix.Generator

  def run(_args) do
    create_file(\"a.txt\", \"a\")
    capture_io(fn -> :ok end)
  end
end
";
    let g = graph_of("lib/shop.ex", src);
    let callees = |symbol: &str| g.callees(symbol);
    assert_eq!(
        callees("Shop.Item.changeset/2"),
        strings(&[
            "Ecto.Changeset.cast/3",
            "Ecto.Changeset.validate_required/2",
            "Shop.Item.unique/2",
        ]),
        "imported, and its own private function"
    );
    assert_eq!(
        callees("Shop.Item.unique/2"),
        strings(&["Ecto.Changeset.unique_constraint/2"])
    );
    // `only: [from: 2]` leaves `where/2` to the module's own function.
    assert_eq!(
        callees("Shop.Item.named/1"),
        strings(&["Ecto.Query.from/2", "Shop.Item.where/2"])
    );
    assert_eq!(
        callees("ShopWeb.ItemLive.mount/3"),
        strings(&[
            "Phoenix.Component.assign/3",
            "Phoenix.LiveView.push_event/3"
        ]),
        "`use Phoenix.LiveView` imports Phoenix.LiveView and, through its `use`, \
         Phoenix.Component"
    );
    assert_eq!(
        callees("ShopWeb.ItemController.show/2"),
        strings(&["Phoenix.Controller.json/2", "Plug.Conn.put_status/2"]),
        "through the project's own `use ShopWeb, :controller`"
    );
    // `only: [from: 2]`: `first/1` and `limit/2` (Ecto.Query's, not imported) call
    // nothing.
    let first_named = callees("Shop.Item.first_named/1");
    assert!(first_named.is_empty(), "{first_named:?}");
    // `use Phoenix.Channel` imports only `assign/2,3` of Phoenix.Socket, and all of
    // Phoenix.Channel.
    assert_eq!(
        callees("ShopWeb.ItemChannel.join/3"),
        strings(&["Phoenix.Socket.assign/3"])
    );
    assert_eq!(
        callees("ShopWeb.ItemChannel.info/1"),
        strings(&["Phoenix.Channel.socket_ref/1"]),
        "Phoenix.Socket's other functions are not imported"
    );
    // Gettext's macros come through its `use`, Mox's functions through an import.
    assert_eq!(
        callees("ShopWeb.Texts.hello/0"),
        strings(&["Gettext.Macros.gettext/1"])
    );
    assert_eq!(callees("ShopWeb.Texts.mock/0"), strings(&["Mox.expect/3"]));
    // `except: [put_status: 2]`.
    assert_eq!(
        callees("ShopWeb.Plain.ok/1"),
        strings(&["Plug.Conn.send_resp/3"])
    );
    // The standard library's modules alike (x509's `import Mix.Generator`); not one
    // the module does not import (`capture_io/1` is ExUnit.CaptureIO's).
    assert_eq!(
        callees("Mix.Tasks.Shop.Gen.run/1"),
        strings(&["Mix.Generator.create_file/2"])
    );
    // Built from parts and merged, the same.
    let chunks = chunks_of("lib/shop.ex", src);
    for merged in merged_halves(&chunks) {
        for caller in [
            "Shop.Item.changeset/2",
            "ShopWeb.ItemLive.mount/3",
            "ShopWeb.ItemController.show/2",
            "ShopWeb.Plain.ok/1",
        ] {
            assert_eq!(merged.callees(caller), g.callees(caller), "{caller}");
        }
    }
    assert!(caller_symbols(&g, "Ecto.Changeset.cast/3").contains(&"Shop.Item.changeset/2".into()));

    // With the library indexed, its source decides: this Ecto.Changeset defines only
    // `cast/3`, so `validate_required/2` is called on nothing.
    let library = "defmodule Ecto.Changeset do
  def cast(data, params, fields), do: {data, params, fields}
end
";
    let mut chunks = chunks_of("lib/shop.ex", src);
    chunks.extend(chunks_of("deps/ecto/lib/ecto/changeset.ex", library));
    let g = SymbolGraph::build(&chunks);
    assert_eq!(
        g.callees("Shop.Item.changeset/2"),
        strings(&["Ecto.Changeset.cast/3", "Shop.Item.unique/2"])
    );
}

/// A behaviour whose own `use` defines a default of its callback (`use Supavisor.Error`
/// quotes `def log_level(_)`): each module that uses it implements the callback, with
/// the default or its own; so does a module declaring the behaviour whose function of
/// the callback's name another module's `use` defines (it is the module's function).
#[test]
fn a_behaviours_own_use_implements_its_callback_by_default() {
    let error = r#"defmodule Shop.Error do
  @callback log_level(term()) :: atom()
  @callback message(term()) :: String.t()

  defmacro __using__(_opts) do
    quote do
      @behaviour Shop.Error
      def log_level(_), do: :error
      defoverridable log_level: 1
    end
  end
end
"#;
    let errors = r#"defmodule Shop.Errors.Timeout do
  use Shop.Error
  def message(_), do: "timeout"
end

defmodule Shop.Errors.Auth do
  use Shop.Error
  def log_level(_), do: :warning
  def message(_), do: "auth"
end

defmodule Shop.Other do
  @behaviour Shop.Error
  use Shop.Helpers
end
"#;
    // A `use` that does not declare the behaviour, in a module that does (a mixin whose
    // quote writes `@behaviour Shop.Error`:
    // `a_callback_a_mixins_use_defines_implements_the_behaviour_it_declares`).
    let helpers = r#"defmodule Shop.Helpers do
  defmacro __using__(_) do
    quote do
      def log_level(_), do: :info
    end
  end
end
"#;
    let mut chunks = chunks_of("lib/shop/error.ex", error);
    chunks.extend(chunks_of("lib/shop/errors.ex", errors));
    chunks.extend(chunks_of("lib/shop/helpers.ex", helpers));
    let g = SymbolGraph::build(&chunks);
    let impls: Vec<(String, Option<String>)> = (g.implementations("Shop.Error.log_level/1"))
        .into_iter()
        .map(|s| (s.symbol, s.generated_by))
        .collect();
    assert_eq!(
        impls,
        vec![
            ("Shop.Errors.Auth.log_level/1".to_string(), None),
            (
                "Shop.Errors.Timeout.log_level/1".to_string(),
                Some("Shop.Error".to_string())
            ),
            (
                "Shop.Other.log_level/1".to_string(),
                Some("Shop.Helpers".to_string())
            ),
        ]
    );
}

/// A case template's `using do quote do … end end` injects the functions its quote
/// defines into each test module that uses it, as a `__using__/1` quote does: a test's
/// bare call reaches them.
#[test]
fn a_case_templates_using_block_defines_its_quoted_functions() {
    let case = r#"defmodule Shop.ConvCase do
  use ExUnit.CaseTemplate

  using do
    quote do
      def open_contents, do: "x"
      def valid_range(a, b), do: {a, b}
    end
  end
end
"#;
    let test = r#"defmodule Shop.PosTest do
  use Shop.ConvCase

  test "range" do
    assert valid_range(1, 2) == {1, 2}
  end
end
"#;
    let mut chunks = chunks_of("test/support/conv_case.ex", case);
    chunks.extend(chunks_of("test/shop/pos_test.exs", test));
    let g = SymbolGraph::build(&chunks);
    let sites = g.definitions("Shop.PosTest.valid_range/2");
    assert_eq!(sites.len(), 1, "{sites:?}");
    assert_eq!(sites[0].generated_by.as_deref(), Some("Shop.ConvCase"));
    let callers: Vec<String> = (g.callers("Shop.PosTest.valid_range/2").into_iter())
        .map(|r| r.symbol)
        .collect();
    assert_eq!(callers.len(), 1, "{callers:?}");
    assert!(g.definitions("Shop.ConvCase.valid_range/2").is_empty());
}

/// A module a test defines in its body imports what it imports itself, after what the
/// test module imports: its calls without a module resolve through both (Wallaby's
/// `feature "…" do` in a module that writes `import Wallaby.Feature`).
#[test]
fn a_module_a_test_defines_calls_through_its_own_imports() {
    let feature = r#"defmodule Wallaby.Feature do
  defmacro feature(name, do: block), do: {name, block}
  def helper(x), do: x
end
"#;
    let test = r#"defmodule Wallaby.ScreenshotTest do
  use ExUnit.Case

  test "a failing feature takes a screenshot" do
    defmodule ImportFeature.FailureTest do
      use ExUnit.Case
      import Wallaby.Feature

      feature "fails" do
        :ok
      end

      def go(x), do: helper(x)
    end
  end
end
"#;
    let mut chunks = chunks_of("lib/wallaby/feature.ex", feature);
    let test_chunks = chunks_of("test/screenshot_test.exs", test);
    chunks.extend(test_chunks.iter().cloned());
    let g = SymbolGraph::build(&chunks);
    // At the line that calls it.
    let callee = aiex_node::graph::sites::Callee::of("Wallaby.Feature.feature/2").unwrap();
    let place = aiex_node::graph::sites::call_place(&test_chunks, 1, 17, &callee);
    assert_eq!(place.lines, vec![9], "{place:?}");
    let callers: Vec<String> = (g.callers("Wallaby.Feature.feature/2").into_iter())
        .map(|s| s.symbol)
        .collect();
    assert_eq!(callers.len(), 1, "{callers:?}");
    assert!(
        callers[0].contains("ImportFeature.FailureTest"),
        "{callers:?}"
    );
    let helper: Vec<String> = (g.callers("Wallaby.Feature.helper/1").into_iter())
        .map(|s| s.symbol)
        .collect();
    assert_eq!(
        helper,
        vec!["Wallaby.ScreenshotTest.ImportFeature.FailureTest.go/1".to_string()]
    );
}

/// Two `use`s whose quotes define one function: the later one's is the module's (Elixir
/// keeps the last of an overridable definition: ueberauth's `use Support.Mixins` after
/// `use Ueberauth.Strategy`). Two `use`s whose quotes import one module with different
/// `only:` lists: a call either admits resolves (Kino's `use Kino.JS.Live` then `use
/// Kino.SmartCell`, the second importing `reconfigure_smart_cell/2` too). What a quote's
/// definition calls without a module resolves through the using module's imports.
#[test]
fn later_uses_define_over_earlier_ones_and_imports_of_one_module_add_up() {
    let src = concat!(
        "defmodule Live.Context do\n",
        "  def assign(a), do: a\n",
        "  def reconfigure(a, b), do: {a, b}\n",
        "end\n",
        "defmodule Kino.JS.Live do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      import Live.Context, only: [assign: 1]\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Kino.SmartCell do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      import Live.Context, only: [assign: 1, reconfigure: 2]\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Cell do\n",
        "  use Kino.JS.Live\n",
        "  use Kino.SmartCell\n",
        "  def go(x), do: x |> assign() |> reconfigure(1)\n",
        "end\n",
        "defmodule Strategy.Helpers do\n",
        "  def request_path(conn), do: conn.path\n",
        "end\n",
        "defmodule Strategy do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      import Strategy.Helpers\n",
        "      def extra(conn), do: conn\n",
        "      defoverridable extra: 1\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Mixins do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      def extra(conn), do: {:mixed, request_path(conn)}\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Simple do\n",
        "  use Strategy\n",
        "  use Mixins\n",
        "end\n",
    );
    let g = graph_of("lib/app.ex", src);
    assert_eq!(
        g.callees("Cell.go/1"),
        ["Live.Context.assign/1", "Live.Context.reconfigure/2"]
    );
    let defs = g.definitions("Simple.extra/1");
    assert_eq!(defs.len(), 1, "{defs:#?}");
    assert_eq!(defs[0].generated_by.as_deref(), Some("Mixins"));
    assert!(defs[0].signature.contains("def extra(conn)"), "{defs:#?}");
    let quoted = defs[0].quoted_at.as_ref().expect("where Mixins quotes it");
    assert_eq!(
        quoted.start_line,
        line_of(src, "{:mixed, request_path(conn)}")
    );
    // Its call without a module goes through what the using module imports (here through
    // the other `use`'s quote), as its own code's would.
    assert_eq!(
        g.callees("Simple.extra/1"),
        ["Strategy.Helpers.request_path/1"]
    );
    let callers: Vec<String> = (g.callers("Strategy.Helpers.request_path/1").into_iter())
        .map(|s| s.symbol)
        .collect();
    assert_eq!(callers, ["Simple.extra/1"]);
}

/// A module that says where its templates are (`use Phoenix.View, root:
/// "lib/app_email", namespace: AppEmail, pattern: "**/*"`) renders those under the
/// root, read from the Mix project's directory (`app/`, Operately's), in every
/// directory the pattern reaches: their calls are its `render/2`'s.
#[test]
fn a_view_rooted_by_its_use_renders_the_templates_there() {
    let templates = concat!(
        "defmodule AppEmail.Templates do\n",
        "  use Phoenix.View, root: \"lib/app_email\", namespace: AppEmail, pattern: \"**/*\"\n",
        "  def cta_button(url, text), do: {url, text}\n",
        "end\n",
    );
    let mut chunks = chunks_of("app/lib/app_email/templates.ex", templates);
    chunks.extend(chunks_of(
        "app/lib/app_email/templates/comment_added.html.eex",
        "<p>New comment</p>\n<%= cta_button(@link, \"View Comment\") %>\n",
    ));
    chunks.extend(chunks_of(
        "app/lib/app_email/templates/partials/_footer.html.eex",
        "<%= cta_button(@home, \"Home\") %>\n",
    ));
    chunks.extend(chunks_of(
        "app/lib/app_email/other/elsewhere.html.eex",
        "<%= cta_button(@x, \"no\") %>\n",
    ));
    let g = SymbolGraph::build(&chunks);
    let mut callers: Vec<(String, String)> = (g.callers("AppEmail.Templates.cta_button/2"))
        .into_iter()
        .map(|s| (s.path, s.symbol))
        .collect();
    callers.sort();
    assert_eq!(
        callers,
        [
            (
                "app/lib/app_email/templates/comment_added.html.eex".to_string(),
                "AppEmail.Templates.render/2".to_string()
            ),
            (
                "app/lib/app_email/templates/partials/_footer.html.eex".to_string(),
                "AppEmail.Templates.render/2".to_string()
            ),
        ]
    );
}

/// An Ecto schema's inline embed (`embeds_one :metadata, Metadata do … end`) defines the
/// module `Parent.Metadata` (and one nested in it, `Parent.Metadata.Sink`), a struct,
/// implementing what its `@derive` names (Sequin's `ConsumerEventData.Metadata`).
#[test]
fn an_inline_embed_defines_its_module() {
    let src = concat!(
        "defmodule Seq.EventData do\n",
        "  use Ecto.Schema\n",
        "  @derive Jason.Encoder\n",
        "  embedded_schema do\n",
        "    field :record, :map\n",
        "    embeds_one :metadata, Metadata, primary_key: false do\n",
        "      @derive {Jason.Encoder, except: [:x]}\n",
        "      field :table_name, :string\n",
        "      embeds_one :consumer, Sink, primary_key: false do\n",
        "        @derive Jason.Encoder\n",
        "        field :id, :string\n",
        "      end\n",
        "    end\n",
        "    embeds_many :columns, Column do\n",
        "      field :name, :string\n",
        "    end\n",
        "  end\n",
        "  def new(m), do: %__MODULE__.Metadata{table_name: m}\n",
        "end\n",
    );
    let g = graph_of("lib/seq/event_data.ex", src);
    for module in [
        "Seq.EventData.Metadata",
        "Seq.EventData.Metadata.Sink",
        "Seq.EventData.Column",
    ] {
        assert!(g.has_module(module), "{module}");
        let defs = g.definitions(&format!("{module}.__struct__/0"));
        assert_eq!(defs.len(), 1, "{module}: {defs:#?}");
    }
    let names = |sites: Vec<aiex_node::graph::SymbolSite>| -> Vec<String> {
        sites.into_iter().map(|s| s.symbol).collect()
    };
    assert_eq!(
        names(g.implementations("Jason.Encoder")),
        [
            "Jason.Encoder.Seq.EventData",
            "Jason.Encoder.Seq.EventData.Metadata",
            "Jason.Encoder.Seq.EventData.Metadata.Sink"
        ]
    );
    let defs = g.definitions("Seq.EventData.Metadata");
    assert_eq!(defs.len(), 1, "{defs:#?}");
    assert!(
        defs[0]
            .signature
            .starts_with("embeds_one :metadata, Metadata"),
        "{defs:#?}"
    );
}

/// Two scripts each defining a module of one name, each implementing another behaviour:
/// a callback's implementations are each behaviour's own script's (gen_stage's examples'
/// `Consumer`s).
#[test]
fn a_callbacks_implementations_are_in_the_implementing_modules_file() {
    let mut chunks = chunks_of(
        "examples/gen_event.exs",
        "defmodule Consumer do\n  use GenStage\n  def init(:ok), do: {:consumer, :ok}\nend\n",
    );
    chunks.extend(chunks_of(
        "examples/consumer_supervisor.exs",
        "defmodule Consumer do\n  use ConsumerSupervisor\n  def init(arg), do: {:ok, [], strategy: :one_for_one}\nend\n",
    ));
    let g = SymbolGraph::build(&chunks);
    let places = |symbol: &str| -> Vec<String> {
        (g.implementations(symbol).into_iter())
            .map(|s| s.path)
            .collect()
    };
    assert_eq!(places("GenStage.init/1"), ["examples/gen_event.exs"]);
    // Two files defining one module implementing one behaviour: each file's.
    let mut chunks = chunks_of(
        "examples/a.exs",
        "defmodule Consumer do\n  use GenStage\n  def handle_events(e, _f, s), do: {:noreply, e, s}\nend\n",
    );
    chunks.extend(chunks_of(
        "examples/b.exs",
        "defmodule Consumer do\n  use GenStage\n  def handle_events(e, _f, s), do: {:noreply, [], s}\nend\n",
    ));
    let both = SymbolGraph::build(&chunks);
    let paths: Vec<String> = (both.implementations("GenStage.handle_events/3").into_iter())
        .map(|s| s.path)
        .collect();
    assert_eq!(paths, ["examples/a.exs", "examples/b.exs"]);
    assert_eq!(
        places("ConsumerSupervisor.init/1"),
        ["examples/consumer_supervisor.exs"]
    );
}

/// Phoenix's router not indexed, `pipeline :browser do … end` still defines `browser/2`
/// in a router that uses `Phoenix.Router` itself or through `use MyWeb, :router`, and
/// `pipe_through [:browser]` calls it (LiveBeats' router).
#[test]
fn a_pipeline_defines_its_plug_without_phoenixs_source() {
    let src = concat!(
        "defmodule MyWeb do\n",
        "  def router do\n",
        "    quote do\n",
        "      use Phoenix.Router, helpers: false\n",
        "    end\n",
        "  end\n",
        "  defmacro __using__(which) when is_atom(which), do: apply(__MODULE__, which, [])\n",
        "end\n",
        "defmodule MyWeb.Router do\n",
        "  use MyWeb, :router\n",
        "  pipeline :browser do\n",
        "    plug :accepts, [\"html\"]\n",
        "  end\n",
        "  scope \"/\", MyWeb do\n",
        "    pipe_through [:browser]\n",
        "  end\n",
        "end\n",
        "defmodule MyWeb.Api do\n",
        "  use Phoenix.Router\n",
        "  pipeline :api do\n",
        "    plug :accepts, [\"json\"]\n",
        "  end\n",
        "end\n",
    );
    let g = graph_of("lib/my_web/router.ex", src);
    for (symbol, line) in [
        ("MyWeb.Router.browser/2", "pipeline :browser do"),
        ("MyWeb.Api.api/2", "pipeline :api do"),
    ] {
        let defs = g.definitions(symbol);
        assert_eq!(defs.len(), 1, "{symbol}: {defs:#?}");
        assert_eq!(defs[0].start_line, line_of(src, line));
        assert_eq!(defs[0].generated_by.as_deref(), Some("Phoenix.Router"));
    }
    let callers: Vec<String> = (g.callers("MyWeb.Router.browser/2").into_iter())
        .map(|s| s.module)
        .collect();
    assert_eq!(callers, ["MyWeb.Router"]);
}

/// A server registered under another module's name (bors's `BorsNG.GitHub.Server`,
/// started with `name: GitHub`) takes the messages sent to that name: `GenServer.call(
/// BorsNG.GitHub, msg)` in `BorsNG.GitHub` runs the server's `handle_call/3`, in one
/// graph or in merged parts.
#[test]
fn a_message_to_a_name_another_module_registers_runs_its_callback() {
    let mut chunks = chunks_of(
        "lib/github/github.ex",
        concat!(
            "defmodule BorsNG.GitHub do\n",
            "  def get_pr(repo_conn, pr_xref) do\n",
            "    GenServer.call(BorsNG.GitHub, {:get_pr, repo_conn, {pr_xref}})\n",
            "  end\n",
            "  def push(repo_conn), do: GenServer.cast(BorsNG.GitHub, {:push, repo_conn})\n",
            "end\n",
        ),
    );
    chunks.extend(chunks_of(
        "lib/github/github/server.ex",
        concat!(
            "defmodule BorsNG.GitHub.Server do\n",
            "  use GenServer\n",
            "  alias BorsNG.GitHub\n",
            "  def start_link, do: GenServer.start_link(__MODULE__, :ok, name: GitHub)\n",
            "  def handle_call({:get_pr, _, _}, _from, state), do: {:reply, :ok, state}\n",
            "end\n",
        ),
    ));
    for g in std::iter::once(SymbolGraph::build(&chunks)).chain(merged_halves(&chunks)) {
        assert_eq!(
            caller_symbols(&g, "BorsNG.GitHub.Server.handle_call/3"),
            strings(&["BorsNG.GitHub.get_pr/2"])
        );
        assert!(
            g.callees("BorsNG.GitHub.get_pr/2")
                .contains(&"BorsNG.GitHub.Server.handle_call/3".to_string())
        );
        // No callback of that name there: the call is left as written.
        assert!(
            g.callees("BorsNG.GitHub.push/1")
                .contains(&"BorsNG.GitHub.handle_cast/2".to_string())
        );
    }
}

/// A struct matched in many heads (`%Range{} = r`) is no call that ranks it: the
/// functions the code calls come first in the map (hex's and eventstore's maps were half
/// `defstruct` lines).
#[test]
fn a_structs_patterns_do_not_rank_it_in_the_map() {
    let heads: String = (0..12)
        .map(|i| format!("  def f{i}(%Shop.Range{{}} = r), do: r\n"))
        .collect();
    let mut chunks = chunks_of(
        "lib/range.ex",
        "defmodule Shop.Range do\n  defstruct [:min, :max]\nend\n",
    );
    chunks.extend(chunks_of(
        "lib/core.ex",
        "defmodule Shop.Core do\n  def run(x), do: x\nend\n",
    ));
    chunks.extend(chunks_of(
        "lib/api.ex",
        &format!(
            "defmodule Shop.Api do\n{heads}  def a(x), do: Shop.Core.run(x)\n  def b(x), do: Shop.Core.run(x)\nend\n"
        ),
    ));
    let g = SymbolGraph::build(&chunks);
    let ranked = g.rank(&[]);
    let at = |symbol: &str| {
        (ranked.iter())
            .position(|(s, _)| s == symbol)
            .unwrap_or_else(|| panic!("{symbol} unranked: {ranked:?}"))
    };
    assert!(
        at("Shop.Core.run/1") < at("Shop.Range.__struct__/0"),
        "{ranked:?}"
    );
}

/// A module declaring a behaviour (`@behaviour Updater`, or a Mox mock of it) runs none
/// of the `use`s of its `__using__`'s quote: it is no GenServer for that; one that `use`s
/// it is (nerves_hub_link's updaters).
#[test]
fn a_declared_behaviour_implements_nothing_its_quote_uses() {
    let src = "defmodule Hub.Updater do
  @callback start(term()) :: :ok
  defmacro __using__(_) do
    quote do
      use GenServer
      @behaviour Hub.Updater
    end
  end
end

defmodule Hub.StreamingUpdater do
  use Hub.Updater
  def start(x), do: x
end

defmodule Hub.AlternateUpdater do
  @behaviour Hub.Updater
  def start(x), do: x
end
";
    let mut chunks = chunks_of("lib/hub.ex", src);
    chunks.extend(chunks_of(
        "test/test_helper.exs",
        "Mox.defmock(Hub.UpdaterMock, for: Hub.Updater)\nExUnit.start()\n",
    ));
    let [ab, ba] = merged_halves(&chunks);
    for g in [SymbolGraph::build(&chunks), ab, ba] {
        let modules = |behaviour: &str| -> Vec<String> {
            let mut m: Vec<String> = (g.implementations(behaviour).into_iter())
                .map(|s| s.module)
                .collect();
            m.sort();
            m
        };
        assert_eq!(modules("GenServer"), ["Hub.StreamingUpdater"]);
        assert_eq!(
            modules("Hub.Updater"),
            [
                "Hub.AlternateUpdater",
                "Hub.StreamingUpdater",
                "Hub.UpdaterMock"
            ]
        );
    }
}

/// A sigil imported from the project's module (Money's `~M[1000]`) is a call of its
/// macro: `callers Money.Sigils.sigil_M/2` lists the functions writing it.
#[test]
fn an_imported_sigil_is_a_call_of_its_macro() {
    let mut chunks = chunks_of(
        "lib/money/sigils.ex",
        concat!(
            "defmodule Money.Sigils do\n",
            "  defmacro sigil_M(amount, []), do: Money.parse!(amount)\n",
            "end\n",
        ),
    );
    chunks.extend(chunks_of(
        "test/money/sigils_test.exs",
        concat!(
            "defmodule Money.SigilsTest do\n",
            "  use ExUnit.Case\n",
            "  import Money.Sigils\n",
            "  test \"a sigil\" do\n",
            "    assert ~M[1000] == Money.new(1000)\n",
            "  end\n",
            "  def other, do: ~r/M[1]/\n",
            "end\n",
        ),
    ));
    for g in std::iter::once(SymbolGraph::build(&chunks)).chain(merged_halves(&chunks)) {
        let callers = g.callers("Money.Sigils.sigil_M/2");
        assert_eq!(callers.len(), 1, "{callers:?}");
        assert_eq!(callers[0].kind, ChunkKind::Test, "{callers:?}");
    }
}

/// A callback a `use` of another module defines implements the behaviour that `use`'s
/// quote declares (Honeybadger's `use Honeybadger.Filter.Mixin` writes `@behaviour
/// Honeybadger.Filter` and `def filter_context/1`); and a function a `use` defines is
/// found beside a type of its name (Distillery's `@type verbosity` and the
/// `verbosity/0` its `use` defines).
#[test]
fn a_callback_a_mixins_use_defines_implements_the_behaviour_it_declares() {
    let src = "defmodule Honeybadger.Filter do
  @callback filter_context(map) :: map
end

defmodule Honeybadger.Filter.Mixin do
  defmacro __using__(_) do
    quote do
      @behaviour Honeybadger.Filter
      def filter_context(context), do: context
      def verbosity, do: :normal
    end
  end
end

defmodule Honeybadger.Filter.Default do
  use Honeybadger.Filter.Mixin
  @type verbosity :: :silent | :normal
end

defmodule ExActor.Strict do
  defmacro __using__(_) do
    quote do
      @behaviour GenServer
      def handle_call(request, _from, state), do: {:stop, {:unknown, request}, state}
      def child_spec(arg), do: %{id: __MODULE__, start: {__MODULE__, :start_link, [arg]}}
    end
  end
end

defmodule StrictServer do
  use ExActor.Strict
end
";
    let chunks = chunks_of("lib/honeybadger/filter.ex", src);
    let [ab, ba] = merged_halves(&chunks);
    for g in [SymbolGraph::build(&chunks), ab, ba] {
        let impls: Vec<String> = (g.implementations("Honeybadger.Filter.filter_context/1"))
            .into_iter()
            .map(|s| s.symbol)
            .collect();
        assert_eq!(impls, ["Honeybadger.Filter.Default.filter_context/1"]);
        // A behaviour not indexed: its known callbacks only.
        let impls = |symbol: &str| -> Vec<String> {
            (g.implementations(symbol).into_iter())
                .map(|s| s.symbol)
                .collect()
        };
        assert_eq!(
            impls("GenServer.handle_call/3"),
            ["StrictServer.handle_call/3"]
        );
        assert!(impls("GenServer.child_spec/1").is_empty());
        let defs = g.definitions("Honeybadger.Filter.Default.verbosity/0");
        assert!(
            defs.iter()
                .any(|s| s.kind == ChunkKind::Function && s.generated_by.is_some()),
            "{defs:?}"
        );
    }
}

/// A `use` at the top of a script, or in a test's body, imports what its quote imports
/// there: Distillery's `rel/config.exs` does `use Distillery.Releases.Config`, then
/// `release :app do`; a test does `use LanguageExtensions.While`, then `while … do`.
#[test]
fn a_use_in_a_script_or_a_body_imports_what_its_quote_imports() {
    let mut chunks = chunks_of(
        "lib/distillery/releases/config.ex",
        "defmodule Distillery.Releases.Config do
  defmacro __using__(_opts) do
    quote do
      import Distillery.Releases.Config
    end
  end
  defmacro release(name, do: block), do: {name, block}
end

defmodule LanguageExtensions.While do
  defmacro __using__(_) do
    quote do
      import LanguageExtensions.While
    end
  end
  defmacro while(condition, do: block), do: {condition, block}
end
",
    );
    chunks.extend(chunks_of(
        "rel/config.exs",
        "use Distillery.Releases.Config\n\nrelease :app do\n  set version: \"0.1.0\"\nend\n",
    ));
    chunks.extend(chunks_of(
        "test/cli_test.exs",
        "defmodule CliTest do
  use ExUnit.Case
  alias LanguageExtensions.While
  test \"can stop node\" do
    use While
    while Node.ping(:a) != :pang do
      :timer.sleep(500)
    end
  end
  test \"no use\" do
    while(true, do: :ok)
  end
end
",
    ));
    for g in std::iter::once(SymbolGraph::build(&chunks)).chain(merged_halves(&chunks)) {
        let callers = g.callers("Distillery.Releases.Config.release/2");
        assert_eq!(callers.len(), 1, "{callers:?}");
        assert_eq!(callers[0].path, "rel/config.exs", "{callers:?}");
        // Through the alias the test module makes (`use While`).
        let callers = g.callers("LanguageExtensions.While.while/2");
        assert_eq!(callers.len(), 1, "{callers:?}");
        assert_eq!(callers[0].start_line, 4, "{callers:?}");
    }
}

/// A live route to a LiveView without `mount/3` (it is optional) calls its `render/1`:
/// the router names no `mount/3` that no code defines.
#[test]
fn a_live_route_to_a_view_without_mount_renders_it() {
    let mut chunks = chunks_of(
        "lib/example_web/router.ex",
        "defmodule ExampleWeb.Router do
  use Phoenix.Router
  import Phoenix.LiveView.Router
  scope \"/\", ExampleWeb do
    live \"/slots\", LiveSlots
    live \"/counter\", LiveCounter
  end
end
",
    );
    chunks.extend(chunks_of(
        "lib/example_web/live/live_slots.ex",
        "defmodule ExampleWeb.LiveSlots do
  use Phoenix.LiveView
  def render(assigns), do: ~H\"<p>slots</p>\"
end

defmodule ExampleWeb.LiveCounter do
  use Phoenix.LiveView
  def mount(_params, _session, socket), do: {:ok, socket}
  def render(assigns), do: ~H\"<p>counter</p>\"
end
",
    ));
    for g in std::iter::once(SymbolGraph::build(&chunks)).chain(merged_halves(&chunks)) {
        let callees = g.callees("ExampleWeb.Router");
        assert!(
            callees.contains(&"ExampleWeb.LiveSlots.render/1".to_string()),
            "{callees:?}"
        );
        assert!(
            !callees.contains(&"ExampleWeb.LiveSlots.mount/3".to_string()),
            "{callees:?}"
        );
        assert!(
            callees.contains(&"ExampleWeb.LiveCounter.mount/3".to_string()),
            "{callees:?}"
        );
    }
}

/// A call through a module chosen at run time reaches the callback of its name and
/// arity where one indexed behaviour declares it (Faker's random module, Tzdata's HTTP
/// client); where several implemented ones do, or none, it names nothing, and no `?.`
/// callee is left.
#[test]
fn a_call_through_a_configured_module_reaches_the_one_callback() {
    let src = "defmodule Faker.Random do
  @callback random_between(integer(), integer()) :: integer()
  @callback run(term()) :: term()
end

defmodule Other.Behaviour do
  @callback run(term()) :: term()
end

defmodule Other.Impl do
  @behaviour Other.Behaviour
  def run(x), do: x
end

defmodule Faker.Random.Elixir do
  @behaviour Faker.Random
  def random_between(a, b), do: Enum.random(a..b)
  def run(x), do: x
end

defmodule Faker do
  def random_between(left, right) do
    Application.get_env(:faker, :random_module).random_between(left, right)
  end
  def go(mod, x), do: mod.run(x) && mod.unknown(x)
end
";
    let chunks = chunks_of("lib/faker.ex", src);
    for g in std::iter::once(SymbolGraph::build(&chunks)).chain(merged_halves(&chunks)) {
        assert_eq!(
            caller_symbols(&g, "Faker.Random.random_between/2"),
            strings(&["Faker.random_between/2"])
        );
        assert_eq!(
            g.callees("Faker.random_between/2"),
            strings(&["Application.get_env/2", "Faker.Random.random_between/2"])
        );
        // `run/1` is two implemented behaviours' callback: which one is not known.
        let go = g.callees("Faker.go/2");
        assert!(go.iter().all(|c| !c.starts_with("?.")), "{go:?}");
        assert!(caller_symbols(&g, "Faker.Random.run/1").is_empty());
        assert!(caller_symbols(&g, "Other.Behaviour.run/1").is_empty());
    }
}

/// A LiveView's `render/1` from its colocated template implements the callback, and a
/// router (`use Phoenix.Router`) implements `Plug`.
#[test]
fn a_colocated_render_and_a_router_implement_their_behaviours() {
    let mut chunks = chunks_of(
        "lib/app_web/live/summary.ex",
        "defmodule AppWeb.Summary do\n  use Phoenix.LiveView\n  def mount(_params, _session, socket), do: {:ok, socket}\nend\n",
    );
    chunks.extend(chunks_of(
        "lib/app_web/live/summary.html.heex",
        "<p>{@car.name}</p>\n",
    ));
    chunks.extend(chunks_of(
        "lib/app_web/router.ex",
        "defmodule AppWeb.Router do\n  use Phoenix.Router\n  get \"/\", AppWeb.PageController, :home\nend\n",
    ));
    for g in std::iter::once(SymbolGraph::build(&chunks)).chain(merged_halves(&chunks)) {
        let renders: Vec<String> = (g.implementations("Phoenix.LiveView.render/1").into_iter())
            .map(|s| s.symbol)
            .collect();
        assert_eq!(renders, ["AppWeb.Summary.render/1"]);
        let plugs: Vec<String> = (g.implementations("Plug").into_iter())
            .map(|s| s.module)
            .collect();
        assert!(plugs.contains(&"AppWeb.Router".to_string()), "{plugs:?}");
    }
}

/// A Phoenix controller's `render(conn, "index.json", …)` calls the `render/2` of the
/// view named after it (Phoenix 1.5 and 1.6), where one is defined.
#[test]
fn a_controllers_render_calls_its_views_render() {
    let chunks = chunks_of(
        "lib/chat_api_web/tag.ex",
        "defmodule ChatApiWeb.TagController do
  use Phoenix.Controller
  def index(conn, _params), do: render(conn, \"index.json\", tags: [])
end

defmodule ChatApiWeb.TagView do
  def render(\"index.json\", %{tags: tags}), do: %{data: tags}
end

defmodule ChatApiWeb.UserController do
  use Phoenix.Controller
  def index(conn, _params), do: render(conn, \"index.json\", users: [])
end
",
    );
    for g in std::iter::once(SymbolGraph::build(&chunks)).chain(merged_halves(&chunks)) {
        assert_eq!(
            caller_symbols(&g, "ChatApiWeb.TagView.render/2"),
            strings(&["ChatApiWeb.TagController.index/2"])
        );
        assert!(
            !g.callees("ChatApiWeb.UserController.index/2")
                .iter()
                .any(|c| c.contains("View")),
            "{:?}",
            g.callees("ChatApiWeb.UserController.index/2")
        );
    }
}

/// A `@before_compile {Mod, :fallback}` in a `use`'s quote adds its clauses after the
/// quote's own: the function a `use` defines is found at the quote's first clause, with
/// its calls (ThousandIsland's handlers' `handle_info/2`, not the fallback's).
#[test]
fn a_quoted_before_compile_fallback_comes_after_the_quotes_clauses() {
    let src = "defmodule TI.Handler do
  defmacro __using__(_opts) do
    quote do
      unquote(genserver_impl())
    end
  end

  defmacro add_handle_info_fallback(_module) do
    quote do
      def handle_info({msg, _raw, _data}, _state) when msg in [:tcp, :ssl], do: raise(\"bad state\")
    end
  end

  def genserver_impl do
    quote do
      def handle_info(:read_timeout, state) do
        TI.Handler.check_read_deadline(state)
      end

      @before_compile {TI.Handler, :add_handle_info_fallback}
    end
  end

  def check_read_deadline(state), do: state
end

defmodule Echo do
  use TI.Handler
end
";
    let chunks = chunks_of("lib/ti/handler.ex", src);
    for g in std::iter::once(SymbolGraph::build(&chunks)).chain(merged_halves(&chunks)) {
        let site = sole_definition(&g, "Echo.handle_info/2");
        let (_, start, _) = quoted_place(&site).expect("quoted");
        assert_eq!(
            start,
            line_of(src, "def handle_info(:read_timeout"),
            "{site:?}"
        );
        assert!(
            g.callees("Echo.handle_info/2")
                .contains(&"TI.Handler.check_read_deadline/1".to_string())
        );
    }
}

/// In a `use`'s quote, `alias __MODULE__, as: Pipeline` names the module that uses it:
/// `Pipeline.stages()` in a quoted function is that module's `stages/0` (Opus), not the
/// quoting module's, which has none.
#[test]
fn a_quoted_alias_of_module_names_the_using_module() {
    let src = concat!(
        "defmodule Flow.Pipeline do\n",             // 1
        "  defmacro __using__(_opts) do\n",         // 2
        "    quote do\n",                           // 3
        "      alias __MODULE__, as: Pipeline\n",   // 4
        "      alias __MODULE__.Stages, as: Own\n", // 5
        "      def call(input), do: {Pipeline.stages(), Own.all(input)}\n", // 6
        "      def stages, do: [:a]\n",             // 7
        "    end\n",                                // 8
        "  end\n",                                  // 9
        "end\n",                                    // 10
        "defmodule Shop.Checkout do\n",             // 11
        "  use Flow.Pipeline\n",                    // 12
        "end\n",                                    // 13
        "defmodule Shop.Checkout.Stages do\n",      // 14
        "  def all(x), do: [x]\n",                  // 15
        "end\n",                                    // 16
    );
    let chunks = chunks_of("lib/flow.ex", src);
    let whole = SymbolGraph::build(&chunks);
    let [ab, ba] = merged_halves(&chunks);
    for g in [&whole, &ab, &ba] {
        let mut callees = g.callees("Shop.Checkout.call/1");
        callees.sort();
        assert_eq!(
            callees,
            strings(&["Shop.Checkout.Stages.all/1", "Shop.Checkout.stages/0"])
        );
        assert_eq!(
            caller_symbols(g, "Shop.Checkout.stages/0"),
            strings(&["Shop.Checkout.call/1"])
        );
        // The quoting module calls nothing of its own name.
        assert!(g.callees("Flow.Pipeline.__using__/1").is_empty());
    }
}

/// An alias a test's body makes under a name of its own (`alias Sourceror.Zipper, as:
/// Z`) places the calls through it on their lines; a capture through a module held in a
/// variable (`&style.run/2`, Styler's styles) calls the one callback of that name.
#[test]
fn a_body_alias_places_its_calls_and_a_runtime_capture_calls_the_callback() {
    let lib = concat!(
        "defmodule Sourceror.Zipper do\n",             // 1
        "  def down(z), do: z\n",                      // 2
        "end\n",                                       // 3
        "defmodule Styler.Style do\n",                 // 4
        "  @callback run(term, term) :: term\n",       // 5
        "end\n",                                       // 6
        "defmodule Styler do\n",                       // 7
        "  def style(z, styles) do\n",                 // 8
        "    Enum.reduce(styles, z, fn style, z ->\n", // 9
        "      Enum.map(z, &style.run/2)\n",           // 10
        "    end)\n",                                  // 11
        "  end\n",                                     // 12
        "end\n",                                       // 13
    );
    let test = concat!(
        "defmodule Sourceror.RangeTest do\n",  // 1
        "  use ExUnit.Case\n",                 // 2
        "  test \"stabs\" do\n",               // 3
        "    alias Sourceror.Zipper, as: Z\n", // 4
        "    x = 1\n",                         // 5
        "    x |> Z.down()\n",                 // 6
        "  end\n",                             // 7
        "end\n",                               // 8
    );
    let mut chunks = chunks_of("lib/sourceror.ex", lib);
    let test_chunks = chunks_of("test/range_test.exs", test);
    chunks.extend(test_chunks.iter().cloned());
    let g = SymbolGraph::build(&chunks);
    let callee = aiex_node::graph::sites::Callee::of("Sourceror.Zipper.down/1").unwrap();
    let place = aiex_node::graph::sites::call_place(&test_chunks, 3, 7, &callee);
    assert_eq!(place.lines, vec![6], "{place:?}");
    assert_eq!(
        caller_symbols(&g, "Styler.Style.run/2"),
        strings(&["Styler.style/2"])
    );
}

/// A LiveView that embeds templates (its tabs) still renders the template named after
/// it (live_toast's `HomeLive`: `home_live.html.heex` is its `render/1`, whose
/// components are calls); an `on_mount:` option built by a function for a
/// `live_session` calls the hook's `on_mount/4` (ErrorTracker's router); `~LVN`
/// templates render components as `~H` ones do; PropEr's `{:call, Mod, :fun, args}`
/// calls `fun` with its list; and a behaviour's facade handing its work to the module
/// chosen at run time (`migrator().up(opts)` in `def up`) does not call itself.
#[test]
fn templates_hooks_symbolic_calls_and_facades_link_what_they_run() {
    let live = concat!(
        "defmodule DemoWeb.HomeLive do\n",       // 1
        "  use Phoenix.LiveView\n",              // 2
        "  embed_templates \"tabs/*\"\n",        // 3
        "  defp navbar(assigns), do: assigns\n", // 4
        "end\n",                                 // 5
        "defmodule DemoWeb.Router do\n",         // 6
        "  def __options__(opts) do\n",          // 7
        "    [on_mount: [{DemoWeb.Hooks, :assigns}] ++ opts, root_layout: false]\n", // 8
        "  end\n",                               // 9
        "end\n",                                 // 10
        "defmodule DemoWeb.Hooks do\n",          // 11
        "  def on_mount(_, _, _, socket), do: {:cont, socket}\n", // 12
        "end\n",                                 // 13
        "defmodule DemoWeb.NativeLive do\n",     // 14
        "  use LiveViewNative.LiveView\n",       // 15
        "  def render(assigns), do: ~LVN\"<.badge id={label(@n)} />\"\n", // 16
        "  def badge(assigns), do: assigns\n",   // 17
        "  def label(n), do: n\n",               // 18
        "end\n",                                 // 19
        "defmodule Shop.Migration do\n",         // 20
        "  @callback up(keyword) :: :ok\n",      // 21
        "  def up(opts), do: migrator().up(opts)\n", // 22
        "  defp migrator, do: Shop.Migration.Postgres\n", // 23
        "end\n",                                 // 24
        "defmodule Shop.Master do\n",            // 25
        "  def play(name), do: name\n",          // 26
        "  def command(s), do: {:call, Shop.Master, :play, [s]}\n", // 27
        "end\n",                                 // 28
        "defmodule Shop.MasterTest do\n",        // 29
        "  def post(_s, {:call, Shop.Master, :play, [_n]}), do: true\n", // 30
        "end\n",                                 // 31
    );
    let template = "<div>\n  <.navbar />\n</div>\n";
    let tab = "<p>tab</p>\n";
    let mut chunks = chunks_of("lib/demo_web/live/home_live.ex", live);
    chunks.extend(chunks_of("lib/demo_web/live/home_live.html.heex", template));
    chunks.extend(chunks_of("lib/demo_web/live/tabs/why.html.heex", tab));
    let whole = SymbolGraph::build(&chunks);
    let [ab, ba] = merged_halves(&chunks);
    for g in [&whole, &ab, &ba] {
        assert_eq!(
            caller_symbols(g, "DemoWeb.HomeLive.navbar/1"),
            strings(&["DemoWeb.HomeLive.render/1"])
        );
        assert!(g.is_defined("DemoWeb.HomeLive.why/1"));
        assert_eq!(
            caller_symbols(g, "DemoWeb.Hooks.on_mount/4"),
            strings(&["DemoWeb.Router.__options__/1"])
        );
        let mut native = g.callees("DemoWeb.NativeLive.render/1");
        native.retain(|c| c.starts_with("DemoWeb"));
        native.sort();
        assert_eq!(
            native,
            strings(&["DemoWeb.NativeLive.badge/1", "DemoWeb.NativeLive.label/1"])
        );
        assert_eq!(
            caller_symbols(g, "Shop.Master.play/1"),
            strings(&["Shop.Master.command/1"])
        );
        assert!(caller_symbols(g, "Shop.Migration.up/1").is_empty());
    }
}

/// `require Mod, as: Short` in a `use`'s quote aliases as an `alias` does (PhoenixSwagger's
/// `Schema.ref(:User)` in controllers); a template `embed_templates` makes is called by
/// name in its module (LiveAdmin's `layout(assigns)`); `on_mount: {unquote(__MODULE__),
/// :hook}` in a router macro's quote calls the macro module's `on_mount/4`; and
/// `apply(callback_module, :fun, [a, b])` calls the one callback of that name.
#[test]
fn quoted_requires_templates_by_name_unquoted_hooks_and_runtime_applies_link() {
    let src = concat!(
        "defmodule Swagger do\n",                                        // 1
        "  defmacro __using__(_) do\n",                                  // 2
        "    quote do\n",                                                // 3
        "      require Swagger.Schema, as: Schema\n",                    // 4
        "    end\n",                                                     // 5
        "  end\n",                                                       // 6
        "end\n",                                                         // 7
        "defmodule Swagger.Schema do\n",                                 // 8
        "  def ref(name), do: name\n",                                   // 9
        "end\n",                                                         // 10
        "defmodule Web.UserController do\n",                             // 11
        "  use Swagger\n",                                               // 12
        "  def schema, do: Schema.ref(:user)\n",                         // 13
        "end\n",                                                         // 14
        "defmodule Admin.View do\n",                                     // 15
        "  use Phoenix.Component\n",                                     // 16
        "  embed_templates \"view/*\"\n",                                // 17
        "  def render(\"layout.html\", assigns), do: layout(assigns)\n", // 18
        "end\n",                                                         // 19
        "defmodule Admin.Router do\n",                                   // 20
        "  defmacro admin(path) do\n",                                   // 21
        "    quote do\n",                                                // 22
        "      live_session :admin, on_mount: {unquote(__MODULE__), :opts} do\n", // 23
        "        live unquote(path), Admin.Home\n",                      // 24
        "      end\n",                                                   // 25
        "    end\n",                                                     // 26
        "  end\n",                                                       // 27
        "  def on_mount(:opts, _, _, socket), do: {:cont, socket}\n",    // 28
        "end\n",                                                         // 29
        "defmodule Rates.Callback do\n",                                 // 30
        "  @callback retrieved(map, term) :: :ok\n",                     // 31
        "end\n",                                                         // 32
        "defmodule Rates.Retriever do\n",                                // 33
        "  def notify(callback_module, rates, at) do\n",                 // 34
        "    apply(callback_module, :retrieved, [rates, at])\n",         // 35
        "  end\n",                                                       // 36
        "end\n",                                                         // 37
    );
    let mut chunks = chunks_of("lib/web.ex", src);
    chunks.extend(chunks_of(
        "lib/view/layout.html.heex",
        "<main>{@inner_content}</main>\n",
    ));
    let whole = SymbolGraph::build(&chunks);
    let [ab, ba] = merged_halves(&chunks);
    for g in [&whole, &ab, &ba] {
        assert_eq!(
            caller_symbols(g, "Swagger.Schema.ref/1"),
            strings(&["Web.UserController.schema/0"])
        );
        assert_eq!(
            caller_symbols(g, "Admin.View.layout/1"),
            strings(&["Admin.View.render/2"])
        );
        assert_eq!(
            caller_symbols(g, "Admin.Router.on_mount/4"),
            strings(&["Admin.Router.admin/1"])
        );
        assert_eq!(
            caller_symbols(g, "Rates.Callback.retrieved/2"),
            strings(&["Rates.Retriever.notify/3"])
        );
    }
}

/// A declared callback is implemented however the module defines it: written, by a
/// macro of another module (Money's caches: `@behaviour Cache`, then
/// `EtsDets.define_common_functions()`), or by another module's `use`.
#[test]
fn a_callback_a_macro_or_another_use_writes_is_an_implementation() {
    let src = concat!(
        "defmodule Rates.Cache do\n",                       // 1
        "  @callback latest_rates() :: map\n",              // 2
        "end\n",                                            // 3
        "defmodule Rates.Cache.Common do\n",                // 4
        "  defmacro define_common_functions do\n",          // 5
        "    quote do\n",                                   // 6
        "      def latest_rates, do: %{}\n",                // 7
        "    end\n",                                        // 8
        "  end\n",                                          // 9
        "  defmacro __using__(_) do\n",                     // 10
        "    quote do\n",                                   // 11
        "      def latest_rates, do: %{}\n",                // 12
        "    end\n",                                        // 13
        "  end\n",                                          // 14
        "end\n",                                            // 15
        "defmodule Rates.Cache.Ets do\n",                   // 16
        "  @behaviour Rates.Cache\n",                       // 17
        "  require Rates.Cache.Common\n",                   // 18
        "  Rates.Cache.Common.define_common_functions()\n", // 19
        "end\n",                                            // 20
        "defmodule Rates.Cache.Dets do\n",                  // 21
        "  @behaviour Rates.Cache\n",                       // 22
        "  use Rates.Cache.Common\n",                       // 23
        "end\n",                                            // 24
        "defmodule Rates.Cache.Mem do\n",                   // 25
        "  @behaviour Rates.Cache\n",                       // 26
        "  def latest_rates, do: %{}\n",                    // 27
        "end\n",                                            // 28
    );
    let chunks = chunks_of("lib/rates.ex", src);
    let g = SymbolGraph::build(&chunks);
    let mut impls: Vec<String> = (g.implementations("Rates.Cache.latest_rates/0").into_iter())
        .map(|s| s.symbol)
        .collect();
    impls.sort();
    assert_eq!(
        impls,
        strings(&[
            "Rates.Cache.Dets.latest_rates/0",
            "Rates.Cache.Ets.latest_rates/0",
            "Rates.Cache.Mem.latest_rates/0",
        ])
    );
}

/// A case template's `using` block after its `setup` (a later part of its header, as
/// Assent's test cases write it) is still what `use` of the template brings: its
/// `import unquote(__MODULE__)` makes the template's helpers callable by name.
#[test]
fn a_case_template_s_using_after_its_setup_still_imports() {
    let case = concat!(
        "defmodule Assent.Test.OAuth2TestCase do\n",
        "  use ExUnit.CaseTemplate\n",
        "\n",
        "  setup _tags do\n",
        "    {:ok, config: [client_id: \"id\"]}\n",
        "  end\n",
        "\n",
        "  using do\n",
        "    quote do\n",
        "      import unquote(__MODULE__)\n",
        "    end\n",
        "  end\n",
        "\n",
        "  def expect_token_request(opts, fun), do: fun.(opts)\n",
        "end\n",
    );
    let test = concat!(
        "defmodule Assent.Strategy.GithubTest do\n",
        "  use Assent.Test.OAuth2TestCase\n",
        "\n",
        "  test \"callback/2\", %{config: config} do\n",
        "    expect_token_request([uri: \"/token\"], fn _ -> config end)\n",
        "  end\n",
        "end\n",
    );
    let mut chunks = chunks_of("test/support/oauth2_test_case.ex", case);
    chunks.extend(chunks_of("test/assent/strategies/github_test.exs", test));
    let whole = SymbolGraph::build(&chunks);
    let [ab, ba] = merged_halves(&chunks);
    for g in [&whole, &ab, &ba] {
        let callers = caller_symbols(g, "Assent.Test.OAuth2TestCase.expect_token_request/2");
        assert_eq!(callers.len(), 1, "{callers:?}");
        assert!(callers[0].contains("callback/2"), "{callers:?}");
    }
}

/// A call through a module chosen at run time whose name several behaviours declare
/// (Assent's strategy bases each declare `default_config/1`) is the caller's own
/// behaviour's, when the caller is one of them; from elsewhere it is not guessed.
#[test]
fn a_runtime_call_several_behaviours_declare_is_the_callers_own() {
    let src = concat!(
        "defmodule Assent.OAuth2.Base do\n",
        "  @callback default_config(keyword) :: keyword\n",
        "  def config(strategy, c), do: c |> strategy.default_config()\n",
        "end\n",
        "defmodule Assent.OIDC.Base do\n",
        "  @callback default_config(keyword) :: keyword\n",
        "end\n",
        "defmodule Assent.Strategy do\n",
        "  def config(strategy, c), do: strategy.default_config(c)\n",
        "end\n",
    );
    let g = SymbolGraph::build(&chunks_of("lib/assent.ex", src));
    assert_eq!(
        caller_symbols(&g, "Assent.OAuth2.Base.default_config/1"),
        strings(&["Assent.OAuth2.Base.config/2"])
    );
    assert!(caller_symbols(&g, "Assent.OIDC.Base.default_config/1").is_empty());
}

/// A behaviour that implements itself (`@behaviour __MODULE__`, Mneme's test runner, its
/// module the default implementation) keeps its run-time calls linked to its functions;
/// a facade that hands its work to another module does not call itself.
#[test]
fn a_behaviour_implementing_itself_keeps_its_runtime_calls() {
    let src = concat!(
        "defmodule Mneme.Watch.TestRunner do\n",
        "  @behaviour __MODULE__\n",
        "  @callback skip_all() :: :ok\n",
        "  def run(state), do: state.impl.skip_all()\n",
        "  @impl true\n",
        "  def skip_all, do: :ok\n",
        "end\n",
        "defmodule Shop.Migration do\n",
        "  @callback up(keyword) :: :ok\n",
        "  def up(opts), do: migrator().up(opts)\n",
        "  defp migrator, do: Shop.Migration.Postgres\n",
        "end\n",
    );
    let g = SymbolGraph::build(&chunks_of("lib/runner.ex", src));
    assert_eq!(
        caller_symbols(&g, "Mneme.Watch.TestRunner.skip_all/0"),
        strings(&["Mneme.Watch.TestRunner.run/1"])
    );
    assert!(caller_symbols(&g, "Shop.Migration.up/1").is_empty());
}

/// A behaviour's facade reaches its implementations' function (Snap's
/// `HTTPClient.request/6` calling `adapter.request(…)`); `strategy |> apply(:fun,
/// [conn])` calls the callback of that name as `apply(strategy, …)` does (Ueberauth); a
/// module's own `alias/4` called with three arguments is a call, not the directive
/// (Snap's `Indexes.hotswap/5`); a capture in `@derive`'s options is a call (Saxy's
/// builders); a module defined under `… |> if do … end` (Crontab's Ecto type) is
/// indexed; `send(@name, msg)` to the module's registered name runs its clause taking
/// the message (Scenic's `PubSub`); `:gen_statem.call` reaches `handle_event/4`; and a
/// project's own `start_child(sup, {Mod, arg})` helper starts `Mod` (Electric's); and of
/// two behaviours declaring a run-time call's name, the one modules implement is taken
/// (DBConnection's `Pool`).
#[test]
fn facades_piped_applies_own_alias_derive_captures_and_piped_ifs_link() {
    let src = concat!(
        "defmodule Snap.HTTPClient do\n",                  // 1
        "  @callback request(atom, String.t()) :: term\n", // 2
        "  def request(method, url), do: adapter().request(method, url)\n", // 3
        "  defp adapter, do: Application.get_env(:snap, :http_client)\n", // 4
        "end\n",                                           // 5
        "defmodule Snap.HTTPClient.Finch do\n",            // 6
        "  @behaviour Snap.HTTPClient\n",                  // 7
        "  def request(method, url), do: {method, url}\n", // 8
        "end\n",                                           // 9
        "defmodule Auth.Strategy do\n",                    // 10
        "  @callback handle_callback!(term) :: term\n",    // 11
        "  def run(strategy, conn) do\n",                  // 12
        "    strategy\n",                                  // 13
        "    |> apply(:handle_callback!, [conn])\n",       // 14
        "  end\n",                                         // 15
        "end\n",                                           // 16
        "defmodule Snap.Indexes do\n",                     // 17
        "  def hotswap(cluster, index, name) do\n",        // 18
        "    with :ok <- alias(cluster, index, name), do: :ok\n", // 19
        "  end\n",                                         // 20
        "  def alias(cluster, index, name, opts \\\\ []), do: {cluster, index, name, opts}\n", // 21
        "end\n",                                           // 22
        "defmodule Person do\n",                           // 23
        "  @derive {Saxy.Builder, children: [emails: &__MODULE__.build_emails/1]}\n", // 24
        "  defstruct [:emails]\n",                         // 25
        "  def build_emails(emails), do: emails\n",        // 26
        "end\n",                                           // 27
    );
    let piped = concat!(
        "Code\n",                                         // 1
        "|> function_exported?(:ensure_compiled, 1)\n",   // 2
        "|> if do\n",                                     // 3
        "  defmodule Crontab.Type do\n",                  // 4
        "    @behaviour Ecto.Type\n",                     // 5
        "    def cast(x), do: Crontab.Parser.parse(x)\n", // 6
        "  end\n",                                        // 7
        "end\n",                                          // 8
    );
    let servers = concat!(
        "defmodule Scenic.PubSub do\n",
        "  use GenServer\n",
        "  @name __MODULE__\n",
        "  def put(id, data), do: send(@name, {:put_data, id, data})\n",
        "  def stop(id), do: send(@name, {:gone, id})\n",
        "  def handle_info({:put_data, _id, _data}, state), do: {:noreply, state}\n",
        "end\n",
        "defmodule Xandra.Pool do\n",
        "  @behaviour :gen_statem\n",
        "  def callback_mode, do: :handle_event_function\n",
        "  def checkout(pid), do: :gen_statem.call(pid, {:checkout, 1})\n",
        "  def handle_event({:call, from}, {:checkout, _}, _state, data),\n",
        "    do: {:keep_state, data, [{:reply, from, :ok}]}\n",
        "end\n",
        "defmodule DB.Pool do\n",
        "  @callback checkout(term, list, keyword) :: term\n",
        "end\n",
        "defmodule DB.Holder do\n",
        "  @callback checkout(term, list, keyword) :: term\n",
        "end\n",
        "defmodule DB.ConnectionPool do\n",
        "  @behaviour DB.Pool\n",
        "  def checkout(pool, callers, opts), do: {pool, callers, opts}\n",
        "end\n",
        "defmodule DB do\n",
        "  def run(pool_mod, pool, opts), do: pool_mod.checkout(pool, [], opts)\n",
        "end\n",
        "defmodule Electric.DynSup do\n",
        "  def start_shape(stack, config), do: start_child(stack, {Electric.Consumer, config})\n",
        "  defp start_child(stack, spec), do: DynamicSupervisor.start_child(stack, spec)\n",
        "end\n",
        "defmodule Electric.Consumer do\n",
        "  use GenServer\n",
        "  def start_link(config), do: GenServer.start_link(__MODULE__, config)\n",
        "  def init(config), do: {:ok, config}\n",
        "end\n",
    );
    let mut chunks = chunks_of("lib/snap.ex", src);
    chunks.extend(chunks_of("lib/crontab/ecto_type.ex", piped));
    chunks.extend(chunks_of("lib/servers.ex", servers));
    let whole = SymbolGraph::build(&chunks);
    let [ab, ba] = merged_halves(&chunks);
    for g in [&whole, &ab, &ba] {
        assert_eq!(
            caller_symbols(g, "Snap.HTTPClient.Finch.request/2"),
            strings(&["Snap.HTTPClient.request/2"])
        );
        assert!(caller_symbols(g, "Snap.HTTPClient.request/2").is_empty());
        assert_eq!(
            caller_symbols(g, "Auth.Strategy.handle_callback!/1"),
            strings(&["Auth.Strategy.run/2"])
        );
        assert_eq!(
            caller_symbols(g, "Snap.Indexes.alias/3"),
            strings(&["Snap.Indexes.hotswap/3"])
        );
        assert_eq!(
            caller_symbols(g, "Person.build_emails/1"),
            strings(&["lib/snap.ex:23 Person"])
        );
        let cast = sole_definition(g, "Crontab.Type.cast/1");
        assert_eq!(
            (cast.path.as_str(), cast.start_line),
            ("lib/crontab/ecto_type.ex", 6)
        );
        let types: Vec<String> = (g.implementations("Ecto.Type").into_iter())
            .map(|s| s.symbol)
            .collect();
        assert_eq!(types, strings(&["Crontab.Type"]));
        assert_eq!(
            caller_symbols(g, "Scenic.PubSub.handle_info/2"),
            strings(&["Scenic.PubSub.put/2"])
        );
        assert_eq!(
            caller_symbols(g, "Xandra.Pool.handle_event/4"),
            strings(&["Xandra.Pool.checkout/1"])
        );
        assert_eq!(
            caller_symbols(g, "DB.Pool.checkout/3"),
            strings(&["DB.run/3"])
        );
        assert!(
            caller_symbols(g, "Electric.Consumer.start_link/1")
                .contains(&"Electric.DynSup.start_shape/2".to_string()),
            "{:?}",
            caller_symbols(g, "Electric.Consumer.start_link/1")
        );
    }
}

/// A function split in parts calling itself by name and, in a later part, a module
/// chosen at run time by the same name (Oban Web's `handle_info/2` ending in
/// `socket.assigns.page.comp.handle_info(message, socket)`): only its own calls are
/// lines of its call of itself.
#[test]
fn a_later_parts_run_time_call_of_its_own_name_is_no_call_of_itself() {
    let filler: String = (0..120)
        .map(|i| format!("  def handle_info({{:tick, {i}}}, socket) do\n    socket = assign(socket, :n, {i})\n    {{:noreply, socket}}\n  end\n\n"))
        .collect();
    let src = format!(
        "defmodule Dash do\n  @callback handle_info(term, term) :: term\n  def handle_info(:refresh, socket), do: handle_info({{:tick, 0}}, socket)\n\n{filler}  def handle_info(message, socket) do\n    socket.assigns.page.comp.handle_info(message, socket)\n  end\nend\n"
    );
    let chunks = chunks_of("lib/dash.ex", &src);
    let parts = (chunks.iter())
        .filter(|c| c.name == "handle_info" && c.part.is_some())
        .count();
    assert!(parts > 1, "{parts} parts");
    let runtime_line = 1 + src.lines().position(|l| l.contains("page.comp")).unwrap() as u32;
    let last = src.lines().count() as u32;
    let callee = aiex_node::graph::sites::Callee::of("Dash.handle_info/2").unwrap();
    let place = aiex_node::graph::sites::call_place(&chunks, 1, last, &callee);
    assert_eq!(place.lines, vec![3], "{place:?}, not {runtime_line}");
}

/// Compiler hooks set by attributes are called: `@on_definition` and `@after_compile` by
/// the module that sets them, and in a `__using__` quote by the quoting macro (New
/// Relic's `use NewRelic.Tracer`, whose `@trace` runs through
/// `NewRelic.Tracer.Macro.__on_definition__/6`). (A quoted `@before_compile` is followed
/// for the code its macro's quote defines instead.)
#[test]
fn compiler_hook_attributes_call_their_hooks() {
    let src = concat!(
        "defmodule Tr do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      @before_compile Tr.Macro\n",
        "      @on_definition Tr.Macro\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Tr.Macro do\n",
        "  defmacro __before_compile__(_env), do: nil\n",
        "  def __on_definition__(_env, _kind, _name, _args, _guards, _body), do: :ok\n",
        "  def __after_compile__(_env, _bytecode), do: :ok\n",
        "end\n",
        "defmodule App do\n",
        "  use Tr\n",
        "  @after_compile Tr.Macro\n",
        "  def x, do: 1\n",
        "end\n",
    );
    let g = graph_of("lib/tr.ex", src);
    let callers = |s: &str| -> Vec<String> {
        let mut c: Vec<String> = g.callers(s).into_iter().map(|s| s.symbol).collect();
        c.sort();
        c
    };
    assert_eq!(callers("Tr.Macro.__on_definition__/6"), ["Tr.__using__/1"]);
    // The module's own code (its header), named by its place.
    assert_eq!(
        callers("Tr.Macro.__after_compile__/2"),
        ["lib/tr.ex:14 App"]
    );
}

/// `send(server, :tick)` to a pid in a variable runs the module's own `handle_info/2`
/// when a clause takes the message by its tag (New Relic's `HarvestCycle.cycle/1`), as
/// `GenServer.call(server, msg)` runs `handle_call/3`; not a message no clause takes, nor
/// a callback's send (a reply to another process).
#[test]
fn a_message_sent_to_a_pid_in_a_variable_runs_the_clause_taking_it() {
    let src = concat!(
        "defmodule Cycle do\n",
        "  use GenServer\n",
        "  def poke(server), do: send(server, :tick)\n",
        "  def other(pid), do: send(pid, {:result, 1})\n",
        "  def handle_call(:get, {pid, _}, s) do\n",
        "    send(pid, :tick)\n",
        "    {:reply, :ok, s}\n",
        "  end\n",
        "  def handle_info(:tick, s), do: {:noreply, s}\n",
        "end\n",
    );
    let g = graph_of("lib/cycle.ex", src);
    assert_eq!(
        caller_symbols(&g, "Cycle.handle_info/2"),
        strings(&["Cycle.poke/1"])
    );
}

/// A Phoenix 1.7 controller's `render(conn, :index)` renders its format module's
/// template function: `PageHTML.index/1` (a template `embed_templates` makes), or
/// `PageJSON.index/1` where that one is defined; a template neither defines is no call.
#[test]
fn a_controllers_render_calls_its_html_or_json_template_function() {
    let controller = concat!(
        "defmodule PhxWeb.PageController do\n",
        "  use PhxWeb, :controller\n",
        "  def index(conn, _params), do: render(conn, :index)\n",
        "  def show(conn, %{\"id\" => id}) do\n",
        "    conn\n",
        "    |> assign(:id, id)\n",
        "    |> render(:show, layout: false)\n",
        "  end\n",
        "  def missing(conn, _), do: render(conn, :nowhere)\n",
        "end\n",
        "defmodule PhxWeb.PageHTML do\n",
        "  use PhxWeb, :html\n",
        "  embed_templates \"page_html/*\"\n",
        "end\n",
        "defmodule PhxWeb.UserController do\n",
        "  use PhxWeb, :controller\n",
        "  def index(conn, _params), do: render(conn, :index, users: [])\n",
        "end\n",
        "defmodule PhxWeb.UserJSON do\n",
        "  def index(%{users: users}), do: %{data: users}\n",
        "end\n",
    );
    let mut chunks = chunks_of("lib/phx_web/controllers/page.ex", controller);
    chunks.extend(chunks_of(
        "lib/phx_web/controllers/page_html/index.html.heex",
        "<h1>Hello</h1>\n",
    ));
    chunks.extend(chunks_of(
        "lib/phx_web/controllers/page_html/show.html.heex",
        "<p>{@id}</p>\n",
    ));
    let whole = SymbolGraph::build(&chunks);
    let [ab, ba] = merged_halves(&chunks);
    for g in [&whole, &ab, &ba] {
        assert_eq!(
            caller_symbols(g, "PhxWeb.PageHTML.index/1"),
            strings(&["PhxWeb.PageController.index/2"])
        );
        assert_eq!(
            caller_symbols(g, "PhxWeb.PageHTML.show/1"),
            strings(&["PhxWeb.PageController.show/2"])
        );
        assert_eq!(
            caller_symbols(g, "PhxWeb.UserJSON.index/1"),
            strings(&["PhxWeb.UserController.index/2"])
        );
        assert!(
            !(g.callees("PhxWeb.PageController.missing/2").iter()).any(|c| c.contains("nowhere")),
            "{:?}",
            g.callees("PhxWeb.PageController.missing/2")
        );
        assert!(
            !(g.callees("PhxWeb.UserController.index/2").iter()).any(|c| c.contains("UserHTML")),
        );
    }
}

/// A `defimpl P, for: __MODULE__` in a `use`'s quote (or its `__before_compile__`'s)
/// implements the protocol for each module using it (Vex's `use Vex.Struct`).
#[test]
fn a_quoted_defimpl_for_the_using_module_implements_the_protocol() {
    let src = concat!(
        "defprotocol Vex.Extract do\n",
        "  def settings(data)\n",
        "end\n",
        "defmodule Vex.Struct do\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      defimpl Vex.Extract, for: __MODULE__ do\n",
        "        def settings(struct), do: struct\n",
        "      end\n",
        "      defimpl Inspect, for: Map do\n",
        "        def inspect(m, _), do: m\n",
        "      end\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule User do\n",
        "  use Vex.Struct\n",
        "  defstruct [:name]\n",
        "end\n",
    );
    let g = graph_of("lib/vex.ex", src);
    let modules: Vec<String> = (g.implementations("Vex.Extract").into_iter())
        .map(|s| s.module)
        .collect();
    assert!(modules.contains(&"User".to_string()), "{modules:?}");
    let inspect: Vec<String> = (g.implementations("Inspect").into_iter())
        .map(|s| s.module)
        .collect();
    assert!(!inspect.contains(&"User".to_string()), "{inspect:?}");
}

/// A Cowboy loop handler (`@behaviour :cowboy_loop`) takes its messages in `info/3`:
/// the sends of its own code reach the clause taking each (elixir-grpc's handler).
#[test]
fn a_cowboy_loop_handlers_messages_reach_its_info_clauses() {
    let src = concat!(
        "defmodule Snip.Loop do\n",
        "  @behaviour :cowboy_loop\n",
        "  def init(req, s) do\n",
        "    Process.send_after(self(), {:timeout, self()}, 100)\n",
        "    {:cowboy_loop, req, s}\n",
        "  end\n",
        "  def push(pid, data), do: send(pid, {:push, data})\n",
        "  def other(pid), do: send(pid, {:other, 1})\n",
        "  def info({:push, data}, req, s), do: {:ok, req, [data | s]}\n",
        "  def info({:timeout, _}, req, s), do: {:stop, req, s}\n",
        "end\n",
    );
    let g = graph_of("lib/loop.ex", src);
    assert_eq!(
        caller_symbols(&g, "Snip.Loop.info/3"),
        strings(&["Snip.Loop.init/2", "Snip.Loop.push/2"])
    );
}
