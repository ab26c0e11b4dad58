//! MPNet (`model_type: "mpnet"`, as in all-mpnet-base-v2), on candle.
//!
//! A BERT-shaped encoder with two differences that matter here: no token types, and a
//! relative position bias (T5-style buckets, one table shared by every layer) added to
//! every attention score. Positions start after the padding id, as in RoBERTa. Follows
//! `transformers`' `modeling_mpnet.py`; the weight names are that file's.

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder, embedding, layer_norm, linear};
use serde::Deserialize;

/// The fields of an MPNet `config.json` the encoder needs.
#[derive(Debug, Clone, Deserialize)]
pub struct MpNetConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub layer_norm_eps: f64,
    pub pad_token_id: u32,
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

fn default_buckets() -> usize {
    BUCKETS
}

fn default_act() -> String {
    "gelu".into()
}

/// Farthest relative distance with its own bucket range, as `modeling_mpnet.py` fixes it.
const MAX_DISTANCE: i64 = 128;

/// Relative position buckets, as `modeling_mpnet.py` computes them.
const BUCKETS: usize = 32;

/// The padding id `modeling_mpnet.py` counts positions from: padding sits at position 1,
/// real tokens at 2, 3, ...
const PAD: u32 = 1;

/// The bucket of a relative position (`key - query`): half the buckets for each
/// direction, exact up to a quarter of them, logarithmic beyond, capped at
/// [`MAX_DISTANCE`].
pub fn relative_position_bucket(relative: i64) -> usize {
    let half = (BUCKETS / 2) as i64;
    let n = -relative;
    let mut bucket = if n < 0 { half } else { 0 };
    let n = n.abs();
    let max_exact = half / 2;
    bucket += if n < max_exact {
        n
    } else {
        let scaled = ((n as f64 / max_exact as f64).ln()
            / (MAX_DISTANCE as f64 / max_exact as f64).ln()
            * (half - max_exact) as f64) as i64;
        (max_exact + scaled).min(half - 1)
    };
    bucket as usize
}

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
    heads: usize,
    head_size: usize,
}

impl Layer {
    fn load(vb: VarBuilder, c: &MpNetConfig) -> Result<Layer> {
        let h = c.hidden_size;
        let attn = vb.pp("attention");
        Ok(Layer {
            q: linear(h, h, attn.pp("attn").pp("q"))?,
            k: linear(h, h, attn.pp("attn").pp("k"))?,
            v: linear(h, h, attn.pp("attn").pp("v"))?,
            o: linear(h, h, attn.pp("attn").pp("o"))?,
            attention_norm: layer_norm(h, c.layer_norm_eps, attn.pp("LayerNorm"))?,
            intermediate: linear(h, c.intermediate_size, vb.pp("intermediate").pp("dense"))?,
            output: linear(c.intermediate_size, h, vb.pp("output").pp("dense"))?,
            output_norm: layer_norm(h, c.layer_norm_eps, vb.pp("output").pp("LayerNorm"))?,
            heads: c.num_attention_heads,
            head_size: h / c.num_attention_heads,
        })
    }

    /// `bias` is the position bias plus the padding mask, `(batch, heads, len, len)`.
    fn forward(&self, xs: &Tensor, bias: &Tensor) -> Result<Tensor> {
        let (b, len, _) = xs.dims3()?;
        let split = |t: Tensor| -> Result<Tensor> {
            t.reshape((b, len, self.heads, self.head_size))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.q.forward(xs)?)?;
        let k = split(self.k.forward(xs)?)?;
        let v = split(self.v.forward(xs)?)?;
        let scores = (q.matmul(&k.t()?)? / (self.head_size as f64).sqrt())?;
        let probs = candle_nn::ops::softmax_last_dim(&scores.broadcast_add(bias)?)?;
        let context = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .flatten_from(2)?;
        let attended = self
            .attention_norm
            .forward(&(self.o.forward(&context)? + xs)?)?;
        let inner = self.intermediate.forward(&attended)?.gelu_erf()?;
        self.output_norm
            .forward(&(self.output.forward(&inner)? + attended)?)
    }
}

/// The MPNet encoder: token ids and attention mask in, one vector per token out.
pub struct MpNet {
    words: Embedding,
    positions: Embedding,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    relative_bias: Embedding,
    heads: usize,
    max_positions: usize,
}

