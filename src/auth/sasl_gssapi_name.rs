//! The id a Kerberos-authenticated client gets (`SaslServerCallbackHandler
//! .handleAuthorizeCallback` with `KerberosName`): the principal's short name under the
//! `DEFAULT` auth-to-local rule, then `/host` unless
//! `zookeeper.kerberos.removeHostFromPrincipal=true`, then `@REALM` unless
//! `zookeeper.kerberos.removeRealmFromPrincipal=true`. With the defaults the id is the
//! full principal, `client@EXAMPLE.COM`.
//!
//! Only the `DEFAULT` rule of `zookeeper.security.auth_to_local` is known: it maps
//! principals of the default realm to their first component and matches nothing else.
//! When no rule matches, Java logs the error and keeps the authorization id the client
//! sent (its principal unless it named another), unchanged by the two properties.

use std::collections::BTreeMap;

/// A principal split as `KerberosName` does (`service[/host]@realm`, or a bare name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KerberosName {
    pub service: String,
    pub host: Option<String>,
    pub realm: Option<String>,
}

impl KerberosName {
    /// `KerberosName(String)`: `([^/@]*)(/([^/@]*))?@([^/@]*)` or a name without `@`.
    pub fn parse(name: &str) -> Result<KerberosName, String> {
        let malformed = || format!("Malformed Kerberos name: {name}");
        let Some((before, realm)) = name.split_once('@') else {
            return Ok(KerberosName { service: name.to_string(), host: None, realm: None });
        };
        if realm.contains(['/', '@']) {
            return Err(malformed());
        }
        let (service, host) = match before.split_once('/') {
            Some((_, h)) if h.contains('/') => return Err(malformed()),
            Some((s, h)) => (s, Some(h.to_string())),
            None => (before, None),
        };
        Ok(KerberosName { service: service.to_string(), host, realm: Some(realm.to_string()) })
    }
}

/// How authenticated principals become `sasl` ids on this server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameRules {
    /// The Kerberos default realm (`KerberosUtil.getDefaultRealm`; empty when unknown).
    pub default_realm: String,
    pub remove_host: bool,
    pub remove_realm: bool,
}

impl NameRules {
    /// Rules from the server's `zookeeper.*` properties (system properties or zoo.cfg
    /// keys); Java tests them with `"true".equals`, so only lowercase `true` counts.
    pub fn from_properties(default_realm: &str, props: &BTreeMap<String, String>) -> NameRules {
        let is_true = |k: &str| props.get(k).map(String::as_str) == Some("true");
        NameRules {
            default_realm: default_realm.to_string(),
            remove_host: is_true("zookeeper.kerberos.removeHostFromPrincipal"),
            remove_realm: is_true("zookeeper.kerberos.removeRealmFromPrincipal"),
        }
    }

    /// `KerberosName.getShortName` under the `DEFAULT` rule.
    fn short_name(&self, name: &KerberosName) -> Option<String> {
        match (&name.host, &name.realm) {
            (None, None) => Some(name.service.clone()),
            (_, Some(realm)) if *realm == self.default_realm => Some(name.service.clone()),
            _ => None,
        }
    }

    /// The authorized id for an authenticated `principal` that asked to act as `authzid`.
    /// Errors only for names `KerberosName` rejects (Java fails the exchange there).
    pub fn authorized_id(&self, principal: &str, authzid: &str) -> Result<String, String> {
        let name = KerberosName::parse(principal)?;
        let Some(mut id) = self.short_name(&name) else {
            return Ok(authzid.to_string());
        };
        if let (false, Some(host)) = (self.remove_host, &name.host) {
            id.push('/');
            id.push_str(host);
        }
        if let (false, Some(realm)) = (self.remove_realm, &name.realm) {
            id.push('@');
            id.push_str(realm);
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(remove_host: bool, remove_realm: bool) -> NameRules {
        NameRules { default_realm: "EXAMPLE.COM".into(), remove_host, remove_realm }
    }

    #[test]
    fn names_split_like_kerberos_name() {
        let n = KerberosName::parse("zookeeper/localhost@EXAMPLE.COM").unwrap();
        assert_eq!(n.service, "zookeeper");
        assert_eq!(n.host.as_deref(), Some("localhost"));
        assert_eq!(n.realm.as_deref(), Some("EXAMPLE.COM"));
        let bare = KerberosName::parse("client").unwrap();
        assert_eq!((bare.host, bare.realm), (None, None));
        let empty_realm = KerberosName::parse("client@").unwrap();
        assert_eq!(empty_realm.realm.as_deref(), Some(""));
        for bad in ["a/b/c@R", "a@b@c", "a@R/x"] {
            assert!(KerberosName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_keep_the_full_principal() {
        let r = rules(false, false);
        assert_eq!(r.authorized_id("client@EXAMPLE.COM", "client@EXAMPLE.COM").unwrap(), "client@EXAMPLE.COM");
        assert_eq!(r.authorized_id("zk/host1@EXAMPLE.COM", "zk/host1@EXAMPLE.COM").unwrap(), "zk/host1@EXAMPLE.COM");
    }

    #[test]
    fn host_and_realm_are_removed_on_request() {
        assert_eq!(rules(true, false).authorized_id("zk/h@EXAMPLE.COM", "x").unwrap(), "zk@EXAMPLE.COM");
        assert_eq!(rules(false, true).authorized_id("zk/h@EXAMPLE.COM", "x").unwrap(), "zk/h");
        assert_eq!(rules(true, true).authorized_id("client@EXAMPLE.COM", "x").unwrap(), "client");
    }

    #[test]
    fn foreign_realms_keep_the_requested_authorization_id() {
        let r = rules(true, true);
        assert_eq!(r.authorized_id("client@OTHER.ORG", "client@OTHER.ORG").unwrap(), "client@OTHER.ORG");
        assert_eq!(r.authorized_id("client@OTHER.ORG", "alice").unwrap(), "alice");
    }

    #[test]
    fn authorization_id_requested_is_ignored_when_a_rule_applies() {
        assert_eq!(rules(false, false).authorized_id("client@EXAMPLE.COM", "super").unwrap(), "client@EXAMPLE.COM");
    }

    #[test]
    fn only_lowercase_true_enables_the_properties() {
        let props: BTreeMap<String, String> = [
            ("zookeeper.kerberos.removeHostFromPrincipal".to_string(), "true".to_string()),
            ("zookeeper.kerberos.removeRealmFromPrincipal".to_string(), "TRUE".to_string()),
        ]
        .into();
        let r = NameRules::from_properties("EXAMPLE.COM", &props);
        assert!(r.remove_host && !r.remove_realm);
    }
}
