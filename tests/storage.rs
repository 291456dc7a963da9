//! Durability through restarts on one dataDir: data, Stat and ACL survive, sessions are
//! restored and expire, snapshots follow snapCount, a torn log tail is cut, damage in
//! the middle of a log refuses the start, naming file and offset.

mod support;

use rzk::config::{zoo_cfg, Config};
use rzk::launch::{self, Running};
use rzk::proto::*;
use rzk::storage::datadir::{list, LOG_PREFIX, SNAPSHOT_PREFIX};
use rzk::storage::txnlog::format::{scan, LogEnd};
use rzk::storage::{recover, StorageConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;

fn fresh_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "rzk-storage-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config(dir: &Path, extra: &str) -> Config {
    let text = format!(
        "tickTime=200\ndataDir={}\nclientPort=0\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\npreAllocSize=64\n{extra}\n",
        dir.display()
    );
    Config::from_entries("test.cfg", &zoo_cfg::parse(&text), &BTreeMap::new()).unwrap()
}

async fn start(dir: &Path, extra: &str) -> Running {
    Running::start(config(dir, extra), None)
        .await
        .expect("server starts")
}

/// Starts and expects the start to fail; returns the error text.
async fn start_error(dir: &Path) -> String {
    let cfg = config(dir, "");
    let listener = launch::bind(&cfg).await.unwrap();
    let r = tokio::time::timeout(
        WAIT,
        launch::serve(cfg, None, listener, std::future::pending()),
    )
    .await;
    match r {
        Ok(Err(e)) => e.to_string(),
        other => panic!("server started: {other:?}"),
    }
}

async fn snapshot_of(c: &mut Client, path: &str) -> (Option<Vec<u8>>, Stat, Vec<Acl>) {
    let data = c
        .get_data(path, false)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e:?}"));
    let (_, acl) = c
        .call(Request::GetAcl(PathRequest { path: path.into() }))
        .await;
    let Response::GetAcl { acl, .. } = acl else {
        panic!("{acl:?}")
    };
    (data.data, data.stat, acl)
}

fn log_files(dir: &Path) -> Vec<PathBuf> {
    list(&dir.join("version-2"), LOG_PREFIX)
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect()
}

#[tokio::test]
async fn data_stat_and_acl_survive_a_restart() {
    let dir = fresh_dir();
    let srv = start(&dir, "").await;
    let mut c = Client::connect(srv.addr).await;
    c.create("/a", b"one", 0).await;
    c.create("/a/s-", b"", 2).await;
    c.call(Request::SetData(SetDataRequest {
        path: "/a".into(),
        data: Some(b"two".to_vec()),
        version: -1,
    }))
    .await;
    let acl = vec![Acl::new(
        perms::READ | perms::WRITE | perms::CREATE,
        "world",
        "anyone",
    )];
    c.call(Request::SetAcl(SetAclRequest {
        path: "/a".into(),
        acl,
        version: -1,
    }))
    .await;
    let before = (
        snapshot_of(&mut c, "/a").await,
        snapshot_of(&mut c, "/a/s-0000000000").await,
    );
    c.close().await;
    srv.stop().await;

    let srv = start(&dir, "").await;
    let mut c = Client::connect(srv.addr).await;
    let after = (
        snapshot_of(&mut c, "/a").await,
        snapshot_of(&mut c, "/a/s-0000000000").await,
    );
    assert_eq!(before, after);
    let (e, path) = c.create("/a/s-", b"", 2).await;
    assert_eq!((e, path.as_str()), (ErrorCode::Ok, "/a/s-0000000001"));
    srv.stop().await;
}

#[tokio::test]
async fn a_restored_session_keeps_its_ephemeral_then_expires() {
    let dir = fresh_dir();
    let srv = start(&dir, "").await;
    let mut c = Client::connect_with(srv.addr, 1_000, 0, vec![0; 16])
        .await
        .unwrap();
    c.create("/eph", b"", 1).await;
    let (id, pw) = (c.session_id, c.passwd.clone());
    srv.stop().await;
    drop(c);

    let srv = start(&dir, "").await;
    let mut back = Client::connect_with(srv.addr, 1_000, id, pw)
        .await
        .expect("session restored");
    assert_eq!(
        back.exists("/eph", false).await.unwrap().ephemeral_owner,
        id
    );
    drop(back);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let mut other = Client::connect(srv.addr).await;
    assert_eq!(other.exists("/eph", false).await, Err(ErrorCode::NoNode));
    srv.stop().await;
}

