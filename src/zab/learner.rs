//! A learner (follower or observer): registration and epoch handshake, synchronization
//! up to UPTODATE, then the broadcast phase (`Learner.registerWithLeader`,
//! `syncWithLeader`, `Follower.processPacket`, `Observer.processPacket`).
//!
//! Unlike 3.8's `syncWithLeader`, every txn received during synchronization is logged,
//! and the NEWLEADER ACK waits until all of them are durable (the fix of ZOOKEEPER-4646).
//! Txns committed during synchronization reach the state machine only at UPTODATE: until
//! then the leader may still fail to gather its quorum, and what it sent may be
//! truncated by the next one.

use std::collections::{BTreeMap, VecDeque};

use super::{Action, Durable, EpochKind, Input, Origin, ZabConfig};
use crate::proto::quorum::{LearnerInfo, Packet};
use crate::proto::{ServerId, SessionId, TxnEntry, Zxid};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// FOLLOWERINFO sent, LEADERINFO awaited.
    Registering,
    /// ACKEPOCH sent; sync packets until NEWLEADER.
    Syncing,
    /// NEWLEADER acked (or waiting for persistence to ack it); UPTODATE awaited.
    NewLeader,
    Broadcast,
    Stopped,
}

#[derive(Debug)]
pub struct Learner {
    cfg: ZabConfig,
    leader: ServerId,
    observer: bool,
    phase: Phase,
    durable: Durable,
    new_epoch: u32,
    last_logged: Zxid,
    durable_zxid: Zxid,
    /// Proposals logged but not committed yet, in zxid order.
    pending: VecDeque<TxnEntry>,
    committed: Zxid,
    newleader_ack_due: bool,
    /// Proposals to ACK once durable (and, for those of the sync, once NEWLEADER is ACKed).
    unacked: VecDeque<Zxid>,
    /// Commits received before UPTODATE: the leader is not established yet, so they are
    /// handed to the state machine only once UPTODATE proves a quorum holds them.
    deferred: Vec<TxnEntry>,
    touches: BTreeMap<SessionId, i32>,
    /// What was committed when UPTODATE arrived: proposals up to here were settled by
    /// the sync and are not acknowledged.
    sync_floor: Zxid,
    tick: u64,
    last_heard: u64,
    actions: Vec<Action>,
}

