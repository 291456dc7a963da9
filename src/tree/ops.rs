//! The node operations transactions are made of (`DataTree.createNode`, `deleteNode`,
//! `setData`, `setACL`, `killSession`), with their effects on the parent, the ACL
//! cache, the ephemeral/container/TTL indexes, quotas, the data size and the digest.

use std::mem;

use crate::proto::{Acl, ErrorCode, EventType, NodeKind, Stat, StatPersisted, TxnHeader};

use super::node::Node;
use super::DataTree;

pub(super) type Events = Vec<(String, EventType)>;

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
fn watch_path(parent: &str) -> String {
    if parent.is_empty() {
        "/".to_string()
    } else {
        parent.to_string()
    }
}

pub(super) fn data_len(data: &Option<Vec<u8>>) -> i64 {
    data.as_ref().map_or(0, |d| d.len() as i64)
}

/// `DataTree.getNodeSize`: Java counts the path in UTF-16 units.
pub(super) fn node_size(path: &str, data: &Option<Vec<u8>>) -> i64 {
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
        if self.nodes.get(parent).is_none() {
            return Err(ErrorCode::NoNode);
        }
        // Java interns the ACL before the existence check, so a NodeExists replay
        // leaves one more use counted (`createNode`).
        let acl = self.acls.intern(new.acl);
        if self
            .nodes
            .get(parent)
            .is_some_and(|p| p.children.contains(child))
        {
            return Err(ErrorCode::NodeExists);
        }
        self.link_child(parent, child, new.parent_cversion, zxid);
        let node = Node::new(new.data.clone(), acl, new_stat(zxid, time, new.owner));
        let stat = node.client_stat(self.extended_types);
        self.data_size += node_size(new.path, new.data);
        self.nodes.insert(new.path, node);
        self.index_owner(new.path, new.owner);
        self.quota_after_create(new.path, parent, child, data_len(new.data));
        events.push((new.path.to_string(), EventType::NodeCreated));
        events.push((watch_path(parent), EventType::NodeChildrenChanged));
        Ok(stat)
    }

    /// Adds `child` under `parent`, moving the parent's stored cversion to
    /// `parent_cversion` (-1: current + 1) and its pzxid to `zxid`, but only forward:
    /// replays over a fuzzy snapshot must not move the counter back.
    fn link_child(&mut self, parent: &str, child: &str, parent_cversion: i32, zxid: i64) {
        self.nodes.update(parent, |p| {
            let current = p.stat.cversion;
            let cversion = if parent_cversion == -1 {
                current.wrapping_add(1)
            } else {
                parent_cversion
            };
            if cversion > current {
                p.stat.cversion = cversion;
                p.stat.pzxid = zxid;
            }
            p.children.insert(child.to_string());
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
        self.nodes
            .update(parent, |p| {
                p.children.remove(child);
                if zxid > p.stat.pzxid {
                    p.stat.pzxid = zxid;
                }
            })
            .ok_or(ErrorCode::NoNode)?;
        let node = self.nodes.remove(path).ok_or(ErrorCode::NoNode)?;
        self.acls.remove_usage(node.acl);
        self.data_size -= node_size(path, &node.data);
        self.unindex_owner(path, node.stat.ephemeral_owner);
        self.quota_after_delete(path, parent, child, data_len(&node.data));
        events.push((path.to_string(), EventType::NodeDeleted));
        events.push((watch_path(parent), EventType::NodeChildrenChanged));
        Ok(())
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
        let extended = self.extended_types;
        let (last, stat) = self
            .nodes
            .update(path, |n| {
                let last = mem::replace(&mut n.data, data.clone());
                n.stat.mtime = hdr.time;
                n.stat.mzxid = hdr.zxid;
                n.stat.version = version;
                (last, n.client_stat(extended))
            })
            .ok_or(ErrorCode::NoNode)?;
        if let Some(prefix) = self.quotas.max_prefix(path) {
            self.update_quota_stat(&prefix, data_len(data) - data_len(&last), 0);
        }
        self.data_size += node_size(path, data) - node_size(path, &last);
        events.push((path.to_string(), EventType::NodeDataChanged));
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
        let old = self.nodes.get(path).ok_or(ErrorCode::NoNode)?.acl;
        self.acls.remove_usage(old);
        let key = self.acls.intern(acl);
        let extended = self.extended_types;
        self.nodes
            .update(path, |n| {
                n.stat.aversion = version;
                n.acl = key;
                n.client_stat(extended)
            })
            .ok_or(ErrorCode::NoNode)
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
