//! The commands that talk to a gateway over gRPC, and `aiex up`, which runs one.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aiex_gateway::embedded::{EmbeddedConfig, EmbeddedServer};
use aiex_gateway::{GatewayConfig, Limits};
use aiex_node::chunk::ChunkerConfig;
use aiex_node::ingest::IngestProgress;
use aiex_proto::v1 as pb;
use anyhow::{Context, Result, anyhow, bail};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

use crate::output;
use crate::{ClusterCommand, RepoCommand, Settings, SymbolsCommand};

/// Connects to the gateway, saying how to start one when none answers.
pub(crate) async fn connect(settings: &Settings) -> Result<Channel> {
    let addr = &settings.addr;
    // `IP:PORT`, as `aiex up --listen` takes it, is a plain-HTTP/2 gateway there.
    let uri = if addr.contains("://") {
        addr.clone()
    } else {
        format!("http://{addr}")
    };
    // This client speaks plain HTTP/2 only: an `https://` address would silently go
    // unencrypted to whatever answers there.
    if uri
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    {
        bail!(
            "`{addr}` (--addr / AIEX_ADDR) asks for TLS, which this client does not speak: \
             use an http:// address (a gateway on a trusted network, or through a tunnel \
             or sidecar that ends TLS)"
        );
    }
    let endpoint = Channel::from_shared(uri)
        .map_err(|e| anyhow!("invalid gateway address `{addr}` (--addr / AIEX_ADDR): {e}"))?
        .connect_timeout(Duration::from_secs(5))
        // A peer that takes the connection but never answers (a hung gateway, or some
        // other service on that port) fails the command within about 30 s, instead of
        // leaving it waiting for ever; long answers keep streaming, since a live gateway
        // answers the pings (gRPC's usual 20 s allowance for a busy one).
        .http2_keep_alive_interval(Duration::from_secs(10))
        .keep_alive_timeout(Duration::from_secs(20))
        .keep_alive_while_idle(true);
    endpoint.connect().await.map_err(|e| {
        anyhow!(
            "cannot reach the Aiex gateway at {addr} ({e}).\n\
             Start one with `aiex up` in another terminal, or point --addr / AIEX_ADDR at a running gateway."
        )
    })
}

/// A gRPC error as a person reads it.
pub(crate) fn status_error(what: &str, s: tonic::Status) -> anyhow::Error {
    let code = match s.code() {
        tonic::Code::InvalidArgument => "invalid argument",
        tonic::Code::NotFound => "not found",
        tonic::Code::ResourceExhausted => "limit exceeded",
        tonic::Code::FailedPrecondition => "refused",
        tonic::Code::Unavailable => "unavailable",
        tonic::Code::Internal => "internal error",
        tonic::Code::DeadlineExceeded => "timed out",
        tonic::Code::Unauthenticated => "unauthenticated",
        tonic::Code::PermissionDenied => "permission denied",
        _ => "failed",
    };
    // A status the gateway sent arrives as headers and has no source; one tonic made here
    // from a failed connection (reset, closed, or a peer that does not speak gRPC) keeps
    // that failure as its source. Only the latter means the gateway itself is the problem:
    // an unavailable model provider, say, is reported by a running gateway and must not
    // read as one that went away.
    if std::error::Error::source(&s).is_some() {
        // Only an upload has work to resume.
        let resume = if what.starts_with("uploading") || what.starts_with("adding") {
            ": uploads resume, unchanged files are not sent to the index twice"
        } else {
            ""
        };
        return anyhow!(
            "{what}: the connection to the gateway failed ({}). Is `aiex up` (or the gateway) \
             still running, and is the address an Aiex gateway? Start it again and re-run the \
             command{resume}.",
            s.message()
        );
    }
    if s.message().contains(code) {
        // "repository not found: x" says it already.
        return anyhow!("{what}: {}", s.message());
    }
    anyhow!("{what}: {code}: {}", s.message())
}

