//! One partition's embedding vectors, kept next to its tantivy index in `vectors.bin`.
//!
//! Each entry is a chunk id, the hash of the text that was embedded, and the vector,
//! quantised to one signed byte per dimension with a per-vector scale (388 bytes for 384
//! dimensions: a quarter of f32, with a cosine error far below what ranking notices).
//! The store is derived data: it is rebuilt from the committed chunks by
//! [`crate::index::PartitionIndex::sync_vectors`], replaced whole by an atomic rename, and
//! a missing, damaged or other-model file only means re-embedding. Search reads it
//! exhaustively (a dot product per vector), which is cheap at tens of thousands of vectors.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// The file name inside a partition's directory.
pub const VECTORS_FILE: &str = "vectors.bin";

const MAGIC: &[u8; 8] = b"AIEXVEC1";

/// Hash of an embedded text (blake3, first 16 bytes).
pub type TextHash = [u8; 16];

pub fn text_hash(text: &str) -> TextHash {
    let mut h = [0u8; 16];
    h.copy_from_slice(&blake3::hash(text.as_bytes()).as_bytes()[..16]);
    h
}

/// The vectors of one partition, in memory.
#[derive(Debug, Default, Clone)]
pub struct VectorStore {
    /// Which model made them (see `Encoder::fingerprint`).
    model: String,
    dim: usize,
    ids: Vec<String>,
    hashes: Vec<TextHash>,
    scales: Vec<f32>,
    data: Vec<i8>,
    rows: HashMap<String, usize>,
}

