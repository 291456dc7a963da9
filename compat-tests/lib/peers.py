"""Helpers shared by the suites that start their own servers (ensemble, faults,
fourlw-ensemble): free loopback ports and four-letter words."""
import os
import random
import socket
import time


def free_ports(n):
    """Ports below the kernel's ephemeral range, never 2181: a client socket of the
    many a suite opens cannot hold one of them."""
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except OSError:
        pass
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    ports = []
    while len(ports) < n:
        p = rng.randrange(20000, max(low, 21000))
        if p == 2181 or p in ports:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            ports.append(p)
        except OSError:
            pass
        finally:
            s.close()
    return ports


def four(port, word, timeout=2.0):
    """The answer to a four-letter word on 127.0.0.1:`port`; "" when the server is not
    there."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(word.encode())
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    return out.decode(errors="replace")
                out += b
    except OSError:
        return ""
