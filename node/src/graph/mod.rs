//! The symbol graph: who defines `Mod.fun/arity`, what it calls, who calls it, and a
//! PageRank-ranked repository map fitted to a token budget.
//!
//! Nodes are fully qualified `Mod.fun/arity` symbols (never bare names such as `get` or
//! `handle_call`), built from the chunks' definitions and their alias-expanded calls. A
//! chunk that defines nothing (a test, a script) is a source node: it passes rank to what
//! it calls but never appears in the map.

mod known_imports;
mod known_stdlib;
mod known_uses;
pub mod sites;

use std::collections::BTreeMap;

// Symbol maps hash millions of short strings when a large index's graph is built:
// FxHash, not SipHash (the keys are the index's own symbols, not an attacker's).
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::chunk::{
    AtomList, Chunk, ChunkKind, EmbeddedTemplates, ImportFilter, MacroCall, MacroTemplate,
    NamesFrom, QuoteFile, QuotedDef, ScopedCalls, TemplatesOf, Visibility, dedup_keep_first,
};

/// Where a symbol is defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolSite {
    pub symbol: String,
    /// The module the symbol belongs to (empty for test and script source nodes).
    pub module: String,
    pub repo: String,
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub kind: ChunkKind,
    pub signature: String,
    pub visibility: Visibility,
    /// For a function no code of its module writes, the module whose `use` defines it
    /// there (`Ecto.Repo` for `MyApp.Repo.all/2`): the site is then the using module's
    /// header, and the signature the head in the used module's `quote`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_by: Option<String>,
    /// For such a function: the quote that writes it, where its source is indexed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_at: Option<QuotedAt>,
    /// For a function a `for` names after what a function returns (`Nx.exp/1`, from
    /// `for {name, _} <- Nx.Shared.unary_math_funs() do def unquote(name)(tensor)`): that
    /// function. The site is then the definition the `for` writes, and the signature its
    /// head with the name put in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_after: Option<String>,
}

/// Where a `quote` writes a function a `use` defines: the quoting function
/// (`Ecto.Repo.__using__/1`, or a helper it calls), its file, and the lines of the
/// function's clauses there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedAt {
    #[serde(flatten)]
    pub file: QuoteFile,
    pub start_line: u32,
    pub end_line: u32,
}

impl QuotedAt {
    /// As the API returns it.
    pub fn to_pb(&self) -> aiex_proto::v1::QuoteRef {
        aiex_proto::v1::QuoteRef {
            symbol: self.file.symbol.clone(),
            repository: self.file.repo.clone(),
            path: self.file.path.clone(),
            span: Some(aiex_proto::v1::Span {
                start_line: self.start_line,
                end_line: self.end_line,
                start_byte: 0,
                end_byte: 0,
            }),
        }
    }
}

/// The graph over a set of chunks.
#[derive(Debug, Default)]
pub struct SymbolGraph {
    /// Symbol -> its definition sites.
    defs: HashMap<String, Vec<SymbolSite>>,
    /// Caller -> callees (both symbols; callers may be source nodes such as tests).
    out: HashMap<String, Vec<String>>,
    /// Callee -> callers: positions in `caller_sites`, one per calling site (the same
    /// caller symbol defined in two repositories or files calls from both).
    incoming: HashMap<String, Vec<u32>>,
    /// The site of every definition (or test, or script) that calls something, once:
    /// the edges of `incoming` point here instead of each holding a copy.
    caller_sites: Vec<SymbolSite>,
    /// The call graph by node index, for [`SymbolGraph::rank`]; built on first use.
    rank_index: OnceLock<RankIndex>,
    /// The keys of `defs`, `out` and `incoming`, sorted for look-ups by name; built on
    /// first use.
    keys: OnceLock<Keys>,
    /// The defined nodes in the order of the unfocused rank; built on first use.
    global_order: OnceLock<Vec<u32>>,
    /// The shorter names of each defined function, for [`SymbolGraph::by_suffix`];
    /// built on first use.
    suffixes: OnceLock<Suffixes>,
    /// Calls without a module (`helper(x)` after `import Util`, Kernel's `raise/2`) not
    /// yet resolved: a part cannot know what other parts define, so they are resolved
    /// once every definition is in ([`SymbolGraph::build`], [`SymbolGraph::merge`]).
    pending: Vec<Unqualified>,
    /// What a `use` of a module brings in: the imports in the quoted code of
    /// `Mod.__using__/1`, of `Mod.which/0` (for `use Mod, :which`) or of a case
    /// template's `using` block (keyed by the module), by that symbol.
    quoted_imports: HashMap<String, Imports>,
    /// What a `use` of a module aliases (short name, module), keyed as `quoted_imports`.
    quoted_aliases: HashMap<String, Vec<(String, String)>>,
    /// What a `use` of a module `use`s in turn, keyed as `quoted_imports`.
    quoted_uses: HashMap<String, Vec<String>>,
    /// The functions a `use` of a module defines in the module that uses it (those its
    /// quoted code defines), keyed as `quoted_imports`.
    quoted_defs: HashMap<String, Vec<QuotedDef>>,
    /// Each module header that `use`s modules, with those `use`s (`Mod`, or
    /// `Mod.which/0` for `use Mod, :which`), for the functions they define there; let go
    /// of once they are in `defs`.
    using: Vec<(SymbolSite, Vec<String>, Imports)>,
    /// The modules some `use` defines functions in.
    generated_in: HashSet<String>,
    /// What each macro's quotes define where it is called, named by its arguments, by
    /// `Mod.macro/arity`, with the macro's file ([`MacroTemplate`]): one per repository.
    macro_templates: HashMap<String, Vec<Templates>>,
    /// Each module header whose body calls something with arguments that could name a
    /// function, with its imports and `use`s: let go of once what they define is in
    /// `defs`.
    macro_calls: Vec<MacroCalls>,
    /// Each module's `embed_templates`, and the chunks of `.heex` template files: let go
    /// of once each template's function is in `defs`.
    embeds: Vec<Embeds>,
    template_chunks: Vec<TemplateChunk>,
    /// Behaviour (or protocol) -> the module headers of its implementations: the modules
    /// that declare `@behaviour B`, `use B` (as a behaviour's `__using__` declares it) or
    /// `defimpl B`.
    implementers: HashMap<String, Vec<SymbolSite>>,
    /// `Mod.fun/0` -> the atoms it returns as a literal, for the `for`s named by it: one
    /// per place that defines it (repository, path, line), chosen among in
    /// [`SymbolGraph::returned_name_definitions`]. Let go of once they are in `defs`.
    returns: HashMap<String, Vec<(SymbolSite, AtomList)>>,
    /// Each definition a `for` names after what a function returns (its site, with the
    /// symbol it is written as), and its position in `caller_sites` when it calls
    /// anything: let go of once the functions it stands for are in `defs`.
    named_by: Vec<(SymbolSite, NamesFrom, Option<u32>)>,
    /// A name a module's process registers under (another module's) -> the modules
    /// that register it: `BorsNG.GitHub` -> `BorsNG.GitHub.Server` (see
    /// [`crate::chunk::REGISTERS_TAG`]).
    registered: HashMap<String, Vec<String>>,
    /// (behaviour, module) for a module that declares a behaviour (`@behaviour X`, a
    /// Mox mock of it) without a `use` of it: it runs none of the quote's `use`s, so it
    /// implements nothing through them.
    declared_only: HashSet<(String, String)>,
    /// Each function those `for`s define, with the definition it is written as (its
    /// symbol, and its position in `caller_sites`), whose calls it makes.
    named_calls: Vec<(SymbolSite, String, u32)>,
}

/// A macro's templates, with its file.
type Templates = (Arc<QuoteFile>, Vec<MacroTemplate>);

/// The functions the `for`s named after what a function returns define in one graph, at
/// most: a repository of many such `for`s over long lists would otherwise grow the graph
/// far past its code.
const MAX_NAMED_BY_RETURNS: usize = 100_000;

/// The most implementations a facade's run-time call is linked to (see
/// [`SymbolGraph::facade_implementations`]); past them, none is.
const MAX_FACADE_IMPLEMENTATIONS: usize = 12;

/// A module's `embed_templates`, with the imports and `use`s its templates' components
/// resolve through.
#[derive(Debug, Clone)]
struct Embeds {
    module: String,
    repo: String,
    patterns: Vec<EmbeddedTemplates>,
    imports: Imports,
    uses: Vec<String>,
    /// The module's aliases (short name, module), for `<Layouts.app>`.
    aliases: Vec<(String, String)>,
}

/// A template file's chunks, and the functions it defines with the modules that embed it.
type TemplateFile<'a> = (Vec<&'a TemplateChunk>, Vec<(&'a Embeds, SymbolSite)>);

/// A chunk of a `.heex` template file, and the components it renders.
#[derive(Debug, Clone)]
struct TemplateChunk {
    site: SymbolSite,
    calls: Vec<String>,
    unqualified: Vec<String>,
}

/// A module's calls that a macro of another file may define functions by.
#[derive(Debug, Clone)]
struct MacroCalls {
    header: SymbolSite,
    imports: Vec<String>,
    import_filters: Vec<ImportFilter>,
    uses: Vec<String>,
    calls: Vec<MacroCall>,
}

/// A caller's calls without a module, and the modules they may come from.
#[derive(Debug, Clone)]
struct Unqualified {
    /// The caller's position in `caller_sites`.
    caller: u32,
    /// The caller's module's imports, in order, and their `only:` / `except:` lists.
    imports: Imports,
    /// `fun/arity` each.
    calls: Vec<String>,
    /// Calls a plug pipeline makes on each request (`plug :auth`), `fun/2` each: they
    /// may be functions the module's `use`s or macros define, even from module-level
    /// code.
    plugged: Vec<String>,
    /// The caller's module's `use`s (`Mod`, or `Mod.which/0` for `use Mod, :which`):
    /// their quoted imports count too, once every definition is in.
    uses: Vec<String>,
    /// Its calls with a module, when it has `use`s: one through an alias the used
    /// module's quoted code makes (`Repo.get/1` after `use MyApp.DataCase`) is linked
    /// to the module the alias names instead, once every definition is in.
    aliased: Vec<String>,
}

/// A caller's imports: the modules in order, and their `only:` / `except:` lists.
type Imports = (Vec<String>, Vec<ImportFilter>);

/// The module every Elixir module imports: a call without a module that the module does
/// not define and does not import is Kernel's (or a special form, which is not a call).
const IMPLICIT_IMPORTS: [&str; 1] = ["Kernel"];

/// How many `use`s deep a chain of `use`s in quoted code is followed (`use A` whose quote
/// does `use B`, whose quote does `use C`...), and how many modules it brings at most.
const MAX_USE_DEPTH: usize = 8;
const MAX_CHAINED_USES: usize = 64;

/// How many calls below a `__using__` (or a `use Mod, :which` function, or a
/// `__before_compile__`) its module's helpers are followed for their quotes, and how
/// many of them at most.
const MAX_HELPER_DEPTH: usize = 4;
const MAX_HELPERS: usize = 64;

/// What a `use` of some standard-library modules defines, for when their source is not
/// indexed (their quoted code as of Elixir 1.14): the process behaviours' `child_spec/1`,
/// an application's `stop/1`, and a case template's `__using__/1` (so `use
/// MyApp.DataCase` calls a definition). Libraries' are in [`known_uses`], in the same
/// shape: (module used, name, head, arities, found beyond the source).
#[rustfmt::skip]
const KNOWN_USES: [(&str, &str, &str, &[u32], bool); 7] = [
    ("Application", "stop", "def stop(_state)", &[1], false),
    ("GenServer", "child_spec", "def child_spec(init_arg)", &[1], false),
    ("Supervisor", "child_spec", "def child_spec(init_arg)", &[1], false),
    ("DynamicSupervisor", "child_spec", "def child_spec(arg)", &[1], false),
    ("Agent", "child_spec", "def child_spec(arg)", &[1], false),
    ("Task", "child_spec", "def child_spec(arg)", &[1], false),
    ("ExUnit.CaseTemplate", "__using__", "defmacro __using__(opts)", &[1], false),
];

/// What a `use` of `used` defines when its source is not indexed: the standard library's
/// [`KNOWN_USES`], or a widely used library's (`use Ecto.Repo` defines `all/2`, `get/3`...;
/// a Mix project's `deps/` is git-ignored, so most projects index none of them), as
/// `scripts/known-uses.py` read them from the libraries' source. Where the source is
/// `indexed`, only what the graph cannot read from it: names a quote computes (Tesla's
/// `get/1..3`) and quotes reached through a call it does not follow (the `query/1..3` an
/// Ecto SQL adapter adds).
fn known_use(used: &str, indexed: bool) -> Vec<QuotedDef> {
    // `use Tesla` is `use Tesla.Builder`, which `Tesla` itself and some clients use
    // directly: the same functions.
    let used = match used {
        "Tesla.Builder" => "Tesla",
        used => used,
    };
    (KNOWN_USES.iter().chain(known_uses::KNOWN_LIBRARY_USES))
        .copied()
        .filter(|k| k.0 == used && (!indexed || k.4))
        .map(|(_, name, signature, arities, _)| {
            // `defexception …` for the functions it implies (`exception/1`).
            let keyword = signature.split_once(' ').map_or(signature, |(k, _)| k);
            QuotedDef {
                kind: match keyword {
                    "defmacro" => ChunkKind::Macro,
                    "defdelegate" => ChunkKind::Delegate,
                    _ => ChunkKind::Function,
                },
                name: name.to_string(),
                arities: arities.to_vec(),
                visibility: Visibility::Public,
                signature: signature.to_string(),
                calls: Vec::new(),
                lines: (0, 0),
                quoted_in: None,
            }
        })
        .collect()
}

/// What a `use` of a library module imports, where the library is not indexed
/// (`use Phoenix.LiveView` imports `Phoenix.LiveView` and, through `use
/// Phoenix.Component`, `Phoenix.Component`): each module with its `only:`/`except:` list.
fn known_use_imports(used: &str) -> &'static [(&'static str, Option<ImportFilter>)] {
    type ByUse = HashMap<&'static str, Vec<(&'static str, Option<ImportFilter>)>>;
    static BY_USE: OnceLock<ByUse> = OnceLock::new();
    let by_use = BY_USE.get_or_init(|| {
        let mut by_use = ByUse::default();
        for &(used, module, filter) in known_imports::KNOWN_USE_IMPORTS {
            let filter = filter.map(|(except, names)| ImportFilter {
                module: module.to_string(),
                except,
                names: names.iter().map(|n| n.to_string()).collect(),
                select: None,
            });
            by_use.entry(used).or_default().push((module, filter));
        }
        by_use
    });
    by_use.get(used).map_or(&[], Vec::as_slice)
}

/// Whether library module `module` exports `call` (`fun/arity`), where the library is
/// not indexed; `Some(true)` for a macro, `Some(false)` for a function.
/// The standard library's modules applications import are looked up likewise
/// (`import ExUnit.CaptureIO` then `capture_io(…)`).
fn known_export(module: &str, call: &str) -> Option<bool> {
    let (name, arity) = call.rsplit_once('/')?;
    let arity: u32 = arity.parse().ok()?;
    [
        known_imports::KNOWN_EXPORTS,
        known_stdlib::KNOWN_STDLIB_EXPORTS,
    ]
    .into_iter()
    .find_map(|table| {
        let at = table.partition_point(|k| (k.0, k.1) < (module, name));
        table[at..]
            .iter()
            .take_while(|k| (k.0, k.1) == (module, name))
            .find(|k| k.2.contains(&arity))
            .map(|k| k.3)
    })
}

/// Whether a module's `use` is a `@before_compile` hook (`Mod.__before_compile__/1`, or
/// the `Mod.hook/1` of `{Mod, :hook}`; a `use` is `Mod` or `Mod.which/0`): its quote
/// lands at the end of the module, so its imports and aliases reach none of the
/// module's code (what it defines still counts).
fn is_hook(used: &str) -> bool {
    used.ends_with("/1")
}

/// Where the quoted code a `use` of `used` brings is kept: under `Mod.__using__/1` (or
/// the `Mod.which/0` of `use Mod, :which`), and under the module (a case template's
/// `using` block).
fn use_keys(used: &str) -> [String; 2] {
    let using = if used.contains('/') {
        used.to_string()
    } else {
        format!("{used}.__using__/1")
    };
    [using, used.to_string()]
}

/// The name a test (or a script) calls under in the graph: `path:line name`.
pub fn source_symbol(chunk: &Chunk) -> String {
    source_site(chunk, &chunk.display_symbol()).symbol
}

/// A caller that defines nothing (a test, a script, module-level code), named
/// `path:line what` by the chunk's first line with code (a chunk starts where the one
/// before it ends, often on a blank line).
fn source_site(chunk: &Chunk, what: &str) -> SymbolSite {
    let start_line = chunk.code_line.max(chunk.start_line);
    SymbolSite {
        module: chunk.module.clone(),
        symbol: format!("{}:{start_line} {what}", chunk.path),
        repo: chunk.repo.clone(),
        path: chunk.path.clone(),
        start_line,
        end_line: chunk.end_line,
        kind: chunk.kind,
        signature: chunk.signature.clone(),
        visibility: chunk.visibility,
        generated_by: None,
        quoted_at: None,
        named_after: None,
    }
}

/// Sites by name, then place: one order however the graph was put together.
fn site_order(a: &SymbolSite, b: &SymbolSite) -> std::cmp::Ordering {
    (&a.symbol, &a.repo, &a.path, a.start_line).cmp(&(&b.symbol, &b.repo, &b.path, b.start_line))
}

/// A definition's line in the repository map: `    {line}: {signature}`. A head written
/// over several lines (`defstruct name: nil,` and its fields below) is shown cut, with
/// `…`, and so is one longer than [`MAX_MAP_SIGNATURE`] (a `@type t` of forty fields on
/// one line).
fn map_entry(site: &SymbolSite) -> String {
    let (shown, cut) = map_signature(&site.signature);
    let more = if cut { CUT } else { "" };
    format!("    {}: {shown}{more}\n", site.start_line)
}

/// `map_entry(site).len()`, without making it.
fn map_entry_len(site: &SymbolSite) -> usize {
    let (shown, cut) = map_signature(&site.signature);
    let more = if cut { CUT.len() } else { 0 };
    4 + decimal_digits(site.start_line) + 2 + shown.len() + more + 1
}

/// The most bytes of a signature the repository map shows.
const MAX_MAP_SIGNATURE: usize = 160;

/// What the map shows of a signature, and whether it is cut.
fn map_signature(signature: &str) -> (&str, bool) {
    if signature.len() <= MAX_MAP_SIGNATURE {
        return (signature, is_cut(signature));
    }
    let mut end = MAX_MAP_SIGNATURE;
    while !signature.is_char_boundary(end) {
        end -= 1;
    }
    (signature[..end].trim_end(), true)
}

const CUT: &str = " …";

fn is_cut(signature: &str) -> bool {
    signature.ends_with([',', '[', '(', '{', '\\'])
}

/// Callbacks of behaviours that are seldom indexed (Elixir's, OTP's and common
/// libraries'), for [`SymbolGraph::implemented_callbacks`].
pub const KNOWN_CALLBACKS: &[(&str, &[&str])] = &[
    (
        "GenServer",
        &[
            "init/1",
            "handle_call/3",
            "handle_cast/2",
            "handle_info/2",
            "handle_continue/2",
            "terminate/2",
            "code_change/3",
            "format_status/1",
            "format_status/2",
        ],
    ),
    ("Supervisor", &["init/1"]),
    ("DynamicSupervisor", &["init/1"]),
    (
        "Application",
        &[
            "start/2",
            "stop/1",
            "prep_stop/1",
            "config_change/3",
            "start_phase/3",
        ],
    ),
    ("Mix.Task", &["run/1"]),
    (
        "GenStage",
        &[
            "init/1",
            "handle_demand/2",
            "handle_events/3",
            "handle_subscribe/4",
            "handle_cancel/3",
            "handle_call/3",
            "handle_cast/2",
            "handle_info/2",
            "terminate/2",
            "code_change/3",
        ],
    ),
    ("Plug", &["init/1", "call/2"]),
    (
        "Phoenix.LiveView",
        &[
            "mount/3",
            "render/1",
            "handle_params/3",
            "handle_event/3",
            "handle_info/2",
            "handle_call/3",
            "handle_cast/2",
            "handle_async/3",
            "terminate/2",
        ],
    ),
    (
        "Phoenix.LiveComponent",
        &[
            "mount/1",
            "update/2",
            "update_many/1",
            "render/1",
            "handle_event/3",
            "handle_async/3",
        ],
    ),
    (
        "Phoenix.Channel",
        &[
            "join/3",
            "handle_in/3",
            "handle_out/3",
            "handle_info/2",
            "terminate/2",
        ],
    ),
    (
        "Broadway",
        &[
            "handle_message/3",
            "handle_batch/4",
            "handle_failed/2",
            "prepare_messages/2",
        ],
    ),
    ("Oban.Worker", &["perform/1", "backoff/1", "timeout/1"]),
    ("Phoenix.Presence", &["init/1", "fetch/2", "handle_metas/4"]),
    (
        "Phoenix.Tracker",
        &["init/1", "handle_diff/2", "handle_info/2"],
    ),
    (
        "Ecto.Type",
        &[
            "type/0",
            "cast/1",
            "load/1",
            "dump/1",
            "equal?/2",
            "embed_as/1",
            "autogenerate/0",
        ],
    ),
];

/// The behaviours (and protocols) the module of a header chunk implements: its
/// `@behaviour`s, its `defimpl`'s protocol, and the modules it `use`s (`use MyAppWeb,
/// :controller` is `MyAppWeb` and `MyAppWeb.controller/0`, whose quoted `use`s
/// [`SymbolGraph::chain_implementers`] follows). A struct's `@derive`s are implemented by
/// their own modules (`Inspect.URI`), not by the struct's.
fn implemented(chunk: &Chunk) -> impl Iterator<Item = &str> {
    let behaviours = (chunk.tags.iter()).filter_map(|t| t.strip_prefix("behaviour:"));
    let uses = (chunk.uses.iter()).filter(|u| !u.is_empty());
    behaviours.chain(uses.map(String::as_str))
}

/// Behaviours a library's `use` declares in the module that uses it: `use Plug.Builder`
/// (and `use Plug.Router`, `use Phoenix.Endpoint`, which use it) declares `@behaviour
/// Plug`, as `use Phoenix.Controller` does through `Phoenix.Controller.Pipeline`.
const USE_BEHAVIOURS: [(&str, &[&str]); 5] = [
    ("Plug.Builder", &["Plug"]),
    ("Plug.Router", &["Plug.Builder", "Plug"]),
    ("Phoenix.Endpoint", &["Plug.Builder", "Plug"]),
    ("Phoenix.Controller", &["Plug"]),
    // Its `match_dispatch/0` quote: `@behaviour Plug`, `init/1` and `call/2`.
    ("Phoenix.Router", &["Plug"]),
];

/// The suffix of a caller that is module-level code: `lib/a.ex:3 A (module body)`.
pub const MODULE_BODY: &str = " (module body)";

/// Bytes per token the repository map is budgeted at. Map text (paths, `Mod.fun/2`,
/// signatures) is dense: OpenAI's o200k_base takes about 3.3 bytes a token there, where
/// prose takes 4; 3 keeps a map inside the tokens asked for.
pub const MAP_BYTES_PER_TOKEN: usize = 3;

/// The keys of the graph's maps, sorted: a look-up of `Mod.fun` (any arity) or of a
/// module's symbols is a binary search and a range instead of a pass over every symbol.
#[derive(Debug)]
struct Keys {
    defs: Vec<String>,
    out: Vec<String>,
    incoming: Vec<String>,
}

impl Keys {
    fn build(g: &SymbolGraph) -> Keys {
        fn sorted<T>(map: &HashMap<String, T>) -> Vec<String> {
            let mut keys: Vec<String> = map.keys().cloned().collect();
            keys.sort_unstable();
            keys
        }
        Keys {
            defs: sorted(&g.defs),
            out: sorted(&g.out),
            incoming: sorted(&g.incoming),
        }
    }
}

/// Each defined function's key without its module, and with each shorter module
/// (`request/5` and `HTTP.request/5` for `Mint.HTTP.request/5`), and each module's by its
/// last segments (`Accounts.User` for `Asciinema.Accounts.User`), sorted: people leave
/// the application prefix out, or the module altogether. Those are ends of the key, so
/// each is the key's position among the sorted keys and where the end starts in it.
#[derive(Debug)]
struct Suffixes(Vec<(u32, u32)>);

impl Suffixes {
    fn build(g: &SymbolGraph, keys: &[String]) -> Suffixes {
        let mut ends: Vec<(u32, u32)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let Some(module) = g.defs[key].first().map(|s| s.module.as_str()) else {
                continue;
            };
            let is_function = !module.is_empty()
                && key.len() > module.len() + 1
                && key.starts_with(module)
                && key.as_bytes()[module.len()] == b'.';
            if is_function {
                ends.push((i as u32, module.len() as u32 + 1));
            } else if key != module {
                continue;
            }
            // A module by its last segments too (`Accounts.User`, as an alias writes it).
            for (dot, _) in module.match_indices('.') {
                ends.push((i as u32, dot as u32 + 1));
            }
        }
        let end = |&(i, at): &(u32, u32)| &keys[i as usize][at as usize..];
        ends.sort_unstable_by(|a, b| end(a).cmp(end(b)));
        Suffixes(ends)
    }
}

/// The positions, among `len` keys sorted by `key(position)`, of the keys that start
/// with `prefix`.
fn with_prefix<'a>(
    len: usize,
    key: impl Fn(usize) -> &'a str,
    prefix: &str,
) -> std::ops::Range<usize> {
    // The first position where `below(position)` is false (`below` is true, then false).
    let first_not = |below: &dyn Fn(usize) -> bool, mut lo: usize| {
        let mut hi = len;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if below(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let start = first_not(&|i| key(i) < prefix, 0);
    let end = first_not(&|i| key(i).starts_with(prefix), start);
    start..end
}

/// The keys of `sorted` that a look-up of `query` names ([`matches`]): `query` itself,
/// and with no arity in `query`, `query/<arity>`.
fn matching_keys<'a>(sorted: &'a [String], query: &str) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    if let Ok(i) = sorted.binary_search_by(|k| k.as_str().cmp(query)) {
        out.push(&sorted[i]);
    }
    if !query.contains('/') {
        out.extend(
            sorted[with_prefix(sorted.len(), |i| &sorted[i], &format!("{query}/"))]
                .iter()
                .map(String::as_str)
                .filter(|k| matches(query, k)),
        );
    }
    out
}

