//! The seeded workload: one PRNG draws every action (which session, which request, which
//! path, which version, which ACL) from a small namespace under `/t`, so that requests
//! collide often and both succeed and fail. What the generator learns from the servers
//! (sequential names, lost connections, ended sessions) comes from the oracle only, so the
//! sequence of actions depends on the seed and on Apache ZooKeeper's answers alone.

use rzk::auth::digest_id;
use rzk::proto::*;
use std::collections::BTreeSet;

/// SplitMix64: small, fast, and stable across versions of everything.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    pub fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
}

/// One step of the workload.
#[derive(Clone, Debug)]
pub enum Action {
    Req {
        slot: usize,
        req: Request,
    },
    Open {
        timeout_ms: i32,
    },
    Close {
        slot: usize,
    },
    /// Stop talking to a session until the server expires it; then maybe try to resume it.
    Expire {
        slot: usize,
        revisit: bool,
    },
    /// Resume the session on a new connection, re-arming watches; the old connection is
    /// dropped first, or left open for the server to close (`keep_old`).
    Reconnect {
        slot: usize,
        watches: Option<(bool, SetWatches)>,
        keep_old: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotState {
    Connected,
    Detached,
    Ended,
}

/// What the generator remembers of a session.
#[derive(Clone, Debug)]
pub struct Slot {
    pub state: SlotState,
    pub short: bool,
    pub data: BTreeSet<String>,
    pub exist: BTreeSet<String>,
    pub child: BTreeSet<String>,
    pub persistent: BTreeSet<String>,
    pub recursive: BTreeSet<String>,
}

impl Slot {
    fn new(short: bool) -> Slot {
        let e = BTreeSet::new;
        Slot {
            state: SlotState::Connected,
            short,
            data: e(),
            exist: e(),
            child: e(),
            persistent: e(),
            recursive: e(),
        }
    }
}

pub const ROOT: &str = "/t";
const NAMES: [&str; 2] = ["a", "b"];
const BAD_PATHS: [&str; 12] = [
    "",
    "t",
    "/t/",
    "/t//a",
    "/t/./a",
    "/t/../a",
    "/t/a\u{1}",
    "/zookeeper",
    "/zookeeper/quota",
    "/",
    "/zookeeper/config",
    "/t/a/",
];
const USERS: [&str; 4] = ["alice:pw1", "bob:pw2", "alice:wrong", "super:test"];

pub struct Generator {
    pub rng: Rng,
    pub slots: Vec<Slot>,
    pool: Vec<String>,
    seen: Vec<String>,
}

impl Generator {
    pub fn new(seed: u64) -> Generator {
        let mut pool = vec![ROOT.to_string()];
        for a in NAMES {
            pool.push(format!("{ROOT}/{a}"));
            for b in NAMES {
                pool.push(format!("{ROOT}/{a}/{b}"));
                for c in NAMES {
                    pool.push(format!("{ROOT}/{a}/{b}/{c}"));
                }
            }
        }
        Generator {
            rng: Rng::new(seed),
            slots: Vec::new(),
            pool,
            seen: Vec::new(),
        }
    }

    /// Remembers a node name the oracle created (sequential names cannot be guessed).
    pub fn learn_path(&mut self, path: &str) {
        if !self.pool.iter().any(|p| p == path) && !self.seen.iter().any(|p| p == path) {
            self.seen.push(path.to_string());
            if self.seen.len() > 24 {
                self.seen.remove(0);
            }
        }
    }

    pub fn open_slot(&mut self, short: bool) {
        self.slots.push(Slot::new(short));
    }

    fn in_state(&self, st: SlotState) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].state == st)
            .collect()
    }

    /// The next action.
    pub fn next(&mut self) -> Action {
        if let Some(&slot) = self.in_state(SlotState::Detached).first() {
            return self.reconnect(slot);
        }
        let live = self.in_state(SlotState::Connected);
        if live.len() < 2 || (live.len() < 5 && self.rng.chance(2)) {
            return self.open();
        }
        let slot = self.rng.pick(&live);
        match self.rng.below(1000) {
            0..=14 => Action::Close { slot },
            15..=18 => self.expire(&live),
            19..=38 => self.reconnect(slot),
            _ => Action::Req {
                slot,
                req: self.request(slot),
            },
        }
    }

    fn open(&mut self) -> Action {
        let timeout_ms = match self.rng.below(10) {
            0..=2 => [50, 300, 500, 700][self.rng.below(4)],
            3 => 100_000,
            _ => 30_000,
        };
        Action::Open { timeout_ms }
    }

    fn expire(&mut self, live: &[usize]) -> Action {
        let short: Vec<usize> = live
            .iter()
            .copied()
            .filter(|&i| self.slots[i].short)
            .collect();
        if short.is_empty() {
            return self.open();
        }
        let slot = self.rng.pick(&short);
        Action::Expire {
            slot,
            revisit: self.rng.chance(50),
        }
    }

    fn reconnect(&mut self, slot: usize) -> Action {
        let watches = match self.rng.below(3) {
            0 => None,
            n => Some((n == 2, self.set_watches(slot, n == 2))),
        };
        let keep_old = self.slots[slot].state == SlotState::Connected && self.rng.chance(30);
        Action::Reconnect {
            slot,
            watches,
            keep_old,
        }
    }

    fn set_watches(&mut self, slot: usize, v2: bool) -> SetWatches {
        let s = self.slots[slot].clone();
        let mut keep = |set: &BTreeSet<String>| {
            set.iter()
                .filter(|_| self.rng.chance(80))
                .cloned()
                .collect::<Vec<_>>()
        };
        let mut w = SetWatches {
            relative_zxid: 0,
            data_watches: keep(&s.data),
            exist_watches: keep(&s.exist),
            child_watches: keep(&s.child),
            ..Default::default()
        };
        if v2 {
            w.persistent_watches = keep(&s.persistent);
            w.persistent_recursive_watches = keep(&s.recursive);
        }
        w
    }

    /// A path: mostly from the namespace, sometimes one that fails validation.
    pub fn path(&mut self) -> String {
        if self.rng.chance(4) {
            return self.rng.pick(&BAD_PATHS).to_string();
        }
        if !self.seen.is_empty() && self.rng.chance(15) {
            return self.rng.pick(&self.seen);
        }
        // Shallow paths more often, so that parents exist and creates succeed.
        let depth = match self.rng.below(10) {
            0 => 0,
            1..=4 => 1,
            5..=7 => 2,
            _ => 3,
        };
        let at_depth: Vec<String> = self
            .pool
            .iter()
            .filter(|p| p.matches('/').count() == depth + 1)
            .cloned()
            .collect();
        self.rng.pick(&at_depth)
    }

    pub(crate) fn version(&mut self) -> i32 {
        match self.rng.below(10) {
            0..=4 => -1,
            5 => 99,
            6 => -2,
            n => n as i32 - 7,
        }
    }

    pub(crate) fn data(&mut self) -> Option<Vec<u8>> {
        match self.rng.below(10) {
            0 => None,
            1 => Some(Vec::new()),
            _ => Some(
                (0..self.rng.below(6))
                    .map(|_| b'a' + self.rng.below(26) as u8)
                    .collect(),
            ),
        }
    }

    pub(crate) fn acl(&mut self) -> Vec<Acl> {
        let user = self.rng.pick(&USERS[..2]);
        let digest = digest_id(user);
        match self.rng.below(20) {
            0..=9 => Acl::open_unsafe(),
            10 => Acl::read_unsafe(),
            11 => vec![Acl::new(perms::ALL, "auth", "")],
            12 => vec![Acl::new(perms::ALL, "digest", &digest)],
            13 => vec![
                Acl::new(self.rng.below(32) as i32, "digest", &digest),
                Acl::new(perms::READ, "world", "anyone"),
            ],
            14 => vec![Acl::new(perms::ALL, "ip", "127.0.0.1")],
            15 => vec![Acl::new(self.rng.below(32) as i32, "world", "anyone")],
            16 => Vec::new(),
            17 => vec![Acl::new(perms::ALL, "foo", "bar")],
            18 => vec![Acl::new(perms::ALL, "ip", "300.1.2.3/99")],
            _ => vec![Acl::new(
                perms::ALL,
                "digest",
                user.split(':').next().unwrap_or(""),
            )],
        }
    }
}
