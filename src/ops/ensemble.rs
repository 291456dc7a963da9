//! What the operations surface adds for an ensemble member: `conf`'s quorum lines
//! (`QuorumZooKeeperServer.dumpConf`), the AdminServer's `leader`, `voting_view` and
//! `zabstate` (`Commands.LeaderCommand`, `VotingViewCommand`, `ZabStateCommand`), `observers`
//! (`SyncedObserverConsCommand`), and the leader's proposal sizes in
//! `srvr`/`stat` (`LeaderZooKeeperServer`'s `ServerStats.Provider`).

use super::json::Json;
use super::Ops;
use crate::config::quorum::{LearnerType, QuorumSettings, ServerSpec};
use crate::node::stats::{BufferStats, LearnerLinkInfo, ServerSnapshot};
use crate::proto::ServerId;
use std::fmt::Write;

/// The quorum settings, when this server runs in an ensemble.
fn settings(ops: &Ops, s: &ServerSnapshot) -> Option<QuorumSettings> {
    s.quorum.as_ref()?;
    QuorumSettings::from_config(&ops.cfg).ok()
}

/// The lines `conf` prints after `serverId` in an ensemble; empty standalone.
pub fn conf_lines(ops: &Ops, s: &ServerSnapshot) -> String {
    let Some(q) = settings(ops, s) else {
        return String::new();
    };
    let Some(me) = q.me() else {
        return String::new();
    };
    let peer_type = match me.role {
        LearnerType::Participant => 0,
        LearnerType::Observer => 1,
    };
    let mut out = format!(
        "initLimit={}\nsyncLimit={}\nelectionAlg=3\nelectionPort={}\nquorumPort={}\npeerType={peer_type}\nmembership: \n",
        q.init_limit, q.sync_limit, me.election_port, me.quorum_port
    );
    out.push_str(&membership(&q));
    out
}

/// `QuorumMaj.toString`: every member with its role, then the config version (hex),
/// without a final newline.
fn membership(q: &QuorumSettings) -> String {
    let mut out = String::new();
    for s in q.servers.values() {
        let _ = writeln!(out, "server.{}={}", s.id.0, s.config_value());
    }
    out.push_str("version=0");
    out
}

/// The leader's `Proposal sizes last/min/max` line of `srvr`/`stat`.
pub fn proposal_sizes(s: &ServerSnapshot) -> Option<BufferStats> {
    Some(s.quorum.as_ref()?.leader.as_ref()?.proposal_sizes)
}

/// `leader`: whether this server leads, and who does. `None` when not in an ensemble
/// (`server is not initialized`).
pub fn leader(ops: &Ops, s: &ServerSnapshot) -> Option<Json> {
    let q = settings(ops, s)?;
    let quorum = s.quorum.as_ref()?;
    let leading = quorum.leader.is_some();
    let id = quorum.leader_id.unwrap_or(-1);
    let ip = q
        .servers
        .get(&ServerId(id))
        .map(|l| Json::str(l.host.clone()))
        .unwrap_or(Json::Null);
    Some(
        Json::obj()
            .with("is_leader", Json::Bool(leading))
            .with("leader_id", Json::Int(id))
            .with("leader_ip", ip),
    )
}

/// `observers` (`SyncedObserverConsCommand`): on the leader, its synced observers and
/// each one's connection (`LearnerHandler.getLearnerHandlerInfo`); elsewhere none.
pub fn observers(s: &ServerSnapshot) -> Json {
    let leader = s.quorum.as_ref().and_then(|q| q.leader.as_ref());
    let synced = leader.map_or(0, |l| l.synced_observers);
    let list = leader.map_or_else(Vec::new, |l| l.observers.iter().map(learner_link).collect());
    Json::obj()
        .with("synced_observers", Json::Int(synced as i64))
        .with("observers", Json::Array(list))
}

fn learner_link(i: &LearnerLinkInfo) -> Json {
    let n = |v: u64| Json::Int(i64::try_from(v).unwrap_or(i64::MAX));
    Json::obj()
        .with(
            "remote_socket_address",
            Json::str(i.remote_socket_address.clone()),
        )
        .with("sid", Json::Int(i.sid))
        .with("established", Json::Int(i.established_ms))
        .with("queued_packets", n(i.queued_packets as u64))
        .with("queued_packets_size", Json::Int(i.queued_packets_size))
        .with("packets_received", n(i.packets_received))
        .with("packets_sent", n(i.packets_sent))
        .with("requests", n(i.requests))
        .with("last_zxid", Json::Int(i.last_zxid))
}

/// `voting_view`: the voting members and their addresses; only this server's own
/// client address is known unless a server line gives one.
pub fn voting_view(ops: &Ops, s: &ServerSnapshot) -> Json {
    let Some(q) = settings(ops, s) else {
        return Json::obj().with("current_config", Json::obj());
    };
    let mut view = Json::obj();
    for spec in q
        .servers
        .values()
        .filter(|v| v.role == LearnerType::Participant)
    {
        view = view.with(&spec.id.0.to_string(), member(ops, &q, spec));
    }
    Json::obj().with("current_config", view)
}

