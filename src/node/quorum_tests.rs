use super::*;
use crate::config::Config;
use crate::node::{CoreConfig, Input, RequestBody};
use crate::proto::{Acl, ConnectRequest, CreateRequest, CreateTxn, TxnHeader};

fn core(role: Role) -> Core {
    let cfg = CoreConfig::from_config(&Config::standalone_default(), None);
    let mut c = Core::new(cfg, 1_000, 0, 7);
    c.set_role(role);
    c
}

fn connect(c: &mut Core, conn: ConnId) {
    c.step(Input::Opened {
        conn,
        peer: "127.0.0.1:5000".parse().unwrap(),
        auth: Vec::new(),
    });
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        timeout_ms: 10_000,
        session_id: 0,
        passwd: vec![0; 16],
        read_only: None,
    };
    c.step(Input::Connect {
        conn,
        req,
        bytes: 49,
    });
}

/// A learner's client connects: the core forwards the createSession; its session id.
fn connect_forwarded(c: &mut Core, conn: ConnId) -> crate::proto::SessionId {
    connect(c, conn);
    match c.take_actions().as_slice() {
        [Action::Forward(r)] => r.session,
        other => panic!("{other:?}"),
    }
}

/// The one action a leader's core took: proposing a txn.
fn proposed(c: &mut Core) -> TxnEntry {
    match c.take_actions().as_slice() {
        [Action::Propose(e)] => e.clone(),
        other => panic!("{other:?}"),
    }
}

fn create(path: &str) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some(b"v".to_vec()),
        acl: Acl::open_unsafe(),
        flags: 0,
    })
}

fn entry(session: SessionId, cxid: i32, zxid: i64, txn: Txn) -> TxnEntry {
    TxnEntry {
        header: TxnHeader {
            client_id: session.0,
            cxid,
            zxid,
            time: 5,
        },
        txn,
        digest: None,
    }
}

fn sends(actions: &[Action], conn: ConnId) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::Send { conn: c, .. } if *c == conn))
        .count()
}

#[test]
fn a_learner_refuses_clients_until_it_is_up_to_date() {
    let mut c = core(Role::Following);
    connect(&mut c, 1);
    assert!(c.take_actions().contains(&Action::Close { conn: 1 }));
    c.start_serving(0);
    connect(&mut c, 2);
    assert!(
        matches!(c.take_actions().as_slice(), [Action::Forward(r)] if r.op == OpCode::CreateSession.code() && r.cxid == 0)
    );
}

#[test]
fn a_learner_answers_forwarded_writes_when_their_commits_arrive() {
    let mut c = core(Role::Following);
    c.start_serving(0);
    let session = connect_forwarded(&mut c, 1);
    c.step(Input::Committed(entry(
        session,
        0,
        0x1_0000_0001,
        Txn::CreateSession { timeout_ms: 10_000 },
    )));
    let acts = c.take_actions();
    assert_eq!(sends(&acts, 1), 1, "the connect response");
    assert!(acts.contains(&Action::Established { conn: 1 }));

    c.step(Input::Request {
        conn: 1,
        xid: 7,
        body: RequestBody::Ok(create("/a")),
        bytes: 0,
    });
    let acts = c.take_actions();
    assert!(
        matches!(acts.as_slice(), [Action::Forward(r)] if r.cxid == 7 && r.op == OpCode::Create.code())
    );
    // A read behind the write waits for it.
    c.step(Input::Request {
        conn: 1,
        xid: 8,
        body: RequestBody::Ok(Request::Ping),
        bytes: 0,
    });
    assert_eq!(sends(&c.take_actions(), 1), 0);
    let txn = Txn::Create(CreateTxn {
        path: "/a".into(),
        data: Some(b"v".to_vec()),
        acl: Acl::open_unsafe(),
        ephemeral: false,
        parent_cversion: 1,
    });
    c.step(Input::Committed(entry(session, 7, 0x1_0000_0002, txn)));
    assert_eq!(
        sends(&c.take_actions(), 1),
        2,
        "the create's reply, then the ping's"
    );
    assert!(c.tree().acl_and_stat("/a").is_some());
}

