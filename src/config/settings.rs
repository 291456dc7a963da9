//! Typed, validated settings (`QuorumPeerConfig.parseProperties` + the system properties
//! the standalone server reads).
//!
//! Every setting is read once here and handed down explicitly; nothing reads the
//! environment later. Keys follow Apache ZooKeeper: a zoo.cfg key that is not a
//! `QuorumPeerConfig` key is the system property `zookeeper.<key>`, so
//! `extendedTypesEnabled=true` in zoo.cfg and `-Dzookeeper.extendedTypesEnabled=true` in
//! `SERVER_JVMFLAGS` mean the same (zoo.cfg wins, as in Java).

use super::error::ConfigError;
use super::keys::{self, KeyDef, Support, Target};
use super::zoo_cfg::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// `4lw.commands.whitelist`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FourLetterWhitelist {
    All,
    Only(BTreeSet<String>),
}

impl FourLetterWhitelist {
    pub fn allows(&self, word: &str) -> bool {
        match self {
            FourLetterWhitelist::All => true,
            FourLetterWhitelist::Only(set) => set.contains(word),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Where the settings came from, for messages.
    pub source: String,
    pub tick_time_ms: i32,
    pub client_port: u16,
    pub client_port_address: Option<String>,
    pub data_dir: PathBuf,
    pub data_log_dir: PathBuf,
    pub min_session_timeout_ms: i32,
    pub max_session_timeout_ms: i32,
    /// Per client address; 0 = unlimited.
    pub max_client_cnxns: u32,
    pub four_letter_words: FourLetterWhitelist,
    pub extended_types: bool,
    /// `zookeeper.digest.enabled`: txns are proposed and logged with the tree digest.
    pub digest_enabled: bool,
    pub super_digest: Option<String>,
    pub sasl_enabled: bool,
    pub jaas_config: Option<PathBuf>,
    pub skip_acl: bool,
    pub enforce_quota: bool,
    pub reconfig_enabled: bool,
    /// `jute.maxbuffer`: largest request frame accepted.
    pub jute_max_buffer: usize,
    pub container_check_interval_ms: i64,
    pub container_max_per_minute: i64,
    pub container_max_never_used_ms: i64,
    /// Bound of each connection's queue of outgoing frames; a client that lets it fill up
    /// (never reads) is disconnected.
    pub max_outgoing_frames: usize,
    pub server_id: i64,
    /// `autopurge.snapRetainCount` as written (the purge raises it to 3).
    pub autopurge_snap_retain_count: i32,
    /// `autopurge.purgeInterval` in hours; 0 disables autopurge.
    pub autopurge_purge_interval_hours: i32,
    /// Every property (zoo.cfg unknown keys as `zookeeper.<key>`, then JVM flags).
    pub properties: BTreeMap<String, String>,
    /// `metricsProvider.className`, when set.
    pub metrics_provider_class: Option<String>,
    /// The other `metricsProvider.<x>` keys, prefix stripped (`httpHost`, `httpPort`, …).
    pub metrics_provider: BTreeMap<String, String>,
    /// `server.<id>` lines: id → value.
    pub servers: BTreeMap<i64, String>,
    /// `standaloneEnabled`.
    pub standalone_enabled: bool,
    /// `initLimit` and `syncLimit` in ticks (required in quorum mode).
    pub init_limit: Option<i32>,
    pub sync_limit: Option<i32>,
    /// `connectToLearnerMasterLimit` in ticks; 0 = use `initLimit`.
    pub connect_to_learner_master_limit: i32,
    /// `peerType=observer`.
    pub peer_type_observer: bool,
    /// `quorumListenOnAllIPs`.
    pub quorum_listen_on_all_ips: bool,
    /// Keys accepted without effect and unknown keys, to report at start-up.
    pub notices: Vec<Notice>,
    /// `secureClientPort`: the TLS client port, when set.
    pub secure_client_port: Option<u16>,
    /// `secureClientPortAddress` (all addresses when unset).
    pub secure_client_port_address: Option<String>,
    /// `client.portUnification`: the plain client port also accepts TLS.
    pub port_unification: bool,
    /// The TLS settings, when a secure port or port unification is configured.
    pub tls: Option<super::tls::TlsSettings>,
    /// The `x509` authentication provider is registered.
    pub x509_enabled: bool,
}

/// A remark about one zoo.cfg line, printed at start-up as `file:line: key: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub line: usize,
    pub key: String,
    pub message: String,
    /// Unknown keys are warnings; accepted-without-effect keys are information.
    pub warning: bool,
}

fn notice(e: &Entry, def: Option<&KeyDef>) -> Option<Notice> {
    let (message, warning) = match def.map(|d| d.support) {
        None => (
            format!("unknown key, kept as system property zookeeper.{}", e.key),
            true,
        ),
        Some(Support::Reported(why)) => (format!("accepted, has no effect: {why}"), false),
        Some(Support::Honoured) => return None,
    };
    Some(Notice {
        line: e.line,
        key: e.key.clone(),
        message,
        warning,
    })
}

impl Config {
    /// Quorum mode (`QuorumPeerConfig`): several participants, or one with
    /// `standaloneEnabled=false`. Otherwise the server runs standalone.
    pub fn is_quorum(&self) -> bool {
        let participants = self
            .servers
            .values()
            .filter(|v| !v.contains(":observer"))
            .count();
        !self.servers.is_empty() && (participants > 1 || !self.standalone_enabled)
    }
}

pub(super) struct Reader<'a> {
    source: &'a str,
    entries: BTreeMap<&'a str, &'a Entry>,
    props: BTreeMap<String, String>,
}