impl MpNetConfig {
    /// What this implementation cannot run, named.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.hidden_act != "gelu" {
            return Err(format!(
                "hidden_act {:?} is not supported (only gelu)",
                self.hidden_act
            ));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        // `modeling_mpnet.py` buckets with 32 whatever the config says (the table has the
        // configured rows), and counts positions from a padding id of 1: other values would
        // not compute what the model was trained with.
        if self.relative_attention_num_buckets != BUCKETS {
            return Err(format!(
                "relative_attention_num_buckets {} is not supported (only {BUCKETS})",
                self.relative_attention_num_buckets
            ));
        }
        if self.pad_token_id != PAD {
            return Err(format!(
                "pad_token_id {} is not supported (MPNet positions count from 1)",
                self.pad_token_id
            ));
        }
        Ok(())
    }
}

impl MpNet {
    pub fn load(vb: VarBuilder, c: &MpNetConfig) -> Result<MpNet> {
        c.check().map_err(candle_core::Error::Msg)?;
        let emb = vb.pp("embeddings");
        let enc = vb.pp("encoder");
        let layers = (0..c.num_hidden_layers)
            .map(|i| Layer::load(enc.pp("layer").pp(i), c))
            .collect::<Result<Vec<_>>>()?;
        Ok(MpNet {
            words: embedding(c.vocab_size, c.hidden_size, emb.pp("word_embeddings"))?,
            positions: embedding(
                c.max_position_embeddings,
                c.hidden_size,
                emb.pp("position_embeddings"),
            )?,
            embedding_norm: layer_norm(c.hidden_size, c.layer_norm_eps, emb.pp("LayerNorm"))?,
            layers,
            relative_bias: embedding(
                c.relative_attention_num_buckets,
                c.num_attention_heads,
                enc.pp("relative_attention_bias"),
            )?,
            heads: c.num_attention_heads,
            max_positions: c.max_position_embeddings,
        })
    }

    /// `ids` and `mask` are `(batch, len)` u32; the result is `(batch, len, hidden)`.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, len) = ids.dims2()?;
        let device = ids.device();
        if PAD as usize + len >= self.max_positions {
            candle_core::bail!(
                "{len} tokens exceed the model's {} positions",
                self.max_positions
            );
        }
        // Real tokens count from PAD + 1; padding sits at PAD.
        let mut position_ids = Vec::with_capacity(b * len);
        for row in mask.to_vec2::<u32>()? {
            let mut seen = 0u32;
            for m in row {
                seen += u32::from(m != 0);
                position_ids.push(if m != 0 { PAD + seen } else { PAD });
            }
        }
        let position_ids = Tensor::from_vec(position_ids, (b, len), device)?;
        let xs = (self.words.forward(ids)? + self.positions.forward(&position_ids)?)?;
        let mut xs = self.embedding_norm.forward(&xs)?;

