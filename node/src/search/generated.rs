//! Functions no chunk defines, found by name.
//!
//! `MyApp.Repo.insert/2` has no chunk of its own: `use Ecto.Repo` writes it into
//! `MyApp.Repo` at compile time, from a `quote` in `Ecto.Repo.__using__/1`. Nor has
//! `Nx.exp/1`: `for {name, _} <- Nx.Shared.unary_math_funs() do def unquote(name)(tensor)`
//! names it after what a function of another file returns. The index only holds what
//! files say, so a search for either alone finds look-alikes
//! (`Ecto.Repo.Schema.insert/4`, a test calling `Nx.exp`). The symbol graph knows such
//! functions (it expands every `use` against the quote of the module used, and joins a
//! `for` to the list it runs over), so when a query names one function and no hit is a
//! definition of it, those definitions are put first: for a `use`, at the using module,
//! with the head written in the quote; for a `for`, at the definition it writes, with its
//! head naming the function.
//!
//! The graph is costly to build on a large index (seconds, and a gigabyte, for 200 MB of
//! code; a server keeps it until the next commit, `search --offline` builds it each time),
//! so it is asked only when the query names one function ([`function_to_look_up`]), no
//! hit defines it, the request's kinds let a function through, and two more searches
//! ([`lookup_searches`]) find, under the request's filters, a module of that name (or
//! ending in it) that may define it ([`may_define`]): its header with a `use`, or a
//! definition of it named at compile time (`unquote(name)`). A module with neither
//! (`Enum` in the standard library) or not indexed costs those searches alone; one with
//! either that does not define the function (`Ecto.Enum` for `Enum.map`) costs the graph,
//! then adds nothing.

use aiex_proto::v1 as pb;

use super::SearchRequest;
use crate::chunk::ChunkKind;
use crate::graph::{QuotedAt, SymbolGraph, SymbolSite};
use crate::index::PLACEHOLDER_NAME;

/// The function a search names on its own, when no hit defines it and the request's kinds
/// let a function through: `MyApp.Repo.insert`, `MyApp.Repo.insert/2`, `` `Repo.all/2` ``
/// or `&Repo.all/2` (a module, or the last part of one, then a function name, perhaps an
/// arity). `None` for anything else, and when a hit already is that function, under any
/// module the name could be a suffix of: a definition, a header holding one (its
/// `defstruct` is `__struct__/0`), or a test holding a module that defines it; not a type
/// or callback, nor a `describe` block, of that name.
pub fn function_to_look_up(request: &SearchRequest, hits: &[pb::SearchHit]) -> Option<String> {
    let kinds = &request.filters.kinds;
    if !kinds.is_empty() && !kinds.iter().any(|k| k.is_callable()) {
        return None;
    }
    let named = named_function(&request.query)?;
    let (head, arity) = split_arity(&named);
    let defined = hits.iter().any(|h| {
        let holds_definitions = match h.kind.parse::<ChunkKind>() {
            Ok(k) if k.is_callable() || k == ChunkKind::ModuleHeader => true,
            // A test's symbol is a function of a module its body defines, or its name.
            Ok(ChunkKind::Test | ChunkKind::Describe) => {
                (h.symbol.strip_prefix(&h.module)).is_some_and(|rest| rest.starts_with('.'))
            }
            _ => false,
        };
        let (hit_head, hit_arity) = split_arity(&h.symbol);
        holds_definitions
            && arity.is_none_or(|a| hit_arity == Some(a))
            && (hit_head == head
                || hit_head
                    .strip_suffix(head)
                    .is_some_and(|m| m.ends_with('.')))
    });
    (!defined).then_some(named)
}

/// The searches whose hits tell whether a module may define `symbol` with no chunk of it
/// ([`may_define`]): its header ([`module_search`]) and its definitions named at compile
/// time ([`placeholder_search`]).
pub fn lookup_searches(symbol: &str, request: &SearchRequest) -> [pb::SearchRequest; 2] {
    if is_bare(symbol) {
        return [
            quote_search(symbol, request, ChunkKind::Macro),
            quote_search(symbol, request, ChunkKind::Function),
        ];
    }
    [
        module_search(symbol, request),
        placeholder_search(symbol, request),
    ]
}

/// Whether `symbol` names a function without its module (`maybe_one/2`).
fn is_bare(symbol: &str) -> bool {
    !split_arity(symbol).0.contains('.')
}

