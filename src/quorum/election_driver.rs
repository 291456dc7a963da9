//! Runs the pure `election::Fle` over the election connections: notifications decoded
//! from the connection manager and clock ticks go in, its notifications go out, and
//! its decision is handed to whoever asked for an election (`QuorumPeer`'s LOOKING
//! state calling `FastLeaderElection.lookForLeader`, plus the `WorkerReceiver` that keeps
//! answering LOOKING peers while this peer leads or follows).
//!
//! The driver lives as long as the peer: between elections it keeps answering LOOKING
//! peers with the decided vote, which is how a restarted peer finds a running leader.

use std::time::Duration;

use bytes::BytesMut;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, info};

use super::cnx_manager::{CnxConfig, CnxManager, Message};
use crate::config::QuorumSettings;
use crate::election::{Action, ElectionConfig, Fle, Input, Vote};
use crate::proto::quorum::{decode_notification, encode_notification, PeerState};
use crate::proto::Zxid;

/// How long one election tick lasts; the `ElectionConfig` timeouts count these.
pub const ELECTION_TICK: Duration = Duration::from_millis(10);

/// `ElectionConfig` timeouts in ticks of [`ELECTION_TICK`]: Java's 200 ms first
/// notification timeout doubling up to 60 s, and a 50 ms `finalizeWait` (Java waits
/// 200 ms for a better vote before settling; on the networks ensembles run on, votes
/// arrive within a few ms, and a wrong early decision only costs another round, never
/// safety: Zab's discovery still needs a quorum to follow the chosen leader).
pub fn java_timeouts(cfg: &mut ElectionConfig) {
    cfg.initial_timeout = 20;
    cfg.max_timeout = 6000;
    cfg.finalize_wait = 5;
}

/// The outcome of one election.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub state: PeerState,
    pub vote: Vote,
    pub election_epoch: i64,
}

/// The election settings of `q` with Java's timeouts.
pub fn election_config(q: &QuorumSettings) -> ElectionConfig {
    let mut cfg = ElectionConfig {
        my_id: q.my_id,
        voters: q.voters(),
        config_text: q.config_text(),
        initial_timeout: 0,
        max_timeout: 0,
        finalize_wait: 0,
    };
    java_timeouts(&mut cfg);
    cfg
}

/// The connection settings of `q`: the election port of this server's line (every
/// address with `quorumListenOnAllIPs`), every other server's election address.
pub async fn cnx_config(q: &QuorumSettings) -> std::io::Result<CnxConfig> {
    let me = q
        .me()
        .ok_or_else(|| std::io::Error::other(format!("no server.{} line", q.my_id)))?;
    let listen = if q.listen_on_all_ips {
        std::net::SocketAddr::from(([0, 0, 0, 0], me.election_port))
    } else {
        let found = tokio::net::lookup_host((me.host.as_str(), me.election_port))
            .await?
            .next();
        found.ok_or_else(|| std::io::Error::other(format!("cannot resolve {}", me.host)))?
    };
    let peers = q
        .servers
        .values()
        .filter(|s| s.id != q.my_id)
        .map(|s| (s.id, s.election_addr()))
        .collect();
    let mut cfg = CnxConfig::new(q.my_id, me.election_addr(), listen, peers);
    cfg.cnx_timeout = Duration::from_millis(q.cnx_timeout_ms.into());
    cfg.bind_retry = q.election_port_bind_retry;
    Ok(cfg)
}

/// Binds the election port of `q` and starts its election driver.
pub async fn start(q: &QuorumSettings) -> std::io::Result<(Election, CnxManager)> {
    let (cnx, inbound) = CnxManager::start(cnx_config(q).await?).await?;
    Ok((
        Election::spawn(election_config(q), cnx.clone(), inbound),
        cnx,
    ))
}

enum Command {
    Look {
        last_zxid: Zxid,
        current_epoch: i64,
        reply: oneshot::Sender<Decision>,
    },
    Epoch(i64),
}

/// Tells the election which epoch the current role established; usable from any thread.
#[derive(Clone, Debug)]
pub struct EpochNotifier(mpsc::Sender<Command>);

impl EpochNotifier {
    pub fn established(&self, epoch: i64) {
        if self.0.try_send(Command::Epoch(epoch)).is_err() {
            debug!("the election did not take epoch {epoch} (stopped or busy)");
        }
    }
}

/// Handle on the running election; dropping it stops the driver.
pub struct Election {
    commands: mpsc::Sender<Command>,
    task: JoinHandle<()>,
}

impl Election {
    /// Starts the driver over `cnx`, whose received messages come from `inbound`.
    pub fn spawn(
        cfg: ElectionConfig,
        cnx: CnxManager,
        inbound: mpsc::Receiver<Message>,
    ) -> Election {
        let (tx, rx) = mpsc::channel(16);
        let task = tokio::spawn(run(Fle::new(cfg), cnx, inbound, rx));
        Election { commands: tx, task }
    }

