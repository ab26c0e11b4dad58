//! `aiex`: the one binary. `aiex up` runs the embedded mode (gateway and node in one
//! process); the verb-noun client commands talk to a gateway over gRPC; `aiex chunk` and
//! `aiex index` work on local files with no server at all.

mod assist;
mod client;
mod config;
mod observe;
mod output;
mod roles;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aiex_node::chunk::{ChunkKind, ChunkerConfig, FileChunks, chunk_file};
use aiex_node::ingest::{IngestOptions, IngestProgress, PartitionSet};
use aiex_node::search::generated;
use anyhow::{Context, Result, anyhow, bail};
use clap::{CommandFactory, Parser, Subcommand};

/// Aiex: an AI coding assistant for Elixir codebases.
///
/// Start the embedded server with `aiex up`, then `aiex repo add PATH` and `aiex search
/// QUERY` in another terminal. Settings come from flags, then AIEX_* environment
/// variables, then the config file, then defaults.
#[derive(Debug, Parser)]
#[command(name = "aiex", version, about, propagate_version = true)]
struct Cli {
    /// Config file [default: $XDG_CONFIG_HOME/aiex/config.toml or ~/.config/aiex/config.toml].
    #[arg(long, global = true, env = "AIEX_CONFIG")]
    config: Option<PathBuf>,
    /// The gateway client commands talk to [default: http://127.0.0.1:7787].
    #[arg(long, global = true, env = "AIEX_ADDR")]
    addr: Option<String>,
    /// Where `aiex up` and `aiex index` keep data [default: $XDG_DATA_HOME/aiex or ~/.local/share/aiex].
    #[arg(long, global = true, env = "AIEX_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Partitions of a new data directory (fixed once created) [default: 4].
    #[arg(long, global = true, env = "AIEX_PARTITIONS")]
    partitions: Option<u32>,
    /// Sentence-embedding model directory for natural-language search (`aiex up`, `aiex
    /// node`, `aiex index`; and `search`, `context` with --offline, which embed the
    /// question) [default: off; scripts/fetch-embed-model.sh unpacks one].
    #[arg(long, global = true, env = "AIEX_EMBED_MODEL", value_name = "DIR")]
    embed_model: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the embedded mode: gateway and node in one process, data under the data directory.
    Up {
        /// Address to listen on [default: 127.0.0.1:7787; port 0 picks a free one].
        #[arg(long, env = "AIEX_LISTEN")]
        listen: Option<String>,
        /// A directory the server may index by path (repeatable; AddPath is refused outside them).
        #[arg(long = "allow-root", value_name = "DIR")]
        allow_roots: Vec<PathBuf>,
        /// Indexing (parsing) threads [default: one per core]. With fewer than the cores,
        /// writer threads on the spare cores (one per three) make the parsed files' chunks.
        #[arg(long, env = "AIEX_INDEX_THREADS", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
        index_threads: Option<usize>,
        /// Write the bound address to this file once listening (for scripts and tests).
        #[arg(long, value_name = "FILE")]
        addr_file: Option<PathBuf>,
        /// Serve /metrics, /health/livez and /health/readyz over HTTP here [default: off].
        #[arg(long, env = "AIEX_METRICS_LISTEN", value_name = "IP:PORT")]
        metrics_listen: Option<std::net::SocketAddr>,
    },
    /// Run a cluster node: holds the partitions placed on it, indexes them from NATS, serves searches to gateways.
    Node(roles::NodeArgs),
    /// Run a cluster gateway: the public gRPC API over the nodes found by gossip.
    Gateway(roles::GatewayArgs),
    /// Repositories: add, list, status, rm, reindex.
    Repo {
        #[command(subcommand)]
        command: RepoCommand,
        /// List or remove the repositories `aiex index` built in the data directory instead
        /// of asking a gateway (`list` and `rm` only).
        #[arg(long, global = true)]
        offline: bool,
    },
    /// Search indexed repositories.
    Search {
        /// An identifier (`GenServer.call`, `handle_info/2`) or a question in plain words.
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
        /// Only paths starting with this prefix (`lib/x`, or `repo/lib/x` as hits show it);
        /// with --offline also a directory: absolute, or `./x`, `../x` from here.
        #[arg(long)]
        path: Option<String>,
        /// Results to return (1-1000).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Print the hits as JSON.
        #[arg(long)]
        json: bool,
        /// Read the index `aiex index` built in the data directory instead of asking a gateway.
        #[arg(long)]
        offline: bool,
    },
    /// Symbol look-ups: definitions, callers, callees and the ranked repository map.
    Symbols {
        #[command(subcommand)]
        command: SymbolsCommand,
        /// Read the index `aiex index` built in the data directory instead of asking a gateway.
        #[arg(long, global = true)]
        offline: bool,
    },
    /// Show the prompt context a question would get, fitted to a model's token budget, without calling any model.
    ///
    /// The prompt goes to stdout exactly as it would be sent; its token count goes to stderr.
    Context {
        /// The question [optional when --target is given].
        #[arg(default_value = "")]
        question: String,
        /// What the question is about: a file path, `path:START-END`, `Module`, `Module.fun` or `Module.fun/arity`.
        #[arg(long)]
        target: Option<String>,
        /// Count tokens as this model does (gpt-4o, gpt-4, claude-..., gemini-..., llama3.1, ...).
        #[arg(long, default_value = aiex_node::context::tokens::DEFAULT_MODEL)]
        model: String,
        /// Tokens the prompt may take, at least 64 [default: the model's window minus its
        /// output reserve].
        #[arg(long, value_parser = clap::value_parser!(u32).range(aiex_node::context::MIN_BUDGET as i64..))]
        budget: Option<u32>,
        /// Only this repository (repeatable).
        #[arg(long)]
        repo: Vec<String>,
        #[arg(long)]
        json: bool,
        /// Read the index `aiex index` built in the data directory instead of asking a gateway.
        #[arg(long)]
        offline: bool,
    },
    /// Explain a module, `Mod.fun/arity`, a file or `path:START-END`, streaming the answer.
    Explain {
        target: String,
        #[arg(long, value_enum, default_value = "intermediate")]
        detail: assist::Detail,
        #[arg(long, value_enum)]
        focus: Option<assist::Focus>,
        /// Only context from this repository (repeatable).
        #[arg(long)]
        repo: Vec<String>,
    },
    /// Complete the code at the end of FILE:LINE (the text around it is read from the local file).
    Complete {
        #[arg(value_name = "FILE:LINE")]
        at: String,
    },
    /// Generate a module or tests; the Elixir is checked with tree-sitter (repaired once if needed).
    Gen {
        #[command(subcommand)]
        command: assist::GenCommand,
    },
    /// Chat about the indexed code: one message per stdin line; sessions persist (`--session ID` resumes).
    Chat {
        #[arg(long, value_name = "ID")]
        session: Option<String>,
        /// Only context from this repository (repeatable).
        #[arg(long)]
        repo: Vec<String>,
    },
    /// Show how Aiex chunks one file (works without any server or index).
    Chunk {
        file: PathBuf,
        /// Chunk size budget, in non-whitespace characters.
        #[arg(long, default_value_t = ChunkerConfig::default().budget, value_parser = chunk_budget)]
        budget: usize,
        /// Larger files are refused, as `aiex index` skips them.
        #[arg(long, default_value_t = ChunkerConfig::default().max_file_bytes)]
        max_file_bytes: u64,
        #[arg(long)]
        json: bool,
    },
    /// The cluster as the gateway sees it.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// Index a directory straight into the data directory, with no server (offline mode).
    Index {
        /// The directory to index (honours .gitignore).
        path: PathBuf,
        /// Repository name [default: the directory's name].
        #[arg(long)]
        name: Option<String>,
        /// Parsing worker threads [default: one per core]. With fewer than the cores,
        /// writer threads on the spare cores (one per three workers) make their chunks.
        #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
        threads: Option<usize>,
        /// Chunk size budget, in non-whitespace characters.
        #[arg(long, default_value_t = ChunkerConfig::default().budget, value_parser = chunk_budget)]
        budget: usize,
        /// Files larger than this many bytes are skipped.
        #[arg(long, default_value_t = ChunkerConfig::default().max_file_bytes)]
        max_file_bytes: u64,
        /// Index this directory in place of another one already indexed under the same
        /// name (without it, that is refused: it would delete the other one's files).
        #[arg(long)]
        replace: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the version.
    Version,
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// Upload a directory to the gateway as a repository (honours .gitignore; unchanged files are not re-indexed).
    Add {
        path: PathBuf,
        /// Repository name [default: the directory's name].
        #[arg(long)]
        name: Option<String>,
        /// Files larger than this many bytes are skipped (the gateway enforces its own limit
        /// too; a file over its message limit, `[limits] max_request_bytes` in the config
        /// file, is skipped with a warning).
        #[arg(long, default_value_t = ChunkerConfig::default().max_file_bytes)]
        max_file_bytes: u64,
        /// Return once uploaded, without waiting for indexing to finish.
        #[arg(long)]
        no_wait: bool,
        /// Ask the server to read PATH itself (embedded mode, inside its --allow-root directories).
        #[arg(long)]
        server_path: bool,
        /// Index this directory in place of another one the repository was added from
        /// (without it, that is refused: it would delete the other one's files).
        #[arg(long)]
        replace: bool,
        #[arg(long)]
        json: bool,
    },
    /// List repositories.
    List {
        #[arg(long)]
        json: bool,
    },
    /// A repository's indexing status.
    Status {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a repository: its chunks disappear from search.
    Rm {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Chunk and index a repository's files again, as last uploaded (after an upgrade,
    /// say); `repo add` picks up changes on disk.
    Reindex {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SymbolsCommand {
    /// Where `Mod.fun/arity` (or `Mod.fun`, or a module) is defined.
    Def {
        symbol: String,
        /// Only this repository's (repeatable; all when absent).
        #[arg(long = "repo")]
        repos: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Who calls `Mod.fun/arity` (or `Mod.fun`, any arity); for a module `Mod`, who calls
    /// its functions from outside it.
    Callers {
        symbol: String,
        /// Only this repository's (repeatable; all when absent).
        #[arg(long = "repo")]
        repos: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// What `Mod.fun/arity` calls (for a module `Mod`: what its module-level code calls,
    /// such as its `use`s, plugs and routes).
    Callees {
        symbol: String,
        /// Its definition in this repository, and each callee's there where it has one
        /// (repeatable; all when absent).
        #[arg(long = "repo")]
        repos: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// What implements a behaviour or protocol (`Mod`: the modules that declare
    /// `@behaviour Mod`, `use Mod` or `defimpl Mod`), or one of its callbacks
    /// (`Mod.fun/arity`: their functions of that name and arity).
    Impls {
        symbol: String,
        /// Only this repository's (repeatable; all when absent).
        #[arg(long = "repo")]
        repos: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// The PageRank-ranked repository map, within a token budget.
    Map {
        #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        tokens: u32,
        /// Centre the ranking on these symbols (repeatable).
        #[arg(long)]
        focus: Vec<String>,
        /// Only this repository's definitions (repeatable; all when absent).
        #[arg(long = "repo")]
        repos: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Members, readiness and partition placement.
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `aiex search ... | head` ends quietly, as command-line tools do, instead of
    // failing on a closed pipe. The long-running roles keep Rust's default (SIGPIPE
    // ignored, a write to a closed pipe or socket is an error): a server must never die
    // of a peer that went away.
    #[cfg(unix)]
    if !matches!(
        cli.command,
        Command::Up { .. } | Command::Node(_) | Command::Gateway(_)
    ) {
        // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    aiex_node::alloc::init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_report(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, `what failed: why`. A cause whose text the
/// line already ends with is left out: many errors print their source at the end of their
/// own message (`/x: No such file or directory`) and also return it as their cause, which
/// `{:#}` would print twice.
fn error_report(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.is_empty() {
            line = text;
        } else if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

/// Settings after flags, environment and config file are merged.
pub struct Settings {
    pub addr: String,
    pub data_dir: PathBuf,
    pub partitions: u32,
    /// `--partitions` or the config file's, when given (the roles default differently).
    pub partitions_flag: Option<u32>,
    /// `--partitions` alone: what overrides the count an offline index was created with.
    pub partitions_cli: Option<u32>,
    /// The embedding model directory, when embeddings are on.
    pub embed_model: Option<PathBuf>,
    pub file: config::FileConfig,
}

fn settings(cli: &Cli) -> Result<Settings> {
    let file = config::load(cli.config.as_deref())?;
    let addr = cli
        .addr
        .clone()
        .or_else(|| file.addr.clone())
        .unwrap_or_else(|| format!("http://127.0.0.1:{}", aiex_gateway::config::DEFAULT_PORT));
    Ok(Settings {
        addr,
        data_dir: cli
            .data_dir
            .clone()
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(config::default_data_dir),
        partitions: cli
            .partitions
            .or(file.partitions)
            .unwrap_or(aiex_proto::partition::DEFAULT_EMBEDDED_PARTITIONS),
        partitions_flag: cli.partitions.or(file.partitions),
        partitions_cli: cli.partitions,
        embed_model: cli
            .embed_model
            .clone()
            .or_else(|| file.embed_model.clone())
            .filter(|d| !d.as_os_str().is_empty()),
        file,
    })
}

/// Runs a server role with logs on stderr (`RUST_LOG` filters, default: info for Aiex,
/// warn for the rest; `AIEX_LOG_FORMAT=json` for JSON lines) and, when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set, traces exported over OTLP as `service`; the
/// exporter is flushed when the role stops.
fn serve_role<F: std::future::Future<Output = Result<()>>>(service: &str, role: F) -> Result<()> {
    let telemetry =
        aiex_node::telemetry::init(service, "warn,aiex=info,aiex_node=info,aiex_gateway=info");
    let result = runtime()?.block_on(role);
    telemetry.shutdown();
    result
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(block_sigpipe_on_this_thread)
        .build()
        .context("starting the async runtime")
}

/// The client commands let SIGPIPE end the process (see `main`), for stdout. The
/// runtime's threads write to the gateway's socket, with `writev`, which raises SIGPIPE
/// when the gateway has closed the connection: blocked on those threads, the signal
/// stays pending and the write fails with EPIPE, which is reported ("the connection to
/// the gateway failed") instead of the command dying without a word.
fn block_sigpipe_on_this_thread() {
    #[cfg(unix)]
    // SAFETY: changes only the calling thread's signal mask, with a set built here.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

fn run(cli: Cli) -> Result<()> {
    let settings = settings(&cli)?;
    match cli.command {
        Command::Version => {
            println!("aiex {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "aiex", &mut std::io::stdout());
            Ok(())
        }
        Command::Chunk {
            file,
            budget,
            max_file_bytes,
            json,
        } => chunk_command(&file, budget, max_file_bytes, json),
        Command::Up {
            listen,
            allow_roots,
            index_threads,
            addr_file,
            metrics_listen,
        } => serve_role(
            "aiex",
            client::up(
                &settings,
                listen,
                allow_roots,
                index_threads,
                addr_file,
                metrics_listen,
            ),
        ),
        Command::Node(args) => serve_role("aiex-node", roles::node(&settings, args)),
        Command::Gateway(args) => serve_role("aiex-gateway", roles::gateway(&settings, args)),
        Command::Repo {
            command,
            offline: true,
        } => offline_repo(&settings, command),
        Command::Repo { command, .. } => runtime()?.block_on(client::repo(&settings, command)),
        Command::Explain {
            target,
            detail,
            focus,
            repo,
        } => runtime()?.block_on(assist::explain(&settings, target, detail, focus, repo)),
        Command::Complete { at } => runtime()?.block_on(assist::complete(&settings, at)),
        Command::Gen { command } => runtime()?.block_on(assist::generate(&settings, command)),
        Command::Chat { session, repo } => {
            runtime()?.block_on(assist::chat(&settings, session, repo))
        }
        Command::Cluster { command } => runtime()?.block_on(client::cluster(&settings, command)),
        Command::Search {
            query,
            repo,
            kind,
            module,
            path,
            limit,
            json,
            offline,
        } => {
            let request = aiex_proto::v1::SearchRequest {
                query,
                filters: Some(aiex_proto::v1::SearchFilters {
                    repositories: repo,
                    path_prefix: path.unwrap_or_default(),
                    kinds: kind.iter().map(|k| k.as_str().to_string()).collect(),
                    module: module.unwrap_or_default(),
                }),
                limit,
            };
            if offline {
                offline_search(&settings, request, json)
            } else {
                runtime()?.block_on(client::search(&settings, request, json))
            }
        }
        Command::Context {
            question,
            target,
            model,
            budget,
            repo,
            json,
            offline,
        } => {
            if !aiex_node::context::TokenCounter::is_known(&model) {
                // `gpt4o`, `gpt4.1`: the family written without its hyphen.
                let hyphened = (model.to_ascii_lowercase().strip_prefix("gpt"))
                    .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
                    .map(|rest| format!("gpt-{rest}"))
                    .filter(|m| aiex_node::context::TokenCounter::is_known(m));
                let meant = hyphened.map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
                eprintln!(
                    "warning: unknown model `{model}`{meant}: tokens are estimated (characters \
                     / 3.5) in an 8,192-token window; name a known family (gpt-4o, claude-..., \
                     gemini-..., llama3.1, ...) or give --budget"
                );
            }
            let request = aiex_proto::v1::ContextRequest {
                question,
                target: target.unwrap_or_default(),
                model,
                token_budget: budget.unwrap_or(0),
                repositories: repo,
            };
            if offline {
                offline_context(&settings, &request, json)
            } else {
                runtime()?.block_on(client::context(&settings, request, json))
            }
        }
        Command::Symbols {
            mut command,
            offline,
        } => {
            if let SymbolsCommand::Def { symbol, .. }
            | SymbolsCommand::Callers { symbol, .. }
            | SymbolsCommand::Callees { symbol, .. }
            | SymbolsCommand::Impls { symbol, .. } = &mut command
            {
                *symbol = as_pasted(symbol).to_string();
            }
            if offline {
                let set = open_indexed(&settings)?;
                let (SymbolsCommand::Map { repos, .. }
                | SymbolsCommand::Def { repos, .. }
                | SymbolsCommand::Callers { repos, .. }
                | SymbolsCommand::Callees { repos, .. }
                | SymbolsCommand::Impls { repos, .. }) = &command;
                require_repos(&settings, &set, repos)?;
                output::symbols_offline(set.graph()?.as_ref(), &set, command)
            } else {
                runtime()?.block_on(client::symbols(&settings, command))
            }
        }
        Command::Index {
            path,
            name,
            threads,
            budget,
            max_file_bytes,
            replace,
            json,
        } => {
            // The count the index was created with, unless --partitions says otherwise.
            let existing = existing_partitions(&settings.data_dir.join("index"))?;
            let partitions = settings
                .partitions_cli
                .or(existing)
                .unwrap_or(settings.partitions);
            not_the_root(&path)?;
            let set = open_offline(&settings, partitions)?;
            let name = match name {
                Some(n) => n,
                None => repo_name_of(&path)?,
            };
            let sources = Sources::at(&settings.data_dir.join("index"));
            let source = sources.check(&set, &name, &path, replace)?;
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
            // Recorded first: an index stopped half-way holds this directory's files, and
            // another directory under the name must still be refused.
            sources.record(&name, &source)?;
            index_command(&set, &name, &path, &options, json)
        }
    }
}

/// `aiex repo list|rm --offline`: the repositories of the offline index, or one removed
/// from it (its chunks and the directory it was indexed from).
fn offline_repo(settings: &Settings, command: RepoCommand) -> Result<()> {
    match command {
        RepoCommand::List { json } => {
            let set = open_indexed(settings)?;
            let repos: Vec<_> = (set.repos().into_iter()).filter(|r| r.files > 0).collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&repos)?);
            } else {
                let sources = Sources::at(&settings.data_dir.join("index")).read()?;
                for r in &repos {
                    let from = (sources.get(&r.repo))
                        .map(|p| format!("  from {}", p.display()))
                        .unwrap_or_default();
                    println!(
                        "{}  {} files, {} chunks{from}",
                        output::shown(&r.repo),
                        r.files,
                        r.chunks
                    );
                }
            }
            Ok(())
        }
        RepoCommand::Rm { name, json } => {
            let set = open_indexed(settings)?;
            if !set.repos().iter().any(|r| r.repo == name) {
                let known: Vec<String> = set.repos().into_iter().map(|r| r.repo).collect();
                bail!(
                    "no repository `{name}` in the offline index (it holds: {})",
                    known.join(", ")
                );
            }
            let files = set.remove_repo(&name)?;
            Sources::at(&settings.data_dir.join("index")).forget(&name)?;
            if json {
                println!("{}", serde_json::json!({ "removed": name, "files": files }));
            } else {
                println!("removed {} ({files} files)", output::shown(&name));
            }
            Ok(())
        }
        _ => bail!(
            "only `repo list` and `repo rm` work offline; index a directory offline with \
             `aiex index PATH --name NAME`"
        ),
    }
}

/// Which directory each offline repository was indexed from (`<data>/index/sources.json`),
/// so that indexing another directory with the same name (two checkouts both called
/// `app`) is refused instead of silently replacing the first one's files.
struct Sources {
    file: PathBuf,
}

impl Sources {
    fn at(index_dir: &Path) -> Sources {
        Sources {
            file: index_dir.join("sources.json"),
        }
    }

    fn read(&self) -> Result<std::collections::BTreeMap<String, PathBuf>> {
        match std::fs::read(&self.file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a valid sources file", self.file.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", self.file.display())),
        }
    }

    /// The canonical directory to record for `name`; fails when `name` holds another
    /// directory's files and `replace` was not given.
    fn check(&self, set: &PartitionSet, name: &str, path: &Path, replace: bool) -> Result<PathBuf> {
        let source = path
            .canonicalize()
            .with_context(|| format!("cannot index {}", path.display()))?;
        let known = self.read()?;
        // A directory that is gone (a moved checkout) is not one to protect.
        if let Some(before) = known.get(name)
            && *before != source
            && before.exists()
            && !replace
            && set.repos().iter().any(|r| r.repo == name && r.files > 0)
        {
            bail!(
                "repository `{name}` was indexed from {}; indexing {} under the same name \
                 would delete that one's files from the index. Give this one another name \
                 (--name NAME), or pass --replace to index it in place of the other",
                before.display(),
                source.display()
            );
        }
        Ok(source)
    }

    fn record(&self, name: &str, source: &Path) -> Result<()> {
        let mut known = self.read()?;
        known.insert(name.to_string(), source.to_path_buf());
        self.write(&known)
    }

    /// Forgets where `name` was indexed from (it was removed).
    fn forget(&self, name: &str) -> Result<()> {
        let mut known = self.read()?;
        if known.remove(name).is_some() {
            self.write(&known)?;
        }
        Ok(())
    }

    fn write(&self, known: &std::collections::BTreeMap<String, PathBuf>) -> Result<()> {
        let tmp = self
            .file
            .with_extension(format!("json.{}.tmp", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec_pretty(known)?)
            .and_then(|()| std::fs::rename(&tmp, &self.file))
            .with_context(|| format!("cannot write {}", self.file.display()))
    }
}

/// The offline index (`aiex index`), under `<data dir>/index`.
/// With an embedding model configured, its searches are fused with embedding similarity.
fn open_offline(settings: &Settings, partitions: u32) -> Result<PartitionSet> {
    let dir = settings.data_dir.join("index");
    let set = PartitionSet::open(&dir, partitions)
        .with_context(|| format!("opening the offline index in {}", dir.display()))?;
    if let Some(model) = &settings.embed_model {
        set.set_encoder(Arc::new(aiex_node::embed::Encoder::load(model)?))?;
    }
    Ok(set)
}

/// The partition count the offline index in `dir` was created with, if it exists.
fn existing_partitions(dir: &Path) -> Result<Option<u32>> {
    PartitionSet::existing_count(dir)
        .with_context(|| format!("reading the offline index in {}", dir.display()))
}

/// The offline index for reading (search, symbols, context): opened with the partition
/// count it was created with, and never created by a read (a search before any `aiex
/// index` leaves no data directory behind). Fails, saying what to do, when nothing is
/// indexed.
fn open_indexed(settings: &Settings) -> Result<PartitionSet> {
    let nothing = || {
        anyhow::anyhow!(
            "nothing is indexed offline yet: run `aiex index PATH` first (files it skips, \
             binary, minified or over --max-file-bytes, are counted in its summary but not \
             indexed)"
        )
    };
    let dir = settings.data_dir.join("index");
    let partitions = existing_partitions(&dir)?.ok_or_else(nothing)?;
    let set = open_offline(settings, partitions)?;
    // Markers of skipped files are no index to read.
    if set.repos().iter().all(|r| r.files == 0) {
        return Err(nothing());
    }
    Ok(set)
}

/// Says so on stderr when an embedding model is configured but the offline index holds
/// no vector of it (indexed without `--embed-model`, or with another model): questions
/// are then ranked by keywords alone, which the scores would not show. Also when the
/// index holds embeddings and no model is given, for a question.
fn warn_without_vectors(settings: &Settings, set: &PartitionSet, query: &str) {
    let (Some(model), Some(encoder)) = (&settings.embed_model, set.encoder()) else {
        if settings.embed_model.is_none()
            && aiex_node::search::is_question(query)
            && set.partitions().iter().any(|p| p.has_any_vectors())
        {
            eprintln!(
                "note: the offline index holds embeddings, but no --embed-model is given \
                 (nor AIEX_EMBED_MODEL), so questions are ranked by keywords alone; give the \
                 model it was indexed with to rank them by meaning too"
            );
        }
        return;
    };
    if !set.partitions().iter().any(|p| p.has_vectors(encoder)) {
        eprintln!(
            "note: the offline index holds no embeddings of {} (it was indexed without \
             --embed-model, or with another model), so questions are ranked by keywords \
             alone; `aiex index PATH --embed-model {}` embeds it",
            model.display(),
            model.display()
        );
    }
}

/// Every repository a read names is indexed: a typo is an error naming it and the indexed
/// ones, not an empty result.
fn require_repos<'a>(
    settings: &Settings,
    set: &PartitionSet,
    repos: impl IntoIterator<Item = &'a String>,
) -> Result<()> {
    let mut indexed: Vec<String> = set.repos().into_iter().map(|r| r.repo).collect();
    // A directory indexed while it held no file (or after its last one went) is known
    // too: its search is empty, not an error.
    for name in Sources::at(&settings.data_dir.join("index"))
        .read()?
        .into_keys()
    {
        if !indexed.contains(&name) {
            indexed.push(name);
        }
    }
    for repo in repos {
        if !indexed.contains(repo) {
            bail!(
                "repository not found: {} (indexed offline: {})",
                aiex_node::ingest::shown_name(repo),
                indexed.join(", ")
            );
        }
    }
    Ok(())
}

fn offline_search(
    settings: &Settings,
    request: aiex_proto::v1::SearchRequest,
    json: bool,
) -> Result<()> {
    let set = open_indexed(settings)?;
    warn_without_vectors(settings, &set, &request.query);
    let mut request = request;
    if let Some(filters) = request.filters.as_mut() {
        absolute_path_filter(settings, filters)?;
    }
    require_repos(
        settings,
        &set,
        request.filters.iter().flat_map(|f| &f.repositories),
    )?;
    let local = aiex_node::service::request_from_pb(request.clone())?;
    let started = Instant::now();
    let found = set.search_partitions(&local, &set.held())?;
    let mut hits: Vec<_> = (found.hits.into_iter())
        .map(aiex_gateway::service::hit_to_pb)
        .collect();
    // As the gateway does: a function a `use` defines, or a `for` names, is found
    // through the graph.
    if let Some(symbol) = generated::function_to_look_up(&local, &hits) {
        let mut found = Vec::new();
        for search in generated::lookup_searches(&symbol, &local) {
            let search = aiex_node::service::request_from_pb(search)?;
            found.extend((set.search(&search)?.into_iter()).map(aiex_gateway::service::hit_to_pb));
        }
        if generated::may_define(&symbol, &found) {
            let graph = set.graph()?;
            generated::add_generated_hits(graph.as_ref(), &symbol, &local, &found, &mut hits);
        }
    }
    if let Some(filters) = request.filters.as_ref()
        && hits.is_empty()
    {
        aiex_gateway::service::path_filter_arg(filters, found.under_path)?;
        if !filters.module.is_empty() {
            aiex_gateway::service::module_filter_arg(set.graph()?.as_ref(), &filters.module)?;
        }
    }
    output::search_results(&request.query, &hits, &[], started.elapsed(), json)
}

/// `--path` given as an absolute directory inside an indexed one (`aiex search --offline
/// x --path "$PWD/lib"`): the path inside that repository, and the repository as a filter.
fn absolute_path_filter(
    settings: &Settings,
    filters: &mut aiex_proto::v1::SearchFilters,
) -> Result<()> {
    let typed = Path::new(&filters.path_prefix);
    // `./lib/x` and `../x` are the shell's paths, from the current directory; a bare
    // relative `lib/x` is a path inside a repository, as hits show it.
    let from_here = matches!(
        typed.components().next(),
        Some(std::path::Component::CurDir | std::path::Component::ParentDir)
    );
    let given = if from_here {
        std::env::current_dir()
            .context("reading the current directory for --path")?
            .join(typed)
    } else if typed.is_absolute() {
        typed.to_path_buf()
    } else {
        return Ok(());
    };
    let shown = filters.path_prefix.clone();
    let (name, rest, given) = inside_indexed(settings, &given, &shown, "--path")?;
    // A directory holds what is under it, not its namesakes (`lib/x` vs `lib/x.ex`).
    filters.path_prefix = if given.is_dir() && !rest.is_empty() {
        format!("{rest}/")
    } else {
        rest
    };
    // A path is in one repository: with `--repo` naming others, it is in none of them.
    if !filters.repositories.is_empty() && !filters.repositories.contains(&name) {
        bail!(
            "--path {shown} is in repository {name}, not in {} (--repo)",
            filters.repositories.join(", ")
        );
    }
    filters.repositories = vec![name];
    Ok(())
}

/// The offline repository an absolute path is in: its name, the path inside it, and the
/// path made canonical (a path that does not exist, a file name's prefix, has its `.`
/// and `..` resolved as written); an error naming `what` (`--path`) as the user typed
/// it (`shown`) and the indexed directories when it is in none.
fn inside_indexed(
    settings: &Settings,
    given: &Path,
    shown: &str,
    what: &str,
) -> Result<(String, String, std::path::PathBuf)> {
    let given = given.canonicalize().unwrap_or_else(|_| {
        let mut normal = std::path::PathBuf::new();
        for part in given.components() {
            match part {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    normal.pop();
                }
                other => normal.push(other),
            }
        }
        // The part that exists, canonical (a symbolic link in it), then the rest.
        match (
            normal.parent().and_then(|p| p.canonicalize().ok()),
            normal.file_name(),
        ) {
            (Some(parent), Some(name)) => parent.join(name),
            _ => normal,
        }
    });
    let sources = Sources::at(&settings.data_dir.join("index")).read()?;
    match sources.iter().find_map(|(name, root)| {
        given
            .strip_prefix(root)
            .ok()
            .map(|rest| (name.clone(), rest.to_string_lossy().into_owned()))
    }) {
        Some((name, rest)) => Ok((name, rest, given)),
        None => bail!(
            "{what} {shown} is not inside a directory indexed offline ({})",
            sources
                .iter()
                .map(|(name, root)| format!("{name}: {}", root.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `--target` given as an absolute file (`"$PWD/lib/a.ex:10-20"`): the path inside its
/// repository, behind the repository's name, which is added to those the context reads
/// when some are named.
fn absolute_target(
    settings: &Settings,
    request: &mut aiex_proto::v1::ContextRequest,
) -> Result<()> {
    request.target = request.target.trim().to_string();
    // `./lib/a.ex` and `../x.ex` are the shell's paths, from the current directory.
    let from_here = request.target.starts_with("./") || request.target.starts_with("../");
    if !request.target.starts_with('/') && !from_here {
        return Ok(());
    }
    let (file, lines) = match request.target.rsplit_once(':') {
        Some((file, lines))
            if !lines.is_empty() && lines.chars().all(|c| c.is_ascii_digit() || c == '-') =>
        {
            (file, Some(lines))
        }
        _ => (request.target.as_str(), None),
    };
    let absolute = match from_here {
        true => std::env::current_dir()
            .context("reading the current directory for --target")?
            .join(file),
        false => Path::new(file).to_path_buf(),
    };
    let (name, rest, _) = match inside_indexed(settings, &absolute, file, "--target") {
        Ok(found) => found,
        // `./lib/a.ex` from outside the repository: the path inside it, as before.
        Err(_) if request.target.starts_with("./") => return Ok(()),
        Err(e) => return Err(e),
    };
    // `repo/path`: the repository named, where several hold the same path.
    request.target = match lines {
        Some(lines) => format!("{name}/{rest}:{lines}"),
        None => format!("{name}/{rest}"),
    };
    if !request.repositories.is_empty() && !request.repositories.contains(&name) {
        request.repositories.push(name);
    }
    Ok(())
}

/// `aiex context --offline`: the same context the gateway builds, over the offline index.
fn offline_context(
    settings: &Settings,
    request: &aiex_proto::v1::ContextRequest,
    json: bool,
) -> Result<()> {
    use aiex_node::service::{context_request_from_pb, context_search, context_to_pb};
    let mut request = request.clone();
    absolute_target(settings, &mut request)?;
    let request = &request;
    let set = open_indexed(settings)?;
    warn_without_vectors(settings, &set, &request.question);
    require_repos(settings, &set, &request.repositories)?;
    let (context_request, counter) = context_request_from_pb(request)?;
    let hits = match context_search(request) {
        Some(search) => set.search(&aiex_node::service::request_from_pb(search)?)?,
        None => Vec::new(),
    };
    let graph = set.graph()?;
    let context = aiex_node::context::ContextBuilder::new(&graph, &set, counter)
        .search_hits(hits)
        .build(&context_request)?;
    output::context(&context_to_pb(&context), json)
}

/// A chunk size budget: a count of non-whitespace characters, at least 1.
fn chunk_budget(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1 (non-whitespace characters per chunk)".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{s:?} is not a count of characters: {e}")),
    }
}

/// Refuses the file system's root as a repository: its walk would read every readable
/// file of the machine (`/etc` included) into the index.
pub fn not_the_root(path: &Path) -> Result<()> {
    let canonical = path
        .canonicalize()
        .with_context(|| format!("cannot open {}", path.display()))?;
    if canonical.parent().is_none() {
        bail!(
            "{} is the root of the file system, not a project: name the project's directory",
            path.display()
        );
    }
    Ok(())
}

pub fn repo_name_of(path: &Path) -> Result<String> {
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

fn chunk_command(file: &Path, budget: usize, max_file_bytes: u64, json: bool) -> Result<()> {
    // Looked at before it is opened: opening a FIFO waits for a writer, and a device such
    // as /dev/zero never ends.
    let meta =
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    if !meta.is_file() {
        bail!(
            "{} is {}, not a regular file: `aiex chunk` reads one source file",
            file.display(),
            file_type_name(&meta.file_type())
        );
    }
    let too_big = |size: u64| {
        anyhow!(
            "{} is {size} bytes, over the {max_file_bytes}-byte limit (`aiex index` skips it \
             too); raise it with --max-file-bytes",
            file.display()
        )
    };
    if meta.len() > max_file_bytes {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| {
            f.take(max_file_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
        })
        .with_context(|| format!("cannot read {}", file.display()))?;
    if bytes.len() as u64 > max_file_bytes {
        // It grew while it was read.
        return Err(too_big(bytes.len() as u64));
    }
    let config = ChunkerConfig {
        budget,
        max_file_bytes,
        ..ChunkerConfig::default()
    };
    let path = file.to_string_lossy();
    match chunk_file("local", &path, &bytes, &config) {
        FileChunks::Chunked(chunks) if chunks.is_empty() && !json => {
            println!("{path}: no chunks (the file is empty)");
            Ok(())
        }
        FileChunks::Chunked(chunks) => output::chunks(&chunks, json),
        FileChunks::Skipped(reason) => bail!("{} was not chunked: {reason}", file.display()),
    }
}

/// What a path that is not a regular file is, for an error.
fn file_type_name(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// On Ctrl-C or SIGTERM, says what an interrupted `aiex index` leaves, then ends by the
/// same signal (a shell loop stops as it would have). Partitions committed so far stay
/// indexed, and a second run indexes only what they do not hold; after the indexing
/// (`indexing` false), only the embeddings not yet written are left to compute.
fn say_when_interrupted(
    progress: Arc<IngestProgress>,
    indexing: Arc<std::sync::atomic::AtomicBool>,
) {
    let watch = move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let signal = runtime.block_on(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok()?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r.ok().map(|_| libc::SIGINT),
                _ = term.recv() => Some(libc::SIGTERM),
            }
        })?;
        let relaxed = std::sync::atomic::Ordering::Relaxed;
        if indexing.load(relaxed) {
            let done = progress.files_done.load(relaxed);
            let total = progress.files_total.load(relaxed);
            eprintln!(
                "\ninterrupted after {done} of {total} files: what was committed stays indexed; \
                 run `aiex index` again to index the rest (unchanged files are not indexed again)"
            );
        } else {
            eprintln!(
                "\ninterrupted after indexing: the index is complete; run `aiex index` again \
                 to compute the embeddings not yet written"
            );
        }
        // SAFETY: restores the default action of the signal that came and raises it, so
        // the process ends by it as it would have without this thread.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
        std::process::exit(128 + signal)
    };
    // Without the thread, the signals keep their default: the process ends at once.
    let _ = std::thread::Builder::new()
        .name("aiex-signals".into())
        .spawn(move || {
            let _: Option<()> = watch();
        });
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
    let indexing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    say_when_interrupted(progress.clone(), indexing.clone());
    let started = Instant::now();
    // Indexing speed is reported without the embedding stage, which follows.
    let (stats, took) = with_ticker(
        Duration::from_millis(100),
        || {
            if let Some(bar) = &bar {
                output::tick(bar, &progress, started);
            }
        },
        || {
            let result = set.ingest_dir(name, path, options, Some(&progress));
            (result, started.elapsed())
        },
    );
    if let Some(bar) = &bar {
        output::tick(bar, &progress, started);
        bar.finish_and_clear();
    }
    indexing.store(false, std::sync::atomic::Ordering::Relaxed);
    let stats = stats?;
    let mut embedding = None;
    if set.encoder().is_some() {
        let started = Instant::now();
        let done = if json {
            set.sync_vectors()?
        } else {
            embed_with_progress(set)?
        };
        let secs = started.elapsed();
        if !json {
            eprintln!(
                "embedded {} definitions in {:.1}s ({} vectors)",
                done.embedded,
                secs.as_secs_f64(),
                done.total
            );
        }
        embedding = Some(output::Embedded {
            definitions: done.embedded,
            vectors: done.total,
            seconds: secs.as_secs_f64(),
        });
    }
    output::ingest_summary(name, &stats, took, embedding, set, json)
}

/// The embedding stage after an offline index, with a progress bar of the definitions
/// embedded (each partition counts its own in once it knows them).
fn embed_with_progress(set: &PartitionSet) -> Result<aiex_node::index::VectorSync> {
    let progress = aiex_node::index::EmbedProgress::default();
    let bar = output::embed_bar();
    let result = with_ticker(
        Duration::from_millis(200),
        || output::embed_tick(&bar, &progress),
        || set.sync_vectors_with(Some(&progress)),
    );
    bar.finish_and_clear();
    Ok(result?)
}

/// Runs `work`, calling `tick` on another thread every `period` meanwhile (and once at
/// the start); the ticker stops as soon as `work` returns, without waiting out its
/// period.
fn with_ticker<R>(period: Duration, tick: impl Fn() + Sync, work: impl FnOnce() -> R) -> R {
    std::thread::scope(|s| {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let tick = &tick;
        let ticker = s.spawn(move || {
            loop {
                tick();
                if stopped.recv_timeout(period) != Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                    break;
                }
            }
        });
        let result = work();
        drop(stop);
        let _ = ticker.join();
        result
    })
}

/// A symbol as code or `inspect` writes it, as `search` takes it: `Elixir.Enum.map/2`
/// (Erlang's and `inspect`'s spelling), a capture `&Enum.map/2`, or `Enum.map/` cut
/// before its arity (every arity). The division operator `Kernel./` stays itself.
fn as_pasted(symbol: &str) -> &str {
    let symbol = symbol.strip_prefix('&').unwrap_or(symbol);
    let symbol = symbol.strip_prefix("Elixir.").unwrap_or(symbol);
    match symbol.strip_suffix('/') {
        Some(name) if !name.is_empty() && !name.ends_with(['.', '/']) => name,
        _ => symbol,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symbol_is_taken_as_code_writes_it() {
        for (pasted, symbol) in [
            ("&NewRelic.add_attributes/1", "NewRelic.add_attributes/1"),
            ("Elixir.Enum.map/2", "Enum.map/2"),
            ("&Elixir.Enum.map/2", "Enum.map/2"),
            ("NewRelic.add_attributes/", "NewRelic.add_attributes"),
            ("Enum.map", "Enum.map"),
            ("Kernel./", "Kernel./"),
            ("Kernel.//2", "Kernel.//2"),
            ("/", "/"),
        ] {
            assert_eq!(as_pasted(pasted), symbol, "{pasted}");
        }
    }

    #[test]
    fn an_error_report_names_each_cause_once() {
        let missing = Path::new("/nonexistent-aiex-test-dir");
        let io = std::fs::metadata(missing).unwrap_err();
        let os_text = io.to_string();
        let e = anyhow::Error::from(aiex_node::NodeError::Io {
            path: missing.into(),
            source: io,
        })
        .context("indexing the-repo");
        let report = error_report(&e);
        assert_eq!(
            report,
            format!("indexing the-repo: /nonexistent-aiex-test-dir: {os_text}")
        );
        assert_eq!(report.matches(&os_text).count(), 1, "{report}");

        // A cause the line holds only in passing is kept.
        let e = anyhow::anyhow!("timed out").context("the request timed out twice");
        assert_eq!(error_report(&e), "the request timed out twice: timed out");

        // Causes that add something are all kept, in order.
        let e = anyhow::anyhow!("connection refused")
            .context("cannot reach the gateway")
            .context("searching");
        assert_eq!(
            error_report(&e),
            "searching: cannot reach the gateway: connection refused"
        );
    }
}
