//! Elixir files: modules, functions grouped by name and arity, attributes attached,
//! tests, and error recovery, following `shared/CHUNKING.md`.
//!
//! The walk has three steps. `flatten` turns a module body into a flat list of items
//! (definitions, attributes, tests, nested modules), looking through conditional wrappers
//! (`if`, `for`, `unless`) and `ERROR` nodes to a bounded depth. `emit` groups the items
//! into pieces whose spans tile the module. Finally pieces over the budget are split (by
//! clause, then by statement, then by line), small neighbours are merged, and each piece
//! takes the calls inside its span.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::marker::PhantomData;

use rustc_hash::{FxHashMap, FxHashSet};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use tree_sitter::{Node, ParseOptions, ParseState, Parser, Tree};

use super::calls::{self, DEF_KEYWORDS, RawCall, call_arity, child_of_kind, def_head};
use super::repair;
use super::size::{merge_small, non_whitespace_chars};
use super::split;
use super::{
    AliasIndex, AtomList, Chunk, ChunkKind, ChunkerConfig, Definition, Draft, EmbeddedTemplates,
    FileInfo, ImportFilter, ImportList, Language, LineIndex, MAX_CARRIED_ALIASES, MacroArg,
    MacroCall, MacroCallArg, MacroTemplate, NamesFrom, QuotedDef, ScopedCalls, TemplateArities,
    TemplatesOf, Visibility, collapse_whitespace, dedup_keep_first, text_of,
};

/// Modules a module's `use` list holds at most (every chunk carries it).
const MAX_USES: usize = 100;
/// Types of one `defimpl ..., for: [...]` at most.
const MAX_IMPL_TYPES: usize = 32;
/// Statements before a `for` searched for the list a variable it runs over is set to
/// (`modules = [...]` then `for module <- modules do defmodule module`).
const MAX_LIST_LOOKBACK: usize = 16;
/// Module-level code after a definition from this size on (non-whitespace characters) is
/// a header part of its own; shorter code (a `defoverridable`) leads into the next.
const HEADER_PART_MIN_CHARS: usize = 100;

/// The size (non-whitespace characters, about half the default chunk budget) from which
/// a module attribute between definitions holds data of its own, a header part, rather
/// than leading into the definition after it.
const DATA_ATTRIBUTE_MIN_CHARS: usize = 700;
/// Nested modules deeper than this are kept inside their parent's chunk, tagged `too_deep`.
const MAX_MODULE_DEPTH: usize = 32;

/// Modules one test's body defines that its chunk lists (more are tagged `too_deep`).
const MAX_TEST_MODULES: usize = 256;
/// Conditional wrappers (`if`/`for`/`unless`) and ERROR nodes are looked through to this depth.
const MAX_WRAPPER_DEPTH: usize = 6;
/// Calls (`Enum.sort(…)`) and `++` joins looked through, nested, to read the atoms of an
/// enumerable ([`Walker::literal_atoms`]).
const MAX_ENUMERABLE_DEPTH: usize = 16;

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses Elixir source with a per-thread parser. `None` if tree-sitter gives up, or
/// when the parse runs past [`parse_budget`].
pub fn parse(src: &[u8]) -> Option<Tree> {
    parse_within(src, parse_budget(src.len()))
}

/// How long parsing `len` bytes may take: 2 s, and 10 s more per MB, of the parsing
/// thread's own time ([`ParseClock`]; at most four times that of the wall clock). Elixir
/// parses at 4–10 MB/s on one core; far slower is input on which tree-sitter-elixir's
/// scanner looks ahead again at every line (100,000 comment lines in a row take it
/// minutes, a 4 MB file of them hours), and one file must not hold an indexing worker that
/// long.
pub fn parse_budget(len: usize) -> Duration {
    Duration::from_secs(2) + Duration::from_secs_f64(len as f64 * 10.0 / 1e6)
}

/// The time a file's parses have taken, as a parse budget counts it: the CPU time of the
/// thread that parses, where the platform tells it, and wall-clock time elsewhere. On a
/// busy machine a parse waits for a core; that wait is not the file's doing, and counted
/// it would leave a normal file chunked by lines (until it changed) for the load of the
/// moment. Read on the thread that started it.
#[derive(Debug)]
pub(crate) struct ParseClock {
    wall: Instant,
    cpu: Option<Duration>,
    /// Before this instant the budget cannot be spent (a thread runs no faster than the
    /// wall clock), so the thread's clock, a system call, is not read again until then.
    next_reading: Cell<Option<Instant>>,
    /// Read on the thread that started it, so it stays there.
    _thread: PhantomData<*const ()>,
}

/// A parse that has waited for a core three times as long as it ran (its machine
/// oversubscribed fourfold) stops too: a file must not hold a worker without end.
const WALL_CLOCK_BUDGETS: u32 = 4;

impl ParseClock {
    pub(crate) fn start() -> ParseClock {
        ParseClock {
            wall: Instant::now(),
            cpu: thread_cpu_time(),
            next_reading: Cell::new(None),
            _thread: PhantomData,
        }
    }

    /// The time spent since [`start`](Self::start).
    pub(crate) fn spent(&self) -> Duration {
        match (self.cpu, thread_cpu_time()) {
            (Some(from), Some(now)) => now.saturating_sub(from),
            _ => self.wall.elapsed(),
        }
    }

    /// Whether more than `budget` is spent, or [`WALL_CLOCK_BUDGETS`] times it has passed.
    /// A thread runs no longer than the wall clock, so the cheap wall clock is read first,
    /// and the thread's own clock only once the wall clock is past the budget.
    pub(crate) fn over(&self, budget: Duration) -> bool {
        let now = Instant::now();
        let passed = now.duration_since(self.wall);
        if passed <= budget {
            return false;
        }
        if passed > budget * WALL_CLOCK_BUDGETS {
            return true;
        }
        if self.next_reading.get().is_some_and(|at| now < at) {
            return false;
        }
        let spent = self.spent();
        if spent > budget {
            return true;
        }
        self.next_reading.set(Some(now + (budget - spent)));
        false
    }
}

/// The CPU time the calling thread has run.
#[cfg(unix)]
fn thread_cpu_time() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given, which outlives the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    let secs = u64::try_from(now.tv_sec).ok()?;
    let nanos = u32::try_from(now.tv_nsec).ok()?;
    (rc == 0).then(|| Duration::new(secs, nanos))
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// [`parse`] with a time budget of its own: the parse stops (`None`) once it is spent,
/// and the parser is reset for the next file.
pub fn parse_within(src: &[u8], budget: Duration) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let parser = slot.get_or_insert_with(|| {
            let mut p = Parser::new();
            p.set_language(&tree_sitter_elixir::LANGUAGE.into())
                .expect("tree-sitter-elixir is compatible with the linked tree-sitter");
            p
        });
        // Checked by tree-sitter every 100 parse operations.
        let clock = ParseClock::start();
        let mut in_time = |_: &ParseState| match clock.over(budget) {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        };
        let options = ParseOptions::new().progress_callback(&mut in_time);
        let tree = parser.parse_with_options(
            &mut |i, _| src.get(i..).unwrap_or_default(),
            None,
            Some(options),
        );
        if tree.is_none() {
            // A stopped parse would otherwise resume with the next file's text.
            parser.reset();
        }
        tree
    })
}

/// Chunks one Elixir file.
pub(crate) fn chunk(file: &FileInfo<'_>, config: &ChunkerConfig) -> Vec<Chunk> {
    match structure(file, config) {
        Stage::Chunked(chunks) => chunks,
        Stage::Structured(structured) => structured.finish(file),
    }
}

/// How far [`structure`] took a file.
pub(crate) enum Stage {
    /// Chunked already (an empty file, or one chunked by lines).
    Chunked(Vec<Chunk>),
    Structured(Structured),
}

/// An Elixir file parsed and cut into drafts, with what [`Structured::finish`] needs to
/// make its chunks: the calls, the merge of small drafts and the chunks themselves. It
/// owns the tree, so that the finish (and freeing the tree) can run on another thread
/// than the parse.
pub(crate) struct Structured {
    tree: Tree,
    lines: LineIndex,
    drafts: Vec<Draft>,
    modules: Vec<ModuleCtx>,
    /// Sorted positions of calls that are a macro's arguments, not calls.
    macro_args: Vec<usize>,
    budget: usize,
    merge_below: usize,
}

/// The first half of [`chunk`]: parses the file and cuts it into drafts.
pub(crate) fn structure(file: &FileInfo<'_>, config: &ChunkerConfig) -> Stage {
    if file.src.is_empty() {
        return Stage::Chunked(Vec::new());
    }
    let lines = LineIndex::new(file.src);
    let clock = ParseClock::start();
    let Some(tree) = parse(file.src) else {
        tracing::warn!(
            path = file.path,
            bytes = file.src.len(),
            "gave up parsing (over {:?} of parsing): chunked by lines instead",
            parse_budget(file.src.len())
        );
        let mut chunks = super::text::chunk(file, config);
        for c in &mut chunks {
            c.has_error = true;
        }
        return Stage::Chunked(chunks);
    };
    // A broken definition that swallowed what follows it is blanked and the file parsed
    // again; its lines become a text chunk with has_error (`repair`).
    let (tree, blanked) = if tree.root_node().has_error() {
        // The re-parses share the file's budget with the first parse.
        repair::repair(file.src, tree, |buf| {
            parse_within(buf, parse_budget(buf.len()).saturating_sub(clock.spent()))
        })
    } else {
        (tree, Vec::new())
    };
    let root = tree.root_node();
    let mut walker = Walker {
        src: file.src,
        path: file.path,
        lines: &lines,
        describe: None,
        modules: Vec::new(),
        pieces: Vec::new(),
        inherited: Imports::default(),
        file_scope: ModuleCtx::default(),
        in_block: 0,
        for_names: Vec::new(),
        pending_for: None,
        macro_templates: FxHashMap::default(),
        helper_lookups: 0,
        fn_templates: FxHashMap::default(),
        macro_args: Vec::new(),
    };
    walker.top_level(root);
    let mut pieces = walker.pieces;
    let mut macro_args = walker.macro_args;
    macro_args.sort_unstable();
    let modules = walker.modules;
    tile(&mut pieces, file.src);
    for &(start, end) in &blanked {
        carve(&mut pieces, file.src, start, end, file.path);
    }
    if pieces.is_empty() {
        let mut draft = Draft::new(ChunkKind::Text, 0, file.src.len());
        draft.name = file.path.to_string();
        draft.has_error = root.has_error();
        pieces.push(Piece::new(draft, None));
    }

    let mut drafts = Vec::with_capacity(pieces.len());
    for mut piece in pieces {
        attach_specs(&mut piece, &modules);
        split::split(
            file,
            piece.draft,
            &piece.nodes,
            root,
            config.budget,
            &mut drafts,
        );
    }
    let mut alias_indexes: HashMap<usize, AliasIndex<'_>> = HashMap::new();
    for d in &mut drafts {
        if let Some(scope) = d.scope
            && modules[scope].alias_list.len() > MAX_CARRIED_ALIASES
        {
            let index = alias_indexes
                .entry(scope)
                .or_insert_with(|| AliasIndex::new(&modules[scope].alias_list));
            d.aliases = index.named_in(&file.src[d.start..d.end]);
        }
    }
    repair::mark_errors(&mut drafts, root, file.src.len());
    Stage::Structured(Structured {
        tree,
        lines,
        drafts,
        modules,
        macro_args,
        budget: config.budget,
        merge_below: config.merge_below,
    })
}

impl Structured {
    /// The second half of [`chunk`]: `file` is the one [`structure`] was given.
    pub(crate) fn finish(self, file: &FileInfo<'_>) -> Vec<Chunk> {
        let Structured {
            tree,
            lines,
            mut drafts,
            modules,
            macro_args,
            budget,
            merge_below,
        } = self;
        let mut raw_calls = calls::collect(tree.root_node(), file.src);
        if !macro_args.is_empty() {
            raw_calls.retain(|(at, call)| {
                !(matches!(call, RawCall::Local { .. } | RawCall::Remote { .. })
                    && macro_args.binary_search(at).is_ok())
            });
        }
        attach_calls(&mut drafts, &raw_calls, &modules);
        give_definitions_their_calls(&mut drafts, &lines);
        merge_small(file.src, drafts, merge_below, budget)
            .into_iter()
            .map(|d| d.finish(file, Language::Elixir, &lines))
            .collect()
    }
}

/// Characters of a test-writing macro's call kept in the name of the tests it writes.
const MAX_GENERATED_TEST_NAME: usize = 80;

/// Everything known about one module while its body is walked.
#[derive(Debug, Default, Clone)]
struct ModuleCtx {
    /// The messages its server callbacks' clauses take (`handle_call/3` and
    /// `handle_cast/2`, `handle_info/2`), by the tags their first patterns match.
    handled: FxHashMap<&'static str, Handled>,
    name: String,
    also: Vec<String>,
    parent: Option<usize>,
    parents: Vec<String>,
    /// Each alias (short name, expansion: `Bar` -> `Foo.Bar`) with where it starts to
    /// count (its byte offset; 0 for those made before the module began): a call
    /// resolves through the last one made before it.
    alias_history: Vec<(usize, String, String)>,
    /// Where each short name is in `alias_history`, so that a module with thousands of
    /// aliases is not scanned once per call.
    alias_index: FxHashMap<String, Vec<u32>>,
    alias_list: Vec<String>,
    /// Imports in order, the enclosing modules' (made before this one began) first.
    imports: Vec<String>,
    import_filters: Vec<ImportFilter>,
    /// The imports in force from each byte on: an import counts for the code after it
    /// (the first entry, at 0, holds what the enclosing modules imported before).
    import_history: Vec<(usize, Imports)>,
    uses: Vec<String>,
    behaviours: Vec<String>,
    /// The protocols `@derive` implements for the module's struct, each with where the
    /// attribute is and its text.
    derives: Vec<(String, usize, String)>,
    /// The modules an Ecto schema's `embeds_one :meta, Meta do … end` (or `embeds_many`)
    /// defines inside this one (`Parent.Meta`), each with where it is written, its first
    /// line, and the protocols its `@derive` names.
    inline_embeds: Vec<(String, usize, String, Vec<String>)>,
    /// Functions, macros and guards defined here, by name and arity.
    /// Looked up by name for every call without a module, so keyed by the name alone
    /// (no key to build per look-up), with the arities defined under it.
    defined: Defined,
    /// Those of them defined private only (`defp`, `defmacrop`): no other module, nor
    /// code a quote injects into one, calls them.
    private: Defined,
    specs: HashMap<(String, u32), Vec<String>>,
    moduledoc: Option<String>,
    hidden: bool,
    tags: Vec<&'static str>,
    /// Functions the module defines without writing them (`fun`, arity), each with
    /// where the code that defines it is and its signature: `defexception` defines
    /// `exception/1` (and `message/1` with a `:message` field); it, `defstruct` and an
    /// Ecto `schema` or `embedded_schema` block define `__struct__/0` and `/1`; a
    /// `defprotocol` its `impl_for/1`, `impl_for!/1` and `__protocol__/1`, a `defimpl`
    /// its `__impl__/1`.
    implied: Vec<(&'static str, u32, usize, String)>,
    /// The calls of its body whose arguments could name a function a macro of another
    /// file defines, and the first call of each other macro, whose quote may define
    /// functions by names of their own ([`MacroCall`]), at most [`MAX_MACRO_CALLS`].
    macro_calls: Vec<MacroCall>,
    /// Its `embed_templates` calls, at most [`MAX_EMBEDS`].
    embeds: Vec<EmbeddedTemplates>,
    /// `use Phoenix.View, root: "lib/app_web/templates", namespace: AppWeb, pattern:
    /// "**/*"`: the root, the namespace and the pattern, as written.
    view_root: Option<(String, Option<String>, Option<String>)>,
    /// Attributes (`@levels`) and module-body variables (`codes`) set to a literal list of
    /// atoms (`[:error, :info]`), keyword list or map with atom keys, for the `for` blocks
    /// that define a function per atom.
    atom_lists: HashMap<String, AtomList>,
}

/// What a `for` runs its variable over, as far as naming the functions in it goes.
#[derive(Debug, Clone)]
enum ForNames {
    /// Atoms this file writes (`[:get, :post]`, `@levels`).
    Atoms(Vec<String>),
    /// What a function returns, which the symbol graph reads ([`NamesFrom`]).
    Returned(NamesFrom),
}

/// The longest `defstruct [...]` (bytes) shown whole as the signature of the struct.
const MAX_IMPLYING_TEXT: usize = 160;

/// How many atoms a literal enumerable may give names from: a definition per atom, and
/// every chunk of the `for` carries them all.
const MAX_GENERATED_NAMES: usize = 256;

impl ModuleCtx {
    /// The imports in force at byte `at` of the module (the history is in source order).
    fn imports_at(&self, at: usize) -> Option<&Imports> {
        let n = self.import_history.partition_point(|(from, _)| *from <= at);
        self.import_history[..n].last().map(|(_, imports)| imports)
    }

    fn tag_once(&mut self, tag: &'static str) {
        if !self.tags.contains(&tag) {
            self.tags.push(tag);
        }
    }

    /// Records the imports now in force as holding from byte `at` on.
    fn imports_from(&mut self, at: usize) {
        let i = self.import_history.partition_point(|(from, _)| *from <= at);
        let now = (self.imports.clone(), self.import_filters.clone());
        self.import_history.insert(i, (at, now));
    }

    /// What `short` expands to at byte `at` (`usize::MAX`: the last alias of it).
    fn alias_at(&self, short: &str, at: usize) -> Option<&str> {
        let places = self.alias_index.get(short)?;
        places
            .iter()
            .rev()
            .map(|&i| &self.alias_history[i as usize])
            .find(|(from, _, _)| *from <= at)
            .map(|(_, _, full)| full.as_str())
    }

    /// Records that `short` names `full` from byte `from` on.
    fn push_alias(&mut self, from: usize, short: String, full: String) {
        let at = self.alias_history.len() as u32;
        self.alias_index.entry(short.clone()).or_default().push(at);
        self.alias_history.push((from, short, full));
    }
}

/// The messages a server callback's clauses take: the tags of those matching one
/// (`def handle_call(:get, _from, state)`, `{:set, x}`), and whether one takes any.
#[derive(Debug, Default, Clone)]
struct Handled {
    tags: FxHashSet<String>,
    any: bool,
}

/// The callback that takes a message a module's code sends a process of its own:
/// `handle_info/2`, or in a Cowboy loop handler (`@behaviour :cowboy_loop`) that writes
/// none, its `info/3` (elixir-grpc's handler: `send(pid, {:stream_reply, …})` and
/// `Process.send_after(self(), …)`).
fn message_handler(module: &ModuleCtx, fun: &'static str, arity: u32) -> (&'static str, u32) {
    if (fun, arity) == ("handle_info", 2)
        && !defined_here(module, fun, arity)
        && defined_here(module, "info", 3)
        && module.behaviours.iter().any(|b| b == ":cowboy_loop")
    {
        return ("info", 3);
    }
    (fun, arity)
}

/// Whether `module` defines the server callback `fun/arity` and one of its clauses may
/// take a message of tag `message` (one not known so: any). A call to a pid held in a
/// variable runs the module's own callback only so: its client functions may message
/// other servers (`GenServer.call(harvester, :send_harvest)`).
/// A private function of the name takes no message (Swarm's `defp handle_call/3`, a
/// helper of a `:gen_statem`'s state functions).
fn handles(module: &ModuleCtx, fun: &str, arity: u32, message: &Option<String>) -> bool {
    defined_here(module, fun, arity)
        && !(module.private.get(fun)).is_some_and(|arities| arities.contains(&arity))
        && match (message, module.handled.get(fun)) {
            (Some(tag), Some(h)) => h.any || h.tags.contains(tag),
            _ => true,
        }
}

/// A piece of the file: a draft, the module it belongs to and the nodes that make it.
struct Piece<'t> {
    draft: Draft,
    module: Option<usize>,
    nodes: Vec<Node<'t>>,
    spec_keys: Vec<(String, u32)>,
}

impl<'t> Piece<'t> {
    fn new(draft: Draft, module: Option<usize>) -> Piece<'t> {
        Piece {
            draft,
            module,
            nodes: Vec::new(),
            spec_keys: Vec::new(),
        }
    }
}

/// What a statement of a module body is.
enum ItemKind<'t> {
    Def(DefInfo),
    Test(TestInfo),
    Module {
        body_error: Option<Node<'t>>,
    },
    /// `@doc`, `@impl`, `@spec`, `@deprecated`, `@tag`: they lead into the next definition.
    Lead(Attr),
    /// `@type`, `@callback` and friends.
    Type(String),
    /// Header material: `use`, `alias`, `@moduledoc`, `defstruct`, other expressions.
    Header,
    Comment,
    /// Unparseable leftovers inside an `ERROR` node.
    Junk,
    /// Close of a conditional wrapper or describe: the last piece extends to this byte.
    ExtendTo(usize),
    /// The `describe "title" do` line; its tests follow as their own items.
    DescribeHeader(String),
}

/// A module's imports in order, and their `only:` / `except:` lists.
type Imports = (Vec<String>, Vec<ImportFilter>);

struct Item<'t> {
    node: Node<'t>,
    kind: ItemKind<'t>,
    conditional: bool,
}

/// A parsed definition head.
#[derive(Debug, Clone)]
struct DefInfo {
    keyword: String,
    kind: ChunkKind,
    name: String,
    /// n - d ..= n for a head of n parameters, d of them with defaults.
    arities: Vec<u32>,
    /// More (name, arities) one definition makes: `defdelegate [a(x), b(x)], to: M`.
    also: Vec<(String, Vec<u32>)>,
    dynamic: bool,
    head_start: usize,
    head_end: usize,
    has_body: bool,
    /// The head shown for a function a macro generates (`def page(assigns)`).
    head: Option<String>,
    /// The name as written when a `for` variable gives it (`unquote(verb)`): each
    /// definition's head then names its own atom (`defmacro post(path, plug)`).
    name_var: Option<String>,
    /// A macro's: what its quotes define where it is called ([`MacroTemplate`]).
    templates: Vec<MacroTemplate>,
    /// The heads of `also`, where each has its own (what a macro call defines).
    also_heads: Vec<String>,
    /// A function of no arguments: the atoms it returns as a literal.
    returns: Option<Box<AtomList>>,
    /// Named by a `for` after what a function returns ([`NamesFrom`]).
    names_from: Option<Box<NamesFrom>>,
}

impl DefInfo {
    /// What a macro call (`node`) defines from its arguments, shown as `head`.
    fn generated(
        node: Node<'_>,
        keyword: String,
        kind: ChunkKind,
        (name, arities): (String, Vec<u32>),
        also: Vec<(String, Vec<u32>)>,
        head: String,
    ) -> DefInfo {
        DefInfo {
            keyword,
            kind,
            name,
            arities,
            also,
            dynamic: false,
            head_start: node.start_byte(),
            head_end: node.end_byte(),
            has_body: true,
            head: Some(head),
            name_var: None,
            templates: Vec::new(),
            also_heads: Vec::new(),
            returns: None,
            names_from: None,
        }
    }

    fn max_arity(&self) -> u32 {
        self.arities.last().copied().unwrap_or(0)
    }
}

/// What a test defines in its body (see `Walker::modules_in_test`).
#[derive(Default)]
struct InTest {
    defines: Vec<Definition>,
    /// The modules' bytes.
    spans: Vec<(usize, usize)>,
    /// The aliases their `defmodule`s make in the test's body: [`Draft::nested_aliases`].
    aliases: Vec<(usize, usize, String, String)>,
    /// Some were past [`MAX_MODULE_DEPTH`] levels or [`MAX_TEST_MODULES`] in number, and
    /// are not listed.
    too_many: bool,
}

/// An alias a test makes in its body ([`Walker::modules_in_test`]).
#[derive(Debug)]
struct MadeAlias {
    /// Where it is made, and where its block ends.
    at: usize,
    end: usize,
    short: String,
    /// The module, as written until `resolved`.
    target: String,
    resolved: bool,
    /// The module it is made in (an index into the modules found), or the test's body.
    within: Option<usize>,
}

#[derive(Debug, Clone)]
struct TestInfo {
    kind: ChunkKind,
    name: String,
    pending: bool,
    property: bool,
}

#[derive(Debug, Clone)]
enum Attr {
    Doc(DocValue),
    /// `@typedoc`: the doc of the type after it.
    TypeDoc(DocValue),
    Impl(String),
    Deprecated,
    Other,
}

#[derive(Debug, Clone)]
enum DocValue {
    Text(String),
    Hidden,
    Meta,
    /// `@doc deprecated: "Use f/4"`: metadata marking the function deprecated.
    Deprecated,
}

struct Walker<'s, 't> {
    src: &'s [u8],
    path: &'s str,
    lines: &'s LineIndex,
    /// The title of the describe block being flattened, if any.
    describe: Option<String>,
    modules: Vec<ModuleCtx>,
    pieces: Vec<Piece<'t>>,
    /// The imports the next nested module begins with.
    inherited: Imports,
    /// How many `describe` and wrapper (`if`, `for`...) blocks the statements being
    /// classified are inside.
    in_block: usize,
    /// What `alias`, `import` and `require ..., as:` outside any module made so far: the
    /// modules defined after them begin with it (they are lexical, like any alias).
    file_scope: ModuleCtx,
    /// The variables of the `for` blocks being flattened that run over known atoms
    /// (`for level <- @levels`), innermost last: `def unquote(level)(…)` defines each.
    for_names: Vec<(String, ForNames)>,
    /// The variable and atoms of the `for` just classified as a wrapper, for its block.
    pending_for: Option<(String, ForNames)>,
    /// What the macros defined so far in the file define where they are called, by
    /// module, macro name and arity (see [`MacroTemplate`]).
    macro_templates: FxHashMap<(String, String, u32), Vec<MacroTemplate>>,
    /// Macros whose templates were looked for in a function they call
    /// ([`Walker::helper_templates`]): each looks through the statements around it, so a
    /// file may do it [`MAX_HELPER_LOOKUPS`] times.
    helper_lookups: usize,
    /// The arities of the functions bound in a module's body that define functions
    /// (`defsequence = fn name, code -> … end`), by module and variable.
    fn_templates: FxHashMap<(String, String), Vec<u32>>,
    /// Where the arguments that name what those macros define start (`insert(cs)` in
    /// `defwrite(insert(cs))`): they are heads, not calls.
    macro_args: Vec<usize>,
}

/// How many nodes of a macro's body are looked at for the definitions its quotes make.
const MAX_TEMPLATE_NODES: usize = 20_000;

/// How many macros of a file may have their templates looked for in a function of their
/// module they call (each scans the statements around it).
const MAX_HELPER_LOOKUPS: usize = 64;

/// How many definitions a macro's quotes may make, at most.
const MAX_TEMPLATES: usize = 16;

/// How many calls of a module's body are kept for the macros of other files
/// ([`MacroCall`]): those whose arguments may name a function, and the first call of
/// each other macro, without its arguments.
const MAX_MACRO_CALLS: usize = 512;

/// The longest test head kept whole as a test's signature (in bytes).
const MAX_TEST_SIGNATURE: usize = 240;

/// How many `embed_templates` calls of a module are kept.
const MAX_EMBEDS: usize = 16;

fn is_module_keyword(name: &str) -> bool {
    matches!(name, "defmodule" | "defprotocol" | "defimpl")
}

fn target_name<'s>(node: Node<'_>, src: &'s [u8]) -> Option<&'s str> {
    let g = calls::grammar();
    if node.kind_id() != g.call {
        return None;
    }
    let target = node.child_by_field_id(g.target)?;
    (target.kind_id() == g.identifier)
        .then(|| std::str::from_utf8(&src[target.start_byte()..target.end_byte()]).ok())
        .flatten()
}

/// The functions of a protocol `@derive` is commonly used with, which its derived
/// implementation defines; for another protocol only `__impl__/1` is known.
fn derived_functions(protocol: &str) -> &'static [(&'static str, u32)] {
    match protocol {
        "Inspect" => &[("inspect", 2)],
        "String.Chars" => &[("to_string", 1)],
        "List.Chars" => &[("to_charlist", 1)],
        "Jason.Encoder" | "Poison.Encoder" => &[("encode", 2)],
        "Phoenix.Param" => &[("to_param", 1)],
        "Phoenix.HTML.Safe" => &[("to_iodata", 1)],
        _ => &[],
    }
}

/// The definition keyword of a call written through its module, `Kernel.def
/// to_char_list(term)`: a protocol writes so the functions that are not its callbacks.
fn kernel_def<'s>(node: Node<'_>, src: &'s [u8]) -> Option<&'s str> {
    let g = calls::grammar();
    let target = node.child_by_field_id(g.target)?;
    if target.kind_id() != g.dot {
        return None;
    }
    let left = target.child_by_field_id(g.left)?;
    let right = target.child_by_field_id(g.right)?;
    let text = |n: Node<'_>| std::str::from_utf8(&src[n.start_byte()..n.end_byte()]).ok();
    (left.kind_id() == g.alias && text(left) == Some("Kernel") && right.kind_id() == g.identifier)
        .then(|| text(right))
        .flatten()
        .filter(|name| matches!(*name, "def" | "defp" | "defmacro" | "defmacrop"))
}

/// A quoted head as the code it writes reads: `(unquote(conn), _)` is `(conn, _)`.
fn without_unquotes(head: &str) -> String {
    let mut out = String::with_capacity(head.len());
    let mut rest = head;
    while let Some(at) = rest.find("unquote(") {
        let inner = &rest[at + "unquote(".len()..];
        let name_len = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        out.push_str(&rest[..at]);
        if name_len > 0 && inner[name_len..].starts_with(')') {
            out.push_str(&inner[..name_len]);
            rest = &inner[name_len + 1..];
        } else {
            out.push_str("unquote(");
            rest = inner;
        }
    }
    out.push_str(rest);
    out
}

/// The statements of a `do … end` block (else/after/rescue/catch blocks flattened in).
fn block_body<'t>(node: Node<'t>) -> Option<Vec<Node<'t>>> {
    let block = child_of_kind(node, "do_block")?;
    let mut out = Vec::new();
    let mut cursor = block.walk();
    let g = calls::grammar();
    let other_parts = [
        g.kind("else_block"),
        g.kind("after_block"),
        g.kind("rescue_block"),
        g.kind("catch_block"),
    ];
    for child in block.named_children(&mut cursor) {
        if other_parts.contains(&child.kind_id()) {
            let mut c2 = child.walk();
            for statement in child.named_children(&mut c2) {
                push_statement(statement, &mut out);
            }
        } else {
            push_statement(child, &mut out);
        }
    }
    Some(out)
}

/// A statement of a block; a `pattern -> body` clause (of `case`, `cond`, `fn`) gives the
/// statements of its body.
fn push_statement<'t>(node: Node<'t>, out: &mut Vec<Node<'t>>) {
    if node.kind() == "stab_clause" {
        if let Some(body) = node.child_by_field_name("right") {
            let mut cursor = body.walk();
            out.extend(body.named_children(&mut cursor));
        }
    } else {
        out.push(node);
    }
}

