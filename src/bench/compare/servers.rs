//! The two servers under test as child processes: the same zoo.cfg (free loopback port,
//! `forceSync=yes`, dataDir under one work directory, hence on one disk), readiness by
//! `srvr`, and their own CPU time and RSS read from `/proc/<pid>`.
//!
//! Apache ZooKeeper runs as `zkServer.sh start-foreground` would run it
//! (`ZooKeeperServerMain`), from the Debian jars, logging at WARN so that neither server
//! pays for logging the other does not do.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use crate::ops::system;
use crate::storage::bench_java::{answers_srvr, free_port};

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Zk,
    Rzk,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Zk => "zookeeper",
            Kind::Rzk => "rzk",
        }
    }
}

/// The jars of Debian's ZooKeeper 3.8 server (no client-side extras, like
/// `zkServer.sh`'s classpath).
pub const ZK_JARS: &[&str] = &[
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

/// How to launch each server.
#[derive(Clone, Debug)]
pub struct Launch {
    pub zk_classpath: String,
    pub zk_heap: String,
    pub rzk_bin: PathBuf,
    /// CPUs the servers are confined to (every CPU when empty).
    pub server_cpus: Vec<usize>,
}

/// Confines the calling thread, and the threads and processes it starts afterwards, to
/// `cpus` (`sched_setaffinity`).
pub fn pin(cpus: &[usize]) -> std::io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes within it for indices
    // below CPU_SETSIZE, which the filter ensures.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            libc::CPU_SET(c, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A running server.
pub struct ServerProc {
    pub kind: Kind,
    pub addr: SocketAddr,
    child: Child,
    started: Instant,
}

/// The zoo.cfg keys both servers get, standalone or as an ensemble member.
pub(super) fn zoo_cfg(data_dir: &Path, port: u16) -> String {
    format!(
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
         maxClientCnxns=0\nforceSync=yes\nadmin.enableServer=false\n4lw.commands.whitelist=*\n",
        data_dir.display()
    )
}

const LOG4J: &str = "log4j.rootLogger=WARN, CONSOLE\nlog4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n\
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\nlog4j.appender.CONSOLE.layout.ConversionPattern=%d %-5p %m%n\n";

fn command(kind: Kind, launch: &Launch, run_dir: &Path, quorum: bool) -> Command {
    let cfg = run_dir.join("zoo.cfg");
    // zkServer.sh starts QuorumPeerMain, which runs ZooKeeperServerMain when the
    // configuration names no servers; the standalone runs call it directly.
    let main = if quorum {
        "org.apache.zookeeper.server.quorum.QuorumPeerMain"
    } else {
        "org.apache.zookeeper.server.ZooKeeperServerMain"
    };
    match kind {
        Kind::Zk => {
            let mut c = Command::new("java");
            c.arg(format!("-Xmx{}", launch.zk_heap))
                .arg(format!(
                    "-Dlog4j.configuration=file:{}",
                    run_dir.join("log4j.properties").display()
                ))
                .arg(format!("-Dzookeeper.log.dir={}", run_dir.display()))
                .args(["-cp", &launch.zk_classpath, main])
                .arg(cfg);
            c
        }
        Kind::Rzk => {
            let mut c = Command::new(&launch.rzk_bin);
            c.arg(cfg).env("RZK_LOG", "warn");
            c
        }
    }
}

impl ServerProc {
    /// Starts `kind` on `data_dir` (config and log in `run_dir`); does not wait.
    pub fn spawn(
        kind: Kind,
        launch: &Launch,
        run_dir: &Path,
        data_dir: &Path,
    ) -> Result<ServerProc, String> {
        std::fs::create_dir_all(data_dir).map_err(|e| e.to_string())?;
        let port = free_port()?;
        ServerProc::spawn_with(kind, launch, run_dir, &zoo_cfg(data_dir, port), port, false)
    }

    /// Starts `kind` with the zoo.cfg text `cfg` (written in `run_dir`) serving clients on
    /// `port`; `quorum` picks Apache ZooKeeper's ensemble entry point.
    pub fn spawn_with(
        kind: Kind,
        launch: &Launch,
        run_dir: &Path,
        cfg: &str,
        port: u16,
        quorum: bool,
    ) -> Result<ServerProc, String> {
        std::fs::create_dir_all(run_dir).map_err(|e| e.to_string())?;
        std::fs::write(run_dir.join("zoo.cfg"), cfg).map_err(|e| e.to_string())?;
        std::fs::write(run_dir.join("log4j.properties"), LOG4J).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(run_dir.join("server.log")).map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let started = Instant::now();
        let mut cmd = command(kind, launch, run_dir, quorum);
        if !launch.server_cpus.is_empty() {
            let cpus = launch.server_cpus.clone();
            // SAFETY: runs in the child between fork and exec; `pin` only makes one
            // system call on memory of its own.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || pin(&cpus));
            }
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", kind.label()))?;
        Ok(ServerProc {
            kind,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child,
            started,
        })
    }

    /// Waits until `srvr` reports a mode (the database is loaded and requests are
    /// served); returns the time since the process was started.
    pub fn wait_serving(&mut self, limit: Duration) -> Result<Duration, String> {
        loop {
            if answers_srvr(self.addr) {
                return Ok(self.started.elapsed());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("{} exited with {status}", self.kind.label()));
            }
            if self.started.elapsed() > limit {
                return Err(format!(
                    "{} not serving after {} s",
                    self.kind.label(),
                    limit.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The `Mode:` of `srvr` (standalone, leader, follower, …); None while not serving.
    pub fn mode(&self) -> Option<String> {
        srvr_mode(self.addr)
    }

    /// Why the process is gone, if it is.
    pub fn exit_status(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!("{} exited with {status}", self.kind.label())),
            _ => None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's user+system CPU time so far.
    pub fn cpu_time(&self) -> Result<Duration, String> {
        let text = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .map_err(|e| e.to_string())?;
        system::cpu_from_stat(&text, system::clock_ticks())
            .ok_or_else(|| "unreadable /proc stat".to_string())
    }

    /// Resident set size in bytes.
    pub fn rss_bytes(&self) -> Result<u64, String> {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .map_err(|e| e.to_string())?;
        system::proc_value(&text, "VmRSS:")
            .map(|kib| kib * 1024)
            .ok_or_else(|| "no VmRSS".to_string())
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn srvr_mode(addr: SocketAddr) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"srvr").ok()?;
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    mode_of(&text)
}

fn mode_of(srvr: &str) -> Option<String> {
    srvr.lines()
        .find_map(|l| l.strip_prefix("Mode: "))
        .map(|m| m.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_is_read_from_srvr() {
        assert_eq!(
            mode_of("Zookeeper version: 3.8.0\nMode: follower\nNode count: 5\n").as_deref(),
            Some("follower")
        );
        assert_eq!(
            mode_of("This ZooKeeper instance is not currently serving requests\n"),
            None
        );
    }

    #[test]
    fn both_servers_get_force_sync() {
        assert!(zoo_cfg(Path::new("/d"), 5000).contains("forceSync=yes\n"));
    }
}