#[tokio::test]
async fn snapshots_and_log_rolls_follow_snap_count() {
    let dir = fresh_dir();
    let srv = start(&dir, "snapCount=10").await;
    let mut c = Client::connect(srv.addr).await;
    for i in 0..60 {
        c.create(&format!("/n{i}"), b"x", 0).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    srv.stop().await;
    let snaps = list(&dir.join("version-2"), SNAPSHOT_PREFIX).unwrap();
    assert!(snaps.len() >= 4, "{snaps:?}");
    assert!(log_files(&dir).len() >= 4);
    let srv = start(&dir, "snapCount=10").await;
    let mut c = Client::connect(srv.addr).await;
    for i in 0..60 {
        assert!(c.exists(&format!("/n{i}"), false).await.is_ok());
    }
    srv.stop().await;
}

/// Writes `n` nodes and stops; returns the dir.
async fn dir_with_nodes(n: usize) -> PathBuf {
    let dir = fresh_dir();
    let srv = start(&dir, "").await;
    let mut c = Client::connect(srv.addr).await;
    for i in 0..n {
        c.create(&format!("/k{i}"), b"value", 0).await;
    }
    srv.stop().await;
    dir
}

#[tokio::test]
async fn a_torn_last_entry_is_cut_and_named() {
    let dir = dir_with_nodes(5).await;
    let log = log_files(&dir).pop().unwrap();
    let mut bytes = std::fs::read(&log).unwrap();
    let end = match scan(&bytes).unwrap().end {
        LogEnd::Clean { offset } => offset,
        other => panic!("{other:?}"),
    };
    // Half a record: checksum and length of a 100-byte entry, then 20 bytes of it.
    bytes[end..end + 8].copy_from_slice(&7i64.to_be_bytes());
    bytes[end + 8..end + 12].copy_from_slice(&100i32.to_be_bytes());
    bytes[end + 12..end + 32].fill(0xab);
    std::fs::write(&log, &bytes).unwrap();

    let storage = StorageConfig::from_config(&config(&dir, ""));
    let r = recover(&storage).expect("recovers");
    assert_eq!(r.notes.len(), 1);
    let note = &r.notes[0];
    assert!(
        note.contains(&log.display().to_string()) && note.contains(&format!("offset {end}")),
        "{note}"
    );
    assert!(note.contains("partial"), "{note}");
    assert!(
        matches!(scan(&std::fs::read(&log).unwrap()).unwrap().end, LogEnd::Clean { offset } if offset == end)
    );

    let srv = start(&dir, "").await;
    let mut c = Client::connect(srv.addr).await;
    assert!(c.exists("/k4", false).await.is_ok());
    srv.stop().await;
}

#[tokio::test]
async fn corruption_in_the_middle_of_a_log_refuses_to_start() {
    let dir = dir_with_nodes(5).await;
    let log = log_files(&dir).pop().unwrap();
    let mut bytes = std::fs::read(&log).unwrap();
    let entries = scan(&bytes).unwrap().entries;
    let victim = entries[2].offset;
    bytes[victim + 30] ^= 0x10;
    std::fs::write(&log, &bytes).unwrap();

    let msg = start_error(&dir).await;
    assert!(msg.contains(&log.display().to_string()), "{msg}");
    assert!(msg.contains(&format!("offset {victim}")), "{msg}");
    assert!(msg.contains("refusing to start"), "{msg}");
}

#[tokio::test]
async fn logs_without_a_snapshot_refuse_to_start() {
    let dir = dir_with_nodes(1).await;
    for s in list(&dir.join("version-2"), SNAPSHOT_PREFIX).unwrap() {
        std::fs::remove_file(s.path).unwrap();
    }
    let msg = start_error(&dir).await;
    assert!(msg.contains("no snapshot"), "{msg}");
}

#[tokio::test]
async fn a_last_log_that_never_got_its_header_is_dropped() {
    let dir = dir_with_nodes(3).await;
    let empty = dir.join("version-2").join("log.ff");
    std::fs::write(&empty, vec![0u8; 4096]).unwrap();
    let r = recover(&StorageConfig::from_config(&config(&dir, ""))).expect("recovers");
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("log.ff") && n.contains("empty log file")),
        "{:?}",
        r.notes
    );
    assert!(!empty.exists());
}