impl Learner {
    /// Starts following (or observing) `leader`; the shell has opened the connection.
    pub fn new(cfg: ZabConfig, leader: ServerId, durable: Durable) -> Learner {
        let observer = !cfg.voters.contains(&cfg.my_id);
        let mut l = Learner {
            leader,
            observer,
            phase: Phase::Registering,
            new_epoch: 0,
            last_logged: durable.last_zxid,
            durable_zxid: durable.durable_zxid,
            pending: VecDeque::new(),
            committed: durable.last_zxid,
            newleader_ack_due: false,
            unacked: VecDeque::new(),
            deferred: Vec::new(),
            touches: BTreeMap::new(),
            sync_floor: durable.last_zxid,
            tick: 0,
            last_heard: 0,
            actions: Vec::new(),
            cfg,
            durable,
        };
        let zxid = Zxid::new(l.durable.accepted_epoch, 0);
        let info = Some(LearnerInfo::current(l.cfg.my_id.0, 0));
        let pkt = if observer {
            Packet::ObserverInfo { zxid, info }
        } else {
            Packet::FollowerInfo { zxid, info }
        };
        l.send(pkt);
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

    /// Drains pending actions (the FOLLOWERINFO queued by `new`).
    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    pub fn leader(&self) -> ServerId {
        self.leader
    }

    pub fn is_serving(&self) -> bool {
        self.phase == Phase::Broadcast
    }

    fn dispatch(&mut self, input: Input) {
        match input {
            Input::Packet { from, pkt } if from == self.leader => {
                self.last_heard = self.tick;
                self.packet(pkt);
            }
            Input::PeerDown(sid) if sid == self.leader => {
                self.stop("connection to the leader lost")
            }
            Input::Persisted { upto } => self.persisted(upto),
            Input::Tick => self.on_tick(),
            Input::Forward(req) => self.send(Packet::Request(req)),
            Input::Touch(t) => {
                self.touches.insert(t.session, t.timeout_ms);
            }
            Input::Revalidate {
                session,
                timeout_ms,
            } => self.send(Packet::RevalidateAsk {
                session,
                timeout_ms,
            }),
            _ => {}
        }
    }

    fn packet(&mut self, pkt: Packet) {
        match pkt {
            Packet::LeaderInfo { zxid, .. } => self.leader_info(zxid),
            Packet::Diff(_) => self.committed = self.last_logged,
            Packet::Trunc(z) => self.truncate(z),
            Packet::Snap(z) => self.snapshot(z),
            Packet::Proposal { zxid, txn } => self.proposal(zxid, txn),
            Packet::Commit(z) => self.commit(z),
            Packet::Inform { zxid, txn } => self.inform(zxid, txn),
            Packet::NewLeader { zxid, .. } => self.new_leader(zxid),
            Packet::UpToDate => self.up_to_date(),
            Packet::Ping { zxid, .. } => self.ping(zxid),
            Packet::Sync => self.actions.push(Action::SyncDone {
                origin: Origin::Local,
            }),
            Packet::RevalidateAnswer { session, valid } => {
                self.actions.push(Action::Revalidated { session, valid })
            }
            _ => {}
        }
    }

    fn send(&mut self, pkt: Packet) {
        self.actions.push(Action::Send {
            to: self.leader,
            pkt,
        });
    }

    fn stop(&mut self, reason: &'static str) {
        self.phase = Phase::Stopped;
        self.actions.push(Action::GoLooking { reason });
    }

    fn leader_info(&mut self, zxid: Zxid) {
        if self.phase != Phase::Registering {
            return;
        }
        let e = zxid.epoch();
        let reply = if e > self.durable.accepted_epoch {
            self.actions.push(Action::SaveEpoch {
                kind: EpochKind::Accepted,
                epoch: e,
            });
            self.durable.accepted_epoch = e;
            i32::try_from(self.durable.current_epoch).unwrap_or(i32::MAX)
        } else if e == self.durable.accepted_epoch {
            -1
        } else {
            return self.stop("leader's epoch is older than our accepted epoch");
        };
        self.new_epoch = e;
        self.phase = Phase::Syncing;
        self.send(Packet::AckEpoch {
            zxid: self.last_logged,
            epoch: reply,
        });
    }

    fn truncate(&mut self, z: Zxid) {
        self.actions.push(Action::Truncate { to: z });
        self.last_logged = z;
        self.committed = z;
        self.durable_zxid = self.durable_zxid.min(z);
    }

    fn snapshot(&mut self, z: Zxid) {
        self.actions.push(Action::TakeSnapshot { zxid: z });
        self.last_logged = z;
        self.committed = z;
        self.durable_zxid = z;
    }

    fn proposal(&mut self, zxid: Zxid, mut txn: TxnEntry) {
        if self.phase < Phase::Syncing || zxid <= self.last_logged {
            return;
        }
        txn.header.zxid = zxid.0;
        self.last_logged = zxid;
        self.pending.push_back(txn.clone());
        self.unacked.push_back(zxid);
        self.actions.push(Action::Persist { entries: vec![txn] });
    }

    /// `FollowerZooKeeperServer.commit`: commits arrive in the order of the proposals; a
    /// commit for anything but the oldest pending proposal breaks the protocol.
    fn commit(&mut self, z: Zxid) {
        if z <= self.committed {
            return;
        }
        match self.pending.front() {
            Some(e) if e.header.zxid == z.0 => {
                if let Some(e) = self.pending.pop_front() {
                    self.committed = z;
                    self.deliver(e);
                }
            }
            _ => self.stop("commit does not match the oldest pending proposal"),
        }
    }

    fn inform(&mut self, zxid: Zxid, mut txn: TxnEntry) {
        if zxid <= self.committed {
            return;
        }
        txn.header.zxid = zxid.0;
        self.last_logged = self.last_logged.max(zxid);
        self.committed = zxid;
        self.actions.push(Action::Persist {
            entries: vec![txn.clone()],
        });
        self.deliver(txn);
    }

    fn deliver(&mut self, entry: TxnEntry) {
        if self.phase == Phase::Broadcast {
            self.actions.push(Action::Deliver { entry });
        } else {
            self.deferred.push(entry);
        }
    }

    fn new_leader(&mut self, zxid: Zxid) {
        if self.phase != Phase::Syncing || zxid.epoch() != self.new_epoch {
            return self.stop("unexpected NEWLEADER");
        }
        self.phase = Phase::NewLeader;
        self.newleader_ack_due = true;
        self.ack_newleader_if_durable();
    }

    fn ack_newleader_if_durable(&mut self) {
        if !self.newleader_ack_due || self.durable_zxid < self.last_logged {
            return;
        }
        self.newleader_ack_due = false;
        self.actions.push(Action::SaveEpoch {
            kind: EpochKind::Current,
            epoch: self.new_epoch,
        });
        self.durable.current_epoch = self.new_epoch;
        self.send(Packet::Ack(Zxid::new(self.new_epoch, 0)));
        // Like Java's `logRequest` at NEWLEADER, every proposal logged during the sync is
        // acknowledged: the leader may still be waiting for in-flight ones.
        self.ack_durable();
    }

    fn up_to_date(&mut self) {
        if self.phase != Phase::NewLeader || self.newleader_ack_due {
            return self.stop("UPTODATE before NEWLEADER was acknowledged");
        }
        self.phase = Phase::Broadcast;
        self.sync_floor = self.committed;
        for entry in std::mem::take(&mut self.deferred) {
            self.actions.push(Action::Deliver { entry });
        }
        self.send(Packet::Ack(Zxid::new(self.new_epoch, 0)));
        self.actions.push(Action::Serving {
            epoch: self.new_epoch,
        });
        self.ack_durable();
    }

    fn persisted(&mut self, upto: Zxid) {
        self.durable_zxid = self.durable_zxid.max(upto.min(self.last_logged));
        self.ack_newleader_if_durable();
        if self.phase >= Phase::NewLeader && !self.newleader_ack_due {
            self.ack_durable();
        }
    }

    fn ack_durable(&mut self) {
        while let Some(z) = self.unacked.front().copied() {
            if z > self.durable_zxid {
                return;
            }
            self.unacked.pop_front();
            // Proposals committed during the sync need no ACK (Java logs only the
            // uncommitted ones at NEWLEADER); once broadcasting, every logged proposal is
            // acknowledged, even one whose COMMIT arrived while it was being synced to
            // disk: Java's leader drops a learner whose oldest proposal stays unacked
            // (`LearnerHandler`'s syncLimit check).
            let floor = if self.phase == Phase::Broadcast {
                self.sync_floor
            } else {
                self.committed
            };
            if !self.observer && z > floor {
                self.send(Packet::Ack(z));
            }
        }
    }

    fn ping(&mut self, zxid: Zxid) {
        let touches = std::mem::take(&mut self.touches)
            .into_iter()
            .map(|(session, timeout_ms)| crate::proto::quorum::SessionTouch {
                session,
                timeout_ms,
            })
            .collect();
        self.send(Packet::Ping {
            zxid,
            touches: Some(touches),
        });
    }

    fn on_tick(&mut self) {
        self.tick += 1;
        let limit = if self.phase == Phase::Broadcast {
            self.cfg.sync_limit
        } else {
            self.cfg.init_limit
        };
        if self.tick - self.last_heard > u64::from(limit) {
            self.stop("leader silent for too long");
        }
    }
}

#[cfg(test)]
#[path = "learner_tests.rs"]
mod tests;
