//! Four-letter words (`FourLetterCommands` and the `*Command` classes of
//! `org.apache.zookeeper.server.command`): the same lines, in the same order, with the
//! same key names as Apache ZooKeeper 3.8.

use super::json::{java_double, round4};
use super::monitor::{self, Value};
use super::system::{self, Facts};
use super::time::java_date;
use super::{Ops, NOT_SERVING, VERSION};
use crate::node::four_letter::{Query, Reset};
use crate::node::stats::{ConnSnapshot, ServerSnapshot};
use crate::node::ConnId;
use std::fmt::Write;

/// The words Apache ZooKeeper recognises as the first 4 bytes of a connection.
pub const WORDS: [&str; 18] = [
    "conf", "cons", "crst", "dump", "envi", "gtmk", "ruok", "stmk", "srvr", "srst", "stat", "wchc",
    "wchp", "wchs", "mntr", "isro", "hash", "dirs",
];

/// Java's answer to a known word that `4lw.commands.whitelist` does not enable.
pub fn refusal(word: &str) -> String {
    format!("{word} is not executed because it is not in the whitelist.\n")
}

/// The words answered without the server's state (`ruok`, `gtmk`, `stmk`, `envi`).
const WITHOUT_THE_CORE: [&str; 4] = ["ruok", "gtmk", "stmk", "envi"];

/// Whether [`answer`] asks the core about `word` with its connection named
/// (`Query::four_letter_conn`), which counts the word as a packet received: the
/// enabled words that need the server's state.
pub fn asks_the_core(ops: &Ops, word: &str) -> bool {
    ops.cfg.four_letter_words.allows(word) && !WITHOUT_THE_CORE.contains(&word)
}

/// Answers `word` received on `conn`; `arg` is `stmk`'s 8-byte mask.
pub async fn answer(ops: &Ops, conn: ConnId, word: &str, arg: Option<i64>) -> String {
    if !ops.cfg.four_letter_words.allows(word) {
        return refusal(word);
    }
    match word {
        "ruok" => return "imok".into(),
        "gtmk" => return super::trace_mask().to_string(),
        "stmk" => {
            super::set_trace_mask(arg.unwrap_or(0));
            return super::trace_mask().to_string();
        }
        "envi" => return envi(),
        _ => debug_assert!(asks_the_core(ops, word)),
    }
    let reset = match word {
        "crst" => Reset::Connections,
        "srst" => Reset::Server,
        _ => Reset::None,
    };
    match ops
        .query(Query {
            four_letter_conn: Some(conn),
            reset,
        })
        .await
    {
        Some(snap) => render(word, &snap, ops, &Facts::gather(ops)),
        None if word == "isro" => "null".into(),
        None => format!("{NOT_SERVING}\n"),
    }
}

/// A word's text from a snapshot (the words that need a running server).
pub fn render(word: &str, s: &ServerSnapshot, ops: &Ops, f: &Facts) -> String {
    match word {
        "srvr" => srvr(s, false),
        "stat" => srvr(s, true),
        "cons" => cons(s),
        "crst" => "Connection stats reset.\n".into(),
        "srst" => "Server stats reset.\n".into(),
        "conf" => conf(ops, s, f),
        "dump" => dump(s),
        "wchs" => wchs(s),
        "wchc" => wchc(s),
        "wchp" => wchp(s),
        "dirs" => format!(
            "datadir_size: {}\nlogdir_size: {}\n",
            f.data_dir_size, f.log_dir_size
        ),
        "isro" => "rw".into(),
        "hash" => String::new(),
        "mntr" => mntr(s, ops, f),
        other => refusal(other),
    }
}

fn envi() -> String {
    let mut out = String::from("Environment:\n");
    for (k, v) in system::environment() {
        let _ = writeln!(out, "{k}={v}");
    }
    out
}

