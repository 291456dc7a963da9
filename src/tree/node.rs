//! One znode as readers see it (`DataNode` in Apache ZooKeeper): data, ACL reference,
//! persisted stat and the number of children. The store keeps nodes packed (see
//! `store`); this is a small copy of one node's fields with its data borrowed.

use crate::proto::{NodeKind, Stat, StatPersisted};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node<'a> {
    /// `None` is a null buffer, distinct from an empty one on the wire and on disk.
    pub(super) data: Option<&'a [u8]>,
    /// Key into the ACL cache; -1 is `OPEN_ACL_UNSAFE`.
    pub(super) acl: i64,
    pub(super) stat: StatPersisted,
    pub(super) num_children: usize,
}

impl<'a> Node<'a> {
    pub fn data(&self) -> Option<&'a [u8]> {
        self.data
    }

    pub fn acl_ref(&self) -> i64 {
        self.acl
    }

    pub fn stat(&self) -> &StatPersisted {
        &self.stat
    }

    pub fn num_children(&self) -> i32 {
        i32::try_from(self.num_children).unwrap_or(i32::MAX)
    }

    /// Data length as `Stat.dataLength` reports it (0 for null).
    pub fn data_len(&self) -> i32 {
        self.data
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

    fn node(data: Option<&[u8]>, stat: StatPersisted) -> Node<'_> {
        Node {
            data,
            acl: -1,
            stat,
            num_children: 0,
        }
    }

    #[test]
    fn ttl_owner_is_a_session_when_extended_types_are_off() {
        let owner = NodeKind::Ttl(1000).owner();
        let stat = StatPersisted {
            ephemeral_owner: owner,
            ..Default::default()
        };
        let node = node(None, stat);
        assert_eq!(node.client_stat(true).ephemeral_owner, 0);
        assert_eq!(node.client_stat(false).ephemeral_owner, owner);
    }

    #[test]
    fn null_data_has_length_zero() {
        assert_eq!(
            node(None, StatPersisted::default())
                .client_stat(false)
                .data_length,
            0
        );
    }
}
