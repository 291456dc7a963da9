#!/usr/bin/env bash
# Instructions per operation of the rzk server, counted by callgrind: repeatable where
# wall-clock figures on a shared machine are not.
#
#   benches/callgrind.sh [RZK_BIN] [WORKLOAD] [SECONDS]
#
# Starts RZK_BIN (default target/release/rzk) under valgrind --tool=callgrind on a
# fresh dataDir and a free loopback port, zeroes the counters once it serves, runs
# `rzk-bench --workload WORKLOAD` (default get) with 4 sessions x 8 outstanding for
# SECONDS (default 5), dumps the counters and prints instructions per operation.
# The callgrind output stays in the work directory for callgrind_annotate; extra
# valgrind options come from CALLGRIND_OPTS (e.g. --separate-threads=yes: one file per
# thread, the core thread's cost apart from the connection tasks' and the log writer's).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
rzk="${1:-$here/target/release/rzk}"
workload="${2:-get}"
seconds="${3:-5}"
bench="$(dirname "$rzk")/rzk-bench"
work="$(mktemp -d /tmp/rzk-callgrind.XXXXXX)"
port=$((20000 + RANDOM % 10000))

cat >"$work/zoo.cfg" <<EOF
tickTime=2000
dataDir=$work/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
forceSync=yes
admin.enableServer=false
4lw.commands.whitelist=*
EOF

RZK_LOG=warn valgrind --tool=callgrind ${CALLGRIND_OPTS:-} --callgrind-out-file="$work/callgrind.out" \
    "$rzk" "$work/zoo.cfg" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT

for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.2
done
sleep 1
callgrind_control -z "$server" >/dev/null 2>&1
ops=$("$bench" --server "127.0.0.1:$port" --workload "$workload" --connections 4 --depth 8 \
    --seconds "$seconds" --threads 1 --json | sed -n 's/.*"ops":\([0-9]*\).*/\1/p' | head -1)
callgrind_control -d "$server" >/dev/null 2>&1
sleep 1
ir=$(for f in "$work"/callgrind.out*; do sed -n 's/^summary: \([0-9]*\).*/\1/p' "$f"; done | sort -n | tail -1)
echo "workload $workload: $ops ops, $ir instructions, $((ir / (ops > 0 ? ops : 1))) instructions/op (output in $work)"
