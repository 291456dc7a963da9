//! Quota accounting as Apache ZooKeeper 3.8.0 does it (`Quotas`, `StatsTrack`,
//! `PathTrie` and the quota parts of `DataTree`).
//!
//! A quota on `/p` is the node `/zookeeper/quota/p/zookeeper_limits`; the server keeps the
//! subtree's node count and data bytes in `/zookeeper/quota/p/zookeeper_stats` as text
//! (`count=N,bytes=M`), rewriting it in place on every create, delete and setData under
//! `/p`. Those rewrites bypass versions and times, like Java's.

use std::collections::{BTreeMap, BTreeSet};

use super::DataTree;

pub const PROC_ZOOKEEPER: &str = "/zookeeper";
pub const QUOTA_ZOOKEEPER: &str = "/zookeeper/quota";
pub const LIMIT_NODE: &str = "zookeeper_limits";
pub const STAT_NODE: &str = "zookeeper_stats";

/// `Quotas.statPath`.
pub fn stat_path(prefix: &str) -> String {
    format!("{QUOTA_ZOOKEEPER}{prefix}/{STAT_NODE}")
}

/// `Quotas.limitPath`.
pub fn limit_path(prefix: &str) -> String {
    format!("{QUOTA_ZOOKEEPER}{prefix}/{LIMIT_NODE}")
}

/// `Quotas.trimQuotaPath`: cuts the length of `/zookeeper/quota` whatever the path is.
fn trim_quota_path(path: &str) -> Option<&str> {
    path.get(QUOTA_ZOOKEEPER.len()..)
}

/// The `key=value` text of limit and stat nodes (`StatsTrack`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsTrack {
    stats: BTreeMap<String, i64>,
}

impl StatsTrack {
    /// `new StatsTrack(String)`: pairs split on runs of `,`/`;`, each pair on `=`, an
    /// empty value is -1, a later key overrides an earlier one; `None` where Java throws
    /// (a pair without `=`, a value that is not a number, a leading separator).
    pub fn parse(text: &str) -> Option<StatsTrack> {
        let mut stats = BTreeMap::new();
        if text.is_empty() {
            return Some(StatsTrack { stats });
        }
        for pair in java_split(text, |c| c == ',' || c == ';', true) {
            let kv = java_split(pair, |c| c == '=', false);
            let (Some(key), Some(value)) = (kv.first(), kv.get(1)) else {
                return None;
            };
            let n = if value.is_empty() {
                -1
            } else {
                value.parse::<i64>().ok()?
            };
            stats.insert((*key).to_string(), n);
        }
        Some(StatsTrack { stats })
    }

    pub fn count(&self) -> i64 {
        self.get("count")
    }

    pub fn bytes(&self) -> i64 {
        self.get("bytes")
    }

    /// Missing values read as -1.
    pub fn get(&self, key: &str) -> i64 {
        self.stats.get(key).copied().unwrap_or(-1)
    }

    pub fn set(&mut self, key: &str, value: i64) {
        self.stats.insert(key.to_string(), value);
    }

    /// `count=…,bytes=…`, then `=` and `;k=v` for any other keys in sorted order: the
    /// shape 3.4 parsers still accept.
    pub fn format(&self) -> String {
        let mut out = format!("count={},bytes={}", self.count(), self.bytes());
        let rest: Vec<_> = self
            .stats
            .iter()
            .filter(|(k, _)| *k != "count" && *k != "bytes")
            .collect();
        if !rest.is_empty() {
            out.push('=');
            for (k, v) in rest {
                out.push_str(&format!(";{k}={v}"));
            }
        }
        out
    }
}

/// Java's `split` with limit 0: no separator gives the input itself, trailing empty
/// pieces are dropped. `runs` merges adjacent separators (a `[,;]+` pattern).
fn java_split(s: &str, is_sep: impl Fn(char) -> bool, runs: bool) -> Vec<&str> {
    if !s.contains(&is_sep) {
        return vec![s];
    }
    let mut pieces: Vec<&str> = s.split(&is_sep).collect();
    if runs {
        // Keep a leading empty piece (a separator at index 0), drop the empties that
        // merged runs would not have produced.
        let first = pieces.first().copied();
        let rest = pieces.iter().skip(1).copied().filter(|p| !p.is_empty());
        pieces = first.into_iter().chain(rest).collect();
    }
    while pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    pieces
}

