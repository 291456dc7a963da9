//! The writing half of a connection (`NIOServerCnxn.outgoingBuffers` + `handleWrite`):
//! drains the core's queue at once into a byte buffer, and writes that buffer as the
//! socket accepts it. The buffer is bounded in bytes (`zookeeper.rzk.maxOutgoingBytes`):
//! a client that stops reading its replies or watch events is disconnected when its
//! backlog passes the bound, instead of growing the server's memory without end (Java has
//! no such bound). Draining the core's queue promptly is also what releases the global
//! throttle (replies count as answered when queued, as in `NIOServerCnxn.sendResponse`).

use super::conn::Phase;
use super::throttle::ConnThrottle;
use crate::node::driver::Out;
use bytes::{Buf, BytesMut};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};
use tracing::warn;

/// Largest single socket write.
const WRITE_CHUNK: usize = 256 * 1024;
/// How long a closing connection may take to flush what is queued.
const CLOSE_FLUSH: Duration = Duration::from_secs(2);

pub(crate) struct Writer {
    pub(crate) wr: super::conn::BoxWrite,
    pub(crate) rx: mpsc::Receiver<Out>,
    pub(crate) phase: watch::Sender<Phase>,
    pub(crate) throttle: std::sync::Arc<ConnThrottle>,
    pub(crate) max_bytes: usize,
    /// Set when the server closes the connection, before its last bytes go out, so the
    /// reader does not take the client's answering end of stream for a dropped client.
    pub(crate) closing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// What the writer does after taking one message from the core.
enum Next {
    Continue,
    Close,
    Overflow,
    /// The socket failed.
    Broken,
}

impl Writer {
    pub(crate) async fn run(mut self) {
        let mut buf = BytesMut::new();
        let end = self.pump(&mut buf).await;
        self.closing
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if matches!(end, Next::Close) {
            let _ = tokio::time::timeout(CLOSE_FLUSH, self.wr.write_all(&buf)).await;
        }
        let _ = self.wr.shutdown().await;
        let _ = self.phase.send(Phase::Closed);
    }

    /// Moves messages from the core into `buf` and bytes from `buf` to the socket until
    /// the core closes the connection, the socket fails or the backlog overflows.
    async fn pump(&mut self, buf: &mut BytesMut) -> Next {
        loop {
            let chunk = buf.len().min(WRITE_CHUNK);
            tokio::select! {
                biased;
                msg = self.rx.recv() => {
                    let Some(out) = msg else { return Next::Close };
                    match self.take(out, buf) {
                        Next::Continue => {}
                        Next::Overflow => {
                            warn!("client is not reading its replies ({} bytes queued); closing the connection", buf.len());
                            return Next::Overflow;
                        }
                        end => return end,
                    }
                }
                written = self.wr.write(buf.get(..chunk).unwrap_or_default()), if chunk > 0 => match written {
                    Ok(n) if n > 0 => buf.advance(n),
                    _ => return Next::Broken,
                },
            }
        }
    }

    fn take(&mut self, out: Out, buf: &mut BytesMut) -> Next {
        match out {
            Out::Frame(f) => {
                self.throttle.reply_queued(&f);
                buf.extend_from_slice(&f);
                if buf.len() > self.max_bytes {
                    return Next::Overflow;
                }
            }
            Out::Established => {
                let _ = self.phase.send(Phase::Established);
            }
            Out::Close => return Next::Close,
        }
        Next::Continue
    }
}
