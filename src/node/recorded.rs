//! The `ServerMetrics` of Apache ZooKeeper 3.8 as typed names, and the values the
//! server records into them on the request path, in the log writer and at start-up.
//!
//! Every counter and summary `mntr`, `monitor` and the Prometheus endpoint print is a
//! variant here, in the order Java's metrics map holds them, so a recording site names
//! its metric by type and the operations surface finds every value by the same type.
//! Recording is an array index and an add: nothing here locks or allocates.
//!
//! The request pipeline's values are recorded in `node::measured`, which says where
//! each stands for Java's recording site. Stays zero:
//! - `dead_watchers_queued`, `dead_watchers_cleared`, `dead_watchers_cleaner_latency`,
//!   `add_dead_watcher_stall_time`: only `WatchManagerOptimized`'s `WatcherCleaner`
//!   records them; Java's default `WatchManager`, like rzk's, drops a closed
//!   connection's watches at once.
//!
//! Recorded as 0 ms per request, because the core prepares a request in the step that
//! delivers it and its clock does not move within a step: `prep_processor_queue_time_ms`,
//! `prep_process_time`, `proposal_process_time`, `close_session_prep_time`.
//!
//! `sync_processor_request_queued` counts what Java's `SyncRequestProcessor` is handed:
//! every txn given to the log writer, plus, on a standalone server, every other request
//! (Java's standalone chain passes reads through its sync processor; rzk's reads never
//! reach the log, so the driver counts them). The sync processor's per-request
//! summaries (queue size and time) hold the log writer's txns only.
//!
//! Also stays zero:
//! - `throttled_ops`, `request_throttle_wait_count`, `stale_requests`,
//!   `stale_requests_dropped` — rzk has no `RequestThrottler`
//!   (`zookeeper.request_throttle_*` are not honoured); `request_throttle_queue_time_ms`
//!   is recorded for every request a client hands this server (0 ms: nothing waits for a
//!   throttle), not for a learner's request on the leader, which Java's
//!   `LearnerHandler` hands straight to `PrepRequestProcessor`;
//! - `large_requests_rejected` — no large request throttle (`zookeeper.largeRequest*`);
//! - `tls_handshake_exceeded` — no limit on concurrent TLS handshakes
//!   (`netty.server.outstandingHandshake.limit`);
//! - `cnxn_closed_without_zk_server_running` — only with Netty's
//!   `earlyDropSecureConnectionHandshakes`, which rzk does not have.
//!
//! Ensemble members record their commit pipeline here too: the commit processor's view
//! of each request that enters it and of each committed write in `node::quorum` (one
//! pass of its loop per request and per commit, with the queue sizes counted as the
//! connections' queues change, `node::conn::QueueTally`), and what the peer driver measures around
//! the core (`peer::samples`: proposal, ACK and commit latencies, the commit loop's
//! times) or the Zab leader counts (its sync throttlers). Stays zero in an ensemble:
//! - `concurrent_request_processing_in_commit_processor`, because reads are answered
//!   inline, so none is ever in progress when a commit is taken;
//! - `om_proposal_process_time_ms`, `om_commit_process_time_ms`, because rzk has no
//!   observer masters (`observerMasterPort`);
//! - `requests_not_forwarded_to_commit_processor`, `skip_learner_request_to_next_processor_count`,
//!   `quit_leading_due_to_disloyal_voter`, because they count only under settings rzk
//!   does not have (`forwardLearnerRequestsToCommitProcessorDisabled`,
//!   `follower.skipLearnerRequestToNextProcessor`, `leader.maxTimeToWaitForEpoch`);
//! - `ensemble_auth_success`, `ensemble_auth_fail`, `ensemble_auth_skip`, because rzk has
//!   no `EnsembleAuthenticationProvider`;
//! - `socket_closing_time`, because the quorum sockets are closed by the tasks that own
//!   them, which do not time it.

use super::stats::SizeSummary;

macro_rules! metric_names {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($var:ident = $s:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name { $($var,)* }

        impl $name {
            /// Every variant, in `mntr` order.
            pub const ALL: &'static [$name] = &[$($name::$var,)*];

            /// The metric's name in `ServerMetrics` (without the `zk_` of `mntr`).
            pub const fn name(self) -> &'static str {
                match self { $($name::$var => $s,)* }
            }

            pub fn from_name(name: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|m| m.name() == name)
            }
        }
    };
}

