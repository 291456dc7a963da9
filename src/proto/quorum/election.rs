//! The election port: the connection header the dialling peer sends first
//! (`QuorumCnxManager.InitialMessage`) and the Fast Leader Election notification
//! (`FastLeaderElection.buildMsg` and `Messenger.WorkerReceiver`'s length rules).

use bytes::BufMut;
use nom::number::complete::{be_i32, be_i64};

use crate::jute::primitives::JResult;
use crate::jute::DecodeError;

/// "V1" header marker (3.5+).
pub const PROTOCOL_V1: i64 = -65536;
/// "V2" header marker (3.6+, only with `multiAddress.enabled=true`).
pub const PROTOCOL_V2: i64 = -65535;
/// Notification format sent by 3.5+.
pub const NOTIFICATION_VERSION: i32 = 2;
/// Largest election message accepted (`QuorumCnxManager.PACKETMAXSIZE`).
pub const MAX_ELECTION_MESSAGE: usize = 512 * 1024;
/// Largest address field in the header (`InitialMessage`'s 2048-byte limit).
const MAX_ADDR_LEN: usize = 2048;

/// What the dialling peer announces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionHeader {
    /// 3.4: the bare sid.
    Legacy { sid: i64 },
    /// V1: one election address `host:port`.
    V1 { sid: i64, addr: String },
    /// V2: several addresses joined with `|`.
    V2 { sid: i64, addrs: Vec<String> },
}

impl ConnectionHeader {
    pub fn sid(&self) -> i64 {
        match self {
            ConnectionHeader::Legacy { sid }
            | ConnectionHeader::V1 { sid, .. }
            | ConnectionHeader::V2 { sid, .. } => *sid,
        }
    }
}

pub fn encode_connection_header(h: &ConnectionHeader, out: &mut impl BufMut) {
    let (marker, sid, addr) = match h {
        ConnectionHeader::Legacy { sid } => {
            out.put_i64(*sid);
            return;
        }
        ConnectionHeader::V1 { sid, addr } => (PROTOCOL_V1, *sid, addr.clone()),
        ConnectionHeader::V2 { sid, addrs } => (PROTOCOL_V2, *sid, addrs.join("|")),
    };
    out.put_i64(marker);
    out.put_i64(sid);
    out.put_i32(i32::try_from(addr.len()).unwrap_or(i32::MAX));
    out.put_slice(addr.as_bytes());
}

/// Reads the header from the start of a connection's bytes: `Ok(None)` means more bytes
/// are needed, `Ok(Some((h, n)))` consumed `n` bytes. A bad marker or address length is
/// an error (the socket is closed, as in `QuorumCnxManager.handleConnection`).
pub fn decode_connection_header(
    b: &[u8],
) -> Result<Option<(ConnectionHeader, usize)>, DecodeError> {
    let Ok((rest, first)) = be_i64::<_, DecodeError>(b) else {
        return Ok(None);
    };
    if first >= 0 {
        return Ok(Some((ConnectionHeader::Legacy { sid: first }, 8)));
    }
    if first != PROTOCOL_V1 && first != PROTOCOL_V2 {
        return Err(DecodeError::invalid("election protocol version", first));
    }
    let Ok((rest, (sid, len))) = sid_and_len(rest) else {
        return Ok(None);
    };
    let n = match usize::try_from(len) {
        Ok(n) if (1..=MAX_ADDR_LEN).contains(&n) => n,
        _ => {
            return Err(DecodeError::TooLarge {
                len: len.into(),
                max: MAX_ADDR_LEN,
            })
        }
    };
    let Some(addr) = rest.get(..n) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(addr).into_owned();
    let h = if first == PROTOCOL_V1 {
        ConnectionHeader::V1 { sid, addr: text }
    } else {
        ConnectionHeader::V2 {
            sid,
            addrs: text.split('|').map(str::to_string).collect(),
        }
    };
    Ok(Some((h, 20 + n)))
}

fn sid_and_len(b: &[u8]) -> JResult<'_, (i64, i32)> {
    let (b, sid) = be_i64(b)?;
    let (b, len) = be_i32(b)?;
    Ok((b, (sid, len)))
}

/// `QuorumPeer.ServerState` as numbered on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(i32)]
pub enum PeerState {
    Looking = 0,
    Following = 1,
    Leading = 2,
    Observing = 3,
}

impl TryFrom<i32> for PeerState {
    type Error = DecodeError;
    fn try_from(v: i32) -> Result<PeerState, DecodeError> {
        match v {
            0 => Ok(PeerState::Looking),
            1 => Ok(PeerState::Following),
            2 => Ok(PeerState::Leading),
            3 => Ok(PeerState::Observing),
            _ => Err(DecodeError::invalid("peer state", v)),
        }
    }
}

/// One election notification. `config` is the sender's quorum config text (version ≥ 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub state: PeerState,
    pub leader: i64,
    pub zxid: i64,
    pub election_epoch: i64,
    pub peer_epoch: i64,
    pub version: i32,
    pub config: Vec<u8>,
}

/// Writes the message body (version-2 layout) without the connection's length prefix.
pub fn encode_notification(n: &Notification, out: &mut impl BufMut) {
    out.put_i32(n.state as i32);
    out.put_i64(n.leader);
    out.put_i64(n.zxid);
    out.put_i64(n.election_epoch);
    out.put_i64(n.peer_epoch);
    out.put_i32(n.version);
    out.put_i32(i32::try_from(n.config.len()).unwrap_or(i32::MAX));
    out.put_slice(&n.config);
}

/// Decodes one message body with `WorkerReceiver`'s rules: fewer than 28 bytes is
/// refused; exactly 28 is the pre-3.4 layout (peer epoch derived from the zxid); 40 is
/// the 3.4 layout whose version field is ignored; longer messages carry a version and,
/// from version 2 on, the config text.
pub fn decode_notification(b: &[u8]) -> Result<Notification, DecodeError> {
    if b.len() < 28 {
        return Err(DecodeError::Truncated);
    }
    let (rest, (state, leader, zxid, election_epoch)) =
        head(b).map_err(|_| DecodeError::Truncated)?;
    let state = PeerState::try_from(state)?;
    let mut n = Notification {
        state,
        leader,
        zxid,
        election_epoch,
        peer_epoch: zxid >> 32,
        version: 0,
        config: vec![],
    };
    if b.len() == 28 {
        return Ok(n);
    }
    let (rest, peer_epoch) = be_i64::<_, DecodeError>(rest).map_err(|_| DecodeError::Truncated)?;
    n.peer_epoch = peer_epoch;
    if b.len() == 40 {
        return Ok(n);
    }
    // Between 28 and 40 bytes Java underflows reading the version and drops the message.
    let (rest, version) = be_i32::<_, DecodeError>(rest).map_err(|_| DecodeError::Truncated)?;
    n.version = version;
    if version > 1 {
        let (rest, len) = be_i32::<_, DecodeError>(rest).map_err(|_| DecodeError::Truncated)?;
        let cfg = usize::try_from(len).ok().and_then(|l| rest.get(..l));
        n.config = cfg
            .ok_or(DecodeError::invalid("notification config length", len))?
            .to_vec();
    }
    Ok(n)
}

fn head(b: &[u8]) -> JResult<'_, (i32, i64, i64, i64)> {
    let (b, s) = be_i32(b)?;
    let (b, l) = be_i64(b)?;
    let (b, z) = be_i64(b)?;
    let (b, e) = be_i64(b)?;
    Ok((b, (s, l, z, e)))
}
