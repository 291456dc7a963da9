//! The operations surface operators script against: four-letter words on the client
//! port, the AdminServer's HTTP commands, and the Prometheus `/metrics` endpoint
//! (Apache ZooKeeper's `command/*Command`, `admin/*`, `FourLetterCommands` and
//! `PrometheusMetricsProvider`).
//!
//! Every answer is rendered from a [`ServerSnapshot`] the core produces on request
//! (`Event::Query` through the driver's channel), plus a few facts that need the
//! operating system (directory sizes, file descriptors, environment) gathered here.
//! Nothing on the request path knows this module exists.

pub mod commands;
pub mod endpoints;
pub mod ensemble;
pub mod http;
pub mod json;
pub mod monitor;
mod process_facts;
pub mod prometheus;
pub mod system;
pub mod time;
pub mod tls;
pub mod words;

use crate::config::Config;
use crate::node::driver::Event;
use crate::node::four_letter::Query;
use crate::node::stats::ServerSnapshot;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// The version every command reports. Clients and scripts rely on the leading
/// `major.minor.micro` only; the rest follows Java's `Version.getFullVersion` layout.
pub const VERSION: &str = concat!(
    "3.8.0-rzk-",
    env!("CARGO_PKG_VERSION"),
    ", built on 1970-01-01 00:00 UTC"
);

/// `ZooTrace`'s mask: process-wide, as in Java. Default 306 (bits 1, 4, 5, 8).
static TRACE_MASK: AtomicI64 = AtomicI64::new(306);

pub fn trace_mask() -> i64 {
    TRACE_MASK.load(Ordering::Relaxed)
}

pub fn set_trace_mask(mask: i64) {
    TRACE_MASK.store(mask, Ordering::Relaxed);
}

/// What every operations endpoint shares: the configuration, the start time and the way
/// to the core.
#[derive(Debug)]
pub struct Ops {
    pub cfg: Config,
    /// The text of the zoo.cfg the server started from (`initial_configuration`).
    pub initial_config: String,
    pub started: Instant,
    /// The Prometheus provider's state when it is configured: `/metrics`, `mntr` and
    /// `monitor` then all read their samples through it.
    pub exporter: Option<std::sync::Arc<prometheus::Exporter>>,
    core: mpsc::Sender<Event>,
}

impl Ops {
    pub fn new(cfg: Config, initial_config: String, core: mpsc::Sender<Event>) -> Ops {
        let exporter = (cfg.metrics_provider_class.as_deref() == Some(prometheus::PROVIDER_CLASS))
            .then(|| {
                // `Boolean.parseBoolean`: only "true", in any case.
                let jvm_info = cfg
                    .metrics_provider
                    .get("exportJvmInfo")
                    .is_none_or(|v| v.trim().eq_ignore_ascii_case("true"));
                std::sync::Arc::new(prometheus::Exporter::with_jvm_info(jvm_info))
            });
        Ops {
            cfg,
            initial_config,
            started: Instant::now(),
            exporter,
            core,
        }
    }

    /// The core's state, or `None` when it is not serving (stopped or stopping).
    pub async fn query(&self, what: Query) -> Option<ServerSnapshot> {
        let (reply, answer) = oneshot::channel();
        self.core.send(Event::Query { what, reply }).await.ok()?;
        answer.await.ok().filter(|s| s.serving)
    }

    /// `observer_connection_stat_reset`: an ensemble member's driver zeroes the counters
    /// of its observers' connections if it leads (`Leader.resetObserverConnectionStats`).
    /// Sent before the command's own query, so the reset precedes its answer.
    pub async fn reset_observer_stats(&self) {
        if self.cfg.is_quorum() {
            let _ = self
                .core
                .send(Event::Peer(crate::peer::PeerEvent::ResetObserverStats))
                .await;
        }
    }

    pub fn uptime_ms(&self) -> i64 {
        self.started.elapsed().as_millis() as i64
    }
}

/// Java's answer when a command needs a running server and there is none.
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";