metric_names! {
    /// Counters of `ServerMetrics`.
    pub enum Counter {
        ProposalCount = "proposal_count",
        WatchBytes = "watch_bytes",
        OutstandingChangesRemoved = "outstanding_changes_removed",
        ThrottledOps = "throttled_ops",
        StaleRequestsDropped = "stale_requests_dropped",
        LargeRequestsRejected = "large_requests_rejected",
        InsecureAdminCount = "insecure_admin_count",
        ConnectionRejected = "connection_rejected",
        CnxnClosedWithoutZkServerRunning = "cnxn_closed_without_zk_server_running",
        SessionlessConnectionsExpired = "sessionless_connections_expired",
        LookingCount = "looking_count",
        DeadWatchersQueued = "dead_watchers_queued",
        StaleRequests = "stale_requests",
        ConnectionDropCount = "connection_drop_count",
        LearnerProposalReceivedCount = "learner_proposal_received_count",
        DigestMismatchesCount = "digest_mismatches_count",
        DeadWatchersCleared = "dead_watchers_cleared",
        ResponsePacketCacheHits = "response_packet_cache_hits",
        BytesReceivedCount = "bytes_received_count",
        AddDeadWatcherStallTime = "add_dead_watcher_stall_time",
        RequestThrottleWaitCount = "request_throttle_wait_count",
        RequestsNotForwardedToCommitProcessor = "requests_not_forwarded_to_commit_processor",
        ResponsePacketCacheMisses = "response_packet_cache_misses",
        EnsembleAuthSuccess = "ensemble_auth_success",
        PrepProcessorRequestQueued = "prep_processor_request_queued",
        LearnerCommitReceivedCount = "learner_commit_received_count",
        StaleReplies = "stale_replies",
        ConnectionRequestCount = "connection_request_count",
        ResponseBytes = "response_bytes",
        EnsembleAuthFail = "ensemble_auth_fail",
        DiffCount = "diff_count",
        ResponsePacketGetChildrenCacheMisses = "response_packet_get_children_cache_misses",
        ConnectionRevalidateCount = "connection_revalidate_count",
        QuitLeadingDueToDisloyalVoter = "quit_leading_due_to_disloyal_voter",
        SnapCount = "snap_count",
        UnrecoverableErrorCount = "unrecoverable_error_count",
        UnsuccessfulHandshake = "unsuccessful_handshake",
        CommitCount = "commit_count",
        StaleSessionsExpired = "stale_sessions_expired",
        ResponsePacketGetChildrenCacheHits = "response_packet_get_children_cache_hits",
        SyncProcessorRequestQueued = "sync_processor_request_queued",
        OutstandingChangesQueued = "outstanding_changes_queued",
        RequestCommitQueued = "request_commit_queued",
        EnsembleAuthSkip = "ensemble_auth_skip",
        SkipLearnerRequestToNextProcessorCount = "skip_learner_request_to_next_processor_count",
        TlsHandshakeExceeded = "tls_handshake_exceeded",
        RevalidateCount = "revalidate_count",
    }
}

metric_names! {
    /// Summaries at `DetailLevel.BASIC` (avg/min/max/cnt/sum; one Prometheus quantile).
    pub enum Basic {
        SocketClosingTime = "socket_closing_time",
        ProposalProcessTime = "proposal_process_time",
        LeaderUnavailableTime = "leader_unavailable_time",
        NodeCreatedWatchCount = "node_created_watch_count",
        SessionQueuesDrained = "session_queues_drained",
        WriteCommitProcReqQueued = "write_commit_proc_req_queued",
        ConnectionTokenDeficit = "connection_token_deficit",
        ReadCommitProcReqQueued = "read_commit_proc_req_queued",
        NodeDeletedWatchCount = "node_deleted_watch_count",
        StartupTxnsLoadTime = "startup_txns_load_time",
        SyncProcessorQueueSize = "sync_processor_queue_size",
        FollowerSyncTime = "follower_sync_time",
        PrepProcessorQueueSize = "prep_processor_queue_size",
        FsyncTime = "fsynctime",
        InflightSnapCount = "inflight_snap_count",
        ReadsIssuedFromSessionQueue = "reads_issued_from_session_queue",
        LearnerRequestProcessorQueueSize = "learner_request_processor_queue_size",
        SnapshotTime = "snapshottime",
        UnavailableTime = "unavailable_time",
        StartupTxnsLoaded = "startup_txns_loaded",
        ReadsAfterWriteInSessionQueue = "reads_after_write_in_session_queue",
        RequestsInSessionQueue = "requests_in_session_queue",
        WriteCommitProcIssued = "write_commit_proc_issued",
        PrepProcessTime = "prep_process_time",
        PendingSessionQueueSize = "pending_session_queue_size",
        TimeWaitingEmptyPoolInCommitProcessorReadMs = "time_waiting_empty_pool_in_commit_processor_read_ms",
        CommitProcessTime = "commit_process_time",
        DbInitTime = "dbinittime",
        InflightDiffCount = "inflight_diff_count",
        NettyQueuedBufferCapacity = "netty_queued_buffer_capacity",
        ElectionTime = "election_time",
        CommitCommitProcReqQueued = "commit_commit_proc_req_queued",
        SyncProcessorBatchSize = "sync_processor_batch_size",
        NodeChildrenWatchCount = "node_children_watch_count",
        WriteBatchTimeInCommitProcessor = "write_batch_time_in_commit_processor",
        ReadCommitProcIssued = "read_commit_proc_issued",
        ConcurrentRequestProcessingInCommitProcessor = "concurrent_request_processing_in_commit_processor",
        ObserverSyncTime = "observer_sync_time",
        NodeChangedWatchCount = "node_changed_watch_count",
        SyncProcessTime = "sync_process_time",
        StartupSnapLoadTime = "startup_snap_load_time",
    }
}

