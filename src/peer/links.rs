//! The quorum port's sockets: the leader's acceptor and one task pair per learner
//! (`LearnerCnxAcceptor`, the socket half of `LearnerHandler`), and a learner's
//! connection to its leader (`Learner.connectToLeader`, the read loop of
//! `Follower.followLeader`).
//!
//! Packets travel as bare jute `QuorumPacket` records (no length prefix), decoded here
//! and handed to the peer driver as events tagged with the role generation that opened
//! the socket, so that a late packet of a finished role is ignored. After a SNAP packet
//! the leader streams its database; the reader decodes it and hands it over whole.
//! Writers take already-encoded packets from a bounded queue. The leader also queues a
//! marker every `MARKER_INTERVAL` packets (`LearnerHandler`'s `MarkerQuorumPacket`): the
//! writer reports how long it waited, as `LEARNER_HANDLER_QP_TIME`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use super::PeerEvent;
use crate::jute::Limits;
use crate::node::driver::Event;
use crate::proto::quorum::{split_quorum_packet, LearnerInfo, Packet};
use crate::proto::ServerId;
use crate::quorum::snap_stream;

/// Packets queued for one peer before it counts as too slow and is dropped.
pub const PEER_QUEUE: usize = 16_384;

/// Packets queued to a learner between two markers (`LearnerHandler.markerPacketInterval`).
pub const MARKER_INTERVAL: u64 = 1000;

/// What a peer's writer takes from its queue.
#[derive(Debug)]
pub enum Outgoing {
    /// An encoded packet (or SNAP and the database that follows it).
    Packet(Bytes),
    /// A marker queued at this instant; the writer reports its wait when it reaches it.
    Marker(std::time::Instant),
}

/// The leader's side of a learner's queue: where its writer reports the wait of its
/// markers, and the bytes still queued (the driver adds, the writer takes away).
struct LearnerQueue {
    events: mpsc::Sender<Event>,
    gen: u64,
    sid: ServerId,
    bytes: Arc<AtomicI64>,
}

/// Decode limits of quorum packets: a proposal carries a whole client request.
fn limits(jute_max: usize) -> Limits {
    let max = jute_max.saturating_add(1 << 20);
    Limits {
        max_frame: max,
        max_field: max,
    }
}

/// Settings the socket tasks need.
#[derive(Clone, Debug)]
pub struct LinkSettings {
    pub jute_max: usize,
    pub extended_types: bool,
}

/// Accepts learners until aborted; the learner tasks end with it.
pub async fn accept_learners(
    listener: TcpListener,
    gen: u64,
    events: mpsc::Sender<Event>,
    s: LinkSettings,
) {
    let mut tasks = JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        let (sock, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                warn!("quorum port accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = sock.set_nodelay(true);
        debug!("learner connection from {peer}");
        tasks.spawn(learner_handler(sock, peer, gen, events.clone(), s.clone()));
    }
}

/// One learner's socket: the first packet (FOLLOWERINFO/OBSERVERINFO) names it.
async fn learner_handler(
    sock: TcpStream,
    addr: SocketAddr,
    gen: u64,
    events: mpsc::Sender<Event>,
    s: LinkSettings,
) {
    let (mut rd, wr) = sock.into_split();
    let lim = limits(s.jute_max);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let first = match next_packet(&mut rd, &mut buf, &lim).await {
        Some(p) => p,
        None => return,
    };
    let sid = match &first {
        Packet::FollowerInfo { info, .. } | Packet::ObserverInfo { info, .. } => {
            info.as_ref().map(|i: &LearnerInfo| ServerId(i.server_id))
        }
        _ => None,
    };
    let Some(sid) = sid else {
        warn!(
            "quorum connection did not start with FOLLOWERINFO/OBSERVERINFO: {:?}",
            first.ptype()
        );
        return;
    };
    info!("learner {sid} connected to the quorum port");
    let (tx, rx) = mpsc::channel(PEER_QUEUE);
    let queued_bytes = Arc::new(AtomicI64::new(0));
    let queue = LearnerQueue {
        events: events.clone(),
        gen,
        sid,
        bytes: queued_bytes.clone(),
    };
    let writer = tokio::spawn(write_loop(wr, rx, Some(queue)));
    let send = |ev| events.send(Event::Peer(ev));
    if send(PeerEvent::LearnerConnected {
        gen,
        sid,
        out: tx,
        addr,
        queued_bytes,
    })
    .await
    .is_err()
        || send(PeerEvent::Packet {
            gen,
            from: sid,
            pkt: first,
        })
        .await
        .is_err()
    {
        return;
    }
    while let Some(pkt) = next_packet(&mut rd, &mut buf, &lim).await {
        if send(PeerEvent::Packet {
            gen,
            from: sid,
            pkt,
        })
        .await
        .is_err()
        {
            break;
        }
    }
    writer.abort();
    let _ = send(PeerEvent::Down { gen, sid }).await;
}

/// Connects to the leader's quorum port, retrying for up to `within`.
pub async fn connect_leader(addr: &str, within: Duration) -> Option<TcpStream> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(addr)).await {
            Ok(Ok(sock)) => {
                let _ = sock.set_nodelay(true);
                return Some(sock);
            }
            Ok(Err(e)) => debug!("cannot reach the leader at {addr} yet: {e}"),
            Err(_) => debug!("connecting to the leader at {addr} timed out"),
        }
        if tokio::time::Instant::now() >= deadline {
            warn!("could not connect to the leader at {addr}");
            return None;
        }
        // The leader opens its port right after its own decision: retry quickly.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The learner's side: registers the writer with the driver, then reads the leader's
