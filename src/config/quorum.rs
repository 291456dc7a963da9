//! The ensemble part of the configuration (`QuorumPeerConfig` + `QuorumPeer.QuorumServer`):
//! the `server.N` lines, `initLimit`/`syncLimit`, `myid`, and the system properties of the
//! election port (`zookeeper.electionPortBindRetry`, `zookeeper.cnxTimeout`).
//!
//! A server line is `host:quorumPort:electionPort[:participant|:observer]
//! [;[clientHost:]clientPort]`; IPv6 hosts are written in brackets. The text every peer
//! sends in its election notifications is rebuilt from these lines exactly as
//! `QuorumMaj.toString` prints it, since Java peers compare its version.

use std::collections::{BTreeMap, BTreeSet};

use super::error::ConfigError;
use super::Config;
use crate::proto::ServerId;

/// `QuorumPeer.LearnerType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LearnerType {
    Participant,
    Observer,
}

/// One `server.N` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSpec {
    pub id: ServerId,
    pub host: String,
    pub quorum_port: u16,
    pub election_port: u16,
    pub role: LearnerType,
    /// `;[clientHost:]clientPort`; the host defaults to `0.0.0.0` as in Java.
    pub client: Option<(String, u16)>,
}

impl ServerSpec {
    /// Parses the value of `server.<id>` (`QuorumServer.initializeWithAddressString`).
    pub fn parse(id: ServerId, value: &str) -> Result<ServerSpec, String> {
        let value = value.trim();
        let wrong = || {
            format!("{value} does not have the form server_config or server_config;client_config where server_config is the pattern host:port:port or host:port:port:type")
        };
        let mut halves = value.split(';');
        let server = halves.next().unwrap_or("");
        let client = halves.next();
        if halves.next().is_some() {
            return Err(wrong());
        }
        if server.contains('|') {
            return Err(format!(
                "several addresses for server.{id} are not supported (multiAddress)"
            ));
        }
        let parts = host_and_port(server);
        if !(3..=4).contains(&parts.len()) {
            return Err(wrong());
        }
        let host = parts[0].clone();
        let quorum_port = port(&host, &parts[1])?;
        let election_port = port(&host, &parts[2])?;
        if quorum_port == election_port {
            return Err(format!("Client and election port must be different! Please update the configuration file on server.{id}"));
        }
        let role = match parts.get(3).map(|s| s.to_ascii_lowercase()) {
            None => LearnerType::Participant,
            Some(t) if t == "participant" => LearnerType::Participant,
            Some(t) if t == "observer" => LearnerType::Observer,
            Some(t) => return Err(format!("Unrecognised peertype: {t}")),
        };
        let client = client.map(|c| client_addr(&host, c, &wrong)).transpose()?;
        Ok(ServerSpec {
            id,
            host,
            quorum_port,
            election_port,
            role,
            client,
        })
    }

    /// `host:port` of the quorum (Zab) port.
    pub fn quorum_addr(&self) -> String {
        format!("{}:{}", bracketed(&self.host), self.quorum_port)
    }

    /// `host:port` of the election port, as sent in the connection header.
    pub fn election_addr(&self) -> String {
        format!("{}:{}", bracketed(&self.host), self.election_port)
    }

