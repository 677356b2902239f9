#!/usr/bin/env bash
# test_fault_contam.sh — "fail at call N" over `mnemo contam` (lib.sh) on
# the planted corpus of tests/fixtures/contam (20 items, 12 flagged):
#   contam-db      --db (a 2-shard DB of the corpus) with --retrieval-check 2
#   contam-corpus  --corpus (the raw JSONL file)
# Outputs: contamination.jsonl, skipped.jsonl, contam-summary.json,
# report.md, report.html, each absent or equal to the uninterrupted run's
# after a failure; the rerun gives the same files.
# ctest-cost: 36 (seconds under the sanitizers on the CI machine: started first)
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/fault/lib.sh"
test_begin test_fault_contam
fi_require

F=$SRC/tests/fixtures/contam
"$BIN" ingest --db "$W/db" --shards 2 --chunk-tokens 200 --overlap 40 "$F/corpus.jsonl" 2>/dev/null || fail "ingest"

FI_NAME=contam-db
FI_CMD=(contam --bench "jsonl:$F/bench.jsonl" --db "$W/db" --rule gpt3 --retrieval-check 2 --out "$S/out")
fault_loop

FI_NAME=contam-corpus
FI_CMD=(contam --bench "jsonl:$F/bench.jsonl" --corpus "$F/corpus.jsonl" --rule gpt3 --out "$S/out")
fault_loop

test_end
