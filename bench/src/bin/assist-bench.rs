//! What Aiex adds to an LLM call, and how long building a prompt's context takes.
//!
//! - `ttft --corpus DIR [--data DIR]`: a real `aiex up` (the embedded mode) over an index
//!   of DIR, its LLM provider a fake OpenAI-compatible server in this process
//!   ([`aiex_bench::fake_llm`]) that waits a fixed latency before the first token. Explain
//!   requests for `Module.fun/arity` targets go through the gRPC `Assist/Explain` API from
//!   tonic clients in this process (no process spawn per request): search, symbol graph
//!   and context build, the job queue, the worker's provider call, the frames relayed
//!   back over the bus and the gRPC stream. The baseline is the same fake called directly
//!   with reqwest, the same body Aiex sent, streamed and decoded the same way, interleaved
//!   request by request at concurrency 1 and block by block above. Reports time to first
//!   token (TTFT) and streams/s for both, and the overhead (Aiex − direct).
//! - `context --data DIR`: in process, the context the assist worker builds for a
//!   `Module.fun/arity` target (`node/src/assist/prompt.rs`: search for the target, the
//!   hits' chunks, the symbol graph, `ContextBuilder::build`, render), timed per phase
//!   over many targets on an existing index (`index-bench index --data DIR`, or an
//!   `aiex up` data directory).
//!
//! Each step prints a table, then one JSON line with every number.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aiex_bench::fake_llm::{BASELINE_HEADER, FakeLlm, Script};
use aiex_bench::up::{Server, aiex_binary, cpu_seconds_of, listed, repo_add, repo_name};
use aiex_bench::{elixir_corpus_dir, percentile, targets};
use aiex_node::context::{ContextBuilder, ContextRequest, TokenCounter};
use aiex_node::ingest::{IngestOptions, PartitionSet};
use aiex_proto::v1 as pb;
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use tonic::transport::Channel;

#[derive(Parser)]
struct Args {
    /// Partitions of the data directory.
    #[arg(long, global = true, default_value_t = aiex_proto::partition::DEFAULT_EMBEDDED_PARTITIONS)]
    partitions: u32,
    /// `Module.fun/arity` targets, picked deterministically from the Elixir source.
    #[arg(long, global = true, default_value_t = 200)]
    targets: usize,
    #[command(subcommand)]
    step: Step,
}

