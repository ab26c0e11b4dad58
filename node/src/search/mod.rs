//! Ranked search across the partitions of one node.
//!
//! Every partition scores with the same BM25 statistics (summed over all partitions
//! searched), so per-partition top-k lists merge into one honest ranking instead of
//! favouring whichever partition happens to hold rare terms. Identifier-like queries
//! (`GenServer.call`, `handle_info/2`, `String.split`) also match exact symbol keys with a
//! large boost, so the definition comes first; natural-language questions are ranked by
//! BM25 over each chunk's code and docs, widened with programming synonyms, then weighted
//! so that public definitions come before tests, text and private helpers. When embeddings
//! are on (`crate::embed`), questions are also matched by meaning: each partition adds the
//! chunks nearest to the query's vector, and every candidate is scored by [`fuse`], per
//! chunk, so that partial rankings from several nodes merge exactly.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tantivy::query::{
    Bm25StatisticsProvider, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RegexQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use crate::chunk::{Chunk, ChunkKind, Visibility};
use crate::embed::Encoder;
use crate::error::{NodeError, Result};
use crate::index::tokenizer::{analyze, code_analyzer};
use crate::index::{Fields, PLACEHOLDER_NAME, PartitionIndex};

pub mod generated;
mod synonyms;

/// Most results one search may ask for.
pub const MAX_LIMIT: usize = 1000;

/// The longest path prefix a filter takes: longer ones would exceed the size of the
/// automaton that matches them (about 900 bytes), and no real path comes close.
pub const MAX_PATH_PREFIX_BYTES: usize = 512;

/// Restrictions on what a search may return.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Filters {
    /// Only these repositories (all when empty).
    pub repos: Vec<String>,
    /// Only paths starting with this prefix.
    pub path_prefix: Option<String>,
    /// Only these kinds (all when empty).
    pub kinds: Vec<ChunkKind>,
    /// Only this module and the modules nested in it.
    pub module: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchRequest {
    pub query: String,
    #[serde(default)]
    pub filters: Filters,
    pub limit: usize,
}

/// One result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchHit {
    pub score: f32,
    pub partition: u32,
    /// The symbol a person would name the chunk by (`Mod.fun/arity`, the module, a test).
    pub symbol: String,
    /// The lines of the chunk that best match the query.
    pub snippet: String,
    pub snippet_start_line: u32,
    pub chunk: Chunk,
}

/// BM25 statistics summed over several partitions.
///
/// Every partition's search asks for the same statistics (each builds its own weights for
/// the query's terms), so each sum is computed once and remembered for the query: one
/// term look-up per partition and term, instead of one per partition squared.
struct CombinedStats<'a> {
    searchers: &'a [Searcher],
    /// The `symbol` field, scored without length normalisation (see [`FLAT_FIELD_LENGTH`]).
    flat: Option<Field>,
    field_tokens: Mutex<HashMap<Field, u64>>,
    doc_freqs: Mutex<HashMap<Vec<u8>, u64>>,
}

/// The mean field length the `symbol` field is scored with in identifier queries, far above
/// any chunk's: BM25's length normalisation then gives every chunk the same factor,
/// `k1 (1 - b)`. (Questions keep the real mean: there a name is context, and their weights
/// were tuned with it; unless one names a function with its module, see
/// [`QueryPlan::flat_symbols`].)
///
/// A chunk's symbol keys are one per name, arity and module suffix of what it defines, so
/// a function with default arguments (`String.split/2..3`) or a chunk that merged small
/// neighbours has more of them. A key names what the chunk defines or it does not: with
/// the real mean, `Oban.insert` put two `@doc false` one-arity clauses above the
/// documented `insert/1..3`, and `String.split/3` scored 22% below `String.split/1`.
/// Reported per partition as documents times this, so sums over partitions and nodes keep
/// the mean (a cluster still ranks as one node does).
const FLAT_FIELD_LENGTH: u64 = 1 << 20;

/// What a symbol-field match is scaled by so that a chunk of average length scores as it
/// did with length normalisation: `(1 + k1 (1 - b)) / (1 + k1)` for tantivy's k1 = 1.2 and
/// b = 0.75, so the weights tuned with `bench/eval` keep their meaning.
const FLAT_FIELD_SCALE: f32 = 1.3 / 2.2;

/// A lexical search keeps its best `3 x limit` candidates (at least 20) after weighting
/// them by kind; each partition offers, and the search loads at most, this many times
/// that.
const LEXICAL_LOADS: usize = 8;

impl<'a> CombinedStats<'a> {
    /// Statistics over `searchers`; for `plan`'s identifier queries the symbol field is
    /// scored flat (questions weigh names as context, tuned with the real mean; see
    /// [`QueryPlan::flat_symbols`]).
    fn new(searchers: &'a [Searcher], plan: &QueryPlan) -> CombinedStats<'a> {
        CombinedStats {
            searchers,
            flat: searchers
                .first()
                .filter(|_| plan.flat_symbols())
                .and_then(|s| s.schema().get_field("symbol").ok()),
            field_tokens: Mutex::default(),
            doc_freqs: Mutex::default(),
        }
    }
}

impl Bm25StatisticsProvider for CombinedStats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        if let Some(n) = self.field_tokens.lock().expect("stats lock").get(&field) {
            return Ok(*n);
        }
        if Some(field) == self.flat {
            let n = self.total_num_docs()?.max(1) * FLAT_FIELD_LENGTH;
            self.field_tokens
                .lock()
                .expect("stats lock")
                .insert(field, n);
            return Ok(n);
        }
        let n = self
            .searchers
            .iter()
            .map(|s| s.total_num_tokens(field))
            .sum::<tantivy::Result<u64>>()?;
        self.field_tokens
            .lock()
            .expect("stats lock")
            .insert(field, n);
        Ok(n)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        self.searchers
            .iter()
            .map(Bm25StatisticsProvider::total_num_docs)
            .sum()
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let key = term_key(term);
        if let Some(n) = self.doc_freqs.lock().expect("stats lock").get(&key) {
            return Ok(*n);
        }
        let n = self
            .searchers
            .iter()
            .map(|s| s.doc_freq(term))
            .sum::<tantivy::Result<u64>>()?;
        self.doc_freqs.lock().expect("stats lock").insert(key, n);
        Ok(n)
    }
}

/// The BM25 statistics a query is scored with, gathered over some partitions.
///
/// In a cluster each node holds only some partitions, so its own statistics differ from
/// the whole corpus's. The gateway first gathers these from every node, sums them, and
/// hands the sum back with the search: every partition then scores with the statistics
/// of all partitions, exactly as one node holding everything does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryStats {
    pub total_docs: u64,
    /// Field id -> total tokens in the field.
    pub field_tokens: BTreeMap<u32, u64>,
    /// Term (field id and value bytes) -> documents containing it.
    pub doc_freqs: BTreeMap<Vec<u8>, u64>,
}

impl QueryStats {
    /// Adds statistics gathered over other partitions.
    pub fn merge(&mut self, other: &QueryStats) {
        self.total_docs += other.total_docs;
        for (f, n) in &other.field_tokens {
            *self.field_tokens.entry(*f).or_default() += n;
        }
        for (t, n) in &other.doc_freqs {
            *self.doc_freqs.entry(t.clone()).or_default() += n;
        }
    }
}

/// Given statistics, falling back to the local ones for anything they lack.
struct GivenStats<'a> {
    given: &'a QueryStats,
    local: CombinedStats<'a>,
}

impl Bm25StatisticsProvider for GivenStats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        match self.given.field_tokens.get(&field.field_id()) {
            Some(n) => Ok(*n),
            None => self.local.total_num_tokens(field),
        }
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.given.total_docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        match self.given.doc_freqs.get(&term_key(term)) {
            Some(n) => Ok(*n),
            None => self.local.doc_freq(term),
        }
    }
}

/// A term as [`QueryStats`] keys it: the field id, then the typed value bytes.
fn term_key(term: &Term) -> Vec<u8> {
    let value = term.serialized_value_bytes();
    let mut key = Vec::with_capacity(4 + value.len());
    key.extend_from_slice(&term.field().field_id().to_be_bytes());
    key.extend_from_slice(value);
    key
}

fn check_request(request: &SearchRequest) -> Result<()> {
    if request.query.trim().is_empty() {
        return Err(NodeError::InvalidArgument {
            field: "query",
            reason: "the query is empty".into(),
        });
    }
    if request.limit == 0 || request.limit > MAX_LIMIT {
        return Err(NodeError::InvalidArgument {
            field: "limit",
            reason: format!("must be between 1 and {MAX_LIMIT}, got {}", request.limit),
        });
    }
    Ok(())
}

/// The statistics `request` is scored with over `partitions` (see [`QueryStats`]).
pub fn query_stats(partitions: &[&PartitionIndex], request: &SearchRequest) -> Result<QueryStats> {
    check_request(request)?;
    let Some(first) = partitions.first() else {
        return Ok(QueryStats::default());
    };
    let data = first.dir().parent().unwrap_or(first.dir());
    crate::index::guarded(data, || query_stats_unguarded(partitions, first, request))
}

fn query_stats_unguarded(
    partitions: &[&PartitionIndex],
    first: &PartitionIndex,
    request: &SearchRequest,
) -> Result<QueryStats> {
    let plan = QueryPlan::new(&request.query);
    let query = plan.build(first.fields(), &request.filters)?;
    let mut terms: Vec<Term> = Vec::new();
    query.query_terms(&mut |term, _| terms.push(term.clone()));
    let searchers: Vec<Searcher> = partitions.iter().map(|p| p.searcher()).collect();
    let combined = CombinedStats::new(&searchers, &plan);
    let fail = |e| NodeError::index(first.dir())(e);
    let mut stats = QueryStats {
        total_docs: combined.total_num_docs().map_err(fail)?,
        ..QueryStats::default()
    };
    for term in terms {
        let field = term.field();
        if let std::collections::btree_map::Entry::Vacant(e) =
            stats.field_tokens.entry(field.field_id())
        {
            e.insert(combined.total_num_tokens(field).map_err(fail)?);
        }
        if let std::collections::btree_map::Entry::Vacant(e) =
            stats.doc_freqs.entry(term_key(&term))
        {
            e.insert(combined.doc_freq(&term).map_err(fail)?);
        }
    }
    Ok(stats)
}

/// How many chunks of `partitions` pass `filters`.
pub fn count_in_scope(partitions: &[&PartitionIndex], filters: &Filters) -> Result<u64> {
    let mut total = 0u64;
    for p in partitions {
        total += crate::index::guarded(p.dir(), || {
            let clauses = QueryPlan::filter_clauses(p.fields(), filters)?;
            let query = BooleanQuery::new(clauses);
            let n = (p.searcher())
                .search(&query, &tantivy::collector::Count)
                .map_err(NodeError::index(p.dir()))?;
            Ok(n as u64)
        })?;
    }
    Ok(total)
}

/// For a search under a path that found nothing: how many chunks of `partitions` (of the
/// filtered repositories) are under the path, so that a path no indexed file is under is
/// told apart from a query that matches nothing there. `None` without a path filter.
pub fn count_under_path(partitions: &[&PartitionIndex], filters: &Filters) -> Result<Option<u64>> {
    if filters.path_prefix.as_deref().is_none_or(str::is_empty) {
        return Ok(None);
    }
    let paths_only = Filters {
        repos: filters.repos.clone(),
        path_prefix: filters.path_prefix.clone(),
        ..Filters::default()
    };
    count_in_scope(partitions, &paths_only).map(Some)
}

