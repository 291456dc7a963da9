//! Leader discovery and synchronization: `Leader.getEpochToPropose`,
//! `waitForEpochAck`, `waitForNewLeaderAck` and `LearnerHandler`'s handshake.

use super::{Leader, Peer, Phase, Stage};
use crate::proto::quorum::{Packet, ZAB_PROTOCOL_VERSION};
use crate::proto::{ServerId, Zxid};
use crate::zab::sync::{plan_sync, SyncPlan, SyncStart};
use crate::zab::{Action, EpochKind};

impl Leader {
    pub(super) fn learner_info(&mut self, from: ServerId, zxid: Zxid, observer: bool) {
        // A new connection from a known sid replaces the old handler.
        let peer = Peer {
            observer,
            stage: Stage::Info,
            last_heard: self.tick,
            last_zxid: None,
            resumed_upto: None,
            snap: false,
        };
        self.peers.insert(from, peer);
        if self.phase == Phase::Discovery {
            self.info_from(from, zxid.epoch());
        } else {
            self.send_leader_info(from);
        }
    }

    /// Every learner's accepted epoch pushes the proposal past it; voters count toward
    /// the quorum that fixes it.
    pub(super) fn info_from(&mut self, from: ServerId, accepted: u32) {
        if accepted >= self.epoch {
            self.epoch = accepted.saturating_add(1);
        }
        if self.cfg.voters.contains(&from) {
            self.infos.insert(from);
        }
        if self.cfg.is_quorum(&self.infos) {
            self.epoch_chosen();
        }
    }

    fn epoch_chosen(&mut self) {
        self.set_phase(Phase::EpochAcks);
        self.actions.push(Action::SaveEpoch {
            kind: EpochKind::Accepted,
            epoch: self.epoch,
        });
        self.durable.accepted_epoch = self.epoch;
        let waiting: Vec<ServerId> = self.peers.keys().copied().collect();
        for sid in waiting {
            self.send_leader_info(sid);
        }
        self.epoch_acks.insert(self.cfg.my_id);
        self.check_epoch_quorum();
    }

    fn send_leader_info(&mut self, to: ServerId) {
        if let Some(p) = self.peers.get_mut(&to) {
            p.stage = Stage::AckEpoch;
        }
        let zxid = Zxid::new(self.epoch, 0);
        self.send(
            to,
            Packet::LeaderInfo {
                zxid,
                protocol: ZAB_PROTOCOL_VERSION,
            },
        );
    }

    pub(super) fn ack_epoch(&mut self, from: ServerId, zxid: Zxid, epoch: i32) {
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        if p.stage != Stage::AckEpoch {
            return;
        }
        p.last_zxid = Some(zxid);
        if self.phase == Phase::EpochAcks {
            // `waitForEpochAck`: while the epoch is being agreed, a learner that is ahead
            // of the leader is refused (its handler dies; the leader carries on without it).
            let ours = (
                i64::from(self.durable.current_epoch),
                self.durable.last_zxid,
            );
            if epoch != -1 && (i64::from(epoch), zxid) > ours {
                self.peers.remove(&from);
                return self.actions.push(Action::CloseLearner(from));
            }
            if self.cfg.voters.contains(&from) {
                self.epoch_acks.insert(from);
            }
            self.check_epoch_quorum();
        } else {
            self.sync_learner(from);
        }
    }

