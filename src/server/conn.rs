//! One client connection (`NIOServerCnxn`): detects four-letter words, frames and decodes
//! requests, and writes what the core sends back, in order.
//!
//! Reading pauses after the ConnectRequest until the core has set the session up (Java
//! disables reads the same way), so requests pipelined behind a ConnectRequest are
//! buffered, never dropped. Any framing or header error closes only this connection.
//! A connection that does not complete its ConnectRequest within the sessionless
//! timeout is closed; while the global throttle holds (`super::throttle`), reading stops.
//!
//! The connection factory's counters are sent to the core as they happen: a client that
//! closes its socket while the server still serves it is `connection_drop_count`
//! (`NIOServerCnxn.handleFailedRead`: end of stream on a read), a connection that does
//! not finish its handshake in time is `sessionless_connections_expired`
//! (`NIOServerCnxnFactory.ConnectionExpirerThread`).
//!
//! `bytes_received_count` (`ServerCnxn.packetReceived`) grows by every frame read whole,
//! length prefix included, and by 4 for every four-letter word Java recognises (enabled
//! or not; `stmk`'s 8-byte mask is not counted). The core counts what reaches it (the
//! ConnectRequest and the requests, the words it is asked about); the reader counts the
//! rest: the words answered without the core and frames that do not decode.
//!
//! When the server closes a connection it keeps reading (and dropping) what the client
//! still sends, until the client's EOF or for a moment: closing a socket with unread
//! input makes the kernel answer with a reset at once, and a client that gets the reset
//! before it has read the last reply loses that reply (the Java client then reports a
//! ConnectionLoss where Apache ZooKeeper, which reads its sockets greedily, gives
//! AUTHFAILED to a request pipelined behind a failed auth).

use super::throttle::{ConnThrottle, Throttle};
use super::writer::Writer;
use super::ShellConfig;
use crate::jute::error::DecodeError;
use crate::jute::frame::{split_frame, FrameCodec};
use crate::node::driver::{Event, Out};
use crate::node::recorded::Counter;
use crate::node::{ConnId, Input, RequestBody};
use crate::proto::codec::{decode_connect_request, decode_request, decode_request_header};
use crate::proto::OpCode;
use bytes::BytesMut;
use futures::StreamExt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::{mpsc, watch};
use tokio_util::codec::FramedRead;
use tracing::{debug, info, warn};

/// Where the connection is in its life, as seen by the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Handshake,
    Established,
    Closed,
}

/// How long a closed connection's input is drained at most, and how much of it.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1 << 20;

/// The reading half of a connection, plain TCP or TLS.
pub type BoxRead = Box<dyn AsyncRead + Send + Unpin>;
/// The writing half of a connection, plain TCP or TLS.
pub type BoxWrite = Box<dyn AsyncWrite + Send + Unpin>;
type OwnedReadHalf = BoxRead;

/// An accepted connection (after its TLS handshake, if any) and the ids that handshake
/// proved (`x509`, from the client certificate).
pub struct Accepted {
    pub rd: BoxRead,
    pub wr: BoxWrite,
    pub peer: SocketAddr,
    pub auth: Vec<crate::proto::Id>,
}

/// Serves one accepted connection until either side closes it.
pub async fn run(
    stream: Accepted,
    conn: ConnId,
    core: mpsc::Sender<Event>,
    cfg: &ShellConfig,
    throttle: Arc<Throttle>,
) {
    let Accepted { rd, wr, peer, auth } = stream;
    let (out_tx, out_rx) = mpsc::channel(cfg.max_outgoing_frames);
    let four_letter_out = out_tx.clone();
    let closing = Arc::new(AtomicBool::new(false));
    if core
        .send(Event::Open {
            conn,
            peer,
            out: out_tx,
            auth,
            closing: closing.clone(),
        })
        .await
        .is_err()
    {
        return;
    }
    let (phase_tx, phase_rx) = watch::channel(Phase::Handshake);
    let throttle = Arc::new(ConnThrottle::new(throttle));
    let writer = Writer {
        wr,
        rx: out_rx,
        phase: phase_tx,
        throttle: throttle.clone(),
        max_bytes: cfg.max_outgoing_bytes,
        closing: closing.clone(),
    };
    let writer = tokio::spawn(writer.run());
    let reader = Reader {
        conn,
        peer,
        core: &core,
        cfg,
        phase: phase_rx,
        throttle: &throttle,
        closing: &closing,
    };
    if let Err(why) = reader.run(rd, four_letter_out).await {
        info!("closing connection {conn} from {peer}: {why}");
    }
    throttle.closed();
    let _ = core.send(Event::Input(Input::Closed { conn })).await;
    let _ = writer.await;
}

/// The reading half's context.
struct Reader<'a> {
    conn: ConnId,
    peer: SocketAddr,
    core: &'a mpsc::Sender<Event>,
    cfg: &'a ShellConfig,
    phase: watch::Receiver<Phase>,
    throttle: &'a ConnThrottle,
    /// Set once the server decided to close (the core's `Close`, or a broken socket).
    closing: &'a AtomicBool,
}

