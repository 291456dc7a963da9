//! Watch registrations and triggering (`WatchManager`, `DataTree`'s two watch tables,
//! and the persistent modes of 3.6+), with the semantics of ZooKeeper 3.8.0.
//!
//! Two tables as in `DataTree`: data watches (getData, exists whether or not the node
//! exists) and child watches (getChildren). `addWatch` registrations, persistent and
//! persistent-recursive, go into both. Each (watcher, path) has one mode per table, and
//! a later registration replaces it (3.8's `WatcherModeManager`: a one-shot getData
//! after a persistent watch on the same path makes the data side one-shot).
//!
//! Watchers are connections, named by the caller.
//!
//! The quirks kept here (checkWatches answering for any connection's watch, removal by
//! table whatever the mode, the mode replacement above, watchers listed with no paths
//! by `wchc` after their one-shot watches fired) were checked against a 3.8.0 server.

mod table;

use std::collections::{BTreeMap, BTreeSet};

use crate::proto::EventType;
use table::{Mode, Table};

/// A watching connection, as the caller numbers them.
pub type WatcherId = u64;

/// What registered a watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchKind {
    /// getData(watch=true).
    Data,
    /// exists(watch=true); kept in the data table like `Data`, node present or not.
    Exist,
    /// getChildren / getChildren2(watch=true).
    Child,
    /// addWatch mode 0.
    Persistent,
    /// addWatch mode 1.
    PersistentRecursive,
}

/// `Watcher.WatcherType` as sent in checkWatches / removeWatches. 3.8 knows 1–3 only
/// (it answers MarshallingError for anything else); 4 and 5 are 3.9's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatcherType {
    Children = 1,
    Data = 2,
    Any = 3,
    Persistent = 4,
    PersistentRecursive = 5,
}

impl TryFrom<i32> for WatcherType {
    type Error = i32;
    fn try_from(v: i32) -> Result<Self, i32> {
        Ok(match v {
            1 => WatcherType::Children,
            2 => WatcherType::Data,
            3 => WatcherType::Any,
            4 => WatcherType::Persistent,
            5 => WatcherType::PersistentRecursive,
            other => return Err(other),
        })
    }
}

/// Counts for `wchs` ("<connections> connections watching <paths> paths",
/// "Total watches:<total>"), over the data table as in Java.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchSummary {
    pub connections: usize,
    pub paths: usize,
    pub total: usize,
}

#[derive(Debug, Default, Clone)]
pub struct WatchManager {
    data: Table,
    child: Table,
}

