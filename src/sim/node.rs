//! One simulated server: its disk, its applied state, the election core and, once
//! elected, its Zab role (the part of `QuorumPeer` that switches roles).

use crate::election::{ElectionConfig, Fle};
use crate::proto::{ServerId, TxnEntry, Zxid};
use crate::zab::{Durable, Zab, ZabConfig};

use super::disk::Disk;

#[derive(Debug)]
pub struct Node {
    pub id: ServerId,
    pub up: bool,
    pub fle: Fle,
    pub zab: Option<Zab>,
    pub disk: Disk,
    /// The replicated state: every txn applied, in order.
    pub applied: Vec<TxnEntry>,
    /// Bumped on every role change and restart; connections and syncs of an older role
    /// are void.
    pub role_gen: u64,
    pub serving: bool,
    /// Writes this node originated and still waits to see delivered: (client, cxid).
    pub waiting: Vec<(i64, i32)>,
    pub next_cxid: i32,
    ecfg: ElectionConfig,
}

impl Node {
    pub fn new(id: ServerId, ecfg: ElectionConfig) -> Node {
        Node {
            id,
            up: true,
            fle: Fle::new(ecfg.clone()),
            zab: None,
            disk: Disk::default(),
            applied: vec![],
            role_gen: 0,
            serving: false,
            waiting: vec![],
            next_cxid: 0,
            ecfg,
        }
    }

    pub fn fle_config(&self) -> ElectionConfig {
        self.ecfg.clone()
    }

    pub fn applied_zxid(&self) -> Zxid {
        self.applied.last().map_or(Zxid::ZERO, |e| Zxid(e.header.zxid))
    }

    /// What a role starts from: Java reloads the database from the log, so the state is
    /// the whole log, uncommitted tail included.
    pub fn durable_view(&self, zcfg: &ZabConfig) -> Durable {
        let log = &self.disk.log;
        let start = log.len().saturating_sub(zcfg.committed_log_max);
        Durable {
            accepted_epoch: self.disk.accepted_epoch,
            current_epoch: self.disk.current_epoch,
            last_zxid: self.disk.last_zxid(),
            durable_zxid: self.disk.durable_zxid(),
            recent: log.get(start..).unwrap_or_default().to_vec(),
        }
    }

    pub fn reload(&mut self) {
        self.applied = self.disk.log.clone();
        self.serving = false;
        self.zab = None;
        self.role_gen += 1;
    }

    pub fn is_leader(&self) -> bool {
        matches!(&self.zab, Some(Zab::Leader(l)) if !l.is_stopped())
    }

    pub fn is_established_leader(&self) -> bool {
        matches!(&self.zab, Some(Zab::Leader(l)) if l.is_established())
    }
}
