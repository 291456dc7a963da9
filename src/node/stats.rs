//! Server statistics the core keeps on the request path, and the plain snapshot of its
//! state that the operations surface (four-letter words, AdminServer, metrics) renders
//! (`ServerStats`, plus what `command/*Command` read from `ZooKeeperServer`).
//!
//! Recording is a few integer increments per request; everything else is computed only
//! when a snapshot is asked for, so monitoring costs nothing between scrapes.

use super::conn::ConnStats;
use super::core::Core;
use crate::proto::{ErrorCode, MultiResult, Request, Response, Txn};
use crate::tree::{top_namespace, QuotaMetrics, TxnResult};
use crate::watch::WatchSummary;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Number of buckets of a [`LatencyHistogram`].
const BUCKETS: usize = 160;
/// Latencies below this many ms get a bucket each.
const EXACT: i64 = 32;

/// Request latencies (ms) in log-linear buckets: exact below 32 ms, then four buckets
/// per power of two. Cheap to record (one increment), precise enough for the quantiles
/// of a Prometheus summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatencyHistogram {
    pub counts: Box<[u64; BUCKETS]>,
    pub count: u64,
    pub sum: i64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: Box::new([0; BUCKETS]),
            count: 0,
            sum: 0,
        }
    }
}

impl LatencyHistogram {
    pub fn record(&mut self, ms: i64) {
        let ms = ms.max(0);
        if let Some(c) = self.counts.get_mut(bucket_of(ms)) {
            *c += 1;
        }
        self.count += 1;
        self.sum = self.sum.saturating_add(ms);
    }

    /// The smallest latency that falls into bucket `i`.
    pub fn bucket_floor(i: usize) -> i64 {
        let i = i as i64;
        if i < EXACT {
            return i;
        }
        let k = i - EXACT;
        let (octave, step) = (k / 4 + 5, k % 4);
        (1i64 << octave) + step * (1i64 << (octave - 2))
    }

    /// The latency below which a `q` fraction of the recorded ones fall (bucket floor).
    pub fn quantile(&self, q: f64) -> Option<i64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(Self::bucket_floor(i));
            }
        }
        None
    }
}

fn bucket_of(ms: i64) -> usize {
    if ms < EXACT {
        return ms as usize;
    }
    let octave = 63 - ms.leading_zeros() as i64; // ≥ 5
    let step = (ms >> (octave - 2)) & 3;
    let i = EXACT + (octave - 5) * 4 + step;
    (i as usize).min(BUCKETS - 1)
}

/// Sizes of the replies sent to clients (`BufferStats`): -1 until the first one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferStats {
    pub last: i32,
    pub min: i32,
    pub max: i32,
}

impl Default for BufferStats {
    fn default() -> Self {
        BufferStats {
            last: -1,
            min: -1,
            max: -1,
        }
    }
}

impl BufferStats {
    pub fn record(&mut self, size: i32) {
        self.last = size;
        if self.min == -1 || size < self.min {
            self.min = size;
        }
        self.max = self.max.max(size);
    }
}

/// One key of a BASIC summary set (`AvgMinMaxCounter`): exact count, sum, min and max
/// for `mntr`, and the distribution for the Prometheus quantile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SizeSummary {
    pub histogram: LatencyHistogram,
    pub min: i64,
    pub max: i64,
}

impl SizeSummary {
    #[inline]
    pub(super) fn record(&mut self, v: i64) {
        let first = self.histogram.count == 0;
        self.min = if first { v } else { self.min.min(v) };
        self.max = if first { v } else { self.max.max(v) };
        self.histogram.record(v);
    }
}

/// A summary set keyed by a string (`SummarySet` with label `key`).
pub type NamespaceSummaries = BTreeMap<String, SizeSummary>;

