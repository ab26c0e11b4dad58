//! The `aiex.v1` services.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use aiex_node::graph::SymbolSite;
use aiex_node::readiness::Readiness;
use aiex_node::search::generated;
use aiex_proto::v1 as pb;
use bytes::Bytes;
use tonic::{Request, Response, Status, Streaming};

use crate::backend::Backend;
use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::registry::{Registry, RepoRecord, relaxed};
use crate::upload::UploadSession;

/// What every service shares.
pub struct GatewayState {
    pub config: GatewayConfig,
    pub registry: Arc<Registry>,
    pub backend: Arc<dyn Backend>,
    /// The bus: assist jobs are submitted and their events followed on it.
    pub bus: Arc<dyn aiex_node::bus::Bus>,
    pub started: Instant,
    /// The process's readiness bit, shown by gRPC health (and `/health/readyz`).
    pub readiness: Readiness,
    /// This process's provider settings: an assist request is refused here, before it
    /// is queued, when none is configured (FAILED_PRECONDITION naming what to set).
    pub llm: Arc<aiex_node::assist::Llm>,
}

type Result<T> = std::result::Result<Response<T>, Status>;

impl GatewayState {
    /// A repository's status (NOT_FOUND when unknown).
    pub async fn status(
        &self,
        repo: &str,
    ) -> std::result::Result<pb::RepositoryStatus, GatewayError> {
        let indexed = self.backend.indexed().await;
        self.status_with(repo, &indexed)
            .ok_or_else(|| GatewayError::RepositoryNotFound(repo.to_string()))
    }

    fn status_with(
        &self,
        repo: &str,
        indexed: &std::collections::HashMap<String, aiex_node::ingest::RepoSummary>,
    ) -> Option<pb::RepositoryStatus> {
        let (record, upload, published) = self.registry.with(|repos| {
            repos
                .get(repo)
                .map(|e| (e.record.clone(), e.upload.clone(), e.published.clone()))
        })?;
        if record.is_none() && upload.is_none() && published.is_empty() {
            return None;
        }
        let activity = self.backend.activity(repo);
        let summary = indexed.get(repo).cloned().unwrap_or_default();
        let state = if upload.is_some() || !self.backend.has_applied(&published) {
            pb::RepositoryState::Indexing
        } else if record.is_none() {
            pb::RepositoryState::Incomplete
        } else {
            pb::RepositoryState::Ready
        };
        let mut status = pb::RepositoryStatus {
            repository: repo.to_string(),
            state: state as i32,
            files_indexed: summary.files,
            files_failed: activity.failed,
            chunks: summary.chunks,
            ..Default::default()
        };
        if let Some(p) = &upload {
            status.files_seen = relaxed(&p.files_seen);
            status.files_unchanged = relaxed(&p.files_unchanged);
            status.files_skipped = relaxed(&p.files_skipped);
            status.bytes = relaxed(&p.bytes);
        } else if let Some(r) = &record {
            status.files_seen = r.files_seen;
            status.files_unchanged = r.files_unchanged;
            status.files_skipped = r.files_skipped;
            status.files_deleted = r.files_deleted;
            status.bytes = r.bytes;
        }
        // The files the nodes found they could not index (minified or generated text,
        // credential files) are skipped too, though the upload sent them: as many as the
        // index holds markers of, which a restart or a resumed upload leaves right.
        status.files_skipped += summary.skipped;
        Some(status)
    }

    /// The status right after a commit: the registry's view, or the record itself if the
    /// repository was removed meanwhile.
    async fn committed_status(&self, record: &RepoRecord) -> pb::RepositoryStatus {
        match self.status(&record.name).await {
            Ok(s) => s,
            Err(_) => self.record_status(record),
        }
    }

    fn record_status(&self, record: &RepoRecord) -> pb::RepositoryStatus {
        pb::RepositoryStatus {
            repository: record.name.clone(),
            state: if self.backend.has_applied(&record.targets) {
                pb::RepositoryState::Ready
            } else {
                pb::RepositoryState::Indexing
            } as i32,
            files_seen: record.files_seen,
            files_unchanged: record.files_unchanged,
            files_skipped: record.files_skipped,
            files_deleted: record.files_deleted,
            bytes: record.bytes,
            ..Default::default()
        }
    }

    fn known(&self, repo: &str) -> std::result::Result<(), GatewayError> {
        if self.registry.with(|r| r.contains_key(repo)) {
            Ok(())
        } else {
            Err(GatewayError::RepositoryNotFound(repo.to_string()))
        }
    }

    /// Every repository a request names is registered: a typo answers NOT_FOUND instead
    /// of an empty result that looks like "nothing matches".
    pub(crate) fn all_known(&self, repos: &[String]) -> std::result::Result<(), GatewayError> {
        repos.iter().try_for_each(|r| self.known(r))
    }
}

fn limit_error(status: Status, limits: &crate::config::Limits) -> Status {
    // tonic reports an over-long message as OUT_OF_RANGE; the contract says RESOURCE_EXHAUSTED.
    if status.code() == tonic::Code::OutOfRange && status.message().contains("too large") {
        return GatewayError::LimitExceeded {
            what: "a request message (max_request_bytes)",
            limit: limits.max_request_bytes as u64,
        }
        .into();
    }
    status
}

/// The Upload stream: a session per repository, files in durable batches, then the commit.
async fn run_upload(
    state: &GatewayState,
    mut stream: Streaming<pb::UploadRequest>,
    session: &mut Option<UploadSession>,
) -> std::result::Result<pb::RepositoryStatus, Status> {
    loop {
        let msg = stream
            .message()
            .await
            .map_err(|s| limit_error(s, &state.config.limits))?;
        let Some(msg) = msg else {
            let Some(s) = session.as_mut() else {
                return Err(GatewayError::InvalidArgument {
                        field: "repository",
                        reason: "the upload is empty: send a first message naming the repository, then the files, then the commit".into(),
                    }
                    .into());
            };
            // Keep what was sent: the repository shows INCOMPLETE until an upload commits.
            s.flush().await?;
            return Err(GatewayError::InvalidArgument {
                    field: "commit",
                    reason: "the upload ended without a commit message; the files sent are kept, but the repository stays incomplete until an upload ends with the commit".into(),
                }
                .into());
        };
        if session.is_none() {
            if msg.repository.is_empty() {
                return Err(GatewayError::InvalidArgument {
                    field: "repository",
                    reason: "the first upload message must name the repository".into(),
                }
                .into());
            }
            let source = crate::registry::Source {
                at: msg.source.clone(),
                replace: msg.replace,
            };
            let mut began = UploadSession::begin(
                state.registry.clone(),
                state.config.limits.clone(),
                &msg.repository,
                &source,
            )?;
            // The files the index holds as skipped are counted there: not as unchanged.
            match state.backend.skipped_paths(&msg.repository).await {
                Ok(paths) => began.skipped_by_the_index(paths),
                Err(e) => tracing::warn!(
                    repository = %msg.repository,
                    error = %e,
                    "the index's skipped files are unknown: those sent unchanged count as both"
                ),
            }
            *session = Some(began);
        }
        let s = session.as_mut().expect("session started");
        if !msg.repository.is_empty() && msg.repository != s.repo() {
            return Err(GatewayError::InvalidArgument {
                field: "repository",
                reason: format!(
                    "one upload carries one repository (`{}`), got `{}`",
                    s.repo(),
                    msg.repository
                ),
            }
            .into());
        }
        match msg.item {
            Some(pb::upload_request::Item::File(f)) if f.skipped => s.skip(&f.path).await?,
            Some(pb::upload_request::Item::File(f)) => {
                s.add(&f.path, Bytes::from(f.content), f.mode).await?
            }
            Some(pb::upload_request::Item::Commit(c)) => {
                let session = session.take().expect("session started");
                let record = session.commit(c.delete_missing).await?;
                return Ok(state.committed_status(&record).await);
            }
            None => {
                return Err(GatewayError::InvalidArgument {
                    field: "item",
                    reason: "each upload message carries a file or the commit".into(),
                }
                .into());
            }
        }
    }
}

/// The Repositories service.
pub struct RepositoriesService(pub Arc<GatewayState>);

#[tonic::async_trait]
impl pb::repositories_server::Repositories for RepositoriesService {
    async fn upload(
        &self,
        request: Request<Streaming<pb::UploadRequest>>,
    ) -> Result<pb::RepositoryStatus> {
        let mut session = None;
        let result = run_upload(&self.0, request.into_inner(), &mut session).await;
        if result.is_err()
            && let Some(s) = session.as_mut()
        {
            // Whatever batch was being written finishes and is recorded; what was never
            // acknowledged is simply not there.
            if let Err(e) = s.settle().await {
                tracing::warn!(error = %e, "publishing the last batch of a failed upload");
            }
        }
        result.map(Response::new)
    }

    async fn add_path(&self, request: Request<pb::AddPathRequest>) -> Result<pb::RepositoryStatus> {
        let state = &self.0;
        let req = request.into_inner();
        let root = crate::addpath::confine(&state.config.allowed_roots, &req.path)?;
        let record = crate::addpath::add(state, &req.repository, &root, req.replace).await?;
        Ok(Response::new(state.committed_status(&record).await))
    }