/// The call graph as PageRank walks it: every symbol (defined ones, then callers that
/// define nothing, such as tests) numbered, and each one's callees by number.
#[derive(Debug)]
struct RankIndex {
    names: Vec<String>,
    /// Callees of each node (those that are nodes), in the order of its calls.
    edges: Vec<Vec<u32>>,
    /// Whether each node is a defined symbol (only those are ranked).
    defined: Vec<bool>,
    /// Every node, by name.
    by_name: Vec<u32>,
    /// The defined nodes, by name (the order of equal ranks).
    defined_by_name: Vec<u32>,
    /// The first definition site of each defined node, for the repository map.
    first_site: Vec<Option<SymbolSite>>,
    /// Whether the definitions come from more than one repository.
    several_repos: bool,
}

impl RankIndex {
    fn build(g: &SymbolGraph) -> RankIndex {
        let mut ids: HashMap<&str, usize> = HashMap::default();
        let mut names: Vec<String> = Vec::new();
        for s in g
            .defs
            .keys()
            .map(String::as_str)
            .chain(g.out.keys().map(String::as_str))
        {
            if !ids.contains_key(s) {
                ids.insert(s, names.len());
                names.push(s.to_string());
            }
        }
        let mut edges: Vec<Vec<u32>> = vec![Vec::new(); names.len()];
        for (caller, callees) in &g.out {
            let from = ids[caller.as_str()];
            for callee in callees {
                // A recursive call is an edge for `callers` and `callees`, not a vote; nor
                // is a struct's pattern or literal (`%Range{} = r` in a head): a struct
                // matched everywhere is not what the code is about (hex's and
                // eventstore's maps were half `defstruct` lines).
                if let Some(&to) = ids.get(callee.as_str())
                    && to != from
                    && !callee
                        .rsplit_once('/')
                        .is_some_and(|(h, _)| h.ends_with(".__struct__"))
                {
                    edges[from].push(to as u32);
                }
            }
        }
        let defined: Vec<bool> = names.iter().map(|s| g.defs.contains_key(s)).collect();
        let mut by_name: Vec<u32> = (0..names.len() as u32).collect();
        by_name.sort_unstable_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
        let defined_by_name = by_name
            .iter()
            .copied()
            .filter(|&i| defined[i as usize])
            .collect();
        let first_site = names
            .iter()
            .map(|s| g.defs.get(s).and_then(|sites| sites.first()).cloned())
            .collect();
        let mut repos = g.defs.values().flatten().map(|site| site.repo.as_str());
        let several_repos = repos
            .next()
            .is_some_and(|first| repos.any(|repo| repo != first));
        RankIndex {
            names,
            edges,
            defined,
            by_name,
            defined_by_name,
            first_site,
            several_repos,
        }
    }

    /// The nodes a focus on `f` names: `f` itself, `f/<arity>` when `f` has no arity, and
    /// the symbols of module `f` and its submodules (`f.`), sorted.
    fn focused(&self, focus: &[String]) -> Vec<usize> {
        let name = |position: usize| self.names[self.by_name[position] as usize].as_str();
        let mut out: Vec<usize> = Vec::new();
        for f in focus {
            // `f` itself sorts first among the names that start with it.
            let exact = with_prefix(self.by_name.len(), name, f).start;
            if exact < self.by_name.len() && name(exact) == f {
                out.push(self.by_name[exact] as usize);
            }
            for prefix in [format!("{f}/"), format!("{f}.")] {
                out.extend(
                    with_prefix(self.by_name.len(), name, &prefix)
                        .filter(|&p| matches(f, name(p)) || in_module(f, name(p)))
                        .map(|p| self.by_name[p] as usize),
                );
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The nodes reachable from `start` through calls (`start` included), sorted.
    fn reachable_from(&self, start: &[usize]) -> Vec<usize> {
        let mut seen = vec![false; self.names.len()];
        let mut stack: Vec<usize> = start.to_vec();
        for &i in start {
            seen[i] = true;
        }
        let mut out = Vec::new();
        while let Some(i) = stack.pop() {
            out.push(i);
            for &t in &self.edges[i] {
                if !seen[t as usize] {
                    seen[t as usize] = true;
                    stack.push(t as usize);
                }
            }
        }
        out.sort_unstable();
        out
    }
}

/// A file's part of the repository map: module -> (line, rendered entry).
type ModuleEntries<'a> = BTreeMap<&'a str, Vec<(u32, String)>>;

/// The number of decimal digits of `n`.
fn decimal_digits(n: u32) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Whether `symbol` belongs to module `module` (`Mod` names `Mod.fun/1`).
fn in_module(module: &str, symbol: &str) -> bool {
    symbol.len() > module.len()
        && symbol.starts_with(module)
        && symbol.as_bytes()[module.len()] == b'.'
}

/// `Mod.fun/2` or `Mod.fun` (any arity): what a look-up names.
fn matches(query: &str, symbol: &str) -> bool {
    if query == symbol {
        return true;
    }
    !query.contains('/')
        && symbol
            .rsplit_once('/')
            .is_some_and(|(base, _)| base == query)
}

/// Sites by repository, path, line and symbol, each once.
fn by_place(mut sites: Vec<SymbolSite>) -> Vec<SymbolSite> {
    sites.sort_by(|a, b| {
        (&a.repo, &a.path, a.start_line, &a.symbol).cmp(&(
            &b.repo,
            &b.path,
            b.start_line,
            &b.symbol,
        ))
    });
    sites.dedup();
    sites
}

/// Every value of `map` whose key a look-up of `symbol` names (`keys`: the map's keys,
/// sorted).
fn matching<T: Clone>(map: &HashMap<String, Vec<T>>, keys: &[String], symbol: &str) -> Vec<T> {
    matching_keys(keys, symbol)
        .into_iter()
        .flat_map(|k| map[k].iter().cloned())
        .collect()
}

impl SymbolGraph {
    /// Builds the graph from chunks (typically every chunk of some repositories).
    pub fn build<'a>(chunks: impl IntoIterator<Item = &'a Chunk>) -> SymbolGraph {
        let mut g = SymbolGraph::part(chunks);
        g.finish();
        g
    }

    /// What needs every definition in: the calls without a module, the child specs,
    /// the functions `use`s define, the implementers through chained `use`s; then each
    /// symbol's callees and sites in one order.
    fn finish(&mut self) {
        self.fold_quote_helpers();
        // Before the calls without a module: an imported module's generated functions
        // are imported (`import MyApp.Factory` brings ExMachina's `insert/2`), and a
        // module's own are called by name.
        let generated = self.used_definitions();
        for (symbol, sites) in generated {
            self.defs.entry(symbol).or_default().extend(sites);
        }
        for (symbol, site) in self.macro_definitions() {
            // Called by name in their module, as those a `use` defines.
            self.generated_in.insert(site.module.clone());
            self.defs.entry(symbol).or_default().push(site);
        }
        for (symbol, site) in self.returned_name_definitions() {
            self.generated_in.insert(site.module.clone());
            self.defs.entry(symbol).or_default().push(site);
        }
        self.template_definitions();
        self.resolve_pending();
        self.call_as_written();
        self.deliver_to_registered();
        self.resolve_child_specs();
        self.resolve_live_mounts();
        self.resolve_runtime_calls();
        self.resolve_controller_renders();
        self.chain_implementers();
        self.dedup_out();
        self.sort_sites();
    }

    /// Sends a message to a registered name to the callbacks of the modules that
    /// register it, where the name's own module has none: `GenServer.call(BorsNG.GitHub,
    /// msg)` in `BorsNG.GitHub` runs `BorsNG.GitHub.Server.handle_call/3`, whose
    /// `start_link` registers `name: GitHub`.
    fn deliver_to_registered(&mut self) {
        if self.registered.is_empty() {
            return;
        }
        let mut moved: HashMap<String, Vec<String>> = HashMap::default();
        for callee in self.incoming.keys() {
            let Some((head, arity)) = callee.rsplit_once('/') else {
                continue;
            };
            let Some((name, fun)) = head.rsplit_once('.') else {
                continue;
            };
            if !matches!(fun, "handle_call" | "handle_cast" | "handle_info")
                || self.defs.contains_key(callee)
            {
                continue;
            }
            let Some(modules) = self.registered.get(name) else {
                continue;
            };
            let to: Vec<String> = (modules.iter())
                .map(|m| format!("{m}.{fun}/{arity}"))
                .filter(|s| self.defs.contains_key(s))
                .collect();
            if !to.is_empty() {
                moved.insert(callee.clone(), to);
            }
        }
        if moved.is_empty() {
            return;
        }
        for (from, to) in &moved {
            let sites = self.incoming.remove(from).unwrap_or_default();
            for t in to {
                self.incoming.entry(t.clone()).or_default().extend(&sites);
            }
        }
        for callees in self.out.values_mut() {
            if callees.iter().any(|c| moved.contains_key(c)) {
                *callees = (callees.iter())
                    .flat_map(|c| match moved.get(c) {
                        Some(to) => to.clone(),
                        None => vec![c.clone()],
                    })
                    .collect();
            }
        }
    }

    /// Gives each `__using__/1`, `__before_compile__/1` and zero-arity function (a `use
    /// Mod, :which` one) what the quotes of the functions of its own module that it
    /// calls (directly or through others of its module) bring:
    /// `Phoenix.Endpoint.__using__/1` unquotes `server()`, whose quote defines
    /// `start_link/1`; `Phoenix.Router.__using__/1` unquotes `prelude/1`,
    /// whose quote imports `Phoenix.Router` and sets its `@before_compile`.
    fn fold_quote_helpers(&mut self) {
        let quotes = |g: &SymbolGraph, k: &str| {
            g.quoted_defs.contains_key(k)
                || g.quoted_uses.contains_key(k)
                || g.quoted_imports.contains_key(k)
                || g.quoted_aliases.contains_key(k)
        };
        let mut folds: Vec<(String, String)> = Vec::new();
        let mut seen: Vec<&String> = Vec::new();
        for (key, callees) in &self.out {
            let Some((head, arity)) = key.rsplit_once('/') else {
                continue;
            };
            let Some((module, fun)) = head.rsplit_once('.') else {
                continue;
            };
            if !(matches!(fun, "__using__" | "__before_compile__") || arity == "0") {
                continue;
            }
            let own = |callee: &String| {
                (callee.strip_prefix(module))
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_uppercase()))
            };
            // The module's functions it calls, and theirs in turn (a helper's helper:
            // `__using__` unquotes `schema(opts)`, which unquotes `fields()`), breadth
            // first, each once, at most [`MAX_HELPER_DEPTH`] calls below it.
            seen.clear();
            seen.push(key);
            let mut level: Vec<&String> = callees.iter().filter(|c| own(c)).collect();
            for _ in 0..MAX_HELPER_DEPTH {
                let mut next: Vec<&String> = Vec::new();
                for callee in level {
                    if seen.len() >= MAX_HELPERS {
                        break;
                    }
                    if seen.contains(&callee) {
                        continue;
                    }
                    seen.push(callee);
                    if quotes(self, callee) {
                        folds.push((key.clone(), callee.clone()));
                    }
                    next.extend(
                        self.out
                            .get(callee)
                            .into_iter()
                            .flatten()
                            .filter(|c| own(c)),
                    );
                }
                if next.is_empty() {
                    break;
                }
                level = next;
            }
        }
        // In one order however the graph was put together.
        folds.sort_unstable();
        folds.dedup();
        for (key, helper) in folds {
            if let Some(defs) = self.quoted_defs.get(&helper).cloned() {
                self.quoted_defs
                    .entry(key.clone())
                    .or_default()
                    .extend(defs);
            }
            fn add_new<T: PartialEq>(to: &mut Vec<T>, from: Vec<T>) {
                for x in from {
                    if !to.contains(&x) {
                        to.push(x);
                    }
                }
            }
            if let Some(uses) = self.quoted_uses.get(&helper).cloned() {
                add_new(self.quoted_uses.entry(key.clone()).or_default(), uses);
            }
            if let Some(aliases) = self.quoted_aliases.get(&helper).cloned() {
                add_new(self.quoted_aliases.entry(key.clone()).or_default(), aliases);
            }
            if let Some((modules, filters)) = self.quoted_imports.get(&helper).cloned() {
                let (to, to_filters) = self.quoted_imports.entry(key).or_default();
                for m in modules {
                    let list = (filters.iter())
                        .find(|f| f.module == m)
                        .map(ImportFilter::as_list);
                    ImportFilter::record(to, to_filters, m, list);
                }
            }
        }
    }

    /// Whether the module of `header` (in its repository) writes `symbol` itself.
    fn module_writes(&self, header: &SymbolSite, symbol: &str) -> bool {
        self.defs.get(symbol).is_some_and(|sites| {
            (sites.iter()).any(|s| s.module == header.symbol && s.repo == header.repo)
        })
    }

    /// The functions macros of other files define in the modules that call them, from
    /// the calls' arguments ([`MacroTemplate`]): `pipeline :browser do … end` after `use
    /// Phoenix.Router` defines `browser/2` in the router. The macro is one the module
    /// imports (itself, or through a `use`), or is named with its module; each function
    /// is sited at the call, where the module does not write it itself.
    fn macro_definitions(&mut self) -> Vec<(String, SymbolSite)> {
        let mut out: Vec<(String, SymbolSite)> = Vec::new();
        let calls = std::mem::take(&mut self.macro_calls);
        let pipeline = |m: &MacroCalls| m.calls.iter().any(|c| c.name == "pipeline");
        let none_quoted = self.macro_templates.is_empty() && self.quoted_defs.is_empty();
        if none_quoted && !calls.iter().any(pipeline) {
            return out;
        }
        let mut made: HashSet<(String, String)> = HashSet::default();
        let mut implementing: Vec<(String, SymbolSite)> = Vec::new();
        // What the functions a macro's quote names define call ([`Self::add_calls`] once
        // every site is in).
        let mut calling: Vec<(SymbolSite, Vec<String>)> = Vec::new();
        for m in calls {
            if none_quoted && !pipeline(&m) {
                continue;
            }
            // Where a call without a module may come from: the module's imports, then
            // what its `use`s (and theirs) import, each with its `only:` / `except:`.
            let mut uses = m.uses.clone();
            self.chain_uses(&mut uses);
            let filter_of = |filters: &[ImportFilter], module: &str| {
                filters.iter().find(|f| f.module == module).cloned()
            };
            let mut from: Vec<(&str, Option<ImportFilter>)> = (m.imports.iter())
                .map(|i| (i.as_str(), filter_of(&m.import_filters, i)))
                .collect();
            for used in uses.iter().filter(|u| !is_hook(u)) {
                for key in use_keys(used) {
                    if let Some((modules, filters)) = self.quoted_imports.get(&key) {
                        from.extend(modules.iter().map(|i| (i.as_str(), filter_of(filters, i))));
                    }
                }
            }
            // The macros of this module's calls whose quotes it implements, once each.
            let mut implemented: HashSet<String> = HashSet::default();
            for call in &m.calls {
                let call_key = format!("{}/{}", call.name, call.arity);
                // The macro called: named with its module, or one the module imports.
                let macro_key = match call.name.contains('.') {
                    true => Some(call_key.clone()).filter(|k| {
                        self.macro_templates.contains_key(k) || self.quoted_defs.contains_key(k)
                    }),
                    false => from.iter().find_map(|(module, filter)| {
                        let admitted =
                            (filter.as_ref()).is_none_or(|f| f.admits(&call_key, ChunkKind::Macro));
                        let key = format!("{module}.{call_key}");
                        let known = self.macro_templates.contains_key(&key)
                            || self.quoted_defs.contains_key(&key);
                        (admitted && known).then_some(key)
                    }),
                };
                let found = macro_key.as_ref().and_then(|k| self.macro_templates.get(k));
                // What its quote `use`s or declares (`@behaviour OpenApiSpex.Schema` in
                // `OpenApiSpex.schema/2`'s): the calling module implements it, as a
                // module that `use`s a quote doing so does.
                if let Some(k) = macro_key
                    .as_ref()
                    .filter(|k| self.quoted_uses.contains_key(*k))
                    && implemented.insert(k.clone())
                {
                    implementing.push((k.clone(), m.header.clone()));
                }
                // The functions its quote defines by a name of their own (`def schema, do:
                // @schema`, a `defstruct`), as a `use`'s quote defines them.
                let quoted = macro_key.as_ref().and_then(|k| self.quoted_defs.get(k));
                for d in quoted.into_iter().flatten() {
                    for &arity in &d.arities {
                        let symbol = crate::chunk::symbol(&m.header.symbol, &d.name, arity);
                        if self.module_writes(&m.header, &symbol)
                            || !made.insert((symbol.clone(), m.header.repo.clone()))
                        {
                            continue;
                        }
                        let site = SymbolSite {
                            symbol: symbol.clone(),
                            kind: d.kind,
                            signature: d.signature.clone(),
                            visibility: d.visibility,
                            start_line: call.line,
                            end_line: call.line,
                            generated_by: macro_key.clone(),
                            quoted_at: quote_place(d),
                            ..m.header.clone()
                        };
                        if !d.calls.is_empty() {
                            // `__MODULE__.fun/1` is the calling module's `fun/1`.
                            let calls = (d.calls.iter())
                                .map(|c| match c.strip_prefix("__MODULE__") {
                                    Some(rest) => format!("{}{rest}", m.header.symbol),
                                    None => c.clone(),
                                })
                                .collect();
                            calling.push((site.clone(), calls));
                        }
                        out.push((symbol, site));
                    }
                }
                // The macro of the module's own repository, where several hold it.
                let own = |all: &Vec<Templates>| {
                    (all.iter().position(|(f, _)| f.repo == m.header.repo)).unwrap_or(0)
                };
                // Phoenix's router, its source not indexed: `pipeline :browser do … end`
                // defines `browser/2`, a plug of the router.
                if found.is_none()
                    && call.name == "pipeline"
                    && call.arity == 2
                    && uses.iter().any(|u| u == "Phoenix.Router")
                    && !self
                        .macro_templates
                        .keys()
                        .any(|k| k.starts_with("Phoenix.Router."))
                    && let Some(crate::chunk::MacroCallArg::Atom(name)) = call.args.first()
                {
                    let symbol = crate::chunk::symbol(&m.header.symbol, name, 2);
                    if !self.module_writes(&m.header, &symbol)
                        && made.insert((symbol.clone(), m.header.repo.clone()))
                    {
                        let site = SymbolSite {
                            symbol: symbol.clone(),
                            kind: ChunkKind::Function,
                            signature: format!("pipeline :{name} do"),
                            visibility: Visibility::Public,
                            start_line: call.line,
                            end_line: call.line,
                            generated_by: Some("Phoenix.Router".to_string()),
                            quoted_at: None,
                            ..m.header.clone()
                        };
                        out.push((symbol, site));
                    }
                    continue;
                }
                let Some((file, templates)) = found.and_then(|all| all.get(own(all))) else {
                    continue;
                };
                for t in templates {
                    let Some((name, arities, head)) = crate::chunk::instantiate(t, &call.args)
                    else {
                        continue;
                    };
                    for arity in arities {
                        let symbol = crate::chunk::symbol(&m.header.symbol, &name, arity);
                        if self.module_writes(&m.header, &symbol)
                            || !made.insert((symbol.clone(), m.header.repo.clone()))
                        {
                            continue;
                        }
                        let site = SymbolSite {
                            symbol: symbol.clone(),
                            kind: t.kind,
                            signature: head.clone(),
                            visibility: match t.keyword.ends_with('p') {
                                true => Visibility::Private,
                                false => Visibility::Public,
                            },
                            start_line: call.line,
                            end_line: call.line,
                            generated_by: Some(file.symbol.clone()),
                            quoted_at: (t.lines != (0, 0)).then(|| QuotedAt {
                                file: QuoteFile::clone(file),
                                start_line: t.lines.0,
                                end_line: t.lines.1,
                            }),
                            ..m.header.clone()
                        };
                        out.push((symbol, site));
                    }
                }
            }
        }
        // A quoted function calls what its clauses call: with a module, and the calling
        // module's functions it writes or a macro defines.
        let made: HashSet<&str> = out.iter().map(|(s, _)| s.as_str()).collect();
        let mut linked: Vec<(SymbolSite, Vec<String>)> = Vec::new();
        for (site, calls) in calling {
            let own = format!("{}.", site.module);
            let calls: Vec<String> = (calls.into_iter())
                .filter(|c| {
                    !c.starts_with(&own) || self.defs.contains_key(c) || made.contains(c.as_str())
                })
                .collect();
            linked.push((site, calls));
        }
        for (site, calls) in linked {
            self.add_calls(&site, &calls, false);
        }
        for (key, module) in implementing {
            self.implementers.entry(key).or_default().push(module);
        }
        out
    }

    /// The functions a `for` names after what a function returns: `for {name, _} <-
    /// Nx.Shared.unary_math_funs() do def unquote(name)(tensor)` defines `Nx.exp/1`,
    /// `Nx.log/1`... when `unary_math_funs/0` returns a literal keyword list. Each is sited
    /// at the definition the `for` writes, with its head naming it. Where several places
    /// define the function, the `for`'s own repository's comes first, then code outside
    /// tests, then the first by path, line and repository: the same however the graph was
    /// put together.
    fn returned_name_definitions(&mut self) -> Vec<(String, SymbolSite)> {
        let mut named_by = std::mem::take(&mut self.named_by);
        // In one order however the graph was put together, for the cap below.
        named_by.sort_by(|(a, _, _), (b, _, _)| {
            (&a.repo, &a.path, a.start_line, &a.symbol).cmp(&(
                &b.repo,
                &b.path,
                b.start_line,
                &b.symbol,
            ))
        });
        let returns = std::mem::take(&mut self.returns);
        let mut out: Vec<(String, SymbolSite)> = Vec::new();
        let mut made: HashSet<(String, String, String, u32)> = HashSet::default();
        let test_code = |s: &SymbolSite| s.path.starts_with("test/") || s.path.contains("/test/");
        for (site, from, calling) in named_by {
            let Some(list) = (returns.get(&from.function).into_iter().flatten())
                .min_by(|(a, _), (b, _)| {
                    (
                        a.repo != site.repo,
                        test_code(a),
                        &a.path,
                        a.start_line,
                        &a.repo,
                    )
                        .cmp(&(
                            b.repo != site.repo,
                            test_code(b),
                            &b.path,
                            b.start_line,
                            &b.repo,
                        ))
                })
                .map(|(_, list)| list)
            else {
                continue;
            };
            if list.pairs != from.pairs {
                continue;
            }
            let Some((_, arity)) = site.symbol.rsplit_once('/') else {
                continue;
            };
            let Ok(arity) = arity.parse::<u32>() else {
                continue;
            };
            for atom in &list.atoms {
                if out.len() >= MAX_NAMED_BY_RETURNS {
                    break;
                }
                let symbol = crate::chunk::symbol(&site.module, atom, arity);
                let written = self.defs.get(&symbol).is_some_and(|sites| {
                    (sites.iter()).any(|s| s.module == site.module && s.repo == site.repo)
                });
                let place = (
                    symbol.clone(),
                    site.repo.clone(),
                    site.path.clone(),
                    site.start_line,
                );
                if written || !made.insert(place) {
                    continue;
                }
                let named = SymbolSite {
                    symbol: symbol.clone(),
                    signature: site.signature.replacen(from.written.as_str(), atom, 1),
                    named_after: Some(from.function.clone()),
                    ..site.clone()
                };
                if let Some(at) = calling {
                    self.named_calls
                        .push((named.clone(), site.symbol.clone(), at));
                }
                out.push((symbol, named));
            }
        }
        out
    }

    /// Each function a `for` names after what a function returns calls what the
    /// definition it is written as calls (once its calls without a module are resolved),
    /// in the order it calls them: that definition's own calls, by its position among the
    /// callers (another `for` of the module may write a definition of the same name and
    /// arity). The functions stand for that definition among its callees' callers: it
    /// would count each of its calls once more (`Nx.unquote(name)/1` beside `Nx.exp/1`,
    /// `Nx.log/1`...). Its own callees stay (`callees Nx.unquote(name)/1` answers what the
    /// code as written calls, and the rank counts its calls as one node's).
    fn call_as_written(&mut self) {
        let named = std::mem::take(&mut self.named_calls);
        if named.is_empty() {
            return;
        }
        let wanted: HashSet<u32> = named.iter().map(|(_, _, at)| *at).collect();
        let mut calls_of: HashMap<u32, HashSet<String>> = HashMap::default();
        for (callee, callers) in &mut self.incoming {
            for at in callers.iter().filter(|at| wanted.contains(at)) {
                calls_of.entry(*at).or_default().insert(callee.clone());
            }
            callers.retain(|at| !wanted.contains(at));
        }
        self.incoming.retain(|_, callers| !callers.is_empty());
        for (site, written, at) in named {
            let Some(own) = calls_of.get(&at) else {
                continue;
            };
            let mut calls: Vec<String> = (self.out.get(&written).into_iter().flatten())
                .filter(|c| own.contains(c.as_str()))
                .cloned()
                .collect();
            dedup_keep_first(&mut calls);
            self.add_calls(&site, &calls, false);
        }
    }