/// The summary set of `read_per_namespace` or `write_per_namespace`, keyed by top-level
/// namespace. Every read or write adds to it, and requests mostly stay in one
/// namespace, so the one used last is tried before the index.
#[derive(Clone, Debug, Default)]
pub struct NamespaceSet {
    entries: Vec<(String, SizeSummary)>,
    index: BTreeMap<String, usize>,
    last: usize,
}

impl NamespaceSet {
    fn record(&mut self, ns: &str, bytes: i64) {
        if let Some((k, s)) = self.entries.get_mut(self.last) {
            if k == ns {
                s.record(bytes);
                return;
            }
        }
        let i = match self.index.get(ns) {
            Some(&i) => i,
            None => {
                self.entries.push((ns.to_string(), SizeSummary::default()));
                self.index.insert(ns.to_string(), self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        self.last = i;
        if let Some((_, s)) = self.entries.get_mut(i) {
            s.record(bytes);
        }
    }

    /// Sets one namespace's summary.
    pub fn insert(&mut self, ns: &str, summary: SizeSummary) {
        match self.index.get(ns) {
            Some(&i) => self.entries[i].1 = summary,
            None => {
                self.entries.push((ns.to_string(), summary));
                self.index.insert(ns.to_string(), self.entries.len() - 1);
            }
        }
    }

    pub fn get(&self, ns: &str) -> Option<&SizeSummary> {
        self.index.get(ns).map(|&i| &self.entries[i].1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every namespace and its summary, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &SizeSummary)> {
        self.index.iter().map(|(k, &i)| (k, &self.entries[i].1))
    }

    /// The same namespaces, each with nothing recorded.
    fn zeroed(&self) -> NamespaceSet {
        let entries = self
            .entries
            .iter()
            .map(|(k, _)| (k.clone(), SizeSummary::default()))
            .collect();
        NamespaceSet {
            entries,
            index: self.index.clone(),
            last: self.last,
        }
    }
}

/// Server-wide counters behind `srvr`/`stat`/`mntr` (`ServerStats`) and the
/// `ServerMetrics` values rzk records on the request path.
#[derive(Debug, Default, Clone)]
pub struct ServerStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    pub min_latency_ms: i64,
    pub max_latency_ms: i64,
    pub total_latency_ms: i64,
    pub count: u64,
    /// `readlatency`: requests without a transaction.
    pub read_latency: LatencyHistogram,
    /// `updatelatency`: requests that made a transaction.
    pub update_latency: LatencyHistogram,
    /// `last/min/max_client_response_size`.
    pub client_response: BufferStats,
    /// `watch_bytes`: bytes of the watch notifications sent.
    pub watch_bytes: i64,
    /// `response_bytes`: bytes of the replies to requests (`FinalRequestProcessor`
    /// adds each reply's size; notifications and auth replies are sent elsewhere).
    pub response_bytes: i64,
    /// `read_per_namespace`: bytes read per top-level namespace (`DataTree.updateReadStat`).
    pub read_per_namespace: NamespaceSet,
    /// `write_per_namespace`: bytes written per top-level namespace (`DataTree.updateWriteStat`).
    pub write_per_namespace: NamespaceSet,
    /// `quota_exceeded_error_per_namespace`: writes a hard quota limit rejected, per
    /// top-level namespace, in the order first seen.
    pub quota_exceeded: Vec<(String, i64)>,
    /// The other `ServerMetrics` counters and summaries (`super::recorded`).
    pub recorded: super::recorded::Recorded,
    /// How many times `srst` reset the stats: a consumer that replays deltas (the
    /// Prometheus endpoint, which Java's `srst` leaves alone) starts over when it changes.
    pub resets: u64,
}

impl ServerStats {
    pub fn record_latency(&mut self, latency_ms: i64) {
        let l = latency_ms.max(0);
        self.min_latency_ms = if self.count == 0 {
            l
        } else {
            self.min_latency_ms.min(l)
        };
        self.max_latency_ms = self.max_latency_ms.max(l);
        self.total_latency_ms += l;
        self.count += 1;
    }

    /// Latency of one answered request, by kind (`ServerStats.updateLatency`).
    pub fn record_request(&mut self, latency_ms: i64, update: bool) {
        if self.recorded.is_paused() {
            return;
        }
        self.record_latency(latency_ms);
        if update {
            self.update_latency.record(latency_ms);
        } else {
            self.read_latency.record(latency_ms);
        }
    }

    /// A frame sent to a client after its session was established (`ServerCnxn.serialize`
    /// counts every reply and notification, not the ConnectResponse): the packet length
    /// without the 4-byte length prefix.
    pub fn record_response_frame(&mut self, frame: &[u8]) {
        if self.recorded.is_paused() {
            return;
        }
        let size = frame.len().saturating_sub(4);
        let size = i32::try_from(size).unwrap_or(i32::MAX);
        self.client_response.record(size);
        match frame
            .get(4..8)
            .and_then(|x| x.try_into().ok())
            .map(i32::from_be_bytes)
        {
            Some(NOTIFICATION_XID) => self.watch_bytes += i64::from(size),
            Some(AUTH_XID) => {}
            _ => self.response_bytes += i64::from(size),
        }
    }

    /// `srst` (`ServerStats.reset`): latency, packet counters and response sizes, and,
    /// as `ServerMetrics.resetAll` does with the default metrics provider, the summaries
    /// (namespace keys stay, with zero values).
    pub fn reset(&mut self) {
        *self = ServerStats {
            read_per_namespace: self.read_per_namespace.zeroed(),
            write_per_namespace: self.write_per_namespace.zeroed(),
            quota_exceeded: self
                .quota_exceeded
                .iter()
                .map(|(k, _)| (k.clone(), 0))
                .collect(),
            resets: self.resets + 1,
            ..ServerStats::default()
        };
    }

    /// The average as `ServerStats.getAvgLatency` computes it (ms, unrounded).
    pub fn avg_latency(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total_latency_ms as f64 / self.count as f64
        }
    }
}

/// The xid of a watch notification (`ClientCnxn.NOTIFICATION_XID`).
const NOTIFICATION_XID: i32 = -1;
/// The xid of an `addAuth` reply, sent by the connection itself (`ClientCnxn.AUTHPACKET_XID`).
const AUTH_XID: i32 = -4;

/// `DataTree.STAT_OVERHEAD_BYTES`: a serialized stat, counted with every read.
const STAT_OVERHEAD_BYTES: i64 = 6 * 8 + 5 * 4;

impl ServerStats {
    /// A read answered: `getData`, `exists` and `getChildren` (also inside a multi-read)
    /// add path + payload + a stat to their node's namespace when they succeed
    /// (`DataTree.updateReadStat`).
    pub fn record_read(&mut self, req: &Request, result: &Result<Response, ErrorCode>) {
        if self.recorded.is_paused() {
            return;
        }
        let Ok(rsp) = result else { return };
        match (req, rsp) {
            (Request::MultiRead(ops), Response::Multi(results)) => {
                for (op, r) in ops.iter().zip(results) {
                    match (op, r) {
                        (Request::GetData(q), MultiResult::GetData(d)) => {
                            self.read(&q.path, data_len(&d.data))
                        }
                        (Request::GetChildren(q), MultiResult::GetChildren(c)) => {
                            self.read(&q.path, names_len(c))
                        }
                        _ => {}
                    }
                }
            }
            (Request::GetData(q), Response::GetData(d)) => self.read(&q.path, data_len(&d.data)),
            (Request::Exists(q), Response::Stat(_)) => self.read(&q.path, 0),
            (Request::GetChildren(q), Response::GetChildren(c))
            | (Request::GetChildren2(q), Response::GetChildren2 { children: c, .. }) => {
                self.read(&q.path, names_len(c))
            }
            _ => {}
        }
    }

    /// A transaction applied: creates and setData add path + data, deletes (also the
    /// ephemerals a closed session loses, `deleted`) the path alone
    /// (`DataTree.updateWriteStat`).
    pub fn record_writes<'a>(
        &mut self,
        txn: &Txn,
        result: &TxnResult,
        deleted: impl IntoIterator<Item = &'a String>,
    ) {
        if self.recorded.is_paused() {
            return;
        }
        if let (Txn::CloseSession(_), TxnResult::SessionClosed) = (txn, result) {
            deleted
                .into_iter()
                .for_each(|p| add(&mut self.write_per_namespace, p, java_len(p)));
            return;
        }
        self.record_write(txn, result);
    }

    fn record_write(&mut self, txn: &Txn, result: &TxnResult) {
        let (path, data) = match (txn, result) {
            (Txn::Multi(subs), TxnResult::Multi(results)) => {
                subs.iter()
                    .zip(results)
                    .for_each(|(t, r)| self.record_write(t, r));
                return;
            }
            (Txn::Create(t) | Txn::Create2(t), TxnResult::Created { .. }) => (&t.path, &t.data),
            (Txn::CreateContainer(t), TxnResult::Created { .. }) => (&t.path, &t.data),
            (Txn::CreateTtl(t), TxnResult::Created { .. }) => (&t.path, &t.data),
            (Txn::SetData(t) | Txn::Reconfig(t), TxnResult::SetData { .. }) => (&t.path, &t.data),
            (Txn::Delete(p) | Txn::DeleteContainer(p), TxnResult::Deleted) => (p, &None),
            _ => return,
        };
        add(
            &mut self.write_per_namespace,
            path,
            java_len(path) + data_len(data),
        );
    }

    /// A write a hard quota limit rejected (`updateQuotaExceededMetrics`).
    pub fn record_quota_exceeded(&mut self, path: &str) {
        let Some(ns) = top_namespace(path) else {
            return;
        };
        match self.quota_exceeded.iter_mut().find(|(k, _)| k == ns) {
            Some((_, n)) => *n += 1,
            None => self.quota_exceeded.push((ns.to_string(), 1)),
        }
    }

    fn read(&mut self, path: &str, payload: i64) {
        add(
            &mut self.read_per_namespace,
            path,
            java_len(path) + payload + STAT_OVERHEAD_BYTES,
        );
    }
}

fn add(set: &mut NamespaceSet, path: &str, bytes: i64) {
    if let Some(ns) = top_namespace(path) {
        set.record(ns, bytes);
    }
}

/// Java's `String.length()`: UTF-16 code units.
fn java_len(s: &str) -> i64 {
    (if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }) as i64
}

