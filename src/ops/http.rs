//! A small HTTP/1.1 server for the AdminServer and the metrics endpoint (Apache
//! ZooKeeper embeds Jetty for both). One request per connection, answered with
//! `Connection: close`; that is all `curl`, monitoring agents and Prometheus need.
//! Optionally over TLS ([`serve_tls`]).

use super::tls::HSTS;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tracing::debug;

/// The largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub params: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Response {
    pub fn ok(content_type: &'static str, body: String) -> Response {
        Response {
            status: 200,
            content_type,
            body,
        }
    }

    pub fn not_found() -> Response {
        Response {
            status: 404,
            content_type: "text/html;charset=iso-8859-1",
            body: "Not Found\n".into(),
        }
    }
}

/// Parses the request line of `head` (`GET /path?k=v HTTP/1.1`).
pub fn parse_request(head: &str) -> Option<Request> {
    let line = head.lines().next()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    Some(Request {
        method,
        path: percent_decode(path),
        params,
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    }
}

/// Accepts connections until the listener fails; each request goes to `handler`.
pub async fn serve<H, F>(listener: TcpListener, idle: Duration, handler: H)
where
    H: Fn(Request) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send,
{
    serve_tls(listener, idle, None, handler).await
}

/// TLS on an HTTP port: the acceptor, and whether plain HTTP is served too.
#[derive(Clone)]
pub struct Tls {
    pub acceptor: TlsAcceptor,
    pub unified: bool,
    /// Where a plain connection on a unified port is counted (`insecure_admin_count`,
    /// as `UnifiedConnectionFactory.newConnection` does).
    pub insecure: Option<tokio::sync::mpsc::Sender<crate::node::driver::Event>>,
}

/// [`serve`] with optional TLS (the AdminServer's `forceHttps` / `portUnification`).
pub async fn serve_tls<H, F>(listener: TcpListener, idle: Duration, tls: Option<Tls>, handler: H)
where
    H: Fn(Request) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send,
{
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let (handler, tls) = (handler.clone(), tls.clone());
        tokio::spawn(async move {
            if let Err(e) = tokio::time::timeout(idle, connection(stream, tls, handler))
                .await
                .unwrap_or(Ok(()))
            {
                debug!("http connection from {peer}: {e}");
            }
        });
    }
}

/// A TLS record starts with the handshake content type 22 (`UnifiedConnectionFactory`
/// looks at the same byte).
const TLS_HANDSHAKE: u8 = 0x16;

async fn connection<H, F>(stream: TcpStream, tls: Option<Tls>, handler: H) -> std::io::Result<()>
where
    H: Fn(Request) -> F,
    F: Future<Output = Response>,
{
    let Some(tls) = tls else {
        return one(stream, false, handler).await;
    };
    if tls.unified {
        let mut first = [0u8; 1];
        if stream.peek(&mut first).await? == 0 {
            return Ok(());
        }
        if first[0] != TLS_HANDSHAKE {
            if let Some(core) = &tls.insecure {
                crate::server::conn::count(
                    core,
                    crate::node::recorded::Counter::InsecureAdminCount,
                )
                .await;
            }
            return one(stream, false, handler).await;
        }
    }
    let stream = tls.acceptor.accept(stream).await?;
    one(stream, true, handler).await
}

async fn one<S, H, F>(mut stream: S, secure: bool, handler: H) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
    H: Fn(Request) -> F,
    F: Future<Output = Response>,
{
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() > MAX_HEAD {
            return Ok(());
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    let resp = match parse_request(&String::from_utf8_lossy(&head)) {
        Some(req) if req.method == "GET" || req.method == "POST" || req.method == "HEAD" => {
            handler(req).await
        }
        Some(_) => Response {
            status: 405,
            content_type: "text/plain",
            body: String::new(),
        },
        None => Response {
            status: 400,
            content_type: "text/plain",
            body: String::new(),
        },
    };
    let hsts = if secure {
        format!("{HSTS}\r\n")
    } else {
        String::new()
    };
    let out = format!(
        "HTTP/1.1 {} {}\r\n{hsts}Content-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        resp.status,
        reason(resp.status),
        resp.content_type,
        resp.body.len(),
        resp.body
    );
    stream.write_all(out.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_path_and_query() {
        let r =
            parse_request("GET /commands/stmk?traceMask=306&x=a%20b HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/commands/stmk");
        assert_eq!(r.params.get("traceMask").map(String::as_str), Some("306"));
        assert_eq!(r.params.get("x").map(String::as_str), Some("a b"));
    }

    #[test]
    fn garbage_is_not_a_request() {
        assert_eq!(parse_request(""), None);
        assert_eq!(parse_request("GET"), None);
    }
}
