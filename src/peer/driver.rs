//! The ensemble member's driver thread: owns the [`Core`], the Zab role and the log,
//! and executes what they ask for in order (the threads of `QuorumPeer`,
//! `LearnerHandler`, `SyncRequestProcessor` and `CommitProcessor` folded into one
//! event loop around pure state machines).
//!
//! Routing: the core's proposals, forwards, syncs and revalidations go to Zab; Zab's
//! sends go to the quorum sockets, its persists to the log (whose completions come
//! back as events and go to Zab, not to the core), its deliveries to the core. When a
//! role ends, the log is drained, the database is reloaded from disk (so it holds
//! every logged txn, as Java's `fastForwardDataBase` makes it) and the role loop is
//! told to elect again.
//!
//! Snapshots besides the log's own: a leader saves the database it starts leading from
//! (`Leader.lead` → `loadData`), a learner the one a SNAP or a TRUNC left it with
//! (`Learner.syncWithLeader`), each recording `snapshottime`; a reload records the
//! start-up load metrics again, as every `ZKDatabase.loadDataBase` does.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::link_stats::LinkStats;
use super::links::Outgoing;
use super::metrics::{PeerMetrics, PeerView, Role as MetricsRole};
use super::samples::PeerSamples;
use super::{PeerEvent, RoleEnded};
use crate::node::driver::{
    clock_ms, run_batches, to_core, Event, Host, Inbox, Outs, TxnLog, SNAPSHOT_SLICE_NODES,
};
use crate::node::stats::LearnerLinkInfo;
use crate::node::{Action as CoreAction, Core, CoreConfig, Input as CoreInput, Role};
use crate::proto::quorum::{encode_quorum_packet, Packet};
use crate::proto::{ServerId, TxnEntry, Zxid};
use crate::quorum::epochs::{ACCEPTED_EPOCH, CURRENT_EPOCH};
use crate::quorum::{snap_stream, EpochFiles};
use crate::storage::{self, history, DiskLog, StorageConfig};
use crate::zab::{self, Durable, EpochKind, Leader, Learner, Zab, ZabConfig};

/// What the driver needs besides the core.
pub struct PeerSetup {
    pub core_cfg: CoreConfig,
    pub storage: StorageConfig,
    pub zab: ZabConfig,
    pub epochs: EpochFiles,
    pub accepted_epoch: i64,
    pub current_epoch: i64,
    /// Where the driver's own events go (the log writer reports there).
    pub events: mpsc::Sender<Event>,
    pub ended: mpsc::UnboundedSender<RoleEnded>,
    /// Where the established epoch goes, for the votes this peer answers with.
    pub election: crate::quorum::election_driver::EpochNotifier,
}

pub struct PeerDriver {
    core: Core,
    zab: Option<Zab>,
    /// Zab actions not executed yet, in order.
    pending: VecDeque<zab::Action>,
    gen: u64,
    log: Option<DiskLog>,
    setup: PeerSetup,
    peers: BTreeMap<ServerId, mpsc::Sender<Outgoing>>,
    /// Leader: each learner's connection, for the `observers` command and the markers.
    links: BTreeMap<ServerId, LinkStats>,
    outs: Outs,
    /// The newest logged txns (`ZKDatabase.committedLog`), for DIFF syncs.
    recent: VecDeque<TxnEntry>,
    /// Every txn logged after this zxid is in `recent` (`None`: not known).
    recent_after: Option<i64>,
    inbox: Inbox,
    mono_start: Instant,
    failed: Option<String>,
    /// Role counters and timings for the operations surface.
    metrics: PeerMetrics,
    /// Values for the core's metrics registry, handed over once per batch.
    samples: PeerSamples,
    /// The leader of the current role (this server when leading).
    leader_id: Option<ServerId>,
}

