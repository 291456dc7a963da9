"""Fault injection on a real three-node ensemble, judged by a linearizability checker.

Phases, each on keys of its own (so each is its own history): SIGKILL of the leader and
of a follower, SIGSTOP/SIGCONT of each, a partition isolating the leader and one
isolating a follower (through the proxies of `proxy.py`), and a full disk (the node's
tmpfs filled) on a follower and on the leader. During each, six clients run create,
setData (plain and compare-and-set), delete (plain and versioned), sync+getData and
getData, recording every operation; after the heal each node is read. Throughout, three
clients take a kazoo Lock in turns, and one session holds an ephemeral node.

Checks: the recorded histories are linearizable (`rzk-check`), no acknowledged create is
lost and every node ends with the same data, ephemerals of closed and abandoned
sessions disappear everywhere while the held session keeps its own, lock holders never
overlap, and no rzk node exits except on a full disk. Ends with `N passed, N failed`.

Environment: WORK, RZK_BIN, RZK_CHECK (default: next to RZK_BIN), FAULTS_KIND=rzk|zk
(zk: Apache ZooKeeper 3.8 from ZK_CP, to validate the harness), FAULTS_PHASES (a
subset, by name).
"""
import logging
import os
import re
import signal
import subprocess
import sys
import time

from kazoo.client import KazooClient, KazooState
from kazoo.retry import KazooRetry

from cluster import TICK_MS, Cluster
from workload import OP_TIMEOUT, LockUser, Recorder, Worker, encode

WORK = os.environ["WORK"]
KIND = os.environ.get("FAULTS_KIND", "rzk")
ONLY = os.environ.get("FAULTS_PHASES", "").split()
RZK_CHECK = os.environ.get("RZK_CHECK") or os.path.join(os.path.dirname(os.environ.get("RZK_BIN", "")), "rzk-check")
RESULTS = {"passed": 0, "failed": 0}
WORKERS = 6
logging.basicConfig(level=logging.CRITICAL)


def check(name, ok, detail=""):
    RESULTS["passed" if ok else "failed"] += 1
    print(("ok " if ok else "FAIL ") + name + ("" if ok else ": " + detail), flush=True)


def note(text):
    print("  " + text, flush=True)


def ms_since(t0):
    return int((time.monotonic() - t0) * 1000)