    async fn list(
        &self,
        _request: Request<pb::ListRepositoriesRequest>,
    ) -> Result<pb::ListRepositoriesResponse> {
        let state = &self.0;
        let indexed = state.backend.indexed().await;
        let mut names: Vec<String> = state.registry.with(|r| r.keys().cloned().collect());
        names.sort();
        let repositories = names
            .iter()
            .filter_map(|n| state.status_with(n, &indexed))
            .collect();
        Ok(Response::new(pb::ListRepositoriesResponse { repositories }))
    }

    async fn get(
        &self,
        request: Request<pb::GetRepositoryRequest>,
    ) -> Result<pb::RepositoryStatus> {
        let repo = request.into_inner().repository;
        aiex_node::ingest::validate_repo_name(&repo).map_err(GatewayError::from)?;
        Ok(Response::new(self.0.status(&repo).await?))
    }

    async fn remove(
        &self,
        request: Request<pb::RemoveRepositoryRequest>,
    ) -> Result<pb::RemoveRepositoryResponse> {
        let state = &self.0;
        let repo = request.into_inner().repository;
        aiex_node::ingest::validate_repo_name(&repo).map_err(GatewayError::from)?;
        state.known(&repo)?;
        // Hold the upload mark so no upload starts while the repository is removed.
        let guard = state
            .registry
            .begin_upload(&repo, &crate::registry::Source::default())?;
        let files: Vec<(String, u32)> = state.registry.with(|r| {
            r.get(&repo)
                .map(|e| {
                    e.files
                        .iter()
                        .map(|(p, v)| (p.clone(), v.partition))
                        .collect()
                })
                .unwrap_or_default()
        });
        let removed = files.len() as u64;
        let mut targets = BTreeMap::new();
        for batch in files.chunks(1024) {
            let records = batch
                .iter()
                .map(|(path, p)| aiex_node::bus::files::delete(*p, &repo, path))
                .collect();
            let seqs = state
                .registry
                .bus()
                .publish(aiex_proto::subjects::FILES_STREAM, records)
                .await
                .map_err(GatewayError::from)?;
            for ((_, p), seq) in batch.iter().zip(seqs) {
                let t = targets.entry(*p).or_insert(0);
                *t = seq.max(*t);
            }
        }
        drop(guard);
        state.registry.forget(&repo).await?;
        if !state
            .backend
            .wait_applied(&targets, state.config.apply_timeout)
            .await
        {
            return Err(GatewayError::Unavailable(format!(
                "repository `{repo}` was removed, but the index has not caught up after {:?}; its chunks disappear when it does",
                state.config.apply_timeout
            ))
            .into());
        }
        Ok(Response::new(pb::RemoveRepositoryResponse {
            files_removed: removed,
        }))
    }

    async fn reindex(&self, request: Request<pb::ReindexRequest>) -> Result<pb::RepositoryStatus> {
        let state = &self.0;
        let repo = request.into_inner().repository;
        aiex_node::ingest::validate_repo_name(&repo).map_err(GatewayError::from)?;
        state.known(&repo)?;
        let _guard = state
            .registry
            .begin_upload(&repo, &crate::registry::Source::default())?;
        state
            .backend
            .reindex(&repo)
            .await
            .map_err(GatewayError::from)?;
        drop(_guard);
        Ok(Response::new(state.status(&repo).await?))
    }
}

/// The Search service.
pub struct SearchService(pub Arc<GatewayState>);

fn span(start_line: u32, end_line: u32, start_byte: usize, end_byte: usize) -> Option<pb::Span> {
    Some(pb::Span {
        start_line,
        end_line,
        start_byte: start_byte as u64,
        end_byte: end_byte as u64,
    })
}

/// A definition or call site as the API returns it.
pub fn site_ref(s: SymbolSite) -> pb::SymbolRef {
    pb::SymbolRef {
        symbol: s.symbol,
        repository: s.repo,
        path: s.path,
        span: span(s.start_line, s.end_line, 0, 0),
        kind: s.kind.as_str().to_string(),
        signature: s.signature,
        module: s.module,
        quoted_at: s.quoted_at.as_ref().map(aiex_node::graph::QuotedAt::to_pb),
        generated_by: s.generated_by.unwrap_or_default(),
        named_after: s.named_after.unwrap_or_default(),
        call_lines: Vec::new(),
        call_text: String::new(),
    }
}

/// Callers' files read for their call lines, at most: past them (a module used in
/// thousands of files), a caller is shown at its definition's line, and the answer's note
/// says so.
pub const MAX_CALL_SITE_FILES: usize = 1024;

/// The callers of `symbol` as references, each with the lines of its code that make the
/// call (see [`aiex_node::graph::sites`]), read from `source` one file at a time, and a
/// note when some files were not read ([`MAX_CALL_SITE_FILES`], [`CALL_SITE_TIME`],
/// [`MAX_CALL_SITE_FAILURES`]). A file that cannot be read leaves its callers at their
/// definitions' lines, as does a source that is not there.
pub fn caller_refs(
    source: Option<&(dyn aiex_node::context::ChunkSource + Send + Sync)>,
    graph: &aiex_node::graph::SymbolGraph,
    sites: Vec<SymbolSite>,
    symbol: &str,
) -> (Vec<pb::SymbolRef>, String) {
    use aiex_node::graph::sites::{Callee, CalleeKind, add_use_imports, call_place};
    let callee = Callee::of(symbol).map(|c| c.with_arities(graph.definition_arities(symbol)));
    let started = Instant::now();
    let (mut read, mut failed, mut unread) = (0usize, 0usize, 0usize);
    // Callers come by place, so a file's are together: one file's chunks are held at once.
    let mut current: Option<(FileKey, Option<Vec<aiex_node::chunk::Chunk>>)> = None;
    let refs = (sites.into_iter())
        .map(|site| {
            let (from, to) = (site.start_line, site.end_line);
            let key = (site.repo.clone(), site.path.clone());
            let caller = site.symbol.clone();
            let mut r = site_ref(site);
            let (Some(source), Some(callee)) = (source, callee.as_ref()) else {
                return r;
            };
            if current.as_ref().is_none_or(|(k, _)| *k != key) {
                let spent = read >= MAX_CALL_SITE_FILES
                    || failed >= MAX_CALL_SITE_FAILURES
                    || started.elapsed() >= CALL_SITE_TIME;
                if spent {
                    unread += 1;
                    current = None;
                    return r;
                }
                read += 1;
                let chunks = match source.file_chunks(&key.0, &key.1) {
                    Ok(mut chunks) => {
                        add_use_imports(&mut chunks, graph);
                        Some(chunks)
                    }
                    Err(e) => {
                        failed += 1;
                        tracing::warn!(repo = %key.0, path = %key.1, error = %e, "cannot read a caller's file for its call lines");
                        None
                    }
                };
                current = Some((key, chunks));
            }
            if let Some((_, Some(chunks))) = &current {
                let mut place = call_place(chunks, from, to, callee);
                // A module's caller that names none of it: its calls of the module's
                // functions by name, through an `import` (`debug(topology, msg)` of
                // `Cluster.Logger`).
                if place.lines.is_empty() && callee.kind == CalleeKind::Module {
                    let prefix = format!("{}.", callee.module);
                    for function in graph.callees(&caller) {
                        let own = (function.strip_prefix(prefix.as_str()))
                            .is_some_and(|rest| !rest.contains('.') && rest.contains('/'));
                        let Some(f) = Callee::of(&function).filter(|_| own) else {
                            continue;
                        };
                        let found = call_place(chunks, from, to, &f);
                        // The text of the first line.
                        let first = |p: &[u32]| p.first().copied().unwrap_or(u32::MAX);
                        if first(&found.lines) < first(&place.lines) {
                            place.text = found.text;
                        }
                        place.lines.extend(found.lines);
                    }
                    place.lines.sort_unstable();
                    place.lines.dedup();
                }
                r.call_lines = place.lines;
                r.call_text = place.text;
            }
            r
        })
        .collect();
    let note = match unread {
        0 => String::new(),
        n => format!(
            "the last {n} callers are shown at their definitions' lines: call lines are read \
             from at most {MAX_CALL_SITE_FILES} files, for at most {} seconds, until {} \
             files cannot be read",
            CALL_SITE_TIME.as_secs(),
            MAX_CALL_SITE_FAILURES
        ),
    };
    (refs, note)
}

/// A file: its repository and path.
type FileKey = (String, String);

/// How long the callers' files are read for their call lines, at most.
const CALL_SITE_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Callers' files that may fail to be read before the rest are not asked for.
const MAX_CALL_SITE_FAILURES: usize = 3;

/// The callers of `symbol` (see [`callers_of`]) in `repos`, with their call lines, and
/// the answer's note: why it is empty ([`callers_note`]), or which callers have no call
/// lines read.
pub fn callers_answer(
    source: Option<&(dyn aiex_node::context::ChunkSource + Send + Sync)>,
    graph: &aiex_node::graph::SymbolGraph,
    symbol: &str,
    repos: &[String],
) -> std::result::Result<(Vec<pb::SymbolRef>, String), GatewayError> {
    // `did_you_mean/2`: its call lines are looked for as `Mod.did_you_mean/2`'s.
    let (symbol, sites) = callers_named(graph, symbol, repos)?;
    let sites: Vec<SymbolSite> = (sites.into_iter())
        .filter(|s| in_repos(repos, &s.repo))
        .collect();
    if sites.is_empty() {
        return Ok((Vec::new(), callers_note(graph, &symbol)));
    }
    Ok(caller_refs(source, graph, sites, &symbol))
}