/// packets (and, after SNAP, its database) until the socket closes.
pub async fn follow_leader(
    sock: TcpStream,
    leader: ServerId,
    gen: u64,
    events: mpsc::Sender<Event>,
    s: LinkSettings,
) {
    let (mut rd, wr) = sock.into_split();
    let (tx, rx) = mpsc::channel(PEER_QUEUE);
    let writer = tokio::spawn(write_loop(wr, rx, None));
    let send = |ev| events.send(Event::Peer(ev));
    if send(PeerEvent::LeaderConnected {
        gen,
        leader,
        out: tx,
    })
    .await
    .is_err()
    {
        return;
    }
    let lim = limits(s.jute_max);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    while let Some(pkt) = next_packet(&mut rd, &mut buf, &lim).await {
        let ev = match pkt {
            Packet::Snap(zxid) => {
                match read_snapshot(&mut rd, &mut buf, s.extended_types, zxid.0).await {
                    Some(db) => PeerEvent::Snapshot {
                        gen,
                        zxid,
                        db: Box::new(db),
                    },
                    None => break,
                }
            }
            pkt => PeerEvent::Packet {
                gen,
                from: leader,
                pkt,
            },
        };
        if send(ev).await.is_err() {
            break;
        }
    }
    writer.abort();
    let _ = send(PeerEvent::Down { gen, sid: leader }).await;
}

async fn write_loop(
    mut wr: tokio::net::tcp::OwnedWriteHalf,
    mut rx: mpsc::Receiver<Outgoing>,
    queue: Option<LearnerQueue>,
) {
    let mut batch = BytesMut::new();
    while let Some(first) = rx.recv().await {
        // Whatever else is queued goes out in the same write: a send per packet (a
        // PROPOSAL and a COMMIT per txn and follower) was most of a leader's CPU under
        // write load. Large packets (a SNAP's database) are written as they are.
        let mut next = Some(first);
        while let Some(out) = next.take() {
            let pkt = match out {
                Outgoing::Packet(p) => {
                    if let Some(q) = &queue {
                        q.bytes.fetch_sub(p.len() as i64, Ordering::Relaxed);
                    }
                    p
                }
                Outgoing::Marker(at) => {
                    if let Some(r) = &queue {
                        let ms = crate::storage::elapsed_ms(at);
                        let ev = PeerEvent::QueueTime {
                            gen: r.gen,
                            sid: r.sid,
                            ms,
                        };
                        let _ = r.events.send(Event::Peer(ev)).await;
                    }
                    next = rx.try_recv().ok();
                    continue;
                }
            };
            let full = pkt.len() >= WRITE_BATCH || batch.len() + pkt.len() > WRITE_BATCH;
            if full && !flush(&mut wr, &mut batch).await {
                return;
            }
            if pkt.len() >= WRITE_BATCH {
                if wr.write_all(&pkt).await.is_err() {
                    return;
                }
            } else {
                batch.extend_from_slice(&pkt);
            }
            next = rx.try_recv().ok();
        }
        if !flush(&mut wr, &mut batch).await {
            return;
        }
    }
    let _ = wr.shutdown().await;
}

/// Bytes of queued packets gathered into one write.
const WRITE_BATCH: usize = 256 * 1024;

