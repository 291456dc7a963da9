//! Starting a server from a validated [`Config`] (`ZooKeeperServerMain.runFromConfig`):
//! the core thread, the client listener and the ticker. Used by the binary and by tests,
//! which start servers in-process on ephemeral ports. With `secureClientPort` a second,
//! TLS listener feeds the same core. The database is recovered from
//! `dataDir`/`dataLogDir` before the port starts serving.

use crate::config::Config;
use crate::node::driver::{self, Event};
use crate::node::recorded::Sample;
use crate::node::{Core, CoreConfig, Input};
use crate::ops::endpoints::{self, EndpointSettings};
use crate::ops::Ops;
use crate::server::tls::TlsContext;
use crate::server::{self, ListenerKind, ShellConfig};
use crate::storage::{self, DiskLog, Recovered, StorageConfig};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// How often the core is told that time passed (session expiry, container checks).
const TICK: Duration = Duration::from_millis(50);

/// Binds the client port named by the configuration.
pub async fn bind(cfg: &Config) -> std::io::Result<TcpListener> {
    let host = cfg
        .client_port_address
        .clone()
        .unwrap_or_else(|| "0.0.0.0".to_string());
    TcpListener::bind((host.as_str(), cfg.client_port)).await
}

/// Binds `secureClientPort`, when configured.
pub async fn bind_secure(cfg: &Config) -> std::io::Result<Option<TcpListener>> {
    let Some(port) = cfg.secure_client_port else {
        return Ok(None);
    };
    let host = cfg
        .secure_client_port_address
        .clone()
        .unwrap_or_else(|| "0.0.0.0".to_string());
    let listener = TcpListener::bind((host.as_str(), port))
        .await
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot bind secure client port {port}: {e}"),
            )
        })?;
    Ok(Some(listener))
}

/// The listeners and what each speaks: the client port (plain, or unified with TLS)
/// and the secure client port. Fails when the TLS context cannot be built.
pub fn listeners(
    cfg: &Config,
    plain: TcpListener,
    secure: Option<TcpListener>,
) -> std::io::Result<Vec<(TcpListener, ListenerKind)>> {
    info!("binding to port {}", plain.local_addr()?);
    let tls = match &cfg.tls {
        Some(settings) => Some(Arc::new(
            TlsContext::from_settings(settings).map_err(std::io::Error::other)?,
        )),
        None => None,
    };
    let plain_kind = match (&tls, cfg.port_unification) {
        (Some(tls), true) => ListenerKind::Unified(tls.clone()),
        _ => ListenerKind::Plain,
    };
    let mut out = vec![(plain, plain_kind)];
    if let (Some(secure), Some(tls)) = (secure, tls) {
        info!("binding to secure port {}", secure.local_addr()?);
        out.push((secure, ListenerKind::Secure(tls)));
    }
    Ok(out)
}

/// The database recovered from disk and, when it is needed before serving, the startup
/// snapshot written (`ZooKeeperServer.loadData` + `takeSnapshot`), with the metrics
/// both record (`dbinittime`, `startup_*`, `snapshottime`). The second value is true
/// when the startup snapshot is left to be taken in the background.
///
/// An ensemble member (`quorum`) only loads its database at start (`QuorumPeer.loadDataBase`):
/// the snapshot that may wait is not taken, and one needed first is written as
/// `FileTxnSnapLog.restore` writes an empty database's, without `snapshottime`. Its
/// leader takes one whenever it starts leading.
fn load_database(
    storage: &StorageConfig,
    quorum: bool,
) -> std::io::Result<(Recovered, bool, Vec<Sample>)> {
    let recovered = storage::recover(storage).map_err(std::io::Error::other)?;
    let mut samples = recovered.samples();
    if storage::recovery::startup_snapshot_can_wait(&recovered, storage) {
        return Ok((recovered, !quorum, samples));
    }
    let sessions: Vec<(i64, i32)> = recovered.sessions.iter().map(|(&id, &t)| (id, t)).collect();
    let written = storage::service::save(
        &storage.dirs().snap_dir,
        recovered.last_zxid,
        &recovered.tree,
        &sessions,
        storage.compression,
    )
    .map_err(|e| std::io::Error::other(format!("cannot write the startup snapshot: {e}")))?;
    if !quorum {
        samples.push(written);
    }
    Ok((recovered, false, samples))
}

/// Serves on `listener` until `shutdown` completes; returns once the core has stopped.
/// Fails when the database cannot be loaded, or when the server had to stop because
/// the transaction log could not be written.
pub async fn serve(
    cfg: Config,
    sasl_users: Option<BTreeMap<String, String>>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let secure = bind_secure(&cfg).await?;
    let listeners = listeners(&cfg, listener, secure)?;
    serve_on(cfg, sasl_users, listeners, shutdown).await
}

