import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;

/**
 * SASL DIGEST-MD5 the way ZooKeeper users set it up: the server has a JAAS `Server` section
 * with user_<name>="<password>" entries, the client a `Client` section with
 * DigestLoginModule username/password, chosen per client with zookeeper.sasl.clientconfig.
 */
public final class SaslSuite {
    public static void main(String[] args) throws Exception {
        String connect = args[0];
        Harness h = new Harness();
        h.check("sasl_login_and_whoami", () -> {
            ZooKeeper zk = connect(connect, "Client", Watcher.Event.KeeperState.SaslAuthenticated);
            try {
                List<ClientInfo> who = zk.whoAmI();
                boolean found = who.stream().anyMatch(c -> c.getAuthScheme().equals("sasl") && c.getUser().equals("bob"));
                Harness.require(found, "whoAmI lists sasl:bob, got " + who);
            } finally {
                zk.close();
            }
        });
        h.check("sasl_acl_admits_only_the_sasl_user", () -> {
            ZooKeeper bob = connect(connect, "Client", Watcher.Event.KeeperState.SaslAuthenticated);
            ZooKeeper anon = connect(connect, null, Watcher.Event.KeeperState.SyncConnected);
            try {
                List<ACL> acl = new java.util.ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, new Id("sasl", "bob"))));
                String path = "/sasl-" + System.nanoTime();
                bob.create(path, "secret".getBytes(), acl, CreateMode.PERSISTENT);
                Harness.equal("secret", new String(bob.getData(path, false, null)), "bob reads his node");
                try {
                    anon.getData(path, false, null);
                    throw new AssertionError("an unauthenticated client read a sasl:bob node");
                } catch (KeeperException.NoAuthException expected) {
                    // as Apache ZooKeeper answers
                }
                bob.delete(path, -1);
            } finally {
                bob.close();
                anon.close();
            }
        });
        h.check("sasl_wrong_password_is_auth_failed", () -> {
            ZooKeeper zk = connect(connect, "BadClient", Watcher.Event.KeeperState.AuthFailed);
            zk.close();
        });
        System.exit(h.finish());
    }

    /** Connects and waits for `want` (SaslAuthenticated, AuthFailed or SyncConnected). */
    static ZooKeeper connect(String connect, String section, Watcher.Event.KeeperState want) throws Exception {
        CountDownLatch reached = new CountDownLatch(1);
        ZKClientConfig conf = new ZKClientConfig();
        if (section == null) {
            conf.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
        } else {
            conf.setProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, section);
        }
        ZooKeeper zk = new ZooKeeper(connect, 30000, e -> {
            if (e.getState() == want) {
                reached.countDown();
            }
        }, conf);
        Harness.await(reached, 20, "state " + want);
        return zk;
    }
}
