//! Election connections between the peers of an ensemble (`QuorumCnxManager`).
//!
//! One TCP connection per pair of peers, on the election port. Java's rules, so Java and
//! rzk peers connect to each other:
//! - the dialling side sends the header (protocol version, sid, election address);
//! - only a connection initiated by the larger sid survives: a dialler whose target has
//!   a larger sid closes right after the header (the target dials back), and an acceptor
//!   that hears from a smaller sid closes and dials that peer itself;
//! - a newer connection for a sid replaces the older one;
//! - each peer has a bounded send queue that drops its oldest message when full (Java
//!   keeps one: only the newest vote matters), and a new connection first re-sends the
//!   last message sent if nothing newer is queued (`SendWorker`'s `lastMessageSent`);
//! - messages are `int length` + body, 1..=512 KiB.
//!
//! A peer that cannot be reached is dialled again while messages wait for it, with an
//! exponential backoff.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::cnx_link::{self, read_message, write_message};
use crate::proto::ServerId;

/// How the manager reaches and presents itself to the other peers.
#[derive(Clone, Debug)]
pub struct CnxConfig {
    pub my_id: ServerId,
    /// `host:port` announced in the connection header.
    pub my_addr: String,
    /// Address the election port binds to.
    pub listen: SocketAddr,
    /// Election `host:port` of every other peer.
    pub peers: BTreeMap<ServerId, String>,
    /// Time allowed to dial a peer and to read an incoming header (`zookeeper.cnxTimeout`).
    pub cnx_timeout: Duration,
    /// Bind attempts for the election port, 0 = forever (`zookeeper.electionPortBindRetry`).
    pub bind_retry: u32,
    /// Messages kept per peer while it is unreachable (Java: 1).
    pub queue_capacity: usize,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl CnxConfig {
    pub fn new(
        my_id: ServerId,
        my_addr: String,
        listen: SocketAddr,
        peers: BTreeMap<ServerId, String>,
    ) -> CnxConfig {
        CnxConfig {
            my_id,
            my_addr,
            listen,
            peers,
            cnx_timeout: Duration::from_millis(5000),
            bind_retry: 3,
            queue_capacity: 1,
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_secs(1),
        }
    }
}

/// A message received from a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub from: ServerId,
    pub body: Bytes,
}

#[derive(Default)]
struct Peer {
    queue: VecDeque<Bytes>,
    last_sent: Option<Bytes>,
    wake: Arc<Notify>,
    /// Cuts a backoff wait short: the peer showed it is up by dialling us.
    dial_now: Arc<Notify>,
    conn: Option<Conn>,
    dialing: bool,
    backoff: Duration,
    next_dial: Option<Instant>,
}

struct Conn {
    generation: u64,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Conn {
    fn abort(&self) {
        self.reader.abort();
        self.writer.abort();
    }
}

struct Inner {
    cfg: CnxConfig,
    peers: Mutex<BTreeMap<ServerId, Peer>>,
    generation: Mutex<u64>,
    inbound: mpsc::Sender<Message>,
    listener: Mutex<Option<JoinHandle<()>>>,
}

/// The connection manager; clones share it.
#[derive(Clone)]
pub struct CnxManager {
    inner: Arc<Inner>,
}

impl CnxManager {
    /// Binds the election port, starts accepting, and returns the manager with the
    /// stream of received messages.
    pub async fn start(cfg: CnxConfig) -> std::io::Result<(CnxManager, mpsc::Receiver<Message>)> {
        let listener = cnx_link::bind(cfg.listen, cfg.bind_retry).await?;
        let (tx, rx) = mpsc::channel(1024);
        let inner = Inner {
            cfg,
            peers: Mutex::new(BTreeMap::new()),
            generation: Mutex::new(0),
            inbound: tx,
            listener: Mutex::new(None),
        };
        let mgr = CnxManager {
            inner: Arc::new(inner),
        };
        let accept = tokio::spawn(mgr.clone().accept_loop(listener));
        *lock(&mgr.inner.listener) = Some(accept);
        Ok((mgr, rx))
    }

    pub fn my_id(&self) -> ServerId {
        self.inner.cfg.my_id
    }