/// Whether `query` reads as a question in plain words, which embeddings rank (an
/// identifier query is ranked by keywords and names alone).
pub fn is_question(query: &str) -> bool {
    QueryPlan::new(query).question
}

/// Searches `partitions` and merges their top hits into one ranked list.
pub fn search(partitions: &[&PartitionIndex], request: &SearchRequest) -> Result<Vec<SearchHit>> {
    search_with(partitions, request, None, None)
}

/// [`search`], scoring with `stats` (gathered over a whole cluster) when given, and
/// fusing BM25 with embedding similarity for questions in plain words when an `encoder`
/// is given (see [`fuse`]).
pub fn search_with(
    partitions: &[&PartitionIndex],
    request: &SearchRequest,
    stats: Option<&QueryStats>,
    encoder: Option<&Encoder>,
) -> Result<Vec<SearchHit>> {
    check_request(request)?;
    let plan = QueryPlan::new(&request.query);
    // A query the model cannot embed is still answered, by BM25 alone; and so is one over
    // partitions that hold no vectors of the model (indexed without it, or with another),
    // ranked as if no model were given. Not in a cluster (`stats` gathered over it): a
    // node without vectors fuses with no similarity, so that its scores and those of
    // nodes with vectors stay on one scale.
    let encoder = match stats {
        Some(_) => encoder,
        None => encoder.filter(|e| partitions.iter().any(|p| p.has_vectors(e))),
    };
    let query_vector = match encoder {
        Some(encoder) if plan.question => match encoder.embed_query(&request.query) {
            Ok(v) => Some((encoder, v)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot embed the query; ranking by BM25 alone");
                None
            }
        },
        _ => None,
    };
    let semantic = query_vector.as_ref().map(|(e, v)| (*e, v.as_slice()));
    let mut hits = candidates(partitions, request, stats, &plan, semantic)?;
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.chunk.id.cmp(&b.chunk.id))
    });
    if !plan.question {
        first_definition_first(&mut hits, &plan);
    }
    // One result per definition: the parts of a split definition are its best part. In a
    // question, so are the arities of one function documented apart (`Macro.prewalk/2`
    // and `/3`, `System.argv/0` and `/1`): they answer it together, and a second arity
    // would only push another function out of the top. Not grouped: chunks holding other
    // functions too (merged neighbours), chunks the question names with their module
    // ("Macro.prewalk/2 against Macro.prewalk/3"), and identifier queries, which list
    // every arity they name. Private and public clauses of one name stay apart. The key
    // holds the path, so one partition (one node) holds every chunk of a group and a
    // cluster merges the same results as one node. (Grouping can leave fewer than
    // `limit` results when most candidates are arities of a few functions.)
    let mut definitions: HashSet<(&str, &str, &str, &str, ChunkKind, Visibility)> = HashSet::new();
    let keep: Vec<bool> = hits
        .iter()
        .map(|h| {
            let c = &h.chunk;
            let arities_apart = plan.question
                && c.kind.is_callable()
                && c.defines.iter().all(|d| d.name == c.name)
                && !plan.names_qualified(c);
            let grouped = c.part.is_some() || arities_apart;
            !grouped
                || definitions.insert((&c.repo, &c.path, &c.module, &c.name, c.kind, c.visibility))
        })
        .collect();
    let mut keep = keep.into_iter();
    hits.retain(|_| keep.next().unwrap_or(true));
    hits.truncate(request.limit);
    let mut analyzer = code_analyzer();
    Ok(hits
        .into_iter()
        .map(|c| {
            let symbol = plan.hit_symbol(&c.chunk);
            // A name looked up shows its definition's head (not its doc's example, nor a
            // merged neighbour's lines that repeat the name).
            let head = (!plan.question && !plan.symbols.is_empty())
                .then(|| {
                    (c.chunk.defines.iter())
                        .filter(|d| d.kind.is_callable() && !d.implied)
                        .find(|d| d.symbols().contains(&symbol))
                        .map(|d| d.line)
                })
                .flatten();
            let (snippet, snippet_start_line) = match head {
                Some(line) => snippet_at(&c.chunk, line),
                None => snippet(&mut analyzer, &c.chunk, &plan.terms),
            };
            SearchHit {
                score: c.score,
                partition: c.partition,
                symbol,
                snippet,
                snippet_start_line,
                chunk: c.chunk,
            }
        })
        .collect())
}

/// Of two chunks of one file defining the function a name looks up, scored within
/// [`FIRST_DEFINITION_MARGIN`] of each other, the one written first comes first: the
/// function's clauses before a catch-all written further down (`def handle_event(_,
/// state), do: {:ok, state}` merged with the other catch-alls), or an `if` branch's
/// definition before its `else` branch's stub. The scores stay in order.
fn first_definition_first(hits: &mut [Candidate], plan: &QueryPlan) {
    let n = hits.len().min(FIRST_DEFINITION_WINDOW);
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (&hits[i], &hits[j]);
            let same = a.chunk.repo == b.chunk.repo
                && a.chunk.path == b.chunk.path
                && a.chunk.kind.is_callable()
                && b.chunk.kind.is_callable()
                && plan.hit_symbol(&a.chunk) == plan.hit_symbol(&b.chunk);
            if same
                && b.chunk.start_line < a.chunk.start_line
                && b.score >= a.score * FIRST_DEFINITION_MARGIN
            {
                let (score_a, score_b) = (hits[i].score, hits[j].score);
                hits.swap(i, j);
                (hits[i].score, hits[j].score) = (score_a, score_b);
            }
        }
    }
}

/// How close (as a share of the better score) two definitions of one function in one
/// file must score for the one written first to come first.
const FIRST_DEFINITION_MARGIN: f32 = 0.97;

/// How many of the best hits [`first_definition_first`] looks through.
const FIRST_DEFINITION_WINDOW: usize = 50;

/// A chunk that may be a result, with what its score is made of.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The final score: the kind weight times BM25, or times the fused score (plus, in a
    /// question, an internal function's share of its neighbours' scores,
    /// [`lend_to_internal_neighbours`], and [`NAMED_IN_QUESTION_TIER`] for a definition the
    /// question names with its module).
    pub score: f32,
    /// BM25 of the query's words (0 when none match).
    pub bm25: f32,
    /// Cosine similarity of the query's and the chunk's embeddings, when both exist.
    pub similarity: Option<f32>,
    /// The kind weight (definitions before tests, text and private helpers).
    pub weight: f32,
    pub partition: u32,
    pub chunk: Chunk,
}

/// Every candidate [`search_with`] ranks, unsorted, for evaluating rankings (`bench/eval`).
pub fn search_candidates(
    partitions: &[&PartitionIndex],
    request: &SearchRequest,
    encoder: Option<&Encoder>,
) -> Result<Vec<Candidate>> {
    check_request(request)?;
    let plan = QueryPlan::new(&request.query);
    match encoder {
        Some(encoder) if plan.question => {
            let query = encoder.embed_query(&request.query)?;
            candidates(partitions, request, None, &plan, Some((encoder, &query)))
        }
        _ => candidates(partitions, request, None, &plan, None),
    }
}

/// The chunks that may answer `plan`, scored.
///
/// Without embeddings: the top BM25 hits of all partitions (which share one set of
/// statistics, so the merged top is the global top), weighted by kind.
///
/// With embeddings: per partition, the top BM25 hits and the chunks nearest to the query
/// vector, each scored by [`fuse`]. Candidates are chosen per partition and scored per
/// chunk, so the ranking does not depend on which partitions a node holds: a cluster
/// (each node ranking its partitions, the gateway merging by score) ranks exactly as one
/// node holding every partition.
fn candidates(
    partitions: &[&PartitionIndex],
    request: &SearchRequest,
    stats: Option<&QueryStats>,
    plan: &QueryPlan,
    semantic: Option<(&Encoder, &[f32])>,
) -> Result<Vec<Candidate>> {
    let Some(first) = partitions.first() else {
        return Ok(Vec::new());
    };
    let searchers: Vec<Searcher> = partitions.iter().map(|p| p.searcher()).collect();
    let local = CombinedStats::new(&searchers, plan);
    let given = stats.map(|given| GivenStats {
        given,
        local: CombinedStats::new(&searchers, plan),
    });
    let stats: &(dyn Bm25StatisticsProvider + Sync) = match &given {
        Some(g) => g,
        None => &local,
    };
    // Over-fetch so that re-ranking by kind can still fill the limit.
    let fetch = (request.limit * 3).max(20);
    // Lexical candidates are weighted as they load (see below); each partition offers
    // enough for a definition to surface past many down-weighted tests of its name.
    let lexical_fetch = fetch * LEXICAL_LOADS;
    let fields = first.fields();
    let query = plan.build(fields, &request.filters)?;
    // Lexical only: each partition's raw top (chunks are loaded after the merge, for the
    // global top only). Fused: each partition's scored candidates.
    type Partial = (Vec<(f32, usize, tantivy::DocAddress)>, Vec<Candidate>);
    let per_partition: Vec<Result<Partial>> = searchers
        .par_iter()
        .enumerate()
        .map(|(i, searcher)| {
            let p = partitions[i];
            crate::index::guarded(p.dir(), || {
                let fail = |e| NodeError::index(p.dir())(e);
                let limit = if semantic.is_some() {
                    fetch
                } else {
                    lexical_fetch
                };
                let top = searcher
                    .search_with_statistics_provider(
                        &query,
                        &tantivy::collector::TopDocs::with_limit(limit).order_by_score(),
                        stats,
                    )
                    .map_err(fail)?;
                let Some((encoder, vector)) = semantic else {
                    let raw = top.into_iter().map(|(s, addr)| (s, i, addr)).collect();
                    return Ok((raw, Vec::new()));
                };
                let store = p.vectors(encoder);
                let mut out: Vec<Candidate> = Vec::with_capacity(fetch * 2);
                let mut seen: HashSet<String> = HashSet::new();
                for (bm25, addr) in top {
                    let chunk = p.chunk(searcher, addr)?;
                    seen.insert(chunk.id.clone());
                    out.push(Candidate {
                        score: 0.0,
                        bm25,
                        similarity: store.similarity(&chunk.id, vector),
                        weight: 1.0,
                        partition: p.partition(),
                        chunk,
                    });
                }
                let near: Vec<(&str, f32)> = store
                    .nearest(vector, fetch)
                    .into_iter()
                    .filter(|(id, _)| !seen.contains(*id))
                    .collect();
                if !near.is_empty() {
                    // Their BM25 (0 when no word matches), and only those the filters allow
                    // and the last commit still holds.
                    let lookup = plan.build_lookup(
                        fields,
                        &request.filters,
                        &mut near.iter().map(|(id, _)| *id),
                    )?;
                    let found = searcher
                        .search_with_statistics_provider(
                            &lookup,
                            &tantivy::collector::TopDocs::with_limit(near.len()).order_by_score(),
                            stats,
                        )
                        .map_err(fail)?;
                    for (bm25, addr) in found {
                        let chunk = p.chunk(searcher, addr)?;
                        let similarity = store.similarity(&chunk.id, vector);
                        out.push(Candidate {
                            score: 0.0,
                            bm25,
                            similarity,
                            weight: 1.0,
                            partition: p.partition(),
                            chunk,
                        });
                    }
                }
                for c in &mut out {
                    c.weight = plan.kind_weight(&c.chunk);
                    c.score = c.weight * fuse(c.bm25, c.similarity);
                }
                lend_to_internal_neighbours(&mut out, plan);
                for c in &mut out {
                    if plan.names_a_function_qualified && plan.names_function_of(&c.chunk) {
                        c.score += NAMED_IN_QUESTION_TIER;
                    }
                }
                Ok((Vec::new(), out))
            })
        })
        .collect();
    let mut raw = Vec::new();
    let mut fused = Vec::new();
    for r in per_partition {
        let (r, f) = r?;
        raw.extend(r);
        fused.extend(f);
    }
    if semantic.is_some() {
        return Ok(fused);
    }
    // Scores share one set of statistics, so the global top is the merged top. Kind
    // weights (never above 1) apply as chunks load, best BM25 first, until no chunk left
    // can beat the `fetch`-th weighted score (three times the limit: the later parts of a
    // split definition still go): fifty tests that implement `handle_event/3`, weighted
    // by half, cannot push the callback's definition out. At most `lexical_fetch` load.
    raw.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut best: BinaryHeap<Reverse<u32>> = BinaryHeap::with_capacity(fetch + 1);
    let mut out = Vec::with_capacity(fetch);
    for (bm25, i, addr) in raw.into_iter().take(lexical_fetch) {
        // Non-negative floats order as their bits do.
        if best.len() >= fetch
            && best
                .peek()
                .is_some_and(|Reverse(b)| bm25 < f32::from_bits(*b))
        {
            break;
        }
        let chunk = partitions[i].chunk(&searchers[i], addr)?;
        let weight = plan.kind_weight(&chunk);
        let score = weight * bm25;
        best.push(Reverse(score.max(0.0).to_bits()));
        if best.len() > fetch {
            best.pop();
        }
        out.push(Candidate {
            score,
            bm25,
            similarity: None,
            weight,
            partition: partitions[i].partition(),
            chunk,
        });
    }
    Ok(out)
}

