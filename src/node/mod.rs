//! The server core and its driver (`ZooKeeperServer` with its processor chain).
//!
//! [`Core`] is a synchronous state machine that owns the data tree, the session tracker,
//! the watch manager and the request pipeline. It never touches a socket, a file or a
//! clock: the driver feeds it [`Input`]s (connections opening, decoded requests, ticks,
//! persistence completions) and executes the [`Action`]s it emits (send a frame, close a
//! connection, persist a batch of transactions).
//!
//! ```text
//!   Input::Request ──► reads: answered now, or queued behind the connection's writes
//!                 └──► writes: prep → Txn (zxid assigned) → Action::Persist
//!   Input::Persisted{upto} ──► apply txns ≤ upto in zxid order
//!                              ├─ watch events (Action::Send to watchers)
//!                              └─ reply to the origin, then its queued reads
//! ```
//!
//! A reply is never sent before its transaction is durable, and watch events always
//! precede the reply that reflects the change, as in Apache ZooKeeper.

pub mod conn;
pub mod core;
pub mod driver;
pub mod four_letter;
mod measured;
#[cfg(test)]
mod measured_tests;
pub mod quorum;
mod reads;
pub mod recorded;
mod replies;
mod requests;
mod response_cache;
pub mod restore;
mod sessions;
pub mod snapshot;
pub mod stats;
#[cfg(test)]
mod txn_digest_tests;
mod writes;

pub use self::core::{Core, CoreConfig};
pub use self::quorum::Role;
pub use self::restore::SnapshotView;

use crate::proto::quorum::{ForwardedRequest, SessionTouch};
use std::sync::Arc;

use crate::proto::{ConnectRequest, Request, ServerId, SessionId, TxnEntry};
use bytes::Bytes;

/// Identifies one client connection for its whole life (never reused).
pub type ConnId = u64;

/// A request body as the connection task decoded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestBody {
    Ok(Request),
    /// The opcode is known but its record did not decode (`MarshallingError`).
    Malformed(crate::proto::OpCode),
    /// Not an opcode a client may send: answered `Unimplemented`, then closed.
    Unknown(i32),
}

#[derive(Debug)]
pub enum Input {
    /// A connection was accepted from `peer` (`ip:port`); `auth` are the ids its TLS
    /// handshake proved (x509), added after the connection's `ip` id.
    Opened {
        conn: ConnId,
        peer: std::net::SocketAddr,
        auth: Vec<crate::proto::Id>,
    },
    /// `bytes`: the frame as read, length prefix included (`bytes_received_count`).
    Connect {
        conn: ConnId,
        req: ConnectRequest,
        bytes: u32,
    },
    Request {
        conn: ConnId,
        xid: i32,
        body: RequestBody,
        bytes: u32,
    },
    /// The socket closed (or the connection was dropped by the shell).
    Closed { conn: ConnId },
    /// Time passed; the clock readings are set with [`Core::set_time`].
    Tick,
    /// Every transaction with zxid ≤ `upto` is durable.
    Persisted { upto: i64 },
    /// Ensemble: this txn is committed (delivered in zxid order).
    Committed(TxnEntry),
    /// Leader: a learner forwarded a client request.
    Forwarded {
        from: ServerId,
        req: ForwardedRequest,
    },
    /// Leader: sessions a learner reported active in its PING.
    Touches(Vec<SessionTouch>),
    /// Leader: a learner asks whether a session is still alive.
    RevalidateAsk {
        from: ServerId,
        session: SessionId,
        timeout_ms: i32,
    },
    /// Learner: the leader's answer to `Action::Revalidate`.
    Revalidated { session: SessionId, valid: bool },
    /// The oldest sync this server asked for is done.
    SyncDone,
    /// Metric values recorded by a shell (the log writer's fsync times, …).
    Samples(Vec<recorded::Sample>),
    /// A four-letter word the connection's shell answers without the core's state
    /// (`ruok`, `envi`, a refused word…): counted as a received packet all the same.
    WordReceived { conn: ConnId },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Write this already-framed message to the connection.
    Send { conn: ConnId, frame: Bytes },
    /// The handshake finished: the connection may read requests.
    Established { conn: ConnId },
    /// Close after everything queued before has been written.
    Close { conn: ConnId },
    /// Make these transactions durable, then answer `Input::Persisted`.
    /// Shared with the core, which applies them once durable: a txn is not copied to
    /// reach the log.
    Persist { entries: Vec<Arc<TxnEntry>> },
    /// Leader: propose this txn to the ensemble; `Input::Committed` follows.
    Propose(TxnEntry),
    /// Learner: send this request to the leader.
    Forward(ForwardedRequest),
    /// Ask the ensemble for a sync on behalf of `origin`; `Input::SyncDone` follows for
    /// local ones.
    Sync(crate::zab::Origin),
    /// Learner: ask the leader whether `session` is alive.
    Revalidate { session: SessionId, timeout_ms: i32 },
    /// Leader: answer a learner's revalidation.
    RevalidateAnswer {
        to: ServerId,
        session: SessionId,
        valid: bool,
    },
}
