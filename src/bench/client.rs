//! One benchmark session: the connect handshake, then requests written in batches and
//! replies read as whole frames, on the project's own codec (`proto::codec`).
//!
//! Stands in for the part of Apache ZooKeeper's `ClientCnxn` a load generator needs: no
//! reconnects, no watch bookkeeping, nothing decoded beyond the reply header unless the
//! caller asks, so the generator spends its share of the CPU on the server's behalf.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BufMut, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::jute::frame::{split_frame, Limits};
use crate::proto::codec::{
    decode_connect_response, decode_reply, encode_connect_request, encode_request, reply_header,
};
use crate::proto::{ConnectRequest, ReplyHeader, Request, Response};

/// Xid of watch notifications (`ClientCnxn`'s `NOTIFICATION_XID`).
pub const NOTIFICATION_XID: i32 = -1;
/// Xid of pings (`ClientCnxn`'s `PING_XID`).
pub const PING_XID: i32 = -2;
/// How long any single wait may take before the run is declared broken.
const WAIT: Duration = Duration::from_secs(30);

fn broken(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

pub struct BenchConn {
    stream: TcpStream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    pub session_id: i64,
    xid: i32,
    max_frame: usize,
}

impl BenchConn {
    /// Connects and establishes a new session of `timeout_ms`.
    pub async fn connect(addr: SocketAddr, timeout_ms: i32) -> io::Result<BenchConn> {
        let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
            .await
            .map_err(|_| broken("connect timed out"))??;
        stream.set_nodelay(true)?;
        let max_frame = Limits::default().max_frame.max(64 << 20);
        let mut c = BenchConn {
            stream,
            rbuf: BytesMut::with_capacity(64 << 10),
            wbuf: BytesMut::new(),
            session_id: 0,
            xid: 0,
            max_frame,
        };
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms,
            session_id: 0,
            passwd: vec![0; 16],
            read_only: Some(false),
        };
        encode_connect_request(&req, &mut c.wbuf);
        c.flush().await?;
        let body = c.next_frame().await?;
        let rsp = decode_connect_response(&body)
            .map_err(|e| broken(&format!("connect response: {e}")))?;
        if rsp.timeout_ms <= 0 {
            return Err(broken("session refused"));
        }
        c.session_id = rsp.session_id;
        Ok(c)
    }

    pub fn next_xid(&mut self) -> i32 {
        self.xid = self.xid.wrapping_add(1).max(1);
        self.xid
    }

    /// Queues `req` (not yet written); returns its xid.
    pub fn queue(&mut self, req: &Request) -> i32 {
        let xid = match req {
            Request::Ping => PING_XID,
            _ => self.next_xid(),
        };
        encode_request(xid, req, &mut self.wbuf);
        xid
    }

    /// Queues a pre-encoded request frame (see [`template`]) under a fresh xid.
    pub fn queue_template(&mut self, frame: &[u8]) -> i32 {
        let xid = self.next_xid();
        put_template(&mut self.wbuf, frame, xid);
        xid
    }

    /// The buffer of queued, unwritten requests (to encode into it directly).
    pub fn queued_mut(&mut self) -> &mut BytesMut {
        &mut self.wbuf
    }

    /// The established session's socket as a blocking std stream, with whatever reply
    /// bytes were already read, for runs paced by OS threads instead of tokio's
    /// millisecond timer.
    pub fn into_std(self) -> io::Result<(std::net::TcpStream, BytesMut)> {
        let s = self.stream.into_std()?;
        s.set_nonblocking(false)?;
        s.set_read_timeout(Some(WAIT))?;
        Ok((s, self.rbuf))
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            self.stream.write_all(&self.wbuf).await?;
            self.wbuf.clear();
        }
        Ok(())
    }

    /// True when a whole frame is already buffered (reading it will not wait).
    pub fn has_frame(&self) -> bool {
        matches!(split_frame(&self.rbuf, self.max_frame), Ok(Some(_)))
    }

    /// The next frame body.
    pub async fn next_frame(&mut self) -> io::Result<BytesMut> {
        loop {
            match split_frame(&self.rbuf, self.max_frame) {
                Ok(Some((len, _))) => {
                    self.rbuf.advance(4);
                    return Ok(self.rbuf.split_to(len));
                }
                Ok(None) => {}
                Err(e) => return Err(broken(&e.to_string())),
            }
            if self.rbuf.capacity() - self.rbuf.len() < 16 << 10 {
                self.rbuf.reserve(64 << 10);
            }
            let n = tokio::time::timeout(WAIT, self.stream.read_buf(&mut self.rbuf))
                .await
                .map_err(|_| broken("no reply within 30 s"))??;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed the connection",
                ));
            }
        }
    }

    /// The next frame's reply header (notifications included: xid -1).
    pub async fn next_header(&mut self) -> io::Result<ReplyHeader> {
        let body = self.next_frame().await?;
        reply_header(&body)
            .map(|(_, h)| h)
            .map_err(|_| broken("short reply header"))
    }

    /// Sends `req` alone and waits for its decoded reply, skipping notifications.
    pub async fn call(&mut self, req: &Request) -> io::Result<(ReplyHeader, Response)> {
        let xid = self.queue(req);
        self.flush().await?;
        loop {
            let body = self.next_frame().await?;
            let (_, hdr) = reply_header(&body).map_err(|_| broken("short reply header"))?;
            if hdr.xid == xid {
                return decode_reply(&body, req.op_code(), &Limits::default())
                    .map_err(|e| broken(&e.to_string()));
            }
        }
    }

    /// Waits for the next watch notification, skipping other frames.
    pub async fn next_notification(&mut self) -> io::Result<()> {
        while self.next_header().await?.xid != NOTIFICATION_XID {}
        Ok(())
    }

    /// Closes the session (closeSession, then its reply); errors are of no interest.
    pub async fn close(mut self) {
        if self.call(&Request::CloseSession).await.is_ok() {
            let _ = self.stream.shutdown().await;
        }
    }
}

/// Closes every session, all at once (closeSession is a logged write on both servers:
/// one at a time, a thousand of them would take a thousand fsyncs).
pub async fn close_all(conns: Vec<BenchConn>) {
    futures::future::join_all(conns.into_iter().map(BenchConn::close)).await;
}

/// Encodes `req` once, to be sent many times through [`BenchConn::queue_template`].
pub fn template(req: &Request) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_request(0, req, &mut out);
    out.to_vec()
}

/// Appends a [`template`] frame to `out` under `xid`.
pub fn put_template(out: &mut BytesMut, frame: &[u8], xid: i32) {
    let start = out.len();
    out.extend_from_slice(frame);
    if let Some(slot) = out.get_mut(start + 4..start + 8) {
        slot.copy_from_slice(&xid.to_be_bytes());
    }
}

/// `n` bytes of a recognisable payload.
pub fn payload(n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        v.put_u8(b'a' + (i % 26) as u8);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::codec::{decode_request, decode_request_header};
    use crate::proto::PathWatchRequest;

    #[test]
    fn template_requests_decode_like_fresh_ones() {
        let req = Request::GetData(PathWatchRequest {
            path: "/a".into(),
            watch: false,
        });
        let mut frame = template(&req);
        frame[4..8].copy_from_slice(&7i32.to_be_bytes());
        let (hdr, rest) = decode_request_header(&frame[4..]).expect("header");
        assert_eq!(hdr.xid, 7);
        assert_eq!(decode_request(&hdr, rest, &Limits::default()), Ok(req));
    }

    #[test]
    fn payload_has_the_asked_size() {
        assert_eq!(payload(1024).len(), 1024);
    }
}