fn data_len(data: &Option<Vec<u8>>) -> i64 {
    data.as_ref().map_or(0, |d| d.len() as i64)
}

fn names_len(names: &[String]) -> i64 {
    names.iter().map(|n| java_len(n)).sum()
}

/// One client connection as the operations surface shows it (`ServerCnxn`).
#[derive(Clone, Debug)]
pub struct ConnSnapshot {
    pub peer: SocketAddr,
    /// NIO interest ops as Java prints them: 1 (read) while serving, 0 otherwise.
    pub interest_ops: u32,
    pub queued: usize,
    pub session: Option<i64>,
    pub timeout_ms: i32,
    pub stats: ConnStats,
}

/// The leader's view of its learners and proposals (`Leader`, `LeaderZooKeeperServer`
/// gauges).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaderSnapshot {
    /// Connected learners in any stage (`Leader.getLearners`).
    pub learners: usize,
    /// Followers receiving live traffic (`getForwardingFollowers`).
    pub synced_followers: usize,
    /// Of those, the ones outside the voting configuration (`getNonVotingFollowers`).
    pub synced_non_voting_followers: usize,
    /// Observers receiving live traffic (`getObservingLearners`).
    pub synced_observers: usize,
    /// Zxids with learners' `sync` requests waiting for them (`getNumPendingSyncs`).
    pub pending_syncs: usize,
    /// Ms since the epoch was established (`Leader.getUptime`).
    pub uptime_ms: i64,
    /// Serialized proposal sizes (`Leader.getProposalStats`).
    pub proposal_sizes: BufferStats,
    /// The synced observers' connections (`Leader.getObservingLearnersInfo`).
    pub observers: Vec<LearnerLinkInfo>,
}

