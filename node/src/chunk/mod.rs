//! The Elixir semantic chunker: turns one file into the units a developer would name.
//!
//! A chunk is a module header, a function with all its clauses, a macro, a type block, a
//! test or describe block, or (for files that are not Elixir) a run of lines. The rules
//! are those of `shared/CHUNKING.md`; the syntax comes from tree-sitter-elixir.
//!
//! Two promises hold for every file, whatever its content:
//! - the chunks' own byte spans (without their headers) tile the file exactly, so nothing
//!   is lost and nothing is indexed twice;
//! - no input panics, hangs or recurses without bound: walks over the syntax tree are
//!   iterative or depth-bounded.

pub(crate) mod calls;
mod elixir;
mod repair;
pub mod secrets;
pub use elixir::{parse, parse_budget, parse_within};
mod size;
mod split;
mod text;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::fmt::Write as _;

pub use size::non_whitespace_chars;

/// What a chunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkKind {
    ModuleHeader,
    Function,
    Macro,
    Guard,
    Delegate,
    Type,
    Test,
    Describe,
    Setup,
    Text,
}

impl ChunkKind {
    pub const ALL: [ChunkKind; 10] = [
        ChunkKind::ModuleHeader,
        ChunkKind::Function,
        ChunkKind::Macro,
        ChunkKind::Guard,
        ChunkKind::Delegate,
        ChunkKind::Type,
        ChunkKind::Test,
        ChunkKind::Describe,
        ChunkKind::Setup,
        ChunkKind::Text,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChunkKind::ModuleHeader => "module_header",
            ChunkKind::Function => "function",
            ChunkKind::Macro => "macro",
            ChunkKind::Guard => "guard",
            ChunkKind::Delegate => "delegate",
            ChunkKind::Type => "type",
            ChunkKind::Test => "test",
            ChunkKind::Describe => "describe",
            ChunkKind::Setup => "setup",
            ChunkKind::Text => "text",
        }
    }

    /// The kinds [`ChunkKind::is_callable`] accepts.
    pub const CALLABLE: [ChunkKind; 4] = [
        ChunkKind::Function,
        ChunkKind::Macro,
        ChunkKind::Guard,
        ChunkKind::Delegate,
    ];

    /// Code that defines callable things (as opposed to headers, tests and text).
    pub fn is_callable(self) -> bool {
        matches!(
            self,
            ChunkKind::Function | ChunkKind::Macro | ChunkKind::Guard | ChunkKind::Delegate
        )
    }

    /// ExUnit and StreamData blocks.
    pub fn is_test(self) -> bool {
        matches!(
            self,
            ChunkKind::Test | ChunkKind::Describe | ChunkKind::Setup
        )
    }
}

impl fmt::Display for ChunkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ChunkKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChunkKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let known: Vec<&str> = ChunkKind::ALL.iter().map(|k| k.as_str()).collect();
                // The names a developer may try for the kinds that hold them.
                let holds = match s {
                    "callback" | "macrocallback" | "typep" | "opaque" => {
                        "; callbacks and types are `type`"
                    }
                    "spec" | "doc" => "; specs and docs are part of their definition's chunk",
                    "module" | "moduledoc" | "struct" | "exception" | "protocol" => {
                        "; a module's docs, struct and uses are its `module_header`"
                    }
                    "defp" | "def" | "private" | "impl" => {
                        "; public and private functions are `function`"
                    }
                    "defmacro" | "defmacrop" => "; macros are `macro`",
                    _ => "",
                };
                format!(
                    "unknown chunk kind `{s}` (expected one of: {}{holds})",
                    known.join(", ")
                )
            })
    }
}

/// Who may call a definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    Private,
    /// Public but documented as not part of the API (`@doc false`, `@moduledoc false`).
    Hidden,
}

/// The source language a chunk was cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Elixir,
    Text,
}

/// One thing a chunk defines: a function by name and arities, or a module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    pub kind: ChunkKind,
    /// Fully qualified module, empty for definitions outside any module.
    pub module: String,
    pub name: String,
    /// Every arity this definition answers to (default arguments give several).
    pub arities: Vec<u32>,
    pub visibility: Visibility,
    /// 1-based line of the first clause.
    pub line: u32,
    /// 1-based last line of the definition (with all its clauses and parts).
    #[serde(default)]
    pub end_line: u32,
    /// The head up to `do` (for a type or module, its first line).
    #[serde(default)]
    pub signature: String,
    /// What this definition calls, as `Mod.fun/arity` (its own calls, even when merged
    /// into a chunk with neighbours).
    #[serde(default)]
    pub calls: Vec<String>,
    /// Its calls without a module of functions its module does not define, as
    /// `fun/arity`: imported ones (`import Util` then `helper(x)`, Kernel's `raise/2`).
    /// The symbol graph resolves them through the chunk's imports, then Kernel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unqualified_calls: Vec<String>,
    /// Its calls without a module made where other imports are in force than its
    /// chunk's: after an `import` in its body (to the end of that block), or all of them
    /// when it was merged into a chunk whose module had other imports at that point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scoped_calls: Vec<ScopedCalls>,
    /// What its quoted code imports into the modules that `use` this one: a
    /// `__using__` macro's `quote`, a `use M, :which` function's, a case template's
    /// `using` block (on the module header, with what `use ExUnit.Case` imports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quoted_imports: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quoted_import_filters: Vec<ImportFilter>,
    /// What its quoted code aliases in the modules that `use` this one (short name,
    /// module): `alias MyApp.Repo` in a `DataCase`'s `using` block.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quoted_aliases: Vec<(String, String)>,
    /// What its quoted code `use`s in the modules that `use` this one (`Mod`, or
    /// `Mod.which/0` for `use Mod, :which`, or `Mod.__before_compile__/1` for a
    /// `@before_compile Mod`, whose quote they run as they end): their quoted imports,
    /// aliases and definitions count there too (`use Tesla` runs `use Tesla.Builder`,
    /// which imports `plug/2`). A quoted `@behaviour Mod` is kept here too, marked
    /// ([`QUOTED_BEHAVIOUR`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quoted_uses: Vec<String>,
    /// The functions its quoted code defines in the modules that `use` this one
    /// (`use Ecto.Repo` defines `all/2` in `MyApp.Repo`; `use GenServer`, `child_spec/1`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quoted_defs: Vec<QuotedDef>,
    /// A module a test defines in its body: its `use`s (as a chunk's `uses`), which
    /// its test's chunk does not hold (`use Broadway` in a test's `defmodule MyBroadway`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uses: Vec<String>,
    /// A module a test defines in its body: the behaviours its `@behaviour`s name (as a
    /// chunk's `behaviour:` tags), which its test's chunk does not hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub behaviours: Vec<String>,
    /// What the `@impl` before it says (`GenServer`, `true`), kept per definition: a
    /// merged chunk's own `impl` is its first function's.
    #[serde(rename = "impl", default, skip_serializing_if = "Option::is_none")]
    pub impl_: Option<String>,
    /// Defined without being written out, by what is at `line` (where the module does
    /// not write it): `defexception`'s `exception/1` and `message/1`, and the
    /// `__struct__/0` and `/1` of `defstruct`, `defexception` and an Ecto `schema`, what
    /// every protocol (`impl_for/1`) and implementation (`__impl__/1`) defines.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implied: bool,
    /// A macro's: what its quotes define where it is called, named by its arguments
    /// (`defmacro defwrite({name, _, params})` quoting `def unquote(name)(…)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<MacroTemplate>,
    /// A module header's: the calls in the module's body whose arguments could name a
    /// function a macro of another file defines there (`pipeline :browser do … end`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub macro_calls: Vec<MacroCall>,
    /// A module header's: its `embed_templates` calls, whose template files each define a
    /// function of the module.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embedded_templates: Vec<EmbeddedTemplates>,
    /// A function of no arguments that returns a literal list of atoms, keyword list or
    /// atom-keyed map (`def unary_math_funs, do: [exp: …, log: …]`): its atoms, for the
    /// `for`s that define a function per atom of it ([`NamesFrom`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<AtomList>,
    /// A definition a `for` names after what a function returns, which this file does
    /// not tell (`for {name, _} <- Nx.Shared.unary_math_funs() do def unquote(name)(t)`):
    /// kept as written here; the symbol graph defines one function per atom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names_from: Option<NamesFrom>,
}

/// The atoms a literal enumerable runs over: a list's atoms, or a keyword list's or an
/// atom-keyed map's keys (`pairs`: its elements are `{key, value}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtomList {
    pub atoms: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pairs: bool,
}

/// Where a `for` takes the names of the functions it defines: what `function` (`Mod.fun/0`)
/// returns, a list of atoms, or of pairs when `pairs` (the `for` binds `{name, _}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamesFrom {
    pub function: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pairs: bool,
    /// The name as written (`unquote(name)`), which each function's head replaces.
    pub written: String,
}

