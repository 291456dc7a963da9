//! Behaviour of `DataTree` txn by txn: Stat effects, watch triggers, multi, sessions
//! and fuzzy-replay failures. Shared helpers for `scenario_tests`.

use crate::proto::{Acl, CreateTxn, ErrorCode, EventType, SetAclTxn, SetDataTxn, Txn, TxnHeader};

use super::{DataTree, TxnResult};

pub(super) const SESSION: i64 = 0x100_0000_0000_0001;

pub(super) fn hdr(zxid: i64) -> TxnHeader {
    TxnHeader {
        client_id: SESSION,
        cxid: 1,
        zxid,
        time: 1000 + zxid,
    }
}

pub(super) fn create_txn(
    path: &str,
    data: &[u8],
    ephemeral: bool,
    parent_cversion: i32,
) -> CreateTxn {
    CreateTxn {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: Acl::open_unsafe(),
        ephemeral,
        parent_cversion,
    }
}

pub(super) fn create(path: &str, data: &[u8]) -> Txn {
    Txn::Create(create_txn(path, data, false, -1))
}

pub(super) fn set_data(path: &str, data: &[u8], version: i32) -> Txn {
    Txn::SetData(SetDataTxn {
        path: path.into(),
        data: Some(data.to_vec()),
        version,
    })
}

/// Applies `txns` from zxid 1 on; returns the tree and the next zxid.
pub(super) fn tree_with(txns: &[Txn]) -> (DataTree, i64) {
    let mut tree = DataTree::with_extended_types(true);
    let mut zxid = 1;
    for t in txns {
        let out = tree.apply(&hdr(zxid), t);
        assert!(out.result.err().is_ok(), "{t:?}: {:?}", out.result);
        zxid += 1;
    }
    (tree, zxid)
}

pub(super) fn ev(path: &str, e: EventType) -> (String, EventType) {
    (path.to_string(), e)
}

#[test]
fn fresh_tree_shows_the_java_system_nodes() {
    let tree = DataTree::new();
    assert_eq!(tree.stat("/").unwrap().cversion, -1);
    assert_eq!(tree.stat("/zookeeper").unwrap().cversion, -2);
    let (acl, stat) = tree.acl_and_stat("/zookeeper/config").unwrap();
    assert_eq!(acl, Acl::read_unsafe());
    assert_eq!(
        (stat.aversion, stat.version, stat.czxid, stat.mzxid),
        (-1, 0, 0, 0)
    );
    assert_eq!(tree.get("/zookeeper/config").unwrap().acl_ref(), 1);
    assert_eq!(tree.get("/").unwrap().acl_ref(), -1);
    assert_eq!(tree.data_and_stat("/").unwrap().0, Some(&b""[..]));
    assert_eq!(tree.node_count(), 5);
    assert_eq!(tree.all_children_number("/"), 3);
    assert_eq!(
        tree.all_children_number(""),
        4,
        "the prefix / also matches Java's second root entry"
    );
    assert_eq!(tree.all_children_number("/zookeeper"), 2);
}

#[test]
fn create_sets_child_and_parent_stats_and_fires_created_then_children_changed() {
    let (mut tree, _) = tree_with(&[create("/a", b"x")]);
    let out = tree.apply(
        &hdr(7),
        &Txn::Create2(create_txn("/a/b", b"hello", false, 1)),
    );
    let TxnResult::Created { path, stat } = out.result else {
        panic!("{:?}", out.result)
    };
    assert_eq!(path, "/a/b");
    assert_eq!(
        (stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime),
        (7, 7, 7, 1007, 1007)
    );
    assert_eq!(
        (stat.version, stat.cversion, stat.aversion, stat.data_length),
        (0, 0, 0, 5)
    );
    assert_eq!(
        out.events,
        vec![
            ev("/a/b", EventType::NodeCreated),
            ev("/a", EventType::NodeChildrenChanged)
        ]
    );
    let parent = tree.get("/a").unwrap();
    assert_eq!((parent.stat().cversion, parent.stat().pzxid), (1, 7));
    let root_events = tree.apply(&hdr(8), &create("/r", b"")).events;
    assert_eq!(root_events[1], ev("/", EventType::NodeChildrenChanged));
}

