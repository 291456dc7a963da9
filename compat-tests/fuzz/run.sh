#!/usr/bin/env bash
# Bounded fuzzing of every decoder (fuzz/run.sh): coverage-guided with cargo-fuzz when
# it is installed, else the stable-toolchain mutator. FUZZ_SECS seconds per target
# (default 8, ten targets). Needs no server: TARGET and the addresses are ignored.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
export FUZZ_SCRATCH="${WORK:-$(mktemp -d)}/fuzz"
exec bash "$here/../../fuzz/run.sh" --secs "${FUZZ_SECS:-8}" ${FUZZ_ENGINE:+--engine "$FUZZ_ENGINE"}
