"""Clients of the fault-injection suite and the history they record.

Every operation is written as one line of the format `rzk-check` reads (see
`src/check/history.rs`): invoke and completion times from `time.monotonic_ns()` (one
clock: one process), the operation, and what the client saw. Only answers the server
decided count: success, NoNode, NodeExists and BadVersion; any other error (connection
loss, timeout, an expired or closed session, ...) is `unknown`, since the request may
or may not have been applied. Plain getData is not linearizable in ZooKeeper (a
follower may lag), so only `sync` + getData enters the history; plain reads are checked
for what ZooKeeper does promise: a value some write wrote, never older than what the
same session saw before.
"""
import random
import threading
import time

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError
from kazoo.retry import KazooRetry

OP_TIMEOUT = 8.0
DEFINITE = {NoNodeError: "NoNode", NodeExistsError: "NodeExists", BadVersionError: "BadVersion"}


def encode(data):
    if not data:
        return "-"
    if data == b"-":
        return "%2D"
    return "".join(chr(b) if 0x21 <= b <= 0x7E and b != 0x25 else f"%{b:02X}" for b in data)


class Recorder:
    """The histories of a run, one per name, as lines of the text format."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lines = {}
        self.initial = {}  # history -> [(key, "DATA VERSION" or "absent")]

    def set_initial(self, history, key, value):
        with self.lock:
            self.initial.setdefault(history, []).append((key, value))

    def add(self, history, line):
        with self.lock:
            self.lines.setdefault(history, []).append(line)

    def write(self, path):
        with self.lock, open(path, "w") as f:
            for name, lines in self.lines.items():
                f.write(f"history {name}\n")
                for key, value in self.initial.get(name, []):
                    f.write(f"initial {key} {value}\n")
                f.write("\n".join(lines) + "\n")

    def op(self, history, client, key, op, invoke, complete, outcome):
        done = "-" if outcome == "unknown" or complete is None else str(complete)
        self.add(history, f"{invoke} {done} {client:#x} {key} {op} -> {outcome}")

    def count(self, history, pred=lambda line: True):
        with self.lock:
            return sum(1 for line in self.lines.get(history, []) if pred(line))


def call(fn, *args):
    """Runs an async kazoo call; (result, None) or (None, error name or 'unknown')."""
    try:
        return fn(*args).get(timeout=OP_TIMEOUT), None
    except tuple(DEFINITE) as e:
        return None, DEFINITE[type(e)]
    except Exception:  # noqa: BLE001: no decided answer
        return None, "unknown"


def session_of(c):
    try:
        return c.client_id[0] if c.client_id else 0
    except Exception:  # noqa: BLE001
        return 0


class Worker(threading.Thread):
    """One client doing create, setData (plain and compare-and-set), delete (plain and
    versioned), sync+getData and getData on a few keys, plus creates of unique nodes
    under `ledger` that must all survive."""

    def __init__(self, wid, hosts, history, keys, ledger, rec, seed, pad=0):
        super().__init__(daemon=True)
        self.pad = b"." * pad
        self.wid, self.hosts, self.history, self.keys, self.ledger = wid, hosts, history, keys, ledger
        self.rec, self.rng = rec, random.Random(seed)
        self.stop_flag = False
        self.acked_ledger, self.read_errors = [], []
        self.seen = {}  # key -> last (czxid, mzxid) this session saw
        self.seen_session = 0
        self.version = {}  # key -> last version seen, for compare-and-set
        self.seq = 0
        self.client = None

    def run(self):
        retry = KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5)
        self.client = KazooClient(hosts=self.hosts, timeout=4.0, connection_retry=retry)
        try:
            self.client.start(timeout=30)
        except Exception:  # noqa: BLE001: counted by the phase as no progress
            return
        kinds = ["create", "set", "cas", "delete", "vdelete", "sread", "read", "ledger"]
        weights = [10, 18, 22, 6, 6, 20, 12, 6]
        while not self.stop_flag:
            kind = self.rng.choices(kinds, weights)[0]
            getattr(self, "do_" + kind)(self.rng.choice(self.keys))
            time.sleep(self.rng.uniform(0.002, 0.012))
        try:
            self.client.stop()
            self.client.close()
        except Exception:  # noqa: BLE001
            pass

    def value(self):
        self.seq += 1
        return f"w{self.wid}.{self.seq}".encode() + self.pad

    def record(self, key, op, invoke, outcome):
        self.rec.op(self.history, session_of(self.client), key, op, invoke, time.monotonic_ns(), outcome)

    def do_create(self, key):
        data, t = self.value(), time.monotonic_ns()
        _, err = call(self.client.create_async, key, data)
        self.record(key, f"create {encode(data)}", t, "ok" if err is None else self.err(err))
        if err is None:
            self.version[key] = 0

    def write(self, key, expected):
        data, t = self.value(), time.monotonic_ns()
        stat, err = call(self.client.set_async, key, data, expected)
        outcome = f"written {stat.version}" if err is None else self.err(err)
        self.record(key, f"set {encode(data)} {expected}", t, outcome)
        if err is None:
            self.version[key] = stat.version

    def do_set(self, key):
        self.write(key, -1)

    def do_cas(self, key):
        self.write(key, self.version.get(key, 0))

    def remove(self, key, expected):
        t = time.monotonic_ns()
        _, err = call(self.client.delete_async, key, expected)
        self.record(key, f"delete {expected}", t, "ok" if err is None else self.err(err))

    def do_delete(self, key):
        self.remove(key, -1)

    def do_vdelete(self, key):
        self.remove(key, self.version.get(key, 0))

    def do_sread(self, key):
        t = time.monotonic_ns()
        _, err = call(self.client.sync_async, key)
        got, err = (None, err) if err else call(self.client.get_async, key)
        if err == "NoNode":
            self.record(key, "read", t, "read absent")
        elif err:
            self.record(key, "read", t, "unknown")
        else:
            data, stat = got
            self.version[key] = stat.version
            self.record(key, "read", t, f"read {encode(data)} {stat.version}")
            self.saw(key, stat)

    def do_read(self, key):
        got, err = call(self.client.get_async, key)
        if err is None:
            data, stat = got
            self.version[key] = stat.version
            self.saw(key, stat, data)

    def saw(self, key, stat, data=None):
        """A session never sees a znode older than one it saw before."""
        session = session_of(self.client)
        if session != self.seen_session:
            self.seen, self.seen_session = {}, session
        now = (stat.czxid, stat.mzxid)
        before = self.seen.get(key)
        if before and now < before:
            self.read_errors.append(f"{key}: session saw {now} after {before}")
        self.seen[key] = max(now, before or now)
        if data is not None and not data.startswith(b"w"):
            self.read_errors.append(f"{key}: read {data!r}, which no client wrote")

    def do_ledger(self, _key):
        path = f"{self.ledger}/{self.wid}-{self.seq}"
        self.seq += 1
        _, err = call(self.client.create_async, path, b"")
        if err is None:
            self.acked_ledger.append(path)

    def err(self, name):
        return "unknown" if name == "unknown" else f"error {name}"


class LockUser(threading.Thread):
    """Takes a kazoo Lock in turns with the others; while holding it, reads the holder
    znode with sync+getData, writes it with a compare-and-set on the version just read,
    and reads it back. A second holder at the same time breaks that chain (a
    BadVersion, or someone else's value read back). Holds during which the session was
    suspended or lost do not count: kazoo's own rule is that the lock may then be gone."""

    def __init__(self, uid, hosts, rec, history, lock_path, holder):
        super().__init__(daemon=True)
        self.uid, self.hosts, self.rec, self.history = uid, hosts, rec, history
        self.lock_path, self.holder = lock_path, holder
        self.stop_flag = False
        self.holds, self.tainted, self.overlaps = 0, 0, []
        self.state_changes = 0
        self.seq = 0

    def listener(self, state):
        if state != KazooState.CONNECTED:
            self.state_changes += 1

    def run(self):
        retry = KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5)
        c = KazooClient(hosts=self.hosts, timeout=6.0, connection_retry=retry)
        c.add_listener(self.listener)
        try:
            c.start(timeout=30)
        except Exception:  # noqa: BLE001
            return
        while not self.stop_flag:
            lock = c.Lock(self.lock_path, f"u{self.uid}")
            try:
                if not lock.acquire(timeout=5):
                    continue
            except Exception:  # noqa: BLE001: not held
                time.sleep(0.1)
                continue
            try:
                self.hold(c)
            finally:
                try:
                    lock.release()
                except Exception:  # noqa: BLE001: the session will end the lock
                    pass
            time.sleep(0.05)
        try:
            c.stop()
            c.close()
        except Exception:  # noqa: BLE001
            pass

    def op(self, c, op, t, outcome):
        self.rec.op(self.history, session_of(c), self.holder, op, t, time.monotonic_ns(), outcome)

    def hold(self, c):
        before = self.state_changes
        t = time.monotonic_ns()
        got, err = call(c.sync_async, self.holder)
        got, err = (None, err) if err else call(c.get_async, self.holder)
        if err:
            self.op(c, "read", t, "unknown")
            return
        data, stat = got
        self.op(c, "read", t, f"read {encode(data)} {stat.version}")
        self.seq += 1
        mine = f"u{self.uid}.{self.seq}".encode()
        t = time.monotonic_ns()
        new, err = call(c.set_async, self.holder, mine, stat.version)
        self.op(c, f"set {encode(mine)} {stat.version}", t, f"written {new.version}" if err is None else
                ("unknown" if err == "unknown" else f"error {err}"))
        time.sleep(0.02)
        t = time.monotonic_ns()
        got, err2 = call(c.sync_async, self.holder)
        got, err2 = (None, err2) if err2 else call(c.get_async, self.holder)
        self.op(c, "read", t, "unknown" if err2 else f"read {encode(got[0])} {got[1].version}")
        clean = self.state_changes == before
        broken = err == "BadVersion" or (err is None and not err2 and got[0] != mine)
        self.holds += 1
        if not clean:
            self.tainted += 1
        elif broken:
            self.overlaps.append(f"u{self.uid}: CAS {err or 'ok'}, read back {got[0] if got else None!r}")