/// [`serve`] on listeners already bound and typed by [`listeners`].
pub async fn serve_on(
    cfg: Config,
    sasl_users: Option<BTreeMap<String, String>>,
    listeners: Vec<(TcpListener, ListenerKind)>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let storage = StorageConfig::from_config(&cfg);
    let db_cfg = storage.clone();
    let quorum = cfg.is_quorum();
    let (db, snapshot_later, loading) =
        tokio::task::spawn_blocking(move || load_database(&db_cfg, quorum))
            .await
            .map_err(std::io::Error::other)??;
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let mut core_cfg = CoreConfig::from_config(&cfg, sasl_users);
    core_cfg.sasl_gssapi =
        crate::auth::sasl_gssapi_setup::gssapi_service(&cfg).map_err(std::io::Error::other)?;
    let mut core = Core::recovered(
        core_cfg.clone(),
        db.tree,
        &db.sessions,
        db.last_zxid,
        wall,
        0,
        rand::random(),
    );
    // Recorded before anything is served, so they stay until the first `srst`.
    core.step(Input::Samples(loading));
    if snapshot_later {
        // Taken a slice at a time while serving, like any later snapshot.
        core.begin_snapshot();
    }
    let (tx, rx) = mpsc::channel::<Event>(4096);
    let log = DiskLog::start(&storage, tx.clone())?;
    let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();
    let mut peer_tasks = Vec::new();
    let core_thread = if cfg.is_quorum() {
        let rec = crate::peer::Recovered {
            core,
            core_cfg,
            log,
            last_zxid: db.last_zxid,
        };
        peer_tasks = crate::peer::start(&cfg, rec, rx, tx.clone(), done_tx).await?;
        None
    } else {
        Some(
            std::thread::Builder::new()
                .name("rzk-core".into())
                .spawn(move || {
                    let _ = done_tx.send(driver::run(core, log, rx));
                })?,
        )
    };
    let initial = std::fs::read_to_string(&cfg.source).unwrap_or_default();
    let ops = Arc::new(Ops::new(cfg.clone(), initial, tx.clone()));
    let endpoints = start_endpoints(&ops, &cfg).await?;
    let shell = ShellConfig::from_config(&cfg, Some(ops));
    let ticker = tokio::spawn(tick(tx.clone()));
    let accept = tokio::spawn(server::serve_all(listeners, tx.clone(), shell));
    // The driver's result is awaited once only: polling the receiver again after it
    // answered panics, which turned a clean stop on a full disk into a crash.
    let (failure, driver_done) = tokio::select! {
        _ = shutdown => (None, false),
        r = &mut done_rx => (r.ok().and_then(Result::err), true),
    };
    info!("shutting down");
    accept.abort();
    ticker.abort();
    peer_tasks.iter().for_each(|h| h.abort());
    endpoints.iter().for_each(|h| h.abort());
    let _ = tx.send(Event::Shutdown).await;
    drop(tx);
    match core_thread {
        Some(t) => {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        None if !driver_done => {
            let _ = done_rx.await;
        }
        None => {}
    }
    match failure {
        Some(why) => Err(std::io::Error::other(why)),
        None => Ok(()),
    }
}

/// The AdminServer and the Prometheus endpoint. Like `JettyAdminServer`, an AdminServer
/// that cannot bind is logged and skipped; a metrics provider that cannot start stops
/// the server, as `PrometheusMetricsProvider.start` failing does.
async fn start_endpoints(ops: &Arc<Ops>, cfg: &Config) -> std::io::Result<Vec<JoinHandle<()>>> {
    let settings = EndpointSettings::from_config(cfg);
    let mut handles = Vec::new();
    match endpoints::start_admin(ops.clone(), &settings).await {
        Ok(h) => handles.extend(h),
        Err(e) => warn!(
            "Problem starting AdminServer on {}:{}: {e}",
            settings.admin_address, settings.admin_port
        ),
    }
    handles.extend(endpoints::start_metrics(ops.clone(), &settings).await?);
    Ok(handles)
}

async fn tick(tx: mpsc::Sender<Event>) {
    let mut every = tokio::time::interval(TICK);
    loop {
        every.tick().await;
        if tx.send(Event::Input(Input::Tick)).await.is_err() {
            return;
        }
    }
}

/// A server running in the background of the current tokio runtime (tests, embedding).
pub struct Running {
    pub addr: SocketAddr,
    /// The secure client port, when configured.
    pub secure_addr: Option<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn start(
        cfg: Config,
        sasl_users: Option<BTreeMap<String, String>>,
    ) -> std::io::Result<Running> {
        let listener = bind(&cfg).await?;
        let addr = listener.local_addr()?;
        let secure = bind_secure(&cfg).await?;
        let secure_addr = secure.as_ref().map(TcpListener::local_addr).transpose()?;
        let listeners = listeners(&cfg, listener, secure)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve_on(cfg, sasl_users, listeners, async {
            let _ = stopped.await;
        }));
        Ok(Running {
            addr,
            secure_addr,
            stop: Some(stop),
            task,
        })
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }
}
