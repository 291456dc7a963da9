//! Rebuilding a tree from snapshot records (`DataTree.deserialize`): the ACL map, then
//! nodes parent before child, then the quota set-up and ACL purge Java runs at the end.
//! Decoding the bytes is the snapshot reader's job; this takes decoded records.

use crate::proto::{Acl, StatPersisted};

use super::node::Node;
use super::ops::split_path;
use super::DataTree;

/// Why a snapshot's node records do not form a tree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// `Invalid Datatree, unable to find parent … of path …`.
    #[error("invalid data tree: no parent {parent} for path {path}")]
    MissingParent { parent: String, path: String },
    #[error("invalid data tree: no root node")]
    NoRoot,
}

/// Collects snapshot records; `finish` yields the tree.
#[derive(Debug)]
pub struct TreeLoader {
    tree: DataTree,
}

impl DataTree {
    pub fn loader(extended_types: bool) -> TreeLoader {
        TreeLoader {
            tree: DataTree::empty(extended_types),
        }
    }
}

impl TreeLoader {
    /// One ACL map entry, in file order.
    pub fn add_acl(&mut self, key: i64, acls: Vec<Acl>) {
        self.tree.acls.insert_loaded(key, acls);
    }

    /// One node record; the root has path `""` and must come first, every other node
    /// after its parent.
    pub fn add_node(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        acl: i64,
        stat: StatPersisted,
    ) -> Result<(), LoadError> {
        let tree = &mut self.tree;
        let node = Node::new(data, acl, stat);
        if let Some((parent, child)) = split_path(path) {
            let linked = tree.nodes.update(parent, |p| {
                p.children.insert(child.to_string());
            });
            if linked.is_none() {
                return Err(LoadError::MissingParent {
                    parent: parent.to_string(),
                    path: path.to_string(),
                });
            }
            tree.nodes.insert(path, node);
            tree.acls.add_usage(acl);
            tree.index_owner(path, stat.ephemeral_owner);
        } else {
            tree.nodes.insert(path, node);
            tree.acls.add_usage(acl);
        }
        Ok(())
    }

    /// The snapshot's digest trailer and the zxid in its file name; the tree checks the
    /// digest when replay reaches that zxid.
    pub fn snapshot_digest(&mut self, zxid: i64, version: i32, digest: i64, snapshot_zxid: i64) {
        self.tree
            .set_pending_digest(zxid, version, digest, snapshot_zxid);
    }

    /// Finishes the load: data size, quota stats recounted, unused ACLs dropped.
    pub fn finish(mut self) -> Result<DataTree, LoadError> {
        if self.tree.nodes.get("/").is_none() {
            return Err(LoadError::NoRoot);
        }
        self.tree.data_size = self.tree.computed_data_size();
        self.tree.quotas.clear();
        self.tree.setup_quota();
        self.tree.acls.purge_unused();
        Ok(self.tree)
    }
}
