//! Call sites: one iterative pass over the whole syntax tree records every remote call
//! (`Mod.fun(...)`, pipes, captures) and every local call, with its byte offset. Each
//! chunk later takes the calls inside its span and resolves them with its module's
//! aliases, so the symbol graph is keyed by `Mod.fun/arity`, never by bare names.

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::OnceLock;

use tree_sitter::{Node, TreeCursor};

use super::{ChunkKind, ImportList, ImportSelect, QuotedDef, Visibility, collapse_whitespace};

/// Node-kind and field ids of tree-sitter-elixir, looked up once. Comparing ids instead of
/// kind names saves a `strlen` and a UTF-8 check on every node visited.
pub(crate) struct Grammar {
    pub call: u16,
    pub unary_operator: u16,
    pub binary_operator: u16,
    pub identifier: u16,
    pub dot: u16,
    pub alias: u16,
    pub atom: u16,
    pub arguments: u16,
    pub do_block: u16,
    pub comment: u16,
    pub bitstring: u16,
    pub sigil: u16,
    pub map: u16,
    pub struct_: u16,
    pub op_at: u16,
    pub op_capture: u16,
    pub op_pipe: u16,
    pub op_match: u16,
    pub op_slash: u16,
    pub op_when: u16,
    pub target: u16,
    pub operator: u16,
    pub operand: u16,
    pub left: u16,
    pub right: u16,
    kinds: HashMap<&'static str, u16>,
}

impl Grammar {
    /// The id of a named node kind (0, which no node has, when unknown).
    pub fn kind(&self, name: &str) -> u16 {
        self.kinds.get(name).copied().unwrap_or(0)
    }
}

pub(crate) fn grammar() -> &'static Grammar {
    static GRAMMAR: OnceLock<Grammar> = OnceLock::new();
    GRAMMAR.get_or_init(|| {
        let language: tree_sitter::Language = tree_sitter_elixir::LANGUAGE.into();
        let named = |k: &str| language.id_for_node_kind(k, true);
        let token = |k: &str| language.id_for_node_kind(k, false);
        let field = |f: &str| language.field_id_for_name(f).map_or(0, |id| id.get());
        let mut kinds = HashMap::new();
        for k in [
            "call",
            "unary_operator",
            "binary_operator",
            "identifier",
            "dot",
            "alias",
            "atom",
            "arguments",
            "do_block",
            "comment",
            "keywords",
            "pair",
            "keyword",
            "block",
            "list",
            "string",
            "charlist",
            "sigil",
            "sigil_name",
            "quoted_content",
            "boolean",
            "tuple",
            "ERROR",
            "else_block",
            "after_block",
            "rescue_block",
            "catch_block",
        ] {
            kinds.insert(k, named(k));
        }
        Grammar {
            call: named("call"),
            unary_operator: named("unary_operator"),
            binary_operator: named("binary_operator"),
            identifier: named("identifier"),
            dot: named("dot"),
            alias: named("alias"),
            atom: named("atom"),
            arguments: named("arguments"),
            do_block: named("do_block"),
            comment: named("comment"),
            bitstring: named("bitstring"),
            sigil: named("sigil"),
            map: named("map"),
            struct_: named("struct"),
            op_at: token("@"),
            op_capture: token("&"),
            op_pipe: token("|>"),
            op_match: token("="),
            op_slash: token("/"),
            op_when: token("when"),
            target: field("target"),
            operator: field("operator"),
            operand: field("operand"),
            left: field("left"),
            right: field("right"),
            kinds,
        }
    })
}

/// A call as written, before alias expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawCall {
    /// `Mod.fun/arity`; `module` as written (`Foo.Bar`, `__MODULE__.X`, `:ets`).
    Remote {
        module: String,
        fun: String,
        arity: u32,
    },
    /// `fun/arity` called without a module.
    Local { fun: String, arity: u32 },
    /// `fun/2` called by a plug pipeline on each request (`plug :fun`, `pipe_through
    /// :fun`): a call without a module, made once the module is compiled, so it may be
    /// one of the functions a `use` or a macro defines in the module (module-level code
    /// cannot call those).
    Plugged { fun: String },
    /// A callback of the caller's own module that a message to it runs
    /// (`GenServer.call(pid, msg)` runs `handle_call/3`): a call where the module defines
    /// it, nothing where it does not.
    /// `message`: the tag of the message (`:get` for `:get` or `{:get, key}`) where it is
    /// written so, for the module's clauses to be matched against.
    OwnCallback {
        fun: &'static str,
        arity: u32,
        message: Option<String>,
    },
    /// `alias Target` (or `alias Target, as: Short`, `require Target, as: Short`): later
    /// calls through `Short` in the same chunk call `Target` (an alias inside a function
    /// body; module-level aliases are in the module's scope already).
    /// It holds to `scope_end`, the end of the block it is in (as an import does).
    Alias {
        short: String,
        target: String,
        scope_end: usize,
        /// Inside a `quote` (or a case template's `using` block): also an alias made in
        /// the modules that use this one.
        quoted: bool,
    },
    /// `import Mod` (with its `only:` / `except:` list) inside a function or test body,
    /// or at the top of a script: later calls without a module, up to `scope_end` (the
    /// end of the block it is in), may come from `Mod`.
    Import {
        module: String,
        list: Option<ImportList>,
        scope_end: usize,
        /// Inside a `quote` (or a case template's `using` block): an import made in the
        /// modules that use this one, not here.
        quoted: bool,
    },
    /// `use Mod` (or `use Mod, :which`) inside a `quote` or a case template's `using`
    /// block: a `use` made in the modules that use this one.
    QuotedUse {
        module: String,
        /// The `:which` of `use Mod, :which` (or of `use Mod, {:which, opts}`).
        which: Option<String>,
    },
    /// `@before_compile Mod` inside a `quote` or a case template's `using` block: the
    /// modules that use this one run `Mod.__before_compile__/1`'s quote as they end,
    /// as they run a quoted `use`'s.
    /// `fun`: the hook's name (`__before_compile__`, or `:hook` of `{Mod, :hook}`).
    QuotedBeforeCompile { module: String, fun: String },
    /// `Mox.defmock(MockMod, for: Behaviour)` (or Hammox's, or `for: [A, B]`): a module
    /// made at run time that implements each behaviour.
    Mock {
        mock: String,
        behaviours: Vec<String>,
        /// The line of the `defmock`.
        line: u32,
    },
    /// `render(conn, :index)` (or `conn |> render(:index, assigns)`): a Phoenix 1.7
    /// controller renders the template function of its format's module
    /// (`PageController`'s `PageHTML.index/1`, or `PageJSON.index/1`).
    ControllerRender { template: String },
    /// `GenServer.start_link(__MODULE__, arg, name: Name)`: the module registers its
    /// process under another module's name, so a message to `Name` runs its callbacks.
    Registers { name: String },
    /// `@behaviour Mod` inside a `quote` or a case template's `using` block: the modules
    /// that use this one implement `Mod` (`use MyAppWeb, :plug` whose quote declares
    /// `@behaviour Plug`).
    QuotedBehaviour { module: String },
    /// `def name(args)` (or `defp`, `defmacro`, `defguard`, `defdelegate`) inside a
    /// `quote` or a case template's `using` block: a function defined in the modules
    /// that use this one. Heads whose name is computed (`def unquote(name)()`) are not.
    QuotedDef {
        def: QuotedDef,
        /// Where its clause ends: the calls before it are its own.
        end: usize,
    },
    /// `__MODULE__.fun(…)` (or `%__MODULE__{}`, `__MODULE__.Sub.fun(…)`) in a `quote`:
    /// `__MODULE__` is the module the quoted code lands in, not the one it is written
    /// in, so it is no call of the quoting function's; a quoted definition calls it in
    /// the using module.
    CallerModule {
        module: String,
        fun: String,
        arity: u32,
    },
    /// An `unquote` (or `unquote_splicing`) in quoted code, to `end`: the calls in it
    /// run where the quote is written, and are no call of a quoted definition's.
    Unquoted { end: usize },
}

impl RawCall {
    /// A plug's call as the call without a module it is (`plug :auth` is `auth/2`).
    pub(crate) fn plugged_as_local(self) -> RawCall {
        match self {
            RawCall::Plugged { fun } => RawCall::Local { fun, arity: 2 },
            call => call,
        }
    }
}

/// Definition keywords whose first argument is a head, not a call.
pub(crate) const DEF_KEYWORDS: [&str; 11] = [
    "def",
    "defp",
    "defmacro",
    "defmacrop",
    "defguard",
    "defguardp",
    "defdelegate",
    // Nx's numerical definitions and transforms: functions, written as `def` is.
    "defn",
    "defnp",
    "deftransform",
    "deftransformp",
];

/// Calls whose arguments name modules rather than call anything.
const MODULE_DIRECTIVES: [&str; 4] = ["alias", "import", "require", "use"];

/// The first child of `node` with the given named kind.
pub(crate) fn child_of_kind<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let id = grammar().kind(kind);
    // The kinds asked for are among the first children (a call's arguments and do block
    // follow its target): looked up by index there, which makes no cursor (an allocation
    // each); past them a cursor, since each lookup by index starts from the first child.
    let count = node.child_count();
    for i in 0..count.min(FIRST_CHILDREN) {
        if let Some(child) = node.child(i)
            && child.kind_id() == id
        {
            return Some(child);
        }
    }
    if count <= FIRST_CHILDREN {
        return None;
    }
    let mut cursor = node.walk();
    node.children(&mut cursor)
        .skip(FIRST_CHILDREN as usize)
        .find(|c| c.kind_id() == id)
}

/// How many of a node's children [`child_of_kind`] looks up by index.
const FIRST_CHILDREN: u32 = 4;

/// Where an import's scope ends: imports are lexical, to the end of the block they are
/// in; the `else`, `rescue`, `catch` and `after` blocks after a `do` part do not see one
/// made in it.
///
/// `ends` remembers each block's answer (by the block's node id): a body with thousands
/// of aliases would otherwise scan its statements once per alias.
fn import_scope_end(node: Node<'_>, src: &[u8], ends: &mut FxHashMap<usize, usize>) -> usize {
    let file_end = src.len();
    let Some(parent) = node.parent() else {
        return file_end;
    };
    if let Some(&end) = ends.get(&parent.id()) {
        return end;
    }
    let end = block_scope_end(parent, src);
    ends.insert(parent.id(), end);
    end
}

/// Where what a statement of `parent` imports or aliases stops applying: the block's
/// first `else`/`rescue`/`catch`/`after` part, which follow all of its statements, or
/// its end.
fn block_scope_end(parent: Node<'_>, src: &[u8]) -> usize {
    scope_end_in(parent, || parent.parent(), src)
}

/// [`block_scope_end`], with the call `parent` belongs to given by `call` (a walk down
/// the tree knows it; a node's `parent()` costs the tree's depth).
pub(crate) fn scope_end_in<'t>(
    parent: Node<'t>,
    call: impl FnOnce() -> Option<Node<'t>>,
    src: &[u8],
) -> usize {
    // Only these blocks have `else`, `rescue`, `catch` or `after` parts (a function
    // body is an implicit `try`): elsewhere (a module's body, say) the statements need
    // no scan.
    let has_other_parts = || {
        call()
            .and_then(|call| call.child_by_field_id(grammar().target))
            .is_some_and(|t| {
                matches!(
                    std::str::from_utf8(&src[t.start_byte()..t.end_byte()]),
                    Ok("if"
                        | "unless"
                        | "try"
                        | "with"
                        | "receive"
                        | "def"
                        | "defp"
                        | "defmacro"
                        | "defmacrop")
                )
            })
    };
    if parent.kind() == "do_block" && has_other_parts() {
        let mut cursor = parent.walk();
        let next_block = parent.named_children(&mut cursor).find(|c| {
            matches!(
                c.kind(),
                "else_block" | "rescue_block" | "catch_block" | "after_block"
            )
        });
        if let Some(block) = next_block {
            return block.start_byte();
        }
    }
    parent.end_byte()
}

/// What the call walk is in: a `quote` (its `do` block; its options run where it is
/// written), an `unquote`, a module, a function, a case template's `using` block. The
/// walk keeps a stack of them (with where each ends), so that what code is quoted is
/// known without walking up the tree (each step up costs the tree's depth in
/// tree-sitter: deep nesting would make that quadratic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Quote,
    QuoteOptions,
    Unquote,
    Module,
    Function,
    Using,
    /// An Ecto query's macro (`from`, `select`, `where`...): a call without a module in
    /// it is the query API's (`count(v.id)`), not a function of the module's.
    Query,
    /// A pinned expression in a query (`^count(opts)`): Elixir again.
    Pin,
    /// An ExUnit test's (or setup's) body: code run as the test runs, as a function's.
    Test,
}

/// The functions of Ecto's query API, which a query's macros read as SQL: `select:
/// count(v.id)` calls no `count/1` of the module it is written in.
const ECTO_QUERY_API: [&str; 22] = [
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "fragment",
    "field",
    "coalesce",
    "like",
    "ilike",
    "is_nil",
    "type",
    "exists",
    "selected_as",
    "parent_as",
    "as",
    "json_extract_path",
    "datetime_add",
    "date_add",
    "ago",
    "from_now",
    "splice",
];

/// How many enclosing contexts a question about the walk's place looks at.
const CONTEXT_LEVELS: usize = 32;

impl Context {
    /// The context a call named `name` opens, if any.
    fn of(name: &str) -> Option<Context> {
        Some(match name {
            "quote" => Context::Quote,
            "unquote" | "unquote_splicing" => Context::Unquote,
            "defmodule" | "defimpl" | "defprotocol" => Context::Module,
            "def" | "defp" | "defmacro" | "defmacrop" => Context::Function,
            "test" | "setup" | "setup_all" | "property" | "test_with_mock" => Context::Test,
            "using" => Context::Using,
            "from" | "select" | "where" | "order_by" | "group_by" | "having" | "select_merge"
            | "dynamic" | "distinct" => Context::Query,
            _ => return None,
        })
    }

    /// Whether the walk is in an Ecto query's macro, inside the function it is in.
    fn in_query(stack: &[(usize, Context)]) -> bool {
        Context::innermost(stack)
            .take_while(|&c| {
                !matches!(
                    c,
                    Context::Function | Context::Module | Context::Quote | Context::Pin
                )
            })
            .any(|c| c == Context::Query)
    }

    fn innermost(stack: &[(usize, Context)]) -> impl Iterator<Item = Context> + '_ {
        stack.iter().rev().take(CONTEXT_LEVELS).map(|&(_, c)| c)
    }

    /// Whether the walk is in code quoted for another module: in a `quote` block (of a
    /// `__using__` macro, say) or an ExUnit case template's `using` block, before any
    /// enclosing definition or module.
    fn in_quote(stack: &[(usize, Context)]) -> bool {
        Context::innermost(stack)
            .find_map(|c| match c {
                Context::Quote | Context::Using => Some(true),
                Context::Module | Context::Function => Some(false),
                Context::Unquote
                | Context::QuoteOptions
                | Context::Query
                | Context::Pin
                | Context::Test => None,
            })
            .unwrap_or(false)
    }

    /// Whether the walk is in a function's body (not in a module's own code, nor in a
    /// quote there).
    fn in_function(stack: &[(usize, Context)]) -> bool {
        Context::innermost(stack)
            .find_map(|c| match c {
                Context::Function => Some(true),
                Context::Module | Context::Quote | Context::Using => Some(false),
                Context::Unquote
                | Context::QuoteOptions
                | Context::Query
                | Context::Pin
                | Context::Test => None,
            })
            .unwrap_or(false)
    }

    /// Whether the walk is in a function's or a test's body, or at the top of a script
    /// (outside any module): where a `use` imports for the code after it, not for a
    /// module. Read from the walk's stack: a walk up the tree from each `use` costs the
    /// depth again per step.
    fn in_body_or_script(stack: &[(usize, Context)]) -> bool {
        let mut any = false;
        for c in Context::innermost(stack) {
            any = true;
            match c {
                Context::Function | Context::Test => return true,
                Context::Module | Context::Quote | Context::Using => return false,
                Context::Unquote | Context::QuoteOptions | Context::Query | Context::Pin => {}
            }
        }
        !any
    }

    /// Whether a definition here is code a `use` of its module injects into the module
    /// that uses it: in a `quote` in a function or macro of the module (`__using__`, a
    /// `use Mod, :which` function, a helper `__using__` unquotes), or in a case
    /// template's `using` block. Not in a quote within a quote (what the injected code
    /// injects in turn), in a module-level `quote`, nor in a module or implementation
    /// the quote defines.
    fn injected(stack: &[(usize, Context)]) -> bool {
        // A `quote` seen, then the function it is in.
        let (mut quoted, mut in_function) = (false, false);
        for c in Context::innermost(stack) {
            match c {
                // `using do quote do … end end`: the quote is what the template injects.
                Context::Using => return quoted,
                Context::Quote if quoted => return false,
                Context::Quote => quoted = true,
                Context::Function if quoted => in_function = true,
                Context::Function => return false,
                Context::Module => return quoted && in_function,
                Context::Unquote
                | Context::QuoteOptions
                | Context::Query
                | Context::Pin
                | Context::Test => {}
            }
        }
        false
    }

    /// Whether `__MODULE__` here is the module quoted code lands in: in a `quote` block,
    /// not in an `unquote` of it nor in its options (both run where the quote is
    /// written), nor in a module the quote defines.
    fn caller_module(stack: &[(usize, Context)]) -> bool {
        Context::innermost(stack)
            .find_map(|c| match c {
                Context::Quote => Some(true),
                Context::Unquote | Context::QuoteOptions | Context::Module | Context::Using => {
                    Some(false)
                }
                Context::Function | Context::Query | Context::Pin | Context::Test => None,
            })
            .unwrap_or(false)
    }
}

/// Whether `node` sits in the body of a function, macro or test (a few levels up, as
/// bodies go), or at the top of a file outside any module: not among a module's own
/// statements, which are the module's imports.
fn outside_module_body(node: Node<'_>, src: &[u8]) -> bool {
    let mut up = node.parent();
    let mut from = node;
    for _ in 0..64 {
        let Some(n) = up else {
            // The top of a file: a script's import.
            return true;
        };
        if n.kind() == "call"
            && let Some(target) = n.child_by_field_name("target")
        {
            let name = text(target, src);
            // A body, or a block in a module (`describe`, `if`, `for`...): not the
            // module's own statements.
            if DEF_KEYWORDS.contains(&name)
                || matches!(
                    name,
                    "test"
                        | "property"
                        | "test_with_mock"
                        | "describe"
                        | "if"
                        | "unless"
                        | "for"
                        | "case"
                        | "cond"
                        | "with"
                        | "try"
                )
            {
                return true;
            }
            if matches!(name, "defmodule" | "defprotocol" | "defimpl") {
                return false;
            }
            // Any other block (a router's `scope "/admin" do … import AshAdmin.Router`):
            // an import is lexical, to the end of the block it is made in.
            if from.kind() == "do_block" {
                return true;
            }
        }
        from = n;
        up = n.parent();
    }
    false
}