impl PeerDriver {
    pub fn new(
        core: Core,
        log: DiskLog,
        setup: PeerSetup,
        rx: mpsc::Receiver<Event>,
    ) -> std::io::Result<PeerDriver> {
        let dirs = setup.storage.dirs();
        let recent: VecDeque<TxnEntry> =
            history::recent_entries(&dirs, 0, setup.zab.committed_log_max)?.into();
        let recent_after = recent.is_empty().then(|| core.last_applied_zxid());
        let mut d = PeerDriver {
            core,
            zab: None,
            pending: VecDeque::new(),
            gen: 0,
            log: Some(log),
            setup,
            peers: BTreeMap::new(),
            links: BTreeMap::new(),
            outs: Outs::default(),
            recent,
            recent_after,
            inbox: Inbox::new(rx),
            mono_start: Instant::now(),
            failed: None,
            metrics: PeerMetrics::new(0),
            samples: PeerSamples::default(),
            leader_id: None,
        };
        d.core.set_role(Role::Looking);
        Ok(d)
    }

    /// Runs until shutdown; an error when persistence failed.
    pub fn run(mut self) -> Result<(), String> {
        let start = self.mono_start;
        run_batches(&mut self, start);
        self.stopped()
    }

    fn stopped(&mut self) -> Result<(), String> {
        self.inbox.close();
        if let Some(log) = self.log.take() {
            let inbox = &mut self.inbox;
            log.finish(|| inbox.set_aside());
        }
        match self.failed.take() {
            Some(why) => {
                error!("stopping: no more writes are accepted: {why}");
                Err(why)
            }
            None => Ok(()),
        }
    }

    fn peer_event(&mut self, ev: PeerEvent) {
        match ev {
            PeerEvent::Tick => self.feed(zab::Input::Tick),
            PeerEvent::Lead { gen } => self.lead(gen),
            PeerEvent::LeaderConnected { gen, leader, out } => self.follow(gen, leader, out),
            PeerEvent::LearnerConnected {
                gen,
                sid,
                out,
                addr,
                queued_bytes,
            } if gen == self.gen => {
                self.peers.insert(sid, out);
                self.links
                    .insert(sid, LinkStats::new(addr, self.wall_now(), queued_bytes));
            }
            PeerEvent::QueueTime { gen, sid, ms } if gen == self.gen => {
                self.metrics.queue_time(sid, ms)
            }
            PeerEvent::ResetObserverStats => self.reset_observer_stats(),
            PeerEvent::Packet { gen, from, pkt } if gen == self.gen => {
                if let Some(l) = self.links.get_mut(&from) {
                    l.received(&pkt);
                }
                if matches!(self.zab, Some(Zab::Learner(_))) {
                    self.metrics.learner_received(&pkt);
                    if let Packet::Proposal { txn, .. } = &pkt {
                        if self.metrics.is_broadcasting() && self.core.role() == Role::Following {
                            self.samples.proposal_received(self.wall_now(), txn);
                        }
                    }
                }
                self.feed(zab::Input::Packet { from, pkt })
            }
            PeerEvent::Snapshot { gen, zxid, db } if gen == self.gen => {
                self.core.load_snapshot(db.tree, &db.sessions, zxid.0);
                let leader = match &self.zab {
                    Some(Zab::Learner(l)) => l.leader(),
                    _ => return,
                };
                self.feed(zab::Input::Packet {
                    from: leader,
                    pkt: Packet::Snap(zxid),
                });
            }
            PeerEvent::Down { gen, sid } if gen == self.gen => {
                self.peers.remove(&sid);
                self.feed(zab::Input::PeerDown(sid));
            }
            _ => {}
        }
    }

    fn durable(&self) -> Durable {
        let last = Zxid(self.core.last_applied_zxid());
        Durable {
            accepted_epoch: epoch_u32(self.setup.accepted_epoch),
            current_epoch: epoch_u32(self.setup.current_epoch),
            last_zxid: last,
            durable_zxid: last,
            recent: self.recent.iter().cloned().collect(),
        }
    }