#[test]
fn a_leader_proposes_and_applies_on_commit() {
    let mut c = core(Role::Leading);
    c.start_serving(0x2_0000_0000);
    connect(&mut c, 1);
    let proposed = proposed(&mut c);
    assert_eq!(proposed.header.zxid, 0x2_0000_0001);
    c.step(Input::Committed(proposed));
    assert!(c.take_actions().contains(&Action::Established { conn: 1 }));
}

#[test]
fn a_leader_prepares_forwarded_requests_and_leaves_the_reply_to_the_learner() {
    let mut c = core(Role::Leading);
    c.start_serving(0x2_0000_0000);
    let session = SessionId(0x0300_0000_0000_0001);
    let fwd = |op: OpCode, cxid, body| ForwardedRequest {
        session,
        cxid,
        op: op.code(),
        body,
        auth: vec![],
    };
    c.step(Input::Forwarded {
        from: ServerId(3),
        req: fwd(OpCode::CreateSession, 0, 30_000i32.to_be_bytes().to_vec()),
    });
    let mut body = Vec::new();
    put_request_record(&mut body, &create("/x"));
    c.step(Input::Forwarded {
        from: ServerId(3),
        req: fwd(OpCode::Create, 1, body),
    });
    let acts = c.take_actions();
    let txns: Vec<&Txn> = acts
        .iter()
        .filter_map(|a| {
            if let Action::Propose(e) = a {
                Some(&e.txn)
            } else {
                None
            }
        })
        .collect();
    assert!(
        matches!(
            txns.as_slice(),
            [Txn::CreateSession { timeout_ms: 30_000 }, Txn::Create(_)]
        ),
        "{txns:?}"
    );
    c.step(Input::Forwarded {
        from: ServerId(3),
        req: fwd(OpCode::Sync, 2, vec![]),
    });
    assert_eq!(
        c.take_actions(),
        vec![Action::Sync(SyncOrigin::Learner(ServerId(3)))]
    );
}

#[test]
fn fast_forward_applies_the_logged_tail_and_forgets_the_rest() {
    let mut c = core(Role::Following);
    let s = SessionId(9);
    let logged = vec![
        entry(s, 0, 1, Txn::CreateSession { timeout_ms: 10_000 }),
        entry(
            s,
            1,
            2,
            Txn::Create(CreateTxn {
                path: "/t".into(),
                data: Some(vec![]),
                acl: Acl::open_unsafe(),
                ephemeral: false,
                parent_cversion: 1,
            }),
        ),
    ];
    c.step(Input::Committed(logged[0].clone()));
    assert!(c.fast_forward(&logged, None));
    assert_eq!(c.last_applied_zxid(), 2);
    assert!(c.tree().acl_and_stat("/t").is_some());
    // A window that starts after the last applied txn may have a gap.
    let mut d = core(Role::Following);
    d.step(Input::Committed(logged[0].clone()));
    assert!(!d.fast_forward(&logged[1..], None));
    assert!(d.fast_forward(&logged[1..], Some(1)));
}

#[test]
fn a_leader_fails_requests_of_a_session_that_moved_to_another_server() {
    let mut c = core(Role::Leading);
    c.start_serving(0x2_0000_0000);
    let session = SessionId(0x0300_0000_0000_0001);
    let fwd = |cxid, path: &str| {
        let mut body = Vec::new();
        put_request_record(&mut body, &create(path));
        ForwardedRequest {
            session,
            cxid,
            op: OpCode::Create.code(),
            body,
            auth: vec![],
        }
    };
    c.step(Input::Forwarded {
        from: ServerId(3),
        req: ForwardedRequest {
            session,
            cxid: 0,
            op: OpCode::CreateSession.code(),
            body: 30_000i32.to_be_bytes().to_vec(),
            auth: vec![],
        },
    });
    c.step(Input::Forwarded {
        from: ServerId(3),
        req: fwd(1, "/a"),
    });
    // The client reattached through server 2; a request still in flight via 3 fails.
    c.step(Input::RevalidateAsk {
        from: ServerId(2),
        session,
        timeout_ms: 30_000,
    });
    c.step(Input::Forwarded {
        from: ServerId(3),
        req: fwd(2, "/b"),
    });
    c.step(Input::Forwarded {
        from: ServerId(2),
        req: fwd(3, "/c"),
    });
    let txns: Vec<Txn> = c
        .take_actions()
        .into_iter()
        .filter_map(|a| {
            if let Action::Propose(e) = a {
                Some(e.txn)
            } else {
                None
            }
        })
        .collect();
    assert!(
        matches!(
            txns.as_slice(),
            [
                Txn::CreateSession { .. },
                Txn::Create(_),
                Txn::Error(ErrorCode::SessionMoved),
                Txn::Create(_)
            ]
        ),
        "{txns:?}"
    );
}

