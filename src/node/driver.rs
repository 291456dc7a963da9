//! Runs a [`Core`] on its own thread: feeds it events from the connection tasks, reads the
//! clocks, and executes its actions (frames to connection queues, transactions to the
//! log). The only place where the core meets the outside world.

use std::sync::Arc;

use super::four_letter::Query;
use super::recorded::{Counter, Sample};
use super::snapshot::SnapshotSlice;
use super::stats::ServerSnapshot;
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
    /// `closing`: set once the core has decided to close the connection, so that the
    /// client's end of stream after the last reply is not counted as a drop.
    Open {
        conn: ConnId,
        peer: std::net::SocketAddr,
        out: mpsc::Sender<Out>,
        auth: Vec<crate::proto::Id>,
        closing: std::sync::Arc<std::sync::atomic::AtomicBool>,
    },
    Input(Input),
    /// The operations surface asks for the server's state (`crate::ops`).
    Query {
        what: Query,
        reply: oneshot::Sender<ServerSnapshot>,
    },
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
    fn append(&mut self, entries: Vec<Arc<TxnEntry>>) -> std::io::Result<Option<i64>>;

    /// The next part of a snapshot the core is taking (see `node::snapshot`); the last
    /// slice carries `end`. May wait until the snapshot writer has room for it.
    fn snapshot_slice(&mut self, _slice: SnapshotSlice) {}

    /// Whether `snapshot_slice` would take a slice now without waiting.
    fn snapshot_room(&self) -> bool {
        true
    }
}

/// An in-memory log that keeps the last `capacity` entries.
pub struct MemoryLog {
    capacity: usize,
    entries: VecDeque<Arc<TxnEntry>>,
}

impl MemoryLog {
    pub fn new(capacity: usize) -> MemoryLog {
        MemoryLog {
            capacity,
            entries: VecDeque::new(),
        }
    }
}

