//! The pipeline's `ServerMetrics` as a standalone core records them, for request
//! sequences whose values Apache ZooKeeper 3.8.0 gives as well.

use super::core::Core;
use super::recorded::{Advanced, Basic, Counter};
use super::{Action, ConnId, CoreConfig, Input, RequestBody};
use crate::config::Config;
use crate::proto::*;

pub(super) fn core() -> Core {
    Core::new(
        CoreConfig::from_config(&Config::standalone_default(), None),
        1_000,
        0,
        7,
    )
}

/// Steps `input`, then makes whatever it prepared durable; returns the actions.
fn run(c: &mut Core, input: Input) -> Vec<Action> {
    c.step(input);
    let mut all = Vec::new();
    loop {
        let acts = c.take_actions();
        let upto = acts.iter().filter_map(|a| match a {
            Action::Persist { entries } => entries.last().map(|e| e.header.zxid),
            _ => None,
        });
        let upto = upto.max();
        all.extend(acts);
        match upto {
            Some(z) => c.step(Input::Persisted { upto: z }),
            None => return all,
        }
    }
}

pub(super) fn connect(c: &mut Core, conn: ConnId, session_id: i64, passwd: Vec<u8>) -> Vec<Action> {
    c.step(Input::Opened {
        conn,
        peer: "127.0.0.1:5000".parse().unwrap(),
        auth: Vec::new(),
    });
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        timeout_ms: 10_000,
        session_id,
        passwd,
        read_only: None,
    };
    run(
        c,
        Input::Connect {
            conn,
            req,
            bytes: 49,
        },
    )
}

fn req(c: &mut Core, conn: ConnId, xid: i32, r: Request) -> Vec<Action> {
    run(
        c,
        Input::Request {
            conn,
            xid,
            body: RequestBody::Ok(r),
            bytes: 12,
        },
    )
}

fn pw(path: &str, watch: bool) -> PathWatchRequest {
    PathWatchRequest {
        path: path.into(),
        watch,
    }
}

fn create(path: &str) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some(vec![b'x'; 100]),
        acl: Acl::open_unsafe(),
        flags: 0,
    })
}

fn set(path: &str) -> Request {
    Request::SetData(SetDataRequest {
        path: path.into(),
        data: Some(vec![b'y'; 10]),
        version: -1,
    })
}

fn delete(path: &str) -> Request {
    Request::Delete(DeleteRequest {
        path: path.into(),
        version: -1,
    })
}

fn summary(c: &Core, b: Basic) -> (u64, i64) {
    let s = c.stats.recorded.basic(b);
    (s.histogram.count, s.histogram.sum)
}

fn advanced_count(c: &Core, a: Advanced) -> u64 {
    c.stats.recorded.advanced(a).histogram.count
}

/// The workload of the comparison with Java, with `n` nodes: create, setData,
/// getData with a watch and getChildren of `/` per node, then every delete, then
/// closeSession.
fn workload(c: &mut Core, n: i32) {
    connect(c, 1, 0, vec![0; 16]);
    let mut xid = 0;
    let mut next = || {
        xid += 1;
        xid
    };
    for i in 0..n {
        let p = format!("/n{i}");
        req(c, 1, next(), create(&p));
        req(c, 1, next(), set(&p));
        req(c, 1, next(), Request::GetData(pw(&p, true)));
        req(c, 1, next(), Request::GetChildren(pw("/", false)));
    }
    for i in 0..n {
        req(c, 1, next(), delete(&format!("/n{i}")));
    }
    req(c, 1, next(), Request::CloseSession);
}

