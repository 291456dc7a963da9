//! Simulated network. Election messages travel per ordered pair, FIFO, are lost across
//! partitions (FLE re-sends on timeout) and delayed by connection resets. Quorum
//! connections are TCP-like: opened by the learner, FIFO in each direction, and once
//! reset or cut by a partition everything in flight is lost and both ends learn of it;
//! a later connection never carries an earlier one's bytes, so reordering happens only
//! across connections.

use std::collections::{BTreeMap, BTreeSet};

use crate::proto::quorum::Packet;
use crate::proto::{ServerId, TxnEntry, Zxid};

/// What travels on a quorum connection: packets, and the database stream after SNAP.
#[derive(Clone, Debug)]
pub enum QMsg {
    Packet(Packet),
    Snapshot { zxid: Zxid, state: Vec<TxnEntry> },
}

#[derive(Clone, Debug)]
pub struct Conn {
    pub learner: ServerId,
    pub leader: ServerId,
    /// Role generations of both ends; a role change ends the connection.
    pub learner_gen: u64,
    pub leader_gen: u64,
    pub open: bool,
    pub alive: bool,
    /// Sent by the learner before the connection was accepted.
    pub backlog: Vec<QMsg>,
    last_up: u64,
    last_down: u64,
}

#[derive(Debug, Default)]
pub struct Net {
    blocked: BTreeSet<(ServerId, ServerId)>,
    election_last: BTreeMap<(ServerId, ServerId), u64>,
    pub conns: BTreeMap<u64, Conn>,
    by_pair: BTreeMap<(ServerId, ServerId), u64>,
    next_id: u64,
}

impl Net {
    pub fn partitioned(&self, a: ServerId, b: ServerId) -> bool {
        self.blocked.contains(&(a, b)) || self.blocked.contains(&(b, a))
    }

    /// Cuts every link between the two groups; returns the connections that crossed.
    pub fn partition(&mut self, side: &BTreeSet<ServerId>, all: &[ServerId]) -> Vec<u64> {
        for a in side {
            for b in all.iter().filter(|b| !side.contains(b)) {
                self.blocked.insert((*a, *b));
            }
        }
        let crossing: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.alive && self.partitioned(c.learner, c.leader))
            .map(|(id, _)| *id)
            .collect();
        crossing
    }

    pub fn heal(&mut self) {
        self.blocked.clear();
    }

    /// Delivery time of an election message sent now, after any earlier one on the pair.
    pub fn election_time(&mut self, from: ServerId, to: ServerId, at: u64) -> u64 {
        let last = self.election_last.entry((from, to)).or_default();
        *last = (*last).max(at);
        *last
    }

    /// A learner dials its leader: the pair's previous connection, if any, is replaced.
    pub fn dial(
        &mut self,
        learner: ServerId,
        leader: ServerId,
        learner_gen: u64,
    ) -> (u64, Option<u64>) {
        self.next_id += 1;
        let id = self.next_id;
        let c = Conn {
            learner,
            leader,
            learner_gen,
            leader_gen: 0,
            open: false,
            alive: true,
            backlog: vec![],
            last_up: 0,
            last_down: 0,
        };
        self.conns.insert(id, c);
        let old = self.by_pair.insert((learner, leader), id);
        (id, old)
    }

    pub fn current(&self, learner: ServerId, leader: ServerId) -> Option<u64> {
        self.by_pair
            .get(&(learner, leader))
            .copied()
            .filter(|id| self.conns.get(id).is_some_and(|c| c.alive))
    }

    /// Marks the connection dead; true if it was alive.
    pub fn kill(&mut self, id: u64) -> bool {
        match self.conns.get_mut(&id) {
            Some(c) if c.alive => {
                c.alive = false;
                c.backlog.clear();
                true
            }
            _ => false,
        }
    }

    /// Delivery time for a message sent now in one direction, FIFO behind earlier ones.
    pub fn conn_time(&mut self, id: u64, upstream: bool, at: u64) -> u64 {
        let Some(c) = self.conns.get_mut(&id) else {
            return at;
        };
        let last = if upstream {
            &mut c.last_up
        } else {
            &mut c.last_down
        };
        *last = (*last).max(at);
        *last
    }

    /// Forgets dead connections nobody can refer to any more.
    pub fn gc(&mut self) {
        let by_pair = &self.by_pair;
        self.conns
            .retain(|id, c| c.alive || by_pair.get(&(c.learner, c.leader)) == Some(id));
    }
}
