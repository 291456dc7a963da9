//! The Apache ZooKeeper side of `rzk storage-bench`: its `FileTxnLog` driven by a small
//! Java program compiled at run time, and its server started on a dataDir; plus the
//! start-until-`srvr` timer both servers share.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BENCH_SOURCE: &str = include_str!("../../bench/ZkStorageBench.java");

/// A compiled Java benchmark and the classpath to run Apache ZooKeeper with.
pub struct JavaSide {
    classpath: String,
    classes: PathBuf,
}

impl JavaSide {
    /// Compiles the Java benchmark; an error when Java or the jars are missing.
    pub fn prepare(classpath: &str, dir: &Path) -> Result<JavaSide, String> {
        if classpath.is_empty() {
            return Err("no classpath given".into());
        }
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let src = dir.join("ZkStorageBench.java");
        std::fs::write(&src, BENCH_SOURCE).map_err(|e| e.to_string())?;
        let out = Command::new("javac")
            .args(["-nowarn", "-d"])
            .arg(dir)
            .args(["-cp", classpath])
            .arg(&src)
            .output()
            .map_err(|e| format!("javac: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "javac failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .next()
                    .unwrap_or("")
            ));
        }
        Ok(JavaSide {
            classpath: classpath.to_string(),
            classes: dir.to_path_buf(),
        })
    }

    /// `ZooKeeperServerMain <cfg>` with a heap large enough for a million znodes.
    pub fn server_command(&self, cfg: &Path) -> Command {
        let mut c = Command::new("java");
        c.args([
            "-Xmx4g",
            "-Dzookeeper.log.threshold=WARN",
            "-cp",
            &self.classpath,
        ])
        .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
        .arg(cfg);
        c
    }
}

/// batch size → (txns, seconds) from Java's `FileTxnLog`.
pub fn java_fsync_figures(
    j: &JavaSide,
    dir: &Path,
    seconds: f64,
    batches: &[usize],
) -> Result<BTreeMap<usize, (u64, f64)>, String> {
    let cp = format!("{}:{}", j.classes.display(), j.classpath);
    let out = Command::new("java")
        .args(["-cp", &cp, "ZkStorageBench"])
        .arg(dir)
        .arg(seconds.to_string())
        .args(batches.iter().map(usize::to_string))
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("java: {e}"))?;
    let mut rows = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if let ["batch", b, "txns", n, "seconds", s] = w.as_slice() {
            if let (Ok(b), Ok(n), Ok(s)) = (b.parse(), n.parse(), s.parse()) {
                rows.insert(b, (n, s));
            }
        }
    }
    if rows.is_empty() {
        return Err("Java benchmark printed nothing".into());
    }
    Ok(rows)
}

pub(crate) fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

pub(crate) fn answers_srvr(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"srvr").is_err() {
        return false;
    }
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.contains("Mode:")
}

/// Starts a server on `data_dir` (zoo.cfg written in `run_dir`) and times it until
/// `srvr` answers; the server is killed afterwards.
pub fn time_to_srvr(
    run_dir: &Path,
    data_dir: &Path,
    command: impl Fn(&Path) -> Command,
) -> Result<Duration, String> {
    std::fs::create_dir_all(run_dir).map_err(|e| e.to_string())?;
    let port = free_port()?;
    let cfg = run_dir.join("zoo.cfg");
    let text = format!(
        "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\n",
        data_dir.display()
    );
    std::fs::write(&cfg, text).map_err(|e| e.to_string())?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    let mut child = command(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let result = loop {
        if answers_srvr(addr) {
            break Ok(start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(600) {
            break Err("no answer within 600 s".to_string());
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Err(format!("exited with {status}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}
