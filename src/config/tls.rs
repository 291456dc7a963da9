//! The client TLS settings (`ClientX509Util`/`X509Util`, the `zookeeper.ssl.*` system
//! properties that zoo.cfg `ssl.*` lines become, `QuorumPeerConfig.configureSSLAuth`).
//!
//! Values are validated here so that a bad one stops the start with
//! `file:line: key: reason` (Java only finds out when the first client connects); the
//! stores themselves are read by `server::tls`.

use super::error::ConfigError;
use super::settings::Reader;
use std::path::PathBuf;

/// `ssl.clientAuth` (`X509Util.ClientAuth`); unset or empty means `need`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Want,
    Need,
}

/// `ssl.*.type` (`KeyStoreFileType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreType {
    Pem,
    Pkcs12,
    Jks,
    Bcfks,
}

/// A key store or trust store: where, which format, which password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    pub location: PathBuf,
    pub password: String,
    pub store_type: StoreType,
    /// The setting that named it (`ssl.keyStore.location`), for messages.
    pub key: String,
}

/// Everything the TLS listener needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    pub key_store: Option<Store>,
    pub trust_store: Option<Store>,
    pub client_auth: ClientAuth,
    /// `ssl.protocol` (default `TLSv1.2`).
    pub protocol: String,
    /// `ssl.enabledProtocols`; unset means just `ssl.protocol`.
    pub enabled_protocols: Vec<String>,
    /// `ssl.ciphersuites`; `None` means Java's default list.
    pub cipher_suites: Option<Vec<String>>,
    /// `zookeeper.X509AuthenticationProvider.superUser`.
    pub super_user: Option<String>,
}

/// `X509Util.DEFAULT_PROTOCOL`.
pub const DEFAULT_PROTOCOL: &str = "TLSv1.2";

const PREFIX: &str = "zookeeper.ssl.";

/// The zoo.cfg spelling of a `zookeeper.ssl.*` property, for messages.
fn short(name: &str) -> &str {
    name.strip_prefix("zookeeper.").unwrap_or(name)
}

fn err(r: &Reader, name: &str, reason: String) -> ConfigError {
    let mut e = r.err(short(name), reason);
    if e.line == 0 {
        e.key = name.to_string();
    }
    e
}

/// The TLS settings, read when a secure port or client port unification asks for them.
pub(super) fn settings(r: &Reader, wanted: bool) -> Result<Option<TlsSettings>, ConfigError> {
    if !wanted {
        return Ok(None);
    }
    refuse_unavailable(r)?;
    let raw = r.prop(&format!("{PREFIX}clientAuth")).unwrap_or_default();
    let client_auth = match raw.to_uppercase().as_str() {
        "" | "NEED" => ClientAuth::Need,
        "WANT" => ClientAuth::Want,
        "NONE" => ClientAuth::None,
        _ => {
            return Err(err(
                r,
                "zookeeper.ssl.clientAuth",
                format!("expected none, want or need, got {raw:?}"),
            ))
        }
    };
    let protocol = r
        .prop(&format!("{PREFIX}protocol"))
        .unwrap_or_else(|| DEFAULT_PROTOCOL.to_string());
    let enabled_protocols = match r.prop(&format!("{PREFIX}enabledProtocols")) {
        Some(list) => list.split(',').map(|p| p.trim().to_string()).collect(),
        None => vec![protocol.clone()],
    };
    Ok(Some(TlsSettings {
        key_store: store(r, "keyStore")?,
        trust_store: store(r, "trustStore")?,
        client_auth,
        protocol,
        enabled_protocols,
        cipher_suites: r
            .prop(&format!("{PREFIX}ciphersuites"))
            .map(|l| l.split(',').map(|c| c.trim().to_string()).collect()),
        super_user: r.prop(crate::auth::x509::SUPER_USER_PROPERTY),
    }))
}

/// Settings that need Java classes rzk cannot load.
fn refuse_unavailable(r: &Reader) -> Result<(), ConfigError> {
    let supplier = format!("{PREFIX}context.supplier.class");
    if r.prop(&supplier).is_some() {
        return Err(err(r, &supplier, "an SSLContext supplier is a Java class; rzk builds its TLS context from the key and trust stores".into()));
    }
    let provider = format!("{PREFIX}authProvider");
    match r.prop(&provider) {
        Some(p) if p.trim() != "x509" => Err(err(
            r,
            &provider,
            format!("only the x509 scheme (X509AuthenticationProvider) can authenticate TLS clients, got {p:?}"),
        )),
        _ => Ok(()),
    }
}

