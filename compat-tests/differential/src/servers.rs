//! Starting and stopping the two servers under comparison: Apache ZooKeeper 3.8 from the
//! Debian jars and rzk from its binary, each on a free loopback port with a fresh dataDir
//! and the same zoo.cfg.

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which implementation a server runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Zk,
    Rzk(PathBuf),
}

/// Short ticks make session expiry fast; the container reaper is pushed out of reach so that
/// no txn ever happens at a time the workload did not choose.
const CFG: &str = "tickTime=100
minSessionTimeout=400
maxSessionTimeout=60000
maxClientCnxns=0
4lw.commands.whitelist=*
extendedTypesEnabled=true
admin.enableServer=false
forceSync=no
DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
";
const JVM_FLAGS: &str = "-Dznode.container.checkIntervalMs=3600000";

pub struct Server {
    pub addr: SocketAddr,
    child: Child,
}

impl Server {
    pub fn start(kind: &Kind, name: &str, work: &Path) -> Result<Server> {
        let dir = work.join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data"))?;
        let port = free_port()?;
        let cfg = dir.join("zoo.cfg");
        let text = format!(
            "{CFG}dataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n",
            dir.join("data").display()
        );
        std::fs::write(&cfg, text)?;
        let log = std::fs::File::create(dir.join("server.log"))?;
        let child = command(kind, &cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let mut server = Server { addr, child };
        if let Err(e) = server.wait_ready() {
            server.stop();
            return Err(e.context(format!(
                "{name} did not start; see {}",
                dir.join("server.log").display()
            )));
        }
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("exited with {status}");
            }
            if four_letter(self.addr, "srvr").contains("Mode:") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("not ready within 30 s")
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn command(kind: &Kind, cfg: &Path) -> Command {
    match kind {
        Kind::Zk => {
            let mut c = Command::new("java");
            c.args(JVM_FLAGS.split(' '))
                .args([
                    "-Xmx512m",
                    "-cp",
                    "/usr/share/java/zookeeper.jar:/usr/share/java/*",
                ])
                .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
                .arg(cfg);
            c
        }
        Kind::Rzk(bin) => {
            let mut c = Command::new(bin);
            c.env("JVMFLAGS", JVM_FLAGS)
                .env_remove("SERVER_JVMFLAGS")
                .arg(cfg);
            c
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Sends a four-letter word; everything the server wrote before closing, or "".
pub fn four_letter(addr: SocketAddr, word: &str) -> String {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.write_all(word.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
