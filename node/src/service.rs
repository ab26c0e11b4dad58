//! The node's gRPC service inside the mesh (`aiex.mesh.v1.Node`): searches over the
//! partitions this node holds, and their watermarks. Gateways fan a search out to one
//! live holder of every partition and merge the answers.

use std::sync::Arc;

use aiex_proto::mesh::v1 as mesh;
use aiex_proto::v1 as pb;
use tonic::{Request, Response, Status};

use crate::chunk::ChunkKind;
use crate::error::NodeError;
use crate::indexer::Indexer;
use crate::ingest::PartitionSet;
use crate::search::{Filters, MAX_LIMIT, QueryStats, SearchHit, SearchRequest};

/// A search hit as the API returns it.
pub fn hit_to_pb(h: SearchHit) -> pb::SearchHit {
    let signature = h.chunk.signature_for(&h.symbol).to_string();
    let uses = if h.chunk.kind == ChunkKind::ModuleHeader {
        h.chunk.uses
    } else {
        Vec::new()
    };
    // Chunks tile their file, so one may start at the blank lines before its `@doc` or
    // head, and a definition's at a module attribute written before it that is not its
    // own (`@optional_callbacks [configure: 3]`): a hit points at its first line of text,
    // or of the definition, where an editor should jump.
    let (mut blank_lines, mut blank_bytes) = if h.chunk.kind.is_callable() {
        lines_before_the_definition(&h.chunk.content)
    } else {
        leading_blank_lines(&h.chunk.content)
    };
    // A hit on a later function of a merged chunk points at that function's head.
    if let Some(d) = (h.chunk.defines.iter().skip(1))
        .find(|d| d.kind.is_callable() && d.symbols().contains(&h.symbol))
        && d.line > h.chunk.start_line + blank_lines
        && d.line <= h.chunk.end_line
    {
        let skip = (d.line - h.chunk.start_line) as usize;
        let bytes: usize = (h.chunk.content.split_inclusive('\n').take(skip))
            .map(str::len)
            .sum();
        (blank_lines, blank_bytes) = (d.line - h.chunk.start_line, bytes);
    }
    pb::SearchHit {
        repository: h.chunk.repo,
        path: h.chunk.path,
        span: Some(pb::Span {
            start_line: h.chunk.start_line + blank_lines,
            end_line: h.chunk.end_line,
            start_byte: (h.chunk.start_byte + blank_bytes) as u64,
            end_byte: h.chunk.end_byte as u64,
        }),
        module: h.chunk.module,
        symbol: h.symbol,
        kind: h.chunk.kind.as_str().to_string(),
        score: h.score,
        snippet: h.snippet,
        snippet_start_line: h.snippet_start_line,
        chunk_id: h.chunk.id,
        signature,
        generated_by: String::new(),
        quoted_at: None,
        uses,
        named_after: String::new(),
        tags: h.chunk.tags,
    }
}

/// The whole lines of only whitespace a chunk's text starts with, and their bytes; none
/// when the text is nothing else (the span stays whole).
fn leading_blank_lines(content: &str) -> (u32, usize) {
    leading_lines(content, blank)
}

/// Whether a line is only (ASCII) whitespace.
fn blank(line: &str) -> bool {
    line.bytes().all(|b| b.is_ascii_whitespace())
}

/// [`leading_blank_lines`], and the one-line module attributes before a definition that
/// are not its own (not `@doc`, `@spec`, `@impl` and the like), with the blank lines
/// after them; none when nothing else follows.
fn lines_before_the_definition(content: &str) -> (u32, usize) {
    const OWN: [&str; 7] = [
        "doc",
        "spec",
        "impl",
        "deprecated",
        "since",
        "dialyzer",
        "decorate",
    ];
    let balanced = |line: &str| {
        let count = |open: char, close: char| {
            line.chars().filter(|&c| c == open).count()
                == line.chars().filter(|&c| c == close).count()
        };
        count('[', ']')
            && count('(', ')')
            && count('{', '}')
            && line.matches('"').count().is_multiple_of(2)
            && !line.contains("\"\"\"")
            && !line.contains('~')
    };
    leading_lines(content, |line| {
        let text = line.trim();
        blank(line)
            || text.strip_prefix('@').is_some_and(|rest| {
                let name: String = (rest.chars())
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                !name.is_empty() && !OWN.contains(&name.as_str()) && balanced(text)
            })
    })
}

/// The most skipped files' paths one `Repos` answer lists (a gateway counts the files past
/// them as before: unchanged and skipped).
pub const MAX_SKIPPED_PATHS: usize = 20_000;

