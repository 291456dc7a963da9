//! Limits that must hold while clients misbehave: connection limits, the global throttle,
//! clients that never read, connection storms, half-open connections and vanished
//! clients. Each case ends by checking that the server still serves a healthy session.

mod support;

use bytes::BytesMut;
use rzk::proto::codec::encode_request;
use rzk::proto::*;
use std::time::Duration;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn healthy(addr: std::net::SocketAddr) {
    let mut c = Client::connect(addr).await;
    assert_eq!(c.exists("/", false).await.map(|_| ()), Ok(()));
    c.close().await;
}

/// True when the peer closes `s` within `within` (reading and dropping what comes first).
async fn eof_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut scratch = vec![0u8; 64 * 1024];
    let end = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(end, s.read(&mut scratch)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn max_client_cnxns_refuses_connections_past_the_limit_per_address() {
    let srv = start_server("maxClientCnxns=3").await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(Client::connect(srv.addr).await);
    }
    let refused = Client::connect_with(srv.addr, 30_000, 0, vec![0; 16]).await;
    assert!(
        refused.is_none(),
        "the fourth connection from 127.0.0.1 is closed"
    );
    held.pop().expect("one").close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    healthy(srv.addr).await;
    srv.stop().await;
}

#[tokio::test]
async fn max_cnxns_bounds_the_total() {
    let srv = start_server("maxCnxns=2").await;
    let (_a, _b) = (
        Client::connect(srv.addr).await,
        Client::connect(srv.addr).await,
    );
    assert!(Client::connect_with(srv.addr, 30_000, 0, vec![0; 16])
        .await
        .is_none());
    srv.stop().await;
}

/// With a limit of 1 almost every request is throttled; pipelining clients must still
/// get every reply, in order, and nothing may deadlock.
#[tokio::test]
async fn global_outstanding_limit_throttles_without_losing_or_reordering_replies() {
    let srv = start_server("globalOutstandingLimit=1").await;
    let mut c = Client::connect(srv.addr).await;
    assert_eq!(c.create("/t", b"x", 0).await.0, ErrorCode::Ok);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let addr = srv.addr;
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await;
            let mut out = BytesMut::new();
            for xid in 1..=300 {
                let req = if xid % 3 == 0 {
                    Request::SetData(SetDataRequest {
                        path: "/t".into(),
                        data: Some(vec![xid as u8]),
                        version: -1,
                    })
                } else {
                    Request::GetData(PathWatchRequest {
                        path: "/t".into(),
                        watch: false,
                    })
                };
                encode_request(xid, &req, &mut out);
            }
            c.send_raw(&out).await;
            for xid in 1..=300 {
                let op = if xid % 3 == 0 {
                    OpCode::SetData
                } else {
                    OpCode::GetData
                };
                let (h, _) = c.reply_to(op).await.expect("every request is answered");
                assert_eq!((h.xid, h.err), (xid, 0));
            }
        }));
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .expect("no deadlock")
            .expect("task");
    }
    healthy(srv.addr).await;
    srv.stop().await;
}

/// A client that sends many getData requests for a large node and never reads is
/// disconnected once its backlog passes `zookeeper.rzk.maxOutgoingBytes`.
#[tokio::test]
async fn a_client_that_never_reads_is_disconnected() {
    let srv = start_server("rzk.maxOutgoingBytes=4194304").await;
    let mut w = Client::connect(srv.addr).await;
    assert_eq!(
        w.create("/big", &vec![7u8; 512 * 1024], 0).await.0,
        ErrorCode::Ok
    );
    let mut lazy = Client::connect(srv.addr).await;
    let mut out = BytesMut::new();
    for xid in 1..=2000 {
        encode_request(
            xid,
            &Request::GetData(PathWatchRequest {
                path: "/big".into(),
                watch: false,
            }),
            &mut out,
        );
    }
    // 2000 replies of 512 KiB would be 1 GiB; the server must give up long before.
    let _ = tokio::time::timeout(Duration::from_secs(10), lazy.stream.write_all(&out)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut read = 0usize;
    let mut scratch = vec![0u8; 256 * 1024];
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(10), lazy.stream.read(&mut scratch)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => read += n,
            Err(_) => break false,
        }
    };
    assert!(closed, "the server closed the connection");
    assert!(
        read < 256 * 1024 * 1024,
        "it did not keep sending: {read} bytes"
    );
    healthy(srv.addr).await;
    srv.stop().await;
}

