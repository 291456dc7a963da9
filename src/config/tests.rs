//! Parsing tests over the whole key table: every documented key accepts a valid value,
//! every typed key rejects a bad one with `file:line: key: reason`.

use super::keys::{Kind, Support, KEYS, PREFIXES};
use super::{zoo_cfg, Config, ConfigError};
use std::collections::BTreeMap;

const BASE: &str = "dataDir=/tmp/rzk-cfg\nclientPort=2181\n";

fn parse(extra: &str) -> Result<Config, ConfigError> {
    Config::from_entries(
        "zoo.cfg",
        &zoo_cfg::parse(&format!("{BASE}{extra}")),
        &BTreeMap::new(),
    )
}

fn valid(kind: Kind) -> &'static str {
    match kind {
        Kind::Int { min, .. } if min > 1 => "65536",
        Kind::Int { .. } => "2000",
        Kind::Port => "2888",
        Kind::Bool => "false",
        Kind::YesNo => "yes",
        Kind::Choice(words) => words.first().copied().unwrap_or(""),
        Kind::Text => "text",
    }
}

fn invalid(kind: Kind) -> Option<(&'static str, String)> {
    match kind {
        Kind::Int { .. } => Some(("12x", "not a valid integer: \"12x\"".into())),
        Kind::Port => Some(("99999", "not a valid port: \"99999\"".into())),
        Kind::Bool => Some(("maybe", "expected true or false, got \"maybe\"".into())),
        Kind::YesNo => Some(("maybe", "expected yes or no, got \"maybe\"".into())),
        Kind::Choice(words) => Some((
            "bogus",
            format!("expected one of {}, got \"bogus\"", words.join(", ")),
        )),
        Kind::Text => None,
    }
}

/// Keys whose value feeds cross-checks, tested on their own below.
fn sample(name: &str, kind: Kind) -> String {
    match name {
        "dataDir" | "dataLogDir" => "/tmp/rzk-cfg".into(),
        "clientPort" => "2181".into(),
        "minSessionTimeout" => "4000".into(),
        "maxSessionTimeout" => "40000".into(),
        "tickTime" => "2000".into(),
        "admin.serverPort" => "8080".into(),
        _ => valid(kind).into(),
    }
}

#[test]
fn every_documented_key_accepts_a_valid_value() {
    for k in KEYS {
        let needs = match k.name {
            "secureClientPort" => "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n",
            "secureClientPortAddress" => "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\nsecureClientPort=2281\n",
            // Refused whatever its value: it names a Java class (see `tls_settings_*`).
            "ssl.context.supplier.class" => continue,
            _ => "",
        };
        let r = parse(&format!("{needs}{}={}\n", k.name, sample(k.name, k.kind)));
        assert!(r.is_ok(), "{}: {:?}", k.name, r.err());
    }
    for (name, value) in [
        ("server.1", "127.0.0.1:2888:3888"),
        ("group.1", "1:2"),
        ("weight.1", "1"),
        ("authProvider.1", "x.Y"),
        ("metricsProvider.httpPort", "7000"),
    ] {
        assert!(parse(&format!("{name}={value}\n")).is_ok(), "{name}");
    }
    assert_eq!(PREFIXES.len(), 5);
}

#[test]
fn every_typed_key_rejects_a_bad_value_with_file_line_and_key() {
    for k in KEYS {
        let Some((bad, reason)) = invalid(k.kind) else {
            continue;
        };
        let err = parse(&format!("{}={bad}\n", k.name)).expect_err(k.name);
        assert_eq!(err.to_string(), format!("zoo.cfg:3: {}: {reason}", k.name));
    }
}

#[test]
fn range_and_cross_key_errors_name_the_key() {
    assert_eq!(
        parse("tickTime=0\n").unwrap_err().to_string(),
        "zoo.cfg:3: tickTime: 0 is out of range (1..=2147483647)"
    );
    assert_eq!(
        parse("clientPort=70000\n").unwrap_err().to_string(),
        "zoo.cfg:3: clientPort: 70000 is out of range (0..=65535)"
    );
    assert_eq!(
        parse("minSessionTimeout=9000\nmaxSessionTimeout=5000\n")
            .unwrap_err()
            .to_string(),
        "zoo.cfg:3: minSessionTimeout: minSessionTimeout must not be larger than maxSessionTimeout"
    );
    assert_eq!(
        parse("server.x=h:1:2\n").unwrap_err().to_string(),
        "zoo.cfg:3: server.x: server id is not a number: \"x\""
    );
    assert_eq!(
        parse("server.1=h:1\n").unwrap_err().to_string(),
        "zoo.cfg:3: server.1: h:1 does not have the form host:port:port or host:port:port:type"
    );
    let no_dir = Config::from_entries(
        "zoo.cfg",
        &zoo_cfg::parse("clientPort=1\n"),
        &BTreeMap::new(),
    );
    assert_eq!(
        no_dir.unwrap_err().to_string(),
        "zoo.cfg: dataDir: dataDir is not set"
    );
}

