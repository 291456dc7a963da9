//! AdminServer commands (`org.apache.zookeeper.server.admin.Commands`): each answers a
//! JSON object whose keys are Java's, with `command` and `error` last.

use super::json::{round4, Json};
use super::monitor::{self, Value};
use super::system::{self, Facts};
use super::{Ops, NOT_SERVING, VERSION};
use crate::node::four_letter::{Query, Reset};
use crate::node::stats::{BufferStats, ConnSnapshot, ServerSnapshot};
use std::collections::BTreeMap;

/// Primary names with their aliases, in the order `/commands` lists them.
pub const COMMANDS: &[(&str, &[&str])] = &[
    ("configuration", &["conf", "config"]),
    ("connection_stat_reset", &["crst"]),
    ("connections", &["cons"]),
    ("dirs", &[]),
    ("dump", &[]),
    ("environment", &["env", "envi"]),
    ("get_trace_mask", &["gtmk"]),
    ("hash", &[]),
    ("initial_configuration", &["icfg"]),
    ("is_read_only", &["isro"]),
    ("last_snapshot", &["lsnp"]),
    ("leader", &["lead"]),
    ("monitor", &["mntr"]),
    ("observer_connection_stat_reset", &["orst"]),
    ("observers", &["obsr"]),
    ("ruok", &[]),
    ("server_stats", &["srvr"]),
    ("set_trace_mask", &["stmk"]),
    ("stat_reset", &["srst"]),
    ("stats", &["stat"]),
    ("system_properties", &["sysp"]),
    ("voting_view", &[]),
    ("watch_summary", &["wchs"]),
    ("watches", &["wchc"]),
    ("watches_by_path", &["wchp"]),
    ("zabstate", &[]),
];

/// The primary name of a command or alias.
pub fn primary(name: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|(p, aliases)| *p == name || aliases.contains(&name))
        .map(|(p, _)| *p)
}

/// The `/commands` page: one link per command.
pub fn index(url: &str) -> String {
    COMMANDS
        .iter()
        .map(|(p, _)| format!("<a href=\"{url}/{p}\">{p}</a>\n<br/>\n"))
        .collect()
}

/// Fields first, then `command` and `error` (`CommandResponse.toMap`).
fn ok(command: &str, fields: Json) -> Json {
    fields
        .with("command", Json::str(command))
        .with("error", Json::Null)
}

/// A command that failed in its own code: `error` comes first (Java puts it into the
/// response's data map before `command`).
fn failed(command: &str, error: &str) -> Json {
    Json::obj()
        .with("error", Json::str(error))
        .with("command", Json::str(command))
}

/// Runs `name` (primary or alias) with its query parameters.
pub async fn run(ops: &Ops, name: &str, params: &BTreeMap<String, String>) -> Json {
    let Some(cmd) = primary(name) else {
        return Json::obj()
            .with("command", Json::str(name))
            .with("error", Json::str(format!("Unknown command: {name}")));
    };
    if let Some(answer) = without_server(ops, cmd, params) {
        return answer;
    }
    let reset = match cmd {
        "connection_stat_reset" => Reset::Connections,
        "stat_reset" => Reset::Server,
        _ => Reset::None,
    };
    if cmd == "observer_connection_stat_reset" {
        ops.reset_observer_stats().await;
    }
    let snap = ops
        .query(Query {
            four_letter_conn: None,
            reset,
        })
        .await;
    if cmd == "leader" {
        return match snap.as_ref().and_then(|s| super::ensemble::leader(ops, s)) {
            Some(fields) => ok(cmd, fields),
            None => failed(cmd, "server is not initialized"),
        };
    }
    let Some(snap) = snap else {
        return Json::obj()
            .with("command", Json::str(cmd))
            .with("error", Json::str(NOT_SERVING));
    };
    with_server(ops, cmd, &snap, &Facts::gather(ops))
}

