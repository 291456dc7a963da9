//! `acceptedEpoch` and `currentEpoch` never decrease on a node, across restarts too, and
//! `currentEpoch` never passes `acceptedEpoch` (the startup check of `QuorumPeer`).

use std::collections::BTreeMap;

use super::{violation, Checker, Observation, Violation};
use crate::proto::ServerId;
use crate::zab::EpochKind;

#[derive(Default)]
pub struct EpochsNeverDecrease(BTreeMap<ServerId, (u32, u32)>);

impl Checker for EpochsNeverDecrease {
    fn observe(&mut self, obs: &Observation<'_>) -> Result<(), Violation> {
        match obs {
            Observation::SaveEpoch { node, kind, epoch } => {
                let pair = self.0.entry(*node).or_default();
                let old = if *kind == EpochKind::Accepted {
                    &mut pair.0
                } else {
                    &mut pair.1
                };
                if *epoch < *old {
                    return violation(
                        "epochs never decrease",
                        format!("{node} {kind:?} {old} -> {epoch}"),
                    );
                }
                *old = *epoch;
                let (acc, cur) = *pair;
                if cur > acc {
                    return violation(
                        "epochs never decrease",
                        format!("{node} current {cur} > accepted {acc}"),
                    );
                }
                Ok(())
            }
            Observation::Loaded {
                node,
                accepted,
                current,
            } => {
                let (acc, cur) = self.0.entry(*node).or_default();
                if *accepted < *acc || *current < *cur {
                    return violation(
                        "epochs never decrease",
                        format!("{node} reloaded older epochs"),
                    );
                }
                (*acc, *cur) = (*accepted, *current);
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
