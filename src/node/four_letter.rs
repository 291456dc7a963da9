//! The core's side of the operations surface: answering a [`Query`] with a
//! [`ServerSnapshot`], after the side effects some commands have (`crst`, `srst`).
//! Rendering lives in `crate::ops`, which works on the snapshot alone, the way Apache
//! ZooKeeper's `command/*Command` classes read a running `ZooKeeperServer`.

use super::core::Core;
use super::stats::ServerSnapshot;
use super::ConnId;

/// What a query changes before the snapshot is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reset {
    None,
    /// `crst` / `connection_stat_reset`.
    Connections,
    /// `srst` / `stat_reset`.
    Server,
}

/// A request for the server's state from the operations surface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// The connection a four-letter word arrived on: Java counts the word as a received
    /// packet of that connection and of the server (a fresh server's `srvr` says
    /// `Received: 1`).
    pub four_letter_conn: Option<ConnId>,
    pub reset: Reset,
}

impl Query {
    pub fn snapshot() -> Query {
        Query {
            four_letter_conn: None,
            reset: Reset::None,
        }
    }
}

impl Core {
    /// `NIOServerCnxn.checkFourLetterWord`: `packetReceived(4)`, for every known word,
    /// enabled or not.
    pub(super) fn count_word(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.packets_received += 1;
            self.stats.packets_received += 1;
            self.stats
                .recorded
                .count(super::recorded::Counter::BytesReceivedCount, 4);
        }
    }

    pub fn answer_query(&mut self, q: Query) -> ServerSnapshot {
        if let Some(conn) = q.four_letter_conn {
            self.count_word(conn);
        }
        match q.reset {
            Reset::None => {}
            Reset::Connections => self.conns.values_mut().for_each(|c| c.stats.reset()),
            Reset::Server => self.stats.reset(),
        }
        self.snapshot_stats()
    }
}
