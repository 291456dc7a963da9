//! Crash durability: clients write continuously while the `rzk` process is killed with
//! SIGKILL at random points, many times; after every restart each write that got a
//! successful reply is there with its content.

mod support;

use bytes::BytesMut;
use rzk::proto::codec::encode_request;
use rzk::proto::*;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

const ROUNDS: usize = 8;
const WRITERS: usize = 4;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_server(cfg: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rzk"))
        .arg(cfg)
        .env("RZK_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("rzk starts")
}

async fn wait_ready(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(addr).await.is_ok()
            && four_letter(addr, "srvr").await.contains("Mode:")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {addr} did not come up");
}

/// Creates `/w<writer>-<round>-<i>` until the connection breaks; records acknowledged ones.
async fn writer(
    addr: SocketAddr,
    id: usize,
    round: usize,
    acked: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
) {
    let Some(mut c) = Client::connect_with(addr, 30_000, 0, vec![0; 16]).await else {
        return;
    };
    for i in 0.. {
        let path = format!("/w{id}-{round}-{i}");
        let data = format!("payload {id} {round} {i}").into_bytes();
        let req = Request::Create(CreateRequest {
            path: path.clone(),
            data: Some(data.clone()),
            acl: Acl::open_unsafe(),
            flags: 0,
        });
        let mut out = BytesMut::new();
        let xid = c.next_xid();
        encode_request(xid, &req, &mut out);
        c.send_raw(&out).await;
        match tokio::time::timeout(Duration::from_secs(5), c.reply_to(OpCode::Create)).await {
            Ok(Some((h, _))) if h.err == 0 => {
                acked.lock().unwrap().insert(path, data);
            }
            _ => return,
        }
    }
}

async fn verify(addr: SocketAddr, acked: &BTreeMap<String, Vec<u8>>) {
    let mut c = Client::connect(addr).await;
    for (path, data) in acked {
        let got = c.get_data(path, false).await;
        assert_eq!(
            got.map(|d| d.data),
            Ok(Some(data.clone())),
            "acknowledged write {path} lost"
        );
    }
    c.close().await;
}

fn setup() -> (PathBuf, SocketAddr) {
    let dir = std::env::temp_dir().join(format!(
        "rzk-crash-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let cfg = dir.join("zoo.cfg");
    let text = format!(
        "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n\
         4lw.commands.whitelist=*\nsnapCount=500\npreAllocSize=256\n",
        dir.join("data").display()
    );
    std::fs::write(&cfg, text).unwrap();
    (dir, SocketAddr::from(([127, 0, 0, 1], port)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill() {
    let (dir, addr) = setup();
    let acked = Arc::new(Mutex::new(BTreeMap::new()));
    for round in 0..ROUNDS {
        let mut server = spawn_server(&dir.join("zoo.cfg"));
        wait_ready(addr).await;
        let so_far = acked.lock().unwrap().clone();
        verify(addr, &so_far).await;
        let tasks: Vec<_> = (0..WRITERS)
            .map(|id| tokio::spawn(writer(addr, id, round, acked.clone())))
            .collect();
        let delay = 100 + rand::random::<u64>() % 700;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        server.kill().expect("SIGKILL");
        let _ = server.wait();
        for t in tasks {
            let _ = t.await;
        }
    }
    let mut server = spawn_server(&dir.join("zoo.cfg"));
    wait_ready(addr).await;
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > ROUNDS * WRITERS,
        "the writers made progress: {}",
        acked.len()
    );
    verify(addr, &acked).await;
    server.kill().unwrap();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(dir);
}