/// Share of the best score among its neighbours that an internal function gains in a
/// question ([`lend_to_internal_neighbours`]). Measured with `bench/eval` (bench/README
/// "Helpers found through the functions they call"): at 0.1 the four applications'
/// questions put 49 of 64 answers in the top 5 instead of 45, and the standard library's
/// two sets keep recall@5 0.717 / 0.712 (0.12 loses one of the first, offline). On 32
/// questions written afterwards for two other applications, 11 stay in the top 5, and
/// the mean reciprocal rank rises.
const NEIGHBOUR_SHARE: f32 = 0.1;

/// Raises each internal function of a question's candidates ([`QueryPlan::
/// borrows_from_neighbours`]) by [`NEIGHBOUR_SHARE`] of the best fused score among the
/// functions of its own file, among the candidates, that it calls or that call it. An
/// application's helpers are mostly undocumented, so what they do is often said by the
/// function beside them: Broadway's `transform_events/2` is what "convert events emitted
/// by the producer into message structs with a transformer" asks for, and the words are
/// in the error that `validate_message/1`, which it calls, raises.
///
/// Lenders are functions, macros, guards and delegates, by what they write out (not a
/// header through a struct's implied `__struct__/0`), and never of the receiver's own
/// name (a split function's parts, or another arity of it, whose results are one). A file
/// lives in one partition, so the score still depends only on the partition's
/// candidates, never on which node ranks them; scores are read before any is raised, so
/// the candidates' order does not matter either. Linear in the candidates' calls.
fn lend_to_internal_neighbours(candidates: &mut [Candidate], plan: &QueryPlan) {
    let written = |c: &Candidate| {
        c.chunk
            .defines
            .iter()
            .filter(|d| !d.implied)
            .flat_map(|d| {
                d.arities
                    .iter()
                    .map(move |a| format!("{}.{}/{a}", d.module, d.name))
            })
            .collect::<Vec<String>>()
    };
    let lends = |c: &Candidate| c.chunk.kind.is_callable();
    let mut by_file: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        by_file
            .entry((c.chunk.repo.as_str(), c.chunk.path.as_str()))
            .or_default()
            .push(i);
    }
    let mut raised: Vec<(usize, f32)> = Vec::new();
    for members in by_file.values().filter(|m| m.len() > 1) {
        let borrowers: Vec<usize> = (members.iter().copied())
            .filter(|&i| plan.borrows_from_neighbours(&candidates[i].chunk))
            .collect();
        if borrowers.is_empty() {
            continue;
        }
        // Per symbol of this file: the candidates that write it out, and those calling it.
        let mut definers: HashMap<String, Vec<usize>> = HashMap::new();
        let mut callers: HashMap<&str, Vec<usize>> = HashMap::new();
        for &j in members {
            if !lends(&candidates[j]) {
                continue;
            }
            for symbol in written(&candidates[j]) {
                definers.entry(symbol).or_default().push(j);
            }
            for call in &candidates[j].chunk.calls {
                callers.entry(call.as_str()).or_default().push(j);
            }
        }
        for i in borrowers {
            let receiver = &candidates[i];
            let own = |j: usize| {
                let lender = &candidates[j].chunk;
                j == i
                    || lender.defines.iter().any(|d| {
                        receiver
                            .chunk
                            .defines
                            .iter()
                            .any(|r| r.module == d.module && r.name == d.name)
                    })
            };
            let called = (receiver.chunk.calls.iter())
                .filter_map(|call| definers.get(call.as_str()))
                .flatten();
            let calling = (written(receiver).iter())
                .filter_map(|symbol| callers.get(symbol.as_str()))
                .flatten()
                .copied()
                .collect::<Vec<usize>>();
            let best = called
                .copied()
                .chain(calling)
                .filter(|&j| !own(j))
                .map(|j| candidates[j].score)
                .fold(0.0f32, f32::max);
            if best > 0.0 {
                raised.push((i, NEIGHBOUR_SHARE * best));
            }
        }
    }
    for (i, gain) in raised {
        candidates[i].score += gain;
    }
}

/// One score from a chunk's BM25 and its embedding similarity to the query, per chunk
/// (no ranks, no per-query normalisation), so that partial rankings merge exactly.
pub fn fuse(bm25: f32, similarity: Option<f32>) -> f32 {
    let lexical = bm25 / (bm25 + FUSE_BM25_HALF);
    let semantic = similarity.unwrap_or(0.0).max(0.0);
    (1.0 - FUSE_SEMANTIC_WEIGHT) * lexical + FUSE_SEMANTIC_WEIGHT * semantic
}

/// Weight of a name a question writes with a `?` that may end the sentence, read without it
/// ([`QueryPlan::sentence_names`]), relative to the name as written.
const SENTENCE_MARK_WEIGHT: f32 = 0.5;

/// Added to the fused score (at most 1) of a function a question names with its module
/// ("what does LazySeries.n_distinct return"; [`QueryPlan::names_function_of`]; not a
/// module or type it mentions): the question asks about it, so it comes
/// first. Fused, its large BM25 counts no more than a namesake's that says the question's
/// words (both near the lexical part's maximum), and a documented namesake is nearer in
/// meaning. Per chunk, so partial rankings still merge exactly. (Ranked by BM25 alone,
/// the name's weight puts it first: see [`QUESTION_QUALIFIED_WEIGHT`].)
const NAMED_IN_QUESTION_TIER: f32 = 1.0;

/// Kind weight of a module header in a question whose words name the module ("retry a
/// failed request with backoff": `Req.Retry`; a nested module, not a struct, exception or
/// implementation; [`QueryPlan::words_name_header`]): a library of one module per
/// feature documents each feature in its module's doc, which a question answers as a
/// function's would. Other headers weigh 0.6 in a question. Measured with `bench/eval`
/// (headers are never the expected answer there): 0.9 moves no target out of the top 5
/// on either set; `bench/doc-questions.py` shows what it gains on real libraries.
const QUESTION_NAMED_HEADER_WEIGHT: f32 = 0.9;

/// Words (as analyzed) that any question may say, so that a module's name made of them
/// is not named by it ([`QueryPlan::words_name_header`]); words of one or two letters
/// are left out too.
const HEADER_STOPWORDS: [&str; 24] = [
    "the", "and", "for", "from", "into", "onto", "with", "has", "have", "use", "run", "not", "all",
    "new", "get", "put", "set", "that", "this", "when", "then", "out", "off", "its",
];

/// BM25 score at which the lexical part is half way to its maximum.
const FUSE_BM25_HALF: f32 = 8.0;
/// Share of the embedding similarity in the fused score.
const FUSE_SEMANTIC_WEIGHT: f32 = 0.4;

/// Weight of a synonym relative to the word the user typed.
const SYNONYM_WEIGHT: f32 = 0.8;

/// Weight of a symbol key matched as written, on top of its lowercased match. Elixir
/// names are case-sensitive: `Kernel.sigil_s/2` must put `sigil_s` before `sigil_S`
/// however often the other's doc names it, so the match as written weighs as much as the
/// lowercased one. Only definitions whose names differ in case alone are reordered: every
/// other definition the query names matches both keys or neither.
const EXACT_SYMBOL_WEIGHT: f32 = 25.0;

/// The same for a bare capitalised word (`JSON`, `Logger`), which may be prose as well as
/// a module: enough to put `JSON` before `Json`, too little to outweigh the words.
const WEAK_EXACT_SYMBOL_WEIGHT: f32 = 2.0;

/// Kind weight of a private function, or one documented as internal (`@doc false`, in a
/// `@moduledoc false` module), in a question. The standard library's questions ask for
/// its public API, an application's as often for its stages and helpers ("where is the
/// batch timeout scheduled": `BatcherStage.schedule_batch_timeout/1`, private, in an
/// internal module). Measured (bench/README "Questions about an application's
/// internals"): 0.7 gave recall@5 0.717 / 0.712 on the standard library and 36 of 64 in
/// the top 5 on four applications; 0.9 keeps the first and gives 46; 1.0 gives 49 and
/// 0.690 on the standard library.
const INTERNAL_WEIGHT: f32 = 0.9;

/// [`INTERNAL_WEIGHT`] for a definition whose name the question writes bare, without a
/// module (`handle_call`): the question names the contract, whose internal
/// implementations are not what it asks for.
const BARE_NAMED_INTERNAL_WEIGHT: f32 = 0.7;

/// Kind weight, in a question or other prose query (not an identifier query), of code
/// in a file a tool wrote ([`crate::chunk::is_generated`]). Measured with `bench/eval`
/// (bench/README "Code a tool wrote"): on elixir-ls, the one project measured whose files
/// say so, 0.5–0.8 all give the same ranks; no other question set holds such a file.
const GENERATED_WEIGHT: f32 = 0.7;

/// Kind weight of an undocumented function in an identifier query that names no module
/// (`handle_info/2`): under the documented definition of the same name, whose body matches
/// less (a long doc lowers its BM25), but above anything that only mentions the name.
/// (A definition a question names with its module weighs as in an identifier query, this
/// included.)
const UNDOCUMENTED_WEIGHT: f32 = 0.9;

