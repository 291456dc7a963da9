//! The simulated world: the event queue, the nodes, the network, the checkers, and the
//! controls scenarios use (crash, restart, partition, heal, write, run).

use std::collections::{BTreeMap, BTreeSet};

use super::checker::{Checkers, Observation, Violation};
use super::client::{Client, Record};
use super::disk::TornTail;
use super::net::{Net, QMsg};
use super::node::Node;
use super::rng::Rng;
use crate::election::{self, ElectionConfig};
use crate::proto::quorum::{Notification, PeerState};
use crate::proto::ServerId;
use crate::zab::{Input, Leader, Learner, Zab, ZabConfig};

/// The shape of a run.
#[derive(Clone, Debug)]
pub struct Options {
    pub voters: usize,
    pub observers: usize,
    /// Random crashes, restarts, partitions and resets during the first `fault_ms`.
    pub faults: bool,
    pub fault_ms: u64,
    /// Healed, fault-free time at the end in which everything must converge.
    pub heal_ms: u64,
    /// Mean time between client writes (0: no workload).
    pub write_every_ms: u64,
    pub committed_log_max: usize,
    pub max_outstanding: usize,
    pub tick_ms: u64,
    /// Simulated client sessions running the random workload.
    pub clients: usize,
    /// Mean time between one client's steps.
    pub op_every_ms: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            voters: 3,
            observers: 0,
            faults: false,
            fault_ms: 0,
            heal_ms: 4000,
            write_every_ms: 0,
            committed_log_max: 500,
            max_outstanding: 1000,
            tick_ms: 50,
            clients: 0,
            op_every_ms: 40,
        }
    }
}

