//! Session ids and passwords (`SessionTrackerImpl.initializeNextSessionId`,
//! `ZooKeeperServer.generatePasswd`).
//!
//! The password is never stored: every server recomputes it from the session id with
//! `java.util.Random`, so a server in a mixed ensemble must reproduce that generator
//! bit for bit.

use crate::proto::{ServerId, SessionId, CONTAINER_OWNER};

/// `ZooKeeperServer.superSecret`: mixed into the seed of the password generator.
const SUPER_SECRET: i64 = 0xB341_5C00;

/// The 48-bit linear congruential generator of `java.util.Random`.
struct JavaRandom {
    state: u64,
}

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    fn new(seed: i64) -> JavaRandom {
        JavaRandom {
            state: (seed as u64 ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    fn next_int(&mut self) -> i32 {
        self.state = self.state.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB) & Self::MASK;
        (self.state >> 16) as u32 as i32
    }

    /// `Random.nextBytes`: each int fills up to four bytes, least significant first.
    fn fill_bytes(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(4) {
            let r = self.next_int().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }
}

/// The password of a session: `new Random(id ^ superSecret).nextBytes(16)`.
pub fn session_password(id: SessionId) -> [u8; 16] {
    let mut out = [0u8; 16];
    JavaRandom::new(id.0 ^ SUPER_SECRET).fill_bytes(&mut out);
    out
}

/// The first session id a tracker hands out: the low 40 bits of the monotonic clock at
/// bits 16..55, the server id in the top byte, bits 0..15 zero.
pub fn initial_session_id(server_id: ServerId, now_ms: i64) -> i64 {
    let time_part = ((now_ms.wrapping_shl(24) as u64) >> 8) as i64;
    let id = time_part | server_id.0.wrapping_shl(56);
    // `SessionTrackerImpl`: never collide with the container owner marker.
    if id == CONTAINER_OWNER {
        id + 1
    } else {
        id
    }
}

/// Clamps a requested session timeout into `[min, max]`, min first
/// (`ZooKeeperServer.processConnectRequest`): with min > max the result is max.
pub fn negotiate_timeout(requested: i32, min: i32, max: i32) -> i32 {
    let t = if requested < min { min } else { requested };
    if t > max {
        max
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn passwords_match_the_jdk_vectors() {
        let vectors: [(u64, &str); 5] = [
            (0x0000000000000000, "f22acd4a97e69d6d20a49bb638eadb38"),
            (0x0000000000000001, "054cc74a37327db215e702e20c73f005"),
            (0x0100000000000000, "f22acd4a97e69d6d20a49bb638eadb38"),
            (0x10001a2b3c4d0000, "a92640c4827d6d302f083a159bfe0510"),
            (0x72b5d4e9a1c00000, "b20271a957433752e0a13cd6f87462c1"),
        ];
        for (id, want) in vectors {
            assert_eq!(
                hex(&session_password(SessionId(id as i64))),
                want,
                "id {id:#x}"
            );
        }
    }

    #[test]
    fn session_id_layout_puts_server_id_on_top_and_zero_low_bits() {
        let id = initial_session_id(ServerId(1), 0x12_3456_789A);
        assert_eq!(id as u64, 0x0112_3456_789A_0000);
        // Only the low 40 bits of the clock survive.
        let id = initial_session_id(ServerId(0), 0x7F12_3456_789A);
        assert_eq!(id as u64, 0x0012_3456_789A_0000);
        // A large server id fills the top byte without sign trouble in the time part.
        let id = initial_session_id(ServerId(0xFE), 0xFF_FFFF_FFFF);
        assert_eq!(id as u64, 0xFEFF_FFFF_FFFF_0000);
    }

    #[test]
    fn session_id_skips_the_container_marker() {
        assert_eq!(initial_session_id(ServerId(0x80), 0), CONTAINER_OWNER + 1);
    }

    #[test]
    fn timeout_is_clamped_min_first() {
        assert_eq!(negotiate_timeout(1000, 4000, 40000), 4000);
        assert_eq!(negotiate_timeout(30000, 4000, 40000), 30000);
        assert_eq!(negotiate_timeout(90000, 4000, 40000), 40000);
        assert_eq!(negotiate_timeout(1000, 5000, 3000), 3000);
    }
}