/// The set of quota'd prefixes (`PathTrie`). Only the marked paths matter to lookups,
/// so a set of normalized paths behaves like Java's trie.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct QuotaTrie {
    prefixes: BTreeSet<Vec<String>>,
}

/// `PathTrie.split`: components that are blank after Java's `trim` are dropped.
fn components(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|c| !c.trim_matches(|ch: char| ch <= ' ').is_empty())
        .map(str::to_string)
        .collect()
}

impl QuotaTrie {
    pub(super) fn add(&mut self, path: &str) {
        let parts = components(path);
        if !path.is_empty() && !parts.is_empty() {
            self.prefixes.insert(parts);
        }
    }

    pub(super) fn delete(&mut self, path: &str) {
        self.prefixes.remove(&components(path));
    }

    pub(super) fn clear(&mut self) {
        self.prefixes.clear();
    }

    /// The longest marked prefix of `path`, `None` when there is none
    /// (`DataTree.getMaxPrefixWithQuota`).
    pub(super) fn max_prefix(&self, path: &str) -> Option<String> {
        // Most trees have no quota at all: every write asks, so skip splitting its path.
        if self.prefixes.is_empty() {
            return None;
        }
        let parts = components(path);
        (1..=parts.len())
            .rev()
            .find(|&n| parts.get(..n).is_some_and(|p| self.prefixes.contains(p)))
            .and_then(|n| parts.get(..n))
            .map(|p| format!("/{}", p.join("/")))
    }
}

impl DataTree {
    /// After a create: a new limit node marks its prefix, a new stat node gets the
    /// subtree's current totals, and the node counts against its own quota.
    pub(super) fn quota_after_create(&mut self, path: &str, parent: &str, child: &str, bytes: i64) {
        if parent.starts_with(QUOTA_ZOOKEEPER) {
            if let Some(prefix) = trim_quota_path(parent) {
                if child == LIMIT_NODE {
                    self.quotas.add(prefix);
                }
                if child == STAT_NODE {
                    let prefix = prefix.to_string();
                    self.refresh_quota_stats(&prefix);
                }
            }
        }
        if let Some(prefix) = self.quotas.max_prefix(path) {
            self.update_quota_stat(&prefix, bytes, 1);
        }
    }

    /// After a delete; `bytes` is the removed node's data length.
    pub(super) fn quota_after_delete(&mut self, path: &str, parent: &str, child: &str, bytes: i64) {
        if parent.starts_with(PROC_ZOOKEEPER) && child == LIMIT_NODE {
            if let Some(prefix) = trim_quota_path(parent).filter(|p| !p.is_empty()) {
                self.quotas.delete(prefix);
            }
        }
        if let Some(prefix) = self.quotas.max_prefix(path) {
            self.update_quota_stat(&prefix, -bytes, -1);
        }
    }

    /// `updateQuotaStat`: adds to the stat node's counters in place. A stat node whose
    /// text does not parse is left alone (Java would throw out of the txn).
    pub(super) fn update_quota_stat(&mut self, prefix: &str, bytes_diff: i64, count_diff: i64) {
        let path = stat_path(prefix);
        let Some(id) = self.nodes.lookup(&path) else {
            return;
        };
        let text = String::from_utf8_lossy(self.nodes.data(id).unwrap_or_default());
        if let Some(mut track) = StatsTrack::parse(&text) {
            track.set("count", track.count().wrapping_add(count_diff));
            track.set("bytes", track.bytes().wrapping_add(bytes_diff));
            let text = track.format();
            self.nodes
                .replace_data(id, &path, Some(text.as_bytes()), |_| ());
        }
    }

