//! A node's child names (`DataNode.children`, a `java.util.HashSet<String>`).
//!
//! Names are kept sorted for snapshots and deterministic walks, but getChildren must list
//! them the way Java's `HashSet` iterates: by bucket (`String.hashCode`, spread, masked by
//! the table size), then by insertion order within a bucket. The table starts at 8
//! buckets on the first child (`new HashSet<>(8)`), doubles when more than 3/4 full, and
//! never shrinks; so the capacity and each name's insertion sequence are remembered.

use crate::proto::java_hash::hashmap_hash as java_spread_hash;
use std::collections::btree_map::Keys;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Children {
    /// Name → insertion sequence.
    names: BTreeMap<String, u64>,
    next_seq: u64,
    /// Java's table size; 0 until the first child.
    capacity: usize,
}

impl Children {
    pub fn insert(&mut self, name: String) -> bool {
        if self.names.contains_key(&name) {
            return false;
        }
        self.names.insert(name, self.next_seq);
        self.next_seq += 1;
        if self.capacity == 0 {
            self.capacity = 8;
        }
        if self.names.len() > self.capacity * 3 / 4 {
            self.capacity *= 2;
        }
        true
    }

    pub fn remove(&mut self, name: &str) -> bool {
        self.names.remove(name).is_some()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Names in sorted order.
    pub fn iter(&self) -> Keys<'_, String, u64> {
        self.names.keys()
    }

    /// Names in the order Apache ZooKeeper's getChildren lists them.
    pub fn java_order(&self) -> Vec<String> {
        let mask = self.capacity.max(1) - 1;
        let mut v: Vec<(usize, u64, &String)> =
            self.names.iter().map(|(n, seq)| (java_spread_hash(n) & mask, *seq, n)).collect();
        v.sort_unstable();
        v.into_iter().map(|(_, _, n)| n.clone()).collect()
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    fn of(names: &[&str]) -> Children {
        let mut c = Children::default();
        for n in names {
            c.insert(n.to_string());
        }
        c
    }

    #[test]
    fn lists_like_a_java_hash_set() {
        // Orders printed by JDK 17: `new HashSet<>(8)` filled in this order, then iterated.
        assert_eq!(of(&["zookeeper", "a", "b"]).java_order(), vec!["a", "b", "zookeeper"]);
        assert_eq!(of(&["quota", "config"]).java_order(), vec!["config", "quota"]);
        let seq: Vec<String> = (0..3).map(|i| format!("s-000000000{i}")).collect();
        let c = of(&seq.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(c.java_order(), vec!["s-0000000001", "s-0000000000", "s-0000000002"]);
    }

    /// Random inserts and removals, with the order a JDK 17 `HashSet` listed afterwards
    /// (`testdata/java_hashset_orders.txt`: an ops line, then `= <order>`).
    #[test]
    fn matches_recorded_jdk_orders() {
        let text = include_str!("testdata/java_hashset_orders.txt");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() >= 80);
        for pair in lines.chunks(2) {
            let mut c = Children::default();
            for op in pair[0].split_whitespace() {
                match op.split_at(1) {
                    ("+", name) => { c.insert(name.to_string()); }
                    (_, name) => { c.remove(name); }
                }
            }
            let want: Vec<String> = pair[1].trim_start_matches('=').split_whitespace().map(str::to_string).collect();
            assert_eq!(c.java_order(), want, "ops: {}", pair[0]);
        }
    }

    #[test]
    fn capacity_grows_past_three_quarters_and_never_shrinks() {
        let mut c = of(&["a", "b", "c", "d", "e", "f"]);
        assert_eq!(c.capacity, 8);
        c.insert("g".into());
        assert_eq!(c.capacity, 16);
        for n in ["a", "b", "c", "d", "e", "f", "g"] {
            c.remove(n);
        }
        assert_eq!(c.capacity, 16);
    }
}
