//! Simulated storage of one node: the txn log with a live part (written, in the page
//! cache) and a durable prefix (fsynced), and the epoch files. A crash keeps the durable
//! prefix and, by the chosen `TornTail`, some prefix of the unsynced entries; a partial
//! entry is caught by its checksum, so keeping whole entries models every torn write.

use crate::proto::{TxnEntry, Zxid};

/// What survives of the unsynced tail at a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TornTail {
    /// Nothing unsynced survives.
    DropAll,
    /// Everything written survives (the page cache reached the disk).
    KeepAll,
    /// A prefix of this many unsynced entries survives (clamped).
    Keep(usize),
}

#[derive(Clone, Debug, Default)]
pub struct Disk {
    pub log: Vec<TxnEntry>,
    pub durable_len: usize,
    /// Bumped when the log is cut or replaced, so syncs issued before are void.
    pub generation: u64,
    pub accepted_epoch: u32,
    pub current_epoch: u32,
}

fn zxid(e: &TxnEntry) -> Zxid {
    Zxid(e.header.zxid)
}

impl Disk {
    pub fn last_zxid(&self) -> Zxid {
        self.log.last().map_or(Zxid::ZERO, zxid)
    }

    pub fn durable_zxid(&self) -> Zxid {
        self.durable_len
            .checked_sub(1)
            .and_then(|i| self.log.get(i))
            .map_or(Zxid::ZERO, zxid)
    }

    pub fn append(&mut self, entries: &[TxnEntry]) {
        self.log.extend_from_slice(entries);
    }

    /// Completes a sync issued when the log had `len` entries; returns the new durable zxid.
    pub fn synced(&mut self, generation: u64, len: usize) -> Option<Zxid> {
        if generation != self.generation || len > self.log.len() {
            return None;
        }
        self.durable_len = self.durable_len.max(len);
        Some(self.durable_zxid())
    }

    /// Cuts the log after `to`; returns what was removed.
    pub fn truncate(&mut self, to: Zxid) -> Vec<TxnEntry> {
        let keep = self.log.iter().take_while(|e| zxid(e) <= to).count();
        let removed = self.log.split_off(keep);
        self.durable_len = self.durable_len.min(keep);
        self.generation += 1;
        removed
    }

    /// A synchronous snapshot: the state becomes the durable base.
    pub fn replace(&mut self, state: Vec<TxnEntry>) {
        self.durable_len = state.len();
        self.log = state;
        self.generation += 1;
    }

    pub fn crash(&mut self, torn: TornTail) {
        let unsynced = self.log.len() - self.durable_len;
        let keep = match torn {
            TornTail::DropAll => 0,
            TornTail::KeepAll => unsynced,
            TornTail::Keep(n) => n.min(unsynced),
        };
        self.log.truncate(self.durable_len + keep);
        self.durable_len = self.log.len();
        self.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Txn, TxnHeader};

    fn e(c: u32) -> TxnEntry {
        let header = TxnHeader {
            zxid: Zxid::new(1, c).0,
            ..Default::default()
        };
        TxnEntry {
            header,
            txn: Txn::Delete("/".into()),
            digest: None,
        }
    }

    #[test]
    fn a_crash_keeps_the_durable_prefix_and_part_of_the_torn_tail() {
        let mut d = Disk::default();
        d.append(&[e(1), e(2), e(3), e(4)]);
        assert_eq!(d.synced(0, 2), Some(Zxid::new(1, 2)));
        d.crash(TornTail::Keep(1));
        assert_eq!(d.last_zxid(), Zxid::new(1, 3));
        assert_eq!(d.durable_zxid(), Zxid::new(1, 3));
    }

    #[test]
    fn syncs_issued_before_a_truncation_are_void() {
        let mut d = Disk::default();
        d.append(&[e(1), e(2)]);
        let removed = d.truncate(Zxid::new(1, 1));
        assert_eq!(removed, vec![e(2)]);
        assert_eq!(d.synced(0, 2), None);
    }
}
