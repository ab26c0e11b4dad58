//! LLM configuration: which providers exist, how each is reached and limited, and which
//! chain of providers each task uses. TOML-friendly:
//!
//! ```toml
//! [[llm.providers]]
//! name = "anthropic"
//! kind = "anthropic"
//! model = "claude-sonnet-4-5"
//! rpm = 50
//! tpm = 40000
//!
//! [[llm.providers]]
//! name = "local"
//! kind = "ollama"
//! base_url = "http://127.0.0.1:11434"
//! model = "llama3.2"
//!
//! [llm.chains]
//! explain = ["anthropic", "local"]
//! default = ["anthropic", "local"]
//! ```
//!
//! Keys are never in the config: a provider names the environment variable that holds
//! its key (`key_env`, by default the kind's usual one, e.g. `ANTHROPIC_API_KEY`), and
//! `<VAR>_FILE` or `key_file` name a file holding it (a mounted Kubernetes secret).
//! [`LlmConfig::from_env`] builds a whole config from those variables alone.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::breaker::CircuitBreaker;
use super::chain::ProviderChain;
use super::guard::{GuardedProvider, RetryPolicy};
use super::http::{Endpoint, HttpProvider};
use super::limit::{Limits, RateLimiter};
use super::{LlmError, Provider, Secret};

/// The chain used by tasks that have none of their own.
pub const DEFAULT_CHAIN: &str = "default";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI Chat Completions, or any OpenAI-compatible server (set `base_url`).
    Openai,
    Anthropic,
    Gemini,
    Ollama,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::Anthropic,
        ProviderKind::Openai,
        ProviderKind::Gemini,
        ProviderKind::Ollama,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Ollama => "ollama",
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::Openai => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com",
            ProviderKind::Gemini => "https://generativelanguage.googleapis.com/v1beta",
            ProviderKind::Ollama => "http://127.0.0.1:11434",
        }
    }

    /// The environment variable that usually holds this kind's key.
    pub fn key_env(self) -> Option<&'static str> {
        match self {
            ProviderKind::Openai => Some("OPENAI_API_KEY"),
            ProviderKind::Anthropic => Some("ANTHROPIC_API_KEY"),
            ProviderKind::Gemini => Some("GEMINI_API_KEY"),
            ProviderKind::Ollama => None,
        }
    }

    /// The variable that overrides the default model in [`LlmConfig::from_env`].
    pub fn model_env(self) -> &'static str {
        match self {
            ProviderKind::Openai => "OPENAI_MODEL",
            ProviderKind::Anthropic => "ANTHROPIC_MODEL",
            ProviderKind::Gemini => "GEMINI_MODEL",
            ProviderKind::Ollama => "OLLAMA_MODEL",
        }
    }

    pub fn default_model(self) -> &'static str {
        match self {
            ProviderKind::Openai => "gpt-4o-mini",
            ProviderKind::Anthropic => "claude-sonnet-4-5",
            ProviderKind::Gemini => "gemini-2.5-flash",
            ProviderKind::Ollama => "llama3.2",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
    /// Task name (`explain`, `complete`, `generate_module`, `generate_tests`, `chat`, or
    /// `default`) to the providers it tries, in order.
    #[serde(default)]
    pub chains: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub name: String,
    pub kind: ProviderKind,
    /// The API root; the kind's public endpoint when unset. For OpenAI-compatible servers,
    /// the URL that `/chat/completions` is appended to (e.g. `http://host:8000/v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    pub model: String,
    /// The environment variable holding the key (and `<VAR>_FILE`, a file holding it);
    /// the kind's usual variable when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    /// A file holding the key; wins over `key_env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Cluster-wide requests per minute (each live node takes its share); unlimited if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u32>,
    /// Cluster-wide tokens per minute (prompt estimate plus max_tokens per request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u32>,
    /// The longest wait for response headers, for each piece of a stream, or for a whole
    /// non-streamed body.
    #[serde(default = "defaults::timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default = "defaults::max_tokens")]
    pub max_tokens: u32,
    #[serde(default = "defaults::max_retries")]
    pub max_retries: u32,
    #[serde(default = "defaults::backoff_ms")]
    pub backoff_ms: u64,
    #[serde(default = "defaults::max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// A 429 asking to wait longer than this fails at once (so a chain fails over).
    #[serde(default = "defaults::max_retry_after_ms")]
    pub max_retry_after_ms: u64,
    /// Consecutive failures that open the circuit breaker.
    #[serde(default = "defaults::breaker_failures")]
    pub breaker_failures: u32,
    #[serde(default = "defaults::breaker_cool_down_ms")]
    pub breaker_cool_down_ms: u64,
}

