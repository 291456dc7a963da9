//! Checkers for histories recorded from real clients: `linearizable` (the search) and
//! `history` (the text format a test harness writes and `rzk-check` reads). Always
//! built, unlike the simulator that also uses the search, so the `rzk-check` binary can
//! judge histories recorded against a real ensemble. No Apache ZooKeeper counterpart.

pub mod history;
pub mod linearizable;
