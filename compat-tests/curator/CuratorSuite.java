import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;

/**
 * What Dubbo's ZooKeeper registry and its neighbours do through Curator 5.4, one named check per
 * feature, against the server at argv[0].
 */
public final class CuratorSuite {
    static final String BASE = "/curator-compat";

    private final String connect;
    private final List<CuratorFramework> clients = new ArrayList<>();

    CuratorSuite(String connect) {
        this.connect = connect;
    }

    /** A started client, connected, closed at the end of the run unless a check closes it first. */
    CuratorFramework client() throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(15000)
                .connectionTimeoutMs(10000)
                .retryPolicy(new RetryNTimes(3, 500))
                .build();
        synchronized (clients) {
            clients.add(c);
        }
        c.start();
        Harness.require(c.blockUntilConnected(15, TimeUnit.SECONDS), "client connects within 15 s");
        return c;
    }

    static long sessionId(CuratorFramework c) throws Exception {
        return c.getZookeeperClient().getZooKeeper().getSessionId();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** A one-shot watch (exists) whose latch opens when `path` is deleted. */
    static CountDownLatch deletion(CuratorFramework c, String path) throws Exception {
        CountDownLatch gone = new CountDownLatch(1);
        CuratorWatcher w = e -> {
            if (e.getType() == Watcher.Event.EventType.NodeDeleted) {
                gone.countDown();
            }
        };
        Harness.require(c.checkExists().usingWatcher(w).forPath(path) != null, path + " exists before");
        return gone;
    }

    /** A one-shot child watch whose latch opens on the next children change of `path`. */
    static CountDownLatch childChange(CuratorFramework c, String path) throws Exception {
        CountDownLatch changed = new CountDownLatch(1);
        CuratorWatcher w = e -> {
            if (e.getType() == Watcher.Event.EventType.NodeChildrenChanged) {
                changed.countDown();
            }
        };
        c.getChildren().usingWatcher(w).forPath(path);
        return changed;
    }

    void closeAll() {
        synchronized (clients) {
            for (CuratorFramework c : clients) {
                try {
                    c.close();
                } catch (RuntimeException e) {
                    // already closed by a check
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: CuratorSuite <host:port>");
            System.exit(2);
        }
        Harness h = new Harness();
        CuratorSuite s = new CuratorSuite(args[0]);
        int rc;
        try {
            CuratorFramework admin = s.client();
            try {
                admin.create().forPath(BASE);
            } catch (KeeperException.NodeExistsException e) {
                // left by an earlier run against the same server
            }
            new RecipeChecks(s, h).run();
            new DiscoveryChecks(s, h).run();
            new DubboChecks(s, h).run();
            new TransactionChecks(s, h).run();
        } catch (Exception e) {
            h.fail("curator_setup", Harness.describe(e));
        } finally {
            rc = h.finish();
            s.closeAll();
        }
        System.exit(rc);
    }
}
