#!/bin/bash
# Suite docker: the image's entrypoint renders zoo.cfg and myid from the official image's
# environment variables (no Docker engine needed: the script runs as is).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ENTRY="$HERE/../../docker/entrypoint.sh"
WORK=${WORK:-$(mktemp -d)}
pass=0; fail=0
check() { # name, expected file, actual file
    if diff -u "$2" "$3" >"$WORK/diff.txt"; then echo "PASS $1"; pass=$((pass+1));
    else echo "FAIL $1"; cat "$WORK/diff.txt"; fail=$((fail+1)); fi
}
render() { # dir, env assignments...
    local d=$1; shift
    rm -rf "$d"; mkdir -p "$d"
    env -i PATH="$PATH" RZK_RENDER_ONLY=1 ZOO_CONF_DIR="$d/conf" ZOO_DATA_DIR="$d/data" ZOO_DATA_LOG_DIR="$d/datalog" "$@" sh "$ENTRY" true
}

render "$WORK/a"
cat > "$WORK/a.want" <<CFG
dataDir=$WORK/a/data
dataLogDir=$WORK/a/datalog
tickTime=2000
initLimit=5
syncLimit=2
autopurge.snapRetainCount=3
autopurge.purgeInterval=0
maxClientCnxns=60
standaloneEnabled=true
admin.enableServer=true
server.1=localhost:2888:3888;2181
CFG
check defaults "$WORK/a.want" "$WORK/a/conf/zoo.cfg"
echo 1 > "$WORK/a.myid"; check default_myid "$WORK/a.myid" "$WORK/a/data/myid"

render "$WORK/b" ZOO_MY_ID=3 ZOO_TICK_TIME=500 ZOO_MAX_CLIENT_CNXNS=0 \
    ZOO_SERVERS="server.1=z1:2888:3888;2181 server.2=z2:2888:3888;2181 server.3=z3:2888:3888;2181" \
    ZOO_4LW_COMMANDS_WHITELIST="srvr,ruok" ZOO_CFG_EXTRA="metricsProvider.httpPort=7070 extendedTypesEnabled=true"
cat > "$WORK/b.want" <<CFG
dataDir=$WORK/b/data
dataLogDir=$WORK/b/datalog
tickTime=500
initLimit=5
syncLimit=2
autopurge.snapRetainCount=3
autopurge.purgeInterval=0
maxClientCnxns=0
standaloneEnabled=true
admin.enableServer=true
server.1=z1:2888:3888;2181
server.2=z2:2888:3888;2181
server.3=z3:2888:3888;2181
4lw.commands.whitelist=srvr,ruok
metricsProvider.httpPort=7070
extendedTypesEnabled=true
CFG
check ensemble "$WORK/b.want" "$WORK/b/conf/zoo.cfg"
echo 3 > "$WORK/b.myid"; check ensemble_myid "$WORK/b.myid" "$WORK/b/data/myid"

mkdir -p "$WORK/c/conf"; echo "tickTime=1234" > "$WORK/c/conf/zoo.cfg"; cp "$WORK/c/conf/zoo.cfg" "$WORK/c.want"
env -i PATH="$PATH" RZK_RENDER_ONLY=1 ZOO_CONF_DIR="$WORK/c/conf" ZOO_DATA_DIR="$WORK/c/data" ZOO_DATA_LOG_DIR="$WORK/c/datalog" ZOO_MY_ID=7 sh "$ENTRY" true
check mounted_config_is_kept "$WORK/c.want" "$WORK/c/conf/zoo.cfg"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