/// `embed_templates "page_html/*"` (Phoenix.Component): each template file the pattern
/// finds defines a function of the module named after the file, which renders it
/// (`page_html/home.html.heex` defines `home/1`). Or, with `view`, the templates of a
/// `Phoenix.View` module, each a clause of its `render/2`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedTemplates {
    /// The pattern from the repository's root, before the template's extensions
    /// (`lib/app_web/controllers/page_html/*`): `*` stands for any characters but `/`.
    pub pattern: String,
    /// What `suffix:` appends to each function's name (`home_html`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub suffix: String,
    pub line: u32,
    /// Which convention finds the templates, and so what they define.
    #[serde(default, skip_serializing_if = "TemplatesOf::is_embedded")]
    pub of: TemplatesOf,
    /// For [`TemplatesOf::EexFunction`]: the function's name, arity and head (`def
    /// page(assigns)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<(String, u32, String)>,
}

/// How a module comes to render template files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplatesOf {
    /// `embed_templates`: each `.heex` file a function named after it, `name/1`.
    #[default]
    Embedded,
    /// A `Phoenix.View` module's directory (`AppWeb.PageView` in `views/page_view.ex`
    /// renders `templates/page/*`, `.heex`, `.eex` or `.leex`): each file a clause of
    /// its `render/2`.
    View,
    /// A LiveView or LiveComponent with no `render/1` of its own renders the template in
    /// its file's directory named after its last segment (`AppWeb.CartLive` in
    /// `live/cart_live.ex`: `live/cart_live.html.heex`) as `render/1`.
    Colocated,
    /// `EEx.function_from_file(:def, :page, Path.expand("templates/page.eex", __DIR__),
    /// [:assigns])`: the file is the body of the function it names
    /// ([`EmbeddedTemplates::function`]).
    EexFunction,
}

impl TemplatesOf {
    fn is_embedded(&self) -> bool {
        *self == TemplatesOf::Embedded
    }
}

impl EmbeddedTemplates {
    /// What finds the pattern's template files, as Phoenix globs them: the pattern plus
    /// the template's extensions (`page_html/*` finds `page_html/home.html.heex`), `*`
    /// never reaching past a `/`. `None` for a pattern that is no glob.
    pub fn matcher(&self) -> Option<globset::GlobMatcher> {
        let glob = globset::GlobBuilder::new(&format!("{}.*", self.pattern))
            .literal_separator(true)
            .build()
            .ok()?;
        Some(glob.compile_matcher())
    }

    /// The name of the function the template file at `path` (from the repository's
    /// root) defines, when `matcher` (this pattern's) finds it: the file's name up to its
    /// first `.`, with the suffix.
    /// For a view, `render`.
    pub fn function_for(&self, matcher: &globset::GlobMatcher, path: &str) -> Option<String> {
        let file = path.rsplit_once('/').map_or(path, |(_, f)| f);
        let (stem, extensions) = file.split_once('.')?;
        if let Some((name, _, _)) = &self.function {
            return (extensions.ends_with("eex") && matcher.is_match(path)).then(|| name.clone());
        }
        if self.of != TemplatesOf::Embedded {
            // `.heex`, `.eex` and `.leex` all end so.
            return (extensions.ends_with("eex") && !stem.is_empty() && matcher.is_match(path))
                .then(|| "render".to_string());
        }
        (extensions.ends_with("heex") && !stem.is_empty() && matcher.is_match(path))
            .then(|| format!("{stem}{}", self.suffix))
    }

    /// The arity of the functions the templates define: `name(assigns)`, or a view's
    /// `render(template, assigns)`.
    pub fn arity(&self) -> u32 {
        match (self.of, &self.function) {
            (TemplatesOf::View, _) => 2,
            (TemplatesOf::EexFunction, Some((_, arity, _))) => *arity,
            _ => 1,
        }
    }

    /// The head shown for the function a template defines.
    pub fn signature(&self, name: &str) -> String {
        match (self.of, &self.function) {
            (TemplatesOf::View, _) => format!("def {name}(template, assigns)"),
            (TemplatesOf::EexFunction, Some((_, _, head))) => head.clone(),
            _ => format!("def {name}(assigns)"),
        }
    }

    /// What defines the functions.
    pub fn generated_by(&self) -> &'static str {
        match self.of {
            TemplatesOf::Embedded => "Phoenix.Component.embed_templates/2",
            TemplatesOf::View => "Phoenix.View",
            TemplatesOf::Colocated => "Phoenix.LiveView",
            TemplatesOf::EexFunction => "EEx.function_from_file/5",
        }
    }
}

/// `Macro.underscore/1` of one module segment: `EmailVerification` is `email_verification`,
/// `OAuth` `o_auth`, `API` `api`, `HTTPServer` `http_server`, `A_Bc` `a__bc`.
pub(crate) fn underscore(segment: &str) -> String {
    let chars: Vec<char> = segment.chars().collect();
    let mut out = String::with_capacity(segment.len() + 4);
    let Some(&first) = chars.first() else {
        return out;
    };
    out.push(first.to_ascii_lowercase());
    let mut prev = first;
    let mut i = 1;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        // As Elixir's clauses: an uppercase letter before a lowercase one (or anything but
        // an uppercase letter, a digit, `.` or `_`) starts a word, taking that one along;
        // otherwise it starts one after anything but an uppercase letter or `_`.
        if c.is_ascii_uppercase()
            && let Some(t) = next.filter(|t| {
                !t.is_ascii_uppercase() && !t.is_ascii_digit() && *t != '.' && *t != '_'
            })
        {
            out.push('_');
            out.push(c.to_ascii_lowercase());
            out.push(t);
            prev = t;
            i += 2;
            continue;
        }
        if c.is_ascii_uppercase() && !prev.is_ascii_uppercase() && prev != '_' {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        prev = c;
        i += 1;
    }
    out
}

/// A function a macro's `quote` defines in the module that calls the macro, named by one
/// of the macro's arguments: `defmacro defwrite({name, _meta, params})` quoting `def
/// unquote(name)(unquote_splicing(params))` makes `defwrite(insert(changeset, opts \\
/// []))` define `insert/1..2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacroTemplate {
    pub keyword: String,
    pub kind: ChunkKind,
    /// Where its name comes from.
    pub name: MacroArg,
    /// Its arities: the quoted head's, or those of the call an argument is.
    pub arities: TemplateArities,
    /// The quoted head after its name (`(conn, _opts)`), for the head shown.
    pub rest: String,
    /// The lines of the quoted definition in the macro's file.
    #[serde(default)]
    pub lines: (u32, u32),
}

/// A part of a macro call's argument (by position): the argument itself (an atom,
/// `defconst :limit`), or the name or the arguments of the call it is
/// (`defwrite(insert(changeset))`, which the macro matches as `{name, _meta, params}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MacroArg {
    Whole(u32),
    CallName(u32),
    CallArgs(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateArities {
    Fixed(Vec<u32>),
    /// `unquote_splicing(params)`: those of the call argument `params` comes from.
    Spliced(u32),
}

/// A call in a module's body, for the macros of other files that define functions from
/// their arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacroCall {
    /// As written (`pipeline`), or with its module's alias expanded (`Helpers.defwrite`
    /// -> `MyApp.Helpers.defwrite`).
    pub name: String,
    /// Its arguments, a `do` block counted.
    pub arity: u32,
    pub args: Vec<MacroCallArg>,
    pub line: u32,
}

/// What a macro call's argument is, as far as naming a function goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MacroCallArg {
    /// `:browser`.
    Atom(String),
    /// `insert(changeset, opts \\ [])` (or `rollback` without parentheses): its name,
    /// arities and text.
    Call {
        name: String,
        arities: Vec<u32>,
        text: String,
    },
    Other,
}

impl MacroCallArg {
    /// Whether it could name a function.
    pub fn names(&self) -> bool {
        !matches!(self, MacroCallArg::Other)
    }
}

/// What `template` defines for a call with `args`: the name, arities and head shown
/// (`def insert(changeset, opts \\ [])`), when the argument it takes its name from
/// names one.
pub fn instantiate(
    template: &MacroTemplate,
    args: &[MacroCallArg],
) -> Option<(String, Vec<u32>, String)> {
    let arg = |i: u32| args.get(i as usize);
    let name = match (template.name, template.name_arg(args)?) {
        (MacroArg::Whole(_), MacroCallArg::Atom(a)) => a.clone(),
        (MacroArg::CallName(_), MacroCallArg::Call { name, .. }) => name.clone(),
        _ => return None,
    };
    let named = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && !matches!(name.as_str(), "unquote" | "unquote_splicing" | "__MODULE__");
    if !named {
        return None;
    }
    let keyword = &template.keyword;
    Some(match &template.arities {
        TemplateArities::Fixed(a) => {
            let head = format!("{keyword} {name}{}", template.rest);
            (name, a.clone(), head)
        }
        TemplateArities::Spliced(i) => match arg(*i)? {
            MacroCallArg::Call { arities, text, .. } => {
                (name, arities.clone(), format!("{keyword} {text}"))
            }
            _ => return None,
        },
    })
}

