//! The registry of authentication providers (`ProviderRegistry`) as far as the wire
//! sees it: what an AuthPacket yields, which schemes identify a creator, and how whoAmI
//! names each id.

use std::collections::BTreeSet;

use super::auth_info::java_set_order;
use super::digest::{authenticate_digest, user_of};
use crate::proto::{ClientInfo, ErrorCode, Id};

/// Providers registered on a server. `ip` is always there; `digest` unless
/// `zookeeper.DigestAuthenticationProvider.enabled=false`; others (`sasl`, `x509`, ...)
/// only when named by an `authProvider.*` setting.
#[derive(Clone, Debug)]
pub struct AuthProviders {
    super_digest: Option<String>,
    digest_enabled: bool,
    extra: BTreeSet<String>,
}

impl AuthProviders {
    /// `super_digest` is `zookeeper.DigestAuthenticationProvider.superDigest`.
    pub fn new(super_digest: Option<String>) -> Self {
        AuthProviders {
            super_digest,
            digest_enabled: true,
            extra: BTreeSet::new(),
        }
    }

    pub fn set_digest_enabled(&mut self, enabled: bool) {
        self.digest_enabled = enabled;
    }

    /// Registers a provider by scheme, e.g. `sasl` for
    /// `authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider`.
    pub fn register(&mut self, scheme: &str) {
        self.extra.insert(scheme.to_string());
    }

    pub fn has_provider(&self, scheme: &str) -> bool {
        match scheme {
            "ip" => true,
            "digest" => self.digest_enabled,
            other => self.extra.contains(other),
        }
    }

    /// An AuthPacket (`ZooKeeperServer.processPacket`): the ids to add to the connection,
    /// or AuthFailed, after which the server replies and closes the connection.
    ///
    /// `ip` succeeds by re-adding the connection's own address, which every connection
    /// already holds, so it adds nothing. Schemes without a provider fail, and so do the
    /// registered `sasl` (negotiated over op 102 only) and `x509` (needs a TLS
    /// certificate) and any other provider this server cannot run.
    pub fn authenticate(&self, scheme: &str, auth: &[u8]) -> Result<Vec<Id>, ErrorCode> {
        match scheme {
            "ip" => Ok(Vec::new()),
            "digest" if self.digest_enabled => {
                Ok(authenticate_digest(auth, self.super_digest.as_deref()))
            }
            _ => Err(ErrorCode::AuthFailed),
        }
    }

    /// `AuthenticationProvider.isAuthenticated`: whether ids of this scheme name a
    /// creator (used to expand `auth` ACL entries). `ip` does not.
    pub fn is_authenticated(&self, scheme: &str) -> bool {
        scheme != "ip" && self.has_provider(scheme)
    }

    /// whoAmI (`AuthUtil.getClientInfos`): one entry per id in Java's set order; the user
    /// is the provider's `getUserName` (digest: the part before `:`, others the id
    /// itself) or empty when the scheme has no provider (`super` never has one).
    pub fn client_info(&self, ids: &[Id]) -> Vec<ClientInfo> {
        java_set_order(ids)
            .into_iter()
            .map(|id| {
                let user = match id.scheme.as_str() {
                    s if !self.has_provider(s) => String::new(),
                    "digest" => user_of(&id.id).to_string(),
                    _ => id.id.clone(),
                };
                ClientInfo {
                    auth_scheme: id.scheme,
                    user,
                }
            })
            .collect()
    }
}

impl Default for AuthProviders {
    fn default() -> Self {
        Self::new(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(scheme: &str, user: &str) -> ClientInfo {
        ClientInfo {
            auth_scheme: scheme.to_string(),
            user: user.to_string(),
        }
    }

    #[test]
    fn digest_auth_succeeds_even_with_a_wrong_password() {
        let p = AuthProviders::new(Some("super:D/InIHSb7yEEbrWz8b9l71RjZJU=".into()));
        assert_eq!(
            p.authenticate("digest", b"alice:secret"),
            Ok(vec![Id::new(
                "digest",
                "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="
            )])
        );
        assert_eq!(
            p.authenticate("digest", b"super:test").map(|v| v.len()),
            Ok(2)
        );
    }

    #[test]
    fn unknown_and_unusable_schemes_fail() {
        let mut p = AuthProviders::default();
        assert_eq!(
            p.authenticate("nosuchscheme", b"x"),
            Err(ErrorCode::AuthFailed)
        );
        assert_eq!(p.authenticate("sasl", b"x"), Err(ErrorCode::AuthFailed));
        assert_eq!(p.authenticate("super", b""), Err(ErrorCode::AuthFailed));
        p.register("sasl");
        assert_eq!(p.authenticate("sasl", b"x"), Err(ErrorCode::AuthFailed));
        p.set_digest_enabled(false);
        assert_eq!(p.authenticate("digest", b"a:b"), Err(ErrorCode::AuthFailed));
    }

    #[test]
    fn ip_auth_succeeds_and_adds_nothing_new() {
        assert_eq!(
            AuthProviders::default().authenticate("ip", b"whatever"),
            Ok(vec![])
        );
    }

    #[test]
    fn whoami_matches_the_golden_reply() {
        let ids = [
            Id::new("ip", "127.0.0.1"),
            Id::new("digest", "user:smGaoVKd/cQkjm7b88GyorAUz20="),
        ];
        let got = AuthProviders::default().client_info(&ids);
        assert_eq!(got, vec![info("ip", "127.0.0.1"), info("digest", "user")]);
    }

    #[test]
    fn whoami_names_super_and_unregistered_schemes_with_an_empty_user() {
        let mut p = AuthProviders::default();
        let ids = [
            Id::new("ip", "192.168.0.17"),
            Id::new("sasl", "bob"),
            Id::new("super", ""),
        ];
        let got = p.client_info(&ids);
        assert!(got.contains(&info("sasl", "")) && got.contains(&info("super", "")));
        p.register("sasl");
        assert!(p.client_info(&ids).contains(&info("sasl", "bob")));
    }

    #[test]
    fn registered_x509_names_its_ids_by_subject_and_identifies_creators() {
        let mut p = AuthProviders::default();
        let ids = [Id::new("x509", "CN=alice,O=Apache")];
        assert_eq!(p.client_info(&ids), vec![info("x509", "")]);
        p.register("x509");
        assert_eq!(p.client_info(&ids), vec![info("x509", "CN=alice,O=Apache")]);
        assert!(p.is_authenticated("x509"));
        // The id comes from the TLS handshake, never from an AuthPacket.
        assert_eq!(
            p.authenticate("x509", b"CN=alice"),
            Err(ErrorCode::AuthFailed)
        );
    }

    #[test]
    fn ip_does_not_identify_a_creator() {
        let mut p = AuthProviders::default();
        assert!(!p.is_authenticated("ip"));
        assert!(p.is_authenticated("digest"));
        assert!(!p.is_authenticated("sasl"));
        p.register("sasl");
        assert!(p.is_authenticated("sasl"));
    }
}