    fn check_epoch_quorum(&mut self) {
        if self.phase != Phase::EpochAcks || !self.cfg.is_quorum(&self.epoch_acks) {
            return;
        }
        self.set_phase(Phase::NewLeaderAcks);
        self.actions.push(Action::SaveEpoch {
            kind: EpochKind::Current,
            epoch: self.epoch,
        });
        self.durable.current_epoch = self.epoch;
        let acked: Vec<ServerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.last_zxid.is_some())
            .map(|(s, _)| *s)
            .collect();
        for sid in acked {
            self.sync_learner(sid);
        }
        self.check_newleader_quorum();
    }

    /// `syncFollower` + `startForwarding` + NEWLEADER, in that order on the wire.
    fn sync_learner(&mut self, to: ServerId) {
        let Some(p) = self.peers.get_mut(&to) else {
            return;
        };
        let (Some(peer_last), observer) = (p.last_zxid, p.observer) else {
            return;
        };
        p.stage = Stage::Syncing;
        // A learner rejoining this leader may already hold some of its proposals in
        // flight (and may have ACKed them): resume after them instead of truncating
        // them away the way `syncFollower` would.
        let resumed = self.outstanding.contains_key(&peer_last);
        if resumed {
            p.resumed_upto = Some(peer_last);
        }
        let plan = if resumed {
            SyncPlan {
                start: SyncStart::Diff(peer_last),
                proposals: vec![],
            }
        } else {
            plan_sync(&self.log, self.committed, peer_last)
        };
        if let Some(p) = self.peers.get_mut(&to) {
            p.snap = matches!(plan.start, SyncStart::Snap(_));
        }
        self.sample_syncs(matches!(plan.start, SyncStart::Snap(_)));
        match plan.start {
            SyncStart::Diff(z) => self.send(to, Packet::Diff(z)),
            SyncStart::Trunc(z) => self.send(to, Packet::Trunc(z)),
            SyncStart::Snap(z) => self.actions.push(Action::SendSnapshot { to, zxid: z }),
        }
        for e in plan.proposals {
            let zxid = Zxid(e.header.zxid);
            self.send(to, Packet::Proposal { zxid, txn: e });
            self.send(to, Packet::Commit(zxid));
        }
        if !observer {
            let after = if resumed { peer_last } else { Zxid::ZERO };
            let inflight: Vec<_> = self
                .outstanding
                .range(after.next()..)
                .map(|(_, p)| p.entry.clone())
                .collect();
            for e in inflight {
                self.send(
                    to,
                    Packet::Proposal {
                        zxid: Zxid(e.header.zxid),
                        txn: e,
                    },
                );
            }
        }
        let config = Some(self.cfg.config_text.clone());
        self.send(
            to,
            Packet::NewLeader {
                zxid: Zxid::new(self.epoch, 0),
                config,
            },
        );
    }

    /// An ACK of NEWLEADER (counter 0 of the new epoch).
    pub(super) fn newleader_ack(&mut self, from: ServerId) {
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        if p.stage != Stage::Syncing {
            return;
        }
        p.stage = Stage::Synced;
        let (resumed, observer, snap) = (p.resumed_upto.take(), p.observer, p.snap);
        self.sample_syncs(snap);
        if let Some(upto) = resumed {
            // Its NEWLEADER ACK means its log is durable through `upto`: an ACK for each
            // in-flight proposal it held (their own ACKs may have died with the old
            // connection).
            if self.cfg.voters.contains(&from) {
                self.outstanding.range_mut(..=upto).for_each(|(_, prop)| {
                    prop.acks.insert(from);
                });
            }
            self.try_commit();
        }
        if self.phase == Phase::Broadcast {
            return self.up_to_date(from);
        }
        if !observer && self.cfg.voters.contains(&from) {
            self.newleader_acks.insert(from);
        }
        self.check_newleader_quorum();
    }

    /// The leader's own NEWLEADER ACK counts once its own log is durable.
    pub(super) fn check_newleader_quorum(&mut self) {
        if self.phase != Phase::NewLeaderAcks {
            return;
        }
        if self.durable_zxid >= self.durable.last_zxid {
            self.newleader_acks.insert(self.cfg.my_id);
        }
        if !self.cfg.is_quorum(&self.newleader_acks) {
            return;
        }
        self.set_phase(Phase::Broadcast);
        self.last_proposed = self.last_proposed.max(Zxid::new(self.epoch, 0));
        // `Leader.startZkServer`: the database's last processed zxid becomes (epoch, 0).
        // Learners synced from now on are compared with it: one with an empty log gets a
        // SNAP, one that synced in this epoch already an empty DIFF.
        self.committed = self.committed.max(Zxid::new(self.epoch, 0));
        self.actions.push(Action::Established { epoch: self.epoch });
        let synced: Vec<ServerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.stage == Stage::Synced)
            .map(|(s, _)| *s)
            .collect();
        for sid in synced {
            self.up_to_date(sid);
        }
    }

    fn up_to_date(&mut self, to: ServerId) {
        if let Some(p) = self.peers.get_mut(&to) {
            p.stage = Stage::Active;
            p.last_heard = self.tick;
        }
        self.send(to, Packet::UpToDate);
    }
}
