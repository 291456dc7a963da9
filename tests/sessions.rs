//! Session establishment, re-attachment, expiry and close.

mod support;

use rzk::proto::*;
use rzk::session::session_password;
use support::*;

#[tokio::test]
async fn session_password_is_javas() {
    let srv = start_server("").await;
    let c = Client::connect(srv.addr).await;
    assert_eq!(c.passwd, session_password(SessionId(c.session_id)).to_vec());
    srv.stop().await;
}

#[tokio::test]
async fn timeout_is_clamped_to_the_configured_bounds() {
    let srv = start_server("minSessionTimeout=1000\nmaxSessionTimeout=5000").await;
    let c = Client::connect_with(srv.addr, 60_000, 0, vec![0; 16])
        .await
        .unwrap();
    assert_eq!(c.timeout_ms, 5000);
    let c = Client::connect_with(srv.addr, 10, 0, vec![0; 16])
        .await
        .unwrap();
    assert_eq!(c.timeout_ms, 1000);
    srv.stop().await;
}

#[tokio::test]
async fn reconnect_with_password_keeps_session_and_ephemerals() {
    let srv = start_server("").await;
    let mut a = Client::connect(srv.addr).await;
    a.create("/e", b"", 1).await;
    let (id, pw) = (a.session_id, a.passwd.clone());
    let mut b = Client::connect_with(srv.addr, 30_000, id, pw)
        .await
        .expect("resumed");
    assert_eq!(b.session_id, id);
    assert!(
        a.closed_by_server().await,
        "the old connection of the session is closed"
    );
    assert_eq!(b.exists("/e", false).await.unwrap().ephemeral_owner, id);
    srv.stop().await;
}

#[tokio::test]
async fn wrong_password_is_refused() {
    let srv = start_server("").await;
    let a = Client::connect(srv.addr).await;
    let mut bad = a.passwd.clone();
    bad[0] ^= 0xff;
    assert!(Client::connect_with(srv.addr, 30_000, a.session_id, bad)
        .await
        .is_none());
    assert!(Client::connect_with(
        srv.addr,
        30_000,
        0x1234,
        session_password(SessionId(0x1234)).to_vec()
    )
    .await
    .is_none());
    srv.stop().await;
}

#[tokio::test]
async fn close_session_deletes_ephemerals_and_fires_watches() {
    let srv = start_server("").await;
    let mut owner = Client::connect(srv.addr).await;
    owner.create("/eph", b"", 1).await;
    let mut watcher = Client::connect(srv.addr).await;
    watcher.exists("/eph", true).await.unwrap();
    owner.close().await;
    let ev = watcher.next_event().await.expect("event");
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDeleted, "/eph")
    );
    assert_eq!(watcher.exists("/eph", false).await, Err(ErrorCode::NoNode));
    srv.stop().await;
}

#[tokio::test]
async fn expired_session_loses_ephemerals_and_cannot_resume() {
    let srv = start_server("minSessionTimeout=400\nmaxSessionTimeout=400").await;
    let mut owner = Client::connect_with(srv.addr, 400, 0, vec![0; 16])
        .await
        .unwrap();
    owner.create("/gone", b"", 1).await;
    let (id, pw) = (owner.session_id, owner.passwd.clone());
    let mut watcher = Client::connect(srv.addr).await;
    watcher
        .call(Request::GetChildren(PathWatchRequest {
            path: "/".into(),
            watch: true,
        }))
        .await;
    // The owner stops pinging; the watcher keeps its own session alive by waiting on events.
    let ev = watcher
        .next_event()
        .await
        .expect("child event after expiry");
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeChildrenChanged, "/")
    );
    assert!(owner.closed_by_server().await);
    assert!(Client::connect_with(srv.addr, 400, id, pw).await.is_none());
    srv.stop().await;
}
