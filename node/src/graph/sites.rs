//! Where a caller calls: the lines of a calling definition (or test, or script) that call
//! a function, or for a module any of its functions.
//!
//! The symbol graph knows which definitions call what, not where: calls carry no
//! position. The lines are found at answer time in the caller's own text, where Elixir
//! code calls the callee (`Mod.name(`, `Alias.name`, `name(`, `|> name`, `&name/2`, a
//! statement `name arg`), outside strings, heredocs, comments and typespecs. A module
//! before the name must be the callee's: written whole, through the chunk's aliases
//! (`alias A.B`, `alias A.B, as: C`, `alias A.{B}`), `__MODULE__` or the modules the code
//! is nested in, or, when its first segment is no alias the chunk lists (a `use` may
//! write one), as the last segments of the callee's module (`Sol` for
//! `Glific.Clients.Sol`); a name without one
//! must be the caller's own module's, imported, or a call the chunker saw made without a
//! module. A capture's arity (`&name/2`) must be one the callee's definition has. A
//! caller whose call the scan does not see (a call a macro writes) keeps its definition's
//! line.

use std::collections::HashMap;

use crate::chunk::{Chunk, ChunkKind};

/// The arities a callee named without one is looked for at in an import's list.
const MAX_PROBED_ARITY: u32 = 9;

/// The longest line on which a `Task.async_stream(…)` MFA's extra argument is looked for.
const MAX_STREAM_LINE: usize = 4096;

/// At most this many call lines are reported per caller.
pub const MAX_CALL_LINES: usize = 50;

/// The first segments of the modules of Elixir's standard library (1.14) and its own
/// applications: a name written so is theirs, not the end of a longer module's that an
/// alias the chunk does not list may shorten.
pub(crate) const ELIXIR_MODULES: [&str; 66] = [
    "Access",
    "Agent",
    "Application",
    "Atom",
    "Base",
    "Behaviour",
    "Bitwise",
    "Calendar",
    "Code",
    "Collectable",
    "Config",
    "Date",
    "DateTime",
    "Dict",
    "DynamicSupervisor",
    "EEx",
    "Enum",
    "Enumerable",
    "ExUnit",
    "Exception",
    "File",
    "Float",
    "Function",
    "GenEvent",
    "GenServer",
    "HashDict",
    "HashSet",
    "IEx",
    "IO",
    "Inspect",
    "Integer",
    "Kernel",
    "Keyword",
    "List",
    "Logger",
    "Macro",
    "Map",
    "MapSet",
    "Mix",
    "Module",
    "NaiveDateTime",
    "Node",
    "OptionParser",
    "Path",
    "PartitionSupervisor",
    "Port",
    "Process",
    "Protocol",
    "Range",
    "Record",
    "Regex",
    "Registry",
    "Set",
    "Stream",
    "String",
    "StringIO",
    "Supervisor",
    "System",
    "Task",
    "Time",
    "Tuple",
    "URI",
    "Version",
    "ArgumentError",
    "RuntimeError",
    "KeyError",
];

/// The longest call text reported, in characters.
const MAX_CALL_TEXT: usize = 160;

/// What a caller calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callee {
    /// The module: `Ecto.Changeset` (of `Ecto.Changeset.cast/4`, or the module itself).
    pub module: String,
    pub kind: CalleeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalleeKind {
    /// `Mod.fun/arity`, `Mod.fun`: calls of `fun` at one of `arities` (any when empty).
    Function { name: String, arities: Vec<u32> },
    /// `Ecto.Changeset`: any of its functions (`Changeset.cast(…)`), its struct
    /// (`%Changeset{…}`), a `use` of it.
    Module,
    /// A server callback, called through the function that sends its message
    /// (`handle_call/3` through `GenServer.call(server, msg)`), or by its name.
    Message {
        name: String,
        arities: Vec<u32>,
        through: &'static [&'static str],
    },
    /// `MyAppWeb.__using__/1`, `Mod.__before_compile__/1`: `use MyAppWeb, :controller`,
    /// `@before_compile Mod`.
    Use,
}

impl Callee {
    /// The callee a symbol names: `Mod.fun/arity` and `Mod.fun` a function, `Mod` (a
    /// capitalised last segment, no arity) a module. `None` for an operator or a name
    /// without a module.
    pub fn of(symbol: &str) -> Option<Callee> {
        let (head, arity) = match symbol.rsplit_once('/') {
            Some((head, arity)) => (head, arity.parse::<u32>().ok()),
            None => (symbol, None),
        };
        let last = head.rsplit_once('.').map_or(head, |(_, last)| last);
        if !symbol.contains('/') && last.starts_with(|c: char| c.is_ascii_uppercase()) {
            return Some(Callee {
                module: head.to_string(),
                kind: CalleeKind::Module,
            });
        }
        let module = head.rsplit_once('.')?.0.to_string();
        if matches!(last, "__using__" | "__before_compile__") {
            return Some(Callee {
                module,
                kind: CalleeKind::Use,
            });
        }
        let named = last.starts_with(|c: char| c.is_alphabetic() || c == '_')
            && (last.chars()).all(|c| c.is_alphanumeric() || matches!(c, '_' | '?' | '!'));
        if !named {
            return None;
        }
        let (name, arities) = (last.to_string(), arity.into_iter().collect());
        let through: &'static [&'static str] = match last {
            "handle_call" => &[
                "GenServer.call",
                "GenServer.multi_call",
                ":gen_server.call",
                "GenStage.call",
            ],
            "handle_cast" => &[
                "GenServer.cast",
                "GenServer.abcast",
                ":gen_server.cast",
                "GenStage.cast",
            ],
            // A Cowboy loop handler's `info/3` takes the messages a server's
            // `handle_info/2` would (only at that arity: see below).
            "handle_info" | "info" => &[
                "send",
                "Process.send",
                "Process.send_after",
                ":erlang.send_after",
                ":erlang.start_timer",
                ":timer.send_interval",
                ":timer.send_after",
                "GenStage.async_info",
            ],
            "handle_event" => &[
                "GenStateMachine.call",
                "GenStateMachine.cast",
                ":gen_statem.call",
                ":gen_statem.cast",
                "JS.push",
            ],
            "handle_continue" => &["{:continue,"],
            "handle_async" => &["start_async"],
            "init" => &[
                "GenServer.start_link",
                "GenServer.start",
                "Supervisor.start_link",
                "DynamicSupervisor.start_link",
                "GenStage.start_link",
                "GenStage.start",
                "GenStateMachine.start_link",
                "GenStateMachine.start",
                ":gen_server.start_link",
                ":gen_server.start",
                ":gen_statem.start_link",
                ":gen_statem.start",
            ],
            _ => &[],
        };
        // Only the callback's own arity takes messages: `handle_call/4`, `init/2` are
        // functions of their own (Credo's `ETSTableHelper.handle_call/4`).
        let callback_arity = match last {
            "handle_call" | "handle_event" | "handle_async" => Some(3),
            "handle_cast" | "handle_info" | "handle_continue" => Some(2),
            "init" => Some(1),
            "info" => Some(3),
            _ => None,
        };
        let through = match (arity, callback_arity) {
            (Some(a), Some(c)) if a != c && !(last == "handle_event" && a == 4) => &[][..],
            // `Logger.info` and the like: `info` by its name alone is no handler.
            (None, _) if last == "info" => &[][..],
            _ => through,
        };
        let kind = match through.is_empty() {
            true => CalleeKind::Function { name, arities },
            false => CalleeKind::Message {
                name,
                arities,
                through,
            },
        };
        Some(Callee { module, kind })
    }

    /// The same callee at more arities (those one definition with default arguments has).
    pub fn with_arities(mut self, more: impl IntoIterator<Item = u32>) -> Callee {
        if let CalleeKind::Function { arities, .. } | CalleeKind::Message { arities, .. } =
            &mut self.kind
            && !arities.is_empty()
        {
            arities.extend(more);
            arities.sort_unstable();
            arities.dedup();
        }
        self
    }
}

/// Where one caller calls: the lines (1-based, in its file) and the first one's code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallPlace {
    pub lines: Vec<u32>,
    /// The first call line, trimmed, at most 160 characters.
    pub text: String,
}

/// The lines of `chunks` (one file's, any order) from `from` to `to` (inclusive) that
/// call `callee`, in file order, at most [`MAX_CALL_LINES`].
pub fn call_place(chunks: &[Chunk], from: u32, to: u32, callee: &Callee) -> CallPlace {
    let mut found: Vec<(u32, &str)> = Vec::new();
    let mut ordered: Vec<&Chunk> = (chunks.iter())
        .filter(|c| c.start_line <= to && c.end_line >= from)
        .collect();
    ordered.sort_by_key(|c| c.start_line);
    // A caller split in parts, some of which the chunker saw call the callee: those
    // parts' lines only (a bare `|> request` in one part of Mojito's `__using__` is the
    // using module's own `request/1`, the `Poolboy.request(…)` of another part is not).
    if ordered.len() > 1
        && let CalleeKind::Function { name, arities } = &callee.kind
    {
        let prefix = format!("{}.{name}/", callee.module);
        let bare = format!("{name}/");
        let at = |s: &str, prefix: &str| {
            s.strip_prefix(prefix).is_some_and(|a| {
                arities.is_empty() || a.parse().is_ok_and(|a: u32| arities.contains(&a))
            })
        };
        // Called with its module, or bare where its module is imported.
        let lists = |c: &Chunk| {
            c.calls
                .iter()
                .chain(&c.module_calls)
                .any(|s| at(s, &prefix))
                || (c.imports.contains(&callee.module)
                    && c.unqualified_calls.iter().any(|s| at(s, &bare)))
        };
        if ordered.iter().any(|c| lists(c)) {
            ordered.retain(|c| lists(c));
        }
    }
    let mut primed = router_scopes_at_parts(chunks, &ordered);
    for chunk in ordered {
        let mut scope = Scope::of(chunk);
        // A module a test defines, calling from its body: `__MODULE__` there is it.
        if let Some(nested) = (chunk.defines.iter())
            .filter(|d| {
                d.kind == ChunkKind::ModuleHeader
                    && d.module != chunk.module
                    && d.line <= from
                    && to <= d.end_line
            })
            .max_by_key(|d| d.line)
        {
            scope.module = &nested.module;
        }
        // A router's header split in parts: the later parts' routes are in the scopes
        // the earlier ones open.
        let scopes = primed.remove(&chunk.start_line).unwrap_or_default();
        let lines = call_lines_in(&chunk.content, chunk.start_line, callee, &scope, scopes);
        for (line, text) in lines {
            if (from..=to).contains(&line) && found.last().is_none_or(|(l, _)| *l < line) {
                found.push((line, text));
            }
        }
    }
    found.truncate(MAX_CALL_LINES);
    CallPlace {
        text: found
            .first()
            .map(|(_, t)| shorten(t.trim()))
            .unwrap_or_default(),
        lines: found.into_iter().map(|(l, _)| l).collect(),
    }
}

/// Gives each of one file's `chunks` the imports its module's `use`s make (see
/// [`SymbolGraph::imports_with_uses`]), so that its call lines are read with the imports
/// the graph resolved its calls with. The chunks of one module share their `use`s: each
/// list is looked up once.
pub fn add_use_imports(chunks: &mut [Chunk], graph: &crate::graph::SymbolGraph) {
    type Imports = (Vec<String>, Vec<crate::chunk::ImportFilter>);
    // (uses, own imports) -> imports with the uses'.
    let mut seen: Vec<((Vec<String>, Imports), Imports)> = Vec::new();
    for chunk in chunks.iter_mut().filter(|c| !c.uses.is_empty()) {
        let key = (
            chunk.uses.clone(),
            (chunk.imports.clone(), chunk.import_filters.clone()),
        );
        let (imports, filters) = match seen.iter().find(|(k, _)| *k == key) {
            Some((_, added)) => added.clone(),
            None => {
                let added = graph.imports_with_uses(chunk);
                seen.push((key, added.clone()));
                added
            }
        };
        chunk.imports = imports;
        chunk.import_filters = filters;
    }
}

/// `alias Sourceror.Zipper, as: Z` on a line of its own: (`Z`, `Sourceror.Zipper`).
fn body_alias(line: &str) -> Option<(&str, &str)> {
    let alias = line.trim().strip_prefix("alias ")?;
    // `alias My.Task` in a function's body: `Task.run(1)` below it is `My.Task`'s, not
    // Elixir's `Task` (New Relic's instrumented `Task` in its tests).
    let (full, short) = match alias.split_once(", as:") {
        Some(pair) => pair,
        None => (alias, alias.rsplit('.').next()?),
    };
    let short = short.trim();
    let module = |m: &str| {
        m.starts_with(|c: char| c.is_ascii_uppercase())
            && m.bytes().all(|b| is_ident(b) || b == b'.')
    };
    (module(full) && module(short) && !short.contains('.')).then_some((short, full))
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_CALL_TEXT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// What the names in a chunk's code stand for: its module (and those it is nested in),
/// its aliases, its imports, and the names it calls without a module.
#[derive(Debug, Default)]
pub struct Scope<'a> {
    pub module: &'a str,
    pub parents: &'a [String],
    /// `Changeset` (or the `as:` name) -> `Ecto.Changeset`.
    pub aliases: HashMap<&'a str, &'a str>,
    pub imports: &'a [String],
    /// Their `only:` and `except:` lists (`import Mint.HTTP2.Frame, except: [inspect:
    /// 1]`: a bare `inspect(…)` is `Kernel`'s).
    pub import_filters: &'a [crate::chunk::ImportFilter],
    /// The calls the chunker saw made without a module: `fun` and its arity, when known
    /// (`fun/2`).
    pub unqualified: Vec<(&'a str, Option<u32>)>,
    /// The calls the chunker saw made through a module chosen at run time
    /// (`adapter.call(env, opts)`, see `crate::chunk::RUNTIME_MODULE`): `fun` and arity.
    pub runtime: Vec<(&'a str, Option<u32>)>,
    /// The calls the chunker saw made with a module, as written where no alias it knew
    /// named the module (`Routes.conversation_path/3` through the alias a `use` makes).
    pub written_calls: Vec<&'a str>,
    /// The chunk's text.
    pub text: &'a str,
    /// Whether the chunk is a template file's (`.eex`, `.leex`), and reads `{…}` as code
    /// (`.heex`, `.sface`).
    pub template: Option<bool>,
    /// A part of a function that starts inside a template heredoc (its header ends with
    /// the opener, `~H"""`): whether that template reads `{…}` as code, and the
    /// heredoc's delimiter (`"""` or `'''`).
    pub opens_in: Option<(bool, &'static str)>,
    /// The chunk is module-level code only (a module header without functions): it
    /// cannot call its module's own functions by name, which are not compiled yet
    /// (Plug.Router's `match _ do` is the imported macro, not the `match/2` its `use`
    /// defines).
    pub module_level: bool,
    /// The functions the chunk defines (name, arities): what a call through a module
    /// chosen at run time is not.
    pub defined: Vec<(&'a str, Vec<u32>)>,
}

impl<'a> Scope<'a> {
    pub fn of(chunk: &'a Chunk) -> Scope<'a> {
        let mut aliases: HashMap<&str, &str> = (chunk.aliases.iter())
            .map(|a| match a.split_once(" as ") {
                Some((full, short)) => (short, full),
                None => (
                    a.rsplit_once('.').map_or(a.as_str(), |(_, l)| l),
                    a.as_str(),
                ),
            })
            .collect();
        // The chunk lists its module's aliases; one a function body makes under a name
        // of its own (`alias Sourceror.Zipper, as: Z` in a test) is read from its line.
        if chunk.content.contains("alias ") {
            aliases.extend(chunk.content.lines().filter_map(body_alias));
        }
        let unqualified = (chunk.all_unqualified_calls())
            .chain(&chunk.module_unqualified_calls)
            .chain(&chunk.plugged_calls)
            .chain(chunk.defines.iter().flat_map(|d| &d.unqualified_calls))
            // A module a test defines resolves some through its own imports.
            .chain(
                (chunk.defines.iter()).flat_map(|d| d.scoped_calls.iter().flat_map(|s| &s.calls)),
            )
            .map(|c| match c.rsplit_once('/') {
                Some((name, arity)) => (name, arity.parse().ok()),
                None => (c.as_str(), None),
            })
            .collect();
        let runtime_prefix = format!("{}.", crate::chunk::RUNTIME_MODULE);
        let written_calls = (chunk.calls.iter())
            .chain(chunk.defines.iter().flat_map(|d| &d.calls))
            .filter(|c| c.starts_with(|c: char| c.is_ascii_uppercase()))
            .map(String::as_str)
            .collect();
        let runtime = (chunk.calls.iter())
            .chain(chunk.defines.iter().flat_map(|d| &d.calls))
            .filter_map(|c| c.strip_prefix(runtime_prefix.as_str()))
            .map(|c| match c.rsplit_once('/') {
                Some((name, arity)) => (name, arity.parse().ok()),
                None => (c, None),
            })
            .collect();
        let template = match chunk.path.rsplit_once('.').map(|(_, ext)| ext) {
            Some("heex" | "sface") => Some(true),
            Some("eex" | "leex") => Some(false),
            _ => None,
        };
        let opens_in = match chunk.header.lines().last().map(str::trim) {
            Some(l) if l.starts_with("~H") || l.starts_with("~F") || l.starts_with("~LVN") => {
                Some(true)
            }
            Some(l) if l.starts_with("~E") || l.starts_with("~L") => Some(false),
            _ => None,
        }
        .map(|braces| {
            let single = chunk.header.trim_end().ends_with("'''");
            (braces, if single { CHARLIST_HEREDOC } else { HEREDOC })
        });
        Scope {
            module: &chunk.module,
            parents: &chunk.parents,
            aliases,
            imports: &chunk.imports,
            import_filters: &chunk.import_filters,
            unqualified,
            runtime,
            written_calls,
            text: &chunk.content,
            template,
            opens_in,
            module_level: chunk.kind == ChunkKind::ModuleHeader
                && !chunk.defines.iter().any(|d| d.kind.is_callable()),
            // (A later part of a split function defines nothing: it is of its name.)
            defined: (chunk.defines.iter())
                .filter(|d| d.kind.is_callable() && d.module == chunk.module)
                .map(|d| (d.name.as_str(), d.arities.clone()))
                .chain(
                    (chunk.kind.is_callable() && chunk.part.is_some())
                        .then(|| (chunk.name.as_str(), chunk.arities.clone())),
                )
                .collect(),
        }
    }

    /// Whether the chunk's text writes `module`'s last segment as a word (`Controller`
    /// of `MyAppWeb.PageController` does not count), other than where an `alias`,
    /// `import` or `require` names it.
    fn writes(&self, module: &str) -> bool {
        let last = module.rsplit('.').next().unwrap_or(module);
        let bytes = self.text.as_bytes();
        !last.is_empty()
            && self.text.match_indices(last).any(|(at, _)| {
                let end = at + last.len();
                let word = (at == 0 || !is_ident(bytes[at - 1]))
                    && bytes.get(end).is_none_or(|b| !is_ident(*b));
                // (Not on an `alias Plug.Conn` line: a name, no use of the module.)
                word && {
                    let line = self.text[..at].rfind('\n').map_or(0, |n| n + 1);
                    !["alias ", "require ", "import "]
                        .iter()
                        .any(|d| self.text[line..at].trim_start().starts_with(d))
                }
            })
    }

    /// Whether `written` (`Sol`, `Clients.Sol`, `__MODULE__`, `Glific.Clients.Sol`) is
    /// `module` here.
    fn names(&self, written: &str, module: &str) -> bool {
        if written == module {
            return true;
        }
        let (first, rest) = match written.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (written, None),
        };
        let expanded = match first {
            "__MODULE__" => Some(self.module),
            _ => self.aliases.get(first).copied(),
        };
        let is = |base: &str| match rest {
            Some(rest) => module.strip_prefix(base).and_then(|m| m.strip_prefix('.')) == Some(rest),
            None => module == base,
        };
        if let Some(expanded) = expanded {
            // An alias of a name an alias the chunk does not list shortens (`alias
            // Common.Cache` after a `use` aliased `Bonfire.Common`): by its last segments.
            let suffix = |full: &str| (module.strip_suffix(full)).is_some_and(|m| m.ends_with('.'));
            return is(expanded)
                || match rest {
                    Some(rest) => suffix(&[expanded, ".", rest].concat()),
                    None => suffix(expanded),
                };
        }
        // A module nested in the one the code is in, by its short name; or an alias the
        // chunk does not list (a `use` writes it: `use MyAppWeb, :controller` aliases
        // `MyApp.Repo`), by the module's last segments.
        // Not a standard library module's name, though: `Version.compare(a, b)` in
        // `Hex.Solver.Constraints.Version` is Elixir's `Version`, and
        // `Supervisor.child_spec(…)` is no `Notifications.Supervisor`'s.
        (self.parents.iter().map(String::as_str))
            .chain([self.module])
            .filter(|p| !p.is_empty())
            .any(|p| module.strip_prefix(p).and_then(|m| m.strip_prefix('.')) == Some(written))
            || (module.strip_suffix(written)).is_some_and(|m| m.ends_with('.'))
                && !ELIXIR_MODULES.contains(&first)
    }

    /// Whether a call of `name` without a module may be `module`'s (at one of `arities`,
    /// when given): the module's own, an import's, or one the chunker saw made without a
    /// module at such an arity (through imports a `use` makes). A bare `render/3` is
    /// not another module's `render/2` that the chunk also calls with its module.
    fn calls_unqualified(&self, module: &str, name: &str, arities: &[u32]) -> bool {
        module == self.module
            || (self.imports.iter().any(|i| i == module) && self.imported(module, name, arities))
            || matches!(module, "Kernel" | "Kernel.SpecialForms")
            || (self.unqualified.iter()).any(|&(n, arity)| {
                n == name && (arities.is_empty() || arity.is_none_or(|a| arities.contains(&a)))
            }) && !self.writes_qualified(module, name)
                // A name the chunk calls through a module chosen at run time
                // (`apply(transport, :send, [socket, data])`): a bare `send(pid, msg)`
                // beside it is Kernel's.
                && !self.calls_at_run_time(name, arities)
    }

    /// Whether the chunk's import of `module` brings `name` (at one of `arities`): not
    /// when its `except:` lists it at each, nor when its `only:` lists it at none.
    fn imported(&self, module: &str, name: &str, arities: &[u32]) -> bool {
        let Some(filter) = (self.import_filters.iter()).find(|f| f.module == module) else {
            return true;
        };
        // `only: :macros` and the like: the callee's kind is not known here.
        if filter.select.is_some() {
            return true;
        }
        let admits = |a: u32| filter.admits(&format!("{name}/{a}"), ChunkKind::Function);
        match arities.is_empty() {
            true => (0..=MAX_PROBED_ARITY).any(admits),
            false => arities.iter().any(|&a| admits(a)),
        }
    }

    /// Whether the chunk's text calls `module`'s `name` with its module written
    /// (`Context.assign(…)`): a bare `assign(…)` beside it is another module's (one a
    /// `use` imports, `Plug.Conn.assign/3`), not this one's through an import.
    fn writes_qualified(&self, module: &str, name: &str) -> bool {
        let bytes = self.text.as_bytes();
        (self.text.match_indices(name)).any(|(at, _)| {
            let end = at + name.len();
            if at == 0 || bytes[at - 1] != b'.' {
                return false;
            }
            let written = qualifier(self.text, at - 1);
            // `` `ChatApiWeb.ErrorHelpers.translate_error/1` `` in a doc names it and
            // calls nothing; `&Mod.fun/1` is a capture.
            let named_in_prose = bytes.get(end) == Some(&b'/')
                && !self.text[..at - 1 - written.len()].ends_with('&');
            bytes
                .get(end)
                .is_none_or(|b| !is_ident(*b) && !b"?!".contains(b))
                && !named_in_prose
                && self.names(written, module)
        })
    }

    /// Whether the chunker saw a call of `name` (at one of `arities`) through a module
    /// chosen at run time.
    fn calls_at_run_time(&self, name: &str, arities: &[u32]) -> bool {
        (self.runtime.iter()).any(|&(n, arity)| {
            n == name && (arities.is_empty() || arity.is_none_or(|a| arities.contains(&a)))
        })
    }

    /// Whether the chunk defines `name` (at one of `arities`, when given).
    fn defines(&self, name: &str, arities: &[u32]) -> bool {
        (self.defined.iter()).any(|(n, a)| {
            *n == name && (arities.is_empty() || a.iter().any(|x| arities.contains(x)))
        })
    }

    /// Whether the chunker saw a call of `name` made without a module.
    fn saw_unqualified(&self, name: &str) -> bool {
        self.unqualified.iter().any(|&(n, _)| n == name)
    }
}

/// The lines of `content` (whose first line is `first_line` of its file) that call
/// `callee`, each with its text, the names read in `scope`.
pub fn call_lines<'a>(
    content: &'a str,
    first_line: u32,
    callee: &Callee,
    scope: &Scope<'_>,
) -> Vec<(u32, &'a str)> {
    call_lines_in(content, first_line, callee, scope, RouterScopes::default())
}

/// [`call_lines`], the content starting in the router `scopes` given.
fn call_lines_in<'a>(
    content: &'a str,
    first_line: u32,
    callee: &Callee,
    scope: &Scope<'_>,
    mut scopes: RouterScopes,
) -> Vec<(u32, &'a str)> {
    let mut out = Vec::new();
    let mut lexer = Lexer::opening(scope.opens_in);
    let lines: Vec<&str> = content.lines().collect();
    let mut template = template_codes(content, &lines, scope.template, scope.opens_in).into_iter();
    // Each line's code, read ahead: a route written over several lines is read whole.
    // And whether it is a line of a doc's heredoc (`@doc """`), whose examples call
    // nothing, not even in a template's attributes.
    let mut doc_open = false;
    let mut in_doc: Vec<bool> = Vec::with_capacity(lines.len());
    let mut in_template: Vec<bool> = Vec::with_capacity(lines.len());
    let codes: Vec<String> = (lines.iter())
        .map(|line| {
            // A doc's text (a string, a heredoc, a sigil); not one computed by code
            // (`@moduledoc Credo.Check.__build_moduledoc__(…)`), whose calls are calls.
            let opens = lexer.heredoc.is_none()
                && ["@doc", "@moduledoc", "@typedoc", "@shortdoc"]
                    .iter()
                    .any(|a| {
                        line.trim_start().strip_prefix(a).is_some_and(|rest| {
                            rest.starts_with([' ', '('])
                                && doc_is_text(rest.trim_start().trim_start_matches('('))
                        })
                    });
            let mut code = String::new();
            lexer.code_of(line, &mut code);
            // `unquote(__MODULE__).fun(…)` in a quote is the quoting module's, as
            // `__MODULE__` is (the same width, so the line's places stay).
            if code.contains("unquote(") {
                code = unquoted_as_module(&code);
            }
            in_doc.push(doc_open || opens);
            doc_open = lexer.heredoc.is_some() && (doc_open || opens);
            // A template's line: the code of its tags.
            let template = template.next().flatten();
            in_template.push(template.is_some());
            template.unwrap_or(code)
        })
        .collect();
    // The indentation of a typespec whose lines go on (more indented) below it.
    let mut typespec_at: Option<usize> = None;
    // Braces an `alias A.{` (or `import`, `require`) left open: its lines name modules.
    let mut declared_open = 0i64;
    let braces = |code: &str| {
        code.bytes().fold(0i64, |n, b| match b {
            b'{' => n + 1,
            b'}' => n - 1,
            _ => n,
        })
    };
    // A list of hooks or setups written over several lines (`on_mount: [` or `setup
    // [`, its entries below): each entry's line read as the list's opening and it.
    let mut list_open: Option<(&str, i64)> = None;
    // Template lines that start inside a comment over several lines (`<%!-- … --%>`):
    // the events bound there bind nothing.
    let mut comment: Option<&str> = None;
    let commented: Vec<bool> = (lines.iter().zip(&in_template))
        .map(|(line, &template)| {
            let inside = comment.is_some();
            if template || scope.template.is_some() {
                comment = comment_after(line, comment);
            }
            inside
        })
        .collect();
    for (i, (line, code)) in lines.iter().zip(&codes).enumerate() {
        let trimmed = code.trim_start();
        let indent = code.len() - trimmed.len();
        let listed = match list_open {
            Some((opening, depth)) => {
                let depth = depth + brackets(code);
                list_open = (depth > 0).then_some((opening, depth));
                Some(format!("{opening}{trimmed}"))
            }
            None => {
                list_open = list_opening(trimmed);
                None
            }
        };
        if let Some(listed) = &listed
            && calls_on(listed, callee, scope, false, None)
        {
            out.push((first_line + i as u32, *line));
            continue;
        }
        if declared_open > 0 {
            declared_open += braces(code);
            continue;
        }
        if let Some(at) = typespec_at {
            if trimmed.is_empty() || indent > at {
                continue;
            }
            typespec_at = None;
        }
        // Typespecs name types, not calls: `@spec f(Changeset.t()) :: …`; `alias`,
        // `import` and `require` name modules without calling them. (In a template,
        // `<% @type == Ash.Type.Atom -> %>` reads an assign.)
        let declaration = !in_template[i]
            && [
                "@spec",
                "@type",
                "@typep",
                "@opaque",
                "@callback",
                "@macrocallback",
                "alias",
                "import",
                "require",
            ]
            .iter()
            .any(|a| {
                trimmed
                    .strip_prefix(a)
                    .is_some_and(|rest| rest.starts_with([' ', '(']))
            });
        if declaration && trimmed.starts_with('@') {
            typespec_at = Some(indent);
        } else if declaration {
            declared_open = braces(code).max(0);
        }
        // GenStage's own messages (`{:"$gen_producer", …}`) never reach `handle_info`.
        let gen_stage = line.contains("\"$gen_");
        let prefix = scopes.enter(trimmed, indent, scope);
        // A doc calls nothing but in its interpolations, which run as the module
        // compiles (`#{NimbleOptions.docs(@schema)}`); not in its examples.
        let doc_call =
            in_doc[i] && code.contains("#{") && calls_on(code, callee, scope, gen_stage, None);
        // A pipe ending the line before (`Cover.modules() |>`) passes its value to the
        // call heading this one, as a `|>` heading it does.
        let piped;
        let call_code =
            if i > 0 && codes[i - 1].trim_end().ends_with("|>") && !trimmed.starts_with("|>") {
                piped = format!("|> {trimmed}");
                piped.as_str()
            } else {
                code.as_str()
            };
        if !declaration
            && (doc_call
                || !in_doc[i]
                    && (calls_on(call_code, callee, scope, gen_stage, prefix.as_deref())
                        || runs_task(line, code, callee)
                        || delegates(&codes[i..], callee, scope)
                        || renders(line, callee, scope, in_template[i] && !commented[i])
                        || (code.trim().is_empty()
                            && !in_template[i]
                            && calls_in_template(line, callee, scope))
                        || routes_over_lines(&codes[i..], callee, scope, prefix.as_deref())
                        || (i > 0
                            && mfa_over_lines(
                                &codes[i - 1],
                                code,
                                codes.get(i + 1).map(String::as_str),
                                &codes[i.saturating_sub(4)..i],
                                callee,
                                scope,
                            ))))
        {
            out.push((first_line + i as u32, *line));
        }
    }
    out
}

/// The comment of a template still open after `line` (`--%>` or `-->`, the closer it
/// waits for), given the one open before it. Each opener is looked for once from where
/// the line was read to (an opener not found is not found further on).
fn comment_after<'c>(line: &str, mut open: Option<&'c str>) -> Option<&'c str> {
    const OPENERS: [(&str, &str); 2] = [("<%!--", "--%>"), ("<!--", "-->")];
    // Where each opener is next; `None` once there is none.
    let mut next: [Option<usize>; 2] = OPENERS.map(|(opener, _)| line.find(opener));
    let mut at = 0;
    loop {
        if let Some(closer) = open {
            let Some(end) = line[at..].find(closer) else {
                return open;
            };
            at += end + closer.len();
            open = None;
            continue;
        }
        for (k, (opener, _)) in OPENERS.iter().enumerate() {
            if next[k].is_some_and(|n| n < at) {
                next[k] = line[at..].find(opener).map(|n| at + n);
            }
        }
        let (k, start) = (0..2)
            .filter_map(|k| next[k].map(|n| (k, n)))
            .min_by_key(|&(_, n)| n)?;
        at = start + OPENERS[k].0.len();
        open = Some(OPENERS[k].1);
    }
}

