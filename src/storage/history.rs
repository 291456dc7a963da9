//! The log as an ensemble member needs it besides appending: its newest entries (the
//! committed window a leader syncs learners from, `ZKDatabase.committedLog`) and cutting
//! it back when a new leader tells this server to forget txns that were never committed
//! (`FileTxnSnapLog.truncateLog`, `FileTxnLog.truncate`).
//!
//! Cut entries are zeroed in place, as the torn-tail repair does, so Apache ZooKeeper
//! reads the file to the same end; later files and snapshots beyond the cut are removed.

use std::collections::VecDeque;
use std::fs;
use std::io;

use super::datadir::{sync_dir, DataDirs};
use super::txnlog::reader::{cut, read};
use crate::proto::TxnEntry;

/// The newest `n` logged txns with zxid > `after`, oldest first.
pub fn recent_entries(dirs: &DataDirs, after: i64, n: usize) -> io::Result<Vec<TxnEntry>> {
    let logs = dirs.logs()?;
    let mut out: VecDeque<TxnEntry> = VecDeque::new();
    for file in logs.iter().rev() {
        let decoded = read(&file.path).map_err(io::Error::other)?;
        for located in decoded.entries.into_iter().rev() {
            if located.entry.header.zxid <= after || out.len() >= n {
                break;
            }
            out.push_front(located.entry);
        }
        if out.len() >= n || file.zxid <= after {
            break;
        }
    }
    // Files are visited newest first and each from its end: the window is in order
    // unless files overlap, which a well-formed log never does.
    let mut v: Vec<TxnEntry> = out.into_iter().collect();
    v.sort_by_key(|e| e.header.zxid);
    v.dedup_by_key(|e| e.header.zxid);
    Ok(v)
}

/// Removes every logged txn with zxid > `zxid`, and every snapshot newer than it. The
/// log writer must be stopped.
pub fn truncate_after(dirs: &DataDirs, zxid: i64) -> io::Result<usize> {
    let mut removed = 0;
    for file in dirs.logs()? {
        if file.zxid > zxid {
            let n = read(&file.path).map(|d| d.entries.len()).unwrap_or(0);
            fs::remove_file(&file.path)?;
            removed += n;
            continue;
        }
        let decoded = read(&file.path).map_err(io::Error::other)?;
        let Some(first_cut) = decoded
            .entries
            .iter()
            .position(|l| l.entry.header.zxid > zxid)
        else {
            continue;
        };
        let from = decoded.entries[first_cut].offset;
        let len = fs::metadata(&file.path)?.len() as usize;
        cut(&file.path, from, len)?;
        removed += decoded.entries.len() - first_cut;
    }
    sync_dir(&dirs.log_dir)?;
    for snap in dirs.snapshots()? {
        if snap.zxid > zxid {
            fs::remove_file(&snap.path)?;
        }
    }
    sync_dir(&dirs.snap_dir)?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Txn, TxnHeader};
    use crate::storage::txnlog::writer::{LogWriter, LogWriterConfig};

    fn entry(zxid: i64) -> TxnEntry {
        let header = TxnHeader {
            client_id: 1,
            cxid: zxid as i32,
            zxid,
            time: 0,
        };
        TxnEntry {
            header,
            txn: Txn::CreateSession { timeout_ms: 4000 },
            digest: None,
        }
    }

    fn write(dirs: &DataDirs, zxids: &[i64], roll_after: Option<i64>) {
        dirs.create().unwrap();
        let mut w = LogWriter::new(
            dirs.log_dir.clone(),
            LogWriterConfig {
                prealloc: 4096,
                force_sync: false,
                size_limit: 0,
            },
        );
        for &z in zxids {
            w.append(&entry(z)).unwrap();
            if Some(z) == roll_after {
                w.commit().unwrap();
                w.roll();
            }
        }
        w.commit().unwrap();
    }

    fn zxids(dirs: &DataDirs) -> Vec<i64> {
        recent_entries(dirs, 0, 1000)
            .unwrap()
            .iter()
            .map(|e| e.header.zxid)
            .collect()
    }

    #[test]
    fn truncation_cuts_inside_a_file_and_removes_later_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = DataDirs::new(tmp.path(), tmp.path());
        write(&dirs, &[1, 2, 3, 4, 5, 6], Some(3));
        assert_eq!(zxids(&dirs), vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(truncate_after(&dirs, 2).unwrap(), 4);
        assert_eq!(zxids(&dirs), vec![1, 2]);
        assert_eq!(dirs.logs().unwrap().len(), 1);
    }

    #[test]
    fn the_recent_window_is_bounded_and_ordered() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = DataDirs::new(tmp.path(), tmp.path());
        write(&dirs, &[1, 2, 3, 4, 5, 6], Some(4));
        let got: Vec<i64> = recent_entries(&dirs, 0, 3)
            .unwrap()
            .iter()
            .map(|e| e.header.zxid)
            .collect();
        assert_eq!(got, vec![4, 5, 6]);
        let got: Vec<i64> = recent_entries(&dirs, 4, 10)
            .unwrap()
            .iter()
            .map(|e| e.header.zxid)
            .collect();
        assert_eq!(got, vec![5, 6]);
    }
}
