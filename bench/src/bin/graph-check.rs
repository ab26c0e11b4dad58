//! The symbol graph of the Elixir standard library against what the Elixir compiler says:
//! the public functions and macros each module exports (`tests/data/elixir-1.14-exports.tsv`,
//! from `scripts/elixir-exports.exs`), and, with `--calls`, the calls each function makes
//! after macro expansion (from `scripts/elixir-calls.exs`, read from the compiled modules'
//! debug info). Prints how many of the compiler's definitions and calls the graph has, how
//! many of the graph's the compiler confirms, and why the rest differ.
//!
//! `cargo run --release -p aiex-bench --bin graph-check -- [--corpus DIR] [--calls FILE]
//! [--examples N] [--json]`

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use aiex_bench::{chunk_all, elixir_corpus_dir, load_elixir_files};
use aiex_node::chunk::{ChunkKind, Visibility};
use aiex_node::graph::SymbolGraph;
use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::json;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// What the compiler exports: module, kind, name, arity, doc, moduledoc, source.
    #[arg(long, default_value = "tests/data/elixir-1.14-exports.tsv")]
    exports: PathBuf,
    /// The calls the compiler sees (`elixir scripts/elixir-calls.exs > FILE`).
    #[arg(long)]
    calls: Option<PathBuf>,
    /// Examples shown of each kind of difference.
    #[arg(long, default_value_t = 5)]
    examples: usize,
    /// Write every call that differs to this TSV (side, cause, caller, callee).
    #[arg(long)]
    differences: Option<PathBuf>,
    /// One JSON object instead of the report.
    #[arg(long)]
    json: bool,
}

/// What the compiler calls a function that the source reaches through syntax: string
/// interpolation, `x[key]`, `in`, ranges, `for` and `raise`.
const SYNTAX: &[(&str, &str)] = &[
    ("String.Chars.to_string/1", "interpolation"),
    ("List.Chars.to_charlist/1", "interpolation"),
    ("Access.get/2", "x[key]"),
    ("Enum.member?/2", "in"),
    ("Range.new/2", ".."),
    ("Range.new/3", "..//"),
    ("Enum.reduce/3", "for"),
];

/// What `raise` and its kin compile to.
const RAISE: &[&str] = &[
    ":erlang.error/1",
    ":erlang.error/2",
    ":erlang.error/3",
    ":erlang.raise/3",
    "Kernel.Utils.raise/1",
];

/// Operators written as words (`and`, `or`, `not`), which `&&`, `||`, `!` and guards
/// compile to as well.
const WORD_OPERATORS: &[&str] = &["Kernel.and/2", "Kernel.or/2", "Kernel.not/1"];

/// The functions the compiler writes into a module (or a `use` does).
const GENERATED: &[&str] = &[
    "exception/1",
    "message/1",
    "__struct__/0",
    "__struct__/1",
    "__impl__/1",
    "impl_for/1",
    "impl_for!/1",
    "__protocol__/1",
    "__deriving__/3",
];

/// Counts by cause, with a few examples of each, and every difference when asked.
#[derive(Default)]
struct Causes {
    counts: BTreeMap<&'static str, usize>,
    examples: BTreeMap<&'static str, Vec<String>>,
    all: Vec<(&'static str, String)>,
}

impl Causes {
    fn add(&mut self, cause: &'static str, example: String, keep: usize) {
        self.all.push((cause, example.clone()));
        *self.counts.entry(cause).or_default() += 1;
        let list = self.examples.entry(cause).or_default();
        if list.len() < keep {
            list.push(example);
        }
    }

    fn print(&self, total: usize) {
        let mut by_count: Vec<(&&str, &usize)> = self.counts.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (cause, n) in by_count {
            println!(
                "    {n:>6}  {:>5.1}%  {cause}",
                100.0 * *n as f64 / total.max(1) as f64
            );
            for e in &self.examples[cause] {
                println!("                     {e}");
            }
        }
    }

