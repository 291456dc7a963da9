//! The network shell of an ensemble member: the files and sockets around the pure
//! `election` and `zab` cores. Stands in for `QuorumPeer` (epoch files, role loop),
//! `QuorumCnxManager` (election connections) and the socket halves of `Learner` /
//! `LearnerHandler`.
//!
//! * `epochs` — `acceptedEpoch` / `currentEpoch` in the snapshot directory;
//! * `cnx_manager` (+ `cnx_link`) — one TCP connection per pair of peers on the
//!   election port, with Java's "higher sid dials" rule, bounded send queues,
//!   length-prefixed notifications and reconnection;
//! * `election_driver` — runs `election::Fle` over the connection manager;
//! * `snap_stream` — the database a leader sends after SNAP, and its decoding.

pub mod cnx_link;
pub mod cnx_manager;
pub mod election_driver;
pub mod epochs;
pub mod snap_stream;

pub use cnx_manager::{CnxConfig, CnxManager, Message};
pub use election_driver::{Decision, Election};
pub use epochs::{EpochFiles, Epochs};
