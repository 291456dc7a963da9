//! Watch fan-out: N sessions hold a data watch on one znode; one more session sets it;
//! the figure is the time from sending the setData to the arrival of the last of the N
//! notifications, over several rounds (each round re-arms every watch).
//!
//! Exercises what Apache ZooKeeper's `WatchManager.triggerWatch` plus one
//! `NIOServerCnxn.process` per watcher cost on a configuration change seen by a fleet.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::future::try_join_all;
use futures::stream::{self, StreamExt, TryStreamExt};

use super::client::{close_all, payload, BenchConn};
use super::load::ROOT;
use super::stats::{Latencies, Summary};
use crate::proto::{PathWatchRequest, Request, SetDataRequest};

/// Shape of a fan-out run.
#[derive(Clone, Debug)]
pub struct FanoutPlan {
    pub watchers: usize,
    pub duration: Duration,
    pub value_size: usize,
}

/// Connects `n` sessions, at most 64 handshakes at a time.
pub async fn connect_many(
    addr: SocketAddr,
    n: usize,
    timeout_ms: i32,
) -> io::Result<Vec<BenchConn>> {
    stream::iter(0..n)
        .map(|_| BenchConn::connect(addr, timeout_ms))
        .buffer_unordered(64)
        .try_collect()
        .await
}

fn fan_path() -> String {
    format!("{ROOT}/fan")
}

async fn arm(c: &mut BenchConn) -> io::Result<()> {
    let (h, _) = c
        .call(&Request::GetData(PathWatchRequest {
            path: fan_path(),
            watch: true,
        }))
        .await?;
    if h.err != 0 {
        return Err(io::Error::other(format!(
            "getData on {} failed: {}",
            fan_path(),
            h.err
        )));
    }
    Ok(())
}

/// One round: arm every watch, set, wait for every notification; the set→last latency.
async fn round(
    watchers: &mut [BenchConn],
    writer: &mut BenchConn,
    value: &[u8],
) -> io::Result<Duration> {
    try_join_all(watchers.iter_mut().map(arm)).await?;
    let set = Request::SetData(SetDataRequest {
        path: fan_path(),
        data: Some(value.to_vec()),
        version: -1,
    });
    let start = Instant::now();
    writer.queue(&set);
    writer.flush().await?;
    let arrivals = try_join_all(watchers.iter_mut().map(|c| async move {
        c.next_notification().await?;
        Ok::<_, io::Error>(Instant::now())
    }))
    .await?;
    writer.next_header().await?;
    let last = arrivals.into_iter().max().unwrap_or(start);
    Ok(last.duration_since(start))
}

/// Runs rounds for `plan.duration`; the summary counts notifications delivered, its
/// latencies are the per-round set→last-notification times.
pub async fn run(addr: SocketAddr, plan: &FanoutPlan) -> io::Result<Summary> {
    let mut watchers = connect_many(addr, plan.watchers.max(1), 30_000).await?;
    let mut writer = BenchConn::connect(addr, 30_000).await?;
    let value = payload(plan.value_size);
    let (mut lat, mut rounds, mut busy) = (Latencies::new(), 0u64, Duration::ZERO);
    let start = Instant::now();
    while rounds == 0 || start.elapsed() < plan.duration {
        let d = round(&mut watchers, &mut writer, &value).await?;
        lat.record(d);
        busy += d;
        rounds += 1;
    }
    let notifications = rounds * watchers.len() as u64;
    let name = format!("fanout-{}", watchers.len());
    watchers.push(writer);
    close_all(watchers).await;
    Ok(Summary::new(
        &name,
        notifications,
        busy.as_secs_f64(),
        0,
        &lat,
    ))
}
