//! The hand-written payloads inside `QuorumPacket.data`: `LearnerInfo` (jute), and the
//! plain `DataOutputStream` encodings of REQUEST, PING session tables, REVALIDATE,
//! LEADERINFO and ACKEPOCH (`Learner`, `LearnerHandler`, `Leader`).

use bytes::BufMut;
use nom::number::complete::{be_i32, be_i64, be_u8};

use crate::jute::primitives::JResult;
use crate::jute::DecodeError;
use crate::proto::{Id, SessionId};

/// Zab 1.0's protocol version, carried in LearnerInfo and LEADERINFO (`0x10000`).
pub const ZAB_PROTOCOL_VERSION: i32 = 0x10000;

/// `LearnerInfo`. The leader reads it positionally (`LearnerHandler.run`): 3.4 learners
/// send no config version, pre-1.0 learners only a sid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LearnerInfo {
    pub server_id: i64,
    pub protocol_version: Option<i32>,
    pub config_version: Option<i64>,
}

impl LearnerInfo {
    pub fn current(server_id: i64, config_version: i64) -> LearnerInfo {
        LearnerInfo {
            server_id,
            protocol_version: Some(ZAB_PROTOCOL_VERSION),
            config_version: Some(config_version),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20);
        out.put_i64(self.server_id);
        if let Some(v) = self.protocol_version {
            out.put_i32(v);
            if let Some(c) = self.config_version {
                out.put_i64(c);
            }
        }
        out
    }

    /// `None` when the data is too short to hold even a sid (the leader then assigns a
    /// negative id of its own).
    pub fn decode(b: &[u8]) -> Option<LearnerInfo> {
        let (rest, server_id) = be_i64::<_, DecodeError>(b).ok()?;
        let (rest, protocol_version) = match be_i32::<_, DecodeError>(rest) {
            Ok((r, v)) => (r, Some(v)),
            Err(_) => (rest, None),
        };
        let config_version = be_i64::<_, DecodeError>(rest).ok().map(|(_, v)| v);
        Some(LearnerInfo {
            server_id,
            protocol_version,
            config_version,
        })
    }
}

/// One `(sessionId, timeout)` entry of a learner's PING touch table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionTouch {
    pub session: SessionId,
    pub timeout_ms: i32,
}

pub(super) fn put_touches(out: &mut Vec<u8>, t: &[SessionTouch]) {
    for s in t {
        out.put_i64(s.session.0);
        out.put_i32(s.timeout_ms);
    }
}

/// Reads entries while 12 bytes remain, as `LearnerHandler` does with `dis.available()`.
pub(super) fn touches(mut b: &[u8]) -> Vec<SessionTouch> {
    let mut out = Vec::with_capacity(b.len() / 12);
    while let Ok((rest, (session, timeout_ms))) = session_and_int(b) {
        out.push(SessionTouch {
            session: SessionId(session),
            timeout_ms,
        });
        b = rest;
    }
    out
}

fn session_and_int(b: &[u8]) -> JResult<'_, (i64, i32)> {
    let (b, s) = be_i64(b)?;
    let (b, t) = be_i32(b)?;
    Ok((b, (s, t)))
}

pub(super) fn session_and_bool(b: &[u8]) -> JResult<'_, (i64, bool)> {
    let (b, s) = be_i64(b)?;
    let (b, v) = be_u8(b)?;
    Ok((b, (s, v != 0)))
}

pub(super) fn session_and_timeout(b: &[u8]) -> JResult<'_, (i64, i32)> {
    session_and_int(b)
}

/// A client request a learner forwards to the leader (REQUEST): the request record's
/// bytes stay exactly as the client sent them, so the leader's prep decodes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardedRequest {
    pub session: SessionId,
    pub cxid: i32,
    pub op: i32,
    pub body: Vec<u8>,
    pub auth: Vec<Id>,
}

impl ForwardedRequest {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.body.len());
        out.put_i64(self.session.0);
        out.put_i32(self.cxid);
        out.put_i32(self.op);
        out.put_slice(&self.body);
        out
    }

    pub(super) fn decode(b: &[u8], auth: Vec<Id>) -> Result<ForwardedRequest, DecodeError> {
        let (body, (session, cxid, op)) = prefix(b).map_err(|_| DecodeError::Truncated)?;
        Ok(ForwardedRequest {
            session: SessionId(session),
            cxid,
            op,
            body: body.to_vec(),
            auth,
        })
    }
}

fn prefix(b: &[u8]) -> JResult<'_, (i64, i32, i32)> {
    let (b, s) = be_i64(b)?;
    let (b, c) = be_i32(b)?;
    let (b, o) = be_i32(b)?;
    Ok((b, (s, c, o)))
}

pub(super) fn int_data(v: i32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

pub(super) fn read_int(b: &[u8]) -> Result<i32, DecodeError> {
    be_i32::<_, DecodeError>(b)
        .map(|(_, v)| v)
        .map_err(|_| DecodeError::Truncated)
}

pub(super) fn read_long(b: &[u8]) -> Result<(i64, &[u8]), DecodeError> {
    be_i64::<_, DecodeError>(b)
        .map(|(r, v)| (v, r))
        .map_err(|_| DecodeError::Truncated)
}
