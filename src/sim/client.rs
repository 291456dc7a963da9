//! Simulated clients: a few sessions that connect to random servers, send creates,
//! setData (plain and compare-and-set), deletes, reads and sync+reads, move between
//! servers, close their sessions, and record every request with its invocation and
//! completion time (simulated) in a history the client checkers read at the end.
//! Stands in for the client library's `ClientCnxn`: one connection at a time, requests
//! answered in order, a timeout or a closed connection leaves them indeterminate, and a
//! server whose data is older than what the session has seen is refused.

use std::collections::BTreeMap;

use super::checker::linearizable::Outcome;
use super::model::{Req, SESSION_BASE};
use super::world::{Event, World};
use crate::proto::ServerId;

/// Requests one client keeps in flight at most.
const MAX_INFLIGHT: usize = 3;
/// A request unanswered this long makes the client drop the connection (`readTimeout`).
const TIMEOUT_MS: u64 = 2000;

#[derive(Clone, Debug, Default)]
pub struct Client {
    pub session: Option<i64>,
    incarnation: i64,
    pub server: Option<ServerId>,
    /// The session is established on `server` (created or revalidated).
    pub ready: bool,
    pub last_zxid: i64,
    next_cxid: i32,
    /// Unanswered requests on the current connection: cxid → record.
    inflight: BTreeMap<i32, usize>,
    /// The last version this client saw per key, to aim its compare-and-sets.
    seen: BTreeMap<String, i32>,
    /// A closeSession is in flight: like `ZooKeeper.close()`, the client sends nothing
    /// more and, if the connection ends first, gives the session up.
    closing: bool,
}

/// One request as the client saw it.
#[derive(Clone, Debug)]
pub struct Record {
    pub client: usize,
    pub session: i64,
    pub cxid: i32,
    pub req: Req,
    /// A read sent right behind a `sync` on the same connection.
    pub synced: bool,
    pub server: ServerId,
    pub invoke: u64,
    pub complete: Option<u64>,
    pub outcome: Outcome,
    /// The reply header's zxid.
    pub zxid: i64,
}

impl World {
    /// Adds an idle client; returns its index.
    pub fn add_client(&mut self) -> usize {
        self.clients.push(Client::default());
        self.clients.len() - 1
    }

    pub fn client(&self, c: usize) -> &Client {
        &self.clients[c]
    }

    /// Connects client `c` to server `sid`: a new session if it has none, else the
    /// session moves there (revalidated by the leader). False if refused.
    pub fn client_connect(&mut self, c: usize, sid: i64) -> bool {
        let sid = ServerId(sid);
        let Some(cl) = self.clients.get(c) else {
            return false;
        };
        let behind = self
            .nodes
            .get(&sid)
            .is_none_or(|n| n.applied_zxid().0 < cl.last_zxid);
        if cl.server.is_some() || behind {
            return false;
        }
        let (session, fresh) = match cl.session {
            Some(s) => (s, false),
            None => (SESSION_BASE + ((c as i64) << 16) + cl.incarnation, true),
        };
        if !self.accept(sid, session, c, false) {
            return false;
        }
        let Some(cl) = self.clients.get_mut(c) else {
            return false;
        };
        cl.server = Some(sid);
        cl.session = Some(session);
        if fresh {
            cl.incarnation += 1;
            self.client_send(c, Req::CreateSession);
        } else {
            self.revalidate(sid, session);
        }
        true
    }

    /// Sends a request on the client's connection; returns its record index.
    pub fn client_send(&mut self, c: usize, req: Req) -> Option<usize> {
        let cl = self.clients.get_mut(c)?;
        let (sid, session) = (cl.server?, cl.session?);
        if !cl.ready && req != Req::CreateSession {
            return None;
        }
        if cl.closing {
            return None;
        }
        cl.closing = req == Req::CloseSession;
        cl.next_cxid += 1;
        let cxid = cl.next_cxid;
        let rec = Record {
            client: c,
            session,
            cxid,
            req: req.clone(),
            synced: false,
            server: sid,
            invoke: self.now,
            complete: None,
            outcome: Outcome::Unknown,
            zxid: 0,
        };
        self.records.push(rec);
        let idx = self.records.len() - 1;
        cl.inflight.insert(cxid, idx);
        self.submit(sid, session, cxid, req);
        Some(idx)
    }

    /// A `sync` and a read of `path` behind it; returns the read's record.
    pub fn client_sync_read(&mut self, c: usize, path: &str) -> Option<usize> {
        self.client_send(c, Req::Sync)?;
        let idx = self.client_send(
            c,
            Req::Read {
                path: path.to_string(),
            },
        )?;
        if let Some(r) = self.records.get_mut(idx) {
            r.synced = true;
        }
        Some(idx)
    }

    /// The client closes its connection (the session stays).
    pub fn client_disconnect(&mut self, c: usize) {
        let Some(cl) = self.clients.get(c) else {
            return;
        };
        if let (Some(sid), Some(s)) = (cl.server, cl.session) {
            self.drop_conn(sid, s);
        }
    }

    /// The connection closed: everything in flight stays indeterminate.
    pub(super) fn client_lost(&mut self, c: usize, sid: ServerId) {
        let Some(cl) = self.clients.get_mut(c) else {
            return;
        };
        if cl.server != Some(sid) {
            return;
        }
        cl.server = None;
        cl.ready = false;
        if std::mem::take(&mut cl.closing) {
            cl.session = None;
        }
        let lost: Vec<usize> = std::mem::take(&mut cl.inflight).into_values().collect();
        // A session whose creation is in doubt is abandoned (it may exist, unused).
        if lost.iter().any(|i| {
            self.records
                .get(*i)
                .is_some_and(|r| r.req == Req::CreateSession)
        }) {
            cl.session = None;
        }
    }

