//! Metrics recorded on the request path as an Apache ZooKeeper 3.8.0 server reports them
//! for the same requests: per-namespace read/write summaries and client response sizes.

mod support;

use rzk::proto::*;
use support::*;

fn value<'a>(mntr: &'a str, key: &str) -> Option<&'a str> {
    mntr.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|rest| rest.strip_prefix('\t')))
}

fn children(path: &str) -> Request {
    Request::GetChildren(PathWatchRequest {
        path: path.into(),
        watch: false,
    })
}

/// The requests behind the expected values (captured from Apache ZooKeeper 3.8.0).
async fn workload(c: &mut Client) {
    c.create("/app", b"hello", 0).await;
    c.create("/app/x", b"ab", 0).await;
    c.get_data("/app", true).await.unwrap();
    c.exists("/app/x", true).await.unwrap();
    assert_eq!(c.exists("/nope", true).await, Err(ErrorCode::NoNode));
    c.call(children("/app")).await;
    c.get_data("/", false).await.unwrap();
    c.call(children("/")).await;
}

#[tokio::test]
async fn mntr_reports_namespace_summaries_and_response_sizes_like_java() {
    let srv = start_server("").await;
    let before = four_letter(srv.addr, "mntr").await;
    assert_eq!(value(&before, "zk_last_client_response_size"), Some("-1"));
    let mut c = Client::connect(srv.addr).await;
    let connected = four_letter(srv.addr, "mntr").await;
    assert_eq!(
        value(&connected, "zk_max_client_response_size"),
        Some("-1"),
        "the ConnectResponse is not counted"
    );
    workload(&mut c).await;
    let m = four_letter(srv.addr, "mntr").await;
    for (key, want) in [
        ("zk_last_client_response_size", "40"),
        ("zk_max_client_response_size", "93"),
        ("zk_min_client_response_size", "16"),
        ("zk_avg_app_read_per_namespace", "74.6667"),
        ("zk_min_app_read_per_namespace", "73"),
        ("zk_max_app_read_per_namespace", "77"),
        ("zk_cnt_app_read_per_namespace", "3"),
        ("zk_sum_app_read_per_namespace", "224"),
        ("zk_avg_app_write_per_namespace", "8.5"),
        ("zk_cnt_app_write_per_namespace", "2"),
        ("zk_sum_app_write_per_namespace", "17"),
    ] {
        assert_eq!(value(&m, key), Some(want), "{key} in\n{m}");
    }
    srv.stop().await;
}

#[tokio::test]
async fn srst_resets_sizes_and_summaries_but_crst_does_not() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    workload(&mut c).await;
    assert_eq!(
        four_letter(srv.addr, "crst").await,
        "Connection stats reset.\n"
    );
    let m = four_letter(srv.addr, "mntr").await;
    assert_eq!(value(&m, "zk_max_client_response_size"), Some("93"));
    assert_eq!(value(&m, "zk_cnt_app_read_per_namespace"), Some("3"));
    assert_eq!(four_letter(srv.addr, "srst").await, "Server stats reset.\n");
    let m = four_letter(srv.addr, "mntr").await;
    assert_eq!(value(&m, "zk_max_client_response_size"), Some("-1"));
    assert_eq!(
        value(&m, "zk_cnt_app_read_per_namespace"),
        Some("0"),
        "the key stays, zeroed"
    );
    assert_eq!(value(&m, "zk_avg_app_write_per_namespace"), Some("0.0"));
    c.get_data("/app", false).await.unwrap();
    let m = four_letter(srv.addr, "mntr").await;
    assert_eq!(value(&m, "zk_last_client_response_size"), Some("93"));
    assert_eq!(value(&m, "zk_cnt_app_read_per_namespace"), Some("1"));
    srv.stop().await;
}

#[tokio::test]
async fn notifications_count_as_responses_and_watch_bytes() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    c.create("/w", b"", 0).await;
    c.get_data("/w", true).await.unwrap();
    c.call(Request::SetData(SetDataRequest {
        path: "/w".into(),
        data: None,
        version: -1,
    }))
    .await;
    let m = four_letter(srv.addr, "mntr").await;
    // WatcherEvent: header 16 + type 4 + state 4 + path (4 + 2).
    assert_eq!(value(&m, "zk_watch_bytes"), Some("30"));
    assert_eq!(value(&m, "zk_cnt_w_write_per_namespace"), Some("2"));
    srv.stop().await;
}
