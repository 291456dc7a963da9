import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.apache.curator.x.discovery.details.ServiceCacheListener;
import org.apache.zookeeper.data.Stat;

/** curator-x-discovery: register, query, cache, unregister, ephemeral instances. */
final class DiscoveryChecks {
    private final CuratorSuite s;
    private final Harness h;
    private final String basePath = CuratorSuite.BASE + "/services";

    DiscoveryChecks(CuratorSuite s, Harness h) {
        this.s = s;
        this.h = h;
    }

    ServiceDiscovery<String> discovery(CuratorFramework c) throws Exception {
        ServiceDiscovery<String> d = ServiceDiscoveryBuilder.builder(String.class)
                .client(c)
                .basePath(basePath)
                .serializer(new JsonInstanceSerializer<>(String.class))
                .build();
        d.start();
        return d;
    }

    static ServiceInstance<String> instance(String id, int port) throws Exception {
        return ServiceInstance.<String>builder().name("demo").id(id).address("127.0.0.1").port(port)
                .payload("payload-" + id).build();
    }

    static Set<String> ids(Collection<ServiceInstance<String>> instances) {
        Set<String> ids = new TreeSet<>();
        for (ServiceInstance<String> i : instances) {
            ids.add(i.getId());
        }
        return ids;
    }

    void run() throws Exception {
        CuratorFramework providerClient = s.client();
        CuratorFramework consumerClient = s.client();
        ServiceDiscovery<String> provider = discovery(providerClient);
        ServiceDiscovery<String> consumer = discovery(consumerClient);
        h.check("discovery_register_and_query", () -> {
            provider.registerService(instance("inst-1", 20880));
            Harness.require(consumer.queryForNames().contains("demo"), "service name listed");
            ServiceInstance<String> got = consumer.queryForInstance("demo", "inst-1");
            Harness.require(got != null, "instance found");
            Harness.equal("127.0.0.1", got.getAddress(), "address");
            Harness.equal(20880, got.getPort(), "port");
            Harness.equal("payload-inst-1", got.getPayload(), "payload");
            Stat st = consumerClient.checkExists().forPath(basePath + "/demo/inst-1");
            Harness.equal(CuratorSuite.sessionId(providerClient), st.getEphemeralOwner(), "instance node is ephemeral");
        });
        ServiceCache<String> cache = consumer.serviceCacheBuilder().name("demo").build();
        CountDownLatch[] changed = {new CountDownLatch(1)};
        cache.addListener(new ServiceCacheListener() {
            @Override
            public void cacheChanged() {
                changed[0].countDown();
            }

            @Override
            public void stateChanged(CuratorFramework client, ConnectionState newState) {
            }
        });
        h.check("discovery_service_cache_sees_new_instance", () -> {
            cache.start();
            Harness.equal(Set.of("inst-1"), ids(cache.getInstances()), "cached instances at start");
            provider.registerService(instance("inst-2", 20881));
            Harness.await(changed[0], 10, "service cache change");
            Harness.equal(Set.of("inst-1", "inst-2"), ids(consumer.queryForInstances("demo")), "instances");
            Harness.equal(Set.of("inst-1", "inst-2"), ids(cache.getInstances()), "cached instances");
        });
        h.check("discovery_unregister", () -> {
            changed[0] = new CountDownLatch(1);
            provider.unregisterService(instance("inst-2", 20881));
            Harness.equal(Set.of("inst-1"), ids(consumer.queryForInstances("demo")), "instances after unregister");
            Harness.await(changed[0], 10, "service cache change on unregister");
        });
        h.check("discovery_instance_removed_on_session_close", () -> {
            CountDownLatch gone = CuratorSuite.deletion(consumerClient, basePath + "/demo/inst-1");
            providerClient.close();
            Harness.await(gone, 10, "deletion of the ephemeral instance");
            Harness.equal(List.of(), List.copyOf(consumer.queryForInstances("demo")), "instances after close");
        });
        cache.close();
        consumer.close();
    }
}
