//! Closed-loop request workloads: many sessions, each keeping a bounded number of
//! requests outstanding (pipelined, replies arrive in order per session), for a fixed
//! duration. getData, setData, create+delete and a 90/10 read/write mix.
//!
//! Plays the part of the load generators ZooKeeper users reach for (`zk-smoketest`,
//! Apache ZooKeeper's `zookeeper-it` `GenerateLoad`), with the latency of each request
//! measured from the write of its batch to the read of its reply.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::client::{payload, put_template, template, BenchConn, NOTIFICATION_XID};
use super::stats::{Latencies, Summary};
use super::Workload;
use crate::proto::codec::encode_request;
use crate::proto::{
    Acl, CreateRequest, DeleteRequest, ErrorCode, PathWatchRequest, Request, SetDataRequest,
};

/// Root of every znode the benchmark touches.
pub const ROOT: &str = "/rzk-bench";

/// Shape of a closed-loop run.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    pub workload: Workload,
    pub connections: usize,
    pub depth: usize,
    pub duration: Duration,
    pub value_size: usize,
}

/// The requests one session cycles through.
pub(super) struct OpSource {
    conn: usize,
    get: Vec<u8>,
    set: Vec<u8>,
    value: Vec<u8>,
    workload: Workload,
}

impl OpSource {
    pub(super) fn new(plan: &LoadPlan, conn: usize) -> OpSource {
        let value = payload(plan.value_size);
        let own = own_node(conn);
        let shared = format!("{ROOT}/data");
        let get_path = if plan.workload == Workload::Mix {
            own.clone()
        } else {
            shared
        };
        let get = template(&Request::GetData(PathWatchRequest {
            path: get_path,
            watch: false,
        }));
        let set = template(&Request::SetData(SetDataRequest {
            path: own,
            data: Some(value.clone()),
            version: -1,
        }));
        OpSource {
            conn,
            get,
            set,
            value,
            workload: plan.workload,
        }
    }

    /// Queues the `seq`-th request of this session.
    pub(super) fn queue(&self, c: &mut BenchConn, seq: u64) {
        let xid = c.next_xid();
        self.encode(seq, xid, c.queued_mut());
    }

    /// Appends the `seq`-th request of this session, under `xid`, to `out`.
    pub(super) fn encode(&self, seq: u64, xid: i32, out: &mut BytesMut) {
        match self.workload {
            Workload::Get => put_template(out, &self.get, xid),
            Workload::Set => put_template(out, &self.set, xid),
            Workload::Mix if seq % 10 == 9 => put_template(out, &self.set, xid),
            Workload::Mix => put_template(out, &self.get, xid),
            _ => encode_request(xid, &self.create_delete(seq), out),
        }
    }

    /// True when request `seq` must still be sent after the deadline: a create's delete
    /// (a run never leaves a znode behind for the next run to trip over).
    pub(super) fn must_follow(&self, seq: u64) -> bool {
        self.workload == Workload::CreateDelete && seq % 2 == 1
    }

    fn create_delete(&self, seq: u64) -> Request {
        let path = format!("{ROOT}/cd-{}-{}", self.conn, seq / 2);
        if seq.is_multiple_of(2) {
            Request::Create(CreateRequest {
                path,
                data: Some(self.value.clone()),
                acl: Acl::open_unsafe(),
                flags: 0,
            })
        } else {
            Request::Delete(DeleteRequest { path, version: -1 })
        }
    }
}

fn own_node(conn: usize) -> String {
    format!("{ROOT}/c{conn}")
}

/// Creates the znodes a plan reads and writes (existing ones are reused).
pub async fn setup(addr: SocketAddr, plan: &LoadPlan) -> io::Result<()> {
    let mut c = BenchConn::connect(addr, 30_000).await?;
    let value = payload(plan.value_size);
    let mut paths = vec![
        ROOT.to_string(),
        format!("{ROOT}/data"),
        format!("{ROOT}/fan"),
    ];
    paths.extend((0..plan.connections).map(own_node));
    for path in &paths {
        c.queue(&Request::Create(CreateRequest {
            path: path.clone(),
            data: None,
            acl: Acl::open_unsafe(),
            flags: 0,
        }));
    }
    for path in paths.iter().skip(1) {
        c.queue(&Request::SetData(SetDataRequest {
            path: path.clone(),
            data: Some(value.clone()),
            version: -1,
        }));
    }
    c.flush().await?;
    for _ in 0..paths.len() * 2 - 1 {
        let h = c.next_header().await?;
        let ok = h.err == 0 || h.err == ErrorCode::NodeExists.code();
        if !ok {
            return Err(io::Error::other(format!(
                "setup failed with error {}",
                h.err
            )));
        }
    }
    c.close().await;
    Ok(())
}

