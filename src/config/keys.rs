//! Every zoo.cfg key Apache ZooKeeper 3.8 documents (zookeeperAdmin "Configuration
//! Parameters", `QuorumPeerConfig.parseProperties`, the system properties a zoo.cfg line
//! reaches as `zookeeper.<key>`), with its type, default and whether rzk honours it.
//!
//! The table drives validation (an invalid value is `file:line: key: reason`), the
//! start-up report of keys accepted without effect, and the warning for unknown keys.

/// What a value must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A decimal integer within the bounds.
    Int { min: i64, max: i64 },
    /// A TCP port, 1–65535 (0 only where noted by `Int`).
    Port,
    /// `true`/`false`, any case (Java's `Boolean.parseBoolean` or the explicit checks of
    /// `QuorumPeerConfig`).
    Bool,
    /// `yes`/`no` as well as `true`/`false` (`forceSync`, `skipACL`).
    YesNo,
    /// One of the listed words.
    Choice(&'static [&'static str]),
    /// Free text (paths, addresses, class names, lists).
    Text,
}

/// What rzk does with a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Used as Apache ZooKeeper uses it.
    Honoured,
    /// Validated, then reported at start-up as having no effect on rzk.
    Reported(&'static str),
}

/// Where the value goes in Java: a `QuorumPeerConfig` field, or the system property
/// `zookeeper.<key>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Peer,
    SysProp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyDef {
    pub name: &'static str,
    pub kind: Kind,
    pub default: &'static str,
    pub target: Target,
    pub support: Support,
    pub doc: &'static str,
}

const INT: Kind = Kind::Int {
    min: i32::MIN as i64,
    max: i32::MAX as i64,
};
const POS: Kind = Kind::Int {
    min: 1,
    max: i32::MAX as i64,
};
const NONNEG: Kind = Kind::Int {
    min: 0,
    max: i32::MAX as i64,
};
const LONG: Kind = Kind::Int {
    min: i64::MIN,
    max: i64::MAX,
};
const H: Support = Support::Honoured;
const QUORUM: Support = Support::Reported("not used by rzk's ensemble members");
const TLS: Support = Support::Reported("TLS is available on the client ports only");
const DISK: Support =
    Support::Reported("slow fsyncs are not logged; the fsync time is in the metrics");
const TUNING: Support = Support::Reported("Java implementation tuning with no counterpart in rzk");

const fn key(
    name: &'static str,
    kind: Kind,
    default: &'static str,
    target: Target,
    support: Support,
    doc: &'static str,
) -> KeyDef {
    KeyDef {
        name,
        kind,
        default,
        target,
        support,
        doc,
    }
}

use Target::{Peer, SysProp};

