#!/usr/bin/env bash
# fuzz.sh [SECONDS] — build every fuzz/fuzz_*.c target with clang and
# libFuzzer (+ASan/UBSan) and run each for SECONDS (default 60) on its seed
# corpus in fuzz/corpus/<name>/, as many at a time as there are cores.  A
# crash fails the script; the crashing input is left in build-fuzz/crashes/
# — copy it into tests/fixtures/ as a regression case.
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

# fuzz_one NAME: run one target for $secs on a copy of its seeds; its output
# goes to build-fuzz/NAME.log, one summary line (or the failure) to stdout.
fuzz_one() {
  local name=$1 seeds=fuzz/corpus/${1#fuzz_} work=build-fuzz/corpus/${1#fuzz_}
  mkdir -p "$work"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
  if ! ./build-fuzz/fuzz/"$name" -max_total_time="$secs" -print_final_stats=0 \
        -artifact_prefix=build-fuzz/crashes/"$name"- "$work" >build-fuzz/"$name".log 2>&1; then
    tail -40 build-fuzz/"$name".log
    echo "fuzz: $name FAILED (input in build-fuzz/crashes/)"
    return 1
  fi
  echo "fuzz: $name ${secs}s: $(grep -E '^#[0-9]+.*(DONE|pulse)' build-fuzz/"$name".log | tail -1)"
}
export -f fuzz_one
export secs

# Each target is single-threaded: run one per core (the same CPU time per
# target as running them one after another, in a fraction of the wall time).
echo "fuzz: $(echo $targets | wc -w) targets, ${secs}s each, $(nproc) at a time"
# shellcheck disable=SC2086
printf '%s\n' $targets | xargs -P "$(nproc)" -I{} bash -c 'fuzz_one "$1"' _ {} || {
  echo "fuzz: a target failed (see above)"
  exit 1
}