pub use aiex_node::service::hit_to_pb;

/// The most arguments an Erlang (so Elixir) function can take.
const MAX_ARITY: u32 = 255;

/// Checks a symbol argument: not blank, at most 1024 bytes.
pub fn symbol_arg(symbol: &str) -> std::result::Result<(), GatewayError> {
    if symbol.trim().is_empty() {
        return Err(GatewayError::InvalidArgument {
            field: "symbol",
            reason: "name a symbol: `Mod.fun/arity`, `Mod.fun` or `Mod`".into(),
        });
    }
    if symbol.len() > 1024 {
        return Err(GatewayError::InvalidArgument {
            field: "symbol",
            reason: "is longer than 1024 bytes".into(),
        });
    }
    let malformed = |why: &str| GatewayError::InvalidArgument {
        field: "symbol",
        reason: format!("`{symbol}` {why}; name a symbol: `Mod.fun/arity`, `Mod.fun` or `Mod`"),
    };
    if symbol.trim() != symbol {
        return Err(malformed("has spaces around it"));
    }
    if symbol.contains(char::is_whitespace) {
        return Err(malformed("has spaces in it"));
    }
    let name = match symbol.rsplit_once('/') {
        // `Kernel./` (division, any arity) and `Kernel...//` name the operator itself.
        Some((name, "")) if name.ends_with('.') || name.ends_with('/') => symbol,
        // `Kernel.//2` is the division operator's symbol: the arity follows the last `/`.
        Some((name, arity))
            if (!name.is_empty() && !name.ends_with('.')) || name.ends_with("..") =>
        {
            if arity.is_empty() || !arity.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed(
                    "has no arity after its `/` (a number such as `/2`)",
                ));
            }
            if arity.parse::<u32>().map_or(true, |a| a > MAX_ARITY) {
                return Err(malformed(&format!(
                    "has an arity over {MAX_ARITY}, the most a function can take"
                )));
            }
            name
        }
        Some(_) => return Err(malformed("names no function before its `/`")),
        None => symbol,
    };
    // `Foo.` is cut short; `Kernel..` (the range operator) is not.
    if name.ends_with('.') && !name.ends_with("..") {
        return Err(malformed("ends with a `.`"));
    }
    Ok(())
}

/// A map's focus must name something indexed: a typo answers NOT_FOUND instead of the
/// unfocused map.
pub fn focus_arg(
    graph: &aiex_node::graph::SymbolGraph,
    focus: &[String],
) -> std::result::Result<(), GatewayError> {
    if graph.focus_names_anything(focus) {
        Ok(())
    } else {
        Err(GatewayError::Node(aiex_node::NodeError::NotFound {
            what: "indexed symbol or module for the focus",
            name: focus.join(", "),
        }))
    }
}

/// What a symbol calls is known only from its definition: a symbol not defined in the
/// indexed code (of `repos`, when given) is NOT_FOUND rather than "calls nothing".
pub fn defined_arg(
    graph: &aiex_node::graph::SymbolGraph,
    symbol: &str,
    repos: &[String],
) -> std::result::Result<(), GatewayError> {
    if graph
        .definitions(symbol)
        .iter()
        .any(|s| in_repos(repos, &s.repo))
    {
        Ok(())
    } else {
        Err(not_indexed_callable(
            graph,
            symbol,
            "indexed definition",
            repos,
        ))
    }
}

/// A module filter that found nothing because no such module is indexed (a typo, or
/// `mint.http` for `Mint.HTTP`: modules are matched as written) is NOT_FOUND, with the
/// modules it may have meant, rather than an empty result.
pub fn module_filter_arg(
    graph: &aiex_node::graph::SymbolGraph,
    module: &str,
) -> std::result::Result<(), GatewayError> {
    if graph.has_module(module) {
        return Ok(());
    }
    let similar: Vec<String> = (graph.similar_modules(module, 4).into_iter())
        .filter(|s| s != module)
        .take(3)
        .collect();
    Err(GatewayError::Node(aiex_node::NodeError::NotFound {
        what: "indexed module",
        name: did_you_mean(module, &similar),
    }))
}

/// A path filter under which nothing is indexed (a typo, a directory of another
/// repository, an absolute path) is NOT_FOUND, rather than an empty result. `under_path` is
/// what the search counted under the path when it found nothing, over every partition.
pub fn path_filter_arg(
    filters: &pb::SearchFilters,
    under_path: Option<u64>,
) -> std::result::Result<(), GatewayError> {
    if under_path != Some(0) {
        return Ok(());
    }
    let repos = match filters.repositories.as_slice() {
        [] => String::new(),
        repos => format!(" of {}", repos.join(", ")),
    };
    Err(GatewayError::Node(aiex_node::NodeError::NotFound {
        what: "indexed path",
        name: format!(
            "{} (nothing indexed{repos} is under it; paths are as results show them: \
             `lib/x`, or `repo/lib/x`)",
            filters.path_prefix
        ),
    }))
}

/// The one function `symbol` names without its module, or by its module's last segments
/// (`did_you_mean/2`, `Tokenizer.tokenize!/2`), as `symbols def` takes it; `None` when it
/// names none, several, or itself.
pub fn one_named(graph: &aiex_node::graph::SymbolGraph, symbol: &str) -> Option<String> {
    match <[String; 1]>::try_from(named_functions(graph, symbol)) {
        Ok([one]) if one != symbol => Some(one),
        _ => None,
    }
}

/// The function `symbol` names as `symbols def` takes it: itself where it is defined,
/// else the one function it names without its module or by its module's last segments
/// (`run_phase`, `Axn.update_status`), every arity of one name counting as one
/// (`Axn.success_event` is `Bonny.Axn.success_event`, `def success_event(axn, opts \\
/// [])`); else itself.
pub fn named_symbol(graph: &aiex_node::graph::SymbolGraph, symbol: &str) -> String {
    if graph.is_defined(symbol) {
        return symbol.to_owned();
    }
    if let Some(one) = one_named(graph, symbol) {
        return one;
    }
    one_name(graph, symbol).unwrap_or_else(|| symbol.to_owned())
}

/// The one `Mod.fun` that every function `symbol` (written without an arity) names
/// shares, when they are one name's arities and it is not `symbol` itself.
fn one_name(graph: &aiex_node::graph::SymbolGraph, symbol: &str) -> Option<String> {
    if symbol.contains('/') {
        return None;
    }
    let named = named_functions(graph, symbol);
    let first = named.first()?.rsplit_once('/')?.0;
    (first != symbol
        && named
            .iter()
            .all(|n| n.rsplit_once('/').is_some_and(|(b, _)| b == first)))
    .then(|| first.to_owned())
}

/// The functions `symbol` names as `symbols def` takes it, each once, sorted.
fn named_functions(graph: &aiex_node::graph::SymbolGraph, symbol: &str) -> Vec<String> {
    let mut named: Vec<String> = (graph.definitions_as_written(symbol, |_| true))
        .into_iter()
        .map(|s| s.symbol)
        .collect();
    named.sort_unstable();
    named.dedup();
    named
}

/// Who calls `symbol`: a function's callers, or for a module (`Ecto.Changeset`) the
/// callers of its functions from outside it. Not found (neither defined nor called) is an
/// error naming the symbols spelled most like it; a defined operator without a caller is
/// an error saying why: its uses are not calls in the symbol graph.
pub fn callers_of(
    graph: &aiex_node::graph::SymbolGraph,
    symbol: &str,
) -> std::result::Result<Vec<aiex_node::graph::SymbolSite>, GatewayError> {
    callers_named(graph, symbol, &[]).map(|(_, sites)| sites)
}

/// [`callers_of`], with the symbol whose callers they are: `symbol` itself, or the one
/// function it names without its module (`did_you_mean/2` as `Mod.did_you_mean/2`).
fn callers_named(
    graph: &aiex_node::graph::SymbolGraph,
    symbol: &str,
    repos: &[String],
) -> std::result::Result<(String, Vec<aiex_node::graph::SymbolSite>), GatewayError> {
    let name = symbol.rsplit_once('/').map_or(symbol, |(name, _)| name);
    let last = name.rsplit_once('.').map_or(name, |(_, last)| last);
    let module = !symbol.contains('/') && last.starts_with(|c: char| c.is_ascii_uppercase());
    let found = if module {
        graph.module_callers(symbol)
    } else {
        graph.callers(symbol)
    };
    if !found.is_empty() {
        return Ok((symbol.to_owned(), found));
    }
    if !module && let Some(one) = one_named(graph, symbol).or_else(|| one_name(graph, symbol)) {
        return callers_named(graph, &one, repos);
    }
    // `run/3`, which 56 modules define: which one is meant is asked, not guessed.
    if !module && !graph.is_defined(symbol) {
        let mut named = named_functions(graph, symbol);
        let total = named.len();
        if total > 1 {
            const LISTED: usize = 5;
            let more = match total.saturating_sub(LISTED) {
                0 => String::new(),
                n => format!(" and {n} more (`aiex symbols def {symbol}` lists them)"),
            };
            named.truncate(LISTED);
            return Err(GatewayError::InvalidArgument {
                field: "symbol",
                reason: format!(
                    "`{symbol}` names {total} functions: {}{more}; name one with its module",
                    named.join(", ")
                ),
            });
        }
    }
    if !graph.is_defined(symbol) {
        // Neither called nor defined: most likely mistyped.
        return Err(not_indexed_callable(
            graph,
            symbol,
            "indexed definition or call",
            repos,
        ));
    }
    let operator = name.contains('.')
        && (last.is_empty() || last.starts_with(|c: char| !(c.is_alphanumeric() || c == '_')));
    if operator {
        // `a + b` and `x |> f()` are not calls in the graph; `Kernel.+(a, b)` would be.
        return Err(GatewayError::InvalidArgument {
            field: "symbol",
            reason: format!(
                "`{symbol}` is an operator: the symbol graph records named calls, not \
                 operators, so its uses are not listed; search for it instead"
            ),
        });
    }
    Ok((symbol.to_owned(), found))
}