/// One learner's connection to the leader (`LearnerHandler.getLearnerHandlerInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LearnerLinkInfo {
    /// The learner's socket address as Java prints it (`/host:port`).
    pub remote_socket_address: String,
    pub sid: i64,
    /// Wall ms when the connection was made.
    pub established_ms: i64,
    /// Packets waiting in its queue, and their bytes.
    pub queued_packets: usize,
    pub queued_packets_size: i64,
    pub packets_received: u64,
    pub packets_sent: u64,
    /// REQUEST packets (forwarded client requests) received.
    pub requests: u64,
    /// The zxid of the last packet with one handed to its writer (-1: none yet).
    pub last_zxid: i64,
}

/// Ensemble counters of `ServerMetrics` recorded by the peer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuorumCounters {
    pub proposal_count: u64,
    pub commit_count: u64,
    pub learner_proposal_received_count: u64,
    pub learner_commit_received_count: u64,
    pub looking_count: u64,
    pub snap_count: u64,
    pub diff_count: u64,
}

/// Ensemble summaries of `ServerMetrics` (ms, or sizes) recorded by the peer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuorumSummaries {
    pub election_time: SizeSummary,
    pub unavailable_time: SizeSummary,
    pub leader_unavailable_time: SizeSummary,
    pub follower_sync_time: SizeSummary,
    pub observer_sync_time: SizeSummary,
    /// Leader: proposal to quorum of ACKs.
    pub quorum_ack_latency: LatencyHistogram,
    /// Leader, per learner sid: packets queued when one more is queued.
    pub learner_handler_qp_size: NamespaceSummaries,
    /// Leader, per learner sid: how long a marker (one every 1000 packets queued)
    /// waited in the queue.
    pub learner_handler_qp_time: BTreeMap<String, LatencyHistogram>,
}

