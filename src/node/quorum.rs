//! The core's part in an ensemble: what changes when the server is a leader or a learner
//! instead of standalone (`LeaderZooKeeperServer`, `FollowerZooKeeperServer`,
//! `ObserverZooKeeperServer`, `LearnerSessionTracker`, `FollowerRequestProcessor`).
//!
//! * Leader: transactions are prepared as in standalone, but instead of going to the
//!   log they are proposed (`Action::Propose`, one per txn, in zxid order, so that a
//!   `sync` queued behind them sees them proposed first); they are applied when the
//!   ensemble commits them (`Input::Committed`). Requests forwarded by learners are
//!   prepared with the auth ids they carry and answered by the learner, not here.
//! * Learner: writes, session creation, closeSession and sync are forwarded to the
//!   leader (`Action::Forward`) and remembered by (session, cxid); the committed txn
//!   that carries the same pair produces the reply. A client reattaching a session is
//!   answered once the leader revalidated it. Sessions are expired by the leader only;
//!   the learner reports which local sessions were active (`take_touches`).
//! * Not serving (looking for a leader, or syncing): connections are refused, as
//!   `NIOServerCnxn` does while its `ZooKeeperServer` is not running.

use std::sync::Arc;

use super::conn::Queued;
use super::core::{Core, InFlight, Origin};
use super::recorded::{Advanced, Basic};
use super::replies::reply_frame;
use super::{Action, ConnId};
use crate::jute::Limits;
use crate::pipeline::prep::RequestCtx;
use crate::proto::codec::{decode_request, put_request_record};
use crate::proto::quorum::{ForwardedRequest, SessionTouch};
use crate::proto::{
    ErrorCode, OpCode, Request, RequestHeader, Response, ServerId, SessionId, Txn, TxnEntry,
};
use crate::zab::Origin as SyncOrigin;
use tracing::{debug, info, warn};

/// The server's place in the ensemble (`QuorumPeer.ServerState` plus standalone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Standalone,
    /// Electing, or synchronizing with a leader: no client is served.
    Looking,
    Leading,
    Following,
    Observing,
}

impl Role {
    /// The `Mode:` / `zk_server_state` name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Standalone => "standalone",
            Role::Looking => "looking",
            Role::Leading => "leader",
            Role::Following => "follower",
            Role::Observing => "observer",
        }
    }

    pub fn is_learner(self) -> bool {
        matches!(self, Role::Following | Role::Observing)
    }

    /// Whether requests pass a `CommitProcessor` (every ensemble member does).
    pub fn commits(self) -> bool {
        matches!(self, Role::Leading | Role::Following | Role::Observing)
    }
}

/// Who waits for a request forwarded to the leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Waiting {
    Request {
        conn: ConnId,
        xid: i32,
        received_ms: i64,
    },
    Connect {
        conn: ConnId,
        received_ms: i64,
    },
}

/// A commit's session as `CommitProcessor` sees it before the write is applied.
#[derive(Clone, Copy, Debug)]
struct CommitSeen {
    conn: Option<ConnId>,
    /// The length of the connection's queue, the write included.
    queue: usize,
    /// The write entered this server's commit processor (it was not another server's).
    local: bool,
}

/// A client sync waiting for the leader.
#[derive(Clone, Debug)]
pub(super) struct PendingSync {
    conn: ConnId,
    xid: i32,
    path: String,
    received_ms: i64,
}

impl Core {
    pub fn role(&self) -> Role {
        self.role
    }

    /// Takes a role. A quorum role starts not serving; `start_serving` opens the door
    /// once the leader is established (or this learner is up to date).
    pub fn set_role(&mut self, role: Role) {
        info!("role: {}", role.name());
        self.role = role;
        self.serving = role == Role::Standalone;
        // Each role starts its request processors afresh, each with its first wait.
        self.metrics.prep_waited = false;
        self.metrics.learner_waited = false;
        if role == Role::Leading || role == Role::Looking {
            self.touched.clear();
        }
    }

