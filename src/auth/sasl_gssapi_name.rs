//! The id a Kerberos-authenticated client gets (`SaslServerCallbackHandler
//! .handleAuthorizeCallback` with `KerberosName`): the principal's short name under the
//! `zookeeper.security.auth_to_local` rules (see `kerberos_rules`; `DEFAULT` maps
//! principals of the default realm to their first component), then `/host` unless
//! `zookeeper.kerberos.removeHostFromPrincipal=true`, then `@REALM` unless
//! `zookeeper.kerberos.removeRealmFromPrincipal=true`. With the defaults the id is the
//! full principal, `client@EXAMPLE.COM`.
//!
//! When no rule gives a name (or a rule's format is out of range), Java logs the error
//! and keeps the authorization id the client sent (its principal unless it named
//! another), unchanged by the two properties.

use std::collections::BTreeMap;

use super::kerberos_rules::{AuthToLocal, ShortNameError};

/// The system property holding the rules.
pub const AUTH_TO_LOCAL_PROPERTY: &str = "zookeeper.security.auth_to_local";

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
            return Ok(KerberosName {
                service: name.to_string(),
                host: None,
                realm: None,
            });
        };
        if realm.contains(['/', '@']) {
            return Err(malformed());
        }
        let (service, host) = match before.split_once('/') {
            Some((_, h)) if h.contains('/') => return Err(malformed()),
            Some((s, h)) => (s, Some(h.to_string())),
            None => (before, None),
        };
        Ok(KerberosName {
            service: service.to_string(),
            host,
            realm: Some(realm.to_string()),
        })
    }
}

/// How authenticated principals become `sasl` ids on this server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameRules {
    /// The Kerberos default realm (`KerberosUtil.getDefaultRealm`; empty when unknown).
    pub default_realm: String,
    pub remove_host: bool,
    pub remove_realm: bool,
    /// `zookeeper.security.auth_to_local`, `DEFAULT` unless set.
    pub rules: AuthToLocal,
}

impl NameRules {
    /// Rules from the server's `zookeeper.*` properties (system properties or zoo.cfg
    /// keys); Java tests the two booleans with `"true".equals`, so only lowercase `true`
    /// counts. Errors name an `auth_to_local` rule the server must not start with.
    pub fn from_properties(
        default_realm: &str,
        props: &BTreeMap<String, String>,
    ) -> Result<NameRules, String> {
        let is_true = |k: &str| props.get(k).map(String::as_str) == Some("true");
        let rules = match props.get(AUTH_TO_LOCAL_PROPERTY) {
            None => AuthToLocal::default(),
            Some(text) => {
                AuthToLocal::parse(text).map_err(|e| format!("{AUTH_TO_LOCAL_PROPERTY}: {e}"))?
            }
        };
        Ok(NameRules {
            default_realm: default_realm.to_string(),
            remove_host: is_true("zookeeper.kerberos.removeHostFromPrincipal"),
            remove_realm: is_true("zookeeper.kerberos.removeRealmFromPrincipal"),
            rules,
        })
    }

    /// `KerberosName.getShortName`: bare names are already short.
    fn short_name(&self, name: &KerberosName) -> Result<String, ShortNameError> {
        let Some(realm) = &name.realm else {
            return Ok(name.service.clone());
        };
        let mut components = vec![name.service.as_str()];
        components.extend(name.host.as_deref());
        self.rules
            .short_name(&self.default_realm, realm, &components)
    }

