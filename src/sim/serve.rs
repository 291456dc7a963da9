//! The client-facing side of a simulated server: sessions connected to it, requests
//! submitted through Zab (a learner forwards, the leader queues and proposes), replies
//! when the txn is delivered here or the `sync` comes back, and reads from the local
//! data. Stands in for `FollowerRequestProcessor`, `PrepRequestProcessor`,
//! `CommitProcessor` and `FinalRequestProcessor`, reduced to their ordering rules.

use super::checker::linearizable::Outcome;
use super::model::{self, Req, SESSION_BASE};
use super::node::{Queued, SessionConn};
use super::world::World;
use crate::proto::quorum::ForwardedRequest;
use crate::proto::{ErrorCode, OpCode, ServerId, Txn, TxnEntry, TxnHeader};
use crate::zab::{Action, Input, Origin, Zab};

/// What the client learns from the txn its write became (`FinalRequestProcessor`).
pub fn outcome_of(txn: &Txn) -> Outcome {
    match txn {
        Txn::Error(code) => Outcome::Failed(*code),
        Txn::SetData(t) => Outcome::Written { version: t.version },
        _ => Outcome::Done,
    }
}

impl World {
    /// A client opens a connection to `sid` for `session`; false if it is refused.
    pub(super) fn accept(
        &mut self,
        sid: ServerId,
        session: i64,
        client: usize,
        ready: bool,
    ) -> bool {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return false;
        };
        if !n.accepts_clients() {
            return false;
        }
        n.next_conn += 1;
        n.conns.insert(
            session,
            SessionConn {
                id: n.next_conn,
                client,
                ready,
                queue: Default::default(),
            },
        );
        true
    }

    /// Asks the leader whether a moved session is still valid (`Learner.validateSession`).
    pub(super) fn revalidate(&mut self, sid: ServerId, session: i64) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        if n.is_established_leader() {
            let valid = n
                .prep
                .as_ref()
                .unwrap_or(&n.tree)
                .sessions
                .contains(&session);
            if valid {
                n.owners.insert(session, sid);
            }
            return self.revalidated(sid, session, valid);
        }
        let input = Input::Revalidate {
            session: crate::proto::SessionId(session),
            timeout_ms: 4000,
        };
        let out = self.step_zab(sid, input);
        self.exec(sid, out);
    }

    pub(super) fn revalidated(&mut self, sid: ServerId, session: i64, valid: bool) {
        let Some(c) = self
            .nodes
            .get_mut(&sid)
            .and_then(|n| n.conns.get_mut(&session))
        else {
            return;
        };
        let client = c.client;
        c.ready = valid;
        if !valid {
            self.drop_conn(sid, session);
        }
        self.client_ready(client, valid);
    }

    /// A request on an open connection: writes and syncs go through Zab now, reads wait
    /// behind them.
    pub(super) fn submit(&mut self, sid: ServerId, session: i64, cxid: i32, req: Req) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        let Some(c) = n.conns.get_mut(&session) else {
            return;
        };
        c.queue.push_back((cxid, req.clone()));
        let id = c.id;
        if req.is_read() {
            return self.drain(sid, session);
        }
        let fwd = req.forwarded(session, cxid);
        let leader = n.is_established_leader();
        if req == Req::Sync {
            n.syncs.push_back((session, id));
        }
        let input = match (leader, &req) {
            (true, Req::Sync) => {
                n.backlog.push_back(Queued::Sync(Origin::Local));
                None
            }
            (true, _) => {
                n.backlog.push_back(Queued::Write {
                    from: sid,
                    req: fwd,
                });
                None
            }
            (false, _) => Some(Input::Forward(fwd)),
        };
        let out = input.map(|i| self.step_zab(sid, i)).unwrap_or_default();
        self.exec(sid, out);
    }

    /// Answers the reads at the head of a session's queue from the local data.
    fn drain(&mut self, sid: ServerId, session: i64) {
        loop {
            let Some(n) = self.nodes.get_mut(&sid) else {
                return;
            };
            let zxid = n.applied_zxid().0;
            let Some(c) = n.conns.get_mut(&session) else {
                return;
            };
            let Some((cxid, Req::Read { path })) = c.queue.front().cloned() else {
                return;
            };
            c.queue.pop_front();
            let value = n.tree.read(&path);
            self.client_reply(session, cxid, Outcome::Read(value), zxid);
        }
    }

    /// A txn delivered here: the reply to its session's oldest pending write, if that
    /// session is connected here.
    pub(super) fn reply_delivered(&mut self, sid: ServerId, h: TxnHeader, outcome: Outcome) {
        let (session, cxid) = (h.client_id, h.cxid);
        let Some(c) = self
            .nodes
            .get_mut(&sid)
            .and_then(|n| n.conns.get_mut(&session))
        else {
            return;
        };
        let Some((head, req)) = c.queue.front().cloned() else {
            return;
        };
        if cxid < head {
            return; // sent on an earlier connection of the session
        }
        if cxid > head || req == Req::Sync {
            let what = format!(
                "{sid} applied {session:#x}/{cxid} while {head} ({req:?}) was still pending"
            );
            return self.fail("session FIFO", what);
        }
        c.queue.pop_front();
        if matches!(req, Req::CreateSession) {
            c.ready = true;
        }
        self.client_reply(session, cxid, outcome, h.zxid);
        self.drain(sid, session);
    }

    /// The oldest outstanding `sync` of this server is done.
    pub(super) fn sync_done(&mut self, sid: ServerId) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        let Some((session, id)) = n.syncs.pop_front() else {
            return;
        };
        let zxid = n.applied_zxid().0;
        let Some(c) = n.conns.get_mut(&session).filter(|c| c.id == id) else {
            return;
        };
        match c.queue.front() {
            Some((cxid, Req::Sync)) => {
                let cxid = *cxid;
                c.queue.pop_front();
                self.client_reply(session, cxid, Outcome::Done, zxid);
                self.drain(sid, session);
            }
            other => {
                let what = format!("{sid}: sync of {session:#x} done while {other:?} was pending");
                self.fail("session FIFO", what);
            }
        }
    }

    /// Closes one session's connection here; its client learns of it.
    pub(super) fn drop_conn(&mut self, sid: ServerId, session: i64) {
        if let Some(c) = self
            .nodes
            .get_mut(&sid)
            .and_then(|n| n.conns.remove(&session))
        {
            self.client_lost(c.client, sid);
        }
    }

    /// The server stops serving (crash, new election): every client connection closes.
    pub(super) fn drop_conns(&mut self, sid: ServerId) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        let conns = std::mem::take(&mut n.conns);
        for c in conns.into_values() {
            self.client_lost(c.client, sid);
        }
    }

    /// Leader: the session tracker's answer to a learner's REVALIDATE; a valid session
    /// now belongs to that learner (`LearnerMaster.revalidateSession` sets the owner).
    pub(super) fn answer_revalidate(
        &mut self,
        sid: ServerId,
        from: ServerId,
        session: i64,
    ) -> Vec<Action> {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return vec![];
        };
        let valid = n
            .prep
            .as_ref()
            .unwrap_or(&n.tree)
            .sessions
            .contains(&session);
        if valid {
            n.owners.insert(session, from);
        }
        let to = from;
        let session = crate::proto::SessionId(session);
        self.step_zab(sid, Input::RevalidateAnswer { to, session, valid })
    }

    /// Leader: a learner's forwarded request joins the queue.
    pub(super) fn forwarded(&mut self, sid: ServerId, from: ServerId, req: ForwardedRequest) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        let q = if req.op == OpCode::Sync.code() {
            Queued::Sync(Origin::Learner(from))
        } else {
            Queued::Write { from, req }
        };
        n.backlog.push_back(q);
    }

    /// Leader: proposes the oldest queued request if the window has room.
    pub(super) fn pump_one(&mut self, sid: ServerId) -> Option<Vec<Action>> {
        let n = self.nodes.get_mut(&sid)?;
        let Some(Zab::Leader(l)) = &n.zab else {
            return None;
        };
        if !l.is_established() {
            return None;
        }
        let room = l.outstanding() < self.opts.max_outstanding;
        let input = match n.backlog.front()?.clone() {
            Queued::Sync(origin) => Input::SyncRequest(origin),
            Queued::Write { .. } if !room => return None,
            Queued::Write { from, req } => Input::Propose(self.prepare(sid, from, &req)?),
        };
        let n = self.nodes.get_mut(&sid)?;
        n.backlog.pop_front();
        let out = n.zab.as_mut().map(|z| z.step(input)).unwrap_or_default();
        self.prepared(sid, &out);
        Some(out)
    }

    /// The txn a queued write becomes, against the leader's pending state.
    fn prepare(
        &mut self,
        sid: ServerId,
        from: ServerId,
        req: &ForwardedRequest,
    ) -> Option<TxnEntry> {
        let s = req.session.0;
        if s < SESSION_BASE {
            return Some(self.entry_for(req));
        }
        let n = self.nodes.get_mut(&sid)?;
        let prep = n.prep.get_or_insert_with(|| n.tree.clone());
        let owner = *n.owners.entry(s).or_insert(from);
        let txn = if req.op == OpCode::CreateSession.code() {
            n.owners.insert(s, from);
            model::prep(prep, req)
        } else if owner != from && req.op != OpCode::CloseSession.code() {
            Txn::Error(ErrorCode::SessionMoved)
        } else {
            model::prep(prep, req)
        };
        let header = TxnHeader {
            client_id: s,
            cxid: req.cxid,
            zxid: 0,
            time: self.now as i64,
        };
        Some(TxnEntry {
            header,
            txn,
            digest: None,
        })
    }

    /// The proposal was accepted: the pending state moves past it.
    fn prepared(&mut self, sid: ServerId, out: &[Action]) {
        let entry = out.iter().find_map(|a| match a {
            Action::Persist { entries } => entries.first(),
            _ => None,
        });
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        if let (Some(e), Some(p)) = (entry, n.prep.as_mut()) {
            let _ = p.apply(e);
        }
    }
}
