//! One znode (`DataNode` in Apache ZooKeeper): data, ACL reference, persisted stat and
//! the names of its children.

use super::children::Children;
use crate::proto::{NodeKind, Stat, StatPersisted};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// `None` is a null buffer, distinct from an empty one on the wire and on disk.
    pub(super) data: Option<Vec<u8>>,
    /// Key into the ACL cache; -1 is `OPEN_ACL_UNSAFE`.
    pub(super) acl: i64,
    pub(super) stat: StatPersisted,
    /// Child names: sorted for snapshots, listed in Java's order for getChildren.
    pub(super) children: Children,
    /// This node's contribution to the tree digest, refreshed on every change.
    pub(super) digest: u32,
}

impl Node {
    pub(super) fn new(data: Option<Vec<u8>>, acl: i64, stat: StatPersisted) -> Node {
        Node {
            data,
            acl,
            stat,
            children: Children::default(),
            digest: 0,
        }
    }

    pub fn data(&self) -> Option<&[u8]> {
        self.data.as_deref()
    }

    pub fn acl_ref(&self) -> i64 {
        self.acl
    }

    pub fn stat(&self) -> &StatPersisted {
        &self.stat
    }

    pub fn children(&self) -> &Children {
        &self.children
    }

    pub fn num_children(&self) -> i32 {
        i32::try_from(self.children.len()).unwrap_or(i32::MAX)
    }

    /// Data length as `Stat.dataLength` reports it (0 for null).
    pub fn data_len(&self) -> i32 {
        self.data
            .as_ref()
            .map_or(0, |d| i32::try_from(d.len()).unwrap_or(i32::MAX))
    }

    /// The client view (`DataNode.copyStat`). Only a true ephemeral shows its owner;
    /// what counts as TTL depends on `zookeeper.extendedTypesEnabled`
    /// (`EphemeralType.get`), which `StatPersisted::to_stat` cannot know.
    pub fn client_stat(&self, extended_types: bool) -> Stat {
        let mut stat = self.stat.to_stat(self.data_len(), self.num_children());
        stat.ephemeral_owner = match NodeKind::from_owner(self.stat.ephemeral_owner, extended_types)
        {
            NodeKind::Ephemeral(owner) => owner,
            _ => 0,
        };
        stat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_owner_is_a_session_when_extended_types_are_off() {
        let owner = NodeKind::Ttl(1000).owner();
        let stat = StatPersisted {
            ephemeral_owner: owner,
            ..Default::default()
        };
        let node = Node::new(None, -1, stat);
        assert_eq!(node.client_stat(true).ephemeral_owner, 0);
        assert_eq!(node.client_stat(false).ephemeral_owner, owner);
    }

    #[test]
    fn null_data_has_length_zero() {
        let node = Node::new(None, -1, StatPersisted::default());
        assert_eq!(node.client_stat(false).data_length, 0);
    }
}
