import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.StatsTrack;
import org.apache.zookeeper.cli.SetQuotaCommand;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

/**
 * Workloads that leave every txn type in a dataDir, and a dump of the whole tree (data,
 * Stat, ACL of every znode) for comparing what two servers serve on the same dataDir.
 *
 *   DatadirTool first  <connect>            writes, leaves a live session with an ephemeral
 *   DatadirTool second <connect>            writes more on top
 *   DatadirTool dump   <connect> <file>     one line per znode, sorted by path
 */
public final class DatadirTool {
    private static final byte[] B = "v".getBytes(StandardCharsets.UTF_8);
    private static final List<ACL> OPEN = ZooDefs.Ids.OPEN_ACL_UNSAFE;

    static ZooKeeper connect(String hosts, int timeoutMs) throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(hosts, timeoutMs, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                up.countDown();
            }
        });
        if (!up.await(20, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no session with " + hosts);
        }
        return zk;
    }

    static void first(String hosts) throws Exception {
        ZooKeeper zk = connect(hosts, 40000);
        zk.create("/app", "root".getBytes(StandardCharsets.UTF_8), OPEN, CreateMode.PERSISTENT);
        zk.create("/app/p", B, OPEN, CreateMode.PERSISTENT);
        zk.create("/app/empty", new byte[0], OPEN, CreateMode.PERSISTENT);
        zk.create("/app/nulldata", null, OPEN, CreateMode.PERSISTENT);
        String firstSeq = zk.create("/app/seq-", B, OPEN, CreateMode.PERSISTENT_SEQUENTIAL);
        zk.create("/app/seq-", B, OPEN, CreateMode.PERSISTENT_SEQUENTIAL);
        zk.create("/app/eph", B, OPEN, CreateMode.EPHEMERAL);
        zk.create("/app/ephseq-", B, OPEN, CreateMode.EPHEMERAL_SEQUENTIAL);
        zk.create("/cont", B, OPEN, CreateMode.CONTAINER);
        zk.create("/cont/child", B, OPEN, CreateMode.PERSISTENT);
        zk.create("/ttl", B, OPEN, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 3_600_000L);
        zk.create("/ttlseq-", B, OPEN, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, new Stat(), 3_600_000L);
        zk.setData("/app/p", "two".getBytes(StandardCharsets.UTF_8), -1);
        zk.setData("/app/p", "three".getBytes(StandardCharsets.UTF_8), 1);
        zk.create("/gone", B, OPEN, CreateMode.PERSISTENT);
        zk.delete("/gone", -1);
        zk.addAuthInfo("digest", "alice:secret".getBytes(StandardCharsets.UTF_8));
        zk.create("/secure", B, ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        zk.setACL("/app/empty", Arrays.asList(new ACL(ZooDefs.Perms.READ, new Id("world", "anyone")),
                new ACL(ZooDefs.Perms.ALL, new Id("ip", "127.0.0.1"))), -1);
        zk.multi(Arrays.asList(
                Op.create("/multi", B, OPEN, CreateMode.PERSISTENT),
                Op.create("/multi/a", B, OPEN, CreateMode.PERSISTENT),
                Op.check("/app/p", 2),
                Op.setData("/multi", "m".getBytes(StandardCharsets.UTF_8), 0),
                Op.delete(firstSeq, -1)));
        expectFailure(() -> zk.multi(Arrays.asList(
                Op.create("/never", B, OPEN, CreateMode.PERSISTENT),
                Op.check("/app/p", 99))));
        expectFailure(() -> zk.create("/app", B, OPEN, CreateMode.PERSISTENT));
        expectFailure(() -> zk.setData("/app/p", B, 42));
        StatsTrack quota = new StatsTrack();
        quota.setCount(10);
        quota.setBytes(1000L);
        SetQuotaCommand.createQuota(zk, "/app", quota);
        ZooKeeper closed = connect(hosts, 30000);
        closed.create("/closed-eph", B, OPEN, CreateMode.EPHEMERAL);
        closed.close();
        // Exit without closing `zk`: its session and ephemerals stay alive in the dataDir.
        System.out.println("first workload done, live session 0x" + Long.toHexString(zk.getSessionId()));
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    static void second(String hosts) throws Exception {
        ZooKeeper zk = connect(hosts, 30000);
        zk.create("/after", "from the second server".getBytes(StandardCharsets.UTF_8), OPEN, CreateMode.PERSISTENT);
        zk.create("/app/seq-", B, OPEN, CreateMode.PERSISTENT_SEQUENTIAL);
        zk.setData("/app/p", "four".getBytes(StandardCharsets.UTF_8), -1);
        zk.delete("/multi/a", -1);
        zk.create("/cont/child2", B, OPEN, CreateMode.PERSISTENT);
        zk.create("/app/eph2", B, OPEN, CreateMode.EPHEMERAL);
        zk.multi(Arrays.asList(Op.create("/after/x", B, OPEN, CreateMode.PERSISTENT), Op.delete("/ttl", -1)));
        zk.setACL("/after", ZooDefs.Ids.READ_ACL_UNSAFE, 0);
        zk.create("/ttl2", B, OPEN, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 3_600_000L);
        for (int i = 0; i < 50; i++) {
            zk.create("/bulk-" + i, ("n" + i).getBytes(StandardCharsets.UTF_8), OPEN, CreateMode.PERSISTENT);
        }
        System.out.println("second workload done, live session 0x" + Long.toHexString(zk.getSessionId()));
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    interface Failing {
        void run() throws Exception;
    }

    static void expectFailure(Failing f) throws Exception {
        try {
            f.run();
        } catch (KeeperException expected) {
            return;
        }
        throw new IllegalStateException("expected a failure");
    }

    static void dump(String hosts, String file) throws Exception {
        ZooKeeper zk = connect(hosts, 30000);
        zk.addAuthInfo("digest", "super:test".getBytes(StandardCharsets.UTF_8));
        List<String> lines = new ArrayList<>();
        walk(zk, "/", lines);
        Collections.sort(lines);
        try (PrintWriter out = new PrintWriter(file, "UTF-8")) {
            for (String l : lines) {
                out.println(l);
            }
        }
        zk.close();
        System.out.println("dumped " + lines.size() + " znodes");
    }

    static void walk(ZooKeeper zk, String path, List<String> out) throws Exception {
        Stat stat = new Stat();
        byte[] data = zk.getData(path, false, stat);
        List<ACL> acl = zk.getACL(path, new Stat());
        out.add(path + " data=" + hex(data) + " stat=" + stat.toString().trim().replace('\n', ' ')
                + " acl=" + acl.toString().replace('\n', ' '));
        List<String> children = zk.getChildren(path, false);
        Collections.sort(children);
        for (String c : children) {
            walk(zk, path.equals("/") ? "/" + c : path + "/" + c, out);
        }
    }

    static String hex(byte[] b) {
        if (b == null) {
            return "null";
        }
        StringBuilder s = new StringBuilder("#");
        for (byte x : b) {
            s.append(String.format("%02x", x));
        }
        return s.toString();
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "first":
                first(args[1]);
                break;
            case "second":
                second(args[1]);
                break;
            case "dump":
                dump(args[1], args[2]);
                break;
            default:
                throw new IllegalArgumentException(args[0]);
        }
    }
}
