//! Starting the AdminServer (`JettyAdminServer`) and the Prometheus endpoint
//! (`PrometheusMetricsProvider.start`) from the configuration.

use super::commands;
use super::http::{self, Response};
use super::monitor;
use super::prometheus::PROVIDER_CLASS;
use super::system::Facts;
use super::tls::{self, AdminTlsMode, StoreConfig};
use super::Ops;
use crate::node::four_letter::Query;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tracing::info;

/// Prefix of the key store properties the AdminServer reads (`QuorumX509Util`).
const QUORUM_SSL: &str = "zookeeper.ssl.quorum.";

/// The AdminServer's and the metrics endpoint's settings (`admin.*`, `metricsProvider.*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointSettings {
    pub admin_enabled: bool,
    pub admin_address: String,
    pub admin_port: u16,
    pub admin_url: String,
    pub admin_idle_ms: u64,
    pub admin_tls: AdminTlsMode,
    /// `ssl.quorum.keyStore.*` and `ssl.quorum.trustStore.*` (`QuorumX509Util`).
    pub admin_key_store: StoreConfig,
    pub admin_trust_store: StoreConfig,
    /// `Some` when `metricsProvider.className` names the Prometheus provider.
    pub metrics: Option<(String, u16)>,
}

impl EndpointSettings {
    pub fn from_config(cfg: &crate::config::Config) -> EndpointSettings {
        let p = &cfg.properties;
        let get = |k: &str| p.get(k).map(|v| v.trim().to_string());
        // `Boolean.getBoolean`: only "true", any case.
        let flag = |k: &str| get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let prometheus = cfg.metrics_provider_class.as_deref() == Some(PROVIDER_CLASS);
        EndpointSettings {
            admin_enabled: get("zookeeper.admin.enableServer")
                .map(|v| v != "false")
                .unwrap_or(true),
            admin_address: get("zookeeper.admin.serverAddress").unwrap_or_else(|| "0.0.0.0".into()),
            admin_port: get("zookeeper.admin.serverPort")
                .and_then(|v| v.parse().ok())
                .unwrap_or(8080),
            admin_url: get("zookeeper.admin.commandURL").unwrap_or_else(|| "/commands".into()),
            admin_idle_ms: get("zookeeper.admin.idleTimeout")
                .and_then(|v| v.parse().ok())
                .unwrap_or(30_000),
            admin_tls: match (
                flag("zookeeper.admin.forceHttps"),
                flag("zookeeper.admin.portUnification"),
            ) {
                (true, _) => AdminTlsMode::Forced,
                (false, true) => AdminTlsMode::Unified,
                (false, false) => AdminTlsMode::Off,
            },
            admin_key_store: StoreConfig::from_properties(p, QUORUM_SSL, "keyStore"),
            admin_trust_store: StoreConfig::from_properties(p, QUORUM_SSL, "trustStore"),
            metrics: prometheus.then(|| {
                let host = cfg
                    .metrics_provider
                    .get("httpHost")
                    .cloned()
                    .unwrap_or_else(|| "0.0.0.0".into());
                let port = cfg
                    .metrics_provider
                    .get("httpPort")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(7000);
                (host, port)
            }),
        }
    }
}

/// Binds and serves the AdminServer; `None` when `admin.enableServer=false`.
pub async fn start_admin(
    ops: Arc<Ops>,
    s: &EndpointSettings,
) -> std::io::Result<Option<JoinHandle<()>>> {
    if !s.admin_enabled {
        return Ok(None);
    }
    let tls = match s.admin_tls {
        AdminTlsMode::Off => None,
        mode => {
            let acceptor = tls::acceptor(&s.admin_key_store, &s.admin_trust_store)
                .map_err(std::io::Error::other)?;
            info!(
                "Successfully loaded private key from {}",
                s.admin_key_store.location
            );
            Some(http::Tls {
                acceptor,
                unified: mode == AdminTlsMode::Unified,
                insecure: Some(ops.core.clone()),
            })
        }
    };
    let listener = TcpListener::bind((s.admin_address.as_str(), s.admin_port)).await?;
    info!(
        "Started AdminServer on address {}, port {} and command URL {}",
        s.admin_address,
        listener.local_addr()?.port(),
        s.admin_url
    );
    let url = s.admin_url.trim_end_matches('/').to_string();
    let handler = move |req: http::Request| {
        let (ops, url) = (ops.clone(), url.clone());
        async move { admin_route(&ops, &url, req).await }
    };
    Ok(Some(tokio::spawn(http::serve_tls(
        listener,
        Duration::from_millis(s.admin_idle_ms),
        tls,
        handler,
    ))))
}

async fn admin_route(ops: &Ops, url: &str, req: http::Request) -> Response {
    let path = req.path.as_str();
    if path == url || path.strip_prefix(url) == Some("/") {
        return Response::ok("text/html", commands::index(url));
    }
    match path
        .strip_prefix(url)
        .and_then(|rest| rest.strip_prefix('/'))
    {
        Some(name) => Response::ok(
            "application/json",
            commands::run(ops, name, &req.params).await.pretty(),
        ),
        None => Response::not_found(),
    }
}

/// Binds and serves `/metrics` when the Prometheus provider is configured.
pub async fn start_metrics(
    ops: Arc<Ops>,
    s: &EndpointSettings,
) -> std::io::Result<Option<JoinHandle<()>>> {
    let Some((host, port)) = s.metrics.clone() else {
        return Ok(None);
    };
    let listener = TcpListener::bind((host.as_str(), port)).await?;
    info!(
        "Prometheus metrics on http://{}:{}/metrics",
        host,
        listener.local_addr()?.port()
    );
    let exporter = ops.exporter.clone().unwrap_or_default();
    let handler = move |req: http::Request| {
        let (ops, exporter) = (ops.clone(), exporter.clone());
        async move {
            if req.path != "/metrics" {
                return Response::not_found();
            }
            match ops.query(Query::snapshot()).await {
                Some(snap) => {
                    let m = monitor::collect(&snap, &Facts::gather(&ops));
                    Response::ok(
                        "text/plain; version=0.0.4; charset=utf-8",
                        exporter.render(&m),
                    )
                }
                None => Response::ok("text/plain; version=0.0.4; charset=utf-8", String::new()),
            }
        }
    };
    Ok(Some(tokio::spawn(http::serve(
        listener,
        Duration::from_secs(30),
        handler,
    ))))
}
