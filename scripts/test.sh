#!/usr/bin/env bash
# test.sh — every test: the release build's ctest suite, the same suite built
# with -fsanitize=address,undefined, and each libFuzzer target for a short
# run (MNEMO_FUZZ_SECONDS, default 60; one target per core at a time).  Run
# scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
passed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Run ctest in build dir $1 (extra args after it); add its count to $passed.
run_ctest() {
  local dir=$1; shift
  (cd "$dir" && ctest --output-on-failure -j"$jobs" "$@") | tee "$log"
  local n
  n=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log")
  passed=$((passed + ${n:-0}))
}

echo "== release build: ctest"
cmake --build build -j"$jobs"
run_ctest build

echo "== ASan/UBSan build: ctest"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMNEMO_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-asan -LE slow

echo "== libFuzzer targets"
bash scripts/fuzz.sh "${MNEMO_FUZZ_SECONDS:-60}"
passed=$((passed + $(ls fuzz/fuzz_*.c | wc -l)))
# ctest runs (release + sanitizers) and fuzz targets; any failure exits above
echo "summary: $passed passed, 0 failed"
