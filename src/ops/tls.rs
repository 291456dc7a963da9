//! HTTPS for the AdminServer, as `JettyAdminServer` offers it in Apache ZooKeeper 3.8:
//! `admin.forceHttps=true` serves TLS only, `admin.portUnification=true` serves TLS and
//! plain HTTP on the same port (Jetty's `UnifiedConnectionFactory` tells them apart by the
//! first byte). The certificate comes from the quorum key store (`QuorumX509Util`:
//! `ssl.quorum.keyStore.location`, `.password`, `.passwordPath`, `.type`), read here in
//! the PEM and PKCS#12 formats.
//!
//! Jetty requires the trust store too but never asks clients for certificates in 3.8; rzk
//! reads the trust store when one is configured (so a broken one fails the same way) and
//! otherwise goes without it.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// How the AdminServer port speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminTlsMode {
    /// Plain HTTP (neither option set).
    Off,
    /// `admin.portUnification`: TLS or plain HTTP, by the first byte.
    Unified,
    /// `admin.forceHttps`: TLS only (wins over port unification, as in Jetty's setup).
    Forced,
}

/// The HSTS header Jetty's `SecureRequestCustomizer` adds to HTTPS answers
/// (`DEFAULT_STS_MAX_AGE` of a day, sub-domains included).
pub const HSTS: &str = "Strict-Transport-Security: max-age=86400; includeSubDomains";

/// A key or trust store as `X509Util` names its properties under `prefix`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreConfig {
    pub location: String,
    pub password: String,
    pub password_path: String,
    pub kind: String,
}

impl StoreConfig {
    /// `<prefix>keyStore.*` or `<prefix>trustStore.*` from the system properties.
    pub fn from_properties(
        props: &BTreeMap<String, String>,
        prefix: &str,
        store: &str,
    ) -> StoreConfig {
        let get = |k: &str| {
            props
                .get(&format!("{prefix}{store}.{k}"))
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        StoreConfig {
            location: get("location"),
            password: get("password"),
            password_path: get("passwordPath"),
            kind: get("type"),
        }
    }

    /// The password, or the contents of `passwordPath` when no password is set
    /// (`getPasswordFromSystemPropertyOrFile`).
    fn secret(&self) -> Result<String, String> {
        if !self.password.is_empty() || self.password_path.is_empty() {
            return Ok(self.password.clone());
        }
        std::fs::read_to_string(&self.password_path)
            .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
            .map_err(|e| format!("cannot read password file {}: {e}", self.password_path))
    }
}

/// The store formats of `KeyStoreFileType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreType {
    Pem,
    Pkcs12,
    Jks,
    Bcfks,
}

/// `KeyStoreFileType.fromPropertyValueOrFileName`: the `type` property (any case), else
/// the file extension.
pub fn store_type(kind: &str, location: &str) -> Result<StoreType, String> {
    let by_name = |s: &str| match s.to_ascii_uppercase().as_str() {
        "PEM" => Some(StoreType::Pem),
        "PKCS12" => Some(StoreType::Pkcs12),
        "JKS" => Some(StoreType::Jks),
        "BCFKS" => Some(StoreType::Bcfks),
        _ => None,
    };
    if !kind.is_empty() {
        return by_name(kind).ok_or_else(|| format!("unknown key store type {kind:?}"));
    }
    let ext = location
        .rsplit_once('.')
        .map(|(_, e)| e)
        .unwrap_or_default();
    match ext {
        "pem" => Ok(StoreType::Pem),
        "p12" => Ok(StoreType::Pkcs12),
        "jks" => Ok(StoreType::Jks),
        "bcfks" => Ok(StoreType::Bcfks),
        _ => Err(format!(
            "unable to auto-detect store file type from file name: {location}"
        )),
    }
}

/// The certificate chain and private key of a key store.
pub fn load_identity(
    store: &StoreConfig,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let data = std::fs::read(&store.location)
        .map_err(|e| format!("cannot read key store {}: {e}", store.location))?;
    match store_type(&store.kind, &store.location)? {
        StoreType::Pem => pem_identity(&data),
        StoreType::Pkcs12 => pkcs12_identity(&data, &store.secret()?),
        StoreType::Jks => {
            let contents = crate::server::tls::jks::read(&data, &store.secret()?)?;
            let (key, chain) = contents
                .keys
                .into_iter()
                .next()
                .ok_or("no private key entry in the JKS key store")?;
            Ok((
                chain.into_iter().map(CertificateDer::from).collect(),
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
            ))
        }
        StoreType::Bcfks => {
            Err("BCFKS key stores are not supported; use PEM, PKCS12 or JKS".into())
        }
    }
}

