//! Startup recovery (`FileTxnSnapLog.restore`, `FileSnap.deserialize`,
//! `fastForwardFromEdits`, `ZooKeeperServer.loadData`): the newest snapshot that loads,
//! then every logged txn after it, then the ephemerals of sessions that no longer exist
//! are dropped.
//!
//! What Java measures while loading (`dbinittime` in `ZKDatabase.loadDataBase`,
//! `startup_snap_load_time` in `FileTxnSnapLog.restore`, `startup_txns_loaded` and
//! `startup_txns_load_time` in `fastForwardFromEdits`) is measured at the same points
//! and kept in [`Recovered::timings`], for the core to record once it exists.
//!
//! A bad record followed only by zeros is the torn last write of a crash: it is cut
//! (zeroed, so Apache ZooKeeper reads the file the same way) and reported in the log.
//! A bad record with data after it is damage in the middle of the log: the server
//! refuses to start and names the file and offset, since replaying past it would lose
//! acknowledged transactions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tracing::{info, warn};

use super::datadir::{logs_after, DataFile};
use super::elapsed_ms;
use super::settings::StorageConfig;
use super::snapshot::reader;
use super::txnlog::format::LogEnd;
use super::txnlog::reader::{cut, read, DecodedLog};
use crate::node::recorded::{Basic, Sample};
use crate::proto::{Txn, TxnHeader};
use crate::tree::DataTree;

/// At most this many snapshots are tried, newest first (`findNValidSnapshots(100)`).
const MAX_SNAPSHOTS_TRIED: usize = 100;

/// The database as it was when the server stopped.
pub struct Recovered {
    pub tree: DataTree,
    /// Live sessions and their negotiated timeouts.
    pub sessions: BTreeMap<i64, i32>,
    /// The last txn applied (the snapshot's zxid when no log followed it).
    pub last_zxid: i64,
    /// The zxid of the snapshot loaded; `None` for a fresh database.
    pub snapshot_zxid: Option<i64>,
    /// How many logged txns were replayed on top of it.
    pub replayed: usize,
    /// Repairs made (torn tails cut), as logged.
    pub notes: Vec<String>,
    /// Sessions found dead whose ephemerals were deleted (changes that no log holds).
    pub dead_sessions: usize,
    /// How long the loading took.
    pub timings: LoadTimings,
}

/// The start-up metrics of one load, in ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadTimings {
    /// Snapshot and logs (`dbinittime`).
    pub db_init_ms: i64,
    /// Finding and reading the snapshot, also when there is none (`startup_snap_load_time`).
    pub snap_load_ms: i64,
    /// Replaying the logs (`startup_txns_load_time`); Java records it, with
    /// `startup_txns_loaded`, only when a log held a txn after the snapshot.
    pub txns_load_ms: i64,
}

impl Recovered {
    /// The values `ZKDatabase.loadDataBase` and `FileTxnSnapLog.restore` record.
    pub fn samples(&self) -> Vec<Sample> {
        let t = &self.timings;
        let mut out = vec![
            Sample::Basic(Basic::StartupSnapLoadTime, t.snap_load_ms),
            Sample::Basic(Basic::DbInitTime, t.db_init_ms),
        ];
        out.extend(txns_loaded(self.replayed, t.txns_load_ms));
        out
    }
}

/// What `FileTxnSnapLog.fastForwardFromEdits` records after applying `txns` logged txns
/// in `ms`: nothing when the log held none after the database's last zxid.
pub fn txns_loaded(txns: usize, ms: i64) -> Vec<Sample> {
    if txns == 0 {
        return Vec::new();
    }
    vec![
        Sample::Basic(Basic::StartupTxnsLoaded, txns as i64),
        Sample::Basic(Basic::StartupTxnsLoadTime, ms),
    ]
}

