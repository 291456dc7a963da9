use super::*;
use crate::quorum::cnx_link;
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

/// Loopback ports nobody listens on yet.
fn free_ports(n: usize) -> Vec<u16> {
    let ls: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    ls.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

fn cfg(me: i64, ports: &[u16]) -> CnxConfig {
    let peers = ports
        .iter()
        .enumerate()
        .map(|(i, p)| (ServerId(i as i64 + 1), format!("127.0.0.1:{p}")))
        .filter(|(sid, _)| sid.0 != me)
        .collect();
    let port = ports[me as usize - 1];
    CnxConfig::new(
        ServerId(me),
        format!("127.0.0.1:{port}"),
        SocketAddr::from(([127, 0, 0, 1], port)),
        peers,
    )
}

async fn recv(rx: &mut mpsc::Receiver<Message>) -> Message {
    timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a message in time")
        .expect("channel open")
}

#[tokio::test]
async fn either_side_may_send_first_and_one_connection_survives() {
    let ports = free_ports(2);
    let (m1, mut rx1) = CnxManager::start(cfg(1, &ports)).await.unwrap();
    let (m2, mut rx2) = CnxManager::start(cfg(2, &ports)).await.unwrap();
    m1.send(ServerId(2), Bytes::from_static(b"from one"));
    let got = recv(&mut rx2).await;
    assert_eq!((got.from, &got.body[..]), (ServerId(1), &b"from one"[..]));
    m2.send(ServerId(1), Bytes::from_static(b"from two"));
    let got = recv(&mut rx1).await;
    assert_eq!((got.from, &got.body[..]), (ServerId(2), &b"from two"[..]));
    assert!(m1.connected(ServerId(2)) && m2.connected(ServerId(1)));
    m1.shutdown();
    m2.shutdown();
}

#[tokio::test]
async fn a_peer_that_starts_late_gets_only_the_newest_message() {
    let ports = free_ports(2);
    let (m2, _rx2) = CnxManager::start(cfg(2, &ports)).await.unwrap();
    for i in 0..3u8 {
        m2.send(ServerId(1), Bytes::from(vec![b'v', b'0' + i]));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (m1, mut rx1) = CnxManager::start(cfg(1, &ports)).await.unwrap();
    let got = recv(&mut rx1).await;
    assert_eq!(&got.body[..], b"v2");
    assert!(timeout(Duration::from_millis(300), rx1.recv())
        .await
        .is_err());
    m1.shutdown();
    m2.shutdown();
}

#[tokio::test]
async fn a_smaller_sid_is_dialled_back_with_the_pending_message() {
    let ports = free_ports(2);
    let (m2, _rx2) = CnxManager::start(cfg(2, &ports)).await.unwrap();
    // A bare peer 1 listening on its port: it dials 2, then waits for 2 to dial back.
    let l1 = TcpListener::bind(("127.0.0.1", ports[0])).await.unwrap();
    m2.send(ServerId(1), Bytes::from_static(b"vote"));
    let (mut back, _) = timeout(Duration::from_secs(5), l1.accept())
        .await
        .unwrap()
        .unwrap();
    let h = cnx_link::read_header(&mut back).await.unwrap();
    assert_eq!(h.sid(), 2);
    assert_eq!(
        &cnx_link::read_message(&mut back).await.unwrap()[..],
        b"vote"
    );
    // Once that connection is gone, dialling 2 from the smaller id makes 2 close it and
    // dial us again.
    drop(back);
    for _ in 0..100 {
        if !m2.connected(ServerId(1)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut s = cnx_link::dial(&format!("127.0.0.1:{}", ports[1]), Duration::from_secs(1))
        .await
        .unwrap();
    cnx_link::write_header(&mut s, 1, "127.0.0.1:1")
        .await
        .unwrap();
    let (mut again, _) = timeout(Duration::from_secs(5), l1.accept())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cnx_link::read_header(&mut again).await.unwrap().sid(), 2);
    // The new connection replays the last message sent, as Java's SendWorker does.
    assert_eq!(
        &cnx_link::read_message(&mut again).await.unwrap()[..],
        b"vote"
    );
    m2.shutdown();
}

#[tokio::test]
async fn a_larger_legacy_peer_keeps_its_connection() {
    let ports = free_ports(3);
    let (m1, mut rx1) = CnxManager::start(cfg(1, &ports)).await.unwrap();
    let mut s = cnx_link::dial(&format!("127.0.0.1:{}", ports[0]), Duration::from_secs(1))
        .await
        .unwrap();
    s.write_i64(3).await.unwrap();
    cnx_link::write_message(&mut s, b"legacy").await.unwrap();
    let got = recv(&mut rx1).await;
    assert_eq!((got.from, &got.body[..]), (ServerId(3), &b"legacy"[..]));
    m1.send(ServerId(3), Bytes::from_static(b"answer"));
    assert_eq!(
        &cnx_link::read_message(&mut s).await.unwrap()[..],
        b"answer"
    );
    m1.shutdown();
}