class Suite:
    def __init__(self):
        self.cl = Cluster(WORK, KIND)
        self.rec = Recorder()
        self.disk_ok = True
        self.disk_outcome = None  # (exit status, mode) seen by the last full-disk fault

    # ---- faults: each injects, waits, heals, and returns a line for the report ----

    def wait_new_leader(self, old, others, limit=30):
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            sid = self.cl.leader(limit - (time.monotonic() - t0), need=others)
            if sid not in (None, old):
                return f"new leader {sid} after {ms_since(t0)} ms"
            time.sleep(0.05)
        return f"no new leader within {limit} s"

    def kill(self, target, leader):
        others = [s for s in self.cl.nodes if s != target]
        self.cl.nodes[target].kill()
        line = self.wait_new_leader(leader, others) if target == leader else "followers keep the leader"
        time.sleep(1.0)
        self.cl.nodes[target].start()
        return f"SIGKILL node {target}: {line}; restarted"

    def pause(self, target, leader):
        others = [s for s in self.cl.nodes if s != target]
        t0 = time.monotonic()
        self.cl.nodes[target].signal(signal.SIGSTOP)
        line = self.wait_new_leader(leader, others, 10) if target == leader else "followers keep the leader"
        time.sleep(max(0.0, 4.0 - (time.monotonic() - t0)))
        self.cl.nodes[target].signal(signal.SIGCONT)
        return f"SIGSTOP node {target} for {ms_since(t0)} ms: {line}; SIGCONT"

    def partition(self, target, leader):
        others = [s for s in self.cl.nodes if s != target]
        t0 = time.monotonic()
        self.cl.partition([target])
        line = self.wait_new_leader(leader, others, 15) if target == leader else "majority keeps its leader"
        time.sleep(max(0.0, 5.0 - (time.monotonic() - t0)))
        mode = self.cl.nodes[target].mode() or "not serving"
        self.cl.heal()
        return f"node {target} cut off for {ms_since(t0)} ms: {line}; the isolated node was {mode}; healed"

    def disk_full(self, target, leader):
        node = self.cl.nodes[target]
        ballast = os.path.join(node.data, "ballast")
        t0 = time.monotonic()
        with open(ballast, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            except OSError:
                pass
        full = ms_since(t0)
        # rzk exits (status 1, the reason logged); Apache ZooKeeper's peer stops
        # serving and stays up. Either is right; acknowledging on is not.
        deadline, quiet_since, mode = time.monotonic() + 30, None, None
        while time.monotonic() < deadline and node.exited() is None:
            mode = node.mode()
            quiet_since = (quiet_since or time.monotonic()) if mode is None else None
            if quiet_since and time.monotonic() - quiet_since > 1.0:
                break
            time.sleep(0.05)
        code = node.exited()
        if code is not None:
            outcome = f"exited with status {code} after {ms_since(t0) - full} ms"
        elif mode is None:
            outcome = f"stopped serving after {ms_since(t0) - full - 1000} ms (process still up)"
        else:
            outcome = f"still serving as {mode} after 30 s"
        os.remove(ballast)
        if code is not None:
            node.start()
        self.disk_outcome = (code, mode)
        return f"node {target} ({'leader' if target == leader else 'follower'}) disk full: {outcome}; ballast removed"

    # ---- one phase ----

    def phase(self, name, fault, role):
        if ONLY and name not in ONLY:
            return
        print(f"== {name}", flush=True)
        leader = self.cl.leader(60)
        if leader is None:
            check(f"{name}_leader_before", False, f"no leader: {self.cl.modes()}")
            return
        target = leader if role == "leader" else min(s for s in self.cl.nodes if s != leader)
        keys = [f"/{name}/k{i}" for i in range(4)]
        ledger = f"/{name}/ledger"
        setup = self.cl.client()
        setup.ensure_path(ledger)
        doomed = self.doomed_sessions(name)
        # Large values on a full disk, so the log's reserved space runs out quickly.
        pad = 2000 if fault == self.disk_full else 0
        workers = [Worker(w, self.cl.hosts(), name, keys, ledger, self.rec, seed=hash((name, w)) & 0xFFFF, pad=pad)
                   for w in range(WORKERS)]
        for w in workers:
            w.start()
        time.sleep(1.5)
        t_fault = time.monotonic_ns()
        note(fault(target, leader))
        self.close_doomed(doomed)
        t_heal = time.monotonic_ns()
        self.revive(name)
        after = self.cl.leader(60, need=list(self.cl.nodes))
        if after is not None:
            note(f"all three nodes serving {(time.monotonic_ns() - t_heal) // 1_000_000} ms after the heal")
        time.sleep(2.0)
        for w in workers:
            w.stop_flag = True
        for w in workers:
            w.join(OP_TIMEOUT + 10)
        setup.stop()
        setup.close()
        self.verify(name, keys, ledger, workers, doomed, after, (t_fault, t_heal))

    def doomed_sessions(self, name):
        """A session that will be closed and one that will be abandoned (its process
        killed), each with an ephemeral node."""
        closed = self.cl.client(timeout=4.0)
        closed.create(f"/{name}/eph-closed", b"", ephemeral=True)
        code = ("import sys,time\nfrom kazoo.client import KazooClient\n"
                "c=KazooClient(hosts=sys.argv[1],timeout=4.0);c.start(timeout=30)\n"
                "c.create(sys.argv[2],b'',ephemeral=True);print('ok',flush=True);time.sleep(600)\n")
        proc = subprocess.Popen([sys.executable, "-c", code, self.cl.hosts(), f"/{name}/eph-abandoned"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready = proc.stdout.readline().strip() == "ok"
        return closed, proc, ready

    def close_doomed(self, doomed):
        closed, proc, _ = doomed
        proc.kill()
        proc.wait()
        try:
            closed.stop()
            closed.close()
        except Exception:  # noqa: BLE001: the session then expires instead
            pass

    def revive(self, name):
        """A node that died on its own: rzk must not, except on a full disk."""
        for sid, n in self.cl.nodes.items():
            code = n.exited()
            if code is not None:
                check(f"{name}_node{sid}_stays_up", KIND != "rzk", f"exited with {code}:\n{n.log_tail()}")
                n.start()

    # ---- checks after a phase ----

    def node_reads(self, name, keys, ledger):
        """Each node's view after the heal: sync+getData of every key (recorded in the
        history as reads after everything else) and the ledger's children."""
        views = {}
        for sid in sorted(self.cl.nodes):
            c = self.cl.client([sid])
            try:
                view = {}
                for key in keys:
                    t = time.monotonic_ns()
                    c.sync(key)
                    if c.exists(key):
                        data, stat = c.get(key)
                        view[key] = (data, stat.version)
                        outcome = f"read {encode(data)} {stat.version}"
                    else:
                        view[key] = None
                        outcome = "read absent"
                    self.rec.op(name, c.client_id[0], key, "read", t, time.monotonic_ns(), outcome)
                view["ledger"] = set(c.get_children(ledger))
                for e in ("eph-closed", "eph-abandoned"):
                    view[e] = c.exists(f"/{name}/{e}") is not None
                views[sid] = view
            finally:
                c.stop()
                c.close()
        return views

    def verify(self, name, keys, ledger, workers, doomed, after, window):
        check(f"{name}_leader_after", after is not None, f"modes {self.cl.modes()}")
        if after is None:
            return
        self.progress(name, window)
        views = {}
        for attempt in range(5):
            try:
                views = self.node_reads(name, keys, ledger)
                break
            except Exception as e:  # noqa: BLE001: a node may still be changing roles
                note(f"reading the nodes failed ({e!r}); retrying")
                self.cl.leader(30)
                time.sleep(1)
        if len(views) != len(self.cl.nodes):
            check(f"{name}_nodes_readable", False, "could not read every node")
            return
        first = views[min(views)]
        acked = {p.rsplit("/", 1)[1] for w in workers for p in w.acked_ledger}
        missing = sorted(acked - first["ledger"])
        check(f"{name}_no_acknowledged_create_lost", not missing, f"{len(missing)} of {len(acked)} missing: {missing[:5]}")
        same = all({k: v for k, v in view.items() if not k.startswith("eph")} ==
                   {k: v for k, v in first.items() if not k.startswith("eph")} for view in views.values())
        check(f"{name}_nodes_agree", same, "; ".join(f"n{s}: {v}" for s, v in views.items()))
        self.ephemerals(name, doomed)
        errors = [e for w in workers for e in w.read_errors]
        check(f"{name}_sessions_never_read_back_in_time", not errors, "; ".join(errors[:5]))

    def progress(self, name, window):
        t_fault, t_heal = window
        acked = []
        with self.rec.lock:
            for line in self.rec.lines.get(name, []):
                f = line.split()
                if f[1] != "-" and (" -> ok" in line or " -> written" in line):
                    acked.append(int(f[1]))
        acked.sort()
        gaps = [b - a for a, b in zip(acked, acked[1:])]
        after_heal = sum(1 for t in acked if t > t_heal)
        during = sum(1 for t in acked if t_fault <= t <= t_heal)
        note(f"{len(acked)} acknowledged writes ({during} during the fault, {after_heal} after it); "
             f"longest pause between acknowledged writes {max(gaps, default=0) // 1_000_000} ms")
        check(f"{name}_writes_resume", after_heal > 0 and len(acked) > 30, f"{len(acked)} acked, {after_heal} after the heal")

    def ephemerals(self, name, doomed):
        _, _, ready = doomed
        deadline = time.monotonic() + 30
        left = None
        while time.monotonic() < deadline:
            left = self.ephemeral_owners(name)
            if not left:
                break
            time.sleep(0.5)
        check(f"{name}_ephemerals_of_ended_sessions_vanish", ready and not left, f"still there: {left}")

    def ephemeral_owners(self, name):
        left = []
        for sid in sorted(self.cl.nodes):
            c = self.cl.client([sid])
            try:
                c.sync("/")
                left += [f"n{sid}:{e}" for e in ("eph-closed", "eph-abandoned") if c.exists(f"/{name}/{e}")]
            finally:
                c.stop()
                c.close()
        return left

    # ---- the whole run ----

    def run(self):
        why = self.cl.mount()
        if why:
            self.disk_ok = False
            print(f"note: no tmpfs for the dataDirs ({why}); the full-disk phases are skipped", flush=True)
        self.cl.start()
        t0 = time.monotonic()
        leader = self.cl.leader(90)
        check("ensemble_elects", leader is not None, f"modes {self.cl.modes()}")
        if leader is None:
            return
        note(f"{KIND} x3, tickTime {TICK_MS} ms: leader {leader} after {ms_since(t0)} ms")
        keeper, lost = self.keeper()
        lockers = self.start_lockers()
        phases = [("kill_leader", self.kill, "leader"), ("kill_follower", self.kill, "follower"),
                  ("pause_leader", self.pause, "leader"), ("pause_follower", self.pause, "follower"),
                  ("partition_leader", self.partition, "leader"),
                  ("partition_follower", self.partition, "follower")]
        if self.disk_ok:
            phases += [("disk_full_follower", self.disk_full, "follower"), ("disk_full_leader", self.disk_full, "leader")]
        for name, fault, role in phases:
            try:
                self.disk_outcome = None
                self.phase(name, fault, role)
                if self.disk_outcome is not None:
                    code, mode = self.disk_outcome
                    stopped = code is not None if KIND == "rzk" else (code is not None or mode is None)
                    check(f"{name}_node_stops_serving", stopped, f"exit status {code}, mode {mode}")
            except Exception as e:  # noqa: BLE001: reported as a failed check
                check(f"{name}_completes", False, repr(e))
        print("== after all phases", flush=True)
        self.finish_lockers(lockers)
        self.check_keeper(keeper, lost)
        self.final_trees()
        self.linearizable()

    def keeper(self):
        lost = []
        retry = KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5)
        k = KazooClient(hosts=self.cl.hosts(), timeout=15.0, connection_retry=retry)
        k.add_listener(lambda s: lost.append(s) if s == KazooState.LOST else None)
        k.start(timeout=30)
        k.create("/keeper", b"", ephemeral=True)
        return k, lost

    def check_keeper(self, keeper, lost):
        sid = keeper.client_id[0] if keeper.client_id else None
        owners = {}
        for n in sorted(self.cl.nodes):
            c = self.cl.client([n])
            try:
                c.sync("/")
                st = c.exists("/keeper")
                owners[n] = st.ephemeralOwner if st else None
            finally:
                c.stop()
                c.close()
        ok = not lost and keeper.state == KazooState.CONNECTED and all(o == sid for o in owners.values())
        check("held_session_keeps_its_ephemeral", ok, f"lost={bool(lost)} state={keeper.state} owners={owners} session={sid}")
        keeper.stop()
        keeper.close()

    def start_lockers(self):
        c = self.cl.client()
        c.ensure_path("/locks")
        c.create("/locks/holder", b"init")
        self.rec.set_initial("locks", "/locks/holder", "init 0")
        c.stop()
        c.close()
        lockers = [LockUser(u, self.cl.hosts(), self.rec, "locks", "/locks/lock", "/locks/holder") for u in range(3)]
        for u in lockers:
            u.start()
        return lockers

    def finish_lockers(self, lockers):
        for u in lockers:
            u.stop_flag = True
        for u in lockers:
            u.join(30)
        holds = sum(u.holds for u in lockers)
        tainted = sum(u.tainted for u in lockers)
        overlaps = [o for u in lockers for o in u.overlaps]
        note(f"lock: {holds} holds, {tainted} with the session suspended meanwhile (not judged)")
        check("lock_holders_never_overlap", holds > 20 and not overlaps, f"{holds} holds; {overlaps[:5]}")

    def final_trees(self):
        self.cl.leader(60)
        dumps = {}
        for sid in sorted(self.cl.nodes):
            c = self.cl.client([sid])
            try:
                c.sync("/")
                dumps[sid] = dump(c)
            finally:
                c.stop()
                c.close()
        first = dumps[min(dumps)]
        diff = {sid: sorted(set(d.items()) ^ set(first.items()))[:3] for sid, d in dumps.items() if d != first}
        check("final_trees_identical", not diff, f"{len(first)} znodes; differences {diff}")

    def linearizable(self):
        path = os.path.join(WORK, "histories.txt")
        self.rec.write(path)
        r = subprocess.run([RZK_CHECK, path], capture_output=True, text=True, timeout=300)
        for line in r.stdout.splitlines():
            m = re.match(r"history (\S+): (\d+) operations, (.*)", line)
            if m:
                check(f"linearizable_{m.group(1)}", m.group(3).startswith("linearizable"),
                      m.group(3) + "\n" + r.stdout[r.stdout.index(line) + len(line):].split("\nhistory ")[0])
                note(line)
        summary = [x for x in r.stdout.splitlines() if x.startswith("histories checked")]
        print(summary[0] if summary else f"rzk-check failed: {r.stderr.strip()}", flush=True)
        check("histories_checked", r.returncode == 0, f"status {r.returncode}: {r.stderr.strip()[-500:]}")


def dump(c):
    out = {}

    def walk(path):
        for ch in sorted(c.get_children(path)):
            p = path.rstrip("/") + "/" + ch
            if p == "/zookeeper":
                continue
            data, st = c.get(p)
            out[p] = (data, st.version, st.czxid, st.mzxid, st.ephemeralOwner)
            walk(p)
    walk("/")
    return out


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    suite = Suite()
    try:
        suite.run()
    except Exception as e:  # noqa: BLE001: reported as a failed check
        check("suite_completes", False, repr(e))
    finally:
        suite.cl.stop()
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed", flush=True)
    sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()
