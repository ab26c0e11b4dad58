//! Configuration: flags win over environment variables, which win over the config file
//! (`--config`, `AIEX_CONFIG`, or `$XDG_CONFIG_HOME/aiex/config.toml`), which wins over
//! the defaults.
//!
//! ```toml
//! addr = "http://127.0.0.1:7787"      # where client commands find the gateway
//! data_dir = "/home/me/.local/share/aiex"
//! partitions = 4                      # of a new data directory
//! embed_model = "/var/tmp/aiex-tools/all-minilm-l6-v2"  # natural-language search (optional)
//!
//! [up]
//! listen = "127.0.0.1:7787"
//! allow_roots = ["/home/me/src"]      # directories AddPath may index
//! index_threads = 2
//!
//! [limits]
//! max_file_bytes = 4194304
//! max_upload_bytes = 8589934592
//! max_upload_files = 2000000
//! max_request_bytes = 16777216
//! max_concurrent_requests = 512
//! ```

use std::path::{Path, PathBuf};

use aiex_gateway::Limits;
use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub addr: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub partitions: Option<u32>,
    /// Sentence-embedding model directory (`AIEX_EMBED_MODEL`); off when absent.
    pub embed_model: Option<PathBuf>,
    #[serde(default)]
    pub up: UpConfig,
    #[serde(default)]
    pub limits: Limits,
    /// LLM providers and the chain of each assist task (`[[llm.providers]]`,
    /// `[llm.chains]`); without it, providers come from the environment.
    #[serde(default)]
    pub llm: Option<aiex_node::llm::LlmConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpConfig {
    pub listen: Option<String>,
    #[serde(default)]
    pub allow_roots: Vec<PathBuf>,
    pub index_threads: Option<usize>,
}

pub fn default_config_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("aiex/config.toml"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/aiex/config.toml"))
}

/// Loads the config file: an explicitly named file must exist; the default one may not.
pub fn load(explicit: Option<&Path>) -> Result<FileConfig> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => match default_config_path() {
            Some(p) => (p, false),
            None => return Ok(FileConfig::default()),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(FileConfig::default());
        }
        // The default file's directory cannot even be looked in (`HOME` of another user):
        // there may be no file at all, so go on without one, and say so. A file that is
        // there but cannot be read is an error, as a named one is.
        Err(e)
            if e.kind() == std::io::ErrorKind::PermissionDenied
                && !required
                && std::fs::symlink_metadata(&path).is_err() =>
        {
            eprintln!(
                "warning: cannot look for the config {} ({e}); going on without it \
                 (--config names another)",
                path.display()
            );
            return Ok(FileConfig::default());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read config {}", path.display())),
    };
    toml::from_str(&text).with_context(|| format!("invalid config {}", path.display()))
}

pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("aiex");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/aiex"),
        None => PathBuf::from(".aiex"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses_and_unknown_keys_are_refused() {
        let doc = include_str!("config.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").trim_start().to_string() + "\n")
            .collect();
        let c: FileConfig = toml::from_str(&example).unwrap();
        assert_eq!(c.partitions, Some(4));
        assert_eq!(c.up.allow_roots.len(), 1);
        assert_eq!(c.limits.max_concurrent_requests, 512);
        let err = toml::from_str::<FileConfig>("adr = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("adr"), "{err}");
    }
}
