//! The znodes, packed (`NodeHashMapImpl` + `DataNode` in Apache ZooKeeper), with the
//! tree digest kept in step.
//!
//! Nodes live in a vector indexed by a `u32` id: the two times and two zxids, versions,
//! ACL key and the offset of the name and data in the byte arena (`blobs`).
//! What only some nodes need (children, a child counter or pzxid that moved, an owner)
//! sits in a side table of extras. A path is found by walking its components through
//! the sorted child lists; no full path is stored. Every change goes through `insert`,
//! `remove_child`, `update` or `replace_data`, which subtract the node's old digest and add
//! its new one, so the tree digest is never recomputed. The CRC of a node's path and
//! data sits in its arena entry (`blobs`), so its old digest costs a CRC of the 60-byte
//! stat block, not of its data.

use super::blobs::Blobs;
use super::children::Children;
use super::digest::{AdHash, NodeDigest};
use super::node::Node;
use crate::proto::StatPersisted;

pub(super) type Id = u32;
pub(super) const ROOT: Id = 0;
const NIL: u32 = u32::MAX;
/// The blob offset of a free slot.
const FREE: u64 = u64::MAX;

#[derive(Clone, Copy, Debug)]
struct Slot {
    czxid: i64,
    mzxid: i64,
    ctime: i64,
    mtime: i64,
    blob: u64,
    /// The ACL key, packed (`pack_acl`): with it 4 bytes wide the record is 56 bytes, not 64.
    acl: u32,
    version: i32,
    aversion: i32,
    extra: u32,
}

/// Bytes per znode record (what 1M znodes cost besides their names, data and child slots).
#[cfg(test)]
pub(super) const SLOT_SIZE: usize = std::mem::size_of::<Slot>();

/// An ACL key as a slot keeps it: `key + 1`, so that `OPEN_ACL_REF` (-1) is 0. Keys are
/// handed out from 1 upwards by the ACL cache (here and in Java); `None` for one beyond
/// what 32 bits hold, which the loader refuses and the store never writes.
pub(super) fn pack_acl(key: i64) -> Option<u32> {
    u32::try_from(key.checked_add(1)?).ok()
}

fn unpack_acl(packed: u32) -> i64 {
    i64::from(packed) - 1
}

/// The fields of nodes that have (or had) children, or whose owner, child counter or
/// pzxid differ from a fresh leaf's.
#[derive(Clone, Debug, Default)]
struct Extra {
    pzxid: i64,
    owner: i64,
    cversion: i32,
    children: Children,
}

/// What the caller's bookkeeping needs of a removed node.
#[derive(Clone, Copy, Debug)]
pub(super) struct Gone {
    pub(super) data_len: Option<usize>,
    pub(super) acl: i64,
    pub(super) owner: i64,
}

/// A node removed below the one a delete named.
#[derive(Clone, Debug)]
pub(super) struct Removed {
    pub(super) path: String,
    pub(super) gone: Gone,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Store {
    slots: Vec<Slot>,
    extras: Vec<Extra>,
    free_slots: Vec<u32>,
    free_extras: Vec<u32>,
    blobs: Blobs,
    live: usize,
    hash: AdHash,
}

/// The components of an absolute path; `None` for a path not starting with `/`. The
/// root is `""` or `"/"`.
fn components(path: &str) -> Option<impl Iterator<Item = &str>> {
    let rest = match path {
        "" | "/" => None,
        _ => Some(path.strip_prefix('/')?),
    };
    Some(rest.into_iter().flat_map(|r| r.split('/')))
}

impl Store {
    fn slot(&self, id: Id) -> Option<&Slot> {
        self.slots.get(id as usize).filter(|s| s.blob != FREE)
    }

    fn extra(&self, slot: &Slot) -> Option<&Extra> {
        self.extras.get(slot.extra as usize)
    }

    pub(super) fn name(&self, id: Id) -> &[u8] {
        self.slot(id).map_or(&[][..], |s| self.blobs.name(s.blob))
    }