/// Kind weight of a type or callback chunk in an identifier query that names a module:
/// a function of the same name comes first, anything else the query names still does.
const NAMED_CONTRACT_WEIGHT: f32 = 0.95;

/// The weight of a module header in an identifier query naming a function with its
/// module: a header holds the function's `@callback` or `@type` at most.
const NAMED_HEADER_WEIGHT: f32 = 0.8;

/// Kind weight of a definition an identifier query (not a question) names under a longer
/// module than the one it writes (`Mix.Config.config/3` for `Config.config/3`, the header
/// of `Mix.Config` for `Config`): the module of that very name comes first. Alone
/// (`Repo.insert` for `MyApp.Repo.insert/2`) it still ranks as the definition. A question
/// leaves it out: its symbol matches weigh less, and apps name their modules short.
const LONGER_MODULE_WEIGHT: f32 = 0.9;

/// Weight of the name of a `Mod.name/arity` query at any arity: enough to put the function's
/// other arities above what only mentions the name when the arity asked for does not
/// exist (`completion/6` finds `completion/4`), far under the arity's own key.
const ANY_ARITY_WEIGHT: f32 = 5.0;

/// Weight, in a question naming `Mod.fun`, of another module's function of that name
/// (see `QueryPlan::namesake_elsewhere`).
const NAMESAKE_WEIGHT: f32 = 0.5;

/// Weight of a symbol key named in a question (four words or more).
const QUESTION_SYMBOL_WEIGHT: f32 = 3.0;

/// Weight of a function a question names with its module (`LazySeries.n_distinct`,
/// `Stock.reserve/4`), matched as written: the question asks about that function, whose
/// own code may say none of its words while a documented namesake in another module says
/// them all. A bare name (`handle_call`) or a module alone stays context.
const QUESTION_QUALIFIED_WEIGHT: f32 = EXACT_SYMBOL_WEIGHT;

/// What a query string asks for.
struct QueryPlan {
    /// Analyzed terms (lowercased, stemmed, identifier parts).
    terms: Vec<String>,
    /// Synonyms of the terms, matched at a lower weight.
    expansions: Vec<String>,

    /// Lowercased symbol keys the query names (`genserver.call`, `handle_info/2`).
    symbols: Vec<String>,
    /// The same names as written (`Kernel.sigil_R/2`), to put the exact one first.
    exact_symbols: Vec<String>,
    /// Capitalised words as written (`JSON`), in a code-like query.
    weak_exact_symbols: Vec<String>,
    /// Capitalised words in a sentence (`Logger`, `PATH`): perhaps modules, perhaps prose.
    weak_symbols: Vec<String>,
    /// The names of `name/arity` tokens without their arity ([`ANY_ARITY_WEIGHT`]).
    any_arity: Vec<String>,
    /// In a question, names as written without the `?` that may end the sentence instead
    /// of the name ("when should I use Enum.reduce?"), weighed under the name as written
    /// ([`SENTENCE_MARK_WEIGHT`]): `Email.verify?` first where it exists, else
    /// `Email.verify`.
    sentence_names: Vec<String>,
    /// Bare lowercase words that could be function names.
    words: Vec<String>,
    /// The query looks like code (an identifier, a short name) rather than a question.
    code_like: bool,
    /// A sentence (four words or more), even one naming an identifier ("respond to a
    /// caller from outside handle_call"): ranked with embeddings too, when they are on.
    question: bool,
    /// One word: a capitalised one is a module name.
    single_word: bool,
    /// The query names a function with its module (`Stock.reserve/4`).
    names_a_function_qualified: bool,
    /// The query names a module (`GenServer.call`, `Repo`), not only a function.
    names_module: bool,
    wants_tests: bool,
    /// The query asks about migrations ("migration", "migrate"): they rank as code.
    wants_migrations: bool,
}

