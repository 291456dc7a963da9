#!/usr/bin/env bash
# Suite ensemble: three-node ensembles of real processes on loopback (rzk only, mixed
# with Apache ZooKeeper 3.8 both ways, a rolling migration zk -> rzk -> zk), leaders
# killed under writes; see ensemble.py. Runs the same whatever TARGET is (it starts
# its own servers). ENSEMBLE_SCENARIOS="rzk3 rolling" runs a subset.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../lib/servers.sh
source "$HERE/../lib/servers.sh"
WORK="${WORK:-$COMPAT_WORK/suites/ensemble}"
VENV="${VENV:-$COMPAT_WORK/venv}"
mkdir -p "$WORK"
PY="$VENV/bin/python"
[ -x "$PY" ] || PY=python3
export WORK RZK_BIN
ZK_CP="$(zk_server_classpath)"
export ZK_CP
exec "$PY" "$HERE/ensemble.py"