impl MacroTemplate {
    fn name_arg<'a>(&self, args: &'a [MacroCallArg]) -> Option<&'a MacroCallArg> {
        let i = match self.name {
            MacroArg::Whole(i) | MacroArg::CallName(i) | MacroArg::CallArgs(i) => i,
        };
        args.get(i as usize)
    }
}

/// A function (or macro, guard, delegate) a `quote` defines in the modules that `use`
/// the module it is in: `def child_spec(init_arg)` in `GenServer.__using__/1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedDef {
    pub kind: ChunkKind,
    pub name: String,
    /// Every arity it answers to (default arguments give several).
    pub arities: Vec<u32>,
    pub visibility: Visibility,
    /// Its head as written (`def child_spec(init_arg)`), on one line.
    pub signature: String,
    /// What its clauses call (`Ecto.Repo.Schema.insert/4`). A call without a module, or
    /// through `__MODULE__`, is kept as `__MODULE__.fun/arity` (`__MODULE__.Sub.fun/1`):
    /// it names a function of the module that uses the quote, which the symbol graph
    /// links where that module defines it (it may be an imported or Kernel's function).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<String>,
    /// The lines its clauses span in the quoting file, 1-based and inclusive (`(0, 0)` in
    /// chunks stored before they were recorded, and for the standard library's).
    #[serde(default, skip_serializing_if = "no_lines")]
    pub lines: (u32, u32),
    /// The function whose `quote` it is in, and that function's file: filled by the
    /// symbol graph from the chunk holding it (chunks do not store it).
    #[serde(skip)]
    pub quoted_in: Option<std::sync::Arc<QuoteFile>>,
}

/// The function a `quote` is written in (`Ecto.Repo.__using__/1`), and its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteFile {
    pub symbol: String,
    pub repo: String,
    pub path: String,
}

fn no_lines(lines: &(u32, u32)) -> bool {
    *lines == (0, 0)
}

impl QuotedDef {
    /// Keeps the first of each function's clauses: one function is one name and whole
    /// arity (its heads may differ, and only a first, bodiless head has the defaults).
    /// The later clauses' calls join the first's, each call once, and its lines reach
    /// to the last clause's.
    pub fn dedup(defs: &mut Vec<QuotedDef>) {
        if defs.len() < 2 {
            if let Some(d) = defs.first_mut() {
                dedup_keep_first(&mut d.calls);
            }
            return;
        }
        let mut first: rustc_hash::FxHashMap<(String, Option<u32>), usize> = Default::default();
        let mut kept: Vec<QuotedDef> = Vec::with_capacity(defs.len());
        for d in defs.drain(..) {
            match first.entry((d.name.clone(), d.arities.last().copied())) {
                std::collections::hash_map::Entry::Occupied(at) => {
                    let first = &mut kept[*at.get()];
                    first.calls.extend(d.calls);
                    first.lines.1 = first.lines.1.max(d.lines.1);
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(kept.len());
                    kept.push(d);
                }
            }
        }
        for d in &mut kept {
            dedup_keep_first(&mut d.calls);
        }
        *defs = kept;
    }
}

/// Calls without a module (`fun/arity`) and the imports in force where they are made,
/// when those are not their chunk's (`def t(x) do import List; flatten(x) end`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopedCalls {
    pub imports: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub import_filters: Vec<ImportFilter>,
    pub calls: Vec<String>,
}

impl ScopedCalls {
    /// Adds `calls` made under `imports` (and `filters`) to `scoped`, beside the entry
    /// with the same imports if there is one. Repeats are kept until [`Self::dedup`].
    pub fn add(
        scoped: &mut Vec<ScopedCalls>,
        imports: &[String],
        filters: &[ImportFilter],
        calls: &[String],
    ) {
        if calls.is_empty() {
            return;
        }
        let at = match scoped
            .iter()
            .position(|s| s.imports == imports && s.import_filters == filters)
        {
            Some(i) => i,
            None => {
                scoped.push(ScopedCalls {
                    imports: imports.to_vec(),
                    import_filters: filters.to_vec(),
                    calls: Vec::new(),
                });
                scoped.len() - 1
            }
        };
        scoped[at].calls.extend_from_slice(calls);
    }

    /// Removes the repeats [`Self::add`] kept, each call staying in its first place.
    pub fn dedup(scoped: &mut [ScopedCalls]) {
        for s in scoped {
            dedup_keep_first(&mut s.calls);
        }
    }
}

/// A chunk carries its module's aliases, all of them up to this many; beyond, only
/// those its own code names. Every chunk of a generated module with 20,000 aliases
/// carried them all: 104 MB of chunks for a 0.6 MB file.
pub(crate) const MAX_CARRIED_ALIASES: usize = 64;

/// A module's aliases (as shown: `Foo.Bar`, or `Foo.Bar as Baz`) by short name, to give
/// each chunk those its code names in time linear in the chunk.
pub(crate) struct AliasIndex<'a> {
    all: &'a [String],
    by_short: rustc_hash::FxHashMap<&'a [u8], Vec<usize>>,
}

impl<'a> AliasIndex<'a> {
    pub(crate) fn new(all: &'a [String]) -> Self {
        let mut by_short: rustc_hash::FxHashMap<&'a [u8], Vec<usize>> = Default::default();
        for (i, shown) in all.iter().enumerate() {
            let short = match shown.rsplit_once(" as ") {
                Some((_, short)) => short,
                None => shown.rsplit('.').next().unwrap_or(shown),
            };
            by_short.entry(short.as_bytes()).or_default().push(i);
        }
        AliasIndex { all, by_short }
    }

    /// The aliases whose short name is a word of `code`, in the module's order.
    pub(crate) fn named_in(&self, code: &[u8]) -> Vec<String> {
        let mut hits: Vec<usize> = code
            .split(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .filter_map(|w| self.by_short.get(w))
            .flatten()
            .copied()
            .collect();
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter().map(|i| self.all[i].clone()).collect()
    }
}

/// Removes repeated strings, keeping each one in its first place. In O(n log n): a
/// generated function can make tens of thousands of distinct calls, and checking the
/// list before each push took quadratic time (13 s for a 2 MB file of one function).
pub(crate) fn dedup_keep_first(list: &mut Vec<String>) {
    if list.len() <= 16 {
        let mut i = 1;
        while i < list.len() {
            if list[..i].contains(&list[i]) {
                list.remove(i);
            } else {
                i += 1;
            }
        }
        return;
    }
    let mut order: Vec<u32> = (0..list.len() as u32).collect();
    // Stable: equal strings stay in place order, so the first of each run is kept.
    order.sort_by(|&a, &b| list[a as usize].cmp(&list[b as usize]));
    let mut keep = vec![false; list.len()];
    let mut previous: Option<&str> = None;
    for &i in &order {
        let s = list[i as usize].as_str();
        if previous != Some(s) {
            keep[i as usize] = true;
            previous = Some(s);
        }
    }
    let mut flags = keep.into_iter();
    list.retain(|_| flags.next().unwrap_or(false));
}

/// A public text definition with nothing else set: the chunker sets the fields it knows
/// and leaves the call lists to this (`..Definition::default()`).
impl Default for Definition {
    fn default() -> Self {
        Definition {
            kind: ChunkKind::Text,
            module: String::new(),
            name: String::new(),
            arities: Vec::new(),
            visibility: Visibility::Public,
            line: 0,
            end_line: 0,
            signature: String::new(),
            calls: Vec::new(),
            unqualified_calls: Vec::new(),
            scoped_calls: Vec::new(),
            quoted_imports: Vec::new(),
            quoted_import_filters: Vec::new(),
            quoted_aliases: Vec::new(),
            quoted_uses: Vec::new(),
            quoted_defs: Vec::new(),
            uses: Vec::new(),
            behaviours: Vec::new(),
            impl_: None,
            implied: false,
            templates: Vec::new(),
            macro_calls: Vec::new(),
            embedded_templates: Vec::new(),
            returns: None,
            names_from: None,
        }
    }
}

impl Definition {
    /// `Mod.fun/arity` for every arity (`Mod` alone for a module header).
    pub fn symbols(&self) -> Vec<String> {
        if self.kind == ChunkKind::ModuleHeader {
            return vec![self.module.clone()];
        }
        self.arities
            .iter()
            .map(|a| symbol(&self.module, &self.name, *a))
            .collect()
    }
}

/// `import Mod, only: [...]` or `except: [...]`: which of `Mod`'s functions and macros a
/// call without a module may name. A module imported without a list imports all of its
/// public ones; `only: :functions`, `:macros` or `:sigils` import all of one sort.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImportFilter {
    pub module: String,
    /// `except:` when true, `only:` when false.
    #[serde(default)]
    pub except: bool,
    /// `fun/arity` each; `fun/_` when the list gives an arity that is not a literal
    /// (`only: [get: @arity]`), which admits every arity of `fun`.
    pub names: Vec<String>,
    /// `only: :functions`, `:macros` or `:sigils` (with `except` true and `names` what a
    /// later `except:` took away).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<ImportSelect>,
}