fn srvr(s: &ServerSnapshot, with_clients: bool) -> String {
    let mut out = format!("Zookeeper version: {VERSION}\n");
    if with_clients {
        out.push_str("Clients:\n");
        for c in &s.connections {
            let _ = writeln!(out, "{}", connection_line(c, true));
        }
        out.push('\n');
    }
    let st = &s.stats;
    let avg = java_double(round4(st.avg_latency()));
    let _ = writeln!(
        out,
        "Latency min/avg/max: {}/{}/{}",
        st.min_latency_ms, avg, st.max_latency_ms
    );
    let _ = writeln!(out, "Received: {}", st.packets_received);
    let _ = writeln!(out, "Sent: {}", st.packets_sent);
    let _ = writeln!(out, "Connections: {}", s.connections.len());
    let _ = writeln!(out, "Outstanding: {}", s.outstanding_requests);
    let _ = writeln!(out, "Zxid: 0x{:x}", s.last_zxid);
    let _ = writeln!(out, "Mode: {}", s.server_state);
    let _ = writeln!(out, "Node count: {}", s.node_count);
    if let Some(p) = super::ensemble::proposal_sizes(s) {
        let _ = writeln!(
            out,
            "Proposal sizes last/min/max: {}/{}/{}",
            p.last, p.min, p.max
        );
    }
    out
}

/// `ServerCnxn.dumpConnectionInfo`: brief for `stat`, full for `cons`.
pub fn connection_line(c: &ConnSnapshot, brief: bool) -> String {
    let st = &c.stats;
    let mut out = format!(
        " /{}[{:x}](queued={},recved={},sent={}",
        c.peer, c.interest_ops, c.queued, st.packets_received, st.packets_sent
    );
    match c.session {
        Some(sid) if !brief && sid != 0 => {
            let _ = write!(
                out,
                ",sid=0x{sid:x},lop={},est={},to={}",
                st.last_op, st.established_ms, c.timeout_ms
            );
            if st.last_cxid >= 0 {
                let _ = write!(out, ",lcxid=0x{:x}", st.last_cxid);
            }
            let avg = if st.count == 0 {
                0
            } else {
                st.total_latency_ms / st.count as i64
            };
            let _ = write!(
                out,
                ",lzxid=0x{:x},lresp={},llat={},minlat={},avglat={},maxlat={}",
                st.last_zxid,
                st.last_response_ms,
                st.last_latency_ms,
                st.min_latency_ms,
                avg,
                st.max_latency_ms
            );
        }
        _ => {}
    }
    out.push(')');
    out
}

fn cons(s: &ServerSnapshot) -> String {
    let mut out = String::new();
    for c in &s.connections {
        let _ = writeln!(out, "{}", connection_line(c, false));
    }
    out.push('\n');
    out
}

fn conf(ops: &Ops, s: &ServerSnapshot, f: &Facts) -> String {
    let c = &ops.cfg;
    let data = system::version_dir(&c.data_dir);
    let log = system::version_dir(&c.data_log_dir);
    let port = if c.client_port == 0 {
        -1
    } else {
        i64::from(c.client_port)
    };
    let mut out = format!(
        "clientPort={port}\nsecureClientPort=-1\ndataDir={}\ndataDirSize={}\ndataLogDir={}\ndataLogSize={}\n\
         tickTime={}\nmaxClientCnxns={}\nminSessionTimeout={}\nmaxSessionTimeout={}\n\
         clientPortListenBacklog=-1\nserverId={}\n",
        data.display(),
        f.data_dir_size,
        log.display(),
        f.log_dir_size,
        c.tick_time_ms,
        c.max_client_cnxns,
        c.min_session_timeout_ms,
        c.max_session_timeout_ms,
        c.server_id
    );
    out.push_str(&super::ensemble::conf_lines(ops, s));
    out
}

/// Connections expire in buckets of this many ms (`NIOServerCnxnFactory`'s
/// `sessionlessCnxnTimeout`).
const CNXN_EXPIRY_INTERVAL: i64 = 10_000;

fn dump(s: &ServerSnapshot) -> String {
    let mut out = String::from("SessionTracker dump:\n");
    let queued: usize = s.session_buckets.iter().map(|(_, ids)| ids.len()).sum();
    let _ = writeln!(
        out,
        "Session Sets ({})/({}):",
        s.session_buckets.len(),
        queued
    );
    for (t, ids) in &s.session_buckets {
        let _ = writeln!(
            out,
            "{} expire at {}:",
            ids.len(),
            java_date(s.mono_to_wall(*t))
        );
        ids.iter().for_each(|id| {
            let _ = writeln!(out, "\t0x{id:x}");
        });
    }
    out.push_str("ephemeral nodes dump:\n");
    let _ = writeln!(out, "Sessions with Ephemerals ({}):", s.ephemerals.len());
    for (sid, paths) in &s.ephemerals {
        let _ = writeln!(out, "0x{sid:x}:");
        paths.iter().for_each(|p| {
            let _ = writeln!(out, "\t{p}");
        });
    }
    out.push_str("Connections dump:\n");
    dump_connections(s, &mut out);
    out
}

