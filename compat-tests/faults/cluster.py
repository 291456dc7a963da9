"""A three-node ensemble of real processes on loopback for fault injection: every
node's dataDir on a small tmpfs of its own (so its disk can be filled), every peer link
through the proxies of `proxy.py` (so links can be cut), signals for crashes and
pauses. Nodes are rzk (`RZK_BIN`) or, with `FAULTS_KIND=zk`, Apache ZooKeeper 3.8.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from kazoo.client import KazooClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from peers import free_ports, four as four_word  # noqa: E402


def four(port, word):
    return four_word(port, word, timeout=1.0)

HERE = os.path.dirname(os.path.abspath(__file__))
TICK_MS = 200
CFG = [f"tickTime={TICK_MS}", "initLimit=10", "syncLimit=5", "maxSessionTimeout=20000",
       "4lw.commands.whitelist=*", "admin.enableServer=false", "maxClientCnxns=0",
       "clientPortAddress=127.0.0.1", "autopurge.purgeInterval=0",
       # Log files grow 1 MiB at a time: rzk reserves real blocks only within that
       # step, so a filled disk stops a node after at most 1 MiB of further log, not 4.
       "preAllocSize=1024"]
TMPFS_SIZE = "64m"






class Node:
    def __init__(self, cluster, sid, ports):
        self.cluster, self.sid = cluster, sid
        self.client_port, self.quorum_port, self.election_port = ports
        self.dir = os.path.join(cluster.dir, f"n{sid}")
        self.data = os.path.join(self.dir, "data")
        self.proc, self.mounted, self.stopped = None, False, False
        os.makedirs(self.data, exist_ok=True)

    def mount(self):
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", self.data],
                           capture_output=True, text=True)
        self.mounted = r.returncode == 0
        return r.stderr.strip()

    def write_cfg(self, view):
        lines = CFG + [f"dataDir={self.data}", f"clientPort={self.client_port}"]
        for sid, (qp, ep) in sorted(view.items()):
            lines.append(f"server.{sid}=127.0.0.1:{qp}:{ep}")
        with open(os.path.join(self.dir, "zoo.cfg"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(self.data, "myid"), "w") as f:
            f.write(f"{self.sid}\n")
        with open(os.path.join(self.dir, "log4j.properties"), "w") as f:
            f.write("log4j.rootLogger=INFO, F\nlog4j.appender.F=org.apache.log4j.FileAppender\n"
                    f"log4j.appender.F.File={self.dir}/zk.log\n"
                    "log4j.appender.F.layout=org.apache.log4j.PatternLayout\n"
                    "log4j.appender.F.layout.ConversionPattern=%d %p [%t] %c{1}: %m%n\n")

    def start(self):
        log = open(os.path.join(self.dir, "server.out"), "a")
        cfg = os.path.join(self.dir, "zoo.cfg")
        if self.cluster.kind == "rzk":
            cmd = [os.environ["RZK_BIN"], cfg]
        else:
            cmd = ["java", "-Xmx256m", "-XX:+UseSerialGC", f"-Dlog4j.configuration=file:{self.dir}/log4j.properties",
                   f"-Dzookeeper.log.dir={self.dir}", "-cp", os.environ["ZK_CP"],
                   "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.stopped = False

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
        self.stopped = sig == signal.SIGSTOP

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def exited(self):
        """The exit status if the process ended on its own, else None."""
        return self.proc.poll() if self.proc else None

    def mode(self):
        for line in four(self.client_port, "srvr").splitlines():
            if line.startswith("Mode: "):
                return line[6:].strip()
        return None

    def log_tail(self, n=15):
        try:
            with open(os.path.join(self.dir, "server.out"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class Cluster:
    def __init__(self, work, kind, size=3):
        self.kind = kind
        self.dir = os.path.join(work, "cluster")
        self.unmount_all(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        sids = list(range(1, size + 1))
        ports = free_ports(3 * size + 4 * size * (size - 1))
        own, rest = ports[:3 * size], ports[3 * size:]
        self.nodes = {s: Node(self, s, tuple(own[3 * i:3 * i + 3])) for i, s in enumerate(sids)}
        self.routes = []  # [src, dst, listen, target]
        self.view = {s: {} for s in sids}
        for src in sids:
            for dst in sids:
                if src == dst:
                    self.view[src][dst] = (self.nodes[dst].quorum_port, self.nodes[dst].election_port)
                    continue
                qp, ep = rest.pop(), rest.pop()
                self.routes.append([src, dst, qp, self.nodes[dst].quorum_port])
                self.routes.append([src, dst, ep, self.nodes[dst].election_port])
                self.view[src][dst] = (qp, ep)
        self.proxy = None

    @staticmethod
    def unmount_all(path):
        """Unmounts tmpfs left below `path` by an earlier run that was killed."""
        try:
            with open("/proc/mounts") as f:
                mounts = [line.split()[1] for line in f]
        except OSError:
            return
        for m in mounts:
            if m.startswith(path.rstrip("/") + "/"):
                subprocess.run(["umount", "-l", m], capture_output=True)

    def mount(self):
        """Mounts a tmpfs on every dataDir; the reason if that is not possible."""
        for n in self.nodes.values():
            why = n.mount()
            if not n.mounted:
                return why or "mount failed"
        return None

    def start(self):
        cfg = os.path.join(self.dir, "proxies.json")
        with open(cfg, "w") as f:
            json.dump(self.routes, f)
        self.proxy = subprocess.Popen([sys.executable, os.path.join(HERE, "proxy.py"), cfg],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.proxy.stdout.readline().strip() != "ready":
            raise RuntimeError("the proxies did not start")
        for sid, n in self.nodes.items():
            n.write_cfg(self.view[sid])
            n.start()

    def command(self, line):
        self.proxy.stdin.write(line + "\n")
        self.proxy.stdin.flush()
        if self.proxy.stdout.readline().strip() != "ok":
            raise RuntimeError(f"proxy command failed: {line}")

    def partition(self, side):
        """Cuts every link between `side` and the other nodes."""
        other = [s for s in self.nodes if s not in side]
        self.command("partition " + " ".join(f"{a}-{b}" for a in side for b in other))

    def heal(self):
        self.command("heal")

    def hosts(self, sids=None):
        return ",".join(f"127.0.0.1:{self.nodes[s].client_port}" for s in (sids or sorted(self.nodes)))

    def modes(self):
        return {sid: (n.mode() if n.proc and not n.stopped else None) for sid, n in self.nodes.items()}

    def leader(self, timeout=60, need=None):
        """The leader once one leads and every running node (or the `need` ones) has a
        role; None after `timeout` seconds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            modes = self.modes()
            leaders = [s for s, m in modes.items() if m == "leader"]
            want = need or [s for s, n in self.nodes.items() if n.proc and not n.stopped]
            if len(leaders) == 1 and all(modes[s] in ("leader", "follower") for s in want):
                return leaders[0]
            time.sleep(0.05)
        return None

    def client(self, sids=None, timeout=6.0):
        c = KazooClient(hosts=self.hosts(sids), timeout=timeout)
        c.start(timeout=30)
        return c

    def stop(self):
        for n in self.nodes.values():
            if n.stopped:
                n.signal(signal.SIGCONT)
            n.kill()
        if self.proxy:
            try:
                self.proxy.stdin.write("quit\n")
                self.proxy.stdin.flush()
                self.proxy.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proxy.kill()
        for n in self.nodes.values():
            if n.mounted:
                subprocess.run(["umount", "-l", n.data], capture_output=True)
