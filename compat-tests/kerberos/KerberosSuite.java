import java.util.ArrayList;
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
 * SASL GSSAPI the way secured Kafka deployments set it up: the server's JAAS `Server` section
 * logs in zookeeper/localhost from a keytab, clients log in with Krb5LoginModule from their own
 * keytab (JAAS section chosen per client with zookeeper.sasl.clientconfig). The server was
 * started with -Dzookeeper.superUser=admin@EXAMPLE.COM; a second one (system property
 * kerberos.suite.norealm) with kerberos.removeRealmFromPrincipal=true in zoo.cfg, a third
 * (kerberos.suite.rules) with -Dzookeeper.security.auth_to_local=
 * RULE:[1:$1](client)s/(.*)/app-$1/DEFAULT.
 */
public final class KerberosSuite {
    static final String CLIENT = "client@EXAMPLE.COM";

    public static void main(String[] args) throws Exception {
        String connect = args[0];
        String noRealm = System.getProperty("kerberos.suite.norealm");
        String rules = System.getProperty("kerberos.suite.rules");
        Harness h = new Harness();
        h.check("kerberos_login_and_whoami", () -> {
            ZooKeeper zk = connect(connect, "Client", Watcher.Event.KeeperState.SaslAuthenticated);
            try {
                List<ClientInfo> who = zk.whoAmI();
                System.out.println("kerberos: whoAmI " + describe(who));
                Harness.require(has(who, "sasl", CLIENT), "whoAmI lists sasl:" + CLIENT + ", got " + describe(who));
            } finally {
                zk.close();
            }
        });
        h.check("kerberos_acl_admits_only_the_principal", () -> {
            ZooKeeper client = connect(connect, "Client", Watcher.Event.KeeperState.SaslAuthenticated);
            ZooKeeper anon = connect(connect, null, Watcher.Event.KeeperState.SyncConnected);
            try {
                String path = "/krb-" + System.nanoTime();
                client.create(path, "secret".getBytes(), acl(CLIENT), CreateMode.PERSISTENT);
                Harness.equal("secret", new String(client.getData(path, false, null)), "the principal reads its node");
                Harness.equal(acl(CLIENT), client.getACL(path, null), "the stored ACL");
                try {
                    anon.getData(path, false, null);
                    throw new AssertionError("an unauthenticated client read a sasl:" + CLIENT + " node");
                } catch (KeeperException.NoAuthException expected) {
                    // as Apache ZooKeeper answers
                }
                client.delete(path, -1);
            } finally {
                client.close();
                anon.close();
            }
        });
        h.check("kerberos_auth_acl_becomes_the_principal", () -> {
            ZooKeeper client = connect(connect, "Client", Watcher.Event.KeeperState.SaslAuthenticated);
            try {
                String path = "/krb-auth-" + System.nanoTime();
                client.create(path, new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
                Harness.equal(acl(CLIENT), client.getACL(path, null), "auth ACL expanded to the principal");
                client.delete(path, -1);
            } finally {
                client.close();
            }
        });
        h.check("kerberos_super_user_passes_acls", () -> {
            ZooKeeper client = connect(connect, "Client", Watcher.Event.KeeperState.SaslAuthenticated);
            ZooKeeper admin = connect(connect, "Admin", Watcher.Event.KeeperState.SaslAuthenticated);
            try {
                List<ClientInfo> who = admin.whoAmI();
                System.out.println("kerberos: super user whoAmI " + describe(who));
                Harness.require(has(who, "sasl", "admin@EXAMPLE.COM"), "whoAmI lists sasl:admin@EXAMPLE.COM, got " + describe(who));
                String path = "/krb-super-" + System.nanoTime();
                client.create(path, "mine".getBytes(), acl(CLIENT), CreateMode.PERSISTENT);
                Harness.equal("mine", new String(admin.getData(path, false, null)), "the super user reads any node");
                admin.delete(path, -1);
            } finally {
                client.close();
                admin.close();
            }
        });
        h.check("kerberos_digest_client_is_auth_failed", () -> {
            ZooKeeper zk = connect(connect, "DigestClient", Watcher.Event.KeeperState.AuthFailed);
            zk.close();
        });
        h.check("kerberos_remove_realm_from_principal", () -> {
            Harness.require(noRealm != null, "kerberos.suite.norealm is set");
            ZooKeeper zk = connect(noRealm, "Client", Watcher.Event.KeeperState.SaslAuthenticated);
            try {
                List<ClientInfo> who = zk.whoAmI();
                System.out.println("kerberos: removeRealmFromPrincipal whoAmI " + describe(who));
                Harness.require(has(who, "sasl", "client"), "whoAmI lists sasl:client, got " + describe(who));
                String path = "/krb-norealm-" + System.nanoTime();
                zk.create(path, new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
                Harness.equal(acl("client"), zk.getACL(path, null), "auth ACL without the realm");
                zk.delete(path, -1);
            } finally {
                zk.close();
            }
        });
        h.check("kerberos_auth_to_local_rule_maps_the_principal", () -> {
            Harness.require(rules != null, "kerberos.suite.rules is set");
            ZooKeeper zk = connect(rules, "Client", Watcher.Event.KeeperState.SaslAuthenticated);
            ZooKeeper admin = connect(rules, "Admin", Watcher.Event.KeeperState.SaslAuthenticated);
            try {
                List<ClientInfo> who = zk.whoAmI();
                System.out.println("kerberos: auth_to_local whoAmI " + describe(who));
                Harness.require(has(who, "sasl", "app-client@EXAMPLE.COM"),
                    "whoAmI lists sasl:app-client@EXAMPLE.COM, got " + describe(who));
                // DEFAULT, the second rule, still maps the admin and keeps it super.
                List<ClientInfo> adminWho = admin.whoAmI();
                Harness.require(has(adminWho, "sasl", "admin@EXAMPLE.COM"),
                    "whoAmI lists sasl:admin@EXAMPLE.COM, got " + describe(adminWho));
            } finally {
                zk.close();
                admin.close();
            }
        });
        System.exit(h.finish());
    }

    static List<ACL> acl(String saslId) {
        return new ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, new Id("sasl", saslId))));
    }

    static boolean has(List<ClientInfo> who, String scheme, String user) {
        return who.stream().anyMatch(c -> c.getAuthScheme().equals(scheme) && c.getUser().equals(user));
    }

    static String describe(List<ClientInfo> who) {
        StringBuilder b = new StringBuilder();
        for (ClientInfo c : who) {
            b.append(b.length() == 0 ? "" : ", ").append(c.getAuthScheme()).append(':').append(c.getUser());
        }
        return "[" + b + "]";
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