fn pem_identity(
    data: &[u8],
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let certs = CertificateDer::pem_slice_iter(data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("bad PEM certificate: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(data)
        .map_err(|e| format!("no usable private key in the PEM key store: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the PEM key store".into());
    }
    Ok((certs, key))
}

fn pkcs12_identity(
    data: &[u8],
    password: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let policy = p12_keystore::Pkcs12ImportPolicy::default();
    let store = p12_keystore::KeyStore::from_pkcs12(data, password, policy)
        .map_err(|e| format!("bad PKCS12 key store: {e}"))?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or("no private key entry in the PKCS12 key store")?;
    let certs = chain
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
    Ok((certs, key))
}

/// The certificates of a trust store (checked for readability only: 3.8 requests no
/// client certificates).
pub fn load_trust(store: &StoreConfig) -> Result<usize, String> {
    let data = std::fs::read(&store.location)
        .map_err(|e| format!("cannot read trust store {}: {e}", store.location))?;
    match store_type(&store.kind, &store.location)? {
        StoreType::Pem => Ok(CertificateDer::pem_slice_iter(&data)
            .filter(Result::is_ok)
            .count()),
        StoreType::Pkcs12 => {
            p12_keystore::KeyStore::from_pkcs12(&data, &store.secret()?, Default::default())
                .map(|s| s.entries_len())
                .map_err(|e| format!("bad PKCS12 trust store: {e}"))
        }
        StoreType::Jks => crate::server::tls::jks::read(&data, &store.secret()?)
            .map(|c| c.trusted.len() + c.keys.len()),
        StoreType::Bcfks => {
            Err("BCFKS trust stores are not supported; use PEM, PKCS12 or JKS".into())
        }
    }
}

/// The TLS side of the AdminServer from its key (and optional trust) store.
pub fn acceptor(key_store: &StoreConfig, trust_store: &StoreConfig) -> Result<TlsAcceptor, String> {
    if key_store.location.is_empty() {
        return Err("admin HTTPS needs ssl.quorum.keyStore.location".into());
    }
    if !trust_store.location.is_empty() {
        load_trust(trust_store)?;
    }
    let (certs, key) = load_identity(key_store)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the key store's certificate and key do not fit together: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_type_comes_from_the_property_then_the_extension() {
        assert_eq!(store_type("pkcs12", "/x/key.pem"), Ok(StoreType::Pkcs12));
        assert_eq!(store_type("", "/x/key.p12"), Ok(StoreType::Pkcs12));
        assert_eq!(store_type("", "/x/key.pem"), Ok(StoreType::Pem));
        assert_eq!(store_type("", "/x/key.jks"), Ok(StoreType::Jks));
        assert!(store_type("", "/x/key.pfx").is_err());
        assert!(store_type("DER", "/x/key.pem").is_err());
    }

    #[test]
    fn store_properties_use_the_quorum_prefix() {
        let props: BTreeMap<String, String> = [
            ("zookeeper.ssl.quorum.keyStore.location", "/k.p12"),
            ("zookeeper.ssl.quorum.keyStore.password", "pw "),
            ("zookeeper.ssl.quorum.trustStore.type", "PEM"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let k = StoreConfig::from_properties(&props, "zookeeper.ssl.quorum.", "keyStore");
        assert_eq!((k.location.as_str(), k.password.as_str()), ("/k.p12", "pw"));
        assert_eq!(
            StoreConfig::from_properties(&props, "zookeeper.ssl.quorum.", "trustStore").kind,
            "PEM"
        );
    }

    #[test]
    fn password_falls_back_to_the_password_file() {
        let path = std::env::temp_dir().join(format!("rzk-pw-{}", std::process::id()));
        std::fs::write(&path, "s3cret\n").unwrap();
        let store = StoreConfig {
            password_path: path.display().to_string(),
            ..Default::default()
        };
        assert_eq!(store.secret(), Ok("s3cret".into()));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn missing_key_store_is_an_error() {
        let none = StoreConfig::default();
        assert!(acceptor(&none, &none).is_err());
        let absent = StoreConfig {
            location: "/nonexistent/k.pem".into(),
            ..Default::default()
        };
        assert!(acceptor(&absent, &none)
            .err()
            .is_some_and(|e| e.contains("cannot read key store")));
    }
}