mod defaults {
    pub fn timeout_ms() -> u64 {
        60_000
    }
    pub fn max_tokens() -> u32 {
        1024
    }
    pub fn max_retries() -> u32 {
        2
    }
    pub fn backoff_ms() -> u64 {
        250
    }
    pub fn max_backoff_ms() -> u64 {
        8_000
    }
    pub fn max_retry_after_ms() -> u64 {
        60_000
    }
    pub fn breaker_failures() -> u32 {
        5
    }
    pub fn breaker_cool_down_ms() -> u64 {
        30_000
    }
}

/// Reads an environment variable (so tests need not touch the process environment).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn process_env(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

fn non_empty(env: EnvLookup<'_>, var: &str) -> Option<String> {
    env(var).filter(|v| !v.trim().is_empty())
}

impl ProviderConfig {
    /// A provider with every setting at its default.
    pub fn new(
        name: impl Into<String>,
        kind: ProviderKind,
        model: impl Into<String>,
    ) -> ProviderConfig {
        ProviderConfig {
            name: name.into(),
            kind,
            base_url: None,
            model: model.into(),
            key_env: None,
            key_file: None,
            rpm: None,
            tpm: None,
            timeout_ms: defaults::timeout_ms(),
            max_tokens: defaults::max_tokens(),
            max_retries: defaults::max_retries(),
            backoff_ms: defaults::backoff_ms(),
            max_backoff_ms: defaults::max_backoff_ms(),
            max_retry_after_ms: defaults::max_retry_after_ms(),
            breaker_failures: defaults::breaker_failures(),
            breaker_cool_down_ms: defaults::breaker_cool_down_ms(),
        }
    }

    fn key_var(&self) -> Option<&str> {
        self.key_env.as_deref().or(self.kind.key_env())
    }

    /// The key, from `key_file`, `$key_env`, or the file `$key_env_FILE` names. Required
    /// for Anthropic, Gemini and OpenAI's own API; optional for OpenAI-compatible servers
    /// and Ollama.
    pub fn resolve_key(&self, env: EnvLookup<'_>) -> Result<Option<Secret>, LlmError> {
        if let Some(path) = &self.key_file {
            return self.read_key(path).map(Some);
        }
        if let Some(var) = self.key_var() {
            if let Some(key) = non_empty(env, var) {
                return Ok(Some(Secret::new(key)));
            }
            if let Some(path) = non_empty(env, &format!("{var}_FILE")) {
                return self.read_key(Path::new(&path)).map(Some);
            }
        }
        let required = match self.kind {
            ProviderKind::Anthropic | ProviderKind::Gemini => true,
            ProviderKind::Openai => self.base_url.is_none(),
            ProviderKind::Ollama => false,
        };
        if required {
            let var = self.key_var().unwrap_or("the key_env variable");
            return Err(LlmError::Config(format!(
                "provider {}: no API key; set {var} (or {var}_FILE to a file holding it), \
                 or key_file in its config",
                self.name
            )));
        }
        Ok(None)
    }