pub async fn up(
    settings: &Settings,
    listen: Option<String>,
    mut allow_roots: Vec<PathBuf>,
    index_threads: Option<usize>,
    addr_file: Option<PathBuf>,
    metrics_listen: Option<SocketAddr>,
) -> Result<()> {
    let endpoint = crate::observe::start(metrics_listen).await?;
    let file = &settings.file;
    let listen = listen
        .or_else(|| file.up.listen.clone())
        .unwrap_or_else(|| format!("127.0.0.1:{}", aiex_gateway::config::DEFAULT_PORT));
    let listen: SocketAddr = listen
        .parse()
        .with_context(|| format!("invalid listen address `{listen}` (want IP:PORT)"))?;
    if allow_roots.is_empty() {
        allow_roots = file.up.allow_roots.clone();
    }
    let limits: Limits = file.limits.clone();
    let config = EmbeddedConfig {
        data_dir: settings.data_dir.join("server"),
        partitions: settings.partitions,
        index_threads: index_threads
            .or(file.up.index_threads)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        chunker: ChunkerConfig {
            max_file_bytes: limits.max_file_bytes,
            ..ChunkerConfig::default()
        },
        gateway: GatewayConfig {
            listen,
            limits,
            allowed_roots: allow_roots,
            node_id: hostname(),
            assist_idle_timeout: assist_idle_timeout()?,
            ..GatewayConfig::default()
        },
        llm: file.llm.clone(),
        assist: assist_options()?,
        embed_model: settings.embed_model.clone(),
    };
    let data = config.data_dir.clone();
    let partitions = config.partitions;
    let server = EmbeddedServer::start(config)
        .await
        .with_context(|| format!("starting the embedded server on {}", data.display()))?;
    crate::observe::attach(&endpoint, server.readiness());
    let addr = server.local_addr();
    if let Some(f) = &addr_file {
        std::fs::write(f, format!("http://{addr}\n"))
            .with_context(|| format!("cannot write {}", f.display()))?;
    }
    eprintln!(
        "aiex up: listening on {addr}, data in {} ({partitions} partitions). Ctrl-C stops it.",
        data.display()
    );
    server.run(shutdown_signal()).await?;
    eprintln!("aiex up: stopped; everything applied is committed");
    Ok(())
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "embedded".into())
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    eprintln!("aiex up: shutting down (finishing requests, committing the index)");
}

pub async fn repo(settings: &Settings, command: RepoCommand) -> Result<()> {
    let channel = connect(settings).await?;
    let mut client = pb::repositories_client::RepositoriesClient::new(channel)
        .max_decoding_message_size(64 << 20);
    match command {
        RepoCommand::Add {
            path,
            name,
            max_file_bytes,
            no_wait,
            server_path,
            replace,
            json,
        } => {
            crate::not_the_root(&path)?;
            let name = match name {
                Some(n) => n,
                None => crate::repo_name_of(&path)?,
            };
            let started = Instant::now();
            let (status, local) = if server_path {
                let absolute = path
                    .canonicalize()
                    .with_context(|| format!("cannot open {}", path.display()))?;
                let status = client
                    .add_path(pb::AddPathRequest {
                        repository: name.clone(),
                        path: absolute.to_string_lossy().into_owned(),
                        replace,
                    })
                    .await
                    .map_err(|s| status_error(&format!("adding {}", path.display()), s))?
                    .into_inner();
                (status, LocalCounts::default())
            } else {
                // A file travels as one gRPC message: one over the gateway's message limit
                // would make it refuse the whole upload without naming the file. The limit
                // is read from this config file's `[limits]`, as `aiex up` reads it (the
                // default when unset), so raising it there raises both.
                let message_bytes = (settings.file.limits.max_request_bytes as u64)
                    .saturating_sub(UPLOAD_MESSAGE_OVERHEAD);
                upload(
                    &mut client,
                    &name,
                    Source {
                        at: upload_source(&path),
                        replace,
                    },
                    path,
                    max_file_bytes,
                    message_bytes,
                    json,
                )
                .await?
            };
            let uploaded = started.elapsed();
            let status = if no_wait {
                status
            } else {
                wait_indexed(&mut client, &name, json).await?
            };
            output::add_summary(&status, &local, uploaded, started.elapsed(), json)
        }
        RepoCommand::List { json } => {
            let list = client
                .list(pb::ListRepositoriesRequest {})
                .await
                .map_err(|s| status_error("listing repositories", s))?
                .into_inner();
            output::repo_list(&list.repositories, json)
        }
        RepoCommand::Status { name, json } => {
            let status = client
                .get(pb::GetRepositoryRequest {
                    repository: name.clone(),
                })
                .await
                .map_err(|s| {
                    status_error(
                        &format!("repository `{}`", aiex_node::ingest::shown_name(&name)),
                        s,
                    )
                })?
                .into_inner();
            output::repo_status(&status, json)
        }
        RepoCommand::Rm { name, json } => {
            let removed = client
                .remove(pb::RemoveRepositoryRequest {
                    repository: name.clone(),
                })
                .await
                .map_err(|s| {
                    status_error(
                        &format!("removing `{}`", aiex_node::ingest::shown_name(&name)),
                        s,
                    )
                })?
                .into_inner();
            if json {
                println!(
                    "{}",
                    serde_json::json!({"repository": name, "files_removed": removed.files_removed})
                );
            } else {
                println!("removed {name}: {} files", removed.files_removed);
            }
            Ok(())
        }
        RepoCommand::Reindex { name, json } => {
            let status = client
                .reindex(pb::ReindexRequest {
                    repository: name.clone(),
                })
                .await
                .map_err(|s| {
                    status_error(
                        &format!("re-indexing `{}`", aiex_node::ingest::shown_name(&name)),
                        s,
                    )
                })?
                .into_inner();
            output::repo_status(&status, json)
        }
    }
}

