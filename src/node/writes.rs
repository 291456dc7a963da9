//! The write path: prepare (`PrepRequestProcessor`), hand to persistence
//! (`SyncRequestProcessor`), apply in zxid order and answer (`FinalRequestProcessor`).

use std::sync::Arc;

use super::conn::Queued;
use super::core::{Core, InFlight, Origin};
use super::replies::{notification_frame, reply_frame, write_reply};
use super::ConnId;
use crate::pipeline::acl::check_acl;
use crate::pipeline::prep::RequestCtx;
use crate::proto::{
    perms, Acl, EventType, Request, SessionId, Txn, TxnDigest, TxnEntry, TxnHeader, WatcherEvent,
    KEEPER_STATE_SYNC_CONNECTED,
};
use crate::tree::TxnResult;
use crate::tree::{DataTree, DIGEST_VERSION};
use std::collections::BTreeMap;
use tracing::{error, warn};

impl Core {
    /// The header of the next transaction: the next zxid, stamped with the wall clock.
    pub(super) fn next_header(&self, client_id: i64, cxid: i32) -> TxnHeader {
        TxnHeader {
            client_id,
            cxid,
            zxid: self.last_prepared_zxid + 1,
            time: self.now_wall_ms,
        }
    }

    pub(super) fn push_txn(&mut self, header: TxnHeader, txn: Txn, origin: Origin) {
        self.last_prepared_zxid = header.zxid;
        if !matches!(origin, Origin::Request { .. }) {
            // Client requests were counted when they arrived (`handle_request`).
            self.record_prep(self.now_mono_ms, !matches!(origin, Origin::Remote));
        }
        self.record_changes();
        // `PrepRequestProcessor` stamps every txn with the digest the tree will have
        // once it is applied (`Request.setTxnDigest`).
        let digest = self.cfg.digest_enabled.then(|| TxnDigest {
            version: DIGEST_VERSION,
            tree_digest: self.prep.tree_digest(&self.tree),
        });
        let entry = Arc::new(TxnEntry {
            header,
            txn,
            digest,
        });
        if self.role == super::quorum::Role::Leading {
            if !matches!(origin, Origin::Request { .. }) {
                self.wait_connless(SessionId(header.client_id));
            }
            // One proposal per txn, in order: a sync asked for after it must find it
            // already proposed.
            self.actions
                .push(super::Action::Propose(TxnEntry::clone(&entry)));
        } else {
            self.unpersisted.push(Arc::clone(&entry));
        }
        self.inflight.push_back(InFlight {
            entry,
            origin,
            received_ms: self.now_mono_ms,
        });
        if matches!(origin, Origin::Connect { .. } | Origin::Server) {
            // Alone in its session's queue; a learner's request entered in
            // `forwarded_request`, a client's once its connection queued it.
            self.request_entered(false, Some(1));
        }
    }

    /// Prepares a client write and queues its reply slot on the connection.
    pub(super) fn submit_write(
        &mut self,
        conn: ConnId,
        xid: i32,
        session: SessionId,
        req: &mut Request,
    ) {
        if self.role.is_learner() {
            return self.forward_write(conn, xid, session, Some(req), req.op_code());
        }
        let origin = Origin::Request { conn, xid };
        if let Request::Multi(ops) = req {
            ops.iter_mut().for_each(normalize_multi_create);
        }
        if matches!(req, Request::CloseSession) {
            self.submit_close_session(session, xid, origin);
        } else {
            let me = crate::proto::ServerId(self.cfg.server_id);
            let moved = self.role == super::quorum::Role::Leading && !self.owned_by(session, me);
            let hdr = self.next_header(session.0, xid);
            // Borrowed, not cloned: the ids are only read while preparing.
            let auth: &[crate::proto::Id] =
                self.conns.get(&conn).map_or(&[], |c| c.auth.as_slice());
            let txn = if moved {
                Txn::Error(crate::proto::ErrorCode::SessionMoved)
            } else if self.sessions.is_live(session) {
                let ctx = RequestCtx {
                    session: session.0,
                    cxid: xid,
                    zxid: hdr.zxid,
                    time: hdr.time,
                    auth,
                };
                self.prep.prepare_taking(&self.tree, &ctx, req)
            } else {
                // PrepRequestProcessor checks the session after creating the header, so a
                // write on a closing session still consumes a zxid.
                Txn::Error(crate::proto::ErrorCode::SessionExpired)
            };
            self.push_txn(hdr, txn, origin);
        }
        self.enqueue(
            conn,
            Queued::Write {
                zxid: self.last_prepared_zxid,
            },
        );
    }

