//! The simulated shell: executes a node's Zab actions against the simulated disk and
//! network, delivers quorum traffic, and drives the workload and the fault schedule.

use std::collections::VecDeque;

use super::checker::Observation;
use super::disk::TornTail;
use super::net::QMsg;
use super::node::Queued;
use super::serve::outcome_of;
use super::world::{Event, World};
use crate::proto::quorum::{ForwardedRequest, Packet};
use crate::proto::{OpCode, ServerId, SessionId, SetDataTxn, Txn, TxnEntry, TxnHeader, Zxid};
use crate::zab::{Action, Input, Zab};

impl World {
    pub(super) fn step_zab(&mut self, sid: ServerId, input: Input) -> Vec<Action> {
        self.nodes
            .get_mut(&sid)
            .and_then(|n| n.zab.as_mut())
            .map(|z| z.step(input))
            .unwrap_or_default()
    }

    /// Executes actions in order; inputs they cause are fed back and their actions run
    /// after the current batch, as a shell's event loop would.
    pub(super) fn exec(&mut self, sid: ServerId, actions: Vec<Action>) {
        let mut queue: VecDeque<Action> = actions.into();
        loop {
            while let Some(a) = queue.pop_front() {
                if self.violation.is_some() {
                    return;
                }
                let more = self.exec_one(sid, a);
                queue.extend(more);
            }
            // The leader's request queue moves whenever the proposal window has room.
            match self.pump_one(sid) {
                Some(more) => queue.extend(more),
                None => return,
            }
        }
    }

    fn exec_one(&mut self, sid: ServerId, a: Action) -> Vec<Action> {
        match a {
            Action::Send { to, pkt } => self.send_quorum(sid, to, QMsg::Packet(pkt)),
            Action::Persist { entries } => self.persist(sid, &entries),
            Action::Truncate { to } => self.truncate(sid, to),
            Action::SendSnapshot { to, zxid } => {
                self.log.push((sid, format!("snap to {to} at {zxid}")));
                let state = self
                    .nodes
                    .get(&sid)
                    .map(|n| n.applied.clone())
                    .unwrap_or_default();
                self.send_quorum(sid, to, QMsg::Snapshot { zxid, state });
            }
            Action::TakeSnapshot { .. } => {
                if let Some(n) = self.nodes.get_mut(&sid) {
                    n.disk.replace(n.applied.clone());
                }
            }
            Action::SaveEpoch { kind, epoch } => self.save_epoch(sid, kind, epoch),
            Action::Deliver { entry } => self.deliver(sid, entry),
            Action::Established { epoch } => self.established(sid, epoch),
            Action::Serving { .. } => {
                if let Some(n) = self.nodes.get_mut(&sid) {
                    n.serving = true;
                }
            }
            Action::Request { from, req } => self.forwarded(sid, from, req),
            Action::Revalidate { from, session, .. } => {
                return self.answer_revalidate(sid, from, session.0)
            }
            Action::Revalidated { session, valid } => self.revalidated(sid, session.0, valid),
            Action::SyncDone { .. } => self.sync_done(sid),
            Action::ProposeRefused(e) => self.refused(sid, &e),
            Action::CloseLearner(l) => {
                if let Some(id) = self.net.current(l, sid) {
                    self.reset_conn(id);
                }
            }
            Action::GoLooking { reason } => {
                self.log.push((sid, format!("looking: {reason}")));
                self.go_looking(sid);
            }
            Action::TouchSessions { .. } => {}
        }
        vec![]
    }

    /// The txn of a server's own background write (not a client session's).
    pub(super) fn entry_for(&self, req: &ForwardedRequest) -> TxnEntry {
        let header = TxnHeader {
            client_id: req.session.0,
            cxid: req.cxid,
            zxid: 0,
            time: self.now as i64,
        };
        let txn = Txn::SetData(SetDataTxn {
            path: "/k".into(),
            data: Some(req.body.clone()),
            version: req.cxid,
        });
        TxnEntry {
            header,
            txn,
            digest: None,
        }
    }

    fn refused(&mut self, sid: ServerId, e: &TxnEntry) {
        let key = (e.header.client_id, e.header.cxid);
        let origin = ServerId(e.header.client_id);
        if let Some(n) = self.nodes.get_mut(&origin) {
            n.waiting.retain(|w| *w != key);
        }
        self.log.push((sid, "refused".into()));
    }