/// What `symbol` calls, as references to where each callee is defined (just its name
/// when it is not indexed), each with the lines of `symbol`'s own code that call it (in
/// the file of its first definition in `repos`), read from `source`.
pub fn callee_refs(
    source: Option<&(dyn aiex_node::context::ChunkSource + Send + Sync)>,
    graph: &aiex_node::graph::SymbolGraph,
    symbol: &str,
    repos: &[String],
) -> Vec<pb::SymbolRef> {
    use aiex_node::graph::sites::{Callee, MAX_CALL_LINES, call_place};
    let mut refs: Vec<pb::SymbolRef> = (graph.callees(symbol).into_iter())
        .map(|callee| {
            // Where the callee is defined, when it is indexed.
            match (graph.definitions(&callee).into_iter()).find(|s| in_repos(repos, &s.repo)) {
                Some(site) => site_ref(site),
                None => pb::SymbolRef {
                    symbol: callee,
                    ..Default::default()
                },
            }
        })
        .collect();
    let sites: Vec<SymbolSite> = (graph.definitions(symbol).into_iter())
        // Its own code: written, or a template's that `embed_templates` makes a function.
        .filter(|s| {
            in_repos(repos, &s.repo)
                && (s.generated_by.is_none() || aiex_node::chunk::is_template_path(&s.path))
        })
        .collect();
    let (Some(source), Some(first)) = (source, sites.first()) else {
        return refs;
    };
    let chunks = match source.file_chunks(&first.repo, &first.path) {
        Ok(mut chunks) => {
            aiex_node::graph::sites::add_use_imports(&mut chunks, graph);
            chunks
        }
        Err(e) => {
            tracing::warn!(symbol, error = %e, "cannot read the file of a function for its call lines");
            return refs;
        }
    };
    let mut spans: Vec<(u32, u32)> = (sites.iter())
        .filter(|s| (&s.repo, &s.path) == (&first.repo, &first.path))
        .map(|s| (s.start_line, s.end_line))
        .collect();
    // A module's code is all its header's parts, wherever they are written (a router's
    // scopes after a function), and the module-level code in a function's chunk (a short
    // one after the last function): its module-level calls are made there.
    if !symbol.contains('/') {
        let mut parts: Vec<(u32, u32)> = Vec::new();
        for c in chunks.iter().filter(|c| c.module == symbol) {
            if c.kind == aiex_node::chunk::ChunkKind::ModuleHeader {
                parts.push((c.start_line, c.end_line));
            } else if !c.module_calls.is_empty() {
                // The lines outside the chunk's definitions: not their bodies' calls.
                let mut from = c.start_line;
                let mut defined: Vec<(u32, u32)> = (c.defines.iter())
                    .filter(|d| d.kind.is_callable())
                    .map(|d| (d.line, d.end_line))
                    .collect();
                defined.sort_unstable();
                for (start, end) in defined {
                    if start > from {
                        parts.push((from, start - 1));
                    }
                    from = from.max(end + 1);
                }
                if from <= c.end_line {
                    parts.push((from, c.end_line));
                }
            }
        }
        parts.retain(|span| !spans.contains(span));
        spans.extend(parts);
    }
    for r in &mut refs {
        let Some(callee) = Callee::of(&r.symbol) else {
            continue;
        };
        let callee = callee.with_arities(graph.definition_arities(&r.symbol));
        for &(from, to) in &spans {
            let place = call_place(&chunks, from, to, &callee);
            if r.call_text.is_empty() {
                r.call_text = place.text;
            }
            r.call_lines.extend(place.lines);
        }
        r.call_lines.sort_unstable();
        r.call_lines.dedup();
        r.call_lines.truncate(MAX_CALL_LINES);
    }
    // A server callback reached through a message is shown at the clause that takes it
    // (`GenServer.call(s, {:ack, ids})` at `def handle_call({:ack, ids}, _from, state)`),
    // not at its first clause.
    let in_spans = |line: u32| spans.iter().any(|&(from, to)| (from..=to).contains(&line));
    let sender: String = (chunks.iter())
        .flat_map(aiex_node::chunk::Chunk::numbered_lines)
        .filter(|&(line, _)| in_spans(line))
        .map(|(_, text)| format!("{text}\n"))
        .collect();
    for r in &mut refs {
        let callback = [
            ".handle_call/3",
            ".handle_cast/2",
            ".handle_info/2",
            ".handle_event/3",
        ];
        if r.path.is_empty() || !callback.iter().any(|c| r.symbol.ends_with(c)) {
            continue;
        }
        let Ok(callee_chunks) = source.file_chunks(&r.repository, &r.path) else {
            continue;
        };
        // The clause the first call line reaches (a template pushing two events is
        // listed at the first's), else one any of the calls reaches.
        let first: Option<String> = (r.call_lines.first()).and_then(|&first| {
            (chunks.iter())
                .flat_map(aiex_node::chunk::Chunk::numbered_lines)
                .find(|&(line, _)| line == first)
                .map(|(_, text)| text.to_string())
        });
        let clause = |sender: &str| {
            aiex_node::context::clause_taking_message(&callee_chunks, &r.symbol, sender)
        };
        if let Some((line, head)) = first
            .as_deref()
            .and_then(clause)
            .or_else(|| clause(&sender))
            && let Some(span) = r.span.as_mut()
        {
            span.start_line = line;
            span.end_line = span.end_line.max(line);
            r.signature = head;
        }
    }
    refs
}

/// Why `symbol` has no callers, when the graph knows: it is a callback, which code calls
/// through the modules implementing it, or it implements one, which its behaviour's code
/// calls. Empty otherwise.
pub fn callers_note(graph: &aiex_node::graph::SymbolGraph, symbol: &str) -> String {
    let declared = (graph.definitions(symbol).iter())
        .any(|s| s.signature.starts_with("@callback") || s.signature.starts_with("@macrocallback"));
    if declared {
        return format!(
            "it is a callback: code calls the functions of the modules implementing it, which \
             `aiex symbols impls {symbol}` lists; their callers are each their own"
        );
    }
    // `Mod.fun`: the callbacks any of its arities implements.
    let mut callbacks: Vec<String> = match symbol.contains('/') {
        true => graph.implemented_callbacks(symbol),
        false => (graph.definitions(symbol).iter())
            .flat_map(|s| graph.implemented_callbacks(&s.symbol))
            .collect(),
    };
    callbacks.sort();
    callbacks.dedup();
    if callbacks.is_empty() {
        // A protocol's implementation, the protocol not indexed (a dependency's): code
        // calls the protocol's function, which dispatches to it.
        return match graph.implemented_protocol_function(symbol) {
            Some(function) => format!(
                "it implements the protocol function {function}: code calls that function, \
                 which dispatches to it by the type of its first argument; `aiex symbols \
                 callers {function}` lists that code"
            ),
            None => String::new(),
        };
    }
    // Code calling the callback through a module chosen at run time (`adapter.get(url)`,
    // which the graph links to the callback): named, for the functions to be found.
    // Not a callback that is a function too (`Mix.Task.run/1`): its callers run that
    // function (`Mix.Task.run("compile")`), not this one.
    let through: Vec<String> = (callbacks.iter())
        .filter(|c| !graph.callers(c).is_empty() && !graph.callback_is_a_function(c))
        .map(|c| format!("`aiex symbols callers {c}`"))
        .collect();
    if !through.is_empty() {
        return format!(
            "it implements the callback {}: code calls it through a module chosen at run \
             time, not by this name; {} lists that code",
            callbacks.join(", "),
            through.join(", ")
        );
    }
    // A process's `init/1` started with its module written (`GenServer.start_link(
    // __MODULE__, …)`) has that start as its caller; one started through a module held
    // in a variable has none to name.
    format!(
        "it implements the callback {}: the behaviour's code calls it, through the module \
         it is given at run time, not by this name",
        callbacks.join(", ")
    )
}

/// `what` not found for `symbol`, with the defined symbols spelled most like it.
pub fn not_indexed(
    graph: &aiex_node::graph::SymbolGraph,
    symbol: &str,
    what: &'static str,
    repos: &[String],
) -> GatewayError {
    not_found_among(
        symbol,
        in_repos_only(graph, graph.similar(symbol, 12), repos),
        what,
    )
}