/// Whether the startup snapshot (`ZooKeeperServer.loadData` → `takeSnapshot`) may be
/// taken in the background while serving instead of before. Java writes it first; it is
/// only needed first when the files on disk do not already rebuild this database: a
/// fresh database (Java requires a snapshot next to any log, see
/// `zookeeper.snapshot.trust.empty`), or ephemerals of dead sessions deleted at load,
/// which no log records. Otherwise a crash before the background snapshot is done
/// recovers the same database from the same files. With autopurge on it is written
/// first too: the purge that runs at startup counts it among the snapshots it keeps.
pub fn startup_snapshot_can_wait(r: &Recovered, cfg: &StorageConfig) -> bool {
    r.snapshot_zxid.is_some() && r.dead_sessions == 0 && cfg.purge_interval_hours == 0
}

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("no valid snapshot in {dir} ({tried})")]
    NoValidSnapshot { dir: PathBuf, tried: String },
    #[error(
        "{dir} holds transaction logs but no snapshot; refusing to start with an empty database \
         (set zookeeper.snapshot.trust.empty=true to replay the logs from zxid 0)"
    )]
    LogsWithoutSnapshot { dir: PathBuf },
    #[error("transaction log {file} is corrupt at offset {offset}: {reason}; refusing to start")]
    Corrupt {
        file: PathBuf,
        offset: usize,
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RecoveryError + '_ {
    move |e| RecoveryError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Rebuilds the database from `cfg`'s directories (creating them if missing).
pub fn recover(cfg: &StorageConfig) -> Result<Recovered, RecoveryError> {
    let dirs = cfg.dirs();
    dirs.create().map_err(io_err(&dirs.snap_dir))?;
    let snaps = dirs.snapshots().map_err(io_err(&dirs.snap_dir))?;
    let logs = dirs.logs().map_err(io_err(&dirs.log_dir))?;
    let started = Instant::now();
    let loaded = load_newest_snapshot(&snaps, cfg.extended_types, &dirs.snap_dir)?;
    let snap_load_ms = elapsed_ms(started);
    let mut r = match loaded {
        Some(r) => r,
        None if !logs.is_empty() && !cfg.trust_empty_snapshot => {
            return Err(RecoveryError::LogsWithoutSnapshot {
                dir: dirs.log_dir.clone(),
            });
        }
        None => Recovered {
            tree: DataTree::with_extended_types(cfg.extended_types),
            sessions: BTreeMap::new(),
            last_zxid: 0,
            snapshot_zxid: None,
            replayed: 0,
            notes: Vec::new(),
            dead_sessions: 0,
            timings: LoadTimings::default(),
        },
    };
    let replaying = Instant::now();
    let files = logs_after(&logs, r.last_zxid);
    for (i, file) in files.iter().enumerate() {
        replay_file(&mut r, file, i + 1 == files.len())?;
    }
    r.timings = LoadTimings {
        db_init_ms: elapsed_ms(started),
        snap_load_ms,
        txns_load_ms: elapsed_ms(replaying),
    };
    drop_dead_sessions(&mut r);
    info!(
        "recovered zxid 0x{:x}: snapshot {}, {} txns replayed, {} sessions",
        r.last_zxid,
        r.snapshot_zxid
            .map_or("none".to_string(), |z| format!("0x{z:x}")),
        r.replayed,
        r.sessions.len()
    );
    Ok(r)
}

fn load_newest_snapshot(
    snaps: &[DataFile],
    extended_types: bool,
    dir: &Path,
) -> Result<Option<Recovered>, RecoveryError> {
    if snaps.is_empty() {
        return Ok(None);
    }
    let mut tried = Vec::new();
    let candidates = snaps
        .iter()
        .rev()
        .filter(|f| reader::is_valid(&f.path))
        .take(MAX_SNAPSHOTS_TRIED);
    for snap in candidates {
        info!("reading snapshot {}", snap.path.display());
        let loaded = reader::read_file(&snap.path).and_then(|bytes| {
            reader::load(&bytes, extended_types, snap.zxid).map_err(|e| e.to_string())
        });
        match loaded {
            Ok(l) => {
                return Ok(Some(Recovered {
                    tree: l.tree,
                    sessions: l.sessions.into_iter().collect(),
                    last_zxid: snap.zxid,
                    snapshot_zxid: Some(snap.zxid),
                    replayed: 0,
                    notes: Vec::new(),
                    dead_sessions: 0,
                    timings: LoadTimings::default(),
                }))
            }
            Err(e) => {
                warn!("problem reading snapshot {}: {e}", snap.path.display());
                tried.push(format!("{}: {e}", snap.path.display()));
            }
        }
    }
    if tried.is_empty() {
        tried.push("none passed the validity check".into());
    }
    Err(RecoveryError::NoValidSnapshot {
        dir: dir.to_path_buf(),
        tried: tried.join("; "),
    })
}

/// Created, then the crash came before its first entry was written or synced: nothing
/// in it was acknowledged. Left in place, its name would be taken by the next log file,
/// and Apache ZooKeeper would stop on a missing header.
fn remove_empty_last_log(r: &mut Recovered, path: &Path) -> Result<(), RecoveryError> {
    let note = format!(
        "{}: empty log file (no transaction) removed",
        path.display()
    );
    warn!("{note}");
    std::fs::remove_file(path).map_err(io_err(path))?;
    r.notes.push(note);
    Ok(())
}

fn all_zeros(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.iter().all(|&x| x == 0))
}

