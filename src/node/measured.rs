//! Where the core records the `ServerMetrics` of the request pipeline
//! (`PrepRequestProcessor`, `ZooKeeperServer.processConnectRequest` and `processTxn`,
//! `FinalRequestProcessor`, `WatchManager.triggerWatch`, `ServerCnxn.serialize`'s
//! response cache), each at the point of rzk's pipeline that stands for Java's.
//!
//! The core prepares a request in the step that delivers it, and its clock does not
//! move within a step: the waits and durations Java measures between its processor
//! threads (`prep_processor_queue_time_ms`, `prep_process_time`, `proposal_process_time`,
//! `close_session_prep_time`) are recorded once per request, as Java does, with the
//! core's clock, which makes them 0 ms; the queue `PrepRequestProcessor` samples before
//! each wait is always empty here (prep never lags behind the requests it is given).
//! The time a request spends in the channel from its connection to the core is not
//! seen by the core and not counted.

use super::core::{Core, Origin};
use super::recorded::{Advanced, Basic, Counter};
use crate::proto::{EventType, SessionId, Txn, TxnHeader};

impl Core {
    /// One request enters `PrepRequestProcessor` (`processRequest`, then its turn in
    /// `run` and `pRequest`): every client request but auth and SASL packets and unknown
    /// opcodes, on a standalone server or the leader (learners have no prep stage), plus
    /// the createSession, closeSession and container deletions the server makes and
    /// the requests learners forward to the leader. `received_ms` is when the core got it.
    /// `throttled`: the request passed `RequestThrottler` (a learner's request on the
    /// leader goes straight to `PrepRequestProcessor`).
    pub(super) fn record_prep(&mut self, received_ms: i64, throttled: bool) {
        let now = self.now_mono_ms;
        let r = &mut self.stats.recorded;
        if !self.metrics.prep_waited {
            // The processor's first wait, before any request.
            self.metrics.prep_waited = true;
            r.add(Basic::PrepProcessorQueueSize, 0);
        }
        r.count(Counter::PrepProcessorRequestQueued, 1);
        // `RequestThrottler` hands every submitted request on in turn; rzk's core takes
        // each as it arrives (no throttle is configured by default in Java either).
        if throttled {
            r.time(Advanced::RequestThrottleQueueTimeMs, now - received_ms);
        }
        r.time(Advanced::PrepProcessorQueueTimeMs, now - received_ms);
        r.add(Basic::PrepProcessTime, 0);
        r.add(Basic::ProposalProcessTime, 0);
        // The wait for the next request: nothing is queued behind this one.
        r.add(Basic::PrepProcessorQueueSize, 0);
    }

    /// A learner takes a request (`RequestThrottler`, then
    /// `FollowerRequestProcessor`, which samples its queue before each wait): the core
    /// hands each on as it arrives, so both queues are empty.
    pub(super) fn record_learner_entry(&mut self, received_ms: i64) {
        let r = &mut self.stats.recorded;
        r.time(
            Advanced::RequestThrottleQueueTimeMs,
            self.now_mono_ms - received_ms,
        );
        if !self.metrics.learner_waited {
            // The processor's first wait, before any request.
            self.metrics.learner_waited = true;
            r.add(Basic::LearnerRequestProcessorQueueSize, 0);
        }
        r.add(Basic::LearnerRequestProcessorQueueSize, 0);
    }

    /// The change records prep added (`addChangeRecord`) and those applied txns took
    /// off (`ZooKeeperServer.processTxn`) since the last call.
    pub(super) fn record_changes(&mut self) {
        let (queued, removed) = self.prep.take_change_counts();
        for path in self.prep.take_quota_exceeded() {
            self.stats.record_quota_exceeded(&path);
        }
        let r = &mut self.stats.recorded;
        if queued > 0 {
            r.count(Counter::OutstandingChangesQueued, queued as i64);
        }
        if removed > 0 {
            r.count(Counter::OutstandingChangesRemoved, removed as i64);
        }
    }

    /// A frame read from a client (`ServerCnxn.packetReceived`): every frame counts,
    /// whatever becomes of it.
    pub(super) fn record_received(&mut self, bytes: u32) {
        self.stats
            .recorded
            .count(Counter::BytesReceivedCount, i64::from(bytes));
    }

    /// A closeSession was prepared (`pRequest2Txn`'s closeSession case).
    pub(super) fn record_close_session_prep(&mut self) {
        self.stats.recorded.time(Advanced::CloseSessionPrepTime, 0);
    }

    /// `FinalRequestProcessor.applyRequest` after a txn is applied: wall-clock time since
    /// the txn was stamped, when not negative. A closeSession that came without a
    /// connection (expiry, a learner's) returns before this when the session still has
    /// a connection here, which `applyRequest` then closes.
    pub(super) fn record_propagation(&mut self, hdr: &TxnHeader, txn: &Txn, origin: Origin) {
        let connless = !matches!(origin, Origin::Request { .. } | Origin::Connect { .. });
        if connless
            && matches!(txn, Txn::CloseSession(_))
            && self.session_conns.contains_key(&SessionId(hdr.client_id))
        {
            return;
        }
        let latency = self.now_wall_ms - hdr.time;
        if latency >= 0 {
            self.stats
                .recorded
                .time(Advanced::PropagationLatency, latency);
        }
    }

    /// `FinalRequestProcessor`: a reply is made for a connection that is already closed
    /// or closing (`Request.isStale`); closeSession and failed transactions do not count.
    pub(super) fn record_stale_reply(&mut self) {
        self.stats.recorded.count(Counter::StaleReplies, 1);
    }

    /// `WatchManager.triggerWatch`: the watchers one table fired for one event (not
    /// recorded when none did).
    pub(super) fn record_watchers(&mut self, event: EventType, fired: usize) {
        if fired == 0 {
            return;
        }
        let metric = match event {
            EventType::NodeCreated => Basic::NodeCreatedWatchCount,
            EventType::NodeDeleted => Basic::NodeDeletedWatchCount,
            EventType::NodeDataChanged => Basic::NodeChangedWatchCount,
            EventType::NodeChildrenChanged => Basic::NodeChildrenWatchCount,
            _ => return,
        };
        self.stats.recorded.add(metric, fired as i64);
    }

    /// `ServerCnxn.serialize` for a successful getData (`children` false) or
    /// getChildren2 reply: a hit or a miss of Java's response cache. Replies for
    /// `.../zookeeper_stats` nodes bypass it.
    pub(super) fn record_cached_reply(
        &mut self,
        children: bool,
        path: &str,
        stat: &crate::proto::Stat,
    ) {
        if path.ends_with("zookeeper_stats") || self.stats.recorded.is_paused() {
            return;
        }
        let (cache, hit, miss) = if children {
            (
                &mut self.metrics.children_cache,
                Counter::ResponsePacketGetChildrenCacheHits,
                Counter::ResponsePacketGetChildrenCacheMisses,
            )
        } else {
            (
                &mut self.metrics.data_cache,
                Counter::ResponsePacketCacheHits,
                Counter::ResponsePacketCacheMisses,
            )
        };
        let metric = if cache.lookup(path, stat) { hit } else { miss };
        self.stats.recorded.count(metric, 1);
    }
}