#[test]
fn without_kept_events_a_txn_applies_the_same_and_lists_no_trigger() {
    let txns = [
        create("/a", b"x"),
        create("/a/b", b""),
        set_data("/a", b"y", 1),
        Txn::Delete("/a/b".into()),
    ];
    let (mut kept, mut dropped) = (DataTree::new(), DataTree::new());
    for (i, txn) in txns.iter().enumerate() {
        let h = hdr(i as i64 + 1);
        let with = kept.apply_keeping(&h, txn, true);
        let without = dropped.apply_keeping(&h, txn, false);
        assert!(!with.events.is_empty());
        assert!(without.events.is_empty());
        assert_eq!(with.result, without.result);
        assert_eq!(kept.digest(), dropped.digest());
    }
}

#[test]
fn cversion_counts_creates_and_client_sees_creates_plus_deletes() {
    let (mut tree, _) = tree_with(&[
        create("/a", b""),
        create("/a/1", b""),
        create("/a/2", b""),
        create("/a/3", b""),
    ]);
    let out = tree.apply(&hdr(9), &Txn::Delete("/a/2".into()));
    assert_eq!(out.result, TxnResult::Deleted);
    assert_eq!(
        out.events,
        vec![
            ev("/a/2", EventType::NodeDeleted),
            ev("/a", EventType::NodeChildrenChanged)
        ]
    );
    let node = tree.get("/a").unwrap();
    assert_eq!(node.stat().cversion, 3);
    let stat = tree.stat("/a").unwrap();
    assert_eq!((stat.cversion, stat.num_children, stat.pzxid), (4, 2, 9));
}

#[test]
fn explicit_parent_cversion_never_moves_the_counter_back() {
    let (mut tree, _) = tree_with(&[
        create("/a", b""),
        Txn::Create(create_txn("/a/x", b"", false, 5)),
    ]);
    assert_eq!(tree.get("/a").unwrap().stat().cversion, 5);
    tree.apply(&hdr(10), &Txn::Create(create_txn("/a/y", b"", false, 2)));
    let parent = *tree.get("/a").unwrap().stat();
    assert_eq!((parent.cversion, parent.pzxid), (5, 2));
    assert!(tree.get("/a/y").is_some());
}

#[test]
fn set_data_bumps_version_mzxid_mtime_and_keeps_null_distinct() {
    let (mut tree, _) = tree_with(&[create("/a", b"abc")]);
    let out = tree.apply(
        &hdr(5),
        &Txn::SetData(SetDataTxn {
            path: "/a".into(),
            data: None,
            version: 1,
        }),
    );
    let TxnResult::SetData { stat } = out.result else {
        panic!()
    };
    assert_eq!(
        (
            stat.version,
            stat.mzxid,
            stat.mtime,
            stat.czxid,
            stat.data_length
        ),
        (1, 5, 1005, 1, 0)
    );
    assert_eq!(out.events, vec![ev("/a", EventType::NodeDataChanged)]);
    assert_eq!(tree.data_and_stat("/a").unwrap().0, None);
    assert_eq!(tree.approximate_data_size(), tree.computed_data_size());
}

#[test]
fn reconfig_sets_the_config_node() {
    let mut tree = DataTree::new();
    let txn = Txn::Reconfig(SetDataTxn {
        path: "/zookeeper/config".into(),
        data: Some(b"server.1=h:1:2".to_vec()),
        version: -1,
    });
    let out = tree.apply(&hdr(3), &txn);
    assert_eq!(
        out.events,
        vec![ev("/zookeeper/config", EventType::NodeDataChanged)]
    );
    let (data, stat) = tree.data_and_stat("/zookeeper/config").unwrap();
    assert_eq!(
        (data, stat.version, stat.mzxid),
        (Some(&b"server.1=h:1:2"[..]), -1, 3)
    );
}