/// What one session measured.
#[derive(Default)]
pub(super) struct SessionResult {
    pub(super) lat: Latencies,
    pub(super) ops: u64,
    pub(super) errors: u64,
}

async fn drive_session(
    mut c: BenchConn,
    src: OpSource,
    depth: usize,
    deadline: Instant,
) -> io::Result<SessionResult> {
    let mut res = SessionResult::default();
    let mut sent: VecDeque<Instant> = VecDeque::with_capacity(depth);
    let mut seq = 0u64;
    let now = Instant::now();
    for _ in 0..depth {
        src.queue(&mut c, seq);
        seq += 1;
        sent.push_back(now);
    }
    c.flush().await?;
    while let Some(&first) = sent.front() {
        let h = c.next_header().await?;
        if h.xid == NOTIFICATION_XID {
            continue;
        }
        let now = Instant::now();
        sent.pop_front();
        res.lat.record(now.duration_since(first));
        res.ops += 1;
        res.errors += u64::from(h.err != 0);
        if now < deadline || src.must_follow(seq) {
            src.queue(&mut c, seq);
            seq += 1;
            sent.push_back(now);
        }
        if !c.has_frame() {
            c.flush().await?;
        }
    }
    c.close().await;
    Ok(res)
}

/// Connects `n` sessions, round-robin over `addrs` (session `i` on `addrs[i % len]`).
pub async fn connect_spread(addrs: &[SocketAddr], n: usize) -> io::Result<Vec<BenchConn>> {
    let mut conns = Vec::with_capacity(n);
    for addr in addrs.iter().cycle().take(n) {
        conns.push(BenchConn::connect(*addr, 30_000).await?);
    }
    Ok(conns)
}

/// Runs `plan` against the servers at `addrs`, sessions spread round-robin (after [`setup`]).
pub async fn run(addrs: &[SocketAddr], plan: &LoadPlan) -> io::Result<Summary> {
    let conns = connect_spread(addrs, plan.connections).await?;
    let start = Instant::now();
    let deadline = start + plan.duration;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            tokio::spawn(drive_session(
                c,
                OpSource::new(plan, i),
                plan.depth.max(1),
                deadline,
            ))
        })
        .collect();
    let (mut lat, mut ops, mut errors) = (Latencies::new(), 0, 0);
    for t in tasks {
        let r = t.await.map_err(io::Error::other)??;
        lat.merge(&r.lat);
        ops += r.ops;
        errors += r.errors;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(Summary::new(plan.workload.name(), ops, secs, errors, &lat))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(workload: Workload) -> LoadPlan {
        LoadPlan {
            workload,
            connections: 1,
            depth: 1,
            duration: Duration::from_secs(1),
            value_size: 8,
        }
    }

    #[test]
    fn create_delete_alternates_on_one_path() {
        let src = OpSource::new(&plan(Workload::CreateDelete), 3);
        match (src.create_delete(4), src.create_delete(5)) {
            (Request::Create(c), Request::Delete(d)) => {
                assert_eq!(c.path, "/rzk-bench/cd-3-2");
                assert_eq!(d.path, c.path);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_create_is_always_followed_by_its_delete() {
        let src = OpSource::new(&plan(Workload::CreateDelete), 0);
        assert!(src.must_follow(1));
        assert!(!src.must_follow(2));
        assert!(!OpSource::new(&plan(Workload::Set), 0).must_follow(1));
    }

    #[test]
    fn mix_reads_the_node_it_writes() {
        let src = OpSource::new(&plan(Workload::Mix), 0);
        let get_path = b"/rzk-bench/c0";
        assert!(src.get.windows(get_path.len()).any(|w| w == get_path));
    }
}