/// Keys matched exactly.
pub const KEYS: &[KeyDef] = &[
    key("tickTime", POS, "3000", Peer, H, "basic time unit in ms; heartbeats, session timeout bounds"),
    key("dataDir", Kind::Text, "", Peer, H, "directory for snapshots and myid (required)"),
    key("dataLogDir", Kind::Text, "<dataDir>", Peer, H, "directory for the transaction log"),
    key("clientPort", Kind::Int { min: 0, max: 65535 }, "", Peer, H, "port clients connect to"),
    key("clientPortAddress", Kind::Text, "0.0.0.0", Peer, H, "address the client port binds to"),
    key("secureClientPort", Kind::Port, "", Peer, H, "TLS client port (needs serverCnxnFactory=…NettyServerCnxnFactory)"),
    key("secureClientPortAddress", Kind::Text, "0.0.0.0", Peer, H, "address the TLS client port binds to"),
    key("clientPortListenBacklog", INT, "-1", Peer, Support::Reported("the OS default backlog is used"), "listen backlog of the client port"),
    key("maxClientCnxns", NONNEG, "60", Peer, H, "connections per client address; 0 = unlimited"),
    key("minSessionTimeout", INT, "2*tickTime", Peer, H, "smallest session timeout granted (ms)"),
    key("maxSessionTimeout", INT, "20*tickTime", Peer, H, "largest session timeout granted (ms)"),
    key("initLimit", POS, "", Peer, H, "ticks a follower may take to connect and sync"),
    key("syncLimit", POS, "", Peer, H, "ticks a follower may lag"),
    key("connectToLearnerMasterLimit", NONNEG, "0", Peer, H, "ticks for a learner to connect"),
    key("electionAlg", Kind::Choice(&["3"]), "3", Peer, H, "leader election algorithm (only 3 exists)"),
    key("quorumListenOnAllIPs", Kind::Bool, "false", Peer, H, "bind quorum ports on all addresses"),
    key("peerType", Kind::Choice(&["participant", "observer"]), "participant", Peer, H, "role of this server"),
    key("syncEnabled", Kind::Bool, "true", Peer, QUORUM, "observers log and snapshot"),
    key("dynamicConfigFile", Kind::Text, "", Peer, QUORUM, "file with server.* lines"),
    key("autopurge.snapRetainCount", Kind::Int { min: i64::MIN, max: i32::MAX as i64 }, "3", Peer, H, "snapshots kept by the purge task (at least 3)"),
    key("autopurge.purgeInterval", INT, "0", Peer, H, "hours between purges; 0 = off"),
    key("standaloneEnabled", Kind::Bool, "true", Peer, H, "one participant runs as a standalone server"),
    key("reconfigEnabled", Kind::Bool, "false", Peer, H, "allow the reconfig operation"),
    key("sslQuorum", Kind::Bool, "false", Peer, TLS, "TLS between servers"),
    key("portUnification", Kind::Bool, "false", Peer, TLS, "TLS and plain on one port"),
    key("sslQuorumReloadCertFiles", Kind::Bool, "false", Peer, TLS, "reload quorum certificates"),
    key("quorum.cnxn.threads.size", POS, "20", Peer, QUORUM, "quorum SASL connection threads"),
    key("quorum.auth.enableSasl", Kind::Bool, "false", Peer, QUORUM, "quorum SASL authentication"),
    key("quorum.auth.learnerRequireSasl", Kind::Bool, "false", Peer, QUORUM, "learners require SASL"),
    key("quorum.auth.serverRequireSasl", Kind::Bool, "false", Peer, QUORUM, "servers require SASL"),
    key("quorum.auth.learner.saslLoginContext", Kind::Text, "QuorumLearner", Peer, QUORUM, "JAAS section of learners"),
    key("quorum.auth.server.saslLoginContext", Kind::Text, "QuorumServer", Peer, QUORUM, "JAAS section of servers"),
    key("quorum.auth.kerberos.servicePrincipal", Kind::Text, "zkquorum/localhost", Peer, QUORUM, "Kerberos principal"),
    key("metricsProvider.className", Kind::Text, "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider", Peer, H, "metrics provider; the Prometheus provider serves /metrics"),
    key("multiAddress.enabled", Kind::Bool, "false", Peer, QUORUM, "several addresses per server"),
    key("multiAddress.reachabilityCheckTimeoutMs", POS, "1000", Peer, QUORUM, "reachability check timeout"),
    key("multiAddress.reachabilityCheckEnabled", Kind::Bool, "true", Peer, QUORUM, "check address reachability"),
    key("oraclePath", Kind::Text, "", Peer, QUORUM, "oracle file for two-server ensembles"),
    key("observerMasterPort", Kind::Port, "", Peer, QUORUM, "followers serve observers on this port"),
    key("localSessionsEnabled", Kind::Bool, "false", Peer, Support::Reported("every session is global"), "local sessions"),
    key("localSessionsUpgradingEnabled", Kind::Bool, "false", Peer, Support::Reported("every session is global"), "upgrade local sessions"),
    key("4lw.commands.whitelist", Kind::Text, "srvr", SysProp, H, "four-letter words enabled; * = all"),
    key("admin.enableServer", Kind::Bool, "true", SysProp, H, "start the AdminServer"),
    key("admin.serverAddress", Kind::Text, "0.0.0.0", SysProp, H, "AdminServer address"),
    key("admin.serverPort", Kind::Int { min: 0, max: 65535 }, "8080", SysProp, H, "AdminServer port"),
    key("admin.commandURL", Kind::Text, "/commands", SysProp, H, "URL prefix of the commands"),
    key("admin.idleTimeout", POS, "30000", SysProp, H, "ms an idle AdminServer connection stays open"),
    key("admin.portUnification", Kind::Bool, "false", SysProp, H, "TLS and plain HTTP on the AdminServer port"),
    key("admin.forceHttps", Kind::Bool, "false", SysProp, H, "AdminServer over HTTPS only"),
    key("admin.httpVersion", INT, "11", SysProp, Support::Reported("the AdminServer speaks HTTP/1.1 only"), "HTTP version of the AdminServer's TLS connector"),
    key("admin.needClientAuth", Kind::Bool, "false", SysProp, Support::Reported("3.9 and later; 3.8 requests no client certificates"), "require client certificates"),
    key("ssl.quorum.keyStore.location", Kind::Text, "", SysProp, H, "key store (PEM or PKCS12) of quorum TLS and the AdminServer's HTTPS"),
    key("ssl.quorum.keyStore.password", Kind::Text, "", SysProp, H, "password of the quorum key store"),
    key("ssl.quorum.keyStore.passwordPath", Kind::Text, "", SysProp, H, "file holding the quorum key store password"),
    key("ssl.quorum.keyStore.type", Kind::Text, "<from extension>", SysProp, H, "format of the quorum key store: PEM, PKCS12 or JKS (BCFKS is not read)"),
    key("ssl.quorum.trustStore.location", Kind::Text, "", SysProp, H, "trust store of quorum TLS; read by the AdminServer, which asks no client certificate"),
    key("ssl.quorum.trustStore.password", Kind::Text, "", SysProp, H, "password of the quorum trust store"),
    key("ssl.quorum.trustStore.passwordPath", Kind::Text, "", SysProp, H, "file holding the quorum trust store password"),
    key("ssl.quorum.trustStore.type", Kind::Text, "<from extension>", SysProp, H, "format of the quorum trust store"),
    key("snapCount", POS, "100000", SysProp, H, "transactions between snapshots"),
    key("snapSizeLimitInKb", LONG, "4194304", SysProp, H, "log size between snapshots"),
    key("preAllocSize", POS, "65536", SysProp, H, "KiB preallocated per log file"),
    key("forceSync", Kind::YesNo, "yes", SysProp, H, "fsync the log before acknowledging"),
    key("fsync.warningthresholdms", LONG, "1000", SysProp, DISK, "warn about slow fsyncs"),
    key("globalOutstandingLimit", POS, "1000", SysProp, TUNING, "queued requests before throttling"),
    key("electionPortBindRetry", NONNEG, "3", SysProp, H, "attempts to bind the election port; 0 = forever"),
    key("cnxTimeout", POS, "5000", SysProp, H, "ms to open an election connection and read its header"),
    key("leaderServes", Kind::YesNo, "yes", SysProp, QUORUM, "the leader accepts clients"),
    key("skipACL", Kind::YesNo, "no", SysProp, H, "skip ACL checks"),
    key("enforceQuota", Kind::Bool, "false", SysProp, H, "fail writes beyond quota"),
    key("extendedTypesEnabled", Kind::Bool, "false", SysProp, H, "TTL nodes"),
    key("emulate353TTLNodes", Kind::Bool, "false", SysProp, TUNING, "3.5.3 TTL id layout"),
    key("digest.enabled", Kind::Bool, "true", SysProp, H, "keep the data tree digest"),
    key("serverCnxnFactory", Kind::Text, "org.apache.zookeeper.server.NIOServerCnxnFactory", SysProp, H, "connection factory; the Netty one is required for secureClientPort and client.portUnification"),
    key("client.portUnification", Kind::Bool, "false", SysProp, H, "the client port also accepts TLS (first byte 0x16), with the Netty factory"),
    key("ssl.keyStore.location", Kind::Text, "", SysProp, H, "server certificate and key: PEM (key + chain), PKCS12 or JKS; BCFKS must be converted: keytool -importkeystore -srckeystore ks.bcfks -destkeystore ks.p12 -deststoretype PKCS12"),
    key("ssl.keyStore.password", Kind::Text, "", SysProp, H, "key store password (PEM: of an encrypted PKCS#8 key)"),
    key("ssl.keyStore.passwordPath", Kind::Text, "", SysProp, H, "file holding the key store password"),
    key("ssl.keyStore.type", Kind::Text, "<from the extension>", SysProp, H, "PEM, PKCS12 or JKS (.pem/.p12/.jks); BCFKS stops the start with the keytool conversion to use"),
    key("ssl.trustStore.location", Kind::Text, "", SysProp, H, "CA certificates client certificates are verified against: PEM, PKCS12 or JKS (BCFKS: convert as for the key store)"),
    key("ssl.trustStore.password", Kind::Text, "", SysProp, H, "trust store password"),
    key("ssl.trustStore.passwordPath", Kind::Text, "", SysProp, H, "file holding the trust store password"),
    key("ssl.trustStore.type", Kind::Text, "<from the extension>", SysProp, H, "PEM or PKCS12 (.pem/.p12)"),
    key("ssl.clientAuth", Kind::Text, "need", SysProp, H, "none, want or need a client certificate"),
    key("ssl.protocol", Kind::Text, "TLSv1.2", SysProp, H, "TLS version; also the enabled protocols when ssl.enabledProtocols is unset (TLSv1.2, TLSv1.3; TLS = both)"),
    key("ssl.enabledProtocols", Kind::Text, "<ssl.protocol>", SysProp, H, "comma-separated TLS versions (rzk has TLSv1.2 and TLSv1.3)"),
    key("ssl.ciphersuites", Kind::Text, "<Java's ECDHE GCM/CBC list>", SysProp, H, "comma-separated IANA cipher suite names; those rustls lacks (CBC) are skipped"),
    key("ssl.hostnameVerification", Kind::Bool, "true", SysProp, H, "verify the server host name (a client-side check; servers never verify client host names)"),
    key("ssl.authProvider", Kind::Text, "x509", SysProp, H, "scheme that authenticates TLS clients; only x509"),
    key("ssl.crl", Kind::Bool, "false", SysProp, Support::Reported("revocation lists are not checked"), "check certificate revocation lists"),
    key("ssl.ocsp", Kind::Bool, "false", SysProp, Support::Reported("OCSP is not checked"), "check OCSP"),
    key("ssl.context.supplier.class", Kind::Text, "", SysProp, H, "a Java SSLContext supplier; rzk stops the start when it is set"),
    key("ssl.handshakeDetectionTimeoutMillis", POS, "5000", SysProp, TUNING, "quorum port unification detection timeout"),
    key("netty.server.outstandingHandshake.limit", INT, "-1", SysProp, TUNING, "concurrent TLS handshakes"),
    key("X509AuthenticationProvider.superUser", Kind::Text, "", SysProp, H, "x509 subject DN (RFC 2253, as X500Principal.getName prints it) that is super"),
    key("maxCnxns", NONNEG, "0", SysProp, TUNING, "total connections; 0 = unlimited"),
    key("maxBatchSize", POS, "1000", SysProp, TUNING, "commit processor batch"),
    key("commitProcessor.maxReadBatchSize", INT, "-1", SysProp, TUNING, "commit processor reads"),
    key("commitProcessor.maxCommitBatchSize", POS, "1", SysProp, TUNING, "commit processor commits"),
    key("connection_throttle_tokens", NONNEG, "0", SysProp, TUNING, "connection throttling"),
    key("connection_throttle_fill_time", NONNEG, "1", SysProp, TUNING, "connection throttling"),
    key("connection_throttle_fill_count", NONNEG, "1", SysProp, TUNING, "connection throttling"),
    key("request_throttle_max_requests", NONNEG, "0", SysProp, TUNING, "request throttling"),
    key("request_throttle_stall_time", NONNEG, "100", SysProp, TUNING, "request throttling"),
    key("request_throttle_drop_stale", Kind::Bool, "true", SysProp, TUNING, "request throttling"),
    key("watchManagerName", Kind::Text, "org.apache.zookeeper.server.watch.WatchManager", SysProp, TUNING, "watch manager class"),
    key("DigestAuthenticationProvider.superDigest", Kind::Text, "", SysProp, H, "super:<base64 sha1> of the super user"),
    key("superUser", Kind::Text, "", SysProp, H, "a SASL identity that is super"),
    key("sasl.serverconfig", Kind::Text, "Server", SysProp, H, "JAAS section of the server"),
    key("rzk.log.level", Kind::Text, "info", SysProp, H, "rzk: tracing filter (RZK_LOG wins)"),
    key("rzk.maxOutgoingFrames", POS, "100000", SysProp, H, "rzk: queued frames per connection before it is dropped"),
    key("jute.maxbuffer", POS, "1048575", SysProp, H, "largest request (also read from -Djute.maxbuffer)"),
    key("znode.container.checkIntervalMs", POS, "60000", SysProp, H, "container reaping interval"),
    key("znode.container.maxPerMinute", POS, "10000", SysProp, H, "containers reaped per minute"),
    key("znode.container.maxNeverUsedIntervalMs", NONNEG, "0", SysProp, H, "reap never-used containers after"),
];

