"""ACL enforcement matrix: every operation x permission x scheme, run against the server
under test and the Apache ZooKeeper oracle; every outcome (result code, and the value
returned when the call succeeds) must be the same.

A cell is (scheme, perms, identity, op). Its node /acl-matrix/<n> is created with an open
ACL and a child, then given the cell's ACL (by the cell's owner: super, or bob for the
`auth` scheme), then the op runs as the identity. Every cell gets a fresh node, so a
write that succeeds on one server cannot change what the next cell sees.

Usage: python acl_matrix.py TARGET_ADDR ORACLE_ADDR
"""

import base64
import collections
import hashlib
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


def digest(user, password):
    raw = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return f"{user}:{base64.b64encode(raw).decode()}"


# scheme name -> (owner identity that sets the ACL, ACL builder from perms)
SCHEMES = {
    "world": ("super", lambda p: [ACL(p, Id("world", "anyone"))]),
    "digest-bob": ("super", lambda p: [ACL(p, Id("digest", digest("bob", "bobpw")))]),
    "auth": ("bob", lambda p: [ACL(p, Id("auth", ""))]),
    "ip-exact": ("super", lambda p: [ACL(p, Id("ip", "127.0.0.1"))]),
    "ip-mask": ("super", lambda p: [ACL(p, Id("ip", "127.0.0.0/8"))]),
    "ip-other": ("super", lambda p: [ACL(p, Id("ip", "10.1.2.3"))]),
    "digest+world-read": ("super", lambda p: [ACL(p, Id("digest", digest("bob", "bobpw"))),
                                              ACL(P.READ, Id("world", "anyone"))]),
}

OPEN = [ACL(P.ALL, Id("world", "anyone"))]


def client(addr, identity):
    auth = [("digest", f"{u}:{USERS[u]}") for u in identity.split("+") if u in USERS]
    c = KazooClient(hosts=addr, auth_data=auth, timeout=15)
    c.start(timeout=15)
    return c


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
        "x509-unregistered": ("super", [ACL(P.ALL, Id("x509", "CN=alice,O=Apache"))]),
        "world-someone": ("super", [ACL(P.ALL, Id("world", "someone"))]),
        "empty-acl": ("super", []),
        "perms-zero": ("super", [ACL(0, Id("world", "anyone"))]),
        "super-id-digest": ("super", [ACL(P.ALL, Id("digest", digest("super", "test")))]),
    }


class Server:
    def __init__(self, addr):
        self.addr = addr
        self.clients = {i: client(addr, i) for i in IDENTITIES}
        self.n = 0
        root = self.clients["super"]
        if root.exists("/acl-matrix"):
            root.delete("/acl-matrix", recursive=True)
        root.create("/acl-matrix", b"", acl=OPEN)

    def cell(self, scheme, perms, identity, op):
        owner, build = SCHEMES[scheme]
        self.n += 1
        node = f"/acl-matrix/n{self.n}"
        root = self.clients["super"]
        root.create(node, b"d", acl=OPEN)
        root.create(node + "/child", b"", acl=OPEN)
        self.clients[owner].set_acls(node, build(PERMS[perms]))
        return outcome(ops(self.clients[identity], node)[op])

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
    target, oracle = Server(sys.argv[1]), Server(sys.argv[2])
    passed = failed = 0
    seen = collections.Counter()
    cells = [(s, p, i, o) for s in SCHEMES for p in PERMS for i in IDENTITIES for o in ops(None, "/x")]
    for cell in cells:
        got, want = target.cell(*cell), oracle.cell(*cell)
        seen[want.split()[0]] += 1
        if got == want:
            passed += 1
        else:
            failed += 1
            print(f"DIFF {'/'.join(cell)}: rzk={got} zk={want}")
    for name in create_cases():
        got, want = target.create_case(name), oracle.create_case(name)
        if got == want:
            passed += 1
        else:
            failed += 1
            print(f"DIFF create/{name}: rzk={got} zk={want}")
    target.close()
    oracle.close()
    print("oracle outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(seen.items())))
    print(f"{len(cells)} matrix cells, {len(create_cases())} ACL-validity cases")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
