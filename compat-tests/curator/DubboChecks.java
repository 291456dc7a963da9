import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.cache.PathChildrenCacheEvent;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;

/**
 * Dubbo's ZooKeeper registry layout, done the way its Curator client does it:
 * persistent `/dubbo/<interface>/{providers,consumers,routers,configurators}`, one ephemeral child per
 * URL-encoded provider URL, consumers re-arming a child watch on `providers`, and a children cache.
 */
final class DubboChecks {
    static final String SERVICE = "org.apache.dubbo.demo.DemoService";
    static final String ROOT = "/dubbo/" + SERVICE;
    static final String PROVIDERS = ROOT + "/providers";

    private final CuratorSuite s;
    private final Harness h;

    DubboChecks(CuratorSuite s, Harness h) {
        this.s = s;
        this.h = h;
    }

    static String providerUrl(int port) {
        return "dubbo://127.0.0.1:" + port + "/" + SERVICE + "?anyhost=true&application=demo-provider"
                + "&deprecated=false&dubbo=2.0.2&dynamic=true&generic=false&interface=" + SERVICE
                + "&methods=sayHello,sayHelloAsync&pid=4242&release=3.1.0&side=provider&timestamp=1700000000000";
    }

    static String encode(String url) {
        return URLEncoder.encode(url, StandardCharsets.UTF_8);
    }

    static String decode(String node) {
        return URLDecoder.decode(node, StandardCharsets.UTF_8);
    }

    /** Dubbo's AbstractZookeeperClient.create: persistent parents checked then created one by one. */
    static void createPersistent(CuratorFramework c, String path) throws Exception {
        if (c.checkExists().forPath(path) != null) {
            return;
        }
        int i = path.lastIndexOf('/');
        if (i > 0) {
            createPersistent(c, path.substring(0, i));
        }
        try {
            c.create().forPath(path);
        } catch (KeeperException.NodeExistsException e) {
            // another Dubbo process made it first
        }
    }

    /** Dubbo's createEphemeral: no data given, so Curator stores its default (the local address). */
    static String register(CuratorFramework c, String category, String url) throws Exception {
        String dir = ROOT + "/" + category;
        createPersistent(c, dir);
        String path = dir + "/" + encode(url);
        c.create().withMode(CreateMode.EPHEMERAL).forPath(path);
        return path;
    }

    /** Dubbo's CuratorWatcherImpl: every children event re-lists with a fresh watch and notifies. */
    static final class ChildWatcher implements CuratorWatcher {
        final CuratorFramework client;
        final BlockingQueue<Set<String>> notified = new LinkedBlockingQueue<>();

        ChildWatcher(CuratorFramework client) {
            this.client = client;
        }

        Set<String> list(String path) throws Exception {
            Set<String> urls = new TreeSet<>();
            for (String child : client.getChildren().usingWatcher(this).forPath(path)) {
                urls.add(decode(child));
            }
            return urls;
        }

        @Override
        public void process(WatchedEvent event) throws Exception {
            if (event.getType() != Watcher.Event.EventType.None && event.getPath() != null) {
                notified.add(list(event.getPath()));
            }
        }

        /** Waits (bounded) until a notification lists exactly `want`. */
        void awaitProviders(Set<String> want, long seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            Set<String> last = null;
            while (true) {
                long left = deadline - System.nanoTime();
                Set<String> got = left > 0 ? notified.poll(left, TimeUnit.NANOSECONDS) : null;
                if (got == null) {
                    throw new AssertionError("no notification listing " + want + " (last " + last + ")");
                }
                if (got.equals(want)) {
                    return;
                }
                last = got;
            }
        }
    }

    void run() throws Exception {
        CuratorFramework provider1 = s.client();
        CuratorFramework provider2 = s.client();
        CuratorFramework consumer = s.client();
        ChildWatcher watcher = new ChildWatcher(consumer);
        String url1 = providerUrl(20880);
        String url2 = providerUrl(20881);
        h.check("dubbo_register_provider", () -> {
            String path = register(provider1, "providers", url1);
            Stat st = new Stat();
            byte[] data = consumer.getData().storingStatIn(st).forPath(path);
            Harness.equal(CuratorSuite.sessionId(provider1), st.getEphemeralOwner(), "provider node ephemeral owner");
            Harness.require(data != null && data.length > 0, "Curator's default node data stored");
            Harness.equal(0L, consumer.checkExists().forPath(PROVIDERS).getEphemeralOwner(), "providers dir persistent");
        });
        h.check("dubbo_consumer_subscribes", () -> {
            register(consumer, "consumers", "consumer://127.0.0.1/" + SERVICE + "?category=consumers&side=consumer");
            for (String category : List.of("providers", "configurators", "routers")) {
                createPersistent(consumer, ROOT + "/" + category);
            }
            Harness.equal(Set.of(url1), watcher.list(PROVIDERS), "decoded providers");
            Harness.equal(1, consumer.getChildren().forPath(ROOT + "/consumers").size(), "consumer registered");
        });
        h.check("dubbo_consumer_notified_of_new_provider", () -> {
            register(provider2, "providers", url2);
            watcher.awaitProviders(Set.of(url1, url2), 10);
        });
        h.check("dubbo_consumer_notified_when_provider_session_ends", () -> {
            provider1.close();
            watcher.awaitProviders(Set.of(url2), 10);
        });
        childrenCache(consumer);
    }

    void childrenCache(CuratorFramework consumer) throws Exception {
        String url3 = providerUrl(20882);
        String node3 = encode(url3);
        BlockingQueue<PathChildrenCacheEvent> events = new LinkedBlockingQueue<>();
        PathChildrenCache cache = new PathChildrenCache(consumer, PROVIDERS, true);
        CountDownLatch initialized = new CountDownLatch(1);
        cache.getListenable().addListener((client, event) -> {
            if (event.getType() == PathChildrenCacheEvent.Type.INITIALIZED) {
                initialized.countDown();
            } else {
                events.add(event);
            }
        });
        h.check("dubbo_children_cache_initial", () -> {
            cache.start(PathChildrenCache.StartMode.POST_INITIALIZED_EVENT);
            Harness.await(initialized, 10, "children cache initialization");
            Harness.equal(1, cache.getCurrentData().size(), "cached providers");
            Harness.equal(PROVIDERS + "/" + encode(providerUrl(20881)), cache.getCurrentData().get(0).getPath(), "cached path");
            events.clear();
        });
        CuratorFramework provider3 = s.client();
        h.check("dubbo_children_cache_added_and_removed", () -> {
            register(provider3, "providers", url3);
            expectEvent(events, PathChildrenCacheEvent.Type.CHILD_ADDED, PROVIDERS + "/" + node3);
            provider3.close();
            expectEvent(events, PathChildrenCacheEvent.Type.CHILD_REMOVED, PROVIDERS + "/" + node3);
        });
        cache.close();
    }

    static void expectEvent(BlockingQueue<PathChildrenCacheEvent> events, PathChildrenCacheEvent.Type type,
            String path) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            long left = deadline - System.nanoTime();
            PathChildrenCacheEvent e = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
            if (e == null) {
                throw new AssertionError("no " + type + " for " + path + " within 10 s");
            }
            if (e.getType() == type && e.getData() != null && path.equals(e.getData().getPath())) {
                return;
            }
        }
    }
}