impl Options {
    /// A randomized run shape for the seed sweep.
    pub fn for_seed(rng: &mut Rng) -> Options {
        Options {
            voters: if rng.chance(1, 4) { 5 } else { 3 },
            observers: if rng.chance(1, 5) { 1 } else { 0 },
            faults: true,
            fault_ms: rng.range(2000, 4000),
            heal_ms: 5000,
            write_every_ms: rng.range(30, 120),
            committed_log_max: if rng.chance(1, 2) { 4 } else { 500 },
            max_outstanding: rng.range(2, 50) as usize,
            tick_ms: 50,
            clients: rng.range(2, 4) as usize,
            op_every_ms: rng.range(40, 100),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) enum Event {
    Tick(ServerId),
    Election {
        from: ServerId,
        to: ServerId,
        n: Notification,
    },
    Dial {
        conn: u64,
        attempt: u32,
    },
    Quorum {
        conn: u64,
        upstream: bool,
        msg: QMsg,
    },
    ConnDown {
        node: ServerId,
        peer: ServerId,
        conn: u64,
        gen: u64,
    },
    DiskSync {
        node: ServerId,
        generation: u64,
        len: usize,
    },
    Write(ServerId),
    Client(usize),
    Fault,
    Crash(ServerId, TornTail),
    Restart(ServerId),
    /// Ends a partition.
    HealNet,
    /// Ends the fault phase: heal everything and restart crashed nodes.
    Heal,
}

pub struct World {
    pub now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Event>,
    pub rng: Rng,
    pub opts: Options,
    pub nodes: BTreeMap<ServerId, Node>,
    pub(super) net: Net,
    checkers: Checkers,
    pub(super) zcfg: ZabConfig,
    pub violation: Option<Violation>,
    /// Writes delivered on the node that originated them: (client, cxid).
    pub acked: Vec<(i64, i32)>,
    /// Hash of every processed event, to prove runs replay identically.
    pub fingerprint: u64,
    pub(super) faults_until: u64,
    /// Every Zab action kind seen, by node, for scenario assertions.
    pub log: Vec<(ServerId, String)>,
    /// Also log every quorum packet delivered (for replaying a failure).
    pub trace: bool,
    /// (leader, learner) → the connection the leader's handler for that learner
    /// registered on (its FOLLOWERINFO arrived there). The leader writes only to it.
    pub(super) bound: BTreeMap<(ServerId, ServerId), u64>,
    pub clients: Vec<Client>,
    /// Every client request, in the order sent.
    pub records: Vec<Record>,
    /// Keys whose linearizability check hit its cap at `finish`.
    pub inconclusive: Vec<String>,
}

fn config_text(voters: usize, observers: usize) -> Vec<u8> {
    let mut lines: Vec<String> = (1..=voters + observers)
        .map(|i| {
            let role = if i > voters {
                "observer"
            } else {
                "participant"
            };
            format!("server.{i}=127.0.0.1:{}:{}:{role}", 2888 + i, 3888 + i)
        })
        .collect();
    lines.push("version=0".into());
    lines.join("\n").into_bytes()
}

impl World {
    pub fn new(seed: u64, opts: Options) -> World {
        let voters: BTreeSet<ServerId> = (1..=opts.voters as i64).map(ServerId).collect();
        let all = opts.voters + opts.observers;
        let observers: BTreeSet<ServerId> = (opts.voters as i64 + 1..=all as i64)
            .map(ServerId)
            .collect();
        let text = config_text(opts.voters, opts.observers);
        let zcfg = ZabConfig {
            my_id: ServerId(0),
            voters: voters.clone(),
            observers: observers.clone(),
            init_limit: 20,
            sync_limit: 10,
            max_outstanding: opts.max_outstanding,
            committed_log_max: opts.committed_log_max,
            config_text: text.clone(),
        };
        let mut nodes = BTreeMap::new();
        for sid in voters.iter().chain(observers.iter()) {
            let ecfg = ElectionConfig {
                my_id: *sid,
                voters: voters.clone(),
                config_text: text.clone(),
                initial_timeout: 4,
                max_timeout: 32,
                finalize_wait: 4,
            };
            let mut n = Node::new(*sid, ecfg);
            n.up = false;
            nodes.insert(*sid, n);
        }
        World {
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            rng: Rng::new(seed),
            faults_until: if opts.faults { opts.fault_ms } else { 0 },
            opts,
            nodes,
            net: Net::default(),
            checkers: Checkers::default(),
            zcfg,
            violation: None,
            acked: vec![],
            fingerprint: 0xcbf2_9ce4_8422_2325,
            log: vec![],
            trace: false,
            bound: BTreeMap::new(),
            clients: vec![],
            records: vec![],
            inconclusive: vec![],
        }
    }

    /// Starts every node (at slightly different times) and the workload and faults.
    pub fn start(&mut self) {
        let ids: Vec<ServerId> = self.nodes.keys().copied().collect();
        for sid in &ids {
            let at = self.rng.range(0, 30);
            self.schedule_at(at, Event::Restart(*sid));
            let tick = self.rng.range(1, self.opts.tick_ms);
            self.schedule_at(tick, Event::Tick(*sid));
        }
        if self.opts.write_every_ms > 0 {
            let at = self.rng.range(100, 300);
            let to = self.rng.pick(&ids).unwrap_or(ServerId(1));
            self.schedule_at(at, Event::Write(to));
        }
        self.start_clients();
        if self.opts.faults {
            self.schedule_at(200, Event::Fault);
            self.schedule_at(self.opts.fault_ms, Event::Heal);
        }
    }

    pub(super) fn schedule_at(&mut self, at: u64, e: Event) {
        self.seq += 1;
        self.queue.insert((at.max(self.now), self.seq), e);
    }

    pub(super) fn schedule(&mut self, delay: u64, e: Event) {
        self.schedule_at(self.now + delay, e);
    }

    pub(super) fn latency(&mut self) -> u64 {
        if self.rng.chance(1, 50) {
            self.rng.range(20, 100)
        } else {
            self.rng.range(1, 8)
        }
    }

    /// Records a violation found outside the checkers (client-side rules).
    pub(super) fn fail(&mut self, checker: &'static str, what: String) {
        if self.violation.is_none() {
            self.violation = Some(Violation { checker, what });
        }
    }

    pub(super) fn observe(&mut self, obs: &Observation<'_>) {
        if self.violation.is_none() {
            if let Err(v) = self.checkers.observe(obs) {
                self.violation = Some(v);
            }
        }
    }

    /// Runs until virtual time `until` (or a violation).
    pub fn run_until(&mut self, until: u64) {
        while self.violation.is_none() {
            let Some(entry) = self.queue.first_entry() else {
                break;
            };
            if entry.key().0 > until {
                break;
            }
            let ((at, _), e) = entry.remove_entry();
            self.now = at;
            self.fingerprint =
                (self.fingerprint ^ at ^ (event_tag(&e) << 48)).wrapping_mul(0x100_0000_01b3);
            self.handle(e);
        }
        self.now = self.now.max(until);
    }

    pub fn run_for(&mut self, ms: u64) {
        self.run_until(self.now + ms);
    }

    fn handle(&mut self, e: Event) {
        match e {
            Event::Tick(sid) => self.on_tick(sid),
            Event::Election { from, to, n } => self.on_election(from, to, n),
            Event::Dial { conn, attempt } => self.on_dial(conn, attempt),
            Event::Quorum {
                conn,
                upstream,
                msg,
            } => self.on_quorum(conn, upstream, msg),
            Event::ConnDown {
                node,
                peer,
                conn,
                gen,
            } => self.on_conn_down(node, peer, conn, gen),
            Event::DiskSync {
                node,
                generation,
                len,
            } => self.on_disk_sync(node, generation, len),
            Event::Write(sid) => self.on_write(sid),
            Event::Client(c) => self.on_client(c),
            Event::Fault => self.on_fault(),
            Event::Crash(sid, torn) => self.crash(sid, torn),
            Event::Restart(sid) => self.restart(sid),
            Event::HealNet => self.heal(),
            Event::Heal => self.heal_all(),
        }
    }

    fn on_tick(&mut self, sid: ServerId) {
        self.schedule(self.opts.tick_ms, Event::Tick(sid));
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        if !n.up {
            return;
        }
        let fle_out = n.fle.step(election::Input::Tick);
        let zab_out = n
            .zab
            .as_mut()
            .map(|z| z.step(Input::Tick))
            .unwrap_or_default();
        self.fle_actions(sid, fle_out);
        self.exec(sid, zab_out);
    }

    fn on_election(&mut self, from: ServerId, to: ServerId, n: Notification) {
        if self.net.partitioned(from, to) {
            return;
        }
        let Some(node) = self.nodes.get_mut(&to) else {
            return;
        };
        if !node.up {
            return;
        }
        if self.trace {
            let line = format!(
                "fle <- {from} {:?} leader {} ee {} pe {}",
                n.state, n.leader, n.election_epoch, n.peer_epoch
            );
            self.log.push((to, line));
        }
        let out = node.fle.step(election::Input::Received { from, n });
        self.fle_actions(to, out);
    }

    pub(super) fn fle_actions(&mut self, sid: ServerId, out: Vec<election::Action>) {
        for a in out {
            match a {
                election::Action::Send { to, n } => {
                    if self.net.partitioned(sid, to) {
                        continue;
                    }
                    // A reset connection delays a notification rather than losing it:
                    // `QuorumCnxManager` re-sends its last message to a peer on reconnect.
                    let reset = if self.rng.chance(1, 100) {
                        self.rng.range(50, 300)
                    } else {
                        0
                    };
                    let at = self.now + self.latency() + reset;
                    let at = self.net.election_time(sid, to, at);
                    self.schedule_at(at, Event::Election { from: sid, to, n });
                }
                election::Action::Decided { state, vote, .. } => {
                    self.start_role(sid, state, vote.leader)
                }
            }
        }
    }

    fn start_role(&mut self, sid: ServerId, state: PeerState, leader: ServerId) {
        let mut cfg = self.zcfg.clone();
        cfg.my_id = sid;
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        n.role_gen += 1;
        let durable = n.durable_view(&cfg);
        self.log.push((sid, format!("{state:?} {leader}")));
        if state == PeerState::Leading {
            let mut l = Leader::new(cfg, durable);
            let out = l.take_actions();
            n.zab = Some(Zab::Leader(l));
            return self.exec(sid, out);
        }
        let mut l = Learner::new(cfg, leader, durable);
        let out = l.take_actions();
        n.zab = Some(Zab::Learner(l));
        let gen = n.role_gen;
        let (conn, _) = self.net.dial(sid, leader, gen);
        let d = self.latency();
        self.schedule(d, Event::Dial { conn, attempt: 0 });
        self.exec(sid, out);
    }

    /// The end of a role (or of the process): close its quorum connections, telling the
    /// other ends, and forget the role.
    pub(super) fn close_conns(&mut self, sid: ServerId) {
        let ids: Vec<u64> = self
            .net
            .conns
            .iter()
            .filter(|(_, c)| c.alive && (c.learner == sid || c.leader == sid))
            .map(|(i, _)| *i)
            .collect();
        for id in ids {
            self.reset_conn(id);
        }
        self.net.gc();
    }

    /// Kills a connection; both ends learn of it after a delay.
    pub(super) fn reset_conn(&mut self, id: u64) {
        let Some(c) = self.net.conns.get(&id).cloned() else {
            return;
        };
        if !self.net.kill(id) {
            return;
        }
        let d = self.latency();
        self.schedule(
            d,
            Event::ConnDown {
                node: c.learner,
                peer: c.leader,
                conn: id,
                gen: c.learner_gen,
            },
        );
        if c.open {
            let d = self.latency();
            self.schedule(
                d,
                Event::ConnDown {
                    node: c.leader,
                    peer: c.learner,
                    conn: id,
                    gen: c.leader_gen,
                },
            );
        }
    }

    fn on_conn_down(&mut self, sid: ServerId, peer: ServerId, conn: u64, gen: u64) {
        let Some(n) = self.nodes.get(&sid) else {
            return;
        };
        if !n.up || n.role_gen != gen {
            return;
        }
        // Only the handler of this very connection dies; a newer one is unaffected.
        let current = if n.is_leader() {
            self.bound.get(&(sid, peer)).copied()
        } else {
            self.net.current(sid, peer)
        };
        if current.is_some_and(|c| c != conn) {
            return;
        }
        let out = self
            .nodes
            .get_mut(&sid)
            .and_then(|n| n.zab.as_mut())
            .map(|z| z.step(Input::PeerDown(peer)));
        self.exec(sid, out.unwrap_or_default());
    }

    pub(super) fn go_looking(&mut self, sid: ServerId) {
        self.close_conns(sid);
        self.drop_conns(sid);
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        n.reload();
        let (z, e) = (n.disk.last_zxid(), n.disk.current_epoch);
        let out = n.fle.step(election::Input::Start {
            last_zxid: z,
            current_epoch: i64::from(e),
        });
        self.fle_actions(sid, out);
    }

    pub fn crash(&mut self, sid: ServerId, torn: TornTail) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        if !n.up {
            return;
        }
        n.up = false;
        n.disk.crash(torn);
        n.zab = None;
        n.role_gen += 1;
        n.waiting.clear();
        n.end_role();
        self.log.push((sid, "crash".into()));
        self.close_conns(sid);
        self.drop_conns(sid);
    }

    pub fn restart(&mut self, sid: ServerId) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        if n.up {
            return;
        }
        n.up = true;
        let ecfg = n.fle_config();
        n.fle = election::Fle::new(ecfg);
        let (acc, cur) = (n.disk.accepted_epoch, n.disk.current_epoch);
        self.log.push((sid, "restart".into()));
        self.observe(&Observation::Loaded {
            node: sid,
            accepted: acc,
            current: cur,
        });
        self.go_looking(sid);
    }