/// Of `similar`, those defined in `repos` (all, when none are given): `--repo` narrows
/// the names a mistyped one may have meant as it narrows the answer.
fn in_repos_only(
    graph: &aiex_node::graph::SymbolGraph,
    similar: Vec<String>,
    repos: &[String],
) -> Vec<String> {
    if repos.is_empty() {
        return similar;
    }
    (similar.into_iter())
        .filter(|s| (graph.definitions(s).iter()).any(|d| in_repos(repos, &d.repo)))
        .collect()
}

/// [`not_indexed`] for what calls or is called (`callers`, `callees`): the symbols it
/// offers are functions, macros and modules, never types.
pub fn not_indexed_callable(
    graph: &aiex_node::graph::SymbolGraph,
    symbol: &str,
    what: &'static str,
    repos: &[String],
) -> GatewayError {
    let similar = in_repos_only(graph, graph.similar_callables(symbol, 12), repos);
    not_found_among(symbol, similar, what)
}

fn not_found_among(symbol: &str, similar: Vec<String>, what: &'static str) -> GatewayError {
    // Never the name itself (`impls Enum`: a module, but no behaviour).
    let similar: Vec<String> = (similar.into_iter())
        .filter(|s| s != symbol)
        .take(3)
        .collect();
    let name = did_you_mean(symbol, &similar);
    GatewayError::Node(aiex_node::NodeError::NotFound { what, name })
}

/// `name`, and the names it may have meant.
fn did_you_mean(name: &str, similar: &[String]) -> String {
    if similar.is_empty() {
        name.to_string()
    } else {
        format!("{name} (did you mean {}?)", similar.join(", "))
    }
}

/// The implementations of a behaviour, protocol or callback (see
/// [`SymbolGraph::implementations`](aiex_node::graph::SymbolGraph::implementations)) in
/// `repos` (all when empty). NOT_FOUND when no indexed module implements the behaviour
/// named (or the callback's module), or when the behaviour is indexed and does not
/// declare the callback named: a declared callback no implementation defines is an empty
/// answer.
pub fn implementations(
    graph: &aiex_node::graph::SymbolGraph,
    symbol: &str,
    repos: &[String],
) -> std::result::Result<Vec<pb::SymbolRef>, GatewayError> {
    let head = symbol.rsplit_once('/').map_or(symbol, |(h, _)| h);
    // A callback (`B.fun/2`, `B.fun`) is looked up through its behaviour; a module
    // (`MyAppWeb.Router`) is one itself, whatever its parent is.
    let behaviour = match head.rsplit_once('.') {
        Some((m, fun)) if symbol.contains('/') || !fun.starts_with(char::is_uppercase) => m,
        _ => head,
    };
    if !graph.has_implementations(behaviour) {
        // A behaviour that modules implement without saying so (`@behaviour` left out).
        let declared = graph.declared_callbacks(behaviour);
        if !declared.is_empty() {
            let shown: Vec<&str> = (declared.iter().take(5))
                .map(|c| c.strip_prefix(behaviour).map_or(c.as_str(), |c| &c[1..]))
                .collect();
            let more = match declared.len() > shown.len() {
                true => format!(" and {} more", declared.len() - shown.len()),
                false => String::new(),
            };
            return Err(GatewayError::Node(aiex_node::NodeError::NotFound {
                what: "module declaring `@behaviour` of an indexed behaviour",
                name: format!(
                    "{behaviour} declares callbacks ({}{more}), but no indexed module says \
                     `@behaviour {behaviour}`; modules that implement it without saying so \
                     are found by `aiex symbols def` of a callback's name (`aiex symbols def \
                     {}`)",
                    shown.join(", "),
                    shown
                        .first()
                        .map_or("fun", |c| c.split('/').next().unwrap_or(c)),
                ),
            }));
        }
        return Err(not_found_among(
            symbol,
            graph.similar_behaviours(symbol, 4),
            "behaviour or protocol with indexed implementations",
        ));
    }
    // A callback the indexed behaviour does not declare (a typo, a wrong arity), and
    // that nothing implements either (a `use`d module's overridable quoted function is
    // implemented without a `@callback`), is not an empty answer.
    let found = graph.implementations(symbol);
    if found.is_empty()
        && behaviour != head
        && graph.has_module(behaviour)
        && graph.definitions(symbol).is_empty()
    {
        return Err(not_indexed(
            graph,
            symbol,
            "callback of an indexed behaviour or protocol",
            repos,
        ));
    }
    Ok((found.into_iter())
        .filter(|s| in_repos(repos, &s.repo))
        .map(site_ref)
        .collect())
}

/// Whether `repo` is among `repos` (every repository when none is named).
pub fn in_repos(repos: &[String], repo: &str) -> bool {
    repos.is_empty() || repos.iter().any(|r| r == repo)
}

impl SearchService {
    /// Puts first the functions a `use` defines or a `for` names that the request names,
    /// when no hit is their definition and their module (its header with a `use`, or a
    /// definition it names at compile time) passes its filters.
    async fn add_generated(
        &self,
        request: &aiex_node::search::SearchRequest,
        hits: &mut Vec<pb::SearchHit>,
    ) -> std::result::Result<(), GatewayError> {
        let Some(symbol) = generated::function_to_look_up(request, hits) else {
            return Ok(());
        };
        let [headers, placeholders] = generated::lookup_searches(&symbol, request);
        let (headers, placeholders) = tokio::try_join!(
            self.0.backend.search(headers),
            self.0.backend.search(placeholders)
        )?;
        let mut found = headers.hits;
        found.extend(placeholders.hits);
        if !headers.missing_partitions.is_empty()
            || !placeholders.missing_partitions.is_empty()
            || !generated::may_define(&symbol, &found)
        {
            return Ok(());
        }
        let graph = self.0.backend.graph().await?;
        generated::add_generated_hits(&graph, &symbol, request, &found, hits);
        Ok(())
    }
}

#[tonic::async_trait]
impl pb::search_server::Search for SearchService {
    async fn search(&self, request: Request<pb::SearchRequest>) -> Result<pb::SearchResponse> {
        let started = std::time::Instant::now();
        let request = request.into_inner();
        if let Some(filters) = &request.filters {
            self.0.all_known(&filters.repositories)?;
        }
        let module = (request.filters.as_ref()).map_or(String::new(), |f| f.module.clone());
        let response_filters = request.filters.clone();
        let asked = request.clone();
        let mut response = self
            .0
            .backend
            .search(request)
            .await
            .map_err(GatewayError::from)?;
        // A function a `use` defines or a `for` names has no chunk: the graph knows it
        // (see `aiex_node::search::generated`). Only with every partition's answer (the graph
        // needs them all), and never at the cost of the hits found.
        if response.missing_partitions.is_empty() {
            let local = aiex_node::service::request_from_pb(asked).map_err(GatewayError::from)?;
            if let Err(e) = self.add_generated(&local, &mut response.hits).await {
                tracing::warn!(error = %e, "functions a `use` defines or a `for` names left out of a search");
            }
        }
        if !response.hits.is_empty() {
            response.under_path = None;
        }
        // The whole search, the look-up included.
        response.took_micros = started.elapsed().as_micros() as u64;
        crate::metrics::searched(started.elapsed(), !response.missing_partitions.is_empty());
        // Only when every partition answered: one that did not may hold the module or
        // the path.
        if response.hits.is_empty() && response.missing_partitions.is_empty() {
            if let Some(filters) = &response_filters {
                path_filter_arg(filters, response.under_path)?;
            }
            if !module.is_empty() {
                let graph = self.0.backend.graph().await.map_err(GatewayError::from)?;
                module_filter_arg(&graph, &module)?;
            }
        }
        Ok(Response::new(response))
    }

    async fn definition(&self, request: Request<pb::SymbolRequest>) -> Result<pb::SymbolResponse> {
        let req = request.into_inner();
        symbol_arg(&req.symbol)?;
        self.0.all_known(&req.repositories)?;
        let graph = self.0.backend.graph().await.map_err(GatewayError::from)?;
        let refs: Vec<pb::SymbolRef> = graph
            .definitions_as_written(&req.symbol, |s| in_repos(&req.repositories, &s.repo))
            .into_iter()
            .map(site_ref)
            .collect();
        if refs.is_empty() {
            return Err(
                not_indexed(&graph, &req.symbol, "indexed definition", &req.repositories).into(),
            );
        }
        Ok(Response::new(pb::SymbolResponse {
            refs,
            note: String::new(),
        }))
    }

    async fn callers(&self, request: Request<pb::SymbolRequest>) -> Result<pb::SymbolResponse> {
        let req = request.into_inner();
        symbol_arg(&req.symbol)?;
        self.0.all_known(&req.repositories)?;
        let graph = self.0.backend.graph().await.map_err(GatewayError::from)?;
        let source = self.0.backend.chunk_source();
        let (refs, note) = tokio::task::spawn_blocking(move || {
            callers_answer(source.as_deref(), &graph, &req.symbol, &req.repositories)
        })
        .await
        .map_err(|e| GatewayError::from(aiex_node::NodeError::from(e)))??;
        Ok(Response::new(pb::SymbolResponse { refs, note }))
    }

