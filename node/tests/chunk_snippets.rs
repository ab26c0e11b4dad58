//! The snippet groups of `shared/CHUNKING.md` ("Snippets the chunker's tests must cover"),
//! one test (or more) per group, with the exact chunks the specification asks for: kind,
//! qualified name, arities, 1-based line ranges, and the attached doc, specs, impl,
//! visibility, tags and calls where the group is about them.
//!
//! Conventions the expectations follow (the chunker's documented design):
//! - the chunks' spans tile the file; whitespace up to the end of a chunk's last line stays
//!   with it, so blank lines between definitions open the *next* chunk;
//! - leading comments and `@doc`/`@spec`/`@impl` lines belong to the following definition;
//! - a module's closing `end` belongs to the last chunk inside it;
//! - same-module neighbours of the same kind under ~100 non-whitespace characters, none of
//!   them documented, are merged (tag `merged`), so function bodies below are long enough
//!   when a group needs a function on its own; tests are never merged.

use aiex_node::chunk::{
    AtomList, Chunk, ChunkKind, ChunkerConfig, Definition, FileChunks, MacroArg, NamesFrom,
    SkipReason, TemplateArities, TemplatesOf, Visibility, chunk_file,
};

use ChunkKind::{
    Delegate, Describe, Function, Guard, Macro, ModuleHeader, Setup, Test, Text, Type,
};

// ------------------------------------------------------------------------------ helpers

/// Chunks `src` as file `path` of repository `test` with the default configuration.
/// Panics if the file is skipped; always checks the tiling invariant.
fn chunks(path: &str, src: &str) -> Vec<Chunk> {
    chunks_with(path, src.as_bytes(), &ChunkerConfig::default())
}

/// [`chunks`] with merging off: each definition a chunk of its own.
fn unmerged_chunks(path: &str, src: &str) -> Vec<Chunk> {
    let config = ChunkerConfig {
        merge_below: 0,
        ..ChunkerConfig::default()
    };
    chunks_with(path, src.as_bytes(), &config)
}

fn chunks_with(path: &str, src: &[u8], config: &ChunkerConfig) -> Vec<Chunk> {
    match chunk_file("test", path, src, config) {
        FileChunks::Chunked(cs) => {
            assert_tiles(&cs, src);
            cs
        }
        FileChunks::Skipped(reason) => panic!("{path} was skipped: {reason}"),
    }
}

/// The spans (without headers) tile the file: sorted, the first starts at 0, each starts
/// where the previous ended, the last ends at the end of the file; line numbers agree.
fn assert_tiles(cs: &[Chunk], src: &[u8]) {
    if src.is_empty() {
        assert!(cs.is_empty(), "an empty file has no chunks:\n{}", dump(cs));
        return;
    }
    assert!(!cs.is_empty(), "a non-empty file has chunks");
    assert_eq!(
        cs[0].start_byte,
        0,
        "first chunk starts at byte 0:\n{}",
        dump(cs)
    );
    for w in cs.windows(2) {
        assert_eq!(
            w[0].end_byte,
            w[1].start_byte,
            "chunks must be contiguous:\n{}",
            dump(cs)
        );
    }
    assert_eq!(
        cs.last().unwrap().end_byte,
        src.len(),
        "last chunk ends at the end of the file:\n{}",
        dump(cs)
    );
    for c in cs {
        assert!(c.start_byte < c.end_byte, "empty chunk:\n{}", dump(cs));
        assert!(c.start_line <= c.end_line, "inverted lines:\n{}", dump(cs));
        assert_eq!(
            c.content.as_bytes(),
            &src[c.start_byte..c.end_byte],
            "content is the span's text"
        );
        let line_of = |b: usize| 1 + src[..b].iter().filter(|&&x| x == b'\n').count() as u32;
        assert_eq!(
            c.start_line,
            line_of(c.start_byte),
            "start_line of {}",
            c.name
        );
        assert_eq!(
            c.end_line,
            line_of(c.end_byte - 1),
            "end_line of {}",
            c.name
        );
    }
}

/// `Mod` for a module header, `Mod.name` for the rest (`name` alone outside modules);
/// a text chunk is named by the module it belongs to (empty at top level).
fn qualified(c: &Chunk) -> String {
    match c.kind {
        ModuleHeader | Text => c.module.clone(),
        _ if c.module.is_empty() => c.name.clone(),
        _ => format!("{}.{}", c.module, c.name),
    }
}

type Row = (ChunkKind, String, Vec<u32>, (u32, u32));

fn rows(cs: &[Chunk]) -> Vec<Row> {
    cs.iter()
        .map(|c| {
            (
                c.kind,
                qualified(c),
                c.arities.clone(),
                (c.start_line, c.end_line),
            )
        })
        .collect()
}

fn row(kind: ChunkKind, name: &str, arities: &[u32], lines: (u32, u32)) -> Row {
    (kind, name.to_string(), arities.to_vec(), lines)
}

fn assert_rows(cs: &[Chunk], expected: Vec<Row>) {
    assert_eq!(rows(cs), expected, "\nactual chunks:\n{}", dump(cs));
}

/// Every `Mod.fun/arity` (or `Mod`) a chunk defines.
fn defined(c: &Chunk) -> Vec<String> {
    c.defines.iter().flat_map(|d| d.symbols()).collect()
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The definition of `symbol` (`Mod.fun/arity`), wherever it is chunked.
fn definition<'c>(cs: &'c [Chunk], symbol: &str) -> &'c Definition {
    (cs.iter().flat_map(|c| &c.defines))
        .find(|d| d.symbols().iter().any(|s| s == symbol))
        .unwrap_or_else(|| panic!("no definition {symbol}:\n{}", dump(cs)))
}

/// The calls of the definition of `symbol` (`Mod.fun/arity`), wherever it is chunked.
fn definition_calls(cs: &[Chunk], symbol: &str) -> Vec<String> {
    definition(cs, symbol).calls.clone()
}

fn has_tag(c: &Chunk, tag: &str) -> bool {
    c.tags.iter().any(|t| t == tag)
}

fn dump(cs: &[Chunk]) -> String {
    cs.iter()
        .map(|c| {
            format!(
                "  {:?} {:?} {:?} L{}-{} B{}-{} vis={:?} tags={:?} doc={:?} specs={:?} impl={:?} \
                 err={} part={:?} defines={:?} calls={:?}\n",
                c.kind,
                qualified(c),
                c.arities,
                c.start_line,
                c.end_line,
                c.start_byte,
                c.end_byte,
                c.visibility,
                c.tags,
                c.doc,
                c.specs,
                c.impl_,
                c.has_error,
                c.part,
                defined(c),
                c.calls,
            )
        })
        .collect()
}

// ------------------------------------------------------------------------------ group 1

const G01_CART: &str = r##"defmodule Shop.Cart do
  @moduledoc """
  Shopping cart operations.
  """
  use GenServer
  alias Shop.{Product, Repo}
  import Ecto.Query, only: [from: 2]

  @doc "Adds a product to the cart."
  def add_item(cart, %Product{} = product, quantity) do
    items = Map.update(cart.items, product.id, quantity, &(&1 + quantity))
    total = Enum.reduce(items, 0, fn {_id, q}, acc -> acc + q end)
    %{cart | items: items, total: total}
  end

  defp load_products(ids) do
    query = from(p in Product, where: p.id in ^ids, select: p)
    products = Repo.all(query)
    Map.new(products, fn product -> {product.id, product} end)
  end
end
"##;

#[test]
fn g01_module_with_moduledoc_use_alias_import_and_two_functions() {
    let cs = chunks("lib/shop/cart.ex", G01_CART);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Cart", &[], (1, 7)),
            row(Function, "Shop.Cart.add_item", &[3], (8, 14)),
            row(Function, "Shop.Cart.load_products", &[1], (15, 21)),
        ],
    );

    let header = &cs[0];
    assert_eq!(header.doc.as_deref(), Some("Shopping cart operations."));
    assert_eq!(header.uses, strings(&["GenServer"]));
    assert_eq!(header.aliases, strings(&["Shop.Product", "Shop.Repo"]));
    assert_eq!(header.imports, strings(&["Ecto.Query"]));
    assert_eq!(defined(header), strings(&["Shop.Cart"]));
    assert_eq!(header.visibility, Visibility::Public);

    let add = &cs[1];
    assert_eq!(add.doc.as_deref(), Some("Adds a product to the cart."));
    assert_eq!(add.visibility, Visibility::Public);
    assert_eq!(
        add.signature,
        "def add_item(cart, %Product{} = product, quantity)"
    );
    assert_eq!(defined(add), strings(&["Shop.Cart.add_item/3"]));
    assert!(add.content.contains("@doc \"Adds a product to the cart.\""));

    let load = &cs[2];
    assert_eq!(load.visibility, Visibility::Private);
    assert_eq!(load.doc, None);
    assert_eq!(load.signature, "defp load_products(ids)");
    assert!(load.content.trim_end().ends_with("end\nend"));
    assert!(load.calls.contains(&"Shop.Repo.all/1".to_string()));
}

// ------------------------------------------------------------------------------ group 2

const G02_KEYWORD_MODULES: &str = r##"defmodule Shop.Money, do: defstruct(amount: 0, currency: :eur)

defmodule Shop.Clock, do: def(now(), do: DateTime.utc_now())
"##;

#[test]
fn g02_keyword_form_defmodule() {
    let cs = chunks("lib/shop/small.ex", G02_KEYWORD_MODULES);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Money", &[], (1, 1)),
            row(ModuleHeader, "Shop.Clock", &[], (2, 3)),
            row(Function, "Shop.Clock.now", &[0], (3, 3)),
        ],
    );
    assert!(has_tag(&cs[0], "struct"), "{}", dump(&cs));
    assert_eq!(defined(&cs[2]), strings(&["Shop.Clock.now/0"]));
    assert_eq!(cs[2].calls, strings(&["DateTime.utc_now/0"]));
}

// ------------------------------------------------------------------------------ group 3

const G03_NESTED: &str = r##"defmodule Shop.Inventory do
  @moduledoc "Stock levels per warehouse."

  defmodule Item do
    defstruct [:sku, :quantity, :location]
  end

  defmodule __MODULE__.Reservation do
    @moduledoc false
    defstruct [:sku, :quantity, :expires_at]
  end

  defmodule Elixir.Shop.Warehouse do
    defstruct [:code, :city, capacity: 0]
  end

  def available?(%Item{quantity: quantity}, wanted) when is_integer(wanted) do
    reserved = Shop.Inventory.Reservation |> struct() |> Map.get(:quantity, 0)
    quantity - reserved >= wanted and wanted > 0
  end
end

defmodule :shop_legacy_inventory do
  def lookup(sku) do
    case :ets.lookup(:legacy_stock, sku) do
      [{^sku, quantity}] -> {:ok, quantity}
      [] -> {:error, :unknown_sku}
    end
  end
end
"##;

#[test]
fn g03_nested_modules_module_prefix_and_atom_name() {
    let cs = chunks("lib/shop/inventory.ex", G03_NESTED);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Inventory", &[], (1, 2)),
            row(ModuleHeader, "Shop.Inventory.Item", &[], (3, 6)),
            row(ModuleHeader, "Shop.Inventory.Reservation", &[], (7, 11)),
            row(ModuleHeader, "Shop.Warehouse", &[], (12, 15)),
            row(Function, "Shop.Inventory.available?", &[2], (16, 21)),
            row(ModuleHeader, ":shop_legacy_inventory", &[], (22, 23)),
            row(Function, ":shop_legacy_inventory.lookup", &[1], (24, 30)),
        ],
    );
    assert_eq!(cs[0].doc.as_deref(), Some("Stock levels per warehouse."));
    assert!(cs[0].parents.is_empty());
    assert_eq!(cs[1].parents, strings(&["Shop.Inventory"]));
    assert!(has_tag(&cs[1], "struct"));
    assert_eq!(cs[2].parents, strings(&["Shop.Inventory"]));
    assert_eq!(cs[2].visibility, Visibility::Hidden, "@moduledoc false");
    assert!(cs[4].parents.is_empty());
    assert_eq!(defined(&cs[4]), strings(&["Shop.Inventory.available?/2"]));
    assert_eq!(
        defined(&cs[6]),
        strings(&[":shop_legacy_inventory.lookup/1"])
    );
}

/// A module named by a quoted atom: `:"Elixir.Shop.Raw"` is `Shop.Raw`, nested or not, as
/// Elixir reads it; `:"shop_raw"` is `:shop_raw`; one built by interpolation is kept as
/// written and marked dynamic. In a test's body alike.
#[test]
fn g03_quoted_atom_module_names() {
    let src = concat!(
        "defmodule Shop do\n",
        "  defmodule :\"Elixir.Shop.Raw\" do\n",
        "    def a(x), do: {:a, x}\n",
        "  end\n",
        "end\n",
        "\n",
        "defmodule :\"shop_raw\" do\n",
        "  def b(x), do: {:b, x}\n",
        "end\n",
        "\n",
        "defmodule ShopTest do\n",
        "  test \"raw\" do\n",
        "    defmodule :\"Elixir.ShopTest.Fake\" do\n",
        "      def c(x), do: {:c, x}\n",
        "    end\n",
        "    defmodule :\"Elixir.ShopTest.N#{1}\" do\n",
        "      def d(x), do: {:d, x}\n",
        "    end\n",
        "    defmodule :\"shop/odd\" do\n",
        "      def e(x), do: {:e, x}\n",
        "    end\n",
        "  end\n",
        "end\n",
        "\n",
        "defmodule :\"shop-odd\" do\n",
        "  def f(x), do: {:f, x}\n",
        "end\n",
    );
    let cs = chunks("lib/shop/raw.ex", src);
    let all: Vec<String> = cs.iter().flat_map(defined).collect();
    for symbol in [
        "Shop.Raw",
        "Shop.Raw.a/1",
        ":shop_raw",
        ":shop_raw.b/1",
        "ShopTest.Fake",
        "ShopTest.Fake.c/1",
        // An atom Elixir must quote keeps its quotes.
        ":\"shop/odd\"",
        ":\"shop/odd\".e/1",
        ":\"shop-odd\"",
        ":\"shop-odd\".f/1",
    ] {
        assert!(all.contains(&symbol.to_string()), "{symbol} in {all:?}");
    }
    let raw = cs
        .iter()
        .find(|c| c.module == "Shop.Raw")
        .expect("Shop.Raw");
    assert!(!has_tag(raw, "dynamic"), "{:?}", raw.tags);
    assert!(
        !all.iter().any(|s| s.contains("N#{1}")),
        "an interpolated name is computed: {all:?}"
    );
}

// ------------------------------------------------------------------------------ group 4

const G04_GUARDS: &str = r##"defmodule Shop.Pricing do
  require Logger

  def discount(price, :gold) when is_number(price) when is_struct(price, Decimal), do: mul(price, 0.8)
  def discount(price, :silver) when is_number(price), do: price * 0.9
  def discount(price, tier) when is_number(price) and is_atom(tier) do
    Logger.debug("no discount for tier #{tier}")
    price
  end

  def round_price(price) when is_float(price) when is_integer(price) do
    cents = round(price * 100)
    Logger.debug("rounded #{price} to #{cents} cents")
    cents / 100
  end
end
"##;

/// `alias` and `import` outside any module are lexical too: the modules after them (not
/// before) expand and import with them.
#[test]
fn g03_aliases_and_imports_at_the_top_of_a_file_reach_the_modules_after_them() {
    let src = concat!(
        "defmodule Before do\n",
        "  def a, do: Bar.g()\n",
        "end\n",
        "alias Foo.Bar\n",
        "import Foo.Helpers, only: [h: 1]\n",
        "defmodule TopAlias do\n",
        "  def f, do: Bar.g()\n",
        "  def k(x), do: h(x)\n",
        "end\n",
    );
    let cs = chunks("lib/top_alias.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let find = |name: &str| {
        cs.iter()
            .find(|c| c.defines.iter().any(|d| d.name == name))
            .unwrap_or_else(|| panic!("{name}: {}", dump(&cs)))
    };
    assert_eq!(find("a").calls, strings(&["Bar.g/0"]), "{}", dump(&cs));
    assert!(find("a").imports.is_empty(), "{}", dump(&cs));
    let f = find("f");
    assert_eq!(f.calls, strings(&["Foo.Bar.g/0"]), "{}", dump(&cs));
    assert_eq!(f.imports, strings(&["Foo.Helpers"]));
    assert_eq!(f.import_filters[0].names, strings(&["h/1"]));
    assert_eq!(find("k").unqualified_calls, strings(&["h/1"]));
    assert!(f.aliases.iter().any(|a| a == "Foo.Bar"), "{}", dump(&cs));
}

#[test]
fn g04_multi_clause_function_with_guards() {
    let cs = chunks("lib/shop/pricing.ex", G04_GUARDS);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Pricing", &[], (1, 2)),
            row(Function, "Shop.Pricing.discount", &[2], (3, 9)),
            row(Function, "Shop.Pricing.round_price", &[1], (10, 16)),
        ],
    );
    let discount = &cs[1];
    assert_eq!(defined(discount), strings(&["Shop.Pricing.discount/2"]));
    assert_eq!(discount.defines.len(), 1, "three clauses, one definition");
    assert_eq!(discount.defines[0].line, 4, "line of the first clause");
    assert_eq!(
        discount.signature,
        "def discount(price, :gold) when is_number(price) when is_struct(price, Decimal)"
    );
    assert_eq!(
        cs[2].signature,
        "def round_price(price) when is_float(price) when is_integer(price)"
    );
    assert_eq!(defined(&cs[2]), strings(&["Shop.Pricing.round_price/1"]));
}

// ------------------------------------------------------------------------------ group 5

const G05_DEFAULTS: &str = r##"defmodule Shop.Search do
  @doc "Searches products by term."
  def search(term, opts \\ [])

  def search(term, opts) when is_binary(term) do
    limit = Keyword.get(opts, :limit, 20)
    term
    |> String.downcase()
    |> Shop.Search.Index.query(limit: limit)
  end

  def search(nil, _opts), do: []
end
"##;

#[test]
fn g05_bodiless_head_with_defaults() {
    let cs = chunks("lib/shop/search.ex", G05_DEFAULTS);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Search", &[], (1, 1)),
            row(Function, "Shop.Search.search", &[1, 2], (2, 13)),
        ],
    );
    let search = &cs[1];
    assert_eq!(search.doc.as_deref(), Some("Searches products by term."));
    assert_eq!(
        defined(search),
        strings(&["Shop.Search.search/1", "Shop.Search.search/2"])
    );
    assert_eq!(search.signature, r"def search(term, opts \\ [])");
    assert!(
        !has_tag(search, "bodiless"),
        "the head is merged into a function that has bodies"
    );
}

/// A module attribute set between two clauses (for the clause that reads it) stays in
/// the function's one chunk: the function is one definition, not two.
#[test]
fn g05_an_attribute_between_clauses_keeps_one_function() {
    let src = concat!(
        "defmodule Shop.Songs do\n",                                    // 1
        "  def change(song_or_changeset, attrs \\\\ %{})\n",            // 2
        "\n",                                                           // 3
        "  def change(%Song{} = song, attrs) do\n",                     // 4
        "    Song.changeset(song, attrs)\n",                            // 5
        "  end\n",                                                      // 6
        "\n",                                                           // 7
        "  @keep_changes [:duration, :size]\n",                         // 8
        "  # the changes a re-upload keeps\n",                          // 9
        "  @padding 500\n",                                             // 10
        "  def change(%Ecto.Changeset{} = prev, attrs) do\n",           // 11
        "    Map.take(prev.changes, @keep_changes) |> change(attrs)\n", // 12
        "  end\n",                                                      // 13
        "\n",                                                           // 14
        "  @limit 10\n",                                                // 15
        "  def other(x), do: x + @limit + @padding\n",                  // 16
        "end\n",                                                        // 17
    );
    let cs = unmerged_chunks("lib/shop/songs.ex", src);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Songs", &[], (1, 1)),
            row(Function, "Shop.Songs.change", &[1, 2], (2, 13)),
            row(Function, "Shop.Songs.other", &[1], (14, 17)),
        ],
    );
    assert_eq!(cs[1].defines.len(), 1, "one definition");
    assert_eq!(
        defined(&cs[1]),
        strings(&["Shop.Songs.change/1", "Shop.Songs.change/2"])
    );
    assert!(cs[1].part.is_none());
    assert_tiles(&cs, src.as_bytes());
}

// ------------------------------------------------------------------------------ group 6

const G06_ZERO_ARITY: &str = r##"defmodule Shop.Config do
  def currency, do: :shop |> Application.get_env(:currency, :eur) |> Atom.to_string() |> String.upcase() |> String.trim()

  def tax_rate do
    :shop
    |> Application.get_env(:tax_rate, "0.2")
    |> Decimal.new()
    |> Decimal.round(4, :half_even)
    |> Decimal.max(Decimal.new(0))
  end

  def enabled?(feature) do
    features = Application.get_env(:shop, :features, [])
    Keyword.get(features, feature, false) == true
  end

  def fetch!(key) do
    case Application.fetch_env(:shop, key) do
      {:ok, value} -> value
      :error -> raise ArgumentError, "missing config #{inspect(key)}"
    end
  end
end
"##;

#[test]
fn g06_zero_arity_forms_and_question_bang_names() {
    let cs = chunks("lib/shop/config.ex", G06_ZERO_ARITY);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Config", &[], (1, 1)),
            row(Function, "Shop.Config.currency", &[0], (2, 2)),
            row(Function, "Shop.Config.tax_rate", &[0], (3, 10)),
            row(Function, "Shop.Config.enabled?", &[1], (11, 15)),
            row(Function, "Shop.Config.fetch!", &[1], (16, 23)),
        ],
    );
    assert_eq!(cs[1].signature, "def currency");
    assert_eq!(cs[2].signature, "def tax_rate");
    assert_eq!(defined(&cs[3]), strings(&["Shop.Config.enabled?/1"]));
    assert_eq!(defined(&cs[4]), strings(&["Shop.Config.fetch!/1"]));
}

// ------------------------------------------------------------------------------ group 7

const G07_OPERATORS: &str = r##"defmodule Shop.Vector do
  import Kernel, except: [-: 1]

  @doc "Component-wise addition."
  def a <~> b do
    %{x: Map.fetch!(a, :x) + Map.fetch!(b, :x), y: Map.fetch!(a, :y) + Map.fetch!(b, :y)}
  end

  def -v do
    %{x: Kernel.-(Map.fetch!(v, :x)), y: Kernel.-(Map.fetch!(v, :y)), z: Kernel.-(Map.get(v, :z, 0))}
  end
end
"##;

#[test]
fn g07_operator_definitions() {
    let cs = chunks("lib/shop/vector.ex", G07_OPERATORS);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Vector", &[], (1, 2)),
            row(Function, "Shop.Vector.<~>", &[2], (3, 7)),
            row(Function, "Shop.Vector.-", &[1], (8, 12)),
        ],
    );
    assert_eq!(cs[1].doc.as_deref(), Some("Component-wise addition."));
    assert_eq!(cs[1].signature, "def a <~> b");
    assert_eq!(defined(&cs[1]), strings(&["Shop.Vector.<~>/2"]));
    assert_eq!(cs[2].signature, "def -v");
    assert_eq!(defined(&cs[2]), strings(&["Shop.Vector.-/1"]));
    assert_eq!(cs[0].imports, strings(&["Kernel"]));
}

// ------------------------------------------------------------------------------ group 8

const G08_UNQUOTE_IN_FOR: &str = r##"defmodule Shop.Settings do
  @keys [:currency, :locale, :timezone]

  for key <- @keys do
    @doc "Returns the #{key} setting."
    def unquote(:"get_#{key}")() do
      value = Application.get_env(:shop, unquote(key))
      if is_nil(value), do: raise(ArgumentError, "#{unquote(key)} is not set"), else: value
    end
  end

  def all do
    Enum.map(@keys, fn key -> {key, Application.get_env(:shop, key)} end)
    |> Map.new()
  end
end
"##;

#[test]
fn g08_unquote_name_generated_inside_for() {
    let cs = chunks("lib/shop/settings.ex", G08_UNQUOTE_IN_FOR);
    let dynamic_name = r#"Shop.Settings.unquote(:"get_#{key}")"#;
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Settings", &[], (1, 2)),
            row(Function, dynamic_name, &[0], (3, 10)),
            row(Function, "Shop.Settings.all", &[0], (11, 16)),
        ],
    );
    let generated = &cs[1];
    assert!(has_tag(generated, "dynamic"), "{}", dump(&cs));
    assert!(
        has_tag(generated, "conditional") && !has_tag(generated, "generated"),
        "a def inside `for` is marked: {:?}",
        generated.tags
    );
    assert_eq!(
        generated.doc.as_deref(),
        Some("Returns the #{key} setting.")
    );
    assert_eq!(generated.signature, r#"def unquote(:"get_#{key}")()"#);
    assert!(
        generated.content.contains("for key <- @keys do"),
        "the wrapper is in the chunk"
    );
    assert!(!has_tag(&cs[2], "dynamic") && !has_tag(&cs[2], "conditional"));
}

// ------------------------------------------------------------------------------ group 9

const G09_IF_LOADED: &str = r##"defmodule Shop.Json do
  @moduledoc "JSON helpers."

  if Code.ensure_loaded?(Jason) do
    def encode!(term) do
      term
      |> Jason.encode!(pretty: Application.get_env(:shop, :pretty_json, false))
      |> IO.iodata_to_binary()
    end
  end

  def decode(binary) when is_binary(binary) do
    with {:ok, term} <- Jason.decode(binary, keys: :atoms) do
      {:ok, term}
    end
  end
end
"##;

#[test]
fn g09_definition_inside_if_code_ensure_loaded() {
    let cs = chunks("lib/shop/json.ex", G09_IF_LOADED);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Json", &[], (1, 2)),
            row(Function, "Shop.Json.encode!", &[1], (3, 10)),
            row(Function, "Shop.Json.decode", &[1], (11, 17)),
        ],
    );
    assert_eq!(cs[0].doc.as_deref(), Some("JSON helpers."));
    assert!(has_tag(&cs[1], "conditional"), "{}", dump(&cs));
    assert_eq!(cs[1].signature, "def encode!(term)");
    assert!(!has_tag(&cs[2], "conditional"));
    assert_eq!(cs[2].signature, "def decode(binary) when is_binary(binary)");
}

/// Libraries wrap optional modules at the top of a file: the modules are chunked, marked
/// conditional, and the wrapper's own lines stay with them.
#[test]
fn g09_modules_inside_a_top_level_if_or_for_are_chunked() {
    let src = concat!(
        "if Code.ensure_loaded?(Jason) do\n",
        "  defmodule Shop.Encoder do\n",
        "    @moduledoc \"JSON encoding.\"\n",
        "    alias Shop.Money\n",
        "    def encode(x), do: Jason.encode!(Money.wrap(x))\n",
        "  end\n",
        "else\n",
        "  defmodule Shop.Encoder do\n",
        "    def encode(_x), do: raise(\"no Jason\")\n",
        "  end\n",
        "end\n",
        "\n",
        "for kind <- [:a, :b] do\n",
        "  defmodule Module.concat(Shop.Kinds, kind) do\n",
        "    defmodule Inner do\n",
        "      def kind, do: :inner\n",
        "    end\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("lib/shop/encoder.ex", src);
    assert_tiles(&cs, src.as_bytes());
    assert!(cs.iter().all(|c| c.kind != Text), "{}", dump(&cs));
    let encodes: Vec<&Chunk> = cs
        .iter()
        .filter(|c| c.kind == Function && c.name == "encode")
        .collect();
    assert_eq!(encodes.len(), 2, "both branches: {}", dump(&cs));
    for c in &encodes {
        assert_eq!(defined(c), strings(&["Shop.Encoder.encode/1"]));
        assert!(has_tag(c, "conditional"), "{}", dump(&cs));
    }
    assert_eq!(
        sorted(&encodes[0].defines[0].calls),
        strings(&["Jason.encode!/1", "Shop.Money.wrap/1"]),
        "the module's alias expands its calls"
    );
    assert_eq!(cs[0].kind, ModuleHeader);
    assert_eq!(cs[0].doc.as_deref(), Some("JSON encoding."));
    assert!(
        cs[0]
            .content
            .starts_with("if Code.ensure_loaded?(Jason) do")
    );
    assert!(has_tag(&cs[0], "conditional"));
    let inner = cs
        .iter()
        .find(|c| c.name == "kind")
        .expect("Inner.kind is a chunk");
    assert!(inner.module.ends_with(".Inner"), "{}", dump(&cs));
    assert!(cs.last().unwrap().content.ends_with("  end\nend\n"));
    // A name computed at run time is kept as written, and marked.
    let computed = (cs.iter())
        .find(|c| c.kind == ModuleHeader && c.module.starts_with("Module.concat("))
        .expect("the computed module has a header");
    assert!(has_tag(computed, "dynamic"), "{}", dump(&cs));
    assert!(!has_tag(&cs[0], "dynamic"), "{}", dump(&cs));
}

/// `defmodule var` in a `for` over modules written out defines each of them: Phoenix's
/// tests (`for module <- modules do defmodule module do`, `modules` set just before) and
/// Benchee's API (`for {module, doc} <- [{Benchee, doc}, {:benchee, erlang_doc}]`).
/// Aliases expand where the `defmodule` is; a list not written out leaves the name as
/// written, marked dynamic.
#[test]
fn g09_a_module_a_for_names_after_modules_written_out_is_each_of_them() {
    let src = concat!(
        "alias Shop.Web\n",
        "modules = [Web.PageController, Web.ImageController]\n",
        "\n",
        "for module <- modules do\n",
        "  defmodule module do\n",
        "    def init(opts), do: opts\n",
        "  end\n",
        "end\n",
        "\n",
        "for {module, doc} <- [{Shop, \"Elixir API.\"}, {:shop, \"Erlang API.\"}] do\n",
        "  defmodule module do\n",
        "    @moduledoc doc\n",
        "    def run(x), do: Shop.Runner.run(x)\n",
        "  end\n",
        "end\n",
        "\n",
        "for mod <- Enum.map([:a, :b], &Module.concat(Shop, &1)) do\n",
        "  defmodule mod do\n",
        "    def x, do: 1\n",
        "  end\n",
        "end\n",
        "\n",
        "defmodule Parent do\n",
        "  alias Shop.Plugs\n",
        "  for plug <- [Plugs.Auth, Other] do\n",
        "    defmodule plug do\n",
        "      def call(conn, _), do: conn\n",
        "    end\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("test/support/controllers.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let defines_of = |name: &str| -> Vec<String> {
        let mut v: Vec<String> = (cs.iter())
            .flat_map(|c| c.defines.iter())
            .filter(|d| d.name == name)
            .flat_map(|d| d.symbols())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        defines_of("init"),
        strings(&[
            "Shop.Web.ImageController.init/1",
            "Shop.Web.PageController.init/1"
        ]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        defines_of("run"),
        strings(&[":shop.run/1", "Shop.run/1"]),
        "{}",
        dump(&cs)
    );
    // In a module, through its aliases, and not nested in it: the names are atoms.
    assert_eq!(
        defines_of("call"),
        strings(&["Other.call/2", "Shop.Plugs.Auth.call/2"]),
        "{}",
        dump(&cs)
    );
    let headers: Vec<&Chunk> = cs.iter().filter(|c| c.kind == ModuleHeader).collect();
    assert!(
        headers.iter().all(|h| !h.module.starts_with("module")),
        "{}",
        dump(&cs)
    );
    // The list is looked for among the 16 statements before the `for`, no further.
    let far: String = std::iter::once("mods = [Far.A, Far.B]\n".to_string())
        .chain((0..16).map(|i| format!("x{i} = {i}\n")))
        .chain([
            "for far <- mods do\n  defmodule far do\n    def f, do: 1\n  end\nend\n".to_string(),
        ])
        .collect();
    let far_cs = chunks("lib/far.ex", &far);
    assert!(
        far_cs
            .iter()
            .any(|c| c.module == "far" && has_tag(c, "dynamic")),
        "{}",
        dump(&far_cs)
    );
    let near = far.replacen("x0 = 0\n", "", 1);
    let near_cs = chunks("lib/near.ex", &near);
    assert!(
        near_cs.iter().any(|c| c.module == "Far.A"),
        "{}",
        dump(&near_cs)
    );
    // Not written out: as written, and marked.
    let computed = (cs.iter())
        .find(|c| c.kind == ModuleHeader && c.module == "mod")
        .unwrap_or_else(|| panic!("the computed module has a header: {}", dump(&cs)));
    assert!(has_tag(computed, "dynamic"), "{}", dump(&cs));
    assert!(
        (headers.iter())
            .filter(|h| h.module != "mod")
            .all(|h| !has_tag(h, "dynamic")),
        "{}",
        dump(&cs)
    );
}

// ------------------------------------------------------------------------------ group 10

const G10_QUOTE: &str = r##"defmodule Shop.Schema do
  @moduledoc "Common schema setup."

  defmacro __using__(opts) do
    prefix = Keyword.get(opts, :prefix, "shop")

    quote do
      use Ecto.Schema
      import Ecto.Changeset
      @schema_prefix unquote(prefix)

      def table_prefix, do: @schema_prefix
    end
  end

  def changeset_errors(changeset) do
    Ecto.Changeset.traverse_errors(changeset, fn {message, opts} ->
      Enum.reduce(opts, message, fn {key, value}, acc -> String.replace(acc, "%{#{key}}", to_string(value)) end)
    end)
  end
end
"##;

#[test]
fn g10_def_inside_quote_belongs_to_the_injected_code() {
    let cs = chunks("lib/shop/schema.ex", G10_QUOTE);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Schema", &[], (1, 2)),
            row(Macro, "Shop.Schema.__using__", &[1], (3, 14)),
            row(Function, "Shop.Schema.changeset_errors", &[1], (15, 21)),
        ],
    );
    assert_eq!(defined(&cs[1]), strings(&["Shop.Schema.__using__/1"]));
    assert!(
        cs[1]
            .content
            .contains("def table_prefix, do: @schema_prefix")
    );
    for c in &cs {
        assert!(
            c.defines.iter().all(|d| d.name != "table_prefix"),
            "the quoted def is not a definition of Shop.Schema:\n{}",
            dump(&cs)
        );
    }
    assert!(
        cs[0].uses.is_empty(),
        "the quoted `use` is not the module's"
    );
    assert!(
        cs[0].imports.is_empty(),
        "the quoted `import` is not the module's"
    );
}

/// What quoted code defines is kept on the macro (or `use Mod, :which` function) that
/// quotes it, for the modules that `use` it: one entry per function (its first head),
/// default arguments as arities, private ones marked. Not computed names or arities
/// (`unquote_splicing`), the functions of a module or implementation the quote defines,
/// what a quote in the quote defines (for who uses the user), nor a module-level quote.
#[test]
fn g10_what_quoted_code_defines_is_kept_for_the_modules_that_use_it() {
    let cs = chunks("lib/shop/schema.ex", G10_QUOTE);
    let quoted = |c: &Chunk| -> Vec<(ChunkKind, String, Vec<u32>, Visibility, String)> {
        (c.defines.iter().flat_map(|d| &d.quoted_defs))
            .map(|q| {
                let q = q.clone();
                (q.kind, q.name, q.arities, q.visibility, q.signature)
            })
            .collect()
    };
    assert_eq!(
        quoted(&cs[1]),
        [(
            Function,
            "table_prefix".to_string(),
            vec![0],
            Visibility::Public,
            "def table_prefix".to_string()
        )]
    );
    assert!(quoted(&cs[0]).is_empty() && quoted(&cs[2]).is_empty());

    let src = concat!(
        "defmodule ShopWeb do\n",
        "  def controller do\n",
        "    quote location: :keep do\n",
        "      def fetch(conn, key, default \\\\ nil)\n",
        "      def fetch(%{assigns: a}, key, default), do: Map.get(a, key, default)\n",
        "      def fetch(_, _, default), do: default\n",
        "      defp tidy(\n",
        "             x\n",
        "           ), do: x\n",
        "      defmacro sigil_P(path, _mods), do: path\n",
        "      def unquote(:computed)(), do: :ok\n",
        "      defmodule Inner do\n",
        "        def inner, do: :ok\n",
        "      end\n",
        "      defimpl String.Chars, for: __MODULE__ do\n",
        "        def to_string(_), do: \"x\"\n",
        "      end\n",
        "      def spliced(unquote_splicing(args)), do: :ok\n",
        "      defmacro __using__(_) do\n",
        "        quote do\n",
        "          def twice_quoted, do: :ok\n",
        "        end\n",
        "      end\n",
        "    end\n",
        "  end\n",
        "  @code (quote do\n",
        "    def at_module_level, do: :ok\n",
        "  end)\n",
        "end\n",
    );
    let cs = chunks("lib/shop_web.ex", src);
    let all: Vec<_> = cs.iter().flat_map(quoted).collect();
    assert_eq!(
        all,
        [
            (
                Function,
                "fetch".to_string(),
                vec![2, 3],
                Visibility::Public,
                "def fetch(conn, key, default \\\\ nil)".to_string()
            ),
            (
                Function,
                "tidy".to_string(),
                vec![1],
                Visibility::Private,
                "defp tidy(x)".to_string()
            ),
            (
                Macro,
                "sigil_P".to_string(),
                vec![2],
                Visibility::Public,
                "defmacro sigil_P(path, _mods)".to_string()
            ),
            (
                Macro,
                "__using__".to_string(),
                vec![1],
                // Named with a leading underscore: hidden from the docs, as Elixir's are.
                Visibility::Hidden,
                "defmacro __using__(_)".to_string()
            ),
        ],
        "{}",
        dump(&cs)
    );
    // What its clauses call with a module, the later clauses' too.
    let fetch = (cs.iter().flat_map(|c| &c.defines))
        .flat_map(|d| &d.quoted_defs)
        .find(|q| q.name == "fetch")
        .unwrap();
    assert_eq!(fetch.calls, strings(&["Map.get/3"]));
    // A quoted definition split into parts keeps the calls of every part.
    let calls: String = (0..400).map(|i| format!("        M{i}.g(x)\n")).collect();
    let long = format!(
        "defmodule Big do\n  defmacro __using__(_) do\n    quote do\n      def f(x) do\n{calls}      end\n    end\n  end\nend\n"
    );
    let big = chunks("lib/big.ex", &long);
    assert!(big.len() > 2, "{}", dump(&big));
    let f: Vec<_> = (big.iter().flat_map(|c| &c.defines))
        .flat_map(|d| &d.quoted_defs)
        .collect();
    assert_eq!(f.len(), 1, "{}", dump(&big));
    assert_eq!(f[0].calls.len(), 400);
    assert_eq!(f[0].calls.last().map(String::as_str), Some("M399.g/1"));
    let holder: Vec<String> = (cs.iter())
        .flat_map(|c| &c.defines)
        .filter(|d| !d.quoted_defs.is_empty())
        .map(|d| format!("{}.{}", d.module, d.name))
        .collect();
    assert_eq!(holder, strings(&["ShopWeb.controller"]));
}

// ------------------------------------------------------------------------------ group 11

const G11_DOCS: &str = r##"defmodule Shop.Worker do
  use GenServer

  @doc """
  Starts the worker.

      def example do
        Shop.Worker.start_link(name: :w)
      end
  """
  def start_link(opts) do
    name = Keyword.get(opts, :name, __MODULE__)
    GenServer.start_link(__MODULE__, Map.new(opts), name: name)
  end

  @doc ~S"""
  Splits "a\nb" into lines.
  """
  def parse_lines(text) do
    text
    |> String.split(["\r\n", "\n"], trim: true)
    |> Enum.map(&String.trim/1)
  end

  @doc false
  @deprecated "Use state/1 instead."
  def __debug__(server) do
    server
    |> :sys.get_state()
    |> Map.take([:queue, :processed, :failed])
  end

  @doc since: "1.2.0"
  @doc "Returns the current state."
  def state(server) do
    GenServer.call(server, :state, Application.get_env(:shop, :worker_timeout, 5_000))
  end

  @doc "Handles pushes."
  @impl true
  def handle_cast({:push, item}, state) do
    {:noreply, %{state | queue: :queue.in(item, state.queue), processed: state.processed + 1}}
  end
end
"##;

#[test]
fn g11_doc_forms_and_impl_between_doc_and_def() {
    let cs = chunks("lib/shop/worker.ex", G11_DOCS);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Worker", &[], (1, 2)),
            row(Function, "Shop.Worker.start_link", &[1], (3, 14)),
            row(Function, "Shop.Worker.parse_lines", &[1], (15, 23)),
            row(Function, "Shop.Worker.__debug__", &[1], (24, 31)),
            row(Function, "Shop.Worker.state", &[1], (32, 37)),
            row(Function, "Shop.Worker.handle_cast", &[2], (38, 44)),
        ],
    );
    assert_eq!(cs[0].uses, strings(&["GenServer"]));

    // A heredoc containing `def` and `end` neither ends nor opens anything.
    let start_link = &cs[1];
    assert_eq!(
        start_link.doc.as_deref().map(str::trim_end),
        Some(
            "Starts the worker.\n\n    def example do\n      Shop.Worker.start_link(name: :w)\n    end"
        )
    );
    assert_eq!(start_link.visibility, Visibility::Public);

    assert_eq!(
        cs[2].doc.as_deref().map(str::trim_end),
        Some(r#"Splits "a\nb" into lines."#),
        "~S heredoc: no escapes"
    );

    assert_eq!(cs[3].visibility, Visibility::Hidden, "@doc false");
    assert_eq!(cs[3].doc, None);
    assert!(has_tag(&cs[3], "deprecated"), "{:?}", cs[3].tags);
    for c in [&cs[1], &cs[2], &cs[4], &cs[5]] {
        assert!(!has_tag(c, "deprecated"), "{} is not deprecated", c.name);
    }

    assert_eq!(
        cs[4].doc.as_deref(),
        Some("Returns the current state."),
        "@doc since: is metadata"
    );
    assert_eq!(cs[4].visibility, Visibility::Public);

    let cast = &cs[5];
    assert_eq!(cast.doc.as_deref(), Some("Handles pushes."));
    assert_eq!(cast.impl_.as_deref(), Some("true"));
    assert_eq!(cast.visibility, Visibility::Public);
    for c in &cs[1..5] {
        assert_eq!(c.impl_, None, "{} has no @impl", c.name);
    }
}

// ------------------------------------------------------------------------------ group 12

const G12_SPECS: &str = r##"defmodule Shop.Ids do
  @type id :: pos_integer()

  @spec checksum(String.t()) :: non_neg_integer()

  @spec wrap(value, tag) :: {tag, value} when value: term(), tag: atom()
  def wrap(value, tag) do
    Shop.Telemetry.count(:wrap, %{tag: tag})
    {tag, value}
  end

  @spec generate :: id
  def generate do
    System.unique_integer([:positive, :monotonic]) + :erlang.phash2(node(), 1_000_000)
  end

  def checksum(string) do
    string
    |> :erlang.crc32()
    |> rem(Application.get_env(:shop, :checksum_modulus, 97))
  end
end
"##;

#[test]
fn g12_specs_with_when_and_zero_arity() {
    let cs = chunks("lib/shop/ids.ex", G12_SPECS);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Ids", &[], (1, 2)),
            row(Function, "Shop.Ids.wrap", &[2], (3, 10)),
            row(Function, "Shop.Ids.generate", &[0], (11, 15)),
            row(Function, "Shop.Ids.checksum", &[1], (16, 22)),
        ],
    );
    assert_eq!(
        cs[1].specs,
        strings(&["@spec wrap(value, tag) :: {tag, value} when value: term(), tag: atom()"])
    );
    assert_eq!(cs[2].specs, strings(&["@spec generate :: id"]));
    // @spec attaches by name and arity anywhere in the module.
    assert_eq!(
        cs[3].specs,
        strings(&["@spec checksum(String.t()) :: non_neg_integer()"])
    );
    assert!(cs[0].specs.is_empty());
}

// ------------------------------------------------------------------------------ group 13

const G13_OTHER_DEFS: &str = r##"defmodule Shop.Guards do
  defguard is_price(value) when is_integer(value) and value >= 0 and value <= 100_000_000_00 and rem(value, 1) == 0
end

defmodule Shop.Catalog do
  defstruct [:products, updated_at: nil]

  defdelegate fetch(catalog, sku), to: Shop.Catalog.Store
  defdelegate put(catalog, product), to: Shop.Catalog.Store, as: :insert
end

defmodule Shop.OutOfStockError do
  defexception [:sku, message: "out of stock"]
end

defprotocol Shop.Priceable do
  @doc "Returns the price in cents."
  def price(item)
end

defimpl Shop.Priceable, for: [Shop.Product, Shop.Bundle] do
  def price(item), do: item.price_cents
end

defmodule Shop.GiftCard do
  defstruct [:code, :balance_cents]

  defimpl Shop.Priceable do
    def price(card), do: card.balance_cents
  end
end
"##;

/// `@derive` implements protocols for the struct that follows it: the implementation
/// (`Inspect.Shop.User`) defines `__impl__/1`, and the protocol's functions where the
/// protocol is a well-known one; the struct's header says which it derives. Without a
/// struct, as in Elixir, `@derive` does nothing. `Kernel.def` (how a protocol writes a
/// function that is not one of its callbacks) defines as `def` does, and is no call.
/// An event a template binds runs its module's `handle_event/3` when a clause takes it
/// by its name, or takes any: markup binding events the module has no clause for (a
/// LiveComponent binding its parent LiveView's events without `phx-target`, AshAdmin's
/// sidebar) calls none of its own.
#[test]
fn g19_a_bound_event_calls_the_handle_event_that_takes_it() {
    let src = concat!(
        "defmodule Admin.Sidebar do\n",
        "  use Phoenix.LiveComponent\n",
        "  def render(assigns), do: ~H'<a phx-click=\"toggle\" phx-target={@myself}>x</a>'\n",
        "  def tenant(assigns), do: ~H'<a phx-click=\"set_tenant\">x</a>'\n",
        "  def handle_event(\"toggle\", _params, socket), do: {:noreply, socket}\n",
        "end\n",
        "defmodule Admin.Show do\n",
        "  use Phoenix.LiveComponent\n",
        "  def add(assigns), do: ~H'<a phx-click=\"add_form\">x</a>'\n",
        "  def actor(assigns), do: ~H'<a phx-click=\"set_actor\">x</a>'\n",
        "  def handle_event(event, _params, socket) when event in [\"add_form\", \"append\"], do: {:noreply, socket}\n",
        "end\n",
        "defmodule Admin.Page do\n",
        "  use Phoenix.LiveView\n",
        "  def render(assigns), do: ~H'<a phx-click=\"kick:1\">x</a>'\n",
        "  def handle_event(\"kick:\" <> id, _params, socket), do: {:noreply, socket}\n",
        "end\n",
    );
    let cs = chunks("lib/admin/sidebar.ex", src);
    assert_tiles(&cs, src.as_bytes());
    assert_eq!(
        definition_calls(&cs, "Admin.Sidebar.render/1"),
        strings(&["Admin.Sidebar.handle_event/3"]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        definition_calls(&cs, "Admin.Sidebar.tenant/1"),
        strings(&[])
    );
    // A guard's list names the events a clause takes (AshAdmin's `Show`).
    assert_eq!(
        definition_calls(&cs, "Admin.Show.add/1"),
        strings(&["Admin.Show.handle_event/3"])
    );
    assert_eq!(definition_calls(&cs, "Admin.Show.actor/1"), strings(&[]));
    assert_eq!(
        definition_calls(&cs, "Admin.Page.render/1"),
        strings(&["Admin.Page.handle_event/3"])
    );
}

/// A quote compiled into a module of its own (`Module.create(name, contents, env)`, Vix's
/// arrays made from a `@before_compile` hook) defines nothing in the module a `use` or
/// the hook brings it to; a `__using__` quote still does.
#[test]
fn g13_a_quote_given_to_module_create_defines_nothing_where_it_is_used() {
    let src = concat!(
        "defmodule Vix.ArrayHelper do\n",
        "  def __before_compile__(env), do: def_array(env, Int)\n",
        "  def def_array(env, name) do\n",
        "    contents =\n",
        "      quote do\n",
        "        @behaviour Vix.Type\n",
        "        def to_nif_term(value, data), do: {value, data}\n",
        "      end\n",
        "    Module.create(Module.concat(Vix.Array, name), contents, env)\n",
        "  end\n",
        "  defmacro __using__(_) do\n",
        "    quote do\n",
        "      def typespec, do: :ok\n",
        "    end\n",
        "  end\n",
        "  defmacro hook(env) do\n",
        "    Module.create(Module.concat(env.module, Impl), quote(do: def(run, do: :ok)), env)\n",
        "    quote do\n",
        "      def impl, do: :impl\n",
        "    end\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/vix/array.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let quoted = |name: &str| -> (Vec<String>, Vec<String>) {
        let c = (cs.iter())
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name}: {}", dump(&cs)));
        (
            (c.defines.iter().flat_map(|d| &d.quoted_defs))
                .map(|q| q.name.clone())
                .collect(),
            (c.defines.iter().flat_map(|d| &d.quoted_uses))
                .cloned()
                .collect(),
        )
    };
    assert_eq!(quoted("def_array"), (vec![], vec![]), "{}", dump(&cs));
    assert_eq!(quoted("__using__").0, strings(&["typespec"]));
    // A quote after the call is the one the function returns: kept.
    assert!(
        quoted("hook").0.contains(&"impl".to_string()),
        "{}",
        dump(&cs)
    );
}

/// A `@moduledoc` written after a function is a module header part of its own, not lines
/// of the next function (OpentelemetryGrpc's server: 15 lines of module doc led its
/// `setup/1`).
#[test]
fn g13_a_moduledoc_after_a_function_is_a_header_part() {
    let src = concat!(
        "defmodule Otel.Server do\n",
        "  def options_schema, do: []\n",
        "\n",
        "  @moduledoc \"\"\"\n",
        "  Handles the server's events.\n",
        "  \"\"\"\n",
        "\n",
        "  @doc \"Sets up.\"\n",
        "  def setup(opts \\\\ []) do\n",
        "    {:ok, opts}\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/otel/server.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let setup = (cs.iter())
        .find(|c| c.name == "setup")
        .unwrap_or_else(|| panic!("setup: {}", dump(&cs)));
    assert_eq!(setup.start_line, 7, "{}", dump(&cs));
    assert!(
        (cs.iter()).any(|c| c.kind == ChunkKind::ModuleHeader && c.start_line == 3),
        "{}",
        dump(&cs)
    );
}

/// A `@derive` whose protocol is a call's value (`@derive
/// LoggerJSON.Formatter.encoder_protocol()`) makes that call as the module compiles.
#[test]
fn g13_a_derived_protocol_named_by_a_call_calls_it() {
    let src = concat!(
        "defmodule Shop.Logged do\n",
        "  @derive Shop.Formatter.encoder_protocol()\n",
        "  defstruct [:name]\n",
        "end\n",
    );
    let cs = chunks("lib/shop/logged.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let calls: Vec<&String> = (cs.iter())
        .flat_map(|c| c.calls.iter().chain(&c.module_calls))
        .collect();
    assert!(
        calls.contains(&&"Shop.Formatter.encoder_protocol/0".to_string()),
        "{}",
        dump(&cs)
    );
    // Not the `derive` itself.
    let bare: Vec<&String> = (cs.iter())
        .flat_map(|c| {
            c.unqualified_calls
                .iter()
                .chain(&c.module_unqualified_calls)
        })
        .collect();
    assert!(
        !bare.iter().any(|c| c.starts_with("derive/")),
        "{}",
        dump(&cs)
    );
}

/// An imported function named `test` called with more arguments than ExUnit's `test/3`
/// takes (Tentacat's `test(client, owner, repo, id)`) is a call, not a test.
#[test]
fn g15_a_call_of_an_imported_test_4_is_a_call() {
    let src = concat!(
        "defmodule Tentacat.HooksTest do\n",
        "  use ExUnit.Case\n",
        "  import Tentacat.Hooks\n",
        "  test \"pings\" do\n",
        "    {204, _, _} = test(@client, \"owner\", \"repo\", 1)\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("test/hooks_test.exs", src);
    assert_tiles(&cs, src.as_bytes());
    let test = (cs.iter())
        .find(|c| c.kind == ChunkKind::Test)
        .expect("the test's chunk");
    assert_eq!(test.name, "pings", "{}", dump(&cs));
    assert!(
        test.unqualified_calls.contains(&"test/4".to_string()),
        "{}",
        dump(&cs)
    );
}

#[test]
fn g13_derive_implements_protocols_and_kernel_def_defines() {
    let src = concat!(
        "defmodule Shop.User do\n",                            // 1
        "  alias Shop.Export\n",                               // 2
        "  @derive [Inspect, {Jason.Encoder, only: [:id]}]\n", // 3
        "  @derive Export\n",                                  // 4
        "  defstruct [:id, :email]\n",                         // 5
        "end\n",                                               // 6
        "\n",                                                  // 7
        "defmodule Shop.Plain do\n",                           // 8
        "  @derive Inspect\n",                                 // 9
        "  def f(x), do: x\n",                                 // 10
        "end\n",                                               // 11
        "\n",                                                  // 12
        "defprotocol Shop.Export do\n",                        // 13
        "  def export(item)\n",                                // 14
        "\n",                                                  // 15
        "  Kernel.def export_all(items) do\n",                 // 16
        "    Enum.map(items, &__MODULE__.export/1)\n",         // 17
        "  end\n",                                             // 18
        "end\n",                                               // 19
    );
    let cs = chunks("lib/shop/user.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let user = &cs[0];
    assert_eq!(user.module, "Shop.User");
    for tag in [
        "derive:Inspect",
        "derive:Jason.Encoder",
        "derive:Shop.Export",
    ] {
        assert!(has_tag(user, tag), "{:?}", user.tags);
    }
    let implied: Vec<(String, u32, String)> = (user.defines.iter())
        .filter(|d| d.implied)
        .map(|d| (d.symbols().join(" "), d.line, d.signature.clone()))
        .collect();
    let derive = "@derive [Inspect, {Jason.Encoder, only: [:id]}]";
    let at = |s: &str, line: u32, sig: &str| (s.to_string(), line, sig.to_string());
    assert_eq!(
        implied,
        [
            at("Shop.User.__struct__/0", 5, "defstruct [:id, :email]"),
            at("Shop.User.__struct__/1", 5, "defstruct [:id, :email]"),
            at("Inspect.Shop.User.__impl__/1", 3, derive),
            at("Inspect.Shop.User.inspect/2", 3, derive),
            at("Jason.Encoder.Shop.User.__impl__/1", 3, derive),
            at("Jason.Encoder.Shop.User.encode/2", 3, derive),
            at("Shop.Export.Shop.User.__impl__/1", 4, "@derive Export"),
        ]
    );

    let plain = cs.iter().find(|c| c.module == "Shop.Plain").unwrap();
    assert!(
        !plain.tags.iter().any(|t| t.starts_with("derive:")),
        "{:?}",
        plain.tags
    );
    assert!(
        !(cs.iter().flat_map(|c| &c.defines)).any(|d| d.module.contains("Shop.Plain") && d.implied),
        "{}",
        dump(&cs)
    );

    let all = (cs.iter().flat_map(|c| &c.defines))
        .find(|d| d.name == "export_all")
        .unwrap_or_else(|| panic!("Kernel.def defines nothing: {}", dump(&cs)));
    assert_eq!(all.kind, Function);
    assert_eq!(all.symbols(), strings(&["Shop.Export.export_all/1"]));
    assert_eq!((all.line, all.end_line), (16, 18));
    assert_eq!(all.calls, strings(&["Enum.map/2", "Shop.Export.export/1"]));
}

/// What Elixir's docs hide, Aiex's visibility hides: a function named with a leading
/// underscore and no `@doc`, and, in quoted code, a `def` under `@doc false`; a `@doc`
/// before `defstruct` documents the struct, not the next function.
#[test]
fn g13_hidden_as_elixir_hides_and_a_struct_takes_its_doc() {
    let src = concat!(
        "defmodule Shop.Set do\n",                  // 1
        "  @doc false\n",                           // 2
        "  defstruct size: 0\n",                    // 3
        "\n",                                       // 4
        "  @spec new :: t\n",                       // 5
        "  def new, do: %Shop.Set{}\n",             // 6
        "\n",                                       // 7
        "  def __fields__(:size), do: 0\n",         // 8
        "\n",                                       // 9
        "  @doc \"Reflection.\"\n",                 // 10
        "  def __schema__(:fields), do: [:size]\n", // 11
        "\n",                                       // 12
        "  defmacro __using__(_) do\n",             // 13
        "    quote do\n",                           // 14
        "      @doc false\n",                       // 15
        "      @impl true\n",                       // 16
        "      def stop(_state), do: :ok\n",        // 17
        "      def start, do: :ok\n",               // 18
        "      @doc false\n",                       // 19
        "      @doc \"Documented after all.\"\n",   // 20
        "      def __meta__, do: :ok\n",            // 21
        "    end\n",                                // 22
        "  end\n",                                  // 23
        "end\n",                                    // 24
    );
    let cs = chunks("lib/shop/set.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let def = |name: &str| {
        (cs.iter()
            .flat_map(|c| c.defines.iter().map(move |d| (c, d))))
        .find(|(_, d)| d.name == name)
        .unwrap_or_else(|| panic!("{name}: {}", dump(&cs)))
    };
    let (new, d) = def("new");
    assert_eq!(d.visibility, Visibility::Public, "{}", dump(&cs));
    assert_eq!(new.doc, None);
    assert_eq!(def("__fields__").1.visibility, Visibility::Hidden);
    let (schema, d) = def("__schema__");
    assert_eq!(d.visibility, Visibility::Public);
    assert_eq!(schema.doc.as_deref(), Some("Reflection."));
    assert_eq!(def("__using__").1.visibility, Visibility::Hidden);
    let quoted: Vec<(String, Visibility)> = (cs.iter().flat_map(|c| &c.defines))
        .flat_map(|d| &d.quoted_defs)
        .map(|q| (q.name.clone(), q.visibility))
        .collect();
    assert_eq!(
        quoted,
        [
            ("stop".to_string(), Visibility::Hidden),
            ("start".to_string(), Visibility::Public),
            // The last `@doc` counts, and a documented name may start with underscores.
            ("__meta__".to_string(), Visibility::Public)
        ]
    );
}

/// A `for` that passes its variable to a call but defines nothing in this file stays a
/// statement of the module: the chunks around it are cut as before, and `use m` names no
/// module. A variable whose atoms are not known names no function, nor do numbers not
/// written plainly.
/// Quoted code that splices a literal list into a call passes its elements:
/// `unquote(__MODULE__).static_path(unquote_splicing([endpoint, route]))` calls
/// `static_path/2` (Phoenix's verified routes), in a quoted `def` too. A spliced list not
/// written out gives no arity, so the call is not cited rather than cited with a wrong
/// one.
#[test]
fn g13_a_spliced_literal_list_counts_its_elements() {
    let src = concat!(
        "defmodule Routes do\n",
        "  def path_ast(endpoint, route) do\n",
        "    quote do\n",
        "      unquote(__MODULE__).static_path(unquote_splicing([endpoint, route]))\n",
        "    end\n",
        "  end\n",
        "\n",
        "  def url_ast(endpoint, route, rest) do\n",
        "    quote do\n",
        "      Routes.url(unquote_splicing([]), unquote(endpoint), unquote_splicing([route, 1, 2]))\n",
        "      Routes.kw(unquote_splicing([route, a: 1, b: 2]))\n",
        "      Routes.rest(unquote_splicing([route | rest]))\n",
        "    end\n",
        "  end\n",
        "\n",
        "  def dispatch_ast(args) do\n",
        "    quote do\n",
        "      Routes.handle(unquote_splicing(args))\n",
        "      local(unquote_splicing(args), 1)\n",
        "    end\n",
        "  end\n",
        "\n",
        "  defmacro __using__(args) do\n",
        "    quote do\n",
        "      def two(a, b), do: Routes.pair(unquote_splicing([a, b]))\n",
        "      def many(x), do: Routes.many(unquote_splicing(args), x)\n",
        "    end\n",
        "  end\n",
        "  def static_path(endpoint, path), do: {endpoint, path}\n",
        "end\n",
    );
    let cs = chunks("lib/routes.ex", src);
    assert_tiles(&cs, src.as_bytes());
    assert_eq!(
        definition_calls(&cs, "Routes.path_ast/2"),
        strings(&["Routes.static_path/2"])
    );
    // A keyword list is one argument per pair; `[route | rest]` is as long as `rest`.
    assert_eq!(
        definition_calls(&cs, "Routes.url_ast/3"),
        strings(&["Routes.url/4", "Routes.kw/3"])
    );
    let dispatch = (cs.iter().flat_map(|c| &c.defines))
        .find(|d| d.name == "dispatch_ast")
        .expect("dispatch_ast");
    assert!(dispatch.calls.is_empty(), "{:?}", dispatch.calls);
    assert!(
        dispatch.unqualified_calls.is_empty(),
        "{:?}",
        dispatch.unqualified_calls
    );
    // In a `def` in quoted code as well (what `use Routes` defines).
    let using = (cs.iter().flat_map(|c| &c.defines))
        .find(|d| d.name == "__using__")
        .expect("__using__");
    let quoted: Vec<(&str, &[String])> = (using.quoted_defs.iter())
        .map(|q| (q.name.as_str(), q.calls.as_slice()))
        .collect();
    assert_eq!(
        quoted,
        [("two", &strings(&["Routes.pair/2"])[..]), ("many", &[][..])]
    );
}

/// A macro that hands its argument to a function beside it has that function's
/// templates: after any number of macros that pass nothing on (they do not use up the
/// file's lookups), through a function with a default argument left out, and past a
/// first clause that quotes nothing.
#[test]
fn g13_a_macro_handing_its_argument_on_has_the_functions_templates() {
    let mut src = String::from("defmodule Defs do\n");
    for i in 0..80 {
        src.push_str(&format!("  defmacro m{i}(x), do: quote(do: unquote(x))\n"));
    }
    src.push_str(concat!(
        "  defmacro deftensor(call), do: defcall(call)\n",
        "  defp defcall(call, unwrapper \\\\ nil)\n",
        "  defp defcall(_call, :never), do: raise(\"no\")\n",
        "  defp defcall(call, unwrapper) do\n",
        "    {name, args} = Macro.decompose_call(call)\n",
        "    quote do\n",
        "      def unquote(name)(unquote_splicing(args)), do: {unquote(unwrapper)}\n",
        "    end\n",
        "  end\n",
        "end\n",
    ));
    let cs = chunks("lib/defs.ex", &src);
    assert_tiles(&cs, src.as_bytes());
    let deftensor = (cs.iter().flat_map(|c| &c.defines))
        .find(|d| d.name == "deftensor")
        .expect("deftensor");
    assert_eq!(deftensor.templates.len(), 1, "{:?}", deftensor.templates);
    let t = &deftensor.templates[0];
    assert_eq!(
        (t.name, &t.arities),
        (MacroArg::CallName(0), &TemplateArities::Spliced(0))
    );
}

#[test]
fn g13_a_for_that_defines_nothing_here_stays_a_statement() {
    let src = concat!(
        "defmodule Shop.Config do\n",                                   // 1
        "  for {k, v} <- @defaults do\n",                               // 2
        "    Module.put_attribute(__MODULE__, k, v)\n",                 // 3
        "  end\n",                                                      // 4
        "  for m <- [Shop.A, Shop.B] do\n",                             // 5
        "    use m\n",                                                  // 6
        "  end\n",                                                      // 7
        "  alias Shop.Repo\n",                                          // 8
        "\n",                                                           // 9
        "  defmacro defwrite({name, _, params}) do\n",                  // 10
        "    quote do\n",                                               // 11
        "      def unquote(name)(unquote_splicing(params)), do: :ok\n", // 12
        "    end\n",                                                    // 13
        "  end\n",                                                      // 14
        "\n",                                                           // 15
        "  for x <- Shop.Names.all() do\n",                             // 16
        "    defwrite x\n",                                             // 17
        "  end\n",                                                      // 18
        "  for n <- [0x10, 1_000] do\n",                                // 19
        "    defwrite(:\"f#{n}\")\n",                                   // 20
        "  end\n",                                                      // 21
        "end\n",                                                        // 22
    );
    let cs = chunks("lib/shop/config.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let header = &cs[0];
    assert_eq!(header.kind, ModuleHeader);
    assert_eq!(
        (header.start_line, header.end_line),
        (1, 8),
        "{}",
        dump(&cs)
    );
    assert!(cs.iter().all(|c| c.uses.is_empty()), "{}", dump(&cs));
    let defined: Vec<String> = (cs.iter().flat_map(|c| &c.defines))
        .filter(|d| d.kind != ModuleHeader)
        .map(|d| d.name.clone())
        .collect();
    assert_eq!(defined, strings(&["defwrite"]), "{}", dump(&cs));
}

#[test]
fn g13_delegate_guard_struct_exception_protocol_impl() {
    let cs = chunks("lib/shop/catalog.ex", G13_OTHER_DEFS);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Guards", &[], (1, 1)),
            row(Guard, "Shop.Guards.is_price", &[1], (2, 3)),
            row(ModuleHeader, "Shop.Catalog", &[], (4, 6)),
            row(Delegate, "Shop.Catalog.fetch", &[2], (7, 10)),
            row(ModuleHeader, "Shop.OutOfStockError", &[], (11, 14)),
            row(ModuleHeader, "Shop.Priceable", &[], (15, 16)),
            row(Function, "Shop.Priceable.price", &[1], (17, 19)),
            row(ModuleHeader, "Shop.Priceable.Shop.Product", &[], (20, 21)),
            row(
                Function,
                "Shop.Priceable.Shop.Product.price",
                &[1],
                (22, 23),
            ),
            row(ModuleHeader, "Shop.GiftCard", &[], (24, 26)),
            row(ModuleHeader, "Shop.Priceable.Shop.GiftCard", &[], (27, 28)),
            row(
                Function,
                "Shop.Priceable.Shop.GiftCard.price",
                &[1],
                (29, 31),
            ),
        ],
    );

    let guard = &cs[1];
    assert_eq!(defined(guard), strings(&["Shop.Guards.is_price/1"]));
    assert_eq!(guard.visibility, Visibility::Public);
    assert!(
        !has_tag(guard, "bodiless"),
        "a defguard's `when` expression is its body, it is not a body-less head: {:?}",
        guard.tags
    );

    assert!(has_tag(&cs[2], "struct"));
    let delegates = &cs[3];
    assert!(has_tag(delegates, "merged"), "{}", dump(&cs));
    assert_eq!(
        defined(delegates),
        strings(&["Shop.Catalog.fetch/2", "Shop.Catalog.put/2"])
    );

    // `defexception` defines `exception/1`, `message/1` and the struct (`__struct__/0`
    // and `/1`) without writing them: the header names them, at its line, marked as
    // implied.
    let exception = &cs[4];
    assert!(has_tag(exception, "exception"), "{:?}", exception.tags);
    assert_eq!(
        defined(exception),
        strings(&[
            "Shop.OutOfStockError",
            "Shop.OutOfStockError.exception/1",
            "Shop.OutOfStockError.message/1",
            "Shop.OutOfStockError.__struct__/0",
            "Shop.OutOfStockError.__struct__/1"
        ])
    );
    for d in &exception.defines[1..] {
        assert!(d.implied && d.kind == Function, "{d:?}");
        assert_eq!((d.line, d.end_line), (13, 13));
        assert!(d.calls.is_empty(), "{d:?}");
        assert_eq!(
            d.signature,
            "defexception [:sku, message: \"out of stock\"]"
        );
    }
    // And each `defstruct` the struct (see `g19_structs_call_the_struct_they_build`), a
    // protocol its dispatch functions, an implementation (for each type) its `__impl__/1`.
    let implied: Vec<String> = (cs.iter().flat_map(|c| &c.defines))
        .filter(|d| d.implied)
        .flat_map(|d| d.symbols())
        .collect();
    assert_eq!(
        implied,
        strings(&[
            "Shop.Catalog.__struct__/0",
            "Shop.Catalog.__struct__/1",
            "Shop.OutOfStockError.exception/1",
            "Shop.OutOfStockError.message/1",
            "Shop.OutOfStockError.__struct__/0",
            "Shop.OutOfStockError.__struct__/1",
            "Shop.Priceable.impl_for/1",
            "Shop.Priceable.impl_for!/1",
            "Shop.Priceable.__protocol__/1",
            "Shop.Priceable.Shop.Product.__impl__/1",
            "Shop.Priceable.Shop.Bundle.__impl__/1",
            "Shop.GiftCard.__struct__/0",
            "Shop.GiftCard.__struct__/1",
            "Shop.Priceable.Shop.GiftCard.__impl__/1"
        ])
    );

    assert!(has_tag(&cs[5], "protocol"), "{:?}", cs[5].tags);
    assert_eq!(cs[6].doc.as_deref(), Some("Returns the price in cents."));
    assert_eq!(defined(&cs[6]), strings(&["Shop.Priceable.price/1"]));

    let impl_header = &cs[7];
    assert!(has_tag(impl_header, "impl"), "{:?}", impl_header.tags);
    assert_eq!(
        impl_header.also_modules,
        strings(&["Shop.Priceable.Shop.Bundle"])
    );
    assert_eq!(
        sorted(&defined(&cs[8])),
        strings(&[
            "Shop.Priceable.Shop.Bundle.price/1",
            "Shop.Priceable.Shop.Product.price/1"
        ])
    );

    assert!(has_tag(&cs[9], "struct"));
    assert!(has_tag(&cs[10], "impl"), "{:?}", cs[10].tags);
    assert_eq!(cs[10].parents, strings(&["Shop.GiftCard"]));
    assert_eq!(
        defined(&cs[11]),
        strings(&["Shop.Priceable.Shop.GiftCard.price/1"])
    );
}

// ------------------------------------------------------------------------------ group 14

const G14_STRINGS_AND_SIGILS: &str = r##"defmodule ShopWeb.Components do
  use Phoenix.Component

  # def x(assigns), do: nil
  def banner(assigns) do
    pattern = ~r/def\s+(\w+) do/
    assigns = assign(assigns, :matches, Regex.scan(pattern, assigns.text))

    ~H"""
    <div class="banner">
      <%= if @show do %>def <%= @title %> end<% end %>
    </div>
    """
  end

  # Charlist heredocs are deprecated; kept for the old mailer.
  def legacy_note do
    lines = '''
    end of the line
    def not_a_function
    '''
    lines |> List.to_string() |> String.split("\n", trim: true) |> Enum.map(&String.trim/1)
  end

  def quote_char, do: ?"
  def greeting(name), do: "Hello #{"#{name} end"} def"
end
"##;

/// A `@doc` before a `@callback` is that callback's doc: each documented callback is a
/// `type` chunk of its own, named and signed by its head, and no definition is lost
/// (with functions after the callbacks, and in a behaviour that has none).
#[test]
fn g13_documented_callbacks_keep_their_docs_and_definitions() {
    let src = concat!(
        "defmodule Shop.Store do\n",
        "  @moduledoc \"Where carts are kept.\"\n",
        "  @doc \"Fetches a cart.\"\n",
        "  @callback fetch(key :: term) :: {:ok, term} | :error\n",
        "  @callback other() :: :ok\n",
        "  @doc \"Stores a cart.\"\n",
        "  @callback put(term, term) :: :ok\n",
        "  @type t :: term\n",
        "  def x, do: 1\n",
        "end\n",
        "defmodule Shop.Behaviour do\n",
        "  @doc \"Starts it.\"\n",
        "  @callback start(term) :: {:ok, pid}\n",
        "  @doc false\n",
        "  @macrocallback hidden(term) :: Macro.t()\n",
        "end\n",
    );
    let cs = chunks("lib/shop/store.ex", src);
    assert_tiles(&cs, src.as_bytes());
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Store", &[], (1, 2)),
            row(Type, "Shop.Store.fetch", &[1], (3, 5)),
            row(Type, "Shop.Store.put", &[2], (6, 8)),
            row(Function, "Shop.Store.x", &[0], (9, 10)),
            row(ModuleHeader, "Shop.Behaviour", &[], (11, 11)),
            row(Type, "Shop.Behaviour.start", &[1], (12, 13)),
            row(Type, "Shop.Behaviour.hidden", &[1], (14, 16)),
        ],
    );
    let fetch = &cs[1];
    // A hit on it is named by its first callback, with that one's arities; the other it
    // holds makes it merged, as small functions are (Igniter's `parse_argv/1` and
    // `installer?/0`).
    assert_eq!(fetch.display_symbol(), "Shop.Store.fetch/1");
    assert!(has_tag(fetch, "merged"), "{}", dump(&cs));
    assert!(!has_tag(&cs[5], "merged"), "{}", dump(&cs));
    assert_eq!(
        fetch.doc.as_deref(),
        Some("Fetches a cart."),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        fetch.signature,
        "@callback fetch(key :: term) :: {:ok, term} | :error"
    );
    assert_eq!(
        defined(fetch),
        strings(&["Shop.Store.fetch/1", "Shop.Store.other/0"])
    );
    let put = &cs[2];
    assert_eq!(put.doc.as_deref(), Some("Stores a cart."));
    assert_eq!(
        defined(put),
        strings(&["Shop.Store.put/2", "Shop.Store.t/0"])
    );
    assert_eq!(defined(&cs[5]), strings(&["Shop.Behaviour.start/1"]));
    assert_eq!(cs[5].doc.as_deref(), Some("Starts it."));
    assert_eq!(defined(&cs[6]), strings(&["Shop.Behaviour.hidden/1"]));
    assert_eq!(cs[6].visibility, Visibility::Hidden);
    assert_eq!(
        cs[6].defines[0].visibility,
        Visibility::Hidden,
        "kept out of the map"
    );
}

/// `@doc group: "Queries"` and `@doc since: "1.1"` between a callback's doc and its head
/// are metadata: the callback keeps its doc, and `@doc false` stays hidden (as Ecto.Repo
/// writes them). A callback written twice, one head per argument shape, is one
/// definition.
#[test]
fn g13_doc_metadata_leaves_a_callbacks_doc_and_two_heads_are_one_callback() {
    let src = concat!(
        "defmodule Shop.Repo do\n",
        "  @doc \"\"\"\n",
        "  Fetches all entries.\n",
        "  \"\"\"\n",
        "  @doc group: \"Query API\"\n",
        "  @doc since: \"1.1.0\"\n",
        "  @callback all(term, keyword) :: [term]\n",
        "  @doc false\n",
        "  @doc since: \"2.0.0\"\n",
        "  @callback internal() :: :ok\n",
        "  @typedoc \"An id.\"\n",
        "  @typedoc since: \"1.0.0\"\n",
        "  @type id :: term\n",
        "  @doc \"Runs a transaction.\"\n",
        "  @callback transact(fun :: (-> term), keyword) :: {:ok, term}\n",
        "  @callback transact(multi :: term, keyword) :: {:ok, map}\n",
        "  @type config :: keyword\n",
        "  @callback config() :: config\n",
        "end\n",
    );
    let cs = chunks("lib/shop/repo.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let find = |symbol: &str| {
        cs.iter()
            .find(|c| defined(c).iter().any(|d| d == symbol))
            .unwrap_or_else(|| panic!("no chunk defines {symbol}: {}", dump(&cs)))
    };
    let all = find("Shop.Repo.all/2");
    assert_eq!(
        all.doc.as_deref(),
        Some("Fetches all entries."),
        "{}",
        dump(&cs)
    );
    let internal = find("Shop.Repo.internal/0");
    let def = internal
        .defines
        .iter()
        .find(|d| d.name == "internal")
        .unwrap();
    assert_eq!(def.visibility, Visibility::Hidden, "{}", dump(&cs));
    assert_eq!(find("Shop.Repo.id/0").doc.as_deref(), Some("An id."));
    let transact = find("Shop.Repo.transact/2");
    assert_eq!(transact.doc.as_deref(), Some("Runs a transaction."));
    let transacts = (defined(transact).into_iter())
        .filter(|d| d == "Shop.Repo.transact/2")
        .count();
    assert_eq!(transacts, 1, "{}", dump(&cs));
    let def = &transact.defines[0];
    assert_eq!(
        (def.line, def.end_line),
        (15, 16),
        "both heads are its lines"
    );
    // A type and a callback of one name and arity stay two definitions.
    let config = find("Shop.Repo.config/0");
    let heads: Vec<&str> = (config.defines.iter())
        .filter(|d| d.name == "config")
        .map(|d| d.signature.as_str())
        .collect();
    assert_eq!(
        heads,
        ["@type config :: keyword", "@callback config() :: config"],
        "{}",
        dump(&cs)
    );
}

/// A callback whose `@doc` is over the budget splits into parts: the doc's part and the
/// part with the `@callback` line, which defines it. Both are named `Mod.name/arity` and
/// both carry the doc, as the parts of a long function do.
#[test]
fn g13_a_callback_with_a_long_doc_is_named_and_documented_in_each_part() {
    let mut src = String::from("defmodule Shop.Store do\n  @doc \"\"\"\n  Fetches a cart.\n\n");
    for i in 0..150 {
        src.push_str(&format!(
            "  Line {i} of a long explanation of how carts are fetched and cached.\n"
        ));
    }
    src.push_str(
        "  \"\"\"\n  @callback fetch(key :: term, keyword) :: {:ok, term} | :error\nend\n",
    );
    let cs = chunks("lib/shop/store.ex", &src);
    let parts: Vec<&Chunk> = cs.iter().filter(|c| c.kind == Type).collect();
    assert!(parts.len() >= 2, "split into parts: {}", dump(&cs));
    for part in &parts {
        assert!(part.part.is_some(), "{}", dump(&cs));
        assert_eq!(part.display_symbol(), "Shop.Store.fetch/2", "{}", dump(&cs));
        assert_eq!(
            part.doc.as_deref().map(|d| d.lines().next().unwrap_or("")),
            Some("Fetches a cart."),
            "{}",
            dump(&cs)
        );
    }
    let last = parts.last().unwrap();
    assert_eq!(defined(last), strings(&["Shop.Store.fetch/2"]));
    assert!(defined(parts[0]).is_empty(), "{}", dump(&cs));
}

/// `@typedoc` is to a type what `@doc` is to a callback: each documented type is a chunk
/// of its own with that doc (`@typedoc false` hides it from the map).
#[test]
fn g13_typedocs_after_the_header_document_their_own_type() {
    let src = concat!(
        "defmodule Shop.Ids do\n",
        "  @typedoc \"A shop.\"\n",
        "  @type shop :: term\n",
        "  @typedoc false\n",
        "  @type internal :: term\n",
        "  def x, do: 1\n",
        "  @typedoc \"A cart id.\"\n",
        "  @type id :: term\n",
        "  @typedoc \"A count.\"\n",
        "  @type count :: non_neg_integer\n",
        "  def y, do: 2\n",
        "end\n",
    );
    let cs = chunks("lib/shop/ids.ex", src);
    assert_tiles(&cs, src.as_bytes());
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Ids", &[], (1, 1)),
            row(Type, "Shop.Ids.shop", &[0], (2, 3)),
            row(Type, "Shop.Ids.internal", &[0], (4, 5)),
            row(Function, "Shop.Ids.x", &[0], (6, 6)),
            row(Type, "Shop.Ids.id", &[0], (7, 8)),
            row(Type, "Shop.Ids.count", &[0], (9, 10)),
            row(Function, "Shop.Ids.y", &[0], (11, 12)),
        ],
    );
    assert_eq!(cs[1].doc.as_deref(), Some("A shop."), "{}", dump(&cs));
    assert_eq!(defined(&cs[1]), strings(&["Shop.Ids.shop/0"]));
    assert_eq!(cs[2].defines[0].visibility, Visibility::Hidden);
    assert_eq!(cs[4].doc.as_deref(), Some("A cart id."), "{}", dump(&cs));
    assert_eq!(defined(&cs[4]), strings(&["Shop.Ids.id/0"]));
    assert_eq!(cs[5].doc.as_deref(), Some("A count."));
    assert_eq!(cs[5].signature, "@type count :: non_neg_integer");
    assert_eq!(defined(&cs[5]), strings(&["Shop.Ids.count/0"]));
    // Each doc attribute documents its own sort only, as in Elixir.
    let src = concat!(
        "defmodule Shop.Mixed do\n",
        "  def x, do: 1\n",
        "  @typedoc \"Not a callback's.\"\n",
        "  @callback cb() :: :ok\n",
        "  @doc \"Not a type's.\"\n",
        "  @type t :: term\n",
        "  def y, do: 2\n",
        "end\n",
    );
    let cs = chunks("lib/shop/mixed.ex", src);
    let types: Vec<&Chunk> = cs.iter().filter(|c| c.kind == Type).collect();
    assert!(!types.is_empty(), "{}", dump(&cs));
    assert!(types.iter().all(|c| c.doc.is_none()), "{}", dump(&cs));
    // A `@doc` that no type takes waits for the next function, as Elixir's does; a
    // callback takes the `@doc` before it.
    let y = cs.iter().find(|c| c.name == "y").expect("y is a chunk");
    assert_eq!(y.doc.as_deref(), Some("Not a type's."), "{}", dump(&cs));
    let src = concat!(
        "defmodule Shop.Waiting do\n",
        "  @doc \"Adds one.\"\n",
        "  @impl true\n",
        "  @typedoc \"A count.\"\n",
        "  @type count :: integer\n",
        "  @spec inc(count) :: count\n",
        "  def inc(n), do: n + 1\n",
        "  @doc \"Runs the job.\"\n",
        "  @callback run() :: :ok\n",
        "  @type other :: term\n",
        "  def undocumented, do: :ok\n",
        "end\n",
    );
    let cs = chunks("lib/shop/waiting.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let inc = cs.iter().find(|c| c.name == "inc").expect("inc is a chunk");
    assert_eq!(inc.doc.as_deref(), Some("Adds one."), "{}", dump(&cs));
    assert_eq!(inc.impl_.as_deref(), Some("true"), "{}", dump(&cs));
    assert_eq!(inc.specs, strings(&["@spec inc(count) :: count"]));
    let count = cs
        .iter()
        .find(|c| c.name == "count")
        .expect("count is a chunk");
    assert_eq!(count.doc.as_deref(), Some("A count."), "{}", dump(&cs));
    let run = cs.iter().find(|c| c.name == "run").expect("run is a chunk");
    assert_eq!(run.doc.as_deref(), Some("Runs the job."), "{}", dump(&cs));
    let later = cs
        .iter()
        .find(|c| c.name == "undocumented")
        .expect("a chunk");
    assert_eq!(later.doc, None, "the callback took the doc: {}", dump(&cs));
}

#[test]
fn g14_strings_sigils_and_comments_containing_def_and_end() {
    let cs = chunks("lib/shop_web/components.ex", G14_STRINGS_AND_SIGILS);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "ShopWeb.Components", &[], (1, 2)),
            row(Function, "ShopWeb.Components.banner", &[1], (3, 14)),
            row(Function, "ShopWeb.Components.legacy_note", &[0], (15, 23)),
            row(Function, "ShopWeb.Components.quote_char", &[0], (24, 27)),
        ],
    );
    assert!(
        cs[1].content.contains("# def x(assigns), do: nil"),
        "the comment leads into banner"
    );
    assert!(
        cs[2].content.contains("# Charlist heredocs are deprecated"),
        "the comment leads into legacy_note"
    );
    assert_eq!(cs[0].uses, strings(&["Phoenix.Component"]));
    let small = &cs[3];
    assert!(has_tag(small, "merged"), "{}", dump(&cs));
    assert_eq!(
        defined(small),
        strings(&[
            "ShopWeb.Components.quote_char/0",
            "ShopWeb.Components.greeting/1"
        ])
    );
    for c in &cs {
        assert!(
            c.defines
                .iter()
                .all(|d| d.name != "x" && d.name != "not_a_function"),
            "nothing is defined by comments or strings:\n{}",
            dump(&cs)
        );
    }
}

// ------------------------------------------------------------------------------ group 15

const G15_TESTS: &str = r##"defmodule Shop.CartTest do
  use ExUnit.Case, async: true
  use ExUnitProperties

  alias Shop.Cart

  setup do
    cart = %Cart{items: %{}, total: 0}
    {:ok, cart: cart}
  end

  describe "add_item/3" do
    test "adds a new product", %{cart: cart} do
      cart = Cart.add_item(cart, %Shop.Product{id: 1, price: 100}, 2)
      assert cart.total == 2
    end
  end

  test "removes a product", %{cart: cart} do
    cart = cart |> Cart.add_item(%Shop.Product{id: 7, price: 300}, 1) |> Cart.remove_item(7)
    assert cart.items == %{}
  end

  test "merges two carts"

  defp product(id), do: %Shop.Product{id: id, price: 100}

  property "total is never negative" do
    check all quantities <- list_of(positive_integer()) do
      cart = Enum.reduce(quantities, %Cart{items: %{}, total: 0}, &Cart.add_item(&2, product(&1), &1))
      assert cart.total >= 0
    end
  end
end
"##;

#[test]
fn g15_exunit_and_streamdata_blocks() {
    let cs = chunks("test/shop/cart_test.exs", G15_TESTS);
    // A describe is a header chunk; each test inside it is its own chunk, named the way
    // ExUnit names it ("<describe> <test>").
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.CartTest", &[], (1, 5)),
            row(Setup, "Shop.CartTest.setup", &[], (6, 10)),
            row(Describe, "Shop.CartTest.add_item/3", &[], (11, 12)),
            row(
                Test,
                "Shop.CartTest.add_item/3 adds a new product",
                &[],
                (13, 17),
            ),
            row(Test, "Shop.CartTest.removes a product", &[], (18, 22)),
            row(Test, "Shop.CartTest.merges two carts", &[], (23, 24)),
            row(Function, "Shop.CartTest.product", &[1], (25, 26)),
            row(Test, "Shop.CartTest.total is never negative", &[], (27, 34)),
        ],
    );
    assert_eq!(cs[0].uses, strings(&["ExUnit.Case", "ExUnitProperties"]));
    assert_eq!(cs[0].aliases, strings(&["Shop.Cart"]));
    assert_eq!(cs[2].signature, "describe \"add_item/3\" do");
    assert!(cs[3].content.contains("test \"adds a new product\""));
    assert!(
        cs[3].content.trim_end().ends_with("end\n  end")
            || cs[3].content.trim_end().ends_with("end")
    );
    assert!(
        cs[3].calls.contains(&"Shop.Cart.add_item/3".to_string()),
        "{:?}",
        cs[3].calls
    );
    assert!(!has_tag(&cs[4], "pending"));
    assert!(has_tag(&cs[5], "pending"), "{:?}", cs[5].tags);
    assert!(!has_tag(&cs[5], "merged"), "never mix tests with code");
    assert_eq!(cs[6].visibility, Visibility::Private);
    assert!(!has_tag(&cs[6], "merged"), "never mix tests with code");
    assert!(has_tag(&cs[7], "property"), "{:?}", cs[7].tags);
    assert!(
        cs[4].calls.contains(&"Shop.Cart.remove_item/2".to_string()),
        "{:?}",
        cs[4].calls
    );
}

/// A module a test defines in its body (`defmodule CrashingLayer do … end` inside a
/// `test`) stays in the test's chunk, which lists what it defines under the names Elixir
/// gives them (nested under the test's module), each function with its own calls; the
/// test's own calls reach it through the alias the `defmodule` makes. A module in a
/// `quote` is code for another module, not the test's.
#[test]
fn g15_modules_a_test_defines_in_its_body_are_its_definitions() {
    let src = concat!(
        "defmodule MyApp.WidgetTest do\n",                       // 1
        "  use ExUnit.Case\n",                                   // 2
        "  alias MyApp.Repo\n",                                  // 3
        "\n",                                                    // 4
        "  describe \"crashing\" do\n",                          // 5
        "    test \"a data layer that raises\" do\n",            // 6
        "      defmodule CrashingLayer do\n",                    // 7
        "        @moduledoc \"Raises on every call.\"\n",        // 8
        "        def run(query), do: raise(message(query))\n",   // 9
        "        def run(query, _opts), do: Repo.all(query)\n",  // 10
        "        defp message(q), do: \"boom #{inspect(q)}\"\n", // 11
        "\n",                                                    // 12
        "        defmodule Inner do\n",                          // 13
        "          def ping, do: __MODULE__.pong()\n",           // 14
        "          def pong, do: :pong\n",                       // 15
        "        end\n",                                         // 16
        "      end\n",                                           // 17
        "\n",                                                    // 18
        "      assert_raise RuntimeError, fn -> CrashingLayer.run(:q) end\n", // 19
        "      assert CrashingLayer.Inner.ping() == :pong\n",    // 20
        "    end\n",                                             // 21
        "  end\n",                                               // 22
        "\n",                                                    // 23
        "  test \"quoted code is not ours\" do\n",               // 24
        "    ast = quote do\n",                                  // 25
        "      defmodule Generated do\n",                        // 26
        "        def hidden, do: 1\n",                           // 27
        "      end\n",                                           // 28
        "    end\n",                                             // 29
        "    assert is_tuple(ast)\n",                            // 30
        "  end\n",                                               // 31
        "\n",                                                    // 32
        "  test \"an atom names a module\" do\n",                // 33
        "    defmodule :raw_layer do\n",                         // 34
        "      def hello, do: :world\n",                         // 35
        "    end\n",                                             // 36
        "  end\n",                                               // 37
        "end\n",                                                 // 38
    );
    let cs = chunks("test/my_app/widget_test.exs", src);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "MyApp.WidgetTest", &[], (1, 3)),
            row(Describe, "MyApp.WidgetTest.crashing", &[], (4, 5)),
            row(
                Test,
                "MyApp.WidgetTest.crashing a data layer that raises",
                &[],
                (6, 22),
            ),
            row(
                Test,
                "MyApp.WidgetTest.quoted code is not ours",
                &[],
                (23, 31),
            ),
            row(
                Test,
                "MyApp.WidgetTest.an atom names a module",
                &[],
                (32, 38),
            ),
        ],
    );
    let test = &cs[2];
    let layer = "MyApp.WidgetTest.CrashingLayer";
    let inner = "MyApp.WidgetTest.CrashingLayer.Inner";
    assert_eq!(
        defined(test),
        vec![
            layer.to_string(),
            format!("{layer}.run/1"),
            format!("{layer}.run/2"),
            format!("{layer}.message/1"),
            inner.to_string(),
            format!("{inner}.ping/0"),
            format!("{inner}.pong/0"),
        ],
        "{:#?}",
        test.defines
    );
    let def = |name: &str, arity: u32| {
        test.defines
            .iter()
            .find(|d| d.name == name && d.arities == [arity])
            .unwrap_or_else(|| panic!("{name}/{arity} in {:#?}", test.defines))
    };
    let header = &test.defines[0];
    assert_eq!(
        (header.kind, header.line, header.end_line),
        (ModuleHeader, 7, 17)
    );
    let run1 = def("run", 1);
    assert_eq!((run1.kind, run1.line, run1.end_line), (Function, 9, 9));
    assert_eq!(run1.signature, "def run(query)");
    assert_eq!(run1.calls, strings(&[&format!("{layer}.message/1")]));
    assert_eq!(run1.unqualified_calls, strings(&["raise/1"]));
    assert_eq!(def("run", 2).calls, strings(&["MyApp.Repo.all/1"]));
    let message = def("message", 1);
    assert_eq!(message.visibility, Visibility::Private);
    assert_eq!(message.unqualified_calls, strings(&["inspect/1"]));
    assert_eq!(def("ping", 0).calls, strings(&[&format!("{inner}.pong/0")]));
    assert!(def("pong", 0).calls.is_empty());
    // The test calls the module it defines through the alias `defmodule` makes; the
    // module's own calls are its functions', not the test's.
    assert!(
        test.calls.contains(&format!("{layer}.run/1")),
        "{:?}",
        test.calls
    );
    assert!(
        test.calls.contains(&format!("{inner}.ping/0")),
        "{:?}",
        test.calls
    );
    assert!(
        !test.calls.contains(&"MyApp.Repo.all/1".to_string()),
        "{:?}",
        test.calls
    );
    assert!(
        !test.unqualified_calls.contains(&"inspect/1".to_string()),
        "{:?}",
        test.unqualified_calls
    );
    assert!(test.defines_symbol(&format!("{layer}.run/1")));
    // A module in a `quote` is not defined by the test.
    assert!(cs[3].defines.is_empty(), "{:#?}", cs[3].defines);
    // An atom names a module as written, as in a module's body.
    assert_eq!(
        defined(&cs[4]),
        strings(&[":raw_layer", ":raw_layer.hello/0"])
    );
}

/// The functions of a module a test defines call through the aliases in force where they
/// are written: the module's own `alias` statements (plain, `as:`, multi), its function
/// bodies' aliases, the test body's, its enclosing module's, and not a sibling's.
#[test]
fn g15_a_module_a_test_defines_calls_through_its_own_aliases() {
    let src = concat!(
        "defmodule ShopTest do\n",         // 1
        "  use ExUnit.Case\n",             // 2
        "  alias Shop.Cart\n",             // 3
        "\n",                              // 4
        "  test \"layers\" do\n",          // 5
        "    alias Shop.Pricing, as: P\n", // 6
        "    defmodule Layer do\n",        // 7
        "      alias Foo.Bar\n",           // 8
        "      alias Foo.{Baz, Qux}\n",    // 9
        "      alias Bar.Deep\n",          // 10
        "      def run(x), do: Bar.go(x) |> Qux.go() |> Cart.add() |> Deep.go()\n", // 11
        "      def price(x), do: P.of(x)\n", // 12
        "      def local(x) do\n",         // 13
        "        alias Other.Thing\n",     // 14
        "        Thing.go(x)\n",           // 15
        "      end\n",                     // 16
        "      def after_local(x), do: Thing.go(x)\n", // 17
        "      defmodule Inner do\n",      // 18
        "        def go(x), do: Baz.go(x)\n", // 19
        "      end\n",                     // 20
        "    end\n",                       // 21
        "\n",                              // 22
        "    defmodule Sibling do\n",      // 23
        "      def run(x), do: Layer.run(x) |> Bar.go()\n", // 24
        "    end\n",                       // 25
        "    assert Sibling.run(1)\n",     // 26
        "  end\n",                         // 27
        "end\n",                           // 28
    );
    let cs = chunks("test/shop_test.exs", src);
    let test = cs
        .iter()
        .find(|c| c.kind == Test)
        .unwrap_or_else(|| panic!("a test chunk in {cs:#?}"));
    let calls = |module: &str, name: &str| {
        let module = format!("ShopTest.{module}");
        test.defines
            .iter()
            .find(|d| d.module == module && d.name == name)
            .unwrap_or_else(|| panic!("{module}.{name} in {:#?}", test.defines))
            .calls
            .clone()
    };
    assert_eq!(
        calls("Layer", "run"),
        strings(&[
            "Foo.Bar.go/1",
            "Foo.Qux.go/1",
            "Shop.Cart.add/1",
            "Foo.Bar.Deep.go/1"
        ])
    );
    assert_eq!(calls("Layer", "price"), strings(&["Shop.Pricing.of/1"]));
    assert_eq!(calls("Layer", "local"), strings(&["Other.Thing.go/1"]));
    // A function body's alias ends with the body.
    assert_eq!(calls("Layer", "after_local"), strings(&["Thing.go/1"]));
    // A nested module sees its enclosing module's aliases.
    assert_eq!(calls("Layer.Inner", "go"), strings(&["Foo.Baz.go/1"]));
    // A sibling does not see them, but sees the module the test defined before it.
    assert_eq!(
        calls("Sibling", "run"),
        strings(&["ShopTest.Layer.run/1", "Bar.go/1"])
    );
}

/// A test or setup in the keyword form is signed by its head, as the block form is.
#[test]
fn g15_keyword_form_tests_and_setups_are_signed_by_their_head() {
    let src = concat!(
        "defmodule Shop.KwTest do\n",
        "  use ExUnit.Case\n",
        "  setup_all _ctx, do: :ok\n",
        "  test \"adds\", %{a: a}, do: assert(a == 1)\n",
        "  test \"block\" do\n    assert true\n  end\n",
        "end\n",
    );
    let cs = chunks("test/shop/kw_test.exs", src);
    let signatures: Vec<&str> = cs
        .iter()
        .filter(|c| matches!(c.kind, Setup | Test))
        .map(|c| c.signature.as_str())
        .collect();
    assert_eq!(
        signatures,
        ["setup_all _ctx", "test \"adds\", %{a: a}", "test \"block\""],
        "{}",
        dump(&cs)
    );
}

// ------------------------------------------------------------------------------ group 16

const G16_UNTERMINATED: &str = r##"defmodule Shop.Broken do
  @moduledoc "Half-written module."

  def complete(a, b) do
    sum = Enum.sum([a, b])
    Shop.Telemetry.count(:complete, %{sum: sum, inputs: [a, b]})
    sum
  end

  @doc "Doubles every input."
  def double(inputs) do
    Enum.map(inputs, fn x -> x * 2 end) |> Enum.reject(&is_nil/1) |> Enum.sort()
  end

  def g(
end
"##;

#[test]
fn g16_unterminated_def_recovers_complete_definitions() {
    let cs = chunks("lib/shop/broken.ex", G16_UNTERMINATED);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Broken", &[], (1, 2)),
            row(Function, "Shop.Broken.complete", &[2], (3, 8)),
            row(Function, "Shop.Broken.double", &[1], (9, 13)),
            row(Text, "Shop.Broken", &[], (14, 16)),
        ],
    );
    assert_eq!(cs[0].doc.as_deref(), Some("Half-written module."));
    assert!(!cs[1].has_error, "complete definitions parse cleanly");
    assert!(!cs[2].has_error, "complete definitions parse cleanly");
    assert_eq!(cs[2].doc.as_deref(), Some("Doubles every input."));
    assert!(
        cs[1].calls.contains(&"Shop.Telemetry.count/2".to_string()),
        "{:?}",
        cs[1].calls
    );
    let rest = &cs[3];
    assert!(rest.has_error, "the remainder is marked: {}", dump(&cs));
    assert!(rest.content.contains("def g("));
}

/// Broken definitions in the middle of a file, of three kinds tree-sitter recovers from
/// by reading everything after them as part of the broken one: an unclosed head with a
/// `do` (`def broken(x do`), a head cut off (`def g(`), and a `case` missing its `end`
/// (which takes the def's `end`, so the module's goes missing).
const G16_SWALLOWING: [(&str, &str); 3] = [
    ("def broken(x do\n    x +\n  end\n", "broken"),
    ("def g(\n", "g"),
    (
        "def bad(x) do\n    case x do\n      1 -> :one\n      2 ->\n  end\n",
        "bad",
    ),
];

fn g16_swallowing_source(broken: &str) -> String {
    format!(
        r##"defmodule Shop.Half do
  def first(x) do
    Shop.Log.info("first of the functions before the broken one, long enough alone")
    x
  end

  {broken}
  def second(y) do
    Shop.Log.info("second of the functions, after the broken one, long enough alone")
    y
  end
end

defmodule Shop.After do
  def third(z) do
    Shop.Log.info("third, in another module after the broken one, long enough alone")
    z
  end
end
"##
    )
}

#[test]
fn g16_a_broken_definition_does_not_swallow_the_rest_of_the_file() {
    for (broken, name) in G16_SWALLOWING {
        let src = g16_swallowing_source(broken);
        let cs = chunks("lib/shop/half.ex", &src);
        let broken_lines = broken.lines().count() as u32;
        // The broken lines (and the blank line before them) are one text chunk with
        // has_error; the definitions after them, in the same module and the next, are
        // chunked as if the broken lines were not there. Blank lines open the next chunk.
        let b = broken_lines;
        assert_rows(
            &cs,
            vec![
                row(ModuleHeader, "Shop.Half", &[], (1, 1)),
                row(Function, "Shop.Half.first", &[1], (2, 5)),
                row(Text, "Shop.Half", &[], (6, 6 + b)),
                row(Function, "Shop.Half.second", &[1], (7 + b, 12 + b)),
                row(ModuleHeader, "Shop.After", &[], (13 + b, 14 + b)),
                row(Function, "Shop.After.third", &[1], (15 + b, 19 + b)),
            ],
        );
        assert!(cs[2].has_error, "{name}: {}", dump(&cs));
        assert!(
            cs[2].content.contains(&format!("def {name}(")),
            "{}",
            dump(&cs)
        );
        for (i, c) in cs.iter().enumerate().filter(|(i, _)| *i != 2) {
            assert!(!c.has_error, "{name}: chunk {i} is whole: {}", dump(&cs));
        }
        assert_eq!(cs[3].calls, strings(&["Shop.Log.info/1"]), "{name}");
        assert_eq!(cs[5].calls, strings(&["Shop.Log.info/1"]), "{name}");
    }
}

const G16_LEAD: &str = r##"defmodule M do
  @doc "Broken."
  @spec broken(term) :: term
  def broken(x do
    x +
  end

  def ok(y) do
    Log.info("ok")
    y
  end
end
"##;

const G16_DESCRIBE: &str = r##"defmodule Shop.MathTest do
  use ExUnit.Case

  describe "add" do
    test "one" do
      assert add(1, 2) == 3
    end

    test "broken" do
      case x do
    end

    test "three" do
      assert add(0, 0) == 0
    end
  end

  test "outside" do
    assert true
  end
end
"##;

const G16_RESCUE: &str = r##"defmodule M do
  def a(x) do
    case x do
      1 -> :one
  rescue
    e -> e
  end

  def b(y) do
    y
  end

  def c(y) do
    y
  end
end
"##;

const G16_COLLATERAL: &str = r##"defmodule M do
  def a(x) do
    case x do
      1 -> :one
  end

  def b(y), do: y
end
"##;

const G16_HEREDOC: &str = r##"defmodule M do
  def usage(x) do
    text = """
Usage: aiex
    """
    case x do
      1 -> text
  end

  def b(y) do
    y
  end
end
"##;

/// Broken definitions next to correct ones that a repair must leave whole: the broken
/// one's `@doc`/`@spec` lines, a broken test inside a describe, a `rescue` at the
/// definition's own indentation, a whole definition the parser lost with the broken one,
/// and a heredoc with text at column 0.
#[test]
fn g16_a_repair_leaves_the_correct_neighbours_whole() {
    let cases: Vec<(&str, &str, Vec<Row>)> = vec![
        (
            "lib/lead.ex",
            G16_LEAD,
            vec![
                row(ModuleHeader, "M", &[], (1, 1)),
                row(Text, "M", &[], (2, 6)),
                row(Function, "M.ok", &[1], (7, 12)),
            ],
        ),
        (
            "test/describe_test.exs",
            G16_DESCRIBE,
            vec![
                row(ModuleHeader, "Shop.MathTest", &[], (1, 2)),
                row(Describe, "Shop.MathTest.add", &[], (3, 4)),
                row(Test, "Shop.MathTest.add one", &[], (5, 7)),
                row(Text, "Shop.MathTest", &[], (8, 11)),
                row(Test, "Shop.MathTest.add three", &[], (12, 16)),
                row(Test, "Shop.MathTest.outside", &[], (17, 21)),
            ],
        ),
        (
            "lib/rescue.ex",
            G16_RESCUE,
            vec![
                row(ModuleHeader, "M", &[], (1, 1)),
                row(Text, "M", &[], (2, 7)),
                row(Function, "M.b", &[1], (8, 16)),
            ],
        ),
        (
            "lib/collateral.ex",
            G16_COLLATERAL,
            vec![
                row(ModuleHeader, "M", &[], (1, 1)),
                row(Text, "M", &[], (2, 5)),
                row(Function, "M.b", &[1], (6, 8)),
            ],
        ),
        (
            "lib/heredoc.ex",
            G16_HEREDOC,
            vec![
                row(ModuleHeader, "M", &[], (1, 1)),
                row(Text, "M", &[], (2, 8)),
                row(Function, "M.b", &[1], (9, 13)),
            ],
        ),
    ];
    for (path, src, expected) in cases {
        let cs = chunks(path, src);
        assert_rows(&cs, expected);
        for c in &cs {
            assert_eq!(c.has_error, c.kind == Text, "{path}: {}", dump(&cs));
        }
    }
    let cs = chunks("lib/lead.ex", G16_LEAD);
    assert_eq!(cs[2].doc, None, "the broken function's doc stays with it");
    assert_eq!(cs[2].calls, strings(&["Log.info/1"]));
    let cs = chunks("lib/rescue.ex", G16_RESCUE);
    assert_eq!(defined(&cs[2]), strings(&["M.b/1", "M.c/1"]));
}

/// What else may follow a broken definition: one-line clauses after a trailing `def g(`,
/// an `@doc`, an `alias`, a head over several lines, a heredoc with text at column 0 and
/// a `rescue`, a guard, generated definitions. Each case: the definitions that must
/// survive, and the text the has_error chunk holds.
#[test]
fn g16_what_follows_a_broken_definition_survives() {
    let cases: [(&str, &[&str], &str); 7] = [
        (
            r##"defmodule A do
  def g(

  defp e(:none), do: :error
  defp e(:all), do: :debug

  def adding(config) do
    Map.merge(config, %{})
  end
end
"##,
            &["A.e/1", "A.adding/1"][..],
            "def g(",
        ),
        (
            r##"defmodule A do
  def broken(x do
    x
  end

  @doc "d"
  def d(x), do: x

  def last(x), do: Enum.at(x, 0)
end
"##,
            &["A.d/1", "A.last/1"][..],
            "def broken(",
        ),
        (
            r##"defmodule A do
  def broken(x do
    x
  end

  alias Foo.Bar

  def last(x), do: Enum.at(x, 0)
end
"##,
            &["A.last/1"][..],
            "def broken(",
        ),
        (
            r##"defmodule A do
  def broken(x do
    x
  end

  def heads(
    a
  ) do
    a
  end
end
"##,
            &["A.heads/1"][..],
            "def broken(",
        ),
        (
            r##"defmodule A do
  def ok1(x) do
    x
  end
  def broken(x do
    s = """
def inside_heredoc(q) do
end
"""
    x
  rescue
    _ -> :err
  end
  def ok2(y) do
    y
  end
end
"##,
            &["A.ok1/1", "A.ok2/1"][..],
            "def broken(",
        ),
        (
            r##"defmodule A do
  def broken(x do
    x
  end

  def z(x) when x > 1, do: x

  def last(x), do: Enum.at(x, 0)
end
"##,
            &["A.z/1", "A.last/1"][..],
            "def broken(",
        ),
        (
            r##"defmodule A do
  def broken(x do
    x
  end

  for n <- [:a, :b] do
    def unquote(n)(), do: unquote(n)
  end

  def last(x), do: x
end
"##,
            &["A.last/1"][..],
            "def broken(",
        ),
    ];
    for (src, expected, broken) in cases {
        let cs = chunks("lib/a.ex", src);
        let defined: Vec<String> = cs.iter().flat_map(defined).collect();
        for symbol in expected {
            assert!(
                defined.contains(&symbol.to_string()),
                "{symbol}: {}",
                dump(&cs)
            );
        }
        assert!(
            !defined
                .iter()
                .any(|d| d.starts_with("A.broken") || d.starts_with("A.g/")),
            "{}",
            dump(&cs)
        );
        let bad: Vec<&Chunk> = cs.iter().filter(|c| c.has_error).collect();
        assert_eq!(bad.len(), 1, "{}", dump(&cs));
        assert_eq!(bad[0].kind, Text, "{}", dump(&cs));
        assert!(bad[0].content.contains(broken), "{}", dump(&cs));
        assert!(
            !bad[0].content.contains("alias Foo.Bar"),
            "header material after the broken definition is not marked broken: {}",
            dump(&cs)
        );
    }
}

#[test]
fn g16_a_module_missing_its_end_marks_its_last_chunk() {
    let cs = chunks(
        "lib/shop/open.ex",
        "defmodule Shop.Open do\n  def f, do: Shop.Log.info(\"a module whose end is missing\")\n",
    );
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Open", &[], (1, 1)),
            row(Function, "Shop.Open.f", &[0], (2, 2)),
        ],
    );
    assert!(!cs[0].has_error, "{}", dump(&cs));
    assert!(
        cs[1].has_error,
        "the missing `end` is at the end: {}",
        dump(&cs)
    );
}

// ------------------------------------------------------------------------------ group 17

#[test]
fn g17_crlf_line_endings_match_lf() {
    let crlf = G01_CART.replace('\n', "\r\n");
    let lf_chunks = chunks("lib/shop/cart.ex", G01_CART);
    let crlf_chunks = chunks("lib/shop/cart.ex", &crlf);
    assert_eq!(
        rows(&crlf_chunks),
        rows(&lf_chunks),
        "\n{}",
        dump(&crlf_chunks)
    );
    for (a, b) in crlf_chunks.iter().zip(&lf_chunks) {
        assert_eq!(a.visibility, b.visibility);
        assert_eq!(a.signature, b.signature);
        assert_eq!(a.doc, b.doc, "docs do not keep the \\r");
    }
}

#[test]
fn g17_empty_file_has_no_chunks() {
    assert!(chunks("lib/empty.ex", "").is_empty());
    assert!(chunks("test/empty_test.exs", "").is_empty());
}

const G17_COMMENTS_ONLY: &str = r##"# This file is intentionally left blank.
# Configuration lives in config/runtime.exs.
"##;

#[test]
fn g17_comments_only_file_is_text() {
    let cs = chunks("lib/shop/placeholder.ex", G17_COMMENTS_ONLY);
    assert_rows(&cs, vec![row(Text, "", &[], (1, 2))]);
    assert!(!cs[0].has_error);
    assert!(cs[0].defines.is_empty());
}

const G17_CONFIG: &str = r##"import Config

config :shop, Shop.Repo,
  database: "shop_dev",
  pool_size: 10

config :logger, level: :info

import_config "#{config_env()}.exs"
"##;

#[test]
fn g17_config_script_without_module_is_text() {
    let cs = chunks("config/config.exs", G17_CONFIG);
    assert_rows(&cs, vec![row(Text, "", &[], (1, 9))]);
    assert!(cs[0].defines.is_empty());
    assert!(!cs[0].has_error);
}

#[test]
fn binary_file_is_skipped() {
    let mut bytes = b"defmodule Shop.Blob do\n  @data <<".to_vec();
    bytes.extend_from_slice(&[0, 159, 146, 150, 0, 1, 2]);
    bytes.extend_from_slice(b">>\nend\n");
    match chunk_file(
        "test",
        "lib/shop/blob.ex",
        &bytes,
        &ChunkerConfig::default(),
    ) {
        FileChunks::Skipped(SkipReason::Binary) => {}
        FileChunks::Skipped(other) => panic!("skipped for the wrong reason: {other}"),
        FileChunks::Chunked(cs) => panic!("a binary file was chunked:\n{}", dump(&cs)),
    }
}

#[test]
fn file_over_the_size_cap_is_skipped() {
    let config = ChunkerConfig {
        max_file_bytes: 256,
        ..ChunkerConfig::default()
    };
    let size = G01_CART.len() as u64;
    assert!(size > 256);
    match chunk_file("test", "lib/shop/cart.ex", G01_CART.as_bytes(), &config) {
        FileChunks::Skipped(SkipReason::TooLarge { size: s, limit }) => {
            assert_eq!((s, limit), (size, 256));
        }
        FileChunks::Skipped(other) => panic!("skipped for the wrong reason: {other}"),
        FileChunks::Chunked(cs) => panic!("an oversized file was chunked:\n{}", dump(&cs)),
    }
    // At the cap exactly, the file is still chunked.
    let at_cap = ChunkerConfig {
        max_file_bytes: size,
        ..ChunkerConfig::default()
    };
    let cs = chunks_with("lib/shop/cart.ex", G01_CART.as_bytes(), &at_cap);
    assert_eq!(cs.len(), 3);
}

// ------------------------------------------------------------------------------ group 18

const G18_BIG_AND_SMALL: &str = r##"defmodule Shop.Tariffs do
  @moduledoc "Country tariff tables."

  @spec table(atom()) :: %{String.t() => map()}
  def table(region) do
    rates = %{
      "AT" => %{standard: 0.20, reduced: 0.10, zero_rated: false},
      "BE" => %{standard: 0.21, reduced: 0.11, zero_rated: false},
      "BG" => %{standard: 0.22, reduced: 0.12, zero_rated: false},
      "HR" => %{standard: 0.23, reduced: 0.13, zero_rated: false},
      "CY" => %{standard: 0.24, reduced: 0.14, zero_rated: false},
      "CZ" => %{standard: 0.25, reduced: 0.10, zero_rated: false},
      "DK" => %{standard: 0.26, reduced: 0.11, zero_rated: false},
      "EE" => %{standard: 0.20, reduced: 0.12, zero_rated: false},
      "FI" => %{standard: 0.21, reduced: 0.13, zero_rated: false},
      "FR" => %{standard: 0.22, reduced: 0.14, zero_rated: false},
      "DE" => %{standard: 0.23, reduced: 0.10, zero_rated: false},
      "GR" => %{standard: 0.24, reduced: 0.11, zero_rated: false},
      "HU" => %{standard: 0.25, reduced: 0.12, zero_rated: false},
      "IE" => %{standard: 0.26, reduced: 0.13, zero_rated: false},
      "IT" => %{standard: 0.20, reduced: 0.14, zero_rated: false},
      "LV" => %{standard: 0.21, reduced: 0.10, zero_rated: false},
    }

    names = %{
      "AT" => "Country AT (1)",
      "BE" => "Country BE (2)",
      "BG" => "Country BG (3)",
      "HR" => "Country HR (4)",
      "CY" => "Country CY (5)",
      "CZ" => "Country CZ (6)",
      "DK" => "Country DK (7)",
      "EE" => "Country EE (8)",
      "FI" => "Country FI (9)",
      "FR" => "Country FR (10)",
      "DE" => "Country DE (11)",
      "GR" => "Country GR (12)",
      "HU" => "Country HU (13)",
      "IE" => "Country IE (14)",
      "IT" => "Country IT (15)",
      "LV" => "Country LV (16)",
      "LT" => "Country LT (17)",
      "LU" => "Country LU (18)",
      "MT" => "Country MT (19)",
      "NL" => "Country NL (20)",
      "PL" => "Country PL (21)",
      "PT" => "Country PT (22)",
      "RO" => "Country RO (23)",
      "SK" => "Country SK (24)",
      "SI" => "Country SI (25)",
      "ES" => "Country ES (26)",
      "SE" => "Country SE (27)",
      "NO" => "Country NO (28)",
      "CH" => "Country CH (29)",
      "GB" => "Country GB (30)",
    }

    rates |> Map.take(Shop.Regions.members(region)) |> Map.merge(names, fn _k, r, n -> Map.put(r, :name, n) end)
  end

  defp tier_0(amount), do: amount * 1 + Shop.Fees.base(0)
  defp tier_1(amount), do: amount * 2 + Shop.Fees.base(1)
  defp tier_2(amount), do: amount * 3 + Shop.Fees.base(2)
  defp tier_3(amount), do: amount * 4 + Shop.Fees.base(3)
  defp tier_4(amount), do: amount * 5 + Shop.Fees.base(4)
  defp tier_5(amount), do: amount * 6 + Shop.Fees.base(5)
  defp tier_6(amount), do: amount * 7 + Shop.Fees.base(6)
  defp tier_7(amount), do: amount * 8 + Shop.Fees.base(7)
  defp tier_8(amount), do: amount * 9 + Shop.Fees.base(8)
  defp tier_9(amount), do: amount * 10 + Shop.Fees.base(9)
end
"##;

#[test]
fn g18_function_over_budget_is_split_with_headers() {
    let path = "lib/shop/tariffs.ex";
    let cs = chunks(path, G18_BIG_AND_SMALL);
    let config = ChunkerConfig::default();
    assert_eq!(config.budget, 1500);

    // The function (lines 3-59 with its @spec) is 1673 non-whitespace characters: two runs
    // of body statements, cut before `names = ...` (line 25; the blank line 24 ends part 1).
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Tariffs", &[], (1, 2)),
            row(Function, "Shop.Tariffs.table", &[1], (3, 24)),
            row(Function, "Shop.Tariffs.table", &[1], (25, 59)),
            row(Function, "Shop.Tariffs.tier_0", &[1], (60, 71)),
        ],
    );
    let parts = &cs[1..3];
    let whole: usize = parts.iter().map(|c| c.size).sum();
    assert!(whole > config.budget, "the function is over the budget");
    for (k, part) in parts.iter().enumerate() {
        let k = k as u32 + 1;
        assert_eq!(part.part, Some((k, 2)));
        assert!(part.size <= config.budget, "part {k} is within the budget");
        assert!(part.header.contains(path), "header names the path");
        assert!(
            part.header.contains("defmodule Shop.Tariffs do"),
            "{}",
            part.header
        );
        assert!(part.header.contains("def table(region)"), "{}", part.header);
        assert!(
            part.header
                .contains("@spec table(atom()) :: %{String.t() => map()}"),
            "{}",
            part.header
        );
        assert!(
            part.header.contains(&format!("part {k}/2")),
            "{}",
            part.header
        );
        assert!(part.text_with_header().starts_with(&part.header));
        assert_eq!(
            part.specs,
            strings(&["@spec table(atom()) :: %{String.t() => map()}"])
        );
    }
    assert!(parts[0].content.contains("rates = %{"));
    assert!(parts[1].content.trim_start().starts_with("names = %{"));
    assert!(cs[0].part.is_none() && cs[0].header.is_empty());
    assert!(
        defined(&parts[0]).contains(&"Shop.Tariffs.table/1".to_string()),
        "the first part still defines the function"
    );
}

#[test]
fn g18_ten_one_line_defps_are_merged() {
    let cs = chunks("lib/shop/tariffs.ex", G18_BIG_AND_SMALL);
    let merged = cs.last().unwrap();
    assert_eq!(merged.kind, Function);
    assert_eq!((merged.start_line, merged.end_line), (60, 71));
    assert!(has_tag(merged, "merged"), "{}", dump(&cs));
    assert!(merged.part.is_none() && merged.header.is_empty());
    let expected: Vec<String> = (0..10)
        .map(|i| format!("Shop.Tariffs.tier_{i}/1"))
        .collect();
    assert_eq!(defined(merged), expected);
    assert!(
        merged
            .defines
            .iter()
            .all(|d| d.visibility == Visibility::Private && d.kind == Function)
    );
    let lines: Vec<u32> = merged.defines.iter().map(|d| d.line).collect();
    assert_eq!(lines, (61..=70).collect::<Vec<u32>>());
    assert_eq!(merged.calls, strings(&["Shop.Fees.base/1"]));
}

const G18_MIXED_SMALL: &str = r##"defmodule Shop.Small do
  def f(x), do: x
  defmacro mac(a), do: a
  defguard is_pos(x) when is_integer(x) and x > 0
  defdelegate size(x), to: Enum, as: :count
  defdelegate sum(x), to: Enum

  def small(x), do: x

  @doc "Doubles it."
  @spec g(integer) :: integer
  def g(x), do: x * 2
  def h(x), do: x
end
"##;

#[test]
fn g18_merging_keeps_each_kind_and_doc_with_its_definition() {
    // Small neighbours merge only with their own kind (a chunk is found by its kind), and
    // never with a documented definition (a chunk has one name and one doc).
    let cs = chunks("lib/shop/small.ex", G18_MIXED_SMALL);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Small", &[], (1, 1)),
            row(Function, "Shop.Small.f", &[1], (2, 2)),
            row(Macro, "Shop.Small.mac", &[1], (3, 3)),
            row(Guard, "Shop.Small.is_pos", &[1], (4, 4)),
            row(Delegate, "Shop.Small.size", &[1], (5, 6)),
            row(Function, "Shop.Small.small", &[1], (7, 8)),
            row(Function, "Shop.Small.g", &[1], (9, 12)),
            row(Function, "Shop.Small.h", &[1], (13, 14)),
        ],
    );
    assert!(has_tag(&cs[4], "merged"), "{}", dump(&cs));
    assert_eq!(
        defined(&cs[4]),
        strings(&["Shop.Small.size/1", "Shop.Small.sum/1"])
    );
    assert_eq!(cs[5].doc, None, "{}", dump(&cs));
    assert_eq!(cs[6].doc.as_deref(), Some("Doubles it."));
    assert_eq!(cs[6].specs, strings(&["@spec g(integer) :: integer"]));
    assert!(
        cs.iter()
            .filter(|c| c.kind != ModuleHeader)
            .all(|c| { c.defines.iter().all(|d| d.kind == c.kind) })
    );
}

const G18_SMALL_TESTS: &str = r##"defmodule Shop.MathTest do
  use ExUnit.Case
  describe "add/2" do
    test "adds", do: assert(Shop.Math.add(1, 2) == 3)
    test "pending"
  end
  test "outside", do: assert(Shop.Math.add(0, 0) == 0)
  property "commutes", do: assert(Shop.Math.add(1, 2) == Shop.Math.add(2, 1))
end
"##;

#[test]
fn g18_small_tests_are_never_merged() {
    // Each test keeps its own chunk and name, inside a describe or not.
    let cs = chunks("test/shop/math_test.exs", G18_SMALL_TESTS);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.MathTest", &[], (1, 2)),
            row(Describe, "Shop.MathTest.add/2", &[], (3, 3)),
            row(Test, "Shop.MathTest.add/2 adds", &[], (4, 4)),
            row(Test, "Shop.MathTest.add/2 pending", &[], (5, 6)),
            row(Test, "Shop.MathTest.outside", &[], (7, 7)),
            row(Test, "Shop.MathTest.commutes", &[], (8, 9)),
        ],
    );
    assert!(cs.iter().all(|c| !has_tag(c, "merged")), "{}", dump(&cs));
    for c in &cs[4..] {
        assert_eq!(c.calls, strings(&["Shop.Math.add/2"]), "{}", c.name);
    }
}

/// A function whose `@doc` is over half the budget and which does not fit with it is
/// split after the doc: its head goes with its body, not at the end of the doc's part
/// (found in Pinchflat, where a part held a long doc and the head alone).
#[test]
fn g18_a_long_doc_is_a_part_and_the_head_goes_with_the_body() {
    let doc: String = (1..=12)
        .map(|i| format!("  Step {i} of indexing: reads the source and writes its items.\n"))
        .collect();
    let body: String = (1..=12)
        .map(|i| format!("    items = Index.step(items, :step_{i}, source)\n"))
        .collect();
    let src = format!(
        "defmodule Shop.Indexer do\n  @doc \"\"\"\n{doc}  \"\"\"\n  def index(source, opts \\\\ []) do\n    items = []\n{body}    items\n  end\nend\n"
    );
    let config = ChunkerConfig {
        budget: 900,
        merge_below: 0,
        ..ChunkerConfig::default()
    };
    let cs = chunks_with("lib/shop/indexer.ex", src.as_bytes(), &config);
    let parts: Vec<&Chunk> = cs.iter().filter(|c| c.name == "index").collect();
    assert_eq!(parts.len(), 2, "{}", dump(&cs));
    let head = src.lines().position(|l| l.contains("def index(")).unwrap() as u32 + 1;
    assert_eq!(parts[1].start_line, head, "{}", dump(&cs));
    assert!(parts[0].content.contains("Step 12 of indexing"));
    assert_eq!(
        defined(parts[1]),
        strings(&["Shop.Indexer.index/1", "Shop.Indexer.index/2"])
    );
}

/// A `render/1` that is one `~H` heredoc far over the budget: the heredoc is cut between
/// its lines (see `g05_a_long_template_heredoc_is_cut_between_its_lines`), and the `end`
/// after it is no part of its own (a part that reads as nothing).
#[test]
fn g18_the_end_after_an_uncut_heredoc_is_no_part_of_its_own() {
    let mut src =
        String::from("defmodule ShopWeb.PlayerLive do\n  def render(assigns) do\n    ~H\"\"\"\n");
    for i in 1..=60 {
        src.push_str(&format!(
            "    <div id=\"row-{i}\" class=\"flex items-center space-x-3\"><%= @song_{i} %></div>\n"
        ));
    }
    src.push_str(
        "    \"\"\"\n  end\n\n  def mount(_params, _session, socket), do: {:ok, socket}\nend\n",
    );
    let cs = chunks("lib/shop_web/live/player_live.ex", &src);
    let render: Vec<&Chunk> = (cs.iter()).filter(|c| c.name == "render").collect();
    assert!(render.len() > 1, "{}", dump(&cs));
    assert_eq!(render[0].start_line, 2);
    let last = render[render.len() - 1];
    assert_eq!(last.end_line, 65, "{}", dump(&cs));
    assert!(last.content.contains("<div id=\"row-60\""), "{}", dump(&cs));
}

/// A function whose body is mostly one heredoc far over the budget (generated: 52 lines).
fn g18_heredoc_source() -> String {
    let mut src = String::from(
        r##"defmodule Shop.Mailer.Templates do
  @moduledoc "Plain-text e-mail templates."

  def order_confirmation(order) do
    greeting = "Dear #{order.customer_name},"

    body = """
"##,
    );
    for i in 1..=40 {
        src.push_str(&format!(
            "    Line {i}: item <%= item_{i} %> shipped; def end do end, total <%= total_{i} %> EUR.\n"
        ));
    }
    src.push_str(
        r##"    """

    EEx.eval_string(greeting <> "\n" <> body, assigns: Map.from_struct(order))
  end
end
"##,
    );
    src
}

#[test]
fn g18_split_never_cuts_inside_a_heredoc() {
    let path = "lib/shop/mailer/templates.ex";
    let src = g18_heredoc_source();
    assert_eq!(src.lines().count(), 52);
    let cs = chunks(path, &src);
    let open = src.find("\"\"\"\n").unwrap();
    let close = src.rfind("\"\"\"").unwrap() + 3;

    assert_eq!(
        rows(&cs[..1]),
        vec![row(ModuleHeader, "Shop.Mailer.Templates", &[], (1, 2))]
    );
    let parts = &cs[1..];
    let n = parts.len() as u32;
    assert!(n >= 2, "the function is split:\n{}", dump(&cs));
    for (k, part) in parts.iter().enumerate() {
        let k = k as u32 + 1;
        assert_eq!(
            (part.kind, qualified(part), part.arities.clone()),
            (
                Function,
                "Shop.Mailer.Templates.order_confirmation".to_string(),
                vec![1]
            )
        );
        assert_eq!(part.part, Some((k, n)), "{}", dump(&cs));
        assert!(part.header.contains(path), "{}", part.header);
        assert!(
            part.header.contains("def order_confirmation(order)"),
            "{}",
            part.header
        );
        assert!(
            part.header.contains(&format!("part {k}/{n}")),
            "{}",
            part.header
        );
        assert!(part.size > 0, "part {k} is only whitespace:\n{}", dump(&cs));
        assert!(
            !(open < part.start_byte && part.start_byte < close),
            "part {k} starts inside the heredoc ({open}..{close}):\n{}",
            dump(&cs)
        );
    }
    assert_eq!(parts[0].start_line, 3);
    assert_eq!(parts.last().unwrap().end_line, 52);
    for w in parts.windows(2) {
        assert_eq!(
            w[0].end_line + 1,
            w[1].start_line,
            "parts start on their own line:\n{}",
            dump(&cs)
        );
    }
}

/// A `@doc` over the budget before a bodiless head (`Ecto.Migration.table/2`) is a part
/// of its own, and the head goes with the clauses after it, not into a part of two lines;
/// a head written over several lines reads as on one.
#[test]
fn g18_a_long_doc_parts_from_a_bodiless_head_which_goes_with_its_clauses() {
    let doc: String = (1..=30)
        .map(|i| format!("  Line {i} of the documentation of a table, long enough to split.\n"))
        .collect();
    let src = format!(
        "defmodule Shop.Migration do\n  @doc \"\"\"\n{doc}  \"\"\"\n  def table(name, opts \\\\ [])\n\n  def table(\n        name,\n        opts\n      ) when is_atom(name) do\n    table(Atom.to_string(name), opts)\n  end\n\n  def table(name, opts) when is_binary(name), do: {{name, opts}}\n\n  def put(\n        name,\n        [value | _]\n      ) do\n    {{name, value}}\n  end\nend\n"
    );
    let cs = chunks("lib/shop/migration.ex", &src);
    assert_tiles(&cs, src.as_bytes());
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Migration", &[], (1, 1)),
            row(Function, "Shop.Migration.table", &[1, 2], (2, 33)),
            row(Function, "Shop.Migration.table", &[1, 2], (34, 43)),
            row(Function, "Shop.Migration.put", &[2], (44, 51)),
        ],
    );
    assert_eq!(cs[1].part, Some((1, 2)));
    assert_eq!(cs[2].part, Some((2, 2)));
    // The definition goes with the part that shows its head; both show the doc.
    assert_eq!(defined(&cs[1]), Vec::<String>::new());
    assert_eq!(
        defined(&cs[2]),
        strings(&["Shop.Migration.table/1", "Shop.Migration.table/2"])
    );
    assert!(cs[2].doc.as_deref().is_some_and(|d| d.contains("Line 30")));
    assert_eq!(cs[2].signature, "def table(name, opts \\\\ [])");
    assert!(
        cs[2]
            .header
            .ends_with("  def table(name, opts \\\\ []) # part 2/2\n"),
        "{}",
        cs[2].header
    );
    assert_eq!(cs[3].signature, "def put(name, [value | _])");
}

/// The byte ranges of the heredocs (`"""` to `"""`) of `src`.
fn heredocs(src: &str) -> Vec<(usize, usize)> {
    let marks: Vec<usize> = src.match_indices("\"\"\"").map(|(i, _)| i).collect();
    assert_eq!(marks.len() % 2, 0, "heredocs are closed");
    marks.chunks(2).map(|p| (p[0], p[1] + 3)).collect()
}

#[test]
fn g18_split_never_cuts_inside_a_doc_a_moduledoc_or_a_test_attribute() {
    let paragraphs = |what: &str| -> String {
        (1..=8)
            .map(|i| format!("  Paragraph {i}: {what} controls behaviour number {i} of it.\n"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let lib = format!(
        "defmodule MyApp.Client do\n  @moduledoc \"\"\"\n{}  \"\"\"\n\n  @doc \"\"\"\n  Sends a request.\n\n{}  \"\"\"\n  def send(req) do\n    req\n  end\nend\n",
        paragraphs("the module"),
        paragraphs("this option"),
    );
    let test = format!(
        "defmodule MyApp.ClientTest do\n  use ExUnit.Case\n\n  @contents \"\"\"\n{}  \"\"\"\n\n  test \"reads the contents\" do\n    assert String.length(@contents) > 0\n  end\nend\n",
        paragraphs("the data"),
    );
    // Pieces that define no function: a callback and its doc, a script's statements.
    let behaviour = format!(
        "defmodule MyApp.Beh do\n  @moduledoc \"A behaviour.\"\n\n  @doc \"\"\"\n{}  \"\"\"\n  @callback handle(term()) :: :ok\nend\n",
        paragraphs("the callback"),
    );
    let script = format!(
        "Mix.install([:req])\n\nquery = \"\"\"\n{}\"\"\"\n\nIO.puts(query)\n",
        paragraphs("the query"),
    );
    let config = ChunkerConfig {
        budget: 200,
        ..ChunkerConfig::default()
    };
    for (path, src) in [
        ("lib/client.ex", &lib),
        ("test/client_test.exs", &test),
        ("lib/beh.ex", &behaviour),
        ("scripts/query.exs", &script),
    ] {
        let cs = chunks_with(path, src.as_bytes(), &config);
        for (open, close) in heredocs(src) {
            for c in &cs {
                assert!(
                    !(open < c.start_byte && c.start_byte < close),
                    "{path}: a chunk starts inside the heredoc {open}..{close}:\n{}",
                    dump(&cs)
                );
            }
        }
        assert!(
            cs.iter().any(|c| c.size > config.budget),
            "{path}: a heredoc over the budget is kept whole, over it:\n{}",
            dump(&cs)
        );
    }
    // The part with the function's head names it and carries its doc.
    let cs = chunks_with("lib/client.ex", lib.as_bytes(), &config);
    let def = lib.find("def send").unwrap();
    let head = (cs.iter())
        .find(|c| c.start_byte <= def && def < c.end_byte)
        .unwrap();
    assert_eq!(head.name, "send", "{}", dump(&cs));
    assert!(!head.defines.is_empty(), "{}", dump(&cs));
    assert!(
        head.doc
            .as_deref()
            .is_some_and(|d| d.starts_with("Sends a request.")),
        "{head:?}"
    );
}

// ------------------------------------------------------------------------------ group 19

const G19_PIPES: &str = r##"defmodule Shop.Report do
  alias Shop.{Orders, Money}
  alias Shop.Export.Csv, as: CSV

  def monthly_totals(orders) do
    orders
    |> Enum.filter(&Orders.paid?/1)
    |> Enum.group_by(&Orders.month/1)
    |> Enum.map(fn {month, list} -> {month, Money.sum(list)} end)
    |> Map.new()
    |> label(:month)
  end

  def export(rows, path) do
    rows
    |> Enum.map(&format_row/1)
    |> CSV.encode(headers: true)
    |> Stream.into(File.stream!(path))
    |> Stream.run()

    __MODULE__.Audit.record(:export, Enum.count(rows))
    Enum.reduce(rows, 0, &Money.add/2)
  end

  defp label(totals, key), do: Map.new(totals, fn {k, v} -> {{key, k}, v} end)
  defp format_row(row), do: row |> Map.values() |> Enum.map(&String.Chars.to_string/1) |> Enum.join(",")
end
"##;

/// A value piped into a name without parentheses (`x |> trim`, as unformatted code writes)
/// calls it with one argument: the module's own function, an imported one, a remote one.
#[test]
fn g19_a_pipe_into_a_name_without_parentheses_is_a_call() {
    let src = concat!(
        "defmodule Shop.Clean do\n",
        "  import String, only: [trim: 1]\n",
        "  def clean(x), do: x |> trim |> normalize\n",
        "  def up(x), do: x |> String.upcase |> Shop.Text.squash\n",
        "  def both(x, y), do: normalize(x) <> y\n",
        "  def order(x), do: x |> String.upcase() |> normalize |> Shop.Text.squash()\n",
        "  defp normalize(x), do: x\n",
        "end\n",
        "defmodule Shop.Pipe do\n",
        "  import Kernel, except: [|>: 2]\n",
        "  defmacro left |> right do\n",
        "    quote do: unquote(right).(unquote(left))\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("lib/shop/clean.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let calls_of = |symbol: &str| definition_calls(&cs, symbol);
    assert_eq!(
        calls_of("Shop.Clean.clean/1"),
        strings(&["Shop.Clean.normalize/1"]),
        "{}",
        dump(&cs)
    );
    // The imported `trim/1` is left for the graph, which reads the import's `only:`.
    assert_eq!(cs[1].unqualified_calls, strings(&["trim/1"]));
    assert_eq!(
        calls_of("Shop.Clean.up/1"),
        strings(&["String.upcase/1", "Shop.Text.squash/1"])
    );
    // A variable is no call.
    assert_eq!(
        calls_of("Shop.Clean.both/2"),
        strings(&["Shop.Clean.normalize/1"])
    );
    // In the order the pipeline runs them.
    assert_eq!(
        calls_of("Shop.Clean.order/1"),
        strings(&[
            "String.upcase/1",
            "Shop.Clean.normalize/1",
            "Shop.Text.squash/1"
        ])
    );
    // A head that defines `|>` calls nothing.
    for c in cs.iter().filter(|c| c.module == "Shop.Pipe") {
        assert!(
            !(c.calls.iter().chain(&c.unqualified_calls)).any(|s| s.starts_with("right")),
            "{}",
            dump(&cs)
        );
    }
}

#[test]
fn g19_pipes_and_captures_give_call_arities() {
    let cs = chunks("lib/shop/report.ex", G19_PIPES);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Report", &[], (1, 3)),
            row(Function, "Shop.Report.monthly_totals", &[1], (4, 12)),
            row(Function, "Shop.Report.export", &[2], (13, 23)),
            row(Function, "Shop.Report.label", &[2], (24, 27)),
        ],
    );
    assert!(cs[0].calls.is_empty(), "alias lines call nothing");

    assert_eq!(
        sorted(&cs[1].calls),
        sorted(&strings(&[
            "Enum.filter/2",
            "Shop.Orders.paid?/1",
            "Enum.group_by/2",
            "Shop.Orders.month/1",
            "Enum.map/2",
            "Shop.Money.sum/1",
            "Map.new/1",
            "Shop.Report.label/2",
        ]))
    );
    assert_eq!(
        sorted(&cs[2].calls),
        sorted(&strings(&[
            "Enum.map/2",
            "Shop.Report.format_row/1",
            "Shop.Export.Csv.encode/2",
            "Stream.into/2",
            "File.stream!/1",
            "Stream.run/1",
            "Shop.Report.Audit.record/2",
            "Enum.count/1",
            "Enum.reduce/3",
            "Shop.Money.add/2",
        ]))
    );
    let helpers = &cs[3];
    assert!(has_tag(helpers, "merged"));
    assert_eq!(
        defined(helpers),
        strings(&["Shop.Report.label/2", "Shop.Report.format_row/1"])
    );
    assert_eq!(
        sorted(&helpers.calls),
        sorted(&strings(&[
            "Map.new/2",
            "Map.values/1",
            "Enum.map/2",
            "String.Chars.to_string/1",
            "Enum.join/2",
        ]))
    );
    for c in &cs {
        assert!(
            c.calls.iter().all(|s| s.contains('.') && s.contains('/')),
            "calls are keyed by Mod.fun/arity, never bare names: {:?}",
            c.calls
        );
    }
}

#[test]
fn same_named_modules_resolve_calls_with_their_own_aliases() {
    let src = r#"defmodule Top do
  if Code.ensure_loaded?(Jason) do
    defmodule Sub do
      alias Foo.Bar

      def g(x) do
        Bar.x(x) |> Enum.map(&to_string/1) |> Enum.join(",") |> String.trim()
      end
    end
  else
    defmodule Sub do
      alias Baz.Bar

      def g(x) do
        Bar.x(x) |> Enum.map(&to_string/1) |> Enum.join(";") |> String.trim()
      end
    end
  end
end
"#;
    let cs = chunks("lib/top.ex", src);
    let gs: Vec<&Chunk> = cs.iter().filter(|c| c.name == "g").collect();
    assert_eq!(gs.len(), 2, "{cs:#?}");
    assert!(
        gs[0].calls.contains(&"Foo.Bar.x/1".to_string()),
        "{:?}",
        gs[0].calls
    );
    assert!(
        gs[1].calls.contains(&"Baz.Bar.x/1".to_string()),
        "{:?}",
        gs[1].calls
    );
}

#[test]
fn delegates_call_their_target() {
    let src = r#"defmodule Shop do
  alias Shop.Inventory.Stock

  @doc "Reserves stock for a limited time and answers with the reservation or an error."
  defdelegate reserve(server, sku, quantity, opts \\ []), to: Stock

  @doc "Builds a validated product from the given attributes or explains the problem."
  defdelegate new_product(attrs), to: Shop.Catalog.Product, as: :new

  for {name, target} <- [price: :cost] do
    defdelegate unquote(name)(sku), to: Shop.Catalog, as: unquote(target)
  end
end
"#;
    let cs = chunks("lib/shop.ex", src);
    let calls: Vec<String> = cs.iter().flat_map(|c| c.calls.clone()).collect();
    // `unquote(name)` and `as: unquote(target)` name functions not known here: no call,
    // rather than a call of `unquote(name)/1`.
    assert!(
        (calls.iter())
            .all(|c| !c.starts_with("Shop.Catalog.") || c == "Shop.Catalog.Product.new/1"),
        "{calls:?}"
    );
    assert!(
        calls.contains(&"Shop.Inventory.Stock.reserve/4".to_string()),
        "{calls:?}"
    );
    assert!(
        calls.contains(&"Shop.Catalog.Product.new/1".to_string()),
        "{calls:?}"
    );
}

const G19_ALIASES: &str = r##"defmodule Shop.Calls do
  require Logger, as: Log
  require Stream.Reducers, as: R

  def a(x) do
    Log.info("a message")
    R.map(x)
  end

  def b(x) do
    alias Shop.Other.Inner
    alias Shop.{Left, Right}
    Inner.q(x) |> Left.l() |> Right.r(1)
  end

  def c(x), do: Inner.q(x) + Log.debug("another")
end
"##;

#[test]
fn g19_require_as_and_aliases_inside_a_function_expand_its_calls() {
    let cs = chunks("lib/shop/calls.ex", G19_ALIASES);
    let calls_of = |name: &str| -> Vec<String> {
        cs.iter()
            .flat_map(|c| &c.defines)
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name} is defined: {}", dump(&cs)))
            .calls
            .clone()
    };
    assert_eq!(
        calls_of("a"),
        strings(&["Logger.info/1", "Stream.Reducers.map/1"]),
        "`require X, as: Y` is an alias"
    );
    assert_eq!(
        calls_of("b"),
        strings(&["Shop.Other.Inner.q/1", "Shop.Left.l/1", "Shop.Right.r/2"]),
        "aliases inside the body expand the calls after them"
    );
    assert_eq!(
        calls_of("c"),
        strings(&["Inner.q/1", "Logger.debug/1"]),
        "an alias inside another function's body does not reach this one"
    );
    assert!(
        cs[0].aliases.iter().any(|a| a == "Logger as Log"),
        "{:?}",
        cs[0].aliases
    );
}

const G13_MORE_FORMS: &str = r##"defmodule Shop.Lists do
  @doc "Element access, from Enum."
  defdelegate [at(list, index), fetch(list, index)], to: Enum

  defmacro first..last//step do
    {first, last, step}
  end

  @type t :: integer
  @typep p ::
           integer
           | float
  @opaque o :: integer

  def ok, do: :ok
end
"##;

#[test]
fn g13_list_delegates_the_ternary_range_operator_and_each_types_own_lines() {
    let cs = chunks("lib/shop/lists.ex", G13_MORE_FORMS);
    // kind name arities visibility lines calls, for every definition but the module.
    let defs: Vec<String> = cs
        .iter()
        .flat_map(|c| &c.defines)
        .filter(|d| d.kind != ModuleHeader)
        .map(|d| {
            format!(
                "{} {} {:?} {:?} {}-{} {:?}",
                d.kind, d.name, d.arities, d.visibility, d.line, d.end_line, d.calls
            )
        })
        .collect();
    assert_eq!(
        defs,
        vec![
            r#"delegate at [2] Public 3-3 ["Enum.at/2"]"#.to_string(),
            r#"delegate fetch [2] Public 3-3 ["Enum.fetch/2"]"#.to_string(),
            "macro ..// [3] Public 5-7 []".to_string(),
            "type t [0] Public 9-9 []".to_string(),
            "type p [0] Private 10-12 []".to_string(),
            "type o [0] Public 13-13 []".to_string(),
            "function ok [0] Public 15-15 []".to_string(),
        ],
        "{}",
        dump(&cs)
    );
    assert!(
        cs.iter()
            .all(|c| !c.calls.iter().any(|call| call.starts_with("Shop.Lists.")))
    );
}

/// A module header over the budget (a long moduledoc, then types and callbacks) splits by
/// lines; each type and callback is defined by the part that holds its line, so a search
/// for `Shop.Server.handle_thing/1` lands on the part showing that `@callback`, not on
/// the first part of the moduledoc.
#[test]
fn g18_a_split_module_header_defines_each_callback_in_its_own_part() {
    let doc: String = (0..60)
        .map(|i| format!("  Line {i} of a long moduledoc that explains the behaviour in detail.\n"))
        .collect();
    let src = format!(
        "defmodule Shop.Server do\n  @moduledoc \"\"\"\n{doc}  \"\"\"\n\n  @type state :: map()\n\n  @callback handle_thing(term) :: term\n\n  @callback other_thing(term, term) :: :ok\nend\n"
    );
    let cs = chunks("lib/shop/server.ex", &src);
    assert_tiles(&cs, src.as_bytes());
    let parts: Vec<&Chunk> = cs.iter().filter(|c| c.part.is_some()).collect();
    assert!(parts.len() >= 2, "{}", dump(&cs));
    for (symbol, needle) in [
        ("Shop.Server.handle_thing/1", "@callback handle_thing"),
        ("Shop.Server.other_thing/2", "@callback other_thing"),
        ("Shop.Server.state/0", "@type state"),
    ] {
        let line = line_of(&src, needle);
        let holders: Vec<&&Chunk> = parts
            .iter()
            .filter(|c| defined(c).iter().any(|d| d == symbol))
            .collect();
        assert_eq!(holders.len(), 1, "{symbol}: {}", dump(&cs));
        let c = holders[0];
        assert!(
            c.start_line <= line && line <= c.end_line,
            "{symbol} at line {line} is defined by lines {}-{}: {}",
            c.start_line,
            c.end_line,
            dump(&cs)
        );
    }
    // The module itself stays with the first part.
    assert!(
        defined(parts[0]).iter().any(|d| d == "Shop.Server"),
        "{}",
        dump(&cs)
    );
    // Each part reads under the `defmodule` line once (the first part's own line), and
    // its header says which part it is.
    for (k, part) in parts.iter().enumerate() {
        assert_eq!(
            (part.text_with_header())
                .matches("defmodule Shop.Server do")
                .count(),
            1,
            "{}",
            part.text_with_header()
        );
        assert!(
            part.header
                .ends_with(&format!("# part {}/{}\n", k + 1, parts.len())),
            "{}",
            part.header
        );
    }
}

#[test]
fn g18_parts_of_a_later_clause_carry_that_clauses_head() {
    let body = |tag: &str| -> String {
        (0..25)
            .map(|i| {
                format!(
                    "    Shop.Log.info(\"{tag} statement {i} of a long clause body, padded\")\n"
                )
            })
            .collect()
    };
    let src = format!(
        "defmodule Shop.Big do\n  @spec k(integer | binary) :: :ok\n  def k(x) when is_integer(x) do\n{}    :ok\n  end\n\n  def k(x) when is_binary(x) do\n{}    :ok\n  end\nend\n",
        body("integer"),
        body("binary")
    );
    let cs = chunks("lib/shop/big.ex", &src);
    let parts: Vec<&Chunk> = cs.iter().filter(|c| c.part.is_some()).collect();
    assert!(parts.len() >= 3, "{}", dump(&cs));
    let binary_starts = line_of(&src, "def k(x) when is_binary(x)");
    for p in &parts {
        let head = if p.start_line >= binary_starts {
            "def k(x) when is_binary(x)"
        } else {
            "def k(x) when is_integer(x)"
        };
        assert_eq!(p.signature, head, "{}", dump(&cs));
        assert!(
            p.header.contains(&format!("  {head} # part ")),
            "{}",
            p.header
        );
        assert!(p.header.contains("@spec k(integer | binary) :: :ok"));
    }
    assert!(
        parts.iter().any(|p| p.start_line >= binary_starts),
        "the second clause is split too: {}",
        dump(&cs)
    );
}

/// The 1-based line where `needle` first appears in `src`.
fn line_of(src: &str, needle: &str) -> u32 {
    let at = src
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in the source"));
    1 + src[..at].matches('\n').count() as u32
}

#[test]
fn g02_a_parenthesised_def_in_a_keyword_module_has_a_balanced_signature() {
    let cs = chunks(
        "lib/kw.ex",
        "defmodule Kw, do: def(f(x) when is_integer(x), do: x)\n",
    );
    let f = cs.iter().find(|c| c.name == "f").expect("f is a chunk");
    assert_eq!(f.signature, "def f(x) when is_integer(x)", "{}", dump(&cs));
    assert_eq!(f.defines[0].signature, "def f(x) when is_integer(x)");
}

const G09_GENERATED: &str = r##"defmodule Shop.Generated do
  case :code.ensure_loaded(Kernel) do
    {:module, _} ->
      defp bootstrapped?(_), do: true

    {:error, _} ->
      defp bootstrapped?(module), do: :code.ensure_loaded(module) == {:module, module}
  end

  Enum.reduce(0..4, 1, fn x, acc ->
    defp power_of_10(unquote(x)), do: unquote(acc)
    acc * 10
  end)

  quote do
    def injected, do: :not_here
  end

  def ready?, do: bootstrapped?(Shop) and power_of_10(2) == 100
end
"##;

#[test]
fn g09_definitions_inside_case_clauses_and_callbacks_are_kept_and_marked() {
    let cs = chunks("lib/shop/generated.ex", G09_GENERATED);
    let defined: Vec<String> = cs.iter().flat_map(defined).collect();
    for symbol in [
        "Shop.Generated.bootstrapped?/1",
        "Shop.Generated.power_of_10/1",
        "Shop.Generated.ready?/0",
    ] {
        assert!(
            defined.contains(&symbol.to_string()),
            "{symbol}: {}",
            dump(&cs)
        );
    }
    assert!(
        !defined.iter().any(|d| d.contains("injected")),
        "a def inside quote is not this module's: {}",
        dump(&cs)
    );
    for c in cs.iter().filter(|c| {
        c.defines
            .iter()
            .any(|d| d.name == "bootstrapped?" || d.name == "power_of_10")
    }) {
        assert!(has_tag(c, "conditional"), "{}", dump(&cs));
    }
    let ready = cs
        .iter()
        .flat_map(|c| &c.defines)
        .find(|d| d.name == "ready?")
        .unwrap();
    assert_eq!(
        sorted(&ready.calls),
        strings(&[
            "Shop.Generated.bootstrapped?/1",
            "Shop.Generated.power_of_10/1"
        ]),
        "local calls resolve to the generated definitions"
    );
}

#[test]
fn g15_a_broken_test_marks_its_own_chunk_not_its_describe() {
    let cs = chunks(
        "test/a_test.exs",
        r##"defmodule ATest do
  use ExUnit.Case

  describe "group" do
    test "good one" do
      assert 1 == 1
    end

    test "broken one" do
      assert foo(1 == 1
    end

    test "good two" do
      assert 2 == 2
    end
  end

  test "outside" do
    assert true
  end
end
"##,
    );
    let flagged: Vec<String> = cs.iter().filter(|c| c.has_error).map(qualified).collect();
    assert_eq!(flagged, ["ATest.group broken one"], "{}", dump(&cs));
}

/// A comment after a definition's `end` stays on its line, with the definition.
#[test]
fn a_trailing_comment_stays_with_the_line_it_ends() {
    let src = concat!(
        "defmodule T do\n",
        "  def a(x) do\n",
        "    x + 1\n",
        "  end # end of a\n",
        "\n",
        "  def b(y) do\n",
        "    y * 2\n",
        "  end\n",
        "end\n",
    );
    let config = ChunkerConfig {
        merge_below: 0,
        ..ChunkerConfig::default()
    };
    let cs = match chunk_file("shop", "lib/t.ex", src.as_bytes(), &config) {
        FileChunks::Chunked(cs) => cs,
        FileChunks::Skipped(r) => panic!("skipped: {r}"),
    };
    assert_tiles(&cs, src.as_bytes());
    let a = cs.iter().find(|c| c.name == "a").expect("a is a chunk");
    assert!(a.content.ends_with("  end # end of a\n"), "{}", dump(&cs));
    let b = cs.iter().find(|c| c.name == "b").expect("b is a chunk");
    assert!(
        b.content.starts_with('\n') || b.content.starts_with("  def b"),
        "{}",
        dump(&cs)
    );
}

/// Functions the standard library's `EEx.function_from_string`/`function_from_file` and
/// NimbleParsec's `defparsec` define are definitions, with the `@doc` and `@spec` before
/// them; the `def` after them does not take their docs.
#[test]
fn g06_functions_generated_from_templates_and_parsers_are_definitions() {
    let src = concat!(
        "defmodule MyApp.Templates do\n",
        "  require EEx\n",
        "\n",
        "  @doc \"Renders the page layout.\"\n",
        "  EEx.function_from_string(:def, :layout, \"<main><%= @inner %></main>\", [:assigns])\n",
        "\n",
        "  @doc \"Renders the footer.\"\n",
        "  EEx.function_from_file(:defp, :footer, \"footer.eex\", [:assigns, :opts])\n",
        "\n",
        "  EEx.function_from_file(:def, :plain, \"plain.eex\")\n",
        "\n",
        "  @spec do_tokenize(binary) :: term\n",
        "  defparsec :do_tokenize, foo\n",
        "\n",
        "  EEx.function_from_file(:def, :computed, \"x.eex\", args)\n",
        "\n",
        "  def media_type(_ext), do: nil\n",
        "end\n",
    );
    let config = ChunkerConfig {
        merge_below: 0,
        ..ChunkerConfig::default()
    };
    let cs = chunks_with("lib/my_app/templates.ex", src.as_bytes(), &config);
    let find = |symbol: &str| {
        cs.iter()
            .flat_map(|c| c.defines.iter().map(move |d| (c, d)))
            .find(|(_, d)| format!("{}.{}", d.module, d.name) == symbol)
            .unwrap_or_else(|| panic!("no {symbol} in {}", dump(&cs)))
    };
    let (layout, d) = find("MyApp.Templates.layout");
    assert_eq!(
        (d.arities.as_slice(), d.signature.as_str()),
        (&[1][..], "def layout(assigns)")
    );
    assert_eq!(layout.doc.as_deref(), Some("Renders the page layout."));
    assert_eq!((layout.start_line, layout.end_line), (3, 5));
    let (footer, d) = find("MyApp.Templates.footer");
    assert_eq!(d.arities, [2]);
    assert_eq!(d.signature, "defp footer(assigns, opts)");
    assert_eq!(footer.visibility, aiex_node::chunk::Visibility::Private);
    assert_eq!(footer.doc.as_deref(), Some("Renders the footer."));
    assert_eq!(find("MyApp.Templates.plain").1.signature, "def plain");
    let (parser, d) = find("MyApp.Templates.do_tokenize");
    assert_eq!(d.arities, [1, 2]);
    assert_eq!(parser.specs, ["@spec do_tokenize(binary) :: term"]);
    // Parameters computed at compile time: no arity to name, so no definition.
    assert!(
        cs.iter()
            .flat_map(|c| &c.defines)
            .all(|d| d.name != "computed")
    );
    let (media, _) = find("MyApp.Templates.media_type");
    assert_eq!(media.doc, None, "{}", dump(&cs));
}

/// A module header over the budget splits between its statements, and a DSL block in it
/// (`query do … end`) between the block's own statements: never inside a `field` that
/// fits a part by itself.
#[test]
fn g15_a_dsl_block_in_a_long_header_splits_between_its_statements() {
    let src = concat!(
        "defmodule MySchema do\n",
        "  use Absinthe.Schema\n",
        "\n",
        "  query do\n",
        "    field :alpha, :string do\n",
        "      resolve fn _, _ -> {:ok, \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"} end\n",
        "    end\n",
        "\n",
        "    field :beta, :string do\n",
        "      resolve fn _, _ -> {:ok, \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"} end\n",
        "    end\n",
        "\n",
        "    field :gamma,\n",
        "      type: :string,\n",
        "      resolve: fn\n",
        "        %{name: name}, _ ->\n",
        "          {:ok, name}\n",
        "\n",
        "        %{flag: val}, _ ->\n",
        "          {:ok, val}\n",
        "\n",
        "        _, _ ->\n",
        "          {:error, \"No value provided\"}\n",
        "      end\n",
        "  end\n",
        "end\n",
    );
    let config = ChunkerConfig {
        budget: 200,
        ..ChunkerConfig::default()
    };
    let cs = chunks_with("lib/my_schema.ex", src.as_bytes(), &config);
    let parts: Vec<(u32, u32)> = cs.iter().map(|c| (c.start_line, c.end_line)).collect();
    assert_eq!(parts, [(1, 3), (4, 12), (13, 26)], "{}", dump(&cs));
    for c in &cs {
        assert_eq!(c.kind, ModuleHeader);
        assert_eq!(c.signature, "defmodule MySchema do", "{}", dump(&cs));
    }
}

/// `for verb <- @methods do defmacro unquote(verb)(…)` (Phoenix's router, Logger's
/// levels) defines one macro per atom of the list, literal or in an attribute set before.
#[test]
fn g06_a_for_over_known_atoms_defines_one_function_per_atom() {
    let src = concat!(
        "defmodule Router do\n",
        "  @methods [:get, :post]\n",
        "\n",
        "  for verb <- @methods do\n",
        "    @doc \"Routes a #{verb} request.\"\n",
        "    defmacro unquote(verb)(path, plug, opts \\\\ []) do\n",
        "      add_route(unquote(verb), path, plug, opts)\n",
        "    end\n",
        "  end\n",
        "\n",
        "  for level <- [:info, :debug] do\n",
        "    def unquote(level)(msg), do: log(unquote(level), msg)\n",
        "  end\n",
        "\n",
        "  for name <- names() do\n",
        "    def unquote(name)(), do: :ok\n",
        "  end\n",
        "\n",
        "  @address_functions ~w(from to)a\n",
        "  for field <- @address_functions do\n",
        "    def unquote(field)(email, attr), do: Map.put(email, unquote(field), attr)\n",
        "  end\n",
        "\n",
        "  for word <- ~W[three four]a ++ [:five] do\n",
        "    def unquote(word)(), do: :ok\n",
        "  end\n",
        "  for word <- ~w(one #{two})a do\n",
        "    def unquote(word)(), do: :ok\n",
        "  end\n",
        "end\n",
    );
    let config = ChunkerConfig {
        merge_below: 0,
        ..ChunkerConfig::default()
    };
    let cs = chunks_with("lib/router.ex", src.as_bytes(), &config);
    let all: Vec<String> = cs.iter().flat_map(defined).collect();
    for symbol in [
        "Router.get/2",
        "Router.get/3",
        "Router.post/3",
        "Router.info/1",
        "Router.debug/1",
        // Words as atoms (`~w(...)a`, Bamboo's setters), in an attribute or written out.
        "Router.from/2",
        "Router.to/2",
        "Router.three/0",
        "Router.four/0",
        "Router.five/0",
    ] {
        assert!(all.contains(&symbol.to_string()), "{symbol}: {}", dump(&cs));
    }
    // Interpolated words are not known.
    assert!(
        !all.iter().any(|s| s.starts_with("Router.one/")),
        "{}",
        dump(&cs)
    );
    let get = cs
        .iter()
        .find(|c| c.defines.iter().any(|d| d.name == "get"))
        .unwrap();
    assert_eq!(get.kind, Macro);
    assert_eq!(get.doc.as_deref(), Some("Routes a #{verb} request."));
    // Each definition's head names its own atom.
    let heads: Vec<(&str, &str)> = get
        .defines
        .iter()
        .map(|d| (d.name.as_str(), d.signature.as_str()))
        .collect();
    assert_eq!(
        heads,
        [
            ("get", "defmacro get(path, plug, opts \\\\ [])"),
            ("post", "defmacro post(path, plug, opts \\\\ [])"),
        ]
    );
    assert!(!has_tag(get, "dynamic"), "{}", dump(&cs));
    // Names from a function call are not known: the definition keeps its written name.
    let computed = cs.iter().find(|c| c.content.contains("names()")).unwrap();
    assert!(has_tag(computed, "dynamic"), "{}", dump(&cs));
}

// ------------------------------------------------------- found on real projects (credo, ash, nx, mint, tesla)

/// Tests named by an expression (`test @name`, `describe inspect(…)`), and tests under a
/// module-level `if`, are chunks of their own, and a module defined among them is a module
/// (tesla's and ash's test files).
#[test]
fn g15_tests_named_by_an_expression_or_under_an_if_are_their_own_chunks() {
    let src = concat!(
        "defmodule MyTest do\n",                              // 1
        "  use ExUnit.Case\n",                                // 2
        "  test \"a\" do\n",                                  // 3
        "    assert true\n",                                  // 4
        "  end\n",                                            // 5
        "  if Code.ensure_loaded?(JSON) do\n",                // 6
        "    describe \"json\" do\n",                         // 7
        "      defmodule Client do\n",                        // 8
        "        def get(x), do: x\n",                        // 9
        "      end\n",                                        // 10
        "      test \"b\", do: assert(Client.get(1) == 1)\n", // 11
        "    end\n",                                          // 12
        "  end\n",                                            // 13
        "  describe inspect(&Foo.bar/1) do\n",                // 14
        "    test @name do\n",                                // 15
        "      assert Foo.bar(1)\n",                          // 16
        "    end\n",                                          // 17
        "  end\n",                                            // 18
        "end\n",                                              // 19
    );
    let cs = chunks("test/my_test.exs", src);
    let find = |name: &str| {
        cs.iter()
            .find(|c| qualified(c) == name)
            .unwrap_or_else(|| panic!("no chunk {name}:\n{}", dump(&cs)))
    };
    assert_eq!(find("MyTest.json").kind, Describe);
    assert_eq!(find("MyTest.json b").kind, Test);
    assert_eq!(find("MyTest.Client.get").kind, Function);
    assert_eq!(find("MyTest.Client.get").arities, [1]);
    let described = find("MyTest.inspect(&Foo.bar/1)");
    assert_eq!(described.kind, Describe);
    let named = find("MyTest.inspect(&Foo.bar/1) @name");
    assert_eq!((named.kind, named.start_line), (Test, 15), "{}", dump(&cs));
    assert_eq!(named.calls, strings(&["Foo.bar/1"]), "{}", dump(&cs));
    // The header is the module's own lines (its `use`), not a test's calls.
    assert_eq!(
        find("MyTest").calls,
        ["ExUnit.Case.__using__/1"],
        "{}",
        dump(&cs)
    );
    // `test(x)` without a block is a call, not a test.
    let plain = chunks(
        "lib/t.ex",
        "defmodule T do\n  def run(x), do: test(x)\n  def test(x), do: x\nend\n",
    );
    assert!(plain.iter().all(|c| c.kind != Test), "{}", dump(&plain));
}

/// Calls that are not calls: a variable in a range with a negative end (which
/// tree-sitter-elixir reads as a call), bitstring modifiers, `Mod.unquote(name)()`, and
/// special forms in a module that defines a macro of the same name.
#[test]
fn g05_ranges_bitstring_modifiers_unquote_and_special_forms_are_not_calls() {
    let src = concat!(
        "defmodule R do\n",
        "  def start(x), do: x\n",
        "  def size(x), do: x\n",
        "  defmacro case(a, b), do: {a, b}\n",
        "  def tail(list, start), do: Enum.slice(list, start..-1//1)\n",
        "  def drop(list, n), do: Enum.slice(list, n .. -1)\n",
        "  def load(<<_::binary-size(4), major::size(8)-unit(1), rest::binary>>), do: {major, rest}\n",
        "  def sized(<<body::binary-size(byte_size(\"ab\"))>>), do: body\n",
        "  def frame(f), do: Frame.unquote(f)()\n",
        "  def pick(x) do\n    case x do\n      _ -> start(x)\n    end\n  end\n",
        "end\n",
    );
    let cs = chunks("lib/r.ex", src);
    let calls_of = |name: &str| all_calls_of(&cs, name);
    assert_eq!(
        calls_of("tail"),
        strings(&["Enum.slice/2"]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        calls_of("drop"),
        strings(&["Enum.slice/2"]),
        "{}",
        dump(&cs)
    );
    assert_eq!(calls_of("load"), Vec::<String>::new(), "{}", dump(&cs));
    // What is inside a modifier still calls.
    assert_eq!(
        calls_of("sized"),
        strings(&["byte_size/1"]),
        "{}",
        dump(&cs)
    );
    assert_eq!(calls_of("frame"), Vec::<String>::new(), "{}", dump(&cs));
    assert_eq!(calls_of("pick"), strings(&["R.start/1"]), "{}", dump(&cs));
    // A real call of a local `start/1` with a range argument still counts.
    let real = chunks(
        "lib/q.ex",
        "defmodule Q do\n  def start(r), do: r\n  def go, do: start(1..-1//1)\nend\n",
    );
    let go = real
        .iter()
        .find(|c| c.defines.iter().any(|d| d.name == "go"))
        .unwrap();
    assert_eq!(go.calls, strings(&["Q.start/1"]), "{}", dump(&real));
}

/// A nested module's chunks carry the aliases its parent made, which its code may write
/// (changelog.com's test router names `Redirector`, its parent's alias).
#[test]
fn g13_a_nested_module_carries_its_parents_aliases() {
    let src = concat!(
        "defmodule Outer do\n",
        "  alias Shop.Cache, as: C\n",
        "  defmodule Inner do\n",
        "    alias Shop.Repo\n",
        "    def f, do: C.get(Repo)\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("lib/outer.ex", src);
    let inner = (cs.iter())
        .find(|c| c.module == "Outer.Inner" && c.kind == ChunkKind::Function)
        .expect("Inner.f");
    assert_eq!(
        inner.aliases,
        strings(&["Shop.Cache as C", "Shop.Repo"]),
        "{}",
        dump(&cs)
    );
    assert_eq!(inner.calls, strings(&["Shop.Cache.get/1"]), "{}", dump(&cs));
}

/// A protocol defined inside a module is an alias there, as a nested module is: its
/// implementation and calls through the short name resolve to the full name.
#[test]
fn g13_a_nested_protocol_is_aliased_in_its_module() {
    let src = concat!(
        "defmodule Dl do\n",
        "  defprotocol Proto do\n",
        "    def p(t)\n",
        "  end\n",
        "  defimpl Proto, for: Map do\n",
        "    def p(t), do: Map.keys(t)\n",
        "  end\n",
        "  def use_it(x), do: Proto.p(x)\n",
        "end\n",
    );
    let cs = chunks("lib/dl.ex", src);
    let all: Vec<String> = cs.iter().flat_map(defined).collect();
    assert!(all.contains(&"Dl.Proto.p/1".to_string()), "{all:?}");
    assert!(all.contains(&"Dl.Proto.Map.p/1".to_string()), "{all:?}");
    let use_it = cs
        .iter()
        .find(|c| c.defines.iter().any(|d| d.name == "use_it"))
        .unwrap();
    assert_eq!(use_it.calls, strings(&["Dl.Proto.p/1"]), "{}", dump(&cs));
}

/// The options of a `use` are evaluated where it is used and may call; the module used
/// is not a call (found in Livebook: `verified_routes/0` quoting `use
/// Phoenix.VerifiedRoutes, statics: LivebookWeb.static_paths()` called nothing).
#[test]
fn g10_calls_in_the_options_of_a_use_count() {
    let src = concat!(
        "defmodule MyAppWeb do\n",
        "  use Phoenix.Component, prefixes: Config.prefixes()\n",
        "\n",
        "  def static_paths, do: ~w(assets images)\n",
        "\n",
        "  def verified_routes do\n",
        "    quote do\n",
        "      use Phoenix.VerifiedRoutes, statics: MyAppWeb.static_paths(), endpoint: MyAppWeb.Endpoint\n",
        "    end\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/my_app_web.ex", src);
    let calls_of = |name: &str| {
        (cs.iter())
            .find(|c| c.name == name)
            .map(|c| c.calls.clone())
            .unwrap_or_else(|| panic!("no {name}:\n{}", dump(&cs)))
    };
    // The quote's `use` calls the `__using__` it expands, and its options' calls.
    assert_eq!(
        calls_of("verified_routes"),
        strings(&[
            "Phoenix.VerifiedRoutes.__using__/1",
            "MyAppWeb.static_paths/0"
        ])
    );
    assert_eq!(
        calls_of("MyAppWeb"),
        strings(&["Phoenix.Component.__using__/1", "Config.prefixes/0"]),
        "{}",
        dump(&cs)
    );
}

/// An implementation at the top of a file is named through the aliases made above it,
/// and the aliases made inside a file-level `if` count for the modules in it, but not
/// after it (found in Explorer's `tensor_frame.ex`: `Nx.LazyContainer.S`).
#[test]
fn g13_file_level_aliases_name_implementations_and_count_inside_an_if() {
    let src = concat!(
        "alias MyApp.Series, as: S\n",
        "defimpl Enumerable, for: S do\n",
        "  def count(s), do: {:ok, S.size(s)}\n",
        "end\n",
        "if Code.ensure_loaded?(Nx) do\n",
        "  alias MyApp.Frame\n",
        "  defimpl Nx.LazyContainer, for: Frame do\n",
        "    def traverse(f, acc, fun), do: fun.(Frame.to_tensor(f), acc)\n",
        "  end\n",
        "end\n",
        "defmodule MyApp.Later do\n",
        "  def f(x), do: Frame.g(x)\n",
        "end\n",
    );
    let cs = chunks("lib/impls.ex", src);
    let all: Vec<String> = cs.iter().flat_map(defined).collect();
    for def in [
        "Enumerable.MyApp.Series.count/1",
        "Nx.LazyContainer.MyApp.Frame.traverse/3",
        "MyApp.Later.f/1",
    ] {
        assert!(all.contains(&def.to_string()), "{def} not in {all:?}");
    }
    let calls_of = |name: &str| {
        (cs.iter())
            .find(|c| c.defines.iter().any(|d| d.name == name))
            .map(|c| c.calls.clone())
            .unwrap()
    };
    assert_eq!(calls_of("count"), strings(&["MyApp.Series.size/1"]));
    assert_eq!(calls_of("traverse"), strings(&["MyApp.Frame.to_tensor/1"]));
    // The alias made inside the `if` ends with it.
    assert_eq!(calls_of("f"), strings(&["Frame.g/1"]), "{}", dump(&cs));
}

/// Nx's `defn`/`defnp` and `deftransform`/`deftransformp` define functions, public and
/// private, with their docs and specs, as `def` and `defp` do.
#[test]
fn g06_nx_numerical_definitions_are_functions() {
    let src = concat!(
        "defmodule Nx.Svd do\n",
        "  import Nx.Defn\n",
        "  @doc \"Singular value decomposition.\"\n",
        "  defn svd(tensor, opts \\\\ []) do\n",
        "    tensor |> Nx.multiply(2) |> helper(opts)\n",
        "  end\n",
        "  defnp helper(t, _opts), do: Nx.add(t, 1)\n",
        "  deftransform pick(opts), do: Keyword.get(opts, :k, 1)\n",
        "  deftransformp private_pick(opts), do: Keyword.fetch!(opts, :k)\n",
        "end\n",
    );
    let cs = chunks("lib/nx/svd.ex", src);
    let find = |name: &str| {
        cs.iter()
            .find(|c| c.defines.iter().any(|d| d.name == name))
            .unwrap_or_else(|| panic!("no chunk defining {name}:\n{}", dump(&cs)))
    };
    let svd = find("svd");
    assert_eq!((svd.kind, svd.arities.clone()), (Function, vec![1, 2]));
    assert_eq!(svd.doc.as_deref(), Some("Singular value decomposition."));
    assert_eq!(svd.visibility, Visibility::Public);
    assert!(
        svd.calls.contains(&"Nx.Svd.helper/2".to_string()),
        "{}",
        dump(&cs)
    );
    let visibility = |name: &str| {
        let d = cs
            .iter()
            .flat_map(|c| c.defines.iter())
            .find(|d| d.name == name);
        d.unwrap_or_else(|| panic!("no {name}:\n{}", dump(&cs)))
            .visibility
    };
    assert_eq!(visibility("helper"), Visibility::Private);
    assert_eq!(visibility("pick"), Visibility::Public);
    assert_eq!(visibility("private_pick"), Visibility::Private);
}

/// An implementation for several types is one chunk; each type's definition calls its
/// own module's functions.
#[test]
fn g13_an_implementation_for_several_types_calls_its_own_functions() {
    let src = concat!(
        "defimpl P, for: [Map, List] do\n",
        "  def p(t), do: helper(t)\n",
        "  def helper(t), do: Enum.count(t)\n",
        "end\n",
    );
    let cs = chunks("lib/p.ex", src);
    let calls_of = |module: &str| -> Vec<String> {
        let d = cs
            .iter()
            .flat_map(|c| c.defines.iter())
            .find(|d| d.module == module && d.name == "p")
            .unwrap_or_else(|| panic!("no {module}.p:\n{}", dump(&cs)));
        sorted(&d.calls)
    };
    assert_eq!(
        calls_of("P.Map"),
        strings(&["P.Map.helper/1"]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        calls_of("P.List"),
        strings(&["P.List.helper/1"]),
        "{}",
        dump(&cs)
    );
    // The implementation's header is shown by its head, each type's by its module.
    let headers: Vec<(&str, &str)> = (cs.iter())
        .flat_map(|c| c.defines.iter())
        .filter(|d| d.kind == ChunkKind::ModuleHeader)
        .map(|d| (d.module.as_str(), d.signature.as_str()))
        .collect();
    assert_eq!(
        headers,
        [
            ("P.Map", "defimpl P, for: [Map, List]"),
            ("P.List", "defmodule P.List")
        ],
        "{}",
        dump(&cs)
    );
    // A head over several lines is not cut: the module's name stands for it.
    let src = "defimpl Inspect,\n  for: Shop.Item do\n  def inspect(_, _), do: \"item\"\nend\n";
    let cs = chunks("lib/i.ex", src);
    let header = (cs.iter().flat_map(|c| c.defines.iter()))
        .find(|d| d.kind == ChunkKind::ModuleHeader)
        .expect("the implementation's header");
    assert_eq!(
        header.signature,
        "defmodule Inspect.Shop.Item",
        "{}",
        dump(&cs)
    );
}

/// A call's arity counts its arguments and a `do` block, never the comments between the
/// arguments, in short and long (over 1 KB) argument lists alike; a call without
/// parentheses whose first argument is parenthesised is a call.
#[test]
fn g10_arity_leaves_out_comments_between_arguments() {
    let long: String = (0..120).map(|i| format!("      :atom_{i},\n")).collect();
    let src = format!(
        concat!(
            "defmodule Ar do\n",
            "  def short(x) do\n",
            "    Map.put(\n      x, # the map\n      :k,\n      # the value\n      1\n    )\n",
            "  end\n",
            "  def long(x) do\n",
            "    Enum.member?(\n      # every atom\n      [\n{}      ],\n      x\n    )\n",
            "  end\n",
            "  def hash(x), do: Kernel.elem(x, \"#{{x}}\" |> byte_size())\n",
            "  def block(x) do\n    Task.async_stream(x, 3) do\n      x\n    end\n  end\n",
            "  def bare(x) do\n    IO.puts (x + 1), 2\n  end\n",
            "end\n",
        ),
        long
    );
    let cs = chunks("lib/ar.ex", &src);
    let calls_of = |name: &str| all_calls_of(&cs, name);
    assert_eq!(calls_of("short"), strings(&["Map.put/3"]), "{}", dump(&cs));
    assert_eq!(
        calls_of("long"),
        strings(&["Enum.member?/2"]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        calls_of("hash"),
        strings(&["Kernel.elem/2", "byte_size/1"]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        calls_of("block"),
        strings(&["Task.async_stream/3"]),
        "{}",
        dump(&cs)
    );
    assert_eq!(calls_of("bare"), strings(&["IO.puts/2"]), "{}", dump(&cs));
}

/// Every call the definition named `name` makes, qualified and not, sorted.
fn all_calls_of(cs: &[Chunk], name: &str) -> Vec<String> {
    let d = cs
        .iter()
        .flat_map(|c| c.defines.iter())
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no definition of {name}:\n{}", dump(cs)));
    let mut all = d.calls.clone();
    all.extend(d.unqualified_calls.iter().cloned());
    all.sort();
    all
}

#[test]
fn g03_a_module_named_by_a_variable_or_a_call_is_dynamic_and_no_alias() {
    let src = concat!(
        "defmodule Parent do\n",
        "  for mod <- Application.fetch_env!(:app, :mods) do\n",
        "    defmodule mod do\n",
        "      def oops(x), do: x\n",
        "    end\n",
        "  end\n",
        "\n",
        "  defmodule Module.concat(__MODULE__, Gen) do\n",
        "    def gen, do: :ok\n",
        "  end\n",
        "\n",
        "  def after_them(x), do: Module.concat(x, :y)\n",
        "end\n",
    );
    let cs = chunks("lib/parent.ex", src);
    let modules: Vec<&str> = cs.iter().map(|c| c.module.as_str()).collect();
    assert!(
        !modules.iter().any(|m| m.starts_with("Parent.")),
        "{}",
        dump(&cs)
    );
    let oops = cs.iter().find(|c| c.name == "oops").expect("oops/1");
    assert_eq!(oops.module, "mod", "{}", dump(&cs));
    let header = |name: &str| {
        cs.iter()
            .find(|c| c.kind == ModuleHeader && c.module == name)
            .unwrap_or_else(|| panic!("no header of {name}:\n{}", dump(&cs)))
    };
    assert!(has_tag(header("mod"), "dynamic"), "{}", dump(&cs));
    assert!(
        has_tag(header("Module.concat(__MODULE__, Gen)"), "dynamic"),
        "{}",
        dump(&cs)
    );
    // `Module` is no alias of `Parent.Module`, nor `mod` one of anything.
    assert_eq!(
        all_calls_of(&cs, "after_them"),
        strings(&["Module.concat/2"]),
        "{}",
        dump(&cs)
    );
}

#[test]
fn g08_tests_in_a_piped_each_are_chunks_of_their_own() {
    let src = concat!(
        "defmodule PipedTest do\n",
        "  use ExUnit.Case\n",
        "\n",
        "  describe \"d\" do\n",
        "    params()\n",
        "    |> Enum.each(fn n ->\n",
        "      test \"gen #{n}\" do\n",
        "        assert n\n",
        "      end\n",
        "    end)\n",
        "\n",
        "    test \"plain\" do\n",
        "      assert true\n",
        "    end\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("test/piped_test.exs", src);
    let tests: Vec<(String, (u32, u32))> = cs
        .iter()
        .filter(|c| c.kind == ChunkKind::Test)
        .map(|c| (c.name.clone(), (c.start_line, c.end_line)))
        .collect();
    assert_eq!(
        tests,
        vec![
            ("d gen #{n}".to_string(), (5, 10)),
            // The last test runs to the end of its describe and module, as always.
            ("d plain".to_string(), (11, 16)),
        ],
        "{}",
        dump(&cs)
    );
}

#[test]
fn g05_the_last_doc_before_a_clause_wins() {
    let src = concat!(
        "defmodule T do\n",
        "  @doc false\n",
        "  def f(a, b) when is_list(b), do: {a, b}\n",
        "\n",
        "  @doc \"Public docs for f/2.\"\n",
        "  def f(a, b), do: {a, b}\n",
        "\n",
        "  @doc \"Shown first.\"\n",
        "  def g(a), do: a\n",
        "  @doc false\n",
        "  def g(_), do: nil\n",
        "end\n",
    );
    let cs = chunks("lib/t.ex", src);
    let f = cs.iter().find(|c| c.name == "f").expect("f/2");
    assert_eq!(f.visibility, Visibility::Public, "{}", dump(&cs));
    assert_eq!(f.doc.as_deref(), Some("Public docs for f/2."));
    let g = cs.iter().find(|c| c.name == "g").expect("g/1");
    assert_eq!(g.visibility, Visibility::Hidden, "{}", dump(&cs));
}

#[test]
fn g08_test_names_read_escaped_quotes_as_elixir_does() {
    let src = concat!(
        "defmodule EscTest do\n",
        "  use ExUnit.Case\n",
        "\n",
        "  test \"uses params[\\\"_format\\\"] when available, a \\\\ and a \\n\" do\n",
        "    assert true\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("test/esc_test.exs", src);
    let t = cs
        .iter()
        .find(|c| c.kind == ChunkKind::Test)
        .expect("a test");
    assert_eq!(
        t.name,
        "uses params[\"_format\"] when available, a \\ and a \\n",
        "{}",
        dump(&cs)
    );
}

#[test]
fn g02_small_conditional_definitions_merge_only_with_conditional_ones() {
    let src = concat!(
        "defmodule M do\n",
        "  defp a(_), do: :error\n",
        "\n",
        "  if Code.ensure_loaded?(Duration) do\n",
        "    defp b(%Duration{} = t), do: {:ok, t}\n",
        "    defp c(%Duration{} = t), do: t\n",
        "  end\n",
        "\n",
        "  defp d(_), do: :error\n",
        "  defp e(_), do: :error\n",
        "end\n",
    );
    let cs = chunks("lib/m.ex", src);
    let names = |c: &Chunk| -> Vec<String> { c.defines.iter().map(|d| d.name.clone()).collect() };
    for c in cs.iter().filter(|c| c.kind == ChunkKind::Function) {
        let conditional = names(c).iter().any(|n| n == "b" || n == "c");
        assert_eq!(has_tag(c, "conditional"), conditional, "{}", dump(&cs));
        if conditional {
            assert!(
                names(c).iter().all(|n| n == "b" || n == "c"),
                "{}",
                dump(&cs)
            );
        }
    }
    assert!(
        cs.iter()
            .any(|c| names(c) == ["b", "c"] && has_tag(c, "merged")),
        "{}",
        dump(&cs)
    );
    // Clauses of one function made in a `for`, then a catch-all: still one chunk.
    let src = concat!(
        "defmodule F do\n",
        "  defp a(_), do: :error\n",
        "\n",
        "  for n <- 1..3 do\n",
        "    defp tab(unquote(n)), do: unquote(n)\n",
        "  end\n",
        "\n",
        "  defp tab(_), do: 0\n",
        "end\n",
    );
    let cs = chunks("lib/f.ex", src);
    let tabs: Vec<&Chunk> = cs.iter().filter(|c| c.name == "tab").collect();
    assert_eq!(tabs.len(), 1, "{}", dump(&cs));
    assert!(has_tag(tabs[0], "conditional"), "{}", dump(&cs));
    assert_eq!(names(tabs[0]), ["tab", "tab"], "{}", dump(&cs));
}

/// A module with more aliases than a chunk carries whole (64): each chunk carries those
/// its code names, so a generated module's chunks do not repeat thousands of them.
/// Calls still expand through every alias.
#[test]
fn g01_a_module_with_hundreds_of_aliases_gives_each_chunk_those_it_names() {
    let mut src = String::from("defmodule Big do\n");
    for i in 0..300 {
        src.push_str(&format!("  alias Deep.Mod{i}\n"));
    }
    src.push_str("  alias Other.Thing, as: T\n\n");
    src.push_str("  def first, do: Mod7.run(T.go())\n\n");
    src.push_str("  def second(x), do: %Mod250{x: Mod9.wrap(x)}\nend\n");
    let cs = chunks("lib/big.ex", &src);
    let of = |name: &str| {
        cs.iter()
            .find(|c| c.defines.iter().any(|d| d.name == name))
            .unwrap_or_else(|| panic!("no chunk defines {name}: {}", dump(&cs)))
    };
    let first = of("first");
    let second = of("second");
    if std::ptr::eq(first, second) {
        // Merged: one chunk naming all four.
        assert_eq!(
            first.aliases,
            strings(&["Deep.Mod7", "Other.Thing as T", "Deep.Mod9", "Deep.Mod250"])
        );
    } else {
        assert_eq!(first.aliases, strings(&["Deep.Mod7", "Other.Thing as T"]));
        assert_eq!(second.aliases, strings(&["Deep.Mod9", "Deep.Mod250"]));
    }
    let calls = |name: &str| {
        let chunk = of(name);
        let def = chunk.defines.iter().find(|d| d.name == name).unwrap();
        def.calls.clone()
    };
    assert_eq!(
        calls("first"),
        strings(&["Deep.Mod7.run/1", "Other.Thing.go/0"])
    );
    // The struct, through the 250th alias, as well.
    assert_eq!(
        calls("second"),
        strings(&["Deep.Mod250.__struct__/0", "Deep.Mod9.wrap/1"])
    );
    // The header's parts carry the aliases they make: all of them, once each.
    let header: Vec<&String> = cs
        .iter()
        .filter(|c| c.kind == ChunkKind::ModuleHeader)
        .flat_map(|c| &c.aliases)
        .collect();
    assert_eq!(header.len(), 301, "{}", dump(&cs));
}

/// A function with an unconditional clause first and one under `if` (or made in a
/// `for`) after it: its chunk holds conditional code and says so.
#[test]
fn g09_a_function_with_a_later_conditional_clause_is_marked_conditional() {
    let src = concat!(
        "defmodule W do\n",
        "  defp walk({:defmacro, _, _} = ast, ctx), do: {ast, ctx}\n",
        "\n",
        "  for op <- [:def, :defp] do\n",
        "    defp walk({unquote(op), _, _} = ast, ctx), do: {ast, ctx}\n",
        "  end\n",
        "\n",
        "  def other(x), do: x\n",
        "end\n",
    );
    let cs = chunks("lib/w.ex", src);
    let walk = cs
        .iter()
        .find(|c| c.defines.iter().any(|d| d.name == "walk"))
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert!(walk.content.contains("unquote(op)"), "{}", dump(&cs));
    assert!(has_tag(walk, "conditional"), "{}", dump(&cs));
    let other = cs.iter().find(|c| c.name == "other").unwrap();
    if !std::ptr::eq(other, walk) {
        assert!(!has_tag(other, "conditional"), "{}", dump(&cs));
    }
}

/// Tests and helpers inside another macro's `do` block (a shared case's
/// `define_tests do`, a DSL's `defresources do`) are chunks of their own, marked
/// conditional, instead of lines of the module header.
#[test]
fn g15_tests_inside_an_unknown_macros_block_are_chunks() {
    let src = concat!(
        "defmodule SharedCase do\n",
        "  import MyApp.SharedTestCase\n",
        "\n",
        "  define_tests do\n",
        "    describe \"append\" do\n",
        "      test \"appends\", %{store: store} do\n",
        "        assert :ok == store.append(build_event(1))\n",
        "      end\n",
        "    end\n",
        "\n",
        "    defp build_event(n), do: %{n: n}\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("test/support/shared_case.ex", src);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "SharedCase", &[], (1, 2)),
            row(Describe, "SharedCase.append", &[], (3, 5)),
            row(Test, "SharedCase.append appends", &[], (6, 9)),
            row(Function, "SharedCase.build_event", &[1], (10, 13)),
        ],
    );
    assert!(
        cs[1..].iter().all(|c| has_tag(c, "conditional")),
        "{}",
        dump(&cs)
    );
    // A macro's block of plain code (a DSL section, a route) is still code, not a
    // wrapper: nothing in it defines anything.
    let src =
        "defmodule R do\n  scope \"/\" do\n    get \"/\", PageController, :index\n  end\nend\n";
    let cs = chunks("lib/r.ex", src);
    assert_rows(&cs, vec![row(ModuleHeader, "R", &[], (1, 5))]);
}

/// Module-level code after a definition (a DSL's sections, a `defstruct`, a `Plug`
/// pipeline, a Spark `defbuilder`) is a header part of its own, read under its first
/// line, not lines of the function before or after it. Docs in it still go to the next
/// definition, as in Elixir; attributes and a Phoenix component's `attr`/`slot` lines
/// stay with the function after them; a short call (a `defoverridable`) too.
#[test]
fn g01_module_level_code_between_definitions_is_a_header_part() {
    let src = concat!(
        "defmodule Post do\n",
        "  use Ash.Resource, data_layer: Ash.DataLayer.Ets\n",
        "\n",
        "  def testing_identities, do: true\n",
        "\n",
        "  identities do\n",
        "    identity :unique_title, [:title]\n",
        "  end\n",
        "\n",
        "  attributes do\n",
        "    uuid_primary_key :id\n",
        "    attribute :title, :string\n",
        "  end\n",
        "\n",
        "  @doc \"Says hello.\"\n",
        "  defbuilder add_action(dsl_state, type, name, opts \\\\ []) do\n",
        "    Transformer.add_entity(dsl_state, [:actions], build(type, name, opts))\n",
        "  end\n",
        "\n",
        "  def hello, do: :hello\n",
        "end\n",
    );
    let cs = chunks("lib/post.ex", src);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Post", &[], (1, 2)),
            row(Function, "Post.testing_identities", &[0], (3, 4)),
            row(ModuleHeader, "Post", &[], (5, 18)),
            row(Function, "Post.hello", &[0], (19, 21)),
        ],
    );
    assert_eq!(cs[2].signature, "identities do");
    assert!(cs[2].defines.is_empty(), "the module is defined once");
    assert_eq!(cs[3].doc.as_deref(), Some("Says hello."));

    let src = concat!(
        "defmodule Web.Components do\n",
        "  use Phoenix.Component\n",
        "\n",
        "  def banner(assigns), do: ~H\"<p>{@title}</p>\"\n",
        "\n",
        "  attr :status, :map, required: true, doc: \"the app's status, as the runtime reports it\"\n",
        "  attr :show_label, :boolean, default: true, doc: \"whether to show the label\"\n",
        "  slot :inner_block\n",
        "  def app_status(assigns), do: ~H\"<span>{@status}</span>\"\n",
        "\n",
        "  @default_options [timeout: 5_000, retries: 3, backoff: :exponential, jitter: true]\n",
        "  def options, do: @default_options\n",
        "end\n",
    );
    let cs = chunks("lib/web/components.ex", src);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Web.Components", &[], (1, 2)),
            row(Function, "Web.Components.banner", &[1], (3, 4)),
            row(Function, "Web.Components.app_status", &[1], (5, 9)),
            row(Function, "Web.Components.options", &[0], (10, 13)),
        ],
    );
    // A module attribute holding data of half a chunk or more is a header part of its
    // own, not the first part of the function after it (Bytepack's `AuditLog.@params`).
    let entries: String = (0..40)
        .map(|i| format!("    \"accounts.action_number_{i}\" => ~w(user_id email),\n"))
        .collect();
    let src = format!(
        "defmodule Audit do\n  def first, do: 1\n\n  @params %{{\n{entries}  }}\n\n  @doc \"A system log.\"\n  def system(org \\\\ nil), do: %{{org: org, params: @params}}\nend\n"
    );
    let cs = chunks("lib/audit.ex", &src);
    let system = (cs.iter()).find(|c| c.name == "system").expect("system/1");
    assert_eq!(system.part, None, "{}", dump(&cs));
    assert!(
        system.content.trim_start().starts_with("@doc"),
        "{}",
        system.content
    );
    assert_eq!(system.doc.as_deref(), Some("A system log."));
    assert!(
        (cs.iter()).any(|c| c.kind == ModuleHeader && c.content.contains("@params %{")),
        "{}",
        dump(&cs)
    );
    assert_tiles(&cs, src.as_bytes());
    // The first component's declarations lead into it too, not into the header
    // (asciinema's `CoreComponents.label/1`).
    let src = concat!(
        "defmodule Web.Core do\n",
        "  use Phoenix.Component\n",
        "\n",
        "  attr :for, :string, default: nil\n",
        "  slot :inner_block, required: true\n",
        "\n",
        "  def label(assigns), do: ~H\"<label for={@for}>{render_slot(@inner_block)}</label>\"\n",
        "end\n",
    );
    let cs = chunks("lib/web/core.ex", src);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Web.Core", &[], (1, 2)),
            row(Function, "Web.Core.label", &[1], (3, 8)),
        ],
    );
    // A Surface component's `slot` among its `prop`s is header material, as they are.
    let src = concat!(
        "defmodule Web.Card do\n",
        "  use Surface.Component\n",
        "\n",
        "  slot default\n",
        "  prop title, :string, required: true, doc: \"The title shown at the top of the card\"\n",
        "  prop size, :atom, values: [:small, :medium, :large], default: :medium\n",
        "\n",
        "  def render(assigns), do: ~F\"<div>{@title}</div>\"\n",
        "end\n",
    );
    let cs = chunks("lib/web/card.ex", src);
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Web.Card", &[], (1, 6)),
            row(Function, "Web.Card.render", &[1], (7, 9)),
        ],
    );
}

/// A module (or a function body) importing more than `MAX_IMPORTS` modules: the list
/// every chunk carries stops there, and says so, instead of growing with the file (5,000
/// imports in one body made 516 MB of chunks from 0.15 MB).
/// `import Base.{A, B}` imports each module, at module level and in a quote (hexpm's
/// `HexpmWeb.controller/0` quotes `import HexpmWeb.{ControllerHelpers, AuthHelpers}`);
/// the base goes through the module's aliases.
#[test]
fn g01_an_import_of_several_modules_imports_each() {
    let src = concat!(
        "defmodule Shop.Web do\n",
        "  alias Shop.Support\n",
        "  import Support.{Helpers, Auth.Checks}\n",
        "  use Shop.{Schema, Audited}\n",
        "  def f(x), do: helper(x)\n",
        "  def controller do\n",
        "    quote do\n",
        "      import Shop.{Helpers, Auth}\n",
        "    end\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("lib/shop/web.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let imports = strings(&["Shop.Support.Helpers", "Shop.Support.Auth.Checks"]);
    assert_eq!(cs[0].imports, imports, "{}", dump(&cs));
    // `use Base.{A, B}` uses each: a call of each `__using__/1`.
    assert_eq!(cs[0].uses, strings(&["Shop.Schema", "Shop.Audited"]));
    assert_eq!(
        cs[0].calls,
        strings(&["Shop.Schema.__using__/1", "Shop.Audited.__using__/1"])
    );
    let f = (cs.iter()).find(|c| c.name == "f").expect("f");
    assert_eq!(
        (&f.imports, &f.unqualified_calls),
        (&imports, &strings(&["helper/1"]))
    );
    let controller = (cs.iter().flat_map(|c| &c.defines))
        .find(|d| d.name == "controller")
        .expect("controller/0");
    assert_eq!(
        controller.quoted_imports,
        strings(&["Shop.Helpers", "Shop.Auth"])
    );
}

/// `use Cadet, [:context, :display]` runs each function's quote, as `use Cadet, :context`
/// runs one (Cadet's `ContextManager` dispatcher: 13 modules lost the imports and the
/// alias its quotes make).
#[test]
fn g01_a_use_of_a_list_of_names_runs_each_ones_quote() {
    let src = concat!(
        "defmodule Cadet.Accounts do\n",
        "  use Cadet, [:context, :display]\n",
        "  def f(x), do: x\n",
        "end\n",
    );
    let cs = chunks("lib/cadet/accounts.ex", src);
    assert_tiles(&cs, src.as_bytes());
    assert_eq!(
        cs[0].uses,
        strings(&["Cadet.context/0", "Cadet.display/0", "Cadet"]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        cs[0].calls,
        strings(&["Cadet.__using__/1", "Cadet.context/0", "Cadet.display/0"])
    );
}

#[test]
fn g01_a_module_with_too_many_imports_keeps_the_first_and_says_so() {
    use aiex_node::chunk::MAX_IMPORTS;
    let n = MAX_IMPORTS + 50;
    let mut src = String::from("defmodule Many do\n");
    for i in 0..n {
        src.push_str(&format!("  import Mod{i}\n"));
    }
    src.push_str("\n  def f(x), do: helper(x)\n\n  def g(x) do\n");
    for i in 0..n {
        src.push_str(&format!("    import Body{i}\n"));
    }
    src.push_str("    other(x)\n  end\nend\n");
    let cs = chunks("lib/many.ex", &src);
    let header = &cs[0];
    assert!(has_tag(header, "too_many_imports"), "{}", dump(&cs));
    let first: Vec<String> = (0..MAX_IMPORTS).map(|i| format!("Mod{i}")).collect();
    let f = cs.iter().find(|c| c.name == "f").unwrap();
    assert_eq!(f.imports, first);
    assert!(!has_tag(f, "too_many_imports"), "{}", dump(&cs));
    let g: Vec<&Chunk> = cs.iter().filter(|c| c.name == "g").collect();
    assert!(
        g.iter().any(|c| has_tag(c, "too_many_imports")),
        "{}",
        dump(&cs)
    );
    // Its calls are still recorded, under the module's imports (already full).
    let def = g
        .iter()
        .flat_map(|c| &c.defines)
        .find(|d| d.name == "g")
        .unwrap();
    let under: Vec<&String> = def
        .scoped_calls
        .iter()
        .flat_map(|s| &s.calls)
        .chain(&def.unqualified_calls)
        .collect();
    assert_eq!(under, [&"other/1".to_string()], "{def:?}");
}

/// The other lists every chunk of a module carries stop too, and say so: its `use`s
/// (100), and the types of a `defimpl ..., for: [...]` (32; each function is defined once
/// per type: 3,000 types and 3,000 functions made 3 GB of chunks from 0.1 MB).
#[test]
fn g13_a_module_with_too_many_uses_or_implementation_types_keeps_the_first_and_says_so() {
    let mut src = String::from("defmodule Many do\n");
    for i in 0..150 {
        src.push_str(&format!("  use Mod{i}\n"));
    }
    src.push_str("\n  def f(x), do: x\nend\n");
    let cs = chunks("lib/many.ex", &src);
    assert!(has_tag(&cs[0], "too_many_uses"), "{}", dump(&cs));
    let uses: Vec<String> = (0..100).map(|i| format!("Mod{i}")).collect();
    assert_eq!(cs.iter().find(|c| c.name == "f").unwrap().uses, uses);

    let types: Vec<String> = (0..50).map(|i| format!("T{i}")).collect();
    let src = format!(
        "defimpl Proto, for: [{}] do\n  def f(x), do: x\nend\n",
        types.join(", ")
    );
    let cs = chunks("lib/proto.ex", &src);
    assert!(has_tag(&cs[0], "too_many_types"), "{}", dump(&cs));
    let modules: Vec<&str> = (cs[0].defines.iter())
        .filter(|d| d.kind == ModuleHeader)
        .map(|d| d.module.as_str())
        .collect();
    let expected: Vec<String> = (0..32).map(|i| format!("Proto.T{i}")).collect();
    assert_eq!(modules, expected);
    let implied: Vec<&str> = (cs[0].defines.iter())
        .filter(|d| d.implied && d.name == "__impl__")
        .map(|d| d.module.as_str())
        .collect();
    assert_eq!(implied, expected);
    let f: Vec<&str> = (cs.iter().flat_map(|c| &c.defines))
        .filter(|d| d.name == "f")
        .map(|d| d.module.as_str())
        .collect();
    assert_eq!(f, expected);
}

/// Types and callbacks declared under `if` (both branches) are the module's, as
/// functions there are.
#[test]
fn g10_types_and_callbacks_under_if_are_defined() {
    let src = concat!(
        "defmodule Req.Test do\n",
        "  @typep name() :: term()\n",
        "\n",
        "  if Code.ensure_loaded?(Plug.Conn) do\n",
        "    @typep plug() :: module() | {module(), term()}\n",
        "    @type conn() :: Plug.Conn.t()\n",
        "    @callback handle(conn()) :: conn()\n",
        "  else\n",
        "    @typep plug() :: module()\n",
        "  end\n",
        "\n",
        "  def f(x), do: x\n",
        "end\n",
    );
    let cs = chunks("lib/req/test.ex", src);
    let all: Vec<String> = cs.iter().flat_map(defined).collect();
    for symbol in [
        "Req.Test.name/0",
        "Req.Test.plug/0",
        "Req.Test.conn/0",
        "Req.Test.handle/1",
        "Req.Test.f/1",
    ] {
        assert!(all.contains(&symbol.to_string()), "{symbol} in {all:?}");
    }
    assert_eq!(
        all.iter().filter(|s| *s == "Req.Test.plug/0").count(),
        2,
        "one in each branch: {all:?}"
    );
}

/// The last `@doc` before a definition wins: `@doc false` after a text hides the function
/// and drops the text. A `@typedoc false` or `@doc false` hides only the type or callback
/// right after it, not the others of its chunk.
#[test]
fn g05_the_last_doc_wins_and_hides_only_its_own_definition() {
    let src = concat!(
        "defmodule Gen.Event do\n",
        "  @doc \"\"\"\n",
        "  ## Fields\n",
        "  * seq: sequence number\n",
        "  \"\"\"\n",
        "  typedstruct do\n",
        "    field(:seq, integer(), enforce: true)\n",
        "  end\n",
        "\n",
        "  @doc false\n",
        "  def schematic(), do: schema(__MODULE__, %{seq: int()})\n",
        "\n",
        "  @typedoc false\n",
        "  @type private_type :: atom()\n",
        "  @opaque token :: binary()\n",
        "\n",
        "  @doc false\n",
        "  @callback cb_hidden(integer) :: atom\n",
        "  @doc \"Public.\"\n",
        "  @callback cb_public(integer) :: atom\n",
        "end\n",
    );
    let cs = chunks("lib/gen/event.ex", src);
    let schematic = cs
        .iter()
        .find(|c| c.name == "schematic")
        .unwrap_or_else(|| panic!("{cs:#?}"));
    assert_eq!(schematic.doc, None, "{schematic:#?}");
    assert_eq!(schematic.visibility, Visibility::Hidden);
    let visibility: Vec<(String, Visibility)> = cs
        .iter()
        .filter(|c| c.kind == ChunkKind::Type)
        .flat_map(|c| c.defines.iter())
        .map(|d| (d.name.clone(), d.visibility))
        .collect();
    assert_eq!(
        visibility,
        vec![
            ("private_type".to_string(), Visibility::Hidden),
            ("token".to_string(), Visibility::Public),
            ("cb_hidden".to_string(), Visibility::Hidden),
            ("cb_public".to_string(), Visibility::Public),
        ]
    );
    // A chunk is hidden only when all it defines is.
    for c in cs.iter().filter(|c| c.kind == ChunkKind::Type) {
        let hidden = c.defines.iter().all(|d| d.visibility == Visibility::Hidden);
        assert_eq!(c.visibility == Visibility::Hidden, hidden, "{c:#?}");
    }
    assert!(
        cs.iter().any(|c| c.kind == ChunkKind::Type
            && c.name == "private_type"
            && c.visibility == Visibility::Public),
        "{cs:#?}"
    );
}

/// `@impl` stays with its own function when small neighbours merge into one chunk.
#[test]
fn g06_each_merged_function_keeps_its_own_impl() {
    let src = concat!(
        "defmodule Breakpoint.Condition do\n",
        "  use GenServer\n",
        "  def clear(name \\\\ __MODULE__), do: GenServer.call(name, :clear)\n",
        "\n",
        "  @impl GenServer\n",
        "  def init(args), do: {:ok, args}\n",
        "\n",
        "  @impl true\n",
        "  def handle_call(:clear, _from, _state), do: {:reply, :ok, %{}}\n",
        "end\n",
    );
    let cs = chunks("lib/breakpoint/condition.ex", src);
    let merged = cs
        .iter()
        .find(|c| c.defines.iter().any(|d| d.name == "init"))
        .unwrap_or_else(|| panic!("{cs:#?}"));
    assert!(
        has_tag(merged, "merged"),
        "the fixture relies on merging: {cs:#?}"
    );
    let impls: Vec<(&str, Option<&str>)> = merged
        .defines
        .iter()
        .map(|d| (d.name.as_str(), d.impl_.as_deref()))
        .collect();
    assert_eq!(
        impls,
        vec![
            ("clear", None),
            ("init", Some("GenServer")),
            ("handle_call", Some("true")),
        ]
    );
    let json = serde_json::to_value(&merged.defines[1]).unwrap();
    assert_eq!(json["impl"], "GenServer", "{json}");
}

/// A Phoenix socket's `channel "room:*", RoomChannel` joins the channel: its module's
/// code calls `RoomChannel.join/3` (through its aliases); a function that calls another
/// `channel` does not.
#[test]
fn g19_a_sockets_channel_joins_it() {
    let src = concat!(
        "defmodule ShopWeb.UserSocket do\n",
        "  use Phoenix.Socket\n",
        "  alias ShopWeb.RoomChannel\n",
        "  channel \"room:*\", RoomChannel\n",
        "  channel(\"lobby\", ShopWeb.LobbyChannel, assigns: %{})\n",
        "  def info(s), do: channel(\"x\", ShopWeb.OtherChannel)\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/shop_web/user_socket.ex", src);
    assert_eq!(
        cs[0].calls,
        strings(&[
            "Phoenix.Socket.__using__/1",
            "ShopWeb.RoomChannel.join/3",
            "ShopWeb.LobbyChannel.join/3"
        ]),
        "{}",
        dump(&cs)
    );
    assert!(
        !cs[1].calls.iter().any(|c| c.contains("OtherChannel")),
        "{}",
        dump(&cs)
    );
}

/// A function given as a module, a name and a list of arguments is called by what runs
/// it: `:erpc.call` (an Erlang module by its atom too), `Task.async`, `spawn`, and a
/// project's own RPC helpers
/// (`Rpc.enhanced_call`, `GenRpc.multicast`, found in Supabase Realtime), or given as a
/// tuple to be called later (a telemetry poller's `{__MODULE__, :poll, [opts]}`, found
/// in PromEx). A server's
/// start (`GenServer.start_link(__MODULE__, :ok, [])`) and a cache's put name no call.
#[test]
fn g19_a_module_name_and_arguments_are_called_by_what_runs_them() {
    let src = concat!(
        "defmodule Realtime.Connect do\n", // 1
        "  alias Realtime.Cache\n",        // 2
        "  def remote(node, id) do\n",     // 3
        "    Rpc.enhanced_call(node, __MODULE__, :connect, [id, [], node])\n", // 4
        "    GenRpc.multicast(Cache, :invalidate, [id])\n", // 5
        "    :erpc.call(node, Cache, :update, [id, %{}])\n", // 6
        "    Task.async(Cache, :warm, []) && :rpc.call(node, :ls_worker, :enqueue, [id])\n", // 7
        "    spawn(Cache, :warm, [id]) && [{__MODULE__, :poll, [id, 1]}]\n", // 8
        "  end\n",                         // 9
        "  def start_link(opts), do: GenServer.start_link(__MODULE__, :ok, [name: opts])\n", // 10
        "  def put(id), do: Cachex.put(Cache, :key, [id]) && Process.send(Cache, :refresh, [:noconnect]) && :meck.called(Cache, :warm, [id])\n", // 11 // 11
        "end\n", // 12
    );
    let cs = unmerged_chunks("lib/realtime/connect.ex", src);
    let calls = |name: &str| {
        (cs.iter())
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name}:\n{}", dump(&cs)))
            .calls
            .clone()
    };
    let remote = calls("remote");
    for expected in [
        "Realtime.Connect.connect/3",
        "Realtime.Cache.invalidate/1",
        "Realtime.Cache.update/2",
        "Realtime.Cache.warm/0",
        "Realtime.Cache.warm/1",
        "Realtime.Connect.poll/2",
        ":ls_worker.enqueue/1",
    ] {
        assert!(
            remote.contains(&expected.to_string()),
            "{expected}: {remote:?}"
        );
    }
    assert!(
        !calls("start_link").iter().any(|c| c.ends_with(".ok/1")),
        "{:?}",
        calls("start_link")
    );
    // Nor does a message with a list (`Process.send(dest, msg, opts)`), nor a mock's
    // check that a function was called.
    let put = calls("put");
    assert!(
        !put.iter().any(|c| [".key/", ".refresh/", ".warm/"]
            .iter()
            .any(|f| c.contains(f))),
        "{put:?}"
    );
}

/// Absinthe's middleware `{{Resolver, :mutate}, config}` calls `Resolver.mutate/2` on each
/// resolution (AshGraphql's generated fields); a pair of other things is no call.
#[test]
fn g19_an_absinthe_middleware_pair_calls_its_function() {
    let src = concat!(
        "defmodule Shop.Schema do\n",
        "  alias Shop.Resolver\n",
        "  def mutation(domain) do\n",
        "    [middleware: [{{Resolver, :mutate}, {domain, :create}}], other: [{{:a, :b}, 1}]]\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/shop/schema.ex", src);
    assert_tiles(&cs, src.as_bytes());
    assert_eq!(
        definition_calls(&cs, "Shop.Schema.mutation/1"),
        strings(&["Shop.Resolver.mutate/2"]),
        "{}",
        dump(&cs)
    );
}

/// Calls a call makes without writing them: `raise Mod, msg` builds the exception with
/// `Mod.exception/1` (through the module's aliases), `apply/3` with a literal module,
/// name and argument list calls that function, and ExUnit's `setup :name` calls
/// `name/1`, a local or imported function (found in Finch and Mox).
#[test]
fn g19_raise_apply_and_setup_by_name_call_what_they_name() {
    let src = concat!(
        "defmodule Shop.Pool do\n",                                       // 1
        "  alias Shop.Pool.Error\n",                                      // 2
        "  def checkout!(pool) do\n",                                     // 3
        "    if pool == nil, do: raise(Error, :pool_not_available)\n",    // 4
        "    apply(Shop.Conn, :open, [pool, 5_000])\n",                   // 5
        "  end\n",                                                        // 6
        "  def spread(args), do: apply(Shop.Conn, :open, [args | []])\n", // 7
        "end\n",                                                          // 8
        "defmodule Shop.PoolTest do\n",                                   // 9
        "  use ExUnit.Case\n",                                            // 10
        "  import Shop.Checks\n",                                         // 11
        "  setup :verify_on_exit!\n",                                     // 12
        "  setup [:start_pool, {Shop.Fixtures, :seed}]\n",                // 13
        "  defp start_pool(_ctx), do: start_supervised!({Shop.Pool, size: 2})\n", // 14
        "end\n",                                                          // 15
    );
    let cs = chunks("lib/shop/pool.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let find = |name: &str, line: u32| {
        (cs.iter())
            .find(|c| qualified(c) == name && c.start_line <= line && line <= c.end_line)
            .unwrap_or_else(|| panic!("no chunk {name} at {line}:\n{}", dump(&cs)))
    };
    assert_eq!(
        find("Shop.Pool.checkout!", 4).calls,
        strings(&["Shop.Pool.Error.exception/1", "Shop.Conn.open/2"]),
        "{}",
        dump(&cs)
    );
    // `[args | []]` is a list of unknown length: no arity to cite.
    assert_eq!(find("Shop.Pool.spread", 7).calls, Vec::<String>::new());
    assert_eq!(find("Shop.PoolTest.setup", 12).calls, Vec::<String>::new());
    assert_eq!(
        find("Shop.PoolTest.setup", 12).unqualified_calls,
        strings(&["verify_on_exit!/1"])
    );
    assert_eq!(
        find("Shop.PoolTest.setup", 13).calls,
        strings(&["Shop.PoolTest.start_pool/1", "Shop.Fixtures.seed/1"]),
        "{}",
        dump(&cs)
    );
    // ExUnit's `start_supervised!/1` starts a child spec (see
    // `g19_child_specs_call_what_they_start`).
    assert_eq!(
        find("Shop.PoolTest.start_pool", 14).calls,
        strings(&["Shop.Pool.child_spec/1"])
    );
    assert_eq!(
        find("Shop.PoolTest.start_pool", 14).unqualified_calls,
        strings(&["start_supervised!/1"])
    );
}

/// A part smaller than an eighth of the budget joins its neighbour: a short body after a
/// `@doc` over the budget is one part, not its statements apart (`Jason.decode/2`), and a
/// `defmodule` line goes with the `@moduledoc` that cannot be cut (`Gettext`).
#[test]
fn g18_a_tiny_part_joins_its_neighbour() {
    let doc: String = (1..=40)
        .map(|i| format!("  Line {i} of a long explanation of how decoding works here.\n"))
        .collect();
    let src = format!(
        "defmodule Shop.Json do\n  @doc \"\"\"\n{doc}  \"\"\"\n  @spec decode(iodata, keyword) :: {{:ok, term}}\n  def decode(input, opts \\\\ []) do\n    input = IO.iodata_to_binary(input)\n    Shop.Decoder.parse(input, opts)\n  end\nend\n"
    );
    let cs = chunks("lib/shop/json.ex", &src);
    assert_tiles(&cs, src.as_bytes());
    assert_rows(
        &cs,
        vec![
            row(ModuleHeader, "Shop.Json", &[], (1, 1)),
            row(Function, "Shop.Json.decode", &[1, 2], (2, 43)),
            row(Function, "Shop.Json.decode", &[1, 2], (44, 49)),
        ],
    );
    assert_eq!(cs[2].part, Some((2, 2)));
    assert_eq!(
        defined(&cs[2]),
        strings(&["Shop.Json.decode/1", "Shop.Json.decode/2"])
    );
    assert!(cs[2].content.contains("@spec decode") && cs[2].content.contains("Shop.Decoder.parse"));

    let moduledoc = format!(
        "defmodule Shop.Texts do\n  @moduledoc \"\"\"\n{doc}  \"\"\"\n\n  @type locale :: binary\n\n  def f(x), do: x\nend\n"
    );
    let cs = chunks("lib/shop/texts.ex", &moduledoc);
    assert_tiles(&cs, moduledoc.as_bytes());
    assert_eq!((cs[0].kind, cs[0].start_line), (ModuleHeader, 1));
    assert!(
        cs[0].end_line >= 43 && cs[0].content.contains("Line 40"),
        "the defmodule line is in the moduledoc's part:\n{}",
        dump(&cs)
    );
}

/// `def unquote(name)()` in a `for` over a keyword list, a map with atom keys, a module
/// variable or attribute set to one, through `Enum.sort/1` or `Map.keys/1`: a function per
/// key, as over a list of atoms (Bandit's `Errors`: `for {name, value} <-
/// Enum.sort(error_codes)`), or over lists joined by `++` (Nx's tensor types); over
/// anything else, one dynamic definition as written.
#[test]
fn g08_names_generated_from_a_keyword_list_or_a_map() {
    let src = concat!(
        "defmodule Shop.Codes do\n",                                  // 1
        "  codes = %{no_error: 0, protocol_error: 1}\n",              // 2
        "  for {name, value} <- Enum.sort(codes) do\n",               // 3
        "    def unquote(name)(), do: unquote(value)\n",              // 4
        "  end\n",                                                    // 5
        "  @levels [debug: 0, info: 1]\n",                            // 6
        "  for level <- Keyword.keys(@levels) do\n",                  // 7
        "    def unquote(level)(msg), do: {unquote(level), msg}\n",   // 8
        "  end\n",                                                    // 9
        "  for {verb, i} <- Enum.with_index([:get, :put]) do\n",      // 10
        "    def unquote(verb)(path), do: {unquote(i), path}\n",      // 11
        "  end\n",                                                    // 12
        "  for {name, _} <- Application.get_env(:shop, :codes) do\n", // 13
        "    def unquote(name)(), do: :ok\n",                         // 14
        "  end\n",                                                    // 15
        "  for t <- [:u8, :u16] ++ [:f32] do\n",                      // 16
        "    def unquote(t)(x), do: {unquote(t), x}\n",               // 17
        "  end\n",                                                    // 18
        "  @none []\n",                                               // 19
        "  @sizes [small: 1] ++ @none ++ [large: 2]\n",               // 20
        "  for {s, _} <- @sizes do\n",                                // 21
        "    def unquote(s)(), do: 1\n",                              // 22
        "  end\n",                                                    // 23
        "  @tags [:hot]\n",                                           // 24
        "  @tags @tags ++ more_tags()\n",                             // 25
        "  for tag <- @tags do\n",                                    // 26
        "    def unquote(tag)(), do: 1\n",                            // 27
        "  end\n",                                                    // 28
        "end\n",                                                      // 29
        "defmodule Shop.User do\n",                                   // 30
        "  def fail, do: Shop.Codes.protocol_error()\n",              // 31
        "end\n",                                                      // 32
    );
    let cs = unmerged_chunks("lib/shop/codes.ex", src);
    let all: Vec<String> = cs.iter().flat_map(defined).collect();
    for symbol in [
        "Shop.Codes.no_error/0",
        "Shop.Codes.protocol_error/0",
        "Shop.Codes.debug/1",
        "Shop.Codes.info/1",
        "Shop.Codes.get/1",
        "Shop.Codes.put/1",
        // Lists joined by `++` (Nx's `u8/1`, `f32/1`...).
        "Shop.Codes.u8/1",
        "Shop.Codes.u16/1",
        "Shop.Codes.f32/1",
    ] {
        assert!(
            all.contains(&symbol.to_string()),
            "{symbol}:\n{}",
            dump(&cs)
        );
    }
    // A name from the application's environment is not known: one definition, as written.
    assert!(
        all.contains(&"Shop.Codes.unquote(name)/0".to_string()),
        "{all:?}"
    );
    // An empty list joins any (`@none`), and an attribute set again to what is not
    // known is forgotten: its function stays as written.
    for symbol in ["Shop.Codes.small/0", "Shop.Codes.large/0"] {
        assert!(all.contains(&symbol.to_string()), "{symbol}: {all:?}");
    }
    assert!(
        all.contains(&"Shop.Codes.unquote(tag)/0".to_string())
            && !all.iter().any(|s| s.ends_with(".hot/0")),
        "{all:?}"
    );
    assert!(!all.iter().any(|s| s.contains("value")), "{all:?}");
}

/// `Enum.each`, `Enum.map` and `Enum.flat_map` over known atoms run their function as a
/// `for` runs its block (Membrane's logger: `Enum.map([:debug, :info], fn method ->
/// defmacro unquote(method)(message, metadata \\ [])`), the list passed or piped in; a
/// callback of another function, or over what is not known, leaves the definition as
/// written.
#[test]
fn g08_an_enum_each_over_atoms_names_a_definition_per_atom() {
    let src = concat!(
        "defmodule Shop.Log do\n",                                             // 1
        "  Enum.map([:debug, :info], fn method ->\n",                          // 2
        "    @doc \"Logs at #{method}.\"\n",                                   // 3
        "    defmacro unquote(method)(message, meta \\\\ []) do\n",            // 4
        "      quote do: Logger.unquote(method)(unquote(message))\n",          // 5
        "    end\n",                                                           // 6
        "  end)\n",                                                            // 7
        "  @sizes [small: 1, large: 2]\n",                                     // 8
        "  @sizes |> Enum.each(fn {size, n} ->\n",                             // 9
        "    def unquote(size)(), do: unquote(n)\n",                           // 10
        "  end)\n",                                                            // 11
        "  Enum.each(Application.get_env(:shop, :kinds), fn kind ->\n",        // 12
        "    def unquote(kind)(), do: :ok\n",                                  // 13
        "  end)\n",                                                            // 14
        "  Enum.reduce([:a, :b], 0, fn name, acc ->\n",                        // 15
        "    def unquote(name)(), do: 1\n",                                    // 16
        "    acc + 1\n",                                                       // 17
        "  end)\n",                                                            // 18
        "  Enum.each([:x], fn {name, _} -> def unquote(name)(), do: 1 end)\n", // 19
        "  kept = Enum.map([:low, :high], fn p -> def unquote(p)(), do: 1 end)\n", // 20
        "  Enum.each([:warm], fn t when is_atom(t) -> def unquote(t)(), do: 1 end)\n", // 21
        "end\n",                                                               // 22
        "defmodule Shop.Order do\n",                                           // 23
        "  require Shop.Log\n",                                                // 24
        "  def place, do: Shop.Log.info(\"placed\")\n",                        // 25
        "end\n",                                                               // 26
    );
    let cs = unmerged_chunks("lib/shop/log.ex", src);
    let all: Vec<String> = cs.iter().flat_map(defined).collect();
    for symbol in [
        "Shop.Log.debug/1",
        "Shop.Log.debug/2",
        "Shop.Log.info/1",
        "Shop.Log.info/2",
        "Shop.Log.small/0",
        "Shop.Log.large/0",
        // The callback's result kept in a variable.
        "Shop.Log.low/0",
        "Shop.Log.high/0",
        // A function with a guard.
        "Shop.Log.warm/0",
    ] {
        assert!(
            all.contains(&symbol.to_string()),
            "{symbol}:\n{}",
            dump(&cs)
        );
    }
    let info = (cs.iter())
        .find(|c| c.defines.iter().any(|d| d.name == "info"))
        .unwrap();
    assert_eq!(info.kind, Macro);
    assert_eq!(info.doc.as_deref(), Some("Logs at #{method}."));
    assert!(
        info.content.contains("Enum.map([:debug, :info]"),
        "{}",
        dump(&cs)
    );
    // Not known, not `each`/`map`/`flat_map`, or a pattern binding no atom: as written.
    for symbol in ["Shop.Log.unquote(kind)/0", "Shop.Log.unquote(name)/0"] {
        assert!(all.contains(&symbol.to_string()), "{symbol}: {all:?}");
    }
    for absent in ["Shop.Log.a/0", "Shop.Log.b/0", "Shop.Log.x/0"] {
        assert!(!all.contains(&absent.to_string()), "{absent}: {all:?}");
    }
    let place = cs
        .iter()
        .flat_map(|c| &c.defines)
        .find(|d| d.name == "place")
        .unwrap();
    assert_eq!(place.calls, strings(&["Shop.Log.info/1"]));
}

/// A public function of no arguments that returns a literal list records its atoms; a
/// `for` over what a function of another module returns keeps its definition as written,
/// naming that function (the
/// symbol graph then defines one function per atom, as Nx's `for {name, _} <-
/// Nx.Shared.unary_math_funs()` does).
#[test]
fn g08_a_for_over_what_a_function_returns_names_that_function() {
    let src = concat!(
        "defmodule Shop.Kinds do\n",
        "  alias Shop.Catalog\n",
        "  def all, do: [:book, :toy]\n",
        "  def pairs do\n",
        "    [book: 1, toy: 2]\n",
        "  end\n",
        "  def computed, do: Enum.map([:a], & &1)\n",
        "  defp private, do: [:a]\n",
        "  for {kind, _} <- Catalog.kinds() do\n",
        "    def unquote(kind)(id), do: id\n",
        "  end\n",
        "  for kind <- all() do\n",
        "    def unquote(kind)(), do: :ok\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/shop/kinds.ex", src);
    let defs: Vec<&Definition> = cs.iter().flat_map(|c| c.defines.iter()).collect();
    let def = |name: &str, arity: u32| {
        (defs.iter())
            .find(|d| d.name == name && d.arities.contains(&arity))
            .unwrap_or_else(|| panic!("{name}/{arity}: {}", dump(&cs)))
    };
    let atoms = |v: &[&str], pairs: bool| AtomList {
        atoms: v.iter().map(|a| a.to_string()).collect(),
        pairs,
    };
    assert_eq!(def("all", 0).returns, Some(atoms(&["book", "toy"], false)));
    assert_eq!(def("pairs", 0).returns, Some(atoms(&["book", "toy"], true)));
    assert_eq!(def("computed", 0).returns, None);
    // Another module cannot call it.
    assert_eq!(def("private", 0).returns, None);
    let from = |function: &str, pairs: bool| NamesFrom {
        function: function.to_string(),
        pairs,
        written: "unquote(kind)".to_string(),
    };
    assert_eq!(
        def("unquote(kind)", 1).names_from,
        Some(from("Shop.Catalog.kinds/0", true))
    );
    // A call without a module in a module's body names an import (its own functions
    // cannot run yet): not followed.
    assert_eq!(def("unquote(kind)", 0).names_from, None);
}

/// `defrecord :ping, [...]` (after `import Record`) and `Record.defrecordp(...)` define the
/// record macros of arities 0, 1 and 2, public and private (Mint's `HTTP2.Frame`).
#[test]
fn g13_records_define_their_macros() {
    let src = concat!(
        "defmodule Shop.Frame do\n",
        "  import Record\n",
        "  defrecord :ping, [:stream_id, :flags]\n",
        "  Record.defrecordp(:settings, [:params])\n",
        "  def new(id), do: ping(stream_id: id)\n",
        "end\n",
    );
    let cs = chunks("lib/shop/frame.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let defs: Vec<(String, Vec<u32>, ChunkKind, Visibility)> = (cs.iter())
        .flat_map(|c| c.defines.iter())
        .filter(|d| matches!(d.name.as_str(), "ping" | "settings"))
        .map(|d| (d.name.clone(), d.arities.clone(), d.kind, d.visibility))
        .collect();
    assert_eq!(
        defs,
        vec![
            ("ping".to_string(), vec![0, 1, 2], Macro, Visibility::Public),
            (
                "settings".to_string(),
                vec![0, 1, 2],
                Macro,
                Visibility::Private
            ),
        ],
        "{}",
        dump(&cs)
    );
    let new = cs.iter().find(|c| c.name == "new").expect("new/1");
    assert_eq!(new.calls, strings(&["Shop.Frame.ping/1"]), "{}", dump(&cs));
}

/// A macro of the file called in a `for` defines a function per atom the `for` binds,
/// where an argument is the `for`'s variable or an atom written around it, as Elixir
/// 1.14's `IO.ANSI` defines its colours (`for {color, code} <- Enum.with_index(colors)`,
/// over a variable of the module's body) and fonts (`for font_n <- [1, ..., 9]`): an
/// argument the `for` does not bind, or an atom around a variable it does not bind,
/// defines nothing.
#[test]
fn g13_a_macro_of_the_file_called_in_a_for_defines_a_function_per_atom() {
    let src = concat!(
        "defmodule Shop.Sequence do\n",                         // 1
        "  defmacro defsequence(name, code) do\n",              // 2
        "    quote bind_quoted: [name: name, code: code] do\n", // 3
        "      def unquote(name)(), do: \"\\e[#{code}m\"\n",    // 4
        "    end\n",                                            // 5
        "  end\n",                                              // 6
        "end\n",                                                // 7
        "\n",                                                   // 8
        "defmodule Shop.Colors do\n",                           // 9
        "  import Shop.Sequence\n",                             // 10
        "  colors = [:black, :red]\n",                          // 11
        "\n",                                                   // 12
        "  for {color, code} <- Enum.with_index(colors) do\n",  // 13
        "    @doc \"Sets foreground color to #{color}.\"\n",    // 14
        "    defsequence(color, code + 30)\n",                  // 15
        "    defsequence(:\"light_#{color}\", code + 90)\n",    // 16
        "  end\n",                                              // 17
        "\n",                                                   // 18
        "  for n <- [1, 2] do\n",                               // 19
        "    defsequence(:\"font_#{n}\", n + 10)\n",            // 20
        "  end\n",                                              // 21
        "\n",                                                   // 22
        "  for {color, code} <- Enum.with_index(colors) do\n",  // 23
        "    defsequence(:\"#{color}_#{shade}\", code)\n",      // 24
        "    defsequence(shade, code)\n",                       // 25
        "  end\n",                                              // 26
        "end\n",                                                // 27
    );
    let cs = chunks("lib/shop/colors.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let mut defs: Vec<(String, Vec<u32>, u32)> = (cs.iter().flat_map(|c| c.defines.iter()))
        .filter(|d| d.module == "Shop.Colors" && d.kind != ModuleHeader)
        .map(|d| (d.name.clone(), d.arities.clone(), d.line))
        .collect();
    defs.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    let want = |name: &str, line: u32| (name.to_string(), vec![0], line);
    assert_eq!(
        defs,
        [
            want("black", 15),
            want("red", 15),
            want("light_black", 16),
            want("light_red", 16),
            want("font_1", 20),
            want("font_2", 20),
        ],
        "{}",
        dump(&cs)
    );
}

/// A macro of the same file whose `quote` writes `def unquote(name)(…)` defines, where a
/// module calls it, the function its argument names: from a call (`defwrite(insert(cs,
/// opts \\ []))`, as hexpm's `Repo` wraps Ecto's), or from an atom (`defconst :limit`),
/// imported or named with its (aliased) module; a call of another module's macro of the
/// same name, or an argument that is neither, defines nothing. A function bound in the
/// module's body whose body writes `def unquote(name)` does the same where it is called
/// (`defsequence.(:reset, 0, "m")` in Elixir 1.15's `IO.ANSI`).
#[test]
fn g13_a_macro_of_the_file_defines_what_its_argument_names() {
    let src = concat!(
        "defmodule Shop.RepoHelpers do\n",                        // 1
        "  defmacro defwrite({name, _meta, params}) do\n",        // 2
        "    quote do\n",                                         // 3
        "      def unquote(name)(unquote_splicing(params)) do\n", // 4
        "        write_mode!()\n",                                // 5
        "        Shop.RepoBase.unquote(name)(unquote_splicing(params))\n", // 6
        "      end\n",                                            // 7
        "    end\n",                                              // 8
        "  end\n",                                                // 9
        "  defmacro shadow(name) do name = :\"x_#{name}\"; quote(do: def(unquote(name)(), do: 1)) end\n", // 10
        "  defmacro defconst(name, value \\\\ nil) do\n", // 11
        "    quote do\n",                                 // 12
        "      @doc false\n",                             // 13
        "      def unquote(name)(), do: unquote(value)\n", // 14
        "      def unquote(:\"#{name}_doc\")(), do: nil\n", // 15
        "    end\n",                                      // 16
        "  end\n",                                        // 17
        "end\n",                                          // 18
        "\n",                                             // 19
        "defmodule Shop.Repo do\n",                       // 20
        "  import Shop.RepoHelpers\n",                    // 21
        "  alias Shop.RepoHelpers, as: H\n",              // 22
        "  shadow :s1\n",                                 // 23
        "  @doc \"Inserts unless the shop is read only.\"\n", // 24
        "  defwrite(insert(struct_or_changeset, opts \\\\ []))\n", // 25
        "  defwrite rollback(value)\n",                   // 26
        "  defconst :limit, Shop.Config.limit()\n",       // 27
        "  H.defconst(:page_size, 20)\n",                 // 28
        "  defconst some_var, 30\n",                      // 29
        "  Other.defwrite(update(changeset))\n",          // 30
        "  defwrite(unquote(name))\n",                    // 31
        "  def write_mode!(), do: :ok\n",                 // 32
        "  seq = fn name, code ->\n",                     // 33
        "    def unquote(name)(), do: unquote(code)\n",   // 34
        "  end\n",                                        // 35
        "  seq.(:reset, 0)\n",                            // 36
        "  seq.(some_name, 1)\n",                         // 37
        "end\n",                                          // 38
    );
    let cs = chunks("lib/shop/repo.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let mut defs: Vec<(String, Vec<u32>, ChunkKind, Visibility, u32, String)> = (cs.iter())
        .flat_map(|c| c.defines.iter())
        .filter(|d| d.module == "Shop.Repo" && d.kind != ModuleHeader)
        .map(|d| {
            let head = d.signature.clone();
            (
                d.name.clone(),
                d.arities.clone(),
                d.kind,
                d.visibility,
                d.line,
                head,
            )
        })
        .collect();
    defs.sort_by_key(|d| (d.4, d.0.clone()));
    let want = |name: &str, arities: &[u32], vis: Visibility, line: u32, head: &str| {
        (
            name.to_string(),
            arities.to_vec(),
            Function,
            vis,
            line,
            head.to_string(),
        )
    };
    assert_eq!(
        defs,
        vec![
            want(
                "insert",
                &[1, 2],
                Visibility::Public,
                25,
                "def insert(struct_or_changeset, opts \\\\ [])"
            ),
            want(
                "rollback",
                &[1],
                Visibility::Public,
                26,
                "def rollback(value)"
            ),
            want("limit", &[0], Visibility::Public, 27, "def limit()"),
            want("page_size", &[0], Visibility::Public, 28, "def page_size()"),
            want(
                "write_mode!",
                &[0],
                Visibility::Public,
                32,
                "def write_mode!()"
            ),
            want("reset", &[0], Visibility::Public, 36, "def reset()"),
        ],
        "{}",
        dump(&cs)
    );
    // The doc before the call documents what it defines.
    let insert = cs.iter().find(|c| c.name == "insert").expect("insert/1..2");
    assert_eq!(insert.kind, Function, "{}", dump(&cs));
    // What the argument that names it writes is no call; what the others call is its.
    let limit = (cs.iter().flat_map(|c| &c.defines))
        .find(|d| d.name == "limit")
        .expect("limit/0");
    assert_eq!(
        limit.calls,
        strings(&["Shop.Config.limit/0"]),
        "{}",
        dump(&cs)
    );
    // A parameter bound again (`name = :"x_#{name}"`) no longer names the function.
    assert!(
        !cs.iter()
            .flat_map(|c| &c.defines)
            .any(|d| d.name.contains("s1"))
    );
    assert_eq!(
        insert.unqualified_calls,
        strings(&["defwrite/1"]),
        "{}",
        dump(&cs)
    );
    assert!(insert.calls.is_empty(), "{}", dump(&cs));
    let all_calls: Vec<&String> = cs.iter().flat_map(|c| &c.calls).collect();
    assert!(
        all_calls.contains(&&"Shop.RepoHelpers.defconst/2".to_string()),
        "{all_calls:?}"
    );
    assert!(
        !all_calls.iter().any(|c| c.contains("rollback")),
        "{all_calls:?}"
    );
    assert!(
        insert
            .doc
            .as_deref()
            .is_some_and(|d| d.contains("read only")),
        "{}",
        dump(&cs)
    );
}

/// A macro whose quote writes two arities of one name defines both where it is called,
/// each with its own head.
#[test]
fn g13_a_macro_writing_two_arities_shows_each_head() {
    let src = concat!(
        "defmodule Shop.Two do\n",
        "  defmacro two(name) do\n",
        "    quote do\n",
        "      def unquote(name)(a), do: a\n",
        "      def unquote(name)(a, b), do: {a, b}\n",
        "    end\n",
        "  end\n",
        "end\n",
        "defmodule Shop.UsesTwo do\n",
        "  import Shop.Two\n",
        "  two :pair\n",
        "end\n",
    );
    let cs = chunks("lib/shop/two.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let chunk = cs.iter().find(|c| c.name == "pair").expect("pair");
    let heads: Vec<(Vec<u32>, String)> = (chunk.defines.iter())
        .map(|d| {
            let head = match d.signature.is_empty() {
                true => chunk.signature.clone(),
                false => d.signature.clone(),
            };
            (d.arities.clone(), head)
        })
        .collect();
    assert_eq!(
        heads,
        [
            (vec![1], "def pair(a)".to_string()),
            (vec![2], "def pair(a, b)".to_string())
        ],
        "{}",
        dump(&cs)
    );
}

/// A split protocol reads under its own `defprotocol` line, not under a `defmodule` line
/// it does not have (Jason's `Encoder`).
#[test]
fn g18_a_split_protocol_reads_under_its_own_first_line() {
    let doc: String = (1..=40)
        .map(|i| format!("  Line {i} of what encoding a value to JSON means for each type.\n"))
        .collect();
    let src = format!(
        "defprotocol Shop.Encoder do\n  @moduledoc \"\"\"\n{doc}  \"\"\"\n\n  @fallback_to_any true\n\n  def encode(value, opts)\nend\n"
    );
    let cs = chunks("lib/shop/encoder.ex", &src);
    let parts: Vec<&Chunk> = cs.iter().filter(|c| c.part.is_some()).collect();
    assert!(parts.len() >= 2, "{}", dump(&cs));
    for p in parts {
        let text = p.text_with_header();
        assert!(text.starts_with("# lib/shop/encoder.ex\n"), "{text}");
        assert_eq!(
            text.matches("defprotocol Shop.Encoder do\n").count(),
            1,
            "{text}"
        );
        assert!(!text.contains("defmodule"), "{text}");
        assert!(p.header.contains("  # part "), "{}", p.header);
    }
}

/// A supervisor calls the `child_spec/1` of each child a literal spec names: in
/// `children = [...]`, `Supervisor.start_link/2`, `Supervisor.init/2`,
/// `Supervisor.child_spec/2` and `DynamicSupervisor.start_child/2` (through the module's
/// aliases), and a map spec's `start:` calls its function (Bandit's `{Bandit, opts}`).
#[test]
fn g19_child_specs_call_what_they_start() {
    let src = concat!(
        "defmodule Shop.Application do\n",                         // 1
        "  use Application\n",                                     // 2
        "  alias Shop.{Cache, Repo}\n",                            // 3
        "  def start(_type, _args) do\n",                          // 4
        "    children = [\n",                                      // 5
        "      Repo,\n",                                           // 6
        "      # the web server\n",                                // 7
        "      {Bandit, plug: Shop.Router, port: port()},\n",      // 8
        "      Supervisor.child_spec({Cache, []}, id: :cache),\n", // 9
        "      %{id: :clock, start: {Shop.Clock, :start_link, [:utc, 1_000]}},\n", // 10
        "      :not_a_module\n",                                   // 11
        "    ]\n",                                                 // 12
        "    Supervisor.start_link(children, strategy: :one_for_one)\n", // 13
        "  end\n",                                                 // 14
        "  def start_worker(id) do\n",                             // 15
        "    DynamicSupervisor.start_child(Shop.Workers, {Shop.Worker, id})\n", // 16
        "  end\n",                                                 // 17
        "  def init(_) do\n",                                      // 18
        "    Supervisor.init([{Task.Supervisor, name: Shop.Tasks}], strategy: :one_for_one)\n", // 19
        "  end\n",                                        // 20
        "  def tree(nodes) do\n",                         // 21
        "    children = [Repo.get(nodes), {nodes, 1}]\n", // 22
        "    Enum.map(children, & &1)\n",                 // 23
        "  end\n",                                        // 24
        "end\n",                                          // 25
    );
    let cs = chunks("lib/shop/application.ex", src);
    assert_tiles(&cs, src.as_bytes());
    // The small functions are merged into one chunk: each definition keeps its calls.
    let calls_of = |symbol: &str| definition_calls(&cs, symbol);
    assert_eq!(
        calls_of("Shop.Application.start/2"),
        strings(&[
            "Shop.Repo.child_spec/1",
            "Bandit.child_spec/1",
            "Shop.Clock.start_link/2",
            "Supervisor.child_spec/2",
            "Shop.Cache.child_spec/1",
            "Supervisor.start_link/2",
        ]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        calls_of("Shop.Application.start_worker/1"),
        strings(&[
            "DynamicSupervisor.start_child/2",
            "Shop.Worker.child_spec/1"
        ])
    );
    assert_eq!(
        calls_of("Shop.Application.init/1"),
        strings(&["Supervisor.init/2", "Task.Supervisor.child_spec/1"])
    );
    // A list of anything else named `children` starts nothing.
    assert_eq!(
        calls_of("Shop.Application.tree/1"),
        strings(&["Shop.Repo.get/1", "Enum.map/2"])
    );

    // Functions named for the children they return, as hexpm's `Application` writes
    // them, and lists joined with `++` or piped.
    let src = concat!(
        "defmodule Shop.Application do\n",
        "  def start(_type, _args) do\n",
        "    children = [Shop.Repo] ++ web_children() ++ if(web?(), do: [ShopWeb.Endpoint], else: [])\n",
        "    Supervisor.start_link(children ++ [oban_child()], strategy: :one_for_one)\n",
        "  end\n",
        "  defp web_children do\n",
        "    [\n",
        "      {Phoenix.PubSub, name: Shop.PubSub},\n",
        "      metrics_spec(),\n",
        "      ShopWeb.Endpoint\n",
        "    ]\n",
        "    |> Enum.reject(&is_nil/1)\n",
        "  end\n",
        "  defp oban_child do\n",
        "    if Application.get_env(:shop, :jobs?) do\n",
        "      {Oban, Application.fetch_env!(:shop, Oban)}\n",
        "    else\n",
        "      Shop.NoJobs\n",
        "    end\n",
        "  end\n",
        "  defp web?, do: true\n",
        "  defp metrics_spec, do: nil\n",
        "  def child_count(list), do: [Shop.Repo | list]\n",
        "  def start_link(arg), do: Supervisor.start_link(__MODULE__, arg, name: __MODULE__)\n",
        "  def child_spec(opts), do: %{id: __MODULE__, start: {__MODULE__, :start_link, [opts]}}\n",
        "  def workers, do: Supervisor.init([{__MODULE__.Worker, 1}], strategy: :one_for_one)\n",
        "end\n",
    );
    let cs = chunks("lib/shop/application.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let calls_of = |symbol: &str| definition_calls(&cs, symbol);
    assert_eq!(
        calls_of("Shop.Application.start/2"),
        strings(&[
            "Shop.Repo.child_spec/1",
            "ShopWeb.Endpoint.child_spec/1",
            "Shop.Application.web_children/0",
            "Shop.Application.web?/0",
            "Supervisor.start_link/2",
            "Shop.Application.oban_child/0",
        ]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        calls_of("Shop.Application.web_children/0"),
        strings(&[
            "Phoenix.PubSub.child_spec/1",
            "ShopWeb.Endpoint.child_spec/1",
            "Shop.Application.metrics_spec/0",
            "Enum.reject/2",
        ]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        calls_of("Shop.Application.oban_child/0"),
        strings(&[
            "Oban.child_spec/1",
            "Shop.NoJobs.child_spec/1",
            "Application.get_env/2",
            "Application.fetch_env!/2",
        ])
    );
    // `child_count` is not named for a child, and `[a | rest]` holds no spec.
    assert_eq!(
        calls_of("Shop.Application.child_count/1"),
        Vec::<String>::new()
    );
    // A module's own `child_spec/1` returns one spec, which starts its `start_link/1`;
    // `__MODULE__.Worker` is a module under this one.
    assert_eq!(
        calls_of("Shop.Application.child_spec/1"),
        strings(&["Shop.Application.start_link/1"])
    );
    assert_eq!(
        calls_of("Shop.Application.workers/0"),
        strings(&["Supervisor.init/2", "Shop.Application.Worker.child_spec/1"])
    );
    // `Supervisor.start_link/3` takes the supervisor's own module, no child.
    assert_eq!(
        calls_of("Shop.Application.start_link/1"),
        strings(&["Supervisor.start_link/3"])
    );
}

/// A callback's reply that continues (`{:ok, state, {:continue, :load}}`) runs the
/// server's own `handle_continue/2` next; a pattern that matches one does not.
#[test]
fn g19_a_reply_that_continues_calls_handle_continue() {
    let src = concat!(
        "defmodule Shop.Loader do\n",
        "  use GenServer\n",
        "  def init(opts), do: {:ok, opts, {:continue, :load}}\n",
        "  def handle_call(:reload, _from, s), do: {:reply, :ok, s, {:continue, :load}}\n",
        "  def handle_info(:tick, s) do\n",
        "    {:noreply, s, {:continue, :load}}\n",
        "  end\n",
        "  def handle_continue(:load, s), do: {:noreply, s}\n",
        "  def check(result) do\n",
        "    case result do\n",
        "      {:ok, s, {:continue, _}} -> s\n",
        "      _ -> nil\n",
        "    end\n",
        "  end\n",
        "  def matched(r) do\n",
        "    {:ok, _, {:continue, x}} = r\n",
        "    x\n",
        "  end\n",
        "  def other, do: {:error, :x, {:continue, :load}}\n",
        "  def guarded(result) do\n",
        "    case result do\n",
        "      {:ok, s, {:continue, x}} when is_atom(x) -> s\n",
        "      [{:reply, _, s, {:continue, _}}] -> s\n",
        "    end\n",
        "  end\n",
        "  def head({:noreply, s, {:continue, _}}), do: s\n",
        "  def nested(l) do\n",
        "    [{:ok, _, {:continue, x}}] = l\n",
        "    with {:ok, s, {:continue, _}} <- x, do: s\n",
        "  end\n",
        "  def piped(s), do: {:noreply, s, {:continue, :load}} |> IO.inspect()\n",
        "end\n",
        "defmodule Shop.NoServer do\n",
        "  def init(opts), do: {:ok, opts, {:continue, :load}}\n",
        "end\n",
    );
    let cs = chunks("lib/shop/loader.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let calls_of = |symbol: &str| definition_calls(&cs, symbol);
    let continued = strings(&["Shop.Loader.handle_continue/2"]);
    assert_eq!(calls_of("Shop.Loader.init/1"), continued, "{}", dump(&cs));
    assert_eq!(calls_of("Shop.Loader.handle_call/3"), continued);
    assert_eq!(calls_of("Shop.Loader.handle_info/2"), continued);
    // A value, whatever is done with it.
    assert_eq!(
        calls_of("Shop.Loader.piped/1"),
        strings(&["Shop.Loader.handle_continue/2", "IO.inspect/1"])
    );
    for not_continued in [
        "Shop.Loader.check/1",
        "Shop.Loader.matched/1",
        "Shop.Loader.other/0",
        "Shop.Loader.guarded/1",
        "Shop.Loader.head/1",
        "Shop.Loader.nested/1",
        // A module without `handle_continue/2`.
        "Shop.NoServer.init/1",
    ] {
        assert_eq!(
            calls_of(not_continued),
            Vec::<String>::new(),
            "{not_continued}"
        );
    }
}

/// A message runs a callback: `GenServer.call/2,3` the server's `handle_call/3`,
/// `GenServer.cast/2` its `handle_cast/2`, and a message a process sends itself
/// (`send(self(), …)`, `Process.send_after(self(), …)`, `:timer.send_interval/2`,
/// `:erlang.start_timer/3`) its own `handle_info/2`, and a LiveView's `start_async/3` its
/// own `handle_async/3`. The server is the module an alias names (through the aliases), or
/// else the caller's own module where that defines the callback. Starting a server
/// (`GenServer.start_link(__MODULE__, …)`) runs its `init/1`.
#[test]
fn g19_messages_call_the_callbacks_they_run() {
    let src = concat!(
        "defmodule Shop.Cache do\n",
        "  use GenServer\n",
        "  alias Shop.Stock\n",
        "  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)\n",
        "  def get(key), do: GenServer.call(__MODULE__, {:get, key})\n",
        "  def put(pid, key, value), do: GenServer.cast(pid, {:put, key, value})\n",
        "  def stock, do: GenServer.call(Stock, :count, 5_000)\n",
        "  def init(opts) do\n",
        "    Process.send_after(self(), :expire, 1_000)\n",
        "    :timer.send_interval(60_000, :report)\n",
        "    :erlang.start_timer(5_000, self(), :expire)\n",
        "    {:ok, opts}\n",
        "  end\n",
        "  def handle_call({:get, key}, _from, state), do: {:reply, Map.get(state, key), state}\n",
        "  def handle_cast({:put, key, value}, state) do\n",
        "    send(self(), {:stored, key})\n",
        "    {:noreply, Map.put(state, key, value)}\n",
        "  end\n",
        "  def handle_info(_msg, state), do: {:noreply, state}\n",
        "end\n",
        "defmodule Shop.Pool do\n",
        "  use GenServer\n",
        "  def ask(server), do: server |> GenServer.call(:checkout)\n",
        "  def handle_request(pid), do: GenServer.cast(pid, :request)\n",
        "  def handle_call(:checkout, _from, s), do: {:reply, GenServer.call(s.worker, :get), s}\n",
        "  def handle_cast(:request, s) do\n",
        "    GenServer.cast(__MODULE__.Registry, {:seen, self()})\n",
        "    {:noreply, s}\n",
        "  end\n",
        "end\n",
        "defmodule Shop.Named do\n",
        "  use GenServer\n",
        "  def start_link(a), do: GenServer.start_link(__MODULE__, a, name: ShopCache)\n",
        "  def add(k), do: GenServer.call(ShopCache, {:add, k})\n",
        "  def handle_call({:add, k}, _from, s), do: {:reply, k, s}\n",
        "end\n",
        "defmodule Shop.Stage do\n",
        "  use GenStage\n",
        "  def status(s), do: GenStage.call(s, :status)\n",
        "  def mark(s), do: GenStage.async_info(s, :mark)\n",
        "  def flush(s), do: GenStateMachine.call(s, {:flush, 1})\n",
        "  def handle_call(:status, _from, s), do: {:reply, :ok, [], s}\n",
        "  def handle_info(:mark, s), do: {:noreply, [], s}\n",
        "  def handle_event({:call, from}, {:flush, n}, st, d), do: {:keep_state, d, [{:reply, from, n}]}\n",
        "end\n",
        "defmodule Shop.Client do\n",
        "  def ask(pid), do: GenServer.call(pid, :ask)\n",
        "  def ping(pid), do: send(pid, :ping)\n",
        "  def later(pid), do: Process.send_after(pid, :later, 10)\n",
        "  def timer(pid), do: :erlang.start_timer(10, pid, :later)\n",
        "end\n",
        "defmodule Shop.Live do\n",
        "  use Phoenix.LiveView\n",
        "  def mount(_, _, socket), do: {:ok, start_async(socket, :load, fn -> 1 end)}\n",
        "  def reload(socket), do: socket |> start_async(:load, fn -> 2 end)\n",
        "  def other(socket), do: start_async(socket, :other, fn -> 3 end)\n",
        "  def handle_async(:load, {:ok, v}, socket), do: {:noreply, socket}\n",
        "end\n",
    );
    let cs = chunks("lib/shop/cache.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let calls_of = |symbol: &str| definition_calls(&cs, symbol);
    assert_eq!(
        calls_of("Shop.Cache.get/1"),
        strings(&["GenServer.call/2", "Shop.Cache.handle_call/3"])
    );
    assert_eq!(
        calls_of("Shop.Cache.put/3"),
        strings(&["GenServer.cast/2", "Shop.Cache.handle_cast/2"])
    );
    assert_eq!(
        calls_of("Shop.Cache.stock/0"),
        strings(&["GenServer.call/3", "Shop.Stock.handle_call/3"])
    );
    assert_eq!(
        calls_of("Shop.Cache.init/1"),
        strings(&[
            "Process.send_after/3",
            "Shop.Cache.handle_info/2",
            ":timer.send_interval/2",
            ":erlang.start_timer/3",
        ]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        calls_of("Shop.Cache.handle_cast/2"),
        strings(&["Shop.Cache.handle_info/2", "Map.put/3"])
    );
    // `GenServer.start_link/3` starts the server, which runs its callback module's
    // `init/1` before `start_link` returns.
    assert_eq!(
        calls_of("Shop.Cache.start_link/1"),
        strings(&["GenServer.start_link/3", "Shop.Cache.init/1"])
    );
    // Piped, the server is the value piped in, named by no module: the module's own, as
    // a pid is (PromEx's `name() |> GenServer.cast(:refresh_metrics)`).
    assert_eq!(
        calls_of("Shop.Pool.ask/1"),
        strings(&["GenServer.call/2", "Shop.Pool.handle_call/3"])
    );
    // A client function whose name starts with `handle_` is still a client function.
    assert_eq!(
        calls_of("Shop.Pool.handle_request/1"),
        strings(&["GenServer.cast/2", "Shop.Pool.handle_cast/2"])
    );
    // A server's callback calls other servers: a pid it holds is not itself, and a
    // module under `__MODULE__` is named.
    assert_eq!(
        calls_of("Shop.Pool.handle_call/3"),
        strings(&["GenServer.call/2"])
    );
    assert_eq!(
        calls_of("Shop.Pool.handle_cast/2"),
        strings(&["GenServer.cast/2", "Shop.Pool.Registry.handle_cast/2"])
    );
    // A name the module's own start registers (`name: ShopCache`) is the module itself,
    // not a module `ShopCache` (Kaffy's cache client).
    assert_eq!(
        calls_of("Shop.Named.add/1"),
        strings(&["GenServer.call/2", "Shop.Named.handle_call/3"])
    );
    // GenStage's messages run its server callbacks; a GenStateMachine's its events.
    assert_eq!(
        calls_of("Shop.Stage.status/1"),
        strings(&["GenStage.call/2", "Shop.Stage.handle_call/3"])
    );
    assert_eq!(
        calls_of("Shop.Stage.mark/1"),
        strings(&["GenStage.async_info/2", "Shop.Stage.handle_info/2"])
    );
    assert_eq!(
        calls_of("Shop.Stage.flush/1"),
        strings(&["GenStateMachine.call/2", "Shop.Stage.handle_event/4"])
    );
    // A module without the callback sends to another process: no callback of its own.
    assert_eq!(
        calls_of("Shop.Client.ask/1"),
        strings(&["GenServer.call/2"])
    );
    assert_eq!(calls_of("Shop.Client.ping/1"), Vec::<String>::new());
    assert_eq!(
        calls_of("Shop.Client.later/1"),
        strings(&["Process.send_after/3"])
    );
    assert_eq!(
        calls_of("Shop.Client.timer/1"),
        strings(&[":erlang.start_timer/3"])
    );
    // A LiveView's `start_async(socket, :load, fun)` runs its own `handle_async/3` when
    // the task ends (phoenix_test's `AsyncPageLive`).
    assert_eq!(
        calls_of("Shop.Live.mount/3"),
        strings(&["Shop.Live.handle_async/3"])
    );
    assert_eq!(
        calls_of("Shop.Live.reload/1"),
        strings(&["Shop.Live.handle_async/3"])
    );
    // No clause takes `:other`.
    assert_eq!(calls_of("Shop.Live.other/1"), Vec::<String>::new());
}

/// A Phoenix route calls what a request to it runs, named under its `scope`'s alias:
/// `get "/", PageController, :home` calls `MyAppWeb.PageController.home/2`, `live` the
/// LiveView's `mount/3`, `forward` the plug's `init/1` and `call/2`, and `resources` the actions
/// `only:` and `except:` leave (hexpm's and Livebook's routers). A module the route writes
/// is expanded through the router's aliases before the scope's alias is put before it,
/// as Phoenix does (nerves_hub_web's `alias Live.Orgs.Index` and `live "/orgs", Index`);
/// a route with plug options calls the plug, and so does a module in `pipe_through`.
#[test]
fn g19_routes_call_their_controller_actions() {
    let src = concat!(
        "defmodule ShopWeb.Router do\n",
        "  use ShopWeb, :router\n",
        "  alias Live.Orgs.Index\n",
        "  pipeline :browser do\n",
        "    plug :accepts, [\"html\"]\n",
        "  end\n",
        "  scope \"/\", ShopWeb do\n",
        "    pipe_through [:browser, Plugs.Auth]\n",
        "    get \"/\", PageController, :home\n",
        "    live \"/orgs\", Index\n",
        "    get \"/docs\", Plugs.Redirect, to: \"/api/docs\"\n",
        "    get \"/openapi\", OpenApiSpec, []\n",
        "    live \"/cart\", CartLive.Index, :index\n",
        "    resources \"/orders\", OrderController, only: [:index, :show]\n",
        "    scope \"/admin\", Admin, as: :admin do\n",
        "      post \"/refund/:id\", RefundController, :create, as: :refund\n",
        "      resources \"/users\", UserController, except: [:new, :edit, :delete]\n",
        "    end\n",
        "    match :*, \"/legacy\", LegacyController, :redirect\n",
        "  end\n",
        "  scope \"/api\" do\n",
        "    forward \"/graphql\", Absinthe.Plug\n",
        "  end\n",
        "  get \"/health\", ShopWeb.HealthController, :check\n",
        "end\n",
        "defmodule Shop.Api do\n",
        "  use Plug.Router\n",
        "  forward \"/users\", to: Shop.Api.Users\n",
        "  get \"/ping\", to: Shop.Api.Ping, init_opts: [pong: true]\n",
        "  forward \"/none\", to: :nothing\n",
        "  match(_,\n",
        "    to: Shop.Api.Fallback,\n",
        "    init_opts: []\n",
        "  )\n",
        "end\n",
        "defmodule ShopWeb.AdminRouter do\n",
        "  use Phoenix.Router\n",
        "  scope \"/admin\" do\n",
        "    import Shop.Admin.Router\n",
        "    shop_admin(\"/\")\n",
        "  end\n",
        "end\n",
        "defmodule ShopWeb.PageControllerTest do\n",
        "  use ShopWeb.ConnCase\n",
        "  test \"home\", %{conn: conn} do\n",
        "    assert html_response(get(conn, \"/\"), 200)\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("lib/shop_web/router.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let routed: Vec<String> = (cs.iter())
        .filter(|c| c.module == "ShopWeb.Router")
        .flat_map(|c| c.calls.iter().chain(&c.module_calls).cloned())
        .filter(|c| !c.starts_with("ShopWeb.__using__") && !c.starts_with("ShopWeb.router"))
        .collect();
    assert_eq!(
        routed,
        strings(&[
            "Plugs.Auth.init/1",
            "Plugs.Auth.call/2",
            "ShopWeb.PageController.home/2",
            "ShopWeb.Live.Orgs.Index.mount/3",
            "ShopWeb.Plugs.Redirect.init/1",
            "ShopWeb.Plugs.Redirect.call/2",
            "ShopWeb.OpenApiSpec.init/1",
            "ShopWeb.OpenApiSpec.call/2",
            "ShopWeb.CartLive.Index.mount/3",
            "ShopWeb.OrderController.index/2",
            "ShopWeb.OrderController.show/2",
            "ShopWeb.Admin.RefundController.create/2",
            "ShopWeb.Admin.UserController.index/2",
            "ShopWeb.Admin.UserController.show/2",
            "ShopWeb.Admin.UserController.create/2",
            "ShopWeb.Admin.UserController.update/2",
            "ShopWeb.LegacyController.redirect/2",
            "Absinthe.Plug.init/1",
            "Absinthe.Plug.call/2",
            "ShopWeb.HealthController.check/2",
        ]),
        "{}",
        dump(&cs)
    );
    // Plug.Router's `to:` names the plug a route runs.
    let plugged: Vec<String> = (cs.iter())
        .filter(|c| c.module == "Shop.Api")
        .flat_map(|c| c.calls.iter().chain(&c.module_calls).cloned())
        .filter(|c| c.starts_with("Shop.Api."))
        .collect();
    assert_eq!(
        plugged,
        strings(&[
            "Shop.Api.Users.init/1",
            "Shop.Api.Users.call/2",
            "Shop.Api.Ping.init/1",
            "Shop.Api.Ping.call/2",
            "Shop.Api.Fallback.init/1",
            "Shop.Api.Fallback.call/2",
        ]),
        "{}",
        dump(&cs)
    );
    // An import in a `scope` block reaches the calls after it in that block (AshAdmin's
    // `scope "/" do import AshAdmin.Router; ash_admin("/admin") end`).
    let admin: Vec<(Vec<String>, Vec<String>)> = (cs.iter())
        .filter(|c| c.module == "ShopWeb.AdminRouter")
        .flat_map(|c| &c.defines)
        .flat_map(|d| &d.scoped_calls)
        .map(|s| (s.imports.clone(), s.calls.clone()))
        .collect();
    assert_eq!(
        admin,
        [(strings(&["Shop.Admin.Router"]), strings(&["shop_admin/1"]))],
        "{}",
        dump(&cs)
    );
    // A test's `get(conn, "/")` is a request, not a route.
    let test = (cs.iter())
        .find(|c| c.module == "ShopWeb.PageControllerTest" && c.kind == ChunkKind::Test)
        .expect("the test's chunk");
    assert!(
        !test.calls.iter().any(|c| c.ends_with("home/2")),
        "{:?}",
        test.calls
    );
}

/// A plug pipeline calls what it names on each request: `plug :name` (with options, or
/// `when` a guard holds) a function of the module's or one it imports, `plug Mod` the
/// module's `init/1` and `call/2`, `pipe_through` each pipeline it lists. Those without a
/// module are listed again in `plugged_calls` (hexpm's and Livebook's controllers).
#[test]
fn g19_plugs_call_what_they_name() {
    let src = concat!(
        "defmodule ShopWeb.Router do\n",                           // 1
        "  use Phoenix.Router\n",                                  // 2
        "  pipeline :browser do\n",                                // 3
        "    plug :accepts, [\"html\"]\n",                         // 4
        "    plug :fetch_current_user\n",                          // 5
        "  end\n",                                                 // 6
        "  scope \"/\", ShopWeb do\n",                             // 7
        "    pipe_through [:browser, :auth]\n",                    // 8
        "    get \"/\", PageController, :home\n",                  // 9
        "  end\n",                                                 // 10
        "end\n",                                                   // 11
        "defmodule ShopWeb.PageController do\n",                   // 12
        "  use ShopWeb, :controller\n",                            // 13
        "  alias ShopWeb.Plugs\n",                                 // 14
        "  plug :require_user when action in [:edit]\n",           // 15
        "  plug :put_layout, [html: false] when action in [:x]\n", // 16
        "  plug Plugs.Locale, default: \"en\"\n",                  // 17
        "  def home(conn, _params), do: conn\n",                   // 18
        "  plug :late\n",                                          // 19
        "  def edit(conn, _), do: conn\n",                         // 20
        "  defp require_user(conn, _opts), do: conn\n",            // 21
        "  defp late(conn, _opts), do: conn\n",                    // 22
        "end\n",                                                   // 23
    );
    let cs = chunks("lib/shop_web/router.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let router = &cs[0];
    assert_eq!(router.module, "ShopWeb.Router", "{}", dump(&cs));
    assert_eq!(
        router.plugged_calls,
        strings(&["accepts/2", "fetch_current_user/2", "browser/2", "auth/2"])
    );
    // Apart from the module's other calls without a module: `plug/2` and `accepts/2`
    // is the `plug` macro's call (a Plug.Router's `plug :match` is not its `match _ do`).
    assert_eq!(
        router.unqualified_calls,
        strings(&[
            "pipeline/2",
            "plug/2",
            "plug/1",
            "scope/3",
            "pipe_through/1",
            "get/3"
        ])
    );
    let header = (cs.iter())
        .find(|c| c.module == "ShopWeb.PageController" && c.kind == ChunkKind::ModuleHeader)
        .expect("the controller's header");
    assert_eq!(
        header.calls,
        strings(&[
            "ShopWeb.__using__/1",
            "ShopWeb.controller/0",
            "ShopWeb.PageController.require_user/2",
            "ShopWeb.Plugs.Locale.init/1",
            "ShopWeb.Plugs.Locale.call/2",
        ]),
        "{}",
        dump(&cs)
    );
    // Defined in the module: a call with its module, not one for the graph to resolve.
    assert_eq!(header.plugged_calls, strings(&["put_layout/2"]));
    // A plug between two functions is the module's, not the function's.
    let home = (cs.iter())
        .find(|c| c.module == "ShopWeb.PageController" && c.name == "home")
        .expect("home");
    assert_eq!(
        home.module_calls,
        strings(&["ShopWeb.PageController.late/2"])
    );
    assert!(home.plugged_calls.is_empty(), "{:?}", home.plugged_calls);
}

/// A LiveView hook runs on each mount: `on_mount Mod` (or `{Mod, arg}`) in a LiveView,
/// and each hook of a router's `live_session :name, on_mount: [...]`, calls
/// `Mod.on_mount/4`, named through the module's aliases (Livebook's and hexpm's).
#[test]
fn g19_live_view_hooks_call_on_mount() {
    let src = concat!(
        "defmodule ShopWeb.Router do\n",
        "  use Phoenix.Router\n",
        "  alias ShopWeb.Hooks\n",
        "  live_session :default,\n",
        "    on_mount: [{ShopWeb.InitAssigns, :default}, Hooks.Reload, :not_a_module] do\n",
        "    live \"/\", ShopWeb.HomeLive, :index\n",
        "  end\n",
        "  live_session :listed, [on_mount: Hooks.Listed] do\n",
        "  end\n",
        "  live_session :plain do\n",
        "    live \"/about\", ShopWeb.AboutLive, :index\n",
        "  end\n",
        "end\n",
        "defmodule ShopWeb.HomeLive do\n",
        "  use Phoenix.LiveView\n",
        "  on_mount ShopWeb.SidebarHook\n",
        "  on_mount {ShopWeb.UserAuth, :ensure_authenticated}\n",
        "  def mount(_params, _session, socket), do: {:ok, socket}\n",
        "end\n",
        "defmodule ShopWeb.SidebarHook do\n",
        "  def on_mount(:default, _params, _session, socket), do: {:cont, socket}\n",
        "end\n",
    );
    let cs = chunks("lib/shop_web/router.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let header = |module: &str| {
        (cs.iter())
            .find(|c| c.module == module && c.kind == ChunkKind::ModuleHeader)
            .unwrap_or_else(|| panic!("no header of {module}:\n{}", dump(&cs)))
    };
    assert_eq!(
        header("ShopWeb.Router").calls,
        strings(&[
            "Phoenix.Router.__using__/1",
            "ShopWeb.InitAssigns.on_mount/4",
            "ShopWeb.Hooks.Reload.on_mount/4",
            "ShopWeb.HomeLive.mount/3",
            "ShopWeb.Hooks.Listed.on_mount/4",
            "ShopWeb.AboutLive.mount/3",
        ]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        header("ShopWeb.HomeLive").calls,
        strings(&[
            "Phoenix.LiveView.__using__/1",
            "ShopWeb.SidebarHook.on_mount/4",
            "ShopWeb.UserAuth.on_mount/4",
        ])
    );
    // The hook's own definition is no call.
    assert!(
        !(cs.iter())
            .filter(|c| c.module == "ShopWeb.SidebarHook")
            .any(|c| c.calls.iter().any(|k| k.contains("on_mount"))),
        "{}",
        dump(&cs)
    );
}

/// A HEEx template (`~H`) renders function components, each a call with the assigns:
/// `<.header>` calls the module's `header/1` (or an imported one), `<Components.card>`
/// calls `ShopWeb.Components.card/1` through the module's alias. HTML tags, slots
/// (`<:footer>`), closing tags and a `<` in an expression are no calls (Livebook's
/// LiveViews render its components this way nearly two thousand times).
#[test]
fn g19_a_heex_template_calls_the_components_it_renders() {
    let src = concat!(
        "defmodule ShopWeb.CartLive do\n",
        "  use Phoenix.LiveView\n",
        "  alias ShopWeb.Components\n",
        "  def render(assigns) do\n",
        "    ~H\"\"\"\n",
        "    <.header>Cart</.header>\n",
        "    <Components.card title={@title}>\n",
        "      <:footer><.button phx-click=\"buy\">Buy</.button></:footer>\n",
        "    </Components.card>\n",
        "    <div class=\"x\"><ShopWeb.Icons.cart_icon /></div>\n",
        "    <%= if @count < 3 do %>few<% end %>\n",
        "    <Phoenix.Component.link navigate=\"/\">Home</Phoenix.Component.link>\n",
        "    <ShopWeb.Icons />\n",
        "    <%!-- <.old_header /> --%><!-- <.html_comment /> -->\n",
        "    <p>{@n<Limits.max(@a, @b)} i<Config.size</p>\n",
        "    \"\"\"\n",
        "  end\n",
        "  defp header(assigns), do: ~H\"<h1>{render_slot(@inner_block)}</h1>\"\n",
        "  def note(assigns), do: ~S\"<.not_heex />\"\n",
        "  def escaped(assigns), do: ~H\"<.three/>\\\"<.four/>\"\n",
        "end\n",
    );
    let cs = chunks("lib/shop_web/live/cart_live.ex", src);
    assert_tiles(&cs, src.as_bytes());
    assert_eq!(
        definition_calls(&cs, "ShopWeb.CartLive.render/1"),
        strings(&[
            "ShopWeb.CartLive.header/1",
            "ShopWeb.Components.card/1",
            "ShopWeb.Icons.cart_icon/1",
            "Phoenix.Component.link/1",
            "Limits.max/2",
        ]),
        "{}",
        dump(&cs)
    );
    let render = (cs.iter()).find(|c| c.name == "render").expect("render");
    // `phx-click="buy"` runs a `handle_event/3` the module does not write here.
    assert_eq!(
        render.unqualified_calls,
        strings(&["button/1", "handle_event/3"])
    );
    assert_eq!(
        definition_calls(&cs, "ShopWeb.CartLive.header/1"),
        strings(&[])
    );
    assert_eq!(
        definition_calls(&cs, "ShopWeb.CartLive.note/1"),
        strings(&[])
    );
    // An escaped delimiter splits the sigil's content, not its tags.
    let escaped = (cs.iter().flat_map(|c| &c.defines))
        .find(|d| d.name == "escaped")
        .expect("escaped/1");
    assert_eq!(escaped.unqualified_calls, strings(&["three/1", "four/1"]));
}

/// A `.heex` template file is text, and its chunks carry the components it renders
/// (`<Mod.name>` as written, `<.name>` without a module, for the graph to resolve through
/// the module that embeds it); `embed_templates` is recorded on the module's header with
/// its pattern from the repository's root (`root:` and `..` applied, `suffix:` kept).
#[test]
fn g19_embedded_templates_and_the_components_they_render() {
    let src = concat!(
        "defmodule ShopWeb.PageHTML do\n",
        "  use ShopWeb, :html\n",
        "  embed_templates \"page_html/*\"\n",
        "  embed_templates \"*\", root: \"../emails\", suffix: \"_email\"\n",
        "  embed_templates \"#{@dir}/*\"\n",
        "end\n",
    );
    let cs = chunks("lib/shop_web/controllers/page_html.ex", src);
    let header = &cs[0].defines[0];
    let patterns: Vec<(&str, &str, u32)> = (header.embedded_templates.iter())
        .map(|e| (e.pattern.as_str(), e.suffix.as_str(), e.line))
        .collect();
    assert_eq!(
        patterns,
        [
            ("lib/shop_web/controllers/page_html/*", "", 3),
            ("lib/shop_web/emails/*", "_email", 4),
            // A module that `use`s something and writes no `render/1` may be a LiveView
            // embedding templates too: its colocated one is looked up (by name, at
            // the `defmodule` line).
            ("lib/shop_web/controllers/page_html", "", 1),
        ]
    );
    let page = &header.embedded_templates[0];
    let matcher = page.matcher().expect("a glob");
    for (path, function) in [
        (
            "lib/shop_web/controllers/page_html/home.html.heex",
            Some("home"),
        ),
        ("lib/shop_web/controllers/page_html/home.heex", Some("home")),
        (
            "lib/shop_web/controllers/page_html/deep/home.html.heex",
            None,
        ),
        ("lib/shop_web/controllers/page_html/home.html.eex", None),
        ("lib/shop_web/controllers/other/home.html.heex", None),
    ] {
        assert_eq!(
            page.function_for(&matcher, path).as_deref(),
            function,
            "{path}"
        );
    }

    let html = "<main>\n  <.header>Hi</.header>\n  <ShopWeb.Icons.logo />\n  <:slot />\n</main>\n";
    let cs = chunks("lib/shop_web/controllers/page_html/home.html.heex", html);
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0].kind, ChunkKind::Text);
    assert_eq!(cs[0].calls, strings(&["ShopWeb.Icons.logo/1"]));
    assert_eq!(cs[0].unqualified_calls, strings(&["header/1"]));
    // Other text is not read for components.
    let cs = chunks("README.md", html);
    assert!(cs[0].calls.is_empty() && cs[0].unqualified_calls.is_empty());
}

/// A `Phoenix.View` module renders the templates of its directory under `templates/`:
/// `ShopWeb.Admin.UserView` in `views/admin/user_view.ex` those of
/// `templates/admin/user/`, each a clause of its `render/2`. The module's segments are
/// underscored as Phoenix does (`OAuthView`: `o_auth`); a module that uses nothing, or
/// whose name and file disagree, renders none.
#[test]
fn g19_a_phoenix_view_renders_the_templates_of_its_directory() {
    let view = |path: &str, src: &str| -> Vec<(String, bool)> {
        let cs = chunks(path, src);
        (cs[0].defines[0].embedded_templates.iter())
            .filter(|e| e.of != TemplatesOf::Colocated)
            .map(|e| (e.pattern.clone(), e.of == TemplatesOf::View))
            .collect()
    };
    assert_eq!(
        view(
            "lib/shop_web/views/admin/user_view.ex",
            "defmodule ShopWeb.Admin.UserView do\n  use ShopWeb, :view\nend\n"
        ),
        [("lib/shop_web/templates/admin/user/*".to_string(), true)]
    );
    assert_eq!(
        view(
            "lib/shop_web/views/oauth_view.ex",
            "defmodule ShopWeb.OAuthView do\n  use ShopWeb, :view\nend\n"
        ),
        [("lib/shop_web/templates/o_auth/*".to_string(), true)]
    );
    for (path, src) in [
        (
            "lib/shop_web/views/page_view.ex",
            "defmodule ShopWeb.PageView do\n  def title, do: 1\nend\n",
        ),
        (
            "lib/shop_web/views/page_view.ex",
            "defmodule ShopWeb.OtherView do\n  use ShopWeb, :view\nend\n",
        ),
        (
            "lib/shop_web/views/helpers.ex",
            "defmodule ShopWeb.HelpersView do\n  use ShopWeb, :view\nend\n",
        ),
        (
            "lib/shop_web/views/view.ex",
            "defmodule View do\n  use ShopWeb, :view\nend\n",
        ),
    ] {
        assert_eq!(view(path, src), [], "{path}: {src}");
    }
    let cs = chunks(
        "lib/shop_web/views/page_view.ex",
        "defmodule ShopWeb.PageView do\n  use ShopWeb, :view\nend\n",
    );
    let templates = &cs[0].defines[0].embedded_templates[0];
    let matcher = templates.matcher().expect("a glob");
    for (path, function) in [
        ("lib/shop_web/templates/page/index.html.eex", Some("render")),
        ("lib/shop_web/templates/page/show.html.heex", Some("render")),
        ("lib/shop_web/templates/page/live.html.leex", Some("render")),
        ("lib/shop_web/templates/page/deep/index.html.eex", None),
        ("lib/shop_web/templates/page/notes.md", None),
    ] {
        assert_eq!(
            templates.function_for(&matcher, path).as_deref(),
            function,
            "{path}"
        );
    }
    assert_eq!(templates.arity(), 2);
}

/// A LiveView (or LiveComponent) that writes no `render/1` renders the template named
/// after its last segment in its file's directory, as LiveView looks for it:
/// `ShopWeb.CartLive` in `live/cart_live.ex` renders `live/cart_live.html.heex`.
#[test]
fn g19_a_live_view_without_render_renders_the_template_beside_it() {
    let colocated = |src: &str| -> Vec<(String, TemplatesOf)> {
        let cs = chunks("lib/shop_web/live/cart_live.ex", src);
        (cs[0].defines[0].embedded_templates.iter())
            .map(|e| (e.pattern.clone(), e.of))
            .collect()
    };
    assert_eq!(
        colocated("defmodule ShopWeb.CartLive do\n  use ShopWeb, :live_view\nend\n"),
        [(
            "lib/shop_web/live/cart_live".to_string(),
            TemplatesOf::Colocated
        )]
    );
    // Named after the module's last segment, not the file (as LiveView looks for it).
    let cs = chunks(
        "lib/shop_web/live/shop.ex",
        "defmodule ShopWeb.ShopLive do\n  use ShopWeb, :live_view\nend\n",
    );
    assert_eq!(
        cs[0].defines[0].embedded_templates[0].pattern,
        "lib/shop_web/live/shop_live"
    );
    let renders = "defmodule ShopWeb.CartLive do\n  use ShopWeb, :live_view\n  def render(assigns), do: ~H\"<p/>\"\nend\n";
    assert_eq!(colocated(renders), []);
    assert_eq!(
        colocated("defmodule ShopWeb.Cart do\n  def f, do: 1\nend\n"),
        []
    );
}

/// The Elixir code of a template calls what it names: EEx tags (`<%= … %>`, a block
/// opened in one tag and closed in another), HEEx attribute values and interpolations
/// (`class={…}`, `:for={…}`, `{…}`, a `<script>`'s attributes), through the module's
/// aliases in a `~H`. `<%# … %>`, `<%!-- … --%>`, the escaped `<%%`, text, quoted
/// attribute values and the braces of HTML comments, `<script>` and `<style>` bodies and
/// `phx-no-curly-interpolation` tags are not code; EEx in an HTML comment is. In `.heex`
/// and `.eex` files the calls sit on the text chunk that holds them.
#[test]
fn g19_the_code_of_a_template_calls_what_it_names() {
    let src = concat!(
        "defmodule ShopWeb.ItemLive do\n",
        "  use Phoenix.LiveView\n",
        "  alias ShopWeb.Theme\n",
        "  def render(assigns) do\n",
        "    ~H\"\"\"\n",
        "    <div class={Theme.classes(@kind)} :for={p <- visible(@posts)}>\n",
        "      <%= if allowed?(@user) do %><b><%= format_price(@item) %></b><% end %>\n",
        "      {label(\"x\") <> Money.format(@total)}\n",
        "      <%!-- {hidden(@x)} --%><!-- {commented(@x)} <%= still_run(@x) %> --><%# secret(@x) %><%% literal(@x) %>\n",
        "      <script src={asset_path(@conn)}>var x = {a: js_call()};</script><style nonce={nonce(@conn)}>p { color: red(1) }</style>\n",
        "      <p>text(1) and @user.name</p>\n",
        "      <div x-data=\"{ open: false, toggle() { flip(this) } }\" title='{ quoted(1) }'>{~s(Bob's)}</div>\n",
        "      <code phx-no-curly-interpolation>function f() { bar(1) }</code>\n",
        "      <.table><:col :let={u} label={col_label(u)}>x</:col></.table>\n",
        "    </div>\n",
        "    \"\"\"\n",
        "  end\n",
        "  defp visible(posts), do: posts\n",
        "end\n",
    );
    let cs = chunks("lib/shop_web/live/item_live.ex", src);
    assert_eq!(
        definition_calls(&cs, "ShopWeb.ItemLive.render/1"),
        strings(&[
            "ShopWeb.Theme.classes/1",
            "ShopWeb.ItemLive.visible/1",
            "Money.format/1",
        ]),
        "{}",
        dump(&cs)
    );
    let render = (cs.iter()).find(|c| c.name == "render").expect("render");
    assert_eq!(
        render.unqualified_calls,
        strings(&[
            "allowed?/1",
            "format_price/1",
            "label/1",
            "still_run/1",
            "asset_path/1",
            "nonce/1",
            "table/1",
            "col_label/1",
        ])
    );

    let html = concat!(
        "<.header title={page_title(@conn)} />\n",
        "<%= for item <- Cart.items(@cart) do %>\n",
        "  <li>{price(item)}</li>\n",
        "<% end %>\n",
    );
    let cs = chunks("lib/shop_web/controllers/page_html/cart.html.heex", html);
    assert_eq!(cs[0].calls, strings(&["Cart.items/1"]));
    assert_eq!(
        cs[0].unqualified_calls,
        strings(&["header/1", "page_title/1", "price/1"])
    );
    let eex = "<p>{not_code(1)}</p>\n<%= link_to(@user) %> <%= Routes.user_path(@conn, :show) %>\n";
    let cs = chunks("lib/shop_web/templates/user/show.html.eex", eex);
    assert_eq!(cs[0].calls, strings(&["Routes.user_path/2"]));
    assert_eq!(cs[0].unqualified_calls, strings(&["link_to/1"]));
    // A brace that never closes is text; what follows it is still read.
    let cs = chunks(
        "lib/a.html.heex",
        "<input placeholder=\"Type { to start\" /><p>{oops(1)</p>\n<%= late(1) %>{later(2)}\n",
    );
    assert_eq!(
        cs[0].unqualified_calls,
        strings(&["late/1", "later/1"]),
        "{}",
        dump(&cs)
    );
    // EEx runs in an HTML comment of an `.eex` file too.
    let cs = chunks(
        "lib/a.html.eex",
        "<!-- <%= render \"sidebar.html\", conn: @conn %> -->\n",
    );
    assert_eq!(cs[0].unqualified_calls, strings(&["render/2"]));
}

/// A struct, built or matched (`%Mod{}`, `%Mod{s | a: 1}`, `struct(Mod, kw)`), calls
/// `Mod.__struct__/0`, which `defstruct`, `defexception` and an Ecto `schema` or
/// `embedded_schema` block define at their line, marked implied (not another DSL's
/// `schema do`, which names no source). A struct whose module is a variable (`%mod{}`,
/// `%_{}`) names no module; a plain map calls nothing.
#[test]
fn g19_structs_call_the_struct_they_build() {
    let src = concat!(
        "defmodule Shop.Product do\n",                 // 1
        "  defstruct [:sku, price: 0]\n",              // 2
        "  def new(sku), do: %__MODULE__{sku: sku}\n", // 3
        "end\n",                                       // 4
        "defmodule Shop.Order do\n",                   // 5
        "  use Ecto.Schema\n",                         // 6
        "  alias Shop.Product\n",                      // 7
        "  schema \"orders\" do\n",                    // 8
        "    field :total, :integer\n",                // 9
        "  end\n",                                     // 10
        "  def total(%Product{price: p} = product, %mod{}, %_{}), do: {p, mod}\n", // 11
        "  def reprice(p, x), do: %Product{p | price: x}\n", // 12
        "  def build(kw), do: {struct(Product, kw), struct!(Shop.Order, kw), %{a: 1}}\n", // 13
        "end\n",                                       // 14
        "defmodule Shop.Line do\n",                    // 15
        "  use Ecto.Schema\n",                         // 16
        "  embedded_schema do\n",                      // 17
        "    field :qty, :integer\n",                  // 18
        "  end\n",                                     // 19
        "end\n",                                       // 20
        "defmodule Shop.Tag do\n",                     // 21
        "  defstruct [\n    :name,\n    weight: 1\n  ]\n", // 22-25
        "end\n",                                       // 26
        "defmodule Shop.Note do\n",                    // 27
        "  defstruct [\n    # what was said\n    :text\n  ]\n", // 28-31
        "end\n",                                       // 32
        "defmodule Shop.Contract do\n",                // 33
        "  schema do\n",                               // 34
        "    %{name: :string}\n",                      // 35
        "  end\n",                                     // 36
        "end\n",                                       // 37
        "defmodule Shop.Setting do\n",                 // 38
        "  use Ecto.Schema\n",                         // 39
        "  schema(\"settings\", do: field(:tz, :string))\n", // 40
        "  def fields, do: __MODULE__.__schema__(:fields)\n", // 41
        "end\n",                                       // 42
        "defmodule Shop.Typed do\n",                   // 43
        "  use TypedEctoSchema\n",                     // 44
        "  typed_schema \"typed\" do\n",               // 45
        "    field :n, :integer\n",                    // 46
        "  end\n",                                     // 47
        "end\n",                                       // 48
        "defmodule Shop.TypedLine do\n",               // 49
        "  use TypedEctoSchema\n",                     // 50
        "  typed_embedded_schema do\n",                // 51
        "    field :n, :integer\n",                    // 52
        "  end\n",                                     // 53
        "end\n",                                       // 54
        "defmodule Shop.Point do\n",                   // 55
        "  use TypedStruct\n",                         // 56
        "  typedstruct enforce: true do\n",            // 57
        "    field :x, integer()\n",                   // 58
        "  end\n",                                     // 59
        "  typedstruct module: Pair do\n",             // 60
        "    field :a, term()\n",                      // 61
        "  end\n",                                     // 62
        "end\n",                                       // 63
    );
    let cs = chunks("lib/shop/order.ex", src);
    assert_tiles(&cs, src.as_bytes());
    assert_eq!(
        definition_calls(&cs, "Shop.Product.new/1"),
        strings(&["Shop.Product.__struct__/0"])
    );
    assert_eq!(
        definition_calls(&cs, "Shop.Order.total/3"),
        strings(&["Shop.Product.__struct__/0"])
    );
    assert_eq!(
        definition_calls(&cs, "Shop.Order.reprice/2"),
        strings(&["Shop.Product.__struct__/0"])
    );
    assert_eq!(
        definition_calls(&cs, "Shop.Order.build/1"),
        strings(&["Shop.Product.__struct__/0", "Shop.Order.__struct__/0"])
    );
    let implied: Vec<(String, u32, String)> = (cs.iter().flat_map(|c| &c.defines))
        .filter(|d| d.implied)
        .map(|d| (d.symbols().join(" "), d.line, d.signature.clone()))
        .collect();
    let each = |module: &str, funs: &[&str], line: u32, signature: &str| {
        (funs.iter())
            .map(|f| (format!("{module}.{f}"), line, signature.to_string()))
            .collect::<Vec<_>>()
    };
    let structs = ["__struct__/0", "__struct__/1"];
    // An Ecto schema's reflection as well: `__schema__/1` and `/2`, `__changeset__/0`.
    let schema = [
        "__struct__/0",
        "__struct__/1",
        "__schema__/1",
        "__schema__/2",
        "__changeset__/0",
    ];
    let expected: Vec<(String, u32, String)> = [
        each("Shop.Product", &structs, 2, "defstruct [:sku, price: 0]"),
        each("Shop.Order", &schema, 8, "schema \"orders\" do"),
        each("Shop.Line", &schema, 17, "embedded_schema do"),
        // Short enough to show whole; with a comment in it, its first line.
        each("Shop.Tag", &structs, 22, "defstruct [:name, weight: 1]"),
        each("Shop.Note", &structs, 28, "defstruct ["),
        // `schema` called with `do:` as a keyword.
        each(
            "Shop.Setting",
            &schema,
            40,
            "schema(\"settings\", do: field(:tz, :string))",
        ),
        // TypedEctoSchema's schemas are Ecto's; TypedStruct's `typedstruct` is a
        // `defstruct`, but with `module: Pair` another module's.
        each("Shop.Typed", &schema, 45, "typed_schema \"typed\" do"),
        each("Shop.TypedLine", &schema, 51, "typed_embedded_schema do"),
        each("Shop.Point", &structs, 57, "typedstruct enforce: true do"),
    ]
    .concat();
    assert_eq!(implied, expected);
    assert_eq!(
        definition_calls(&cs, "Shop.Setting.fields/0"),
        strings(&["Shop.Setting.__schema__/1"])
    );
    // A `schema` without a source is another DSL's: it implies nothing.
    assert!(
        !(cs.iter().flat_map(|c| &c.defines)).any(|d| d.module == "Shop.Contract" && d.implied)
    );
}

const ATTRIBUTE_MODULE: &str = r##"defmodule Supavisor.ClientHandlerTest do
  use ExUnit.Case
  alias Supavisor.Handlers
  @subject Supavisor.ClientHandler
  @handlers Handlers.Proxy
  @limit 10

  test "stops" do
    assert {:stop, :normal} == @subject.handle_event(:info, :x, nil, %{})
    @handlers.run(@limit)
    @limit.run()
    @missing.run(1)
  end

  @subject __MODULE__.Inner
  def later, do: @subject.go()
end
"##;

/// `@subject Mod` (an ExUnit idiom): calls through the attribute are that module's, from
/// where it is set; an attribute that names no module calls nothing.
#[test]
fn calls_through_a_module_attribute_are_the_modules() {
    let cs = chunks("test/supavisor/client_handler_test.exs", ATTRIBUTE_MODULE);
    let test = cs
        .iter()
        .find(|c| c.kind == ChunkKind::Test)
        .unwrap_or_else(|| panic!("a test: {}", dump(&cs)));
    assert_eq!(
        test.calls,
        strings(&[
            "Supavisor.ClientHandler.handle_event/4",
            "Supavisor.Handlers.Proxy.run/1"
        ]),
        "{}",
        dump(&cs)
    );
    // Listed among the test's aliases, so that its lines are read through it.
    assert!(
        test.aliases
            .contains(&"Supavisor.ClientHandler as @subject".to_string()),
        "{:?}",
        test.aliases
    );
    let later = cs
        .iter()
        .flat_map(|c| &c.defines)
        .find(|d| d.name == "later")
        .unwrap_or_else(|| panic!("later/0: {}", dump(&cs)));
    assert_eq!(
        later.calls,
        strings(&["Supavisor.ClientHandlerTest.Inner.go/0"])
    );
}

const CONFIGURED_MODULE: &str = r##"defmodule Appsignal.Ecto do
  alias Appsignal.Span
  @tracer Application.compile_env(:appsignal, :appsignal_tracer, Appsignal.Tracer)
  @span Application.get_env(:appsignal, :appsignal_span, Span)
  @monitor Application.get_env(:appsignal, :monitor) || Appsignal.Monitor
  @unknown Application.compile_env(:appsignal, :other)

  def handle_begin(time) do
    @tracer.create_span("http_request", nil, start_time: time)
    |> @span.set_name("query")
    @monitor.add()
    @unknown.run()
    Enum.each([1], &@span.set_attribute(&1, "k", "v"))
    Enum.map([1], &@monitor.remove/1)
  end
end

defimpl Enumerable, for: StreamData do
  def reduce(data, acc, fun), do: @for.__reduce__(data, acc, fun)
  def count(_data), do: {:error, @protocol}
  def member?(data, term), do: @protocol.member?(Enum.to_list(data), term)
end
"##;

/// A module attribute set to a configured module's default (`Application.compile_env(:app,
/// :key, Default)`, `get_env`, or `get_env(…) || Default`) calls the default's functions,
/// as AppSignal's integrations do through `@tracer`; one without a default calls nothing.
/// In a `defimpl`, `@for` is the type and `@protocol` the protocol.
#[test]
fn calls_through_a_configured_module_or_an_implementations_attributes() {
    let cs = chunks("lib/appsignal/ecto.ex", CONFIGURED_MODULE);
    assert_tiles(&cs, CONFIGURED_MODULE.as_bytes());
    assert_eq!(
        definition_calls(&cs, "Appsignal.Ecto.handle_begin/1"),
        strings(&[
            "Appsignal.Tracer.create_span/3",
            "Appsignal.Span.set_name/2",
            "Appsignal.Monitor.add/0",
            "Enum.each/2",
            "Appsignal.Span.set_attribute/3",
            "Enum.map/2",
            "Appsignal.Monitor.remove/1",
        ]),
        "{}",
        dump(&cs)
    );
    let begin = (cs.iter())
        .find(|c| c.name == "handle_begin")
        .unwrap_or_else(|| panic!("handle_begin/1: {}", dump(&cs)));
    assert!(
        begin
            .aliases
            .contains(&"Appsignal.Tracer as @tracer".to_string()),
        "{:?}",
        begin.aliases
    );
    assert_eq!(
        definition_calls(&cs, "Enumerable.StreamData.reduce/3"),
        strings(&["StreamData.__reduce__/3"])
    );
    assert_eq!(
        definition_calls(&cs, "Enumerable.StreamData.member?/2"),
        strings(&["Enumerable.member?/2", "Enum.to_list/1"])
    );
}

const UNQUOTED_SUBMODULE: &str = r##"defmodule Wallaby.Feature do
  defmacro __using__(_) do
    quote do
      setup context do
        metadata = unquote(__MODULE__).Utils.maybe_checkout_repos(context[:async])
        {:ok, session} = unquote(__MODULE__).Utils.start_session(metadata, [])
        session |> unquote(__MODULE__).Utils.build_setup_return()
      end
    end
  end
end
"##;

/// `unquote(__MODULE__).Utils.fun(…)` in a quote calls the quoting module's `Utils`, as
/// `unquote(__MODULE__).fun(…)` calls the quoting module.
#[test]
fn an_unquoted_module_with_a_submodule_is_the_quoting_modules() {
    let cs = chunks("lib/wallaby/feature.ex", UNQUOTED_SUBMODULE);
    assert_tiles(&cs, UNQUOTED_SUBMODULE.as_bytes());
    assert_eq!(
        definition_calls(&cs, "Wallaby.Feature.__using__/1"),
        strings(&[
            "Wallaby.Feature.Utils.maybe_checkout_repos/1",
            "Wallaby.Feature.Utils.start_session/2",
            "Wallaby.Feature.Utils.build_setup_return/1"
        ])
    );
}

const SCHEMA_AFTER_TYPES: &str = r##"defmodule Flop do
  use Ecto.Schema

  def new(params), do: params

  @typedoc "The query parameters."
  @type t :: %__MODULE__{after: String.t() | nil, first: pos_integer | nil}

  @primary_key false
  embedded_schema do
    field :after, :string
    field :before, :string
    field :first, :integer
    field :order_by, {:array, :string}
    embeds_many :filters, Filter
  end

  @doc "Adds clauses for filtering."
  def query(q, flop), do: {q, flop}
end
"##;

/// Module code after types (Flop's `embedded_schema do … end` after its `@type t`) is a
/// header part of its own, as it is after a function: not the head of the next
/// function's chunk, which still takes the `@doc` after it.
#[test]
fn a_schema_after_types_is_a_header_part() {
    let cs = chunks("lib/flop.ex", SCHEMA_AFTER_TYPES);
    assert_tiles(&cs, SCHEMA_AFTER_TYPES.as_bytes());
    let query = cs
        .iter()
        .find(|c| c.name == "query")
        .unwrap_or_else(|| panic!("query/2: {}", dump(&cs)));
    assert_eq!(
        (query.start_line, query.end_line),
        (17, 20),
        "{}",
        dump(&cs)
    );
    assert_eq!(query.doc.as_deref(), Some("Adds clauses for filtering."));
    let schema = cs
        .iter()
        .find(|c| c.kind == ChunkKind::ModuleHeader && c.start_line > 1)
        .unwrap_or_else(|| panic!("a header part: {}", dump(&cs)));
    assert_eq!(
        (schema.start_line, schema.end_line),
        (8, 16),
        "{}",
        dump(&cs)
    );
    let t = cs
        .iter()
        .find(|c| c.kind == ChunkKind::Type)
        .unwrap_or_else(|| panic!("t/0: {}", dump(&cs)));
    assert!(t.end_line <= 7, "{}", dump(&cs));
}

const BEHAVIOUR_UNDER_IF: &str = r##"defmodule Surface.Formatter.Plugin do
  if Version.match?(System.version(), ">= 1.13.0") do
    @behaviour Mix.Tasks.Format
  end

  def features(_opts), do: [sigils: [:F]]
end
"##;

/// A `@behaviour` under a module-level `if` (Surface's formatter plugin, for the Elixir
/// versions that have the behaviour) is the module's.
#[test]
fn a_behaviour_under_an_if_is_the_modules() {
    let cs = chunks("lib/surface/formatter/plugin.ex", BEHAVIOUR_UNDER_IF);
    assert_tiles(&cs, BEHAVIOUR_UNDER_IF.as_bytes());
    assert!(
        cs[0].tags.iter().any(|t| t == "behaviour:Mix.Tasks.Format"),
        "{}",
        dump(&cs)
    );
}

const MESSAGES_BY_TAG: &str = r##"defmodule NewRelic.Harvest.HarvestCycle do
  use GenServer

  def restart(cycle), do: GenServer.call(cycle, :restart)
  def send_harvest(harvester), do: GenServer.call(harvester, :send_harvest, 5_000)
  def lock(cycle, id), do: GenServer.cast(cycle, {:lock, id})
  def anything(cycle, msg), do: GenServer.call(cycle, msg)
  def tick, do: send(self(), :tick)
  def tock, do: Process.send_after(self(), :tock, 10)

  def handle_call(:restart, _from, state), do: {:reply, :ok, state}
  def handle_call(:pause, _from, state), do: {:reply, :ok, state}
  def handle_cast({:lock, _id} = msg, state), do: {:noreply, [msg | state]}
  def handle_info(:tick, state), do: {:noreply, state}
end

defmodule Catches.All do
  use GenServer
  def ping(pid), do: GenServer.call(pid, :ping)
  def handle_call(:pong, _from, state), do: {:reply, :ok, state}
  def handle_call(_msg, _from, state), do: {:reply, :ok, state}
end
"##;

/// A message to a pid held in a variable runs the module's own callback only where one
/// of its clauses takes the message's tag, or any message: `GenServer.call(harvester,
/// :send_harvest)` in a module whose `handle_call/3` takes `:restart` and `:pause`
/// messages another server (New Relic's harvest cycle).
#[test]
fn a_message_runs_the_modules_own_callback_where_a_clause_takes_it() {
    let cs = chunks("lib/new_relic/harvest/harvest_cycle.ex", MESSAGES_BY_TAG);
    assert_tiles(&cs, MESSAGES_BY_TAG.as_bytes());
    let m = "NewRelic.Harvest.HarvestCycle";
    let calls = |f: &str| definition_calls(&cs, &format!("{m}.{f}"));
    let own = |via: &str, callback: &str| strings(&[via, &format!("{m}.{callback}")]);
    assert_eq!(calls("restart/1"), own("GenServer.call/2", "handle_call/3"));
    assert_eq!(
        calls("send_harvest/1"),
        strings(&["GenServer.call/3"]),
        "{}",
        dump(&cs)
    );
    assert_eq!(calls("lock/2"), own("GenServer.cast/2", "handle_cast/2"));
    // A message not written so may be any.
    assert_eq!(
        calls("anything/2"),
        own("GenServer.call/2", "handle_call/3")
    );
    // A message the module sends itself is its own callback's, however written.
    assert_eq!(calls("tick/0"), strings(&[&format!("{m}.handle_info/2")]));
    assert_eq!(
        calls("tock/0"),
        own("Process.send_after/3", "handle_info/2")
    );
    assert_eq!(
        definition_calls(&cs, "Catches.All.ping/1"),
        strings(&["GenServer.call/2", "Catches.All.handle_call/3"])
    );
    // A match chain of any length as the message, or as a clause's pattern, is read
    // without recursion.
    let chain = "x = ".repeat(20_000);
    let deep = format!(
        "defmodule Deep do\n  def c(pid), do: GenServer.call(pid, {chain}:go)\n  def handle_call({chain}:go, _f, s), do: {{:reply, :ok, s}}\nend\n"
    );
    let cs = chunks("lib/deep.ex", &deep);
    assert!(
        definition_calls(&cs, "Deep.c/1").contains(&"Deep.handle_call/3".to_string()),
        "{}",
        dump(&cs)
    );
}

const LAYOUTS: &str = r##"defmodule PhxWeb.Router do
  use Phoenix.Router
  alias PhxWeb.Layouts

  pipeline :browser do
    plug :put_root_layout, html: {Layouts, :root}
  end

  def home(conn), do: put_layout(conn, html: {Layouts, :app})
  def old(conn), do: put_layout(conn, {PhxWeb.LayoutView, :app})
  def other(conn), do: render(conn, {Layouts, :not_a_layout})
end

defmodule PhxWeb do
  def live_view do
    quote do
      use Phoenix.LiveView, layout: {PhxWeb.Layouts, :app}
    end
  end
end
"##;

/// A layout Phoenix renders, named by its module and function, is a call of that
/// component (`{Layouts, :root}` of `root/1`); a tuple elsewhere is no call. A view's
/// `render_many(users, UserView, "user.json")` calls `UserView.render/2`.
#[test]
fn a_layout_named_by_module_and_function_calls_its_component() {
    let cs = chunks("lib/phx_web/router.ex", LAYOUTS);
    assert_tiles(&cs, LAYOUTS.as_bytes());
    let all: Vec<&String> = cs.iter().flat_map(|c| &c.calls).collect();
    assert!(
        all.contains(&&"PhxWeb.Layouts.root/1".to_string()),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        definition_calls(&cs, "PhxWeb.Router.home/1"),
        strings(&["PhxWeb.Layouts.app/1"])
    );
    assert!(
        !all.iter().any(|c| c.contains("not_a_layout")),
        "{}",
        dump(&cs)
    );
    // A `LayoutView` renders its layouts by its `render/2`.
    assert!(
        definition_calls(&cs, "PhxWeb.Router.old/1").is_empty(),
        "{}",
        dump(&cs)
    );
    let json = "defmodule PhxWeb.UserView do\n  alias PhxWeb.PetView\n  def render(\"index.json\", %{users: users}), do: %{data: render_many(users, __MODULE__, \"user.json\"), pet: render_one(users, PetView, \"pet.json\", as: :pet)}\n  def render(\"user.json\", %{user: u}), do: u\n  def other(x), do: render_many(x, x, \"a.json\")\nend\n";
    let views = chunks("lib/phx_web/views/user_view.ex", json);
    assert_eq!(
        definition_calls(&views, "PhxWeb.UserView.render/2"),
        strings(&["PhxWeb.UserView.render/2", "PhxWeb.PetView.render/2"]),
        "{}",
        dump(&views)
    );
    assert!(definition_calls(&views, "PhxWeb.UserView.other/1").is_empty());
    let live_view = (cs.iter().flat_map(|c| &c.defines))
        .find(|d| d.name == "live_view")
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert!(
        live_view
            .calls
            .contains(&"PhxWeb.Layouts.app/1".to_string()),
        "{:?}",
        live_view.calls
    );
}

const DIRECTIVES_LATE: &str = r##"defmodule Bypass do
  @moduledoc "A test server."
  @typedoc "A server."
  @type t :: %__MODULE__{pid: pid}

  import Bypass.Utils
  require Logger

  def open(opts \\ []), do: start(opts)
end

defmodule EctoExample.Count do
  use Ecto.Schema

  def all do
    EctoExample.Repo.all(__MODULE__)
  end

  schema "counts" do
    timestamps()
  end
end
"##;

/// `alias`, `import`, `require`, `use` and a struct's definition form the module's header
/// wherever they are written (CHUNKING.md): after its types or functions, however short,
/// they are a header part of their own, not the first lines of the function after them
/// (Bypass's `open/1`) nor the last of the one before (an Ecto schema after `all/0`).
#[test]
fn directives_and_structs_after_definitions_are_header_parts() {
    let cs = chunks("lib/bypass.ex", DIRECTIVES_LATE);
    assert_tiles(&cs, DIRECTIVES_LATE.as_bytes());
    let at = |module: &str, kind: ChunkKind, line: u32| {
        (cs.iter())
            .find(|c| {
                c.module == module && c.kind == kind && c.start_line <= line && line <= c.end_line
            })
            .unwrap_or_else(|| panic!("{module} {kind:?} at {line}: {}", dump(&cs)))
    };
    // From the blank line after the type to `require Logger`.
    let imports = at("Bypass", ChunkKind::ModuleHeader, 6);
    assert_eq!(
        (imports.start_line, imports.end_line),
        (5, 7),
        "{}",
        dump(&cs)
    );
    let open = at("Bypass", ChunkKind::Function, 9);
    assert_eq!(open.start_line, 8, "{}", dump(&cs));
    let all = at("EctoExample.Count", ChunkKind::Function, 15);
    assert_eq!(all.end_line, 17, "{}", dump(&cs));
    let schema = at("EctoExample.Count", ChunkKind::ModuleHeader, 19);
    assert_eq!(
        (schema.start_line, schema.end_line),
        (18, 22),
        "{}",
        dump(&cs)
    );
}

const MFA_FORMS: &str = r##"defmodule KafkaEx.API do
  def child_spec(opts) do
    name = opts[:name]
    %{start: {KafkaEx.Client, :start_link, [opts, name || :no_name]}}
  end

  def spread(args), do: apply(KafkaEx.Client, :open, [args | []])

  @schema [
    url: [type: {:custom, __MODULE__, :__validate_amqp_uri__, []}],
    pool: [type: {:custom, KafkaEx.Pool, :check, [:strict]}]
  ]
  def __validate_amqp_uri__(uri), do: {:ok, uri}
end
"##;

/// An MFA's argument list holding `||` has its length (`[opts, name || :none]` is two
/// arguments; `[x | rest]` has none known); NimbleOptions' `{:custom, Mod, :fun, args}`
/// calls `fun` with the option's value before `args`.
#[test]
fn mfa_arguments_with_an_or_and_nimble_options_validators_are_calls() {
    let cs = chunks("lib/kafka_ex/api.ex", MFA_FORMS);
    assert_tiles(&cs, MFA_FORMS.as_bytes());
    assert_eq!(
        definition_calls(&cs, "KafkaEx.API.child_spec/1"),
        strings(&["KafkaEx.Client.start_link/2"]),
        "{}",
        dump(&cs)
    );
    assert!(
        !(definition_calls(&cs, "KafkaEx.API.spread/1").iter())
            .any(|c| c.starts_with("KafkaEx.Client.open")),
        "{}",
        dump(&cs)
    );
    let all: Vec<&String> = (cs.iter())
        .flat_map(|c| c.calls.iter().chain(&c.module_calls))
        .collect();
    for call in [
        "KafkaEx.API.__validate_amqp_uri__/1",
        "KafkaEx.Pool.check/2",
    ] {
        assert!(all.contains(&&call.to_string()), "{call}: {}", dump(&cs));
    }
}

const DOC_INTERPOLATIONS: &str = r##"defmodule BroadwayRabbitMQ.Producer do
  @moduledoc """
  A producer. Call `Broadway.start_link(opts)` to start it.

  ## Options

  #{NimbleOptions.docs(BroadwayRabbitMQ.AmqpClient.__opts_schema__())}
  """

  @doc """
  Acks. See #{inspect(__MODULE__)} and `Other.call/1`.
  """
  def ack(x), do: x
end
"##;

/// A doc's interpolations run when the module compiles: their calls count (the only
/// caller of broadway_rabbitmq's `__opts_schema__/0` is a `@moduledoc`'s), the doc's
/// text does not.
#[test]
fn calls_in_a_docs_interpolations_count() {
    let cs = chunks("lib/broadway_rabbitmq/producer.ex", DOC_INTERPOLATIONS);
    assert_tiles(&cs, DOC_INTERPOLATIONS.as_bytes());
    let all: Vec<&String> = (cs.iter())
        .flat_map(|c| c.calls.iter().chain(&c.module_calls))
        .collect();
    for call in [
        "NimbleOptions.docs/1",
        "BroadwayRabbitMQ.AmqpClient.__opts_schema__/0",
    ] {
        assert!(all.contains(&&call.to_string()), "{call}: {}", dump(&cs));
    }
    for text in ["Broadway.start_link/1", "Other.call/1"] {
        assert!(!all.contains(&&text.to_string()), "{text}: {}", dump(&cs));
    }
}

const BEHAVIOUR_NESTED: &str = r##"defmodule Dialyxir.Examples.CallbackArgument do
  defmodule Behaviour do
    @callback ok(:ok) :: :ok
  end

  defmodule Deep.Er do
    @callback go() :: :ok
  end

  @behaviour Behaviour
  @behaviour Deep.Er

  @impl Behaviour
  def ok(:ok), do: :ok
end
"##;

/// A nested module is an alias in its parent from where it is defined: `@behaviour
/// Behaviour` after `defmodule Behaviour` names the nested module, and `Deep.Er` after
/// `defmodule Deep.Er` too (dialyxir's examples).
#[test]
fn a_behaviour_named_by_a_nested_modules_alias_is_that_module() {
    let cs = chunks("test/examples/callback_argument.ex", BEHAVIOUR_NESTED);
    assert_tiles(&cs, BEHAVIOUR_NESTED.as_bytes());
    let header = (cs.iter())
        .find(|c| {
            c.kind == ChunkKind::ModuleHeader && c.module == "Dialyxir.Examples.CallbackArgument"
        })
        .unwrap_or_else(|| panic!("the header: {}", dump(&cs)));
    for b in [
        "behaviour:Dialyxir.Examples.CallbackArgument.Behaviour",
        "behaviour:Dialyxir.Examples.CallbackArgument.Deep.Er",
    ] {
        assert!(header.tags.iter().any(|t| t == b), "{b}: {}", dump(&cs));
    }
    assert!(
        !header.tags.iter().any(|t| t == "behaviour:Behaviour"),
        "{}",
        dump(&cs)
    );
}

const QUOTED_PRIVATE_CALL: &str = r##"defmodule Guardian.Plug.Pipeline do
  defmacro __using__(opts \\ []) do
    quote do
      def init(options) do
        if !Keyword.get(options, :otp_app), do: raise_error(:otp_app)
        public_helper(options)
      end

      defp raise_error(key), do: raise("Config `#{key}` is missing")
    end
  end

  def public_helper(opts), do: opts

  defp raise_error(key), do: raise(ArgumentError, "no #{key}")
end
"##;

/// A call by name in a quoted definition is the using module's: not the quoting
/// module's private function of that name, which no other module can call (Guardian's
/// `raise_error/1`); its public one may be imported, and stays.
#[test]
fn a_quoted_call_is_not_the_quoting_modules_private_function() {
    let cs = chunks("lib/guardian/plug/pipeline.ex", QUOTED_PRIVATE_CALL);
    assert_tiles(&cs, QUOTED_PRIVATE_CALL.as_bytes());
    let calls = definition_calls(&cs, "Guardian.Plug.Pipeline.__using__/0");
    assert!(
        !calls.iter().any(|c| c.contains("raise_error")),
        "{calls:?}\n{}",
        dump(&cs)
    );
    assert!(
        calls.contains(&"Guardian.Plug.Pipeline.public_helper/1".to_string()),
        "{calls:?}"
    );
    let init = (cs.iter().flat_map(|c| &c.defines))
        .flat_map(|d| &d.quoted_defs)
        .find(|q| q.name == "init")
        .unwrap_or_else(|| panic!("init/1 quoted: {}", dump(&cs)));
    assert!(
        init.calls.contains(&"__MODULE__.raise_error/1".to_string()),
        "{:?}",
        init.calls
    );
}

const SURFACE_TEMPLATE: &str = r##"defmodule Surface.Components.Context do
  use Surface.Component
  alias Surface.Components.Link

  def render(assigns) do
    ~F"""
    <Link label="user" to="/users/1" />
    <Link.Button>x</Link.Button>
    <#Raw>{"<b>"}</#Raw>
    {render_slot(@default, context_map(@__context__, @put))}
    <.card title={title_of(@x)} />
    """
  end

  defp context_map(c, p), do: {c, p}
end
"##;

/// Surface's `~F` template calls what HEEx's does (its `{…}` code, its function
/// components), and renders its module components through their `render/1`.
#[test]
fn a_surface_template_renders_its_components_and_calls_its_code() {
    let cs = chunks("lib/surface/components/context.ex", SURFACE_TEMPLATE);
    assert_tiles(&cs, SURFACE_TEMPLATE.as_bytes());
    let render = (cs.iter().flat_map(|c| &c.defines))
        .find(|d| d.name == "render")
        .unwrap_or_else(|| panic!("render/1: {}", dump(&cs)));
    for call in [
        "Surface.Components.Link.render/1",
        "Surface.Components.Link.Button.render/1",
        "Surface.Components.Context.context_map/2",
    ] {
        assert!(
            render.calls.contains(&call.to_string()),
            "{call}: {:?}",
            render.calls
        );
    }
    for bare in ["render_slot/2", "card/1", "title_of/1"] {
        assert!(
            render.unqualified_calls.contains(&bare.to_string()),
            "{bare}: {:?}",
            render.unqualified_calls
        );
    }
    assert!(
        !render.calls.iter().any(|c| c.contains("Raw")),
        "{:?}",
        render.calls
    );
}

const TEMPLATE_ASSIGN_FIELDS: &str =
    "<h1>{@post.title}</h1>\n<p><%= @user.email %></p>\n<p>{format(@post.body)}</p>\n";

const SURFACE_COMMENT: &str = r##"defmodule Shop.Card do
  use Surface.Component

  def render(assigns) do
    ~F"""
    {!-- helper(x) <Old.Card /> --}
    <New.Card />
    """
  end
end
"##;

/// An assign's field in a template (`@post.title`) calls nothing; nor does a Surface
/// comment (`{!-- … --}`), its code or its components.
#[test]
fn assign_fields_and_surface_comments_call_nothing() {
    let cs = chunks("lib/shop_web/post.html.heex", TEMPLATE_ASSIGN_FIELDS);
    let calls: Vec<&String> = cs.iter().flat_map(|c| c.calls_in_text()).collect();
    assert_eq!(calls, vec!["format/1"], "{}", dump(&cs));
    let cs = chunks("lib/shop/card.ex", SURFACE_COMMENT);
    let render = (cs.iter().flat_map(|c| &c.defines))
        .find(|d| d.name == "render")
        .unwrap_or_else(|| panic!("render/1: {}", dump(&cs)));
    assert_eq!(render.calls, strings(&["New.Card.render/1"]));
    assert!(
        render.unqualified_calls.is_empty(),
        "{:?}",
        render.unqualified_calls
    );
}

/// Types and module code alternating thousands of times after a `@doc` (each code part
/// a header part of its own) chunk in one pass: no recursion per pair.
#[test]
fn thousands_of_types_and_code_parts_alternating_chunk() {
    let mut src = String::from("defmodule Alternating do\n  @doc \"waits\"\n");
    for i in 0..3000 {
        src.push_str(&format!(
            "  @type t{i} :: atom\n  register_thing(:a_rather_long_name_{i}, :another_long_value_{i}, options: [some: :thing, other: :value, more: :stuff])\n"
        ));
    }
    src.push_str("  def last, do: :ok\nend\n");
    let cs = chunks("lib/alternating.ex", &src);
    assert_tiles(&cs, src.as_bytes());
    assert!(cs.iter().any(|c| c.name == "last"), "{}", cs.len());
}

/// A `@doc` before a `use` documents the first function the `use` defines (`@doc false`
/// then `use GenServer` hides its `child_spec/1`, Kino's `Frame`), as one before a
/// `defstruct` documents the struct: neither waits for the next function, and both stay
/// in the module's header with what takes them. Another module's macro's `do` block
/// holding definitions (Keila's `Keila.if_cloud do … else … end`) keeps them, as a bare
/// macro's does, in a module and around one at a file's top level.
#[test]
fn g13_a_use_takes_its_doc_and_a_remote_macros_block_keeps_its_definitions() {
    let src = concat!(
        "defmodule Kino.Frame do\n",                      // 1
        "  @moduledoc \"A frame.\"\n",                    // 2
        "  @doc false\n",                                 // 3
        "  use GenServer, restart: :temporary\n",         // 4
        "  @doc \"The frame.\"\n",                        // 5
        "  defstruct [:ref, :pid]\n",                     // 6
        "  @opaque t :: %__MODULE__{ref: reference()}\n", // 7
        "\n",                                             // 8
        "  @doc \"Starts.\"\n",                           // 9
        "  def new(opts \\\\ []), do: GenServer.start_link(__MODULE__, opts)\n", // 10
        "\n",                                             // 11
        "  Keila.if_cloud do\n",                          // 12
        "    defp ensure_active(socket), do: Cloud.check(socket)\n", // 13
        "  else\n",                                       // 14
        "    defp ensure_active(socket), do: socket\n",   // 15
        "  end\n",                                        // 16
        "end\n",                                          // 17
    );
    let cs = chunks("lib/kino/frame.ex", src);
    let header = &cs[0];
    assert_eq!(
        (header.kind, header.start_line, header.end_line),
        (ChunkKind::ModuleHeader, 1, 7),
        "{}",
        dump(&cs)
    );
    assert_eq!(header.calls, strings(&["GenServer.__using__/1"]));
    let (new, _) = (cs
        .iter()
        .flat_map(|c| c.defines.iter().map(move |d| (c, d))))
    .find(|(_, d)| d.name == "new")
    .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!(new.doc.as_deref(), Some("Starts."));
    let active = cs
        .iter()
        .find(|c| c.name == "ensure_active")
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!(
        (active.start_line, active.end_line),
        (11, 17),
        "{}",
        dump(&cs)
    );
    assert_eq!(active.arities, vec![1]);
    assert!(has_tag(active, "conditional"));
    assert_eq!(
        definition_calls(&cs, "Kino.Frame.ensure_active/1"),
        strings(&["Cloud.check/1"])
    );

    let src = concat!(
        "require Keila\n",
        "Keila.if_cloud do\n",
        "  defmodule KeilaCloud.Billing do\n",
        "    alias __MODULE__.Mx2\n",
        "    def a(x), do: Mx2.from(x)\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("extra/keila_cloud/billing.ex", src);
    assert_eq!(
        definition_calls(&cs, "KeilaCloud.Billing.a/1"),
        strings(&["KeilaCloud.Billing.Mx2.from/1"]),
        "{}",
        dump(&cs)
    );
    assert!(
        (cs.iter()).any(|c| c.kind == ChunkKind::ModuleHeader && c.name == "KeilaCloud.Billing"),
        "{}",
        dump(&cs)
    );
}

/// Wallaby's `feature "…", %{session: session} do … end` is a test in a test file
/// (Operately's 793 features), named by its title; elsewhere a `feature` call is code.
#[test]
fn g10_a_wallaby_feature_is_a_test() {
    let src = concat!(
        "defmodule App.Features.SpacesTest do\n",
        "  use App.FeatureCase\n",
        "\n",
        "  feature \"deleting a space asks first\", %{session: session} do\n",
        "    session |> visit(\"/spaces\") |> Steps.delete_space()\n",
        "  end\n",
        "\n",
        "  feature \"renaming a space\", ctx do\n",
        "    Steps.rename(ctx)\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("test/features/spaces_test.exs", src);
    let tests: Vec<(&str, u32, u32)> = (cs.iter())
        .filter(|c| c.kind == ChunkKind::Test)
        .map(|c| (c.name.as_str(), c.start_line, c.end_line))
        .collect();
    assert_eq!(
        tests,
        [
            ("deleting a space asks first", 3, 6),
            ("renaming a space", 7, 11)
        ],
        "{}",
        dump(&cs)
    );
    let lib = chunks("lib/app/flags.ex", &src.replace("SpacesTest", "Flags"));
    assert!(
        lib.iter().all(|c| c.kind != ChunkKind::Test),
        "{}",
        dump(&lib)
    );
}

/// `<.live_component module={MyAppWeb.PollComponent} id="poll" />` renders that module's
/// component: a call of its `render/1`, in a `~H` template as in a `.heex` file.
#[test]
fn g17_a_live_component_calls_its_modules_render() {
    let src = concat!(
        "defmodule MyAppWeb.ShowLive do\n",
        "  use Phoenix.LiveView\n",
        "  alias MyAppWeb.Polls\n",
        "  def render(assigns) do\n",
        "    ~H\"\"\"\n",
        "    <.live_component\n",
        "      module={Polls.PollComponent}\n",
        "      id=\"poll\"\n",
        "      title={@x > 1 && \"a>b\"}\n",
        "    />\n",
        "    <.live_component id=\"no-module\" />\n",
        "    \"\"\"\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("lib/my_app_web/live/show_live.ex", src);
    assert_eq!(
        definition_calls(&cs, "MyAppWeb.ShowLive.render/1"),
        strings(&["MyAppWeb.Polls.PollComponent.render/1"]),
        "{}",
        dump(&cs)
    );
    let heex = "<.live_component module={MyAppWeb.CartComponent} id=\"cart\" />\n";
    let cs = chunks("lib/my_app_web/live/show_live.html.heex", heex);
    assert!(
        cs[0]
            .calls
            .contains(&"MyAppWeb.CartComponent.render/1".to_string()),
        "{}",
        dump(&cs)
    );
}

/// An event a template binds by name (`phx-submit="save"`, `phx-click="get_started"`)
/// runs the LiveView's own `handle_event/3`: a call of it from `render/1`, as is a
/// `JS.push("delete")`; a binding to a value (`phx-click={@js}`) names no event here.
#[test]
fn g17_an_event_binding_calls_handle_event() {
    let src = concat!(
        "defmodule MyAppWeb.SignupLive do\n",
        "  use Phoenix.LiveView\n",
        "  def render(assigns) do\n",
        "    ~H\"\"\"\n",
        "    <.form for={@form} phx-submit=\"save\" phx-change=\"validate\">\n",
        "    </.form>\n",
        "    \"\"\"\n",
        "  end\n",
        "  def other(assigns), do: ~H\"<button phx-click={@js}>x</button>\"\n",
        "  defp js_prev(js \\\\ %JS{}), do: js |> JS.push(\"prev_song\")\n",
        "  defp js_del(id), do: JS.push(\"delete\", value: %{id: id})\n",
        "  def handle_event(\"save\", _params, socket), do: {:noreply, socket}\n",
        "  def handle_event(\"validate\", _params, socket), do: {:noreply, socket}\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/my_app_web/live/signup_live.ex", src);
    assert_eq!(
        definition_calls(&cs, "MyAppWeb.SignupLive.render/1"),
        strings(&["MyAppWeb.SignupLive.handle_event/3"]),
        "{}",
        dump(&cs)
    );
    assert!(
        !definition_calls(&cs, "MyAppWeb.SignupLive.other/1")
            .iter()
            .any(|c| c.contains("handle_event"))
    );
    // `JS.push("delete")` pushes the event too, piped or not.
    for js in [
        "MyAppWeb.SignupLive.js_prev/0",
        "MyAppWeb.SignupLive.js_del/1",
    ] {
        assert!(
            definition_calls(&cs, js).contains(&"MyAppWeb.SignupLive.handle_event/3".to_string()),
            "{js}: {}",
            dump(&cs)
        );
    }
}

/// LiveView's templates before HEEx: `~L` (and Phoenix.HTML's `~E`) hold EEx, whose
/// `<%= … %>` code calls, and a `~L` template's bindings send its LiveView events;
/// `live_component(@socket, Mod, …)` renders the component, `live_render(@conn, Mod,
/// …)` mounts the LiveView, written bare or through `Phoenix.LiveView.Helpers`
/// (Bytepack, asciinema).
#[test]
fn g17_eex_sigils_and_older_live_helpers_call() {
    let src = concat!(
        "defmodule MyAppWeb.PageLive do\n",
        "  use Phoenix.LiveView\n",
        "  alias MyAppWeb.PackageHelpers\n",
        "  def render(assigns) do\n",
        "    ~L\"\"\"\n",
        "    <div phx-click=\"save\">\n",
        "      <%= PackageHelpers.package_icon(@socket, @type) %>\n",
        "      <%= live_component @socket, MyAppWeb.NavComponent, id: :nav %>\n",
        "    </div>\n",
        "    \"\"\"\n",
        "  end\n",
        "  def modal(socket, opts) do\n",
        "    Phoenix.LiveView.Helpers.live_component(socket, MyAppWeb.ModalComponent, opts)\n",
        "  end\n",
        "  def clock(conn), do: live_render(conn, MyAppWeb.ClockLive, session: %{})\n",
        "  def old(assigns), do: ~E\"<p phx-click=\\\"x\\\"><%= Foo.Bar.baz(1) %></p>\"\n",
        "  def handle_event(\"save\", _, socket), do: {:noreply, socket}\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/my_app_web/live/page_live.ex", src);
    assert_eq!(
        definition_calls(&cs, "MyAppWeb.PageLive.render/1"),
        strings(&[
            "MyAppWeb.PageLive.handle_event/3",
            "MyAppWeb.PackageHelpers.package_icon/2",
            "MyAppWeb.NavComponent.render/1",
        ]),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        definition_calls(&cs, "MyAppWeb.PageLive.modal/2"),
        strings(&[
            "Phoenix.LiveView.Helpers.live_component/3",
            "MyAppWeb.ModalComponent.render/1",
        ])
    );
    assert_eq!(
        definition_calls(&cs, "MyAppWeb.PageLive.clock/1"),
        strings(&["MyAppWeb.ClockLive.mount/3"])
    );
    // `~E` is no LiveView's: its bindings send no event.
    assert_eq!(
        definition_calls(&cs, "MyAppWeb.PageLive.old/1"),
        strings(&["Foo.Bar.baz/1"])
    );
    let leex =
        "<div phx-submit=\"save\"><%= live_component @socket, MyAppWeb.Nav, id: 1 %></div>\n";
    let cs = chunks("lib/my_app_web/live/page_live.html.leex", leex);
    assert!(
        cs[0].calls.contains(&"MyAppWeb.Nav.render/1".to_string()),
        "{}",
        dump(&cs)
    );
    assert!(
        cs[0]
            .unqualified_calls
            .contains(&"handle_event/3".to_string()),
        "{}",
        dump(&cs)
    );
}

/// Absinthe's `batch({Mod, :fun}, arg, fn … end)` (or `{Mod, :fun, extra}`) runs
/// `Mod.fun/2` with the batch (Accent's resolvers); a tuple elsewhere calls nothing.
#[test]
fn g17_an_absinthe_batch_calls_its_function() {
    let src = concat!(
        "defmodule Accent.Resolvers.Translation do\n",
        "  import Absinthe.Resolution.Helpers, only: [batch: 3]\n",
        "  def from_ids(_, args, _) do\n",
        "    batch({__MODULE__, :by_ids}, args.ids, fn found -> {:ok, found} end)\n",
        "  end\n",
        "  def lint(_, args, _) do\n",
        "    Absinthe.Resolution.Helpers.batch({Accent.Lint, :preload, :x}, args, fn r -> {:ok, r} end)\n",
        "  end\n",
        "  def layout(conn), do: assign(conn, :pair, {Accent.Layouts, :landing})\n",
        "  def by_ids(_, ids), do: ids\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/accent/resolvers/translation.ex", src);
    assert!(
        definition_calls(&cs, "Accent.Resolvers.Translation.from_ids/3")
            .contains(&"Accent.Resolvers.Translation.by_ids/2".to_string()),
        "{}",
        dump(&cs)
    );
    assert!(
        definition_calls(&cs, "Accent.Resolvers.Translation.lint/3")
            .contains(&"Accent.Lint.preload/2".to_string()),
        "{}",
        dump(&cs)
    );
    assert!(
        !definition_calls(&cs, "Accent.Resolvers.Translation.layout/1")
            .iter()
            .any(|c| c.contains("landing")),
        "{}",
        dump(&cs)
    );
}

/// A generator's template (EEx writing HEEx, Torch's `priv/templates`): EEx inside a
/// `{…}` expression is read as EEx, and the calls after it are still read; an escaped
/// `<%%= f() %>` is text.
#[test]
fn g17_a_generators_template_keeps_its_calls() {
    let heex = concat!(
        "<.link href={~p\"<%= schema.route_prefix %>/#{<%= schema.singular %>}\"}>x</.link>\n",
        "<a href={f(<%= s.s %>)}>y</a>\n",
        "<%= Mix.Torch.indent_inputs(Mix.Torch.torch_inputs(schema), 8) %>\n",
        "<%%= Torch.PaginationView.pagination(@conn) %>\n",
        "<%%= filter_select(:<%= schema.singular %>, :<%= key %>, @conn.params) %>\n",
        "<span data-confirm={Torch.I18n.message(\"Sure?\")}>z</span>\n",
    );
    let cs = chunks("priv/templates/phx.gen.html/edit.html.heex", heex);
    let calls: Vec<String> = cs.iter().flat_map(|c| c.calls.clone()).collect();
    for call in [
        "Mix.Torch.indent_inputs/2",
        "Mix.Torch.torch_inputs/1",
        "Torch.I18n.message/1",
    ] {
        assert!(calls.contains(&call.to_string()), "{call}: {}", dump(&cs));
    }
    let bare: Vec<String> = cs
        .iter()
        .flat_map(|c| c.unqualified_calls.clone())
        .collect();
    assert!(
        !bare.iter().any(|c| c.starts_with("filter_select")),
        "{bare:?}"
    );
    assert!(!calls.iter().any(|c| c.starts_with("Torch.PaginationView")));
}

/// `Mix.Task.run("hex.audit")` (or `rerun`) runs the task's `run/1`, its module named
/// as Mix camelizes the name (hex's tests); a name that is no task's runs nothing.
#[test]
fn g17_a_task_run_by_its_name_calls_its_run() {
    let src = concat!(
        "defmodule Mix.Tasks.Hex.AuditTest do\n",
        "  use ExUnit.Case\n",
        "  test \"audits\" do\n",
        "    assert catch_throw(Mix.Task.run(\"hex.audit\")) == {:exit_code, 1}\n",
        "    Mix.Task.rerun(\"ecto.gen_migration\", [\"add\"])\n",
        "    Mix.Task.run(\"bad name\")\n",
        "    Mix.Task.run(\"hex.#{name}\")\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("test/mix/tasks/hex.audit_test.exs", src);
    let calls: Vec<String> = cs.iter().flat_map(|c| c.calls.clone()).collect();
    for call in [
        "Mix.Tasks.Hex.Audit.run/1",
        "Mix.Tasks.Ecto.GenMigration.run/1",
    ] {
        assert!(calls.contains(&call.to_string()), "{call}: {}", dump(&cs));
    }
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("Mix.Tasks.")).count(),
        2,
        "{calls:?}"
    );
}

/// A server messaging `__MODULE__`, the name it registers, runs its own callbacks, from
/// its callbacks too (bors's `BranchDeleter`): `GenServer.cast(__MODULE__, msg)` its
/// `handle_cast/2`, `send(__MODULE__, msg)` its `handle_info/2`.
#[test]
fn g17_a_message_to_its_own_module_name_runs_its_callback() {
    let src = concat!(
        "defmodule BorsNG.Worker.BranchDeleter do\n",
        "  use GenServer\n",
        "  def delete(patch), do: GenServer.cast(__MODULE__, {:delete, patch, 0})\n",
        "  def handle_info({:retry_delete, patch, attempt}, state) do\n",
        "    GenServer.cast(__MODULE__, {:delete, patch, attempt})\n",
        "    {:noreply, state}\n",
        "  end\n",
        "  def poke, do: send(__MODULE__, :poke)\n",
        "  def handle_cast({:delete, _, _}, state), do: {:noreply, state}\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/worker/branch_deleter.ex", src);
    let cast = "BorsNG.Worker.BranchDeleter.handle_cast/2".to_string();
    for caller in ["delete/1", "handle_info/2"] {
        let calls = definition_calls(&cs, &format!("BorsNG.Worker.BranchDeleter.{caller}"));
        assert!(calls.contains(&cast), "{caller}: {}", dump(&cs));
    }
    assert!(
        definition_calls(&cs, "BorsNG.Worker.BranchDeleter.poke/0")
            .contains(&"BorsNG.Worker.BranchDeleter.handle_info/2".to_string()),
        "{}",
        dump(&cs)
    );
}

/// A `@typedoc` before module code (an `alias`) before its `@type` documents the type:
/// they are one type piece with that doc, not a header part then an undocumented type
/// (PromEx's `Config.t/0`).
#[test]
fn g06_a_typedoc_over_an_alias_documents_the_type() {
    let src = concat!(
        "defmodule PromEx.Config do\n",
        "  @doc \"First.\"\n",
        "  def first, do: 1\n",
        "\n",
        "  @typedoc \"\"\"\n",
        "  - `disabled`: whether PromEx will start up the metric collection supervision tree\n",
        "  - `manual_metrics_start_delay`: manual metrics are collected once on start up\n",
        "  - `drop_metrics_groups`: a list of all the metrics groups that you do not want\n",
        "  \"\"\"\n",
        "  alias PromEx.GrafanaAgent.Downloader\n",
        "\n",
        "  @type t :: %__MODULE__{disabled: boolean(), agent: Downloader.t()}\n",
        "\n",
        "  def build(x), do: x\n",
        "end\n",
    );
    let cs = chunks("lib/prom_ex/config.ex", src);
    let t = (cs.iter())
        .find(|c| c.kind == ChunkKind::Type)
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!((t.start_line, t.end_line), (4, 12), "{}", dump(&cs));
    assert!(
        t.doc
            .as_deref()
            .is_some_and(|d| d.starts_with("- `disabled`")),
        "{}",
        dump(&cs)
    );
    assert_eq!(
        (cs.iter())
            .filter(|c| c.kind == ChunkKind::ModuleHeader)
            .count(),
        1,
        "{}",
        dump(&cs)
    );
}

/// A function over the budget whose body is one `~H` heredoc is cut between the
/// template's lines (never inside its code over lines), each part reading under the
/// heredoc's opener and holding the calls of its own lines (Claper's 550-line
/// `render/1`, one chunk of 15,000 characters before).
#[test]
fn g05_a_long_template_heredoc_is_cut_between_its_lines() {
    let mut src = String::from(
        "defmodule MyWeb.BigLive do\n  use Phoenix.LiveView\n\n  def render(assigns) do\n    ~H\"\"\"\n",
    );
    for i in 0..60 {
        src.push_str(&format!(
            "    <div class=\"row-{i}\"><span>{{helper_{i}(@item, :field)}}</span> Stripe's <.icon name=\"x\"/></div>\n"
        ));
        if i == 30 {
            src.push_str("    {cond do\n");
            for j in 0..20 {
                src.push_str(&format!(
                    "      @x == {j} -> local_datetime_tag(@item.sent_at_{j})\n"
                ));
            }
            src.push_str("    end}\n");
        }
    }
    src.push_str("    \"\"\"\n  end\nend\n");
    let cs = chunks("lib/my_web/live/big_live.ex", &src);
    let parts: Vec<&Chunk> = cs.iter().filter(|c| c.name == "render").collect();
    assert!(parts.len() >= 3, "{}", dump(&cs));
    for p in &parts[1..] {
        assert!(p.header.ends_with("    ~H\"\"\"\n"), "{:?}", p.header);
    }
    // The `{cond do … end}` is in one part, with all its calls.
    let open = src.find("{cond do").unwrap();
    let close = src.find("end}").unwrap();
    let holding: Vec<&&Chunk> = (parts.iter())
        .filter(|p| p.start_byte < close && p.end_byte > open)
        .collect();
    assert_eq!(holding.len(), 1, "{}", dump(&cs));
    // Each helper's call is in the part holding its line (the definition, with its
    // first part, carries them all).
    for p in &parts {
        let text = &src[p.start_byte..p.end_byte];
        for i in 0..60 {
            let written = text.contains(&format!("helper_{i}("));
            let called = p.unqualified_calls.contains(&format!("helper_{i}/2"));
            assert_eq!(
                written,
                called,
                "helper_{i} in part {:?}: {}",
                p.part,
                dump(&cs)
            );
        }
    }
}

/// Children started under a condition (`!parent && {Cleaner, interval: 60}`) and a list
/// of children piped into `Supervisor.init/2` are child specs (LiveBeats', Honeydew's).
#[test]
fn g19_conditional_and_piped_children_are_started() {
    let src = concat!(
        "defmodule App.Application do\n",
        "  def start(_type, _args) do\n",
        "    parent = System.get_env(\"PARENT\")\n",
        "    children = [\n",
        "      App.Repo,\n",
        "      !parent && {App.Cleaner, interval: 60},\n",
        "      !parent && App.Endpoint\n",
        "    ]\n",
        "    Supervisor.start_link(Enum.filter(children, & &1), strategy: :one_for_one)\n",
        "  end\n",
        "  def init(queue) do\n",
        "    [{App.WorkerGroup, [queue]}, {App.Starter, queue}]\n",
        "    |> add_monitor(queue)\n",
        "    |> Supervisor.init(strategy: :rest_for_one)\n",
        "  end\n",
        "  defp add_monitor(children, _q), do: children\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/app/application.ex", src);
    let start = definition_calls(&cs, "App.Application.start/2");
    for child in ["App.Repo", "App.Cleaner", "App.Endpoint"] {
        assert!(
            start.contains(&format!("{child}.child_spec/1")),
            "{child}: {start:?}"
        );
    }
    let init = definition_calls(&cs, "App.Application.init/1");
    for child in ["App.WorkerGroup", "App.Starter"] {
        assert!(
            init.contains(&format!("{child}.child_spec/1")),
            "{child}: {init:?}"
        );
    }
}

/// A call without a module in an Ecto query's macro is the query API's (`select:
/// count(v.id)`), not the module's own `count/1` (PaperTrail's `Version.count/0`); out
/// of a query it is the module's.
#[test]
fn g19_a_query_apis_function_is_no_call_of_the_modules_own() {
    let src = concat!(
        "defmodule Trail.Version do\n",
        "  import Ecto.Query\n",
        "  def count do\n",
        "    from(version in __MODULE__, select: count(version.id)) |> Repo.one()\n",
        "  end\n",
        "  def count(options) do\n",
        "    __MODULE__ |> where([v], v.kind == ^options) |> select([v], count(v.id)) |> Repo.one()\n",
        "  end\n",
        "  def twice(o), do: count(o) * 2\n",
        "  def over(o), do: from(v in __MODULE__, where: v.n > ^count(o))\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/trail/version.ex", src);
    for symbol in ["Trail.Version.count/0", "Trail.Version.count/1"] {
        let calls = definition_calls(&cs, symbol);
        assert!(
            !calls.contains(&"Trail.Version.count/1".to_string()),
            "{symbol}: {calls:?}"
        );
    }
    // Pinned (`^count(o)`), it is Elixir again: the module's.
    for symbol in ["Trail.Version.twice/1", "Trail.Version.over/1"] {
        assert!(
            definition_calls(&cs, symbol).contains(&"Trail.Version.count/1".to_string()),
            "{symbol}"
        );
    }
}

const PARENTHESISED_DEFINITIONS: &str = r##"defmodule Stripe.Customer do
  @moduledoc "Customers."
  (
    @doc "Creates a customer."
    @spec create(map, list) :: term
    def create(params \\ %{}, opts \\ []) do
      Stripe.Request.make_request(params, opts)
    end
  )

  (
    @doc "Deletes a customer."
    def delete(id) do
      Stripe.Request.delete(id)
    end
  )
end
"##;

/// Code written by `Macro.to_string` (Stripity Stripe's generated API) wraps each
/// definition with its attributes in parentheses: the definitions are the module's,
/// with their docs and specs, as written without them.
#[test]
fn definitions_in_parentheses_are_the_modules() {
    let cs = chunks("lib/generated/customer.ex", PARENTHESISED_DEFINITIONS);
    assert_tiles(&cs, PARENTHESISED_DEFINITIONS.as_bytes());
    let create = cs
        .iter()
        .find(|c| qualified(c) == "Stripe.Customer.create")
        .unwrap_or_else(|| panic!("create/2: {}", dump(&cs)));
    assert_eq!(create.kind, ChunkKind::Function, "{}", dump(&cs));
    assert_eq!(create.arities, vec![0, 1, 2]);
    assert_eq!(create.doc.as_deref(), Some("Creates a customer."));
    assert_eq!(create.specs, strings(&["@spec create(map, list) :: term"]));
    assert_eq!(
        definition_calls(&cs, "Stripe.Customer.create/2"),
        strings(&["Stripe.Request.make_request/2"])
    );
    let delete = cs
        .iter()
        .find(|c| qualified(c) == "Stripe.Customer.delete")
        .unwrap_or_else(|| panic!("delete/1: {}", dump(&cs)));
    assert_eq!(delete.doc.as_deref(), Some("Deletes a customer."));
    assert!(
        delete.start_line >= 9 && delete.start_line <= 13,
        "{}",
        dump(&cs)
    );
}

const VARIABLES_AFTER_TYPES: &str = r##"defmodule Sentry.Config do
  @moduledoc false

  @typedoc "A sampler."
  @type sampler :: (map() -> boolean())

  integrations_schema = [
    max_expected_check_in_time: [type: :integer, default: 600_000, doc: "How long a check-in lives."],
    monitor_config_defaults: [type: :keyword_list, default: [], doc: "Defaults for monitors."]
  ]

  @opts_schema NimbleOptions.new!(integrations_schema)

  @spec validate!() :: keyword()
  def validate! do
    :sentry |> Application.get_all_env() |> validate!()
  end

  def validate!(config), do: NimbleOptions.validate!(config, @opts_schema)
end
"##;

/// A variable set in a module's body after its types (Sentry's option schemas, 900
/// lines) is a header part, as code after a function is: not the head of the next
/// function's chunk.
#[test]
fn a_module_variable_after_types_is_a_header_part() {
    let cs = chunks("lib/sentry/config.ex", VARIABLES_AFTER_TYPES);
    assert_tiles(&cs, VARIABLES_AFTER_TYPES.as_bytes());
    let validate = cs
        .iter()
        .find(|c| c.name == "validate!" && c.arities == vec![0])
        .unwrap_or_else(|| panic!("validate!/0: {}", dump(&cs)));
    assert!(validate.start_line >= 11, "{}", dump(&cs));
    assert_eq!(validate.end_line, 17, "{}", dump(&cs));
    let schema = cs
        .iter()
        .find(|c| c.kind == ChunkKind::ModuleHeader && c.start_line > 1)
        .unwrap_or_else(|| panic!("a header part: {}", dump(&cs)));
    assert!(
        schema.start_line <= 7 && schema.end_line >= 10,
        "{}",
        dump(&cs)
    );
}

const COMPUTED_DOCS_AND_QUOTED_SPECS: &str = r##"defmodule Stripe.Compile do
  def fun(name, param_specs) do
    quote do
      @spec unquote(name)(params :: unquote(to_inline_spec(param_specs))) :: :ok
      def unquote(name)(params), do: :ok
    end
  end

  def to_type_spec(name, child) do
    quote do
      @type unquote(Macro.var(name, __MODULE__)) :: unquote(to_type(child))
    end
  end

  def plain(x) do
    @spec x(String.t()) :: :ok
    x
  end

  defp to_inline_spec(specs), do: specs
  defp to_type(c), do: c
end

defmodule Mix.Tasks.Setup do
  use Mix.Task
  @moduledoc __MODULE__.Docs.long_doc()
  @doc B.Docs.fun_doc() <> "more"
  def run(_), do: :ok
end
"##;

/// A doc computed by a call (`@moduledoc __MODULE__.Docs.long_doc()`, Ash Postgres'
/// Mix tasks) makes the call; so does the unquoted code of a spec or type in a quote
/// (Stripity Stripe's `params :: unquote(to_inline_spec(param_specs))`), which runs
/// where the quote is expanded. A spec's own types are still no calls.
#[test]
fn computed_docs_and_unquotes_in_quoted_specs_make_calls() {
    let src = COMPUTED_DOCS_AND_QUOTED_SPECS;
    let cs = chunks("lib/stripe/compile.ex", src);
    assert_eq!(
        definition_calls(&cs, "Stripe.Compile.fun/2"),
        strings(&["Stripe.Compile.to_inline_spec/1"])
    );
    assert_eq!(
        sorted(&definition_calls(&cs, "Stripe.Compile.to_type_spec/2")),
        strings(&["Macro.var/2", "Stripe.Compile.to_type/1"])
    );
    assert!(
        !all_calls_of(&cs, "plain")
            .iter()
            .any(|c| c.starts_with("String.")),
        "{}",
        dump(&cs)
    );
    let header = cs
        .iter()
        .find(|c| c.kind == ChunkKind::ModuleHeader && c.module == "Mix.Tasks.Setup")
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert!(
        header
            .calls
            .contains(&"Mix.Tasks.Setup.Docs.long_doc/0".to_string()),
        "{:?}",
        header.calls
    );
    // The function's doc is code of the module, as its other attributes are.
    let all: Vec<&String> = cs.iter().flat_map(|c| &c.module_calls).collect();
    assert!(
        all.iter().any(|c| *c == "B.Docs.fun_doc/0"),
        "{}",
        dump(&cs)
    );
    // Specs unquoting quotes of specs, thousands deep (and docs interpolating them):
    // read one level down, not by recursion to the bottom.
    let levels = 5_000;
    let deep = format!(
        "defmodule Deep do\n  defmacro __using__(_) do\n    {}:ok{}\n  end\nend\n",
        "quote do @spec unquote(quote do @doc \"#{unquote(".repeat(levels),
        ")}\" end) end".repeat(levels)
    );
    let cs = chunks("lib/deep.ex", &deep);
    assert_tiles(&cs, deep.as_bytes());
    // And `@derive`s in the captures of `@derive`s, thousands deep.
    let derives = format!(
        "defmodule Deeper do\n  @derive {}&f/1{}\nend\n",
        "{Saxy.Builder, children: [e: &(@derive ".repeat(levels),
        ")]}".repeat(levels)
    );
    let cs = chunks("lib/deeper.ex", &derives);
    assert_tiles(&cs, derives.as_bytes());
}

/// ExUnit's `start_supervised` starts the child spec it is given, imported or written
/// with its module (ExRated's tests: `start_supervised({ExRated, [args, opts]})`).
#[test]
fn a_supervised_test_child_is_started() {
    let src = concat!(
        "defmodule ExRatedTest do\n",
        "  use ExUnit.Case\n",
        "  setup do\n",
        "    start_supervised!(ExRated.Store)\n",
        "    :ok\n",
        "  end\n",
        "  test \"limits\" do\n",
        "    ExUnit.Callbacks.start_supervised({ExRated, [[], []]})\n",
        "    start_supervised({ExRated.Cleaner, interval: 5})\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("test/ex_rated_test.exs", src);
    let all: Vec<&String> = cs.iter().flat_map(|c| &c.calls).collect();
    for child in ["ExRated.Store", "ExRated", "ExRated.Cleaner"] {
        let spec = format!("{child}.child_spec/1");
        assert!(all.contains(&&spec), "{child}: {}", dump(&cs));
    }
}

/// Code in a `describe` before its first test (NimbleCSV's tests define the parser
/// the tests below use) is the describe's, not the first test's; a `setup` stays a
/// chunk of its own.
#[test]
fn code_before_a_describes_first_test_is_the_describes() {
    let src = concat!(
        "defmodule CSVTest do\n",
        "  use ExUnit.Case\n",
        "\n",
        "  describe \"multiple separators\" do\n",
        "    NimbleCSV.define(CSVWithUnknownSeparator, separator: [\",\", \";\"])\n",
        "\n",
        "    setup do\n",
        "      {:ok, sep: \";\"}\n",
        "    end\n",
        "\n",
        "    test \"parse_string/2\" do\n",
        "      assert CSVWithUnknownSeparator.parse_string(\"a;b\")\n",
        "    end\n",
        "  end\n",
        "end\n",
    );
    let cs = chunks("test/nimble_csv_test.exs", src);
    assert_tiles(&cs, src.as_bytes());
    let describe = cs
        .iter()
        .find(|c| c.kind == ChunkKind::Describe)
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!(
        (describe.start_line, describe.end_line),
        (3, 5),
        "{}",
        dump(&cs)
    );
    assert!(
        describe.calls.contains(&"NimbleCSV.define/2".to_string()),
        "{}",
        dump(&cs)
    );
    let test = cs
        .iter()
        .find(|c| c.kind == ChunkKind::Test)
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert!(!test.calls.contains(&"NimbleCSV.define/2".to_string()));
    assert!(test.start_line >= 10, "{}", dump(&cs));
}

/// `apply(@default_adapter, :call, [env, opts])` calls what the attribute holds, as
/// `@default_adapter.call(env, opts)` does (Tesla); a child spec piped into
/// `DynamicSupervisor.start_child` is started (Finch's pools).
#[test]
fn an_attributes_apply_and_a_piped_child_are_calls() {
    let src = concat!(
        "defmodule Tesla do\n",
        "  @default_adapter Tesla.Adapter.Httpc\n",
        "  def run_default_adapter(env, opts \\\\ []) do\n",
        "    apply(@default_adapter, :call, [env, opts])\n",
        "  end\n",
        "\n",
        "  def start_pool(config) do\n",
        "    config.supervisor_name\n",
        "    |> DynamicSupervisor.start_child({Finch.Pool.Supervisor, {config, 1}})\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/tesla.ex", src);
    assert!(
        definition_calls(&cs, "Tesla.run_default_adapter/2")
            .contains(&"Tesla.Adapter.Httpc.call/2".to_string()),
        "{}",
        dump(&cs)
    );
    assert!(
        definition_calls(&cs, "Tesla.start_pool/1")
            .contains(&"Finch.Pool.Supervisor.child_spec/1".to_string()),
        "{}",
        dump(&cs)
    );
}

/// `defdelegate puts(v), to: @shell_service` delegates to the module the attribute
/// holds, as a call through the attribute does (Credo's `UI`).
#[test]
fn a_delegate_to_an_attribute_calls_its_module() {
    let src = concat!(
        "defmodule Credo.CLI.Output.UI do\n",
        "  @shell_service Credo.CLI.Output.Shell\n",
        "  defdelegate puts, to: @shell_service\n",
        "  defdelegate warn(v), to: @shell_service, as: :warning\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/credo/cli/output/ui.ex", src);
    assert_eq!(
        definition_calls(&cs, "Credo.CLI.Output.UI.puts/0"),
        strings(&["Credo.CLI.Output.Shell.puts/0"])
    );
    assert_eq!(
        definition_calls(&cs, "Credo.CLI.Output.UI.warn/1"),
        strings(&["Credo.CLI.Output.Shell.warning/1"])
    );
}

/// A macro call between a function's `@doc` and its `def` (Decimal's
/// `doc_since("1.8.0")`, which sets the doc's metadata) leads into the function with its
/// doc, however long the doc: it is not a header part that takes the doc's lines.
#[test]
fn a_macro_call_after_a_doc_leads_into_the_function() {
    let src = concat!(
        "defmodule Decimal do\n",
        "  import Decimal.Macros\n",
        "\n",
        "  @doc \"\"\"\n",
        "  Compares two numbers numerically. If the first number is greater than the\n",
        "  second `:gt` is returned, if less than `:lt` is returned, if both numbers are\n",
        "  equal `:eq` is returned.\n",
        "  \"\"\"\n",
        "  doc_since(\"1.8.0\")\n",
        "  @spec eq?(t, t) :: boolean\n",
        "  def eq?(:nan, _), do: false\n",
        "  def eq?(a, b), do: a == b\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/decimal.ex", src);
    let eq = cs
        .iter()
        .find(|c| c.kind == Function && c.name == "eq?")
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!((eq.start_line, eq.end_line), (3, 13), "{}", dump(&cs));
    assert!(
        eq.doc
            .as_deref()
            .is_some_and(|d| d.starts_with("Compares two numbers")),
        "{}",
        dump(&cs)
    );
    assert!(
        cs.iter().all(|c| c.kind != ModuleHeader || c.end_line <= 3),
        "no header part holds the doc: {}",
        dump(&cs)
    );
}

/// A sigil of the project's or a library's (Money's `~M[1000]`) calls its macro,
/// `sigil_M/2`, through the import that brings it; Kernel's sigils (`~r`, `~w`) are no
/// calls worth listing, and a HEEx `~H` is read as its template.
#[test]
fn a_custom_sigil_calls_its_macro() {
    let src = concat!(
        "defmodule Money.SigilsTest do\n",
        "  import Money.Sigils\n",
        "\n",
        "  def amount, do: ~M[1000]\n",
        "\n",
        "  def parse(s) do\n",
        "    x = ~M\"\"\"\n",
        "    12\n",
        "    \"\"\"\n",
        "    Regex.match?(~r/x/, s) and ~w(a b) == x\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("test/money/sigils_test.exs", src);
    // Without a module here, as any call an import may bring: the index resolves it.
    let unqualified = |symbol: &str| definition(&cs, symbol).unqualified_calls.clone();
    assert_eq!(
        unqualified("Money.SigilsTest.amount/0"),
        strings(&["sigil_M/2"])
    );
    assert_eq!(
        unqualified("Money.SigilsTest.parse/1"),
        strings(&["sigil_M/2"])
    );
    assert_eq!(
        definition_calls(&cs, "Money.SigilsTest.parse/1"),
        strings(&["Regex.match?/2"])
    );
}

/// A message to a server reaches its public callback only: Swarm's tracker, a
/// `:gen_statem`, has a private `handle_call/3` helper that no `GenServer.call` runs.
#[test]
fn a_message_reaches_no_private_function_of_the_callbacks_name() {
    let src = concat!(
        "defmodule Swarm.Tracker do\n",
        "  use GenStateMachine, callback_mode: :state_functions\n",
        "  def handoff(pid, state) do\n",
        "    GenServer.call(pid, {:swarm, :begin_handoff})\n",
        "    GenServer.cast(pid, {:swarm, :end_handoff, state})\n",
        "  end\n",
        "  defp handle_call({:whereis, name}, from, state), do: {from, name, state}\n",
        "  defp handle_cast(msg, state), do: {msg, state}\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/swarm/tracker/tracker.ex", src);
    let calls = definition_calls(&cs, "Swarm.Tracker.handoff/2");
    assert!(
        !calls.iter().any(|c| c.starts_with("Swarm.Tracker.handle_")),
        "{calls:?}"
    );
}

/// `@doc deprecated: "…"` marks the function deprecated, as `@deprecated` does
/// (TypedStruct's `Plugin.field/3`).
#[test]
fn a_doc_deprecated_option_tags_the_function() {
    let src = concat!(
        "defmodule TypedStruct.Plugin do\n",
        "  @doc deprecated: \"Use TypedStruct.Plugin.field/4 instead\"\n",
        "  def field(name, type, opts), do: {name, type, opts}\n",
        "\n",
        "  @doc since: \"0.2.0\"\n",
        "  def field(name, type, opts, env), do: {name, type, opts, env}\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/typed_struct/plugin.ex", src);
    let field = |arity: u32| {
        cs.iter()
            .find(|c| c.kind == Function && c.arities == [arity])
            .unwrap_or_else(|| panic!("{}", dump(&cs)))
    };
    assert!(has_tag(field(3), "deprecated"), "{}", dump(&cs));
    assert!(!has_tag(field(4), "deprecated"), "{}", dump(&cs));
}

/// Mock's `test_with_mock "…", Mod, [mocks] do … end` is a test, named by its title
/// (ExCoveralls' tests), not module-level code of its module.
#[test]
fn a_test_with_mock_is_a_test() {
    let src = concat!(
        "defmodule ExCoverallsTest do\n",
        "  use ExUnit.Case\n",
        "  import Mock\n",
        "\n",
        "  test_with_mock \"analyze travis\", ExCoveralls.Travis, [execute: fn _, _ -> nil end] do\n",
        "    ExCoveralls.analyze([], \"travis\", [])\n",
        "    assert called(ExCoveralls.Travis.execute([], []))\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("test/excoveralls_test.exs", src);
    let test = cs
        .iter()
        .find(|c| c.kind == Test)
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!(test.name, "analyze travis", "{}", dump(&cs));
    assert_eq!((test.start_line, test.end_line), (4, 9), "{}", dump(&cs));
    assert!(
        test.calls.contains(&"ExCoveralls.analyze/3".to_string()),
        "{}",
        dump(&cs)
    );
    // Mocks going on for lines: the head's first line is its signature; a name written
    // over two lines reads as one.
    let mocks: String = (1..=40)
        .map(|i| format!("      query_{i}: fn _repo, _opts -> %{{rows: [[{i}]]}} end,\n"))
        .collect();
    let src = format!(
        "defmodule DiagnoseTest do\n  use ExUnit.Case\n  test_with_mock \"it works\", Extras, [:passthrough],\n    [\n{mocks}    ] do\n    assert Extras.run(:repo)\n  end\n  test \"when the value is cached,\n        a lookup hits\" do\n    assert true\n  end\nend\n"
    );
    let cs = unmerged_chunks("test/diagnose_test.exs", &src);
    // (The first test, long, is split in parts: its head's.)
    let tests: Vec<&Chunk> = (cs.iter())
        .filter(|c| c.kind == Test && c.part.is_none_or(|(k, _)| k == 1))
        .collect();
    assert_eq!(tests.len(), 2, "{}", dump(&cs));
    assert_eq!(tests[0].name, "it works");
    assert_eq!(
        tests[0].signature,
        "test_with_mock \"it works\", Extras, [:passthrough]"
    );
    assert_eq!(tests[1].name, "when the value is cached, a lookup hits");
}

/// `{:module, _, bytecode, _} = defmodule TestStruct do … end` in a module's body
/// defines the module as it does without the match (TypedStruct's tests).
#[test]
fn a_module_defined_in_a_match_is_a_module() {
    let src = concat!(
        "defmodule TypedStructTest do\n",
        "  use ExUnit.Case\n",
        "\n",
        "  {:module, _name, bytecode, _exports} =\n",
        "    defmodule TestStruct do\n",
        "      def enforce_keys, do: @enforce_keys\n",
        "    end\n",
        "\n",
        "  test \"enforce\" do\n",
        "    assert TestStruct.enforce_keys() == []\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("test/typed_struct_test.exs", src);
    let f = cs
        .iter()
        .find(|c| c.kind == Function && c.name == "enforce_keys")
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!(f.module, "TypedStructTest.TestStruct", "{}", dump(&cs));
    let test = cs.iter().find(|c| c.kind == Test).unwrap();
    assert!(
        test.calls
            .contains(&"TypedStructTest.TestStruct.enforce_keys/0".to_string()),
        "{}",
        dump(&cs)
    );
}

/// A supervisor's children chosen by a `case` (Tzdata's `children ++
/// [Tzdata.ReleaseUpdater]` when autoupdate is on) are started, each clause's.
#[test]
fn children_chosen_by_a_case_are_started() {
    let src = concat!(
        "defmodule Tzdata.App do\n",
        "  use Application\n",
        "  def start(_type, _args) do\n",
        "    children = [Tzdata.EtsHolder]\n",
        "    children = case Application.fetch_env(:tzdata, :autoupdate) do\n",
        "      {:ok, :enabled} -> children ++ [Tzdata.ReleaseUpdater]\n",
        "      {:ok, :disabled} -> children\n",
        "    end\n",
        "    Supervisor.start_link(children, strategy: :one_for_one)\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/tzdata/tzdata_app.ex", src);
    let calls = definition_calls(&cs, "Tzdata.App.start/2");
    for child in ["Tzdata.EtsHolder", "Tzdata.ReleaseUpdater"] {
        assert!(
            calls.contains(&format!("{child}.child_spec/1")),
            "{child}: {calls:?}"
        );
    }
}

/// A test named by strings joined with `<>` (a long name over two lines) is named by
/// the joined text, as ExUnit names it.
#[test]
fn a_test_named_by_joined_strings_is_named_by_their_text() {
    let src = concat!(
        "defmodule PaginationTest do\n",
        "  use ExUnit.Case\n",
        "  test \"pager for negative number of pages, boundary\" <>\n",
        "         \" shows only the first\" do\n",
        "    assert true\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("test/petal/pagination_test.exs", src);
    let test = cs
        .iter()
        .find(|c| c.kind == Test)
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!(
        test.name,
        "pager for negative number of pages, boundary shows only the first"
    );
    // With an interpolation, the name is computed: shown as written.
    let src =
        "defmodule T do\n  use ExUnit.Case\n  test \"a #{@x}\" <> \" b\" do\n    :ok\n  end\nend\n";
    let cs = unmerged_chunks("test/t_test.exs", src);
    let test = cs.iter().find(|c| c.kind == Test).unwrap();
    assert_eq!(test.name, "\"a #{@x}\" <> \" b\"", "{}", dump(&cs));
}

/// A test module's `doctest Mod` after its tests is module code of its own, not lines
/// of the last test (ExTwilio's `UrlGeneratorTest`).
#[test]
fn a_doctest_after_the_tests_is_no_lines_of_the_last() {
    let src = concat!(
        "defmodule ExTwilio.UrlGeneratorTest do\n",
        "  use ExUnit.Case\n",
        "\n",
        "  test \"builds a url\" do\n",
        "    assert ExTwilio.UrlGenerator.build_url(Resource) =~ \"https\"\n",
        "  end\n",
        "\n",
        "  doctest ExTwilio.UrlGenerator\n",
        "end\n",
    );
    let cs = unmerged_chunks("test/ex_twilio/url_generator_test.exs", src);
    let test = cs
        .iter()
        .find(|c| c.kind == Test)
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert!(test.end_line < 8, "{}", dump(&cs));
    let header = cs
        .iter()
        .find(|c| c.kind == ModuleHeader && c.start_line >= 7)
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    // Through `use ExUnit.Case`'s imports, which the index resolves.
    assert!(
        header.unqualified_calls.contains(&"doctest/1".to_string()),
        "{:?}",
        header.unqualified_calls
    );
}

/// `Logger.add_translator({Mod, :translate})` makes Logger call `Mod.translate/4`
/// (Plug.Cowboy's translator, its only entry point).
#[test]
fn a_logger_translator_is_called_with_four_arguments() {
    let src = concat!(
        "defmodule Plug.Cowboy do\n",
        "  def start(_type, _args) do\n",
        "    Logger.add_translator({Plug.Cowboy.Translator, :translate})\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/plug/cowboy.ex", src);
    assert!(
        definition_calls(&cs, "Plug.Cowboy.start/2")
            .contains(&"Plug.Cowboy.Translator.translate/4".to_string()),
        "{}",
        dump(&cs)
    );
}

/// A call through a module chosen at run time (`Application.get_env(…).fun(a, b)`,
/// `http_client().get(url)`, `adapter.call(env, opts)`) is a call of `?.fun/arity`,
/// which the symbol graph links to a callback; a field (`state.name`), an anonymous
/// function (`fun.(x)`) and `__MODULE__.f()` are not such calls.
#[test]
fn a_call_through_a_module_chosen_at_run_time_is_recorded() {
    let src = concat!(
        "defmodule Faker do\n",
        "  def random_between(left, right) do\n",
        "    Application.get_env(:faker, :random_module).random_between(left, right)\n",
        "  end\n",
        "  def fetch(url, adapter, state, fun) do\n",
        "    http_client().get(url, [])\n",
        "    env |> adapter.call(state.opts)\n",
        "    fun.(state.name)\n",
        "    __MODULE__.random_between(1, 2)\n",
        "  end\n",
        "  defp http_client, do: Application.get_env(:tzdata, :http_client)\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/faker.ex", src);
    let runtime = |symbol: &str| -> Vec<String> {
        (definition_calls(&cs, symbol).into_iter())
            .filter(|c| c.starts_with("?."))
            .collect()
    };
    assert_eq!(runtime("Faker.random_between/2"), ["?.random_between/2"]);
    assert_eq!(runtime("Faker.fetch/4"), ["?.get/2", "?.call/2"]);
}

/// A child spec held in a variable named for it (`spec = {Plug.Cowboy, opts}`, then
/// `Supervisor.child_spec(spec, [])`) starts its module, as `child = …` does.
#[test]
fn a_spec_variable_holds_a_child() {
    let src = concat!(
        "defmodule Plug.CowboyTest do\n",
        "  use ExUnit.Case\n",
        "  test \"supports Elixir child specs\" do\n",
        "    spec = {Plug.Cowboy, [scheme: :http, plug: __MODULE__, port: 4040]}\n",
        "    assert %{id: {:ranch_listener_sup, _}} = Supervisor.child_spec(spec, [])\n",
        "    typespec = {:ok, :integer}\n",
        "    api_spec = {OpenApiSpex.Spec, []}\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("test/plug/cowboy_test.exs", src);
    let test = cs.iter().find(|c| c.kind == Test).unwrap();
    assert!(
        test.calls.contains(&"Plug.Cowboy.child_spec/1".to_string()),
        "{}",
        dump(&cs)
    );
    assert!(
        !test
            .calls
            .contains(&"OpenApiSpex.Spec.child_spec/1".to_string()),
        "{}",
        dump(&cs)
    );
}

/// A child spec piped into `Supervisor.child_spec` (ThousandIsland's listener), and one
/// in an `if` among the children (TeslaMate's `if(mqtt_config != nil, do: {Mqtt, …})`),
/// start their modules.
#[test]
fn piped_and_conditional_children_are_started() {
    let src = concat!(
        "defmodule ThousandIsland.Server do\n",
        "  use Supervisor\n",
        "  def init(config) do\n",
        "    [\n",
        "      {ThousandIsland.Listener, config} |> Supervisor.child_spec(id: :listener),\n",
        "      if(config.mqtt != nil, do: {TeslaMate.Mqtt, config.mqtt}),\n",
        "      unless(config.quiet, do: ThousandIsland.Logger)\n",
        "    ]\n",
        "    |> Enum.reject(&is_nil/1)\n",
        "    |> Supervisor.init(strategy: :rest_for_one)\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/thousand_island/server.ex", src);
    let calls = definition_calls(&cs, "ThousandIsland.Server.init/1");
    for child in [
        "ThousandIsland.Listener",
        "TeslaMate.Mqtt",
        "ThousandIsland.Logger",
    ] {
        assert!(
            calls.contains(&format!("{child}.child_spec/1")),
            "{child}: {calls:?}"
        );
    }
}

/// `Supervisor.Spec`'s `worker(Mod, [a, b], opts)` and `supervisor(Mod, [a])` start
/// `Mod.start_link/2` and `/1` (Verk's queue supervisor); an MFA tuple in a pattern
/// (`assert {_, {Mod, :start_link, [a]}, _} = child_spec(a)`) calls nothing.
#[test]
fn supervisor_spec_workers_start_and_patterns_do_not() {
    let src = concat!(
        "defmodule Verk.QueueSupervisor do\n",
        "  use Supervisor\n",
        "  def init([queue, size]) do\n",
        "    children = [\n",
        "      worker(Verk.QueueManager, [queue, size], id: queue),\n",
        "      supervisor(Verk.Queue.Supervisor, [queue]),\n",
        "      worker(Verk.Stats, [queue], function: :start)\n",
        "    ]\n",
        "    supervise(children, strategy: :one_for_one)\n",
        "  end\n",
        "  def check(queue) do\n",
        "    assert {_, {Verk.Worker, :start_link, [^queue]}, _} = child_spec(queue)\n",
        "  end\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/verk/queue_supervisor.ex", src);
    let calls = definition_calls(&cs, "Verk.QueueSupervisor.init/1");
    for start in [
        "Verk.QueueManager.start_link/2",
        "Verk.Queue.Supervisor.start_link/1",
        "Verk.Stats.start/1",
    ] {
        assert!(calls.contains(&start.to_string()), "{start}: {calls:?}");
    }
    assert!(
        !calls.contains(&"Verk.Stats.start_link/1".to_string()),
        "{calls:?}"
    );
    let calls = definition_calls(&cs, "Verk.QueueSupervisor.check/1");
    assert!(
        !calls.contains(&"Verk.Worker.start_link/1".to_string()),
        "{calls:?}"
    );
}

/// A split module header whose first part starts with comments (a license's SPDX lines,
/// as every Nerves file has) still reads under its `defmodule` line once.
#[test]
fn a_split_module_header_after_comments_shows_its_defmodule_once() {
    let doc: String = (0..60)
        .map(|i| format!("  Line {i} of a long moduledoc that explains the module in detail.\n"))
        .collect();
    let src = format!(
        "# SPDX-FileCopyrightText: 2017 Frank Hunleth\n#\n# SPDX-License-Identifier: Apache-2.0\n#\ndefmodule Nerves.Erlinit do\n  @moduledoc \"\"\"\n{doc}  \"\"\"\n\n  @type option :: {{atom(), term()}}\n\n  @callback write(term) :: term\nend\n"
    );
    let cs = chunks("lib/nerves/erlinit.ex", &src);
    let parts: Vec<&Chunk> = cs.iter().filter(|c| c.part.is_some()).collect();
    assert!(parts.len() >= 2, "{}", dump(&cs));
    for part in parts {
        let text = part.text_with_header();
        assert_eq!(
            text.matches("defmodule Nerves.Erlinit do").count(),
            1,
            "{text}"
        );
    }
}

/// A `defstruct` in a later part of a module's header (after its `@type t`, as
/// `GitHooks.Tasks.Cmd` writes it) is defined by that part: `__struct__/0` is at its line,
/// in the chunk that shows the fields.
#[test]
fn a_struct_after_its_type_is_defined_by_the_part_holding_it() {
    let src = concat!(
        "defmodule GitHooks.Tasks.Cmd do\n",
        "  @moduledoc \"\"\"\n",
        "  A command a git hook runs.\n",
        "  \"\"\"\n",
        "  alias GitHooks.Printer\n",
        "\n",
        "  @typedoc \"A command.\"\n",
        "  @type t :: %__MODULE__{command: String.t(), args: [String.t()]}\n",
        "\n",
        "  defstruct [:command, :args, result: nil]\n",
        "\n",
        "  def new(command), do: %__MODULE__{command: command}\n",
        "end\n",
    );
    let cs = unmerged_chunks("lib/tasks/cmd.ex", src);
    let holding: Vec<&Chunk> = (cs.iter())
        .filter(|c| {
            c.defines
                .iter()
                .any(|d| d.name == "__struct__" && d.arities == [0])
        })
        .collect();
    assert_eq!(holding.len(), 1, "{}", dump(&cs));
    let part = holding[0];
    assert_eq!(part.kind, ModuleHeader, "{}", dump(&cs));
    assert!(part.content.contains("defstruct"), "{}", dump(&cs));
    let d = (part.defines.iter())
        .find(|d| d.name == "__struct__")
        .unwrap();
    assert_eq!(d.line, 10);
    // The module is still defined by its first part.
    let first = &cs[0];
    assert!(first.defines.iter().any(|d| d.kind == ModuleHeader));
}

/// A parent's attributes between its callbacks and a nested module stay the parent's
/// (Scenic's `@optional_callbacks` went with `Component.Error`); the comment right above
/// the nested module still leads into it.
#[test]
fn a_parents_attributes_before_a_nested_module_stay_the_parents() {
    let src = concat!(
        "defmodule Scenic.Component do\n",        // 1
        "  @callback bounds(any, map) :: term\n", // 2
        "\n",                                     // 3
        "  @optional_callbacks bounds: 2\n",      // 4
        "\n",                                     // 5
        "  # The component's error\n",            // 6
        "  defmodule Error do\n",                 // 7
        "    defexception message: nil\n",        // 8
        "  end\n",                                // 9
        "\n",                                     // 10
        "  def filter_opts(opts), do: opts\n",    // 11
        "end\n",                                  // 12
    );
    let cs = chunks("lib/scenic/component.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let error = (cs.iter())
        .find(|c| c.module == "Scenic.Component.Error")
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!((error.start_line, error.end_line), (5, 9), "{}", dump(&cs));
    assert!(
        !error.content.contains("@optional_callbacks"),
        "{}",
        dump(&cs)
    );
    let holder = (cs.iter())
        .find(|c| c.content.contains("@optional_callbacks"))
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!(holder.module, "Scenic.Component", "{}", dump(&cs));
}

/// Code commented out above a function, set apart by a blank line, is a text chunk of
/// its own (Scenic's `Matrix`), not lines of the function; a comment right above it,
/// and prose, even after the code (Scenic's `Map.difference/3`), still lead into it.
#[test]
fn code_commented_out_above_a_function_is_no_part_of_it() {
    let src = concat!(
        "defmodule Scenic.Math.Matrix do\n",                    // 1
        "  def identity, do: 1\n",                              // 2
        "\n",                                                   // 3
        "  # def build({x, y}) do\n",                           // 4
        "  #   x\n",                                            // 5
        "  #   |> Enum.map(& &1)\n",                            // 6
        "  #   |> Enum.sum()\n",                                // 7
        "  # end\n",                                            // 8
        "\n",                                                   // 9
        "  # similar to List.myers_difference, the code\n",     // 10
        "  # below compares two vectors\n",                     // 11
        "\n",                                                   // 12
        "  # Builds a translation\n",                           // 13
        "  def build_translation(v), do: v\n",                  // 14
        "\n",                                                   // 15
        "  # This function is kept short on purpose, as the\n", // 16
        "  # callers rely on it for the common case, and\n",    // 17
        "  # the rare cases go through the longer path\n",      // 18
        "  # in another module, which handles them with\n",     // 19
        "  # more care than this one can.\n",                   // 20
        "\n",                                                   // 21
        "  def close?(a, b), do: a == b\n",                     // 22
        "end\n",                                                // 23
    );
    let cs = chunks("lib/scenic/math/matrix.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let dead = (cs.iter())
        .find(|c| c.tags.iter().any(|t| t == "commented_out"))
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!(dead.kind, Text, "{}", dump(&cs));
    assert_eq!((dead.start_line, dead.end_line), (3, 8), "{}", dump(&cs));
    let build = (cs.iter())
        .find(|c| c.name == "build_translation")
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!(build.start_line, 9, "{}", dump(&cs));
    // The prose after the code is the function's.
    assert!(
        build.content.contains("compares two vectors"),
        "{}",
        dump(&cs)
    );
    let close = (cs.iter())
        .find(|c| c.name == "close?")
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert!(
        close.content.contains("kept short on purpose"),
        "{}",
        dump(&cs)
    );
}

/// A function `defexception` writes is called by name in its module (DBConnection's
/// `message |> exception()` in `exception/2`).
#[test]
fn an_exceptions_own_exception_is_called_by_name() {
    let src = concat!(
        "defmodule DBConnection.ConnectionError do\n",
        "  defexception [:message, :severity]\n",
        "  def exception(message, reason),\n",
        "    do: message |> exception() |> Map.put(:reason, reason)\n",
        "end\n",
    );
    let cs = chunks("lib/db_connection/connection_error.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let calls = definition_calls(&cs, "DBConnection.ConnectionError.exception/2");
    assert!(
        calls.contains(&"DBConnection.ConnectionError.exception/1".to_string()),
        "{calls:?}\n{}",
        dump(&cs)
    );
}

/// An attribute of the code's own right above the module's first function (New Relic's
/// `@trace :hello`) annotates it, as it does above a later one: it is the function's
/// chunk's, not the header's. A module attribute Elixir reads (`@behaviour`), or a
/// constant a blank line parts from the function, stays in the header.
#[test]
fn an_attribute_right_above_the_first_function_is_the_functions() {
    let src = concat!(
        "defmodule Outer.Inner do\n", // 1
        "  use NewRelic.Tracer\n",    // 2
        "\n",                         // 3
        "  @trace :hello\n",          // 4
        "  def hello, do: :ok\n",     // 5
        "\n",                         // 6
        "  @trace :bye\n",            // 7
        "  def bye, do: :ok\n",       // 8
        "end\n",                      // 9
    );
    let cs = chunks("lib/outer/inner.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let header = (cs.iter())
        .find(|c| c.kind == ChunkKind::ModuleHeader)
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert!(!header.content.contains("@trace"), "{}", dump(&cs));
    let hello = (cs.iter())
        .find(|c| c.name == "hello")
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert!(hello.content.contains("@trace :hello"), "{}", dump(&cs));

    let src = concat!(
        "defmodule Store do\n",            // 1
        "  @behaviour Access\n",           // 2
        "  @timeout 5_000\n",              // 3
        "\n",                              // 4
        "  def fetch(s, k), do: {s, k}\n", // 5
        "end\n",                           // 6
    );
    let cs = chunks("lib/store.ex", src);
    assert_tiles(&cs, src.as_bytes());
    let header = (cs.iter())
        .find(|c| c.kind == ChunkKind::ModuleHeader)
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert!(header.content.contains("@timeout 5_000"), "{}", dump(&cs));
    // A constant written once right above the first function stays in the header.
    let src = "defmodule Poller do\n  @interval :timer.seconds(30)\n  def start_link(x), do: x\n  def poll, do: @interval\nend\n";
    let cs = unmerged_chunks("lib/poller.ex", src);
    let header = (cs.iter())
        .find(|c| c.kind == ChunkKind::ModuleHeader)
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert!(header.content.contains("@interval"), "{}", dump(&cs));
    let src = "defmodule Store do\n  @behaviour Access\n  def fetch(s, k), do: {s, k}\nend\n";
    let cs = chunks("lib/store.ex", src);
    let fetch = (cs.iter())
        .find(|c| c.name == "fetch")
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert!(!fetch.content.contains("@behaviour"), "{}", dump(&cs));
}

/// In a test file's `describe`, a macro that writes tests (gen_rmq's shared
/// `receive_message_test(Default)`) makes tests named under the describe, and a `setup`
/// there is named under it too; neither is header material.
#[test]
fn a_describes_test_writing_macros_and_setup_are_named_under_it() {
    let src = concat!(
        "defmodule GenRMQ.ConsumerTest do\n",       // 1
        "  use ExUnit.Case\n",                      // 2
        "  import ConsumerSharedTests\n",           // 3
        "\n",                                       // 4
        "  describe \"TestConsumer.Default\" do\n", // 5
        "    setup do\n",                           // 6
        "      {:ok, consumer: 1}\n",               // 7
        "    end\n",                                // 8
        "\n",                                       // 9
        "    receive_message_test(Default)\n",      // 10
        "    reject_message_test()\n",              // 11
        "    defmock(Mock, for: Behaviour)\n",      // 12
        "  end\n",                                  // 13
        "end\n",                                    // 14
    );
    let cs = unmerged_chunks("test/gen_rmq_consumer_test.exs", src);
    assert_tiles(&cs, src.as_bytes());
    let setup = (cs.iter())
        .find(|c| c.kind == ChunkKind::Setup)
        .unwrap_or_else(|| panic!("{}", dump(&cs)));
    assert_eq!(setup.name, "TestConsumer.Default setup", "{}", dump(&cs));
    let tests: Vec<&str> = (cs.iter())
        .filter(|c| c.kind == ChunkKind::Test)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        tests,
        [
            "TestConsumer.Default receive_message_test(Default)",
            "TestConsumer.Default reject_message_test()"
        ],
        "{}",
        dump(&cs)
    );
    assert!(
        !(cs.iter()).any(|c| c.kind == ChunkKind::ModuleHeader && c.start_line > 5),
        "{}",
        dump(&cs)
    );
}