/// The opening of a list of hooks or setups a line leaves open (`live_session :admin,
/// on_mount: [`, `setup [`), and how many brackets it leaves open.
fn list_opening(code: &str) -> Option<(&'static str, i64)> {
    let (opening, at) = ["on_mount: [", "setup [", "setup_all [", "setup(["]
        .into_iter()
        .find_map(|o| {
            let at = code.find(o)?;
            let fresh = at == 0 || !is_ident(code.as_bytes()[at - 1]);
            (fresh && (o.starts_with("on_mount") || at == 0)).then_some((o, at))
        })?;
    let depth = brackets(&code[at..]);
    let opening = match opening {
        "on_mount: [" => "on_mount: [",
        "setup_all [" => "setup_all [",
        _ => "setup [",
    };
    (depth > 0).then_some((opening, depth))
}

/// Square brackets opened less those closed in `code`.
fn brackets(code: &str) -> i64 {
    code.bytes().fold(0i64, |n, b| match b {
        b'[' => n + 1,
        b']' => n - 1,
        _ => n,
    })
}

/// Whether a doc attribute's value, as its line writes it, is text (a string alone, a
/// heredoc, a sigil, `false`, `since: "1.0"`), as the chunker reads it: not code that
/// computes it (`File.read!("README.md") |> …`, `"README.md" |> File.read!()`,
/// `build_doc()`), whose calls are calls.
fn doc_is_text(value: &str) -> bool {
    let value = value.trim_end();
    if value.starts_with("\"\"\"") || value.starts_with("'''") || value.starts_with('~') {
        return true;
    }
    if let Some(string) = value.strip_prefix('"') {
        // A string and nothing after it (an operator after it computes the doc).
        let bytes = string.as_bytes();
        let mut i = 0;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        return string
            .get(i + 1..)
            .is_none_or(|rest| rest.trim().is_empty());
    }
    // A name followed by `(` or `.` (a call), or a module: code; a word or keyword alone
    // (`false`, `since: "1.0"`) is not.
    let word = value
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(value, |end| &value[..end]);
    !(value.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        || value[word.len()..].starts_with(['(', '.']))
}

/// The router scopes open where each later part of a module header among `wanted`
/// starts (by its first line), read once through the header parts of `chunks` (one
/// file's) in order.
fn router_scopes_at_parts(chunks: &[Chunk], wanted: &[&Chunk]) -> HashMap<u32, RouterScopes> {
    let later_part =
        |c: &Chunk| c.kind == ChunkKind::ModuleHeader && c.part.is_some_and(|(k, _)| k > 1);
    let mut out = HashMap::new();
    let Some(last) = (wanted.iter().filter(|c| later_part(c)))
        .map(|c| c.start_line)
        .max()
    else {
        return out;
    };
    let mut headers: Vec<&Chunk> = (chunks.iter())
        .filter(|c| c.kind == ChunkKind::ModuleHeader && c.start_line <= last)
        .collect();
    headers.sort_by_key(|c| c.start_line);
    let mut states: HashMap<&str, RouterScopes> = HashMap::new();
    for c in headers {
        let state = states.entry(c.module.as_str()).or_default();
        if later_part(c) {
            out.insert(c.start_line, state.clone());
        }
        let scope = Scope::of(c);
        let mut lexer = Lexer::default();
        let mut code = String::new();
        for line in c.content.lines() {
            code.clear();
            lexer.code_of(line, &mut code);
            let trimmed = code.trim_start();
            state.enter(trimmed, code.len() - trimmed.len(), &scope);
        }
    }
    out
}

/// The module prefix a router's `scope`s give the routes on a line: `None` when the line
/// may be in a `scope` the code does not show (a part of a router split in parts), else
/// their aliases joined (empty outside any, or under scopes without one).
type RoutePrefix<'p> = Option<&'p str>;

/// The router `scope … do` blocks a chunk's lines are in, read by their indentation (a
/// block ends at the `end` as indented as its `scope`).
#[derive(Default, Clone)]
struct RouterScopes {
    /// Each open scope: its indentation, its alias (expanded), and whether every scope
    /// around it is known.
    open: Vec<(usize, Option<String>, bool)>,
}

impl RouterScopes {
    /// Reads a line (its code trimmed, and its indentation): the prefix of the routes on
    /// it (see [`RoutePrefix`]).
    fn enter(&mut self, trimmed: &str, indent: usize, scope: &Scope<'_>) -> Option<String> {
        // Blanks a comment left (`end # browser`) are no part of the code.
        let trimmed = trimmed.trim_end();
        if trimmed == "end" && self.open.last().is_some_and(|(at, _, _)| *at == indent) {
            self.open.pop();
        }
        // Module code is indented once: a line indented more, outside every scope seen,
        // may be in one above the chunk.
        let known = |open: &[(usize, Option<String>, bool)], indent: usize| match open.last() {
            Some((_, _, known)) => *known,
            None => indent <= 2,
        };
        let prefix = |open: &[(usize, Option<String>, bool)]| {
            (open.iter())
                .filter_map(|(_, alias, _)| alias.as_deref())
                .collect::<Vec<_>>()
                .join(".")
        };
        let here = known(&self.open, indent).then(|| prefix(&self.open));
        if let Some(("scope", _, args)) = leading_call(trimmed)
            && trimmed.ends_with(" do")
        {
            let alias = (args.split(',').skip(1))
                .map(|a| {
                    let a = a.trim();
                    a.strip_prefix("alias:").map_or(a, str::trim_start)
                })
                .map(module_written)
                .find(|m| m.starts_with(|c: char| c.is_ascii_uppercase()))
                .map(|m| {
                    let (first, tail) = m.split_once('.').unwrap_or((m, ""));
                    match scope.aliases.get(first) {
                        Some(full) if tail.is_empty() => full.to_string(),
                        Some(full) => format!("{full}.{tail}"),
                        None => m.to_string(),
                    }
                });
            let known = known(&self.open, indent);
            self.open.push((indent, alias, known));
        }
        here
    }
}

