//! Permission checks and ACL normalisation.
//!
//! Stands in for Apache ZooKeeper's `ZooKeeperServer.checkACL`,
//! `PrepRequestProcessor.fixupACL` and the `matches` / `isValid` /
//! `isAuthenticated` of the built-in authentication providers (`ip`, `digest`, `sasl`,
//! `x509`). Read handlers use `check_acl` too.

mod ip;

use crate::auth::java_set_order;
use crate::proto::{Acl, ErrorCode, Id};

/// Which optional providers are registered (`ProviderRegistry`). `ip` is always there;
/// `digest` unless disabled; `sasl` and `x509` only when configured. A scheme without a
/// provider cannot appear in a new ACL (InvalidACL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthSchemes {
    pub digest: bool,
    pub sasl: bool,
    pub x509: bool,
}

impl Default for AuthSchemes {
    /// What a stock server registers: `ip` and `digest`.
    fn default() -> Self {
        AuthSchemes {
            digest: true,
            sasl: false,
            x509: false,
        }
    }
}

impl AuthSchemes {
    fn is_registered(&self, scheme: &str) -> bool {
        match scheme {
            "ip" => true,
            "digest" => self.digest,
            "sasl" => self.sasl,
            "x509" => self.x509,
            _ => false,
        }
    }

    /// Providers whose ids stand for an authenticated user, the ones `auth` expands to
    /// (`isAuthenticated`: every built-in one but `ip`).
    fn is_authenticated(&self, scheme: &str) -> bool {
        scheme != "ip" && self.is_registered(scheme)
    }

    /// The provider's `isValid` for an id of an explicit ACL entry.
    fn accepts(&self, id: &Id) -> bool {
        if !self.is_registered(&id.scheme) {
            return false;
        }
        match id.scheme.as_str() {
            "ip" => ip::is_valid(&id.id),
            "digest" => digest_id_is_valid(&id.id),
            "sasl" => kerberos_name_is_valid(&id.id),
            "x509" => super::x500::is_valid_dn(&id.id),
            _ => true,
        }
    }
}

/// Whether `ids` may do `perm` on a node with `acl` (`ZooKeeperServer.checkACL`).
/// Callers turn `false` into NoAuth.
pub fn check_acl(acl: &[Acl], perm: i32, ids: &[Id], skip: bool) -> bool {
    if skip || acl.is_empty() || ids.iter().any(|i| i.scheme == "super") {
        return true;
    }
    acl.iter()
        .filter(|a| a.perms & perm != 0)
        .any(|a| entry_admits(&a.id, ids))
}

fn entry_admits(entry: &Id, ids: &[Id]) -> bool {
    if entry.scheme == "world" && entry.id == "anyone" {
        return true;
    }
    ids.iter()
        .filter(|caller| caller.scheme == entry.scheme)
        .any(|caller| provider_matches(&entry.scheme, &caller.id, &entry.id))
}

fn provider_matches(scheme: &str, id: &str, expr: &str) -> bool {
    match scheme {
        "ip" => ip::matches(id, expr),
        // SASLAuthenticationProvider lets the principal named "super" through.
        "sasl" => id == "super" || id == expr,
        "digest" | "x509" => id == expr,
        _ => false,
    }
}

/// [`fixup_acl`] as a shared list: the open ACL, what most creates carry, comes back as
/// the one list the tree's ACL cache holds for it, without a copy.
pub fn fixup_acl_shared(
    acl: &[Acl],
    auth: &[Id],
    schemes: &AuthSchemes,
) -> Result<std::sync::Arc<[Acl]>, ErrorCode> {
    let open = crate::tree::open_acl();
    if acl == &open[..] {
        return Ok(open.clone());
    }
    fixup_acl(acl, auth, schemes).map(Into::into)
}

