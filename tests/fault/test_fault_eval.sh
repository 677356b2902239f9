#!/usr/bin/env bash
# test_fault_eval.sh — "fail at call N" over `mnemo eval` (lib.sh): MMLU
# (the fixture's 7 items, 1-shot, passages from a 4-shard DB) scored by
# log-likelihood with the qwen3_tiny fixture model and a byte-level
# tokenizer, --created fixed so
# that the outputs are byte-identical across runs.  Outputs: items.jsonl,
# summary.json, qwen3/results_<created>.json, each absent or equal to the
# uninterrupted run's after a failure; the rerun gives the same files.
# ctest-cost: 59 (seconds under the sanitizers on the CI machine: started first)
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/fault/lib.sh"
test_begin test_fault_eval
fi_require

M="$W/qwen3"
fi_tiny_model "$M"
MNEMO="$BIN" bash "$SRC/scripts/smoke-db.sh" "$W/db" 2>/dev/null || fail "smoke-db.sh"

FI_NAME=eval
fi_prepare() { :; }
FI_CMD=(eval --model "$M" --created 2026-01-02T03:04:05Z --bench "mmlu:$SRC/tests/fixtures/bench/mmlu/data"
        --shots 1 --retrieval "$W/db" --k 2 --budget 48 --out "$S/out")
fault_loop

test_end
