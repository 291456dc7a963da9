//! `rzk [zoo.cfg]`: runs a ZooKeeper server in the foreground, like
//! `zkServer.sh start-foreground`; `rzk txnlog-dump` / `rzk snapshot-dump` list data
//! files like Apache ZooKeeper's `TxnLogToolkit` / `SnapshotFormatter`;
//! `rzk storage-bench` prints storage figures. All logic lives in the library.

use anyhow::{Context, Result};
use clap::Parser;
use rzk::config::{sysprops, zoo_cfg, Config};
use rzk::launch;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tracing::{error, info};

#[derive(Parser, Debug)]
#[command(name = "rzk", version, about = "A ZooKeeper server, drop-in compatible with Apache ZooKeeper")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    /// Path of the zoo.cfg to run with.
    #[arg(default_value = "conf/zoo.cfg")]
    config: PathBuf,
    #[command(subcommand)]
    tool: Option<Tool>,
}

#[derive(clap::Subcommand, Debug)]
enum Tool {
    /// Lists the transactions of a txn log file (log.<zxid>).
    TxnlogDump { file: PathBuf },
    /// Lists the nodes and sessions of a snapshot file (snapshot.<zxid>[.gz]).
    SnapshotDump { file: PathBuf },
    /// Prints append+fsync throughput and restart time figures (optionally next to
    /// Apache ZooKeeper's, when its jars are given).
    StorageBench(rzk::storage::bench::BenchArgs),
}

fn main() {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.tool {
        Some(tool) => run_tool(tool),
        None => run(cli.config),
    };
    if let Err(e) = result {
        error!("{e:#}");
        eprintln!("rzk: {e:#}");
        std::process::exit(1);
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RZK_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn load_config(path: &PathBuf) -> Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let entries = zoo_cfg::parse(&text);
    Ok(Config::from_entries(&path.display().to_string(), &entries, &sysprops::from_env())?)
}

/// DIGEST-MD5 users from the JAAS file's `Server` section, when SASL is configured.
fn sasl_users(cfg: &Config) -> Result<Option<BTreeMap<String, String>>> {
    let Some(path) = cfg.jaas_config.as_ref() else { return Ok(None) };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read JAAS file {}", path.display()))?;
    let section = cfg.properties.get("zookeeper.sasl.serverconfig").map(String::as_str).unwrap_or("Server");
    match rzk::auth::jaas::parse_jaas_server_section(&text, section) {
        Ok(users) => Ok(Some(users)),
        Err(e) => anyhow::bail!("{}: {e}", path.display()),
    }
}

fn run_tool(tool: Tool) -> Result<()> {
    let text = match tool {
        Tool::TxnlogDump { file } => rzk::storage::dump::txnlog_dump(&file),
        Tool::SnapshotDump { file } => rzk::storage::dump::snapshot_dump(&file),
        Tool::StorageBench(args) => rzk::storage::bench::run(&args),
    };
    print!("{}", text.map_err(anyhow::Error::msg)?);
    Ok(())
}

fn run(config: PathBuf) -> Result<()> {
    let cfg = load_config(&config)?;
    std::fs::create_dir_all(&cfg.data_dir).with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
    let users = sasl_users(&cfg)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let listener = launch::bind(&cfg).await.with_context(|| format!("cannot bind client port {}", cfg.client_port))?;
        launch::serve(cfg, users, listener, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    info!("rzk stopped");
    Ok(())
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
