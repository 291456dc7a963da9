//! `rzk-bench compare`: Apache ZooKeeper 3.8 and rzk side by side in one run. Both
//! servers run at once with equivalent zoo.cfg on free loopback ports and dataDirs on
//! the same disk; each workload runs on one then the other, A/B/A/B, after a warm-up
//! (the JVM's JIT needs one); the table gives medians and the rzk/zookeeper ratio of
//! client throughput, latency, and each server's own CPU time per operation (from
//! `/proc/<pid>/stat`, which the load generator sharing the cores cannot inflate).
//! Then RSS and start-to-serving time on a dataDir of a million 100-byte znodes.

pub mod bigtree;
pub mod servers;
mod table;

use std::path::PathBuf;
use std::time::Duration;

use super::stats::Summary;
use super::{run_workload, runtime, LoadArgs, Workload};
use servers::{Kind, Launch, ServerProc, ZK_JARS};

/// Options of `rzk-bench compare`.
#[derive(clap::Args, Debug, Clone)]
pub struct CompareArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// Work directory (both dataDirs live here, so both servers use the same disk); emptied first.
    #[arg(long, default_value = "/tmp/rzk-bench-compare")]
    pub dir: PathBuf,
    /// Measured runs per server and workload (alternating zookeeper, rzk, zookeeper, …).
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Seconds of unmeasured warm-up per server and workload.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Apache ZooKeeper's classpath (default: the Debian package's server jars).
    #[arg(long)]
    pub zk_classpath: Option<String>,
    /// Java heap (-Xmx) of Apache ZooKeeper for the load runs.
    #[arg(long, default_value = "1g")]
    pub zk_heap: String,
    /// Java heap (-Xmx) of Apache ZooKeeper for the large-database runs.
    #[arg(long, default_value = "3g")]
    pub zk_heap_big: String,
    /// The rzk server binary (default: `rzk` next to this program).
    #[arg(long)]
    pub rzk_bin: Option<PathBuf>,
    /// Znodes of 100 bytes in the large-database runs; 0 skips them.
    #[arg(long, default_value_t = 1_000_000)]
    pub znodes: usize,
    /// Load generator threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Print every run as a JSON line too.
    #[arg(long)]
    pub json: bool,
}

/// One measured run of one workload on one server.
#[derive(Clone, Debug)]
pub struct Run {
    pub kind: Kind,
    pub workload: Workload,
    pub summaries: Vec<Summary>,
    pub cpu: Duration,
}

impl Run {
    /// Server CPU per operation of the run's first summary (for the storm: per session,
    /// which connects, pings and closes).
    pub fn cpu_us_per_op(&self) -> f64 {
        let ops = self.summaries.first().map_or(0, |s| s.ops);
        if ops == 0 {
            return 0.0;
        }
        self.cpu.as_secs_f64() * 1e6 / ops as f64
    }

    fn json(&self) -> String {
        let sums: Vec<String> = self.summaries.iter().map(Summary::json).collect();
        format!(
            "{{\"server\":\"{}\",\"workload\":\"{}\",\"server_cpu_s\":{:.3},\"server_cpu_us_per_op\":{:.2},\"results\":[{}]}}",
            self.kind.label(),
            self.workload.name(),
            self.cpu.as_secs_f64(),
            self.cpu_us_per_op(),
            sums.join(",")
        )
    }
}

fn launch(args: &CompareArgs, heap: &str) -> Result<Launch, String> {
    let zk_classpath = args.zk_classpath.clone().unwrap_or_else(|| {
        ZK_JARS.iter().map(|j| format!("/usr/share/java/{j}.jar")).collect::<Vec<_>>().join(":")
    });
    let rzk_bin = match &args.rzk_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("rzk"),
    };
    if !rzk_bin.exists() {
        return Err(format!("{} not found (build it: cargo build --release)", rzk_bin.display()));
    }
    Ok(Launch { zk_classpath, zk_heap: heap.to_string(), rzk_bin })
}

fn warmup_args(args: &CompareArgs) -> LoadArgs {
    let mut w = args.load.clone();
    w.seconds = args.warmup;
    w.sessions = w.sessions.min(200);
    w.watchers = w.watchers.min(100);
    w
}