/// The commands that work without a running server.
fn without_server(ops: &Ops, cmd: &str, params: &BTreeMap<String, String>) -> Option<Json> {
    Some(match cmd {
        "ruok" => ok(cmd, Json::obj()),
        "environment" => ok(
            cmd,
            string_map(
                system::environment()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v)),
            ),
        ),
        "get_trace_mask" => ok(
            cmd,
            Json::obj().with("tracemask", Json::Int(super::trace_mask())),
        ),
        "set_trace_mask" => match params
            .get("traceMask")
            .and_then(|v| v.trim().parse::<i64>().ok())
        {
            Some(mask) => {
                super::set_trace_mask(mask);
                ok(cmd, Json::obj().with("tracemask", Json::Int(mask)))
            }
            None => failed(cmd, "setTraceMask requires long traceMask argument"),
        },
        "system_properties" => ok(cmd, string_map(ops.cfg.properties.clone())),
        "initial_configuration" => ok(
            cmd,
            Json::obj().with(
                "initial_configuration",
                Json::str(ops.initial_config.clone()),
            ),
        ),
        _ => return None,
    })
}

fn string_map(entries: impl IntoIterator<Item = (String, String)>) -> Json {
    Json::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k, Json::Str(v)))
            .collect(),
    )
}

fn with_server(ops: &Ops, cmd: &str, s: &ServerSnapshot, f: &Facts) -> Json {
    let fields = match cmd {
        "configuration" => configuration(ops),
        "connections" => connection_lists(s, false),
        "dirs" => dirs(f),
        "dump" => dump(s),
        "hash" => Json::obj().with("digests", Json::Array(vec![])),
        "is_read_only" => Json::obj().with("read_only", Json::Bool(false)),
        "last_snapshot" => Json::obj()
            .with("zxid", Json::str("0"))
            .with("timestamp", Json::Int((s.now_wall_ms - f.uptime_ms) / 1000)),
        "monitor" => monitor_fields(ops, s, f),
        "observers" => super::ensemble::observers(s),
        "server_stats" => server_stats(s, f),
        "stats" => merge(server_stats(s, f), connection_lists(s, true)),
        "voting_view" => super::ensemble::voting_view(ops, s),
        "watch_summary" => Json::obj()
            .with(
                "num_connections",
                Json::Int(s.watch_summary.connections as i64),
            )
            .with("num_paths", Json::Int(s.watch_summary.paths as i64))
            .with("num_total_watches", Json::Int(s.watch_summary.total as i64)),
        "watches" => Json::obj().with("session_id_to_watched_paths", watches(s)),
        "watches_by_path" => Json::obj().with("path_to_session_ids", watches_by_path(s)),
        "zabstate" => super::ensemble::zabstate(ops, s).unwrap_or_else(|| {
            Json::obj()
                .with("voting", Json::Bool(false))
                .with("zabstate", Json::str(""))
        }),
        _ => Json::obj(),
    };
    ok(cmd, fields)
}

fn merge(a: Json, b: Json) -> Json {
    match (a, b) {
        (Json::Object(mut x), Json::Object(y)) => {
            x.extend(y);
            Json::Object(x)
        }
        (a, _) => a,
    }
}

fn configuration(ops: &Ops) -> Json {
    let c = &ops.cfg;
    Json::obj()
        .with("client_port", Json::Int(i64::from(c.client_port)))
        .with(
            "data_dir",
            Json::str(system::version_dir(&c.data_dir).display().to_string()),
        )
        .with(
            "data_log_dir",
            Json::str(system::version_dir(&c.data_log_dir).display().to_string()),
        )
        .with("tick_time", Json::Int(i64::from(c.tick_time_ms)))
        .with("max_client_cnxns", Json::Int(i64::from(c.max_client_cnxns)))
        .with(
            "min_session_timeout",
            Json::Int(i64::from(c.min_session_timeout_ms)),
        )
        .with(
            "max_session_timeout",
            Json::Int(i64::from(c.max_session_timeout_ms)),
        )
        .with("server_id", Json::Int(c.server_id))
        .with("client_port_listen_backlog", Json::Int(-1))
}

fn dirs(f: &Facts) -> Json {
    Json::obj()
        .with("datadir_size", Json::Int(f.data_dir_size as i64))
        .with("logdir_size", Json::Int(f.log_dir_size as i64))
}

