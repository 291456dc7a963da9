#!/usr/bin/env bash
# Bounded fuzzing of every target in fuzz/fuzz_targets/.
#
#   fuzz/run.sh [--secs N] [--engine auto|libfuzzer|stable] [--install] [TARGET...]
#
# libfuzzer: `cargo fuzz` (coverage-guided) on the stable toolchain, which works with
#   RUSTC_BOOTSTRAP=1 and --sanitizer none (no nightly, so no AddressSanitizer; Rust's
#   own bounds and overflow checks still turn memory errors into panics). Each target
#   runs N seconds over a scratch copy of fuzz/corpus/<target> (the repo is not touched).
# stable: the same targets through tests/fuzz_stable.rs (seeded mutations, no coverage
#   feedback), N seconds per target.
# auto (default): libfuzzer when `cargo fuzz` is installed, else stable.
# --install: `cargo install cargo-fuzz` first (into $FUZZ_TOOLS, default .tools/).
#
# Prints one line per target and ends with `N passed, N failed`.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
secs=10 engine=auto install=0 targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --secs) secs=$2; shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    --install) install=1; shift ;;
    -h|--help) sed -n 2,17p "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=($(ls fuzz/fuzz_targets | sed 's/\.rs$//'))
TOOLS=${FUZZ_TOOLS:-$ROOT/.tools}
export PATH="$TOOLS/bin:$HOME/.cargo/bin:$PATH"
if [ $install = 1 ] && ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz into $TOOLS"
  cargo install --locked cargo-fuzz --root "$TOOLS" || exit 1
fi
if [ "$engine" = auto ]; then
  if cargo fuzz --version >/dev/null 2>&1; then engine=libfuzzer; else engine=stable; fi
fi
SCRATCH=${FUZZ_SCRATCH:-$(mktemp -d)}
mkdir -p "$SCRATCH"
echo "engine: $engine, $secs s per target, scratch: $SCRATCH"
passed=0 failed=0

run_libfuzzer() {
  local t=$1 corpus="$SCRATCH/corpus/$1"
  rm -rf "$corpus"; mkdir -p "$corpus" "$SCRATCH/artifacts/$t/"
  cp fuzz/corpus/"$t"/* "$corpus"/
  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O --sanitizer none "$t" "$corpus" -- \
      -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
      -artifact_prefix="$SCRATCH/artifacts/$t/" -print_final_stats=1) >"$SCRATCH/$t.log" 2>&1
}

run_stable() {
  RZK_FUZZ_SECS=$secs RZK_FUZZ_ITERS=100000000 cargo test --release --test fuzz_stable "fuzz_$1" -- --exact --nocapture \
    >"$SCRATCH/$1.log" 2>&1
}

if [ $engine = libfuzzer ]; then
  echo "building the fuzz targets (cargo fuzz build -O --sanitizer none)"
  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -O --sanitizer none) >"$SCRATCH/build.log" 2>&1 \
    || { tail -30 "$SCRATCH/build.log"; echo "0 passed, ${#targets[@]} failed"; exit 1; }
else
  echo "building tests/fuzz_stable.rs"
  cargo test --release --test fuzz_stable --no-run >"$SCRATCH/build.log" 2>&1 \
    || { tail -30 "$SCRATCH/build.log"; echo "0 passed, ${#targets[@]} failed"; exit 1; }
fi

for t in "${targets[@]}"; do
  if "run_$engine" "$t"; then
    passed=$((passed + 1))
    stats=$(grep -Eo 'Done [0-9]+ runs|[0-9]+ seeds, [0-9]+ mutants' "$SCRATCH/$t.log" | tail -1)
    echo "ok    $t ($stats)"
  else
    failed=$((failed + 1))
    echo "FAIL  $t (log: $SCRATCH/$t.log)"
    grep -E 'panicked|failed on|Test unit written|SUMMARY|deadly signal' "$SCRATCH/$t.log" | head -8 | sed 's/^/      /'
  fi
done
echo "$passed passed, $failed failed"
[ $failed = 0 ]