#[derive(Subcommand)]
enum Step {
    /// Time to first token and streams/s through a real `aiex up` vs the provider direct.
    Ttft {
        /// The `aiex` binary [default: $CARGO_TARGET_DIR/release/aiex].
        #[arg(long)]
        aiex: Option<PathBuf>,
        /// The corpus the server indexes (`aiex repo add`) unless `--data` holds it.
        #[arg(long)]
        corpus: PathBuf,
        /// The server's data directory, reused when it already holds the corpus
        /// [default: a fresh temporary directory].
        #[arg(long)]
        data: Option<PathBuf>,
        /// The fake provider's wait before the first token.
        #[arg(long, default_value_t = 50)]
        latency_ms: u64,
        /// Tokens of each answer.
        #[arg(long, default_value_t = 8)]
        tokens: usize,
        /// Between two tokens.
        #[arg(long, default_value_t = 5)]
        token_gap_ms: u64,
        /// Concurrent streams, one level each (1 is interleaved request by request).
        #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
        concurrency: Vec<usize>,
        /// Streams per side at concurrency 1.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Blocks per side at concurrency > 1 (alternating which side goes first),
        /// each of max(64, 8 x concurrency) streams.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Context build time for `Module.fun/arity` targets on an existing index.
    Context {
        /// An index (`index-bench index --data DIR`) or an `aiex up` data directory
        /// (its `server/index`).
        #[arg(long)]
        data: PathBuf,
        /// Builds the index from this corpus (2 threads) when `--data` holds none.
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Timed passes over every target; the first is reported apart.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Writes each target's rendered prompt to DIR/<target>.txt (to compare what two
        /// builds of Aiex put in the context).
        #[arg(long, value_name = "DIR")]
        dump: Option<PathBuf>,
    },
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    aiex_node::alloc::init();
    let args = Args::parse();
    let source = elixir_corpus_dir()?;
    let started = Instant::now();
    let targets = targets::pick(&source, args.targets)?;
    eprintln!(
        "{} targets from {} ({:.1} s), e.g. {}",
        targets.len(),
        source.display(),
        started.elapsed().as_secs_f64(),
        targets[..targets.len().min(5)].join(", ")
    );
    match args.step {
        Step::Ttft {
            aiex,
            corpus,
            data,
            latency_ms,
            tokens,
            token_gap_ms,
            concurrency,
            requests,
            rounds,
        } => ttft(&TtftSetup {
            aiex: aiex_binary(aiex)?,
            corpus,
            data,
            partitions: args.partitions,
            script: Script {
                first_token_after: Duration::from_millis(latency_ms),
                tokens,
                token_gap: Duration::from_millis(token_gap_ms),
            },
            concurrency,
            requests,
            rounds,
            targets,
        }),
        Step::Context {
            data,
            corpus,
            runs,
            dump,
        } => context(
            &data,
            corpus.as_deref(),
            args.partitions,
            runs,
            &targets,
            dump.as_deref(),
        ),
    }
}

// ---------------------------------------------------------------------------------------
// ttft

struct TtftSetup {
    aiex: PathBuf,
    corpus: PathBuf,
    data: Option<PathBuf>,
    partitions: u32,
    script: Script,
    concurrency: Vec<usize>,
    requests: usize,
    rounds: usize,
    targets: Vec<String>,
}

/// One stream, as its client saw it.
#[derive(Debug, Clone, Copy)]
struct Stream {
    /// Request sent to first token received.
    ttft: f64,
    /// Request sent to the end of the stream.
    total: f64,
}

/// The samples of one side at one concurrency level.
#[derive(Default)]
struct Side {
    streams: Vec<Stream>,
    /// Wall seconds of the blocks (concurrency > 1) or of the whole level.
    seconds: f64,
    /// CPU seconds the `aiex up` process used (Aiex side only).
    server_cpu: f64,
}

impl Side {
    fn ttft_sorted(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.streams.iter().map(|s| s.ttft).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    fn total_sorted(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.streams.iter().map(|s| s.total).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    fn streams_per_s(&self) -> f64 {
        self.streams.len() as f64 / self.seconds
    }
}

/// Who answers an explain request: Aiex over gRPC, or the provider direct.
#[derive(Clone)]
enum Caller {
    Aiex(pb::assist_client::AssistClient<Channel>),
    Direct {
        http: reqwest::Client,
        url: String,
        body: Bytes,
    },
}

impl Caller {
    /// One stream for `target`; checks the answer is the fake's, whole.
    async fn call(&mut self, target: &str, expect: &str) -> Result<Stream> {
        let started = Instant::now();
        let mut ttft = None;
        let mut text = String::new();
        let mut done = false;
        match self {
            Caller::Aiex(client) => {
                use pb::assist_event::Event;
                let mut stream = client
                    .explain(pb::ExplainRequest {
                        target: target.to_string(),
                        ..Default::default()
                    })
                    .await
                    .with_context(|| format!("Explain {target}"))?
                    .into_inner();
                while let Some(event) = stream.message().await? {
                    match event.event {
                        Some(Event::Token(t)) => {
                            ttft.get_or_insert_with(|| started.elapsed().as_secs_f64());
                            text.push_str(&t.text);
                        }
                        Some(Event::Done(_)) => done = true,
                        Some(Event::Error(e)) => bail!("Explain {target}: {}", e.message),
                        Some(Event::Usage(_)) | None => {}
                    }
                }
            }
            Caller::Direct { http, url, body } => {
                let mut response = http
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .header(BASELINE_HEADER, "1")
                    .body(body.clone())
                    .send()
                    .await?
                    .error_for_status()?;
                // Server-sent events, decoded as a client does: split on blank lines,
                // parse each `data:` JSON, take the delta's content.
                let mut pending = Vec::new();
                while let Some(piece) = response.chunk().await? {
                    pending.extend_from_slice(&piece);
                    while let Some(end) = pending.windows(2).position(|w| w == b"\n\n") {
                        let event: Vec<u8> = pending.drain(..end + 2).collect();
                        let Some(data) = event.strip_prefix(b"data: ") else {
                            continue;
                        };
                        let data = data.trim_ascii_end();
                        if data == b"[DONE]" {
                            done = true;
                            continue;
                        }
                        let chunk: Value = serde_json::from_slice(data)?;
                        if let Some(t) = chunk["choices"][0]["delta"]["content"].as_str()
                            && !t.is_empty()
                        {
                            ttft.get_or_insert_with(|| started.elapsed().as_secs_f64());
                            text.push_str(t);
                        }
                    }
                }
            }
        }
        if !done || text != expect {
            bail!("a stream for {target} ended early or wrong (done: {done}): {text:?}");
        }
        Ok(Stream {
            ttft: ttft.context("no token")?,
            total: started.elapsed().as_secs_f64(),
        })
    }
}

/// `streams` streams from `callers.len()` concurrent tasks (targets round-robin from
/// `first`); returns them and the wall seconds.
async fn block(
    callers: &[Caller],
    streams: usize,
    targets: &Arc<Vec<String>>,
    first: usize,
    expect: &Arc<String>,
) -> Result<(Vec<Stream>, f64)> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for caller in callers {
        let (mut caller, next, targets, expect) = (
            caller.clone(),
            next.clone(),
            targets.clone(),
            expect.clone(),
        );
        tasks.spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= streams {
                    return Ok::<_, anyhow::Error>(out);
                }
                let target = &targets[(first + i) % targets.len()];
                out.push(caller.call(target, &expect).await?);
            }
        });
    }
    let mut all = Vec::with_capacity(streams);
    while let Some(done) = tasks.join_next().await {
        all.extend(done??);
    }
    Ok((all, started.elapsed().as_secs_f64()))
}

