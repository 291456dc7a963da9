#!/usr/bin/env bash
# zkCli suite: the same scripted zkCli session against the server under test
# ($ZK_CONNECT) and against Apache ZooKeeper ($ZK_CONNECT_ORACLE); the
# normalized transcripts must be identical block by block.
#   --update-expected   rewrite expected.txt from the oracle's transcript
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../lib/servers.sh
source "$HERE/../lib/servers.sh"

: "${ZK_CONNECT:?ZK_CONNECT must name the server under test}"
: "${ZK_CONNECT_ORACLE:?ZK_CONNECT_ORACLE must name an Apache ZooKeeper server}"
WORK="${WORK:-$COMPAT_WORK/zkcli}"
JAVA_CP="${JAVA_CP:-$(zk_server_classpath)}"
PY="${VENV:+$VENV/bin/python}"
PY="${PY:-python3}"
mkdir -p "$WORK"

# zkCli's own logging is noise here; its answers go to stdout/stderr.
printf '%s\n' "log4j.rootLogger=OFF" >"$WORK/log4j-cli.properties"

echo "zkcli: server under test $ZK_CONNECT (${TARGET:-?}), oracle $ZK_CONNECT_ORACLE"
"$PY" "$HERE/zkcli_compare.py" --script "$HERE/script.zk" \
    --target "$ZK_CONNECT" --oracle "$ZK_CONNECT_ORACLE" \
    --java-cp "$JAVA_CP" --log4j "$WORK/log4j-cli.properties" \
    --out "$WORK" --expected "$HERE/expected.txt"
rc=$?
if [ "${1:-}" = "--update-expected" ]; then
    cp "$WORK/oracle.txt" "$HERE/expected.txt"
    echo "zkcli: expected.txt updated from the oracle"
fi
exit $rc