    /// Crashes `sid` at virtual time `at`.
    pub fn crash_at(&mut self, at: u64, sid: i64, torn: TornTail) {
        self.schedule_at(at, Event::Crash(ServerId(sid), torn));
    }

    pub fn partition(&mut self, side: &[i64]) {
        let side: BTreeSet<ServerId> = side.iter().map(|s| ServerId(*s)).collect();
        let all: Vec<ServerId> = self.nodes.keys().copied().collect();
        for id in self.net.partition(&side, &all) {
            self.reset_conn(id);
        }
    }

    pub fn heal(&mut self) {
        self.net.heal();
    }

    fn heal_all(&mut self) {
        self.faults_until = 0;
        self.heal();
        let down: Vec<ServerId> = self
            .nodes
            .iter()
            .filter(|(_, n)| !n.up)
            .map(|(s, _)| *s)
            .collect();
        for sid in down {
            self.restart(sid);
        }
    }

    pub fn node(&self, sid: i64) -> &Node {
        &self.nodes[&ServerId(sid)]
    }

    /// The established leader, if exactly one node believes it is one.
    pub fn leader(&self) -> Option<i64> {
        let ls: Vec<i64> = self
            .nodes
            .values()
            .filter(|n| n.up && n.is_established_leader())
            .map(|n| n.id.0)
            .collect();
        if ls.len() == 1 {
            ls.first().copied()
        } else {
            None
        }
    }

