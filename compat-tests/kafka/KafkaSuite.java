import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * Kafka's (ZooKeeper mode, 2.x/3.x) use of ZooKeeper replayed with the Java client and no broker:
 * top-level paths, broker registration, controller election and epoch fencing, notification
 * sequences, topic deletion requests and a broker's session expiring. argv[0] is host:port.
 */
public final class KafkaSuite {
    /** KafkaZkClient.createTopLevelPaths (ZkData.PersistentZkPaths). */
    static final List<String> PERSISTENT_PATHS = List.of("/consumers", "/brokers/ids", "/brokers/topics",
            "/config/changes", "/admin/delete_topics", "/brokers/seqid", "/isr_change_notification",
            "/latest_producer_id_block", "/log_dir_event_notification", "/config/topics", "/config/clients",
            "/config/users", "/config/brokers", "/config/ips");
    static final String TOPIC = "orders";
    static final String STATE = "/brokers/topics/" + TOPIC + "/partitions/0/state";

    final String connect;
    final Harness h = new Harness();
    KafkaZk broker1;
    KafkaZk broker2;
    KafkaZk admin;
    int epochZkVersion;

    KafkaSuite(String connect) {
        this.connect = connect;
    }

    static String brokerJson(int id) {
        return "{\"features\":{},\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\"},"
                + "\"endpoints\":[\"PLAINTEXT://broker" + id + ":9092\"],\"jmx_port\":-1,\"port\":9092,"
                + "\"host\":\"broker" + id + "\",\"version\":5,\"timestamp\":\"1700000000000\"}";
    }

    static String stateJson(int leader, int leaderEpoch, int controllerEpoch) {
        return "{\"controller_epoch\":" + controllerEpoch + ",\"leader\":" + leader + ",\"version\":1,"
                + "\"leader_epoch\":" + leaderEpoch + ",\"isr\":[1,2]}";
    }

    void run() throws Exception {
        broker1 = KafkaZk.connect("broker1", connect, 6000);
        broker2 = KafkaZk.connect("broker2", connect, 6000);
        admin = KafkaZk.connect("admin", connect, 30000);
        startup();
        election();
        topics();
        notifications();
        new SessionExpiry(this).run();
        broker2.close();
        admin.close();
    }

