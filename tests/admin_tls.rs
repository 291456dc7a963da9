//! The AdminServer over HTTPS (`admin.forceHttps`, `admin.portUnification`) with the
//! certificate from the quorum key store, in PEM and PKCS#12 form.

mod support;

use rustls::pki_types::{CertificateDer, ServerName};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use support::*;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

struct Identity {
    cert_der: Vec<u8>,
    cert_pem: String,
    key_der: Vec<u8>,
    key_pem: String,
}

fn identity() -> Identity {
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    Identity {
        cert_der: ck.cert.der().to_vec(),
        cert_pem: ck.cert.pem(),
        key_der: ck.key_pair.serialize_der(),
        key_pem: ck.key_pair.serialize_pem(),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rzk-admin-tls-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

fn write_pem(id: &Identity) -> PathBuf {
    let path = scratch("admin.pem");
    std::fs::write(&path, format!("{}{}", id.key_pem, id.cert_pem)).expect("pem written");
    path
}

fn write_pkcs12(id: &Identity, password: &str) -> PathBuf {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let cert = Certificate::from_der(&id.cert_der).expect("cert");
    let key = PrivateKey::from_der(&id.key_der).expect("key");
    let mut store = KeyStore::new();
    store.add_entry(
        "admin",
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(b"1".to_vec(), key, vec![cert])),
    );
    let path = scratch("admin.p12");
    std::fs::write(&path, store.writer(password).write().expect("pkcs12")).expect("p12 written");
    path
}

/// The AdminServer starts in the background of the server: wait for its port.
async fn connect(port: u16) -> TcpStream {
    for _ in 0..100 {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)).await {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the AdminServer did not open port {port}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

async fn get<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, path: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn https_get(port: u16, cert_der: &[u8], path: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert_der.to_vec()))
        .expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = connect(port).await;
    let name = ServerName::try_from("localhost").expect("name");
    match tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
    {
        Ok(tls) => get(tls, path).await,
        Err(e) => format!("handshake failed: {e}"),
    }
}

async fn http_get(port: u16, path: &str) -> String {
    get(connect(port).await, path).await
}

fn admin_cfg(port: u16, mode: &str, store: &Path, password: &str) -> String {
    format!(
        "admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort={port}\n{mode}=true\n\
         ssl.quorum.keyStore.location={}\nssl.quorum.keyStore.password={password}\n",
        store.display()
    )
}

#[tokio::test]
async fn force_https_serves_commands_over_tls_only() {
    let id = identity();
    let port = free_port();
    let srv = start_server(&admin_cfg(port, "admin.forceHttps", &write_pem(&id), "")).await;
    let answer = https_get(port, &id.cert_der, "/commands/ruok").await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        answer.contains("Strict-Transport-Security: max-age=86400; includeSubDomains\r\n"),
        "{answer}"
    );
    assert!(answer.contains("\"command\" : \"ruok\""), "{answer}");
    let plain = http_get(port, "/commands/ruok").await;
    assert!(
        !plain.starts_with("HTTP/1.1 200"),
        "plain HTTP must not be served: {plain}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn port_unification_serves_https_and_http_on_one_port_from_pkcs12() {
    let id = identity();
    let port = free_port();
    let srv = start_server(&admin_cfg(
        port,
        "admin.portUnification",
        &write_pkcs12(&id, "changeit"),
        "changeit",
    ))
    .await;
    let secure = https_get(port, &id.cert_der, "/commands/srvr").await;
    assert!(
        secure.starts_with("HTTP/1.1 200 OK\r\n") && secure.contains("\"server_stats\""),
        "{secure}"
    );
    let plain = http_get(port, "/commands/ruok").await;
    assert!(
        plain.starts_with("HTTP/1.1 200 OK\r\n") && !plain.contains("Strict-Transport-Security"),
        "{plain}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_wrong_key_store_password_leaves_the_server_without_admin_server() {
    let id = identity();
    let port = free_port();
    let srv = start_server(&admin_cfg(
        port,
        "admin.forceHttps",
        &write_pkcs12(&id, "changeit"),
        "wrong",
    ))
    .await;
    assert_eq!(
        four_letter(srv.addr, "srvr").await.lines().last(),
        Some("Node count: 5"),
        "the server itself runs"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "no AdminServer without its key"
    );
    srv.stop().await;
}
