//! When to roll the log and take a snapshot (`SyncRequestProcessor.shouldSnapshot` /
//! `resetSnapshotStats`): after more than `snapCount/2 + randRoll` txns or
//! `snapSizeInBytes/2 + randSize` bytes since the last roll, the random parts redrawn
//! after each snapshot so that ensemble members do not all snapshot at once.
//! Pure: the random numbers come in.

#[derive(Clone, Debug)]
pub struct SnapPolicy {
    snap_count: i64,
    snap_size: i64,
    rand_roll: i64,
    rand_size: i64,
    txns: i64,
    bytes: i64,
}

impl SnapPolicy {
    /// `snap_count` is `zookeeper.snapCount` (raised to 2 as Java does), `snap_size`
    /// `zookeeper.snapSizeLimitInKb` in bytes (≤ 0 disables the size trigger).
    pub fn new(snap_count: i64, snap_size: i64, random: u64) -> SnapPolicy {
        let mut p = SnapPolicy {
            snap_count: snap_count.max(2),
            snap_size,
            rand_roll: 0,
            rand_size: 0,
            txns: 0,
            bytes: 0,
        };
        p.redraw(random);
        p
    }

    fn redraw(&mut self, random: u64) {
        let half = (self.snap_count / 2).max(1) as u64;
        self.rand_roll = (random % half) as i64;
        let half_size = (self.snap_size / 2).max(1) as u64;
        self.rand_size = (random.rotate_left(29) % half_size) as i64;
    }

    /// Counts one appended txn of `bytes`; true when it is time to roll and snapshot,
    /// in which case the counters restart and `random` draws the next thresholds.
    pub fn record(&mut self, bytes: u64, random: u64) -> bool {
        self.txns += 1;
        self.bytes += bytes as i64;
        let by_count = self.txns > self.snap_count / 2 + self.rand_roll;
        let by_size = self.snap_size > 0 && self.bytes > self.snap_size / 2 + self.rand_size;
        if by_count || by_size {
            self.txns = 0;
            self.bytes = 0;
            self.redraw(random);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_between_half_and_full_snap_count() {
        for seed in [0u64, 1, 12345, u64::MAX] {
            let mut p = SnapPolicy::new(100, 0, seed);
            let n = (1..=200).find(|_| p.record(10, seed)).unwrap();
            assert!((51..=100).contains(&n), "fired after {n}");
        }
    }

    #[test]
    fn minimum_snap_count_is_two() {
        let mut p = SnapPolicy::new(1, 0, 0);
        assert!(!p.record(1, 0));
        assert!(p.record(1, 0));
    }

    #[test]
    fn size_trigger_fires_on_bytes() {
        let mut p = SnapPolicy::new(1_000_000, 1000, 0);
        assert!(!p.record(400, 0));
        assert!(p.record(400, 0));
    }
}
