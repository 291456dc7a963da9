"""pytest plugin that points kazoo's own test suite at an external server.

kazoo's harness (kazoo.testing.harness.get_global_cluster) normally starts a
three-node Java ensemble of its own. This plugin replaces that function with
one that returns a one-server "cluster" backed by the server the compat
runner started ($ZK_CONNECT). Stopping and starting that server (what some
tests do through `self.cluster[0].stop()` / `.run()`) goes through
compat-tests/lib/servers.sh, which keeps its port and dataDir.

Tests that switch the harness to JAAS digest authentication
(ZOOKEEPER_JAAS_AUTH=digest) get a second server of the same kind whose JAAS
file has the users those tests log in with.

It also applies the exclusion list of EXCLUDED.md:
  KAZOO_EXCLUDED=<file>      the list (test ids in backticks at line start)
  KAZOO_EXCLUDED_MODE=skip   deselect the listed tests (default)
  KAZOO_EXCLUDED_MODE=only   run only the listed tests
"""
import fnmatch
import logging
import os
import re
import subprocess

import kazoo.testing.harness as harness

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS_SH = os.path.join(HERE, "..", "lib", "servers.sh")
SASL_JAAS_USERS = 'user_super="super_secret" user_jaasuser="jaas_password"'


def servers_sh(*args, env_extra=None):
    """Calls a function of lib/servers.sh; returns its stdout stripped."""
    env = dict(os.environ)
    env.update(env_extra or {})
    done = subprocess.run(
        ["bash", "-c", 'source "$1"; shift; "$@"', "servers.sh", SERVERS_SH] + list(args),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=180)
    if done.returncode != 0:
        raise RuntimeError("servers.sh %s failed: %s" % (" ".join(args), done.stderr.strip()))
    return done.stdout.strip()


class ExternalServer:
    """Stands in for kazoo.testing.common.ManagedZooKeeper."""

    def __init__(self, name, address):
        self.name = name
        self.host, port = address.rsplit(":", 1)
        self.client_port = int(port)
        self._running = True

    @property
    def address(self):
        return "%s:%s" % (self.host, self.client_port)

    @property
    def secure_address(self):
        raise RuntimeError("the compat servers have no TLS port")

    @property
    def running(self):
        return self._running

    def run(self):
        if self._running:
            return
        if not self.name:
            raise RuntimeError("no server name known: cannot restart %s" % self.address)
        address = servers_sh("restart_server", self.name)
        if address != self.address:
            raise RuntimeError("server came back on %s, not %s" % (address, self.address))
        self._running = True

    def stop(self):
        if not self._running:
            return
        if not self.name:
            raise RuntimeError("no server name known: cannot stop %s" % self.address)
        servers_sh("stop_server", self.name)
        self._running = False

    def reset(self):
        self.stop()

    def destroy(self):
        """The runner owns the server; the harness' teardown leaves it alone."""

    def get_logs(self, num_lines=100):
        if not self.name:
            return []
        try:
            with open(servers_sh("server_log", self.name), encoding="utf-8",
                      errors="replace") as f:
                return f.readlines()[-num_lines:]
        except (OSError, RuntimeError):
            return []


class ExternalCluster:
    """Stands in for kazoo.testing.common.ZookeeperCluster."""

    def __init__(self, servers):
        self._servers = servers

    def __getitem__(self, k):
        return self._servers[k]

    def __iter__(self):
        return iter(self._servers)

    def start(self):
        for server in self._servers:
            server.run()

    def stop(self):
        for server in self._servers:
            server.stop()

    def terminate(self):
        """Kept running across test classes; the runner stops it."""

    def reset(self):
        self.stop()

    def get_logs(self):
        return [line for s in self._servers for line in s.get_logs()]

    def get_ssl_client_configuration(self):
        raise RuntimeError("the compat servers have no TLS port")


_CLUSTERS = {}


def _main_cluster():
    return ExternalCluster([ExternalServer(os.environ.get("ZK_SERVER_NAME", ""),
                                           os.environ["ZK_CONNECT"])])


def _sasl_cluster():
    kind = os.environ.get("TARGET", "zk")
    name = "kazoo-sasl"
    address = servers_sh("start_server", kind, name,
                         env_extra={"SERVER_JAAS_USERS": SASL_JAAS_USERS})
    return ExternalCluster([ExternalServer(name, address)])