metric_names! {
    /// Summaries at `DetailLevel.ADVANCED` (adds p50/p95/p99/p999; three Prometheus
    /// quantiles).
    pub enum Advanced {
        PrepProcessorQueueTimeMs = "prep_processor_queue_time_ms",
        JvmPauseTimeMs = "jvm_pause_time_ms",
        CloseSessionPrepTime = "close_session_prep_time",
        ReadCommitprocTimeMs = "read_commitproc_time_ms",
        UpdateLatency = "updatelatency",
        LocalWriteCommittedTimeMs = "local_write_committed_time_ms",
        RequestThrottleQueueTimeMs = "request_throttle_queue_time_ms",
        ReadLatency = "readlatency",
        QuorumAckLatency = "quorum_ack_latency",
        OmCommitProcessTimeMs = "om_commit_process_time_ms",
        ReadFinalProcTimeMs = "read_final_proc_time_ms",
        CommitPropagationLatency = "commit_propagation_latency",
        DeadWatchersCleanerLatency = "dead_watchers_cleaner_latency",
        WriteFinalProcTimeMs = "write_final_proc_time_ms",
        ProposalAckCreationLatency = "proposal_ack_creation_latency",
        ProposalLatency = "proposal_latency",
        OmProposalProcessTimeMs = "om_proposal_process_time_ms",
        SyncProcessorQueueAndFlushTimeMs = "sync_processor_queue_and_flush_time_ms",
        PropagationLatency = "propagation_latency",
        ServerWriteCommittedTimeMs = "server_write_committed_time_ms",
        SyncProcessorQueueTimeMs = "sync_processor_queue_time_ms",
        SyncProcessorQueueFlushTimeMs = "sync_processor_queue_flush_time_ms",
        WriteCommitprocTimeMs = "write_commitproc_time_ms",
    }
}

/// One value recorded outside the core (the log writer, the snapshot thread, the
/// start-up), sent to it with `Input::Samples`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sample {
    Count(Counter, i64),
    Basic(Basic, i64),
    Advanced(Advanced, i64),
}

/// The values recorded so far (reset by `srst`, as `ServerMetrics.resetAll`).
///
/// Many summaries take a 0 for nearly every request (the core's clock does not move
/// within a step, and its queues are mostly empty): a 0 is only counted when it is
/// recorded, and folded into its summary when the summary is read, which keeps the
/// per-request cost to one increment for those.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    counters: Vec<i64>,
    basic: Vec<SizeSummary>,
    advanced: Vec<SizeSummary>,
    /// Zeros not yet folded in: the BASIC summaries' first, then the ADVANCED ones'.
    zeros: Vec<u64>,
    /// Nothing is recorded: only for measuring what recording costs (`ops_bench`);
    /// a server always records.
    paused: bool,
}

impl Default for Recorded {
    fn default() -> Self {
        Recorded {
            counters: vec![0; Counter::ALL.len()],
            basic: vec![SizeSummary::default(); Basic::ALL.len()],
            advanced: vec![SizeSummary::default(); Advanced::ALL.len()],
            zeros: vec![0; Basic::ALL.len() + Advanced::ALL.len()],
            paused: false,
        }
    }
}

