#!/bin/bash
# Suite cclient: a basic session of the ZooKeeper C client shell (cli_mt from
# zookeeper-bin) against the server at $ZK_CONNECT. See README.md.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${ZK_CONNECT:?ZK_CONNECT must be host:port of the server under test}"
CLI_MT=${CLI_MT:-/usr/lib/zookeeper/bin/cli_mt}
if [ ! -x "$CLI_MT" ]; then
  echo "FAIL cclient_setup: $CLI_MT not found (install zookeeper-bin)"
  echo "0 passed, 1 failed"
  exit 1
fi
PY=python3
if [ -n "${VENV:-}" ] && [ -x "$VENV/bin/python" ]; then PY=$VENV/bin/python; fi
echo "cclient: cli_mt session against $ZK_CONNECT (target ${TARGET:-?})"
CLI_MT=$CLI_MT timeout 300 "$PY" "$HERE/cli_session.py" "$ZK_CONNECT"
rc=$?
if [ $rc -eq 124 ]; then
  echo "FAIL cclient_timeout: session did not finish within 300 s"
  echo "0 passed, 1 failed"
fi
exit $rc