/// Watch events count against the same backlog: a client with thousands of watches that
/// never reads is disconnected too, and the writer that fires them is not held up.
#[tokio::test]
async fn a_client_that_never_reads_its_watch_events_is_disconnected() {
    let srv = start_server("rzk.maxOutgoingBytes=1").await;
    let mut w = Client::connect(srv.addr).await;
    let mut lazy = Client::connect(srv.addr).await;
    let name = "x".repeat(900);
    for i in 0..3000 {
        let path = format!("/{name}{i}");
        let _ = lazy.exists(&path, true).await;
    }
    for i in 0..3000 {
        assert_eq!(
            w.create(&format!("/{name}{i}"), b"", 0).await.0,
            ErrorCode::Ok
        );
    }
    assert!(
        eof_within(&mut lazy.stream, Duration::from_secs(10)).await,
        "the server closed the lazy client"
    );
    healthy(srv.addr).await;
    srv.stop().await;
}

#[tokio::test]
async fn two_thousand_connections_opening_at_once_all_get_sessions() {
    let srv = start_server("").await;
    let mut tasks = Vec::new();
    for _ in 0..2000 {
        let addr = srv.addr;
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect_with(addr, 30_000, 0, vec![0; 16])
                .await
                .expect("a session");
            assert_eq!(c.exists("/", false).await.map(|_| ()), Ok(()));
            c
        }));
    }
    let mut clients = Vec::new();
    for t in tasks {
        clients.push(
            tokio::time::timeout(Duration::from_secs(60), t)
                .await
                .expect("in time")
                .expect("task"),
        );
    }
    let ids: std::collections::BTreeSet<i64> = clients.iter().map(|c| c.session_id).collect();
    assert_eq!(ids.len(), 2000, "distinct sessions");
    drop(clients);
    healthy(srv.addr).await;
    srv.stop().await;
}

#[tokio::test]
async fn a_connection_that_never_sends_a_connect_request_is_closed() {
    let srv = start_server("nio.sessionlessCnxnTimeout=300").await;
    let mut silent = TcpStream::connect(srv.addr).await.expect("connect");
    let mut partial = TcpStream::connect(srv.addr).await.expect("connect");
    partial
        .write_all(&[0, 0, 0, 45, 0, 0, 0, 0, 0])
        .await
        .expect("write");
    assert!(
        eof_within(&mut silent, Duration::from_secs(5)).await,
        "silent connection closed"
    );
    assert!(
        eof_within(&mut partial, Duration::from_secs(5)).await,
        "half-sent ConnectRequest closed"
    );
    healthy(srv.addr).await;
    srv.stop().await;
}

/// A client that stays connected but sends nothing (no pings): its session expires, its
/// ephemerals go, and the server closes its connection.
#[tokio::test]
async fn a_silent_client_session_expires_and_its_connection_closes() {
    let srv = start_server("").await;
    let mut silent = Client::connect_with(srv.addr, 800, 0, vec![0; 16])
        .await
        .expect("session");
    assert_eq!(silent.create("/eph", b"", 1).await.0, ErrorCode::Ok);
    let mut other = Client::connect(srv.addr).await;
    assert!(
        eof_within(&mut silent.stream, Duration::from_secs(10)).await,
        "connection closed on expiry"
    );
    assert_eq!(
        other.exists("/eph", false).await.map(|_| ()),
        Err(ErrorCode::NoNode)
    );
    srv.stop().await;
}

/// A client whose socket vanishes: the session outlives the connection until its
/// timeout, then its ephemerals go.
#[tokio::test]
async fn a_vanished_client_session_expires() {
    let srv = start_server("").await;
    let mut gone = Client::connect_with(srv.addr, 800, 0, vec![0; 16])
        .await
        .expect("session");
    assert_eq!(gone.create("/eph", b"", 1).await.0, ErrorCode::Ok);
    drop(gone);
    let mut other = Client::connect(srv.addr).await;
    assert_eq!(
        other.exists("/eph", false).await.map(|_| ()),
        Ok(()),
        "still there right after"
    );
    let end = tokio::time::Instant::now() + Duration::from_secs(10);
    while other.exists("/eph", false).await.is_ok() {
        assert!(
            tokio::time::Instant::now() < end,
            "the session expired in time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    srv.stop().await;
}