async fn flush(wr: &mut tokio::net::tcp::OwnedWriteHalf, batch: &mut BytesMut) -> bool {
    if batch.is_empty() {
        return true;
    }
    let ok = wr.write_all(batch).await.is_ok();
    batch.clear();
    ok
}

/// The next packet, or `None` when the socket closed or sent something undecodable.
async fn next_packet(
    rd: &mut tokio::net::tcp::OwnedReadHalf,
    buf: &mut BytesMut,
    lim: &Limits,
) -> Option<Packet> {
    loop {
        match split_quorum_packet(buf, lim) {
            Ok(Some((rec, used))) => {
                let _ = buf.split_to(used);
                match Packet::from_record(&rec, lim) {
                    Ok(p) => return Some(p),
                    Err(e) => {
                        warn!(
                            "dropping a quorum connection: undecodable packet of type {}: {e}",
                            rec.ptype
                        );
                        return None;
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                warn!("dropping a quorum connection: malformed packet: {e}");
                return None;
            }
        }
        match rd.read_buf(buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// How long bytes may keep arriving before decoding is tried again anyway.
const SNAPSHOT_RETRY: Duration = Duration::from_millis(100);

/// Reads the database that follows SNAP. The stream has no length, so decoding is
/// retried when the buffer has grown by an eighth, the sender paused, or
/// `SNAPSHOT_RETRY` passed. Waiting for the buffer to double instead meant waiting
/// for as many bytes after the snapshot as the snapshot itself: under a steady write
/// load the proposals that follow it take seconds to add up to that, longer than
/// initLimit, and the learner timed out, reconnected for a larger snapshot, and never
/// caught up.
async fn read_snapshot(
    rd: &mut tokio::net::tcp::OwnedReadHalf,
    buf: &mut BytesMut,
    extended_types: bool,
    zxid: i64,
) -> Option<snap_stream::SnapDb> {
    let mut next_try = 0usize;
    let mut tried = tokio::time::Instant::now();
    loop {
        if buf.len() >= next_try || tried.elapsed() >= SNAPSHOT_RETRY {
            tried = tokio::time::Instant::now();
            match snap_stream::decode(buf, extended_types, zxid) {
                Ok(Some((db, used))) => {
                    let _ = buf.split_to(used);
                    return Some(db);
                }
                Ok(None) => next_try = buf.len().saturating_add(buf.len() / 8).max(4096),
                Err(e) => {
                    warn!("dropping the leader connection: {e}");
                    return None;
                }
            }
        }
        match tokio::time::timeout(Duration::from_millis(20), rd.read_buf(buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return None,
            Ok(Ok(_)) => {}
            Err(_) => next_try = 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{CreateTxn, Txn, TxnHeader};
    use crate::tree::DataTree;

    fn big_tree() -> DataTree {
        let mut t = DataTree::new();
        for i in 0..300i64 {
            let hdr = TxnHeader {
                client_id: 1,
                cxid: i as i32,
                zxid: i + 1,
                time: 0,
            };
            let txn = CreateTxn {
                path: format!("/n{i}"),
                data: Some(vec![7; 1000]),
                acl: vec![],
                ephemeral: false,
                parent_cversion: -1,
            };
            t.apply(&hdr, &Txn::Create(txn));
        }
        t
    }

    #[tokio::test]
    async fn a_snapshot_followed_by_steady_traffic_is_read_without_waiting_for_as_much_again() {
        let mut stream = Vec::new();
        snap_stream::encode(&big_tree(), &[], &mut stream);
        // Past 256 KiB: waiting for the buffer to double would wait for 512 KiB.
        assert!(stream.len() > 300_000, "{}", stream.len());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sender = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            for chunk in stream.chunks(4096) {
                sock.write_all(chunk).await.unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            // Then a trickle that never pauses long: 200 bytes every 5 ms.
            for _ in 0..2000 {
                if sock.write_all(&[0u8; 200]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let sock = TcpStream::connect(addr).await.unwrap();
        let (mut rd, _wr) = sock.into_split();
        let mut buf = BytesMut::new();
        let started = std::time::Instant::now();
        let db = read_snapshot(&mut rd, &mut buf, false, 300)
            .await
            .expect("snapshot");
        let took = started.elapsed();
        assert!(db.tree.nodes_preorder().len() > 300);
        assert!(took < Duration::from_millis(2500), "took {took:?}");
        sender.abort();
    }
}
