use super::*;

fn cfg(me: i64, n: i64, finalize_wait: u32) -> ElectionConfig {
    ElectionConfig {
        my_id: ServerId(me),
        voters: (1..=n).map(ServerId).collect(),
        config_text: b"version=0".to_vec(),
        initial_timeout: 4,
        max_timeout: 32,
        finalize_wait,
    }
}

/// Delivers every message instantly, in order; ticks everyone when the network is quiet.
fn run(peers: &mut BTreeMap<i64, Fle>, mut queue: Vec<(i64, Action)>) -> BTreeMap<i64, Action> {
    let mut decided = BTreeMap::new();
    for _round in 0..10 {
        let mut i = 0;
        while i < queue.len() {
            let (from, a) = queue[i].clone();
            i += 1;
            match a {
                Action::Send { to, n } => {
                    if let Some(p) = peers.get_mut(&to.0) {
                        let out = p.step(Input::Received {
                            from: ServerId(from),
                            n,
                        });
                        queue.extend(out.into_iter().map(|a| (to.0, a)));
                    }
                }
                d @ Action::Decided { .. } => {
                    decided.insert(from, d);
                }
            }
        }
        queue.clear();
        for (sid, p) in peers.iter_mut() {
            queue.extend(p.step(Input::Tick).into_iter().map(|a| (*sid, a)));
        }
    }
    decided
}

fn start_all(peers: &mut BTreeMap<i64, Fle>, logs: &[(i64, Zxid, i64)]) -> Vec<(i64, Action)> {
    let mut q = vec![];
    for (sid, zxid, epoch) in logs {
        let out = peers.get_mut(sid).unwrap().step(Input::Start {
            last_zxid: *zxid,
            current_epoch: *epoch,
        });
        q.extend(out.into_iter().map(|a| (*sid, a)));
    }
    q
}

fn leader_of(d: &Action) -> i64 {
    match d {
        Action::Decided { vote, .. } => vote.leader.0,
        Action::Send { .. } => -1,
    }
}

#[test]
fn equal_logs_elect_the_highest_sid() {
    let mut peers: BTreeMap<i64, Fle> = (1..=3).map(|s| (s, Fle::new(cfg(s, 3, 2)))).collect();
    let q = start_all(
        &mut peers,
        &[(1, Zxid(5), 1), (2, Zxid(5), 1), (3, Zxid(5), 1)],
    );
    let d = run(&mut peers, q);
    assert_eq!(d.len(), 3);
    assert!(d.values().all(|a| leader_of(a) == 3));
    assert_eq!(peers[&3].state(), PeerState::Leading);
    assert_eq!(peers[&1].state(), PeerState::Following);
}

#[test]
fn the_longest_log_wins_over_a_higher_sid() {
    let mut peers: BTreeMap<i64, Fle> = (1..=3).map(|s| (s, Fle::new(cfg(s, 3, 2)))).collect();
    let q = start_all(
        &mut peers,
        &[
            (1, Zxid::new(1, 9), 1),
            (2, Zxid::new(1, 3), 1),
            (3, Zxid::new(1, 3), 1),
        ],
    );
    let d = run(&mut peers, q);
    assert!(d.values().all(|a| leader_of(a) == 1), "{d:?}");
}

#[test]
fn current_epoch_outranks_zxid() {
    let mut peers: BTreeMap<i64, Fle> = (1..=3).map(|s| (s, Fle::new(cfg(s, 3, 2)))).collect();
    let q = start_all(
        &mut peers,
        &[
            (1, Zxid::new(1, 9), 1),
            (2, Zxid::new(2, 0), 2),
            (3, Zxid::new(1, 3), 1),
        ],
    );
    let d = run(&mut peers, q);
    assert!(d.values().all(|a| leader_of(a) == 2), "{d:?}");
}

#[test]
fn a_restarted_peer_joins_the_established_leader() {
    let mut peers: BTreeMap<i64, Fle> = (1..=3).map(|s| (s, Fle::new(cfg(s, 3, 2)))).collect();
    let q = start_all(
        &mut peers,
        &[(1, Zxid(5), 1), (2, Zxid(5), 1), (3, Zxid(5), 1)],
    );
    run(&mut peers, q);
    // Peer 1 restarts with a fresh clock and a shorter log.
    peers.insert(1, Fle::new(cfg(1, 3, 2)));
    let q = start_all(&mut peers, &[(1, Zxid(2), 1)]);
    let d = run(&mut peers, q);
    assert_eq!(d.get(&1).map(leader_of), Some(3));
    assert_eq!(peers[&1].clock(), peers[&3].clock());
}

