//! The `version-2` directories and the names of the files in them (`FileTxnSnapLog`'s
//! directory set-up, `Util.makeLogName` / `makeSnapshotName` / `getZxidFromName`,
//! `Util.sortDataDir`).
//!
//! Names carry the zxid in lowercase hex without leading zeros; files are ordered by
//! that number, never lexically.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub const VERSION_DIR: &str = "version-2";
pub const LOG_PREFIX: &str = "log";
pub const SNAPSHOT_PREFIX: &str = "snapshot";

/// Where snapshots and logs live: `<dataDir>/version-2` and `<dataLogDir>/version-2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDirs {
    pub snap_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl DataDirs {
    pub fn new(data_dir: &Path, data_log_dir: &Path) -> DataDirs {
        DataDirs {
            snap_dir: data_dir.join(VERSION_DIR),
            log_dir: data_log_dir.join(VERSION_DIR),
        }
    }

    /// Creates both directories if missing (`FileTxnSnapLog` with `zookeeper.datadir.autocreate`).
    pub fn create(&self) -> io::Result<()> {
        fs::create_dir_all(&self.snap_dir)?;
        fs::create_dir_all(&self.log_dir)
    }

    /// Log files, oldest first.
    pub fn logs(&self) -> io::Result<Vec<DataFile>> {
        list(&self.log_dir, LOG_PREFIX)
    }

    /// Snapshot files (any compression), oldest first.
    pub fn snapshots(&self) -> io::Result<Vec<DataFile>> {
        list(&self.snap_dir, SNAPSHOT_PREFIX)
    }
}

/// A log or snapshot file and the zxid in its name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DataFile {
    pub zxid: i64,
    pub path: PathBuf,
}

/// `log.<hex>`.
pub fn log_name(zxid: i64) -> String {
    format!("{LOG_PREFIX}.{zxid:x}")
}

/// `snapshot.<hex>` plus the compression's extension (`""`, `".gz"`, `".snappy"`).
pub fn snapshot_name(zxid: i64, extension: &str) -> String {
    format!("{SNAPSHOT_PREFIX}.{zxid:x}{extension}")
}

/// `Util.getZxidFromName`: the hex after `<prefix>.`, an optional extension after it.
pub fn zxid_from_name(name: &str, prefix: &str) -> Option<i64> {
    let mut parts = name.split('.');
    if parts.next()? != prefix {
        return None;
    }
    let hex = parts.next()?;
    if parts.count() > 1 || hex.is_empty() {
        return None;
    }
    u64::from_str_radix(hex, 16).ok().map(|v| v as i64)
}

/// Files of `dir` named `<prefix>.<hex>[.ext]`, ordered by zxid; a missing directory
/// has none.
pub fn list(dir: &Path, prefix: &str) -> io::Result<Vec<DataFile>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if let Some(zxid) = name.to_str().and_then(|n| zxid_from_name(n, prefix)) {
            out.push(DataFile {
                zxid,
                path: entry.path(),
            });
        }
    }
    out.sort();
    Ok(out)
}

/// `FileTxnLog.getLogFiles`: the logs that can hold txns after `zxid` — every log
/// starting above it plus the newest one starting at or below it.
pub fn logs_after(logs: &[DataFile], zxid: i64) -> Vec<DataFile> {
    let newest_below = logs.iter().filter(|f| f.zxid <= zxid).map(|f| f.zxid).max();
    logs.iter()
        .filter(|f| f.zxid > zxid || Some(f.zxid) == newest_below)
        .cloned()
        .collect()
}

/// Makes a directory entry change (a new or removed file) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_hex_without_padding() {
        assert_eq!(log_name(0x1_0000_0001), "log.100000001");
        assert_eq!(snapshot_name(0, ""), "snapshot.0");
        assert_eq!(snapshot_name(0x2f, ".gz"), "snapshot.2f.gz");
    }

    #[test]
    fn names_parse_with_optional_extension() {
        assert_eq!(
            zxid_from_name("log.100000001", LOG_PREFIX),
            Some(0x1_0000_0001)
        );
        assert_eq!(
            zxid_from_name("snapshot.2f.snappy", SNAPSHOT_PREFIX),
            Some(0x2f)
        );
        assert_eq!(zxid_from_name("snapshot.2f", LOG_PREFIX), None);
        assert_eq!(zxid_from_name("log.xyz", LOG_PREFIX), None);
        assert_eq!(zxid_from_name("log.1.a.b", LOG_PREFIX), None);
    }

    fn f(zxid: i64) -> DataFile {
        DataFile {
            zxid,
            path: PathBuf::from(log_name(zxid)),
        }
    }

    #[test]
    fn logs_after_keeps_the_newest_log_starting_below() {
        let logs = vec![f(1), f(0xb), f(0x14), f(0x20)];
        let z: Vec<i64> = logs_after(&logs, 0x12).iter().map(|f| f.zxid).collect();
        assert_eq!(z, vec![0xb, 0x14, 0x20]);
        let z: Vec<i64> = logs_after(&logs, 0).iter().map(|f| f.zxid).collect();
        assert_eq!(z, vec![1, 0xb, 0x14, 0x20]);
    }
}