    /// `updateQuotaForPath`: recounts the subtree at `prefix` into its stat node (only
    /// `count` and `bytes`, other keys dropped).
    pub(super) fn refresh_quota_stats(&mut self, prefix: &str) {
        let (count, bytes) = self.subtree_totals(prefix);
        let mut track = StatsTrack::default();
        track.set("bytes", bytes);
        track.set("count", count);
        let path = stat_path(prefix);
        if let Some(id) = self.nodes.lookup(&path) {
            self.nodes
                .replace_data(id, &path, Some(track.format().as_bytes()), |_| ());
        }
    }

    /// `getCounts`: nodes and data bytes of the subtree at `path`, itself included.
    fn subtree_totals(&self, path: &str) -> (i64, i64) {
        let mut stack: Vec<_> = self.nodes.lookup(path).into_iter().collect();
        let (mut count, mut bytes) = (0i64, 0i64);
        while let Some(id) = stack.pop() {
            count += 1;
            bytes += super::ops::data_len(self.nodes.data(id));
            stack.extend(self.nodes.child_ids(id));
        }
        (count, bytes)
    }

    /// The childless nodes under `/zookeeper/quota` with their paths: where
    /// `setupQuota` and `QuotaMetricsUtils` look for limit and stat nodes.
    fn quota_leaves(&self) -> Vec<(String, super::store::Id)> {
        let mut leaves = Vec::new();
        let mut stack: Vec<_> = self
            .nodes
            .lookup(QUOTA_ZOOKEEPER)
            .map(|id| (id, QUOTA_ZOOKEEPER.to_string()))
            .into_iter()
            .collect();
        while let Some((id, path)) = stack.pop() {
            if self.nodes.num_children(id) == 0 {
                leaves.push((path, id));
                continue;
            }
            stack.extend(
                self.nodes
                    .child_ids(id)
                    .map(|c| (c, format!("{path}/{}", self.nodes.name_str(c)))),
            );
        }
        leaves
    }

    /// `setupQuota` after loading a snapshot: walks `/zookeeper/quota`, and for every
    /// childless `…/zookeeper_limits` marks its prefix and recounts its stats.
    pub(super) fn setup_quota(&mut self) {
        let suffix = format!("/{LIMIT_NODE}");
        let limits: Vec<String> = self
            .quota_leaves()
            .into_iter()
            .filter_map(|(path, _)| {
                let end = path.ends_with(&suffix).then(|| path.find(&suffix))??;
                Some(
                    path.get(QUOTA_ZOOKEEPER.len()..end)
                        .unwrap_or("")
                        .to_string(),
                )
            })
            .collect();
        for prefix in limits {
            self.refresh_quota_stats(&prefix);
            self.quotas.add(&prefix);
        }
    }

    /// Limits and usage per top-level namespace, summed over the quotas inside it
    /// (`QuotaMetricsUtils`): limits from childless `zookeeper_limits` nodes (the hard
    /// limit where one is set, else the soft one), usage from `zookeeper_stats` nodes.
    /// A node without data or whose text does not parse is left out.
    pub fn quota_metrics(&self) -> QuotaMetrics {
        let mut m = QuotaMetrics::default();
        let (limits, stats) = (format!("/{LIMIT_NODE}"), format!("/{STAT_NODE}"));
        for (path, id) in self.quota_leaves() {
            let (is_limit, is_stat) = (path.ends_with(&limits), path.ends_with(&stats));
            if !is_limit && !is_stat {
                continue;
            }
            let Some(ns) = trim_quota_path(&path).and_then(top_namespace) else {
                continue;
            };
            let Some(track) = self
                .nodes
                .data(id)
                .and_then(|d| StatsTrack::parse(&String::from_utf8_lossy(d)))
            else {
                continue;
            };
            let hard_or = |hard: i64, soft: i64| if hard > -1 { hard } else { soft };
            let add = |set: &mut Vec<(String, i64)>, v: i64| match set
                .iter_mut()
                .find(|(k, _)| k == ns)
            {
                Some((_, sum)) => *sum = sum.wrapping_add(v),
                None => set.push((ns.to_string(), v)),
            };
            if is_limit {
                add(
                    &mut m.count_limit,
                    hard_or(track.get("countHardLimit"), track.count()),
                );
                add(
                    &mut m.bytes_limit,
                    hard_or(track.get("byteHardLimit"), track.bytes()),
                );
            } else {
                add(&mut m.count_usage, track.count());
                add(&mut m.bytes_usage, track.bytes());
            }
        }
        m
    }
}

