//! What the core remembers per client connection (`ServerCnxn`): its session, its
//! authenticated ids, the order in which its replies must leave, and the counters the
//! four-letter words report.

use super::RequestBody;
use crate::proto::{Id, SessionId};
use std::collections::VecDeque;
use std::net::SocketAddr;

/// A request waiting for its turn on its connection: replies leave strictly in request
/// order, so a read that arrives while the connection has writes in flight waits.
#[derive(Debug)]
pub enum Queued {
    /// A write whose transaction has this zxid; its reply is produced when it is applied.
    Write { zxid: i64 },
    /// A request sent to the ensemble (a learner's forwarded write, any sync in an
    /// ensemble): answered when the matching commit or SYNC comes back.
    Forwarded { xid: i32 },
    /// A read (or any non-transaction request) to answer when it reaches the head.
    Read {
        xid: i32,
        body: RequestBody,
        received_ms: i64,
    },
}

#[derive(Debug, Default, Clone)]
pub struct ConnStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    pub last_op: &'static str,
    pub last_cxid: i32,
    pub last_zxid: i64,
    pub last_response_ms: i64,
    pub last_latency_ms: i64,
    pub min_latency_ms: i64,
    pub max_latency_ms: i64,
    pub total_latency_ms: i64,
    pub count: u64,
    pub established_ms: i64,
}

impl ConnStats {
    pub fn record(&mut self, op: &'static str, cxid: i32, zxid: i64, start_ms: i64, now_ms: i64) {
        let latency = (now_ms - start_ms).max(0);
        self.last_op = op;
        self.last_cxid = cxid;
        self.last_zxid = zxid;
        self.last_response_ms = now_ms;
        self.last_latency_ms = latency;
        self.min_latency_ms = if self.count == 0 {
            latency
        } else {
            self.min_latency_ms.min(latency)
        };
        self.max_latency_ms = self.max_latency_ms.max(latency);
        self.total_latency_ms += latency;
        self.count += 1;
    }

    pub fn reset(&mut self) {
        let established = self.established_ms;
        *self = ConnStats {
            established_ms: established,
            last_op: "NA",
            ..Default::default()
        };
    }
}

#[derive(Debug)]
pub struct Conn {
    pub peer: SocketAddr,
    pub session: Option<SessionId>,
    pub timeout_ms: i32,
    /// The session is established and requests may flow.
    pub established: bool,
    /// Whether the ConnectRequest carried the readOnly byte.
    pub sent_read_only: bool,
    pub auth: Vec<Id>,
    /// Replies still owed, in request order; changed only through `enqueue` and
    /// `dequeue`, which keep the core's `QueueTally` true.
    queue: VecDeque<Queued>,
    pub sasl: Option<crate::auth::SaslSession>,
    pub stats: ConnStats,
    /// A Close was emitted; nothing more is sent.
    pub closing: bool,
}

/// What `CommitProcessor` counts across all connections, kept as the queues change so
/// that no count walks the connections: the reads waiting behind a write of their
/// session (in `numReadQueuedRequests`) and the connections with anything waiting (its
/// `pendingRequests` session queues).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct QueueTally {
    pub reads: usize,
    pub busy: usize,
}

impl Conn {
    pub fn new(peer: SocketAddr, now_ms: i64) -> Conn {
        Conn {
            peer,
            session: None,
            timeout_ms: 0,
            established: false,
            sent_read_only: false,
            auth: vec![Id::new("ip", &peer.ip().to_string())],
            queue: VecDeque::new(),
            sasl: None,
            stats: ConnStats {
                established_ms: now_ms,
                last_op: "NA",
                ..Default::default()
            },
            closing: false,
        }
    }

    pub fn queue(&self) -> &VecDeque<Queued> {
        &self.queue
    }

    pub fn enqueue(&mut self, q: Queued, tally: &mut QueueTally) {
        tally.busy += usize::from(self.queue.is_empty());
        tally.reads += usize::from(matches!(q, Queued::Read { .. }));
        self.queue.push_back(q);
    }

    pub fn dequeue(&mut self, tally: &mut QueueTally) -> Option<Queued> {
        let q = self.queue.pop_front()?;
        tally.reads -= usize::from(matches!(q, Queued::Read { .. }));
        tally.busy -= usize::from(self.queue.is_empty());
        Some(q)
    }

    /// The connection is gone: what it had queued leaves the counts.
    pub fn forget(&self, tally: &mut QueueTally) {
        tally.reads -= self
            .queue
            .iter()
            .filter(|q| matches!(q, Queued::Read { .. }))
            .count();
        tally.busy -= usize::from(!self.queue.is_empty());
    }
}
