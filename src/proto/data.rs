//! Records shared by requests, responses, transactions and snapshots
//! (`zookeeper.jute`: `Id`, `ACL`, `Stat`, `StatPersisted`, `WatcherEvent`).
//! Fields are declared in jute order.

/// `Id`: an authentication scheme and an identity within it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id {
    pub scheme: String,
    pub id: String,
}

impl Id {
    pub fn new(scheme: &str, id: &str) -> Id {
        Id {
            scheme: scheme.to_string(),
            id: id.to_string(),
        }
    }
}

/// `ACL`: permission bits granted to an id.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Acl {
    pub perms: i32,
    pub id: Id,
}

/// Permission bits (`ZooDefs.Perms`).
pub mod perms {
    pub const READ: i32 = 1;
    pub const WRITE: i32 = 2;
    pub const CREATE: i32 = 4;
    pub const DELETE: i32 = 8;
    pub const ADMIN: i32 = 16;
    pub const ALL: i32 = 31;
}

impl Acl {
    pub fn new(perms: i32, scheme: &str, id: &str) -> Acl {
        Acl {
            perms,
            id: Id::new(scheme, id),
        }
    }
    /// `ZooDefs.Ids.OPEN_ACL_UNSAFE`
    pub fn open_unsafe() -> Vec<Acl> {
        vec![Acl::new(perms::ALL, "world", "anyone")]
    }
    /// `ZooDefs.Ids.READ_ACL_UNSAFE`
    pub fn read_unsafe() -> Vec<Acl> {
        vec![Acl::new(perms::READ, "world", "anyone")]
    }
}

/// `Stat` as clients see it (68 bytes on the wire).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stat {
    pub czxid: i64,
    pub mzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64,
    pub data_length: i32,
    pub num_children: i32,
    pub pzxid: i64,
}

/// `StatPersisted`: what the tree, snapshots and the digest keep per node.
/// `cversion` here is the *stored* child-create counter and `ephemeral_owner` the
/// internal encoding (containers and TTL nodes included); see `to_stat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StatPersisted {
    pub czxid: i64,
    pub mzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64,
    pub pzxid: i64,
}

/// `EphemeralType.CONTAINER_EPHEMERAL_OWNER`.
pub const CONTAINER_OWNER: i64 = i64::MIN;
/// Top byte that marks a TTL owner (`EphemeralType.TTL`, extended types).
pub const TTL_OWNER_MASK: i64 = 0xFF00_0000_0000_0000u64 as i64;
/// Largest TTL in ms (`EphemeralType.MAX_EXTENDED_SERVER_ID`-limited 40-bit value).
pub const TTL_MAX_MS: i64 = 0x0000_00FF_FFFF_FFFF;

/// What an `ephemeralOwner` value means (`EphemeralType.get`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Persistent,
    Ephemeral(i64),
    Container,
    Ttl(i64),
}

impl NodeKind {
    /// Decodes a stored owner; `extended_types` is `zookeeper.extendedTypesEnabled`.
    pub fn from_owner(owner: i64, extended_types: bool) -> NodeKind {
        if owner == 0 {
            NodeKind::Persistent
        } else if owner == CONTAINER_OWNER {
            NodeKind::Container
        } else if extended_types && (owner & TTL_OWNER_MASK) == TTL_OWNER_MASK {
            NodeKind::Ttl(owner & TTL_MAX_MS)
        } else {
            NodeKind::Ephemeral(owner)
        }
    }

    pub fn owner(self) -> i64 {
        match self {
            NodeKind::Persistent => 0,
            NodeKind::Ephemeral(s) => s,
            NodeKind::Container => CONTAINER_OWNER,
            NodeKind::Ttl(ttl) => TTL_OWNER_MASK | (ttl & TTL_MAX_MS),
        }
    }
}

impl StatPersisted {
    /// The client-visible `Stat`: cversion = 2 × stored − numChildren
    /// (`DataNode.copyStat`), container and TTL owners shown as 0.
    pub fn to_stat(&self, data_length: i32, num_children: i32) -> Stat {
        let owner = if self.ephemeral_owner == CONTAINER_OWNER
            || (self.ephemeral_owner & TTL_OWNER_MASK) == TTL_OWNER_MASK
        {
            0
        } else {
            self.ephemeral_owner
        };
        Stat {
            czxid: self.czxid,
            mzxid: self.mzxid,
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            cversion: self.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: self.aversion,
            ephemeral_owner: owner,
            data_length,
            num_children,
            pzxid: self.pzxid,
        }
    }
}

/// `Watcher.Event.EventType` values the server sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
pub enum EventType {
    None = -1,
    NodeCreated = 1,
    NodeDeleted = 2,
    NodeDataChanged = 3,
    NodeChildrenChanged = 4,
    DataWatchRemoved = 5,
    ChildWatchRemoved = 6,
    PersistentWatchRemoved = 7,
}

impl TryFrom<i32> for EventType {
    type Error = i32;
    fn try_from(v: i32) -> Result<Self, i32> {
        Ok(match v {
            -1 => EventType::None,
            1 => EventType::NodeCreated,
            2 => EventType::NodeDeleted,
            3 => EventType::NodeDataChanged,
            4 => EventType::NodeChildrenChanged,
            5 => EventType::DataWatchRemoved,
            6 => EventType::ChildWatchRemoved,
            7 => EventType::PersistentWatchRemoved,
            other => return Err(other),
        })
    }
}

/// `Watcher.Event.KeeperState`; the server only ever sends `SyncConnected`.
pub const KEEPER_STATE_SYNC_CONNECTED: i32 = 3;

/// `WatcherEvent`: the body of a notification (xid -1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatcherEvent {
    pub event_type: EventType,
    pub state: i32,
    pub path: String,
}

/// `ClientInfo` (whoAmI).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClientInfo {
    pub auth_scheme: String,
    pub user: String,
}

/// `CreateMode` flags as sent in create requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateMode {
    Persistent,
    Ephemeral,
    PersistentSequential,
    EphemeralSequential,
    Container,
    PersistentWithTtl,
    PersistentSequentialWithTtl,
}

impl CreateMode {
    pub fn from_flag(flag: i32) -> Option<CreateMode> {
        Some(match flag {
            0 => CreateMode::Persistent,
            1 => CreateMode::Ephemeral,
            2 => CreateMode::PersistentSequential,
            3 => CreateMode::EphemeralSequential,
            4 => CreateMode::Container,
            5 => CreateMode::PersistentWithTtl,
            6 => CreateMode::PersistentSequentialWithTtl,
            _ => return None,
        })
    }
    pub fn flag(self) -> i32 {
        self as i32
    }
    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }
    pub fn is_container(self) -> bool {
        self == CreateMode::Container
    }
    pub fn is_ttl(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cversion_quirk_of_a_fresh_root() {
        let root = StatPersisted::default();
        assert_eq!(root.to_stat(0, 1).cversion, -1);
    }

    #[test]
    fn container_and_ttl_owners_read_as_zero() {
        let mut s = StatPersisted {
            ephemeral_owner: CONTAINER_OWNER,
            ..Default::default()
        };
        assert_eq!(s.to_stat(0, 0).ephemeral_owner, 0);
        s.ephemeral_owner = NodeKind::Ttl(5000).owner();
        assert_eq!(s.to_stat(0, 0).ephemeral_owner, 0);
        assert_eq!(
            NodeKind::from_owner(s.ephemeral_owner, true),
            NodeKind::Ttl(5000)
        );
    }
}
