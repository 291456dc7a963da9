//! TLS on the client ports (`NettyServerCnxnFactory` with `secure=true`, its
//! `DualModeSslHandler` for `client.portUnification`, `SSLContextAndOptions`,
//! `CertificateVerifier`), with rustls.
//!
//! The context is built once at start from [`TlsSettings`]: key store, trust store,
//! `ssl.clientAuth`, the enabled protocols and cipher suites. After a handshake the
//! client's certificate, when it presented one, gives the connection its `x509` (and
//! possibly `super`) id, as `X509AuthenticationProvider.handleAuthentication` does.

pub mod jks;
pub mod stores;

use crate::auth::x509;
use crate::config::tls::{ClientAuth, TlsSettings};
use crate::proto::Id;
use rustls::crypto::{ring, CryptoProvider};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

/// `X509Util`'s default cipher suites for Java 9+ (GCM first, then CBC); rustls has
/// the GCM ones.
const JAVA_DEFAULT_CIPHERS: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
];

/// The first byte of a TLS handshake record (`NettyServerCnxnFactory.TLS_HANDSHAKE_RECORD_TYPE`).
pub const TLS_HANDSHAKE_RECORD_TYPE: u8 = 0x16;

/// What the listeners need to run TLS.
pub struct TlsContext {
    acceptor: TlsAcceptor,
    /// A client certificate was asked for (`want` or `need` with a trust store).
    asks_for_certificate: bool,
    super_user: Option<String>,
}

impl std::fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsContext")
            .field("asks_for_certificate", &self.asks_for_certificate)
            .finish()
    }
}

impl TlsContext {
    /// Reads the stores and builds the rustls configuration; the error names the
    /// setting at fault.
    pub fn from_settings(s: &TlsSettings) -> Result<TlsContext, String> {
        let provider = Arc::new(provider_for(s)?);
        let versions = protocol_versions(&s.enabled_protocols)?;
        let store = s.key_store.as_ref().ok_or(
            "ssl.keyStore.location: not set; the TLS port needs the server's certificate and key",
        )?;
        let identity = stores::load_identity(store)?;
        let (verifier, asks) = client_verifier(s, &provider)?;
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(|e| format!("ssl.enabledProtocols / ssl.ciphersuites: {e}"))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(identity.chain, identity.key)
            .map_err(|e| stores::failure(store, key_hint(e)))?;
        Ok(TlsContext {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            asks_for_certificate: asks,
            super_user: s.super_user.clone(),
        })
    }

    /// The handshake, then the ids its client certificate gives (`CertificateVerifier`).
    /// An error means the connection must be closed.
    pub async fn accept<S>(&self, stream: S) -> Result<(TlsStream<S>, Vec<Id>), String>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let tls = self
            .acceptor
            .accept(stream)
            .await
            .map_err(|e| format!("Unsuccessful handshake: {e}"))?;
        if !self.asks_for_certificate {
            return Ok((tls, Vec::new()));
        }
        let leaf = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
        let ids = match leaf {
            // `want` and no certificate: the connection goes on without an x509 id.
            None => Vec::new(),
            Some(cert) => x509::client_ids(cert, self.super_user.as_deref())
                .map_err(|e| format!("Authentication failed: {e}"))?,
        };
        for id in ids.iter().filter(|id| id.scheme == "x509") {
            info!("Authenticated Id '{}' for Scheme 'x509'", id.id);
        }
        Ok((tls, ids))
    }
}

/// ring reads EC keys only with their public key, which Java's encoding (keytool)
/// leaves out: say how to get a key rzk can read.
fn key_hint(e: rustls::Error) -> String {
    let text = e.to_string();
    if !text.contains("failed to parse private key") {
        return text;
    }
    format!(
        "{text}; an EC key written by keytool lacks its public key: use an RSA key (keytool -keyalg RSA), or re-encode it \
         with `openssl pkcs12 -in ks.p12 -nodes -out ks.pem` and use the PEM file (ssl.keyStore.type=PEM)"
    )
}