    /// The functions the modules' `use`s define in them (through chained `use`s too),
    /// where the module does not write them itself (`defoverridable` lets it): `use
    /// GenServer` defines `child_spec/1`, `use Ecto.Repo` defines `all/2`, `get/3`...
    /// Each is sited at the using module's header, by the first `use` that defines it.
    fn used_definitions(&mut self) -> HashMap<String, Vec<SymbolSite>> {
        let mut out: HashMap<String, Vec<SymbolSite>> = HashMap::default();
        // What they call (in the order they are found, as one build and merged parts
        // find them).
        // With the using module's `use`s and imports, for the calls without a module.
        type Calling = (SymbolSite, Vec<(String, bool)>, (Vec<String>, Imports));
        let mut calling: Vec<Calling> = Vec::new();
        // Needed here only.
        let using = std::mem::take(&mut self.using);
        // The calls without a module of those functions' clauses, with the using
        // module's imports: resolved as its own code's are (`request_path(conn)` in
        // `use Support.Mixins`'s quote, through the import `use Ueberauth.Strategy`
        // made).
        for (header, mut uses, imports) in using {
            let own_uses = uses.clone();
            let direct = uses.len();
            self.chain_uses(&mut uses);
            // Which of the module's own `use`s placed each function: a later one's
            // definition replaces an earlier one's (`use Ueberauth.Strategy`, whose
            // quote marks `extra/1` overridable, then `use Support.Mixins` defining it).
            let mut placed: HashMap<String, usize> = HashMap::default();
            for (j, used) in uses.iter().enumerate() {
                // `Mod` or `Mod.which/0`: the module whose quote it is.
                let from = match used.rsplit_once('/') {
                    Some((head, _)) => head.rsplit_once('.').map_or(head, |(m, _)| m),
                    None => used.as_str(),
                };
                let keys = use_keys(used);
                // `Mod.which/0` is kept under itself only.
                let keys = if keys[0] == keys[1] {
                    &keys[..1]
                } else {
                    &keys[..]
                };
                let mut defs: Vec<&QuotedDef> = (keys.iter())
                    .flat_map(|key| self.quoted_defs.get(key).into_iter().flatten())
                    .collect();
                // The standard library's or a known library's, where its source is not
                // indexed (an indexed `__using__` may define nothing itself, and leave it
                // to the `use`s its quote makes), and what no source says.
                let indexed = !defs.is_empty() || self.defs.contains_key(&keys[0]);
                let known = known_use(used, indexed);
                defs.extend(&known);
                for d in defs {
                    for &arity in &d.arities {
                        let symbol = crate::chunk::symbol(&header.symbol, &d.name, arity);
                        // Written by the module itself; a type of the name (Distillery's
                        // `@type verbosity` beside the `verbosity/0` its `use` defines)
                        // is no function.
                        let written = self.defs.get(&symbol).is_some_and(|sites| {
                            (sites.iter()).any(|s| {
                                s.module == header.symbol
                                    && s.repo == header.repo
                                    && s.kind != ChunkKind::Type
                            })
                        });
                        let sites = out.entry(symbol.clone()).or_default();
                        let place = |s: &SymbolSite| {
                            (&s.repo, &s.path, s.start_line)
                                == (&header.repo, &header.path, header.start_line)
                        };
                        if written {
                            continue;
                        }
                        if let Some(at) = sites.iter().position(place) {
                            let earlier = placed.get(&symbol).is_some_and(|&i| i < j);
                            if !(earlier && j < direct) {
                                continue;
                            }
                            let replaced = sites.remove(at);
                            calling.retain(|(s, ..)| *s != replaced);
                        }
                        placed.insert(symbol.clone(), j);
                        let site = SymbolSite {
                            symbol,
                            kind: d.kind,
                            signature: d.signature.clone(),
                            // A `@moduledoc false` module hides what its `use` defines,
                            // as it hides what it writes.
                            visibility: match (d.visibility, header.visibility) {
                                (Visibility::Public, Visibility::Hidden) => Visibility::Hidden,
                                (own, _) => own,
                            },
                            generated_by: Some(from.to_string()),
                            quoted_at: quote_place(d),
                            ..header.clone()
                        };
                        if !d.calls.is_empty() {
                            // `__MODULE__.fun/1` is the using module's `fun/1`.
                            let calls = (d.calls.iter())
                                .map(|c| match c.strip_prefix("__MODULE__") {
                                    Some(rest) => (format!("{}{rest}", header.symbol), true),
                                    None => (c.clone(), false),
                                })
                                .collect();
                            let scope = (own_uses.clone(), imports.clone());
                            calling.push((site.clone(), calls, scope));
                        }
                        sites.push(site);
                    }
                }
            }
        }
        // A function a `use` defines calls what its quoted clauses call: with a module,
        // and the using module's functions, written or generated (a call by name of one
        // it does not define is imported, or Kernel's: not followed here).
        for (site, calls, (uses, imports)) in calling {
            let mut bare: Vec<String> = Vec::new();
            let calls: Vec<String> = (calls.into_iter())
                .filter(|(c, own)| {
                    let defined = !own || self.defs.contains_key(c) || out.contains_key(c);
                    if !defined && let Some(call) = c.strip_prefix(&format!("{}.", site.module)) {
                        bare.push(call.to_string());
                    }
                    defined
                })
                .map(|(c, _)| c)
                .collect();
            if let Some(caller) = self.add_calls(&site, &calls, !bare.is_empty())
                && !bare.is_empty()
            {
                self.pending.push(Unqualified {
                    caller,
                    imports,
                    calls: bare,
                    plugged: Vec::new(),
                    uses,
                    aliased: Vec::new(),
                });
            }
        }
        out.retain(|_, sites| !sites.is_empty());
        self.generated_in = (out.values().flatten()).map(|s| s.module.clone()).collect();
        out
    }

    /// Each `.heex` file a module's `embed_templates` finds defines a function of that
    /// module (`page_html/home.html.heex`: `PageHTML.home/1`), at the file, whose calls
    /// are the components the template renders: the module's own (its templates' too),
    /// then those its imports (and its `use`s' quoted imports) bring; those named with a
    /// module through its aliases. Every module whose pattern finds a file defines its
    /// own. A template no module embeds is a caller of its own, as any other file's text.
    fn template_definitions(&mut self) {
        let chunks = std::mem::take(&mut self.template_chunks);
        let embeds = std::mem::take(&mut self.embeds);
        if chunks.is_empty() {
            return;
        }
        let all = (embeds.iter()).flat_map(|e| e.patterns.iter().map(move |p| (e, p)));
        let matchers: Vec<(&Embeds, &EmbeddedTemplates, globset::GlobMatcher)> = (all.clone())
            .filter(|(_, p)| p.of != TemplatesOf::Colocated)
            .filter_map(|(e, p)| Some((e, p, p.matcher()?)))
            .collect();
        // A LiveView's template is beside its file, by name: looked up, not globbed (every
        // module with a `use` and no `render/1` has one to look for).
        let mut colocated: HashMap<(&str, &str), Vec<(&Embeds, &EmbeddedTemplates)>> =
            HashMap::default();
        for (e, p) in all.filter(|(_, p)| p.of == TemplatesOf::Colocated) {
            (colocated.entry((e.repo.as_str(), p.pattern.as_str())))
                .or_default()
                .push((e, p));
        }
        // A file's chunks together, in one order however the graph was put together.
        let mut files: BTreeMap<(&str, &str), Vec<&TemplateChunk>> = BTreeMap::new();
        for c in &chunks {
            (files.entry((c.site.repo.as_str(), c.site.path.as_str())))
                .or_default()
                .push(c);
        }
        // Every template's function first: templates render one another (`new` and
        // `edit` render `<.post_form>`) in any order of their files.
        let mut defined: Vec<TemplateFile> = Vec::new();
        for ((repo, path), mut parts) in files {
            parts.sort_by_key(|c| c.site.start_line);
            let mut sites: Vec<(&Embeds, SymbolSite)> = Vec::new();
            let mut found: Vec<(&Embeds, &EmbeddedTemplates, String)> = Vec::new();
            for (embeds, pattern, matcher) in matchers.iter().filter(|(e, _, _)| e.repo == repo) {
                if let Some(name) = pattern.function_for(matcher, path) {
                    found.push((embeds, pattern, name));
                }
            }
            let dir_len = path.rfind('/').map_or(0, |i| i + 1);
            if let Some((stem, extensions)) = path[dir_len..].split_once('.')
                && extensions.starts_with("html.")
                && extensions.ends_with("eex")
                && let Some(modules) = colocated.get(&(repo, &path[..dir_len + stem.len()]))
            {
                found.extend(modules.iter().map(|(e, p)| (*e, *p, "render".to_string())));
            }
            for (embeds, pattern, name) in found {
                let symbol = format!("{}.{name}/{}", embeds.module, pattern.arity());
                if sites.iter().any(|(_, s)| s.symbol == symbol) {
                    continue;
                }
                let first = &parts[0].site;
                let site = SymbolSite {
                    symbol: symbol.clone(),
                    module: embeds.module.clone(),
                    start_line: first.start_line,
                    end_line: parts.iter().map(|c| c.site.end_line).max().unwrap_or(1),
                    kind: ChunkKind::Function,
                    signature: pattern.signature(&name),
                    visibility: Visibility::Public,
                    generated_by: Some(pattern.generated_by().to_string()),
                    ..first.clone()
                };
                let sites_of = self.defs.entry(symbol).or_default();
                if !sites_of
                    .iter()
                    .any(|s| s.path == site.path && s.repo == site.repo)
                {
                    sites_of.push(site.clone());
                }
                // Called by name in its module, as a function a `use` defines is
                // (LiveAdmin's `def render("layout.html", a), do: layout(a)`).
                self.generated_in.insert(embeds.module.clone());
                sites.push((embeds, site));
            }
            defined.push((parts, sites));
        }
        for (parts, sites) in defined {
            if sites.is_empty() {
                for c in parts {
                    self.add_template_caller(&c.site, &c.calls, &c.unqualified, None);
                }
                continue;
            }
            // One caller, as a split definition is one: the calls of every part.
            let (mut calls, mut unqualified) = (Vec::new(), Vec::new());
            for c in &parts {
                calls.extend(c.calls.iter().cloned());
                unqualified.extend(c.unqualified.iter().cloned());
            }
            dedup_keep_first(&mut calls);
            dedup_keep_first(&mut unqualified);
            for (embeds, site) in sites {
                self.add_template_caller(&site, &calls, &unqualified, Some(embeds));
            }
        }
    }

    /// Links a template's components from `caller`: those the embedding module defines
    /// directly, those named through its aliases expanded, the others (and those named
    /// through its `use`s' aliases) once every import is resolved.
    fn add_template_caller(
        &mut self,
        caller: &SymbolSite,
        written: &[String],
        unqualified_written: &[String],
        by: Option<&Embeds>,
    ) {
        let mut calls: Vec<String> = (written.iter())
            .map(|call| {
                let first = call.split(['.', '/']).next().unwrap_or(call);
                let alias = by.and_then(|e| e.aliases.iter().rev().find(|(s, _)| s == first));
                match alias {
                    Some((_, full)) => format!("{full}{}", &call[first.len()..]),
                    None => call.clone(),
                }
            })
            .collect();
        let mut unqualified = Vec::new();
        for call in unqualified_written {
            match by.map(|e| format!("{}.{call}", e.module)) {
                Some(own) if self.defs.contains_key(&own) => calls.push(own),
                _ => unqualified.push(call.clone()),
            }
        }
        let (imports, uses) = match by {
            Some(e) => (e.imports.clone(), e.uses.clone()),
            None => (Imports::default(), Vec::new()),
        };
        let aliased: Vec<String> = match uses.is_empty() {
            true => Vec::new(),
            false => calls.clone(),
        };
        let pending = !unqualified.is_empty() || !aliased.is_empty();
        if let Some(site) = self.add_calls(caller, &calls, pending)
            && pending
        {
            self.pending.push(Unqualified {
                caller: site,
                imports,
                calls: unqualified,
                plugged: Vec::new(),
                uses,
                aliased,
            });
        }
    }

    /// Resolves the calls without a module: each to the first of the caller's imports,
    /// then Kernel, that defines `fun/arity` publicly or names it in an `only:` list;
    /// else to the first import that is a library module with no indexed definition
    /// whose known exports ([`known_export`]) hold it. A call to nothing known stays
    /// out.
    fn resolve_pending(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        // Most modules import alike (nothing, or the same few), so a resolution is
        // looked up once per import list and call.
        let mut known: HashMap<Imports, HashMap<String, Option<String>>> = HashMap::default();
        let mut resolved: Vec<String> = Vec::new();
        // The known library modules with no definition indexed: calls through an import
        // of one resolve through what the library is known to export.
        let unindexed: HashSet<&'static str> = (known_imports::KNOWN_EXPORTS.iter())
            .chain(known_stdlib::KNOWN_STDLIB_EXPORTS)
            .map(|k| k.0)
            .filter(|m| !self.defs.contains_key(*m))
            .collect();
        for mut p in pending {
            self.chain_uses(&mut p.uses);
            self.resolve_used_aliases(&p);
            self.add_used_imports(&mut p);
            let cache = match known.get_mut(&p.imports) {
                Some(cache) => cache,
                None => known.entry(p.imports.clone()).or_default(),
            };
            resolved.clear();
            let caller = &self.caller_sites[p.caller as usize];
            let module = &caller.module;
            // The functions a `use` (or a macro's call) defines in the caller's own module
            // (those it writes were resolved by the chunker). The module's body runs as
            // it compiles, before they exist: what it seems to call by their names is a
            // macro's argument (`defwrite(insert(changeset))`). Its plugs are not: they
            // run on each request (`pipe_through :browser` calls what `pipeline`
            // defines).
            let generated_here = self.generated_in.contains(module);
            let module_level = caller.kind == ChunkKind::ModuleHeader;
            let calls =
                (p.calls.iter().map(|c| (c, false))).chain(p.plugged.iter().map(|c| (c, true)));
            for (call, plugged) in calls {
                if generated_here && (!module_level || plugged) {
                    let own = format!("{module}.{call}");
                    if self.defs.contains_key(&own) {
                        resolved.push(own);
                        continue;
                    }
                }
                let target = match cache.get(call.as_str()) {
                    Some(target) => target,
                    None => {
                        let (modules, filters) = &p.imports;
                        // `only:` and `except:` (also on Kernel's implicit import). One
                        // module imported twice (by two `use`s' quotes, Kino's
                        // `Kino.JS.Live` and `Kino.SmartCell`) imports as its last import
                        // says, which the order gathered may not tell: what either admits.
                        let filters_of = |m: &str| -> Vec<&ImportFilter> {
                            filters.iter().filter(|f| f.module == m).collect()
                        };
                        let admits = |m: &str, kind: ChunkKind| {
                            let of = filters_of(m);
                            of.is_empty() || of.iter().any(|f| f.admits(call, kind))
                        };
                        let found = modules
                            .iter()
                            .map(String::as_str)
                            .chain(IMPLICIT_IMPORTS)
                            .map(|m| (m, format!("{m}.{call}")))
                            .find(|(m, symbol)| {
                                // `import` brings in public functions and macros only
                                // (`@doc false` ones too: hidden from docs, not from
                                // callers).
                                let defined = self.defs.get(symbol).is_some_and(|sites| {
                                    sites.iter().any(|s| {
                                        s.visibility != Visibility::Private && admits(m, s.kind)
                                    })
                                });
                                // `import Ecto.Query, only: [from: 2]` says where `from/2`
                                // comes from, even when Ecto is not indexed here.
                                let named = || {
                                    filters_of(m).iter().any(|f| {
                                        !f.except
                                            && f.select.is_none()
                                            && f.names.iter().any(|n| n == call)
                                    })
                                };
                                defined || named()
                            })
                            .map(|(_, symbol)| symbol)
                            // `import Ecto.Changeset` then `cast(...)`, Ecto not indexed
                            // (a Mix project's `deps/` is git-ignored): what is indexed
                            // decides first.
                            .or_else(|| {
                                (modules.iter().map(String::as_str))
                                    .filter(|m| unindexed.contains(m))
                                    .find(|m| {
                                        known_export(m, call).is_some_and(|is_macro| {
                                            let kind = if is_macro {
                                                ChunkKind::Macro
                                            } else {
                                                ChunkKind::Function
                                            };
                                            admits(m, kind)
                                        })
                                    })
                                    .map(|m| format!("{m}.{call}"))
                            });
                        cache.entry(call.clone()).or_insert(found)
                    }
                };
                // Repeats are skipped by `link`.
                if let Some(t) = target {
                    resolved.push(t.clone());
                }
            }
            if !resolved.is_empty() {
                let symbol = self.caller_sites[p.caller as usize].symbol.clone();
                self.link(p.caller, &symbol, &resolved);
            }
        }
    }

    /// A supervisor that starts a child `{Mod, arg}` calls `Mod.child_spec/1`. Where no
    /// code writes that function, `Mod` has the one its `use GenServer` (or
    /// `Supervisor`, `Agent`, `Task`, and most `use`s that make a process) defines,
    /// which starts `Mod.start_link/1`: the supervisor is linked to that too, when it is
    /// defined (written, or defined by a `use`).
    fn resolve_child_specs(&mut self) {
        let mut links: Vec<(u32, String)> = Vec::new();
        for (callee, sites) in &self.incoming {
            let Some(module) = callee.strip_suffix(".child_spec/1") else {
                continue;
            };
            let start = format!("{module}.start_link/1");
            // A `child_spec/1` a `use` defines starts `start_link/1` too.
            let written = (self.defs.get(callee))
                .is_some_and(|sites| sites.iter().any(|s| s.generated_by.is_none()));
            if !written && self.defs.contains_key(&start) {
                links.extend(sites.iter().map(|&site| (site, start.clone())));
            }
        }
        // In the same order however the graph was put together.
        links.sort_unstable();
        for (site, start) in links {
            let symbol = self.caller_sites[site as usize].symbol.clone();
            self.link(site, &symbol, &[start]);
        }
    }

    /// A call through a module chosen at run time (`?.random_between/2` for Faker's
    /// `Application.get_env(:faker, :random_module).random_between(a, b)`) calls the
    /// callback of that name and arity, where exactly one indexed behaviour declares one
    /// (`Faker.Random.random_between/2`): the behaviour's modules are what it is given.
    /// Where none or several do, the call is left out: it names nothing known.
    fn resolve_runtime_calls(&mut self) {
        let prefix = format!("{}.", crate::chunk::RUNTIME_MODULE);
        let runtime: Vec<String> = (self.incoming.keys())
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        if runtime.is_empty() {
            return;
        }
        // `fun/arity` → the behaviours declaring it as a callback.
        let mut declaring: HashMap<String, Vec<String>> = HashMap::default();
        for site in self.defs.values().flatten() {
            if !(site.signature.starts_with("@callback")
                || site.signature.starts_with("@macrocallback"))
            {
                continue;
            }
            if let Some(local) = (site.symbol.strip_prefix(site.module.as_str()))
                .and_then(|rest| rest.strip_prefix('.'))
            {
                let modules = declaring.entry(local.to_string()).or_default();
                if !modules.contains(&site.module) {
                    modules.push(site.module.clone());
                }
            }
        }
        // The behaviours declaring each call's name: one, or several (Assent's three
        // strategy bases each declare `default_config/1`).
        let mut moved: Vec<(String, Vec<u32>, Vec<String>)> = Vec::new();
        for key in runtime {
            let local = &key[prefix.len()..];
            let candidates = (declaring.get(local).into_iter().flatten())
                .map(|behaviour| format!("{behaviour}.{local}"))
                .collect();
            let sites = self.incoming.remove(&key).unwrap_or_default();
            moved.push((key, sites, candidates));
        }
        // In the same order however the graph was put together.
        moved.sort_unstable();
        self.unlink(
            moved
                .iter()
                .flat_map(|(key, sites, _)| sites.iter().map(move |&s| (s, key))),
        );
        for (_, sites, candidates) in moved {
            for site in sites {
                let caller = &self.caller_sites[site as usize];
                // The one behaviour declaring it; of several, the caller's own module's
                // (`|> strategy.default_config()` in the base that declares it).
                // Else the one that modules implement (DBConnection's `Pool`, beside
                // `Holder`'s and `Ownership.Manager`'s callbacks of the same names).
                let implemented = |c: &&String| {
                    let module = c.rsplit_once('/').and_then(|(h, _)| h.rsplit_once('.'));
                    module.is_some_and(|(m, _)| {
                        self.implementers.get(m).is_some_and(|i| !i.is_empty())
                    })
                };
                let callback = match &candidates[..] {
                    [one] => Some(one),
                    several => (several.iter())
                        .find(|c| {
                            c.strip_prefix(caller.module.as_str()).is_some_and(|rest| {
                                rest.starts_with('.') && !rest[1..].contains('.')
                            })
                        })
                        .or_else(|| match several.iter().filter(implemented).count() {
                            1 => several.iter().find(implemented),
                            _ => None,
                        }),
                };
                // A callback its behaviour also writes as a function (a facade: `def
                // up(opts), do: migrator().up(opts)` beside `@callback up`; Mint's
                // `Extension.encode/2`) shares one name with it: a link would read as a
                // call of that function (itself, for the facade), not of an
                // implementation.
                // (Unless the behaviour implements itself, Mneme's `@behaviour __MODULE__`
                // test runner: its function is the default implementation.)
                let implements_itself = |c: &str| {
                    let module = c.rsplit_once('/').and_then(|(h, _)| h.rsplit_once('.'));
                    module.is_some_and(|(m, _)| {
                        (self.implementers.get(m).into_iter().flatten()).any(|s| s.symbol == m)
                    })
                };
                // The facade's dispatch reaches its implementations' functions instead
                // (Snap's `HTTPClient.request/6` calls `adapter.request(…)`).
                let Some(callback) = callback else {
                    continue;
                };
                let targets =
                    match !self.callback_is_a_function(callback) || implements_itself(callback) {
                        true => vec![callback.clone()],
                        false => self.facade_implementations(callback, &caller.symbol),
                    };
                if targets.is_empty() {
                    continue;
                }
                let symbol = caller.symbol.clone();
                self.link(site, &symbol, &targets);
            }
        }
    }

