//! Invariants checked after every observable step of the simulation, one per file. Each
//! checker sees the same stream of `Observation`s and keeps its own model.

mod delivery_order;
mod durability;
mod ephemerals;
mod epochs;
mod equal_state;
mod leader_per_epoch;
pub use crate::check::linearizable;
mod prefix;
pub mod sessions;

use std::fmt;

use crate::proto::{ServerId, TxnEntry, Zxid};
use crate::zab::EpochKind;

/// Something a node did that an invariant has an opinion about.
#[derive(Debug)]
pub enum Observation<'a> {
    /// A leader got its NEWLEADER quorum; `log` is its whole history at that moment.
    Established {
        node: ServerId,
        epoch: u32,
        log: &'a [TxnEntry],
    },
    SaveEpoch {
        node: ServerId,
        kind: EpochKind,
        epoch: u32,
    },
    /// A node loaded its epochs from disk after a restart.
    Loaded {
        node: ServerId,
        accepted: u32,
        current: u32,
    },
    /// `prev` is the last zxid the node had applied before this delivery.
    Deliver {
        node: ServerId,
        prev: Zxid,
        entry: &'a TxnEntry,
    },
    Truncate {
        node: ServerId,
        removed: &'a [TxnEntry],
    },
    /// The end of a run: every node's applied state.
    Final {
        states: &'a [(ServerId, &'a [TxnEntry])],
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub checker: &'static str,
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.checker, self.what)
    }
}

pub trait Checker {
    fn observe(&mut self, obs: &Observation<'_>) -> Result<(), Violation>;
}

fn violation(checker: &'static str, what: String) -> Result<(), Violation> {
    Err(Violation { checker, what })
}

/// Same zxid, same txn: the header and record, ignoring an optional digest.
fn same(a: &TxnEntry, b: &TxnEntry) -> bool {
    a.header == b.header && a.txn == b.txn
}

/// All checkers, fed in a fixed order.
pub struct Checkers(Vec<Box<dyn Checker>>);

impl Default for Checkers {
    fn default() -> Checkers {
        Checkers(vec![
            Box::new(leader_per_epoch::LeaderPerEpoch::default()),
            Box::new(epochs::EpochsNeverDecrease::default()),
            Box::new(prefix::PrefixAgreement::default()),
            Box::new(delivery_order::DeliveryOrder::default()),
            Box::new(durability::CommittedDurability::default()),
            Box::new(equal_state::EqualStateAtEqualZxid),
            Box::new(ephemerals::EphemeralsWithSessions),
        ])
    }
}

impl Checkers {
    pub fn observe(&mut self, obs: &Observation<'_>) -> Result<(), Violation> {
        self.0.iter_mut().try_for_each(|c| c.observe(obs))
    }
}
