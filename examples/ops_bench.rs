//! What monitoring costs the request path: `cargo run --release --example ops_bench`.
//!
//! 1. The per-request recording (`ServerStats::record_request`: the `srvr` counters plus
//!    one latency-bucket increment) against the counters alone, and what the
//!    per-namespace read summary and the response-size gauges add to a read.
//! 2. The whole core (`node::Core::step`, no sockets, no disk): the same request mix
//!    through a standalone core and through a leader whose proposals commit at once,
//!    recording every metric and with recording paused, in alternating rounds.
//! 3. End to end: an in-process server answering pipelined requests (10% writes) with no
//!    metrics provider, then with the Prometheus endpoint on and scraped every 50 ms
//!    (hundreds of times more often than a usual 15 s scrape interval).

use rzk::config::{zoo_cfg, Config};
use rzk::launch::Running;
use rzk::node::stats::ServerStats;
use rzk::node::{Action, Core, CoreConfig, Input, RequestBody, Role};
use rzk::proto::{
    Acl, ConnectRequest, CreateRequest, PathWatchRequest, Request, Response, SetDataRequest, Stat,
};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const REQUESTS: usize = 200_000;
const WINDOW: usize = 64;
const ROUNDS: usize = 5;

fn micro() {
    let n = 20_000_000i64;
    let mut s = ServerStats::default();
    let t = Instant::now();
    for i in 0..n {
        s.record_latency(black_box(i & 7));
    }
    let counters = t.elapsed().as_nanos() as f64 / n as f64;
    let mut s = ServerStats::default();
    let t = Instant::now();
    for i in 0..n {
        s.record_request(black_box(i & 7), i % 10 == 0);
    }
    let with_buckets = t.elapsed().as_nanos() as f64 / n as f64;
    black_box(&s);
    println!("recording per request: counters only {counters:.2} ns, counters + latency bucket {with_buckets:.2} ns");
    let req = Request::Exists(PathWatchRequest {
        path: "/bench/node".into(),
        watch: false,
    });
    let ok = Ok(Response::Stat(Stat::default()));
    let frame = [0u8; 88];
    let mut s = ServerStats::default();
    let n = n / 4;
    let t = Instant::now();
    for i in 0..n {
        s.record_request(black_box(i & 7), false);
        s.record_read(black_box(&req), &ok);
        s.record_response_frame(black_box(&frame));
    }
    let per_read = t.elapsed().as_nanos() as f64 / n as f64;
    black_box(&s);
    println!("recording per read with namespace summary and response size: {per_read:.2} ns");
}

/// A core with one client session and `/bench`; a leader's proposals commit at once.
fn bench_core(role: Role) -> Core {
    let cfg = CoreConfig::from_config(&Config::standalone_default(), None);
    let mut c = Core::new(cfg, 1_000, 0, 7);
    if role != Role::Standalone {
        c.set_role(role);
        c.start_serving(0x1_0000_0000);
    }
    c.step(Input::Opened {
        conn: 1,
        peer: "127.0.0.1:5000".parse().expect("address"),
        auth: Vec::new(),
    });
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        timeout_ms: 30_000,
        session_id: 0,
        passwd: vec![0; 16],
        read_only: None,
    };
    core_step(
        &mut c,
        Input::Connect {
            conn: 1,
            req,
            bytes: 49,
        },
    );
    let create = Request::Create(CreateRequest {
        path: "/bench".into(),
        data: Some(b"xy".to_vec()),
        acl: Acl::open_unsafe(),
        flags: 0,
    });
    core_step(
        &mut c,
        Input::Request {
            conn: 1,
            xid: 1,
            body: RequestBody::Ok(create),
            bytes: 40,
        },
    );
    c
}

/// One input, then what the shells would answer: the log syncs at once, the
/// ensemble commits at once. Returns the number of actions taken.
fn core_step(c: &mut Core, input: Input) -> usize {
    c.step(input);
    let mut n = 0;
    loop {
        let actions = c.take_actions();
        if actions.is_empty() {
            return n;
        }
        n += actions.len();
        for a in actions {
            match a {
                Action::Persist { entries } => {
                    let upto = entries.last().map_or(0, |e| e.header.zxid);
                    c.step(Input::Persisted { upto });
                }
                Action::Propose(e) => c.step(Input::Committed(e)),
                _ => {}
            }
        }
    }
}

/// ns per request through the core: 10% setData, 90% exists.
fn core_round(role: Role, paused: bool, n: usize) -> f64 {
    let mut c = bench_core(role);
    c.pause_recording(paused);
    let read = Request::Exists(PathWatchRequest {
        path: "/bench".into(),
        watch: false,
    });
    let write = Request::SetData(SetDataRequest {
        path: "/bench".into(),
        data: Some(vec![7; 100]),
        version: -1,
    });
    let mut sink = 0usize;
    let t = Instant::now();
    for i in 0..n {
        c.set_time(1_000 + (i / 1000) as i64, (i / 1000) as i64);
        let req = if i % 10 == 0 {
            write.clone()
        } else {
            read.clone()
        };
        sink += core_step(
            &mut c,
            Input::Request {
                conn: 1,
                xid: i as i32 + 2,
                body: RequestBody::Ok(req),
                bytes: 40,
            },
        );
    }
    black_box(sink);
    t.elapsed().as_nanos() as f64 / n as f64
}

