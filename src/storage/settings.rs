//! The storage settings as Apache ZooKeeper reads them: `dataDir`/`dataLogDir` and
//! `autopurge.*` from zoo.cfg (`QuorumPeerConfig`), the rest from `zookeeper.*`
//! properties — zoo.cfg's `snapCount`, `preAllocSize`, `forceSync` lines become such
//! properties, as in Java (`FilePadding`, `FileTxnLog`, `ZooKeeperServer.getSnapCount`,
//! `SnapStream`, `FileTxnSnapLog`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::datadir::DataDirs;
use super::snapshot::Compression;
use super::txnlog::writer::LogWriterConfig;
use crate::config::Config;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    pub data_log_dir: PathBuf,
    /// `zookeeper.preAllocSize` (KiB in the setting), in bytes.
    pub prealloc: u64,
    /// `zookeeper.forceSync`: anything but `no` means yes.
    pub force_sync: bool,
    /// `zookeeper.snapCount`, at least 2.
    pub snap_count: i64,
    /// `zookeeper.snapSizeLimitInKb` in bytes; ≤ 0 disables the size trigger.
    pub snap_size: i64,
    /// `zookeeper.txnLogSizeLimitInKb` in bytes; 0 = no limit.
    pub txn_log_size_limit: u64,
    pub compression: Compression,
    /// `autopurge.snapRetainCount`, at least 3.
    pub snap_retain_count: usize,
    /// `autopurge.purgeInterval` in hours; 0 = no autopurge.
    pub purge_interval_hours: u64,
    /// `zookeeper.snapshot.trust.empty`.
    pub trust_empty_snapshot: bool,
    /// `zookeeper.extendedTypesEnabled`: how node owners are read.
    pub extended_types: bool,
}

fn num(props: &BTreeMap<String, String>, key: &str, default: i64) -> i64 {
    match props.get(key).map(|v| v.trim().parse::<i64>()) {
        Some(Ok(v)) => v,
        Some(Err(_)) => {
            tracing::warn!("{key} is not a valid number; using {default}");
            default
        }
        None => default,
    }
}

impl StorageConfig {
    pub fn from_config(c: &Config) -> StorageConfig {
        let p = &c.properties;
        let log_limit_kb = num(p, "zookeeper.txnLogSizeLimitInKb", -1);
        let method = p
            .get("zookeeper.snapshot.compression.method")
            .map(String::as_str)
            .unwrap_or("");
        StorageConfig {
            data_dir: c.data_dir.clone(),
            data_log_dir: c.data_log_dir.clone(),
            prealloc: num(p, "zookeeper.preAllocSize", 65536).max(0) as u64 * 1024,
            force_sync: p
                .get("zookeeper.forceSync")
                .map(|v| v != "no")
                .unwrap_or(true),
            snap_count: num(p, "zookeeper.snapCount", 100_000).max(2),
            snap_size: num(p, "zookeeper.snapSizeLimitInKb", 4_194_304).saturating_mul(1024),
            txn_log_size_limit: if log_limit_kb > 0 {
                log_limit_kb as u64 * 1024
            } else {
                0
            },
            compression: Compression::from_name(method),
            snap_retain_count: c.autopurge_snap_retain_count.max(3) as usize,
            purge_interval_hours: c.autopurge_purge_interval_hours.max(0) as u64,
            trust_empty_snapshot: p
                .get("zookeeper.snapshot.trust.empty")
                .is_some_and(|v| v.trim() == "true"),
            extended_types: c.extended_types,
        }
    }

    pub fn dirs(&self) -> DataDirs {
        DataDirs::new(&self.data_dir, &self.data_log_dir)
    }

    pub fn log_writer(&self) -> LogWriterConfig {
        LogWriterConfig {
            prealloc: self.prealloc,
            force_sync: self.force_sync,
            size_limit: self.txn_log_size_limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::zoo_cfg::parse;

    fn cfg(text: &str) -> StorageConfig {
        StorageConfig::from_config(
            &Config::from_entries("zoo.cfg", &parse(text), &BTreeMap::new()).unwrap(),
        )
    }

    #[test]
    fn defaults_follow_java() {
        let s = cfg("dataDir=/d\n");
        assert_eq!(
            (s.prealloc, s.force_sync, s.snap_count),
            (64 << 20, true, 100_000)
        );
        assert_eq!(
            (
                s.snap_retain_count,
                s.purge_interval_hours,
                s.txn_log_size_limit
            ),
            (3, 0, 0)
        );
        assert_eq!(s.compression, Compression::None);
    }

    #[test]
    fn zoo_cfg_lines_reach_the_settings() {
        let s = cfg("dataDir=/d\ndataLogDir=/l\nsnapCount=1000\npreAllocSize=16\nforceSync=no\n\
                     autopurge.snapRetainCount=1\nautopurge.purgeInterval=2\ntxnLogSizeLimitInKb=8\n\
                     snapshot.compression.method=gz\n");
        assert_eq!(
            (s.snap_count, s.prealloc, s.force_sync),
            (1000, 16 * 1024, false)
        );
        assert_eq!((s.snap_retain_count, s.purge_interval_hours), (3, 2));
        assert_eq!(
            (s.txn_log_size_limit, s.compression),
            (8192, Compression::Gz)
        );
        assert_eq!(s.dirs().log_dir, PathBuf::from("/l/version-2"));
    }
}