    /// Starts answering clients; on a leader, `last_zxid` is where its proposals
    /// continue from (`(epoch << 32)` for a fresh epoch).
    pub fn start_serving(&mut self, last_zxid: i64) {
        if self.role == Role::Leading {
            self.last_prepared_zxid = last_zxid;
            // Restored sessions get a full timeout from the moment the leader serves
            // (`LeaderSessionTracker` starts its expiry clock then).
            let ids: Vec<(SessionId, i32)> = self.sessions.iter().collect();
            for (id, t) in ids {
                self.sessions.add(id, t, self.now_mono_ms);
            }
        }
        self.serving = true;
        info!(
            "serving clients as {} from zxid 0x{:x}",
            self.role.name(),
            self.last_applied_zxid
        );
    }

    pub fn is_serving(&self) -> bool {
        self.serving
    }

    /// Ends the role: every client connection is closed (clients reconnect to another
    /// server and keep their sessions), and what waited on the ensemble is dropped.
    pub fn stop_serving(&mut self) {
        self.serving = false;
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for c in conns {
            self.close(c);
        }
        self.forwarded.clear();
        self.connless_waiting.clear();
        self.revalidating.clear();
        self.syncs.clear();
        self.touched.clear();
        self.owners.clear();
    }

    /// Sessions active on this learner since the last call, for the next PING.
    pub fn take_touches(&mut self) -> Vec<SessionTouch> {
        std::mem::take(&mut self.touched)
            .into_iter()
            .map(|(session, timeout_ms)| SessionTouch {
                session,
                timeout_ms,
            })
            .collect()
    }

    pub(super) fn note_touch(&mut self, session: SessionId, timeout_ms: i32) {
        if self.role.is_learner() {
            self.touched.insert(session, timeout_ms);
        }
    }

    /// Learner: a client write goes to the leader; its reply waits for the commit.
    pub(super) fn forward_write(
        &mut self,
        conn: ConnId,
        xid: i32,
        session: SessionId,
        req: Option<&Request>,
        op: OpCode,
    ) {
        let mut body = Vec::new();
        if let Some(r) = req {
            put_request_record(&mut body, r);
        }
        let auth = self
            .conns
            .get(&conn)
            .map(|c| c.auth.clone())
            .unwrap_or_default();
        let waiting = Waiting::Request {
            conn,
            xid,
            received_ms: self.now_mono_ms,
        };
        self.forward(
            ForwardedRequest {
                session,
                cxid: xid,
                op: op.code(),
                body,
                auth,
            },
            waiting,
        );
        self.enqueue(conn, Queued::Forwarded { xid });
    }

    /// Learner: a new session is created through the leader (`LearnerZooKeeperServer`
    /// `createSession`: cxid 0, the timeout as the body).
    pub(super) fn forward_create_session(&mut self, conn: ConnId, id: SessionId, timeout_ms: i32) {
        let req = ForwardedRequest {
            session: id,
            cxid: 0,
            op: OpCode::CreateSession.code(),
            body: timeout_ms.to_be_bytes().to_vec(),
            auth: Vec::new(),
        };
        self.forward(
            req,
            Waiting::Connect {
                conn,
                received_ms: self.now_mono_ms,
            },
        );
        self.record_learner_entry(self.now_mono_ms);
        self.wait_connless(id);
        self.request_entered(false, Some(1));
    }

    fn forward(&mut self, req: ForwardedRequest, waiting: Waiting) {
        self.forwarded.insert((req.session, req.cxid), waiting);
        self.actions.push(Action::Forward(req));
    }

    /// Learner: the leader must confirm a session a client brings back here.
    pub(super) fn revalidate(&mut self, conn: ConnId, id: SessionId, timeout_ms: i32) {
        self.revalidating.insert(id, conn);
        self.actions.push(Action::Revalidate {
            session: id,
            timeout_ms,
        });
    }

    fn revalidated(&mut self, session: SessionId, valid: bool) {
        let Some(conn) = self.revalidating.remove(&session) else {
            return;
        };
        if self.conns.get(&conn).and_then(|c| c.session) != Some(session) {
            return;
        }
        if valid {
            let timeout = self.conns.get(&conn).map_or(0, |c| c.timeout_ms);
            self.sessions.add(session, timeout, self.now_mono_ms);
            self.note_touch(session, timeout);
        }
        self.finish_session_init(conn, valid);
    }

