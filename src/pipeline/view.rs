//! What request preparation may read of the committed tree.
//!
//! `PrepRequestProcessor` never reads the `DataTree` directly for nodes it is about to
//! change: it reads through `outstandingChanges`, falling back to the committed tree. This
//! trait is that fallback, so prep can be tested against a fake and the tree stays ignorant
//! of pending changes.

use crate::proto::{Acl, StatPersisted};
use crate::tree::NodeDigest;

/// A committed node as prep needs it (`ChangeRecord` without the pending part).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRecord {
    pub stat: StatPersisted,
    /// Shared with the tree's ACL cache (Java's `ChangeRecord` holds the same list).
    pub acl: std::sync::Arc<[Acl]>,
    pub num_children: i32,
    /// Length of the data (0 when null); quota accounting.
    pub data_len: i64,
}

pub trait TreeView {
    /// The committed node at `path` (`"/"` is the root).
    fn node(&self, path: &str) -> Option<NodeRecord>;
    /// Data of the committed node at `path` (`None` when absent or null).
    fn data(&self, path: &str) -> Option<Vec<u8>>;
    /// Paths of the ephemerals `session` owns, sorted.
    fn ephemerals(&self, session: i64) -> Vec<String>;
    /// The longest prefix of `path` (itself included) that has a quota node under
    /// `/zookeeper/quota` (`DataTree.getMaxPrefixWithQuota`), if any.
    fn max_prefix_with_quota(&self, path: &str) -> Option<String>;
    /// The committed node's digest parts (`DigestCalculator.calculateDigest`).
    fn node_digest(&self, path: &str) -> Option<NodeDigest> {
        let node = self.node(path)?;
        Some(NodeDigest::of(path, self.data(path).as_deref(), &node.stat))
    }
    /// [`node`](Self::node) and [`node_digest`](Self::node_digest) of one path, found once.
    fn node_with_digest(&self, path: &str) -> Option<(NodeRecord, NodeDigest)> {
        Some((self.node(path)?, self.node_digest(path)?))
    }
    /// The committed tree's digest (`DataTree.getTreeDigest`).
    fn tree_digest(&self) -> i64;
}
