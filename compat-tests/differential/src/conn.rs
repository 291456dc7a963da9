//! One client connection over the project's own codec, blocking and with bounded waits:
//! what the driver needs to issue one request at a time and see every frame the server
//! sends in the order it sent them (the role of `ClientCnxn` in the Java client).

use bytes::BytesMut;
use rzk::jute::Limits;
use rzk::proto::codec::{
    decode_connect_response, decode_notification, decode_reply, encode_connect_request,
    encode_request,
};
use rzk::proto::{
    ConnectRequest, ConnectResponse, OpCode, ReplyHeader, Request, Response, WatcherEvent,
};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// What one read produced.
#[derive(Debug)]
pub enum Frame {
    Reply(ReplyHeader, Response),
    Event(i64, WatcherEvent),
    /// A frame that did not decode for the op it was read for.
    Garbage(String),
    Eof,
    Timeout,
}

pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    pub eof: bool,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::new(),
            eof: false,
        })
    }

    /// Sends a `ConnectRequest` and reads the response (`None` on EOF or timeout).
    pub fn handshake(&mut self, req: &ConnectRequest, wait: Duration) -> Option<ConnectResponse> {
        let mut out = BytesMut::new();
        encode_connect_request(req, &mut out);
        self.write(&out);
        let body = self.frame(wait).ok()?;
        decode_connect_response(&body).ok()
    }

    pub fn send(&mut self, xid: i32, req: &Request) {
        let mut out = BytesMut::new();
        encode_request(xid, req, &mut out);
        self.write(&out);
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.stream.write_all(bytes).is_err() {
            self.eof = true;
        }
    }

    /// The next frame, decoded as a notification or as a reply to `op`.
    pub fn next(&mut self, op: OpCode, wait: Duration) -> Frame {
        let body = match self.frame(wait) {
            Ok(b) => b,
            Err(f) => return f,
        };
        if body.len() >= 4 && body[..4] == (-1i32).to_be_bytes() {
            return match decode_notification(&body) {
                Ok((h, ev)) => Frame::Event(h.zxid, ev),
                Err(e) => Frame::Garbage(format!("notification: {e:?}")),
            };
        }
        // Pings may be pipelined behind another request: their xid says what they answer.
        let op = if body.len() >= 4 && body[..4] == (-2i32).to_be_bytes() {
            OpCode::Ping
        } else {
            op
        };
        match decode_reply(&body, op, &Limits::default()) {
            Ok((h, r)) => Frame::Reply(h, r),
            Err(e) => Frame::Garbage(format!("{op:?} reply of {} bytes: {e:?}", body.len())),
        }
    }

    fn frame(&mut self, wait: Duration) -> Result<Vec<u8>, Frame> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(body) = self.split() {
                return Ok(body);
            }
            if self.eof {
                return Err(Frame::Eof);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Frame::Timeout);
            }
            self.fill(left);
        }
    }

    fn split(&mut self) -> Option<Vec<u8>> {
        let head: [u8; 4] = self.buf.get(..4)?.try_into().ok()?;
        let len = usize::try_from(i32::from_be_bytes(head)).unwrap_or(0);
        if self.buf.len() < 4 + len {
            return None;
        }
        let body = self.buf[4..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Some(body)
    }

    fn fill(&mut self, left: Duration) {
        let _ = self
            .stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))));
        let mut chunk = [0u8; 65536];
        match self.stream.read(&mut chunk) {
            Ok(0) => self.eof = true,
            Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => self.eof = true,
        }
    }

    /// Drops the connection from the client side (a client losing its server).
    pub fn drop_link(self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}
