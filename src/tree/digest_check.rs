//! Digest bookkeeping around txn application (the digest parts of `DataTree`): the
//! `(zxid, digest)` pair a snapshot records, the check of a loaded snapshot's digest
//! once replay reaches its zxid, and the check of each logged `TxnDigest`. Mismatches
//! are only counted (`digest_mismatches_count`), never acted on, as in Java.

use crate::proto::{Txn, TxnDigest, TxnHeader};

use super::digest::DIGEST_VERSION;
use super::{ApplyOutcome, DataTree};

/// The digest trailer of a loaded snapshot, awaiting the replay of its zxid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PendingDigest {
    zxid: i64,
    version: i32,
    digest: i64,
}

impl DataTree {
    /// `apply`, then the comparison of the tree with the digest logged for this txn
    /// (`processTxn(hdr, txn, digest)`). Skipped while a loaded snapshot's digest is
    /// still pending (the tree is fuzzy) or when the digest version differs.
    /// `keep_events` as in [`apply_keeping`](Self::apply_keeping).
    pub fn apply_with_digest(
        &mut self,
        hdr: &TxnHeader,
        txn: &Txn,
        logged: Option<TxnDigest>,
        keep_events: bool,
    ) -> ApplyOutcome {
        let out = self.apply_keeping(hdr, txn, keep_events);
        if let Some(logged) = logged {
            let comparable = self.pending_digest.is_none() && logged.version == DIGEST_VERSION;
            if comparable && logged.tree_digest != self.digest() {
                self.digest_mismatches += 1;
            }
        }
        out
    }

    /// After every top-level txn: either the pending snapshot check
    /// (`compareSnapshotDigests`) or recording `(zxid, digest)` (`logZxidDigest`).
    pub(super) fn after_top_level_txn(&mut self, zxid: i64) {
        let Some(pending) = self.pending_digest else {
            self.last_zxid_digest = Some((zxid, self.digest()));
            return;
        };
        if zxid == pending.zxid {
            if pending.version == DIGEST_VERSION && pending.digest != self.digest() {
                self.digest_mismatches += 1;
            }
            self.pending_digest = None;
        }
    }

    /// The `(zxid, digest)` a snapshot taken now writes in its digest trailer; `None`
    /// (written as zxid 0, digest 0) before any txn was applied, or while a loaded
    /// snapshot's digest is pending.
    pub fn last_zxid_digest(&self) -> Option<(i64, i64)> {
        self.last_zxid_digest
    }

    /// How many digest comparisons failed (`digest_mismatches_count`).
    pub fn digest_mismatches(&self) -> u64 {
        self.digest_mismatches
    }

    /// Records a loaded snapshot's digest trailer (`deserializeZxidDigest`): kept only
    /// when its zxid is set and not below the zxid the snapshot is named after.
    pub(super) fn set_pending_digest(
        &mut self,
        zxid: i64,
        version: i32,
        digest: i64,
        snapshot_zxid: i64,
    ) {
        self.pending_digest = (zxid > 0 && zxid >= snapshot_zxid).then_some(PendingDigest {
            zxid,
            version,
            digest,
        });
    }
}