    /// A client `sync`: answered once the leader has committed everything proposed
    /// before it (`Leader.processSync`); it keeps its place in the connection's queue.
    pub(super) fn submit_sync(&mut self, conn: ConnId, xid: i32, session: SessionId, path: String) {
        self.syncs.push_back(PendingSync {
            conn,
            xid,
            path: path.clone(),
            received_ms: self.now_mono_ms,
        });
        self.enqueue(conn, Queued::Forwarded { xid });
        if self.role == Role::Leading {
            self.actions.push(Action::Sync(SyncOrigin::Local));
        } else {
            let req = Request::Sync(crate::proto::PathRequest { path });
            let mut body = Vec::new();
            put_request_record(&mut body, &req);
            let auth = self
                .conns
                .get(&conn)
                .map(|c| c.auth.clone())
                .unwrap_or_default();
            self.actions.push(Action::Forward(ForwardedRequest {
                session,
                cxid: xid,
                op: OpCode::Sync.code(),
                body,
                auth,
            }));
        }
    }

    fn sync_done(&mut self) {
        let Some(s) = self.syncs.pop_front() else {
            return;
        };
        self.record_reply(
            s.conn,
            s.xid,
            OpCode::Sync.short_name(),
            s.received_ms,
            false,
        );
        let Some(c) = self.conns.get_mut(&s.conn) else {
            return;
        };
        if matches!(c.queue().front(), Some(Queued::Forwarded { xid }) if *xid == s.xid) {
            c.dequeue(&mut self.queued);
        }
        let frame = reply_frame(
            s.xid,
            self.last_applied_zxid,
            ErrorCode::Ok,
            &Response::Sync(s.path),
        );
        self.send(s.conn, frame);
        self.drain_queue(s.conn);
    }

    /// Replication inputs (see `Input`).
    pub(super) fn handle_quorum_input(&mut self, input: super::Input) {
        use super::Input;
        match input {
            Input::Committed(entry) => self.committed(entry),
            Input::Forwarded { from, req } => self.forwarded_request(from, req),
            Input::Touches(touches) => {
                for t in touches {
                    self.sessions.touch(t.session, self.now_mono_ms);
                }
            }
            Input::RevalidateAsk {
                from,
                session,
                timeout_ms: _,
            } => {
                let valid = self.sessions.touch(session, self.now_mono_ms);
                if valid {
                    self.owners.insert(session, from);
                }
                self.actions.push(Action::RevalidateAnswer {
                    to: from,
                    session,
                    valid,
                });
            }
            Input::Revalidated { session, valid } => self.revalidated(session, valid),
            Input::SyncDone => self.sync_done(),
            _ => {}
        }
    }

    /// A txn the ensemble committed. The leader applies its own proposals in order; a
    /// learner applies what it is given and answers the client that sent it, if local.
    fn committed(&mut self, entry: TxnEntry) {
        let zxid = entry.header.zxid;
        if zxid <= self.last_applied_zxid {
            return;
        }
        if self.role == Role::Leading {
            // Every write the leader commits entered its commit processor when it was
            // prepared, its learners' forwarded ones included.
            let commit = self
                .inflight
                .front()
                .filter(|f| f.entry.header.zxid <= zxid)
                .map(|f| (f.origin, f.received_ms));
            let before = commit.map(|(origin, received_ms)| {
                self.commit_before(origin, Some(received_ms), self.inflight.len())
            });
            self.handle_persisted(zxid);
            if let Some(b) = before {
                self.commit_after(b);
            }
            return;
        }
        let key = (SessionId(entry.header.client_id), entry.header.cxid);
        let queued_writes = self.forwarded.len();
        let origin = match self.forwarded.remove(&key) {
            Some(Waiting::Request {
                conn,
                xid,
                received_ms,
            }) => (Origin::Request { conn, xid }, received_ms),
            Some(Waiting::Connect { conn, received_ms }) => (Origin::Connect { conn }, received_ms),
            None => (Origin::Server, self.now_mono_ms),
        };
        let local = !matches!(origin.0, Origin::Server);
        let before = self.commit_before(origin.0, local.then_some(origin.1), queued_writes);
        self.last_prepared_zxid = self.last_prepared_zxid.max(zxid);
        self.apply_entry(InFlight {
            entry: Arc::new(entry),
            origin: origin.0,
            received_ms: origin.1,
        });
        self.commit_after(before);
    }