/// Keys matched by prefix: `server.<id>`, `group.<gid>`, `weight.<id>`,
/// `authProvider.<n>`, `metricsProvider.<x>`.
pub const PREFIXES: &[KeyDef] = &[
    key(
        "server.",
        Kind::Text,
        "",
        Peer,
        H,
        "host:quorumPort:electionPort[:role][;[clientHost:]clientPort]",
    ),
    key(
        "group.",
        Kind::Text,
        "",
        Peer,
        QUORUM,
        "hierarchical quorum group",
    ),
    key(
        "weight.",
        LONG,
        "1",
        Peer,
        QUORUM,
        "hierarchical quorum weight",
    ),
    key(
        "authProvider.",
        Kind::Text,
        "",
        SysProp,
        H,
        "authentication provider class (SASL and X509AuthenticationProvider are understood)",
    ),
    key(
        "metricsProvider.",
        Kind::Text,
        "",
        Peer,
        H,
        "passed to the metrics provider (httpHost, httpPort, exportJvmInfo, …)",
    ),
];

/// The definition of `name`, exact keys first.
pub fn lookup(name: &str) -> Option<&'static KeyDef> {
    KEYS.iter()
        .find(|k| k.name == name)
        .or_else(|| PREFIXES.iter().find(|k| name.starts_with(k.name)))
}

