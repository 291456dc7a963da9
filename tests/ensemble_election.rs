//! Fast leader election in a mixed ensemble: two Apache ZooKeeper 3.8 peers (the Debian
//! jars, started with `QuorumPeerMain`) and one rzk election participant on loopback.
//! rzk must decide the same leader as the Java peers, both when it should win (highest
//! sid, equal zxids) and when it should not (then the Java peers also form their
//! ensemble and serve). Skipped, with a message, where Java or the jars are missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use rzk::config::{zoo_cfg, Config, QuorumSettings};
use rzk::proto::quorum::PeerState;
use rzk::proto::Zxid;
use rzk::quorum::election_driver;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The JVMs are heavy on a small machine: one case at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const JARS: &[&str] = &[
    "zookeeper",
    "zookeeper-jute",
    "slf4j-api",
    "slf4j-log4j12",
    "log4j-1.2",
    "netty-buffer",
    "netty-codec",
    "netty-common",
    "netty-handler",
    "netty-resolver",
    "netty-transport",
    "netty-transport-native-epoll",
    "netty-transport-native-unix-common",
    "commons-cli",
    "commons-io",
    "metrics-core",
    "snappy-java",
];

fn classpath() -> Option<String> {
    let jars: Vec<String> = JARS
        .iter()
        .map(|j| format!("/usr/share/java/{j}.jar"))
        .collect();
    let java = Command::new("java")
        .arg("-version")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    (java && jars.iter().all(|j| Path::new(j).exists())).then(|| jars.join(":"))
}

struct Ports {
    quorum: u16,
    election: u16,
    client: u16,
}

