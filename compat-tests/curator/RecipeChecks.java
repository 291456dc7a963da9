import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.imps.ProtectedUtils;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;

/** Containers, protected nodes, locks, leader latch, CuratorCache and ephemerals. */
final class RecipeChecks {
    /** Upper bound for container reaping: two reaper passes at the server's default 60 s interval. */
    static final long CONTAINER_WAIT_S = 150;

    private final CuratorSuite s;
    private final Harness h;
    private final String base = CuratorSuite.BASE;

    RecipeChecks(CuratorSuite s, Harness h) {
        this.s = s;
        this.h = h;
    }

    void run() throws Exception {
        CuratorFramework c1 = s.client();
        CuratorFramework c2 = s.client();
        containers(c1, c2);
        protectedNodes(c1, c2);
        mutex(c1, c2);
        leaderLatch(c1, c2);
        curatorCache(c1, c2);
        ephemerals(c2);
    }

    void containers(CuratorFramework c1, CuratorFramework c2) {
        String ctr = base + "/ctr";
        String grp = ctr + "/group";
        String leaf = grp + "/leaf";
        h.check("container_parents_created", () -> {
            c1.create().creatingParentContainersIfNeeded().forPath(leaf, CuratorSuite.bytes("x"));
            // Containers are stored with ephemeralOwner 0x8000000000000000, but DataNode.copyStat shows
            // clients 0 for anything that is not a session's ephemeral.
            Harness.equal(0L, c2.checkExists().forPath(ctr).getEphemeralOwner(), ctr + " owner");
            Harness.equal(0L, c2.checkExists().forPath(grp).getEphemeralOwner(), grp + " owner");
            Harness.equal(0L, c2.checkExists().forPath(leaf).getEphemeralOwner(), leaf + " owner");
            Harness.equal("x", CuratorSuite.text(c2.getData().forPath(leaf)), "leaf data");
        });
        h.check("container_reaped_after_last_child", CONTAINER_WAIT_S * 2 + 10, () -> {
            String keep = base + "/ctr-keep/child";
            c1.create().creatingParentContainersIfNeeded().forPath(keep);
            CountDownLatch grpGone = CuratorSuite.deletion(c2, grp);
            CountDownLatch ctrGone = CuratorSuite.deletion(c2, ctr);
            c1.delete().forPath(leaf);
            Harness.await(grpGone, CONTAINER_WAIT_S, "deletion of emptied container " + grp);
            Harness.await(ctrGone, CONTAINER_WAIT_S, "deletion of emptied parent container " + ctr);
            Harness.require(c1.checkExists().forPath(ctr) == null, ctr + " gone");
            Harness.require(c1.checkExists().forPath(keep) != null, "a container with a child survives the reaper");
        });
    }

    void protectedNodes(CuratorFramework c1, CuratorFramework c2) {
        String dir = base + "/prot";
        h.check("protected_ephemeral_sequential", () -> {
            String p1 = c1.create().creatingParentsIfNeeded().withProtection()
                    .withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(dir + "/member-", CuratorSuite.bytes("m1"));
            String p2 = c1.create().withProtection()
                    .withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(dir + "/member-", CuratorSuite.bytes("m2"));
            String n1 = ZKPaths.getNodeFromPath(p1);
            String n2 = ZKPaths.getNodeFromPath(p2);
            Harness.require(n1.matches("_c_[0-9a-f-]{36}-member-\\d{10}"), "protected name " + n1);
            long seq1 = Long.parseLong(n1.substring(n1.length() - 10));
            long seq2 = Long.parseLong(n2.substring(n2.length() - 10));
            Harness.equal(seq1 + 1, seq2, "sequence of the second node");
            Stat st = c2.checkExists().forPath(p1);
            Harness.equal(CuratorSuite.sessionId(c1), st.getEphemeralOwner(), "ephemeral owner");
        });
        h.check("protected_node_found_by_prefix", () -> {
            List<String> kids = c2.getChildren().forPath(dir);
            Harness.equal(2, kids.size(), "children " + kids);
            for (String name : kids) {
                String id = ProtectedUtils.extractProtectedId(name).orElseThrow();
                String prefix = ProtectedUtils.getProtectedPrefix(id);
                List<String> found = c2.getChildren().forPath(dir).stream()
                        .filter(k -> k.startsWith(prefix)).collect(Collectors.toList());
                Harness.equal(List.of(name), found, "lookup by prefix " + prefix);
            }
        });
    }

