//! The leader: discovery (collect FOLLOWERINFOs, pick the new epoch, collect ACKEPOCHs),
//! per-learner synchronization, the NEWLEADER quorum, then broadcast and liveness.
//! Stands in for `Leader.lead` and the per-learner `LearnerHandler` threads, whose
//! progress is kept here as one `Peer` record per connected learner.

mod broadcast;
mod discovery;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{Action, Durable, Input, Origin, ZabConfig};
use crate::node::recorded::{Basic, Sample};
use crate::proto::quorum::Packet;
use crate::proto::{ServerId, TxnEntry, Zxid};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Waiting for a quorum of FOLLOWERINFOs to pick the epoch.
    Discovery,
    /// LEADERINFO sent; waiting for a quorum of ACKEPOCHs.
    EpochAcks,
    /// Learners being synced; waiting for a quorum of NEWLEADER ACKs.
    NewLeaderAcks,
    Broadcast,
    Stopped,
}

/// Where one learner's handshake stands (`LearnerHandler.run`'s progress).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// FOLLOWERINFO received; LEADERINFO not sent yet (epoch not chosen).
    Info,
    /// LEADERINFO sent, ACKEPOCH awaited (or received before the epoch quorum).
    AckEpoch,
    /// Sync packets and NEWLEADER sent; its ACK awaited. Receives live traffic.
    Syncing,
    /// NEWLEADER acked; UPTODATE waits for the leader to be established.
    Synced,
    Active,
}

#[derive(Clone, Debug)]
struct Peer {
    observer: bool,
    stage: Stage,
    last_heard: u64,
    /// From ACKEPOCH: the learner's last logged zxid.
    last_zxid: Option<Zxid>,
    /// Set when the learner rejoined holding our in-flight proposals up to this zxid.
    resumed_upto: Option<Zxid>,
    /// While syncing: whether it gets a SNAP (else a DIFF or TRUNC), for the sync
    /// throttlers' in-flight counts.
    snap: bool,
}

#[derive(Clone, Debug)]
struct Proposal {
    entry: TxnEntry,
    acks: BTreeSet<ServerId>,
}

/// The leader's learners as the operations surface counts them (`Leader.getLearners`,
/// `getForwardingFollowers`, `getNonVotingFollowers`, `getObservingLearners`,
/// `getNumPendingSyncs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LearnerCounts {
    /// Connected learners in any stage.
    pub learners: usize,
    /// Followers receiving live traffic (synced or syncing).
    pub synced_followers: usize,
    /// Of those, the ones outside the voting configuration.
    pub synced_non_voting_followers: usize,
    pub synced_observers: usize,
    /// Zxids that learners' `sync` requests wait for.
    pub pending_syncs: usize,
}

#[derive(Debug)]
pub struct Leader {
    cfg: ZabConfig,
    phase: Phase,
    durable: Durable,
    /// The epoch being established (`Leader.epoch`).
    epoch: u32,
    infos: BTreeSet<ServerId>,
    epoch_acks: BTreeSet<ServerId>,
    newleader_acks: BTreeSet<ServerId>,
    peers: BTreeMap<ServerId, Peer>,
    /// Committed window for DIFF syncs, oldest first.
    log: VecDeque<TxnEntry>,
    /// The last committed zxid, (epoch, 0) once established until the epoch's first
    /// commit (`ZKDatabase.getDataTreeLastProcessedZxid`, which syncs compare with).
    committed: Zxid,
    last_proposed: Zxid,
    durable_zxid: Zxid,
    outstanding: BTreeMap<Zxid, Proposal>,
    pending_syncs: BTreeMap<Zxid, Vec<Origin>>,
    tick: u64,
    phase_started: u64,
    actions: Vec<Action>,
    /// Metric values for the core's `ServerMetrics` (`take_samples`).
    samples: Vec<Sample>,
}

impl Leader {
    /// Starts leading with what the node loaded from disk.
    pub fn new(cfg: ZabConfig, durable: Durable) -> Leader {
        let mut log: VecDeque<TxnEntry> = durable.recent.iter().cloned().collect();
        while log.len() > cfg.committed_log_max {
            log.pop_front();
        }
        let mut l = Leader {
            phase: Phase::Discovery,
            epoch: durable.accepted_epoch.saturating_add(1),
            infos: BTreeSet::new(),
            epoch_acks: BTreeSet::new(),
            newleader_acks: BTreeSet::new(),
            peers: BTreeMap::new(),
            log,
            committed: durable.last_zxid,
            last_proposed: durable.last_zxid,
            durable_zxid: durable.durable_zxid,
            outstanding: BTreeMap::new(),
            pending_syncs: BTreeMap::new(),
            tick: 0,
            phase_started: 0,
            actions: Vec::new(),
            samples: Vec::new(),
            cfg,
            durable,
        };
        l.info_from(l.cfg.my_id, l.durable.accepted_epoch);
        l
    }

    pub fn step(&mut self, input: Input) -> Vec<Action> {
        if self.phase != Phase::Stopped {
            self.dispatch(input);
        }
        std::mem::take(&mut self.actions)
    }

    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// Drains pending actions (a single-voter ensemble decides its epoch inside `new`).
    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// The metric values recorded since the last call, for the core's registry.
    pub fn take_samples(&mut self) -> Vec<Sample> {
        std::mem::take(&mut self.samples)
    }

    /// `LearnerSyncThrottler.getSyncInProgress` of the SNAP or the DIFF throttler:
    /// learners between their sync packets and their NEWLEADER ACK.
    fn syncs_in_progress(&self, snap: bool) -> i64 {
        self.peers
            .values()
            .filter(|p| p.stage == Stage::Syncing && p.snap == snap)
            .count() as i64
    }

