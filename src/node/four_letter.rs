//! Four-letter words answered from the core's state (`command/*Command` of Apache
//! ZooKeeper): the same lines, in the same order, with the same key names.

use super::core::Core;
use super::ConnId;
use bytes::Bytes;
use std::fmt::Write;

/// The version line clients and scripts parse: they rely on the leading
/// `major.minor.micro` only.
pub const VERSION: &str = concat!("3.8.0-rzk-", env!("CARGO_PKG_VERSION"), ", built on 1970-01-01 00:00 UTC");

impl Core {
    pub(super) fn handle_four_letter(&mut self, conn: ConnId, word: &str) {
        let text = if !self.cfg.four_letter_words.allows(word) {
            format!("{word} is not executed because it is not in the whitelist.\n")
        } else {
            self.four_letter_text(word)
        };
        self.send(conn, Bytes::from(text));
        self.close(conn);
    }

    fn four_letter_text(&mut self, word: &str) -> String {
        match word {
            "ruok" => "imok".to_string(),
            "isro" => "rw".to_string(),
            "gtmk" => "306".to_string(),
            "srvr" => self.srvr_text(false),
            "stat" => self.srvr_text(true),
            "crst" => {
                for c in self.conns.values_mut() {
                    c.stats.reset();
                }
                "Connection stats reset.\n".to_string()
            }
            "srst" => {
                self.stats.reset();
                "Server stats reset.\n".to_string()
            }
            other => format!("{other} is not executed because it is not in the whitelist.\n"),
        }
    }

    fn srvr_text(&self, with_clients: bool) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Zookeeper version: {VERSION}");
        if with_clients {
            s.push_str("Clients:\n");
            for c in self.conns.values() {
                let _ = writeln!(
                    s,
                    " /{}[{}](queued={},recved={},sent={})",
                    c.peer,
                    if c.closing { 0 } else { 1 },
                    c.queue.len(),
                    c.stats.packets_received,
                    c.stats.packets_sent
                );
            }
            s.push('\n');
        }
        let st = &self.stats;
        let avg = if st.count == 0 { 0.0 } else { st.total_latency_ms as f64 / st.count as f64 };
        let _ = writeln!(s, "Latency min/avg/max: {}/{}/{}", st.min_latency_ms, java_double(avg), st.max_latency_ms);
        let _ = writeln!(s, "Received: {}", st.packets_received);
        let _ = writeln!(s, "Sent: {}", st.packets_sent);
        let _ = writeln!(s, "Connections: {}", self.conns.len());
        let _ = writeln!(s, "Outstanding: {}", self.inflight.len());
        let _ = writeln!(s, "Zxid: 0x{:x}", self.last_applied_zxid);
        let _ = writeln!(s, "Mode: standalone");
        let _ = writeln!(s, "Node count: {}", self.tree.node_count());
        s
    }
}

/// A double as Java's `Double.toString` prints it for the small values latencies take,
/// rounded to 4 decimals like `ServerStats`.
pub fn java_double(v: f64) -> String {
    let r = (v * 10000.0).round() / 10000.0;
    let s = format!("{r}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

#[cfg(test)]
mod tests {
    use super::java_double;

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(1.5), "1.5");
        assert_eq!(java_double(1.0 / 3.0), "0.3333");
    }
}
