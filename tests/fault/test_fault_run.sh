#!/usr/bin/env bash
# test_fault_run.sh — "fail at call N" over `mnemo run` (lib.sh): a job
# over the qwen3_tiny fixture model (byte-level tokenizer) and the MMLU
# fixture (7 items, 1-shot, two passages from a 4-shard DB) in chunks of 2,
# so that the records are committed in 4 part-file appends (write + fsync)
# before the final outputs.  Outputs: job.json, items.jsonl, summary.json
# and <model>/results_<time>.json (equal to the uninterrupted run's but
# for the creation time: run has no --created), run-stats.json (timings:
# whole JSON only); parts/ is the append-only record log the rerun resumes
# from.  The rerun must complete to the uninterrupted run's results.
#   run      one process
#   run-np2  under mpirun -np 2, faults injected on rank 1 only (its calls
#            depend on how the work queue split the chunks: the points are
#            not the same calls from run to run, the checks are)
# ctest-cost: 110 (seconds under the sanitizers on the CI machine: started first)
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/fault/lib.sh"
test_begin test_fault_run
fi_require

M="$W/qwen3"
fi_tiny_model "$M"
MNEMO="$BIN" bash "$SRC/scripts/smoke-db.sh" "$W/db" 2>/dev/null || fail "smoke-db.sh"
printf 'name: fi\nmodel: %s\nbench: mmlu:%s\nshots: 1\nchunk: 2\nout: %s\nretrieval:\n  db: %s\n  k: 2\n  budget: 48\n' \
    "$M" "$SRC/tests/fixtures/bench/mmlu/data" "$W/unused" "$W/db" >"$W/job.yaml"

fi_class() {
    case $1 in
    out/parts/*) cls=skip ;;
    out/run-stats.json) cls=json ;;
    out/summary.json | out/*/results_*.json) cls=norm ;;
    *) cls=exact ;;
    esac
}
fi_normalize() { jq -S 'del(.created, .date)' "$2"; }
fi_key() { key=${1/results_*.json/results_TIME.json}; }
# a resumed directory holds one lm-eval file per finished session: equal
# ones count once
fi_digest() { fi_sums | LC_ALL=C sort -u; }

FI_NAME=run
FI_CMD=(run "$W/job.yaml" --out "$S/out")
fault_loop

if command -v mpirun >/dev/null; then
    FI_NAME=run-np2
    FI_MPI=1
    FI_LAUNCH=(mpirun --oversubscribe -np 2)
    [ "$(id -u)" -eq 0 ] && FI_LAUNCH+=(--allow-run-as-root)
    export LSAN_OPTIONS=detect_leaks=0 # Open MPI's own allocations
    FI_FAULT_ENV=(MNEMO_FAULT_RANK=1)
    FI_COUNT_RANK=1
    FI_POINTS=2 fault_loop
else
    fail "mpirun not found (scripts/setup.sh installs openmpi-bin)"
fi

test_end