    fn lead(&mut self, gen: u64) {
        self.gen = gen;
        self.peers.clear();
        self.links.clear();
        self.core.set_role(Role::Leading);
        self.metrics.elected(self.mono_now());
        self.leader_id = Some(self.setup.zab.my_id);
        // `Leader.lead` → `ZooKeeperServer.loadData`: the database it leads from is saved
        // first (every member's log holds it; Java exits when it cannot be written).
        if let Err(why) = self.save_snapshot(Zxid(self.core.last_applied_zxid())) {
            self.failed = Some(why);
            return;
        }
        let mut leader = Leader::new(self.setup.zab.clone(), self.durable());
        let first = leader.take_actions();
        self.zab = Some(Zab::Leader(leader));
        self.pending.extend(first);
    }

    fn follow(&mut self, gen: u64, leader: ServerId, out: mpsc::Sender<Outgoing>) {
        self.gen = gen;
        self.peers.clear();
        self.peers.insert(leader, out);
        let observer = !self.setup.zab.voters.contains(&self.setup.zab.my_id);
        self.core.set_role(if observer {
            Role::Observing
        } else {
            Role::Following
        });
        self.metrics.elected(self.mono_now());
        self.leader_id = Some(leader);
        let mut learner = Learner::new(self.setup.zab.clone(), leader, self.durable());
        let first = learner.take_actions();
        self.zab = Some(Zab::Learner(learner));
        self.pending.extend(first);
    }

    fn feed(&mut self, input: zab::Input) {
        if let Some(z) = self.zab.as_mut() {
            let out = z.step(input);
            self.pending.extend(out);
            self.samples.extend(z.take_samples());
        }
    }

    /// Executes core and Zab actions until neither has anything more to say.
    fn execute_all(&mut self) {
        loop {
            if matches!(self.zab, Some(Zab::Learner(_))) {
                for t in self.core.take_touches() {
                    self.feed(zab::Input::Touch(t));
                }
            }
            let core_actions = self.core.take_actions();
            if core_actions.is_empty() && self.pending.is_empty() {
                let samples = self.samples.take();
                if !samples.is_empty() {
                    self.core.step(CoreInput::Samples(samples));
                }
                return;
            }
            self.outs.closing_ahead(&core_actions);
            for a in core_actions {
                self.core_action(a);
            }
            while let Some(a) = self.pending.pop_front() {
                self.zab_action(a);
                if self.failed.is_some() {
                    return;
                }
            }
        }
    }

    fn core_action(&mut self, a: CoreAction) {
        let Some(a) = self.outs.execute(a) else {
            return;
        };
        match a {
            CoreAction::Propose(entry) => self.feed(zab::Input::Propose(entry)),
            CoreAction::Forward(req) => self.feed(zab::Input::Forward(req)),
            CoreAction::Sync(origin) => self.feed(zab::Input::SyncRequest(origin)),
            CoreAction::Revalidate {
                session,
                timeout_ms,
            } => self.feed(zab::Input::Revalidate {
                session,
                timeout_ms,
            }),
            CoreAction::RevalidateAnswer { to, session, valid } => {
                self.feed(zab::Input::RevalidateAnswer { to, session, valid })
            }
            CoreAction::Persist { entries } => {
                error!(
                    "{} txns prepared outside a leader role are dropped",
                    entries.len()
                );
            }
            CoreAction::Send { .. } | CoreAction::Established { .. } | CoreAction::Close { .. } => {
            }
        }
    }