/// For a function named without its module (`transact_with`): the search for the
/// macros (or functions) of `kind` that mention it, in the request's repositories, among
/// which one whose quote may define it ([`may_define`]).
fn quote_search(symbol: &str, request: &SearchRequest, kind: ChunkKind) -> pb::SearchRequest {
    let f = &request.filters;
    pb::SearchRequest {
        query: split_arity(symbol).0.to_string(),
        filters: Some(pb::SearchFilters {
            repositories: f.repos.clone(),
            path_prefix: String::new(),
            kinds: vec![kind.as_str().to_string()],
            module: String::new(),
        }),
        limit: QUOTE_SEARCH_LIMIT,
    }
}

/// Macros (and functions) a [`quote_search`] looks through.
const QUOTE_SEARCH_LIMIT: u32 = 20;

/// The search for the header of the module `symbol` names (`MyApp.Repo` for
/// `MyApp.Repo.insert/2`, or any module ending in `.Repo` for `Repo.insert`), with the
/// repositories, path prefix and module a search asked for: a function a `use` defines
/// is sited at that header.
pub fn module_search(symbol: &str, request: &SearchRequest) -> pb::SearchRequest {
    let f = &request.filters;
    pb::SearchRequest {
        query: module_of(symbol).to_string(),
        filters: Some(pb::SearchFilters {
            repositories: f.repos.clone(),
            path_prefix: f.path_prefix.clone().unwrap_or_default(),
            kinds: vec![ChunkKind::ModuleHeader.as_str().to_string()],
            module: f.module.clone().unwrap_or_default(),
        }),
        limit: MODULE_SEARCH_LIMIT,
    }
}

/// Headers a [`module_search`] looks through: the module's own come first (exact name),
/// but a suffix (`Repo`) may name several.
const MODULE_SEARCH_LIMIT: u32 = 20;

/// The search for the definitions named at compile time (`def unquote(name)(tensor)`) of
/// the module `symbol` names (`Nx.unquote` for `Nx.exp/1`: the index keys them so, see
/// [`crate::index::PLACEHOLDER_NAME`]), with the request's filters, of the callable kinds
/// it lets through. Not at the arity: the hits' snippets would go for the lines with that
/// number in them.
pub fn placeholder_search(symbol: &str, request: &SearchRequest) -> pb::SearchRequest {
    let f = &request.filters;
    let kinds = ChunkKind::CALLABLE
        .into_iter()
        .filter(|k| f.kinds.is_empty() || f.kinds.contains(k));
    pb::SearchRequest {
        query: format!("{}.{PLACEHOLDER_NAME}", module_of(symbol)),
        filters: Some(pb::SearchFilters {
            repositories: f.repos.clone(),
            path_prefix: f.path_prefix.clone().unwrap_or_default(),
            kinds: kinds.map(|k| k.as_str().to_string()).collect(),
            module: f.module.clone().unwrap_or_default(),
        }),
        limit: PLACEHOLDER_SEARCH_LIMIT,
    }
}

/// Chunks a [`placeholder_search`] looks through. A function a `for` names is shown with
/// the chunk of the definition the `for` writes when that chunk is among them, and
/// without code (but at the same place) when a module (or the modules a suffix such as
/// `Backend` names) writes more such definitions than this.
const PLACEHOLDER_SEARCH_LIMIT: u32 = 100;

/// Whether the hits of [`lookup_searches`] show that the module `symbol` names may define
/// it with no chunk of it: they hold its header with a `use` (or a `@before_compile`
/// hook), or a definition of it named at compile time.
pub fn may_define(symbol: &str, hits: &[pb::SearchHit]) -> bool {
    if is_bare(symbol) {
        // A quote that mentions the name: a `__using__/1`'s, a `__before_compile__/1`'s
        // or a helper's of that form (`__pow_functions__/0`) that one unquotes, whose
        // lines shown hold the name whole (the search matches its words: `visit_home`
        // finds every `__using__` saying `home`).
        let wanted = split_arity(symbol).0;
        return hits.iter().any(|h| {
            let (head, _) = split_arity(&h.symbol);
            let name = head.rsplit_once('.').map_or(head, |(_, n)| n);
            // Not any macro or function that mentions the name: the graph is costly
            // to build (offline, once per search).
            h.kind.parse::<ChunkKind>().is_ok_and(|k| k.is_callable())
                && name.len() > 4
                && name.starts_with("__")
                && name.ends_with("__")
                && mentions(&h.snippet, wanted)
        });
    }
    let module = module_of(symbol);
    hits.iter().any(|h| {
        let with_use = h.kind == ChunkKind::ModuleHeader.as_str() && !h.uses.is_empty();
        (with_use || is_placeholder_hit(h)) && is_module_or_suffix(&h.module, module)
    })
}