fn measure(rt: &tokio::runtime::Runtime, server: &ServerProc, load: &LoadArgs, w: Workload) -> Result<Run, String> {
    let before = server.cpu_time()?;
    let summaries = rt.block_on(run_workload(server.addr, load, w)).map_err(|e| format!("{} on {}: {e}", w.name(), server.kind.label()))?;
    let cpu = server.cpu_time()?.saturating_sub(before);
    Ok(Run { kind: server.kind, workload: w, summaries, cpu })
}

fn print_run(run: &Run, json: bool) {
    for s in &run.summaries {
        println!("  {:<9} {}  server CPU {:.1} µs/op", run.kind.label(), s.line(), run.cpu_us_per_op());
    }
    if json {
        println!("{}", run.json());
    }
}

/// The A/B/A/B load runs on two live servers.
fn load_runs(args: &CompareArgs, servers: &[ServerProc]) -> Result<Vec<Run>, String> {
    let rt = runtime(args.threads).map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    for &w in &args.load.workload {
        println!("{}:", w.name());
        for s in servers {
            if args.warmup > 0.0 {
                measure(&rt, s, &warmup_args(args), w)?;
            }
        }
        for _ in 0..args.rounds.max(1) {
            for s in servers {
                let run = measure(&rt, s, &args.load, w)?;
                print_run(&run, args.json);
                runs.push(run);
            }
        }
    }
    Ok(runs)
}

fn start_pair(args: &CompareArgs) -> Result<Vec<ServerProc>, String> {
    let l = launch(args, &args.zk_heap)?;
    let mut servers: Vec<ServerProc> = Vec::new();
    for kind in [Kind::Zk, Kind::Rzk] {
        let base = args.dir.join(kind.label());
        let started = ServerProc::spawn(kind, &l, &base, &base.join("data")).and_then(|mut s| {
            let r = s.wait_serving(Duration::from_secs(120));
            servers.push(s);
            r
        });
        if let Err(e) = started {
            servers.into_iter().for_each(ServerProc::stop);
            return Err(e);
        }
    }
    Ok(servers)
}

fn big_runs(args: &CompareArgs) -> Result<Vec<bigtree::BigStart>, String> {
    let l = launch(args, &args.zk_heap_big)?;
    let master = args.dir.join("big-master");
    let t = std::time::Instant::now();
    bigtree::build_datadir(&master, args.znodes)?;
    println!("dataDir with {} znodes of 100 B built in {:.1} s", args.znodes, t.elapsed().as_secs_f64());
    let mut starts = Vec::new();
    for _ in 0..args.rounds.max(1) {
        for kind in [Kind::Zk, Kind::Rzk] {
            let s = bigtree::start_once(kind, &l, &master, &args.dir, Duration::from_secs(2))?;
            println!("  {:<9} serving after {:.2} s, RSS {:.0} MiB", kind.label(), s.to_serving.as_secs_f64(), s.rss_bytes as f64 / 1048576.0);
            starts.push(s);
        }
    }
    Ok(starts)
}

/// Runs the comparison; prints progress and the table.
pub fn run(args: &CompareArgs) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir).map_err(|e| format!("{}: {e}", args.dir.display()))?;
    println!("{}", table::NOISE_NOTE);
    let servers = start_pair(args)?;
    let idle_rss: Vec<(Kind, u64)> = servers.iter().map(|s| (s.kind, s.rss_bytes().unwrap_or(0))).collect();
    let runs = load_runs(args, &servers);
    let loaded_rss: Vec<(Kind, u64)> = servers.iter().map(|s| (s.kind, s.rss_bytes().unwrap_or(0))).collect();
    for s in servers {
        s.stop();
    }
    let runs = runs?;
    let big = if args.znodes > 0 { big_runs(args)? } else { Vec::new() };
    println!();
    print!("{}", table::render(&runs, &big, &idle_rss, &loaded_rss));
    let _ = std::fs::remove_dir_all(&args.dir);
    Ok(())
}
