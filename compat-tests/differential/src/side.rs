//! One server's side of the comparison: its sessions (indexed by the workload's slot), and
//! the execution of one action on it, written down as normalized lines per session in the
//! order that session's connection delivered them.
//!
//! After every action each connected session sends a ping and reads up to its reply: the
//! server queues a notification to a connection before it processes a later request of
//! that connection (`FinalRequestProcessor` handles both in order), so every event an
//! action caused is seen before the barrier ends, without sleeping.

use crate::conn::{Conn, Frame};
use crate::normalize::Norm;
use crate::workload::{Action, SlotState, ROOT};
use anyhow::{bail, Result};
use rzk::proto::*;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(5);
const EOF_WAIT: Duration = Duration::from_secs(3);

pub struct Sess {
    conn: Option<Conn>,
    sid: i64,
    passwd: Vec<u8>,
    timeout: i32,
    xid: i32,
    last_zxid: i64,
    /// The session has asked for a watch: it must read up to a pong after every action.
    watching: bool,
    last_ping: Instant,
}

pub struct Side {
    pub name: String,
    pub addr: SocketAddr,
    sess: Vec<Option<Sess>>,
    labels: BTreeMap<i64, usize>,
    base: i64,
    /// What each session saw during the last action.
    pub obs: BTreeMap<usize, Vec<String>>,
    /// Paths the last action created.
    pub created: Vec<String>,
}

impl Side {
    pub fn new(name: &str, addr: SocketAddr) -> Side {
        Side {
            name: name.into(),
            addr,
            sess: Vec::new(),
            labels: BTreeMap::new(),
            base: 0,
            obs: BTreeMap::new(),
            created: Vec::new(),
        }
    }

