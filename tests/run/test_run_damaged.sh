#!/usr/bin/env bash
# test_run_damaged.sh — a damaged commit in a part file is redone, not fatal
# and not half-used (issue 12, finding 10: a part file with a duplicated
# record made every rerun fail with "item … has no committed record after
# the run" and the chunk was never redone).  A run stopped after two commits
# gets its first part file edited by hand:
#   - a record replaced by a copy of another of its chunk (the count still
#     right): before, the chunk counted as done without that item;
#   - a record line repeated (the count wrong): before, a fatal format error;
#   - a line that is no JSON inside a chunk: before, fatal;
# each time the rerun exits 0, warns once on stderr naming the file, the
# line and the chunk, redoes that chunk, and its items.jsonl equals an
# uninterrupted run's; a later rerun (nothing to do) does not warn again.
# Also: a job file without 'out' runs with --out, and without either fails
# with a message naming both.
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_run_damaged
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MNEMO_PROGRESS=off
. "$SRC/tests/run/run_fixture.sh"
free_job 3

run "uninterrupted run (no 'out' key, --out given)" 0 run "$J" --out "$TMP/ref"
expect_error "neither 'out' nor --out" 2 "job.yaml: no output folder: give --out DIR, or the key 'out' in the job file" -- run "$J"

# damaged NAME EDIT WHY: stop after two commits, edit the first part file
# with EDIT (a sed script), rerun
damaged() {
    local D=$TMP/$1 part
    MNEMO_RUN_KILL_AFTER=2 MNEMO_RUN_KILL_SIGNAL=TERM "$BIN" run "$J" --out "$D" >/dev/null 2>"$TMP/err"
    [ $? -eq 75 ] || fail "$1: the first run did not stop after two commits: $(tail -c 300 "$TMP/err")"
    part=$(ls "$D"/parts/*.jsonl)
    sed -i "$2" "$part"
    run "$1: rerun" 0 run "$J" --out "$D"
    [ "$(grep -c 'warning' "$TMP/err")" -eq 1 ] && err_has "$1: warned" "warning: $part: line $3: chunk 0: $4" \
        && err_has "$1: redone" "the chunk is redone" && ok "$1: $(grep warning "$TMP/err")" \
        || fail "$1: stderr: $(cat "$TMP/err")"
    cmp -s "$TMP/ref/items.jsonl" "$D/items.jsonl" && ok "$1: items.jsonl = uninterrupted run's" \
        || fail "$1: items.jsonl differs: $(diff "$TMP/ref/items.jsonl" "$D/items.jsonl" | head -c 400)"
    run "$1: rerun with nothing to do" 0 run "$J" --out "$D"
    grep -q warning "$TMP/err" && fail "$1: warned again: $(cat "$TMP/err")" || ok "$1: no second warning"
}
# lines 1-3: q01..q03, line 4: the commit of chunk 0
damaged duplicate '1p;2d' 4 "holds item 'q01' twice"
damaged repeated '2p' 5 "4 records precede the commit line, which says 3"
damaged garbage '2s/^.*$/{"id": "q02", "samp/' 4 "line 2 is not a JSON record"
test_end
