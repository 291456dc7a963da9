#!/usr/bin/env bash
# Suite faults: a three-node ensemble of real processes on loopback under SIGKILL,
# SIGSTOP/SIGCONT, partitions (TCP proxies between the servers) and a full disk (each
# dataDir on its own tmpfs), with clients recording histories that rzk-check judges
# for linearizability; see faults.py. Runs the same whatever TARGET is (it starts its
# own servers); FAULTS_KIND=zk runs it against Apache ZooKeeper 3.8 instead of rzk,
# FAULTS_PHASES="kill_leader partition_leader" a subset.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../lib/servers.sh
source "$HERE/../lib/servers.sh"
WORK="${WORK:-$COMPAT_WORK/suites/faults}"
VENV="${VENV:-$COMPAT_WORK/venv}"
mkdir -p "$WORK"
PY="$VENV/bin/python"
[ -x "$PY" ] || PY=python3
RZK_CHECK="${RZK_CHECK:-$(dirname "$RZK_BIN")/rzk-check}"
if [ ! -x "$RZK_CHECK" ]; then
    echo "FAIL faults_checker: $RZK_CHECK is missing (cargo build --release builds it)"
    echo "0 passed, 1 failed"
    exit 1
fi
ZK_CP="$(zk_server_classpath)"
export WORK RZK_BIN RZK_CHECK ZK_CP
exec "$PY" "$HERE/faults.py"
