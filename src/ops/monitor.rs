//! The metrics `mntr`, the AdminServer's `monitor` and the Prometheus endpoint report:
//! the names, kinds and detail levels of Apache ZooKeeper 3.8's `ServerMetrics` and the
//! gauges `ZooKeeperServer.registerMetrics` adds, with values read from a snapshot.
//!
//! The names come from `crate::node::recorded`. Each value rzk has a counterpart for is
//! recorded where the equivalent work happens (the request path, the log writer, the
//! peer); the few that describe machinery rzk does not have (a JVM's pauses, a
//! response cache, the commit processor's thread pool) stay at zero, which is what an
//! idle Java server reports for them, so dashboards and scripts still find every name.

use super::json::round4;
use super::system::Facts;
use crate::node::recorded::{Advanced, Basic, Counter};
use crate::node::stats::{LatencyHistogram, QuorumSnapshot, ServerSnapshot, SizeSummary};
use std::collections::BTreeMap;

/// A gauge or counter value; Java prints longs as integers and doubles with a decimal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Double(f64),
}

impl Value {
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Int(i) => i as f64,
            Value::Double(d) => d,
        }
    }
}

/// One summary's aggregate (`AvgMinMaxCounter` / `AvgMinMaxPercentileCounter`).
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryValue {
    pub name: &'static str,
    pub advanced: bool,
    pub count: u64,
    pub sum: i64,
    pub min: i64,
    pub max: i64,
    /// p50, p95, p99, p999 (advanced only).
    pub percentiles: [i64; 4],
    /// The recorded distribution, when rzk keeps one.
    pub histogram: Option<LatencyHistogram>,
}

impl SummaryValue {
    #[cfg(test)]
    fn empty(name: &'static str, advanced: bool) -> SummaryValue {
        SummaryValue {
            name,
            advanced,
            count: 0,
            sum: 0,
            min: 0,
            max: 0,
            percentiles: [0; 4],
            histogram: None,
        }
    }

    /// A BASIC summary with exact min and max (`AvgMinMaxCounter`).
    fn from_sizes(name: &'static str, s: &SizeSummary) -> SummaryValue {
        let h = &s.histogram;
        SummaryValue {
            name,
            advanced: false,
            count: h.count,
            sum: h.sum,
            min: s.min,
            max: s.max,
            percentiles: [0; 4],
            histogram: Some(h.clone()),
        }
    }

    /// An ADVANCED summary with exact min and max, percentiles from the distribution.
    fn from_timings(name: &'static str, s: &SizeSummary) -> SummaryValue {
        let q = |p: f64| s.histogram.quantile(p).unwrap_or(0);
        SummaryValue {
            advanced: true,
            percentiles: [q(0.5), q(0.95), q(0.99), q(0.999)],
            ..SummaryValue::from_sizes(name, s)
        }
    }

    fn from_histogram(name: &'static str, h: &LatencyHistogram) -> SummaryValue {
        let q = |p: f64| h.quantile(p).unwrap_or(0);
        let max = h
            .counts
            .iter()
            .rposition(|&c| c > 0)
            .map(LatencyHistogram::bucket_floor)
            .unwrap_or(0);
        SummaryValue {
            name,
            advanced: true,
            count: h.count,
            sum: h.sum,
            min: q(0.0),
            max,
            percentiles: [q(0.5), q(0.95), q(0.99), q(0.999)],
            histogram: Some(h.clone()),
        }
    }

    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            round4(self.sum as f64 / self.count as f64)
        }
    }
}

/// A summary set (`SummarySet`): one summary per value of the label `key`.
#[derive(Clone, Debug, PartialEq)]
pub struct SummarySetValue {
    pub name: &'static str,
    /// ADVANCED detail level (percentiles; three Prometheus quantiles).
    pub advanced: bool,
    /// In the order Java's map of the set's keys iterates.
    pub entries: Vec<(String, SummaryValue)>,
}

