"""Compares the operations surface of a three-node Apache ZooKeeper 3.8 ensemble (plus
an observer) with that of an rzk one: key lists (values differ) and line layouts; and
the Prometheus metric names of a third, rzk ensemble with the Prometheus provider, whose
mntr must list its /metrics samples. Prints ok/FAIL per check and `N passed, N failed`."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from kazoo.client import KazooClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from peers import free_ports, four as four_word  # noqa: E402


def four(port, word):
    return four_word(port, word, timeout=5)

WORK = os.environ["WORK"]
RZK = os.environ["RZK_BIN"]
ZK_CP = os.environ["ZK_CP"]
RESULTS = {"passed": 0, "failed": 0}
PROVIDER = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"


def check(name, ok, detail=""):
    RESULTS["passed" if ok else "failed"] += 1
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail), flush=True)






def http(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.read().decode()
    except OSError as e:
        return f"error: {e}"


class Ensemble:
    """Three voters and an observer (server 4) of one kind; ports: client, quorum,
    election, admin, metrics."""

    def __init__(self, kind):
        self.kind = kind
        self.dir = os.path.join(WORK, kind)
        shutil.rmtree(self.dir, ignore_errors=True)
        ports = free_ports(20)
        self.ports = {sid: ports[5 * (sid - 1):5 * sid] for sid in (1, 2, 3, 4)}
        self.procs = {}

    def cfg(self, sid):
        client, _, _, admin, metrics = self.ports[sid]
        d = os.path.join(self.dir, f"n{sid}")
        lines = [
            "tickTime=500", "initLimit=20", "syncLimit=10", f"dataDir={d}/data", f"clientPort={client}",
            "clientPortAddress=127.0.0.1", "maxClientCnxns=0", "4lw.commands.whitelist=*",
            "admin.enableServer=true", "admin.serverAddress=127.0.0.1", f"admin.serverPort={admin}",
        ]
        if self.kind == "rzk-prometheus":
            lines += [f"metricsProvider.className={PROVIDER}", "metricsProvider.httpHost=127.0.0.1",
                      f"metricsProvider.httpPort={metrics}"]
        if sid == 4:
            lines.append("peerType=observer")
        for s, (_, qp, ep, _, _) in sorted(self.ports.items()):
            lines.append(f"server.{s}=127.0.0.1:{qp}:{ep}" + (":observer" if s == 4 else ""))
        return d, "\n".join(lines) + "\n"

    def start(self):
        for sid in self.ports:
            d, text = self.cfg(sid)
            os.makedirs(os.path.join(d, "data"), exist_ok=True)
            with open(os.path.join(d, "data", "myid"), "w") as f:
                f.write(f"{sid}\n")
            with open(os.path.join(d, "zoo.cfg"), "w") as f:
                f.write(text)
            log = open(os.path.join(d, "server.log"), "w")
            if self.kind.startswith("rzk"):
                cmd = [RZK, os.path.join(d, "zoo.cfg")]
            else:
                cmd = ["java", "-Xmx256m", "-XX:+UseSerialGC", f"-Dzookeeper.log.dir={d}", "-cp", ZK_CP,
                       "org.apache.zookeeper.server.quorum.QuorumPeerMain", os.path.join(d, "zoo.cfg")]
            self.procs[sid] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=d,
                                               start_new_session=True)

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def modes(self):
        out = {}
        for sid, (client, *_rest) in self.ports.items():
            m = re.search(r"^Mode: (\w+)", four(client, "srvr"), re.M)
            out[sid] = m.group(1) if m else None
        return out

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            modes = self.modes()
            if sorted(modes.values(), key=str) == ["follower", "follower", "leader", "observer"]:
                return modes
            time.sleep(0.3)
        return None

    def hosts(self):
        return ",".join(f"127.0.0.1:{p[0]}" for p in self.ports.values())


def workload(ens, leader, follower):
    """The same requests on both ensembles: writes through the leader, a follower and
    the observer, reads on each, so proposals, commits and namespaces have values."""
    for sid in (leader, follower, 4):
        c = KazooClient(hosts=f"127.0.0.1:{ens.ports[sid][0]}", timeout=10)
        c.start(timeout=20)
        c.ensure_path("/app")
        c.create(f"/app/n{sid}", b"data")
        c.get("/app")
        c.get_children("/app")
        c.stop()
        c.close()
    time.sleep(1.5)


SET_KEY = re.compile(r"^(zk_)?(avg|min|max|cnt|sum|p50|p95|p99|p999)_(\w+?)_"
                     r"(learner_handler_qp_size|learner_handler_qp_time_ms|read_per_namespace|write_per_namespace)$")


def collapse(keys):
    """Summary-set keys carry a sid or namespace: compared per set, in order."""
    out = []
    for k in keys:
        m = SET_KEY.match(k)
        k = f"{m.group(2)}_<key>_{m.group(4)}" if m else k
        if k not in out[-12:]:
            out.append(k)
    return out


def diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"line {i + 1}: Apache ZooKeeper {x!r}, rzk {y!r}"
    if len(a) != len(b):
        return f"{len(a)} lines from Apache ZooKeeper, {len(b)} from rzk; first extra: {(a[len(b):] or b[len(a):])[0]!r}"
    return ""


def compare(name, zk, rzk):
    d = diff(zk, rzk)
    check(name, not d, d)


def mntr_keys(port):
    return [l.split("\t")[0] for l in four(port, "mntr").splitlines() if l]


def json_keys(text, depth=1):
    try:
        j = json.loads(text)
    except ValueError:
        return [f"<not json: {text[:80]!r}>"]

    def walk(v, prefix, d):
        if not isinstance(v, dict):
            return []
        out = []
        for k, x in v.items():
            out.append(prefix + k)
            if d > 1:
                out += walk(x, prefix + k + ".", d - 1)
        return out
    return walk(j, "", depth)


def masked(text):
    """Layout of a text answer: the key of each line, values dropped."""
    out = []
    for l in text.splitlines():
        if l.startswith("server."):
            out.append(re.sub(r"\d+", "N", l.split("=")[0]) + "=" + re.sub(r"\d+", "N", l.split("=", 1)[1]))
        elif l.startswith("Zookeeper version:"):
            out.append("Zookeeper version:")
        else:
            out.append(re.split(r"[=:]", l, 1)[0] + ("=" if "=" in l else ":" if ":" in l else ""))
    return out


def prometheus_expected(keys):
    """Metric names and kinds as the Prometheus provider registers what `mntr` lists:
    a summary prints avg/min/max/cnt/sum keys, a gauge or counter one key."""
    bare = [k[3:] for k in keys]
    present = set(bare)
    summaries, plain = [], []
    for k in bare:
        m = SET_KEY.match(k)
        name = m.group(4) if m else None
        if not m:
            m = re.match(r"^(avg|min|max|cnt|sum|p50|p95|p99|p999)_(.+)$", k)
            name = m.group(2) if m and f"cnt_{m.group(2)}" in present else None
        if name:
            if name not in summaries:
                summaries.append(name)
        elif k not in ("version", "server_state", "peer_state", "observer_master_id"):
            plain.append(k)
    return summaries, plain


def prometheus_actual(text):
    kinds = {}
    for l in text.splitlines():
        m = re.match(r"^# TYPE (\S+) (\S+)", l)
        if m:
            kinds[m.group(1)] = m.group(2)
    return kinds


NULL_GAUGES = {"follower": {"synced_observers"}}


def compare_prometheus(role, zk_keys, port):
    text = http(port, "/metrics")
    kinds = prometheus_actual(text)
    summaries, plain = prometheus_expected(zk_keys)
    bad = [s for s in summaries if kinds.get(s) != "summary"]
    check(f"prometheus_{role}_summaries", not bad, f"not summaries in rzk's /metrics: {bad[:5]}")
    bad = [p for p in plain if kinds.get(p) not in ("gauge", "counter")]
    check(f"prometheus_{role}_gauges_and_counters", not bad, f"missing from rzk's /metrics: {bad[:5]}")
    # A gauge whose supplier answers null is left out of the default provider's mntr and
    # sampled as 0 by the Prometheus provider: a follower's synced_observers without
    # observer masters (Follower.getSyncedObserverSize).
    known = set(summaries) | set(plain) | NULL_GAUGES.get(role, set())
    extra = [k for k in kinds if k not in known and not k.startswith(("jvm_", "process_"))]
    check(f"prometheus_{role}_no_extra_names", not extra, f"not in Apache ZooKeeper's mntr: {extra[:5]}")


def compare_dump(role, mntr_text, port):
    """With the Prometheus provider `mntr` lists the provider's samples (its `dump`)."""
    text = http(port, "/metrics")
    samples = {l.rsplit(" ", 1)[0] for l in text.splitlines() if l and not l.startswith("#")}
    lines = [l.split("\t", 1) for l in mntr_text.splitlines() if "\t" in l]
    keys = {k[3:] for k, _ in lines if k not in ("zk_version", "zk_server_state", "zk_peer_state",
                                                 "zk_observer_master_id")}
    check(f"prometheus_{role}_mntr_lists_the_samples", keys == samples,
          f"only mntr {sorted(keys - samples)[:5]}, only /metrics {sorted(samples - keys)[:5]}")


