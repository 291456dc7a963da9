//! Leader broadcast: PROPOSAL to followers, ACK counting (the leader's own only after
//! its own persist), COMMIT in zxid order with INFORM to observers, and `sync`
//! (`Leader.propose`, `processAck`, `tryToCommit`, `processSync`).

use super::{Leader, Phase, Proposal, Stage};
use crate::proto::quorum::Packet;
use crate::proto::{ServerId, TxnEntry, Zxid};
use crate::zab::{Action, Origin};

impl Leader {
    pub(super) fn propose(&mut self, mut entry: TxnEntry) {
        if self.phase != Phase::Broadcast || self.outstanding.len() >= self.cfg.max_outstanding {
            return self.actions.push(Action::ProposeRefused(entry));
        }
        if self.last_proposed.counter() == u32::MAX {
            // Java's leader shuts down rather than wrap the counter into the epoch.
            return self.stop("zxid counter exhausted");
        }
        let zxid = self.last_proposed.next();
        self.last_proposed = zxid;
        entry.header.zxid = zxid.0;
        self.outstanding.insert(
            zxid,
            Proposal {
                entry: entry.clone(),
                acks: Default::default(),
            },
        );
        for to in self.forwarding(false) {
            self.send(
                to,
                Packet::Proposal {
                    zxid,
                    txn: entry.clone(),
                },
            );
        }
        self.actions.push(Action::Persist {
            entries: vec![entry],
        });
    }

    /// Learners that receive live traffic: followers (or observers) past LEADERINFO/sync.
    pub(super) fn forwarding(&self, observers: bool) -> Vec<ServerId> {
        self.peers
            .iter()
            .filter(|(_, p)| p.stage >= Stage::Syncing && p.observer == observers)
            .map(|(s, _)| *s)
            .collect()
    }

    pub(super) fn ack(&mut self, from: ServerId, zxid: Zxid) {
        if zxid.counter() == 0 {
            if zxid.epoch() == self.epoch {
                self.newleader_ack(from);
            }
            return;
        }
        if !self.cfg.voters.contains(&from) {
            return;
        }
        if let Some(p) = self.outstanding.get_mut(&zxid) {
            p.acks.insert(from);
            self.try_commit();
        }
    }

    pub(super) fn persisted(&mut self, upto: Zxid) {
        self.durable_zxid = self.durable_zxid.max(upto);
        self.check_newleader_quorum();
        let me = self.cfg.my_id;
        for (z, p) in self.outstanding.iter_mut() {
            if *z <= upto {
                p.acks.insert(me);
            }
        }
        self.try_commit();
    }

    /// Commits the oldest proposals while each has a quorum: commits never skip ahead.
    pub(super) fn try_commit(&mut self) {
        while let Some(entry) = self.outstanding.first_key_value() {
            let (zxid, p) = entry;
            if !self.cfg.is_quorum(&p.acks) {
                return;
            }
            let zxid = *zxid;
            let Some(p) = self.outstanding.remove(&zxid) else {
                return;
            };
            self.commit(zxid, p.entry);
        }
    }

    fn commit(&mut self, zxid: Zxid, entry: TxnEntry) {
        self.committed = zxid;
        for to in self.forwarding(false) {
            self.send(to, Packet::Commit(zxid));
        }
        for to in self.forwarding(true) {
            self.send(
                to,
                Packet::Inform {
                    zxid,
                    txn: entry.clone(),
                },
            );
        }
        self.log.push_back(entry.clone());
        while self.log.len() > self.cfg.committed_log_max {
            self.log.pop_front();
        }
        self.actions.push(Action::Deliver { entry });
        let done: Vec<Zxid> = self.pending_syncs.range(..=zxid).map(|(z, _)| *z).collect();
        for z in done {
            for origin in self.pending_syncs.remove(&z).unwrap_or_default() {
                self.sync_done(origin);
            }
        }
    }

    /// A sync completes once everything proposed before it is committed.
    pub(super) fn sync_request(&mut self, origin: Origin) {
        match self.outstanding.last_key_value() {
            None => self.sync_done(origin),
            Some((z, _)) => {
                let z = *z;
                self.pending_syncs.entry(z).or_default().push(origin);
            }
        }
    }

    fn sync_done(&mut self, origin: Origin) {
        match origin {
            Origin::Learner(sid) => self.send(sid, Packet::Sync),
            Origin::Local => self.actions.push(Action::SyncDone { origin }),
        }
    }
}