#[test]
fn the_comparison_workload_gives_javas_prep_and_change_counts() {
    let mut c = core();
    workload(&mut c, 50);
    let r = &c.stats.recorded;
    // Java 3.8.0 for the same workload: 252 requests through prep (200 + 50 deletes +
    // createSession + closeSession), 250 change records (create and delete two each:
    // parent and node; setData one), all removed once applied.
    assert_eq!(r.counter(Counter::PrepProcessorRequestQueued), 252);
    assert_eq!(r.counter(Counter::OutstandingChangesQueued), 250);
    assert_eq!(r.counter(Counter::OutstandingChangesRemoved), 250);
    assert_eq!(summary(&c, Basic::PrepProcessorQueueSize), (253, 0));
    assert_eq!(summary(&c, Basic::PrepProcessTime), (252, 0));
    assert_eq!(summary(&c, Basic::ProposalProcessTime), (252, 0));
    assert_eq!(advanced_count(&c, Advanced::PrepProcessorQueueTimeMs), 252);
    assert_eq!(advanced_count(&c, Advanced::CloseSessionPrepTime), 1);
    // One txn per write, createSession and closeSession.
    assert_eq!(advanced_count(&c, Advanced::PropagationLatency), 152);
    assert_eq!(r.counter(Counter::ConnectionRequestCount), 1);
    assert_eq!(summary(&c, Basic::ConnectionTokenDeficit), (1, 0));
    assert_eq!(r.counter(Counter::ConnectionRevalidateCount), 0);
    // Each getData watch fires on the delete; no other table has a watcher.
    assert_eq!(summary(&c, Basic::NodeDeletedWatchCount), (50, 50));
    assert_eq!(summary(&c, Basic::NodeChangedWatchCount), (0, 0));
    assert_eq!(summary(&c, Basic::NodeChildrenWatchCount), (0, 0));
    // Each getData reads a node last read never: a miss; getChildren is not cached.
    assert_eq!(r.counter(Counter::ResponsePacketCacheMisses), 50);
    assert_eq!(r.counter(Counter::ResponsePacketCacheHits), 0);
    assert_eq!(r.counter(Counter::ResponsePacketGetChildrenCacheMisses), 0);
    assert_eq!(r.counter(Counter::StaleReplies), 0);
    // The connect frame and every request frame as read.
    assert_eq!(r.counter(Counter::BytesReceivedCount), 49 + 251 * 12);
}

#[test]
fn propagation_latency_is_wall_time_since_the_txn_was_stamped() {
    let mut c = core();
    connect(&mut c, 1, 0, vec![0; 16]);
    c.step(Input::Request {
        conn: 1,
        xid: 1,
        body: RequestBody::Ok(create("/a")),
        bytes: 0,
    });
    let acts = c.take_actions();
    c.set_time(1_000 + 25, 25);
    for a in acts {
        if let Action::Persist { entries } = a {
            c.step(Input::Persisted {
                upto: entries[0].header.zxid,
            });
        }
    }
    let s = c.stats.recorded.advanced(Advanced::PropagationLatency);
    assert_eq!((s.histogram.count, s.max), (2, 25));
}

#[test]
fn the_response_cache_hits_while_the_node_is_unchanged() {
    let mut c = core();
    connect(&mut c, 1, 0, vec![0; 16]);
    req(&mut c, 1, 1, create("/a"));
    req(&mut c, 1, 2, Request::GetData(pw("/a", false)));
    req(&mut c, 1, 3, Request::GetData(pw("/a", false)));
    req(&mut c, 1, 4, Request::GetChildren2(pw("/", false)));
    req(&mut c, 1, 5, Request::GetChildren2(pw("/", false)));
    req(&mut c, 1, 6, set("/a"));
    req(&mut c, 1, 7, Request::GetData(pw("/a", false)));
    // A failed read is not serialized through the cache.
    req(&mut c, 1, 8, Request::GetData(pw("/nope", false)));
    let r = &c.stats.recorded;
    assert_eq!(
        (
            r.counter(Counter::ResponsePacketCacheHits),
            r.counter(Counter::ResponsePacketCacheMisses)
        ),
        (1, 2)
    );
    let children = (
        r.counter(Counter::ResponsePacketGetChildrenCacheHits),
        r.counter(Counter::ResponsePacketGetChildrenCacheMisses),
    );
    assert_eq!(children, (1, 1));
}

#[test]
fn watch_counts_are_per_table_and_event_and_skip_events_nobody_watched() {
    let mut c = core();
    connect(&mut c, 1, 0, vec![0; 16]);
    connect(&mut c, 2, 0, vec![0; 16]);
    req(&mut c, 1, 1, Request::Exists(pw("/a", true)));
    req(&mut c, 2, 1, Request::Exists(pw("/a", true)));
    req(&mut c, 1, 2, Request::GetChildren(pw("/", true)));
    req(&mut c, 1, 3, create("/a"));
    req(&mut c, 1, 4, Request::GetData(pw("/a", true)));
    req(&mut c, 2, 2, Request::GetChildren(pw("/a", true)));
    req(&mut c, 1, 5, delete("/a"));
    req(&mut c, 1, 6, create("/b"));
    assert_eq!(summary(&c, Basic::NodeCreatedWatchCount), (1, 2));
    assert_eq!(summary(&c, Basic::NodeChildrenWatchCount), (1, 1));
    // The delete: one data watcher, then one child watcher, each table on its own.
    assert_eq!(summary(&c, Basic::NodeDeletedWatchCount), (2, 2));
    assert_eq!(summary(&c, Basic::NodeChangedWatchCount), (0, 0));
}