    fn to_json(&self) -> serde_json::Value {
        json!(self.counts)
    }
}

fn name_arity(symbol: &str) -> &str {
    symbol.rsplit_once('.').map_or(symbol, |(_, f)| f)
}

/// `Mod.fun` without the arity.
fn function_of(symbol: &str) -> &str {
    symbol.rsplit_once('/').map_or(symbol, |(f, _)| f)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let corpus = match args.corpus {
        Some(c) => c,
        None => elixir_corpus_dir()?,
    };
    let files = load_elixir_files(&corpus)?;
    if files.is_empty() {
        bail!("{}: no Elixir files", corpus.display());
    }
    let chunks = chunk_all(&files);
    let graph = SymbolGraph::build(&chunks);

    // What the compiler exports, and which are macros.
    let text = std::fs::read_to_string(&args.exports)
        .with_context(|| format!("reading {}", args.exports.display()))?;
    let mut docs: HashMap<String, String> = HashMap::new();
    let mut exported: Vec<String> = Vec::new();
    let mut macros: HashSet<String> = HashSet::new();
    let mut modules: HashSet<String> = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 7 {
            bail!(
                "{}:{}: not seven fields: {line}",
                args.exports.display(),
                i + 1
            );
        }
        let symbol = format!("{}.{}/{}", f[0], f[2], f[3]);
        modules.insert(f[0].to_string());
        // Hidden by its own `@doc false` or by its module's `@moduledoc false`.
        let doc = match (f[4], f[5]) {
            (_, "hidden") => "hidden",
            (doc, _) => doc,
        };
        docs.insert(symbol.clone(), doc.to_string());
        if f[1] == "macro" {
            macros.insert(symbol.clone());
        }
        exported.push(symbol);
    }
    if exported.is_empty() {
        bail!("{}: no exports", args.exports.display());
    }
    let exported_set: HashSet<&str> = exported.iter().map(String::as_str).collect();
    let defined = |s: &str| graph.definitions(s).iter().any(|d| d.symbol == s);
    let missing: Vec<&String> = exported.iter().filter(|s| !defined(s)).collect();
    let mut public: Vec<String> = (graph.all_definitions())
        .filter(|s| s.kind.is_callable() && s.visibility != Visibility::Private)
        .filter(|s| modules.contains(s.module.as_str()) && !s.path.contains("/test/"))
        .map(|s| s.symbol.clone())
        .collect();
    public.sort();
    public.dedup();
    let unexported: Vec<&String> = public
        .iter()
        .filter(|s| !exported_set.contains(s.as_str()))
        .collect();

    // Whether the graph hides from the docs what the compiler's docs hide (`@doc false`,
    // `@moduledoc false`), and shows what they show. Elixir also hides a function given
    // `@impl` without a `@doc`, and what the compiler writes (`__struct__/1`); the graph
    // keeps those public (see bench/README.md), so they are told apart.
    let mut with_impl: HashSet<String> = HashSet::new();
    let mut implied: HashSet<String> = HashSet::new();
    for c in &chunks {
        for d in &c.defines {
            if d.implied {
                implied.extend(d.symbols());
            } else if c.impl_.is_some() && c.doc.is_none() {
                with_impl.extend(d.symbols());
            }
        }
    }
    let mut visibility_checked = 0;
    let mut visibility = Causes::default();
    for symbol in &exported {
        let doc = docs[symbol].as_str();
        if !matches!(doc, "doc" | "none" | "hidden") {
            continue;
        }
        let Some(site) = graph
            .definitions(symbol)
            .into_iter()
            .find(|d| d.symbol == *symbol)
        else {
            continue;
        };
        visibility_checked += 1;
        if (doc == "hidden") == (site.visibility == Visibility::Hidden) {
            continue;
        }
        let example = format!("{symbol} (compiler: {doc}, graph: {:?})", site.visibility);
        let cause = if doc == "hidden" && with_impl.contains(symbol) {
            "an `@impl` callback without a @doc: hidden by Elixir, public in the graph"
        } else if doc == "hidden" && implied.contains(symbol) {
            "a function the compiler writes (__struct__/1, exception/1, __impl__/1): public in the graph"
        } else if doc == "hidden" && site.generated_by.is_some() {
            "a function a `use` defines, hidden by the quote's @doc false"
        } else {
            "other"
        };
        visibility.add(cause, example, args.examples);
    }
    let visibility_differ: usize = visibility.counts.values().sum();

    let mut report = json!({
        "corpus": corpus.display().to_string(),
        "files": files.len(),
        "exported": exported.len(),
        "modules": modules.len(),
        "defined": exported.len() - missing.len(),
        "missing": missing,
        "public_definitions": public.len(),
        "not_exported": unexported,
        "visibility_checked": visibility_checked,
        "visibility_differs": visibility.to_json(),
    });
    if !args.json {
        println!(
            "definitions: {} of the {} public functions and macros the compiler exports from {} modules are in the graph ({:.2}%)",
            exported.len() - missing.len(),
            exported.len(),
            modules.len(),
            100.0 * (exported.len() - missing.len()) as f64 / exported.len() as f64
        );
        for m in missing.iter().take(args.examples.max(10)) {
            println!("    missing: {m}");
        }
        println!(
            "            {} of the graph's {} public definitions in those modules are exported ({:.2}%)",
            public.len() - unexported.len(),
            public.len(),
            100.0 * (public.len() - unexported.len()) as f64 / public.len().max(1) as f64
        );
        for m in unexported.iter().take(args.examples.max(10)) {
            println!("    not exported: {m}");
        }
        println!(
            "visibility: of {visibility_checked} exported definitions in the compiler's docs, {} are hidden in the graph where the docs hide them (@doc false, @moduledoc false) and public where they show them ({:.2}%); differ:",
            visibility_checked - visibility_differ,
            100.0 * (visibility_checked - visibility_differ) as f64
                / visibility_checked.max(1) as f64
        );
        visibility.print(visibility_checked);
    }

