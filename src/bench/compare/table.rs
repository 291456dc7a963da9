//! The comparison table: per workload and metric, the median over rounds for each
//! server and the rzk/zookeeper ratio of the medians.

use std::fmt::Write as _;

use super::bigtree::BigStart;
use super::servers::Kind;
use super::Run;

pub const NOISE_NOTE: &str =
    "Note: both servers and the load generator share this machine's cores with other work; \
absolute figures are noise, the rzk/zookeeper ratios (same run, alternating A/B) are what count.";

/// The median (mean of the middle two for an even count); 0 for none.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn ratio(rzk: f64, zk: f64) -> String {
    if zk > 0.0 {
        format!("{:.2}", rzk / zk)
    } else {
        "-".into()
    }
}

fn row(out: &mut String, name: &str, metric: &str, zk: f64, rzk: f64, prec: usize) {
    let _ = writeln!(
        out,
        "{name:<20} {metric:<17} {zk:>12.prec$} {rzk:>12.prec$} {:>8}",
        ratio(rzk, zk)
    );
}

/// Metric values of summary `name` on `kind`, one per run.
fn values(
    runs: &[Run],
    kind: Kind,
    name: &str,
    f: impl Fn(&Run, usize) -> Option<f64>,
) -> Vec<f64> {
    let mut out = Vec::new();
    for r in runs.iter().filter(|r| r.kind == kind) {
        if let Some(i) = r.summaries.iter().position(|s| s.workload == name) {
            out.extend(f(r, i));
        }
    }
    out
}

fn summary_rows(out: &mut String, runs: &[Run], name: &str) {
    type Metric = (&'static str, fn(&Run, usize) -> Option<f64>, usize);
    let metrics: [Metric; 10] = [
        (
            "ops/s",
            |r, i| r.summaries.get(i).map(|s| s.ops_per_sec()),
            0,
        ),
        ("p50 ms", |r, i| r.summaries.get(i).map(|s| s.p50_ms), 3),
        ("p99 ms", |r, i| r.summaries.get(i).map(|s| s.p99_ms), 3),
        ("p999 ms", |r, i| r.summaries.get(i).map(|s| s.p999_ms), 3),
        ("max ms", |r, i| r.summaries.get(i).map(|s| s.max_ms), 3),
        (
            "p999/p50",
            |r, i| {
                r.summaries
                    .get(i)
                    .filter(|s| s.p50_ms > 0.0)
                    .map(|s| s.p999_ms / s.p50_ms)
            },
            1,
        ),
        (
            "send lag p999 ms",
            |r, i| r.summaries.get(i).and_then(|s| s.send_lag_ms).map(|l| l[1]),
            3,
        ),
        (
            "from send p50 ms",
            |r, i| {
                r.summaries
                    .get(i)
                    .and_then(|s| s.from_send_ms)
                    .map(|l| l[0])
            },
            3,
        ),
        (
            "from send p999 ms",
            |r, i| {
                r.summaries
                    .get(i)
                    .and_then(|s| s.from_send_ms)
                    .map(|l| l[1])
            },
            3,
        ),
        (
            "server CPU µs/op",
            |r, i| (i == 0).then(|| r.cpu_us_per_op()),
            1,
        ),
    ];
    let mut first = true;
    for (metric, f, prec) in metrics {
        let zk = values(runs, Kind::Zk, name, f);
        let rzk = values(runs, Kind::Rzk, name, f);
        if zk.is_empty() && rzk.is_empty() {
            continue;
        }
        row(
            out,
            if first { name } else { "" },
            metric,
            median(zk),
            median(rzk),
            prec,
        );
        first = false;
    }
}

fn big_rows(out: &mut String, big: &[BigStart]) {
    let of = |kind: Kind, f: fn(&BigStart) -> f64| {
        median(big.iter().filter(|b| b.kind == kind).map(f).collect())
    };
    let secs = |b: &BigStart| b.to_serving.as_secs_f64();
    let mib = |b: &BigStart| b.rss_bytes as f64 / 1048576.0;
    row(
        out,
        "1M znodes",
        "start→serving s",
        of(Kind::Zk, secs),
        of(Kind::Rzk, secs),
        2,
    );
    row(out, "", "RSS MiB", of(Kind::Zk, mib), of(Kind::Rzk, mib), 0);
}

fn rss_row(out: &mut String, name: &str, rss: &[(Kind, u64)]) {
    let of = |kind: Kind| {
        rss.iter()
            .find(|(k, _)| *k == kind)
            .map_or(0.0, |(_, b)| *b as f64 / 1048576.0)
    };
    row(out, name, "RSS MiB", of(Kind::Zk), of(Kind::Rzk), 0);
}

/// The whole table.
pub fn render(
    runs: &[Run],
    big: &[BigStart],
    idle: &[(Kind, u64)],
    loaded: &[(Kind, u64)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{NOISE_NOTE}");
    let _ = writeln!(out, "medians over rounds; ratio = rzk / zookeeper (ops/s: higher is better; latency, CPU, RSS, time: lower is better)");
    let _ = writeln!(
        out,
        "{:<20} {:<17} {:>12} {:>12} {:>8}",
        "workload", "metric", "zookeeper", "rzk", "ratio"
    );
    let mut names: Vec<&str> = Vec::new();
    for s in runs.iter().flat_map(|r| &r.summaries) {
        if !names.contains(&s.workload.as_str()) {
            names.push(&s.workload);
        }
    }
    for name in names {
        summary_rows(&mut out, runs, name);
    }
    rss_row(&mut out, "idle server", idle);
    rss_row(&mut out, "after the runs", loaded);
    if !big.is_empty() {
        big_rows(&mut out, big);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_count_is_the_middle_mean() {
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(vec![5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(vec![]), 0.0);
    }

    #[test]
    fn ratio_is_rzk_over_zookeeper() {
        assert_eq!(ratio(3.0, 1.0), "3.00");
        assert_eq!(ratio(1.0, 0.0), "-");
    }
}