/// Validates and expands the ACL of a create or setACL (`PrepRequestProcessor.fixupACL`):
/// duplicates dropped first, `auth` replaced by the caller's authenticated ids (which may
/// reintroduce duplicates, as in Java), InvalidACL for anything else unacceptable.
pub fn fixup_acl(acl: &[Acl], auth: &[Id], schemes: &AuthSchemes) -> Result<Vec<Acl>, ErrorCode> {
    let mut unique: Vec<&Acl> = Vec::with_capacity(acl.len());
    for a in acl {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    if unique.is_empty() {
        return Err(ErrorCode::InvalidAcl);
    }
    let mut out = Vec::with_capacity(unique.len());
    for a in unique {
        if a.id.scheme == "world" && a.id.id == "anyone" {
            out.push(a.clone());
        } else if a.id.scheme == "auth" {
            out.extend(expand_auth(a.perms, auth, schemes)?);
        } else if a.id.scheme == "x509" && schemes.x509 && a.id.id.is_empty() {
            // The id arrived null (clients write an empty string so): Java's
            // `new X500Principal(null)` throws, and the request fails as unreadable.
            return Err(ErrorCode::MarshallingError);
        } else if schemes.accepts(&a.id) {
            out.push(a.clone());
        } else {
            return Err(ErrorCode::InvalidAcl);
        }
    }
    Ok(out)
}

/// The connection's ids come in `ServerCnxn.getAuthInfo` order: a copy of a
/// `ConcurrentHashMap`-backed set, so hash order rather than the order of the addauths.
fn expand_auth(perms: i32, auth: &[Id], schemes: &AuthSchemes) -> Result<Vec<Acl>, ErrorCode> {
    let expanded: Vec<Acl> = java_set_order(auth)
        .into_iter()
        .filter(|id| schemes.is_authenticated(&id.scheme))
        .map(|id| Acl { perms, id })
        .collect();
    if expanded.is_empty() {
        Err(ErrorCode::InvalidAcl)
    } else {
        Ok(expanded)
    }
}

/// `DigestAuthenticationProvider.isValid`: `id.split(":").length == 2`, with Java's
/// dropping of trailing empty pieces (so `user:hash:` passes and `user:` does not).
fn digest_id_is_valid(id: &str) -> bool {
    if !id.contains(':') {
        return false;
    }
    let mut pieces: Vec<&str> = id.split(':').collect();
    while pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    pieces.len() == 2
}

/// `SASLAuthenticationProvider.isValid`: `new KerberosName(id)` fails only for a name
/// that contains `@` without matching `primary[/instance]@realm`.
fn kerberos_name_is_valid(id: &str) -> bool {
    let Some((principal, realm)) = id.split_once('@') else {
        return true;
    };
    if realm.contains(['@', '/']) {
        return false;
    }
    match principal.split_once('/') {
        Some((_, instance)) => !instance.contains('/'),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::perms;

    fn id(s: &str, i: &str) -> Id {
        Id::new(s, i)
    }

    #[test]
    fn auth_acl_expands_in_java_set_order_not_addauth_order() {
        // Seen against 3.8.0: addauth alice (a wrong password), then bob; the ACL lists bob first.
        let alice = Id::new("digest", &crate::auth::digest_id("alice:wrong"));
        let bob = Id::new("digest", &crate::auth::digest_id("bob:pw2"));
        let auth = [Id::new("ip", "127.0.0.1"), alice.clone(), bob.clone()];
        let got = fixup_acl(&[Acl::new(31, "auth", "")], &auth, &AuthSchemes::default()).unwrap();
        let ids: Vec<Id> = got.into_iter().map(|a| a.id).collect();
        assert_eq!(ids, vec![bob, alice]);
    }

    #[test]
    fn world_anyone_grants_its_bits_only() {
        let acl = Acl::read_unsafe();
        assert!(check_acl(&acl, perms::READ, &[], false));
        assert!(!check_acl(&acl, perms::WRITE, &[], false));
    }

    #[test]
    fn empty_acl_skip_and_super_pass_everything() {
        assert!(check_acl(&[], perms::ADMIN, &[], false));
        let acl = vec![Acl::new(perms::READ, "digest", "u:h")];
        assert!(check_acl(&acl, perms::ADMIN, &[], true));
        assert!(check_acl(&acl, perms::ADMIN, &[id("super", "")], false));
    }

    #[test]
    fn digest_matches_by_exact_id() {
        let acl = vec![Acl::new(perms::ALL, "digest", "u:h")];
        assert!(check_acl(&acl, perms::WRITE, &[id("digest", "u:h")], false));
        assert!(!check_acl(
            &acl,
            perms::WRITE,
            &[id("digest", "u:H")],
            false
        ));
        assert!(!check_acl(&acl, perms::WRITE, &[id("sasl", "u:h")], false));
    }

    #[test]
    fn ip_entries_match_by_cidr() {
        let acl = vec![Acl::new(perms::ALL, "ip", "127.0.0.0/8")];
        assert!(check_acl(
            &acl,
            perms::READ,
            &[id("ip", "127.0.0.1")],
            false
        ));
        assert!(!check_acl(
            &acl,
            perms::READ,
            &[id("ip", "10.0.0.1")],
            false
        ));
    }

    #[test]
    fn sasl_and_x509_match_exactly_and_sasl_super_passes() {
        let acl = vec![
            Acl::new(perms::ALL, "sasl", "bob"),
            Acl::new(perms::ALL, "x509", "CN=a"),
        ];
        assert!(check_acl(&acl, perms::READ, &[id("sasl", "bob")], false));
        assert!(check_acl(&acl, perms::READ, &[id("sasl", "super")], false));
        assert!(check_acl(&acl, perms::READ, &[id("x509", "CN=a")], false));
        assert!(!check_acl(&acl, perms::READ, &[id("x509", "CN=b")], false));
    }

    #[test]
    fn fixup_rejects_empty_lists() {
        assert_eq!(
            fixup_acl(&[], &[], &AuthSchemes::default()),
            Err(ErrorCode::InvalidAcl)
        );
    }

    #[test]
    fn fixup_removes_duplicates_keeping_order() {
        let a = Acl::new(perms::ALL, "world", "anyone");
        let b = Acl::new(perms::READ, "ip", "1.2.3.4");
        let got = fixup_acl(
            &[a.clone(), b.clone(), a.clone()],
            &[],
            &AuthSchemes::default(),
        );
        assert_eq!(got, Ok(vec![a, b]));
    }

    #[test]
    fn fixup_world_must_be_anyone() {
        let acl = [Acl::new(perms::ALL, "world", "someone")];
        assert_eq!(
            fixup_acl(&acl, &[], &AuthSchemes::default()),
            Err(ErrorCode::InvalidAcl)
        );
    }

    #[test]
    fn fixup_auth_expands_to_authenticated_ids_not_ip() {
        let auth = [id("ip", "127.0.0.1"), id("digest", "u:h"), id("super", "")];
        let acl = [Acl::new(perms::ALL, "auth", "")];
        let got = fixup_acl(&acl, &auth, &AuthSchemes::default());
        assert_eq!(got, Ok(vec![Acl::new(perms::ALL, "digest", "u:h")]));
    }

    #[test]
    fn fixup_auth_without_authenticated_ids_is_invalid() {
        let acl = [Acl::new(perms::ALL, "auth", "")];
        let got = fixup_acl(&acl, &[id("ip", "127.0.0.1")], &AuthSchemes::default());
        assert_eq!(got, Err(ErrorCode::InvalidAcl));
    }

    #[test]
    fn fixup_auth_counts_sasl_and_x509_when_registered() {
        let all = AuthSchemes {
            digest: true,
            sasl: true,
            x509: true,
        };
        let auth = [id("sasl", "bob"), id("x509", "CN=a")];
        let acl = [Acl::new(perms::READ, "auth", "")];
        let got = fixup_acl(&acl, &auth, &all).map(|v| v.len());
        assert_eq!(got, Ok(2));
    }

    #[test]
    fn fixup_digest_ids_must_be_user_colon_hash() {
        let s = AuthSchemes::default();
        for good in ["u:h", ":h", "u:h:", "u:h::"] {
            assert!(
                fixup_acl(&[Acl::new(1, "digest", good)], &[], &s).is_ok(),
                "{good}"
            );
        }
        for bad in ["u", "u:", "u:h:x", ":", ""] {
            let r = fixup_acl(&[Acl::new(1, "digest", bad)], &[], &s);
            assert_eq!(r, Err(ErrorCode::InvalidAcl), "{bad}");
        }
    }

    #[test]
    fn fixup_unknown_or_unregistered_scheme_is_invalid() {
        let s = AuthSchemes::default();
        for scheme in ["nosuch", "sasl", "x509", "super"] {
            let r = fixup_acl(&[Acl::new(1, scheme, "x")], &[], &s);
            assert_eq!(r, Err(ErrorCode::InvalidAcl), "{scheme}");
        }
        assert_eq!(
            fixup_acl(&[Acl::new(1, "ip", "1.2.3")], &[], &s),
            Err(ErrorCode::InvalidAcl)
        );
    }

    #[test]
    fn kerberos_names_with_a_malformed_realm_are_invalid() {
        assert!(kerberos_name_is_valid("bob"));
        assert!(kerberos_name_is_valid("zk/host@REALM"));
        assert!(kerberos_name_is_valid("bob@"));
        assert!(!kerberos_name_is_valid("a@b@c"));
        assert!(!kerberos_name_is_valid("a/b/c@R"));
    }
}