/// The whole lines `skipped` passes at the start of `content`, and their bytes; none when
/// every line passes (the span stays whole).
fn leading_lines(content: &str, skipped: impl Fn(&str) -> bool) -> (u32, usize) {
    let (mut lines, mut bytes) = (0u32, 0usize);
    for line in content.split_inclusive('\n') {
        if !skipped(line) {
            return (lines, bytes);
        }
        if !line.ends_with('\n') {
            break;
        }
        lines += 1;
        bytes += line.len();
    }
    (0, 0)
}

/// The longest question a context is built for.
pub const MAX_QUESTION_BYTES: usize = 64 * 1024;

/// A context request as the builder takes it, and the counter of its model.
pub fn context_request_from_pb(
    req: &pb::ContextRequest,
) -> Result<(crate::context::ContextRequest, crate::context::TokenCounter), NodeError> {
    if req.target.len() > 1024 {
        return Err(NodeError::InvalidArgument {
            field: "target",
            reason: "is longer than 1024 bytes".into(),
        });
    }
    if req.question.len() > MAX_QUESTION_BYTES {
        return Err(NodeError::InvalidArgument {
            field: "question",
            reason: format!("is longer than {MAX_QUESTION_BYTES} bytes"),
        });
    }
    let model = context_model(req);
    let target = Some(req.target.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let request = crate::context::ContextRequest {
        question: req.question.clone(),
        target,
        budget: (req.token_budget > 0).then_some(req.token_budget as usize),
        repositories: req.repositories.clone(),
    };
    Ok((request, crate::context::TokenCounter::for_model(model)))
}

/// The model a context request counts tokens for.
fn context_model(req: &pb::ContextRequest) -> &str {
    if req.model.trim().is_empty() {
        crate::context::tokens::DEFAULT_MODEL
    } else {
        req.model.trim()
    }
}

/// The search that finds a context's hits (none without a question): as many as the
/// budget shows (see [`crate::context::max_hits`]).
pub fn context_search(req: &pb::ContextRequest) -> Option<pb::SearchRequest> {
    let question = req.question.trim();
    if question.is_empty() {
        return None;
    }
    // The longest query accepted, cut on a character boundary.
    let mut end = question.len().min(MAX_QUERY_BYTES);
    while !question.is_char_boundary(end) {
        end -= 1;
    }
    let budget = if req.token_budget > 0 {
        req.token_budget as usize
    } else {
        crate::context::TokenCounter::for_model(context_model(req)).default_budget()
    };
    // The hits shown first, and as many more to fill a budget they leave room in.
    let hits = crate::context::max_hits(budget) * crate::context::MAX_FILL_HITS;
    Some(pb::SearchRequest {
        query: question[..end].to_string(),
        filters: Some(pb::SearchFilters {
            repositories: req.repositories.clone(),
            ..Default::default()
        }),
        // A target with no repository named keeps the hits of its own repositories,
        // which the search does not know yet: more are asked for, as many are shown.
        limit: if req.target.trim().is_empty() || !req.repositories.is_empty() {
            hits as u32
        } else {
            3 * hits as u32
        },
    })
}

/// API search hits with their chunks, looked up in `source` (hits whose chunk is gone
/// since the search are left out).
pub fn hits_from_pb(
    source: &dyn crate::context::ChunkSource,
    hits: Vec<pb::SearchHit>,
) -> Result<Vec<SearchHit>, NodeError> {
    // Each file's hit chunks, read in one look-up per file.
    let mut ids: std::collections::HashMap<(&str, &str), Vec<String>> = Default::default();
    for h in &hits {
        ids.entry((&h.repository, &h.path))
            .or_default()
            .push(h.chunk_id.clone());
    }
    let mut chunks: std::collections::HashMap<String, crate::chunk::Chunk> = Default::default();
    for ((repo, path), ids) in ids {
        let only = crate::index::FileChunkFilter::Ids(ids);
        for c in source.file_chunks_where(repo, path, &only)? {
            chunks.insert(c.id.clone(), c);
        }
    }
    let mut out = Vec::new();
    for h in hits {
        if let Some(chunk) = chunks.get(&h.chunk_id).cloned() {
            out.push(SearchHit {
                score: h.score,
                partition: 0,
                symbol: h.symbol,
                snippet: h.snippet,
                snippet_start_line: h.snippet_start_line,
                chunk,
            });
        }
    }
    Ok(out)
}

/// A fitted context as the API returns it.
pub fn context_to_pb(c: &crate::context::Context) -> pb::ContextResponse {
    pb::ContextResponse {
        prompt: c.render(),
        tokens: c.tokens as u32,
        budget: c.budget as u32,
        sections: c
            .sections
            .iter()
            .map(|s| pb::ContextSection {
                kind: s.kind.as_str().to_string(),
                title: s.title.clone(),
                tokens: s.tokens as u32,
                collapsed: s.collapsed,
            })
            .collect(),
        dropped: c
            .dropped
            .iter()
            .map(|d| pb::ContextSection {
                kind: d.kind.as_str().to_string(),
                title: d.title.clone(),
                tokens: d.tokens as u32,
                collapsed: false,
            })
            .collect(),
        truncated: c.truncated,
        model: c.model.clone(),
        tokenizer: c.tokenizer.as_str().to_string(),
    }
}

/// The longest query accepted.
pub const MAX_QUERY_BYTES: usize = 4096;

/// An API search request as the index takes it (limit 0 means 10).
pub fn request_from_pb(req: pb::SearchRequest) -> Result<SearchRequest, NodeError> {
    let filters = req.filters.unwrap_or_default();
    let kinds = filters
        .kinds
        .iter()
        .map(|k| {
            k.parse::<ChunkKind>()
                .map_err(|reason| NodeError::InvalidArgument {
                    field: "filters.kinds",
                    reason,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if req.query.len() > MAX_QUERY_BYTES {
        return Err(NodeError::InvalidArgument {
            field: "query",
            reason: format!(
                "the query is {} bytes; the limit is {MAX_QUERY_BYTES}",
                req.query.len()
            ),
        });
    }
    if req.limit as usize > MAX_LIMIT {
        return Err(NodeError::InvalidArgument {
            field: "limit",
            reason: format!("must be at most {MAX_LIMIT}, got {}", req.limit),
        });
    }
    Ok(SearchRequest {
        query: req.query,
        filters: Filters {
            repos: filters.repositories,
            path_prefix: Some(filters.path_prefix).filter(|p| !p.is_empty()),
            kinds,
            module: Some(filters.module).filter(|m| !m.is_empty()),
        },
        limit: if req.limit == 0 {
            10
        } else {
            req.limit as usize
        },
    })
}

fn status(e: NodeError) -> Status {
    let code = match e.code() {
        crate::ErrorCode::InvalidArgument => tonic::Code::InvalidArgument,
        crate::ErrorCode::NotFound => tonic::Code::NotFound,
        crate::ErrorCode::ResourceExhausted => tonic::Code::ResourceExhausted,
        crate::ErrorCode::FailedPrecondition => tonic::Code::FailedPrecondition,
        crate::ErrorCode::Unavailable => tonic::Code::Unavailable,
        crate::ErrorCode::Internal => tonic::Code::Internal,
    };
    Status::new(code, e.to_string())
}

/// Query statistics as the mesh sends them.
pub fn stats_to_pb(stats: &QueryStats) -> mesh::QueryStats {
    mesh::QueryStats {
        total_docs: stats.total_docs,
        field_tokens: stats.field_tokens.iter().map(|(f, n)| (*f, *n)).collect(),
        terms: stats
            .doc_freqs
            .iter()
            .map(|(term, doc_freq)| mesh::TermStat {
                term: term.clone(),
                doc_freq: *doc_freq,
            })
            .collect(),
        missing_partitions: Vec::new(),
    }
}

pub fn stats_from_pb(pb: mesh::QueryStats) -> QueryStats {
    QueryStats {
        total_docs: pb.total_docs,
        field_tokens: pb.field_tokens.into_iter().collect(),
        doc_freqs: pb.terms.into_iter().map(|t| (t.term, t.doc_freq)).collect(),
    }
}

/// `aiex.mesh.v1.Node` over this node's partitions.
pub struct NodeService {
    pub node_id: String,
    pub indexer: Arc<Indexer>,
}

impl NodeService {
    fn set(&self) -> Arc<PartitionSet> {
        self.indexer.partitions().clone()
    }
}

/// Runs blocking index work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, NodeError> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Status::internal(format!("index task failed: {e}")))?
        .map_err(status)
}

#[tonic::async_trait]
impl mesh::node_server::Node for NodeService {
    async fn search(
        &self,
        request: Request<mesh::NodeSearchRequest>,
    ) -> Result<Response<mesh::NodeSearchResponse>, Status> {
        let req = request.into_inner();
        let search = request_from_pb(req.request.ok_or_else(|| {
            status(NodeError::InvalidArgument {
                field: "request",
                reason: "a node search carries the search request".into(),
            })
        })?)
        .map_err(status)?;
        let set = self.set();
        let partitions = req.partitions;
        let stats = req.stats.map(stats_from_pb);
        let found =
            blocking(move || set.search_partitions_with(&search, &partitions, stats.as_ref()))
                .await?;
        Ok(Response::new(mesh::NodeSearchResponse {
            hits: found.hits.into_iter().map(hit_to_pb).collect(),
            missing_partitions: found.not_held,
            under_path: found.under_path,
        }))
    }

    async fn stats(
        &self,
        request: Request<mesh::NodeSearchRequest>,
    ) -> Result<Response<mesh::QueryStats>, Status> {
        let req = request.into_inner();
        let search = request_from_pb(req.request.unwrap_or_default()).map_err(status)?;
        let set = self.set();
        let partitions = req.partitions;
        let (stats, missing) = blocking(move || set.query_stats(&search, &partitions)).await?;
        let mut pb = stats_to_pb(&stats);
        pb.missing_partitions = missing;
        Ok(Response::new(pb))
    }

    async fn partitions(
        &self,
        _request: Request<mesh::PartitionsRequest>,
    ) -> Result<Response<mesh::PartitionsResponse>, Status> {
        let set = self.set();
        let partitions = set
            .held()
            .into_iter()
            .filter_map(|p| {
                set.partition(p).map(|index| mesh::PartitionState {
                    partition: p,
                    watermark: index.watermark(),
                })
            })
            .collect();
        Ok(Response::new(mesh::PartitionsResponse {
            node_id: self.node_id.clone(),
            partitions,
        }))
    }

    async fn repos(
        &self,
        request: Request<mesh::PartitionsQuery>,
    ) -> Result<Response<mesh::ReposResponse>, Status> {
        let query = request.into_inner();
        let set = self.set();
        let of = query.skipped_paths_of.clone();
        let (repos, missing, mut skipped_paths) = blocking(move || {
            let (repos, missing) = set.repos_of(&query.partitions);
            let mut paths = match query.skipped_paths_of.is_empty() {
                true => Vec::new(),
                false => (set.skipped_paths_of(&query.skipped_paths_of, &query.partitions)).0,
            };
            // Bounded, so the answer stays far under a message's size limit.
            paths.truncate(MAX_SKIPPED_PATHS);
            Ok((repos, missing, paths))
        })
        .await?;
        let repositories = repos
            .into_iter()
            .map(|r| {
                let activity = self.indexer.activity(&r.repo);
                let skipped_paths = match r.repo == of {
                    true => std::mem::take(&mut skipped_paths),
                    false => Vec::new(),
                };
                mesh::RepoCounts {
                    skipped_paths,
                    repository: r.repo,
                    files: r.files,
                    chunks: r.chunks,
                    bytes: r.bytes,
                    failed: activity.failed,
                    skipped: r.skipped,
                }
            })
            .collect();
        Ok(Response::new(mesh::ReposResponse {
            repositories,
            missing_partitions: missing,
        }))
    }

    async fn graph_facts(
        &self,
        request: Request<mesh::PartitionsQuery>,
    ) -> Result<Response<mesh::GraphFactsResponse>, Status> {
        let partitions = request.into_inner().partitions;
        let set = self.set();
        let (json, missing) = blocking(move || {
            let (chunks, missing) = set.graph_chunks_of(&partitions)?;
            let json = serde_json::to_vec(&chunks).map_err(|e| NodeError::InvalidArgument {
                field: "chunks",
                reason: format!("cannot encode: {e}"),
            })?;
            Ok((json, missing))
        })
        .await?;
        Ok(Response::new(mesh::GraphFactsResponse {
            chunks_json: json,
            missing_partitions: missing,
        }))
    }

    async fn chunks(
        &self,
        request: Request<mesh::ChunksRequest>,
    ) -> Result<Response<mesh::ChunksResponse>, Status> {
        let req = request.into_inner();
        let set = self.set();
        let (chunks, repositories, missing) = blocking(move || {
            if !req.symbol.is_empty() {
                let (chunks, missing) = set.chunks_of_symbol_in(&req.symbol, &req.partitions)?;
                Ok((chunks, Vec::new(), missing))
            } else if !req.repository.is_empty() {
                let p = aiex_proto::partition::partition_of(
                    &req.repository,
                    &req.path,
                    set.partition_count(),
                );
                if !req.partitions.contains(&p) {
                    return Ok((Vec::new(), Vec::new(), Vec::new()));
                }
                let found = match &req.only {
                    Some(only) => {
                        let only = crate::index::FileChunkFilter::from_pb(only)?;
                        set.chunks_of_file_where(&req.repository, &req.path, &only)
                    }
                    None => set.chunks_of_file(&req.repository, &req.path),
                };
                match found {
                    Ok(chunks) => Ok((chunks, Vec::new(), Vec::new())),
                    Err(NodeError::PartitionNotHeld { partition }) => {
                        Ok((Vec::new(), Vec::new(), vec![partition]))
                    }
                    Err(e) => Err(e),
                }
            } else {
                let (repos, missing) = set.repos_with_file_in(&req.path, &req.partitions);
                Ok((Vec::new(), repos, missing))
            }
        })
        .await?;
        let chunks_json = serde_json::to_vec(&chunks)
            .map_err(|e| Status::internal(format!("cannot encode chunks: {e}")))?;
        Ok(Response::new(mesh::ChunksResponse {
            chunks_json,
            repositories,
            missing_partitions: missing,
        }))
    }

    async fn reindex(
        &self,
        request: Request<mesh::NodeReindexRequest>,
    ) -> Result<Response<mesh::NodeReindexResponse>, Status> {
        let repo = request.into_inner().repository;
        crate::ingest::validate_repo_name(&repo).map_err(status)?;
        let files = self.indexer.reindex(&repo).await.map_err(status)?;
        Ok(Response::new(mesh::NodeReindexResponse { files }))
    }
}

#[cfg(test)]
mod tests {
    use super::{hit_to_pb, leading_blank_lines, lines_before_the_definition};

    /// A hit on a later function of a merged chunk points at its own head, not at the
    /// chunk's first function (Kaffy's `convert_to_atom/1`, shown at another's line).
    #[test]
    fn a_hit_on_a_merged_function_points_at_its_head() {
        use crate::chunk::{ChunkerConfig, FileChunks, chunk_file};
        let src = "defmodule U do\n  def a, do: 1\n\n  def b, do: 2\n\n  defp c(x), do: x\nend\n";
        let FileChunks::Chunked(chunks) =
            chunk_file("r", "lib/u.ex", src.as_bytes(), &ChunkerConfig::default())
        else {
            panic!("chunked")
        };
        let merged = (chunks.iter())
            .find(|c| c.defines.len() > 2)
            .unwrap_or_else(|| panic!("merged: {chunks:#?}"))
            .clone();
        let hit = |symbol: &str| {
            let h = crate::search::SearchHit {
                score: 1.0,
                partition: 0,
                symbol: symbol.to_string(),
                snippet: String::new(),
                snippet_start_line: 0,
                chunk: merged.clone(),
            };
            let span = hit_to_pb(h).span.expect("a span");
            let at = span.start_byte as usize;
            (
                span.start_line,
                src[at..].lines().next().unwrap_or("").to_string(),
            )
        };
        assert_eq!(hit("U.a/0"), (2, "  def a, do: 1".to_string()));
        assert_eq!(hit("U.b/0"), (4, "  def b, do: 2".to_string()));
        assert_eq!(hit("U.c/1"), (6, "  defp c(x), do: x".to_string()));
    }

    #[test]
    fn a_definitions_hit_starts_after_module_attributes_not_its_own() {
        let glued = "\n  @optional_callbacks [configure: 3]\n\n  @doc false\n  def ack(x), do: x\n";
        assert_eq!(lines_before_the_definition(glued), (3, 39));
        // Its own attributes stay, and so does one over several lines.
        let own = "  @spec f(t) :: t\n  def f(x), do: x\n";
        assert_eq!(lines_before_the_definition(own), (0, 0));
        let open = "\n  @optional_callbacks [\n    configure: 3\n  ]\n  def f(x), do: x\n";
        assert_eq!(lines_before_the_definition(open), (1, 1));
        // Nothing but attributes: the span stays whole.
        assert_eq!(lines_before_the_definition("  @timeout 5_000\n"), (0, 0));
    }

    #[test]
    fn a_hit_starts_at_its_first_line_of_text() {
        assert_eq!(leading_blank_lines("\n  \n  @doc \"x\"\n"), (2, 4));
        assert_eq!(leading_blank_lines("def f, do: 1\n"), (0, 0));
        assert_eq!(leading_blank_lines("\n\n"), (0, 0), "all blank: whole");
        assert_eq!(leading_blank_lines("\r\n\tx"), (1, 2));
        assert_eq!(leading_blank_lines(""), (0, 0));
        assert_eq!(
            leading_blank_lines("\n\n  "),
            (0, 0),
            "all blank, no last newline"
        );
        assert_eq!(leading_blank_lines("\n  def f"), (1, 1));
    }
}
