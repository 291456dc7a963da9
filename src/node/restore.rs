//! Starting the core from recovered state (`ZooKeeperServer.loadData` as seen from the
//! core). Running snapshots are taken a slice at a time (`node::snapshot`); a full copy
//! (`snapshot_view`) is only for tests and tools.

use super::core::{Core, CoreConfig};
use crate::proto::SessionId;
use crate::tree::DataTree;
use std::collections::BTreeMap;

/// A copy of the state a snapshot records.
pub struct SnapshotView {
    pub tree: DataTree,
    /// Sessions with their timeouts, by id.
    pub sessions: Vec<(i64, i32)>,
    /// The last applied zxid: the snapshot's name.
    pub zxid: i64,
}

impl Core {
    /// A core on a recovered database: `tree` as of `last_zxid`, and the sessions alive
    /// then. Restored sessions get a full timeout from now and expire normally (through
    /// a closeSession txn) unless their clients come back.
    pub fn recovered(
        cfg: CoreConfig,
        tree: DataTree,
        sessions: &BTreeMap<i64, i32>,
        last_zxid: i64,
        now_wall_ms: i64,
        now_mono_ms: i64,
        seed: u64,
    ) -> Core {
        let mut core = Core::new(cfg, now_wall_ms, now_mono_ms, seed);
        // Mismatches found while replaying the log count, as Java's `loadData` counts them.
        let mismatches = i64::try_from(tree.digest_mismatches()).unwrap_or(i64::MAX);
        core.stats
            .recorded
            .count(super::recorded::Counter::DigestMismatchesCount, mismatches);
        core.tree = tree;
        for (&id, &timeout_ms) in sessions {
            core.sessions.add(SessionId(id), timeout_ms, now_mono_ms);
        }
        core.last_prepared_zxid = last_zxid;
        core.last_applied_zxid = last_zxid;
        core
    }

    /// A copy of the tree and session table as of the last applied txn.
    pub fn snapshot_view(&self) -> SnapshotView {
        SnapshotView {
            tree: self.tree.clone(),
            sessions: self.sessions.iter().map(|(id, t)| (id.0, t)).collect(),
            zxid: self.last_applied_zxid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn cfg() -> CoreConfig {
        CoreConfig::from_config(&Config::standalone_default(), None)
    }

    #[test]
    fn recovered_core_continues_after_the_last_zxid() {
        let sessions = BTreeMap::from([(0x55, 30_000)]);
        let core = Core::recovered(cfg(), DataTree::new(), &sessions, 0x42, 1000, 0, 1);
        assert_eq!(core.last_applied_zxid(), 0x42);
        assert_eq!(core.next_header(0, 0).zxid, 0x43);
        let view = core.snapshot_view();
        assert_eq!((view.zxid, view.sessions), (0x42, vec![(0x55, 30_000)]));
    }

    #[test]
    fn restored_sessions_expire_when_their_clients_stay_away() {
        let sessions = BTreeMap::from([(0x55, 4_000)]);
        let mut core = Core::recovered(cfg(), DataTree::new(), &sessions, 7, 1000, 0, 1);
        core.set_time(1000 + 10_000, 10_000);
        core.step(super::super::Input::Tick);
        let actions = core.take_actions();
        let persisted = actions.iter().any(|a| matches!(a, super::super::Action::Persist { entries }
            if entries.iter().any(|e| matches!(e.txn, crate::proto::Txn::CloseSession(_)) && e.header.client_id == 0x55)));
        assert!(persisted, "{actions:?}");
    }
}