/// Checks `value` against `kind`; the error is the reason part of the message.
pub fn check(kind: Kind, value: &str) -> Result<(), String> {
    let v = value.trim();
    match kind {
        Kind::Int { min, max } => match v.parse::<i64>() {
            Ok(n) if n < min || n > max => Err(format!("{n} is out of range ({min}..={max})")),
            Ok(_) => Ok(()),
            Err(_) => Err(format!("not a valid integer: {v:?}")),
        },
        Kind::Port => match v.parse::<u32>() {
            Ok(p) if (1..=65535).contains(&p) => Ok(()),
            _ => Err(format!("not a valid port: {v:?}")),
        },
        Kind::Bool if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") => Ok(()),
        Kind::Bool => Err(format!("expected true or false, got {v:?}")),
        Kind::YesNo
            if ["yes", "no", "true", "false"]
                .iter()
                .any(|w| v.eq_ignore_ascii_case(w)) =>
        {
            Ok(())
        }
        Kind::YesNo => Err(format!("expected yes or no, got {v:?}")),
        Kind::Choice(words) if words.contains(&v) => Ok(()),
        Kind::Choice(words) => Err(format!("expected one of {}, got {v:?}", words.join(", "))),
        Kind::Text => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_documented() {
        let mut names: Vec<_> = KEYS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(KEYS.iter().all(|k| !k.doc.is_empty()));
    }

    #[test]
    fn every_default_is_a_valid_value() {
        for k in KEYS
            .iter()
            .filter(|k| !k.default.is_empty() && !k.default.contains(['<', '*']))
        {
            assert_eq!(check(k.kind, k.default), Ok(()), "{}", k.name);
        }
    }

    #[test]
    fn prefixed_keys_are_found() {
        assert_eq!(lookup("server.3").map(|k| k.name), Some("server."));
        assert_eq!(
            lookup("metricsProvider.httpPort").map(|k| k.name),
            Some("metricsProvider.")
        );
        assert_eq!(
            lookup("metricsProvider.className").map(|k| k.name),
            Some("metricsProvider.className")
        );
        assert_eq!(lookup("noSuchKey"), None);
    }

    #[test]
    fn values_are_checked_by_kind() {
        assert_eq!(
            check(POS, "0"),
            Err("0 is out of range (1..=2147483647)".into())
        );
        assert_eq!(
            check(INT, "12x"),
            Err("not a valid integer: \"12x\"".into())
        );
        assert_eq!(
            check(Kind::Port, "70000"),
            Err("not a valid port: \"70000\"".into())
        );
        assert_eq!(
            check(Kind::Bool, "yes"),
            Err("expected true or false, got \"yes\"".into())
        );
        assert_eq!(check(Kind::YesNo, "yes"), Ok(()));
        assert_eq!(
            check(Kind::Choice(&["3"]), "1"),
            Err("expected one of 3, got \"1\"".into())
        );
    }
}
