//! Client-port shell (`NIOServerCnxnFactory`, and `NettyServerCnxnFactory` for the TLS
//! listeners of `tls`): accepts connections, enforces the per-address and total
//! connection limits, and runs one task per connection. All state
//! lives in the core; this module only moves bytes (and holds the limits that protect the
//! server from clients: `throttle`, the bounded outgoing buffer of `writer`).
//!
//! A connection refused by a limit is `connection_rejected`, a failed TLS handshake
//! `unsuccessful_handshake` (`NettyServerCnxnFactory.CertificateVerifier`), counted in
//! the core's metrics as they happen.

pub mod conn;
pub mod throttle;
pub mod tls;
pub mod writer;

use crate::config::Config;
use crate::jute::frame::Limits;
use crate::node::driver::Event;
use crate::node::recorded::Counter;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use throttle::Throttle;
use tls::TlsContext;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::{info, warn};

/// Settings the shell needs.
#[derive(Clone, Debug)]
pub struct ShellConfig {
    pub limits: Limits,
    /// Per client address; 0 = unlimited (`maxClientCnxns`).
    pub max_client_cnxns: u32,
    /// Total connections; 0 = unlimited (`maxCnxns`).
    pub max_cnxns: u32,
    /// Capacity of each connection's queue from the core, in frames.
    pub max_outgoing_frames: usize,
    /// Bytes of replies and events a connection may have waiting for its client
    /// (`zookeeper.rzk.maxOutgoingBytes`).
    pub max_outgoing_bytes: usize,
    /// `globalOutstandingLimit` (`zookeeper.globalOutstandingLimit`).
    pub global_outstanding_limit: usize,
    /// Time to complete the handshake (`zookeeper.nio.sessionlessCnxnTimeout`).
    pub sessionless_timeout: Duration,
    /// Answers four-letter words; without it every word is refused.
    pub ops: Option<Arc<crate::ops::Ops>>,
}

/// Default of `zookeeper.rzk.maxOutgoingBytes`.
pub const DEFAULT_MAX_OUTGOING_BYTES: usize = 64 * 1024 * 1024;

impl ShellConfig {
    /// The shell's settings from zoo.cfg and system properties.
    pub fn from_config(cfg: &Config, ops: Option<Arc<crate::ops::Ops>>) -> ShellConfig {
        let prop = |name: &str, default: u64| -> u64 {
            cfg.properties
                .get(name)
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(default)
        };
        let limits = Limits {
            max_frame: cfg.jute_max_buffer,
            max_field: cfg.jute_max_buffer * 2,
        };
        let max_outgoing_bytes = prop(
            "zookeeper.rzk.maxOutgoingBytes",
            DEFAULT_MAX_OUTGOING_BYTES as u64,
        ) as usize;
        ShellConfig {
            limits,
            max_client_cnxns: cfg.max_client_cnxns,
            max_cnxns: u32::try_from(prop("zookeeper.maxCnxns", 0)).unwrap_or(u32::MAX),
            max_outgoing_frames: cfg.max_outgoing_frames,
            // Never below what one largest reply needs.
            max_outgoing_bytes: max_outgoing_bytes.max(limits.max_field + 1024),
            global_outstanding_limit: prop("zookeeper.globalOutstandingLimit", 1000) as usize,
            sessionless_timeout: Duration::from_millis(
                prop("zookeeper.nio.sessionlessCnxnTimeout", 10_000).max(1),
            ),
            ops,
        }
    }
}

/// Live connections per client address, for `maxClientCnxns`. Only touched between
/// awaits, never held across one.
#[derive(Default)]
pub struct AddressCounts(Mutex<HashMap<IpAddr, u32>>);

/// Why a connection was refused.
enum Refusal {
    PerAddress,
    Total,
}

impl AddressCounts {
    fn try_acquire(&self, ip: IpAddr, max: u32, max_total: u32) -> Result<(), Refusal> {
        let Ok(mut m) = self.0.lock() else {
            return Err(Refusal::Total);
        };
        let total: u64 = m.values().map(|&n| u64::from(n)).sum();
        if max_total != 0 && total >= u64::from(max_total) {
            return Err(Refusal::Total);
        }
        let n = m.entry(ip).or_insert(0);
        if max != 0 && *n >= max {
            return Err(Refusal::PerAddress);
        }
        *n += 1;
        Ok(())
    }

