//! Reads of the committed tree (`DataTree.getData`, `statNode`, `getChildren`,
//! `getACL`, `getAllChildrenNumber`, `getEphemerals` and the counters behind `mntr`),
//! and the `TreeView` request preparation reads through.

use std::collections::{BTreeMap, BTreeSet};

use crate::pipeline::view::{NodeRecord, TreeView};
use crate::proto::{Acl, Stat};

use super::digest::NodeDigest;
use super::node::Node;
use super::DataTree;

impl DataTree {
    /// The node at `path` (`""` and `"/"` both name the root).
    pub fn get(&self, path: &str) -> Option<Node<'_>> {
        self.nodes.get(path)
    }

    /// Client view of a node's stat.
    pub fn stat(&self, path: &str) -> Option<Stat> {
        self.get(path).map(|n| n.client_stat(self.extended_types))
    }

    /// Data (`None` when null) and stat (`getData`).
    pub fn data_and_stat(&self, path: &str) -> Option<(Option<&[u8]>, Stat)> {
        self.get(path)
            .map(|n| (n.data(), n.client_stat(self.extended_types)))
    }

    /// The ACL list and stat (`getACL`); an ACL key missing from the cache reads as an
    /// empty list.
    pub fn acl_and_stat(&self, path: &str) -> Option<(Vec<Acl>, Stat)> {
        self.get(path)
            .map(|n| (self.acl_of(n), n.client_stat(self.extended_types)))
    }

    /// The ACL list of `node`.
    pub fn acl_of(&self, node: Node<'_>) -> Vec<Acl> {
        self.acls.get(node.acl).unwrap_or_default()
    }

    /// The ACL list of `node`, borrowed.
    pub fn acl_ref(&self, node: Node<'_>) -> &[Acl] {
        self.acls.get_ref(node.acl).unwrap_or_default()
    }

    /// Child names, sorted, and the stat (`getChildren`).
    pub fn children_and_stat(&self, path: &str) -> Option<(Vec<String>, Stat)> {
        let id = self.nodes.lookup(path)?;
        let node = self.nodes.view(id)?;
        let names = self
            .nodes
            .children(id)
            .map(|c| c.java_order(|child| self.nodes.name_str(child)))
            .unwrap_or_default();
        Some((names, node.client_stat(self.extended_types)))
    }

    /// `getAllChildrenNumber`: every node whose path starts with `path/`; for `/`, the
    /// node count minus the two root entries. Java keeps the root under both `""` and
    /// `"/"`, so for `""` the prefix `/` also matches the second root entry.
    pub fn all_children_number(&self, path: &str) -> i32 {
        let n = if path == "/" {
            self.node_count().saturating_sub(2)
        } else if path.is_empty() {
            self.node_count().saturating_sub(1)
        } else {
            self.nodes.lookup(path).map_or(0, |id| self.descendants(id))
        };
        i32::try_from(n).unwrap_or(i32::MAX)
    }

    /// Paths of the ephemerals `session` owns, sorted.
    pub fn ephemerals(&self, session: i64) -> Vec<String> {
        self.ephemerals
            .get(&session)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every session still listed with its ephemerals (`dump`); a session whose
    /// ephemerals were all deleted one by one stays listed with an empty set.
    pub fn ephemerals_by_session(&self) -> &BTreeMap<i64, BTreeSet<String>> {
        &self.ephemerals
    }

    /// `getEphemeralsCount`.
    pub fn ephemerals_count(&self) -> usize {
        self.ephemerals.values().map(BTreeSet::len).sum()
    }

    pub fn containers(&self) -> &BTreeSet<String> {
        &self.containers
    }

    pub fn ttls(&self) -> &BTreeSet<String> {
        &self.ttls
    }

    /// `getNodeCount`: Java keys the root twice (`""` and `"/"`), so a fresh tree has 5.
    pub fn node_count(&self) -> usize {
        self.nodes.len() + 1
    }

    /// `cachedApproximateDataSize`, what `mntr` reports: path lengths plus data lengths,
    /// kept incrementally. Quota stat rewrites are not reflected, as in Java.
    pub fn approximate_data_size(&self) -> i64 {
        self.data_size
    }

    /// The longest quota'd prefix of `path` (`getMaxPrefixWithQuota`).
    pub fn max_prefix_with_quota(&self, path: &str) -> Option<String> {
        self.quotas.max_prefix(path)
    }
}

impl DataTree {
    fn record_of(&self, node: Node<'_>) -> NodeRecord {
        NodeRecord {
            stat: node.stat,
            acl: self
                .acls
                .get_shared(node.acl)
                .unwrap_or_else(|| Vec::new().into()),
            num_children: node.num_children(),
            data_len: i64::from(node.data_len()),
        }
    }
}

impl TreeView for DataTree {
    fn node(&self, path: &str) -> Option<NodeRecord> {
        Some(self.record_of(self.get(path)?))
    }

    fn node_with_digest(&self, path: &str) -> Option<(NodeRecord, NodeDigest)> {
        let id = self.nodes.lookup(path)?;
        let record = self.record_of(self.nodes.view(id)?);
        Some((record, self.nodes.node_digest(id, path)?))
    }

    fn data(&self, path: &str) -> Option<Vec<u8>> {
        self.get(path)?.data.map(<[u8]>::to_vec)
    }

    fn ephemerals(&self, session: i64) -> Vec<String> {
        DataTree::ephemerals(self, session)
    }

    fn node_digest(&self, path: &str) -> Option<NodeDigest> {
        let id = self.nodes.lookup(path)?;
        self.nodes.node_digest(id, path)
    }

    fn tree_digest(&self) -> i64 {
        self.digest()
    }

    fn max_prefix_with_quota(&self, path: &str) -> Option<String> {
        DataTree::max_prefix_with_quota(self, path)
    }
}
