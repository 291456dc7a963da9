//! Java system properties given on the command line of a Java server (`-Dkey=value` in
//! `SERVER_JVMFLAGS` / `JVMFLAGS`), which zkServer.sh deployments use for settings that
//! have no zoo.cfg key (`jute.maxbuffer`, `java.security.auth.login.config`, …).

use std::collections::BTreeMap;

/// Extracts `-Dkey=value` pairs from JVM flag strings (later flags win).
pub fn parse_jvm_flags(flags: &[&str]) -> BTreeMap<String, String> {
    let mut props = BTreeMap::new();
    for f in flags {
        for word in f.split_whitespace() {
            if let Some(kv) = word.strip_prefix("-D") {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                props.insert(k.to_string(), v.trim_matches('"').to_string());
            }
        }
    }
    props
}

/// The properties of `JVMFLAGS` then `SERVER_JVMFLAGS`, as zkServer.sh passes both.
pub fn from_env() -> BTreeMap<String, String> {
    let jvm = std::env::var("JVMFLAGS").unwrap_or_default();
    let server = std::env::var("SERVER_JVMFLAGS").unwrap_or_default();
    parse_jvm_flags(&[&jvm, &server])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dash_d_flags() {
        let p = parse_jvm_flags(&[
            "-Xmx1g -Djute.maxbuffer=4194304",
            "-Djava.security.auth.login.config=/etc/jaas.conf -Dflag",
        ]);
        assert_eq!(p.get("jute.maxbuffer").map(String::as_str), Some("4194304"));
        assert_eq!(
            p.get("java.security.auth.login.config").map(String::as_str),
            Some("/etc/jaas.conf")
        );
        assert_eq!(p.get("flag").map(String::as_str), Some(""));
    }
}
