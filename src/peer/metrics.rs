//! What an ensemble member records about its roles for the operations surface: the
//! quorum counters and summaries of `ServerMetrics` that `QuorumPeer`, `Leader`,
//! `LearnerHandler`, `Follower` and `Observer` update in Java, kept by the peer driver
//! (times come in as arguments) and copied into the core's snapshot on a query.

use crate::node::stats::{
    BufferStats, LeaderSnapshot, QuorumCounters, QuorumSnapshot, QuorumSummaries,
};
use crate::proto::quorum::Packet;
use crate::proto::ServerId;

/// Where the role stands, for `QuorumPeer.getDetailedPeerState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// `ZabState.ELECTION`.
    Election,
    /// Role taken, not broadcasting yet (`DISCOVERY`/`SYNCHRONIZATION`).
    Syncing,
    Broadcast,
}

#[derive(Debug)]
pub struct PeerMetrics {
    counters: QuorumCounters,
    summaries: QuorumSummaries,
    proposal_sizes: BufferStats,
    stage: Stage,
    /// When LOOKING began (monotonic ms): election and unavailability run from here.
    looking_since: i64,
    /// When the role was taken: a learner's sync time runs from here.
    role_since: i64,
    /// When this leader's epoch was established.
    leading_since: Option<i64>,
}

impl PeerMetrics {
    /// A peer starting up, LOOKING (`QuorumPeer.run` counts it).
    pub fn new(now_ms: i64) -> PeerMetrics {
        let mut m = PeerMetrics {
            counters: QuorumCounters::default(),
            summaries: QuorumSummaries::default(),
            proposal_sizes: BufferStats::default(),
            stage: Stage::Election,
            looking_since: now_ms,
            role_since: now_ms,
            leading_since: None,
        };
        m.looking(now_ms);
        m
    }

    /// LOOKING again (`LOOKING_COUNT`).
    pub fn looking(&mut self, now_ms: i64) {
        self.counters.looking_count += 1;
        self.stage = Stage::Election;
        self.looking_since = now_ms;
        self.leading_since = None;
    }

    /// The election decided this peer's role (`ELECTION_TIME`).
    pub fn elected(&mut self, now_ms: i64) {
        self.summaries
            .election_time
            .add(now_ms - self.looking_since);
        self.stage = Stage::Syncing;
        self.role_since = now_ms;
    }

    /// The role broadcasts: the leader's epoch is established or the learner is up to
    /// date (`QuorumPeer.setZabState(BROADCAST)`, `Follower`/`Observer` sync times).
    pub fn broadcasting(&mut self, now_ms: i64, role: Role) {
        let unavailable = now_ms - self.looking_since;
        self.summaries.unavailable_time.add(unavailable);
        match role {
            Role::Leader => {
                self.summaries.leader_unavailable_time.add(unavailable);
                self.leading_since = Some(now_ms);
            }
            Role::Follower => self
                .summaries
                .follower_sync_time
                .add(now_ms - self.role_since),
            Role::Observer => self
                .summaries
                .observer_sync_time
                .add(now_ms - self.role_since),
        }
        self.stage = Stage::Broadcast;
    }

    /// Whether the role broadcasts (the learner is up to date, the leader established).
    pub fn is_broadcasting(&self) -> bool {
        self.stage == Stage::Broadcast
    }

    /// The leader proposed a txn of `size` serialized bytes (`Leader.propose`).
    pub fn proposed(&mut self, size: usize) {
        self.counters.proposal_count += 1;
        self.proposal_sizes
            .record(i32::try_from(size).unwrap_or(i32::MAX));
    }

    /// The leader committed a txn created at `created_wall_ms` (`Leader.commit`,
    /// `QUORUM_ACK_LATENCY` from the request's creation).
    pub fn committed(&mut self, now_wall_ms: i64, created_wall_ms: i64) {
        self.counters.commit_count += 1;
        self.summaries
            .quorum_ack_latency
            .record(now_wall_ms - created_wall_ms);
    }

    /// A packet a broadcasting learner received (`Follower`/`Observer.processPacket`).
    pub fn learner_received(&mut self, pkt: &Packet) {
        if self.stage != Stage::Broadcast {
            return;
        }
        match pkt {
            Packet::Proposal { .. } => self.counters.learner_proposal_received_count += 1,
            Packet::Commit(_) | Packet::Inform { .. } => {
                self.counters.learner_commit_received_count += 1
            }
            _ => {}
        }
    }

    /// A packet the leader queued for learner `to`, with `queued` packets already
    /// waiting for it (`LearnerHandler`: sync kind counts, `LEARNER_HANDLER_QP_SIZE`).
    pub fn leader_sent(&mut self, to: ServerId, pkt: &Packet, queued: usize) {
        if matches!(pkt, Packet::Diff(_) | Packet::Trunc(_)) {
            self.counters.diff_count += 1;
        }
        self.queued(to, queued);
    }

    /// The leader streams a snapshot to `to` (`SNAP_COUNT`).
    pub fn snapshot_sent(&mut self, to: ServerId, queued: usize) {
        self.counters.snap_count += 1;
        self.queued(to, queued);
    }

    /// A marker waited `ms` in the queue to learner `sid` (`LearnerHandler.sendPackets`:
    /// `LEARNER_HANDLER_QP_TIME`).
    pub fn queue_time(&mut self, sid: ServerId, ms: i64) {
        self.summaries
            .learner_handler_qp_time
            .entry(sid.0.to_string())
            .or_default()
            .record(ms);
    }