impl VectorStore {
    pub fn empty(model: &str, dim: usize) -> VectorStore {
        VectorStore {
            model: model.to_string(),
            dim,
            ..VectorStore::default()
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The hash of the text embedded for chunk `id`, if it has a vector.
    pub fn hash_of(&self, id: &str) -> Option<&TextHash> {
        self.rows.get(id).map(|&r| &self.hashes[r])
    }

    /// Appends a vector (unit length expected). A vector of the wrong length is ignored.
    pub fn push(&mut self, id: String, hash: TextHash, vector: &[f32]) {
        if vector.len() != self.dim || self.rows.contains_key(&id) {
            return;
        }
        let max = vector.iter().fold(0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        self.data.extend(
            vector
                .iter()
                .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8),
        );
        self.scales.push(scale);
        self.hashes.push(hash);
        self.rows.insert(id.clone(), self.ids.len());
        self.ids.push(id);
    }

    /// Chunk ids by the hash of their embedded text.
    pub fn ids_by_hash(&self) -> HashMap<TextHash, &str> {
        self.ids
            .iter()
            .zip(&self.hashes)
            .map(|(id, h)| (*h, id.as_str()))
            .collect()
    }

    /// Copies chunk `from`'s entry in `other` (same model and length), if it has one, as
    /// chunk `id`'s.
    pub fn copy_from(&mut self, other: &VectorStore, from: &str, id: &str) {
        let Some(&r) = other.rows.get(from) else {
            return;
        };
        if other.dim != self.dim || self.rows.contains_key(id) {
            return;
        }
        self.data
            .extend_from_slice(&other.data[r * self.dim..(r + 1) * self.dim]);
        self.scales.push(other.scales[r]);
        self.hashes.push(other.hashes[r]);
        self.rows.insert(id.to_string(), self.ids.len());
        self.ids.push(id.to_string());
    }

    fn dot(&self, row: usize, query: &[f32]) -> f32 {
        let v = &self.data[row * self.dim..(row + 1) * self.dim];
        let s: f32 = v.iter().zip(query).map(|(a, b)| *a as f32 * b).sum();
        s * self.scales[row]
    }

    /// Cosine similarity of chunk `id` with a unit-length query, if it has a vector.
    pub fn similarity(&self, id: &str, query: &[f32]) -> Option<f32> {
        if query.len() != self.dim {
            return None;
        }
        self.rows.get(id).map(|&r| self.dot(r, query))
    }

    /// The `k` chunks most similar to a unit-length query, best first.
    pub fn nearest(&self, query: &[f32], k: usize) -> Vec<(&str, f32)> {
        if query.len() != self.dim || k == 0 {
            return Vec::new();
        }
        let mut scored: Vec<(usize, f32)> = (0..self.ids.len())
            .map(|r| (r, self.dot(r, query)))
            .collect();
        let by_score = |a: &(usize, f32), b: &(usize, f32)| {
            b.1.total_cmp(&a.1)
                .then_with(|| self.ids[a.0].cmp(&self.ids[b.0]))
        };
        if scored.len() > k {
            scored.select_nth_unstable_by(k - 1, by_score);
            scored.truncate(k);
        }
        scored.sort_by(by_score);
        scored
            .into_iter()
            .map(|(r, s)| (self.ids[r].as_str(), s))
            .collect()
    }

    /// Writes the store to `path` atomically (a temporary file renamed over it).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("bin.tmp");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        out.write_all(MAGIC)?;
        let model = self.model.as_bytes();
        out.write_all(&(model.len() as u32).to_le_bytes())?;
        out.write_all(model)?;
        out.write_all(&(self.dim as u32).to_le_bytes())?;
        out.write_all(&(self.ids.len() as u32).to_le_bytes())?;
        for r in 0..self.ids.len() {
            let id = self.ids[r].as_bytes();
            out.write_all(&(id.len() as u32).to_le_bytes())?;
            out.write_all(id)?;
            out.write_all(&self.hashes[r])?;
            out.write_all(&self.scales[r].to_le_bytes())?;
            let v = &self.data[r * self.dim..(r + 1) * self.dim];
            out.write_all(&v.iter().map(|x| *x as u8).collect::<Vec<u8>>())?;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    }

    /// How many vectors of `model` (at `dim`) the file at `path` holds, read from its
    /// header alone: 0 when it is missing, unreadable or another model's.
    pub fn count_in(path: &Path, model: &str, dim: usize) -> usize {
        use std::io::Read;
        // The magic, the model name's length, the name, the dimension and the count.
        let header_len = 8 + 4 + model.len() + 4 + 4;
        let mut header = Vec::with_capacity(header_len);
        let read = std::fs::File::open(path)
            .and_then(|f| f.take(header_len as u64).read_to_end(&mut header));
        if read.is_err() {
            return 0;
        }
        let mut r = Reader { bytes: &header };
        let mut counted = || -> Result<usize, String> {
            let same = r.take(8)? == MAGIC
                && r.u32()? as usize == model.len()
                && r.take(model.len())? == model.as_bytes()
                && r.u32()? as usize == dim;
            Ok(if same { r.u32()? as usize } else { 0 })
        };
        counted().unwrap_or(0)
    }

    /// How many vectors the file at `path` holds, of whatever model (0 when it is missing
    /// or unreadable), reading only its header.
    pub fn count_any(path: &Path) -> usize {
        use std::io::Read;
        let mut header = Vec::new();
        let read = std::fs::File::open(path).and_then(|mut f| {
            let mut start = [0u8; 12];
            f.read_exact(&mut start)?;
            header.extend_from_slice(&start);
            let model_len = u32::from_le_bytes(start[8..12].try_into().expect("4 bytes")) as u64;
            // A name longer than any model's is a damaged file.
            if model_len > 4096 {
                return Err(std::io::ErrorKind::InvalidData.into());
            }
            f.take(model_len + 8).read_to_end(&mut header).map(|_| ())
        });
        if read.is_err() {
            return 0;
        }
        let mut r = Reader { bytes: &header };
        let mut counted = || -> Result<usize, String> {
            if r.take(8)? != MAGIC {
                return Ok(0);
            }
            let model_len = r.u32()? as usize;
            r.take(model_len)?;
            r.u32()?;
            Ok(r.u32()? as usize)
        };
        counted().unwrap_or(0)
    }

    /// Reads a store written by [`VectorStore::save`]. A missing file is an empty store;
    /// a damaged one an error (the caller re-embeds).
    pub fn load(path: &Path, model: &str, dim: usize) -> Result<VectorStore, String> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(VectorStore::empty(model, dim));
            }
            Err(e) => return Err(e.to_string()),
        };
        let mut r = Reader { bytes: &bytes };
        if r.take(8)? != MAGIC {
            return Err("not an Aiex vector file".into());
        }
        let model_len = r.u32()? as usize;
        let found_model = String::from_utf8_lossy(r.take(model_len)?).into_owned();
        let found_dim = r.u32()? as usize;
        if found_model != model || found_dim != dim {
            // Vectors of another model are useless: start over.
            return Ok(VectorStore::empty(model, dim));
        }
        let n = r.u32()? as usize;
        let mut store = VectorStore::empty(model, dim);
        let entry_min = 4 + 16 + 4 + dim;
        if n.saturating_mul(entry_min) > bytes.len() {
            return Err(format!("{n} vectors do not fit in {} bytes", bytes.len()));
        }
        for _ in 0..n {
            let id_len = r.u32()? as usize;
            let id = std::str::from_utf8(r.take(id_len)?)
                .map_err(|e| e.to_string())?
                .to_string();
            let mut hash = [0u8; 16];
            hash.copy_from_slice(r.take(16)?);
            let scale = f32::from_le_bytes(r.take(4)?.try_into().expect("4 bytes"));
            let v = r.take(dim)?;
            if store.rows.contains_key(&id) || !scale.is_finite() {
                return Err(format!("bad entry for chunk {id}"));
            }
            store.rows.insert(id.clone(), store.ids.len());
            store.ids.push(id);
            store.hashes.push(hash);
            store.scales.push(scale);
            store.data.extend(v.iter().map(|b| *b as i8));
        }
        if !r.bytes.is_empty() {
            return Err("trailing bytes".into());
        }
        Ok(store)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < n {
            return Err("truncated".into());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn vectors_round_trip_and_rank_by_cosine() {
        let mut s = VectorStore::empty("m", 3);
        s.push("a".into(), text_hash("a"), &unit(&[1.0, 0.0, 0.0]));
        s.push("b".into(), text_hash("b"), &unit(&[0.6, 0.8, 0.0]));
        s.push("c".into(), text_hash("c"), &unit(&[0.0, 0.0, 1.0]));
        s.push("bad".into(), text_hash("bad"), &[1.0]);
        assert_eq!(s.len(), 3);
        let q = unit(&[1.0, 0.2, 0.0]);
        let top: Vec<&str> = s.nearest(&q, 2).into_iter().map(|(id, _)| id).collect();
        assert_eq!(top, ["a", "b"]);
        let sim = s.similarity("b", &q).unwrap();
        let exact = (0.6 + 0.8 * 0.2) / (1.04f32).sqrt();
        assert!((sim - exact).abs() < 0.01, "{sim} vs {exact}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(VECTORS_FILE);
        s.save(&path).unwrap();
        let back = VectorStore::load(&path, "m", 3).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back.hash_of("c"), Some(&text_hash("c")));
        assert_eq!(back.similarity("b", &q), s.similarity("b", &q));
        // The header alone says how many vectors of the model the file holds.
        assert_eq!(VectorStore::count_in(&path, "m", 3), 3);
        assert_eq!(VectorStore::count_in(&path, "other", 3), 0);
        assert_eq!(VectorStore::count_in(&path, "m", 4), 0);
        assert_eq!(VectorStore::count_in(&dir.path().join("none"), "m", 3), 0);
        let header = std::fs::read(&path).unwrap()[..10].to_vec();
        let cut = dir.path().join("cut");
        std::fs::write(&cut, header).unwrap();
        assert_eq!(VectorStore::count_in(&cut, "m", 3), 0, "a truncated header");
        // Of whatever model.
        assert_eq!(VectorStore::count_any(&path), 3);
        assert_eq!(VectorStore::count_any(&cut), 0, "a truncated header");
        assert_eq!(VectorStore::count_any(&dir.path().join("none")), 0);
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&cut, huge).unwrap();
        assert_eq!(VectorStore::count_any(&cut), 0, "a damaged name length");
        // Another model's vectors are dropped, a damaged file is an error.
        assert!(VectorStore::load(&path, "other", 3).unwrap().is_empty());
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(VectorStore::load(&path, "m", 3).is_err());
        assert!(
            VectorStore::load(&dir.path().join("none"), "m", 3)
                .unwrap()
                .is_empty()
        );
    }
}
