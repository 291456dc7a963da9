#!/usr/bin/env python3
"""Drive the ZooKeeper C client shell (cli_mt) through a basic session.

cli_mt reads commands from stdin and answers asynchronously on stderr
("<path>: rc = N" lines, watcher callbacks). Each command is written, then
the driver waits (bounded) for the output that proves the expected result.
Checks print `PASS name` / `FAIL name: reason`; the last line is the totals.

Usage: cli_session.py <host:port>   (env CLI_MT, ZKCLI override the tools)
"""

import base64
import hashlib
import os
import re
import select
import subprocess
import sys
import time

CLI_MT = os.environ.get("CLI_MT", "/usr/lib/zookeeper/bin/cli_mt")
ZKCLI = os.environ.get("ZKCLI", "/usr/share/zookeeper/bin/zkCli.sh")
WAIT = float(os.environ.get("CLI_WAIT", "10"))
ROOT = "/cclient"


class Cli:
    """One cli_mt process; `expect` consumes its merged output in order."""

    def __init__(self, connect, name):
        self.name = name
        self.proc = subprocess.Popen(
            [CLI_MT, "-h", connect],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.buf = ""
        self.pos = 0
        os.set_blocking(self.proc.stdout.fileno(), False)

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def _pump(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.2))
        if ready:
            chunk = self.proc.stdout.read()
            if chunk:
                self.buf += chunk.decode("utf-8", "replace")
            elif chunk == b"":
                return False
        return True

    def expect(self, pattern, timeout=WAIT):
        """Wait for `pattern` after what was consumed; return the match or None."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            if not self._pump(deadline):
                m = rx.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                return m

    def pending(self):
        """Output not consumed yet (drained without waiting)."""
        self._pump(time.monotonic() + 0.05)
        return self.buf[self.pos:]

    def call(self, line, pattern, timeout=WAIT):
        self.send(line)
        return self.expect(pattern, timeout)

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def tail(self, n=400):
        return self.buf[self.pos:][-n:].replace("\n", "\\n")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, reason=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}: {reason}", flush=True)
        return ok


def rc_line(path, rc):
    return re.escape(path) + r": rc = " + str(rc) + r"\b"


def zkcli(connect, *args):
    """One Java-shell command (for what cli_mt cannot do, e.g. setAcl)."""
    out = subprocess.run(
        [ZKCLI, "-server", connect, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=60,
    )
    return out.stdout.decode("utf-8", "replace")


def wait_quiet(cli, marker_path):
    """Flush a synchronous command: a later async `get` answers after it."""
    return cli.call(f"get {marker_path}", rc_line(marker_path, r"-?\d+"))


def session_basics(c, a):
    m = a.expect(r"Got a new session id: 0x([0-9a-f]+)")
    if not c.check("connect", m is not None, "no session id: " + a.tail()):
        raise SystemExit(f"{c.passed} passed, {c.failed} failed")
    sid = m.group(1)
    # `myid` prints on stdout, block-buffered in a pipe: checked after quit.
    a.send("myid")
    m = a.call(f"create {ROOT}", rc_line(f"[{ROOT}]", 0) + r"\n\tname = " + re.escape(ROOT) + "\n")
    c.check("create", m is not None, a.tail())
    m = a.call(f"create {ROOT}", rc_line(f"[{ROOT}]", -110))
    c.check("create_existing_nodeexists", m is not None, a.tail())
    m = a.call(f"get {ROOT}", rc_line(ROOT, 0) + r"\n value_len = 3\nnew\nStat:\n\tctime = [^\n]*\n"
               r"\tczxid=[0-9a-f]+\n\tmtime=[^\n]*\n\tmzxid=[0-9a-f]+\n\tversion=0\taversion=0\n"
               r"\tephemeralOwner = 0\n")
    c.check("get", m is not None, a.tail())
    m = a.call(f"set {ROOT} hello", rc_line(ROOT, 0) + r" Stat:\n(?:[^\n]*\n){4}\tversion=1\t")
    c.check("set", m is not None, a.tail())
    m = a.call(f"get {ROOT}", rc_line(ROOT, 0) + r"\n value_len = 5\nhello\nStat:\n(?:[^\n]*\n){4}\tversion=1\t")
    c.check("get_after_set", m is not None, a.tail())
    m = a.call(f"get {ROOT}/missing", rc_line(f"{ROOT}/missing", -101) + r"\n\nStat:\nnull\n")
    c.check("get_missing_nonode", m is not None, a.tail())
    return sid


def create_modes(c, a):
    m = a.call(f"create +e {ROOT}/eph", rc_line(f"[{ROOT}/eph]", 0))
    c.check("create_ephemeral", m is not None, a.tail())
    m = a.call(f"create +s {ROOT}/seq-", rc_line(f"[{ROOT}/seq-]", 0) + r"\n\tname = " + re.escape(ROOT) + r"/seq-(\d{10})\n")
    first = int(m.group(1)) if m else -1
    m = a.call(f"create +s {ROOT}/seq-", rc_line(f"[{ROOT}/seq-]", 0) + r"\n\tname = " + re.escape(ROOT) + r"/seq-(\d{10})\n")
    second = int(m.group(1)) if m else -1
    c.check("create_sequential", first >= 0 and second == first + 1, f"{first} then {second}")
    m = a.call(f"create +es {ROOT}/eseq-", rc_line(f"[{ROOT}/eseq-]", 0) + r"\n\tname = " + re.escape(ROOT) + r"/eseq-\d{10}\n")
    c.check("create_ephemeral_sequential", m is not None, a.tail())
    m = a.call(f"create +c {ROOT}/cont", rc_line(f"[{ROOT}/cont]", 0))
    c.check("create_container", m is not None, a.tail())
    m = a.call(f"create +t=600000 {ROOT}/ttl", rc_line(f"[{ROOT}/ttl]", 0))
    c.check("create_ttl", m is not None, a.tail())
    m = a.call(f"create2 {ROOT}/two", rc_line(f"[{ROOT}/two]", 0) + r"\n\tname = " + re.escape(ROOT)
               + r"/two\n\tctime = [^\n]*\n\tczxid=([0-9a-f]+)\n\tmtime=[^\n]*\n\tmzxid=([0-9a-f]+)\n\tversion=0\taversion=0\n\tephemeralOwner = 0\n")
    c.check("create2_stat", m is not None and m.group(1) == m.group(2), a.tail())
    m = a.call(f"create {ROOT}/nope/child", rc_line(f"[{ROOT}/nope/child]", -101))
    c.check("create_without_parent_nonode", m is not None, a.tail())


def listing(c, a, sid):
    m = a.call(f"ls {ROOT}", rc_line(ROOT, 0) + r"\n((?:\t[^\n]*\n)*)time = ")
    kids = sorted(x.strip() for x in m.group(1).splitlines()) if m else []
    want = ["cont", "eph", "eseq-", "seq-", "two", "ttl"]
    got = sorted(re.sub(r"\d{10}$", "", k) for k in kids)
    c.check("ls", got == sorted(want + ["seq-"]), f"children {kids}")
    m = a.call(f"ls2 {ROOT}", rc_line(ROOT, 0) + r"\n((?:\t[^\n]*\n)*)time = \d+ msec\n\tctime = [^\n]*\n"
               r"\tczxid=[0-9a-f]+\n\tmtime=[^\n]*\n\tmzxid=[0-9a-f]+\n\tversion=1\taversion=0\n\tephemeralOwner = 0\n")
    c.check("ls2_children_and_stat", m is not None and len(m.group(1).splitlines()) == len(kids), a.tail())
    m = a.call(f"get {ROOT}/eph", rc_line(f"{ROOT}/eph", 0) + r"\n value_len = 3\nnew\nStat:\n(?:[^\n]*\n){5}\tephemeralOwner = ([0-9a-f]+)\n")
    c.check("ephemeral_owner_is_session", m is not None and m.group(1) == sid, f"owner {m and m.group(1)} sid {sid}")
    a.send(f"exists {ROOT}/two")
    m = wait_quiet(a, ROOT)
    before = a.buf[:m.start()] if m else ""
    c.check("exists_present", m is not None and f"Error -101 for {ROOT}/two" not in before, a.tail())
    m = a.call(f"exists {ROOT}/absent", r"Error -101 for " + re.escape(ROOT) + r"/absent\n")
    c.check("exists_absent_nonode", m is not None, a.tail())
    m = a.call("sync /", r"\[/\]: rc = 0\n\tname = /\n")
    c.check("sync", m is not None, a.tail())
    m = a.call(f"sync {ROOT}", rc_line(f"[{ROOT}]", 0))
    c.check("sync_path", m is not None, a.tail())


def watches(c, a, b):
    ev = "Watcher {} state = CONNECTED_STATE for path {}\n"
    # `exists` on an absent node left a watch: creating it fires CREATED.
    m = b.call(f"create {ROOT}/absent", rc_line(f"[{ROOT}/absent]", 0))
    got = a.expect(re.escape(ev.format("CREATED_EVENT", f"{ROOT}/absent")))
    c.check("watch_exists_created", m is not None and got is not None, a.tail())
    a.call(f"get {ROOT}/two", rc_line(f"{ROOT}/two", 0))
    b.call(f"set {ROOT}/two changed", rc_line(f"{ROOT}/two", 0))
    got = a.expect(re.escape(ev.format("CHANGED_EVENT", f"{ROOT}/two")))
    c.check("watch_data_changed_other_session", got is not None, a.tail())
    a.call(f"ls {ROOT}/cont", rc_line(f"{ROOT}/cont", 0))
    b.call(f"create {ROOT}/cont/kid", rc_line(f"[{ROOT}/cont/kid]", 0))
    got = a.expect(re.escape(ev.format("CHILD_EVENT", f"{ROOT}/cont")))
    c.check("watch_children", got is not None, a.tail())
    a.call(f"get {ROOT}/two", rc_line(f"{ROOT}/two", 0))
    b.call(f"delete {ROOT}/two", rc_line(f"{ROOT}/two", 0))
    got = a.expect(re.escape(ev.format("DELETED_EVENT", f"{ROOT}/two")))
    c.check("watch_deleted", got is not None, a.tail())
    # A fired watch is one-shot: a second change must not notify again.
    a.call(f"get {ROOT}", rc_line(ROOT, 0))
    b.call(f"set {ROOT} v2", rc_line(ROOT, 0))
    first = a.expect(re.escape(ev.format("CHANGED_EVENT", ROOT)))
    mark = a.pos
    b.call(f"set {ROOT} v3", rc_line(ROOT, 0))
    wait_quiet(a, f"{ROOT}/cont")
    again = ev.format("CHANGED_EVENT", ROOT) in a.buf[mark:] + a.pending()
    c.check("watch_one_shot", first is not None and not again, a.tail())


def deletes(c, a):
    m = a.call(f"delete {ROOT}/cont", rc_line(f"{ROOT}/cont", -111))
    c.check("delete_not_empty", m is not None, a.tail())
    m = a.call(f"delete {ROOT}/cont/kid", rc_line(f"{ROOT}/cont/kid", 0))
    c.check("delete", m is not None, a.tail())
    m = a.call(f"delete {ROOT}/cont/kid", rc_line(f"{ROOT}/cont/kid", -101))
    c.check("delete_missing_nonode", m is not None, a.tail())


def acls(c, a, connect):
    digest = base64.b64encode(hashlib.sha1(b"bob:bobsecret").digest()).decode()
    path = f"{ROOT}/secret"
    a.call(f"create {path}", rc_line(f"[{path}]", 0))
    out = zkcli(connect, "setAcl", "-s", path, f"digest:bob:{digest}:cdrwa")
    c.check("setacl_java_shell", re.search(r"^aclVersion = 1$", out, re.M) is not None, out[-300:])
    m = a.call(f"get {path}", rc_line(path, -102))
    c.check("get_without_auth_noauth", m is not None, a.tail())
    m = a.call(f"set {path} x", rc_line(path, -102))
    c.check("set_without_auth_noauth", m is not None, a.tail())
    a.send("addauth digest bob:wrong")
    m = a.call(f"get {path}", rc_line(path, -102))
    c.check("addauth_wrong_password_still_noauth", m is not None, a.tail())
    a.send("addauth digest bob:bobsecret")
    m = a.call(f"get {path}", rc_line(path, 0) + r"\n value_len = 3\nnew\n")
    c.check("addauth_digest_grants_read", m is not None, a.tail())
    m = a.call(f"set {path} opened", rc_line(path, 0))
    c.check("addauth_digest_grants_write", m is not None, a.tail())


def super_user(c, connect):
    s = Cli(connect, "super")
    s.expect(r"Got a new session id")
    path = f"{ROOT}/secret"
    s.send("addauth digest super:test")
    m = s.call(f"get {path}", rc_line(path, 0) + r"\n value_len = 6\nopened\n")
    c.check("addauth_super_reads_anything", m is not None, s.tail())
    s.call(f"delete {path}", rc_line(path, 0))
    s.call("quit", r"Quitting\.\.\.")
    s.close()


def quit_and_ephemerals(c, a, connect, sid):
    m = a.call("quit", r"Quitting\.\.\.\n")
    a.close()
    a.pending()
    c.check("myid", f"session Id = {sid}\n" in a.buf, a.tail())
    c.check("quit", m is not None and a.proc.returncode == 0, f"rc {a.proc.returncode} {a.tail()}")
    d = Cli(connect, "after")
    d.expect(r"Got a new session id")
    m = d.call(f"exists {ROOT}/eph", r"Error -101 for " + re.escape(ROOT) + r"/eph\n")
    c.check("ephemeral_gone_after_quit", m is not None, d.tail())
    m = d.call(f"ls {ROOT}", rc_line(ROOT, 0) + r"\n((?:\t[^\n]*\n)*)time = ")
    kids = sorted(x.strip() for x in m.group(1).splitlines()) if m else ["?"]
    c.check("ephemeral_sequential_gone_after_quit", not any(k.startswith("eseq-") for k in kids), f"{kids}")
    d.call("quit", r"Quitting\.\.\.")
    d.close()


def main():
    connect = sys.argv[1]
    c = Checks()
    a = Cli(connect, "a")
    b = Cli(connect, "b")
    try:
        sid = session_basics(c, a)
        b.expect(r"Got a new session id")
        create_modes(c, a)
        listing(c, a, sid)
        watches(c, a, b)
        deletes(c, a)
        acls(c, a, connect)
        super_user(c, connect)
        b.call("quit", r"Quitting\.\.\.")
        b.close()
        quit_and_ephemerals(c, a, connect, sid)
    except SystemExit as stop:
        print(stop, flush=True)
        return 1
    finally:
        for cli in (a, b):
            if cli.proc.poll() is None:
                cli.proc.kill()
                cli.proc.wait()
    print(f"{c.passed} passed, {c.failed} failed", flush=True)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
