"""TCP proxies between the servers of an ensemble, in a process of their own, so that
the harness can cut and heal the links between any two servers.

There is one proxy per directed server pair and port (quorum and election): server i
reaches server j only through the proxy "i->j" (each server's zoo.cfg names the proxies
as the other servers' addresses). A partition between i and j freezes the proxies of
both directions: established connections stop being read or written (the bytes already
sent wait in socket buffers, as on a dead network: the peers notice only through their
own timeouts) and new connections are accepted but never forwarded. Healing closes
every frozen and held connection and forwards new ones again.

    python proxy.py CONFIG.json     CONFIG: [[src, dst, listen_port, target_port], ...]

Commands on stdin, one a line, each answered with `ok` on stdout:
    partition i-j [k-l ...]   cut the links between each pair (both directions)
    heal                      restore every link
    quit
"""
import json
import selectors
import socket
import sys
import time

MAX_BUFFER = 1 << 20
CONNECT_WITHIN = 2.0


class Link:
    """One proxied connection: `a` accepted from the source, `b` to the target."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.out = {a: bytearray(), b: bytearray()}  # bytes waiting to be written to the key

    def peer(self, s):
        return self.b if s is self.a else self.a

    def close(self):
        for s in (self.a, self.b):
            try:
                s.close()
            except OSError:
                pass


class Proxy:
    def __init__(self, src, dst, listen_port, target_port):
        self.pair = frozenset((src, dst))
        self.target = ("127.0.0.1", target_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", listen_port))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.links, self.frozen, self.held = set(), [], []
        self.blocked = False


class Proxies:
    def __init__(self, config):
        self.sel = selectors.DefaultSelector()
        self.proxies = [Proxy(*entry) for entry in config]
        self.owner = {}  # socket -> (proxy, link)
        self.pending = []  # (proxy, accepted socket, give-up time)
        for p in self.proxies:
            self.sel.register(p.sock, selectors.EVENT_READ, ("accept", p))
        self.sel.register(sys.stdin, selectors.EVENT_READ, ("command", None))

    def accept(self, p):
        try:
            a, _ = p.sock.accept()
        except OSError:
            return
        if p.blocked:
            p.held.append(a)
            return
        self.pending.append((p, a, time.monotonic() + CONNECT_WITHIN))
        self.connect_pending()

    def connect_pending(self):
        """Connects accepted sockets to their targets. A target that refuses is tried
        again for a while: a server connecting to a peer whose port is not open yet
        must see what it would see without the proxy (no connection), not a
        connection that opens and closes at once, which it reads as a lost peer."""
        waiting = []
        for p, a, deadline in self.pending:
            if p.blocked:
                p.held.append(a)
                continue
            try:
                b = socket.create_connection(p.target, timeout=1)
            except OSError:
                if time.monotonic() < deadline:
                    waiting.append((p, a, deadline))
                else:
                    a.close()
                continue
            self.link(p, a, b)
        self.pending = waiting

    def link(self, p, a, b):
        for s in (a, b):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = Link(a, b)
        p.links.add(link)
        for s in (a, b):
            self.owner[s] = (p, link)
            self.sel.register(s, selectors.EVENT_READ, ("data", s))

    def drop(self, p, link):
        for s in (link.a, link.b):
            self.owner.pop(s, None)
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
        p.links.discard(link)
        link.close()

    def interest(self, s, link):
        ev = 0
        if len(link.out[link.peer(s)]) < MAX_BUFFER:
            ev |= selectors.EVENT_READ
        if link.out[s]:
            ev |= selectors.EVENT_WRITE
        registered = s in self.sel.get_map()
        if ev and registered:
            self.sel.modify(s, ev, ("data", s))
        elif ev:
            self.sel.register(s, ev, ("data", s))
        elif registered:
            self.sel.unregister(s)

    def data(self, s, mask):
        p, link = self.owner[s]
        try:
            if mask & selectors.EVENT_WRITE and link.out[s]:
                n = s.send(link.out[s])
                del link.out[s][:n]
            if mask & selectors.EVENT_READ:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionResetError("closed")
                other = link.peer(s)
                link.out[other] += chunk
                try:
                    n = other.send(link.out[other])
                    del link.out[other][:n]
                except BlockingIOError:
                    pass
        except BlockingIOError:
            pass
        except OSError:
            self.drop(p, link)
            return
        self.interest(link.a, link)
        self.interest(link.b, link)

    def partition(self, pairs):
        for p in self.proxies:
            if p.pair in pairs and not p.blocked:
                p.blocked = True
                for link in list(p.links):
                    for s in (link.a, link.b):
                        self.owner.pop(s, None)
                        self.sel.unregister(s)
                    p.frozen.append(link)
                p.links.clear()

    def heal(self):
        for p in self.proxies:
            p.blocked = False
            for link in p.frozen:
                link.close()
            for s in p.held:
                s.close()
            p.frozen, p.held = [], []

    def command(self):
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            return False
        words = line.split()
        if words and words[0] == "partition":
            self.partition({frozenset(int(x) for x in w.split("-")) for w in words[1:]})
        elif words and words[0] == "heal":
            self.heal()
        print("ok", flush=True)
        return True

    def run(self):
        while True:
            if self.pending:
                self.connect_pending()
            for key, mask in self.sel.select(timeout=0.02 if self.pending else 1.0):
                kind, obj = key.data
                if kind == "accept":
                    self.accept(obj)
                elif kind == "command":
                    if not self.command():
                        return
                elif obj in self.owner:
                    self.data(obj, mask)


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    proxies = Proxies(config)
    print("ready", flush=True)
    proxies.run()


if __name__ == "__main__":
    main()
