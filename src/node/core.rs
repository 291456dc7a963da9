//! [`Core`]: the single owner of the tree, sessions, watches and pipeline; see the module
//! docs of `node` for the flow.

use std::sync::Arc;

use super::conn::{Conn, Queued};
use super::{Action, ConnId, Input};
use crate::auth::AuthProviders;
use crate::config::settings::FourLetterWhitelist;
use crate::pipeline::acl::AuthSchemes;
use crate::pipeline::prep::{Prep, PrepConfig};
use crate::proto::{ServerId, SessionId, TxnEntry};
use crate::session::SessionTracker;
use crate::tree::DataTree;
use crate::watch::WatchManager;
use std::collections::{BTreeMap, VecDeque};

/// What the core needs of the configuration (a plain copy: the core never reads files).
#[derive(Clone, Debug)]
pub struct CoreConfig {
    pub server_id: i64,
    pub tick_ms: i64,
    pub min_session_timeout_ms: i32,
    pub max_session_timeout_ms: i32,
    pub extended_types: bool,
    /// `zookeeper.digest.enabled`: each txn carries the tree digest once it is applied.
    pub digest_enabled: bool,
    pub super_digest: Option<String>,
    /// DIGEST-MD5 users from the JAAS `Server` section; `None` when SASL is not set up.
    pub sasl_users: Option<BTreeMap<String, String>>,
    /// Kerberos: set when the JAAS section logs in with `Krb5LoginModule`; then SASL
    /// exchanges are GSSAPI instead of DIGEST-MD5.
    pub sasl_gssapi: Option<crate::auth::GssapiService>,
    /// `zookeeper.superUser`: a SASL identity that is also super.
    pub sasl_super_user: Option<String>,
    pub skip_acl: bool,
    pub enforce_quota: bool,
    pub reconfig_enabled: bool,
    pub four_letter_words: FourLetterWhitelist,
    pub container_check_interval_ms: i64,
    pub container_max_per_minute: i64,
    pub container_max_never_used_ms: i64,
    /// Reported by `conf`/`srvr`-style commands.
    pub client_port: u16,
    pub data_dir: String,
    pub data_log_dir: String,
    pub max_client_cnxns: u32,
    /// The `x509` authentication provider is registered (TLS client certificates).
    pub x509: bool,
    /// `zookeeper.maxResponseCacheSize` and `zookeeper.maxGetChildrenResponseCacheSize`
    /// (see `response_cache`).
    pub response_cache_size: usize,
    pub children_response_cache_size: usize,
}

impl CoreConfig {
    pub fn from_config(
        c: &crate::config::Config,
        sasl_users: Option<BTreeMap<String, String>>,
    ) -> CoreConfig {
        CoreConfig {
            server_id: c.server_id,
            tick_ms: c.tick_time_ms as i64,
            min_session_timeout_ms: c.min_session_timeout_ms,
            max_session_timeout_ms: c.max_session_timeout_ms,
            extended_types: c.extended_types,
            digest_enabled: c.digest_enabled,
            super_digest: c.super_digest.clone(),
            sasl_users,
            sasl_gssapi: None,
            sasl_super_user: c.properties.get("zookeeper.superUser").cloned(),
            skip_acl: c.skip_acl,
            enforce_quota: c.enforce_quota,
            reconfig_enabled: c.reconfig_enabled,
            four_letter_words: c.four_letter_words.clone(),
            container_check_interval_ms: c.container_check_interval_ms,
            container_max_per_minute: c.container_max_per_minute,
            container_max_never_used_ms: c.container_max_never_used_ms,
            client_port: c.client_port,
            data_dir: c.data_dir.display().to_string(),
            data_log_dir: c.data_log_dir.display().to_string(),
            max_client_cnxns: c.max_client_cnxns,
            x509: c.x509_enabled,
            response_cache_size: cache_size(c, "zookeeper.maxResponseCacheSize"),
            children_response_cache_size: cache_size(
                c,
                "zookeeper.maxGetChildrenResponseCacheSize",
            ),
        }
    }
}