/// `ServerCnxn.getConnectionInfo`.
fn connection_info(c: &ConnSnapshot, brief: bool) -> Json {
    let st = &c.stats;
    let mut j = Json::obj()
        .with("remote_socket_address", Json::str(c.peer.to_string()))
        .with("interest_ops", Json::Int(i64::from(c.interest_ops)))
        .with("outstanding_requests", Json::Int(c.queued as i64))
        .with("packets_received", Json::Int(st.packets_received as i64))
        .with("packets_sent", Json::Int(st.packets_sent as i64));
    if let (false, Some(sid)) = (brief, c.session) {
        let avg = if st.count == 0 {
            0
        } else {
            st.total_latency_ms / st.count as i64
        };
        j = j
            .with("session_id", Json::Int(sid))
            .with("last_operation", Json::str(st.last_op))
            .with("established", Json::Int(st.established_ms))
            .with("session_timeout", Json::Int(i64::from(c.timeout_ms)))
            .with("last_cxid", Json::Int(i64::from(st.last_cxid)))
            .with("last_zxid", Json::Int(st.last_zxid))
            .with("last_response_time", Json::Int(st.last_response_ms))
            .with("last_latency", Json::Int(st.last_latency_ms))
            .with("min_latency", Json::Int(st.min_latency_ms))
            .with("avg_latency", Json::Int(avg))
            .with("max_latency", Json::Int(st.max_latency_ms));
    }
    j
}

fn connection_lists(s: &ServerSnapshot, brief: bool) -> Json {
    let conns = s
        .connections
        .iter()
        .map(|c| connection_info(c, brief))
        .collect();
    Json::obj()
        .with("connections", Json::Array(conns))
        .with("secure_connections", Json::Array(vec![]))
}

fn dump(s: &ServerSnapshot) -> Json {
    let expiry = s
        .session_buckets
        .iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(t, ids)| {
            (
                t.to_string(),
                Json::Array(ids.iter().map(|i| Json::Int(*i)).collect()),
            )
        })
        .collect();
    let ephemerals = s
        .ephemerals
        .iter()
        .map(|(sid, paths)| {
            (
                sid.to_string(),
                Json::Array(paths.iter().map(|p| Json::str(p.clone())).collect()),
            )
        })
        .collect();
    Json::obj()
        .with("expiry_time_to_session_ids", Json::Object(expiry))
        .with("session_id_to_ephemeral_paths", Json::Object(ephemerals))
}

fn watches(s: &ServerSnapshot) -> Json {
    Json::Object(
        s.watches_by_session
            .iter()
            .map(|(sid, paths)| {
                (
                    sid.to_string(),
                    Json::Array(paths.iter().map(|p| Json::str(p.clone())).collect()),
                )
            })
            .collect(),
    )
}

fn watches_by_path(s: &ServerSnapshot) -> Json {
    Json::Object(
        s.watches_by_path
            .iter()
            .map(|(p, sids)| {
                (
                    p.clone(),
                    Json::Array(sids.iter().map(|i| Json::Int(*i)).collect()),
                )
            })
            .collect(),
    )
}

fn monitor_fields(ops: &Ops, s: &ServerSnapshot, f: &Facts) -> Json {
    let mut j = Json::obj();
    for (k, v) in monitor::head(s) {
        j = j.with(
            k,
            match v {
                monitor::HeadValue::Text(t) => Json::str(t),
                monitor::HeadValue::Int(i) => Json::Int(i),
            },
        );
    }
    let m = monitor::collect(s, f);
    if let Some(exporter) = &ops.exporter {
        for (k, v) in exporter.samples(&m) {
            j = j.with(&k, Json::Double(v));
        }
        return j;
    }
    for (k, v) in monitor::flat(&m) {
        j = j.with(
            &k,
            match v {
                Value::Int(i) => Json::Int(i),
                Value::Double(d) => Json::Double(d),
            },
        );
    }
    j
}

/// `BufferStats` as Jackson writes the bean.
fn buffer_stats(b: &BufferStats) -> Json {
    Json::obj()
        .with("last_buffer_size", Json::Int(b.last.into()))
        .with("min_buffer_size", Json::Int(b.min.into()))
        .with("max_buffer_size", Json::Int(b.max.into()))
}

