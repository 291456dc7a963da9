//! Bucketed expiry (`ExpiryQueue`): deadlines are rounded up to the next multiple of the
//! tick so that one timer wakeup expires a whole bucket of sessions.
//!
//! Like the Java queue, a bucket a session moved out of stays (empty) until its time
//! passes, and an expired session keeps its recorded deadline until it is removed: both
//! show in the `dump` four-letter word ("Sets (buckets)/(sessions)").

use std::collections::{BTreeMap, BTreeSet};

use crate::proto::SessionId;

#[derive(Debug, Clone)]
pub(crate) struct ExpiryQueue {
    tick_ms: i64,
    /// Recorded deadline per session (`elemMap`).
    deadline: BTreeMap<SessionId, i64>,
    /// Sessions per deadline (`expiryMap`), possibly empty sets.
    buckets: BTreeMap<i64, BTreeSet<SessionId>>,
}

impl ExpiryQueue {
    pub(crate) fn new(tick_ms: i64) -> ExpiryQueue {
        ExpiryQueue {
            tick_ms: tick_ms.max(1),
            deadline: BTreeMap::new(),
            buckets: BTreeMap::new(),
        }
    }

    /// `roundToNextInterval`: strictly after `time`, on a tick boundary.
    pub(crate) fn round_up(&self, time: i64) -> i64 {
        (time.div_euclid(self.tick_ms) + 1).saturating_mul(self.tick_ms)
    }

    /// Moves `id` to the bucket for `now + timeout`; returns the new deadline if it changed.
    pub(crate) fn update(&mut self, id: SessionId, timeout_ms: i32, now_ms: i64) -> Option<i64> {
        let at = self.round_up(now_ms.saturating_add(i64::from(timeout_ms)));
        let prev = self.deadline.insert(id, at);
        if prev == Some(at) {
            return None;
        }
        self.buckets.entry(at).or_default().insert(id);
        if let Some(p) = prev {
            if let Some(set) = self.buckets.get_mut(&p) {
                set.remove(&id);
            }
        }
        Some(at)
    }

    pub(crate) fn remove(&mut self, id: SessionId) -> Option<i64> {
        let at = self.deadline.remove(&id)?;
        if let Some(set) = self.buckets.get_mut(&at) {
            set.remove(&id);
        }
        Some(at)
    }

    /// Takes every bucket whose time is `<= now`, earliest first.
    pub(crate) fn poll(&mut self, now_ms: i64) -> Vec<SessionId> {
        let later = match now_ms.checked_add(1) {
            Some(next) => self.buckets.split_off(&next),
            None => BTreeMap::new(),
        };
        let due = std::mem::replace(&mut self.buckets, later);
        due.into_values().flatten().collect()
    }

    /// The earliest bucket time, empty buckets included (the Java thread wakes for them too).
    pub(crate) fn next_expiration(&self) -> Option<i64> {
        self.buckets.keys().next().copied()
    }

    pub(crate) fn buckets(&self) -> Vec<(i64, Vec<SessionId>)> {
        self.buckets
            .iter()
            .map(|(t, s)| (*t, s.iter().copied().collect()))
            .collect()
    }

    /// Number of sessions with a recorded deadline (`elemMap.size()`).
    pub(crate) fn len(&self) -> usize {
        self.deadline.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_rounds_up_to_the_next_tick_strictly() {
        let q = ExpiryQueue::new(2000);
        assert_eq!(q.round_up(0), 2000);
        assert_eq!(q.round_up(1999), 2000);
        assert_eq!(q.round_up(2000), 4000);
        assert_eq!(q.round_up(31_500), 32_000);
    }

    #[test]
    fn unchanged_deadline_is_not_an_update() {
        let mut q = ExpiryQueue::new(2000);
        assert_eq!(q.update(SessionId(1), 10_000, 100), Some(12_000));
        assert_eq!(q.update(SessionId(1), 10_000, 900), None);
        assert_eq!(q.update(SessionId(1), 10_000, 2100), Some(14_000));
        // The left bucket lingers, empty, as in Java.
        assert_eq!(
            q.buckets(),
            vec![(12_000, vec![]), (14_000, vec![SessionId(1)])]
        );
    }

    #[test]
    fn poll_takes_due_buckets_only() {
        let mut q = ExpiryQueue::new(1000);
        q.update(SessionId(2), 3000, 0);
        q.update(SessionId(1), 5000, 0);
        assert!(q.poll(3999).is_empty());
        assert_eq!(q.poll(4000), vec![SessionId(2)]);
        assert_eq!(q.next_expiration(), Some(6000));
        // The expired session keeps its deadline until removed.
        assert_eq!(q.len(), 2);
    }
}
