//! A minimal ZooKeeper client over the project's own codec, and an in-process server on
//! an ephemeral loopback port, for integration tests. Every wait is bounded.

#![allow(dead_code)]

use bytes::{Buf, BytesMut};
use rzk::config::{zoo_cfg, Config};
use rzk::jute::frame::Limits;
use rzk::launch::Running;
use rzk::proto::codec::*;
use rzk::proto::*;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const WAIT: Duration = Duration::from_secs(10);

/// Starts a server with the given extra zoo.cfg lines on 127.0.0.1, ephemeral port.
pub async fn start_server(extra: &str) -> Running {
    try_start_server(extra).await.expect("server starts")
}

/// As [`start_server`], with the start's error returned (a port the test picked may
/// have been taken by another test in between).
#[allow(dead_code)]
pub async fn try_start_server(extra: &str) -> std::io::Result<Running> {
    let dir = std::env::temp_dir().join(format!(
        "rzk-test-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let text = format!(
        "tickTime=200\ndataDir={}\nclientPort=0\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n4lw.commands.whitelist=*\nadmin.enableServer=false\npreAllocSize=64\n{extra}\n",
        dir.display()
    );
    let cfg = Config::from_entries("test.cfg", &zoo_cfg::parse(&text), &BTreeMap::new())
        .expect("valid test config");
    Running::start(cfg, None).await
}

pub struct Client {
    pub stream: TcpStream,
    buf: BytesMut,
    pub session_id: i64,
    pub passwd: Vec<u8>,
    pub timeout_ms: i32,
    xid: i32,
    pub events: VecDeque<WatcherEvent>,
    pub last_zxid: i64,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        Client::connect_with(addr, 30_000, 0, vec![0; 16])
            .await
            .expect("session established")
    }

    /// Connects with an explicit session id/password; `None` when the server answers with
    /// an invalid session (timeout 0) or closes.
    pub async fn connect_with(
        addr: SocketAddr,
        timeout_ms: i32,
        session_id: i64,
        passwd: Vec<u8>,
    ) -> Option<Client> {
        let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
            .await
            .ok()?
            .ok()?;
        let mut c = Client {
            stream,
            buf: BytesMut::new(),
            session_id,
            passwd,
            timeout_ms,
            xid: 0,
            events: VecDeque::new(),
            last_zxid: 0,
        };
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms,
            session_id,
            passwd: c.passwd.clone(),
            read_only: Some(false),
        };
        let mut out = BytesMut::new();
        encode_connect_request(&req, &mut out);
        c.stream.write_all(&out).await.ok()?;
        let body = c.read_frame().await?;
        let rsp = decode_connect_response(&body).ok()?;
        if rsp.timeout_ms <= 0 {
            return None;
        }
        c.session_id = rsp.session_id;
        c.passwd = rsp.passwd;
        c.timeout_ms = rsp.timeout_ms;
        Some(c)
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }

    /// The next frame body, `None` on EOF or after `WAIT`.
    pub async fn read_frame(&mut self) -> Option<BytesMut> {
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

    /// True when the server closed the connection (EOF) within `WAIT`; frames still
    /// arriving before the EOF are skipped.
    pub async fn closed_by_server(&mut self) -> bool {
        loop {
            let mut scratch = [0u8; 4096];
            match tokio::time::timeout(WAIT, self.stream.read(&mut scratch)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }

    pub fn next_xid(&mut self) -> i32 {
        self.xid += 1;
        self.xid
    }

    /// Sends `req` and returns its reply; notifications arriving first are kept in `events`.
    pub async fn call(&mut self, req: Request) -> (ReplyHeader, Response) {
        let xid = match req {
            Request::Ping => -2,
            Request::Auth(_) => -4,
            Request::SetWatches(_) | Request::SetWatches2(_) => -8,
            _ => self.next_xid(),
        };
        self.call_xid(xid, req).await
    }

    pub async fn call_xid(&mut self, xid: i32, req: Request) -> (ReplyHeader, Response) {
        let op = req.op_code();
        let mut out = BytesMut::new();
        encode_request(xid, &req, &mut out);
        self.send_raw(&out).await;
        self.reply_to(op).await.expect("a reply")
    }

    /// Reads until a non-notification reply arrives.
    pub async fn reply_to(&mut self, op: OpCode) -> Option<(ReplyHeader, Response)> {
        loop {
            let body = self.read_frame().await?;
            if body.len() >= 4 && i32::from_be_bytes([body[0], body[1], body[2], body[3]]) == -1 {
                let (_, ev) = decode_notification(&body).expect("notification decodes");
                self.events.push_back(ev);
                continue;
            }
            let (hdr, rsp) = decode_reply(&body, op, &Limits::default()).expect("reply decodes");
            if hdr.zxid > 0 {
                self.last_zxid = hdr.zxid;
            }
            return Some((hdr, rsp));
        }
    }

    /// The next watch event (already received or arriving within `WAIT`).
    pub async fn next_event(&mut self) -> Option<WatcherEvent> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        let body = self.read_frame().await?;
        decode_notification(&body).ok().map(|(_, e)| e)
    }

    pub async fn create(&mut self, path: &str, data: &[u8], flags: i32) -> (ErrorCode, String) {
        let req = Request::Create(CreateRequest {
            path: path.into(),
            data: Some(data.to_vec()),
            acl: Acl::open_unsafe(),
            flags,
        });
        let (h, r) = self.call(req).await;
        let path = match r {
            Response::Create(p) => p,
            _ => String::new(),
        };
        (ErrorCode::try_from(h.err).expect("known code"), path)
    }

    pub async fn get_data(
        &mut self,
        path: &str,
        watch: bool,
    ) -> Result<GetDataResponse, ErrorCode> {
        let (h, r) = self
            .call(Request::GetData(PathWatchRequest {
                path: path.into(),
                watch,
            }))
            .await;
        match r {
            Response::GetData(d) if h.err == 0 => Ok(d),
            _ => Err(ErrorCode::try_from(h.err).expect("known code")),
        }
    }

    pub async fn exists(&mut self, path: &str, watch: bool) -> Result<Stat, ErrorCode> {
        let (h, r) = self
            .call(Request::Exists(PathWatchRequest {
                path: path.into(),
                watch,
            }))
            .await;
        match r {
            Response::Stat(s) if h.err == 0 => Ok(s),
            _ => Err(ErrorCode::try_from(h.err).expect("known code")),
        }
    }

    pub async fn close(mut self) {
        let _ = self.call(Request::CloseSession).await;
    }
}

/// Sends a four-letter word and returns everything the server wrote before closing.
pub async fn four_letter(addr: SocketAddr, word: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(word.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}
