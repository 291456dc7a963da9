import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
 * The Java client over TLS the way ZooKeeper users set it up: zookeeper.client.secure,
 * ClientCnxnSocketNetty and zookeeper.ssl.* key/trust stores, one key store per identity.
 * The server authenticates clients by certificate (x509) and needs one (ssl.clientAuth=need).
 */
public final class TlsSuite {
    static final String ALICE = "CN=alice,OU=ZooKeeper,O=Apache,C=US";
    static String pki;
    static String password;

    public static void main(String[] args) throws Exception {
        String secure = args[0];
        String plain = System.getProperty("tls.plain");
        pki = System.getProperty("tls.pki");
        password = System.getProperty("tls.password");
        Harness h = new Harness();
        String path = "/tls-" + System.nanoTime();
        h.check("tls_connect_create_read", () -> {
            ZooKeeper zk = connect(secure, "alice");
            try {
                zk.create(path, "hello".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                Harness.equal("hello", new String(zk.getData(path, false, null)), "data read back over TLS");
            } finally {
                zk.close();
            }
        });
        h.check("tls_and_plain_ports_share_the_tree", () -> {
            ZooKeeper zk = connectPlain(plain);
            try {
                Harness.equal("hello", new String(zk.getData(path, false, null)), "plain port sees the TLS write");
            } finally {
                zk.close();
            }
        });
        h.check("tls_whoami_shows_the_x509_subject", () -> {
            ZooKeeper zk = connect(secure, "alice");
            try {
                List<ClientInfo> who = zk.whoAmI();
                boolean found = who.stream().anyMatch(c -> c.getAuthScheme().equals("x509") && c.getUser().equals(ALICE));
                Harness.require(found, "whoAmI lists x509:" + ALICE + ", got " + who);
            } finally {
                zk.close();
            }
        });
        h.check("tls_x509_acl_is_enforced", () -> {
            ZooKeeper alice = connect(secure, "alice");
            ZooKeeper bob = connect(secure, "bob");
            ZooKeeper anon = connectPlain(plain);
            try {
                String mine = path + "-alice";
                List<ACL> acl = new ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, new Id("x509", ALICE))));
                alice.create(mine, "secret".getBytes(), acl, CreateMode.PERSISTENT);
                Harness.equal("secret", new String(alice.getData(mine, false, null)), "alice reads her node");
                Harness.equal(acl, alice.getACL(mine, null), "the ACL as stored");
                for (ZooKeeper other : List.of(bob, anon)) {
                    try {
                        other.getData(mine, false, null);
                        throw new AssertionError("a client that is not " + ALICE + " read the node");
                    } catch (KeeperException.NoAuthException expected) {
                        // as Apache ZooKeeper answers
                    }
                }
            } finally {
                alice.close();
                bob.close();
                anon.close();
            }
        });
        h.check("tls_x509_super_user_reads_everything", () -> {
            ZooKeeper root = connect(secure, "root");
            try {
                Harness.equal("secret", new String(root.getData(path + "-alice", false, null)), "super reads alice's node");
                List<ClientInfo> who = root.whoAmI();
                Harness.require(who.stream().anyMatch(c -> c.getAuthScheme().equals("super")), "whoAmI lists super, got " + who);
                Harness.require(who.stream().anyMatch(c -> c.getAuthScheme().equals("x509") && c.getUser().equals("CN=root")),
                    "whoAmI lists x509:CN=root, got " + who);
            } finally {
                root.close();
            }
        });
        h.check("tls_without_a_certificate_is_refused", () -> refused(secure, null));
        h.check("tls_untrusted_certificate_is_refused", () -> refused(secure, "mallory"));
        System.exit(h.finish());
    }

    static ZKClientConfig tlsConfig(String identity) {
        ZKClientConfig c = new ZKClientConfig();
        c.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
        c.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNetty");
        c.setProperty("zookeeper.ssl.trustStore.location", pki + "/trust.p12");
        c.setProperty("zookeeper.ssl.trustStore.password", password);
        c.setProperty("zookeeper.ssl.trustStore.type", "PKCS12");
        if (identity != null) {
            c.setProperty("zookeeper.ssl.keyStore.location", pki + "/" + identity + ".p12");
            c.setProperty("zookeeper.ssl.keyStore.password", password);
            c.setProperty("zookeeper.ssl.keyStore.type", "PKCS12");
        }
        return c;
    }

    static ZooKeeper connect(String connect, String identity) throws Exception {
        return open(connect, tlsConfig(identity), 20);
    }

    static ZooKeeper connectPlain(String connect) throws Exception {
        return open(connect, new ZKClientConfig(), 20);
    }

    static ZooKeeper open(String connect, ZKClientConfig cfg, int seconds) throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 10000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                up.countDown();
            }
        }, cfg);
        if (!up.await(seconds, TimeUnit.SECONDS)) {
            zk.close();
            throw new AssertionError("no session within " + seconds + " s");
        }
        return zk;
    }

    /** The handshake fails, so no session comes up (the client keeps retrying). */
    static void refused(String connect, String identity) throws Exception {
        ZooKeeper zk;
        try {
            zk = open(connect, tlsConfig(identity), 6);
        } catch (AssertionError expected) {
            return;
        }
        zk.close();
        throw new AssertionError("a session was established");
    }
}