impl Reader<'_> {
    async fn run(
        mut self,
        mut rd: OwnedReadHalf,
        four_letter_out: mpsc::Sender<Out>,
    ) -> Result<(), String> {
        // A connection must complete its handshake within the sessionless timeout
        // (`NIOServerCnxnFactory`'s `cnxnExpiryQueue`, `zookeeper.nio.sessionlessCnxnTimeout`).
        let deadline = tokio::time::Instant::now() + self.cfg.sessionless_timeout;
        let Ok(first) = tokio::time::timeout_at(deadline, self.first_bytes(&mut rd)).await else {
            count(self.core, Counter::SessionlessConnectionsExpired).await;
            return Err("no ConnectRequest within the sessionless connection timeout".to_string());
        };
        let Some(first) = first? else { return Ok(()) };
        if let Some(word) = four_letter_word(first) {
            debug!("four-letter word {word} from {}", self.peer);
            if !self
                .cfg
                .ops
                .as_ref()
                .is_some_and(|ops| crate::ops::words::asks_the_core(ops, &word))
            {
                let _ = send(self.core, Input::WordReceived { conn: self.conn }).await;
            }
            let text = four_letter_answer(&mut rd, self.conn, &word, self.cfg).await?;
            let _ = four_letter_out.send(Out::Frame(text.into())).await;
            // Leave the core's connection list before the socket closes, as Java's
            // `removeCnxn` does: a client that asks again the moment it reads the end of
            // this answer must not find this connection listed. The `Closed` sent when
            // the reader ends repeats it; the core ignores a connection it no longer has.
            let _ = send(self.core, Input::Closed { conn: self.conn }).await;
            let _ = four_letter_out.send(Out::Close).await;
            let _ = self.phase.wait_for(|p| *p == Phase::Closed).await;
            linger(&mut rd).await;
            return Ok(());
        }
        // Only the core may keep the writer alive from here on.
        drop(four_letter_out);
        let mut frames = FramedRead::new(rd, FrameCodec::new(self.cfg.limits));
        // The first four bytes are a length, judged now as `readLength` does: the frame
        // reader would read the socket before decoding what it is given, keeping a client
        // that sent only a bad length, or an empty frame, until the sessionless timeout.
        let connect = match split_frame(&first, self.cfg.limits.max_frame) {
            Err(e) => return Err(e.to_string()),
            Ok(Some((_, empty))) => Some(BytesMut::from(empty)),
            Ok(None) => {
                frames.read_buffer_mut().extend_from_slice(&first);
                let Ok(connect) =
                    tokio::time::timeout_at(deadline, next_frame(&mut frames, &mut self.phase))
                        .await
                else {
                    count(self.core, Counter::SessionlessConnectionsExpired).await;
                    return Err(
                        "ConnectRequest not completed within the sessionless connection timeout"
                            .to_string(),
                    );
                };
                connect?
            }
        };
        let Some(body) = connect else {
            self.ended_by_client().await;
            return Err("closed before the ConnectRequest".to_string());
        };
        let req = match decode_connect_request(&body, &self.cfg.limits) {
            Ok(req) => req,
            Err(e) => {
                received(self.core, 4 + body.len()).await;
                return Err(format!("bad ConnectRequest: {e}"));
            }
        };
        let bytes = u32::try_from(4 + body.len()).unwrap_or(u32::MAX);
        send(
            self.core,
            Input::Connect {
                conn: self.conn,
                req,
                bytes,
            },
        )
        .await?;
        let p = *self
            .phase
            .wait_for(|p| *p != Phase::Handshake)
            .await
            .map_err(|_| "writer gone")?;
        if p == Phase::Closed {
            return Ok(());
        }
        self.requests(frames).await
    }

    /// The first four bytes, `None` when the writer closed first.
    async fn first_bytes(&mut self, rd: &mut OwnedReadHalf) -> Result<Option<[u8; 4]>, String> {
        let mut first = [0u8; 4];
        let read = tokio::select! {
            r = rd.read_exact(&mut first) => r,
            _ = self.phase.wait_for(|p| *p == Phase::Closed) => return Ok(None),
        };
        match read {
            Ok(_) => Ok(Some(first)),
            Err(e) => {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    self.ended_by_client().await;
                }
                Err(format!("read: {e}"))
            }
        }
    }

    /// The client's end of stream reached the reader: a dropped connection unless the
    /// server was closing it already.
    async fn ended_by_client(&self) {
        if *self.phase.borrow() != Phase::Closed && !self.closing.load(Ordering::Relaxed) {
            count(self.core, Counter::ConnectionDropCount).await;
        }
    }

    /// Requests after the handshake; reading pauses while the global throttle holds.
    async fn requests(
        mut self,
        mut frames: FramedRead<OwnedReadHalf, FrameCodec>,
    ) -> Result<(), String> {
        loop {
            tokio::select! {
                _ = self.throttle.wait_until_readable() => {}
                _ = self.phase.wait_for(|p| *p == Phase::Closed) => break,
            }
            let Some(body) = next_frame(&mut frames, &mut self.phase).await? else {
                self.ended_by_client().await;
                break;
            };
            let bytes = u32::try_from(4 + body.len()).unwrap_or(u32::MAX);
            let (xid, body) = match decode_body(&body, &self.cfg.limits) {
                Ok(decoded) => decoded,
                Err(why) => {
                    received(self.core, 4 + body.len()).await;
                    return Err(why);
                }
            };
            self.throttle.request_sent(xid);
            send(
                self.core,
                Input::Request {
                    conn: self.conn,
                    xid,
                    body,
                    bytes,
                },
            )
            .await?;
        }
        if *self.phase.borrow() == Phase::Closed {
            linger(frames.get_mut()).await;
        }
        Ok(())
    }
}