impl QueryPlan {
    fn new(query: &str) -> QueryPlan {
        let mut analyzer = code_analyzer();
        let mut terms = analyze(&mut analyzer, query);
        let mut seen = HashSet::new();
        terms.retain(|t| seen.insert(t.clone()));
        let mut expansions = Vec::new();
        for t in &terms {
            for e in synonyms::expand(t) {
                if !seen.contains(e) && !expansions.contains(e) {
                    expansions.push(e.clone());
                }
            }
        }
        let mut symbols = Vec::new();
        let mut exact_symbols = Vec::new();
        let mut weak_exact = Vec::new();
        let mut weak_symbols = Vec::new();
        let mut any_arity = Vec::new();
        let mut sentence_names = Vec::new();
        let mut words = Vec::new();
        let mut names_module = false;
        // A one-word query is usually a name; a two-word one often (`Stock reserve`).
        let word_count = query.split_whitespace().count();
        let single_word = word_count == 1;
        for raw in query.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')') {
            let tok = raw.trim_matches(|c: char| matches!(c, '`' | '"' | '\'' | ':' | ';'));
            // Colons end words (`note:`) and begin atoms, but `::` is an operator.
            let op_tok = raw.trim_matches(|c: char| matches!(c, '`' | '"' | '\'' | ';'));
            // A bare operator is one only when it is the whole query (`a - b` is a phrase).
            // In a question, `Logger...` is an ellipsis, not the range operator.
            if let Some(key) = operator_key(op_tok).filter(|k| {
                single_word
                    || (k.starts_with(char::is_alphabetic)
                        && (k.contains('/') || !k.ends_with('.')))
            }) {
                // `Kernel.<>/2`, `Kernel.+`, `|>`: operators are definitions too.
                names_module |= op_tok.starts_with(|c: char| c.is_uppercase());
                // In a question a module's operator ("what does Query.< return") is a
                // function named with its module, matched as written like the others.
                if word_count >= 4 && op_tok.starts_with(|c: char| c.is_uppercase()) {
                    exact_symbols.push(op_tok.to_string());
                }
                symbols.push(key);
                continue;
            }
            if !tok.chars().any(char::is_alphanumeric) {
                continue;
            }
            // As a capture (`&Enum.map/2`), with the module's full name
            // (`Elixir.Enum.map/2`) or an arity still to type (`Enum.map/`): the same name.
            let tok = tok.trim_start_matches('&');
            // A struct as code writes it (`%Bonny.Axn{}`, `%Axn{status: s}`) and a type as
            // ExDoc does (`t:Bonny.Axn.t/0`): the module, the type.
            let tok = match tok.strip_prefix('%') {
                Some(rest) if rest.starts_with(char::is_uppercase) => {
                    rest.split('{').next().unwrap_or(rest)
                }
                _ => tok,
            };
            let tok = (["t:", "c:", "m:"].iter())
                .find_map(|p| tok.strip_prefix(p))
                .filter(|rest| rest.starts_with(char::is_uppercase))
                .unwrap_or(tok);
            let tok = tok
                .strip_prefix("Elixir.")
                .filter(|rest| rest.starts_with(char::is_uppercase))
                .unwrap_or(tok);
            let tok = tok.strip_suffix('/').unwrap_or(tok);
            let is_ident = tok
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '?' | '!'));
            if !is_ident {
                continue;
            }
            // An Erlang module's function by its atom (`:ets.lookup/2`,
            // `:_next_ls_private_compiler.compile/0`): its module keeps its colon.
            let erlang = raw.trim_start_matches(['`', '"', '\'']).starts_with(':')
                && tok.trim_end_matches('.').contains('.')
                && tok.starts_with(|c: char| c.is_ascii_lowercase() || c == '_');
            let with_colon;
            let tok = if erlang {
                with_colon = format!(":{tok}");
                with_colon.as_str()
            } else {
                tok
            };
            let lc = tok.trim_end_matches('.').to_lowercase();
            let looks_qualified =
                tok.contains('.') && (erlang || tok.starts_with(|c: char| c.is_uppercase()));
            let has_arity = tok
                .rsplit_once('/')
                .is_some_and(|(_, a)| !a.is_empty() && a.chars().all(|c| c.is_ascii_digit()));
            let is_module = tok.starts_with(|c: char| c.is_uppercase());
            names_module |= is_module;
            if looks_qualified || has_arity || tok.contains('_') {
                exact_symbols.push(tok.trim_end_matches('.').to_string());
                // In a question a `?` may end the sentence: "when should I use
                // Enum.reduce?" names `Enum.reduce` (and `Enum.member?` still itself).
                if word_count >= 4
                    && let Some(bare) = tok.strip_suffix('?').filter(|b| !b.ends_with('.'))
                {
                    sentence_names.push(bare.to_string());
                }
                if has_arity
                    && looks_qualified
                    && let Some((name, _)) = lc.rsplit_once('/')
                {
                    // `Completion.completion/6` when only `/4` exists: the name at any
                    // arity, under the one asked for. (A bare `completion` would also be
                    // the key of a module `...Completion`.) With its whole module
                    // (`AshPaperTrail.ChangeBuilders.FullDiff.ListChange.build/3`), as
                    // written: the exact key of its name.
                    any_arity.push(name.to_string());
                    if let Some((written, _)) = tok.rsplit_once('/') {
                        any_arity.push(format!("{}{written}", crate::index::EXACT_KEY));
                    }
                }
                symbols.push(lc);
            } else if is_module && (single_word || tok.len() > 1) {
                // (`I` and `A` in a sentence are a pronoun and an article.)
                weak_exact.push(tok.trim_end_matches('.').to_string());
                weak_symbols.push(lc);
            } else if tok.ends_with('?') || tok.ends_with('!') || single_word {
                words.push(lc);
            }
        }
        let wants_tests = terms.iter().any(|t| t == "test");
        let wants_migrations = terms.iter().any(|t| t.starts_with("migrat"));
        let code_like = !symbols.is_empty() || word_count <= 2;
        if code_like {
            symbols.append(&mut weak_symbols);
        } else {
            weak_exact.clear();
        }
        let names_a_function_qualified =
            (exact_symbols.iter().chain(&sentence_names)).any(|s| names_function_qualified(s));
        QueryPlan {
            terms,
            expansions,
            symbols,
            exact_symbols,
            weak_exact_symbols: weak_exact,
            weak_symbols,
            any_arity,
            sentence_names,
            words,
            code_like,
            question: word_count >= 4,
            single_word,
            names_module,
            names_a_function_qualified,
            wants_tests,
            wants_migrations,
        }
    }

    /// Whether the symbol field is scored without its length: in an identifier query, and
    /// in a question that names a function with its module. Such a function may be one of
    /// many a chunk defines (the `for` of Explorer's `LazySeries` defines 15 in one); the
    /// real mean would let its many keys bury it. Other questions weigh names as context,
    /// tuned with the real mean.
    fn flat_symbols(&self) -> bool {
        !self.question || self.names_a_function_qualified
    }

    fn build(&self, f: &Fields, filters: &Filters) -> Result<Box<dyn Query>> {
        let mut must = vec![(
            Occur::Must,
            Box::new(BooleanQuery::new(self.should(f)?)) as Box<dyn Query>,
        )];
        must.extend(Self::filter_clauses(f, filters)?);
        Ok(Box::new(BooleanQuery::new(must)))
    }

    /// The scoring clauses: any of them may match.
    fn should(&self, f: &Fields) -> Result<Vec<(Occur, Box<dyn Query>)>> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let boosted = |field: Field, text: &str, boost: f32| -> (Occur, Box<dyn Query>) {
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::WithFreqs,
            ));
            let boost = if field == f.symbol && self.flat_symbols() {
                boost * FLAT_FIELD_SCALE
            } else {
                boost
            };
            (Occur::Should, Box::new(BoostQuery::new(q, boost)))
        };
        // Weights measured with bench/eval (see bench/README.md): words match the body and
        // the doc; names and modules are matched through exact symbol keys instead, since
        // boosting name words drowns natural-language questions in look-alike names.
        for term in &self.terms {
            should.push(boosted(f.body, term, 1.0));
            should.push(boosted(f.doc, term, 1.0));
        }
        for term in &self.expansions {
            should.push(boosted(f.body, term, SYNONYM_WEIGHT));
            should.push(boosted(f.doc, term, SYNONYM_WEIGHT));
        }

        // A name in a question is context ("a caller from outside handle_call"), rarely
        // what is asked for: there it weighs a little more than a word, not 25 times.
        let symbol_weight = if self.question {
            QUESTION_SYMBOL_WEIGHT
        } else {
            25.0
        };
        for s in &self.symbols {
            should.push(boosted(f.symbol, s, symbol_weight));
        }
        // In a question the names are context ("from outside handle_call"): weakly.
        let exact_weight = if self.question {
            WEAK_EXACT_SYMBOL_WEIGHT
        } else {
            EXACT_SYMBOL_WEIGHT
        };
        for (exact, weight) in [
            (&self.exact_symbols, exact_weight),
            // A capitalised word alone is a module name.
            (
                &self.weak_exact_symbols,
                if self.single_word {
                    EXACT_SYMBOL_WEIGHT
                } else {
                    WEAK_EXACT_SYMBOL_WEIGHT
                },
            ),
        ] {
            for s in exact {
                let key = format!("{}{s}", crate::index::EXACT_KEY);
                let weight = if self.question && names_function_qualified(s) {
                    QUESTION_QUALIFIED_WEIGHT
                } else {
                    weight
                };
                should.push(boosted(f.symbol, &key, weight));
            }
        }
        for s in (self.sentence_names.iter()).filter(|s| names_function_qualified(s)) {
            let key = format!("{}{s}", crate::index::EXACT_KEY);
            should.push(boosted(
                f.symbol,
                &key,
                QUESTION_QUALIFIED_WEIGHT * SENTENCE_MARK_WEIGHT,
            ));
        }
        for s in &self.weak_symbols {
            should.push(boosted(f.symbol, s, 2.0));
        }
        if !self.question {
            for s in &self.any_arity {
                // (Its name as written, with its whole module, outweighs the module's
                // words in the other headers.)
                let weight = match s.starts_with(crate::index::EXACT_KEY) {
                    true => ANY_ARITY_WEIGHT * 2.0,
                    false => ANY_ARITY_WEIGHT,
                };
                should.push(boosted(f.symbol, s, weight));
            }
        }
        if self.code_like {
            // Code-like queries also match heads and specs (parameter names, types).
            for term in &self.terms {
                should.push(boosted(f.signature, term, 1.5));
            }
        }
        for w in &self.words {
            should.push(boosted(f.symbol, w, 4.0));
        }
        if should.is_empty() {
            return Err(NodeError::InvalidArgument {
                field: "query",
                reason: "the query has no searchable words".into(),
            });
        }
        Ok(should)
    }

    /// The restricting clauses: chunks only, and the filters.
    fn filter_clauses(f: &Fields, filters: &Filters) -> Result<Vec<(Occur, Box<dyn Query>)>> {
        // Filters restrict and never score: they are constant-score zero, so a filtered
        // search ranks its results exactly as the unfiltered one does.
        let filter = |q: Box<dyn Query>| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
        };
        let term = |field: Field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let any_of = |field: Field, values: &mut dyn Iterator<Item = &str>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                values.map(|v| (Occur::Should, term(field, v))).collect(),
            ))
        };
        let mut must: Vec<(Occur, Box<dyn Query>)> =
            vec![filter(term(f.doc_type, crate::index::DOC_CHUNK))];
        if !filters.repos.is_empty() {
            must.push(filter(any_of(
                f.repo,
                &mut filters.repos.iter().map(String::as_str),
            )));
        }
        if !filters.kinds.is_empty() {
            must.push(filter(any_of(
                f.kind,
                &mut filters.kinds.iter().map(|k| k.as_str()),
            )));
        }
        if let Some(module) = filters.module.as_deref().filter(|m| !m.is_empty()) {
            must.push(filter(term(f.module_scope, module)));
        }
        if let Some(prefix) = filters.path_prefix.as_deref().filter(|p| !p.is_empty()) {
            let prefix = prefix.trim_start_matches("./");
            if prefix.len() > MAX_PATH_PREFIX_BYTES {
                return Err(NodeError::InvalidArgument {
                    field: "path_prefix",
                    reason: format!(
                        "at most {MAX_PATH_PREFIX_BYTES} bytes, got {}",
                        prefix.len()
                    ),
                });
            }
            let starts_with = |prefix: &str| -> Result<Box<dyn Query>> {
                let pattern = format!("{}.*", regex_escape(prefix));
                let q = RegexQuery::from_pattern(&pattern, f.path).map_err(|e| {
                    NodeError::InvalidArgument {
                        field: "path_prefix",
                        reason: e.to_string(),
                    }
                })?;
                Ok(Box::new(q))
            };
            // Hits are shown as `repo/path`, so `repo/lib/x` also means `lib/x` in `repo`,
            // and `repo` alone the whole repository.
            let mut either = vec![(Occur::Should, starts_with(prefix)?)];
            if let Some((repo, rest)) = prefix.split_once('/') {
                let in_repo: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                    (Occur::Must, term(f.repo, repo)),
                    (Occur::Must, starts_with(rest)?),
                ]));
                either.push((Occur::Should, in_repo));
            } else {
                either.push((Occur::Should, term(f.repo, prefix)));
            }
            must.push(filter(Box::new(BooleanQuery::new(either))));
        }
        Ok(must)
    }

    /// The chunks with the given ids that pass `filters`, scored by BM25 of the query's
    /// words (0 for a chunk none of them match).
    fn build_lookup(
        &self,
        f: &Fields,
        filters: &Filters,
        ids: &mut dyn Iterator<Item = &str>,
    ) -> Result<Box<dyn Query>> {
        let ids: Vec<(Occur, Box<dyn Query>)> = ids
            .map(|id| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(f.chunk_id, id),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect();
        let mut clauses = Self::filter_clauses(f, filters)?;
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(ids)), 0.0)),
        ));
        clauses.push((Occur::Should, Box::new(BooleanQuery::new(self.should(f)?))));
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    /// The symbol a hit shows: the arity the query names when the chunk defines it
    /// (`String.split/2` for a query of it, though the chunk answers to `/2` and `/3`).
    /// A chunk of several small functions merged shows the one the query names
    /// (`Pass.dump_results/1` for `dump_results`, not the chunk's first function), and a
    /// test the function of a module it defines in its body.
    fn hit_symbol(&self, chunk: &Chunk) -> String {
        if chunk.kind.is_callable()
            || matches!(chunk.kind, ChunkKind::Type | ChunkKind::ModuleHeader)
            || (chunk.kind.is_test() && !chunk.defines.is_empty())
        {
            // Any definition of the chunk (merged neighbours too: `split/2`, `split/3`;
            // callbacks merged with their neighbours: `mount/1` .. `handle_event/3`).
            let sentence_names: Vec<String> = (self.sentence_names.iter())
                .map(|s| s.to_lowercase())
                .collect();
            for s in (self.symbols.iter())
                .chain(&self.words)
                .chain(&sentence_names)
            {
                // A capitalised word names a module: `Config` is shown as the module, not
                // as the `@type config` its header holds.
                if chunk.kind == ChunkKind::ModuleHeader
                    && self
                        .weak_exact_symbols
                        .iter()
                        .any(|w| w.to_lowercase() == *s)
                {
                    continue;
                }
                let Some((module, named, arity)) = split_symbol(s) else {
                    continue;
                };
                let found = chunk.defines.iter().find_map(|d| {
                    // `Nx.unquote` names the placeholders of `Nx` (`unquote(name)/1`).
                    let as_named = d.name.to_lowercase() == named
                        || (named == PLACEHOLDER_NAME
                            && module.is_some()
                            && crate::chunk::is_placeholder(&d.name));
                    let fits = (d.kind.is_callable() || d.kind == ChunkKind::Type)
                        && as_named
                        && module.is_none_or(|m| is_module_suffix(&d.module.to_lowercase(), m));
                    let a = match arity {
                        Some(a) => d.arities.contains(&a).then_some(a),
                        None => d.arities.last().copied(),
                    };
                    fits.then_some(a).flatten().map(|a| (d, a))
                });
                if let Some((d, a)) = found {
                    return crate::chunk::symbol(&d.module, &d.name, a);
                }
            }
        }
        chunk.display_symbol()
    }

    /// Whether the query names a function, macro, guard or delegate of `chunk` with its
    /// module (`Stock.reserve/4` the chunk of `reserve/4`, `Stock.reserve` any arity), as
    /// [`names_function_qualified`] reads a name; a module (`Inventory.Stock`) or a
    /// module's type (`Inventory.Item.t` is read as a function name too, but no function
    /// of the chunk has it) does not count.
    fn names_function_of(&self, chunk: &Chunk) -> bool {
        if !chunk.kind.is_callable() {
            return false;
        }
        (self.exact_symbols.iter().chain(&self.sentence_names))
            .filter(|s| names_function_qualified(s))
            .any(|written| {
                let s = written.to_lowercase();
                let Some((Some(module), name, arity)) = split_symbol(&s) else {
                    return false;
                };
                chunk.defines.iter().any(|d| {
                    d.kind.is_callable()
                        && d.name.to_lowercase() == name
                        && is_module_suffix(&d.module.to_lowercase(), module)
                        && arity.is_none_or(|a| d.arities.contains(&a))
                })
            })
    }

    /// Whether the query writes the name of one of `chunk`'s definitions bare, without
    /// a module (`handle_call`, `handle_call/3`, a question's `handle_call?`).
    fn names_bare(&self, chunk: &Chunk) -> bool {
        (self.exact_symbols.iter().chain(&self.sentence_names)).any(|written| {
            let (head, _) = split_arity(written);
            !head.contains('.')
                && (chunk.name == head || chunk.defines.iter().any(|d| d.name == head))
        })
    }

    /// Whether the query names one of `chunk`'s definitions with its module
    /// (`Inventory.Item.t`, `Stock.reserve/4`, `Inventory.Stock`); a bare name
    /// (`handle_call`) names no one definition.
    fn names_qualified(&self, chunk: &Chunk) -> bool {
        self.names_qualified_by(chunk, is_module_suffix)
    }

    /// [`names_qualified`](Self::names_qualified) with its module whole
    /// (`Config.config/3` names `Config`'s, not `Mix.Config`'s).
    fn names_with_whole_module(&self, chunk: &Chunk) -> bool {
        self.names_qualified_by(chunk, |full, part| full == part)
    }

    /// Whether a question's words name the module of `chunk`'s header: every word of its
    /// last segment is among them ("retry a failed request" names `Req.Retry`, "follow
    /// redirects" `Tesla.Middleware.FollowRedirects`), compared stemmed.
    fn words_name_header(&self, chunk: &Chunk) -> bool {
        // A struct's doc tells of its data (`Ecto.Association.ManyToMany`: "Its fields
        // are"), an exception's of one error (`Schema.Error` is no answer to "report an
        // error from a resolver"), and an implementation's module ends in the type it is
        // for (`Inspect.Shop.Price`), not in a feature; and a module without a doc
        // documents no feature (`Surface.AST`, a union type of its node structs, named by
        // every question about an AST node).
        if !self.question
            || chunk.kind != ChunkKind::ModuleHeader
            || chunk.doc.as_deref().is_none_or(|d| d.trim().is_empty())
            || (chunk.tags.iter()).any(|t| matches!(t.as_str(), "struct" | "exception" | "impl"))
        {
            return false;
        }
        // Not a module of one segment: a library or a namespace (`Application`, `Path`:
        // common nouns, and docs that survey everything the library does). Nor a Mix
        // task, named after its command (`Mix.Tasks.Compile.Surface` is no answer to
        // "convert Surface code", nor `Mix.Tasks.Test` to "clean up after a test").
        let Some((_, last)) = chunk.module.rsplit_once('.') else {
            return false;
        };
        if chunk.module.starts_with("Mix.Tasks.") {
            return false;
        }
        // `FollowRedirects` is `followredirect`, `follow` and `redirect`: its parts must
        // be there, the whole word may not (a question writes the words apart). Words any
        // sentence has (`Shop.A`, `Ecto.Association.Has`, `Req.Into`) name nothing.
        let tokens = analyze(&mut code_analyzer(), last);
        let words: Vec<&String> = (tokens.iter())
            .filter(|t| t.len() > 2 && !HEADER_STOPWORDS.contains(&t.as_str()))
            .collect();
        let missing = words.iter().filter(|t| !self.terms.contains(t)).count();
        missing < words.len() && missing <= usize::from(tokens.len() > 1)
    }

    /// Whether a query of one capitalised word (`Config`) names the module of `chunk`'s
    /// header only as the end of a longer one (`Mix.Config`).
    fn names_header_by_its_end(&self, chunk: &Chunk) -> bool {
        if !self.single_word || chunk.kind != ChunkKind::ModuleHeader {
            return false;
        }
        let headers = || {
            (chunk.defines.iter())
                .filter(|d| d.kind == ChunkKind::ModuleHeader)
                .map(|d| d.module.to_lowercase())
        };
        self.weak_exact_symbols.iter().any(|word| {
            let word = word.to_lowercase();
            headers().any(|m| m != word && is_module_suffix(&m, &word))
                && !headers().any(|m| m == word)
        })
    }

    /// Whether the query names one of `chunk`'s definitions with a module that
    /// `module_fits` the definition's (lowercased: definition's, query's).
    fn names_qualified_by(&self, chunk: &Chunk, module_fits: fn(&str, &str) -> bool) -> bool {
        // As written: a module is capitalised (`conn.req_headers` names a variable's
        // field, not `Plug.Conn.req_headers`).
        self.exact_symbols.iter().any(|written| {
            if !written.starts_with(char::is_uppercase) {
                return false;
            }
            let s = written.to_lowercase();
            let (head, _) = split_arity(&s);
            let Some((module, name)) = head.rsplit_once('.') else {
                return false;
            };
            // Identifier names only: operators (`Kernel.../2`) are not split here.
            if !name.starts_with(|c: char| c.is_alphabetic() || c == '_') || module.is_empty() {
                return false;
            }
            // As written, a capitalised last part names a module and a lower-case one a
            // function: `Repo.transaction` is no name of `Ecto.Repo.Transaction`.
            let names_a_module = (written.rsplit('.').next())
                .is_some_and(|last| last.starts_with(char::is_uppercase));
            chunk.defines.iter().any(|d| {
                let dm = d.module.to_lowercase();
                if d.kind == ChunkKind::ModuleHeader {
                    names_a_module && module_fits(&dm, head)
                } else {
                    d.name.to_lowercase() == name && module_fits(&dm, module)
                }
            })
        })
    }

    /// Whether `chunk` defines a function of the name a question writes with its module,
    /// in another module: "what does OpentelemetryEcto.handle_event do" asks about
    /// that one, not Xandra's or Dataloader's `handle_event/4`.
    fn namesake_elsewhere(&self, chunk: &Chunk) -> bool {
        self.question
            && !chunk.defines.is_empty()
            && chunk.kind.is_callable()
            && !self.names_qualified(chunk)
            && self.exact_symbols.iter().any(|written| {
                let (head, _) = split_arity(written);
                let Some((module, name)) = head.rsplit_once('.') else {
                    return false;
                };
                written.starts_with(char::is_uppercase)
                    && !module.is_empty()
                    && name.starts_with(|c: char| c.is_lowercase() || c == '_')
                    && chunk.defines.iter().any(|d| d.name == name)
            })
    }

    /// Whether `chunk` is an internal function (private, or documented as internal) that
    /// a question weighs at [`INTERNAL_WEIGHT`], so that it gains a share of what its
    /// neighbours in its file score ([`lend_to_internal_neighbours`]).
    fn borrows_from_neighbours(&self, chunk: &Chunk) -> bool {
        self.question
            && chunk.kind.is_callable()
            && chunk.visibility != Visibility::Public
            && !in_tests(chunk)
            && !self.names_bare(chunk)
            && !self.names_qualified(chunk)
    }

    /// Definitions rank first: tests (and code under test directories) and plain text
    /// rank below code unless the query asks for tests, and module headers, types and
    /// callbacks below functions in a question.
    fn kind_weight(&self, chunk: &Chunk) -> f32 {
        let in_tests = in_tests(chunk);
        let mut w = 1.0;
        if in_tests && !self.wants_tests {
            w *= 0.5;
        }
        // An Ecto migration's copies of schemas (`Old.GeoFence`, `New.GeoFence` in
        // TeslaMate's migrations) rank below the application's own.
        if in_migrations(chunk) && !self.wants_migrations {
            w *= 0.5;
        }
        // A question weighs as one even when it names an identifier ("reply to a caller
        // from outside handle_call"): it still asks about the public API. What it names
        // with its module ("which fields does Inventory.Item.t have") weighs as in an
        // identifier query, header, type or hidden.
        let identifier = self.code_like && (!self.question || self.names_qualified(chunk));
        match chunk.kind {
            // (A template, `success.html.heex`, is a function's code: `embed_templates`
            // or its view makes it one.)
            ChunkKind::Text if crate::chunk::is_template_path(&chunk.path) => {}
            ChunkKind::Text => w *= 0.5,
            // Headers, types and callbacks describe a module or a contract; a question
            // is mostly answered by what a function does.
            ChunkKind::ModuleHeader if !identifier && self.words_name_header(chunk) => {
                w *= QUESTION_NAMED_HEADER_WEIGHT;
            }
            ChunkKind::ModuleHeader | ChunkKind::Type if !identifier => w *= 0.6,
            _ => {}
        }
        // A protocol's bodiless `def`s are its callbacks (`defprotocol` declares each as
        // one): in a question or other prose they weigh as callbacks do, under the
        // functions that use the protocol (`Enum.count/2` before `Enumerable.count/1`).
        if !identifier && chunk.kind.is_callable() && chunk.tags.iter().any(|t| t == "bodiless") {
            w *= 0.6;
        }
        if identifier {
            // `Ecto.Changeset.cast` names the public `cast/4` before the private `cast/7`
            // of the same name; a query naming only a private function still finds it.
            if chunk.visibility == Visibility::Private {
                w *= 0.7;
            }
            // A bare `handle_info/2` or `mount/3` names a contract before its many
            // implementations: the documented definition (the `@callback`, the library's
            // function) comes first, then the undocumented ones (`@impl`s, app code). With
            // a module named, only that module's definitions match anyway.
            // (A protocol's bodiless `def` is its contract, documented or not:
            // `to_json_api_error/1` names AshJsonApi's protocol before its 37
            // implementations.)
            if !self.names_module
                && chunk.kind.is_callable()
                && chunk.doc.is_none()
                && !chunk.tags.iter().any(|t| t == "bodiless")
            {
                w *= UNDOCUMENTED_WEIGHT;
            }
            // `ExDoc.Markdown.to_ast/2` names the function before the `@callback` of the
            // same name the module also declares (their BM25 are near each other).
            if self.names_module && chunk.kind == ChunkKind::Type {
                w *= NAMED_CONTRACT_WEIGHT;
            }
            // So does `Lexical.Server.Transport.write/1` before the header that holds a
            // `@callback write(…)` (a small behaviour's): the header matches the module's
            // name as well, so its BM25 is further above.
            if self.names_a_function_qualified
                && !self.question
                && chunk.kind == ChunkKind::ModuleHeader
            {
                w *= NAMED_HEADER_WEIGHT;
            }
            let longer = (self.names_qualified(chunk) && !self.names_with_whole_module(chunk))
                || self.names_header_by_its_end(chunk);
            if !self.question && longer {
                w *= LONGER_MODULE_WEIGHT;
                // `Phoenix.Param.Accounts.User`, an implementation for `Accounts.User`,
                // ends in that name too: the module itself comes first.
                if chunk.tags.iter().any(|t| t == "impl") {
                    w *= LONGER_MODULE_WEIGHT;
                }
            }
        } else {
            // Questions about a library are mostly about its public API; questions about
            // an application, about its internals too (see [`INTERNAL_WEIGHT`]). A
            // name the question writes bare ("reply from outside handle_call") is a
            // contract's, which internal implementations of it do not answer.
            if chunk.visibility != Visibility::Public {
                w *= if self.names_bare(chunk) {
                    BARE_NAMED_INTERNAL_WEIGHT
                } else {
                    INTERNAL_WEIGHT
                };
            }
            if chunk.tags.iter().any(|t| t == "deprecated") {
                w *= 0.7;
            }
            // Code a tool wrote (`# codegen: do not edit`) answers few questions about a
            // project: elixir-ls's generated protocol enumerations, each a one-line doc,
            // filled the top of questions about its own code.
            if chunk.tags.iter().any(|t| t == "generated") {
                w *= GENERATED_WEIGHT;
            }
        }
        if self.namesake_elsewhere(chunk) {
            w *= NAMESAKE_WEIGHT;
        }
        w
    }
}

