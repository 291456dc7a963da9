//! The TLS client ports: `secureClientPort` with PEM and PKCS12 stores, `ssl.clientAuth`,
//! x509 ids from client certificates (whoAmI, ACLs, the super user), port unification,
//! and start-up failures for unusable stores. Certificates are made at test time.

mod support;

use bytes::{Buf, BytesMut};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rzk::config::{zoo_cfg, Config};
use rzk::jute::frame::Limits;
use rzk::launch::Running;
use rzk::proto::codec::*;
use rzk::proto::*;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A CA, the server's certificate and two client certificates, written as PEM files.
struct Pki {
    dir: PathBuf,
    ca: CertificateDer<'static>,
    alice: (CertificateDer<'static>, PrivateKeyDer<'static>),
    root: (CertificateDer<'static>, PrivateKeyDer<'static>),
    stranger: (CertificateDer<'static>, PrivateKeyDer<'static>),
}

fn leaf(
    dn: &[(DnType, &str)],
    sans: Vec<String>,
    ca: &rcgen::Certificate,
    ca_key: &KeyPair,
) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(sans).unwrap();
    p.distinguished_name = rcgen::DistinguishedName::new();
    for (t, v) in dn {
        p.distinguished_name.push(t.clone(), *v);
    }
    (p.signed_by(&key, ca, ca_key).unwrap(), key)
}

fn der(c: &rcgen::Certificate, k: &KeyPair) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    (
        c.der().clone(),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(k.serialize_der())),
    )
}

fn pki() -> Pki {
    let dir = std::env::temp_dir().join(format!(
        "rzk-tls-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, "rzk test CA");
    let ca = p.self_signed(&ca_key).unwrap();
    let (server, server_key) = leaf(
        &[(DnType::CommonName, "localhost")],
        vec!["localhost".into(), "127.0.0.1".into()],
        &ca,
        &ca_key,
    );
    std::fs::write(
        dir.join("server.pem"),
        format!("{}{}", server_key.serialize_pem(), server.pem()),
    )
    .unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    let alice = leaf(
        &[
            (DnType::CountryName, "US"),
            (DnType::OrganizationName, "Apache"),
            (DnType::CommonName, "alice"),
        ],
        vec![],
        &ca,
        &ca_key,
    );
    let root = leaf(&[(DnType::CommonName, "root")], vec![], &ca, &ca_key);
    // Signed by a CA the server does not trust.
    let other_key = KeyPair::generate().unwrap();
    let mut op = CertificateParams::new(Vec::<String>::new()).unwrap();
    op.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let other = op.self_signed(&other_key).unwrap();
    let stranger = leaf(
        &[(DnType::CommonName, "mallory")],
        vec![],
        &other,
        &other_key,
    );
    Pki {
        ca: ca.der().clone(),
        alice: der(&alice.0, &alice.1),
        root: der(&root.0, &root.1),
        stranger: der(&stranger.0, &stranger.1),
        dir,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tls_lines(pki: &Pki, extra: &str) -> String {
    format!(
        "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\nsecureClientPort={}\nsecureClientPortAddress=127.0.0.1\n\
         ssl.keyStore.location={}\nssl.trustStore.location={}\nX509AuthenticationProvider.superUser=CN=root\n{extra}",
        free_port(),
        pki.dir.join("server.pem").display(),
        pki.dir.join("ca.pem").display(),
    )
}

/// A server with a secure client port picked free just before; tests running alongside
/// may take it in between, so a taken port is picked again (a few times).
async fn start(pki: &Pki, extra: &str) -> Running {
    for _ in 0..4 {
        match support::try_start_server(&tls_lines(pki, extra)).await {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            started => return started.expect("server starts"),
        }
    }
    support::start_server(&tls_lines(pki, extra)).await
}

fn client_config(
    pki: &Pki,
    cert: Option<&(CertificateDer<'static>, PrivateKeyDer<'static>)>,
) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    let b = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    Arc::new(match cert {
        Some((c, k)) => b
            .with_client_auth_cert(vec![c.clone()], k.clone_key())
            .unwrap(),
        None => b.with_no_client_auth(),
    })
}

/// A ZooKeeper session over any stream.
struct Session<S> {
    stream: S,
    buf: BytesMut,
    xid: i32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    async fn open(stream: S) -> Option<Session<S>> {
        let mut s = Session {
            stream,
            buf: BytesMut::new(),
            xid: 0,
        };
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms: 30_000,
            session_id: 0,
            passwd: vec![0; 16],
            read_only: Some(false),
        };
        let mut out = BytesMut::new();
        encode_connect_request(&req, &mut out);
        s.stream.write_all(&out).await.ok()?;
        let rsp = decode_connect_response(&s.frame().await?).ok()?;
        (rsp.timeout_ms > 0).then_some(s)
    }

    async fn frame(&mut self) -> Option<BytesMut> {
        loop {
            if self.buf.len() >= 4 {
                let len = i32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]])
                    as usize;
                if self.buf.len() >= 4 + len {
                    self.buf.advance(4);
                    return Some(self.buf.split_to(len));
                }
            }
            let n = tokio::time::timeout(WAIT, self.stream.read_buf(&mut self.buf))
                .await
                .ok()?
                .ok()?;
            if n == 0 {
                return None;
            }
        }
    }

    async fn call(&mut self, req: Request) -> (ReplyHeader, Response) {
        self.xid += 1;
        let op = req.op_code();
        let mut out = BytesMut::new();
        encode_request(self.xid, &req, &mut out);
        self.stream.write_all(&out).await.unwrap();
        let body = self.frame().await.expect("a reply");
        decode_reply(&body, op, &Limits::default()).expect("reply decodes")
    }

    async fn whoami(&mut self) -> Vec<(String, String)> {
        match self.call(Request::WhoAmI).await.1 {
            Response::WhoAmI(v) => v.into_iter().map(|c| (c.auth_scheme, c.user)).collect(),
            other => panic!("unexpected {other:?}"),
        }
    }

    async fn create(&mut self, path: &str, acl: Vec<Acl>) -> i32 {
        let req = CreateRequest {
            path: path.into(),
            data: Some(b"x".to_vec()),
            acl,
            flags: 0,
        };
        self.call(Request::Create(req)).await.0.err
    }

    async fn get(&mut self, path: &str) -> i32 {
        self.call(Request::GetData(PathWatchRequest {
            path: path.into(),
            watch: false,
        }))
        .await
        .0
        .err
    }
}

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

