//! Every txn a core prepares carries the tree digest it leaves, so a server that applies
//! it (a follower, a restart replaying the log) finds its own tree agreeing, also when
//! several writes are prepared before any is applied.

use super::core::Core;
use super::measured_tests::core;
use super::{Action, ConnId, CoreConfig, Input, RequestBody};
use crate::config::Config;
use crate::proto::*;
use crate::tree::DataTree;

/// Steps each input without persisting in between, then persists everything prepared,
/// until nothing is left; returns the entries, in order.
fn batch(c: &mut Core, inputs: Vec<Input>) -> Vec<TxnEntry> {
    for input in inputs {
        c.step(input);
    }
    let mut logged = Vec::new();
    loop {
        let entries = persisted(c.take_actions());
        let Some(last) = entries.last() else {
            return logged;
        };
        c.step(Input::Persisted {
            upto: last.header.zxid,
        });
        logged.extend(entries);
    }
}

/// A new session on `conn`; returns its createSession entry.
fn open(c: &mut Core, conn: ConnId) -> Vec<TxnEntry> {
    persisted(super::measured_tests::connect(c, conn, 0, vec![0; 16]))
}

/// The entries of the `Persist` actions among `actions`, in order.
fn persisted(actions: Vec<Action>) -> Vec<TxnEntry> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::Persist { entries } => Some(entries),
            _ => None,
        })
        .flatten()
        .map(|e| TxnEntry::clone(&e))
        .collect()
}

fn request(conn: ConnId, xid: i32, r: Request) -> Input {
    Input::Request {
        conn,
        xid,
        body: RequestBody::Ok(r),
        bytes: 40,
    }
}

fn create(path: &str, data: &[u8], flags: i32) -> Request {
    Request::Create(CreateRequest {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: Acl::open_unsafe(),
        flags,
    })
}

fn set(path: &str, data: &[u8]) -> Request {
    Request::SetData(SetDataRequest {
        path: path.into(),
        data: Some(data.to_vec()),
        version: -1,
    })
}

fn delete(path: &str) -> Request {
    Request::Delete(DeleteRequest {
        path: path.into(),
        version: -1,
    })
}

fn workload(c: &mut Core) -> Vec<TxnEntry> {
    let mut log = open(c, 1);
    log.extend(open(c, 2));
    // Pipelined: each write is prepared against the ones before it, none applied yet.
    log.extend(batch(
        c,
        vec![
            request(1, 1, create("/a", b"one", 0)),
            request(1, 2, create("/a/b", b"", 0)),
            request(1, 3, set("/a", b"two")),
            request(1, 4, set("/a/b", b"three")),
            request(
                1,
                5,
                Request::SetAcl(SetAclRequest {
                    path: "/a".into(),
                    acl: Acl::open_unsafe(),
                    version: -1,
                }),
            ),
            request(1, 6, create("/a/seq-", b"s", 2)),
            request(1, 7, create("/", b"", 0)),
            request(2, 1, create("/eph", b"e", 1)),
            request(2, 2, create("/a/eph", b"", 1)),
            request(1, 8, delete("/a/b")),
            request(1, 9, set("/zookeeper", b"z")),
            request(1, 10, create("/zookeeper/x", b"excluded", 0)),
            request(
                1,
                11,
                Request::CreateContainer(CreateRequest {
                    path: "/c".into(),
                    data: Some(b"c".to_vec()),
                    acl: Acl::open_unsafe(),
                    flags: 4,
                }),
            ),
            request(1, 12, create("/c/child", b"", 0)),
        ],
    ));
    // A multi that fails leaves the digest as it was; one that passes moves it.
    log.extend(batch(
        c,
        vec![
            request(
                1,
                13,
                Request::Multi(vec![create("/m", b"m", 0), set("/nope", b"")]),
            ),
            request(
                1,
                14,
                Request::Multi(vec![
                    create("/m", b"m", 0),
                    set("/m", b"n"),
                    delete("/a/seq-0000000002"),
                ]),
            ),
            request(1, 15, set("/m", b"o")),
            request(1, 16, delete("/c/child")),
        ],
    ));
    // closeSession deletes the session's ephemerals, a pending write to one of them first.
    log.extend(batch(
        c,
        vec![
            request(2, 3, set("/eph", b"f")),
            request(2, 4, Request::CloseSession),
        ],
    ));
    log
}

#[test]
fn every_txn_carries_the_digest_its_tree_has_once_applied() {
    let mut c = core();
    let log = workload(&mut c);
    assert!(log.len() > 20, "{}", log.len());
    let mut replica = DataTree::new();
    for e in &log {
        let d = e.digest.expect("a digest on every txn");
        assert_eq!(d.version, crate::tree::DIGEST_VERSION);
        replica.apply_with_digest(&e.header, &e.txn, e.digest, true);
        assert_eq!(d.tree_digest, replica.digest(), "after {:?}", e.txn);
    }
    assert_eq!(replica.digest_mismatches(), 0);
    assert_eq!(replica.digest(), c.tree.digest());
    let counted = c
        .stats
        .recorded
        .counter(super::recorded::Counter::DigestMismatchesCount);
    assert_eq!(counted, 0);
}

#[test]
fn a_container_flag_on_a_plain_create_gives_the_mismatch_java_gives() {
    // `pRequest2TxnCreate` makes a plain CreateTxn but hashes the node with the
    // container owner, so the digest never matches the applied tree.
    let mut c = core();
    let mut log = open(&mut c, 1);
    log.extend(batch(&mut c, vec![request(1, 1, create("/c", b"", 4))]));
    let mut replica = DataTree::new();
    for e in &log {
        replica.apply_with_digest(&e.header, &e.txn, e.digest, true);
    }
    assert_eq!(replica.digest_mismatches(), 1);
    // The server applying it counts it too (`digest_mismatches_count`).
    let counted = c
        .stats
        .recorded
        .counter(super::recorded::Counter::DigestMismatchesCount);
    assert_eq!(counted, 1);
}

#[test]
fn no_digest_when_digests_are_off() {
    let mut cfg = CoreConfig::from_config(&Config::standalone_default(), None);
    cfg.digest_enabled = false;
    let mut c = Core::new(cfg, 1_000, 0, 7);
    let mut log = open(&mut c, 1);
    log.extend(batch(&mut c, vec![request(1, 1, create("/a", b"", 0))]));
    assert!(!log.is_empty());
    assert!(log.iter().all(|e| e.digest.is_none()));
}