/// Whether `text` holds `name` as a whole name (not inside a longer one).
fn mentions(text: &str, name: &str) -> bool {
    let part = |c: char| c.is_alphanumeric() || matches!(c, '_' | '?' | '!');
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        before.is_none_or(|c| !part(c)) && after.is_none_or(|c| !part(c))
    })
}

/// Whether `module` is `wanted` or ends in it (`MyApp.Repo` for `Repo`).
fn is_module_or_suffix(module: &str, wanted: &str) -> bool {
    module == wanted
        || module
            .strip_suffix(wanted)
            .is_some_and(|m| m.ends_with('.'))
}

/// A hit of a definition named at compile time: `Nx.unquote(name)/1`.
fn is_placeholder_hit(h: &pb::SearchHit) -> bool {
    let callable = h.kind.parse::<ChunkKind>().is_ok_and(|k| k.is_callable());
    let (head, _) = split_arity(&h.symbol);
    let name = (head.strip_prefix(h.module.as_str()))
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(head);
    callable && crate::chunk::is_placeholder(name)
}

/// `MyApp.Repo` for `MyApp.Repo.insert/2`.
fn module_of(symbol: &str) -> &str {
    let (head, _) = split_arity(symbol);
    head.rsplit_once('.').map_or(head, |(m, _)| m)
}

/// The hits for what `symbol` names among the functions a `use` defines or a `for` names,
/// that pass the request's filters, put before `hits` with the best hit's score; the list
/// keeps the request's limit. `found` are the hits of [`lookup_searches`]: a function a
/// `for` names is shown with the code of the chunk of the definition the `for` writes,
/// when it is among them, and that chunk is then not listed again as written
/// (`Nx.unquote(name)/1`).
pub fn add_generated_hits(
    graph: &SymbolGraph,
    symbol: &str,
    request: &SearchRequest,
    found: &[pb::SearchHit],
    hits: &mut Vec<pb::SearchHit>,
) {
    let sites = graph.definitions_as_written(symbol, |s| {
        (s.generated_by.is_some() || s.named_after.is_some()) && passes(s, request)
    });
    if sites.is_empty() {
        return;
    }
    // One head with default arguments is one hit, as a written function's arities are one
    // chunk: the highest arity stands for them.
    let mut one_per_head: Vec<SymbolSite> = Vec::new();
    for s in sites {
        match one_per_head.iter_mut().find(|o| head(o).0 == head(&s).0) {
            Some(o) if head(&s).1 > head(o).1 => *o = s,
            Some(_) => {}
            None => one_per_head.push(s),
        }
    }
    // Above the best hit, as they are put first: a script sorting by score keeps them so.
    let score = hits.first().map_or(1.0, |h| h.score * 1.001 + 0.001);
    let added: Vec<pb::SearchHit> = one_per_head
        .into_iter()
        .take(request.limit)
        .map(|s| hit(s, score, found))
        .collect();
    let limit = request.limit.max(hits.len());
    hits.retain(|h| {
        h.chunk_id.is_empty()
            || !added
                .iter()
                .any(|a| a.chunk_id == h.chunk_id && is_placeholder_hit(h))
    });
    hits.splice(0..0, added);
    hits.truncate(limit);
}

/// A site's head, and its arity: the sites of one head differ in their arity only.
type Head<'a> = (&'a str, &'a str, u32, &'a str, &'a str);

fn head(s: &SymbolSite) -> (Head<'_>, Option<u32>) {
    let (name, arity) = split_arity(&s.symbol);
    ((&s.repo, &s.path, s.start_line, name, &s.signature), arity)
}

