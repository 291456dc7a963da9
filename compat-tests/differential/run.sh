#!/bin/bash
# Suite differential: one seeded workload per seed, run against Apache ZooKeeper 3.8 and
# the server under test, every reply, event and handshake compared.
#
# The driver starts its own pair of servers (tickTime=100 for fast session expiry, the
# container reaper out of reach so no txn happens at a time the workload did not choose),
# so ZK_CONNECT and ZK_CONNECT_ORACLE are not used. TARGET=zk compares Apache ZooKeeper
# with itself, which proves the workload deterministic.
#
# Knobs: DIFF_SEEDS (default 0..200), DIFF_OPS (default 500), DIFF_TIMEOUT (s, default 900).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
TGT=${CARGO_TARGET_DIR:-$ROOT/target}
SEEDS=${DIFF_SEEDS:-0..200}
OPS=${DIFF_OPS:-500}
echo "differential: building the driver"
if ! (cd "$ROOT" && cargo build --release --workspace --bins) >"$WORK/differential-build.log" 2>&1; then
  tail -30 "$WORK/differential-build.log"
  echo "FAIL differential_build: cargo build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
RZK_BIN=${RZK_BIN:-$TGT/release/rzk}
echo "differential: seeds $SEEDS x $OPS ops, target ${TARGET:-rzk}"
timeout "${DIFF_TIMEOUT:-900}" "$TGT/release/rzk-differential" --target "${TARGET:-rzk}" --rzk-bin "$RZK_BIN" \
  --seeds "$SEEDS" --ops "$OPS" --work "$WORK/differential" --time-limit $(( ${DIFF_TIMEOUT:-900} - 60 ))
rc=$?
if [ $rc -eq 124 ]; then
  echo "FAIL differential_timeout: not finished within ${DIFF_TIMEOUT:-900} s"
  echo "0 passed, 1 failed"
fi
exit $rc