async fn aiex_callers(url: &str, n: usize) -> Result<Vec<Caller>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        // Each client on its own channel (its own HTTP/2 connection).
        let channel = Channel::from_shared(url.to_string())?
            .connect()
            .await
            .with_context(|| format!("connecting to {url}"))?;
        out.push(Caller::Aiex(pb::assist_client::AssistClient::new(channel)));
    }
    Ok(out)
}

fn ttft(setup: &TtftSetup) -> Result<()> {
    // reqwest is built without a bundled crypto provider (as in the node).
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    // The fake on a runtime (and thread) of its own, so the load generator's tasks never
    // delay its timers behind them in one queue.
    let fake_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let fake = fake_rt.block_on(FakeLlm::start(setup.script.clone()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    let scratch;
    let data = match &setup.data {
        Some(d) => d.clone(),
        None => {
            scratch = tempfile::tempdir()?;
            scratch.path().to_path_buf()
        }
    };
    let repo = repo_name(&setup.corpus)?;
    let server = Server::start_with_env(
        &setup.aiex,
        &data,
        setup.partitions,
        &[
            ("OPENAI_BASE_URL", fake.base_url.as_str()),
            ("OPENAI_MODEL", "gpt-4o"),
        ],
    )?;
    let files = match rt.block_on(listed(&server.url, &repo))? {
        Some(s) if s.state() == pb::RepositoryState::Ready && s.files_indexed > 0 => {
            eprintln!(
                "reusing {}: `{repo}` is ready with {} files",
                data.display(),
                s.files_indexed
            );
            s.files_indexed
        }
        _ => {
            eprintln!(
                "indexing {} into {} through the gateway",
                setup.corpus.display(),
                data.display()
            );
            let (secs, summary, _) = repo_add(&setup.aiex, &server, &setup.corpus)?;
            eprintln!(
                "indexed {} files, {} bytes in {secs:.1} s",
                summary["files_indexed"], summary["bytes"]
            );
            summary["files_indexed"].as_u64().unwrap_or(0)
        }
    };

    let targets = Arc::new(setup.targets.clone());
    let expect = Arc::new(setup.script.answer());
    let ms = |s: f64| s * 1e3;

    // The first request builds the server's symbol graph (cached until the next commit).
    let mut one = rt.block_on(aiex_callers(&server.url, 1))?;
    let cold = rt.block_on(one[0].call(&targets[0], &expect))?;
    eprintln!(
        "first request (builds the symbol graph): TTFT {:.0} ms",
        ms(cold.ttft)
    );
    let body = Bytes::from(fake.last_body());
    let prompt_chars = serde_json::from_slice::<Value>(&body)?["messages"]
        .as_array()
        .map_or(0, |m| {
            m.iter()
                .map(|m| m["content"].as_str().map_or(0, str::len))
                .sum::<usize>()
        });
    let http = reqwest::Client::builder().build()?;
    let direct = Caller::Direct {
        http,
        url: format!("{}/chat/completions", fake.base_url),
        body: body.clone(),
    };
    // Warm both sides (connections, caches) on targets the timed runs use later.
    for i in 0..10 {
        rt.block_on(one[0].call(&targets[i % targets.len()], &expect))?;
        rt.block_on(direct.clone().call(&targets[0], &expect))?;
    }
    let from_request = fake.aiex_requests();

    let mut levels: Vec<(usize, Side, Side, Vec<f64>)> = Vec::new();
    for &c in &setup.concurrency {
        let c = c.max(1);
        let (mut aiex, mut raw) = (Side::default(), Side::default());
        // Aiex TTFT − direct TTFT of back-to-back pairs (concurrency 1).
        let mut pairs = Vec::new();
        if c == 1 {
            let mut d = direct.clone();
            for i in 0..setup.requests {
                let target = &targets[i % targets.len()];
                let cpu = cpu_seconds_of(server.pid());
                let mut pair = [0.0; 2];
                for side in [i % 2, (i + 1) % 2] {
                    let t = Instant::now();
                    let s = if side == 0 {
                        rt.block_on(one[0].call(target, &expect))?
                    } else {
                        rt.block_on(d.call(target, &expect))?
                    };
                    let secs = t.elapsed().as_secs_f64();
                    pair[side] = s.ttft;
                    if side == 0 {
                        aiex.streams.push(s);
                        aiex.seconds += secs;
                    } else {
                        raw.streams.push(s);
                        raw.seconds += secs;
                    }
                }
                aiex.server_cpu += cpu_seconds_of(server.pid()) - cpu;
                pairs.push(pair[0] - pair[1]);
            }
        } else {
            let callers = rt.block_on(aiex_callers(&server.url, c))?;
            let directs = vec![direct.clone(); c];
            let streams = (8 * c).max(64);
            for round in 0..setup.rounds.max(1) {
                for side in [round % 2, (round + 1) % 2] {
                    let first = round * streams;
                    if side == 0 {
                        let cpu = cpu_seconds_of(server.pid());
                        let (s, secs) =
                            rt.block_on(block(&callers, streams, &targets, first, &expect))?;
                        aiex.server_cpu += cpu_seconds_of(server.pid()) - cpu;
                        aiex.streams.extend(s);
                        aiex.seconds += secs;
                    } else {
                        let (s, secs) =
                            rt.block_on(block(&directs, streams, &targets, first, &expect))?;
                        raw.streams.extend(s);
                        raw.seconds += secs;
                    }
                }
            }
        }
        pairs.sort_by(f64::total_cmp);
        eprintln!(
            "concurrency {c}: {} + {} streams",
            aiex.streams.len(),
            raw.streams.len()
        );
        levels.push((c, aiex, raw, pairs));
    }
    let server_rss = server.peak_rss_bytes();
    let mut prompt_bytes = fake.body_bytes_since(from_request);
    prompt_bytes.sort_unstable();
    server.stop()?;

    println!(
        "`{repo}`: {files} files indexed; fake provider: first token after {} ms, {} tokens {} ms apart; {} targets round-robin",
        setup.script.first_token_after.as_millis(),
        setup.script.tokens,
        setup.script.token_gap.as_millis(),
        targets.len()
    );
    println!(
        "| concurrency | path | streams | streams/s | TTFT p50 ms | TTFT p99 ms | stream p50 ms | server CPU ms/stream |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for (c, aiex, raw, pairs) in &levels {
        let (a, r) = (aiex.ttft_sorted(), raw.ttft_sorted());
        let (at, rt_) = (aiex.total_sorted(), raw.total_sorted());
        let cpu_per = aiex.server_cpu / aiex.streams.len() as f64;
        println!(
            "| {c} | Aiex (`aiex up`, gRPC Explain) | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            a.len(),
            aiex.streams_per_s(),
            ms(percentile(&a, 0.5)),
            ms(percentile(&a, 0.99)),
            ms(percentile(&at, 0.5)),
            ms(cpu_per)
        );
        println!(
            "| {c} | direct (reqwest to the fake) | {} | {:.1} | {:.1} | {:.1} | {:.1} | |",
            r.len(),
            raw.streams_per_s(),
            ms(percentile(&r, 0.5)),
            ms(percentile(&r, 0.99)),
            ms(percentile(&rt_, 0.5)),
        );
        let o50 = percentile(&a, 0.5) - percentile(&r, 0.5);
        let o99 = percentile(&a, 0.99) - percentile(&r, 0.99);
        let paired = (!pairs.is_empty()).then(|| ms(percentile(pairs, 0.5)));
        println!(
            "| {c} | **overhead (Aiex − direct)** | | {:.2}x | **{:.1}** | **{:.1}** | {:.1} | |",
            aiex.streams_per_s() / raw.streams_per_s(),
            ms(o50),
            ms(o99),
            ms(percentile(&at, 0.5) - percentile(&rt_, 0.5)),
        );
        if let Some(p) = paired {
            println!(
                "concurrency {c}: median of the {} back-to-back pair differences {p:.1} ms",
                pairs.len()
            );
        }
        rows.push(json!({
            "concurrency": c,
            "aiex": {"streams": a.len(), "streams_s": aiex.streams_per_s(),
                     "ttft_p50_ms": ms(percentile(&a, 0.5)), "ttft_p99_ms": ms(percentile(&a, 0.99)),
                     "ttft_max_ms": ms(a[a.len() - 1]),
                     "stream_p50_ms": ms(percentile(&at, 0.5)), "stream_p99_ms": ms(percentile(&at, 0.99)),
                     "server_cpu_ms_per_stream": ms(cpu_per)},
            "direct": {"streams": r.len(), "streams_s": raw.streams_per_s(),
                       "ttft_p50_ms": ms(percentile(&r, 0.5)), "ttft_p99_ms": ms(percentile(&r, 0.99)),
                       "ttft_max_ms": ms(r[r.len() - 1]),
                       "stream_p50_ms": ms(percentile(&rt_, 0.5)), "stream_p99_ms": ms(percentile(&rt_, 0.99))},
            "overhead_p50_ms": ms(o50),
            "overhead_p99_ms": ms(o99),
            "paired_overhead_p50_ms": paired,
        }));
    }
    println!(
        "first request (builds the symbol graph): TTFT {:.0} ms; {} provider calls from Aiex for {} timed streams; prompts: {} chars of messages in the captured one, Aiex's request bodies p50 {} bytes (max {}); server peak RSS {:.0} MB",
        ms(cold.ttft),
        prompt_bytes.len(),
        levels.iter().map(|l| l.1.streams.len()).sum::<usize>(),
        prompt_chars,
        prompt_bytes
            .get(prompt_bytes.len() / 2)
            .copied()
            .unwrap_or(0),
        prompt_bytes.last().copied().unwrap_or(0),
        server_rss as f64 / 1e6
    );
    println!(
        "{}",
        json!({
            "step": "assist_ttft",
            "corpus": setup.corpus,
            "files": files,
            "latency_ms": setup.script.first_token_after.as_millis() as u64,
            "tokens": setup.script.tokens,
            "token_gap_ms": setup.script.token_gap.as_millis() as u64,
            "targets": targets.len(),
            "cold_first_ttft_ms": ms(cold.ttft),
            "aiex_provider_calls": prompt_bytes.len(),
            "aiex_body_bytes_p50": prompt_bytes.get(prompt_bytes.len() / 2),
            "levels": rows,
            "server_peak_rss_bytes": server_rss,
        })
    );
    drop(fake_rt);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// context

/// Reads one phase's seconds from a [`Build`].
type Phase = fn(&Build) -> f64;

/// One target's context build, by phase (seconds).
#[derive(Debug, Clone)]
struct Build {
    target: String,
    /// The search for the target (12 hits) and the hits' chunks looked up again.
    search: f64,
    hits: f64,
    /// `ContextBuilder::build` and `render`.
    build: f64,
    total: f64,
    definitions: usize,
    tokens: usize,
    sections: usize,
    truncated: bool,
}

/// What the worker does before calling the provider, for `target` (see
/// `node/src/assist/prompt.rs`: `token_context`).
fn build_one(set: &PartitionSet, target: &str, dump: Option<&Path>) -> Result<Build> {
    let started = Instant::now();
    // The worker's search: the target as the query, 12 hits, through the API types.
    let request = aiex_node::service::request_from_pb(pb::SearchRequest {
        query: target.to_string(),
        filters: Some(pb::SearchFilters::default()),
        limit: 12,
    })?;
    let hits: Vec<pb::SearchHit> = set
        .search(&request)?
        .into_iter()
        .map(aiex_node::service::hit_to_pb)
        .collect();
    let searched = Instant::now();
    let graph = set.graph()?;
    let hits = aiex_node::service::hits_from_pb(set, hits)?;
    let looked_up = Instant::now();
    let counter = TokenCounter::for_model(aiex_node::context::tokens::DEFAULT_MODEL);
    // What the worker asks for: `context_chars` (24,000) / 4 characters a token.
    let budget = aiex_node::assist::AssistOptions::default().context_chars / 4;
    let context = ContextBuilder::new(&graph, set, counter)
        .search_hits(hits)
        .build(&ContextRequest {
            question: target.to_string(),
            target: Some(target.to_string()),
            budget: Some(budget.max(aiex_node::context::MIN_BUDGET)),
            repositories: Vec::new(),
        })?;
    let prompt = std::hint::black_box(context.render());
    let done = Instant::now();
    if let Some(dir) = dump {
        let file = dir.join(format!("{}.txt", target.replace('/', "_")));
        std::fs::write(&file, &prompt).with_context(|| format!("writing {}", file.display()))?;
    }
    drop(prompt);
    Ok(Build {
        target: target.to_string(),
        search: (searched - started).as_secs_f64(),
        hits: (looked_up - searched).as_secs_f64(),
        build: (done - looked_up).as_secs_f64(),
        total: (done - started).as_secs_f64(),
        definitions: graph.definitions(target).len(),
        tokens: context.tokens,
        sections: context.sections.len(),
        truncated: context.truncated,
    })
}

fn context(
    data: &Path,
    corpus: Option<&Path>,
    partitions: u32,
    runs: usize,
    targets: &[String],
    dump: Option<&Path>,
) -> Result<()> {
    if let Some(dir) = dump {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let index_dir = if data.join("server/index").is_dir() {
        data.join("server/index")
    } else {
        data.to_path_buf()
    };
    let set = PartitionSet::open(&index_dir, partitions)?;
    if set.repos().is_empty() {
        let Some(corpus) = corpus else {
            bail!(
                "{} holds no index: build one with `index-bench index --corpus DIR --data {} --threads 2`, or pass --corpus DIR",
                index_dir.display(),
                data.display()
            );
        };
        let started = Instant::now();
        let options = IngestOptions {
            threads: 2,
            ..IngestOptions::default()
        };
        let stats = set.ingest_dir("bench", corpus, &options, None)?;
        eprintln!(
            "indexed {} files ({:.1} MB) in {:.1} s",
            stats.files_indexed,
            stats.bytes as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
    }
    let summary = set.repos();
    let bytes: u64 = summary.iter().map(|r| r.bytes).sum();
    let chunks: u64 = summary.iter().map(|r| r.chunks).sum();
    let files: u64 = summary.iter().map(|r| r.files).sum();
    let started = Instant::now();
    let graph = set.graph()?;
    let graph_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "index: {files} files, {:.1} MB, {chunks} chunks; symbol graph of {} symbols built in {graph_secs:.2} s",
        bytes as f64 / 1e6,
        graph.len()
    );
    drop(graph);
    // The first build in a process also loads the tokenizer's vocabulary (once per
    // process, as in a server's first request): timed apart.
    let started = Instant::now();
    build_one(&set, &targets[0], None)?;
    let first_build_secs = started.elapsed().as_secs_f64();

    let mut passes: Vec<Vec<Build>> = Vec::new();
    let mut failed: Vec<(String, String)> = Vec::new();
    for run in 0..runs.max(1) {
        let mut pass = Vec::with_capacity(targets.len());
        for target in targets {
            match build_one(&set, target, dump.filter(|_| run == 0)) {
                Ok(b) => pass.push(b),
                Err(e) if run == 0 => failed.push((target.clone(), e.to_string())),
                Err(_) => {}
            }
        }
        eprintln!("pass {}: {} contexts", run + 1, pass.len());
        passes.push(pass);
    }
    let ms = |s: f64| s * 1e3;
    let stats = |builds: &[&Build], f: Phase| {
        let mut v: Vec<f64> = builds.iter().map(|b| f(b)).collect();
        v.sort_by(f64::total_cmp);
        (
            ms(percentile(&v, 0.5)),
            ms(percentile(&v, 0.99)),
            ms(v[v.len() - 1]),
        )
    };
    let first: Vec<&Build> = passes[0].iter().collect();
    let later: Vec<&Build> = passes[1..].iter().flatten().collect();
    if first.is_empty() {
        bail!("no context could be built: {failed:?}");
    }
    println!(
        "index {}: {files} files, {:.1} MB, {chunks} chunks; {} targets, {} passes; symbol graph built once in {:.2} s (cached afterwards); the process's first context (loads the tokenizer) {:.0} ms",
        index_dir.display(),
        bytes as f64 / 1e6,
        targets.len(),
        passes.len(),
        graph_secs,
        ms(first_build_secs)
    );
    println!("| pass | phase | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|");
    let phases: [(&str, Phase); 4] = [
        ("search (12 hits)", |b| b.search),
        ("hits' chunks", |b| b.hits),
        ("ContextBuilder::build + render", |b| b.build),
        ("**total**", |b| b.total),
    ];
    let mut rows = Vec::new();
    for (label, builds) in [("first", &first), ("repeated", &later)] {
        if builds.is_empty() {
            continue;
        }
        for (phase, f) in phases {
            let (p50, p99, max) = stats(builds, f);
            println!("| {label} | {phase} | {p50:.1} | {p99:.1} | {max:.1} |");
            rows.push(
                json!({"pass": label, "phase": phase, "p50_ms": p50, "p99_ms": p99, "max_ms": max}),
            );
        }
    }
    let mut slowest: Vec<&Build> = later.iter().chain(first.iter()).copied().collect();
    slowest.sort_by(|a, b| b.total.total_cmp(&a.total));
    slowest.dedup_by(|a, b| a.target == b.target);
    println!(
        "slowest targets (total ms: search + hits + build; definitions; prompt tokens; sections):"
    );
    for b in slowest.iter().take(8) {
        println!(
            "  {} {:.1} ms ({:.1} + {:.1} + {:.1}), {} definitions, {} tokens, {} sections{}",
            b.target,
            ms(b.total),
            ms(b.search),
            ms(b.hits),
            ms(b.build),
            b.definitions,
            b.tokens,
            b.sections,
            if b.truncated { ", target cut" } else { "" }
        );
    }
    let mut tokens: Vec<f64> = first.iter().map(|b| b.tokens as f64).collect();
    tokens.sort_by(f64::total_cmp);
    let truncated = first.iter().filter(|b| b.truncated).count();
    println!(
        "prompt tokens p50 {:.0}, max {:.0}; {truncated} of {} targets cut to the budget; {} targets not found",
        percentile(&tokens, 0.5),
        tokens[tokens.len() - 1],
        first.len(),
        failed.len()
    );
    for (t, e) in failed.iter().take(5) {
        println!("  not built: {t}: {e}");
    }
    println!(
        "{}",
        json!({
            "step": "assist_context",
            "index": index_dir,
            "files": files, "bytes": bytes, "chunks": chunks,
            "graph_build_seconds": graph_secs,
            "first_build_ms": ms(first_build_secs),
            "targets": targets.len(),
            "passes": passes.len(),
            "failed": failed.len(),
            "rows": rows,
            "tokens_p50": percentile(&tokens, 0.5),
            "truncated": truncated,
        })
    );
    Ok(())
}