impl<'a> Reader<'a> {
    pub(super) fn err(&self, key: &str, reason: String) -> ConfigError {
        let line = self.entries.get(key).map(|e| e.line).unwrap_or(0);
        ConfigError {
            file: self.source.to_string(),
            line,
            key: key.to_string(),
            reason,
        }
    }

    fn raw(&self, key: &str) -> Option<&'a str> {
        self.entries.get(key).map(|e| e.value.as_str())
    }

    /// A property: zoo.cfg spelling first, then the system property.
    pub(super) fn prop(&self, name: &str) -> Option<String> {
        self.props.get(name).cloned()
    }

    /// The values of every property whose name starts with `prefix`.
    pub(super) fn props_with_prefix<'b>(
        &'b self,
        prefix: &'b str,
    ) -> impl Iterator<Item = &'b str> + 'b {
        self.props
            .iter()
            .filter(move |(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.as_str())
    }

    fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, ConfigError> {
        match self.raw(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| self.err(key, format!("not a valid number: {v:?}"))),
        }
    }

    fn prop_num(&self, name: &str, default: i64) -> Result<i64, ConfigError> {
        match self.prop(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| self.err(name, format!("not a valid number: {v:?}"))),
        }
    }

    fn prop_bool(&self, name: &str, default: bool) -> bool {
        self.prop(name)
            .map(|v| v.trim().eq_ignore_ascii_case("true"))
            .unwrap_or(default)
    }
}

impl Config {
    /// Validates zoo.cfg entries plus JVM-flag properties into a `Config`.
    pub fn from_entries(
        source: &str,
        entries: &[Entry],
        sysprops: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let mut props = sysprops.clone();
        let mut by_key = BTreeMap::new();
        let mut notices = Vec::new();
        for e in entries {
            let def = keys::lookup(&e.key);
            if let Some(def) = def {
                keys::check(def.kind, &e.value).map_err(|reason| ConfigError {
                    file: source.to_string(),
                    line: e.line,
                    key: e.key.clone(),
                    reason,
                })?;
            }
            notices.extend(notice(e, def));
            if def.is_none_or(|d| d.target == Target::SysProp) {
                let name = if e.key.starts_with("zookeeper.") {
                    e.key.clone()
                } else {
                    format!("zookeeper.{}", e.key)
                };
                props.insert(name, e.value.clone());
            }
            // Friendlier than Java, where only -Djute.maxbuffer counts.
            if e.key == "jute.maxbuffer" {
                props
                    .entry("jute.maxbuffer".to_string())
                    .or_insert_with(|| e.value.clone());
            }
            by_key.insert(e.key.as_str(), e);
        }
        let r = Reader {
            source,
            entries: by_key,
            props,
        };
        let mut cfg = build(&r)?;
        cfg.notices = notices;
        Ok(cfg)
    }

    /// A standalone default: what `conf/zoo.cfg` holds.
    pub fn standalone_default() -> Config {
        let entries = super::zoo_cfg::parse("tickTime=2000\ndataDir=./data\nclientPort=2181\n");
        match Config::from_entries("<default>", &entries, &BTreeMap::new()) {
            Ok(c) => c,
            Err(e) => unreachable!("built-in default is valid: {e}"),
        }
    }
}

