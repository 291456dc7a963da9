//! The global throttle on outstanding requests (`globalOutstandingLimit`), with Apache
//! ZooKeeper's semantics (`ServerCnxn.incrOutstandingAndCheckThrottle` /
//! `decrOutstandingAndCheckThrottle`, `ZooKeeperServer.shouldThrottle`): while more
//! requests are in process server-wide than the limit, every connection that itself has
//! a request outstanding stops reading; it reads again as soon as one of its replies is
//! queued and either the server is back under the limit or it has nothing outstanding.
//! Requests with xid ≤ 0 (pings, auth, setWatches) are not counted, as in Java.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Server-wide count of requests in process.
#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    in_process: AtomicUsize,
}

impl Throttle {
    pub fn new(limit: usize) -> Throttle {
        Throttle {
            limit,
            in_process: AtomicUsize::new(0),
        }
    }

    pub fn in_process(&self) -> usize {
        self.in_process.load(Ordering::Relaxed)
    }

    /// `ZooKeeperServer.shouldThrottle`.
    fn should_throttle(&self, outstanding: usize) -> bool {
        self.in_process() > self.limit && outstanding > 0
    }
}

/// One connection's share: its outstanding count and the wake-up for its reader.
#[derive(Debug)]
pub struct ConnThrottle {
    global: Arc<Throttle>,
    outstanding: AtomicUsize,
    resume: Notify,
}

impl ConnThrottle {
    pub fn new(global: Arc<Throttle>) -> ConnThrottle {
        ConnThrottle {
            global,
            outstanding: AtomicUsize::new(0),
            resume: Notify::new(),
        }
    }

    /// A request with this xid was handed to the core.
    pub fn request_sent(&self, xid: i32) {
        if xid > 0 {
            self.outstanding.fetch_add(1, Ordering::Relaxed);
            self.global.in_process.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A reply frame (length prefix included) was queued for the client.
    pub fn reply_queued(&self, frame: &[u8]) {
        let xid = frame
            .get(4..8)
            .and_then(|b| b.try_into().ok())
            .map(i32::from_be_bytes)
            .unwrap_or(0);
        if xid <= 0 {
            return;
        }
        let took = self
            .outstanding
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        if took.is_ok() {
            self.global.in_process.fetch_sub(1, Ordering::Relaxed);
        }
        self.resume.notify_one();
    }

    /// Waits while this connection may not read (`disableRecv`).
    pub async fn wait_until_readable(&self) {
        while self
            .global
            .should_throttle(self.outstanding.load(Ordering::Relaxed))
        {
            self.resume.notified().await;
        }
    }

    /// The connection ended: its unanswered requests leave the server-wide count.
    pub fn closed(&self) {
        let left = self.outstanding.swap(0, Ordering::Relaxed);
        let _ = self
            .global
            .in_process
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(left))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(xid: i32) -> Vec<u8> {
        let mut f = 16i32.to_be_bytes().to_vec();
        f.extend_from_slice(&xid.to_be_bytes());
        f.extend_from_slice(&[0; 12]);
        f
    }

    #[test]
    fn only_connections_with_outstanding_requests_are_throttled_above_the_limit() {
        let g = Arc::new(Throttle::new(2));
        let (a, b) = (ConnThrottle::new(g.clone()), ConnThrottle::new(g.clone()));
        (1..=3).for_each(|x| a.request_sent(x));
        assert!(g.should_throttle(3));
        assert!(
            !g.should_throttle(b.outstanding.load(Ordering::Relaxed)),
            "b has nothing outstanding"
        );
        a.reply_queued(&reply(1));
        assert!(
            !g.should_throttle(a.outstanding.load(Ordering::Relaxed)),
            "back at the limit"
        );
    }

    #[test]
    fn special_xids_are_not_counted() {
        let g = Arc::new(Throttle::new(0));
        let a = ConnThrottle::new(g.clone());
        a.request_sent(-2);
        a.request_sent(-8);
        a.reply_queued(&reply(-1));
        assert_eq!(g.in_process(), 0);
    }

    #[test]
    fn a_closed_connection_releases_its_share() {
        let g = Arc::new(Throttle::new(0));
        let a = ConnThrottle::new(g.clone());
        (1..=5).for_each(|x| a.request_sent(x));
        a.reply_queued(&reply(1));
        a.closed();
        assert_eq!(g.in_process(), 0);
    }
}