    fn zab_action(&mut self, a: zab::Action) {
        use zab::Action as A;
        match a {
            A::Send { to, pkt } => {
                if matches!(self.zab, Some(Zab::Leader(_))) {
                    self.metrics.leader_sent(to, &pkt, self.queued_for(to));
                }
                let mut b = BytesMut::new();
                let rec = pkt.to_record();
                encode_quorum_packet(&rec, &mut b);
                self.send_raw(to, b.freeze(), Some(rec.zxid));
            }
            A::Persist { entries } => {
                if matches!(self.zab, Some(Zab::Leader(_))) {
                    entries
                        .iter()
                        .for_each(|e| self.metrics.proposed(proposal_size(e)));
                }
                if self.core.role() != Role::Observing {
                    self.samples.logged(&entries);
                }
                self.persist(entries)
            }
            A::Truncate { to } => self.truncate(to),
            A::SendSnapshot { to, zxid } => {
                self.metrics.snapshot_sent(to, self.queued_for(to));
                self.send_snapshot(to, zxid)
            }
            A::TakeSnapshot { zxid } => self.take_snapshot(zxid),
            A::SaveEpoch { kind, epoch } => self.save_epoch(kind, epoch),
            A::Deliver { entry } => {
                let leading = matches!(self.zab, Some(Zab::Leader(_)));
                if leading {
                    self.metrics.committed(self.wall_now(), entry.header.time);
                }
                if !self.core.is_serving() {
                    // Synchronizing: Java applies these without its commit processor.
                    return self.core.step(CoreInput::Committed(entry));
                }
                self.samples
                    .commit_received(self.wall_now(), &entry, !leading);
                let started = Instant::now();
                self.core.step(CoreInput::Committed(entry));
                self.samples
                    .commit_processed(started.elapsed().as_millis() as i64);
            }
            A::Established { epoch } => {
                let last = match &self.zab {
                    Some(Zab::Leader(l)) => l.next_zxid().0 - 1,
                    _ => i64::from(epoch) << 32,
                };
                info!("LEADING: epoch {epoch} established");
                self.metrics
                    .broadcasting(self.mono_now(), MetricsRole::Leader);
                self.setup.election.established(i64::from(epoch));
                self.core.start_serving(last);
            }
            A::Serving { epoch } => {
                info!("{}: up to date with epoch {epoch}", self.core.role().name());
                let role = if self.core.role() == Role::Observing {
                    MetricsRole::Observer
                } else {
                    MetricsRole::Follower
                };
                self.metrics.broadcasting(self.mono_now(), role);
                self.setup.election.established(i64::from(epoch));
                self.core.start_serving(0);
            }
            A::Request { from, req } => self.core.step(CoreInput::Forwarded { from, req }),
            A::TouchSessions { touches, .. } => self.core.step(CoreInput::Touches(touches)),
            A::Revalidate {
                from,
                session,
                timeout_ms,
            } => {
                self.samples.revalidate_asked();
                self.core.step(CoreInput::RevalidateAsk {
                    from,
                    session,
                    timeout_ms,
                })
            }
            A::Revalidated { session, valid } => {
                self.core.step(CoreInput::Revalidated { session, valid })
            }
            A::SyncDone {
                origin: zab::Origin::Local,
            } => self.core.step(CoreInput::SyncDone),
            A::SyncDone {
                origin: zab::Origin::Learner(_),
            } => {}
            A::ProposeRefused(entry) => self.core.proposal_refused(&entry),
            A::CloseLearner(sid) => {
                self.peers.remove(&sid);
            }
            A::GoLooking { reason } => self.end_role(reason),
        }
    }

    fn send_raw(&mut self, to: ServerId, bytes: Bytes, zxid: Option<Zxid>) {
        let Some(tx) = self.peers.get(&to) else {
            return;
        };
        let len = bytes.len();
        if let Some(l) = self.links.get_mut(&to) {
            if l.marker_due() {
                // A full queue drops the connection below anyway.
                let _ = tx.try_send(Outgoing::Marker(Instant::now()));
            }
        }
        match tx.try_send(Outgoing::Packet(bytes)) {
            Ok(()) => {
                if let Some(l) = self.links.get_mut(&to) {
                    l.queued(len, zxid);
                }
                return;
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                warn!("server {to} is not keeping up with the quorum traffic; dropping its connection")
            }
            // The socket's writer ended (the peer closed the connection): not slowness.
            Err(mpsc::error::TrySendError::Closed(_)) => {
                info!("the quorum connection with server {to} has closed")
            }
        }
        self.peers.remove(&to);
        self.feed(zab::Input::PeerDown(to));
    }