fn server_stats(s: &ServerSnapshot, f: &Facts) -> Json {
    let st = &s.stats;
    let inner = Json::obj()
        .with("packets_sent", Json::Int(st.packets_sent as i64))
        .with("packets_received", Json::Int(st.packets_received as i64))
        .with("fsync_threshold_exceed_count", Json::Int(0))
        .with("client_response_stats", buffer_stats(&st.client_response))
        .with("uptime", Json::Int(f.uptime_ms))
        .with("data_dir_size", Json::Int(f.data_dir_size as i64))
        .with("log_dir_size", Json::Int(f.log_dir_size as i64))
        .with("provider_null", Json::Bool(false))
        .with("server_state", Json::str(s.server_state))
        .with("last_processed_zxid", Json::Int(s.last_zxid))
        .with(
            "outstanding_requests",
            Json::Int(s.outstanding_requests as i64),
        )
        .with("avg_latency", Json::Double(round4(st.avg_latency())))
        .with("max_latency", Json::Int(st.max_latency_ms))
        .with("min_latency", Json::Int(st.min_latency_ms))
        .with(
            "num_alive_client_connections",
            Json::Int(s.connections.len() as i64),
        )
        .with("auth_failed_count", Json::Int(0))
        .with("non_mtlsremote_conn_count", Json::Int(0))
        .with("non_mtlslocal_conn_count", Json::Int(0));
    let mut out = Json::obj()
        .with("version", Json::str(VERSION))
        .with("read_only", Json::Bool(false))
        .with("server_stats", inner)
        .with("client_response", buffer_stats(&st.client_response));
    if let Some(p) = super::ensemble::proposal_sizes(s) {
        out = out.with("proposal_stats", buffer_stats(&p));
    }
    out.with("node_count", Json::Int(s.node_count as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_primary_names() {
        assert_eq!(primary("mntr"), Some("monitor"));
        assert_eq!(primary("config"), Some("configuration"));
        assert_eq!(primary("watch_summary"), Some("watch_summary"));
        assert_eq!(primary("nosuch"), None);
    }

    #[test]
    fn index_lists_every_command_with_a_break() {
        let page = index("/commands");
        assert!(page.starts_with("<a href=\"/commands/configuration\">configuration</a>\n<br/>\n"));
        assert_eq!(page.matches("<br/>").count(), COMMANDS.len());
    }

    /// The events `name` sends to the driver, on a server configured with `servers`.
    fn events_of(name: &str, servers: &str) -> Vec<&'static str> {
        use crate::config::{zoo_cfg, Config};
        use crate::node::driver::Event;
        let text = format!("dataDir=/tmp/rzk-orst\nclientPort=2181\n{servers}");
        let cfg =
            Config::from_entries("zoo.cfg", &zoo_cfg::parse(&text), &BTreeMap::new()).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let ops = Ops::new(cfg, String::new(), tx);
        // A driver that names what it gets and answers nothing (dropping a query's reply).
        let driver = async move {
            let mut seen = Vec::new();
            while let Some(ev) = rx.recv().await {
                seen.push(match ev {
                    Event::Peer(crate::peer::PeerEvent::ResetObserverStats) => "reset observers",
                    Event::Query { .. } => "query",
                    _ => "other",
                });
            }
            seen
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (answer, seen) = rt.block_on(async move {
            let driver = tokio::spawn(driver);
            let answer = run(&ops, name, &BTreeMap::new()).await;
            drop(ops);
            (answer, driver.await.unwrap())
        });
        // Nothing answered the query: the command says the server is not serving.
        assert_eq!(
            answer.pretty().matches(NOT_SERVING).count(),
            1,
            "{}",
            answer.pretty()
        );
        seen
    }

    #[test]
    fn observer_connection_stat_reset_resets_an_ensemble_members_observer_links_before_answering() {
        let ensemble = "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n";
        assert_eq!(events_of("orst", ensemble), ["reset observers", "query"]);
        assert_eq!(
            events_of("observer_connection_stat_reset", ensemble),
            ["reset observers", "query"]
        );
        // A standalone server has no observers; other commands reset nothing of theirs.
        assert_eq!(events_of("orst", ""), ["query"]);
        assert_eq!(events_of("observers", ensemble), ["query"]);
    }

    #[test]
    fn errors_of_a_command_come_before_its_name() {
        assert_eq!(
            failed("leader", "server is not initialized").pretty(),
            "{\n  \"error\" : \"server is not initialized\",\n  \"command\" : \"leader\"\n}"
        );
    }
}
