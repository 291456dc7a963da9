//! A small deterministic mutator for running the fuzz targets on a stable toolchain
//! without libFuzzer: seeds from the corpus, changed the way binary formats break
//! (bit flips, boundary integers in length fields, cut, inserted, repeated and spliced
//! ranges). No coverage feedback: it finds what lies near the seeds, not deep paths.

/// xorshift64*: reproducible from its seed, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Integers that sit on the edges jute length and count checks care about.
const INTERESTING_I32: [i32; 12] = [
    0,
    1,
    -1,
    2,
    16,
    255,
    4096,
    0x000F_FFFF,
    0x0010_0000,
    i32::MAX,
    i32::MIN,
    -2,
];
const INTERESTING_I64: [i64; 6] = [0, 1, -1, i64::MAX, i64::MIN, 0x1_0000_0000];

/// A random input: empty, short noise, or noise that starts with a plausible length.
pub fn random_input(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.below(4) {
        0 => rng.below(8),
        1 => rng.below(64),
        _ => rng.below(512),
    };
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// `seed` changed by one to eight mutations; `other` is a second seed for splicing.
pub fn mutate(seed: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        mutate_once(&mut v, other, rng);
    }
    v
}

fn mutate_once(v: &mut Vec<u8>, other: &[u8], rng: &mut Rng) {
    match rng.below(9) {
        0 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] ^= 1 << rng.below(8);
        }
        1 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] = [0, 0xff, 0x7f, 0x80, rng.next_u64() as u8][rng.below(5)];
        }
        2 if v.len() >= 4 => {
            let i = rng.below(v.len() - 3);
            let x = INTERESTING_I32[rng.below(INTERESTING_I32.len())];
            v[i..i + 4].copy_from_slice(&x.to_be_bytes());
        }
        3 if v.len() >= 8 => {
            let i = rng.below(v.len() - 7);
            let x = INTERESTING_I64[rng.below(INTERESTING_I64.len())];
            v[i..i + 8].copy_from_slice(&x.to_be_bytes());
        }
        4 => {
            let at = rng.below(v.len() + 1);
            let n = 1 + rng.below(16);
            let noise: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            v.splice(at..at, noise);
        }
        5 if !v.is_empty() => {
            let at = rng.below(v.len());
            let n = 1 + rng.below((v.len() - at).min(32));
            v.drain(at..at + n);
        }
        6 => v.truncate(rng.below(v.len() + 1)),
        7 if !v.is_empty() => {
            let from = rng.below(v.len());
            let n = 1 + rng.below((v.len() - from).min(64));
            let chunk = v[from..from + n].to_vec();
            let at = rng.below(v.len() + 1);
            v.splice(at..at, chunk);
        }
        _ if !other.is_empty() => {
            let cut = rng.below(v.len() + 1);
            let from = rng.below(other.len());
            v.truncate(cut);
            v.extend_from_slice(&other[from..]);
        }
        _ => v.push(rng.next_u64() as u8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_mutants() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let seed = b"0123456789abcdef";
        for _ in 0..100 {
            assert_eq!(mutate(seed, b"xyz", &mut a), mutate(seed, b"xyz", &mut b));
        }
    }
}
