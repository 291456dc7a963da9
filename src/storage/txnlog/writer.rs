//! The txn log as a sequence of files (`FileTxnLog.append` / `rollLog` / `commit`): the
//! first txn after start or after a roll opens a new `log.<zxid>`; `commit` makes
//! every file written since the last commit durable, and the directory too when a file
//! was created, so the new file's name survives a crash as well as its contents.

use std::io;
use std::path::PathBuf;

use super::format::framed_entry;
use super::segment::Segment;
use crate::proto::TxnEntry;
use crate::storage::datadir::{log_name, sync_dir};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogWriterConfig {
    /// `preAllocSize` in bytes.
    pub prealloc: u64,
    /// `forceSync` (default yes).
    pub force_sync: bool,
    /// `zookeeper.txnLogSizeLimitInKb` in bytes; 0 = no limit.
    pub size_limit: u64,
}

pub struct LogWriter {
    dir: PathBuf,
    cfg: LogWriterConfig,
    current: Option<Segment>,
    /// Files rolled away from since the last commit: still to be synced.
    rolled: Vec<Segment>,
    /// A file was created since the last commit.
    dir_dirty: bool,
}

impl LogWriter {
    pub fn new(dir: PathBuf, cfg: LogWriterConfig) -> LogWriter {
        LogWriter {
            dir,
            cfg,
            current: None,
            rolled: Vec::new(),
            dir_dirty: false,
        }
    }

    /// Appends one entry; returns its size in the file.
    pub fn append(&mut self, entry: &TxnEntry) -> io::Result<u64> {
        let framed = framed_entry(entry);
        let seg = match self.current.as_mut() {
            Some(seg) => seg,
            None => {
                let zxid = entry.header.zxid;
                tracing::info!("creating new log file: {}", log_name(zxid));
                self.dir_dirty = true;
                self.current.insert(Segment::create(
                    &self.dir,
                    &log_name(zxid),
                    zxid,
                    self.cfg.prealloc,
                )?)
            }
        };
        seg.append(&framed)?;
        Ok(framed.len() as u64)
    }

    /// The next append opens a new file (`rollLog`).
    pub fn roll(&mut self) {
        if let Some(seg) = self.current.take() {
            self.rolled.push(seg);
        }
    }

    /// Makes everything appended durable (`commit`); then rolls if the current file
    /// passed `txnLogSizeLimitInKb`.
    pub fn commit(&mut self) -> io::Result<()> {
        self.commit_timed(&mut Vec::new())
    }

    /// [`commit`](Self::commit), adding to `fsync_ms` how long each file's fsync took
    /// (whole ms, one value per file synced, as `FileTxnLog.commit` feeds `fsynctime`).
    pub fn commit_timed(&mut self, fsync_ms: &mut Vec<i64>) -> io::Result<()> {
        for seg in self.rolled.iter_mut().chain(self.current.as_mut()) {
            // The entries reach the file (the page cache) at each commit, forceSync or
            // not, as Java's flush does: a killed process loses none of them.
            seg.write_pending()?;
            if self.cfg.force_sync {
                let start = std::time::Instant::now();
                seg.sync()?;
                fsync_ms.push(crate::storage::elapsed_ms(start));
            }
        }
        if self.cfg.force_sync && self.dir_dirty {
            sync_dir(&self.dir)?;
        }
        self.rolled.clear();
        self.dir_dirty = false;
        let over = self
            .current
            .as_ref()
            .is_some_and(|s| self.cfg.size_limit > 0 && s.len() > self.cfg.size_limit);
        if over {
            self.roll();
        }
        Ok(())
    }

    /// Bytes in the current file (`getCurrentLogSize`).
    pub fn current_size(&self) -> u64 {
        self.current.as_ref().map_or(0, Segment::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Txn, TxnHeader};
    use crate::storage::datadir::{list, LOG_PREFIX};
    use crate::storage::txnlog::reader::read;
    use std::path::Path;

    fn entry(zxid: i64) -> TxnEntry {
        TxnEntry {
            header: TxnHeader {
                client_id: 1,
                cxid: 0,
                zxid,
                time: 5,
            },
            txn: Txn::CreateSession { timeout_ms: 30_000 },
            digest: None,
        }
    }

    fn tempdir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "rzk-lw-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A writer into `dir` with 4 KiB padding and no size limit.
    fn writer(dir: &Path, force_sync: bool) -> LogWriter {
        LogWriter::new(
            dir.to_path_buf(),
            LogWriterConfig {
                prealloc: 4096,
                force_sync,
                size_limit: 0,
            },
        )
    }

    #[test]
    fn rolls_open_a_file_named_after_the_next_zxid() {
        let dir = tempdir();
        let mut w = writer(&dir, true);
        for z in 1..=3 {
            w.append(&entry(z)).unwrap();
        }
        w.roll();
        w.append(&entry(4)).unwrap();
        w.commit().unwrap();
        let files = list(&dir, LOG_PREFIX).unwrap();
        assert_eq!(files.iter().map(|f| f.zxid).collect::<Vec<_>>(), vec![1, 4]);
        assert_eq!(read(&files[0].path).unwrap().entries.len(), 3);
        assert_eq!(read(&files[1].path).unwrap().entries[0].entry, entry(4));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn without_force_sync_a_commit_still_writes_the_entries_to_the_file() {
        let dir = tempdir();
        let mut w = writer(&dir, false);
        w.append(&entry(1)).unwrap();
        w.append(&entry(2)).unwrap();
        w.commit().unwrap();
        // Read while the writer is still open: a killed process would leave this.
        let files = list(&dir, LOG_PREFIX).unwrap();
        assert_eq!(read(&files[0].path).unwrap().entries.len(), 2);
        w.append(&entry(3)).unwrap();
        w.commit().unwrap();
        assert_eq!(read(&files[0].path).unwrap().entries.len(), 3);
        drop(w);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn each_file_synced_gives_one_fsync_time() {
        let dir = tempdir();
        let mut w = writer(&dir, true);
        let mut times = Vec::new();
        w.append(&entry(1)).unwrap();
        w.roll();
        w.append(&entry(2)).unwrap();
        w.commit_timed(&mut times).unwrap();
        assert_eq!(times.len(), 2, "the rolled file and the current one");
        w.append(&entry(3)).unwrap();
        w.commit_timed(&mut times).unwrap();
        assert_eq!(times.len(), 3);
        let mut unsynced = writer(&dir, false);
        unsynced.append(&entry(4)).unwrap();
        unsynced.commit_timed(&mut times).unwrap();
        assert_eq!(times.len(), 3, "forceSync=no: no fsync, no time");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn size_limit_rolls_after_commit() {
        let dir = tempdir();
        let cfg = LogWriterConfig {
            prealloc: 4096,
            force_sync: false,
            size_limit: 100,
        };
        let mut w = LogWriter::new(dir.clone(), cfg);
        for z in 1..=4 {
            w.append(&entry(z)).unwrap();
            w.commit().unwrap();
        }
        assert_eq!(list(&dir, LOG_PREFIX).unwrap().len(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }
}