    /// Queues `body` for `to` (dropping the oldest queued message if the queue is full)
    /// and makes sure a connection to it is up or being made (`toSend`).
    pub fn send(&self, to: ServerId, body: Bytes) {
        let cap = self.inner.cfg.queue_capacity.max(1);
        {
            let mut peers = lock(&self.inner.peers);
            let p = peers.entry(to).or_default();
            while p.queue.len() >= cap {
                p.queue.pop_front();
            }
            p.queue.push_back(body);
            p.wake.notify_one();
        }
        self.connect_one(to);
    }

    /// Dials every known peer that has no connection (`connectAll`).
    pub fn connect_all(&self) {
        for sid in self.inner.cfg.peers.keys() {
            self.connect_one(*sid);
        }
    }

    /// Is a connection to `sid` up?
    pub fn connected(&self, sid: ServerId) -> bool {
        lock(&self.inner.peers)
            .get(&sid)
            .is_some_and(|p| p.conn.is_some())
    }

    /// Closes every connection and stops listening.
    pub fn shutdown(&self) {
        if let Some(l) = lock(&self.inner.listener).take() {
            l.abort();
        }
        for p in lock(&self.inner.peers).values_mut() {
            if let Some(c) = p.conn.take() {
                c.abort();
            }
        }
    }

    fn connect_one(&self, sid: ServerId) {
        if sid == self.inner.cfg.my_id || !self.inner.cfg.peers.contains_key(&sid) {
            return;
        }
        {
            let mut peers = lock(&self.inner.peers);
            let p = peers.entry(sid).or_default();
            if p.conn.is_some() || p.dialing {
                return;
            }
            p.dialing = true;
        }
        tokio::spawn(self.clone().dial_loop(sid));
    }

    /// Dials `sid` until a connection is up, nothing waits to be sent, or the peer
    /// dials us; waits out the backoff of earlier failures first.
    async fn dial_loop(self, sid: ServerId) {
        let Some(addr) = self.inner.cfg.peers.get(&sid).cloned() else {
            return;
        };
        loop {
            let (wait, dial_now) = {
                let mut peers = lock(&self.inner.peers);
                let p = peers.entry(sid).or_default();
                (p.next_dial, p.dial_now.clone())
            };
            if let Some(at) = wait {
                tokio::select! {
                    _ = tokio::time::sleep_until(at) => {}
                    _ = dial_now.notified() => {}
                }
            }
            let ok = match self.dial_once(sid, &addr).await {
                Ok(()) => true,
                Err(e) => {
                    debug!("cannot open an election connection to {sid} at {addr}: {e}");
                    false
                }
            };
            if !self.after_dial(sid, ok) {
                return;
            }
        }
    }

    /// Records the outcome of a dial; true when another attempt is wanted.
    fn after_dial(&self, sid: ServerId, ok: bool) -> bool {
        let cfg = &self.inner.cfg;
        let mut peers = lock(&self.inner.peers);
        let p = peers.entry(sid).or_default();
        p.backoff = if ok {
            cfg.backoff_min
        } else {
            (p.backoff * 2).clamp(cfg.backoff_min, cfg.backoff_max)
        };
        p.next_dial = Some(Instant::now() + p.backoff);
        let again = !ok && p.conn.is_none() && !p.queue.is_empty();
        if !again {
            p.dialing = false;
        }
        again
    }

    /// One attempt (`initiateConnection` + `startConnection`).
    async fn dial_once(&self, sid: ServerId, addr: &str) -> std::io::Result<()> {
        let cfg = &self.inner.cfg;
        let mut s = cnx_link::dial(addr, cfg.cnx_timeout).await?;
        cnx_link::write_header(&mut s, cfg.my_id.0, &cfg.my_addr).await?;
        if sid > cfg.my_id {
            debug!(
                "have smaller server identifier, so dropping the connection: ({sid}, {})",
                cfg.my_id
            );
            return Ok(());
        }
        self.install(sid, s);
        Ok(())
    }

