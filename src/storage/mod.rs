//! Durable storage in Apache ZooKeeper's on-disk format (`FileTxnSnapLog`, `FileTxnLog`,
//! `FileSnap`, `SnapStream`, `PurgeTxnLog`, `SyncRequestProcessor`'s snapshot trigger).
//!
//! A `dataDir` written by Apache ZooKeeper 3.8 is read as is, and the files written here
//! are read by Apache ZooKeeper, so a deployment can move between the two both ways.
//!
//! * `txnlog::format`, `snapshot::format` — the byte formats, pure (no IO);
//! * `txnlog::segment` — one preallocated log file being appended to (a batch per
//!   `pwrite`; why not stores through a map is measured there);
//! * `txnlog::reader` — log files read through a memory map;
//! * `txnlog::writer` — the log files in order: roll, group commit (fsync);
//! * `snapshot::writer` / `snapshot::reader` — whole snapshot files;
//! * `datadir` — file names and listing; `recovery` — snapshot + logs → tree;
//! * `purge` — autopurge; `policy` — when to snapshot; `service` — the threads the
//!   server runs (log writer, snapshot writer) behind the driver's `TxnLog` seam;
//!   `sync_metrics` — what one group commit records (`SyncRequestProcessor`'s metrics);
//! * `dump` — `rzk txnlog-dump` / `rzk snapshot-dump`; `bench` (+ `bench_java`) — the
//!   storage benchmark, next to Apache ZooKeeper's `FileTxnLog` and server;
//! * `settings` — the storage settings read from zoo.cfg / `zookeeper.*` properties.

pub mod bench;
pub(crate) mod bench_java;
pub mod checksum;
pub mod datadir;
pub mod dump;
pub mod history;
pub mod policy;
pub mod purge;
pub mod recovery;
pub mod service;
pub mod settings;
pub mod snapshot;
pub mod sync_metrics;
pub mod txnlog;

pub use datadir::DataDirs;

/// Whole ms since `start`, the unit of every time Java's `ServerMetrics` keep.
pub fn elapsed_ms(start: std::time::Instant) -> i64 {
    i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX)
}
pub use recovery::{recover, Recovered, RecoveryError};
pub use service::DiskLog;
pub use settings::StorageConfig;