fn member(ops: &Ops, q: &QuorumSettings, spec: &ServerSpec) -> Json {
    let addr = |port: u16| Json::Array(vec![Json::str(format!("{}:{port}", spec.host))]);
    let client = match &spec.client {
        Some((h, p)) => format!("{h}:{p}"),
        None if spec.id == q.my_id => client_address(ops),
        None => String::new(),
    };
    Json::obj()
        .with("server_addresses", addr(spec.quorum_port))
        .with("election_addresses", addr(spec.election_port))
        .with("client_address", Json::str(client))
        .with("learner_type", Json::str("participant"))
}

/// `zabstate` (`ZabStateCommand`): this peer's addresses, whether it votes, its last
/// zxid and Zab phase. `None` when not in an ensemble.
pub fn zabstate(ops: &Ops, s: &ServerSnapshot) -> Option<Json> {
    let q = settings(ops, s)?;
    let quorum = s.quorum.as_ref()?;
    let me = q.me()?;
    let phase = quorum.peer_state.split(" - ").nth(1).unwrap_or("election");
    Some(
        Json::obj()
            .with("myid", Json::Int(q.my_id.0))
            .with("is_leader", Json::Bool(quorum.leader.is_some()))
            .with("quorum_address", addresses(&me.host, me.quorum_port))
            .with("election_address", addresses(&me.host, me.election_port))
            .with("client_address", Json::str(client_address(ops)))
            .with("voting", Json::Bool(me.role == LearnerType::Participant))
            .with("last_zxid", Json::str(format!("0x{:x}", s.last_zxid)))
            .with("zab_epoch", Json::Int(s.last_zxid >> 32))
            .with("zab_counter", Json::Int(s.last_zxid & 0xffff_ffff))
            .with("zabstate", Json::str(phase)),
    )
}

/// `MultipleAddresses` as Jackson writes the bean, for one address.
fn addresses(host: &str, port: u16) -> Json {
    let one = || Json::str(format!("{host}:{port}"));
    let list = || Json::Array(vec![one()]);
    Json::obj()
        .with("empty", Json::Bool(false))
        .with("all_addresses", list())
        .with("all_reachable_addresses", list())
        .with("one", one())
        .with("reachable_address", one())
        .with(
            "wildcard_addresses",
            Json::Array(vec![Json::str(format!("0.0.0.0:{port}"))]),
        )
        .with("all_ports", Json::Array(vec![Json::Int(i64::from(port))]))
        .with("all_host_strings", Json::Array(vec![Json::str(host)]))
        .with("all_reachable_addresses_or_all", list())
        .with("reachable_or_one", one())
}

fn client_address(ops: &Ops) -> String {
    let host = ops
        .cfg
        .client_port_address
        .clone()
        .unwrap_or_else(|| "0.0.0.0".into());
    format!("{host}:{}", ops.cfg.client_port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn settings_of(lines: &[(i64, &str)]) -> QuorumSettings {
        let servers: BTreeMap<ServerId, ServerSpec> = lines
            .iter()
            .map(|(id, v)| {
                (
                    ServerId(*id),
                    ServerSpec::parse(ServerId(*id), v).expect("server line"),
                )
            })
            .collect();
        QuorumSettings {
            my_id: ServerId(1),
            servers,
            tick_time_ms: 500,
            init_limit: 20,
            sync_limit: 10,
            connect_limit: 20,
            listen_on_all_ips: false,
            election_port_bind_retry: 3,
            cnx_timeout_ms: 5000,
        }
    }

    #[test]
    fn observers_lists_each_synced_observer_connection_in_learner_handler_order() {
        let info = LearnerLinkInfo {
            remote_socket_address: "/127.0.0.1:40000".into(),
            sid: 4,
            last_zxid: -1,
            ..Default::default()
        };
        let j = learner_link(&info).pretty();
        let keys = [
            "remote_socket_address",
            "sid",
            "established",
            "queued_packets",
            "queued_packets_size",
            "packets_received",
            "packets_sent",
            "requests",
            "last_zxid",
        ];
        let at: Vec<usize> = keys
            .iter()
            .map(|k| j.find(&format!("\"{k}\"")).expect(k))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{j}");
        assert!(j.contains("\"/127.0.0.1:40000\""), "{j}");
    }

    #[test]
    fn membership_lists_every_member_with_its_role_and_the_version() {
        let q = settings_of(&[
            (1, "127.0.0.1:2888:3888"),
            (2, "127.0.0.1:2889:3889"),
            (4, "127.0.0.1:2890:3890:observer"),
        ]);
        assert_eq!(
            membership(&q),
            "server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:participant\n\
             server.4=127.0.0.1:2890:3890:observer\nversion=0"
        );
    }
}
