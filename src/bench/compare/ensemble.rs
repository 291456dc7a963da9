//! Ensembles of one kind on loopback for `rzk-bench compare --ensemble N`: N processes of
//! Apache ZooKeeper 3.8 (`QuorumPeerMain`, as `zkServer.sh` starts it) or of rzk, with the
//! same zoo.cfg as the standalone runs plus `server.N=127.0.0.1:quorumPort:electionPort`
//! lines and a `myid` file per node. Every node has its own dataDir under one work
//! directory (one disk for all, as for the standalone pair), so the fsyncs of three
//! nodes compete for the same device, as they would on one host.
//!
//! The runner waits for exactly one `Mode: leader` and the others `follower` (as
//! `srvr` reports them) before any load, and sums the CPU time of all the nodes.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::{Duration, Instant};

use super::servers::{zoo_cfg, Kind, Launch, ServerProc};

/// Where the load's sessions connect.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clients {
    /// Round-robin over every node: writes through followers are forwarded to the leader.
    Spread,
    /// Every session on the leader.
    Leader,
}

impl Clients {
    /// Suffix of the workload's name in the table.
    pub fn suffix(self) -> &'static str {
        match self {
            Clients::Spread => "",
            Clients::Leader => "@leader",
        }
    }
}

/// A running ensemble of one kind.
pub struct Ensemble {
    pub kind: Kind,
    nodes: Vec<ServerProc>,
    leader: Option<usize>,
}

/// Ports of one node: (client, quorum, election).
type Ports = (u16, u16, u16);

/// `n` distinct free loopback ports (all bound at once, so none is handed out twice).
fn free_ports(n: usize) -> Result<Vec<u16>, String> {
    let mut held = Vec::with_capacity(n);
    let mut ports = Vec::with_capacity(n);
    while ports.len() < n {
        let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = l.local_addr().map_err(|e| e.to_string())?.port();
        if port != 2181 {
            ports.push(port);
        }
        held.push(l);
    }
    Ok(ports)
}

/// The zoo.cfg of one member: the standalone keys plus one `server.N` line per member
/// (ids from 1).
fn node_cfg(data_dir: &Path, client_port: u16, members: &[Ports]) -> String {
    let mut cfg = zoo_cfg(data_dir, client_port);
    for (i, (_, quorum, election)) in members.iter().enumerate() {
        cfg.push_str(&format!("server.{}=127.0.0.1:{quorum}:{election}\n", i + 1));
    }
    cfg
}

impl Ensemble {
    /// Starts `size` members of `kind` under `base` (`n1/`, `n2/`, …); does not wait.
    pub fn start(
        kind: Kind,
        launch: &Launch,
        base: &Path,
        size: usize,
    ) -> Result<Ensemble, String> {
        let ports = free_ports(3 * size)?;
        let members: Vec<Ports> = ports.chunks_exact(3).map(|c| (c[0], c[1], c[2])).collect();
        let mut ens = Ensemble {
            kind,
            nodes: Vec::with_capacity(size),
            leader: None,
        };
        for (i, &(client, _, _)) in members.iter().enumerate() {
            let run_dir = base.join(format!("n{}", i + 1));
            let data = run_dir.join("data");
            let started = std::fs::create_dir_all(&data)
                .and_then(|()| std::fs::write(data.join("myid"), format!("{}\n", i + 1)))
                .map_err(|e| format!("{}: {e}", data.display()))
                .and_then(|()| {
                    ServerProc::spawn_with(
                        kind,
                        launch,
                        &run_dir,
                        &node_cfg(&data, client, &members),
                        client,
                        true,
                    )
                });
            match started {
                Ok(p) => ens.nodes.push(p),
                Err(e) => {
                    ens.stop();
                    return Err(e);
                }
            }
        }
        Ok(ens)
    }

    /// Waits until one member leads and every other follows; returns the time it took.
    pub fn wait_leader(&mut self, limit: Duration) -> Result<Duration, String> {
        let t = Instant::now();
        loop {
            if let Some(e) = self.nodes.iter_mut().find_map(ServerProc::exit_status) {
                return Err(e);
            }
            let modes: Vec<Option<String>> = self.nodes.iter().map(ServerProc::mode).collect();
            let leaders: Vec<usize> = (0..modes.len())
                .filter(|&i| modes[i].as_deref() == Some("leader"))
                .collect();
            let followers = modes
                .iter()
                .filter(|m| m.as_deref() == Some("follower"))
                .count();
            if leaders.len() == 1 && followers + 1 == self.nodes.len() {
                self.leader = leaders.first().copied();
                return Ok(t.elapsed());
            }
            if t.elapsed() > limit {
                return Err(format!(
                    "{} ensemble: no leader after {} s (modes {modes:?})",
                    self.kind.label(),
                    limit.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The member id (from 1) of the leader found by [`Ensemble::wait_leader`].
    pub fn leader_id(&self) -> Option<usize> {
        self.leader.map(|i| i + 1)
    }

    /// The client addresses the load connects to, in round-robin order.
    pub fn addrs(&self, clients: Clients) -> Vec<SocketAddr> {
        match (clients, self.leader.and_then(|i| self.nodes.get(i))) {
            (Clients::Leader, Some(l)) => vec![l.addr],
            _ => self.nodes.iter().map(|n| n.addr).collect(),
        }
    }

    /// CPU time of all the members together.
    pub fn cpu_time(&self) -> Result<Duration, String> {
        self.nodes.iter().map(ServerProc::cpu_time).sum()
    }

    /// RSS of all the members together.
    pub fn rss_bytes(&self) -> u64 {
        self.nodes.iter().map(|n| n.rss_bytes().unwrap_or(0)).sum()
    }

    /// Kills every member.
    pub fn stop(self) {
        self.nodes.into_iter().for_each(ServerProc::stop);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_names_the_whole_ensemble() {
        let cfg = node_cfg(
            Path::new("/d/n2/data"),
            5002,
            &[(5001, 6001, 7001), (5002, 6002, 7002), (5003, 6003, 7003)],
        );
        assert!(cfg.contains("clientPort=5002\n"));
        assert!(cfg.contains("server.1=127.0.0.1:6001:7001\nserver.2=127.0.0.1:6002:7002\nserver.3=127.0.0.1:6003:7003\n"));
        assert!(cfg.contains("forceSync=yes\n"));
    }

    #[test]
    fn free_ports_are_distinct_and_never_2181() {
        let mut p = free_ports(9).expect("ports");
        assert!(!p.contains(&2181));
        p.sort_unstable();
        p.dedup();
        assert_eq!(p.len(), 9);
    }
}