/// Whether `chunk` is an Ecto migration's code (`priv/repo/migrations/…`).
fn in_migrations(chunk: &Chunk) -> bool {
    chunk.path.contains("/migrations/") || chunk.path.starts_with("migrations/")
}

/// Whether `chunk` is a test, or code under a test directory.
fn in_tests(chunk: &Chunk) -> bool {
    chunk.kind.is_test()
        || chunk.path.starts_with("test/")
        || chunk.path.contains("/test/")
        || chunk.path.ends_with("_test.exs")
}

/// Whether a name as written is a function with its module (`Stock.reserve/4`,
/// `Ecto.Repo.insert`, `Explorer.Query.<`), not a bare name (`reserve/4`) or a module
/// (`Ecto.Repo`).
fn names_function_qualified(written: &str) -> bool {
    let (head, _) = split_arity(written);
    // An operator: what follows its module is no name (`Explorer.Query.<`).
    let (module, op) = split_operator(head);
    if !module.is_empty() {
        return module.starts_with(char::is_uppercase) && !op.is_empty();
    }
    head.starts_with(char::is_uppercase)
        && head
            .rsplit_once('.')
            .is_some_and(|(_, name)| name.starts_with(|c: char| c.is_lowercase() || c == '_'))
}

/// Whether `part` is `full` or its last segments (`stock` and `inventory.stock` of
/// `inventory.stock`, not `instock`): people leave out an application's prefix.
fn is_module_suffix(full: &str, part: &str) -> bool {
    full == part
        || full
            .strip_suffix(part)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// The characters operators are written with.
const OPERATOR: &str = "+-*/<>=!|&^~.\\%@:{}";

/// The symbol key of an operator or special form named in a query (`Kernel.<>/2`,
/// `Kernel.+`, `<>`, `|>/2`, `Kernel.SpecialForms.%{}/1`), lowercased as the index keys
/// it; `None` for anything else.
fn operator_key(tok: &str) -> Option<String> {
    let (head, arity) = split_arity(tok);
    let (module, op) = split_operator(head);
    let module_ok = module.is_empty()
        || (module.starts_with(|c: char| c.is_ascii_uppercase())
            && module
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.'));
    if op.is_empty() || !module_ok || !op.chars().all(|c| OPERATOR.contains(c)) {
        return None;
    }
    let mut key = module.to_lowercase();
    if !key.is_empty() {
        key.push('.');
    }
    key.push_str(op);
    if let Some(a) = arity {
        key.push('/');
        key.push_str(a);
    }
    Some(key)
}

/// A name and its arity when it ends in one (`Enum.map/2`: `Enum.map` and `2`; `//2`: `/`
/// and `2`); the whole name otherwise (`/`, `and/or`).
fn split_arity(s: &str) -> (&str, Option<&str>) {
    match s.rsplit_once('/') {
        Some((head, arity))
            if !head.is_empty()
                && !arity.is_empty()
                && arity.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (head, Some(arity))
        }
        _ => (s, None),
    }
}

/// A name's module and operator (`Kernel.../2`'s head `Kernel..`: `Kernel` and `..`):
/// the operator is what follows the module's first `.` before an operator character. A
/// `.` after no name is the operator's own (`..` is the range, not `.` of no module;
/// `..//` the stepped range); the module is `""` when there is none.
fn split_operator(head: &str) -> (&str, &str) {
    let split = head
        .char_indices()
        .find(|&(i, c)| {
            c == '.'
                && head[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                && head[i + 1..].starts_with(|c: char| OPERATOR.contains(c))
        })
        .map(|(i, _)| i);
    match split {
        Some(i) => (&head[..i], &head[i + 1..]),
        None => ("", head),
    }
}

/// A symbol key of a query (lowercased) as its module, if any, its name and its arity,
/// if any: `enum.map/2`, `handle_info`, `kernel.../2` (`..`), `/` (the operator, of no
/// arity); `None` for an arity that is not a number.
fn split_symbol(s: &str) -> Option<(Option<&str>, &str, Option<u32>)> {
    let (head, arity) = match s.rsplit_once('/') {
        Some((head, arity)) if !head.is_empty() && !arity.is_empty() => {
            (head, Some(arity.parse::<u32>().ok()?))
        }
        _ => (s, None),
    };
    let (module, name) = match split_operator(head) {
        ("", op) if op.starts_with(|c: char| c.is_alphanumeric() || c == '_') => {
            match head.rsplit_once('.') {
                Some((m, n)) => (Some(m), n),
                None => (None, head),
            }
        }
        ("", op) => (None, op),
        (m, op) => (Some(m), op),
    };
    Some((module, name, arity))
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~\"<>@".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The lines a snippet shows.
const SNIPPET_WINDOW: usize = 4;

/// The snippet of `chunk` from its line `line` (of the file), when the chunk holds it.
fn snippet_at(chunk: &Chunk, line: u32) -> (String, u32) {
    let lines: Vec<&str> = chunk.content.lines().collect();
    let start = (line.saturating_sub(chunk.start_line) as usize).min(lines.len().saturating_sub(1));
    let end = (start + SNIPPET_WINDOW).min(lines.len());
    (
        crate::chunk::elide_long_lines(&lines[start..end].join("\n")).into_owned(),
        chunk.start_line + start as u32,
    )
}

/// The window of up to four lines of the chunk that holds the most query terms.
fn snippet(
    analyzer: &mut tantivy::tokenizer::TextAnalyzer,
    chunk: &Chunk,
    terms: &[String],
) -> (String, u32) {
    const WINDOW: usize = SNIPPET_WINDOW;
    let lines: Vec<&str> = chunk.content.lines().collect();
    if lines.is_empty() {
        return (String::new(), chunk.start_line);
    }
    let wanted: HashSet<&str> = terms.iter().map(String::as_str).collect();
    let scores: Vec<usize> = lines
        .iter()
        .map(|l| {
            if l.len() > 400 {
                return 0;
            }
            let found: HashSet<String> = analyze(analyzer, l)
                .into_iter()
                .filter(|t| wanted.contains(t.as_str()))
                .collect();
            found.len()
        })
        .collect();
    let mut best = (0usize, 0usize);
    for start in 0..lines.len() {
        let end = (start + WINDOW).min(lines.len());
        let s: usize = scores[start..end].iter().sum();
        if s > best.1 {
            best = (start, s);
        }
    }
    // Skip leading blank lines of the window.
    let mut start = best.0;
    while start + 1 < lines.len() && lines[start].trim().is_empty() {
        start += 1;
    }
    let end = (start + WINDOW).min(lines.len());
    (
        crate::chunk::elide_long_lines(&lines[start..end].join("\n")).into_owned(),
        chunk.start_line + start as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates_of(files: &[(&str, &str)]) -> Vec<Candidate> {
        let config = crate::chunk::ChunkerConfig {
            merge_below: 0,
            ..Default::default()
        };
        let mut out = Vec::new();
        for (path, src) in files {
            match crate::chunk::chunk_file("shop", path, src.as_bytes(), &config) {
                crate::chunk::FileChunks::Chunked(chunks) => {
                    out.extend(chunks.into_iter().map(|chunk| Candidate {
                        score: 0.5,
                        bm25: 0.0,
                        similarity: None,
                        weight: 1.0,
                        partition: 0,
                        chunk,
                    }))
                }
                crate::chunk::FileChunks::Skipped(r) => panic!("{path} skipped: {r}"),
            }
        }
        out
    }

    /// Of two definitions of one function in one file scoring alike, the one written
    /// first comes first (Cadet's CloudWatch logger: its clauses before the catch-all
    /// merged with the other catch-alls further down); not one scoring well below.
    #[test]
    fn the_definition_written_first_comes_first_among_alike_ones() {
        let src = "defmodule Log.Cloud do\n  def handle_event({level, msg}, state) do\n    {:ok, [{level, msg} | state]}\n  end\n\n  def handle_call(:flush, state), do: {:ok, :ok, state}\n\n  def handle_event(_, state), do: {:ok, state}\nend\n";
        let plan = QueryPlan::new("Log.Cloud.handle_event/2");
        let ranked = |late: f32, early: f32| {
            let mut hits: Vec<Candidate> = candidates_of(&[("lib/log/cloud.ex", src)])
                .into_iter()
                .filter(|c| c.chunk.name == "handle_event")
                .collect();
            assert_eq!(hits.len(), 2);
            hits.sort_by_key(|c| std::cmp::Reverse(c.chunk.start_line));
            (hits[0].score, hits[1].score) = (late, early);
            first_definition_first(&mut hits, &plan);
            (hits.iter())
                .map(|h| (h.chunk.start_line, h.score))
                .collect::<Vec<_>>()
        };
        assert_eq!(ranked(459.8, 455.7), [(2, 459.8), (7, 455.7)]);
        assert_eq!(ranked(459.8, 300.0), [(7, 459.8), (2, 300.0)]);
    }

    /// In a question, an internal function gains [`NEIGHBOUR_SHARE`] of the best score of
    /// the candidates of its file that it calls or that call it; public functions, tests,
    /// other files' functions and identifier queries gain nothing.
    #[test]
    fn an_internal_function_borrows_from_the_neighbours_it_calls_or_that_call_it() {
        let import = "defmodule Shop.Import do
  @moduledoc \"Reads spreadsheets.\"

  @doc \"Imports every row.\"
  def rows(rows), do: Enum.map(rows, &convert/1)

  defp convert(row), do: row |> check!() |> build()

  defp check!(row) do
    Map.has_key?(row, :sku) || raise ArgumentError, \"every line needs a stock code\"
    row
  end

  defp build(row), do: row

  defp alone(row), do: row

  defp convert(row, opts), do: convert(row) |> Map.merge(opts)

  defstruct [:sku]

  defp blank, do: %__MODULE__{}
end
";
        let other = "defmodule Shop.Export do
  defp convert(row), do: Shop.Import.rows([row])
end
";
        let test = "defmodule Shop.ImportTest do
  use ExUnit.Case
  defp convert(row), do: Shop.Import.rows([row])
end
";
        let mut candidates = candidates_of(&[
            ("lib/import.ex", import),
            ("lib/export.ex", other),
            ("test/import_test.exs", test),
        ]);
        let at = |cands: &[Candidate], path: &str, name: &str| {
            (cands.iter())
                .position(|c| c.chunk.path == path && c.chunk.name == name)
                .unwrap_or_else(|| panic!("no {name} in {path}"))
        };
        let (rows, convert, check, build, alone) = (
            at(&candidates, "lib/import.ex", "rows"),
            at(&candidates, "lib/import.ex", "convert"),
            at(&candidates, "lib/import.ex", "check!"),
            at(&candidates, "lib/import.ex", "build"),
            at(&candidates, "lib/import.ex", "alone"),
        );
        let convert2 = (candidates.iter())
            .position(|c| c.chunk.name == "convert" && c.chunk.arities == [2])
            .expect("convert/2");
        let (header, blank) = (
            (candidates.iter())
                .position(|c| {
                    c.chunk.kind == ChunkKind::ModuleHeader && c.chunk.path == "lib/import.ex"
                })
                .expect("a header"),
            at(&candidates, "lib/import.ex", "blank"),
        );
        // Another arity of `convert` and the header (through its struct's `__struct__/0`)
        // score best, and lend nothing.
        candidates[convert2].score = 0.95;
        candidates[header].score = 0.9;
        let (elsewhere, in_test) = (
            at(&candidates, "lib/export.ex", "convert"),
            at(&candidates, "test/import_test.exs", "convert"),
        );
        candidates[check].score = 0.8;
        let question = QueryPlan::new("what happens when a spreadsheet line has no stock code");
        let mut asked = candidates.clone();
        lend_to_internal_neighbours(&mut asked, &question);
        let gain = |cands: &[Candidate], i: usize| cands[i].score - candidates[i].score;
        // `convert/1` calls `check!/1` (0.8) and is called by `rows/1` (0.5): the best.
        assert!((gain(&asked, convert) - NEIGHBOUR_SHARE * 0.8).abs() < 1e-6);
        // `check!/1` and `build/1` are called by `convert/1` (0.5).
        assert!((gain(&asked, check) - NEIGHBOUR_SHARE * 0.5).abs() < 1e-6);
        assert!((gain(&asked, build) - NEIGHBOUR_SHARE * 0.5).abs() < 1e-6);
        // Public, unconnected, another file's, a test's, a struct's user: nothing.
        for i in [rows, alone, elsewhere, in_test, blank] {
            assert_eq!(gain(&asked, i), 0.0, "{}", candidates[i].chunk.name);
        }
        // The same gains whatever the candidates' order (scores are read before any rises).
        let mut reversed: Vec<Candidate> = candidates.iter().rev().cloned().collect();
        lend_to_internal_neighbours(&mut reversed, &question);
        let n = candidates.len();
        for i in 0..n {
            assert_eq!(reversed[n - 1 - i].score, asked[i].score);
        }
        // An identifier query ranks by name, not by neighbours.
        let mut named = candidates.clone();
        lend_to_internal_neighbours(&mut named, &QueryPlan::new("Shop.Import.rows"));
        assert!(
            named
                .iter()
                .zip(&candidates)
                .all(|(a, b)| a.score == b.score)
        );
    }

    /// `Repo.transaction` names a function, `Repo.Transaction` a module: a header counts
    /// as named (weighed as in an identifier query, in a question too) only by the second.
    #[test]
    fn a_lower_case_last_part_names_a_function_not_a_module() {
        let src = b"defmodule Ecto.Repo.Transaction do\n  @moduledoc \"Runs one.\"\n  def run(f), do: f.()\nend\n";
        let chunks = match crate::chunk::chunk_file("app", "lib/tx.ex", src, &Default::default()) {
            crate::chunk::FileChunks::Chunked(chunks) => chunks,
            crate::chunk::FileChunks::Skipped(r) => panic!("skipped: {r}"),
        };
        let header = (chunks.iter())
            .find(|c| c.kind == ChunkKind::ModuleHeader)
            .expect("a header");
        for (query, named) in [
            ("where is Repo.transaction used", false),
            ("Repo.transaction/2", false),
            ("where is Repo.Transaction defined", true),
            ("Ecto.Repo.Transaction", true),
        ] {
            assert_eq!(
                QueryPlan::new(query).names_qualified(header),
                named,
                "{query}"
            );
        }
    }

    /// A hit shows the definition the query names, an operator too: `/` in a chunk that
    /// a `for` fills with eleven operators is `Calc.//2`, not the chunk's first, `==`.
    #[test]
    fn a_hit_shows_the_operator_the_query_names() {
        let src = b"defmodule Calc do\n  ops = [==: :equal, /: :divide, ..: :range]\n\n  for {op, fun} <- ops do\n    def unquote(op)(a, b), do: Calc.Impl.unquote(fun)(a, b)\n  end\nend\n";
        let chunks = match crate::chunk::chunk_file("app", "lib/calc.ex", src, &Default::default())
        {
            crate::chunk::FileChunks::Chunked(chunks) => chunks,
            crate::chunk::FileChunks::Skipped(r) => panic!("skipped: {r}"),
        };
        let ops = (chunks.iter())
            .find(|c| c.defines.iter().any(|d| d.name == "/"))
            .expect("a chunk defining `/`");
        for (query, shown) in [
            ("/", "Calc.//2"),
            ("//2", "Calc.//2"),
            ("Calc./", "Calc.//2"),
            ("Calc.//2", "Calc.//2"),
            ("..", "Calc.../2"),
            ("../2", "Calc.../2"),
            ("Calc.../2", "Calc.../2"),
            ("==", "Calc.==/2"),
        ] {
            assert_eq!(QueryPlan::new(query).hit_symbol(ops), shown, "{query}");
        }
        assert_eq!(
            split_symbol("enum.map/2"),
            Some((Some("enum"), "map", Some(2)))
        );
        assert_eq!(
            split_symbol("handle_info"),
            Some((None, "handle_info", None))
        );
        assert_eq!(split_symbol("/"), Some((None, "/", None)));
        assert_eq!(
            split_symbol("kernel.specialforms../2"),
            Some((Some("kernel.specialforms"), ".", Some(2)))
        );
        assert_eq!(split_symbol("and/or"), None);
    }

    #[test]
    fn a_function_with_its_module_is_told_from_a_bare_name_or_a_module() {
        for (written, named) in [
            ("Stock.reserve/4", true),
            ("Stock.reserve", true),
            ("Enum.member?", true),
            ("Shop.Stock._private", true),
            ("Explorer.Query.<", true),
            ("Kernel.../2", true),
            ("Kernel.SpecialForms../2", true),
            ("Kernel.SpecialForms.%{}/1", true),
            ("Ecto.Repo", false),
            ("reserve/4", false),
            ("handle_call", false),
            ("conn.req_headers", false),
            ("<>", false),
            ("..", false),
            ("/", false),
        ] {
            assert_eq!(names_function_qualified(written), named, "{written}");
        }
    }

    /// A struct written as code (`%Bonny.Axn{}`) names its module, and an ExDoc type
    /// (`t:Bonny.Axn.t/0`) its type, as the names alone do.
    #[test]
    fn a_struct_literal_and_an_exdoc_reference_are_names() {
        for (written, name) in [
            ("%Bonny.Axn{}", "Bonny.Axn"),
            ("%K8s.Conn{url: u}", "K8s.Conn"),
            ("t:Bonny.Axn.t/0", "Bonny.Axn.t/0"),
            ("c:GenServer.init/1", "GenServer.init/1"),
        ] {
            let plan = QueryPlan::new(written);
            let alone = QueryPlan::new(name);
            assert_eq!(plan.exact_symbols, alone.exact_symbols, "{written}");
            assert!(plan.exact_symbols.iter().any(|s| s == name), "{written}");
        }
        assert!(QueryPlan::new("%{}").exact_symbols.is_empty());
        // An Erlang module's function keeps its module's colon (Next LS's
        // `:_next_ls_private_compiler.compile/0`); a bare atom is a word.
        let erlang = QueryPlan::new(":_ls_compiler.compile/0");
        assert_eq!(erlang.exact_symbols, [":_ls_compiler.compile/0"]);
        assert!(
            erlang
                .symbols
                .iter()
                .any(|s| s == ":_ls_compiler.compile/0")
        );
        assert_eq!(QueryPlan::new(":ok").exact_symbols, Vec::<String>::new());
        // Nor one ending a sentence.
        let prose = QueryPlan::new("the worker exits with :killed.");
        assert!(prose.exact_symbols.is_empty(), "{:?}", prose.exact_symbols);
    }

    /// In a sentence `I` is a pronoun, not a module, and a `?` may end the sentence rather
    /// than the name; alone, `I` is a name and `member?` keeps its `?`.
    #[test]
    fn a_question_s_pronoun_and_question_mark_are_not_names() {
        let plan = QueryPlan::new("when should I use Enum.reduce?");
        assert!(!plan.weak_exact_symbols.iter().any(|s| s == "I"));
        assert!(!plan.symbols.iter().any(|s| s == "i"), "{:?}", plan.symbols);
        assert_eq!(plan.exact_symbols, ["Enum.reduce?"]);
        assert_eq!(plan.sentence_names, ["Enum.reduce"]);
        assert!(plan.names_a_function_qualified);
        assert_eq!(QueryPlan::new("I").weak_exact_symbols, ["I"]);
        assert_eq!(
            QueryPlan::new("Enum.member?").exact_symbols,
            ["Enum.member?"]
        );
    }

    #[test]
    fn operators_in_queries_are_symbol_keys() {
        for (tok, key) in [
            ("Kernel.<>/2", Some("kernel.<>/2")),
            ("Kernel.+", Some("kernel.+")),
            ("Kernel.../2", Some("kernel.../2")),
            ("Kernel.|>/2", Some("kernel.|>/2")),
            ("<>", Some("<>")),
            ("=~/2", Some("=~/2")),
            (
                "Kernel.SpecialForms.%{}/1",
                Some("kernel.specialforms.%{}/1"),
            ),
            ("{}", Some("{}")),
            // A leading `.` is the operator's: `..` is the range, not the dot.
            ("..", Some("..")),
            ("../2", Some("../2")),
            ("..//", Some("..//")),
            ("Kernel.SpecialForms../2", Some("kernel.specialforms../2")),
            ("String.split/2", None),
            ("%{a: 1}", None),
            ("and/or", None),
            ("1/2", None),
            ("+1", None),
            ("", None),
            ("kernel.+", None),
        ] {
            assert_eq!(operator_key(tok).as_deref(), key, "{tok:?}");
        }
        // A lone operator inside a question is punctuation, not a name; so is an ellipsis.
        let plan = QueryPlan::new("subtract a - b from the total amount");
        assert!(plan.symbols.is_empty(), "{:?}", plan.symbols);
        assert!(!plan.code_like);
        let plan = QueryPlan::new("why does Logger... drop my messages");
        assert_eq!(plan.symbols, ["logger"]);
        assert_eq!(QueryPlan::new("<>").symbols, ["<>"]);
    }

    /// A template weighs as the function it compiles into (Algora's
    /// `success.html.heex`, the only file saying "Authentication Successful"); prose
    /// weighs less.
    #[test]
    fn templates_weigh_as_code_and_prose_less() {
        let candidates = candidates_of(&[
            (
                "lib/web/oauth/success.html.heex",
                "<h2>Authentication Successful!</h2>\n",
            ),
            (
                "guides/oauth.md",
                "# OAuth\n\nAuthentication successful means the token came.\n",
            ),
        ]);
        let plan = QueryPlan::new("authentication successful");
        let weight = |path: &str| {
            let c = (candidates.iter())
                .find(|c| c.chunk.path == path)
                .unwrap_or_else(|| panic!("no chunk in {path}"));
            plan.kind_weight(&c.chunk)
        };
        assert!(weight("guides/oauth.md") < weight("lib/web/oauth/success.html.heex"));
    }

    /// An Ecto migration's copy of a schema ranks below the application's own, unless
    /// the query asks about migrations (TeslaMate's `GeoFence`).
    #[test]
    fn migrations_rank_below_the_application() {
        let schema = "defmodule TeslaMate.Locations.GeoFence do\n  use Ecto.Schema\nend\n";
        let copy = "defmodule TeslaMate.Repo.Migrations.AddGeofences do\n  defmodule GeoFence do\n    use Ecto.Schema\n  end\nend\n";
        let candidates = candidates_of(&[
            ("lib/teslamate/locations/geo_fence.ex", schema),
            ("priv/repo/migrations/20190101_add_geofences.exs", copy),
        ]);
        let weight = |query: &str, path: &str| {
            let plan = QueryPlan::new(query);
            let c = (candidates.iter())
                .find(|c| c.chunk.path == path && c.chunk.kind == ChunkKind::ModuleHeader)
                .unwrap_or_else(|| panic!("no header in {path}"));
            plan.kind_weight(&c.chunk)
        };
        let (app, migration) = (
            "lib/teslamate/locations/geo_fence.ex",
            "priv/repo/migrations/20190101_add_geofences.exs",
        );
        assert!(weight("GeoFence", migration) < weight("GeoFence", app));
        assert_eq!(
            weight("geofence migration", migration),
            weight("geofence migration", app)
        );
    }
}
