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
//! - `checker`: one invariant per file.
//!
//! The replicated state machine is the sequence of applied txns itself (the "tree").

mod checker;
mod disk;
mod exec;
mod net;
mod node;
mod rng;
mod world;

#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod sweep;

pub use checker::Violation;
pub use disk::TornTail;
pub use rng::Rng;
pub use world::{Options, World};
