#!/usr/bin/env bash
# acl suite: ACL enforcement for every operation x permission x scheme (world, auth,
# digest, ip, super), run by acl_matrix.py with kazoo against the server under test and
# the Apache ZooKeeper oracle; every result code must match.
# Standalone: without ZK_CONNECT/ZK_CONNECT_ORACLE it starts both servers itself.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../lib/servers.sh
source "$HERE/../lib/servers.sh"

VENV="${VENV:-$COMPAT_WORK/venv}"
started=()
if [ -z "${ZK_CONNECT:-}" ]; then
    ZK_CONNECT="$(start_server "${TARGET:-rzk}" acl-target)" || { echo "0 passed, 1 failed"; exit 1; }
    started+=(acl-target)
fi
if [ -z "${ZK_CONNECT_ORACLE:-}" ]; then
    ZK_CONNECT_ORACLE="$(start_server zk acl-oracle)" || { echo "0 passed, 1 failed"; exit 1; }
    started+=(acl-oracle)
fi
echo "acl matrix: target $ZK_CONNECT, oracle $ZK_CONNECT_ORACLE"
"$VENV/bin/python" "$HERE/acl_matrix.py" "$ZK_CONNECT" "$ZK_CONNECT_ORACLE"
rc=$?
for s in ${started[@]+"${started[@]}"}; do stop_server "$s"; done
exit $rc