/// What an ensemble member adds to its snapshot (`QuorumPeer` and the role's server).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuorumSnapshot {
    /// `QuorumPeer.getDetailedPeerState`: `leading - broadcast`, …
    pub peer_state: String,
    /// Voting members (`QuorumPeer.getQuorumSize`).
    pub quorum_size: usize,
    /// The leader this server follows or is.
    pub leader_id: Option<i64>,
    pub leader: Option<LeaderSnapshot>,
    pub counters: QuorumCounters,
    pub summaries: QuorumSummaries,
}

impl SizeSummary {
    /// Adds one value (`AvgMinMaxCounter.add`).
    pub fn add(&mut self, v: i64) {
        self.record(v);
    }

    /// Adds `n` zeros.
    pub fn add_zeros(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        let first = self.histogram.count == 0;
        self.min = if first { 0 } else { self.min.min(0) };
        self.max = if first { 0 } else { self.max.max(0) };
        self.histogram.counts[0] += n;
        self.histogram.count += n;
    }

    /// Adds every value `other` holds.
    pub fn merge(&mut self, other: &SizeSummary) {
        if other.histogram.count == 0 {
            return;
        }
        let first = self.histogram.count == 0;
        self.min = if first {
            other.min
        } else {
            self.min.min(other.min)
        };
        self.max = if first {
            other.max
        } else {
            self.max.max(other.max)
        };
        let h = &mut self.histogram;
        h.counts
            .iter_mut()
            .zip(other.histogram.counts.iter())
            .for_each(|(a, b)| *a += b);
        h.count += other.histogram.count;
        h.sum = h.sum.saturating_add(other.histogram.sum);
    }
}

