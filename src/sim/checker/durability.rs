//! Committed durability: a txn delivered anywhere is in the history of every leader
//! established afterwards, and no TRUNC removes it (Zab's "integrity" across epochs).

use std::collections::BTreeMap;

use super::{same, violation, Checker, Observation, Violation};
use crate::proto::{TxnEntry, Zxid};

#[derive(Default)]
pub struct CommittedDurability(BTreeMap<Zxid, TxnEntry>);

impl Checker for CommittedDurability {
    fn observe(&mut self, obs: &Observation<'_>) -> Result<(), Violation> {
        match obs {
            Observation::Deliver { entry, .. } => {
                self.0
                    .entry(Zxid(entry.header.zxid))
                    .or_insert_with(|| (*entry).clone());
                Ok(())
            }
            Observation::Established { node, epoch, log } => {
                for (z, e) in &self.0 {
                    let found = log
                        .binary_search_by_key(&z.0, |x| x.header.zxid)
                        .ok()
                        .and_then(|i| log.get(i));
                    if !found.is_some_and(|f| same(f, e)) {
                        return violation(
                            "committed durability",
                            format!("leader {node} of epoch {epoch} lacks {z}"),
                        );
                    }
                }
                Ok(())
            }
            Observation::Truncate { node, removed } => {
                for r in removed.iter() {
                    if self.0.get(&Zxid(r.header.zxid)).is_some_and(|e| same(e, r)) {
                        return violation(
                            "committed durability",
                            format!("{node} truncated committed {}", r.header.zxid),
                        );
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