    pub fn epoch_notifier(&self) -> EpochNotifier {
        EpochNotifier(self.commands.clone())
    }

    /// Enters LOOKING and waits for the decision; `None` if the driver stopped.
    pub async fn look(&self, last_zxid: Zxid, current_epoch: i64) -> Option<Decision> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Look {
                last_zxid,
                current_epoch,
                reply,
            })
            .await
            .ok()?;
        rx.await.ok()
    }
}

impl Drop for Election {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    mut fle: Fle,
    cnx: CnxManager,
    mut inbound: mpsc::Receiver<Message>,
    mut commands: mpsc::Receiver<Command>,
) {
    let mut waiting: Option<oneshot::Sender<Decision>> = None;
    let mut ticks = tokio::time::interval(ELECTION_TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let actions = tokio::select! {
            c = commands.recv() => match c {
                Some(Command::Look { last_zxid, current_epoch, reply }) => {
                    waiting = Some(reply);
                    info!("LOOKING with last zxid 0x{:x}, current epoch {current_epoch}", last_zxid.0);
                    fle.step(Input::Start { last_zxid, current_epoch })
                }
                Some(Command::Epoch(epoch)) => fle.step(Input::EpochEstablished { epoch }),
                None => return,
            },
            m = inbound.recv() => match m {
                Some(m) => received(&mut fle, m),
                None => return,
            },
            _ = ticks.tick() => fle.step(Input::Tick),
        };
        perform(&cnx, actions, &mut waiting);
    }
}

fn received(fle: &mut Fle, m: Message) -> Vec<Action> {
    match decode_notification(&m.body) {
        Ok(n) => {
            debug!(
                "notification from {}: {:?} leader {} zxid 0x{:x} round {} epoch {}",
                m.from, n.state, n.leader, n.zxid, n.election_epoch, n.peer_epoch
            );
            fle.step(Input::Received { from: m.from, n })
        }
        Err(e) => {
            debug!("skipping a malformed notification from {}: {e}", m.from);
            Vec::new()
        }
    }
}

fn perform(
    cnx: &CnxManager,
    actions: Vec<Action>,
    waiting: &mut Option<oneshot::Sender<Decision>>,
) {
    for a in actions {
        match a {
            Action::Send { to, n } => {
                let mut b = BytesMut::new();
                encode_notification(&n, &mut b);
                cnx.send(to, b.freeze());
            }
            Action::Decided {
                state,
                vote,
                election_epoch,
            } => {
                info!("election over: {state:?}, leader {} (zxid 0x{:x}, epoch {}), round {election_epoch}", vote.leader, vote.zxid.0, vote.peer_epoch);
                if let Some(w) = waiting.take() {
                    let _ = w.send(Decision {
                        state,
                        vote,
                        election_epoch,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{zoo_cfg, Config};

    fn settings(me: i64, ports: &[u16]) -> QuorumSettings {
        let mut text =
            String::from("tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=/nonexistent\n");
        for (i, p) in ports.iter().enumerate() {
            text.push_str(&format!("server.{}=127.0.0.1:{}:{p}\n", i + 1, p + 1));
        }
        let mut cfg =
            Config::from_entries("zoo.cfg", &zoo_cfg::parse(&text), &Default::default()).unwrap();
        cfg.server_id = me;
        QuorumSettings::from_config(&cfg).unwrap()
    }

    fn free_ports(n: usize) -> Vec<u16> {
        let ls: Vec<_> = (0..n)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        ls.iter().map(|l| l.local_addr().unwrap().port()).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_drivers_on_loopback_elect_the_highest_sid_and_a_late_peer_joins_it() {
        let ports = free_ports(3);
        let mut peers = Vec::new();
        for me in 1..=3 {
            peers.push(start(&settings(me, &ports)).await.unwrap());
        }
        let looks = peers.iter().map(|(e, _)| e.look(Zxid(0), 0));
        let decided =
            tokio::time::timeout(Duration::from_secs(20), futures::future::join_all(looks))
                .await
                .unwrap();
        let states: Vec<_> = decided
            .iter()
            .map(|d| d.map(|d| (d.state, d.vote.leader.0)))
            .collect();
        assert_eq!(
            states,
            vec![
                Some((PeerState::Following, 3)),
                Some((PeerState::Following, 3)),
                Some((PeerState::Leading, 3))
            ]
        );
        // Peer 1 restarts its election: the others answer with the settled vote.
        let again = tokio::time::timeout(Duration::from_secs(20), peers[0].0.look(Zxid(0), 0))
            .await
            .unwrap();
        assert_eq!(
            again.map(|d| (d.state, d.vote.leader.0)),
            Some((PeerState::Following, 3))
        );
        for (_, cnx) in &peers {
            cnx.shutdown();
        }
    }
}