    fn release(&self, ip: IpAddr) {
        if let Ok(mut m) = self.0.lock() {
            if let Some(n) = m.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&ip);
                }
            }
        }
    }
}

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// What a listener speaks.
#[derive(Clone, Debug)]
pub enum ListenerKind {
    /// `clientPort`.
    Plain,
    /// `secureClientPort`: TLS only.
    Secure(Arc<TlsContext>),
    /// `clientPort` with `client.portUnification`: TLS when the first byte starts a
    /// TLS handshake, plain otherwise (`DualModeSslHandler`).
    Unified(Arc<TlsContext>),
}

/// Accepts connections on every listener until they fail or the core goes away. Each
/// listener has its own per-address counts (one `ServerCnxnFactory` each); the
/// outstanding-request throttle is the server's.
pub async fn serve_all(
    listeners: Vec<(TcpListener, ListenerKind)>,
    core: mpsc::Sender<Event>,
    cfg: ShellConfig,
) {
    let throttle = Arc::new(Throttle::new(cfg.global_outstanding_limit));
    let loops = listeners
        .into_iter()
        .map(|(l, kind)| accept_loop(l, kind, core.clone(), cfg.clone(), throttle.clone()));
    futures::future::join_all(loops).await;
}

/// Accepts plain connections until the listener fails or the core goes away.
pub async fn serve(listener: TcpListener, core: mpsc::Sender<Event>, cfg: ShellConfig) {
    serve_all(vec![(listener, ListenerKind::Plain)], core, cfg).await
}

async fn accept_loop(
    listener: TcpListener,
    kind: ListenerKind,
    core: mpsc::Sender<Event>,
    cfg: ShellConfig,
    throttle: Arc<Throttle>,
) {
    let counts = Arc::new(AddressCounts::default());
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                warn!("accept failed: {e}");
                continue;
            }
        };
        let refused = match counts.try_acquire(peer.ip(), cfg.max_client_cnxns, cfg.max_cnxns) {
            Ok(()) => false,
            Err(Refusal::PerAddress) => {
                warn!(
                    "Too many connections from {} - max is {}",
                    peer.ip(),
                    cfg.max_client_cnxns
                );
                true
            }
            Err(Refusal::Total) => {
                warn!("Too many connections - max is {}", cfg.max_cnxns);
                true
            }
        };
        if refused {
            // `NIOServerCnxnFactory.AcceptThread.doAccept`'s catch.
            drop(stream);
            conn::count(&core, Counter::ConnectionRejected).await;
            continue;
        }
        let _ = stream.set_nodelay(true);
        let conn = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
        let (core_tx, cfg, counts, throttle, kind) = (
            core.clone(),
            cfg.clone(),
            counts.clone(),
            throttle.clone(),
            kind.clone(),
        );
        tokio::spawn(async move {
            match handshake(stream, peer, &kind, cfg.sessionless_timeout).await {
                Ok(accepted) => conn::run(accepted, conn, core_tx, &cfg, throttle).await,
                Err(why) => {
                    warn!("closing connection from {peer}: {why}");
                    conn::count(&core_tx, Counter::UnsuccessfulHandshake).await;
                }
            }
            counts.release(peer.ip());
        });
        if core.is_closed() {
            info!("core stopped; no longer accepting connections");
            return;
        }
    }
}

/// The TLS handshake the listener calls for, bounded by the sessionless timeout.
async fn handshake(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    kind: &ListenerKind,
    limit: Duration,
) -> Result<conn::Accepted, String> {
    let tls = match kind {
        ListenerKind::Plain => None,
        ListenerKind::Secure(tls) => Some(tls),
        ListenerKind::Unified(tls) => {
            let mut first = [0u8; 1];
            let peeked = tokio::time::timeout(limit, stream.peek(&mut first)).await;
            let is_tls = matches!(peeked, Ok(Ok(1))) && first[0] == tls::TLS_HANDSHAKE_RECORD_TYPE;
            is_tls.then_some(tls)
        }
    };
    let Some(tls) = tls else {
        let (rd, wr) = stream.into_split();
        return Ok(conn::Accepted {
            rd: Box::new(rd),
            wr: Box::new(wr),
            peer,
            auth: Vec::new(),
        });
    };
    let (stream, auth) = tokio::time::timeout(limit, tls.accept(stream))
        .await
        .map_err(|_| {
            "TLS handshake not completed within the sessionless connection timeout".to_string()
        })??;
    let (rd, wr) = tokio::io::split(stream);
    Ok(conn::Accepted {
        rd: Box::new(rd),
        wr: Box::new(wr),
        peer,
        auth,
    })
}
