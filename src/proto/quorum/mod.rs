//! Server-to-server wire formats: the Zab `QuorumPacket` stream between a leader and its
//! learners (quorum port) and the election port's connection header and Fast Leader
//! Election notifications.
//!
//! Stands in for `QuorumPacket`/`LearnerInfo` of `zookeeper.jute`, the packet-type
//! constants of `Leader`, the hand-written payloads of `Learner`/`LearnerHandler`, and
//! the `buildMsg`/`InitialMessage` formats of `FastLeaderElection` and
//! `QuorumCnxManager`. Pure: bytes in, values out; byte-exact with 3.8/3.9.
//!
//! Two layers: [`QuorumPacket`] is the jute record as it travels (type, zxid, data,
//! authinfo), and [`Packet`] is the typed view with each type's payload decoded.

mod election;
mod packet;
mod payload;

use bytes::BufMut;

use crate::jute::primitives::{buffer, fail, finish, int, long, put_buffer, vector, JResult};
use crate::jute::{DecodeError, Limits};
use crate::proto::codec::{id, put_id};
use crate::proto::{Id, Zxid};

pub use election::{
    decode_connection_header, decode_notification, encode_connection_header, encode_notification,
    ConnectionHeader, Notification, PeerState, MAX_ELECTION_MESSAGE, NOTIFICATION_VERSION,
    PROTOCOL_V1, PROTOCOL_V2,
};
pub use packet::Packet;
pub use payload::{ForwardedRequest, LearnerInfo, SessionTouch, ZAB_PROTOCOL_VERSION};

/// The `type` of a `QuorumPacket` (the `static final int`s of `Leader`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(i32)]
pub enum PacketType {
    Request = 1,
    Proposal = 2,
    Ack = 3,
    Commit = 4,
    Ping = 5,
    Revalidate = 6,
    Sync = 7,
    Inform = 8,
    CommitAndActivate = 9,
    NewLeader = 10,
    FollowerInfo = 11,
    UpToDate = 12,
    Diff = 13,
    Trunc = 14,
    Snap = 15,
    ObserverInfo = 16,
    LeaderInfo = 17,
    AckEpoch = 18,
    InformAndActivate = 19,
}

impl TryFrom<i32> for PacketType {
    type Error = DecodeError;
    fn try_from(v: i32) -> Result<PacketType, DecodeError> {
        use PacketType::*;
        const ALL: [PacketType; 19] = [
            Request,
            Proposal,
            Ack,
            Commit,
            Ping,
            Revalidate,
            Sync,
            Inform,
            CommitAndActivate,
            NewLeader,
            FollowerInfo,
            UpToDate,
            Diff,
            Trunc,
            Snap,
            ObserverInfo,
            LeaderInfo,
            AckEpoch,
            InformAndActivate,
        ];
        ALL.into_iter()
            .find(|t| *t as i32 == v)
            .ok_or(DecodeError::invalid("quorum packet type", v))
    }
}

/// The jute `QuorumPacket` record. `data` and `authinfo` keep the null/empty distinction
/// because peers send both (e.g. a learner's PING echo carries an empty, non-null table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumPacket {
    pub ptype: i32,
    pub zxid: Zxid,
    pub data: Option<Vec<u8>>,
    pub authinfo: Option<Vec<Id>>,
}

impl QuorumPacket {
    pub fn new(ptype: PacketType, zxid: Zxid, data: Option<Vec<u8>>) -> QuorumPacket {
        QuorumPacket {
            ptype: ptype as i32,
            zxid,
            data,
            authinfo: None,
        }
    }
}

/// Smallest encoding of an `Id` (two empty strings), to bound the authinfo count.
const MIN_ID: usize = 8;

fn authinfo<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Option<Vec<Id>>> {
    let (rest, count) = int(i)?;
    if count == -1 {
        return Ok((rest, None));
    }
    // The quorum port is a stream: the count can arrive before its ids. Too few bytes
    // for them yet means "read more"; only a count no packet could hold is malformed.
    let needed = usize::try_from(count)
        .ok()
        .and_then(|n| n.checked_mul(MIN_ID));
    if matches!(needed, Some(n) if n > rest.len() && n <= lim.max_field) {
        return fail(DecodeError::Truncated);
    }
    let (rest, ids) = vector(i, MIN_ID, |i| id(i, lim))?;
    Ok((rest, Some(ids)))
}

fn quorum_packet<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, QuorumPacket> {
    let (i, ptype) = int(i)?;
    let (i, zxid) = long(i)?;
    let (i, data) = buffer(i, lim)?;
    let (i, authinfo) = authinfo(i, lim)?;
    Ok((
        i,
        QuorumPacket {
            ptype,
            zxid: Zxid(zxid),
            data,
            authinfo,
        },
    ))
}

/// Writes one packet as `BinaryOutputArchive.writeRecord(qp, "packet")` does: no framing.
pub fn encode_quorum_packet(p: &QuorumPacket, out: &mut impl BufMut) {
    out.put_i32(p.ptype);
    out.put_i64(p.zxid.0);
    put_buffer(out, p.data.as_deref());
    match &p.authinfo {
        None => out.put_i32(-1),
        Some(ids) => crate::jute::primitives::put_vector(out, ids, |o, v| put_id(o, v)),
    }
}

/// Reads one packet from the start of a stream buffer. The quorum port has no length
/// prefix, so running out of bytes is `Ok(None)` ("read more"), and `Ok(Some((p, n)))`
/// consumed `n` bytes. Oversized fields are errors (the connection must be dropped).
pub fn split_quorum_packet(
    buf: &[u8],
    lim: &Limits,
) -> Result<Option<(QuorumPacket, usize)>, DecodeError> {
    match finish(quorum_packet(buf, lim)) {
        Ok((rest, p)) => Ok(Some((p, buf.len() - rest.len()))),
        Err(DecodeError::Truncated) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Decodes exactly one packet from `buf`.
pub fn decode_quorum_packet(buf: &[u8], lim: &Limits) -> Result<QuorumPacket, DecodeError> {
    let (_, p) = finish(quorum_packet(buf, lim))?;
    Ok(p)
}

#[cfg(test)]
mod tests;