    /// A write whose body did not decode still becomes a transaction (an error one), as
    /// in `PrepRequestProcessor`'s catch-all.
    pub(super) fn submit_malformed_write(
        &mut self,
        conn: ConnId,
        xid: i32,
        session: SessionId,
        op: crate::proto::OpCode,
    ) {
        if self.role.is_learner() {
            // The leader fails to decode the empty body: MarshallingError, as for Java.
            return self.forward_write(conn, xid, session, None, op);
        }
        let hdr = self.next_header(session.0, xid);
        self.push_txn(
            hdr,
            Txn::Error(crate::proto::ErrorCode::MarshallingError),
            Origin::Request { conn, xid },
        );
        self.enqueue(conn, Queued::Write { zxid: hdr.zxid });
    }

    pub(super) fn handle_persisted(&mut self, upto: i64) {
        while self
            .inflight
            .front()
            .is_some_and(|f| f.entry.header.zxid <= upto)
        {
            if let Some(f) = self.inflight.pop_front() {
                self.apply_entry(f);
            }
        }
    }

    /// `DataTree.processTxn` with the txn's digest compared after it
    /// (`compareDigest`): a mismatch is counted and logged, never acted on.
    fn apply_checked(&mut self, entry: &TxnEntry) -> crate::tree::ApplyOutcome {
        // With no watch registered the triggers would notify no one and count nothing.
        let keep_events = !self.watches.is_empty();
        if !self.cfg.digest_enabled {
            return self
                .tree
                .apply_keeping(&entry.header, &entry.txn, keep_events);
        }
        let before = self.tree.digest_mismatches();
        let outcome =
            self.tree
                .apply_with_digest(&entry.header, &entry.txn, entry.digest, keep_events);
        if self.tree.digest_mismatches() > before {
            self.stats
                .recorded
                .count(super::recorded::Counter::DigestMismatchesCount, 1);
            warn!(
                "Digests are not matching on zxid 0x{:x}: logged {:?}, tree {}",
                entry.header.zxid,
                entry.digest,
                self.tree.digest()
            );
        }
        outcome
    }

    pub(super) fn apply_entry(&mut self, f: InFlight) {
        let hdr = f.entry.header;
        let mut doomed = BTreeMap::new();
        doomed_acls(
            &self.tree,
            &self.watches,
            hdr.client_id,
            &f.entry.txn,
            &mut doomed,
        );
        if !matches!(f.origin, Origin::Request { .. }) {
            self.connless_done(SessionId(hdr.client_id));
        }
        let outcome = self.apply_checked(&f.entry);
        self.stats
            .record_writes(&f.entry.txn, &outcome.result, doomed.keys());
        self.record_propagation(&hdr, &f.entry.txn, f.origin);
        // An expired session's connection is closed right after the txn applies
        // (`FinalRequestProcessor.closeSession`), dropping what was queued for it: its
        // own ephemerals' NodeDeleted events fire for it but never reach it.
        let expired_conn = match (&f.origin, &f.entry.txn) {
            (Origin::Server, Txn::CloseSession(_)) => {
                self.session_conns.get(&SessionId(hdr.client_id)).copied()
            }
            _ => None,
        };
        if let Some(conn) = expired_conn {
            self.close_keeping_watches(conn);
        }
        assert!(
            hdr.zxid > self.last_applied_zxid,
            "zxids apply in increasing order"
        );
        self.last_applied_zxid = hdr.zxid;
        self.prep.applied(hdr.zxid);
        self.record_changes();
        for (path, event) in &outcome.events {
            let (watchers, fired) = self.watches.trigger_counted(path, *event);
            // The ACL is read only when a watch fires: most writes trigger none.
            if !watchers.is_empty() {
                let acl = match (event, doomed.get(path).and_then(Option::as_ref)) {
                    (EventType::NodeDeleted, Some(acl)) => acl.clone(),
                    (_, doomed_acl) => self
                        .tree
                        .acl_and_stat(path)
                        .map(|(a, _)| a)
                        .or(doomed_acl.cloned())
                        .unwrap_or_default(),
                };
                self.notify_watchers(path, *event, watchers, &acl);
            }
            fired
                .into_iter()
                .for_each(|n| self.record_watchers(*event, n));
        }
        if let Some(conn) = expired_conn {
            self.watches.remove_watcher(conn);
        }
        match f.origin {
            Origin::Request { conn, xid } => {
                let live = self.conns.get(&conn).is_some_and(|c| !c.closing);
                if !live && !matches!(f.entry.txn, Txn::CloseSession(_) | Txn::Error(_)) {
                    self.record_stale_reply();
                }
                let (err, body) = write_reply(&f.entry.txn, &outcome.result);
                let frame = reply_frame(xid, self.last_applied_zxid, err, &body);
                self.record_reply(
                    conn,
                    xid,
                    f.entry.txn.op_code().short_name(),
                    f.received_ms,
                    true,
                );
                self.pop_write(conn, hdr.zxid, xid);
                if !unanswered(&f.entry.txn, &outcome.result) {
                    self.send(conn, frame);
                }
                if matches!(f.entry.txn, Txn::CloseSession(_)) {
                    self.close(conn);
                }
            }
            Origin::Connect { conn } => self.finish_session_init(conn, true),
            Origin::Server | Origin::Remote => {}
        }
        self.apply_session_effects(&hdr, &f.entry.txn);
        if let Origin::Request { conn, .. } = f.origin {
            self.drain_queue(conn);
        }
    }

