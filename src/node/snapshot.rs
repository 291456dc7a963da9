//! Fuzzy snapshots taken a slice at a time (`ZooKeeperServer.takeSnapshot` →
//! `DataTree.serialize`, which Java also runs while transactions keep applying).
//!
//! Copying a large tree, or walking it in one go, would pause every client for as long
//! as it takes. Instead the driver asks for small slices between batches of requests
//! (and continuously while idle): each slice encodes the next nodes in key order, a
//! parent always before its children.
//!
//! The result is fuzzy, as Apache ZooKeeper's is: recovery replays the log from the
//! snapshot's zxid + 1 and tolerates creates of nodes already there and deletes of nodes
//! already gone. One rule keeps the file loadable by Java, whose loader refuses a node
//! whose parent it has not seen: a node created after the snapshot began (czxid above
//! the snapshot's zxid) is left out. Its create is in the log after that zxid, so replay
//! restores it; and every node that is written existed, with its parent, from the start
//! of the snapshot until it was written, so the parent was written before it.

use super::core::Core;
use crate::proto::Acl;
use crate::storage::snapshot::format::encode_node;
use std::collections::BTreeSet;
use tracing::warn;

/// A snapshot being taken.
#[derive(Debug)]
pub struct FuzzySnapshot {
    /// The last applied zxid when it began: the file's name and the replay point.
    zxid: i64,
    /// The map key of the last node encoded.
    cursor: Option<String>,
    /// ACL references already handed out with a slice.
    acls_sent: BTreeSet<i64>,
}

/// The next part of a snapshot, for the writer.
#[derive(Debug, PartialEq, Eq)]
pub struct SnapshotSlice {
    pub zxid: i64,
    /// Set on the first slice: the writer starts a new file with it, and drops a
    /// snapshot it never saw the start of (the core abandons a snapshot when a role
    /// ends, and a new log's writer may get the rest of one the old writer began).
    pub start: bool,
    /// Encoded node records, in order.
    pub nodes: Vec<u8>,
    /// ACL lists first referenced by these nodes (the file's ACL map is their union).
    pub acls: Vec<(i64, Vec<Acl>)>,
    /// Set on the last slice.
    pub end: Option<SnapshotEnd>,
}

/// What the end of the file records, as of the last slice.
#[derive(Debug, PartialEq, Eq)]
pub struct SnapshotEnd {
    pub sessions: Vec<(i64, i32)>,
    /// The digest trailer: the tree digest and the zxid it belongs to.
    pub digest: Option<(i64, i64)>,
}

impl Core {
    /// Starts a snapshot at the last applied zxid; false (and nothing started) when one
    /// is still being taken ("too busy to snap", as Java says).
    pub fn begin_snapshot(&mut self) -> bool {
        if self.snapshot.is_some() {
            warn!("too busy to snap, skipping");
            return false;
        }
        self.snapshot = Some(FuzzySnapshot {
            zxid: self.last_applied_zxid,
            cursor: None,
            acls_sent: BTreeSet::new(),
        });
        true
    }

    pub fn snapshotting(&self) -> bool {
        self.snapshot.is_some()
    }