/// (samples, sum) of a BASIC summary.
fn basic(c: &Core, m: super::super::recorded::Basic) -> (u64, i64) {
    let s = c.stats.recorded.basic(m);
    (s.histogram.count, s.histogram.sum)
}

fn advanced(c: &Core, m: super::super::recorded::Advanced) -> (u64, i64) {
    let s = c.stats.recorded.advanced(m);
    (s.histogram.count, s.histogram.sum)
}

#[test]
fn a_learner_records_its_commit_processor_for_local_and_other_servers_writes() {
    use super::super::recorded::{Advanced as A, Basic as B};
    let mut c = core(Role::Following);
    c.start_serving(0);
    let session = connect_forwarded(&mut c, 1);
    c.step(Input::Committed(entry(
        session,
        0,
        0x1_0000_0001,
        Txn::CreateSession { timeout_ms: 10_000 },
    )));
    c.set_time(2_000, 100);
    c.step(Input::Request {
        conn: 1,
        xid: 7,
        body: RequestBody::Ok(create("/a")),
        bytes: 0,
    });
    c.step(Input::Request {
        conn: 1,
        xid: 8,
        body: RequestBody::Ok(Request::Ping),
        bytes: 0,
    });
    c.set_time(2_030, 130);
    let txn = Txn::Create(CreateTxn {
        path: "/a".into(),
        data: Some(b"v".to_vec()),
        acl: Acl::open_unsafe(),
        ephemeral: false,
        parent_cversion: 1,
    });
    c.step(Input::Committed(entry(session, 7, 0x1_0000_0002, txn)));
    // The session creation and the create entered the commit processor here.
    assert_eq!(advanced(&c, A::WriteCommitprocTimeMs), (2, 30));
    assert_eq!(advanced(&c, A::LocalWriteCommittedTimeMs), (2, 0));
    // Queued: the session creation when it entered and at its commit, the create
    // alone, the ping behind it, then at the create's commit the create and the ping.
    assert_eq!(basic(&c, B::RequestsInSessionQueue), (5, 1 + 1 + 1 + 2 + 2));
    // At each local commit, the sessions with requests waiting: the one being created,
    // then the client's.
    assert_eq!(basic(&c, B::PendingSessionQueueSize), (2, 2));
    // The ping waited behind the create from 100 to 130.
    assert_eq!(advanced(&c, A::ReadCommitprocTimeMs), (1, 30));
    assert_eq!(advanced(&c, A::ReadFinalProcTimeMs), (1, 0));
    assert_eq!(basic(&c, B::ReadsAfterWriteInSessionQueue), (2, 1));
    // Another server's write: no session queue of this server is drained.
    let other = SessionId(0x0200_0000_0000_0001);
    c.step(Input::Committed(entry(
        other,
        0,
        0x1_0000_0003,
        Txn::CreateSession { timeout_ms: 10_000 },
    )));
    assert_eq!(advanced(&c, A::ServerWriteCommittedTimeMs), (1, 0));
    assert_eq!(basic(&c, B::SessionQueuesDrained), (3, 2));
    assert_eq!(basic(&c, B::ReadsIssuedFromSessionQueue), (3, 1));
    // One pass per request that entered (3) and per commit (3); the ping was queued
    // during its own pass and the create's commit, and issued from its session's queue.
    assert_eq!(basic(&c, B::WriteCommitProcReqQueued).0, 6);
    assert_eq!(basic(&c, B::ReadCommitProcReqQueued), (6, 2));
    assert_eq!(basic(&c, B::ReadCommitProcIssued), (6, 0));
    // The three requests passed the throttler and the learner's request processor.
    assert_eq!(advanced(&c, A::RequestThrottleQueueTimeMs), (3, 0));
    // Its queue was sampled before each of them and before the first wait.
    assert_eq!(basic(&c, B::LearnerRequestProcessorQueueSize), (4, 0));
}