/// The `only: [fun: arity, ...]` or `except: [...]` list of an `import` call (pairs or
/// `{:fun, arity}` tuples), names as `fun/arity`, or its `only: :functions` (`:macros`,
/// `:sigils`); `None` without one.
pub(crate) fn import_list(node: Node<'_>, src: &[u8]) -> Option<ImportList> {
    let keywords = child_of_kind(node, "arguments").and_then(|a| child_of_kind(a, "keywords"))?;
    let (except, list) =
        keyword_pairs(keywords)
            .into_iter()
            .find_map(
                |(key, value)| match text(key, src).trim_end().trim_end_matches(':') {
                    "only" => Some((false, value)),
                    "except" => Some((true, value)),
                    _ => None,
                },
            )?;
    if list.kind() == "atom" && !except {
        // `only: :functions`: every one of that sort, so an `except:` list (empty) with
        // the sort.
        let select = match text(list, src) {
            ":functions" => ImportSelect::Functions,
            ":macros" => ImportSelect::Macros,
            ":sigils" => ImportSelect::Sigils,
            _ => return None,
        };
        return Some(ImportList {
            except: true,
            names: Vec::new(),
            select: Some(select),
        });
    }
    if list.kind() != "list" {
        return None;
    }
    let mut names = Vec::new();
    let mut push = |fun: String, arity: Node<'_>| {
        if fun.is_empty() {
            return;
        }
        match text(arity, src).trim().parse::<u32>() {
            Ok(arity) => names.push(format!("{fun}/{arity}")),
            // `get: @arity`: some arity of `get`, which one is not written here.
            Err(_) if arity.kind() != "integer" => names.push(format!("{fun}/_")),
            Err(_) => {}
        }
    };
    let mut cursor = list.walk();
    let entries: Vec<Node<'_>> = list.named_children(&mut cursor).collect();
    for entry in entries {
        match entry.kind() {
            "keywords" => {
                for (key, value) in keyword_pairs(entry) {
                    let fun = match key.kind() {
                        // `"odd?": 1` (its content node has several kind ids: match by name).
                        "quoted_keyword" => quoted_content(key, src),
                        _ => text(key, src).trim_end().trim_end_matches(':').to_string(),
                    };
                    push(fun, value);
                }
            }
            // `{:flatten, 1}`: the same pair written as a tuple.
            "tuple" => {
                let mut c = entry.walk();
                let parts: Vec<Node<'_>> = entry.named_children(&mut c).collect();
                if let [name, arity] = parts[..] {
                    let fun = match name.kind() {
                        "atom" => text(name, src).trim_start_matches(':').to_string(),
                        "quoted_atom" => quoted_content(name, src),
                        _ => continue,
                    };
                    push(fun, arity);
                }
            }
            _ => {}
        }
    }
    Some(ImportList {
        except,
        names,
        select: None,
    })
}

/// Attributes whose value is a type, a spec, documentation or a compiler directive,
/// never code that runs.
pub(crate) const DESCRIBING_ATTRIBUTES: [&str; 18] = [
    "spec",
    "type",
    "typep",
    "opaque",
    "callback",
    "macrocallback",
    "optional_callbacks",
    "doc",
    "moduledoc",
    "typedoc",
    "impl",
    "behaviour",
    "derive",
    "enforce_keys",
    "compile",
    "dialyzer",
    "deprecated",
    "since",
];

/// The text inside a quoted atom or keyword (`:"odd?"`, `"odd?":`).
fn quoted_content(node: Node<'_>, src: &[u8]) -> String {
    let mut cursor = node.walk();
    let content = node
        .named_children(&mut cursor)
        .find(|c| c.kind() == "quoted_content");
    content.map_or("", |c| text(c, src)).to_string()
}

/// The text of a string written without interpolation or escapes (`"hex.audit"`).
pub(crate) fn plain_string<'s>(node: Node<'_>, src: &'s [u8]) -> Option<&'s str> {
    if node.kind() != "string" || node.named_child_count() != 1 {
        return None;
    }
    let content = node
        .named_child(0)
        .filter(|c| c.kind() == "quoted_content")?;
    Some(text(content, src))
}

/// The `(key, value)` nodes of a `keywords` node's pairs (`to: Mod, as: :f`).
pub(crate) fn keyword_pairs<'t>(keywords: Node<'t>) -> Vec<(Node<'t>, Node<'t>)> {
    let mut cursor = keywords.walk();
    keywords
        .named_children(&mut cursor)
        .filter_map(|pair| {
            Some((
                pair.child_by_field_name("key")?,
                pair.child_by_field_name("value")?,
            ))
        })
        .collect()
}

/// The arity of a call of `arity` arguments as written, where quoted code (or an unquote
/// fragment) splices a list into them:
/// `unquote(__MODULE__).static_path(unquote_splicing([endpoint, route]))` passes the
/// literal list's two elements, `[a, b: 1]` two as well. `None` when the spliced list is
/// not written out (`fun(unquote_splicing(args))`, `[a | rest]`): the arity is not known
/// here, so the call is not cited. `splices`: whether the code walked holds
/// `unquote_splicing` at all; without, the arity as written, and no argument is looked at.
fn spliced_arity(
    arity: u32,
    arguments: Option<Node<'_>>,
    splices: bool,
    src: &[u8],
) -> Option<u32> {
    let Some(arguments) = arguments.filter(|_| splices) else {
        return Some(arity);
    };
    let g = grammar();
    let mut arity = arity;
    for argument in named_children(arguments) {
        let spliced = argument.kind_id() == g.call
            && (argument.child_by_field_id(g.target))
                .is_some_and(|t| text(t, src) == "unquote_splicing");
        if !spliced {
            continue;
        }
        let list = child_of_kind(argument, "arguments").and_then(|a| a.named_child(0))?;
        if list.kind() != "list" {
            return None;
        }
        let mut elements = 0u32;
        for e in named_children(list) {
            if e.kind_id() == g.comment {
                continue;
            }
            if e.kind_id() == g.binary_operator
                && e.child_by_field_id(g.operator)
                    .is_some_and(|o| text(o, src) == "|")
            {
                // `[a | rest]`: as long as `rest` is.
                return None;
            }
            // A trailing keyword list is one element per pair.
            elements += match e.kind() {
                "keywords" => keyword_pairs(e).len() as u32,
                _ => 1,
            };
        }
        // The splice itself was counted as one argument.
        arity = arity - 1 + elements;
    }
    Some(arity)
}

/// Number of arguments of a call node: named children of `arguments` (a trailing keyword
/// list counts as one) plus one for a `do` block.
pub(crate) fn call_arity(call: Node<'_>) -> u32 {
    let g = grammar();
    let mut arity = 0u32;
    let mut cursor = call.walk();
    for child in call.children(&mut cursor) {
        let kind = child.kind_id();
        if kind == g.arguments {
            let mut c2 = child.walk();
            arity += child
                .named_children(&mut c2)
                .filter(|a| a.kind_id() != g.comment)
                .count() as u32;
        } else if kind == g.do_block {
            arity += 1;
        }
    }
    arity
}

fn text<'s>(node: Node<'_>, src: &'s [u8]) -> &'s str {
    std::str::from_utf8(&src[node.start_byte()..node.end_byte()]).unwrap_or("")
}

/// The module expression of a remote call target, if it is static.
fn static_module(left: Node<'_>, src: &[u8]) -> Option<String> {
    let g = grammar();
    let kind = left.kind_id();
    if kind == g.alias || kind == g.atom {
        Some(text(left, src).to_string())
    } else if kind == g.identifier && text(left, src) == "__MODULE__" {
        Some("__MODULE__".to_string())
    } else if kind == g.call && unquotes_module(left, src) {
        Some(UNQUOTED_MODULE.to_string())
    } else if kind == g.dot {
        // `__MODULE__.Sub.fun()`: the left side is itself a dot of __MODULE__ and an alias.
        let t = text(left, src);
        if t.starts_with("__MODULE__.") {
            return Some(t.to_string());
        }
        // `unquote(__MODULE__).Changeset.verify(…)` in a quote: the quoting module's (a
        // variable's field, `socket.assigns.user`, is not looked into).
        if !t.starts_with("unquote") {
            return None;
        }
        let (inner, right) = (
            left.child_by_field_id(g.left)?,
            left.child_by_field_id(g.right)?,
        );
        (unquotes_module(inner, src) && right.kind_id() == g.alias)
            .then(|| format!("{UNQUOTED_MODULE}.{}", text(right, src)))
    } else {
        None
    }
}

/// A module attribute a call is made through (`@subject.handle_event(…)`, after
/// `@subject Supavisor.ClientHandler`, as ExUnit tests often write): `@subject`, which
/// the module's attribute resolves ([`RawCall::Remote`] through an alias of that name;
/// dropped when no attribute names a module).
fn attribute_module(left: Node<'_>, src: &[u8]) -> Option<String> {
    let g = grammar();
    // Most calls through a value are a variable's (`conn.assigns`): not looked into.
    // In a template, `@post.title` reads an assign's field.
    if left.kind_id() != g.unary_operator
        || src.get(left.start_byte()) != Some(&b'@')
        || IN_TEMPLATE_CODE.with(|c| c.get())
    {
        return None;
    }
    let operand = left.child_by_field_id(g.operand)?;
    (operand.kind_id() == g.identifier).then(|| format!("@{}", text(operand, src)))
}

/// What building or matching `%module{}` calls: `module.__struct__/0`.
fn struct_call(module: String) -> RawCall {
    RawCall::Remote {
        module,
        fun: "__struct__".to_string(),
        arity: 0,
    }
}

/// What `Mox.defmock(MockMod, for: Behaviour)` makes: `MockMod`, implementing the
/// behaviour (or each of a list).
fn mock_of(call: Node<'_>, arguments: Option<Node<'_>>, src: &[u8]) -> Option<RawCall> {
    let g = grammar();
    let argv = named_children(arguments?);
    let [mock, options, ..] = argv[..] else {
        return None;
    };
    if mock.kind_id() != g.alias || options.kind() != "keywords" {
        return None;
    }
    let value = (keyword_pairs(options).into_iter())
        .find(|(key, _)| text(*key, src).trim_end().trim_end_matches(':') == "for")
        .map(|(_, value)| value)?;
    let values = match value.kind() {
        "list" => named_children(value),
        _ => vec![value],
    };
    let behaviours: Vec<String> = (values.into_iter())
        .filter(|v| v.kind_id() == g.alias)
        .map(|v| text(v, src).to_string())
        .collect();
    (!behaviours.is_empty()).then(|| RawCall::Mock {
        mock: text(mock, src).to_string(),
        behaviours,
        line: call.start_position().row as u32 + 1,
    })
}

/// Modules whose functions take a module, a function's name and its arguments, and call
/// it: `Task.async(Mod, :fun, args)`, `:rpc.call(node, Mod, :fun, args)`.
const MFA_MODULES: [&str; 12] = [
    "Task",
    "Task.Supervisor",
    "Agent",
    "Process",
    "Node",
    "Kernel",
    ":erlang",
    ":rpc",
    ":erpc",
    ":timer",
    ":proc_lib",
    ":gen_rpc",
];

/// Modules whose starts and calls take a module, then an argument or a message that may
/// be an atom, then a list that is no function's arguments.
const SERVER_MODULES: [&str; 11] = [
    "GenServer",
    "GenStage",
    "GenStateMachine",
    "GenEvent",
    "Supervisor",
    "DynamicSupervisor",
    "PartitionSupervisor",
    ":gen_server",
    ":gen_statem",
    ":gen_event",
    ":supervisor",
];

/// The most `use`s in functions' or tests' bodies (or at a script's top) one file's walk
/// reads as imports there: real code makes a handful.
const MAX_SCOPED_USES: usize = 64;
/// The most `{Mod, :fun, [args]}` tuples one file's walk looks up the tree from to see
/// whether they are patterns (past them, they are taken as written to be run).
const MAX_PATTERN_CHECKS: usize = 64;

/// Words in the names of a project's own functions that call what they are given as a
/// module, a function's name and its arguments (`Rpc.enhanced_call`, `GenRpc.multicast`).
const MFA_CALLERS: [&str; 5] = ["apply", "call", "cast", "spawn", "rpc"];

/// The function a call runs through a module, a function's name and a list of
/// arguments written one after the other among its arguments: `apply(Mod, :fun, [a,
/// b])`, `:erpc.call(node, __MODULE__, :connect, [id, opts])` and `Task.async(Mod,
/// :run, [])` call `Mod.fun/2`, `connect/2` and `run/0`. Only for the functions of
/// [`MFA_MODULES`], `apply` and `spawn`, and functions whose names say they call
/// ([`MFA_CALLERS`]; not a server's start, `GenServer.start_link(__MODULE__, :ok, [])`,
/// nor `Cachex.put(Cache, :key, [1])`), with a module written as an alias or
/// `__MODULE__`, an atom, and a list of known length.
fn mfa_call(
    module: Option<&str>,
    fun: &str,
    arguments: Option<Node<'_>>,
    quoted: bool,
    src: &[u8],
) -> Option<RawCall> {
    // `Logger.add_translator({Plug.Cowboy.Translator, :translate})`: Logger calls the
    // translator with four arguments.
    if module == Some("Logger") && fun == "add_translator" {
        let tuple = arguments?.named_child(0).filter(|t| t.kind() == "tuple")?;
        let [m, f] = named_children(tuple)[..] else {
            return None;
        };
        return Some(RawCall::Remote {
            module: static_module(m, src)?,
            fun: atom_name(f, src)?.to_string(),
            arity: 4,
        });
    }
    // Most calls pass fewer than three arguments: nothing to read.
    let arguments = arguments.filter(|a| a.named_child_count() >= 3)?;
    let takes_mfa = match module {
        // `Process.spawn(Mod, :fun, args, opts)`, `:erlang.apply/3`; not `Process.send(dest,
        // :msg, [:noconnect])`.
        Some("Process" | ":erlang") => fun.starts_with("spawn") || fun == "apply",
        Some(m) if MFA_MODULES.contains(&m) => true,
        // `GenServer.call(__MODULE__, :get, [])`: a server, its message, a timeout.
        Some(m) if SERVER_MODULES.contains(&m) => false,
        None if matches!(fun, "apply" | "spawn" | "spawn_link" | "spawn_monitor") => true,
        // A word of the name ends so (`enhanced_call`, `multicast`; not `called`, `calls`).
        _ => (fun.split('_')).any(|word| MFA_CALLERS.iter().any(|w| word.ends_with(w))),
    };
    if !takes_mfa {
        return None;
    }
    let args = named_children(arguments);
    // `Task.async_stream(items, Upload, :upload_chunk, [op, config])` applies the
    // function to each item first, then the list.
    let streams =
        matches!(module, Some("Task" | "Task.Supervisor")) && fun.starts_with("async_stream");
    if let Some(call) = args.windows(3).find_map(|w| mfa_in(w, src)) {
        return Some(match call {
            RawCall::Remote { module, fun, arity } if streams => RawCall::Remote {
                module,
                fun,
                arity: arity + 1,
            },
            call => call,
        });
    }
    // `apply(callback_module, :latest_rates_retrieved, [rates, at])`: a function of a
    // module chosen at run time, as `callback_module.latest_rates_retrieved(rates, at)`
    // (out of a quote, where a variable is the using module's code's).
    let apply = fun == "apply" && matches!(module, None | Some("Kernel" | ":erlang"));
    match args[..] {
        [m, f, list] if apply && !quoted && list.kind() == "list" => {
            let runtime = module_variable(m, src) || m.kind_id() == grammar().call;
            let fun = atom_name(f, src)?;
            let arity = known_length(list, src)?;
            runtime.then(|| RawCall::Remote {
                module: super::RUNTIME_MODULE.to_string(),
                fun: fun.to_string(),
                arity,
            })
        }
        _ => None,
    }
}

/// `strategy |> apply(:handle_callback!, [conn])`: `apply`'s module piped in, a variable
/// or a call's value (a function of a module chosen at run time, as `mfa_call` reads
/// `apply(strategy, :handle_callback!, [conn])`) or a module (`__MODULE__ |>
/// apply(:helper, [x])`).
fn piped_apply(node: Node<'_>, arguments: Option<Node<'_>>, src: &[u8]) -> Option<RawCall> {
    let g = grammar();
    let left = (node.parent())
        .filter(|p| p.kind_id() == g.binary_operator)?
        .child_by_field_id(g.left)?;
    let [f, list] = named_children(arguments?)[..] else {
        return None;
    };
    if list.kind() != "list" {
        return None;
    }
    let fun = atom_name(f, src)?.to_string();
    let arity = known_length(list, src)?;
    let runtime = module_variable(left, src) || left.kind_id() == g.call || piped_call_value(left);
    let module = match runtime {
        true => super::RUNTIME_MODULE.to_string(),
        false => static_module(left, src)?,
    };
    Some(RawCall::Remote { module, fun, arity })
}

/// Whether `node` is a pipe (`x |> adapter()`): its value is its last call's.
fn piped_call_value(node: Node<'_>) -> bool {
    let g = grammar();
    node.kind_id() == g.binary_operator
        && node.child_by_field_id(g.operator).map(|o| o.kind_id()) == Some(g.op_pipe)
}

/// The length of a list of arguments written out (`[a, b]`: 2; `[opts, name || :none]`:
/// 2); none for `[x | rest]`, whose length is not known.
fn known_length(list: Node<'_>, src: &[u8]) -> Option<u32> {
    let g = grammar();
    let items = named_children(list);
    let cons = items.iter().any(|i| {
        i.kind_id() == g.binary_operator
            && i.child_by_field_id(g.operator)
                .is_some_and(|o| text(o, src) == "|")
    });
    (!cons).then_some(items.len() as u32)
}

/// Whether `node` is a variable that may hold a module chosen at run time (`adapter`),
/// not `__MODULE__` nor `_`.
fn module_variable(node: Node<'_>, src: &[u8]) -> bool {
    node.kind_id() == grammar().identifier && !matches!(text(node, src), "__MODULE__" | "_")
}