impl TxnLog for MemoryLog {
    fn append(&mut self, entries: Vec<Arc<TxnEntry>>) -> std::io::Result<Option<i64>> {
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
pub struct Outs(
    BTreeMap<
        ConnId,
        (
            mpsc::Sender<Out>,
            std::sync::Arc<std::sync::atomic::AtomicBool>,
        ),
    >,
);

impl Outs {
    pub fn open(
        &mut self,
        conn: ConnId,
        out: mpsc::Sender<Out>,
        closing: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) {
        self.0.insert(conn, (out, closing));
    }

    /// Marks the connections these actions close as closing before any of their frames
    /// leaves: a client that ends its side as soon as it reads its last reply (after a
    /// closeSession) must find the connection already closing, as Java's selector
    /// closes it in the same pass that writes that reply.
    pub fn closing_ahead(&self, actions: &[Action]) {
        for a in actions {
            if let Action::Close { conn } = a {
                if let Some((_, closing)) = self.0.get(conn) {
                    closing.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
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
        let Some((tx, _)) = self.0.get(&conn) else {
            return;
        };
        if let Err(e) = tx.try_send(out) {
            if matches!(e, mpsc::error::TrySendError::Full(_)) {
                warn!(
                    "connection {conn}: client is not reading its replies; closing the connection"
                );
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
        Event::Open {
            conn,
            peer,
            out,
            auth,
            closing,
        } => {
            outs.open(conn, out, closing);
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
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    (wall, start.elapsed().as_millis() as i64)
}

/// The driver's incoming events: the channel, and events set aside while the log
/// writer was being stopped (they come first).
pub struct Inbox {
    rx: mpsc::Receiver<Event>,
    deferred: VecDeque<Event>,
}

impl Inbox {
    pub fn new(rx: mpsc::Receiver<Event>) -> Inbox {
        Inbox {
            rx,
            deferred: VecDeque::new(),
        }
    }

    fn try_next(&mut self) -> Result<Event, mpsc::error::TryRecvError> {
        match self.deferred.pop_front() {
            Some(ev) => Ok(ev),
            None => self.rx.try_recv(),
        }
    }

    fn blocking_next(&mut self) -> Option<Event> {
        self.deferred
            .pop_front()
            .or_else(|| self.rx.blocking_recv())
    }

    /// Moves what has arrived aside, so that senders blocked on a full channel (the
    /// log writer reporting) can go on while the driver waits for them.
    pub fn set_aside(&mut self) {
        while let Ok(ev) = self.rx.try_recv() {
            self.deferred.push_back(ev);
        }
    }

    /// Refuses further events: a sender blocked on the channel wakes up with an error.
    pub fn close(&mut self) {
        self.rx.close();
    }
}

/// What the batch loop needs from a driver (the standalone one here, the ensemble
/// member's in `crate::peer::driver`).
pub trait Host {
    fn core(&mut self) -> &mut Core;
    fn inbox(&mut self) -> &mut Inbox;
    /// Handles one event; false to stop.
    fn handle(&mut self, ev: Event) -> bool;
    /// Executes what the batch's events made the core (and its companions) ask for.
    fn execute(&mut self);
    /// Hands the next slice of a snapshot in progress to the log writer: between
    /// batches only when the writer has room for it (requests never wait on the disk),
    /// when `idle` even if that means waiting for the writer.
    fn snapshot_slice(&mut self, idle: bool);
    /// Persistence failed: the driver must stop.
    fn failed(&self) -> bool;
}

/// The next event; while a snapshot is being taken, idle time goes to its slices.
fn next_event<H: Host>(h: &mut H) -> Option<Event> {
    while h.core().snapshotting() {
        match h.inbox().try_next() {
            Ok(ev) => return Some(ev),
            Err(mpsc::error::TryRecvError::Empty) => h.snapshot_slice(true),
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
        }
    }
    h.inbox().blocking_next()
}

/// The loop both drivers run until told to stop, every sender is gone or persistence
/// failed: the clocks are read once per batch, up to `MAX_BATCH` queued events are
/// handled, then the actions they produced are executed (one log append, one fsync,
/// for the whole batch).
pub fn run_batches<H: Host>(h: &mut H, clock_start: Instant) {
    while let Some(first) = next_event(h) {
        let (wall, mono) = clock_ms(clock_start);
        h.core().set_time(wall, mono);
        if !h.handle(first) {
            return;
        }
        let mut handled = 1;
        while handled < MAX_BATCH && !h.failed() {
            let Ok(ev) = h.inbox().try_next() else { break };
            if !h.handle(ev) {
                return;
            }
            handled += 1;
        }
        if !h.failed() {
            h.execute();
            h.snapshot_slice(false);
        }
        if h.failed() {
            return;
        }
    }
}

struct Driver<L: TxnLog> {
    core: Core,
    log: L,
    outs: Outs,
    inbox: Inbox,
    /// Why persistence failed; the driver stops once set.
    failed: Option<String>,
    /// Requests of this batch that Java's standalone chain passes through its
    /// `SyncRequestProcessor` without logging them (see [`passes_sync_unlogged`]).
    unlogged: i64,
}

/// Whether a request is one that Apache ZooKeeper's standalone server hands to its
/// `SyncRequestProcessor` (every request it submits: reads, pings, sync, setWatches, …;
/// auth and SASL are answered in `processPacket`) and that rzk never gives its log
/// (everything but writes, which reach the log writer and are counted there). Counted
/// into `sync_processor_request_queued`, so the count is Java's for the same workload.
/// An ensemble member's sync processor sees only txns, as rzk's log writer does.
pub fn passes_sync_unlogged(body: &super::RequestBody) -> bool {
    use super::RequestBody;
    use crate::proto::{OpCode, Request};
    match body {
        RequestBody::Ok(Request::Auth(_) | Request::Sasl(_)) => false,
        RequestBody::Ok(req) => !req.op_code().is_write(),
        RequestBody::Malformed(op) => !op.is_write() && !matches!(op, OpCode::Auth | OpCode::Sasl),
        RequestBody::Unknown(_) => true,
    }
}

/// Nodes encoded per snapshot slice: small enough that a slice between two batches of
/// requests costs well under a millisecond.
pub const SNAPSHOT_SLICE_NODES: usize = 2_000;

/// Runs the core until `Event::Shutdown` or until every sender is gone; an error when
/// it stopped because persistence failed.
pub fn run<L: TxnLog>(core: Core, log: L, rx: mpsc::Receiver<Event>) -> Result<(), String> {
    let mut d = Driver {
        core,
        log,
        outs: Outs::default(),
        inbox: Inbox::new(rx),
        failed: None,
        unlogged: 0,
    };
    run_batches(&mut d, Instant::now());
    let result = d.stopped();
    // Close the channel before the log is dropped, so a log thread blocked on sending
    // to it wakes up and finishes.
    d.inbox.close();
    drop(d);
    result
}

impl<L: TxnLog> Host for Driver<L> {
    fn core(&mut self) -> &mut Core {
        &mut self.core
    }

    fn inbox(&mut self) -> &mut Inbox {
        &mut self.inbox
    }

    fn handle(&mut self, ev: Event) -> bool {
        if let Event::Input(Input::Request { body, .. }) = &ev {
            self.unlogged += i64::from(passes_sync_unlogged(body));
        }
        let Some(ev) = to_core(&mut self.core, &mut self.outs, ev) else {
            return true;
        };
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
        if self.unlogged > 0 {
            let n = std::mem::take(&mut self.unlogged);
            self.core.step(Input::Samples(vec![Sample::Count(
                Counter::SyncProcessorRequestQueued,
                n,
            )]));
        }
        loop {
            let actions = self.core.take_actions();
            if actions.is_empty() {
                return;
            }
            self.outs.closing_ahead(&actions);
            for a in actions {
                self.execute_one(a);
            }
        }
    }

    fn snapshot_slice(&mut self, idle: bool) {
        if !idle && !self.log.snapshot_room() {
            return;
        }
        if let Some(slice) = self.core.snapshot_slice(SNAPSHOT_SLICE_NODES) {
            self.log.snapshot_slice(slice);
        }
    }

    fn failed(&self) -> bool {
        self.failed.is_some()
    }
}

impl<L: TxnLog> Driver<L> {
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

    fn execute_one(&mut self, a: Action) {
        let Some(a) = self.outs.execute(a) else {
            return;
        };
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
            | Action::RevalidateAnswer { .. } => {
                warn!("ignoring a replication action on a standalone server")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::recorded::Counter;
    use crate::node::RequestBody;
    use crate::proto::{AuthPacket, OpCode, PathWatchRequest, Request};

    #[test]
    fn requests_java_passes_through_its_sync_processor_unlogged() {
        let exists = RequestBody::Ok(Request::Exists(PathWatchRequest {
            path: "/".into(),
            watch: false,
        }));
        assert!(passes_sync_unlogged(&exists));
        assert!(passes_sync_unlogged(&RequestBody::Ok(Request::Ping)));
        assert!(passes_sync_unlogged(&RequestBody::Malformed(
            OpCode::GetData
        )));
        assert!(passes_sync_unlogged(&RequestBody::Unknown(77)));
        let auth = AuthPacket {
            auth_type: 0,
            scheme: "digest".into(),
            auth: b"u:p".to_vec(),
        };
        assert!(!passes_sync_unlogged(&RequestBody::Ok(Request::Auth(auth))));
        assert!(!passes_sync_unlogged(&RequestBody::Malformed(OpCode::Sasl)));
        assert!(
            !passes_sync_unlogged(&RequestBody::Malformed(OpCode::Create)),
            "a write is counted by the log"
        );
        assert!(!passes_sync_unlogged(&RequestBody::Ok(
            Request::CloseSession
        )));
    }

    /// A standalone driver on a fresh core and `log`; its inbox is never read.
    fn driver<L: TxnLog>(log: L) -> Driver<L> {
        let (_tx, rx) = mpsc::channel(1);
        Driver {
            core: super::super::measured_tests::core(),
            log,
            outs: Outs::default(),
            inbox: Inbox::new(rx),
            failed: None,
            unlogged: 0,
        }
    }

    #[test]
    fn the_standalone_driver_counts_them_once_per_batch() {
        let mut d = driver(MemoryLog::new(8));
        let counted = |d: &mut Driver<MemoryLog>| {
            d.core
                .answer_query(super::super::four_letter::Query::snapshot())
                .stats
                .recorded
                .counter(Counter::SyncProcessorRequestQueued)
        };
        for xid in 1..=3 {
            assert!(d.handle(Event::Input(Input::Request {
                conn: 1,
                xid,
                body: RequestBody::Ok(Request::Ping),
                bytes: 12
            })));
        }
        assert_eq!(counted(&mut d), 0, "recorded when the batch is executed");
        d.execute();
        assert_eq!(counted(&mut d), 3);
        d.execute();
        assert_eq!(counted(&mut d), 3);
    }

    /// A log whose snapshot writer is full until told otherwise.
    struct FullSnapshots {
        room: bool,
        slices: usize,
    }

    impl TxnLog for FullSnapshots {
        fn append(&mut self, entries: Vec<Arc<TxnEntry>>) -> std::io::Result<Option<i64>> {
            Ok(entries.last().map(|e| e.header.zxid))
        }
        fn snapshot_slice(&mut self, _slice: SnapshotSlice) {
            self.slices += 1;
        }
        fn snapshot_room(&self) -> bool {
            self.room
        }
    }

    #[test]
    fn between_batches_a_snapshot_slice_waits_for_room_in_the_writer() {
        let mut d = driver(FullSnapshots {
            room: false,
            slices: 0,
        });
        assert!(d.core.begin_snapshot());
        d.snapshot_slice(false);
        assert_eq!(d.log.slices, 0, "busy and the writer is full: no slice");
        d.snapshot_slice(true);
        assert_eq!(d.log.slices, 1, "idle: the slice is handed over anyway");
        assert!(!d.core.snapshotting(), "a small tree fits one slice");
        assert!(d.core.begin_snapshot());
        d.log.room = true;
        d.snapshot_slice(false);
        assert_eq!(d.log.slices, 2, "busy, with room in the writer");
    }
}