def capture(ens, modes):
    leader = next(s for s, m in modes.items() if m == "leader")
    follower = min(s for s, m in modes.items() if m == "follower")
    workload(ens, leader, follower)
    out = {}
    for role, sid in (("leader", leader), ("follower", follower), ("observer", 4)):
        client, _, _, admin, metrics = ens.ports[sid]
        out[role] = {
            "sid": sid, "metrics_port": metrics,
            "mntr": mntr_keys(client),
            "srvr": masked(four(client, "srvr")),
            "stat": masked(four(client, "stat")),
            "conf": masked(four(client, "conf")),
            "monitor": json_keys(http(admin, "/commands/monitor")),
            "leader": json_keys(http(admin, "/commands/leader")),
            "voting_view": json_keys(http(admin, "/commands/voting_view"), 3),
            "admin_stat": json_keys(http(admin, "/commands/stat"), 2),
            "observers": json_keys(http(admin, "/commands/observers")),
            "observer_entries": observer_entries(http(admin, "/commands/observers")),
            "zabstate": json_keys(http(admin, "/commands/zabstate"), 2),
            "mntr_text": four(client, "mntr"),
        }
    return out


# Metrics that stay zero on rzk's ensemble members while Apache ZooKeeper's have values
# after the workload, each with the reason. A summary counts as having values when its
# cnt_ key is non-zero (rzk's pipeline takes 0 ms where Java's queues take 1), anything
# else when its value is.
ZERO_ON_RZK = {
    # Timings in whole ms: rzk answers some requests (on a quiet run all of them)
    # within the millisecond they arrive in.
    "min_latency": "requests answered within the millisecond take 0 ms",
    "avg_latency": "requests answered within the millisecond take 0 ms",
    "max_latency": "requests answered within the millisecond take 0 ms",
    # A learner with an empty log gets a SNAP when it connects after the leader is
    # established (its last zxid is then (epoch, 0)) and an empty DIFF before that, from
    # either server; the observer joins as the leaders establish, and which comes first
    # varies from run to run. A SNAP-synced learner then writes a snapshot.
    "snap_count": "the late observer's sync kind depends on when it connects",
    "inflight_snap_count": "the late observer's sync kind depends on when it connects",
    "snapshottime": "only a SNAP-synced learner writes a snapshot",
    # kazoo's stop() closes its socket as soon as the closeSession reply arrives. Java
    # counts a dropped connection when its selector reads that close before it closes the
    # connection itself (now and then, on a busy machine); rzk closes first and counts none.
    "connection_drop_count": "a client closing right after its closeSession reply races Java's own close",
}