    fn pop_write(&mut self, conn: ConnId, zxid: i64, xid: i32) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        match c.dequeue(&mut self.queued) {
            Some(Queued::Write { zxid: z }) if z == zxid => {}
            Some(Queued::Forwarded { xid: x }) if x == xid => {}
            other => error!(
                "connection {conn}: reply order broken at zxid 0x{zxid:x}: head was {other:?}"
            ),
        }
    }

    /// Tells the `watchers` a watch on `path` fired; a watcher whose connection may not
    /// READ the node (`acl`: the node's, or the parent's for NodeChildrenChanged) loses
    /// the watch without hearing of it. Debian's 3.8.0 carries this from 3.8.4 (CVE-2024-23944,
    /// `NIOServerCnxn.process(WatchedEvent, List<ACL>)`).
    fn notify_watchers(
        &mut self,
        path: &str,
        event: EventType,
        watchers: Vec<crate::watch::WatcherId>,
        acl: &[Acl],
    ) {
        let ev = WatcherEvent {
            event_type: event,
            state: KEEPER_STATE_SYNC_CONNECTED,
            path: path.to_string(),
        };
        let frame = notification_frame(&ev);
        for w in watchers {
            let ids = self.conns.get(&w).map(|c| c.auth.as_slice()).unwrap_or(&[]);
            if check_acl(acl, perms::READ, ids, self.cfg.skip_acl) {
                self.send(w, frame.clone());
            }
        }
    }

    pub(super) fn record_reply(
        &mut self,
        conn: ConnId,
        xid: i32,
        op: &'static str,
        received_ms: i64,
        update: bool,
    ) {
        let (now, zxid) = (self.now_mono_ms, self.last_applied_zxid);
        self.stats.record_request(now - received_ms, update);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.record(op, xid, zxid, received_ms, now);
            c.stats.last_response_ms = self.now_wall_ms;
        }
    }
}

/// The nodes `txn` deletes, read before it is applied, with the ACL of those a watch may
/// fire on: a NodeDeleted event is filtered by the ACL the node had
/// (`DataTree.deleteNode`). A closed session's ephemerals are all listed (their paths
/// count as writes per namespace); a deleted node nobody watches is not.
fn doomed_acls(
    tree: &DataTree,
    watches: &crate::watch::WatchManager,
    session: i64,
    txn: &Txn,
    out: &mut BTreeMap<String, Option<Vec<Acl>>>,
) {
    let mut note = |path: &str, always: bool| {
        let watched = watches.may_fire(path);
        if !watched && !always {
            return;
        }
        if let Some((acl, _)) = tree.acl_and_stat(path) {
            out.insert(path.to_string(), watched.then_some(acl));
        }
    };
    match txn {
        Txn::Delete(p) | Txn::DeleteContainer(p) => note(p, false),
        Txn::CloseSession(paths) => {
            for p in paths
                .iter()
                .flatten()
                .cloned()
                .chain(tree.ephemerals(session))
            {
                note(&p, true);
            }
        }
        Txn::Multi(subs) => {
            for sub in subs {
                doomed_acls(tree, watches, session, sub, out);
            }
        }
        _ => {}
    }
}

/// A successful check sent on its own (op 13 outside a multi) is logged but never
/// answered by 3.8.0: `FinalRequestProcessor` replies with a `SetDataResponse` whose stat
/// is null, serializing it throws, and `NIOServerCnxn.sendResponse` swallows the exception.
fn unanswered(txn: &Txn, result: &TxnResult) -> bool {
    matches!((txn, result), (Txn::Check { .. }, TxnResult::Checked))
}

/// Inside a multi, 3.8 rebuilds every create from its flags and ignores the opcode it was
/// sent with (`MultiOperationRecord` → `Op.create`): a container flag makes a
/// createContainer, anything else a plain create (so a create2 answers with the path
/// only, and logs as type 1).
fn normalize_multi_create(op: &mut Request) {
    let container = match op {
        Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => {
            r.flags == crate::proto::CreateMode::Container.flag()
        }
        _ => return,
    };
    // Moved out and back under the other opcode; the placeholder never stays.
    let taken = std::mem::replace(op, Request::CloseSession);
    if let Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) = taken {
        *op = if container {
            Request::CreateContainer(r)
        } else {
            Request::Create(r)
        };
    }
}
