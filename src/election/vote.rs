//! Votes, their total order and the tallies of one election round
//! (`Vote`, `FastLeaderElection.totalOrderPredicate`, `getVoteTracker`, `checkLeader`).

use std::collections::{BTreeMap, BTreeSet};

use crate::proto::quorum::PeerState;
use crate::proto::{ServerId, Zxid};

/// A proposal: who should lead, with that candidate's last zxid and current epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vote {
    pub leader: ServerId,
    pub zxid: Zxid,
    pub peer_epoch: i64,
}

impl Vote {
    /// What observers propose (`Long.MIN_VALUE` everywhere): loses to every real vote.
    pub const NONE: Vote = Vote {
        leader: ServerId(i64::MIN),
        zxid: Zxid(i64::MIN),
        peer_epoch: i64::MIN,
    };

    /// `totalOrderPredicate`: is `self` a better leader than `other`? Order is
    /// (peer epoch, zxid, sid); a candidate that cannot vote never wins.
    pub fn beats(&self, other: &Vote, voters: &BTreeSet<ServerId>) -> bool {
        voters.contains(&self.leader)
            && (self.peer_epoch, self.zxid, self.leader)
                > (other.peer_epoch, other.zxid, other.leader)
    }
}

/// A vote as received in a round, with the sender's state and round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ballot {
    pub vote: Vote,
    pub election_epoch: i64,
    pub state: PeerState,
    pub version: i32,
}

impl Ballot {
    /// `Vote.equals` while either side is LOOKING: every field counts. Between settled
    /// peers Java also compares the peer epoch, but a follower that joined a leader
    /// re-elected while it was connecting keeps the older epoch in its vote forever,
    /// and a restarted peer could then never assemble a quorum for the running leader.
    /// The leader itself must still confirm it is LEADING (`leader_confirmed`), so
    /// agreeing on the leader alone is enough to join it.
    pub fn agrees(&self, o: &Ballot) -> bool {
        if self.state == PeerState::Looking || o.state == PeerState::Looking {
            return self.vote == o.vote && self.election_epoch == o.election_epoch;
        }
        self.vote.leader == o.vote.leader
    }
}

/// The voters whose recorded ballot agrees with `target`.
pub fn supporters(set: &BTreeMap<ServerId, Ballot>, target: &Ballot) -> BTreeSet<ServerId> {
    set.iter()
        .filter(|(_, b)| b.agrees(target))
        .map(|(sid, _)| *sid)
        .collect()
}

/// `checkLeader`: a settled quorum is trusted only if the leader itself said LEADING, or
/// the leader is us and we were in that round.
pub fn leader_confirmed(
    set: &BTreeMap<ServerId, Ballot>,
    leader: ServerId,
    epoch: i64,
    me: ServerId,
    clock: i64,
) -> bool {
    if leader == me {
        return clock == epoch;
    }
    set.get(&leader)
        .is_some_and(|b| b.state == PeerState::Leading)
}

/// Majority of `voters` (`QuorumMaj.containsQuorum`).
pub fn is_quorum(acks: &BTreeSet<ServerId>, voters: &BTreeSet<ServerId>) -> bool {
    acks.iter().filter(|s| voters.contains(s)).count() * 2 > voters.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(sid: i64, zxid: i64, epoch: i64) -> Vote {
        Vote {
            leader: ServerId(sid),
            zxid: Zxid(zxid),
            peer_epoch: epoch,
        }
    }

    fn voters() -> BTreeSet<ServerId> {
        (1..=3).map(ServerId).collect()
    }

    #[test]
    fn epoch_beats_zxid_and_zxid_beats_sid() {
        assert!(v(1, 5, 3).beats(&v(3, 100, 2), &voters()));
        assert!(v(1, 6, 3).beats(&v(3, 5, 3), &voters()));
        assert!(v(3, 5, 3).beats(&v(2, 5, 3), &voters()));
        assert!(!v(2, 5, 3).beats(&v(2, 5, 3), &voters()));
    }

    #[test]
    fn a_non_voter_never_wins() {
        assert!(!v(9, 100, 100).beats(&v(1, 0, 0), &voters()));
        assert!(v(1, 0, 0).beats(&Vote::NONE, &voters()));
    }

    #[test]
    fn settled_ballots_agree_on_the_leader_only() {
        let a = Ballot {
            vote: v(2, 5, 3),
            election_epoch: 4,
            state: PeerState::Following,
            version: 2,
        };
        let b = Ballot {
            vote: v(2, 9, 4),
            election_epoch: 7,
            state: PeerState::Leading,
            version: 2,
        };
        assert!(a.agrees(&b));
        let looking = Ballot {
            state: PeerState::Looking,
            ..b
        };
        assert!(!a.agrees(&looking));
    }

    #[test]
    fn majority_ignores_non_voters() {
        let acks: BTreeSet<_> = [ServerId(1), ServerId(9)].into();
        assert!(!is_quorum(&acks, &voters()));
        let acks: BTreeSet<_> = [ServerId(1), ServerId(3)].into();
        assert!(is_quorum(&acks, &voters()));
    }
}
