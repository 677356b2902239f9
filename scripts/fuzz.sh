#!/usr/bin/env bash
# fuzz.sh [SECONDS] — build every fuzz/fuzz_*.c target with clang and
# libFuzzer (+ASan/UBSan) and run each for SECONDS (default 60) on its seed
# corpus in fuzz/corpus/<name>/.  A crash fails the script; the crashing
# input is left in build-fuzz/crashes/ — copy it into tests/fixtures/ as a
# regression case.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMNEMO_FUZZ=ON -DMNEMO_SANITIZE=ON >/dev/null
# only the fuzz targets (and the core library they link): the tests and
# benchmarks of this tree are never run
targets=$(for src in fuzz/fuzz_*.c; do basename "$src" .c; done)
# shellcheck disable=SC2086
cmake --build build-fuzz -j"$(nproc)" --target $targets >/dev/null
mkdir -p build-fuzz/crashes
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  seeds=fuzz/corpus/${name#fuzz_}
  work=build-fuzz/corpus/${name#fuzz_}
  mkdir -p "$work"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
  echo "fuzz: $name for ${secs}s"
  if ! ./build-fuzz/fuzz/"$name" -max_total_time="$secs" -print_final_stats=0 \
        -artifact_prefix=build-fuzz/crashes/"$name"- "$work" >build-fuzz/"$name".log 2>&1; then
    tail -40 build-fuzz/"$name".log
    echo "fuzz: $name FAILED (input in build-fuzz/crashes/)"
    exit 1
  fi
  grep -E '^#[0-9]+.*(DONE|pulse)' build-fuzz/"$name".log | tail -1 || true
done
