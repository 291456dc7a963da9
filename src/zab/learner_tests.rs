use super::*;
use crate::proto::{Txn, TxnHeader};

fn cfg() -> ZabConfig {
    ZabConfig {
        my_id: ServerId(1),
        voters: (1..=3).map(ServerId).collect(),
        observers: Default::default(),
        init_limit: 10,
        sync_limit: 5,
        max_outstanding: 100,
        committed_log_max: 10,
        config_text: vec![],
    }
}

fn entry(e: u32, c: u32) -> TxnEntry {
    let header = TxnHeader {
        client_id: 1,
        cxid: 0,
        zxid: Zxid::new(e, c).0,
        time: 0,
    };
    TxnEntry {
        header,
        txn: Txn::Delete(format!("/{c}")),
        digest: None,
    }
}

fn from_leader(pkt: Packet) -> Input {
    Input::Packet {
        from: ServerId(3),
        pkt,
    }
}

fn learner() -> Learner {
    let d = Durable {
        accepted_epoch: 1,
        current_epoch: 1,
        last_zxid: Zxid::new(1, 2),
        durable_zxid: Zxid::new(1, 2),
        recent: vec![],
    };
    let mut l = Learner::new(cfg(), ServerId(3), d);
    l.take_actions();
    l
}

fn sends(out: &[Action]) -> Vec<Packet> {
    out.iter()
        .filter_map(|a| {
            if let Action::Send { pkt, .. } = a {
                Some(pkt.clone())
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn registration_sends_followerinfo_with_the_accepted_epoch() {
    let d = Durable {
        accepted_epoch: 1,
        current_epoch: 1,
        ..Default::default()
    };
    let mut l = Learner::new(cfg(), ServerId(3), d);
    let out = l.take_actions();
    assert_eq!(
        sends(&out),
        vec![Packet::FollowerInfo {
            zxid: Zxid::new(1, 0),
            info: Some(LearnerInfo::current(1, 0))
        }]
    );
}

#[test]
fn a_newer_epoch_is_saved_before_ackepoch_which_carries_the_current_epoch() {
    let mut l = learner();
    let out = l.step(from_leader(Packet::LeaderInfo {
        zxid: Zxid::new(2, 0),
        protocol: 0x10000,
    }));
    assert_eq!(
        out[0],
        Action::SaveEpoch {
            kind: EpochKind::Accepted,
            epoch: 2
        }
    );
    assert_eq!(
        sends(&out),
        vec![Packet::AckEpoch {
            zxid: Zxid::new(1, 2),
            epoch: 1
        }]
    );
}

#[test]
fn an_already_accepted_epoch_is_acked_with_minus_one_and_an_older_one_is_refused() {
    let mut l = learner();
    let out = l.step(from_leader(Packet::LeaderInfo {
        zxid: Zxid::new(1, 0),
        protocol: 0x10000,
    }));
    assert_eq!(
        sends(&out),
        vec![Packet::AckEpoch {
            zxid: Zxid::new(1, 2),
            epoch: -1
        }]
    );
    let mut l = learner();
    let out = l.step(from_leader(Packet::LeaderInfo {
        zxid: Zxid::new(0, 0),
        protocol: 0x10000,
    }));
    assert!(matches!(out[..], [Action::GoLooking { .. }]));
}

#[test]
fn newleader_is_acked_only_after_the_synced_txns_are_durable_and_the_epoch_saved() {
    let mut l = learner();
    l.step(from_leader(Packet::LeaderInfo {
        zxid: Zxid::new(2, 0),
        protocol: 0x10000,
    }));
    l.step(from_leader(Packet::Diff(Zxid::new(1, 3))));
    let out = l.step(from_leader(Packet::Proposal {
        zxid: Zxid::new(1, 3),
        txn: entry(1, 3),
    }));
    assert_eq!(
        out,
        vec![Action::Persist {
            entries: vec![entry(1, 3)]
        }]
    );
    let out = l.step(from_leader(Packet::Commit(Zxid::new(1, 3))));
    assert!(out.is_empty(), "held until UPTODATE: {out:?}");
    let out = l.step(from_leader(Packet::NewLeader {
        zxid: Zxid::new(2, 0),
        config: None,
    }));
    assert!(out.is_empty(), "not durable yet: {out:?}");
    let out = l.step(Input::Persisted {
        upto: Zxid::new(1, 3),
    });
    assert_eq!(
        out[0],
        Action::SaveEpoch {
            kind: EpochKind::Current,
            epoch: 2
        }
    );
    assert_eq!(sends(&out), vec![Packet::Ack(Zxid::new(2, 0))]);
    let out = l.step(from_leader(Packet::UpToDate));
    assert_eq!(out[0], Action::Deliver { entry: entry(1, 3) });
    assert_eq!(sends(&out), vec![Packet::Ack(Zxid::new(2, 0))]);
    assert!(out.contains(&Action::Serving { epoch: 2 }));
}

#[test]
fn trunc_cuts_the_log_back() {
    let mut l = learner();
    l.step(from_leader(Packet::LeaderInfo {
        zxid: Zxid::new(2, 0),
        protocol: 0x10000,
    }));
    let out = l.step(from_leader(Packet::Trunc(Zxid::new(1, 1))));
    assert_eq!(
        out,
        vec![Action::Truncate {
            to: Zxid::new(1, 1)
        }]
    );
}

fn serving() -> Learner {
    let mut l = learner();
    l.step(from_leader(Packet::LeaderInfo {
        zxid: Zxid::new(2, 0),
        protocol: 0x10000,
    }));
    l.step(from_leader(Packet::Diff(Zxid::new(1, 2))));
    l.step(from_leader(Packet::NewLeader {
        zxid: Zxid::new(2, 0),
        config: None,
    }));
    l.step(from_leader(Packet::UpToDate));
    l
}

#[test]
fn proposals_are_acked_only_after_persisted() {
    let mut l = serving();
    let out = l.step(from_leader(Packet::Proposal {
        zxid: Zxid::new(2, 1),
        txn: entry(2, 1),
    }));
    assert!(sends(&out).is_empty());
    let out = l.step(Input::Persisted {
        upto: Zxid::new(2, 1),
    });
    assert_eq!(sends(&out), vec![Packet::Ack(Zxid::new(2, 1))]);
}

#[test]
fn a_commit_out_of_order_is_fatal_for_the_role() {
    let mut l = serving();
    l.step(from_leader(Packet::Proposal {
        zxid: Zxid::new(2, 1),
        txn: entry(2, 1),
    }));
    l.step(from_leader(Packet::Proposal {
        zxid: Zxid::new(2, 2),
        txn: entry(2, 2),
    }));
    let out = l.step(from_leader(Packet::Commit(Zxid::new(2, 2))));
    assert!(matches!(out[..], [Action::GoLooking { .. }]));
}

#[test]
fn ping_reply_carries_touched_sessions_once() {
    let mut l = serving();
    l.step(Input::Touch(crate::proto::quorum::SessionTouch {
        session: SessionId(5),
        timeout_ms: 4000,
    }));
    let out = l.step(from_leader(Packet::Ping {
        zxid: Zxid::new(2, 0),
        touches: None,
    }));
    let t = vec![crate::proto::quorum::SessionTouch {
        session: SessionId(5),
        timeout_ms: 4000,
    }];
    assert_eq!(
        sends(&out),
        vec![Packet::Ping {
            zxid: Zxid::new(2, 0),
            touches: Some(t)
        }]
    );
    let out = l.step(from_leader(Packet::Ping {
        zxid: Zxid::new(2, 0),
        touches: None,
    }));
    assert_eq!(
        sends(&out),
        vec![Packet::Ping {
            zxid: Zxid::new(2, 0),
            touches: Some(vec![])
        }]
    );
}

#[test]
fn a_silent_leader_is_left() {
    let mut l = serving();
    let stopped = (0..10).any(|_| {
        l.step(Input::Tick)
            .iter()
            .any(|a| matches!(a, Action::GoLooking { .. }))
    });
    assert!(stopped);
}

#[test]
fn in_flight_proposals_of_the_sync_are_acked_after_the_newleader_ack() {
    let mut l = learner();
    l.step(from_leader(Packet::LeaderInfo {
        zxid: Zxid::new(2, 0),
        protocol: 0x10000,
    }));
    l.step(from_leader(Packet::Diff(Zxid::new(1, 2))));
    l.step(from_leader(Packet::Proposal {
        zxid: Zxid::new(2, 1),
        txn: entry(2, 1),
    }));
    l.step(from_leader(Packet::NewLeader {
        zxid: Zxid::new(2, 0),
        config: None,
    }));
    let out = l.step(Input::Persisted {
        upto: Zxid::new(2, 1),
    });
    assert_eq!(
        sends(&out),
        vec![Packet::Ack(Zxid::new(2, 0)), Packet::Ack(Zxid::new(2, 1))]
    );
}

#[test]
fn a_proposal_committed_before_its_fsync_is_still_acked_once_broadcasting() {
    let mut l = learner();
    l.step(from_leader(Packet::LeaderInfo {
        zxid: Zxid::new(2, 0),
        protocol: 0x10000,
    }));
    l.step(from_leader(Packet::Diff(Zxid::new(1, 2))));
    l.step(from_leader(Packet::NewLeader {
        zxid: Zxid::new(2, 0),
        config: None,
    }));
    l.step(Input::Persisted {
        upto: Zxid::new(1, 2),
    });
    l.step(from_leader(Packet::UpToDate));
    l.step(from_leader(Packet::Proposal {
        zxid: Zxid::new(2, 1),
        txn: entry(2, 1),
    }));
    // The other follower's ACK made the leader commit before this one's fsync ended.
    l.step(from_leader(Packet::Commit(Zxid::new(2, 1))));
    let out = l.step(Input::Persisted {
        upto: Zxid::new(2, 1),
    });
    assert_eq!(sends(&out), vec![Packet::Ack(Zxid::new(2, 1))]);
}