#[test]
fn unknown_keys_warn_and_reported_keys_inform() {
    let c = parse("syncEnabled=true\nnoSuchKey=1\nsnapCount=10\n").unwrap();
    let n: Vec<_> = c
        .notices
        .iter()
        .map(|n| (n.line, n.key.as_str(), n.warning))
        .collect();
    assert_eq!(n, vec![(3, "syncEnabled", false), (4, "noSuchKey", true)]);
    assert_eq!(
        c.notices[1].message,
        "unknown key, kept as system property zookeeper.noSuchKey"
    );
    assert!(c.notices[0]
        .message
        .starts_with("accepted, has no effect: not used by rzk's ensemble"));
    assert_eq!(
        c.properties.get("zookeeper.noSuchKey").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        c.properties.get("zookeeper.snapCount").map(String::as_str),
        Some("10")
    );
    assert!(!c.properties.contains_key("zookeeper.syncEnabled"));
}

#[test]
fn honoured_keys_reach_the_configuration() {
    let c = parse(
        "tickTime=1000\nmaxClientCnxns=7\njute.maxbuffer=4194304\nmetricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nmetricsProvider.httpPort=7001\nadmin.serverPort=9090\n",
    )
    .unwrap();
    assert_eq!(
        (
            c.tick_time_ms,
            c.min_session_timeout_ms,
            c.max_session_timeout_ms
        ),
        (1000, 2000, 20000)
    );
    assert_eq!(c.max_client_cnxns, 7);
    assert_eq!(c.jute_max_buffer, 4_194_304);
    assert_eq!(
        c.metrics_provider.get("httpPort").map(String::as_str),
        Some("7001")
    );
    assert!(c
        .metrics_provider_class
        .as_deref()
        .is_some_and(|v| v.ends_with("PrometheusMetricsProvider")));
    assert_eq!(
        c.properties
            .get("zookeeper.admin.serverPort")
            .map(String::as_str),
        Some("9090")
    );
    assert!(c.notices.is_empty());
}

#[test]
fn honoured_and_reported_keys_are_both_listed() {
    let honoured = KEYS
        .iter()
        .filter(|k| k.support == Support::Honoured)
        .count();
    assert!(honoured > 20 && honoured < KEYS.len());
}

#[test]
fn tls_settings_that_need_java_classes_or_netty_are_refused() {
    let e = parse("secureClientPort=2281\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("zoo.cfg:3: secureClientPort: SSL isn't supported in NIOServerCnxn"),
        "{e}"
    );
    let netty = "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\nsecureClientPort=2281\n";
    let e = parse(&format!("{netty}ssl.context.supplier.class=a.B\n")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("zoo.cfg:5: ssl.context.supplier.class:"),
        "{e}"
    );
    let e = parse(&format!("{netty}ssl.clientAuth=maybe\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "zoo.cfg:5: ssl.clientAuth: expected none, want or need, got \"maybe\""
    );
    let e = parse(&format!("{netty}ssl.authProvider=mine\n")).unwrap_err();
    assert!(e.to_string().contains("only the x509 scheme"), "{e}");
    let e = parse(&format!("{netty}ssl.keyStore.location=/k/ks.bcfks\n")).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "zoo.cfg:5: ssl.keyStore.location: BCFKS stores are not read by rzk; convert"
        ),
        "{e}"
    );
    assert!(
        parse(&format!("{netty}ssl.keyStore.location=/k/ks.jks\n")).is_ok(),
        "JKS stores are read"
    );
}

#[test]
fn tls_settings_follow_java_defaults() {
    let c = parse("serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\nsecureClientPort=2281\nssl.keyStore.location=/k/ks.p12\n").unwrap();
    let tls = c.tls.expect("TLS settings");
    assert_eq!(tls.client_auth, crate::config::tls::ClientAuth::Need);
    assert_eq!(tls.enabled_protocols, vec!["TLSv1.2".to_string()]);
    assert_eq!(
        tls.key_store.map(|s| s.store_type),
        Some(crate::config::tls::StoreType::Pkcs12)
    );
    assert!(c.x509_enabled && c.secure_client_port == Some(2281));
    let plain = parse("client.portUnification=true\n").unwrap();
    assert!(!plain.port_unification && plain.tls.is_none() && !plain.x509_enabled);
    let sysprop = Config::from_entries(
        "zoo.cfg",
        &crate::config::zoo_cfg::parse("dataDir=/d\nsecureClientPort=2281\n"),
        &[
            (
                "zookeeper.serverCnxnFactory".to_string(),
                "org.apache.zookeeper.server.NettyServerCnxnFactory".to_string(),
            ),
            ("zookeeper.ssl.clientAuth".to_string(), "want".to_string()),
        ]
        .into_iter()
        .collect(),
    )
    .unwrap();
    assert_eq!(
        sysprop.tls.map(|t| t.client_auth),
        Some(crate::config::tls::ClientAuth::Want)
    );
}
