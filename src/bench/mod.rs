//! `rzk-bench`: the load generator, and the side-by-side runner that measures rzk and
//! Apache ZooKeeper in one run and prints ratios.
//!
//! Apache ZooKeeper ships no equivalent in its server jar (its `zookeeper-it`
//! `GenerateLoad` and the external `zk-smoketest` play this part). Everything here speaks
//! the client protocol through `proto::codec`, so the same bytes reach both servers.
//!
//! * `client` — one pipelined session; `stats` — HDR latencies and the summary line;
//! * `load` — closed-loop workloads (get, set, create+delete, 90/10 mix);
//! * `paced` — the same workloads open-loop at a fixed rate (`--rate`), for the tail;
//! * `fanout` — one set, N watchers; `storm` — thousands of sessions connecting;
//! * `compare` — starts both servers, alternates runs, prints the ratio table.

pub mod client;
pub mod compare;
pub mod fanout;
pub mod floor;
pub mod load;
pub mod paced;
pub mod stats;
pub mod storm;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use stats::Summary;

/// The workloads `rzk-bench` knows.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// getData of one shared znode of `--value-size` bytes.
    Get,
    /// setData of `--value-size` bytes, one znode per session.
    Set,
    /// create then delete of a fresh znode (each request counts as one operation).
    CreateDelete,
    /// 90 % getData, 10 % setData on the session's own znode.
    Mix,
    /// `--watchers` sessions watch one znode; time from setData to the last notification.
    Fanout,
    /// `--sessions` sessions connect, ping `--pings` times each, then close.
    Storm,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Get => "get",
            Workload::Set => "set",
            Workload::CreateDelete => "create-delete",
            Workload::Mix => "mix",
            Workload::Fanout => "fanout",
            Workload::Storm => "storm",
        }
    }
}

/// Options of a load run (also the per-run options of `compare`).
#[derive(clap::Args, Debug, Clone)]
pub struct LoadArgs {
    /// Workloads to run, in order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "get,set,create-delete,mix,fanout,storm"
    )]
    pub workload: Vec<Workload>,
    /// Sessions of the closed-loop workloads.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Requests outstanding per session.
    #[arg(long, default_value_t = 16)]
    pub depth: usize,
    /// Seconds per workload.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Bytes per value written and read.
    #[arg(long, default_value_t = 1024)]
    pub value_size: usize,
    /// Watching sessions of the fan-out workload.
    #[arg(long, default_value_t = 1000)]
    pub watchers: usize,
    /// Sessions of the storm workload.
    #[arg(long, default_value_t = 2000)]
    pub sessions: usize,
    /// Pings per session in the storm.
    #[arg(long, default_value_t = 3)]
    pub pings: usize,
    /// Handshakes in flight at once in the storm.
    #[arg(long, default_value_t = 128)]
    pub storm_concurrency: usize,
    /// Open loop: send this many requests per second in total, on a fixed schedule, and
    /// measure each latency from its scheduled send time (get, set, create-delete, mix;
    /// `--depth` is then unused).
    #[arg(long)]
    pub rate: Option<f64>,
}

impl LoadArgs {
    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.seconds.max(0.1))
    }

    pub fn load_plan(&self, workload: Workload) -> load::LoadPlan {
        load::LoadPlan {
            workload,
            connections: self.connections.max(1),
            depth: self.depth.max(1),
            duration: self.duration(),
            value_size: self.value_size,
        }
    }
}

/// Runs one workload against `addrs` (creating what it needs first, on the first):
/// request workloads spread their sessions round-robin over all of them, fan-out and
/// storm use the first.
pub async fn run_workload(
    addrs: &[SocketAddr],
    args: &LoadArgs,
    w: Workload,
) -> io::Result<Vec<Summary>> {
    let plan = args.load_plan(w);
    let addr = *addrs
        .first()
        .ok_or_else(|| io::Error::other("no server address"))?;
    load::setup(addr, &plan).await?;
    match w {
        Workload::Fanout => {
            let p = fanout::FanoutPlan {
                watchers: args.watchers,
                duration: args.duration(),
                value_size: args.value_size,
            };
            Ok(vec![fanout::run(addr, &p).await?])
        }
        Workload::Storm => {
            let p = storm::StormPlan {
                sessions: args.sessions,
                pings: args.pings,
                concurrency: args.storm_concurrency,
            };
            storm::run(addr, &p).await
        }
        _ => match args.rate {
            Some(rate) => Ok(vec![paced::run(addrs, &plan, rate).await?]),
            None => Ok(vec![load::run(addrs, &plan).await?]),
        },
    }
}

/// A tokio runtime with `threads` workers for the load generator.
pub fn runtime(threads: usize) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
}