#[test]
fn set_acl_changes_aversion_and_acl_ref_only() {
    let (mut tree, _) = tree_with(&[create("/a", b"")]);
    let before = tree.stat("/a").unwrap();
    let digest_acl = vec![Acl::new(31, "digest", "u:h")];
    let out = tree.apply(
        &hdr(4),
        &Txn::SetAcl(SetAclTxn {
            path: "/a".into(),
            acl: digest_acl.clone(),
            version: 1,
        }),
    );
    let TxnResult::SetAcl { stat } = out.result else {
        panic!()
    };
    assert_eq!(
        stat,
        crate::proto::Stat {
            aversion: 1,
            ..before
        }
    );
    assert!(out.events.is_empty());
    assert_eq!(tree.acl_and_stat("/a").unwrap().0, digest_acl);
    // open ACL (key 2) lost its only use; the new list gets the next key.
    assert_eq!(tree.get("/a").unwrap().acl_ref(), 3);
    assert!(tree.acl_cache().get(2).is_none());
}

#[test]
fn check_session_and_error_txns_change_nothing() {
    let (mut tree, _) = tree_with(&[create("/a", b"")]);
    let digest = tree.digest();
    assert_eq!(
        tree.apply(
            &hdr(5),
            &Txn::Check {
                path: "/a".into(),
                version: 0
            }
        )
        .result,
        TxnResult::Checked
    );
    assert_eq!(
        tree.apply(&hdr(6), &Txn::CreateSession { timeout_ms: 30000 })
            .result,
        TxnResult::SessionCreated
    );
    assert_eq!(
        tree.apply(&hdr(7), &Txn::Error(ErrorCode::NodeExists))
            .result,
        TxnResult::Error(ErrorCode::NodeExists)
    );
    assert_eq!(tree.digest(), digest);
    assert_eq!(tree.last_processed_zxid(), 7);
}

#[test]
fn close_session_deletes_listed_then_remaining_ephemerals() {
    let (mut tree, _) = tree_with(&[
        create("/a", b""),
        Txn::Create(create_txn("/a/e1", b"", true, -1)),
        Txn::Create(create_txn("/e2", b"", true, -1)),
        Txn::Create(create_txn("/e3", b"", true, -1)),
    ]);
    assert_eq!(tree.ephemerals(SESSION), vec!["/a/e1", "/e2", "/e3"]);
    assert_eq!(tree.stat("/e2").unwrap().ephemeral_owner, SESSION);
    let out = tree.apply(
        &hdr(9),
        &Txn::CloseSession(Some(vec!["/e3".into(), "/gone".into()])),
    );
    assert_eq!(out.result, TxnResult::SessionClosed);
    assert_eq!(
        out.events,
        vec![
            ev("/e3", EventType::NodeDeleted),
            ev("/", EventType::NodeChildrenChanged),
            ev("/a/e1", EventType::NodeDeleted),
            ev("/a", EventType::NodeChildrenChanged),
            ev("/e2", EventType::NodeDeleted),
            ev("/", EventType::NodeChildrenChanged),
        ]
    );
    assert!(tree.ephemerals(SESSION).is_empty());
    assert!(tree.ephemerals_by_session().is_empty());
    assert_eq!(tree.stat("/").unwrap().pzxid, 9);
}

#[test]
fn close_session_without_a_record_deletes_everything_the_session_owns() {
    let (mut tree, _) = tree_with(&[Txn::Create(create_txn("/e", b"", true, -1))]);
    assert_eq!(tree.ephemerals_count(), 1);
    tree.apply(&hdr(5), &Txn::CloseSession(None));
    assert!(tree.get("/e").is_none());
    assert_eq!(tree.ephemerals_count(), 0);
}

#[test]
fn deleting_an_ephemeral_leaves_its_session_listed_empty() {
    let (mut tree, _) = tree_with(&[Txn::Create(create_txn("/e", b"", true, -1))]);
    tree.apply(&hdr(5), &Txn::Delete("/e".into()));
    assert_eq!(
        tree.ephemerals_by_session().get(&SESSION).map(|s| s.len()),
        Some(0)
    );
}

