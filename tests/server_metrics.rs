//! The ServerMetrics the storage and the connection shell record, as Apache ZooKeeper
//! 3.8.0 records them: the sync processor's counts per txn and per group commit, the
//! start-up load (`dbinittime`, `startup_*`, which need a restart), snapshot times and
//! the connection factory's counters.

mod support;

use rzk::config::{zoo_cfg, Config};
use rzk::launch::Running;
use rzk::proto::*;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

fn fresh_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "rzk-metrics-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn start(dir: &Path, extra: &str) -> Running {
    let text = format!(
        "tickTime=200\ndataDir={}\nclientPort=0\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\npreAllocSize=64\n{extra}\n",
        dir.display()
    );
    let cfg = Config::from_entries("test.cfg", &zoo_cfg::parse(&text), &BTreeMap::new()).unwrap();
    Running::start(cfg, None).await.expect("server starts")
}

async fn metric(addr: SocketAddr, key: &str) -> i64 {
    let mut m = four_letter(addr, "mntr").await;
    for _ in 0..50 {
        if !m.is_empty() {
            break;
        }
        // Refused while the connection limit is reached: a slot frees soon.
        tokio::time::sleep(Duration::from_millis(20)).await;
        m = four_letter(addr, "mntr").await;
    }
    let v = m
        .lines()
        .find_map(|l| l.strip_prefix(&format!("zk_{key}\t")).map(str::to_string));
    v.unwrap_or_else(|| panic!("no {key} in\n{m}"))
        .parse::<f64>()
        .unwrap() as i64
}

