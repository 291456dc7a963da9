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
//!
//! After each batch is durable the writer sends what it measured (`super::sync_metrics`)
//! as one `Input::Samples`; the snapshot thread sends `snapshottime`
//! (`ZooKeeperServer.takeSnapshot`) once its file is written.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::elapsed_ms;
use super::policy::SnapPolicy;
use super::purge::AutoPurge;
use super::settings::StorageConfig;
use super::snapshot::{writer, Compression};
use super::sync_metrics::{BatchSamples, Clock};
use super::txnlog::writer::LogWriter;
use crate::node::driver::{Event, TxnLog};
use crate::node::recorded::{Basic, Sample};
use crate::node::snapshot::SnapshotSlice;
use crate::node::Input;
use crate::proto::TxnEntry;
use crate::tree::DataTree;

/// Txns handed to the writer together, and when (`Request.syncQueueStartTime`).
struct Handed {
    at: Instant,
    entries: Vec<Arc<TxnEntry>>,
}

/// The on-disk transaction log as the driver sees it.
pub struct DiskLog {
    batches: Option<std_mpsc::Sender<Handed>>,
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
        let snapshot_events = events.clone();
        let writer = std::thread::Builder::new()
            .name("rzk-txnlog".into())
            .spawn(move || write_loop(rx, log, policy, events))?;
        let purge = (cfg.purge_interval_hours > 0)
            .then(|| {
                AutoPurge::start(
                    dirs.clone(),
                    cfg.snap_retain_count,
                    cfg.purge_interval_hours,
                )
            })
            .transpose()?;
        Ok(DiskLog {
            batches: Some(tx),
            writer: Some(writer),
            snapshots: SnapshotTaker::new(dirs.snap_dir, cfg.compression, snapshot_events),
            _purge: purge,
        })
    }
}

impl DiskLog {
    /// Stops the writer once everything handed to it is written. The writer reports
    /// to the driver's event channel, which may be full: `pump` runs while waiting so
    /// the caller can keep draining it.
    pub fn finish(mut self, mut pump: impl FnMut()) {
        self.batches = None;
        if let Some(w) = self.writer.take() {
            while !w.is_finished() {
                pump();
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            let _ = w.join();
        }
        pump();
    }
}

impl TxnLog for DiskLog {
    fn append(&mut self, entries: Vec<Arc<TxnEntry>>) -> io::Result<Option<i64>> {
        let handed = Handed {
            at: Instant::now(),
            entries,
        };
        let sent = self.batches.as_ref().map(|tx| tx.send(handed));
        match sent {
            Some(Ok(())) => Ok(None),
            _ => Err(io::Error::other("the transaction log writer has stopped")),
        }
    }

    fn snapshot_slice(&mut self, slice: SnapshotSlice) {
        self.snapshots.slice(slice);
    }

