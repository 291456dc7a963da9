//! Which successful reads Apache ZooKeeper 3.8 would serve from its response cache
//! (`ResponseCache`, `ServerCnxn.serialize`), for the `response_packet_*_cache_hits` and
//! `_misses` counters.
//!
//! rzk serializes every reply (it is no slower than a copy), so it keeps no bytes: only
//! what decides a hit in Java, the path and the `Stat` the cached reply was built with.
//! Java's cache is a `LinkedHashMap` in insertion order that drops its eldest entry
//! once it holds `maxResponseCacheSize` entries (so it keeps one fewer); an entry whose
//! stat no longer equals the node's is removed and put back at the end. The same rules
//! here give the same hits and misses for the same reads.

use crate::proto::Stat;
use std::collections::{BTreeMap, VecDeque};

/// `ResponseCache.DEFAULT_RESPONSE_CACHE_SIZE`.
pub const DEFAULT_SIZE: usize = 400;

#[derive(Debug, Clone)]
pub struct ResponseCache {
    size: usize,
    /// path → (stat of the cached reply, insertion number).
    entries: BTreeMap<String, (Stat, u64)>,
    /// Insertion numbers with their path, oldest first; stale numbers are skipped.
    order: VecDeque<(u64, String)>,
    next: u64,
}

impl ResponseCache {
    pub fn new(size: usize) -> ResponseCache {
        ResponseCache {
            size,
            entries: BTreeMap::new(),
            order: VecDeque::new(),
            next: 0,
        }
    }

    /// A reply for `path` with `stat` is serialized: true for a hit (`cache.get` found
    /// an entry with an equal stat), false for a miss, after which the entry is put.
    pub fn lookup(&mut self, path: &str, stat: &Stat) -> bool {
        match self.entries.get(path) {
            Some((cached, _)) if cached == stat => return true,
            Some(_) => {
                self.entries.remove(path);
            }
            None => {}
        }
        let n = self.next;
        self.next += 1;
        self.entries.insert(path.to_string(), (*stat, n));
        self.order.push_back((n, path.to_string()));
        // `removeEldestEntry`: size() >= cacheSize after the put.
        while self.entries.len() >= self.size.max(1) {
            let Some((n, p)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&p).is_some_and(|(_, m)| *m == n) {
                self.entries.remove(&p);
            }
        }
        // Entries replaced by a newer insertion leave stale numbers behind; drop them
        // when they dominate, so the queue stays proportional to the cache.
        if self.order.len() > 2 * self.entries.len() + 16 {
            let entries = &self.entries;
            self.order
                .retain(|(n, p)| entries.get(p).is_some_and(|(_, m)| m == n));
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(mzxid: i64) -> Stat {
        Stat {
            mzxid,
            ..Stat::default()
        }
    }

    #[test]
    fn an_unchanged_node_hits_and_a_changed_one_misses() {
        let mut c = ResponseCache::new(DEFAULT_SIZE);
        assert!(!c.lookup("/a", &stat(1)));
        assert!(c.lookup("/a", &stat(1)));
        assert!(!c.lookup("/a", &stat(2)));
        assert!(c.lookup("/a", &stat(2)));
    }

    #[test]
    fn the_cache_keeps_one_entry_fewer_than_its_size_in_insertion_order() {
        let mut c = ResponseCache::new(3);
        assert!(!c.lookup("/a", &stat(1)));
        assert!(!c.lookup("/b", &stat(1)));
        // A hit does not refresh /a: the next insertion evicts it.
        assert!(c.lookup("/a", &stat(1)));
        assert!(!c.lookup("/c", &stat(1)));
        assert!(!c.lookup("/a", &stat(1)));
        assert!(c.lookup("/c", &stat(1)));
        // Re-inserted after a change, /c moves to the end; /a is now the eldest.
        assert!(!c.lookup("/c", &stat(2)));
        assert!(!c.lookup("/b", &stat(1)));
        assert!(c.lookup("/c", &stat(2)));
    }

    #[test]
    fn a_size_of_zero_or_one_never_hits() {
        for size in [0, 1] {
            let mut c = ResponseCache::new(size);
            assert!(!c.lookup("/a", &stat(1)));
            assert!(!c.lookup("/a", &stat(1)));
        }
    }

    #[test]
    fn the_order_queue_stays_bounded() {
        let mut c = ResponseCache::new(4);
        for i in 0..1000 {
            c.lookup("/a", &stat(i));
        }
        assert!(c.order.len() <= 2 * c.entries.len() + 17);
    }
}
