//! Watch semantics: one-shot vs persistent, recursive, ordering before replies.

mod support;

use rzk::proto::*;
use support::*;

#[tokio::test]
async fn event_precedes_the_reply_that_reflects_it() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    c.create("/w", b"", 0).await;
    c.get_data("/w", true).await.unwrap();
    let (h, _) = c
        .call(Request::SetData(SetDataRequest {
            path: "/w".into(),
            data: None,
            version: -1,
        }))
        .await;
    assert_eq!(h.err, 0);
    let ev = c
        .events
        .pop_front()
        .expect("the event arrived before the reply");
    assert_eq!(
        (ev.event_type, ev.path.as_str()),
        (EventType::NodeDataChanged, "/w")
    );
    srv.stop().await;
}

#[tokio::test]
async fn standard_watches_fire_once_persistent_ones_stay() {
    let srv = start_server("").await;
    let mut persistent = Client::connect(srv.addr).await;
    let mut one_shot = Client::connect(srv.addr).await;
    persistent.create("/p", b"", 0).await;
    persistent
        .call(Request::AddWatch(AddWatchRequest {
            path: "/p".into(),
            mode: 0,
        }))
        .await;
    one_shot.get_data("/p", true).await.unwrap();
    for _ in 0..2 {
        persistent
            .call(Request::SetData(SetDataRequest {
                path: "/p".into(),
                data: None,
                version: -1,
            }))
            .await;
    }
    let kinds: Vec<_> = persistent.events.drain(..).map(|e| e.event_type).collect();
    assert_eq!(
        kinds,
        vec![EventType::NodeDataChanged, EventType::NodeDataChanged]
    );
    assert_eq!(
        one_shot.next_event().await.map(|e| e.event_type),
        Some(EventType::NodeDataChanged)
    );
    one_shot.exists("/p", false).await.unwrap();
    assert!(
        one_shot.events.is_empty(),
        "a fired one-shot watch does not fire again"
    );
    srv.stop().await;
}

#[tokio::test]
async fn recursive_watch_sees_descendants_but_no_child_events() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    c.create("/r", b"", 0).await;
    c.call(Request::AddWatch(AddWatchRequest {
        path: "/r".into(),
        mode: 1,
    }))
    .await;
    c.create("/r/a", b"", 0).await;
    c.create("/r/a/b", b"", 0).await;
    let evs: Vec<_> = c.events.drain(..).map(|e| (e.event_type, e.path)).collect();
    assert_eq!(
        evs,
        vec![
            (EventType::NodeCreated, "/r/a".to_string()),
            (EventType::NodeCreated, "/r/a/b".to_string())
        ]
    );
    srv.stop().await;
}

#[tokio::test]
async fn remove_watches_reports_no_watcher() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    c.create("/rw", b"", 0).await;
    let (h, _) = c
        .call(Request::RemoveWatches(WatchesRequest {
            path: "/rw".into(),
            watcher_type: 2,
        }))
        .await;
    assert_eq!(h.err, ErrorCode::NoWatcher.code());
    c.get_data("/rw", true).await.unwrap();
    let (h, _) = c
        .call(Request::CheckWatches(WatchesRequest {
            path: "/rw".into(),
            watcher_type: 2,
        }))
        .await;
    assert_eq!(h.err, 0);
    let (h, _) = c
        .call(Request::RemoveWatches(WatchesRequest {
            path: "/rw".into(),
            watcher_type: 3,
        }))
        .await;
    assert_eq!(h.err, 0);
    srv.stop().await;
}