/// The function a module, a function's name and a list of arguments name, written one
/// after the other (`Mod, :fun, [a, b]`: `Mod.fun/2`): the module an alias or
/// `__MODULE__`, the list of known length.
fn mfa_in(nodes: &[Node<'_>], src: &[u8]) -> Option<RawCall> {
    let g = grammar();
    let [module, name, list] = *nodes else {
        return None;
    };
    // (An atom names an Erlang module, `:rpc.call(node, :mod_worker, :enqueue, [opts])`:
    // a tuple is read only when it starts with no atom, `{:reply, x, state}`.)
    let module = match module.kind_id() {
        k if k == g.alias || k == g.identifier || k == g.dot || k == g.atom => {
            static_module(module, src)?
        }
        // `apply(@default_adapter, :call, [env, opts])`: the module the attribute holds,
        // as `@default_adapter.call(env, opts)` reads it.
        k if k == g.unary_operator => attribute_module(module, src)?,
        _ => return None,
    };
    let fun = atom_name(name, src)?;
    if list.kind() != "list" {
        return None;
    }
    Some(RawCall::Remote {
        module,
        fun: fun.to_string(),
        arity: known_length(list, src)?,
    })
}

/// The calls a call makes without writing them: `raise Mod, msg` (and `reraise`) calls
/// `Mod.exception/1`; `struct(Mod, fields)` calls `Mod.__struct__/0`, as `%Mod{}`
/// does; ExUnit's
/// `setup :name` and `setup [:a, :b]` call `name/1` (or the `Mod.name/1` of
/// `{Mod, :name}`), and its `start_supervised!({Mod, opts})` calls `Mod.child_spec/1`.
/// A plug pipeline calls what it names on each request: `plug :name` (with options, or
/// `when` a guard holds) calls `name(conn, opts)`, `plug Mod` calls `Mod.init/1` and
/// `Mod.call/2`, and Phoenix's `pipe_through :browser` (or a list) the pipeline
/// `browser/2`. A LiveView's `on_mount Mod` (or `{Mod, arg}`) calls the hook's
/// `Mod.on_mount/4` on each mount (as an `on_mount:` option does, read with the pairs).
/// A Phoenix socket's `channel "room:*", RoomChannel` (in its module's code, not in a
/// function) calls `RoomChannel.join/3`.
fn implied_calls(
    node: Node<'_>,
    name: &str,
    in_function: bool,
    src: &[u8],
    calls: &mut Vec<(usize, RawCall)>,
) {
    if !matches!(
        name,
        "plug"
            | "pipe_through"
            | "on_mount"
            | "raise"
            | "reraise"
            | "send"
            | "channel"
            | "setup"
            | "setup_all"
            | "start_supervised"
            | "start_supervised!"
            | "start_link_supervised!"
            | "struct"
            | "struct!"
            | "render_many"
            | "render_one"
            | "worker"
            | "supervisor"
    ) {
        return;
    }
    let g = grammar();
    let Some(args) = child_of_kind(node, "arguments") else {
        return;
    };
    let argv = named_children(args);
    let Some(&first) = argv.first() else {
        return;
    };
    let at = node.start_byte();
    match name {
        "raise" | "reraise" if first.kind_id() == g.alias => calls.push((
            at,
            RawCall::Remote {
                module: text(first, src).to_string(),
                fun: "exception".to_string(),
                arity: 1,
            },
        )),
        // A Phoenix socket's `channel "room:*", RoomChannel` joins its topics there.
        "channel" if !in_function => {
            if let [topic, channel, ..] = argv[..]
                && matches!(topic.kind(), "string" | "sigil")
                && channel.kind_id() == g.alias
            {
                calls.push((
                    at,
                    RawCall::Remote {
                        module: text(channel, src).to_string(),
                        fun: "join".to_string(),
                        arity: 3,
                    },
                ));
            }
        }
        // `Supervisor.Spec`'s `worker(QueueManager, [name, opts], id: …)` (and
        // `supervisor/3`) starts `QueueManager.start_link/2`, with the list's arguments,
        // or the function its `function:` option names.
        "worker" | "supervisor" => {
            let function = (argv.get(2).filter(|o| o.kind() == "keywords"))
                .and_then(|o| {
                    keyword_pairs(*o).into_iter().find(|(key, _)| {
                        text(*key, src).trim_end().trim_end_matches(':') == "function"
                    })
                })
                .map(|(_, value)| atom_name(value, src));
            if let Some(module) = static_module(first, src)
                && let Some(list) = argv.get(1).filter(|l| l.kind() == "list")
                && !text(*list, src).contains('|')
                && let Some(fun) = function.unwrap_or(Some("start_link"))
            {
                let arity = named_children(*list).len() as u32;
                let start = RawCall::Remote {
                    module,
                    fun: fun.to_string(),
                    arity,
                };
                calls.push((at, start));
            }
        }
        // `struct(Mod, fields)` builds the struct `%Mod{}` does.
        "struct" | "struct!" => {
            if let Some(module) = static_module(first, src) {
                calls.push((at, struct_call(module)));
            }
        }
        "setup" | "setup_all" => {
            let mut cursor = first.walk();
            let named: Vec<Node<'_>> = if first.kind() == "list" {
                first.named_children(&mut cursor).collect()
            } else {
                vec![first]
            };
            for n in named {
                let call = if let Some(fun) = atom_name(n, src) {
                    RawCall::Local {
                        fun: fun.to_string(),
                        arity: 1,
                    }
                } else if n.kind() == "tuple"
                    && let (Some(m), Some(f)) = (n.named_child(0), n.named_child(1))
                    && m.kind_id() == g.alias
                    && let Some(fun) = atom_name(f, src)
                {
                    RawCall::Remote {
                        module: text(m, src).to_string(),
                        fun: fun.to_string(),
                        arity: 1,
                    }
                } else {
                    continue;
                };
                calls.push((at, call));
            }
        }
        "plug" => {
            // `plug :name when action in [:edit]`: the guard is not the plug's.
            let plugged = if first.kind_id() == g.binary_operator
                && first.child_by_field_id(g.operator).map(|o| o.kind_id()) == Some(g.op_when)
            {
                first.child_by_field_id(g.left)
            } else {
                Some(first)
            };
            let Some(plugged) = plugged else {
                return;
            };
            if let Some(fun) = atom_name(plugged, src) {
                calls.push((
                    at,
                    RawCall::Plugged {
                        fun: fun.to_string(),
                    },
                ));
            } else if plugged.kind_id() == g.alias {
                let module = text(plugged, src);
                for (fun, arity) in [("init", 1), ("call", 2)] {
                    calls.push((
                        at,
                        RawCall::Remote {
                            module: module.to_string(),
                            fun: fun.to_string(),
                            arity,
                        },
                    ));
                }
            }
        }
        "on_mount" => on_mount_hooks(first, at, src, calls),
        "pipe_through" => {
            let pipelines = if first.kind() == "list" {
                named_children(first)
            } else {
                vec![first]
            };
            for p in pipelines {
                if let Some(fun) = atom_name(p, src) {
                    calls.push((
                        at,
                        RawCall::Plugged {
                            fun: fun.to_string(),
                        },
                    ));
                } else if p.kind_id() == g.alias {
                    // A module plug in the list (`pipe_through [:browser, Auth]`), as
                    // written: the scope's alias is not put before it.
                    for (fun, arity) in [("init", 1), ("call", 2)] {
                        calls.push((
                            at,
                            RawCall::Remote {
                                module: text(p, src).to_string(),
                                fun: fun.to_string(),
                                arity,
                            },
                        ));
                    }
                }
            }
        }
        // A message a process sends itself runs its own `handle_info/2`.
        "send" if argv.len() == 2 && to_self(first, src) => calls.push((
            at,
            RawCall::OwnCallback {
                fun: "handle_info",
                arity: 2,
                message: None,
            },
        )),
        // `send(@name, {:put_data, …})` (Scenic's `PubSub`, registered as `@name
        // __MODULE__`): its own `handle_info/2` when a clause of it takes the message.
        "send"
            if argv.len() == 2
                && first.kind_id() == grammar().unary_operator
                && text(first, src).starts_with('@') =>
        {
            if let Some(tag) = message_tag(argv[1], src) {
                calls.push((
                    at,
                    RawCall::OwnCallback {
                        fun: "handle_info",
                        arity: 2,
                        message: Some(tag),
                    },
                ));
            }
        }
        // ExUnit starts a child spec under the test's supervisor.
        "start_supervised" | "start_supervised!" | "start_link_supervised!" => {
            child_specs((first, Holds::Child), at, src, calls);
        }
        // Phoenix.View's `render_many(users, UserView, "user.json")` renders each with
        // the view's `render/2`.
        "render_many" | "render_one" => {
            if let [_, view, template, ..] = argv[..]
                && (view.kind_id() == g.alias || text(view, src) == "__MODULE__")
                && matches!(template.kind(), "string" | "sigil")
            {
                calls.push((
                    at,
                    RawCall::Remote {
                        module: text(view, src).to_string(),
                        fun: "render".to_string(),
                        arity: 2,
                    },
                ));
            }
        }
        _ => {}
    }
}

/// How many lists joined by `++` are read for hooks.
const MAX_JOINED_HOOKS: usize = 16;

/// The `Mod.on_mount/4` calls of LiveView hooks: `Mod`, `{Mod, arg}`, or a list of those.
fn on_mount_hooks(hooks: Node<'_>, at: usize, src: &[u8], calls: &mut Vec<(usize, RawCall)>) {
    let g = grammar();
    // `[{Hooks, :assigns}] ++ custom_hooks`: the lists joined, a few deep.
    let mut lists = vec![hooks];
    let mut hooks = Vec::new();
    while let Some(node) = lists.pop() {
        if node.kind() == "list" {
            hooks.extend(named_children(node));
        } else if node.kind_id() == g.binary_operator
            && (node.child_by_field_id(g.operator)).is_some_and(|o| text(o, src) == "++")
            && lists.len() + hooks.len() < MAX_JOINED_HOOKS
        {
            lists.extend(node.child_by_field_id(g.left));
            lists.extend(node.child_by_field_id(g.right));
        } else {
            hooks.push(node);
        }
    }
    for hook in hooks {
        let module = match hook.kind() {
            "tuple" => hook.named_child(0),
            _ => Some(hook),
        };
        // An alias, `__MODULE__`, or in a quote `unquote(__MODULE__)` (LiveAdmin's
        // router macro); no atom.
        let module = module
            .and_then(|m| static_module(m, src))
            .filter(|m| !m.starts_with(':'));
        if let Some(module) = module {
            calls.push((
                at,
                RawCall::Remote {
                    module,
                    fun: "on_mount".to_string(),
                    arity: 4,
                },
            ));
        }
    }
}

/// What LiveView's older render calls start, as their HEEx tags and router routes do:
/// `live_component(@socket, MyAppWeb.Modal, id: :m)` (or without the socket, as
/// LiveView 0.16 writes it) renders the component, its `render/1`; `live_render(@conn,
/// MyAppWeb.ClockLive, session: s)` mounts the LiveView, its `mount/3`.
fn live_rendered(
    node: Node<'_>,
    name: &str,
    arguments: Option<Node<'_>>,
    src: &[u8],
    calls: &mut Vec<(usize, RawCall)>,
) {
    let (fun, arity) = match name {
        "live_component" => ("render", 1),
        "live_render" => ("mount", 3),
        _ => return,
    };
    let Some(arguments) = arguments else {
        return;
    };
    let g = grammar();
    let args = named_children(arguments);
    if let Some(module) = (args.iter().take(2)).find(|a| a.kind_id() == g.alias) {
        calls.push((
            node.start_byte(),
            RawCall::Remote {
                module: text(*module, src).to_string(),
                fun: fun.to_string(),
                arity,
            },
        ));
    }
}

/// The task `Mix.Task.run("hex.audit", args)` (or `rerun`) runs by its name: the
/// `run/1` of `Mix.Tasks.Hex.Audit`, each segment of the name camelized as Mix does
/// (`ecto.gen_migration` is `Mix.Tasks.Ecto.GenMigration`).
fn named_task(arguments: Option<Node<'_>>, src: &[u8]) -> Option<RawCall> {
    let first = *named_children(arguments?).first()?;
    let name = plain_string(first, src)?;
    Some(RawCall::Remote {
        module: task_module(name)?,
        fun: "run".to_string(),
        arity: 1,
    })
}

/// The module of the Mix task named `name` (`hex.audit`): `Mix.Tasks.Hex.Audit`; none
/// for a name that is no task's.
pub(crate) fn task_module(name: &str) -> Option<String> {
    let mut module = String::from("Mix.Tasks");
    for segment in name.split('.') {
        if segment.is_empty()
            || !segment.starts_with(|c: char| c.is_ascii_lowercase())
            || !segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return None;
        }
        module.push('.');
        for word in segment.split('_').filter(|w| !w.is_empty()) {
            let mut chars = word.chars();
            module.extend(chars.next().map(|c| c.to_ascii_uppercase()));
            module.push_str(chars.as_str());
        }
    }
    Some(module)
}

/// The function Absinthe's `batch({Mod, :fun}, arg, fn … end)` runs once for the whole
/// batch, with the argument (or the tuple's third element) and the list of arguments:
/// `Mod.fun/2`, its module an alias or `__MODULE__`.
fn batch_function(arguments: Option<Node<'_>>, src: &[u8]) -> Option<RawCall> {
    let g = grammar();
    let first = *named_children(arguments?).first()?;
    if first.kind() != "tuple" || !(2..=3).contains(&first.named_child_count()) {
        return None;
    }
    let (module, name) = (first.named_child(0)?, first.named_child(1)?);
    let module = match module.kind_id() {
        k if k == g.alias || k == g.identifier || k == g.dot => static_module(module, src)?,
        _ => return None,
    };
    Some(RawCall::Remote {
        module,
        fun: atom_name(name, src)?.to_string(),
        arity: 2,
    })
}

/// The function an Absinthe middleware's `{Mod, :fun}` (the first of `{{Mod, :fun},
/// config}`) names: `Mod.fun/2`, given the resolution and the config.
fn middleware_function(pair: Node<'_>, src: &[u8]) -> Option<RawCall> {
    let g = grammar();
    let [module, name] = named_children(pair)[..] else {
        return None;
    };
    if !(module.kind_id() == g.alias || is_own_module(module, src)) {
        return None;
    }
    Some(RawCall::Remote {
        module: static_module(module, src)?,
        fun: atom_name(name, src)?.to_string(),
        arity: 2,
    })
}

/// Phoenix router macros that send a request to a controller (`get "/", PageController,
/// :home`), a LiveView (`live`), a plug (`forward`) or a resource's actions (`resources`).
pub(crate) const ROUTES: [&str; 13] = [
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "options",
    "head",
    "connect",
    "trace",
    "match",
    "live",
    "forward",
    "resources",
];

/// The actions `resources` routes to, as Phoenix names them.
pub(crate) const RESOURCE_ACTIONS: [&str; 7] =
    ["index", "edit", "new", "show", "create", "update", "delete"];

/// Joins a router `scope`'s alias and the module a route in it writes (`MyAppWeb` and
/// `PageController`). Phoenix expands each through the router's aliases before it
/// concatenates them (`alias Live.Orgs.Index` and `scope "/", MyAppWeb do live "/",
/// Index` route to `MyAppWeb.Live.Orgs.Index`), so the chunk expands each part, then
/// joins them with a `.`.
pub(crate) const ROUTE_SCOPE: char = '\u{1}';

/// The module prefix a router `scope` gives the routes in its `do` block: its alias
/// argument (`scope "/", MyAppWeb do`, `scope "/admin", Admin, as: :admin do`, `scope
/// path: "/", alias: MyAppWeb do`) under the enclosing scope's prefix, the parts joined
/// by [`ROUTE_SCOPE`].
fn scope_alias(node: Node<'_>, prefix: Option<&str>, src: &[u8]) -> Option<String> {
    let g = grammar();
    child_of_kind(node, "do_block")?;
    let args = child_of_kind(node, "arguments")?;
    let mut cursor = args.walk();
    let mut alias = None;
    for arg in args.named_children(&mut cursor) {
        if arg.kind_id() == g.alias {
            alias = Some(arg);
        } else if arg.kind() == "keywords" {
            alias = alias.or_else(|| {
                (keyword_pairs(arg).into_iter())
                    .find(|(key, _)| text(*key, src).trim_end().trim_end_matches(':') == "alias")
                    .map(|(_, value)| value)
                    .filter(|v| v.kind_id() == g.alias)
            });
        }
    }
    let alias = text(alias?, src);
    Some(match prefix {
        Some(p) => format!("{p}{ROUTE_SCOPE}{alias}"),
        None => alias.to_string(),
    })
}

/// The calls a Phoenix route makes when a request comes: `get "/", PageController, :home`
/// calls `PageController.home/2`; `live "/", PageLive` calls `PageLive.mount/3`;
/// `forward "/api", ApiRouter` calls `ApiRouter.init/1` and `call/2` (and Plug.Router's
/// `forward "/api", to: ApiRouter` alike); `resources "/users",
/// UserController` calls its seven actions (or those `only:` or `except:` list); a route
/// whose third argument is no action (`get "/docs", Docs, []`) calls the plug's `init/1`
/// and `call/2`. The controller is named under the enclosing `scope`'s alias.
fn route_calls(
    node: Node<'_>,
    name: &str,
    prefix: Option<&str>,
    src: &[u8],
    calls: &mut Vec<(usize, RawCall)>,
) {
    let g = grammar();
    let Some(args) = child_of_kind(node, "arguments") else {
        return;
    };
    let argv = named_children(args);
    // Phoenix's `match :*, "/", C, :a` (or `match [:get, :post], …`) has the verb first;
    // Plug.Router's `match "/x", to: C` has none.
    let argv = match argv.split_first() {
        Some((verb, rest))
            if name == "match" && (verb.kind_id() == g.atom || verb.kind() == "list") =>
        {
            rest
        }
        _ => &argv[..],
    };
    let [path, controller, rest @ ..] = argv else {
        return;
    };
    // Plug.Router's `match _, to: Router` runs the plug for any path (AshJsonApi's
    // routers).
    let any_path = path.kind_id() == g.identifier
        && text(*path, src).starts_with('_')
        && controller.kind() == "keywords";
    if !matches!(path.kind(), "string" | "sigil") && !any_path {
        return;
    }
    // Plug.Router's `forward "/users", to: UsersRouter` (or `get "/", to: Home`) runs the
    // plug it names.
    if controller.kind() == "keywords" {
        let plug = (keyword_pairs(*controller).into_iter())
            .find(|(key, _)| text(*key, src).trim_end().trim_end_matches(':') == "to")
            .map(|(_, value)| value)
            .filter(|v| v.kind_id() == g.alias);
        if let Some(plug) = plug {
            for (fun, arity) in [("init", 1), ("call", 2)] {
                calls.push((
                    node.start_byte(),
                    RawCall::Remote {
                        module: text(plug, src).to_string(),
                        fun: fun.to_string(),
                        arity,
                    },
                ));
            }
        }
        return;
    }
    if controller.kind_id() != g.alias {
        return;
    }
    let module = match prefix {
        Some(p) => format!("{p}{ROUTE_SCOPE}{}", text(*controller, src)),
        None => text(*controller, src).to_string(),
    };
    let mut push = |fun: &str, arity: u32| {
        calls.push((
            node.start_byte(),
            RawCall::Remote {
                module: module.clone(),
                fun: fun.to_string(),
                arity,
            },
        ));
    };
    match name {
        "live" => push("mount", 3),
        // As `plug Mod` does: `init/1` with the options, `call/2` on each request.
        "forward" => {
            push("init", 1);
            push("call", 2);
        }
        "resources" => {
            let listed = |key: &str| -> Option<Vec<&str>> {
                let keywords = rest.iter().find(|n| n.kind() == "keywords")?;
                let (_, list) = (keyword_pairs(*keywords).into_iter())
                    .find(|(k, _)| text(*k, src).trim_end().trim_end_matches(':') == key)?;
                let mut c = list.walk();
                let atoms = (list.named_children(&mut c))
                    .filter_map(|a| atom_name(a, src))
                    .collect();
                Some(atoms)
            };
            let (only, except) = (listed("only"), listed("except"));
            for action in RESOURCE_ACTIONS {
                if only.as_ref().is_none_or(|o| o.contains(&action))
                    && except.as_ref().is_none_or(|e| !e.contains(&action))
                {
                    push(action, 2);
                }
            }
        }
        _ => match rest.first() {
            Some(action) if action.kind_id() == g.atom => {
                if let Some(action) = atom_name(*action, src) {
                    push(action, 2);
                }
            }
            // `get "/openapi", OpenApiSpec, []` (or `…, Redirector, to: "/docs"`): a
            // plug with its options, not a controller's action.
            Some(_) => {
                push("init", 1);
                push("call", 2);
            }
            _ => {}
        },
    }
}