    /// The name as text; names come from paths, which are UTF-8.
    pub(super) fn name_str(&self, id: Id) -> &str {
        std::str::from_utf8(self.name(id)).unwrap_or_default()
    }

    pub(super) fn data(&self, id: Id) -> Option<&[u8]> {
        self.slot(id).and_then(|s| self.blobs.data(s.blob))
    }

    pub(super) fn stat(&self, id: Id) -> StatPersisted {
        let Some(s) = self.slot(id) else {
            return StatPersisted::default();
        };
        let e = self.extra(s);
        StatPersisted {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: e.map_or(0, |e| e.cversion),
            aversion: s.aversion,
            ephemeral_owner: e.map_or(0, |e| e.owner),
            pzxid: e.map_or(s.czxid, |e| e.pzxid),
        }
    }

    pub(super) fn acl(&self, id: Id) -> i64 {
        self.slot(id).map_or(0, |s| unpack_acl(s.acl))
    }

    pub(super) fn children(&self, id: Id) -> Option<&Children> {
        self.slot(id)
            .and_then(|s| self.extra(s))
            .map(|e| &e.children)
    }

    pub(super) fn num_children(&self, id: Id) -> usize {
        self.children(id).map_or(0, Children::len)
    }

    /// Child ids in name order.
    pub(super) fn child_ids(&self, id: Id) -> impl DoubleEndedIterator<Item = Id> + '_ {
        self.children(id).into_iter().flat_map(Children::ids)
    }