fn replay_file(r: &mut Recovered, file: &DataFile, last: bool) -> Result<(), RecoveryError> {
    let log: DecodedLog = match read(&file.path) {
        Ok(log) => log,
        Err(_) if last && all_zeros(&file.path) => return remove_empty_last_log(r, &file.path),
        Err(reason) => {
            return Err(RecoveryError::Corrupt {
                file: file.path.clone(),
                offset: 0,
                reason,
            })
        }
    };
    let unfinished = !matches!(
        log.end,
        LogEnd::Bad {
            zeros_after: false,
            ..
        }
    );
    if last && log.entries.is_empty() && unfinished {
        return remove_empty_last_log(r, &file.path);
    }
    for located in &log.entries {
        let e = &located.entry;
        if e.header.zxid <= r.last_zxid {
            continue;
        }
        r.tree.apply_with_digest(&e.header, &e.txn, e.digest, false);
        apply_session_effect(&mut r.sessions, &e.header, &e.txn);
        r.last_zxid = e.header.zxid;
        r.replayed += 1;
    }
    if let Some(note) = handle_end(&file.path, &log.end)? {
        r.notes.push(note);
    }
    Ok(())
}

fn handle_end(path: &Path, end: &LogEnd) -> Result<Option<String>, RecoveryError> {
    match *end {
        LogEnd::Clean { .. } => Ok(None),
        LogEnd::Bad {
            offset,
            damaged_until,
            reason,
            zeros_after: true,
        } => {
            let note = format!(
                "{}: last transaction at offset {offset} was partial ({reason}); cutting the log there",
                path.display()
            );
            warn!("{note}");
            cut(path, offset, damaged_until).map_err(io_err(path))?;
            Ok(Some(note))
        }
        LogEnd::Bad { offset, reason, .. } => Err(RecoveryError::Corrupt {
            file: path.to_path_buf(),
            offset,
            reason: reason.to_string(),
        }),
    }
}

/// `FileTxnSnapLog.processTransaction`: the session table follows createSession and
/// closeSession.
fn apply_session_effect(sessions: &mut BTreeMap<i64, i32>, hdr: &TxnHeader, txn: &Txn) {
    match txn {
        Txn::CreateSession { timeout_ms } => {
            sessions.insert(hdr.client_id, *timeout_ms);
        }
        Txn::CloseSession(_) => {
            sessions.remove(&hdr.client_id);
        }
        _ => {}
    }
}

/// `ZooKeeperServer.loadData`: ephemerals whose session is gone are deleted.
fn drop_dead_sessions(r: &mut Recovered) {
    let dead: Vec<i64> = r
        .tree
        .ephemerals_by_session()
        .keys()
        .copied()
        .filter(|s| !r.sessions.contains_key(s))
        .collect();
    r.dead_sessions = dead.len();
    for session in dead {
        info!("deleting the ephemerals of dead session 0x{session:x}");
        let hdr = TxnHeader {
            client_id: session,
            cxid: 0,
            zxid: r.last_zxid,
            time: 0,
        };
        r.tree.apply(&hdr, &Txn::CloseSession(None));
    }
}
