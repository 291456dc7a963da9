//! What one group commit of the log writer records (`SyncRequestProcessor.run`/`flush`
//! and `FileTxnLog.commit` in Apache ZooKeeper), gathered while the batch is written
//! and sent to the core as one `Input::Samples` after it is durable.
//!
//! Java's sync thread takes requests one at a time and flushes when its queue runs dry
//! (defaults: no `flushDelay`, `maxBatchSize` 1000); the writer here takes every txn
//! waiting at once, which is the same batch. Per txn, as Java per request:
//! * `sync_processor_queue_size` — txns still waiting when it was taken; for a batch of
//!   n taken at once Java samples n−1, n−2, …, 0 (the 0 before the flush), so do we
//!   (plus, as Java, one 0 when the writer starts, before it first waits);
//! * `sync_processor_queue_time_ms` — from the hand-over to the writer (`processRequest`)
//!   until the writer starts on it;
//! * `sync_process_time` — appending it (and rolling the log when a snapshot is due);
//! * `sync_processor_queue_and_flush_time_ms` — from the hand-over until the batch is
//!   durable.
//!
//! Per batch: `sync_processor_batch_size` (txns), `sync_processor_queue_flush_time_ms`
//! (the commit), one `fsynctime` per file synced, and `sync_processor_request_queued`
//! grows by the txns handed over. Times are whole ms read from one monotonic clock, as
//! `Time.currentElapsedTime` differences are in Java.

use std::time::Instant;

use crate::node::recorded::{Advanced, Basic, Counter, Sample};

/// Monotonic ms readings from a fixed origin (`Time.currentElapsedTime`).
#[derive(Clone, Copy, Debug)]
pub struct Clock(Instant);

impl Clock {
    pub fn new() -> Clock {
        Clock(Instant::now())
    }

    pub fn ms(&self, t: Instant) -> i64 {
        i64::try_from(t.saturating_duration_since(self.0).as_millis()).unwrap_or(i64::MAX)
    }

    pub fn now(&self) -> i64 {
        self.ms(Instant::now())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// The values of one batch, in the order they were measured.
#[derive(Debug, Default)]
pub struct BatchSamples {
    samples: Vec<Sample>,
}

impl BatchSamples {
    /// A batch of `txns` (sized for everything it will record: one allocation).
    pub fn new(txns: usize) -> BatchSamples {
        let mut samples = Vec::with_capacity(4 * txns + 8);
        samples.push(Sample::Count(
            Counter::SyncProcessorRequestQueued,
            txns as i64,
        ));
        BatchSamples { samples }
    }

    /// One txn taken with `waiting` others still behind it, after `queued_ms` in the
    /// queue, appended in `process_ms`.
    pub fn txn(&mut self, waiting: usize, queued_ms: i64, process_ms: i64) {
        self.samples
            .push(Sample::Basic(Basic::SyncProcessorQueueSize, waiting as i64));
        self.samples.push(Sample::Advanced(
            Advanced::SyncProcessorQueueTimeMs,
            queued_ms.max(0),
        ));
        self.samples
            .push(Sample::Basic(Basic::SyncProcessTime, process_ms.max(0)));
    }

    /// The commit of `txns` took `flush_ms`, its fsyncs `fsync_ms` (one per file).
    pub fn flushed(&mut self, txns: usize, flush_ms: i64, fsync_ms: &[i64]) {
        self.samples
            .push(Sample::Basic(Basic::SyncProcessorBatchSize, txns as i64));
        self.samples.extend(
            fsync_ms
                .iter()
                .map(|&ms| Sample::Basic(Basic::FsyncTime, ms)),
        );
        self.samples.push(Sample::Advanced(
            Advanced::SyncProcessorQueueFlushTimeMs,
            flush_ms.max(0),
        ));
    }

    /// `txns` handed over together are durable `ms` after they were handed over.
    pub fn durable(&mut self, txns: usize, ms: i64) {
        let s = Sample::Advanced(Advanced::SyncProcessorQueueAndFlushTimeMs, ms.max(0));
        self.samples.extend(std::iter::repeat_n(s, txns));
    }

    pub fn into_samples(self) -> Vec<Sample> {
        self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::recorded::Recorded;

    #[test]
    fn a_batch_records_what_java_records_per_request_and_per_flush() {
        let mut b = BatchSamples::new(3);
        b.txn(2, 4, 0);
        b.txn(1, 4, 1);
        b.txn(0, 5, 0);
        b.flushed(3, 2, &[2]);
        b.durable(2, 7);
        b.durable(1, 6);
        let mut r = Recorded::default();
        b.into_samples().into_iter().for_each(|s| r.record(s));
        assert_eq!(r.counter(Counter::SyncProcessorRequestQueued), 3);
        let q = r.basic(Basic::SyncProcessorQueueSize);
        assert_eq!(
            (q.histogram.count, q.histogram.sum, q.min, q.max),
            (3, 3, 0, 2)
        );
        assert_eq!(r.basic(Basic::SyncProcessTime).histogram.count, 3);
        assert_eq!(
            r.advanced(Advanced::SyncProcessorQueueTimeMs).histogram.sum,
            13
        );
        let batch = r.basic(Basic::SyncProcessorBatchSize);
        assert_eq!((batch.histogram.count, batch.max), (1, 3));
        assert_eq!(r.basic(Basic::FsyncTime).histogram.count, 1);
        assert_eq!(
            r.advanced(Advanced::SyncProcessorQueueFlushTimeMs)
                .histogram
                .count,
            1
        );
        let qf = r.advanced(Advanced::SyncProcessorQueueAndFlushTimeMs);
        assert_eq!((qf.histogram.count, qf.histogram.sum), (3, 20));
    }

    #[test]
    fn readings_are_whole_ms_from_the_origin() {
        let c = Clock::new();
        let later = c.0 + std::time::Duration::from_micros(2_999);
        assert_eq!(c.ms(later), 2);
        if let Some(before) = c.0.checked_sub(std::time::Duration::from_millis(1)) {
            assert_eq!(c.ms(before), 0);
        }
    }
}
