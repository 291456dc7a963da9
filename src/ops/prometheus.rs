//! The Prometheus endpoint (`PrometheusMetricsProvider`): the metrics of
//! [`monitor`](super::monitor) under their bare names, each with a `# HELP` that repeats
//! it as Java's does, summaries with `quantile` labels plus `_count` and `_sum`, gauge,
//! counter and summary sets with a `key` label, rendered by `metrics-exporter-prometheus`;
//! then, unless `metricsProvider.exportJvmInfo=false`, the JVM and process families
//! (`super::process_facts`).
//!
//! Values are pushed into a private recorder at scrape time from a core snapshot, never
//! on the request path: the core only bumps its own counters and latency buckets. The
//! latency buckets recorded since the previous scrape are replayed into the exporter's
//! summaries, so `readlatency`/`updatelatency` quantiles reflect real requests. A
//! quantile whose summary took nothing in the last ten minutes (simpleclient's window)
//! reads `NaN`, as simpleclient prints it; the others are whole numbers, like every
//! value recorded.
//!
//! With this provider Java's `mntr` and `monitor` list these samples too (the provider's
//! `dump`), so [`Exporter::samples`] gives them as `name{labels}` keys.
//!
//! `srst` empties the core's counters and summaries; Java's Prometheus values ignore it
//! (`resetAllValues` does nothing), so what a counter had when the reset was seen is
//! kept as its base and the summaries take what follows as new observations.

use super::monitor::{Metrics, SummarySetValue, SummaryValue};
use crate::node::stats::LatencyHistogram;
use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Histogram,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `metricsProvider.className` that turns the endpoint on.
pub const PROVIDER_CLASS: &str =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

/// The label of summary sets (`PrometheusMetricsProvider.LABELS`).
const KEY_LABEL: &str = "key";

/// How long an observation counts towards a quantile (simpleclient's `maxAgeSeconds`).
const WINDOW: Duration = Duration::from_secs(600);

pub struct Exporter {
    /// Gauges, counters and ADVANCED summaries (quantiles 0.5, 0.9, 0.99).
    advanced: PrometheusRecorder,
    /// BASIC summaries and summary sets (quantile 0.5 only).
    basic: PrometheusRecorder,
    fed: Mutex<Fed>,
    /// `metricsProvider.exportJvmInfo` (default true): the JVM and process families.
    jvm_info: bool,
}

