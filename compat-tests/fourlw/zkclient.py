"""A minimal ZooKeeper wire client (standard library only) used to give a server some
state before its operations surface is inspected: a session, an ephemeral node and
data/child watches."""
import socket
import struct


def four(addr, word, extra=b""):
    """The answer to a four-letter word (plus `extra` bytes) at "host:port"; the server
    closes the connection after it."""
    host, port = addr.rsplit(":", 1)
    c = socket.create_connection((host, int(port)), timeout=10)
    c.sendall(word.encode() + extra)
    out = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        out += d
    c.close()
    return out.decode()


def _frame(payload):
    return struct.pack(">i", len(payload)) + payload


def _string(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


class Session:
    def __init__(self, host, port, timeout_ms=30000):
        self.sock = socket.create_connection((host, port), timeout=10)
        req = struct.pack(">iqiq", 0, 0, timeout_ms, 0) + struct.pack(">i", 16) + b"\0" * 16 + b"\0"
        self.sock.sendall(_frame(req))
        body = self._read_frame()
        _, self.timeout, self.session_id = struct.unpack(">iiq", body[:16])
        self.xid = 0

    def _read_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf

    def _read_frame(self):
        (n,) = struct.unpack(">i", self._read_exact(4))
        return self._read_exact(n)

    def call(self, op, body):
        self.xid += 1
        self.sock.sendall(_frame(struct.pack(">ii", self.xid, op) + body))
        while True:
            reply = self._read_frame()
            xid, _zxid, err = struct.unpack(">iqi", reply[:16])
            if xid == self.xid:
                return err

    def create(self, path, data=b"", ephemeral=False):
        acl = struct.pack(">i", 1) + struct.pack(">i", 31) + _string("world") + _string("anyone")
        body = _string(path) + struct.pack(">i", len(data)) + data + acl + struct.pack(">i", 1 if ephemeral else 0)
        return self.call(1, body)

    def get_data(self, path, watch=True):
        return self.call(4, _string(path) + (b"\1" if watch else b"\0"))

    def exists(self, path, watch=True):
        return self.call(3, _string(path) + (b"\1" if watch else b"\0"))

    def get_children(self, path, watch=True):
        return self.call(8, _string(path) + (b"\1" if watch else b"\0"))

    def close(self):
        self.sock.close()


def populate(host, port):
    """Leaves one session open with an ephemeral node and watches; returns it."""
    s = Session(host, port)
    s.create("/ops", b"x")
    s.create("/ops/eph", b"e", ephemeral=True)
    s.get_data("/ops")
    s.exists("/ops/eph")
    s.get_children("/ops")
    return s
