//! At most one leader is established per epoch (Zab: "there is at most one established
//! leader per epoch", the basis of the zxid's uniqueness).

use std::collections::BTreeMap;

use super::{violation, Checker, Observation, Violation};
use crate::proto::ServerId;

#[derive(Default)]
pub struct LeaderPerEpoch(BTreeMap<u32, ServerId>);

impl Checker for LeaderPerEpoch {
    fn observe(&mut self, obs: &Observation<'_>) -> Result<(), Violation> {
        let Observation::Established { node, epoch, .. } = obs else {
            return Ok(());
        };
        match self.0.insert(*epoch, *node) {
            Some(other) if other != *node => violation(
                "one leader per epoch",
                format!("epoch {epoch} established by {other} and {node}"),
            ),
            _ => Ok(()),
        }
    }
}
