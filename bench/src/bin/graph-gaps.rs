//! Call edges that reach no definition in a project's own modules: for each project
//! directory, the symbol graph of its `.ex` and `.exs` files, then every edge from one of
//! its definitions to `Mod.fun/arity` (each caller and callee counted once, however often
//! the caller calls it) where the project defines the module `Mod` but no `fun/arity` in
//! it. Such an edge is a definition the graph misses (a macro or library that defines
//! functions without writing them out) or a call the chunker resolved wrongly; a few are
//! real errors of the project, or code for another version. Prints the share of edges
//! into the project's modules that reach a definition, and the callees most often missed
//! (by how many callers), with a caller of each.
//!
//! Also prints, for some library modules (`--users-of`), how many places call their
//! functions: imported calls count once the library is known or indexed.
//!
//! `cargo run --release -p aiex-bench --bin graph-gaps -- DIR... [--top N] [--json] [--users-of M,...]`

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use aiex_bench::{chunk_all, load_elixir_files};
use aiex_node::chunk::ChunkKind;
use aiex_node::graph::SymbolGraph;
use anyhow::{Result, bail};
use clap::Parser;
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// Project directories, each its own graph.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Callees listed per project, most missed first.
    #[arg(long, default_value_t = 15)]
    top: usize,
    /// One JSON object per project, one per line, instead of the report.
    #[arg(long)]
    json: bool,
    /// Library modules whose users are counted: the project's definitions, tests and
    /// scripts that call one of their functions (through an import too).
    #[arg(long, value_delimiter = ',', default_values_t = LIBRARY_MODULES.iter().map(|m| m.to_string()))]
    users_of: Vec<String>,
}

/// Modules applications import (or `use`, which imports them) most.
const LIBRARY_MODULES: &[&str] = &[
    "Ecto.Changeset",
    "Ecto.Query",
    "Ecto.Migration",
    "Plug.Conn",
    "Phoenix.Controller",
    "Phoenix.ConnTest",
    "Phoenix.LiveView",
    "Phoenix.Component",
    "Phoenix.LiveViewTest",
    "Swoosh.Email",
];

/// The module of `Mod.fun/arity`: its leading segments that start with a capital
/// (`Kernel.../2` gives `Kernel`); `None` for an Erlang module or a bare name.
fn module_of(symbol: &str) -> Option<&str> {
    let head = symbol.rsplit_once('/').map_or(symbol, |(h, _)| h);
    let mut end = 0;
    for (i, segment) in head.split('.').enumerate() {
        if !segment.starts_with(|c: char| c.is_ascii_uppercase()) {
            break;
        }
        end = if i == 0 {
            segment.len()
        } else {
            end + 1 + segment.len()
        };
    }
    (end > 0 && end < head.len()).then(|| &head[..end])
}

struct Gaps {
    project: String,
    files: usize,
    /// Call edges from the project's definitions into modules it defines.
    into_own: usize,
    /// Those that reach no definition, by callee: how many callers, and one.
    missed: BTreeMap<String, (usize, String)>,
    /// For each library module asked about, how many places call its functions.
    users: Vec<(String, usize)>,
}

fn gaps(dir: &Path, libraries: &[String]) -> Result<Gaps> {
    let files = load_elixir_files(dir)?;
    if files.is_empty() {
        bail!("{}: no Elixir files", dir.display());
    }
    let chunks = chunk_all(&files);
    let graph = SymbolGraph::build(&chunks);
    let callers: BTreeSet<&str> = (graph.all_definitions())
        .filter(|s| s.kind.is_callable())
        .map(|s| s.symbol.as_str())
        .collect();
    let mut into_own = 0;
    let mut missed: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for caller in callers {
        for callee in graph.callees(caller) {
            let Some(module) = module_of(&callee) else {
                continue;
            };
            // Defined by the project itself: not a module it only nests others under
            // (`Mix` for `Mix.Tasks.Deploy`, `String.Chars` for an implementation).
            let own = (graph.definitions(module).iter())
                .any(|s| s.symbol == module && s.kind == ChunkKind::ModuleHeader);
            if !own {
                continue;
            }
            into_own += 1;
            if !graph.is_defined(&callee) {
                let entry = missed.entry(callee).or_insert((0, caller.to_string()));
                entry.0 += 1;
            }
        }
    }
    let users = (libraries.iter())
        .map(|m| (m.clone(), graph.module_callers(m).len()))
        .collect();
    Ok(Gaps {
        project: dir.display().to_string(),
        files: files.len(),
        into_own,
        missed,
        users,
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    for dir in &args.dirs {
        let g = gaps(dir, &args.users_of)?;
        let missed: usize = g.missed.values().map(|(n, _)| n).sum();
        let mut top: Vec<(&String, &(usize, String))> = g.missed.iter().collect();
        top.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        top.truncate(args.top);
        let reached = g.into_own - missed;
        let share = if g.into_own == 0 {
            1.0
        } else {
            reached as f64 / g.into_own as f64
        };
        if args.json {
            let top: Vec<_> = (top.iter())
                .map(
                    |(callee, (n, caller))| json!({"callee": callee, "callers": n, "caller": caller}),
                )
                .collect();
            println!(
                "{}",
                json!({
                    "project": g.project,
                    "files": g.files,
                    "edges_into_own_modules": g.into_own,
                    "reaching_a_definition": reached,
                    "share": share,
                    "missed_callees": g.missed.len(),
                    "top": top,
                    "library_users": g.users.iter().cloned().collect::<BTreeMap<_, _>>(),
                })
            );
            continue;
        }
        println!(
            "{}: {} files; {} of {} call edges into its own modules reach a definition \
             ({:.2}%); {} callees missed",
            g.project,
            g.files,
            reached,
            g.into_own,
            100.0 * share,
            g.missed.len()
        );
        for (callee, (n, caller)) in top {
            println!("  {n:>5}  {callee}    (from {caller})");
        }
        let users: Vec<String> = (g.users.iter())
            .filter(|(_, n)| *n > 0)
            .map(|(m, n)| format!("{m} {n}"))
            .collect();
        if !users.is_empty() {
            println!("  places calling library modules: {}", users.join(", "));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::module_of;

    #[test]
    fn the_module_is_the_capitalised_segments() {
        assert_eq!(module_of("MyApp.Repo.all/2"), Some("MyApp.Repo"));
        assert_eq!(module_of("Kernel.../2"), Some("Kernel"));
        assert_eq!(module_of("Kernel.<>/2"), Some("Kernel"));
        assert_eq!(module_of(":ets.lookup/2"), None);
        assert_eq!(module_of("helper/1"), None);
        assert_eq!(module_of("MyApp"), None);
    }
}
