//! `rzk-bench`: load against any ZooKeeper server (`rzk-bench --server host:port`), or
//! `rzk-bench compare`: Apache ZooKeeper and rzk side by side, as ratios. All logic lives
//! in the library (`rzk::bench`).

use clap::Parser;
use rzk::bench::compare::{self, CompareArgs};
use rzk::bench::{run_workload, runtime, LoadArgs};
use std::net::SocketAddr;

#[derive(Parser, Debug)]
#[command(
    name = "rzk-bench",
    version,
    about = "ZooKeeper load generator and side-by-side benchmark"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    /// Server to load (repeat or comma-separate for several: sessions go round-robin).
    #[arg(long, default_value = "127.0.0.1:2181", value_delimiter = ',')]
    server: Vec<SocketAddr>,
    #[command(flatten)]
    load: LoadArgs,
    /// Load generator threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// One JSON object per result line instead of text.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(clap::Subcommand, Debug)]
enum Cmd {
    /// Starts Apache ZooKeeper 3.8 and rzk, runs every workload on both (A/B/A/B) and
    /// prints ratios; then RSS and start time with a million znodes.
    Compare(Box<CompareArgs>),
    /// Writes a dataDir holding ZNODES znodes of 100 bytes (the large-database runs of
    /// `compare` load such a dataDir), to start either server on by hand.
    MakeDatadir {
        dir: std::path::PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        znodes: usize,
    },
    /// Serves a stateless stand-in for a server that answers every request at once (and
    /// with --sync-dir, group-commits the writes with fdatasync first): the ceiling the
    /// generator, loopback and disk of this machine set for any server.
    Floor {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Append each write to a log file here and fdatasync it before replying.
        #[arg(long)]
        sync_dir: Option<std::path::PathBuf>,
        /// Bytes of data in each getData reply.
        #[arg(long, default_value_t = 1024)]
        value_size: usize,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match &cli.cmd {
        Some(Cmd::Compare(args)) => compare::run(args),
        Some(Cmd::MakeDatadir { dir, znodes }) => compare::bigtree::build_datadir(dir, *znodes),
        Some(Cmd::Floor {
            listen,
            sync_dir,
            value_size,
        }) => rzk::bench::floor::run(*listen, sync_dir.as_deref(), *value_size),
        None => load(&cli),
    };
    if let Err(e) = result {
        eprintln!("rzk-bench: {e}");
        std::process::exit(1);
    }
}

fn load(cli: &Cli) -> Result<(), String> {
    let rt = runtime(cli.threads).map_err(|e| e.to_string())?;
    for &w in &cli.load.workload {
        let summaries = rt
            .block_on(run_workload(&cli.server, &cli.load, w))
            .map_err(|e| format!("{}: {e}", w.name()))?;
        for s in summaries {
            println!("{}", if cli.json { s.json() } else { s.line() });
        }
    }
    Ok(())
}
