//! Changes prepared but not yet applied to the tree.
//!
//! Stands in for `ZooKeeperServer.outstandingChanges` (the ordered list) and
//! `outstandingChangesForPath` (the latest change per path). Preparation reads a node
//! here first and falls back to the committed tree, so a request sees the effect of the
//! requests queued before it. Keys are the paths exactly as prep computed them: the
//! parent of `/a` is recorded under `""`, not `"/"`, as in Java.

use std::collections::VecDeque;
use std::sync::Arc;

use foldhash::HashMap;

use crate::pipeline::view::NodeRecord;
use crate::tree::NodeDigest;

/// One prepared change (`ChangeRecord`): the node as it will be after the txn with
/// `zxid` is applied, `None` when that txn deletes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub zxid: i64,
    /// Shared with the index of latest changes: one copy of the path per change.
    pub path: Arc<str>,
    pub node: Option<NodeRecord>,
    /// The node's digest parts after the change (`None` when deleted).
    pub digest: Option<NodeDigest>,
}

/// The changes in order, each with a sequence number that grows by one from the front
/// of the list, so `latest` names a change by its number instead of holding a copy,
/// and applying an old change does not evict a newer one for the same path.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    list: VecDeque<Change>,
    /// The sequence number of `list`'s front.
    front_seq: u64,
    /// The latest change of each path, by sequence number.
    latest: HashMap<Arc<str>, u64>,
    /// Changes added and removed by `applied` since the last `take_counts`
    /// (`OUTSTANDING_CHANGES_QUEUED` / `_REMOVED`; a rollback removes without counting).
    counts: (u64, u64),
    /// The tree digest once every change here is applied (`precalculatedDigest.treeDigest`
    /// of the last change); the committed tree's own when none is pending.
    tree_digest: i64,
}

/// What `Pending::checkpoint` remembers, to undo a failed multi.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    len: usize,
    latest: HashMap<Arc<str>, u64>,
    tree_digest: i64,
}

impl Pending {
    pub fn new() -> Pending {
        Pending::default()
    }

    /// The latest pending change for `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Change> {
        let seq = *self.latest.get(path)?;
        self.list.get(usize::try_from(seq - self.front_seq).ok()?)
    }

    /// Every pending change, oldest first.
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The tree digest after every pending change, if any is pending
    /// (`PrepRequestProcessor.getCurrentTreeDigest`, with the tree's as the fallback).
    pub fn tree_digest(&self) -> Option<i64> {
        (!self.list.is_empty()).then_some(self.tree_digest)
    }

    /// `addChangeRecord`, with the tree digest once this change is applied too.
    pub fn add(&mut self, change: Change, tree_digest: i64) {
        self.tree_digest = tree_digest;
        let seq = self.front_seq + self.list.len() as u64;
        self.counts.0 += 1;
        match self.latest.get_mut(&*change.path) {
            Some(s) => *s = seq,
            None => {
                self.latest.insert(change.path.clone(), seq);
            }
        }
        self.list.push_back(change);
    }

    /// The txn with `zxid` was applied: everything up to it is now in the tree.
    pub fn applied(&mut self, zxid: i64) {
        while let Some(front) = self.list.front() {
            if front.zxid > zxid {
                break;
            }
            if let Some(done) = self.list.pop_front() {
                self.counts.1 += 1;
                if self.latest.get(&*done.path) == Some(&self.front_seq) {
                    self.latest.remove(&*done.path);
                }
                self.front_seq += 1;
            }
        }
    }

    /// How many changes were added, and removed as applied, since the last call.
    pub fn take_counts(&mut self) -> (u64, u64) {
        std::mem::take(&mut self.counts)
    }

    pub fn clear(&mut self) {
        self.list.clear();
        self.latest.clear();
    }

    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            len: self.list.len(),
            latest: self.latest.clone(),
            tree_digest: self.tree_digest,
        }
    }

    /// Drops every change added since `cp` (`PrepRequestProcessor.rollbackPendingChanges`).
    pub fn rollback(&mut self, cp: Checkpoint) {
        self.list.truncate(cp.len);
        self.latest = cp.latest;
        self.tree_digest = cp.tree_digest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::StatPersisted;

    fn node(version: i32) -> Option<NodeRecord> {
        let stat = StatPersisted {
            version,
            ..Default::default()
        };
        Some(NodeRecord {
            stat,
            acl: Vec::new().into(),
            num_children: 0,
            data_len: 0,
        })
    }

    fn change(zxid: i64, path: &str, n: Option<NodeRecord>) -> Change {
        Change {
            zxid,
            path: path.into(),
            node: n,
            digest: None,
        }
    }

    #[test]
    fn latest_change_per_path_wins() {
        let mut p = Pending::new();
        p.add(change(1, "/a", node(0)), 0);
        p.add(change(2, "/a", node(1)), 0);
        assert_eq!(p.get("/a"), Some(&change(2, "/a", node(1))));
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn applying_an_old_change_keeps_the_newer_one() {
        let mut p = Pending::new();
        p.add(change(1, "/a", node(0)), 0);
        p.add(change(2, "/a", None), 0);
        p.applied(1);
        assert_eq!(p.get("/a"), Some(&change(2, "/a", None)));
        p.applied(2);
        assert_eq!(p.get("/a"), None);
        assert!(p.is_empty());
    }

    #[test]
    fn rollback_restores_what_the_checkpoint_saw() {
        let mut p = Pending::new();
        p.add(change(1, "/a", node(0)), 0);
        let cp = p.checkpoint();
        p.add(change(2, "/a", node(5)), 0);
        p.add(change(2, "/b", node(0)), 0);
        p.rollback(cp);
        assert_eq!(p.get("/a"), Some(&change(1, "/a", node(0))));
        assert_eq!(p.get("/b"), None);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn counts_adds_and_applied_removals_but_not_rollbacks() {
        let mut p = Pending::new();
        p.add(change(1, "", node(0)), 0);
        p.add(change(1, "/a", node(0)), 0);
        let cp = p.checkpoint();
        p.add(change(2, "/b", node(0)), 0);
        p.rollback(cp);
        assert_eq!(p.take_counts(), (3, 0));
        p.applied(1);
        assert_eq!(p.take_counts(), (0, 2));
        assert_eq!(p.take_counts(), (0, 0));
    }
}
