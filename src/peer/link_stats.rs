//! What a leader counts on each learner's connection (`LearnerHandler`'s counters, shown
//! by the `observers` command and reset by `observer_connection_stat_reset`). The
//! driver updates them as packets are queued and received; how many still wait in the
//! connection's queue is read from the queue when they are shown.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::links::MARKER_INTERVAL;
use crate::node::stats::LearnerLinkInfo;
use crate::proto::quorum::Packet;
use crate::proto::{ServerId, Zxid};

/// What the leader counts on one learner's connection (`LearnerHandler`'s counters).
#[derive(Debug)]
pub(super) struct LinkStats {
    addr: std::net::SocketAddr,
    established_ms: i64,
    /// Packets handed to its queue (a marker goes first in every `MARKER_INTERVAL`).
    queued: u64,
    /// Packets already sent when the counters were last reset (`orst`).
    sent_before_reset: u64,
    queued_bytes: Arc<AtomicI64>,
    received: u64,
    requests: u64,
    last_zxid: i64,
}

impl LinkStats {
    pub(super) fn new(
        addr: std::net::SocketAddr,
        established_ms: i64,
        queued_bytes: Arc<AtomicI64>,
    ) -> LinkStats {
        LinkStats {
            addr,
            established_ms,
            queued: 0,
            sent_before_reset: 0,
            queued_bytes,
            received: 0,
            requests: 0,
            last_zxid: -1,
        }
    }

    /// Whether a marker goes before the next packet (one in every `MARKER_INTERVAL`).
    pub(super) fn marker_due(&self) -> bool {
        self.queued.is_multiple_of(MARKER_INTERVAL)
    }

    /// Packets taken from the queue, `waiting` still in it.
    fn sent(&self, waiting: usize) -> u64 {
        self.queued.saturating_sub(waiting as u64)
    }

    /// `LearnerHandler.resetObserverConnectionStats`: packets received and sent,
    /// requests and the last zxid start again; the queue and its size are not counters.
    pub(super) fn reset(&mut self, waiting: usize) {
        self.sent_before_reset = self.sent(waiting);
        self.received = 0;
        self.requests = 0;
        self.last_zxid = -1;
    }

    pub(super) fn received(&mut self, pkt: &Packet) {
        self.received += 1;
        if matches!(pkt, Packet::Request(_)) {
            self.requests += 1;
        }
    }

    /// A packet of `len` bytes carrying `zxid` joined the queue.
    pub(super) fn queued(&mut self, len: usize, zxid: Option<Zxid>) {
        self.queued += 1;
        self.queued_bytes.fetch_add(len as i64, Ordering::Relaxed);
        if let Some(z) = zxid.filter(|z| z.0 > 0) {
            self.last_zxid = z.0;
        }
    }

    pub(super) fn info(&self, sid: ServerId, waiting: usize) -> LearnerLinkInfo {
        LearnerLinkInfo {
            remote_socket_address: format!("/{}", self.addr),
            sid: sid.0,
            established_ms: self.established_ms,
            queued_packets: waiting,
            queued_packets_size: self.queued_bytes.load(Ordering::Relaxed),
            packets_received: self.received,
            packets_sent: self.sent(waiting).saturating_sub(self.sent_before_reset),
            requests: self.requests,
            last_zxid: self.last_zxid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> LinkStats {
        LinkStats::new(
            "127.0.0.1:4000".parse().unwrap(),
            1_000,
            Arc::new(AtomicI64::new(0)),
        )
    }

    #[test]
    fn an_observer_link_reset_zeroes_what_learner_handler_resets() {
        let mut l = link();
        for z in 1..=5 {
            l.queued(10, Some(Zxid(z)));
        }
        l.received(&Packet::Ping {
            zxid: Zxid(5),
            touches: None,
        });
        let req = crate::proto::quorum::ForwardedRequest {
            session: crate::proto::SessionId(1),
            cxid: 1,
            op: 1,
            body: vec![],
            auth: vec![],
        };
        l.received(&Packet::Request(req));
        // Two of the five still wait in the queue.
        let before = l.info(ServerId(4), 2);
        assert_eq!(
            (
                before.packets_sent,
                before.packets_received,
                before.requests,
                before.last_zxid
            ),
            (3, 2, 1, 5)
        );
        l.reset(2);
        let after = l.info(ServerId(4), 2);
        assert_eq!(
            (
                after.packets_sent,
                after.packets_received,
                after.requests,
                after.last_zxid
            ),
            (0, 0, 0, -1)
        );
        assert_eq!(
            (
                after.queued_packets,
                after.queued_packets_size,
                after.established_ms
            ),
            (2, 50, 1_000)
        );
        // The two waiting ones are sent after the reset and counted, as Java's sender does.
        let drained = l.info(ServerId(4), 0);
        assert_eq!(drained.packets_sent, 2);
        l.queued(10, Some(Zxid(6)));
        assert_eq!(l.info(ServerId(4), 1).last_zxid, 6);
    }
}