impl Recorded {
    pub fn pause(&mut self, paused: bool) {
        self.paused = paused;
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Adds `n` to a counter (`Counter.add`).
    #[inline]
    pub fn count(&mut self, c: Counter, n: i64) {
        if self.paused {
            return;
        }
        if let Some(v) = self.counters.get_mut(c as usize) {
            *v = v.saturating_add(n);
        }
    }

    /// Adds a value to a BASIC summary (`AvgMinMaxCounter.add`).
    #[inline]
    pub fn add(&mut self, s: Basic, v: i64) {
        if self.paused {
            return;
        }
        if v == 0 {
            if let Some(z) = self.zeros.get_mut(s as usize) {
                *z += 1;
            }
        } else if let Some(x) = self.basic.get_mut(s as usize) {
            x.add(v);
        }
    }

    /// Adds a value to an ADVANCED summary (`AvgMinMaxPercentileCounter.add`).
    #[inline]
    pub fn time(&mut self, s: Advanced, v: i64) {
        if self.paused {
            return;
        }
        if v == 0 {
            if let Some(z) = self.zeros.get_mut(Basic::ALL.len() + s as usize) {
                *z += 1;
            }
        } else if let Some(x) = self.advanced.get_mut(s as usize) {
            x.add(v);
        }
    }

    pub fn counter(&self, c: Counter) -> i64 {
        self.counters.get(c as usize).copied().unwrap_or(0)
    }

    /// A BASIC summary with every value recorded so far.
    pub fn basic(&self, s: Basic) -> SizeSummary {
        let mut x = self.basic[s as usize].clone();
        x.add_zeros(self.zeros[s as usize]);
        x
    }

    /// An ADVANCED summary with every value recorded so far.
    pub fn advanced(&self, s: Advanced) -> SizeSummary {
        let mut x = self.advanced[s as usize].clone();
        x.add_zeros(self.zeros[Basic::ALL.len() + s as usize]);
        x
    }

    pub fn record(&mut self, sample: Sample) {
        match sample {
            Sample::Count(c, n) => self.count(c, n),
            Sample::Basic(b, v) => self.add(b, v),
            Sample::Advanced(a, v) => self.time(a, v),
        }
    }

    /// Adds everything `other` recorded (values a shell collected apart, such as the
    /// start-up timings, join the core's).
    pub fn merge(&mut self, other: &Recorded) {
        for (a, b) in self.counters.iter_mut().zip(&other.counters) {
            *a = a.saturating_add(*b);
        }
        for (a, b) in self
            .basic
            .iter_mut()
            .chain(self.advanced.iter_mut())
            .zip(other.basic.iter().chain(&other.advanced))
        {
            a.merge(b);
        }
        for (a, b) in self.zeros.iter_mut().zip(&other.zeros) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found_back() {
        let mut all: Vec<&str> = Counter::ALL.iter().map(|c| c.name()).collect();
        all.extend(Basic::ALL.iter().map(|c| c.name()));
        all.extend(Advanced::ALL.iter().map(|c| c.name()));
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n);
        assert_eq!(Basic::from_name("fsynctime"), Some(Basic::FsyncTime));
        assert_eq!(Counter::from_name("nope"), None);
    }

    #[test]
    fn values_land_in_their_metric_and_merge_adds_them() {
        let mut r = Recorded::default();
        r.count(Counter::BytesReceivedCount, 40);
        r.add(Basic::FsyncTime, 3);
        r.time(Advanced::PropagationLatency, 7);
        r.time(Advanced::PropagationLatency, 0);
        let mut total = Recorded::default();
        total.add(Basic::FsyncTime, 1);
        total.merge(&r);
        total.record(Sample::Count(Counter::BytesReceivedCount, 2));
        assert_eq!(total.counter(Counter::BytesReceivedCount), 42);
        let f = total.basic(Basic::FsyncTime);
        assert_eq!((f.histogram.count, f.min, f.max), (2, 1, 3));
        let p = total.advanced(Advanced::PropagationLatency);
        assert_eq!(
            (
                p.histogram.count,
                p.histogram.sum,
                p.min,
                p.max,
                p.histogram.counts[0]
            ),
            (2, 7, 0, 7, 1)
        );
        total.add(Basic::FsyncTime, 0);
        let f = total.basic(Basic::FsyncTime);
        assert_eq!((f.histogram.count, f.min, f.max), (3, 0, 3));
    }
}
