//! Latency recording and the one-line summary every workload prints.
//!
//! An HDR histogram keeps every latency from 1 µs to 60 s at 3 significant digits in a
//! fixed few tens of KiB, records in constant time without allocating, and merges across
//! connections, so p999 and max are exact to 0.1 % however long a run lasts (a sorted
//! sample vector would grow with the run and distort the allocator the benchmark shares
//! with nothing else; a fixed-bucket histogram would blur the tail).

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Latencies in microseconds.
pub struct Latencies {
    hist: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies::new()
    }
}

impl Latencies {
    pub fn new() -> Latencies {
        // 1 µs .. 60 s at 3 significant digits: constant bounds that the crate accepts
        // (no input reaches them), checked by the tests below.
        #[allow(clippy::expect_used)]
        let hist = Histogram::new_with_bounds(1, 60_000_000, 3)
            .expect("constant histogram bounds are valid");
        Latencies { hist }
    }

    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        self.hist.saturating_record(us);
    }

    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides: `add` only fails on out-of-range values, which
        // saturating recording never produced.
        let _ = self.hist.add(&other.hist);
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    fn quantile_ms(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }

    fn max_ms(&self) -> f64 {
        self.hist.max() as f64 / 1000.0
    }

    /// p50, p999 and max in milliseconds.
    pub fn figures_ms(&self) -> [f64; 3] {
        [
            self.quantile_ms(0.5),
            self.quantile_ms(0.999),
            self.max_ms(),
        ]
    }
}

/// What a run measured: operations over the measured window and their latencies.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub workload: String,
    pub ops: u64,
    pub seconds: f64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Paced runs: how late the generator sent, from the scheduled time to the write
    /// (p50, p999, max in ms); its lateness is part of every measured latency.
    pub send_lag_ms: Option<[f64; 3]>,
    /// Paced runs: latency from the actual write (p50, p999, max in ms).
    pub from_send_ms: Option<[f64; 3]>,
}

impl Summary {
    pub fn new(workload: &str, ops: u64, seconds: f64, errors: u64, lat: &Latencies) -> Summary {
        Summary {
            workload: workload.to_string(),
            ops,
            seconds,
            errors,
            p50_ms: lat.quantile_ms(0.50),
            p99_ms: lat.quantile_ms(0.99),
            p999_ms: lat.quantile_ms(0.999),
            max_ms: lat.max_ms(),
            send_lag_ms: None,
            from_send_ms: None,
        }
    }

    pub fn ops_per_sec(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ops as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// One human-readable line.
    pub fn line(&self) -> String {
        let mut line = self.latency_line();
        if let Some([p50, p999, max]) = self.send_lag_ms {
            let _ = write!(
                line,
                "  send lag p50 {p50:.3} p999 {p999:.3} max {max:.3} ms"
            );
        }
        if let Some([p50, p999, max]) = self.from_send_ms {
            let _ = write!(
                line,
                "  from send p50 {p50:.3} p999 {p999:.3} max {max:.3} ms"
            );
        }
        line
    }

    fn latency_line(&self) -> String {
        format!(
            "{:<14} {:>10.0} ops/s  p50 {:>8.3} ms  p99 {:>8.3} ms  p999 {:>8.3} ms  max {:>8.3} ms  ({} ops in {:.2} s, {} errors)",
            self.workload,
            self.ops_per_sec(),
            self.p50_ms,
            self.p99_ms,
            self.p999_ms,
            self.max_ms,
            self.ops,
            self.seconds,
            self.errors
        )
    }

    /// One JSON object (no external serializer: the fields are numbers and a plain name).
    pub fn json(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "{{\"workload\":\"{}\",\"ops\":{},\"seconds\":{:.4},\"ops_per_sec\":{:.1},\"errors\":{},\"p50_ms\":{:.4},\"p99_ms\":{:.4},\"p999_ms\":{:.4},\"max_ms\":{:.4}}}",
            self.workload.escape_default(),
            self.ops,
            self.seconds,
            self.ops_per_sec(),
            self.errors,
            self.p50_ms,
            self.p99_ms,
            self.p999_ms,
            self.max_ms
        );
        if let Some([p50, p999, max]) = self.send_lag_ms {
            s.pop();
            let _ = write!(s, ",\"send_lag_p50_ms\":{p50:.4},\"send_lag_p999_ms\":{p999:.4},\"send_lag_max_ms\":{max:.4}}}");
        }
        if let Some([p50, p999, max]) = self.from_send_ms {
            s.pop();
            let _ = write!(s, ",\"from_send_p50_ms\":{p50:.4},\"from_send_p999_ms\":{p999:.4},\"from_send_max_ms\":{max:.4}}}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_recorded_latencies() {
        let mut lat = Latencies::new();
        for us in 1..=1000u64 {
            lat.record(Duration::from_micros(us));
        }
        let s = Summary::new("get", 1000, 2.0, 0, &lat);
        assert_eq!(s.ops_per_sec(), 500.0);
        assert!((s.p50_ms - 0.5).abs() < 0.002);
        assert!((s.max_ms - 1.0).abs() < 0.002);
    }

    #[test]
    fn merging_adds_counts() {
        let (mut a, mut b) = (Latencies::new(), Latencies::new());
        a.record(Duration::from_millis(1));
        b.record(Duration::from_millis(2));
        a.merge(&b);
        assert_eq!(a.count(), 2);
    }

    #[test]
    fn json_has_every_figure() {
        let s = Summary::new("set", 10, 1.0, 0, &Latencies::new());
        let j = s.json();
        for key in [
            "workload",
            "ops_per_sec",
            "p50_ms",
            "p99_ms",
            "p999_ms",
            "max_ms",
        ] {
            assert!(j.contains(key), "{j}");
        }
    }
}
