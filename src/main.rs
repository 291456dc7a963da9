//! `rzk [zoo.cfg]`: runs a ZooKeeper server in the foreground, like
//! `zkServer.sh start-foreground`. All logic lives in the library.

use anyhow::{Context, Result};
use clap::Parser;
use rzk::config::{sysprops, zoo_cfg, Config};
use rzk::jute::frame::Limits;
use rzk::node::driver::{self, Event, MemoryLog};
use rzk::node::{Core, CoreConfig};
use rzk::server::{self, ShellConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tracing::{error, info};

#[derive(Parser, Debug)]
#[command(name = "rzk", version, about = "A ZooKeeper server, drop-in compatible with Apache ZooKeeper")]
struct Cli {
    /// Path of the zoo.cfg to run with.
    #[arg(default_value = "conf/zoo.cfg")]
    config: PathBuf,
}

fn main() {
    let cli = Cli::parse();
    init_tracing();
    if let Err(e) = run(cli) {
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

fn run(cli: Cli) -> Result<()> {
    let cfg = load_config(&cli.config)?;
    std::fs::create_dir_all(&cfg.data_dir).with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
    let users = sasl_users(&cfg)?;
    let wall = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    let core = Core::new(CoreConfig::from_config(&cfg, users), wall, 0, rand::random());
    let (tx, rx) = mpsc::channel::<Event>(4096);
    let core_thread = std::thread::Builder::new()
        .name("rzk-core".into())
        .spawn(move || driver::run(core, MemoryLog::new(10_000), rx))?;
    let shell = ShellConfig {
        limits: Limits { max_frame: cfg.jute_max_buffer, max_field: cfg.jute_max_buffer * 2 },
        max_client_cnxns: cfg.max_client_cnxns,
        max_outgoing_frames: cfg.max_outgoing_frames,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(serve(cfg, shell, tx))?;
    let _ = core_thread.join();
    info!("rzk stopped");
    Ok(())
}

async fn serve(cfg: Config, shell: ShellConfig, tx: mpsc::Sender<Event>) -> Result<()> {
    let host = cfg.client_port_address.clone().unwrap_or_else(|| "0.0.0.0".to_string());
    let listener = tokio::net::TcpListener::bind((host.as_str(), cfg.client_port))
        .await
        .with_context(|| format!("cannot bind {host}:{}", cfg.client_port))?;
    info!("binding to port {}", listener.local_addr()?);
    let ticker = tokio::spawn(tick(tx.clone()));
    let accept = tokio::spawn(server::serve(listener, tx.clone(), shell));
    shutdown_signal().await;
    info!("shutting down");
    accept.abort();
    ticker.abort();
    let _ = tx.send(Event::Shutdown).await;
    Ok(())
}

/// Session expiry and container reaping run on ticks; the core decides what is due.
async fn tick(tx: mpsc::Sender<Event>) {
    let mut every = tokio::time::interval(std::time::Duration::from_millis(50));
    loop {
        every.tick().await;
        if tx.send(Event::Input(rzk::node::Input::Tick)).await.is_err() {
            return;
        }
    }
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
