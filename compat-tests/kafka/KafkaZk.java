import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * One Kafka broker's ZooKeeper handle, doing what kafka.zk.KafkaZkClient and
 * kafka.zookeeper.ZooKeeperClient do: recursive persistent creates, ephemeral registrations, and
 * controller writes wrapped in multi(check(/controller_epoch, zkVersion), op).
 */
final class KafkaZk implements AutoCloseable {
    static final String CONTROLLER = "/controller";
    static final String CONTROLLER_EPOCH = "/controller_epoch";

    final String name;
    final ZooKeeper zk;
    /** Session-state events seen by the handle's default watcher. */
    final BlockingQueue<Watcher.Event.KeeperState> states = new LinkedBlockingQueue<>();

    private KafkaZk(String name, ZooKeeper zk) {
        this.name = name;
        this.zk = zk;
    }

    static KafkaZk connect(String name, String connect, int sessionTimeoutMs) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        AtomicReference<KafkaZk> self = new AtomicReference<>();
        Watcher w = e -> {
            if (e.getType() == Watcher.Event.EventType.None) {
                if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                    connected.countDown();
                }
                KafkaZk k = self.get();
                if (k != null) {
                    k.states.add(e.getState());
                }
            }
        };
        ZooKeeper zk = new ZooKeeper(connect, sessionTimeoutMs, w);
        self.set(new KafkaZk(name, zk));
        Harness.await(connected, 15, name + " connection");
        return self.get();
    }

    static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** KafkaZkClient.createRecursive: create, on NoNode create the parent first, NodeExists is fine. */
    void createRecursive(String path, byte[] data) throws Exception {
        try {
            zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException.NoNodeException e) {
            createRecursive(path.substring(0, path.lastIndexOf('/')), null);
            try {
                zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            } catch (KeeperException.NodeExistsException ignored) {
                // made concurrently
            }
        } catch (KeeperException.NodeExistsException e) {
            // KafkaZkClient.makeSurePersistentPathExists tolerates existing paths
        }
    }

    /** The asynchronous multi ZooKeeperClient sends; returns (rc, per-op results). */
    MultiOutcome multiAsync(List<Op> ops) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        MultiOutcome out = new MultiOutcome();
        zk.multi(ops, (rc, path, ctx, results) -> {
            out.rc = rc;
            out.results = results;
            done.countDown();
        }, null);
        Harness.await(done, 10, name + " multi callback");
        return out;
    }

    /** ZooKeeperClient.wrapRequestWithControllerEpochCheck: the write fenced by the epoch's zkVersion. */
    MultiOutcome fenced(int epochZkVersion, Op op) throws InterruptedException {
        return multiAsync(List.of(Op.check(CONTROLLER_EPOCH, epochZkVersion), op));
    }

    static String controllerJson(int brokerId) {
        return "{\"version\":1,\"brokerid\":" + brokerId + ",\"timestamp\":\"1700000000000\"}";
    }

    /**
     * KafkaZkClient.registerControllerAndIncrementControllerEpoch: /controller (ephemeral) and the
     * bumped /controller_epoch in one multi guarded by the epoch version read before.
     */
    MultiOutcome elect(int brokerId, int newEpoch, int epochZkVersion) throws InterruptedException {
        return multiAsync(List.of(
                Op.create(CONTROLLER, bytes(controllerJson(brokerId)), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL),
                Op.setData(CONTROLLER_EPOCH, bytes(Integer.toString(newEpoch)), epochZkVersion)));
    }

    /** A one-shot watch that records event types; `events` collects them in arrival order. */
    static final class EventWatch implements Watcher {
        final BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();

        @Override
        public void process(WatchedEvent e) {
            if (e.getType() != Event.EventType.None) {
                events.add(e);
            }
        }

        WatchedEvent next(long seconds, String what) throws InterruptedException {
            WatchedEvent e = events.poll(seconds, TimeUnit.SECONDS);
            if (e == null) {
                throw new AssertionError("no watch event for " + what + " within " + seconds + " s");
            }
            return e;
        }
    }

    static List<Integer> codes(List<OpResult> results) {
        List<Integer> codes = new ArrayList<>();
        for (OpResult r : results) {
            codes.add(r instanceof OpResult.ErrorResult ? ((OpResult.ErrorResult) r).getErr() : 0);
        }
        return codes;
    }

    static List<String> kinds(List<OpResult> results) {
        List<String> kinds = new ArrayList<>();
        for (OpResult r : results) {
            kinds.add(r.getClass().getSimpleName());
        }
        return kinds;
    }

    static final class MultiOutcome {
        int rc;
        List<OpResult> results;
    }

    @Override
    public void close() throws InterruptedException {
        zk.close();
    }
}
