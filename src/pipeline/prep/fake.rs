//! An in-memory committed tree for the tests of preparation.

use std::collections::{BTreeMap, BTreeSet};

use super::RequestCtx;
use crate::pipeline::path::{parent_of, tree_key};
use crate::pipeline::view::{NodeRecord, TreeView};
use crate::proto::{Acl, Id, StatPersisted};

pub const SESSION: i64 = 0x1000_0000_0000_0042;

pub fn ctx<'a>(zxid: i64, auth: &'a [Id]) -> RequestCtx<'a> {
    RequestCtx {
        session: SESSION,
        cxid: 7,
        zxid,
        time: 1_000 + zxid,
        auth,
    }
}

#[derive(Clone, Debug, Default)]
pub struct FakeTree {
    nodes: BTreeMap<String, (NodeRecord, Option<Vec<u8>>)>,
    quotas: BTreeSet<String>,
}

impl FakeTree {
    /// `/`, `/zookeeper`, `/zookeeper/quota`, `/zookeeper/config` as on a fresh server.
    pub fn fresh() -> FakeTree {
        let mut t = FakeTree::default();
        let root = NodeRecord {
            stat: Default::default(),
            acl: Acl::open_unsafe().into(),
            num_children: 0,
            data_len: 0,
        };
        t.nodes.insert("/".into(), (root, None));
        t.add("/zookeeper", Acl::open_unsafe(), 0);
        t.add("/zookeeper/quota", Acl::open_unsafe(), 0);
        t.add("/zookeeper/config", Acl::read_unsafe(), 0);
        t
    }

    /// Adds a committed node the way the tree would: the parent's stored cversion and
    /// child count go up.
    pub fn add(&mut self, path: &str, acl: Vec<Acl>, owner: i64) -> &mut FakeTree {
        self.add_data(path, acl, owner, None)
    }

    pub fn add_data(
        &mut self,
        path: &str,
        acl: Vec<Acl>,
        owner: i64,
        data: Option<&[u8]>,
    ) -> &mut FakeTree {
        let parent = tree_key(parent_of(path).expect("absolute path")).to_string();
        if let Some((p, _)) = self.nodes.get_mut(&parent) {
            p.num_children += 1;
            p.stat.cversion += 1;
        }
        let stat = StatPersisted {
            ephemeral_owner: owner,
            czxid: 1,
            mzxid: 1,
            pzxid: 1,
            ..Default::default()
        };
        let data_len = data.map_or(0, |d| d.len() as i64);
        let rec = NodeRecord {
            stat,
            acl: acl.into(),
            num_children: 0,
            data_len,
        };
        self.nodes
            .insert(path.to_string(), (rec, data.map(|d| d.to_vec())));
        self
    }

    pub fn edit(&mut self, path: &str, f: impl FnOnce(&mut NodeRecord)) -> &mut FakeTree {
        if let Some((rec, _)) = self.nodes.get_mut(path) {
            f(rec);
        }
        self
    }

    /// A quota on `prefix` with the given limit and usage texts.
    pub fn quota(&mut self, prefix: &str, limits: &str, stats: &str) -> &mut FakeTree {
        let q = format!("/zookeeper/quota{prefix}");
        let open = Acl::open_unsafe();
        self.add(&q, open.clone(), 0);
        self.add_data(
            &format!("{q}/zookeeper_limits"),
            open.clone(),
            0,
            Some(limits.as_bytes()),
        );
        self.add_data(
            &format!("{q}/zookeeper_stats"),
            open,
            0,
            Some(stats.as_bytes()),
        );
        self.quotas.insert(prefix.to_string());
        self
    }
}

impl TreeView for FakeTree {
    fn tree_digest(&self) -> i64 {
        0
    }
    fn node(&self, path: &str) -> Option<NodeRecord> {
        self.nodes.get(path).map(|(r, _)| r.clone())
    }
    fn data(&self, path: &str) -> Option<Vec<u8>> {
        self.nodes.get(path).and_then(|(_, d)| d.clone())
    }
    fn ephemerals(&self, session: i64) -> Vec<String> {
        let owned = self
            .nodes
            .iter()
            .filter(|(_, (r, _))| r.stat.ephemeral_owner == session);
        owned.map(|(p, _)| p.clone()).collect()
    }
    fn max_prefix_with_quota(&self, path: &str) -> Option<String> {
        let covers = |q: &&String| path == q.as_str() || path.starts_with(&format!("{q}/"));
        self.quotas
            .iter()
            .filter(covers)
            .max_by_key(|q| q.len())
            .cloned()
    }
}

use super::{Prep, PrepConfig};
use crate::proto::records::{CreateRequest, DeleteRequest, SetDataRequest};
use crate::proto::{ErrorCode, Request, Txn};

pub fn prep() -> Prep {
    Prep::new(PrepConfig::default())
}

pub fn create_req(path: &str, flags: i32) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: Some(b"x".to_vec()),
        acl: Acl::open_unsafe(),
        flags,
    }
}

pub fn create(path: &str, flags: i32) -> Request {
    Request::Create(create_req(path, flags))
}

pub fn delete(path: &str, version: i32) -> Request {
    Request::Delete(DeleteRequest {
        path: path.into(),
        version,
    })
}

pub fn set_data(path: &str, data: &[u8], version: i32) -> Request {
    Request::SetData(SetDataRequest {
        path: path.into(),
        data: Some(data.to_vec()),
        version,
    })
}

/// The path a create txn names, for short assertions.
pub fn created_path(txn: &Txn) -> Option<&str> {
    match txn {
        Txn::Create(t) | Txn::Create2(t) => Some(&t.path),
        Txn::CreateContainer(t) => Some(&t.path),
        Txn::CreateTtl(t) => Some(&t.path),
        _ => None,
    }
}

pub fn err(code: ErrorCode) -> Txn {
    Txn::Error(code)
}

/// A tree with `/a` (open ACL) and nothing else of the user's.
pub fn tree_with_a() -> FakeTree {
    let mut t = FakeTree::fresh();
    t.add("/a", Acl::open_unsafe(), 0);
    t
}

/// ACL entries that grant everything but `missing` to anyone.
pub fn all_but(missing: i32) -> Vec<Acl> {
    vec![Acl::new(
        crate::proto::perms::ALL & !missing,
        "world",
        "anyone",
    )]
}