    /// The functions a facade's run-time call reaches (`def request(…)` calling
    /// `adapter.request(…)` beside `@callback request`): callback `callback`'s name and
    /// arity in each module implementing its behaviour, other than `caller`. None when
    /// the facade is not written in the project (`Mix.Task.run/1`), or when more than
    /// [`MAX_FACADE_IMPLEMENTATIONS`] modules would each read as called.
    fn facade_implementations(&self, callback: &str, caller: &str) -> Vec<String> {
        let Some((module, local)) = (callback.rsplit_once('/'))
            .and_then(|(head, _)| head.rsplit_once('.'))
            .map(|(module, _)| (module, &callback[module.len() + 1..]))
        else {
            return Vec::new();
        };
        if !self.defs.contains_key(callback) {
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for site in self.implementers.get(module).into_iter().flatten() {
            let function = format!("{}.{local}", site.symbol);
            if function != callback
                && function != caller
                && self.defs.contains_key(&function)
                && !out.contains(&function)
            {
                out.push(function);
            }
            if out.len() > MAX_FACADE_IMPLEMENTATIONS {
                return Vec::new();
            }
        }
        out.sort_unstable();
        out
    }

    /// Takes each `(caller site, callee)` out of its caller's callees, one pass over each
    /// caller's list (a caller of thousands of such callees is not read once per callee).
    fn unlink<'k>(&mut self, pairs: impl Iterator<Item = (u32, &'k String)>) {
        let mut by_caller: HashMap<String, HashSet<&'k str>> = HashMap::default();
        for (site, callee) in pairs {
            let symbol = &self.caller_sites[site as usize].symbol;
            (by_caller.entry(symbol.clone()).or_default()).insert(callee.as_str());
        }
        for (symbol, gone) in by_caller {
            if let Some(out) = self.out.get_mut(&symbol) {
                out.retain(|c| !gone.contains(c.as_str()));
            }
        }
    }

    /// A Phoenix controller's `render(conn, "index.json", assigns)` renders through the
    /// view named after it (`ChatApiWeb.TagController`'s `ChatApiWeb.TagView`): it calls
    /// the view's `render/2`, where one is defined.
    fn resolve_controller_renders(&mut self) {
        let mut links: Vec<(u32, String)> = Vec::new();
        for callee in ["Phoenix.Controller.render/2", "Phoenix.Controller.render/3"] {
            for &site in self.incoming.get(callee).into_iter().flatten() {
                let caller = &self.caller_sites[site as usize];
                let Some(base) = caller.module.strip_suffix("Controller") else {
                    continue;
                };
                let render = format!("{base}View.render/2");
                if self.defs.contains_key(&render) {
                    links.push((site, render));
                }
            }
        }
        // In the same order however the graph was put together.
        links.sort_unstable();
        links.dedup();
        for (site, render) in links {
            let symbol = self.caller_sites[site as usize].symbol.clone();
            self.link(site, &symbol, &[render]);
        }
        // Phoenix 1.7: `render(conn, :index)` in `PageController` renders `PageHTML`'s
        // `index/1` (the chunker's reading), or `PageJSON`'s where that one is defined;
        // with neither, the template is none of the project's and there is no call.
        let mut moved: Vec<(String, u32, Option<String>)> = Vec::new();
        for (callee, sites) in &self.incoming {
            let Some((module, fun)) = callee.rsplit_once('.') else {
                continue;
            };
            let Some(base) = module.strip_suffix("HTML") else {
                continue;
            };
            if !fun.ends_with("/1") || self.defs.contains_key(callee) {
                continue;
            }
            let controller = format!("{base}Controller");
            let json = format!("{base}JSON.{fun}");
            let json = self.defs.contains_key(&json).then_some(json);
            for &site in sites {
                if self.caller_sites[site as usize].module == controller {
                    moved.push((callee.clone(), site, json.clone()));
                }
            }
        }
        // In the same order however the graph was put together.
        moved.sort_unstable();
        for (callee, site, _) in &moved {
            if let Some(sites) = self.incoming.get_mut(callee) {
                sites.retain(|s| s != site);
                if sites.is_empty() {
                    self.incoming.remove(callee);
                }
            }
        }
        self.unlink(moved.iter().map(|(callee, site, _)| (*site, callee)));
        for (_, site, json) in moved {
            if let Some(json) = json {
                let symbol = self.caller_sites[site as usize].symbol.clone();
                self.link(site, &symbol, &[json]);
            }
        }
    }

    /// A live route (`live "/x", MyLive`) calls the LiveView's `mount/3`; a LiveView
    /// without one (it is optional) renders at once: the route calls its `render/1`
    /// instead, not a `mount/3` no code defines.
    fn resolve_live_mounts(&mut self) {
        let mut moved: Vec<(String, Vec<u32>, String)> = Vec::new();
        for (callee, sites) in &self.incoming {
            let Some(module) = callee.strip_suffix(".mount/3") else {
                continue;
            };
            let render = format!("{module}.render/1");
            if !self.defs.contains_key(callee) && self.defs.contains_key(&render) {
                moved.push((callee.clone(), sites.clone(), render));
            }
        }
        // In the same order however the graph was put together.
        moved.sort_unstable();
        for (callee, _, _) in &moved {
            self.incoming.remove(callee);
        }
        self.unlink(
            (moved.iter()).flat_map(|(callee, sites, _)| sites.iter().map(move |&s| (s, callee))),
        );
        for (_, sites, render) in moved {
            for site in sites {
                let symbol = self.caller_sites[site as usize].symbol.clone();
                self.link(site, &symbol, std::slice::from_ref(&render));
            }
        }
    }

    /// Links a caller's calls through an alias its module's `use`s make (`Repo.get/1`
    /// after a `use` whose quoted code does `alias MyApp.Repo`) to the module the alias
    /// names, instead of the alias as written.
    fn resolve_used_aliases(&mut self, p: &Unqualified) {
        if p.aliased.is_empty() {
            return;
        }
        let mut aliases: Vec<&(String, String)> = Vec::new();
        for key in (p.uses.iter())
            .filter(|u| !is_hook(u))
            .flat_map(|u| use_keys(u))
        {
            aliases.extend(self.quoted_aliases.get(&key).into_iter().flatten());
        }
        if aliases.is_empty() {
            return;
        }
        let mut relinked: Vec<(String, String)> = Vec::new();
        for call in &p.aliased {
            let first = call.split(['.', '/']).next().unwrap_or(call);
            if let Some((_, full)) = aliases.iter().rev().find(|(short, _)| short == first) {
                relinked.push((call.clone(), format!("{full}{}", &call[first.len()..])));
            }
        }
        if relinked.is_empty() {
            return;
        }
        let symbol = self.caller_sites[p.caller as usize].symbol.clone();
        let expanded: Vec<String> = relinked.iter().map(|(_, e)| e.clone()).collect();
        for (written, _) in &relinked {
            if let Some(out) = self.out.get_mut(&symbol) {
                out.retain(|c| c != written);
            }
            if let Some(sites) = self.incoming.get_mut(written) {
                sites.retain(|&s| s != p.caller);
                if sites.is_empty() {
                    self.incoming.remove(written);
                }
            }
        }
        self.link(p.caller, &symbol, &expanded);
    }

    /// Adds to `uses` what their quoted code `use`s in turn (`use Tesla` runs
    /// `use Tesla.Builder`), breadth first, each once, at most [`MAX_USE_DEPTH`] deep.
    fn chain_uses(&self, uses: &mut Vec<String>) {
        if self.quoted_uses.is_empty() {
            return;
        }
        let mut level = 0..uses.len();
        for _ in 0..MAX_USE_DEPTH {
            let mut next: Vec<String> = Vec::new();
            for used in &uses[level.clone()] {
                for key in use_keys(used) {
                    for more in self.quoted_uses.get(&key).into_iter().flatten() {
                        if !uses.contains(more) && !next.contains(more) {
                            next.push(more.clone());
                        }
                    }
                }
            }
            next.truncate(MAX_CHAINED_USES.saturating_sub(uses.len()));
            if next.is_empty() {
                return;
            }
            level = uses.len()..uses.len() + next.len();
            uses.extend(next);
        }
    }

    /// `chunk`'s imports and their filters with what its module's `use`s import added
    /// after its own, as the graph resolves its calls without a module: a bare
    /// `helper(1)` beside a `Syn.Util.helper(3)` is `Syn.Util`'s when a `use` imports it.
    pub fn imports_with_uses(&self, chunk: &Chunk) -> (Vec<String>, Vec<ImportFilter>) {
        let mut uses = chunk.uses.clone();
        self.chain_uses(&mut uses);
        let mut imports = (chunk.imports.clone(), chunk.import_filters.clone());
        self.add_imports_of_uses(&uses, &mut imports, true);
        imports
    }

    /// Adds to a caller's imports what its module's `use`s import (after its own).
    fn add_used_imports(&self, p: &mut Unqualified) {
        self.add_imports_of_uses(&p.uses, &mut p.imports, true);
    }

    /// Adds to `imports` what `uses` import (after what it holds): their quoted
    /// imports where indexed, else (with `known`) what the library is known to import.
    fn add_imports_of_uses(&self, uses: &[String], imports: &mut Imports, known: bool) {
        // A module imported again adds what its new import admits (see
        // `resolve_pending`): a filter more, or none at all once one import has none.
        let mut add = |m: &str, filter: Option<&ImportFilter>| {
            let filtered = imports.1.iter().any(|f| f.module == m);
            if !imports.0.iter().any(|i| i == m) {
                imports.0.push(m.to_string());
                if let Some(f) = filter {
                    imports.1.push(f.clone());
                }
            } else if filtered {
                match filter {
                    Some(f) if !imports.1.contains(f) => imports.1.push(f.clone()),
                    Some(_) => {}
                    None => imports.1.retain(|f| f.module != m),
                }
            }
        };
        for used in uses.iter().filter(|u| !is_hook(u)) {
            let keys = use_keys(used);
            let mut quoted = false;
            for key in &keys {
                let Some((modules, filters)) = self.quoted_imports.get(key) else {
                    continue;
                };
                quoted = true;
                for m in modules {
                    add(m, filters.iter().find(|f| &f.module == m));
                }
            }
            if known && !quoted && !self.defs.contains_key(&keys[0]) {
                for (m, filter) in known_use_imports(used) {
                    add(m, filter.as_ref());
                }
            }
        }
    }

    /// The graph of several sets of chunks built apart (in parallel, each set dropped
    /// once its part is built): [`SymbolGraph::part`] of each set, merged in order. The
    /// result equals [`SymbolGraph::build`] over all the chunks in that order.
    pub fn merge(parts: impl IntoIterator<Item = SymbolGraph>) -> SymbolGraph {
        let mut g = SymbolGraph::default();
        for part in parts {
            let SymbolGraph {
                defs,
                out,
                incoming,
                caller_sites,
                pending,
                quoted_imports,
                quoted_aliases,
                quoted_uses,
                quoted_defs,
                using,
                implementers,
                macro_templates,
                macro_calls,
                embeds,
                template_chunks,
                returns,
                named_by,
                registered,
                declared_only,
                ..
            } = part;
            g.declared_only.extend(declared_only);
            for (name, modules) in registered {
                g.registered.entry(name).or_default().extend(modules);
            }
            for (function, places) in returns {
                g.returns.entry(function).or_default().extend(places);
            }
            g.embeds.extend(embeds);
            g.template_chunks.extend(template_chunks);
            for (symbol, templates) in macro_templates {
                let all = g.macro_templates.entry(symbol).or_default();
                for (file, t) in templates {
                    if all.iter().all(|(f, _)| f.repo != file.repo) {
                        all.push((file, t));
                    }
                }
            }
            g.macro_calls.extend(macro_calls);
            for (symbol, defs) in quoted_defs {
                g.quoted_defs.entry(symbol).or_insert(defs);
            }
            g.using.extend(using);
            for (behaviour, sites) in implementers {
                g.implementers.entry(behaviour).or_default().extend(sites);
            }
            for (symbol, aliases) in quoted_aliases {
                g.quoted_aliases.entry(symbol).or_insert(aliases);
            }
            for (symbol, uses) in quoted_uses {
                g.quoted_uses.entry(symbol).or_insert(uses);
            }
            for (symbol, sites) in defs {
                g.defs.entry(symbol).or_default().extend(sites);
            }
            for (symbol, imports) in quoted_imports {
                g.quoted_imports.entry(symbol).or_insert(imports);
            }
            let offset = g.caller_sites.len() as u32;
            g.caller_sites.extend(caller_sites);
            g.named_by.extend(
                (named_by.into_iter()).map(|(site, from, at)| (site, from, at.map(|i| i + offset))),
            );
            g.pending.extend(pending.into_iter().map(|p| Unqualified {
                caller: p.caller + offset,
                ..p
            }));
            for (callee, sites) in incoming {
                g.incoming
                    .entry(callee)
                    .or_default()
                    .extend(sites.into_iter().map(|i| i + offset));
            }
            for (caller, callees) in out {
                g.out.entry(caller).or_default().extend(callees);
            }
        }
        g.finish();
        g
    }

    /// A module implements what the modules it `use`s `use` in their quoted code:
    /// `use MyAppWeb, :live_view` runs `use Phoenix.LiveView`, so the live views
    /// implement `Phoenix.LiveView`. The `use Mod, :which` keys (`Mod.which/0`) are
    /// dropped once followed: they name no behaviour.
    fn chain_implementers(&mut self) {
        let mut added: Vec<(String, Vec<SymbolSite>)> = Vec::new();
        for (used, sites) in &self.implementers {
            // Only the modules that `use` it run its quote's `use`s.
            let sites: Vec<SymbolSite> = (sites.iter())
                .filter(|s| !(self.declared_only).contains(&(used.clone(), s.module.clone())))
                .cloned()
                .collect();
            if sites.is_empty() {
                continue;
            }
            let mut uses = vec![used.clone()];
            self.chain_uses(&mut uses);
            // What a library's `use` declares, its source not indexed ([`USE_BEHAVIOURS`]).
            for u in &uses {
                for (_, declared) in USE_BEHAVIOURS.iter().filter(|(library, _)| library == u) {
                    added.extend(declared.iter().map(|b| (b.to_string(), sites.clone())));
                }
            }
            for u in uses.into_iter().skip(1) {
                // A quoted `@behaviour Plug` declares what the using module implements.
                let u = match u.strip_prefix(crate::chunk::QUOTED_BEHAVIOUR) {
                    Some(declared) => declared.to_string(),
                    None if u.contains('/') => continue,
                    None => u,
                };
                added.push((u, sites.clone()));
            }
        }
        self.implementers.retain(|used, _| !used.contains('/'));
        for (behaviour, sites) in added {
            self.implementers
                .entry(behaviour)
                .or_default()
                .extend(sites);
        }
    }

    /// The graph of one set of chunks, its definition sites not yet sorted: a part for
    /// [`SymbolGraph::merge`].
    pub fn part<'a>(chunks: impl IntoIterator<Item = &'a Chunk>) -> SymbolGraph {
        let mut g = SymbolGraph::default();
        for chunk in chunks {
            let mut sources = 0;
            for name in
                (chunk.tags.iter()).filter_map(|t| t.strip_prefix(crate::chunk::REGISTERS_TAG))
            {
                let modules = g.registered.entry(name.to_string()).or_default();
                if !modules.contains(&chunk.module) {
                    modules.push(chunk.module.clone());
                }
            }
            // `Mox.defmock(MockMod, for: B)`: the mock implements `B`, made where the
            // `defmock` is written.
            for tag in &chunk.tags {
                let Some((mock, made)) =
                    (tag.strip_prefix(crate::chunk::MOCK_TAG)).and_then(|t| t.split_once('='))
                else {
                    continue;
                };
                let (behaviour, line) = match made.rsplit_once('@') {
                    Some((b, line)) => (b, line.parse().unwrap_or(chunk.start_line)),
                    None => (made, chunk.start_line),
                };
                let site = SymbolSite {
                    symbol: mock.to_string(),
                    module: mock.to_string(),
                    repo: chunk.repo.clone(),
                    path: chunk.path.clone(),
                    start_line: line,
                    end_line: line,
                    kind: ChunkKind::ModuleHeader,
                    signature: format!("defmock {mock}, for: {behaviour}"),
                    visibility: Visibility::Public,
                    generated_by: None,
                    quoted_at: None,
                    named_after: None,
                };
                g.declared_only
                    .insert((behaviour.to_string(), mock.to_string()));
                g.implementers
                    .entry(behaviour.to_string())
                    .or_default()
                    .push(site);
            }
            for def in &chunk.defines {
                let site = |symbol: String| SymbolSite {
                    symbol,
                    module: def.module.clone(),
                    repo: chunk.repo.clone(),
                    path: chunk.path.clone(),
                    start_line: if def.line > 0 {
                        def.line
                    } else {
                        chunk.start_line
                    },
                    end_line: def.end_line.max(def.line).max(chunk.start_line),
                    kind: def.kind,
                    signature: if def.signature.is_empty() {
                        chunk.signature.clone()
                    } else {
                        def.signature.clone()
                    },
                    visibility: def.visibility,
                    generated_by: None,
                    quoted_at: None,
                    named_after: None,
                };
                // `defimpl P, for: [A, B]`: the chunker gives `B`'s copy `B`'s own calls.
                let calls = &def.calls;
                // What a `use` of this definition (or module) brings, by the symbol
                // (or module) a `use` names.
                let quotes = !def.quoted_aliases.is_empty()
                    || !def.quoted_uses.is_empty()
                    || !def.quoted_defs.is_empty()
                    || !def.quoted_imports.is_empty();
                if quotes {
                    let keys = match def.kind {
                        ChunkKind::ModuleHeader => vec![def.module.clone()],
                        _ => def.symbols(),
                    };
                    for k in keys {
                        if !def.quoted_aliases.is_empty() {
                            (g.quoted_aliases.entry(k.clone()))
                                .or_insert_with(|| def.quoted_aliases.clone());
                        }
                        if !def.quoted_uses.is_empty() {
                            (g.quoted_uses.entry(k.clone()))
                                .or_insert_with(|| def.quoted_uses.clone());
                        }
                        if !def.quoted_defs.is_empty() {
                            (g.quoted_defs.entry(k.clone())).or_insert_with(|| {
                                let file = std::sync::Arc::new(QuoteFile {
                                    symbol: k.clone(),
                                    repo: chunk.repo.clone(),
                                    path: chunk.path.clone(),
                                });
                                let mut defs = def.quoted_defs.clone();
                                for d in &mut defs {
                                    d.quoted_in = Some(file.clone());
                                }
                                defs
                            });
                        }
                        if !def.quoted_imports.is_empty() {
                            g.quoted_imports.entry(k).or_insert_with(|| {
                                let filters = def.quoted_import_filters.clone();
                                (def.quoted_imports.clone(), filters)
                            });
                        }
                    }
                }
                if let Some(atoms) = &def.returns {
                    for k in def.symbols() {
                        let place = site(k.clone());
                        g.returns.entry(k).or_default().push((place, atoms.clone()));
                    }
                }
                if !def.templates.is_empty() {
                    for k in def.symbols() {
                        let all = g.macro_templates.entry(k.clone()).or_default();
                        if all.iter().all(|(f, _)| f.repo != chunk.repo) {
                            let file = Arc::new(QuoteFile {
                                symbol: k,
                                repo: chunk.repo.clone(),
                                path: chunk.path.clone(),
                            });
                            all.push((file, def.templates.clone()));
                        }
                    }
                }
                // A module's own header (not a test's, whose `use`s are the test
                // module's, holding a module defined in its body).
                let own = chunk.module == def.module || chunk.also_modules.contains(&def.module);
                if def.kind == ChunkKind::ModuleHeader
                    && chunk.kind == ChunkKind::ModuleHeader
                    && own
                {
                    for b in implemented(chunk) {
                        let header = site(def.module.clone());
                        if !chunk.uses.iter().any(|u| u == b) {
                            g.declared_only.insert((b.to_string(), def.module.clone()));
                        }
                        g.implementers
                            .entry(b.to_string())
                            .or_default()
                            .push(header);
                    }
                    // `@derive P` on a struct: the implementation `P.Struct`, at the
                    // struct's header, as a `defimpl` is its module.
                    // `derive:P@Parent.Meta`: an inline embed's (see the chunker's
                    // `inline_embeds`).
                    for derive in (chunk.tags.iter()).filter_map(|t| t.strip_prefix("derive:")) {
                        let (p, derived) = derive.split_once('@').unwrap_or((derive, &def.module));
                        let module = format!("{p}.{derived}");
                        let implementation = SymbolSite {
                            module: module.clone(),
                            ..site(module)
                        };
                        (g.implementers.entry(p.to_string()).or_default()).push(implementation);
                    }
                    let uses: Vec<String> = (chunk.uses.iter())
                        .filter(|u| !u.is_empty())
                        .cloned()
                        .collect();
                    if !def.embedded_templates.is_empty() {
                        g.embeds.push(Embeds {
                            module: def.module.clone(),
                            repo: chunk.repo.clone(),
                            patterns: def.embedded_templates.clone(),
                            imports: (chunk.imports.clone(), chunk.import_filters.clone()),
                            uses: uses.clone(),
                            // Shown as `Mod` or `Mod as Short`.
                            aliases: (chunk.aliases.iter())
                                .map(|a| match a.split_once(" as ") {
                                    Some((full, short)) => (short.to_string(), full.to_string()),
                                    None => {
                                        let short = a.rsplit('.').next().unwrap_or(a);
                                        (short.to_string(), a.clone())
                                    }
                                })
                                .collect(),
                        });
                    }
                    if !def.macro_calls.is_empty() {
                        g.macro_calls.push(MacroCalls {
                            header: site(def.module.clone()),
                            imports: chunk.imports.clone(),
                            import_filters: chunk.import_filters.clone(),
                            uses: uses.clone(),
                            calls: def.macro_calls.clone(),
                        });
                    }
                    if !uses.is_empty() {
                        let imports = (chunk.imports.clone(), chunk.import_filters.clone());
                        g.using.push((site(def.module.clone()), uses, imports));
                    }
                } else if def.kind == ChunkKind::ModuleHeader
                    && !(def.uses.is_empty() && def.behaviours.is_empty())
                {
                    // A module a test defines in its body, with its own `use`s and
                    // `@behaviour`s.
                    let header = site(def.module.clone());
                    for b in def.behaviours.iter().filter(|b| !def.uses.contains(b)) {
                        g.declared_only.insert((b.clone(), def.module.clone()));
                    }
                    let uses = def.uses.iter().filter(|u| !u.contains('/'));
                    for implemented in uses.chain(&def.behaviours) {
                        (g.implementers.entry(implemented.clone()).or_default())
                            .push(header.clone());
                    }
                    if !def.uses.is_empty() {
                        g.using.push((header, def.uses.clone(), Imports::default()));
                    }
                }
                // A module a test defines in its body: its module-level code's calls
                // (`use Membrane.Sink`, `def_input_pad :input`), as a header's.
                if def.kind == ChunkKind::ModuleHeader
                    && !own
                    && (!def.calls.is_empty()
                        || !def.unqualified_calls.is_empty()
                        || !def.scoped_calls.is_empty())
                {
                    let start_line = site(String::new()).start_line;
                    let header = SymbolSite {
                        symbol: format!("{}:{start_line} {}", chunk.path, def.module),
                        ..site(def.module.clone())
                    };
                    g.add_caller(
                        &header,
                        calls,
                        &def.unqualified_calls,
                        &[],
                        &def.scoped_calls,
                        chunk,
                    );
                }
                for symbol in def.symbols() {
                    let site = site(symbol.clone());
                    // A function `defexception` implies calls nothing written.
                    if def.kind.is_callable() && !def.implied {
                        sources += 1;
                        let position = g.caller_sites.len() as u32;
                        g.add_caller(
                            &site,
                            calls,
                            &def.unqualified_calls,
                            &[],
                            &def.scoped_calls,
                            chunk,
                        );
                        if let Some(from) = &def.names_from {
                            let calling =
                                (g.caller_sites.len() as u32 > position).then_some(position);
                            g.named_by.push((site.clone(), from.clone(), calling));
                        }
                    }
                    g.defs.entry(symbol).or_default().push(site);
                }
            }
            // A function's chunk holds plugs only in module-level code.
            if !chunk.module_calls.is_empty()
                || !chunk.module_unqualified_calls.is_empty()
                || (chunk.kind.is_callable() && !chunk.plugged_calls.is_empty())
            {
                // Module-level code in a function's chunk (an attribute's value): the
                // module calls these when it compiles, not the function.
                let mut source = source_site(chunk, &format!("{}{MODULE_BODY}", chunk.module));
                source.kind = ChunkKind::ModuleHeader;
                source.signature.clear();
                g.add_caller(
                    &source,
                    &chunk.module_calls,
                    &chunk.module_unqualified_calls,
                    &chunk.plugged_calls,
                    &[],
                    chunk,
                );
            }
            // A template's components are the calls of the function the module that
            // embeds it defines: known once every chunk is in.
            // One that renders no component still defines its function.
            if chunk.kind == ChunkKind::Text
                && [".heex", ".eex", ".leex"]
                    .iter()
                    .any(|e| chunk.path.ends_with(e))
            {
                g.template_chunks.push(TemplateChunk {
                    site: source_site(chunk, &chunk.display_symbol()),
                    calls: chunk.calls.clone(),
                    unqualified: chunk.unqualified_calls.clone(),
                });
                continue;
            }
            // A test is a source of its own calls even when it defines modules in its
            // body, whose functions are sources of theirs.
            if (sources == 0 || chunk.kind.is_test())
                && (!chunk.calls.is_empty()
                    || !chunk.plugged_calls.is_empty()
                    || chunk.all_unqualified_calls().next().is_some())
            {
                // A test, a module header or a script, each part of a split one a source
                // of its own (but not the other parts of a split definition: the part
                // with its head carries the calls of them all).
                if chunk.kind.is_callable() && chunk.part.is_some() {
                    continue;
                }
                let source = source_site(chunk, &chunk.display_symbol());
                // A header's plugs (a function's are its module-level code's, above).
                let plugged = match chunk.kind.is_callable() {
                    true => &[][..],
                    false => &chunk.plugged_calls[..],
                };
                g.add_caller(
                    &source,
                    &chunk.calls,
                    &chunk.unqualified_calls,
                    plugged,
                    &chunk.scoped_calls,
                    chunk,
                );
            }
        }
        g
    }

    /// Orders each symbol's sites: functions before a `@callback` of the same name and
    /// arity (`Swoosh.ApiClient.post/4` is its `def`, which a call runs, before its
    /// callback), then by path and line.
    fn sort_sites(&mut self) {
        for sites in self.implementers.values_mut() {
            sites.sort_by(site_order);
            sites.dedup();
        }
        for sites in self.defs.values_mut() {
            sites.sort_by(|a, b| {
                (!a.kind.is_callable(), &a.path, a.start_line).cmp(&(
                    !b.kind.is_callable(),
                    &b.path,
                    b.start_line,
                ))
            });
            sites.dedup();
        }
    }

    /// Records `caller`'s calls, and its calls without a module (resolved through the
    /// imports of `chunk`, where it is, or those `scoped` names, once every part is in).
    fn add_caller(
        &mut self,
        caller: &SymbolSite,
        calls: &[String],
        unqualified: &[String],
        plugged: &[String],
        scoped: &[ScopedCalls],
        chunk: &Chunk,
    ) {
        // The `use`s of the caller's module: a module a test defines in its body has its
        // own, then (lexically) the test module's.
        let own_uses = (chunk.defines.iter())
            .filter(|_| chunk.kind.is_test() && caller.module != chunk.module)
            .find(|d| d.kind == ChunkKind::ModuleHeader && d.module == caller.module)
            .map(|d| &d.uses);
        let uses: std::borrow::Cow<'_, [String]> = match own_uses {
            Some(own) => (own.iter().chain(&chunk.uses))
                .fold(Vec::new(), |mut all, u| {
                    if !all.contains(u) {
                        all.push(u.clone());
                    }
                    all
                })
                .into(),
            None => (&chunk.uses[..]).into(),
        };
        // Calls through an alias a `use` may make (`Repo.get/1`): checked once every
        // definition is in.
        let aliased: Vec<String> = if uses.is_empty() {
            Vec::new()
        } else {
            (calls.iter())
                .filter(|c| c.starts_with(|c: char| c.is_ascii_uppercase()))
                .cloned()
                .collect()
        };
        let pending = !unqualified.is_empty()
            || !plugged.is_empty()
            || !aliased.is_empty()
            || scoped.iter().any(|s| !s.calls.is_empty());
        if let Some(caller) = self.add_calls(caller, calls, pending)
            && pending
        {
            if !unqualified.is_empty() || !plugged.is_empty() || !aliased.is_empty() {
                self.pending.push(Unqualified {
                    caller,
                    imports: (chunk.imports.clone(), chunk.import_filters.clone()),
                    calls: unqualified.to_vec(),
                    plugged: plugged.to_vec(),
                    uses: uses.to_vec(),
                    aliased,
                });
            }
            for s in scoped.iter().filter(|s| !s.calls.is_empty()) {
                // A `use` made in the body (or the script) imports what its quote does.
                let (mut scoped_uses, imports) = (uses.to_vec(), Vec::new());
                let imports = (s.imports.iter()).fold(imports, |mut imports, i| {
                    match i.strip_prefix(crate::chunk::SCOPED_USE) {
                        Some(used) => scoped_uses.push(used.to_string()),
                        None => imports.push(i.clone()),
                    }
                    imports
                });
                self.pending.push(Unqualified {
                    caller,
                    imports: (imports, s.import_filters.clone()),
                    calls: s.calls.clone(),
                    plugged: Vec::new(),
                    uses: scoped_uses,
                    aliased: Vec::new(),
                });
            }
        }
    }

    /// Records `caller`'s calls; returns its position in `caller_sites` when it calls
    /// anything (or when `keep` asks for it anyway).
    fn add_calls(&mut self, caller: &SymbolSite, calls: &[String], keep: bool) -> Option<u32> {
        let site = self.caller_sites.len() as u32;
        if self.link(site, &caller.symbol, calls) || keep {
            self.caller_sites.push(caller.clone());
            Some(site)
        } else {
            None
        }
    }

    /// Records calls from the caller at `site` (named `symbol`); whether there were any.
    /// A callee already in the caller's list is pushed again and removed by
    /// [`SymbolGraph::dedup_out`] once every call is in: a generated function can make
    /// tens of thousands of calls, and a check per call would take quadratic time.
    fn link(&mut self, site: u32, symbol: &str, calls: &[String]) -> bool {
        let out = self.out.entry(symbol.to_string()).or_default();
        let mut seen: HashSet<&str> = HashSet::default();
        let mut any = false;
        for (i, callee) in calls.iter().enumerate() {
            let repeat = if calls.len() <= 16 {
                calls[..i].contains(callee)
            } else {
                !seen.insert(callee)
            };
            if repeat {
                continue;
            }
            out.push(callee.clone());
            self.incoming.entry(callee.clone()).or_default().push(site);
            any = true;
        }
        any
    }

    /// Each caller's callees once, in the order first linked.
    fn dedup_out(&mut self) {
        for callees in self.out.values_mut() {
            dedup_keep_first(callees);
        }
    }

    /// Every definition site, each symbol's together, in no particular order.
    pub fn all_definitions(&self) -> impl Iterator<Item = &SymbolSite> {
        self.defs.values().flatten()
    }

    /// Number of defined symbols.
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// Where a symbol a person wrote is defined: [`SymbolGraph::definitions`], or when
    /// nothing is defined under that name, the functions it names without their module or
    /// its first aliases (`handle_frame/3`, `HTTP.request`), in every module. Never for
    /// resolving code: a bare name there is a call through the imports.
    /// Only the sites `keep` keeps count (the repositories asked for).
    pub fn definitions_as_written(
        &self,
        symbol: &str,
        keep: impl Fn(&SymbolSite) -> bool,
    ) -> Vec<SymbolSite> {
        let found: Vec<SymbolSite> = self.definitions(symbol).into_iter().filter(&keep).collect();
        if !found.is_empty() {
            return found;
        }
        let mut out: Vec<SymbolSite> = (self.by_suffix(symbol).into_iter())
            .flat_map(|k| self.defs[k].iter().cloned())
            .filter(&keep)
            .collect();
        out.sort_by(|a, b| {
            a.symbol
                .cmp(&b.symbol)
                .then(a.start_line.cmp(&b.start_line))
        });
        out
    }

    /// Where `Mod.fun/arity` (or `Mod.fun`, any arity, or a module) is defined.
    pub fn definitions(&self, symbol: &str) -> Vec<SymbolSite> {
        if let Some(sites) = self.defs.get(symbol) {
            return sites.clone();
        }
        let mut out = matching(&self.defs, &self.keys().defs, symbol);
        out.sort_by(|a, b| {
            a.symbol
                .cmp(&b.symbol)
                .then(a.start_line.cmp(&b.start_line))
        });
        out
    }

    /// The keys of the functions `symbol` names without their module or its first
    /// aliases (`request/5` or `HTTP.request` for `Mint.HTTP.request/5`), and of the
    /// modules it names without their first aliases, sorted, each once.
    fn by_suffix(&self, symbol: &str) -> Vec<&str> {
        let keys = &self.keys().defs;
        let ends = &self.suffixes.get_or_init(|| Suffixes::build(self, keys)).0;
        let key = |i: usize| keys[ends[i].0 as usize].as_str();
        let end = |i: usize| &key(i)[ends[i].1 as usize..];
        let mut out: Vec<&str> = Vec::new();
        let mut take = |prefix: &str, all: bool| {
            let range = with_prefix(ends.len(), end, prefix);
            out.extend(range.filter(|&i| all || end(i) == symbol).map(key));
        };
        take(symbol, false);
        if !symbol.contains('/') {
            take(&format!("{symbol}/"), true);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Up to `n` defined symbols spelled like `symbol`, most alike first, for a "did you
    /// mean" when it names nothing (`Enum.mapp/2` -> `Enum.map/2`); the symbols spelled
    /// alike but for case come first (`mint.http` -> `Mint.HTTP`), then the functions it
    /// names without their module (`handle_frame` -> `Mint.HTTP2.handle_frame/2`).
    pub fn similar(&self, symbol: &str, n: usize) -> Vec<String> {
        self.similar_where(symbol, n, |_| true)
    }

    /// [`SymbolGraph::similar`] among modules only (a `--module` filter's suggestions).
    pub fn similar_modules(&self, module: &str, n: usize) -> Vec<String> {
        self.similar_where(module, n, |k| {
            !k.contains('/')
                && (k.rsplit('.').next()).is_some_and(|last| last.starts_with(char::is_uppercase))
        })
    }

    /// [`SymbolGraph::similar`] among what can call or be called: functions, macros,
    /// tests' and modules' names, not types (what `callers` and `callees` may suggest).
    pub fn similar_callables(&self, symbol: &str, n: usize) -> Vec<String> {
        self.similar_where(symbol, n, |k| {
            (self.defs.get(k)).is_none_or(|sites| sites.iter().any(|s| s.kind != ChunkKind::Type))
        })
    }

    /// [`SymbolGraph::similar`] among behaviours and protocols with implementations, and
    /// their functions (what `impls` may suggest).
    pub fn similar_behaviours(&self, symbol: &str, n: usize) -> Vec<String> {
        self.similar_where(symbol, n, |k| {
            let module = match k.rsplit_once('/') {
                Some((head, _)) => head.rsplit_once('.').map_or(head, |(m, _)| m),
                None => k,
            };
            self.implementers.contains_key(module)
        })
    }

    fn similar_where(&self, symbol: &str, n: usize, keep: impl Fn(&str) -> bool) -> Vec<String> {
        // A name written without its module (`get_son`), or by its module's last
        // segments (`Helpers.oban_pth/2`), is compared with as many last segments of each
        // name (`get_song!`, `Helpers.oban_path/2`), at its arity only when it gives one.
        fn tail(k: &str, segments: usize, with_arity: bool) -> &str {
            let head = k.rsplit_once('/').map_or(k, |(h, _)| h);
            let start = (head.rmatch_indices('.').nth(segments.saturating_sub(1)))
                .map_or(0, |(i, _)| i + 1);
            match with_arity && head.len() < k.len() {
                true => &k[start..],
                false => &head[start..],
            }
        }
        let with_arity = symbol.contains('/');
        let segments = symbol
            .rsplit_once('/')
            .map_or(symbol, |(h, _)| h)
            .split('.')
            .count();

        // Spelled the same but for case (`mint.http`), then without the module.
        let mut out: Vec<String> = (self.keys().defs.iter())
            .filter(|k| k.eq_ignore_ascii_case(symbol))
            .map(String::clone)
            .chain(self.by_suffix(symbol).into_iter().map(str::to_string))
            .filter(|k| keep(k))
            .take(n)
            .collect();
        let mut scored: Vec<(f64, &str)> = self
            .keys()
            .defs
            .iter()
            .filter(|k| keep(k))
            .map(|k| {
                (
                    strsim::jaro_winkler(symbol, tail(k, segments, with_arity)),
                    k.as_str(),
                )
            })
            .filter(|(score, k)| *score >= 0.85 && !out.iter().any(|o| o == k))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        out.extend(
            scored
                .into_iter()
                .take(n.saturating_sub(out.len()))
                .map(|(_, k)| k.to_string()),
        );
        out
    }

    /// Whether every definition of `symbol` is a copy of a standard library module kept
    /// as data (see `stdlib_copy`).
    pub fn only_stdlib_copies(&self, symbol: &str) -> bool {
        let sites = self.definitions(symbol);
        !sites.is_empty() && sites.iter().all(stdlib_copy)
    }

    /// Whether callback `symbol` is a function of its module too (`Mix.Task.run/1`, a
    /// task's callback and the function that runs a task by name; a behaviour's facade
    /// `def up(opts)` beside `@callback up`): its callers call that function.
    pub fn callback_is_a_function(&self, symbol: &str) -> bool {
        // Declared by a `@callback` and written by a `def` (a protocol's function is its
        // callback: the code calling it is the dispatch to the implementations).
        let sites = || self.defs.get(symbol).into_iter().flatten();
        let callback = |s: &SymbolSite| {
            s.signature.starts_with("@callback") || s.signature.starts_with("@macrocallback")
        };
        let written =
            sites().any(callback) && sites().any(|s| s.kind.is_callable() && !callback(s));
        // Of the standard library's, where it is not indexed.
        const STANDARD: [&str; 3] = [
            "Application.start/2",
            "Application.stop/1",
            "Mix.Task.run/1",
        ];
        written
            || STANDARD.contains(&symbol)
            || symbol.rsplit_once('/').is_some_and(|(head, arity)| {
                head.rsplit_once('.').is_some_and(|(module, name)| {
                    known_export(module, &format!("{name}/{arity}")) == Some(false)
                })
            })
    }

    /// Whether `Mod.fun/arity` (or `Mod.fun`, any arity, or a module) is defined.
    pub fn is_defined(&self, symbol: &str) -> bool {
        self.defs.contains_key(symbol) || !matching_keys(&self.keys().defs, symbol).is_empty()
    }

    /// The implementations of a behaviour or protocol: for a module (`Shop.Storage`), the
    /// modules implementing it (see `implementers`); for a callback (`Shop.Storage.put/2`,
    /// or `Shop.Storage.put` for every arity), the functions they define for it.
    pub fn implementations(&self, symbol: &str) -> Vec<SymbolSite> {
        if let Some(sites) = self.implementers.get(symbol) {
            return sites.clone();
        }
        let (head, arity) = match symbol.rsplit_once('/') {
            Some((head, arity)) => (head, Some(arity)),
            None => (symbol, None),
        };
        let Some((behaviour, fun)) = head.rsplit_once('.') else {
            return Vec::new();
        };
        let Some(sites) = self.implementers.get(behaviour) else {
            return Vec::new();
        };
        // A module defined twice (under `if` and `else`) is looked up once: the look-up
        // finds the functions of both.
        let mut modules: Vec<&SymbolSite> = sites.iter().collect();
        modules.dedup_by(|a, b| (&a.symbol, &a.repo, &a.path) == (&b.symbol, &b.repo, &b.path));
        // Whether the behaviour declares the callback: then a default its own `use`
        // defines implements it.
        let callbacks = self.declared_callbacks(behaviour);
        let declared = (callbacks.iter()).any(|c| match arity {
            Some(_) => c == symbol,
            None => c.rsplit_once('/').is_some_and(|(h, _)| h == head),
        });
        // A behaviour whose callbacks are known and which neither declares this one, nor
        // defines it, nor has its `use` define it for the modules to override: their
        // functions of the name are another behaviour's (Reactor's steps `use
        // Reactor.Step` and implement `Reactor.Mermaid`'s `to_mermaid/2`).
        let foreign = !callbacks.is_empty() && !declared && !self.is_defined(symbol);
        // A callback: declared, or one of a behaviour not indexed that is known
        // (`GenServer.handle_call/3`, not the `child_spec/1` a `use` also defines).
        let callback = declared
            || (callbacks.is_empty()
                && (KNOWN_CALLBACKS.iter()).any(|(b, known)| {
                    *b == behaviour
                        && known.iter().any(|c| match arity {
                            Some(a) => c.rsplit_once('/') == Some((fun, a)),
                            None => c.rsplit_once('/').is_some_and(|(f, _)| f == fun),
                        })
                }));
        let mut quoted_default = false;
        let mut out = Vec::new();
        for m in modules {
            let key = match arity {
                Some(a) => format!("{}.{fun}/{a}", m.symbol),
                None => format!("{}.{fun}", m.symbol),
            };
            // Written functions; the default of a callback that the behaviour's own
            // `use` defines (`use Supavisor.Error` quotes `def log_level(_)`); and, for
            // an indexed behaviour's declared callback, whatever defines it in the
            // module (another module's `use` or macro).
            // In the implementing module's file: two scripts may each define a
            // `Consumer` (gen_stage's examples), each implementing another behaviour.
            // Or what a `use` whose quote declares the behaviour defines (Honeybadger's
            // `use Honeybadger.Filter.Mixin` writes `@behaviour Honeybadger.Filter` and
            // `def filter_context/1`; ExActor's `use ExActor.Strict`, GenServer's
            // `handle_call/3`).
            let sites = self.definitions(&key);
            quoted_default |= (sites.iter()).any(|s| s.generated_by.as_deref() == Some(behaviour));
            out.extend((sites.into_iter()).filter(|s| {
                s.kind.is_callable()
                    && s.module == m.symbol
                    && s.repo == m.repo
                    // A LiveView's `render/1` from its colocated template is the
                    // template's.
                    && (s.path == m.path || crate::chunk::is_template_path(&s.path))
                    && s.generated_by.as_deref().is_none_or(|by| {
                        // A behaviour not indexed whose own `use` defines a known callback
                        // (a LiveView's `render/1` from its colocated template); an
                        // indexed behaviour's declared callback, however the module
                        // defines it (Money's caches: `@behaviour Cache`, then a macro
                        // of `EtsDets` writing `latest_rates/0`).
                        declared || (callback && (by == behaviour || self.use_declares(by, behaviour)))
                    })
            }));
        }
        if foreign && !quoted_default {
            return Vec::new();
        }
        out.sort_by(site_order);
        out.dedup();
        out
    }

    /// Whether a `use` of `used` declares `behaviour` in the using module: its quote (or
    /// a quote of the `use`s it makes) writes `@behaviour behaviour`.
    fn use_declares(&self, used: &str, behaviour: &str) -> bool {
        let mut uses = vec![used.to_string()];
        self.chain_uses(&mut uses);
        (uses.iter().skip(1))
            .any(|u| u.strip_prefix(crate::chunk::QUOTED_BEHAVIOUR) == Some(behaviour))
    }

    /// The callbacks `symbol` (`Mod.fun/arity`) implements: `B.fun/arity` for each
    /// behaviour or protocol `B` its module implements that declares it, or, when `B` is
    /// not indexed, that is one of the behaviours of Elixir, OTP or a common library with
    /// that callback ([`KNOWN_CALLBACKS`]): `GenServer.terminate/2`. Sorted.
    pub fn implemented_callbacks(&self, symbol: &str) -> Vec<String> {
        let Some((head, arity)) = symbol.rsplit_once('/') else {
            return Vec::new();
        };
        let Some((module, fun)) = head.rsplit_once('.') else {
            return Vec::new();
        };
        let mut out: Vec<String> = (self.implementers.iter())
            .filter(|(_, sites)| sites.iter().any(|s| s.symbol == module))
            .filter_map(|(behaviour, _)| {
                let callback = format!("{behaviour}.{fun}/{arity}");
                // A protocol declares its functions as `def`s, and its implementations
                // are named after it (`defimpl Shape, for: Map` is `Shape.Map`); a module
                // only `use`d declares nothing by its functions.
                let protocol = (module.strip_prefix(behaviour.as_str()))
                    .is_some_and(|rest| rest.starts_with('.'));
                let declared = (self.definitions(&callback).iter()).any(|s| {
                    s.signature.starts_with("@callback")
                        || s.signature.starts_with("@macrocallback")
                        || (protocol && s.kind.is_callable())
                });
                let known = !self.has_module(behaviour)
                    && (KNOWN_CALLBACKS.iter()).any(|(b, callbacks)| {
                        b == behaviour && callbacks.contains(&&callback[behaviour.len() + 1..])
                    });
                (declared || known).then_some(callback)
            })
            .collect();
        out.sort();
        out
    }

    /// The function of a protocol that is not indexed which `symbol` implements, where
    /// its module is that protocol's implementation (`defimpl Phoenix.HTML.FormData, for:
    /// Ecto.Changeset` is `Phoenix.HTML.FormData.Ecto.Changeset`): `to_form/2` of it is
    /// `Phoenix.HTML.FormData.to_form/2`, which code calls to reach it.
    pub fn implemented_protocol_function(&self, symbol: &str) -> Option<String> {
        let (head, arity) = symbol.rsplit_once('/')?;
        let (module, fun) = head.rsplit_once('.')?;
        (self.implementers.iter())
            .filter(|(protocol, sites)| {
                // A `defimpl` of it, not a module that `use`s a module above it
                // (`MyAppWeb.PageController`'s `use MyAppWeb, :controller`).
                (module.strip_prefix(protocol.as_str())).is_some_and(|r| r.starts_with('.'))
                    && (sites.iter())
                        .any(|s| s.symbol == module && s.signature.starts_with("defimpl "))
            })
            .map(|(protocol, _)| format!("{protocol}.{fun}/{arity}"))
            // (The protocol's own function not indexed: its implementations are the
            // module's names under it.)
            .filter(|function| !self.defs.contains_key(function))
            .max_by_key(String::len)
    }

    /// Whether some indexed module implements the behaviour (or protocol) `module`.
    pub fn has_implementations(&self, module: &str) -> bool {
        self.implementers.contains_key(module)
    }

    /// The callbacks `module` declares (`@callback` and `@macrocallback`), as
    /// `Mod.fun/arity`, sorted.
    pub fn declared_callbacks(&self, module: &str) -> Vec<String> {
        let defs = &self.keys().defs;
        let mut out: Vec<String> = with_prefix(defs.len(), |i| &defs[i], &format!("{module}."))
            .filter(|&i| {
                self.defs[&defs[i]].iter().any(|s| {
                    s.module == module
                        && (s.signature.starts_with("@callback")
                            || s.signature.starts_with("@macrocallback"))
                })
            })
            .map(|i| defs[i].clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether `module` or a module nested in it (`Mix.Tasks` for `Mix.Tasks.Compile`)
    /// defines anything.
    pub fn has_module(&self, module: &str) -> bool {
        let defs = &self.keys().defs;
        let header =
            |sites: &Vec<SymbolSite>| sites.iter().any(|s| s.kind == ChunkKind::ModuleHeader);
        self.defs.get(module).is_some_and(header)
            || with_prefix(defs.len(), |i| &defs[i], &format!("{module}.")).any(|i| {
                self.defs[&defs[i]]
                    .iter()
                    .any(|s| s.module.starts_with(module))
            })
    }

    fn keys(&self) -> &Keys {
        self.keys.get_or_init(|| Keys::build(self))
    }

    /// What `symbol` calls, as `Mod.fun/arity`, sorted. For a module, what its
    /// module-level code calls: its `use`s, plugs, routes and attributes' values.
    pub fn callees(&self, symbol: &str) -> Vec<String> {
        let mut out = self.callees_of(symbol);
        out.sort();
        out.dedup();
        out
    }

    /// What `symbol` calls, as `Mod.fun/arity`, in the order its code first calls them
    /// (the calls resolved through its imports and a `use`'s aliases after those): the
    /// order a reader meets them in.
    pub fn callees_in_call_order(&self, symbol: &str) -> Vec<String> {
        let mut seen: HashSet<String> = HashSet::default();
        (self.callees_of(symbol).into_iter())
            .filter(|c| seen.insert(c.clone()))
            .collect()
    }

    fn callees_of(&self, symbol: &str) -> Vec<String> {
        let out = matching(&self.out, &self.keys().out, symbol);
        if !out.is_empty() || symbol.contains('/') {
            return out;
        }
        // A module: its header's parts, and module-level code in its functions' chunks
        // (callers named by place, as `path:line Mod`).
        let mut sites: Vec<&SymbolSite> = (self.caller_sites.iter())
            .filter(|s| s.kind == ChunkKind::ModuleHeader && s.module == symbol)
            .collect();
        sites.sort_by_key(|s| (&s.path, s.start_line));
        // Two repositories holding the same file share its callers' names.
        let mut seen: HashSet<&str> = HashSet::default();
        (sites.into_iter())
            .filter(|s| seen.insert(&s.symbol))
            .filter_map(|s| self.out.get(&s.symbol))
            .flatten()
            .cloned()
            .collect()
    }

    /// Who calls `symbol`: the calling definitions (or tests and scripts), sorted by place.
    /// A call of any arity the same definition has counts: `def f(a, b \\ 1)` is called
    /// by `f(x)` and `f(x, y)` alike.
    pub fn callers(&self, symbol: &str) -> Vec<SymbolSite> {
        let out: Vec<SymbolSite> = std::iter::once(symbol.to_string())
            .chain(self.same_definition(symbol))
            .flat_map(|s| matching(&self.incoming, &self.keys().incoming, &s))
            .map(|i| self.caller_sites[i as usize].clone())
            .collect();
        by_place(out)
    }

    /// What `use used` imports, as the graph reads it from the indexed source alone (its
    /// quote's imports, through the `use`s it makes in turn), in order, with their
    /// `only:` / `except:` lists. (What `bench/src/bin/known-imports.rs` tables for projects
    /// that do not index the library.)
    pub fn imports_of_use(&self, used: &str) -> (Vec<String>, Vec<ImportFilter>) {
        let mut uses = vec![used.to_string()];
        self.chain_uses(&mut uses);
        let mut imports = Imports::default();
        self.add_imports_of_uses(&uses, &mut imports, false);
        imports
    }

    /// The functions a `use` (or a macro called in it) defines in `module` without its
    /// code writing them (`Mojito.get/3`, which `use Mojito.Base` defines), by name
    /// and arity, at most `most`.
    pub fn generated_in(&self, module: &str, most: usize) -> Vec<SymbolSite> {
        let prefix = format!("{module}.");
        let keys = &self.keys().defs;
        let mut out: Vec<SymbolSite> = Vec::new();
        for key in &keys[with_prefix(keys.len(), |i| &keys[i], &prefix)] {
            if out.len() >= most {
                break;
            }
            out.extend(
                (self.defs[key].iter())
                    .find(|s| s.module == module && s.generated_by.is_some())
                    .cloned(),
            );
        }
        out
    }

    /// The public functions and macros of `module` an `import` of it brings: each name
    /// with its arities and whether it is a macro (guards count as macros), by name.
    /// Names that start with an underscore (which `import` leaves out) and names the
    /// graph could not read (`unquote(name)`) are not among them.
    pub fn exports_of(&self, module: &str) -> Vec<(String, Vec<u32>, bool)> {
        let prefix = format!("{module}.");
        let keys = &self.keys().defs;
        let mut out: BTreeMap<(String, bool), Vec<u32>> = BTreeMap::new();
        for key in &keys[with_prefix(keys.len(), |i| &keys[i], &prefix)] {
            let Some((name, arity)) = key[prefix.len()..].rsplit_once('/') else {
                continue;
            };
            let Ok(arity) = arity.parse::<u32>() else {
                continue;
            };
            if name.starts_with('_') || crate::chunk::is_placeholder(name) {
                continue;
            }
            for site in &self.defs[key] {
                let is_macro = match site.kind {
                    ChunkKind::Function | ChunkKind::Delegate => false,
                    ChunkKind::Macro | ChunkKind::Guard => true,
                    _ => continue,
                };
                if site.module == module && site.visibility != Visibility::Private {
                    out.entry((name.to_string(), is_macro))
                        .or_default()
                        .push(arity);
                }
            }
        }
        out.into_iter()
            .map(|((name, is_macro), mut arities)| {
                arities.sort_unstable();
                arities.dedup();
                (name, arities, is_macro)
            })
            .collect()
    }

    /// Who uses module `module` (`Ecto.Changeset`): the callers of its functions from
    /// code outside it (its nested modules count as outside), each site once.
    pub fn module_callers(&self, module: &str) -> Vec<SymbolSite> {
        let prefix = format!("{module}.");
        let keys = &self.keys().incoming;
        let range = with_prefix(keys.len(), |i| &keys[i], &prefix);
        let out: Vec<SymbolSite> = keys[range]
            .iter()
            // `Ecto.Changeset.Relation.load/2` is a nested module's.
            .filter(|k| !k[prefix.len()..].starts_with(|c: char| c.is_ascii_uppercase()))
            .flat_map(|k| self.incoming[k].iter())
            .map(|&i| &self.caller_sites[i as usize])
            .filter(|s| s.module != module)
            .cloned()
            .collect();
        by_place(out)
    }

    /// Every arity of the definitions `Mod.fun/n` names: `n`, and those default arguments
    /// give the same definition (`[1, 2]` for `f/2` of `def f(a, b \\ 1)`). Empty
    /// without an arity.
    pub fn definition_arities(&self, symbol: &str) -> Vec<u32> {
        let mut out: Vec<u32> = std::iter::once(symbol.to_string())
            .chain(self.same_definition(symbol))
            .filter_map(|s| s.rsplit_once('/')?.1.parse().ok())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The other arities of the definitions `Mod.fun/n` names, where one definition has
    /// several (default arguments): `f/1` for `f/2` of `def f(a, b \\ 1)`.
    fn same_definition(&self, symbol: &str) -> Vec<String> {
        let Some((head, arity)) = symbol.rsplit_once('/') else {
            return Vec::new();
        };
        let Some(sites) = self
            .defs
            .get(symbol)
            .filter(|_| arity.parse::<u32>().is_ok())
        else {
            return Vec::new();
        };
        // Functions a `use` defines all sit at the using module's header: one of them
        // is one head of the quote.
        let same = |a: &SymbolSite, b: &SymbolSite| {
            (&a.repo, &a.path, a.start_line) == (&b.repo, &b.path, b.start_line)
                && (a.generated_by.is_none() || a.signature == b.signature)
        };
        matching_keys(&self.keys().defs, head)
            .into_iter()
            .filter(|k| *k != symbol && k.contains('/'))
            .filter(|k| {
                self.defs[*k]
                    .iter()
                    .any(|s| sites.iter().any(|t| same(s, t)))
            })
            .map(str::to_string)
            .collect()
    }

    /// PageRank over the call graph (damping 0.85), restricted at the end to defined
    /// symbols. With `focus`, the random jump goes only to the focus symbols (and what
    /// they name), so the ranking centres on them.
    ///
    /// The graph's nodes and edges as indices are built once per graph ([`RankIndex`]).
    /// With a focus, only what the focus symbols reach through calls can gain rank
    /// (every other node keeps 0 through every iteration), so the iterations run over
    /// that part alone, in the same order and with the same sums as over the whole graph.
    pub fn rank(&self, focus: &[String]) -> Vec<(String, f64)> {
        let index = self.rank_index();
        self.ranked(focus)
            .map(|(i, r)| (index.names[i as usize].clone(), r))
            .collect()
    }

    fn rank_index(&self) -> &RankIndex {
        self.rank_index.get_or_init(|| RankIndex::build(self))
    }

    /// Whether `focus` names any symbol or module of the graph (an empty focus does).
    pub fn focus_names_anything(&self, focus: &[String]) -> bool {
        focus.is_empty() || !self.rank_index().focused(focus).is_empty()
    }

    /// The order in which the repository map considers definitions: by rank; with a
    /// focus, the definitions the focus reaches by their focused rank, then the others
    /// by the unfocused rank (not by name: a small focus leaves room for what matters
    /// most in the rest of the code).
    /// Also returns how many of the first are those the focus reaches (0 without one).
    fn map_order(&self, focus: &[String]) -> (Vec<u32>, usize) {
        let global = || -> &Vec<u32> {
            self.global_order
                .get_or_init(|| self.ranked(&[]).map(|(i, _)| i).collect())
        };
        if focus.is_empty() || self.rank_index().focused(focus).is_empty() {
            return (global().clone(), 0);
        }
        let mut order: Vec<u32> = self
            .ranked(focus)
            .take_while(|(_, rank)| *rank > 0.0)
            .map(|(i, _)| i)
            .collect();
        let reached = order.len();
        let mut taken = vec![false; self.rank_index().names.len()];
        for &i in &order {
            taken[i as usize] = true;
        }
        order.extend(global().iter().copied().filter(|&i| !taken[i as usize]));
        (order, reached)
    }

    /// [`SymbolGraph::rank`] by node index, best first: the defined symbols with a rank
    /// above 0 sorted, then (lazily) those at 0 by name.
    fn ranked(&self, focus: &[String]) -> impl Iterator<Item = (u32, f64)> + '_ {
        let index = self.rank_index();
        let n = index.names.len();
        let rank = if n == 0 {
            Vec::new()
        } else {
            self.page_rank(index, focus)
        };
        let mut positive: Vec<(u32, f64)> = (0..n)
            .filter(|&i| index.defined[i] && rank[i] > 0.0)
            .map(|i| (i as u32, rank[i]))
            .collect();
        positive.sort_unstable_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| index.names[a.0 as usize].cmp(&index.names[b.0 as usize]))
        });
        let zero = index
            .defined_by_name
            .iter()
            .filter(move |&&i| rank[i as usize] <= 0.0)
            .map(|&i| (i, 0.0));
        positive.into_iter().chain(zero)
    }

    fn page_rank(&self, index: &RankIndex, focus: &[String]) -> Vec<f64> {
        let n = index.names.len();
        let mut jump = vec![0.0f64; n];
        let focused = index.focused(focus);
        // The nodes whose rank can be non-zero, in index order.
        let active: Vec<usize> = if focused.is_empty() {
            jump.iter_mut().for_each(|j| *j = 1.0 / n as f64);
            (0..n).collect()
        } else {
            for &i in &focused {
                jump[i] = 1.0 / focused.len() as f64;
            }
            index.reachable_from(&focused)
        };
        let d = 0.85;
        let mut rank = jump.clone();
        let mut next = vec![0.0f64; n];
        for _ in 0..40 {
            for &i in &active {
                next[i] = (1.0 - d) * jump[i];
            }
            let mut dangling = 0.0;
            for &from in &active {
                let targets = &index.edges[from];
                if targets.is_empty() {
                    dangling += rank[from];
                } else {
                    let share = d * rank[from] / targets.len() as f64;
                    for &t in targets {
                        next[t as usize] += share;
                    }
                }
            }
            let mut delta = 0.0;
            for &i in &active {
                next[i] += d * dangling * jump[i];
                delta += (next[i] - rank[i]).abs();
                rank[i] = next[i];
            }
            if delta < 1e-9 {
                break;
            }
        }
        rank
    }

    /// A repository map: the highest-ranked public definitions, grouped by file and
    /// module and shown by signature, within `token_budget` tokens (estimated at
    /// [`MAP_BYTES_PER_TOKEN`]). Returns the map and its token estimate.
    ///
    /// The API comes first: public functions of documented modules, and internal ones
    /// called from [`WIDELY_USED_BY_MODULES`] modules or more. The room it leaves
    /// goes to the public functions of modules documented as internal (`@moduledoc
    /// false`, `@doc false`), by rank: a project's stages and workers are what its
    /// developers work on. With a focus, what the focus reaches and the focus itself are
    /// shown whatever their documentation or visibility.
    ///
    /// ```text
    /// lib/inventory/stock.ex:
    ///   Inventory.Stock
    ///     54: def reserve(server, sku, quantity, opts \\ [])
    /// ```
    pub fn repo_map(&self, token_budget: usize, focus: &[String]) -> (String, usize) {
        self.repo_map_in(token_budget, focus, &[])
    }

    /// [`SymbolGraph::repo_map`] over the definitions of `repos` only (all when empty);
    /// the ranking is still the whole graph's.
    pub fn repo_map_in(
        &self,
        token_budget: usize,
        focus: &[String],
        repos: &[String],
    ) -> (String, usize) {
        let budget_bytes = token_budget.saturating_mul(MAP_BYTES_PER_TOKEN);
        let index = self.rank_index();
        // Files are keyed by repository and path, and named `repo/path` when the graph
        // spans several repositories (two repositories may both have `lib/app.ex`).
        let mut chosen: BTreeMap<(&str, &str), ModuleEntries> = BTreeMap::new();
        let mut seen_sites: HashSet<(&str, &str, u32)> = HashSet::default();
        let file_name_len = |site: &SymbolSite| {
            if index.several_repos {
                site.repo.len() + 1 + site.path.len()
            } else {
                site.path.len()
            }
        };
        let mut used = 0usize;
        let (order, reached) = self.map_order(focus);
        let focused: HashSet<u32> = if focus.is_empty() {
            HashSet::default()
        } else {
            (index.focused(focus).into_iter())
                .map(|i| i as u32)
                .collect()
        };
        for (pass, position, &i) in [MapPass::Api, MapPass::Internal]
            .into_iter()
            .flat_map(|pass| order.iter().enumerate().map(move |(n, i)| (pass, n, i)))
        {
            // The smallest entry: "    1: \n".
            if budget_bytes.saturating_sub(used) < 8 {
                break;
            }
            let Some(site) = &index.first_site[i as usize] else {
                continue;
            };
            let widely_used = site.visibility == Visibility::Hidden
                && pass == MapPass::Api
                && self.widely_used(&site.symbol);
            if !(pass.admits(site.visibility, position < reached, focused.contains(&i))
                || widely_used)
                || site.kind == ChunkKind::ModuleHeader
                || site.generated_by.is_some()
                || (focus.is_empty() && outside_the_api(&site.path))
                || (stdlib_copy(site) && !focus_names(focus, site))
            {
                continue;
            }
            if !repos.is_empty() && !repos.contains(&site.repo) {
                continue;
            }
            let place = (site.repo.as_str(), site.path.as_str(), site.start_line);
            if seen_sites.contains(&place) {
                continue;
            }
            let entry_len = map_entry_len(site);
            let file = chosen.get(&(site.repo.as_str(), site.path.as_str()));
            let file_cost = if file.is_some() {
                0
            } else {
                file_name_len(site) + 2
            };
            let module_cost = if file.is_some_and(|m| m.contains_key(site.module.as_str())) {
                0
            } else {
                site.module.len() + 3
            };
            let cost = entry_len + file_cost + module_cost;
            if used + cost > budget_bytes {
                continue;
            }
            used += cost;
            seen_sites.insert(place);
            chosen
                .entry((&site.repo, &site.path))
                .or_default()
                .entry(&site.module)
                .or_default()
                .push((site.start_line, map_entry(site)));
        }
        let mut map = String::with_capacity(used);
        for ((repo, path), modules) in chosen {
            if index.several_repos {
                map.push_str(repo);
                map.push('/');
            }
            map.push_str(path);
            map.push_str(":\n");
            let mut modules: Vec<(&str, Vec<(u32, String)>)> = modules.into_iter().collect();
            for (_, entries) in &mut modules {
                entries.sort();
            }
            modules.sort_by_key(|(_, entries)| entries.first().map_or(0, |e| e.0));
            for (module, entries) in modules {
                map.push_str("  ");
                map.push_str(module);
                map.push('\n');
                for (_, e) in entries {
                    map.push_str(&e);
                }
            }
        }
        let tokens = map.len().div_ceil(MAP_BYTES_PER_TOKEN);
        (map, tokens)
    }
}

