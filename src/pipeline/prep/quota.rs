//! Quota enforcement at preparation time (`ZooKeeperServer.checkQuota`).
//!
//! Only hard limits reject a write; soft limits (`count`, `bytes`) are merely logged by
//! Java and ignored here. Limits and usage are read from the committed tree's
//! `/zookeeper/quota/<prefix>/zookeeper_limits` and `.../zookeeper_stats` nodes, whose
//! text is parsed the way `StatsTrack` parses it.

use super::{Cursor, Fail, Step};
use crate::pipeline::view::TreeView;
use crate::proto::ErrorCode;
use crate::tree::{limit_path, stat_path, StatsTrack};

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
    let Some(limits) = read_stats(view, &limit_path(&prefix))? else {
        return Ok(());
    };
    let check_count = count_diff != 0 && (limits.count > -1 || limits.count_hard > -1);
    let check_bytes = bytes_diff != 0 && (limits.bytes > -1 || limits.bytes_hard > -1);
    if !check_count && !check_bytes {
        return Ok(());
    }
    let Some(usage) = read_stats(view, &stat_path(&prefix))? else {
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
/// read as "no limits". Text `StatsTrack` throws on is `Fail::Internal`.
fn read_stats(view: &dyn TreeView, path: &str) -> Step<Option<Stats>> {
    if view.node(path).is_none() {
        return Ok(None);
    }
    let data = view.data(path).unwrap_or_default();
    let track = StatsTrack::parse(&String::from_utf8_lossy(&data)).ok_or(Fail::Internal)?;
    Ok(Some(Stats {
        count: track.count(),
        count_hard: track.get("countHardLimit"),
        bytes: track.bytes(),
        bytes_hard: track.get("byteHardLimit"),
    }))
}
