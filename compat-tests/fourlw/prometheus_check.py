"""Starts a real Prometheus server scraping a server's /metrics on loopback, then asks
Prometheus's HTTP query API for znode_count, a request latency summary and every metric
name of the Grafana dashboard fixture. Then checks what Apache ZooKeeper's mntr and
AdminServer monitor give with this provider (its `dump`): every sample of /metrics as
`zk_<name>{labels}` with a Java double, after the version and state.

usage: prometheus_check.py <metrics host:port> <work dir> <server host:port> [<admin port>]"""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import zkclient

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def query(base, expr):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.loads(r.read().decode())
    return body.get("data", {}).get("result", [])


def wait_for(what, fn, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if fn():
                return True
        except OSError:
            pass
        time.sleep(0.5)
    print("timed out waiting for", what)
    return False


def sample_keys(target):
    with urllib.request.urlopen("http://%s/metrics" % target, timeout=5) as r:
        text = r.read().decode()
    # simpleclient ends a label set with a comma, the provider's dump does not.
    return {l.rsplit(" ", 1)[0].replace(",}", "}") for l in text.splitlines() if l and not l.startswith("#")}


four = zkclient.four


JAVA_DOUBLE = re.compile(r"^(-?\d+\.\d+(E-?\d+)?|NaN|-?Infinity)$")


def dump_checks(check, target, server, admin):
    """mntr and monitor under the Prometheus provider list its samples."""
    samples = sample_keys(target)
    lines = [l.split("\t", 1) for l in four(server, "mntr").splitlines()]
    head = [k for k, _ in lines[:2]]
    check("mntr under the provider starts with version and state", head == ["zk_version", "zk_server_state"], repr(head))
    keys = {k[3:] for k, _ in lines[2:]}
    check("mntr under the provider lists the samples of /metrics", keys == samples,
          "only mntr %r, only /metrics %r" % (sorted(keys - samples)[:5], sorted(samples - keys)[:5]))
    bad = [(k, v) for k, v in lines[2:] if not JAVA_DOUBLE.match(v)]
    check("mntr under the provider prints doubles", not bad, repr(bad[:5]))
    check("mntr under the provider has quantile keys", 'zk_readlatency{quantile="0.5"}' in dict(lines), "")
    if admin:
        with urllib.request.urlopen("http://127.0.0.1:%s/commands/monitor" % admin, timeout=5) as r:
            body = json.loads(r.read().decode())
        keys = set(body) - {"version", "server_state", "command", "error"}
        check("monitor under the provider lists the samples of /metrics", keys == samples,
              "only monitor %r, only /metrics %r" % (sorted(keys - samples)[:5], sorted(samples - keys)[:5]))
        bad = [(k, v) for k, v in body.items() if k in samples and not (isinstance(v, float) or v == "NaN")]
        check("monitor under the provider gives doubles, NaN as a string", not bad, repr(bad[:5]))


def main():
    target, work, server = sys.argv[1:4]
    admin = sys.argv[4] if len(sys.argv) > 4 else None
    os.makedirs(work, exist_ok=True)
    port = free_port()
    cfg = os.path.join(work, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
                "  - job_name: rzk\n    static_configs:\n      - targets: ['%s']\n" % target)
    log = open(os.path.join(work, "prometheus.log"), "w")
    prom = subprocess.Popen(
        ["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(work, "prom-data"),
         "--web.listen-address=127.0.0.1:%d" % port], stdout=log, stderr=subprocess.STDOUT)
    base = "http://127.0.0.1:%d" % port
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        print(("PASS " if ok else "FAIL ") + name + ("" if ok else " " + detail))
        passed, failed = passed + ok, failed + (not ok)

    try:
        host, p = server.rsplit(":", 1)
        s = zkclient.populate(host, int(p))
        up = wait_for("the scrape", lambda: any(r["value"][1] == "1" for r in query(base, 'up{job="rzk"}')), 60)
        check("prometheus scrapes the target", up)
        # A scrape may land while the client is still populating: wait for one after it.
        def at_least(expr, n):
            r = query(base, expr)
            return bool(r) and float(r[0]["value"][1]) >= n
        wait_for("a scrape after the writes", lambda: at_least('znode_count{job="rzk"}', 7)
                 and at_least('updatelatency_count{job="rzk"}', 2), 30)
        wait_for("readlatency", lambda: query(base, 'readlatency_count{job="rzk"}'), 20)
        z = query(base, 'znode_count{job="rzk"}')
        check("znode_count", bool(z) and float(z[0]["value"][1]) >= 7, repr(z))
        for expr in ('readlatency{job="rzk",quantile="0.5"}', 'readlatency_count{job="rzk"}',
                     'updatelatency_sum{job="rzk"}'):
            r = query(base, expr)
            check("latency summary " + expr, bool(r), repr(r))
        r = query(base, 'updatelatency_count{job="rzk"}')
        check("updatelatency counts the writes", bool(r) and float(r[0]["value"][1]) >= 2, repr(r))
        names = [l.split() for l in open(os.path.join(HERE, "grafana-10465-metrics.txt")) if l.strip() and not l.startswith("#")]
        for name, scope in names:
            r = query(base, '{__name__="%s",job="rzk"}' % name)
            if scope == "standalone":
                check("dashboard metric " + name, bool(r))
            else:
                print("SKIP dashboard metric %s (%s only)" % (name, scope))
        dump_checks(check, target, server, admin)
        s.close()
    finally:
        prom.terminate()
        try:
            prom.wait(timeout=10)
        except subprocess.TimeoutExpired:
            prom.kill()
    print("%d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