/// A response cache size property (`Integer.getInteger`, default 400).
fn cache_size(c: &crate::config::Config, key: &str) -> usize {
    c.properties
        .get(key)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map_or(super::response_cache::DEFAULT_SIZE, |n| n.max(0) as usize)
}

pub use super::stats::ServerStats;

/// Who waits for a transaction to be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    /// A client request: reply to `xid` on `conn`.
    Request { conn: ConnId, xid: i32 },
    /// A new session: send the ConnectResponse on `conn`.
    Connect { conn: ConnId },
    /// Made by the server itself (session expiry, container reaping).
    Server,
    /// Leader: forwarded by a learner, which answers its client.
    Remote,
}

/// A transaction prepared and handed to persistence, not yet applied.
#[derive(Debug)]
pub(super) struct InFlight {
    pub entry: Arc<TxnEntry>,
    pub origin: Origin,
    pub received_ms: i64,
}

/// What `ServerMetrics` needs that the core keeps apart from the values themselves.
#[derive(Debug)]
pub(super) struct MetricState {
    /// `PrepRequestProcessor` samples its queue before each wait for a request; the
    /// first wait is recorded with the first request prepared.
    pub prep_waited: bool,
    /// The same for a learner's `FollowerRequestProcessor` / `ObserverRequestProcessor`.
    pub learner_waited: bool,
    /// The getData and getChildren2 response caches, as hits and misses.
    pub data_cache: super::response_cache::ResponseCache,
    pub children_cache: super::response_cache::ResponseCache,
}

pub struct Core {
    pub(super) cfg: CoreConfig,
    pub(super) tree: DataTree,
    pub(super) sessions: SessionTracker,
    pub(super) watches: WatchManager,
    pub(super) prep: Prep,
    pub(super) auth: AuthProviders,
    pub(super) conns: BTreeMap<ConnId, Conn>,
    /// Reads and connections waiting in the connections' queues (`Conn::enqueue`).
    pub(super) queued: super::conn::QueueTally,
    /// The connection a session is currently attached to.
    pub(super) session_conns: BTreeMap<SessionId, ConnId>,
    pub(super) inflight: VecDeque<InFlight>,
    /// Prepared during the current step, emitted as one `Persist` (group commit).
    pub(super) unpersisted: Vec<Arc<TxnEntry>>,
    pub(super) last_prepared_zxid: i64,
    pub(super) last_applied_zxid: i64,
    pub(super) now_wall_ms: i64,
    pub(super) now_mono_ms: i64,
    pub(super) next_container_check_ms: i64,
    pub(super) actions: Vec<Action>,
    pub(super) stats: ServerStats,
    /// A fuzzy snapshot being taken, a slice at a time.
    pub(super) snapshot: Option<super::snapshot::FuzzySnapshot>,
    /// Seed material for SASL nonces, advanced per use (randomness is an input).
    pub(super) nonce_seed: u64,
    /// The place in the ensemble (`node::quorum`).
    pub(super) role: super::quorum::Role,
    /// Whether clients are served (always in standalone).
    pub(super) serving: bool,
    /// Learner: requests sent to the leader, by (session, cxid).
    pub(super) forwarded: BTreeMap<(SessionId, i32), super::quorum::Waiting>,
    /// Learner: reattaching sessions waiting for the leader's word.
    pub(super) revalidating: BTreeMap<SessionId, ConnId>,
    /// Client syncs waiting for the leader, oldest first.
    pub(super) syncs: VecDeque<super::quorum::PendingSync>,
    /// Learner: sessions active since the last PING, with their timeouts.
    pub(super) touched: BTreeMap<SessionId, i32>,
    /// Leader: the server each session's client is attached to (`SessionImpl.owner`).
    pub(super) owners: BTreeMap<SessionId, ServerId>,
    /// Requests waiting for their commit that no connection's queue holds (a learner's
    /// write on the leader, a session being created or expired), by session: the rest
    /// of `CommitProcessor`'s session queues.
    pub(super) connless_waiting: BTreeMap<SessionId, u32>,
    pub(super) metrics: MetricState,
}