    /// `INFLIGHT_SNAP_COUNT` / `INFLIGHT_DIFF_COUNT`, sampled when a sync begins and
    /// when it ends (`LearnerHandler.run`).
    fn sample_syncs(&mut self, snap: bool) {
        let n = self.syncs_in_progress(snap);
        let m = if snap {
            Basic::InflightSnapCount
        } else {
            Basic::InflightDiffCount
        };
        self.samples.push(Sample::Basic(m, n));
    }

    /// The epoch being led (established once `Action::Established` was emitted).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    pub fn is_established(&self) -> bool {
        self.phase == Phase::Broadcast
    }

    /// The zxid the next proposal will get.
    pub fn next_zxid(&self) -> Zxid {
        self.last_proposed.next()
    }

    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    /// The observers receiving live traffic (`Leader.getObservingLearners`).
    pub fn observing(&self) -> Vec<ServerId> {
        self.forwarding(true)
    }

    pub fn learner_counts(&self) -> LearnerCounts {
        let followers = self.forwarding(false);
        LearnerCounts {
            learners: self.peers.len(),
            synced_non_voting_followers: followers
                .iter()
                .filter(|s| !self.cfg.voters.contains(s))
                .count(),
            synced_followers: followers.len(),
            synced_observers: self.forwarding(true).len(),
            pending_syncs: self
                .pending_syncs
                .values()
                .filter(|o| o.iter().any(|o| matches!(o, Origin::Learner(_))))
                .count(),
        }
    }

    fn dispatch(&mut self, input: Input) {
        match input {
            Input::Packet { from, pkt } => self.packet(from, pkt),
            Input::PeerDown(sid) => {
                self.peers.remove(&sid);
            }
            Input::Persisted { upto } => self.persisted(upto),
            Input::Tick => self.on_tick(),
            Input::Propose(entry) => self.propose(entry),
            Input::SyncRequest(origin) => self.sync_request(origin),
            Input::RevalidateAnswer { to, session, valid } => {
                self.send(to, Packet::RevalidateAnswer { session, valid });
            }
            Input::Forward(_) | Input::Touch(_) | Input::Revalidate { .. } => {}
        }
    }

    fn packet(&mut self, from: ServerId, pkt: Packet) {
        if let Some(p) = self.peers.get_mut(&from) {
            p.last_heard = self.tick;
        }
        match pkt {
            Packet::FollowerInfo { zxid, .. } => self.learner_info(from, zxid, false),
            Packet::ObserverInfo { zxid, .. } => self.learner_info(from, zxid, true),
            Packet::AckEpoch { zxid, epoch } => self.ack_epoch(from, zxid, epoch),
            Packet::Ack(z) => self.ack(from, z),
            Packet::Request(req) => self.actions.push(Action::Request { from, req }),
            Packet::Ping {
                touches: Some(t), ..
            } if !t.is_empty() => {
                self.actions
                    .push(Action::TouchSessions { from, touches: t });
            }
            Packet::RevalidateAsk {
                session,
                timeout_ms,
            } => {
                self.actions.push(Action::Revalidate {
                    from,
                    session,
                    timeout_ms,
                });
            }
            _ => {}
        }
    }

    fn send(&mut self, to: ServerId, pkt: Packet) {
        self.actions.push(Action::Send { to, pkt });
    }

    fn stop(&mut self, reason: &'static str) {
        self.phase = Phase::Stopped;
        self.actions.push(Action::GoLooking { reason });
    }

    fn set_phase(&mut self, p: Phase) {
        self.phase = p;
        self.phase_started = self.tick;
    }

    fn on_tick(&mut self) {
        self.tick += 1;
        let since = self.tick - self.phase_started;
        if self.phase < Phase::Broadcast && since > u64::from(self.cfg.init_limit) {
            return self.stop("no quorum of learners within initLimit");
        }
        self.drop_silent_learners();
        if self.phase == Phase::Broadcast {
            self.ping_all();
            if !self.cfg.is_quorum(&self.synced_voters()) {
                self.stop("not enough followers synced within syncLimit");
            }
        }
    }

    /// `LearnerHandler`'s socket timeout: initLimit while syncing, syncLimit after.
    fn drop_silent_learners(&mut self) {
        let tick = self.tick;
        let (init, sync) = (
            u64::from(self.cfg.init_limit),
            u64::from(self.cfg.sync_limit),
        );
        let silent: Vec<ServerId> = self
            .peers
            .iter()
            .filter(|(_, p)| {
                tick - p.last_heard > if p.stage == Stage::Active { sync } else { init }
            })
            .map(|(s, _)| *s)
            .collect();
        for sid in silent {
            self.peers.remove(&sid);
            self.actions.push(Action::CloseLearner(sid));
        }
    }

    fn synced_voters(&self) -> BTreeSet<ServerId> {
        let mut s: BTreeSet<ServerId> = self
            .peers
            .iter()
            .filter(|(sid, p)| {
                !p.observer && p.stage >= Stage::Synced && self.cfg.voters.contains(sid)
            })
            .map(|(sid, _)| *sid)
            .collect();
        s.insert(self.cfg.my_id);
        s
    }

    fn ping_all(&mut self) {
        let z = self.last_proposed;
        let to: Vec<ServerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.stage >= Stage::Syncing)
            .map(|(s, _)| *s)
            .collect();
        for sid in to {
            self.send(
                sid,
                Packet::Ping {
                    zxid: z,
                    touches: None,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests;