    /// `CommitProcessor` when a commit is taken (`processWrite`, `processCommitMetrics`):
    /// the local writes waiting for their commits (`queued_writes`); for a write
    /// that entered this server's commit processor at `entered_ms` (a local one), its
    /// time there and the length of its session's queue; for another server's write,
    /// the time since its commit arrived. A commit is applied in the step it arrives
    /// in, so the time from its arrival is 0 ms.
    fn commit_before(
        &mut self,
        origin: Origin,
        entered_ms: Option<i64>,
        queued_writes: usize,
    ) -> CommitSeen {
        let pending_sessions = self.queued.busy + self.connless_waiting.len();
        let r = &mut self.stats.recorded;
        r.add(Basic::ReadCommitProcReqQueued, self.queued.reads as i64);
        r.add(Basic::WriteCommitProcReqQueued, queued_writes as i64);
        r.add(Basic::ReadCommitProcIssued, 0);
        let Some(entered) = entered_ms else {
            r.time(Advanced::ServerWriteCommittedTimeMs, 0);
            return CommitSeen {
                conn: None,
                queue: 0,
                local: false,
            };
        };
        r.time(Advanced::WriteCommitprocTimeMs, self.now_mono_ms - entered);
        r.time(Advanced::LocalWriteCommittedTimeMs, 0);
        r.add(Basic::PendingSessionQueueSize, pending_sessions as i64);
        let conn = match origin {
            Origin::Request { conn, .. } | Origin::Connect { conn } => Some(conn),
            Origin::Server | Origin::Remote => None,
        };
        // A write with no connection here (a session creation, a learner's write on the
        // leader) is alone in its session's queue.
        let queue = conn
            .and_then(|c| self.conns.get(&c))
            .map_or(0, |c| c.queue().len());
        self.stats
            .recorded
            .add(Basic::RequestsInSessionQueue, queue.max(1) as i64);
        CommitSeen {
            conn,
            queue,
            local: true,
        }
    }

    /// `CommitProcessor.run`, the pass that takes a request that just entered it (rzk
    /// takes each request in a pass of its own, as Java's loop does when requests
    /// arrive one at a time): the sizes of its queues, then the request, either issued
    /// (a read with nothing ahead of it in its session, `session_queue` None) or added
    /// to its session's queue, which is then `session_queue` long.
    pub(super) fn request_entered(&mut self, read: bool, session_queue: Option<usize>) {
        if !self.role.commits() {
            return;
        }
        let issued = session_queue.is_none();
        // An issued read was never counted among the queued ones; a queued one was.
        let reads = self.queued.reads + usize::from(issued);
        let writes = if self.role == Role::Leading {
            self.inflight.len()
        } else {
            self.forwarded.len()
        };
        let r = &mut self.stats.recorded;
        r.add(Basic::ReadCommitProcReqQueued, reads as i64);
        r.add(Basic::WriteCommitProcReqQueued, writes as i64);
        r.add(Basic::CommitCommitProcReqQueued, 0);
        if let Some(n) = session_queue {
            r.add(Basic::RequestsInSessionQueue, n as i64);
        }
        r.add(Basic::ReadCommitProcIssued, i64::from(issued && read));
        r.add(Basic::CommitProcessTime, 0);
    }

    /// A read leaves the commit processor for the final processor
    /// (`processCommitMetrics`, `READ_FINAL_PROC_TIME`): its time since it entered, and
    /// the final processing, which rzk does within the same millisecond.
    pub(super) fn read_issued(&mut self, entered_ms: i64) {
        if self.role.commits() {
            let r = &mut self.stats.recorded;
            r.time(
                Advanced::ReadCommitprocTimeMs,
                self.now_mono_ms - entered_ms,
            );
            r.time(Advanced::ReadFinalProcTimeMs, 0);
        }
    }

