//! Session establishment, re-attachment and expiry (`ZooKeeperServer.processConnectRequest`,
//! `reopenSession`, `finishSessionInit`, `SessionTrackerImpl` expiry → closeSession).

use super::core::{Core, Origin};
use super::recorded::{Basic, Counter};
use super::{Action, ConnId};
use crate::pipeline::prep::RequestCtx;
use crate::proto::codec::encode_connect_response;
use crate::proto::{ConnectRequest, ConnectResponse, SessionId, Txn, TxnHeader};
use crate::session::{negotiate_timeout, session_password};
use bytes::BytesMut;
use tracing::{debug, info, warn};

impl Core {
    pub(super) fn handle_connect(&mut self, conn: ConnId, req: ConnectRequest) {
        let (min, max) = (
            self.cfg.min_session_timeout_ms,
            self.cfg.max_session_timeout_ms,
        );
        let last = self.last_applied_zxid;
        if !self.serving {
            // `NIOServerCnxn.readConnectRequest` while the ZooKeeperServer is not running.
            info!(
                "refusing a session: this server is not serving requests ({})",
                self.role.name()
            );
            self.close(conn);
            return;
        }
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.stats.packets_received += 1;
        self.stats.packets_received += 1;
        // `processConnectRequest`: the connection throttle's deficit, then the count.
        // rzk has no `BlueThrottle`; Java's, disabled by default (no tokens), has none.
        self.stats.recorded.add(Basic::ConnectionTokenDeficit, 0);
        self.stats
            .recorded
            .count(Counter::ConnectionRequestCount, 1);
        c.sent_read_only = req.read_only.is_some();
        if req.last_zxid_seen > last {
            info!(
                "Refusing session request for client {} as it has seen zxid 0x{:x} our last zxid is 0x{:x} client must try another server",
                c.peer, req.last_zxid_seen, last
            );
            self.close(conn);
            return;
        }
        c.timeout_ms = negotiate_timeout(req.timeout_ms, min, max);
        if req.session_id == 0 {
            self.create_session(conn);
        } else {
            self.reopen_session(conn, SessionId(req.session_id), &req.passwd);
        }
    }

    fn create_session(&mut self, conn: ConnId) {
        let id = self.sessions.next_session_id();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let timeout_ms = c.timeout_ms;
        c.session = Some(id);
        if self.role.is_learner() {
            return self.forward_create_session(conn, id, timeout_ms);
        }
        self.sessions.add(id, timeout_ms, self.now_mono_ms);
        let hdr = self.next_header(id.0, 0);
        self.push_txn(
            hdr,
            Txn::CreateSession { timeout_ms },
            Origin::Connect { conn },
        );
    }

    /// A client re-attaches a session: whatever connection held it is closed first (even
    /// when the password then turns out wrong, as Apache ZooKeeper does).
    fn reopen_session(&mut self, conn: ConnId, id: SessionId, passwd: &[u8]) {
        if let Some(old) = self.session_conns.get(&id).copied() {
            if old != conn {
                debug!("closing connection {old} of session {id}: the client reconnected");
                self.close(old);
                self.session_conns.remove(&id);
            }
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = Some(id);
        }
        // `processConnectRequest` counts the attempt once `reopenSession` returned,
        // whether or not the session turns out valid.
        self.stats
            .recorded
            .count(Counter::ConnectionRevalidateCount, 1);
        if self.role.is_learner() && passwd == session_password(id) {
            let timeout = self.conns.get(&conn).map_or(0, |c| c.timeout_ms);
            return self.revalidate(conn, id, timeout);
        }
        let valid = if passwd == session_password(id) {
            if self.role == super::quorum::Role::Leading {
                self.owners
                    .insert(id, crate::proto::ServerId(self.cfg.server_id));
            }
            self.sessions.touch(id, self.now_mono_ms)
        } else {
            warn!("Incorrect password for session {id}");
            false
        };
        self.finish_session_init(conn, valid);
    }

    pub(super) fn finish_session_init(&mut self, conn: ConnId, valid: bool) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let id = c.session.unwrap_or_default();
        let rsp = ConnectResponse {
            protocol_version: 0,
            timeout_ms: if valid { c.timeout_ms } else { 0 },
            session_id: if valid { id.0 } else { 0 },
            passwd: if valid {
                session_password(id).to_vec()
            } else {
                vec![0; 16]
            },
            read_only: c.sent_read_only.then_some(false),
        };
        let mut buf = BytesMut::new();
        encode_connect_response(&rsp, &mut buf);
        self.send(conn, buf.freeze());
        if valid {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.established = true;
            }
            self.session_conns.insert(id, conn);
            self.actions.push(Action::Established { conn });
        } else {
            info!("Invalid session {id} for client, probably expired");
            self.close(conn);
        }
    }

    /// Sessions whose deadline passed are closed through the pipeline, exactly like a
    /// client's closeSession (their ephemerals go in the same transaction).
    pub(super) fn expire_sessions(&mut self) {
        for id in self.sessions.expired(self.now_mono_ms) {
            self.stats.recorded.count(Counter::StaleSessionsExpired, 1);
            info!("Expiring session {id}, timeout exceeded");
            self.submit_close_session(id, 0, Origin::Server);
        }
    }

    pub(super) fn submit_close_session(&mut self, id: SessionId, cxid: i32, origin: Origin) {
        self.sessions.set_closing(id);
        let hdr = self.next_header(id.0, cxid);
        let ctx = RequestCtx {
            session: id.0,
            cxid,
            zxid: hdr.zxid,
            time: hdr.time,
            auth: &[],
        };
        let txn = self.prep.close_session(&self.tree, &ctx);
        self.record_close_session_prep();
        self.push_txn(hdr, txn, origin);
    }

    /// The session effects of an applied transaction (`processTxnForSessionEvents`).
    pub(super) fn apply_session_effects(&mut self, hdr: &TxnHeader, txn: &Txn) {
        let id = SessionId(hdr.client_id);
        match txn {
            Txn::CreateSession { timeout_ms } if !self.sessions.is_live(id) => {
                self.sessions.add(id, *timeout_ms, self.now_mono_ms);
            }
            Txn::CloseSession(_) => {
                self.sessions.remove(id);
                self.owners.remove(&id);
                if let Some(conn) = self.session_conns.remove(&id) {
                    self.close(conn);
                }
            }
            _ => {}
        }
    }
}