    fn persist(&mut self, entries: Vec<TxnEntry>) {
        for e in &entries {
            self.recent.push_back(e.clone());
        }
        while self.recent.len() > self.setup.zab.committed_log_max {
            if let Some(e) = self.recent.pop_front() {
                self.recent_after = Some(e.header.zxid);
            }
        }
        let Some(log) = self.log.as_mut() else { return };
        match log.append(entries.into_iter().map(std::sync::Arc::new).collect()) {
            Ok(Some(upto)) => self.log_durable(Zxid(upto)),
            Ok(None) => {}
            Err(e) => self.failed = Some(format!("transaction log append failed: {e}")),
        }
    }

    /// The log is durable through `upto`: Zab ACKs (or counts its own ACK).
    fn log_durable(&mut self, upto: Zxid) {
        self.samples.persisted(self.wall_now(), upto);
        self.feed(zab::Input::Persisted { upto });
    }

    fn save_epoch(&mut self, kind: EpochKind, epoch: u32) {
        let (name, slot) = match kind {
            EpochKind::Accepted => (ACCEPTED_EPOCH, &mut self.setup.accepted_epoch),
            EpochKind::Current => (CURRENT_EPOCH, &mut self.setup.current_epoch),
        };
        *slot = i64::from(epoch);
        if let Err(e) = self.setup.epochs.write(name, i64::from(epoch)) {
            self.failed = Some(format!("cannot write {name}: {e}"));
        }
    }

    fn send_snapshot(&mut self, to: ServerId, zxid: Zxid) {
        let mut b = BytesMut::new();
        encode_quorum_packet(&Packet::Snap(zxid).to_record(), &mut b);
        snap_stream::encode(self.core.tree(), &self.core.session_table(), &mut b);
        info!(
            "sending a snapshot at 0x{:x} to server {to} ({} bytes)",
            zxid.0,
            b.len()
        );
        self.send_raw(to, b.freeze(), Some(zxid));
    }

    /// Runs `f` with the log writer stopped (everything handed to it written), then
    /// starts a new writer.
    fn with_log_stopped(&mut self, f: impl FnOnce(&mut PeerDriver) -> Result<(), String>) {
        if let Some(log) = self.log.take() {
            let inbox = &mut self.inbox;
            log.finish(|| inbox.set_aside());
        }
        if let Err(why) = f(self) {
            self.failed = Some(why);
            return;
        }
        match DiskLog::start(&self.setup.storage, self.setup.events.clone()) {
            Ok(log) => self.log = Some(log),
            Err(e) => self.failed = Some(format!("cannot restart the transaction log: {e}")),
        }
    }

    /// Reloads the database from disk into a fresh core with `role`. What the load
    /// measured is recorded as at start-up: `ZKDatabase.loadDataBase` and
    /// `FileTxnSnapLog.restore` record `dbinittime` and `startup_*` at every load.
    fn reload(&mut self, role: Role) -> Result<(), String> {
        let r = storage::recover(&self.setup.storage).map_err(|e| e.to_string())?;
        let loading = r.samples();
        let (wall, mono) = clock_ms(self.mono_start);
        let mut core = Core::recovered(
            self.setup.core_cfg.clone(),
            r.tree,
            &r.sessions,
            r.last_zxid,
            wall,
            mono,
            rand::random(),
        );
        core.set_role(role);
        // Metrics are the server's, not the database's: they outlive a reload as Java's
        // `ServerMetrics` outlive `ZKDatabase.loadDataBase`.
        core.keep_stats_of(&mut self.core);
        self.core = core;
        self.core.step(CoreInput::Samples(loading));
        let dirs = self.setup.storage.dirs();
        self.recent = history::recent_entries(&dirs, 0, self.setup.zab.committed_log_max)
            .map_err(|e| e.to_string())?
            .into();
        self.recent_after = self
            .recent
            .is_empty()
            .then(|| self.core.last_applied_zxid());
        Ok(())
    }

