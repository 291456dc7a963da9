//! Named scenarios for the client guarantees: scripted clients against the simulated
//! ensemble with random faults off; every run ends with all checkers, the client ones
//! (FIFO, linearizable writes, ephemerals with their session) included.

use super::checker::linearizable::{Outcome, Versioned};
use super::disk::TornTail;
use super::model::Req;
use super::world::{Options, World};
use crate::proto::{ErrorCode, ServerId, TxnEntry};

fn started() -> World {
    let mut w = World::new(11, Options::default());
    w.start();
    w.run_for(2000);
    assert!(w.leader().is_some(), "a leader is established: {:?}", w.log);
    w
}

fn others(w: &World, not: i64) -> Vec<i64> {
    w.nodes.keys().map(|s| s.0).filter(|s| *s != not).collect()
}

fn session(w: &World, c: usize) -> i64 {
    w.client(c).session.expect("the client has a session")
}

/// A client with a fresh session on `sid`.
fn client_on(w: &mut World, sid: i64) -> usize {
    let c = w.add_client();
    assert!(w.client_connect(c, sid), "{sid} takes the client");
    w.run_for(50);
    assert!(w.client(c).ready, "the session is established");
    c
}

fn connect_anywhere(w: &mut World, c: usize) -> i64 {
    for _ in 0..100 {
        let ids: Vec<i64> = w.nodes.keys().map(|s| s.0).collect();
        if let Some(sid) = ids.into_iter().find(|s| w.client_connect(c, *s)) {
            w.run_for(50);
            if w.client(c).ready {
                return sid;
            }
        }
        w.run_for(100);
    }
    panic!("no server takes the client back: {:?}", w.log)
}

fn settle(w: &mut World) {
    w.heal();
    w.run_for(4000);
    if let Err(v) = w.finish() {
        panic!("{v}\n{:?}", w.log);
    }
}

fn outcome(w: &World, r: usize) -> Outcome {
    w.records[r].outcome.clone()
}

fn applied_by(w: &World, s: i64, cxid: i32) -> Vec<&TxnEntry> {
    let l = w.leader().unwrap_or(1);
    w.node(l)
        .applied
        .iter()
        .filter(|e| (e.header.client_id, e.header.cxid) == (s, cxid))
        .collect()
}

fn create(path: &str, data: &str) -> Req {
    Req::Create {
        path: path.into(),
        data: data.into(),
        ephemeral: false,
    }
}

#[test]
fn a_write_in_flight_when_the_leader_crashes_is_indeterminate_and_applied_at_most_once() {
    let mut w = started();
    let l = w.leader().unwrap_or(0);
    let f = others(&w, l)[0];
    let c = client_on(&mut w, f);
    let s = session(&w, c);
    let r = w.client_send(c, create("/k0", "a")).expect("sent");
    let cxid = w.records[r].cxid;
    let logged = |w: &World| {
        w.node(f)
            .disk
            .log
            .iter()
            .any(|e| (e.header.client_id, e.header.cxid) == (s, cxid))
    };
    while !logged(&w) {
        w.run_for(1);
    }
    w.crash(ServerId(l), TornTail::KeepAll);
    w.run_for(100);
    assert_eq!(w.records[r].complete, None, "no answer came");
    assert_eq!(w.client(c).server, None, "the follower dropped its clients");
    w.run_for(3000);
    connect_anywhere(&mut w, c);
    let retry = w.client_send(c, create("/k0", "a")).expect("sent");
    w.run_for(500);
    w.restart(ServerId(l));
    settle(&mut w);
    let first = applied_by(&w, s, cxid);
    assert!(first.len() <= 1, "applied twice: {first:?}");
    let expect = if first.is_empty() {
        Outcome::Done
    } else {
        Outcome::Failed(ErrorCode::NodeExists)
    };
    assert_eq!(outcome(&w, retry), expect);
}

