//! The `ip` scheme: an address or `address/bits` CIDR, IPv4 or IPv6.
//!
//! Stands in for Apache ZooKeeper's `IPAuthenticationProvider`. The parsing rules are
//! Java's, not `std::net`'s: IPv4 parts go through `Integer.parseInt` (so `+1` and `01`
//! are accepted), IPv6 is the 3.9.5 hand parser (segments of at most 4 hex digits, one
//! `::`, no embedded IPv4, no zone id). Apache ZooKeeper 3.8.0 only knew IPv4; an IPv6
//! id is a superset there (3.8.0 answers InvalidACL for it).

/// Whether `id` is a well-formed `ip` ACL id (`IPAuthenticationProvider.isValid`).
pub fn is_valid(id: &str) -> bool {
    let (addr, bits) = split_cidr(id);
    match addr_bytes(addr) {
        None => false,
        Some(b) => bits.is_none_or(|s| parse_bits(s, b.len()).is_some()),
    }
}

/// Whether the caller address `id` is covered by the ACL expression `expr`
/// (`IPAuthenticationProvider.matches`).
pub fn matches(id: &str, expr: &str) -> bool {
    let (acl_addr, bits) = split_cidr(expr);
    let Some(mut acl) = addr_bytes(acl_addr) else {
        return false;
    };
    let bits = match bits {
        None => acl.len() * 8,
        Some(s) => match parse_bits(s, acl.len()) {
            Some(b) => b,
            None => return false,
        },
    };
    let Some(mut remote) = addr_bytes(id) else {
        return false;
    };
    mask(&mut acl, bits);
    mask(&mut remote, bits);
    acl == remote
}

/// `expr.split("/", 2)`.
fn split_cidr(expr: &str) -> (&str, Option<&str>) {
    match expr.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (expr, None),
    }
}

fn parse_bits(s: &str, addr_len: usize) -> Option<usize> {
    let bits: i32 = s.parse().ok()?;
    usize::try_from(bits).ok().filter(|b| *b <= addr_len * 8)
}

/// A `:` anywhere means IPv6, else a `.` means IPv4 (`addr2Bytes`).
fn addr_bytes(addr: &str) -> Option<Vec<u8>> {
    if addr.contains(':') {
        v6_bytes(addr)
    } else if addr.contains('.') {
        v4_bytes(addr)
    } else {
        None
    }
}

fn v4_bytes(addr: &str) -> Option<Vec<u8>> {
    let parts: Vec<&str> = addr.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    parts
        .iter()
        .map(|p| p.parse::<i32>().ok().and_then(|v| u8::try_from(v).ok()))
        .collect()
}

fn v6_bytes(addr: &str) -> Option<Vec<u8>> {
    let halves: Vec<&str> = addr.split("::").collect();
    let (head, tail) = match halves.as_slice() {
        [whole] => {
            let segs: Vec<&str> = whole.split(':').collect();
            if segs.len() != 8 {
                return None;
            }
            (segs, Vec::new())
        }
        [a, b] => {
            let head = if a.is_empty() {
                Vec::new()
            } else {
                a.split(':').collect()
            };
            let tail: Vec<&str> = if b.is_empty() {
                Vec::new()
            } else {
                b.split(':').collect()
            };
            if head.len() + tail.len() >= 8 {
                return None;
            }
            (head, tail)
        }
        _ => return None,
    };
    let mut out = vec![0u8; 16];
    put_segments(&mut out, 0, &head)?;
    put_segments(&mut out, 16 - tail.len() * 2, &tail)?;
    Some(out)
}

fn put_segments(out: &mut [u8], start: usize, segs: &[&str]) -> Option<()> {
    for (k, seg) in segs.iter().enumerate() {
        if seg.is_empty() || seg.chars().count() > 4 {
            return None;
        }
        // Integer.parseInt(seg, 16) takes a sign too: "-1" is 0xffff.
        let v = i32::from_str_radix(seg, 16).ok()?;
        let at = start + 2 * k;
        *out.get_mut(at)? = ((v >> 8) & 0xFF) as u8;
        *out.get_mut(at + 1)? = (v & 0xFF) as u8;
    }
    Some(())
}

/// Clears every bit after the first `bits` (`IPAuthenticationProvider.mask`).
fn mask(b: &mut [u8], bits: usize) {
    let keep_in_first = bits % 8;
    for (i, byte) in b.iter_mut().enumerate().skip(bits / 8) {
        let m = if i == bits / 8 {
            !(0xFFu8 >> keep_in_first)
        } else {
            0
        };
        *byte &= m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_ipv4_address_matches_itself_only() {
        assert!(matches("10.0.0.1", "10.0.0.1"));
        assert!(!matches("10.0.0.2", "10.0.0.1"));
    }

    #[test]
    fn ipv4_cidr_masks_the_low_bits() {
        assert!(matches("10.1.2.3", "10.0.0.0/8"));
        assert!(!matches("11.1.2.3", "10.0.0.0/8"));
        assert!(matches("192.168.1.77", "192.168.1.64/26"));
        assert!(!matches("192.168.1.128", "192.168.1.64/26"));
        assert!(matches("1.2.3.4", "9.9.9.9/0"));
        assert!(!matches("1.2.3.4", "1.2.3.4/33"));
        assert!(!matches("1.2.3.4", "1.2.3.4/"));
        assert!(!matches("1.2.3.4", "1.2.3.4/-1"));
    }

    #[test]
    fn ipv4_parts_parse_like_java_integers() {
        assert!(matches("1.2.3.4", "+1.02.3.4"));
        assert!(!is_valid("1.2.3.256"));
        assert!(!is_valid("1.2.3"));
        assert!(!is_valid("1.2.3.4.5"));
        assert!(!is_valid("1.2..4"));
        assert!(!is_valid("localhost"));
    }

    #[test]
    fn ipv6_addresses_and_prefixes() {
        assert!(matches("0:0:0:0:0:0:0:1", "::1"));
        assert!(matches("2001:db8:0:0:0:0:0:5", "2001:db8::/32"));
        assert!(!matches("2001:db9:0:0:0:0:0:5", "2001:db8::/32"));
        assert!(matches("fe80:0:0:0:0:0:0:0", "fe80::"));
        assert!(is_valid("::/128"));
        assert!(!is_valid("::/129"));
        assert!(!is_valid("1::2::3"));
        assert!(!is_valid("1:2:3:4:5:6:7:8:9"));
        assert!(!is_valid("1:2:3:4:5:6:7::8"));
        assert!(!is_valid("12345::"));
        assert!(!is_valid("g::"));
    }

    #[test]
    fn families_never_match_each_other() {
        assert!(!matches("127.0.0.1", "::1"));
        assert!(!matches("::1", "127.0.0.1"));
        assert!(!matches("::1", "0.0.0.0/0"));
    }
}