/// A metric and its `key` label value (empty for none).
type Series = (&'static str, String);

/// What earlier scrapes pushed into the recorders, as of the core's `srst` count
/// `resets`.
#[derive(Default)]
struct Fed {
    resets: u64,
    /// Per summary, the bucket counts already replayed.
    counts: BTreeMap<Series, Vec<u64>>,
    /// Per summary, when it last took an observation.
    observed: BTreeMap<(String, String), Instant>,
    /// Per counter, what it had when the last reset was seen, and what it showed last.
    counter_base: BTreeMap<Series, u64>,
    counter_shown: BTreeMap<Series, u64>,
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
    let builder = match builder.set_bucket_duration(WINDOW / 5) {
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
        Exporter::with_jvm_info(true)
    }

    /// An exporter that adds the JVM and process families only if `jvm_info`
    /// (`metricsProvider.exportJvmInfo`).
    pub fn with_jvm_info(jvm_info: bool) -> Exporter {
        Exporter {
            advanced: recorder(&[0.5, 0.9, 0.99]),
            basic: recorder(&[0.5]),
            fed: Mutex::new(Fed::default()),
            jvm_info,
        }
    }

    /// The exposition text for `m`.
    pub fn render(&self, m: &Metrics) -> String {
        let Ok(mut fed) = self.fed.lock() else {
            return String::new();
        };
        let now = Instant::now();
        if fed.resets != m.resets {
            fed.resets = m.resets;
            fed.counts.clear();
            fed.counter_base = fed.counter_shown.clone();
        }
        metrics::with_local_recorder(&self.advanced, || {
            for (name, v) in &m.gauges {
                describe_gauge!(*name, *name);
                gauge!(*name).set(v.as_f64());
            }
            for name in &m.null_gauges {
                describe_gauge!(*name, *name);
                gauge!(*name).set(0.0);
            }
            for (name, values) in &m.gauge_sets {
                describe_gauge!(*name, *name);
                for (key, v) in values {
                    gauge!(*name, KEY_LABEL => key.clone()).set(*v as f64);
                }
            }
            for (name, v) in &m.counters {
                describe_counter!(*name, *name);
                counter!(*name).absolute(fed.counter(name, String::new(), *v));
            }
            for (name, values) in &m.counter_sets {
                describe_counter!(*name, *name);
                for (key, v) in values {
                    let total = fed.counter(name, key.clone(), *v);
                    counter!(*name, KEY_LABEL => key.clone()).absolute(total);
                }
            }
            for s in m.summaries.iter().filter(|s| s.advanced) {
                describe_histogram!(s.name, s.name);
                fed.replay(s, String::new(), &histogram!(s.name), now);
            }
            fed.replay_sets(m.summary_sets.iter().filter(|set| set.advanced), now);
        });
        metrics::with_local_recorder(&self.basic, || {
            for s in m.summaries.iter().filter(|s| !s.advanced) {
                describe_histogram!(s.name, s.name);
                fed.replay(s, String::new(), &histogram!(s.name), now);
            }
            fed.replay_sets(m.summary_sets.iter().filter(|set| !set.advanced), now);
        });
        let mut text = self.advanced.handle().render();
        text.push_str(&self.basic.handle().render());
        let mut text = fed.finish_quantiles(&text, now);
        if self.jvm_info {
            text.push_str(&super::process_facts::families());
        }
        text
    }

    /// Every sample of [`render`](Self::render) as the provider's `dump` names it:
    /// `name{label="value",…}` and the value.
    pub fn samples(&self, m: &Metrics) -> Vec<(String, f64)> {
        self.render(m).lines().filter_map(sample).collect()
    }
}

/// One sample line of the exposition format.
fn sample(line: &str) -> Option<(String, f64)> {
    if line.starts_with('#') {
        return None;
    }
    let (key, value) = line.rsplit_once(' ')?;
    let value = match value {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some((key.to_string(), value))
}

/// The metric name and `key` label value of a sample line's key.
fn series_of(key: &str) -> (&str, &str) {
    let (name, labels) = key.split_once('{').unwrap_or((key, ""));
    let label = labels
        .split_once("key=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or("", |(v, _)| v);
    (name, label)
}

impl Fed {
    /// A counter's exported total: its base plus the core's value since the last reset.
    fn counter(&mut self, name: &'static str, key: String, value: i64) -> u64 {
        let series = (name, key);
        let base = self.counter_base.get(&series).copied().unwrap_or(0);
        let total = base.saturating_add(value.max(0) as u64);
        self.counter_shown.insert(series, total);
        total
    }

    /// Replays summary sets into the current recorder, one labelled summary per key.
    fn replay_sets<'a>(&mut self, sets: impl Iterator<Item = &'a SummarySetValue>, now: Instant) {
        for set in sets {
            describe_histogram!(set.name, set.name);
            for (key, s) in &set.entries {
                self.replay(
                    s,
                    key.clone(),
                    &histogram!(set.name, KEY_LABEL => key.clone()),
                    now,
                );
            }
        }
    }

    /// Records into `h` what `s`'s distribution gained since the last scrape.
    fn replay(&mut self, s: &SummaryValue, label: String, h: &Histogram, now: Instant) {
        let Some(current) = &s.histogram else { return };
        let before = self
            .counts
            .entry((s.name, label.clone()))
            .or_insert_with(|| vec![0; current.counts.len()]);
        let mut gained = false;
        for (i, (now, was)) in current.counts.iter().zip(before.iter_mut()).enumerate() {
            let delta = now.saturating_sub(*was);
            if delta > 0 {
                h.record_many(LatencyHistogram::bucket_floor(i) as f64, delta as usize);
                gained = true;
            }
            *was = *now;
        }
        if gained {
            self.observed.insert((s.name.to_string(), label), now);
        }
    }

    /// `text` with each quantile as simpleclient gives it: `NaN` for a summary that
    /// took nothing in the window, else a recorded value (the exporter's sketch
    /// answers within 1 % of one; every recorded value is a whole number).
    fn finish_quantiles(&self, text: &str, now: Instant) -> String {
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            let quantile = (!line.starts_with('#') && line.contains("quantile=\""))
                .then(|| line.rsplit_once(' '))
                .flatten();
            let Some((key, value)) = quantile else {
                out.push_str(line);
                out.push('\n');
                continue;
            };
            let (name, label) = series_of(key);
            let fresh = self
                .observed
                .get(&(name.to_string(), label.to_string()))
                .is_some_and(|t| now.duration_since(*t) < WINDOW);
            let value = match value.parse::<f64>() {
                Ok(v) if fresh => format!("{}", v.round()),
                _ => "NaN".to_string(),
            };
            out.push_str(key);
            out.push(' ');
            out.push_str(&value);
            out.push('\n');
        }
        out
    }
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
            null_gauges: vec![],
            gauge_sets: vec![],
            counter_sets: vec![],
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

    #[test]
    fn every_family_has_javas_help_line() {
        let text = Exporter::new().render(&with_namespace(0, &[9]));
        for name in [
            "znode_count",
            "commit_count",
            "readlatency",
            "fsynctime",
            "write_per_namespace",
        ] {
            assert!(
                text.contains(&format!("# HELP {name} {name}\n")),
                "{name}: {text}"
            );
        }
        assert!(
            text.contains("# TYPE process_cpu_seconds_total counter"),
            "{text}"
        );
    }

    #[test]
    fn quantiles_are_nan_until_observed_and_then_whole_numbers() {
        let e = Exporter::new();
        let text = e.render(&metrics(&LatencyHistogram::default()));
        assert!(
            text.contains("readlatency{quantile=\"0.99\"} NaN\n"),
            "{text}"
        );
        assert!(text.contains("fsynctime{quantile=\"0.5\"} NaN\n"), "{text}");
        let mut h = LatencyHistogram::default();
        [1, 1, 2, 7].iter().for_each(|&ms| h.record(ms));
        let text = e.render(&metrics(&h));
        let q = |key: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
                .unwrap_or(-1.0)
        };
        let (p50, p99) = (
            q("readlatency{quantile=\"0.5\"}"),
            q("readlatency{quantile=\"0.99\"}"),
        );
        assert!(p50 >= 1.0 && p50.fract() == 0.0, "{text}");
        assert!(p99 >= p50 && p99.fract() == 0.0, "{text}");
        assert!(text.contains("fsynctime{quantile=\"0.5\"} NaN\n"), "{text}");
    }

    #[test]
    fn counters_keep_growing_across_a_stat_reset() {
        let e = Exporter::new();
        let mut m = metrics(&LatencyHistogram::default());
        m.counters = vec![("commit_count", 5)];
        m.counter_sets = vec![(
            "quota_exceeded_error_per_namespace",
            vec![("app".into(), 2)],
        )];
        e.render(&m);
        m.resets = 1;
        m.counters = vec![("commit_count", 1)];
        m.counter_sets = vec![(
            "quota_exceeded_error_per_namespace",
            vec![("app".into(), 0)],
        )];
        let text = e.render(&m);
        assert!(text.contains("commit_count 6\n"), "{text}");
        assert!(
            text.contains("quota_exceeded_error_per_namespace{key=\"app\"} 2\n"),
            "{text}"
        );
    }

    #[test]
    fn gauge_sets_carry_the_key_label() {
        let mut m = metrics(&LatencyHistogram::default());
        m.gauge_sets = vec![("quota_count_limit_per_namespace", vec![("app".into(), 10)])];
        let text = Exporter::new().render(&m);
        assert!(
            text.contains("# TYPE quota_count_limit_per_namespace gauge"),
            "{text}"
        );
        assert!(
            text.contains("quota_count_limit_per_namespace{key=\"app\"} 10\n"),
            "{text}"
        );
    }

    #[test]
    fn samples_are_named_as_the_providers_dump_names_them() {
        let e = Exporter::new();
        let samples = e.samples(&with_namespace(0, &[9, 8]));
        let get = |k: &str| samples.iter().find(|(key, _)| key == k).map(|(_, v)| *v);
        assert_eq!(get("znode_count"), Some(5.0));
        assert_eq!(get("write_per_namespace_count{key=\"app\"}"), Some(2.0));
        assert!(get("readlatency{quantile=\"0.5\"}").is_some_and(f64::is_nan));
        assert!(get("process_resident_memory_bytes").is_some_and(|v| v > 0.0));
        assert!(samples.iter().all(|(k, _)| !k.starts_with('#')));
    }

    #[test]
    fn null_gauges_are_sampled_as_zero() {
        let mut m = metrics(&LatencyHistogram::default());
        m.null_gauges = vec!["synced_observers"];
        let text = Exporter::new().render(&m);
        assert!(
            text.contains("# TYPE synced_observers gauge\nsynced_observers 0\n"),
            "{text}"
        );
    }

    #[test]
    fn jvm_and_process_families_follow_export_jvm_info() {
        let m = metrics(&LatencyHistogram::default());
        assert!(Exporter::new()
            .render(&m)
            .contains("process_cpu_seconds_total"));
        let text = Exporter::with_jvm_info(false).render(&m);
        assert!(
            !text.contains("process_") && !text.contains("jvm_threads"),
            "{text}"
        );
    }
}
