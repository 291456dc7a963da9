"""Compares the operations surface of a server under test with Apache ZooKeeper's:
every four-letter word and every AdminServer command, after giving both servers the
same state (a session with an ephemeral node and watches). Values differ between the
two; lines, their order and key names must not.

usage: compare.py <target host:port> <target admin port> <oracle host:port> <oracle admin port>
Prints one PASS/FAIL line per check and returns the number of failures."""
import json
import re
import struct
import sys
import urllib.request

import zkclient

WORDS = "ruok stat srvr mntr conf cons crst srst envi dump wchs wchc wchp dirs isro gtmk hash".split()


four = zkclient.four


def admin(host, port, name):
    url = "http://%s:%s/commands/%s" % (host, port, name)
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode()


DATE = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \w+ \d{4}")
VERSION = re.compile(r"\d+\.\d+\.\d+-\S+, built on [^\n]*")


def normalize(text):
    text = VERSION.sub("VERSION", text)
    text = DATE.sub("DATE", text)
    text = re.sub(r"0x[0-9a-f]+", "0xH", text)
    text = re.sub(r"\d+(\.\d+)?(E\d+)?", "N", text)
    return text


def keys_of(text, sep):
    return [line.split(sep, 1)[0] for line in text.splitlines() if line]


def shape_word(word, text):
    """What must agree for a word: its normalized lines, or its keys where values are
    free-form (paths, environment) or the order is a hash order (mntr)."""
    if word in ("conf", "envi"):
        return keys_of(text, "=")
    if word == "mntr":
        return sorted(keys_of(text, "\t"))
    if word in ("cons", "stat"):
        # Connections come from a hash set in Java: their order is not stable.
        lines = normalize(text).splitlines()
        conns = sorted(l for l in lines if l.startswith(" /"))
        rest = [l for l in lines if not l.startswith(" /")]
        return rest + conns
    if word == "dump":
        # The connection expiry buckets depend on timing; their header must agree.
        # Buckets emptied by a session moving on come and go with timing.
        text = "".join(l for l in text.splitlines(True) if not re.match(r"0 expire at ", l))
        head, _, rest = text.partition("Connections dump:\n")
        return normalize(head).splitlines() + ["Connections dump:", normalize(rest.splitlines()[0] if rest else "")]
    return normalize(text).splitlines()


def dynamic(d):
    return d and all(re.fullmatch(r"-?\d+", k) or k.startswith("/") for k in d)


# Jackson writes the bean properties of ServerStats in an order that changes from one
# JVM run to the next: only the set of keys is stable.
UNORDERED = {"server_stats"}


def shape_json(v, key=None):
    if isinstance(v, dict):
        if dynamic(v):
            filled = [x for x in v.values() if x != []] or list(v.values())
            return {"<key>": shape_json(filled[0])}
        items = [(k, shape_json(x, k)) for k, x in v.items()]
        return sorted(items) if key in UNORDERED else items
    if isinstance(v, list):
        return [shape_json(v[0])] if v else []
    if isinstance(v, bool) or v is None:
        return type(v).__name__
    if isinstance(v, int):
        return "int"
    return type(v).__name__


def shape_command(name, body):
    j = json.loads(body)
    if name in ("monitor", "mntr"):
        return sorted((k, shape_json(v)) for k, v in j.items())
    if name == "system_properties":
        return [k for k in j if k in ("command", "error")]
    return shape_json(j)


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS", name)
        else:
            self.failed += 1
            print("FAIL", name, detail)


def diff(a, b):
    a, b = list(a), list(b)
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else "<missing>"
        y = b[i] if i < len(b) else "<missing>"
        if x != y:
            return "first difference at %d: target %r, oracle %r" % (i, x, y)
    return ""


def compare_words(c, target, oracle):
    for word in WORDS:
        t, o = shape_word(word, four(target, word)), shape_word(word, four(oracle, word))
        c.check("4lw " + word, t == o, diff(t, o))
    t, o = four(target, "stmk", struct.pack(">q", 306)), four(oracle, "stmk", struct.pack(">q", 306))
    c.check("4lw stmk", t == o == "306", "target %r, oracle %r" % (t, o))


def compare_commands(c, target_admin, oracle_admin):
    with urllib.request.urlopen("http://%s:%s/commands" % oracle_admin, timeout=10) as r:
        oracle_index = r.read().decode()
    with urllib.request.urlopen("http://%s:%s/commands" % target_admin, timeout=10) as r:
        target_index = r.read().decode()
    c.check("admin index", target_index == oracle_index, diff(target_index.splitlines(), oracle_index.splitlines()))
    names = re.findall(r"commands/([a-z_]+)", oracle_index)
    aliases = ["conf", "cons", "mntr", "srvr", "stat", "wchs", "wchc", "wchp", "isro", "gtmk", "envi", "nosuch"]
    for name in names + aliases + ["set_trace_mask?traceMask=306"]:
        ts, tt, tb = admin(*target_admin, name)
        os_, ot, ob = admin(*oracle_admin, name)
        base = name.split("?")[0]
        base = {"mntr": "monitor"}.get(base, base)
        t, o = shape_command(base, tb), shape_command(base, ob)
        ok = ts == os_ and tt.split(";")[0] == ot.split(";")[0] and t == o
        c.check("admin " + name, ok, "status %s/%s type %s/%s %s" % (ts, os_, tt, ot, diff(t, o)))


def main():
    target, target_admin_port, oracle, oracle_admin_port = sys.argv[1:5]
    sessions = [zkclient.populate(hp.rsplit(":", 1)[0], int(hp.rsplit(":", 1)[1])) for hp in (target, oracle)]
    c = Checks()
    compare_words(c, target, oracle)
    compare_commands(c, (target.rsplit(":", 1)[0], target_admin_port), (oracle.rsplit(":", 1)[0], oracle_admin_port))
    for s in sessions:
        s.close()
    print("%d passed, %d failed" % (c.passed, c.failed))
    return c.failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