fn build(r: &Reader) -> Result<Config, ConfigError> {
    let tick: i32 = r.num("tickTime", 3000)?;
    if tick <= 0 {
        return Err(r.err("tickTime", "must be positive".into()));
    }
    let data_dir: PathBuf = r
        .raw("dataDir")
        .ok_or_else(|| r.err("dataDir", "dataDir is not set".into()))?
        .into();
    let data_log_dir = r
        .raw("dataLogDir")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.clone());
    let port: i64 = r.num("clientPort", 0)?;
    if !(0..=65535).contains(&port) {
        return Err(r.err("clientPort", format!("port out of range: {port}")));
    }
    let min: i32 = r.num("minSessionTimeout", -1)?;
    let max: i32 = r.num("maxSessionTimeout", -1)?;
    let min = if min == -1 { tick * 2 } else { min };
    let max = if max == -1 { tick * 20 } else { max };
    if min > max {
        return Err(r.err(
            "minSessionTimeout",
            "minSessionTimeout must not be larger than maxSessionTimeout".into(),
        ));
    }
    if r.raw("clientPortAddress").is_some() && r.raw("clientPort").is_none() {
        return Err(r.err(
            "clientPortAddress",
            "clientPortAddress is set but clientPort is not".into(),
        ));
    }
    let jute_max = r.prop_num("jute.maxbuffer", 0xfffff)?;
    let secure = secure_client_port(r)?;
    let port_unification = super::tls::port_unification(r) && netty_factory(r);
    let tls_wanted = secure.is_some() || port_unification;
    Ok(Config {
        source: r.source.to_string(),
        tick_time_ms: tick,
        client_port: port as u16,
        client_port_address: r.raw("clientPortAddress").map(str::to_string),
        data_dir,
        data_log_dir,
        min_session_timeout_ms: min,
        max_session_timeout_ms: max,
        max_client_cnxns: r.num("maxClientCnxns", 60)?,
        four_letter_words: whitelist(r),
        extended_types: r.prop_bool("zookeeper.extendedTypesEnabled", false),
        digest_enabled: r.prop_bool("zookeeper.digest.enabled", true),
        super_digest: r.prop("zookeeper.DigestAuthenticationProvider.superDigest"),
        sasl_enabled: sasl_enabled(r),
        jaas_config: r.prop("java.security.auth.login.config").map(PathBuf::from),
        skip_acl: r
            .prop("zookeeper.skipACL")
            .is_some_and(|v| v.trim() == "yes"),
        enforce_quota: r.prop_bool("zookeeper.enforceQuota", false),
        reconfig_enabled: r
            .raw("reconfigEnabled")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        jute_max_buffer: jute_max.max(1024) as usize,
        container_check_interval_ms: container_prop(r, "checkIntervalMs", 60_000)?,
        container_max_per_minute: container_prop(r, "maxPerMinute", 10_000)?,
        container_max_never_used_ms: container_prop(r, "maxNeverUsedIntervalMs", 0)?,
        max_outgoing_frames: r
            .prop_num("zookeeper.rzk.maxOutgoingFrames", 100_000)?
            .max(16) as usize,
        server_id: 0,
        autopurge_snap_retain_count: r.num("autopurge.snapRetainCount", 3)?,
        autopurge_purge_interval_hours: r.num("autopurge.purgeInterval", 0)?,
        properties: r.props.clone(),
        metrics_provider_class: r
            .raw("metricsProvider.className")
            .map(|v| v.trim().to_string()),
        metrics_provider: metrics_provider(r),
        servers: servers(r)?,
        standalone_enabled: r
            .raw("standaloneEnabled")
            .is_none_or(|v| v.trim().eq_ignore_ascii_case("true")),
        init_limit: r
            .raw("initLimit")
            .map(|_| r.num("initLimit", 0))
            .transpose()?,
        sync_limit: r
            .raw("syncLimit")
            .map(|_| r.num("syncLimit", 0))
            .transpose()?,
        connect_to_learner_master_limit: r.num("connectToLearnerMasterLimit", 0)?,
        peer_type_observer: r.raw("peerType").is_some_and(|v| v.trim() == "observer"),
        quorum_listen_on_all_ips: r
            .raw("quorumListenOnAllIPs")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        notices: Vec::new(),
        secure_client_port: secure,
        secure_client_port_address: r
            .raw("secureClientPortAddress")
            .map(|a| a.trim().to_string()),
        port_unification,
        tls: super::tls::settings(r, tls_wanted)?,
        x509_enabled: super::tls::x509_registered(r, tls_wanted),
    })
}

/// `secureClientPort`; like `ZooKeeperServerMain`, a TLS port needs the Netty
/// connection factory (`NIOServerCnxnFactory.configure` refuses `secure`).
fn secure_client_port(r: &Reader) -> Result<Option<u16>, ConfigError> {
    let port: u16 = r.num("secureClientPort", 0)?;
    if port == 0 {
        if r.raw("secureClientPortAddress").is_some() {
            return Err(r.err(
                "secureClientPortAddress",
                "secureClientPortAddress is set but secureClientPort is not".into(),
            ));
        }
        return Ok(None);
    }
    if !netty_factory(r) {
        return Err(r.err(
            "secureClientPort",
            "SSL isn't supported in NIOServerCnxn: set serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory".into(),
        ));
    }
    Ok(Some(port))
}

