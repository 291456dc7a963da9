use super::*;
use crate::proto::quorum::{LearnerInfo, ZAB_PROTOCOL_VERSION};
use crate::proto::{Txn, TxnHeader};
use crate::zab::EpochKind;

fn cfg() -> ZabConfig {
    ZabConfig {
        my_id: ServerId(3),
        voters: (1..=3).map(ServerId).collect(),
        observers: [ServerId(4)].into(),
        init_limit: 10,
        sync_limit: 5,
        max_outstanding: 2,
        committed_log_max: 10,
        config_text: b"version=0".to_vec(),
    }
}

fn entry(c: u32) -> TxnEntry {
    let header = TxnHeader {
        client_id: 1,
        cxid: c as i32,
        zxid: Zxid::new(1, c).0,
        time: 0,
    };
    TxnEntry {
        header,
        txn: Txn::Delete(format!("/{c}")),
        digest: None,
    }
}

fn durable() -> Durable {
    let recent = vec![entry(1), entry(2)];
    Durable {
        accepted_epoch: 1,
        current_epoch: 1,
        last_zxid: Zxid::new(1, 2),
        durable_zxid: Zxid::new(1, 2),
        recent,
    }
}

fn info(sid: i64, epoch: u32) -> Input {
    let pkt = Packet::FollowerInfo {
        zxid: Zxid::new(epoch, 0),
        info: Some(LearnerInfo::current(sid, 0)),
    };
    Input::Packet {
        from: ServerId(sid),
        pkt,
    }
}

fn pkt(sid: i64, pkt: Packet) -> Input {
    Input::Packet {
        from: ServerId(sid),
        pkt,
    }
}

/// Drives the leader to Broadcast with follower 1 in sync at (1,2).
fn established() -> Leader {
    let mut l = Leader::new(cfg(), durable());
    l.step(info(1, 1));
    l.step(pkt(
        1,
        Packet::AckEpoch {
            zxid: Zxid::new(1, 2),
            epoch: 1,
        },
    ));
    let out = l.step(pkt(1, Packet::Ack(Zxid::new(2, 0))));
    assert!(out.contains(&Action::Established { epoch: 2 }));
    l
}

#[test]
fn discovery_picks_max_accepted_epoch_plus_one_and_saves_it_before_leaderinfo() {
    let mut l = Leader::new(cfg(), durable());
    let out = l.step(info(1, 4));
    assert_eq!(
        out,
        vec![
            Action::SaveEpoch {
                kind: EpochKind::Accepted,
                epoch: 5
            },
            Action::Send {
                to: ServerId(1),
                pkt: Packet::LeaderInfo {
                    zxid: Zxid::new(5, 0),
                    protocol: ZAB_PROTOCOL_VERSION
                }
            },
        ]
    );
}

#[test]
fn epoch_quorum_saves_current_epoch_then_syncs_with_diff_and_newleader() {
    let mut l = Leader::new(cfg(), durable());
    l.step(info(1, 1));
    let out = l.step(pkt(
        1,
        Packet::AckEpoch {
            zxid: Zxid::new(1, 1),
            epoch: 1,
        },
    ));
    let z = Zxid::new(1, 2);
    assert_eq!(
        out[0],
        Action::SaveEpoch {
            kind: EpochKind::Current,
            epoch: 2
        }
    );
    assert_eq!(
        out[1],
        Action::Send {
            to: ServerId(1),
            pkt: Packet::Diff(z)
        }
    );
    assert_eq!(
        out[2],
        Action::Send {
            to: ServerId(1),
            pkt: Packet::Proposal {
                zxid: z,
                txn: entry(2)
            }
        }
    );
    assert_eq!(
        out[3],
        Action::Send {
            to: ServerId(1),
            pkt: Packet::Commit(z)
        }
    );
    assert!(
        matches!(&out[4], Action::Send { pkt: Packet::NewLeader { zxid, .. }, .. } if *zxid == Zxid::new(2, 0))
    );
}

#[test]
fn a_follower_ahead_of_the_leader_is_refused() {
    let mut l = Leader::new(cfg(), durable());
    l.step(info(1, 1));
    let out = l.step(pkt(
        1,
        Packet::AckEpoch {
            zxid: Zxid::new(1, 9),
            epoch: 1,
        },
    ));
    assert_eq!(out, vec![Action::CloseLearner(ServerId(1))]);
    assert!(!l.is_stopped());
}

