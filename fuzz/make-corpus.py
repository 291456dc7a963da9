#!/usr/bin/env python3
"""Builds the seed corpus (fuzz/corpus/<target>/) from the golden fixtures captured
from Apache ZooKeeper 3.8.0 that the repository already holds. Deterministic: running it
again rewrites the same files. Usage: python3 fuzz/make-corpus.py"""

import hashlib
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")


def put(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def client_frames():
    """C>S frames of the captured client sessions, classified by the decoding comment
    under each: ConnectRequests, requests, and each connection's whole byte stream."""
    for fixture in ("client-frames.txt", "workload-frames.txt"):
        streams = {}
        with open(os.path.join(ROOT, "tests", "fixtures", fixture)) as f:
            lines = f.read().splitlines()
        for line, note in zip(lines, lines[1:] + [""]):
            if not line.startswith("C>S "):
                continue
            frame = bytes.fromhex(line.split()[1])
            conn = re.match(r"# \[(\w+)\]", note)
            conn = conn.group(1) if conn else "?"
            if "ConnectRequest" in note:
                put("client_connect", frame[4:])
                if streams.get(conn):
                    put("client_stream", streams[conn])
                streams[conn] = frame
            else:
                put("client_request", frame[4:])
                streams[conn] = streams.get(conn, b"") + frame
        for stream in streams.values():
            put("client_stream", stream)


def log_entries(path):
    with open(path, "rb") as f:
        data = f.read()
    put("txn_log_file", data)
    pos = 16
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">i", data[pos + 8 : pos + 12])
        if length <= 0 or pos + 12 + length + 1 > len(data):
            break
        put("txn_entry", data[pos + 12 : pos + 12 + length])
        pos += 12 + length + 1


def storage():
    for d in (os.path.join(ROOT, "tests", "fixtures", "datadir-3.8"), os.path.join(ROOT, "src", "tree", "testdata")):
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if name.startswith("log.") or name.startswith("quota-log."):
                log_entries(path)
            elif name.startswith("snapshot."):
                with open(path, "rb") as f:
                    put("snapshot", f.read())


def quorum():
    d = os.path.join(ROOT, "src", "proto", "quorum", "testdata")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".hex"):
            continue
        with open(os.path.join(d, name)) as f:
            data = bytes.fromhex("".join(f.read().split()))
        if name.startswith("zab-"):
            put("quorum_packets", data)
        elif name.startswith("election-header"):
            put("election_header", data)
        elif name.startswith("fle-"):
            put("election_notification", data[4:])


def zoo_cfgs():
    with open(os.path.join(ROOT, "conf", "zoo.cfg"), "rb") as f:
        put("zoo_cfg", f.read())
    put("zoo_cfg", b"tickTime=2000\ndataDir=/tmp/zk\nclientPort=2181\ninitLimit=5\nsyncLimit=2\n"
        b"server.1=127.0.0.1:2888:3888;2181\nserver.2=127.0.0.1:2889:3889:observer\n"
        b"4lw.commands.whitelist=srvr, stat\nautopurge.snapRetainCount=3\nmaxClientCnxns=60\n")
    put("zoo_cfg", b"dataDir=/tmp/zk\nclientPort=0\nclientPortAddress=127.0.0.1\njute.maxbuffer=1048575\n"
        b"globalOutstandingLimit=1000\nextendedTypesEnabled=true\nsnapCount=10\npreAllocSize=64\n"
        b"authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n")


if __name__ == "__main__":
    client_frames()
    storage()
    quorum()
    zoo_cfgs()
    for t in sorted(os.listdir(OUT)):
        print(t, len(os.listdir(os.path.join(OUT, t))), file=sys.stderr)