    async fn accept_loop(self, listener: TcpListener) {
        loop {
            match listener.accept().await {
                Ok((s, remote)) => {
                    let _ = s.set_nodelay(true);
                    tokio::spawn(self.clone().receive_connection(s, remote));
                }
                Err(e) => {
                    warn!("election port accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// `handleConnection`: read the header, then keep the connection only if the peer
    /// has the larger sid; a smaller one is dialled back.
    async fn receive_connection(self, mut s: TcpStream, remote: SocketAddr) {
        let cfg = &self.inner.cfg;
        let header = tokio::time::timeout(cfg.cnx_timeout, cnx_link::read_header(&mut s)).await;
        let header = match header {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => return warn!("dropping election connection from {remote}: {e}"),
            Err(_) => {
                return warn!("dropping election connection from {remote}: no header in time")
            }
        };
        let sid = ServerId(header.sid());
        if sid == cfg.my_id {
            return warn!(
                "election connection from {remote} claims my own id {sid}; check the configuration"
            );
        }
        if sid < cfg.my_id {
            drop(s);
            debug!("election connection from smaller id {sid}: closing it and dialling back");
            self.dial_back(sid);
            return;
        }
        info!("election connection from {sid} at {remote}");
        self.install(sid, s);
    }

    /// The peer is up (it just dialled us): dial it now, whatever the backoff says.
    fn dial_back(&self, sid: ServerId) {
        {
            let mut peers = lock(&self.inner.peers);
            let p = peers.entry(sid).or_default();
            p.next_dial = None;
            p.backoff = self.inner.cfg.backoff_min;
            p.dial_now.notify_one();
        }
        self.connect_one(sid);
    }

    /// Makes `s` the connection to `sid`, replacing any older one.
    fn install(&self, sid: ServerId, s: TcpStream) {
        let generation = {
            let mut g = lock(&self.inner.generation);
            *g += 1;
            *g
        };
        let (r, w) = s.into_split();
        let mut peers = lock(&self.inner.peers);
        let p = peers.entry(sid).or_default();
        if let Some(old) = p.conn.take() {
            old.abort();
        }
        let reader = tokio::spawn(self.clone().read_loop(sid, generation, r));
        let writer = tokio::spawn(self.clone().write_loop(sid, generation, w, p.wake.clone()));
        p.conn = Some(Conn {
            generation,
            reader,
            writer,
        });
        p.backoff = self.inner.cfg.backoff_min;
    }

    async fn read_loop(self, sid: ServerId, generation: u64, mut r: OwnedReadHalf) {
        loop {
            match read_message(&mut r).await {
                Ok(body) => {
                    if self
                        .inner
                        .inbound
                        .send(Message { from: sid, body })
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                Err(e) => {
                    debug!("election connection to {sid} ended: {e}");
                    break;
                }
            }
        }
        self.drop_conn(sid, generation);
    }

    async fn write_loop(
        self,
        sid: ServerId,
        generation: u64,
        mut w: OwnedWriteHalf,
        wake: Arc<Notify>,
    ) {
        if let Some(last) = self.resend_candidate(sid) {
            if write_message(&mut w, &last).await.is_err() {
                return self.drop_conn(sid, generation);
            }
        }
        loop {
            let next = self.pop(sid);
            let Some(body) = next else {
                wake.notified().await;
                continue;
            };
            if let Err(e) = write_message(&mut w, &body).await {
                debug!("election connection to {sid} failed on send: {e}");
                break;
            }
        }
        self.drop_conn(sid, generation);
    }

    /// The last message sent to `sid`, when nothing newer waits in its queue.
    fn resend_candidate(&self, sid: ServerId) -> Option<Bytes> {
        let peers = lock(&self.inner.peers);
        let p = peers.get(&sid)?;
        if p.queue.is_empty() {
            p.last_sent.clone()
        } else {
            None
        }
    }

    fn pop(&self, sid: ServerId) -> Option<Bytes> {
        let mut peers = lock(&self.inner.peers);
        let p = peers.get_mut(&sid)?;
        let body = p.queue.pop_front()?;
        p.last_sent = Some(body.clone());
        Some(body)
    }

    /// Forgets the connection `generation` of `sid` (if still current) and closes both
    /// halves; messages queued meanwhile trigger a new dial.
    fn drop_conn(&self, sid: ServerId, generation: u64) {
        let pending = {
            let mut peers = lock(&self.inner.peers);
            let Some(p) = peers.get_mut(&sid) else { return };
            if p.conn.as_ref().map(|c| c.generation) != Some(generation) {
                return;
            }
            if let Some(c) = p.conn.take() {
                c.abort();
            }
            !p.queue.is_empty()
        };
        if pending {
            self.connect_one(sid);
        }
    }
}

/// A poisoned lock only means a task panicked while holding it; the maps stay usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;
