//! Runs a [`Core`] on its own thread: feeds it events from the connection tasks, reads the
//! clocks, and executes its actions (frames to connection queues, transactions to the
//! log). The only place where the core meets the outside world.

use super::four_letter::Query;
use super::stats::ServerSnapshot;
use super::snapshot::SnapshotSlice;
use super::{Action, ConnId, Core, Input};
use crate::proto::TxnEntry;
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info, warn};

/// What a connection task receives from the core.
#[derive(Debug)]
pub enum Out {
    Frame(Bytes),
    /// The session is set up: start reading requests.
    Established,
    /// Flush and close.
    Close,
}

/// What the driver receives.
#[derive(Debug)]
pub enum Event {
    /// A new connection and the queue its frames go to (bounded: a client that never
    /// reads is disconnected when it fills up).
    /// `auth`: ids its TLS handshake proved (x509).
    Open { conn: ConnId, peer: std::net::SocketAddr, out: mpsc::Sender<Out>, auth: Vec<crate::proto::Id> },
    Input(Input),
    /// The operations surface asks for the server's state (`crate::ops`).
    Query { what: Query, reply: oneshot::Sender<ServerSnapshot> },
    /// The log writer asks for a snapshot (it has just rolled the log).
    Snapshot,
    /// Persistence failed (fsync error, full disk): the server must stop before it
    /// acknowledges anything that may not be durable.
    Failed(String),
    /// Ensemble traffic and role changes (`crate::peer`).
    Peer(crate::peer::PeerEvent),
    /// Stop the core.
    Shutdown,
}

/// Where prepared transactions go to become durable. Until the on-disk log exists the
/// driver keeps the most recent ones in memory (`ZKDatabase.committedLog` keeps a similar
/// window for follower sync).
pub trait TxnLog: Send {
    /// Hands the entries over to be made durable. `Some(upto)` when they are durable
    /// on return; `None` when `Input::Persisted` will come later through the events.
    fn append(&mut self, entries: Vec<TxnEntry>) -> std::io::Result<Option<i64>>;

    /// The next part of a snapshot the core is taking (see `node::snapshot`); the last
    /// slice carries `end`.
    fn snapshot_slice(&mut self, _slice: SnapshotSlice) {}
}

/// An in-memory log that keeps the last `capacity` entries.
pub struct MemoryLog {
    capacity: usize,
    entries: VecDeque<TxnEntry>,
}

impl MemoryLog {
    pub fn new(capacity: usize) -> MemoryLog {
        MemoryLog { capacity, entries: VecDeque::new() }
    }
}

impl TxnLog for MemoryLog {
    fn append(&mut self, entries: Vec<TxnEntry>) -> std::io::Result<Option<i64>> {
        let upto = entries.last().map(|e| e.header.zxid).unwrap_or(0);
        for e in entries {
            if self.entries.len() == self.capacity {
                self.entries.pop_front();
            }
            self.entries.push_back(e);
        }
        Ok(Some(upto))
    }
}

/// How many queued events are handled before actions are executed: the batch that one
/// log append (one fsync) covers.
pub const MAX_BATCH: usize = 1024;

/// The queues of the open connections, where the core's frames go.
#[derive(Default)]
pub struct Outs(BTreeMap<ConnId, mpsc::Sender<Out>>);

impl Outs {
    pub fn open(&mut self, conn: ConnId, out: mpsc::Sender<Out>) {
        self.0.insert(conn, out);
    }

    pub fn remove(&mut self, conn: ConnId) {
        self.0.remove(&conn);
    }

    /// Executes an action about connections; any other action is handed back.
    pub fn execute(&mut self, a: Action) -> Option<Action> {
        match a {
            Action::Send { conn, frame } => self.deliver(conn, Out::Frame(frame)),
            Action::Established { conn } => self.deliver(conn, Out::Established),
            Action::Close { conn } => {
                self.deliver(conn, Out::Close);
                self.0.remove(&conn);
            }
            other => return Some(other),
        }
        None
    }

    fn deliver(&mut self, conn: ConnId, out: Out) {
        let Some(tx) = self.0.get(&conn) else { return };
        if let Err(e) = tx.try_send(out) {
            if matches!(e, mpsc::error::TrySendError::Full(_)) {
                warn!("connection {conn}: client is not reading its replies; closing the connection");
            }
            // Dropping the sender ends the connection task, which reports Closed.
            self.0.remove(&conn);
        }
    }
}

/// Hands the events that concern the core and the connections to them (both drivers
/// do the same with these); every other event is given back.
pub fn to_core(core: &mut Core, outs: &mut Outs, ev: Event) -> Option<Event> {
    match ev {
        Event::Open { conn, peer, out, auth } => {
            outs.open(conn, out);
            core.step(Input::Opened { conn, peer, auth });
        }
        Event::Input(input) => {
            if let Input::Closed { conn } = &input {
                outs.remove(*conn);
            }
            core.step(input);
        }
        Event::Query { what, reply } => {
            let _ = reply.send(core.answer_query(what));
        }
        Event::Snapshot => {
            core.begin_snapshot();
        }
        other => return Some(other),
    }
    None
}

