//! The `ServerMetrics` values an ensemble member measures around its core rather than
//! in it: what `Follower`, `Observer`, `AckRequestProcessor`, `SendAckRequestProcessor`,
//! `LearnerHandler` and the loop of `CommitProcessor` record in Java. The peer driver
//! reports the events (wall and elapsed times come in as arguments); the values are
//! collected here and handed to the core's registry (`Input::Samples`) once per batch,
//! so they have one home with the request path's metrics.

use std::collections::VecDeque;

use crate::node::recorded::{Advanced, Basic, Counter, Sample};
use crate::proto::{TxnEntry, Zxid};

#[derive(Debug, Default)]
pub struct PeerSamples {
    out: Vec<Sample>,
    /// Txns this voter logged and has not acknowledged yet: (zxid, the txn's creation
    /// wall time). An ACK is made for each once the log reports it durable.
    unacked: VecDeque<(Zxid, i64)>,
}

impl PeerSamples {
    /// A follower received a PROPOSAL while broadcasting (`Follower.processPacket`:
    /// `PROPOSAL_LATENCY`, from the txn's creation at the leader).
    pub fn proposal_received(&mut self, now_wall_ms: i64, txn: &TxnEntry) {
        self.out.push(Sample::Advanced(
            Advanced::ProposalLatency,
            now_wall_ms - txn.header.time,
        ));
    }

    /// A voter (the leader for its own proposals, or a follower) handed txns to its log;
    /// their ACKs are made when the log reports them durable.
    pub fn logged(&mut self, entries: &[TxnEntry]) {
        self.unacked
            .extend(entries.iter().map(|e| (Zxid(e.header.zxid), e.header.time)));
    }

    /// The log is durable through `upto`: one ACK is made per txn
    /// (`AckRequestProcessor`, `SendAckRequestProcessor`: `PROPOSAL_ACK_CREATION_LATENCY`).
    pub fn persisted(&mut self, now_wall_ms: i64, upto: Zxid) {
        while self.unacked.front().is_some_and(|(z, _)| *z <= upto) {
            if let Some((_, created)) = self.unacked.pop_front() {
                self.out.push(Sample::Advanced(
                    Advanced::ProposalAckCreationLatency,
                    now_wall_ms - created,
                ));
            }
        }
    }

    /// The role ended: what was logged and not acknowledged will not be.
    pub fn role_ended(&mut self) {
        self.unacked.clear();
    }

    /// A committed txn reached the serving core (`CommitProcessor.commit`:
    /// `COMMITS_QUEUED`); on a learner also the commit's propagation from the txn's
    /// creation (`FollowerZooKeeperServer.commit` on COMMIT, `Observer` on INFORM:
    /// `COMMIT_PROPAGATION_LATENCY`).
    pub fn commit_received(&mut self, now_wall_ms: i64, txn: &TxnEntry, learner: bool) {
        self.out
            .push(Sample::Count(Counter::RequestCommitQueued, 1));
        if learner {
            self.out.push(Sample::Advanced(
                Advanced::CommitPropagationLatency,
                now_wall_ms - txn.header.time,
            ));
        }
    }

    /// One pass of the commit loop that applied one committed txn and answered what
    /// waited on it, taking `elapsed_ms` (`CommitProcessor.run` with
    /// `maxCommitBatchSize` 1: the commit waiting, the pool it waits to drain, the write
    /// batch, the final processing of the write, the whole iteration). rzk answers
    /// reads inline, so no read is ever in progress when a commit is taken: the wait for
    /// the empty pool is 0 ms, as Java's is when its pool is idle.
    pub fn commit_processed(&mut self, elapsed_ms: i64) {
        self.out.extend([
            Sample::Basic(Basic::CommitCommitProcReqQueued, 1),
            Sample::Basic(Basic::TimeWaitingEmptyPoolInCommitProcessorReadMs, 0),
            Sample::Basic(Basic::WriteCommitProcIssued, 1),
            Sample::Advanced(Advanced::WriteFinalProcTimeMs, elapsed_ms),
            Sample::Basic(Basic::WriteBatchTimeInCommitProcessor, elapsed_ms),
            Sample::Basic(Basic::CommitProcessTime, elapsed_ms),
        ]);
    }

    /// The leader received a learner's REVALIDATE (`LearnerHandler`: `REVALIDATE_COUNT`).
    pub fn revalidate_asked(&mut self) {
        self.out.push(Sample::Count(Counter::RevalidateCount, 1));
    }

    /// Values the Zab role recorded (the leader's sync throttler counts).
    pub fn extend(&mut self, samples: Vec<Sample>) {
        self.out.extend(samples);
    }

    /// Everything collected since the last call.
    pub fn take(&mut self) -> Vec<Sample> {
        std::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Txn, TxnHeader};

    fn txn(zxid: i64, time: i64) -> TxnEntry {
        TxnEntry {
            header: TxnHeader {
                client_id: 1,
                cxid: 1,
                zxid,
                time,
            },
            txn: Txn::Delete("/a".into()),
            digest: None,
        }
    }

    #[test]
    fn an_ack_is_made_per_logged_txn_once_the_log_covers_it() {
        let mut s = PeerSamples::default();
        s.logged(&[txn(1, 100), txn(2, 104)]);
        s.logged(&[txn(3, 105)]);
        s.persisted(110, Zxid(2));
        let ack = |v| Sample::Advanced(Advanced::ProposalAckCreationLatency, v);
        assert_eq!(s.take(), vec![ack(10), ack(6)]);
        s.role_ended();
        s.persisted(120, Zxid(3));
        assert!(s.take().is_empty());
    }

    #[test]
    fn learners_add_the_propagation_of_each_commit() {
        let mut s = PeerSamples::default();
        s.proposal_received(103, &txn(1, 100));
        s.commit_received(107, &txn(1, 100), true);
        s.commit_received(107, &txn(2, 100), false);
        let got = s.take();
        assert_eq!(got[0], Sample::Advanced(Advanced::ProposalLatency, 3));
        assert_eq!(
            got[1..3],
            [
                Sample::Count(Counter::RequestCommitQueued, 1),
                Sample::Advanced(Advanced::CommitPropagationLatency, 7)
            ]
        );
        assert_eq!(got[3..], [Sample::Count(Counter::RequestCommitQueued, 1)]);
    }

    #[test]
    fn a_commit_pass_records_one_write_issued_and_its_time() {
        let mut s = PeerSamples::default();
        s.commit_processed(4);
        let got = s.take();
        assert!(got.contains(&Sample::Basic(Basic::WriteCommitProcIssued, 1)));
        assert!(got.contains(&Sample::Advanced(Advanced::WriteFinalProcTimeMs, 4)));
        assert!(got.contains(&Sample::Basic(
            Basic::TimeWaitingEmptyPoolInCommitProcessorReadMs,
            0
        )));
    }
}