    pub(super) fn view(&self, id: Id) -> Option<Node<'_>> {
        let s = self.slot(id)?;
        Some(Node {
            data: self.blobs.data(s.blob),
            acl: unpack_acl(s.acl),
            stat: self.stat(id),
            num_children: self.num_children(id),
        })
    }

    /// `Ok(position)` of the child `name` of `parent`, `Err(insert position)`.
    pub(super) fn search_child(&self, parent: Id, name: &[u8]) -> Result<usize, usize> {
        match self.children(parent) {
            Some(c) => c.search(name, |id| self.name(id)),
            None => Err(0),
        }
    }

    pub(super) fn child(&self, parent: Id, name: &str) -> Option<Id> {
        let pos = self.search_child(parent, name.as_bytes()).ok()?;
        self.children(parent)?.get(pos)
    }

    pub(super) fn lookup(&self, path: &str) -> Option<Id> {
        self.slot(ROOT)?;
        components(path)?.try_fold(ROOT, |id, c| self.child(id, c))
    }

    pub(super) fn get(&self, path: &str) -> Option<Node<'_>> {
        self.view(self.lookup(path)?)
    }

    /// The node's digest, from the CRC of its path and data kept with them.
    pub(super) fn node_digest(&self, id: Id, path: &str) -> Option<NodeDigest> {
        let prefix = self.blobs.prefix(self.slot(id)?.blob);
        Some(NodeDigest::with_stat(path, prefix, &self.stat(id)))
    }

    fn digest_of(&self, id: Id, path: &str) -> u32 {
        self.node_digest(id, path).map_or(0, |d| d.value)
    }

    fn new_extra(&mut self) -> u32 {
        match self.free_extras.pop() {
            Some(i) => i,
            None => {
                self.extras.push(Extra::default());
                (self.extras.len() - 1) as u32
            }
        }
    }

    /// The node's extra, created (holding the leaf defaults) when missing.
    fn extra_mut(&mut self, id: Id) -> Option<&mut Extra> {
        let slot = self.slot(id)?;
        if slot.extra == NIL {
            let czxid = slot.czxid;
            let e = self.new_extra();
            self.extras[e as usize] = Extra {
                pzxid: czxid,
                ..Extra::default()
            };
            self.slots[id as usize].extra = e;
        }
        let e = self.slots.get(id as usize)?.extra;
        self.extras.get_mut(e as usize)
    }

    fn write_stat(&mut self, id: Id, st: &StatPersisted) {
        let Some(slot) = self.slots.get_mut(id as usize) else {
            return;
        };
        slot.czxid = st.czxid;
        slot.mzxid = st.mzxid;
        slot.ctime = st.ctime;
        slot.mtime = st.mtime;
        slot.version = st.version;
        slot.aversion = st.aversion;
        let plain = st.cversion == 0 && st.ephemeral_owner == 0 && st.pzxid == st.czxid;
        if plain && slot.extra == NIL {
            return;
        }
        if let Some(e) = self.extra_mut(id) {
            e.cversion = st.cversion;
            e.owner = st.ephemeral_owner;
            e.pzxid = st.pzxid;
        }
    }

    fn alloc(&mut self, path: &str, name: &[u8], data: Option<&[u8]>, acl: i64) -> Option<Id> {
        let acl = pack_acl(acl)?;
        let prefix = NodeDigest::prefix_of(path, data);
        let blob = self.blobs.push(name, data, prefix);
        let slot = Slot {
            czxid: 0,
            mzxid: 0,
            ctime: 0,
            mtime: 0,
            acl,
            blob,
            version: 0,
            aversion: 0,
            extra: NIL,
        };
        let id = match self.free_slots.pop() {
            Some(id) => {
                *self.slots.get_mut(id as usize)? = slot;
                id
            }
            None => {
                let id = u32::try_from(self.slots.len()).ok().filter(|&i| i != NIL)?;
                self.slots.push(slot);
                id
            }
        };
        self.live += 1;
        Some(id)
    }

    /// The root, when the store is empty.
    pub(super) fn insert_root(
        &mut self,
        data: Option<&[u8]>,
        acl: i64,
        stat: &StatPersisted,
    ) -> Option<Id> {
        if !self.slots.is_empty() {
            return None;
        }
        let id = self.alloc("", b"", data, acl)?;
        self.write_stat(id, stat);
        self.hash.add(self.digest_of(id, ""));
        Some(id)
    }

    /// A new child `name` of `parent` at `path`; `None` when it exists already.
    pub(super) fn insert(
        &mut self,
        parent: Id,
        path: &str,
        name: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: &StatPersisted,
    ) -> Option<Id> {
        self.slot(parent)?;
        let pos = self.search_child(parent, name.as_bytes()).err()?;
        let id = self.alloc(path, name.as_bytes(), data, acl)?;
        self.write_stat(id, stat);
        self.extra_mut(parent)?.children.insert_at(pos, id);
        self.hash.add(self.digest_of(id, path));
        Some(id)
    }

    /// Snapshot loading: `name` sorts after every present child of `parent` (as in
    /// snapshots rzk writes), or is placed by search otherwise.
    pub(super) fn insert_loaded(
        &mut self,
        parent: Id,
        path: &str,
        name: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: &StatPersisted,
    ) -> Option<Id> {
        let last = self
            .children(parent)
            .and_then(|c| c.get(c.len().wrapping_sub(1)));
        if last.is_some_and(|l| self.name(l) >= name.as_bytes()) {
            return self.insert(parent, path, name, data, acl, stat);
        }
        self.slot(parent)?;
        let id = self.alloc(path, name.as_bytes(), data, acl)?;
        self.write_stat(id, stat);
        self.extra_mut(parent)?.children.push_last(id);
        self.hash.add(self.digest_of(id, path));
        Some(id)
    }

    /// Removes the child `name` of `parent`, at `path`, and whatever is below it (only
    /// impossible txns delete a node with children): that node, and the ones below with
    /// their paths. A leaf costs no allocation.
    pub(super) fn remove_child(
        &mut self,
        parent: Id,
        path: &str,
        name: &str,
    ) -> Option<(Gone, Vec<Removed>)> {
        let pos = self.search_child(parent, name.as_bytes()).ok()?;
        let id = self.extra_mut(parent)?.children.remove_at(pos)?;
        let mut stack = Vec::new();
        self.push_children(id, path, &mut stack);
        let first = self.forget(id, path);
        let mut below = Vec::new();
        while let Some((id, path)) = stack.pop() {
            self.push_children(id, &path, &mut stack);
            let gone = self.forget(id, &path);
            below.push(Removed { path, gone });
        }
        self.maybe_compact();
        Some((first, below))
    }

    fn push_children(&self, id: Id, path: &str, stack: &mut Vec<(Id, String)>) {
        stack.extend(
            self.child_ids(id)
                .map(|c| (c, format!("{path}/{}", self.name_str(c)))),
        );
    }

    /// Takes the node out of the digest and frees it.
    fn forget(&mut self, id: Id, path: &str) -> Gone {
        self.hash.remove(self.digest_of(id, path));
        let gone = Gone {
            data_len: self.data(id).map(<[u8]>::len),
            acl: self.acl(id),
            owner: self
                .slot(id)
                .and_then(|s| self.extra(s))
                .map_or(0, |e| e.owner),
        };
        self.free(id);
        gone
    }

    fn free(&mut self, id: Id) {
        let Some(slot) = self.slots.get_mut(id as usize) else {
            return;
        };
        let (blob, extra) = (slot.blob, slot.extra);
        slot.blob = FREE;
        slot.extra = NIL;
        self.blobs.free(blob);
        if let Some(e) = self.extras.get_mut(extra as usize) {
            *e = Extra::default();
            self.free_extras.push(extra);
        }
        self.free_slots.push(id);
        self.live -= 1;
    }

    /// Changes the stat and ACL key of the node `id` at `path` (`preChange` …
    /// `postChange`).
    pub(super) fn update<R>(
        &mut self,
        id: Id,
        path: &str,
        f: impl FnOnce(&mut StatPersisted, &mut i64) -> R,
    ) -> Option<R> {
        self.slot(id)?;
        self.hash.remove(self.digest_of(id, path));
        let mut stat = self.stat(id);
        let mut acl = self.acl(id);
        let out = f(&mut stat, &mut acl);
        self.write_stat(id, &stat);
        // A key that does not pack (never handed out) leaves the node's ACL as it was.
        if let (Some(s), Some(acl)) = (self.slots.get_mut(id as usize), pack_acl(acl)) {
            s.acl = acl;
        }
        self.hash.add(self.digest_of(id, path));
        Some(out)
    }

    /// Replaces the data of the node `id` at `path`, and its stat through `f`.
    pub(super) fn replace_data<R>(
        &mut self,
        id: Id,
        path: &str,
        data: Option<&[u8]>,
        f: impl FnOnce(&mut StatPersisted) -> R,
    ) -> Option<R> {
        let blob = self.slot(id)?.blob;
        self.hash.remove(self.digest_of(id, path));
        let mut stat = self.stat(id);
        let out = f(&mut stat);
        self.write_stat(id, &stat);
        let new = self
            .blobs
            .replace_data(blob, data, NodeDigest::prefix_of(path, data));
        if let Some(s) = self.slots.get_mut(id as usize) {
            s.blob = new;
        }
        self.hash.add(self.digest_of(id, path));
        self.maybe_compact();
        Some(out)
    }

    fn maybe_compact(&mut self) {
        if self.blobs.wants_compaction() {
            self.blobs.compact(
                self.slots
                    .iter_mut()
                    .filter(|s| s.blob != FREE)
                    .map(|s| &mut s.blob),
            );
        }
    }

    /// Returns spare capacity after a load.
    pub(super) fn shrink_to_fit(&mut self) {
        self.slots.shrink_to_fit();
        self.extras.shrink_to_fit();
        self.blobs.shrink_to_fit();
    }

    pub(super) fn digest(&self) -> i64 {
        self.hash.value()
    }

    pub(super) fn len(&self) -> usize {
        self.live
    }
}
