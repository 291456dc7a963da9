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
use tracing::{error, info, warn};

#[derive(Parser, Debug)]
#[command(
    name = "rzk",
    version,
    about = "A ZooKeeper server, drop-in compatible with Apache ZooKeeper"
)]
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
    if let Some(tool) = cli.tool {
        if let Err(e) = run_tool(tool) {
            eprintln!("rzk: {e:#}");
            std::process::exit(1);
        }
        return;
    }
    let cfg = match load_config(&cli.config) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("rzk: {e:#}");
            std::process::exit(1);
        }
    };
    init_tracing(&cfg);
    report_notices(&cfg);
    if let Err(e) = run(cfg) {
        error!("{e:#}");
        eprintln!("rzk: {e:#}");
        std::process::exit(1);
    }
}

/// The log filter: `RZK_LOG` or `RUST_LOG` (tracing filter syntax), else zkServer.sh's
/// `ZOO_LOG4J_PROP` (`"WARN,CONSOLE"`), else `rzk.log.level` from zoo.cfg or
/// `-Dzookeeper.root.logger`, else `info`.
fn log_filter(cfg: &Config) -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    if let Some(f) = env("RZK_LOG").or_else(|| env("RUST_LOG")) {
        return f;
    }
    let log4j = env("ZOO_LOG4J_PROP")
        .or_else(|| cfg.properties.get("zookeeper.rzk.log.level").cloned())
        .or_else(|| cfg.properties.get("zookeeper.root.logger").cloned());
    let level = log4j
        .as_deref()
        .and_then(|v| v.split(',').next())
        .map(|l| l.trim().to_ascii_lowercase());
    match level.as_deref() {
        Some("fatal") => "error".into(),
        Some(l @ ("trace" | "debug" | "info" | "warn" | "error" | "off")) => l.into(),
        Some(other) if !other.is_empty() => other.into(),
        _ => "info".into(),
    }
}

fn init_tracing(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(log_filter(cfg))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();
}

/// Keys accepted without effect and unknown keys, as `file:line: key: message`.
fn report_notices(cfg: &Config) {
    for n in &cfg.notices {
        if n.warning {
            warn!("{}:{}: {}: {}", cfg.source, n.line, n.key, n.message);
        } else {
            info!("{}:{}: {}: {}", cfg.source, n.line, n.key, n.message);
        }
    }
}

fn load_config(path: &PathBuf) -> Result<Config> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let entries = zoo_cfg::parse(&text);
    let mut cfg =
        Config::from_entries(&path.display().to_string(), &entries, &sysprops::from_env())?;
    rzk::config::myid::load(&mut cfg)?;
    Ok(cfg)
}

/// DIGEST-MD5 users from the JAAS file's `Server` section, when SASL is configured.
fn sasl_users(cfg: &Config) -> Result<Option<BTreeMap<String, String>>> {
    let Some(path) = cfg.jaas_config.as_ref() else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read JAAS file {}", path.display()))?;
    let section = cfg
        .properties
        .get("zookeeper.sasl.serverconfig")
        .map(String::as_str)
        .unwrap_or("Server");
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
    let text = text.map_err(anyhow::Error::msg)?;
    // A reader that stops early (`| head`) is not an error: stop writing quietly.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn run(cfg: Config) -> Result<()> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
    let users = sasl_users(&cfg)?;
    rzk::auth::sasl_gssapi_setup::export_krb5_config(&cfg);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = launch::bind(&cfg)
            .await
            .with_context(|| format!("cannot bind client port {}", cfg.client_port))?;
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
