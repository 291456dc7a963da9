"""The metrics the transaction log, the snapshots, the start-up load and the connection
factory record: after the same requests on two fresh servers, every one of them that
has a value (a counter, or a summary's cnt) in Apache ZooKeeper has one in the target,
and the deterministic ones are equal (requests handed to the sync processor, txns per
commit, start-up samples, dropped connections). Timings are only checked to exist.
Values after a restart (startup_txns_loaded, …) are checked by rzk's tests/server_metrics.rs.

usage: storage_metrics_check.py <target host:port> <oracle host:port>"""
import socket
import struct
import sys
import time

import zkclient
from values_check import four, close_session

SUMMARIES = [
    "fsynctime", "snapshottime", "dbinittime", "startup_snap_load_time", "startup_txns_load_time",
    "startup_txns_loaded", "sync_processor_queue_size", "sync_processor_batch_size", "sync_process_time",
    "sync_processor_queue_time_ms", "sync_processor_queue_flush_time_ms", "sync_processor_queue_and_flush_time_ms",
]
COUNTERS = [
    "sync_processor_request_queued", "connection_drop_count", "connection_rejected", "sessionless_connections_expired",
    "unsuccessful_handshake", "insecure_admin_count",
]
# Equal in both for this sequential workload.
EXACT = [
    "zk_sync_processor_request_queued", "zk_sum_sync_processor_batch_size", "zk_cnt_sync_process_time",
    "zk_cnt_dbinittime", "zk_cnt_startup_snap_load_time", "zk_cnt_startup_txns_loaded", "zk_cnt_snapshottime",
    "zk_connection_drop_count",
]


def mntr(addr):
    out = {}
    for line in four(addr, "mntr").splitlines():
        k, _, v = line.partition("\t")
        out[k] = v
    return out


def workload(addr):
    host, port = addr.rsplit(":", 1)
    s = zkclient.Session(host, int(port))
    for i in range(10):
        s.create("/s%d" % i, b"x" * 20)
    for i in range(10):
        s.get_data("/s%d" % i, watch=False)
    s.exists("/nope", watch=False)
    s.call(2, zkclient._string("/s0") + struct.pack(">i", -1))  # delete
    close_session(s)
    # A client that goes away without a word: end of stream on the server's read.
    socket.create_connection((host, int(port)), timeout=10).close()


def main():
    target, oracle = sys.argv[1:3]
    for a in (target, oracle):
        workload(a)
    time.sleep(0.5)
    t, o = mntr(target), mntr(oracle)
    passed = failed = 0

    def check(ok, name, detail=""):
        nonlocal passed, failed
        print(("PASS " if ok else "FAIL ") + name + ("" if ok else " " + detail))
        passed, failed = passed + ok, failed + (not ok)

    for key in ["zk_" + c for c in COUNTERS] + ["zk_cnt_" + s for s in SUMMARIES]:
        if key not in o:
            continue
        has = lambda m: float(m.get(key, "0")) != 0
        if has(o):
            check(has(t), "%s has a value as in Java" % key, "target %s oracle %s" % (t.get(key), o[key]))
    for key in EXACT:
        check(t.get(key) == o.get(key), "%s equal" % key, "target %s oracle %s" % (t.get(key), o.get(key)))
    print("%d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