/// Wall and monotonic clock readings in ms, the latter from `start`.
pub fn clock_ms(start: Instant) -> (i64, i64) {
    let wall = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    (wall, start.elapsed().as_millis() as i64)
}

struct Driver<L: TxnLog> {
    core: Core,
    log: L,
    outs: Outs,
    mono_start: Instant,
    /// Why persistence failed; the driver stops once set.
    failed: Option<String>,
}

/// Runs the core until `Event::Shutdown` or until every sender is gone; an error when
/// it stopped because persistence failed.
pub fn run<L: TxnLog>(core: Core, log: L, mut rx: mpsc::Receiver<Event>) -> Result<(), String> {
    let mut d = Driver { core, log, outs: Outs::default(), mono_start: Instant::now(), failed: None };
    let result = drive(&mut d, &mut rx);
    // Close the channel before the log is dropped, so a log thread blocked on sending
    // to it wakes up and finishes.
    rx.close();
    drop(rx);
    drop(d);
    result
}

/// Nodes encoded per snapshot slice: small enough that a slice between two batches of
/// requests costs well under a millisecond.
pub const SNAPSHOT_SLICE_NODES: usize = 2_000;

/// The next event; while a snapshot is being taken, idle time goes to its slices.
fn next_event<L: TxnLog>(d: &mut Driver<L>, rx: &mut mpsc::Receiver<Event>) -> Option<Event> {
    while d.core.snapshotting() {
        match rx.try_recv() {
            Ok(ev) => return Some(ev),
            Err(mpsc::error::TryRecvError::Empty) => d.snapshot_slice(),
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
        }
    }
    rx.blocking_recv()
}

fn drive<L: TxnLog>(d: &mut Driver<L>, rx: &mut mpsc::Receiver<Event>) -> Result<(), String> {
    while let Some(first) = next_event(d, rx) {
        d.set_time();
        if !d.handle(first) {
            break;
        }
        let mut handled = 1;
        while handled < MAX_BATCH && d.failed.is_none() {
            let Ok(ev) = rx.try_recv() else { break };
            if !d.handle(ev) {
                return d.stopped();
            }
            handled += 1;
        }
        if d.failed.is_none() {
            d.execute();
            d.snapshot_slice();
        }
        if d.failed.is_some() {
            break;
        }
    }
    d.stopped()
}

impl<L: TxnLog> Driver<L> {
    fn snapshot_slice(&mut self) {
        if let Some(slice) = self.core.snapshot_slice(SNAPSHOT_SLICE_NODES) {
            self.log.snapshot_slice(slice);
        }
    }

    fn stopped(&mut self) -> Result<(), String> {
        match self.failed.take() {
            Some(why) => {
                error!("stopping: no more writes are accepted: {why}");
                Err(why)
            }
            None => {
                info!("core stopped");
                Ok(())
            }
        }
    }

    fn set_time(&mut self) {
        let (wall, mono) = clock_ms(self.mono_start);
        self.core.set_time(wall, mono);
    }

    fn handle(&mut self, ev: Event) -> bool {
        let Some(ev) = to_core(&mut self.core, &mut self.outs, ev) else { return true };
        match ev {
            Event::Failed(why) => self.failed = Some(why),
            Event::Peer(_) => warn!("ignoring an ensemble event on a standalone server"),
            Event::Shutdown => return false,
            Event::Open { .. } | Event::Input(_) | Event::Query { .. } | Event::Snapshot => {}
        }
        true
    }

    /// Executes actions until the core has nothing more to say (applying persisted
    /// transactions produces replies, which may release queued reads, …).
    fn execute(&mut self) {
        loop {
            let actions = self.core.take_actions();
            if actions.is_empty() {
                return;
            }
            for a in actions {
                self.execute_one(a);
            }
        }
    }

    fn execute_one(&mut self, a: Action) {
        let Some(a) = self.outs.execute(a) else { return };
        match a {
            Action::Send { .. } | Action::Established { .. } | Action::Close { .. } => {}
            Action::Persist { entries } => match self.log.append(entries) {
                Ok(Some(upto)) => self.core.step(Input::Persisted { upto }),
                Ok(None) => {}
                Err(e) => self.failed = Some(format!("transaction log append failed: {e}")),
            },
            // Replication actions: a standalone core never emits them.
            Action::Propose(_)
            | Action::Forward(_)
            | Action::Sync(_)
            | Action::Revalidate { .. }
            | Action::RevalidateAnswer { .. } => warn!("ignoring a replication action on a standalone server"),
        }
    }
}