fn dump_connections(s: &ServerSnapshot, out: &mut String) {
    let mut buckets: std::collections::BTreeMap<i64, Vec<&ConnSnapshot>> = Default::default();
    for c in &s.connections {
        let timeout = if c.session.is_some() {
            i64::from(c.timeout_ms)
        } else {
            CNXN_EXPIRY_INTERVAL
        };
        let at = ((s.now_mono_ms + timeout) / CNXN_EXPIRY_INTERVAL + 1) * CNXN_EXPIRY_INTERVAL;
        buckets.entry(at).or_default().push(c);
    }
    let _ = writeln!(
        out,
        "Connections Sets ({})/({}):",
        buckets.len(),
        s.connections.len()
    );
    for (t, conns) in buckets {
        let _ = writeln!(
            out,
            "{} expire at {}:",
            conns.len(),
            java_date(s.mono_to_wall(t))
        );
        for c in conns {
            let _ = writeln!(
                out,
                "\tip: /{} sessionId: 0x{:x}",
                c.peer,
                c.session.unwrap_or(0)
            );
        }
    }
}

fn wchs(s: &ServerSnapshot) -> String {
    let w = &s.watch_summary;
    format!(
        "{} connections watching {} paths\nTotal watches:{}\n",
        w.connections, w.paths, w.total
    )
}

fn wchc(s: &ServerSnapshot) -> String {
    let mut out = String::new();
    for (sid, paths) in &s.watches_by_session {
        let _ = writeln!(out, "0x{sid:x}");
        paths.iter().for_each(|p| {
            let _ = writeln!(out, "\t{p}");
        });
    }
    out.push('\n');
    out
}

fn wchp(s: &ServerSnapshot) -> String {
    let mut out = String::new();
    for (path, sids) in &s.watches_by_path {
        let _ = writeln!(out, "{path}");
        sids.iter().for_each(|sid| {
            let _ = writeln!(out, "\t0x{sid:x}");
        });
    }
    out.push('\n');
    out
}

/// `mntr`: the head keys, then the metrics provider's dump: the default provider's
/// names, or with the Prometheus provider its samples, each value a double.
fn mntr(s: &ServerSnapshot, ops: &Ops, f: &Facts) -> String {
    let mut out = String::new();
    for (k, v) in monitor::head(s) {
        let _ = writeln!(out, "zk_{k}\t{v}");
    }
    let m = monitor::collect(s, f);
    if let Some(exporter) = &ops.exporter {
        for (k, v) in exporter.samples(&m) {
            let _ = writeln!(out, "zk_{k}\t{}", java_double(v));
        }
        return out;
    }
    for (k, v) in monitor::flat(&m) {
        let v = match v {
            Value::Int(i) => i.to_string(),
            Value::Double(d) => java_double(d),
        };
        let _ = writeln!(out, "zk_{k}\t{v}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::conn::ConnStats;

    fn conn(session: Option<i64>) -> ConnSnapshot {
        let stats = ConnStats {
            packets_received: 6,
            packets_sent: 6,
            last_op: "GETC",
            last_cxid: 5,
            ..Default::default()
        };
        ConnSnapshot {
            peer: "127.0.0.1:51804".parse().unwrap(),
            interest_ops: 1,
            queued: 0,
            session,
            timeout_ms: 30000,
            stats,
        }
    }

    #[test]
    fn connection_lines_follow_dump_connection_info() {
        assert_eq!(
            connection_line(&conn(Some(0x1)), true),
            " /127.0.0.1:51804[1](queued=0,recved=6,sent=6)"
        );
        let full = connection_line(&conn(Some(0x1000)), false);
        assert!(full.starts_with(" /127.0.0.1:51804[1](queued=0,recved=6,sent=6,sid=0x1000,lop=GETC,est=0,to=30000,lcxid=0x5,lzxid=0x0,"));
        assert!(full.ends_with(",llat=0,minlat=0,avglat=0,maxlat=0)"));
        assert_eq!(
            connection_line(&conn(None), false),
            " /127.0.0.1:51804[1](queued=0,recved=6,sent=6)"
        );
    }

    #[test]
    fn refusal_is_javas_line() {
        assert_eq!(
            refusal("mntr"),
            "mntr is not executed because it is not in the whitelist.\n"
        );
    }
}