/// Where the quote that writes `d` is, where it is known (not for the standard
/// library's, nor in chunks stored before lines were recorded).
fn quote_place(d: &QuotedDef) -> Option<QuotedAt> {
    (d.quoted_in.as_ref())
        .filter(|_| d.lines != (0, 0))
        .map(|file| QuotedAt {
            file: QuoteFile::clone(file),
            start_line: d.lines.0,
            end_line: d.lines.1,
        })
}

/// How many modules calling an internal function (`@moduledoc false`, `@doc false`) make
/// it part of what the map shows first, as the API is: a project's shared helpers
/// (Scholar's `Shared.to_float_type/1`, called from 30 modules).
const WIDELY_USED_BY_MODULES: usize = 5;

impl SymbolGraph {
    /// Whether `symbol` is called from [`WIDELY_USED_BY_MODULES`] modules or more
    /// (other than its own).
    fn widely_used(&self, symbol: &str) -> bool {
        let Some(callers) = self.incoming.get(symbol) else {
            return false;
        };
        if callers.len() < WIDELY_USED_BY_MODULES {
            return false;
        }
        let own = symbol
            .rsplit_once('/')
            .and_then(|(head, _)| head.rsplit_once('.'));
        let own = own.map_or("", |(module, _)| module);
        let mut modules: HashSet<&str> = HashSet::default();
        for &at in callers {
            let module = self.caller_sites[at as usize].module.as_str();
            if module != own && modules.insert(module) && modules.len() >= WIDELY_USED_BY_MODULES {
                return true;
            }
        }
        false
    }
}