def metric_values(text):
    """`mntr` as {metric: has values}: summaries by their cnt_ key, summary sets
    (per learner sid) when any member has samples, other numbers by their value."""
    values = dict(l.split("\t", 1) for l in text.splitlines() if "\t" in l)
    out = {}
    for k, v in values.items():
        k = k[3:]
        m = SET_KEY.match(k)
        if m:
            name, stat = m.group(4), m.group(2)
        else:
            m = re.match(r"^(avg|min|max|cnt|sum|p50|p95|p99|p999)_(.+)$", k)
            name, stat = (m.group(2), m.group(1)) if m and f"zk_cnt_{m.group(2)}" in values else (k, None)
        if stat not in (None, "cnt"):
            continue
        try:
            nonzero = float(v) != 0
        except ValueError:
            continue
        out[name] = out.get(name, False) or nonzero
    return out


def compare_values(role, zk_text, rzk_text):
    zk, rz = metric_values(zk_text), metric_values(rzk_text)
    missing = [k for k, v in zk.items() if v and not rz.get(k) and k not in ZERO_ON_RZK]
    check(f"mntr_{role}_values", not missing, f"values in Apache ZooKeeper, none in rzk: {missing}")


def observer_entries(text):
    """The keys of each entry of `observers` (`LearnerHandler.getLearnerHandlerInfo`)."""
    try:
        return [list(o) for o in json.loads(text).get("observers", [])]
    except (ValueError, AttributeError):
        return [f"<not json: {text[:80]!r}>"]