/// The value of a `do` (or `else`) block: its last expression.
fn last_expression(block: Node<'_>) -> Option<Node<'_>> {
    (named_children(block).into_iter()).rfind(|c| !c.kind().ends_with("_block"))
}

/// A node's named children but its comments: a call's arguments, a list's items.
pub(crate) fn named_children(node: Node<'_>) -> Vec<Node<'_>> {
    let comment = grammar().comment;
    let mut cursor = node.walk();
    (node.named_children(&mut cursor))
        .filter(|c| c.kind_id() != comment)
        .collect()
}

/// The function a `use`'s second argument names in the used module, whose quote the
/// `use` runs: `use MyAppWeb, :controller` runs `MyAppWeb.controller/0`'s, and `use
/// MyAppWeb, {:live_view, container: …}` (Phoenix's `__using__({which, opts})`, which
/// applies `which` to `[opts]`) `live_view/1`'s. An application that takes both forms
/// gives that function a default argument (`def live_view(opts \\ [])`), so its quote is
/// kept under `which/0` too, and both forms are recorded as `which/0` (a `use`'s `/1`
/// is a `@before_compile` hook). `arguments` are the `use`'s.
pub(crate) fn use_which<'s>(arguments: Option<Node<'_>>, src: &'s [u8]) -> Vec<&'s str> {
    let Some(which) = arguments.and_then(|a| a.named_child(1)) else {
        return Vec::new();
    };
    match which.kind() {
        "tuple" => match named_children(which)[..] {
            [name, _] => atom_name(name, src).into_iter().collect(),
            _ => Vec::new(),
        },
        // `use Cadet, [:context, :display]`: a dispatcher taking several (Cadet's
        // `ContextManager`), each its function's quote.
        "list" => {
            let mut cursor = which.walk();
            (which.named_children(&mut cursor))
                .take(MAX_USE_WHICH)
                .filter_map(|n| atom_name(n, src))
                .collect()
        }
        _ => atom_name(which, src).into_iter().collect(),
    }
}

/// The most functions one `use Mod, [:a, :b, …]` is read to run.
const MAX_USE_WHICH: usize = 8;

/// The name of an atom written without quotes (`:get` is `get`), or `None` when the node
/// is no such atom (`:"quoted"` is a `quoted_atom` node, and keeps its quotes elsewhere).
pub(crate) fn atom_name<'s>(node: Node<'_>, src: &'s [u8]) -> Option<&'s str> {
    (node.kind_id() == grammar().atom).then(|| text(node, src).trim_start_matches(':'))
}

/// A LiveView's `start_async(socket, :load, fn -> … end)` runs the function in a task,
/// then its own `handle_async(:load, result, socket)`; piped (`extra` 1), the socket is
/// the value piped in and the name comes first.
fn async_callback(arguments: Option<Node<'_>>, extra: u32, src: &[u8]) -> Option<RawCall> {
    let argv = named_children(arguments?);
    let name = *argv.get(1usize.checked_sub(extra as usize)?)?;
    Some(RawCall::OwnCallback {
        fun: "handle_async",
        arity: 3,
        message: Some(message_tag(name, src)?),
    })
}

/// The callback a message runs: `GenServer.call(server, msg)` runs the server's
/// `handle_call/3` and `GenServer.cast` its `handle_cast/2`; a message a process sends
/// itself (`Process.send_after(self(), :tick, 1_000)`, `:timer.send_interval(1_000,
/// :tick)`, `:erlang.start_timer(1_000, self(), :expire)`) runs its own `handle_info/2`. The server is the module an alias names, or
/// else (`__MODULE__`, a pid, a registered name, `{:via, …}`) the caller's own module,
/// as in a GenServer's client functions, where that module defines the callback.
/// Starting a server runs its callback module's `init/1`: `GenServer.start_link(__MODULE__,
/// arg, opts)` the caller's own, `Supervisor.start_link(Shop.Sup, arg)` `Shop.Sup`'s; a
/// module held in a variable (or a supervisor's list of children) names none. Erlang's
/// `:gen_server` and `:gen_statem` (and `GenStateMachine`) start the same way, the
/// module second when a name comes first (`:gen_statem.start_link({:local, n}, M, a, o)`).
/// `piped`: the server is the value piped in (`name() |> GenServer.cast(:refresh)`), not
/// a module named here, and the written arguments start at the message.
fn message_callback(
    module: &str,
    fun: &str,
    arguments: Option<Node<'_>>,
    in_callback: bool,
    piped: bool,
    src: &[u8],
) -> Option<RawCall> {
    let (callback, arity) = match (module, fun) {
        ("GenServer" | "GenStage" | ":gen_server", "call") => ("handle_call", 3),
        ("GenServer" | "GenStage" | ":gen_server", "cast") => ("handle_cast", 2),
        ("GenStage", "async_info") => ("handle_info", 2),
        // A state machine's events, in its default callback mode (`:gen_statem`'s
        // `:handle_event_function` mode, Xandra's pool; its state functions are not
        // read).
        ("GenStateMachine" | ":gen_statem", "call" | "cast") => ("handle_event", 4),
        // `JS.push("delete", value: …)` sends the event to the LiveView (or component)
        // that renders it.
        ("JS" | "Phoenix.LiveView.JS", "push") => ("handle_event", 3),
        (
            "GenServer" | "GenStage" | "GenStateMachine" | ":gen_server" | ":gen_statem",
            "start_link" | "start",
        )
        | ("Supervisor" | "DynamicSupervisor", "start_link") => ("init", 1),
        ("Process", "send" | "send_after")
        | (":timer", "send_interval" | "send_after")
        | (":erlang", "send_after" | "start_timer") => ("handle_info", 2),
        _ => return None,
    };
    // A message to a server named by no module (a pid in a variable, the value piped
    // in) carries its tag, for the module's clauses to be matched against; one the
    // module sends itself (`self()`, `__MODULE__`) is its own callback's however written.
    let own = |message: Option<Node<'_>>| {
        Some(RawCall::OwnCallback {
            fun: callback,
            arity,
            message: message.and_then(|m| message_tag(m, src)),
        })
    };
    let args = arguments.map(named_children).unwrap_or_default();
    if piped {
        let message = matches!(callback, "handle_call" | "handle_cast" | "handle_event");
        let written = args.first().copied().filter(|_| callback != "handle_event");
        return (message && !in_callback).then(|| own(written)).flatten();
    }
    arguments?;
    let own_with = |i: usize| own(args.get(i).copied());
    match (module, args.as_slice()) {
        // `:timer.send_interval(time, msg)` sends to the caller; with a pid, to that pid.
        (":timer", [_, _]) => own(None),
        // `:erlang.send_after(time, self(), msg)`; `:erlang.start_timer(time, self(), msg)`
        // sends `{:timeout, ref, msg}`.
        (":timer" | ":erlang", [_, pid, _]) | ("Process", [pid, ..]) if to_self(*pid, src) => {
            own(None)
        }
        (":timer" | "Process" | ":erlang", _) => None,
        // Erlang's starts may name the process first: `:gen_server.start_link(name, mod,
        // arg, opts)`.
        (":gen_server" | ":gen_statem", [_, module, _, _]) | (_, [module, ..])
            if callback == "init" =>
        {
            if is_own_module(*module, src) {
                own(None)
            } else {
                named_module(*module, src).map(|module| RawCall::Remote {
                    module,
                    fun: callback.to_string(),
                    arity,
                })
            }
        }
        (_, [server, ..]) => match named_module(*server, src) {
            Some(module) => Some(RawCall::Remote {
                module,
                fun: callback.to_string(),
                arity,
            }),
            // `GenServer.cast(__MODULE__, msg)` in a callback messages its own server.
            None if is_own_module(*server, src) => own(None),
            // A server's callbacks call other processes (a call to itself would wait for
            // ever).
            None if in_callback => None,
            // `JS.push("save")`'s event is no message a clause matches by its tag.
            None if callback == "handle_event" => own(None),
            None => own_with(1),
        },
        _ => None,
    }
}

/// A layout named by its module and function (`{Layouts, :root}`) where Phoenix renders
/// it: `plug :put_root_layout, html: {Layouts, :root}`, `put_layout(conn, {Layouts,
/// :app})`, `layout: {Layouts, :app}` (a LiveView's, a `live_session`'s `root_layout:`, a
/// controller's `layouts: [html: …]`). The component `root/1` renders it, where the
/// module is one of components (not a `LayoutView`).
fn layout_component(tuple: Node<'_>, src: &[u8]) -> Option<RawCall> {
    const LAYOUT_FUNS: [&str; 4] = [
        "put_root_layout",
        "put_layout",
        "put_new_layout",
        "put_new_root_layout",
    ];
    // Most 2-tuples (`{:ok, x}`) start with no module: not read further.
    let module = tuple
        .named_child(0)
        .filter(|m| m.kind_id() == grammar().alias)?;
    let fun = atom_name(tuple.named_child(1)?, src)?;
    // A Phoenix.View (`LayoutView`, before Phoenix 1.7) renders `live.html` by its
    // `render/2`: it has no function of the layout's name.
    if text(module, src).ends_with("View") {
        return None;
    }
    let mut up = tuple.parent();
    for _ in 0..6 {
        let node = up?;
        let names_layout = match node.kind() {
            "pair" => (node.child_by_field_name("key")).is_some_and(|k| {
                let key = text(k, src).trim_end().trim_end_matches(':');
                matches!(key, "layout" | "root_layout" | "layouts")
            }),
            "call" => {
                let name = (node.child_by_field_id(grammar().target)).map(|t| match t.kind() {
                    "dot" => t.child_by_field_name("right").map_or("", |r| text(r, src)),
                    _ => text(t, src),
                });
                // `plug :put_root_layout, …`: the plug named first.
                let plugged = (child_of_kind(node, "arguments").and_then(|a| a.named_child(0)))
                    .and_then(|a| atom_name(a, src));
                name.is_some_and(|n| LAYOUT_FUNS.contains(&n))
                    || (name == Some("plug") && plugged.is_some_and(|p| LAYOUT_FUNS.contains(&p)))
            }
            _ => false,
        };
        if names_layout {
            return Some(RawCall::Remote {
                module: text(module, src).to_string(),
                fun: fun.to_string(),
                arity: 1,
            });
        }
        up = node.parent();
    }
    None
}

/// The function a module attribute names for the compiler to call, and its arity:
/// `@on_definition` (`__on_definition__/6`), `@after_compile` (`__after_compile__/2`),
/// `@after_verify` (`__after_verify__/1`).
fn compiler_hook(attribute: &str) -> Option<(&'static str, u32)> {
    match attribute {
        "on_definition" => Some(("__on_definition__", 6)),
        "after_compile" => Some(("__after_compile__", 2)),
        "after_verify" => Some(("__after_verify__", 1)),
        _ => None,
    }
}

/// The macro a `@before_compile` names: `Mod`'s `__before_compile__/1`, or `{Mod,
/// :hook}`'s `hook/1` (OpenApiSpex's `{OpenApiSpex.ControllerSpecs, :before_compile}`).
fn before_compile_hook(written: Node<'_>, src: &[u8]) -> Option<(String, String)> {
    hook_named(written, "__before_compile__", src)
}

/// The module and function a compiler hook's attribute names: `Mod` (its `default`
/// function) or `{Mod, :fun}`.
fn hook_named(written: Node<'_>, default: &str, src: &[u8]) -> Option<(String, String)> {
    if written.kind() == "tuple" {
        let [module, hook] = named_children(written)[..] else {
            return None;
        };
        return Some((
            static_module(module, src)?,
            atom_name(hook, src)?.to_string(),
        ));
    }
    Some((static_module(written, src)?, default.to_string()))
}

/// The tag a message is matched by: an atom (`:get`), or the atom a tuple starts with
/// (`{:lock, id}`); `None` for anything else. In a clause's pattern (`{:set, x} = msg`)
/// either side of a match; `None` there is a pattern that may take any message.
pub(crate) fn message_tag<'t>(node: Node<'t>, src: &[u8]) -> Option<String> {
    let g = grammar();
    let tag = |n: Node<'t>| -> Option<Node<'t>> {
        match n.kind() {
            "tuple" => n.named_child(0).filter(|a| a.kind_id() == g.atom),
            _ => Some(n).filter(|a| a.kind_id() == g.atom),
        }
    };
    // `a = b = c` is `a = (b = c)`: read along the chain, not by recursion (a chain of
    // thousands must not overflow the stack).
    let mut node = node;
    loop {
        let is_match = node.kind_id() == g.binary_operator
            && node
                .child_by_field_id(g.operator)
                .is_some_and(|o| text(o, src) == "=");
        if !is_match {
            return tag(node).map(|a| text(a, src).to_string());
        }
        if let Some(found) = node.child_by_field_id(g.left).and_then(tag) {
            return Some(text(found, src).to_string());
        }
        node = node.child_by_field_id(g.right)?;
    }
}

/// The name a server start gives the process it starts with the caller's own module,
/// written as an alias: `GenServer.start_link(__MODULE__, args, name: KaffyCache)`
/// registers `KaffyCache`, so `GenServer.call(KaffyCache, msg)` runs the caller's own
/// `handle_call/3`, not a module `KaffyCache`'s.
fn registered_name(
    module: &str,
    fun: &str,
    arguments: Option<Node<'_>>,
    src: &[u8],
) -> Option<String> {
    if !matches!(module, "GenServer" | "GenStage" | "GenStateMachine")
        || !matches!(fun, "start_link" | "start")
    {
        return None;
    }
    let args = named_children(arguments?);
    let [started, _, options] = args.as_slice() else {
        return None;
    };
    if text(*started, src) != "__MODULE__" || options.kind() != "keywords" {
        return None;
    }
    let g = grammar();
    (keyword_pairs(*options).into_iter())
        .find(|(key, _)| text(*key, src).trim_end() == "name:")
        .filter(|(_, value)| value.kind_id() == g.alias)
        .map(|(_, value)| text(value, src).to_string())
}

/// A module a node names: an alias (`Shop.Cache`) or a module under `__MODULE__`
/// (`__MODULE__.Registry`), as written.
fn named_module(node: Node<'_>, src: &[u8]) -> Option<String> {
    let g = grammar();
    let kind = node.kind_id();
    (kind == g.alias || (kind == g.dot && text(node, src).starts_with("__MODULE__.")))
        .then(|| text(node, src).to_string())
}

/// The callback a message runs, by its name (see [`message_callback`]).
fn server_callback(name: &str) -> Option<&'static str> {
    [
        "handle_call",
        "handle_cast",
        "handle_info",
        "handle_event",
        "init",
    ]
    .into_iter()
    .find(|&c| c == name)
}

/// A GenServer callback's name: code in it runs in the server, so a message it sends to a
/// server it does not name goes to another process.
fn is_server_callback(name: &str) -> bool {
    matches!(
        name,
        "init"
            | "handle_call"
            | "handle_cast"
            | "handle_info"
            | "handle_continue"
            | "handle_event"
            | "terminate"
            | "code_change"
    )
}

/// A server callback's reply that continues: `{:ok, state, {:continue, arg}}`, as
/// `init/1` returns it, or `{:noreply, …}` and `{:reply, …}` ending so; not a pattern
/// that matches one (see [`in_pattern`]). `heads` are the nodes the walk has found to be
/// no calls, definition heads among them.
fn continues(tuple: Node<'_>, src: &[u8], heads: &FxHashSet<usize>) -> bool {
    let count = tuple.named_child_count();
    if !(3..=4).contains(&count) {
        return false;
    }
    let first = tuple.named_child(0).and_then(|n| atom_name(n, src));
    let last = tuple.named_child(count as u32 - 1);
    matches!(first, Some("ok" | "noreply" | "reply"))
        && last.is_some_and(|last| {
            last.kind_id() == tuple.kind_id()
                && last.named_child_count() == 2
                && last.named_child(0).and_then(|n| atom_name(n, src)) == Some("continue")
        })
        && !in_pattern(tuple, src, heads)
}

/// Whether `node` is (inside) a pattern: a clause's head before `->` (guarded or not),
/// the left of `=` or `<-`, or a definition's head (in `heads`). Looked for a few
/// levels up, so a value nested in a pattern's list or map counts; a clause's body, or
/// the right of `=`, ends the search.
fn in_pattern(node: Node<'_>, src: &[u8], heads: &FxHashSet<usize>) -> bool {
    let g = grammar();
    let mut child = node;
    for _ in 0..8 {
        let Some(parent) = child.parent() else {
            return false;
        };
        if heads.contains(&parent.id()) {
            // An attribute's value (`@schema [url: [type: {:custom, M, :f, []}]]`) is no
            // head.
            let attribute = parent.parent().is_some_and(|p| {
                p.kind_id() == g.unary_operator
                    && (p.child_by_field_id(g.operator)).is_some_and(|o| o.kind_id() == g.op_at)
            });
            return !attribute;
        }
        let kind = parent.kind();
        if kind == "stab_clause" {
            return parent.child_by_field_name("left") == Some(child);
        }
        if parent.kind_id() == g.binary_operator
            && let Some(op) = parent.child_by_field_id(g.operator)
            && matches!(text(op, src), "=" | "<-")
        {
            return parent.child_by_field_id(g.left) == Some(child);
        }
        if matches!(kind, "do_block" | "body" | "block") {
            return false;
        }
        child = parent;
    }
    false
}

/// `self()`, the process that runs the code, or `__MODULE__`, the name its module
/// registers it under.
fn to_self(node: Node<'_>, src: &[u8]) -> bool {
    let g = grammar();
    (node.kind_id() == g.call
        && (text(node, src).bytes())
            .filter(|b| !b.is_ascii_whitespace())
            .eq(*b"self()"))
        || is_own_module(node, src)
}

/// Whether a node is a bare `__MODULE__`: the caller's own module, or the process it
/// registers under that name.
fn is_own_module(node: Node<'_>, src: &[u8]) -> bool {
    node.kind_id() == grammar().identifier && text(node, src) == "__MODULE__"
}

/// What an expression holds for a supervisor to start.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holds {
    /// A list of child specs (`[Repo, {Bandit, opts}]`), maybe joined with `++` or piped.
    Children,
    /// One child spec (`{Bandit, opts}`).
    Child,
}

/// The argument of a supervisor's function that holds child specs: the children of
/// `Supervisor.start_link/2` and `Supervisor.init/2` (not the callback module of
/// `Supervisor.start_link(__MODULE__, arg, opts)`), the spec of
/// `Supervisor.child_spec/2`, `Supervisor.start_child/2` and
/// `DynamicSupervisor.start_child/2`.
fn supervised<'t>(
    module: &str,
    fun: &str,
    arguments: Option<Node<'t>>,
) -> Option<(Node<'t>, Holds)> {
    let (position, holds) = match (module, fun) {
        ("Supervisor", "start_link" | "init") => (0, Holds::Children),
        ("Supervisor", "child_spec") => (0, Holds::Child),
        ("Supervisor" | "DynamicSupervisor", "start_child") => (1, Holds::Child),
        (
            "ExUnit.Callbacks",
            "start_supervised" | "start_supervised!" | "start_link_supervised!",
        ) => (0, Holds::Child),
        _ => return None,
    };
    let argument = *named_children(arguments?).get(position)?;
    Some((argument, holds))
}

/// [`supervised`] for a call whose first argument may be piped in (`sup |>
/// DynamicSupervisor.start_child({Pool, opts})`): the spec is then one place earlier;
/// children piped in are not read.
fn supervised_piped<'t>(
    module: &str,
    fun: &str,
    arguments: Option<Node<'t>>,
    piped: bool,
) -> Option<(Node<'t>, Holds)> {
    if !piped {
        return supervised(module, fun, arguments);
    }
    match (module, fun) {
        ("Supervisor" | "DynamicSupervisor", "start_child") => {
            Some((*named_children(arguments?).first()?, Holds::Child))
        }
        _ => None,
    }
}

/// What a variable or function holds by Elixir's naming habit: `children` and
/// `web_children` a list of child specs; `child`, `oban_child`, `spec`, `pool_child_spec`
/// and a module's own `child_spec` one (`%{id: __MODULE__, start: {__MODULE__,
/// :start_link, [opts]}}`; Plug.Cowboy's tests: `spec = {Plug.Cowboy, opts}`, then
/// `Supervisor.child_spec(spec, [])`). Not `api_spec` or `type_spec`.
fn names_children(name: &str) -> Option<Holds> {
    let named = |n: &str| name == n || name.strip_suffix(n).is_some_and(|p| p.ends_with('_'));
    if named("children") {
        Some(Holds::Children)
    } else if named("child") || named("child_spec") || name == "spec" {
        Some(Holds::Child)
    } else {
        None
    }
}

/// What a function named for its children (`defp web_children do [...] end`, see
/// [`names_children`]) returns: the last expression of its body.
fn children_returned<'t>(def: Node<'t>, head: Node<'t>, src: &[u8]) -> Option<(Node<'t>, Holds)> {
    let g = grammar();
    let name = match head.child_by_field_id(g.target) {
        Some(target) => target,
        None => head,
    };
    if name.kind_id() != g.identifier {
        return None;
    }
    let holds = names_children(text(name, src))?;
    if let Some(body) = child_of_kind(def, "do_block") {
        return last_expression(body).map(|n| (n, holds));
    }
    // `defp child, do: {Oban, opts}`
    let keywords = child_of_kind(child_of_kind(def, "arguments")?, "keywords")?;
    keyword_pairs(keywords)
        .into_iter()
        .find(|(key, _)| text(*key, src).trim_end().trim_end_matches(':') == "do")
        .map(|(_, value)| (value, holds))
}

/// The value of each branch of an `if` or `unless`: the last expression of its `do` and
/// `else` blocks, or its `do:` and `else:` values.
fn branch_values<'t>(call: Node<'t>, src: &[u8]) -> Vec<Node<'t>> {
    if let Some(body) = child_of_kind(call, "do_block") {
        let mut values: Vec<Node<'t>> = last_expression(body).into_iter().collect();
        values.extend(child_of_kind(body, "else_block").and_then(last_expression));
        return values;
    }
    let Some(keywords) =
        child_of_kind(call, "arguments").and_then(|a| child_of_kind(a, "keywords"))
    else {
        return Vec::new();
    };
    keyword_pairs(keywords)
        .into_iter()
        .filter(|(key, _)| {
            matches!(
                text(*key, src).trim_end().trim_end_matches(':'),
                "do" | "else"
            )
        })
        .map(|(_, value)| value)
        .collect()
}

