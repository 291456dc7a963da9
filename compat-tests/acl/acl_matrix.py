"""ACL enforcement matrix: every operation x permission x scheme, run against the server
under test and the Apache ZooKeeper oracle; every outcome (result code, and the value
returned when the call succeeds) must be the same.

A cell is (scheme, perms, identity, op). Its node /acl-matrix/<n> is created with an open
ACL and a child, then given the cell's ACL (by the cell's owner: super, or bob for the
`auth` scheme), then the op runs as the identity. Every cell gets a fresh node, so a
write that succeeds on one server cannot change what the next cell sees.

Identities are kept connected for the whole run: digest users (`bob`, `eve`, `super`),
SASL DIGEST-MD5 users of the JAAS Server section (`sasl-bob`, `sasl-eve`, and
`sasl-super`, whose name matches every sasl ACL: SASLAuthenticationProvider.matches),
and TLS clients on the secure port authenticated by certificate (`x509-alice`,
`x509-bob`, and `x509-root`, the X509AuthenticationProvider.superUser). Each scheme is
tried by a matching client, non-matching authenticated clients, a super user and an
unauthenticated one.

Usage: python acl_matrix.py TARGET_ADDR ORACLE_ADDR --tls TARGET_TLS ORACLE_TLS --pki DIR
(DIR holds ca.pem and <name>.pem/<name>.key per certificate identity).
"""

import argparse
import base64
import collections
import concurrent.futures
import hashlib
import os
import sys

from kazoo.client import KazooClient
from kazoo.security import ACL, Id, Permissions

P = Permissions
PERMS = {
    "READ": P.READ, "WRITE": P.WRITE, "CREATE": P.CREATE, "DELETE": P.DELETE,
    "ADMIN": P.ADMIN, "ALL": P.ALL, "NONE": 0, "READ|ADMIN": P.READ | P.ADMIN,
}
USERS = {"bob": "bobpw", "eve": "evepw", "super": "test"}
IDENTITIES = ["anonymous", "bob", "eve", "super", "bob+eve"]
# Users of the JAAS Server section run.sh writes.
SASL_USERS = {"sasl-bob": ("bob", "bobsecret"), "sasl-eve": ("eve", "evesecret"),
              "sasl-super": ("super", "test")}
SASL_IDENTITIES = ["anonymous", "bob", "sasl-bob", "sasl-eve", "sasl-super"]
# Client certificates run.sh makes (file stem -> subject as X500Principal.getName prints it).
CERTS = {"x509-alice": "alice", "x509-bob": "bob", "x509-root": "root"}
ALICE_DN = "CN=alice,OU=ZooKeeper,O=Apache,C=US"
X509_IDENTITIES = ["anonymous", "bob", "x509-alice", "x509-bob", "x509-root"]


def digest(user, password):
    raw = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return f"{user}:{base64.b64encode(raw).decode()}"


# scheme name -> (owner identity that sets the ACL, ACL builder from perms[, identities])
SCHEMES = {
    "world": ("super", lambda p: [ACL(p, Id("world", "anyone"))]),
    "digest-bob": ("super", lambda p: [ACL(p, Id("digest", digest("bob", "bobpw")))]),
    "auth": ("bob", lambda p: [ACL(p, Id("auth", ""))]),
    "ip-exact": ("super", lambda p: [ACL(p, Id("ip", "127.0.0.1"))]),
    "ip-mask": ("super", lambda p: [ACL(p, Id("ip", "127.0.0.0/8"))]),
    "ip-other": ("super", lambda p: [ACL(p, Id("ip", "10.1.2.3"))]),
    "digest+world-read": ("super", lambda p: [ACL(p, Id("digest", digest("bob", "bobpw"))),
                                              ACL(P.READ, Id("world", "anyone"))]),
    "sasl-bob": ("super", lambda p: [ACL(p, Id("sasl", "bob"))], SASL_IDENTITIES),
    "x509-alice": ("super", lambda p: [ACL(p, Id("x509", ALICE_DN))], X509_IDENTITIES),
}


def identities(scheme):
    entry = SCHEMES[scheme]
    return entry[2] if len(entry) > 2 else IDENTITIES

OPEN = [ACL(P.ALL, Id("world", "anyone"))]


