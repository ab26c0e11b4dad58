//! The embedded mode: gateway and node in one process over the in-process bus, all data
//! under one directory (`bus.redb` for the log and queues, `index/` for the partitions).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use aiex_node::assist::{AssistOptions, AssistWorker, Llm};
use aiex_node::bus::local::LocalBus;
use aiex_node::bus::metered::Metered;
use aiex_node::chunk::ChunkerConfig;
use aiex_node::embed::Encoder;
use aiex_node::indexer::Indexer;
use aiex_node::ingest::PartitionSet;
use aiex_node::readiness::Readiness;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::assist::BackendRetriever;
use crate::backend::{Backend, Embedded};
use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::registry::Registry;
use crate::service::GatewayState;

#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    pub data_dir: PathBuf,
    pub partitions: u32,
    pub index_threads: usize,
    pub chunker: ChunkerConfig,
    pub gateway: GatewayConfig,
    /// LLM providers and chains; `None` (or no providers) reads the environment
    /// (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `GEMINI_API_KEY`, `OLLAMA_HOST`).
    pub llm: Option<aiex_node::llm::LlmConfig>,
    pub assist: AssistOptions,
    /// Sentence-embedding model directory: natural-language searches are fused with
    /// embedding similarity, and a background thread embeds what is indexed. Off when `None`.
    pub embed_model: Option<PathBuf>,
}

/// A started embedded server (listening, indexer following).
pub struct EmbeddedServer {
    pub state: Arc<GatewayState>,
    pub indexer: Arc<Indexer>,
    pub listener: TcpListener,
    /// The in-process assist worker.
    pub assist: Arc<AssistWorker>,
}

impl EmbeddedServer {
    /// Opens the data directory and binds the listener.
    pub async fn start(config: EmbeddedConfig) -> Result<EmbeddedServer, GatewayError> {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir).map_err(|e| {
            GatewayError::FailedPrecondition(format!(
                "cannot create the data directory {}: {e}",
                dir.display()
            ))
        })?;
        let bus = Metered::wrap(Arc::new(LocalBus::open(&dir.join("bus.redb"))?));
        let set = {
            let dir = dir.join("index");
            let partitions = config.partitions;
            tokio::task::spawn_blocking(move || PartitionSet::open(&dir, partitions))
                .await
                .map_err(|e| GatewayError::Internal(e.to_string()))??
        };
        let set = Arc::new(set);
        if let Some(model) = &config.embed_model {
            let model = model.clone();
            let encoder = tokio::task::spawn_blocking(move || Encoder::load(&model))
                .await
                .map_err(|e| GatewayError::Internal(e.to_string()))?
                .map_err(|e| GatewayError::FailedPrecondition(e.to_string()))?;
            tracing::info!(model = %encoder.dir().display(), dim = encoder.dim(), "embeddings on");
            set.set_encoder(Arc::new(encoder))?;
            set.spawn_embedder()?;
        }
        // Embedded, this process owns every partition.
        aiex_node::metrics::placement_applied(set.partition_count() as usize, 0);
        let registry = Arc::new(Registry::load(bus.clone(), set.partition_count()).await?);
        let indexer = Indexer::start(
            set,
            bus.clone(),
            config.chunker.clone(),
            config.index_threads,
        )?;
        let listener = TcpListener::bind(config.gateway.listen).await.map_err(|e| {
            GatewayError::Unavailable(format!(
                "cannot listen on {}: {e} (is another `aiex up` running? choose another port with --listen)",
                config.gateway.listen
            ))
        })?;
        let mut gateway = config.gateway.clone();
        gateway.listen = listener
            .local_addr()
            .map_err(|e| GatewayError::Internal(e.to_string()))?;
        let backend: Arc<dyn Backend> = Arc::new(Embedded {
            indexer: indexer.clone(),
        });
        let llm = Arc::new(Llm::load(config.llm.as_ref()));
        let assist = AssistWorker::new(
            bus.clone(),
            llm.clone(),
            Arc::new(BackendRetriever(backend.clone())),
            config.assist.clone(),
        );
        let state = Arc::new(GatewayState {
            config: gateway,
            registry,
            backend,
            bus,
            started: Instant::now(),
            readiness: Readiness::new(),
            llm,
        });
        Ok(EmbeddedServer {
            state,
            indexer,
            listener,
            assist,
        })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.state.config.listen
    }

    /// The readiness bit: set once serving (the listener is bound and the indexer
    /// follows the log), cleared when shutting down.
    pub fn readiness(&self) -> Readiness {
        self.state.readiness.clone()
    }

    /// Serves until `shutdown`, then stops the indexer (which commits what it applied).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), GatewayError> {
        let readiness = self.readiness();
        readiness.set(true);
        let shutdown = async move {
            shutdown.await;
            readiness.set(false);
        };
        let stop_assist = CancellationToken::new();
        let assist = self.assist.start(stop_assist.clone());
        let served = crate::server::serve(self.state.clone(), self.listener, shutdown).await;
        stop_assist.cancel();
        let _ = assist.await;
        self.indexer.shutdown().await;
        served
    }
}