/// The calls a supervisor makes of the children that literal specs name (`node` holds
/// a list of specs or one spec; the calls are placed `at`, where the code that names
/// them starts): `Mod` and `{Mod, arg}` call `Mod.child_spec/1` (which a `use GenServer`
/// defines to call `Mod.start_link/1`: the graph follows that where no `child_spec/1` is
/// indexed), and `%{start: {Mod, :fun, [a]}}` calls `Mod.fun/1`.
fn child_specs(
    (node, holds): (Node<'_>, Holds),
    at: usize,
    src: &[u8],
    calls: &mut Vec<(usize, RawCall)>,
) {
    let named = named_children;
    let g = grammar();
    // `[A, B] ++ more`, `[A, nil] |> Enum.reject(&is_nil/1)` and
    // `if web?, do: [Endpoint], else: []`: the literal lists in a short chain of `++`,
    // pipes and `if`s (Livebook's `Application`).
    let mut specs = Vec::new();
    let mut stack = vec![node];
    let mut looked = 0;
    while let Some(n) = stack.pop() {
        looked += 1;
        if looked > 16 {
            break;
        }
        let branching = (n.kind_id() == g.call)
            .then(|| n.child_by_field_id(g.target))
            .flatten()
            .filter(|t| t.kind_id() == g.identifier)
            .map(|t| text(t, src));
        if matches!(branching, Some("if" | "unless")) {
            let mut branches = branch_values(n, src);
            branches.reverse();
            stack.extend(branches);
        } else if matches!(branching, Some("case" | "cond"))
            && let Some(body) = child_of_kind(n, "do_block")
        {
            // `children = case env(:autoupdate) do {:ok, :enabled} -> children ++
            // [Tzdata.ReleaseUpdater] … end`: each clause's value.
            let mut values: Vec<Node<'_>> = (named(body).into_iter())
                .filter(|c| c.kind() == "stab_clause")
                .filter_map(|c| c.child_by_field_name("right"))
                .filter_map(last_expression)
                .collect();
            values.reverse();
            stack.extend(values);
        } else if holds == Holds::Child {
            specs.push(n);
        } else if n.kind() == "list" {
            // `if(mqtt_config != nil, do: {TeslaMate.Mqtt, mqtt_config})` among the
            // children: its branches' specs.
            for item in named(n) {
                let conditional = item.kind_id() == g.call
                    && (item.child_by_field_id(g.target)).is_some_and(|t| {
                        t.kind_id() == g.identifier && matches!(text(t, src), "if" | "unless")
                    });
                match conditional {
                    true => specs.extend(branch_values(item, src)),
                    false => specs.push(item),
                }
            }
        } else if n.kind_id() == g.binary_operator
            && let Some(op) = n.child_by_field_id(g.operator)
            && let (Some(left), Some(right)) =
                (n.child_by_field_id(g.left), n.child_by_field_id(g.right))
        {
            match text(op, src) {
                "++" => stack.extend([right, left]),
                "|>" => stack.push(left),
                _ => {}
            }
        }
    }
    let module = |n: Node<'_>| {
        (n.kind_id() == g.identifier && text(n, src) == "__MODULE__")
            .then(|| text(n, src).to_string())
            .or_else(|| named_module(n, src))
    };
    for spec in specs {
        // `!parent && {LiveBeats.SongsCleaner, interval: 60}`: started when its condition
        // holds, a spec all the same.
        let mut spec = spec;
        for _ in 0..4 {
            match (spec.kind_id() == g.binary_operator)
                .then(|| spec.child_by_field_id(g.operator))
                .flatten()
                .map(|op| text(op, src))
            {
                Some("&&" | "and") => match spec.child_by_field_id(g.right) {
                    Some(right) => spec = right,
                    None => break,
                },
                _ => break,
            }
        }
        let call = match spec.kind() {
            "tuple" => match named(spec)[..] {
                [m, _] => module(m).map(|module| (module, "child_spec".to_string(), 1)),
                _ => None,
            },
            "map" => (named(spec).into_iter())
                .filter(|c| c.kind() == "map_content")
                .flat_map(named)
                .filter(|c| c.kind() == "keywords")
                .flat_map(keyword_pairs)
                .find(|(key, _)| text(*key, src).trim_end().trim_end_matches(':') == "start")
                .and_then(|(_, start)| match named(start)[..] {
                    [m, f, args] if start.kind() == "tuple" && args.kind() == "list" => {
                        let module = module(m)?;
                        let fun = atom_name(f, src)?.to_string();
                        (!text(args, src).contains('|'))
                            .then(|| (module, fun, named(args).len() as u32))
                    }
                    _ => None,
                }),
            _ => module(spec).map(|module| (module, "child_spec".to_string(), 1)),
        };
        if let Some((module, fun, arity)) = call {
            calls.push((at, RawCall::Remote { module, fun, arity }));
        }
    }
}

/// `unquote(__MODULE__)`, as a `__using__`'s quoted code names the module that defines
/// it (`import unquote(__MODULE__)`): that module, where a bare `__MODULE__` in the
/// quote would be the module that uses it.
pub(crate) const UNQUOTED_MODULE: &str = "unquote(__MODULE__)";

fn unquotes_module(node: Node<'_>, src: &[u8]) -> bool {
    node.kind_id() == grammar().call
        && text(node, src)
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .eq(UNQUOTED_MODULE.bytes())
}

/// A call node's target and arguments, found in one pass over its children with a
/// cursor the caller keeps (every call of a file is looked at: a fresh cursor and a field
/// look-up per call cost more than the walk that finds them).
struct CallParts<'t> {
    target: Option<Node<'t>>,
    arguments: Option<Node<'t>>,
    /// `arguments` children after the first (`call_arity` counts them all).
    more_arguments: bool,
    do_block: bool,
}

impl<'t> CallParts<'t> {
    fn of(call: Node<'t>, aux: &mut TreeCursor<'t>) -> CallParts<'t> {
        let g = grammar();
        let mut parts = CallParts {
            target: None,
            arguments: None,
            more_arguments: false,
            do_block: false,
        };
        aux.reset(call);
        if !aux.goto_first_child() {
            return parts;
        }
        loop {
            let child = aux.node();
            let kind = child.kind_id();
            if parts.target.is_none() && aux.field_id().map(|f| f.get()) == Some(g.target) {
                parts.target = Some(child);
            } else if kind == g.arguments {
                parts.more_arguments |= parts.arguments.is_some();
                parts.arguments.get_or_insert(child);
            } else if kind == g.do_block {
                parts.do_block = true;
            }
            if !aux.goto_next_sibling() {
                return parts;
            }
        }
    }

    /// The call's arity (as [`call_arity`] counts it), and whether it is
    /// tree-sitter-elixir's reading of a range with a negative end ([`misparsed_range`]).
    /// The arguments are counted without a walk unless their text holds a `#` (a comment
    /// is a named child that is no argument).
    fn arity_and_misparsed(
        &self,
        call: Node<'t>,
        aux: &mut TreeCursor<'t>,
        src: &[u8],
    ) -> (u32, bool) {
        let g = grammar();
        if self.more_arguments {
            return (call_arity(call), misparsed_range(call, src));
        }
        let Some(args) = self.arguments else {
            return (u32::from(self.do_block), false);
        };
        let named = args.named_child_count() as u32;
        let (start, end) = (args.start_byte(), args.end_byte());
        // A long argument list is walked rather than searched, so that nested calls
        // cost no more than one walk of the tree.
        let comments = if end - start > 1024 || memchr::memchr(b'#', &src[start..end]).is_some() {
            let mut comments = 0;
            aux.reset(args);
            if aux.goto_first_child() {
                loop {
                    comments += u32::from(aux.node().kind_id() == g.comment);
                    if !aux.goto_next_sibling() {
                        break;
                    }
                }
            }
            comments
        } else {
            0
        };
        let arity = u32::from(self.do_block) + named - comments;
        // Without parentheses only: an argument list starting with `(` either is the
        // call's parentheses or starts with a parenthesised expression, never `..`.
        let misparsed =
            src.get(start) != Some(&b'(') && starts_with_negative_range(args.named_child(0), src);
        (arity, misparsed)
    }
}