impl SummarySetValue {
    fn from_namespaces<'a>(
        name: &'static str,
        set: impl IntoIterator<Item = (&'a String, &'a SizeSummary)>,
    ) -> SummarySetValue {
        let entries = java_hash_order(
            set.into_iter()
                .map(|(k, s)| (k.clone(), SummaryValue::from_sizes(name, s)))
                .collect(),
        );
        SummarySetValue {
            name,
            advanced: false,
            entries,
        }
    }

    fn from_histograms(
        name: &'static str,
        set: &BTreeMap<String, LatencyHistogram>,
    ) -> SummarySetValue {
        let entries = java_hash_order(
            set.iter()
                .map(|(k, h)| (k.clone(), SummaryValue::from_histogram(name, h)))
                .collect(),
        );
        SummarySetValue {
            name,
            advanced: true,
            entries,
        }
    }
}

/// Java's `String.hashCode` over UTF-16 code units.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// Sorts `(name, _)` pairs into the order a `ConcurrentHashMap` holding just these
/// names, inserted in the given order, iterates them: by bucket of the spread hash in
/// a table grown from 16 at three quarters full, ties in insertion order. The default
/// metrics provider keeps every metric kind in such a map and `mntr` prints them in
/// that order.
pub fn java_hash_order<K: AsRef<str>, T>(mut items: Vec<(K, T)>) -> Vec<(K, T)> {
    let mut table = 16usize;
    while items.len() >= table - table / 4 {
        table *= 2;
    }
    items.sort_by_key(|(name, _)| {
        let h = java_hash(name.as_ref());
        let spread = (h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff;
        spread as usize & (table - 1)
    });
    items
}

/// Every metric with its value at one instant.
#[derive(Clone, Debug)]
pub struct Metrics {
    pub gauges: Vec<(&'static str, Value)>,
    /// Gauges registered whose value is null: the default provider leaves them out, the
    /// Prometheus provider samples them as 0 (a follower's `synced_observers` without
    /// observer masters, `Follower.getSyncedObserverSize`).
    pub null_gauges: Vec<&'static str>,
    /// The quota gauge sets, each with its values by namespace.
    pub gauge_sets: Vec<(&'static str, Vec<(String, i64)>)>,
    pub counters: Vec<(&'static str, i64)>,
    /// `quota_exceeded_error_per_namespace` by namespace.
    pub counter_sets: Vec<(&'static str, Vec<(String, i64)>)>,
    pub summaries: Vec<SummaryValue>,
    /// `learner_handler_qp_size`, `read_per_namespace`, `write_per_namespace` (BASIC),
    /// then `learner_handler_qp_time_ms` (ADVANCED).
    pub summary_sets: Vec<SummarySetValue>,
    /// `srst` count of the snapshot: the summaries started over when it changed.
    pub resets: u64,
}

/// The gauges of `ZooKeeperServer.registerMetrics` and, in an ensemble, of
/// `QuorumZooKeeperServer` and `LeaderZooKeeperServer`, in the order a 3.8.0 `mntr`
/// prints them (a hash order; consumers must not rely on it).
fn gauges(s: &ServerSnapshot, f: &Facts) -> Vec<(&'static str, Value)> {
    let mut g = server_gauges(s, f);
    if let Some(q) = &s.quorum {
        g.extend(quorum_gauges(q));
    }
    java_hash_order(g)
}

/// Registration order matters for the names that share a hash bucket.
fn quorum_gauges(q: &QuorumSnapshot) -> Vec<(&'static str, Value)> {
    use Value::Int;
    let mut g = vec![("quorum_size", Int(q.quorum_size as i64))];
    if let Some(l) = &q.leader {
        g.extend([
            ("learners", Int(l.learners as i64)),
            ("synced_followers", Int(l.synced_followers as i64)),
            (
                "synced_non_voting_followers",
                Int(l.synced_non_voting_followers as i64),
            ),
            ("synced_observers", Int(l.synced_observers as i64)),
            ("pending_syncs", Int(l.pending_syncs as i64)),
            ("leader_uptime", Int(l.uptime_ms)),
            ("last_proposal_size", Int(l.proposal_sizes.last.into())),
            ("max_proposal_size", Int(l.proposal_sizes.max.into())),
            ("min_proposal_size", Int(l.proposal_sizes.min.into())),
        ]);
    }
    g
}

fn server_gauges(s: &ServerSnapshot, f: &Facts) -> Vec<(&'static str, Value)> {
    use Value::{Double, Int};
    let st = &s.stats;
    vec![
        ("ephemerals_count", Int(s.ephemerals_count as i64)),
        ("num_alive_connections", Int(s.connections.len() as i64)),
        ("avg_latency", Double(round4(st.avg_latency()))),
        ("outstanding_requests", Int(s.outstanding_requests as i64)),
        ("znode_count", Int(s.node_count as i64)),
        ("global_sessions", Int(s.sessions as i64)),
        ("non_mtls_remote_conn_count", Int(0)),
        (
            "last_client_response_size",
            Int(st.client_response.last.into()),
        ),
        ("packets_sent", Int(st.packets_sent as i64)),
        ("packets_received", Int(st.packets_received as i64)),
        (
            "max_client_response_size",
            Int(st.client_response.max.into()),
        ),
        ("connection_drop_probability", Double(0.0)),
        ("watch_count", Int(s.watch_count as i64)),
        ("auth_failed_count", Int(0)),
        ("min_latency", Int(st.min_latency_ms)),
        ("max_file_descriptor_count", Int(f.max_fds)),
        ("approximate_data_size", Int(s.approximate_data_size)),
        ("open_file_descriptor_count", Int(f.open_fds)),
        ("local_sessions", Int(0)),
        ("uptime", Int(f.uptime_ms)),
        ("max_latency", Int(st.max_latency_ms)),
        ("outstanding_tls_handshake", Int(0)),
        (
            "min_client_response_size",
            Int(st.client_response.min.into()),
        ),
        ("non_mtls_local_conn_count", Int(0)),
    ]
}

pub fn collect(s: &ServerSnapshot, f: &Facts) -> Metrics {
    let q = s.quorum.as_ref();
    let rec = &s.stats.recorded;
    let mut summaries: Vec<SummaryValue> = Basic::ALL
        .iter()
        .map(|&b| match q.and_then(|q| basic_quorum_summary(q, b)) {
            Some(sizes) => SummaryValue::from_sizes(b.name(), sizes),
            None => SummaryValue::from_sizes(b.name(), &rec.basic(b)),
        })
        .collect();
    summaries.extend(Advanced::ALL.iter().map(|&a| {
        match a {
            Advanced::ReadLatency => SummaryValue::from_histogram(a.name(), &s.stats.read_latency),
            Advanced::UpdateLatency => {
                SummaryValue::from_histogram(a.name(), &s.stats.update_latency)
            }
            Advanced::QuorumAckLatency if q.is_some() => SummaryValue::from_histogram(
                a.name(),
                &q.map(|q| &q.summaries.quorum_ack_latency)
                    .cloned()
                    .unwrap_or_default(),
            ),
            _ => SummaryValue::from_timings(a.name(), &rec.advanced(a)),
        }
    }));
    let counters = Counter::ALL
        .iter()
        .map(|&c| (c.name(), counter(s, c)))
        .collect();
    Metrics {
        gauges: gauges(s, f),
        null_gauges: if s.server_state == "follower" {
            vec!["synced_observers"]
        } else {
            vec![]
        },
        gauge_sets: quota_gauge_sets(s),
        counters,
        counter_sets: vec![(
            "quota_exceeded_error_per_namespace",
            java_hash_order(s.stats.quota_exceeded.clone()),
        )],
        summaries,
        summary_sets: summary_sets(s),
        resets: s.stats.resets,
    }
}

/// `ZooKeeperServer.registerMetrics`' quota gauge sets, in the provider's map order,
/// each keyed by namespace in the order of the map `QuotaMetricsUtils` fills.
fn quota_gauge_sets(s: &ServerSnapshot) -> Vec<(&'static str, Vec<(String, i64)>)> {
    let q = &s.quota;
    java_hash_order(vec![
        ("quota_count_limit_per_namespace", &q.count_limit),
        ("quota_bytes_limit_per_namespace", &q.bytes_limit),
        ("quota_count_usage_per_namespace", &q.count_usage),
        ("quota_bytes_usage_per_namespace", &q.bytes_usage),
    ])
    .into_iter()
    .map(|(name, values)| (name, java_hash_order(values.clone())))
    .collect()
}

fn summary_sets(s: &ServerSnapshot) -> Vec<SummarySetValue> {
    let empty = QuorumSnapshot::default();
    let q = &s.quorum.as_ref().unwrap_or(&empty).summaries;
    let mut basic = java_hash_order(vec![
        (
            "learner_handler_qp_size",
            SummarySetValue::from_namespaces("learner_handler_qp_size", &q.learner_handler_qp_size),
        ),
        (
            "read_per_namespace",
            SummarySetValue::from_namespaces(
                "read_per_namespace",
                s.stats.read_per_namespace.iter(),
            ),
        ),
        (
            "write_per_namespace",
            SummarySetValue::from_namespaces(
                "write_per_namespace",
                s.stats.write_per_namespace.iter(),
            ),
        ),
    ]);
    basic.push((
        "learner_handler_qp_time_ms",
        SummarySetValue::from_histograms("learner_handler_qp_time_ms", &q.learner_handler_qp_time),
    ));
    basic.into_iter().map(|(_, set)| set).collect()
}

/// The ensemble's BASIC summaries (`ServerMetrics` that `QuorumPeer`, `Leader`,
/// `Follower` and `Observer` add to).
fn basic_quorum_summary(q: &QuorumSnapshot, b: Basic) -> Option<&SizeSummary> {
    let s = &q.summaries;
    Some(match b {
        Basic::ElectionTime => &s.election_time,
        Basic::UnavailableTime => &s.unavailable_time,
        Basic::LeaderUnavailableTime => &s.leader_unavailable_time,
        Basic::FollowerSyncTime => &s.follower_sync_time,
        Basic::ObserverSyncTime => &s.observer_sync_time,
        _ => return None,
    })
}

/// A counter's value: what the request path recorded, plus what the peer keeps.
fn counter(s: &ServerSnapshot, c: Counter) -> i64 {
    let own = match c {
        Counter::WatchBytes => s.stats.watch_bytes,
        Counter::ResponseBytes => s.stats.response_bytes,
        _ => 0,
    };
    let peer = s.quorum.as_ref().map_or(0, |q| {
        let n = &q.counters;
        let v = match c {
            Counter::ProposalCount => n.proposal_count,
            Counter::CommitCount => n.commit_count,
            Counter::LearnerProposalReceivedCount => n.learner_proposal_received_count,
            Counter::LearnerCommitReceivedCount => n.learner_commit_received_count,
            Counter::LookingCount => n.looking_count,
            Counter::SnapCount => n.snap_count,
            Counter::DiffCount => n.diff_count,
            _ => 0,
        };
        i64::try_from(v).unwrap_or(i64::MAX)
    });
    own.saturating_add(peer)
        .saturating_add(s.stats.recorded.counter(c))
}

/// A value of the first `mntr` keys (`dumpMonitorValues`): text or a number.
#[derive(Clone, Debug, PartialEq)]
pub enum HeadValue {
    Text(String),
    Int(i64),
}

impl std::fmt::Display for HeadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadValue::Text(t) => f.write_str(t),
            HeadValue::Int(i) => write!(f, "{i}"),
        }
    }
}

/// The keys `dumpMonitorValues` puts before the metrics: version and state, then in
/// an ensemble the detailed peer state (`QuorumZooKeeperServer`) and an observer's
/// leader (`ObserverZooKeeperServer`).
pub fn head(s: &ServerSnapshot) -> Vec<(&'static str, HeadValue)> {
    let mut out = vec![
        ("version", HeadValue::Text(super::VERSION.to_string())),
        ("server_state", HeadValue::Text(s.server_state.to_string())),
    ];
    if let Some(q) = &s.quorum {
        out.push(("peer_state", HeadValue::Text(q.peer_state.clone())));
        if s.server_state == "observer" {
            out.push((
                "observer_master_id",
                HeadValue::Int(q.leader_id.unwrap_or(-1)),
            ));
        }
    }
    out
}

/// `mntr`/`monitor` keys and values after the [`head`] keys, without
/// the `zk_` prefix (`DefaultMetricsProvider` naming).
pub fn flat(m: &Metrics) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = m.gauges.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    // Gauge and counter sets print each key as `<key>_<name>`.
    let keyed = |sets: &[(&str, Vec<(String, i64)>)]| -> Vec<(String, Value)> {
        sets.iter()
            .flat_map(|(name, values)| {
                values
                    .iter()
                    .map(move |(key, v)| (format!("{key}_{name}"), Value::Int(*v)))
            })
            .collect()
    };
    out.extend(keyed(&m.gauge_sets));
    out.extend(
        m.counters
            .iter()
            .map(|(n, v)| (n.to_string(), Value::Int(*v))),
    );
    out.extend(keyed(&m.counter_sets));
    for s in &m.summaries {
        push_summary(&mut out, s.name, s);
    }
    // `AvgMinMaxCounterSet.values`: per key, the summary named `<key>_<name>`.
    for set in &m.summary_sets {
        for (key, s) in &set.entries {
            push_summary(&mut out, &format!("{key}_{}", set.name), s);
        }
    }
    out
}

fn push_summary(out: &mut Vec<(String, Value)>, name: &str, s: &SummaryValue) {
    out.push((format!("avg_{name}"), Value::Double(s.avg())));
    out.push((format!("min_{name}"), Value::Int(s.min)));
    out.push((format!("max_{name}"), Value::Int(s.max)));
    out.push((format!("cnt_{name}"), Value::Int(s.count as i64)));
    out.push((format!("sum_{name}"), Value::Int(s.sum)));
    if s.advanced {
        for (p, v) in ["p50", "p95", "p99", "p999"].iter().zip(s.percentiles) {
            out.push((format!("{p}_{name}"), Value::Int(v)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::node::stats::{LeaderSnapshot, QuorumSnapshot};
    use crate::node::{Core, CoreConfig};

    fn snapshot(quorum: Option<QuorumSnapshot>) -> ServerSnapshot {
        let core = Core::new(
            CoreConfig::from_config(&Config::standalone_default(), None),
            1_000,
            0,
            7,
        );
        ServerSnapshot {
            quorum,
            ..core.snapshot_stats()
        }
    }

    fn facts() -> Facts {
        Facts {
            uptime_ms: 1,
            data_dir_size: 0,
            log_dir_size: 0,
            open_fds: 1,
            max_fds: 2,
        }
    }

    fn gauge_names(s: &ServerSnapshot) -> Vec<&'static str> {
        gauges(s, &facts()).into_iter().map(|(n, _)| n).collect()
    }

    // The gauges of a 3.8.0 leader's `mntr`, in its order.
    const LEADER_GAUGES: &str = "ephemerals_count num_alive_connections avg_latency min_proposal_size \
        outstanding_requests znode_count global_sessions non_mtls_remote_conn_count last_client_response_size \
        packets_sent packets_received max_proposal_size max_client_response_size synced_followers \
        connection_drop_probability watch_count synced_non_voting_followers synced_observers auth_failed_count \
        min_latency max_file_descriptor_count approximate_data_size open_file_descriptor_count last_proposal_size \
        pending_syncs leader_uptime local_sessions uptime max_latency outstanding_tls_handshake learners \
        min_client_response_size non_mtls_local_conn_count quorum_size";

    #[test]
    fn gauges_follow_javas_hash_order_in_every_role() {
        let leader = QuorumSnapshot {
            leader: Some(LeaderSnapshot::default()),
            ..Default::default()
        };
        assert_eq!(
            gauge_names(&snapshot(Some(leader))),
            LEADER_GAUGES.split_whitespace().collect::<Vec<_>>()
        );
        let learner: Vec<&str> = LEADER_GAUGES
            .split_whitespace()
            .filter(|n| {
                !n.contains("proposal_size")
                    && !n.contains("synced")
                    && !["pending_syncs", "leader_uptime", "learners"].contains(n)
            })
            .collect();
        assert_eq!(
            gauge_names(&snapshot(Some(QuorumSnapshot::default()))),
            learner
        );
        let standalone: Vec<&str> = learner
            .iter()
            .copied()
            .filter(|n| *n != "quorum_size")
            .collect();
        assert_eq!(gauge_names(&snapshot(None)), standalone);
    }

    #[test]
    fn summary_sets_print_learner_queues_then_reads_then_writes_then_queue_times() {
        let mut q = QuorumSnapshot::default();
        for sid in ["4", "2", "1"] {
            q.summaries
                .learner_handler_qp_size
                .insert(sid.into(), SizeSummary::default());
            q.summaries
                .learner_handler_qp_time
                .insert(sid.into(), LatencyHistogram::default());
        }
        let mut s = snapshot(Some(q));
        for ns in ["zookeeper", "app"] {
            s.stats
                .read_per_namespace
                .insert(ns, SizeSummary::default());
            s.stats
                .write_per_namespace
                .insert(ns, SizeSummary::default());
        }
        let m = collect(&s, &facts());
        let keys: Vec<String> = flat(&m)
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| {
                k.starts_with("avg_") && (k.contains("learner_handler") || k.contains("namespace"))
            })
            .collect();
        assert_eq!(
            keys,
            [
                "avg_1_learner_handler_qp_size",
                "avg_2_learner_handler_qp_size",
                "avg_4_learner_handler_qp_size",
                "avg_app_read_per_namespace",
                "avg_zookeeper_read_per_namespace",
                "avg_app_write_per_namespace",
                "avg_zookeeper_write_per_namespace",
                "avg_1_learner_handler_qp_time_ms",
                "avg_2_learner_handler_qp_time_ms",
                "avg_4_learner_handler_qp_time_ms"
            ]
        );
    }

    #[test]
    fn ensemble_members_print_their_peer_state_and_an_observer_its_leader() {
        let q = QuorumSnapshot {
            peer_state: "observing - broadcast".into(),
            leader_id: Some(3),
            ..Default::default()
        };
        let s = ServerSnapshot {
            server_state: "observer",
            ..snapshot(Some(q))
        };
        let keys: Vec<String> = head(&s)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            keys[1..],
            [
                "server_state=observer",
                "peer_state=observing - broadcast",
                "observer_master_id=3"
            ]
        );
        assert_eq!(head(&snapshot(None)).len(), 2);
    }

    #[test]
    fn quorum_counters_reach_the_counter_list() {
        let mut q = QuorumSnapshot::default();
        q.counters.proposal_count = 6;
        q.counters.looking_count = 1;
        let m = collect(&snapshot(Some(q)), &facts());
        let get = |n: &str| m.counters.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        assert_eq!(
            (
                get("proposal_count"),
                get("looking_count"),
                get("commit_count")
            ),
            (Some(6), Some(1), Some(0))
        );
    }

    #[test]
    fn advanced_summaries_have_nine_keys_and_basic_five() {
        let m = Metrics {
            gauges: vec![],
            null_gauges: vec![],
            gauge_sets: vec![],
            counters: vec![],
            counter_sets: vec![],
            summaries: vec![
                SummaryValue::empty("fsynctime", false),
                SummaryValue::empty("readlatency", true),
            ],
            summary_sets: vec![],
            resets: 0,
        };
        let keys: Vec<String> = flat(&m).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys.len(), 14);
        assert_eq!(keys[0], "avg_fsynctime");
        assert_eq!(keys[13], "p999_readlatency");
    }

    #[test]
    fn latency_summary_reads_the_histogram() {
        let mut h = LatencyHistogram::default();
        [1, 2, 12].iter().for_each(|&ms| h.record(ms));
        let s = SummaryValue::from_histogram("readlatency", &h);
        assert_eq!((s.count, s.sum, s.min, s.max, s.avg()), (3, 15, 1, 12, 5.0));
        assert_eq!(s.percentiles, [2, 12, 12, 12]);
    }

    #[test]
    fn namespace_summaries_are_named_key_then_metric() {
        let mut sizes = SizeSummary::default();
        sizes.histogram.record(9);
        sizes.histogram.record(8);
        (sizes.min, sizes.max) = (8, 9);
        let set: crate::node::stats::NamespaceSummaries =
            [("app".to_string(), sizes)].into_iter().collect();
        let m = Metrics {
            gauges: vec![],
            null_gauges: vec![],
            gauge_sets: vec![],
            counters: vec![],
            counter_sets: vec![],
            summaries: vec![],
            summary_sets: vec![SummarySetValue::from_namespaces(
                "write_per_namespace",
                &set,
            )],
            resets: 0,
        };
        let got = flat(&m);
        let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "avg_app_write_per_namespace",
                "min_app_write_per_namespace",
                "max_app_write_per_namespace",
                "cnt_app_write_per_namespace",
                "sum_app_write_per_namespace"
            ]
        );
        assert_eq!(got[0].1, Value::Double(8.5));
        assert_eq!(
            (got[1].1, got[2].1, got[4].1),
            (Value::Int(8), Value::Int(9), Value::Int(17))
        );
    }

    #[test]
    fn quota_sets_follow_the_gauges_and_the_counters_in_javas_order() {
        // Apache ZooKeeper 3.8.0's `mntr` after `setquota -n 10 -b 1000 /app`.
        let mut s = snapshot(None);
        let app = |v: i64| vec![("app".to_string(), v)];
        s.quota.count_limit = app(10);
        s.quota.bytes_limit = app(1000);
        s.quota.count_usage = app(2);
        s.quota.bytes_usage = app(6);
        s.stats.quota_exceeded = app(1);
        let flat = flat(&collect(&s, &facts()));
        let keys: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
        let at = keys
            .iter()
            .position(|k| *k == "app_quota_bytes_limit_per_namespace")
            .unwrap();
        assert_eq!(
            keys[at - 1..at + 5],
            [
                "non_mtls_local_conn_count",
                "app_quota_bytes_limit_per_namespace",
                "app_quota_count_usage_per_namespace",
                "app_quota_count_limit_per_namespace",
                "app_quota_bytes_usage_per_namespace",
                "proposal_count",
            ]
        );
        assert_eq!(flat[at].1, Value::Int(1000));
        let e = keys
            .iter()
            .position(|k| *k == "app_quota_exceeded_error_per_namespace")
            .unwrap();
        assert_eq!(keys[e - 1], Counter::ALL.last().unwrap().name());
        assert!(keys[e + 1].starts_with("avg_"), "{:?}", &keys[e..e + 2]);
    }

    #[test]
    fn a_followers_synced_observers_is_null_left_out_of_the_default_layout() {
        let s = ServerSnapshot {
            server_state: "follower",
            ..snapshot(Some(QuorumSnapshot::default()))
        };
        let m = collect(&s, &facts());
        assert_eq!(m.null_gauges, ["synced_observers"]);
        assert!(flat(&m).iter().all(|(k, _)| k != "synced_observers"));
        assert!(collect(&snapshot(None), &facts()).null_gauges.is_empty());
    }
}