/// The repository map's two passes over the ranked definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MapPass {
    /// Public functions; with a focus, also what it reaches and the focus itself,
    /// internal or private.
    Api,
    /// With the room left: the public functions of internal modules.
    Internal,
}

impl MapPass {
    fn admits(self, visibility: Visibility, reached: bool, focused: bool) -> bool {
        match (self, visibility) {
            (MapPass::Api, Visibility::Public) => true,
            (MapPass::Api, Visibility::Hidden) => reached || focused,
            (MapPass::Api, Visibility::Private) => reached || focused,
            (MapPass::Internal, Visibility::Hidden) => true,
            (MapPass::Internal, _) => false,
        }
    }
}

/// A copy of a standard library module kept as data (Sourceror's
/// `benchmarks/data/kernel.ex`): Elixir's module, not the project's code. Its
/// definitions are no callees of the project's code in a context, nor entries of a map
/// that does not focus on them.
pub(crate) fn stdlib_copy(site: &SymbolSite) -> bool {
    let first = site.module.split('.').next().unwrap_or("");
    // Not a test (`Mix.Tasks.Ecto.CreateTest` in `test/mix/tasks/`) nor its support code.
    let test = site.path.ends_with("_test.exs")
        || site.module.ends_with("Test")
        || site.path.contains("/support/");
    outside_the_api(&site.path) && !test && sites::ELIXIR_MODULES.contains(&first)
}

/// Whether `focus` names `site`'s function or module itself.
fn focus_names(focus: &[String], site: &SymbolSite) -> bool {
    focus.iter().any(|f| *f == site.symbol || *f == site.module)
}

