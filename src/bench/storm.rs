//! Session storm: thousands of sessions connect (a bounded number of handshakes in
//! flight), all stay open and ping, then all close. What a fleet restart or a network
//! partition healing does to a server.
//!
//! Exercises Apache ZooKeeper's `ZooKeeperServer.processConnectRequest`, the
//! `createSession` txn (logged and fsynced on both servers) and `SessionTrackerImpl`.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt, TryStreamExt};

use super::client::{close_all, BenchConn, PING_XID};
use super::stats::{Latencies, Summary};
use crate::proto::Request;

/// Shape of a storm.
#[derive(Clone, Debug)]
pub struct StormPlan {
    pub sessions: usize,
    pub pings: usize,
    /// Handshakes in flight at once.
    pub concurrency: usize,
}

async fn timed_connect(addr: SocketAddr) -> io::Result<(BenchConn, Duration)> {
    let t = Instant::now();
    let c = BenchConn::connect(addr, 30_000).await?;
    Ok((c, t.elapsed()))
}

async fn ping_loop(mut c: BenchConn, pings: usize) -> io::Result<(BenchConn, Latencies)> {
    let mut lat = Latencies::new();
    for _ in 0..pings {
        let t = Instant::now();
        c.queue(&Request::Ping);
        c.flush().await?;
        while c.next_header().await?.xid != PING_XID {}
        lat.record(t.elapsed());
    }
    Ok((c, lat))
}

/// Two summaries: `storm-connect` (sessions established per second, handshake
/// latencies) and `storm-ping` (pings per second with every session open).
pub async fn run(addr: SocketAddr, plan: &StormPlan) -> io::Result<Vec<Summary>> {
    let start = Instant::now();
    let conns: Vec<(BenchConn, Duration)> = stream::iter(0..plan.sessions)
        .map(|_| timed_connect(addr))
        .buffer_unordered(plan.concurrency.max(1))
        .try_collect()
        .await?;
    let connect_secs = start.elapsed().as_secs_f64();
    let mut connect_lat = Latencies::new();
    for (_, d) in &conns {
        connect_lat.record(*d);
    }
    let ping_start = Instant::now();
    let pinged: Vec<(BenchConn, Latencies)> =
        futures::future::try_join_all(conns.into_iter().map(|(c, _)| ping_loop(c, plan.pings)))
            .await?;
    let ping_secs = ping_start.elapsed().as_secs_f64();
    let mut ping_lat = Latencies::new();
    let mut open = Vec::with_capacity(pinged.len());
    for (c, l) in pinged {
        ping_lat.merge(&l);
        open.push(c);
    }
    let n = open.len() as u64;
    close_all(open).await;
    Ok(vec![
        Summary::new("storm-connect", n, connect_secs, 0, &connect_lat),
        Summary::new("storm-ping", ping_lat.count(), ping_secs, 0, &ping_lat),
    ])
}
