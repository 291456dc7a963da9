//! Fast Leader Election as a pure state machine: notifications and ticks in, notifications
//! to send and the decision out. Stands in for `FastLeaderElection` (`lookForLeader` and
//! the `WorkerReceiver` replies); the connections themselves (`QuorumCnxManager`) belong
//! to the shell.
//!
//! Time is counted in ticks of the caller's choosing; the notification timeout starts at
//! `initial_timeout` ticks and doubles up to `max_timeout` (200 ms and 60 s in Java), and
//! a quorum for the current proposal is accepted after `finalize_wait` quiet ticks unless
//! a better vote arrives. No randomness: ties break on (epoch, zxid, sid).

mod vote;

use std::collections::{BTreeMap, BTreeSet};

use crate::proto::quorum::{Notification, PeerState, NOTIFICATION_VERSION};
use crate::proto::{ServerId, Zxid};

pub use vote::{is_quorum, Ballot, Vote};
use vote::{leader_confirmed, supporters};

/// What the election needs to know about the ensemble.
#[derive(Clone, Debug)]
pub struct ElectionConfig {
    pub my_id: ServerId,
    /// Participants (weight > 0). Observers are everyone else that talks to us.
    pub voters: BTreeSet<ServerId>,
    /// The quorum config text sent in every notification (version-0 static config).
    pub config_text: Vec<u8>,
    pub initial_timeout: u32,
    pub max_timeout: u32,
    pub finalize_wait: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Enter LOOKING (at startup, or after leaving a leader or follower role) with the
    /// last logged zxid (-1: empty database not trusted) and `currentEpoch`.
    Start {
        last_zxid: Zxid,
        current_epoch: i64,
    },
    /// A notification that arrived from `from` on the election port.
    Received {
        from: ServerId,
        n: Notification,
    },
    Tick,
    /// The role this peer took established `epoch` (`QuorumPeer.updateElectionVote`):
    /// the vote it answers LOOKING peers with now carries that epoch, as the leader's
    /// and every Java member's does, so a joining peer sees them agree.
    EpochEstablished {
        epoch: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Send {
        to: ServerId,
        n: Notification,
    },
    /// The election is over: take this role (LEADING, FOLLOWING or OBSERVING) under `vote`.
    Decided {
        state: PeerState,
        vote: Vote,
        election_epoch: i64,
    },
}

/// The election state of one peer.
#[derive(Debug)]
pub struct Fle {
    cfg: ElectionConfig,
    state: PeerState,
    clock: i64,
    init: Vote,
    proposal: Vote,
    /// The decided vote, answered to LOOKING peers while in a role.
    current: Ballot,
    trusted: bool,
    recv: BTreeMap<ServerId, Ballot>,
    out_of_election: BTreeMap<ServerId, Ballot>,
    timeout: u32,
    ticks_left: u32,
    finalizing: Option<u32>,
    actions: Vec<Action>,
}

impl Fle {
    pub fn new(cfg: ElectionConfig) -> Fle {
        let current = Ballot {
            vote: Vote::NONE,
            election_epoch: 0,
            state: PeerState::Looking,
            version: NOTIFICATION_VERSION,
        };
        let timeout = cfg.initial_timeout.max(1);
        Fle {
            cfg,
            state: PeerState::Looking,
            clock: 0,
            init: Vote::NONE,
            proposal: Vote::NONE,
            current,
            trusted: true,
            recv: BTreeMap::new(),
            out_of_election: BTreeMap::new(),
            timeout,
            ticks_left: timeout,
            finalizing: None,
            actions: Vec::new(),
        }
    }

    pub fn state(&self) -> PeerState {
        self.state
    }

    /// The logical clock (election round).
    pub fn clock(&self) -> i64 {
        self.clock
    }

    pub fn proposal(&self) -> Vote {
        self.proposal
    }

    pub fn step(&mut self, input: Input) -> Vec<Action> {
        match input {
            Input::Start {
                last_zxid,
                current_epoch,
            } => self.start(last_zxid, current_epoch),
            Input::EpochEstablished { epoch } => {
                if self.state != PeerState::Looking {
                    self.current.vote.peer_epoch = epoch;
                }
            }
            Input::Received { from, n } => self.received(from, n),
            Input::Tick => self.tick(),
        }
        std::mem::take(&mut self.actions)
    }

    fn is_voter(&self) -> bool {
        self.cfg.voters.contains(&self.cfg.my_id)
    }

    fn start(&mut self, last_zxid: Zxid, current_epoch: i64) {
        self.clock += 1;
        self.state = PeerState::Looking;
        self.trusted = last_zxid != Zxid::NONE;
        self.init = if self.is_voter() {
            Vote {
                leader: self.cfg.my_id,
                zxid: last_zxid,
                peer_epoch: current_epoch,
            }
        } else {
            Vote::NONE
        };
        self.proposal = self.init;
        self.recv.clear();
        self.out_of_election.clear();
        self.finalizing = None;
        self.timeout = self.cfg.initial_timeout.max(1);
        self.ticks_left = self.timeout;
        self.broadcast();
        self.check_looking_quorum();
    }

    fn note(&self, vote: Vote, election_epoch: i64, state: PeerState) -> Notification {
        Notification {
            state,
            leader: vote.leader.0,
            zxid: vote.zxid.0,
            election_epoch,
            peer_epoch: vote.peer_epoch,
            version: NOTIFICATION_VERSION,
            config: self.cfg.config_text.clone(),
        }
    }

