//! `compare --floor`: the request workloads also run against `rzk-bench floor` (a
//! stateless stand-in that group-commits writes with `fdatasync` on the same disk), and a
//! second table shows each server's throughput and p99 next to that floor's: how much of
//! what this machine allows (generator, loopback, disk) each server reaches.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::servers::Kind;
use super::table::median;
use super::Run;
use crate::bench::stats::Summary;
use crate::ops::system;

/// A running `rzk-bench floor` child.
pub struct FloorProc {
    pub addr: SocketAddr,
    child: Child,
}

impl FloorProc {
    /// Starts this program's `floor` command syncing into `dir`, on a free port.
    pub fn start(dir: &Path, value_size: usize) -> Result<FloorProc, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args(["floor", "--listen", "127.0.0.1:0", "--value-size"])
            .arg(value_size.to_string())
            .arg("--sync-dir")
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("floor: {e}"))?;
        let mut line = String::new();
        let out = child.stdout.take().ok_or("floor: no stdout")?;
        let read = BufReader::new(out).read_line(&mut line);
        let addr = line
            .strip_prefix("floor server on ")
            .and_then(|rest| rest.split(',').next())
            .and_then(|a| a.trim().parse().ok());
        match (read, addr) {
            (Ok(_), Some(addr)) => Ok(FloorProc { addr, child }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("floor did not start: {line:?}"))
            }
        }
    }

    pub fn cpu_time(&self) -> Result<Duration, String> {
        let text = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .map_err(|e| e.to_string())?;
        system::cpu_from_stat(&text, system::clock_ticks())
            .ok_or_else(|| "unreadable /proc stat".to_string())
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Median of `f` over the summaries named `name` (runs of `kind`, or the floor's).
fn med(sums: impl Iterator<Item = (String, f64)>, name: &str) -> f64 {
    median(sums.filter(|(n, _)| n == name).map(|(_, v)| v).collect())
}

/// The floor table: per request workload, ops/s and p99 of the floor and the medians of
/// each server, with each server's share of the floor's throughput (closed-loop runs).
pub fn render(floor: &[Summary], runs: &[Run]) -> String {
    let paced = floor.iter().any(|s| s.send_lag_ms.is_some());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<20} {:<17} {:>12} {:>12} {:>12}",
        "workload", "metric", "floor", "zookeeper", "rzk"
    );
    let mut names: Vec<&str> = Vec::new();
    for s in floor {
        if !names.contains(&s.workload.as_str()) {
            names.push(&s.workload);
        }
    }
    for name in names {
        let of = |kind: Kind, f: fn(&Summary) -> f64| {
            med(
                runs.iter()
                    .filter(|r| r.kind == kind)
                    .flat_map(|r| r.summaries.iter().map(move |s| (s.workload.clone(), f(s)))),
                name,
            )
        };
        let fl =
            |f: fn(&Summary) -> f64| med(floor.iter().map(|s| (s.workload.clone(), f(s))), name);
        let ops = |s: &Summary| s.ops_per_sec();
        let p99 = |s: &Summary| s.p99_ms;
        let (f_ops, z_ops, r_ops) = (fl(ops), of(Kind::Zk, ops), of(Kind::Rzk, ops));
        let share = |x: f64| if f_ops > 0.0 { x / f_ops } else { 0.0 };
        let _ = writeln!(
            out,
            "{name:<20} {:<17} {f_ops:>12.0} {z_ops:>12.0} {r_ops:>12.0}",
            "ops/s"
        );
        // At a fixed rate (`--rate`) every server does the rate asked: no share to show.
        if !paced {
            let _ = writeln!(
                out,
                "{:<20} {:<17} {:>12} {:>12.2} {:>12.2}",
                "",
                "share of floor",
                "",
                share(z_ops),
                share(r_ops)
            );
        }
        let _ = writeln!(
            out,
            "{:<20} {:<17} {:>12.3} {:>12.3} {:>12.3}",
            "",
            "p99 ms",
            fl(p99),
            of(Kind::Zk, p99),
            of(Kind::Rzk, p99)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(paced: bool) -> Summary {
        Summary {
            workload: "set".into(),
            ops: 1000,
            seconds: 1.0,
            errors: 0,
            p50_ms: 1.0,
            p99_ms: 2.0,
            p999_ms: 3.0,
            max_ms: 4.0,
            send_lag_ms: paced.then_some([0.0; 3]),
            from_send_ms: paced.then_some([1.0; 3]),
        }
    }

    #[test]
    fn the_share_of_the_floor_is_shown_for_closed_loop_runs_only() {
        let closed = render(&[summary(false)], &[]);
        assert!(closed.contains("share of floor"), "{closed}");
        let paced = render(&[summary(true)], &[]);
        assert!(!paced.contains("share of floor"), "{paced}");
        assert!(paced.contains("p99 ms"), "{paced}");
    }
}