/// Every call site in the tree, in byte order.
pub(crate) fn collect(root: Node<'_>, src: &[u8]) -> Vec<(usize, RawCall)> {
    let g = grammar();
    let mut calls = Vec::new();
    // Whether any call's arguments may splice a list ([`spliced_arity`]): one search of
    // the text, so that the calls of code without one are counted as before.
    let splices = (src.get(root.start_byte()..root.end_byte()))
        .is_some_and(|code| memchr::memmem::find(code, b"unquote_splicing").is_some());
    // Where the GenServer callback the walk is in ends (see [`is_server_callback`]).
    let mut callback_until = 0;
    // The Phoenix router scopes the walk is in: where each ends, and the module prefix
    // it gives the controllers named in it (`scope "/", MyAppWeb do`).
    let mut router_scopes: Vec<(usize, String)> = Vec::new();
    let mut not_calls: FxHashSet<usize> = FxHashSet::default();
    let mut piped: FxHashSet<usize> = FxHashSet::default();
    // Whether a call was recorded before the walk reached its place (`x |> trim`).
    let mut out_of_order = false;
    let tuple = g.kind("tuple");
    let pair = g.kind("pair");
    let mut scope_ends: FxHashMap<usize, usize> = FxHashMap::default();
    // The `use`s read so far that import for a body's or script's code, and the MFA
    // tuples looked up the tree for a pattern (bounded: each step up costs the depth).
    let mut scoped_uses = 0;
    let mut pattern_checks = 0;
    // The names server starts register for the caller's own module ([`registered_name`]),
    // and where the calls that message a server by a module's name are.
    let mut registered: Vec<String> = Vec::new();
    let mut sent: Vec<usize> = Vec::new();
    let mut cursor = root.walk();
    let mut aux = root.walk();
    // The quotes, unquotes, modules and functions the walk is in (see [`Context`]).
    let mut contexts: Vec<(usize, Context)> = Vec::new();
    loop {
        let node = cursor.node();
        while contexts
            .last()
            .is_some_and(|&(end, _)| end <= node.start_byte())
        {
            contexts.pop();
        }
        let pushed = calls.len();
        let mut entering: Option<Context> = None;
        let kind = node.kind_id();
        let mut descend = true;
        if kind == g.unary_operator {
            let op = node.child_by_field_id(g.operator).map(|o| o.kind_id());
            if op == Some(g.op_at) {
                // Specs, types and docs describe, they do not call (`String.t()` is a
                // type). Any other attribute's value runs when the module compiles
                // (`@timeout Application.compile_env(:app, :timeout)`): its calls count,
                // the attribute's own name does not.
                let operand = node.child_by_field_id(g.operand);
                let set = operand.filter(|o| o.kind_id() == g.call);
                let name = (set.and_then(|s| s.child_by_field_id(g.target))).map(|t| text(t, src));
                // `@behaviour Plug` in a quote: the modules that use this one implement it.
                if name == Some("behaviour")
                    && Context::in_quote(&contexts)
                    && let Some(first) = set
                        .and_then(|s| child_of_kind(s, "arguments"))
                        .and_then(|a| a.named_child(0))
                    && let Some(module) = static_module(first, src)
                    && !module.starts_with("__MODULE__")
                {
                    calls.push((node.start_byte(), RawCall::QuotedBehaviour { module }));
                }
                match (set, name) {
                    (Some(set), Some(name)) if !DESCRIBING_ATTRIBUTES.contains(&name) => {
                        not_calls.insert(set.id());
                        if name == "before_compile"
                            && let Some(first) =
                                child_of_kind(set, "arguments").and_then(|a| a.named_child(0))
                            && let Some((module, fun)) = before_compile_hook(first, src)
                            && !module.starts_with("__MODULE__")
                        {
                            // The hook is a macro the compiler calls (as `use` calls
                            // `__using__/1`) in the module this is in; in a quote, in
                            // the modules that use it.
                            if Context::in_quote(&contexts) {
                                calls.push((
                                    node.start_byte(),
                                    RawCall::QuotedBeforeCompile { module, fun },
                                ));
                            } else {
                                let hook = RawCall::Remote {
                                    module,
                                    fun,
                                    arity: 1,
                                };
                                calls.push((node.start_byte(), hook));
                            }
                        }
                        // `@on_definition Mod` and `@after_compile Mod` (or `{Mod, :fun}`)
                        // name functions the compiler calls for this module (or, in a
                        // quote, for each module using it: a call of the quoting
                        // function's, as the using modules are not known here): New
                        // Relic's `@trace` runs through `Tracer.Macro.__on_definition__/6`.
                        if let Some((default, arity)) = compiler_hook(name)
                            && let Some(first) =
                                child_of_kind(set, "arguments").and_then(|a| a.named_child(0))
                            && let Some((module, fun)) = hook_named(first, default, src)
                            && !module.starts_with("__MODULE__")
                        {
                            calls.push((node.start_byte(), RawCall::Remote { module, fun, arity }));
                        }
                    }
                    // `@derive {Saxy.Builder, children: [emails: &__MODULE__.build_emails/1]}`:
                    // the derived implementation calls the functions its options capture.
                    (Some(set), Some("derive")) => {
                        descend = false;
                        // (Once: a `@derive` in a capture of one is not read again.)
                        if IN_DERIVE.with(|d| !d.get()) {
                            IN_DERIVE.with(|d| d.set(true));
                            for capture in captures_in(set) {
                                calls.extend(collect(capture, src));
                                out_of_order = true;
                            }
                            // `@derive LoggerJSON.Formatter.encoder_protocol()`: the
                            // protocol is a call's value, made as the module compiles.
                            if let Some(value) = child_of_kind(set, "arguments")
                                .and_then(|a| a.named_child(0))
                                .filter(|v| v.kind_id() == g.call)
                            {
                                calls.extend(collect(value, src));
                                out_of_order = true;
                            }
                            IN_DERIVE.with(|d| d.set(false));
                        }
                    }
                    (Some(set), Some("doc" | "moduledoc" | "typedoc")) => {
                        if IN_DOC.with(|d| !d.get())
                            && memchr::memmem::find(&src[set.start_byte()..set.end_byte()], b"#{")
                                .is_some()
                        {
                            // A doc's interpolations run when the module compiles
                            // (`#{NimbleOptions.docs(__opts_schema__())}` in a
                            // `@moduledoc`): their calls count, not the doc's text.
                            descend = false;
                            IN_DOC.with(|d| d.set(true));
                            for interpolation in interpolations(set) {
                                calls.extend(collect(interpolation, src));
                                out_of_order = true;
                            }
                            IN_DOC.with(|d| d.set(false));
                        } else if (child_of_kind(set, "arguments").and_then(|a| a.named_child(0)))
                            .is_some_and(|v| {
                                v.kind_id() == g.call || v.kind_id() == g.binary_operator
                            })
                        {
                            // `@moduledoc __MODULE__.Docs.long_doc()`: a doc computed by
                            // a call, which runs when the module compiles.
                            not_calls.insert(set.id());
                        } else {
                            descend = false;
                        }
                    }
                    // `@spec f(t) :: unquote(to_type(child))` in a quote: the unquoted
                    // code runs where the quote is expanded, the spec around it does not.
                    (Some(set), _)
                        if Context::in_quote(&contexts)
                            && IN_UNQUOTED_SPEC.with(|d| !d.get())
                            && memchr::memmem::find(
                                &src[set.start_byte()..set.end_byte()],
                                b"unquote",
                            )
                            .is_some() =>
                    {
                        descend = false;
                        IN_UNQUOTED_SPEC.with(|d| d.set(true));
                        for unquoted in unquotes_in(set, src) {
                            calls.extend(collect(unquoted, src));
                            out_of_order = true;
                        }
                        IN_UNQUOTED_SPEC.with(|d| d.set(false));
                    }
                    _ => descend = false,
                }
            } else if op == Some(g.op_capture)
                && let Some((call, id)) = capture(node, src, Context::in_quote(&contexts))
            {
                calls.push((node.start_byte(), call));
                if let Some(id) = id {
                    not_calls.insert(id);
                }
            } else if Context::in_query(&contexts)
                && node
                    .child_by_field_id(g.operator)
                    .is_some_and(|o| text(o, src) == "^")
            {
                // `^count(opts)` in a query is Elixir, run as the query is built.
                entering = Some(Context::Pin);
            }
        } else if kind == g.sigil {
            heex_components(node, src, &mut calls);
        } else if kind == g.bitstring {
            // `<<len::size(8), rest::binary-size(len)>>`: `size` and `unit` are modifiers
            // of the segment, not calls (what is inside them still is).
            let mut segments = node.walk();
            for segment in node.named_children(&mut segments) {
                if segment.kind_id() == g.binary_operator
                    && segment.child_by_field_id(g.operator).map(|o| text(o, src)) == Some("::")
                    && let Some(spec) = segment.child_by_field_id(g.right)
                {
                    bitstring_modifiers(spec, src, &mut not_calls);
                }
            }
        } else if kind == g.map {
            // `%Mod{…}`, built or matched, is expanded by `Mod.__struct__/0`, the struct
            // `defstruct` (or an Ecto `schema`) defines: a call.
            if let Some(name) = node
                .named_child(0)
                .filter(|s| s.kind_id() == g.struct_)
                .and_then(|s| s.named_child(0))
                && let Some(module) = static_module(name, src)
            {
                calls.push((node.start_byte(), struct_call(module)));
            }
        } else if kind == tuple && continues(node, src, &not_calls) {
            // `{:noreply, state, {:continue, :load}}`: the server runs its own
            // `handle_continue/2` next.
            calls.push((
                node.start_byte(),
                RawCall::OwnCallback {
                    fun: "handle_continue",
                    arity: 2,
                    message: None,
                },
            ));
        } else if kind == tuple
            && node.named_child_count() == 3
            // Most 3-tuples (`{:reply, x, state}`) start with no module: not read further.
            && node
                .named_child(0)
                .is_some_and(|m| matches!(m.kind_id(), k if k == g.alias || k == g.identifier || k == g.dot))
            && let Some(call) = mfa_in(&named_children(node), src)
            // Not a pattern (`assert {_, {Mod, :start_link, [a]}, _} = child_spec(a)`):
            // looked for up the tree, a few times a file (each step up costs the depth).
            && !(pattern_checks < MAX_PATTERN_CHECKS && {
                pattern_checks += 1;
                in_pattern(node, src, &not_calls)
            })
        {
            // `{__MODULE__, :poll, [opts]}`: a function given to be called (a telemetry
            // poller's measurement, a child's `start:`) with those arguments.
            calls.push((node.start_byte(), call));
        } else if kind == tuple
            && node.named_child_count() == 2
            && let Some(call) = (node.named_child(0))
                .filter(|inner| inner.kind_id() == tuple)
                .and_then(|inner| middleware_function(inner, src))
            // Not a pattern (`def handle_info({{__MODULE__, :tick}, ref}, s)`).
            && !(pattern_checks < MAX_PATTERN_CHECKS && {
                pattern_checks += 1;
                in_pattern(node, src, &not_calls)
            })
        {
            // Absinthe's middleware `{{Resolver, :mutate}, config}`: `mutate(resolution,
            // config)` on each resolution (AshGraphql's fields).
            calls.push((node.start_byte(), call));
        } else if kind == tuple
            && node.named_child_count() == 2
            && let Some(call) = layout_component(node, src)
        {
            calls.push((node.start_byte(), call));
        } else if kind == pair
            && let Some(key) = node.child_by_field_name("key")
            && text(key, src).trim_end().trim_end_matches(':') == "on_mount"
            && let Some(hooks) = node.child_by_field_name("value")
        {
            // `on_mount: [{Hooks, :assigns}]`: given to a `live_session` where written,
            // or in options a function builds for one (ErrorTracker's router).
            on_mount_hooks(hooks, node.start_byte(), src, &mut calls);
        } else if kind == tuple
            && node.named_child_count() == 4
            && let Some(more) = (node.named_child(0)).and_then(|tag| match atom_name(tag, src) {
                Some("custom") => Some(1),
                Some("call") => Some(0),
                _ => None,
            })
            && let Some(RawCall::Remote { module, fun, arity }) =
                mfa_in(&named_children(node)[1..], src)
            // Not a pattern (`def postcondition(_s, {:call, Master, :play, [_n]}, r)`).
            && !(pattern_checks < MAX_PATTERN_CHECKS && {
                pattern_checks += 1;
                in_pattern(node, src, &not_calls)
            })
        {
            // NimbleOptions' `{:custom, __MODULE__, :validate_uri, []}` calls the
            // function with the option's value first; PropEr's symbolic call `{:call,
            // Master, :play, [name]}` (a state machine test's command) with its list.
            let call = RawCall::Remote {
                module,
                fun,
                arity: arity + more,
            };
            calls.push((node.start_byte(), call));
        } else if kind == g.binary_operator {
            let op = node.child_by_field_id(g.operator).map(|o| o.kind_id());
            if op == Some(g.op_pipe)
                && let Some(right) = node.child_by_field_id(g.right)
            {
                piped.insert(right.id());
                // `[{Worker, arg}] |> Supervisor.init(strategy: :one_for_one)`: the
                // children are the value piped in.
                if right.kind_id() == g.call
                    && let Some(target) = right.child_by_field_id(g.target)
                    && target.kind_id() == g.dot
                    && (target.child_by_field_id(g.left))
                        .is_some_and(|m| text(m, src) == "Supervisor")
                    && let Some(holds) = (target.child_by_field_id(g.right)).and_then(|f| {
                        match text(f, src) {
                            "init" | "start_link" => Some(Holds::Children),
                            // `{ThousandIsland.Listener, config} |>
                            // Supervisor.child_spec(id: :listener)`: the spec piped in.
                            "child_spec" => Some(Holds::Child),
                            _ => None,
                        }
                    })
                    && let Some(left) = node.child_by_field_id(g.left)
                {
                    child_specs((left, holds), node.start_byte(), src, &mut calls);
                }
                // `x |> trim` is `trim(x)`: a name a value is piped into is a call, never
                // a variable; not in a definition's head (`defmacro left |> right`). The
                // walk never reaches the name (a leaf), so it is recorded here, ahead of
                // the calls on the pipe's left, and put in its place at the end.
                let name = text(right, src);
                if right.kind_id() == g.identifier
                    && !not_calls.contains(&node.id())
                    && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                    && !(name.starts_with("__") && name.ends_with("__"))
                {
                    out_of_order = true;
                    calls.push((
                        right.start_byte(),
                        RawCall::Local {
                            fun: name.to_string(),
                            arity: 1,
                        },
                    ));
                }
            } else if op == Some(g.op_match)
                && let Some(left) = node.child_by_field_id(g.left)
                && left.kind_id() == g.identifier
                && let Some(holds) = names_children(text(left, src))
                && let Some(right) = node.child_by_field_id(g.right)
            {
                child_specs((right, holds), node.start_byte(), src, &mut calls);
            }
        } else if kind == g.call
            && !not_calls.contains(&node.id())
            && let parts = CallParts::of(node, &mut aux)
            && let Some(target) = parts.target
        {
            let extra = u32::from(piped.contains(&node.id()));
            let target_kind = target.kind_id();
            if target_kind == g.identifier {
                let name = text(target, src);
                entering = Context::of(name);
                // `defimpl Vex.Extract, for: __MODULE__ do … end` in a quote: each module
                // using it implements the protocol, as with a quoted `@behaviour`
                // (`use Vex.Struct`).
                if name == "defimpl"
                    && Context::in_quote(&contexts)
                    && let Some(args) = parts.arguments
                    && let [protocol, options, ..] = named_children(args)[..]
                    && let Some(module) = static_module(protocol, src)
                    && !module.starts_with("__MODULE__")
                    && (keyword_pairs(options).into_iter()).any(|(key, value)| {
                        text(key, src).trim_end().trim_end_matches(':') == "for"
                            && text(value, src) == "__MODULE__"
                    })
                {
                    calls.push((node.start_byte(), RawCall::QuotedBehaviour { module }));
                }
                if entering == Some(Context::Unquote)
                    && (Context::innermost(&contexts))
                        .take_while(|&c| c != Context::Module)
                        .any(|c| c == Context::Quote)
                {
                    // What it calls runs where the quote is written, at expansion: no
                    // call of a quoted definition's.
                    let end = node.end_byte();
                    calls.push((node.start_byte(), RawCall::Unquoted { end }));
                }
                if matches!(name, "defstruct" | "defexception") && Context::injected(&contexts) {
                    for mut def in quoted_implied(name, node, src) {
                        def.lines = lines_of(node);
                        let end = node.end_byte();
                        calls.push((node.start_byte(), RawCall::QuotedDef { def, end }));
                    }
                }
                if DEF_KEYWORDS.contains(&name) {
                    if let Some(head) = def_head(node) {
                        not_calls.insert(head.id());
                        let head_name = head.child_by_field_id(g.target).unwrap_or(head);
                        if is_server_callback(text(head_name, src)) {
                            callback_until = node.end_byte();
                        }
                        if name == "defdelegate" && head.kind() == "list" {
                            let mut heads = head.walk();
                            for h in head.named_children(&mut heads) {
                                not_calls.insert(h.id());
                            }
                        }
                        if Context::injected(&contexts)
                            && let Some(mut def) = quoted_def(name, node, head, src)
                        {
                            def.lines = lines_of(node);
                            let end = node.end_byte();
                            calls.push((node.start_byte(), RawCall::QuotedDef { def, end }));
                        }
                        if name == "defdelegate" {
                            for call in delegate_targets(node, head, src) {
                                calls.push((node.start_byte(), call));
                            }
                        } else if let Some(value) = children_returned(node, head, src) {
                            child_specs(value, node.start_byte(), src, &mut calls);
                        }
                    }
                } else if MODULE_DIRECTIVES.contains(&name)
                    // `alias(cluster, index, alias)`: a module's own `alias/3` (the
                    // directives take two arguments at most; a comment is none).
                    && (parts.arguments).is_none_or(|a| named_children(a).len() as u32 + extra <= 2)
                {
                    if name == "alias" || name == "require" {
                        let scope_end = import_scope_end(node, src, &mut scope_ends);
                        // (`require PhoenixSwagger.Schema, as: Schema` in a quote aliases as
                        // an `alias` does.)
                        let quoted = Context::in_quote(&contexts);
                        for (short, target) in alias_pairs(node, name == "alias", src) {
                            let alias = RawCall::Alias {
                                short,
                                target,
                                scope_end,
                                quoted,
                            };
                            calls.push((node.start_byte(), alias));
                        }
                    } else if name == "import"
                        && let quoted = Context::in_quote(&contexts)
                        && (quoted || outside_module_body(node, src))
                        && let Some(first) =
                            child_of_kind(node, "arguments").and_then(|a| a.named_child(0))
                    {
                        // `import Base.{A, B}` imports both.
                        let modules = if unquotes_module(first, src) {
                            vec![UNQUOTED_MODULE.to_string()]
                        } else {
                            multi_modules(first, src)
                                .unwrap_or_else(|| vec![text(first, src).to_string()])
                        };
                        let list = import_list(node, src);
                        let scope_end = import_scope_end(node, src, &mut scope_ends);
                        for module in modules {
                            let import = RawCall::Import {
                                module,
                                list: list.clone(),
                                scope_end,
                                quoted,
                            };
                            calls.push((node.start_byte(), import));
                        }
                    }
                    let args = child_of_kind(node, "arguments");
                    // `use Base.{A, B}` uses each.
                    let used: Vec<String> = match args.and_then(|a| a.named_child(0)) {
                        Some(first) if name == "use" => multi_modules(first, src)
                            .or_else(|| static_module(first, src).map(|m| vec![m]))
                            .unwrap_or_default(),
                        _ => Vec::new(),
                    };
                    for module in used {
                        let quoted = Context::in_quote(&contexts);
                        // `use Mod` expands `Mod.__using__/1`: a call, as the map counts
                        // it. In a quote, a bare `__MODULE__` is the module that uses it,
                        // unknown here.
                        if !(quoted && module.starts_with("__MODULE__")) {
                            let using = RawCall::Remote {
                                module: module.clone(),
                                fun: "__using__".to_string(),
                                arity: 1,
                            };
                            calls.push((node.start_byte(), using));
                            // `use MyAppWeb, :controller` runs `MyAppWeb.controller/0`.
                            for which in use_which(args, src) {
                                let which = RawCall::Remote {
                                    module: module.clone(),
                                    fun: which.to_string(),
                                    arity: 0,
                                };
                                calls.push((node.start_byte(), which));
                            }
                        }
                        if quoted {
                            let whiches = use_which(args, src);
                            if whiches.is_empty() {
                                let which = None;
                                calls.push((
                                    node.start_byte(),
                                    RawCall::QuotedUse { module, which },
                                ));
                            } else {
                                for which in whiches {
                                    let (module, which) = (module.clone(), Some(which.to_string()));
                                    calls.push((
                                        node.start_byte(),
                                        RawCall::QuotedUse { module, which },
                                    ));
                                }
                            }
                        } else if Context::in_body_or_script(&contexts)
                            && scoped_uses < MAX_SCOPED_USES
                        {
                            // In a body or a script: what its quote imports is imported
                            // there, to the end of the block (see `SCOPED_USE`).
                            scoped_uses += 1;
                            let scope_end = import_scope_end(node, src, &mut scope_ends);
                            let import = RawCall::Import {
                                module: format!("{}{module}", super::SCOPED_USE),
                                list: None,
                                scope_end,
                                quoted: false,
                            };
                            calls.push((node.start_byte(), import));
                        }
                    }
                    // `use Mod, opts`: the options are evaluated where it is used, and
                    // may call (`statics: MyAppWeb.static_paths()`).
                    descend = name == "use";
                } else if !(name.is_empty()
                    || ECTO_QUERY_API.contains(&name) && Context::in_query(&contexts))
                    && let (arity, false) = parts.arity_and_misparsed(node, &mut aux, src)
                    && let Some(arity) = spliced_arity(arity, parts.arguments, splices, src)
                {
                    calls.push((
                        node.start_byte(),
                        RawCall::Local {
                            fun: name.to_string(),
                            arity: arity + extra,
                        },
                    ));
                    if name == "start_async"
                        && let Some(call) = async_callback(parts.arguments, extra, src)
                    {
                        calls.push((node.start_byte(), call));
                    }
                    if name == "render"
                        && (2..=3).contains(&(arity + extra))
                        && let Some(args) = parts.arguments
                        && let Some(template) = named_children(args)
                            .get(1 - extra as usize)
                            .and_then(|a| atom_name(*a, src))
                    {
                        let template = template.to_string();
                        calls.push((node.start_byte(), RawCall::ControllerRender { template }));
                    }
                    if extra == 0 {
                        let in_function = name == "channel" && Context::in_function(&contexts);
                        implied_calls(node, name, in_function, src, &mut calls);
                        // `send(server, :harvest_cycle)` to a pid in a variable outside a
                        // callback: the module's own `handle_info/2` when a clause takes
                        // the message by its tag, as `GenServer.call(server, msg)`'s
                        // `handle_call/3` (New Relic's `HarvestCycle.cycle/1`). A
                        // callback's sends go to other processes (a reply to its caller),
                        // and a quote's are the using modules', whose clauses are unknown.
                        if name == "send"
                            && node.start_byte() >= callback_until
                            && !Context::in_quote(&contexts)
                            && let Some(args) = parts.arguments
                            && let [pid, message] = named_children(args)[..]
                            && pid.kind_id() == g.identifier
                            && let Some(tag) = message_tag(message, src)
                        {
                            let call = RawCall::OwnCallback {
                                fun: "handle_info",
                                arity: 2,
                                message: Some(tag),
                            };
                            calls.push((node.start_byte(), call));
                        }
                        live_rendered(node, name, parts.arguments, src, &mut calls);
                        if name == "batch"
                            && let Some(call) = batch_function(parts.arguments, src)
                        {
                            calls.push((node.start_byte(), call));
                        }
                        let quoted = Context::in_quote(&contexts);
                        if let Some(call) = mfa_call(None, name, parts.arguments, quoted, src) {
                            calls.push((node.start_byte(), call));
                        }
                        // ExUnit's `start_supervised({ExRated, opts})`, imported in tests.
                        if name.starts_with("start_")
                            && let Some(child) =
                                supervised("ExUnit.Callbacks", name, parts.arguments)
                        {
                            child_specs(child, node.start_byte(), src, &mut calls);
                        }
                        // A project's own `start_child(sup, {Consumer, config})` helper
                        // (Electric's), as `DynamicSupervisor.start_child/2` it wraps.
                        if name == "start_child"
                            && let Some(child) =
                                supervised("DynamicSupervisor", name, parts.arguments)
                        {
                            child_specs(child, node.start_byte(), src, &mut calls);
                        }
                        if ROUTES.contains(&name) || name == "scope" {
                            let at = node.start_byte();
                            while router_scopes.last().is_some_and(|(end, _)| *end <= at) {
                                router_scopes.pop();
                            }
                            let prefix = router_scopes.last().map(|(_, p)| p.as_str());
                            if name == "scope" {
                                if let Some(scoped) = scope_alias(node, prefix, src) {
                                    router_scopes.push((node.end_byte(), scoped));
                                }
                            } else {
                                route_calls(node, name, prefix, src, &mut calls);
                            }
                        }
                    } else if name == "apply"
                        && !Context::in_quote(&contexts)
                        && let Some(call) = piped_apply(node, parts.arguments, src)
                    {
                        calls.push((node.start_byte(), call));
                    }
                }
            } else if target_kind == g.dot
                && let (Some(left), Some(right)) = (
                    target.child_by_field_id(g.left),
                    target.child_by_field_id(g.right),
                )
                && right.kind_id() == g.identifier
                && let Some(module) = static_module(left, src).or_else(|| attribute_module(left, src))
                // `Frame.unquote(name)()`: a name computed in a macro, no call to cite.
                && !matches!(text(right, src), "unquote" | "unquote_splicing")
            {
                let (arity, _) = parts.arity_and_misparsed(node, &mut aux, src);
                let arity = spliced_arity(arity, parts.arguments, splices, src);
                let fun = text(right, src);
                // `Kernel.def to_char_list(term) do … end` defines, as `def` does.
                let kernel_def = module == "Kernel" && Context::of(fun) == Some(Context::Function);
                if kernel_def {
                    entering = Some(Context::Function);
                    if let Some(head) = def_head(node) {
                        not_calls.insert(head.id());
                    }
                }
                // Piped, the first argument is not written here: the specs are read from
                // written arguments only, and a piped server is named by none.
                let in_callback = node.start_byte() < callback_until;
                let (children, callback) = if !kernel_def {
                    let piped = extra == 1;
                    (
                        supervised_piped(&module, fun, parts.arguments, piped),
                        message_callback(&module, fun, parts.arguments, in_callback, piped, src),
                    )
                } else {
                    (None, None)
                };
                if extra == 0
                    && !kernel_def
                    && let Some(name) = registered_name(&module, fun, parts.arguments, src)
                {
                    if !Context::in_quote(&contexts) {
                        let registers = RawCall::Registers { name: name.clone() };
                        calls.push((node.start_byte(), registers));
                    }
                    registered.push(name);
                }
                if matches!(module.as_str(), "Mox" | "Hammox")
                    && fun == "defmock"
                    && let Some(mock) = mock_of(node, parts.arguments, src)
                {
                    calls.push((node.start_byte(), mock));
                }
                // (Piped into, `Task.async_stream` takes its items from the pipe.)
                let streams = fun.starts_with("async_stream");
                let mfa = ((extra == 0 || streams) && !kernel_def)
                    .then(|| {
                        let quoted = Context::in_quote(&contexts);
                        mfa_call(Some(&module), fun, parts.arguments, quoted, src)
                    })
                    .flatten();
                let live_helpers = extra == 0
                    && matches!(
                        module.as_str(),
                        "Phoenix.LiveView.Helpers" | "Phoenix.LiveView" | "Phoenix.Component"
                    );
                let mix_task = extra == 0 && module == "Mix.Task" && matches!(fun, "run" | "rerun");
                let absinthe_batch = extra == 0
                    && fun == "batch"
                    && matches!(
                        module.as_str(),
                        "Absinthe.Resolution.Helpers" | "Absinthe.Middleware.Batch" | "Helpers"
                    );
                if !kernel_def && let Some(arity) = arity {
                    calls.push((
                        node.start_byte(),
                        RawCall::Remote {
                            module,
                            fun: fun.to_string(),
                            arity: arity + extra,
                        },
                    ));
                }
                if let Some(children) = children {
                    child_specs(children, node.start_byte(), src, &mut calls);
                }
                if live_helpers {
                    live_rendered(node, fun, parts.arguments, src, &mut calls);
                }
                if absinthe_batch && let Some(call) = batch_function(parts.arguments, src) {
                    calls.push((node.start_byte(), call));
                }
                if mix_task && let Some(task) = named_task(parts.arguments, src) {
                    calls.push((node.start_byte(), task));
                }
                if let Some(callback) = callback {
                    if matches!(callback, RawCall::Remote { .. })
                        && !Context::caller_module(&contexts)
                    {
                        sent.push(calls.len());
                    }
                    calls.push((node.start_byte(), callback));
                }
                if let Some(call) = mfa {
                    calls.push((node.start_byte(), call));
                }
            } else if target_kind == g.dot
                && parts.arguments.is_some()
                && !Context::in_quote(&contexts)
                && let (Some(left), Some(right)) = (
                    target.child_by_field_id(g.left),
                    target.child_by_field_id(g.right),
                )
                && right.kind_id() == g.identifier
                && (left.kind_id() == g.call
                    || left.kind() == "access_call"
                    || module_variable(left, src))
                && let (arity, false) = parts.arity_and_misparsed(node, &mut aux, src)
                && let Some(arity) = spliced_arity(arity, parts.arguments, splices, src)
            {
                // `Application.get_env(:faker, :random_module).random_between(a, b)`,
                // `http_client().get(url)`, `adapter.call(env, opts)`: a function of a
                // module chosen at run time, most often a behaviour's callback (the graph
                // links it to the one callback of the name, where one is indexed).
                calls.push((
                    node.start_byte(),
                    RawCall::Remote {
                        module: super::RUNTIME_MODULE.to_string(),
                        fun: text(right, src).to_string(),
                        arity: arity + extra,
                    },
                ));
            }
        }
        if calls.len() > pushed && Context::caller_module(&contexts) {
            for (_, call) in &mut calls[pushed..] {
                if let RawCall::Remote { module, fun, arity } = call
                    && module.starts_with("__MODULE__")
                {
                    *call = RawCall::CallerModule {
                        module: std::mem::take(module),
                        fun: std::mem::take(fun),
                        arity: *arity,
                    };
                } else if let RawCall::OwnCallback { fun, arity, .. } = call {
                    // `GenServer.start_link(__MODULE__, arg)` in a `__using__`'s quote
                    // starts the using module: its callback, not the quoting module's.
                    *call = RawCall::CallerModule {
                        module: "__MODULE__".to_string(),
                        fun: fun.to_string(),
                        arity: *arity,
                    };
                }
            }
        }
        if let Some(context) = entering {
            contexts.push((node.end_byte(), context));
            // A quote's options (`bind_quoted: [opts: opts]`) run where it is written.
            if context == Context::Quote
                && let Some(block) = child_of_kind(node, "do_block")
            {
                contexts.push((block.start_byte(), Context::QuoteOptions));
            }
        }
        // What the walk looks for (calls, operators, bitstrings) is never a leaf: a node
        // whose children are all leaves holds none, and a third of the tree's nodes are
        // such children (the names and commas of `def f(a, b)`), so they are not visited.
        if descend
            && node.descendant_count() > node.child_count() as usize + 1
            && cursor.goto_first_child()
        {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                for &at in &sent {
                    if let RawCall::Remote { module, fun, arity } = &calls[at].1
                        && registered.contains(module)
                        && let Some(fun) = server_callback(fun)
                    {
                        calls[at].1 = RawCall::OwnCallback {
                            fun,
                            arity: *arity,
                            message: None,
                        };
                    }
                }
                if out_of_order {
                    // Stable: calls recorded at one place keep their order.
                    calls.sort_by_key(|(at, _)| *at);
                }
                return calls;
            }
        }
    }
}

/// The sigils Kernel defines (`~r`, `~w`, `~D`…): not calls worth a line.
pub(crate) const KERNEL_SIGILS: [&str; 12] =
    ["c", "C", "D", "N", "r", "R", "s", "S", "T", "U", "w", "W"];