#[test]
fn reconnects_count_as_revalidations_and_expiries_as_stale_sessions() {
    let mut c = core();
    let acts = connect(&mut c, 1, 0, vec![0; 16]);
    assert!(acts.contains(&Action::Established { conn: 1 }));
    let session = c.conns[&1].session.unwrap();
    let passwd = crate::session::session_password(session).to_vec();
    connect(&mut c, 2, session.0, passwd);
    connect(&mut c, 3, session.0, vec![1; 16]);
    let r = &c.stats.recorded;
    assert_eq!(
        (
            r.counter(Counter::ConnectionRequestCount),
            r.counter(Counter::ConnectionRevalidateCount)
        ),
        (3, 2)
    );
    assert_eq!(summary(&c, Basic::ConnectionTokenDeficit), (3, 0));
    let before = c
        .stats
        .recorded
        .counter(Counter::PrepProcessorRequestQueued);
    c.set_time(1_000 + 60_000, 60_000);
    run(&mut c, Input::Tick);
    let r = &c.stats.recorded;
    assert_eq!(r.counter(Counter::StaleSessionsExpired), 1);
    // The expiry's closeSession goes through prep like a client's.
    assert_eq!(r.counter(Counter::PrepProcessorRequestQueued), before + 1);
    assert_eq!(advanced_count(&c, Advanced::CloseSessionPrepTime), 1);
}

#[test]
fn replies_for_closed_connections_are_stale() {
    let mut c = core();
    connect(&mut c, 1, 0, vec![0; 16]);
    c.step(Input::Request {
        conn: 1,
        xid: 1,
        body: RequestBody::Ok(create("/a")),
        bytes: 0,
    });
    c.step(Input::Request {
        conn: 1,
        xid: 2,
        body: RequestBody::Ok(Request::Ping),
        bytes: 0,
    });
    c.step(Input::Request {
        conn: 1,
        xid: 3,
        body: RequestBody::Ok(Request::Exists(pw("/a", false))),
        bytes: 0,
    });
    let acts = c.take_actions();
    c.step(Input::Closed { conn: 1 });
    for a in acts {
        if let Action::Persist { entries } = a {
            c.step(Input::Persisted {
                upto: entries[0].header.zxid,
            });
        }
    }
    // The create's reply and the two reads queued behind it.
    assert_eq!(c.stats.recorded.counter(Counter::StaleReplies), 3);
}

#[test]
fn auth_packets_do_not_enter_prep_and_learners_have_no_prep() {
    let mut c = core();
    connect(&mut c, 1, 0, vec![0; 16]);
    let before = c
        .stats
        .recorded
        .counter(Counter::PrepProcessorRequestQueued);
    req(
        &mut c,
        1,
        -4,
        Request::Auth(AuthPacket {
            auth_type: 0,
            scheme: "digest".into(),
            auth: b"u:p".to_vec(),
        }),
    );
    req(&mut c, 1, 1, Request::Ping);
    assert_eq!(
        c.stats
            .recorded
            .counter(Counter::PrepProcessorRequestQueued),
        before + 1
    );

    let mut l = core();
    l.set_role(super::Role::Following);
    l.start_serving(0);
    connect(&mut l, 1, 0, vec![0; 16]);
    assert_eq!(
        l.stats
            .recorded
            .counter(Counter::PrepProcessorRequestQueued),
        0
    );
    assert_eq!(l.stats.recorded.counter(Counter::ConnectionRequestCount), 1);
}

#[test]
fn a_connect_request_is_counted_as_bytes_received_only_while_serving() {
    // `NIOServerCnxn.readLength` closes the connection of a server that is not running
    // before its packet is counted.
    let mut l = core();
    l.set_role(super::Role::Following);
    connect(&mut l, 1, 0, vec![0; 16]);
    assert_eq!(l.stats.recorded.counter(Counter::BytesReceivedCount), 0);
    l.start_serving(0);
    connect(&mut l, 2, 0, vec![0; 16]);
    assert_eq!(l.stats.recorded.counter(Counter::BytesReceivedCount), 49);
}

fn create_with(path: &str, data: &str) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some(data.as_bytes().to_vec()),
        acl: Acl::open_unsafe(),
        flags: 0,
    })
}

