//! closeSession: the txn that deletes a session's ephemerals
//! (the `OpCode.closeSession` case of `PrepRequestProcessor.pRequest2Txn`).

use super::{Cursor, NewData, Step};
use crate::pipeline::java_set::{spread_hash, JavaHashSet};
use crate::pipeline::path::{parent_for_delete, tree_key};
use crate::proto::Txn;

impl Cursor<'_> {
    /// The session's committed ephemerals, minus those a pending change deletes, plus
    /// those a pending create gives it (scanned in pending order, as Java does). Each
    /// parent's pending record gets the new pzxid but, as in Java, keeps its child
    /// count.
    pub(super) fn close_session(&mut self) -> Step<Txn> {
        let doomed = self.doomed_ephemerals();
        for path in &doomed {
            let parent = parent_for_delete(path)?;
            let mut parent_rec = self.record(parent)?;
            parent_rec.stat.pzxid = self.ctx.zxid;
            self.record_change(parent, Some(parent_rec), NewData::Same);
            self.record_change(path, None, NewData::Same);
        }
        Ok(Txn::CloseSession(Some(doomed)))
    }

    /// The paths to delete, in the order Java's `HashSet` copy would list them.
    fn doomed_ephemerals(&self) -> Vec<String> {
        let session = self.ctx.session;
        let mut set = JavaHashSet::copy_of(self.committed_in_java_order(session));
        for change in self.pending.changes() {
            match &change.node {
                None => set.remove(&change.path),
                Some(n) if n.stat.ephemeral_owner == session => set.insert(&change.path),
                Some(_) => {}
            }
        }
        set.into_iteration_order()
    }
}

impl Cursor<'_> {
    /// The session's committed ephemerals as `DataTree.ephemerals`' own `HashSet` lists
    /// them: by bucket of its table (16 until it held more than 12 paths; the current size
    /// stands in for the largest it ever had), then in insertion order, which is creation
    /// order (czxid).
    fn committed_in_java_order(&self, session: i64) -> Vec<String> {
        let paths = self.view.ephemerals(session);
        let mut capacity = 16;
        while paths.len() > capacity * 3 / 4 {
            capacity *= 2;
        }
        let mut keyed: Vec<(usize, i64, String)> = paths
            .into_iter()
            .map(|p| {
                let czxid = self.view.node(tree_key(&p)).map_or(0, |n| n.stat.czxid);
                (spread_hash(&p) & (capacity - 1), czxid, p)
            })
            .collect();
        keyed.sort();
        keyed.into_iter().map(|(_, _, p)| p).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::*;
    use crate::pipeline::java_set::JavaHashSet;
    use crate::proto::{Acl, ErrorCode, Txn};

    #[test]
    fn close_lists_committed_and_pending_ephemerals_minus_pending_deletes() {
        let mut t = tree_with_a();
        t.add("/a/e1", Acl::open_unsafe(), SESSION)
            .add("/a/e2", Acl::open_unsafe(), SESSION);
        t.add("/other", Acl::open_unsafe(), 77);
        let mut p = prep();
        p.prepare(&t, &ctx(1, &[]), &create("/a/e0", 1));
        p.prepare(&t, &ctx(2, &[]), &delete("/a/e1", -1));
        let txn = p.close_session(&t, &ctx(3, &[]));
        // JDK 17: a clone of {"/a/e1", "/a/e2"}, minus e1, plus e0, prints [/a/e2, /a/e0].
        let want = vec!["/a/e2".to_string(), "/a/e0".to_string()];
        assert_eq!(txn, Txn::CloseSession(Some(want)));
    }

    #[test]
    fn ephemerals_sharing_a_bucket_close_in_creation_order() {
        // 3.8.0: the committed set iterates by bucket, then insertion order;
        // "/a/e2" and "/a/e11" share a bucket, so the older one comes first, not the
        // smaller name.
        let mut t = tree_with_a();
        t.add("/a/e2", Acl::open_unsafe(), SESSION)
            .edit("/a/e2", |n| n.stat.czxid = 9);
        t.add("/a/e11", Acl::open_unsafe(), SESSION)
            .edit("/a/e11", |n| n.stat.czxid = 5);
        let txn = prep().close_session(&t, &ctx(10, &[]));
        assert_eq!(
            txn,
            Txn::CloseSession(Some(vec!["/a/e11".to_string(), "/a/e2".to_string()]))
        );
        t.edit("/a/e11", |n| n.stat.czxid = 11);
        let txn = prep().close_session(&t, &ctx(12, &[]));
        assert_eq!(
            txn,
            Txn::CloseSession(Some(vec!["/a/e2".to_string(), "/a/e11".to_string()]))
        );
    }

    #[test]
    fn closed_ephemerals_are_pending_deletes() {
        let mut t = tree_with_a();
        t.add("/a/e", Acl::open_unsafe(), SESSION);
        let mut p = prep();
        p.close_session(&t, &ctx(1, &[]));
        assert_eq!(
            p.prepare(&t, &ctx(2, &[]), &delete("/a/e", -1)),
            err(ErrorCode::NoNode)
        );
        // Java keeps the parent's child count: the parent still looks non-empty.
        assert_eq!(
            p.prepare(&t, &ctx(3, &[]), &delete("/a", -1)),
            err(ErrorCode::NotEmpty)
        );
        assert!(created_path(&p.prepare(&t, &ctx(4, &[]), &create("/a/e", 0))).is_some());
    }

    #[test]
    fn a_session_without_ephemerals_closes_with_an_empty_list() {
        let txn = prep().close_session(&FakeTree::fresh(), &ctx(1, &[]));
        assert_eq!(txn, Txn::CloseSession(Some(vec![])));
    }

    fn java_order(committed: &[&str], added: &[&str]) -> Vec<String> {
        let mut set = JavaHashSet::copy_of(committed.iter().map(|s| s.to_string()).collect());
        added.iter().for_each(|a| set.insert(a));
        set.into_iteration_order()
    }

    #[test]
    fn paths_come_in_java_hash_set_order() {
        // Expected orders printed by a JDK 17 HashSet clone plus adds.
        assert_eq!(
            java_order(&["/e1", "/e2", "/e3", "/a", "/zz"], &[]),
            ["/a", "/e1", "/e2", "/e3", "/zz"]
        );
        assert_eq!(
            java_order(&["/e1"], &["/b", "/c", "/d", "/zz"]),
            ["/e1", "/b", "/c", "/d", "/zz"]
        );
        let twelve: Vec<String> = (0..12).map(|i| format!("/{i}")).collect();
        let twelve: Vec<&str> = twelve.iter().map(|s| s.as_str()).collect();
        let got = java_order(&twelve, &["/x"]);
        let want = [
            "/0", "/1", "/2", "/3", "/4", "/5", "/6", "/7", "/8", "/x", "/9", "/10", "/11",
        ];
        assert_eq!(got, want);
        assert_eq!(java_order(&["/0", "/1"], &["/x"]), ["/0", "/x", "/1"]);
    }

    #[test]
    fn copy_capacity_is_sized_like_hash_map_put_map_entries() {
        let cap =
            |n: usize| JavaHashSet::copy_of((0..n).map(|i| format!("/{i}")).collect()).capacity;
        assert_eq!(
            [cap(0), cap(1), cap(2), cap(3), cap(6), cap(12), cap(13)],
            [16, 2, 4, 8, 16, 32, 32]
        );
    }
}
