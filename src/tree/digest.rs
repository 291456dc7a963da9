//! The tree digest (`DigestCalculator` + `AdHash` in Apache ZooKeeper).
//!
//! Every node contributes the CRC-32 of its path, data and a 60-byte stat block; the tree
//! digest is the 64-bit wrapping sum of those values, so it can be kept up to date by
//! subtracting a node's old value and adding its new one. Txn logs and snapshots carry
//! this value, so it must match the Java server bit for bit.

use crate::proto::StatPersisted;

/// `DigestCalculator.DIGEST_VERSION`, written next to every digest.
pub const DIGEST_VERSION: i32 = 2;

/// Nodes below this prefix are left out (`ZooDefs.ZOOKEEPER_NODE_SUBTREE`): quota stat
/// nodes are rewritten locally on every server, so they would make digests disagree.
const EXCLUDED_SUBTREE: &str = "/zookeeper/";

/// The digest value of one node (`DigestCalculator.calculateDigest`).
pub fn node_digest(path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> u32 {
    NodeDigest::of(path, data, stat).value
}

/// One node's digest value, with the CRC of its path and data kept apart, so a change
/// that leaves the data alone (a parent's new child, an ACL version) is hashed again
/// from the stat alone. Request preparation keeps one per pending change, as
/// `ChangeRecord.precalculatedDigest` does, to compute the tree digest each txn is
/// proposed with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeDigest {
    /// CRC-32 of the path and data.
    pub prefix: u32,
    pub value: u32,
}

impl NodeDigest {
    pub fn of(path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> NodeDigest {
        NodeDigest::with_stat(path, Self::prefix_of(path, data), stat)
    }

    /// The CRC of the path (the root's as "") and the data.
    pub fn prefix_of(path: &str, data: Option<&[u8]>) -> u32 {
        let path = if path == "/" { "" } else { path };
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(path.as_bytes());
        if let Some(data) = data {
            hasher.update(data);
        }
        hasher.finalize()
    }

    /// The value for a node with this path and data `prefix` and this stat.
    pub fn with_stat(path: &str, prefix: u32, stat: &StatPersisted) -> NodeDigest {
        // Nodes below `/zookeeper/` are left out of the tree digest.
        if path.starts_with(EXCLUDED_SUBTREE) {
            return NodeDigest { prefix, value: 0 };
        }
        let mut hasher = crc32fast::Hasher::new_with_initial(prefix);
        hasher.update(&stat_block(stat));
        NodeDigest {
            prefix,
            value: hasher.finalize(),
        }
    }
}

/// The stat fields in digest order, which is not `StatPersisted`'s field order.
fn stat_block(stat: &StatPersisted) -> [u8; 60] {
    let mut block = [0u8; 60];
    let longs = [stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime];
    for (i, v) in longs.iter().enumerate() {
        block[i * 8..i * 8 + 8].copy_from_slice(&v.to_be_bytes());
    }
    let ints = [stat.version, stat.cversion, stat.aversion];
    for (i, v) in ints.iter().enumerate() {
        block[40 + i * 4..44 + i * 4].copy_from_slice(&v.to_be_bytes());
    }
    block[52..60].copy_from_slice(&stat.ephemeral_owner.to_be_bytes());
    block
}

/// The running sum (`AdHash`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdHash(i64);

impl AdHash {
    pub fn add(&mut self, node: u32) {
        self.0 = self.0.wrapping_add(i64::from(node));
    }
    pub fn remove(&mut self, node: u32) {
        self.0 = self.0.wrapping_sub(i64::from(node));
    }
    pub fn value(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_hashes_as_empty_path() {
        let stat = StatPersisted::default();
        assert_eq!(
            node_digest("/", Some(b""), &stat),
            node_digest("", Some(b""), &stat)
        );
    }

    #[test]
    fn zookeeper_subtree_is_excluded_but_not_zookeeper_itself() {
        let stat = StatPersisted::default();
        assert_eq!(node_digest("/zookeeper/quota", None, &stat), 0);
        assert_ne!(node_digest("/zookeeper", None, &stat), 0);
        assert_ne!(node_digest("/zookeeperx", None, &stat), 0);
    }

    #[test]
    fn null_and_empty_data_hash_alike() {
        let stat = StatPersisted::default();
        assert_eq!(
            node_digest("/a", None, &stat),
            node_digest("/a", Some(b""), &stat)
        );
    }

    #[test]
    fn stat_block_puts_pzxid_third() {
        let stat = StatPersisted {
            pzxid: 0x0102,
            ..Default::default()
        };
        let block = stat_block(&stat);
        assert_eq!(&block[16..24], &0x0102i64.to_be_bytes());
    }

    #[test]
    fn a_kept_prefix_gives_the_whole_value() {
        let stat = StatPersisted {
            czxid: 7,
            version: 3,
            ..Default::default()
        };
        let d = NodeDigest::of("/a/b", Some(b"data"), &stat);
        assert_eq!(d, NodeDigest::with_stat("/a/b", d.prefix, &stat));
        let mut whole = crc32fast::Hasher::new();
        whole.update(b"/a/bdata");
        whole.update(&stat_block(&stat));
        assert_eq!(d.value, whole.finalize());
    }

    #[test]
    fn adhash_wraps() {
        let mut h = AdHash(i64::MAX);
        h.add(1);
        assert_eq!(h.value(), i64::MIN);
        h.remove(1);
        assert_eq!(h.value(), i64::MAX);
    }
}