    /// The authorized id for an authenticated `principal` that asked to act as `authzid`.
    /// Errors for names `KerberosName` rejects and for rules that throw past
    /// `SaslServerCallbackHandler` (Java fails the exchange there).
    pub fn authorized_id(&self, principal: &str, authzid: &str) -> Result<String, String> {
        let name = KerberosName::parse(principal)?;
        let mut id = match self.short_name(&name) {
            Ok(id) => id,
            Err(ShortNameError::Rejected(_)) => return Ok(authzid.to_string()),
            Err(ShortNameError::Broken(why)) => return Err(why),
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
        NameRules {
            default_realm: "EXAMPLE.COM".into(),
            remove_host,
            remove_realm,
            ..NameRules::default()
        }
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
        assert_eq!(
            r.authorized_id("client@EXAMPLE.COM", "client@EXAMPLE.COM")
                .unwrap(),
            "client@EXAMPLE.COM"
        );
        assert_eq!(
            r.authorized_id("zk/host1@EXAMPLE.COM", "zk/host1@EXAMPLE.COM")
                .unwrap(),
            "zk/host1@EXAMPLE.COM"
        );
    }

    #[test]
    fn host_and_realm_are_removed_on_request() {
        assert_eq!(
            rules(true, false)
                .authorized_id("zk/h@EXAMPLE.COM", "x")
                .unwrap(),
            "zk@EXAMPLE.COM"
        );
        assert_eq!(
            rules(false, true)
                .authorized_id("zk/h@EXAMPLE.COM", "x")
                .unwrap(),
            "zk/h"
        );
        assert_eq!(
            rules(true, true)
                .authorized_id("client@EXAMPLE.COM", "x")
                .unwrap(),
            "client"
        );
    }

    #[test]
    fn foreign_realms_keep_the_requested_authorization_id() {
        let r = rules(true, true);
        assert_eq!(
            r.authorized_id("client@OTHER.ORG", "client@OTHER.ORG")
                .unwrap(),
            "client@OTHER.ORG"
        );
        assert_eq!(
            r.authorized_id("client@OTHER.ORG", "alice").unwrap(),
            "alice"
        );
    }

    #[test]
    fn authorization_id_requested_is_ignored_when_a_rule_applies() {
        assert_eq!(
            rules(false, false)
                .authorized_id("client@EXAMPLE.COM", "super")
                .unwrap(),
            "client@EXAMPLE.COM"
        );
    }

    fn with_rules(text: &str, remove_host: bool, remove_realm: bool) -> NameRules {
        let mut props = BTreeMap::from([(AUTH_TO_LOCAL_PROPERTY.to_string(), text.to_string())]);
        for (key, on) in [("Host", remove_host), ("Realm", remove_realm)] {
            props.insert(
                format!("zookeeper.kerberos.remove{key}FromPrincipal"),
                on.to_string(),
            );
        }
        NameRules::from_properties("EXAMPLE.COM", &props).unwrap()
    }

    #[test]
    fn auth_to_local_rules_give_the_short_name_before_host_and_realm() {
        let r = with_rules("RULE:[2:$1-$2@$0](zk-.*)s/@.*// DEFAULT", false, false);
        assert_eq!(
            r.authorized_id("zk/h1@EXAMPLE.COM", "x").unwrap(),
            "zk-h1/h1@EXAMPLE.COM"
        );
        let r = with_rules("RULE:[2:$1-$2@$0](zk-.*)s/@.*// DEFAULT", true, true);
        assert_eq!(r.authorized_id("zk/h1@OTHER.ORG", "x").unwrap(), "zk-h1");
        assert_eq!(
            r.authorized_id("client@EXAMPLE.COM", "x").unwrap(),
            "client"
        );
    }

    #[test]
    fn a_name_no_rule_maps_keeps_the_requested_id() {
        let r = with_rules("RULE:[1:$1](admin)", true, true);
        assert_eq!(
            r.authorized_id("client@EXAMPLE.COM", "client@EXAMPLE.COM")
                .unwrap(),
            "client@EXAMPLE.COM"
        );
        assert_eq!(r.authorized_id("admin@EXAMPLE.COM", "x").unwrap(), "admin");
        // A rule error Java only logs (a format index out of range) does the same.
        let r = with_rules("RULE:[1:$5] DEFAULT", true, true);
        assert_eq!(
            r.authorized_id("client@EXAMPLE.COM", "asked").unwrap(),
            "asked"
        );
    }

    #[test]
    fn a_rule_java_throws_through_fails_the_exchange() {
        assert!(with_rules("RULE:[1:$2]", false, false)
            .authorized_id("client@EXAMPLE.COM", "x")
            .is_err());
    }

    #[test]
    fn bad_rules_stop_the_server_with_the_property_named() {
        let props = BTreeMap::from([(
            AUTH_TO_LOCAL_PROPERTY.to_string(),
            "RULE:[1:$1]/L".to_string(),
        )]);
        let err = NameRules::from_properties("EXAMPLE.COM", &props).unwrap_err();
        assert_eq!(err, "zookeeper.security.auth_to_local: Invalid rule: /L");
    }

    #[test]
    fn only_lowercase_true_enables_the_properties() {
        let props: BTreeMap<String, String> = [
            (
                "zookeeper.kerberos.removeHostFromPrincipal".to_string(),
                "true".to_string(),
            ),
            (
                "zookeeper.kerberos.removeRealmFromPrincipal".to_string(),
                "TRUE".to_string(),
            ),
        ]
        .into();
        let r = NameRules::from_properties("EXAMPLE.COM", &props).unwrap();
        assert!(r.remove_host && !r.remove_realm);
    }
}
