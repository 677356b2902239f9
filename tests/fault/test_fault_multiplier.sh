#!/usr/bin/env bash
# test_fault_multiplier.sh — "fail at call N" over `mnemo multiplier`
# (lib.sh) on synthetic result folders (tests/cli/study_fixture.sh, as in
# test_multiplier_cli.sh: a three-model closed-book family, three retrieval
# results, one with sc:5) with a contamination folder and a
# planted list, 50 bootstrap samples.  Outputs: multiplier.json, report.md,
# report.html (no timestamps), each absent or equal to the uninterrupted
# run's after a failure; the rerun gives the same files.
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/fault/lib.sh"
test_begin test_fault_multiplier
fi_require

N=40
BENCH="jsonl:data/mc.jsonl"
cd "$W" || exit 1
. "$SRC/tests/cli/study_fixture.sh" # model, result
study_grid
mkdir -p contam
printf '{"bench": "%s", "n": 8, "items": %d, "flagged": 3}\n' "$BENCH" $N >contam/contam-summary.json
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"q-%02d\",\"flagged\":%s,\"overlap\":0}\n", i, (i < 3 ? "true" : "false") }' \
    >contam/contamination.jsonl
printf 'q-00\nq-01\nq-05\n' >planted.txt

FI_NAME=multiplier
FI_CMD=(multiplier r/cb1 r/cb2 r/cb3 r/ret1 r/ret2 r/ret3 r/retsc2 --out "$S/out" --bootstrap 50 --seed 7
        --contam contam --planted planted.txt)
fault_loop

test_end
