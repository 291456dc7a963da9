//! `rzk-bench compare`: Apache ZooKeeper 3.8 and rzk side by side in one run. Both
//! servers run at once with equivalent zoo.cfg on free loopback ports and dataDirs on
//! the same disk; each workload runs on one then the other, A/B/A/B, after a warm-up
//! (the JVM's JIT needs one); the table gives medians and the rzk/zookeeper ratio of
//! client throughput, latency, and each server's own CPU time per operation (from
//! `/proc/<pid>/stat`, which the load generator sharing the cores cannot inflate).
//! Then RSS and start-to-serving time on a dataDir of a million 100-byte znodes.
//!
//! With `--ensemble N` the same runs go to an N-node ensemble of each kind instead
//! (`ensemble`): sessions spread over every node (or all on the leader), CPU summed
//! over the N processes.

pub mod bigtree;
pub mod ensemble;
mod floor;
pub mod servers;
mod table;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::stats::Summary;
use super::{run_workload, runtime, LoadArgs, Workload};
use ensemble::{Clients, Ensemble};
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
    /// Seconds of unmeasured warm-up per server and workload: Apache ZooKeeper's JIT
    /// needs about five before its figures stop moving from round to round.
    #[arg(long, default_value_t = 5.0)]
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
    /// Compare N-node ensembles (3 for the usual one) instead of standalone servers
    /// (request workloads only; no large-database runs).
    #[arg(long, default_value_t = 0)]
    pub ensemble: usize,
    /// Ensemble runs: where the sessions connect, one set of runs per choice.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "spread")]
    pub ensemble_clients: Vec<Clients>,
    /// CPUs the servers may run on (e.g. `0`): with `--client-cpus` on the others, the
    /// load generator and the server under test stop taking each other's cores.
    #[arg(long, value_delimiter = ',')]
    pub server_cpus: Vec<usize>,
    /// CPUs this load generator may run on (e.g. `1`).
    #[arg(long, value_delimiter = ',')]
    pub client_cpus: Vec<usize>,
    /// Also run the request workloads against `rzk-bench floor` (no state, writes
    /// group-committed with fdatasync in the same directory) right after each server
    /// pair's rounds, and print each server's share of that floor.
    #[arg(long)]
    pub floor: bool,
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
        ZK_JARS
            .iter()
            .map(|j| format!("/usr/share/java/{j}.jar"))
            .collect::<Vec<_>>()
            .join(":")
    });
    let rzk_bin = match &args.rzk_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("rzk"),
    };
    if !rzk_bin.exists() {
        return Err(format!(
            "{} not found (build it: cargo build --release)",
            rzk_bin.display()
        ));
    }
    Ok(Launch {
        zk_classpath,
        zk_heap: heap.to_string(),
        rzk_bin,
        server_cpus: args.server_cpus.clone(),
    })
}

fn warmup_args(args: &CompareArgs) -> LoadArgs {
    let mut w = args.load.clone();
    w.seconds = args.warmup;
    w.sessions = w.sessions.min(200);
    w.watchers = w.watchers.min(100);
    w
}

/// What a run is measured on: one server or a whole ensemble.
struct Target<'a> {
    kind: Kind,
    addrs: Vec<SocketAddr>,
    cpu: Box<dyn Fn() -> Result<Duration, String> + 'a>,
}

