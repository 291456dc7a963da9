//! Zab, the atomic broadcast between a leader and its learners, as pure state machines:
//! packets, persistence completions and ticks in, packets to send and storage work out.
//! Stands in for `Leader` + `LearnerHandler` (leader side) and `Learner`, `Follower`,
//! `Observer` (learner side); sockets, files and the data tree stay in the shell.
//!
//! The contract with the shell:
//! - actions are executed in the order given; `SaveEpoch`, `Truncate` and
//!   `TakeSnapshot` complete before the next action runs, `Persist` is asynchronous and
//!   reports back with `Input::Persisted { upto }` (everything logged through `upto` is
//!   durable);
//! - a learner ACKs a proposal, and the NEWLEADER, only after `Persisted` covers it, and
//!   saves `currentEpoch` before that NEWLEADER ACK; a leader counts its own ACK only after
//!   its own `Persisted`;
//! - `Deliver` hands committed txns to the state machine in zxid order;
//! - `GoLooking` ends the role: the shell closes the quorum connections and restarts
//!   the election.
//!
//! Time is counted in ticks (one tick = half a `tickTime`, the leader's ping period).

mod leader;
mod learner;
mod sync;

use std::collections::BTreeSet;

use crate::proto::quorum::{ForwardedRequest, Packet, SessionTouch};
use crate::proto::{ServerId, SessionId, TxnEntry, Zxid};

pub use leader::{Leader, LearnerCounts};
pub use learner::Learner;
pub use sync::{plan_sync, SyncPlan, SyncStart};

#[derive(Clone, Debug)]
pub struct ZabConfig {
    pub my_id: ServerId,
    pub voters: BTreeSet<ServerId>,
    pub observers: BTreeSet<ServerId>,
    /// Ticks allowed for discovery and synchronization (`initLimit`, in ticks).
    pub init_limit: u32,
    /// Ticks of silence tolerated once synced (`syncLimit`, in ticks).
    pub sync_limit: u32,
    /// Upper bound on proposals in flight at the leader; more are refused.
    pub max_outstanding: usize,
    /// Committed txns kept in memory for DIFF syncs (`zookeeper.commitLogCount`, 500).
    pub committed_log_max: usize,
    /// The quorum config text sent in NEWLEADER.
    pub config_text: Vec<u8>,
}

impl ZabConfig {
    pub fn is_quorum(&self, acks: &BTreeSet<ServerId>) -> bool {
        crate::election::is_quorum(acks, &self.voters)
    }
}

/// What the node read from disk when it took its role.
#[derive(Clone, Debug, Default)]
pub struct Durable {
    pub accepted_epoch: u32,
    pub current_epoch: u32,
    /// Last zxid in the txn log (everything in it is applied at load, as Java does).
    pub last_zxid: Zxid,
    /// Last zxid known to be on disk (less than `last_zxid` if a write is still pending).
    pub durable_zxid: Zxid,
    /// The newest logged txns (up to `committed_log_max`), oldest first.
    pub recent: Vec<TxnEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EpochKind {
    Accepted,
    Current,
}

/// Who asked for a `sync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    Learner(ServerId),
    Local,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Packet {
        from: ServerId,
        pkt: Packet,
    },
    /// The quorum connection to this peer closed.
    PeerDown(ServerId),
    Persisted {
        upto: Zxid,
    },
    Tick,
    /// Leader: propose this txn (its zxid is assigned here).
    Propose(TxnEntry),
    /// Leader: a sync request reached the head of the pipeline.
    SyncRequest(Origin),
    /// Leader: the session tracker's answer to a learner's REVALIDATE.
    RevalidateAnswer {
        to: ServerId,
        session: SessionId,
        valid: bool,
    },
    /// Learner: forward a client's write or sync to the leader.
    Forward(ForwardedRequest),
    /// Learner: a local session was touched (reported in the next PING).
    Touch(SessionTouch),
    /// Learner: a client reconnected here with an existing session.
    Revalidate {
        session: SessionId,
        timeout_ms: i32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Send {
        to: ServerId,
        pkt: Packet,
    },
    Persist {
        entries: Vec<TxnEntry>,
    },
    /// Cut the log back so `to` is the last txn, and reload the state from it.
    Truncate {
        to: Zxid,
    },
    /// Leader: send SNAP(`zxid`) and the database, which is exactly at `zxid` now.
    SendSnapshot {
        to: ServerId,
        zxid: Zxid,
    },
    /// Learner: the database loaded from the leader's stream is at `zxid`; write it out.
    TakeSnapshot {
        zxid: Zxid,
    },
    SaveEpoch {
        kind: EpochKind,
        epoch: u32,
    },
    Deliver {
        entry: TxnEntry,
    },
    /// Leader: a quorum acknowledged NEWLEADER; start serving.
    Established {
        epoch: u32,
    },
    /// Learner: UPTODATE arrived; start serving clients.
    Serving {
        epoch: u32,
    },
    /// Leader: a learner forwarded a client request; prep it and `Propose`.
    Request {
        from: ServerId,
        req: ForwardedRequest,
    },
    TouchSessions {
        from: ServerId,
        touches: Vec<SessionTouch>,
    },
    /// Leader: check the session and answer with `Input::RevalidateAnswer`.
    Revalidate {
        from: ServerId,
        session: SessionId,
        timeout_ms: i32,
    },
    /// Learner: the leader's answer to a REVALIDATE.
    Revalidated {
        session: SessionId,
        valid: bool,
    },
    SyncDone {
        origin: Origin,
    },
    /// The outstanding-proposal window is full (or the leader is not serving).
    ProposeRefused(TxnEntry),
    CloseLearner(ServerId),
    GoLooking {
        reason: &'static str,
    },
}

/// One node's Zab role.
#[derive(Debug)]
pub enum Zab {
    Leader(Leader),
    Learner(Learner),
}

impl Zab {
    pub fn step(&mut self, input: Input) -> Vec<Action> {
        match self {
            Zab::Leader(l) => l.step(input),
            Zab::Learner(l) => l.step(input),
        }
    }

    pub fn take_actions(&mut self) -> Vec<Action> {
        match self {
            Zab::Leader(l) => l.take_actions(),
            Zab::Learner(l) => l.take_actions(),
        }
    }

    /// Metric values the role recorded since the last call (`ServerMetrics` samples
    /// for the core's registry).
    pub fn take_samples(&mut self) -> Vec<crate::node::recorded::Sample> {
        match self {
            Zab::Leader(l) => l.take_samples(),
            Zab::Learner(_) => Vec::new(),
        }
    }

    pub fn is_stopped(&self) -> bool {
        match self {
            Zab::Leader(l) => l.is_stopped(),
            Zab::Learner(l) => l.is_stopped(),
        }
    }
}