    /// A request without a connection queue here waits for its commit in its
    /// session's queue (`connless_waiting`).
    pub(super) fn wait_connless(&mut self, session: SessionId) {
        if self.role.commits() {
            *self.connless_waiting.entry(session).or_insert(0) += 1;
        }
    }

    /// Its commit came (or it never will): the session's queue shrinks.
    pub(super) fn connless_done(&mut self, session: SessionId) {
        if let Some(n) = self.connless_waiting.get_mut(&session) {
            *n -= 1;
            if *n == 0 {
                self.connless_waiting.remove(&session);
            }
        }
    }

    /// After the commit was applied: the reads of its session released behind it.
    fn commit_after(&mut self, seen: CommitSeen) {
        let after = seen
            .conn
            .and_then(|c| self.conns.get(&c))
            .map_or(0, |c| c.queue().len());
        let reads = seen.queue.saturating_sub(after + 1) as i64;
        let r = &mut self.stats.recorded;
        if seen.local {
            r.add(Basic::ReadsAfterWriteInSessionQueue, reads);
        }
        r.add(Basic::SessionQueuesDrained, i64::from(seen.local));
        r.add(Basic::ReadsIssuedFromSessionQueue, reads);
    }

    /// Leader: a request a learner forwarded, prepared like a local one.
    fn forwarded_request(&mut self, from: ServerId, req: ForwardedRequest) {
        let sync = req.op == OpCode::Sync.code();
        self.prepare_forwarded(from, req);
        if !sync {
            // It entered the leader's commit processor, alone in its session's queue
            // there: the requests queued behind it wait on the learner. A learner's sync
            // goes to `Leader.processSync` instead.
            self.request_entered(false, Some(1));
        }
    }

    fn prepare_forwarded(&mut self, from: ServerId, req: ForwardedRequest) {
        let session = req.session;
        let op = OpCode::try_from(req.op).ok();
        match op {
            Some(OpCode::Sync) => {
                return self.actions.push(Action::Sync(SyncOrigin::Learner(from)))
            }
            Some(OpCode::CreateSession) => {
                let timeout_ms = req
                    .body
                    .get(..4)
                    .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                self.sessions.add(session, timeout_ms, self.now_mono_ms);
                self.owners.insert(session, from);
                let hdr = self.next_header(session.0, req.cxid);
                return self.push_txn(hdr, Txn::CreateSession { timeout_ms }, Origin::Remote);
            }
            Some(OpCode::CloseSession) => {
                return self.submit_close_session(session, req.cxid, Origin::Remote)
            }
            _ => {}
        }
        let hdr = self.next_header(session.0, req.cxid);
        let decoded = op.filter(|o| o.is_write()).map(|_| {
            decode_request(
                &RequestHeader {
                    xid: req.cxid,
                    op: req.op,
                },
                &req.body,
                &Limits::default(),
            )
        });
        let txn = match decoded {
            Some(Ok(_)) if self.sessions.is_live(session) && !self.owned_by(session, from) => {
                Txn::Error(ErrorCode::SessionMoved)
            }
            Some(Ok(mut r)) if self.sessions.is_live(session) => {
                let ctx = RequestCtx {
                    session: session.0,
                    cxid: req.cxid,
                    zxid: hdr.zxid,
                    time: hdr.time,
                    auth: &req.auth,
                };
                self.prep.prepare_taking(&self.tree, &ctx, &mut r)
            }
            Some(Ok(_)) => Txn::Error(ErrorCode::SessionExpired),
            Some(Err(e)) => {
                debug!(
                    "forwarded request 0x{:x}/{} from {from} does not decode: {e}",
                    session.0, req.cxid
                );
                Txn::Error(ErrorCode::MarshallingError)
            }
            None => {
                warn!(
                    "server {from} forwarded op {} which is not a write; answering with an error",
                    req.op
                );
                Txn::Error(ErrorCode::MarshallingError)
            }
        };
        self.push_txn(hdr, txn, Origin::Remote);
    }