/// Reads and drops what the client still sends after the server's last reply, until
/// its EOF or for `LINGER` at most, so the close is not a reset (see the module doc).
async fn linger(rd: &mut OwnedReadHalf) {
    let mut sink = [0u8; 4096];
    let mut left = LINGER_BYTES;
    let drain = async {
        while left > 0 {
            match rd.read(&mut sink).await {
                Ok(n) if n > 0 => left = left.saturating_sub(n),
                _ => return,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// The next frame, `None` at EOF or once the writer has closed the connection.
async fn next_frame(
    frames: &mut FramedRead<OwnedReadHalf, FrameCodec>,
    phase: &mut watch::Receiver<Phase>,
) -> Result<Option<BytesMut>, String> {
    tokio::select! {
        f = frames.next() => match f {
            None => Ok(None),
            Some(Ok(body)) => Ok(Some(body)),
            Some(Err(e)) => Err(format!("{e}")),
        },
        _ = phase.wait_for(|p| *p == Phase::Closed) => Ok(None),
    }
}

fn decode_body(
    body: &[u8],
    limits: &crate::jute::frame::Limits,
) -> Result<(i32, RequestBody), String> {
    let (hdr, rest) =
        decode_request_header(body).map_err(|e| format!("bad request header: {e}"))?;
    let parsed = match decode_request(&hdr, rest, limits) {
        Ok(req) => RequestBody::Ok(req),
        Err(DecodeError::UnknownOpCode(op)) => {
            warn!("Received packet at server of unknown type {op}");
            RequestBody::Unknown(op)
        }
        Err(e) => match OpCode::try_from(hdr.op) {
            Ok(op) => {
                warn!(
                    "Failed to decode request of type {op:?} (xid {}): {e}",
                    hdr.xid
                );
                RequestBody::Malformed(op)
            }
            Err(op) => RequestBody::Unknown(op),
        },
    };
    Ok((hdr.xid, parsed))
}

/// Adds one to a connection factory counter of the core's metrics.
pub(crate) async fn count(core: &mpsc::Sender<Event>, c: Counter) {
    let _ = core
        .send(Event::Input(Input::Samples(vec![
            crate::node::recorded::Sample::Count(c, 1),
        ])))
        .await;
}

/// `ServerCnxn.packetReceived` for bytes the core never sees: `bytes_received_count`.
async fn received(core: &mpsc::Sender<Event>, bytes: usize) {
    let n = i64::try_from(bytes).unwrap_or(i64::MAX);
    let sample = crate::node::recorded::Sample::Count(Counter::BytesReceivedCount, n);
    let _ = core.send(Event::Input(Input::Samples(vec![sample]))).await;
}

async fn send(core: &mpsc::Sender<Event>, input: Input) -> Result<(), String> {
    core.send(Event::Input(input))
        .await
        .map_err(|_| "server is shutting down".to_string())
}

fn four_letter_word(first: [u8; 4]) -> Option<String> {
    let s = std::str::from_utf8(&first).ok()?;
    crate::ops::words::WORDS.contains(&s).then(|| s.to_string())
}

/// The answer to a four-letter word (`crate::ops::words`); `stmk` first reads its 8-byte
/// big-endian mask, as `NIOServerCnxn.checkFourLetterWord` does.
async fn four_letter_answer(
    rd: &mut OwnedReadHalf,
    conn: ConnId,
    word: &str,
    cfg: &ShellConfig,
) -> Result<String, String> {
    let Some(ops) = cfg.ops.as_ref() else {
        return Ok(crate::ops::words::refusal(word));
    };
    let mut arg = None;
    if word == "stmk" && ops.cfg.four_letter_words.allows(word) {
        let mut mask = [0u8; 8];
        match tokio::time::timeout(std::time::Duration::from_secs(5), rd.read_exact(&mut mask))
            .await
        {
            Ok(Ok(_)) => arg = Some(i64::from_be_bytes(mask)),
            _ => return Err("stmk without its 8-byte mask".into()),
        }
    }
    Ok(crate::ops::words::answer(ops, conn, word, arg).await)
}
