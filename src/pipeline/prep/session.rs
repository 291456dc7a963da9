//! closeSession: the txn that deletes a session's ephemerals
//! (the `OpCode.closeSession` case of `PrepRequestProcessor.pRequest2Txn`).

use std::collections::BTreeSet;

use super::{Cursor, Step};
use crate::pipeline::path::parent_for_delete;
use crate::proto::Txn;

impl Cursor<'_> {
    /// The session's committed ephemerals, minus those a pending change deletes, plus
    /// those a pending create gives it (scanned in pending order, as Java does). Each
    /// parent's pending record gets the new pzxid but, as in Java, keeps its child
    /// count. Paths are listed sorted (Java lists them in `HashSet` order).
    pub(super) fn close_session(&mut self) -> Step<Txn> {
        let session = self.ctx.session;
        let mut doomed: BTreeSet<String> = self.view.ephemerals(session).into_iter().collect();
        for change in self.pending.changes() {
            match &change.node {
                None => {
                    doomed.remove(&change.path);
                }
                Some(n) if n.stat.ephemeral_owner == session => {
                    doomed.insert(change.path.clone());
                }
                Some(_) => {}
            }
        }
        for path in &doomed {
            let parent = parent_for_delete(path)?;
            let mut parent_rec = self.record(parent)?;
            parent_rec.stat.pzxid = self.ctx.zxid;
            self.record_change(parent, Some(parent_rec));
            self.record_change(path, None);
        }
        Ok(Txn::CloseSession(Some(doomed.into_iter().collect())))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::*;
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
        assert_eq!(
            txn,
            Txn::CloseSession(Some(vec!["/a/e0".into(), "/a/e2".into()]))
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
}