fn core_path() {
    let n = 300_000;
    for role in [Role::Standalone, Role::Leading] {
        let (mut on, mut off) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            on.push(core_round(role, false, n));
            off.push(core_round(role, true, n));
        }
        let (on, off) = (median(on), median(off));
        println!(
            "core, {} (10% setData), median of {ROUNDS} rounds: recording {on:.0} ns/request, paused {off:.0} ns/request, ratio {:.3}",
            role.name(),
            on / off
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(17999)
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as i32).to_be_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

fn string(s: &str) -> Vec<u8> {
    let mut v = (s.len() as i32).to_be_bytes().to_vec();
    v.extend_from_slice(s.as_bytes());
    v
}

fn request(xid: i32, write: bool) -> Vec<u8> {
    let mut b = xid.to_be_bytes().to_vec();
    if write {
        b.extend_from_slice(&5i32.to_be_bytes());
        b.extend(string("/bench"));
        b.extend_from_slice(&2i32.to_be_bytes());
        b.extend_from_slice(b"xy");
        b.extend_from_slice(&(-1i32).to_be_bytes());
    } else {
        b.extend_from_slice(&3i32.to_be_bytes());
        b.extend(string("/bench"));
        b.push(0);
    }
    frame(&b)
}

async fn read_frame(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).await?;
    let mut body = vec![0u8; i32::from_be_bytes(len).max(0) as usize];
    s.read_exact(&mut body).await?;
    Ok(body)
}

async fn session(addr: std::net::SocketAddr) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr).await?;
    let mut c = 0i32.to_be_bytes().to_vec();
    c.extend_from_slice(&0i64.to_be_bytes());
    c.extend_from_slice(&30_000i32.to_be_bytes());
    c.extend_from_slice(&0i64.to_be_bytes());
    c.extend_from_slice(&16i32.to_be_bytes());
    c.extend_from_slice(&[0u8; 16]);
    c.push(0);
    s.write_all(&frame(&c)).await?;
    read_frame(&mut s).await?;
    let mut create = 1i32.to_be_bytes().to_vec();
    create.extend_from_slice(&1i32.to_be_bytes());
    create.extend(string("/bench"));
    create.extend_from_slice(&0i32.to_be_bytes());
    create.extend_from_slice(&1i32.to_be_bytes());
    create.extend_from_slice(&31i32.to_be_bytes());
    create.extend(string("world"));
    create.extend(string("anyone"));
    create.extend_from_slice(&0i32.to_be_bytes());
    s.write_all(&frame(&create)).await?;
    read_frame(&mut s).await?;
    Ok(s)
}

/// Requests per second over `REQUESTS` pipelined requests, `WINDOW` in flight.
async fn drive(addr: std::net::SocketAddr) -> std::io::Result<f64> {
    let mut s = session(addr).await?;
    let t = Instant::now();
    let (mut sent, mut got) = (0usize, 0usize);
    while got < REQUESTS {
        let mut batch = Vec::new();
        while sent < REQUESTS && sent - got < WINDOW {
            batch.extend(request(sent as i32 + 2, sent % 10 == 0));
            sent += 1;
        }
        s.write_all(&batch).await?;
        read_frame(&mut s).await?;
        got += 1;
    }
    Ok(REQUESTS as f64 / t.elapsed().as_secs_f64())
}

async fn scrape_forever(port: u16) {
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await {
            let _ = s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").await;
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn run(metrics: bool, scrape: bool) -> std::io::Result<f64> {
    let dir = std::env::temp_dir().join(format!("rzk-bench-{}", std::process::id()));
    let port = free_port();
    let mut text = format!("tickTime=2000\ndataDir={}\nclientPort=0\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n", dir.display());
    if metrics {
        text.push_str(&format!("metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nmetricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort={port}\n"));
    }
    let cfg = Config::from_entries("bench.cfg", &zoo_cfg::parse(&text), &BTreeMap::new())
        .map_err(std::io::Error::other)?;
    let server = Running::start(cfg, None).await?;
    let scraper = (metrics && scrape).then(|| tokio::spawn(scrape_forever(port)));
    let rate = drive(server.addr).await;
    if let Some(s) = scraper {
        s.abort();
    }
    server.stop().await;
    rate
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // `ops_bench profile on|off`: one standalone core round only, for a profiler.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("profile") {
        let paused = args.get(2).map(String::as_str) == Some("off");
        println!(
            "{:.0} ns/request",
            core_round(Role::Standalone, paused, 100_000)
        );
        return Ok(());
    }
    micro();
    core_path();
    let (mut off, mut idle, mut on) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        off.push(run(false, false).await?);
        idle.push(run(true, false).await?);
        on.push(run(true, true).await?);
    }
    let (off, idle, on) = (median(off), median(idle), median(on));
    let pct = |x: f64| (x / off - 1.0) * 100.0;
    println!("end to end, {REQUESTS} requests, {WINDOW} in flight, median of {ROUNDS} rounds:");
    println!("  without metrics provider:                 {off:>10.0} req/s");
    println!(
        "  with Prometheus endpoint, not scraped:    {idle:>10.0} req/s ({:+.1}%)",
        pct(idle)
    );
    println!(
        "  with Prometheus endpoint, 50 ms scrapes:  {on:>10.0} req/s ({:+.1}%)",
        pct(on)
    );
    Ok(())
}
