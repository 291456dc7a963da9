//! A connection's authentication ids (`ServerCnxn.authInfo`) in the order Java lists them.
//!
//! Java keeps them in a set backed by a `ConcurrentHashMap`, so whoAmI replies and the
//! ACL entries an `auth` id expands to come out in hash-table order, not in the order the
//! ids were added: after a digest auth the golden frames show `[ip, digest]`, but other
//! names can land the other way round. `AuthInfo` replays that table: `String.hashCode`,
//! the jute `Id.hashCode`, `spread`, bins appended at the tail, doubling at 3/4 load with
//! the lo/hi split of `transfer`. (Tree bins need 8 colliding ids and a table of 64;
//! not modelled.)

use crate::proto::java_hash::string_hash as java_string_hash;
use crate::proto::Id;

const INITIAL_BINS: usize = 16;

/// The jute-generated `Id.hashCode`.
fn java_id_hash(id: &Id) -> i32 {
    let r = 17i32
        .wrapping_mul(37)
        .wrapping_add(java_string_hash(&id.scheme));
    r.wrapping_mul(37).wrapping_add(java_string_hash(&id.id))
}

/// `ConcurrentHashMap.spread`.
fn spread(h: i32) -> usize {
    ((h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff) as usize
}

/// A set of ids iterated like Java's `ConcurrentHashMap`-backed set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthInfo {
    bins: Vec<Vec<(usize, Id)>>,
    len: usize,
}

impl Default for AuthInfo {
    fn default() -> Self {
        AuthInfo {
            bins: vec![Vec::new(); INITIAL_BINS],
            len: 0,
        }
    }
}

impl AuthInfo {
    pub fn new() -> Self {
        Self::default()
    }

    /// What every connection starts with: `Id("ip", <client address>)`.
    pub fn with_ip(address: &str) -> Self {
        let mut a = Self::new();
        a.add(Id::new("ip", address));
        a
    }

    /// Adds `id`; false (and no change) if it is already there.
    pub fn add(&mut self, id: Id) -> bool {
        if self.contains(&id) {
            return false;
        }
        let h = spread(java_id_hash(&id));
        let n = self.bins.len();
        if let Some(bin) = self.bins.get_mut(h & (n - 1)) {
            bin.push((h, id));
        }
        self.len += 1;
        if self.len >= n - n / 4 {
            self.grow();
        }
        true
    }

    /// `ConcurrentHashMap.transfer`: each bin splits into a low and a high bin; the
    /// nodes before the last run of same-side nodes are prepended, so they reverse.
    fn grow(&mut self) {
        let n = self.bins.len();
        let mut next = vec![Vec::new(); n * 2];
        for (i, bin) in std::mem::take(&mut self.bins).into_iter().enumerate() {
            let side = |h: usize| h & n != 0;
            let run_start = match bin.last() {
                Some((h, _)) => bin
                    .iter()
                    .rposition(|(x, _)| side(*x) != side(*h))
                    .map_or(0, |p| p + 1),
                None => continue,
            };
            let (mut lo, mut hi) = (Vec::new(), Vec::new());
            for node in bin[..run_start].iter().rev() {
                if side(node.0) {
                    hi.push(node.clone())
                } else {
                    lo.push(node.clone())
                }
            }
            let tail = bin[run_start..].to_vec();
            let run_high = tail.first().is_some_and(|(h, _)| side(*h));
            if run_high {
                hi.extend(tail)
            } else {
                lo.extend(tail)
            }
            next[i] = lo;
            next[i + n] = hi;
        }
        self.bins = next;
    }

    pub fn remove(&mut self, id: &Id) -> bool {
        for bin in &mut self.bins {
            if let Some(p) = bin.iter().position(|(_, x)| x == id) {
                bin.remove(p);
                self.len -= 1;
                return true;
            }
        }
        false
    }

    pub fn contains(&self, id: &Id) -> bool {
        self.bins.iter().flatten().any(|(_, x)| x == id)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ids in Java's iteration order.
    pub fn ids(&self) -> Vec<Id> {
        self.bins
            .iter()
            .flatten()
            .map(|(_, id)| id.clone())
            .collect()
    }
}

/// The order Java would list `ids` in had they been added to a fresh connection one
/// after another (duplicates dropped).
pub fn java_set_order(ids: &[Id]) -> Vec<Id> {
    let mut a = AuthInfo::new();
    for id in ids {
        a.add(id.clone());
    }
    a.ids()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("ip"), 3367);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn golden_whoami_order_is_ip_then_digest() {
        let mut a = AuthInfo::with_ip("127.0.0.1");
        a.add(Id::new("digest", "user:smGaoVKd/cQkjm7b88GyorAUz20="));
        let ids = a.ids();
        assert_eq!(ids[0], Id::new("ip", "127.0.0.1"));
        assert_eq!(ids[1].scheme, "digest");
    }

    fn parse(list: &str) -> Vec<Id> {
        list.split(' ')
            .map(|x| {
                let (scheme, id) = x.split_once(':').unwrap();
                Id::new(scheme, id)
            })
            .collect()
    }

    /// Orders printed by a JDK 17 `ConcurrentHashMap` set of `org.apache.zookeeper.data.Id`.
    #[test]
    fn order_matches_java_hash_set() {
        let cases = [
            (
                "ip:10.1.2.3 digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E= super: digest:super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
                "digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E= super: ip:10.1.2.3 digest:super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
            ),
            ("ip:192.168.0.17 sasl:bob digest:bob:x", "ip:192.168.0.17 sasl:bob digest:bob:x"),
        ];
        for (added, listed) in cases {
            assert_eq!(java_set_order(&parse(added)), parse(listed));
        }
    }

    #[test]
    fn order_matches_java_after_two_resizes() {
        let mut added = vec!["ip:127.0.0.1".to_string()];
        added.extend((0..30).map(|i| format!("digest:u{i}:x")));
        let listed = "digest:u3:x digest:u2:x digest:u5:x digest:u4:x digest:u7:x digest:u21:x \
            digest:u6:x digest:u20:x digest:u9:x digest:u8:x ip:127.0.0.1 digest:u1:x digest:u0:x \
            digest:u25:x digest:u24:x digest:u23:x digest:u22:x digest:u29:x digest:u28:x \
            digest:u27:x digest:u26:x digest:u10:x digest:u19:x digest:u13:x digest:u14:x \
            digest:u11:x digest:u12:x digest:u18:x digest:u17:x digest:u15:x digest:u16:x";
        let listed: Vec<&str> = listed.split_whitespace().collect();
        assert_eq!(
            java_set_order(&parse(&added.join(" "))),
            parse(&listed.join(" "))
        );
    }

    #[test]
    fn duplicates_are_ignored() {
        let mut a = AuthInfo::with_ip("10.0.0.1");
        assert!(!a.add(Id::new("ip", "10.0.0.1")));
        assert_eq!(a.len(), 1);
        assert!(a.remove(&Id::new("ip", "10.0.0.1")));
        assert!(a.is_empty());
    }

    #[test]
    fn growing_keeps_every_id() {
        let ids: Vec<Id> = (0..40)
            .map(|i| Id::new("digest", &format!("u{i}:x")))
            .collect();
        let ordered = java_set_order(&ids);
        assert_eq!(ordered.len(), 40);
        let mut sorted = ordered.clone();
        sorted.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(sorted, want);
    }
}
