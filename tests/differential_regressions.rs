//! Regressions for differences the differential suite (`compat-tests/differential`) found
//! between rzk and Apache ZooKeeper 3.8.0; each test is named after the difference.

mod support;

use rzk::proto::*;
use support::*;

/// Op 13 outside a multi is a write in 3.8.0: it consumes a zxid, fails like the check of
/// a multi, and a successful one is never answered (its reply fails to serialize).
#[tokio::test]
async fn standalone_check_is_a_write_and_success_goes_unanswered() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    let (h, _) = c
        .call(Request::Check(CheckVersionRequest {
            path: "/zookeeper".into(),
            version: 5,
        }))
        .await;
    assert_eq!(h.err, ErrorCode::BadVersion.code());
    let failed_at = h.zxid;
    let (h, _) = c
        .call(Request::Check(CheckVersionRequest {
            path: "/nope".into(),
            version: -1,
        }))
        .await;
    assert_eq!((h.err, h.zxid), (ErrorCode::NoNode.code(), failed_at + 1));
    let xid = c.next_xid();
    let mut out = bytes::BytesMut::new();
    rzk::proto::codec::encode_request(
        xid,
        &Request::Check(CheckVersionRequest {
            path: "/".into(),
            version: -1,
        }),
        &mut out,
    );
    c.send_raw(&out).await;
    let (h, _) = c.call(Request::Ping).await;
    assert_eq!(
        (h.xid, h.zxid),
        (-2, failed_at + 2),
        "no reply to the successful check, but its zxid is used"
    );
    srv.stop().await;
}

/// Debian's 3.8.0 (CVE-2024-23944 fix) drops a watch event for a connection that may not
/// READ the node (the parent, for NodeChildrenChanged); the watch is used up all the same.
#[tokio::test]
async fn watch_event_needs_read_permission_on_the_node() {
    let srv = start_server("").await;
    let mut owner = Client::connect(srv.addr).await;
    let mut watcher = Client::connect(srv.addr).await;
    assert!(watcher.exists("/secret", true).await.is_err());
    let no_read = vec![Acl::new(perms::ALL & !perms::READ, "world", "anyone")];
    let req = Request::Create(CreateRequest {
        path: "/secret".into(),
        data: None,
        acl: no_read,
        flags: 0,
    });
    assert_eq!(owner.call(req).await.0.err, 0);
    let (h, _) = watcher.call(Request::Ping).await;
    assert_eq!(h.xid, -2);
    assert!(
        watcher.events.is_empty(),
        "no NodeCreated without READ: {:?}",
        watcher.events
    );
    let (h, _) = watcher
        .call(Request::CheckWatches(WatchesRequest {
            path: "/secret".into(),
            watcher_type: 2,
        }))
        .await;
    assert_eq!(h.err, ErrorCode::NoWatcher.code(), "the watch was consumed");
    assert!(watcher.exists("/open", true).await.is_err());
    owner.create("/open", b"", 0).await;
    assert_eq!(
        watcher.next_event().await.map(|e| e.event_type),
        Some(EventType::NodeCreated)
    );
    srv.stop().await;
}

/// An expired session's connection is closed without flushing what the expiry queued for
/// it (`FinalRequestProcessor.closeSession`): the NodeDeleted of its own ephemeral, which it
/// watches, never reaches it, while other sessions hear of it.
#[tokio::test]
async fn expired_session_hears_nothing_of_its_own_ephemerals() {
    let srv = start_server("").await;
    let mut other = Client::connect(srv.addr).await;
    let mut doomed = Client::connect_with(srv.addr, 400, 0, vec![0; 16])
        .await
        .expect("session");
    assert_eq!(doomed.create("/e", b"", 1).await.0, ErrorCode::Ok);
    assert!(doomed.exists("/e", true).await.is_ok());
    assert!(other.exists("/e", true).await.is_ok());
    let mut frames = Vec::new();
    while let Some(f) = doomed.read_frame().await {
        frames.push(f);
    }
    assert!(frames.is_empty(), "frames after expiry: {frames:?}");
    assert_eq!(
        other.next_event().await.map(|e| e.event_type),
        Some(EventType::NodeDeleted)
    );
    srv.stop().await;
}