/// Everything the four-letter words, AdminServer commands and metrics report, copied
/// out of the core at one instant.
#[derive(Clone, Debug)]
pub struct ServerSnapshot {
    pub now_wall_ms: i64,
    pub now_mono_ms: i64,
    pub stats: ServerStats,
    pub outstanding_requests: usize,
    pub last_zxid: i64,
    pub node_count: usize,
    pub ephemerals_count: usize,
    pub approximate_data_size: i64,
    pub watch_count: usize,
    pub watch_summary: WatchSummary,
    /// `wchc`: session id → watched paths (data table).
    pub watches_by_session: Vec<(i64, Vec<String>)>,
    /// `wchp`: path → watching session ids (data table).
    pub watches_by_path: Vec<(String, Vec<i64>)>,
    /// Session count (`global_sessions`).
    pub sessions: usize,
    /// `dump`: expiry deadline (monotonic ms) → sessions.
    pub session_buckets: Vec<(i64, Vec<i64>)>,
    /// `dump`: session → ephemeral paths.
    pub ephemerals: Vec<(i64, Vec<String>)>,
    pub connections: Vec<ConnSnapshot>,
    pub digest: i64,
    pub tick_ms: i64,
    /// `standalone`, `leader`, `follower`, `observer` (or `looking`).
    pub server_state: &'static str,
    /// Whether clients are served (an ensemble member between roles is not).
    pub serving: bool,
    /// The quota gauge sets (`QuotaMetricsUtils`), read from the tree.
    pub quota: QuotaMetrics,
    /// Filled in by an ensemble member's driver; `None` standalone.
    pub quorum: Option<QuorumSnapshot>,
}

impl ServerSnapshot {
    /// Converts a monotonic deadline to wall-clock ms (`Time.elapsedTimeToDate`).
    pub fn mono_to_wall(&self, mono_ms: i64) -> i64 {
        self.now_wall_ms + (mono_ms - self.now_mono_ms)
    }
}

impl Core {
    /// Takes over the statistics of the core this one replaces (a learner reloading
    /// its database after a truncation).
    pub fn keep_stats_of(&mut self, old: &mut Core) {
        self.stats = std::mem::take(&mut old.stats);
    }

    /// Copies out what the operations surface reports.
    pub fn snapshot_stats(&self) -> ServerSnapshot {
        let session_of = |conn: u64| {
            self.conns
                .get(&conn)
                .and_then(|c| c.session)
                .map(|s| s.0)
                .unwrap_or(0)
        };
        let watches_by_session = self
            .watches
            .paths_by_watcher()
            .into_iter()
            .map(|(w, paths)| (session_of(w), paths))
            .collect();
        let watches_by_path = self
            .watches
            .watchers_by_path()
            .into_iter()
            .map(|(p, ws)| (p, ws.into_iter().map(session_of).collect()))
            .collect();
        ServerSnapshot {
            now_wall_ms: self.now_wall_ms,
            now_mono_ms: self.now_mono_ms,
            stats: self.stats.clone(),
            outstanding_requests: self.inflight.len(),
            last_zxid: self.last_applied_zxid,
            node_count: self.tree.node_count(),
            ephemerals_count: self.tree.ephemerals_count(),
            approximate_data_size: self.tree.approximate_data_size(),
            watch_count: self.watches.count(),
            watch_summary: self.watches.summary(),
            watches_by_session,
            watches_by_path,
            sessions: self.sessions.len(),
            session_buckets: self.session_buckets(),
            ephemerals: self.ephemerals_by_session(),
            connections: self.conn_snapshots(),
            digest: self.tree.digest(),
            tick_ms: self.cfg.tick_ms,
            server_state: self.role.name(),
            serving: self.serving,
            quota: self.tree.quota_metrics(),
            quorum: None,
        }
    }