/// `PathUtils.getTopNamespace`: the first component of an absolute path; none for `/`.
pub fn top_namespace(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('/')?;
    let end = rest.bytes().position(|b| b == b'/').unwrap_or(rest.len());
    rest.get(..end).filter(|n| !n.is_empty())
}

/// The quota gauge sets, each keyed by top-level namespace in the order found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuotaMetrics {
    /// `quota_count_limit_per_namespace`.
    pub count_limit: Vec<(String, i64)>,
    /// `quota_bytes_limit_per_namespace`.
    pub bytes_limit: Vec<(String, i64)>,
    /// `quota_count_usage_per_namespace`.
    pub count_usage: Vec<(String, i64)>,
    /// `quota_bytes_usage_per_namespace`.
    pub bytes_usage: Vec<(String, i64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_track_round_trips_the_3_4_compatible_shape() {
        let t = StatsTrack::parse("count=4,bytes=5=;countHardLimit=10;byteHardLimit=7").unwrap();
        assert_eq!(t.count(), 4);
        assert_eq!(t.bytes(), 5);
        assert_eq!(
            t.format(),
            "count=4,bytes=5=;byteHardLimit=7;countHardLimit=10"
        );
    }

    #[test]
    fn stats_track_defaults_missing_values_to_minus_one() {
        let t = StatsTrack::parse("bytes=3").unwrap();
        assert_eq!(t.format(), "count=-1,bytes=3");
        assert_eq!(StatsTrack::parse("").unwrap().format(), "count=-1,bytes=-1");
    }

    #[test]
    fn stats_track_rejects_what_java_throws_on() {
        assert!(StatsTrack::parse("count").is_none());
        assert!(StatsTrack::parse("count=x").is_none());
        assert!(StatsTrack::parse(",count=1").is_none());
    }

    #[test]
    fn stats_track_reads_what_java_reads() {
        let t = StatsTrack::parse("count=10,bytes=-1=;byteHardLimit=5;countHardLimit=2").unwrap();
        assert_eq!(
            (
                t.count(),
                t.bytes(),
                t.get("byteHardLimit"),
                t.get("countHardLimit")
            ),
            (10, -1, 5, 2)
        );
        assert_eq!(StatsTrack::parse("count==5").unwrap().count(), -1);
        assert_eq!(StatsTrack::parse("count=1,,bytes=2").unwrap().bytes(), 2);
        assert_eq!(StatsTrack::parse("count=1;count=3").unwrap().count(), 3);
    }

    #[test]
    fn java_split_drops_trailing_empties_only() {
        assert_eq!(java_split("a=b=", |c| c == '=', false), vec!["a", "b"]);
        assert_eq!(java_split("=b", |c| c == '=', false), vec!["", "b"]);
        assert_eq!(java_split("=", |c| c == '=', false), Vec::<&str>::new());
        assert_eq!(java_split("ab", |c| c == '=', false), vec!["ab"]);
        assert_eq!(
            java_split("a,;b,", |c| c == ',' || c == ';', true),
            vec!["a", "b"]
        );
    }

    #[test]
    fn trie_finds_the_longest_marked_prefix() {
        let mut trie = QuotaTrie::default();
        trie.add("/a");
        trie.add("/a/b/c");
        assert_eq!(trie.max_prefix("/a/b/c/d").as_deref(), Some("/a/b/c"));
        assert_eq!(trie.max_prefix("/a/b").as_deref(), Some("/a"));
        assert_eq!(trie.max_prefix("/x"), None);
        trie.delete("/a");
        assert_eq!(trie.max_prefix("/a/b"), None);
    }
}