/// The sort of definitions `import Mod, only: :functions` (or `:macros`, `:sigils`)
/// brings in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportSelect {
    Functions,
    Macros,
    Sigils,
}

/// An import's list as written: `only:` or `except:` names, or `only:` a sort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportList {
    pub except: bool,
    pub names: Vec<String>,
    pub select: Option<ImportSelect>,
}

impl ImportFilter {
    /// The list this filter was made from, to record it again elsewhere.
    pub fn as_list(&self) -> ImportList {
        ImportList {
            except: self.except,
            names: self.names.clone(),
            select: self.select,
        }
    }

    /// The filter after the same module is imported again with `next` (`None`: no
    /// list) where `earlier` was in force: `only:` or no list replaces what was
    /// imported, while `except:` removes from it (Elixir's `import/2`).
    pub fn again(
        earlier: Option<ImportFilter>,
        next: Option<ImportFilter>,
    ) -> Option<ImportFilter> {
        match (earlier, next) {
            (Some(mut e), Some(n)) if n.except && n.select.is_none() => {
                if e.except {
                    for x in n.names {
                        if !e.names.contains(&x) {
                            e.names.push(x);
                        }
                    }
                } else {
                    e.names
                        .retain(|x| !n.names.iter().any(|y| name_matches(y, x)));
                }
                Some(e)
            }
            (_, next) => next,
        }
    }

    /// Whether `imports` has no room for `module`: it holds [`MAX_IMPORTS`] others.
    pub fn full(imports: &[String], module: &str) -> bool {
        imports.len() >= MAX_IMPORTS && !imports.iter().any(|m| m == module)
    }

    /// Records an import of `module` (with its list, if any) in `imports` and `filters`,
    /// as [`ImportFilter::again`] says it combines with an earlier import of it. Returns
    /// false, recording nothing, when the list is [`full`](Self::full).
    pub fn record(
        imports: &mut Vec<String>,
        filters: &mut Vec<ImportFilter>,
        module: String,
        next: Option<ImportList>,
    ) -> bool {
        if Self::full(imports, &module) {
            return false;
        }
        let earlier = filters
            .iter()
            .position(|f| f.module == module)
            .map(|i| filters.remove(i));
        let next = next.map(|l| ImportFilter {
            module: module.clone(),
            except: l.except,
            names: l.names,
            select: l.select,
        });
        filters.extend(ImportFilter::again(earlier, next));
        if !imports.contains(&module) {
            imports.push(module);
        }
        true
    }

    /// Whether a call of `fun/arity` may reach this filter's module's definition of it,
    /// of `kind`.
    pub fn admits(&self, call: &str, kind: ChunkKind) -> bool {
        let sort = match self.select {
            None => true,
            Some(ImportSelect::Functions) => {
                matches!(kind, ChunkKind::Function | ChunkKind::Delegate)
            }
            Some(ImportSelect::Macros) => matches!(kind, ChunkKind::Macro | ChunkKind::Guard),
            // Elixir 1.14: `sigil_` and one letter.
            Some(ImportSelect::Sigils) => call
                .strip_prefix("sigil_")
                .and_then(|rest| rest.split_once('/'))
                .is_some_and(|(letter, _)| letter.chars().count() == 1),
        };
        sort && self.names.iter().any(|n| name_matches(n, call)) != self.except
    }
}

/// Whether an import list's `fun/arity` (or `fun/_`, any arity) names the call `fun/arity`.
fn name_matches(listed: &str, call: &str) -> bool {
    match listed.strip_suffix("/_") {
        Some(fun) => call.rsplit_once('/').is_some_and(|(name, _)| name == fun),
        None => listed == call,
    }
}

/// Whether a definition's name is made at compile time and kept as written
/// (`unquote(name)`, from `def unquote(name)(tensor)` in a `for` or a macro): no caller
/// names the function so; the symbol graph may know the names it stands for.
pub fn is_placeholder(name: &str) -> bool {
    name.starts_with("unquote(")
}

/// `Mod.fun/arity`, or `fun/arity` outside a module.
pub fn symbol(module: &str, name: &str, arity: u32) -> String {
    // Built at its final size: `format!` would grow the string as it writes, and every
    // call site of an index build goes through here.
    let mut s = String::with_capacity(module.len() + name.len() + 12);
    if !module.is_empty() {
        s.push_str(module);
        s.push('.');
    }
    s.push_str(name);
    s.push('/');
    // Writing to a `String` cannot fail.
    let _ = write!(s, "{arity}");
    s
}

/// A chunk: a span of one file plus everything an index and a prompt need to know about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Stable id: hash of path, kind, qualified name and start byte.
    pub id: String,
    pub repo: String,
    pub path: String,
    pub language: Language,
    /// Fully qualified module, empty outside modules.
    pub module: String,
    /// Enclosing modules, outermost first.
    pub parents: Vec<String>,
    /// Other modules this chunk belongs to (`defimpl P, for: [A, B]` names one per type).
    pub also_modules: Vec<String>,
    pub kind: ChunkKind,
    pub name: String,
    pub arities: Vec<u32>,
    pub visibility: Visibility,
    /// The head up to `do`, whitespace collapsed.
    pub signature: String,
    pub doc: Option<String>,
    pub specs: Vec<String>,
    #[serde(rename = "impl")]
    pub impl_: Option<String>,
    /// Free-form facts: `protocol`, `impl`, `exception`, `struct`, `conditional`,
    /// `generated` (its file says a tool wrote it: [`is_generated`]), `quoted`, `dynamic`,
    /// `pending`, `property`, `merged`, `deprecated`,
    /// `too_deep` (holds modules nested too deep to chunk on their own, or a test's modules
    /// past those its definitions list).
    pub tags: Vec<String>,
    /// Everything the chunk defines (several when small neighbours were merged).
    pub defines: Vec<Definition>,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    /// The first line with anything but whitespace (a chunk starts where the one before
    /// ends, often on a blank line); 0 in chunks stored before it was recorded.
    #[serde(default)]
    pub code_line: u32,
    pub start_byte: usize,
    pub end_byte: usize,
    pub has_error: bool,
    /// Non-whitespace characters of the span.
    pub size: usize,
    pub token_estimate: u32,
    /// blake3 of the span's bytes.
    pub content_hash: String,
    /// Calls made, as `Mod.fun/arity` after alias expansion.
    pub calls: Vec<String>,
    /// Calls without a module of functions the chunk's module does not define, as
    /// `fun/arity` (imported, or Kernel's): the symbol graph resolves them through
    /// `imports`, then `Kernel` and `Kernel.SpecialForms`, against what is indexed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unqualified_calls: Vec<String>,
    /// Calls without a module made under other imports than `imports` (after an
    /// `import` in a test's or a script's body).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scoped_calls: Vec<ScopedCalls>,
    /// Calls made by module-level code in a function's chunk, outside the function (an
    /// attribute's value before it, a statement after it): the module makes them when it
    /// compiles, not the function; they are not in `calls` nor in its definitions'.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub module_calls: Vec<String>,
    /// The same calls without a module, as `fun/arity`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub module_unqualified_calls: Vec<String>,
    /// The calls without a module a module's plug pipeline makes on each request
    /// (`plug :auth`, `pipe_through :browser`), as `fun/2`, in a module header or the
    /// module-level code of a function's chunk (not in `unqualified_calls` nor
    /// `module_unqualified_calls`). They run once the module is compiled, so they may
    /// call a function a `use` or a macro defines in the module, which its other
    /// module-level code cannot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugged_calls: Vec<String>,
    pub aliases: Vec<String>,
    pub imports: Vec<String>,
    /// The `only:` / `except:` lists of those imports (the last import of a module wins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub import_filters: Vec<ImportFilter>,
    /// The module's `use`s (`Mod`, and `Mod.which/0` for `use Mod, :which`), and its
    /// `@before_compile Mod` hooks as `Mod.__before_compile__/1`: whose quoted code the
    /// module runs.
    pub uses: Vec<String>,
    /// `Some((k, n))` when this chunk is part k of n of a split definition.
    pub part: Option<(u32, u32)>,
    /// Context prepended to split parts (path, module, spec and signature).
    pub header: String,
    /// The span's text (lossy UTF-8). The index stores it after the chunk's JSON, as
    /// written, and leaves it empty in the JSON (see `index::schema`).
    #[serde(default)]
    pub content: String,
}

impl Chunk {
    /// The chunk's lines, each with its line number in the file.
    pub fn numbered_lines(&self) -> impl Iterator<Item = (u32, &str)> {
        (self.start_line..).zip(self.content.lines())
    }