    /// The line as `QuorumServer.toString` prints it (the value after `server.N=`).
    pub fn config_value(&self) -> String {
        let role = match self.role {
            LearnerType::Participant => "participant",
            LearnerType::Observer => "observer",
        };
        let mut s = format!(
            "{}:{}:{}",
            bracketed(&self.host),
            self.quorum_port,
            self.election_port
        );
        s.push(':');
        s.push_str(role);
        if let Some((h, p)) = &self.client {
            s.push_str(&format!(";{}:{p}", bracketed(h)));
        }
        s
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// `ConfigUtils.getHostAndPort`: splits on `:`, keeping a bracketed IPv6 host whole.
fn host_and_port(s: &str) -> Vec<String> {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((host, tail)) = rest.split_once(']') {
            let mut out = vec![host.to_string()];
            out.extend(tail.split(':').skip(1).map(str::to_string));
            return out;
        }
    }
    s.split(':').map(str::to_string).collect()
}

fn port(host: &str, p: &str) -> Result<u16, String> {
    p.trim()
        .parse()
        .map_err(|_| format!("Address unresolved: {host}:{p}"))
}

fn client_addr(host: &str, c: &str, wrong: &dyn Fn() -> String) -> Result<(String, u16), String> {
    let parts = host_and_port(c.trim());
    match parts.as_slice() {
        [p] => Ok(("0.0.0.0".to_string(), port(host, p)?)),
        [h, p] => Ok((h.clone(), port(h, p)?)),
        _ => Err(wrong()),
    }
}

/// Everything the ensemble layers need, validated.
#[derive(Clone, Debug)]
pub struct QuorumSettings {
    pub my_id: ServerId,
    pub servers: BTreeMap<ServerId, ServerSpec>,
    pub tick_time_ms: u32,
    pub init_limit: u32,
    pub sync_limit: u32,
    /// `connectToLearnerMasterLimit`, or `initLimit` when unset.
    pub connect_limit: u32,
    /// `quorumListenOnAllIPs`: bind the quorum and election ports on every address.
    pub listen_on_all_ips: bool,
    /// `zookeeper.electionPortBindRetry`: bind attempts, 0 = forever (default 3).
    pub election_port_bind_retry: u32,
    /// `zookeeper.cnxTimeout`: ms allowed to dial a peer and read its header (5000).
    pub cnx_timeout_ms: u32,
}

impl QuorumSettings {
    /// Reads the ensemble settings of a quorum configuration whose `myid` is loaded.
    pub fn from_config(cfg: &Config) -> Result<QuorumSettings, ConfigError> {
        let err = |key: &str, reason: String| ConfigError {
            file: cfg.source.clone(),
            line: 0,
            key: key.into(),
            reason,
        };
        let mut servers = BTreeMap::new();
        for (id, value) in &cfg.servers {
            let spec = ServerSpec::parse(ServerId(*id), value)
                .map_err(|r| err(&format!("server.{id}"), r))?;
            servers.insert(ServerId(*id), spec);
        }
        let init_limit = cfg
            .init_limit
            .ok_or_else(|| err("initLimit", "initLimit is not set".into()))?;
        let sync_limit = cfg
            .sync_limit
            .ok_or_else(|| err("syncLimit", "syncLimit is not set".into()))?;
        let my_id = ServerId(cfg.server_id);
        if !servers.contains_key(&my_id) {
            return Err(err(
                "myid",
                format!("no server.{} line for this server's id", my_id.0),
            ));
        }
        let prop = |name: &str, default: u32| -> Result<u32, ConfigError> {
            match cfg.properties.get(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| err(name, format!("not a valid number: {v:?}"))),
            }
        };
        let positive = |v: i32| u32::try_from(v).unwrap_or(0).max(1);
        let connect = cfg.connect_to_learner_master_limit;
        Ok(QuorumSettings {
            my_id,
            servers,
            tick_time_ms: positive(cfg.tick_time_ms),
            init_limit: positive(init_limit),
            sync_limit: positive(sync_limit),
            connect_limit: if connect > 0 {
                positive(connect)
            } else {
                positive(init_limit)
            },
            listen_on_all_ips: cfg.quorum_listen_on_all_ips,
            election_port_bind_retry: prop("zookeeper.electionPortBindRetry", 3)?,
            cnx_timeout_ms: prop("zookeeper.cnxTimeout", 5000)?,
        })
    }

    pub fn me(&self) -> Option<&ServerSpec> {
        self.servers.get(&self.my_id)
    }

    /// Participants (the voting members).
    pub fn voters(&self) -> BTreeSet<ServerId> {
        self.by_role(LearnerType::Participant)
    }

    pub fn observers(&self) -> BTreeSet<ServerId> {
        self.by_role(LearnerType::Observer)
    }

    fn by_role(&self, role: LearnerType) -> BTreeSet<ServerId> {
        self.servers
            .values()
            .filter(|s| s.role == role)
            .map(|s| s.id)
            .collect()
    }