/// What the client itself skipped while walking.
#[derive(Debug, Default)]
pub struct LocalCounts {
    pub files: u64,
    pub bytes: u64,
    pub too_large: u64,
    pub unreadable: u64,
    pub passed_over: u64,
}

/// Room an upload message needs beside the file's bytes (path, mode, framing).
const UPLOAD_MESSAGE_OVERHEAD: u64 = 64 << 10;

/// Where an upload comes from, as the gateway records it (`/abs/dir`), and whether
/// it may replace another directory's files under the same name.
struct Source {
    at: String,
    replace: bool,
}

/// The directory `root`, absolute and without links: what the gateway compares. Not the
/// host's name, which changes with every container, so that CI re-uploading its checkout
/// is the same source, and `--server-path` of the same directory too.
fn upload_source(root: &std::path::Path) -> String {
    let dir = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    dir.display().to_string()
}

/// Walks `root` (honouring .gitignore) and streams it to the gateway.
async fn upload(
    client: &mut pb::repositories_client::RepositoriesClient<Channel>,
    name: &str,
    source: Source,
    root: PathBuf,
    max_file_bytes: u64,
    message_bytes: u64,
    json: bool,
) -> Result<(pb::RepositoryStatus, LocalCounts)> {
    let meta =
        std::fs::metadata(&root).with_context(|| format!("cannot open {}", root.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a directory", root.display());
    }
    let progress = Arc::new(IngestProgress::default());
    let bar = (!json).then(|| output::progress_bar(progress.clone()));
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::UploadRequest>(32);
    let counts = Arc::new([(); 5].map(|_| AtomicU64::new(0)));
    let walker = {
        let progress = progress.clone();
        let counts = counts.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || -> Result<()> {
            let walk = aiex_node::ingest::walk(&root)?;
            let listed: Vec<String> = walk
                .passed_over
                .iter()
                .take(aiex_node::ingest::PASSED_OVER_LISTED)
                .map(|p| p.to_string())
                .collect();
            output::passed_over_warnings(&listed, walk.passed_over.len() as u64);
            counts[4].store(walk.passed_over.len() as u64, Ordering::Relaxed);
            let files = walk.files;
            progress
                .files_total
                .store(files.len() as u64, Ordering::Relaxed);
            let mut first = true;
            for (rel, abs, size) in files {
                let mut file = pb::FileUpload {
                    path: rel.clone().into_bytes(),
                    content: Vec::new(),
                    mode: file_mode(&abs),
                    skipped: false,
                };
                if size > max_file_bytes {
                    counts[2].fetch_add(1, Ordering::Relaxed);
                    file.skipped = true;
                } else if size > message_bytes {
                    eprintln!(
                        "warning: skipping {} ({size} bytes): a file travels in one gRPC \
                         message, and the gateway's message limit (`[limits] \
                         max_request_bytes` in the config file) leaves room for \
                         {message_bytes} bytes; raise it for the gateway and this client, or \
                         let the server read the directory (`--server-path`)",
                        abs.display()
                    );
                    counts[2].fetch_add(1, Ordering::Relaxed);
                    file.skipped = true;
                } else {
                    match std::fs::read(&abs) {
                        Ok(bytes) => file.content = bytes,
                        Err(e) => {
                            eprintln!("warning: skipping {}: {e}", abs.display());
                            counts[3].fetch_add(1, Ordering::Relaxed);
                            file.skipped = true;
                        }
                    }
                }
                counts[0].fetch_add(1, Ordering::Relaxed);
                counts[1].fetch_add(file.content.len() as u64, Ordering::Relaxed);
                progress.files_done.fetch_add(1, Ordering::Relaxed);
                progress
                    .bytes_done
                    .fetch_add(file.content.len() as u64, Ordering::Relaxed);
                let msg = pb::UploadRequest {
                    repository: if first { name.clone() } else { String::new() },
                    item: Some(pb::upload_request::Item::File(file)),
                    source: if first {
                        source.at.clone()
                    } else {
                        String::new()
                    },
                    replace: first && source.replace,
                };
                first = false;
                if tx.blocking_send(msg).is_err() {
                    return Ok(()); // the server ended the upload; its answer says why
                }
            }
            let _ = tx.blocking_send(pb::UploadRequest {
                repository: if first { name } else { String::new() },
                item: Some(pb::upload_request::Item::Commit(pb::UploadCommit {
                    delete_missing: true,
                })),
                source: if first { source.at } else { String::new() },
                replace: first && source.replace,
            });
            Ok(())
        })
    };
    let started = Instant::now();
    let ticker = bar.clone().map(|bar| {
        let progress = progress.clone();
        tokio::spawn(async move {
            loop {
                output::tick(&bar, &progress, started);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });
    let response = client.upload(ReceiverStream::new(rx)).await;
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(bar) = &bar {
        output::tick(bar, &progress, started);
        bar.finish_and_clear();
    }
    let walked = walker.await.context("the file walker failed")?;
    let status = response
        .map_err(|s| {
            let name = aiex_node::ingest::shown_name(name);
            status_error(&format!("uploading `{name}`"), s)
        })?
        .into_inner();
    walked?;
    let c = |i: usize| counts[i].load(Ordering::Relaxed);
    Ok((
        status,
        LocalCounts {
            files: c(0),
            bytes: c(1),
            too_large: c(2),
            unreadable: c(3),
            passed_over: c(4),
        },
    ))
}

#[cfg(unix)]
fn file_mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn file_mode(_path: &std::path::Path) -> u32 {
    0o644
}

/// Polls the repository's status until indexing is done.
async fn wait_indexed(
    client: &mut pb::repositories_client::RepositoriesClient<Channel>,
    name: &str,
    json: bool,
) -> Result<pb::RepositoryStatus> {
    let spinner = (!json).then(output::spinner);
    loop {
        let status = client
            .get(pb::GetRepositoryRequest {
                repository: name.to_string(),
            })
            .await
            .map_err(|s| {
                status_error(
                    &format!("repository `{}`", aiex_node::ingest::shown_name(name)),
                    s,
                )
            })?
            .into_inner();
        if status.state() != pb::RepositoryState::Indexing {
            if let Some(s) = &spinner {
                s.finish_and_clear();
            }
            return Ok(status);
        }
        if let Some(s) = &spinner {
            s.set_message(format!(
                "indexing {name}: {} files, {} chunks",
                status.files_indexed, status.chunks
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn search(settings: &Settings, request: pb::SearchRequest, json: bool) -> Result<()> {
    let channel = connect(settings).await?;
    let mut client =
        pb::search_client::SearchClient::new(channel).max_decoding_message_size(64 << 20);
    let query = request.query.clone();
    let started = Instant::now();
    let response = client
        .search(request)
        .await
        .map_err(|s| status_error("search", s))?
        .into_inner();
    output::search_results(
        &query,
        &response.hits,
        &response.missing_partitions,
        started.elapsed(),
        json,
    )
}

pub async fn context(settings: &Settings, request: pb::ContextRequest, json: bool) -> Result<()> {
    let channel = connect(settings).await?;
    let mut client =
        pb::search_client::SearchClient::new(channel).max_decoding_message_size(64 << 20);
    let response = client
        .context(request)
        .await
        .map_err(|s| status_error("building the context", s))?
        .into_inner();
    output::context(&response, json)
}

pub async fn symbols(settings: &Settings, command: SymbolsCommand) -> Result<()> {
    let channel = connect(settings).await?;
    let mut client =
        pb::search_client::SearchClient::new(channel).max_decoding_message_size(64 << 20);
    let req = |symbol: &str, repos: Vec<String>| pb::SymbolRequest {
        symbol: symbol.to_string(),
        repositories: repos,
    };
    match command {
        SymbolsCommand::Def {
            symbol,
            repos,
            json,
        } => {
            let r = client
                .definition(req(&symbol, repos))
                .await
                .map_err(|s| status_error("definition", s))?;
            output::refs(
                &r.into_inner().refs,
                json,
                &format!("no definition of {symbol} is indexed"),
            )
        }
        SymbolsCommand::Callers {
            symbol,
            repos,
            json,
        } => {
            let found = client
                .callers(req(&symbol, repos))
                .await
                .map_err(|s| status_error("callers", s))?
                .into_inner();
            output::callers(&found.refs, json, &symbol, &found.note)
        }
        SymbolsCommand::Impls {
            symbol,
            repos,
            json,
        } => {
            let r = client
                .implementations(req(&symbol, repos))
                .await
                .map_err(|s| status_error("implementations", s))?;
            output::refs(
                &r.into_inner().refs,
                json,
                &format!("no module implementing it defines {symbol}"),
            )
        }
        SymbolsCommand::Callees {
            symbol,
            repos,
            json,
        } => {
            let r = client
                .callees(req(&symbol, repos))
                .await
                .map_err(|s| status_error("callees", s))?;
            output::callees_of(&r.into_inner().refs, json, &symbol)
        }
        SymbolsCommand::Map {
            tokens,
            focus,
            repos,
            json,
        } => {
            let r = client
                .repo_map(pb::RepoMapRequest {
                    repositories: repos,
                    token_budget: tokens,
                    focus,
                })
                .await
                .map_err(|s| status_error("repository map", s))?
                .into_inner();
            output::repo_map(&r.map, r.tokens as usize, tokens as usize, json)
        }
    }
}

pub async fn cluster(settings: &Settings, command: ClusterCommand) -> Result<()> {
    let channel = connect(settings).await?;
    let mut client = pb::cluster_client::ClusterClient::new(channel);
    match command {
        ClusterCommand::Status { json } => {
            let status = client
                .status(pb::ClusterStatusRequest {})
                .await
                .map_err(|s| status_error("cluster status", s))?
                .into_inner();
            output::cluster_status(&status, json)
        }
    }
}

/// The assist worker's settings from the environment: `AIEX_CHAT_HISTORY_TOKENS`, the
/// tokens of a chat's earlier turns sent with a new one (older turns are summarised)
/// [default: 8000].
pub fn assist_options() -> Result<aiex_node::assist::AssistOptions> {
    let mut options = aiex_node::assist::AssistOptions::default();
    if let Ok(v) = std::env::var("AIEX_CHAT_HISTORY_TOKENS") {
        let tokens: usize = v.trim().parse().with_context(|| {
            format!("AIEX_CHAT_HISTORY_TOKENS must be a number of tokens, got `{v}`")
        })?;
        if tokens < 16 {
            bail!("AIEX_CHAT_HISTORY_TOKENS must be at least 16, got {tokens}");
        }
        options.history_tokens = tokens;
    }
    Ok(options)
}

/// `AIEX_ASSIST_IDLE_TIMEOUT_SECS`: how long an assist stream may go without an event
/// [default: 60].
pub fn assist_idle_timeout() -> Result<Duration> {
    match std::env::var("AIEX_ASSIST_IDLE_TIMEOUT_SECS") {
        Ok(v) => {
            let secs: u64 = v.trim().parse().with_context(|| {
                format!("AIEX_ASSIST_IDLE_TIMEOUT_SECS must be a number of seconds, got `{v}`")
            })?;
            if secs == 0 {
                bail!("AIEX_ASSIST_IDLE_TIMEOUT_SECS must be at least 1");
            }
            Ok(Duration::from_secs(secs))
        }
        Err(_) => Ok(GatewayConfig::default().assist_idle_timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_failed_connection_reads_as_a_gateway_gone() {
        // Sent by a running gateway: a provider it could not reach.
        let sent = tonic::Status::unavailable(
            "every provider of chain default failed: openai: connection failed: Connection refused",
        );
        let report = status_error("explain", sent).to_string();
        assert!(
            report.starts_with("explain: unavailable: every provider"),
            "{report}"
        );
        assert!(!report.contains("connection to the gateway"), "{report}");

        // Made here from the connection itself failing.
        let local = tonic::Status::from_error(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        )));
        let report = status_error("searching", local).to_string();
        assert!(
            report.starts_with("searching: the connection to the gateway failed"),
            "{report}"
        );

        // The code is not repeated when the message says it.
        let report = status_error(
            "status",
            tonic::Status::not_found("repository not found: shop"),
        )
        .to_string();
        assert_eq!(report, "status: repository not found: shop");

        // No second "error:" after the one `main` prints.
        let report = status_error("listing", tonic::Status::unknown("boom")).to_string();
        assert_eq!(report, "listing: failed: boom");
    }
}
