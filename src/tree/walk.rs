//! Walks over the tree in pre-order, children in name order: what snapshots write, and
//! the order a fuzzy snapshot takes in slices while the tree keeps changing (a parent
//! always comes before its children, and a walk resumes after any path, present or
//! not, so slices neither repeat nor skip a node that stayed in place).

use super::node::Node;
use super::ops::node_size;
use super::store::{Id, ROOT};
use super::DataTree;

/// One level of a resumable walk: a node and the position of its next child to visit.
struct Frame {
    id: Id,
    next: usize,
    /// Length of the node's path in the walk's path buffer.
    path_len: usize,
}

impl DataTree {
    /// Calls `f` with every node reachable from the root, parent before children and
    /// children in name order, as a snapshot writes them: the root comes first with
    /// path `""`.
    pub fn for_each_preorder<'a>(&'a self, mut f: impl FnMut(&str, Node<'a>)) {
        let mut path = String::new();
        let mut stack: Vec<(Id, usize)> = vec![(ROOT, 0)];
        while let Some((id, parent_len)) = stack.pop() {
            path.truncate(parent_len);
            if id != ROOT {
                path.push('/');
                path.push_str(self.nodes.name_str(id));
            }
            let Some(node) = self.nodes.view(id) else {
                continue;
            };
            f(&path, node);
            let len = path.len();
            stack.extend(self.nodes.child_ids(id).rev().map(|c| (c, len)));
        }
    }

    /// Every node in the order of [`DataTree::for_each_preorder`], with its path.
    pub fn nodes_preorder(&self) -> Vec<(String, Node<'_>)> {
        let mut out = Vec::with_capacity(self.nodes.len());
        self.for_each_preorder(|p, n| out.push((p.to_string(), n)));
        out
    }

    /// Up to `max` nodes that come after the path `after` in pre-order (from the root,
    /// `""`, for `None`), with their paths. `after` need not exist any more: the walk
    /// resumes where it would have been. Used to take a fuzzy snapshot in slices.
    pub fn nodes_after(&self, after: Option<&str>, max: usize) -> Vec<(String, Node<'_>)> {
        let mut out = Vec::new();
        let mut path = String::new();
        let Some(root) = self.nodes.view(ROOT) else {
            return out;
        };
        let mut frames = vec![Frame {
            id: ROOT,
            next: 0,
            path_len: 0,
        }];
        match after {
            None => out.push((String::new(), root)),
            Some(after) => self.resume_at(after, &mut frames, &mut path),
        }
        while out.len() < max {
            let Some(top) = frames.last_mut() else { break };
            let Some(child) = self.nodes.children(top.id).and_then(|c| c.get(top.next)) else {
                frames.pop();
                continue;
            };
            top.next += 1;
            path.truncate(top.path_len);
            path.push('/');
            path.push_str(self.nodes.name_str(child));
            if let Some(node) = self.nodes.view(child) {
                out.push((path.clone(), node));
            }
            frames.push(Frame {
                id: child,
                next: 0,
                path_len: path.len(),
            });
        }
        out
    }

    /// Sets up `frames` so the walk continues right after `after`.
    fn resume_at(&self, after: &str, frames: &mut Vec<Frame>, path: &mut String) {
        let rest = after.strip_prefix('/').unwrap_or(after);
        if rest.is_empty() {
            return;
        }
        for comp in rest.split('/') {
            let Some(top) = frames.last_mut() else { return };
            match self.nodes.search_child(top.id, comp.as_bytes()) {
                Ok(pos) => {
                    top.next = pos + 1;
                    let Some(child) = self.nodes.children(top.id).and_then(|c| c.get(pos)) else {
                        return;
                    };
                    path.push('/');
                    path.push_str(comp);
                    frames.push(Frame {
                        id: child,
                        next: 0,
                        path_len: path.len(),
                    });
                }
                Err(pos) => {
                    top.next = pos;
                    return;
                }
            }
        }
    }

    /// The digest summed afresh over every node; equals `digest()` unless a bug.
    pub fn recomputed_digest(&self) -> i64 {
        let mut hash = super::digest::AdHash::default();
        self.for_each_preorder(|p, n| hash.add(super::digest::node_digest(p, n.data(), n.stat())));
        hash.value()
    }

    /// `approximateDataSize`: path lengths plus data lengths computed afresh, the root
    /// counted under both of its Java keys (`""` and `"/"`).
    pub fn computed_data_size(&self) -> i64 {
        let mut sum = 0i64;
        self.for_each_preorder(|p, n| sum += node_size(p, n.data()));
        sum + self.get("/").map_or(0, |root| node_size("/", root.data()))
    }

    /// How many nodes are below `id`.
    pub(super) fn descendants(&self, id: Id) -> usize {
        let mut count = 0;
        let mut stack: Vec<Id> = self.nodes.child_ids(id).collect();
        while let Some(id) = stack.pop() {
            count += 1;
            stack.extend(self.nodes.child_ids(id));
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use crate::proto::{Acl, CreateTxn, Txn, TxnHeader};
    use crate::tree::DataTree;

    fn tree(paths: &[&str]) -> DataTree {
        let mut t = DataTree::new();
        for (i, p) in paths.iter().enumerate() {
            let hdr = TxnHeader {
                client_id: 1,
                cxid: 0,
                zxid: i as i64 + 1,
                time: 0,
            };
            let txn = CreateTxn {
                path: p.to_string(),
                data: None,
                acl: Acl::open_unsafe(),
                ephemeral: false,
                parent_cversion: -1,
            };
            t.apply(&hdr, &Txn::Create(txn));
        }
        t
    }

    fn paths_after(t: &DataTree, after: Option<&str>, max: usize) -> Vec<String> {
        t.nodes_after(after, max)
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    #[test]
    fn slices_follow_the_preorder_and_resume_after_a_deleted_path() {
        let t = tree(&["/a", "/a/b", "/a-b", "/z"]);
        let all: Vec<String> = t.nodes_preorder().into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            all,
            [
                "",
                "/a",
                "/a/b",
                "/a-b",
                "/z",
                "/zookeeper",
                "/zookeeper/config",
                "/zookeeper/quota"
            ]
        );
        assert_eq!(paths_after(&t, None, 3), ["", "/a", "/a/b"]);
        assert_eq!(paths_after(&t, Some("/a/b"), 2), ["/a-b", "/z"]);
        assert_eq!(paths_after(&t, Some("/a/a"), 2), ["/a/b", "/a-b"]);
        assert_eq!(paths_after(&t, Some("/b/x/y"), 2), ["/z", "/zookeeper"]);
        assert_eq!(paths_after(&t, Some(""), 1), ["/a"]);
        assert_eq!(
            paths_after(&t, Some("/zookeeper/quota"), 5),
            Vec::<String>::new()
        );
    }
}