    pub(super) fn client_ready(&mut self, c: usize, valid: bool) {
        let Some(cl) = self.clients.get_mut(c) else {
            return;
        };
        if valid {
            cl.ready = true;
        } else {
            cl.session = None;
        }
    }

    /// A reply on session `session`'s connection: it must answer the oldest request.
    pub(super) fn client_reply(&mut self, session: i64, cxid: i32, outcome: Outcome, zxid: i64) {
        let Some(c) = self
            .clients
            .iter()
            .position(|cl| cl.session == Some(session) && cl.server.is_some())
        else {
            return;
        };
        let Some(cl) = self.clients.get_mut(c) else {
            return;
        };
        let oldest = cl.inflight.keys().next().copied();
        if oldest != Some(cxid) {
            return self.fail(
                "session FIFO",
                format!("{session:#x} got the reply to {cxid} while {oldest:?} was older"),
            );
        }
        if zxid < cl.last_zxid {
            let what = format!("{session:#x} saw zxid {zxid:#x} after {:#x}", cl.last_zxid);
            return self.fail("session order", what);
        }
        cl.last_zxid = zxid;
        let Some(idx) = cl.inflight.remove(&cxid) else {
            return;
        };
        let Some(r) = self.records.get_mut(idx) else {
            return;
        };
        (r.complete, r.outcome, r.zxid) = (Some(self.now), outcome.clone(), zxid);
        let (req, server) = (r.req.clone(), r.server);
        self.client_saw(c, &req, &outcome);
        if req == Req::CreateSession {
            self.client_ready(c, true);
        }
        if req == Req::CloseSession {
            if let Some(cl) = self.clients.get_mut(c) {
                cl.closing = false;
            }
        }
        if req == Req::CloseSession && outcome == Outcome::Done {
            self.drop_conn(server, session);
            if let Some(cl) = self.clients.get_mut(c) {
                cl.session = None;
            }
        }
    }

    fn client_saw(&mut self, c: usize, req: &Req, outcome: &Outcome) {
        let Some(cl) = self.clients.get_mut(c) else {
            return;
        };
        match (req, outcome) {
            (Req::Read { path }, Outcome::Read(Some(v))) => cl.seen.insert(path.clone(), v.version),
            (Req::SetData { path, .. }, Outcome::Written { version }) => {
                cl.seen.insert(path.clone(), *version)
            }
            (Req::Create { path, .. }, Outcome::Done) => cl.seen.insert(path.clone(), 0),
            _ => None,
        };
    }

    /// Starts the random workload of `opts.clients` clients.
    pub(super) fn start_clients(&mut self) {
        for _ in 0..self.opts.clients {
            let c = self.add_client();
            let at = self.rng.range(100, 400);
            self.schedule_at(at, Event::Client(c));
        }
    }

    /// One step of client `c`'s random workload.
    pub(super) fn on_client(&mut self, c: usize) {
        let quiet = self.opts.fault_ms + self.opts.heal_ms.saturating_sub(1500);
        if self.now >= quiet {
            return;
        }
        let d = self.rng.range(1, 2 * self.opts.op_every_ms.max(1));
        self.schedule(d, Event::Client(c));
        let Some(cl) = self.clients.get(c) else {
            return;
        };
        let stale = cl
            .inflight
            .values()
            .next()
            .and_then(|i| self.records.get(*i))
            .is_some_and(|r| r.invoke + TIMEOUT_MS < self.now);
        let busy = cl.inflight.len() >= MAX_INFLIGHT || !cl.ready || cl.closing;
        match cl.server {
            None => {
                let ids: Vec<i64> = self.nodes.keys().map(|s| s.0).collect();
                if let Some(sid) = self.rng.pick(&ids) {
                    self.client_connect(c, sid);
                }
            }
            Some(_) if stale => self.client_disconnect(c),
            Some(_) if busy => {}
            Some(_) => self.random_op(c),
        }
    }

    fn random_op(&mut self, c: usize) {
        let key = format!("/k{}", self.rng.range(0, 1));
        let seen = self
            .clients
            .get(c)
            .and_then(|cl| cl.seen.get(&key).copied())
            .unwrap_or(0);
        let data = format!("{c}.{}", self.records.len()).into_bytes();
        let idle = self.clients.get(c).is_some_and(|cl| cl.inflight.is_empty());
        let req = match self.rng.range(0, 99) {
            0..=1 if idle => Req::CloseSession,
            0..=4 => return self.client_disconnect(c),
            5..=19 => Req::Create {
                path: key,
                data,
                ephemeral: false,
            },
            20..=39 => Req::SetData {
                path: key,
                data,
                version: -1,
            },
            40..=54 => Req::SetData {
                path: key,
                data,
                version: seen,
            },
            55..=64 => Req::Delete {
                path: key,
                version: if self.rng.chance(1, 2) { -1 } else { seen },
            },
            65..=79 => Req::Read { path: key },
            80..=91 => {
                self.client_sync_read(c, &key);
                return;
            }
            _ => Req::Create {
                path: format!("/e{}", self.rng.range(0, 1)),
                data,
                ephemeral: true,
            },
        };
        self.client_send(c, req);
    }
}
