//! A node's child list (`DataNode.children`, a `java.util.HashSet<String>`).
//!
//! Children are node ids kept sorted by name, so a name is found by binary search, a
//! snapshot walks them in name order and a walk can resume after a given name. The
//! names themselves live once, in the store (`store`), so every method that compares
//! names takes the store's name lookup.
//!
//! getChildren must list them the way Java's `HashSet` iterates: by bucket
//! (`String.hashCode`, spread, masked by the table size), then by insertion order within
//! a bucket. The table starts at 8 buckets on the first child (`new HashSet<>(8)`),
//! doubles when more than 3/4 full, and never shrinks; so the capacity and each child's
//! insertion sequence are remembered.

use crate::proto::java_hash::hashmap_hash as java_spread_hash;

/// One child: its node id and when it was added to this parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Child {
    pub(super) id: u32,
    seq: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Children {
    /// Sorted by name.
    entries: Vec<Child>,
    next_seq: u32,
    /// Java's table size; 0 until the first child.
    capacity: u32,
}

impl Children {
    /// `Ok(position)` of `name`, or `Err(position)` where it would be inserted.
    pub(super) fn search<'n>(
        &self,
        name: &[u8],
        name_of: impl Fn(u32) -> &'n [u8],
    ) -> Result<usize, usize> {
        self.entries.binary_search_by(|c| name_of(c.id).cmp(name))
    }

    /// Inserts `id` at `pos` (from `search`), as the newest child.
    pub(super) fn insert_at(&mut self, pos: usize, id: u32) {
        if self.next_seq == u32::MAX {
            self.renumber();
        }
        self.entries.insert(
            pos.min(self.entries.len()),
            Child {
                id,
                seq: self.next_seq,
            },
        );
        self.next_seq += 1;
        if self.capacity == 0 {
            self.capacity = 8;
        }
        if self.entries.len() > self.capacity as usize * 3 / 4 {
            self.capacity = self.capacity.saturating_mul(2);
        }
    }

    /// Appends `id`, whose name sorts after every present one (snapshot loading).
    pub(super) fn push_last(&mut self, id: u32) {
        self.insert_at(self.entries.len(), id);
    }

    pub(super) fn remove_at(&mut self, pos: usize) -> Option<u32> {
        (pos < self.entries.len()).then(|| self.entries.remove(pos).id)
    }

    /// Insertion sequences restarted from 0 in the same order, when they run out.
    fn renumber(&mut self) {
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        order.sort_by_key(|&i| self.entries.get(i).map_or(0, |c| c.seq));
        for (seq, i) in order.into_iter().enumerate() {
            if let Some(c) = self.entries.get_mut(i) {
                c.seq = seq as u32;
            }
        }
        self.next_seq = self.entries.len() as u32;
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn get(&self, pos: usize) -> Option<u32> {
        self.entries.get(pos).map(|c| c.id)
    }

    /// Ids in name order.
    pub(super) fn ids(&self) -> impl DoubleEndedIterator<Item = u32> + '_ {
        self.entries.iter().map(|c| c.id)
    }

    /// Names in the order Apache ZooKeeper's getChildren lists them.
    pub(super) fn java_order<'n>(&self, name_of: impl Fn(u32) -> &'n str) -> Vec<String> {
        let mask = (self.capacity.max(1) - 1) as usize;
        let mut v: Vec<(usize, u32, &str)> = self
            .entries
            .iter()
            .map(|c| {
                let n = name_of(c.id);
                (java_spread_hash(n) & mask, c.seq, n)
            })
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, _, n)| n.to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child list over a name table (id = index).
    struct Set {
        names: Vec<String>,
        c: Children,
    }

    impl Set {
        fn new() -> Set {
            Set {
                names: Vec::new(),
                c: Children::default(),
            }
        }
        fn insert(&mut self, name: &str) {
            let names = &self.names;
            if let Err(pos) = self
                .c
                .search(name.as_bytes(), |id| names[id as usize].as_bytes())
            {
                self.names.push(name.to_string());
                self.c.insert_at(pos, self.names.len() as u32 - 1);
            }
        }
        fn remove(&mut self, name: &str) {
            let names = &self.names;
            if let Ok(pos) = self
                .c
                .search(name.as_bytes(), |id| names[id as usize].as_bytes())
            {
                self.c.remove_at(pos);
            }
        }
        fn java_order(&self) -> Vec<String> {
            self.c.java_order(|id| self.names[id as usize].as_str())
        }
    }

    fn of(names: &[&str]) -> Set {
        let mut c = Set::new();
        for n in names {
            c.insert(n);
        }
        c
    }

    #[test]
    fn lists_like_a_java_hash_set() {
        // Orders printed by JDK 17: `new HashSet<>(8)` filled in this order, then iterated.
        assert_eq!(
            of(&["zookeeper", "a", "b"]).java_order(),
            vec!["a", "b", "zookeeper"]
        );
        assert_eq!(
            of(&["quota", "config"]).java_order(),
            vec!["config", "quota"]
        );
        let seq: Vec<String> = (0..3).map(|i| format!("s-000000000{i}")).collect();
        let c = of(&seq.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(
            c.java_order(),
            vec!["s-0000000001", "s-0000000000", "s-0000000002"]
        );
    }

    /// Random inserts and removals, with the order a JDK 17 `HashSet` listed afterwards
    /// (`testdata/java_hashset_orders.txt`: an ops line, then `= <order>`).
    #[test]
    fn matches_recorded_jdk_orders() {
        let text = include_str!("testdata/java_hashset_orders.txt");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() >= 80);
        for pair in lines.chunks(2) {
            let mut c = Set::new();
            for op in pair[0].split_whitespace() {
                match op.split_at(1) {
                    ("+", name) => c.insert(name),
                    (_, name) => c.remove(name),
                }
            }
            let want: Vec<String> = pair[1]
                .trim_start_matches('=')
                .split_whitespace()
                .map(str::to_string)
                .collect();
            assert_eq!(c.java_order(), want, "ops: {}", pair[0]);
        }
    }

    #[test]
    fn capacity_grows_past_three_quarters_and_never_shrinks() {
        let mut c = of(&["a", "b", "c", "d", "e", "f"]);
        assert_eq!(c.c.capacity, 8);
        c.insert("g");
        assert_eq!(c.c.capacity, 16);
        for n in ["a", "b", "c", "d", "e", "f", "g"] {
            c.remove(n);
        }
        assert_eq!(c.c.capacity, 16);
    }

    #[test]
    fn renumbering_keeps_the_insertion_order() {
        let mut c = of(&["b", "a", "c"]);
        let before = c.java_order();
        c.c.next_seq = u32::MAX;
        c.insert("d");
        c.remove("d");
        assert_eq!(c.java_order(), before);
    }
}