/// The calls a sigil makes: a sigil of the project's or a library's calls its macro
/// (`~M[1000]`, `sigil_M/2`); and the function components a `~H` (HEEx) template renders,
/// each a call with the assigns:
/// `<.button>` calls `button/1` (the module's own, or an imported one such as
/// `Phoenix.Component.link/1`), `<MyAppWeb.Components.card>` calls
/// `MyAppWeb.Components.card/1`. Closing tags, slots (`<:item>`) and HTML tags are no
/// calls. Each is placed at its tag, so a split template's parts keep their own.
fn heex_components(node: Node<'_>, src: &[u8], calls: &mut Vec<(usize, RawCall)>) {
    // `~H` (HEEx, `~LVN` too), or Surface's `~F`, whose components may be modules too; or the EEx of
    // `~L` (LiveView before HEEx) and `~E` (Phoenix.HTML), whose code is only `<%= … %>`.
    let name = child_of_kind(node, "sigil_name").map(|n| text(n, src));
    let (surface, eex) = match name {
        Some("H") => (false, false),
        // LiveView Native's `~LVN`: HEEx for native clients, through its macro.
        Some("LVN") => {
            calls.push((
                node.start_byte(),
                RawCall::Local {
                    fun: "sigil_LVN".to_string(),
                    arity: 2,
                },
            ));
            (false, false)
        }
        Some("F") => (true, false),
        Some("L" | "E") => (false, true),
        // A sigil of the project's or a library's (Money's `~M[1000]`, LiveSvelte's
        // `~V`) calls its macro, `sigil_M/2`, through an import; Kernel's are left out.
        Some(name) if !KERNEL_SIGILS.contains(&name) => {
            calls.push((
                node.start_byte(),
                RawCall::Local {
                    fun: format!("sigil_{name}"),
                    arity: 2,
                },
            ));
            return;
        }
        _ => return,
    };
    // From the first piece of content to the last: an escaped delimiter (`\"`) splits it.
    let content = grammar().kind("quoted_content");
    let mut cursor = node.walk();
    let pieces = (node.children(&mut cursor))
        .filter(|c| c.kind_id() == content)
        .map(|c| (c.start_byte(), c.end_byte()));
    let Some((start, end)) = pieces.reduce(|(s, _), (_, e)| (s, e)) else {
        return;
    };
    let html = &src[start..end];
    if eex {
        let mut found = template_code_calls(html, false);
        // A `~L` template is a LiveView's: its bindings send it events.
        if name == Some("L") {
            found.extend(event_bindings(html));
            found.sort_by_key(|(at, _)| *at);
        }
        calls.extend(found.into_iter().map(|(at, call)| (start + at, call)));
        return;
    }
    let mut found = component_tags(html);
    if surface {
        found.extend(module_component_tags(html));
    }
    found.extend(template_code_calls(html, true));
    found.sort_by_key(|(at, _)| *at);
    calls.extend(found.into_iter().map(|(at, call)| (start + at, call)));
}

/// The function component tags of HEEx markup, at their offsets: `<.name` is a
/// [`RawCall::Local`] of `name/1`, `<Mod.Sub.name` a [`RawCall::Remote`] of
/// `Mod.Sub.name/1` (see [`heex_components`]).
pub(crate) fn component_tags(html: &[u8]) -> Vec<(usize, RawCall)> {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let mut calls = Vec::new();
    // The end of the comment the scan is in (`<%!-- … --%>`, `<!-- … -->`).
    let mut comment_end = 0;
    for at in memchr::memchr_iter(b'<', html) {
        if at < comment_end {
            continue;
        }
        let tag = &html[at + 1..];
        for (open, close) in [(&b"%!--"[..], &b"--%>"[..]), (b"!--", b"-->")] {
            if tag.starts_with(open) {
                let body = at + 1 + open.len();
                comment_end = memchr::memmem::find(&html[body..], close)
                    .map_or(html.len(), |i| body + i + close.len());
            }
        }
        // `@count<Limits.max(…)` in an expression compares: a tag follows a space, a
        // tag's `>` or an expression's `}`, never a name or a value.
        if at < comment_end
            || at
                .checked_sub(1)
                .is_some_and(|p| word(&html[p]) || matches!(html[p], b'@' | b')' | b']'))
        {
            continue;
        }
        let name_len = |from: usize| -> usize {
            let rest = &tag[from.min(tag.len())..];
            match rest.first() {
                Some(b) if b.is_ascii_lowercase() || *b == b'_' => {
                    rest.iter().take_while(|b| word(b)).count()
                }
                _ => 0,
            }
        };
        let call = match tag.first() {
            Some(b'.') => match name_len(1) {
                0 => continue,
                n => RawCall::Local {
                    fun: String::from_utf8_lossy(&tag[1..1 + n]).into_owned(),
                    arity: 1,
                },
            },
            Some(b) if b.is_ascii_uppercase() => {
                // `Mod.Sub.fun`: capitalised segments, then the function's name.
                let path = tag.iter().take_while(|b| word(b) || **b == b'.').count();
                let Some(dot) = tag[..path].iter().rposition(|b| *b == b'.') else {
                    continue;
                };
                let module = &tag[..dot];
                let segments_capitalised = (module.split(|b| *b == b'.'))
                    .all(|s| s.first().is_some_and(u8::is_ascii_uppercase));
                match name_len(dot + 1) {
                    n if n > 0 && dot + 1 + n == path && segments_capitalised => RawCall::Remote {
                        module: String::from_utf8_lossy(module).into_owned(),
                        fun: String::from_utf8_lossy(&tag[dot + 1..path]).into_owned(),
                        arity: 1,
                    },
                    _ => continue,
                }
            }
            _ => continue,
        };
        // `<.live_component module={MyAppWeb.PollComponent} id="poll">` renders that
        // module's component: its `render/1`.
        let live = matches!(&call, RawCall::Local { fun, .. } if fun == "live_component");
        calls.push((at, call));
        if live && let Some(module) = live_component_module(&html[at..]) {
            calls.push((
                at,
                RawCall::Remote {
                    module,
                    fun: "render".to_string(),
                    arity: 1,
                },
            ));
        }
    }
    calls.extend(event_bindings(html));
    calls
}

/// The LiveView events HEEx markup binds by name (`phx-click="save"`, `phx-submit`,
/// `phx-change`...): each runs the `handle_event/3` of the LiveView (or component) that
/// renders it, a [`RawCall::OwnCallback`] of it at the attribute, taking the event by
/// its name (a call by name where the module writes no `handle_event/3`). Computed names
/// (`phx-click={@event}`) are not read; a string built (`phx-click={"kick:#{id}"}`) is.
/// Each is its module's own callback, taking the event by its name: not that of a
/// module whose `handle_event/3` clauses all take other events (a LiveComponent's
/// markup binding its parent LiveView's events without `phx-target`, AshAdmin's
/// sidebar).
pub(crate) fn event_bindings(html: &[u8]) -> Vec<(usize, RawCall)> {
    (bound_events(html).into_iter())
        .map(|(at, name)| {
            let call = RawCall::OwnCallback {
                fun: "handle_event",
                arity: 3,
                message: Some(name),
            };
            (at, call)
        })
        .collect()
}

/// The events HEEx markup binds by name, as [`event_bindings`] reads them: each
/// attribute's offset and the event's name (`save` for `phx-submit="save"` and
/// `phx-submit={:save}`).
pub(crate) fn bound_events(html: &[u8]) -> Vec<(usize, String)> {
    const EVENTS: [&str; 14] = [
        "click",
        "submit",
        "change",
        "blur",
        "focus",
        "keydown",
        "keyup",
        "click-away",
        "capture-click",
        "window-keydown",
        "window-keyup",
        "window-blur",
        "window-focus",
        "viewport-top",
    ];
    let mut out = Vec::new();
    // Comments (`<!-- … -->`, `<%!-- … --%>`) bind nothing.
    let comments = comment_ranges(html, &[(b"<%!--", b"--%>"), (b"<!--", b"-->")]);
    // `phx-click="save"`, or as Phoenix.HTML's helpers take it, a keyword
    // (`link("Sleep", to: "#", phx_click: "suspend_logging")`).
    let attributes = memchr::memmem::find_iter(html, b"phx-").map(|at| (at, false));
    let keywords = memchr::memmem::find_iter(html, b"phx_").map(|at| (at, true));
    let mut found: Vec<(usize, bool)> = attributes.chain(keywords).collect();
    found.sort_unstable();
    for (at, keyword) in found {
        if at > 0 && (html[at - 1].is_ascii_alphanumeric() || b"-_".contains(&html[at - 1])) {
            continue;
        }
        if comments.iter().any(|c| c.contains(&at)) {
            continue;
        }
        let rest = &html[at + 4..];
        // The value's start: `phx-click="save"`, `phx_click: "save"`, an atom
        // (`phx-submit={:save}`, named as its string is), or a string built
        // (`phx-click={"kick:#{id}"}`).
        let named = |e: &str| {
            let written = e.as_bytes().iter().enumerate().all(|(i, &c)| {
                rest.get(i)
                    .is_some_and(|&r| r == c || (keyword && c == b'-' && r == b'_'))
            });
            let values: &[&[u8]] = if keyword {
                &[b": \""]
            } else {
                // (`phx-click={"kick:#{id}"}`: the name's fixed start, which a clause
                // matches as `"kick:" <> id`.)
                &[b"=\"", b"={:", b"={\""]
            };
            let after = rest.get(e.len()..).unwrap_or_default();
            (values.iter())
                .find(|v| written && after.starts_with(v))
                .map(|v| e.len() + v.len())
        };
        let Some(start) = EVENTS.iter().find_map(|e| named(e)) else {
            continue;
        };
        let value = &rest[start..];
        if value
            .first()
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            let end = (value.iter())
                .take(MAX_EVENT_NAME)
                .position(|b| {
                    matches!(b, b'"' | b'}' | b'<' | b'>' | b'#') || b.is_ascii_whitespace()
                })
                .unwrap_or(value.len().min(MAX_EVENT_NAME));
            let name = String::from_utf8_lossy(&value[..end]).into_owned();
            out.push((at, name));
        }
    }
    out
}

/// The longest event name [`bound_events`] reads.
const MAX_EVENT_NAME: usize = 128;

/// The module a `<.live_component …>` tag's `module={…}` attribute names (as written, an
/// alias), read to the tag's end: braces counted, quoted values skipped.
fn live_component_module(tag: &[u8]) -> Option<String> {
    let (mut depth, mut quote) = (0usize, None);
    for (i, &b) in tag.iter().enumerate().skip(1).take(4096) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') if depth == 0 => quote = Some(b),
            (None, b'{') => {
                if depth == 0 && tag[..i].ends_with(b"module=") {
                    let rest = &tag[i + 1..];
                    let end = rest.iter().position(|&c| c == b'}')?;
                    let written = std::str::from_utf8(&rest[..end]).ok()?.trim();
                    let alias = written.split('.').all(|s| {
                        s.starts_with(|c: char| c.is_ascii_uppercase())
                            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    });
                    return alias.then(|| written.to_string());
                }
                depth += 1;
            }
            (None, b'}') => depth = depth.saturating_sub(1),
            (None, b'>') if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

/// The byte ranges of `html`'s comments of each `(open, close)` kind; one never closed
/// runs to the end.
fn comment_ranges(html: &[u8], kinds: &[(&[u8], &[u8])]) -> Vec<std::ops::Range<usize>> {
    let mut comments = Vec::new();
    for &(open, close) in kinds {
        let mut from = 0;
        while let Some(start) = find_from(html, from, open) {
            let end =
                find_from(html, start + open.len(), close).map_or(html.len(), |e| e + close.len());
            comments.push(start..end);
            from = end;
        }
    }
    comments
}

/// The module components of Surface markup (`<Link to="/">`, `<Components.Card>`), at
/// their offsets: each renders through the module's `render/1`, a [`RawCall::Remote`] of
/// it with the module as written (its alias resolved later). Closing tags, macro
/// components (`<#Raw>`) and function components (`<Mod.fun>`, [`component_tags`]) are
/// not these.
pub(crate) fn module_component_tags(html: &[u8]) -> Vec<(usize, RawCall)> {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let mut calls = Vec::new();
    // Comments (`{!-- … --}`, `<!-- … -->`) render nothing.
    let comments = comment_ranges(html, &[(b"{!--", b"--}"), (b"<!--", b"-->")]);
    for at in memchr::memchr_iter(b'<', html) {
        if comments.iter().any(|c| c.contains(&at)) {
            continue;
        }
        let tag = &html[at + 1..];
        if !tag.first().is_some_and(u8::is_ascii_uppercase)
            || at
                .checked_sub(1)
                .is_some_and(|p| word(&html[p]) || html[p] == b'@')
        {
            continue;
        }
        let path = tag.iter().take_while(|b| word(b) || **b == b'.').count();
        let module = &tag[..path];
        let after = tag.get(path).copied();
        if module.ends_with(b".")
            || !(module.split(|b| *b == b'.'))
                .all(|s| s.first().is_some_and(u8::is_ascii_uppercase))
            || !after.is_some_and(|b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
        {
            continue;
        }
        calls.push((
            at,
            RawCall::Remote {
                module: String::from_utf8_lossy(module).into_owned(),
                fun: "render".to_string(),
                arity: 1,
            },
        ));
    }
    calls
}

thread_local! {
    /// Whether the walk is in a template's code already: a `~H` inside the code of a
    /// template is read for its tags, not parsed a third time.
    static IN_TEMPLATE_CODE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Whether the walk is in a doc's interpolation already: a doc in it is text only
    /// (so a doc nested in docs never walks deeper).
    static IN_DOC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Whether the walk is in a spec's unquoted code already: a spec in it is read as
    /// a spec only (so quotes of specs nested thousands deep never walk deeper).
    static IN_UNQUOTED_SPEC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Whether the walk is reading the captures of a `@derive`'s options, where another
    /// `@derive` is not read again (nested ones would recurse).
    static IN_DERIVE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The interpolations (`#{…}`) of a doc attribute's strings, at most
/// [`MAX_DOC_INTERPOLATIONS`], not those inside them.
fn interpolations(set: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut stack = vec![set];
    while let Some(node) = stack.pop() {
        if out.len() >= MAX_DOC_INTERPOLATIONS {
            break;
        }
        if node.kind() == "interpolation" {
            out.push(node);
            continue;
        }
        // The first written first: past the cap, the last ones are left out.
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out.sort_by_key(|n| n.start_byte());
    out
}

/// The arguments of the `unquote(…)` calls in `set` (a spec or type in a quote), the
/// first written first, at most [`MAX_DOC_INTERPOLATIONS`]; not those in an unquote.
fn unquotes_in<'t>(set: Node<'t>, src: &[u8]) -> Vec<Node<'t>> {
    let g = grammar();
    let mut out = gather_in(set, |node| {
        (node.kind_id() == g.call
            && (node.child_by_field_id(g.target))
                .is_some_and(|t| matches!(text(t, src), "unquote" | "unquote_splicing")))
        .then(|| child_of_kind(node, "arguments"))
    });
    out.sort_by_key(|n| n.start_byte());
    out
}

/// The captures (`&Mod.fun/1`) in an attribute's value, in order.
fn captures_in(set: Node<'_>) -> Vec<Node<'_>> {
    let g = grammar();
    gather_in(set, |node| {
        (node.kind_id() == g.unary_operator
            && node.child_by_field_id(g.operator).map(|o| o.kind_id()) == Some(g.op_capture))
        .then_some(Some(node))
    })
}

/// The nodes `pick` finds under `set`, at most [`MAX_DOC_INTERPOLATIONS`], without
/// recursion: where it answers (with a node, or none), the walk does not look inside.
fn gather_in<'t>(
    set: Node<'t>,
    pick: impl Fn(Node<'t>) -> Option<Option<Node<'t>>>,
) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    let mut stack = vec![set];
    while let Some(node) = stack.pop() {
        if out.len() >= MAX_DOC_INTERPOLATIONS {
            break;
        }
        if let Some(found) = pick(node) {
            out.extend(found);
            continue;
        }
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// The most interpolations of one doc whose calls are read.
const MAX_DOC_INTERPOLATIONS: usize = 64;

/// The calls the Elixir code of a template makes (`<%= format_price(@item) %>`,
/// `class={Theme.classes(@kind)}`, `:for={p <- visible(@posts)}`), at their offsets in
/// `html`: the code of every tag ([`template_code`]) parsed as one piece, as EEx compiles
/// it, so that `<%= if … do %>` and its `<% end %>` make one expression. Only calls:
/// `Mod.fun/arity` as written and `fun/arity` without a module.
pub(crate) fn template_code_calls(html: &[u8], braces: bool) -> Vec<(usize, RawCall)> {
    if IN_TEMPLATE_CODE.with(|c| c.get()) {
        return Vec::new();
    }
    let pieces = template_code(html, braces);
    if pieces.is_empty() {
        return Vec::new();
    }
    // The pieces one per line, and where each starts in `code` and in `html`.
    let mut code = Vec::with_capacity(pieces.iter().map(|r| r.len() + 1).sum());
    let mut starts: Vec<(usize, usize)> = Vec::with_capacity(pieces.len());
    for r in pieces {
        starts.push((code.len(), r.start));
        code.extend_from_slice(&html[r]);
        code.push(b'\n');
    }
    let Some(tree) = super::elixir::parse(&code) else {
        return Vec::new();
    };
    /// Clears the flag however the walk ends.
    struct Inside;
    impl Drop for Inside {
        fn drop(&mut self) {
            IN_TEMPLATE_CODE.with(|c| c.set(false));
        }
    }
    IN_TEMPLATE_CODE.with(|c| c.set(true));
    let inside = Inside;
    let found = collect(tree.root_node(), &code);
    drop(inside);
    (found.into_iter())
        // `{JS.push("save")}`: the event runs the rendering module's `handle_event/3`,
        // a call without a module in a template.
        .map(|(at, call)| match call {
            RawCall::OwnCallback {
                fun: "handle_event",
                arity,
                ..
            } => (
                at,
                RawCall::Local {
                    fun: "handle_event".to_string(),
                    arity,
                },
            ),
            call => (at, call),
        })
        .filter(|(_, call)| match call {
            RawCall::Local { fun, arity } => !super::elixir::structural_call(fun, *arity),
            RawCall::Remote { .. } => true,
            _ => false,
        })
        .map(|(at, call)| {
            let i = starts.partition_point(|&(s, _)| s <= at).saturating_sub(1);
            let (code_start, html_start) = starts[i];
            (html_start + (at - code_start), call)
        })
        .collect()
}

/// The Elixir code in a template, as byte ranges of `html`, read as EEx and HEEx read
/// it:
/// - each EEx tag's code (`<%= … %>`, `<% … %>`), wherever it is: in text, in a tag, in a
///   quoted attribute value, in an HTML comment; not `<%# … %>`, `<%!-- … --%>` or the
///   escaped `<%%`;
/// - with `braces` (HEEx), each `{…}` in text or in a tag (`attr={…}`, `{@rest}`), braces
///   counted as HEEx counts them (`\{` escaped); not in a quoted attribute value, an
///   HTML comment, `<script>`, `<style>` or the body of a `phx-no-curly-interpolation`
///   tag. A `{` that never closes is text.
pub(crate) fn template_code(html: &[u8], braces: bool) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let len = html.len();
    let partners = match braces {
        true => brace_partners(html),
        false => FxHashMap::default(),
    };
    // Where the HTML comment the scan is in ends, and the text without interpolation
    // (`<script>`, `<style>`, `phx-no-curly-interpolation`).
    let mut comment_until = 0;
    let mut raw_until = 0;
    let mut at = 0;
    while at < len {
        let Some(next) = html[at..]
            .iter()
            .position(|b| *b == b'<' || (braces && *b == b'{'))
        else {
            break;
        };
        at += next;
        if html[at] == b'{' && html[at..].starts_with(b"{!--") {
            // A Surface comment: nothing in it is code.
            at = find_from(html, at + 4, b"--}").map_or(len, |i| i + 3);
            continue;
        }
        if html[at] == b'{' {
            let inside = at >= comment_until && at >= raw_until;
            at = match partners.get(&at).filter(|_| inside) {
                Some(&end) if !holds_eex(html, at, end) => {
                    out.push(at + 1..end);
                    end + 1
                }
                // A generator's template writing HEEx (`{f(<%= s.field %>)}`): its EEx
                // tags are the code, read as the scan goes on inside.
                _ => at + 1,
            };
            continue;
        }
        let rest = &html[at..];
        if rest.starts_with(b"<%") {
            at = eex_tag(html, at, &mut out);
        } else if rest.starts_with(b"<!--") {
            // Looked for once per comment: a `<!--` inside one starts none.
            if at >= comment_until {
                comment_until = find_from(html, at + 4, b"-->").map_or(len, |i| i + 3);
            }
            at += 4;
        } else if at >= comment_until
            && at >= raw_until
            && (rest.get(1)).is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, b'.' | b':'))
        {
            let (end, raw) = tag(html, at, braces, &partners, &mut out);
            if let Some(name) = raw {
                let close = [&b"</"[..], name].concat();
                raw_until = (end..len)
                    .find(|&i| {
                        html.get(i..i + close.len())
                            .is_some_and(|w| w.eq_ignore_ascii_case(&close))
                    })
                    .unwrap_or(len);
            }
            at = end;
        } else {
            at += 1;
        }
    }
    out
}

/// Whether `html` between the braces at `open` and `close` holds an EEx tag.
fn holds_eex(html: &[u8], open: usize, close: usize) -> bool {
    memchr::memmem::find(&html[open..close], b"<%").is_some()
}

/// `what` in `html` from `from` on: its offset.
fn find_from(html: &[u8], from: usize, what: &[u8]) -> Option<usize> {
    memchr::memmem::find(&html[from.min(html.len())..], what).map(|i| from + i)
}

/// The EEx tag at `at` (`html[at..]` starts with `<%`): its code into `out` (none for a
/// comment or `<%%`). Where the scan goes on.
fn eex_tag(html: &[u8], at: usize, out: &mut Vec<std::ops::Range<usize>>) -> usize {
    let rest = &html[at..];
    let past = |close: &[u8], from: usize| {
        find_from(html, from, close).map_or(html.len(), |i| i + close.len())
    };
    if rest.starts_with(b"<%!--") {
        return past(b"--%>", at + 5);
    }
    if rest.starts_with(b"<%#") {
        return past(b"%>", at + 3);
    }
    // `<%%`, escaped, is text; EEx in what follows it is still read
    // (`<%%= f(:<%= s.key %>) %>` in a generator's template).
    if rest.starts_with(b"<%%") {
        return at + 3;
    }
    let mut start = at + 2;
    if matches!(html.get(start), Some(b'=' | b'/' | b'|')) {
        start += 1;
    }
    match find_from(html, start, b"%>") {
        Some(end) => {
            out.push(start..end);
            end + 2
        }
        // Never closed: the rest is not code.
        None => html.len(),
    }
}

/// The tag that opens at `at` (`<div`, `<.button`, `<Mod.name`): the code of its
/// attributes into `out` (`attr={…}`, `{@rest}`, EEx tags; quoted values are text but
/// for their EEx tags). Where it ends (past its `>`), and, for `<script>`, `<style>` and
/// a tag with `phx-no-curly-interpolation`, its name: its body has no interpolation.
fn tag<'h>(
    html: &'h [u8],
    at: usize,
    braces: bool,
    partners: &FxHashMap<usize, usize>,
    out: &mut Vec<std::ops::Range<usize>>,
) -> (usize, Option<&'h [u8]>) {
    let name_end = (at + 1..html.len())
        .find(|&i| {
            !(html[i].is_ascii_alphanumeric() || matches!(html[i], b'.' | b'_' | b'-' | b':'))
        })
        .unwrap_or(html.len());
    let name = &html[at + 1..name_end];
    let mut i = name_end;
    let mut no_curly = false;
    while i < html.len() {
        match html[i] {
            b'>' => {
                let raw = ["script", "style"]
                    .iter()
                    .any(|r| name.eq_ignore_ascii_case(r.as_bytes()));
                let self_closing = html[..i].ends_with(b"/");
                return (i + 1, ((raw || no_curly) && !self_closing).then_some(name));
            }
            b'<' if html[i..].starts_with(b"<%") => i = eex_tag(html, i, out),
            quote @ (b'"' | b'\'') => {
                // A quoted value: text, but EEx runs in it (`href="<%= path %>"`).
                i += 1;
                while i < html.len() && html[i] != quote {
                    i = match html[i..].starts_with(b"<%") {
                        true => eex_tag(html, i, out),
                        false => i + 1,
                    };
                }
                i += 1;
            }
            b'{' if braces => {
                i = match partners.get(&i) {
                    Some(&end) if !holds_eex(html, i, end) => {
                        out.push(i + 1..end);
                        end + 1
                    }
                    _ => i + 1,
                };
            }
            _ => {
                if html[i..].starts_with(b"phx-no-curly-interpolation") {
                    no_curly = true;
                }
                i += 1;
            }
        }
    }
    (html.len(), None)
}

