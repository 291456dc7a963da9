//! How the leader brings a learner up to date: DIFF, TRUNC or SNAP, then the committed
//! txns it lacks (`LearnerHandler.syncFollower` and `queueCommittedProposals`, without
//! the on-disk txn-log walk: a learner older than the in-memory window gets a SNAP).

use std::collections::VecDeque;

use crate::proto::{TxnEntry, Zxid};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncStart {
    Diff(Zxid),
    Trunc(Zxid),
    Snap(Zxid),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncPlan {
    pub start: SyncStart,
    /// Sent as PROPOSAL + COMMIT pairs after `start`.
    pub proposals: Vec<TxnEntry>,
}

fn zxid(e: &TxnEntry) -> Zxid {
    Zxid(e.header.zxid)
}

/// `log`: the leader's committed window, oldest first; `last`: its last processed zxid
/// (the last committed one, or (epoch, 0) once the epoch is established and nothing was
/// committed in it yet); `peer_last`: the learner's last logged zxid from ACKEPOCH.
pub fn plan_sync(log: &VecDeque<TxnEntry>, last: Zxid, peer_last: Zxid) -> SyncPlan {
    let plain = |start| SyncPlan {
        start,
        proposals: vec![],
    };
    if peer_last == last {
        return plain(SyncStart::Diff(peer_last));
    }
    let (min, max) = match (log.front(), log.back()) {
        (Some(a), Some(b)) => (zxid(a), zxid(b)),
        _ => (last, last),
    };
    // A zxid with counter 0 is a learner that just finished an earlier sync: never TRUNC it.
    let fresh_epoch = peer_last.counter() == 0;
    if peer_last > max && !fresh_epoch {
        return plain(SyncStart::Trunc(max));
    }
    if !log.is_empty() && min <= peer_last && peer_last <= max {
        if let Some(plan) = walk(log, max, peer_last, fresh_epoch) {
            return plan;
        }
    }
    plain(SyncStart::Snap(last))
}

/// Walks the window from the learner's position. `None` when the learner diverged in an
/// older epoch than the window can explain (Java falls back to SNAP).
fn walk(
    log: &VecDeque<TxnEntry>,
    max: Zxid,
    peer_last: Zxid,
    fresh_epoch: bool,
) -> Option<SyncPlan> {
    let mut prev = None;
    let mut start = None;
    let mut proposals = vec![];
    for e in log {
        let z = zxid(e);
        if z < peer_last {
            prev = Some(z);
            continue;
        }
        if start.is_none() {
            if z == peer_last {
                start = Some(SyncStart::Diff(max));
                continue;
            }
            if fresh_epoch {
                start = Some(SyncStart::Diff(max));
            } else if z.epoch() != peer_last.epoch() {
                return None;
            } else {
                start = Some(SyncStart::Trunc(prev?));
            }
        }
        proposals.push(e.clone());
    }
    Some(SyncPlan {
        start: start?,
        proposals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Txn, TxnHeader};

    fn e(epoch: u32, c: u32) -> TxnEntry {
        let header = TxnHeader {
            client_id: 0,
            cxid: 0,
            zxid: Zxid::new(epoch, c).0,
            time: 0,
        };
        TxnEntry {
            header,
            txn: Txn::Delete(format!("/{epoch}-{c}")),
            digest: None,
        }
    }

    fn log(items: &[(u32, u32)]) -> VecDeque<TxnEntry> {
        items.iter().map(|(a, b)| e(*a, *b)).collect()
    }

    #[test]
    fn an_up_to_date_learner_gets_an_empty_diff() {
        let p = plan_sync(&log(&[(1, 1), (1, 2)]), Zxid::new(1, 2), Zxid::new(1, 2));
        assert_eq!(
            p,
            SyncPlan {
                start: SyncStart::Diff(Zxid::new(1, 2)),
                proposals: vec![]
            }
        );
    }

    #[test]
    fn a_lagging_learner_inside_the_window_gets_the_missing_txns() {
        let p = plan_sync(
            &log(&[(1, 1), (1, 2), (1, 3)]),
            Zxid::new(1, 3),
            Zxid::new(1, 1),
        );
        assert_eq!(p.start, SyncStart::Diff(Zxid::new(1, 3)));
        assert_eq!(p.proposals, vec![e(1, 2), e(1, 3)]);
    }

    #[test]
    fn a_learner_ahead_of_the_leader_is_truncated() {
        let p = plan_sync(&log(&[(1, 1), (1, 2)]), Zxid::new(1, 2), Zxid::new(1, 5));
        assert_eq!(p.start, SyncStart::Trunc(Zxid::new(1, 2)));
    }

    #[test]
    fn a_learner_with_a_foreign_txn_inside_the_window_is_truncated_then_diffed() {
        // The learner logged (2,2) that the leader never had; the leader moved to epoch 3.
        let p = plan_sync(
            &log(&[(2, 1), (2, 3), (3, 1)]),
            Zxid::new(3, 1),
            Zxid::new(2, 2),
        );
        assert_eq!(p.start, SyncStart::Trunc(Zxid::new(2, 1)));
        assert_eq!(p.proposals, vec![e(2, 3), e(3, 1)]);
    }

    #[test]
    fn a_learner_older_than_the_window_gets_a_snapshot() {
        let p = plan_sync(&log(&[(1, 5), (1, 6)]), Zxid::new(1, 6), Zxid::new(1, 2));
        assert_eq!(p.start, SyncStart::Snap(Zxid::new(1, 6)));
    }

    #[test]
    fn a_fresh_epoch_learner_is_never_truncated() {
        let p = plan_sync(&log(&[(1, 1)]), Zxid::new(1, 1), Zxid::new(2, 0));
        assert_eq!(p.start, SyncStart::Snap(Zxid::new(1, 1)));
    }

    #[test]
    fn divergence_in_an_older_epoch_falls_back_to_snap() {
        let p = plan_sync(&log(&[(1, 1), (2, 1)]), Zxid::new(2, 1), Zxid::new(1, 4));
        assert_eq!(p.start, SyncStart::Snap(Zxid::new(2, 1)));
    }
}