    async fn callees(&self, request: Request<pb::SymbolRequest>) -> Result<pb::SymbolResponse> {
        let req = request.into_inner();
        symbol_arg(&req.symbol)?;
        self.0.all_known(&req.repositories)?;
        let graph = self.0.backend.graph().await.map_err(GatewayError::from)?;
        let symbol = named_symbol(&graph, &req.symbol);
        defined_arg(&graph, &symbol, &req.repositories)?;
        let source = self.0.backend.chunk_source();
        let refs = tokio::task::spawn_blocking(move || {
            callee_refs(source.as_deref(), &graph, &symbol, &req.repositories)
        })
        .await
        .map_err(|e| GatewayError::from(aiex_node::NodeError::from(e)))?;
        Ok(Response::new(pb::SymbolResponse {
            refs,
            note: String::new(),
        }))
    }

    async fn implementations(
        &self,
        request: Request<pb::SymbolRequest>,
    ) -> Result<pb::SymbolResponse> {
        let req = request.into_inner();
        symbol_arg(&req.symbol)?;
        self.0.all_known(&req.repositories)?;
        let graph = self.0.backend.graph().await.map_err(GatewayError::from)?;
        let refs = implementations(&graph, &req.symbol, &req.repositories)?;
        Ok(Response::new(pb::SymbolResponse {
            refs,
            note: String::new(),
        }))
    }

    async fn repo_map(&self, request: Request<pb::RepoMapRequest>) -> Result<pb::RepoMapResponse> {
        let req = request.into_inner();
        let budget = if req.token_budget == 0 {
            1024
        } else {
            req.token_budget as usize
        };
        if budget > 1_000_000 {
            return Err(GatewayError::InvalidArgument {
                field: "token_budget",
                reason: format!("must be at most 1000000, got {budget}"),
            }
            .into());
        }
        self.0.all_known(&req.repositories)?;
        let graph = self.0.backend.graph().await.map_err(GatewayError::from)?;
        focus_arg(&graph, &req.focus)?;
        let (map, tokens) = graph.repo_map_in(budget, &req.focus, &req.repositories);
        Ok(Response::new(pb::RepoMapResponse {
            map,
            tokens: tokens as u32,
        }))
    }

    async fn context(&self, request: Request<pb::ContextRequest>) -> Result<pb::ContextResponse> {
        let req = request.into_inner();
        self.0.all_known(&req.repositories)?;
        let backend = &self.0.backend;
        let Some(source) = backend.chunk_source() else {
            return Err(GatewayError::FailedPrecondition(
                "context in cluster mode is not wired yet: use the embedded mode (`aiex up`) or `aiex context --offline`".into(),
            )
            .into());
        };
        let (context_request, counter) =
            aiex_node::service::context_request_from_pb(&req).map_err(GatewayError::from)?;
        let hits = match aiex_node::service::context_search(&req) {
            Some(search) => {
                backend
                    .search(search)
                    .await
                    .map_err(GatewayError::from)?
                    .hits
            }
            None => Vec::new(),
        };
        let graph = backend.graph().await.map_err(GatewayError::from)?;
        let context = tokio::task::spawn_blocking(move || {
            let hits = aiex_node::service::hits_from_pb(source.as_ref(), hits)?;
            aiex_node::context::ContextBuilder::new(&graph, source.as_ref(), counter)
                .search_hits(hits)
                .build(&context_request)
        })
        .await
        .map_err(|e| GatewayError::Internal(e.to_string()))?
        .map_err(GatewayError::from)?;
        Ok(Response::new(aiex_node::service::context_to_pb(&context)))
    }
}

/// The Cluster service: one member in the embedded mode.
pub struct ClusterService(pub Arc<GatewayState>);

#[tonic::async_trait]
impl pb::cluster_server::Cluster for ClusterService {
    async fn status(
        &self,
        _request: Request<pb::ClusterStatusRequest>,
    ) -> Result<pb::ClusterStatus> {
        let state = &self.0;
        let me = pb::Member {
            node_id: state.config.node_id.clone(),
            generation: state.generation(),
            role: pb::Role::Gateway as i32,
            grpc_address: state.config.listen.to_string(),
            ready: true,
        };
        Ok(Response::new(state.backend.cluster_status(me)))
    }
}

