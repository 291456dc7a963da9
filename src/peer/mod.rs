//! An ensemble member (`QuorumPeer`): the role loop that elects, then leads or
//! follows until the role ends, and elects again.
//!
//! * `roles` — the async loop: asks the election for a decision, opens the quorum
//!   port (leader) or connects to the leader (learner), and waits for the driver to
//!   report the end of the role;
//! * `links` — the quorum-port sockets and packet framing;
//! * `link_stats` — what a leader counts on each learner's connection;
//! * `driver` — the thread that owns the core, the Zab role and the log: client and
//!   quorum events in, actions executed in order. One owner, no locks, as for the
//!   standalone driver in `node::driver`.
//!
//! Events carry the generation of the role that produced them, so traffic of a role
//! that has ended (a socket closing late, a packet in flight) is ignored.

pub mod driver;
mod link_stats;
pub mod links;
pub mod metrics;
mod roles;
pub mod samples;

use tokio::sync::mpsc;

use crate::proto::quorum::Packet;
use crate::proto::{ServerId, Zxid};
use crate::quorum::snap_stream::SnapDb;

pub use roles::run_roles;

/// What the peer's tasks tell its driver.
#[derive(Debug)]
pub enum PeerEvent {
    /// Half a `tickTime` passed (Zab's tick: the leader pings at this rate).
    Tick,
    /// The election made this server the leader; the quorum port is open.
    Lead { gen: u64 },
    /// Connected to the elected leader; packets for it go to `out`.
    LeaderConnected {
        gen: u64,
        leader: ServerId,
        out: mpsc::Sender<links::Outgoing>,
    },
    /// A learner connected to this leader.
    LearnerConnected {
        gen: u64,
        sid: ServerId,
        out: mpsc::Sender<links::Outgoing>,
        addr: std::net::SocketAddr,
        /// Bytes queued for it and not yet taken by its writer.
        queued_bytes: std::sync::Arc<std::sync::atomic::AtomicI64>,
    },
    Packet {
        gen: u64,
        from: ServerId,
        pkt: Packet,
    },
    /// SNAP and the database that followed it.
    Snapshot {
        gen: u64,
        zxid: Zxid,
        db: Box<SnapDb>,
    },
    /// The quorum connection with `sid` closed.
    Down { gen: u64, sid: ServerId },
    /// A marker queued for learner `sid` reached the head of its queue after `ms`.
    QueueTime { gen: u64, sid: ServerId, ms: i64 },
    /// `observer_connection_stat_reset`: a leader zeroes its observers' connection
    /// counters (`Leader.resetObserverConnectionStats`).
    ResetObserverStats,
}

/// The driver's report that a role is over, with what the next election starts from.
#[derive(Clone, Copy, Debug)]
pub struct RoleEnded {
    pub gen: u64,
    pub last_zxid: Zxid,
    pub current_epoch: i64,
}

/// What an ensemble member starts from: the database recovered from disk and the log
/// writer already running on it.
pub struct Recovered {
    pub core: crate::node::Core,
    pub core_cfg: crate::node::CoreConfig,
    pub log: crate::storage::DiskLog,
    pub last_zxid: i64,
}

/// Starts an ensemble member on a recovered core: the driver thread, the election
/// and the role loop, and Zab's tick. `done` receives the driver's result. Returns
/// the tasks to abort when the server stops.
pub async fn start(
    cfg: &crate::config::Config,
    rec: Recovered,
    rx: mpsc::Receiver<crate::node::driver::Event>,
    events: mpsc::Sender<crate::node::driver::Event>,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
) -> std::io::Result<Vec<tokio::task::JoinHandle<()>>> {
    use crate::node::driver::Event;
    let q = crate::config::QuorumSettings::from_config(cfg).map_err(std::io::Error::other)?;
    let storage = crate::storage::StorageConfig::from_config(cfg);
    let epoch_files = crate::quorum::EpochFiles::new(&storage.dirs().snap_dir);
    let Recovered {
        core,
        core_cfg,
        log,
        last_zxid,
    } = rec;
    let epochs = epoch_files.load(last_zxid)?;
    let commit_log = cfg
        .properties
        .get("zookeeper.commitLogCount")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(500);
    let zab = crate::zab::ZabConfig {
        my_id: q.my_id,
        voters: q.voters(),
        observers: q.observers(),
        // Zab ticks at half a tickTime (the leader's ping period).
        init_limit: q.init_limit.saturating_mul(2),
        sync_limit: q.sync_limit.saturating_mul(2),
        max_outstanding: 1_000_000,
        committed_log_max: commit_log,
        config_text: q.config_text(),
    };
    let (ended_tx, ended_rx) = mpsc::unbounded_channel();
    let (election, _cnx) = crate::quorum::election_driver::start(&q).await?;
    let setup = driver::PeerSetup {
        core_cfg,
        storage,
        zab,
        epochs: epoch_files,
        accepted_epoch: epochs.accepted,
        current_epoch: epochs.current,
        events: events.clone(),
        ended: ended_tx,
        election: election.epoch_notifier(),
    };
    let driver = driver::PeerDriver::new(core, log, setup, rx)?;
    std::thread::Builder::new()
        .name("rzk-peer".into())
        .spawn(move || {
            let _ = done.send(driver.run());
        })?;
    let links = links::LinkSettings {
        jute_max: cfg.jute_max_buffer,
        extended_types: cfg.extended_types,
    };
    let half_tick = std::time::Duration::from_millis(u64::from(q.tick_time_ms / 2).max(1));
    let ticks = events.clone();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(half_tick);
        loop {
            every.tick().await;
            if ticks.send(Event::Peer(PeerEvent::Tick)).await.is_err() {
                return;
            }
        }
    });
    let start = (Zxid(last_zxid), epochs.current);
    let roles = tokio::spawn(run_roles(q, election, events, ended_rx, start, links));
    Ok(vec![ticker, roles])
}
