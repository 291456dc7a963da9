"""Compares metric *values* (not only their names) of two fresh servers given the same
requests: the client response sizes (last/min/max), the per-namespace read and write
summaries, watch_bytes, the quota gauge sets and the count of writes a hard quota
rejected, and what srst and crst reset. Both servers must be fresh, have mntr enabled
and enforceQuota=true.

usage: values_check.py <target host:port> <oracle host:port>"""
import re
import struct
import sys
import time

import zkclient

KEYS = re.compile(r"^zk_((last|min|max)_client_response_size|watch_bytes|(avg|min|max|cnt|sum)_\w+_(read|write)_per_namespace"
                  r"|\w+_quota_(count|bytes)_(limit|usage)_per_namespace|\w+_quota_exceeded_error_per_namespace)$")


four = zkclient.four


def values(addr):
    out = {}
    for line in four(addr, "mntr").splitlines():
        k, _, v = line.partition("\t")
        if KEYS.match(k):
            out[k] = v
    return out


def set_data(s, path, data):
    s.xid += 1
    body = zkclient._string(path) + struct.pack(">i", len(data)) + data + struct.pack(">i", -1)
    s.sock.sendall(zkclient._frame(struct.pack(">ii", s.xid, 5) + body))
    while True:
        reply = s._read_frame()
        if struct.unpack(">i", reply[:4])[0] == s.xid:
            return


def delete(s, path):
    s.call(2, zkclient._string(path) + struct.pack(">i", -1))


def workload(addr):
    host, port = addr.rsplit(":", 1)
    s = zkclient.Session(host, int(port))
    s.create("/app", b"hello")
    s.create("/app/x", b"ab")
    s.create("/app/e", b"eph", ephemeral=True)
    s.create("/other", b"")
    s.get_data("/app")
    s.exists("/app/x")
    s.exists("/nope")
    s.get_children("/app")
    s.get_data("/", watch=False)
    s.get_children("/", watch=False)
    set_data(s, "/app", b"changed!")  # fires the data watch set by get_data
    delete(s, "/app/x")
    return s


def set_quota(s):
    """What zkCli's `setquota -N 3 /app` writes, then two creates: the second is one node
    over the hard limit."""
    s.create("/zookeeper/quota/app")
    s.create("/zookeeper/quota/app/zookeeper_limits", b"count=-1,bytes=-1,countHardLimit=3")
    s.create("/zookeeper/quota/app/zookeeper_stats", b"count=0,bytes=0")
    return [s.create("/app/q1", b"1"), s.create("/app/q2", b"2")]


def close_session(s):
    s.xid += 1
    s.sock.sendall(zkclient._frame(struct.pack(">ii", s.xid, -11)))
    try:
        while struct.unpack(">i", s._read_frame()[:4])[0] != s.xid:
            pass
        # The server closes the connection after the reply; closing ours first would
        # make Java count a dropped connection, or not, depending on which close it
        # reads first.
        s.sock.settimeout(5)
        while s.sock.recv(4096):
            pass
    except (EOFError, OSError):
        pass
    s.close()


def main():
    target, oracle = sys.argv[1:3]
    passed = failed = 0

    def compare(name):
        nonlocal passed, failed
        t, o = values(target), values(oracle)
        ok = t == o and len(o) > 0
        print(("PASS " if ok else "FAIL ") + name + ("" if ok else " target %r oracle %r" % (
            sorted(set(t.items()) - set(o.items())), sorted(set(o.items()) - set(t.items())))))
        passed, failed = passed + ok, failed + (not ok)

    compare("values on a fresh server")
    sessions = [workload(a) for a in (target, oracle)]
    compare("values after reads, writes and a notification")
    errs = [set_quota(s) for s in sessions]
    ok = errs[0] == errs[1] == [0, -125]
    print(("PASS " if ok else "FAIL ") + "a hard count quota rejects the write over it" + ("" if ok else " %r" % errs))
    passed, failed = passed + ok, failed + (not ok)
    compare("values after a quota and a write over its hard limit")
    for a in (target, oracle):
        four(a, "crst")
    compare("values after crst (unchanged)")
    for s in sessions:
        close_session(s)  # deletes the ephemeral: a write in namespace app
    time.sleep(0.3)
    compare("values after a session closed with an ephemeral node")
    for a in (target, oracle):
        four(a, "srst")
    compare("values after srst (sizes -1, summaries zero, keys kept)")
    print("%d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