    fn norm(&self) -> Norm<'_> {
        Norm {
            base: self.base,
            labels: &self.labels,
        }
    }

    fn note(&mut self, slot: usize, line: String) {
        self.obs.entry(slot).or_default().push(line);
    }

    pub fn state(&self, slot: usize) -> SlotState {
        match self.sess.get(slot) {
            Some(Some(s)) if s.conn.is_some() => SlotState::Connected,
            Some(Some(_)) => SlotState::Detached,
            _ => SlotState::Ended,
        }
    }

    /// Starts a seed: no sessions, an empty `/t`, and the zxid everything is relative to.
    pub fn begin_seed(&mut self) -> Result<()> {
        self.sess.clear();
        self.labels.clear();
        let mut c = Control::open(self.addr)?;
        let create = Request::Create(CreateRequest {
            path: ROOT.into(),
            data: None,
            acl: Acl::open_unsafe(),
            flags: 0,
        });
        let (h, _) = c.call(&create)?;
        if h.err != 0 {
            bail!("{}: creating {ROOT} failed with {}", self.name, h.err);
        }
        self.base = h.zxid;
        c.close();
        Ok(())
    }

    /// Ends a seed: every session closed, every node the seed made deleted.
    pub fn end_seed(&mut self) -> Result<()> {
        for slot in 0..self.sess.len() {
            if let Some(mut s) = self.sess[slot].take() {
                if s.conn.is_none() {
                    s.conn =
                        resume(self.addr, &s).and_then(|(c, r)| (r.timeout_ms > 0).then_some(c));
                }
                if let Some(mut conn) = s.conn.take() {
                    conn.send(s.xid + 1, &Request::CloseSession);
                    while !matches!(
                        conn.next(OpCode::CloseSession, EOF_WAIT),
                        Frame::Eof | Frame::Timeout
                    ) {}
                }
            }
        }
        let mut c = Control::open(self.addr)?;
        c.delete_tree("/")?;
        c.close();
        Ok(())
    }

    /// Runs one action and the barrier after it; the lines land in `obs`.
    pub fn run(&mut self, action: &Action) {
        self.obs.clear();
        self.created.clear();
        match action {
            Action::Req { slot, req } => self.request(*slot, req),
            Action::Open { timeout_ms } => self.open(*timeout_ms),
            Action::Close { slot } => self.close(*slot),
            Action::Expire { slot, revisit } => self.expire(*slot, *revisit),
            Action::Reconnect {
                slot,
                watches,
                keep_old,
            } => self.reconnect(*slot, watches, *keep_old),
        }
        // The acting session always reads up to a pong: a connection its request made the
        // server close is then seen at this step on both sides.
        let acting = match action {
            Action::Req { slot, .. } | Action::Reconnect { slot, .. } => Some(*slot),
            _ => None,
        };
        self.barrier(None, acting);
    }

    fn request(&mut self, slot: usize, req: &Request) {
        let xid = match req {
            Request::Auth(_) => -4,
            Request::SetWatches(_) | Request::SetWatches2(_) => -8,
            _ => match self.sess.get_mut(slot) {
                Some(Some(s)) => {
                    s.xid += 1;
                    s.xid
                }
                _ => 0,
            },
        };
        if arms_watch(req) {
            if let Some(Some(s)) = self.sess.get_mut(slot) {
                s.watching = true;
            }
        }
        if let Some((_, r)) = self.call(slot, xid, req, true) {
            self.learn_created(&r);
        }
    }

    fn learn_created(&mut self, r: &Response) {
        match r {
            Response::Create(p) => self.created.push(p.clone()),
            Response::Create2(c) => self.created.push(c.path.clone()),
            Response::Multi(rs) => {
                for r in rs {
                    match r {
                        MultiResult::Create(p) => self.created.push(p.clone()),
                        MultiResult::Create2(c) => self.created.push(c.path.clone()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// Sends `req` on `slot` and reads up to its reply, noting events on the way.
    fn call(
        &mut self,
        slot: usize,
        xid: i32,
        req: &Request,
        note_reply: bool,
    ) -> Option<(ReplyHeader, Response)> {
        let mut conn = self.sess.get_mut(slot)?.as_mut()?.conn.take()?;
        conn.send(xid, req);
        // 3.8.0 never answers a successful standalone check: a ping behind it bounds the wait.
        let out = if matches!(req, Request::Check(_)) {
            conn.send(-2, &Request::Ping);
            self.collect(slot, &mut conn, req.op_code(), -2, false)
        } else {
            self.collect(slot, &mut conn, req.op_code(), xid, note_reply)
        };
        if let Some(Some(s)) = self.sess.get_mut(slot) {
            if let Some((h, _)) = &out {
                if xid > 0 && h.zxid > 0 {
                    s.last_zxid = h.zxid;
                }
            }
            if !conn.eof {
                s.conn = Some(conn);
            }
        }
        out
    }

    fn collect(
        &mut self,
        slot: usize,
        conn: &mut Conn,
        op: OpCode,
        xid: i32,
        note_reply: bool,
    ) -> Option<(ReplyHeader, Response)> {
        loop {
            match conn.next(op, WAIT) {
                Frame::Event(z, e) => {
                    let line = self.norm().event(z, &e);
                    self.note(slot, line);
                }
                Frame::Reply(h, r) if h.xid == xid => {
                    if note_reply || h.err != 0 {
                        let line = self.norm().reply(&h, &r);
                        self.note(slot, line);
                    }
                    return Some((h, r));
                }
                Frame::Reply(h, r) => {
                    let line = self.norm().reply(&h, &r);
                    self.note(slot, line);
                }
                Frame::Garbage(g) => {
                    self.note(slot, format!("undecodable {g}"));
                    return None;
                }
                Frame::Eof => {
                    conn.eof = true;
                    self.note(slot, "eof".into());
                    return None;
                }
                Frame::Timeout => {
                    self.note(slot, format!("no reply to {op:?} within {WAIT:?}"));
                    return None;
                }
            }
        }
    }

    /// Every connected session (but `skip`) that may have a watch, and the acting one,
    /// pings and reads up to the pong; the others only ping often enough to stay alive.
    fn barrier(&mut self, skip: Option<usize>, acting: Option<usize>) {
        for slot in 0..self.sess.len() {
            let due = match self.sess.get(slot) {
                Some(Some(s)) => {
                    s.watching
                        || acting == Some(slot)
                        || s.last_ping.elapsed().as_millis() as i64 > i64::from(s.timeout / 8)
                }
                _ => false,
            };
            if Some(slot) != skip && due && self.state(slot) == SlotState::Connected {
                if let Some(Some(s)) = self.sess.get_mut(slot) {
                    s.last_ping = Instant::now();
                }
                self.call(slot, -2, &Request::Ping, false);
            }
        }
    }

    fn open(&mut self, timeout_ms: i32) {
        let slot = self.sess.len();
        self.sess.push(None);
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms,
            session_id: 0,
            passwd: vec![0; 16],
            read_only: Some(false),
        };
        let Some((conn, r)) = Conn::open(self.addr)
            .ok()
            .and_then(|mut c| c.handshake(&req, WAIT).map(|r| (c, r)))
        else {
            self.note(slot, "connect failed".into());
            return;
        };
        if r.timeout_ms > 0 {
            self.labels.insert(r.session_id, slot);
            let s = Sess {
                conn: Some(conn),
                sid: r.session_id,
                passwd: r.passwd.clone(),
                timeout: r.timeout_ms,
                xid: 0,
                last_zxid: 0,
                watching: false,
                last_ping: Instant::now(),
            };
            self.sess[slot] = Some(s);
        }
        let line = self.norm().connect(&r);
        self.note(slot, line);
    }

    fn close(&mut self, slot: usize) {
        let xid = self
            .sess
            .get(slot)
            .and_then(|s| s.as_ref())
            .map_or(0, |s| s.xid + 1);
        if self.call(slot, xid, &Request::CloseSession, true).is_some() {
            self.await_eof(slot);
        }
        if let Some(s) = self.sess.get_mut(slot) {
            *s = None;
        }
    }

    /// After closeSession the server closes the connection.
    fn await_eof(&mut self, slot: usize) {
        let Some(Some(s)) = self.sess.get_mut(slot) else {
            return;
        };
        let Some(mut conn) = s.conn.take() else {
            return;
        };
        let line = match conn.next(OpCode::Ping, EOF_WAIT) {
            Frame::Eof => "eof".to_string(),
            other => format!("after close: {other:?}"),
        };
        self.note(slot, line);
    }

    fn expire(&mut self, slot: usize, revisit: bool) {
        let Some(Some(s)) = self.sess.get_mut(slot) else {
            return;
        };
        let Some(mut conn) = s.conn.take() else {
            return;
        };
        let deadline = Instant::now() + Duration::from_millis(3 * s.timeout as u64) + EOF_WAIT;
        let expired = loop {
            match conn.next(OpCode::Ping, Duration::from_millis(50)) {
                Frame::Eof => break true,
                Frame::Timeout if Instant::now() > deadline => break false,
                // 3.8.0 closes the connection right after the expiry's txn applies while
                // the selector thread may still write what it queued: its own events may
                // or may not arrive (rzk never sends them).
                Frame::Timeout | Frame::Event(..) => {}
                other => self.note(slot, format!("while expiring: {other:?}")),
            }
            self.barrier(Some(slot), None);
        };
        self.note(
            slot,
            if expired {
                "expired".into()
            } else {
                "not expired in time".into()
            },
        );
        let Some(Some(s)) = self.sess.get_mut(slot).map(Option::take) else {
            return;
        };
        if revisit {
            let line = match resume(self.addr, &s) {
                Some((mut c, r)) => format!(
                    "{} then {:?}",
                    self.norm().connect(&r),
                    c.next(OpCode::Ping, EOF_WAIT)
                ),
                None => "resume failed".into(),
            };
            self.note(slot, line);
        }
    }

    fn reconnect(&mut self, slot: usize, watches: &Option<(bool, SetWatches)>, keep_old: bool) {
        let Some(Some(s)) = self.sess.get_mut(slot) else {
            return;
        };
        let mut old = s.conn.take();
        if !keep_old {
            if let Some(o) = old.take() {
                o.drop_link();
            }
        }
        let Some((conn, r)) = resume(self.addr, s) else {
            self.note(slot, "resume failed".into());
            return;
        };
        let line = self.norm().connect(&r);
        self.note(slot, line);
        if let Some(mut o) = old {
            // The server closes the connection the session moved away from.
            let line = match o.next(OpCode::Ping, EOF_WAIT) {
                Frame::Eof => "old connection: eof".to_string(),
                other => format!("old connection: {other:?}"),
            };
            self.note(slot, line);
        }
        let Some(Some(s)) = self.sess.get_mut(slot) else {
            return;
        };
        if r.timeout_ms <= 0 {
            self.sess[slot] = None;
            return;
        }
        s.conn = Some(conn);
        s.watching |= watches.is_some();
        if let Some((v2, w)) = watches {
            let w = SetWatches {
                relative_zxid: s.last_zxid,
                ..w.clone()
            };
            let req = if *v2 {
                Request::SetWatches2(w)
            } else {
                Request::SetWatches(w)
            };
            self.call(slot, -8, &req, true);
        }
    }
}

/// Whether `req` may leave a watch behind (one that fails may still register one).
fn arms_watch(req: &Request) -> bool {
    match req {
        Request::Exists(r)
        | Request::GetData(r)
        | Request::GetChildren(r)
        | Request::GetChildren2(r) => r.watch,
        Request::AddWatch(_) | Request::SetWatches(_) | Request::SetWatches2(_) => true,
        _ => false,
    }
}

/// Opens a connection that resumes session `s`.
fn resume(addr: SocketAddr, s: &Sess) -> Option<(Conn, ConnectResponse)> {
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: s.last_zxid,
        timeout_ms: s.timeout,
        session_id: s.sid,
        passwd: s.passwd.clone(),
        read_only: Some(false),
    };
    let mut c = Conn::open(addr).ok()?;
    let r = c.handshake(&req, WAIT)?;
    Some((c, r))
}

/// A superuser session for setting up and tearing down a seed (not compared).
struct Control {
    conn: Conn,
    xid: i32,
}

impl Control {
    fn open(addr: SocketAddr) -> Result<Control> {
        let mut conn = Conn::open(addr)?;
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms: 30_000,
            session_id: 0,
            passwd: vec![0; 16],
            read_only: Some(false),
        };
        match conn.handshake(&req, WAIT) {
            Some(r) if r.timeout_ms > 0 => {}
            _ => bail!("control session refused"),
        }
        let mut c = Control { conn, xid: 0 };
        let auth = Request::Auth(AuthPacket {
            auth_type: 0,
            scheme: "digest".into(),
            auth: b"super:test".to_vec(),
        });
        c.call_xid(-4, &auth)?;
        Ok(c)
    }

    fn call(&mut self, req: &Request) -> Result<(ReplyHeader, Response)> {
        self.xid += 1;
        self.call_xid(self.xid, req)
    }

    fn call_xid(&mut self, xid: i32, req: &Request) -> Result<(ReplyHeader, Response)> {
        self.conn.send(xid, req);
        loop {
            match self.conn.next(req.op_code(), WAIT) {
                Frame::Reply(h, r) if h.xid == xid => return Ok((h, r)),
                Frame::Reply(..) | Frame::Event(..) => {}
                other => bail!("control session: {other:?} for {req:?}"),
            }
        }
    }

    /// Deletes everything below `path` except the `/zookeeper` subtree.
    fn delete_tree(&mut self, path: &str) -> Result<()> {
        let (_, r) = self.call(&Request::GetChildren(PathWatchRequest {
            path: path.into(),
            watch: false,
        }))?;
        let Response::GetChildren(children) = r else {
            return Ok(());
        };
        for child in children {
            let full = if path == "/" {
                format!("/{child}")
            } else {
                format!("{path}/{child}")
            };
            if full == "/zookeeper" {
                continue;
            }
            self.delete_tree(&full)?;
            let (h, _) = self.call(&Request::Delete(DeleteRequest {
                path: full.clone(),
                version: -1,
            }))?;
            if h.err != 0 {
                bail!("cleanup: delete {full} failed with {}", h.err);
            }
        }
        Ok(())
    }

    fn close(mut self) {
        let _ = self.call(&Request::CloseSession);
    }
}