impl<'a> Target<'a> {
    fn server(s: &'a ServerProc) -> Target<'a> {
        Target {
            kind: s.kind,
            addrs: vec![s.addr],
            cpu: Box::new(|| s.cpu_time()),
        }
    }

    fn ensemble(e: &'a Ensemble, clients: Clients) -> Target<'a> {
        Target {
            kind: e.kind,
            addrs: e.addrs(clients),
            cpu: Box::new(|| e.cpu_time()),
        }
    }
}

/// Runs `w` against `addrs`; the summaries and the server CPU (from `cpu`) they took.
fn timed(
    rt: &tokio::runtime::Runtime,
    addrs: &[SocketAddr],
    label: &str,
    cpu: &dyn Fn() -> Result<Duration, String>,
    load: &LoadArgs,
    w: Workload,
) -> Result<(Vec<Summary>, Duration), String> {
    let before = cpu()?;
    let summaries = rt
        .block_on(run_workload(addrs, load, w))
        .map_err(|e| format!("{} on {label}: {e}", w.name()))?;
    Ok((summaries, cpu()?.saturating_sub(before)))
}

fn measure(
    rt: &tokio::runtime::Runtime,
    t: &Target,
    load: &LoadArgs,
    w: Workload,
) -> Result<Run, String> {
    let (summaries, cpu) = timed(rt, &t.addrs, t.kind.label(), &t.cpu, load, w)?;
    Ok(Run {
        kind: t.kind,
        workload: w,
        summaries,
        cpu,
    })
}

/// One progress line: who ran, the summary, the server's CPU per operation.
fn print_summary(label: &str, s: &Summary, cpu_us_per_op: f64) {
    println!(
        "  {label:<9} {}  server CPU {cpu_us_per_op:.1} µs/op",
        s.line()
    );
}

fn print_run(run: &Run, json: bool) {
    for s in &run.summaries {
        print_summary(run.kind.label(), s, run.cpu_us_per_op());
    }
    if json {
        println!("{}", run.json());
    }
}

/// The A/B/A/B runs of workload `w` on live targets; `suffix` goes after the workload
/// names in the table.
fn ab_runs(
    rt: &tokio::runtime::Runtime,
    args: &CompareArgs,
    targets: &[Target],
    w: Workload,
    suffix: &str,
) -> Result<Vec<Run>, String> {
    println!("{}{suffix}:", w.name());
    for t in targets {
        if args.warmup > 0.0 {
            measure(rt, t, &warmup_args(args), w)?;
        }
    }
    let mut runs = Vec::new();
    for _ in 0..args.rounds.max(1) {
        for t in targets {
            let mut run = measure(rt, t, &args.load, w)?;
            run.summaries
                .iter_mut()
                .for_each(|s| s.workload.push_str(suffix));
            print_run(&run, args.json);
            runs.push(run);
        }
    }
    Ok(runs)
}

/// The A/B/A/B load runs on two live servers; with `floor`, each request workload's
/// rounds on the floor server follow the pair's.
fn load_runs(
    args: &CompareArgs,
    servers: &[ServerProc],
    floor: Option<&floor::FloorProc>,
) -> Result<(Vec<Run>, Vec<Summary>), String> {
    let rt = runtime(args.threads).map_err(|e| e.to_string())?;
    let targets: Vec<Target> = servers.iter().map(Target::server).collect();
    let mut runs = Vec::new();
    let mut floor_sums = Vec::new();
    for &w in &args.load.workload {
        runs.extend(ab_runs(&rt, args, &targets, w, "")?);
        let Some(f) = floor.filter(|_| !matches!(w, Workload::Fanout | Workload::Storm)) else {
            continue;
        };
        let cpu = || f.cpu_time();
        let run = |load: &LoadArgs| timed(&rt, &[f.addr], "the floor", &cpu, load, w);
        if args.warmup > 0.0 {
            run(&warmup_args(args))?;
        }
        for _ in 0..args.rounds.max(1) {
            let (sums, cpu) = run(&args.load)?;
            for s in &sums {
                print_summary("floor", s, cpu.as_secs_f64() * 1e6 / s.ops.max(1) as f64);
            }
            floor_sums.extend(sums);
        }
    }
    Ok((runs, floor_sums))
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
    println!(
        "dataDir with {} znodes of 100 B built in {:.1} s",
        args.znodes,
        t.elapsed().as_secs_f64()
    );
    let mut starts = Vec::new();
    for _ in 0..args.rounds.max(1) {
        for kind in [Kind::Zk, Kind::Rzk] {
            let s = bigtree::start_once(kind, &l, &master, &args.dir, Duration::from_secs(2))?;
            println!(
                "  {:<9} serving after {:.2} s, RSS {:.0} MiB",
                kind.label(),
                s.to_serving.as_secs_f64(),
                s.rss_bytes as f64 / 1048576.0
            );
            starts.push(s);
        }
    }
    Ok(starts)
}

fn start_ensembles(args: &CompareArgs) -> Result<Vec<Ensemble>, String> {
    let l = launch(args, &args.zk_heap)?;
    let mut all: Vec<Ensemble> = Vec::new();
    for kind in [Kind::Zk, Kind::Rzk] {
        let started = Ensemble::start(kind, &l, &args.dir.join(kind.label()), args.ensemble)
            .and_then(|mut e| {
                let r = e.wait_leader(Duration::from_secs(120));
                if let Ok(t) = &r {
                    println!(
                        "{} ensemble of {}: node {} leads after {:.1} s",
                        kind.label(),
                        args.ensemble,
                        e.leader_id().unwrap_or(0),
                        t.as_secs_f64()
                    );
                }
                all.push(e);
                r
            });
        if let Err(e) = started {
            all.into_iter().for_each(Ensemble::stop);
            return Err(e);
        }
    }
    Ok(all)
}

/// The A/B/A/B runs on two live ensembles, once per `--ensemble-clients` choice.
fn ensemble_runs(args: &CompareArgs, ensembles: &[Ensemble]) -> Result<Vec<Run>, String> {
    let rt = runtime(args.threads).map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    for &w in args
        .load
        .workload
        .iter()
        .filter(|w| !matches!(w, Workload::Fanout | Workload::Storm))
    {
        for &clients in &args.ensemble_clients {
            let targets: Vec<Target> = ensembles
                .iter()
                .map(|e| Target::ensemble(e, clients))
                .collect();
            runs.extend(ab_runs(&rt, args, &targets, w, clients.suffix())?);
        }
    }
    Ok(runs)
}

/// `compare --ensemble N`: the request workloads on two N-node ensembles.
fn run_ensembles(args: &CompareArgs) -> Result<(), String> {
    let ensembles = start_ensembles(args)?;
    let idle_rss: Vec<(Kind, u64)> = ensembles.iter().map(|e| (e.kind, e.rss_bytes())).collect();
    let runs = ensemble_runs(args, &ensembles);
    let loaded_rss: Vec<(Kind, u64)> = ensembles.iter().map(|e| (e.kind, e.rss_bytes())).collect();
    ensembles.into_iter().for_each(Ensemble::stop);
    let runs = runs?;
    println!();
    println!(
        "{}-node ensembles; server CPU and RSS are the sums over the {} processes",
        args.ensemble, args.ensemble
    );
    print!("{}", table::render(&runs, &[], &idle_rss, &loaded_rss));
    Ok(())
}

/// Runs the comparison; prints progress and the table.
pub fn run(args: &CompareArgs) -> Result<(), String> {
    if !args.client_cpus.is_empty() {
        // Before any thread starts: the generator's threads inherit the mask.
        servers::pin(&args.client_cpus).map_err(|e| format!("--client-cpus: {e}"))?;
    }
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir).map_err(|e| format!("{}: {e}", args.dir.display()))?;
    println!("{}", table::NOISE_NOTE);
    if args.ensemble > 0 {
        // Kept on failure: the servers' logs are there.
        run_ensembles(args)?;
        let _ = std::fs::remove_dir_all(&args.dir);
        return Ok(());
    }
    let servers = start_pair(args)?;
    let idle_rss: Vec<(Kind, u64)> = servers
        .iter()
        .map(|s| (s.kind, s.rss_bytes().unwrap_or(0)))
        .collect();
    let floor = match args.floor {
        true => match floor::FloorProc::start(&args.dir.join("floor"), args.load.value_size) {
            Ok(f) => Some(f),
            Err(e) => {
                servers.into_iter().for_each(ServerProc::stop);
                return Err(e);
            }
        },
        false => None,
    };
    let runs = load_runs(args, &servers, floor.as_ref());
    let loaded_rss: Vec<(Kind, u64)> = servers
        .iter()
        .map(|s| (s.kind, s.rss_bytes().unwrap_or(0)))
        .collect();
    for s in servers {
        s.stop();
    }
    if let Some(f) = floor {
        f.stop();
    }
    let (runs, floor_sums) = runs?;
    let big = if args.znodes > 0 {
        big_runs(args)?
    } else {
        Vec::new()
    };
    println!();
    print!("{}", table::render(&runs, &big, &idle_rss, &loaded_rss));
    if !floor_sums.is_empty() {
        println!();
        println!(
            "Against the floor (rzk-bench floor: no state, writes group-committed with fdatasync on the same disk; medians)"
        );
        print!("{}", floor::render(&floor_sums, &runs));
    }
    let _ = std::fs::remove_dir_all(&args.dir);
    Ok(())
}