    fn read_key(&self, path: &Path) -> Result<Secret, LlmError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            LlmError::Config(format!(
                "provider {}: cannot read key file {}: {e}",
                self.name,
                path.display()
            ))
        })?;
        let key = Secret::new(text);
        if key.is_empty() {
            return Err(LlmError::Config(format!(
                "provider {}: key file {} is empty",
                self.name,
                path.display()
            )));
        }
        Ok(key)
    }

    pub fn limits(&self) -> Limits {
        Limits::per_minute(self.rpm, self.tpm)
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.max_retries,
            base_delay: Duration::from_millis(self.backoff_ms),
            max_delay: Duration::from_millis(self.max_backoff_ms.max(self.backoff_ms)),
            max_retry_after: Duration::from_millis(self.max_retry_after_ms),
        }
    }

    /// The HTTP client for this provider, without limits, retries or breaker.
    pub fn http_provider(&self, env: EnvLookup<'_>) -> Result<HttpProvider, LlmError> {
        if self.name.trim().is_empty() {
            return Err(LlmError::Config("a provider has an empty name".to_owned()));
        }
        if self.model.trim().is_empty() {
            return Err(LlmError::Config(format!(
                "provider {}: model is empty",
                self.name
            )));
        }
        if self.timeout_ms == 0 {
            return Err(LlmError::Config(format!(
                "provider {}: timeout_ms must be more than 0",
                self.name
            )));
        }
        let base_url = self
            .base_url
            .clone()
            .unwrap_or_else(|| self.kind.default_base_url().to_owned());
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(LlmError::Config(format!(
                "provider {}: base_url {base_url} must start with http:// or https://",
                self.name
            )));
        }
        let endpoint = Endpoint {
            kind: self.kind,
            base_url,
            model: self.model.clone(),
            key: self.resolve_key(env)?,
            max_tokens: self.max_tokens,
            timeout: Duration::from_millis(self.timeout_ms),
        };
        HttpProvider::new(self.name.clone(), endpoint)
    }

    /// The provider with its limits, retries and circuit breaker.
    pub fn build(&self, env: EnvLookup<'_>) -> Result<GuardedProvider, LlmError> {
        let http = self.http_provider(env)?;
        Ok(GuardedProvider::new(
            Arc::new(http),
            RateLimiter::new(self.name.clone(), self.limits()),
            CircuitBreaker::new(
                self.breaker_failures,
                Duration::from_millis(self.breaker_cool_down_ms),
            ),
            self.retry_policy(),
            self.max_tokens,
        ))
    }
}

impl LlmConfig {
    /// Providers from the process environment; see [`LlmConfig::from_vars`].
    pub fn from_env() -> Result<LlmConfig, LlmError> {
        LlmConfig::from_vars(&process_env)
    }

    /// One provider per kind whose variables are set (`ANTHROPIC_API_KEY`,
    /// `OPENAI_API_KEY` or `OPENAI_BASE_URL`, `GEMINI_API_KEY`, each or its `_FILE`
    /// variant; `OLLAMA_HOST`), models from `*_MODEL` or a default, and one default chain
    /// trying them in that order. [`LlmError::NotConfigured`] if none is set.
    pub fn from_vars(env: EnvLookup<'_>) -> Result<LlmConfig, LlmError> {
        let mut providers = Vec::new();
        for kind in ProviderKind::ALL {
            let has_key = kind.key_env().is_some_and(|var| {
                non_empty(env, var).is_some() || non_empty(env, &format!("{var}_FILE")).is_some()
            });
            let base_url = match kind {
                ProviderKind::Openai => non_empty(env, "OPENAI_BASE_URL"),
                ProviderKind::Anthropic => non_empty(env, "ANTHROPIC_BASE_URL"),
                ProviderKind::Gemini => non_empty(env, "GEMINI_BASE_URL"),
                ProviderKind::Ollama => non_empty(env, "OLLAMA_HOST").map(|h| ollama_url(&h)),
            };
            let configured = match kind {
                ProviderKind::Ollama => base_url.is_some(),
                ProviderKind::Openai => has_key || base_url.is_some(),
                _ => has_key,
            };
            if !configured {
                continue;
            }
            let model =
                non_empty(env, kind.model_env()).unwrap_or_else(|| kind.default_model().to_owned());
            let mut provider = ProviderConfig::new(kind.as_str(), kind, model);
            provider.base_url = base_url;
            providers.push(provider);
        }
        if providers.is_empty() {
            return Err(LlmError::NotConfigured);
        }
        let chain = providers.iter().map(|p| p.name.clone()).collect();
        Ok(LlmConfig {
            providers,
            chains: BTreeMap::from([(DEFAULT_CHAIN.to_owned(), chain)]),
        })
    }
}