impl GatewayState {
    /// Start time in milliseconds since the epoch (a member's generation).
    pub fn generation(&self) -> u64 {
        let since_start = self.started.elapsed();
        std::time::SystemTime::now()
            .checked_sub(since_start)
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// Aiex's own health summary.
pub struct HealthService(pub Arc<GatewayState>);

#[tonic::async_trait]
impl pb::health_server::Health for HealthService {
    async fn check(
        &self,
        _request: Request<pb::HealthCheckRequest>,
    ) -> Result<pb::HealthCheckResponse> {
        Ok(Response::new(pb::HealthCheckResponse {
            live: true,
            ready: true,
            version: env!("CARGO_PKG_VERSION").into(),
            node_id: self.0.config.node_id.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aiex_node::chunk::{ChunkerConfig, FileChunks, chunk_file};
    use aiex_node::graph::SymbolGraph;

    /// A chunk source whose every file read fails (a node that stopped answering).
    struct Unreadable;

    impl aiex_node::context::ChunkSource for Unreadable {
        fn definition(&self, _: &str) -> aiex_node::error::Result<Vec<aiex_node::chunk::Chunk>> {
            Ok(Vec::new())
        }
        fn file_chunks(
            &self,
            _: &str,
            path: &str,
        ) -> aiex_node::error::Result<Vec<aiex_node::chunk::Chunk>> {
            Err(aiex_node::NodeError::Unavailable(format!(
                "{path}: no node answered"
            )))
        }
        fn repos_with_file(&self, _: &str) -> aiex_node::error::Result<Vec<String>> {
            Ok(Vec::new())
        }
    }

    /// Callers' files that cannot be read leave them at their definitions' lines; after a
    /// few failures the rest are not asked for, and the answer says how many.
    #[test]
    fn callers_whose_files_cannot_be_read_keep_their_definitions_lines() {
        let mut files: Vec<(String, String)> = vec![(
            "lib/t.ex".into(),
            "defmodule T do\n  def go(x), do: x\nend\n".into(),
        )];
        for i in 0..5 {
            files.push((
                format!("lib/c{i}.ex"),
                format!("defmodule C{i} do\n  def run(x) do\n    T.go(x)\n  end\nend\n"),
            ));
        }
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, s)| (p.as_str(), s.as_str()))
            .collect();
        let g = graph(&files);
        let (refs, note) = callers_answer(Some(&Unreadable), &g, "T.go/1", &[]).unwrap();
        assert_eq!(refs.len(), 5);
        assert!(
            refs.iter()
                .all(|r| r.call_lines.is_empty() && r.span.unwrap().start_line == 2)
        );
        assert!(
            note.starts_with("the last 2 callers are shown at their definitions' lines"),
            "{note}"
        );
        // With no source at all, the same refs and no note.
        let (refs, note) = callers_answer(None, &g, "T.go/1", &[]).unwrap();
        assert_eq!((refs.len(), note.as_str()), (5, ""));
    }

    /// Every chunk of a few files, in memory.
    struct Files(Vec<aiex_node::chunk::Chunk>);

    impl aiex_node::context::ChunkSource for Files {
        fn definition(
            &self,
            symbol: &str,
        ) -> aiex_node::error::Result<Vec<aiex_node::chunk::Chunk>> {
            Ok((self.0.iter())
                .filter(|c| {
                    c.defines
                        .iter()
                        .any(|d| d.symbols().iter().any(|s| s == symbol))
                })
                .cloned()
                .collect())
        }
        fn file_chunks(
            &self,
            repo: &str,
            path: &str,
        ) -> aiex_node::error::Result<Vec<aiex_node::chunk::Chunk>> {
            Ok((self.0.iter())
                .filter(|c| c.repo == repo && c.path == path)
                .cloned()
                .collect())
        }
        fn repos_with_file(&self, _: &str) -> aiex_node::error::Result<Vec<String>> {
            Ok(vec!["app".to_string()])
        }
    }

    /// A server callback a function reaches by a message is listed at the clause that
    /// takes the message, with that clause's head.
    #[test]
    fn a_callee_reached_by_a_message_is_shown_at_the_clause_that_takes_it() {
        let src = concat!(
            "defmodule Store do\n",                                                 // 1
            "  use GenServer\n",                                                    // 2
            "  def ack(s, ids), do: GenServer.call(s, {:ack, ids, false})\n",       // 3
            "  def peek(s), do: GenServer.call(s, :peek)\n",                        // 4
            "  def handle_call({:put, items}, _from, state) do\n",                  // 5
            "    {:reply, :ok, [items | state]}\n",                                 // 6
            "  end\n",                                                              // 7
            "\n",                                                                   // 8
            "  def handle_call({:ack, ids, _}, _from, state) do\n",                 // 9
            "    {:reply, ids, state}\n",                                           // 10
            "  end\n",                                                              // 11
            "  def handle_call(:peek, _from, state), do: {:reply, state, state}\n", // 12
            "end\n",                                                                // 13
        );
        let FileChunks::Chunked(chunks) = chunk_file(
            "app",
            "lib/store.ex",
            src.as_bytes(),
            &ChunkerConfig::default(),
        ) else {
            panic!("chunked");
        };
        let g = SymbolGraph::build(&chunks);
        let source = Files(chunks);
        let at = |symbol: &str| {
            let refs = callee_refs(Some(&source), &g, symbol, &[]);
            let r = (refs.into_iter())
                .find(|r| r.symbol == "Store.handle_call/3")
                .unwrap_or_else(|| panic!("{symbol} calls handle_call/3"));
            (r.span.unwrap().start_line, r.signature)
        };
        assert_eq!(
            at("Store.ack/2"),
            (
                9,
                "def handle_call({:ack, ids, _}, _from, state) do".to_string()
            )
        );
        assert_eq!(at("Store.peek/1").0, 12);
    }

    /// A template's function (`embed_templates`) has its callees' call lines, in the
    /// template (LiveAdmin's `layout.html.heex` calling `render_css/1`).
    #[test]
    fn a_template_function_s_callees_are_called_on_its_lines() {
        let view = "defmodule Admin.View do\n  use Phoenix.Component\n  embed_templates \"view/*\"\n  def render_css(session), do: session\nend\n";
        let template = "<html>\n<style><%= raw(render_css(@session)) %></style>\n</html>\n";
        let chunks = chunked(&[
            ("lib/admin/view.ex", view),
            ("lib/admin/view/layout.html.heex", template),
        ]);
        let g = SymbolGraph::build(&chunks);
        let source = Files(chunks);
        let refs = callee_refs(Some(&source), &g, "Admin.View.layout/1", &[]);
        let css = (refs.iter())
            .find(|r| r.symbol == "Admin.View.render_css/1")
            .unwrap_or_else(|| panic!("{refs:?}"));
        assert_eq!(css.call_lines, vec![2]);
    }

    /// A function a `use` imports, called both bare and with its module in one caller,
    /// is called on every such line (ex_admin's tests: the bare calls' lines were lost
    /// beside a qualified one), and so are the caller's lines of its callee.
    #[test]
    fn bare_calls_through_a_use_s_import_beside_a_qualified_one_keep_their_lines() {
        let case = "defmodule Syn.Case do\n  use ExUnit.CaseTemplate\n  using do\n    quote do\n      import Syn.Util\n    end\n  end\nend\n";
        let util = "defmodule Syn.Util do\n  def helper(x), do: x\nend\n";
        let test = concat!(
            "defmodule Syn.BTest do\n",     // 1
            "  use Syn.Case\n",             // 2
            "  def plain(x) do\n",          // 3
            "    a = helper(x)\n",          // 4
            "    b = Syn.Util.helper(a)\n", // 5
            "    helper(b)\n",              // 6
            "  end\n",                      // 7
            "end\n",                        // 8
        );
        let chunks = chunked(&[
            ("test/support/case.ex", case),
            ("lib/util.ex", util),
            ("test/b_test.exs", test),
        ]);
        let g = SymbolGraph::build(&chunks);
        let source = Files(chunks);
        let (refs, _) = callers_answer(Some(&source), &g, "Syn.Util.helper/1", &[]).unwrap();
        let plain = (refs.iter())
            .find(|r| r.symbol == "Syn.BTest.plain/1")
            .unwrap_or_else(|| panic!("{refs:?}"));
        assert_eq!(plain.call_lines, vec![4, 5, 6]);
        let refs = callee_refs(Some(&source), &g, "Syn.BTest.plain/1", &[]);
        let helper = (refs.iter())
            .find(|r| r.symbol == "Syn.Util.helper/1")
            .unwrap_or_else(|| panic!("{refs:?}"));
        assert_eq!(helper.call_lines, vec![4, 5, 6]);
    }

    /// A module's callees are called where any part of its header is written: a
    /// router's routes in scopes after a function of its own (Sentry's phoenix_app).
    #[test]
    fn a_modules_callees_are_called_in_every_part_of_its_header() {
        let src = concat!(
            "defmodule Web.Router do\n",                        // 1
            "  use Phoenix.Router\n",                           // 2
            "  pipeline :api do\n",                             // 3
            "    plug :put_cors\n",                             // 4
            "  end\n",                                          // 5
            "\n",                                               // 6
            "  defp put_cors(conn, _opts) do\n",                // 7
            "    conn\n",                                       // 8
            "  end\n",                                          // 9
            "\n",                                               // 10
            "  scope \"/\", Web do\n",                          // 11
            "    pipe_through :api\n",                          // 12
            "    get \"/\", PageController, :home\n",           // 13
            "    get \"/about\", PageController, :about\n",     // 14
            "    get \"/contact\", PageController, :contact\n", // 15
            "  end\n",                                          // 16
            "end\n",                                            // 17
        );
        let page = concat!(
            "defmodule Web.PageController do\n",
            "  def home(conn, _), do: conn\n",
            "  def about(conn, _), do: conn\n",
            "  def contact(conn, _), do: conn\n",
            "end\n",
        );
        let chunks = chunked(&[("lib/router.ex", src), ("lib/page.ex", page)]);
        let g = SymbolGraph::build(&chunks);
        let source = Files(chunks);
        let refs = callee_refs(Some(&source), &g, "Web.Router", &[]);
        let lines = |symbol: &str| {
            (refs.iter())
                .find(|r| r.symbol == symbol)
                .unwrap_or_else(|| panic!("Web.Router calls {symbol}: {refs:#?}"))
                .call_lines
                .clone()
        };
        assert_eq!(lines("Web.PageController.home/2"), vec![13]);
        assert_eq!(lines("Web.Router.put_cors/2"), vec![4]);

        // A short scope after the last function, in its chunk: the module's code still.
        let short = src.replace(
            "    get \"/about\", PageController, :about\n    get \"/contact\", PageController, :contact\n",
            "",
        );
        let FileChunks::Chunked(c) = chunk_file(
            "app",
            "lib/router.ex",
            short.as_bytes(),
            &ChunkerConfig::default(),
        ) else {
            panic!("chunked");
        };
        assert!(
            (c.iter()).any(|c| c.name == "put_cors" && c.end_line >= 13),
            "the scope is in the function's chunk for this test"
        );
        let mut chunks = c;
        chunks.extend(source.0.iter().filter(|c| c.path == "lib/page.ex").cloned());
        let g = SymbolGraph::build(&chunks);
        let source = Files(chunks);
        let refs = callee_refs(Some(&source), &g, "Web.Router", &[]);
        let home = (refs.iter()).find(|r| r.symbol == "Web.PageController.home/2");
        assert_eq!(home.map(|r| r.call_lines.clone()), Some(vec![13]));

        // Not the calls in the function's body, which are the function's.
        let src = "defmodule M do\n  @x Foo.bar(0)\n  def run(conn) do\n    conn |> Foo.bar()\n  end\n  Foo.bar(1)\nend\n";
        let FileChunks::Chunked(chunks) =
            chunk_file("app", "lib/m.ex", src.as_bytes(), &ChunkerConfig::default())
        else {
            panic!("chunked");
        };
        let g = SymbolGraph::build(&chunks);
        let source = Files(chunks);
        let refs = callee_refs(Some(&source), &g, "M", &[]);
        let bar = (refs.iter()).find(|r| r.symbol == "Foo.bar/1");
        assert_eq!(
            bar.map(|r| r.call_lines.clone()),
            Some(vec![2, 6]),
            "{refs:#?}"
        );
    }

    /// A behaviour its implementations do not name (`@behaviour` left out, as ExDoc's
    /// formatters do) is not found, and the error says what it declares and where the
    /// implementations may be found.
    #[test]
    fn a_behaviour_nobody_declares_says_what_it_declares() {
        let g = graph(&[
            (
                "lib/formatter.ex",
                "defmodule Doc.Formatter do\n  @callback run(list, map, keyword) :: term\n  @callback name() :: String.t()\nend\n",
            ),
            (
                "lib/html.ex",
                "defmodule Doc.HTML do\n  def run(a, b, c), do: {a, b, c}\nend\n",
            ),
        ]);
        assert_eq!(
            g.declared_callbacks("Doc.Formatter"),
            ["Doc.Formatter.name/0", "Doc.Formatter.run/3"]
        );
        let err = implementations(&g, "Doc.Formatter", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Doc.Formatter declares callbacks (name/0, run/3), but no indexed module says `@behaviour Doc.Formatter`"),
            "{err}"
        );
        assert!(err.contains("`aiex symbols def name`"), "{err}");
        let err = implementations(&g, "Doc.HTML", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("behaviour or protocol with indexed implementations not found"),
            "{err}"
        );
    }

    /// The chunks of `(path, source)` files in repository `app`.
    fn chunked(files: &[(&str, &str)]) -> Vec<aiex_node::chunk::Chunk> {
        let mut chunks = Vec::new();
        for (path, src) in files {
            match chunk_file("app", path, src.as_bytes(), &ChunkerConfig::default()) {
                FileChunks::Chunked(c) => chunks.extend(c),
                FileChunks::Skipped(why) => panic!("{path} skipped: {why}"),
            }
        }
        chunks
    }

    fn graph(files: &[(&str, &str)]) -> SymbolGraph {
        SymbolGraph::build(chunked(files).iter())
    }

    /// A function named without its module that several modules define is asked for
    /// with its module, each named, not reported missing (Operately's 56 `run/3`).
    #[test]
    fn callers_of_a_name_several_modules_define_is_ambiguous() {
        let g = graph(&[
            (
                "lib/a.ex",
                "defmodule App.A do\n  def run(x), do: x\n  def go, do: run(1)\nend\n",
            ),
            (
                "lib/b.ex",
                "defmodule App.B do\n  def run(x), do: x\n  def go, do: run(2)\nend\n",
            ),
        ]);
        match callers_of(&g, "run/1") {
            Err(GatewayError::InvalidArgument { field, reason }) => {
                assert_eq!(field, "symbol");
                assert!(
                    reason.contains("`run/1` names 2 functions: App.A.run/1, App.B.run/1"),
                    "{reason}"
                );
            }
            other => panic!("ambiguous: {other:?}"),
        }
        let sites = callers_of(&g, "App.B.run/1").unwrap();
        assert_eq!(sites.len(), 1);
        assert_eq!(sites[0].symbol, "App.B.go/0");
    }

    /// `callers Mod` lists who calls its functions from outside it (a nested module is
    /// outside); an operator with no recorded call says why instead of "no caller"; a
    /// mistyped name is not found.
    #[test]
    fn callers_of_a_module_an_operator_and_a_typo() {
        let g = graph(&[
            (
                "lib/util.ex",
                "defmodule App.Util do\n  @type trimmed :: String.t()\n  def norm(x), do: trim(x)\n  def trim(x), do: x\nend\n",
            ),
            (
                "lib/util/deep.ex",
                "defmodule App.Util.Deep do\n  def go(x), do: App.Util.norm(x)\n  def more(x), do: x + 1\nend\n",
            ),
            (
                "lib/cart.ex",
                "defmodule App.Cart do\n  alias App.Util\n  def add(x), do: Util.trim(x) |> Util.norm()\n  def deep(x), do: App.Util.Deep.more(x)\n  def a <~> b, do: {a, b}\nend\n",
            ),
        ]);
        let names = |sites: Vec<SymbolSite>| -> Vec<String> {
            sites.into_iter().map(|s| s.symbol).collect()
        };
        assert_eq!(
            names(callers_of(&g, "App.Util").unwrap()),
            ["App.Cart.add/1", "App.Util.Deep.go/1"],
            "by path; App.Util's own norm/1 calling trim/1 is not listed, nor App.Cart.deep/1"
        );
        assert_eq!(
            names(callers_of(&g, "App.Util.trim/1").unwrap()),
            ["App.Cart.add/1", "App.Util.norm/1"]
        );
        // Named without its module, or by its module's last segment, as `def` takes it.
        for short in ["trim/1", "Util.trim/1", "Util.trim"] {
            assert_eq!(
                names(callers_of(&g, short).unwrap()),
                ["App.Cart.add/1", "App.Util.norm/1"],
                "{short}"
            );
        }
        match callers_of(&g, "App.Cart.<~>/2") {
            Err(GatewayError::InvalidArgument { field, reason }) => {
                assert_eq!(field, "symbol");
                assert!(reason.contains("operator"), "{reason}");
            }
            other => panic!("an operator: {other:?}"),
        }
        match callers_of(&g, "App.Utl.trim/1") {
            Err(e @ GatewayError::Node(aiex_node::NodeError::NotFound { .. })) => {
                assert!(e.to_string().contains("App.Util.trim/1"), "{e}")
            }
            other => panic!("a typo: {other:?}"),
        }
        // A typo in a name without its module is offered the functions so named.
        for typo in ["trimm", "trimm/1", "nrom"] {
            match callers_of(&g, typo) {
                Err(e @ GatewayError::Node(aiex_node::NodeError::NotFound { .. })) => {
                    let e = e.to_string();
                    assert!(e.contains("did you mean App.Util."), "{typo}: {e}")
                }
                other => panic!("a typo: {other:?}"),
            }
        }
        // A typo in `callers` and `callees` is offered functions, not the type spelled
        // like it, which `def` offers.
        let e = not_indexed(&g, "App.Util.trimed/0", "indexed definition", &[]).to_string();
        assert!(e.contains("did you mean App.Util.trimmed/0"), "{e}");
        // Under `--repo`, only that repository's names are offered.
        let other = ["other".to_string()];
        let e = not_indexed(&g, "App.Util.trimed/0", "indexed definition", &other).to_string();
        assert!(!e.contains("did you mean"), "{e}");
        let app = ["app".to_string()];
        let e = not_indexed(&g, "App.Util.trimed/0", "indexed definition", &app).to_string();
        assert!(e.contains("did you mean App.Util.trimmed/0"), "{e}");
        let e = defined_arg(&g, "App.Util.trimed/0", &other)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("did you mean"), "{e}");
        for e in [
            callers_of(&g, "App.Util.trimed/0").unwrap_err(),
            defined_arg(&g, "App.Util.trimed/0", &[]).unwrap_err(),
        ] {
            let e = e.to_string();
            assert!(e.contains("did you mean App.Util.trim/1"), "{e}");
            assert!(!e.contains("App.Util.trimmed/0"), "{e}");
        }
        // An operator neither defined nor called is not found, as a name would be.
        assert!(matches!(
            callers_of(&g, "Kernel.+/2"),
            Err(GatewayError::Node(aiex_node::NodeError::NotFound { .. }))
        ));
        // Defined and never called: no error, no caller.
        assert!(callers_of(&g, "App.Cart.deep/1").unwrap().is_empty());
    }

    /// A function implementing a callback that code calls through a module chosen at
    /// run time: the note says where that code is listed.
    #[test]
    fn a_callback_called_through_a_runtime_module_is_pointed_to() {
        let src = "defmodule Faker.Random do\n  @callback random_between(integer(), integer()) :: integer()\nend\ndefmodule Faker.Random.Elixir do\n  @behaviour Faker.Random\n  def random_between(a, b), do: Enum.random(a..b)\nend\ndefmodule Faker do\n  def random_between(a, b), do: Application.get_env(:faker, :random).random_between(a, b)\nend\n";
        let g = graph(&[("lib/faker.ex", src)]);
        let note = callers_note(&g, "Faker.Random.Elixir.random_between/2");
        assert!(
            note.contains("`aiex symbols callers Faker.Random.random_between/2` lists that code"),
            "{note}"
        );
        // A callback that is a function too (`Mix.Task.run/1`, which runs a task by
        // name): its callers run that function, not the task; not pointed to.
        let src = "defmodule Mix.Tasks.Graph do\n  use Mix.Task\n  def run(args), do: args\nend\ndefmodule Mix.Tasks.Check do\n  use Mix.Task\n  def run(_args), do: Mix.Task.run(\"compile\")\nend\n";
        let g = graph(&[("lib/mix/tasks/graph.ex", src)]);
        assert!(!g.callers("Mix.Task.run/1").is_empty());
        let note = callers_note(&g, "Mix.Tasks.Graph.run/1");
        assert!(
            note.contains("implements the callback Mix.Task.run/1"),
            "{note}"
        );
        assert!(!note.contains("aiex symbols callers"), "{note}");
        // A protocol's function is its callback: the code calling it dispatches to the
        // implementations, and is pointed to.
        let src = "defprotocol Auth.Strategy do\n  def plug(strategy, phase, conn)\nend\ndefimpl Auth.Strategy, for: Auth.Password do\n  def plug(_s, _p, conn), do: conn\nend\ndefmodule Auth.Dispatcher do\n  def call(conn, s), do: Auth.Strategy.plug(s, :sign_in, conn)\nend\n";
        let g = graph(&[("lib/auth.ex", src)]);
        let note = callers_note(&g, "Auth.Strategy.Auth.Password.plug/3");
        assert!(
            note.contains("`aiex symbols callers Auth.Strategy.plug/3` lists that code"),
            "{note}"
        );
        // A dependency's protocol, not indexed (phoenix_ecto's `defimpl
        // Phoenix.HTML.FormData, for: Ecto.Changeset`): pointed to all the same.
        let src = "defimpl Phoenix.HTML.FormData, for: Ecto.Changeset do\n  def to_form(changeset, opts), do: {changeset, opts}\nend\ndefmodule App.Form do\n  def f(cs), do: Phoenix.HTML.FormData.to_form(cs, [])\nend\n";
        let g = graph(&[("lib/html.ex", src)]);
        let note = callers_note(&g, "Phoenix.HTML.FormData.Ecto.Changeset.to_form/2");
        assert!(
            note.contains("implements the protocol function Phoenix.HTML.FormData.to_form/2"),
            "{note}"
        );
        assert!(callers_note(&g, "App.Form.f/1").is_empty());
        // Not a module that `use`s a module above it.
        let src = "defmodule MyAppWeb do\n  def controller, do: quote(do: import(Plug.Conn))\n  defmacro __using__(which), do: apply(__MODULE__, which, [])\nend\ndefmodule MyAppWeb.PageController do\n  use MyAppWeb, :controller\n  def helper(x), do: x\nend\n";
        let g = graph(&[("lib/my_app_web.ex", src)]);
        let note = callers_note(&g, "MyAppWeb.PageController.helper/1");
        assert!(!note.contains("protocol"), "{note}");
    }
}
