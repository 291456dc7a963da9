"""With no 4lw.commands.whitelist, only srvr answers; every other word gets Java's
refusal line. Compares the server under test with Apache ZooKeeper word by word.

usage: whitelist_check.py <target host:port> <oracle host:port>"""
import struct
import sys

from compare import WORDS, four, normalize


def main():
    target, oracle = sys.argv[1:3]
    passed = failed = 0
    for word in WORDS + ["stmk"]:
        extra = struct.pack(">q", 306) if word == "stmk" else b""
        t, o = normalize(four(target, word, extra)), normalize(four(oracle, word, extra))
        ok = t == o
        print(("PASS" if ok else "FAIL"), "whitelist " + word, "" if ok else "target %r, oracle %r" % (t, o))
        passed, failed = passed + ok, failed + (not ok)
    print("%d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