    /// Whether this chunk defines `symbol` as the index's `defines` field has it:
    /// `Mod.fun/arity`, `Mod.fun` (any arity), or `Mod` for a module header.
    pub fn defines_symbol(&self, symbol: &str) -> bool {
        self.defines.iter().any(|d| {
            if d.kind == ChunkKind::ModuleHeader {
                return d.module == symbol;
            }
            let rest = if d.module.is_empty() {
                symbol.strip_prefix(d.name.as_str())
            } else {
                symbol
                    .strip_prefix(d.module.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                    .and_then(|r| r.strip_prefix(d.name.as_str()))
            };
            match rest {
                Some("") => true,
                Some(r) => r
                    .strip_prefix('/')
                    .and_then(|a| a.parse::<u32>().ok())
                    .is_some_and(|a| d.arities.contains(&a)),
                None => false,
            }
        })
    }

    /// Every call without a module the chunk makes (`fun/arity`), whatever imports are in
    /// force where it is made.
    pub fn all_unqualified_calls(&self) -> impl Iterator<Item = &String> {
        self.unqualified_calls
            .iter()
            .chain(self.scoped_calls.iter().flat_map(|s| &s.calls))
    }

    /// Every call the chunk's text makes, with and without a module: its own, and those
    /// of the functions of modules a test defines in its body (in `defines`, each with
    /// its calls; the test's `calls` are its own).
    pub fn calls_in_text(&self) -> impl Iterator<Item = &String> {
        let nested = self.defines.iter().filter(|_| self.kind.is_test());
        (self.calls.iter())
            .chain(self.all_unqualified_calls())
            .chain(
                self.plugged_calls
                    .iter()
                    .filter(|_| !self.kind.is_callable()),
            )
            .chain(nested.flat_map(|d| {
                (d.calls.iter())
                    .chain(&d.unqualified_calls)
                    .chain(d.scoped_calls.iter().flat_map(|s| &s.calls))
            }))
    }

    /// The symbol a person would name this chunk by: `Mod.fun/arity`, the module, or the test.
    pub fn display_symbol(&self) -> String {
        match self.kind {
            ChunkKind::ModuleHeader => self.module.clone(),
            k if k.is_callable() => match self.arities.last() {
                Some(a) => symbol(&self.module, &self.name, *a),
                None => self.name.clone(),
            },
            ChunkKind::Text => self.path.clone(),
            // A type or callback chunk: its first type's `Mod.name/arity`; a part without
            // it (a long `@doc` before a `@callback`) is named as the part with it is.
            ChunkKind::Type => match self.defines.first() {
                Some(d) => symbol(&d.module, &d.name, d.arities.first().copied().unwrap_or(0)),
                None if !self.module.is_empty() => match self.arities.first() {
                    Some(&a) if self.part.is_some() => symbol(&self.module, &self.name, a),
                    _ => format!("{}.{}", self.module, self.name),
                },
                None => self.name.clone(),
            },
            _ => self.name.clone(),
        }
    }

    /// The head of the definition `symbol` (`Mod.fun/arity`) names in this chunk, or the
    /// chunk's own signature: a hit on one of several merged functions shows its head.
    pub fn signature_for(&self, symbol: &str) -> &str {
        self.defines
            .iter()
            .find(|d| {
                !d.signature.is_empty()
                    && d.arities
                        .iter()
                        .any(|&a| self::symbol(&d.module, &d.name, a) == symbol)
            })
            .map_or(self.signature.as_str(), |d| d.signature.as_str())
    }

    /// Header plus content: what a prompt or an embedding should see.
    pub fn text_with_header(&self) -> String {
        if self.header.is_empty() {
            self.content.clone()
        } else {
            format!("{}{}", self.header, self.content)
        }
    }
}

/// Lines longer than this many bytes are shown cut (data literals: a base64 image, a
/// minified table) in prompts and snippets; the index keeps them whole.
pub const MAX_SHOWN_LINE_BYTES: usize = 1_000;

/// `text` with each line over [`MAX_SHOWN_LINE_BYTES`] cut to its first 200 bytes (on a
/// character boundary) and a note of how much was left out.
pub fn elide_long_lines(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.split('\n').any(|l| l.len() > MAX_SHOWN_LINE_BYTES) {
        return std::borrow::Cow::Borrowed(text);
    }
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| {
            if l.len() <= MAX_SHOWN_LINE_BYTES {
                return l.to_string();
            }
            let mut end = 200;
            while !l.is_char_boundary(end) {
                end -= 1;
            }
            format!(
                "{}… [{} more bytes of this line left out]",
                &l[..end],
                l.len() - end
            )
        })
        .collect();
    std::borrow::Cow::Owned(lines.join("\n"))
}

/// Why a file was not chunked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum SkipReason {
    Binary,
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// A text file (not Elixir) with a line too long to be read: minified scripts, source
    /// maps, one-line SVG or JSON. Chunked, each line would be one unsplittable chunk.
    Minified {
        line_bytes: u64,
        limit: u64,
    },
    /// A file of credentials (a private key, `.env`, `*.secret.exs`): never indexed.
    Secret,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Binary => f.write_str("binary file or image"),
            SkipReason::TooLarge { size, limit } => {
                write!(f, "file of {size} bytes is over the {limit}-byte limit")
            }
            SkipReason::Secret => {
                f.write_str("credentials file (private key, .env or *.secret.exs)")
            }
            SkipReason::Minified { line_bytes, limit } => write!(
                f,
                "minified or generated file: a line of {line_bytes} bytes is over the \
                 {limit}-byte line limit"
            ),
        }
    }
}

/// What chunking one file produced.
#[derive(Debug, Clone)]
pub enum FileChunks {
    Chunked(Vec<Chunk>),
    Skipped(SkipReason),
}

/// Chunker settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChunkerConfig {
    /// Size budget of one chunk, in non-whitespace characters.
    pub budget: usize,
    /// Same-module neighbours below this many non-whitespace characters are merged.
    pub merge_below: usize,
    /// Files larger than this are skipped and counted.
    pub max_file_bytes: u64,
}

/// Imports a module's list (or a block's) holds at most. Every chunk (and every block
/// after an import) carries the list in force where it is: 5,000 imports in one function
/// body made 516 MB of chunks and took 2 GB of memory for a 0.15 MB file. An import past
/// this many is not recorded, and the chunk (or the module's header) is tagged
/// `too_many_imports`. Real modules import a handful.
pub const MAX_IMPORTS: usize = 100;

