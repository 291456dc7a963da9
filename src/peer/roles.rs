//! The role loop (`QuorumPeer.run`): LOOKING → a decision → LEADING (open the quorum
//! port) or FOLLOWING/OBSERVING (connect to the leader) → wait until the driver ends
//! the role → LOOKING again.

use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::links::{accept_learners, connect_leader, follow_leader, LinkSettings};
use super::{PeerEvent, RoleEnded};
use crate::config::QuorumSettings;
use crate::node::driver::Event;
use crate::proto::quorum::PeerState;
use crate::proto::Zxid;
use crate::quorum::Election;

/// Runs roles until the driver goes away. `last` is what the first election starts
/// from: the last logged zxid and the current epoch.
pub async fn run_roles(
    q: QuorumSettings,
    election: Election,
    events: mpsc::Sender<Event>,
    mut ended: mpsc::UnboundedReceiver<RoleEnded>,
    mut last: (Zxid, i64),
    links: LinkSettings,
) {
    let mut gen = 0u64;
    loop {
        let Some(d) = election.look(last.0, last.1).await else {
            return;
        };
        gen += 1;
        let task = match d.state {
            PeerState::Leading => match bind_quorum_port(&q).await {
                Ok(listener) => {
                    if events
                        .send(Event::Peer(PeerEvent::Lead { gen }))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    tokio::spawn(accept_learners(
                        listener,
                        gen,
                        events.clone(),
                        links.clone(),
                    ))
                }
                Err(e) => {
                    warn!("cannot open the quorum port: {e}; electing again");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            },
            PeerState::Following | PeerState::Observing => {
                let leader = d.vote.leader;
                let Some(addr) = q.servers.get(&leader).map(|s| s.quorum_addr()) else {
                    warn!("elected leader {leader} has no server line");
                    continue;
                };
                let within =
                    Duration::from_millis(u64::from(q.init_limit) * u64::from(q.tick_time_ms));
                match connect_leader(&addr, within).await {
                    Some(sock) => tokio::spawn(follow_leader(
                        sock,
                        leader,
                        gen,
                        events.clone(),
                        links.clone(),
                    )),
                    None => continue,
                }
            }
            PeerState::Looking => continue,
        };
        loop {
            match ended.recv().await {
                Some(e) if e.gen == gen => {
                    last = (e.last_zxid, e.current_epoch);
                    break;
                }
                Some(_) => {}
                None => {
                    task.abort();
                    return;
                }
            }
        }
        task.abort();
        info!(
            "role {gen} over; looking for a leader from zxid 0x{:x}",
            last.0 .0
        );
    }
}

async fn bind_quorum_port(q: &QuorumSettings) -> std::io::Result<TcpListener> {
    let me = q
        .me()
        .ok_or_else(|| std::io::Error::other("no server line for this server"))?;
    let host = if q.listen_on_all_ips {
        "0.0.0.0".to_string()
    } else {
        me.host.clone()
    };
    TcpListener::bind((host.as_str(), me.quorum_port)).await
}