/// `ssl.<which>.location/password/passwordPath/type`; `None` when no location is set.
fn store(r: &Reader, which: &str) -> Result<Option<Store>, ConfigError> {
    let location_key = format!("{PREFIX}{which}.location");
    let location = r.prop(&location_key).unwrap_or_default();
    if location.is_empty() {
        return Ok(None);
    }
    let type_key = format!("{PREFIX}{which}.type");
    let (store_type, blame) = match r.prop(&type_key).filter(|t| !t.is_empty()) {
        Some(t) => {
            let named = store_type_named(&t);
            (
                named.ok_or_else(|| {
                    err(
                        r,
                        &type_key,
                        format!("expected PEM, PKCS12, JKS or BCFKS, got {t:?}"),
                    )
                })?,
                &type_key,
            )
        }
        None => {
            let of_file = store_type_of_file(&location).ok_or_else(|| {
                err(r, &location_key, format!("cannot tell the store type from the file name {location:?} (.pem, .p12, .jks, .bcfks); set ssl.{which}.type"))
            })?;
            (of_file, &location_key)
        }
    };
    if let Some(why) = unreadable(store_type, &location) {
        return Err(err(r, blame, why));
    }
    let mut password = r
        .prop(&format!("{PREFIX}{which}.password"))
        .unwrap_or_default();
    let path_key = format!("{PREFIX}{which}.passwordPath");
    if let Some(path) = r.prop(&path_key).filter(|p| !p.is_empty()) {
        password = read_secret(&path)
            .map_err(|e| err(r, &path_key, format!("cannot read {path}: {e}")))?;
    }
    Ok(Some(Store {
        location: PathBuf::from(location),
        password,
        store_type,
        key: short(&location_key).to_string(),
    }))
}

/// Why rzk cannot read a store of this type: BCFKS is a Bouncy Castle format; PKCS12
/// holds the same keys, and keytool converts.
fn unreadable(t: StoreType, location: &str) -> Option<String> {
    let name = match t {
        StoreType::Bcfks => "BCFKS",
        StoreType::Pem | StoreType::Pkcs12 | StoreType::Jks => return None,
    };
    let p12 = location.rsplit_once('.').map_or(location, |(stem, _)| stem);
    Some(format!(
        "{name} stores are not read by rzk; convert to PKCS12 with `keytool -importkeystore -srckeystore {location} -srcstoretype {name} \
         -destkeystore {p12}.p12 -deststoretype PKCS12` and point the location (and type) at the .p12 file"
    ))
}

/// `KeyStoreFileType.fromPropertyValue`.
fn store_type_named(t: &str) -> Option<StoreType> {
    Some(match t.to_uppercase().as_str() {
        "PEM" => StoreType::Pem,
        "PKCS12" => StoreType::Pkcs12,
        "JKS" => StoreType::Jks,
        "BCFKS" => StoreType::Bcfks,
        _ => return None,
    })
}

/// `KeyStoreFileType.fromFilename`: the extension after the last dot, case-sensitive.
fn store_type_of_file(name: &str) -> Option<StoreType> {
    let ext = name.rfind('.').map(|i| &name[i..])?;
    Some(match ext {
        ".pem" => StoreType::Pem,
        ".p12" => StoreType::Pkcs12,
        ".jks" => StoreType::Jks,
        ".bcfks" => StoreType::Bcfks,
        _ => return None,
    })
}

/// `SecretUtils.readSecret`: the file's text without one trailing line separator.
fn read_secret(path: &str) -> std::io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    Ok(text.strip_suffix('\n').map(str::to_string).unwrap_or(text))
}

/// Whether `zookeeper.client.portUnification` is on (`Boolean.getBoolean`).
pub(super) fn port_unification(r: &Reader) -> bool {
    r.prop("zookeeper.client.portUnification")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Whether the `x509` provider is registered: named by an `authProvider.*` setting, or
/// added by `configureSSLAuth` because a secure port or port unification needs it.
pub(super) fn x509_registered(r: &Reader, tls_wanted: bool) -> bool {
    tls_wanted
        || r.props_with_prefix("zookeeper.authProvider.")
            .any(|v| v.trim() == "org.apache.zookeeper.server.auth.X509AuthenticationProvider")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_type_comes_from_the_extension_like_java() {
        assert_eq!(store_type_of_file("/a/b.p12"), Some(StoreType::Pkcs12));
        assert_eq!(store_type_of_file("/a/b.pem"), Some(StoreType::Pem));
        assert_eq!(store_type_of_file("/a/b.PEM"), None);
        assert_eq!(store_type_of_file("/a/b.pkcs12"), None);
        assert_eq!(store_type_named("pkcs12"), Some(StoreType::Pkcs12));
    }
}
