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
