//! Hostile or broken input: each case gets Apache ZooKeeper's answer (an error code or
//! the connection closed) and never disturbs other sessions.

mod support;

use bytes::{BufMut, BytesMut};
use rzk::proto::*;
use support::*;

/// After each bad input the server still serves a healthy session.
async fn healthy(addr: std::net::SocketAddr) {
    let mut c = Client::connect(addr).await;
    assert_eq!(c.exists("/", false).await.map(|_| ()), Ok(()));
}

#[tokio::test]
async fn frame_length_past_jute_maxbuffer_closes_the_connection() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    c.send_raw(&(0x0010_0000i32).to_be_bytes()).await;
    assert!(c.closed_by_server().await);
    healthy(srv.addr).await;
    srv.stop().await;
}

#[tokio::test]
async fn negative_frame_length_closes_the_connection() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    c.send_raw(&(-5i32).to_be_bytes()).await;
    assert!(c.closed_by_server().await);
    healthy(srv.addr).await;
    srv.stop().await;
}

#[tokio::test]
async fn unknown_opcode_gets_unimplemented_then_close() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    let mut out = BytesMut::new();
    out.put_i32(8);
    out.put_i32(1);
    out.put_i32(999);
    c.send_raw(&out).await;
    let body = c.read_frame().await.expect("a reply");
    assert_eq!(
        &body[..],
        &[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfa]
    );
    assert!(c.closed_by_server().await);
    healthy(srv.addr).await;
    srv.stop().await;
}

#[tokio::test]
async fn truncated_read_request_gets_marshalling_error() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    let mut out = BytesMut::new();
    out.put_i32(12);
    out.put_i32(1);
    out.put_i32(OpCode::GetData.code());
    out.put_i32(100); // a path length with no path behind it
    c.send_raw(&out).await;
    let (h, _) = c.reply_to(OpCode::GetData).await.expect("reply");
    assert_eq!(h.err, ErrorCode::MarshallingError.code());
    assert_eq!(
        c.exists("/", false).await.map(|_| ()),
        Ok(()),
        "the connection stays usable"
    );
    srv.stop().await;
}

#[tokio::test]
async fn truncated_write_request_gets_marshalling_error_and_a_zxid() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    let before = c.exists("/", false).await.map(|_| c.last_zxid).unwrap();
    let mut out = BytesMut::new();
    out.put_i32(10);
    out.put_i32(1);
    out.put_i32(OpCode::Create.code());
    out.put_i16(0);
    c.send_raw(&out).await;
    let (h, _) = c.reply_to(OpCode::Create).await.expect("reply");
    assert_eq!(h.err, ErrorCode::MarshallingError.code());
    assert!(h.zxid > before);
    srv.stop().await;
}

#[tokio::test]
async fn invalid_path_gets_bad_arguments() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    c.create("/a", b"", 0).await;
    // The parent is looked up before the full path is validated, so each of these names an
    // existing parent.
    for p in ["a", "/a/", "/a/.", "/a/..", "/a/b\u{1}", "/a/\u{fff0}"] {
        assert_eq!(c.create(p, b"", 0).await.0, ErrorCode::BadArguments, "{p}");
    }
    srv.stop().await;
}

#[tokio::test]
async fn vector_count_past_the_input_is_refused_without_allocating() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    let mut out = BytesMut::new();
    let mut body = BytesMut::new();
    body.put_i32(1);
    body.put_i32(OpCode::Create.code());
    body.put_i32(2);
    body.put_slice(b"/v");
    body.put_i32(-1); // null data
    body.put_i32(i32::MAX); // ACL count far past the frame
    body.put_i32(0);
    out.put_i32(body.len() as i32);
    out.put_slice(&body);
    c.send_raw(&out).await;
    let (h, _) = c.reply_to(OpCode::Create).await.expect("reply");
    assert_eq!(h.err, ErrorCode::MarshallingError.code());
    healthy(srv.addr).await;
    srv.stop().await;
}

#[tokio::test]
async fn garbage_before_the_handshake_closes_the_connection() {
    let srv = start_server("").await;
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A request header where the ConnectRequest should be: too short to be one.
    s.write_all(&[0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 4])
        .await
        .unwrap();
    let mut buf = Vec::new();
    let n = tokio::time::timeout(WAIT, s.read_to_end(&mut buf))
        .await
        .expect("closed in time")
        .unwrap_or(0);
    assert_eq!(n, 0, "no reply, just closed");
    healthy(srv.addr).await;
    srv.stop().await;
}

#[tokio::test]
async fn truncated_frame_then_eof_harms_no_one() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    c.send_raw(&[0, 0, 0, 50, 0, 0]).await;
    drop(c);
    healthy(srv.addr).await;
    srv.stop().await;
}

#[tokio::test]
async fn auth_with_unknown_scheme_fails_and_closes() {
    let srv = start_server("").await;
    let mut c = Client::connect(srv.addr).await;
    let (h, _) = c
        .call(Request::Auth(AuthPacket {
            auth_type: 0,
            scheme: "nosuch".into(),
            auth: b"x".to_vec(),
        }))
        .await;
    assert_eq!(
        (h.xid, h.zxid, h.err),
        (-4, 0, ErrorCode::AuthFailed.code())
    );
    assert!(c.closed_by_server().await);
    healthy(srv.addr).await;
    srv.stop().await;
}