    /// Encodes up to `max_nodes` more nodes; `None` when no snapshot is being taken.
    pub fn snapshot_slice(&mut self, max_nodes: usize) -> Option<SnapshotSlice> {
        let mut snap = self.snapshot.take()?;
        let start = snap.cursor.is_none();
        let mut slice = SnapshotSlice {
            zxid: snap.zxid,
            start,
            nodes: Vec::new(),
            acls: Vec::new(),
            end: None,
        };
        let batch = self.tree.nodes_after(snap.cursor.as_deref(), max_nodes);
        let finished = batch.len() < max_nodes;
        for (key, node) in &batch {
            if node.stat().czxid > snap.zxid {
                continue;
            }
            let acl = node.acl_ref();
            if snap.acls_sent.insert(acl) {
                if let Some(list) = self.tree.acl_cache().get(acl) {
                    slice.acls.push((acl, list));
                }
            }
            let path = if *key == "/" { "" } else { key };
            encode_node(&mut slice.nodes, path, node.data(), acl, node.stat());
        }
        snap.cursor = batch.last().map(|(k, _)| k.to_string()).or(snap.cursor);
        if finished {
            let sessions = self.sessions.iter().map(|(id, t)| (id.0, t)).collect();
            slice.end = Some(SnapshotEnd {
                sessions,
                digest: self.tree.last_zxid_digest(),
            });
        } else {
            self.snapshot = Some(snap);
        }
        Some(slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::node::{CoreConfig, Input};
    use crate::proto::{Acl, CreateRequest, Request};
    use crate::storage::snapshot::format::{Encoder, SnapshotContents, ZxidDigest};
    use crate::tree::DIGEST_VERSION;

    fn core() -> Core {
        let cfg = CoreConfig::from_config(&Config::standalone_default(), None);
        Core::new(cfg, 1_000, 0, 7)
    }

    /// Writes `n` creates through the pipeline as a session would, applied at once.
    fn create(core: &mut Core, paths: &[&str]) {
        for p in paths {
            let hdr = core.next_header(0, 0);
            let ctx = crate::pipeline::prep::RequestCtx {
                session: 0,
                cxid: 0,
                zxid: hdr.zxid,
                time: 1,
                auth: &[],
            };
            let req = Request::Create(CreateRequest {
                path: p.to_string(),
                data: Some(b"x".to_vec()),
                acl: Acl::open_unsafe(),
                flags: 0,
            });
            let txn = core.prep.prepare(&core.tree, &ctx, &req);
            core.push_txn(hdr, txn, super::super::core::Origin::Server);
            core.step(Input::Persisted { upto: hdr.zxid });
        }
    }

    fn assemble(slices: &[SnapshotSlice]) -> SnapshotContents {
        let end = slices
            .last()
            .and_then(|s| s.end.as_ref())
            .expect("finished");
        let mut e = Encoder::new();
        e.sessions(&end.sessions);
        let acls: Vec<_> = slices.iter().flat_map(|s| s.acls.iter()).collect();
        e.acl_count(acls.len());
        for (k, l) in acls {
            e.acl(*k, l);
        }
        for s in slices {
            e.raw(&s.nodes);
        }
        e.end_tree();
        let (zxid, digest) = end.digest.unwrap_or((0, 0));
        e.digest(ZxidDigest {
            zxid,
            version: DIGEST_VERSION,
            digest,
        });
        SnapshotContents::decode(&e.take()).expect("decodes")
    }

    #[test]
    fn slices_cover_the_tree_parents_first() {
        let mut c = core();
        create(&mut c, &["/a", "/a/b", "/a-b", "/z"]);
        assert!(c.begin_snapshot());
        assert!(!c.begin_snapshot(), "one at a time");
        let mut slices = Vec::new();
        while let Some(s) = c.snapshot_slice(2) {
            slices.push(s);
        }
        let snap = assemble(&slices);
        let paths: Vec<_> = snap.nodes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "",
                "/a",
                "/a/b",
                "/a-b",
                "/z",
                "/zookeeper",
                "/zookeeper/config",
                "/zookeeper/quota"
            ]
        );
        assert!(!c.snapshotting());
    }

    #[test]
    fn nodes_created_during_the_snapshot_are_left_to_the_log() {
        let mut c = core();
        create(&mut c, &["/a"]);
        assert!(c.begin_snapshot());
        let first = c.snapshot_slice(1).expect("slice");
        create(&mut c, &["/a/new", "/b", "/b/child"]);
        let mut slices = vec![first];
        while let Some(s) = c.snapshot_slice(100) {
            slices.push(s);
        }
        let snap = assemble(&slices);
        let paths: Vec<_> = snap.nodes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "",
                "/a",
                "/zookeeper",
                "/zookeeper/config",
                "/zookeeper/quota"
            ]
        );
        assert_eq!(slices.first().map(|s| s.zxid), Some(1));
    }

    #[test]
    fn a_role_that_ends_abandons_its_snapshot_and_the_next_one_starts_afresh() {
        let mut c = core();
        create(&mut c, &["/a", "/b"]);
        assert!(c.begin_snapshot());
        let first = c.snapshot_slice(2).expect("slice");
        assert!(first.start);
        assert!(c.snapshot_slice(1).is_some_and(|s| !s.start));
        assert!(c.fast_forward(std::iter::empty(), None));
        assert!(!c.snapshotting());
        assert!(c.begin_snapshot());
        let mut slices = Vec::new();
        while let Some(s) = c.snapshot_slice(3) {
            slices.push(s);
        }
        assert_eq!(
            slices.iter().map(|s| s.start).collect::<Vec<_>>(),
            vec![true, false, false]
        );
        assert_eq!(assemble(&slices).nodes.len(), 6);
    }
}