#[test]
fn a_session_moving_to_another_server_keeps_its_writes_in_order() {
    let mut w = started();
    let l = w.leader().unwrap_or(0);
    let (f1, f2) = (others(&w, l)[0], others(&w, l)[1]);
    let c = client_on(&mut w, f1);
    let s = session(&w, c);
    assert!(w.client_send(c, create("/k0", "0")).is_some());
    w.run_for(100);
    let set = |i: u32| Req::SetData {
        path: "/k0".into(),
        data: format!("{i}").into_bytes(),
        version: -1,
    };
    for i in 1..=3 {
        w.client_send(c, set(i));
    }
    w.client_disconnect(c);
    assert!(w.client_connect(c, f2), "{f2} is as recent as {f1}");
    w.run_for(50);
    assert!(w.client(c).ready, "the session moved: {:?}", w.log);
    for i in 4..=6 {
        w.client_send(c, set(i));
    }
    let read = w.client_sync_read(c, "/k0").expect("sent");
    settle(&mut w);
    assert_eq!(outcome(&w, read), Outcome::Read(w.node(l).tree.read("/k0")));
    let data = w.node(l).tree.read("/k0").map(|v| v.data);
    assert_eq!(
        data,
        Some(b"6".to_vec()),
        "the last write of the session wins"
    );
    let moved = w.node(l).applied.iter().filter(|e| e.header.client_id == s);
    let errors: Vec<_> = moved
        .filter(|e| matches!(e.txn, crate::proto::Txn::Error(_)))
        .collect();
    assert!(
        errors.iter().all(|e| e.header.cxid <= 5),
        "only writes sent before the move may fail: {errors:?}"
    );
}

#[test]
fn closing_a_session_removes_its_ephemerals_on_every_server() {
    let mut w = started();
    let l = w.leader().unwrap_or(0);
    let f = others(&w, l)[0];
    let owner = client_on(&mut w, f);
    let watcher = client_on(&mut w, l);
    let eph = Req::Create {
        path: "/e0".into(),
        data: b"x".to_vec(),
        ephemeral: true,
    };
    let made = w.client_send(owner, eph.clone()).expect("sent");
    w.run_for(100);
    assert_eq!(outcome(&w, made), Outcome::Done);
    let taken = w.client_send(watcher, eph.clone()).expect("sent");
    w.run_for(100);
    assert_eq!(outcome(&w, taken), Outcome::Failed(ErrorCode::NodeExists));
    w.client_send(owner, Req::CloseSession);
    w.run_for(100);
    assert_eq!(w.client(owner).session, None, "closed");
    let seen = w.client_sync_read(watcher, "/e0").expect("sent");
    let retaken = w.client_send(watcher, eph).expect("sent");
    settle(&mut w);
    assert_eq!(outcome(&w, seen), Outcome::Read(None));
    assert_eq!(outcome(&w, retaken), Outcome::Done);
    for sid in 1..=3 {
        let owner_now = w.node(sid).tree.nodes.get("/e0").map(|n| n.owner);
        assert_eq!(owner_now, Some(session(&w, watcher)), "on {sid}");
    }
}

#[test]
fn a_session_returns_to_a_cut_off_server_only_once_it_caught_up() {
    let mut w = started();
    let l = w.leader().unwrap_or(0);
    let (f1, f2) = (others(&w, l)[0], others(&w, l)[1]);
    let c = client_on(&mut w, f1);
    w.partition(&[f2]);
    let r = w.client_send(c, create("/k1", "v")).expect("sent");
    // Long enough for a slow fsync (the simulated disk takes up to 200 ms now and then).
    w.run_for(500);
    assert_eq!(
        outcome(&w, r),
        Outcome::Done,
        "the leader and {f1} commit without {f2}"
    );
    w.client_disconnect(c);
    assert!(w.node(f2).applied_zxid().0 < w.client(c).last_zxid);
    assert!(
        !w.client_connect(c, f2),
        "{f2} is behind what the session has seen"
    );
    w.heal();
    w.run_for(3000);
    assert!(w.client_connect(c, f2), "{f2} caught up");
    w.run_for(50);
    let read = w
        .client_send(c, Req::Read { path: "/k1".into() })
        .expect("sent");
    w.run_for(100);
    assert_eq!(
        outcome(&w, read),
        Outcome::Read(Some(Versioned {
            data: b"v".to_vec(),
            version: 0
        }))
    );
    settle(&mut w);
}

#[test]
fn compare_and_set_lets_exactly_one_of_two_racing_clients_win() {
    let mut w = started();
    let l = w.leader().unwrap_or(0);
    let f = others(&w, l)[0];
    let (a, b) = (client_on(&mut w, l), client_on(&mut w, f));
    w.client_send(a, create("/k0", "base"));
    w.run_for(100);
    let cas = |d: &str| Req::SetData {
        path: "/k0".into(),
        data: d.into(),
        version: 0,
    };
    let (ra, rb) = (
        w.client_send(a, cas("a")).expect("sent"),
        w.client_send(b, cas("b")).expect("sent"),
    );
    settle(&mut w);
    let won: Vec<Outcome> = [ra, rb].iter().map(|r| outcome(&w, *r)).collect();
    assert!(won.contains(&Outcome::Written { version: 1 }), "{won:?}");
    assert!(
        won.contains(&Outcome::Failed(ErrorCode::BadVersion)),
        "{won:?}"
    );
}
