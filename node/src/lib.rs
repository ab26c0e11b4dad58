//! aiex-node: what every Aiex mesh member is and does.
//!
//! - [`chunk`]: the Elixir semantic chunker (tree-sitter-elixir);
//! - [`index`]: one on-disk tantivy index per partition, incremental by content hash;
//! - [`search`]: ranked search across the partitions of one node;
//! - [`graph`]: the symbol graph (definitions, callers, callees, ranked repository map);
//! - [`context`]: token-aware context for prompts (counting per model, fitting, history);
//! - [`ingest`]: the partitions a node holds, fed from a directory in parallel;
//! - [`bus`]: the bus trait (durable partitioned log, work queue, request/reply) and its
//!   in-process implementation;
//! - [`indexer`]: follows the file log into the partitions;
//! - [`cluster`]: membership by chitchat gossip (live members, roles, readiness, changes);
//! - [`ring`]: partition placement (owner and replicas per partition, bounded loads);
//! - [`llm`]: LLM providers (OpenAI, Anthropic, Gemini, Ollama) behind rate limits,
//!   retries, circuit breakers and per-task failover chains;
//! - [`service`]: the node's gRPC service inside the mesh (`aiex.mesh.v1.Node`);
//! - [`role`]: the `aiex node` role: NATS, gossip, placement, indexer and service wired;
//! - [`metrics`]: every series the node records, described in one table;
//! - [`readiness`]: the one readiness bit shown in gossip, `/health/readyz` and gRPC health;
//! - [`telemetry`]: logs, OTLP trace export and W3C trace context across gRPC and the bus;
//! - [`alloc`]: mimalloc for tree-sitter's many small allocations.

pub mod alloc;
pub mod assist;
pub mod bus;
pub mod chunk;
pub mod cluster;
pub mod context;
pub mod embed;
pub mod error;
pub mod graph;
pub mod index;
pub mod indexer;
pub mod ingest;
pub mod llm;
pub mod metrics;
pub mod readiness;
pub mod ring;
pub mod role;
pub mod search;
pub mod service;
pub mod telemetry;

pub use error::{ErrorCode, NodeError};