def client(addr, tls_addr, pki, identity):
    """A started client: digest users add auth data, SASL users log in with DIGEST-MD5,
    certificate identities connect to the secure port with their key."""
    kw = {"hosts": addr, "timeout": 15}
    if identity in SASL_USERS:
        user, password = SASL_USERS[identity]
        kw["sasl_options"] = {"mechanism": "DIGEST-MD5", "username": user, "password": password}
    elif identity in CERTS:
        stem = os.path.join(pki, CERTS[identity])
        kw.update(hosts=tls_addr, use_ssl=True, verify_certs=True, ca=os.path.join(pki, "ca.pem"),
                  certfile=stem + ".pem", keyfile=stem + ".key")
    else:
        kw["auth_data"] = [("digest", f"{u}:{USERS[u]}") for u in identity.split("+") if u in USERS]
    for attempt in range(3):
        c = KazooClient(**kw)
        if identity not in SASL_USERS or attempt == 2:
            c.start(timeout=15)
            return c
        try:
            c.start(timeout=15)
        except Exception:
            pass
        if c.connected:
            return c
        # Now and then Apache ZooKeeper refuses pure-sasl's DIGEST-MD5 answer ("digest
        # response format violation. Mismatched response") and closes the session; a new
        # handshake (a new client nonce) passes. Log in again rather than fail every cell.
        print(f"{identity}: SASL login refused by {addr}, logging in again", flush=True)
        c.stop()
        c.close()


def outcome(fn):
    try:
        v = fn()
    except Exception as e:  # the class names KeeperException's codes
        return type(e).__name__
    return "ok " + normalize(v)


def normalize(v):
    if isinstance(v, tuple) and len(v) == 2 and hasattr(v[1], "czxid"):
        return repr(v[0])  # (data, stat): stats differ between servers
    if hasattr(v, "czxid"):
        return "stat"
    if isinstance(v, list):
        return repr(sorted(normalize(x) if hasattr(x, "czxid") else repr(x) for x in v))
    if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], list):
        return repr(sorted(repr(a) for a in v[0]))  # (acls, stat)
    return repr(v)


def ops(c, node):
    def multi():
        t = c.transaction()
        t.check(node, 0)
        t.set_data(node, b"m")
        return [type(r).__name__ if isinstance(r, Exception) else "ok" for r in t.commit()]
    return {
        "getData": lambda: c.get(node),
        "exists": lambda: c.exists(node),
        "getChildren": lambda: c.get_children(node),
        "setData": lambda: c.set(node, b"w"),
        "create-child": lambda: c.create(node + "/new", b""),
        "delete-child": lambda: c.delete(node + "/child"),
        "getAcl": lambda: c.get_acls(node),
        "setAcl": lambda: c.set_acls(node, OPEN),
        "multi-check-set": multi,
        "sync": lambda: c.sync(node),
        "delete-self": lambda: c.delete(node),
    }


def create_cases():
    """Creating a node with an ACL is checked on its own: invalid ACLs fail alike."""
    return {
        "auth-unauthenticated": ("anonymous", [ACL(P.ALL, Id("auth", ""))]),
        "auth-authenticated": ("bob", [ACL(P.ALL, Id("auth", ""))]),
        "digest-no-colon": ("super", [ACL(P.ALL, Id("digest", "bob"))]),
        "ip-bad": ("super", [ACL(P.ALL, Id("ip", "300.1.1.1"))]),
        "ip-bad-mask": ("super", [ACL(P.ALL, Id("ip", "127.0.0.1/40"))]),
        "unknown-scheme": ("super", [ACL(P.ALL, Id("nosuch", "x"))]),
        # No secure port and no authProvider naming X509AuthenticationProvider: the
        # x509 scheme is not registered, so its ACLs are invalid.
        "x509-dn": ("super", [ACL(P.ALL, Id("x509", "CN=alice,O=Apache"))]),
        "x509-not-a-dn": ("super", [ACL(P.ALL, Id("x509", "not a dn"))]),
        # kazoo writes an empty string as a null one: X500Principal(null) throws.
        "x509-null-id": ("super", [ACL(P.ALL, Id("x509", ""))]),
        "auth-x509": ("x509-alice", [ACL(P.ALL, Id("auth", ""))]),
        "auth-x509-super": ("x509-root", [ACL(P.READ, Id("auth", ""))]),
        "sasl-user": ("super", [ACL(P.ALL, Id("sasl", "bob"))]),
        "sasl-principal": ("super", [ACL(P.ALL, Id("sasl", "zk/host@EXAMPLE.COM"))]),
        "sasl-two-realms": ("super", [ACL(P.ALL, Id("sasl", "a@b@c"))]),
        "sasl-two-hosts": ("super", [ACL(P.ALL, Id("sasl", "a/b/c@R"))]),
        "sasl-slashes-no-realm": ("super", [ACL(P.ALL, Id("sasl", "a/b/c"))]),
        "auth-sasl": ("sasl-bob", [ACL(P.ALL, Id("auth", ""))]),
        "auth-sasl-and-digest": ("sasl-eve", [ACL(P.ADMIN, Id("auth", "")),
                                              ACL(P.READ, Id("digest", digest("bob", "bobpw")))]),
        "world-someone": ("super", [ACL(P.ALL, Id("world", "someone"))]),
        "empty-acl": ("super", []),
        "perms-zero": ("super", [ACL(0, Id("world", "anyone"))]),
        "super-id-digest": ("super", [ACL(P.ALL, Id("digest", digest("super", "test")))]),
    }


