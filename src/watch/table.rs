//! One watch table (`WatchManager` plus its `WatcherModeManager`): path → watchers with
//! the mode each registered, and watcher → paths. The server keeps two of them, one for
//! data/exist watches and one for child watches.

use std::collections::{BTreeMap, BTreeSet};

use super::WatcherId;
use crate::proto::EventType;

/// `WatcherMode`: one per (watcher, path) and table; a later registration replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Standard,
    Persistent,
    Recursive,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Table {
    by_path: BTreeMap<String, BTreeMap<WatcherId, Mode>>,
    /// `watch2Paths`: like Java, an entry outlives its last path (one-shot watches fired
    /// or removed) until the watcher itself goes; `wchs`/`wchc` show that.
    by_watcher: BTreeMap<WatcherId, BTreeSet<String>>,
    /// Recursive registrations; when zero, triggers skip the walk up the ancestors.
    recursive: usize,
}

/// `PathParentIterator`: the path itself, then each ancestor up to `/`.
fn ancestors_and_self(path: &str) -> impl Iterator<Item = &str> {
    let mut next = if path.is_empty() { None } else { Some(path) };
    std::iter::from_fn(move || {
        let cur = next?;
        next = match cur.rfind('/') {
            _ if cur == "/" => None,
            Some(0) => Some("/"),
            Some(i) => cur.get(..i),
            None => None,
        };
        Some(cur)
    })
}

impl Table {
    pub(crate) fn add(&mut self, path: &str, w: WatcherId, mode: Mode) {
        let old = self
            .by_path
            .entry(path.to_string())
            .or_default()
            .insert(w, mode);
        self.by_watcher
            .entry(w)
            .or_default()
            .insert(path.to_string());
        self.adjust_recursive(old, Some(mode));
    }

    fn adjust_recursive(&mut self, old: Option<Mode>, new: Option<Mode>) {
        let was = old == Some(Mode::Recursive);
        let is = new == Some(Mode::Recursive);
        if was && !is {
            self.recursive = self.recursive.saturating_sub(1);
        } else if is && !was {
            self.recursive += 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    /// Whether a trigger on `path` could notify anyone: a watch on the path, or a
    /// recursive one above it (may answer true when the event would not match).
    pub(crate) fn may_fire(&self, path: &str) -> bool {
        if self.recursive == 0 {
            return self.by_path.contains_key(path);
        }
        ancestors_and_self(path).any(|p| self.by_path.contains_key(p))
    }

    /// `triggerWatch`: adds the watchers to notify to `out`, dropping fired one-shots.
    pub(crate) fn trigger(&mut self, path: &str, event: EventType, out: &mut BTreeSet<WatcherId>) {
        if self.by_path.is_empty() {
            return;
        }
        self.trigger_at(path, false, event, out);
        if self.recursive > 0 {
            for p in ancestors_and_self(path).skip(1) {
                self.trigger_at(p, true, event, out);
            }
        }
    }

    fn trigger_at(
        &mut self,
        p: &str,
        at_parent: bool,
        event: EventType,
        out: &mut BTreeSet<WatcherId>,
    ) {
        let Some(ws) = self.by_path.get_mut(p) else {
            return;
        };
        let mut fired_once = Vec::new();
        for (&w, &mode) in ws.iter() {
            match mode {
                Mode::Recursive if event != EventType::NodeChildrenChanged => {
                    out.insert(w);
                }
                Mode::Recursive => {}
                _ if at_parent => {}
                Mode::Standard => {
                    out.insert(w);
                    fired_once.push(w);
                }
                Mode::Persistent => {
                    out.insert(w);
                }
            }
        }
        for w in &fired_once {
            ws.remove(w);
        }
        if ws.is_empty() {
            self.by_path.remove(p);
        }
        for w in fired_once {
            if let Some(paths) = self.by_watcher.get_mut(&w) {
                paths.remove(p);
            }
        }
    }

    pub(crate) fn mode(&self, path: &str, w: WatcherId) -> Option<Mode> {
        self.by_path.get(path)?.get(&w).copied()
    }

    /// 3.8.0's `WatchManager.containsWatcher(path, watcher)`: its leaf test only asks
    /// whether the path has any watcher at all, whichever connection registered it.
    pub(crate) fn has_path(&self, path: &str) -> bool {
        self.by_path.contains_key(path)
    }

    /// Whether lookups walk up the parents (`getPathParentIterator`): only while the
    /// table holds a recursive watch.
    pub(crate) fn walks_up(&self) -> bool {
        self.recursive > 0
    }

    /// `removeWatcher(path, watcher)`: drops the registration whatever its mode.
    pub(crate) fn remove(&mut self, path: &str, w: WatcherId) -> bool {
        let Some(paths) = self.by_watcher.get_mut(&w) else {
            return false;
        };
        if !paths.remove(path) {
            return false;
        }
        let Some(ws) = self.by_path.get_mut(path) else {
            return false;
        };
        let old = ws.remove(&w);
        if ws.is_empty() {
            self.by_path.remove(path);
        }
        self.adjust_recursive(old, None);
        old.is_some()
    }

    /// `removeWatcher(watcher)`: the connection is gone.
    pub(crate) fn remove_watcher(&mut self, w: WatcherId) {
        let Some(paths) = self.by_watcher.remove(&w) else {
            return;
        };
        for p in paths {
            if let Some(ws) = self.by_path.get_mut(&p) {
                let old = ws.remove(&w);
                if ws.is_empty() {
                    self.by_path.remove(&p);
                }
                self.adjust_recursive(old, None);
            }
        }
    }

    /// `size()`: registrations, summed over paths.
    pub(crate) fn size(&self) -> usize {
        self.by_path.values().map(BTreeMap::len).sum()
    }

    pub(crate) fn watcher_count(&self) -> usize {
        self.by_watcher.len()
    }

    pub(crate) fn path_count(&self) -> usize {
        self.by_path.len()
    }

    /// Total of `watch2Paths` set sizes (`Total watches:` of `wchs`).
    pub(crate) fn total_by_watcher(&self) -> usize {
        self.by_watcher.values().map(BTreeSet::len).sum()
    }

    pub(crate) fn paths_by_watcher(&self) -> BTreeMap<WatcherId, Vec<String>> {
        self.by_watcher
            .iter()
            .map(|(w, ps)| (*w, ps.iter().cloned().collect()))
            .collect()
    }

    pub(crate) fn watchers_by_path(&self) -> BTreeMap<String, Vec<WatcherId>> {
        self.by_path
            .iter()
            .map(|(p, ws)| (p.clone(), ws.keys().copied().collect()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_walk_up_to_root() {
        let v: Vec<_> = ancestors_and_self("/a/b/c").collect();
        assert_eq!(v, vec!["/a/b/c", "/a/b", "/a", "/"]);
        assert_eq!(ancestors_and_self("/").collect::<Vec<_>>(), vec!["/"]);
        assert_eq!(ancestors_and_self("").count(), 0);
    }

    #[test]
    fn recursive_counter_follows_mode_changes() {
        let mut t = Table::default();
        t.add("/a", 1, Mode::Recursive);
        t.add("/b", 1, Mode::Recursive);
        assert_eq!(t.recursive, 2);
        t.add("/a", 1, Mode::Standard);
        assert_eq!(t.recursive, 1);
        t.remove_watcher(1);
        assert_eq!(t.recursive, 0);
    }
}