async fn tls_connect(addr: SocketAddr, cfg: Arc<rustls::ClientConfig>) -> std::io::Result<Tls> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    tokio::time::timeout(
        WAIT,
        tokio_rustls::TlsConnector::from(cfg).connect(name, tcp),
    )
    .await?
}

async fn tls_session(addr: SocketAddr, cfg: Arc<rustls::ClientConfig>) -> Option<Session<Tls>> {
    Session::open(tls_connect(addr, cfg).await.ok()?).await
}

#[tokio::test]
async fn client_certificate_gives_an_x509_id_and_acls_follow_it() {
    let pki = pki();
    let server = start(&pki, "").await;
    let secure = server.secure_addr.expect("secure port bound");
    let mut alice = tls_session(secure, client_config(&pki, Some(&pki.alice)))
        .await
        .expect("alice connects");
    let who = alice.whoami().await;
    assert!(
        who.contains(&("x509".into(), "CN=alice,O=Apache,C=US".into())),
        "{who:?}"
    );
    assert!(who.contains(&("ip".into(), "127.0.0.1".into())), "{who:?}");
    let acl = vec![Acl::new(31, "x509", "CN=alice,O=Apache,C=US")];
    assert_eq!(alice.create("/mine", acl).await, 0);
    assert_eq!(alice.get("/mine").await, 0);
    // Plain port: same tree, no x509 id.
    let mut plain = Session::open(TcpStream::connect(server.addr).await.unwrap())
        .await
        .unwrap();
    assert_eq!(plain.get("/mine").await, ErrorCode::NoAuth as i32);
    let mut root = tls_session(secure, client_config(&pki, Some(&pki.root)))
        .await
        .unwrap();
    let who = root.whoami().await;
    assert!(
        who.contains(&("super".into(), String::new()))
            && who.contains(&("x509".into(), "CN=root".into())),
        "{who:?}"
    );
    assert_eq!(root.get("/mine").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn need_refuses_clients_without_a_trusted_certificate() {
    let pki = pki();
    let server = start(&pki, "").await;
    let secure = server.secure_addr.unwrap();
    assert!(tls_session(secure, client_config(&pki, None))
        .await
        .is_none());
    assert!(
        tls_session(secure, client_config(&pki, Some(&pki.stranger)))
            .await
            .is_none()
    );
    assert!(tls_session(secure, client_config(&pki, Some(&pki.alice)))
        .await
        .is_some());
    server.stop().await;
}

#[tokio::test]
async fn want_lets_anonymous_clients_in_and_none_ignores_certificates() {
    let pki = pki();
    let server = start(&pki, "ssl.clientAuth=want\n").await;
    let mut anon = tls_session(server.secure_addr.unwrap(), client_config(&pki, None))
        .await
        .expect("anonymous allowed");
    assert!(!anon.whoami().await.iter().any(|(s, _)| s == "x509"));
    server.stop().await;
    let server = start(&pki, "ssl.clientAuth=none\n").await;
    let mut alice = tls_session(
        server.secure_addr.unwrap(),
        client_config(&pki, Some(&pki.alice)),
    )
    .await
    .unwrap();
    assert!(!alice.whoami().await.iter().any(|(s, _)| s == "x509"));
    server.stop().await;
}

#[tokio::test]
async fn port_unification_serves_tls_and_plain_on_the_client_port() {
    let pki = pki();
    let server = start(&pki, "client.portUnification=true\n").await;
    let mut tls = tls_session(server.addr, client_config(&pki, Some(&pki.alice)))
        .await
        .expect("TLS on the client port");
    assert!(tls.whoami().await.iter().any(|(s, _)| s == "x509"));
    let mut plain = Session::open(TcpStream::connect(server.addr).await.unwrap())
        .await
        .expect("plain on the client port");
    assert_eq!(plain.get("/").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn four_letter_words_work_over_tls() {
    let pki = pki();
    let server = start(&pki, "").await;
    let mut s = tls_connect(
        server.secure_addr.unwrap(),
        client_config(&pki, Some(&pki.alice)),
    )
    .await
    .unwrap();
    s.write_all(b"ruok").await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(WAIT, s.read_to_string(&mut out))
        .await
        .unwrap()
        .ok();
    assert_eq!(out, "imok");
    server.stop().await;
}

fn config(pki: &Pki, extra: &str) -> Result<Config, String> {
    let text = format!(
        "tickTime=200\ndataDir={}\nclientPort=0\n{}",
        pki.dir.join("data").display(),
        tls_lines(pki, extra)
    );
    Config::from_entries("zoo.cfg", &zoo_cfg::parse(&text), &BTreeMap::new())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn unusable_stores_stop_the_start_with_the_setting_named() {
    let pki = pki();
    let bcfks = config(&pki, "ssl.keyStore.type=BCFKS\n").unwrap_err();
    assert!(
        bcfks.starts_with("zoo.cfg:")
            && bcfks.contains("ssl.keyStore.type: BCFKS stores are not read")
            && bcfks.contains("keytool -importkeystore"),
        "{bcfks}"
    );
    let missing = Path::new("/nonexistent/ks.pem").display().to_string();
    let cfg = config(&pki, &format!("ssl.keyStore.location={missing}\n")).unwrap();
    let err = Running::start(cfg, None).await.err().map(|e| e.to_string());
    // The bad store is found before the port serves.
    match err {
        Some(e) => assert!(e.contains("ssl.keyStore.location"), "{e}"),
        None => panic!("server started with a missing key store"),
    }
}

#[tokio::test]
async fn pkcs12_key_store_is_read() {
    let pki = pki();
    let Ok(out) = std::process::Command::new("openssl")
        .args(["pkcs12", "-export", "-passout", "pass:secret", "-in"])
        .arg(pki.dir.join("server.pem"))
        .arg("-out")
        .arg(pki.dir.join("server.p12"))
        .output()
    else {
        eprintln!("no openssl; skipped");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let extra = format!(
        "ssl.keyStore.location={}\nssl.keyStore.password=secret\n",
        pki.dir.join("server.p12").display()
    );
    let server = start(&pki, &extra).await;
    assert!(tls_session(
        server.secure_addr.unwrap(),
        client_config(&pki, Some(&pki.alice))
    )
    .await
    .is_some());
    server.stop().await;
}