/// The ring provider limited to the configured cipher suites.
fn provider_for(s: &TlsSettings) -> Result<CryptoProvider, String> {
    let mut provider = ring::default_provider();
    let wanted: Vec<String> = match &s.cipher_suites {
        Some(list) => list.clone(),
        None => {
            // Java's list has no TLS 1.3 suite; keep rustls's so TLSv1.3 works when enabled.
            let mut l: Vec<String> = JAVA_DEFAULT_CIPHERS.iter().map(|c| c.to_string()).collect();
            l.extend(
                provider
                    .cipher_suites
                    .iter()
                    .filter(|c| c.tls13().is_some())
                    .map(|c| iana_name(c.suite())),
            );
            l
        }
    };
    let unknown: Vec<&String> = wanted
        .iter()
        .filter(|w| {
            !provider
                .cipher_suites
                .iter()
                .any(|c| &iana_name(c.suite()) == *w)
        })
        .collect();
    if !unknown.is_empty() && s.cipher_suites.is_some() {
        warn!("ssl.ciphersuites: not available in rzk, skipped: {unknown:?}");
    }
    provider
        .cipher_suites
        .retain(|c| wanted.contains(&iana_name(c.suite())));
    if provider.cipher_suites.is_empty() {
        return Err(format!("ssl.ciphersuites: none of {wanted:?} is available (rustls has the ECDHE GCM and CHACHA20 suites and the TLS 1.3 suites)"));
    }
    Ok(provider)
}

/// The IANA name Java uses for a suite (`TLS_AES_128_GCM_SHA256`, not rustls's
/// `TLS13_AES_128_GCM_SHA256`).
fn iana_name(suite: rustls::CipherSuite) -> String {
    let name = suite
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{suite:?}"));
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// `ssl.enabledProtocols` (or `ssl.protocol`) as rustls versions. `TLS` stands for every
/// version; TLSv1.1 and older are not offered by rustls.
fn protocol_versions(enabled: &[String]) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    let mut out: Vec<&'static SupportedProtocolVersion> = Vec::new();
    for p in enabled {
        let add: &[&'static SupportedProtocolVersion] = match p.as_str() {
            "TLSv1.2" => &[&rustls::version::TLS12],
            "TLSv1.3" => &[&rustls::version::TLS13],
            "TLS" => &[&rustls::version::TLS13, &rustls::version::TLS12],
            other => {
                warn!("ssl.enabledProtocols: {other} is not available in rzk, skipped");
                &[]
            }
        };
        for v in add {
            if !out.iter().any(|o| o.version == v.version) {
                out.push(v);
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "ssl.enabledProtocols: none of {enabled:?} is available (rzk has TLSv1.2 and TLSv1.3)"
        ));
    }
    Ok(out)
}

/// `ssl.clientAuth` with the trust store: the verifier and whether it asks for a
/// certificate.
fn client_verifier(
    s: &TlsSettings,
    provider: &Arc<CryptoProvider>,
) -> Result<(Arc<dyn rustls::server::danger::ClientCertVerifier>, bool), String> {
    if s.client_auth == ClientAuth::None {
        return Ok((WebPkiClientVerifier::no_client_auth(), false));
    }
    let Some(store) = s.trust_store.as_ref() else {
        if s.client_auth == ClientAuth::Need {
            return Err("ssl.trustStore.location: not set, but ssl.clientAuth is need (the default): client certificates cannot be verified; set a trust store or ssl.clientAuth=none".into());
        }
        warn!("ssl.clientAuth=want without ssl.trustStore.location: client certificates are not asked for");
        return Ok((WebPkiClientVerifier::no_client_auth(), false));
    };
    let mut roots = RootCertStore::empty();
    for cert in stores::load_trusted(store)? {
        roots.add(cert).map_err(|e| stores::failure(store, e))?;
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    let builder = if s.client_auth == ClientAuth::Want {
        builder.allow_unauthenticated()
    } else {
        builder
    };
    let verifier = builder.build().map_err(|e| stores::failure(store, e))?;
    Ok((verifier, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_names_are_the_iana_ones_java_uses() {
        let names: Vec<String> = ring::default_provider()
            .cipher_suites
            .iter()
            .map(|c| iana_name(c.suite()))
            .collect();
        assert!(names.contains(&"TLS_AES_128_GCM_SHA256".to_string()));
        assert!(names.contains(&"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".to_string()));
    }

    #[test]
    fn protocols_map_to_rustls_versions() {
        let v = protocol_versions(&["TLSv1.2".into()]).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(protocol_versions(&["TLS".into()]).unwrap().len(), 2);
        assert!(protocol_versions(&["TLSv1.1".into(), "SSLv3".into()]).is_err());
    }
}