    fn snapshot_room(&self) -> bool {
        self.snapshots.has_room()
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
    rx: std_mpsc::Receiver<Handed>,
    mut log: LogWriter,
    mut policy: SnapPolicy,
    events: mpsc::Sender<Event>,
) {
    let clock = Clock::new();
    // Java's sync thread samples its (empty) queue once before it first waits.
    let idle = vec![Sample::Basic(Basic::SyncProcessorQueueSize, 0)];
    if events
        .blocking_send(Event::Input(Input::Samples(idle)))
        .is_err()
    {
        return;
    }
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let Some(upto) = batch
            .iter()
            .rev()
            .find_map(|h| h.entries.last())
            .map(|e| e.header.zxid)
        else {
            continue;
        };
        let txns = batch.iter().map(|h| h.entries.len()).sum();
        let mut measured = BatchSamples::new(txns);
        match write_batch(&mut log, &mut policy, &batch, &mut measured, &clock) {
            Ok(snapshot_due) => {
                if events
                    .blocking_send(Event::Input(Input::Persisted { upto }))
                    .is_err()
                {
                    return;
                }
                // After the acknowledgement, so measuring never delays a reply.
                if events
                    .blocking_send(Event::Input(Input::Samples(measured.into_samples())))
                    .is_err()
                {
                    return;
                }
                if snapshot_due {
                    let _ = events.blocking_send(Event::Snapshot);
                }
            }
            Err(e) => {
                let why = format!(
                    "cannot write the transaction log in {}: {e}",
                    log_dir_hint(&e)
                );
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

/// Appends a batch, rolling where the policy says, and commits it, measuring as
/// `SyncRequestProcessor` does; true when a snapshot is due.
fn write_batch(
    log: &mut LogWriter,
    policy: &mut SnapPolicy,
    batch: &[Handed],
    measured: &mut BatchSamples,
    clock: &Clock,
) -> io::Result<bool> {
    let mut due = false;
    let mut waiting: usize = batch.iter().map(|h| h.entries.len()).sum();
    let txns = waiting;
    let mut now = clock.now();
    for handed in batch {
        let queued = clock.ms(handed.at);
        for entry in &handed.entries {
            waiting -= 1;
            let started = now;
            let bytes = log.append(entry)?;
            if policy.record(bytes, rand::random()) {
                log.roll();
                due = true;
            }
            now = clock.now();
            measured.txn(waiting, started - queued, now - started);
        }
    }
    let mut fsyncs = Vec::new();
    log.commit_timed(&mut fsyncs)?;
    let durable = clock.now();
    measured.flushed(txns, durable - now, &fsyncs);
    for handed in batch {
        measured.durable(handed.entries.len(), durable - clock.ms(handed.at));
    }
    Ok(due)
}

/// Slices handed to the snapshot thread and not yet written: the bound on the memory a
/// snapshot in progress holds (a few MiB at `SNAPSHOT_SLICE_NODES` nodes a slice), so a
/// core that encodes faster than the disk writes never queues the whole tree.
const SLICES_QUEUED: usize = 8;

/// Writes the snapshots the core takes a slice at a time, on a thread of their own: node
/// records are spooled to a temporary file as they come, and the file is assembled
/// when the last slice arrives.
struct SnapshotTaker {
    dir: PathBuf,
    compression: Compression,
    slices: Option<std_mpsc::SyncSender<SnapshotSlice>>,
    /// Slices sent and not yet written (the spooler counts them down).
    queued: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
    events: mpsc::Sender<Event>,
}

impl SnapshotTaker {
    fn new(dir: PathBuf, compression: Compression, events: mpsc::Sender<Event>) -> SnapshotTaker {
        SnapshotTaker {
            dir,
            compression,
            slices: None,
            queued: Arc::new(AtomicUsize::new(0)),
            thread: None,
            events,
        }
    }

    /// Whether a slice can be handed over without waiting for the disk.
    fn has_room(&self) -> bool {
        self.slices.is_none() || self.queued.load(Ordering::Acquire) < SLICES_QUEUED
    }

    /// A snapshot's first slice starts a file of its own (a snapshot still being spooled
    /// was abandoned by the core: its thread sees the channel close and drops the partial
    /// file); a later slice goes to the file being spooled, if any.
    fn slice(&mut self, slice: SnapshotSlice) {
        if slice.start {
            self.wait();
            let (tx, rx) = std_mpsc::sync_channel(SLICES_QUEUED);
            self.queued = Arc::new(AtomicUsize::new(0));
            let (dir, compression, events, queued) = (
                self.dir.clone(),
                self.compression,
                self.events.clone(),
                self.queued.clone(),
            );
            let spawned = std::thread::Builder::new()
                .name("rzk-snapshot".into())
                .spawn(move || {
                    if let Some(ms) = spool(&dir, compression, rx, &queued) {
                        report_snapshot_time(&events, ms);
                    }
                });
            match spawned {
                Ok(handle) => {
                    self.thread = Some(handle);
                    self.slices = Some(tx);
                }
                Err(e) => warn!("cannot start the snapshot thread: {e}"),
            }
        } else if self.slices.is_none() {
            warn!(
                "snapshot 0x{:x}: dropping a part whose start this writer never saw",
                slice.zxid
            );
            return;
        }
        let last = slice.end.is_some();
        if let Some(tx) = &self.slices {
            self.queued.fetch_add(1, Ordering::AcqRel);
            if tx.send(slice).is_err() || last {
                self.slices = None;
            }
        }
    }

    fn wait(&mut self) {
        self.slices = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sends `snapshottime` from the snapshot thread. The driver may be waiting for this
/// thread to end with its channel full, so a full channel is retried only briefly.
fn report_snapshot_time(events: &mpsc::Sender<Event>, ms: i64) {
    let mut event = Event::Input(Input::Samples(vec![Sample::Basic(Basic::SnapshotTime, ms)]));
    for _ in 0..50 {
        match events.try_send(event) {
            Err(mpsc::error::TrySendError::Full(back)) => event = back,
            _ => return,
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    warn!("snapshot time not recorded: the server is too busy");
}

/// Collects one snapshot's slices and writes the file (a failed snapshot is not fatal:
/// the logs still hold everything, as in Java). The time it took, from its first slice
/// to the file written, when it was written.
fn spool(
    dir: &Path,
    compression: Compression,
    rx: std_mpsc::Receiver<SnapshotSlice>,
    queued: &AtomicUsize,
) -> Option<i64> {
    let start = Instant::now();
    let first = rx.recv().ok()?;
    let zxid = first.zxid;
    let nodes = dir.join(format!(".snapshot.{zxid:x}.nodes"));
    let written = match spool_into(dir, &nodes, compression, first, &rx, queued) {
        Ok(Some(path)) => {
            let ms = elapsed_ms(start);
            info!("snapshot {} written in {ms} ms", path.display());
            Some(ms)
        }
        Ok(None) => {
            warn!("snapshot 0x{zxid:x} abandoned: the server stopped before it was complete");
            None
        }
        Err(e) => {
            warn!("snapshot 0x{zxid:x} in {} failed: {e}", dir.display());
            None
        }
    };
    let _ = std::fs::remove_file(&nodes);
    written
}

fn spool_into(
    dir: &Path,
    nodes: &Path,
    compression: Compression,
    first: SnapshotSlice,
    rx: &std_mpsc::Receiver<SnapshotSlice>,
    queued: &AtomicUsize,
) -> io::Result<Option<PathBuf>> {
    let mut out = io::BufWriter::with_capacity(1 << 20, std::fs::File::create(nodes)?);
    let mut acls = Vec::new();
    let mut next = Some(first);
    while let Some(slice) = next.take() {
        io::Write::write_all(&mut out, &slice.nodes)?;
        queued.fetch_sub(1, Ordering::AcqRel);
        acls.extend(slice.acls);
        if let Some(end) = slice.end {
            io::Write::flush(&mut out)?;
            drop(out);
            let parts = writer::FuzzyParts {
                sessions: &end.sessions,
                acls: &acls,
                nodes,
                digest: end.digest,
            };
            return writer::write_fuzzy(dir, slice.zxid, &parts, compression).map(Some);
        }
        next = rx.recv().ok();
    }
    Ok(None)
}

/// Writes one snapshot of a tree the caller holds still (`ZooKeeperServer.takeSnapshot`),
/// logging it; the `snapshottime` sample it records. Whether a failure is fatal is the
/// caller's to decide (a learner's sync snapshot is: Java exits).
pub fn save(
    dir: &Path,
    zxid: i64,
    tree: &DataTree,
    sessions: &[(i64, i32)],
    compression: Compression,
) -> io::Result<Sample> {
    let start = Instant::now();
    let path = writer::write(dir, zxid, tree, sessions, compression)?;
    let ms = elapsed_ms(start);
    info!("snapshot {} written in {ms} ms", path.display());
    Ok(Sample::Basic(Basic::SnapshotTime, ms))
}
