//! Open-loop workloads at a fixed rate (`--rate N` ops/s over all sessions): the
//! steady, not saturating, load under which a server's tail is judged.
//!
//! Each session sends on a fixed schedule whatever the replies do (requests are due
//! every `connections / rate` seconds, the sessions' schedules staggered evenly), and
//! each latency is measured from the request's *scheduled* send time to its reply, so a
//! server pause shows up in every request that should have been sent during it, not
//! only in the one that was waiting (no coordinated omission, as in wrk2 or
//! HdrHistogram's corrected recording). The sending is paced by an OS thread per
//! session (`thread::sleep` wakes within tens of microseconds; tokio's timer wheel has
//! millisecond ticks, which would add up to a millisecond to every measured latency).
//! How late the generator itself sent (the send lag) is reported next to the latencies,
//! so that a descheduled generator can be told apart from a slow server.
//!
//! Closed-loop runs (`load`) measure capacity; this measures latency at a given load.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};

use super::client::{NOTIFICATION_XID, PING_XID};
use super::load::{connect_spread, LoadPlan, OpSource};
use super::stats::{Latencies, Summary};
use crate::jute::frame::{split_frame, Limits};
use crate::proto::codec::{encode_request, reply_header};
use crate::proto::{ReplyHeader, Request};

/// What one paced session measured.
#[derive(Default)]
struct Paced {
    lat: Latencies,
    /// From the actual write instead of the schedule: the server and the reader's
    /// wake-up, without the writer's lateness.
    from_send: Latencies,
    lag: Latencies,
    ops: u64,
    errors: u64,
}

/// Runs `plan` at `rate` requests per second in total against `addrs` (sessions
/// round-robin over them), after `load::setup`.
pub async fn run(addrs: &[SocketAddr], plan: &LoadPlan, rate: f64) -> io::Result<Summary> {
    let conns = connect_spread(addrs, plan.connections).await?;
    let socks = conns
        .into_iter()
        .map(|c| c.into_std())
        .collect::<io::Result<Vec<_>>>()?;
    let plan = plan.clone();
    tokio::task::spawn_blocking(move || run_threads(socks, &plan, rate))
        .await
        .map_err(io::Error::other)?
}

fn run_threads(
    socks: Vec<(TcpStream, BytesMut)>,
    plan: &LoadPlan,
    rate: f64,
) -> io::Result<Summary> {
    let n = socks.len().max(1);
    let interval = Duration::from_secs_f64(n as f64 / rate.max(0.001));
    let start = Instant::now() + Duration::from_millis(20);
    let deadline = start + plan.duration;
    let results: Vec<io::Result<Paced>> = thread::scope(|s| {
        let handles: Vec<_> = socks
            .into_iter()
            .enumerate()
            .map(|(i, (sock, rbuf))| {
                let first = start + interval.mul_f64(i as f64 / n as f64);
                let src = OpSource::new(plan, i);
                s.spawn(move || {
                    session(
                        sock,
                        rbuf,
                        &src,
                        Schedule {
                            first,
                            interval,
                            deadline,
                        },
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("session thread panicked")))
            })
            .collect()
    });
    let mut total = Paced::default();
    for r in results {
        let r = r?;
        total.lat.merge(&r.lat);
        total.from_send.merge(&r.from_send);
        total.lag.merge(&r.lag);
        total.ops += r.ops;
        total.errors += r.errors;
    }
    let name = format!("{}@{}/s", plan.workload.name(), rate.round());
    let mut summary = Summary::new(
        &name,
        total.ops,
        plan.duration.as_secs_f64(),
        total.errors,
        &total.lat,
    );
    summary.send_lag_ms = Some(total.lag.figures_ms());
    summary.from_send_ms = Some(total.from_send.figures_ms());
    Ok(summary)
}

/// When a session's requests are due.
#[derive(Clone, Copy)]
struct Schedule {
    first: Instant,
    interval: Duration,
    deadline: Instant,
}

/// One session: a writer on the schedule (this thread) and a reader matching replies to
/// scheduled times, in order; then closeSession.
fn session(sock: TcpStream, rbuf: BytesMut, src: &OpSource, sched: Schedule) -> io::Result<Paced> {
    let mut reader = FrameReader {
        sock: sock.try_clone()?,
        buf: rbuf,
    };
    let (tx, rx) = mpsc::channel::<(Instant, Instant)>();
    let mut writer = sock;
    let (written, read) = thread::scope(|s| {
        let r = s.spawn(move || read_replies(&mut reader, rx).map(|p| (p, reader)));
        let w = write_paced(&mut writer, src, sched, tx);
        (
            w,
            r.join()
                .unwrap_or_else(|_| Err(io::Error::other("reader thread panicked"))),
        )
    });
    let (lag, next_xid) = written?;
    let (mut paced, mut reader) = read?;
    paced.lag = lag;
    let mut close = BytesMut::new();
    encode_request(next_xid, &Request::CloseSession, &mut close);
    if writer.write_all(&close).is_ok() {
        let _ = reader.next_header();
    }
    Ok(paced)
}

/// Sends every request when it is due (all overdue ones at once when late); returns the
/// send lag and the next free xid.
fn write_paced(
    sock: &mut TcpStream,
    src: &OpSource,
    sched: Schedule,
    tx: mpsc::Sender<(Instant, Instant)>,
) -> io::Result<(Latencies, i32)> {
    let (mut next, mut seq, mut xid) = (sched.first, 0u64, 0i32);
    let mut lag = Latencies::new();
    let mut out = BytesMut::new();
    let mut due: Vec<Instant> = Vec::new();
    while next < sched.deadline || src.must_follow(seq) {
        let now = Instant::now();
        if next > now {
            thread::sleep(next - now);
            continue;
        }
        while next <= now && (next < sched.deadline || src.must_follow(seq)) {
            xid += 1;
            src.encode(seq, xid, &mut out);
            due.push(next);
            seq += 1;
            next += sched.interval;
        }
        sock.write_all(&out)?;
        out.clear();
        let sent = Instant::now();
        for d in due.drain(..) {
            lag.record(sent.duration_since(d));
            let _ = tx.send((d, sent));
        }
    }
    Ok((lag, xid + 1))
}

/// Reads one reply per request the writer reports written (scheduled and actual send
/// times), until it stops.
fn read_replies(
    reader: &mut FrameReader,
    rx: mpsc::Receiver<(Instant, Instant)>,
) -> io::Result<Paced> {
    let mut p = Paced::default();
    for (scheduled, sent) in rx {
        let h = loop {
            let h = reader.next_header()?;
            if h.xid != NOTIFICATION_XID && h.xid != PING_XID {
                break h;
            }
        };
        let now = Instant::now();
        p.lat.record(now.saturating_duration_since(scheduled));
        p.from_send.record(now.saturating_duration_since(sent));
        p.ops += 1;
        p.errors += u64::from(h.err != 0);
    }
    Ok(p)
}

/// Whole reply frames from a blocking socket.
struct FrameReader {
    sock: TcpStream,
    buf: BytesMut,
}

impl FrameReader {
    fn next_header(&mut self) -> io::Result<ReplyHeader> {
        let max = Limits::default().max_frame.max(64 << 20);
        loop {
            match split_frame(&self.buf, max) {
                Ok(Some((len, _))) => {
                    self.buf.advance(4);
                    let body = self.buf.split_to(len);
                    return reply_header(&body)
                        .map(|(_, h)| h)
                        .map_err(|_| io::Error::other("short reply header"));
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
            let mut chunk = [0u8; 16 << 10];
            let n = self.sock.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed the connection",
                ));
            }
            self.buf
                .extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
    }
}
