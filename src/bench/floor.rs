//! `rzk-bench floor`: the least any ZooKeeper server can cost on this machine, to tell
//! how much of a benchmark figure is the server and how much is the generator, the
//! loopback and the disk.
//!
//! It speaks just enough of the client protocol for the load generator: it accepts
//! every session, answers every request at once with a well-formed reply (a getData
//! returns `value_size` bytes, a setData a zero `Stat`, a create its path) and keeps
//! no tree. With a sync directory it also does what a durable server cannot skip: the
//! requests of a write are appended to a file and the reply waits for the `fdatasync`
//! that covers them, one sync for whatever arrived meanwhile (group commit, as
//! `SyncRequestProcessor` and rzk's log writer do). Reads are answered in order behind
//! the writes of their connection.
//!
//! Loaded by the same generator as the real servers, its throughput is a ceiling and
//! its latencies a floor for this machine: with the generator on the same cores, on
//! loopback, and on this disk.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;

use bytes::{Buf, BytesMut};

use crate::jute::frame::split_frame;
use crate::jute::Limits;
use crate::proto::codec::{
    decode_connect_request, decode_request, decode_request_header, encode_connect_response,
    encode_reply,
};
use crate::proto::{
    ConnectResponse, Create2Response, GetDataResponse, ReplyHeader, Request, Response, Stat,
};

/// Bytes per log file: each is padded to this length up front as a sparse file and
/// appended to, and the next one follows when it is full (Java pads its logs 64 MiB at a
/// time the same way and starts a new file on a roll). Appending into fresh blocks,
/// not overwriting old ones, is what makes a log's `fdatasync` record block
/// allocations too.
const LOG_BYTES: u64 = 64 << 20;
/// Batches waiting for the syncing thread at most.
const SYNC_QUEUE: usize = 4096;

/// One read's worth of a connection's requests and the replies they get.
struct Batch {
    sock: Arc<TcpStream>,
    logged: Vec<u8>,
    replies: BytesMut,
}

/// Serves on `listener` until the process ends; syncs into `sync_dir` when given.
pub fn serve(listener: TcpListener, sync_dir: Option<&Path>, value_size: usize) -> io::Result<()> {
    let syncer = match sync_dir {
        Some(dir) => {
            let log = Log::open(dir)?;
            let (tx, rx) = sync_channel(SYNC_QUEUE);
            thread::spawn(move || sync_loop(log, rx));
            Some(tx)
        }
        None => None,
    };
    let value = Arc::new(super::client::payload(value_size));
    let mut session = 0x100_0000_0000_i64;
    for sock in listener.incoming() {
        let Ok(sock) = sock else { continue };
        session += 1;
        let syncer = syncer.clone();
        let value = value.clone();
        thread::spawn(move || {
            let _ = connection(sock, session, syncer, &value);
        });
    }
    Ok(())
}

/// The log files: `floor.log.0`, `floor.log.1`, … in `dir`.
struct Log {
    dir: std::path::PathBuf,
    file: File,
    number: u64,
    at: u64,
}

impl Log {
    fn open(dir: &Path) -> io::Result<Log> {
        Ok(Log {
            dir: dir.to_path_buf(),
            file: Log::create(dir, 0)?,
            number: 0,
            at: 0,
        })
    }

    fn create(dir: &Path, number: u64) -> io::Result<File> {
        let f = File::options()
            .create(true)
            .truncate(true)
            .write(true)
            .open(dir.join(format!("floor.log.{number}")))?;
        f.set_len(LOG_BYTES)?;
        Ok(f)
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.at + bytes.len() as u64 > LOG_BYTES && self.at > 0 {
            // The full file stays, as a server's logs do until they are purged.
            self.number += 1;
            self.file = Log::create(&self.dir, self.number)?;
            self.at = 0;
        }
        self.file.write_all(bytes)?;
        self.at += bytes.len() as u64;
        Ok(())
    }
}

/// Group commit: everything queued is appended, one `fdatasync` covers it, then the
/// replies go out in arrival order.
fn sync_loop(mut log: Log, rx: Receiver<Batch>) {
    while let Ok(first) = rx.recv() {
        let mut batches = vec![first];
        while let Ok(b) = rx.try_recv() {
            batches.push(b);
        }
        if batches.iter().any(|b| !b.logged.is_empty()) {
            let bytes: Vec<u8> = batches
                .iter()
                .flat_map(|b| b.logged.iter().copied())
                .collect();
            if log.append(&bytes).is_err() || log.file.sync_data().is_err() {
                return;
            }
        }
        for b in batches {
            let _ = (&*b.sock).write_all(&b.replies);
        }
    }
}