/// Whether `path` is a template file's (`.heex`, `.eex`, `.leex`, `.sface`): Phoenix
/// compiles it into a function of a module (`embed_templates`, a colocated template), or
/// code reads it (`EEx.eval_file`).
pub fn is_template_path(path: &str) -> bool {
    [".heex", ".eex", ".leex", ".sface"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// The module of a call through a module chosen at run time (`adapter.call(env, opts)`,
/// `http_client().get(url)`): `?.call/2` among a chunk's calls, which the symbol graph
/// links to the one indexed callback of that name and arity, or drops.
pub const RUNTIME_MODULE: &str = "?";

/// Marks a `use Mod` made in a function's or test's body, or at the top of a script,
/// among the imports of its [`ScopedCalls`] (`use Mod` there imports what `Mod`'s quote
/// imports, known once the graph has every quote): `use Distillery.Releases.Config` in
/// a `rel/config.exs`, then `environment :dev do`.
pub const SCOPED_USE: &str = "use ";

/// Marks a quoted `@behaviour Mod` among a definition's `quoted_uses`
/// (`@behaviour Plug`): the modules that use it implement `Mod`, and run nothing of it.
pub const QUOTED_BEHAVIOUR: &str = "@behaviour ";

/// Tags a chunk that makes a mock of a behaviour: `mock:MyApp.StoreMock=MyApp.Store@12`
/// for `Mox.defmock(MyApp.StoreMock, for: MyApp.Store)` on line 12.
pub const MOCK_TAG: &str = "mock:";

/// Tags a chunk whose module registers its process under another module's name:
/// `registers:BorsNG.GitHub` for `GenServer.start_link(__MODULE__, :ok, name: GitHub)`
/// in `BorsNG.GitHub.Server` (after `alias BorsNG.GitHub`).
pub const REGISTERS_TAG: &str = "registers:";

/// Bumped whenever the chunker cuts the same input differently, so that indexes chunk
/// again the files they already hold (see [`ChunkerConfig::fingerprint`]).
pub const CHUNKER_VERSION: u32 = 112;

impl ChunkerConfig {
    /// What decides a file's chunks besides its bytes: the chunker's version, the budget,
    /// the merge threshold and the file size cap. An index keeps it with each file's
    /// content hash, so an unchanged file is chunked again (or skipped) after an upgrade
    /// or with another `--budget` or `--max-file-bytes`.
    pub fn fingerprint(&self) -> String {
        format!(
            "chunker{CHUNKER_VERSION}-b{}-m{}-f{}",
            self.budget, self.merge_below, self.max_file_bytes
        )
    }
}

impl Default for ChunkerConfig {
    fn default() -> Self {
        ChunkerConfig {
            budget: 1500,
            merge_below: 100,
            max_file_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Elixir source by extension.
pub fn is_elixir_path(path: &str) -> bool {
    path.ends_with(".ex") || path.ends_with(".exs")
}

/// Whether the bytes look like a binary file (a NUL byte in the first 8 KiB).
pub fn looks_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
}

/// An image written as text (SVG: the markup of shapes, never code to search), counted
/// as binary.
fn is_image(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("svg"))
}

/// Lines of a text file (not Elixir) longer than this mark it minified or generated.
pub const MAX_TEXT_LINE_BYTES: usize = 4096;

/// Prose and templates, whose long lines are paragraphs or markup, never minified.
fn is_prose_or_template(path: &str) -> bool {
    const EXTENSIONS: [&str; 9] = [
        ".md",
        ".markdown",
        ".txt",
        ".rst",
        ".adoc",
        ".heex",
        ".eex",
        ".leex",
        ".sface",
    ];
    let lower = path.to_ascii_lowercase();
    EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// The length of the file's longest line when it is over [`MAX_TEXT_LINE_BYTES`].
fn overlong_line(bytes: &[u8]) -> Option<usize> {
    let mut start = 0usize;
    let mut longest = 0usize;
    for end in memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len())) {
        longest = longest.max(end - start);
        start = end + 1;
    }
    (longest > MAX_TEXT_LINE_BYTES).then_some(longest)
}

/// Chunks one file of a repository. Never panics; binary and oversized files are skipped,
/// and so are text files with a line over [`MAX_TEXT_LINE_BYTES`] (minified or generated).
pub fn chunk_file(repo: &str, path: &str, bytes: &[u8], config: &ChunkerConfig) -> FileChunks {
    let masked = match screen(path, bytes, config) {
        Ok(masked) => masked,
        Err(reason) => return FileChunks::Skipped(reason),
    };
    let file = FileInfo {
        repo,
        path,
        src: masked.as_deref().unwrap_or(bytes),
    };
    let chunks = if is_elixir_path(path) {
        Ok(elixir::chunk(&file, config))
    } else {
        chunk_text(&file, config)
    };
    match chunks {
        Ok(chunks) => FileChunks::Chunked(tag_generated(file.src, chunks)),
        Err(reason) => FileChunks::Skipped(reason),
    }
}

/// Lines at the top of a file read for a generated-code mark ([`is_generated`]).
const GENERATED_MARK_LINES: usize = 5;

/// Bytes at the top of a file read for a generated-code mark.
const GENERATED_MARK_BYTES: usize = 1024;

/// What a comment says when a tool wrote the file (`# codegen: do not edit`, Go's `//
/// Code generated by stringer. DO NOT EDIT.`, `@generated`), compared in lower case.
/// "generated by" alone is not one: `mix phx.gen.auth` writes files their project then
/// owns and edits.
const GENERATED_MARKS: [&str; 6] = [
    "do not edit",
    "@generated",
    "auto-generated",
    "autogenerated",
    "automatically generated",
    "code generated",
];

/// Bytes at the top of a file read for a sentence saying a tool wrote it.
const GENERATED_DOC_BYTES: usize = 2048;

/// Sentences saying a tool wrote the file, in a comment or a module doc near its top,
/// compared ignoring case.
const GENERATED_FILE_PHRASES: [&str; 5] = [
    "this file was autogenerated",
    "this file was auto-generated",
    "this file was automatically generated",
    "this file is autogenerated",
    "this file is auto-generated",
];

/// Whether the comments that open `src` (blank lines and comment lines before anything
/// else, within its first lines) say that a tool wrote the file. Such code answers few
/// questions (elixir-ls's 464 generated LSP protocol modules, each function a one-line
/// doc, crowded out its own code), so a question or other prose query weighs it down
/// ([`crate::search`]); an identifier query still finds it first. Only the opening
/// comments count, and a sentence saying so of the file near its top, in a comment or
/// the `@moduledoc` ("This file was autogenerated with …"): a `@moduledoc` line ("*
/// `:id` - autogenerated"), another comment inside the code, or a string the code
/// writes does not.
pub fn is_generated(src: &[u8]) -> bool {
    let src = src.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(src);
    // A module doc saying so of its file (AshPostgres' 222 migrations: "This file was
    // autogenerated with `mix ash_postgres.generate_migrations`").
    // (In a comment or after the `@moduledoc`, not in a string the code writes: a task
    // writing generated files says so in its `@header`.)
    let top = src[..src.len().min(GENERATED_DOC_BYTES)].to_ascii_lowercase();
    let doc = memchr::memmem::find(&top, b"@moduledoc");
    for phrase in GENERATED_FILE_PHRASES {
        for at in memchr::memmem::find_iter(&top, phrase.as_bytes()) {
            let line = top[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |n| n + 1);
            let comment = top[line..at].trim_ascii_start().starts_with(b"#");
            if comment || doc.is_some_and(|d| d < at) {
                return true;
            }
        }
    }
    let head = &src[..src.len().min(GENERATED_MARK_BYTES)];
    for line in head.split(|&b| b == b'\n').take(GENERATED_MARK_LINES) {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let comment = [&b"#"[..], b"//", b"/*", b"*", b"--", b"%", b";", b"<!--"]
            .iter()
            .any(|open| line.starts_with(open));
        if !comment {
            return false;
        }
        let lower = line.to_ascii_lowercase();
        if GENERATED_MARKS
            .iter()
            .any(|mark| memchr::memmem::find(&lower, mark.as_bytes()).is_some())
        {
            return true;
        }
    }
    false
}

/// `chunks` of a file whose text is `src`, each tagged `generated` when a tool wrote it.
fn tag_generated(src: &[u8], mut chunks: Vec<Chunk>) -> Vec<Chunk> {
    if is_generated(src) {
        for chunk in chunks
            .iter_mut()
            .filter(|c| !c.tags.iter().any(|t| t == "generated"))
        {
            chunk.tags.push("generated".to_string());
        }
    }
    chunks
}

/// [`chunk_file`] in two steps, for a pipeline: this one parses an Elixir file and cuts it
/// up; [`StagedChunks::finish`], which may run on another thread, makes its chunks. The
/// chunks are those [`chunk_file`] makes.
pub fn chunk_file_staged(
    repo: &str,
    path: &str,
    bytes: Vec<u8>,
    config: &ChunkerConfig,
) -> Result<StagedChunks, SkipReason> {
    let src = screen(path, &bytes, config)?.unwrap_or(bytes);
    let file = FileInfo {
        repo,
        path,
        src: &src,
    };
    if !is_elixir_path(path) {
        return chunk_text(&file, config)
            .map(|chunks| StagedChunks::Chunked(tag_generated(&src, chunks)));
    }
    Ok(match elixir::structure(&file, config) {
        elixir::Stage::Chunked(chunks) => StagedChunks::Chunked(tag_generated(&src, chunks)),
        elixir::Stage::Structured(structured) => StagedChunks::Pending(PendingChunks {
            repo: repo.to_string(),
            path: path.to_string(),
            src,
            structured,
        }),
    })
}

/// What [`chunk_file_staged`] made of a file it did not skip.
pub enum StagedChunks {
    Chunked(Vec<Chunk>),
    /// Parsed; [`PendingChunks::finish`] makes the chunks.
    Pending(PendingChunks),
}

impl StagedChunks {
    /// The file's chunks, made now if they are still to make.
    pub fn finish(self) -> Vec<Chunk> {
        match self {
            StagedChunks::Chunked(chunks) => chunks,
            StagedChunks::Pending(pending) => pending.finish(),
        }
    }
}

/// An Elixir file parsed and cut up, its tree held until [`PendingChunks::finish`].
pub struct PendingChunks {
    repo: String,
    path: String,
    src: Vec<u8>,
    structured: elixir::Structured,
}

impl PendingChunks {
    /// The file's chunks; frees its tree.
    pub fn finish(self) -> Vec<Chunk> {
        let file = FileInfo {
            repo: &self.repo,
            path: &self.path,
            src: &self.src,
        };
        tag_generated(&self.src, self.structured.finish(&file))
    }
}

/// Why a file is not chunked at all, or its bytes with credentials masked (`None`: there
/// were none).
fn screen(path: &str, bytes: &[u8], config: &ChunkerConfig) -> Result<Option<Vec<u8>>, SkipReason> {
    if bytes.len() as u64 > config.max_file_bytes {
        return Err(SkipReason::TooLarge {
            size: bytes.len() as u64,
            limit: config.max_file_bytes,
        });
    }
    if looks_binary(bytes) || is_image(path) {
        return Err(SkipReason::Binary);
    }
    if secrets::is_secret_file(path) {
        return Err(SkipReason::Secret);
    }
    // Credentials in any other file are masked before anything reads it.
    Ok(secrets::mask(bytes))
}

/// Chunks a file that is not Elixir, unless it is minified.
fn chunk_text(file: &FileInfo<'_>, config: &ChunkerConfig) -> Result<Vec<Chunk>, SkipReason> {
    match overlong_line(file.src).filter(|_| !is_prose_or_template(file.path)) {
        Some(line) => Err(SkipReason::Minified {
            line_bytes: line as u64,
            limit: MAX_TEXT_LINE_BYTES as u64,
        }),
        None => Ok(text::chunk(file, config)),
    }
}

/// The file being chunked.
pub(crate) struct FileInfo<'a> {
    pub repo: &'a str,
    pub path: &'a str,
    pub src: &'a [u8],
}

/// A piece of a file before it becomes a [`Chunk`]: a span plus its metadata.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub start: usize,
    pub end: usize,
    pub kind: ChunkKind,
    pub module: String,
    pub parents: Vec<String>,
    pub also_modules: Vec<String>,
    pub name: String,
    pub arities: Vec<u32>,
    pub visibility: Visibility,
    pub signature: String,
    pub doc: Option<String>,
    pub specs: Vec<String>,
    pub impl_: Option<String>,
    pub tags: Vec<String>,
    pub defines: Vec<Definition>,
    pub has_error: bool,
    pub calls: Vec<String>,
    pub unqualified_calls: Vec<String>,
    pub aliases: Vec<String>,
    pub imports: Vec<String>,
    pub import_filters: Vec<ImportFilter>,
    /// Calls without a module made under other imports than `imports`.
    pub scoped_calls: Vec<ScopedCalls>,
    /// Calls of module-level code in the span, outside `own`.
    pub module_calls: Vec<String>,
    pub module_unqualified_calls: Vec<String>,
    /// Calls without a module a plug pipeline makes (see [`Chunk::plugged_calls`]).
    pub plugged_calls: Vec<String>,
    /// A function's own bytes (its clauses), when the span holds module-level code too.
    pub own: Option<(usize, usize)>,
    /// Imports in quoted code, for the modules that use this one.
    pub quoted_imports: Vec<String>,
    pub quoted_import_filters: Vec<ImportFilter>,
    pub quoted_aliases: Vec<(String, String)>,
    pub quoted_uses: Vec<String>,
    pub quoted_defs: Vec<QuotedDef>,
    /// Whether the quoted code above is all outside the function's own span (a case
    /// template's `using` block leading into the next function): `None` when there is
    /// none.
    pub quotes_outside: Option<bool>,
    pub uses: Vec<String>,
    pub part: Option<(u32, u32)>,
    pub header: String,
    /// The module context (walker index) the draft belongs to, for resolving its calls.
    pub scope: Option<usize>,
    /// The bytes of modules a test defines in its body: their calls are their functions'
    /// (in `defines`), not the test's.
    pub nested: Vec<(usize, usize)>,
    /// The aliases their `defmodule`s make in the test's body, in byte order: (where,
    /// end of the block, short name, module).
    pub nested_aliases: Vec<(usize, usize, String, String)>,
}