/// Code that is not a repository's API, left out of a map that focuses on nothing: tests
/// and their support code (`test/`, `integration_test/`, `*_test.exs`), benchmarks and the
/// Mix project file. A focus on it still shows it.
fn outside_the_api(path: &str) -> bool {
    let mut segments = path.split('/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if last {
            return segment == "mix.exs" || segment.ends_with("_test.exs");
        }
        if matches!(segment, "test" | "tests" | "bench" | "benchmarks")
            || segment.ends_with("_test")
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{ChunkerConfig, FileChunks, chunk_file};

    /// The chunks of `(path, source)` files in repository `app`; `merge` false keeps
    /// small neighbours apart.
    fn chunks_of(sources: &[(&str, &str)], merge: bool) -> Vec<Chunk> {
        let mut config = ChunkerConfig::default();
        if !merge {
            config.merge_below = 0;
        }
        let mut chunks = Vec::new();
        for (path, source) in sources {
            if let FileChunks::Chunked(c) = chunk_file("app", path, source.as_bytes(), &config) {
                chunks.extend(c);
            }
        }
        chunks
    }

    /// Asserts that each of `callees` has one caller, in the file at `path`.
    fn called_once_from(g: &SymbolGraph, callees: &[&str], path: &str) {
        for callee in callees {
            let callers = g.callers(callee);
            assert_eq!(callers.len(), 1, "{callee}: {callers:#?}");
            assert_eq!(callers[0].path, path, "{callee}");
        }
    }

    /// PageRank as it was computed before [`RankIndex`]: over every node, every time.
    fn rank_over_everything(g: &SymbolGraph, focus: &[String]) -> Vec<(String, f64)> {
        let mut ids: HashMap<&str, usize> = HashMap::default();
        let mut names: Vec<&str> = Vec::new();
        for s in g
            .defs
            .keys()
            .map(String::as_str)
            .chain(g.out.keys().map(String::as_str))
        {
            if !ids.contains_key(s) {
                ids.insert(s, names.len());
                names.push(s);
            }
        }
        let n = names.len();
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (caller, callees) in &g.out {
            // A struct's pattern is no vote.
            let struct_of = |c: &String| {
                c.split('/')
                    .next()
                    .is_some_and(|h| h.ends_with(".__struct__"))
            };
            for callee in callees.iter().filter(|&c| c != caller && !struct_of(c)) {
                if let Some(&to) = ids.get(callee.as_str()) {
                    edges[ids[caller.as_str()]].push(to);
                }
            }
        }
        let mut jump = vec![0.0f64; n];
        let focused: Vec<usize> = (0..n)
            .filter(|&i| {
                focus
                    .iter()
                    .any(|f| matches(f, names[i]) || names[i].starts_with(&format!("{f}.")))
            })
            .collect();
        if focused.is_empty() {
            jump.iter_mut().for_each(|j| *j = 1.0 / n as f64);
        } else {
            for &i in &focused {
                jump[i] = 1.0 / focused.len() as f64;
            }
        }
        let d = 0.85;
        let mut rank = jump.clone();
        for _ in 0..40 {
            let mut next: Vec<f64> = jump.iter().map(|j| (1.0 - d) * j).collect();
            let mut dangling = 0.0;
            for (from, targets) in edges.iter().enumerate() {
                if targets.is_empty() {
                    dangling += rank[from];
                } else {
                    let share = d * rank[from] / targets.len() as f64;
                    for &t in targets {
                        next[t] += share;
                    }
                }
            }
            for (i, v) in next.iter_mut().enumerate() {
                *v += d * dangling * jump[i];
            }
            let delta: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
            rank = next;
            if delta < 1e-9 {
                break;
            }
        }
        let mut out: Vec<(String, f64)> = (0..n)
            .filter(|&i| g.defs.contains_key(names[i]))
            .map(|i| (names[i].to_string(), rank[i]))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// The repository map as it was computed before [`RankIndex`] kept first sites:
    /// over every ranked symbol, every time.
    fn repo_map_over_everything(g: &SymbolGraph, token_budget: usize, focus: &[String]) -> String {
        let budget_bytes = token_budget * MAP_BYTES_PER_TOKEN;
        let mut repos: Vec<&str> = g.defs.values().flatten().map(|s| s.repo.as_str()).collect();
        repos.sort();
        repos.dedup();
        let several = repos.len() > 1;
        let file_name = |site: &SymbolSite| {
            if several {
                format!("{}/{}", site.repo, site.path)
            } else {
                site.path.clone()
            }
        };
        type Files = BTreeMap<(String, String), BTreeMap<String, Vec<(u32, String)>>>;
        let mut chosen: Files = BTreeMap::new();
        let mut seen_sites: HashSet<(String, String, u32)> = HashSet::default();
        let mut used = 0usize;
        let focused = rank_over_everything(g, focus);
        // A focus naming nothing ranks as no focus (every rank above 0): no order of its own.
        let names_any = (g.defs.keys().chain(g.out.keys())).any(|s| {
            focus
                .iter()
                .any(|f| matches(f, s) || s.starts_with(&format!("{f}.")))
        });
        let mut order: Vec<String> = if focused.iter().any(|(_, r)| *r > 0.0) && names_any {
            focused
                .iter()
                .filter(|(_, r)| *r > 0.0)
                .map(|(s, _)| s.clone())
                .collect()
        } else {
            Vec::new()
        };
        let first: HashSet<String> = order.iter().cloned().collect();
        order.extend(
            rank_over_everything(g, &[])
                .into_iter()
                .map(|(s, _)| s)
                .filter(|s| !first.contains(s)),
        );
        let named = |symbol: &str| {
            focus
                .iter()
                .any(|f| matches(f, symbol) || symbol.starts_with(&format!("{f}.")))
        };
        let passes = [MapPass::Api, MapPass::Internal];
        for (pass, symbol) in passes
            .iter()
            .flat_map(|&pass| order.iter().map(move |s| (pass, s)))
        {
            let site = &g.defs[symbol][0];
            let admitted = match site.visibility {
                Visibility::Public => pass == MapPass::Api,
                Visibility::Hidden => {
                    pass == MapPass::Internal
                        || first.contains(symbol)
                        || named(symbol)
                        || g.widely_used(symbol)
                }
                Visibility::Private => {
                    pass == MapPass::Api && (first.contains(symbol) || named(symbol))
                }
            };
            if !admitted
                || site.kind == ChunkKind::ModuleHeader
                || site.generated_by.is_some()
                || (focus.is_empty() && outside_the_api(&site.path))
                || (stdlib_copy(site) && !focus_names(focus, site))
                || seen_sites.contains(&(site.repo.clone(), site.path.clone(), site.start_line))
            {
                continue;
            }
            let entry = map_entry(site);
            let file = chosen.get(&(site.repo.clone(), site.path.clone()));
            let file_cost = if file.is_some() {
                0
            } else {
                file_name(site).len() + 2
            };
            let module_cost = if file.is_some_and(|m| m.contains_key(&site.module)) {
                0
            } else {
                site.module.len() + 3
            };
            let cost = entry.len() + file_cost + module_cost;
            if used + cost > budget_bytes {
                continue;
            }
            used += cost;
            seen_sites.insert((site.repo.clone(), site.path.clone(), site.start_line));
            chosen
                .entry((site.repo.clone(), site.path.clone()))
                .or_default()
                .entry(site.module.clone())
                .or_default()
                .push((site.start_line, entry));
        }
        let mut map = String::new();
        for ((repo, path), modules) in chosen {
            if several {
                map.push_str(&format!("{repo}/"));
            }
            map.push_str(&format!("{path}:\n"));
            let mut modules: Vec<(String, Vec<(u32, String)>)> = modules.into_iter().collect();
            for (_, entries) in &mut modules {
                entries.sort();
            }
            modules.sort_by_key(|(_, entries)| entries.first().map_or(0, |e| e.0));
            for (module, entries) in modules {
                map.push_str(&format!("  {module}\n"));
                for (_, e) in entries {
                    map.push_str(&e);
                }
            }
        }
        map
    }

    fn inventory_graph() -> SymbolGraph {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/inventory");
        let mut chunks = Vec::new();
        for entry in ignore::WalkBuilder::new(root).build().flatten() {
            let path = entry.path().to_string_lossy().into_owned();
            if !crate::chunk::is_elixir_path(&path) {
                continue;
            }
            let bytes = std::fs::read(entry.path()).unwrap();
            if let FileChunks::Chunked(c) =
                chunk_file("inventory", &path, &bytes, &ChunkerConfig::default())
            {
                chunks.extend(c);
            }
        }
        let g = SymbolGraph::build(&chunks);
        assert!(g.len() > 10, "{} symbols", g.len());
        g
    }

    /// Parts built apart and merged give the graph of one build over every chunk, also
    /// when the parts repeat each other's symbols (copies of a repository, whose call
    /// sites are all kept).
    #[test]
    fn merged_parts_equal_one_build() {
        let g = inventory_graph();
        assert!(!g.incoming.is_empty());
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/inventory");
        let mut chunks = Vec::new();
        for copy in ["a", "b", "c"] {
            for entry in ignore::WalkBuilder::new(root).build().flatten() {
                let path = entry.path().to_string_lossy().into_owned();
                if !crate::chunk::is_elixir_path(&path) {
                    continue;
                }
                let bytes = std::fs::read(entry.path()).unwrap();
                // Copy "c" has the same paths as "a" in another repository.
                let (repo, path) = match copy {
                    "c" => ("other".to_string(), format!("a/{path}")),
                    _ => ("inventory".to_string(), format!("{copy}/{path}")),
                };
                if let FileChunks::Chunked(c) =
                    chunk_file(&repo, &path, &bytes, &ChunkerConfig::default())
                {
                    chunks.extend(c);
                }
            }
        }
        let whole = SymbolGraph::build(&chunks);
        for parts in [1, 2, 3, 5, 17, chunks.len()] {
            let size = chunks.len().div_ceil(parts);
            let merged = SymbolGraph::merge(chunks.chunks(size).map(SymbolGraph::part));
            assert_eq!(merged.defs, whole.defs, "{parts} parts");
            assert_eq!(merged.out, whole.out, "{parts} parts");
            assert_eq!(merged.incoming, whole.incoming, "{parts} parts");
            assert_eq!(merged.caller_sites, whole.caller_sites, "{parts} parts");
            assert_eq!(merged.implementers, whole.implementers, "{parts} parts");
        }
        // Interleaved: the copies' chunks alternate between two parts.
        let even: Vec<&Chunk> = chunks.iter().step_by(2).collect();
        let odd: Vec<&Chunk> = chunks.iter().skip(1).step_by(2).collect();
        let in_order: Vec<&Chunk> = even.iter().chain(&odd).copied().collect();
        let merged = SymbolGraph::merge([
            SymbolGraph::part(even.iter().copied()),
            SymbolGraph::part(odd.iter().copied()),
        ]);
        let whole = SymbolGraph::build(in_order);
        assert_eq!(merged.defs, whole.defs);
        assert_eq!(merged.out, whole.out);
        assert_eq!(merged.incoming, whole.incoming);
        assert_eq!(merged.caller_sites, whole.caller_sites);
        // Every copy's call site is a caller, in each repository.
        let one = inventory_graph();
        let (callee, sites) = one
            .incoming
            .iter()
            .max_by_key(|(_, sites)| sites.len())
            .unwrap();
        let callers = whole.callers(callee);
        assert_eq!(callers.len(), 3 * sites.len(), "{callee}: {callers:#?}");
        for repo in ["inventory", "other"] {
            assert!(callers.iter().any(|s| s.repo == repo), "{repo}");
        }
    }

    /// Calls without a module resolve through the caller's imports, then Kernel: by a
    /// plain call, a pipe and a capture; a module's own function is not taken for an
    /// imported one; and a graph built in parts resolves them as one build does.
    #[test]
    fn import_lists_and_nested_modules_decide_where_a_call_goes() {
        let sources = [
            (
                "lib/util.ex",
                concat!(
                    "defmodule Util do\n  def helper(x), do: x\n  def inspect(x), do: x\n  def odd?(x), do: x\n",
                    "  defmacro mac(x), do: x\n  defmacro sigil_u(s, m), do: {s, m}\nend\n",
                ),
            ),
            (
                "lib/kernel.ex",
                concat!(
                    "defmodule Kernel do\n  def inspect(x), do: x\n  def helper(x), do: x\n  def odd?(x), do: x\n",
                    "  defmacro mac(x), do: x\n  defmacro sigil_u(s, m), do: {s, m}\nend\n",
                ),
            ),
            (
                "lib/lists.ex",
                concat!(
                    "defmodule Only do\n",
                    "  import Util, only: [inspect: 1, \"odd?\": 1]\n",
                    "  def a(x), do: helper(x)\n",
                    "  def b(x), do: inspect(x)\n",
                    "  def c(x), do: odd?(x)\n",
                    "end\n",
                    "defmodule Except do\n",
                    "  import Kernel, except: [inspect: 1]\n",
                    "  import Util\n",
                    "  def d(x), do: inspect(x)\n",
                    "end\n",
                    "defmodule Outer do\n",
                    "  import Util, only: [helper: 1]\n",
                    "  defmodule Inner do\n",
                    "    def e(x), do: helper(x)\n",
                    "  end\n",
                    "  import Util\n",
                    "  def f(x), do: inspect(x)\n",
                    "end\n",
                    "defmodule Sibling do\n",
                    "  def g(x), do: helper(x)\n",
                    "end\n",
                    "defmodule Before do\n",
                    "  defmodule Early do\n",
                    "    def h(x), do: helper(x)\n",
                    "  end\n",
                    "  import Util\n",
                    "end\n",
                    "defmodule Twice do\n",
                    "  import Util, only: [helper: 1, inspect: 1]\n",
                    "  import Util, except: [helper: 1]\n",
                    "  def i(x), do: helper(x)\n",
                    "  def j(x), do: inspect(x)\n",
                    "  def k(x), do: odd?(x)\n",
                    "end\n",
                    "defmodule Body do\n",
                    "  import Util, only: [inspect: 1]\n",
                    "  def m(x) do\n",
                    "    import Util\n",
                    "    helper(x)\n",
                    "  end\n",
                    "  def n(x), do: helper(x)\n",
                    "end\n",
                    "defmodule Funs do\n",
                    "  import Util, only: :functions\n",
                    "  def p(x), do: helper(x)\n",
                    "  def q(x), do: mac(x)\n",
                    "end\n",
                    "defmodule Macs do\n",
                    "  import Util, only: :macros\n",
                    "  def r(x), do: helper(x)\n",
                    "  def s(x), do: mac(x)\n",
                    "end\n",
                    "defmodule Sigs do\n",
                    "  import Util, only: :sigils\n",
                    "  def t(x), do: helper(x)\n",
                    "  def u(x), do: sigil_u(x, [])\n",
                    "end\n",
                    "defmodule FunsBut do\n",
                    "  import Util, only: :functions\n",
                    "  import Util, except: [helper: 1]\n",
                    "  def v(x), do: helper(x)\n",
                    "  def w(x), do: inspect(x)\n",
                    "end\n",
                    "defmodule Tuples do\n",
                    "  import Util, only: [{:inspect, 1}, {:\"odd?\", 1}]\n",
                    "  def y(x), do: helper(x)\n",
                    "  def z(x), do: inspect(x)\n",
                    "  def zz(x), do: odd?(x)\n",
                    "end\n",
                    "defmodule Order do\n",
                    "  def ba(x), do: inspect(x)\n",
                    "  import Util, only: [inspect: 1]\n",
                    "  def bb(x), do: inspect(x)\n",
                    "  import Util, except: [inspect: 1]\n",
                    "  def bc(x), do: inspect(x)\n",
                    "end\n",
                    "defmodule Attr do\n",
                    "  @arity 1\n",
                    "  import Util, only: [helper: @arity]\n",
                    "  def aa(x), do: helper(x)\n",
                    "  def ab(x), do: inspect(x)\n",
                    "end\n",
                ),
            ),
        ];
        let chunks = chunks_of(&sources, false);
        let g = SymbolGraph::build(&chunks);
        // `only:` keeps Util's helper/1 out: Kernel's it is.
        assert_eq!(g.callees("Only.a/1"), ["Kernel.helper/1"]);
        assert_eq!(g.callees("Only.b/1"), ["Util.inspect/1"]);
        // A quoted key names a function too.
        assert_eq!(g.callees("Only.c/1"), ["Util.odd?/1"]);
        // `except:` on Kernel's own import: the call is Util's, though Kernel comes first.
        assert_eq!(g.callees("Except.d/1"), ["Util.inspect/1"]);
        // A nested module sees the imports its parent made before it, and a later import
        // of the same module replaces the earlier list.
        assert_eq!(g.callees("Outer.Inner.e/1"), ["Util.helper/1"]);
        assert_eq!(g.callees("Outer.f/1"), ["Util.inspect/1"]);
        // Imports do not leak into the next module of the file.
        assert_eq!(g.callees("Sibling.g/1"), ["Kernel.helper/1"]);
        // Nor into a nested module defined before them.
        assert_eq!(g.callees("Before.Early.h/1"), ["Kernel.helper/1"]);
        // `except:` after `only:` removes from what was imported; it imports no more.
        assert_eq!(g.callees("Twice.i/1"), ["Kernel.helper/1"]);
        assert_eq!(g.callees("Twice.j/1"), ["Util.inspect/1"]);
        assert_eq!(g.callees("Twice.k/1"), ["Kernel.odd?/1"]);
        // An import inside a function body counts for that function only.
        assert_eq!(g.callees("Body.m/1"), ["Util.helper/1"]);
        assert_eq!(g.callees("Body.n/1"), ["Kernel.helper/1"]);
        // `only: :functions`, `:macros` and `:sigils` import one sort of definition.
        assert_eq!(g.callees("Funs.p/1"), ["Util.helper/1"]);
        assert_eq!(g.callees("Funs.q/1"), ["Kernel.mac/1"]);
        assert_eq!(g.callees("Macs.r/1"), ["Kernel.helper/1"]);
        assert_eq!(g.callees("Macs.s/1"), ["Util.mac/1"]);
        assert_eq!(g.callees("Sigs.t/1"), ["Kernel.helper/1"]);
        assert_eq!(g.callees("Sigs.u/1"), ["Util.sigil_u/2"]);
        // ... and a later `except:` takes names away from that sort.
        assert_eq!(g.callees("FunsBut.v/1"), ["Kernel.helper/1"]);
        assert_eq!(g.callees("FunsBut.w/1"), ["Util.inspect/1"]);
        // `{:fun, arity}` tuples are pairs too.
        assert_eq!(g.callees("Tuples.y/1"), ["Kernel.helper/1"]);
        assert_eq!(g.callees("Tuples.z/1"), ["Util.inspect/1"]);
        assert_eq!(g.callees("Tuples.zz/1"), ["Util.odd?/1"]);
        // An import counts for the code after it, not before.
        assert_eq!(g.callees("Order.ba/1"), ["Kernel.inspect/1"]);
        assert_eq!(g.callees("Order.bb/1"), ["Util.inspect/1"]);
        assert_eq!(g.callees("Order.bc/1"), ["Kernel.inspect/1"]);
        // An arity that is not a literal admits the name at any arity, and only it.
        assert_eq!(g.callees("Attr.aa/1"), ["Util.helper/1"]);
        assert_eq!(g.callees("Attr.ab/1"), ["Kernel.inspect/1"]);
        let filters = &chunks
            .iter()
            .find(|c| c.name == "b")
            .expect("Only.b")
            .import_filters;
        assert_eq!(
            filters,
            &[crate::chunk::ImportFilter {
                module: "Util".into(),
                except: false,
                names: vec!["inspect/1".into(), "odd?/1".into()],
                select: None,
            }]
        );
    }

    /// Small functions merge into one chunk; an `import` in one's body still counts for
    /// that function alone, wherever it sits in the merged chunk.
    #[test]
    fn an_import_in_a_function_body_stays_with_that_function_when_merged() {
        let sources = [
            (
                "lib/list.ex",
                "defmodule List do\n  def flatten(x), do: x\nend\n",
            ),
            (
                "lib/kernel.ex",
                "defmodule Kernel do\n  def flatten(x), do: x\nend\n",
            ),
            (
                "lib/math.ex",
                concat!(
                    "defmodule Math3 do\n",
                    "  def s(x), do: flatten(x)\n",
                    "  def t(x) do\n",
                    "    import List\n",
                    "    flatten(x)\n",
                    "  end\n",
                    "end\n",
                    "defmodule Math4 do\n",
                    "  def t(x) do\n",
                    "    import List\n",
                    "    flatten(x)\n",
                    "  end\n",
                    "  def u(x), do: flatten(x)\n",
                    "end\n",
                ),
            ),
        ];
        let chunks = chunks_of(&sources, true);
        // The functions of each module are merged (the case this test is about).
        for module in ["Math3", "Math4"] {
            let holding: Vec<&Chunk> = chunks
                .iter()
                .filter(|c| c.module == module && c.kind == ChunkKind::Function)
                .collect();
            assert_eq!(holding.len(), 1, "{module}: {holding:#?}");
        }
        let g = SymbolGraph::build(&chunks);
        assert_eq!(g.callees("Math3.s/1"), ["Kernel.flatten/1"]);
        assert_eq!(g.callees("Math3.t/1"), ["List.flatten/1"]);
        assert_eq!(g.callees("Math4.t/1"), ["List.flatten/1"]);
        assert_eq!(g.callees("Math4.u/1"), ["Kernel.flatten/1"]);
    }

    /// An import counts from where it is to the end of its block: in a merged chunk, in
    /// one clause of several, after calls made before it, across the parts of a function
    /// over the budget, and at the top of a script.
    #[test]
    fn an_import_counts_from_where_it_is_to_the_end_of_its_block() {
        let long: String = (0..40)
            .map(|i| {
                format!("    Logger.debug(\"statement {i} of a long body, padded to length\")\n")
            })
            .collect();
        let big = format!(
            "defmodule Big do\n  def run(x) do\n    import Util, only: [helper: 1]\n    a = helper(x)\n{long}    import Other\n    other(a)\n  end\n  def aliased(x) do\n    alias Deep.Nested.Util\n{long}    import Util\n    helper(x)\n  end\nend\n"
        );
        let big_test = format!(
            "defmodule BigTest do\n  use ExUnit.Case\n  test \"big\" do\n    import Util\n{long}    helper(1)\n    Other.other(2)\n  end\nend\n"
        );
        let sources = [
            (
                "lib/util.ex",
                "defmodule Util do\n  def helper(x), do: x\n  def inspect(x), do: x\nend\n",
            ),
            (
                "lib/other.ex",
                "defmodule Other do\n  def other(x), do: x\nend\n",
            ),
            (
                "lib/deep.ex",
                "defmodule Deep.Nested.Util do\n  def helper(x), do: x\nend\n",
            ),
            (
                "lib/kernel.ex",
                "defmodule Kernel do\n  def helper(x), do: x\n  def inspect(x), do: x\n  def other(x), do: x\nend\n",
            ),
            (
                "lib/order.ex",
                concat!(
                    "defmodule Order do\n",
                    "  def a(x), do: helper(x)\n",
                    "  import Util, only: [helper: 1]\n",
                    "  def b(x), do: helper(x)\n",
                    "  import Util, except: [helper: 1]\n",
                    "  def c(x), do: helper(x)\n",
                    "end\n",
                    "defmodule Clauses do\n",
                    "  def t(:a, x) do\n",
                    "    import Util\n",
                    "    helper(x)\n",
                    "  end\n",
                    "  def t(:b, x), do: helper(x)\n",
                    "end\n",
                    "defmodule G do\n",
                    "  if true do\n",
                    "    import Util\n",
                    "    def d(x), do: helper(x)\n",
                    "  end\n",
                    "  def e(x), do: helper(x)\n",
                    "end\n",
                    "defmodule Blocks do\n",
                    "  def a(x) do\n",
                    "    if x do\n",
                    "      import Util\n",
                    "      helper(x)\n",
                    "    else\n",
                    "      inspect(x)\n",
                    "    end\n",
                    "  end\n",
                    "  def f(x) do\n",
                    "    import Util\n",
                    "    helper(x)\n",
                    "  rescue\n",
                    "    _ -> inspect(x)\n",
                    "  end\n",
                    "end\n",
                    "defmodule Seq do\n",
                    "  def u(x) do\n",
                    "    y = inspect(x)\n",
                    "    import Util\n",
                    "    inspect(y)\n",
                    "  end\n",
                    "end\n",
                ),
            ),
            ("lib/big.ex", big.as_str()),
            ("test/big_test.exs", big_test.as_str()),
            (
                "test/desc_test.exs",
                concat!(
                    "defmodule DescTest do\n",
                    "  use ExUnit.Case\n",
                    "  describe \"x\" do\n",
                    "    import Util\n",
                    "    test \"a\" do\n      helper(1)\n    end\n",
                    "  end\n",
                    "  test \"b\" do\n    helper(2)\n  end\n",
                    "end\n",
                ),
            ),
            (
                "scripts/across.exs",
                "import Other\ndefmodule Tmp do\n  def go(x), do: Util.inspect(x)\nend\nother(2)\n",
            ),
            (
                "scripts/run.exs",
                "import Util, only: [helper: 1]\nx = helper(1)\ninspect(x)\n",
            ),
        ];
        let chunks = chunks_of(&sources, true);
        let order: Vec<&Chunk> = chunks
            .iter()
            .filter(|c| c.module == "Order" && c.kind == ChunkKind::Function)
            .collect();
        // The imports between them are header parts: each function a chunk of its own.
        assert_eq!(order.len(), 3, "Order's functions: {order:#?}");
        assert!(
            chunks.iter().any(|c| c.module == "Big" && c.part.is_some()),
            "Big.run/1 is split"
        );
        let g = SymbolGraph::build(&chunks);
        assert_eq!(g.callees("Order.a/1"), ["Kernel.helper/1"]);
        assert_eq!(g.callees("Order.b/1"), ["Util.helper/1"]);
        assert_eq!(g.callees("Order.c/1"), ["Kernel.helper/1"]);
        let mut t = g.callees("Clauses.t/2");
        t.sort();
        assert_eq!(t, ["Kernel.helper/1", "Util.helper/1"]);
        let mut u = g.callees("Seq.u/1");
        u.sort();
        assert_eq!(u, ["Kernel.inspect/1", "Util.inspect/1"]);
        // An import in a module-level block holds in that block only.
        assert_eq!(g.callees("G.d/1"), ["Util.helper/1"]);
        assert_eq!(g.callees("G.e/1"), ["Kernel.helper/1"]);
        // The `else` and `rescue` of a block do not see an import made in its `do`.
        for f in ["Blocks.a/1", "Blocks.f/1"] {
            let mut got = g.callees(f);
            got.sort();
            assert_eq!(got, ["Kernel.inspect/1", "Util.helper/1"], "{f}");
        }
        // An alias made in a body holds in the later parts of a split function.
        let mut aliased = g.callees("Big.aliased/1");
        aliased.retain(|c| !c.starts_with("Logger."));
        assert_eq!(aliased, ["Deep.Nested.Util.helper/1"]);
        let mut run = g.callees("Big.run/1");
        run.retain(|c| !c.starts_with("Logger."));
        run.sort();
        assert_eq!(run, ["Other.other/1", "Util.helper/1"]);
        let callers = |symbol: &str| -> Vec<String> {
            g.callers(symbol).into_iter().map(|s| s.path).collect()
        };
        assert_eq!(
            callers("Util.helper/1")
                .iter()
                .filter(|p| *p == "scripts/run.exs")
                .count(),
            1
        );
        assert!(
            !callers("Kernel.helper/1")
                .iter()
                .any(|p| p == "scripts/run.exs")
        );
        // `only: [helper: 1]` lets nothing else in: the script's inspect is Kernel's.
        assert!(
            callers("Kernel.inspect/1")
                .iter()
                .any(|p| p == "scripts/run.exs")
        );
        // A script's import holds past a module defined in the script.
        assert!(
            callers("Other.other/1")
                .iter()
                .any(|p| p == "scripts/across.exs")
        );
        assert!(
            !callers("Kernel.other/1")
                .iter()
                .any(|p| p == "scripts/across.exs")
        );
        // An import in a `describe` holds for its tests, not for the tests after it.
        let lines = |symbol: &str| -> Vec<u32> {
            g.callers(symbol)
                .into_iter()
                .filter(|s| s.path == "test/desc_test.exs")
                .map(|s| s.start_line)
                .collect()
        };
        // (The import is a header part of its own: the test starts after it.)
        assert_eq!(
            lines("Util.helper/1"),
            [5],
            "test \"a\" after the import above it"
        );
        assert_eq!(lines("Kernel.helper/1"), [9]);
        // Every part of a split test is a caller: its calls are not lost after the first.
        assert!(
            chunks
                .iter()
                .any(|c| c.path == "test/big_test.exs" && c.part.is_some()),
            "the test is split"
        );
        assert!(
            callers("Util.helper/1")
                .iter()
                .any(|p| p == "test/big_test.exs")
        );
        assert!(
            callers("Other.other/1")
                .iter()
                .any(|p| p == "test/big_test.exs")
        );
    }

    #[test]
    fn imported_and_kernel_calls_are_resolved_by_the_graph() {
        let sources = [
            (
                "lib/util.ex",
                "defmodule Util do\n  def helper(x), do: x\n  def other(x), do: x\n  defp hidden(x), do: x\nend\n",
            ),
            (
                "lib/kernel.ex",
                "defmodule Kernel do\n  def inspect(x), do: x\n  def helper(x), do: x\n  defmacro if(c, k), do: {c, k}\nend\n",
            ),
            (
                "lib/imp.ex",
                concat!(
                    "defmodule Imp do\n",
                    "  import Util\n",
                    "  def via_import(x), do: helper(x)\n",
                    "  def via_pipe(x), do: x |> helper()\n",
                    "  def via_capture(xs), do: Enum.map(xs, &helper/1)\n",
                    "  def via_kernel(x), do: inspect(x)\n",
                    "  def own(x), do: other(x)\n",
                    "  defp other(x), do: x\n",
                    "  def nowhere(x), do: missing(x)\n",
                    "  def private_one(x), do: hidden(x)\n",
                    "  def structure(x), do: if(x, do: x)\n",
                    "end\n",
                ),
            ),
        ];
        let chunks = chunks_of(&sources, false);
        let g = SymbolGraph::build(&chunks);
        let callers = |symbol: &str| -> Vec<String> {
            g.callers(symbol).into_iter().map(|s| s.symbol).collect()
        };
        assert_eq!(
            callers("Util.helper/1"),
            ["Imp.via_import/1", "Imp.via_pipe/1", "Imp.via_capture/1"]
        );
        // The import comes before Kernel, which defines a helper/1 too.
        assert!(callers("Kernel.helper/1").is_empty());
        assert_eq!(callers("Kernel.inspect/1"), ["Imp.via_kernel/1"]);
        assert_eq!(callers("Imp.other/1"), ["Imp.own/1"]);
        assert!(callers("Util.other/1").is_empty());
        assert_eq!(g.callees("Imp.nowhere/1"), Vec::<String>::new());
        // A private function is not imported.
        assert_eq!(g.callees("Imp.private_one/1"), Vec::<String>::new());
        // Structure (`if`, `defmodule`) is not a call.
        assert_eq!(g.callees("Imp.structure/1"), Vec::<String>::new());
        assert_eq!(g.callees("Imp.via_kernel/1"), ["Kernel.inspect/1"]);
        // Built in parts (each file apart, in any order), the same graph.
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let merged = SymbolGraph::merge(
                order
                    .iter()
                    .map(|&i| SymbolGraph::part(chunks.iter().filter(|c| c.path == sources[i].0))),
            );
            let mut got = merged.callers("Util.helper/1");
            got.sort_by(|a, b| a.symbol.cmp(&b.symbol));
            let mut want = g.callers("Util.helper/1");
            want.sort_by(|a, b| a.symbol.cmp(&b.symbol));
            assert_eq!(got, want, "{order:?}");
            assert_eq!(merged.callees("Imp.via_kernel/1"), ["Kernel.inspect/1"]);
            for symbol in g.out.keys() {
                assert_eq!(
                    merged.callees(symbol),
                    g.callees(symbol),
                    "{order:?} {symbol}"
                );
            }
            for symbol in g.incoming.keys() {
                let sites = |graph: &SymbolGraph| {
                    let mut v: Vec<String> = graph
                        .callers(symbol)
                        .into_iter()
                        .map(|s| format!("{}:{} {}", s.path, s.start_line, s.symbol))
                        .collect();
                    v.sort();
                    v
                };
                assert_eq!(sites(&merged), sites(&g), "{order:?} {symbol}");
            }
        }
    }

    /// A function implements a behaviour's `@callback` or a protocol's function, not a
    /// function of a module its module merely `use`s.
    #[test]
    fn implemented_callbacks_are_declared_ones() {
        let chunks = chunks_of(
            &[
                (
                    "lib/b.ex",
                    "defmodule Beh do\n  @callback go(term) :: term\nend\n",
                ),
                (
                    "lib/i.ex",
                    "defmodule Impl do\n  @behaviour Beh\n  def go(x), do: x\nend\n",
                ),
                (
                    "lib/h.ex",
                    "defmodule Helpers do\n  defmacro __using__(_), do: nil\n  def format(x), do: x\nend\n",
                ),
                (
                    "lib/u.ex",
                    "defmodule User do\n  use Helpers\n  def format(x), do: x\nend\n",
                ),
                (
                    "lib/p.ex",
                    "defprotocol Shape do\n  def area(s)\nend\ndefimpl Shape, for: Map do\n  def area(m), do: m\nend\n",
                ),
                (
                    "lib/s.ex",
                    "defmodule Srv do\n  use GenServer\n  def terminate(_, _), do: :ok\nend\n",
                ),
            ],
            false,
        );
        let g = SymbolGraph::build(&chunks);
        assert_eq!(g.implemented_callbacks("Impl.go/1"), ["Beh.go/1"]);
        assert!(g.implemented_callbacks("User.format/1").is_empty());
        assert_eq!(
            g.implemented_callbacks("Shape.Map.area/1"),
            ["Shape.area/1"]
        );
        assert_eq!(
            g.implemented_callbacks("Srv.terminate/2"),
            ["GenServer.terminate/2"]
        );
        assert!(g.implemented_callbacks("Srv.terminate/3").is_empty());
    }

    /// A module implementing two behaviours (Reactor's steps: `use Reactor.Step`, then
    /// `@behaviour Reactor.Mermaid`) implements each callback for the behaviour that
    /// declares it: `to_mermaid/2` is no implementation of a `Reactor.Step` callback.
    #[test]
    fn a_callback_is_implemented_for_the_behaviour_declaring_it() {
        let chunks = chunks_of(
            &[
                (
                    "lib/step.ex",
                    "defmodule Reactor.Step do\n  @callback run(term, term) :: term\n  defmacro __using__(_) do\n    quote do\n      @behaviour Reactor.Step\n    end\n  end\nend\n",
                ),
                (
                    "lib/mermaid.ex",
                    "defmodule Reactor.Mermaid do\n  @callback to_mermaid(term, term) :: term\nend\n",
                ),
                (
                    "lib/map.ex",
                    "defmodule Reactor.Step.Map do\n  use Reactor.Step\n  @behaviour Reactor.Mermaid\n  @impl true\n  def run(a, b), do: {a, b}\n  @impl true\n  def to_mermaid(s, o), do: {s, o}\nend\n",
                ),
            ],
            false,
        );
        let g = SymbolGraph::build(&chunks);
        let symbols = |s: &str| -> Vec<String> {
            g.implementations(s).into_iter().map(|s| s.symbol).collect()
        };
        assert_eq!(
            symbols("Reactor.Mermaid.to_mermaid/2"),
            ["Reactor.Step.Map.to_mermaid/2"]
        );
        assert_eq!(symbols("Reactor.Step.run/2"), ["Reactor.Step.Map.run/2"]);
        assert!(symbols("Reactor.Step.to_mermaid/2").is_empty());
        assert!(symbols("Reactor.Step.to_mermaid").is_empty());
    }

    /// A type of many fields on one line is shown cut, and said to be.
    #[test]
    fn a_repo_map_cuts_a_long_signature() {
        let fields: Vec<String> = (0..40)
            .map(|i| format!("field_number_{i}: term()"))
            .collect();
        let source = format!(
            "defmodule Config do\n  @type t :: %__MODULE__{{{}}}\n  def new(a), do: a\nend\n",
            fields.join(", ")
        );
        let g = SymbolGraph::build(&chunks_of(&[("lib/config.ex", source.as_str())], false));
        let (map, _) = g.repo_map(1_000, &[]);
        let line = (map.lines())
            .find(|l| l.contains("@type t"))
            .unwrap_or_else(|| panic!("{map}"));
        assert!(line.ends_with(" …"), "{line}");
        assert!(line.len() < MAX_MAP_SIGNATURE + 20, "{line}");
        assert!(map.contains("    3: def new(a)\n"), "{map}");
    }

    /// A struct whose fields go over several lines is shown cut, and said to be.
    #[test]
    fn a_repo_map_shows_a_head_cut_at_its_line_end_as_cut() {
        let fields: Vec<String> = (0..12).map(|i| format!("field_number_{i}: nil")).collect();
        let source = format!(
            "defmodule Opts do\n  defstruct argv: nil,\n{}\n  def new(a), do: %__MODULE__{{argv: a}}\nend\n",
            (fields.iter())
                .map(|f| format!("            {f}"))
                .collect::<Vec<_>>()
                .join(",\n")
        );
        let FileChunks::Chunked(chunks) = chunk_file(
            "r",
            "lib/opts.ex",
            source.as_bytes(),
            &ChunkerConfig::default(),
        ) else {
            panic!("not chunked");
        };
        let g = SymbolGraph::build(&chunks);
        let (map, _) = g.repo_map(1_000, &[]);
        assert!(map.contains("    2: defstruct argv: nil, …\n"), "{map}");
        assert!(map.contains("    15: def new(a)\n"), "{map}");
        for budget in [0, 8, 12, 16, 1_000] {
            let (map, _) = g.repo_map(budget, &[]);
            assert_eq!(map, repo_map_over_everything(&g, budget, &[]), "{budget}");
            assert!(map.len() <= budget * MAP_BYTES_PER_TOKEN);
        }
    }

    /// Two repositories whose different definitions sit at the same path and line: the
    /// map names each file `repo/path` and keeps both (one is not taken for the other).
    #[test]
    fn a_repo_map_over_two_repositories_keeps_both() {
        let sources = [
            ("p1", "defmodule P1 do\n  def one(x), do: x\nend\n"),
            ("p2", "defmodule P2 do\n  def two(x), do: P1.one(x)\nend\n"),
        ];
        let mut chunks = Vec::new();
        for (repo, source) in sources {
            if let FileChunks::Chunked(c) = chunk_file(
                repo,
                "lib/a.ex",
                source.as_bytes(),
                &ChunkerConfig::default(),
            ) {
                chunks.extend(c);
            }
        }
        let g = SymbolGraph::build(&chunks);
        let (map, _) = g.repo_map(1_000, &[]);
        assert_eq!(
            map,
            "p1/lib/a.ex:\n  P1\n    2: def one(x)\np2/lib/a.ex:\n  P2\n    2: def two(x)\n"
        );
        for budget in [0, 4, 8, 16, 1_000] {
            let (map, _) = g.repo_map(budget, &[]);
            assert_eq!(map, repo_map_over_everything(&g, budget, &[]), "{budget}");
            assert!(map.len() <= budget * MAP_BYTES_PER_TOKEN);
        }
        // One repository keeps the plain paths.
        let p1 = chunks.iter().filter(|c| c.repo == "p1");
        let (map, _) = SymbolGraph::build(p1).repo_map(1_000, &[]);
        assert_eq!(map, "lib/a.ex:\n  P1\n    2: def one(x)\n");
    }

    #[test]
    fn repo_maps_equal_the_map_over_every_ranked_symbol() {
        // Internal modules (`@moduledoc false`) and private functions beside the API.
        let internal = SymbolGraph::build(&chunks_of(
            &[
                (
                    "lib/pipe.ex",
                    "defmodule Pipe do\n  def start_link(o), do: Pipe.Stage.start(o)\n  def stop(n), do: Pipe.Stop.drain(n)\nend\n",
                ),
                (
                    "lib/pipe/stage.ex",
                    "defmodule Pipe.Stage do\n  @moduledoc false\n  def start(o), do: go(o)\n  def idle(o), do: o\n  defp go(o), do: o\nend\n",
                ),
                (
                    "lib/pipe/stop.ex",
                    "defmodule Pipe.Stop do\n  @moduledoc false\n  def drain(n), do: flush(n)\n  defp flush(n), do: n\nend\n",
                ),
            ],
            false,
        ));
        for g in [inventory_graph(), internal] {
            repo_map_equals_the_map_over_every_ranked_symbol(&g);
        }
    }

    fn repo_map_equals_the_map_over_every_ranked_symbol(g: &SymbolGraph) {
        let mut focuses: Vec<Vec<String>> = vec![
            vec![],
            vec!["Inventory".into()],
            vec!["Inventory.Stock".into(), "Nothing.Here/1".into()],
            vec!["Pipe.Stop".into()],
        ];
        focuses.extend(g.defs.keys().map(|s| vec![s.clone()]));
        for focus in focuses {
            for budget in [0, 2, 16, 64, 200, 1024] {
                let (map, tokens) = g.repo_map(budget, &focus);
                assert_eq!(
                    map,
                    repo_map_over_everything(g, budget, &focus),
                    "{focus:?} {budget}"
                );
                assert!(
                    map.len() <= budget * MAP_BYTES_PER_TOKEN,
                    "{focus:?} {budget}"
                );
                assert_eq!(tokens, map.len().div_ceil(MAP_BYTES_PER_TOKEN));
            }
        }
    }

    #[test]
    fn look_ups_by_name_equal_a_pass_over_every_symbol() {
        fn every<T: Clone>(map: &HashMap<String, Vec<T>>, symbol: &str) -> Vec<T> {
            map.iter()
                .filter(|(s, _)| matches(symbol, s))
                .flat_map(|(_, values)| values.iter().cloned())
                .collect()
        }
        let g = inventory_graph();
        let mut queries: Vec<String> = Vec::new();
        for key in g.defs.keys().chain(g.out.keys()).chain(g.incoming.keys()) {
            queries.push(key.clone());
            if let Some((base, _)) = key.rsplit_once('/') {
                queries.push(base.to_string());
                queries.push(format!("{base}/9"));
            }
            if let Some((module, _)) = key.rsplit_once('.') {
                queries.push(module.to_string());
            }
        }
        queries.extend(["", "/", "Inventory.", "nothing"].map(String::from));
        let by_place = |a: &SymbolSite, b: &SymbolSite| {
            (&a.path, a.start_line, &a.symbol).cmp(&(&b.path, b.start_line, &b.symbol))
        };
        for q in &queries {
            let mut defs = every(&g.defs, q);
            let mut got = g.definitions(q);
            defs.sort_by(by_place);
            got.sort_by(by_place);
            assert_eq!(got, defs, "definitions of {q:?}");
            assert_eq!(g.is_defined(q), !defs.is_empty(), "{q:?}");
            let mut callees = every(&g.out, q);
            if callees.is_empty() && !q.contains('/') {
                // A module: what its module-level code calls, named by place.
                let module_level = |key: &str| {
                    key.split_once(' ').is_some_and(|(place, what)| {
                        place.contains(':')
                            && (what == q || what.strip_suffix(MODULE_BODY) == Some(q))
                    })
                };
                callees = (g.out.iter())
                    .filter(|(k, _)| module_level(k))
                    .flat_map(|(_, c)| c.iter().cloned())
                    .collect();
            }
            callees.sort();
            callees.dedup();
            assert_eq!(g.callees(q), callees, "callees of {q:?}");
            // A call of another arity of the same definition (default arguments) counts.
            let mut names = vec![q.clone()];
            let head = q.rsplit_once('/').map(|(h, _)| h);
            if let Some(sites) = g.defs.get(q.as_str()) {
                for (k, ks) in &g.defs {
                    let place = |s: &SymbolSite| (s.repo.clone(), s.path.clone(), s.start_line);
                    if k != q
                        && head.is_some()
                        && k.rsplit_once('/').map(|(h, _)| h) == head
                        && ks
                            .iter()
                            .any(|s| sites.iter().any(|t| place(s) == place(t)))
                    {
                        names.push(k.clone());
                    }
                }
            }
            let mut callers: Vec<SymbolSite> = names
                .iter()
                .flat_map(|n| every(&g.incoming, n))
                .map(|i| g.caller_sites[i as usize].clone())
                .collect();
            callers.sort_by(by_place);
            callers.dedup();
            assert_eq!(g.callers(q), callers, "callers of {q:?}");
        }
        assert!(queries.iter().any(|q| !g.callers(q).is_empty()));
    }

    #[test]
    fn rank_over_the_reachable_part_equals_rank_over_everything() {
        let g = inventory_graph();
        let mut focuses: Vec<Vec<String>> = vec![
            vec![],
            vec!["Inventory.Stock".into()],
            vec!["Nothing.Here/1".into()],
        ];
        focuses.extend(g.defs.keys().map(|s| vec![s.clone()]));
        for focus in focuses {
            assert_eq!(
                g.rank(&focus),
                rank_over_everything(&g, &focus),
                "{focus:?}"
            );
        }
    }

    /// A module attribute's value runs when the module compiles, so its calls are the
    /// module's (or, in a definition's lead, that definition's); specs, types and docs
    /// call nothing, and the attribute's own name is not a call.
    #[test]
    fn a_call_of_any_arity_of_one_definition_calls_it() {
        let sources = [(
            "lib/d.ex",
            "defmodule D do\n  def f(a, b \\\\ 1), do: a + b\n  def f(a, b, c), do: a + b + c\nend\ndefmodule E do\n  def g, do: D.f(1)\n  def h, do: D.f(1, 2)\n  def i, do: D.f(1, 2, 3)\nend\n",
        )];
        let g = SymbolGraph::build(&chunks_of(&sources, false));
        let names = |callers: Vec<SymbolSite>| -> Vec<String> {
            callers.into_iter().map(|s| s.symbol).collect()
        };
        assert_eq!(names(g.callers("D.f/2")), ["E.g/0", "E.h/0"]);
        assert_eq!(names(g.callers("D.f/1")), ["E.g/0", "E.h/0"]);
        // Another definition of the same name is another function.
        assert_eq!(names(g.callers("D.f/3")), ["E.i/0"]);
        assert_eq!(names(g.callers("D.f")), ["E.g/0", "E.h/0", "E.i/0"]);
    }

    #[test]
    fn module_level_code_beside_a_function_calls_for_the_module() {
        let src = concat!(
            "defmodule M2 do\n",
            "  def first(x), do: x\n",
            "  @timeout Application.compile_env(:app, :timeout, 5000)\n",
            "  @pattern Regex.compile!(\"a+\")\n",
            "  @seed helper()\n",
            "  def second(y), do: {y, @pattern}\n",
            "  def helper, do: Enum.random(1..9)\n",
            "  Module.register_attribute(__MODULE__, :routes, accumulate: true)\n",
            "end\n",
        );
        let chunks = chunks_of(&[("lib/m2.ex", src)], false);
        let g = SymbolGraph::build(&chunks);
        assert!(
            g.callees("M2.second/1").is_empty(),
            "{:?}",
            g.callees("M2.second/1")
        );
        assert_eq!(g.callees("M2.helper/0"), ["Enum.random/1"]);
        for callee in [
            "Application.compile_env/3",
            "Regex.compile!/1",
            "M2.helper/0",
            "Module.register_attribute/3",
        ] {
            let callers = g.callers(callee);
            assert_eq!(callers.len(), 1, "{callee}: {callers:#?}");
            assert_eq!(callers[0].module, "M2", "{callee}");
            assert_eq!(callers[0].kind, ChunkKind::ModuleHeader, "{callee}");
            assert!(
                callers[0].symbol.ends_with("M2 (module body)"),
                "{callee}: {callers:#?}"
            );
        }
        let second = chunks
            .iter()
            .flat_map(|c| &c.defines)
            .find(|d| d.name == "second")
            .expect("second is defined");
        assert_eq!((second.line, second.end_line), (6, 6));
        let helper = chunks
            .iter()
            .flat_map(|c| &c.defines)
            .find(|d| d.name == "helper")
            .expect("helper is defined");
        assert_eq!(
            (helper.line, helper.end_line),
            (7, 7),
            "not the statement after it"
        );
    }

    #[test]
    fn attribute_values_call_and_specs_do_not() {
        let sources = [(
            "lib/config.ex",
            "defmodule MyApp.Config do\n  @moduledoc \"Config.\"\n  @timeout Application.compile_env(:my_app, :timeout, 5000)\n  @external_resource Path.join(__DIR__, \"x.txt\")\n  @names Enum.map([:a, :b], &Atom.to_string/1)\n  @type t :: String.t()\n  @doc \"Gets.\"\n  @spec get(Keyword.t()) :: term()\n  @impl true\n  def get(key), do: Map.get(%{timeout: @timeout}, key)\nend\n",
        )];
        let g = SymbolGraph::build(&chunks_of(&sources, false));
        for callee in [
            "Application.compile_env/3",
            "Path.join/2",
            "Enum.map/2",
            "Atom.to_string/1",
        ] {
            let callers = g.callers(callee);
            assert_eq!(callers.len(), 1, "{callee}: {callers:#?}");
            assert_eq!(callers[0].module, "MyApp.Config", "{callee}");
            assert_eq!(callers[0].start_line, 1, "{callee}");
        }
        for not_called in [
            "String.t/0",
            "Keyword.t/0",
            "Kernel.term/0",
            "MyApp.Config.timeout/1",
            "Kernel.timeout/1",
            "MyApp.Config.get/1",
        ] {
            assert!(g.callers(not_called).is_empty(), "{not_called}");
        }
        assert_eq!(g.callees("MyApp.Config.get/1"), ["Map.get/2"]);
        // A recursive function calls itself, for `callers` and `callees` alike.
        let sources = [
            (
                "lib/math.ex",
                "defmodule Rec do\n  def fact(0), do: 1\n  def fact(n), do: n * fact(n - 1)\nend\n",
            ),
            (
                "test/math_test.exs",
                "defmodule RecTest do\n  use ExUnit.Case\n\n  test \"fact\" do\n    assert Rec.fact(3) == 6\n  end\nend\n",
            ),
        ];
        let g = SymbolGraph::build(&chunks_of(&sources, false));
        assert_eq!(g.callees("Rec.fact/1"), ["Rec.fact/1"]);
        let callers = g.callers("Rec.fact/1");
        assert_eq!(callers[0].symbol, "Rec.fact/1");
        // A test is named by its `test` line, not the blank line before it.
        assert_eq!(callers[1].start_line, 4, "{callers:#?}");
        assert!(
            callers[1].symbol.starts_with("test/math_test.exs:4 "),
            "{callers:#?}"
        );
        // `use ExUnit.Case` imports `ExUnit.Assertions` and `ExUnit.Callbacks`; `use
        // ExUnitProperties` imports StreamData.
        let sources = [
            (
                "lib/ex_unit/assertions.ex",
                "defmodule ExUnit.Assertions do\n  defmacro assert(x), do: x\nend\n",
            ),
            (
                "lib/ex_unit/callbacks.ex",
                "defmodule ExUnit.Callbacks do\n  def on_exit(f), do: f\nend\n",
            ),
            (
                "lib/stream_data.ex",
                "defmodule StreamData do\n  def integer, do: 1\nend\n",
            ),
            (
                "test/a_test.exs",
                "defmodule ATest do\n  use ExUnit.Case\n  use ExUnitProperties\n\n  test \"a\" do\n    on_exit(fn -> :ok end)\n    assert integer() == 1\n  end\nend\n",
            ),
            (
                "test/b_test.exs",
                "defmodule BTest do\n  def assert(x), do: x\n  def helper, do: assert(1)\nend\n",
            ),
        ];
        let g2 = SymbolGraph::build(&chunks_of(&sources, false));
        called_once_from(
            &g2,
            &[
                "ExUnit.Assertions.assert/1",
                "ExUnit.Callbacks.on_exit/1",
                "StreamData.integer/0",
            ],
            "test/a_test.exs",
        );
        assert_eq!(g2.callees("BTest.helper/0"), ["BTest.assert/1"]);
        assert!(
            g.rank(&[])
                .iter()
                .any(|(s, r)| s == "Rec.fact/1" && r.is_finite())
        );
    }

    /// `defmodule Deep.Er` inside `Outer` aliases `Deep` to `Outer.Deep`, as Elixir does.
    #[test]
    fn a_nested_dotted_module_aliases_its_first_segment() {
        let sources = [(
            "lib/outer.ex",
            "defmodule Outer do\n  defmodule Deep.Er do\n    def d(x), do: x\n  end\n  def p(x), do: Deep.Er.d(x)\n  def q(x), do: Deep.Other.f(x)\nend\n",
        )];
        let g = SymbolGraph::build(&chunks_of(&sources, false));
        assert_eq!(g.definitions("Outer.Deep.Er.d/1").len(), 1);
        assert_eq!(g.callees("Outer.p/1"), ["Outer.Deep.Er.d/1"]);
        assert_eq!(g.callees("Outer.q/1"), ["Outer.Deep.Other.f/1"]);
    }

    /// A module's alias counts from where it is made: the call before it is not
    /// expanded, and a later alias of the same name does not reach back.
    #[test]
    fn a_module_alias_counts_from_where_it_is_made() {
        let sources = [(
            "lib/shadow.ex",
            concat!(
                "defmodule A.Util do\n  def helper(x), do: x\nend\n",
                "defmodule B.Util do\n  def helper(x), do: x\nend\n",
                "defmodule Shadow do\n  alias A.Util\n  def first(x), do: Util.helper(x)\n",
                "  alias B.Util\n  def second(x), do: Util.helper(x)\nend\n",
                "defmodule Later do\n  def early(x), do: Util.helper(x)\n  alias A.Util\n",
                "  def late(x), do: Util.helper(x)\nend\n",
            ),
        )];
        let g = SymbolGraph::build(&chunks_of(&sources, false));
        assert_eq!(g.callees("Shadow.first/1"), ["A.Util.helper/1"]);
        assert_eq!(g.callees("Shadow.second/1"), ["B.Util.helper/1"]);
        assert_eq!(g.callees("Later.early/1"), ["Util.helper/1"]);
        assert_eq!(g.callees("Later.late/1"), ["A.Util.helper/1"]);
    }

    /// An alias in a body holds to the end of its block, as an import does; `alias
    /// __MODULE__` names the module by its last segment; an Erlang module takes `as:`.
    #[test]
    fn an_alias_in_a_body_holds_to_the_end_of_its_block() {
        let sources = [(
            "lib/outer.ex",
            concat!(
                "defmodule App.Outer do\n",
                "  def c(x), do: x\n",
                "  def b(x) do\n    alias __MODULE__\n    Outer.c(x)\n  end\n",
                "  def h(t) do\n    alias :ets, as: E2\n    E2.insert(t, 1)\n  end\n",
                "  def i(x) do\n    if x do\n      alias Y.A, as: Q\n      Q.f(x)\n    end\n    Q.g(x)\n  end\n",
                "  def k(:one, x) do\n    alias Y.A, as: R\n    R.f(x)\n  end\n  def k(:two, x), do: R.g(x)\n",
                "end\n",
            ),
        )];
        let g = SymbolGraph::build(&chunks_of(&sources, false));
        assert_eq!(g.callees("App.Outer.b/1"), ["App.Outer.c/1"]);
        assert_eq!(g.callees("App.Outer.h/1"), [":ets.insert/2"]);
        assert_eq!(g.callees("App.Outer.i/1"), ["Q.g/1", "Y.A.f/1"]);
        assert_eq!(g.callees("App.Outer.k/2"), ["R.g/1", "Y.A.f/1"]);
    }

    /// `defimpl P, for: [A, B]`: each type's copy of a function calls that type's own
    /// functions.
    #[test]
    fn an_implementation_for_several_types_calls_each_types_own_functions() {
        let sources = [(
            "lib/proto.ex",
            concat!(
                "defprotocol Proto do\n  def twice(x)\nend\n",
                "defimpl Proto, for: [Integer, Float] do\n",
                "  def twice(x), do: go(x) + Enum.count([x])\n",
                "  defp go(x), do: x * 2\n",
                "end\n",
            ),
        )];
        let g = SymbolGraph::build(&chunks_of(&sources, false));
        assert_eq!(
            g.callees("Proto.Integer.twice/1"),
            ["Enum.count/1", "Proto.Integer.go/1"]
        );
        assert_eq!(
            g.callees("Proto.Float.twice/1"),
            ["Enum.count/1", "Proto.Float.go/1"]
        );
        assert_eq!(g.callers("Proto.Float.go/1").len(), 1);
    }

    /// A `use` imports what the used module's quoted code imports: its `__using__`
    /// macro, the `which/0` function of `use Mod, :which`, or a case template's `using`
    /// block (whose users use `ExUnit.Case` too).
    #[test]
    fn a_use_aliases_what_the_used_modules_quoted_code_aliases() {
        let sources = [
            (
                "test/support/data_case.ex",
                "defmodule MyApp.DataCase do\n  use ExUnit.CaseTemplate\n\n  using do\n    quote do\n      alias MyApp.Repo\n      alias MyApp.Accounts.{User, Team}\n      import MyApp.Helpers\n    end\n  end\nend\n",
            ),
            (
                "lib/my_app/web.ex",
                "defmodule MyAppWeb do\n  def live_view do\n    quote do\n      alias MyApp.Jobs, as: J\n    end\n  end\n\n  defmacro __using__(which) when is_atom(which), do: apply(__MODULE__, which, [])\nend\n",
            ),
            (
                "lib/my_app/repo.ex",
                "defmodule MyApp.Repo do\n  def get(x), do: x\nend\ndefmodule MyApp.Accounts.User do\n  def new(x), do: x\nend\ndefmodule MyApp.Helpers do\n  def helper(x), do: x\nend\ndefmodule MyApp.Jobs do\n  def run(x), do: x\nend\n",
            ),
            (
                "test/my_app/t_test.exs",
                "defmodule MyApp.TTest do\n  use MyApp.DataCase\n\n  test \"t\" do\n    assert Repo.get(1) == helper(User.new(2))\n  end\nend\n",
            ),
            (
                "lib/my_app_web/page_live.ex",
                "defmodule MyAppWeb.PageLive do\n  use MyAppWeb, :live_view\n  def mount(x), do: J.run(x)\n  def other(x), do: Repo.get(x)\nend\n",
            ),
        ];
        let g = SymbolGraph::build(&chunks_of(&sources, false));
        called_once_from(
            &g,
            &[
                "MyApp.Repo.get/1",
                "MyApp.Accounts.User.new/1",
                "MyApp.Helpers.helper/1",
            ],
            "test/my_app/t_test.exs",
        );
        let written: Vec<String> = g
            .callers("Repo.get/1")
            .into_iter()
            .map(|s| s.symbol)
            .collect();
        assert_eq!(
            written,
            ["MyAppWeb.PageLive.other/1"],
            "the test's call as written is gone"
        );
        let callers: Vec<String> = g
            .callers("MyApp.Jobs.run/1")
            .into_iter()
            .map(|s| s.symbol)
            .collect();
        assert_eq!(callers, ["MyAppWeb.PageLive.mount/1"]);
        assert_eq!(g.callees("MyAppWeb.PageLive.mount/1"), ["MyApp.Jobs.run/1"]);
        // `use MyAppWeb, :live_view` does not alias Repo: that call stays as written.
        assert_eq!(g.callees("MyAppWeb.PageLive.other/1"), ["Repo.get/1"]);
    }

    /// A Mox mock implements the behaviours it is made for, where `defmock` makes it
    /// (a script's top level, or a support module's).
    #[test]
    fn a_mock_implements_the_behaviour_it_is_made_for() {
        let sources = [
            (
                "lib/store.ex",
                "defmodule Shop.Store do\n  @callback put(term) :: :ok\nend\ndefmodule Shop.Cache do\n  @callback get(term) :: term\nend\n",
            ),
            (
                "test/test_helper.exs",
                "ExUnit.start()\nalias Shop.Store\n\nMox.defmock(Shop.StoreMock, for: Store)\nHammox.defmock(Shop.BothMock, for: [Store, Shop.Cache])\nMox.defmock(Shop.Nothing, skip_optional_callbacks: true)\nMox.defmock(\n  Shop.LineMock,\n  for: Shop.Cache\n)\n",
            ),
        ];
        let g = SymbolGraph::build(&chunks_of(&sources, false));
        let sites = |b: &str| -> Vec<(String, u32)> {
            (g.implementations(b).into_iter())
                .map(|s| (s.symbol, s.start_line))
                .collect()
        };
        assert_eq!(
            sites("Shop.Store"),
            [
                ("Shop.BothMock".to_string(), 5),
                ("Shop.StoreMock".to_string(), 4)
            ]
        );
        assert_eq!(
            sites("Shop.Cache"),
            [
                ("Shop.BothMock".to_string(), 5),
                ("Shop.LineMock".to_string(), 7)
            ]
        );
    }

    /// Phoenix's `__using__({which, opts})` applies `which` to `[opts]`: `use MyAppWeb,
    /// {:live_view, container: …}` runs `live_view/1`'s quote, as `use MyAppWeb,
    /// :live_view` runs `live_view/0`'s (one function with a default argument here).
    #[test]
    fn a_use_with_options_runs_the_quote_of_the_function_it_names() {
        let sources = [
            (
                "lib/my_app_web.ex",
                concat!(
                    "defmodule MyAppWeb do\n",
                    "  def live_view(opts \\\\ []) do\n",
                    "    quote do\n",
                    "      use Phoenix.LiveView, unquote(opts)\n",
                    "      alias MyApp.Jobs, as: J\n",
                    "      import MyApp.Helpers\n",
                    "    end\n",
                    "  end\n",
                    "\n",
                    "  defmacro __using__({which, opts}) when is_atom(which) do\n",
                    "    apply(__MODULE__, which, [opts])\n",
                    "  end\n",
                    "\n",
                    "  defmacro __using__(which) when is_atom(which), do: apply(__MODULE__, which, [])\n",
                    "end\n",
                ),
            ),
            (
                "lib/my_app/jobs.ex",
                "defmodule MyApp.Jobs do\n  def run(x), do: x\nend\ndefmodule MyApp.Helpers do\n  def helper(x), do: x\nend\n",
            ),
            (
                "lib/my_app_web/player_live.ex",
                "defmodule MyAppWeb.PlayerLive do\n  use MyAppWeb, {:live_view, container: {:div, []}}\n  def mount(x), do: J.run(helper(x))\nend\n",
            ),
            (
                "lib/my_app_web/page_live.ex",
                "defmodule MyAppWeb.PageLive do\n  use MyAppWeb, :live_view\n  def mount(x), do: J.run(helper(x))\nend\n",
            ),
        ];
        let g = SymbolGraph::build(&chunks_of(&sources, false));
        for live in ["MyAppWeb.PlayerLive", "MyAppWeb.PageLive"] {
            assert_eq!(
                g.callees(&format!("{live}.mount/1")),
                ["MyApp.Helpers.helper/1", "MyApp.Jobs.run/1"],
                "{live}"
            );
        }
        let implementers: Vec<String> = (g.implementations("Phoenix.LiveView").into_iter())
            .map(|s| s.symbol)
            .collect();
        assert_eq!(implementers, ["MyAppWeb.PageLive", "MyAppWeb.PlayerLive"]);
        // Both `use`s run `live_view/0` (one function with a default argument).
        let mut users: Vec<String> = (g.callers("MyAppWeb.live_view/0").into_iter())
            .map(|s| s.module)
            .collect();
        users.sort();
        assert_eq!(users, ["MyAppWeb.PageLive", "MyAppWeb.PlayerLive"]);
    }

    #[test]
    fn a_use_imports_and_aliases_the_module_its_quoted_code_unquotes() {
        let sources = [(
            "lib/commanded/router.ex",
            concat!(
                "defmodule Deep.Router do\n",
                "  defmacro __using__(_opts) do\n",
                "    quote do\n",
                "      import unquote(__MODULE__)\n",
                "      alias unquote( __MODULE__ )\n",
                "      alias __MODULE__.Local\n",
                "    end\n",
                "  end\n",
                "  defmacro dispatch(command, opts), do: {command, opts}\n",
                "  def start(x), do: x\n",
                "end\n",
                "defmodule App.Router do\n",
                "  use Deep.Router\n",
                "  def go(x), do: dispatch(x, to: Handler) && Router.start(x) && Local.run(x)\n",
                "end\n",
            ),
        )];
        let chunks = chunks_of(&sources, false);
        let g = SymbolGraph::build(&chunks);
        // `alias __MODULE__.Local` in the quote is the user's `App.Router.Local`, not
        // known here: the call stays as written.
        assert_eq!(
            g.callees("App.Router.go/1"),
            [
                "Deep.Router.dispatch/2",
                "Deep.Router.start/1",
                "Local.run/1"
            ]
        );
        called_once_from(
            &g,
            &["Deep.Router.dispatch/2", "Deep.Router.start/1"],
            "lib/commanded/router.ex",
        );
    }

    /// A `use` whose quoted code `use`s another module brings that module's quoted
    /// imports and aliases too, down a chain, through `use Mod, :which`, once around a
    /// cycle; `use ExUnit.Case` in a quote brings `assert` (what it imports is known
    /// without ExUnit's `__using__`).
    #[test]
    fn a_use_in_quoted_code_brings_what_that_use_brings() {
        let sources = [
            (
                "lib/ex_unit/assertions.ex",
                "defmodule ExUnit.Assertions do\n  defmacro assert(x), do: x\nend\n",
            ),
            (
                "lib/tesla.ex",
                concat!(
                    "defmodule Tesla.Builder do\n",
                    "  defmacro __using__(_opts) do\n",
                    "    quote do\n",
                    "      import Tesla.Builder, only: [plug: 1, plug: 2]\n",
                    "      alias Tesla.Middleware, as: MW\n",
                    "      use Tesla.Client, :base\n",
                    "    end\n",
                    "  end\n",
                    "  defmacro plug(name, opts \\\\ nil), do: {name, opts}\n",
                    "end\n",
                    "defmodule Tesla.Client do\n",
                    "  def base do\n",
                    "    quote do\n",
                    "      import Tesla.Client\n",
                    "      use Tesla\n",
                    "    end\n",
                    "  end\n",
                    "  def request(x), do: x\n",
                    "end\n",
                    "defmodule Tesla.Middleware do\n",
                    "  def json(x), do: x\n",
                    "end\n",
                    "defmodule Tesla do\n",
                    "  defmacro __using__(opts) do\n",
                    "    quote do\n",
                    "      use Tesla.Builder, unquote(opts)\n",
                    "    end\n",
                    "  end\n",
                    "end\n",
                    "defmodule Tesla.TestCase do\n",
                    "  defmacro __using__(_) do\n",
                    "    quote do\n",
                    "      use ExUnit.Case\n",
                    "    end\n",
                    "  end\n",
                    "end\n",
                    "defmodule MyApp.Api do\n",
                    "  use Tesla\n",
                    "  plug MW.json(1)\n",
                    "  def get(x), do: request(x)\n",
                    "end\n",
                    "defmodule MyApp.ApiTest do\n",
                    "  use Tesla.TestCase\n",
                    "  def check(x), do: assert(x)\n",
                    "end\n",
                ),
            ),
        ];
        let chunks = chunks_of(&sources, false);
        let g = SymbolGraph::build(&chunks);
        // `plug` at the top of `MyApp.Api`: Tesla's quote uses Tesla.Builder's.
        let plugs = g.callers("Tesla.Builder.plug/1");
        assert_eq!(plugs.len(), 1, "{plugs:?}");
        assert_eq!(plugs[0].module, "MyApp.Api");
        // A `use` calls the `__using__` it expands, in a module or in a quote.
        assert_eq!(
            g.callees(&plugs[0].symbol),
            [
                "Tesla.Builder.plug/1",
                "Tesla.Middleware.json/1",
                "Tesla.__using__/1"
            ]
        );
        assert_eq!(
            g.callees("Tesla.__using__/1"),
            ["Tesla.Builder.__using__/1"]
        );
        assert_eq!(g.callees("MyApp.Api.get/1"), ["Tesla.Client.request/1"]);
        assert_eq!(
            g.callees("MyApp.ApiTest.check/1"),
            ["ExUnit.Assertions.assert/1"]
        );
    }

    /// `use Tesla.Builder` defines the HTTP verbs `use Tesla` does: `Tesla` itself uses
    /// it (`Tesla.get/2`, the library's API), and so do some clients.
    #[test]
    fn a_use_of_teslas_builder_defines_the_verbs() {
        let sources = [
            (
                "lib/tesla.ex",
                "defmodule Tesla do\n  use Tesla.Builder\n  def client(m), do: m\nend\n",
            ),
            (
                "test/builder_test.exs",
                "defmodule TestClient do\n  use Tesla.Builder\nend\n",
            ),
        ];
        let chunks = chunks_of(&sources, false);
        let g = SymbolGraph::build(&chunks);
        for symbol in ["Tesla.get/2", "Tesla.post/3", "TestClient.get/1"] {
            let sites = g.definitions(symbol);
            assert_eq!(sites.len(), 1, "{symbol}: {sites:?}");
            assert_eq!(sites[0].generated_by.as_deref(), Some("Tesla.Builder"));
        }
    }

    #[test]
    fn a_use_imports_what_the_used_modules_quoted_code_imports() {
        let sources = [
            (
                "lib/ex_unit/assertions.ex",
                "defmodule ExUnit.Assertions do\n  defmacro assert(x), do: x\nend\n",
            ),
            (
                "test/support/data_case.ex",
                concat!(
                    "defmodule MyApp.DataCase do\n  use ExUnit.CaseTemplate\n",
                    "  using do\n    quote do\n      import MyApp.DataCase\n",
                    "      import MyApp.Factory, only: [insert: 1]\n    end\n  end\n",
                    "  def errors_on(cs), do: cs\nend\n",
                ),
            ),
            (
                "lib/my_app/factory.ex",
                "defmodule MyApp.Factory do\n  def insert(x), do: x\n  def build(x), do: x\nend\n",
            ),
            (
                "lib/my_app_web.ex",
                concat!(
                    "defmodule MyAppWeb do\n  def controller do\n    quote do\n",
                    "      import MyAppWeb.Helpers\n    end\n  end\n",
                    "  defmacro __using__(which) when is_atom(which), do: apply(__MODULE__, which, [])\nend\n",
                    "defmodule MyAppWeb.Helpers do\n  def render_json(x), do: x\nend\n",
                    "defmodule MyAppWeb.PageController do\n  use MyAppWeb, :controller\n",
                    "  def index(conn), do: render_json(conn)\nend\n",
                ),
            ),
            (
                "lib/my_lib.ex",
                concat!(
                    "defmodule MyLib do\n  defmacro __using__(_opts) do\n    quote do\n",
                    "      import MyLib.Util\n    end\n  end\nend\n",
                    "defmodule MyLib.Util do\n  def util(x), do: x\nend\n",
                    "defmodule UsesLib do\n  use MyLib\n  def go(x), do: util(x)\nend\n",
                ),
            ),
            (
                "test/my_app/user_test.exs",
                concat!(
                    "defmodule MyApp.UserTest do\n  use MyApp.DataCase\n\n",
                    "  test \"errors\" do\n    assert errors_on(insert(1)) == 1\n    build(2)\n  end\nend\n",
                ),
            ),
        ];
        let chunks = chunks_of(&sources, false);
        let g = SymbolGraph::build(&chunks);
        assert_eq!(g.callees("UsesLib.go/1"), ["MyLib.Util.util/1"]);
        assert_eq!(
            g.callees("MyAppWeb.PageController.index/1"),
            ["MyAppWeb.Helpers.render_json/1"]
        );
        called_once_from(
            &g,
            &[
                "MyApp.DataCase.errors_on/1",
                "MyApp.Factory.insert/1",
                "ExUnit.Assertions.assert/1",
            ],
            "test/my_app/user_test.exs",
        );
        // `only: [insert: 1]`: the factory's `build/1` is not imported.
        assert!(g.callers("MyApp.Factory.build/1").is_empty());
        // Built in parts, the same.
        let merged = SymbolGraph::merge(chunks.iter().map(|c| SymbolGraph::part([c])));
        assert_eq!(
            merged.callers("MyApp.Factory.insert/1"),
            g.callers("MyApp.Factory.insert/1")
        );
        assert_eq!(merged.callees("UsesLib.go/1"), g.callees("UsesLib.go/1"));
    }
}