fn connection(
    sock: TcpStream,
    session: i64,
    syncer: Option<SyncSender<Batch>>,
    value: &[u8],
) -> io::Result<()> {
    sock.set_nodelay(true)?;
    let sock = Arc::new(sock);
    let lim = Limits::default();
    let mut buf = BytesMut::with_capacity(64 << 10);
    let mut connected = false;
    loop {
        let mut chunk = [0u8; 64 << 10];
        let n = (&*sock).read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut replies = BytesMut::new();
        let mut logged = Vec::new();
        while let Some((len, body)) = split_frame(&buf, lim.max_frame).map_err(io::Error::other)? {
            if !connected {
                let req = decode_connect_request(body, &lim).map_err(io::Error::other)?;
                let rsp = ConnectResponse {
                    protocol_version: 0,
                    timeout_ms: req.timeout_ms,
                    session_id: session,
                    passwd: vec![0; 16],
                    read_only: Some(false),
                };
                encode_connect_response(&rsp, &mut replies);
                connected = true;
            } else {
                let (hdr, rest) = decode_request_header(body).map_err(io::Error::other)?;
                let req = decode_request(&hdr, rest, &lim).map_err(io::Error::other)?;
                if req.op_code().is_write() {
                    logged.extend_from_slice(&buf[..4 + len]);
                }
                let reply = ReplyHeader {
                    xid: hdr.xid,
                    zxid: 1,
                    err: 0,
                };
                encode_reply(&reply, &response(&req, value), &mut replies);
            }
            buf.advance(4 + len);
        }
        if replies.is_empty() {
            continue;
        }
        match &syncer {
            Some(tx) => {
                let batch = Batch {
                    sock: sock.clone(),
                    logged,
                    replies,
                };
                if tx.send(batch).is_err() {
                    return Ok(());
                }
            }
            None => (&*sock).write_all(&replies)?,
        }
    }
}

/// The reply a server would give `req` on success, without any state behind it.
fn response(req: &Request, value: &[u8]) -> Response {
    match req {
        Request::GetData(_) => Response::GetData(GetDataResponse {
            data: Some(value.to_vec()),
            stat: Stat::default(),
        }),
        Request::Create(c) => Response::Create(c.path.clone()),
        Request::Create2(c) | Request::CreateContainer(c) => Response::Create2(Create2Response {
            path: c.path.clone(),
            stat: Stat::default(),
        }),
        Request::SetData(_) | Request::Exists(_) => Response::Stat(Stat::default()),
        _ => Response::Empty,
    }
}

/// `rzk-bench floor`: binds `listen`, prints the address, serves until killed.
pub fn run(listen: SocketAddr, sync_dir: Option<&Path>, value_size: usize) -> Result<(), String> {
    let listener = TcpListener::bind(listen).map_err(|e| format!("bind {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "floor server on {addr}{}",
        match sync_dir {
            Some(d) => format!(", writes synced into {}", d.display()),
            None => String::new(),
        }
    );
    serve(listener, sync_dir, value_size).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::client::BenchConn;
    use crate::proto::{CreateRequest, PathWatchRequest, SetDataRequest};

    /// A session against a floor server: the generator's requests get well-formed replies.
    async fn session(addr: SocketAddr) {
        let mut c = BenchConn::connect(addr, 10_000).await.expect("connect");
        let get = Request::GetData(PathWatchRequest {
            path: "/a".into(),
            watch: false,
        });
        match c.call(&get).await.expect("getData") {
            (h, Response::GetData(g)) => {
                assert_eq!(h.err, 0);
                assert_eq!(g.data.map(|d| d.len()), Some(100));
            }
            other => panic!("getData answered {other:?}"),
        }
        let set = Request::SetData(SetDataRequest {
            path: "/a".into(),
            data: Some(vec![1; 10]),
            version: -1,
        });
        assert!(matches!(c.call(&set).await, Ok((_, Response::Stat(_)))));
        let create = Request::Create(CreateRequest {
            path: "/b".into(),
            data: None,
            acl: crate::proto::Acl::open_unsafe(),
            flags: 0,
        });
        assert!(matches!(c.call(&create).await, Ok((_, Response::Create(p))) if p == "/b"));
        c.close().await;
    }

    #[test]
    fn answers_the_generators_requests_with_and_without_syncing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        for sync in [None, Some(dir.path().to_path_buf())] {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            thread::spawn(move || serve(listener, sync.as_deref(), 100));
            rt.block_on(session(addr));
        }
        let logged = std::fs::read(dir.path().join("floor.log.0")).expect("log");
        // The setData and the create were logged: their frames start the file.
        assert!(logged.windows(2).any(|w| w == b"/b"));
    }
}
