//! End-to-end: a client over TCP against an in-process server.

mod support;

use rzk::proto::*;
use support::*;

#[tokio::test]
async fn create_get_set_delete_round_trip() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    assert_eq!(
        c.create("/a", b"one", 0).await,
        (ErrorCode::Ok, "/a".to_string())
    );
    let d = c.get_data("/a", false).await.unwrap();
    assert_eq!(d.data.as_deref(), Some(&b"one"[..]));
    assert_eq!(d.stat.version, 0);
    let (h, r) = c
        .call(Request::SetData(SetDataRequest {
            path: "/a".into(),
            data: Some(b"two".to_vec()),
            version: 0,
        }))
        .await;
    assert_eq!(h.err, 0);
    let Response::Stat(s) = r else {
        panic!("stat expected")
    };
    assert_eq!((s.version, s.data_length), (1, 3));
    assert_eq!(h.zxid, s.mzxid, "a write's reply carries its own zxid");
    let (h, _) = c
        .call(Request::Delete(DeleteRequest {
            path: "/a".into(),
            version: 5,
        }))
        .await;
    assert_eq!(h.err, ErrorCode::BadVersion.code());
    let (h, _) = c
        .call(Request::Delete(DeleteRequest {
            path: "/a".into(),
            version: -1,
        }))
        .await;
    assert_eq!(h.err, 0);
    assert_eq!(c.exists("/a", false).await, Err(ErrorCode::NoNode));
    c.close().await;
    srv.stop().await;
}

#[tokio::test]
async fn failed_writes_consume_a_zxid() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    c.create("/x", b"", 0).await;
    let before = c.last_zxid;
    let (h, _) = c
        .call(Request::Create(CreateRequest {
            path: "/x".into(),
            data: None,
            acl: Acl::open_unsafe(),
            flags: 0,
        }))
        .await;
    assert_eq!(h.err, ErrorCode::NodeExists.code());
    assert_eq!(h.zxid, before + 1);
    srv.stop().await;
}

#[tokio::test]
async fn sequential_suffix_counts_every_create() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    c.create("/q", b"", 0).await;
    c.create("/q/plain", b"", 0).await;
    let (_, p) = c.create("/q/s-", b"", 2).await;
    assert_eq!(p, "/q/s-0000000001");
    srv.stop().await;
}

#[tokio::test]
async fn multi_failure_has_one_result_per_op() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    let ops = vec![
        Request::Create(CreateRequest {
            path: "/m".into(),
            data: None,
            acl: Acl::open_unsafe(),
            flags: 0,
        }),
        Request::Check(CheckVersionRequest {
            path: "/m".into(),
            version: 7,
        }),
        Request::Delete(DeleteRequest {
            path: "/m".into(),
            version: -1,
        }),
    ];
    let (h, r) = c.call(Request::Multi(ops)).await;
    assert_eq!(h.err, 0);
    assert_eq!(
        r,
        Response::Multi(vec![
            MultiResult::Error(ErrorCode::Ok),
            MultiResult::Error(ErrorCode::BadVersion),
            MultiResult::Error(ErrorCode::RuntimeInconsistency),
        ])
    );
    assert_eq!(c.exists("/m", false).await, Err(ErrorCode::NoNode));
    srv.stop().await;
}

#[tokio::test]
async fn four_letter_words_answer() {
    let srv = start_server("").await;
    assert_eq!(four_letter(srv.addr, "ruok").await, "imok");
    let srvr = four_letter(srv.addr, "srvr").await;
    assert!(srvr.starts_with("Zookeeper version: 3.8.0"), "{srvr}");
    assert!(
        srvr.contains("\nMode: standalone\nNode count: 5\n"),
        "{srvr}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn four_letter_whitelist_refuses_with_javas_message() {
    let srv = start_server("4lw.commands.whitelist=srvr").await;
    assert_eq!(
        four_letter(srv.addr, "ruok").await,
        "ruok is not executed because it is not in the whitelist.\n"
    );
    srv.stop().await;
}