    /// `sendNotifications`: our proposal to every voter; our own copy is recorded
    /// directly instead of travelling through the loopback queue.
    fn broadcast(&mut self) {
        let n = self.note(self.proposal, self.clock, PeerState::Looking);
        for to in self.cfg.voters.iter().filter(|s| **s != self.cfg.my_id) {
            self.actions.push(Action::Send {
                to: *to,
                n: n.clone(),
            });
        }
        if self.is_voter() {
            let own = Ballot {
                vote: self.proposal,
                election_epoch: self.clock,
                state: PeerState::Looking,
                version: 0,
            };
            self.recv.insert(self.cfg.my_id, own);
        }
    }

    fn reply(&mut self, to: ServerId, election_epoch: i64) {
        let (vote, state) = match self.state {
            PeerState::Looking => (self.proposal, PeerState::Looking),
            s => (self.current.vote, s),
        };
        let n = self.note(vote, election_epoch, state);
        self.actions.push(Action::Send { to, n });
    }

    /// `WorkerReceiver`: non-voters get our vote and are not counted; LOOKING peers
    /// behind us, or asking while we hold a role, get our vote back.
    fn received(&mut self, from: ServerId, n: Notification) {
        if !self.cfg.voters.contains(&from) {
            self.reply(from, self.clock);
            return;
        }
        if self.state != PeerState::Looking {
            if n.state == PeerState::Looking {
                self.reply(from, self.current.election_epoch);
            }
            return;
        }
        if n.state == PeerState::Looking && n.election_epoch < self.clock {
            self.reply(from, self.clock);
        }
        self.look(from, n);
    }

    fn look(&mut self, from: ServerId, n: Notification) {
        let vote = Vote {
            leader: ServerId(n.leader),
            zxid: Zxid(n.zxid),
            peer_epoch: n.peer_epoch,
        };
        if self.finalizing.is_some() {
            if !vote.beats(&self.proposal, &self.cfg.voters) {
                return;
            }
            self.finalizing = None;
        }
        if !self.cfg.voters.contains(&vote.leader) {
            return;
        }
        match n.state {
            PeerState::Looking => self.looking_vote(from, vote, n.election_epoch),
            PeerState::Observing => {}
            PeerState::Following | PeerState::Leading => {
                let b = Ballot {
                    vote,
                    election_epoch: n.election_epoch,
                    state: n.state,
                    version: n.version,
                };
                self.settled_vote(from, b);
            }
        }
    }

    fn looking_vote(&mut self, from: ServerId, vote: Vote, epoch: i64) {
        if !self.trusted || vote.zxid == Zxid::NONE || epoch < self.clock {
            return;
        }
        if epoch > self.clock {
            self.clock = epoch;
            self.recv.clear();
            self.proposal = if vote.beats(&self.init, &self.cfg.voters) {
                vote
            } else {
                self.init
            };
            self.broadcast();
        } else if vote.beats(&self.proposal, &self.cfg.voters) {
            self.proposal = vote;
            self.broadcast();
        }
        let b = Ballot {
            vote,
            election_epoch: epoch,
            state: PeerState::Looking,
            version: 0,
        };
        self.recv.insert(from, b);
        self.check_looking_quorum();
    }

    fn check_looking_quorum(&mut self) {
        let target = Ballot {
            vote: self.proposal,
            election_epoch: self.clock,
            state: PeerState::Looking,
            version: 0,
        };
        if self.proposal == Vote::NONE
            || !is_quorum(&supporters(&self.recv, &target), &self.cfg.voters)
        {
            return;
        }
        if self.cfg.finalize_wait == 0 {
            self.decide(self.proposal, self.clock);
        } else {
            self.finalizing = Some(self.cfg.finalize_wait);
        }
    }

    /// A FOLLOWING/LEADING peer: join its leader once a quorum says so and the leader
    /// itself confirmed (in this round, or out of election).
    fn settled_vote(&mut self, from: ServerId, b: Ballot) {
        let (me, clock) = (self.cfg.my_id, self.clock);
        if b.election_epoch == clock {
            self.recv.insert(from, b);
            let ok = is_quorum(&supporters(&self.recv, &b), &self.cfg.voters)
                && leader_confirmed(&self.recv, b.vote.leader, b.election_epoch, me, clock);
            if ok {
                return self.decide(b.vote, b.election_epoch);
            }
        }
        self.out_of_election.insert(from, b);
        let ok = is_quorum(&supporters(&self.out_of_election, &b), &self.cfg.voters)
            && leader_confirmed(
                &self.out_of_election,
                b.vote.leader,
                b.election_epoch,
                me,
                clock,
            );
        if ok {
            self.clock = b.election_epoch;
            self.decide(b.vote, b.election_epoch);
        }
    }

    fn decide(&mut self, vote: Vote, election_epoch: i64) {
        let state = if vote.leader == self.cfg.my_id {
            PeerState::Leading
        } else if self.is_voter() {
            PeerState::Following
        } else {
            PeerState::Observing
        };
        self.state = state;
        self.finalizing = None;
        self.current = Ballot {
            vote,
            election_epoch,
            state,
            version: NOTIFICATION_VERSION,
        };
        self.actions.push(Action::Decided {
            state,
            vote,
            election_epoch,
        });
    }

    fn tick(&mut self) {
        if self.state != PeerState::Looking {
            return;
        }
        if let Some(left) = self.finalizing {
            if left <= 1 {
                self.decide(self.proposal, self.clock);
            } else {
                self.finalizing = Some(left - 1);
            }
            return;
        }
        self.ticks_left = self.ticks_left.saturating_sub(1);
        if self.ticks_left == 0 {
            self.broadcast();
            self.timeout = self
                .timeout
                .saturating_mul(2)
                .min(self.cfg.max_timeout.max(1));
            self.ticks_left = self.timeout;
        }
    }
}

#[cfg(test)]
mod tests;