    if let Some(path) = &args.calls {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut compiled: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let Some((caller, callee)) = line.split_once('\t') else {
                bail!("{}:{}: not two fields: {line}", path.display(), i + 1);
            };
            compiled.entry(caller).or_default().insert(callee);
        }
        let syntax: HashMap<&str, &str> = SYNTAX.iter().copied().collect();
        let (mut callers, mut edges, mut found, mut ours, mut confirmed) = (0, 0, 0, 0, 0);
        let mut lacking = Causes::default();
        let mut unconfirmed = Causes::default();
        for (caller, callees) in &compiled {
            let sites = graph.definitions(caller);
            let Some(site) = sites.iter().find(|s| s.symbol == *caller) else {
                continue;
            };
            callers += 1;
            let generated_caller = site.generated_by.is_some()
                || GENERATED.contains(&name_arity(caller))
                || site.signature.starts_with("@derive");
            let our: HashSet<String> = graph.callees(caller).into_iter().collect();
            for &callee in callees {
                edges += 1;
                if our.contains(callee) {
                    found += 1;
                    continue;
                }
                let example = format!("{caller} -> {callee}");
                let op = name_arity(callee)
                    .split('/')
                    .next()
                    .is_some_and(|n| !n.chars().any(|c| c.is_alphanumeric() || c == '_'));
                let cause = if generated_caller {
                    "in a function the compiler writes (defexception, defstruct, a `use`, @derive)"
                } else if function_of(callee) == function_of(caller) {
                    "a default-argument wrapper calling the full arity"
                } else if let Some(s) = syntax.get(callee) {
                    match *s {
                        "interpolation" => "syntax: string interpolation",
                        "x[key]" => "syntax: x[key]",
                        "in" => "syntax: `in`",
                        "for" => "syntax: `for` (Enum.reduce/3)",
                        _ => "syntax: ranges",
                    }
                } else if callee.ends_with(".exception/1") || RAISE.contains(&callee) {
                    "syntax: `raise` (Mod.exception/1, :erlang.error)"
                } else if op || WORD_OPERATORS.contains(&callee) {
                    "operators"
                } else if GENERATED.contains(&name_arity(callee)) {
                    "a function the compiler writes (impl_for!/1, __struct__/1)"
                } else if callee.ends_with("/0")
                    && !exported_set.contains(callee)
                    && !defined(callee)
                {
                    "code in a quote (its AST, not a call)"
                } else {
                    "other (what macros expand to, names computed at compile time)"
                };
                lacking.add(cause, example, args.examples);
            }
            let compiled_other_arities: HashSet<&str> = compiled
                .range(function_of(caller)..)
                .take_while(|(k, _)| k.starts_with(function_of(caller)))
                .filter(|(k, _)| function_of(k) == function_of(caller))
                .flat_map(|(_, v)| v.iter().copied())
                .collect();
            for callee in &our {
                ours += 1;
                if callees.contains(callee.as_str()) {
                    confirmed += 1;
                    continue;
                }
                let example = format!("{caller} -> {callee}");
                let is_macro = graph.definitions(callee).iter().any(|d| {
                    d.symbol == *callee && matches!(d.kind, ChunkKind::Macro | ChunkKind::Guard)
                });
                let cause = if macros.contains(callee) || is_macro {
                    "a macro or guard (expanded away at compile time)"
                } else if callee.ends_with(".__struct__/0") {
                    "a struct literal %Mod{} (expanded at compile time)"
                } else if compiled_other_arities.contains(callee.as_str()) {
                    "made by another arity of a function with default arguments"
                } else if callee.starts_with(':') {
                    "an Erlang function (the compiler wrote another)"
                } else if !defined(callee) && !exported_set.contains(callee.as_str()) {
                    "a function the graph does not define (outside the corpus, or resolved wrongly)"
                } else {
                    "other (calls in guards and attributes, inlined code)"
                };
                unconfirmed.add(cause, example, args.examples);
            }
        }
        if let Some(out) = &args.differences {
            let mut text = String::from("side\tcause\tcaller\tcallee\n");
            for (side, causes) in [("compiler only", &lacking), ("graph only", &unconfirmed)] {
                for (cause, edge) in &causes.all {
                    let (caller, callee) = edge.split_once(" -> ").unwrap_or((edge, ""));
                    text.push_str(&format!("{side}\t{cause}\t{caller}\t{callee}\n"));
                }
            }
            std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
        }
        let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
        report["calls"] = json!({
            "compiler_callers": compiled.len(),
            "callers_in_graph": callers,
            "compiler_edges": edges,
            "found": found,
            "not_found": lacking.to_json(),
            "graph_edges": ours,
            "confirmed": confirmed,
            "not_confirmed": unconfirmed.to_json(),
        });
        if !args.json {
            println!(
                "calls: of the {edges} calls the compiler sees in the {callers} functions the graph defines (of {}), the graph has {found} ({:.1}%); not found:",
                compiled.len(),
                pct(found, edges)
            );
            lacking.print(edges);
            println!(
                "       of the graph's {ours} calls from those functions, the compiler sees {confirmed} ({:.1}%); not seen:",
                pct(confirmed, ours)
            );
            unconfirmed.print(ours);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}