#[test]
fn reads_pass_the_commit_processor_of_ensemble_members_only() {
    use super::super::recorded::{Advanced as A, Basic as B};
    let get = || {
        RequestBody::Ok(Request::Exists(crate::proto::PathWatchRequest {
            path: "/".into(),
            watch: false,
        }))
    };
    let mut c = core(Role::Standalone);
    connect(&mut c, 1);
    c.step(Input::Request {
        conn: 1,
        xid: 1,
        body: get(),
        bytes: 0,
    });
    assert_eq!(basic(&c, B::ReadCommitProcIssued), (0, 0));
    assert_eq!(advanced(&c, A::ReadFinalProcTimeMs), (0, 0));

    let mut c = core(Role::Leading);
    c.start_serving(0x1_0000_0000);
    connect(&mut c, 1);
    let proposed = proposed(&mut c);
    c.step(Input::Committed(proposed));
    c.step(Input::Request {
        conn: 1,
        xid: 1,
        body: get(),
        bytes: 0,
    });
    c.step(Input::Request {
        conn: 1,
        xid: 2,
        body: get(),
        bytes: 0,
    });
    // The session creation entered alone and was the one session waiting at its commit.
    assert_eq!(basic(&c, B::PendingSessionQueueSize), (1, 1));
    // Passes: the creation, its commit, two reads, each read counted in its own pass.
    assert_eq!(basic(&c, B::ReadCommitProcReqQueued), (4, 2));
    assert_eq!(basic(&c, B::ReadCommitProcIssued), (4, 2));
    assert_eq!(advanced(&c, A::ReadCommitprocTimeMs), (2, 0));
    assert_eq!(advanced(&c, A::ReadFinalProcTimeMs), (2, 0));
    assert!(c.connless_waiting.is_empty());
    assert_eq!(c.queued, Default::default());
}

#[test]
fn a_leader_counts_every_write_it_commits_as_its_own() {
    use super::super::recorded::{Advanced as A, Basic as B};
    let mut c = core(Role::Leading);
    c.start_serving(0x2_0000_0000);
    let session = SessionId(0x0300_0000_0000_0001);
    c.set_time(1_000, 10);
    c.step(Input::Forwarded {
        from: ServerId(3),
        req: ForwardedRequest {
            session,
            cxid: 0,
            op: OpCode::CreateSession.code(),
            body: 30_000i32.to_be_bytes().to_vec(),
            auth: vec![],
        },
    });
    let proposed = proposed(&mut c);
    c.set_time(1_004, 14);
    c.step(Input::Committed(proposed));
    assert_eq!(advanced(&c, A::WriteCommitprocTimeMs), (1, 4));
    assert_eq!(advanced(&c, A::ServerWriteCommittedTimeMs).0, 0);
    // Once when it arrived, once when its commit was taken.
    assert_eq!(basic(&c, B::RequestsInSessionQueue), (2, 2));
    assert_eq!(basic(&c, B::SessionQueuesDrained), (1, 1));
    // The pass it entered in, and its commit's: the write waiting in both.
    assert_eq!(basic(&c, B::WriteCommitProcReqQueued), (2, 2));
    assert_eq!(basic(&c, B::PendingSessionQueueSize), (1, 1));
    assert!(c.connless_waiting.is_empty());
    // A learner's request goes straight to the leader's prep processor.
    assert_eq!(advanced(&c, A::RequestThrottleQueueTimeMs).0, 0);
    assert_eq!(
        c.stats
            .recorded
            .counter(super::super::recorded::Counter::PrepProcessorRequestQueued),
        1
    );
}