    fn queued(&mut self, to: ServerId, queued: usize) {
        let key = to.0.to_string();
        self.summaries
            .learner_handler_qp_time
            .entry(key.clone())
            .or_default();
        self.summaries
            .learner_handler_qp_size
            .entry(key)
            .or_default()
            .add(queued as i64);
    }

    /// The quorum part of a snapshot; `leader` holds the live counts when leading.
    pub fn snapshot(&self, now_ms: i64, role: Option<Role>, view: PeerView) -> QuorumSnapshot {
        let leader = view.learners.map(|c| LeaderSnapshot {
            learners: c.learners,
            synced_followers: c.synced_followers,
            synced_non_voting_followers: c.synced_non_voting_followers,
            synced_observers: c.synced_observers,
            pending_syncs: c.pending_syncs,
            uptime_ms: self.leading_since.map_or(0, |t| now_ms - t),
            proposal_sizes: self.proposal_sizes,
            observers: Vec::new(),
        });
        QuorumSnapshot {
            peer_state: self.peer_state(role),
            quorum_size: view.quorum_size,
            leader_id: view.leader_id,
            leader,
            counters: self.counters.clone(),
            summaries: self.summaries.clone(),
        }
    }

    fn peer_state(&self, role: Option<Role>) -> String {
        let name = match role {
            None => return "looking".into(),
            Some(Role::Leader) => "leading",
            Some(Role::Follower) => "following",
            Some(Role::Observer) => "observing",
        };
        match self.stage {
            Stage::Election => name.to_string(),
            Stage::Syncing if role == Some(Role::Leader) => format!("{name} - discovery"),
            Stage::Syncing => format!("{name} - synchronization"),
            Stage::Broadcast => format!("{name} - broadcast"),
        }
    }
}

/// The role a peer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Leader,
    Follower,
    Observer,
}

/// What the driver knows at query time besides the recorded metrics.
#[derive(Clone, Copy, Debug, Default)]
pub struct PeerView {
    pub quorum_size: usize,
    pub leader_id: Option<i64>,
    pub learners: Option<crate::zab::LearnerCounts>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Zxid;

    #[test]
    fn election_and_unavailability_run_from_looking_to_broadcast() {
        let mut m = PeerMetrics::new(1_000);
        m.elected(1_300);
        m.broadcasting(1_450, Role::Follower);
        let s = m.snapshot(
            2_000,
            Some(Role::Follower),
            PeerView {
                quorum_size: 3,
                leader_id: Some(2),
                learners: None,
            },
        );
        assert_eq!(s.peer_state, "following - broadcast");
        assert_eq!(s.counters.looking_count, 1);
        assert_eq!(
            (
                s.summaries.election_time.min,
                s.summaries.election_time.histogram.count
            ),
            (300, 1)
        );
        assert_eq!(s.summaries.unavailable_time.max, 450);
        assert_eq!(s.summaries.follower_sync_time.max, 150);
        assert_eq!(s.summaries.leader_unavailable_time.histogram.count, 0);
        assert!(s.leader.is_none());
    }

    #[test]
    fn leader_counts_proposals_commits_and_its_uptime() {
        let mut m = PeerMetrics::new(0);
        m.elected(10);
        m.broadcasting(20, Role::Leader);
        m.proposed(48);
        m.proposed(89);
        m.committed(1_007, 1_000);
        let counts = crate::zab::LearnerCounts {
            learners: 3,
            synced_followers: 2,
            synced_observers: 1,
            ..Default::default()
        };
        let s = m.snapshot(
            120,
            Some(Role::Leader),
            PeerView {
                quorum_size: 3,
                leader_id: Some(1),
                learners: Some(counts),
            },
        );
        let l = s.leader.expect("leader part");
        assert_eq!(
            (
                l.learners,
                l.synced_followers,
                l.synced_observers,
                l.uptime_ms
            ),
            (3, 2, 1, 100)
        );
        assert_eq!(
            l.proposal_sizes,
            BufferStats {
                last: 89,
                min: 48,
                max: 89
            }
        );
        assert_eq!((s.counters.proposal_count, s.counters.commit_count), (2, 1));
        assert_eq!(s.summaries.quorum_ack_latency.sum, 7);
        assert_eq!(s.summaries.leader_unavailable_time.max, 20);
        assert_eq!(s.peer_state, "leading - broadcast");
    }

    #[test]
    fn learners_count_broadcast_traffic_only() {
        let mut m = PeerMetrics::new(0);
        m.elected(0);
        m.learner_received(&Packet::Commit(Zxid(1)));
        m.broadcasting(5, Role::Observer);
        m.learner_received(&Packet::Commit(Zxid(2)));
        m.learner_received(&Packet::Ping {
            zxid: Zxid(2),
            touches: None,
        });
        let s = m.snapshot(5, Some(Role::Observer), PeerView::default());
        assert_eq!(s.counters.learner_commit_received_count, 1);
        assert_eq!(s.peer_state, "observing - broadcast");
    }

    #[test]
    fn leader_queue_samples_are_kept_per_learner() {
        let mut m = PeerMetrics::new(0);
        m.leader_sent(ServerId(2), &Packet::Diff(Zxid(0)), 0);
        m.snapshot_sent(ServerId(3), 2);
        m.leader_sent(ServerId(3), &Packet::UpToDate, 1);
        let s = m.snapshot(0, None, PeerView::default());
        assert_eq!((s.counters.diff_count, s.counters.snap_count), (1, 1));
        let q = &s.summaries.learner_handler_qp_size;
        assert_eq!((q["3"].histogram.count, q["3"].max), (2, 2));
        assert!(s.summaries.learner_handler_qp_time.contains_key("2"));
        assert_eq!(s.peer_state, "looking");
    }
}
