//! A string -> node index lookup without a key allocation per entry: `(hash, index)`
//! pairs sorted by hash. A lookup returns every index whose key has the same hash; the
//! caller compares the real key, so collisions cost a comparison, never a wrong answer.

#[derive(Clone, Debug, Default)]
pub(crate) struct HashIndex {
    entries: Vec<(u64, u32)>,
}

/// A fast 64-bit string hash (FxHash-style word mixing with a final avalanche); not
/// for untrusted keys that must resist collisions, which cost only time here.
pub(crate) fn hash(s: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = s.len() as u64;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ word).wrapping_mul(K);
    }
    for &b in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    // splitmix64 finalizer.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl HashIndex {
    pub(crate) fn build<'a>(keys: impl Iterator<Item = (&'a str, u32)>) -> Self {
        let mut entries: Vec<(u64, u32)> = keys.map(|(k, i)| (hash(k), i)).collect();
        entries.sort_unstable();
        entries.dedup();
        Self { entries }
    }

    /// Indices (increasing) whose key may equal `key`.
    pub(crate) fn candidates(&self, key: &str) -> impl Iterator<Item = usize> + '_ {
        let h = hash(key);
        let start = self.entries.partition_point(|&(eh, _)| eh < h);
        self.entries[start..]
            .iter()
            .take_while(move |&&(eh, _)| eh == h)
            .map(|&(_, i)| i as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let keys = ["a", "b", "a", "longer key than eight bytes", ""];
        let index = HashIndex::build(keys.iter().enumerate().map(|(i, k)| (*k, i as u32)));
        let found =
            |k: &str| -> Vec<usize> { index.candidates(k).filter(|&i| keys[i] == k).collect() };
        assert_eq!(found("a"), [0, 2]);
        assert_eq!(found("longer key than eight bytes"), [3]);
        assert_eq!(found(""), [4]);
        assert!(found("c").is_empty());
        assert_ne!(hash("ab"), hash("ba"));
    }
}
