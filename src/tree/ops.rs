//! The node operations transactions are made of (`DataTree.createNode`, `deleteNode`,
//! `setData`, `setACL`, `killSession`), with their effects on the parent, the ACL
//! cache, the ephemeral/container/TTL indexes, quotas, the data size and the digest.

use crate::proto::{Acl, ErrorCode, EventType, NodeKind, Stat, StatPersisted, TxnHeader};

use super::store::{Gone, Id};
use super::DataTree;

/// The watch triggers of one txn, in firing order. A caller with no watch registered
/// asks for none, and no path is copied for them.
pub(super) struct Events {
    pub(super) list: Vec<(String, EventType)>,
    pub(super) keep: bool,
}

impl Events {
    fn push(&mut self, path: &str, event: EventType) {
        if self.keep {
            self.list.push((path.to_string(), event));
        }
    }
}

/// A create as `createNode` takes it, whatever txn type carried it.
pub(super) struct NewNode<'a> {
    pub(super) path: &'a str,
    pub(super) data: &'a Option<Vec<u8>>,
    pub(super) acl: &'a [Acl],
    pub(super) owner: i64,
    pub(super) parent_cversion: i32,
}

/// `path` split at its last `/` into parent and child name (`""` is the root).
pub(super) fn split_path(path: &str) -> Option<(&str, &str)> {
    let idx = path.rfind('/')?;
    Some((&path[..idx], &path[idx + 1..]))
}

/// Watches name the root `/`, where a parent computed from a child path is `""`.
fn watch_path(parent: &str) -> &str {
    if parent.is_empty() {
        "/"
    } else {
        parent
    }
}

pub(super) fn data_len(data: Option<&[u8]>) -> i64 {
    data.map_or(0, |d| d.len() as i64)
}

/// `DataTree.getNodeSize`: Java counts the path in UTF-16 units.
pub(super) fn node_size(path: &str, data: Option<&[u8]>) -> i64 {
    path.encode_utf16().count() as i64 + data_len(data)
}

/// `DataTree.createStat`.
fn new_stat(zxid: i64, time: i64, owner: i64) -> StatPersisted {
    StatPersisted {
        czxid: zxid,
        mzxid: zxid,
        ctime: time,
        mtime: time,
        ephemeral_owner: owner,
        pzxid: zxid,
        ..Default::default()
    }
}

impl DataTree {
    /// `createNode`. Paths ending in `/` (empty child name) are refused without effect;
    /// request validation never lets them through.
    pub(super) fn create_node(
        &mut self,
        new: &NewNode<'_>,
        zxid: i64,
        time: i64,
        events: &mut Events,
    ) -> Result<Stat, ErrorCode> {
        let (parent, child) = split_path(new.path).ok_or(ErrorCode::NoNode)?;
        if child.is_empty() {
            return Err(ErrorCode::BadArguments);
        }
        let parent_id = self.nodes.lookup(parent).ok_or(ErrorCode::NoNode)?;
        // Java interns the ACL before the existence check, so a NodeExists replay
        // leaves one more use counted (`createNode`).
        let acl = self.acls.intern(new.acl);
        let data = new.data.as_deref();
        let stat = new_stat(zxid, time, new.owner);
        // `None`: the child exists, and nothing changed.
        let id = self
            .nodes
            .insert(parent_id, new.path, child, data, acl, &stat)
            .ok_or(ErrorCode::NodeExists)?;
        self.link_child(parent_id, parent, new.parent_cversion, zxid);
        let view = self.nodes.view(id).ok_or(ErrorCode::NoNode)?;
        let client = view.client_stat(self.extended_types);
        self.data_size += node_size(new.path, data);
        self.index_owner(new.path, new.owner);
        self.quota_after_create(new.path, parent, child, data_len(data));
        events.push(new.path, EventType::NodeCreated);
        events.push(watch_path(parent), EventType::NodeChildrenChanged);
        Ok(client)
    }

    /// Moves the parent's stored cversion to `parent_cversion` (-1: current + 1) and its
    /// pzxid to `zxid`, but only forward: replays over a fuzzy snapshot must not move the
    /// counter back.
    fn link_child(&mut self, parent: Id, parent_path: &str, parent_cversion: i32, zxid: i64) {
        self.nodes.update(parent, parent_path, |stat, _| {
            let current = stat.cversion;
            let cversion = if parent_cversion == -1 {
                current.wrapping_add(1)
            } else {
                parent_cversion
            };
            if cversion > current {
                stat.cversion = cversion;
                stat.pzxid = zxid;
            }
        });
    }

    pub(super) fn index_owner(&mut self, path: &str, owner: i64) {
        match NodeKind::from_owner(owner, self.extended_types) {
            NodeKind::Persistent => {}
            NodeKind::Container => {
                self.containers.insert(path.to_string());
            }
            NodeKind::Ttl(_) => {
                self.ttls.insert(path.to_string());
            }
            NodeKind::Ephemeral(session) => {
                self.ephemerals
                    .entry(session)
                    .or_default()
                    .insert(path.to_string());
            }
        }
    }

