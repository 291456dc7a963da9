//! Rebuilding a tree from snapshot records (`DataTree.deserialize`): the ACL map, then
//! nodes parent before child, then the quota set-up and ACL purge Java runs at the end.
//! Decoding the bytes is the snapshot reader's job; this takes decoded records.
//!
//! Snapshots list nodes in pre-order, so a node's parent is the previous node or one of
//! its ancestors: the loader keeps that chain and finds parents without a path lookup
//! (a lookup from the root is the fallback for files in any other parent-first order).

use crate::proto::{Acl, StatPersisted};

use super::ops::{node_size, split_path};
use super::store::{pack_acl, Id};
use super::DataTree;

/// Why a snapshot's node records do not form a tree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// `Invalid Datatree, unable to find parent … of path …`.
    #[error("invalid data tree: no parent {parent} for path {path}")]
    MissingParent { parent: String, path: String },
    #[error("invalid data tree: no root node")]
    NoRoot,
    #[error("invalid data tree: more than 4 billion nodes")]
    TooManyNodes,
    /// ACL keys are counted up from 1; a key past 2^32 - 2 cannot be kept.
    #[error("invalid data tree: ACL key {key} of path {path} is out of range")]
    AclKeyOutOfRange { key: i64, path: String },
}

/// Collects snapshot records; `finish` yields the tree.
#[derive(Debug)]
pub struct TreeLoader {
    tree: DataTree,
    /// The last node added and its ancestors (root side first), each with the length of
    /// its path, a prefix of `last`.
    chain: Vec<(Id, usize)>,
    last: String,
    /// `approximateDataSize` of what was added (the root under both of its keys).
    data_size: i64,
}

impl DataTree {
    pub fn loader(extended_types: bool) -> TreeLoader {
        TreeLoader {
            tree: DataTree::empty(extended_types),
            chain: Vec::new(),
            last: String::new(),
            data_size: 0,
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
        self.add_node_ref(path, data.as_deref(), acl, &stat)
    }

    /// [`TreeLoader::add_node`] from borrowed parts (the decoder's buffer).
    pub fn add_node_ref(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: &StatPersisted,
    ) -> Result<(), LoadError> {
        if pack_acl(acl).is_none() {
            return Err(LoadError::AclKeyOutOfRange {
                key: acl,
                path: path.to_string(),
            });
        }
        let Some((parent, child)) = split_path(path) else {
            // A second root record is ignored: the first one is the tree's root.
            if let Some(id) = self.tree.nodes.insert_root(data, acl, stat) {
                self.tree.acls.add_usage(acl);
                self.data_size += node_size("", data) + node_size("/", data);
                self.chain = vec![(id, 0)];
                self.last.clear();
            }
            return Ok(());
        };
        let missing = || LoadError::MissingParent {
            parent: parent.to_string(),
            path: path.to_string(),
        };
        let parent_id = self.parent_id(parent).ok_or_else(missing)?;
        let tree = &mut self.tree;
        let Some(id) = tree
            .nodes
            .insert_loaded(parent_id, path, child, data, acl, stat)
        else {
            // Present already (a path listed twice), or no id left.
            return if tree.nodes.child(parent_id, child).is_some() {
                Ok(())
            } else {
                Err(LoadError::TooManyNodes)
            };
        };
        tree.acls.add_usage(acl);
        tree.index_owner(path, stat.ephemeral_owner);
        self.data_size += node_size(path, data);
        self.chain.push((id, path.len()));
        self.last.clear();
        self.last.push_str(path);
        Ok(())
    }

    /// The id of `parent`, from the chain when it is on it.
    fn parent_id(&mut self, parent: &str) -> Option<Id> {
        while let Some(&(id, len)) = self.chain.last() {
            if len < parent.len() {
                break;
            }
            if len == parent.len() && self.last.as_bytes().get(..len) == Some(parent.as_bytes()) {
                return Some(id);
            }
            self.chain.pop();
        }
        let id = self.tree.nodes.lookup(parent)?;
        self.chain = vec![(id, parent.len())];
        self.last.clear();
        self.last.push_str(parent);
        Some(id)
    }

    /// The snapshot's digest trailer and the zxid in its file name; the tree checks the
    /// digest when replay reaches that zxid.
    pub fn snapshot_digest(&mut self, zxid: i64, version: i32, digest: i64, snapshot_zxid: i64) {
        self.tree
            .set_pending_digest(zxid, version, digest, snapshot_zxid);
    }

    /// Finishes the load: data size, quota stats recounted, unused ACLs dropped.
    pub fn finish(mut self) -> Result<DataTree, LoadError> {
        if self.tree.get("/").is_none() {
            return Err(LoadError::NoRoot);
        }
        self.tree.nodes.shrink_to_fit();
        self.tree.data_size = self.data_size;
        self.tree.quotas.clear();
        self.tree.setup_quota();
        self.tree.acls.purge_unused();
        Ok(self.tree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_are_found_off_the_chain_too() {
        let stat = StatPersisted::default();
        let mut l = DataTree::loader(false);
        for p in ["", "/a", "/a/x", "/b", "/b/y", "/a/z", "/b/y/w"] {
            l.add_node(p, Some(p.as_bytes().to_vec()), -1, stat)
                .unwrap();
        }
        let missing = l.add_node("/c/d", None, -1, stat);
        assert!(matches!(missing, Err(LoadError::MissingParent { .. })));
        let tree = l.finish().unwrap();
        let paths: Vec<String> = tree.nodes_preorder().into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["", "/a", "/a/x", "/a/z", "/b", "/b/y", "/b/y/w"]);
        assert_eq!(tree.get("/b/y/w").unwrap().data(), Some(&b"/b/y/w"[..]));
        assert_eq!(tree.approximate_data_size(), tree.computed_data_size());
    }

    #[test]
    fn acl_keys_keep_their_value_up_to_what_32_bits_hold() {
        let stat = StatPersisted::default();
        let mut l = DataTree::loader(false);
        l.add_acl(7, Acl::read_unsafe());
        l.add_acl(i64::from(u32::MAX) - 1, Acl::open_unsafe());
        l.add_node("", None, -1, stat).unwrap();
        l.add_node("/a", None, 7, stat).unwrap();
        l.add_node("/b", None, i64::from(u32::MAX) - 1, stat)
            .unwrap();
        let far = l.add_node("/c", None, i64::from(u32::MAX), stat);
        assert!(matches!(far, Err(LoadError::AclKeyOutOfRange { .. })));
        let negative = l.add_node("/d", None, -2, stat);
        assert!(matches!(negative, Err(LoadError::AclKeyOutOfRange { .. })));
        let tree = l.finish().unwrap();
        assert_eq!(tree.acl_and_stat("/a").unwrap().0, Acl::read_unsafe());
        assert_eq!(tree.acl_and_stat("/b").unwrap().0, Acl::open_unsafe());
        assert_eq!(tree.acl_and_stat("/").unwrap().0, Acl::open_unsafe());
    }

    #[test]
    fn a_node_record_is_56_bytes() {
        assert_eq!(super::super::store::SLOT_SIZE, 56);
    }
}