    void mutex(CuratorFramework c1, CuratorFramework c2) throws Exception {
        String lockPath = base + "/locks/mutex";
        InterProcessMutex m1 = new InterProcessMutex(c1, lockPath);
        InterProcessMutex m2 = new InterProcessMutex(c2, lockPath);
        // InterProcessMutex is owned by a thread: each client's lock lives on its own thread.
        ExecutorService t1 = Executors.newSingleThreadExecutor();
        ExecutorService t2 = Executors.newSingleThreadExecutor();
        Future<Boolean>[] waiting = newFutureSlot();
        h.check("mutex_acquire", () ->
                Harness.require(t1.submit(() -> m1.acquire(10, TimeUnit.SECONDS)).get(15, TimeUnit.SECONDS), "acquired"));
        h.check("mutex_reentrant", () -> {
            Harness.require(t1.submit(() -> m1.acquire(10, TimeUnit.SECONDS)).get(15, TimeUnit.SECONDS), "re-acquired");
            Harness.require(m1.isAcquiredInThisProcess(), "held");
            Harness.equal(1, m1.getParticipantNodes().size(), "one lock node for a reentrant hold");
        });
        h.check("mutex_excludes_other_client", () -> {
            Boolean got = t2.submit(() -> m2.acquire(2, TimeUnit.SECONDS)).get(15, TimeUnit.SECONDS);
            Harness.require(!got, "second client must not acquire while the first holds the lock");
            CountDownLatch queued = CuratorSuite.childChange(c1, lockPath);
            waiting[0] = t2.submit(() -> m2.acquire(30, TimeUnit.SECONDS));
            Harness.await(queued, 10, "second client's lock node");
            Harness.equal(2, m1.getParticipantNodes().size(), "lock nodes while waiting");
        });
        h.check("mutex_release_hands_over", () -> {
            t1.submit(() -> { m1.release(); return null; }).get(15, TimeUnit.SECONDS);
            Harness.require(!waiting[0].isDone(), "one release of a doubly acquired lock keeps it");
            Harness.equal(2, m1.getParticipantNodes().size(), "lock nodes after the first release");
            t1.submit(() -> { m1.release(); return null; }).get(15, TimeUnit.SECONDS);
            Harness.require(waiting[0].get(15, TimeUnit.SECONDS), "second client acquires after release");
            t2.submit(() -> { m2.release(); return null; }).get(15, TimeUnit.SECONDS);
            Harness.equal(0, c1.getChildren().forPath(lockPath).size(), "lock nodes left");
        });
        t1.shutdownNow();
        t2.shutdownNow();
    }

    @SuppressWarnings("unchecked")
    private static Future<Boolean>[] newFutureSlot() {
        return (Future<Boolean>[]) new Future<?>[1];
    }

    void leaderLatch(CuratorFramework c1, CuratorFramework c2) throws Exception {
        String path = base + "/leader";
        LeaderLatch l1 = new LeaderLatch(c1, path, "p1");
        LeaderLatch l2 = new LeaderLatch(c2, path, "p2");
        h.check("leader_latch_one_leader", () -> {
            l1.start();
            Harness.require(l1.await(10, TimeUnit.SECONDS), "first participant leads");
            CountDownLatch joined = CuratorSuite.childChange(c1, path);
            l2.start();
            Harness.await(joined, 10, "second participant's node");
            Set<String> ids = new TreeSet<>();
            for (Participant p : l2.getParticipants()) {
                ids.add(p.getId());
            }
            Harness.equal(Set.of("p1", "p2"), ids, "participants");
            Harness.require(l1.hasLeadership() && !l2.hasLeadership(), "exactly one leader");
            Harness.equal("p1", l2.getLeader().getId(), "leader seen by the other");
        });
        h.check("leader_latch_moves_on_close", () -> {
            l1.close();
            Harness.require(l2.await(10, TimeUnit.SECONDS), "leadership moves to the second participant");
            Harness.equal("p2", l2.getLeader().getId(), "leader");
            Harness.equal(1, l2.getParticipants().size(), "participants left");
            l2.close();
        });
    }

