//! One simulated server: its disk, its applied state, the election core and, once
//! elected, its Zab role (the part of `QuorumPeer` that switches roles).

use std::collections::{BTreeMap, VecDeque};

use crate::election::{ElectionConfig, Fle};
use crate::proto::quorum::ForwardedRequest;
use crate::proto::{ServerId, TxnEntry, Zxid};
use crate::zab::{Durable, Origin, Zab, ZabConfig};

use super::disk::Disk;
use super::model::{Req, Tree};

/// A client request the leader has not proposed yet: `PrepRequestProcessor`'s queue,
/// which keeps requests in arrival order while the proposal window is full.
#[derive(Clone, Debug)]
pub enum Queued {
    Write {
        from: ServerId,
        req: ForwardedRequest,
    },
    Sync(Origin),
}

/// A client session connected to this server: its requests not answered yet, in order
/// (`CommitProcessor` answers a session's reads only after its earlier writes).
#[derive(Clone, Debug)]
pub struct SessionConn {
    /// Unique per server, so a reply meant for an earlier connection is not misdelivered.
    pub id: u64,
    pub client: usize,
    /// Waiting for the CreateSession txn or the leader's REVALIDATE answer.
    pub ready: bool,
    pub queue: VecDeque<(i32, Req)>,
}

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
    /// The data as of `applied`.
    pub tree: Tree,
    /// Leader: the data with every txn proposed so far (the pending-changes overlay).
    pub prep: Option<Tree>,
    /// Leader: which server each session is connected through (`SessionImpl.owner`).
    pub owners: BTreeMap<i64, ServerId>,
    pub backlog: VecDeque<Queued>,
    pub conns: BTreeMap<i64, SessionConn>,
    /// Connections (session, connection id) whose `sync` went to the leader, in order.
    pub syncs: VecDeque<(i64, u64)>,
    pub next_conn: u64,
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
            tree: Tree::default(),
            prep: None,
            owners: BTreeMap::new(),
            backlog: VecDeque::new(),
            conns: BTreeMap::new(),
            syncs: VecDeque::new(),
            next_conn: 0,
            ecfg,
        }
    }

    pub fn fle_config(&self) -> ElectionConfig {
        self.ecfg.clone()
    }

    pub fn applied_zxid(&self) -> Zxid {
        self.applied
            .last()
            .map_or(Zxid::ZERO, |e| Zxid(e.header.zxid))
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

    pub fn set_applied(&mut self, applied: Vec<TxnEntry>) {
        self.tree = Tree::from_log(&applied);
        self.applied = applied;
    }

    /// Forgets what belonged to the role that ended: the leader's pipeline and syncs.
    pub fn end_role(&mut self) {
        self.prep = None;
        self.owners.clear();
        self.backlog.clear();
        self.syncs.clear();
    }

    pub fn reload(&mut self) {
        self.set_applied(self.disk.log.clone());
        self.end_role();
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

    /// Takes client requests: an established leader or a synced learner.
    pub fn accepts_clients(&self) -> bool {
        self.up && (self.is_established_leader() || self.serving)
    }
}
