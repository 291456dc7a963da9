//! Iteration order of Java's `HashSet<String>`, where Apache ZooKeeper lets it reach the
//! wire or the log: the paths of getEphemerals replies and of closeSession transactions.

/// Just enough of `java.util.HashSet<String>` to reproduce its iteration order: buckets
/// by spread `String.hashCode`, the table sized as `HashSet.clone` sizes it and doubled
/// as `HashMap.putVal` does; within a bucket, insertion order (a clone inserts in the
/// original's iteration order). The caller hands over the original's order, which
/// only matters for paths that share a bucket.
pub struct JavaHashSet {
    items: Vec<String>,
    pub(crate) capacity: usize,
}

impl JavaHashSet {
    /// A clone of a set that iterates as `original` is ordered.
    pub fn copy_of(original: Vec<String>) -> JavaHashSet {
        let sorted = original;
        let n = sorted.len();
        // HashMap.putMapEntries: tableSizeFor((int) (n / 0.75f + 1)); an empty copy gets
        // the default 16 on its first insert.
        let capacity = if n == 0 {
            16
        } else {
            (n * 4 / 3 + 1).next_power_of_two()
        };
        JavaHashSet {
            items: sorted,
            capacity,
        }
    }

    pub fn insert(&mut self, path: &str) {
        if self.items.iter().any(|p| p == path) {
            return;
        }
        self.items.push(path.to_string());
        if self.items.len() > self.capacity * 3 / 4 {
            self.capacity *= 2;
        }
    }

    pub fn remove(&mut self, path: &str) {
        self.items.retain(|p| p != path);
    }

    pub fn into_iteration_order(mut self) -> Vec<String> {
        let mask = self.capacity - 1;
        self.items.sort_by_key(|p| spread_hash(p) & mask);
        self.items
    }
}

pub(crate) use crate::proto::java_hash::hashmap_hash as spread_hash;