impl WatchManager {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, path: &str, w: WatcherId, kind: WatchKind) {
        match kind {
            WatchKind::Data | WatchKind::Exist => self.data.add(path, w, Mode::Standard),
            WatchKind::Child => self.child.add(path, w, Mode::Standard),
            WatchKind::Persistent => self.add_both(path, w, Mode::Persistent),
            WatchKind::PersistentRecursive => self.add_both(path, w, Mode::Recursive),
        }
    }

    fn add_both(&mut self, path: &str, w: WatcherId, mode: Mode) {
        self.data.add(path, w, mode);
        self.child.add(path, w, mode);
    }

    /// No watch registered in either table: no event can notify anyone.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty() && self.child.is_empty()
    }

    /// Whether any event on `path` could notify a watcher (cheap; a true may still
    /// notify no one). Lets the caller skip work only a notification needs.
    pub fn may_fire(&self, path: &str) -> bool {
        self.data.may_fire(path) || self.child.may_fire(path)
    }

    /// Fires `event` on `path` and returns who to notify, ascending, each once.
    ///
    /// The tables consulted mirror `DataTree`: NodeCreated and NodeDataChanged the data
    /// table; NodeChildrenChanged the child table (call it with the parent's path);
    /// NodeDeleted both, a watcher found in both notified once. Recursive watches on
    /// `path` or an ancestor match every event but NodeChildrenChanged; other watches
    /// match `path` only. One-shot watches that match are removed.
    pub fn trigger(&mut self, path: &str, event: EventType) -> Vec<WatcherId> {
        self.trigger_counted(path, event).0
    }

    /// [`trigger`](Self::trigger), with how many watchers each table fired: Java calls
    /// `triggerWatch` once per table (NodeDeleted: data, then child), and each call
    /// counts the distinct watchers it matched, the ones the other table already
    /// notified included (`node_*_watch_count`).
    pub fn trigger_counted(
        &mut self,
        path: &str,
        event: EventType,
    ) -> (Vec<WatcherId>, [usize; 2]) {
        let mut out = BTreeSet::new();
        let mut fired = [0, 0];
        match event {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                self.data.trigger(path, event, &mut out);
                fired[0] = out.len();
            }
            EventType::NodeChildrenChanged => {
                self.child.trigger(path, event, &mut out);
                fired[0] = out.len();
            }
            EventType::NodeDeleted => {
                self.data.trigger(path, event, &mut out);
                fired[0] = out.len();
                let mut child = BTreeSet::new();
                self.child.trigger(path, event, &mut child);
                fired[1] = child.len();
                out.append(&mut child);
            }
            _ => {}
        }
        (out.into_iter().collect(), fired)
    }

    /// Whether 3.8.0's checkWatches on `path` throws (answering MarshallingError).
    /// `containsWatcher` walks the path with `PathParentIterator`, whose `next()` computes
    /// the parent eagerly with `substring(0, lastIndexOf('/'))`: a path without any '/'
    /// throws at once; while the table holds a recursive watch the walk goes on up, so a
    /// path not starting with '/' throws too unless its leaf settles the answer. Any asks
    /// the child table, then the data table, whatever the first answered.
    pub fn contains_throws(&self, path: &str, watcher_type: i32) -> bool {
        let throws = |t: &Table| {
            !path.is_empty()
                && (!path.contains('/')
                    || (t.walks_up() && !path.starts_with('/') && !t.has_path(path)))
        };
        match WatcherType::try_from(watcher_type) {
            Ok(WatcherType::Children) => throws(&self.child),
            Ok(WatcherType::Data) => throws(&self.data),
            Ok(WatcherType::Any) => throws(&self.child) || throws(&self.data),
            _ => false,
        }
    }

    /// checkWatches (`DataTree.containsWatcher`). For types 1–3 this is 3.8.0's answer,
    /// quirk included: true when *any* connection watches `path` in the table(s) asked
    /// about. Types 4 and 5 (3.9) ask whether `w` has that persistent mode on `path`.
    /// Unknown types: false (3.8 answers MarshallingError; the caller decides).
    pub fn contains(&self, path: &str, w: WatcherId, watcher_type: i32) -> bool {
        match WatcherType::try_from(watcher_type) {
            Ok(WatcherType::Children) => self.child.has_path(path),
            Ok(WatcherType::Data) => self.data.has_path(path),
            Ok(WatcherType::Any) => self.child.has_path(path) || self.data.has_path(path),
            Ok(WatcherType::Persistent) => self.data.mode(path, w) == Some(Mode::Persistent),
            Ok(WatcherType::PersistentRecursive) => {
                self.data.mode(path, w) == Some(Mode::Recursive)
            }
            Err(_) => false,
        }
    }

    /// removeWatches (`DataTree.removeWatch`); false means NoWatcher. Children / Data
    /// remove `w`'s registration on `path` from that table whatever its mode, so a
    /// persistent watch loses that side only; Any removes from both. Persistent /
    /// PersistentRecursive (3.9) remove only a registration of that mode.
    pub fn remove(&mut self, path: &str, w: WatcherId, watcher_type: i32) -> bool {
        match WatcherType::try_from(watcher_type) {
            Ok(WatcherType::Children) => self.child.remove(path, w),
            Ok(WatcherType::Data) => self.data.remove(path, w),
            Ok(WatcherType::Any) => {
                let c = self.child.remove(path, w);
                let d = self.data.remove(path, w);
                c || d
            }
            Ok(WatcherType::Persistent) => self.remove_mode(path, w, Mode::Persistent),
            Ok(WatcherType::PersistentRecursive) => self.remove_mode(path, w, Mode::Recursive),
            Err(_) => false,
        }
    }

    fn remove_mode(&mut self, path: &str, w: WatcherId, mode: Mode) -> bool {
        let mut removed = false;
        for t in [&mut self.child, &mut self.data] {
            if t.mode(path, w) == Some(mode) {
                removed |= t.remove(path, w);
            }
        }
        removed
    }

    /// The connection closed (`DataTree.removeCnxn`).
    pub fn remove_watcher(&mut self, w: WatcherId) {
        self.data.remove_watcher(w);
        self.child.remove_watcher(w);
    }

    /// `DataTree.getWatchCount`: data plus child registrations (mntr `watch_count`).
    pub fn count(&self) -> usize {
        self.data.size() + self.child.size()
    }

    /// `wchc`: data-table paths per watcher. As in Java, a watcher whose one-shot
    /// watches all fired still appears, with no paths, until it closes.
    pub fn paths_by_watcher(&self) -> BTreeMap<WatcherId, Vec<String>> {
        self.data.paths_by_watcher()
    }

    /// `wchp`: data-table watchers per path.
    pub fn watchers_by_path(&self) -> BTreeMap<String, Vec<WatcherId>> {
        self.data.watchers_by_path()
    }

    /// `wchs`.
    pub fn summary(&self) -> WatchSummary {
        WatchSummary {
            connections: self.data.watcher_count(),
            paths: self.data.path_count(),
            total: self.data.total_by_watcher(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventType::*;

    const A: WatcherId = 1;
    const B: WatcherId = 2;
    const CHILDREN: i32 = 1;
    const DATA: i32 = 2;
    const ANY: i32 = 3;
    const PERSISTENT: i32 = 4;
    const RECURSIVE: i32 = 5;

    fn wm() -> WatchManager {
        WatchManager::new()
    }

    #[test]
    fn each_table_counts_the_watchers_it_fired() {
        let mut m = wm();
        m.add("/a", A, WatchKind::Data);
        m.add("/a", A, WatchKind::Child);
        m.add("/a", B, WatchKind::Child);
        assert_eq!(m.trigger_counted("/a", NodeDeleted), (vec![A, B], [1, 2]));
        assert_eq!(m.trigger_counted("/a", NodeDeleted), (vec![], [0, 0]));
        m.add("/", A, WatchKind::PersistentRecursive);
        m.add("/a", B, WatchKind::Data);
        assert_eq!(
            m.trigger_counted("/a", NodeDataChanged),
            (vec![A, B], [2, 0])
        );
        assert_eq!(
            m.trigger_counted("/", NodeChildrenChanged),
            (vec![], [0, 0])
        );
    }

    #[test]
    fn may_fire_covers_every_watch_a_trigger_could_fire() {
        let mut m = wm();
        assert!(!m.may_fire("/a"));
        m.add("/a", A, WatchKind::Child);
        assert!(m.may_fire("/a"));
        assert!(!m.may_fire("/a/b"), "a plain watch never fires for a child");
        m.add("/a", B, WatchKind::Data);
        assert_eq!(m.trigger("/a", NodeDeleted), vec![A, B]);
        assert!(!m.may_fire("/a"));
        m.add("/x", A, WatchKind::PersistentRecursive);
        assert!(m.may_fire("/x/y/z"));
        assert!(!m.may_fire("/y"));
    }

    #[test]
    fn data_watch_fires_once_on_change_and_delete_but_not_children() {
        let mut m = wm();
        m.add("/a", A, WatchKind::Data);
        assert!(m.trigger("/a", NodeChildrenChanged).is_empty());
        assert_eq!(m.trigger("/a", NodeDataChanged), vec![A]);
        assert!(m.trigger("/a", NodeDataChanged).is_empty());
        m.add("/a", A, WatchKind::Data);
        assert_eq!(m.trigger("/a", NodeDeleted), vec![A]);
        assert_eq!(m.count(), 0);
    }

    #[test]
    fn exist_watch_on_missing_node_fires_on_create() {
        let mut m = wm();
        m.add("/new", A, WatchKind::Exist);
        assert_eq!(m.watchers_by_path()["/new"], vec![A]);
        assert_eq!(m.trigger("/new", NodeCreated), vec![A]);
        assert!(m.trigger("/new", NodeDataChanged).is_empty());
    }

    #[test]
    fn child_watch_fires_on_children_changed_and_delete_only() {
        let mut m = wm();
        m.add("/p", A, WatchKind::Child);
        assert!(m.trigger("/p", NodeDataChanged).is_empty());
        assert!(m.trigger("/p", NodeCreated).is_empty());
        assert_eq!(m.trigger("/p", NodeChildrenChanged), vec![A]);
        assert!(m.trigger("/p", NodeChildrenChanged).is_empty());
        m.add("/p", A, WatchKind::Child);
        assert_eq!(m.trigger("/p", NodeDeleted), vec![A]);
        assert_eq!(m.count(), 0);
    }

    #[test]
    fn delete_notifies_a_data_and_child_watcher_once_and_clears_both() {
        let mut m = wm();
        m.add("/p", A, WatchKind::Data);
        m.add("/p", A, WatchKind::Child);
        m.add("/p", B, WatchKind::Child);
        assert_eq!(m.count(), 3);
        assert_eq!(m.trigger("/p", NodeDeleted), vec![A, B]);
        assert_eq!(m.count(), 0);
    }

    #[test]
    fn watchers_come_back_sorted() {
        let mut m = wm();
        for w in [9, 3, 7, 1] {
            m.add("/x", w, WatchKind::Data);
        }
        assert_eq!(m.trigger("/x", NodeDataChanged), vec![1, 3, 7, 9]);
    }

    #[test]
    fn persistent_watch_sees_every_event_on_its_node_and_stays() {
        let mut m = wm();
        m.add("/p", A, WatchKind::Persistent);
        assert_eq!(m.count(), 2); // one per table
        for ev in [
            NodeCreated,
            NodeDataChanged,
            NodeChildrenChanged,
            NodeDeleted,
            NodeCreated,
        ] {
            assert_eq!(m.trigger("/p", ev), vec![A], "{ev:?}");
        }
        assert!(m.trigger("/p/c", NodeCreated).is_empty());
        assert!(m.trigger("/", NodeChildrenChanged).is_empty());
        assert_eq!(m.count(), 2);
    }

    #[test]
    fn recursive_watch_sees_descendants_but_never_children_changed() {
        let mut m = wm();
        m.add("/r", A, WatchKind::PersistentRecursive);
        for path in ["/r", "/r/c", "/r/c/d"] {
            for ev in [NodeCreated, NodeDataChanged, NodeDeleted] {
                assert_eq!(m.trigger(path, ev), vec![A], "{path} {ev:?}");
            }
            assert!(m.trigger(path, NodeChildrenChanged).is_empty(), "{path}");
        }
        assert!(m.trigger("/rr", NodeCreated).is_empty());
        assert!(m.trigger("/", NodeDataChanged).is_empty());
        assert_eq!(m.count(), 2);
    }

    #[test]
    fn recursive_watch_on_root_sees_everything() {
        let mut m = wm();
        m.add("/", A, WatchKind::PersistentRecursive);
        assert_eq!(m.trigger("/a/b/c", NodeDataChanged), vec![A]);
        assert_eq!(m.trigger("/", NodeDataChanged), vec![A]);
    }

    #[test]
    fn plain_watches_on_ancestors_do_not_fire_for_descendants() {
        let mut m = wm();
        m.add("/", B, WatchKind::PersistentRecursive); // forces the ancestor walk
        m.add("/a", A, WatchKind::Data);
        m.add("/a", A, WatchKind::Persistent);
        m.add("/a/b", A, WatchKind::Child);
        assert_eq!(m.trigger("/a/b/c", NodeCreated), vec![B]);
        assert_eq!(m.trigger("/a/b/c", NodeDeleted), vec![B]);
        assert_eq!(m.trigger("/a/b", NodeChildrenChanged), vec![A]);
    }

    #[test]
    fn overlapping_registrations_give_one_event_and_keep_the_persistent_ones() {
        let mut m = wm();
        m.add("/", A, WatchKind::PersistentRecursive);
        m.add("/a", A, WatchKind::PersistentRecursive);
        m.add("/a/b", A, WatchKind::Data);
        m.add("/a/b", A, WatchKind::Child);
        assert_eq!(m.trigger("/a/b", NodeDeleted), vec![A]);
        // The one-shot registrations on /a/b are gone, the recursive ones remain.
        assert_eq!(m.count(), 4);
        assert_eq!(m.trigger("/a/b", NodeDataChanged), vec![A]);
    }

    #[test]
    fn a_later_one_shot_registration_replaces_the_persistent_mode_on_its_table() {
        let mut m = wm();
        m.add("/p", A, WatchKind::Persistent);
        m.add("/p", A, WatchKind::Data);
        assert_eq!(m.trigger("/p", NodeDataChanged), vec![A]);
        assert!(m.trigger("/p", NodeDataChanged).is_empty());
        // The child side is still persistent.
        assert_eq!(m.trigger("/p", NodeChildrenChanged), vec![A]);
        assert_eq!(m.trigger("/p", NodeChildrenChanged), vec![A]);
    }

    #[test]
    fn remove_children_and_data_touch_their_own_table() {
        let mut m = wm();
        m.add("/p", A, WatchKind::Data);
        m.add("/p", A, WatchKind::Child);
        assert!(m.remove("/p", A, CHILDREN));
        assert!(!m.remove("/p", A, CHILDREN));
        assert!(m.trigger("/p", NodeChildrenChanged).is_empty());
        assert!(m.remove("/p", A, DATA));
        assert!(!m.remove("/p", A, DATA));
        assert_eq!(m.count(), 0);
    }

    #[test]
    fn remove_any_clears_both_tables() {
        let mut m = wm();
        m.add("/p", A, WatchKind::Child);
        assert!(m.remove("/p", A, ANY));
        assert!(!m.remove("/p", A, ANY));
        m.add("/p", A, WatchKind::Persistent);
        assert!(m.remove("/p", A, ANY));
        assert_eq!(m.count(), 0);
    }

    #[test]
    fn remove_data_strips_only_the_data_side_of_a_persistent_watch() {
        let mut m = wm();
        m.add("/p", A, WatchKind::Persistent);
        assert!(m.remove("/p", A, DATA));
        assert!(m.trigger("/p", NodeDataChanged).is_empty());
        assert_eq!(m.trigger("/p", NodeChildrenChanged), vec![A]);
        assert_eq!(m.trigger("/p", NodeDeleted), vec![A]);
    }

    #[test]
    fn removing_the_child_side_of_a_recursive_watch_keeps_it_firing() {
        let mut m = wm();
        m.add("/p", A, WatchKind::PersistentRecursive);
        assert!(m.contains("/p", A, CHILDREN));
        assert!(m.remove("/p", A, CHILDREN));
        assert_eq!(m.trigger("/p/c/d", NodeCreated), vec![A]);
        assert!(!m.contains("/p/c", A, DATA));
    }

    #[test]
    fn remove_persistent_types_match_the_mode_only() {
        let mut m = wm();
        m.add("/p", A, WatchKind::Data);
        assert!(!m.remove("/p", A, PERSISTENT));
        assert!(!m.remove("/p", A, RECURSIVE));
        m.add("/q", A, WatchKind::Persistent);
        assert!(!m.remove("/q", A, RECURSIVE));
        assert!(m.remove("/q", A, PERSISTENT));
        m.add("/r", A, WatchKind::PersistentRecursive);
        assert!(!m.remove("/r", A, PERSISTENT));
        assert!(m.remove("/r", A, RECURSIVE));
        assert!(m.trigger("/r/x", NodeCreated).is_empty());
        assert_eq!(m.count(), 1);
    }

    #[test]
    fn remove_with_an_unknown_type_removes_nothing() {
        let mut m = wm();
        m.add("/p", A, WatchKind::Data);
        assert!(!m.remove("/p", A, 0));
        assert!(!m.remove("/p", A, 6));
        assert!(!m.contains("/p", A, 6));
        assert_eq!(m.count(), 1);
    }

    #[test]
    fn contains_for_each_type() {
        let mut m = wm();
        m.add("/d", A, WatchKind::Data);
        m.add("/c", A, WatchKind::Child);
        m.add("/p", A, WatchKind::Persistent);
        m.add("/r", A, WatchKind::PersistentRecursive);
        assert!(m.contains("/d", A, DATA) && !m.contains("/d", A, CHILDREN));
        assert!(m.contains("/c", A, CHILDREN) && !m.contains("/c", A, DATA));
        assert!(m.contains("/d", A, ANY) && m.contains("/c", A, ANY));
        assert!(!m.contains("/none", A, ANY));
        assert!(m.contains("/p", A, PERSISTENT) && !m.contains("/p", A, RECURSIVE));
        assert!(m.contains("/r", A, RECURSIVE) && !m.contains("/r", A, PERSISTENT));
        assert!(!m.contains("/d", A, PERSISTENT));
        // A recursive watch does not make its descendants "contain" a watch.
        assert!(!m.contains("/r/x", A, DATA));
    }

    #[test]
    fn contains_answers_for_any_watcher_on_the_path_as_in_3_8_0() {
        let mut m = wm();
        m.add("/d", B, WatchKind::Data);
        assert!(m.contains("/d", A, DATA));
        assert!(m.contains("/d", A, ANY));
        assert!(!m.contains("/d", A, CHILDREN));
        // removal is per watcher, though
        assert!(!m.remove("/d", A, DATA));
    }

    #[test]
    fn check_of_a_path_without_slash_throws_and_relative_ones_once_recursive_watches_exist() {
        // Seen against 3.8.0: checkWatches("t") answers MarshallingError, always.
        let mut m = wm();
        for ty in [CHILDREN, DATA, ANY] {
            assert!(
                m.contains_throws("t", ty)
                    && !m.contains_throws("t/a", ty)
                    && !m.contains_throws("", ty)
            );
        }
        m.add("/r", B, WatchKind::PersistentRecursive);
        assert!(
            m.contains_throws("t/a", DATA)
                && m.contains_throws("t/a", CHILDREN)
                && !m.contains_throws("/t", DATA)
        );
        // A Data removal leaves the recursive watch's child side, which still walks up.
        assert!(m.remove("/r", B, DATA));
        assert!(!m.contains_throws("t/a", DATA) && m.contains_throws("t/a", ANY));
    }

    #[test]
    fn closing_a_connection_drops_all_its_watches() {
        let mut m = wm();
        m.add("/a", A, WatchKind::Data);
        m.add("/a", A, WatchKind::Child);
        m.add("/b", A, WatchKind::PersistentRecursive);
        m.add("/a", B, WatchKind::Data);
        m.remove_watcher(A);
        assert_eq!(m.count(), 1);
        assert!(m.trigger("/b/c", NodeCreated).is_empty());
        assert_eq!(m.trigger("/a", NodeDeleted), vec![B]);
    }

    #[test]
    fn stats_cover_the_data_table_and_keep_drained_watchers() {
        let mut m = wm();
        m.add("/a", A, WatchKind::Data);
        m.add("/b", A, WatchKind::Data);
        m.add("/a", B, WatchKind::Exist);
        m.add("/c", B, WatchKind::Child);
        assert_eq!(m.count(), 4);
        assert_eq!(
            m.summary(),
            WatchSummary {
                connections: 2,
                paths: 2,
                total: 3
            }
        );
        let by_path = m.watchers_by_path();
        assert_eq!(by_path.keys().collect::<Vec<_>>(), vec!["/a", "/b"]);
        assert_eq!(by_path["/a"], vec![A, B]);
        m.trigger("/a", NodeDataChanged);
        let by_w = m.paths_by_watcher();
        assert_eq!(by_w[&A], vec!["/b".to_string()]);
        assert!(by_w[&B].is_empty());
        assert_eq!(
            m.summary(),
            WatchSummary {
                connections: 2,
                paths: 1,
                total: 1
            }
        );
        m.remove_watcher(B);
        assert_eq!(m.summary().connections, 1);
    }
}