    fn persist(&mut self, sid: ServerId, entries: &[TxnEntry]) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        n.disk.append(entries);
        let (generation, len) = (n.disk.generation, n.disk.log.len());
        let d = if self.rng.chance(1, 30) {
            self.rng.range(50, 200)
        } else {
            self.rng.range(1, 10)
        };
        self.schedule(
            d,
            Event::DiskSync {
                node: sid,
                generation,
                len,
            },
        );
    }

    fn truncate(&mut self, sid: ServerId, to: Zxid) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        let removed = n.disk.truncate(to);
        n.set_applied(n.disk.log.clone());
        let (generation, len) = (n.disk.generation, n.disk.log.len());
        self.log.push((sid, format!("truncate {to}")));
        self.schedule(
            1,
            Event::DiskSync {
                node: sid,
                generation,
                len,
            },
        );
        self.observe(&Observation::Truncate {
            node: sid,
            removed: &removed,
        });
    }

    fn save_epoch(&mut self, sid: ServerId, kind: crate::zab::EpochKind, epoch: u32) {
        if let Some(n) = self.nodes.get_mut(&sid) {
            match kind {
                crate::zab::EpochKind::Accepted => n.disk.accepted_epoch = epoch,
                crate::zab::EpochKind::Current => n.disk.current_epoch = epoch,
            }
        }
        self.observe(&Observation::SaveEpoch {
            node: sid,
            kind,
            epoch,
        });
    }

    fn deliver(&mut self, sid: ServerId, entry: TxnEntry) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        let prev = n.applied_zxid();
        let key = (entry.header.client_id, entry.header.cxid);
        if let Some(i) = n.waiting.iter().position(|w| *w == key) {
            n.waiting.remove(i);
            self.acked.push(key);
        }
        self.observe(&Observation::Deliver {
            node: sid,
            prev,
            entry: &entry,
        });
        let h = entry.header;
        let outcome = outcome_of(&entry.txn);
        if let Some(n) = self.nodes.get_mut(&sid) {
            let _ = n.tree.apply(&entry);
            n.applied.push(entry);
        }
        self.reply_delivered(sid, h, outcome);
    }

    fn established(&mut self, sid: ServerId, epoch: u32) {
        self.log.push((sid, format!("established {epoch}")));
        let log = self
            .nodes
            .get(&sid)
            .map(|n| n.disk.log.clone())
            .unwrap_or_default();
        self.observe(&Observation::Established {
            node: sid,
            epoch,
            log: &log,
        });
    }

    fn send_quorum(&mut self, from: ServerId, to: ServerId, msg: QMsg) {
        let Some(n) = self.nodes.get(&from) else {
            return;
        };
        let upstream = matches!(n.zab, Some(Zab::Learner(_)));
        let id = if upstream {
            self.net.current(from, to)
        } else {
            self.bound.get(&(from, to)).copied()
        };
        let Some(id) = id else { return };
        let Some(c) = self.net.conns.get_mut(&id) else {
            return;
        };
        if !c.open {
            if upstream {
                c.backlog.push(msg);
            }
            return;
        }
        let at = self.now + self.latency();
        let at = self.net.conn_time(id, upstream, at);
        self.schedule_at(
            at,
            Event::Quorum {
                conn: id,
                upstream,
                msg,
            },
        );
    }

    /// The learner's connect attempt: only an active leader listens on the quorum port.
    pub(super) fn on_dial(&mut self, id: u64, attempt: u32) {
        let Some(c) = self.net.conns.get(&id).cloned() else {
            return;
        };
        if !c.alive {
            return;
        }
        let leader = self.nodes.get(&c.leader);
        let listening = leader.is_some_and(|l| l.up && l.is_leader())
            && !self.net.partitioned(c.learner, c.leader);
        if !listening {
            if attempt < 8 {
                return self.schedule(
                    2 * self.opts.tick_ms,
                    Event::Dial {
                        conn: id,
                        attempt: attempt + 1,
                    },
                );
            }
            return self.reset_conn(id);
        }
        let gen = leader.map_or(0, |l| l.role_gen);
        let Some(c) = self.net.conns.get_mut(&id) else {
            return;
        };
        c.open = true;
        c.leader_gen = gen;
        let backlog = std::mem::take(&mut c.backlog);
        for msg in backlog {
            let at = self.now + self.latency();
            let at = self.net.conn_time(id, true, at);
            self.schedule_at(
                at,
                Event::Quorum {
                    conn: id,
                    upstream: true,
                    msg,
                },
            );
        }
    }

    pub(super) fn on_quorum(&mut self, id: u64, upstream: bool, msg: QMsg) {
        let Some(c) = self.net.conns.get(&id).cloned() else {
            return;
        };
        let (to, from, gen) = if upstream {
            (c.leader, c.learner, c.leader_gen)
        } else {
            (c.learner, c.leader, c.learner_gen)
        };
        let sender_gen = if upstream {
            c.learner_gen
        } else {
            c.leader_gen
        };
        let live = |w: &World, s: ServerId, g: u64| {
            w.nodes.get(&s).is_some_and(|n| n.up && n.role_gen == g)
        };
        if !c.alive || !live(self, to, gen) || !live(self, from, sender_gen) {
            return;
        }
        let pkt = match msg {
            QMsg::Packet(p) => p,
            QMsg::Snapshot { zxid, state } => {
                if let Some(n) = self.nodes.get_mut(&to) {
                    n.set_applied(state);
                }
                Packet::Snap(zxid)
            }
        };
        if matches!(
            pkt,
            Packet::FollowerInfo { .. } | Packet::ObserverInfo { .. }
        ) {
            self.bound.insert((to, from), id);
        }
        if self.trace {
            let mut line = format!("<- {from} {pkt:?}");
            line.truncate(140);
            self.log.push((to, line));
        }
        let out = self.step_zab(to, Input::Packet { from, pkt });
        self.exec(to, out);
    }

    pub(super) fn on_disk_sync(&mut self, sid: ServerId, generation: u64, len: usize) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        if !n.up {
            return;
        }
        if let Some(upto) = n.disk.synced(generation, len) {
            let out = self.step_zab(sid, Input::Persisted { upto });
            self.exec(sid, out);
        }
    }

    /// A client write arriving at `sid`; the next one goes to a random node.
    pub(super) fn on_write(&mut self, sid: ServerId) {
        let quiet = self.opts.fault_ms + self.opts.heal_ms.saturating_sub(1500);
        if self.now < quiet {
            let ids: Vec<ServerId> = self.nodes.keys().copied().collect();
            let next = self.rng.pick(&ids).unwrap_or(sid);
            let d = self.rng.range(1, 2 * self.opts.write_every_ms);
            self.schedule(d, Event::Write(next));
        }
        self.write(sid.0);
    }

    /// Submits one write at node `sid` if it can take it; true if submitted.
    pub fn write(&mut self, sid: i64) -> bool {
        let sid = ServerId(sid);
        let Some(n) = self.nodes.get_mut(&sid) else {
            return false;
        };
        if !n.up || !(n.is_established_leader() || n.serving) {
            return false;
        }
        n.next_cxid += 1;
        let cxid = n.next_cxid;
        n.waiting.push((sid.0, cxid));
        let body = format!("{sid}-{cxid}").into_bytes();
        let req = ForwardedRequest {
            session: SessionId(sid.0),
            cxid,
            op: OpCode::SetData.code(),
            body,
            auth: vec![],
        };
        if n.is_established_leader() {
            n.backlog.push_back(Queued::Write { from: sid, req });
            self.exec(sid, vec![]);
        } else {
            let out = self.step_zab(sid, Input::Forward(req));
            self.exec(sid, out);
        }
        true
    }

    pub(super) fn on_fault(&mut self) {
        if self.now >= self.faults_until {
            return;
        }
        let d = self.rng.range(100, 600);
        self.schedule(d, Event::Fault);
        let ids: Vec<ServerId> = self.nodes.keys().copied().collect();
        let Some(sid) = self.rng.pick(&ids) else {
            return;
        };
        match self.rng.range(0, 9) {
            0 | 1 => {
                let torn = match self.rng.range(0, 2) {
                    0 => TornTail::DropAll,
                    1 => TornTail::KeepAll,
                    _ => TornTail::Keep(self.rng.range(0, 3) as usize),
                };
                self.crash(sid, torn);
                let back = self.rng.range(200, 1500);
                self.schedule(back, Event::Restart(sid));
            }
            2 | 3 => {
                let side: Vec<i64> = ids
                    .iter()
                    .filter(|_| self.rng.chance(1, 2))
                    .map(|s| s.0)
                    .collect();
                self.partition(&side);
                let heal = self.rng.range(200, 1500);
                self.schedule(heal, Event::HealNet);
            }
            4 | 5 => {
                let alive: Vec<u64> = self
                    .net
                    .conns
                    .iter()
                    .filter(|(_, c)| c.alive)
                    .map(|(i, _)| *i)
                    .collect();
                if let Some(id) = self.rng.pick(&alive) {
                    self.reset_conn(id);
                }
            }
            _ => {}
        }
    }
}
