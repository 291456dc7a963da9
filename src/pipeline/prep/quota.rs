//! Quota enforcement at preparation time (`ZooKeeperServer.checkQuota`).
//!
//! Only hard limits reject a write; soft limits (`count`, `bytes`) are merely logged by
//! Java and ignored here. Limits and usage are read from the committed tree's
//! `/zookeeper/quota/<prefix>/zookeeper_limits` and `.../zookeeper_stats` nodes, whose
//! text is parsed the way `StatsTrack` parses it.

use std::collections::BTreeMap;

use super::{Cursor, Fail, Step};
use crate::pipeline::view::TreeView;
use crate::proto::ErrorCode;

const QUOTA_ROOT: &str = "/zookeeper/quota";

impl Cursor<'_> {
    /// `checkQuota`, noting the path of a write a hard limit rejects
    /// (`ZooKeeperServer.updateQuotaExceededMetrics`).
    pub(super) fn check_quota(&mut self, path: &str, bytes_diff: i64, count_diff: i64) -> Step<()> {
        let checked = check_if(
            self.cfg.enforce_quota,
            self.view,
            path,
            bytes_diff,
            count_diff,
        );
        if checked == Err(Fail::Code(ErrorCode::QuotaExceeded)) {
            self.quota_exceeded.push(path.to_string());
        }
        checked
    }
}

/// A write under `path` would add `count_diff` nodes and `bytes_diff` bytes; checked
/// only when `enforce` (`zookeeper.enforceQuota`).
fn check_if(
    enforce: bool,
    view: &dyn TreeView,
    path: &str,
    bytes_diff: i64,
    count_diff: i64,
) -> Step<()> {
    if !enforce {
        return Ok(());
    }
    let Some(prefix) = view.max_prefix_with_quota(path).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let Some(limits) = read_stats(view, &format!("{QUOTA_ROOT}{prefix}/zookeeper_limits"))? else {
        return Ok(());
    };
    let check_count = count_diff != 0 && (limits.count > -1 || limits.count_hard > -1);
    let check_bytes = bytes_diff != 0 && (limits.bytes > -1 || limits.bytes_hard > -1);
    if !check_count && !check_bytes {
        return Ok(());
    }
    let Some(usage) = read_stats(view, &format!("{QUOTA_ROOT}{prefix}/zookeeper_stats"))? else {
        return Ok(());
    };
    if check_count && exceeds_hard(usage.count.wrapping_add(count_diff), limits.count_hard) {
        return Err(ErrorCode::QuotaExceeded.into());
    }
    if check_bytes && exceeds_hard(usage.bytes.wrapping_add(bytes_diff), limits.bytes_hard) {
        return Err(ErrorCode::QuotaExceeded.into());
    }
    Ok(())
}

fn exceeds_hard(new_value: i64, hard_limit: i64) -> bool {
    hard_limit > -1 && new_value > hard_limit
}

/// `StatsTrack` values; an absent key reads as -1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stats {
    count: i64,
    count_hard: i64,
    bytes: i64,
    bytes_hard: i64,
}

/// `None` when the node is missing (Java logs "should not happen" and lets the write
/// through). A null data buffer cannot be told from an empty one through the view; both
/// read as "no limits".
fn read_stats(view: &dyn TreeView, path: &str) -> Step<Option<Stats>> {
    if view.node(path).is_none() {
        return Ok(None);
    }
    let data = view.data(path).unwrap_or_default();
    let map = parse_stats(&String::from_utf8_lossy(&data))?;
    let get = |k: &str| map.get(k).copied().unwrap_or(-1);
    Ok(Some(Stats {
        count: get("count"),
        count_hard: get("countHardLimit"),
        bytes: get("bytes"),
        bytes_hard: get("byteHardLimit"),
    }))
}

/// `new StatsTrack(String)`: pairs split on runs of `,`/`;`, each pair on `=`, an empty
/// value is -1, a later key overrides an earlier one. What makes Java throw (a pair with
/// no value, a non-number) is `Fail::Internal`.
fn parse_stats(text: &str) -> Step<BTreeMap<String, i64>> {
    let mut map = BTreeMap::new();
    if text.is_empty() {
        return Ok(map);
    }
    for pair in java_split(text, |c| c == ',' || c == ';', true) {
        let kv = java_split(pair, |c| c == '=', false);
        let (Some(key), Some(value)) = (kv.first(), kv.get(1)) else {
            return Err(Fail::Internal);
        };
        let n = if value.is_empty() {
            -1
        } else {
            value.parse::<i64>().map_err(|_| Fail::Internal)?
        };
        map.insert((*key).to_string(), n);
    }
    Ok(map)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_text_as_written_by_zkcli() {
        let m = parse_stats("count=10,bytes=-1=;byteHardLimit=5;countHardLimit=2").unwrap();
        assert_eq!(m.get("count"), Some(&10));
        assert_eq!(m.get("bytes"), Some(&-1));
        assert_eq!(m.get("byteHardLimit"), Some(&5));
        assert_eq!(m.get("countHardLimit"), Some(&2));
    }

    #[test]
    fn stats_text_that_makes_java_throw() {
        assert_eq!(parse_stats("count"), Err(Fail::Internal));
        assert_eq!(parse_stats("count=x"), Err(Fail::Internal));
        assert_eq!(parse_stats(",count=1"), Err(Fail::Internal));
        assert_eq!(parse_stats("count=1,,bytes=2").map(|m| m.len()), Ok(2));
        assert_eq!(parse_stats("count==5").unwrap().get("count"), Some(&-1));
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
}
