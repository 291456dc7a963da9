//! The table of live sessions (`SessionTrackerImpl`): who exists, with what timeout,
//! whether it is closing, and when it expires. Time is passed in; the caller's timer
//! asks `next_expiration_ms` when to call `expired` next.

use std::collections::BTreeMap;

use super::expiry::ExpiryQueue;
use super::password::initial_session_id;
use crate::proto::{ServerId, SessionId};

#[derive(Debug, Clone, Copy)]
struct Session {
    timeout_ms: i32,
    closing: bool,
}

#[derive(Debug, Clone)]
pub struct SessionTracker {
    sessions: BTreeMap<SessionId, Session>,
    queue: ExpiryQueue,
    next_id: i64,
}

impl SessionTracker {
    /// `now_ms` is the monotonic clock; it seeds the id sequence like
    /// `SessionTrackerImpl.initializeNextSessionId`.
    pub fn new(server_id: ServerId, now_ms: i64, tick_ms: i64) -> Self {
        SessionTracker {
            sessions: BTreeMap::new(),
            queue: ExpiryQueue::new(tick_ms),
            next_id: initial_session_id(server_id, now_ms),
        }
    }

    /// Hands out the next id (`createSession`); the session is not tracked until `add`.
    pub fn next_session_id(&mut self) -> SessionId {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        SessionId(id)
    }

    /// Tracks `id` (`trackSession` + `commitSession`): an existing session keeps its
    /// closing flag but takes the new timeout; either way its deadline moves to
    /// `now + timeout`. Also used when replaying `createSession` txns.
    pub fn add(&mut self, id: SessionId, timeout_ms: i32, now_ms: i64) {
        let s = self.sessions.entry(id).or_insert(Session {
            timeout_ms,
            closing: false,
        });
        s.timeout_ms = timeout_ms;
        self.queue.update(id, timeout_ms, now_ms);
    }

    /// Pushes the deadline out (`touchSession`); false if unknown or closing.
    pub fn touch(&mut self, id: SessionId, now_ms: i64) -> bool {
        match self.sessions.get(&id) {
            Some(s) if !s.closing => {
                let timeout = s.timeout_ms;
                self.queue.update(id, timeout, now_ms);
                true
            }
            _ => false,
        }
    }

    /// Marks `id` closing (`setSessionClosing`): it no longer counts as live and
    /// touches fail, but it stays tracked until `remove`.
    pub fn set_closing(&mut self, id: SessionId) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.closing = true;
        }
    }

    pub fn remove(&mut self, id: SessionId) {
        self.sessions.remove(&id);
        self.queue.remove(id);
    }

    pub fn is_live(&self, id: SessionId) -> bool {
        self.sessions.get(&id).is_some_and(|s| !s.closing)
    }

    /// Whether `id` is tracked at all, closing or not (`isTrackingSession`).
    pub fn contains(&self, id: SessionId) -> bool {
        self.sessions.contains_key(&id)
    }

    pub fn timeout_of(&self, id: SessionId) -> Option<i32> {
        self.sessions.get(&id).map(|s| s.timeout_ms)
    }

    /// Sessions whose bucket time is `<= now`, marked closing, in bucket order then id
    /// order. Sessions already closing are not reported again: their close is under way
    /// (Java would expire them a second time).
    pub fn expired(&mut self, now_ms: i64) -> Vec<SessionId> {
        let mut out = Vec::new();
        for id in self.queue.poll(now_ms) {
            if let Some(s) = self.sessions.get_mut(&id) {
                if !s.closing {
                    s.closing = true;
                    out.push(id);
                }
            }
        }
        out
    }

    /// When `expired` may next have something to do.
    pub fn next_expiration_ms(&self) -> Option<i64> {
        self.queue.next_expiration()
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Every tracked session with its timeout, by id (closing ones included, as in
    /// snapshots, which Java writes from `sessionsWithTimeout`).
    pub fn iter(&self) -> impl Iterator<Item = (SessionId, i32)> + '_ {
        self.sessions.iter().map(|(id, s)| (*id, s.timeout_ms))
    }

    /// Buckets by time, empty ones included, for `dump`.
    pub fn buckets(&self) -> Vec<(i64, Vec<SessionId>)> {
        self.queue.buckets()
    }

    /// The second number of `dump`'s "Session Sets (n)/(m)": sessions with a deadline.
    pub fn queued_len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker() -> SessionTracker {
        SessionTracker::new(ServerId(1), 0x1234, 2000)
    }

    #[test]
    fn ids_count_up_from_the_initial_id() {
        let mut t = tracker();
        let a = t.next_session_id();
        let b = t.next_session_id();
        assert_eq!(a.0, initial_session_id(ServerId(1), 0x1234));
        assert_eq!(b.0, a.0 + 1);
        assert!(t.is_empty());
    }

    #[test]
    fn session_expires_when_its_bucket_passes() {
        let mut t = tracker();
        t.add(SessionId(7), 10_000, 1_000); // deadline 12_000
        assert_eq!(t.next_expiration_ms(), Some(12_000));
        assert!(t.expired(11_999).is_empty());
        assert_eq!(t.expired(12_000), vec![SessionId(7)]);
        assert!(!t.is_live(SessionId(7)));
        assert!(t.contains(SessionId(7)));
        assert!(!t.touch(SessionId(7), 12_001));
    }

    #[test]
    fn touch_moves_a_session_to_a_later_bucket() {
        let mut t = tracker();
        t.add(SessionId(7), 10_000, 1_000);
        assert!(t.touch(SessionId(7), 5_000)); // deadline 16_000
        assert!(t.expired(12_000).is_empty());
        assert_eq!(t.expired(16_000), vec![SessionId(7)]);
    }

    #[test]
    fn expiry_order_is_by_bucket_then_id() {
        let mut t = tracker();
        t.add(SessionId(3), 4_000, 0); // 6000
        t.add(SessionId(2), 6_000, 0); // 8000
        t.add(SessionId(1), 4_000, 500); // 6000
        assert_eq!(
            t.expired(9_000),
            vec![SessionId(1), SessionId(3), SessionId(2)]
        );
    }

    #[test]
    fn closing_sessions_are_not_live_and_not_expired_twice() {
        let mut t = tracker();
        t.add(SessionId(5), 4_000, 0);
        t.set_closing(SessionId(5));
        assert!(!t.is_live(SessionId(5)));
        assert!(!t.touch(SessionId(5), 100));
        assert!(t.expired(10_000).is_empty());
        t.remove(SessionId(5));
        assert_eq!(t.len(), 0);
        assert!(!t.touch(SessionId(5), 100));
    }

    #[test]
    fn iter_is_sorted_and_buckets_show_empty_sets() {
        let mut t = tracker();
        t.add(SessionId(9), 4_000, 0);
        t.add(SessionId(4), 8_000, 0);
        t.touch(SessionId(9), 3_000); // 6000 -> 8000, leaves an empty 6000 bucket
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            vec![(SessionId(4), 8_000), (SessionId(9), 4_000)]
        );
        let want = vec![
            (6_000, vec![]),
            (8_000, vec![SessionId(9)]),
            (10_000, vec![SessionId(4)]),
        ];
        assert_eq!(t.buckets(), want);
        assert_eq!(t.queued_len(), 2);
        assert_eq!(t.timeout_of(SessionId(4)), Some(8_000));
        assert_eq!(t.timeout_of(SessionId(1)), None);
    }
}