#[test]
fn quotas_are_reported_per_namespace_and_hard_limit_rejections_counted() {
    // As zkCli's `setquota -N 2 /app` leaves the tree, with the stats node refreshed by
    // the server when created.
    let mut cfg = CoreConfig::from_config(&Config::standalone_default(), None);
    cfg.enforce_quota = true;
    let mut c = Core::new(cfg, 1_000, 0, 7);
    connect(&mut c, 1, 0, vec![0; 16]);
    let writes = [
        create("/app"),
        create_with("/zookeeper/quota/app", ""),
        create_with(
            "/zookeeper/quota/app/zookeeper_limits",
            "count=-1,bytes=-1,countHardLimit=2",
        ),
        create_with("/zookeeper/quota/app/zookeeper_stats", "count=0,bytes=0"),
        create("/app/a"),
        create("/app/b"),
        create("/other"),
    ];
    let mut replies = Vec::new();
    for (xid, w) in (1..).zip(writes) {
        replies.push(req(&mut c, 1, xid, w));
    }
    let rejected = |acts: &[Action]| {
        acts.iter().any(|a| {
            matches!(a, Action::Send { frame, .. }
                if frame.get(16..20) == Some(&ErrorCode::QuotaExceeded.code().to_be_bytes()[..]))
        })
    };
    assert!(!rejected(&replies[4]), "the second node of two is allowed");
    assert!(rejected(&replies[5]), "the third is over the hard limit");

    let snap = c.snapshot_stats();
    let app = |v: &[(String, i64)]| v.to_vec();
    assert_eq!(app(&snap.quota.count_limit), vec![("app".to_string(), 2)]);
    assert_eq!(app(&snap.quota.bytes_limit), vec![("app".to_string(), -1)]);
    assert_eq!(app(&snap.quota.count_usage), vec![("app".to_string(), 2)]);
    assert_eq!(app(&snap.quota.bytes_usage), vec![("app".to_string(), 200)]);
    assert_eq!(c.stats.quota_exceeded, vec![("app".to_string(), 1)]);

    // `srst` zeroes the counter set and keeps its keys (`SimpleCounterSet.reset`).
    c.stats.reset();
    assert_eq!(c.stats.quota_exceeded, vec![("app".to_string(), 0)]);
}

#[test]
fn a_closed_sessions_ephemerals_count_as_writes_per_namespace_watched_or_not() {
    let mut c = core();
    connect(&mut c, 1, 0, vec![0; 16]);
    req(&mut c, 1, 1, create("/app"));
    for (xid, name) in [(2, "/app/e"), (3, "/app/watched")] {
        req(
            &mut c,
            1,
            xid,
            Request::Create(CreateRequest {
                path: name.into(),
                data: None,
                acl: Acl::open_unsafe(),
                flags: CreateMode::Ephemeral.flag(),
            }),
        );
    }
    connect(&mut c, 2, 0, vec![0; 16]);
    req(&mut c, 2, 1, Request::Exists(pw("/app/watched", true)));
    let before = c
        .stats
        .write_per_namespace
        .get("app")
        .map(|s| s.histogram.count);
    req(&mut c, 1, 4, Request::CloseSession);
    let after = c.stats.write_per_namespace.get("app").expect("app");
    assert_eq!(before, Some(3));
    // `DataTree.killSession` counts each deleted ephemeral's path length: the creates
    // (path + data: 4 + 100, 6, 12), then both deletions (6, 12).
    assert_eq!(after.histogram.count, 5);
    assert_eq!(after.histogram.sum, (4 + 100) + 6 + 12 + 6 + 12);
}

#[test]
fn a_connection_the_server_is_closing_is_no_longer_listed_nor_its_watches() {
    let mut c = core();
    connect(&mut c, 1, 0, vec![0; 16]);
    connect(&mut c, 2, 0, vec![0; 16]);
    req(&mut c, 1, 1, Request::Exists(pw("/w", true)));
    let listed = |c: &mut Core| {
        let s = c.answer_query(super::four_letter::Query::snapshot());
        (s.connections.len(), s.watch_count)
    };
    assert_eq!(listed(&mut c), (2, 1));
    let acts = req(&mut c, 1, 2, Request::CloseSession);
    assert!(acts.contains(&Action::Close { conn: 1 }));
    // Java's `removeCnxn` comes before the socket closes: `cons`, `stat`,
    // `num_alive_connections` and the watch counts drop it at once, not when the
    // socket's reader ends.
    assert_eq!(listed(&mut c), (1, 0));
}
