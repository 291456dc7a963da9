//! The data tree (`DataTree`, `DataNode`, `ReferenceCountedACLCache`,
//! `DigestCalculator` in Apache ZooKeeper): holds the znodes, applies committed
//! transactions and answers reads.
//!
//! Clients see every `Stat` field and snapshots and digests are compared byte for byte
//! with Java servers, so every effect of a txn follows `DataTree.processTxn` of 3.8.0,
//! quirks included (the stored child-create counter, the root counted twice, quota stat
//! nodes rewritten in place). Pure: no IO, no clock; times come in the txn header.
//!
//! * `apply` — transactions and their watch triggers;
//! * `view` — reads, and the `TreeView` request preparation reads through;
//! * `load` — rebuilding a tree from snapshot records;
//! * `reap` — container and TTL nodes due for deletion (`ContainerManager`);
//! * `digest_check` — the digests snapshots record and logs are checked against;
//! * `walk` — pre-order walks, whole or resumable in slices;
//! * `store`, `blobs`, `children` — the packed node storage;
//! * `quota`, `acl_cache`, `digest`, `node`, `ops` — the parts.

mod acl_cache;
mod apply;
mod blobs;
mod children;
mod digest;
mod digest_check;
mod load;
mod node;
mod ops;
mod quota;
mod reap;
mod store;
mod view;
mod walk;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod scenario_tests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use crate::proto::{Acl, ErrorCode, EventType, Stat, StatPersisted};

pub use acl_cache::{open_acl, AclCache, OPEN_ACL_REF};
pub use digest::{node_digest, NodeDigest, DIGEST_VERSION};
pub use load::{LoadError, TreeLoader};
pub use node::Node;
pub use quota::{
    limit_path, stat_path, top_namespace, QuotaMetrics, StatsTrack, LIMIT_NODE, QUOTA_ZOOKEEPER,
    STAT_NODE,
};

use quota::QuotaTrie;
use store::{Store, ROOT};

/// `ZooDefs.CONFIG_NODE`.
pub const CONFIG_NODE: &str = "/zookeeper/config";
/// `Quotas.procZookeeper`.
pub const PROC_NODE: &str = "/zookeeper";

/// What applying one txn did: its result and the watch triggers, in Java's firing order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyOutcome {
    pub result: TxnResult,
    /// `(path, event)`; a `NodeDeleted` stands for both the data and child watches of
    /// that path, the watch manager picks the tables from the event type.
    pub events: Vec<(String, EventType)>,
}

/// `DataTree.ProcessTxnResult` as the reply builder needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnResult {
    /// Any create (1, 15, 19, 21); `stat` is the new node's client view.
    Created {
        path: String,
        stat: Stat,
    },
    Deleted,
    SetData {
        stat: Stat,
    },
    SetAcl {
        stat: Stat,
    },
    Checked,
    SessionCreated,
    SessionClosed,
    /// An `ErrorTxn`, or a txn that could not be applied (replay of a fuzzy snapshot).
    Error(ErrorCode),
    Multi(Vec<TxnResult>),
}

impl TxnResult {
    /// The `err` Java reports: the first failing sub-result for a multi.
    pub fn err(&self) -> ErrorCode {
        match self {
            TxnResult::Error(code) => *code,
            TxnResult::Multi(subs) => subs
                .iter()
                .map(TxnResult::err)
                .find(|e| !e.is_ok())
                .unwrap_or(ErrorCode::Ok),
            _ => ErrorCode::Ok,
        }
    }
}

#[derive(Clone, Debug)]
pub struct DataTree {
    nodes: Store,
    acls: AclCache,
    /// Session → its ephemeral paths. A session stays listed (maybe empty) after its
    /// nodes are deleted one by one, until closeSession removes it, as in Java.
    ephemerals: BTreeMap<i64, BTreeSet<String>>,
    containers: BTreeSet<String>,
    ttls: BTreeSet<String>,
    quotas: QuotaTrie,
    /// `nodeDataSize`: maintained incrementally; quota stat rewrites do not touch it.
    data_size: i64,
    /// `zookeeper.extendedTypesEnabled`: whether `0xFF…` owners mean TTL nodes.
    extended_types: bool,
    last_processed_zxid: i64,
    /// `lastProcessedZxidDigest`.
    last_zxid_digest: Option<(i64, i64)>,
    /// `digestFromLoadedSnapshot`.
    pending_digest: Option<digest_check::PendingDigest>,
    digest_mismatches: u64,
}

impl Default for DataTree {
    fn default() -> Self {
        DataTree::new()
    }
}

impl DataTree {
    /// The fresh database, with extended types (TTL) off as Java's default.
    pub fn new() -> DataTree {
        DataTree::with_extended_types(false)
    }

    /// The fresh database: `/`, `/zookeeper`, `/zookeeper/quota` (open ACL, ref -1,
    /// stat all zero) and `/zookeeper/config` (READ_ACL_UNSAFE, aversion -1).
    pub fn with_extended_types(extended_types: bool) -> DataTree {
        let mut tree = DataTree::empty(extended_types);
        let stat = StatPersisted::default();
        let empty = Some(&b""[..]);
        tree.nodes.insert_root(empty, OPEN_ACL_REF, &stat);
        let proc_node = tree
            .nodes
            .insert(ROOT, PROC_NODE, "zookeeper", empty, OPEN_ACL_REF, &stat);
        if let Some(proc_node) = proc_node {
            tree.nodes.insert(
                proc_node,
                QUOTA_ZOOKEEPER,
                "quota",
                empty,
                OPEN_ACL_REF,
                &stat,
            );
            tree.nodes
                .insert(proc_node, CONFIG_NODE, "config", empty, OPEN_ACL_REF, &stat);
        }
        // `addConfigNode` goes through `setACL(…, -1)`: this is what makes aversion -1.
        let key = tree.acls.intern(&Acl::read_unsafe());
        if let Some(config) = tree.nodes.lookup(CONFIG_NODE) {
            tree.nodes.update(config, CONFIG_NODE, |stat, acl| {
                stat.aversion = -1;
                *acl = key;
            });
        }
        tree.data_size = tree.computed_data_size();
        tree
    }

    /// A tree with no nodes at all, the starting point of a snapshot load.
    fn empty(extended_types: bool) -> DataTree {
        DataTree {
            nodes: Store::default(),
            acls: AclCache::default(),
            ephemerals: BTreeMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            quotas: QuotaTrie::default(),
            data_size: 0,
            extended_types,
            last_processed_zxid: 0,
            last_zxid_digest: None,
            pending_digest: None,
            digest_mismatches: 0,
        }
    }

    pub fn extended_types(&self) -> bool {
        self.extended_types
    }

    /// The highest zxid applied (`lastProcessedZxid`), 0 for a fresh tree.
    pub fn last_processed_zxid(&self) -> i64 {
        self.last_processed_zxid
    }

    /// Sets the last processed zxid, e.g. from a snapshot's file name after loading.
    pub fn set_last_processed_zxid(&mut self, zxid: i64) {
        self.last_processed_zxid = zxid;
    }

    /// The tree digest (`getTreeDigest`), kept up to date on every change.
    pub fn digest(&self) -> i64 {
        self.nodes.digest()
    }

    /// The interned ACL lists: what a snapshot's ACL map holds.
    pub fn acl_cache(&self) -> &AclCache {
        &self.acls
    }
}
