//! Server statistics the core keeps on the request path, and the plain snapshot of its
//! state that the operations surface (four-letter words, AdminServer, metrics) renders
//! (`ServerStats`, plus what `command/*Command` read from `ZooKeeperServer`).
//!
//! Recording is a few integer increments per request; everything else is computed only
//! when a snapshot is asked for, so monitoring costs nothing between scrapes.

use super::conn::ConnStats;
use super::core::Core;
use crate::watch::WatchSummary;
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
        LatencyHistogram { counts: Box::new([0; BUCKETS]), count: 0, sum: 0 }
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

/// Server-wide counters behind `srvr`/`stat`/`mntr` (`ServerStats`).
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
}

impl ServerStats {
    pub fn record_latency(&mut self, latency_ms: i64) {
        let l = latency_ms.max(0);
        self.min_latency_ms = if self.count == 0 { l } else { self.min_latency_ms.min(l) };
        self.max_latency_ms = self.max_latency_ms.max(l);
        self.total_latency_ms += l;
        self.count += 1;
    }

    /// Latency of one answered request, by kind (`ServerStats.updateLatency`).
    pub fn record_request(&mut self, latency_ms: i64, update: bool) {
        self.record_latency(latency_ms);
        if update {
            self.update_latency.record(latency_ms);
        } else {
            self.read_latency.record(latency_ms);
        }
    }

    /// `srst`: resets the `srvr` counters. The summaries, like Java's metrics, are not
    /// reset by it.
    pub fn reset(&mut self) {
        let (read, update) = (std::mem::take(&mut self.read_latency), std::mem::take(&mut self.update_latency));
        *self = ServerStats { read_latency: read, update_latency: update, ..ServerStats::default() };
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
}

impl ServerSnapshot {
    /// Converts a monotonic deadline to wall-clock ms (`Time.elapsedTimeToDate`).
    pub fn mono_to_wall(&self, mono_ms: i64) -> i64 {
        self.now_wall_ms + (mono_ms - self.now_mono_ms)
    }
}

impl Core {
    /// Copies out what the operations surface reports.
    pub fn snapshot_stats(&self) -> ServerSnapshot {
        let session_of = |conn: u64| self.conns.get(&conn).and_then(|c| c.session).map(|s| s.0).unwrap_or(0);
        let watches_by_session =
            self.watches.paths_by_watcher().into_iter().map(|(w, paths)| (session_of(w), paths)).collect();
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
        }
    }

    fn session_buckets(&self) -> Vec<(i64, Vec<i64>)> {
        self.sessions.buckets().into_iter().map(|(t, ids)| (t, ids.into_iter().map(|s| s.0).collect())).collect()
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
        self.conns
            .values()
            .map(|c| ConnSnapshot {
                peer: c.peer,
                interest_ops: u32::from(c.established && !c.closing),
                queued: c.queue.len(),
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

    #[test]
    fn stat_reset_keeps_the_summaries() {
        let mut s = ServerStats::default();
        s.record_request(5, true);
        s.reset();
        assert_eq!((s.count, s.update_latency.count), (0, 1));
    }
}
