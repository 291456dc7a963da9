//! Prefix agreement: a zxid names one txn everywhere it is delivered (Zab's "agreement"
//! and "total order" properties).

use std::collections::BTreeMap;

use super::{same, violation, Checker, Observation, Violation};
use crate::proto::{TxnEntry, Zxid};

#[derive(Default)]
pub struct PrefixAgreement(BTreeMap<Zxid, TxnEntry>);

impl Checker for PrefixAgreement {
    fn observe(&mut self, obs: &Observation<'_>) -> Result<(), Violation> {
        let Observation::Deliver { node, entry, .. } = obs else {
            return Ok(());
        };
        let z = Zxid(entry.header.zxid);
        match self.0.get(&z) {
            Some(e) if !same(e, entry) => violation(
                "prefix agreement",
                format!("{node} delivered a different txn at {z}"),
            ),
            Some(_) => Ok(()),
            None => {
                self.0.insert(z, (*entry).clone());
                Ok(())
            }
        }
    }
}