/// Polls until `key` reaches `want` (values sent by other threads arrive a little later).
async fn wait_for(addr: SocketAddr, key: &str, want: i64) {
    for _ in 0..100 {
        if metric(addr, key).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(metric(addr, key).await, want, "{key}");
}

#[tokio::test]
async fn the_log_writer_counts_txns_and_batches_and_a_restart_counts_the_txns_replayed() {
    let dir = fresh_dir();
    let srv = start(&dir, "").await;
    let addr = srv.addr;
    assert_eq!(metric(addr, "cnt_dbinittime").await, 1);
    assert_eq!(metric(addr, "cnt_startup_snap_load_time").await, 1);
    assert_eq!(
        metric(addr, "cnt_startup_txns_loaded").await,
        0,
        "a fresh database replays nothing"
    );
    assert_eq!(
        metric(addr, "cnt_snapshottime").await,
        1,
        "the startup snapshot"
    );
    let mut c = Client::connect(addr).await;
    for i in 0..5 {
        c.create(&format!("/n{i}"), b"x", 0).await;
    }
    c.get_data("/n0", false).await.unwrap();
    c.close().await;
    // createSession, 5 creates, closeSession are logged; the read passes the standalone
    // sync processor unlogged.
    wait_for(addr, "sync_processor_request_queued", 8).await;
    wait_for(addr, "sum_sync_processor_batch_size", 7).await;
    assert_eq!(
        metric(addr, "cnt_sync_processor_queue_and_flush_time_ms").await,
        7
    );
    assert_eq!(metric(addr, "cnt_sync_processor_queue_time_ms").await, 7);
    assert_eq!(metric(addr, "cnt_sync_process_time").await, 7);
    assert_eq!(
        metric(addr, "cnt_sync_processor_queue_size").await,
        8,
        "one more before the first wait"
    );
    let batches = metric(addr, "cnt_sync_processor_batch_size").await;
    assert!((1..=7).contains(&batches));
    assert_eq!(
        metric(addr, "cnt_sync_processor_queue_flush_time_ms").await,
        batches
    );
    assert_eq!(
        metric(addr, "cnt_fsynctime").await,
        batches,
        "one log file, one fsync per commit"
    );
    srv.stop().await;

    let srv = start(&dir, "").await;
    let addr = srv.addr;
    assert_eq!(metric(addr, "cnt_startup_txns_loaded").await, 1);
    assert_eq!(metric(addr, "max_startup_txns_loaded").await, 7);
    assert_eq!(metric(addr, "cnt_startup_txns_load_time").await, 1);
    assert_eq!(metric(addr, "cnt_dbinittime").await, 1);
    wait_for(addr, "cnt_snapshottime", 1).await;
    assert_eq!(four_letter(addr, "srst").await, "Server stats reset.\n");
    assert_eq!(metric(addr, "cnt_startup_txns_loaded").await, 0);
    assert_eq!(metric(addr, "cnt_dbinittime").await, 0);
    srv.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_connection_factory_counts_refusals_drops_and_expired_handshakes() {
    let dir = fresh_dir();
    let srv = start(&dir, "maxClientCnxns=2\nnio.sessionlessCnxnTimeout=300").await;
    let addr = srv.addr;
    // A client that goes away without a word: end of stream on the server's read.
    let s = TcpStream::connect(addr).await.unwrap();
    drop(s);
    wait_for(addr, "connection_drop_count", 1).await;
    // One that says nothing: expired after the sessionless timeout.
    let mut quiet = TcpStream::connect(addr).await.unwrap();
    wait_for(addr, "sessionless_connections_expired", 1).await;
    let _ = quiet.shutdown().await;
    // Two held open (the four-letter words of `metric` need a slot of their own).
    let a = Client::connect(addr).await;
    let _b = TcpStream::connect(addr).await.unwrap();
    let mut refused = TcpStream::connect(addr).await.unwrap();
    assert!(tokio::time::timeout(WAIT, async {
        let mut buf = [0u8; 1];
        tokio::io::AsyncReadExt::read(&mut refused, &mut buf).await
    })
    .await
    .is_ok());
    // Both go away without closing their session: dropped too.
    drop((a, _b));
    wait_for(addr, "connection_drop_count", 3).await;
    // The four-letter words asked before the slots were freed may be refused as well.
    assert!(metric(addr, "connection_rejected").await >= 1);
    // A session the server closes is no drop.
    let c = Client::connect(addr).await;
    c.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(metric(addr, "connection_drop_count").await, 3);
    srv.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn reads_count_into_sync_processor_request_queued_but_auth_does_not() {
    let dir = fresh_dir();
    let srv = start(&dir, "").await;
    let mut c = Client::connect(srv.addr).await;
    c.exists("/", false).await.unwrap();
    let (_, _) = c
        .call(Request::GetChildren(PathWatchRequest {
            path: "/".into(),
            watch: false,
        }))
        .await;
    let auth = AuthPacket {
        auth_type: 0,
        scheme: "digest".into(),
        auth: b"u:p".to_vec(),
    };
    let (hdr, _) = c.call(Request::Auth(auth)).await;
    assert_eq!(hdr.err, 0);
    c.exists("/", false).await.unwrap();
    // createSession + 3 reads; the auth packet is answered in processPacket.
    wait_for(srv.addr, "sync_processor_request_queued", 4).await;
    srv.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// `bytes_received_count` grows by what one exchange sent, measured by the `mntr`s
/// around it (each counts its own 4 bytes before answering).
async fn bytes_received_by<F: std::future::Future<Output = ()>>(
    addr: SocketAddr,
    exchange: F,
) -> i64 {
    let before = metric(addr, "bytes_received_count").await;
    exchange.await;
    metric(addr, "bytes_received_count").await - before - 4
}

/// Writes `bytes` on a new connection and waits for the server to close it.
async fn rejected(addr: SocketAddr, bytes: &[u8]) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let read =
        tokio::time::timeout(WAIT, tokio::io::AsyncReadExt::read_to_end(&mut s, &mut out)).await;
    assert!(
        read.is_ok(),
        "the server closes the connection after {bytes:?}"
    );
}

#[tokio::test]
async fn bytes_received_count_counts_every_four_letter_word_and_frames_that_do_not_decode() {
    let dir = fresh_dir();
    // Longer than `rejected` waits: a connection is closed for what it sent, not expired.
    let srv = start(&dir, "nio.sessionlessCnxnTimeout=30000").await;
    let addr = srv.addr;
    // `checkFourLetterWord`: `packetReceived(4)`, also for the words answered without the
    // server's state; `stmk`'s mask is read after and not counted.
    for word in ["ruok", "gtmk", "envi", "srvr"] {
        assert_eq!(
            bytes_received_by(addr, async {
                four_letter(addr, word).await;
            })
            .await,
            4,
            "{word}"
        );
    }
    let stmk = [b"stmk".as_slice(), &0i64.to_be_bytes()].concat();
    assert_eq!(
        bytes_received_by(addr, rejected(addr, &stmk)).await,
        4,
        "stmk"
    );
    // A ConnectRequest that does not decode is counted whole, as any frame read.
    assert_eq!(
        bytes_received_by(addr, rejected(addr, &[0, 0, 0, 3, 1, 2, 3])).await,
        7
    );
    // So is a request whose header does not decode, after a good ConnectRequest (49 bytes).
    let bad_header = async {
        let mut c = Client::connect(addr).await;
        c.send_raw(&[0, 0, 0, 2, 0, 0]).await;
        assert!(c.closed_by_server().await);
    };
    assert_eq!(bytes_received_by(addr, bad_header).await, 49 + 6);
    // A frame whose length Java refuses (`readLength`) is never read: not counted. An
    // empty ConnectRequest is read (4 bytes) and does not decode. Both are closed at once.
    assert_eq!(
        bytes_received_by(addr, rejected(addr, &[0xff, 0xff, 0xff, 0xf0])).await,
        0
    );
    assert_eq!(
        bytes_received_by(addr, rejected(addr, &[0, 0, 0, 0])).await,
        4
    );
    srv.stop().await;
    // A word the whitelist does not enable is still counted.
    let srv = start(&dir, "4lw.commands.whitelist=mntr").await;
    let conf = bytes_received_by(srv.addr, async {
        assert!(four_letter(srv.addr, "conf")
            .await
            .contains("not in the whitelist"));
    });
    assert_eq!(conf.await, 4);
    srv.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// `srvr`'s `Received:` line for one fresh server after `words`, the `srvr` asking
/// included.
async fn received_after(dir: &Path, extra: &str, words: &[&str]) -> String {
    let srv = start(dir, extra).await;
    for word in words {
        four_letter(srv.addr, word).await;
    }
    let srvr = four_letter(srv.addr, "srvr").await;
    srv.stop().await;
    srvr.lines()
        .find(|l| l.starts_with("Received: "))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn every_four_letter_word_is_a_packet_received() {
    let dir = fresh_dir();
    // `checkFourLetterWord`'s `packetReceived(4)` counts in `ServerStats` too, for the
    // words answered without the server's state and for the ones the whitelist refuses.
    let all = received_after(&dir, "", &["ruok", "gtmk", "envi", "srvr"]).await;
    assert_eq!(all, "Received: 5");
    let refused = received_after(&dir, "4lw.commands.whitelist=srvr", &["conf", "ruok"]).await;
    assert_eq!(refused, "Received: 3");
    let _ = std::fs::remove_dir_all(dir);
}