#[test]
fn the_leaders_own_ack_counts_only_after_its_own_persist() {
    let mut l = established();
    let out = l.step(Input::Propose(entry(0)));
    let z = Zxid::new(2, 1);
    assert!(out.iter().any(|a| matches!(a, Action::Persist { .. })));
    let out = l.step(pkt(1, Packet::Ack(z)));
    assert!(
        out.is_empty(),
        "one follower alone is not a quorum of three: {out:?}"
    );
    let out = l.step(Input::Persisted { upto: z });
    assert_eq!(
        out[0],
        Action::Send {
            to: ServerId(1),
            pkt: Packet::Commit(z)
        }
    );
    assert!(matches!(&out[1], Action::Deliver { entry } if entry.header.zxid == z.0));
}

#[test]
fn commits_go_in_zxid_order_even_when_acks_do_not() {
    let mut l = established();
    l.step(Input::Propose(entry(0)));
    l.step(Input::Propose(entry(0)));
    l.step(Input::Persisted {
        upto: Zxid::new(2, 2),
    });
    assert!(l.step(pkt(1, Packet::Ack(Zxid::new(2, 2)))).is_empty());
    let out = l.step(pkt(1, Packet::Ack(Zxid::new(2, 1))));
    let delivered: Vec<i64> = out
        .iter()
        .filter_map(|a| {
            if let Action::Deliver { entry } = a {
                Some(entry.header.zxid)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(delivered, vec![Zxid::new(2, 1).0, Zxid::new(2, 2).0]);
}

#[test]
fn the_outstanding_window_is_bounded() {
    let mut l = established();
    l.step(Input::Propose(entry(0)));
    l.step(Input::Propose(entry(0)));
    let out = l.step(Input::Propose(entry(0)));
    assert!(matches!(out[..], [Action::ProposeRefused(_)]));
}

#[test]
fn sync_waits_for_outstanding_proposals() {
    let mut l = established();
    l.step(Input::Propose(entry(0)));
    assert!(l
        .step(Input::SyncRequest(Origin::Learner(ServerId(1))))
        .is_empty());
    l.step(Input::Persisted {
        upto: Zxid::new(2, 1),
    });
    let out = l.step(pkt(1, Packet::Ack(Zxid::new(2, 1))));
    assert!(out.contains(&Action::Send {
        to: ServerId(1),
        pkt: Packet::Sync
    }));
}

#[test]
fn a_leader_without_a_synced_quorum_steps_down() {
    let mut l = established();
    let mut reason = None;
    for _ in 0..7 {
        for a in l.step(Input::Tick) {
            if let Action::GoLooking { reason: r } = a {
                reason = Some(r);
            }
        }
    }
    assert!(reason.is_some());
    assert!(l.is_stopped());
}

#[test]
fn observers_get_inform_instead_of_commit() {
    let mut l = established();
    l.step(Input::Packet {
        from: ServerId(4),
        pkt: Packet::ObserverInfo {
            zxid: Zxid::new(1, 0),
            info: None,
        },
    });
    l.step(pkt(
        4,
        Packet::AckEpoch {
            zxid: Zxid::new(1, 2),
            epoch: 1,
        },
    ));
    l.step(pkt(4, Packet::Ack(Zxid::new(2, 0))));
    l.step(Input::Propose(entry(0)));
    l.step(Input::Persisted {
        upto: Zxid::new(2, 1),
    });
    let out = l.step(pkt(1, Packet::Ack(Zxid::new(2, 1))));
    assert!(out.iter().any(
        |a| matches!(a, Action::Send { to, pkt: Packet::Inform { .. } } if *to == ServerId(4))
    ));
    assert!(!out
        .iter()
        .any(|a| matches!(a, Action::Send { to, pkt: Packet::Commit(_) } if *to == ServerId(4))));
}

#[test]
fn sync_throttler_counts_are_sampled_when_a_sync_begins_and_when_its_newleader_is_acked() {
    let mut l = Leader::new(cfg(), durable());
    l.step(info(1, 1));
    l.step(info(2, 1));
    assert!(l.take_samples().is_empty());
    // Both learners are current (DIFF): each begins a sync while the other's is open.
    l.step(pkt(
        1,
        Packet::AckEpoch {
            zxid: Zxid::new(1, 2),
            epoch: 1,
        },
    ));
    l.step(pkt(
        2,
        Packet::AckEpoch {
            zxid: Zxid::new(1, 2),
            epoch: 1,
        },
    ));
    l.step(pkt(1, Packet::Ack(Zxid::new(2, 0))));
    l.step(pkt(2, Packet::Ack(Zxid::new(2, 0))));
    let diff = |n| Sample::Basic(Basic::InflightDiffCount, n);
    assert_eq!(l.take_samples(), vec![diff(1), diff(2), diff(1), diff(0)]);
    // A learner with an empty database after the window is gone gets a SNAP.
    let mut l = Leader::new(
        cfg(),
        Durable {
            recent: vec![],
            ..durable()
        },
    );
    l.step(info(1, 1));
    l.step(pkt(
        1,
        Packet::AckEpoch {
            zxid: Zxid::ZERO,
            epoch: 0,
        },
    ));
    let snap = |n| Sample::Basic(Basic::InflightSnapCount, n);
    assert_eq!(l.take_samples(), vec![snap(1)]);
    l.step(pkt(1, Packet::Ack(Zxid::new(2, 0))));
    assert_eq!(l.take_samples(), vec![snap(0)]);
}

/// A leader of a fresh ensemble (nothing logged, epoch 0) established in epoch 1 with
/// follower 1, which was at zxid 0 too.
fn established_fresh() -> Leader {
    let fresh = Durable {
        accepted_epoch: 0,
        current_epoch: 0,
        last_zxid: Zxid::ZERO,
        durable_zxid: Zxid::ZERO,
        recent: vec![],
    };
    let mut l = Leader::new(cfg(), fresh);
    l.step(info(1, 0));
    let out = l.step(pkt(
        1,
        Packet::AckEpoch {
            zxid: Zxid::ZERO,
            epoch: 0,
        },
    ));
    // Before the epoch is established the leader is at zxid 0 as well: an empty DIFF.
    assert!(
        out.contains(&Action::Send {
            to: ServerId(1),
            pkt: Packet::Diff(Zxid::ZERO)
        }),
        "{out:?}"
    );
    let out = l.step(pkt(1, Packet::Ack(Zxid::new(1, 0))));
    assert!(out.contains(&Action::Established { epoch: 1 }));
    l
}

fn observer_joins(l: &mut Leader, at: Zxid) -> Vec<Action> {
    l.step(pkt(
        4,
        Packet::ObserverInfo {
            zxid: Zxid::new(at.epoch(), 0),
            info: None,
        },
    ));
    l.step(pkt(
        4,
        Packet::AckEpoch {
            zxid: at,
            epoch: i32::try_from(at.epoch()).unwrap(),
        },
    ))
}

#[test]
fn an_empty_learner_joining_after_the_epoch_is_established_gets_a_snap_at_the_new_epoch() {
    let mut l = established_fresh();
    l.take_samples();
    let out = observer_joins(&mut l, Zxid::ZERO);
    assert_eq!(
        out[0],
        Action::SendSnapshot {
            to: ServerId(4),
            zxid: Zxid::new(1, 0)
        }
    );
    assert_eq!(
        l.take_samples(),
        vec![Sample::Basic(Basic::InflightSnapCount, 1)]
    );
}

#[test]
fn a_learner_at_the_new_epochs_first_zxid_gets_an_empty_diff_until_something_is_committed() {
    let mut l = established_fresh();
    let out = observer_joins(&mut l, Zxid::new(1, 0));
    assert_eq!(
        out[0],
        Action::Send {
            to: ServerId(4),
            pkt: Packet::Diff(Zxid::new(1, 0))
        }
    );
    assert!(
        matches!(
            &out[1],
            Action::Send {
                pkt: Packet::NewLeader { .. },
                ..
            }
        ),
        "{out:?}"
    );
}

#[test]
fn after_a_commit_an_empty_learner_still_gets_a_snap_at_the_last_commit() {
    let mut l = established_fresh();
    l.step(Input::Propose(entry(0)));
    l.step(Input::Persisted {
        upto: Zxid::new(1, 1),
    });
    l.step(pkt(1, Packet::Ack(Zxid::new(1, 1))));
    let out = observer_joins(&mut l, Zxid::ZERO);
    assert_eq!(
        out[0],
        Action::SendSnapshot {
            to: ServerId(4),
            zxid: Zxid::new(1, 1)
        }
    );
}

#[test]
fn a_learner_at_the_leaders_last_txn_of_an_older_epoch_gets_a_diff_from_the_window() {
    // Established in epoch 2 with the window (1,1), (1,2): the learner holds all of it.
    let mut l = established();
    let out = observer_joins(&mut l, Zxid::new(1, 2));
    assert_eq!(
        out[0],
        Action::Send {
            to: ServerId(4),
            pkt: Packet::Diff(Zxid::new(1, 2))
        }
    );
    // Without a window (the log was purged) the same learner gets a SNAP at (2, 0).
    let mut l = Leader::new(
        cfg(),
        Durable {
            recent: vec![],
            ..durable()
        },
    );
    l.step(info(1, 1));
    l.step(pkt(
        1,
        Packet::AckEpoch {
            zxid: Zxid::new(1, 2),
            epoch: 1,
        },
    ));
    assert!(l
        .step(pkt(1, Packet::Ack(Zxid::new(2, 0))))
        .contains(&Action::Established { epoch: 2 }));
    let out = observer_joins(&mut l, Zxid::new(1, 2));
    assert_eq!(
        out[0],
        Action::SendSnapshot {
            to: ServerId(4),
            zxid: Zxid::new(2, 0)
        }
    );
}