    /// TRUNC (`Learner.syncWithLeader` → `ZKDatabase.truncateLog`): the log is cut back
    /// and the database reloaded from it; then, as after a SNAP, the database is saved in
    /// a snapshot. Java takes that one at NEWLEADER, with the txns of the sync applied;
    /// here they are logged and applied only at UPTODATE, so it is the database reloaded.
    fn truncate(&mut self, to: Zxid) {
        let role = self.core.role();
        self.with_log_stopped(|d| {
            let dirs = d.setup.storage.dirs();
            let n = history::truncate_after(&dirs, to.0)
                .map_err(|e| format!("cannot truncate the log: {e}"))?;
            info!(
                "truncated {n} txns after 0x{:x} at the leader's request",
                to.0
            );
            d.reload(role)?;
            d.save_snapshot(Zxid(d.core.last_applied_zxid()))
        });
    }

    /// SNAP: the database received from the leader is saved before anything is logged
    /// after it (`Learner.syncWithLeader` → `takeSnapshot(syncSnapshot)`).
    fn take_snapshot(&mut self, zxid: Zxid) {
        self.with_log_stopped(|d| {
            let dirs = d.setup.storage.dirs();
            history::truncate_after(&dirs, zxid.0)
                .map_err(|e| format!("cannot truncate the log: {e}"))?;
            d.save_snapshot(zxid)?;
            d.recent.clear();
            d.recent_after = Some(zxid.0);
            Ok(())
        });
    }

    /// Writes the database, which is at `zxid`, as a snapshot and records the time it
    /// took (`ZooKeeperServer.takeSnapshot`: `snapshottime`). A server that cannot save
    /// the database it leads from or synced stops, as Java exits.
    fn save_snapshot(&mut self, zxid: Zxid) -> Result<(), String> {
        let dirs = self.setup.storage.dirs();
        let sessions = self.core.session_table();
        let compression = self.setup.storage.compression;
        let written = storage::service::save(
            &dirs.snap_dir,
            zxid.0,
            self.core.tree(),
            &sessions,
            compression,
        )
        .map_err(|e| format!("cannot write snapshot 0x{:x}: {e}", zxid.0))?;
        self.core.step(CoreInput::Samples(vec![written]));
        Ok(())
    }

    /// Leaves the role: clients are disconnected, the log drained, the database
    /// reloaded, and the role loop told to elect again.
    fn end_role(&mut self, reason: &str) {
        info!("leaving the {} role: {reason}", self.core.role().name());
        self.zab = None;
        self.pending.clear();
        self.peers.clear();
        self.metrics.looking(self.mono_now());
        self.samples.role_ended();
        self.leader_id = None;
        self.core.stop_serving();
        let actions = self.core.take_actions();
        self.outs.closing_ahead(&actions);
        for a in actions {
            let _ = self.outs.execute(a);
        }
        self.with_log_stopped(|d| {
            let recent: Vec<TxnEntry> = d.recent.iter().cloned().collect();
            let applied = d.core.last_applied_zxid();
            let unapplied = recent.iter().filter(|e| e.header.zxid > applied).count();
            let started = Instant::now();
            if d.core.fast_forward(&recent, d.recent_after) {
                d.core.set_role(Role::Looking);
                // `ZooKeeperServer.shutdown` → `ZKDatabase.fastForwardDataBase` records
                // the logged txns it applied as a start-up load does.
                let ms = storage::elapsed_ms(started);
                d.core
                    .step(CoreInput::Samples(storage::recovery::txns_loaded(
                        unapplied, ms,
                    )));
                Ok(())
            } else {
                d.reload(Role::Looking)
            }
        });
        let ended = RoleEnded {
            gen: self.gen,
            last_zxid: Zxid(self.core.last_applied_zxid()),
            current_epoch: self.setup.current_epoch,
        };
        let _ = self.setup.ended.send(ended);
    }
}

impl PeerDriver {
    fn mono_now(&self) -> i64 {
        clock_ms(self.mono_start).1
    }

    fn wall_now(&self) -> i64 {
        clock_ms(self.mono_start).0
    }