    /// Leader: whether requests for `session` may come through `server`
    /// (`SessionTrackerImpl.checkSession`): the first server to use a session owns it
    /// until the client reattaches elsewhere; requests still in flight through the old
    /// one then fail with SessionMoved, so no session's writes overtake each other.
    pub(super) fn owned_by(&mut self, session: SessionId, server: ServerId) -> bool {
        *self.owners.entry(session).or_insert(server) == server
    }

    /// Leader: Zab refused a proposal (its window is full or it lost its quorum); the
    /// client is disconnected rather than left waiting, as when Java's leader shuts down.
    pub fn proposal_refused(&mut self, entry: &TxnEntry) {
        warn!(
            "proposal 0x{:x} refused; closing the client connection that sent it",
            entry.header.zxid
        );
        let at = self
            .inflight
            .iter()
            .position(|f| f.entry.header.zxid == entry.header.zxid);
        if let Some(f) = at.and_then(|i| self.inflight.remove(i)) {
            if !matches!(f.origin, Origin::Request { .. }) {
                self.connless_done(SessionId(f.entry.header.client_id));
            }
            if let Origin::Request { conn, .. } | Origin::Connect { conn } = f.origin {
                self.close(conn);
            }
        }
    }
}

impl Core {
    /// Learner: the database the leader streamed after SNAP replaces this one.
    pub fn load_snapshot(
        &mut self,
        tree: crate::tree::DataTree,
        sessions: &[(i64, i32)],
        zxid: i64,
    ) {
        self.tree = tree;
        self.sessions = crate::session::SessionTracker::new(
            ServerId(self.cfg.server_id),
            self.now_wall_ms,
            self.cfg.tick_ms,
        );
        for &(id, timeout_ms) in sessions {
            self.sessions
                .add(SessionId(id), timeout_ms, self.now_mono_ms);
        }
        self.inflight.clear();
        self.connless_waiting.clear();
        // A snapshot of the replaced tree is not finished on this one.
        self.snapshot = None;
        self.last_prepared_zxid = zxid;
        self.last_applied_zxid = zxid;
        self.prep.applied(zxid);
    }

    /// Sessions and their timeouts, as a snapshot records them.
    pub fn session_table(&self) -> Vec<(i64, i32)> {
        self.sessions.iter().map(|(id, t)| (id.0, t)).collect()
    }
}

impl Core {
    /// Ends a role without reloading from disk (`ZKDatabase.fastForwardDataBase`): the
    /// logged txns that were never applied (`logged`, oldest first, the newest part of
    /// the log) are applied now, and what was prepared but never logged is forgotten.
    /// `complete_after`: every txn logged after that zxid is in `logged`. False when
    /// `logged` may miss txns after the last applied one: the caller must reload the
    /// database instead.
    pub fn fast_forward<'a>(
        &mut self,
        logged: impl IntoIterator<Item = &'a TxnEntry>,
        complete_after: Option<i64>,
    ) -> bool {
        self.inflight.clear();
        self.connless_waiting.clear();
        // The log this snapshot was being written beside is stopped; the next snapshot
        // starts afresh on the next log.
        self.snapshot = None;
        self.unpersisted.clear();
        self.prep.clear();
        self.last_prepared_zxid = self.last_applied_zxid;
        let mut logged = logged.into_iter().peekable();
        let last = self.last_applied_zxid;
        let reaches_back = match logged.peek() {
            None => true,
            Some(e) => e.header.zxid <= last || complete_after.is_some_and(|z| z <= last),
        };
        if !reaches_back {
            return false;
        }
        for e in logged {
            if e.header.zxid > self.last_applied_zxid {
                let f = InFlight {
                    entry: Arc::new(e.clone()),
                    origin: Origin::Server,
                    received_ms: self.now_mono_ms,
                };
                self.apply_entry(f);
            }
        }
        self.last_prepared_zxid = self.last_applied_zxid;
        true
    }
}

#[cfg(test)]
#[path = "quorum_tests.rs"]
mod tests;
