//! The storage threads behind the driver's [`TxnLog`] seam (`SyncRequestProcessor` and
//! its snapshot thread, `DatadirCleanupManager`).
//!
//! The log writer thread takes every batch that is waiting, appends it, commits (one
//! fsync for all of them: group commit) and reports `Input::Persisted{upto}` through
//! the driver's event channel, so the core goes on serving reads while a batch syncs.
//! When the snapshot policy fires it rolls the log and sends `Event::Snapshot`; the
//! driver answers with a copy of the tree taken from the core, which a snapshot
//! thread writes (skipped, as in Java, while the previous one is still running).
//! A failed append or fsync sends `Event::Failed` and stops the writer: nothing after
//! it is acknowledged.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::thread::JoinHandle;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::policy::SnapPolicy;
use super::purge::AutoPurge;
use super::settings::StorageConfig;
use super::snapshot::{writer, Compression};
use super::txnlog::writer::LogWriter;
use crate::node::driver::{Event, TxnLog};
use crate::node::{Core, Input};
use crate::proto::TxnEntry;
use crate::tree::DataTree;

/// The on-disk transaction log as the driver sees it.
pub struct DiskLog {
    batches: Option<std_mpsc::Sender<Vec<TxnEntry>>>,
    writer: Option<JoinHandle<()>>,
    snapshots: SnapshotTaker,
    _purge: Option<AutoPurge>,
}

impl DiskLog {
    /// Starts the writer thread; the first txn opens a new log file (a restarted
    /// server never appends to an old one). Autopurge starts if configured.
    pub fn start(cfg: &StorageConfig, events: mpsc::Sender<Event>) -> io::Result<DiskLog> {
        let dirs = cfg.dirs();
        let log = LogWriter::new(dirs.log_dir.clone(), cfg.log_writer());
        let policy = SnapPolicy::new(cfg.snap_count, cfg.snap_size, rand::random());
        let (tx, rx) = std_mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("rzk-txnlog".into())
            .spawn(move || write_loop(rx, log, policy, events))?;
        let purge = (cfg.purge_interval_hours > 0)
            .then(|| AutoPurge::start(dirs.clone(), cfg.snap_retain_count, cfg.purge_interval_hours))
            .transpose()?;
        Ok(DiskLog {
            batches: Some(tx),
            writer: Some(writer),
            snapshots: SnapshotTaker::new(dirs.snap_dir, cfg.compression),
            _purge: purge,
        })
    }
}

impl TxnLog for DiskLog {
    fn append(&mut self, entries: Vec<TxnEntry>) -> io::Result<Option<i64>> {
        let sent = self.batches.as_ref().map(|tx| tx.send(entries));
        match sent {
            Some(Ok(())) => Ok(None),
            _ => Err(io::Error::other("the transaction log writer has stopped")),
        }
    }

    fn snapshot(&mut self, core: &Core) {
        self.snapshots.take(core);
    }
}

impl Drop for DiskLog {
    /// Lets the writer finish what it was given, then waits for a running snapshot.
    fn drop(&mut self) {
        self.batches = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        self.snapshots.wait();
    }
}

fn write_loop(
    rx: std_mpsc::Receiver<Vec<TxnEntry>>,
    mut log: LogWriter,
    mut policy: SnapPolicy,
    events: mpsc::Sender<Event>,
) {
    while let Ok(mut batch) = rx.recv() {
        while let Ok(more) = rx.try_recv() {
            batch.extend(more);
        }
        let Some(upto) = batch.last().map(|e| e.header.zxid) else { continue };
        match write_batch(&mut log, &mut policy, &batch) {
            Ok(snapshot_due) => {
                if events.blocking_send(Event::Input(Input::Persisted { upto })).is_err() {
                    return;
                }
                if snapshot_due {
                    let _ = events.blocking_send(Event::Snapshot);
                }
            }
            Err(e) => {
                let why = format!("cannot write the transaction log in {}: {e}", log_dir_hint(&e));
                error!("{why}");
                let _ = events.blocking_send(Event::Failed(why));
                return;
            }
        }
    }
}

fn log_dir_hint(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::ENOSPC) => "dataLogDir (disk full)",
        Some(libc::EIO) => "dataLogDir (I/O error on fsync)",
        _ => "dataLogDir",
    }
}

/// Appends a batch, rolling where the policy says, and commits it; true when a
/// snapshot is due.
fn write_batch(log: &mut LogWriter, policy: &mut SnapPolicy, batch: &[TxnEntry]) -> io::Result<bool> {
    let mut due = false;
    for entry in batch {
        let bytes = log.append(entry)?;
        if policy.record(bytes, rand::random()) {
            log.roll();
            due = true;
        }
    }
    log.commit()?;
    Ok(due)
}

/// Writes snapshots on a thread of their own, one at a time.
struct SnapshotTaker {
    dir: PathBuf,
    compression: Compression,
    busy: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SnapshotTaker {
    fn new(dir: PathBuf, compression: Compression) -> SnapshotTaker {
        SnapshotTaker { dir, compression, busy: Arc::new(AtomicBool::new(false)), thread: None }
    }

    fn take(&mut self, core: &Core) {
        if self.busy.swap(true, Ordering::AcqRel) {
            warn!("too busy to snap, skipping");
            return;
        }
        let view = core.snapshot_view();
        let (dir, compression, busy) = (self.dir.clone(), self.compression, self.busy.clone());
        let spawned = std::thread::Builder::new().name("rzk-snapshot".into()).spawn(move || {
            save(&dir, view.zxid, &view.tree, &view.sessions, compression);
            busy.store(false, Ordering::Release);
        });
        match spawned {
            Ok(handle) => {
                if let Some(old) = self.thread.replace(handle) {
                    let _ = old.join();
                }
            }
            Err(e) => {
                warn!("cannot start the snapshot thread: {e}");
                self.busy.store(false, Ordering::Release);
            }
        }
    }

    fn wait(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Writes one snapshot, logging the outcome (a failed snapshot is not fatal: the logs
/// still hold everything, as in Java).
pub fn save(dir: &std::path::Path, zxid: i64, tree: &DataTree, sessions: &[(i64, i32)], compression: Compression) {
    let start = std::time::Instant::now();
    match writer::write(dir, zxid, tree, sessions, compression) {
        Ok(path) => info!("snapshot {} written in {} ms", path.display(), start.elapsed().as_millis()),
        Err(e) => warn!("snapshot 0x{zxid:x} in {} failed: {e}", dir.display()),
    }
}
