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

use super::monitor::{Metrics, SummaryValue};
use crate::node::stats::LatencyHistogram;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// `metricsProvider.className` that turns the endpoint on.
pub const PROVIDER_CLASS: &str = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

pub struct Exporter {
    recorder: PrometheusRecorder,
    /// Per summary, the bucket counts already replayed into the recorder.
    fed: Mutex<BTreeMap<&'static str, Vec<u64>>>,
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

impl Exporter {
    pub fn new() -> Exporter {
        let builder = PrometheusBuilder::new();
        // ADVANCED summaries' quantiles in 3.6–3.9 (BASIC ones have only 0.5).
        let builder = match builder.set_quantiles(&[0.5, 0.9, 0.99]) {
            Ok(b) => b,
            Err(_) => PrometheusBuilder::new(),
        };
        Exporter { recorder: builder.build_recorder(), fed: Mutex::new(BTreeMap::new()) }
    }

    /// The exposition text for `m`.
    pub fn render(&self, m: &Metrics) -> String {
        metrics::with_local_recorder(&self.recorder, || {
            for (name, v) in &m.gauges {
                gauge!(*name).set(v.as_f64());
            }
            for (name, v) in &m.counters {
                counter!(*name).absolute((*v).max(0) as u64);
            }
            for s in &m.summaries {
                self.feed(s);
            }
            process_metrics();
        });
        self.recorder.handle().render()
    }

    fn feed(&self, s: &SummaryValue) {
        let h = histogram!(s.name);
        let Some(current) = &s.histogram else { return };
        let Ok(mut fed) = self.fed.lock() else { return };
        let before = fed.entry(s.name).or_insert_with(|| vec![0; current.counts.len()]);
        for (i, (now, was)) in current.counts.iter().zip(before.iter_mut()).enumerate() {
            // A count below the last one means the stats were reset: all of it is new.
            let delta = if now >= was { now - *was } else { *now };
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
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
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
            summaries: vec![s, SummaryValue { name: "fsynctime", advanced: false, count: 0, sum: 0, min: 0, max: 0, percentiles: [0; 4], histogram: None }],
        }
    }

    #[test]
    fn exposes_bare_names_and_latency_summaries() {
        let mut h = LatencyHistogram::default();
        [1, 2, 3].iter().for_each(|&ms| h.record(ms));
        let e = Exporter::new();
        let text = e.render(&metrics(&h));
        assert!(text.contains("# TYPE znode_count gauge\nznode_count 5\n"), "{text}");
        assert!(text.contains("# TYPE commit_count counter"), "{text}");
        assert!(text.contains("readlatency{quantile=\"0.5\"}"), "{text}");
        assert!(text.contains("readlatency_count 3"), "{text}");
        assert!(text.contains("readlatency_sum 6"), "{text}");
        assert!(text.contains("fsynctime_count 0"), "{text}");
        h.record(4);
        let text = e.render(&metrics(&h));
        assert!(text.contains("readlatency_count 4"), "{text}");
    }
}
