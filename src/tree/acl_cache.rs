//! Interned ACL lists (`ReferenceCountedACLCache` in Apache ZooKeeper).
//!
//! Nodes store a `long` key instead of their ACL list; snapshots write the key map once
//! and each node's key. Keys are handed out from 1 upward, a list equal to a live one
//! reuses its key, and a key is dropped when its last node goes. -1 stands for
//! `OPEN_ACL_UNSAFE` without an entry (used by the built-in nodes only).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::proto::Acl;

/// Key of `OPEN_ACL_UNSAFE` that is never stored in the map.
pub const OPEN_ACL_REF: i64 = -1;

/// `OPEN_ACL_UNSAFE`, the list of `OPEN_ACL_REF`, shared: most creates ask for it.
pub fn open_acl() -> &'static Arc<[Acl]> {
    static OPEN: std::sync::OnceLock<Arc<[Acl]>> = std::sync::OnceLock::new();
    OPEN.get_or_init(|| Acl::open_unsafe().into())
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AclCache {
    /// Shared, so that a node's ACL list reaches prep without a copy.
    by_ref: BTreeMap<i64, Arc<[Acl]>>,
    by_acl: BTreeMap<Vec<Acl>, i64>,
    counts: BTreeMap<i64, i64>,
    /// Last key handed out; never goes down, so freed keys are not reused.
    index: i64,
}

impl AclCache {
    /// The key for `acls`, allocated if new; counts one more use (`convertAcls`).
    pub fn intern(&mut self, acls: &[Acl]) -> i64 {
        let key = match self.by_acl.get(acls) {
            Some(&key) => key,
            None => {
                self.index += 1;
                self.by_ref.insert(self.index, Arc::from(acls));
                self.by_acl.insert(acls.to_vec(), self.index);
                self.index
            }
        };
        self.add_usage(key);
        key
    }

    /// The ACL list of `key` (`convertLong`); `None` for an unknown key.
    pub fn get(&self, key: i64) -> Option<Vec<Acl>> {
        self.get_ref(key).map(<[Acl]>::to_vec)
    }

    /// The ACL list of `key`, shared; `None` for an unknown key.
    pub fn get_shared(&self, key: i64) -> Option<Arc<[Acl]>> {
        if key == OPEN_ACL_REF {
            return Some(open_acl().clone());
        }
        self.by_ref.get(&key).cloned()
    }

    /// The ACL list of `key`, borrowed (the read path checks permissions on every
    /// request and needs no copy); `None` for an unknown key.
    pub fn get_ref(&self, key: i64) -> Option<&[Acl]> {
        if key == OPEN_ACL_REF {
            return Some(open_acl());
        }
        self.by_ref.get(&key).map(|a| &**a)
    }

    /// Unknown keys are ignored, as Java only logs them.
    pub fn add_usage(&mut self, key: i64) {
        if key == OPEN_ACL_REF || !self.by_ref.contains_key(&key) {
            return;
        }
        *self.counts.entry(key).or_insert(0) += 1;
    }

    pub fn remove_usage(&mut self, key: i64) {
        if key == OPEN_ACL_REF || !self.by_ref.contains_key(&key) {
            return;
        }
        let Some(count) = self.counts.get_mut(&key) else {
            return;
        };
        *count -= 1;
        if *count <= 0 {
            self.forget(key);
        }
    }

    /// Adds an entry read from a snapshot, with no uses yet (`deserialize`).
    pub fn insert_loaded(&mut self, key: i64, acls: Vec<Acl>) {
        self.index = self.index.max(key);
        self.by_ref.insert(key, Arc::from(acls.as_slice()));
        self.by_acl.insert(acls, key);
        self.counts.insert(key, 0);
    }

    /// Drops entries no node uses (`purgeUnused`, after loading a snapshot).
    pub fn purge_unused(&mut self) {
        let unused: Vec<i64> = self
            .counts
            .iter()
            .filter(|(_, &c)| c <= 0)
            .map(|(&k, _)| k)
            .collect();
        for key in unused {
            self.forget(key);
        }
    }

    fn forget(&mut self, key: i64) {
        self.counts.remove(&key);
        if let Some(acls) = self.by_ref.remove(&key) {
            self.by_acl.remove(&*acls);
        }
    }

    /// Every entry, by key: what a snapshot's ACL map holds.
    pub fn entries(&self) -> impl Iterator<Item = (i64, &[Acl])> + '_ {
        self.by_ref.iter().map(|(&k, v)| (k, &**v))
    }

    /// Number of distinct lists (`aclCacheSize`).
    pub fn len(&self) -> usize {
        self.by_acl.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_acl.is_empty()
    }

    /// Current use count of `key` (0 when unknown).
    pub fn usage(&self, key: i64) -> i64 {
        self.counts.get(&key).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_lists_equal_copied_ones() {
        let mut cache = AclCache::default();
        let key = cache.intern(&Acl::read_unsafe());
        for k in [key, OPEN_ACL_REF, 99] {
            assert_eq!(cache.get_ref(k).map(<[Acl]>::to_vec), cache.get(k));
        }
    }

    #[test]
    fn equal_lists_share_a_key_and_keys_start_at_one() {
        let mut cache = AclCache::default();
        assert_eq!(cache.intern(&Acl::read_unsafe()), 1);
        assert_eq!(cache.intern(&Acl::open_unsafe()), 2);
        assert_eq!(cache.intern(&Acl::read_unsafe()), 1);
        assert_eq!(cache.usage(1), 2);
    }

    #[test]
    fn freed_keys_are_not_reused() {
        let mut cache = AclCache::default();
        let k = cache.intern(&Acl::read_unsafe());
        cache.remove_usage(k);
        assert!(cache.get(k).is_none());
        assert_eq!(cache.intern(&Acl::read_unsafe()), 2);
    }

    #[test]
    fn open_ref_is_implicit() {
        let mut cache = AclCache::default();
        cache.add_usage(OPEN_ACL_REF);
        cache.remove_usage(OPEN_ACL_REF);
        assert_eq!(cache.get(OPEN_ACL_REF), Some(Acl::open_unsafe()));
        assert!(cache.is_empty());
    }

    #[test]
    fn loading_keeps_keys_and_purges_unused() {
        let mut cache = AclCache::default();
        cache.insert_loaded(4, Acl::read_unsafe());
        cache.insert_loaded(7, Acl::open_unsafe());
        cache.add_usage(7);
        cache.purge_unused();
        assert_eq!(cache.entries().map(|(k, _)| k).collect::<Vec<_>>(), vec![7]);
        assert_eq!(cache.intern(&Acl::read_unsafe()), 8);
    }
}