    void curatorCache(CuratorFramework c1, CuratorFramework c2) throws Exception {
        String root = base + "/cache";
        String deep = root + "/a/b/c/d";
        c1.create().creatingParentsIfNeeded().forPath(root + "/pre", CuratorSuite.bytes("p"));
        Map<String, CountDownLatch> events = new ConcurrentHashMap<>();
        Map<String, String> changed = new ConcurrentHashMap<>();
        for (String k : List.of("create " + root + "/a", "create " + deep, "change " + deep,
                "delete " + deep, "delete " + root + "/a")) {
            events.put(k, new CountDownLatch(1));
        }
        CountDownLatch init = new CountDownLatch(1);
        CuratorCache cache = CuratorCache.build(c1, root);
        CuratorCacheListener listener = CuratorCacheListener.builder()
                .forCreates(d -> hit(events, "create " + d.getPath()))
                .forChanges((before, after) -> {
                    changed.put(after.getPath(), CuratorSuite.text(after.getData()));
                    hit(events, "change " + after.getPath());
                })
                .forDeletes(d -> hit(events, "delete " + d.getPath()))
                .forInitialized(init::countDown)
                .build();
        cache.listenable().addListener(listener);
        h.check("curator_cache_initial_load", () -> {
            cache.start();
            Harness.await(init, 10, "cache initialization");
            ChildData pre = cache.get(root + "/pre").orElseThrow();
            Harness.equal("p", CuratorSuite.text(pre.getData()), "cached data");
        });
        h.check("curator_cache_deep_create", () -> {
            c2.create().creatingParentsIfNeeded().forPath(deep, CuratorSuite.bytes("v1"));
            Harness.await(events.get("create " + root + "/a"), 10, "create event for " + root + "/a");
            Harness.await(events.get("create " + deep), 10, "create event for " + deep);
        });
        h.check("curator_cache_deep_change", () -> {
            c2.setData().forPath(deep, CuratorSuite.bytes("v2"));
            Harness.await(events.get("change " + deep), 10, "change event for " + deep);
            Harness.equal("v2", changed.get(deep), "changed data");
        });
        h.check("curator_cache_deep_delete", () -> {
            c2.delete().deletingChildrenIfNeeded().forPath(root + "/a");
            Harness.await(events.get("delete " + deep), 10, "delete event for " + deep);
            Harness.await(events.get("delete " + root + "/a"), 10, "delete event for " + root + "/a");
            Harness.require(cache.get(deep).isEmpty(), "deleted node left the cache");
        });
        cache.close();
    }

    private static void hit(Map<String, CountDownLatch> events, String key) {
        CountDownLatch l = events.get(key);
        if (l != null) {
            l.countDown();
        }
    }

    void ephemerals(CuratorFramework observer) throws Exception {
        String path = base + "/eph/node";
        CuratorFramework owner = s.client();
        h.check("ephemeral_visible_to_other_client", () -> {
            owner.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(path, CuratorSuite.bytes("e"));
            Stat st = new Stat();
            Harness.equal("e", CuratorSuite.text(observer.getData().storingStatIn(st).forPath(path)), "data");
            Harness.equal(CuratorSuite.sessionId(owner), st.getEphemeralOwner(), "ephemeral owner");
        });
        h.check("ephemeral_removed_on_close_fires_watch", () -> {
            CountDownLatch gone = CuratorSuite.deletion(observer, path);
            owner.close();
            Harness.await(gone, 10, "NodeDeleted watch for " + path);
            Harness.require(observer.checkExists().forPath(path) == null, path + " gone");
        });
    }
}
