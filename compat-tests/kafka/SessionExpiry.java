import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * The controller broker's session expires: its registration and /controller go, the watches of the
 * other broker fire, the other broker takes over with a new epoch, and the old controller's next
 * fenced write fails with one result per op.
 */
final class SessionExpiry {
    private final KafkaSuite s;
    private final Harness h;

    SessionExpiry(KafkaSuite s) {
        this.s = s;
        this.h = s.h;
    }

    /**
     * Ends the session from outside, as Kafka's own tests do: a second handle attaches to the same
     * session id and password, then closes it. The first handle then finds its session expired.
     */
    void expire(KafkaZk victim) throws Exception {
        CountDownLatch attached = new CountDownLatch(1);
        ZooKeeper twin = new ZooKeeper(s.connect, 6000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                attached.countDown();
            }
        }, victim.zk.getSessionId(), victim.zk.getSessionPasswd());
        try {
            Harness.await(attached, 15, "second handle on the same session");
            Harness.equal(victim.zk.getSessionId(), twin.getSessionId(), "same session id");
        } finally {
            twin.close();
        }
    }

    void run() throws Exception {
        KafkaZk.EventWatch idsWatch = new KafkaZk.EventWatch();
        KafkaZk.EventWatch controllerWatch = s.controllerWatch;
        int[] newEpochVersion = {-1};
        h.check("session_expiry_removes_broker", () -> {
            s.broker2.zk.getChildren("/brokers/ids", idsWatch);
            expire(s.broker1);
            Harness.equal(Watcher.Event.EventType.NodeChildrenChanged,
                    idsWatch.next(15, "/brokers/ids children").getType(), "event type");
            Harness.equal(List.of("2"), s.broker2.zk.getChildren("/brokers/ids", false), "registered brokers");
        });
        h.check("session_expiry_deletes_controller", () -> {
            Harness.equal(Watcher.Event.EventType.NodeDeleted,
                    controllerWatch.next(15, "/controller").getType(), "event type");
            Harness.require(s.broker2.zk.exists(KafkaZk.CONTROLLER, false) == null, "/controller gone");
        });
        h.check("expired_handle_sees_expired", () -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                long left = deadline - System.nanoTime();
                Watcher.Event.KeeperState st = left > 0 ? s.broker1.states.poll(left, TimeUnit.NANOSECONDS) : null;
                if (st == null) {
                    throw new AssertionError("no Expired state on the old handle within 30 s");
                }
                if (st == Watcher.Event.KeeperState.Expired) {
                    break;
                }
            }
            try {
                s.broker1.zk.exists("/", false);
                throw new AssertionError("an expired handle still answers");
            } catch (KeeperException.SessionExpiredException e) {
                // ZooKeeperClient then builds a new handle
            }
        });
        h.check("controller_failover_new_epoch", () -> {
            Stat st = new Stat();
            int epoch = Integer.parseInt(KafkaZk.text(s.broker2.zk.getData(KafkaZk.CONTROLLER_EPOCH, false, st)));
            KafkaZk.MultiOutcome out = s.broker2.elect(2, epoch + 1, st.getVersion());
            Harness.equal(0, out.rc, "rc");
            newEpochVersion[0] = ((OpResult.SetDataResult) out.results.get(1)).getStat().getVersion();
            Harness.equal(s.epochZkVersion + 1, newEpochVersion[0], "epoch zkVersion");
            Harness.equal("2", KafkaZk.text(s.admin.zk.getData(KafkaZk.CONTROLLER_EPOCH, false, null)), "epoch");
        });
        try (KafkaZk stale = KafkaZk.connect("broker1-reconnected", s.connect, 6000)) {
            staleController(stale, newEpochVersion);
        }
    }

    void staleController(KafkaZk stale, int[] newEpochVersion) {
        List<Integer> fencedCodes = List.of(KeeperException.Code.BADVERSION.intValue(),
                KeeperException.Code.RUNTIMEINCONSISTENCY.intValue());
        h.check("stale_controller_fenced_async", () -> {
            KafkaZk.MultiOutcome out = stale.fenced(s.epochZkVersion, Op.setData("/brokers/seqid", KafkaZk.bytes("x"), -1));
            Harness.equal(KeeperException.Code.BADVERSION.intValue(), out.rc, "rc");
            Harness.equal(List.of("ErrorResult", "ErrorResult"), KafkaZk.kinds(out.results), "result kinds");
            Harness.equal(fencedCodes, KafkaZk.codes(out.results), "per-op codes");
        });
        h.check("stale_controller_fenced_sync", () -> {
            try {
                stale.zk.multi(List.of(Op.check(KafkaZk.CONTROLLER_EPOCH, s.epochZkVersion),
                        Op.setData("/brokers/seqid", KafkaZk.bytes("x"), -1)));
                throw new AssertionError("fenced multi succeeded");
            } catch (KeeperException.BadVersionException e) {
                Harness.equal(fencedCodes, KafkaZk.codes(e.getResults()), "per-op codes");
            }
        });
        h.check("multi_failure_results_per_op", () -> {
            Stat before = s.admin.zk.exists("/brokers/seqid", false);
            try {
                stale.zk.multi(List.of(Op.setData("/brokers/seqid", KafkaZk.bytes("a"), -1),
                        Op.check(KafkaZk.CONTROLLER_EPOCH, s.epochZkVersion),
                        Op.setData("/latest_producer_id_block", KafkaZk.bytes("b"), -1)));
                throw new AssertionError("multi with a stale check succeeded");
            } catch (KeeperException.BadVersionException e) {
                Harness.equal(List.of(0, KeeperException.Code.BADVERSION.intValue(),
                        KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()), KafkaZk.codes(e.getResults()), "per-op codes");
                Harness.equal(List.of("ErrorResult", "ErrorResult", "ErrorResult"), KafkaZk.kinds(e.getResults()), "result kinds");
            }
            Harness.equal(before.getVersion(), s.admin.zk.exists("/brokers/seqid", false).getVersion(), "nothing applied");
        });
        h.check("new_controller_write_passes_fence", () -> {
            KafkaZk.MultiOutcome out = s.broker2.fenced(newEpochVersion[0], Op.setData("/brokers/seqid", new byte[0], -1));
            Harness.equal(0, out.rc, "rc");
        });
    }
}