class Server:
    def __init__(self, addr, tls_addr, pki):
        self.addr = addr
        names = dict.fromkeys(IDENTITIES + SASL_IDENTITIES + X509_IDENTITIES)
        self.clients = {i: client(addr, tls_addr, pki, i) for i in names}
        self.n = 0
        root = self.clients["super"]
        if root.exists("/acl-matrix"):
            root.delete("/acl-matrix", recursive=True)
        root.create("/acl-matrix", b"", acl=OPEN)

    def cell(self, scheme, perms, identity, op):
        owner, build = SCHEMES[scheme][:2]
        self.n += 1
        node = f"/acl-matrix/n{self.n}"
        # One transaction sets the cell up (a single log write): super, whom ACLs do not
        # stop, creates the node with the cell's ACL and its child. Another owner sets
        # the ACL afterwards, as `auth` ACLs take the ids of the client that sets them.
        acl = build(PERMS[perms])
        t = self.clients["super"].transaction()
        t.create(node, b"d", acl=acl if owner == "super" else OPEN)
        t.create(node + "/child", b"", acl=OPEN)
        setup = t.commit()
        if any(isinstance(r, Exception) for r in setup):
            return f"setup failed {setup!r}"
        if owner != "super":
            self.clients[owner].set_acls(node, acl)
        return outcome(ops(self.clients[identity], node)[op])

    def run(self, cells):
        return [self.cell(*c) for c in cells] + [self.create_case(n) for n in create_cases()]

    def create_case(self, name):
        identity, acl = create_cases()[name]
        self.n += 1
        node = f"/acl-matrix/c{self.n}"
        c = self.clients[identity]
        first = outcome(lambda: c.create(node, b"", acl=acl))
        if first.startswith("ok"):
            first += " acl=" + outcome(lambda: self.clients["super"].get_acls(node))
        return first

    def close(self):
        for c in self.clients.values():
            c.stop()
            c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("oracle")
    ap.add_argument("--tls", nargs=2, required=True, metavar=("TARGET_TLS", "ORACLE_TLS"))
    ap.add_argument("--pki", required=True)
    a = ap.parse_args()
    target, oracle = Server(a.target, a.tls[0], a.pki), Server(a.oracle, a.tls[1], a.pki)
    passed = failed = 0
    seen = collections.Counter()
    cells = [(s, p, i, o) for s in SCHEMES for p in PERMS for i in identities(s) for o in ops(None, "/x")]
    # The two servers run the same cells at once, each on its own thread and clients.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        got_all, want_all = pool.map(lambda srv: srv.run(cells), [target, oracle])
    names = ["/".join(c) for c in cells] + ["create/" + n for n in create_cases()]
    for name, got, want in zip(names, got_all, want_all):
        seen[want.split()[0]] += 1
        if got == want:
            passed += 1
        else:
            failed += 1
            print(f"DIFF {name}: rzk={got} zk={want}")
    target.close()
    oracle.close()
    print("oracle outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(seen.items())))
    print(f"{len(cells)} matrix cells, {len(create_cases())} ACL-validity cases")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