#[test]
fn failed_multi_applies_nothing_and_reports_ok_error_then_runtime_inconsistency() {
    let (mut tree, _) = tree_with(&[create("/a", b"")]);
    let digest = tree.digest();
    let multi = Txn::Multi(vec![
        create("/m", b""),
        Txn::Error(ErrorCode::NoNode),
        Txn::Error(ErrorCode::RuntimeInconsistency),
        set_data("/a", b"z", 1),
    ]);
    let out = tree.apply(&hdr(5), &multi);
    assert_eq!(
        out.result,
        TxnResult::Multi(vec![
            TxnResult::Error(ErrorCode::Ok),
            TxnResult::Error(ErrorCode::NoNode),
            TxnResult::Error(ErrorCode::RuntimeInconsistency),
            TxnResult::Error(ErrorCode::RuntimeInconsistency),
        ])
    );
    assert_eq!(out.result.err(), ErrorCode::NoNode);
    assert!(out.events.is_empty());
    assert!(tree.get("/m").is_none());
    assert_eq!(tree.digest(), digest);
}

#[test]
fn successful_multi_applies_in_order_with_one_zxid() {
    let mut tree = DataTree::new();
    let multi = Txn::Multi(vec![
        create("/m", b"m"),
        Txn::Check {
            path: "/m".into(),
            version: 0,
        },
        set_data("/m", b"m2", 1),
        create("/m/k", b""),
    ]);
    let out = tree.apply(&hdr(15), &multi);
    let TxnResult::Multi(subs) = &out.result else {
        panic!()
    };
    assert!(matches!(subs[0], TxnResult::Created { .. }));
    assert_eq!(subs[1], TxnResult::Checked);
    assert!(
        matches!(subs[2], TxnResult::SetData { stat } if stat.version == 1 && stat.mzxid == 15)
    );
    assert_eq!(out.events.len(), 5);
    let stat = tree.stat("/m").unwrap();
    assert_eq!((stat.czxid, stat.pzxid, stat.cversion), (15, 15, 1));
}

#[test]
fn replayed_create_of_an_existing_node_still_advances_the_parent() {
    let (mut tree, _) = tree_with(&[create("/a", b""), create("/a/x", b"")]);
    let out = tree.apply(&hdr(9), &Txn::Create(create_txn("/a/x", b"", false, 4)));
    assert_eq!(out.result, TxnResult::Error(ErrorCode::NodeExists));
    assert!(out.events.is_empty());
    let parent = *tree.get("/a").unwrap().stat();
    assert_eq!((parent.cversion, parent.pzxid), (4, 9));
    // create2 replays do not get that fix-up (Java checks for type 1 only).
    tree.apply(&hdr(10), &Txn::Create2(create_txn("/a/x", b"", false, 8)));
    assert_eq!(tree.get("/a").unwrap().stat().cversion, 4);
}

#[test]
fn replayed_delete_of_a_missing_node_still_moves_parent_pzxid() {
    let (mut tree, _) = tree_with(&[create("/a", b"")]);
    let out = tree.apply(&hdr(9), &Txn::Delete("/a/none".into()));
    assert_eq!(out.result, TxnResult::Error(ErrorCode::NoNode));
    assert!(out.events.is_empty());
    assert_eq!(tree.get("/a").unwrap().stat().pzxid, 9);
    assert_eq!(tree.digest(), tree.recomputed_digest());
    assert_eq!(
        tree.apply(&hdr(10), &Txn::Delete("/none/x".into())).result,
        TxnResult::Error(ErrorCode::NoNode)
    );
    assert_eq!(
        tree.apply(&hdr(11), &set_data("/none", b"", 1)).result,
        TxnResult::Error(ErrorCode::NoNode)
    );
}

#[test]
fn failed_create_still_counts_an_acl_use() {
    let acl = vec![Acl::new(1, "digest", "u:h")];
    let mut txn = create_txn("/a", b"", false, -1);
    txn.acl = acl.clone();
    let (mut tree, _) = tree_with(&[Txn::Create(txn.clone())]);
    let key = tree.get("/a").unwrap().acl_ref();
    tree.apply(&hdr(5), &Txn::Create(txn));
    assert_eq!(tree.acl_cache().usage(key), 2);
}
