//! `aiex`: the one binary. This version runs the core locally on a data directory
//! (`aiex index`, `aiex search`, `aiex symbols`, `aiex chunk`); the gateway roles and the
//! remote client commands build on the same verbs.

mod output;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aiex_node::chunk::{ChunkKind, ChunkerConfig, FileChunks, chunk_file};
use aiex_node::ingest::{IngestOptions, IngestProgress, PartitionSet};
use aiex_node::search::{Filters, SearchRequest};
use anyhow::{Context, Result, bail};
use clap::{CommandFactory, Parser, Subcommand};

/// Aiex: an AI coding assistant for Elixir codebases.
#[derive(Debug, Parser)]
#[command(name = "aiex", version, about, propagate_version = true)]
struct Cli {
    /// Where indexes live [default: $XDG_DATA_HOME/aiex or ~/.local/share/aiex].
    #[arg(long, global = true, env = "AIEX_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Partitions of a new data directory (fixed once created).
    #[arg(long, global = true, env = "AIEX_PARTITIONS", default_value_t = aiex_proto::partition::DEFAULT_EMBEDDED_PARTITIONS)]
    partitions: u32,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Index a directory as a repository (incremental: unchanged files cost a hash).
    Index {
        /// The directory to index (honours .gitignore).
        path: PathBuf,
        /// Repository name [default: the directory's name].
        #[arg(long)]
        name: Option<String>,
        /// Worker threads [default: one per core].
        #[arg(long)]
        threads: Option<usize>,
        /// Chunk size budget, in non-whitespace characters.
        #[arg(long, default_value_t = ChunkerConfig::default().budget)]
        budget: usize,
        /// Files larger than this many bytes are skipped.
        #[arg(long, default_value_t = ChunkerConfig::default().max_file_bytes)]
        max_file_bytes: u64,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search indexed repositories.
    Search {
        query: String,
        /// Only this repository (repeatable).
        #[arg(long)]
        repo: Vec<String>,
        /// Only this kind: module_header, function, macro, guard, delegate, type, test, describe, setup, text (repeatable).
        #[arg(long)]
        kind: Vec<ChunkKind>,
        /// Only this module and its nested modules.
        #[arg(long)]
        module: Option<String>,
        /// Only paths starting with this prefix.
        #[arg(long)]
        path: Option<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Symbol look-ups: definitions, callers, callees and the ranked repository map.
    Symbols {
        #[command(subcommand)]
        command: SymbolsCommand,
    },
    /// Show how Aiex chunks one file (works without any index).
    Chunk {
        file: PathBuf,
        #[arg(long, default_value_t = ChunkerConfig::default().budget)]
        budget: usize,
        #[arg(long)]
        json: bool,
    },
    /// Repositories in the data directory.
    Repo {
        #[command(subcommand)]
        command: RepoCommand,
    },
    /// Print the version.
    Version,
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Subcommand)]
enum SymbolsCommand {
    /// Where `Mod.fun/arity` (or `Mod.fun`, or a module) is defined.
    Def {
        symbol: String,
        #[arg(long)]
        json: bool,
    },
    /// Who calls `Mod.fun/arity`.
    Callers {
        symbol: String,
        #[arg(long)]
        json: bool,
    },
    /// What `Mod.fun/arity` calls.
    Callees {
        symbol: String,
        #[arg(long)]
        json: bool,
    },
    /// The PageRank-ranked repository map, within a token budget.
    Map {
        #[arg(long, default_value_t = 1024)]
        tokens: usize,
        /// Centre the ranking on these symbols (repeatable).
        #[arg(long)]
        focus: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum RepoCommand {
    /// List indexed repositories.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a repository's chunks from the index.
    Rm { name: String },
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    aiex_node::alloc::route_parser_allocations();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("aiex");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/aiex"),
        None => PathBuf::from(".aiex"),
    }
}

fn open(cli_dir: &Option<PathBuf>, partitions: u32) -> Result<PartitionSet> {
    let dir = cli_dir.clone().unwrap_or_else(default_data_dir);
    PartitionSet::open(&dir.join("index"), partitions)
        .with_context(|| format!("opening the index in {}", dir.display()))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Version => {
            println!("aiex {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "aiex", &mut std::io::stdout());
            Ok(())
        }
        Command::Chunk { file, budget, json } => chunk_command(&file, budget, json),
        Command::Index {
            path,
            name,
            threads,
            budget,
            max_file_bytes,
            json,
        } => {
            let set = open(&cli.data_dir, cli.partitions)?;
            let name = match name {
                Some(n) => n,
                None => repo_name_of(&path)?,
            };
            let mut options = IngestOptions {
                chunker: ChunkerConfig {
                    budget,
                    max_file_bytes,
                    ..ChunkerConfig::default()
                },
                ..IngestOptions::default()
            };
            if let Some(t) = threads {
                options.threads = t;
            }
            index_command(&set, &name, &path, &options, json)
        }
        Command::Search {
            query,
            repo,
            kind,
            module,
            path,
            limit,
            json,
        } => {
            let set = open(&cli.data_dir, cli.partitions)?;
            if set.repos().is_empty() {
                bail!("nothing is indexed yet: run `aiex index PATH` first");
            }
            let request = SearchRequest {
                query,
                filters: Filters {
                    repos: repo,
                    path_prefix: path,
                    kinds: kind,
                    module,
                },
                limit,
            };
            let started = Instant::now();
            let hits = set.search(&request)?;
            output::search_results(&request, &hits, started.elapsed(), json)
        }
        Command::Symbols { command } => {
            let set = open(&cli.data_dir, cli.partitions)?;
            let graph = set.graph()?;
            output::symbols(&graph, command)
        }
        Command::Repo { command } => {
            let set = open(&cli.data_dir, cli.partitions)?;
            match command {
                RepoCommand::List { json } => output::repo_list(&set.repos(), json),
                RepoCommand::Rm { name } => {
                    let removed = set.remove_repo(&name)?;
                    if removed == 0 {
                        bail!("repository `{name}` is not indexed (see `aiex repo list`)");
                    }
                    println!("removed {name}: {removed} files");
                    Ok(())
                }
            }
        }
    }
}

fn repo_name_of(path: &Path) -> Result<String> {
    let canonical = path
        .canonicalize()
        .with_context(|| format!("cannot open {}", path.display()))?;
    let name: String = canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(name.trim_start_matches('.').to_string())
}

fn chunk_command(file: &Path, budget: usize, json: bool) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let config = ChunkerConfig {
        budget,
        max_file_bytes: u64::MAX,
        ..ChunkerConfig::default()
    };
    let path = file.to_string_lossy();
    match chunk_file("local", &path, &bytes, &config) {
        FileChunks::Chunked(chunks) => output::chunks(&chunks, json),
        FileChunks::Skipped(reason) => bail!("{} was not chunked: {reason}", file.display()),
    }
}

fn index_command(
    set: &PartitionSet,
    name: &str,
    path: &Path,
    options: &IngestOptions,
    json: bool,
) -> Result<()> {
    let progress = Arc::new(IngestProgress::default());
    let bar = (!json).then(|| output::progress_bar(progress.clone()));
    let started = Instant::now();
    let stats = std::thread::scope(|s| {
        let ticker = bar.as_ref().map(|bar| {
            let progress = progress.clone();
            s.spawn(move || {
                while !bar.is_finished() {
                    output::tick(bar, &progress, started);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        });
        let result = set.ingest_dir(name, path, options, Some(&progress));
        if let Some(bar) = &bar {
            output::tick(bar, &progress, started);
            bar.finish_and_clear();
        }
        if let Some(t) = ticker {
            let _ = t.join();
        }
        result
    })?;
    output::ingest_summary(name, &stats, started.elapsed(), set, json)
}