    /// Packets waiting in the queue of the connection to `sid`.
    fn queued_for(&self, sid: ServerId) -> usize {
        self.peers
            .get(&sid)
            .map_or(0, |tx| tx.max_capacity() - tx.capacity())
    }

    /// `Leader.resetObserverConnectionStats`: the synced observers' connections start
    /// counting again (followers serve no observers here: no `observerMasterPort`).
    fn reset_observer_stats(&mut self) {
        let Some(Zab::Leader(leader)) = &self.zab else {
            return;
        };
        for sid in leader.observing() {
            let waiting = self.queued_for(sid);
            if let Some(l) = self.links.get_mut(&sid) {
                l.reset(waiting);
            }
        }
    }

    /// The synced observers' connections (`Leader.getObservingLearnersInfo`).
    fn observer_links(&self, leader: &Leader) -> Vec<LearnerLinkInfo> {
        let observing = leader.observing();
        observing
            .iter()
            .filter_map(|sid| {
                let l = self.links.get(sid)?;
                let queued = self.queued_for(*sid);
                Some(l.info(*sid, queued))
            })
            .collect()
    }

    /// The quorum part of an operations snapshot.
    fn quorum_snapshot(&self) -> crate::node::stats::QuorumSnapshot {
        let (role, learners) = match &self.zab {
            Some(Zab::Leader(l)) => (Some(MetricsRole::Leader), Some(l.learner_counts())),
            Some(Zab::Learner(_)) if self.core.role() == Role::Observing => {
                (Some(MetricsRole::Observer), None)
            }
            Some(Zab::Learner(_)) => (Some(MetricsRole::Follower), None),
            None => (None, None),
        };
        let view = PeerView {
            quorum_size: self.setup.zab.voters.len(),
            leader_id: self.leader_id.map(|s| s.0),
            learners,
        };
        let mut snap = self.metrics.snapshot(self.mono_now(), role, view);
        if let (Some(l), Some(Zab::Leader(z))) = (snap.leader.as_mut(), &self.zab) {
            l.observers = self.observer_links(z);
        }
        snap
    }
}

/// The serialized size of a proposal's txn (`SerializeUtils.serializeRequest`: header,
/// record and digest), as the leader's proposal stats count it.
fn proposal_size(entry: &TxnEntry) -> usize {
    let mut b = BytesMut::new();
    crate::proto::codec::encode_txn(entry, &mut b);
    b.len()
}

impl Host for PeerDriver {
    fn core(&mut self) -> &mut Core {
        &mut self.core
    }

    fn inbox(&mut self) -> &mut Inbox {
        &mut self.inbox
    }

    fn handle(&mut self, ev: Event) -> bool {
        // The log's completions go to Zab, which decides what is committed.
        if let Event::Input(CoreInput::Persisted { upto }) = ev {
            self.log_durable(Zxid(upto));
            return true;
        }
        if let Event::Query { what, reply } = ev {
            let mut snap = self.core.answer_query(what);
            snap.quorum = Some(self.quorum_snapshot());
            let _ = reply.send(snap);
            return true;
        }
        match to_core(&mut self.core, &mut self.outs, ev) {
            Some(Event::Failed(why)) => self.failed = Some(why),
            Some(Event::Peer(p)) => self.peer_event(p),
            Some(Event::Shutdown) => return false,
            _ => {}
        }
        true
    }

    fn execute(&mut self) {
        self.execute_all();
    }

    fn snapshot_slice(&mut self, idle: bool) {
        if !idle && self.log.as_ref().is_some_and(|l| !l.snapshot_room()) {
            return;
        }
        if let Some(slice) = self.core.snapshot_slice(SNAPSHOT_SLICE_NODES) {
            if let Some(log) = self.log.as_mut() {
                log.snapshot_slice(slice);
            }
        }
    }

    fn failed(&self) -> bool {
        self.failed.is_some()
    }
}

fn epoch_u32(e: i64) -> u32 {
    u32::try_from(e).unwrap_or(u32::MAX)
}
