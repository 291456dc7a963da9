//! Adler-32, the checksum of txn log entries and snapshot files
//! (`FileTxnLog.makeChecksumAlgorithm`, `SnapStream`'s `CheckedOutputStream`).
//! Java stores the 32-bit value zero-extended in a `long`.

/// A running Adler-32 over bytes fed in pieces.
#[derive(Clone, Default)]
pub struct Adler32(adler::Adler32);

impl Adler32 {
    pub fn new() -> Adler32 {
        Adler32(adler::Adler32::new())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.write_slice(bytes);
    }

    /// The value as Java's `Checksum.getValue()` returns it.
    pub fn value(&self) -> i64 {
        i64::from(self.0.checksum())
    }
}

/// The checksum of one buffer.
pub fn adler32(bytes: &[u8]) -> i64 {
    let mut a = Adler32::new();
    a.update(bytes);
    a.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler32_matches_the_reference_value() {
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
    }

    #[test]
    fn pieces_sum_like_the_whole() {
        let mut a = Adler32::new();
        a.update(b"Wiki");
        a.update(b"pedia");
        assert_eq!(a.value(), adler32(b"Wikipedia"));
    }
}
