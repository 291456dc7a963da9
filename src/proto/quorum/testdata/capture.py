# Captures real quorum bytes from two Apache ZooKeeper 3.8 peers, playing server 3.
import os, socket, struct, subprocess, sys, time, threading, shutil

BASE = 23100
JAVA_CP = '/usr/share/java/zookeeper.jar:/usr/share/java/*'
def ports(sid): return (BASE + 10*sid, BASE + 10*sid + 1, BASE + 10*sid + 2)  # quorum, election, client
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
procs = []

def cfg(sid):
    d = f'/tmp/qcap/n{sid}'
    shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
    open(f'{d}/myid', 'w').write(str(sid))
    lines = [f'tickTime=500', 'initLimit=10', 'syncLimit=5', f'dataDir={d}', f'clientPort={ports(sid)[2]}',
             'admin.enableServer=false']
    for s in (1, 2, 3):
        q, e, _ = ports(s)
        lines.append(f'server.{s}=127.0.0.1:{q}:{e}')
    open(f'{d}/zoo.cfg', 'w').write('\n'.join(lines) + '\n')
    return f'{d}/zoo.cfg'

def start(sid):
    c = cfg(sid)
    log = open(f'/tmp/qcap/n{sid}.log', 'w')
    p = subprocess.Popen(['java', '-cp', JAVA_CP, '-Dzookeeper.admin.enableServer=false',
                          'org.apache.zookeeper.server.quorum.QuorumPeerMain', c], stdout=log, stderr=log)
    procs.append(p)

def recvn(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise EOFError
        b += c
    return b

def dump(name, data):
    open(f'{OUT}/{name}.hex', 'w').write(data.hex() + '\n')

# --- election listener: capture what Java dials us with
accepted = {}
def listen_election():
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', ports(3)[1])); ls.listen(5)
    ls.settimeout(30)
    try:
        while len(accepted) < 2:
            s, _ = ls.accept(); s.settimeout(2)
            data = b''
            try:
                while True:
                    c = s.recv(4096)
                    if not c: break
                    data += c
            except socket.timeout:
                pass
            sid = struct.unpack('>qq', data[:16])[1] if len(data) >= 16 else -1
            accepted.setdefault(sid, data)
    except socket.timeout:
        pass
threading.Thread(target=listen_election, daemon=True).start()

start(1); start(2)

def read_packet(s):
    t, z = struct.unpack('>iq', recvn(s, 12))
    raw = struct.pack('>iq', t, z)
    (ln,) = struct.unpack('>i', recvn(s, 4)); raw += struct.pack('>i', ln)
    data = recvn(s, ln) if ln > 0 else b''
    raw += data
    (n,) = struct.unpack('>i', recvn(s, 4)); raw += struct.pack('>i', n)
    for _ in range(max(n, 0)):
        for _ in range(2):
            (l,) = struct.unpack('>i', recvn(s, 4)); raw += struct.pack('>i', l)
            if l > 0: raw += recvn(s, l)
    return t, z, data, raw

def client_create(port, path, data):
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    body = struct.pack('>iqiqi', 0, 0, 30000, 0, 16) + b'\0'*16 + b'\0'
    s.sendall(struct.pack('>i', len(body)) + body)
    (l,) = struct.unpack('>i', recvn(s, 4)); recvn(s, l)
    p = path.encode()
    req = struct.pack('>ii', 1, 1) + struct.pack('>i', len(p)) + p + struct.pack('>i', len(data)) + data
    req += struct.pack('>ii', 1, 31) + struct.pack('>i', 5) + b'world' + struct.pack('>i', 6) + b'anyone' + struct.pack('>i', 0)
    s.sendall(struct.pack('>i', len(req)) + req)
    (l,) = struct.unpack('>i', recvn(s, 4)); r = recvn(s, l)
    s.close()
    return r

try:
    time.sleep(8)
    # find leader via srvr
    leader = None
    for sid in (1, 2):
        try:
            s = socket.create_connection(('127.0.0.1', ports(sid)[2]), timeout=3); s.sendall(b'srvr')
            out = b''
            while True:
                c = s.recv(4096)
                if not c: break
                out += c
            if b'Mode: leader' in out: leader = sid
        except Exception as e:
            print('srvr', sid, e)
    print('leader', leader)
    client_create(ports(1)[2], '/a', b'hello')
    # --- election: dial server 1 as sid 3 and send a LOOKING notification
    addr = f'127.0.0.1:{ports(3)[1]}'.encode()
    s = socket.create_connection(('127.0.0.1', ports(1)[1]), timeout=5)
    hdr = struct.pack('>qqi', -65536, 3, len(addr)) + addr
    cfgtxt = b''
    note = struct.pack('>iqqqqii', 0, 3, 0, 1, 0, 2, 0)
    s.sendall(hdr + struct.pack('>i', len(note)) + note)
    (l,) = struct.unpack('>i', recvn(s, 4)); reply = recvn(s, l)
    dump('fle-reply-from-1', struct.pack('>i', l) + reply)
    s.close()
    # --- quorum: follow the leader as sid 3
    q = socket.create_connection(('127.0.0.1', ports(leader)[0]), timeout=10)
    sent = b''; got = b''
    def send(t, z, data):
        global sent
        d = struct.pack('>iq', t, z) + (struct.pack('>i', -1) if data is None else struct.pack('>i', len(data)) + data) + struct.pack('>i', -1)
        sent += d; q.sendall(d)
    send(11, 0, struct.pack('>qiq', 3, 0x10000, 0))
    t, z, data, raw = read_packet(q); got += raw; print('got', t, hex(z))
    assert t == 17
    send(18, 0, struct.pack('>i', 0))
    newepoch_z = z
    snap = False
    while True:
        t, z, data, raw = read_packet(q); got += raw; print('got', t, hex(z), len(data))
        if t == 15:
            snap = True
            q.settimeout(2)
            rest = b''
            try:
                while True:
                    c = q.recv(65536)
                    if not c: break
                    rest += c
                    if b'BenWasHere' in rest: break
            except socket.timeout:
                pass
            got += rest
            q.settimeout(10)
            dump('zab-snap-stream', rest)
        if t == 10:
            send(3, newepoch_z, None)
        if t == 12:
            send(3, newepoch_z, None)
            break
    dump('zab-leader-to-learner-sync', got); got = b''
    dump('zab-learner-to-leader-sync', sent); sent = b''
    # broadcast: write through server 1, capture PROPOSAL/COMMIT and PING
    threading.Thread(target=lambda: client_create(ports(1)[2], '/b', b'world'), daemon=True).start()
    deadline = time.time() + 6
    while time.time() < deadline:
        t, z, data, raw = read_packet(q); got += raw; print('got', t, hex(z), len(data))
        if t == 2:
            send(3, z, None)
        if t == 5:
            send(5, z, struct.pack('>qi', 0x0300000000000001, 30000))
    dump('zab-leader-to-learner-broadcast', got)
    dump('zab-learner-to-leader-broadcast', sent)
    q.close()
    time.sleep(1)
    for sid, data in accepted.items():
        dump(f'election-header-from-{sid}', data)
    print('accepted', list(accepted))
finally:
    for p in procs: p.terminate()
    for p in procs: p.wait()
