//! Named recovery scenarios, each a short script against the simulated world with the
//! random faults off (message latencies still come from the seed).

use super::disk::TornTail;
use super::world::{Options, World};
use crate::proto::{ServerId, SetDataTxn, Txn, TxnEntry, TxnHeader, Zxid};

fn started(opts: Options) -> World {
    let mut w = World::new(7, opts);
    w.start();
    w.run_for(2000);
    assert!(w.leader().is_some(), "a leader is established: {:?}", w.log);
    w
}

fn follower_of(leader: i64) -> i64 {
    (1..=3).find(|s| *s != leader).unwrap_or(1)
}

fn writes(w: &mut World, at: i64, n: usize) {
    for _ in 0..n {
        assert!(w.write(at), "node {at} takes writes");
        w.run_for(30);
    }
}

fn has(w: &World, sid: i64, key: (i64, i32)) -> bool {
    w.node(sid)
        .applied
        .iter()
        .any(|e| (e.header.client_id, e.header.cxid) == key)
}

/// Every acknowledged write is applied on every node, and all invariants hold.
fn settle_and_check(w: &mut World) {
    w.heal();
    w.run_for(4000);
    if let Err(v) = w.finish() {
        panic!("{v}\n{:?}", w.log);
    }
    for key in w.acked.clone() {
        for sid in 1..=3 {
            assert!(has(w, sid, key), "acked write {key:?} missing on {sid}");
        }
    }
}

#[test]
fn leader_crash_before_commit_keeps_a_proposal_a_follower_logged() {
    let mut w = started(Options::default());
    let l = w.leader().unwrap_or(0);
    writes(&mut w, l, 3);
    let f = follower_of(l);
    assert!(w.write(l));
    let key = (l, w.node(l).next_cxid);
    let logged = |w: &World| {
        w.node(f)
            .disk
            .log
            .iter()
            .any(|e| (e.header.client_id, e.header.cxid) == key)
    };
    while !logged(&w) {
        w.run_for(1);
    }
    w.crash(ServerId(l), TornTail::KeepAll);
    w.run_for(3000);
    w.restart(ServerId(l));
    settle_and_check(&mut w);
    for sid in 1..=3 {
        assert!(
            has(&w, sid, key),
            "the logged proposal survives into the new epoch on {sid}"
        );
    }
}

#[test]
fn a_proposal_no_one_else_logged_is_truncated_when_its_leader_returns() {
    let mut w = started(Options::default());
    let l = w.leader().unwrap_or(0);
    writes(&mut w, l, 3);
    w.partition(&[l]);
    assert!(w.write(l));
    let key = (l, w.node(l).next_cxid);
    w.run_for(100);
    w.crash(ServerId(l), TornTail::KeepAll);
    assert!(
        w.node(l)
            .disk
            .log
            .iter()
            .any(|e| (e.header.client_id, e.header.cxid) == key),
        "the old leader logged it"
    );
    w.heal();
    w.run_for(3000);
    w.restart(ServerId(l));
    settle_and_check(&mut w);
    assert!(
        w.log
            .iter()
            .any(|(s, e)| s.0 == l && e.starts_with("truncate")),
        "TRUNC sent: {:?}",
        w.log
    );
    for sid in 1..=3 {
        assert!(
            !has(&w, sid, key),
            "the uncommitted proposal is gone on {sid}"
        );
        assert!(!w
            .node(sid)
            .disk
            .log
            .iter()
            .any(|e| (e.header.client_id, e.header.cxid) == key));
    }
}

#[test]
fn a_follower_behind_the_committed_window_gets_a_snapshot() {
    let mut w = started(Options {
        committed_log_max: 4,
        ..Options::default()
    });
    let l = w.leader().unwrap_or(0);
    let f = follower_of(l);
    w.crash(ServerId(f), TornTail::DropAll);
    writes(&mut w, l, 12);
    w.restart(ServerId(f));
    settle_and_check(&mut w);
    assert!(
        w.log
            .iter()
            .any(|(_, e)| e.starts_with(&format!("snap to {f}"))),
        "{:?}",
        w.log
    );
    assert_eq!(w.node(f).applied, w.node(l).applied);
}

fn entry(epoch: u32, c: u32) -> TxnEntry {
    let header = TxnHeader {
        client_id: 9,
        cxid: c as i32,
        zxid: Zxid::new(epoch, c).0,
        time: 0,
    };
    TxnEntry {
        header,
        txn: Txn::SetData(SetDataTxn {
            path: "/k".into(),
            data: None,
            version: c as i32,
        }),
        digest: None,
    }
}

#[test]
fn a_higher_accepted_epoch_with_a_shorter_log_does_not_win() {
    let mut w = World::new(3, Options::default());
    for (sid, last, accepted) in [(1, 5, 1), (2, 5, 1), (3, 2, 2)] {
        let n = w.nodes.get_mut(&ServerId(sid)).unwrap();
        n.disk.log = (1..=last).map(|c| entry(1, c)).collect();
        n.disk.durable_len = n.disk.log.len();
        n.disk.accepted_epoch = accepted;
        n.disk.current_epoch = 1;
    }
    w.start();
    w.run_for(2000);
    let l = w.leader();
    assert!(l.is_some() && l != Some(3), "leader {l:?}");
    settle_and_check(&mut w);
    assert!(w.node(3).applied.contains(&entry(1, 5)));
}

#[test]
fn a_partitioned_old_leader_commits_nothing_and_rejoins() {
    let mut w = started(Options::default());
    let l = w.leader().unwrap_or(0);
    writes(&mut w, l, 2);
    let acked_before = w.acked.len();
    w.partition(&[l]);
    let mut proposed = vec![];
    for _ in 0..5 {
        if w.write(l) {
            proposed.push((l, w.node(l).next_cxid));
        }
        w.run_for(60);
    }
    assert_eq!(
        w.acked.len(),
        acked_before,
        "nothing commits without a quorum"
    );
    w.run_for(3000);
    let new = w.leader().unwrap_or(0);
    assert_ne!(new, l);
    writes(&mut w, new, 3);
    settle_and_check(&mut w);
    for key in proposed {
        assert!(
            !(1..=3).any(|s| has(&w, s, key)),
            "{key:?} from the cut-off leader never applies"
        );
    }
}

#[test]
fn torn_log_tails_are_cut_and_resynced() {
    let mut w = started(Options::default());
    let l = w.leader().unwrap_or(0);
    let f = follower_of(l);
    writes(&mut w, l, 3);
    for _ in 0..4 {
        w.write(l);
    }
    w.run_for(2);
    w.crash(ServerId(f), TornTail::Keep(1));
    w.crash(ServerId(l), TornTail::Keep(1));
    w.run_for(500);
    w.restart(ServerId(f));
    w.restart(ServerId(l));
    settle_and_check(&mut w);
}
