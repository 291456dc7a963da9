//! The typed view of a `QuorumPacket`: one variant per packet type with its payload
//! decoded (`Leader`'s constants; payloads as `Learner`/`LearnerHandler` write them).

use bytes::BytesMut;

use super::payload::{
    int_data, put_touches, read_int, read_long, session_and_bool, session_and_timeout, touches,
    ForwardedRequest, LearnerInfo, SessionTouch,
};
use super::{PacketType, QuorumPacket};
use crate::jute::{DecodeError, Limits};
use crate::proto::codec::{decode_txn, encode_txn};
use crate::proto::{ServerId, SessionId, TxnEntry, Zxid};

/// A Zab packet. `zxid` fields are the packet's zxid; PROPOSAL/INFORM carry it both in
/// the packet and in the txn header, and the packet's copy is the one peers act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    Request(ForwardedRequest),
    Proposal {
        zxid: Zxid,
        txn: TxnEntry,
    },
    Ack(Zxid),
    Commit(Zxid),
    /// Leader → learner: `touches` is `None`; learner → leader: its touch table
    /// (possibly empty but present).
    Ping {
        zxid: Zxid,
        touches: Option<Vec<SessionTouch>>,
    },
    /// Learner → leader: a client reconnected here with this session.
    RevalidateAsk {
        session: SessionId,
        timeout_ms: i32,
    },
    /// Leader → learner: whether that session is still alive.
    RevalidateAnswer {
        session: SessionId,
        valid: bool,
    },
    Sync,
    Inform {
        zxid: Zxid,
        txn: TxnEntry,
    },
    CommitAndActivate {
        zxid: Zxid,
        leader: ServerId,
    },
    NewLeader {
        zxid: Zxid,
        config: Option<Vec<u8>>,
    },
    FollowerInfo {
        zxid: Zxid,
        info: Option<LearnerInfo>,
    },
    UpToDate,
    Diff(Zxid),
    Trunc(Zxid),
    /// The snapshot stream follows this packet on the connection (not part of it).
    Snap(Zxid),
    ObserverInfo {
        zxid: Zxid,
        info: Option<LearnerInfo>,
    },
    LeaderInfo {
        zxid: Zxid,
        protocol: i32,
    },
    /// `epoch` is -1 when the learner had already accepted this epoch.
    AckEpoch {
        zxid: Zxid,
        epoch: i32,
    },
    InformAndActivate {
        zxid: Zxid,
        leader: ServerId,
        txn: TxnEntry,
    },
}

fn txn_bytes(t: &TxnEntry) -> Vec<u8> {
    let mut b = BytesMut::new();
    encode_txn(t, &mut b);
    b.to_vec()
}

impl Packet {
    pub fn ptype(&self) -> PacketType {
        use PacketType as T;
        match self {
            Packet::Request(_) => T::Request,
            Packet::Proposal { .. } => T::Proposal,
            Packet::Ack(_) => T::Ack,
            Packet::Commit(_) => T::Commit,
            Packet::Ping { .. } => T::Ping,
            Packet::RevalidateAsk { .. } | Packet::RevalidateAnswer { .. } => T::Revalidate,
            Packet::Sync => T::Sync,
            Packet::Inform { .. } => T::Inform,
            Packet::CommitAndActivate { .. } => T::CommitAndActivate,
            Packet::NewLeader { .. } => T::NewLeader,
            Packet::FollowerInfo { .. } => T::FollowerInfo,
            Packet::UpToDate => T::UpToDate,
            Packet::Diff(_) => T::Diff,
            Packet::Trunc(_) => T::Trunc,
            Packet::Snap(_) => T::Snap,
            Packet::ObserverInfo { .. } => T::ObserverInfo,
            Packet::LeaderInfo { .. } => T::LeaderInfo,
            Packet::AckEpoch { .. } => T::AckEpoch,
            Packet::InformAndActivate { .. } => T::InformAndActivate,
        }
    }

    /// The record as Apache ZooKeeper writes it for this packet.
    pub fn to_record(&self) -> QuorumPacket {
        let (zxid, data) = self.zxid_and_data();
        let authinfo = match self {
            Packet::Request(r) => Some(r.auth.clone()),
            _ => None,
        };
        QuorumPacket {
            ptype: self.ptype() as i32,
            zxid,
            data,
            authinfo,
        }
    }

    fn zxid_and_data(&self) -> (Zxid, Option<Vec<u8>>) {
        match self {
            Packet::Request(r) => (Zxid::NONE, Some(r.encode())),
            Packet::Proposal { zxid, txn } | Packet::Inform { zxid, txn } => {
                (*zxid, Some(txn_bytes(txn)))
            }
            Packet::Ack(z)
            | Packet::Commit(z)
            | Packet::Diff(z)
            | Packet::Trunc(z)
            | Packet::Snap(z) => (*z, None),
            Packet::Ping { zxid, touches } => (*zxid, touches.as_ref().map(|t| ping_data(t))),
            Packet::RevalidateAsk {
                session,
                timeout_ms,
            } => (Zxid::NONE, Some(revalidate_ask(*session, *timeout_ms))),
            Packet::RevalidateAnswer { session, valid } => {
                (Zxid::NONE, Some(revalidate_answer(*session, *valid)))
            }
            Packet::Sync => (Zxid::ZERO, None),
            Packet::UpToDate => (Zxid::NONE, None),
            Packet::CommitAndActivate { zxid, leader } => {
                (*zxid, Some(leader.0.to_be_bytes().to_vec()))
            }
            Packet::NewLeader { zxid, config } => (*zxid, config.clone()),
            Packet::FollowerInfo { zxid, info } | Packet::ObserverInfo { zxid, info } => {
                (*zxid, info.map(|i| i.encode()))
            }
            Packet::LeaderInfo { zxid, protocol } => (*zxid, Some(int_data(*protocol))),
            Packet::AckEpoch { zxid, epoch } => (*zxid, Some(int_data(*epoch))),
            Packet::InformAndActivate { zxid, leader, txn } => {
                let mut d = leader.0.to_be_bytes().to_vec();
                d.extend_from_slice(&txn_bytes(txn));
                (*zxid, Some(d))
            }
        }
    }

