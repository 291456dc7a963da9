//! The Prometheus endpoint (`PrometheusMetricsProvider`): the metrics of
//! [`monitor`](super::monitor) under their bare names, summaries with `quantile` labels
//! plus `_count` and `_sum`, rendered by `metrics-exporter-prometheus`.
//!
//! Values are pushed into a private recorder at scrape time from a core snapshot, never
//! on the request path: the core only bumps its own counters and latency buckets. The
//! latency buckets recorded since the previous scrape are replayed into the exporter's
//! summaries, so `readlatency`/`updatelatency` quantiles reflect real requests.
//!
//! With `exportJvmInfo` (the default) Java adds JVM collectors; rzk exports the process
//! facts that mean the same (threads, resident memory, file descriptors, CPU) under the
//! names dashboards query, with zero for what a native process does not have (classes,
//! garbage collection, deadlocks).

use super::monitor::{Metrics, SummarySetValue, SummaryValue};
use crate::node::stats::LatencyHistogram;
use metrics::{counter, gauge, histogram, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// `metricsProvider.className` that turns the endpoint on.
pub const PROVIDER_CLASS: &str =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

/// The label of summary sets (`PrometheusMetricsProvider.LABELS`).
const KEY_LABEL: &str = "key";

pub struct Exporter {
    /// Gauges, counters and ADVANCED summaries (quantiles 0.5, 0.9, 0.99).
    advanced: PrometheusRecorder,
    /// BASIC summaries and summary sets (quantile 0.5 only).
    basic: PrometheusRecorder,
    fed: Mutex<Fed>,
}

/// Per summary (and label value), the bucket counts already replayed into a recorder,
/// as of the core's `srst` count `resets`.
#[derive(Default)]
struct Fed {
    resets: u64,
    counts: BTreeMap<(&'static str, String), Vec<u64>>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Exporter")
    }
}

impl Default for Exporter {
    fn default() -> Self {
        Exporter::new()
    }
}

/// A recorder whose summaries have `quantiles` over a sliding window of ten minutes in
/// five steps, like simpleclient's defaults (`maxAgeSeconds` 600, `ageBuckets` 5).
fn recorder(quantiles: &[f64]) -> PrometheusRecorder {
    let builder =
        PrometheusBuilder::new().set_bucket_count(std::num::NonZeroU32::MIN.saturating_add(4));
    let builder = match builder.set_bucket_duration(Duration::from_secs(120)) {
        Ok(b) => b,
        Err(_) => PrometheusBuilder::new(),
    };
    match builder.set_quantiles(quantiles) {
        Ok(b) => b.build_recorder(),
        Err(_) => PrometheusBuilder::new().build_recorder(),
    }
}

impl Exporter {
    pub fn new() -> Exporter {
        Exporter {
            advanced: recorder(&[0.5, 0.9, 0.99]),
            basic: recorder(&[0.5]),
            fed: Mutex::new(Fed::default()),
        }
    }

    /// The exposition text for `m`.
    pub fn render(&self, m: &Metrics) -> String {
        let Ok(mut fed) = self.fed.lock() else {
            return String::new();
        };
        if fed.resets != m.resets {
            // `srst` emptied the core's summaries; Java's Prometheus summaries ignore it
            // (`resetAllValues` is a no-op), so everything recorded since is new here.
            *fed = Fed {
                resets: m.resets,
                counts: BTreeMap::new(),
            };
        }
        metrics::with_local_recorder(&self.advanced, || {
            for (name, v) in &m.gauges {
                gauge!(*name).set(v.as_f64());
            }
            for (name, v) in &m.counters {
                counter!(*name).absolute((*v).max(0) as u64);
            }
            for s in m.summaries.iter().filter(|s| s.advanced) {
                fed.replay(s, String::new(), &histogram!(s.name));
            }
            fed.replay_sets(m.summary_sets.iter().filter(|set| set.advanced));
            process_metrics();
        });
        metrics::with_local_recorder(&self.basic, || {
            for s in m.summaries.iter().filter(|s| !s.advanced) {
                fed.replay(s, String::new(), &histogram!(s.name));
            }
            fed.replay_sets(m.summary_sets.iter().filter(|set| !set.advanced));
        });
        let mut text = self.advanced.handle().render();
        text.push_str(&self.basic.handle().render());
        text
    }
}

impl Fed {
    /// Replays summary sets into the current recorder, one labelled summary per key.
    fn replay_sets<'a>(&mut self, sets: impl Iterator<Item = &'a SummarySetValue>) {
        for set in sets {
            for (key, s) in &set.entries {
                self.replay(
                    s,
                    key.clone(),
                    &histogram!(set.name, KEY_LABEL => key.clone()),
                );
            }
        }
    }

    /// Records into `h` what `s`'s distribution gained since the last scrape.
    fn replay(&mut self, s: &SummaryValue, label: String, h: &Histogram) {
        let Some(current) = &s.histogram else { return };
        let before = self
            .counts
            .entry((s.name, label))
            .or_insert_with(|| vec![0; current.counts.len()]);
        for (i, (now, was)) in current.counts.iter().zip(before.iter_mut()).enumerate() {
            let delta = now.saturating_sub(*was);
            if delta > 0 {
                h.record_many(LatencyHistogram::bucket_floor(i) as f64, delta as usize);
            }
            *was = *now;
        }
    }
}