impl Draft {
    pub fn new(kind: ChunkKind, start: usize, end: usize) -> Draft {
        Draft {
            start,
            end,
            kind,
            module: String::new(),
            parents: Vec::new(),
            also_modules: Vec::new(),
            name: String::new(),
            arities: Vec::new(),
            visibility: Visibility::Public,
            signature: String::new(),
            doc: None,
            specs: Vec::new(),
            impl_: None,
            tags: Vec::new(),
            defines: Vec::new(),
            has_error: false,
            calls: Vec::new(),
            unqualified_calls: Vec::new(),
            aliases: Vec::new(),
            imports: Vec::new(),
            import_filters: Vec::new(),
            scoped_calls: Vec::new(),
            module_calls: Vec::new(),
            module_unqualified_calls: Vec::new(),
            plugged_calls: Vec::new(),
            own: None,
            quoted_imports: Vec::new(),
            quoted_import_filters: Vec::new(),
            quoted_aliases: Vec::new(),
            quoted_uses: Vec::new(),
            quoted_defs: Vec::new(),
            quotes_outside: None,
            uses: Vec::new(),
            part: None,
            header: String::new(),
            scope: None,
            nested: Vec::new(),
            nested_aliases: Vec::new(),
        }
    }

    pub fn tag(&mut self, tag: &str) {
        if !self.tags.iter().any(|t| t == tag) {
            self.tags.push(tag.to_string());
        }
    }

    /// Turns the draft into a chunk, computing line numbers, sizes and hashes.
    pub fn finish(self, file: &FileInfo<'_>, language: Language, lines: &LineIndex) -> Chunk {
        let bytes = &file.src[self.start..self.end];
        let size = non_whitespace_chars(bytes);
        let mut id_hasher = blake3::Hasher::new();
        id_hasher.update(file.repo.as_bytes());
        id_hasher.update(&[0]);
        id_hasher.update(file.path.as_bytes());
        id_hasher.update(&[0]);
        id_hasher.update(self.kind.as_str().as_bytes());
        id_hasher.update(&[0]);
        // The qualified name (`Mod.fun`), hashed in its parts.
        if !self.module.is_empty() {
            id_hasher.update(self.module.as_bytes());
            id_hasher.update(b".");
        }
        id_hasher.update(self.name.as_bytes());
        id_hasher.update(&(self.start as u64).to_le_bytes());
        let id = id_hasher.finalize().to_hex()[..32].to_string();
        let content = match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        };
        let token_estimate = ((bytes.len() + self.header.len()) / 4).max(1) as u32;
        let (start_line, end_line) = lines.line_range(self.start, self.end);
        let blank = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(0);
        let code_line = start_line + memchr::memchr_iter(b'\n', &bytes[..blank]).count() as u32;
        Chunk {
            id,
            repo: file.repo.to_string(),
            path: file.path.to_string(),
            language,
            module: self.module,
            parents: self.parents,
            also_modules: self.also_modules,
            kind: self.kind,
            name: self.name,
            arities: self.arities,
            visibility: self.visibility,
            signature: self.signature,
            doc: self.doc,
            specs: self.specs,
            impl_: self.impl_,
            tags: self.tags,
            defines: self.defines,
            start_line,
            end_line,
            code_line,
            start_byte: self.start,
            end_byte: self.end,
            has_error: self.has_error,
            size,
            token_estimate,
            content_hash: blake3::hash(bytes).to_hex().to_string(),
            calls: self.calls,
            unqualified_calls: self.unqualified_calls,
            scoped_calls: self.scoped_calls,
            module_calls: self.module_calls,
            module_unqualified_calls: self.module_unqualified_calls,
            plugged_calls: self.plugged_calls,
            aliases: self.aliases,
            imports: self.imports,
            import_filters: self.import_filters,
            uses: self.uses,
            part: self.part,
            header: self.header,
            content,
        }
    }
}

/// Byte offset to 1-based line number.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(src: &[u8]) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', src).map(|i| i + 1));
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, byte: usize) -> u32 {
        (self.starts.partition_point(|&s| s <= byte)) as u32
    }

    /// 1-based inclusive line range of `[start, end)`; a span ending right after a newline
    /// ends on that newline's line.
    pub fn line_range(&self, start: usize, end: usize) -> (u32, u32) {
        let first = self.line_of(start);
        let last = if end > start {
            self.line_of(end - 1)
        } else {
            first
        };
        (first, last)
    }
}

/// Lossy text of a byte range.
pub(crate) fn text_of(src: &[u8], start: usize, end: usize) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(&src[start.min(src.len())..end.min(src.len())])
}