/// For every `{` of `html` that closes, the `}` that closes it: braces counted as HEEx
/// counts them, every `{` and `}` but an escaped one (`\\{`), whatever quotes are
/// between. One pass for the whole template: looking for each `{`'s `}` from the `{` on
/// would be quadratic over a template of unclosed braces.
fn brace_partners(html: &[u8]) -> FxHashMap<usize, usize> {
    let mut partners = FxHashMap::default();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while let Some(next) = html
        .get(i..)
        .and_then(|r| memchr::memchr3(b'{', b'}', b'\\', r))
    {
        let at = i + next;
        i = at + 1;
        match html[at] {
            b'{' => open.push(at),
            b'}' => {
                if let Some(o) = open.pop() {
                    partners.insert(o, at);
                }
            }
            // An escaped character is no brace.
            _ => i += 1,
        }
    }
    partners
}

/// Marks the `size(…)` and `unit(…)` modifiers in a bitstring segment's type
/// (`binary-size(4)`, `size(8)-unit(2)`) as not calls.
fn bitstring_modifiers(spec: Node<'_>, src: &[u8], not_calls: &mut FxHashSet<usize>) {
    let g = grammar();
    // The type is `-` joined modifiers: a short chain, walked without recursion.
    let mut stack = vec![spec];
    while let Some(n) = stack.pop() {
        if n.kind_id() == g.call {
            if n.child_by_field_id(g.target).is_some_and(|t| {
                t.kind_id() == g.identifier && matches!(text(t, src), "size" | "unit")
            }) {
                not_calls.insert(n.id());
            }
        } else if n.kind_id() == g.binary_operator {
            stack.extend(n.child_by_field_id(g.left));
            stack.extend(n.child_by_field_id(g.right));
        }
    }
}

/// Whether a call without parentheses is tree-sitter-elixir's reading of a variable in a
/// range with a negative end: `start..-1` parses as `start(..-1)` (and `n .. -1` alike),
/// which Elixir reads as the range `start..-1`.
fn misparsed_range(call: Node<'_>, src: &[u8]) -> bool {
    let Some(args) = child_of_kind(call, "arguments") else {
        return false;
    };
    if args
        .child(0)
        .is_some_and(|c| !c.is_named() && text(c, src) == "(")
    {
        return false;
    }
    starts_with_negative_range(args.named_child(0), src)
}

/// Whether the leftmost operand of `first` (a call's first argument) is a `..` operator
/// identifier: the `..-1` of a misparsed range.
fn starts_with_negative_range(mut first: Option<Node<'_>>, src: &[u8]) -> bool {
    let g = grammar();
    while let Some(n) = first.filter(|n| n.kind_id() == g.binary_operator) {
        first = n.child_by_field_id(g.left);
    }
    first.is_some_and(|n| n.kind() == "operator_identifier" && text(n, src).starts_with(".."))
}

/// The modules `Base.{A, B.C}` names in `import` (or `use`) as written: `Base.A` and
/// `Base.B.C`; `None` for anything but that form.
pub(crate) fn multi_modules(first: Node<'_>, src: &[u8]) -> Option<Vec<String>> {
    let g = grammar();
    if first.kind_id() != g.dot {
        return None;
    }
    let (left, right) = (
        first.child_by_field_id(g.left)?,
        first.child_by_field_id(g.right)?,
    );
    if right.kind() != "tuple" || left.kind_id() != g.alias {
        return None;
    }
    let base = text(left, src);
    let mut cursor = right.walk();
    let modules = (right.named_children(&mut cursor))
        .filter(|m| m.kind_id() == g.alias)
        .map(|m| format!("{base}.{}", text(m, src)))
        .collect();
    Some(modules)
}

/// The (short name, module as written) pairs an `alias` or `require` call makes:
/// `alias A.B` gives `B`, `alias A.{B, C}` gives `B` and `C`, `as: S` gives `S`; a
/// `require` only with `as:`.
pub(crate) fn alias_pairs(node: Node<'_>, plain: bool, src: &[u8]) -> Vec<(String, String)> {
    let g = grammar();
    let Some(args) = child_of_kind(node, "arguments") else {
        return Vec::new();
    };
    let Some(first) = args.named_child(0) else {
        return Vec::new();
    };
    if first.kind_id() == g.dot
        && let (Some(left), Some(right)) = (
            first.child_by_field_id(g.left),
            first.child_by_field_id(g.right),
        )
        && right.kind() == "tuple"
    {
        if !plain {
            return Vec::new();
        }
        let base = text(left, src);
        let mut cursor = right.walk();
        return right
            .named_children(&mut cursor)
            .filter(|m| m.kind_id() == g.alias)
            .map(|m| {
                let m = text(m, src);
                let short = m.rsplit('.').next().unwrap_or(m);
                (short.to_string(), format!("{base}.{m}"))
            })
            .collect();
    }
    let Some(target) = static_module(first, src) else {
        return Vec::new();
    };
    let short = child_of_kind(args, "keywords").and_then(|keywords| {
        let mut cursor = keywords.walk();
        keywords.named_children(&mut cursor).find_map(|pair| {
            let key = pair.child_by_field_name("key")?;
            let value = pair.child_by_field_name("value")?;
            (text(key, src).trim_end().trim_end_matches(':') == "as" && value.kind_id() == g.alias)
                .then(|| text(value, src).to_string())
        })
    });
    match short {
        Some(short) => vec![(short, target)],
        // `alias :ets` names nothing; `alias :ets, as: Ets` does.
        None if target.starts_with(':') => Vec::new(),
        None if plain => {
            let last = target.rsplit('.').next().unwrap_or(&target).to_string();
            vec![(last, target)]
        }
        None => Vec::new(),
    }
}

/// `defdelegate fun(a, b), to: Mod, as: :other` calls `Mod.other/2`;
/// `defdelegate [f(a), g(a, b)], to: Mod` calls `Mod.f/1` and `Mod.g/2`.
fn delegate_targets(node: Node<'_>, head: Node<'_>, src: &[u8]) -> Vec<RawCall> {
    let g = grammar();
    let Some(keywords) =
        child_of_kind(node, "arguments").and_then(|a| child_of_kind(a, "keywords"))
    else {
        return Vec::new();
    };
    let (mut module, mut fun) = (None, None);
    for (key, value) in keyword_pairs(keywords) {
        match text(key, src).trim_end().trim_end_matches(':') {
            // `to: @shell_service`: the module the attribute holds, as a call through it
            // reads it (Credo's `UI`).
            "to" => module = static_module(value, src).or_else(|| attribute_module(value, src)),
            // `as: unquote(name)`: a name not known here, so no call to cite.
            "as" => match atom_name(value, src) {
                Some(name) => fun = Some(name.to_string()),
                None => return Vec::new(),
            },
            _ => {}
        }
    }
    let Some(module) = module else {
        return Vec::new();
    };
    let heads: Vec<Node<'_>> = if head.kind() == "list" {
        let mut cursor = head.walk();
        head.named_children(&mut cursor).collect()
    } else {
        vec![head]
    };
    heads
        .into_iter()
        .filter_map(|head| {
            let (name, arity) = if head.kind_id() == g.call {
                // `defdelegate unquote(name)(x)`: a name computed in a macro.
                let target =
                    (head.child_by_field_id(g.target)).filter(|t| t.kind_id() == g.identifier)?;
                (text(target, src).to_string(), call_arity(head))
            } else if head.kind_id() == g.identifier {
                (text(head, src).to_string(), 0)
            } else {
                return None;
            };
            Some(RawCall::Remote {
                module: module.clone(),
                fun: fun.clone().unwrap_or(name),
                arity,
            })
        })
        .collect()
}

/// The head of a definition call: the first argument, inside a `when` if guarded.
pub(crate) fn def_head(def: Node<'_>) -> Option<Node<'_>> {
    let g = grammar();
    let args = child_of_kind(def, "arguments")?;
    let mut head = args.named_child(0)?;
    if head.kind_id() == g.binary_operator
        && head.child_by_field_id(g.operator).map(|o| o.kind_id()) == Some(g.op_when)
    {
        head = head.child_by_field_id(g.left)?;
    }
    Some(head)
}

/// What a definition keyword (one of [`DEF_KEYWORDS`]) defines.
pub(crate) fn def_kind(keyword: &str) -> Option<ChunkKind> {
    Some(match keyword {
        "def" | "defp" | "defn" | "defnp" | "deftransform" | "deftransformp" => ChunkKind::Function,
        "defmacro" | "defmacrop" => ChunkKind::Macro,
        "defguard" | "defguardp" => ChunkKind::Guard,
        "defdelegate" => ChunkKind::Delegate,
        _ => return None,
    })
}

/// n - d ..= n for a head of n parameters, d of them with defaults (`b \\ 1`).
pub(crate) fn head_arities(params: &[Node<'_>], src: &[u8]) -> Vec<u32> {
    let g = grammar();
    let n = params.len() as u32;
    let defaults = (params.iter())
        .filter(|p| {
            p.kind_id() == g.binary_operator
                && p.child_by_field_id(g.operator).map(|o| text(o, src)) == Some("\\\\")
        })
        .count() as u32;
    (n - defaults.min(n)..=n).collect()
}

/// The longest head a quoted definition keeps as its signature, in bytes.
const MAX_QUOTED_HEAD: usize = 200;

/// What `keyword head` defines, when written in a `quote` with a literal name: `def
/// child_spec(init_arg)` is `child_spec/1`, `def get(id, opts \\ [])` is `get/1..2`.
fn quoted_def(keyword: &str, def: Node<'_>, head: Node<'_>, src: &[u8]) -> Option<QuotedDef> {
    let g = grammar();
    let kind = def_kind(keyword)?;
    let (name, params) = if head.kind_id() == g.identifier {
        (text(head, src), Vec::new())
    } else if head.kind_id() == g.call
        && let Some(target) = head.child_by_field_id(g.target)
        && target.kind_id() == g.identifier
    {
        let params = child_of_kind(head, "arguments")
            .map(|a| named_children(a))
            .unwrap_or_default();
        (text(target, src), params)
    } else {
        return None;
    };
    if matches!(name, "unquote" | "unquote_splicing" | "__MODULE__")
        || !name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
    {
        return None;
    }
    // `def f(unquote_splicing(args))`: the arity is the list's, not known here.
    let spliced = |p: &Node<'_>| {
        p.kind_id() == g.call
            && (p.child_by_field_id(g.target)).is_some_and(|t| text(t, src) == "unquote_splicing")
    };
    if params.iter().any(spliced) {
        return None;
    }
    let signature = quoted_head(format!(
        "{keyword} {}",
        collapse_whitespace(text(head, src))
    ));
    let private = keyword.ends_with('p') && keyword != "defdelegate";
    // Hidden as a written one is: by a `@doc false` among the attributes just above it,
    // or, without a `@doc`, by a name with a leading underscore.
    let hidden = doc_above(def, src).unwrap_or_else(|| name.starts_with('_'));
    Some(QuotedDef {
        kind,
        name: name.to_string(),
        arities: head_arities(&params, src),
        visibility: if private {
            Visibility::Private
        } else if hidden {
            Visibility::Hidden
        } else {
            Visibility::Public
        },
        signature,
        calls: Vec::new(),
        lines: (0, 0),
        quoted_in: None,
    })
}

/// The lines a node spans, 1-based and inclusive.
fn lines_of(node: Node<'_>) -> (u32, u32) {
    (
        node.start_position().row as u32 + 1,
        node.end_position().row as u32 + 1,
    )
}

/// A quoted head, cut to [`MAX_QUOTED_HEAD`] bytes.
pub(crate) fn quoted_head(mut signature: String) -> String {
    if signature.len() > MAX_QUOTED_HEAD {
        let mut cut = MAX_QUOTED_HEAD;
        while !signature.is_char_boundary(cut) {
            cut -= 1;
        }
        signature.truncate(cut);
        signature.push_str("...");
    }
    signature
}

/// What the nearest `@doc` among the attributes written just above `def` (`@doc false`,
/// `@impl true`, `@spec ...`, then the `def`) says: hidden (`@doc false`), or documented;
/// `None` without one.
fn doc_above(def: Node<'_>, src: &[u8]) -> Option<bool> {
    let g = grammar();
    let mut at = def.prev_named_sibling();
    while let Some(n) = at {
        at = n.prev_named_sibling();
        if n.kind_id() == g.comment {
            continue;
        }
        if n.kind_id() != g.unary_operator
            || n.child_by_field_id(g.operator).map(|o| o.kind_id()) != Some(g.op_at)
        {
            return None;
        }
        let attribute = n.child_by_field_id(g.operand)?;
        if attribute.kind_id() == g.call
            && let Some(name) = attribute.child_by_field_id(g.target)
            && text(name, src) == "doc"
        {
            let value = child_of_kind(attribute, "arguments").and_then(|a| a.named_child(0));
            return Some(value.is_some_and(|v| text(v, src) == "false"));
        }
    }
    None
}

/// The functions a struct's definition (`defstruct`, or an Ecto `schema` block) or a
/// `defexception` whose text is `written` defines without writing them: `__struct__/0`
/// and `/1`, an exception's `exception/1` (and `message/1` with a `:message` field), and
/// an Ecto schema's reflection, `__schema__/1` and `/2` and `__changeset__/0` (also
/// through TypedEctoSchema's `typed_schema` and `typed_embedded_schema`).
pub(crate) fn implied_by(keyword: &str, written: &str) -> &'static [(&'static str, u32)] {
    match keyword {
        "schema" | "embedded_schema" | "typed_schema" | "typed_embedded_schema" => &[
            ("__struct__", 0),
            ("__struct__", 1),
            ("__schema__", 1),
            ("__schema__", 2),
            ("__changeset__", 0),
        ],
        "defexception" if written.contains(":message") || written.contains("message:") => &[
            ("exception", 1),
            ("message", 1),
            ("__struct__", 0),
            ("__struct__", 1),
        ],
        "defexception" => &[("exception", 1), ("__struct__", 0), ("__struct__", 1)],
        _ => &[("__struct__", 0), ("__struct__", 1)],
    }
}

/// What a `defstruct` or `defexception` in quoted code defines in the modules that use
/// it, as the same statements do in a module: `__struct__/0` and `/1`, and an exception's
/// `exception/1` (and `message/1` with a `:message` field).
fn quoted_implied(keyword: &str, node: Node<'_>, src: &[u8]) -> Vec<QuotedDef> {
    let whole = text(node, src);
    let signature = quoted_head(collapse_whitespace(whole.lines().next().unwrap_or("")));
    (implied_by(keyword, whole).iter())
        .map(|&(name, arity)| QuotedDef {
            kind: ChunkKind::Function,
            name: name.to_string(),
            arities: vec![arity],
            visibility: Visibility::Public,
            signature: signature.clone(),
            calls: Vec::new(),
            lines: (0, 0),
            quoted_in: None,
        })
        .collect()
}

/// `&Mod.fun/2` or `&fun/2`: the call, and the id of the inner node that must not be
/// counted again as a zero-arity call. `&style.run/2` (out of a quote) captures a
/// function of a module chosen at run time, as `style.run(a, b)` calls one.
fn capture(node: Node<'_>, src: &[u8], quoted: bool) -> Option<(RawCall, Option<usize>)> {
    let g = grammar();
    let operand = node.child_by_field_id(g.operand)?;
    if operand.kind_id() != g.binary_operator
        || operand.child_by_field_id(g.operator).map(|o| o.kind_id()) != Some(g.op_slash)
    {
        return None;
    }
    let right = operand.child_by_field_id(g.right)?;
    let arity: u32 = text(right, src).parse().ok()?;
    let left = operand.child_by_field_id(g.left)?;
    let left_kind = left.kind_id();
    if left_kind == g.identifier {
        return Some((
            RawCall::Local {
                fun: text(left, src).to_string(),
                arity,
            },
            None,
        ));
    }
    if left_kind != g.call {
        return None;
    }
    let target = left.child_by_field_id(g.target)?;
    if target.kind_id() != g.dot || child_of_kind(left, "arguments").is_some() {
        return None;
    }
    // `&@nif.set_span_sample_data/3`: through a module attribute (resolved as calls
    // through it are).
    let written = target.child_by_field_id(g.left)?;
    let runtime = || {
        let variable = module_variable(written, src);
        (!quoted && (variable || written.kind_id() == g.call))
            .then(|| super::RUNTIME_MODULE.to_string())
    };
    let module = (static_module(written, src))
        .or_else(|| attribute_module(written, src))
        .or_else(runtime)?;
    let fun = target.child_by_field_id(g.right)?;
    Some((
        RawCall::Remote {
            module,
            fun: text(fun, src).to_string(),
            arity,
        },
        Some(left.id()),
    ))
}