    fn session_buckets(&self) -> Vec<(i64, Vec<i64>)> {
        self.sessions
            .buckets()
            .into_iter()
            .map(|(t, ids)| (t, ids.into_iter().map(|s| s.0).collect()))
            .collect()
    }

    fn ephemerals_by_session(&self) -> Vec<(i64, Vec<String>)> {
        self.tree
            .ephemerals_by_session()
            .iter()
            .filter(|(_, paths)| !paths.is_empty())
            .map(|(s, paths)| (*s, paths.iter().cloned().collect()))
            .collect()
    }

    fn conn_snapshots(&self) -> Vec<ConnSnapshot> {
        // A connection the server is closing has had its last frame queued; Java has
        // already taken it out of its set (`removeCnxn` comes before the socket closes).
        self.conns
            .values()
            .filter(|c| !c.closing)
            .map(|c| ConnSnapshot {
                peer: c.peer,
                interest_ops: u32::from(c.established),
                queued: c.queue().len(),
                session: c.session.map(|s| s.0),
                timeout_ms: c.timeout_ms,
                stats: c.stats.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{CreateTxn, GetDataResponse, PathWatchRequest, Stat};

    #[test]
    fn histogram_buckets_are_monotonic_and_cover_their_values() {
        for ms in [0, 1, 31, 32, 33, 47, 48, 64, 100, 1000, 65_000] {
            let b = bucket_of(ms);
            assert!(LatencyHistogram::bucket_floor(b) <= ms, "{ms}");
            if b + 1 < BUCKETS {
                assert!(LatencyHistogram::bucket_floor(b + 1) > ms, "{ms}");
            }
        }
    }

    #[test]
    fn quantiles_come_from_recorded_latencies() {
        let mut h = LatencyHistogram::default();
        for ms in [1, 2, 2, 3, 100] {
            h.record(ms);
        }
        assert_eq!(h.quantile(0.5), Some(2));
        assert_eq!(h.quantile(0.99), Some(96));
        assert_eq!((h.count, h.sum), (5, 108));
        assert_eq!(LatencyHistogram::default().quantile(0.5), None);
    }

    fn get(path: &str) -> PathWatchRequest {
        PathWatchRequest {
            path: path.into(),
            watch: false,
        }
    }

    fn summary(set: &NamespaceSet, key: &str) -> (u64, i64, i64, i64) {
        let s = set.get(key).expect("namespace");
        (s.histogram.count, s.histogram.sum, s.min, s.max)
    }

    #[test]
    fn stat_reset_clears_stats_and_metrics_but_keeps_namespace_keys() {
        let mut s = ServerStats::default();
        s.record_request(5, true);
        s.record_response_frame(&[0; 20]);
        s.record_read(
            &Request::Exists(get("/app")),
            &Ok(Response::Stat(Stat::default())),
        );
        s.reset();
        assert_eq!((s.count, s.update_latency.count, s.resets), (0, 0, 1));
        assert_eq!(s.client_response, BufferStats::default());
        assert_eq!(summary(&s.read_per_namespace, "app"), (0, 0, 0, 0));
    }

    #[test]
    fn response_sizes_exclude_the_length_prefix_and_start_at_minus_one() {
        let mut s = ServerStats::default();
        assert_eq!(
            s.client_response,
            BufferStats {
                last: -1,
                min: -1,
                max: -1
            }
        );
        s.record_response_frame(&[0; 97]);
        s.record_response_frame(&[0; 20]);
        s.record_response_frame(&[0; 44]);
        assert_eq!(
            s.client_response,
            BufferStats {
                last: 40,
                min: 16,
                max: 93
            }
        );
        let mut notification = vec![0, 0, 0, 30];
        notification.extend_from_slice(&(-1i32).to_be_bytes());
        notification.resize(34, 0);
        s.record_response_frame(&notification);
        assert_eq!(s.watch_bytes, 30);
        assert_eq!(s.response_bytes, 93 + 16 + 40);
        let mut auth = vec![0, 0, 0, 16];
        auth.extend_from_slice(&(-4i32).to_be_bytes());
        auth.resize(20, 0);
        s.record_response_frame(&auth);
        assert_eq!(s.response_bytes, 93 + 16 + 40);
    }

    #[test]
    fn reads_count_path_payload_and_stat_per_top_namespace() {
        let mut s = ServerStats::default();
        let data = GetDataResponse {
            data: Some(b"hello".to_vec()),
            stat: Stat::default(),
        };
        s.record_read(&Request::GetData(get("/app")), &Ok(Response::GetData(data)));
        s.record_read(
            &Request::Exists(get("/app/x")),
            &Ok(Response::Stat(Stat::default())),
        );
        s.record_read(
            &Request::GetChildren(get("/app")),
            &Ok(Response::GetChildren(vec!["x".into()])),
        );
        s.record_read(&Request::Exists(get("/nope")), &Err(ErrorCode::NoNode));
        s.record_read(
            &Request::GetChildren(get("/")),
            &Ok(Response::GetChildren(vec!["app".into()])),
        );
        // The values Apache ZooKeeper 3.8.0 reports for the same requests.
        assert_eq!(summary(&s.read_per_namespace, "app"), (3, 224, 73, 77));
        assert_eq!(s.read_per_namespace.len(), 1);
    }

    #[test]
    fn multi_reads_count_each_successful_operation() {
        let mut s = ServerStats::default();
        let req = Request::MultiRead(vec![
            Request::GetData(get("/a/b")),
            Request::GetChildren(get("/c")),
        ]);
        let rsp = Response::Multi(vec![
            MultiResult::GetData(GetDataResponse {
                data: None,
                stat: Stat::default(),
            }),
            MultiResult::Error(ErrorCode::NoNode),
        ]);
        s.record_read(&req, &Ok(rsp));
        assert_eq!(summary(&s.read_per_namespace, "a"), (1, 72, 72, 72));
        assert!(s.read_per_namespace.get("c").is_none());
    }

    #[test]
    fn writes_count_path_and_data_and_closed_sessions_their_ephemerals() {
        let mut s = ServerStats::default();
        let create = |p: &str, d: &[u8]| {
            Txn::Create(CreateTxn {
                path: p.into(),
                data: Some(d.to_vec()),
                acl: vec![],
                ephemeral: false,
                parent_cversion: 1,
            })
        };
        let created = TxnResult::Created {
            path: String::new(),
            stat: Stat::default(),
        };
        s.record_writes(&create("/app", b"hello"), &created, []);
        s.record_writes(&create("/app/x", b"ab"), &created, []);
        s.record_writes(
            &create("/app/y", b"ab"),
            &TxnResult::Error(ErrorCode::NodeExists),
            [],
        );
        let multi = Txn::Multi(vec![
            Txn::Delete("/app/x".into()),
            Txn::Delete("/zookeeper/q".into()),
        ]);
        s.record_writes(
            &multi,
            &TxnResult::Multi(vec![TxnResult::Deleted, TxnResult::Deleted]),
            [],
        );
        let gone = ["/app/e".to_string(), "/other/é".to_string()];
        s.record_writes(
            &Txn::CloseSession(None),
            &TxnResult::SessionClosed,
            gone.iter(),
        );
        assert_eq!(summary(&s.write_per_namespace, "app"), (4, 29, 6, 9));
        assert_eq!(
            summary(&s.write_per_namespace, "zookeeper"),
            (1, 12, 12, 12)
        );
        assert_eq!(summary(&s.write_per_namespace, "other"), (1, 8, 8, 8));
    }

    #[test]
    fn top_namespace_is_the_first_component() {
        assert_eq!(top_namespace("/"), None);
        assert_eq!(top_namespace("/a"), Some("a"));
        assert_eq!(top_namespace("/zookeeper/quota"), Some("zookeeper"));
        assert_eq!(top_namespace("rel"), None);
    }
}