def get_global_cluster():
    """Replacement of kazoo.testing.harness.get_global_cluster."""
    key = "sasl" if os.environ.get("ZOOKEEPER_JAAS_AUTH") == "digest" else "main"
    if key not in _CLUSTERS:
        _CLUSTERS[key] = _sasl_cluster() if key == "sasl" else _main_cluster()
    return _CLUSTERS[key]


harness.get_global_cluster = get_global_cluster
# Clients that tests leave open keep logging reconnect attempts after pytest
# has removed its handlers; without a handler of its own the logger would
# print them through logging's last-resort handler.
logging.getLogger("kazoo").addHandler(logging.NullHandler())


def read_exclusions(path):
    """Test ids (file.py::Class::test, fnmatch patterns allowed) of EXCLUDED.md."""
    ids = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*[-*]\s+`([^`]+\.py::[^`]+)`", line)
            if m:
                ids.append(m.group(1))
    return ids


def short_id(item):
    """file.py::Class::test of a collected item, independent of rootdir."""
    parts = item.nodeid.split("::")
    return "::".join([os.path.basename(parts[0])] + parts[1:])


# Tests whose outcome is decided by a race between kazoo's own threads, not by what
# the server answers. `start()` waits until the session is connected and then checks
# `connected`; the SASL exchange runs after the connection on kazoo's connection
# thread, so when the server's AuthFailed reaches it before the waiting thread wakes,
# `start()` raises its time-out instead of the AuthFailedError the test expects. A
# fast server and a busy machine make that order likely. These run a body that
# checks what the server answered instead: `start()` fails, and either with
# AuthFailedError or after the connection thread was handed AUTH_FAILED.
RACY = {
    "test_sasl.py::TestLegacySASLDigestAuthentication::test_invalid_sasl_auth",
    "test_sasl.py::TestSASLDigestAuthentication::test_invalid_sasl_auth",
}


def _invalid_sasl_auth(self):
    from kazoo.exceptions import AuthFailedError
    from kazoo.protocol.states import KeeperState

    client = self._get_client(auth_data=[("sasl", "baduser:badpassword")])
    states = []
    deliver = client._session_callback

    def recording(state):
        states.append(state)
        return deliver(state)

    client._session_callback = recording
    try:
        client.start()
    except AuthFailedError:
        return
    except client.handler.timeout_exception:
        assert KeeperState.AUTH_FAILED in states, "start() timed out without AuthFailed: %r" % states
        return
    raise AssertionError("start() succeeded with a bad SASL password")


def _retry_racy(items):
    for item in items:
        if short_id(item) in RACY and item.cls is not None:
            setattr(item.cls, item.name, _invalid_sasl_auth)


def pytest_collection_modifyitems(config, items):
    _apply_exclusions(config, items)
    _retry_racy(items)
    # What was meant to run, so that tests a session timeout left out count.
    count_file = os.environ.get("KAZOO_COLLECTED_FILE")
    if count_file:
        with open(count_file, "w", encoding="utf-8") as f:
            f.write("%d\n" % len(items))


def _apply_exclusions(config, items):
    path = os.environ.get("KAZOO_EXCLUDED")
    if not path:
        return
    patterns = read_exclusions(path)
    only = os.environ.get("KAZOO_EXCLUDED_MODE") == "only"
    keep, drop = [], []
    for item in items:
        listed = any(fnmatch.fnmatchcase(short_id(item), p) for p in patterns)
        (keep if listed == only else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_sessionstart(session):
    """Stops at once when the server does not take a session: every test
    would otherwise wait out kazoo's connection retries."""
    import pytest
    from kazoo.client import KazooClient

    client = KazooClient(os.environ["ZK_CONNECT"])
    try:
        client.start(timeout=20)
        client.get("/")
    except Exception as e:  # noqa: BLE001 - any failure means the same here
        pytest.exit("the server at %s does not take a session: %r"
                    % (os.environ["ZK_CONNECT"], e), returncode=3)
    finally:
        client.stop()
        client.close()


def pytest_sessionfinish(session, exitstatus):
    sasl = _CLUSTERS.get("sasl")
    if sasl is not None:
        for server in sasl:
            try:
                servers_sh("stop_server", server.name)
            except RuntimeError:
                pass