fn free_ports(n: usize) -> Vec<Ports> {
    let ls: Vec<_> = (0..n * 3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let p: Vec<u16> = ls.iter().map(|l| l.local_addr().unwrap().port()).collect();
    p.chunks(3)
        .map(|c| Ports {
            quorum: c[0],
            election: c[1],
            client: c[2],
        })
        .collect()
}

fn server_lines(ports: &BTreeMap<i64, Ports>) -> String {
    ports
        .iter()
        .map(|(id, p)| format!("server.{id}=127.0.0.1:{}:{}\n", p.quorum, p.election))
        .collect()
}

/// A Java peer; killed when dropped.
struct JavaPeer {
    child: Child,
    log: PathBuf,
}

impl Drop for JavaPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_java(dir: &Path, id: i64, ports: &BTreeMap<i64, Ports>, cp: &str) -> JavaPeer {
    let data = dir.join(format!("zk{id}"));
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("myid"), format!("{id}\n")).unwrap();
    let cfg = format!(
        "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\n{}",
        data.display(),
        ports[&id].client,
        server_lines(ports)
    );
    let cfg_path = data.join("zoo.cfg");
    std::fs::write(&cfg_path, cfg).unwrap();
    let log4j = data.join("log4j.properties");
    std::fs::write(
        &log4j,
        "log4j.rootLogger=INFO, C\nlog4j.appender.C=org.apache.log4j.ConsoleAppender\nlog4j.appender.C.layout=org.apache.log4j.PatternLayout\nlog4j.appender.C.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n\nlog4j.logger.org.apache.zookeeper.server.quorum.FastLeaderElection=DEBUG\n",
    )
    .unwrap();
    let log = data.join("server.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new("java")
        .args(["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"])
        .arg(format!("-Dlog4j.configuration=file:{}", log4j.display()))
        .args([
            "-cp",
            cp,
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        ])
        .arg(&cfg_path)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("java starts");
    JavaPeer { child, log }
}

/// The leader the Java peer settled on, from `FastLeaderElection.leaveInstance`'s line.
fn java_leader(peer: &JavaPeer) -> Option<(i64, String)> {
    let text = std::fs::read_to_string(&peer.log).ok()?;
    let line = text
        .lines()
        .find(|l| l.contains("About to leave FLE instance: leader="))?;
    let leader = line
        .split("leader=")
        .nth(1)?
        .split(',')
        .next()?
        .trim()
        .parse()
        .ok()?;
    let state = line.split("my state=").nth(1)?.trim().to_string();
    Some((leader, state))
}

async fn await_java_leader(peer: &JavaPeer) -> (i64, String) {
    for _ in 0..600 {
        if let Some(l) = java_leader(peer) {
            return l;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tail = std::fs::read_to_string(&peer.log).unwrap_or_default();
    panic!("the Java peer decided nothing within 60 s; log:\n{tail}");
}

async fn await_log(peer: &JavaPeer, needle: &str) {
    for _ in 0..600 {
        if std::fs::read_to_string(&peer.log).is_ok_and(|t| t.contains(needle)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {needle:?} in {} within 60 s", peer.log.display());
}

async fn srvr_mode(port: u16) -> Option<String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    s.write_all(b"srvr").await.ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).await.ok()?;
    out.lines()
        .find_map(|l| l.strip_prefix("Mode: ").map(str::to_string))
}

async fn await_mode(port: u16, want: &str) {
    for _ in 0..600 {
        if srvr_mode(port).await.as_deref() == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the Java peer on client port {port} is not serving as {want}");
}

fn rzk_settings(id: i64, ports: &BTreeMap<i64, Ports>) -> QuorumSettings {
    let text = format!(
        "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=/nonexistent\n{}",
        server_lines(ports)
    );
    let mut cfg =
        Config::from_entries("zoo.cfg", &zoo_cfg::parse(&text), &BTreeMap::new()).unwrap();
    cfg.server_id = id;
    QuorumSettings::from_config(&cfg).unwrap()
}

struct Case {
    /// Start rzk's election before the JVMs (so the Java pair cannot settle without
    /// it), or once both Java peers listen on their election ports.
    rzk_first: bool,
    rzk_id: i64,
    java_ids: [i64; 2],
    leader: i64,
}

/// Starts the rzk participant and both Java peers and checks that all three decide
/// `case.leader`.
/// The running mixed ensemble; the Java peers are killed and (unless a check failed)
/// their directory removed when it is dropped.
struct Ensemble {
    java: Vec<JavaPeer>,
    ports: BTreeMap<i64, Ports>,
    dir: PathBuf,
    election: rzk::quorum::Election,
    cnx: rzk::quorum::CnxManager,
}

impl Drop for Ensemble {
    fn drop(&mut self) {
        self.cnx.shutdown();
        self.java.clear();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

async fn run(case: Case, cp: &str) -> Ensemble {
    let dir = std::env::temp_dir().join(format!(
        "rzk-ensemble-{}-{}",
        std::process::id(),
        case.rzk_id
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let mut ids: Vec<i64> = case.java_ids.to_vec();
    ids.push(case.rzk_id);
    ids.sort();
    let ports: BTreeMap<i64, Ports> = ids.iter().copied().zip(free_ports(3)).collect();
    let mut java = Vec::new();
    if !case.rzk_first {
        java = case
            .java_ids
            .iter()
            .map(|id| start_java(&dir, *id, &ports, cp))
            .collect();
        for peer in &java {
            await_log(peer, "is accepting connections now").await;
        }
    }
    let (election, cnx) = election_driver::start(&rzk_settings(case.rzk_id, &ports))
        .await
        .unwrap();
    let looking = tokio::spawn(async move {
        let d = election.look(Zxid(0), 0).await;
        (d, election)
    });
    if case.rzk_first {
        java = case
            .java_ids
            .iter()
            .map(|id| start_java(&dir, *id, &ports, cp))
            .collect();
    }
    let (decision, election) = tokio::time::timeout(Duration::from_secs(60), looking)
        .await
        .expect("rzk decides")
        .unwrap();
    let decision = decision.expect("the election driver runs");
    let want = if case.leader == case.rzk_id {
        PeerState::Leading
    } else {
        PeerState::Following
    };
    assert_eq!(
        (decision.state, decision.vote.leader.0),
        (want, case.leader)
    );
    for (peer, id) in java.iter().zip(case.java_ids) {
        let (leader, state) = await_java_leader(peer).await;
        let want = if id == case.leader {
            "LEADING"
        } else {
            "FOLLOWING"
        };
        assert_eq!(
            (leader, state.as_str()),
            (case.leader, want),
            "Java peer {id}"
        );
    }
    Ensemble {
        java,
        ports,
        dir,
        election,
        cnx,
    }
}

/// Runs one case alone on a runtime of its own, or says why it cannot.
fn serial(body: impl FnOnce(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(cp) = classpath() else {
        eprintln!("skipped: java or the Apache ZooKeeper jars in /usr/share/java are missing");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(body(cp));
}

#[test]
fn rzk_with_the_highest_sid_is_elected_by_two_java_peers() {
    serial(|cp| {
        Box::pin(async move {
            run(
                Case {
                    rzk_first: true,
                    rzk_id: 3,
                    java_ids: [1, 2],
                    leader: 3,
                },
                &cp,
            )
            .await;
        })
    });
}

#[test]
fn rzk_with_the_lowest_sid_follows_the_java_leader_and_the_java_pair_serves() {
    serial(|cp| {
        Box::pin(async move {
            let e = run(
                Case {
                    rzk_first: false,
                    rzk_id: 1,
                    java_ids: [2, 3],
                    leader: 3,
                },
                &cp,
            )
            .await;
            // Two of three is a quorum: the Java pair forms its ensemble without rzk.
            await_mode(e.ports[&3].client, "leader").await;
            await_mode(e.ports[&2].client, "follower").await;
            // Looking again (as after losing a leader) rzk is told of the running
            // leader by the settled Java peers and joins it in their round.
            let again = tokio::time::timeout(Duration::from_secs(30), e.election.look(Zxid(0), 0))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                (again.state, again.vote.leader.0),
                (PeerState::Following, 3)
            );
        })
    });
}
