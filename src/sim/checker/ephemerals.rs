//! Ephemerals live exactly as long as their session: replaying a node's applied txns,
//! no write (an ephemeral create above all) comes from a session that is not live, every
//! closeSession names exactly the ephemerals its session owns at that zxid (and removes
//! them), and no session is created twice (`DataTree.killSession`,
//! `PrepRequestProcessor`'s session check).

use super::{violation, Checker, Observation, Violation};
use crate::sim::model::Tree;

pub struct EphemeralsWithSessions;

impl Checker for EphemeralsWithSessions {
    fn observe(&mut self, obs: &Observation<'_>) -> Result<(), Violation> {
        let Observation::Final { states } = obs else {
            return Ok(());
        };
        for (node, applied) in states.iter() {
            let mut t = Tree::default();
            for e in applied.iter() {
                if let Err(what) = t.apply(e) {
                    return violation("ephemerals with sessions", format!("{node}: {what}"));
                }
            }
        }
        Ok(())
    }
}