/// `code` with each `unquote(__MODULE__)` (spaces inside it allowed, as the chunker
/// reads it) written as `__MODULE__` after as many spaces as it took.
fn unquoted_as_module(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("unquote(") {
        let inner = &rest[at + "unquote(".len()..];
        let trimmed = inner.trim_start();
        let taken = trimmed
            .strip_prefix("__MODULE__")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix(')'))
            .map(|r| rest.len() - r.len());
        let before_ident = rest[..at].chars().next_back().is_some_and(ident_char);
        match taken {
            Some(end) if !before_ident => {
                out.push_str(&rest[..at]);
                let width = end - at;
                out.extend(std::iter::repeat_n(' ', width - "__MODULE__".len()));
                out.push_str("__MODULE__");
                rest = &rest[end..];
            }
            _ => {
                out.push_str(&rest[..at + "unquote(".len()]);
                rest = &rest[at + "unquote(".len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether the line renders `module` as LiveView's older helpers do, its `render/1`
/// (`live_component @socket, MyAppWeb.Nav, id: :nav`) or its `mount/3` (`live_render(@conn,
/// MyAppWeb.Clock)`): the module among their first two arguments.
fn live_renders(code: &str, module: &str, name: &str, arities: &[u32], scope: &Scope<'_>) -> bool {
    let helper = match (name, arities) {
        ("render", a) if a.is_empty() || a.contains(&1) => "live_component",
        ("mount", a) if a.is_empty() || a.contains(&3) => "live_render",
        _ => return false,
    };
    let bytes = code.as_bytes();
    code.match_indices(helper).any(|(at, _)| {
        let end = at + helper.len();
        (at == 0 || !is_ident(bytes[at - 1]))
            && matches!(bytes.get(end), Some(b' ' | b'('))
            && (code[end + 1..].split(',').take(2)).any(|arg| {
                let written = module_written(arg);
                written.starts_with(|c: char| c.is_ascii_uppercase())
                    && scope.names(written, module)
            })
    })
}

/// Whether the line runs the Mix task whose `run/1` `callee` is by its name:
/// `Mix.Task.run("hex.audit")` (or `rerun`) for `Mix.Tasks.Hex.Audit.run/1`. `line` is
/// as written, `code` the same with strings blanked.
fn runs_task(line: &str, code: &str, callee: &Callee) -> bool {
    let CalleeKind::Function { name, arities } = &callee.kind else {
        return false;
    };
    if name != "run"
        || !(arities.is_empty() || arities.contains(&1))
        || !callee.module.starts_with("Mix.Tasks.")
    {
        return false;
    }
    ["Mix.Task.run(\"", "Mix.Task.rerun(\""]
        .iter()
        .any(|opener| {
            code.match_indices(&opener[..opener.len() - 1])
                .any(|(at, _)| {
                    let from = at + opener.len();
                    (line.get(at..from) == Some(*opener))
                        .then(|| line[from..].split_once('"'))
                        .flatten()
                        .and_then(|(task, _)| crate::chunk::calls::task_module(task))
                        .is_some_and(|m| m == callee.module)
                })
        })
}

/// Whether the line starts a `defdelegate name(args), to: Mod` (`as: :other` naming
/// the function delegated to) of `callee`, the `to:` written on it or the next lines.
fn delegates(codes: &[String], callee: &Callee, scope: &Scope<'_>) -> bool {
    let CalleeKind::Function { name, arities } = &callee.kind else {
        return false;
    };
    let Some(rest) = codes[0].trim_start().strip_prefix("defdelegate") else {
        return false;
    };
    let Some(head) = rest.strip_prefix([' ', '(']).map(str::trim_start) else {
        return false;
    };
    // The statement, while its lines end with a comma (at most four: `mix format`
    // writes `to:` and `as:` on lines of their own).
    let mut whole = String::new();
    for code in codes.iter().take(4) {
        whole.push_str(code);
        whole.push(' ');
        if !code.trim_end().ends_with(',') {
            break;
        }
    }
    let Some((_, to)) = whole.split_once("to:") else {
        return false;
    };
    let own = head
        .find(|c: char| !(is_ident(c as u8) || c == '?' || c == '!'))
        .map_or(head, |end| &head[..end]);
    let delegated = match whole.split_once("as:") {
        Some((_, as_name)) => module_written(as_name.trim_start().trim_start_matches(':')),
        None => own,
    };
    if delegated != name {
        return false;
    }
    // Its arity: the head's arguments (a delegate takes no defaults but `\\`).
    if !arities.is_empty()
        && let Some(args) = head[own.len()..].trim_start().strip_prefix('(')
        && let Some((passed, _)) = written_arity(args)
        && !arities.contains(&passed)
    {
        return false;
    }
    // `to: @shell_service`: the attribute's module, which the graph resolved.
    if to.trim_start().starts_with('@') {
        return true;
    }
    let written = module_written(to);
    written.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && scope.names(written, &callee.module)
}

/// [`is_ident`] for a character.
fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Whether the line's code (strings and comments blanked) calls `callee`.
fn calls_on(
    code: &str,
    callee: &Callee,
    scope: &Scope<'_>,
    gen_stage: bool,
    prefix: RoutePrefix<'_>,
) -> bool {
    if routes_or_plugs(code, callee, scope, prefix) {
        return true;
    }
    let module = callee.module.as_str();
    match &callee.kind {
        CalleeKind::Function { name, arities } => {
            let starts = matches!(name.as_str(), "start_link" | "child_spec")
                && (arities.is_empty() || arities.contains(&1));
            calls_name(code, module, name, arities, scope)
                || writes_sigil(code, module, name, arities, scope)
                || live_renders(code, module, name, arities, scope)
                || (name == "__struct__" && builds_struct(code, module, scope))
                || (name == "exception"
                    && (arities.is_empty() || arities.contains(&1))
                    && raises(code, module, scope))
                || (starts && names_child(code, module, name == "start_link", scope))
                || (starts
                    && name == "start_link"
                    && calls_name(code, module, "child_spec", &[], scope))
                || (name == "start_link" && spec_starts(code, module, arities, scope))
                || (name == "render"
                    && (arities.is_empty() || arities.contains(&2))
                    && renders_view(code, module, scope))
                || (name == "on_mount"
                    && (arities.is_empty() || arities.contains(&4))
                    && mounts(code, module, scope))
                || ((arities.is_empty() || arities.contains(&0))
                    && uses_which(code, module, name, scope))
                || (name == "join"
                    && (arities.is_empty() || arities.contains(&3))
                    && joins(code, module, scope))
                || names_mfa(code, module, name, arities, scope)
                || sets_hook(code, module, name, arities, scope)
                || renders_template(code, module, name, arities, scope)
        }
        // A module is named where its functions are called or its struct built, where
        // it is used, plugged, raised, started as a child or mounted.
        CalleeKind::Module => {
            uses(code, module, scope)
                || names_module(code, module, scope)
                || plugs(code, module, scope)
                || raises(code, module, scope)
                || names_child(code, module, false, scope)
                || mounts(code, module, scope)
        }
        CalleeKind::Use => uses(code, module, scope),
        CalleeKind::Message {
            name,
            arities,
            through,
        } => {
            (!gen_stage && through.iter().any(|f| sends(code, f)))
                && (*name != "handle_info" || sends_to_self(code))
                || calls_name(code, module, name, arities, scope)
                // `Agent.start_link(__MODULE__, :init, [config])` runs `init/1`.
                || names_mfa(code, module, name, arities, scope)
        }
    }
}

/// Whether the code writes the sigil `name` defines (`~M[1000]` of `sigil_M/2`),
/// imported or the module's own.
fn writes_sigil(code: &str, module: &str, name: &str, arities: &[u32], scope: &Scope<'_>) -> bool {
    let Some(letters) = name.strip_prefix("sigil_") else {
        return false;
    };
    let written = format!("~{letters}");
    (arities.is_empty() || arities.contains(&2))
        && (code.match_indices(&written)).any(|(at, _)| {
            code.as_bytes()
                .get(at + written.len())
                .is_some_and(|b| b"([{</|\"'".contains(b))
        })
        && scope.calls_unqualified(module, name, &[2])
}

/// Whether the code routes to `callee` (a controller's action, a LiveView's `mount/3`)
/// or plugs it (a plug's `init/1` and `call/2`).
fn routes_or_plugs(
    code: &str,
    callee: &Callee,
    scope: &Scope<'_>,
    prefix: RoutePrefix<'_>,
) -> bool {
    let module = callee.module.as_str();
    match &callee.kind {
        CalleeKind::Function { name, arities } => {
            ((arities.is_empty() || arities.contains(&route_arity(name)))
                && routes_to(code, module, name, scope, prefix))
                || (name == "call"
                    && (arities.is_empty() || arities.contains(&2))
                    && plugs(code, module, scope))
        }
        CalleeKind::Message { name, arities, .. } => {
            name == "init"
                && (arities.is_empty() || arities.contains(&1))
                && plugs(code, module, scope)
        }
        CalleeKind::Module | CalleeKind::Use => false,
    }
}

/// The call a line's code begins with, `plug Mod` or `live("/", Page)`: its name, the
/// character after it (a blank or `(`) and the rest; `None` for other code.
fn leading_call(code: &str) -> Option<(&str, char, &str)> {
    let code = code.trim_start();
    let word_end = code.find(|c: char| !ident_char(c)).unwrap_or(code.len());
    let (word, rest) = code.split_at(word_end);
    let open = rest.chars().next().filter(|c| matches!(c, ' ' | '('))?;
    Some((word, open, &rest[1..]))
}

/// Where the expression before the `.` at `dot` starts: a module or a variable with its
/// fields (`Config.persistence_adapter`, `state.adapter`) and the calls made on the way
/// (`persistence_adapter()`, `Application.get_env(:app, :store)`), so that a pipe before
/// it is seen (`|> persistence_adapter().put(gate)` passes one more).
fn receiver_start(code: &str, dot: usize) -> usize {
    let bytes = code.as_bytes();
    let mut i = dot;
    for _ in 0..16 {
        if i > 0 && bytes[i - 1] == b')' {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                if j == 0 {
                    return i;
                }
                j -= 1;
                match bytes[j] {
                    b')' => depth += 1,
                    b'(' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            i = j;
        }
        let segment_end = i;
        while i > 0 && (is_ident(bytes[i - 1]) || b".?!".contains(&bytes[i - 1])) {
            i -= 1;
        }
        // `a..b.f()`: a range's end (in the name walked, not in arguments jumped over).
        if let Some(range) = code[i..segment_end].rfind("..") {
            return i + range + 2;
        }
        if !(i > 0 && bytes[i - 1] == b')' && bytes.get(i) == Some(&b'.')) {
            break;
        }
    }
    i
}

/// The module written before the `.` that ends at `dot` (`Glific.Clients.Sol`,
/// `__MODULE__`, `:ets`); empty when an expression is there (`state.name`, `f().name`).
fn qualifier(code: &str, dot: usize) -> &str {
    let bytes = code.as_bytes();
    let mut start = dot;
    while start > 0 && (is_ident(bytes[start - 1]) || bytes[start - 1] == b'.') {
        start -= 1;
    }
    // `a..Style.max_line(x)`: a range's end, not a name with dots.
    if let Some(range) = code[start..dot].rfind("..") {
        start += range + 2;
    }
    let written = &code[start..dot];
    let erlang = start > 0 && bytes[start - 1] == b':';
    // `@subject.fun()`: through a module attribute.
    let attribute = start > 0 && bytes[start - 1] == b'@' && !written.contains('.');
    if erlang || attribute {
        return &code[start - 1..dot];
    }
    match written.starts_with(|c: char| c.is_ascii_uppercase()) || written.starts_with("__MODULE__")
    {
        true => written,
        false => "",
    }
}

/// Whether the line's code calls the function `name` of `module` (at one of `arities`).
fn calls_name(code: &str, module: &str, name: &str, arities: &[u32], scope: &Scope<'_>) -> bool {
    let bytes = code.as_bytes();
    let mut from = 0;
    // Whether the code before a match is inside a binary (`<<`, `>>` counted as the
    // matches go: once over the line).
    let (mut counted, mut binary_depth) = (0usize, 0i64);
    while let Some(found) = code[from..].find(name) {
        let at = from + found;
        let end = at + name.len();
        // Past the match: a name may start with a character of several bytes.
        from = end;
        // (No `<<` straddles `counted`: a match starts with a name's character.)
        binary_depth += code[counted..at].matches("<<").count() as i64
            - code[counted..at].matches(">>").count() as i64;
        counted = at;
        let prev = at.checked_sub(1).map(|i| bytes[i]);
        let next = bytes.get(end).copied();
        if prev.is_some_and(|p| is_ident(p) || p == b'@')
            || next
                .is_some_and(|n| is_ident(n) || (!name.ends_with(['?', '!']) && b"?!".contains(&n)))
        {
            continue;
        }
        let before = code[..at].trim_end();
        let after = code[end..].trim_start();
        // `<<id::uint4()>>`: a binary segment's type, a call of the macro (MyXQL's).
        if before.ends_with("::") && after.starts_with('(') && binary_depth > 0 {
            let passed = written_arity(&after[1..]).map(|(n, _)| n);
            if passed.is_none_or(|n| arities.is_empty() || arities.contains(&n))
                && scope.calls_unqualified(module, name, arities)
            {
                return true;
            }
            continue;
        }
        if prev == Some(b':') {
            // An atom: a call only as a plug (`plug :auth`, `pipe_through :browser`) or
            // an ExUnit setup (`setup :default_stubs`, `setup [:a, :b]`).
            let plug = before.trim_start();
            let plugs = [
                "plug ",
                "plug(",
                "pipe_through ",
                "pipe_through(",
                "setup ",
                "setup(",
                "setup_all ",
                "setup_all(",
            ];
            // The atom is the plug itself, or one in the list: not an option after it
            // (`plug :put_root_layout, {LayoutView, :landing}` plugs no `landing/2`).
            let listed = |rest: &str| {
                let plain = |b: u8| is_ident(b) || b" ,:.[(".contains(&b);
                let first_only = plug.starts_with("plug") && rest.contains(',');
                !first_only && rest.bytes().all(plain)
            };
            // Absinthe's `batch({__MODULE__, :fun}, arg, fn … end)` runs `fun/2`.
            // So does Absinthe's middleware `{{Resolver, :mutate}, config}`.
            if let Some(tuple) = (before.strip_suffix(':'))
                .and_then(|b| b.trim_end().strip_suffix(','))
                .map(str::trim_end)
                && let Some(open) = tuple.rfind('{')
                && (tuple[..open].trim_end().ends_with("batch(")
                    || (tuple[..open].trim_end().ends_with('{')
                        && code[at + name.len()..].trim_start().starts_with('}')))
                && scope.names(tuple[open + 1..].trim(), module)
            {
                return arities.is_empty() || arities.contains(&2);
            }
            if before.ends_with("::")
                || !plugs
                    .iter()
                    .any(|p| plug.strip_prefix(p).is_some_and(listed))
            {
                continue;
            }
            // The module's own function (a pipeline is one), an imported one, or one a
            // `use` imports (`plug :fetch_session`): not the function of the same name
            // of a module the code writes (`pipe_through :webhook` beside `post "/",
            // WebhookController, :webhook`).
            let own = module == scope.module || scope.imports.iter().any(|i| i == module);
            if own || (scope.saw_unqualified(name) && !scope.writes(module)) {
                return true;
            }
            continue;
        }
        // `name: value` is a keyword key.
        if next == Some(b':') && bytes.get(end + 1) != Some(&b':') {
            continue;
        }
        // A capture names its arity: `&name/2`, `&Mod.name/2`.
        if next == Some(b'/') && !arities.is_empty() {
            let digits: String = (code[end + 1..].chars())
                .take_while(char::is_ascii_digit)
                .collect();
            if digits.parse::<u32>().is_ok_and(|a| !arities.contains(&a)) {
                continue;
            }
        }
        // `Mod.name` with no parentheses and no argument after it (`TestServer.start`,
        // `Cover.modules() |> Stats.report |>`) passes none, or the value piped into it.
        if !arities.is_empty()
            && prev == Some(b'.')
            && (after.is_empty()
                || after.starts_with([')', ']', '}', ',', '|', '.', '=', '<', '>', '+', '*']))
        {
            let call_start = at - 1 - qualifier(code, at - 1).len();
            let passed = u32::from(code[..call_start].trim_end().ends_with("|>"));
            if !arities.contains(&passed) {
                continue;
            }
        }
        // A call without parentheses heading its line, its arguments ending there
        // (`plug :put_layout, {Layouts, :app}`, `scope "/", Web do`), passes as many as
        // it writes, and one more for its `do` block.
        let bare_args = after.trim_end();
        if !arities.is_empty()
            && next == Some(b' ')
            && code[..at].trim().is_empty()
            && !bare_args.is_empty()
            && !bare_args.starts_with(['(', '=', '|', '<', '>', '+', '-', '*', '/', '&', '.'])
            && !bare_args.ends_with(',')
            // A heredoc's lines (and what follows its end) are arguments too.
            && !bare_args.ends_with(HEREDOC)
            && !bare_args.ends_with(CHARLIST_HEREDOC)
            && !["when ", "in ", "and ", "or "]
                .iter()
                .any(|w| bare_args.starts_with(w))
        {
            let (args, block) = match bare_args.strip_suffix(" do") {
                Some(args) => (args, true),
                None => (bare_args, bare_args == "do"),
            };
            let passed = match args {
                "do" => Some(0),
                _ => written_arity(&format!("{args})")).map(|(n, _)| n),
            };
            if passed.is_some_and(|n| !arities.contains(&(n + u32::from(block)))) {
                continue;
            }
        }
        // Its arguments going on below (`plug RemoteIp,` then its options): more than it
        // writes on the line.
        if !arities.is_empty()
            && next == Some(b' ')
            && code[..at].trim().is_empty()
            && let Some(args) = bare_args.strip_suffix(',')
            && !args.trim().is_empty()
            && !args.starts_with(['(', '=', '|', '<', '>', '+', '-', '*', '/', '&', '.'])
            && let Some((written, _)) = written_arity(&format!("{args})"))
            && !arities.iter().any(|&a| a > written)
        {
            continue;
        }
        // `name(a, b)` closed on the line passes its arity (one more after a `|>`, and
        // one more for a `do` block after it when the call heads its line:
        // `with_span(name, meta) do`, but not `case Stock.reserve(a, b) do`).
        if !arities.is_empty()
            && let Some(args) = after.strip_prefix('(')
            && let Some((passed, block)) = written_arity(args)
        {
            let call_start = match prev {
                Some(b'.') => receiver_start(code, at - 1),
                _ => at,
            };
            let head = code[..call_start].trim();
            // `|> Kaffy.Utils.repo().one(opts)`: the pipe passes its value to the call on
            // what this one returns, not to this one.
            let receiver = closing(after.as_bytes(), 0)
                .is_some_and(|close| after[close + 1..].trim_start().starts_with('.'));
            let piped = head.ends_with("|>") && !receiver;
            let assigned =
                head.ends_with('=') && !["==", "<=", ">=", "!="].iter().any(|o| head.ends_with(o));
            let heads = head.is_empty() || assigned;
            let passed = passed + u32::from(piped);
            // `x = f(a, b) do` may be a `for`'s last filter, its `do` the `for`'s, and
            // `Scope.authorize(s) do` the last clause of a `with` over lines: either.
            let fits = arities.contains(&(passed + u32::from(block && heads)))
                || (block && arities.contains(&passed));
            if !fits {
                continue;
            }
        }
        let called = if prev == Some(b'.') {
            // `Mod.name`: the module must be the callee's. A template file has no aliases
            // of its own: a short name is one of the module that renders it (`H` for
            // `alias ExDoc.Formatter.HTML.Templates, as: H`), resolved by the graph that
            // names this file a caller.
            let written = qualifier(code, at - 1);
            // (Not the first segment of the callee's own name: `Teiserver.icon()` is
            // `Teiserver`'s, not `Teiserver.Lobby.icon/0` through an alias.)
            let rendering_alias = scope.template.is_some()
                && written.starts_with(|c: char| c.is_ascii_uppercase())
                && !written.contains('.')
                && !scope.aliases.contains_key(written)
                && !module.starts_with(&format!("{written}."));
            // The calls of `name` (at one of `arities`) the chunker kept with a module as
            // written, and whether one such module is `module`.
            let written_as = |is: &dyn Fn(&str) -> bool| {
                (scope.written_calls.iter()).any(|c| {
                    c.rsplit_once('/').is_some_and(|(head, a)| {
                        a.parse::<u32>()
                            .is_ok_and(|a| arities.is_empty() || arities.contains(&a))
                            && head
                                .strip_suffix(name)
                                .and_then(|m| m.strip_suffix('.'))
                                .is_some_and(is)
                    })
                })
            };
            // `http_client().get(url)`: through a module chosen at run time, which the
            // graph took for a callback of the name; not for a module the chunk calls
            // the name of by writing it (`Other.get(url)` beside it).
            // (`Config.persistence_adapter.put(name, gate)`: a function's value too.)
            let expression = written.is_empty()
                || (written.split('.').skip(1))
                    .any(|s| s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_'));
            // (Never a function the chunk defines: Oban Web's `handle_info/2` calling
            // `socket.assigns.page.comp.handle_info(message, socket)` calls not itself.)
            let runtime = expression
                && !(module == scope.module && scope.defines(name, arities))
                && scope.calls_at_run_time(name, arities)
                && !written_as(&|m: &str| scope.names(m, module));
            // `Routes.conversation_path(…)`: through an alias a `use` makes (a name of one
            // segment, no module of Elixir's), which the graph resolved; the chunker kept
            // the call as written.
            // Not for the module's own function nor an imported one (called by name):
            // `DBConnection.execute(…)` beside the module's own `execute/4`, `Tds.query(…)`
            // beside the imported `Tds.TestHelper.query/3`, are other modules' calls.
            let as_written = !written.contains('.')
                && written.starts_with(|c: char| c.is_ascii_uppercase())
                && !ELIXIR_MODULES.contains(&written)
                && !scope.aliases.contains_key(written)
                && module != scope.module
                && !scope.imports.iter().any(|i| i == module)
                && module.split('.').next() != Some(written)
                && written_as(&|m: &str| m == written)
                // (Not when the chunk writes the callee's own module for the name:
                // `FileSystem.subscribe(…)` beside `WebConsoleLogger.subscribe(@logs)`.)
                && !written_as(&|m: &str| scope.names(m, module));
            if !runtime
                && !as_written
                && (written.is_empty() || !(scope.names(written, module) || rendering_alias))
            {
                continue;
            }
            true
        } else {
            // (`& normalize_error/1`, written apart, is a capture too.)
            let captured = prev == Some(b'&')
                || (before.ends_with('&') && !before.ends_with("&&") && next == Some(b'/'));
            let local = captured || before.ends_with("|>") || after.starts_with('(') || {
                // A call without parentheses: `name arg` as a statement or a value.
                let assignment = before.ends_with('=')
                    && !["==", "<=", ">=", "!=", "~="]
                        .iter()
                        .any(|op| before.ends_with(op));
                // Or a condition's (`<%= if empty? @patches do %>`).
                let condition = ["if", "unless", "case", "not", "and", "or", "&&", "||", "!"]
                    .iter()
                    .any(|w| {
                        before.strip_suffix(w).is_some_and(|rest| {
                            !w.ends_with(|c: char| c.is_alphabetic())
                                || !rest.ends_with(|c: char| c.is_alphanumeric() || c == '_')
                        })
                    });
                // Or a generator's (`for f <- inputs_for form, @field do`).
                let statement = before.is_empty()
                    || assignment
                    || before.ends_with("do:")
                    || before.ends_with("->")
                    || before.ends_with("<-");
                // `render_surface do … end`: a macro given a block alone.
                let block = (after == "do" || after.starts_with("do ") || after.starts_with("do#"))
                    && (arities.is_empty() || arities.contains(&1));
                let argument = next == Some(b' ')
                    && after.starts_with(|c: char| {
                        c.is_alphanumeric()
                            || matches!(
                                c,
                                '_' | ':' | '"' | '\'' | '%' | '{' | '[' | '@' | '&' | '^' | '~'
                            )
                    })
                    && !["do", "when", "and", "or", "in", "not"].iter().any(|w| {
                        after.strip_prefix(w).is_some_and(|r| {
                            // `while not done?() do` passes `not …`; `x not in xs` tests x.
                            let negated = *w == "not" && !r.trim_start().starts_with("in ");
                            !negated && (r.is_empty() || r.starts_with([' ', ':']))
                        })
                    });
                // A condition's `do` is its own, not the call's block (`case x do`); and
                // `if user && user.admin do` tests a variable.
                (statement && (argument || block))
                    || (condition && argument && !after.starts_with("&&"))
            };
            let defines = after.starts_with('(')
                && crate::chunk::calls::DEF_KEYWORDS.iter().any(|d| {
                    before.strip_suffix(d).is_some_and(|rest| {
                        rest.is_empty()
                            || rest.ends_with(|c: char| !(c.is_alphanumeric() || c == '_'))
                    })
                });
            // `delete "/x", DeviceController, :penalty` is a route, not a call of a
            // controller's `delete/2`.
            // (A module's own `get("/x")`, a client's request, is a call.)
            // (An imported client's `get("app", client)` or a test helper's `get("/posts",
            // status: 200)` is a call: a route names its controller or plug next, or a
            // block.)
            // (Nor one piped into: `|> get("/posts",` with its options below.)
            let route = crate::chunk::calls::ROUTES.contains(&name)
                && !before.ends_with("|>")
                && route_shaped(after)
                && !matches!(module, "Phoenix.Router" | "Plug.Router")
                && module != scope.module;
            // (Only a call heading a block, or given one as `do:` (`match "/", via:
            // :get, do: send_resp(…)`): a route's body, itself module-level code, may
            // call the module's functions, which its block becomes one of.)
            let own_at_module_level = scope.module_level
                && module == scope.module
                && (after == "do" || after.ends_with(" do") || after.contains(", do:"));
            // `|> strategy_module.verify(dsl)`: a variable holding a module, named as a
            // function is (a call would write its parentheses before the dot).
            let variable = next == Some(b'.');
            // `x :: t()`: a type in a spec, no call (in a binary, above, one is).
            let typed = before.ends_with("::");
            local
                && !variable
                && !typed
                && !defines
                && !route
                && !own_at_module_level
                && scope.calls_unqualified(module, name, arities)
        };
        if called {
            return true;
        }
    }
    false
}

/// Whether `word`, followed by `rest`, is a call without parentheses given an argument
/// (`all x <- gen`): a name (no operator word, no block keyword) then a space and the
/// start of an expression, not an operator (`x == y`, `x <- xs`, `x :: t`).
fn bare_call(word: &str, rest: &str) -> bool {
    const NOT_CALLS: [&str; 16] = [
        "do", "end", "fn", "when", "and", "or", "in", "not", "if", "unless", "case", "cond",
        "with", "for", "true", "false",
    ];
    if !word.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') || NOT_CALLS.contains(&word)
    {
        return false;
    }
    let Some(arg) = rest.strip_prefix(' ') else {
        return false;
    };
    let operator_word = ["do", "when", "and", "or", "in", "not", "nil"]
        .iter()
        .any(|w| {
            arg.strip_prefix(w)
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', ':', ',']))
        });
    arg.starts_with(|c: char| {
        c.is_alphanumeric()
            || matches!(
                c,
                '_' | ':' | '"' | '\'' | '%' | '{' | '[' | '@' | '^' | '~'
            )
    }) && !arg.starts_with("::")
        && !operator_word
}

/// The arguments a call passes, read from the code after its `(` when it closes on the
/// same line: commas outside brackets, a trailing keyword list one argument; and whether
/// a `do` block follows (the call's, when the call heads its line). An `fn … end`
/// written whole is one argument. `None` when the call goes on past the line, or holds a
/// `do` or a block argument without parentheses (their commas are not the call's).
fn written_arity(args: &str) -> Option<(u32, bool)> {
    let bytes = args.as_bytes();
    let (mut depth, mut commas, mut any) = (0u32, 0u32, false);
    let mut keywords = false;
    // An argument that is a call without parentheses (`check all x <- g, y <- h do`,
    // `gen(all x <- g, do: :ok)`) takes the commas after it: the rest is its.
    let mut swallowed = false;
    // The `fn`s (and `do`s in them) open and not yet ended.
    let mut in_fn = 0u32;
    // Whether the next token starts an argument (after the `(` or a top-level comma).
    let mut at_argument = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let starts = std::mem::replace(&mut at_argument, false);
        match b {
            // A character literal: `?,`, `?)`, `?\)`, `?é`.
            b'?' if i + 1 < bytes.len() && !(i > 0 && is_ident(bytes[i - 1])) => {
                let escaped = usize::from(bytes[i + 1] == b'\\');
                let at = i + 1 + escaped;
                let width = args[at..].chars().next().map_or(1, char::len_utf8);
                i = at + width;
                any = true;
                continue;
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 1;
            }
            b'>' if depth > 0 && bytes.get(i + 1) == Some(&b'>') => {
                depth -= 1;
                i += 1;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' if depth == 0 => {
                let arity = if any { commas + 1 } else { 0 };
                let rest = args[i + 1..].trim_start();
                let block = rest
                    .strip_prefix("do")
                    .is_some_and(|r| r.is_empty() || r.starts_with(' '));
                return Some((arity, block));
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                at_argument = true;
                if !keywords && !swallowed {
                    commas += 1;
                }
            }
            b' ' | b'\t' => {
                at_argument = starts;
                i += 1;
                continue;
            }
            // `"x-api-key": value`: a quoted key (its text blanked) starts the keywords.
            b'"' if starts && depth == 0 => {
                if let Some(close) = args[i + 1..].find('"').map(|c| i + 1 + c)
                    && args[close + 1..].starts_with(": ")
                {
                    keywords = true;
                    any = true;
                    i = close + 1;
                    continue;
                }
            }
            _ if is_ident(b) => {
                let mut end = (i..bytes.len())
                    .find(|&j| !is_ident(bytes[j]))
                    .unwrap_or(bytes.len());
                // `async?: true`: a key may end in `?` or `!`.
                if matches!(bytes.get(end), Some(b'?' | b'!')) && bytes.get(end + 1) == Some(&b':')
                {
                    end += 1;
                }
                let word = &args[i..end];
                let word_start = i == 0 || !(is_ident(bytes[i - 1]) || bytes[i - 1] == b'.');
                let key = bytes.get(end) == Some(&b':') && bytes.get(end + 1) == Some(&b' ');
                // (`do:` and `end:` are keys.) An argument that is a block written
                // without parentheses (`if ok, do: a, else: b`) has commas of its own.
                let blocks = [
                    "fn", "do", "end", "if", "unless", "case", "cond", "with", "for",
                ];
                // `fn v -> v end` written whole is one argument, its commas its own (a
                // `do … end` in it too).
                if word_start && !key && (word == "fn" || (word == "do" && in_fn > 0)) {
                    in_fn += 1;
                    depth += 1;
                } else if word_start && !key && word == "end" && in_fn > 0 {
                    in_fn -= 1;
                    depth = depth.saturating_sub(1);
                } else if word_start && blocks.contains(&word) && !key && in_fn == 0 {
                    return None;
                }
                // `key: value` at the top level: the rest is one keyword list.
                if word_start && depth == 0 && starts && key {
                    keywords = true;
                }
                if word_start && depth == 0 && starts && !key && bare_call(word, &args[end..]) {
                    swallowed = true;
                }
                any = true;
                i = end;
                continue;
            }
            _ => {}
        }
        any = true;
        i += 1;
    }
    None
}

/// Whether the line's code names `module` where it calls one of its functions
/// (`Changeset.cast(…)`) or builds or matches its struct (`%Changeset{…}`).
fn names_module(code: &str, module: &str, scope: &Scope<'_>) -> bool {
    names_module_as(code, module, scope, true)
}

/// Whether the line's code builds, updates or matches `module`'s struct (`%Conn{conn |
/// …}`, `struct(Conn, fields)`): where it calls `__struct__/0`.
fn builds_struct(code: &str, module: &str, scope: &Scope<'_>) -> bool {
    names_module_as(code, module, scope, false)
        || ["struct(", "struct!("].iter().any(|f| {
            code.match_indices(f).any(|(at, _)| {
                let fresh = at == 0
                    || !(is_ident(code.as_bytes()[at - 1]) || code.as_bytes()[at - 1] == b'.');
                let written = module_written(&code[at + f.len()..]);
                fresh
                    && written.starts_with(|c: char| c.is_ascii_uppercase())
                    && scope.names(written, module)
            })
        })
}

/// [`names_module`], counting calls of its functions (`Changeset.cast`) only when `calls`.
fn names_module_as(code: &str, module: &str, scope: &Scope<'_>, calls: bool) -> bool {
    let bytes = code.as_bytes();
    names_in(code, b".").any(|(i, end)| {
        // `Changeset.cast`: the module is what comes before the last `.name`.
        let token = &code[i..end];
        let (written, called) = match token.rsplit_once('.') {
            Some((m, f)) if f.starts_with(|c: char| c.is_lowercase() || c == '_') => (m, true),
            _ => (token.trim_end_matches('.'), false),
        };
        let structure = !called && i > 0 && bytes[i - 1] == b'%' && bytes.get(end) == Some(&b'{');
        ((calls && called) || structure) && scope.names(written, module)
    })
}

/// The byte ranges of the capitalised names in the line's code (`Changeset`,
/// `Ecto.Changeset.cast`, `__MODULE__.run`), each with what follows it joined by `.`; a
/// name right after another name's character or one of `not_after` is left out.
fn names_in<'c>(
    code: &'c str,
    not_after: &'static [u8],
) -> impl Iterator<Item = (usize, usize)> + 'c {
    let bytes = code.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let starts = (bytes[i].is_ascii_uppercase() || bytes[i..].starts_with(b"__MODULE__"))
                && (i == 0 || !(is_ident(bytes[i - 1]) || not_after.contains(&bytes[i - 1])));
            if !starts {
                i += 1;
                continue;
            }
            let start = i;
            let mut end = i;
            while end < bytes.len() && (is_ident(bytes[end]) || bytes[end] == b'.') {
                end += 1;
            }
            i = end.max(i + 1);
            return Some((start, end));
        }
        None
    })
}

/// Functions whose argument may be a child a supervisor starts (`start_child(sup,
/// Worker)`, `start_supervised!(Config)`, `Supervisor.child_spec(Config, id: :x)`).
const CHILD_STARTERS: [&str; 5] = [
    "start_child",
    "start_supervised",
    "start_supervised!",
    "start_link_supervised!",
    "child_spec",
];

/// Whether the line's code names `module` as a child a supervisor starts through its
/// `child_spec/1` and `start_link/1` (only lines of callers the symbol graph already
/// knows to start the module are read):
/// - alone in a list (`children = [Config, …]`, or on its own line of a list written
///   over several lines), not a guard's `in [...]`;
/// - first in a tuple (`{Config, opts}`) that is not a pattern (`{Config, pid} = …`,
///   `for {Config, …} <- …`) nor a spec's `id:`; with an atom after it, only as
///   `{Config, :start_link, args}` and only for `start_link` (`start_link_named`);
/// - an argument of a [`CHILD_STARTERS`] function, not followed by an atom (a task's
///   `start_child(sup, Mod, :fun, args)`).
fn names_child(code: &str, module: &str, start_link_named: bool, scope: &Scope<'_>) -> bool {
    let bytes = code.as_bytes();
    names_in(code, b".%:").any(|(i, end)| {
        let before = code[..i].trim_end();
        // `!parent && LiveBeatsWeb.Endpoint,` in a list: a child under a condition.
        let conditional = (before.ends_with("&&") || before.ends_with(" and"))
            && !before.contains(['(', '[', '{']);
        let before = if conditional { "" } else { before };
        let after = code[end..].trim_start();
        if !(after.is_empty() || after.starts_with([',', '}', ']', ')'])) {
            return false;
        }
        // What follows the comma: an atom makes the tuple or arguments an MFA.
        let next = after.strip_prefix(',').map(str::trim_start).unwrap_or("");
        let atom_next = next.starts_with(':') && !next.starts_with("::");
        let mfa_ok = !atom_next
            || (start_link_named
                && next
                    .strip_prefix(":start_link")
                    .is_some_and(|r| !r.starts_with(|c: char| ident_char(c))));
        let child = match innermost_open(bytes, i) {
            // (A bare `__MODULE__,` on a line of its own is an argument of a call over
            // several lines, `resolve(@otp_app,\n __MODULE__,\n opts)`: a module lists
            // no child that is itself.)
            None => before.is_empty() && !atom_next && &code[i..end] != "__MODULE__",
            Some((at, b'[')) => {
                let guard = code[..at].trim_end();
                // `Module.concat([name, Listener])` names a module, starts nothing.
                let concat = guard.ends_with("concat(") || guard.ends_with("safe_concat(");
                (before.ends_with(['[', ',']))
                    && !atom_next
                    && !concat
                    && !guard
                        .strip_suffix("in")
                        .is_some_and(|g| g.is_empty() || g.ends_with(|c: char| !ident_char(c)))
            }
            Some((at, b'{')) => {
                // `"#{__MODULE__}_worker"`: a string's interpolation, no tuple.
                let map = at > 0 && matches!(bytes[at - 1], b'%' | b'#');
                let key = code[..at].trim_end();
                let id = key
                    .strip_suffix("id:")
                    .is_some_and(|k| !k.ends_with(|c: char| ident_char(c)));
                let pattern = closing(bytes, at).is_some_and(|close| {
                    let rest = code[close + 1..].trim_start();
                    rest.starts_with("<-")
                        || (rest.starts_with('=')
                            && !rest.starts_with("==")
                            && !rest.starts_with("=>"))
                });
                before.ends_with('{') && !map && !id && !pattern && mfa_ok
            }
            Some((at, _)) => {
                let called = (code[..at].trim_end())
                    .rsplit(|c: char| !(ident_char(c) || c == '!' || c == '?'))
                    .next()
                    .unwrap_or("");
                CHILD_STARTERS.contains(&called) && before.ends_with(['(', ',']) && !atom_next
            }
        };
        child && scope.names(&code[i..end], module)
    })
}

/// Whether the line's code renders through the view `module` (whose `render/2` it
/// calls): a controller's own `render(conn, "index.json", tags: tags)` when the view is
/// named after it (`TagController`, `TagView`), or `render_many(items, ConversationView,
/// "basic.json")` and `render_one`, which name it.
fn renders_view(code: &str, module: &str, scope: &Scope<'_>) -> bool {
    let own = scope
        .module
        .strip_suffix("Controller")
        .is_some_and(|base| module.strip_suffix("View").is_some_and(|view| view == base));
    let bare = |word: &'static str| {
        code.match_indices(word).filter(move |(at, _)| {
            let before = code[..*at].trim_end();
            !code[..*at].ends_with(|c: char| ident_char(c) || c == '.')
                && !before.ends_with("def")
                && !before.ends_with("defp")
        })
    };
    (own && bare("render(").next().is_some())
        || ["render_many(", "render_one("].iter().any(|word| {
            bare(word).any(|(at, _)| {
                (code[at + word.len()..].split(','))
                    .take(3)
                    .map(str::trim)
                    .any(|arg| scope.names(arg, module))
            })
        })
}

/// The length of the list `code` starts with (`[a, f(b, c)]` is 2), when it closes on
/// the line.
fn list_length(code: &str) -> Option<u32> {
    if !code.starts_with('[') {
        return None;
    }
    let close = closing(code.as_bytes(), 0)?;
    let inside = code[1..close].trim();
    if inside.is_empty() {
        return Some(0);
    }
    let mut depth = 0i32;
    let commas = inside.bytes().filter(|&b| {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        b == b',' && depth == 0
    });
    Some(commas.count() as u32 + 1)
}

/// Whether the line's code is a `Supervisor.Spec` child of `module` (`worker(QueueManager,
/// [name, size], id: name)`, `supervisor(Mod, [a])`), which starts its `start_link` with
/// the list's arguments.
fn spec_starts(code: &str, module: &str, arities: &[u32], scope: &Scope<'_>) -> bool {
    ["worker(", "supervisor("].iter().any(|starter| {
        code.match_indices(starter).any(|(at, _)| {
            if code[..at].ends_with(|c: char| ident_char(c) || c == '.') {
                return false;
            }
            let rest = &code[at + starter.len()..];
            // `function: :start` starts another function.
            if rest.contains("function:") {
                return false;
            }
            let Some((written, list)) = rest.split_once(',') else {
                return false;
            };
            let list = list.trim_start();
            if !list.starts_with('[') {
                return false;
            }
            let passed = list_length(list);
            scope.names(written.trim(), module)
                && (arities.is_empty() || passed.is_none_or(|n| arities.contains(&n)))
        })
    })
}

