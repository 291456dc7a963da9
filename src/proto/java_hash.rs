//! Java's `String.hashCode` and `HashMap.hash`: Apache ZooKeeper keeps child names,
//! ephemeral paths and connection ids in hash sets, and their iteration order reaches
//! the wire (getChildren, getEphemerals, whoAmI) and the log (closeSession), so rzk
//! reproduces the hashes those orders come from.

/// `String.hashCode`, over UTF-16 code units.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// `HashMap.hash(key)` of a `String`: the high bits folded into the low ones, the source
/// of the bucket index (`hash & (capacity - 1)`).
pub fn hashmap_hash(s: &str) -> usize {
    let h = string_hash(s) as u32;
    (h ^ (h >> 16)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_javas_string_hash_code() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("ip"), 3367);
        assert_eq!(string_hash("hello"), 99_162_322);
        assert_eq!(string_hash("polygenelubricants"), i32::MIN);
    }
}