impl Core {
    /// A fresh server on an empty database. `now_*` are the clock readings at start;
    /// `seed` feeds the SASL nonces.
    pub fn new(cfg: CoreConfig, now_wall_ms: i64, now_mono_ms: i64, seed: u64) -> Core {
        let mut prep = Prep::new(PrepConfig {
            extended_types: cfg.extended_types,
            enforce_quota: cfg.enforce_quota,
            skip_acl: cfg.skip_acl,
            reconfig_enabled: cfg.reconfig_enabled,
            standalone: true,
            max_never_used_container_ms: cfg.container_max_never_used_ms,
        });
        prep.set_schemes(AuthSchemes {
            digest: true,
            sasl: cfg.sasl_users.is_some(),
            x509: cfg.x509,
        });
        let sessions = SessionTracker::new(ServerId(cfg.server_id), now_wall_ms, cfg.tick_ms);
        let tree = DataTree::with_extended_types(cfg.extended_types);
        let mut auth = AuthProviders::new(cfg.super_digest.clone());
        if cfg.sasl_users.is_some() {
            auth.register("sasl");
        }
        if cfg.x509 {
            auth.register("x509");
        }
        let cfg_sizes = (cfg.response_cache_size, cfg.children_response_cache_size);
        Core {
            next_container_check_ms: now_mono_ms + cfg.container_check_interval_ms,
            cfg,
            tree,
            sessions,
            watches: WatchManager::default(),
            prep,
            auth,
            conns: BTreeMap::new(),
            queued: Default::default(),
            session_conns: BTreeMap::new(),
            inflight: VecDeque::new(),
            unpersisted: Vec::new(),
            last_prepared_zxid: 0,
            last_applied_zxid: 0,
            now_wall_ms,
            now_mono_ms,
            actions: Vec::new(),
            stats: ServerStats::default(),
            snapshot: None,
            nonce_seed: seed,
            role: super::quorum::Role::Standalone,
            serving: true,
            forwarded: BTreeMap::new(),
            connless_waiting: BTreeMap::new(),
            revalidating: BTreeMap::new(),
            syncs: VecDeque::new(),
            touched: BTreeMap::new(),
            owners: BTreeMap::new(),
            metrics: MetricState {
                prep_waited: false,
                learner_waited: false,
                data_cache: super::response_cache::ResponseCache::new(cfg_sizes.0),
                children_cache: super::response_cache::ResponseCache::new(cfg_sizes.1),
            },
        }
    }

    /// Clock readings for the inputs that follow: wall time stamps transactions,
    /// monotonic time drives session expiry.
    pub fn set_time(&mut self, wall_ms: i64, mono_ms: i64) {
        self.now_wall_ms = wall_ms;
        self.now_mono_ms = mono_ms;
    }

    /// Stops (or resumes) recording every metric: only for measuring what recording
    /// costs the request path; a server always records.
    pub fn pause_recording(&mut self, paused: bool) {
        self.stats.recorded.pause(paused);
    }