/// Collapses runs of whitespace to one space, and drops those just inside brackets, so a
/// head written over several lines reads as it would on one (`def struct(meta, opts)`,
/// not `def struct( meta, opts )`).
pub(crate) fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.trim().chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            let inside = out.ends_with(['(', '[', '{']) || matches!(c, ')' | ']' | '}');
            if space && !inside {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A comment among the first five lines saying a tool wrote the file marks it as
    /// generated, whatever its case and comment style; the words elsewhere do not.
    #[test]
    fn a_file_is_generated_when_a_comment_at_its_top_says_so() {
        for src in [
            "# codegen: do not edit\ndefmodule G do\nend\n",
            "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage x\n",
            "\n\n\n\n  # This file is AUTO-GENERATED by scripts/gen.exs\n",
            "/*\n * @generated\n */\n",
            "-- autogenerated from schema.sql\n",
            "%% Automatically generated, do not change\n",
            "\u{feff}# codegen: do not edit\n",
            "# Copyright 2026 Shop\n#\n# DO NOT EDIT: written by scripts/gen.exs\n",
            "defmodule Shop.Repo.Migrations.MigrateResources22 do\n  @moduledoc \"\"\"\n  Updates resources.\n\n  This file was autogenerated with `mix ash_postgres.generate_migrations`\n  \"\"\"\n",
        ] {
            assert!(is_generated(src.as_bytes()), "{src:?}");
        }
        for src in [
            "defmodule G do\n  @moduledoc \"do not edit\"\nend\n",
            "# Generated by mix phx.gen.auth\ndefmodule G do\nend\n",
            "\n\n\n\n\n# do not edit\n",
            "x = \"code generated\" # a string first\n",
            "defmodule Shop.Item do\n  @moduledoc \"\"\"\n  * `:id` - autogenerated\n  \"\"\"\n",
            "defmodule Shop.Item do\n  # the id is autogenerated by Postgres\n",
            "defmodule Mix.Tasks.Icons.Gen do\n  @header \"# This file is auto-generated by mix icons.gen.\"\n",
            "",
        ] {
            assert!(!is_generated(src.as_bytes()), "{src:?}");
        }
        // A mark past the first kilobyte is not read, nor are bytes that are not UTF-8.
        let long = format!("# {}\n# do not edit\n", "x".repeat(2000));
        assert!(!is_generated(long.as_bytes()));
        assert!(is_generated(b"# \xff\xfe do not edit\n"));
    }

    #[test]
    fn a_head_over_several_lines_reads_as_on_one() {
        let head = "def struct(\n      adapter_meta,\n      %{source: source} = schema_meta\n    )";
        assert_eq!(
            collapse_whitespace(head),
            "def struct(adapter_meta, %{source: source} = schema_meta)"
        );
        assert_eq!(
            collapse_whitespace("def f([\n  h | t\n], {\n a,  b })"),
            "def f([h | t], {a, b})"
        );
        assert_eq!(collapse_whitespace("  def  g( )  "), "def g()");
    }

    #[test]
    fn symbols_are_module_name_and_arity() {
        assert_eq!(symbol("Enum", "map", 2), "Enum.map/2");
        assert_eq!(symbol("", "helper", 0), "helper/0");
        assert_eq!(symbol("A.B", "f!", u32::MAX), "A.B.f!/4294967295");
    }

    #[test]
    fn underscore_is_macro_underscore_of_a_segment() {
        for (segment, want) in [
            ("EmailVerification", "email_verification"),
            ("OAuth", "o_auth"),
            ("API", "api"),
            ("HTTPServer", "http_server"),
            ("A_Bc", "a__bc"),
            ("V2Api", "v2_api"),
            ("ABC1", "abc1"),
            ("Page", "page"),
            ("", ""),
        ] {
            assert_eq!(underscore(segment), want, "{segment}");
        }
    }

    /// tree-sitter-elixir's scanner looks ahead over every comment line that follows a
    /// line: 100,000 in a row take it minutes. The parse stops at its budget, and the
    /// parser then parses the next file from its start.
    #[test]
    fn a_parse_stops_at_its_budget_and_the_next_one_starts_afresh() {
        let mut slow = String::from("defmodule A do\n");
        slow.push_str(&"  # a comment\n".repeat(100_000));
        slow.push_str("    1\n  end\n  def ok, do: 1\nend\n");
        let stopped = elixir::parse_within(slow.as_bytes(), std::time::Duration::from_millis(50));
        assert!(stopped.is_none(), "the parse should have stopped");
        let src = b"defmodule B do\n  def f, do: 1\nend\n";
        let tree = elixir::parse(src).expect("parses");
        assert!(!tree.root_node().has_error());
        assert_eq!(tree.root_node().end_byte(), src.len());
        // Budgets grow with the file: 2 s, and 10 s per MB.
        assert_eq!(elixir::parse_budget(0).as_secs(), 2);
        assert_eq!(elixir::parse_budget(4_000_000).as_secs(), 42);
    }

    /// A parse budget counts the parsing thread's own time: the time it waits for a core
    /// on a busy machine (here, asleep) is not spent.
    #[cfg(unix)]
    #[test]
    fn a_parse_budget_is_not_spent_waiting() {
        let clock = elixir::ParseClock::start();
        std::thread::sleep(std::time::Duration::from_millis(400));
        let spent = clock.spent();
        assert!(
            spent < std::time::Duration::from_millis(200),
            "400 ms asleep counted as {spent:?}"
        );
        assert!(!clock.over(std::time::Duration::from_millis(300)));
        // Waiting four times the budget stops a parse all the same.
        assert!(clock.over(std::time::Duration::from_millis(50)));
        // Working, it is spent.
        let busy = elixir::ParseClock::start();
        let mut x = 0u64;
        while !busy.over(std::time::Duration::from_millis(20)) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(busy.spent() > std::time::Duration::from_millis(20));
    }

    #[test]
    fn child_of_kind_finds_a_child_past_the_first_few() {
        // `arguments` of `foo(a, b, c, key: 1)`: `(`, a, `,`, b, `,`, c, `,`, keywords, `)`.
        let tree = elixir::parse(b"foo(a, b, c, key: 1)").expect("parses");
        let call = tree.root_node().named_child(0).expect("a call");
        let args = calls::child_of_kind(call, "arguments").expect("arguments");
        assert!(args.child_count() > 4);
        let keywords = calls::child_of_kind(args, "keywords").expect("keywords");
        assert_eq!(
            keywords.utf8_text(b"foo(a, b, c, key: 1)").ok(),
            Some("key: 1")
        );
        assert!(calls::child_of_kind(args, "do_block").is_none());
        assert!(calls::child_of_kind(call, "do_block").is_none());
    }

    #[test]
    fn dedup_keeps_the_first_of_each_string_in_place_order() {
        for n in [0usize, 1, 5, 16, 17, 40, 1000] {
            let list: Vec<String> = (0..n).map(|i| format!("f{}", (i * 13) % 11)).collect();
            let mut expected: Vec<String> = Vec::new();
            for s in &list {
                if !expected.contains(s) {
                    expected.push(s.clone());
                }
            }
            let mut got = list.clone();
            dedup_keep_first(&mut got);
            assert_eq!(got, expected, "{n} strings");
        }
    }

    #[test]
    fn long_lines_are_shown_cut_and_short_ones_whole() {
        let short = "  @x 1\n  def f, do: 2";
        assert!(matches!(
            elide_long_lines(short),
            std::borrow::Cow::Borrowed(_)
        ));
        let blob = format!("  @logo \"data:image/png;base64,{}\"", "é".repeat(3_000));
        let text = format!("defmodule D do\n{blob}\n  def f, do: 2\nend");
        let shown = elide_long_lines(&text);
        let lines: Vec<&str> = shown.split('\n').collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "defmodule D do");
        assert!(lines[1].starts_with("  @logo \"data:image/png;base64,é"));
        assert!(lines[1].ends_with(&format!(
            "… [{} more bytes of this line left out]",
            blob.len() - 199
        )));
        assert!(lines[1].len() < 300);
        assert_eq!(&lines[2..], ["  def f, do: 2", "end"]);
    }

    #[test]
    fn line_index_maps_bytes_to_lines() {
        let idx = LineIndex::new(b"a\nbc\n\nd");
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(1), 1);
        assert_eq!(idx.line_of(2), 2);
        assert_eq!(idx.line_of(6), 4);
        assert_eq!(idx.line_range(0, 5), (1, 2));
    }

    #[test]
    fn text_files_with_an_overlong_line_are_skipped_and_elixir_is_not() {
        let config = ChunkerConfig::default();
        let long = format!("a\n{}\nb\n", "x".repeat(MAX_TEXT_LINE_BYTES + 1));
        match chunk_file("r", "priv/app.js.map", long.as_bytes(), &config) {
            FileChunks::Skipped(reason @ SkipReason::Minified { line_bytes, .. }) => {
                assert_eq!(line_bytes, MAX_TEXT_LINE_BYTES as u64 + 1);
                assert!(reason.to_string().contains("minified"), "{reason}");
            }
            other => panic!("expected a minified skip, got {other:?}"),
        }
        for prose in ["README.md", "docs/guide.txt", "lib/app_web/page.html.heex"] {
            assert!(
                matches!(
                    chunk_file("r", prose, long.as_bytes(), &config),
                    FileChunks::Chunked(_)
                ),
                "{prose}: a long paragraph or markup line is kept"
            );
        }
        let at_limit = "x".repeat(MAX_TEXT_LINE_BYTES);
        assert!(matches!(
            chunk_file("r", "a.md", at_limit.as_bytes(), &config),
            FileChunks::Chunked(_)
        ));
        let elixir = format!("@data \"{}\"\n", "x".repeat(MAX_TEXT_LINE_BYTES * 2));
        assert!(matches!(
            chunk_file("r", "lib/data.ex", elixir.as_bytes(), &config),
            FileChunks::Chunked(_)
        ));
    }

    #[test]
    fn svg_images_are_skipped_as_binary() {
        let config = ChunkerConfig::default();
        let svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\">\n<path d=\"M0 0h24v24H0z\"/>\n</svg>\n";
        for path in ["assets/static/images/logo.svg", "priv/ICON.SVG"] {
            match chunk_file("r", path, svg.as_bytes(), &config) {
                FileChunks::Skipped(reason @ SkipReason::Binary) => {
                    assert!(reason.to_string().contains("image"), "{reason}")
                }
                other => panic!("{path}: expected a binary skip, got {other:?}"),
            }
        }
        assert!(matches!(
            chunk_file("r", "lib/svg.ex", b"defmodule Svg do\nend\n", &config),
            FileChunks::Chunked(_)
        ));
    }

    #[test]
    fn unknown_kind_names_the_choices() {
        let err = "fn".parse::<ChunkKind>().unwrap_err();
        assert!(err.contains("unknown chunk kind `fn`") && err.contains("module_header"));
        assert_eq!("Function".parse::<ChunkKind>(), Ok(ChunkKind::Function));
        let err = "callback".parse::<ChunkKind>().unwrap_err();
        assert!(err.ends_with("; callbacks and types are `type`)"), "{err}");
    }
}
