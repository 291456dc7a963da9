//! Reading key stores and trust stores (`FileKeyStoreLoader`, `PEMFileLoader`,
//! `PKCS12FileLoader`, `PemReader`): the server's certificate chain and private key, and
//! the certificates client chains are verified against.
//!
//! PEM key stores hold the private key (PKCS#8, encrypted PKCS#8 when a password is
//! set; rzk also takes PKCS#1 and SEC1 keys) and the certificate chain in one file, as
//! `PEMFileLoader` reads them. PKCS12 stores are read with `p12-keystore`, JKS stores by
//! `super::jks`. BCFKS is refused earlier, by the configuration (`config::tls`).

use crate::config::tls::{Store, StoreType};
use base64::Engine;
use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};

/// The server's identity.
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// Why a store cannot be used: `key: reason`, ready for the start-up error.
pub fn failure(store: &Store, why: impl std::fmt::Display) -> String {
    format!("{}: {}: {why}", store.key, store.location.display())
}

/// The certificate chain and private key of a key store.
pub fn load_identity(store: &Store) -> Result<Identity, String> {
    let data = std::fs::read(&store.location).map_err(|e| failure(store, e))?;
    match store.store_type {
        StoreType::Pem => pem_identity(&data, &store.password).map_err(|e| failure(store, e)),
        StoreType::Pkcs12 => pkcs12_identity(&data, &store.password).map_err(|e| failure(store, e)),
        StoreType::Jks => jks_identity(&data, &store.password).map_err(|e| failure(store, e)),
        StoreType::Bcfks => Err(failure(store, "Java-only store type")),
    }
}

/// The trusted certificates of a trust store.
pub fn load_trusted(store: &Store) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = std::fs::read(&store.location).map_err(|e| failure(store, e))?;
    let certs = match store.store_type {
        StoreType::Pem => pem_sections(&data)
            .into_iter()
            .filter(|(label, _)| label == "CERTIFICATE")
            .map(|(_, der)| CertificateDer::from(der))
            .collect(),
        StoreType::Pkcs12 => {
            pkcs12_trusted(&data, &store.password).map_err(|e| failure(store, e))?
        }
        StoreType::Jks => super::jks::read(&data, &store.password)
            .map_err(|e| failure(store, e))?
            .trusted
            .into_iter()
            .map(CertificateDer::from)
            .collect(),
        StoreType::Bcfks => return Err(failure(store, "Java-only store type")),
    };
    if certs.is_empty() {
        return Err(failure(store, "holds no certificate"));
    }
    Ok(certs)
}

/// `-----BEGIN <label>-----` … `-----END <label>-----` sections, decoded; text outside
/// the sections (comments, `Bag Attributes` lines of openssl) is skipped.
fn pem_sections(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines().map(str::trim) {
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            current = Some((label.to_string(), String::new()));
        } else if line.starts_with("-----END ") {
            if let Some((label, body)) = current.take() {
                if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body.as_bytes()) {
                    out.push((label, der));
                }
            }
        } else if let Some((_, body)) = current.as_mut() {
            // Encrypted PKCS#1 headers (`Proc-Type:`) are not base64.
            if !line.contains(':') {
                body.push_str(line);
            }
        }
    }
    out
}

fn pem_identity(data: &[u8], password: &str) -> Result<Identity, String> {
    let sections = pem_sections(data);
    let chain: Vec<CertificateDer<'static>> = sections
        .iter()
        .filter(|(l, _)| l == "CERTIFICATE")
        .map(|(_, d)| CertificateDer::from(d.clone()))
        .collect();
    if chain.is_empty() {
        return Err("holds no certificate".into());
    }
    let (label, der) = sections
        .into_iter()
        .find(|(l, _)| l.ends_with("PRIVATE KEY"))
        .ok_or("holds no private key")?;
    let key = match label.as_str() {
        "PRIVATE KEY" => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)),
        "RSA PRIVATE KEY" => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)),
        "EC PRIVATE KEY" => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der)),
        "ENCRYPTED PRIVATE KEY" => {
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(decrypt_pkcs8(&der, password)?))
        }
        other => return Err(format!("unsupported private key kind {other:?}")),
    };
    Ok(Identity { chain, key })
}

/// An `ENCRYPTED PRIVATE KEY` (PKCS#8 `EncryptedPrivateKeyInfo`, PBES2).
fn decrypt_pkcs8(der: &[u8], password: &str) -> Result<Vec<u8>, String> {
    if password.is_empty() {
        return Err("the private key is encrypted and ssl.keyStore.password is empty".into());
    }
    let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der)
        .map_err(|e| format!("bad encrypted private key: {e}"))?;
    let doc = info
        .decrypt(password)
        .map_err(|e| format!("cannot decrypt the private key (wrong password?): {e}"))?;
    Ok(doc.as_bytes().to_vec())
}

fn pkcs12_identity(data: &[u8], password: &str) -> Result<Identity, String> {
    use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
    let store = KeyStore::from_pkcs12(data, password, Pkcs12ImportPolicy::Strict)
        .map_err(|e| format!("cannot read PKCS12: {e}"))?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or("holds no private key with its certificate")?;
    Ok(Identity {
        chain: chain
            .certs()
            .iter()
            .map(|c| CertificateDer::from(c.as_der().to_vec()))
            .collect(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec())),
    })
}

/// The first private key of a JKS store and its chain.
fn jks_identity(data: &[u8], password: &str) -> Result<Identity, String> {
    let contents = super::jks::read(data, password)?;
    let (key, chain) = contents
        .keys
        .into_iter()
        .next()
        .ok_or("holds no private key with its certificate")?;
    Ok(Identity {
        chain: chain.into_iter().map(CertificateDer::from).collect(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
    })
}

/// Certificates that belong to no private key (keytool's `trustedCertEntry`s).
fn pkcs12_trusted(data: &[u8], password: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(data, password)
        .map_err(|e| format!("cannot read PKCS12: {e}"))?;
    Ok(archive
        .certs
        .iter()
        .filter(|c| c.trusted || c.local_key_id.is_none())
        .map(|c| CertificateDer::from(c.cert.as_der().to_vec()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_sections_skip_attributes_and_text() {
        let pem = "Bag Attributes\n    localKeyId: 01\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\njunk\n-----BEGIN PRIVATE KEY-----\nBAU=\n-----END PRIVATE KEY-----\n";
        let got = pem_sections(pem.as_bytes());
        assert_eq!(
            got,
            vec![
                ("CERTIFICATE".into(), vec![1, 2, 3]),
                ("PRIVATE KEY".into(), vec![4, 5])
            ]
        );
    }

    #[test]
    fn pem_identity_needs_a_key_and_a_certificate() {
        assert!(pem_identity(
            b"-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n",
            ""
        )
        .is_err());
        assert!(pem_identity(
            b"-----BEGIN PRIVATE KEY-----\nAQID\n-----END PRIVATE KEY-----\n",
            ""
        )
        .is_err());
    }

    #[test]
    fn garbage_pkcs12_is_an_error() {
        assert!(pkcs12_identity(b"not a pfx", "pw").is_err());
        assert!(pkcs12_trusted(b"", "pw").is_err());
    }
}
