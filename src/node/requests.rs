//! Dispatch of decoded client requests (`ZooKeeperServer.processPacket`): auth and SASL
//! are answered on the spot, writes enter the pipeline, everything else is a read that
//! keeps its place behind the connection's pending writes.

use super::conn::Queued;
use super::core::Core;
use super::replies::reply_frame;
use super::{ConnId, RequestBody};
use crate::auth::{SaslReply, SaslSession};
use crate::proto::codec::encode_reply;
use crate::proto::{ErrorCode, Id, ReplyHeader, Request, Response};
use bytes::{BufMut, BytesMut};
use tracing::{info, warn};

/// The xid of auth replies (`ClientCnxn.AUTHPACKET_XID`).
const AUTH_XID: i32 = -4;

impl Core {
    pub(super) fn handle_request(&mut self, conn: ConnId, xid: i32, body: RequestBody) {
        let now = self.now_mono_ms;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.closing || !c.established {
            return;
        }
        c.stats.packets_received += 1;
        self.stats.packets_received += 1;
        let Some(session) = c.session else { return };
        let timeout = c.timeout_ms;
        self.sessions.touch(session, now);
        self.note_touch(session, timeout);
        let prepped = !matches!(
            body,
            RequestBody::Ok(Request::Auth(_))
                | RequestBody::Ok(Request::Sasl(_))
                | RequestBody::Unknown(_)
        );
        if prepped && !self.role.is_learner() {
            self.record_prep(now, true);
        } else if prepped {
            self.record_learner_entry(now);
        }
        match body {
            RequestBody::Ok(Request::Sync(r)) if self.role != super::quorum::Role::Standalone => {
                self.submit_sync(conn, xid, session, r.path)
            }
            RequestBody::Ok(Request::Auth(p)) => self.handle_auth(conn, &p.scheme, &p.auth),
            RequestBody::Ok(Request::Sasl(token)) => self.handle_sasl(conn, xid, &token),
            RequestBody::Ok(mut req) if req.op_code().is_write() => {
                self.submit_write(conn, xid, session, &mut req)
            }
            RequestBody::Malformed(op) if op.is_write() => {
                self.submit_malformed_write(conn, xid, session, op)
            }
            body => self.enqueue_read(conn, xid, body),
        }
    }

    fn enqueue_read(&mut self, conn: ConnId, xid: i32, body: RequestBody) {
        let received_ms = self.now_mono_ms;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.queue().is_empty() {
            self.request_entered(true, None);
            self.answer_read(conn, xid, body, received_ms);
        } else {
            self.enqueue(
                conn,
                Queued::Read {
                    xid,
                    body,
                    received_ms,
                },
            );
        }
    }

    /// Queues a reply slot behind the connection's earlier ones; in an ensemble the
    /// request joins its session's queue in the commit processor.
    pub(super) fn enqueue(&mut self, conn: ConnId, q: Queued) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let read = matches!(q, Queued::Read { .. });
        c.enqueue(q, &mut self.queued);
        let n = c.queue().len();
        self.request_entered(read, Some(n));
    }

    /// Answers the reads at the head of the connection's queue, up to its next write.
    pub(super) fn drain_queue(&mut self, conn: ConnId) {
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            if !matches!(c.queue().front(), Some(Queued::Read { .. })) {
                return;
            }
            if let Some(Queued::Read {
                xid,
                body,
                received_ms,
            }) = c.dequeue(&mut self.queued)
            {
                self.answer_read(conn, xid, body, received_ms);
            }
        }
    }

    /// `AuthPacket` (xid -4): answered at once with zxid 0; a failure closes the connection.
    fn handle_auth(&mut self, conn: ConnId, scheme: &str, auth: &[u8]) {
        let result = self.auth.authenticate(scheme, auth);
        let peer = self
            .conns
            .get(&conn)
            .map(|c| c.peer.to_string())
            .unwrap_or_default();
        let err = match result {
            Ok(ids) => {
                info!("auth success for scheme {scheme} and address {peer}");
                self.add_auth(conn, ids);
                ErrorCode::Ok
            }
            Err(code) => {
                warn!("Authentication failed for scheme: {scheme} from {peer}");
                code
            }
        };
        self.send(conn, reply_frame(AUTH_XID, 0, err, &Response::Empty));
        if err != ErrorCode::Ok {
            self.close(conn);
        }
    }

    fn add_auth(&mut self, conn: ConnId, ids: Vec<Id>) {
        if let Some(c) = self.conns.get_mut(&conn) {
            for id in ids {
                if !c.auth.contains(&id) {
                    c.auth.push(id);
                }
            }
        }
    }

    /// One SASL token (op 102), answered at once with zxid 0 (`processSasl`).
    fn handle_sasl(&mut self, conn: ConnId, xid: i32, token: &[u8]) {
        let Some(users) = self.cfg.sasl_users.clone() else {
            // No SASL server configured: Java answers OK with a null token.
            self.send(
                conn,
                reply_frame(xid, 0, ErrorCode::Ok, &Response::Sasl(Vec::new())),
            );
            return;
        };
        let nonce = self.next_nonce();
        let gssapi = self.cfg.sasl_gssapi.clone();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let session = match c.sasl.take() {
            Some(s) => Ok(s),
            None => SaslSession::start(gssapi.as_ref(), &users, nonce),
        };
        let result = session.and_then(|mut s| {
            let reply = s.step(token);
            c.sasl = Some(s);
            reply
        });
        match result {
            Ok(SaslReply {
                token,
                authorization_id: None,
            }) => self.send(conn, sasl_frame(xid, ErrorCode::Ok, token.as_deref())),
            Ok(SaslReply {
                token,
                authorization_id: Some(authz),
            }) => {
                info!("adding SASL authorization for authorizationID: {authz}");
                let mut ids = vec![Id::new("sasl", &authz)];
                if self.cfg.sasl_super_user.as_deref() == Some(authz.as_str()) {
                    ids.push(Id::new("super", ""));
                }
                self.add_auth(conn, ids);
                self.send(conn, sasl_frame(xid, ErrorCode::Ok, token.as_deref()));
            }
            Err(e) => {
                warn!("Client failed to SASL authenticate: {e}");
                self.send(conn, sasl_frame(xid, ErrorCode::AuthFailed, None));
                self.close(conn);
            }
        }
    }
}

/// A SASL reply (`ZooKeeperServer.processSasl`). A null token (length -1) ends a GSSAPI
/// exchange, and a failed exchange is the one error reply that carries a body:
/// `AuthFailed` plus a `SetSASLResponse` whose token is null.
fn sasl_frame(xid: i32, err: ErrorCode, token: Option<&[u8]>) -> bytes::Bytes {
    if let (ErrorCode::Ok, Some(token)) = (err, token) {
        return reply_frame(xid, 0, err, &Response::Sasl(token.to_vec()));
    }
    let mut hdr = BytesMut::new();
    encode_reply(
        &ReplyHeader {
            xid,
            zxid: 0,
            err: err.code(),
        },
        &Response::Empty,
        &mut hdr,
    );
    let mut buf = BytesMut::with_capacity(hdr.len() + 4);
    let len = i32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) + 4;
    buf.put_i32(len);
    buf.extend_from_slice(&hdr[4..]);
    buf.put_i32(-1);
    buf.freeze()
}