#[tokio::test]
async fn a_last_log_with_only_its_header_does_not_block_the_next_start() {
    let dir = dir_with_nodes(3).await;
    let storage = StorageConfig::from_config(&config(&dir, ""));
    let next = recover(&storage).unwrap().last_zxid + 1;
    let stale = dir.join("version-2").join(format!("log.{next:x}"));
    let mut bytes = rzk::storage::txnlog::format::FileHeader::txn_log()
        .encode()
        .to_vec();
    bytes.resize(4096, 0);
    std::fs::write(&stale, bytes).unwrap();
    let srv = start(&dir, "").await;
    let mut c = Client::connect(srv.addr).await;
    assert_eq!(c.create("/after", b"", 0).await.0, ErrorCode::Ok);
    srv.stop().await;
    let srv = start(&dir, "").await;
    let mut c = Client::connect(srv.addr).await;
    assert!(c.exists("/after", false).await.is_ok());
    srv.stop().await;
}

/// A log that fails every append, as on a full disk.
struct FailingLog;

impl rzk::node::driver::TxnLog for FailingLog {
    fn append(&mut self, _: Vec<std::sync::Arc<TxnEntry>>) -> std::io::Result<Option<i64>> {
        Err(std::io::Error::from_raw_os_error(28))
    }
}

#[test]
fn a_failed_append_stops_the_core_with_the_reason_and_acknowledges_nothing() {
    use rzk::node::driver::{run, Event, Out};
    use rzk::node::{Core, CoreConfig, Input};
    let core = Core::new(
        CoreConfig::from_config(&Config::standalone_default(), None),
        0,
        0,
        1,
    );
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel(16);
    let peer = "127.0.0.1:5000".parse().unwrap();
    tx.try_send(Event::Open {
        conn: 1,
        peer,
        out: out_tx,
        auth: Vec::new(),
        closing: Default::default(),
    })
    .unwrap();
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        timeout_ms: 30_000,
        session_id: 0,
        passwd: vec![0; 16],
        read_only: Some(false),
    };
    tx.try_send(Event::Input(Input::Connect {
        conn: 1,
        req,
        bytes: 49,
    }))
    .unwrap();
    let err = run(core, FailingLog, rx).unwrap_err();
    assert!(
        err.contains("transaction log append failed") && err.contains("No space left"),
        "{err}"
    );
    while let Ok(out) = out_rx.try_recv() {
        assert!(
            !matches!(out, Out::Established | Out::Frame(_)),
            "nothing acknowledged: {out:?}"
        );
    }
}

#[tokio::test]
async fn autopurge_keeps_the_newest_snapshots_and_the_logs_they_need() {
    let dir = fresh_dir();
    let srv = start(&dir, "snapCount=10").await;
    let mut c = Client::connect(srv.addr).await;
    for i in 0..80 {
        c.create(&format!("/p{i}"), b"x", 0).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    srv.stop().await;
    let v2 = dir.join("version-2");
    assert!(list(&v2, SNAPSHOT_PREFIX).unwrap().len() > 3);

    let srv = start(
        &dir,
        "snapCount=10\nautopurge.purgeInterval=1\nautopurge.snapRetainCount=3",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let snaps = list(&v2, SNAPSHOT_PREFIX).unwrap();
    assert_eq!(snaps.len(), 3, "{snaps:?}");
    let oldest = snaps[0].zxid;
    let logs = list(&v2, LOG_PREFIX).unwrap();
    assert_eq!(
        logs.iter().filter(|f| f.zxid <= oldest).count(),
        1,
        "{logs:?}"
    );
    srv.stop().await;
    let srv = start(&dir, "").await;
    let mut c = Client::connect(srv.addr).await;
    for i in 0..80 {
        assert!(c.exists(&format!("/p{i}"), false).await.is_ok());
    }
    srv.stop().await;
}

#[tokio::test]
async fn data_log_dir_holds_the_logs_and_data_dir_the_snapshots() {
    let dir = fresh_dir();
    let logs = fresh_dir();
    let extra = format!("dataLogDir={}", logs.display());
    let srv = start(&dir, &extra).await;
    let mut c = Client::connect(srv.addr).await;
    c.create("/x", b"1", 0).await;
    srv.stop().await;
    assert!(log_files(&dir).is_empty());
    assert_eq!(log_files(&logs).len(), 1);
    assert!(!list(&dir.join("version-2"), SNAPSHOT_PREFIX)
        .unwrap()
        .is_empty());
    let srv = start(&dir, &extra).await;
    let mut c = Client::connect(srv.addr).await;
    assert!(c.exists("/x", false).await.is_ok());
    srv.stop().await;
}