    /// The static (version 0) quorum config text, as `QuorumMaj.toString` prints it:
    /// voters then observers, each in id order, then `version=0`, no final newline.
    pub fn config_text(&self) -> Vec<u8> {
        let mut text = String::new();
        for role in [LearnerType::Participant, LearnerType::Observer] {
            for s in self.servers.values().filter(|s| s.role == role) {
                text.push_str(&format!("server.{}={}\n", s.id.0, s.config_value()));
            }
        }
        text.push_str("version=0");
        text.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::zoo_cfg;

    fn spec(v: &str) -> Result<ServerSpec, String> {
        ServerSpec::parse(ServerId(1), v)
    }

    #[test]
    fn server_line_with_role_and_client_address() {
        let s = spec("10.0.0.1:2888:3888:observer;127.0.0.1:2181").unwrap();
        assert_eq!(
            (s.host.as_str(), s.quorum_port, s.election_port),
            ("10.0.0.1", 2888, 3888)
        );
        assert_eq!(s.role, LearnerType::Observer);
        assert_eq!(s.client, Some(("127.0.0.1".into(), 2181)));
        assert_eq!(
            s.config_value(),
            "10.0.0.1:2888:3888:observer;127.0.0.1:2181"
        );
    }

    #[test]
    fn client_port_alone_binds_every_address() {
        let s = spec("h:1:2;2181").unwrap();
        assert_eq!(s.role, LearnerType::Participant);
        assert_eq!(s.client, Some(("0.0.0.0".into(), 2181)));
        assert_eq!(s.config_value(), "h:1:2:participant;0.0.0.0:2181");
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        let s = spec("[::1]:2888:3888").unwrap();
        assert_eq!(s.host, "::1");
        assert_eq!(s.election_addr(), "[::1]:3888");
        assert_eq!(s.config_value(), "[::1]:2888:3888:participant");
    }

    #[test]
    fn malformed_server_lines_are_refused() {
        assert!(spec("h:2888")
            .unwrap_err()
            .contains("does not have the form"));
        assert!(spec("h:1:2:3:4")
            .unwrap_err()
            .contains("does not have the form"));
        assert_eq!(spec("h:x:2").unwrap_err(), "Address unresolved: h:x");
        assert!(spec("h:5:5").unwrap_err().contains("must be different"));
        assert_eq!(
            spec("h:1:2:leader").unwrap_err(),
            "Unrecognised peertype: leader"
        );
        assert!(spec("a:1:2|b:1:2").unwrap_err().contains("multiAddress"));
    }

    fn settings(extra: &str) -> Result<QuorumSettings, ConfigError> {
        let text = format!("tickTime=2000\ndataDir=/d\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890:observer\n{extra}");
        let mut cfg =
            Config::from_entries("zoo.cfg", &zoo_cfg::parse(&text), &Default::default()).unwrap();
        cfg.server_id = 2;
        QuorumSettings::from_config(&cfg)
    }

    #[test]
    fn limits_are_required() {
        assert_eq!(
            settings("syncLimit=2\n").unwrap_err().reason,
            "initLimit is not set"
        );
        assert_eq!(
            settings("initLimit=5\n").unwrap_err().reason,
            "syncLimit is not set"
        );
    }

    #[test]
    fn settings_split_voters_and_observers() {
        let q = settings("initLimit=5\nsyncLimit=2\nelectionPortBindRetry=0\n").unwrap();
        assert_eq!(q.my_id, ServerId(2));
        assert_eq!((q.init_limit, q.sync_limit, q.connect_limit), (5, 2, 5));
        assert_eq!(q.election_port_bind_retry, 0);
        assert_eq!(q.cnx_timeout_ms, 5000);
        assert_eq!(q.voters(), [ServerId(1), ServerId(2)].into());
        assert_eq!(q.observers(), [ServerId(3)].into());
    }

    #[test]
    fn config_text_matches_quorum_maj() {
        let q = settings("initLimit=5\nsyncLimit=2\n").unwrap();
        let text = String::from_utf8(q.config_text()).unwrap();
        assert_eq!(
            text,
            "server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:participant\nserver.3=127.0.0.1:2890:3890:observer\nversion=0"
        );
    }
}
