#!/usr/bin/env bash
# test.sh — every test: the release build's ctest suite, the same suite built
# with -fsanitize=address,undefined, and each libFuzzer target for a short
# run (MNEMO_FUZZ_SECONDS, default 60).  Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== release build: ctest"
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== ASan/UBSan build: ctest"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMNEMO_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$jobs" -LE slow)

echo "== libFuzzer targets"
bash scripts/fuzz.sh "${MNEMO_FUZZ_SECONDS:-60}"
echo "test.sh: all passed"
