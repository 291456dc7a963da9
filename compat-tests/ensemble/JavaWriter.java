import java.io.FileWriter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * The Java client as a writer for the ensemble suite: creates /w/java-N through the
 * whole ensemble until the file named by args[2] exists, retrying through connection
 * loss, and appends every acknowledged path to args[1]. A session that expires is
 * replaced (its writes so far stay acknowledged).
 */
public class JavaWriter {
    public static void main(String[] args) throws Exception {
        String hosts = args[0];
        Path stop = Path.of(args[2]);
        try (PrintWriter acked = new PrintWriter(new FileWriter(args[1], true), true)) {
            ZooKeeper zk = connect(hosts);
            int i = 0;
            while (!Files.exists(stop)) {
                String path = "/w/java-" + i;
                try {
                    zk.create(path, new byte[] {1}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                } catch (KeeperException.NodeExistsException e) {
                    // an earlier attempt went through before the connection was lost
                } catch (KeeperException.NoNodeException e) {
                    ensureParent(zk);
                    continue;
                } catch (KeeperException.SessionExpiredException e) {
                    zk.close();
                    zk = connect(hosts);
                    continue;
                } catch (KeeperException e) {
                    Thread.sleep(50);
                    continue;
                }
                acked.println(path);
                i++;
                Thread.sleep(5);
            }
            zk.close();
        }
    }

    static void ensureParent(ZooKeeper zk) throws InterruptedException {
        try {
            zk.create("/w", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } catch (KeeperException e) {
            Thread.sleep(50);
        }
    }

    static ZooKeeper connect(String hosts) throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        Watcher w = (WatchedEvent e) -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                up.countDown();
            }
        };
        ZooKeeper zk = new ZooKeeper(hosts, 10000, w);
        up.await(60, TimeUnit.SECONDS);
        return zk;
    }
}