    void startup() {
        h.check("top_level_paths", () -> {
            for (KafkaZk b : List.of(broker1, broker2)) {
                for (String p : PERSISTENT_PATHS) {
                    b.createRecursive(p, null);
                }
            }
            for (String p : PERSISTENT_PATHS) {
                Stat st = admin.zk.exists(p, false);
                Harness.require(st != null && st.getEphemeralOwner() == 0, p + " persistent");
            }
        });
        h.check("cluster_id", () -> {
            String json = "{\"version\":\"1\",\"id\":\"Wn4nHnnNR0WpRVDUVzl6Tg\"}";
            broker1.createRecursive("/cluster/id", KafkaZk.bytes(json));
            try {
                broker2.zk.create("/cluster/id", KafkaZk.bytes("{}"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                throw new AssertionError("second cluster id create succeeded");
            } catch (KeeperException.NodeExistsException e) {
                Harness.equal(json, KafkaZk.text(broker2.zk.getData("/cluster/id", false, null)), "cluster id");
            }
        });
        h.check("broker_registration_ephemeral", () -> {
            for (KafkaZk b : List.of(broker1, broker2)) {
                int id = b == broker1 ? 1 : 2;
                b.zk.create("/brokers/ids/" + id, KafkaZk.bytes(brokerJson(id)), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                Stat st = new Stat();
                Harness.equal(brokerJson(id), KafkaZk.text(admin.zk.getData("/brokers/ids/" + id, false, st)), "registration");
                Harness.equal(b.zk.getSessionId(), st.getEphemeralOwner(), "ephemeral owner of broker " + id);
            }
            Harness.equal(List.of("1", "2"), sorted(admin.zk.getChildren("/brokers/ids", false)), "broker ids");
        });
        h.check("broker_registration_conflict", () -> {
            // KafkaZkClient.checkedEphemeralCreate: NodeExists, then the owner is someone else's session
            try {
                admin.zk.create("/brokers/ids/1", KafkaZk.bytes(brokerJson(1)), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                throw new AssertionError("duplicate broker id registered");
            } catch (KeeperException.NodeExistsException e) {
                Stat st = admin.zk.exists("/brokers/ids/1", false);
                Harness.require(st.getEphemeralOwner() != admin.zk.getSessionId(), "owner is the first broker");
            }
        });
        h.check("broker_seqid_generation", () -> {
            // KafkaZkClient.generateBrokerSequenceId: unconditional setData, the new version is the id
            int v1 = broker1.zk.setData("/brokers/seqid", new byte[0], -1).getVersion();
            int v2 = broker2.zk.setData("/brokers/seqid", new byte[0], -1).getVersion();
            Harness.equal(v1 + 1, v2, "consecutive sequence ids");
        });
    }

    void election() {
        h.check("controller_epoch_created", () -> {
            try {
                broker1.zk.getData(KafkaZk.CONTROLLER_EPOCH, false, null);
                throw new AssertionError("/controller_epoch exists on a fresh server");
            } catch (KeeperException.NoNodeException e) {
                // KafkaZkClient.maybeCreateControllerEpochZNode
                broker1.zk.create(KafkaZk.CONTROLLER_EPOCH, KafkaZk.bytes("0"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            Stat st = new Stat();
            Harness.equal("0", KafkaZk.text(broker2.zk.getData(KafkaZk.CONTROLLER_EPOCH, false, st)), "epoch");
            Harness.equal(0, st.getVersion(), "epoch zkVersion");
        });
        h.check("controller_election_winner", () -> {
            KafkaZk.MultiOutcome out = broker1.elect(1, 1, 0);
            Harness.equal(KeeperException.Code.OK.intValue(), out.rc, "rc");
            Harness.equal(List.of("CreateResult", "SetDataResult"), KafkaZk.kinds(out.results), "result kinds");
            Harness.equal(KafkaZk.CONTROLLER, ((OpResult.CreateResult) out.results.get(0)).getPath(), "created path");
            epochZkVersion = ((OpResult.SetDataResult) out.results.get(1)).getStat().getVersion();
            Harness.equal(1, epochZkVersion, "new epoch zkVersion");
            Stat st = broker2.zk.exists(KafkaZk.CONTROLLER, false);
            Harness.equal(broker1.zk.getSessionId(), st.getEphemeralOwner(), "/controller is broker1's ephemeral");
        });
        h.check("controller_election_loser_nodeexists", () -> {
            KafkaZk.MultiOutcome out = broker2.elect(2, 1, 0);
            Harness.equal(KeeperException.Code.NODEEXISTS.intValue(), out.rc, "rc");
            Harness.equal(List.of(KeeperException.Code.NODEEXISTS.intValue(),
                    KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()), KafkaZk.codes(out.results), "per-op codes");
            // the pre-2.2 election: a plain ephemeral create
            try {
                broker2.zk.create(KafkaZk.CONTROLLER, KafkaZk.bytes(KafkaZk.controllerJson(2)),
                        ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                throw new AssertionError("second /controller created");
            } catch (KeeperException.NodeExistsException e) {
                Harness.equal(KafkaZk.CONTROLLER, e.getPath(), "exception path");
            }
            Harness.equal("1", KafkaZk.text(admin.zk.getData(KafkaZk.CONTROLLER_EPOCH, false, null)), "epoch untouched");
        });
        h.check("controller_loser_reads_and_watches", () -> {
            Harness.require(broker2.zk.exists(KafkaZk.CONTROLLER, controllerWatch) != null, "exists() with watch");
            Harness.equal(KafkaZk.controllerJson(1), KafkaZk.text(broker2.zk.getData(KafkaZk.CONTROLLER, false, null)), "controller data");
        });
    }

    final KafkaZk.EventWatch controllerWatch = new KafkaZk.EventWatch();

    void topics() {
        KafkaZk.EventWatch topicsWatch = new KafkaZk.EventWatch();
        h.check("topic_creation_notifies_controller", () -> {
            broker1.zk.getChildren("/brokers/topics", topicsWatch);
            String assignment = "{\"version\":2,\"partitions\":{\"0\":[1,2]},\"adding_replicas\":{},\"removing_replicas\":{}}";
            admin.zk.create("/brokers/topics/" + TOPIC, KafkaZk.bytes(assignment), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            WatchedEvent e = topicsWatch.next(10, "/brokers/topics children");
            Harness.equal(Watcher.Event.EventType.NodeChildrenChanged, e.getType(), "event type");
            Harness.equal(List.of(TOPIC), broker1.zk.getChildren("/brokers/topics", false), "topics");
        });
        h.check("controller_fenced_creates", () -> {
            for (String p : List.of("/brokers/topics/" + TOPIC + "/partitions", "/brokers/topics/" + TOPIC + "/partitions/0")) {
                KafkaZk.MultiOutcome out = broker1.fenced(epochZkVersion,
                        Op.create(p, null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
                Harness.equal(0, out.rc, "rc for " + p);
            }
            KafkaZk.MultiOutcome out = broker1.fenced(epochZkVersion,
                    Op.create(STATE, KafkaZk.bytes(stateJson(1, 0, 1)), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            Harness.equal(0, out.rc, "rc");
            Harness.equal(List.of("CheckResult", "CreateResult"), KafkaZk.kinds(out.results), "result kinds");
            Harness.equal(STATE, ((OpResult.CreateResult) out.results.get(1)).getPath(), "created path");
        });
        h.check("controller_fenced_set_data", () -> {
            KafkaZk.MultiOutcome out = broker1.fenced(epochZkVersion, Op.setData(STATE, KafkaZk.bytes(stateJson(1, 1, 1)), 0));
            Harness.equal(0, out.rc, "rc");
            Harness.equal(List.of("CheckResult", "SetDataResult"), KafkaZk.kinds(out.results), "result kinds");
            Harness.equal(1, ((OpResult.SetDataResult) out.results.get(1)).getStat().getVersion(), "state zkVersion");
            // a leader-epoch update with a stale partition zkVersion fails on the second op
            out = broker1.fenced(epochZkVersion, Op.setData(STATE, KafkaZk.bytes(stateJson(2, 2, 1)), 0));
            Harness.equal(KeeperException.Code.BADVERSION.intValue(), out.rc, "rc with stale partition version");
            Harness.equal(List.of(0, KeeperException.Code.BADVERSION.intValue()), KafkaZk.codes(out.results), "per-op codes");
        });
    }

    void notifications() {
        KafkaZk.EventWatch isrWatch = new KafkaZk.EventWatch();
        h.check("isr_change_notification_sequence", () -> {
            broker1.zk.getChildren("/isr_change_notification", isrWatch);
            String json = "{\"version\":1,\"partitions\":[{\"topic\":\"" + TOPIC + "\",\"partition\":0}]}";
            String p1 = broker2.zk.create("/isr_change_notification/isr_change_", KafkaZk.bytes(json),
                    ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            String p2 = broker2.zk.create("/isr_change_notification/isr_change_", KafkaZk.bytes(json),
                    ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            Harness.require(p1.matches("/isr_change_notification/isr_change_\\d{10}"), "sequential name " + p1);
            Harness.equal(Long.parseLong(p1.substring(p1.length() - 10)) + 1, Long.parseLong(p2.substring(p2.length() - 10)), "sequence");
            isrWatch.next(10, "/isr_change_notification children");
            List<String> kids = sorted(broker1.zk.getChildren("/isr_change_notification", false));
            Harness.equal(2, kids.size(), "notifications " + kids);
            Harness.equal(json, KafkaZk.text(broker1.zk.getData("/isr_change_notification/" + kids.get(0), false, null)), "payload");
            // IsrChangeNotificationHandler: the controller deletes what it processed, fenced
            for (String k : kids) {
                KafkaZk.MultiOutcome out = broker1.fenced(epochZkVersion, Op.delete("/isr_change_notification/" + k, -1));
                Harness.equal(0, out.rc, "delete " + k);
            }
            Harness.equal(List.of(), broker1.zk.getChildren("/isr_change_notification", false), "after processing");
        });
        KafkaZk.EventWatch configWatch = new KafkaZk.EventWatch();
        h.check("config_change_notification_sequence", () -> {
            broker2.zk.getChildren("/config/changes", configWatch);
            admin.zk.create("/config/topics/" + TOPIC, KafkaZk.bytes("{\"version\":1,\"config\":{\"retention.ms\":\"1000\"}}"),
                    ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            String p = admin.zk.create("/config/changes/config_change_", KafkaZk.bytes("{\"version\":2,\"entity_path\":\"topics/" + TOPIC + "\"}"),
                    ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            Harness.require(p.matches("/config/changes/config_change_\\d{10}"), "sequential name " + p);
            configWatch.next(10, "/config/changes children");
            List<String> kids = broker2.zk.getChildren("/config/changes", false);
            Harness.equal(List.of(p.substring("/config/changes/".length())), kids, "change notifications");
            Harness.require(KafkaZk.text(broker2.zk.getData(p, false, null)).contains("topics/" + TOPIC), "entity path");
        });
        h.check("delete_topic_request", () -> deleteTopic());
    }

    void deleteTopic() throws Exception {
        KafkaZk.EventWatch deleteWatch = new KafkaZk.EventWatch();
        broker1.zk.getChildren("/admin/delete_topics", deleteWatch);
        admin.zk.create("/admin/delete_topics/" + TOPIC, null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        deleteWatch.next(10, "/admin/delete_topics children");
        KafkaZk.EventWatch topicGone = new KafkaZk.EventWatch();
        admin.zk.exists("/brokers/topics/" + TOPIC, topicGone);
        // TopicDeletionManager: the controller removes the topic's znodes bottom-up, then the request
        String t = "/brokers/topics/" + TOPIC;
        for (String p : List.of(STATE, t + "/partitions/0", t + "/partitions", t, "/config/topics/" + TOPIC, "/admin/delete_topics/" + TOPIC)) {
            KafkaZk.MultiOutcome out = broker1.fenced(epochZkVersion, Op.delete(p, -1));
            Harness.equal(0, out.rc, "delete " + p);
        }
        Harness.equal(Watcher.Event.EventType.NodeDeleted, topicGone.next(10, t + " deletion").getType(), "event");
        Harness.equal(List.of(), admin.zk.getChildren("/brokers/topics", false), "topics left");
    }

    static List<String> sorted(List<String> xs) {
        return List.copyOf(new TreeSet<>(xs));
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: KafkaSuite <host:port>");
            System.exit(2);
        }
        KafkaSuite s = new KafkaSuite(args[0]);
        try {
            s.run();
        } catch (Exception | AssertionError e) {
            s.h.fail("kafka_setup", Harness.describe(e));
        }
        System.exit(s.h.finish());
    }
}