    /// Final checks: the checkers' end-of-run view, then convergence after healing.
    pub fn finish(&mut self) -> Result<(), Violation> {
        if let Some(v) = self.violation.clone() {
            return Err(v);
        }
        let states: Vec<(ServerId, Vec<crate::proto::TxnEntry>)> = self
            .nodes
            .values()
            .filter(|n| n.up)
            .map(|n| (n.id, n.applied.clone()))
            .collect();
        let view: Vec<(ServerId, &[crate::proto::TxnEntry])> =
            states.iter().map(|(s, a)| (*s, a.as_slice())).collect();
        self.observe(&Observation::Final { states: &view });
        if let Some(v) = self.violation.clone() {
            return Err(v);
        }
        self.converged()?;
        self.check_clients()
    }

    /// The client guarantees, against the converged leader's history.
    fn check_clients(&mut self) -> Result<(), Violation> {
        if self.records.is_empty() {
            return Ok(());
        }
        let stream = self
            .leader()
            .map(|l| self.node(l).applied.as_slice())
            .unwrap_or_default();
        self.inconclusive = super::checker::sessions::check(&self.records, stream)?;
        Ok(())
    }

    fn converged(&self) -> Result<(), Violation> {
        let fail = |what: String| {
            Err(Violation {
                checker: "liveness",
                what,
            })
        };
        let Some(l) = self.leader() else {
            return fail("no single established leader after healing".into());
        };
        let target = self.node(l).applied_zxid();
        for n in self.nodes.values() {
            if !n.up || (n.id.0 != l && !n.serving) {
                return fail(format!("{} is not serving after healing", n.id));
            }
            if n.applied_zxid() != target {
                return fail(format!(
                    "{} applied {} but the leader {}",
                    n.id,
                    n.applied_zxid(),
                    target
                ));
            }
        }
        Ok(())
    }
}

fn event_tag(e: &Event) -> u64 {
    match e {
        Event::Tick(s) | Event::Write(s) | Event::Restart(s) | Event::Crash(s, _) => s.0 as u64,
        Event::Election { from, to, .. } => (from.0 * 31 + to.0) as u64,
        Event::Dial { conn, .. } | Event::Quorum { conn, .. } | Event::ConnDown { conn, .. } => {
            *conn
        }
        Event::DiskSync { len, .. } => *len as u64,
        Event::Fault | Event::Heal | Event::HealNet => 7,
        Event::Client(c) => 1000 + *c as u64,
    }
}