        let bias = self.attention_bias(len, mask, device)?;
        for layer in &self.layers {
            xs = layer.forward(&xs, &bias)?;
        }
        Ok(xs)
    }

    /// The relative position bias `(1, heads, len, len)` plus the padding mask
    /// `(batch, 1, 1, len)`: `(batch, heads, len, len)`.
    fn attention_bias(&self, len: usize, mask: &Tensor, device: &Device) -> Result<Tensor> {
        let mut buckets = Vec::with_capacity(len * len);
        for query in 0..len as i64 {
            for key in 0..len as i64 {
                buckets.push(relative_position_bucket(key - query) as u32);
            }
        }
        let buckets = Tensor::from_vec(buckets, len * len, device)?;
        let position = self
            .relative_bias
            .forward(&buckets)?
            .reshape((len, len, self.heads))?
            .permute((2, 0, 1))?
            .unsqueeze(0)?;
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(1)?.unsqueeze(1)?;
        let padding = ((mask.ones_like()? - &mask)? * f64::from(f32::MIN))?;
        position.broadcast_add(&padding)?.contiguous()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A two-layer MPNet whose every weight follows a formula, so that a NumPy
    /// transcription of `modeling_mpnet.py` (`scripts/mpnet-reference.py`) computes the
    /// same model.
    fn tiny() -> MpNet {
        let c = MpNetConfig {
            vocab_size: 20,
            hidden_size: 8,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 16,
            max_position_embeddings: 40,
            layer_norm_eps: 1e-5,
            pad_token_id: 1,
            relative_attention_num_buckets: 32,
            hidden_act: "gelu".into(),
        };
        let (h, i) = (c.hidden_size, c.intermediate_size);
        let mut shapes: Vec<(String, Vec<usize>)> = vec![
            ("embeddings.word_embeddings.weight".into(), vec![20, h]),
            ("embeddings.position_embeddings.weight".into(), vec![40, h]),
            ("embeddings.LayerNorm.weight".into(), vec![h]),
            ("embeddings.LayerNorm.bias".into(), vec![h]),
            ("encoder.relative_attention_bias.weight".into(), vec![32, 2]),
        ];
        for l in 0..2 {
            let p = format!("encoder.layer.{l}.");
            for n in ["q", "k", "v", "o"] {
                shapes.push((format!("{p}attention.attn.{n}.weight"), vec![h, h]));
                shapes.push((format!("{p}attention.attn.{n}.bias"), vec![h]));
            }
            for (name, shape) in [
                ("attention.LayerNorm.weight", vec![h]),
                ("attention.LayerNorm.bias", vec![h]),
                ("intermediate.dense.weight", vec![i, h]),
                ("intermediate.dense.bias", vec![i]),
                ("output.dense.weight", vec![h, i]),
                ("output.dense.bias", vec![h]),
                ("output.LayerNorm.weight", vec![h]),
                ("output.LayerNorm.bias", vec![h]),
            ] {
                shapes.push((format!("{p}{name}"), shape));
            }
        }
        let mut tensors = HashMap::new();
        for (name, shape) in shapes {
            let n: usize = shape.iter().product();
            let offset = if name.contains("LayerNorm.weight") {
                1.0
            } else {
                0.0
            };
            let values: Vec<f32> = (0..n)
                .map(|j| (offset + 0.5 * (0.7 * (j + 1) as f64 + name.len() as f64).sin()) as f32)
                .collect();
            tensors.insert(
                name,
                Tensor::from_vec(values, shape.as_slice(), &Device::Cpu).unwrap(),
            );
        }
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        MpNet::load(vb, &c).unwrap()
    }

    #[test]
    fn forward_matches_the_reference_implementation() {
        // Expected: the mean over the real tokens of the last hidden states, as
        // `scripts/mpnet-reference.py` prints them (weights `0.5 * sin(0.7 * (j + 1) +
        // len(name))`, plus 1 for LayerNorm weights). The second row is padded: padding
        // must change neither its positions nor its attention.
        let model = tiny();
        let row0: Vec<u32> = std::iter::once(0)
            .chain((0..18).map(|j| (3 * j) % 17 + 3))
            .chain(std::iter::once(2))
            .collect();
        let mut row1: Vec<u32> = std::iter::once(0)
            .chain((0..10).map(|j| (5 * j) % 13 + 3))
            .chain(std::iter::once(2))
            .collect();
        let mut mask1 = vec![1u32; row1.len()];
        row1.resize(20, 1);
        mask1.resize(20, 0);
        let ids = Tensor::new(vec![row0, row1], &Device::Cpu).unwrap();
        let mask = Tensor::new(vec![vec![1u32; 20], mask1], &Device::Cpu).unwrap();
        let hidden = model.forward(&ids, &mask).unwrap();
        assert_eq!(hidden.dims(), &[2, 20, 8]);
        let expected = [
            [
                1.37171, 1.83092, 0.126894, -0.374672, 0.0734059, 0.506085, -0.227866, -2.40629,
            ],
            [
                1.12787, 1.91151, 0.248856, -0.408295, -0.0138266, 0.4855, -0.0764987, -2.32119,
            ],
        ];
        for (row, (real, want)) in [20usize, 12].into_iter().zip(expected).enumerate() {
            let pooled: Vec<f32> = hidden
                .get(row)
                .unwrap()
                .narrow(0, 0, real)
                .unwrap()
                .mean(0)
                .unwrap()
                .to_vec1()
                .unwrap();
            for (got, want) in pooled.iter().zip(want) {
                assert!(
                    (f64::from(*got) - want).abs() < 1e-4,
                    "row {row}: {pooled:?} against {want:?}"
                );
            }
        }
    }

    #[test]
    fn too_many_tokens_for_the_position_table_is_an_error() {
        let model = tiny();
        let ids = Tensor::new(vec![vec![5u32; 45]], &Device::Cpu).unwrap();
        let mask = Tensor::new(vec![vec![1u32; 45]], &Device::Cpu).unwrap();
        let err = model.forward(&ids, &mask).unwrap_err().to_string();
        assert!(
            err.contains("45 tokens") && err.contains("40 positions"),
            "{err}"
        );
    }

    #[test]
    fn buckets_follow_the_reference_formula() {
        // Values of `MPNetEncoder.relative_position_bucket` (32 buckets, distance 128).
        let cases = [
            (0, 0),
            (1, 17),
            (-1, 1),
            (7, 23),
            (-7, 7),
            (8, 24),
            (-8, 8),
            (12, 25),
            (-12, 9),
            (16, 26),
            (20, 26),
            (-20, 10),
            (64, 30),
            (-64, 14),
            (127, 31),
            (-127, 15),
            (500, 31),
            (-500, 15),
        ];
        for (relative, bucket) in cases {
            assert_eq!(
                relative_position_bucket(relative),
                bucket,
                "relative position {relative}"
            );
        }
    }
}
