//! Delivery order: each node delivers in increasing zxid order and never skips a txn
//! that was committed anywhere (Zab's "primary order").

use std::collections::BTreeSet;

use super::{violation, Checker, Observation, Violation};
use crate::proto::Zxid;

#[derive(Default)]
pub struct DeliveryOrder(BTreeSet<Zxid>);

impl Checker for DeliveryOrder {
    fn observe(&mut self, obs: &Observation<'_>) -> Result<(), Violation> {
        let Observation::Deliver { node, prev, entry } = obs else {
            return Ok(());
        };
        let z = Zxid(entry.header.zxid);
        if z <= *prev {
            return violation(
                "delivery order",
                format!("{node} delivered {z} after {prev}"),
            );
        }
        if let Some(skipped) = self.0.range(prev.next()..z).next() {
            return violation(
                "delivery order",
                format!("{node} delivered {z} after {prev}, skipping {skipped}"),
            );
        }
        self.0.insert(z);
        Ok(())
    }
}