/// Process facts under the JVM collectors' names.
fn process_metrics() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |key: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let threads = field("Threads:");
    let rss = field("VmRSS:") * 1024.0;
    gauge!("jvm_threads_current").set(threads);
    gauge!("jvm_threads_daemon").set(threads);
    gauge!("jvm_threads_deadlocked").set(0.0);
    gauge!("jvm_threads_state", "state" => "RUNNABLE").set(threads);
    gauge!("jvm_classes_loaded").set(0.0);
    gauge!("jvm_memory_pool_bytes_used", "pool" => "native").set(rss);
    gauge!("jvm_memory_bytes_used", "area" => "heap").set(rss);
    let _ = histogram!("jvm_gc_collection_seconds", "gc" => "none");
    gauge!("process_resident_memory_bytes").set(rss);
    let (open, max) = super::system::file_descriptors();
    gauge!("process_open_fds").set(open as f64);
    gauge!("process_max_fds").set(max as f64);
    counter!("process_cpu_seconds_total").absolute(cpu_seconds());
}

/// User + system CPU seconds of this process (`/proc/self/stat`, clock ticks of 100 Hz).
fn cpu_seconds() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) / 100
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::monitor::Value;

    fn metrics(h: &LatencyHistogram) -> Metrics {
        let mut s = SummaryValue {
            name: "readlatency",
            advanced: true,
            count: h.count,
            sum: h.sum,
            min: 0,
            max: 0,
            percentiles: [0; 4],
            histogram: Some(h.clone()),
        };
        s.count = h.count;
        Metrics {
            gauges: vec![("znode_count", Value::Int(5))],
            counters: vec![("commit_count", 0)],
            summaries: vec![
                s,
                SummaryValue {
                    name: "fsynctime",
                    advanced: false,
                    count: 0,
                    sum: 0,
                    min: 0,
                    max: 0,
                    percentiles: [0; 4],
                    histogram: None,
                },
            ],
            summary_sets: vec![],
            resets: 0,
        }
    }

    #[test]
    fn exposes_bare_names_and_latency_summaries() {
        let mut h = LatencyHistogram::default();
        [1, 2, 3].iter().for_each(|&ms| h.record(ms));
        let e = Exporter::new();
        let text = e.render(&metrics(&h));
        assert!(
            text.contains("# TYPE znode_count gauge\nznode_count 5\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE commit_count counter"), "{text}");
        assert!(text.contains("readlatency{quantile=\"0.5\"}"), "{text}");
        assert!(text.contains("readlatency_count 3"), "{text}");
        assert!(text.contains("readlatency_sum 6"), "{text}");
        assert!(text.contains("fsynctime_count 0"), "{text}");
        h.record(4);
        let text = e.render(&metrics(&h));
        assert!(text.contains("readlatency_count 4"), "{text}");
    }

    fn with_namespace(resets: u64, sizes: &[i64]) -> Metrics {
        let mut h = LatencyHistogram::default();
        sizes.iter().for_each(|&v| h.record(v));
        let app = SummaryValue {
            name: "write_per_namespace",
            advanced: false,
            count: h.count,
            sum: h.sum,
            min: 0,
            max: 0,
            percentiles: [0; 4],
            histogram: Some(h),
        };
        let mut m = metrics(&LatencyHistogram::default());
        m.summary_sets = vec![SummarySetValue {
            name: "write_per_namespace",
            advanced: false,
            entries: vec![("app".into(), app)],
        }];
        m.resets = resets;
        m
    }

    #[test]
    fn summary_sets_carry_the_key_label_and_basic_summaries_one_quantile() {
        let text = Exporter::new().render(&with_namespace(0, &[9, 8]));
        assert!(
            text.contains("# TYPE write_per_namespace summary"),
            "{text}"
        );
        assert!(
            text.contains("write_per_namespace{key=\"app\",quantile=\"0.5\"}"),
            "{text}"
        );
        assert!(
            !text.contains("write_per_namespace{key=\"app\",quantile=\"0.9\"}"),
            "{text}"
        );
        assert!(
            text.contains("write_per_namespace_count{key=\"app\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("write_per_namespace_sum{key=\"app\"} 17"),
            "{text}"
        );
        assert!(!text.contains("fsynctime{quantile=\"0.9\"}"), "{text}");
        assert!(text.contains("readlatency{quantile=\"0.9\"}"), "{text}");
    }

    #[test]
    fn stat_reset_in_the_core_leaves_prometheus_totals_growing() {
        let e = Exporter::new();
        e.render(&with_namespace(0, &[9, 8]));
        let text = e.render(&with_namespace(1, &[5]));
        assert!(
            text.contains("write_per_namespace_count{key=\"app\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("write_per_namespace_sum{key=\"app\"} 22"),
            "{text}"
        );
    }
}