def bean_unordered(keys, *beans):
    """Jackson writes some beans' properties (ServerStats, MultipleAddresses) in an
    order that changes from one JVM run to the next: their keys are compared as a set,
    in their place."""
    for bean in beans:
        inner = sorted(k for k in keys if k.startswith(bean + "."))
        keys = [k for k in keys if not k.startswith(bean + ".")]
        at = keys.index(bean) + 1 if bean in keys else len(keys)
        keys = keys[:at] + inner + keys[at:]
    return keys


def stat_lines(lines):
    """`stat` lists the clients connected: only the line layout around them counts."""
    return [l for l in lines if not l.startswith(" /")]


def main():
    # rzk-prometheus has Apache ZooKeeper's Prometheus provider, whose samples replace the
    # default provider's keys in mntr and monitor: its /metrics is checked against the
    # names Java's mntr lists, the other ensemble's mntr against Java's keys.
    zk, rz, rp = Ensemble("zk"), Ensemble("rzk"), Ensemble("rzk-prometheus")
    try:
        for e in (zk, rz, rp):
            e.start()
        zk_modes, rz_modes, rp_modes = zk.wait_ready(), rz.wait_ready(), rp.wait_ready()
        check("zk_ensemble_ready", zk_modes is not None, f"modes {zk.modes()}")
        check("rzk_ensemble_ready", rz_modes is not None, f"modes {rz.modes()}")
        check("rzk_prometheus_ensemble_ready", rp_modes is not None, f"modes {rp.modes()}")
        if not zk_modes or not rz_modes or not rp_modes:
            return
        a, b, c = capture(zk, zk_modes), capture(rz, rz_modes), capture(rp, rp_modes)
        for role in ("leader", "follower", "observer"):
            za, rb = a[role], b[role]
            compare(f"mntr_{role}_keys", collapse(za["mntr"]), collapse(rb["mntr"]))
            compare(f"monitor_{role}_keys", collapse(za["monitor"]), collapse(rb["monitor"]))
            for word in ("srvr", "conf"):
                compare(f"{word}_{role}_lines", za[word], rb[word])
            compare(f"stat_{role}_lines", stat_lines(za["stat"]), stat_lines(rb["stat"]))
            for cmd in ("leader", "voting_view", "observers"):
                compare(f"admin_{cmd}_{role}_keys", za[cmd], rb[cmd])
            compare(f"admin_stat_{role}_keys", bean_unordered(za["admin_stat"], "server_stats"),
                    bean_unordered(rb["admin_stat"], "server_stats"))
            beans = ("quorum_address", "election_address")
            compare(f"admin_zabstate_{role}_keys", bean_unordered(za["zabstate"], *beans),
                    bean_unordered(rb["zabstate"], *beans))
            compare_prometheus(role, za["mntr"], c[role]["metrics_port"])
            compare_dump(role, c[role]["mntr_text"], c[role]["metrics_port"])
            compare_values(role, za["mntr_text"], rb["mntr_text"])
            compare(f"admin_observers_{role}_entries", za["observer_entries"], rb["observer_entries"])
        learners = sorted(set(re.findall(r"^zk_avg_(\d+)_learner_handler_qp_size", b["leader"]["mntr_text"], re.M)))
        others = sorted(str(s) for s in rz.ports if s != b["leader"]["sid"])
        check("rzk_leader_queue_sizes_per_learner", learners == others, f"keys {learners}, learners {others}")
        values = dict(l.split("\t", 1) for l in b["leader"]["mntr_text"].splitlines() if "\t" in l)
        expect = {"zk_synced_followers": "2", "zk_synced_observers": "1", "zk_learners": "3", "zk_quorum_size": "3",
                  "zk_pending_syncs": "0"}
        got = {k: values.get(k) for k in expect}
        check("rzk_leader_counts", got == expect, f"{got}")
        check("rzk_leader_proposals_counted", int(values.get("zk_proposal_count", "0")) >= 5,
              f"proposal_count {values.get('zk_proposal_count')}")
    finally:
        for e in (zk, rz, rp):
            e.stop()
        print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed", flush=True)
        sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()