    pub fn step(&mut self, input: Input) {
        match input {
            Input::Opened { conn, peer, auth } => {
                let mut c = Conn::new(peer, self.now_wall_ms);
                c.auth.extend(
                    auth.into_iter()
                        .filter(|id| !c.auth.contains(id))
                        .collect::<Vec<_>>(),
                );
                self.conns.insert(conn, c);
            }
            Input::Connect { conn, req, bytes } => {
                // `NIOServerCnxn.readLength` closes the connection before counting the
                // packet when the server is not running.
                if self.serving {
                    self.record_received(bytes);
                }
                self.handle_connect(conn, req)
            }
            Input::Request {
                conn,
                xid,
                body,
                bytes,
            } => {
                self.record_received(bytes);
                self.handle_request(conn, xid, body)
            }
            Input::Closed { conn } => self.handle_closed(conn),
            Input::Tick => self.handle_tick(),
            Input::Persisted { upto } => self.handle_persisted(upto),
            Input::WordReceived { conn } => self.count_word(conn),
            Input::Samples(samples) => samples
                .into_iter()
                .for_each(|x| self.stats.recorded.record(x)),
            other => self.handle_quorum_input(other),
        }
    }

    /// The actions produced so far, in order; prepared transactions are flushed into a
    /// single `Persist` first so that one fsync covers the whole batch.
    pub fn take_actions(&mut self) -> Vec<Action> {
        // The next batch starts with room for as many as this one had, so a busy
        // server does not grow its queues from nothing on every batch.
        if !self.unpersisted.is_empty() {
            let cap = self.unpersisted.len();
            let entries = std::mem::replace(&mut self.unpersisted, Vec::with_capacity(cap));
            self.actions.push(Action::Persist { entries });
        }
        let cap = self.actions.len();
        std::mem::replace(&mut self.actions, Vec::with_capacity(cap))
    }

    pub fn last_applied_zxid(&self) -> i64 {
        self.last_applied_zxid
    }

    pub fn tree(&self) -> &DataTree {
        &self.tree
    }

    pub(super) fn send(&mut self, conn: ConnId, frame: bytes::Bytes) {
        if let Some(c) = self.conns.get_mut(&conn) {
            if !c.closing {
                c.stats.packets_sent += 1;
                self.stats.packets_sent += 1;
                if c.established {
                    self.stats.record_response_frame(&frame);
                }
                self.actions.push(Action::Send { conn, frame });
            }
        }
    }

    /// Queues the connection's close after what was sent to it, and drops its watches:
    /// none of them can be delivered any more. Java drops them as it closes the
    /// connection (`removeCnxn`), not when the socket's reader notices.
    pub(super) fn close(&mut self, conn: ConnId) {
        self.close_keeping_watches(conn);
        self.watches.remove_watcher(conn);
    }

    /// [`Self::close`] for a connection whose watches must still be triggered (and
    /// counted, though not delivered) by the txn being applied; the caller drops them.
    pub(super) fn close_keeping_watches(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            if !c.closing {
                c.closing = true;
                self.actions.push(Action::Close { conn });
            }
        }
    }

    fn handle_closed(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.remove(&conn) {
            c.forget(&mut self.queued);
            // Java still takes the requests of a closed connection to the end of the
            // pipeline, where each reply is stale; rzk drops the reads it had queued.
            let reads = c.queue().iter().filter(|q| matches!(q, Queued::Read { body, .. } if !matches!(body, super::RequestBody::Unknown(_)))).count();
            for _ in 0..reads {
                self.record_stale_reply();
            }
            if let Some(s) = c.session {
                if self.session_conns.get(&s) == Some(&conn) {
                    self.session_conns.remove(&s);
                }
            }
        }
        self.watches.remove_watcher(conn);
    }

    fn handle_tick(&mut self) {
        // Only the leader (or a standalone server) expires sessions and reaps containers.
        if matches!(
            self.role,
            super::quorum::Role::Standalone | super::quorum::Role::Leading
        ) && self.serving
        {
            self.expire_sessions();
            self.maybe_reap_containers();
        }
    }

    pub(super) fn next_nonce(&mut self) -> String {
        // splitmix64: a deterministic stream from the injected seed.
        self.nonce_seed = self.nonce_seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.nonce_seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let z = z ^ (z >> 31);
        let w = self.nonce_seed.rotate_left(17) ^ z.rotate_left(5);
        format!("{z:016x}{w:016x}")
    }
}
