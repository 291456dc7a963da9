//! Deterministic simulation of an ensemble: N nodes running the pure election and Zab
//! cores over a simulated network and disk, with faults, a write workload and invariant
//! checkers. One seed decides everything, so a failing run replays exactly.
//!
//! There is no Apache ZooKeeper counterpart; the approach follows TigerBeetle's VOPR and
//! etcd's raft interaction tests. The world is a single-threaded loop over an event
//! queue ordered by (virtual time, sequence number).
//!
//! - `net`: per-connection FIFO delivery with random latency, connection resets and
//!   partitions (election messages and quorum connections modelled separately, since
//!   Zab needs reliable FIFO connections and notices when one breaks);
//! - `disk`: a txn log with live and durable parts, epoch files, crashes that keep a
//!   random prefix of the unsynced tail (torn writes);
//! - `node`: one server: `Fle` while looking, then a `Zab` role, executing its actions;
//! - `checker`: one invariant per file; `checker::linearizable` is a standalone
//!   linearizability checker for znode register histories, reusable outside the
//!   simulator;
//! - `model`: the data the txns build (znodes, sessions) and the leader's request
//!   preparation; `serve`: the servers' client side (sessions, FIFO replies, sync);
//!   `client`: simulated client sessions and the history they record.
//!
//! The replicated state machine is the sequence of applied txns itself; `model::Tree`
//! is the data it builds, which clients read.

mod checker;
mod client;
#[cfg(test)]
mod client_scenarios;
mod disk;
mod exec;
mod model;
mod net;
mod node;
mod rng;
mod serve;
mod world;

#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod sweep;

pub use checker::{linearizable, Violation};
pub use client::{Client, Record};
pub use disk::TornTail;
pub use model::Req;
pub use rng::Rng;
pub use world::{Options, World};
