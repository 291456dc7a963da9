//! Which container and TTL nodes are due for deletion (`ContainerManager.getCandidates`).
//! The caller turns each candidate into a `deleteContainer` request; the clock comes in
//! as an argument.

use crate::proto::NodeKind;

use super::DataTree;

impl DataTree {
    /// Childless containers that once had a child (stored cversion > 0), or that never
    /// had one and were last modified more than `max_never_used_ms` ago (when that is
    /// not 0); childless TTL nodes last modified more than their TTL ago. Sorted.
    pub fn reap_candidates(&self, now_ms: i64, max_never_used_ms: i64) -> Vec<String> {
        let mut out: Vec<String> = self
            .containers
            .iter()
            .filter(|path| {
                self.get(path).is_some_and(|n| {
                    let elapsed = now_ms.wrapping_sub(n.stat.mtime);
                    n.num_children() == 0
                        && (n.stat.cversion > 0
                            || (max_never_used_ms != 0 && elapsed > max_never_used_ms))
                })
            })
            .cloned()
            .collect();
        out.extend(
            self.ttls
                .iter()
                .filter(|path| self.ttl_expired(path, now_ms))
                .cloned(),
        );
        out.sort();
        out.dedup();
        out
    }

    fn ttl_expired(&self, path: &str, now_ms: i64) -> bool {
        let Some(node) = self.get(path) else {
            return false;
        };
        if node.num_children() != 0 {
            return false;
        }
        match NodeKind::from_owner(node.stat.ephemeral_owner, self.extended_types) {
            NodeKind::Ttl(ttl) => ttl != 0 && now_ms.wrapping_sub(node.stat.mtime) > ttl,
            _ => false,
        }
    }
}