/// `zookeeper.serverCnxnFactory` names the Netty factory.
fn netty_factory(r: &Reader) -> bool {
    r.prop("zookeeper.serverCnxnFactory")
        .is_some_and(|v| v.trim() == "org.apache.zookeeper.server.NettyServerCnxnFactory")
}

/// `ContainerManager` reads `znode.container.*` system properties; a zoo.cfg line can
/// only reach them with the `zookeeper.` prefix, so both spellings are accepted.
fn container_prop(r: &Reader, name: &str, default: i64) -> Result<i64, ConfigError> {
    let plain = format!("znode.container.{name}");
    if r.props.contains_key(&plain) {
        return r.prop_num(&plain, default);
    }
    r.prop_num(&format!("zookeeper.{plain}"), default)
}

fn whitelist(r: &Reader) -> FourLetterWhitelist {
    let Some(list) = r.prop("zookeeper.4lw.commands.whitelist") else {
        return FourLetterWhitelist::Only(["srvr".to_string()].into());
    };
    let words: BTreeSet<String> = list
        .split(',')
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
        .collect();
    if words.contains("*") {
        return FourLetterWhitelist::All;
    }
    let mut words = words;
    // zkServer.sh status needs srvr, so Apache ZooKeeper always allows it.
    words.insert("srvr".to_string());
    if r.prop_bool("readonlymode.enabled", false) {
        words.insert("isro".to_string());
    }
    FourLetterWhitelist::Only(words)
}

fn metrics_provider(r: &Reader) -> BTreeMap<String, String> {
    r.entries
        .iter()
        .filter_map(|(k, e)| {
            Some((
                k.strip_prefix("metricsProvider.")?.to_string(),
                e.value.trim().to_string(),
            ))
        })
        .filter(|(k, _)| k != "className")
        .collect()
}

fn servers(r: &Reader) -> Result<BTreeMap<i64, String>, ConfigError> {
    let mut out = BTreeMap::new();
    for (k, e) in r.entries.iter().filter(|(k, _)| k.starts_with("server.")) {
        let id = k.trim_start_matches("server.");
        let id: i64 = id
            .parse()
            .map_err(|_| r.err(k, format!("server id is not a number: {id:?}")))?;
        let addr = e.value.split(';').next().unwrap_or("");
        if addr.split(':').count() < 3 {
            return Err(r.err(
                k,
                format!(
                    "{} does not have the form host:port:port or host:port:port:type",
                    e.value
                ),
            ));
        }
        out.insert(id, e.value.clone());
    }
    Ok(out)
}

fn sasl_enabled(r: &Reader) -> bool {
    r.props.iter().any(|(k, v)| {
        k.starts_with("zookeeper.authProvider.") && v.trim().ends_with("SASLAuthenticationProvider")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::zoo_cfg::parse;

    fn cfg(text: &str) -> Result<Config, ConfigError> {
        Config::from_entries("zoo.cfg", &parse(text), &BTreeMap::new())
    }

    #[test]
    fn session_timeout_bounds_derive_from_tick_time() {
        let c = cfg("tickTime=2000\ndataDir=/tmp/x\nclientPort=2181\n").unwrap();
        assert_eq!(
            (c.min_session_timeout_ms, c.max_session_timeout_ms),
            (4000, 40000)
        );
        assert_eq!(c.data_log_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn bad_value_names_file_line_and_key() {
        let e = cfg("dataDir=/tmp/x\ntickTime=abc\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "zoo.cfg:2: tickTime: not a valid integer: \"abc\""
        );
    }

    #[test]
    fn unknown_keys_become_zookeeper_properties() {
        let c = cfg("dataDir=/d\nextendedTypesEnabled=true\n4lw.commands.whitelist=ruok, stat\n")
            .unwrap();
        assert!(c.extended_types);
        assert!(c.four_letter_words.allows("ruok"));
        assert!(c.four_letter_words.allows("srvr"));
        assert!(!c.four_letter_words.allows("mntr"));
    }

    #[test]
    fn default_whitelist_is_srvr_only() {
        let c = cfg("dataDir=/d\n").unwrap();
        assert!(c.four_letter_words.allows("srvr"));
        assert!(!c.four_letter_words.allows("ruok"));
    }
}
