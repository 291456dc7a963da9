//! The path → node map with the tree digest kept in step (`NodeHashMapImpl`).
//!
//! Every change to a node goes through `insert`, `remove` or `update`, which subtract the
//! node's old digest and add its new one, so the tree digest is never recomputed.

use std::collections::BTreeMap;

use super::digest::{node_digest, AdHash};
use super::node::Node;

/// The map key of `path`: the root is kept once, under `"/"`, although Java keys it as
/// both `""` and `"/"`.
pub(super) fn key(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

#[derive(Clone, Debug, Default)]
pub(super) struct NodeMap {
    map: BTreeMap<String, Node>,
    hash: AdHash,
}

impl NodeMap {
    pub(super) fn get(&self, path: &str) -> Option<&Node> {
        self.map.get(key(path))
    }

    /// Adds or replaces the node at `path`.
    pub(super) fn insert(&mut self, path: &str, mut node: Node) {
        let path = key(path);
        node.digest = node_digest(path, node.data.as_deref(), &node.stat);
        self.hash.add(node.digest);
        if let Some(old) = self.map.insert(path.to_string(), node) {
            self.hash.remove(old.digest);
        }
    }

    pub(super) fn remove(&mut self, path: &str) -> Option<Node> {
        let old = self.map.remove(key(path))?;
        self.hash.remove(old.digest);
        Some(old)
    }

    /// Changes the node at `path` in place (`preChange` … `postChange`).
    pub(super) fn update<R>(&mut self, path: &str, f: impl FnOnce(&mut Node) -> R) -> Option<R> {
        let path = key(path);
        let node = self.map.get_mut(path)?;
        self.hash.remove(node.digest);
        let out = f(node);
        node.digest = node_digest(path, node.data.as_deref(), &node.stat);
        self.hash.add(node.digest);
        Some(out)
    }

    pub(super) fn digest(&self) -> i64 {
        self.hash.value()
    }

    /// The digest summed afresh over every node, to check the running value.
    pub(super) fn recomputed_digest(&self) -> i64 {
        let mut hash = AdHash::default();
        for (path, node) in &self.map {
            hash.add(node_digest(path, node.data.as_deref(), &node.stat));
        }
        hash.value()
    }

    /// Entries in path order; the root appears once, as `"/"`.
    /// Entries whose key sorts after `after` (all of them for `None`), in key order.
    pub(super) fn range_after(&self, after: Option<&str>) -> impl Iterator<Item = (&String, &Node)> {
        use std::ops::Bound::{Excluded, Unbounded};
        let lower = after.map_or(Unbounded, Excluded);
        self.map.range::<str, _>((lower, Unbounded))
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.map.iter()
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// How many keys start with `prefix`.
    pub(super) fn count_with_prefix(&self, prefix: &str) -> usize {
        self.map
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(k, _)| k.starts_with(prefix))
            .count()
    }
}