    fn unindex_owner(&mut self, path: &str, owner: i64) {
        match NodeKind::from_owner(owner, self.extended_types) {
            NodeKind::Persistent => {}
            NodeKind::Container => {
                self.containers.remove(path);
            }
            NodeKind::Ttl(_) => {
                self.ttls.remove(path);
            }
            NodeKind::Ephemeral(session) => {
                if let Some(paths) = self.ephemerals.get_mut(&session) {
                    paths.remove(path);
                }
            }
        }
    }

    /// `deleteNode`. The parent's pzxid moves forward before the node is looked up, so
    /// a replayed delete of a node already gone still changes the parent (Java does the
    /// same). The parent's stored cversion is not touched. Deleting `/` is refused.
    pub(super) fn delete_node(
        &mut self,
        path: &str,
        zxid: i64,
        events: &mut Events,
    ) -> Result<(), ErrorCode> {
        let (parent, child) = split_path(path).ok_or(ErrorCode::NoNode)?;
        if child.is_empty() {
            return Err(ErrorCode::BadArguments);
        }
        let parent_id = self.nodes.lookup(parent).ok_or(ErrorCode::NoNode)?;
        self.nodes.update(parent_id, parent, |stat, _| {
            if zxid > stat.pzxid {
                stat.pzxid = zxid;
            }
        });
        let (first, below) = self
            .nodes
            .remove_child(parent_id, path, child)
            .ok_or(ErrorCode::NoNode)?;
        let bytes = first.data_len.map_or(0, |l| l as i64);
        self.forget_removed(path, first);
        for r in below {
            self.forget_removed(&r.path, r.gone);
        }
        self.quota_after_delete(path, parent, child, bytes);
        events.push(path, EventType::NodeDeleted);
        events.push(watch_path(parent), EventType::NodeChildrenChanged);
        Ok(())
    }

    fn forget_removed(&mut self, path: &str, gone: Gone) {
        self.acls.remove_usage(gone.acl);
        self.data_size -= node_size(path, None) + gone.data_len.map_or(0, |l| l as i64);
        self.unindex_owner(path, gone.owner);
    }

    /// `setData`; `version` is the new version from the txn.
    pub(super) fn set_data(
        &mut self,
        path: &str,
        data: &Option<Vec<u8>>,
        version: i32,
        hdr: &TxnHeader,
        events: &mut Events,
    ) -> Result<Stat, ErrorCode> {
        let id = self.nodes.lookup(path).ok_or(ErrorCode::NoNode)?;
        let last = data_len(self.nodes.data(id));
        let data = data.as_deref();
        self.nodes.replace_data(id, path, data, |stat| {
            stat.mtime = hdr.time;
            stat.mzxid = hdr.zxid;
            stat.version = version;
        });
        let stat = self
            .nodes
            .view(id)
            .ok_or(ErrorCode::NoNode)?
            .client_stat(self.extended_types);
        if let Some(prefix) = self.quotas.max_prefix(path) {
            self.update_quota_stat(&prefix, data_len(data) - last, 0);
        }
        self.data_size += data_len(data) - last;
        events.push(path, EventType::NodeDataChanged);
        Ok(stat)
    }

    /// `setACL`: the old list loses a use before the new one is interned, so setting the
    /// same list on its only node allocates a fresh key, as in Java.
    pub(super) fn set_acl(
        &mut self,
        path: &str,
        acl: &[Acl],
        version: i32,
    ) -> Result<Stat, ErrorCode> {
        let id = self.nodes.lookup(path).ok_or(ErrorCode::NoNode)?;
        self.acls.remove_usage(self.nodes.acl(id));
        let key = self.acls.intern(acl);
        self.nodes.update(id, path, |stat, node_acl| {
            stat.aversion = version;
            *node_acl = key;
        });
        Ok(self
            .nodes
            .view(id)
            .ok_or(ErrorCode::NoNode)?
            .client_stat(self.extended_types))
    }

    /// `killSession`: deletes the paths the txn lists, in order, then whatever else the
    /// session still owns. Missing nodes are skipped.
    pub(super) fn kill_session(
        &mut self,
        session: i64,
        zxid: i64,
        listed: Option<&[String]>,
        events: &mut Events,
    ) {
        let owned = self.ephemerals.remove(&session);
        for path in listed.unwrap_or_default() {
            let _ = self.delete_node(path, zxid, events);
        }
        let Some(mut owned) = owned else { return };
        for path in listed.unwrap_or_default() {
            owned.remove(path);
        }
        for path in owned {
            let _ = self.delete_node(&path, zxid, events);
        }
    }
}