    /// Decodes the payload of a received record. Unknown types and malformed payloads
    /// are errors; a peer's shell logs them and, like `Learner`/`LearnerHandler`, either
    /// skips the packet or drops the connection.
    pub fn from_record(p: &QuorumPacket, lim: &Limits) -> Result<Packet, DecodeError> {
        let ty = PacketType::try_from(p.ptype)?;
        let data = p.data.as_deref();
        let z = p.zxid;
        match ty {
            PacketType::Request => {
                let auth = p.authinfo.clone().unwrap_or_default();
                Ok(Packet::Request(ForwardedRequest::decode(
                    need(data)?,
                    auth,
                )?))
            }
            PacketType::Proposal => Ok(Packet::Proposal {
                zxid: z,
                txn: decode_txn(need(data)?, lim)?,
            }),
            PacketType::Inform => Ok(Packet::Inform {
                zxid: z,
                txn: decode_txn(need(data)?, lim)?,
            }),
            PacketType::Revalidate => revalidate(need(data)?),
            PacketType::CommitAndActivate => {
                let (leader, _) = read_long(need(data)?)?;
                Ok(Packet::CommitAndActivate {
                    zxid: z,
                    leader: ServerId(leader),
                })
            }
            PacketType::InformAndActivate => {
                let (leader, rest) = read_long(need(data)?)?;
                Ok(Packet::InformAndActivate {
                    zxid: z,
                    leader: ServerId(leader),
                    txn: decode_txn(rest, lim)?,
                })
            }
            _ => Ok(simple(ty, z, data)?),
        }
    }
}

/// Packets whose payload is at most a few fixed fields.
fn simple(ty: PacketType, z: Zxid, data: Option<&[u8]>) -> Result<Packet, DecodeError> {
    Ok(match ty {
        PacketType::Ack => Packet::Ack(z),
        PacketType::Commit => Packet::Commit(z),
        PacketType::Ping => Packet::Ping {
            zxid: z,
            touches: data.map(touches),
        },
        PacketType::Sync => Packet::Sync,
        PacketType::NewLeader => Packet::NewLeader {
            zxid: z,
            config: data.map(<[u8]>::to_vec),
        },
        PacketType::FollowerInfo => Packet::FollowerInfo {
            zxid: z,
            info: data.and_then(LearnerInfo::decode),
        },
        PacketType::ObserverInfo => Packet::ObserverInfo {
            zxid: z,
            info: data.and_then(LearnerInfo::decode),
        },
        PacketType::UpToDate => Packet::UpToDate,
        PacketType::Diff => Packet::Diff(z),
        PacketType::Trunc => Packet::Trunc(z),
        PacketType::Snap => Packet::Snap(z),
        PacketType::LeaderInfo => Packet::LeaderInfo {
            zxid: z,
            protocol: read_int(need(data)?)?,
        },
        PacketType::AckEpoch => Packet::AckEpoch {
            zxid: z,
            epoch: read_int(need(data)?)?,
        },
        other => return Err(DecodeError::invalid("quorum packet type", other as i32)),
    })
}

fn need(data: Option<&[u8]>) -> Result<&[u8], DecodeError> {
    data.ok_or(DecodeError::Truncated)
}

/// The two directions share one type and are told apart by size: the learner's ask is
/// `long + int` (12 bytes), the leader's answer `long + boolean` (9 bytes).
fn revalidate(d: &[u8]) -> Result<Packet, DecodeError> {
    if d.len() >= 12 {
        let (_, (s, t)) = session_and_timeout(d).map_err(|_| DecodeError::Truncated)?;
        return Ok(Packet::RevalidateAsk {
            session: SessionId(s),
            timeout_ms: t,
        });
    }
    let (_, (s, v)) = session_and_bool(d).map_err(|_| DecodeError::Truncated)?;
    Ok(Packet::RevalidateAnswer {
        session: SessionId(s),
        valid: v,
    })
}

fn ping_data(t: &[SessionTouch]) -> Vec<u8> {
    let mut out = Vec::with_capacity(t.len() * 12);
    put_touches(&mut out, t);
    out
}

fn revalidate_ask(s: SessionId, timeout: i32) -> Vec<u8> {
    let mut out = s.0.to_be_bytes().to_vec();
    out.extend_from_slice(&timeout.to_be_bytes());
    out
}

fn revalidate_answer(s: SessionId, valid: bool) -> Vec<u8> {
    let mut out = s.0.to_be_bytes().to_vec();
    out.push(u8::from(valid));
    out
}