/// The innermost bracket (`(`, `[`, `{`) still open at byte `i` of the line, and where it
/// is.
fn innermost_open(bytes: &[u8], i: usize) -> Option<(usize, u8)> {
    let mut depth = 0usize;
    for at in (0..i).rev() {
        match bytes[at] {
            b')' | b']' | b'}' => depth += 1,
            b @ (b'(' | b'[' | b'{') => {
                if depth == 0 {
                    return Some((at, b));
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// Where the bracket opened at `open` closes on the line, if it does.
fn closing(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (at, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether the line's code mounts `module`'s `on_mount/4` hook: `on_mount
/// {MyAppWeb.UserAuth, :current_user}` in a LiveView, or `on_mount: [{UserAuth,
/// :ensure_authenticated}, Nav]` in a router's `live_session`.
fn mounts(code: &str, module: &str, scope: &Scope<'_>) -> bool {
    code.match_indices("on_mount").any(|(at, _)| {
        let fresh = at == 0 || !is_ident(code.as_bytes()[at - 1]);
        fresh
            && names_in(&code[at..], b".%:")
                .any(|(i, end)| scope.names(&code[at + i..at + end], module))
    })
}

/// Whether the line's code calls `fun` (`GenServer.call`, `send`) by that name.
fn sends(code: &str, fun: &str) -> bool {
    let bytes = code.as_bytes();
    code.match_indices(fun).any(|(at, _)| {
        let end = at + fun.len();
        let before_ok = at == 0 || !(is_ident(bytes[at - 1]) || b".:@".contains(&bytes[at - 1]));
        // `{:continue,` may end its line, its argument on the next.
        before_ok
            && match bytes.get(end) {
                Some(b) => matches!(b, b'(' | b' '),
                None => fun.ends_with(','),
            }
    })
}

/// Whether the code after a route macro's name (`get`, `delete`, `live`…) reads as a
/// route: a path, then the controller, LiveView or plug it runs (`"/x", DeviceController,
/// :penalty`), Plug.Router's `to:`, `via:` or block (`"/hello" do`); or a path whose
/// string goes on past the line, not known here. `("app", client)` and `("/posts", status:
/// 200)` are calls of a function so named.
fn route_shaped(after: &str) -> bool {
    let after = after.trim_start_matches(['(', ' ']);
    let Some(path) = after.strip_prefix('"') else {
        // `~p"/x"` and other sigils: as before, routes.
        return after.starts_with('~');
    };
    // The end of the path's string (`\"` escapes a quote).
    let bytes = path.as_bytes();
    let mut i = 0;
    let end = loop {
        match bytes.get(i) {
            None => return true,
            Some(b'\\') => i += 2,
            Some(b'"') => break i,
            Some(_) => i += 1,
        }
    };
    let rest = path[end + 1..].trim_start();
    let Some(next) = rest.strip_prefix(',').map(str::trim_start) else {
        return rest.is_empty() || rest == "do" || rest.starts_with("do ");
    };
    next.is_empty()
        || next.starts_with(|c: char| c.is_ascii_uppercase())
        || ["to:", "via:", "do:", "__MODULE__"]
            .iter()
            .any(|k| next.starts_with(k))
}

/// Whether the line's code sends a message to the process that runs it, as the chunker
/// reads a message a server sends its own `handle_info/2`: to `self()` or `__MODULE__`
/// (`send(self(), :tick)`, `Process.send_after(self(), :tick, 1000)`,
/// `:erlang.send_after(1000, self(), :tick)`), or with no process written
/// (`:timer.send_interval(1000, :tick)`); not `send(transport_pid, …)`. A send whose
/// arguments go on to the next line counts.
fn sends_to_self(code: &str) -> bool {
    // Each send and which of its arguments names the process (`:timer`'s only when it is
    // given three).
    let sends: [(&str, usize); 7] = [
        ("send", 0),
        ("Process.send", 0),
        ("Process.send_after", 0),
        (":erlang.send_after", 1),
        (":erlang.start_timer", 1),
        (":timer.send_interval", 1),
        (":timer.send_after", 1),
    ];
    let bytes = code.as_bytes();
    let mut to_another = false;
    for (f, dest) in sends {
        for (at, _) in code.match_indices(f) {
            let end = at + f.len();
            if (at > 0 && (is_ident(bytes[at - 1]) || b".:@".contains(&bytes[at - 1])))
                || !matches!(bytes.get(end), Some(b'(' | b' '))
            {
                continue;
            }
            let args: Vec<&str> = code[end + 1..].split(',').map(str::trim).collect();
            // `:timer.send_interval(1000, :tick)` sends to the caller.
            if f.starts_with(":timer") && args.len() < 3 {
                return true;
            }
            // (`send(@name, msg)`: the module's registered name, Scenic's `PubSub`, which
            // the graph linked only where a clause of its own takes the message.)
            match args.get(dest).filter(|a| !a.is_empty()) {
                Some(to)
                    if ["self()", "self ()", "__MODULE__", "@"]
                        .iter()
                        .any(|s| to.starts_with(s)) =>
                {
                    return true;
                }
                Some(_) => to_another = true,
                // Its arguments go on below (`Process.send_after(` alone): not known here.
                None => {}
            }
        }
    }
    !to_another
}

/// Whether the line's code is `plug Mod` (with options or a guard), a router's
/// `forward "/path", Mod` or Plug.Router's `forward "/path", to: Mod` (`get … to:` too)
/// of `module`: code that calls the plug's `init/1` and `call/2`.
fn plugs(code: &str, module: &str, scope: &Scope<'_>) -> bool {
    let Some((word, _, rest)) = leading_call(code) else {
        return false;
    };
    let rest = match word {
        "plug" => rest,
        // `pipe_through [:browser, Auth]`: a module in the list is a plug.
        "pipe_through" => {
            let list = rest.trim_start().trim_start_matches('[');
            return (list.split(',')).any(|item| {
                let written = module_written(item);
                written.starts_with(|c: char| c.is_ascii_uppercase())
                    && scope.names(written, module)
            });
        }
        // The path, then the plug.
        _ if crate::chunk::calls::ROUTES.contains(&word) => match rest.split_once(',') {
            Some((_, plug)) => {
                let plug = plug.trim_start();
                plug.strip_prefix("to:").unwrap_or(plug)
            }
            None => return false,
        },
        _ => return false,
    };
    let written = module_written(rest);
    written.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && scope.names(written, module)
}

/// Whether the line's code raises `module` (`raise ParentError, "…"`, `reraise(Error,
/// msg, stacktrace)`): where it calls the exception's `exception/1`.
fn raises(code: &str, module: &str, scope: &Scope<'_>) -> bool {
    ["raise", "reraise"].iter().any(|keyword| {
        code.match_indices(keyword).any(|(at, _)| {
            let bytes = code.as_bytes();
            let end = at + keyword.len();
            let alone = (at == 0 || !(is_ident(bytes[at - 1]) || bytes[at - 1] == b'.'))
                && matches!(bytes.get(end), Some(b' ' | b'('));
            if !alone {
                return false;
            }
            let written = module_written(code[end + 1..].trim_start_matches('('));
            written.starts_with(|c: char| c.is_ascii_uppercase()) && scope.names(written, module)
        })
    })
}

/// Whether the line (as written: a `~H` sigil's text is blanked in its code) renders
/// the function component `callee`: `<.button …>` for an imported or the module's own
/// `button/1`, `<CoreComponents.button>` through the module's name. Closing tags
/// (`</.button>`) and slots (`<:actions>`) render nothing.
fn renders(line: &str, callee: &Callee, scope: &Scope<'_>, template: bool) -> bool {
    // `<.live_component module={MyAppWeb.PollComponent} …>` renders that module's
    // component, its `render/1`, on the attribute's line.
    let renders_module = match &callee.kind {
        CalleeKind::Module => true,
        CalleeKind::Function { name, arities } => {
            name == "render" && (arities.is_empty() || arities.contains(&1))
        }
        _ => false,
    };
    if renders_module
        && template
        && let Some((at, _)) = (line.match_indices("module={"))
            .find(|&(at, _)| at > 0 && line.as_bytes()[at - 1].is_ascii_whitespace())
        && let Some((written, _)) = line[at + 8..].split_once('}')
        && let written = written.trim()
        && written.starts_with(|c: char| c.is_ascii_uppercase())
        && scope.names(written, &callee.module)
    {
        return true;
    }
    // `phx-click="save"`: the event runs the rendering LiveView's `handle_event/3`.
    if let CalleeKind::Function { name, arities } | CalleeKind::Message { name, arities, .. } =
        &callee.kind
        && template
        && name == "handle_event"
        && (arities.is_empty() || arities.contains(&3))
        && (line.contains("phx-") || line.contains("phx_"))
        && !crate::chunk::calls::event_bindings(line.as_bytes()).is_empty()
    {
        return scope.calls_unqualified(&callee.module, name, &[3]);
    }
    let CalleeKind::Function { name, arities } = &callee.kind else {
        return false;
    };
    // A comment's example renders nothing.
    if !(arities.is_empty() || arities.contains(&1))
        || !line.contains('<')
        || line.trim_start().starts_with('#')
    {
        return false;
    }
    let module = callee.module.as_str();
    line.match_indices('<').any(|(at, _)| {
        let rest = &line[at + 1..];
        let tag_end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        let (tag, after) = rest.split_at(tag_end);
        let ends_tag = |after: &str| {
            after
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || c == '>' || c == '/')
        };
        // Surface's module component (`<Link to="/">`, in a template): its `render/1`.
        if template
            && name == "render"
            && tag.starts_with(|c: char| c.is_ascii_uppercase())
            && (tag.split('.')).all(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
            && ends_tag(after)
        {
            return scope.names(tag, module);
        }
        let Some((written, fun)) = tag.rsplit_once('.') else {
            return false;
        };
        fun == name
            && after
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || c == '>' || c == '/')
            && match written {
                "" => scope.calls_unqualified(module, name, &[1]),
                _ => {
                    written.starts_with(|c: char| c.is_ascii_uppercase())
                        && scope.names(written, module)
                }
            }
    })
}

/// The code of the lines of `content` that are a template's: every line of a template
/// file (`file`: whether it reads `{…}` as code), and the lines of a `~H` (`~F`, `~E`,
/// `~L`) heredoc. Their code is that of the template's EEx tags and `{…}` expressions, as
/// [`template_code`] finds them over the whole template, each at its place and with its
/// strings blanked; the markup is blanked, so that an apostrophe in its text (`Stripe's`)
/// or the quotes of an attribute (`href="<%= url() %>"`) open no string. `None` for the
/// other lines.
fn template_codes(
    content: &str,
    lines: &[&str],
    file: Option<bool>,
    opens_in: Option<(bool, &'static str)>,
) -> Vec<Option<String>> {
    let mut out = vec![None; lines.len()];
    // Runs of template lines, each with whether it reads `{…}` as code.
    let mut runs: Vec<(std::ops::Range<usize>, bool)> = Vec::new();
    if let Some(braces) = file {
        runs.push((0..lines.len(), braces));
    } else if opens_in.is_some()
        || ["~H\"\"\"", "~F\"\"\"", "~E\"\"\"", "~L\"\"\""]
            .iter()
            .any(|s| content.contains(s))
    {
        let mut lexer = Lexer::opening(opens_in);
        let mut scratch = String::new();
        for (i, line) in lines.iter().enumerate() {
            // Inside the heredoc from an earlier line, and not its last line.
            if let (Some(_), Some(braces)) = (lexer.heredoc, lexer.template)
                && !line.contains(HEREDOC)
            {
                match runs.last_mut() {
                    Some((run, b)) if run.end == i && *b == braces => run.end = i + 1,
                    _ => runs.push((i..i + 1, braces)),
                }
            }
            lexer.code_of(line, &mut scratch);
        }
    }
    for (run, braces) in runs {
        let text = lines[run.clone()].join("\n");
        let mut masked: Vec<u8> = text
            .bytes()
            .map(|b| if b == b'\n' { b'\n' } else { b' ' })
            .collect();
        for code in crate::chunk::calls::template_code(text.as_bytes(), braces) {
            masked[code.clone()].copy_from_slice(&text.as_bytes()[code]);
        }
        // Code ranges start and end at ASCII delimiters, and the rest is spaces.
        let masked = String::from_utf8(masked).unwrap_or_default();
        let mut lexer = Lexer::default();
        for (i, line) in run.zip(masked.split('\n')) {
            let mut code = String::new();
            lexer.code_of(line, &mut code);
            out[i] = Some(code);
        }
    }
    out
}

/// Whether the line, a template's (its code is blank: a `~H` sigil or an `.heex`
/// file), calls `callee` in an attribute's expression (`phx-click={show_modal("new")}`)
/// or an EEx tag (`<%= link_to(@user) %>`) that opens and closes on it.
fn calls_in_template(line: &str, callee: &Callee, scope: &Scope<'_>) -> bool {
    let CalleeKind::Function { name, .. } = &callee.kind else {
        return false;
    };
    if !line.contains(name.as_str()) || line.trim_start().starts_with('#') {
        return false;
    }
    let bytes = line.as_bytes();
    let attributes = line.match_indices("={").filter_map(|(at, _)| {
        let open = at + 1;
        closing(bytes, open).map(|close| &line[open + 1..close])
    });
    let tags = line.match_indices("<%").filter_map(|(at, _)| {
        let start = at + 2;
        let inner = line[start..].trim_start_matches(['=', '-']);
        inner.find("%>").map(|end| &inner[..end])
    });
    let mut code = String::new();
    attributes.chain(tags).any(|expression| {
        Lexer::default().code_of(expression, &mut code);
        calls_on(&code, callee, scope, false, None)
    })
}

/// Lines a route (or plug) call may run over, its arguments one a line as `mix format`
/// writes a long one.
const MAX_ROUTE_LINES: usize = 8;

/// Whether `codes[0]` opens a route or plug call that closes on a later line (`live(`,
/// then its path, module and action each on a line of its own), and the call, read
/// whole, routes to or plugs `callee`.
fn routes_over_lines(
    codes: &[String],
    callee: &Callee,
    scope: &Scope<'_>,
    prefix: RoutePrefix<'_>,
) -> bool {
    let first = codes[0].trim();
    let route = |word: &str| word == "plug" || crate::chunk::calls::ROUTES.contains(&word);
    let opens = leading_call(first).is_some_and(|(word, open, args)| {
        open == '(' && route(word) && written_arity(args).is_none()
    });
    // Without parentheses, a route's line ending in a comma goes on: `resources "/user",
    // UserController,` then `only: [:edit]` below.
    if !opens
        && codes.len() > 1
        && first.ends_with(',')
        && leading_call(first).is_some_and(|(word, open, _)| open == ' ' && route(word))
    {
        let mut whole = first.to_string();
        for code in codes.iter().skip(1).take(MAX_ROUTE_LINES - 1) {
            whole.push(' ');
            whole.push_str(code.trim());
            if !whole.ends_with(',') {
                let whole = whole.strip_suffix(" do").unwrap_or(&whole);
                return routes_or_plugs(whole, callee, scope, prefix);
            }
        }
        return false;
    }
    if !opens || codes.len() < 2 {
        return false;
    }
    let args_at = first.find('(').map_or(first.len(), |at| at + 1);
    let mut whole = first.to_string();
    for code in codes.iter().skip(1).take(MAX_ROUTE_LINES - 1) {
        whole.push(' ');
        whole.push_str(code.trim());
        if written_arity(&whole[args_at..]).is_some() {
            return routes_or_plugs(&whole.replace("( ", "("), callee, scope, prefix);
        }
    }
    false
}

/// The arity of the function a route calls: a LiveView's `mount/3` (or `render/1`),
/// else an action's `/2`.
fn route_arity(name: &str) -> u32 {
    match name {
        "mount" => 3,
        "render" => 1,
        _ => 2,
    }
}

/// Whether the line's code is a Phoenix route to `module`'s `name`: `get "/",
/// PageController, :home` (or `match :*, "/", …`) for `home/2`, `live "/", PageLive` for
/// `mount/3`, `resources "/users", UserController` for its actions. The module is
/// written under the `scope`'s alias, itself perhaps through an alias (`Index` for
/// `MyAppWeb.Live.Orgs.Index` after `alias Live.Orgs.Index`).
fn routes_to(
    code: &str,
    module: &str,
    name: &str,
    scope: &Scope<'_>,
    prefix: RoutePrefix<'_>,
) -> bool {
    use crate::chunk::calls::{RESOURCE_ACTIONS, ROUTES};
    let Some((word, _, rest)) = leading_call(code) else {
        return false;
    };
    // A route going on to the next line is read there whole ([`routes_over_lines`]).
    if !ROUTES.contains(&word) || word == "forward" || code.trim_end().ends_with(',') {
        return false;
    }
    // `match :*, "/", C, :a` has the verb first; then the path.
    let rest = match word {
        "match" => rest.split_once(',').map_or("", |(_, r)| r),
        _ => rest,
    };
    let Some((_, routed)) = rest.split_once(',') else {
        return false;
    };
    let routed = routed.trim_start();
    let written = module_written(routed);
    let (first, tail) = written.split_once('.').unwrap_or((written, ""));
    let expanded = match scope.aliases.get(first) {
        Some(full) if tail.is_empty() => full.to_string(),
        Some(full) => format!("{full}.{tail}"),
        None => written.to_string(),
    };
    // Under the `scope`s the line is known to be in, the module is their aliases joined
    // with the one written: exactly it (`RecordingController` in `scope "/api",
    // AsciinemaWeb.Api` is not `AsciinemaWeb.RecordingController`).
    let names = written.starts_with(|c: char| c.is_ascii_uppercase())
        && match prefix {
            Some(prefix) if !prefix.is_empty() => {
                module
                    .strip_prefix(prefix)
                    .and_then(|m| m.strip_prefix('.'))
                    == Some(expanded.as_str())
            }
            _ => {
                scope.names(written, module)
                    || (module.strip_suffix(expanded.as_str())).is_some_and(|m| m.ends_with('.'))
            }
        };
    if !names {
        return false;
    }
    // `only: [:index, :show]` and `except: [:delete]`, when the line lists them.
    let listed = |key: &str| -> Option<bool> {
        let at = routed.find(key)? + key.len();
        let list = routed[at..].trim_start().strip_prefix('[')?;
        let list = &list[..list.find(']')?];
        Some(
            list.split(',')
                .any(|a| a.trim().strip_prefix(':') == Some(name)),
        )
    };
    match word {
        // A LiveView without a `mount/3` renders at once (see the graph's live routes).
        "live" => name == "mount" || name == "render",
        "resources" => {
            RESOURCE_ACTIONS.contains(&name)
                && listed("only:").is_none_or(|found| found)
                && listed("except:").is_none_or(|found| !found)
        }
        _ => (routed[written.len()..].trim_start().strip_prefix(','))
            .and_then(|r| r.trim_start().strip_prefix(':'))
            .and_then(|r| r.strip_prefix(name))
            .is_some_and(|r| !r.starts_with(ident_char)),
    }
}

/// The module name `rest` starts with (after blanks), as written: `Shop.Cache` of
/// `Shop.Cache, opts`.
fn module_written(rest: &str) -> &str {
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Whether the line's code is a Phoenix 1.7 controller's `render(conn, :name…)` (or
/// `|> render(:name…)`) of its format module's template function `name/1`
/// (`PageController`'s `PageHTML.index/1` or `PageJSON.index/1`).
fn renders_template(
    code: &str,
    module: &str,
    name: &str,
    arities: &[u32],
    scope: &Scope<'_>,
) -> bool {
    let base = module
        .strip_suffix("HTML")
        .or_else(|| module.strip_suffix("JSON"));
    if !(arities.is_empty() || arities.contains(&1))
        || base.is_none_or(|b| scope.module.strip_suffix("Controller") != Some(b))
    {
        return false;
    }
    (code.match_indices("render(")).any(|(at, _)| {
        let word = at == 0 || !is_ident(code.as_bytes()[at - 1]);
        let args = &code[at + "render(".len()..];
        // The template is the first argument piped into, else the second.
        let template = match args.split_once(',') {
            Some((first, rest)) if !first.trim_start().starts_with(':') => rest,
            _ => args,
        };
        let template = template.trim_start();
        word && template.strip_prefix(':').is_some_and(|t| {
            t.strip_prefix(name)
                .is_some_and(|after| !after.starts_with(|c: char| is_ident(c as u8) || c == '?'))
        })
    })
}

/// Whether the line's code names `module`'s `name` a function the compiler calls:
/// `@on_definition Mod` (`__on_definition__/6`), `@after_compile Mod`
/// (`__after_compile__/2`), `@after_verify Mod` (`__after_verify__/1`), or any of them as
/// `{Mod, :fun}`.
fn sets_hook(code: &str, module: &str, name: &str, arities: &[u32], scope: &Scope<'_>) -> bool {
    const HOOKS: [(&str, &str, u32); 3] = [
        ("@on_definition", "__on_definition__", 6),
        ("@after_compile", "__after_compile__", 2),
        ("@after_verify", "__after_verify__", 1),
    ];
    let code = code.trim_start();
    HOOKS.iter().any(|&(attribute, default, arity)| {
        let Some(rest) = code.strip_prefix(attribute) else {
            return false;
        };
        if !rest.starts_with([' ', '(']) || !(arities.is_empty() || arities.contains(&arity)) {
            return false;
        }
        let rest = rest.trim_start_matches([' ', '(']);
        match rest.strip_prefix('{') {
            Some(pair) => {
                let pair = pair.trim_start();
                let written = module_written(pair);
                let fun = (pair[written.len()..].trim_start().strip_prefix(','))
                    .and_then(|f| f.trim_start().strip_prefix(':'));
                fun.is_some_and(|f| {
                    (f.strip_prefix(name)).is_some_and(|after| after.trim_start().starts_with('}'))
                }) && scope.names(written, module)
            }
            None => name == default && scope.names(module_written(rest), module),
        }
    })
}

/// Whether the line's code is `use Mod…` or `@before_compile Mod…` of `module`.
fn uses(code: &str, module: &str, scope: &Scope<'_>) -> bool {
    let code = code.trim_start();
    let Some(rest) = (code.strip_prefix("use "))
        .or_else(|| code.strip_prefix("@before_compile "))
        .or_else(|| code.strip_prefix("@before_compile("))
    else {
        return false;
    };
    let written = module_written(rest);
    scope.names(written, module)
}

/// Whether `code` starts with the function's name of a module, a function's name and
/// its arguments written one a line (`:erpc.call(` then `node,`, `Supavisor,`,
/// `:get_global_sup,` and `[id]` each on its own line): the name, after the module on
/// the line before and before the list on the line after, names `callee` (at the list's
/// length when it closes there). Not `GenServer.call(` with `Poller,`, `:poll,` and
/// `:infinity`: a server, its message and a timeout.
fn mfa_over_lines(
    before: &str,
    code: &str,
    after: Option<&str>,
    above: &[String],
    callee: &Callee,
    scope: &Scope<'_>,
) -> bool {
    let CalleeKind::Function { name, arities } = &callee.kind else {
        return false;
    };
    let (before, code) = (before.trim_end(), code.trim());
    let Some(after) = after.map(str::trim).filter(|a| a.starts_with('[')) else {
        return false;
    };
    // `Task.async_stream(` a few lines up, still open, passes each item first.
    let streamed = || {
        let mut depth = 0usize;
        for line in above.iter().rev() {
            for (at, b) in line.bytes().enumerate().rev() {
                match b {
                    b')' => depth += 1,
                    b'(' if depth == 0 => {
                        let head = line[..at].trim_end_matches(ident_char);
                        return line[head.len()..at].starts_with("async_stream");
                    }
                    b'(' => depth -= 1,
                    _ => {}
                }
            }
        }
        false
    };
    code.starts_with(':')
        && code.ends_with(',')
        && before.ends_with(',')
        && names_mfa(
            &[
                if streamed() { "async_stream(" } else { "" },
                before,
                " ",
                code,
                " ",
                after,
            ]
            .concat(),
            &callee.module,
            name,
            arities,
            scope,
        )
}

/// Whether the line's code names `module`'s `name` as a module and a function's name
/// written one after the other (`{__MODULE__, :poll, [opts]}`, `:erpc.call(node, Cache,
/// :update, [id])`), to be called with the arguments that follow.
fn names_mfa(code: &str, module: &str, name: &str, arities: &[u32], scope: &Scope<'_>) -> bool {
    let atom = format!(":{name}");
    // (Looked into on a line that names it: a long line of atoms is read once.)
    let has_stream = code.len() <= MAX_STREAM_LINE && code.contains("async_stream(");
    code.match_indices(&atom).any(|(at, _)| {
        let after = &code[at + atom.len()..];
        if after.starts_with(ident_char) || after.starts_with(['?', '!', ':']) {
            return false;
        }
        // NimbleOptions' `{:custom, Mod, :fun, args}` passes the option's value first.
        let custom = code[..at]
            .trim_end()
            .strip_suffix(',')
            .map(|b| {
                b.trim_end()
                    .trim_end_matches(|c: char| c.is_alphanumeric() || c == '_' || c == '.')
            })
            .and_then(|b| b.trim_end().strip_suffix(','))
            .is_some_and(|b| b.trim_end().ends_with("{:custom"));
        // The arguments, a list closed on the line, pass their arity.
        let list = after.trim_start().strip_prefix(',').map(str::trim_start);
        // `{Mod, :fun, 4, [file: …]}`, a stack frame, names an arity: no call.
        if list.is_some_and(|l| l.starts_with(|c: char| c.is_ascii_digit())) {
            return false;
        }
        let listed = list.is_some_and(|l| l.starts_with('[') || l.is_empty());
        // `Task.async_stream(items, Mod, :fun, args)` passes each item first.
        let streamed = has_stream
            && innermost_open(code.as_bytes(), at)
                .is_some_and(|(open, b)| b == b'(' && code[..open].ends_with("async_stream"));
        if let Some(arity) = list.filter(|_| !arities.is_empty()).and_then(list_length)
            && !arities.contains(&(arity + u32::from(custom) + u32::from(streamed)))
        {
            return false;
        }
        // `strategy |> apply(:handle_callback!, [conn])`: the module piped in, chosen at
        // run time.
        if let Some(head) = code[..at].trim_end().strip_suffix("apply(")
            && head.trim_end().ends_with("|>")
        {
            return listed && scope.calls_at_run_time(name, arities);
        }
        let Some(before) = code[..at].trim_end().strip_suffix(',') else {
            return false;
        };
        let before = before.trim_end();
        let start = (before.char_indices().rev())
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let written = &before[start..];
        // Arguments follow (a list, or the next line), or the three make a tuple: not
        // `GenServer.call(__MODULE__, :get)`, a server and its message.
        let tuple = before[..start].trim_end().ends_with('{');
        // `apply(callback_module, :fun, [a, b])`: through a module chosen at run time,
        // which the graph took for a callback of the name.
        let runtime = listed
            && written.starts_with(|c: char| c.is_ascii_lowercase())
            && before[..start].trim_end().ends_with("apply(")
            && scope.calls_at_run_time(name, arities);
        // `:rpc.call(node, :mod_worker, :enqueue, [opts])`: an Erlang module, by its atom
        // (a tuple starting with an atom is none, as the chunker reads it).
        let erlang = listed
            && (before[..start].strip_suffix(':')).is_some_and(|b| !b.trim_end().ends_with('{'))
            && module.strip_prefix(':') == Some(written);
        runtime
            || erlang
            || (listed || tuple)
                && (written.starts_with(|c: char| c.is_ascii_uppercase())
                    || written.starts_with("__MODULE__"))
                && scope.names(written, module)
    })
}

/// Whether the line's code is a Phoenix socket's `channel "room:*", RoomChannel`, which
/// joins `RoomChannel` (its `join/3`).
fn joins(code: &str, module: &str, scope: &Scope<'_>) -> bool {
    let Some(rest) = code.trim_start().strip_prefix("channel") else {
        return false;
    };
    if !rest.starts_with([' ', '(']) {
        return false;
    }
    rest.split_once(',').is_some_and(|(_, after)| {
        let written = module_written(after);
        written.starts_with(|c: char| c.is_ascii_uppercase()) && scope.names(written, module)
    })
}

/// Whether the line's code is `use Mod, :name` (or `use Mod, {:name, opts}`), which runs
/// `Mod.name/0`'s quote.
fn uses_which(code: &str, module: &str, name: &str, scope: &Scope<'_>) -> bool {
    let Some(rest) = code.trim_start().strip_prefix("use ") else {
        return false;
    };
    let rest = rest.trim_start().trim_start_matches('(').trim_start();
    let written = module_written(rest);
    let Some(after) = rest[written.len()..].trim_start().strip_prefix(',') else {
        return false;
    };
    let after = after.trim_start();
    let names = |a: &str| {
        a.strip_prefix(':')
            .and_then(|a| a.strip_prefix(name))
            .is_some_and(|a| !a.starts_with(ident_char))
    };
    // `use Cadet, [:context, :display]`: each of a list.
    let listed = after.strip_prefix('[').is_some_and(|list| {
        let list = list.split(']').next().unwrap_or(list);
        list.split(',').any(|item| names(item.trim()))
    });
    let after = after.strip_prefix('{').unwrap_or(after).trim_start();
    (names(after) || listed) && scope.names(written, module)
}

/// Blanks strings and sigils (but not their interpolations), heredocs and comments, line
/// by line; a string, sigil or heredoc may run over several lines.
#[derive(Default)]
struct Lexer {
    /// Inside a heredoc (`"""` or `'''`) begun on an earlier line.
    heredoc: Option<&'static str>,
    /// That heredoc is a template's (`~H`, `~F`: `Some(true)`, its `{…}` code; `~E`,
    /// `~L`: `Some(false)`).
    template: Option<bool>,
    /// That heredoc is an uppercase sigil's (`~S"""`), which interpolates nothing.
    raw: bool,
    /// Inside a string or sigil: the byte that closes it.
    string: Option<u8>,
    /// The interpolations open inside that string, each with its braces open.
    braces: Vec<usize>,
}

impl Lexer {
    /// A lexer at the start of code that starts inside a template heredoc or not (see
    /// [`Scope::opens_in`]).
    fn opening(opens_in: Option<(bool, &'static str)>) -> Lexer {
        Lexer {
            heredoc: opens_in.map(|(_, delimiter)| delimiter),
            template: opens_in.map(|(braces, _)| braces),
            ..Lexer::default()
        }
    }
}

/// Where the interpolation whose code `text` starts with ends: the offset of its closing
/// brace, when it closes on this line.
fn interpolation_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

const HEREDOC: &str = "\"\"\"";
const CHARLIST_HEREDOC: &str = "'''";

impl Lexer {
    fn code_of(&mut self, line: &str, code: &mut String) {
        code.clear();
        let mut rest = line;
        if let Some(close) = self.heredoc {
            // Blanks but its interpolations (one line each), to its end.
            let end = line.find(close);
            let text = &line[..end.unwrap_or(line.len())];
            let mut at = 0;
            while let Some(open) = (!self.raw)
                .then(|| text[at..].find("#{"))
                .flatten()
                .map(|o| at + o)
            {
                code.extend(std::iter::repeat_n(' ', open - at));
                let inner =
                    interpolation_end(&text[open + 2..]).map_or(text.len(), |e| open + 2 + e);
                code.push_str(&text[open..inner]);
                at = inner;
            }
            code.extend(std::iter::repeat_n(' ', text.len() - at));
            match end {
                Some(end) => {
                    self.heredoc = None;
                    self.template = None;
                    self.raw = false;
                    code.push_str(&line[end..end + 3]);
                    rest = &line[end + 3..];
                }
                None => return,
            }
        }
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if let Some(close) = self.string.filter(|_| self.braces.is_empty()) {
                // In a string: blanks, up to its end or an interpolation.
                if b == b'\\' {
                    let width = rest[i..].chars().nth(1).map_or(1, |c| 1 + c.len_utf8());
                    code.extend(std::iter::repeat_n(' ', width));
                    i += width;
                    continue;
                }
                if b == close {
                    self.string = None;
                    code.push(b as char);
                } else if b == b'#' && bytes.get(i + 1) == Some(&b'{') {
                    self.braces.push(0);
                    code.push_str("#{");
                    i += 2;
                    continue;
                } else {
                    code.push(' ');
                }
                i += 1;
                continue;
            }
            let char_literal = i > 0 && bytes[i - 1] == b'?';
            if let Some(depth) = self.braces.last_mut() {
                // In an interpolation: code, to its closing brace; a string in it
                // (`"#{Enum.join(names, ", ")}"`) is blanked to its end on the line.
                if b == b'"' && !char_literal && (i == 0 || bytes[i - 1] != b'\'') {
                    let mut end = i + 1;
                    while end < bytes.len() && bytes[end] != b'"' {
                        end += if bytes[end] == b'\\' { 2 } else { 1 };
                    }
                    let end = end.min(bytes.len().saturating_sub(1)).max(i);
                    code.push('"');
                    code.extend(std::iter::repeat_n(' ', end - i - usize::from(end > i)));
                    if end > i {
                        code.push('"');
                    }
                    i = end + 1;
                    continue;
                }
                match b {
                    b'{' => *depth += 1,
                    b'}' if *depth == 0 => {
                        self.braces.pop();
                    }
                    b'}' => *depth -= 1,
                    _ => {}
                }
            } else if b == b'#' && !char_literal {
                break; // a comment
            } else if (b == b'"' || b == b'\'') && !char_literal {
                let triple = if b == b'"' { HEREDOC } else { CHARLIST_HEREDOC };
                if rest[i..].starts_with(triple) {
                    // A heredoc: the rest of the line and the lines to its end (its
                    // opener kept: `assert_style """` passes it).
                    self.heredoc = Some(triple);
                    code.push_str(triple);
                    break;
                }
                self.string = Some(b);
            } else if b == b'~' && !char_literal {
                // A sigil: `~r/…/`, `~w(…)`, `~s"…"`, `~S"""…"""`.
                let letters = (bytes[i + 1..].iter())
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                let start = i + 1 + letters;
                let close = match bytes.get(start) {
                    Some(b'(') => Some(b')'),
                    Some(b'[') => Some(b']'),
                    Some(b'{') => Some(b'}'),
                    Some(b'<') => Some(b'>'),
                    Some(&c @ (b'/' | b'|' | b'"' | b'\'')) => Some(c),
                    _ => None,
                };
                if let (true, Some(close)) = (letters > 0, close) {
                    for triple in [HEREDOC, CHARLIST_HEREDOC] {
                        if rest[start..].starts_with(triple) {
                            self.heredoc = Some(triple);
                            self.template = match &rest[i + 1..start] {
                                "H" | "F" | "LVN" => Some(true),
                                "E" | "L" => Some(false),
                                _ => None,
                            };
                            self.raw = self.template.is_none() && bytes[i + 1].is_ascii_uppercase();
                            code.push_str(&rest[i..=start]);
                            return;
                        }
                    }
                    code.push_str(&rest[i..=start]);
                    self.string = Some(close);
                    i = start + 1;
                    continue;
                }
            }
            // Multi-byte characters stay whole, so the code keeps the line's width.
            let width = rest[i..].chars().next().map_or(1, char::len_utf8);
            code.push_str(&rest[i..i + width]);
            i += width;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of `src` (from line 10) calling `symbol`, read in its module's scope
    /// with its last segment an alias of it.
    fn lines(src: &str, symbol: &str) -> Vec<u32> {
        let callee = Callee::of(symbol).unwrap();
        let module = callee.module.clone();
        let last = module.rsplit('.').next().unwrap().to_string();
        let scope = Scope {
            module: &module,
            aliases: [(last.as_str(), module.as_str())].into(),
            ..Scope::default()
        };
        lines_in(src, &callee, &scope)
    }

    fn lines_in(src: &str, callee: &Callee, scope: &Scope<'_>) -> Vec<u32> {
        (call_lines(src, 10, callee, scope).into_iter())
            .map(|(l, _)| l)
            .collect()
    }

    /// A call right after a range's `..` is a call (Styler's `vm[:line]..Style.max_line(rhs)`),
    /// and a call without parentheses given a heredoc passes it (`assert_style """`).
    #[test]
    fn a_range_end_and_a_heredoc_argument_are_calls() {
        let range = "x = a..Style.max_line(rhs)\ny = vm[:line]..Style.max_line(rhs)\nStyle.max_line(rhs)..b\n";
        assert_eq!(lines(range, "Styler.Style.max_line/1"), vec![10, 11, 12]);
        let src =
            "assert_style \"\"\"\n  a |> b()\n\"\"\"\nassert_style \"\"\"\n  x\n\"\"\", \"y\"\n";
        let scope = Scope {
            module: "Styler.BlocksTest",
            unqualified: vec![("assert_style", Some(1)), ("assert_style", Some(2))],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Styler.StyleCase.assert_style/1"), vec![10, 13]);
        assert_eq!(at("Styler.StyleCase.assert_style/2"), vec![10, 13]);
        assert_eq!(
            body_alias("    alias Sourceror.Zipper, as: Z"),
            Some(("Z", "Sourceror.Zipper"))
        );
        assert_eq!(body_alias("alias Sourceror.{Zipper, Range}"), None);
        assert_eq!(
            body_alias("    alias NewRelic.Instrumented.Task"),
            Some(("Task", "NewRelic.Instrumented.Task"))
        );
        // A runtime module's call piped into, or through a function's value (FunWithFlags'
        // `|> persistence_adapter().put(gate)`, `Config.persistence_adapter.put(n, g)`).
        let src = "flag\n|> persistence_adapter().put(gate)\nConfig.persistence_adapter.put(name, gate)\nx |> Other.put(gate)\n";
        let scope = Scope {
            module: "FunWithFlags.Store",
            runtime: vec![("put", Some(2))],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("FunWithFlags.Store.Persistent.put/2"), vec![11, 12]);
        // A module's own function named as a route's verb is called (Mint's test client:
        // `connect("/getCaseCount")`).
        let src = "connect(\"/getCaseCount\") |> decode_buffer()\n";
        let scope = Scope {
            module: "AutobahnClient",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("AutobahnClient.connect/1"), vec![10]);
        // A binary segment's type is a call of its macro.
        let src = "[0x19, <<statement_id::uint4()>>]\nx :: uint4()\n";
        let scope = Scope {
            module: "MyXQL.Protocol",
            unqualified: vec![("uint4", Some(0))],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("MyXQL.Protocol.Types.uint4/0"), vec![10]);
        // A variable named as a local function is no call of it.
        let src =
            "strategy_module = strategy_module(strategy)\ndsl\n|> strategy_module.verify(dsl)\n";
        let scope = Scope {
            module: "Auth.Verifier",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Auth.Verifier.strategy_module/1"), vec![10]);
        // Module-level code calls no function of its own module by name: `match _ do`
        // in a Plug.Router is the imported macro, not the `match/2` its `use` defines.
        // (Nor one given its block as `do:`, Electric's `match "/", via: …, do: …`.)
        let src = "plug(:match)\nmatch _ do\nmatch \"/\", via: [:get, :head], do: send_resp(conn, 200, \"\")\n";
        let mut scope = Scope {
            module: "Chat.Router",
            unqualified: vec![("match", Some(2))],
            text: src,
            module_level: true,
            ..Scope::default()
        };
        let at =
            |scope: &Scope<'_>| lines_in(src, &Callee::of("Chat.Router.match/2").unwrap(), scope);
        assert_eq!(at(&scope), vec![10]);
        scope.module_level = false;
        assert_eq!(at(&scope), vec![10, 11, 12]);
        // A route's body (module-level code too) calls the module's functions.
        let src = "get \"/hello\" do\n  send_resp(conn, 200, greeting(conn))\n";
        let scope = Scope {
            module: "MyRouter",
            text: src,
            module_level: true,
            ..Scope::default()
        };
        let lines = lines_in(src, &Callee::of("MyRouter.greeting/1").unwrap(), &scope);
        assert_eq!(lines, vec![11]);
        // A generator's call without parentheses (in a template too).
        let src = "<%= for f <- inputs_for form, @field do %>\n";
        let scope = Scope {
            module: "PolymorphicEmbedTest",
            unqualified: vec![("inputs_for", Some(2))],
            text: src,
            template: Some(true),
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("PolymorphicEmbed.HTML.Form.inputs_for/2"), vec![10]);
    }

    /// A standard library module's name is that module, not the end of a longer one's
    /// (hex's `Version.compare(left, right)` in `Hex.Solver.Constraints.Version`;
    /// eventstore's `Supervisor.child_spec(…)` beside `Notifications.Supervisor`).
    #[test]
    fn a_standard_library_name_is_no_projects_module() {
        let src = "Version.compare(left, right)\ncompare(version, range)\nSupervisor.child_spec(spec)\nProjects.Supervisor.child_spec(x)\n";
        let scope = Scope {
            module: "Hex.Solver.Constraints.Version",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Hex.Solver.Constraints.Version.compare/2"), vec![11]);
        assert_eq!(
            at("Hex.Notifications.Supervisor.child_spec/1"),
            Vec::<u32>::new()
        );
        assert_eq!(at("Hex.Projects.Supervisor.child_spec/1"), vec![13]);
    }

    /// A Mix task run by its name calls its `run/1` there (hex's tests:
    /// `Mix.Task.run("hex.audit")`).
    #[test]
    fn a_task_run_by_its_name_is_a_call_of_its_run() {
        let src = "assert catch_throw(Mix.Task.run(\"hex.audit\")) == {:exit_code, 1}\nMix.Task.rerun(\"ecto.gen_migration\", [\"add\"])\nMix.Task.run(\"hex.outdated\")\n# Mix.Task.run(\"hex.audit\")\n";
        let scope = Scope {
            module: "Mix.Tasks.Hex.AuditTest",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Mix.Tasks.Hex.Audit.run/1"), vec![10]);
        assert_eq!(at("Mix.Tasks.Ecto.GenMigration.run/1"), vec![11]);
    }

    /// LiveView's older helpers render a component (`render/1`) and mount a LiveView
    /// (`mount/3`) they are given (Bytepack's `.leex` layouts, asciinema's templates).
    #[test]
    fn an_older_live_helper_renders_its_module_there() {
        let src = "<%= live_component @socket, BytepackWeb.NavComponent, id: :nav %>\n{live_render(@conn, AsciinemaWeb.StreamStatusLive, session: %{})}\n<%= live_component @socket, Other, id: 1 %>\n";
        let scope = Scope {
            module: "BytepackWeb.LayoutView",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("BytepackWeb.NavComponent.render/1"), vec![10]);
        assert_eq!(at("AsciinemaWeb.StreamStatusLive.mount/3"), vec![11]);
    }

    /// A callback a module, its name and arguments name is called there, as a function
    /// is (hex's `Agent.start_link(__MODULE__, :init, [global_config], name: @name)`).
    #[test]
    fn a_callback_named_with_its_module_and_arguments_is_called_there() {
        let src = "Agent.start_link(__MODULE__, :init, [global_config], name: @name)\nTask.start(__MODULE__, :init, [1, 2])\n";
        let scope = Scope {
            module: "Hex.State",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Hex.State.init/1"), vec![10]);
        // An Erlang module by its atom (Next LS's `:rpc.call(node, :worker, :enqueue,
        // [opts])`); not a tuple's first atom.
        let rpc = ":rpc.call(node, :ls_worker, :enqueue, [opts])\n{:ls_worker, :enqueue, [opts]}\n:rpc.call(node, :other, :enqueue, [opts])\n";
        let scope = Scope { text: rpc, ..scope };
        let at = |symbol: &str| lines_in(rpc, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at(":ls_worker.enqueue/1"), vec![10]);
    }

    /// A doc's interpolations run as the module compiles (Sentry's `#{Sentry.Config.
    /// docs()}` in its moduledoc), as the chunker counts them: their lines call. Not an
    /// example's call, nor an uppercase sigil's `#{…}`, which is text.
    #[test]
    fn a_docs_interpolation_is_a_call_line() {
        let src = "@moduledoc \"\"\"\n  start with #{__MODULE__.start_link(opts)}\n  iex> __MODULE__.start_link(opts)\n  \"\"\"\n@doc ~S\"\"\"\n  #{__MODULE__.start_link(opts)}\n  \"\"\"\ndef go(opts), do: __MODULE__.start_link(opts)\n";
        let scope = Scope {
            module: "Cluster.Strategy.Epmd",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Cluster.Strategy.Epmd.start_link/1"), vec![11, 17]);
    }

    /// A `defdelegate` calls the function it delegates to on its line (or the line
    /// with its `to:`), by its name or its `as:`, at its arity.
    #[test]
    fn a_delegate_calls_where_it_is_written() {
        let src = concat!(
            "defdelegate repo(resource), to: Info\n",
            "defdelegate table(resource),\n",
            "  to: Info\n",
            "defdelegate fetch(r, opts), to: Info, as: :repo\n",
            "defdelegate repo(a, b), to: Other\n",
            "defdelegate warn(v), to: @shell, as: :repo\n",
            "defdelegate fetch(resource, opts),\n",
            "  to: Info,\n",
            "  as: :repo\n",
        );
        let scope = Scope {
            module: "AshPostgres",
            aliases: [("Info", "AshPostgres.DataLayer.Info")].into(),
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("AshPostgres.DataLayer.Info.repo/1"), vec![10, 15]);
        assert_eq!(at("AshPostgres.DataLayer.Info.table/1"), vec![11]);
        assert_eq!(at("AshPostgres.DataLayer.Info.repo/2"), vec![13, 16]);
    }

    /// A doc computed by code (`@moduledoc Credo.Check.__build_moduledoc__(…)` in a
    /// quote) calls on its line; a doc's text does not.
    #[test]
    fn a_computed_doc_calls_on_its_line() {
        let src = "@moduledoc Credo.Check.__build_moduledoc__(id, opts)\n@doc \"Credo.Check.__build_moduledoc__(x)\"\n";
        let scope = Scope {
            module: "Credo.Check",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Credo.Check.__build_moduledoc__/2"), vec![10]);
        assert!(doc_is_text("\"A doc.\""));
        assert!(doc_is_text("\"\"\""));
        assert!(doc_is_text("~S\"\"\""));
        assert!(doc_is_text("false"));
        assert!(doc_is_text("since: \"1.0\""));
        assert!(!doc_is_text(
            "\"README.md\" |> File.read!() |> Enum.fetch!(1)"
        ));
        assert!(!doc_is_text("build_doc()"));
        assert!(!doc_is_text("File.read!(\"README.md\")"));
        assert!(!doc_is_text("__MODULE__.Docs.long_doc()"));
    }

    /// A server's message reaches its callback at the callback's arity only: a
    /// `handle_call/4` helper is no callback (Credo's `ETSTableHelper`).
    #[test]
    fn a_message_reaches_the_callback_arity_only() {
        let src = "GenServer.call(__MODULE__, {:put, 1})\nETSTableHelper.handle_call(t, msg, from, state)\n";
        let scope = Scope {
            module: "Credo.Service.ETSTableHelper",
            aliases: [("ETSTableHelper", "Credo.Service.ETSTableHelper")].into(),
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Credo.Service.ETSTableHelper.handle_call/4"), vec![11]);
        assert_eq!(at("Credo.Service.ETSTableHelper.handle_call/3"), vec![10]);
    }

    /// A function an import's `except:` leaves out is not called bare: Mint's
    /// `import Mint.HTTP2.Frame, except: [inspect: 1]` leaves `inspect(x)` to `Kernel`.
    #[test]
    fn an_import_except_leaves_a_bare_name_to_kernel() {
        let src = "log(Frame.inspect(frame))\nlog(\"#{inspect(info)}\")\ndecode(frame)\n";
        let imports = ["Mint.HTTP2.Frame".to_string()];
        let filters = [crate::chunk::ImportFilter {
            module: "Mint.HTTP2.Frame".to_string(),
            except: true,
            names: vec!["inspect/1".to_string(), "encode/1".to_string()],
            select: None,
        }];
        let scope = Scope {
            module: "Mint.HTTP2",
            aliases: [("Frame", "Mint.HTTP2.Frame")].into(),
            imports: &imports,
            import_filters: &filters,
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Mint.HTTP2.Frame.inspect/1"), vec![10]);
        assert_eq!(at("Mint.HTTP2.Frame.decode/1"), vec![12]);
    }

    /// NimbleOptions' `{:custom, Mod, :fun, args}` calls `fun` with the option's value
    /// before `args`: one more argument than its list.
    #[test]
    fn a_custom_option_type_calls_with_one_more_argument() {
        let src = "@schema [\n  type: [type: {:custom, __MODULE__, :validate_type, []}],\n  other: [type: {:custom, __MODULE__, :validate_type, [:x]}]\n]\n";
        let scope = Scope {
            module: "NimbleOptions",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("NimbleOptions.validate_type/1"), vec![11]);
        assert_eq!(at("NimbleOptions.validate_type/2"), vec![12]);
    }

    /// A call without parentheses heading its line passes the arguments it writes, and
    /// its `do` block (school_house's router: `plug :x, args` is `plug/2`, `scope
    /// "/:locale" do` is `scope/2`).
    #[test]
    fn a_call_without_parentheses_passes_what_it_writes() {
        let src = "plug :accepts, [\"html\"]\nplug :fetch_session\nscope \"/\", SchoolHouseWeb do\nscope \"/:locale\" do\nplug Plug.Static,\n";
        let scope = Scope {
            module: "SchoolHouseWeb.Router",
            unqualified: vec![("plug", None), ("scope", None)],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Phoenix.Router.plug/2"), vec![10, 14]);
        assert_eq!(at("Phoenix.Router.plug/1"), vec![11]);
        assert_eq!(at("Phoenix.Router.scope/3"), vec![12]);
        assert_eq!(at("Phoenix.Router.scope/2"), vec![13]);
    }

    /// `Mod.name` without parentheses or arguments passes none (`TestServer.start` is
    /// `start/0`, not `start/1`); a pipe ending the line before passes its value to the
    /// call heading the next (ExCoveralls' `Cover.modules() |>` then `Stats.report() |>`).
    #[test]
    fn a_remote_name_alone_passes_nothing_and_a_trailing_pipe_passes_one() {
        let src = "a = TestServer.start\nTestServer.start(true)\nTestServer.start |> elem(1)\nCover.modules() |>\n  Stats.report() |>\n  Enum.map(&f/1)\n";
        let scope = Scope {
            module: "BasicTest",
            aliases: [("TestServer", "BasicTest.TestServer")].into(),
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("BasicTest.TestServer.start/0"), vec![10, 12]);
        assert_eq!(at("BasicTest.TestServer.start/1"), vec![11]);
        assert_eq!(at("Stats.report/1"), vec![14]);
        assert_eq!(at("Stats.report/0"), Vec::<u32>::new());
    }

    /// A macro imported by a `use` in a test's body, given a negation (`while not
    /// is_pid(x) do`), is called there; `x not in xs` calls no `x`.
    #[test]
    fn a_bare_call_given_a_negation_is_a_call() {
        let src = "while not is_pid(pid) do\nif name not in names do\n";
        let scope = Scope {
            module: "CliTest",
            unqualified: vec![("while", Some(2)), ("name", None)],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("LanguageExtensions.While.while/2"), vec![10]);
        assert_eq!(at("Names.name/1"), Vec::<u32>::new());
    }

    /// A call through a module chosen at run time calls, on its line, the callback the
    /// graph took it for (`http_client().get(url)` of `Tzdata.HTTPClient.get/3`); not
    /// where the module is written and is another.
    #[test]
    fn a_call_through_a_runtime_module_is_on_its_line() {
        let src = "{:ok, body} = http_client().get(url, [], [])\nOther.get(url, [], [])\nstate.client.get(url, [], [])\n";
        let scope = Scope {
            module: "Tzdata.DataLoader",
            runtime: vec![("get", Some(3))],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Tzdata.HTTPClient.get/3"), vec![10, 12]);
        // Not the function the chunk is (a behaviour's own callback, declared in the
        // module, still is).
        assert_eq!(at("Tzdata.DataLoader.get/3"), vec![10, 12]);
        assert_eq!(at("Tzdata.HTTPClient.get/2"), Vec::<u32>::new());
        let own = Scope {
            module: "Tzdata.DataLoader",
            runtime: vec![("get", Some(3))],
            defined: vec![("get", vec![3])],
            text: src,
            ..Scope::default()
        };
        let at_own = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &own);
        assert_eq!(at_own("Tzdata.DataLoader.get/3"), Vec::<u32>::new());
        // A module the chunk calls the name of by writing it: its own line only.
        let scope = Scope {
            written_calls: vec!["Other.get/3"],
            ..scope
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Other.get/3"), vec![11]);
        // A dependency's function of the name (`FileSystem.subscribe/1`, kept as
        // written) is not the aliased module's the chunk also writes.
        let src = "FileSystem.subscribe(:monitor)\nWebConsoleLogger.subscribe(@logs)\n";
        let scope = Scope {
            module: "Phoenix.LiveReloader.Channel",
            aliases: [("WebConsoleLogger", "Phoenix.LiveReloader.WebConsoleLogger")].into(),
            written_calls: vec![
                "FileSystem.subscribe/1",
                "Phoenix.LiveReloader.WebConsoleLogger.subscribe/1",
            ],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(
            at("Phoenix.LiveReloader.WebConsoleLogger.subscribe/1"),
            vec![11]
        );
        // An `apply` the module is piped into (Ueberauth's `strategy |>
        // apply(:handle_callback!, [conn])`), on its line.
        let src = "strategy\n|> apply(:handle_callback!, [conn])\n|> apply(:other, [conn])\n";
        let scope = Scope {
            module: "Ueberauth.Strategy",
            runtime: vec![("handle_callback!", Some(1))],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Ueberauth.Strategy.handle_callback!/1"), vec![11]);
        // A bare `send(pid, msg)` beside `apply(transport, :send, …)` is Kernel's
        // (Tortoise311's `Inflight`).
        let src = "send(pid, {:error, :terminating})\napply(transport, :send, [socket, data])\n";
        let scope = Scope {
            module: "Tortoise311.Inflight",
            runtime: vec![("send", Some(2))],
            unqualified: vec![("send", Some(2))],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Tortoise311.Transport.send/2"), vec![11]);
    }

    /// A Phoenix controller renders through the view named after it, on its `render`
    /// lines; `render_many` and `render_one` through the view they name.
    #[test]
    fn a_controller_and_render_many_render_through_their_views() {
        let src = "def index(conn, _params) do\n  render(conn, \"index.json\", tags: tags)\nend\n";
        let scope = Scope {
            module: "ChatApiWeb.TagController",
            text: src,
            ..Scope::default()
        };
        let at = |src: &str, symbol: &str, scope: &Scope<'_>| {
            lines_in(src, &Callee::of(symbol).unwrap(), scope)
        };
        assert_eq!(at(src, "ChatApiWeb.TagView.render/2", &scope), vec![11]);
        assert_eq!(
            at(src, "ChatApiWeb.UserView.render/2", &scope),
            Vec::<u32>::new()
        );
        let view = "def render(\"index.json\", %{tags: tags}) do\n  %{data: render_many(tags, ConversationView, \"basic.json\")}\nend\n";
        let scope = Scope {
            module: "ChatApiWeb.CustomerView",
            aliases: [("ConversationView", "ChatApiWeb.ConversationView")].into(),
            text: view,
            ..Scope::default()
        };
        assert_eq!(
            at(view, "ChatApiWeb.ConversationView.render/2", &scope),
            vec![11]
        );
    }

    /// A `Supervisor.Spec` child starts its module's `start_link` with its list's
    /// arguments (Verk's `worker(QueueManager, [name, size], id: name)`).
    #[test]
    fn a_supervisor_spec_worker_starts_on_its_line() {
        let src = "worker(QueueManager, [queue_manager, name], id: queue_manager),\nsupervisor(Verk.Queue.Supervisor, [queue]),\nworker(Other, [a, b])\n";
        let scope = Scope {
            module: "Verk.QueueSupervisor",
            aliases: [("QueueManager", "Verk.QueueManager")].into(),
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Verk.QueueManager.start_link/2"), vec![10]);
        assert_eq!(at("Verk.QueueManager.start_link/1"), Vec::<u32>::new());
        assert_eq!(at("Verk.Queue.Supervisor.start_link/1"), vec![11]);
    }

    /// A call through an alias a `use` makes (`Routes.conversation_path(conn, :show)`,
    /// kept as written by the chunker) is on its line; a bare call of an imported
    /// function is on its line though a doc names the function with its module.
    #[test]
    fn calls_through_a_use_alias_and_beside_a_docs_reference_are_on_their_lines() {
        let imports = ["Tds.TestHelper".to_string()];
        let src = "@doc \"Uses `ChatApiWeb.ErrorHelpers.translate_error/1`.\"\ndef f(conn, changeset) do\n  Routes.conversation_path(conn, :show, 1)\n  traverse_errors(changeset, &translate_error/1)\nend\n";
        let scope = Scope {
            module: "ChatApiWeb.ChangesetView",
            // Imported through the `use ChatApiWeb, :view` quote: the chunk saw it bare.
            unqualified: vec![("translate_error", Some(1))],
            written_calls: vec!["Routes.conversation_path/3"],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(
            at("ChatApiWeb.Router.Helpers.conversation_path/3"),
            vec![12]
        );
        assert_eq!(at("ChatApiWeb.ErrorHelpers.translate_error/1"), vec![13]);
        // A capture written apart from its name (Vapor's `Enum.map(& normalize_error/1)`).
        let apart = "x = 1\n|> Enum.map(& translate_error/1)\ny = a && translate_error/1\n";
        let scope = Scope {
            text: apart,
            ..scope
        };
        let at = |symbol: &str| lines_in(apart, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("ChatApiWeb.ErrorHelpers.translate_error/1"), vec![11]);
        // Another module's call kept as written is no line of a function of the name.
        let stats = "count = Enum.count(list)\nStats.count(list)\n";
        let scope = Scope {
            module: "MyApp.Report",
            aliases: [("Stats", "MyApp.Stats")].into(),
            written_calls: vec!["Enum.count/1", "MyApp.Stats.count/1"],
            text: stats,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(stats, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("MyApp.Stats.count/1"), vec![11]);
        // A library's module written beside the module's own function of the name (or an
        // imported one) calls the library's: `DBConnection.execute(…)` is no line of the
        // adapter's `execute/4`, `Tds.query(…)` none of the imported `query/3`.
        let src = "DBConnection.execute(conn, q, p, o)\nexecute(conn, s, p, o)\nTds.query(conn, s, [])\nquery(s, [], [])\n";
        let scope = Scope {
            module: "Ecto.Adapters.SQLite3.Connection",
            imports: &imports,
            unqualified: vec![("query", Some(3))],
            written_calls: vec!["DBConnection.execute/4", "Tds.query/3"],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Ecto.Adapters.SQLite3.Connection.execute/4"), vec![11]);
        assert_eq!(at("Tds.TestHelper.query/3"), vec![13]);
    }

    /// A module interpolated in a string (`id: :"#{__MODULE__}_#{id}"`) starts nothing;
    /// the child spec's `start:` beside it does.
    #[test]
    fn an_interpolated_module_is_no_child() {
        let src = "id: :\"#{__MODULE__}_#{Keyword.fetch!(arg, :car).id}\",\nstart: {__MODULE__, :start_link, [arg]}\n";
        let scope = Scope {
            module: "TeslaMate.Vehicles.Vehicle",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("TeslaMate.Vehicles.Vehicle.start_link/1"), vec![11]);
    }

    /// A stack frame's `{Mod, :fun, arity, location}` calls nothing (Honeybadger's
    /// tests' stacktraces); `{Mod, :fun, [args]}` given to be run does.
    #[test]
    fn a_stack_frame_is_no_call_line() {
        let src = "stacktrace = [{Honeybadger.Notice, :new, 4, [file: ~c\"lib/n.ex\", line: 42]}]\nchild = {Honeybadger.Notice, :new, [a, b, c, d]}\n";
        let scope = Scope {
            module: "Honeybadger.NoticeTest",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Honeybadger.Notice.new/4"), vec![11]);
    }

    /// A sigil calls its macro where it is written (`~M[1000]`, a `~M"""` heredoc), as
    /// the chunker counts it; not where another sigil or a name merely starts alike.
    #[test]
    fn a_sigil_is_a_call_of_its_macro() {
        let src =
            "a = ~M[1000]\nx = ~M\"\"\"\n  12\n\"\"\"\ny = ~Mx(1) <> ~m[2]\nsigil_M(\"1\", [])\n";
        let scope = Scope {
            module: "MoneyTest",
            unqualified: vec![("sigil_M", Some(2))],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Money.Sigils.sigil_M/2"), vec![10, 11, 15]);
    }

    /// A layout Phoenix renders, named by its module and function, is a call of its
    /// component (`plug :put_root_layout, html: {Layouts, :root}` of `root/1`).
    #[test]
    fn a_layout_named_by_module_and_function_calls_its_component() {
        let src = "plug :put_root_layout, html: {Layouts, :root}\nuse Phoenix.LiveView, layout: {Layouts, :app}\nplug :put_layout, false\n";
        let scope = Scope {
            module: "PhxWeb.Router",
            aliases: [("Layouts", "PhxWeb.Layouts")].into(),
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("PhxWeb.Layouts.root/1"), vec![10]);
        assert_eq!(at("PhxWeb.Layouts.app/1"), vec![11]);
    }

    /// An argument that is a call without parentheses takes the commas after it (StreamData's
    /// `check all x <- g, y <- h do` is `check/2`, `gen(all b <- boolean(), do: :ok)` is
    /// `gen/1`); an operator after a name is no call (`assert x == y, "m"`).
    #[test]
    fn an_argument_called_without_parentheses_takes_the_commas_after_it() {
        let src = "check all x <- g, y <- h do\ncheck all x <- g, y <- h, max_runs: 5 do\ngen(all b <- boolean(), do: :ok)\nassert x == y, \"m\"\ncheck x, y do\n";
        let scope = Scope {
            module: "StreamDataTest",
            unqualified: vec![("check", None), ("gen", None), ("assert", None)],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("ExUnitProperties.check/2"), vec![10, 11]);
        assert_eq!(at("ExUnitProperties.check/3"), vec![14]);
        assert_eq!(at("ExUnitProperties.gen/1"), vec![12]);
        assert_eq!(at("ExUnit.Assertions.assert/2"), vec![13]);
    }

    /// A call without parentheses heading a condition is a call (bors's templates:
    /// `<%= if empty? @patches do %>`); a variable there is none.
    #[test]
    fn a_call_without_parentheses_in_a_condition_is_a_call() {
        let src = "if empty? @patches do\nunless empty? x do\nif empty do\nx = not empty? y\nif empty? && x do\n";
        let scope = Scope {
            module: "BorsNG.PageView",
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("BorsNG.PageView.empty?/1"), vec![10, 11, 13]);
        assert_eq!(at("BorsNG.PageView.empty/0"), Vec::<u32>::new());
    }

    /// A bare call beside a call of the same name written with a module is another
    /// module's (Accent's controllers: `Context.assign(…)` and `use Plug.Builder`'s
    /// imported `assign(conn, …)`; realtime's tests: `Realtime.Database.connect(…)` and
    /// Phoenix.ChannelTest's `connect(…)`); alone, it may be this one's through an import
    /// a `use` makes.
    #[test]
    fn a_bare_call_beside_the_qualified_one_is_another_modules() {
        let src = "context = Context.assign(context, :comparer, comparer)\nassign(conn, :movement_context, context)\n";
        let scope = Scope {
            module: "Accent.MergeController",
            aliases: [("Context", "Movement.Context")].into(),
            unqualified: vec![("assign", Some(3))],
            text: src,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Movement.Context.assign/3"), vec![10]);
        let alone = "assign(conn, :movement_context, context)\n";
        let scope = Scope {
            text: alone,
            ..scope
        };
        let at = |symbol: &str| lines_in(alone, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Movement.Context.assign/3"), vec![10]);
    }

    /// A supervisor starts a child through its `start_link/1`: the child's module written
    /// alone in a children list, first in a tuple or as the argument of a function that
    /// starts children is that call; the module in a struct, a call, an alias, a pattern,
    /// a guard, a longer name, a spec's `id:` or another function's arguments is not.
    #[test]
    fn a_supervisors_child_is_a_call_of_its_start_link() {
        let src = r#"def init(opts) do
  children = [
    Config,
    {Registry, keys: :unique, name: Config.Registry},
    {Config, opts},
    Supervisor.child_spec(Config, id: :second),
    %Config{},
    Config.get(:x),
    MyConfig,
  ]
  DynamicSupervisor.start_child(sup, {Config, opts})
  children = [Config.Store, Other]
  Supervisor.init(children, strategy: :one_for_one)
  spec = Config.child_spec(opts) |> Map.put(:restart, :temporary)
  %{id: {Config, opts}, start: {Config, :start_link, [opts]}}
  %{
    id: {Config, opts},
  }
  start_supervised!(Config)
  config = Application.get_env(:app, Config)
  GenServer.call(Config, :get)
  :sys.get_state(Config)
  apply(Config, :reload, [])
  Task.Supervisor.start_child(sup, Config, :refresh, [])
  for {Config, pid, _, _} <- Supervisor.which_children(sup), do: pid
  {Config, pid} = hd(list)
  if mod in [Config, Other], do: :ok
  %{start: {Config, :other, []}}
  name = Module.concat([name, Config])
  alias App.{
    Config,
    Other
  }
end"#;
        assert_eq!(
            lines(src, "App.Config.start_link/1"),
            vec![12, 14, 15, 20, 23, 24, 28]
        );
        // A spec's `start:` calls `start_link`, never `child_spec/1`.
        assert_eq!(
            lines(src, "App.Config.child_spec/1"),
            vec![12, 14, 15, 20, 23, 28]
        );
        assert_eq!(
            lines(src, "App.Config.start_link"),
            lines(src, "App.Config.start_link/1")
        );
        // Other functions and arities of the module are not called by naming it.
        assert_eq!(lines(src, "App.Config.stop/1"), Vec::<u32>::new());
        assert_eq!(lines(src, "App.Config.start_link/2"), Vec::<u32>::new());
    }

    #[test]
    fn calls_are_found_by_every_form_elixir_writes() {
        let src = r#"def run(message, opts) do
  x = Message.failed(message, :oops)
  y = message |> failed(:oops)
  z = message |> failed
  Enum.map(list, &failed/1)
  Enum.map(list, &Message.failed(&1, :x))
  failed message, :reason
  w = failed message
end"#;
        // All but `&failed/1`, another arity.
        assert_eq!(
            lines(src, "Broadway.Message.failed/2"),
            vec![11, 12, 13, 15, 16, 17]
        );
    }

    #[test]
    fn strings_comments_heredocs_keys_atoms_and_specs_are_not_calls() {
        let src = r#"@doc """
Calls failed(message) when it fails.
"""
@spec failed(Message.t(), term) :: Message.t()
def failed(message, reason) do
  # failed(message) is called here
  Logger.info("failed(#{inspect(message)})")
  opts = [failed: true, mode: :failed]
  message.failed_reason
  failed_count(message)
  unfailed(message)
  failed?(message)
end"#;
        assert!(
            lines(src, "M.failed/2").is_empty(),
            "{:?}",
            lines(src, "M.failed/2")
        );
        // The interpolation is code.
        assert_eq!(lines(src, "Kernel.inspect/1"), vec![16]);
    }

    #[test]
    fn a_recursive_call_counts_and_its_own_head_does_not() {
        let src =
            "def walk([h | t], acc) do\n  walk(t, [h | acc])\nend\ndefp walk(x), do: walk(x, [])\n";
        assert_eq!(lines(src, "M.walk/2"), vec![11, 13]);
    }

    #[test]
    fn a_module_is_called_by_its_functions_and_its_struct() {
        let src = "alias Ecto.Changeset\n@spec f(Changeset.t()) :: term\ndef f(x) do\n  %Changeset{} = Changeset.cast(x, %{}, [])\n  Ecto.Changeset.apply_changes(x)\n  ChangesetX.go(x)\nend\n";
        assert_eq!(lines(src, "Ecto.Changeset"), vec![13, 14]);
    }

    #[test]
    fn plugs_and_multi_byte_text_are_read() {
        let src = "plug :auth\n  \"héllo wörld\" <> auth(conn, [])\n  x = \"é\" # auth(conn, [])\n";
        assert_eq!(lines(src, "MyWeb.Router.auth/2"), vec![10, 11]);
    }

    #[test]
    fn strings_sigils_and_interpolations_over_several_lines() {
        let src = "Logger.info(\"first line\n  #{SafeLog.safe_inspect(opts)} safe_inspect(x)\n  done\")\nx = ~r/\"safe_inspect(/\nsafe_inspect(y)\ny = ~w(a safe_inspect(b)\n  c)\nz = ~S\"\"\"\nsafe_inspect(q)\n\"\"\"\n";
        assert_eq!(lines(src, "Glific.SafeLog.safe_inspect/1"), vec![11, 14]);
    }

    /// A route's line is where it calls its controller's action, its LiveView's `mount/3`
    /// or its plug; `plug(:fun)` and `pipe_through` lists are plug calls; a route macro
    /// written `delete(…)` is no call of a controller's `delete/2` (nerves_hub_web's router).
    #[test]
    fn a_route_line_calls_its_action() {
        let src = "pipe_through([:browser, :require_user, ServerAuth])\nget(\"/logout\", SessionController, :delete)\ndelete(\"/penalty\", DeviceController, :penalty)\nlive(\"/orgs\", Index)\nresources \"/keys\", KeyController, only: [:index]\nmatch :*, \"/x\", SessionController, :delete_all\nplug(:get_current_user)\nget \"/openapi\", OpenApiSpec, []\n";
        let scope = Scope {
            module: "NervesHubWeb.Router",
            aliases: [("Index", "Live.Orgs.Index")].into(),
            imports: &[],
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("NervesHubWeb.SessionController.delete/2"), vec![11]);
        assert_eq!(at("NervesHubWeb.SessionController.delete_all/2"), vec![15]);
        assert_eq!(at("NervesHubWeb.DeviceController.penalty/2"), vec![12]);
        assert_eq!(
            at("NervesHubWeb.DeviceController.delete/2"),
            Vec::<u32>::new()
        );
        assert_eq!(at("NervesHubWeb.Live.Orgs.Index.mount/3"), vec![13]);
        assert_eq!(at("NervesHubWeb.Index.mount/3"), Vec::<u32>::new());
        assert_eq!(at("NervesHubWeb.KeyController.index/2"), vec![14]);
        assert_eq!(at("NervesHubWeb.Router.get_current_user/2"), vec![16]);
        assert_eq!(at("NervesHubWeb.Router.require_user/2"), vec![10]);
        // Another module's function of a plug's name is not plugged.
        assert_eq!(
            at("NervesHubWeb.UserController.require_user/2"),
            Vec::<u32>::new()
        );
        assert_eq!(at("NervesHubWeb.Plugs.ServerAuth.call/2"), vec![10]);
        assert_eq!(at("NervesHubWeb.Plugs.ServerAuth.init/1"), vec![10]);
        assert_eq!(at("NervesHubWeb.OpenApiSpec.call/2"), vec![17]);
        assert_eq!(at("NervesHubWeb.OpenApiSpec.init/1"), vec![17]);
        // Another module's function of a plug's name is not plugged when the code names
        // that module; one a `use` imports is.
        let routed = "pipe_through(:webhook)\npost(\"/\", WebhookController, :webhook)\nplug :fetch_session\n";
        let bors = Scope {
            module: "BorsNG.Router",
            unqualified: vec![("webhook", None), ("fetch_session", None), ("delete", None)],
            text: routed,
            ..Scope::default()
        };
        let on = |symbol: &str| lines_in(routed, &Callee::of(symbol).unwrap(), &bors);
        assert_eq!(on("BorsNG.WebhookController.webhook/2"), vec![11]);
        assert_eq!(on("BorsNG.Router.webhook/2"), vec![10]);
        assert_eq!(on("Phoenix.Controller.fetch_session/2"), vec![12]);
        // A route without parentheses is no call of an action of its verb's name, and
        // `resources` calls the actions its `only:` and `except:` leave.
        let routes = "delete \"/penalty\", DeviceController, :penalty\nresources \"/keys\", KeyController, only: [:index, :show]\nresources \"/ids\", IdController, except: [:delete]\n";
        let on = |symbol: &str| lines_in(routes, &Callee::of(symbol).unwrap(), &bors);
        assert_eq!(on("BorsNG.DeviceController.delete/2"), Vec::<u32>::new());
        assert_eq!(on("BorsNG.DeviceController.penalty/2"), vec![10]);
        assert_eq!(on("BorsNG.KeyController.show/2"), vec![11]);
        assert_eq!(on("BorsNG.KeyController.edit/2"), Vec::<u32>::new());
        // An imported function of a verb's name, given a path and no controller, is
        // called (Tentacat's `get("app", client)`, AshJsonApi's test helpers).
        let client = "get(\"app\", client)\n|> post(\"/posts\", %{a: 1}, status: 201)\ndelete \"/x\", OtherController, :x\nget \"/h\" do\nput(\"/esc\\\"aped\", c)\n|> get(\"/posts\",\n  status: 200\n)\n";
        let imported = Scope {
            module: "Tentacat.App",
            unqualified: vec![
                ("get", None),
                ("post", None),
                ("delete", None),
                ("put", None),
            ],
            text: client,
            ..Scope::default()
        };
        let called = |symbol: &str| lines_in(client, &Callee::of(symbol).unwrap(), &imported);
        assert_eq!(called("Tentacat.get/2")[0], 10);
        // Piped into, with its options below (its arity not known on the line).
        assert!(called("Tentacat.get/3").contains(&15));
        assert_eq!(called("Tentacat.post/4"), vec![11]);
        assert_eq!(called("Tentacat.delete/3"), Vec::<u32>::new());
        assert_eq!(called("Tentacat.put/2"), vec![14]);
        // Absinthe's `batch({__MODULE__, :fun}, …)` calls `fun/2` (Accent's resolvers).
        let batched =
            "batch({__MODULE__, :from_ids}, ids, fn r -> {:ok, r} end)\nplug(:from_ids)\n";
        let scope = Scope {
            module: "Accent.Resolvers",
            text: batched,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(batched, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Accent.Resolvers.from_ids/2"), vec![10, 11]);
        assert_eq!(at("Accent.Other.from_ids/2"), Vec::<u32>::new());
        // Absinthe's middleware `{{Resolver, :mutate}, config}` calls `mutate/2`
        // (AshGraphql's fields); a pair of pairs is no call.
        let middleware = "middleware: [{{Accent.Resolvers, :mutate}, {domain, resource}}]\n{{Accent.Resolvers, :mutate, 1}, x}\n";
        let scope = Scope {
            module: "Accent.Schema",
            text: middleware,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(middleware, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Accent.Resolvers.mutate/2"), vec![10]);
        // An atom in a plug's options is no plug (bytepack's router).
        let layouts =
            "plug :put_root_layout, {LayoutView, :landing}\npipe_through [:browser, :landing]\n";
        let laid = |symbol: &str| lines_in(layouts, &Callee::of(symbol).unwrap(), &bors);
        assert_eq!(laid("BorsNG.Router.landing/2"), vec![11]);
        assert_eq!(laid("BorsNG.Router.put_root_layout/2"), vec![10]);
        assert_eq!(on("BorsNG.IdController.edit/2"), vec![12]);
        assert_eq!(on("BorsNG.IdController.delete/2"), Vec::<u32>::new());
        // A route written over several lines calls at its first.
        let src = "live(\n  \"/devices/:id/health\",\n  Live.Devices.Show,\n  :health\n)\nplug(\n  Plug.Parsers,\n  parsers: [:json]\n)\nlive(\"/x\",\n  Other)\n";
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("NervesHubWeb.Live.Devices.Show.mount/3"), vec![10]);
        assert_eq!(at("Plug.Parsers.call/2"), vec![15]);
        assert_eq!(at("Plug.Parsers.init/1"), vec![15]);
        assert_eq!(at("NervesHubWeb.Other.mount/3"), vec![19]);
        assert_eq!(
            at("NervesHubWeb.Live.Devices.Index.mount/3"),
            Vec::<u32>::new()
        );
    }

    /// An exception's `exception/1` is called where it is raised.
    #[test]
    fn an_exception_is_called_where_it_is_raised() {
        let src = "raise ParentError, \"bad\"\nraise(ParentError)\nreraise ParentError,\nraise \"ParentError\"\nraise Other\nx.raise ParentError\n";
        let scope = Scope {
            module: "Membrane.ChildrenSpec",
            aliases: [("ParentError", "Membrane.ParentError")].into(),
            ..Scope::default()
        };
        let exception = Callee::of("Membrane.ParentError.exception/1").unwrap();
        assert_eq!(lines_in(src, &exception, &scope), vec![10, 11, 12]);
    }

    /// A struct's `__struct__/0` is called where the struct is built, updated or matched.
    #[test]
    fn a_struct_is_built_where_its_struct_function_is_called() {
        let src = "def run(conn) do\n  %Plug.Conn{conn | halted: true}\n  %Conn{} = conn\n  Conn.assign(conn, :a, 1)\n  %ConnX{}\n  struct!(Conn, a: 1)\n  x.struct(Conn)\nend\n";
        let scope = Scope {
            module: "BorsNG.WebhookParserPlug",
            aliases: [("Conn", "Plug.Conn")].into(),
            ..Scope::default()
        };
        let structure = Callee::of("Plug.Conn.__struct__/0").unwrap();
        assert_eq!(lines_in(src, &structure, &scope), vec![11, 12, 15]);
    }

    /// A function component is called where a template renders it: `<.button` (imported,
    /// or the module's own), `<CoreComponents.button`; not where its tag closes, nor a
    /// slot, nor a longer name.
    #[test]
    fn a_component_is_called_where_it_is_rendered() {
        let src = "# <.button> in a comment\n~H\"\"\"\n<div>\n  <.button style=\"primary\">Go</.button>\n  <.button_group>\n  </.button>\n  <:actions>x</:actions>\n  <CoreComponents.button\n  <.icon name=\"x\"/><.button/>\n\"\"\"\n";
        let scope = Scope {
            module: "NervesHubWeb.Components.Sidebar",
            imports: &["NervesHubWeb.CoreComponents".to_string()],
            aliases: [("CoreComponents", "NervesHubWeb.CoreComponents")].into(),
            ..Scope::default()
        };
        let button = Callee::of("NervesHubWeb.CoreComponents.button/1").unwrap();
        assert_eq!(lines_in(src, &button, &scope), vec![13, 17, 18]);
        let other = Callee::of("Other.CoreComponents.button/1").unwrap();
        assert_eq!(lines_in(src, &other, &scope), Vec::<u32>::new());
        let two = Callee::of("NervesHubWeb.CoreComponents.button/2").unwrap();
        assert_eq!(lines_in(src, &two, &scope), Vec::<u32>::new());
    }

    /// A template calls a function in an attribute's expression and in an EEx tag: the
    /// lines of a `~H` heredoc whose code is blank are read there, not in their text.
    #[test]
    fn a_template_calls_in_its_attributes_and_tags() {
        let src = "~H\"\"\"\n<.link phx-click={show_modal(\"new\")}>New</.link>\n<p>show_modal(\"text\")</p>\n<button phx-click={JS.push(\"x\") |> hide_modal(\"m\")}>\n<%= show_modal(\"old\") %>\n<p title={@show_modal}>x</p>\n\"\"\"\n";
        let scope = Scope {
            module: "LiveBeatsWeb.ProfileLive",
            imports: &["LiveBeatsWeb.CoreComponents".to_string()],
            ..Scope::default()
        };
        let show = Callee::of("LiveBeatsWeb.CoreComponents.show_modal/1").unwrap();
        assert_eq!(lines_in(src, &show, &scope), vec![11, 14]);
        // A doc's example is no call.
        let doc =
            "@doc \"\"\"\n    <.link phx-click={show_modal(\"new\")}>\n\"\"\"\ndef f, do: 1\n";
        assert!(lines_in(doc, &show, &scope).is_empty());
        let hide = Callee::of("LiveBeatsWeb.CoreComponents.hide_modal/2").unwrap();
        assert_eq!(lines_in(src, &hide, &scope), vec![13]);
    }

    /// A template's markup opens no string: after an apostrophe in its text (`Stripe's`)
    /// or inside an attribute's quotes (`href="<%= url() %>"`), its `{…}` expressions and
    /// EEx tags still call, in a template file and in a `~H` heredoc; its `<script>`, a
    /// comment and a quoted attribute value do not.
    #[test]
    fn a_templates_markup_opens_no_string() {
        let heex = "<div>{helper(\"a\")}</div>\n<p>in Stripe's new portal</p>\n<div>{helper(\"b\")}</div>\n<a href=\"<%= helper(\"d\") %>\">x</a>\n<script>\n  let x = {helper: 1}; helper(2)\n</script>\n<div :for={x <- xs}\n  title=\"helper(3)\">\n  {helper(\n    x)}\n</div>\n<%# helper(4) %>\n";
        let scope = Scope {
            module: "MyWeb.FooLive",
            template: Some(true),
            ..Scope::default()
        };
        let helper = Callee::of("MyWeb.FooLive.helper/1").unwrap();
        assert_eq!(lines_in(heex, &helper, &scope), vec![10, 12, 13, 19]);
        // An `.eex` file reads no `{…}`; its quotes and apostrophes are markup.
        let eex = "<p>We'll see</p>\n<a href=\"<%= helper(\"d\") %>\">{helper(x)}</a>\nfetch(\"<%= helper(:create) %>\", init)\n";
        let scope = Scope {
            template: Some(false),
            ..scope
        };
        assert_eq!(lines_in(eex, &helper, &scope), vec![11, 12]);
        // A `~H` heredoc's text, after an apostrophe as before it.
        let sigil = "def render(assigns) do\n  ~H\"\"\"\n  <p>{helper(\"a\")}</p>\n  <p>Stripe's portal</p>\n  <p>{helper(\"b\")}</p>\n  <a href={helper(\"c\")}>x</a>\n  \"\"\"\nend\nhelper(\"e\")\n";
        let scope = Scope {
            template: None,
            ..scope
        };
        assert_eq!(lines_in(sigil, &helper, &scope), vec![12, 14, 15, 18]);
    }

    /// A part of a function that starts inside its `~H` heredoc reads its lines as the
    /// template's: an apostrophe in the text opens no string, and the closing `"""`
    /// ends it.
    #[test]
    fn a_part_starting_inside_a_template_reads_it_as_one() {
        let part = "    <p>Stripe's portal</p>\n    <p>{helper(\"a\")}</p>\n    \"\"\"\n  end\n  def x, do: helper(\"b\")\n";
        let scope = Scope {
            module: "MyWeb.FooLive",
            opens_in: Some((true, HEREDOC)),
            ..Scope::default()
        };
        let helper = Callee::of("MyWeb.FooLive.helper/1").unwrap();
        assert_eq!(lines_in(part, &helper, &scope), vec![11, 14]);
    }

    /// In a template, a module of one segment may be an alias of the rendering module's
    /// (`H.x()`), but not the first segment of the callee's own name: Teiserver's
    /// `icon={Teiserver.icon()}` is no call of `Teiserver.Lobby.icon/0`.
    #[test]
    fn a_templates_short_module_is_no_alias_of_its_own_namespace() {
        let heex = "<.card icon={Teiserver.icon()} />\n<.card icon={Teiserver.Lobby.icon()} />\n<p>{H.icon()}</p>\n";
        let scope = Scope {
            module: "TeiserverWeb.HomeLive",
            template: Some(true),
            text: heex,
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(heex, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("Teiserver.Lobby.icon/0"), vec![11, 12]);
        // (`H` may alias `Teiserver` itself.)
        assert_eq!(at("Teiserver.icon/0"), vec![10, 12]);
    }

    /// An event bound by name (`phx-submit="save"`) runs `handle_event/3`.
    #[test]
    fn an_event_binding_runs_handle_event() {
        let heex = "<.form for={@form} phx-submit=\"save\" phx-change=\"validate\">\n<button phx-click={JS.push(\"x\")}>x</button>\n<p data-phx-click=\"no\">a</p>\n<!-- <p phx-click=\"old\">a</p> -->\n<.form phx-submit={:save}>\n<p phx-click={@event}>\n<p phx-click={\"kick:#{@id}\"}>\n";
        let scope = Scope {
            module: "MyWeb.SignupLive",
            template: Some(true),
            unqualified: vec![("handle_event", Some(3))],
            ..Scope::default()
        };
        let event = Callee::of("MyWeb.SignupLive.handle_event/3").unwrap();
        // `phx-click={JS.push("x")}` pushes one too; an atom names one as its string
        // does (LiveAdmin's `phx-submit={:save}`); an assign's value is not known.
        assert_eq!(lines_in(heex, &event, &scope), vec![10, 11, 14, 16]);
        // Nor in a comment over several lines (Algora's dashboard).
        let commented = "<%!-- <.dropdown_menu>\n<.item phx-click=\"remove\">x</.item>\n</.dropdown_menu> --%>\n<p phx-click=\"keep\">a</p>\n";
        assert_eq!(lines_in(commented, &event, &scope), vec![13]);
        let js = "defp js_del(id), do: JS.push(\"delete\", value: %{id: id})\n";
        let code = Scope {
            template: None,
            ..scope
        };
        assert_eq!(lines_in(js, &event, &code), vec![10]);
        // A Phoenix.HTML helper given the binding as a keyword (TeslaMate's summary).
        let eex = "<%= link \"Sleep\", to: \"#\", phx_click: \"suspend_logging\" %>\n<%= link \"x\", my_phx_click: \"no\" %>\n";
        let eex_scope = Scope {
            template: Some(false),
            ..code
        };
        assert_eq!(lines_in(eex, &event, &eex_scope), vec![10]);
    }

    /// `<.live_component module={…}>` renders the module's component.
    #[test]
    fn a_live_component_renders_its_module() {
        let heex = "<.live_component\n  module={ClaperWeb.PollComponent}\n  id=\"poll\"\n/>\n<.live_component module={Other} id=\"x\" />\n";
        let scope = Scope {
            module: "ClaperWeb.ShowLive",
            template: Some(true),
            ..Scope::default()
        };
        let render = Callee::of("ClaperWeb.PollComponent.render/1").unwrap();
        assert_eq!(lines_in(heex, &render, &scope), vec![11]);
        let module = Callee::of("ClaperWeb.PollComponent").unwrap();
        assert_eq!(lines_in(heex, &module, &scope), vec![11]);
    }

    /// A template file calls through the aliases of the module that renders it, which
    /// it does not write (ex_doc's `<%= H.module_type(module) %>`).
    #[test]
    fn a_template_calls_through_its_modules_alias() {
        let eex = "<h1><%= H.breakable_title(module.title) %> <%= H.module_type(module) %></h1>\n<p><%= Other.Mod.module_type(x) %></p>\n";
        let scope = Scope {
            module: "ExDoc.Formatter.EPUB.Templates",
            template: Some(false),
            ..Scope::default()
        };
        let callee = Callee::of("ExDoc.Formatter.HTML.Templates.module_type/1").unwrap();
        assert_eq!(lines_in(eex, &callee, &scope), vec![10]);
    }

    /// A child started under a condition, and one in a list piped into
    /// `Supervisor.init/2`, is started at its line.
    #[test]
    fn conditional_and_piped_children_start_at_their_line() {
        let src = "children = [\n  !parent && {Inventory.Stock, interval: 60},\n  !parent && Inventory.Stock\n]\n[{Inventory.Stock, queue}]\n|> Supervisor.init(strategy: :rest_for_one)\n[\n  web? and Inventory.Stock\n]\n";
        assert_eq!(
            lines(src, "Inventory.Stock.start_link/1"),
            vec![11, 12, 14, 17]
        );
    }

    /// A call heading a line that ends in `do` may end a `with` (or `if`) written over
    /// lines: the `do` is then not its block (Boruta's `Scope.authorize(…) do`).
    #[test]
    fn a_call_ending_a_with_over_lines_is_read() {
        let src =
            "with {:ok, scope} <-\n       Stock.reserve(scope: s, against: t) do\n  scope\nend\n";
        assert_eq!(lines(src, "Inventory.Stock.reserve/1"), vec![11]);
    }

    /// A `{…}` expression over several lines calls on each of its lines (Keila's
    /// `{cond do … local_datetime_tag(campaign.sent_at) … end}`).
    #[test]
    fn a_template_expression_over_lines_calls_on_each() {
        let heex = "<p>\n  {cond do\n    x.sent_at ->\n      [\n        content_tag(:span, render_icon(:cake), class: \"h-5\"),\n        \" \",\n        local_datetime_tag(x.sent_at)\n      ]\n    true ->\n      local_datetime_tag(x.updated_at)\n  end}\n</p>\n";
        let scope = Scope {
            module: "MyWeb.CampaignView",
            template: Some(true),
            unqualified: vec![("local_datetime_tag", Some(1)), ("render_icon", Some(1))],
            ..Scope::default()
        };
        let tag = Callee::of("MyWeb.DateTimeHelpers.local_datetime_tag/1").unwrap();
        assert_eq!(lines_in(heex, &tag, &scope), vec![16, 19]);
        let icon = Callee::of("MyWeb.IconHelper.render_icon/1").unwrap();
        assert_eq!(lines_in(heex, &icon, &scope), vec![14]);
        // An assign named `@type` or `@spec` is no typespec whose lines go on below
        // (AshAdmin's `<% @type == Ash.Type.Atom -> %>`).
        let assigns = "<%= cond do %>\n  <% @type == :atom -> %>\n    <div>{render_icon(1)}</div>\n  <% true -> %>\n<% end %>\n<div :if={@spec}>\n  {render_icon(2)}\n</div>\n";
        assert_eq!(lines_in(assigns, &icon, &scope), vec![12, 16]);
    }

    /// `unquote(__MODULE__).fun(…)` and `unquote(__MODULE__).Utils.fun(…)` in a quote
    /// call the quoting module and its `Utils`.
    #[test]
    fn a_call_through_the_unquoted_module_is_read() {
        let src = "metadata = unquote(__MODULE__).Utils.start(ctx, [])\nunquote(__MODULE__).authenticate(params, @config)\n|> unquote( __MODULE__ ).Utils.start(x)\n";
        let scope = Scope {
            module: "Wallaby.Feature",
            ..Scope::default()
        };
        let start = Callee::of("Wallaby.Feature.Utils.start/2").unwrap();
        // With spaces inside it too, as the chunker reads it (piped: `start/2`).
        assert_eq!(lines_in(src, &start, &scope), vec![10, 12]);
        let auth = Callee::of("Wallaby.Feature.authenticate/2").unwrap();
        assert_eq!(lines_in(src, &auth, &scope), vec![11]);
        // Not another function's `my_unquote(__MODULE__)`.
        let src = "my_unquote(__MODULE__).Utils.start(a, b)\n";
        assert!(lines_in(src, &start, &scope).is_empty());
    }

    /// A macro given a block alone (`render_surface do`) is called on that line, at
    /// arity 1; a `for`'s last filter (`map = extract(a, b) do`) passes its own arity,
    /// its `do` the `for`'s.
    #[test]
    fn a_block_alone_and_a_fors_last_filter_call() {
        let src = "html =\n  render_surface do\n    ~F[x]\n  end\nrender_surface do\ncase render_surface do\n";
        let scope = Scope {
            module: "Surface.LiveViewTest",
            ..Scope::default()
        };
        let render = Callee::of("Surface.LiveViewTest.render_surface/1").unwrap();
        assert_eq!(lines_in(src, &render, &scope), vec![11, 14]);
        let src = "for metric <- metrics,\n    map = extract(metric, measurements, metadata, time) do\n  map\nend\nres = with_span(name, meta) do\n";
        let extract = Callee::of("Surface.LiveViewTest.extract/4").unwrap();
        assert_eq!(lines_in(src, &extract, &scope), vec![11]);
        let span = Callee::of("Surface.LiveViewTest.with_span/3").unwrap();
        assert_eq!(lines_in(src, &span, &scope), vec![14]);
    }

    /// A call through a module attribute (`@subject.handle_event(…)`) is read at its
    /// name and arity; the chunker resolved the attribute.
    #[test]
    fn a_call_through_a_module_attribute_is_read() {
        let src = "assert {:stop, :normal} == @subject.handle_event(:info, e, nil, d)\n@subject.handle_event(:info, e)\nsubject.handle_event(:info, e, nil, d)\n@other.handle_event(:info, e, nil, d)\n";
        let scope = Scope {
            module: "Supavisor.ClientHandlerTest",
            aliases: [("@subject", "Supavisor.ClientHandler")].into(),
            ..Scope::default()
        };
        let callee = Callee::of("Supavisor.ClientHandler.handle_event/4").unwrap();
        assert_eq!(lines_in(src, &callee, &scope), vec![10]);
        // Another module's function of that name is not called through `@subject`.
        let other = Callee::of("Supavisor.DbHandler.handle_event/4").unwrap();
        assert!(lines_in(src, &other, &scope).is_empty());
    }

    /// An alias whose target is itself a name another alias shortens (`alias
    /// Common.Cache`, `Common` aliased by a `use`) names the module it ends.
    #[test]
    fn an_alias_of_an_aliased_name_names_the_module_it_ends() {
        let src = "Cache.maybe_apply_cached({Files.MediaEdit, :dominant_color}, [\n  x\n])\nOtherCache.maybe_apply_cached(a, b)\n";
        let scope = Scope {
            module: "Bonfire.Common.Media",
            aliases: [("Cache", "Common.Cache")].into(),
            ..Scope::default()
        };
        let callee = Callee::of("Bonfire.Common.Cache.maybe_apply_cached/2").unwrap();
        assert_eq!(lines_in(src, &callee, &scope), vec![10]);
        let other = Callee::of("Bonfire.Other.Cache.maybe_apply_cached/2").unwrap();
        assert!(lines_in(src, &other, &scope).is_empty());
    }

    /// A Surface template renders a module component (`<Link to="/">`) through its
    /// `render/1`, where the name is the module's; not outside a template.
    #[test]
    fn a_surface_module_component_renders() {
        let src = "~F\"\"\"\n<Link label=\"user\" />\n<LinkButton />\n<Other.Link />\n\"\"\"\n# <Link />\n";
        let scope = Scope {
            module: "Surface.Components.Context",
            aliases: [("Link", "Surface.Components.Link")].into(),
            ..Scope::default()
        };
        let render = Callee::of("Surface.Components.Link.render/1").unwrap();
        assert_eq!(lines_in(src, &render, &scope), vec![11]);
    }

    /// A name without a module, called at an arity the chunker saw, is not another
    /// module's function of that name and another arity (`|> render("_tags.html",
    /// tags: t)` is `Phoenix.Controller.render/3`, not `ImageView.render/2`).
    #[test]
    fn a_bare_name_is_of_the_arity_it_was_seen_at() {
        let src = "ImageView.render(\"show.json\", image: i)\nconn\n|> render(\"_tags.html\",\n  tags: t)\nrender(conn, \"x\",\n  a: 1)\n";
        let scope = Scope {
            module: "MyWeb.TagController",
            aliases: [("ImageView", "MyWeb.ImageView")].into(),
            unqualified: vec![("render", Some(3))],
            ..Scope::default()
        };
        let view = Callee::of("MyWeb.ImageView.render/2").unwrap();
        assert_eq!(lines_in(src, &view, &scope), vec![10]);
        let controller = Callee::of("Phoenix.Controller.render/3").unwrap();
        assert_eq!(lines_in(src, &controller, &scope), vec![12, 14]);
    }

    /// A LiveView hook's `on_mount/4` is called where it is mounted, and a module is
    /// named where it is plugged, raised, started as a child or mounted.
    #[test]
    fn a_hook_is_mounted_and_a_module_named_where_it_is_written() {
        let src = "live_session :default, on_mount: [{UserAuth, :current_user}, MyAppWeb.Nav] do\n  live \"/\", HomeLive\nend\non_mount {MyAppWeb.UserAuth, :ensure_authenticated}\nplug MyAppWeb.UserAuth\nraise UserAuth, \"no\"\nchildren = [UserAuth]\n# on_mount UserAuth\nalias MyAppWeb.UserAuth\n";
        let scope = Scope {
            module: "MyAppWeb.Router",
            aliases: [("UserAuth", "MyAppWeb.UserAuth")].into(),
            ..Scope::default()
        };
        let hook = Callee::of("MyAppWeb.UserAuth.on_mount/4").unwrap();
        assert_eq!(lines_in(src, &hook, &scope), vec![10, 13]);
        let nav = Callee::of("MyAppWeb.Nav.on_mount/4").unwrap();
        assert_eq!(lines_in(src, &nav, &scope), vec![10]);
        let other = Callee::of("MyAppWeb.UserAuth.other/4").unwrap();
        assert_eq!(lines_in(src, &other, &scope), Vec::<u32>::new());
        let module = Callee {
            module: "MyAppWeb.UserAuth".to_string(),
            kind: CalleeKind::Module,
        };
        assert_eq!(lines_in(src, &module, &scope), vec![10, 13, 14, 15, 16]);
    }

    /// A template comment's state over lines, read once per opener however many
    /// comments a line holds.
    #[test]
    fn template_comments_are_followed_over_lines() {
        assert_eq!(comment_after("<!-- a --> <%!-- b", None), Some("--%>"));
        assert_eq!(comment_after("b --%> <!-- c -->", Some("--%>")), None);
        assert_eq!(comment_after("still inside", Some("-->")), Some("-->"));
        let many = "<!----><%!----%>".repeat(20_000);
        assert_eq!(comment_after(&many, None), None);
        assert_eq!(comment_after(&format!("{many}<!--"), None), Some("-->"));
    }

    /// Hooks and setups listed over several lines are called on their own lines
    /// (Algora's router, Electric's `setup [` lists), not on the list's first.
    #[test]
    fn hooks_and_setups_listed_over_lines_are_called_on_their_lines() {
        let src = "live_session :admin,\n  on_mount: [\n    {UserAuth, :ensure_authenticated},\n    MyAppWeb.Nav\n  ] do\n  live \"/\", HomeLive\nend\n";
        let scope = Scope {
            module: "MyAppWeb.Router",
            aliases: [("UserAuth", "MyAppWeb.UserAuth")].into(),
            ..Scope::default()
        };
        let hook = Callee::of("MyAppWeb.UserAuth.on_mount/4").unwrap();
        assert_eq!(lines_in(src, &hook, &scope), vec![12]);
        let nav = Callee::of("MyAppWeb.Nav.on_mount/4").unwrap();
        assert_eq!(lines_in(src, &nav, &scope), vec![13]);
        let src = "setup [\n  :with_registry,\n  :with_storage\n]\n\ntest \"x\", ctx do\n  assert ctx\nend\n";
        assert_eq!(lines(src, "Inventory.Stock.with_storage/1"), vec![12]);
        assert_eq!(lines(src, "Inventory.Stock.with_registry/1"), vec![11]);
        // A plug a `use` imports, in a module that aliases its module (Electric's
        // `alias Plug.Conn` beside `plug :fetch_query_params`).
        let src = "use Plug.Builder\nalias Plug.Conn\nplug :fetch_query_params\n";
        let scope = Scope {
            module: "Electric.Plug.HealthCheckPlug",
            unqualified: vec![("fetch_query_params", Some(2))],
            text: src,
            module_level: true,
            ..Scope::default()
        };
        let fetch = Callee::of("Plug.Conn.fetch_query_params/2").unwrap();
        assert_eq!(lines_in(src, &fetch, &scope), vec![12]);
    }

    /// A function given as a module and its name is called where they are written: a
    /// tuple `{__MODULE__, :poll, [opts]}`, or the arguments of what runs it.
    #[test]
    fn a_module_and_a_functions_name_are_a_call_of_it() {
        let src = "measurements: [{__MODULE__, :poll, [opts]}]\n:erpc.call(node, Poller, :poll, [x])\n{Poller, :poll?, []}\nPoller.poll(x)\n%{Poller => :poll}\nApplication.get_env(:app, :poll)\n";
        let scope = Scope {
            module: "PromEx.Poller",
            aliases: [("Poller", "PromEx.Poller")].into(),
            ..Scope::default()
        };
        let poll = Callee::of("PromEx.Poller.poll/1").unwrap();
        assert_eq!(lines_in(src, &poll, &scope), vec![10, 11, 13]);
        // A server and its message are no function and its arguments; a character of
        // several bytes before the module is read past.
        let src = "GenServer.call(Poller, :poll)\n:erpc.call(node,\u{a0}Poller, :poll, [x])\nuse( Poller, :poll)\n";
        assert_eq!(lines_in(src, &poll, &scope), vec![11]);
        // Its arguments one a line, as `mix format` writes a long call; not a server,
        // its message and a timeout, nor a list of another length.
        let src = ":erpc.call(\n  node2,\n  Poller,\n  :poll,\n  [x],\n  15_000\n)\nGenServer.call(\n  Poller,\n  :poll\n)\nGenServer.call(\n  Poller,\n  :poll,\n  :infinity\n)\n:erpc.call(\n  n,\n  Poller,\n  :poll,\n  [a, b, c]\n)\n";
        assert_eq!(lines_in(src, &poll, &scope), vec![13]);
        // `Task.async_stream(` passes each item first (OpenTelemetry's task wrappers).
        let src = "Task.async_stream(\n  items,\n  Poller,\n  :poll,\n  [],\n  opts\n)\nx = Task.async_stream(n, &ping/1)\n:erpc.call(\n  node,\n  Poller,\n  :poll,\n  [x]\n)\n";
        // (Not one closed before the call.)
        assert_eq!(lines_in(src, &poll, &scope), vec![13, 21]);
    }

    /// `use MyAppWeb, :controller` runs `MyAppWeb.controller/0` (also with options,
    /// `use MyAppWeb, {:live_view, container: …}`), and a socket's `channel "room:*",
    /// RoomChannel` joins the channel.
    #[test]
    fn a_use_runs_the_function_it_names_and_a_channel_is_joined() {
        let src = "use MyAppWeb, :controller\nuse MyAppWeb, {:controller, x: 1}\nuse MyAppWeb, :controller_helpers\nuse Other, :controller\nchannel \"room:*\", RoomChannel\nchannel(\"lobby\", MyAppWeb.RoomChannel, assigns: %{})\nchannel \"x\", RoomChannelX\nuse MyAppWeb, [:context, :controller]\nuse MyAppWeb, [:controller_helpers]\n";
        let scope = Scope {
            module: "MyAppWeb.UserSocket",
            aliases: [("RoomChannel", "MyAppWeb.RoomChannel")].into(),
            ..Scope::default()
        };
        let controller = Callee::of("MyAppWeb.controller/0").unwrap();
        assert_eq!(lines_in(src, &controller, &scope), vec![10, 11, 17]);
        let join = Callee::of("MyAppWeb.RoomChannel.join/3").unwrap();
        assert_eq!(lines_in(src, &join, &scope), vec![14, 15]);
    }

    /// A call closed on its line passes its arity: another arity's call is not the
    /// callee's (Cachex's `Informant.broadcast(cache, message)` and `broadcast(cache,
    /// action, result)` are `broadcast/2` and `broadcast/3`).
    #[test]
    fn a_call_closed_on_its_line_is_of_the_arity_it_passes() {
        let src = "notify && Informant.broadcast(cache, message)\nnotify && Informant.broadcast(cache, {:get, [k, opts]}, result)\ncache |> Informant.broadcast(msg, %{a: 1, b: 2})\nInformant.broadcast(\n  cache, a, b)\nInformant.broadcast(c, fn a, b -> a end)\nbroadcast(c, m, flush: true, at: <<1, 2>>)\nInformant.broadcast(c, ?,, \"a, b\")\n";
        let scope = Scope {
            module: "Cachex.Services.Informant",
            ..Scope::default()
        };
        let three = Callee::of("Cachex.Services.Informant.broadcast/3").unwrap();
        // `broadcast(c, fn a, b -> a end)` passes two: an `fn` written whole is one.
        assert_eq!(lines_in(src, &three, &scope), vec![11, 12, 13, 16, 17]);
        let two = Callee::of("Cachex.Services.Informant.broadcast/2").unwrap();
        assert_eq!(lines_in(src, &two, &scope), vec![10, 13, 15]);
        // A definition with default arguments is called at each of its arities.
        let both = two.with_arities([3]);
        assert_eq!(
            lines_in(src, &both, &scope),
            vec![10, 11, 12, 13, 15, 16, 17]
        );
        // Any arity, when the callee names none.
        let any = Callee::of("Cachex.Services.Informant.broadcast").unwrap();
        assert_eq!(
            lines_in(src, &any, &scope),
            vec![10, 11, 12, 13, 15, 16, 17]
        );
        assert_eq!(written_arity(")"), Some((0, false)));
        assert_eq!(written_arity(" )"), Some((0, false)));
        assert_eq!(written_arity("a: 1, b: 2)"), Some((1, false)));
        assert_eq!(written_arity("x, [a, b], %{c => d})"), Some((3, false)));
        assert_eq!(written_arity("x, valid?(y), z)"), Some((3, false)));
        assert_eq!(written_arity("x, do: y)"), Some((2, false)));
        assert_eq!(written_arity("x, y"), None);
        // An `fn` written whole is one argument (hex's `fetch!(:key, fn val -> … end)`);
        // one going on past the line leaves the arity unknown.
        assert_eq!(written_arity("x, fn -> 1 end)"), Some((2, false)));
        assert_eq!(
            written_arity(":t, fn val -> if is_integer(val), do: val * 1000 end)"),
            Some((2, false))
        );
        assert_eq!(
            written_arity("fn a, b -> a end, fn b -> b end)"),
            Some((2, false))
        );
        assert_eq!(written_arity("x, fn v ->"), None);
        assert_eq!(
            written_arity("x, fn v -> case v do :a -> 1 end end)"),
            Some((2, false))
        );
        assert_eq!(written_arity("chars, ?é)"), Some((2, false)));
        assert_eq!(written_arity("s, ?\\), x)"), Some((3, false)));
        assert_eq!(written_arity(":name, %{}) do"), Some((2, true)));
        assert_eq!(written_arity("x) do: y"), Some((1, false)));
        assert_eq!(written_arity("x, async?: true, b: 1)"), Some((2, false)));
        assert_eq!(
            written_arity("url, \"          \": k, retry: false)"),
            Some((2, false))
        );
        // A `do` block is the call's when the call heads its line, not `case`'s.
        let src = "case Stock.reserve(server, sku, 1, opts) do\nwith_span(:x, %{}) do\nx = with_span(:y, %{}) do\n";
        let scope = Scope {
            module: "Inventory",
            aliases: [("Stock", "Inventory.Stock")].into(),
            unqualified: vec![("with_span", None)],
            ..Scope::default()
        };
        let reserve = Callee::of("Inventory.Stock.reserve/4").unwrap();
        assert_eq!(lines_in(src, &reserve, &scope), vec![10]);
        let span = Callee::of("Inventory.with_span/3").unwrap();
        assert_eq!(lines_in(src, &span, &scope), vec![11, 12]);
        assert_eq!(written_arity("conn, :info, if ok, do: 1, else: 2)"), None);
        assert_eq!(written_arity("conn, :info, ok?(x), 2)"), Some((4, false)));
    }

    #[test]
    fn interpolations_in_heredocs_are_code() {
        let src = "body = \"\"\"\nsee #{Glific.base_domain()} and base_domain(x)\n#{base_domain()}\"\"\" <> base_domain()\n";
        assert_eq!(lines(src, "Glific.base_domain/0"), vec![11, 12]);
        let src = "@doc \"\"\"\n    iex> base_domain(1)\n\"\"\"\n";
        assert!(lines(src, "Glific.base_domain/1").is_empty());
        // A string in an interpolation is a string: its comma is no argument's.
        let src = "IO.puts(\"uses #{Enum.join(names, \", \")} and #{Enum.count(names)}\")\nx = \"#{Enum.join(a, \"\\\"\")}\"\n";
        assert_eq!(lines(src, "Enum.join/2"), vec![10, 11]);
        assert_eq!(lines(src, "Enum.count/1"), vec![10]);
        assert!(lines(src, "Enum.join/3").is_empty());
    }

    #[test]
    fn a_server_callback_is_called_where_its_message_is_sent() {
        let src = "def available(server, sku) do\n  GenServer.call(server, {:available, sku})\nend\ndefp tick(t), do: Process.send_after(self(), :tick, t)\ndef go(pid), do: send(pid, :go)\ndef x(m), do: m.send(1)\n";
        assert_eq!(lines(src, "Inventory.Stock.handle_call/3"), vec![11]);
        // `send(pid, :go)` sends to another process (realtime's `send(transport_pid, …)`).
        assert_eq!(lines(src, "Inventory.Stock.handle_info/2"), vec![13]);
        let own = "def a, do: send(self(), :a)\ndef b, do: send __MODULE__, :b\ndef c, do: :timer.send_interval(10, :c)\ndef d, do: :erlang.send_after(10, self(), :d)\nProcess.send_after(\n:timer.send_interval(10, pid, :f)\ndef e, do: :erlang.start_timer(10, self(), :e)\ndef f(p), do: :erlang.start_timer(10, p, :f)\n";
        assert_eq!(
            lines(own, "Inventory.Stock.handle_info/2"),
            vec![10, 11, 12, 13, 14, 16]
        );
        assert!(lines(src, "Inventory.Stock.handle_cast/2").is_empty());
        let test = "test \"direct\" do\n  assert {:noreply, _} = Stock.handle_cast(:x, %{})\nend\n";
        assert_eq!(lines(test, "Inventory.Stock.handle_cast/2"), vec![11]);
        let start = "def start_link(opts) do\n  GenServer.start_link(__MODULE__, opts)\nend\ndef jobs, do: DynamicSupervisor.start_link(Jobs, :ok)\n";
        assert_eq!(lines(start, "Inventory.Stock.init/1"), vec![11, 13]);
        let erlang = "def a, do: :gen_statem.start_link(__MODULE__, 1, [])\ndef b, do: :gen_server.start({:local, :b}, __MODULE__, 1, [])\ndef c, do: GenStateMachine.start_link(__MODULE__, 1)\ndef d, do: :gen_server.call(:b, :size)\ndef e, do: x.start_link(1)\n";
        assert_eq!(lines(erlang, "Inventory.Stock.init/1"), vec![10, 11, 12]);
        assert_eq!(lines(erlang, "Inventory.Stock.handle_call/3"), vec![13]);
        let live = "def mount(_, _, s), do: {:ok, start_async(s, :load, fn -> 1 end)}\ndef r(s), do: s |> start_async(:load, f)\ndef x(s), do: restart_async(s)\n";
        assert_eq!(lines(live, "Inventory.Stock.handle_async/3"), vec![10, 11]);
        let init = "def init(opts) do\n  {:ok, opts, {:continue, :load}}\nend\ndef handle_info(:x, s) do\n  {:noreply, s, {:continue,\n    :later}}\nend\n";
        assert_eq!(
            lines(init, "Inventory.Stock.handle_continue/2"),
            vec![11, 14]
        );
    }

    #[test]
    fn a_plug_line_calls_the_plugs_init_and_call() {
        let src = "plug Plug.Parsers, parsers: [:json]\nplug(GlificWeb.ContextPlug)\nplug :auth\nplug GlificWeb.ContextPlugs\nplugged GlificWeb.ContextPlug\n# plug GlificWeb.ContextPlug\nx = ContextPlug.init(1)\nforward(\"/api\", ContextPlug, a: 1)\nforward \"/x\", Other\nforwarded \"/y\", ContextPlug\nforward \"/z\", to: ContextPlug\nget \"/p\", to: GlificWeb.ContextPlug, init_opts: []\n";
        let module = "GlificWeb.ContextPlug";
        let scope = Scope {
            module: "GlificWeb.Router",
            aliases: [("ContextPlug", module)].into(),
            ..Scope::default()
        };
        let init = Callee::of("GlificWeb.ContextPlug.init/1").unwrap();
        let call = Callee::of("GlificWeb.ContextPlug.call/2").unwrap();
        assert_eq!(lines_in(src, &init, &scope), vec![11, 16, 17, 20, 21]);
        assert_eq!(lines_in(src, &call, &scope), vec![11, 17, 20, 21]);
        let parsers = Callee::of("Plug.Parsers.call/2").unwrap();
        assert_eq!(lines_in(src, &parsers, &scope), vec![10]);
        // Another arity is no plug's, and `ContextPlug.init(1)` passes one argument.
        let init2 = Callee::of("GlificWeb.ContextPlug.init/2").unwrap();
        assert_eq!(lines_in(src, &init2, &scope), Vec::<u32>::new());
    }

    #[test]
    fn a_use_calls_the_used_modules_using_macro() {
        let src = "defmodule MyAppWeb.PageController do\n  use MyAppWeb, :controller\n  @before_compile MyAppWeb.Hooks\n  use MyAppWeb.Other\nend\n";
        assert_eq!(lines(src, "MyAppWeb.__using__/1"), vec![11]);
        assert_eq!(lines(src, "MyAppWeb.Hooks.__before_compile__/1"), vec![12]);
    }

    /// A Phoenix 1.7 controller renders its format module's template function where it
    /// calls `render` with the template's atom.
    #[test]
    fn a_controllers_render_is_a_call_of_its_template_function() {
        let src = "  def index(conn, _), do: render(conn, :index)\n  |> render(:show, a: 1)\n  render(conn, :index_all)\n";
        let scope = Scope {
            module: "PhxWeb.PageController",
            ..Scope::default()
        };
        let at = |symbol: &str| lines_in(src, &Callee::of(symbol).unwrap(), &scope);
        assert_eq!(at("PhxWeb.PageHTML.index/1"), vec![10]);
        assert_eq!(at("PhxWeb.PageJSON.show/1"), vec![11]);
        assert_eq!(at("PhxWeb.UserHTML.index/1"), Vec::<u32>::new());
        assert_eq!(at("PhxWeb.PageHTML.index/2"), Vec::<u32>::new());
    }

    /// A Cowboy loop handler's `info/3` is called where its code sends a message; a
    /// function named `info` at another arity, or at any, is no handler.
    #[test]
    fn a_loop_handlers_info_is_called_where_a_message_is_sent() {
        let src = "  def push(pid, data) do\n    send(pid, {:push, data})\n  end\n";
        assert_eq!(lines(src, "Snip.Loop.info/3"), vec![11]);
        assert_eq!(lines(src, "Snip.Loop.info/2"), Vec::<u32>::new());
        assert_eq!(lines(src, "Snip.Loop.info"), Vec::<u32>::new());
    }

    /// `@on_definition`, `@after_compile` and `@after_verify` name functions the
    /// compiler calls: the module's, or `{Mod, :fun}`'s.
    #[test]
    fn a_compiler_hook_attribute_calls_its_function() {
        let src = concat!(
            "defmodule App do\n",
            "  @on_definition Tr.Macro\n",
            "  @after_compile {Tr.Macro, :check}\n",
            "  @after_verify(Tr.Macro)\n",
            "  @on_definition_note Tr.Macro\n",
            "end\n",
        );
        assert_eq!(lines(src, "Tr.Macro.__on_definition__/6"), vec![11]);
        assert_eq!(
            lines(src, "Tr.Macro.__on_definition__/2"),
            Vec::<u32>::new()
        );
        assert_eq!(lines(src, "Tr.Macro.check/2"), vec![12]);
        assert_eq!(
            lines(src, "Tr.Macro.__after_compile__/2"),
            Vec::<u32>::new()
        );
        assert_eq!(lines(src, "Tr.Macro.__after_verify__/1"), vec![13]);
        assert_eq!(lines(src, "Other.__on_definition__/6"), Vec::<u32>::new());
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_scanned_without_a_panic(text in "[a-zA-Z0-9_%(){}\\[\\]~\"'#?\\\\/|<>.&: \n\u{e9}]{0,200}") {
            for symbol in ["M.a/1", "M.__using__/1", "Mod.A", "M.handle_info/2", "M.été/1"] {
                let callee = Callee::of(symbol).unwrap();
                for (line, text) in call_lines(&text, 1, &callee, &Scope::default()) {
                    proptest::prop_assert!(line >= 1 && text.lines().count() <= 1);
                }
            }
        }
    }

    /// A module a test defines calls from its body with `__MODULE__` naming itself
    /// (Reactor's `around :step, &__MODULE__.do_around/4 do`), not the test's module.
    #[test]
    fn a_module_a_test_defines_is_its_own_module() {
        let source = concat!(
            "defmodule DTest do\n",
            "  use ExUnit.Case\n",
            "\n",
            "  test \"inner module\" do\n",
            "    defmodule Inner do\n",
            "      @x own(2)\n",
            "      around :a, &__MODULE__.do_around/4 do\n",
            "        :ok\n",
            "      end\n",
            "      def own(x), do: x\n",
            "      def do_around(a, b, c, d), do: {a, b, c, d}\n",
            "    end\n",
            "\n",
            "    assert Inner.own(1)\n",
            "  end\n",
            "end\n",
        );
        let crate::chunk::FileChunks::Chunked(chunks) = crate::chunk::chunk_file(
            "d",
            "test/d_test.exs",
            source.as_bytes(),
            &crate::chunk::ChunkerConfig::default(),
        ) else {
            panic!("not chunked");
        };
        let inner = (chunks.iter().flat_map(|c| &c.defines))
            .find(|d| d.kind == ChunkKind::ModuleHeader && d.module == "DTest.Inner")
            .expect("DTest.Inner is defined");
        // The attribute's value runs as the module compiles: a call of its own.
        assert_eq!(
            inner.calls,
            ["DTest.Inner.own/1", "DTest.Inner.do_around/4"]
        );
        let callee = Callee::of("DTest.Inner.do_around/4").unwrap();
        assert_eq!(
            call_place(&chunks, inner.line, inner.end_line, &callee).lines,
            vec![7]
        );
    }

    /// An `alias` in a function's body names the module its calls below mean, even
    /// one named like Elixir's (`alias NewRelic.Instrumented.Task`, then `Task.run(1)`).
    #[test]
    fn a_body_alias_shadowing_a_standard_module_names_its_calls() {
        let src = concat!(
            "defmodule User do\n", // 1
            "  def one do\n",      // 2
            "    alias My.Task\n", // 3
            "    Task.run(1)\n",   // 4
            "  end\n",             // 5
            "end\n",               // 6
        );
        let config = crate::chunk::ChunkerConfig::default();
        let crate::chunk::FileChunks::Chunked(chunks) =
            crate::chunk::chunk_file("app", "lib/user.ex", src.as_bytes(), &config)
        else {
            panic!("chunked");
        };
        let callee = Callee::of("My.Task.run/1").unwrap();
        assert_eq!(call_place(&chunks, 2, 5, &callee).lines, vec![4]);
    }

    /// A caller split in parts calls where the parts the chunker saw call: a bare
    /// `|> request` in one part of Mojito's `__using__` is the using module's own
    /// `request/1`, not `Poolboy.request/1`, which another part calls by its module.
    #[test]
    fn a_split_callers_lines_are_in_the_parts_that_call() {
        let steps: String = (0..14)
            .map(|i| format!("        x{i} = Mojito.Audit.note(:get, {i})\n"))
            .collect();
        let source = format!(
            concat!(
                "defmodule Mojito.Base do\n",
                "  defmacro __using__(_) do\n",
                "    quote do\n",
                "      def get(url) do\n",
                "{steps}",
                "        %Mojito.Request{{url: url}} |> request\n",
                "      end\n",
                "\n",
                "      def request(request) do\n",
                "{steps}",
                "        Mojito.Pool.Poolboy.request(request)\n",
                "      end\n",
                "    end\n",
                "  end\n",
                "end\n",
            ),
            steps = steps
        );
        let config = crate::chunk::ChunkerConfig {
            budget: 200,
            merge_below: 0,
            ..crate::chunk::ChunkerConfig::default()
        };
        let crate::chunk::FileChunks::Chunked(chunks) =
            crate::chunk::chunk_file("m", "lib/mojito/base.ex", source.as_bytes(), &config)
        else {
            panic!("not chunked");
        };
        let parts = (chunks.iter()).filter(|c| c.name == "__using__").count();
        assert!(parts >= 2, "the __using__ is split for this test: {parts}");
        let line =
            |needle: &str| source.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1;
        let last = source.lines().count() as u32;
        let callee = Callee::of("Mojito.Pool.Poolboy.request/1").unwrap();
        assert_eq!(
            call_place(&chunks, 1, last, &callee).lines,
            vec![line("Poolboy.request(request)")]
        );
        // A part calling an imported function bare calls it, beside one calling it with
        // its module.
        let source = format!(
            "defmodule A do\n  import Foo\n  def long do\n    bar(1)\n{steps}{steps}    Foo.bar(2)\n  end\nend\n"
        );
        let crate::chunk::FileChunks::Chunked(chunks) =
            crate::chunk::chunk_file("m", "lib/a.ex", source.as_bytes(), &config)
        else {
            panic!("not chunked");
        };
        let parts = (chunks.iter()).filter(|c| c.name == "long").count();
        assert!(parts >= 2, "long/0 is split for this test: {parts}");
        let line =
            |needle: &str| source.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1;
        let last = source.lines().count() as u32;
        let callee = Callee::of("Foo.bar/1").unwrap();
        assert_eq!(
            call_place(&chunks, 1, last, &callee).lines,
            vec![line("bar(1)"), line("Foo.bar(2)")]
        );
    }

    /// A route's controller is named under the `scope`s around it, each a block read by
    /// its indentation, in the same part of a router or an earlier one; a route going on
    /// to the next lines (`resources "/user", UserController,` then `only: […]`) is read
    /// whole (asciinema's and Bytepack's routers).
    #[test]
    fn a_route_calls_the_controller_of_its_scope() {
        let mut source = String::from(
            "defmodule AsciinemaWeb.Router do\n  use Phoenix.Router\n\n  scope \"/\", AsciinemaWeb do\n    resources \"/a\", RecordingController, only: [:show, :update]\n\n    resources \"/user\", UserController,\n      as: :user,\n      only: [:edit, :update],\n      singleton: true do\n      get \"/email\", EmailController, :edit\n    end\n\n    get \"/~:username\", UserController, :show\n  end # browser\n\n",
        );
        // Enough routes that the header is split in parts, the last in the scope of an
        // earlier one.
        source.push_str(
            "  scope \"/api\", AsciinemaWeb.Api, as: :api do # json\n    scope \"/v1\" do\n",
        );
        for i in 0..40 {
            source.push_str(&format!(
                "      get \"/things/{i}/more/paths/to/fill/the/part\", ThingController, :thing_{i}\n"
            ));
        }
        source.push_str("      resources \"/recordings\", RecordingController, only: [:update]\n    end\n  end\nend\n");
        let config = crate::chunk::ChunkerConfig {
            budget: 400,
            ..crate::chunk::ChunkerConfig::default()
        };
        let crate::chunk::FileChunks::Chunked(chunks) =
            crate::chunk::chunk_file("r", "lib/router.ex", source.as_bytes(), &config)
        else {
            panic!("not chunked");
        };
        let parts = (chunks.iter())
            .filter(|c| c.kind == ChunkKind::ModuleHeader)
            .count();
        assert!(parts >= 3, "the router is split for this test: {parts}");
        let last = source.lines().count() as u32;
        let at = |symbol: &str| call_place(&chunks, 1, last, &Callee::of(symbol).unwrap()).lines;
        let api = source
            .lines()
            .position(|l| l.contains("\"/recordings\""))
            .unwrap() as u32
            + 1;
        assert_eq!(at("AsciinemaWeb.RecordingController.update/2"), vec![5]);
        assert_eq!(
            at("AsciinemaWeb.Api.RecordingController.update/2"),
            vec![api]
        );
        assert_eq!(at("AsciinemaWeb.UserController.update/2"), vec![7]);
        assert_eq!(at("AsciinemaWeb.UserController.show/2"), vec![14]);
        assert_eq!(at("AsciinemaWeb.EmailController.edit/2"), vec![11]);
    }

    /// What the reviewers found: a call of a function of the same name in another module
    /// is not a call of the callee, however the module is written.
    #[test]
    fn the_module_before_the_name_must_be_the_callees() {
        let aliases = [
            "P7.T as Runner".to_string(),
            "P7.U".to_string(),
            "Glific.Clients".to_string(),
        ];
        let imports = ["P7.Imp".to_string()];
        let source = b"defmodule P7.C do\n  def a, do: 1\nend\n";
        let config = crate::chunk::ChunkerConfig::default();
        let crate::chunk::FileChunks::Chunked(chunks) =
            crate::chunk::chunk_file("r", "lib/c.ex", source, &config)
        else {
            panic!("not chunked");
        };
        // A function's chunk (module-level code calls none of its module's own).
        let mut chunk = (chunks.into_iter())
            .find(|c| c.kind == ChunkKind::Function)
            .unwrap();
        assert_eq!(chunk.module, "P7.C");
        chunk.aliases = aliases.to_vec();
        chunk.imports = imports.to_vec();
        chunk.unqualified_calls = vec!["seen/1".into()];
        let scope = Scope::of(&chunk);
        let src = "U.run(x)\nRunner.run(x)\nP7.T.run(x)\nstate.run(x)\nf().run(x)\nrun(x)\n";
        let t = Callee::of("P7.T.run/1").unwrap();
        assert_eq!(lines_in(src, &t, &scope), vec![11, 12]);
        assert_eq!(
            lines_in(src, &Callee::of("P7.U.run/1").unwrap(), &scope),
            vec![10]
        );
        // A name without a module: the module's own, an import's, or one seen unqualified.
        assert_eq!(
            lines_in(src, &Callee::of("P7.C.run/1").unwrap(), &scope),
            vec![15]
        );
        assert_eq!(
            lines_in(src, &Callee::of("P7.Imp.run/1").unwrap(), &scope),
            vec![15]
        );
        let src = "seen(1)\nrun(2)\n";
        assert_eq!(
            lines_in(src, &Callee::of("Other.seen/1").unwrap(), &scope),
            vec![10]
        );
        // Through a prefix alias, and a capture's arity.
        let src = "Clients.Sol.name(x)\nClients.ReapBenefit.name(x)\n&Glific.Clients.Sol.name/2\n&Glific.Clients.Sol.name/1\n";
        let sol = Callee::of("Glific.Clients.Sol.name/1").unwrap();
        assert_eq!(lines_in(src, &sol, &scope), vec![10, 13]);
        assert_eq!(
            lines_in(src, &sol.clone().with_arities([2]), &scope),
            vec![10, 12, 13]
        );
        // Fully qualified names of other modules.
        let src = "GenLSP.Requests.CallHierarchyIncomingCalls.schematic()\nGenLSP.Requests.WorkspaceDiagnosticRefresh.schematic()\n";
        let refresh = Callee::of("GenLSP.Requests.WorkspaceDiagnosticRefresh.schematic/0").unwrap();
        assert_eq!(lines_in(src, &refresh, &scope), vec![11]);
        // A module by an `as:` alias and a `use`; `alias` lines are not calls.
        let src = "alias P7.T, as: Runner\nuse P7.T\nRunner.run(x)\nU.run(x)\n";
        let module = Callee::of("P7.T").unwrap();
        assert_eq!(lines_in(src, &module, &scope), vec![11, 12]);
    }

    /// A call whose result is called on (`|> Kaffy.Utils.repo().one(opts)`) is not the
    /// one the pipe passes its value to; `:timer`'s and GenStage's messages are sent; a
    /// setup named by its atom is called.
    #[test]
    fn a_call_returning_the_receiver_of_a_piped_call_and_timer_messages() {
        let src = "def count(q, opts) do\n  q\n  |> Kaffy.Utils.repo().one(opts)\n  |> Kaffy.Utils.json().encode!(escape: :html_safe, pretty: true)\nend\n";
        assert_eq!(lines(src, "Kaffy.Utils.repo/0"), vec![12]);
        assert_eq!(lines(src, "Kaffy.Utils.json/0"), vec![13]);
        let src = "using do\n  quote do\n    setup :default_stubs\n    setup [:x, :default_stubs]\n  end\nend\n";
        assert_eq!(lines(src, "Inventory.Stock.default_stubs/1"), vec![12, 13]);
        let src = "defp soon(socket) do\n  :timer.send_interval(1000, self(), :tick)\n  GenStage.async_info(self(), :mark)\nend\ndef s(x), do: GenStage.call(x, :status)\n";
        assert_eq!(lines(src, "Inventory.Stock.handle_info/2"), vec![11, 12]);
        assert_eq!(lines(src, "Inventory.Stock.handle_call/3"), vec![14]);
        // To the module's registered name (Scenic's `send(@name, …)`), and a state
        // machine's event (Xandra's `:gen_statem.call`), on the line sending it.
        let src = "def put(x) do\n  send(@name, {:put, x})\nend\ndef checkout(pid) do\n  :gen_statem.call(pid, {:checkout, 1})\nend\n";
        assert_eq!(lines(src, "Inventory.Stock.handle_info/2"), vec![11]);
        assert_eq!(lines(src, "Inventory.Stock.handle_event/4"), vec![14]);
    }

    #[test]
    fn typespecs_over_several_lines_and_gen_stage_messages_are_not_calls() {
        let src = "@type t :: %__MODULE__{\n        cs: Ecto.Changeset.t(),\n        n: integer\n      }\ndef f(x), do: Ecto.Changeset.cast(x)\n";
        assert_eq!(lines(src, "Ecto.Changeset"), vec![14]);
        let src =
            "send(self(), {:\"$gen_producer\", from, {:cancel, :shutdown}})\nsend(self(), :tick)\n";
        assert_eq!(lines(src, "M.handle_info/2"), vec![11]);
    }

    #[test]
    fn a_name_of_several_bytes_is_read_past() {
        let src = "def été(x), do: x.été + été(x)\n";
        assert_eq!(lines(src, "M.été/1"), vec![10]);
    }

    #[test]
    fn operators_name_no_callee() {
        assert_eq!(Callee::of("Kernel.+/2"), None);
        assert_eq!(Callee::of("Kernel.|>/2"), None);
        assert_eq!(
            Callee::of("M.valid?/1").map(|c| c.kind),
            Some(CalleeKind::Function {
                name: "valid?".into(),
                arities: vec![1]
            })
        );
        assert_eq!(
            Callee::of("Ecto.Changeset"),
            Some(Callee {
                module: "Ecto.Changeset".into(),
                kind: CalleeKind::Module
            })
        );
    }
}
