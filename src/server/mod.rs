//! Client-port shell (`NIOServerCnxnFactory`): accepts connections, enforces the
//! per-address connection limit, and runs one task per connection. All state lives in the
//! core; this module only moves bytes.

pub mod conn;

use crate::jute::frame::Limits;
use crate::node::driver::Event;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::{info, warn};

/// Settings the shell needs.
#[derive(Clone, Debug)]
pub struct ShellConfig {
    pub limits: Limits,
    /// Per client address; 0 = unlimited (`maxClientCnxns`).
    pub max_client_cnxns: u32,
    /// Capacity of each connection's outgoing queue, in frames.
    pub max_outgoing_frames: usize,
    /// Answers four-letter words; without it every word is refused.
    pub ops: Option<Arc<crate::ops::Ops>>,
}

/// Live connections per client address, for `maxClientCnxns`. Only touched between
/// awaits, never held across one.
#[derive(Default)]
pub struct AddressCounts(Mutex<HashMap<IpAddr, u32>>);

impl AddressCounts {
    fn try_acquire(&self, ip: IpAddr, max: u32) -> bool {
        let Ok(mut m) = self.0.lock() else { return false };
        let n = m.entry(ip).or_insert(0);
        if max != 0 && *n >= max {
            return false;
        }
        *n += 1;
        true
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

/// Accepts connections until the listener fails or the core goes away.
pub async fn serve(listener: TcpListener, core: mpsc::Sender<Event>, cfg: ShellConfig) {
    let counts = Arc::new(AddressCounts::default());
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                warn!("accept failed: {e}");
                continue;
            }
        };
        if !counts.try_acquire(peer.ip(), cfg.max_client_cnxns) {
            warn!("Too many connections from {} - max is {}", peer.ip(), cfg.max_client_cnxns);
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let conn = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
        let (core_tx, cfg, counts) = (core.clone(), cfg.clone(), counts.clone());
        tokio::spawn(async move {
            conn::run(stream, conn, peer, core_tx, &cfg).await;
            counts.release(peer.ip());
        });
        if core.is_closed() {
            info!("core stopped; no longer accepting connections");
            return;
        }
    }
}