/// The hit of a generated definition: at the using module's header (where its `use` is),
/// with the head its quote writes; or, for a function a `for` names, at the definition
/// the `for` writes, with the head naming the function and the code of that definition's
/// chunk (from `found`, when it is there).
fn hit(s: SymbolSite, score: f32, found: &[pb::SearchHit]) -> pb::SearchHit {
    let written = (s.named_after.is_some())
        .then(|| {
            found.iter().find(|h| {
                let span = h.span.unwrap_or_default();
                is_placeholder_hit(h)
                    && h.repository == s.repo
                    && h.path == s.path
                    && (span.start_line..=span.end_line).contains(&s.start_line)
            })
        })
        .flatten();
    let (snippet, snippet_start_line, chunk_id) = match written {
        Some(h) => (h.snippet.clone(), h.snippet_start_line, h.chunk_id.clone()),
        None => (String::new(), 0, String::new()),
    };
    pb::SearchHit {
        repository: s.repo,
        path: s.path,
        span: Some(pb::Span {
            start_line: s.start_line,
            end_line: s.end_line,
            start_byte: 0,
            end_byte: 0,
        }),
        module: s.module,
        symbol: s.symbol,
        kind: s.kind.as_str().to_string(),
        score,
        snippet,
        snippet_start_line,
        chunk_id,
        signature: s.signature,
        generated_by: s.generated_by.unwrap_or_default(),
        quoted_at: s.quoted_at.as_ref().map(QuotedAt::to_pb),
        uses: Vec::new(),
        named_after: s.named_after.unwrap_or_default(),
        tags: Vec::new(),
    }
}

/// Whether a site passes the request's filters, as the index applies them to chunks.
fn passes(s: &SymbolSite, request: &SearchRequest) -> bool {
    let f = &request.filters;
    let in_repo = f.repos.is_empty() || f.repos.contains(&s.repo);
    let of_kind = f.kinds.is_empty() || f.kinds.contains(&s.kind);
    let in_module = f.module.as_deref().is_none_or(|m| {
        s.module == m
            || s.module
                .strip_prefix(m)
                .is_some_and(|rest| rest.starts_with('.'))
    });
    let under_path = f.path_prefix.as_deref().is_none_or(|p| {
        let p = p.trim_start_matches("./");
        s.path.starts_with(p)
            || p.split_once('/')
                .is_some_and(|(repo, rest)| repo == s.repo && s.path.starts_with(rest))
            || (!p.contains('/') && p == s.repo)
    });
    in_repo && of_kind && in_module && under_path
}

/// `Mod.fun` or `Mod.fun/arity` when that is the whole query (quotes, a capture's `&`, a
/// trailing `/` and the `Elixir.` prefix aside).
fn named_function(query: &str) -> Option<String> {
    let tok = query
        .trim()
        .trim_matches(|c: char| matches!(c, '`' | '"' | '\''));
    let tok = tok.trim_start_matches('&');
    let tok = tok
        .strip_prefix("Elixir.")
        .filter(|rest| rest.starts_with(char::is_uppercase))
        .unwrap_or(tok);
    let tok = tok.strip_suffix('/').unwrap_or(tok);
    let (head, arity) = split_arity(tok);
    if tok.contains('/') && arity.is_none() {
        return None;
    }
    // A name alone (`transact_with`, `maybe_one/2`): written as code, not a word.
    let (module, fun) = match head.rsplit_once('.') {
        Some(split) => split,
        None if arity.is_some() || head.contains('_') || head.ends_with(['?', '!']) => ("", head),
        None => return None,
    };
    let module_ok = module.is_empty()
        || module.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_uppercase())
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
    let module_ok = module_ok && !(module.is_empty() && head.contains('.'));
    let fun_ok = fun.starts_with(|c: char| c.is_lowercase() || c == '_')
        && fun
            .trim_end_matches(['?', '!'])
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_');
    // As a key holds it: `/02` is `/2`.
    (module_ok && fun_ok).then(|| match arity {
        Some(a) => format!("{head}/{a}"),
        None => head.to_string(),
    })
}