/// The statements of the anonymous functions among a call's arguments
/// (`Enum.reduce(0..104, 1, fn x, acc -> defp power(unquote(x)), … end)`).
fn fn_bodies<'t>(node: Node<'t>) -> Option<Vec<Node<'t>>> {
    let args = child_of_kind(node, "arguments")?;
    let mut out = Vec::new();
    let mut cursor = args.walk();
    for arg in args.named_children(&mut cursor) {
        if arg.kind() == "anonymous_function" {
            let mut c2 = arg.walk();
            for clause in arg.named_children(&mut c2) {
                push_statement(clause, &mut out);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The call on the right of a pipe (`list |> Enum.each(fn … end)`), if `node` is one.
fn piped_call(node: Node<'_>) -> Option<Node<'_>> {
    let g = calls::grammar();
    if node.kind_id() != g.binary_operator
        || node.child_by_field_id(g.operator).map(|o| o.kind_id()) != Some(g.op_pipe)
    {
        return None;
    }
    node.child_by_field_id(g.right)
        .filter(|r| r.kind_id() == g.call)
}

/// The fewest comment lines read as code commented out ([`Walker::commented_out_code`]).
const MIN_COMMENTED_OUT_LINES: usize = 5;

/// Whether a comment's text (without its `#`) reads as Elixir code commented out
/// (`def build(v) do`, `end`, `|> Enum.map(…)`, `v0x::float-size(32)-native,`), not
/// prose.
fn commented_code(t: &str) -> bool {
    const STARTS: [&str; 15] = [
        "def ",
        "defp ",
        "defmacro ",
        "defmodule ",
        "|>",
        "@",
        "case ",
        "if ",
        "with ",
        "for ",
        "{:",
        "%{",
        "alias ",
        "import ",
        "else ",
    ];
    const ENDS: [&str; 12] = [
        " do", "->", ",", "(", "[", "{", ")", "]", "}", ">>", "<<", " end",
    ];
    // (`end` and `else` as words: not "send", "backend", "elsewhere".)
    matches!(t, "end" | "else")
        || STARTS.iter().any(|s| t.starts_with(s))
        || ENDS.iter().any(|e| t.ends_with(e))
        || t.contains("::")
        || t.contains(" = ")
        || t.contains("|>")
}

/// Calls whose body may hold conditional or generated definitions.
const WRAPPERS: [&str; 7] = ["if", "unless", "for", "case", "cond", "with", "try"];

impl<'s, 't> Walker<'s, 't> {
    fn text(&self, node: Node<'_>) -> &'s str {
        std::str::from_utf8(&self.src[node.start_byte()..node.end_byte()]).unwrap_or("")
    }

    /// `embed_templates "page_html/*"` (with `root:` and `suffix:`): its pattern from the
    /// repository's root. Patterns and options written as plain strings only.
    fn embedded_templates(&self, node: Node<'t>) -> Option<EmbeddedTemplates> {
        let plain = |n: Node<'t>| -> Option<String> {
            let text = self.text(n);
            (n.kind() == "string" && n.named_child_count() <= 1 && !text.contains("#{"))
                .then(|| text.trim_matches('"').to_string())
        };
        let first = child_of_kind(node, "arguments")?.named_child(0)?;
        let pattern = plain(first)?;
        let root = match self.keyword_value(node, "root") {
            Some(r) => plain(r)?,
            None => String::new(),
        };
        let suffix = match self.keyword_value(node, "suffix") {
            Some(s) => plain(s)?,
            None => String::new(),
        };
        let dir = self.path.rsplit_once('/').map_or("", |(d, _)| d);
        let mut parts: Vec<&str> = Vec::new();
        for part in [dir, root.as_str(), pattern.as_str()]
            .iter()
            .flat_map(|p| p.split('/'))
        {
            match part {
                "" | "." => {}
                // Out of the repository: nothing indexed there.
                ".." => {
                    parts.pop()?;
                }
                p => parts.push(p),
            }
        }
        Some(EmbeddedTemplates {
            pattern: parts.join("/"),
            suffix,
            line: self.line_of(node.start_byte()),
            of: TemplatesOf::Embedded,
            function: None,
        })
    }

    /// The template file of `EEx.function_from_file(:def, :page, path, [:assigns])`, with a
    /// literal name and path: `Path.expand("templates/page.eex", __DIR__)` (or
    /// `Path.join(__DIR__, …)`) beside this file, or a path from the project's root. Its
    /// code is the body of `page/1`.
    fn eex_file_template(&self, node: Node<'t>) -> Option<EmbeddedTemplates> {
        let target = node.child_by_field_name("target")?;
        if self.text(target) != "EEx.function_from_file" {
            return None;
        }
        let args = calls::named_children(child_of_kind(node, "arguments")?);
        let keyword = calls::atom_name(*args.first()?, self.src)?;
        let name = calls::atom_name(*args.get(1)?, self.src)?;
        let plain = |n: Node<'t>| -> Option<String> {
            let text = self.text(n);
            (n.kind() == "string" && !text.contains("#{"))
                .then(|| text.trim_matches('"').to_string())
        };
        let path = *args.get(2)?;
        let dir = self.path.rsplit_once('/').map_or("", |(d, _)| d);
        let written = match path.kind() {
            "string" => plain(path)?,
            "call" => {
                let call = self.text(path.child_by_field_name("target")?);
                let inner = calls::named_children(child_of_kind(path, "arguments")?);
                match (call, inner.as_slice()) {
                    ("Path.expand", [rel, base]) if self.text(*base) == "__DIR__" => {
                        format!("{dir}/{}", plain(*rel)?)
                    }
                    ("Path.join", [base, rel]) if self.text(*base) == "__DIR__" => {
                        format!("{dir}/{}", plain(*rel)?)
                    }
                    _ => return None,
                }
            }
            _ => return None,
        };
        let mut parts: Vec<&str> = Vec::new();
        for part in written.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                p => parts.push(p),
            }
        }
        // The pattern is the file without its extensions (`templates/page`).
        let file = parts.pop()?;
        let stem = file.split_once('.').map_or(file, |(s, _)| s);
        if stem.is_empty() {
            return None;
        }
        parts.push(stem);
        let params: Vec<String> = match args.get(3) {
            None => Vec::new(),
            Some(list) if list.kind() == "list" => (calls::named_children(*list).into_iter())
                .map(|p| {
                    calls::atom_name(p, self.src)
                        .map_or_else(|| self.text(p).to_string(), str::to_string)
                })
                .collect(),
            Some(_) => return None,
        };
        let head = format!("{keyword} {name}({})", params.join(", "));
        Some(EmbeddedTemplates {
            pattern: parts.join("/"),
            suffix: String::new(),
            line: self.line_of(node.start_byte()),
            of: TemplatesOf::EexFunction,
            function: Some((name.to_string(), params.len() as u32, head)),
        })
    }

    /// Phoenix.View's templates: a module `AppWeb.Admin.UserView` that `use`s something,
    /// in `lib/app_web/views/admin/user_view.ex`, renders `lib/app_web/templates/admin/user/*`
    /// (the module's segments under the views' directory, `Macro.underscore`d, as the
    /// `root:` that Phoenix generates places them). A module whose last segments and file
    /// disagree has none; the directories above the views' are not checked.
    fn view_templates(&self, ctx: &ModuleCtx, line: u32) -> Option<EmbeddedTemplates> {
        if let Some(root) = &ctx.view_root {
            return self.rooted_view_templates(ctx, root, line);
        }
        let (base, file) = self.path.rsplit_once("/views/")?;
        let sub = file.strip_suffix("_view.ex")?;
        let module = ctx.name.strip_suffix("View")?;
        if ctx.uses.is_empty() || sub.is_empty() || module.ends_with('.') {
            return None;
        }
        let parts: Vec<&str> = sub.split('/').collect();
        let segments: Vec<&str> = module.split('.').collect();
        let from = segments.len().checked_sub(parts.len())?;
        let dirs: Vec<String> = segments[from..]
            .iter()
            .map(|s| super::underscore(s))
            .collect();
        let same = |dir: &String, part: &&str| dir.replace('_', "") == part.replace('_', "");
        (from > 0 && dirs.iter().zip(&parts).all(|(d, p)| same(d, p))).then(|| EmbeddedTemplates {
            pattern: format!("{base}/templates/{}/*", dirs.join("/")),
            suffix: String::new(),
            line,
            of: TemplatesOf::View,
            function: None,
        })
    }

    /// The templates of a module that says where they are: `use Phoenix.View, root:
    /// "lib/operately_email", namespace: OperatelyEmail, pattern: "**/*"` in
    /// `OperatelyEmail.Templates` renders `lib/operately_email/templates/**/*` (the
    /// module's name past its namespace, or its first segment, without `View`,
    /// `Macro.underscore`d, under the root), the root read from the Mix project's
    /// directory: the part of the file's path before the root's first directory
    /// (`app/` for `app/lib/operately_email/templates.ex`).
    fn rooted_view_templates(
        &self,
        ctx: &ModuleCtx,
        (root, namespace, pattern): &(String, Option<String>, Option<String>),
        line: u32,
    ) -> Option<EmbeddedTemplates> {
        let root = root.trim_start_matches("./").trim_end_matches('/');
        let first = root
            .split('/')
            .next()
            .filter(|f| !f.is_empty() && *f != "..")?;
        let project = if self.path.starts_with(&format!("{first}/")) {
            ""
        } else {
            let at = self.path.find(&format!("/{first}/"))?;
            &self.path[..at + 1]
        };
        let rest = match namespace {
            Some(ns) => ctx.name.strip_prefix(ns.as_str())?.strip_prefix('.')?,
            None => ctx.name.split_once('.')?.1,
        };
        let segments: Vec<String> = (rest.split('.').enumerate())
            .map(|(i, s)| {
                let last = i == rest.split('.').count() - 1;
                super::underscore(if last {
                    s.strip_suffix("View").unwrap_or(s)
                } else {
                    s
                })
            })
            .filter(|s| !s.is_empty())
            .collect();
        if segments.is_empty() {
            return None;
        }
        let pattern = pattern.as_deref().unwrap_or("*");
        Some(EmbeddedTemplates {
            pattern: format!("{project}{root}/{}/{pattern}", segments.join("/")),
            suffix: String::new(),
            line,
            of: TemplatesOf::View,
            function: None,
        })
    }

    /// A LiveView's (or LiveComponent's) template: a module that `use`s something and
    /// writes no `render/1` renders the `.html.heex` named after its last segment in its
    /// file's directory (`AppWeb.CartLive`: `cart_live.html.heex`), as LiveView looks
    /// for it.
    fn colocated_template(&self, ctx: &ModuleCtx, line: u32) -> Option<EmbeddedTemplates> {
        let renders = ctx.defined.get("render").is_some_and(|a| a.contains(&1));
        let last = ctx.name.rsplit('.').next().filter(|l| !l.is_empty())?;
        let name = super::underscore(last);
        let pattern = match self.path.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{name}"),
            None => name,
        };
        (!ctx.uses.is_empty() && !renders).then_some(EmbeddedTemplates {
            pattern,
            suffix: String::new(),
            line,
            of: TemplatesOf::Colocated,
            function: None,
        })
    }

    /// The text of strings joined with `<>` (`"a" <> "b" <> "c"`), when all are literal
    /// (no interpolation: a name computed so is shown as written).
    fn joined_strings(&self, node: Node<'t>) -> Option<String> {
        const MOST: usize = 32;
        let mut parts: Vec<Node<'t>> = Vec::new();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if parts.len() + stack.len() > MOST {
                return None;
            }
            match n.kind() {
                "string" if !self.text(n).contains("#{") => parts.push(n),
                "binary_operator"
                    if n.child_by_field_name("operator").map(|o| self.text(o)) == Some("<>") =>
                {
                    stack.push(n.child_by_field_name("right")?);
                    stack.push(n.child_by_field_name("left")?);
                }
                _ => return None,
            }
        }
        (parts.len() > 1).then(|| {
            (parts.iter())
                .map(|p| unescape_quotes(&string_content(*p, self.src)))
                .collect()
        })
    }

    fn keyword_value(&self, node: Node<'t>, word: &str) -> Option<Node<'t>> {
        let args = child_of_kind(node, "arguments")?;
        let keywords = child_of_kind(args, "keywords")?;
        let mut cursor = keywords.walk();
        let pairs: Vec<Node<'t>> = keywords.named_children(&mut cursor).collect();
        pairs.into_iter().find_map(|pair| {
            let key = pair.child_by_field_name("key")?;
            let k = self.text(key).trim_end();
            (k.strip_suffix(':') == Some(word))
                .then(|| pair.child_by_field_name("value"))
                .flatten()
        })
    }

    /// The statements of a call's body (`do … end` or `do:`), if it has one.
    fn body(&self, node: Node<'t>) -> Option<Vec<Node<'t>>> {
        if child_of_kind(node, "do_block").is_some() {
            return block_body(node);
        }
        let value = self.keyword_value(node, "do")?;
        if value.kind() == "block" {
            let mut cursor = value.walk();
            Some(value.named_children(&mut cursor).collect())
        } else {
            Some(vec![value])
        }
    }

    fn has_body(&self, node: Node<'t>) -> bool {
        child_of_kind(node, "do_block").is_some() || self.keyword_value(node, "do").is_some()
    }

    // ---------------------------------------------------------------- top level

    fn top_level(&mut self, root: Node<'t>) {
        let mut cursor = root.walk();
        let children: Vec<Node<'t>> = root.named_children(&mut cursor).collect();
        let mut text_run: Option<(usize, usize, bool)> = None;
        let mut i = 0;
        while i < children.len() {
            let node = children[i];
            let is_module = target_name(node, self.src).is_some_and(is_module_keyword);
            if is_module {
                self.flush_text_run(&mut text_run);
                let mut body_error = None;
                if !self.has_body(node)
                    && let Some(next) = children.get(i + 1).filter(|n| n.is_error())
                {
                    body_error = Some(*next);
                    i += 1;
                }
                self.module(node, None, body_error, false, 0);
            } else if let Some(items) = self.wrapped_modules(node) {
                // `if Code.ensure_loaded?(Jason) do defmodule … end end`: optional modules,
                // and the aliases and imports made beside them, which count inside the
                // wrapper only.
                self.flush_text_run(&mut text_run);
                let outside = self.file_scope.clone();
                for n in items {
                    if target_name(n, self.src).is_some_and(is_module_keyword) {
                        self.module(n, None, None, true, 0);
                    } else {
                        self.file_level(n);
                    }
                }
                self.file_scope = outside;
                if let Some(last) = self.pieces.last_mut() {
                    last.draft.end = last.draft.end.max(node.end_byte());
                }
            } else if node.kind() != "comment" || text_run.is_some() {
                self.file_level(node);
                let run = text_run.get_or_insert((node.start_byte(), node.end_byte(), false));
                run.1 = node.end_byte();
                run.2 |= node.is_error() || node.has_error();
            }
            i += 1;
        }
        self.flush_text_run(&mut text_run);
    }

    /// The modules a top-level wrapper (`if`, `for`, `case`..., or a call taking `fn`)
    /// defines in its body, looked for through nested wrappers, never inside `quote`; with
    /// the `alias`, `import` and `require` statements among them, in the order written.
    /// `None` when it defines none.
    fn wrapped_modules(&self, node: Node<'t>) -> Option<Vec<Node<'t>>> {
        let mut found = Vec::new();
        let mut modules = 0;
        let mut stack = vec![(node, 0usize)];
        while let Some((n, depth)) = stack.pop() {
            // `Code |> function_exported?(:ensure_compiled, 1) |> if do defmodule …`
            // (Crontab's Ecto type): the call piped into.
            if depth < MAX_WRAPPER_DEPTH
                && let Some(call) = piped_call(n)
            {
                stack.push((call, depth + 1));
                continue;
            }
            if depth >= MAX_WRAPPER_DEPTH || n.kind_id() != calls::grammar().call {
                continue;
            }
            let children = match target_name(n, self.src) {
                Some(name) if is_module_keyword(name) => {
                    found.push(n);
                    modules += 1;
                    continue;
                }
                Some("alias" | "import" | "require") if depth > 0 => {
                    found.push(n);
                    continue;
                }
                Some("quote") => continue,
                Some(name) if WRAPPERS.contains(&name) => block_body(n),
                // `Keila.if_cloud do defmodule … end end`: a macro's `do` block.
                _ => fn_bodies(n).or_else(|| block_body(n)),
            };
            // In reverse, so the stack gives them back in order.
            for child in children.into_iter().flatten().rev() {
                stack.push((child, depth + 1));
            }
        }
        (modules > 0 && found[0] != node).then_some(found)
    }

    /// Records an `alias`, `import` or `require ..., as:` outside any module in
    /// `file_scope` (walked as a module of its own, with no name).
    fn file_level(&mut self, node: Node<'t>) {
        let name = target_name(node, self.src).unwrap_or("");
        let aliases =
            name == "alias" || name == "require" && self.keyword_value(node, "as").is_some();
        if !aliases && name != "import" {
            return;
        }
        let scope = self.modules.len();
        self.modules.push(std::mem::take(&mut self.file_scope));
        if aliases {
            self.record_alias(node, scope);
        } else if let Some(first) = child_of_kind(node, "arguments").and_then(|a| a.named_child(0))
        {
            let expanded = self.expand_module(self.text(first), Some(scope));
            let list = calls::import_list(node, self.src);
            let ctx = &mut self.modules[scope];
            if !ImportFilter::record(&mut ctx.imports, &mut ctx.import_filters, expanded, list) {
                ctx.tag_once("too_many_imports");
            }
        }
        self.file_scope = self.modules.pop().expect("pushed above");
    }

    fn flush_text_run(&mut self, run: &mut Option<(usize, usize, bool)>) {
        if let Some((start, end, has_error)) = run.take() {
            let mut draft = Draft::new(ChunkKind::Text, start, end);
            draft.name = self.path.to_string();
            draft.has_error = has_error;
            self.pieces.push(Piece::new(draft, None));
        }
    }

    // ---------------------------------------------------------------- modules

    /// The names a `defmodule`, `defprotocol` or `defimpl` defines, and the protocol a
    /// `defimpl` implements.
    fn module_names(
        &self,
        node: Node<'t>,
        keyword: &str,
        parent: Option<usize>,
    ) -> (Vec<String>, Option<String>) {
        let parent_name = parent.map(|p| self.modules[p].name.clone());
        let Some(args) = child_of_kind(node, "arguments") else {
            return (vec![parent_name.unwrap_or_default()], None);
        };
        let Some(first) = args.named_child(0) else {
            return (vec![parent_name.unwrap_or_default()], None);
        };
        if keyword == "defimpl" {
            let expand = |written: &str| self.expand_for_module(written, parent, node);
            let protocol = expand(self.text(first));
            let targets: Vec<String> = match self.keyword_value(node, "for") {
                Some(list) if list.kind() == "list" => {
                    let mut cursor = list.walk();
                    list.named_children(&mut cursor)
                        .map(|t| expand(self.text(t)))
                        .collect()
                }
                Some(one) => vec![expand(self.text(one))],
                None => vec![parent_name.unwrap_or_default()],
            };
            let names = (targets.into_iter())
                .map(|t| format!("{protocol}.{t}"))
                .collect();
            return (names, Some(protocol));
        }
        let written = self.text(first);
        let name = match first.kind() {
            "atom" => written.to_string(),
            _ if written.starts_with("__MODULE__") => {
                format!(
                    "{}{}",
                    parent_name.unwrap_or_default(),
                    &written["__MODULE__".len()..]
                )
            }
            // `defmodule mod do` in a `for`, `defmodule Module.concat(base, Test)`: a name
            // computed when the code runs. Kept as written (and marked dynamic below), not
            // joined to the parent: it is no module of the parent's.
            "identifier" => match self.for_module_names(node, written, parent) {
                Some(names) => return (names, None),
                None => super::collapse_whitespace(written),
            },
            "call" => super::collapse_whitespace(written),
            // `defmodule :"Elixir.Shop.Raw"`: the module `Shop.Raw`, nested or not (an atom
            // is never joined to the parent); one built by interpolation is kept as written.
            "quoted_atom" => {
                quoted_atom_module(first, self.src).unwrap_or_else(|| written.to_string())
            }
            _ => match written.strip_prefix("Elixir.") {
                Some(absolute) => absolute.to_string(),
                None => match parent_name {
                    Some(p) if !p.is_empty() => format!("{p}.{written}"),
                    _ => written.to_string(),
                },
            },
        };
        (vec![name], None)
    }

    /// The modules `defmodule var` defines when a `for` around it runs `var` over a list
    /// of module names written out: `for module <- [PageController, ImageController]`,
    /// `for {module, doc} <- [{Benchee, doc}, {:benchee, erlang_doc}]` (Benchee defines its
    /// API so), or a variable set to such a list just before (`modules = [...]`, Phoenix's
    /// tests; at most [`MAX_LIST_LOOKBACK`] statements before). Aliases are expanded where the `defmodule` is. `None` when the name is not
    /// known so (the name stays as written, marked dynamic).
    fn for_module_names(
        &self,
        defmodule: Node<'t>,
        var: &str,
        parent: Option<usize>,
    ) -> Option<Vec<String>> {
        // The `for` is a few levels up: `for` > do_block > defmodule (a `stab_clause` or
        // `block` between them at most).
        let mut up = defmodule.parent();
        let mut for_call = None;
        for _ in 0..4 {
            let n = up?;
            if target_name(n, self.src) == Some("for") {
                for_call = Some(n);
                break;
            }
            up = n.parent();
        }
        let for_call = for_call?;
        let generator = child_of_kind(for_call, "arguments")?.named_child(0)?;
        if generator.kind() != "binary_operator"
            || self.text(generator.child_by_field_name("operator")?) != "<-"
        {
            return None;
        }
        let pattern = generator.child_by_field_name("left")?;
        // Which element of each item the variable is: the item (`module`), or one place of
        // a tuple (`{module, doc}`).
        let place = match pattern.kind() {
            "identifier" if self.text(pattern) == var => None,
            "tuple" => {
                let mut cursor = pattern.walk();
                let place = (pattern.named_children(&mut cursor))
                    .position(|p| p.kind() == "identifier" && self.text(p) == var)?;
                Some((u32::try_from(place).ok()?, pattern.named_child_count()))
            }
            _ => return None,
        };
        let mut list = generator.child_by_field_name("right")?;
        if list.kind() == "identifier" {
            // `modules = [...]` among the statements just before the `for` (a few: a file
            // of thousands of such `for`s must not read its statements once per `for`).
            let name = self.text(list);
            let mut sibling = for_call.prev_named_sibling();
            let mut found = None;
            let mut looked = 0;
            while let Some(n) = sibling
                && looked < MAX_LIST_LOOKBACK
            {
                looked += 1;
                if n.kind() == "binary_operator"
                    && n.child_by_field_name("operator")
                        .is_some_and(|o| self.text(o) == "=")
                    && n.child_by_field_name("left")
                        .is_some_and(|l| self.text(l) == name)
                {
                    found = n.child_by_field_name("right");
                    break;
                }
                sibling = n.prev_named_sibling();
            }
            list = found?;
        }
        if list.kind() != "list" {
            return None;
        }
        let expand = |written: &str| self.expand_for_module(written, parent, defmodule);
        let mut cursor = list.walk();
        let names: Vec<String> = (list.named_children(&mut cursor))
            .filter(|n| n.kind() != "comment")
            .take(MAX_IMPL_TYPES + 1)
            .map(|item| {
                let module = match place {
                    None => item,
                    Some((i, n)) => (item.kind() == "tuple" && item.named_child_count() == n)
                        .then(|| item.named_child(i))??,
                };
                match module.kind() {
                    "alias" => Some(expand(self.text(module))),
                    "atom" => Some(self.text(module).to_string()),
                    _ => None,
                }
            })
            .collect::<Option<_>>()?;
        (!names.is_empty()).then_some(names)
    }

    /// Expands a module name written in the head of `module` (a `defimpl`'s protocol and
    /// types, what a `for` names a `defmodule` after): through its parent's aliases, or
    /// at the top of the file through the aliases made above it.
    fn expand_for_module(&self, written: &str, parent: Option<usize>, module: Node<'t>) -> String {
        match parent {
            Some(_) => self.expand_module(written, parent),
            None => expand_at(
                std::slice::from_ref(&self.file_scope),
                written,
                Some(0),
                module.start_byte(),
            ),
        }
    }

    /// Expands a module reference through the aliases in scope (`__MODULE__` included).
    fn expand_module(&self, written: &str, scope: Option<usize>) -> String {
        expand(&self.modules, written, scope)
    }

    fn module(
        &mut self,
        node: Node<'t>,
        parent: Option<usize>,
        body_error: Option<Node<'t>>,
        conditional: bool,
        depth: usize,
    ) {
        let keyword = target_name(node, self.src)
            .unwrap_or("defmodule")
            .to_string();
        let (mut names, protocol) = self.module_names(node, &keyword, parent);
        // `defimpl P, for: [...]` defines each function once per type: a list of
        // thousands of types would make millions of definitions (3,000 types and 3,000
        // functions: 3 GB of chunks from 0.1 MB). Past this many types, no more.
        let too_many_types = names.len() > MAX_IMPL_TYPES;
        names.truncate(MAX_IMPL_TYPES);
        let mut ctx = ModuleCtx {
            name: names[0].clone(),
            also: names[1..].to_vec(),
            parent,
            ..ModuleCtx::default()
        };
        if let Some(p) = parent {
            let parent_ctx = &self.modules[p];
            ctx.parents = parent_ctx.parents.clone();
            ctx.parents.push(parent_ctx.name.clone());
            // So are aliases: the list a chunk carries (to read the names its code
            // writes) holds the parent's, as its code may use them (the whole body's:
            // the parent's statements are all read before a nested module's).
            ctx.alias_list = parent_ctx.alias_list.clone();
            // Imports are lexical: a nested module sees those its parent made before it
            // (taken where the parent's statements were read).
            (ctx.imports, ctx.import_filters) = std::mem::take(&mut self.inherited);
        } else {
            // A module at the top of the file sees the aliases and imports made above it.
            for (_, short, full) in &self.file_scope.alias_history {
                ctx.push_alias(0, short.clone(), full.clone());
            }
            ctx.alias_list = self.file_scope.alias_list.clone();
            ctx.imports = self.file_scope.imports.clone();
            ctx.import_filters = self.file_scope.import_filters.clone();
        }
        if too_many_types {
            ctx.tags.push("too_many_types");
        }
        // `defimpl` declares `@behaviour` of its protocol, as Elixir's does.
        ctx.behaviours.extend(protocol.clone());
        match keyword.as_str() {
            "defprotocol" => {
                ctx.tags.push("protocol");
                // What every protocol defines besides its functions (`Enumerable.impl_for/1`).
                let signature = collapse_whitespace(self.text(node).lines().next().unwrap_or(""));
                for (fun, arity) in [("impl_for", 1), ("impl_for!", 1), ("__protocol__", 1)] {
                    ctx.implied
                        .push((fun, arity, node.start_byte(), signature.clone()));
                }
            }
            "defimpl" => {
                ctx.tags.push("impl");
                // What every implementation defines besides its functions.
                let signature = collapse_whitespace(self.text(node).lines().next().unwrap_or(""));
                ctx.implied
                    .push(("__impl__", 1, node.start_byte(), signature));
                // `@protocol` and `@for` name the protocol and the type: calls through
                // them (`@for.__reduce__(data, acc, fun)`) call those modules' functions.
                if let Some(protocol) = protocol {
                    let target = (names.len() == 1)
                        .then(|| names[0].strip_prefix(&format!("{protocol}.")))
                        .flatten()
                        .map(str::to_string);
                    for (attribute, full) in [("protocol", Some(protocol)), ("for", target)] {
                        if let Some(full) = full {
                            ctx.alias_list.push(format!("{full} as @{attribute}"));
                            ctx.push_alias(node.start_byte(), format!("@{attribute}"), full);
                        }
                    }
                }
            }
            _ => {}
        }
        // `defmodule Module.concat(base, Test)`: a name computed when the code runs, kept
        // as written and marked.
        let static_name = |n: &str| {
            (n.starts_with(':') && !n.contains("#{"))
                || n.split('.').all(|s| {
                    s.starts_with(|c: char| c.is_ascii_uppercase())
                        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
                })
        };
        if !static_name(&ctx.name) {
            ctx.tags.push("dynamic");
        }
        // A nested module (or protocol) is an alias in its parent's scope: `defmodule Sub`
        // -> `Sub` (made where the parent's statements are read, see `flatten`).
        if let Some(p) = parent {
            self.alias_nested(node, p);
        }
        ctx.import_history
            .push((0, (ctx.imports.clone(), ctx.import_filters.clone())));
        let idx = self.modules.len();
        self.modules.push(ctx);

        let (statements, header_end, module_end) = match body_error {
            Some(error) => {
                let mut cursor = error.walk();
                let statements: Vec<Node<'t>> = error.named_children(&mut cursor).collect();
                let do_end =
                    child_of_kind(error, "do").map_or(error.start_byte(), |d| d.end_byte());
                (statements, do_end, error.end_byte())
            }
            None => {
                let statements = self.body(node).unwrap_or_default();
                let header_end = match child_of_kind(node, "do_block") {
                    Some(block) => block.child(0).map_or(block.start_byte(), |d| d.end_byte()),
                    None => statements
                        .first()
                        .map_or(node.end_byte(), |s| s.start_byte()),
                };
                (statements, header_end, node.end_byte())
            }
        };

        let mut items = Vec::with_capacity(statements.len());
        self.flatten(
            &statements,
            idx,
            conditional,
            body_error.is_some(),
            0,
            &mut items,
        );

        let mut header = Draft::new(ChunkKind::ModuleHeader, node.start_byte(), header_end);
        header.has_error = body_error.is_some();
        if conditional {
            header.tag("conditional");
        }
        self.emit(idx, header, items, depth);
        if let Some(last) = self.pieces.last_mut() {
            last.draft.end = last.draft.end.max(module_end);
        }
    }

    /// The alias a nested `defmodule Sub` (or `defprotocol`) makes in its parent from
    /// where it starts: `Sub` -> `Parent.Sub`, so that `@behaviour Sub` after it names
    /// it; `defmodule Deep.Er` aliases its first segment, as Elixir's `alias_defmodule`
    /// does (`Deep` -> `Parent.Deep`). Only a name written as an alias makes one (not
    /// `defmodule mod` nor `defmodule Module.concat(base, Test)`).
    fn alias_nested(&mut self, node: Node<'t>, parent: usize) {
        if !matches!(
            target_name(node, self.src),
            Some("defmodule" | "defprotocol")
        ) {
            return;
        }
        let Some(written) = child_of_kind(node, "arguments")
            .and_then(|a| a.named_child(0))
            .filter(|n| n.kind() == "alias")
        else {
            return;
        };
        let short = self.text(written);
        let first = match short.split_once('.') {
            None if !short.is_empty() => short,
            Some((first, _))
                if first.starts_with(|c: char| c.is_ascii_uppercase()) && first != "Elixir" =>
            {
                first
            }
            _ => return,
        };
        let ctx = &mut self.modules[parent];
        let full = format!("{}.{first}", ctx.name);
        if ctx.alias_at(first, node.start_byte()) != Some(full.as_str()) {
            ctx.push_alias(node.start_byte(), first.to_string(), full);
        }
    }

    // ---------------------------------------------------------------- flatten

    fn flatten(
        &mut self,
        nodes: &[Node<'t>],
        module: usize,
        conditional: bool,
        in_error: bool,
        depth: usize,
        out: &mut Vec<Item<'t>>,
    ) {
        let mut i = 0;
        while i < nodes.len() {
            let node = nodes[i];
            let kind = self.classify(node, module, in_error, depth);
            match kind {
                Classified::Item(ItemKind::Module { .. }) => {
                    self.alias_nested(node, module);
                    let mut body_error = None;
                    if !self.has_body(node)
                        && let Some(next) = nodes.get(i + 1).filter(|n| n.is_error())
                    {
                        body_error = Some(*next);
                        i += 1;
                    }
                    out.push(Item {
                        node,
                        kind: ItemKind::Module { body_error },
                        conditional,
                    });
                }
                Classified::Item(kind) => out.push(Item {
                    node,
                    kind,
                    conditional,
                }),
                Classified::Describe(title, children) => {
                    // A describe is a header chunk, then one chunk per test inside it.
                    out.push(Item {
                        node,
                        kind: ItemKind::DescribeHeader(title.clone()),
                        conditional,
                    });
                    let outer = self.describe.replace(title);
                    self.in_block += 1;
                    self.flatten(&children, module, conditional, in_error, depth + 1, out);
                    self.in_block -= 1;
                    self.describe = outer;
                    out.push(Item {
                        node,
                        kind: ItemKind::ExtendTo(node.end_byte()),
                        conditional,
                    });
                }
                Classified::Wrapper(children) => {
                    let binding = self.pending_for.take();
                    let bound = binding.is_some();
                    self.for_names.extend(binding);
                    self.in_block += 1;
                    self.flatten(&children, module, true, in_error, depth + 1, out);
                    self.in_block -= 1;
                    if bound {
                        self.for_names.pop();
                    }
                    out.push(Item {
                        node,
                        kind: ItemKind::ExtendTo(node.end_byte()),
                        conditional: true,
                    });
                }
                Classified::Error(children) => {
                    self.flatten(&children, module, conditional, true, depth + 1, out);
                }
                Classified::Group(children) => {
                    self.flatten(&children, module, conditional, in_error, depth + 1, out);
                }
            }
            i += 1;
        }
    }

    fn classify(
        &mut self,
        node: Node<'t>,
        module: usize,
        in_error: bool,
        depth: usize,
    ) -> Classified<'t> {
        let fallback = if in_error {
            ItemKind::Junk
        } else {
            ItemKind::Header
        };
        let g = calls::grammar();
        let kind = node.kind_id();
        if kind == g.comment {
            return Classified::Item(ItemKind::Comment);
        } else if node.is_error() && depth < MAX_WRAPPER_DEPTH {
            let mut cursor = node.walk();
            return Classified::Error(node.named_children(&mut cursor).collect());
        } else if kind == g.unary_operator {
            if node.child_by_field_id(g.operator).map(|o| o.kind_id()) == Some(g.op_at) {
                return Classified::Item(self.attribute(node, module));
            }
            return Classified::Item(fallback);
        } else if kind == g.binary_operator {
            // `{:module, _, bytecode, _} = defmodule TestStruct do … end`: the module is
            // defined as it is without the match (TypedStruct's tests).
            if let Some(op) = node.child_by_field_name("operator")
                && self.text(op) == "="
                && let Some(value) = node.child_by_field_name("right")
                && target_name(value, self.src).is_some_and(is_module_keyword)
                && depth < MAX_WRAPPER_DEPTH
            {
                return Classified::Group(vec![value]);
            }
            // `codes = %{no_error: 0}` in a module's body: a `for` below may define a
            // function per key.
            if let Some(op) = node.child_by_field_name("operator")
                && self.text(op) == "="
                && let (Some(var), Some(value)) = (
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                )
                && var.kind() == "identifier"
            {
                let var = self.text(var).to_string();
                if value.kind() == "anonymous_function" || !self.fn_templates.is_empty() {
                    self.record_fn_templates(&var, value, module);
                }
                match self.known_atoms(value, module, MAX_ENUMERABLE_DEPTH) {
                    Some(list) => self.modules[module].atom_lists.insert(var, list),
                    None => self.modules[module].atom_lists.remove(&var),
                };
                // `names = Enum.map(@levels, fn level -> def unquote(level)() … end)`:
                // definitions in a callback whose result is kept.
                let wrapper = match value.kind_id() == g.call {
                    true => self.fn_wrapper(value, None, module, depth),
                    false => piped_call(value).and_then(|call| {
                        let from = value.child_by_field_id(g.left);
                        self.fn_wrapper(call, from, module, depth)
                    }),
                };
                return wrapper.unwrap_or(Classified::Item(fallback));
            }
            // `params() |> Enum.each(fn n -> test "…#{n}" do … end end)`: the piped call
            // is a wrapper as it is without the pipe.
            let Some(call) = piped_call(node) else {
                return Classified::Item(fallback);
            };
            let from = node.child_by_field_id(g.left);
            if let Some(wrapper) = self.fn_wrapper(call, from, module, depth) {
                return wrapper;
            }
            // `Code |> function_exported?(:ensure_compiled, 1) |> if do defmodule … end`
            // (Crontab's Ecto type): the condition piped in, the block as under `if`.
            if depth < MAX_WRAPPER_DEPTH
                && target_name(call, self.src).is_some_and(|n| matches!(n, "if" | "unless"))
                && let Some(children) = block_body(call)
                && self.holds_definitions(&children, depth)
            {
                return Classified::Wrapper(children);
            }
            return Classified::Item(fallback);
        } else if kind != g.call {
            // `( @doc … def create(…) do … end )`: code `Macro.to_string` wrote (Stripe's
            // generated API) groups a definition with its attributes in parentheses; what
            // is in them is the module's, as written without them.
            if kind == g.kind("block") && depth < MAX_WRAPPER_DEPTH {
                let mut cursor = node.walk();
                return Classified::Group(node.named_children(&mut cursor).collect());
            }
            return Classified::Item(fallback);
        }
        if self.modules[module].embeds.len() < MAX_EMBEDS
            && let Some(embed) = self.eex_file_template(node)
        {
            self.modules[module].embeds.push(embed);
        }
        let generated = match self.generated_def(node) {
            Some(def) => Some(def),
            None => self.templated_def(node, module).inspect(|def| {
                // The argument that names it (`insert(changeset)` in
                // `defwrite(insert(changeset))`) is its head, not a call; what the
                // arguments call otherwise (`defconst :limit, Config.limit()`) stays.
                let args = child_of_kind(node, "arguments").map(calls::named_children);
                for a in args.unwrap_or_default() {
                    let names = |n: &str| n == def.name || def.also.iter().any(|(o, _)| o == n);
                    if target_name(a, self.src).is_some_and(names) {
                        self.macro_args.push(a.start_byte());
                    }
                }
            }),
        };
        if let Some(def) = generated {
            let ctx = &mut self.modules[module];
            for (name, arities) in std::iter::once((&def.name, &def.arities))
                .chain(def.also.iter().map(|(n, a)| (n, a)))
            {
                define(&mut ctx.defined, name, arities);
            }
            return Classified::Item(ItemKind::Def(def));
        }
        let Some(name) = target_name(node, self.src).or_else(|| kernel_def(node, self.src)) else {
            // `Enum.each(list, fn x -> def … end)`: definitions generated in a callback.
            if let Some(wrapper) = self.fn_wrapper(node, None, module, depth) {
                return wrapper;
            }
            // `Helpers.defconst(:limit, 10)`: a macro of another file may define a function.
            self.record_macro_call(node, module);
            // `Keila.if_cloud do … else … end`: another module's macro's `do` block
            // holding definitions, kept as a bare macro's is (below).
            if depth < MAX_WRAPPER_DEPTH
                && let Some(children) = block_body(node)
                && self.holds_definitions(&children, depth)
            {
                return Classified::Wrapper(children);
            }
            return Classified::Item(fallback);
        };
        if DEF_KEYWORDS.contains(&name) {
            return match self.parse_def(node, name) {
                Some(mut def) => {
                    if def.kind == ChunkKind::Macro && !def.dynamic {
                        def.templates = self.record_templates(node, module, &def);
                    }
                    // `def unary_math_funs, do: [exp: …]`: what a `for` of another file
                    // may run over.
                    if name == "def"
                        && def.arities == [0]
                        && !def.dynamic
                        && def.name_var.is_none()
                        && def.also.is_empty()
                    {
                        def.returns = self.returned_atoms(node, module).map(Box::new);
                    }
                    let callback = match (def.name.as_str(), def.arities.as_slice()) {
                        ("handle_call", [3]) => Some("handle_call"),
                        ("handle_cast", [2]) => Some("handle_cast"),
                        ("handle_info", [2]) => Some("handle_info"),
                        ("handle_event", [3]) => Some("handle_event"),
                        ("handle_async", [3]) => Some("handle_async"),
                        // A Cowboy loop handler's messages (see `message_handler`).
                        ("info", [3]) => Some("info"),
                        _ => None,
                    };
                    if let Some(callback) = callback.filter(|_| def.keyword == "def") {
                        let first = (def_head(node).and_then(|h| self.head_parts(h)))
                            .and_then(|(_, params, _)| params.first().copied());
                        // A LiveView's events by their names (`"save"`, or a guard's
                        // `event in ["add", "remove"]`); one built (`"kick:" <> id`) takes
                        // any.
                        let tags = match callback {
                            "handle_event" => first.and_then(|p| self.event_names(node, p)),
                            _ => first
                                .and_then(|p| calls::message_tag(p, self.src))
                                .map(|t| vec![t]),
                        };
                        let handled = self.modules[module].handled.entry(callback).or_default();
                        match tags {
                            Some(tags) => handled.tags.extend(tags),
                            None => handled.any = true,
                        }
                    }
                    let ctx = &mut self.modules[module];
                    let private = matches!(def.keyword.as_str(), "defp" | "defmacrop");
                    for (name, arities) in std::iter::once((&def.name, &def.arities))
                        .chain(def.also.iter().map(|(n, a)| (n, a)))
                    {
                        define(&mut ctx.defined, name, arities);
                        if private {
                            define(&mut ctx.private, name, arities);
                        }
                    }
                    Classified::Item(ItemKind::Def(def))
                }
                None => Classified::Item(fallback),
            };
        }
        if is_module_keyword(name) {
            return Classified::Item(ItemKind::Module { body_error: None });
        }
        // Wallaby's `feature "…", %{session: s} do … end` is a test, in a test file; so
        // is Mock's `test_with_mock "…", Mod, [mocks] do … end`.
        let feature = name == "feature" && self.path.ends_with("_test.exs");
        match name {
            "test" | "describe" | "property" | "feature" | "test_with_mock"
                if name != "feature" || (feature && self.has_body(node)) =>
            {
                let first = child_of_kind(node, "arguments").and_then(|a| a.named_child(0));
                let title = match first {
                    Some(f) if f.kind() == "string" => {
                        Some(unescape_quotes(&string_content(f, self.src)))
                    }
                    // `test "a long name" <> " goes on" do`: the strings joined.
                    Some(f) if let Some(joined) = self.joined_strings(f) => Some(joined),
                    // `test @name do`, `describe inspect(&Mod.fun/1) do`: a name computed
                    // when the test compiles, shown as written.
                    Some(f) if self.has_body(node) => {
                        Some(super::collapse_whitespace(self.text(f)))
                    }
                    _ => None,
                };
                // A name written over lines (`test "when … redis,` then `looking it up
                // …"`) reads as one line.
                let title = title.map(|t| match t.contains('\n') {
                    true => super::collapse_whitespace(&t),
                    false => t,
                });
                if let Some(title) = title {
                    if name == "describe" {
                        if depth < MAX_WRAPPER_DEPTH
                            && let Some(children) = block_body(node)
                        {
                            return Classified::Describe(title, children);
                        }
                        return Classified::Item(ItemKind::Test(TestInfo {
                            kind: ChunkKind::Describe,
                            name: title,
                            pending: false,
                            property: false,
                        }));
                    }
                    // ExUnit names a test inside a describe "<describe> <test>".
                    let name_in_describe = match &self.describe {
                        Some(d) => format!("{d} {title}"),
                        None => title,
                    };
                    return Classified::Item(ItemKind::Test(TestInfo {
                        kind: ChunkKind::Test,
                        name: name_in_describe,
                        pending: !self.has_body(node),
                        property: name == "property",
                    }));
                }
            }
            "setup" | "setup_all" => {
                // Inside a `describe`, named under it as its tests are.
                let name = match &self.describe {
                    Some(d) => format!("{d} {name}"),
                    None => name.to_string(),
                };
                return Classified::Item(ItemKind::Test(TestInfo {
                    kind: ChunkKind::Setup,
                    name,
                    pending: false,
                    property: false,
                }));
            }
            "alias" => self.record_alias(node, module),
            "require" if self.keyword_value(node, "as").is_some() => {
                // `require Mod, as: Short` aliases like `alias`.
                self.record_alias(node, module);
            }
            "import" | "use" | "require" => {
                let Some(first) = child_of_kind(node, "arguments").and_then(|a| a.named_child(0))
                else {
                    return Classified::Item(fallback);
                };
                // `import Base.{A, B}` (or `use`) names each module.
                let written = calls::multi_modules(first, self.src)
                    .unwrap_or_else(|| vec![self.text(first).to_string()]);
                let list = calls::import_list(node, self.src);
                // `use Phoenix.View, root: …`: where its templates are.
                let plain = |n: Node<'t>| {
                    let text = self.text(n);
                    (n.kind() == "string" && !text.contains("#{"))
                        .then(|| text.trim_matches('"').to_string())
                };
                let view_root = (name == "use" && self.in_block == 0)
                    .then(|| self.keyword_value(node, "root").and_then(plain))
                    .flatten()
                    .map(|root| {
                        let namespace = self.keyword_value(node, "namespace");
                        let namespace = namespace
                            .filter(|n| n.kind() == "alias")
                            .map(|n| self.text(n).to_string());
                        let pattern = self.keyword_value(node, "pattern").and_then(plain);
                        (root, namespace, pattern)
                    });
                for written in written {
                    let expanded = self.expand_module(&written, Some(module));
                    let list = list.clone();
                    let ctx = &mut self.modules[module];
                    match name {
                        // An import in a `describe` or an `if` holds to the end of that
                        // block, not for the module: the calls' own scopes carry it.
                        "import" if self.in_block > 0 => {}
                        "import" => {
                            if ImportFilter::record(
                                &mut ctx.imports,
                                &mut ctx.import_filters,
                                expanded,
                                list,
                            ) {
                                ctx.imports_from(node.start_byte());
                            } else {
                                ctx.tag_once("too_many_imports");
                            }
                        }
                        "use" => {
                            let known = imports_of_use(&expanded);
                            if self.in_block == 0 && !known.is_empty() {
                                // What `use` imports, for the modules whose `__using__`
                                // is known: `use ExUnit.Case` brings `assert`.
                                for (module, only) in known {
                                    ImportFilter::record(
                                        &mut ctx.imports,
                                        &mut ctx.import_filters,
                                        module.to_string(),
                                        only_list(*only),
                                    );
                                }
                                ctx.imports_from(node.start_byte());
                            }
                            // Every chunk carries the module's uses: past this many, no more
                            // (as with imports, `chunk::MAX_IMPORTS`).
                            if ctx.uses.len() >= MAX_USES {
                                ctx.tag_once("too_many_uses");
                                return Classified::Item(fallback);
                            }
                            // `use MyAppWeb, :controller` runs `MyAppWeb.controller/0`'s quote.
                            let args = child_of_kind(node, "arguments");
                            for which in calls::use_which(args, self.src) {
                                ctx.uses.push(format!("{expanded}.{which}/0"));
                            }
                            if expanded == "Phoenix.View" && view_root.is_some() {
                                ctx.view_root = view_root.clone();
                            }
                            ctx.uses.push(expanded);
                        }
                        _ => {}
                    }
                }
            }
            "embed_templates" => {
                if self.modules[module].embeds.len() < MAX_EMBEDS
                    && let Some(embed) = self.embedded_templates(node)
                {
                    self.modules[module].embeds.push(embed);
                }
            }
            "defstruct" => {
                self.implies(module, node, calls::implied_by(name, ""));
                self.modules[module].tags.push("struct");
            }
            "defexception" => {
                // `message/1` only for an exception with a `:message` field.
                self.implies(module, node, calls::implied_by(name, self.text(node)));
                let ctx = &mut self.modules[module];
                ctx.tags.push("exception");
                ctx.tags.push("struct");
                // As Elixir's `defexception` does.
                ctx.behaviours.push("Exception".to_string());
            }
            _ if WRAPPERS.contains(&name) => {
                if depth < MAX_WRAPPER_DEPTH
                    && let Some(children) = block_body(node)
                {
                    let passes = name == "for" && self.passes_its_variable(node, &children);
                    // `if Version.match?(…) do @behaviour Mix.Tasks.Format end`: the module
                    // implements it (when it holds no definition, the `if` is not read
                    // further).
                    if matches!(name, "if" | "unless") {
                        for &child in &children {
                            let Some(rest) = self.text(child).strip_prefix("@behaviour") else {
                                continue;
                            };
                            let written = rest.trim();
                            if written.starts_with(|c: char| c.is_ascii_uppercase())
                                && written
                                    .chars()
                                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                            {
                                let b = self.expand_module(written, Some(module));
                                if !self.modules[module].behaviours.contains(&b) {
                                    self.modules[module].behaviours.push(b);
                                }
                            }
                        }
                    }
                    // A macro of this file called with the `for`'s variable defines here.
                    if self.holds_definitions(&children, depth)
                        || (passes && self.calls_a_template(&children))
                    {
                        if name == "for" {
                            self.pending_for = self.for_atoms(node, module);
                        }
                        return Classified::Wrapper(children);
                    }
                    // Another file's macro may: its calls are recorded once per atom, for
                    // the symbol graph, and the `for` stays a statement of the module.
                    if passes && let Some(binding) = self.for_atoms(node, module) {
                        self.for_names.push(binding);
                        for &child in children.iter().filter(|c| c.kind() == "call") {
                            self.record_macro_call(child, module);
                        }
                        self.for_names.pop();
                    }
                }
            }
            "quote" => {}
            _ => {
                self.record_macro_call(node, module);
                // `use Ecto.Schema`'s `schema "users" do … end` (or `schema("users",
                // do: …)`) defines the struct. Ecto's `schema` names its source
                // (`schema do … end` is another DSL's). TypedEctoSchema's
                // `typed_schema` and `typed_embedded_schema` are Ecto's with types, and
                // TypedStruct's `typedstruct do … end` a `defstruct` (with `module: Sub`,
                // another module's, not known here).
                let source = || {
                    (child_of_kind(node, "arguments").and_then(|a| a.named_child(0)))
                        .is_some_and(|a| a.kind() == "string")
                };
                let schema = match name {
                    "embedded_schema" | "typed_embedded_schema" => true,
                    "schema" | "typed_schema" => source(),
                    _ => false,
                };
                if schema && self.has_body(node) {
                    self.implies(module, node, calls::implied_by(name, ""));
                    self.record_inline_embeds(module, node);
                } else if name == "typedstruct"
                    && self.has_body(node)
                    && self.keyword_value(node, "module").is_none()
                {
                    self.implies(module, node, calls::implied_by("defstruct", ""));
                    self.modules[module].tags.push("struct");
                }
                if let Some(wrapper) = self.fn_wrapper(node, None, module, depth) {
                    return wrapper;
                }
                // Another macro's `do` block holding definitions or tests (a case
                // template's `define_tests do`, a DSL's `defresources [...] do`): what the
                // macro makes of them is not known, so they are kept, each a chunk of its
                // own, and marked conditional, as under `if`.
                if depth < MAX_WRAPPER_DEPTH
                    && let Some(children) = block_body(node)
                    && self.holds_definitions(&children, depth)
                {
                    return Classified::Wrapper(children);
                }
                // In a test file's `describe`, a macro named for the tests it writes
                // (gen_rmq's shared `receive_message_test(Default)`): the describe's
                // tests, named under it by the call's first line, not header material.
                // (Not a setup's kind, `setup_with_mocks`, nor another macro: `defmock`.)
                if let Some(d) = &self.describe
                    && self.path.ends_with("_test.exs")
                    && name.contains("test")
                    && !name.starts_with("setup")
                    && (node.child_by_field_name("target"))
                        .is_some_and(|t| t.kind() == "identifier")
                {
                    let first = self.text(node).lines().next().unwrap_or_default();
                    let call = super::collapse_whitespace(first);
                    let call: String = call.chars().take(MAX_GENERATED_TEST_NAME).collect();
                    return Classified::Item(ItemKind::Test(TestInfo {
                        kind: ChunkKind::Test,
                        name: format!("{d} {call}"),
                        pending: false,
                        property: false,
                    }));
                }
            }
        }
        Classified::Item(fallback)
    }

    /// The modules an Ecto schema's inline embeds define (`embeds_one :metadata,
    /// Metadata, opts do … end` in `Parent`: `Parent.Metadata`, and one inside it
    /// `Parent.Metadata.Sink`), with the protocols each `@derive`s, recorded in `module`.
    fn record_inline_embeds(&mut self, module: usize, schema: Node<'t>) {
        let parent = self.modules[module].name.clone();
        let mut stack: Vec<(Node<'t>, String, usize)> = vec![(schema, parent, 0)];
        let mut found = Vec::new();
        while let Some((node, owner, depth)) = stack.pop() {
            if depth >= MAX_WRAPPER_DEPTH || found.len() >= MAX_USES {
                continue;
            }
            for statement in block_body(node).unwrap_or_default() {
                let embeds = matches!(
                    target_name(statement, self.src),
                    Some("embeds_one" | "embeds_many")
                );
                let Some(alias) = (embeds && child_of_kind(statement, "do_block").is_some())
                    .then(|| child_of_kind(statement, "arguments").and_then(|a| a.named_child(1)))
                    .flatten()
                    .filter(|a| a.kind() == "alias")
                else {
                    continue;
                };
                let nested = format!("{owner}.{}", self.text(alias));
                let mut derives = Vec::new();
                for inner in block_body(statement).unwrap_or_default() {
                    let Some(rest) = self.text(inner).strip_prefix("@derive") else {
                        continue;
                    };
                    // `@derive Jason.Encoder`, `@derive {Jason.Encoder, only: […]}`, or a list.
                    let rest = rest.trim_start().trim_start_matches(['[', '{']);
                    let protocol: String = (rest.chars())
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                        .collect();
                    if protocol.starts_with(|c: char| c.is_ascii_uppercase()) {
                        derives.push(self.expand_module(&protocol, Some(module)));
                    }
                }
                let signature =
                    collapse_whitespace(self.text(statement).lines().next().unwrap_or(""));
                found.push((nested.clone(), statement.start_byte(), signature, derives));
                stack.push((statement, nested, depth + 1));
            }
        }
        found.sort_by_key(|(_, at, ..)| *at);
        self.modules[module].inline_embeds.extend(found);
    }

    /// Records that `node` (at the module's top level) defines `funs` in `module`.
    /// Its signature is the whole of a short `defstruct [...]` on one line, or else its
    /// first line (`schema "users" do`).
    fn implies(&mut self, module: usize, node: Node<'t>, funs: &[(&'static str, u32)]) {
        let text = self.text(node);
        let whole = text.len() <= MAX_IMPLYING_TEXT
            && !text.contains('#')
            && child_of_kind(node, "do_block").is_none();
        let signature = collapse_whitespace(match whole {
            true => text,
            false => text.lines().next().unwrap_or(""),
        });
        let at = node.start_byte();
        let implied = &mut self.modules[module].implied;
        for &(fun, arity) in funs {
            implied.push((fun, arity, at, signature.clone()));
        }
    }

    /// A call whose anonymous-function arguments hold definitions, as a wrapper of them.
    /// `piped` is the value piped into it (`@levels |> Enum.each(fn level -> … end)`).
    /// `Enum.each`, `Enum.map` and `Enum.flat_map` over known atoms run their function as
    /// a `for` runs its block: `def unquote(level)(…)` inside defines each atom.
    fn fn_wrapper(
        &mut self,
        node: Node<'t>,
        piped: Option<Node<'t>>,
        module: usize,
        depth: usize,
    ) -> Option<Classified<'t>> {
        if depth >= MAX_WRAPPER_DEPTH || node.kind() != "call" {
            return None;
        }
        let children = fn_bodies(node)?;
        if !self.holds_definitions(&children, depth) {
            return None;
        }
        self.pending_for = self.callback_atoms(node, piped, module);
        Some(Classified::Wrapper(children))
    }

    /// `Enum.each(enumerable, fn var -> … end)` (or `Enum.map`, `Enum.flat_map`, or the
    /// enumerable piped in): the variable and what it runs over, as [`for_atoms`]
    /// (Self::for_atoms) reads a `for`'s generator.
    fn callback_atoms(
        &self,
        node: Node<'t>,
        piped: Option<Node<'t>>,
        module: usize,
    ) -> Option<(String, ForNames)> {
        let target = node.child_by_field_name("target")?;
        if target.kind() != "dot"
            || target
                .child_by_field_name("left")
                .is_none_or(|m| self.text(m) != "Enum")
            || target
                .child_by_field_name("right")
                .is_none_or(|f| !matches!(self.text(f), "each" | "map" | "flat_map"))
        {
            return None;
        }
        let args = calls::named_children(child_of_kind(node, "arguments")?);
        let (enumerable, function) = match (piped, args.as_slice()) {
            (Some(from), [function]) => (from, *function),
            (None, [enumerable, function]) => (*enumerable, *function),
            _ => return None,
        };
        let clause = match calls::named_children(function).as_slice() {
            [clause] if clause.kind() == "stab_clause" => *clause,
            _ => return None,
        };
        // `fn level when is_atom(level) ->`: the parameters are the guard's left side.
        let params = clause.child_by_field_name("left").map(|left| {
            let guarded = left.kind() == "binary_operator"
                && left
                    .child_by_field_name("operator")
                    .is_some_and(|o| self.text(o) == "when");
            match guarded {
                true => left.child_by_field_name("left").unwrap_or(left),
                false => left,
            }
        });
        let pattern = match params.map(calls::named_children).as_deref() {
            Some([pattern]) => *pattern,
            _ => return None,
        };
        self.generator_names(pattern, enumerable, module)
    }

    /// Whether statements hold definitions, directly or in nested wrappers.
    fn holds_definitions(&self, children: &[Node<'t>], depth: usize) -> bool {
        if depth >= MAX_WRAPPER_DEPTH {
            return false;
        }
        children.iter().any(|&child| {
            // Types and callbacks under `if Code.ensure_loaded?(Plug.Conn) do` too.
            self.declares_type(child)
                || match target_name(child, self.src) {
                    Some(n) if DEF_KEYWORDS.contains(&n) || is_module_keyword(n) => true,
                    // Tests under `if Code.ensure_loaded?(Jason) do`: chunks of their own too.
                    Some(
                        "test" | "describe" | "property" | "setup" | "setup_all" | "test_with_mock",
                    ) => self.has_body(child),
                    Some("feature") if self.path.ends_with("_test.exs") => self.has_body(child),
                    Some("quote") => false,
                    Some(n) if WRAPPERS.contains(&n) => {
                        block_body(child).is_some_and(|c| self.holds_definitions(&c, depth + 1))
                    }
                    _ => fn_bodies(piped_call(child).unwrap_or(child))
                        .is_some_and(|c| self.holds_definitions(&c, depth + 1)),
                }
        })
    }

    /// Whether a statement of `body` calls, by its name alone, a macro of this file whose
    /// quote defines from its arguments (see [`MacroTemplate`]).
    fn calls_a_template(&self, body: &[Node<'t>]) -> bool {
        !self.macro_templates.is_empty()
            && body.iter().any(|&statement| {
                target_name(statement, self.src)
                    .is_some_and(|n| self.macro_templates.keys().any(|(_, name, _)| name == n))
            })
    }

    /// Whether a statement of a `for`'s body calls something with the `for`'s variable,
    /// or an atom written around it (`defsequence(:"light_#{color}", code)`): a macro
    /// may define a function per atom from it.
    fn passes_its_variable(&self, node: Node<'t>, body: &[Node<'t>]) -> bool {
        let Some(var) = (child_of_kind(node, "arguments").and_then(|a| a.named_child(0)))
            .filter(|g| g.kind() == "binary_operator")
            .and_then(|g| g.child_by_field_name("left"))
            .and_then(|p| match p.kind() {
                "tuple" => p.named_child(0),
                _ => Some(p),
            })
            .filter(|v| v.kind() == "identifier")
            .map(|v| self.text(v))
        else {
            return false;
        };
        let interpolated = format!("#{{{var}}}");
        (body.iter().filter(|s| s.kind() == "call")).any(|&call| {
            (child_of_kind(call, "arguments").map(calls::named_children))
                .unwrap_or_default()
                .iter()
                .any(|a| match a.kind() {
                    "identifier" => self.text(*a) == var,
                    "quoted_atom" => self.text(*a).contains(&interpolated),
                    _ => false,
                })
        })
    }

    /// `@type`, `@typep`, `@opaque`, `@callback` or `@macrocallback`.
    fn declares_type(&self, node: Node<'t>) -> bool {
        let g = calls::grammar();
        node.kind_id() == g.unary_operator
            && node.child_by_field_id(g.operator).map(|o| o.kind_id()) == Some(g.op_at)
            && node.child_by_field_id(g.operand).is_some_and(|call| {
                matches!(
                    target_name(call, self.src),
                    Some("type" | "typep" | "opaque" | "callback" | "macrocallback")
                )
            })
    }

    fn record_alias(&mut self, node: Node<'t>, module: usize) {
        let Some(args) = child_of_kind(node, "arguments") else {
            return;
        };
        let Some(first) = args.named_child(0) else {
            return;
        };
        let mut pairs: Vec<(String, String)> = Vec::new();
        if first.kind() == "dot"
            && first.child_by_field_name("right").map(|r| r.kind()) == Some("tuple")
        {
            // alias Foo.{A, B}
            let base = first
                .child_by_field_name("left")
                .map(|l| self.expand_module(self.text(l), Some(module)))
                .unwrap_or_default();
            let tuple = first.child_by_field_name("right").expect("checked above");
            let mut cursor = tuple.walk();
            for member in tuple.named_children(&mut cursor) {
                let m = self.text(member);
                let short = m.rsplit('.').next().unwrap_or(m).to_string();
                pairs.push((short, format!("{base}.{m}")));
            }
        } else {
            let full = self.expand_module(self.text(first), Some(module));
            let short = match self.keyword_value(node, "as") {
                Some(as_node) => self.text(as_node).to_string(),
                None => full.rsplit('.').next().unwrap_or(&full).to_string(),
            };
            pairs.push((short, full));
        }
        let ctx = &mut self.modules[module];
        for (short, full) in pairs {
            let shown = if full.ends_with(&format!(".{short}")) || full == short {
                full.clone()
            } else {
                format!("{full} as {short}")
            };
            ctx.alias_list.push(shown);
            ctx.push_alias(node.start_byte(), short, full);
        }
    }

    /// Whether a header item may sit between two clauses of one function, in its chunk:
    /// a module attribute that is no more than a value (`@keep [:a, :b]`), not one that
    /// speaks of the module (`@moduledoc`, `@behaviour`, `@derive`, compile hooks).
    fn between_clauses(&self, node: Node<'t>) -> bool {
        let g = calls::grammar();
        if node.kind_id() != g.unary_operator
            || node.child_by_field_id(g.operator).map(|o| o.kind_id()) != Some(g.op_at)
        {
            return false;
        }
        let Some(operand) = node.child_by_field_id(g.operand) else {
            return false;
        };
        let name = match operand.kind_id() == g.call {
            true => operand
                .child_by_field_id(g.target)
                .map_or("", |t| self.text(t)),
            false => self.text(operand),
        };
        !matches!(
            name,
            "moduledoc"
                | "behaviour"
                | "derive"
                | "before_compile"
                | "after_compile"
                | "after_verify"
                | "on_definition"
                | "on_load"
                | "compile"
                | "dialyzer"
                | "external_resource"
                | "fallback_to_any"
                | "enforce_keys"
                | ""
        )
    }

    fn attribute(&mut self, node: Node<'t>, module: usize) -> ItemKind<'t> {
        let Some(operand) = node.child_by_field_name("operand") else {
            return ItemKind::Header;
        };
        let (name, arg) = match operand.kind() {
            "call" => (
                operand
                    .child_by_field_name("target")
                    .map(|t| self.text(t))
                    .unwrap_or(""),
                child_of_kind(operand, "arguments").and_then(|a| a.named_child(0)),
            ),
            _ => (self.text(operand), None),
        };
        match name {
            "doc" => ItemKind::Lead(Attr::Doc(self.doc_value(arg))),
            "typedoc" => ItemKind::Lead(Attr::TypeDoc(self.doc_value(arg))),
            "moduledoc" => {
                match self.doc_value(arg) {
                    DocValue::Text(t) => self.modules[module].moduledoc = Some(t),
                    DocValue::Hidden => self.modules[module].hidden = true,
                    DocValue::Meta | DocValue::Deprecated => {}
                }
                ItemKind::Header
            }
            "impl" => ItemKind::Lead(Attr::Impl(
                arg.map(|a| self.text(a).to_string()).unwrap_or_default(),
            )),
            "deprecated" => ItemKind::Lead(Attr::Deprecated),
            "spec" => {
                if let Some(arg) = arg
                    && let Some((fun, arity)) = spec_key(arg, self.src)
                {
                    let text = collapse_whitespace(self.text(node));
                    self.modules[module]
                        .specs
                        .entry((fun, arity))
                        .or_default()
                        .push(text);
                }
                ItemKind::Lead(Attr::Other)
            }
            "tag" | "describetag" => ItemKind::Lead(Attr::Other),
            "type" | "typep" | "opaque" | "callback" | "macrocallback" => {
                let type_name = arg
                    .and_then(|a| spec_key(a, self.src))
                    .map(|(n, a)| format!("{n}/{a}"))
                    .unwrap_or_else(|| name.to_string());
                ItemKind::Type(type_name)
            }
            "behaviour" => {
                if let Some(arg) = arg {
                    let b = self.expand_module(self.text(arg), Some(module));
                    self.modules[module].behaviours.push(b);
                }
                ItemKind::Header
            }
            // `@derive Jason.Encoder`, `@derive {Inspect, only: [:id]}` or a list of
            // either: the struct defined after it implements each protocol.
            "derive" => {
                let protocols = match arg {
                    Some(a) if a.kind() == "list" => calls::named_children(a),
                    Some(a) => vec![a],
                    None => Vec::new(),
                };
                let signature = collapse_whitespace(self.text(node));
                for p in protocols {
                    let p = match p.kind() {
                        "tuple" => p.named_child(0),
                        _ => Some(p),
                    };
                    let Some(p) = p.filter(|p| p.kind() == "alias") else {
                        continue;
                    };
                    let protocol = self.expand_module(self.text(p), Some(module));
                    let ctx = &mut self.modules[module];
                    if ctx.derives.len() >= MAX_USES {
                        ctx.tag_once("too_many_uses");
                    } else if ctx.derives.iter().all(|(d, _, _)| *d != protocol) {
                        ctx.derives
                            .push((protocol, node.start_byte(), signature.clone()));
                    }
                }
                ItemKind::Header
            }
            // `@before_compile Mod` runs `Mod.__before_compile__/1`'s quote as the module
            // ends: followed as a `use` is, under that key (as in a quote). The hook must
            // be another module's (this one does not exist yet when it runs).
            "before_compile" => {
                // `@before_compile Mod`, `@before_compile __MODULE__.Hooks` or
                // `@before_compile {Mod, :hook}` (its `hook/1`).
                let (written, hook) = match arg {
                    Some(a) if a.kind() == "tuple" => (
                        a.named_child(0).filter(|m| m.kind() == "alias"),
                        a.named_child(1).and_then(|f| calls::atom_name(f, self.src)),
                    ),
                    Some(a) => (Some(a), Some("__before_compile__")),
                    None => (None, None),
                };
                let written = written.filter(|m| {
                    m.kind() == "alias"
                        || (m.kind() == "dot" && self.text(*m).starts_with("__MODULE__."))
                });
                if let (Some(arg), Some(fun)) = (written, hook) {
                    let hook = self.expand_module(self.text(arg), Some(module));
                    let hook = format!("{hook}.{fun}/1");
                    let ctx = &mut self.modules[module];
                    if ctx.uses.len() >= MAX_USES {
                        ctx.tag_once("too_many_uses");
                    } else if !ctx.uses.contains(&hook) {
                        ctx.uses.push(hook);
                    }
                }
                ItemKind::Header
            }
            _ => {
                // `@subject Supavisor.ClientHandler`: calls through `@subject` call that
                // module's functions, from here on (an alias named `@subject`); so do
                // calls through a configured module's default (`@tracer
                // Application.compile_env(:appsignal, :tracer, Appsignal.Tracer)`).
                let arg = arg.map(|a| self.configured_default(a).unwrap_or(a));
                if let Some(a) = arg.filter(|a| {
                    a.kind() == "alias"
                        || (a.kind() == "dot" && self.text(*a).starts_with("__MODULE__."))
                        || (a.kind() == "identifier" && self.text(*a) == "__MODULE__")
                }) {
                    let full = self.expand_module(self.text(a), Some(module));
                    let ctx = &mut self.modules[module];
                    // Listed as an alias too, so that a call's line is read through it.
                    let shown = format!("{full} as @{name}");
                    if !ctx.alias_list.contains(&shown) {
                        ctx.alias_list.push(shown);
                    }
                    ctx.push_alias(node.start_byte(), format!("@{name}"), full);
                }
                // Set again to what is not known (`@types @types ++ more()`), it is
                // forgotten.
                let known = arg.and_then(|a| self.known_atoms(a, module, MAX_ENUMERABLE_DEPTH));
                let ctx = &mut self.modules[module];
                match known {
                    Some(atoms) => {
                        ctx.atom_lists.insert(format!("@{name}"), atoms);
                    }
                    None if !ctx.atom_lists.is_empty() => {
                        ctx.atom_lists.remove(&format!("@{name}"));
                    }
                    None => {}
                }
                ItemKind::Header
            }
        }
    }

    /// The atoms a literal enumerable runs over: a list of atoms (`[:get, :post]`), words
    /// as atoms (`~w(get post)a`, without interpolation), a keyword list (`[no_error:
    /// 0]`), a list of `{atom, value}` tuples, a map with atom keys, an attribute or
    /// module-body variable set to one, or one of those through
    /// `Enum.sort/1`, `Enum.with_index/1`, `Map.keys/1` and the like (Bandit's
    /// `for {name, value} <- Enum.sort(error_codes)`).
    /// Lists joined by `++` are read in order (`[:u8, :u16] ++ [:f32]`, Nx's types).
    /// Empty lists name nothing.
    fn literal_atoms(&self, node: Node<'t>, module: usize) -> Option<AtomList> {
        (self.known_atoms(node, module, MAX_ENUMERABLE_DEPTH)).filter(|l| !l.atoms.is_empty())
    }

    /// What [`literal_atoms`](Self::literal_atoms) reads, empty lists included (an
    /// attribute set to `[]` may be joined to another), looking through at most `depth`
    /// calls and `++`s more.
    fn known_atoms(&self, node: Node<'t>, module: usize, depth: usize) -> Option<AtomList> {
        let plain = |n: Node<'t>| calls::atom_name(n, self.src).map(str::to_string);
        let keyword_keys = |keywords: Node<'t>| -> Option<Vec<String>> {
            let mut cursor = keywords.walk();
            (keywords.named_children(&mut cursor))
                .filter(|n| n.kind() != "comment")
                .map(|pair| {
                    let key = pair.child_by_field_name("key")?;
                    let k = self.text(key).trim().trim_end_matches(':');
                    (key.kind() == "keyword" && !k.contains('"')).then(|| k.to_string())
                })
                .collect()
        };
        let list = match node.kind() {
            "list" => {
                let mut cursor = node.walk();
                let items: Vec<Node<'t>> = (node.named_children(&mut cursor))
                    .filter(|n| n.kind() != "comment")
                    .collect();
                match items.as_slice() {
                    [k] if k.kind() == "keywords" => AtomList {
                        atoms: keyword_keys(*k)?,
                        pairs: true,
                    },
                    [first, ..] if first.kind() == "tuple" => AtomList {
                        atoms: (items.iter())
                            .map(|t| {
                                (t.kind() == "tuple" && t.named_child_count() == 2)
                                    .then(|| t.named_child(0).and_then(plain))
                                    .flatten()
                            })
                            .collect::<Option<_>>()?,
                        pairs: true,
                    },
                    _ => AtomList {
                        atoms: items.iter().map(|n| plain(*n)).collect::<Option<_>>()?,
                        pairs: false,
                    },
                }
            }
            "map" => {
                // `%Struct{…}` is no enumerable.
                let mut cursor = node.walk();
                let children: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
                if children.iter().any(|c| c.kind() == "struct") {
                    return None;
                }
                let content = children.into_iter().find(|c| c.kind() == "map_content")?;
                let mut cursor = content.walk();
                let mut atoms = Vec::new();
                for part in content.named_children(&mut cursor) {
                    match part.kind() {
                        "keywords" => atoms.extend(keyword_keys(part)?),
                        "binary_operator" => atoms.push(plain(part.child_by_field_name("left")?)?),
                        "comment" => {}
                        _ => return None,
                    }
                }
                AtomList { atoms, pairs: true }
            }
            "identifier" => self.modules[module]
                .atom_lists
                .get(self.text(node))?
                .clone(),
            // `~w(from to cc)a` (Bamboo's `@address_functions`): words as atoms, with no
            // interpolation.
            "sigil" => {
                let mut cursor = node.walk();
                let children: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
                let part = |kind: &str| children.iter().find(|c| c.kind() == kind).copied();
                let name = self.text(part("sigil_name")?);
                let modifiers = part("sigil_modifiers").map_or("", |m| self.text(m));
                let content = part("quoted_content");
                let plain_words = children.iter().all(|c| {
                    matches!(
                        c.kind(),
                        "sigil_name" | "sigil_modifiers" | "quoted_content"
                    )
                });
                if !matches!(name, "w" | "W") || modifiers != "a" || !plain_words {
                    return None;
                }
                let words = content.map_or("", |c| self.text(c)).split_whitespace();
                let atoms = words
                    .map(|w| {
                        let identifier = (w.chars().next())
                            .is_some_and(|c| c.is_lowercase() || c == '_')
                            && w.chars()
                                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '?' | '!'));
                        identifier.then(|| w.to_string())
                    })
                    .collect::<Option<Vec<String>>>()?;
                AtomList {
                    atoms,
                    pairs: false,
                }
            }
            "unary_operator" if self.text(node.child_by_field_name("operator")?) == "@" => {
                let attr = self.text(node.child_by_field_name("operand")?);
                self.modules[module]
                    .atom_lists
                    .get(&format!("@{attr}"))?
                    .clone()
            }
            "call" => {
                let target = node.child_by_field_name("target")?;
                let args = child_of_kind(node, "arguments")?;
                if target.kind() != "dot" || args.named_child_count() != 1 {
                    return None;
                }
                let inner =
                    self.known_atoms(args.named_child(0)?, module, depth.checked_sub(1)?)?;
                let (m, f) = (
                    self.text(target.child_by_field_name("left")?),
                    self.text(target.child_by_field_name("right")?),
                );
                match (m, f) {
                    ("Enum", "sort" | "uniq" | "reverse" | "to_list")
                    | ("Map", "to_list")
                    | ("Keyword", "to_list") => inner,
                    ("Map" | "Keyword", "keys") if inner.pairs => AtomList {
                        atoms: inner.atoms,
                        pairs: false,
                    },
                    ("Enum", "with_index") if !inner.pairs => AtomList {
                        atoms: inner.atoms,
                        pairs: true,
                    },
                    _ => return None,
                }
            }
            // `[:u8, :u16] ++ [:f32]`: both sides, in order.
            "binary_operator" if self.text(node.child_by_field_name("operator")?) == "++" => {
                let depth = depth.checked_sub(1)?;
                let mut left =
                    self.known_atoms(node.child_by_field_name("left")?, module, depth)?;
                let right = self.known_atoms(node.child_by_field_name("right")?, module, depth)?;
                // An empty list joins either kind.
                left.pairs = match (left.atoms.is_empty(), right.atoms.is_empty()) {
                    (true, _) => right.pairs,
                    (_, true) => left.pairs,
                    _ if left.pairs == right.pairs => left.pairs,
                    _ => return None,
                };
                left.atoms.extend(right.atoms);
                left
            }
            _ => return None,
        };
        (list.atoms.len() <= MAX_GENERATED_NAMES).then_some(list)
    }

    /// `for var <- [:a, :b]`, `for {var, _} <- [a: 1]`, `for var <- @attr`...: the variable
    /// and the atoms it runs over (as `literal_atoms` reads them); or, over what a
    /// function of no arguments returns (`for {name, _} <- Shared.math_funs()`), the
    /// variable and that function.
    fn for_atoms(&self, node: Node<'t>, module: usize) -> Option<(String, ForNames)> {
        let args = child_of_kind(node, "arguments")?;
        let generator = args.named_child(0)?;
        if generator.kind() != "binary_operator"
            || generator
                .child_by_field_name("operator")
                .is_none_or(|o| self.text(o) != "<-")
        {
            return None;
        }
        let pattern = generator.child_by_field_name("left")?;
        let right = generator.child_by_field_name("right")?;
        self.generator_names(pattern, right, module)
    }

    /// The variable of a generator's `pattern` and the atoms of the enumerable `right` it
    /// runs over, or the function of no arguments that returns them.
    fn generator_names(
        &self,
        pattern: Node<'t>,
        right: Node<'t>,
        module: usize,
    ) -> Option<(String, ForNames)> {
        // `name` over atoms, `{name, _value}` over pairs.
        let var = |pairs: bool| match pattern.kind() {
            "identifier" if !pairs => Some(pattern),
            "tuple" if pairs && pattern.named_child_count() == 2 => {
                pattern.named_child(0).filter(|v| v.kind() == "identifier")
            }
            _ => None,
        };
        let (var, names) = match self.literal_atoms(right, module) {
            Some(source) => (var(source.pairs)?, ForNames::Atoms(source.atoms)),
            // `for n <- [1, 2, 3]`: numbers name nothing alone, but an atom written
            // around them does (`defsequence(:"font_#{n}", n + 10)`).
            None if let Some(numbers) = self.literal_integers(right) => {
                (var(false)?, ForNames::Atoms(numbers))
            }
            None => {
                let function = self.function_of_no_arguments(right, module)?;
                let pairs = pattern.kind() == "tuple";
                let from = NamesFrom {
                    function,
                    pairs,
                    written: String::new(),
                };
                (var(pairs)?, ForNames::Returned(from))
            }
        };
        Some((self.text(var).to_string(), names))
    }

    /// The integers of a literal list (`[1, 2, 3]`), at most [`MAX_GENERATED_NAMES`].
    fn literal_integers(&self, node: Node<'t>) -> Option<Vec<String>> {
        if node.kind() != "list" {
            return None;
        }
        // Written plainly: `0x10` or `1_000` would name `f16` or `f1000` in Elixir.
        let numbers = (calls::named_children(node).into_iter())
            .map(|n| self.text(n))
            .map(|t| t.bytes().all(|b| b.is_ascii_digit()).then(|| t.to_string()))
            .collect::<Option<Vec<String>>>()?;
        (!numbers.is_empty() && numbers.len() <= MAX_GENERATED_NAMES).then_some(numbers)
    }

    /// `Mod.fun()` or `Mod.fun`: the function called, `Mod.fun/0` (with the module's
    /// aliases expanded). A call without a module is left out: the module's own functions
    /// cannot run in its body, so it names an import, which is not followed here.
    fn function_of_no_arguments(&self, node: Node<'t>, module: usize) -> Option<String> {
        if node.kind() != "call" {
            return None;
        }
        if child_of_kind(node, "arguments").is_some_and(|a| a.named_child_count() > 0)
            || child_of_kind(node, "do_block").is_some()
        {
            return None;
        }
        let target = node.child_by_field_name("target")?;
        if target.kind() != "dot" {
            return None;
        }
        let left = target.child_by_field_name("left")?;
        let right = target.child_by_field_name("right")?;
        if left.kind() != "alias" || right.kind() != "identifier" {
            return None;
        }
        let owner = self.expand_module(self.text(left), Some(module));
        let fun = self.text(right);
        (!owner.is_empty() && !fun.starts_with("unquote")).then(|| format!("{owner}.{fun}/0"))
    }

    fn doc_value(&self, arg: Option<Node<'t>>) -> DocValue {
        match arg {
            None => DocValue::Meta,
            Some(a) => match a.kind() {
                "boolean" if self.text(a) == "false" => DocValue::Hidden,
                "string" | "charlist" | "sigil" => DocValue::Text(string_content(a, self.src)),
                "keywords"
                    if calls::keyword_pairs(a).iter().any(|(key, _)| {
                        self.text(*key).trim_end().strip_suffix(':') == Some("deprecated")
                    }) =>
                {
                    DocValue::Deprecated
                }
                _ => DocValue::Meta,
            },
        }
    }

    fn parse_def(&self, node: Node<'t>, keyword: &str) -> Option<DefInfo> {
        let head = def_head(node)?;
        let args = child_of_kind(node, "arguments")?;
        let first = args.named_child(0)?;
        let kind = calls::def_kind(keyword)?;
        if keyword == "defdelegate" && head.kind() == "list" {
            // `defdelegate [at(l, i), fetch(l, i)], to: Enum`: one delegate per element.
            let mut cursor = head.walk();
            let mut heads = head
                .named_children(&mut cursor)
                .filter(|h| h.kind() != "comment")
                .filter_map(|h| self.head_parts(h))
                .filter(|(name, _, _)| !name.is_empty())
                .map(|(name, params, _)| (name, self.arities(&params)));
            let (name, arities) = heads.next()?;
            return Some(DefInfo {
                keyword: keyword.to_string(),
                kind,
                name,
                arities,
                also: heads.collect(),
                dynamic: false,
                head_start: first.start_byte(),
                head_end: first.end_byte(),
                has_body: true,
                head: None,
                name_var: None,
                templates: Vec::new(),
                also_heads: Vec::new(),
                returns: None,
                names_from: None,
            });
        }
        let (name, params, dynamic) = self.head_parts(head)?;
        if name.is_empty() {
            return None;
        }
        let arities = self.arities(&params);
        // `for level <- @levels do defmacro unquote(level)(…)`: one definition per atom.
        let generated = name
            .strip_prefix("unquote(")
            .and_then(|n| n.strip_suffix(')'))
            .and_then(|var| self.for_names.iter().rev().find(|(v, _)| v == var.trim()))
            .filter(|_| dynamic)
            .map(|(_, names)| names.clone());
        let mut names_from = None;
        let (name, also, dynamic, name_var) = match generated {
            Some(ForNames::Atoms(atoms)) => {
                let also = (atoms[1..].iter())
                    .map(|a| (a.clone(), arities.clone()))
                    .collect();
                (atoms[0].clone(), also, false, Some(name))
            }
            Some(ForNames::Returned(from)) => {
                names_from = Some(Box::new(NamesFrom {
                    written: name.clone(),
                    ..from
                }));
                (name, Vec::new(), dynamic, None)
            }
            None => (name, Vec::new(), dynamic, None),
        };

        Some(DefInfo {
            keyword: keyword.to_string(),
            kind,
            name,
            arities,
            also,
            dynamic,
            head_start: first.start_byte(),
            head_end: first.end_byte(),
            has_body: self.has_body(node)
                || matches!(keyword, "defdelegate" | "defguard" | "defguardp"),
            head: None,
            name_var,
            templates: Vec::new(),
            also_heads: Vec::new(),
            returns: None,
            names_from,
        })
    }

    /// The atoms a function's body returns as a literal (`do: [exp: …, log: …]`, or a
    /// `do` block of that one expression), as [`literal_atoms`](Self::literal_atoms)
    /// reads them.
    fn returned_atoms(&self, def: Node<'t>, module: usize) -> Option<AtomList> {
        let body = match self.keyword_value(def, "do") {
            Some(value) => value,
            None => {
                let block = child_of_kind(def, "do_block")?;
                let mut cursor = block.walk();
                let mut statements =
                    (block.named_children(&mut cursor)).filter(|n| n.kind() != "comment");
                let only = statements.next()?;
                statements.next().is_none().then_some(only)?
            }
        };
        self.literal_atoms(body, module)
    }

    /// Records what a macro's quotes define where it is called, when an argument of the
    /// macro names it (see [`MacroTemplate`]).
    fn record_templates(
        &mut self,
        node: Node<'t>,
        module: usize,
        def: &DefInfo,
    ) -> Vec<MacroTemplate> {
        let Some((_, params, _)) = def_head(node).and_then(|h| self.head_parts(h)) else {
            return Vec::new();
        };
        // The macro's body: what it quotes is the code it writes.
        let mut body: Vec<(Node<'t>, bool)> = Vec::new();
        if let Some(args) = child_of_kind(node, "arguments") {
            body.extend(
                calls::named_children(args)
                    .into_iter()
                    .skip(1)
                    .map(|n| (n, false)),
            );
        }
        body.extend(child_of_kind(node, "do_block").map(|b| (b, false)));
        let delegate = self.delegated_call(node);
        let mut templates = self.templates_in(&params, body);
        if templates.is_empty()
            && let Some(call) = delegate
        {
            templates = self.helper_templates(node, &params, call);
        }
        if templates.is_empty() {
            return templates;
        }
        let owner = self.modules[module].name.clone();
        for &arity in &def.arities {
            self.macro_templates
                .entry((owner.clone(), def.name.clone(), arity))
                .or_default()
                .extend(templates.iter().cloned());
        }
        templates
    }

    /// The one statement of a macro's body when it is a call of a local function
    /// (`defmacro deftensor(call) do defcall(call, :unwrap!, []) end`, Torchx's; or with
    /// `do:`).
    fn delegated_call(&self, defmacro: Node<'t>) -> Option<Node<'t>> {
        let statements = self.body(defmacro)?;
        let mut code = statements.into_iter().filter(|n| n.kind() != "comment");
        let only = code.next().filter(|_| code.next().is_none())?;
        let target = only.child_by_field_name("target")?;
        (only.kind() == "call" && target.kind() == "identifier").then_some(only)
    }

    /// What a macro that hands its arguments to a function of its module defines: that
    /// function's templates, with its parameters read as the macro's arguments passed in
    /// their places (`defcall(call, …)` in `deftensor(call)`, where `defcall` quotes
    /// `def unquote(name)(unquote_splicing(args))` after `Macro.decompose_call(call)`).
    /// The function is looked for among the statements around the macro, before or after.
    fn helper_templates(
        &mut self,
        defmacro: Node<'t>,
        params: &[Node<'t>],
        call: Node<'t>,
    ) -> Vec<MacroTemplate> {
        let Some(helper) = call.child_by_field_name("target").map(|t| self.text(t)) else {
            return Vec::new();
        };
        if matches!(helper, "quote" | "unquote") {
            return Vec::new();
        }
        let passed = child_of_kind(call, "arguments").map_or_else(Vec::new, calls::named_children);
        // The macro's parameter each argument passes, by position.
        let places: Vec<Option<u32>> = (passed.iter())
            .map(|a| {
                (a.kind() == "identifier")
                    .then(|| params.iter().position(|p| self.text(*p) == self.text(*a)))
                    .flatten()
                    .map(|i| i as u32)
            })
            .collect();
        if places.iter().all(Option::is_none) || self.helper_lookups >= MAX_HELPER_LOOKUPS {
            return Vec::new();
        }
        self.helper_lookups += 1;
        let Some(block) = defmacro.parent() else {
            return Vec::new();
        };
        // The clauses of the function: called with all their parameters, or leaving out
        // some that a clause (a bodiless head, say) gives defaults.
        let defaulted = |p: &Node<'t>| {
            p.kind() == "binary_operator"
                && p.child_by_field_name("operator").map(|o| self.text(o)) == Some("\\\\")
        };
        let clauses: Vec<(Node<'t>, Vec<Node<'t>>)> = (calls::named_children(block).into_iter())
            .filter(|&def| {
                matches!(target_name(def, self.src), Some("def" | "defp"))
                    && def.id() != defmacro.id()
            })
            .filter_map(|def| match def_head(def).and_then(|h| self.head_parts(h)) {
                Some((name, params, false)) if name == helper && params.len() >= passed.len() => {
                    Some((def, params))
                }
                _ => None,
            })
            .collect();
        let arities: Vec<usize> = (clauses.iter())
            .filter(|(_, params)| params[passed.len()..].iter().all(defaulted))
            .map(|(_, params)| params.len())
            .collect();
        for (def, helper_params) in clauses {
            if !arities.contains(&helper_params.len()) {
                continue;
            }
            let mut body: Vec<(Node<'t>, bool)> = Vec::new();
            if let Some(args) = child_of_kind(def, "arguments") {
                body.extend((calls::named_children(args).into_iter().skip(1)).map(|n| (n, false)));
            }
            body.extend(child_of_kind(def, "do_block").map(|b| (b, false)));
            let place = |i: u32| places.get(i as usize).copied().flatten();
            let found: Vec<MacroTemplate> = (self.templates_in(&helper_params, body).into_iter())
                .filter_map(|mut t| {
                    t.name = match t.name {
                        MacroArg::Whole(i) => MacroArg::Whole(place(i)?),
                        MacroArg::CallName(i) => MacroArg::CallName(place(i)?),
                        MacroArg::CallArgs(i) => MacroArg::CallArgs(place(i)?),
                    };
                    if let TemplateArities::Spliced(i) = t.arities {
                        t.arities = TemplateArities::Spliced(place(i)?);
                    }
                    Some(t)
                })
                .collect();
            // A clause that quotes nothing (`defp defcall(_, nil), do: raise …`): the
            // next may.
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }

    /// Records what `var = fn name, code -> def unquote(name)() … end` in a module's body
    /// defines where the module calls `var.(…)` (`IO.ANSI`'s `defsequence` since Elixir
    /// 1.15): its body is code of the module, with unquote fragments.
    fn record_fn_templates(&mut self, var: &str, value: Node<'t>, module: usize) {
        let owner = self.modules[module].name.clone();
        // A name bound again no longer holds what it held.
        if let Some(arities) = self.fn_templates.remove(&(owner.clone(), var.to_string())) {
            for arity in arities {
                (self.macro_templates).remove(&(owner.clone(), format!(".{var}"), arity));
            }
        }
        if value.kind() != "anonymous_function" {
            return;
        }
        let clauses = match value.kind() {
            "anonymous_function" => calls::named_children(value),
            _ => Vec::new(),
        };
        let (params, body) = match clauses.as_slice() {
            [clause] if clause.kind() == "stab_clause" => (
                (clause.child_by_field_name("left")).map_or_else(Vec::new, calls::named_children),
                clause.child_by_field_name("right"),
            ),
            _ => (Vec::new(), None),
        };
        let templates = match body {
            Some(body) if !params.is_empty() => self.templates_in(&params, vec![(body, true)]),
            _ => Vec::new(),
        };
        if !templates.is_empty() {
            let arity = params.len() as u32;
            (self
                .fn_templates
                .entry((owner.clone(), var.to_string()))
                .or_default())
            .push(arity);
            (self.macro_templates).insert((owner, format!(".{var}"), arity), templates);
        }
    }

    /// The definitions quoted code writes (`def unquote(name)(…)`), in source order,
    /// where `params` (a macro's or a function's) give the name: roots are walked
    /// iteratively and within a budget, each with whether it is quoted code.
    fn templates_in(
        &self,
        params: &[Node<'t>],
        mut stack: Vec<(Node<'t>, bool)>,
    ) -> Vec<MacroTemplate> {
        // The parameters that hold a name or a call's arguments.
        let mut bound: Vec<(&str, MacroArg)> = Vec::new();
        for (i, p) in params.iter().enumerate() {
            let mut p = *p;
            if p.kind() == "binary_operator"
                && p.child_by_field_name("operator").map(|o| self.text(o)) == Some("\\\\")
                && let Some(left) = p.child_by_field_name("left")
            {
                p = left;
            }
            match p.kind() {
                "identifier" => bound.push((self.text(p), MacroArg::Whole(i as u32))),
                "tuple" => {
                    let parts = calls::named_children(p);
                    if let [name, _, args] = parts.as_slice() {
                        if name.kind() == "identifier" {
                            bound.push((self.text(*name), MacroArg::CallName(i as u32)));
                        }
                        if args.kind() == "identifier" {
                            bound.push((self.text(*args), MacroArg::CallArgs(i as u32)));
                        }
                    }
                }
                _ => {}
            }
        }
        // `{name, args} = Macro.decompose_call(call)` among the body's statements: the
        // name and the arguments of the call an argument is, as `{name, _, args}` binds
        // them in the head.
        for &(root, _) in &stack {
            let statements = match root.kind() {
                "do_block" => calls::named_children(root),
                _ => vec![root],
            };
            for st in statements {
                if let Some((name, args, from)) = self.decomposed_call(st)
                    && let Some(&(_, MacroArg::Whole(i))) = bound.iter().find(|(v, _)| *v == from)
                {
                    bound.push((name, MacroArg::CallName(i)));
                    bound.push((args, MacroArg::CallArgs(i)));
                }
            }
        }
        let mut templates: Vec<(&str, MacroTemplate)> = Vec::new();
        if bound.is_empty() {
            return Vec::new();
        }
        let lookup = |var: &str| bound.iter().find(|(v, _)| *v == var).map(|(_, a)| *a);
        // Parameters bound again in the body (`name = :"get_#{name}"`, `for name <- …`,
        // `bind_quoted: [name: other]`) no longer hold the argument: not followed.
        let mut rebound: Vec<&str> = Vec::new();
        let mut seen = 0usize;
        while let Some((n, quoted)) = stack.pop() {
            seen += 1;
            if seen > MAX_TEMPLATE_NODES {
                break;
            }
            let mut quoted = quoted;
            match n.kind() {
                "binary_operator" => {
                    let op = n.child_by_field_name("operator").map(|o| self.text(o));
                    // `plug = unquote(plug)` in quoted code keeps the argument.
                    let right = n.child_by_field_name("right").map(|r| self.text(r));
                    if let Some(left) = n.child_by_field_name("left")
                        && left.kind() == "identifier"
                        && matches!(op, Some("=" | "<-"))
                        && right.is_none_or(|r| {
                            let var = self.text(left);
                            r != var && r.strip_prefix("unquote(") != Some(&format!("{var})"))
                        })
                    {
                        rebound.push(self.text(left));
                    }
                }
                "pair" => {
                    let key = n.child_by_field_name("key").map(|k| self.text(k));
                    let value = n.child_by_field_name("value").map(|v| self.text(v));
                    if let Some(key) = key.map(|k| k.trim_end().trim_end_matches(':'))
                        && value != Some(key)
                    {
                        rebound.push(key);
                    }
                }
                _ => {}
            }
            if let Some(name) = target_name(n, self.src) {
                match name {
                    // A quote in quoted code is data: what it holds defines nothing.
                    "quote" if quoted => continue,
                    "quote" => quoted = true,
                    // Runs where the macro runs: no code of the module it lands in.
                    "unquote" | "unquote_splicing" if quoted => continue,
                    "defmodule" => continue,
                    _ if quoted && DEF_KEYWORDS.contains(&name) && name != "defdelegate" => {
                        templates.extend(self.template(n, name, &lookup));
                        continue;
                    }
                    _ => {}
                }
            }
            let mut cursor = n.walk();
            for child in n.named_children(&mut cursor) {
                stack.push((child, quoted));
            }
        }
        // In source order (the stack gave them last first), at most [`MAX_TEMPLATES`].
        templates.reverse();
        (templates.into_iter())
            .filter(|(var, _)| !rebound.contains(var))
            .map(|(_, t)| t)
            .take(MAX_TEMPLATES)
            .collect()
    }

    /// `{name, args} = Macro.decompose_call(call)`: the variables bound, and the one
    /// decomposed.
    fn decomposed_call(&self, statement: Node<'t>) -> Option<(&'s str, &'s str, &'s str)> {
        if statement.kind() != "binary_operator"
            || statement
                .child_by_field_name("operator")
                .map(|o| self.text(o))
                != Some("=")
        {
            return None;
        }
        let left = statement.child_by_field_name("left")?;
        let right = statement.child_by_field_name("right")?;
        let [name, args] = <[Node<'t>; 2]>::try_from(calls::named_children(left)).ok()?;
        if left.kind() != "tuple" || name.kind() != "identifier" || args.kind() != "identifier" {
            return None;
        }
        if right.kind() != "call"
            || right.child_by_field_name("target").map(|t| self.text(t))
                != Some("Macro.decompose_call")
        {
            return None;
        }
        let [from] = <[Node<'t>; 1]>::try_from(
            child_of_kind(right, "arguments").map(calls::named_children)?,
        )
        .ok()?;
        (from.kind() == "identifier").then(|| (self.text(name), self.text(args), self.text(from)))
    }

    /// What a quoted `keyword unquote(var)(…)` defines, when `var` is a macro argument.
    fn template(
        &self,
        node: Node<'t>,
        keyword: &str,
        lookup: &dyn Fn(&str) -> Option<MacroArg>,
    ) -> Option<(&'s str, MacroTemplate)> {
        if node.has_error() {
            return None;
        }
        let head = def_head(node)?;
        let target = head
            .child_by_field_name("target")
            .filter(|_| head.kind() == "call");
        let (var_node, params) = match target {
            // `def unquote(name)(…)`: the head is a call of the call `unquote(name)`.
            Some(t) if target_name(t, self.src) == Some("unquote") => {
                let params = child_of_kind(head, "arguments").map(calls::named_children);
                (t, params.unwrap_or_default())
            }
            // `def unquote(name)`, without arguments.
            _ if target_name(head, self.src) == Some("unquote") => (head, Vec::new()),
            _ => return None,
        };
        let var = child_of_kind(var_node, "arguments")
            .map(calls::named_children)
            .and_then(|a| match a.as_slice() {
                [v] if v.kind() == "identifier" => Some(self.text(*v)),
                _ => None,
            })?;
        let name = match lookup(var)? {
            MacroArg::CallArgs(_) => return None,
            arg => arg,
        };
        let spliced = |p: &Node<'t>| target_name(*p, self.src) == Some("unquote_splicing");
        let arities = match params.as_slice() {
            [p] if spliced(p) => {
                let inner = child_of_kind(*p, "arguments").map(calls::named_children)?;
                match inner.as_slice() {
                    [v] if v.kind() == "identifier" => match lookup(self.text(*v))? {
                        MacroArg::CallArgs(i) => TemplateArities::Spliced(i),
                        _ => return None,
                    },
                    _ => return None,
                }
            }
            _ if params.iter().any(spliced) => return None,
            _ => TemplateArities::Fixed(self.arities(&params)),
        };
        let rest = if head.kind() == "call" && var_node.id() != head.id() {
            let from = var_node.end_byte() - head.start_byte();
            without_unquotes(&collapse_whitespace(
                self.text(head).get(from..).unwrap_or(""),
            ))
        } else {
            String::new()
        };
        let template = MacroTemplate {
            keyword: keyword.to_string(),
            kind: calls::def_kind(keyword)?,
            name,
            arities,
            rest,
            lines: (
                node.start_position().row as u32 + 1,
                node.end_position().row as u32 + 1,
            ),
        };
        Some((var, template))
    }

    /// Keeps a call of the module's body whose arguments could name a function, for the
    /// macros of other files that define one from them, or (without its arguments) the
    /// first call of a macro, whose quote may define functions of names of its own
    /// ([`MacroCall`]).
    fn record_macro_call(&mut self, node: Node<'t>, module: usize) {
        if self.modules[module].macro_calls.len() >= MAX_MACRO_CALLS {
            return;
        }
        let Some(target) = node.child_by_field_name("target") else {
            return;
        };
        let at = node.start_byte();
        let name = match target.kind() {
            "identifier" => self.text(target).to_string(),
            "dot" => {
                let (Some(left), Some(right)) = (
                    target.child_by_field_name("left"),
                    target.child_by_field_name("right"),
                ) else {
                    return;
                };
                if left.kind() != "alias" {
                    return;
                }
                let left = self.text(left);
                let (first, tail) = left.split_once('.').unwrap_or((left, ""));
                let module_name = match self.modules[module].alias_at(first, at) {
                    Some(full) if tail.is_empty() => full.to_string(),
                    Some(full) => format!("{full}.{tail}"),
                    None => left.to_string(),
                };
                format!("{module_name}.{}", self.text(right))
            }
            _ => return,
        };
        let args: Vec<Node<'t>> = child_of_kind(node, "arguments")
            .map(calls::named_children)
            .unwrap_or_default();
        let arity = args.len() as u32 + u32::from(child_of_kind(node, "do_block").is_some());
        // Inside a `for`, a call per atom it binds, if an argument names it.
        let calls = (self.for_bound_args(&args)).unwrap_or_else(|| vec![self.call_args(&args)]);
        let line = self.line_of(at);
        // Calls a `for` makes per atom take half the module's room at most, so that the
        // module's own calls after it are still kept.
        let room = match calls.len() {
            1 => MAX_MACRO_CALLS,
            _ => MAX_MACRO_CALLS / 2,
        };
        for args in calls {
            let recorded = &mut self.modules[module].macro_calls;
            if recorded.len() >= room {
                return;
            }
            if args.iter().any(MacroCallArg::names) {
                recorded.push(MacroCall {
                    name: name.clone(),
                    arity,
                    args,
                    line,
                });
            } else if !(recorded.iter()).any(|c| c.arity == arity && c.name == name) {
                // Its quote may still define functions of names of their own (`def
                // schema`, a `defstruct`): the first call of each macro, without its
                // arguments, says so.
                recorded.push(MacroCall {
                    name: name.clone(),
                    arity,
                    args: Vec::new(),
                    line,
                });
            }
        }
    }

    /// The module a configuration read falls back to, that code reads as the module
    /// it calls unless configured otherwise: `Application.compile_env(:app, :key,
    /// Default)` (or `get_env`), `Application.get_env(:app, :key) || Default`.
    fn configured_default(&self, value: Node<'t>) -> Option<Node<'t>> {
        let reads_config = |n: Node<'t>| {
            let target = (n.kind() == "call")
                .then(|| n.child_by_field_name("target"))
                .flatten()
                .filter(|t| t.kind() == "dot");
            target.is_some_and(|t| {
                (t.child_by_field_name("left")).is_some_and(|m| self.text(m) == "Application")
                    && (t.child_by_field_name("right"))
                        .is_some_and(|f| matches!(self.text(f), "compile_env" | "get_env"))
            })
        };
        match value.kind() {
            _ if reads_config(value) => {
                let args = calls::named_children(child_of_kind(value, "arguments")?);
                args.get(2).copied().filter(|d| d.kind() == "alias")
            }
            "binary_operator"
                if (value.child_by_field_name("operator"))
                    .is_some_and(|o| self.text(o) == "||")
                    && value.child_by_field_name("left").is_some_and(reads_config) =>
            {
                value
                    .child_by_field_name("right")
                    .filter(|d| d.kind() == "alias")
            }
            _ => None,
        }
    }

    /// A call's arguments, as far as naming a function goes (see [`MacroCallArg`]).
    fn call_args(&self, args: &[Node<'t>]) -> Vec<MacroCallArg> {
        (args.iter())
            .map(|&a| {
                if let Some(atom) = calls::atom_name(a, self.src) {
                    return MacroCallArg::Atom(atom.to_string());
                }
                let (name, params) = match a.kind() {
                    "identifier" => (self.text(a), Vec::new()),
                    _ => match target_name(a, self.src) {
                        Some(name) => {
                            let params = child_of_kind(a, "arguments").map(calls::named_children);
                            (name, params.unwrap_or_default())
                        }
                        None => return MacroCallArg::Other,
                    },
                };
                // Cut as a quoted head is.
                let text = calls::quoted_head(collapse_whitespace(self.text(a)));
                MacroCallArg::Call {
                    name: name.to_string(),
                    arities: self.arities(&params),
                    text,
                }
            })
            .collect()
    }

    /// A call's arguments for each atom the innermost `for` binds, where an argument is
    /// its variable (`defsequence(color, code)`) or an atom written around it
    /// (`defsequence(:"light_#{color}", code)`); `None` where none is.
    fn for_bound_args(&self, nodes: &[Node<'t>]) -> Option<Vec<Vec<MacroCallArg>>> {
        let (var, names) = self.for_names.last()?;
        // The variable of a `for` whose atoms are not known here, or of an enclosing one,
        // names nothing (not a function `x/0`).
        let unknown = |n: Node<'t>| {
            n.kind() == "identifier" && self.for_names.iter().any(|(v, _)| v == self.text(n))
        };
        let written = || -> Vec<MacroCallArg> {
            (self.call_args(nodes).into_iter().zip(nodes))
                .map(|(arg, &n)| if unknown(n) { MacroCallArg::Other } else { arg })
                .collect()
        };
        let unbound = || nodes.iter().any(|&n| unknown(n)).then(|| vec![written()]);
        let ForNames::Atoms(atoms) = names else {
            return unbound();
        };
        let interpolated = format!("#{{{var}}}");
        let bound = |node: Node<'t>, atom: &str| -> Option<String> {
            match node.kind() {
                "identifier" if self.text(node) == var => Some(atom.to_string()),
                "quoted_atom" => {
                    let inner = self.text(node).strip_prefix(":\"")?.strip_suffix('"')?;
                    let name = inner.replace(&interpolated, atom);
                    (name != inner && !name.contains("#{") && !name.contains('\\')).then_some(name)
                }
                _ => None,
            }
        };
        let first = atoms.first()?;
        if !nodes.iter().any(|&n| bound(n, first).is_some()) {
            return unbound();
        }
        let written = written();
        let per_atom = (atoms.iter()).map(|atom| {
            (nodes.iter().zip(&written))
                .map(|(&n, arg)| bound(n, atom).map_or_else(|| arg.clone(), MacroCallArg::Atom))
                .collect()
        });
        Some(per_atom.collect())
    }

    /// What a call of a macro this file defined earlier defines here, from its
    /// arguments (see [`MacroTemplate`]): the macro is the module's own, one it imports,
    /// or named with its module (`Helpers.defwrite(…)`).
    fn templated_def(&self, node: Node<'t>, module: usize) -> Option<DefInfo> {
        if self.macro_templates.is_empty() || node.kind() != "call" {
            return None;
        }
        let ctx = &self.modules[module];
        let target = node.child_by_field_name("target")?;
        let args: Vec<Node<'t>> = child_of_kind(node, "arguments")
            .map(calls::named_children)
            .unwrap_or_default();
        let arity = args.len() as u32 + u32::from(child_of_kind(node, "do_block").is_some());
        let at = node.start_byte();
        let templates = match target.kind() {
            "identifier" => {
                // A macro the module imports where the call is (`only:` and `except:`
                // heeded); its own are not compiled yet while its body runs.
                let name = self.text(target).to_string();
                let (modules, filters) = ctx
                    .imports_at(at)
                    .map_or((&ctx.imports, &ctx.import_filters), |(m, f)| (m, f));
                let call = format!("{name}/{arity}");
                modules.iter().find_map(|m| {
                    let filter = filters.iter().find(|f| f.module == *m);
                    if filter.is_some_and(|f| !f.admits(&call, ChunkKind::Macro)) {
                        return None;
                    }
                    self.macro_templates.get(&(m.clone(), name.clone(), arity))
                })?
            }
            "dot" if target.child_by_field_name("right").is_none() => {
                // `defsequence.(:reset, 0)`: a function bound in the module's body.
                let var = target.child_by_field_name("left")?;
                let key = (ctx.name.clone(), format!(".{}", self.text(var)), arity);
                self.macro_templates.get(&key)?
            }
            "dot" => {
                let left = self.text(target.child_by_field_name("left")?);
                let right = self.text(target.child_by_field_name("right")?);
                let (first, tail) = left.split_once('.').unwrap_or((left, ""));
                let expanded = match ctx.alias_at(first, at) {
                    Some(full) if tail.is_empty() => full.to_string(),
                    Some(full) => format!("{full}.{tail}"),
                    None => left.to_string(),
                };
                self.macro_templates
                    .get(&(expanded, right.to_string(), arity))?
            }
            _ => return None,
        };
        // Inside a `for`, once per atom it binds, if an argument names it.
        let calls = (self.for_bound_args(&args)).unwrap_or_else(|| vec![self.call_args(&args)]);
        let mut made: Vec<(String, Vec<u32>, String, &MacroTemplate)> = Vec::new();
        for (t, args) in templates
            .iter()
            .flat_map(|t| calls.iter().map(move |a| (t, a)))
        {
            let Some((name, arities, head)) = super::instantiate(t, args) else {
                continue;
            };
            if !made.iter().any(|(n, a, _, _)| *n == name && *a == arities) {
                made.push((name, arities, head, t));
            }
        }
        // One definition: the others it makes must be of its keyword.
        let mut made = made.into_iter();
        let (name, arities, head, first) = made.next()?;
        let made = made.filter(|(_, _, _, t)| t.keyword == first.keyword);
        let (also, also_heads) = made.map(|(n, a, h, _)| ((n, a), h)).unzip();
        let (keyword, kind) = (first.keyword.clone(), first.kind);
        let def = DefInfo::generated(node, keyword, kind, (name, arities), also, head);
        Some(DefInfo { also_heads, ..def })
    }

    /// A function a well-known macro defines from literal arguments, and the `@doc` and
    /// `@spec` before it document: `EEx.function_from_string(:def, :page, tpl, [:assigns])`
    /// and `EEx.function_from_file` (the standard library's templates, `page/1`), and
    /// NimbleParsec's `defparsec :name, …` and `defparsecp` (`name/1` and `name/2`).
    fn generated_def(&self, node: Node<'t>) -> Option<DefInfo> {
        if node.kind() != "call" {
            return None;
        }
        let target = node.child_by_field_name("target")?;
        let macro_name = match target.kind() {
            "dot" => {
                let left = target.child_by_field_name("left")?;
                let right = target.child_by_field_name("right")?;
                if !matches!(self.text(left), "EEx" | "Record") {
                    return None;
                }
                self.text(right)
            }
            "identifier" => self.text(target),
            _ => return None,
        };
        let eex = matches!(macro_name, "function_from_string" | "function_from_file")
            && target.kind() == "dot";
        let parsec = matches!(macro_name, "defparsec" | "defparsecp");
        // `defrecord :ping, [:stream_id]` (after `import Record`, or `Record.defrecord`)
        // defines the macros `ping/0`, `ping/1` and `ping/2`.
        let record = matches!(macro_name, "defrecord" | "defrecordp");
        if !eex && !parsec && !record {
            return None;
        }
        let args = child_of_kind(node, "arguments")?;
        let mut cursor = args.walk();
        let params: Vec<Node<'t>> = args
            .named_children(&mut cursor)
            .filter(|n| n.kind() != "comment")
            .collect();
        let atom = |n: &Node<'t>| calls::atom_name(*n, self.src).map(str::to_string);
        let (keyword, name, arities, head) = if eex {
            let keyword = atom(params.first()?).filter(|k| k == "def" || k == "defp")?;
            let name = atom(params.get(1)?)?;
            // The fourth argument lists the function's parameters (none when absent).
            let names: Vec<String> = match params.get(3) {
                None => Vec::new(),
                Some(list) if list.kind() == "list" => {
                    let mut c = list.walk();
                    list.named_children(&mut c)
                        .map(|p| atom(&p).unwrap_or_else(|| self.text(p).to_string()))
                        .collect()
                }
                Some(_) => return None, // Computed: the arity is not known.
            };
            let head = if names.is_empty() {
                format!("{keyword} {name}")
            } else {
                format!("{keyword} {name}({})", names.join(", "))
            };
            (keyword, name, vec![names.len() as u32], head)
        } else if record {
            let name = atom(params.first()?)?;
            let written = self.text(node);
            let head = collapse_whitespace(written.lines().next().unwrap_or(written));
            (macro_name.to_string(), name, vec![0, 1, 2], head)
        } else {
            let name = atom(params.first()?)?;
            let head = format!("{macro_name} {name}(binary, opts \\\\ [])");
            (macro_name.to_string(), name, vec![1, 2], head)
        };
        if name.is_empty() {
            return None;
        }
        let kind = match record {
            true => ChunkKind::Macro,
            false => ChunkKind::Function,
        };
        let def = (name, arities);
        Some(DefInfo::generated(
            node,
            keyword,
            kind,
            def,
            Vec::new(),
            head,
        ))
    }

    /// n - d ..= n for a head of n parameters, d of them with defaults.
    fn arities(&self, params: &[Node<'t>]) -> Vec<u32> {
        calls::head_arities(params, self.src)
    }

    /// A definition head's name, parameters and whether the name is computed.
    /// The name in `unquote(:name)` or `unquote(:"name")`, a literal atom.
    fn unquoted_atom(&self, target: Node<'t>) -> Option<String> {
        if target.kind() != "call"
            || target
                .child_by_field_name("target")
                .is_none_or(|t| self.text(t) != "unquote")
        {
            return None;
        }
        let args = child_of_kind(target, "arguments")?;
        let mut cursor = args.walk();
        let inner: Vec<Node<'t>> = args.named_children(&mut cursor).collect();
        match inner.as_slice() {
            [atom] if atom.kind() == "atom" => {
                calls::atom_name(*atom, self.src).map(str::to_string)
            }
            [atom] if atom.kind() == "quoted_atom" => {
                // Literal only: `unquote(:"get_#{key}")` names a function per key.
                let mut c = atom.walk();
                let inner: Vec<Node<'t>> = atom.named_children(&mut c).collect();
                match inner.as_slice() {
                    [content] if content.kind() == "quoted_content" => {
                        Some(self.text(*content).to_string())
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The events a `handle_event/3` clause takes by name: `"save"` as its first
    /// parameter, or the strings its guard lists for it (`def handle_event(event, p, s)
    /// when event in ["add_form", "append_value"]`). `None` for a clause taking any (a
    /// variable, a string built with `<>`).
    fn event_names(&self, def: Node<'t>, first: Node<'t>) -> Option<Vec<String>> {
        if let Some(name) = calls::plain_string(first, self.src) {
            return Some(vec![name.to_string()]);
        }
        let g = calls::grammar();
        if first.kind_id() != g.identifier {
            return None;
        }
        let head = child_of_kind(def, "arguments")?.named_child(0)?;
        let is_op = |n: Node<'_>, op: &str| {
            n.kind_id() == g.binary_operator
                && n.child_by_field_id(g.operator)
                    .is_some_and(|o| self.text(o) == op)
        };
        if !is_op(head, "when") {
            return None;
        }
        let guard = head.child_by_field_id(g.right)?;
        if !is_op(guard, "in")
            || guard.child_by_field_id(g.left).map(|l| self.text(l)) != Some(self.text(first))
        {
            return None;
        }
        let list = guard
            .child_by_field_id(g.right)
            .filter(|l| l.kind() == "list")?;
        let mut cursor = list.walk();
        list.named_children(&mut cursor)
            .map(|s| calls::plain_string(s, self.src).map(str::to_string))
            .collect()
    }

    fn head_parts(&self, head: Node<'t>) -> Option<(String, Vec<Node<'t>>, bool)> {
        Some(match head.kind() {
            "identifier" => (self.text(head).to_string(), Vec::new(), false),
            "call" => {
                let target = head.child_by_field_name("target")?;
                let params: Vec<Node<'t>> = match child_of_kind(head, "arguments") {
                    Some(a) => {
                        let mut cursor = a.walk();
                        a.named_children(&mut cursor)
                            .filter(|p| p.kind() != "comment")
                            .collect()
                    }
                    None => Vec::new(),
                };
                if let Some(name) = self.unquoted_atom(target) {
                    // `defmacro unquote(:fn)(clauses)`: the name is the atom.
                    return Some((name, params, false));
                }
                let dynamic = target.kind() != "identifier";
                (collapse_whitespace(self.text(target)), params, dynamic)
            }
            "block" => {
                // `defmacro (..)`: an operator in parentheses, without arguments.
                let mut cursor = head.walk();
                let inner: Vec<Node<'t>> = head.named_children(&mut cursor).collect();
                match inner.as_slice() {
                    [op] if op.kind() == "operator_identifier" => {
                        (self.text(*op).to_string(), Vec::new(), false)
                    }
                    _ => (collapse_whitespace(self.text(head)), Vec::new(), true),
                }
            }
            "binary_operator" => {
                let op = head.child_by_field_name("operator")?;
                let (l, r) = (
                    head.child_by_field_name("left")?,
                    head.child_by_field_name("right")?,
                );
                // `first..last//step` is the ternary operator `..//`, of arity 3.
                if self.text(op) == "//"
                    && l.kind() == "binary_operator"
                    && let Some(range) = l.child_by_field_name("operator")
                    && self.text(range) == ".."
                    && let (Some(first), Some(last)) = (
                        l.child_by_field_name("left"),
                        l.child_by_field_name("right"),
                    )
                {
                    return Some(("..//".to_string(), vec![first, last, r], false));
                }
                (self.text(op).to_string(), vec![l, r], false)
            }
            "unary_operator" => {
                let op = head.child_by_field_name("operator")?;
                let operand = head.child_by_field_name("operand")?;
                (self.text(op).to_string(), vec![operand], false)
            }
            _ => (collapse_whitespace(self.text(head)), Vec::new(), true),
        })
    }

    // ---------------------------------------------------------------- emit

    /// A `@doc` before a `defstruct` (or `defexception`) documents the struct's
    /// `__struct__/0`, as in Elixir, and one before a `use` the first function the `use`
    /// defines (`@doc false` then `use GenServer` hides its `child_spec/1`), not the next
    /// function: it no longer waits for one, and is header material with what takes it.
    fn header_takes_its_doc(&self, items: &mut [Item<'t>]) {
        let mut waiting: Vec<usize> = Vec::new();
        for i in 0..items.len() {
            match &items[i].kind {
                ItemKind::Lead(Attr::Doc(_)) => waiting.push(i),
                ItemKind::Lead(_) | ItemKind::Comment | ItemKind::Type(_) => {}
                ItemKind::Header
                    if matches!(
                        target_name(items[i].node, self.src),
                        Some("defstruct" | "defexception" | "use")
                    ) =>
                {
                    for k in waiting.drain(..) {
                        items[k].kind = ItemKind::Header;
                    }
                }
                ItemKind::Header => {}
                _ => waiting.clear(),
            }
        }
    }

    /// Whether `items[i]` is a component's `attr` or `slot` line followed, past other
    /// such lines, docs and comments, by a definition: the function they declare.
    fn declares_next_component(&self, items: &[Item<'t>], i: usize) -> bool {
        let declares = |item: &Item<'t>| {
            matches!(item.kind, ItemKind::Header)
                && item.node.kind_id() == calls::grammar().call
                && matches!(target_name(item.node, self.src), Some("attr" | "slot"))
        };
        declares(&items[i])
            && (items[i + 1..].iter())
                .find(|item| {
                    !(declares(item) || matches!(item.kind, ItemKind::Comment | ItemKind::Lead(_)))
                })
                .is_some_and(|item| matches!(item.kind, ItemKind::Def(_)))
    }

    /// Whether `items[i]` is an attribute of the code's own (`@trace :hello`, New Relic's;
    /// `@decorate cacheable(…)`) written right above the module's first definition, on
    /// the lines just before it, and above a later definition too: it annotates that
    /// definition, as it does the later one, and is no header material. An attribute
    /// Elixir reads for the module (`@behaviour`, `@derive`, `@before_compile`…), one a
    /// blank line parts from the definition (`@timeout 5_000`), or one written once (a
    /// constant) stays in the header.
    fn annotates_first_definition(&self, items: &[Item<'t>], i: usize) -> bool {
        const MODULE_ATTRIBUTES: [&str; 19] = [
            "moduledoc",
            "moduletag",
            "behaviour",
            "derive",
            "enforce_keys",
            "before_compile",
            "after_compile",
            "after_verify",
            "on_definition",
            "on_load",
            "compile",
            "dialyzer",
            "vsn",
            "external_resource",
            "optional_callbacks",
            "primary_key",
            "foreign_key_type",
            "schema_prefix",
            "endpoint",
        ];
        // The name of an attribute of the code's own (`trace` of `@trace :hello`).
        let own_attribute = |item: &Item<'t>| -> Option<&str> {
            let node = item.node;
            if !matches!(item.kind, ItemKind::Header)
                || node.kind_id() != calls::grammar().unary_operator
                || self.src.get(node.start_byte()) != Some(&b'@')
            {
                return None;
            }
            let operand = node.named_child(0)?;
            let name = target_name(operand, self.src).or_else(|| {
                (operand.kind() == "identifier")
                    .then(|| std::str::from_utf8(&self.src[operand.byte_range()]).ok())
                    .flatten()
            })?;
            (!name.is_empty() && !MODULE_ATTRIBUTES.contains(&name)).then_some(name)
        };
        // On the next line: only whitespace with one line break between them.
        let adjacent = |a: &Item<'t>, b: &Item<'t>| {
            let between = &self.src[a.node.end_byte()..b.node.start_byte().max(a.node.end_byte())];
            between.iter().all(u8::is_ascii_whitespace)
                && between.iter().filter(|&&c| c == b'\n').count() <= 1
        };
        let Some(name) = own_attribute(&items[i]) else {
            return false;
        };
        let mut k = i;
        while let Some(next) = items.get(k + 1) {
            if !adjacent(&items[k], next) {
                return false;
            }
            match next.kind {
                // An annotation is written above other definitions too (`@trace` above
                // each traced function); a constant (`@interval :timer.seconds(30)`
                // above `start_link`) is written once, and stays in the header.
                ItemKind::Def(_) => {
                    return (items[k + 2..].iter()).any(|later| own_attribute(later) == Some(name));
                }
                ItemKind::Lead(_) | ItemKind::Comment => {}
                _ if own_attribute(next).is_some() => {}
                _ => return false,
            }
            k += 1;
        }
        false
    }

    fn emit(&mut self, module: usize, header: Draft, items: Vec<Item<'t>>, depth: usize) {
        let from = self.pieces.len();
        self.emit_pieces(module, header, items, depth);
        self.place_implied(module, from);
    }

    /// A definition the module's code implies (`defstruct`'s `__struct__/0`) written in
    /// a later part of its header (after a `@type t`, as `GitHooks.Tasks.Cmd` has it) is
    /// that part's, where its line is: the part a look-up of it shows.
    fn place_implied(&mut self, module: usize, from: usize) {
        let headers: Vec<usize> = (from..self.pieces.len())
            .filter(|&k| {
                self.pieces[k].module == Some(module)
                    && self.pieces[k].draft.kind == ChunkKind::ModuleHeader
            })
            .collect();
        let [first, ref rest @ ..] = headers[..] else {
            return;
        };
        if rest.is_empty() || !self.pieces[first].draft.defines.iter().any(|d| d.implied) {
            return;
        }
        let spans: Vec<(usize, u32, u32)> = (rest.iter())
            .map(|&k| {
                let d = &self.pieces[k].draft;
                (
                    k,
                    self.line_of(d.start),
                    self.line_of(d.end.saturating_sub(1)),
                )
            })
            .collect();
        for d in std::mem::take(&mut self.pieces[first].draft.defines) {
            let part = (spans.iter()).find(|(_, s, e)| d.implied && *s <= d.line && d.line <= *e);
            let to = part.map_or(first, |&(k, _, _)| k);
            self.pieces[to].draft.defines.push(d);
        }
    }

    fn emit_pieces(
        &mut self,
        module: usize,
        header: Draft,
        mut items: Vec<Item<'t>>,
        depth: usize,
    ) {
        self.header_takes_its_doc(&mut items);
        let mut header = Some(self.module_header(module, header));
        let mut lead: Vec<usize> = Vec::new(); // indexes into items, since the last piece
        let mut i = 0;
        while i < items.len() {
            let item = &items[i];
            match &item.kind {
                // A Phoenix component's `attr` and `slot` lines lead into the function after
                // them, the first one's too (not a Surface component's `slot` among its
                // `prop`s, header material).
                ItemKind::Header | ItemKind::Type(_)
                    if header.is_some()
                        && lead
                            .iter()
                            .all(|&k| matches!(items[k].kind, ItemKind::Comment))
                        && !self.declares_next_component(&items, i)
                        && !self.annotates_first_definition(&items, i) =>
                {
                    // Header material (and the comments just above it) joins the header;
                    // comments above the first definition lead into that definition.
                    lead.clear();
                    let h = header.as_mut().expect("checked");
                    h.draft.end = h.draft.end.max(item.node.end_byte());
                    // Its statements are where a header over the budget splits (a DSL's
                    // `query do … end` by its own statements), not any line.
                    h.nodes.push(item.node);
                    if let ItemKind::Type(name) = &item.kind {
                        let def = self.type_definition(module, name, item.node);
                        h.draft.defines.push(def);
                    }
                }
                ItemKind::Header | ItemKind::Type(_) | ItemKind::Comment | ItemKind::Lead(_) => {
                    lead.push(i);
                }
                ItemKind::DescribeHeader(title) => {
                    if let Some(h) = header.take() {
                        self.pieces.push(h);
                    }
                    self.flush_lead(module, &items, &mut lead, false);
                    let node = item.node;
                    let end = child_of_kind(node, "do_block")
                        .and_then(|b| b.child(0))
                        .map_or(node.end_byte(), |d| d.end_byte());
                    let mut draft = Draft::new(ChunkKind::Describe, node.start_byte(), end);
                    draft.name = title.clone();
                    // The header line only: a broken test inside marks its own chunk.
                    draft.has_error =
                        child_of_kind(node, "arguments").is_some_and(|a| a.has_error());
                    draft.signature =
                        collapse_whitespace(&text_of(self.src, node.start_byte(), end));
                    if item.conditional {
                        draft.tag("conditional");
                    }
                    // Code in the block before its first test (`NimbleCSV.define(…)` for
                    // the tests below) is the describe's, not the first test's.
                    while let Some(next) = items.get(i + 1)
                        && matches!(next.kind, ItemKind::Header)
                        && next.node.kind_id() == calls::grammar().call
                    {
                        draft.end = draft.end.max(next.node.end_byte());
                        i += 1;
                    }
                    let piece = self.in_module(module, draft);
                    self.pieces.push(piece);
                }
                ItemKind::ExtendTo(end) => {
                    let end = *end;
                    if let Some(h) = header.take() {
                        self.pieces.push(h);
                    }
                    self.flush_lead(module, &items, &mut lead, true);
                    if let Some(last) = self.pieces.last_mut() {
                        last.draft.end = last.draft.end.max(end);
                    }
                }
                ItemKind::Def(def) => {
                    if let Some(h) = header.take() {
                        self.pieces.push(h);
                    }
                    // Consecutive clauses of the same kind, name and arity form one group;
                    // @doc/@spec/@impl between them belong to the group, and so does a
                    // module attribute set between two of its clauses (`@padding 500`
                    // before the clause that reads it).
                    let key = (def.kind, def.name.clone(), def.max_arity());
                    let same = |item: &Item<'t>| {
                        matches!(&item.kind, ItemKind::Def(next)
                            if (next.kind, next.name.clone(), next.max_arity()) == key)
                    };
                    let mut clauses = vec![i];
                    let mut j = i + 1;
                    while j < items.len() {
                        match &items[j].kind {
                            ItemKind::Lead(_) | ItemKind::Comment => j += 1,
                            _ if same(&items[j]) => {
                                clauses.push(j);
                                j += 1;
                            }
                            ItemKind::Header if self.between_clauses(items[j].node) => {
                                let next = (j + 1..items.len()).find(|&k| match items[k].kind {
                                    ItemKind::Lead(_) | ItemKind::Comment => false,
                                    ItemKind::Header => !self.between_clauses(items[k].node),
                                    _ => true,
                                });
                                match next {
                                    Some(k) if same(&items[k]) => j = k,
                                    _ => break,
                                }
                            }
                            _ => break,
                        }
                    }
                    let last_clause = *clauses.last().expect("one clause at least");
                    let attrs = self.flush_lead(module, &items, &mut lead, false);
                    let attrs = self.commented_out_code(module, &items, attrs, item.node);
                    let between: Vec<usize> = (i..=last_clause)
                        .filter(|k| matches!(items[*k].kind, ItemKind::Lead(_)))
                        .collect();
                    self.def_piece(module, &items, &clauses, &attrs, &between);
                    i = last_clause;
                }
                ItemKind::Test(test) => {
                    if let Some(h) = header.take() {
                        self.pieces.push(h);
                    }
                    self.flush_lead(module, &items, &mut lead, false);
                    let test = test.clone();
                    self.test_piece(module, item, &test);
                }
                ItemKind::Module { body_error } => {
                    if let Some(h) = header.take() {
                        self.pieces.push(h);
                    }
                    let body_error = *body_error;
                    let (node, conditional) = (item.node, item.conditional);
                    // The parent's attributes and types before it (Scenic's
                    // `@optional_callbacks` after its `@callback`s) stay the parent's; only
                    // the comments right above it lead into it.
                    if let Some(p) =
                        (lead.iter()).rposition(|&k| !matches!(items[k].kind, ItemKind::Comment))
                    {
                        let mut parents: Vec<usize> = lead.drain(..=p).collect();
                        self.flush_lead(module, &items, &mut parents, true);
                    }
                    self.flush_lead(module, &items, &mut lead, false);
                    if depth + 1 < MAX_MODULE_DEPTH {
                        // The parent's imports where the nested module begins.
                        self.inherited = self.modules[module]
                            .imports_at(node.start_byte())
                            .cloned()
                            .unwrap_or_default();
                        self.module(node, Some(module), body_error, conditional, depth + 1);
                    } else if let Some(last) = self.pieces.last_mut() {
                        // Kept as text in the chunk before it, and said so.
                        let end = body_error.map_or(node.end_byte(), |e| e.end_byte());
                        last.draft.end = last.draft.end.max(end);
                        last.draft.tag("too_deep");
                    }
                }
                ItemKind::Junk => {
                    if let Some(h) = header.take() {
                        self.pieces.push(h);
                    }
                    self.flush_lead(module, &items, &mut lead, false);
                    let start = item.node.start_byte();
                    let mut end = item.node.end_byte();
                    while i + 1 < items.len()
                        && matches!(items[i + 1].kind, ItemKind::Junk | ItemKind::Comment)
                    {
                        i += 1;
                        end = items[i].node.end_byte();
                    }
                    let mut draft = Draft::new(ChunkKind::Text, start, end);
                    draft.has_error = true;
                    draft.name = self.modules[module].name.clone();
                    let piece = self.in_module(module, draft);
                    self.pieces.push(piece);
                }
            }
            i += 1;
        }
        if let Some(mut h) = header.take() {
            // A module with no definitions: the header absorbs everything left, but for
            // types after a `@doc` (a behaviour's documented callbacks), which are pieces
            // of their own after it.
            if !lead
                .iter()
                .any(|&k| matches!(items[k].kind, ItemKind::Type(_)))
            {
                if let Some(last) = lead.last() {
                    h.draft.end = h.draft.end.max(items[*last].node.end_byte());
                }
                h.nodes.extend(lead.iter().map(|&k| items[k].node));
                lead.clear();
            }
            self.pieces.push(h);
        }
        self.flush_lead(module, &items, &mut lead, true);
    }

    /// Emits the pending lead items that cannot lead into the next definition (types,
    /// header material before them) as a `type` piece, or extends the last piece with them
    /// when `trailing`. Returns the items that lead into the next definition.
    fn flush_lead(
        &mut self,
        module: usize,
        items: &[Item<'t>],
        lead: &mut Vec<usize>,
        trailing: bool,
    ) -> Vec<usize> {
        if lead.is_empty() {
            return Vec::new();
        }
        // Module-level code after a definition, more than a line or two of it (a DSL's
        // `attributes do … end`, a `plug` pipeline): a header part of its own, not lines
        // of the definition before or after it. Docs in it still wait for the next
        // definition, as in Elixir.
        let mut waiting: Vec<usize> = Vec::new();
        // Attributes are not such code: a module constant (`@default_opts [...]`) or a
        // test's data (`@contents """…"""`) stays with what comes next, and so do a
        // Phoenix component's `attr` and `slot` declarations, which belong to the next
        // function as its `@doc` does.
        // But a module attribute holding data of half a chunk or more (Bytepack's
        // `@params %{…}` of 30 lines) is no lead: the function after it would start with
        // a part of data alone.
        let is_code = |k: usize| {
            let node = items[k].node;
            matches!(items[k].kind, ItemKind::Header)
                && (is_moduledoc(node, self.src)
                    || (node.kind_id() == calls::grammar().call
                    && !matches!(target_name(node, self.src), Some("attr" | "slot")))
                    // `schema = [...]`: a variable of the module's body (Sentry's option
                    // schemas, 900 lines of them), for the code after it.
                    || (node.kind_id() == calls::grammar().binary_operator
                        && node
                            .child_by_field_name("operator")
                            .is_some_and(|o| &self.src[o.start_byte()..o.end_byte()] == b"="))
                    || (node.kind() == "unary_operator"
                        && self.src.get(node.start_byte()) == Some(&b'@')
                        && non_whitespace_chars(&self.src[node.start_byte()..node.end_byte()])
                            >= DATA_ATTRIBUTE_MIN_CHARS))
        };
        // What forms a module's header wherever it is written (CHUNKING.md): `alias`,
        // `import`, `require`, `use`, a struct (`defstruct`, an Ecto `schema`): a header
        // part however short (Bypass's `import Bypass.Utils` and `require Logger` after
        // its types), not lines of the definition next to it. So does a test module's
        // `doctest Mod` after its tests: the module's tests, none's lines.
        // (So does a `@moduledoc` written after functions: OpentelemetryGrpc's server.)
        let declares = |k: usize| {
            matches!(items[k].kind, ItemKind::Header)
                && (is_moduledoc(items[k].node, self.src)
                    || matches!(
                        target_name(items[k].node, self.src),
                        Some(
                            "alias"
                                | "import"
                                | "require"
                                | "use"
                                | "defstruct"
                                | "defexception"
                                | "schema"
                                | "embedded_schema"
                                | "typed_schema"
                                | "typed_embedded_schema"
                                | "typedstruct"
                                | "doctest"
                        )
                    ))
        };
        let header_size = |group: &[usize]| {
            let (Some(&first), Some(&last)) = (group.first(), group.last()) else {
                return false;
            };
            group.iter().any(|&k| declares(k))
                || non_whitespace_chars(
                    &self.src[items[first].node.start_byte()..items[last].node.end_byte()],
                ) >= HEADER_PART_MIN_CHARS
        };
        // Where the code that may be a header part ends. Code after a function's `@doc`
        // (Decimal's `doc_since("1.8.0")`, a macro setting the doc's metadata) leads into
        // the function with its doc unless it is a header part's size on its own; the code
        // before the doc may still be one.
        let code_end = |lead: &[usize]| {
            let p = lead.iter().rposition(|&k| is_code(k))?;
            let doc = (lead[..p].iter())
                .rposition(|&k| matches!(items[k].kind, ItemKind::Lead(Attr::Doc(_))));
            match doc {
                Some(d) if !header_size(&lead[d + 1..=p]) => {
                    lead[..d].iter().rposition(|&k| is_code(k))
                }
                _ => Some(p),
            }
        };
        // Types, then such code (Flop's `@type t`, then `embedded_schema do … end`): the
        // types are pieces of their own first, as at the end of a module.
        // (Not when trailing: the types are flushed so, once, with no such look.)
        if !trailing
            && let Some(p) = code_end(lead)
            && let Some(t) = lead[..p]
                .iter()
                .rposition(|&k| matches!(items[k].kind, ItemKind::Type(_)))
            && header_size(&lead[t + 1..=p])
        {
            let mut types: Vec<usize> = lead.drain(..=t).collect();
            self.flush_lead(module, items, &mut types, true);
        }
        // A `@typedoc` before such code documents the type after it (PromEx's `Config`:
        // `@typedoc`, `alias …`, `@type t`): they stay one type piece.
        let typedoc_for_later = |p: usize| {
            (lead[..p].iter()).any(|&k| matches!(items[k].kind, ItemKind::Lead(Attr::TypeDoc(_))))
                && (lead[p + 1..].iter()).any(|&k| matches!(items[k].kind, ItemKind::Type(_)))
        };
        if let Some(p) = code_end(lead)
            && !lead[..=p]
                .iter()
                .any(|&k| matches!(items[k].kind, ItemKind::Type(_)))
            && !typedoc_for_later(p)
            && header_size(&lead[..=p])
        {
            let group: Vec<usize> = lead.drain(..=p).collect();
            if !trailing {
                waiting.extend(group.iter().copied().filter(|&k| {
                    matches!(
                        items[k].kind,
                        ItemKind::Lead(Attr::Doc(_) | Attr::Impl(_) | Attr::Deprecated)
                    )
                }));
            }
            self.header_part(module, items, &group);
            if lead.is_empty() {
                return waiting;
            }
        }
        let last_type = lead
            .iter()
            .rposition(|&k| matches!(items[k].kind, ItemKind::Type(_)));
        let split_at = match (trailing, last_type) {
            (true, _) => lead.len(),
            (false, Some(p)) => p + 1,
            (false, None) => 0,
        };
        let (before, after) = lead.split_at(split_at);
        // `@doc`, `@impl` and `@deprecated` wait for the next function: a `@type` between
        // them does not take them, a `@callback` takes them (as in Elixir). What is still
        // waiting after the types goes to the definition, though its lines stay with them.
        let mut carried: Vec<usize> = Vec::new();
        if !trailing {
            for &k in before {
                match &items[k].kind {
                    ItemKind::Lead(Attr::Doc(_) | Attr::Impl(_) | Attr::Deprecated) => {
                        carried.push(k)
                    }
                    ItemKind::Type(_) if self.is_callback(items[k].node) => carried.clear(),
                    _ => {}
                }
            }
        }
        // A documented type (a `@callback` with its `@doc`) is a piece of its own, like a
        // documented function; undocumented types stay with the ones before them.
        let mut from = 0;
        for (n, &k) in before.iter().enumerate() {
            let doc = matches!(
                items[k].kind,
                ItemKind::Lead(
                    Attr::Doc(DocValue::Text(_) | DocValue::Hidden)
                        | Attr::TypeDoc(DocValue::Text(_) | DocValue::Hidden)
                )
            );
            if doc
                && before[from..n]
                    .iter()
                    .any(|&j| matches!(items[j].kind, ItemKind::Type(_)))
            {
                self.type_piece(module, items, &before[from..n]);
                from = n;
            }
        }
        if from < before.len() {
            self.type_piece(module, items, &before[from..]);
        }
        carried.extend_from_slice(after);
        lead.clear();
        waiting.extend(carried);
        waiting
    }

    /// Code commented out above a definition (Scenic's 100 lines of `# def build(…)`
    /// before `build_translation/1`), set apart from it by a blank line: a text piece of
    /// its own, tagged `commented_out`, not lines of the definition. The lead items
    /// still leading into the definition are returned.
    fn commented_out_code(
        &mut self,
        module: usize,
        items: &[Item<'t>],
        lead: Vec<usize>,
        def: Node<'t>,
    ) -> Vec<usize> {
        let comments = (lead.iter())
            .take_while(|&&k| matches!(items[k].kind, ItemKind::Comment))
            .count();
        if comments < MIN_COMMENTED_OUT_LINES {
            return lead;
        }
        // The last blank line among them, or between them and what follows.
        let next_start = |j: usize| {
            lead.get(j + 1)
                .map_or(def.start_byte(), |&k| items[k].node.start_byte())
        };
        let blank = |j: usize| {
            let gap = &self.src[items[lead[j]].node.end_byte()..next_start(j)];
            memchr::memchr_iter(b'\n', gap).count() >= 2
        };
        let line = |j: usize| {
            let n = items[lead[j]].node;
            let text = String::from_utf8_lossy(&self.src[n.start_byte()..n.end_byte()]);
            text.trim_start_matches('#').trim().to_string()
        };
        // Ending in code: the prose after it (Scenic's "# similar to
        // List.meyers_difference, the below code compares…") leads into the function.
        let Some(cut) = (0..comments)
            .rev()
            .find(|&j| blank(j) && commented_code(&line(j)))
        else {
            return lead;
        };
        let run = &lead[..=cut];
        let (mut code, mut defines) = (0, false);
        for line in (0..=cut).map(line) {
            code += usize::from(commented_code(&line));
            defines |= line == "end"
                || ["def ", "defp ", "defmacro ", "end "]
                    .iter()
                    .any(|d| line.starts_with(d));
        }
        if run.len() < MIN_COMMENTED_OUT_LINES || !defines || code * 3 < run.len() {
            return lead;
        }
        let start = items[run[0]].node.start_byte();
        let mut draft = Draft::new(ChunkKind::Text, start, items[lead[cut]].node.end_byte());
        draft.name = self.modules[module].name.clone();
        draft.tag("commented_out");
        let piece = self.in_module(module, draft);
        self.pieces.push(piece);
        lead[cut + 1..].to_vec()
    }

    /// Module-level code between or after definitions as a module header part (no
    /// definition: the module is defined by its first header chunk).
    fn header_part(&mut self, module: usize, items: &[Item<'t>], group: &[usize]) {
        let (Some(&first), Some(&last)) = (group.first(), group.last()) else {
            return;
        };
        let start = items[first].node.start_byte();
        let mut draft = Draft::new(ChunkKind::ModuleHeader, start, items[last].node.end_byte());
        let ctx = &self.modules[module];
        draft.name = ctx.name.clone();
        draft.visibility = if ctx.hidden {
            Visibility::Hidden
        } else {
            Visibility::Public
        };
        let code: Vec<Node<'t>> = (group.iter())
            .filter(|&&k| matches!(items[k].kind, ItemKind::Header | ItemKind::Lead(_)))
            .map(|&k| items[k].node)
            .collect();
        // Read under its first call's line (`attributes do`).
        let call = calls::grammar().call;
        if let Some(node) = code.iter().find(|n| n.kind_id() == call) {
            draft.signature = collapse_whitespace(self.text(*node).lines().next().unwrap_or(""));
        }
        if group.iter().any(|&k| items[k].conditional) {
            draft.tag("conditional");
        }
        let mut piece = self.in_module(module, draft);
        piece.nodes = code;
        self.pieces.push(piece);
    }

    /// Whether a type item is a `@callback` or `@macrocallback`, which `@doc` documents.
    fn is_callback(&self, node: Node<'_>) -> bool {
        let head = self.text(node);
        head.starts_with("@callback") || head.starts_with("@macrocallback")
    }

    /// A `type` piece of `group` (lead items: docs, types, header material) if it holds a
    /// type, its doc the `@doc` before the first type; else the last piece extends over it.
    fn type_piece(&mut self, module: usize, items: &[Item<'t>], group: &[usize]) {
        let Some(&last) = group.last() else {
            return;
        };
        let end = items[last].node.end_byte();
        let Some(first_type) = group
            .iter()
            .position(|&k| matches!(items[k].kind, ItemKind::Type(_)))
        else {
            if let Some(piece) = self.pieces.last_mut() {
                piece.draft.end = piece.draft.end.max(end);
            }
            return;
        };
        let start = items[group[0]].node.start_byte();
        let mut draft = Draft::new(ChunkKind::Type, start, end);
        // `@doc` documents the next callback, `@typedoc` the next type (the last one
        // before it wins); each definition of the piece is documented or hidden by its
        // own, and the piece carries the first one's doc.
        let (mut doc, mut typedoc): (Option<&DocValue>, Option<&DocValue>) = (None, None);
        for &k in group {
            match &items[k].kind {
                // `@doc since: "1.0"` (metadata) leaves the text or `false` before it.
                ItemKind::Lead(Attr::Doc(DocValue::Meta | DocValue::Deprecated))
                | ItemKind::Lead(Attr::TypeDoc(DocValue::Meta | DocValue::Deprecated)) => {}
                ItemKind::Lead(Attr::Doc(d)) => doc = Some(d),
                ItemKind::Lead(Attr::TypeDoc(d)) => typedoc = Some(d),
                ItemKind::Type(name) => {
                    let mut def = self.type_definition(module, name, items[k].node);
                    let own = if self.is_callback(items[k].node) {
                        doc.take()
                    } else {
                        typedoc.take()
                    };
                    match own {
                        Some(DocValue::Text(t)) if draft.defines.is_empty() => {
                            draft.doc = Some(t.clone());
                        }
                        // `@doc false`: hidden from the map, as a function would be.
                        Some(DocValue::Hidden) if def.visibility == Visibility::Public => {
                            def.visibility = Visibility::Hidden;
                        }
                        _ => {}
                    }
                    // A callback (or type) written twice, one head per argument shape
                    // (`@callback transact(fun, opts)` and `@callback transact(multi,
                    // opts)`), is one definition; a `@type` and a `@callback` of one
                    // name stay two.
                    let attribute = |d: &Definition| {
                        d.signature
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_string()
                    };
                    let written = attribute(&def);
                    match (draft.defines.iter_mut()).find(|d| {
                        d.name == def.name && d.arities == def.arities && attribute(d) == written
                    }) {
                        Some(same) => same.end_line = same.end_line.max(def.end_line),
                        None => draft.defines.push(def),
                    }
                    if draft.name.is_empty() {
                        draft.name = name.split('/').next().unwrap_or(name).to_string();
                    }
                }
                _ => {}
            }
        }
        if (draft.defines.iter()).all(|d| d.visibility == Visibility::Hidden) {
            draft.visibility = Visibility::Hidden;
        }
        // The arities of the types or callbacks of its name (`t/0` and `t/1`), as a
        // function's chunk has; others it holds (an undocumented `@callback installer?()`
        // after a documented `parse_argv/1`) make it a merged chunk, as small functions do.
        let mut arities: Vec<u32> = (draft.defines.iter())
            .filter(|d| d.name == draft.name)
            .flat_map(|d| d.arities.iter().copied())
            .collect();
        if draft.defines.iter().any(|d| d.name != draft.name) {
            draft.tag("merged");
        }
        arities.sort_unstable();
        arities.dedup();
        draft.arities = arities;
        if group.iter().any(|&k| items[k].conditional) {
            draft.tag("conditional");
        }
        draft.signature = collapse_whitespace(self.text(items[group[first_type]].node));
        let piece = self.in_module(module, draft);
        self.pieces.push(piece);
    }

    fn type_definition(&self, module: usize, name: &str, node: Node<'_>) -> Definition {
        let line = self.line_of(node.start_byte());
        let end_line = self.line_of(node.end_byte().saturating_sub(1).max(node.start_byte()));
        let signature = collapse_whitespace(self.text(node));
        let (n, a) = name.split_once('/').unwrap_or((name, "0"));
        Definition {
            kind: ChunkKind::Type,
            module: self.modules[module].name.clone(),
            name: n.to_string(),
            arities: vec![a.parse().unwrap_or(0)],
            visibility: if signature.starts_with("@typep") {
                Visibility::Private
            } else {
                Visibility::Public
            },
            line,
            end_line,
            signature,
            ..Definition::default()
        }
    }

    fn in_module(&self, module: usize, mut draft: Draft) -> Piece<'t> {
        let ctx = &self.modules[module];
        draft.module = ctx.name.clone();
        draft.parents = ctx.parents.clone();
        draft.also_modules = ctx.also.clone();
        // So many that each chunk gets those it names, once its span is final.
        if ctx.alias_list.len() <= MAX_CARRIED_ALIASES {
            draft.aliases = ctx.alias_list.clone();
        }
        // The imports made before the piece.
        if let Some((imports, filters)) = ctx.imports_at(draft.start) {
            draft.imports = imports.clone();
            draft.import_filters = filters.clone();
        }
        draft.uses = ctx.uses.clone();
        draft.scope = Some(module);
        Piece::new(draft, Some(module))
    }

    fn module_header(&self, module: usize, mut draft: Draft) -> Piece<'t> {
        let ctx = &self.modules[module];
        draft.name = ctx.name.clone();
        draft.doc = ctx.moduledoc.clone();
        draft.visibility = if ctx.hidden {
            Visibility::Hidden
        } else {
            Visibility::Public
        };
        draft.signature = collapse_whitespace(
            text_of(self.src, draft.start, draft.end)
                .lines()
                .next()
                .unwrap_or(""),
        );
        for t in &ctx.tags {
            draft.tag(t);
        }
        for b in &ctx.behaviours {
            draft.tag(&format!("behaviour:{b}"));
        }
        // `@derive` counts for a struct only, as Elixir's does.
        let is_struct = ctx.implied.iter().any(|(fun, ..)| *fun == "__struct__");
        let derives = ctx.derives.iter().filter(|_| is_struct);
        for (protocol, _, _) in derives.clone() {
            draft.tag(&format!("derive:{protocol}"));
        }
        // A `defimpl` or `defprotocol` is shown by its head (`defimpl Enumerable, for:
        // Any`), which names what `defmodule Enumerable.Any` would not.
        let head = (ctx.implied.iter())
            .find(|(fun, ..)| matches!(*fun, "__impl__" | "impl_for"))
            .map(|(.., head)| head.strip_suffix(" do").unwrap_or(head).to_string())
            // A head over several lines (`defimpl Inspect,` then `for: X do`) is cut.
            .filter(|head| !head.ends_with(','));
        for name in std::iter::once(&ctx.name).chain(ctx.also.iter()) {
            let signature = match &head {
                Some(head) if *name == ctx.name => head.clone(),
                _ => format!("defmodule {name}"),
            };
            draft.defines.push(Definition {
                kind: ChunkKind::ModuleHeader,
                module: name.clone(),
                name: name.clone(),
                arities: Vec::new(),
                visibility: draft.visibility,
                line: self.line_of(draft.start),
                end_line: 0,
                signature,
                ..Definition::default()
            });
        }
        if let Some(header) = draft.defines.first_mut() {
            header.macro_calls = ctx.macro_calls.clone();
            header.embedded_templates = ctx.embeds.clone();
            let line = header.line;
            let view = self.view_templates(ctx, line);
            // A Phoenix.View's module is no LiveView; one that embeds templates may be
            // (live_toast's `HomeLive` embeds its tabs and renders `home_live.html.heex`).
            match view {
                Some(view) => header.embedded_templates.push(view),
                None => (header.embedded_templates).extend(self.colocated_template(ctx, line)),
            }
        }
        // In each module of a `defimpl P, for: [A, B]` too.
        let implied = (ctx.implied.iter()).flat_map(|i| {
            std::iter::once(&ctx.name)
                .chain(ctx.also.iter())
                .map(move |m| (m, i))
        });
        for (module, (fun, arity, at, signature)) in implied {
            let written = ctx.defined.get(*fun).is_some_and(|a| a.contains(arity));
            let twice = (draft.defines.iter())
                .any(|d| d.module == *module && d.name == *fun && d.arities == [*arity]);
            if !written && !twice {
                draft.defines.push(Definition {
                    kind: ChunkKind::Function,
                    module: module.clone(),
                    name: fun.to_string(),
                    arities: vec![*arity],
                    line: self.line_of(*at),
                    end_line: self.line_of(*at),
                    signature: signature.clone(),
                    implied: true,
                    ..Definition::default()
                });
            }
        }
        // An inline embed's module: defined here, a struct, with what it derives.
        for (nested, at, signature, derives) in &ctx.inline_embeds {
            let line = self.line_of(*at);
            draft.defines.push(Definition {
                kind: ChunkKind::ModuleHeader,
                module: nested.clone(),
                name: nested.clone(),
                visibility: draft.visibility,
                line,
                end_line: line,
                signature: signature.clone(),
                ..Definition::default()
            });
            for arity in [0, 1] {
                draft.defines.push(Definition {
                    kind: ChunkKind::Function,
                    module: nested.clone(),
                    name: "__struct__".to_string(),
                    arities: vec![arity],
                    line,
                    end_line: line,
                    signature: signature.clone(),
                    implied: true,
                    ..Definition::default()
                });
            }
            for protocol in derives {
                draft.tag(&format!("derive:{protocol}@{nested}"));
            }
        }
        // The implementation a derived protocol gets, `Inspect.URI` for `URI`: its
        // `__impl__/1`, and the protocol's functions where the protocol is well known.
        for (protocol, at, signature) in derives {
            let module = format!("{protocol}.{}", ctx.name);
            let funs = derived_functions(protocol).iter().copied();
            for (fun, arity) in std::iter::once(("__impl__", 1)).chain(funs) {
                draft.defines.push(Definition {
                    kind: ChunkKind::Function,
                    module: module.clone(),
                    name: fun.to_string(),
                    arities: vec![arity],
                    line: self.line_of(*at),
                    end_line: self.line_of(*at),
                    signature: signature.clone(),
                    implied: true,
                    ..Definition::default()
                });
            }
        }
        if ctx.uses.iter().any(|u| u == "ExUnit.CaseTemplate") {
            // Who uses a case template uses `ExUnit.Case` too.
            for (m, only) in imports_of_use("ExUnit.Case") {
                ImportFilter::record(
                    &mut draft.quoted_imports,
                    &mut draft.quoted_import_filters,
                    m.to_string(),
                    only_list(*only),
                );
            }
        }
        let mut piece = self.in_module(module, draft);
        // The header stands for the whole module: all of its imports.
        piece.draft.imports = ctx.imports.clone();
        piece.draft.import_filters = ctx.import_filters.clone();
        piece
    }

    fn def_piece(
        &mut self,
        module: usize,
        items: &[Item<'t>],
        clauses: &[usize],
        lead_attrs: &[usize],
        between: &[usize],
    ) {
        let first = &items[clauses[0]];
        let ItemKind::Def(def) = &first.kind else {
            return;
        };
        let last_end = items[*clauses.last().expect("non-empty")].node.end_byte();
        let mut draft = Draft::new(def.kind, first.node.start_byte(), last_end);
        draft.own = Some((first.node.start_byte(), last_end));
        draft.name = def.name.clone();
        let mut arities: Vec<u32> = Vec::new();
        let mut has_error = false;
        let mut nodes = Vec::with_capacity(clauses.len());
        for &k in clauses {
            if let ItemKind::Def(d) = &items[k].kind {
                arities.extend(&d.arities);
                has_error |= items[k].node.has_error();
                nodes.push(items[k].node);
            }
        }
        arities.sort_unstable();
        arities.dedup();
        draft.arities = arities;
        draft.has_error = has_error;
        draft.signature =
            collapse_whitespace(&text_of(self.src, first.node.start_byte(), def.head_end));
        if let Some(head) = &def.head {
            draft.signature = head.clone();
        } else if self.src[first.node.start_byte()..def.head_start].contains(&b'(') {
            // `def(f(x), do: x)`: the head without the call's own parenthesis.
            draft.signature = format!(
                "{} {}",
                def.keyword,
                collapse_whitespace(&text_of(self.src, def.head_start, def.head_end))
            );
        }
        let ctx_hidden = self.modules[module].hidden;
        let mut doc_hidden = false;
        for &k in lead_attrs.iter().chain(between) {
            if let ItemKind::Lead(attr) = &items[k].kind {
                match attr {
                    // The last `@doc` before a clause wins, as in Elixir: `@doc false`
                    // on one clause and a text on a later one documents the function.
                    Attr::Doc(DocValue::Text(t)) => {
                        draft.doc = Some(t.clone());
                        doc_hidden = false;
                    }
                    Attr::Doc(DocValue::Hidden) => {
                        draft.doc = None;
                        doc_hidden = true;
                    }
                    Attr::Doc(DocValue::Meta) | Attr::Other | Attr::TypeDoc(_) => {}
                    Attr::Impl(i) => draft.impl_ = Some(i.clone()),
                    Attr::Deprecated | Attr::Doc(DocValue::Deprecated) => draft.tag("deprecated"),
                }
            }
        }
        let private = def.keyword.ends_with('p') && def.keyword != "defdelegate";
        // As Elixir's docs: a function named with a leading underscore (`__using__/1`)
        // is hidden unless it has a `@doc`.
        let underscored = def.name.starts_with('_') && draft.doc.is_none();
        draft.visibility = if private {
            Visibility::Private
        } else if doc_hidden || ctx_hidden || underscored {
            Visibility::Hidden
        } else {
            Visibility::Public
        };
        // Any clause under `if`/`for`/`unless` makes the function's code conditional.
        if clauses.iter().any(|&k| items[k].conditional) {
            draft.tag("conditional");
        }
        if def.dynamic {
            draft.tag("dynamic");
        }
        if !def.has_body {
            let any_body = clauses
                .iter()
                .any(|&k| matches!(&items[k].kind, ItemKind::Def(d) if d.has_body));
            if !any_body {
                draft.tag("bodiless");
            }
        }
        let line = self.line_of(first.node.start_byte());
        let ctx = &self.modules[module];
        let named = std::iter::once((&def.name, &draft.arities))
            .chain(def.also.iter().map(|(n, a)| (n, a)));
        let mut spec_keys = Vec::new();
        let templates: Vec<MacroTemplate> = (clauses.iter())
            .flat_map(|&k| match &items[k].kind {
                ItemKind::Def(d) => d.templates.clone(),
                _ => Vec::new(),
            })
            .collect();
        for (k, (name, arities)) in named.enumerate() {
            // Its own head, where a macro call defines several (`def u1(a)`, `def u1(a, b)`).
            let own_head = k.checked_sub(1).and_then(|k| def.also_heads.get(k));
            for m in std::iter::once(&ctx.name).chain(ctx.also.iter()) {
                draft.defines.push(Definition {
                    kind: def.kind,
                    module: m.clone(),
                    name: name.clone(),
                    arities: arities.clone(),
                    visibility: draft.visibility,
                    line,
                    end_line: 0,
                    // Its own name in the head (the chunk's is the first one's).
                    signature: match own_head {
                        Some(head) => head.clone(),
                        None => (def.name_var.as_ref())
                            .map(|written| draft.signature.replacen(written.as_str(), name, 1))
                            .unwrap_or_default(),
                    },
                    impl_: draft.impl_.clone(),
                    templates: match *name == def.name {
                        true => templates.clone(),
                        false => Vec::new(),
                    },
                    returns: def.returns.as_deref().cloned().filter(|_| k == 0),
                    names_from: def.names_from.as_deref().cloned().filter(|_| k == 0),
                    ..Definition::default()
                });
            }
            spec_keys.extend(arities.iter().map(|a| (name.clone(), *a)));
        }
        let mut piece = self.in_module(module, draft);
        piece.nodes = nodes;
        piece.spec_keys = spec_keys;
        self.pieces.push(piece);
    }

    fn test_piece(&mut self, module: usize, item: &Item<'t>, test: &TestInfo) {
        let node = item.node;
        let mut draft = Draft::new(test.kind, node.start_byte(), node.end_byte());
        draft.name = test.name.clone();
        draft.has_error = node.has_error();
        // The head up to `do`, in the block form or the keyword one (`test "a", do: ...`).
        let keyword_do = || {
            self.keyword_value(node, "do")?;
            child_of_kind(child_of_kind(node, "arguments")?, "keywords").map(|k| k.start_byte())
        };
        let head_end = child_of_kind(node, "do_block")
            .map(|b| b.start_byte())
            .or_else(keyword_do)
            .unwrap_or(node.end_byte());
        let head = text_of(self.src, node.start_byte(), head_end);
        draft.signature = collapse_whitespace(&head)
            .trim_end_matches([',', ' '])
            .to_string();
        // A head whose options go on for lines (`test_with_mock "it works", Mod, [` then
        // seventy lines of mocks): its first line.
        if draft.signature.len() > MAX_TEST_SIGNATURE {
            draft.signature = collapse_whitespace(head.lines().next().unwrap_or(""))
                .trim_end_matches([',', ' ', '[', '('])
                .to_string();
        }
        if test.pending {
            draft.tag("pending");
        }
        if test.property {
            draft.tag("property");
        }
        if item.conditional {
            draft.tag("conditional");
        }
        if memchr::memmem::find(&self.src[node.start_byte()..node.end_byte()], b"defmodule")
            .is_some()
        {
            let nested = self.modules_in_test(module, node);
            if nested.too_many {
                draft.tag("too_deep");
            }
            (draft.defines, draft.nested, draft.nested_aliases) =
                (nested.defines, nested.spans, nested.aliases);
        }
        let mut piece = self.in_module(module, draft);
        piece.nodes = vec![node];
        self.pieces.push(piece);
    }

    /// The modules a test defines in its body (`defmodule CrashingLayer do … end` inside a
    /// `test`) and their functions, each with its own calls. Elixir names such a module
    /// under the test's module (`MyTest.CrashingLayer`, aliased as `CrashingLayer` to the
    /// end of the block). It stays in the test's chunk, which lists what it defines, so
    /// that the symbol graph knows who defines `MyTest.CrashingLayer.run/1`. The walk is
    /// iterative, does not enter `quote` (code for another module), and lists at most
    /// [`MAX_TEST_MODULES`] modules, nested at most [`MAX_MODULE_DEPTH`] deep.
    fn modules_in_test(&self, module: usize, test: Node<'t>) -> InTest {
        let outer = self.modules[module].name.as_str();
        let mut out = InTest::default();
        // Each module found, with its full name and depth; aliases its `defmodule`s make.
        let mut found: Vec<(Node<'t>, String, usize)> = Vec::new();
        // Every alias made in the test, lexically: by a `defmodule` (its short name, to
        // the end of the block it is in) and by `alias`/`require ..., as:` statements (to
        // the end of theirs), in the test's body, in a module's body or in a function's.
        let mut made: Vec<MadeAlias> = Vec::new();
        // (node, its parent and grandparent, the innermost module found around it)
        type Up<'t> = (Option<Node<'t>>, Option<Node<'t>>);
        let mut stack: Vec<(Node<'t>, Up<'t>, Option<usize>)> = vec![(test, (None, None), None)];
        while let Some((node, (parent, grandparent), enclosing)) = stack.pop() {
            let mut inner = enclosing;
            if node.kind() == "call" && node.id() != test.id() {
                match target_name(node, self.src) {
                    Some("quote") => continue,
                    Some(directive @ ("alias" | "require")) => {
                        let plain = directive == "alias";
                        let end = parent.map_or(test.end_byte(), |block| {
                            calls::scope_end_in(block, || grandparent, self.src)
                        });
                        let pairs = calls::alias_pairs(node, plain, self.src);
                        made.extend(pairs.into_iter().map(|(short, target)| MadeAlias {
                            at: node.start_byte(),
                            end,
                            short,
                            target,
                            resolved: false,
                            within: enclosing,
                        }));
                        continue;
                    }
                    Some("defmodule") => {
                        let Some(name) = child_of_kind(node, "arguments")
                            .and_then(|a| a.named_child(0))
                            .filter(|n| {
                                matches!(n.kind(), "alias" | "dot" | "atom" | "quoted_atom")
                            })
                        else {
                            continue;
                        };
                        let depth = enclosing.map_or(1, |k| found[k].2 + 1);
                        if depth > MAX_MODULE_DEPTH || found.len() >= MAX_TEST_MODULES {
                            out.too_many = true;
                            continue;
                        }
                        let written = self.text(name).trim();
                        let base = enclosing.map_or(outer, |k| found[k].1.as_str());
                        let full = if name.kind() == "atom" {
                            // `defmodule :raw do`: named as written, as in a module's body.
                            written.to_string()
                        } else if name.kind() == "quoted_atom" {
                            // A literal one only: an interpolated name is computed.
                            let Some(named) = quoted_atom_module(name, self.src) else {
                                continue;
                            };
                            named
                        } else if let Some(absolute) = written.strip_prefix("Elixir.") {
                            absolute.to_string()
                        } else if let Some(rest) = written.strip_prefix("__MODULE__") {
                            [base, rest].concat()
                        } else if name.kind() == "alias" {
                            let first = written.split('.').next().unwrap_or(written);
                            let to = format!("{base}.{first}");
                            let end = parent.map_or(test.end_byte(), |block| {
                                calls::scope_end_in(block, || grandparent, self.src)
                            });
                            if enclosing.is_none() {
                                let alias = (node.start_byte(), end, first.into(), to.clone());
                                out.aliases.push(alias);
                            }
                            made.push(MadeAlias {
                                at: node.start_byte(),
                                end,
                                short: first.to_string(),
                                target: to,
                                resolved: true,
                                within: enclosing,
                            });
                            format!("{base}.{written}")
                        } else {
                            continue;
                        };
                        found.push((node, full, depth));
                        inner = Some(found.len() - 1);
                    }
                    _ => {}
                }
            }
            let mut cursor = node.walk();
            let children: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
            let up = (Some(node), parent);
            stack.extend(children.into_iter().rev().map(|c| (c, up, inner)));
        }
        // An alias statement's module may be written through an alias made before it.
        made.sort_by_key(|a| a.at);
        for i in 0..made.len() {
            if made[i].resolved {
                continue;
            }
            let base = made[i].within.map_or(outer, |k| found[k].1.as_str());
            let target = self.expand_in_test(module, &made[..i], base, &made[i].target, made[i].at);
            made[i].target = target;
            made[i].resolved = true;
        }
        let defines = &mut out.defines;
        for (node, full, _) in &found {
            // Its imports (`import Wallaby.Feature`), after the test module's in force
            // there: the calls without a module of its code resolve through them.
            let mut own_imports: Vec<String> = Vec::new();
            for statement in self.body(*node).unwrap_or_default() {
                if target_name(statement, self.src) == Some("import")
                    && let Some(m) = (child_of_kind(statement, "arguments"))
                        .and_then(|a| a.named_child(0))
                        .filter(|n| n.kind() == "alias")
                {
                    let at = statement.start_byte();
                    own_imports.push(self.expand_in_test(module, &made, full, self.text(m), at));
                }
            }
            let scoped = |unqualified: &mut Vec<String>| -> Vec<ScopedCalls> {
                if own_imports.is_empty() || unqualified.is_empty() {
                    return Vec::new();
                }
                let (mut imports, filters) = (self.modules[module].imports_at(node.start_byte()))
                    .cloned()
                    .unwrap_or_default();
                imports.extend(own_imports.iter().cloned());
                vec![ScopedCalls {
                    imports,
                    import_filters: filters,
                    calls: std::mem::take(unqualified),
                }]
            };
            // Its `use`s (`use Mod`, and `Mod.which/0` for `use Mod, :which`), and the
            // behaviours its `@behaviour`s name.
            let mut uses: Vec<String> = Vec::new();
            let mut behaviours: Vec<String> = Vec::new();
            for statement in self.body(*node).unwrap_or_default() {
                if uses.len() + behaviours.len() >= MAX_USES {
                    break;
                }
                if let Some(rest) = self.text(statement).strip_prefix("@behaviour")
                    && let written = rest.trim()
                    && written.starts_with(|c: char| c.is_ascii_uppercase())
                    && (written.chars()).all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                {
                    let at = statement.start_byte();
                    behaviours.push(self.expand_in_test(module, &made, full, written, at));
                    continue;
                }
                let args = child_of_kind(statement, "arguments");
                let Some(used) = (args.and_then(|a| a.named_child(0)))
                    .filter(|n| n.kind() == "alias")
                    .filter(|_| target_name(statement, self.src) == Some("use"))
                else {
                    continue;
                };
                let at = statement.start_byte();
                let used = self.expand_in_test(module, &made, full, self.text(used), at);
                for which in calls::use_which(args, self.src) {
                    uses.push(format!("{used}.{which}/0"));
                }
                uses.push(used);
            }
            // Its functions: consecutive clauses of one kind, name and arity are one.
            let mut groups: Vec<(DefInfo, Vec<Node<'t>>)> = Vec::new();
            for statement in self.body(*node).unwrap_or_default() {
                let Some(keyword) =
                    target_name(statement, self.src).filter(|k| DEF_KEYWORDS.contains(k))
                else {
                    continue;
                };
                let Some(def) = self.parse_def(statement, keyword) else {
                    continue;
                };
                match groups.last_mut() {
                    Some((last, clauses))
                        if (last.kind, &last.name, last.max_arity())
                            == (def.kind, &def.name, def.max_arity()) =>
                    {
                        last.arities.extend(&def.arities);
                        clauses.push(statement);
                    }
                    _ => groups.push((def, vec![statement])),
                }
            }
            let mut defined = Defined::default();
            for (def, _) in &groups {
                define(&mut defined, &def.name, &def.arities);
            }
            // A call in the module, with its module or its own (`plug :check` of its
            // `check/2`), or without one, resolved later.
            let sort_call = |at: usize,
                             call: RawCall,
                             calls: &mut Vec<String>,
                             unqualified: &mut Vec<String>| {
                match call.plugged_as_local() {
                    RawCall::Remote {
                        module: m,
                        fun,
                        arity,
                    } => {
                        let target = self.expand_in_test(module, &made, full, &m, at);
                        // An attribute (`@subject.fun()`) is not followed here.
                        if !target.starts_with('@') {
                            calls.push(super::symbol(&target, &fun, arity));
                        }
                    }
                    RawCall::Local { fun, arity } => {
                        if defined.get(&fun).is_some_and(|a| a.contains(&arity)) {
                            calls.push(super::symbol(full, &fun, arity));
                        } else if !structural_call(&fun, arity) {
                            unqualified.push(super::symbol("", &fun, arity));
                        }
                    }
                    RawCall::OwnCallback { fun, arity, .. } => {
                        if defined.get(fun).is_some_and(|a| a.contains(&arity)) {
                            calls.push(super::symbol(full, fun, arity));
                        }
                    }
                    RawCall::Alias { .. }
                    | RawCall::Import { .. }
                    | RawCall::QuotedUse { .. }
                    | RawCall::QuotedBeforeCompile { .. }
                    | RawCall::QuotedBehaviour { .. }
                    | RawCall::Mock { .. }
                    | RawCall::Registers { .. }
                    | RawCall::ControllerRender { .. }
                    | RawCall::QuotedDef { .. }
                    | RawCall::CallerModule { .. }
                    | RawCall::Plugged { .. }
                    | RawCall::Unquoted { .. } => {}
                }
            };
            // Its module-level code's calls (`use Membrane.Sink`, `def_input_pad :input`,
            // `@x own(2)`), as a module header's: not its definitions' (below), nor those
            // of a module nested in it (found apart); an attribute's as the walk reads
            // them (a typespec names types).
            let (mut calls, mut unqualified): (Vec<String>, Vec<String>) = Default::default();
            for statement in self.body(*node).unwrap_or_default() {
                let skip = target_name(statement, self.src).is_some_and(|t| {
                    DEF_KEYWORDS.contains(&t) || matches!(t, "defmodule" | "quote")
                });
                if skip {
                    continue;
                }
                for (at, call) in calls::collect(statement, self.src) {
                    sort_call(at, call, &mut calls, &mut unqualified);
                }
            }
            dedup_keep_first(&mut calls);
            dedup_keep_first(&mut unqualified);
            let scoped_calls = scoped(&mut unqualified);
            defines.push(Definition {
                kind: ChunkKind::ModuleHeader,
                module: full.clone(),
                name: full.clone(),
                arities: Vec::new(),
                visibility: Visibility::Public,
                line: self.line_of(node.start_byte()),
                end_line: self.line_of(node.end_byte().saturating_sub(1)),
                signature: format!("defmodule {full}"),
                uses,
                behaviours,
                calls,
                unqualified_calls: unqualified,
                scoped_calls,
                ..Definition::default()
            });
            for (mut def, clauses) in groups {
                def.arities.sort_unstable();
                def.arities.dedup();
                let (first, last) = (clauses[0], clauses[clauses.len() - 1]);
                let mut calls: Vec<String> = Vec::new();
                let mut unqualified: Vec<String> = Vec::new();
                for clause in &clauses {
                    for (at, call) in calls::collect(*clause, self.src) {
                        sort_call(at, call, &mut calls, &mut unqualified);
                    }
                }
                dedup_keep_first(&mut calls);
                dedup_keep_first(&mut unqualified);
                let scoped_calls = scoped(&mut unqualified);
                let private = def.keyword.ends_with('p') && def.keyword != "defdelegate";
                let head =
                    collapse_whitespace(&text_of(self.src, first.start_byte(), def.head_end));
                defines.push(Definition {
                    kind: def.kind,
                    module: full.clone(),
                    name: def.name,
                    arities: def.arities,
                    visibility: if private {
                        Visibility::Private
                    } else {
                        Visibility::Public
                    },
                    line: self.line_of(first.start_byte()),
                    end_line: self.line_of(last.end_byte().saturating_sub(1)),
                    signature: head,
                    calls,
                    unqualified_calls: unqualified,
                    scoped_calls,
                    ..Definition::default()
                });
            }
        }
        out.spans = (found.iter())
            .map(|(n, _, _)| (n.start_byte(), n.end_byte()))
            .collect();
        out.aliases.sort_by_key(|a| a.0);
        out
    }

    /// The module a name written at byte `at` of a test means, in a module the test
    /// defines (`current`): `__MODULE__` is `current`, an alias the test made and still in
    /// force there is its module (the latest made), and any other name is expanded as in
    /// the test's own module (`module`).
    fn expand_in_test(
        &self,
        module: usize,
        made: &[MadeAlias],
        current: &str,
        written: &str,
        at: usize,
    ) -> String {
        // A route in a router a test defines.
        if written.contains(calls::ROUTE_SCOPE) {
            let parts = written.split(calls::ROUTE_SCOPE);
            let parts: Vec<String> = parts
                .map(|w| self.expand_in_test(module, made, current, w, at))
                .collect();
            return parts.join(".");
        }
        let written = written.trim();
        if let Some(rest) = written.strip_prefix("__MODULE__") {
            return [current, rest].concat();
        }
        // `Fake.Sub` is `Fake` (maybe an alias) and `.Sub`.
        let (first, rest) = written
            .find('.')
            .map_or((written, ""), |i| written.split_at(i));
        let alias = (made.iter())
            .filter(|a| a.resolved && a.at <= at && at < a.end && a.short == first)
            .max_by_key(|a| a.at);
        match alias {
            Some(a) => [a.target.as_str(), rest].concat(),
            None => expand_at(&self.modules, written, Some(module), at),
        }
    }

    fn line_of(&self, byte: usize) -> u32 {
        self.lines.line_of(byte)
    }
}

enum Classified<'t> {
    Item(ItemKind<'t>),
    /// `describe "title" do … end`: its statements are flattened in place.
    Describe(String, Vec<Node<'t>>),
    Wrapper(Vec<Node<'t>>),
    Error(Vec<Node<'t>>),
    /// `( … )` around statements of the module: they are flattened in place.
    Group(Vec<Node<'t>>),
}

/// Expands a written module name through the aliases of `scope` and its parents.
/// While walking, the aliases read so far count.
fn expand(modules: &[ModuleCtx], written: &str, scope: Option<usize>) -> String {
    expand_at(modules, written, scope, usize::MAX)
}

/// [`expand`] for a call at byte `at`: only the aliases made before it count (Elixir's
/// aliases are lexical), not one made further down the module.
fn expand_at(modules: &[ModuleCtx], written: &str, scope: Option<usize>, at: usize) -> String {
    if written.contains(calls::ROUTE_SCOPE) {
        return scoped_route(written, |part| expand_at(modules, part, scope, at));
    }
    let written = written.trim();
    if let Some(rest) = (written.strip_prefix("__MODULE__"))
        .or_else(|| written.strip_prefix(calls::UNQUOTED_MODULE))
    {
        let current = scope.map(|s| modules[s].name.as_str()).unwrap_or("");
        return [current, rest].concat();
    }
    if let Some(absolute) = written.strip_prefix("Elixir.") {
        return absolute.to_string();
    }
    if written.starts_with(':') {
        return written.to_string();
    }
    let (first, rest) = match written.find('.') {
        Some(i) => (&written[..i], &written[i..]),
        None => (written, ""),
    };
    let mut s = scope;
    while let Some(idx) = s {
        if let Some(full) = modules[idx].alias_at(first, at) {
            return [full, rest].concat();
        }
        s = modules[idx].parent;
    }
    written.to_string()
}

/// A routed module written in a router `scope` (its parts joined by
/// [`calls::ROUTE_SCOPE`]): each part expanded through the aliases, then joined.
fn scoped_route(written: &str, expand: impl Fn(&str) -> String) -> String {
    let parts: Vec<String> = written.split(calls::ROUTE_SCOPE).map(expand).collect();
    parts.join(".")
}

/// The module a literal quoted atom names: `:"Elixir.Shop.Raw"` is `Shop.Raw`, as Elixir
/// reads it, and `:"raw"` is `:raw`. `None` for one built by interpolation.
fn quoted_atom_module(atom: Node<'_>, src: &[u8]) -> Option<String> {
    let mut cursor = atom.walk();
    let parts: Vec<Node<'_>> = atom.named_children(&mut cursor).collect();
    let [content] = parts[..] else {
        return None;
    };
    if content.kind() != "quoted_content" {
        return None;
    }
    let text = std::str::from_utf8(&src[content.start_byte()..content.end_byte()]).ok()?;
    Some(match text.strip_prefix("Elixir.") {
        Some(module) => module.to_string(),
        // `:"raw"` is `:raw`; `:"foo/bar"` needs its quotes, as Elixir prints it.
        None if plain_atom(text) => format!(":{text}"),
        None => format!(":\"{text}\""),
    })
}

/// An atom Elixir writes without quotes: a letter or `_`, then letters, digits, `_` and
/// `@`, maybe ending in `?` or `!`.
fn plain_atom(text: &str) -> bool {
    let body = text.strip_suffix(['?', '!']).unwrap_or(text);
    let mut chars = body.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
}

/// `fun/arity` of a spec or type head (`f(a) :: t`, `g :: t`, `f(a) :: t when a: x`).
fn spec_key(arg: Node<'_>, src: &[u8]) -> Option<(String, u32)> {
    let mut node = arg;
    for _ in 0..2 {
        if node.kind() == "binary_operator" {
            let op = node.child_by_field_name("operator")?;
            let op_text = std::str::from_utf8(&src[op.start_byte()..op.end_byte()]).ok()?;
            if op_text == "when" || op_text == "::" {
                node = node.child_by_field_name("left")?;
                continue;
            }
        }
        break;
    }
    let text = |n: Node<'_>| {
        std::str::from_utf8(&src[n.start_byte()..n.end_byte()])
            .unwrap_or("")
            .to_string()
    };
    match node.kind() {
        "identifier" => Some((text(node), 0)),
        "call" => {
            let target = node.child_by_field_name("target")?;
            Some((text(target), call_arity(node)))
        }
        "binary_operator" => Some((text(node.child_by_field_name("operator")?), 2)),
        "unary_operator" => Some((text(node.child_by_field_name("operator")?), 1)),
        _ => None,
    }
}

/// The content of a string, charlist or sigil node (heredocs dedented).
fn string_content(node: Node<'_>, src: &[u8]) -> String {
    let start = node
        .child_by_field_name("quoted_start")
        .map_or(node.start_byte(), |s| s.end_byte());
    let end = node
        .child_by_field_name("quoted_end")
        .map_or(node.end_byte(), |e| e.start_byte());
    let raw = text_of(src, start, end.max(start));
    if raw.contains('\n') {
        dedent(&raw)
    } else {
        raw.into_owned()
    }
}

/// A string literal's text with its escaped quotes and backslashes read as Elixir reads
/// them (`params[\"_format\"]` is `params["_format"]`); other escapes and interpolations
/// stay as written.
fn unescape_quotes(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(q @ ('"' | '\\')) => out.push(q),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn dedent(s: &str) -> String {
    let indent = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let cut = line
            .char_indices()
            .nth(indent)
            .map_or(line.len(), |(i, _)| i)
            .min(line.len() - line.trim_start().len());
        out.push_str(&line[cut..]);
        out.push('\n');
    }
    out.trim().to_string()
}

/// Makes the pieces tile the file: each starts where the previous ended, the first at 0
/// and the last at the end of the file. The rest of a piece's last line (whitespace up to
/// the newline) stays with it, so chunks start on their own line. Empty pieces are dropped.
fn tile(pieces: &mut Vec<Piece<'_>>, src: &[u8]) {
    pieces.retain(|p| p.draft.end > p.draft.start);
    let mut prev_end = 0usize;
    for i in 0..pieces.len() {
        let anchor = pieces[i].draft.start.max(prev_end);
        if i > 0 && anchor > prev_end {
            let gap = &src[prev_end..anchor];
            // The rest of the line (blanks, or a comment after `end`) stays with it.
            if let Some(nl) = memchr::memchr(b'\n', gap)
                && gap[..nl]
                    .iter()
                    .position(|b| !b.is_ascii_whitespace())
                    .is_none_or(|p| gap[p] == b'#')
            {
                prev_end += nl + 1;
                pieces[i - 1].draft.end = prev_end;
            }
        }
        pieces[i].draft.start = prev_end;
        pieces[i].draft.end = pieces[i].draft.end.max(prev_end);
        prev_end = pieces[i].draft.end;
    }
    pieces.retain(|p| p.draft.end > p.draft.start);
    if let Some(last) = pieces.last_mut() {
        last.draft.end = src.len();
    }
}

/// Gives the byte range `[start, end)` (blanked by [`repair`]) its own `text` chunk with
/// `has_error`, cut out of the pieces that hold it (before they are split); a piece the
/// range begins inside keeps what comes before it, and the error chunk takes the rest.
fn carve(pieces: &mut Vec<Piece<'_>>, src: &[u8], start: usize, end: usize, path: &str) {
    let mut at = start;
    while at < end {
        // The pieces tile the file in order.
        let i = pieces.partition_point(|p| p.draft.end <= at);
        if pieces.get(i).is_none_or(|p| p.draft.start > at) {
            return;
        }
        let d = &pieces[i].draft;
        let (d_start, d_end, module) = (d.start, d.end, pieces[i].module);
        let mut broken = Draft::new(ChunkKind::Text, at, end.min(d_end));
        broken.module = d.module.clone();
        broken.parents = d.parents.clone();
        broken.also_modules = d.also_modules.clone();
        broken.aliases = d.aliases.clone();
        broken.imports = d.imports.clone();
        broken.import_filters = d.import_filters.clone();
        broken.uses = d.uses.clone();
        broken.scope = d.scope;
        broken.name = if d.module.is_empty() {
            path.to_string()
        } else {
            d.module.clone()
        };
        broken.has_error = true;
        // The draft keeps its code; blank lines next to the range go with the error chunk.
        let blank = |from: usize, to: usize| src[from..to].iter().all(u8::is_ascii_whitespace);
        let code_before = !blank(d_start, at);
        let code_after = !blank(broken.end, d_end);
        at = match (code_before, code_after) {
            (false, false) => {
                broken.start = d_start;
                broken.end = d_end;
                pieces[i] = Piece::new(broken, module);
                d_end
            }
            (false, true) => {
                broken.start = d_start;
                let cut = broken.end;
                pieces[i].draft.start = cut;
                pieces.insert(i, Piece::new(broken, module));
                cut
            }
            (true, code_after) => {
                // Code before the range keeps the piece, and the error chunk takes the
                // blank lines just before the range (they open the next chunk). Code after
                // it in the same piece (an `alias` or attribute after the broken definition,
                // in the module header) stays indexed as a text chunk of the module.
                let mut cut = at;
                while let Some(prev) = src[..cut - 1].iter().rposition(|&b| b == b'\n')
                    && prev + 1 > d_start
                    && blank(prev + 1, cut)
                {
                    cut = prev + 1;
                }
                // A module's closing `end` alone is not worth a chunk of its own.
                let worth = code_after
                    && src[broken.end..d_end]
                        .split(u8::is_ascii_whitespace)
                        .any(|w| !w.is_empty() && w != b"end");
                let rest = worth.then(|| {
                    let mut rest = broken.clone();
                    rest.start = broken.end;
                    rest.end = d_end;
                    rest.has_error = false;
                    Piece::new(rest, module)
                });
                broken.start = cut;
                if rest.is_none() {
                    broken.end = d_end;
                }
                pieces[i].draft.end = cut;
                pieces[i].nodes.retain(|n| n.end_byte() <= cut);
                pieces.insert(i + 1, Piece::new(broken, module));
                if let Some(rest) = rest {
                    pieces.insert(i + 2, rest);
                }
                d_end
            }
        };
    }
}

/// `@spec`s attach by name and arity, wherever they stand in the module.
fn attach_specs(piece: &mut Piece<'_>, modules: &[ModuleCtx]) {
    let Some(m) = piece.module else {
        return;
    };
    for key in &piece.spec_keys {
        for spec in modules[m].specs.get(key).into_iter().flatten() {
            if !piece.draft.specs.contains(spec) {
                piece.draft.specs.push(spec.clone());
            }
        }
    }
}

/// What a module's later header parts quote (a case template's `using do quote … end
/// end` after its `setup`, as Assent's test cases write it) is the module's: moved to
/// the header that defines it, which a `use` of the module reads.
fn gather_header_quotes(drafts: &mut [Draft]) {
    let defines_module = |d: &Draft| {
        d.kind == ChunkKind::ModuleHeader
            && (d.defines.iter()).any(|x| x.kind == ChunkKind::ModuleHeader)
    };
    let quotes = |d: &Draft| {
        !(d.quoted_imports.is_empty()
            && d.quoted_aliases.is_empty()
            && d.quoted_uses.is_empty()
            && d.quoted_defs.is_empty())
    };
    // The last draft defining each module, as the pass goes (one pass: a file of many
    // quoting functions is not read back to its header for each).
    let mut header_of: FxHashMap<usize, usize> = FxHashMap::default();
    for k in 0..drafts.len() {
        if let Some(scope) = drafts[k].scope.filter(|_| defines_module(&drafts[k])) {
            header_of.insert(scope, k);
            continue;
        }
        let part = &drafts[k];
        // A later part of a header split by size is read with its first part; a
        // function's chunk moves only quotes all outside its own span (module-level
        // code leading into it).
        let header_part = part.kind == ChunkKind::ModuleHeader && !defines_module(part);
        let leading = part.kind.is_callable() && part.quotes_outside == Some(true);
        if !(header_part || leading) || part.part.is_some() || part.scope.is_none() || !quotes(part)
        {
            continue;
        }
        let Some(&j) = part.scope.and_then(|scope| header_of.get(&scope)) else {
            continue;
        };
        let part = &mut drafts[k];
        let (imports, filters) = (
            std::mem::take(&mut part.quoted_imports),
            std::mem::take(&mut part.quoted_import_filters),
        );
        let aliases = std::mem::take(&mut part.quoted_aliases);
        let uses = std::mem::take(&mut part.quoted_uses);
        let defs = std::mem::take(&mut part.quoted_defs);
        let header = &mut drafts[j];
        for m in imports {
            let list = (filters.iter())
                .find(|f| f.module == m)
                .map(ImportFilter::as_list);
            ImportFilter::record(
                &mut header.quoted_imports,
                &mut header.quoted_import_filters,
                m,
                list,
            );
        }
        for pair in aliases {
            if !header.quoted_aliases.contains(&pair) {
                header.quoted_aliases.push(pair);
            }
        }
        for used in uses {
            if !header.quoted_uses.contains(&used) {
                header.quoted_uses.push(used);
            }
        }
        header.quoted_defs.extend(defs);
    }
}

/// Before small neighbours merge, each definition records its own calls, signature and
/// last line, so the symbol graph stays exact for merged chunks; a split definition
/// collects the calls of all its parts, whichever part holds its head.
fn give_definitions_their_calls(drafts: &mut [Draft], lines: &LineIndex) {
    gather_header_quotes(drafts);
    let mut i = 0;
    while i < drafts.len() {
        // The parts of one split piece follow each other, the first marked `1/n`.
        let n = match drafts[i].part {
            Some((1, n)) => (n as usize).clamp(1, drafts.len() - i),
            _ => 1,
        };
        let piece = i..i + n;
        let end_line = lines.line_range(drafts[i].start, drafts[i + n - 1].end).1;
        let mut calls: Vec<String> = Vec::new();
        let mut unqualified: Vec<String> = Vec::new();
        let mut scoped: Vec<ScopedCalls> = Vec::new();
        let (mut quoted, mut quoted_filters) = (Vec::new(), Vec::new());
        let mut quoted_aliases: Vec<(String, String)> = Vec::new();
        let mut quoted_uses: Vec<String> = Vec::new();
        let mut quoted_defs: Vec<QuotedDef> = Vec::new();
        for d in &drafts[piece.clone()] {
            quoted_defs.extend_from_slice(&d.quoted_defs);
            for pair in &d.quoted_aliases {
                if !quoted_aliases.contains(pair) {
                    quoted_aliases.push(pair.clone());
                }
            }
            for used in &d.quoted_uses {
                if !quoted_uses.contains(used) {
                    quoted_uses.push(used.clone());
                }
            }
            for m in &d.quoted_imports {
                let list = d
                    .quoted_import_filters
                    .iter()
                    .find(|f| &f.module == m)
                    .map(ImportFilter::as_list);
                ImportFilter::record(&mut quoted, &mut quoted_filters, m.clone(), list);
            }
            calls.extend_from_slice(&d.calls);
            unqualified.extend_from_slice(&d.unqualified_calls);
            for sc in &d.scoped_calls {
                ScopedCalls::add(&mut scoped, &sc.imports, &sc.import_filters, &sc.calls);
            }
        }
        dedup_keep_first(&mut calls);
        dedup_keep_first(&mut unqualified);
        ScopedCalls::dedup(&mut scoped);
        QuotedDef::dedup(&mut quoted_defs);
        for k in piece {
            let draft = &mut drafts[k];
            if draft.kind.is_test() {
                // What a test defines (the modules in its body) has its own calls.
                continue;
            }
            let own_end = lines.line_range(draft.start, draft.end).1;
            let several_delegates = draft.kind == ChunkKind::Delegate && draft.defines.len() > 1;
            let (own_calls, own_unqualified, own_scoped) = (
                draft.calls.clone(),
                draft.unqualified_calls.clone(),
                draft.scoped_calls.clone(),
            );
            let signature = draft.signature.clone();
            for d in &mut draft.defines {
                if d.implied {
                    // Written nowhere, it calls nothing; its line is what implies it.
                    continue;
                }
                if d.kind == ChunkKind::Type {
                    // A type knows its own lines and calls only what its part shows; a
                    // header or a type chunk holds several.
                    d.calls = own_calls.clone();
                    d.unqualified_calls = own_unqualified.clone();
                    d.scoped_calls = own_scoped.clone();
                } else {
                    d.calls = calls.clone();
                    d.unqualified_calls = unqualified.clone();
                    d.scoped_calls = scoped.clone();
                    d.quoted_imports = quoted.clone();
                    d.quoted_import_filters = quoted_filters.clone();
                    d.quoted_aliases = quoted_aliases.clone();
                    d.quoted_uses = quoted_uses.clone();
                    d.quoted_defs = quoted_defs.clone();
                    d.end_line = match draft.own {
                        // Its last clause, not module-level code after it.
                        Some((_, e)) if e > 0 => lines.line_of(e - 1).max(d.line),
                        _ if n > 1 => end_line,
                        _ => own_end,
                    };
                }
                if d.module != draft.module && !draft.module.is_empty() {
                    // `defimpl P, for: [Map, List]`: `P.List.p` calls `P.List.helper`,
                    // where the calls were resolved in the first module, `P.Map`.
                    let (first, own) = (format!("{}.", draft.module), format!("{}.", d.module));
                    for c in &mut d.calls {
                        if let Some(rest) = c.strip_prefix(first.as_str())
                            && !rest.starts_with(|c: char| c.is_ascii_uppercase())
                        {
                            *c = format!("{own}{rest}");
                        }
                    }
                }
                if several_delegates {
                    // `defdelegate [a(x), b(x, y)], to: M`: each calls its own target.
                    let own: Vec<String> = d
                        .calls
                        .iter()
                        .filter(|c| {
                            d.arities
                                .iter()
                                .any(|a| c.ends_with(&format!(".{}/{a}", d.name)))
                        })
                        .cloned()
                        .collect();
                    if !own.is_empty() {
                        d.calls = own;
                    }
                }
                if d.signature.is_empty() {
                    d.signature = signature.clone();
                }
            }
        }
        i += n;
    }
}

/// An `only:` list of `fun/arity` names.
fn only_list(only: Option<&[&str]>) -> Option<ImportList> {
    only.map(|names| ImportList {
        except: false,
        names: names.iter().map(|n| n.to_string()).collect(),
        select: None,
    })
}

/// The imports a `use` of a well-known module makes (its `__using__` as of Elixir
/// 1.14 and StreamData): each module, and its `only:` list if it has one.
fn imports_of_use(used: &str) -> &'static [(&'static str, Option<&'static [&'static str]>)] {
    match used {
        "ExUnit.Case" => &[
            ("ExUnit.Callbacks", None),
            ("ExUnit.Assertions", None),
            (
                "ExUnit.Case",
                Some(&["describe/2", "test/1", "test/2", "test/3"]),
            ),
            ("ExUnit.DocTest", None),
        ],
        "ExUnit.CaseTemplate" => &[("ExUnit.Assertions", None)],
        "ExUnit.Callbacks" => &[("ExUnit.Callbacks", None)],
        "ExUnitProperties" => &[("ExUnitProperties", None), ("StreamData", None)],
        "Bitwise" => &[("Bitwise", None)],
        "Mix.Config" => &[(
            "Mix.Config",
            Some(&["config/2", "config/3", "import_config/1"]),
        )],
        _ => &[],
    }
}

/// Elixir's special forms: `case` is always `Kernel.SpecialForms`'s, even in a module
/// that defines a `case/2` of its own (as `Nx.Defn.Kernel` does).
const SPECIAL_FORMS: [&str; 13] = [
    "case",
    "cond",
    "receive",
    "try",
    "for",
    "with",
    "quote",
    "unquote",
    "unquote_splicing",
    "import",
    "alias",
    "require",
    "super",
];

/// A module's functions, macros and guards: each name with the arities defined under it.
type Defined = FxHashMap<String, FxHashSet<u32>>;

/// Whether an unqualified call `fun/arity` calls the module's own definition.
fn defined_here(module: &ModuleCtx, fun: &str, arity: u32) -> bool {
    // (`import`, `alias` and `require` take two arguments at most: Snap's own
    // `alias/4` called with three is the module's.)
    let directive = matches!(fun, "import" | "alias" | "require") && arity > 2;
    (directive || !SPECIAL_FORMS.contains(&fun))
        && (module
            .defined
            .get(fun)
            .is_some_and(|arities| arities.contains(&arity))
            // What `defexception` writes, called by name in the module (DBConnection's
            // `message |> exception()`).
            || (module.implied.iter()).any(|(f, a, ..)| *f == fun && *a == arity))
}

/// Records that a module defines `name` with `arities`.
fn define(defined: &mut Defined, name: &str, arities: &[u32]) {
    match defined.get_mut(name) {
        Some(known) => known.extend(arities),
        None => {
            defined.insert(name.to_string(), arities.iter().copied().collect());
        }
    }
}

/// Whether a call without a module of `fun/arity` is one of [`STRUCTURE`]: not an
/// imported function's that takes more arguments than ExUnit's `test/3` (Tentacat's
/// `test(client, owner, repo, id)`).
pub(crate) fn structural_call(fun: &str, arity: u32) -> bool {
    STRUCTURE.contains(&fun) && !(fun == "test" && arity > 3)
}

/// Whether `node` is a `@moduledoc` attribute (not `@moduledoc_opts`).
fn is_moduledoc(node: Node<'_>, src: &[u8]) -> bool {
    src[node.start_byte()..]
        .strip_prefix(b"@moduledoc")
        .is_some_and(|rest| {
            !rest
                .first()
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        })
}

/// Macros that give code its structure rather than being called for what they compute:
/// kept out of a chunk's calls without a module, so that every module and function does
/// not become a caller of `Kernel.defmodule/2` or `Kernel.if/2` (special forms such as
/// `case` and `fn` are never resolved: the graph looks in `Kernel`, not
/// `Kernel.SpecialForms`).
pub(crate) const STRUCTURE: [&str; 28] = [
    "defmodule",
    "defprotocol",
    "defimpl",
    "defstruct",
    "defexception",
    "defoverridable",
    "if",
    "unless",
    "use",
    "import",
    "alias",
    "require",
    "quote",
    "unquote",
    "unquote_splicing",
    "super",
    "case",
    "cond",
    "with",
    "for",
    "try",
    "receive",
    "describe",
    "test",
    "setup",
    "setup_all",
    "property",
    "test_with_mock",
];

/// Aliases made in a body, innermost last: (end of their block, short name, module), and
/// where each short name is among them. A later alias is made inside the blocks of
/// those before it that still count, so the ones whose block has ended are always on
/// top: each is popped once, and a look-up costs the same for 10 aliases or 40,000.
#[derive(Default)]
struct LocalAliases {
    stack: Vec<(usize, String, String)>,
    by_short: HashMap<String, Vec<usize>>,
}

impl LocalAliases {
    fn push(&mut self, end: usize, short: String, full: String) {
        debug_assert!(
            self.stack.last().is_none_or(|(outer, _, _)| end <= *outer),
            "an alias's block ends inside the blocks of the aliases before it"
        );
        self.by_short
            .entry(short.clone())
            .or_default()
            .push(self.stack.len());
        self.stack.push((end, short, full));
    }

    /// Drops the aliases whose block ended at or before byte `at`.
    fn end_before(&mut self, at: usize) {
        while let Some((end, short, _)) = self.stack.last()
            && *end <= at
        {
            if let Some(places) = self.by_short.get_mut(short) {
                places.pop();
            }
            self.stack.pop();
        }
    }

    /// The module the innermost alias named `short` stands for.
    fn find(&self, short: &str) -> Option<&String> {
        let &i = self.by_short.get(short)?.last()?;
        Some(&self.stack[i].2)
    }
}

/// Gives each draft the calls inside its span, resolved with its module's aliases.
fn attach_calls(drafts: &mut [Draft], raw: &[(usize, RawCall)], modules: &[ModuleCtx]) {
    // Imports made in a body (or at the top of a script) that reach past the draft they
    // are in, into the next part of the same definition or the next text of the script:
    // (end of their block, the draft's module, the imports then in force).
    let mut carried: Vec<(usize, Option<usize>, Imports)> = Vec::new();
    // Aliases made in a body (end of their block, short name, module) that reach into
    // the next part of the same definition.
    let mut carried_local = LocalAliases::default();
    // The quoted definition the walk is in (where it ends), for its calls; a split one
    // reaches into the next parts, which carry a copy for their calls (the copies join
    // in `QuotedDef::dedup`).
    let mut quoted_open: Option<(usize, QuotedDef)> = None;
    // Where the `unquote` the walk is in ends: its calls are no quoted definition's.
    let mut unquoted_until = 0;
    for draft in drafts.iter_mut() {
        match &quoted_open {
            Some((end, def)) if *end > draft.start => draft.quoted_defs.push(def.clone()),
            _ => quoted_open = None,
        }
        let lo = raw.partition_point(|(b, _)| *b < draft.start);
        let hi = raw.partition_point(|(b, _)| *b < draft.end);
        // A quote compiled into a module of its own: `Module.create(name, contents, env)`
        // after it, no quote after that (see below).
        let created = {
            let in_draft = || raw[lo..hi].iter();
            let create = in_draft()
                .filter(|(_, c)| {
                    matches!(c, RawCall::Remote { module, fun, arity: 3 }
                        if module == "Module" && fun == "create")
                })
                .map(|(at, _)| *at)
                .max();
            create.is_some_and(|create| {
                !in_draft().any(|(at, c)| *at > create && matches!(c, RawCall::QuotedDef { .. }))
            })
        };
        let scope = draft.scope;
        // Aliases made inside this chunk (in a function body), in force after them.
        let mut local = if draft.part.is_some_and(|(k, _)| k > 1) {
            std::mem::take(&mut carried_local)
        } else {
            LocalAliases::default()
        };
        let continues = draft.part.is_some_and(|(k, n)| k < n);
        // The imports in force after an import in a body, to the end of its block, and
        // the calls without a module made under them: innermost last.
        let mut scopes: Vec<(usize, Imports, Vec<String>)> = carried
            .iter()
            .filter(|(end, s, _)| *s == scope && *end > draft.start)
            .map(|(end, _, imports)| (*end, imports.clone(), Vec::new()))
            .collect();
        let mut done: Vec<(Imports, Vec<String>)> = Vec::new();
        if lo >= hi && scopes.is_empty() {
            if continues {
                carried_local = local;
            }
            continue;
        }
        let mut seen: FxHashSet<String> = draft.calls.iter().cloned().collect();
        let resolve_one = |local: &LocalAliases, written: &str, at: usize| {
            let (first, rest) = written
                .split_once('.')
                .map_or((written, ""), |(f, r)| (f, r));
            match local.find(first) {
                Some(full) if rest.is_empty() => full.clone(),
                Some(full) => [full.as_str(), ".", rest].concat(),
                None => expand_at(modules, written, scope, at),
            }
        };
        let resolve = |local: &LocalAliases, written: &str, at: usize| match written
            .contains(calls::ROUTE_SCOPE)
        {
            true => scoped_route(written, |part| resolve_one(local, part, at)),
            false => resolve_one(local, written, at),
        };
        let start = draft.start;
        let taken = std::mem::take(&mut draft.nested_aliases);
        let mut nested_aliases = (taken.iter()).filter(|a| a.0 >= start).peekable();
        for (at, call) in &raw[lo..hi] {
            // The aliases of modules a test defines, from their `defmodule` on.
            while let Some((_, end, short, full)) = nested_aliases.next_if(|a| a.0 <= *at) {
                local.end_before(*at);
                local.push(*end, short.clone(), full.clone());
            }
            if matches!(
                call,
                RawCall::Remote { .. }
                    | RawCall::Local { .. }
                    | RawCall::Plugged { .. }
                    | RawCall::OwnCallback { .. }
            ) && draft.nested.iter().any(|&(s, e)| s <= *at && *at < e)
            {
                // In a module the test defines: its functions' calls.
                continue;
            }
            // Module-level code in a function's span (an attribute's value before it):
            // the module's calls, not the function's.
            let outside = draft.own.is_some_and(|(s, e)| *at < s || *at >= e);
            let quoting = matches!(
                call,
                RawCall::Alias { quoted: true, .. }
                    | RawCall::Import { quoted: true, .. }
                    | RawCall::QuotedUse { .. }
                    | RawCall::QuotedDef { .. }
            );
            if quoting {
                draft.quotes_outside = Some(draft.quotes_outside.unwrap_or(true) && outside);
            }
            // A plug's call is a call without a module, and one the graph may resolve to
            // a function defined in the module by a `use` or a macro: kept apart from the
            // module's other calls without a module.
            let plugged_local;
            let event_local;
            let (call, plugged) = match call {
                RawCall::Plugged { fun } => {
                    plugged_local = RawCall::Local {
                        fun: fun.clone(),
                        arity: 2,
                    };
                    (&plugged_local, true)
                }
                // An event a template binds, in a module that writes no `handle_event/3`
                // (one a `use` defines): a call by name, for the graph to resolve.
                RawCall::OwnCallback {
                    fun: "handle_event",
                    arity: 3,
                    message: Some(_),
                } if !scope.is_some_and(|s| defined_here(&modules[s], "handle_event", 3)) => {
                    event_local = RawCall::Local {
                        fun: "handle_event".to_string(),
                        arity: 3,
                    };
                    (&event_local, false)
                }
                call => (call, false),
            };
            // (Quoted code there, a case template's `using` block, is read as any: the
            // module's, moved to its header once read.)
            if outside && !quoting && !matches!(call, RawCall::Unquoted { .. }) {
                let (calls, call) = match call {
                    RawCall::Remote { module, fun, arity } => {
                        let module = expand_at(modules, module, scope, *at);
                        // An attribute that names no module.
                        if module.starts_with('@') {
                            continue;
                        }
                        (&mut draft.module_calls, super::symbol(&module, fun, *arity))
                    }
                    RawCall::Local { fun, arity } => {
                        match scope.filter(|&s| defined_here(&modules[s], fun, *arity)) {
                            Some(s) => (
                                &mut draft.module_calls,
                                super::symbol(&modules[s].name, fun, *arity),
                            ),
                            None if structural_call(fun, *arity) => continue,
                            None if plugged => {
                                (&mut draft.plugged_calls, super::symbol("", fun, *arity))
                            }
                            None => (
                                &mut draft.module_unqualified_calls,
                                super::symbol("", fun, *arity),
                            ),
                        }
                    }
                    RawCall::OwnCallback {
                        fun,
                        arity,
                        message,
                    } => {
                        let Some(s) = scope else { continue };
                        let (fun, arity) = message_handler(&modules[s], fun, *arity);
                        if !handles(&modules[s], fun, arity, message) {
                            continue;
                        }
                        (
                            &mut draft.module_calls,
                            super::symbol(&modules[s].name, fun, arity),
                        )
                    }
                    _ => continue,
                };
                calls.push(call);
                continue;
            }
            // Blocks that ended before this call take their imports and aliases with them.
            while let Some(i) = scopes.iter().rposition(|(end, _, _)| *end <= *at) {
                let (_, imports, calls) = scopes.remove(i);
                done.push((imports, calls));
            }
            local.end_before(*at);
            let resolved = match call {
                RawCall::Alias {
                    short,
                    target,
                    scope_end,
                    quoted,
                } => {
                    // In a quote, `alias __MODULE__, as: Pipeline` names the module that
                    // uses it (Opus's quoted `Pipeline.stages()`): kept as `__MODULE__`,
                    // and a call through it is that module's (below).
                    let caller = *quoted
                        && short != "__MODULE__"
                        && (target == "__MODULE__" || target.starts_with("__MODULE__."));
                    let full = match caller {
                        true => target.clone(),
                        false => resolve(&local, target, *at),
                    };
                    // `alias __MODULE__` names the module by its last segment.
                    let short = if short == "__MODULE__" || short == calls::UNQUOTED_MODULE {
                        full.rsplit('.').next().unwrap_or(&full).to_string()
                    } else {
                        short.clone()
                    };
                    // In a quote, a bare `__MODULE__` is the module that uses it, unknown
                    // here; `unquote(__MODULE__)` is this one.
                    if *quoted && !target.starts_with("__MODULE__") {
                        let pair = (short.clone(), full.clone());
                        if !draft.quoted_aliases.contains(&pair) {
                            draft.quoted_aliases.push(pair);
                        }
                    }
                    local.push(*scope_end, short, full);
                    None
                }
                RawCall::Import {
                    module,
                    list,
                    quoted: true,
                    ..
                } => {
                    let module = resolve(&local, module, *at);
                    ImportFilter::record(
                        &mut draft.quoted_imports,
                        &mut draft.quoted_import_filters,
                        module,
                        list.clone(),
                    );
                    None
                }
                RawCall::QuotedUse { module, which } => {
                    // A bare `__MODULE__` is the module that uses this one, unknown here.
                    if !module.starts_with("__MODULE__") {
                        let module = resolve(&local, module, *at);
                        // What `use ExUnit.Case` imports is known without its source.
                        for (m, only) in imports_of_use(&module) {
                            ImportFilter::record(
                                &mut draft.quoted_imports,
                                &mut draft.quoted_import_filters,
                                m.to_string(),
                                only_list(*only),
                            );
                        }
                        let which = which.as_ref().map(|w| format!("{module}.{w}/0"));
                        for used in which.into_iter().chain([module]) {
                            if !draft.quoted_uses.contains(&used) {
                                draft.quoted_uses.push(used);
                            }
                        }
                    }
                    None
                }
                RawCall::QuotedBehaviour { module } => {
                    // Kept with the quoted `use`s, marked: what a `use` of this one
                    // brings (see `graph::SymbolGraph::chain_implementers`).
                    let module = resolve(&local, module, *at);
                    let declared = format!("{}{module}", super::QUOTED_BEHAVIOUR);
                    if !draft.quoted_uses.contains(&declared) {
                        draft.quoted_uses.push(declared);
                    }
                    None
                }
                RawCall::Mock {
                    mock,
                    behaviours,
                    line,
                } => {
                    // `mock:Mock=Behaviour@line`: the symbol graph lists the mock among
                    // the behaviour's implementations.
                    let mock = resolve(&local, mock, *at);
                    for b in behaviours {
                        let b = resolve(&local, b, *at);
                        draft.tag(&format!("{}{mock}={b}@{line}", super::MOCK_TAG));
                    }
                    None
                }
                RawCall::ControllerRender { template } => {
                    // A controller's: `MyAppWeb.PageController`'s `MyAppWeb.PageHTML`; the
                    // symbol graph takes `PageJSON`'s where that is the one defined.
                    let Some(base) = scope.and_then(|s| modules[s].name.strip_suffix("Controller"))
                    else {
                        continue;
                    };
                    Some(super::symbol(&format!("{base}HTML"), template, 1))
                }
                RawCall::Registers { name } => {
                    // `registers:BorsNG.GitHub`: the symbol graph sends the messages to
                    // that name to this module's callbacks.
                    let name = resolve(&local, name, *at);
                    if scope.is_none_or(|s| modules[s].name != name) {
                        draft.tag(&format!("{}{name}", super::REGISTERS_TAG));
                    }
                    None
                }
                RawCall::QuotedBeforeCompile { module, fun } => {
                    // Followed as a quoted `use` of that function is.
                    let module = resolve(&local, module, *at);
                    let hook = format!("{module}.{fun}/1");
                    if !draft.quoted_uses.contains(&hook) {
                        draft.quoted_uses.push(hook);
                    }
                    None
                }
                RawCall::Unquoted { end } => {
                    unquoted_until = unquoted_until.max(*end);
                    None
                }
                RawCall::QuotedDef { def, end } => {
                    // One per function (its first clause's head): see below.
                    draft.quoted_defs.push(def.clone());
                    quoted_open = Some((*end, def.clone()));
                    None
                }
                RawCall::Import {
                    module,
                    list,
                    scope_end,
                    quoted: false,
                } => {
                    // A `use` in a body: its module resolved as any (`use Dsl` after
                    // `alias MyApp.Dsl`), still marked.
                    let module = match module.strip_prefix(super::SCOPED_USE) {
                        Some(used) => {
                            format!("{}{}", super::SCOPED_USE, resolve(&local, used, *at))
                        }
                        None => resolve(&local, module, *at),
                    };
                    let (in_force, in_force_filters) = match scopes.last() {
                        Some((_, (imports, filters), _)) => (imports, filters),
                        None => (&draft.imports, &draft.import_filters),
                    };
                    if ImportFilter::full(in_force, &module) {
                        draft.tag("too_many_imports");
                    } else {
                        let (mut imports, mut filters) =
                            (in_force.clone(), in_force_filters.clone());
                        ImportFilter::record(&mut imports, &mut filters, module, list.clone());
                        scopes.push((*scope_end, (imports, filters), Vec::new()));
                    }
                    None
                }
                RawCall::Remote { module, fun, arity } => {
                    let module = resolve(&local, module, *at);
                    // An attribute that names no module.
                    if module.starts_with('@') {
                        continue;
                    }
                    // Through a quoted alias of `__MODULE__`: as a `CallerModule` call.
                    if module == "__MODULE__" || module.starts_with("__MODULE__.") {
                        if quoted_open.as_ref().is_some_and(|(end, _)| *at < *end)
                            && *at >= unquoted_until
                            && let Some(def) = draft.quoted_defs.last_mut()
                        {
                            def.calls.push(super::symbol(&module, fun, *arity));
                        }
                        continue;
                    }
                    let call = super::symbol(&module, fun, *arity);
                    // A quoted definition's own call with a module (one through
                    // `__MODULE__` is a `CallerModule`). (Repeats go in `QuotedDef::dedup`.)
                    if quoted_open.as_ref().is_some_and(|(end, _)| *at < *end)
                        && *at >= unquoted_until
                        && let Some(def) = draft.quoted_defs.last_mut()
                    {
                        def.calls.push(call.clone());
                    }
                    Some(call)
                }
                RawCall::CallerModule { module, fun, arity } => {
                    // The using module's (kept as `__MODULE__…`), not this chunk's.
                    if quoted_open.as_ref().is_some_and(|(end, _)| *at < *end)
                        && *at >= unquoted_until
                        && let Some(def) = draft.quoted_defs.last_mut()
                    {
                        def.calls.push(super::symbol(module, fun, *arity));
                    }
                    None
                }
                RawCall::OwnCallback {
                    fun,
                    arity,
                    message,
                } => scope.and_then(|s| {
                    let (fun, arity) = message_handler(&modules[s], fun, *arity);
                    handles(&modules[s], fun, arity, message)
                        .then(|| super::symbol(&modules[s].name, fun, arity))
                }),
                // Made a `Local` above.
                RawCall::Plugged { .. } => None,
                RawCall::Local { fun, arity } => {
                    // In a quoted definition, a call by name is the using module's (or
                    // one it imports).
                    let in_quoted_def = quoted_open.as_ref().is_some_and(|(end, _)| *at < *end)
                        && *at >= unquoted_until;
                    if in_quoted_def
                        && !structural_call(fun, *arity)
                        && let Some(def) = draft.quoted_defs.last_mut()
                    {
                        def.calls.push(super::symbol("__MODULE__", fun, *arity));
                    }
                    // Not the quoting module's private function of that name: the using
                    // module cannot call it (Guardian's quoted `raise_error(:otp_app)` is the
                    // `defp raise_error` the quote defines).
                    if in_quoted_def
                        && let Some(s) = scope
                        && (modules[s].private.get(fun.as_str()))
                            .is_some_and(|arities| arities.contains(arity))
                    {
                        continue;
                    }
                    match scope.filter(|&s| defined_here(&modules[s], fun, *arity)) {
                        Some(s) => Some(super::symbol(&modules[s].name, fun, *arity)),
                        None if structural_call(fun, *arity) => None,
                        None => {
                            // Imported (or Kernel's): the graph resolves it, through the
                            // imports in force where it is made.
                            let call = super::symbol("", fun, *arity);
                            let calls = match scopes.last_mut() {
                                Some((_, _, calls)) => calls,
                                // A module's plug, apart from its calls (a Plug.Router's
                                // `plug :match` is the `match/2` its `use` defines; its
                                // `match _ do` calls the router's macro).
                                None if plugged && draft.kind == ChunkKind::ModuleHeader => {
                                    &mut draft.plugged_calls
                                }
                                None => &mut draft.unqualified_calls,
                            };
                            calls.push(call);
                            None
                        }
                    }
                }
            };
            if let Some(r) = resolved
                && seen.insert(r.clone())
            {
                draft.calls.push(r);
            }
        }
        // What reaches past this draft: its own scopes, and the ones it could not use (a
        // script's import, across a module defined in the script).
        carried.retain(|(end, s, _)| *s != scope && *end > draft.end);
        carried.extend(
            scopes
                .iter()
                .filter(|(end, _, _)| *end > draft.end)
                .map(|(end, imports, _)| (*end, scope, imports.clone())),
        );
        if continues {
            carried_local = local;
        }
        done.extend(
            scopes
                .into_iter()
                .map(|(_, imports, calls)| (imports, calls)),
        );
        for ((imports, filters), mut calls) in done {
            dedup_keep_first(&mut calls);
            ScopedCalls::add(&mut draft.scoped_calls, &imports, &filters, &calls);
        }
        ScopedCalls::dedup(&mut draft.scoped_calls);
        QuotedDef::dedup(&mut draft.quoted_defs);
        // A function that compiles its quote into a module of its own (Vix's
        // `def_vips_array/2`: `Module.create(Vix.Vips.Array.Int, contents, env)`, called
        // from a `@before_compile` hook): what the quote defines, declares and imports
        // is that module's, not the one a `use` or the hook brings it to. (Not when a
        // quote follows the call: the function returns that one.)
        if created {
            draft.quoted_defs.clear();
            draft.quoted_uses.clear();
            draft.quoted_imports.clear();
            draft.quoted_import_filters.clear();
            draft.quoted_aliases.clear();
        }
        dedup_keep_first(&mut draft.module_calls);
        dedup_keep_first(&mut draft.module_unqualified_calls);
        dedup_keep_first(&mut draft.unqualified_calls);
        dedup_keep_first(&mut draft.plugged_calls);
    }
}