/// `OLLAMA_HOST` as Ollama itself reads it: `host`, `host:port` or a URL.
fn ollama_url(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    let url = if host.contains("://") {
        host.to_owned()
    } else {
        format!("http://{host}")
    };
    let authority = url.split_once("://").map_or("", |(_, rest)| rest);
    if authority.contains(':') {
        url
    } else {
        format!("{url}:11434")
    }
}

/// Every configured provider, guarded, and the chain of each task.
#[derive(Debug)]
pub struct Providers {
    providers: BTreeMap<String, Arc<GuardedProvider>>,
    chains: HashMap<String, Arc<ProviderChain>>,
}

impl Providers {
    /// Providers and chains from the process environment alone.
    pub fn from_env() -> Result<Providers, LlmError> {
        Providers::build(&LlmConfig::from_env()?, &process_env)
    }

    /// Builds every provider of `config` (keys looked up through `env`) and its chains. A
    /// `default` chain of all providers, in config order, is added if the config has none.
    pub fn build(config: &LlmConfig, env: EnvLookup<'_>) -> Result<Providers, LlmError> {
        if config.providers.is_empty() {
            return Err(LlmError::NotConfigured);
        }
        let mut providers = BTreeMap::new();
        for p in &config.providers {
            if providers.contains_key(&p.name) {
                return Err(LlmError::Config(format!(
                    "two providers are named {}; give each its own name",
                    p.name
                )));
            }
            providers.insert(p.name.clone(), Arc::new(p.build(env)?));
        }
        let mut chains = config.chains.clone();
        chains
            .entry(DEFAULT_CHAIN.to_owned())
            .or_insert_with(|| config.providers.iter().map(|p| p.name.clone()).collect());
        let mut built = HashMap::new();
        for (task, names) in chains {
            if names.is_empty() {
                return Err(LlmError::Config(format!("chain {task} lists no provider")));
            }
            let mut members: Vec<Arc<dyn Provider>> = Vec::new();
            for name in &names {
                let provider = providers.get(name).ok_or_else(|| {
                    LlmError::Config(format!(
                        "chain {task} names provider {name}, which is not configured; \
                         configured: {}",
                        providers.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                })?;
                members.push(provider.clone());
            }
            built.insert(task.clone(), Arc::new(ProviderChain::new(task, members)));
        }
        Ok(Providers {
            providers,
            chains: built,
        })
    }

    /// The chain for `task`, or the default chain.
    pub fn chain(&self, task: &str) -> Arc<ProviderChain> {
        self.chains
            .get(task)
            .or_else(|| self.chains.get(DEFAULT_CHAIN))
            .cloned()
            .expect("build always adds the default chain")
    }

    pub fn provider(&self, name: &str) -> Option<&Arc<GuardedProvider>> {
        self.providers.get(name)
    }

    /// Membership changed: every provider's limits are re-divided among `live_nodes`.
    pub fn set_live_nodes(&self, live_nodes: usize) {
        for provider in self.providers.values() {
            provider.limiter().set_live_nodes(live_nodes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_host_forms() {
        assert_eq!(ollama_url("0.0.0.0:11434"), "http://0.0.0.0:11434");
        assert_eq!(ollama_url("ollama"), "http://ollama:11434");
        assert_eq!(
            ollama_url("https://o.example:443/"),
            "https://o.example:443"
        );
    }
}
