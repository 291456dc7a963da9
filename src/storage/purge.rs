//! Removing old snapshots and logs (`PurgeTxnLog.purge`, `DatadirCleanupManager`):
//! keep the `snapRetainCount` newest valid snapshots, every log that may hold txns
//! after the oldest of them, and nothing older.

use std::io;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;
use tracing::{info, warn};

use super::datadir::{logs_after, DataDirs, DataFile};
use super::snapshot::reader::is_valid;

/// The files a purge removes, given the directory listings (pure).
pub fn to_delete(
    snaps: &[DataFile],
    valid: &[DataFile],
    logs: &[DataFile],
    retain: usize,
) -> Vec<DataFile> {
    let kept: Vec<&DataFile> = valid.iter().rev().take(retain.max(3)).collect();
    let Some(oldest_kept) = kept.last().map(|f| f.zxid) else {
        return Vec::new();
    };
    let kept_logs = logs_after(logs, oldest_kept);
    let old_logs = logs
        .iter()
        .filter(|f| f.zxid < oldest_kept && !kept_logs.contains(f));
    let old_snaps = snaps.iter().filter(|f| f.zxid < oldest_kept);
    old_snaps.chain(old_logs).cloned().collect()
}

/// One purge run; returns how many files were removed.
pub fn purge(dirs: &DataDirs, retain: usize) -> io::Result<usize> {
    let snaps = dirs.snapshots()?;
    let valid: Vec<DataFile> = snaps
        .iter()
        .filter(|f| is_valid(&f.path))
        .cloned()
        .collect();
    let logs = dirs.logs()?;
    let doomed = to_delete(&snaps, &valid, &logs, retain);
    for f in &doomed {
        info!("removing file: {}", f.path.display());
        std::fs::remove_file(&f.path)?;
    }
    Ok(doomed.len())
}

/// Runs `purge` at start and then every `hours` until dropped.
pub struct AutoPurge {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl AutoPurge {
    pub fn start(dirs: DataDirs, retain: usize, hours: u64) -> io::Result<AutoPurge> {
        let (stop, stopped) = mpsc::channel::<()>();
        let period = Duration::from_secs(hours.saturating_mul(3600));
        info!(
            "autopurge: keeping {} snapshots, purging every {hours} h",
            retain.max(3)
        );
        let thread = std::thread::Builder::new()
            .name("rzk-purge".into())
            .spawn(move || loop {
                if let Err(e) = purge(&dirs, retain) {
                    warn!("autopurge failed: {e}");
                }
                if !matches!(
                    stopped.recv_timeout(period),
                    Err(mpsc::RecvTimeoutError::Timeout)
                ) {
                    return;
                }
            })?;
        Ok(AutoPurge {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for AutoPurge {
    fn drop(&mut self) {
        self.stop = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn files(prefix: &str, zxids: &[i64]) -> Vec<DataFile> {
        zxids
            .iter()
            .map(|&zxid| DataFile {
                zxid,
                path: PathBuf::from(format!("{prefix}.{zxid:x}")),
            })
            .collect()
    }

    #[test]
    fn keeps_three_snapshots_and_the_log_spanning_the_oldest() {
        let snaps = files("snapshot", &[0x10, 0x20, 0x30, 0x40, 0x50]);
        let logs = files("log", &[0x1, 0x11, 0x25, 0x31, 0x45]);
        let doomed: Vec<String> = to_delete(&snaps, &snaps, &logs, 3)
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        // Oldest kept snapshot: 0x30; log.25 may hold txns after it.
        assert_eq!(
            doomed,
            vec!["snapshot.10", "snapshot.20", "log.1", "log.11"]
        );
    }

    #[test]
    fn retain_count_below_three_counts_as_three() {
        let snaps = files("snapshot", &[1, 2, 3]);
        assert!(to_delete(&snaps, &snaps, &[], 1).is_empty());
    }

    #[test]
    fn invalid_snapshots_do_not_count_as_kept() {
        let snaps = files("snapshot", &[1, 2, 3, 4]);
        let valid = files("snapshot", &[1, 2, 3]);
        let doomed = to_delete(&snaps, &valid, &[], 3);
        assert!(doomed.is_empty(), "{doomed:?}");
    }
}