#[test]
fn a_minority_never_decides_and_retries_with_doubling_timeouts() {
    let mut f = Fle::new(cfg(1, 3, 0));
    let sent = f
        .step(Input::Start {
            last_zxid: Zxid(0),
            current_epoch: 0,
        })
        .len();
    assert_eq!(sent, 2);
    let mut resends = vec![];
    for t in 1..=60 {
        if !f.step(Input::Tick).is_empty() {
            resends.push(t);
        }
    }
    assert_eq!(
        resends,
        vec![4, 12, 28, 60],
        "timeouts 4, 8, 16, 32 (capped)"
    );
    assert_eq!(f.state(), PeerState::Looking);
}

#[test]
fn finalize_wait_lets_a_better_vote_in() {
    let mut f = Fle::new(cfg(2, 3, 3));
    f.step(Input::Start {
        last_zxid: Zxid(5),
        current_epoch: 1,
    });
    let n1 = Notification {
        state: PeerState::Looking,
        leader: 2,
        zxid: 5,
        election_epoch: 1,
        peer_epoch: 1,
        version: 2,
        config: vec![],
    };
    assert!(f
        .step(Input::Received {
            from: ServerId(1),
            n: n1.clone()
        })
        .is_empty());
    let better = Notification { leader: 3, ..n1 };
    let out = f.step(Input::Received {
        from: ServerId(3),
        n: better,
    });
    assert!(
        out.iter().all(|a| matches!(a, Action::Send { .. })),
        "switches to 3 and re-broadcasts"
    );
    assert_eq!(f.proposal().leader, ServerId(3));
}

#[test]
fn an_observer_learns_the_leader_but_is_never_counted() {
    let mut peers: BTreeMap<i64, Fle> = (1..=3).map(|s| (s, Fle::new(cfg(s, 3, 2)))).collect();
    let mut obs_cfg = cfg(4, 3, 2);
    obs_cfg.my_id = ServerId(4);
    peers.insert(4, Fle::new(obs_cfg));
    let q = start_all(
        &mut peers,
        &[(1, Zxid(5), 1), (2, Zxid(5), 1), (3, Zxid(5), 1)],
    );
    run(&mut peers, q);
    let q = start_all(&mut peers, &[(4, Zxid(5), 1)]);
    let d = run(&mut peers, q);
    assert_eq!(d.get(&4).map(leader_of), Some(3));
    assert_eq!(peers[&4].state(), PeerState::Observing);
}

#[test]
fn an_untrusted_empty_database_ignores_looking_votes() {
    let mut f = Fle::new(cfg(1, 3, 0));
    f.step(Input::Start {
        last_zxid: Zxid::NONE,
        current_epoch: 0,
    });
    let n = Notification {
        state: PeerState::Looking,
        leader: 3,
        zxid: 9,
        election_epoch: 1,
        peer_epoch: 1,
        version: 2,
        config: vec![],
    };
    f.step(Input::Received {
        from: ServerId(2),
        n: n.clone(),
    });
    f.step(Input::Received {
        from: ServerId(3),
        n,
    });
    assert_eq!(f.state(), PeerState::Looking);
}

#[test]
fn a_settled_peer_answers_with_the_epoch_its_role_established() {
    let mut peers: BTreeMap<i64, Fle> = (1..=2).map(|s| (s, Fle::new(cfg(s, 3, 2)))).collect();
    let q = start_all(&mut peers, &[(1, Zxid(5), 1), (2, Zxid(5), 1)]);
    let decided = run(&mut peers, q);
    assert_eq!(
        decided.values().map(leader_of).collect::<Vec<_>>(),
        vec![2, 2]
    );
    let p = peers.get_mut(&1).unwrap();
    p.step(Input::EpochEstablished { epoch: 2 });
    // A restarted peer 3 asks; peer 1 answers with its settled vote.
    let mut asker = Fle::new(cfg(3, 3, 2));
    let ask = asker.step(Input::Start {
        last_zxid: Zxid(9),
        current_epoch: 2,
    });
    let n = ask.into_iter().find_map(|a| match a {
        Action::Send { to: ServerId(1), n } => Some(n),
        _ => None,
    });
    let answers = p.step(Input::Received {
        from: ServerId(3),
        n: n.unwrap(),
    });
    let epochs: Vec<i64> = answers
        .iter()
        .filter_map(|a| match a {
            Action::Send { to, n } if *to == ServerId(3) => Some(n.peer_epoch),
            _ => None,
        })
        .collect();
    assert_eq!(epochs, vec![2]);
}
