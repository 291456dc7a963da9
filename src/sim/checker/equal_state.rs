//! State machine safety: nodes that applied up to the same zxid hold the same state.

use super::{violation, Checker, Observation, Violation};
use crate::proto::TxnEntry;

pub struct EqualStateAtEqualZxid;

fn last(s: &[TxnEntry]) -> i64 {
    s.last().map_or(0, |e| e.header.zxid)
}

impl Checker for EqualStateAtEqualZxid {
    fn observe(&mut self, obs: &Observation<'_>) -> Result<(), Violation> {
        let Observation::Final { states } = obs else {
            return Ok(());
        };
        for (i, (a, sa)) in states.iter().enumerate() {
            for (b, sb) in states.iter().skip(i + 1) {
                if last(sa) == last(sb) && sa != sb {
                    return violation(
                        "equal state",
                        format!("{a} and {b} differ at zxid {:#x}", last(sa)),
                    );
                }
            }
        }
        Ok(())
    }
}