/// `("Mod.fun", Some(2))` for `Mod.fun/2`, `("Mod.fun", None)` for `Mod.fun`.
fn split_arity(symbol: &str) -> (&str, Option<u32>) {
    match symbol.rsplit_once('/') {
        Some((head, a)) => match a.parse() {
            Ok(a) => (head, Some(a)),
            Err(_) => (symbol, None),
        },
        None => (symbol, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(symbol: &str, kind: &str) -> pb::SearchHit {
        pb::SearchHit {
            symbol: symbol.into(),
            kind: kind.into(),
            ..Default::default()
        }
    }

    fn request(query: &str, filters: crate::search::Filters) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            filters,
            limit: 10,
        }
    }

    #[test]
    fn the_lookup_searches_look_for_the_named_module_only() {
        let filters = crate::search::Filters {
            repos: vec!["shop".into()],
            path_prefix: Some("lib/".into()),
            kinds: vec![ChunkKind::Function],
            module: Some("MyApp".into()),
        };
        let search = module_search(
            "MyApp.Repo.insert/2",
            &request("MyApp.Repo.insert/2", filters),
        );
        assert_eq!(search.query, "MyApp.Repo");
        let f = search.filters.unwrap();
        // Where the function would be sited: its module's header, under the same filters.
        assert_eq!(
            (f.repositories, f.path_prefix, f.kinds, f.module),
            (
                vec!["shop".into()],
                "lib/".into(),
                vec!["module_header".into()],
                "MyApp".into()
            )
        );
        let header = |module: &str| pb::SearchHit {
            module: module.into(),
            kind: "module_header".into(),
            uses: vec!["Store".into()],
            ..Default::default()
        };
        assert!(may_define(
            "Repo.all/2",
            &[header("Shop"), header("MyApp.Repo")]
        ));
        assert!(may_define("MyApp.Repo.all", &[header("MyApp.Repo")]));
        for other in ["MyApp.RepoBase", "MyApp.MyRepo", "MyApp"] {
            assert!(!may_define("Repo.all/2", &[header(other)]), "{other}");
        }
        let mut function = header("MyApp.Repo");
        function.kind = "function".into();
        assert!(!may_define("MyApp.Repo.all", &[function]));
        // A module that uses nothing has nothing generated.
        let mut plain = header("MyApp.Repo");
        plain.uses.clear();
        assert!(!may_define("MyApp.Repo.all", &[plain.clone()]));
        // Unless it names a definition at compile time.
        let placeholder = |module: &str, symbol: &str, kind: &str| pb::SearchHit {
            module: module.into(),
            symbol: symbol.into(),
            kind: kind.into(),
            ..Default::default()
        };
        let named = placeholder("MyApp.Repo", "MyApp.Repo.unquote(name)/1", "function");
        assert!(may_define("Repo.all", &[plain, named.clone()]));
        assert!(may_define(
            "MyApp.Repo.all/2",
            &[placeholder(
                "MyApp.Repo",
                "MyApp.Repo.unquote(fun)/2",
                "macro"
            )]
        ));
        for other in [
            placeholder(
                "MyApp.RepoBase",
                "MyApp.RepoBase.unquote(name)/1",
                "function",
            ),
            placeholder("MyApp.Repo", "MyApp.Repo.unquote_all/1", "function"),
            placeholder("MyApp.Repo", "MyApp.Repo.unquote(name)/1", "type"),
            placeholder("MyApp.Repo", "MyApp.Repo.get/1", "function"),
        ] {
            assert!(
                !may_define("Repo.all", std::slice::from_ref(&other)),
                "{other:?}"
            );
        }
        // Looked for by their module and `unquote`, under the request's filters, of the
        // callable kinds it lets through.
        let filters = crate::search::Filters {
            repos: vec!["shop".into()],
            path_prefix: Some("lib/".into()),
            kinds: vec![ChunkKind::Function, ChunkKind::Test],
            module: Some("MyApp".into()),
        };
        let [headers, placeholders] =
            lookup_searches("Repo.all/2", &request("Repo.all/2", filters));
        assert_eq!(headers.query, "Repo");
        assert_eq!(placeholders.query, "Repo.unquote");
        let f = placeholders.filters.unwrap();
        assert_eq!(
            (f.repositories, f.path_prefix, f.kinds, f.module),
            (
                vec!["shop".into()],
                "lib/".into(),
                vec!["function".into()],
                "MyApp".into()
            )
        );
        let any = placeholder_search("Repo.all", &request("Repo.all", Default::default()));
        assert_eq!(
            (any.query.as_str(), any.filters.unwrap().kinds),
            (
                "Repo.unquote",
                vec![
                    "function".into(),
                    "macro".into(),
                    "guard".into(),
                    "delegate".into()
                ]
            )
        );
    }

    /// A function named without its module: the searches look for the macros and
    /// functions that mention it, and a `__using__/1` among them may define it.
    #[test]
    fn a_bare_name_is_looked_up_in_the_quotes_that_mention_it() {
        let [macros, functions] =
            lookup_searches("maybe_one/2", &request("maybe_one/2", Default::default()));
        assert_eq!(macros.query, "maybe_one");
        assert_eq!(macros.filters.unwrap().kinds, vec!["macro".to_string()]);
        assert_eq!(
            functions.filters.unwrap().kinds,
            vec!["function".to_string()]
        );
        let mut using = hit("Shop.RepoTemplate.__using__/1", "macro");
        using.snippet = "      def maybe_one(q, opts), do: transact_with(fn -> one(q) end)".into();
        assert!(may_define("maybe_one/2", std::slice::from_ref(&using)));
        assert!(may_define("transact_with", std::slice::from_ref(&using)));
        // A quote that shows only some of the name's words does not mention it.
        for other in ["maybe", "one_of/1", "with", "zzzz_transact_with"] {
            assert!(!may_define(other, std::slice::from_ref(&using)), "{other}");
        }
        let mut pow = hit("Pow.Ecto.Schema.__pow_functions__/0", "function");
        pow.snippet = "def pow_changeset(changeset, attrs) do".into();
        assert!(may_define("pow_changeset/2", &[pow]));
        for other in [
            hit("Shop.RepoTemplate.maybe_one/3", "function"),
            hit("Shop.RepoTemplate.__using__/1", "type"),
        ] {
            assert!(!may_define("maybe_one/2", &[other]));
        }
    }

    #[test]
    fn a_query_names_one_function_or_nothing() {
        for (query, named) in [
            ("MyApp.Repo.insert", Some("MyApp.Repo.insert")),
            ("  `MyApp.Repo.insert/2` ", Some("MyApp.Repo.insert/2")),
            ("&Repo.all/2", Some("Repo.all/2")),
            ("Elixir.Repo.get!/3", Some("Repo.get!/3")),
            ("Repo.exists?/", Some("Repo.exists?")),
            // The arity as a key holds it.
            ("Repo.get/02", Some("Repo.get/2")),
            ("Repo.get/+2", Some("Repo.get/2")),
            ("Repo", None),
            // A name alone, written as code (an arity, a `_`, a `?`), not a word.
            ("insert/2", Some("insert/2")),
            ("transact_with", Some("transact_with")),
            ("valid?", Some("valid?")),
            ("insert", None),
            (".insert/2", None),
            ("insert/x", None),
            ("Repo.insert foo", None),
            ("Repo.Insert", None),
            ("repo.insert", None),
            ("Repo.insert/x", None),
            ("Kernel.+/2", None),
            ("", None),
        ] {
            assert_eq!(named_function(query).as_deref(), named, "{query:?}");
        }
    }

    #[test]
    fn a_hit_of_that_name_means_the_search_found_it() {
        let found = |query: &str, hits: &[pb::SearchHit]| {
            function_to_look_up(&request(query, Default::default()), hits)
        };
        // The definition itself, or the same name under a longer module.
        assert_eq!(
            found("Shop.Repo.get/2", &[hit("Shop.Repo.get/2", "function")]),
            None
        );
        assert_eq!(
            found("Repo.get", &[hit("Shop.Repo.get/3", "delegate")]),
            None
        );
        // A header's `defstruct`, a module a test defines.
        let header = hit("Shop.Item.__struct__/0", "module_header");
        assert_eq!(found("Shop.Item.__struct__/0", &[header]), None);
        let mut test = hit("ShopTest.Fake.get/1", "test");
        test.module = "ShopTest".into();
        assert_eq!(found("Fake.get", &[test]), None);
        // A callback's type, a `describe` named after it, another arity, another module, a
        // mere suffix of a name: not it.
        let mut describe = hit("Repo.get/2", "describe");
        describe.module = "Shop.RepoTest".into();
        for other in [
            hit("Shop.Repo.get/2", "type"),
            describe,
            hit("Shop.Repo.get/2", "text"),
            hit("Shop.Repo.get/3", "function"),
            hit("Shop.Repository.get/2", "function"),
            hit("Shop.MyRepo.get/2", "function"),
        ] {
            assert_eq!(
                found("Repo.get/2", std::slice::from_ref(&other)).as_deref(),
                Some("Repo.get/2"),
                "{other:?}"
            );
        }
        assert_eq!(found("stock levels", &[]), None);
        // Kinds that let no function through.
        for (kinds, asks) in [
            (vec![ChunkKind::Test, ChunkKind::Type], false),
            (vec![ChunkKind::Test, ChunkKind::Macro], true),
        ] {
            let filters = crate::search::Filters {
                kinds,
                ..Default::default()
            };
            assert_eq!(
                function_to_look_up(&request("Repo.get/2", filters), &[]).is_some(),
                asks
            );
        }
    }
}
