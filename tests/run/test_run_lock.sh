#!/usr/bin/env bash
# test_run_lock.sh — one writer per output folder (issue 12, finding 7:
# two `mnemo run` on one folder both did all the work).  While a run works
# in OUT (it holds OUT/.mnemo.lock):
#   - a second `mnemo run` on OUT exits 1 at once, naming the first's pid and
#     host, and writes nothing (no part file of its own);
#   - `mnemo eval`, `mnemo contam` and `mnemo multiplier` with --out OUT are
#     refused the same way;
# after a SIGKILL of the first, a rerun takes the lock over and completes
# with records identical to an uninterrupted run's.  The same under
# `mpirun -np 2` (rank 0 holds the lock, every rank learns the refusal: one
# message, no hang).  The first run is frozen after its first commit
# (MNEMO_RUN_KILL_AFTER=1 MNEMO_RUN_KILL_SIGNAL=STOP): a live holder for as
# long as the checks take, whatever the machine's speed.
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_run_lock
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MNEMO_PROGRESS=off
. "$SRC/tests/run/run_fixture.sh"
free_job 2
HOST=$(hostname)

# wait_commit DIR: until a chunk is committed under DIR (max ~30 s)
wait_commit() {
    for _ in $(seq 300); do grep -qs '"chunk"' "$1"/parts/*.jsonl && return 0; sleep 0.1; done
    return 1
}
same_items() {
    cmp -s "$2/items.jsonl" "$3/items.jsonl" && ok "$1" \
        || fail "$1: items.jsonl differs: $(diff "$2/items.jsonl" "$3/items.jsonl" | head -c 400)"
}

run "uninterrupted run" 0 run "$J" --out "$TMP/ref"

# --- one process -------------------------------------------------------------
D=$TMP/one
MNEMO_RUN_KILL_AFTER=1 MNEMO_RUN_KILL_SIGNAL=STOP "$BIN" run "$J" --out "$D" >/dev/null 2>"$TMP/first.err" &
pid=$!
wait_commit "$D" || fail "no commit from the first run"
grep -q "pid=$pid .*what=run" "$D/.mnemo.lock" && ok "the lock names its holder: $(cat "$D/.mnemo.lock")" \
    || fail "lock file: $(cat "$D/.mnemo.lock")"
expect_error "a second run on the folder" 1 "$D/.mnemo.lock" "held by mnemo run, pid $pid on host $HOST" \
    "another folder" -- run "$J" --out "$D"
expect_error "eval into the folder" 1 "held by mnemo run, pid $pid" -- \
    eval --model "$TMP/model" --bench "jsonl:$TMP/free.jsonl" --limit 2 --out "$D"
expect_error "contam into the folder" 1 "held by mnemo run, pid $pid" -- \
    contam --bench "jsonl:$TMP/free.jsonl" --corpus "$TMP/free.jsonl" --out "$D"
expect_error "multiplier into the folder" 1 "held by mnemo run, pid $pid" -- multiplier "$TMP/ref" --out "$D"
kill -0 "$pid" 2>/dev/null && ok "the first run was still there" \
    || fail "the first run ended before the checks: they prove nothing"
[ "$(ls "$D/parts" | wc -l)" -eq 1 ] && ok "the refused run wrote no part file" || fail "parts: $(ls "$D/parts")"
kill -9 "$pid"
wait "$pid" 2>/dev/null
# what a writer SIGKILLed in an output's commit leaves: temporary files of a
# dead pid (the killed run's), in the folder and in parts/; a live process's
# (this shell's) is not provably stale and stays
echo torn >"$D/summary.json.tmp.$pid"
echo torn >"$D/parts/x-r0.jsonl.tmp.$pid"
echo live >"$D/notes.json.tmp.$$"
run "rerun after SIGKILL takes the lock over" 0 run "$J" --out "$D"
same_items "killed, taken over and finished = uninterrupted" "$TMP/ref" "$D"
[ ! -e "$D/summary.json.tmp.$pid" ] && [ ! -e "$D/parts/x-r0.jsonl.tmp.$pid" ] && [ -e "$D/notes.json.tmp.$$" ] \
    && ok "the dead run's temporary files are removed, a live one's kept" \
    || fail "temporary files after the takeover: $(ls -R "$D" | grep tmp)"
rm -f "$D/notes.json.tmp.$$"
[ "$(jq -r .id "$D/items.jsonl" | sort | uniq -d | wc -l)" -eq 0 ] || fail "duplicate ids"

# --- mpirun -np 2 ------------------------------------------------------------
if command -v mpirun >/dev/null; then
    MPIRUN=(env LSAN_OPTIONS=detect_leaks=0 mpirun --oversubscribe -x OMP_NUM_THREADS=1 -x LSAN_OPTIONS -x MNEMO_PROGRESS
            -x MNEMO_RUN_KILL_AFTER -x MNEMO_RUN_KILL_RANK -x MNEMO_RUN_KILL_SIGNAL)
    [ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
    D=$TMP/mpi
    # rank 0 freezes after its first commit; rank 1 waits for it in MPI
    MNEMO_RUN_KILL_AFTER=1 MNEMO_RUN_KILL_RANK=0 MNEMO_RUN_KILL_SIGNAL=STOP \
        "${MPIRUN[@]}" -np 2 "$BIN" run "$J" --out "$D" >/dev/null 2>&1 &
    mp=$!
    wait_commit "$D" || fail "mpirun: no commit from the first run"
    holder=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$D/.mnemo.lock")
    "${MPIRUN[@]}" -np 2 "$BIN" run "$J" --out "$D" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -ne 0 ] && [ "$(grep -c '^mnemo: ' "$TMP/err")" -eq 1 ] && grep -q "held by mnemo run, pid $holder on host" "$TMP/err" \
        && ok "mpirun: a second run on the folder refused once: $(grep '^mnemo: ' "$TMP/err")" \
        || fail "mpirun: second run: exit $rc: $(head -c 400 "$TMP/err")"
    kill -0 "$mp" 2>/dev/null || fail "mpirun: the first run ended before the check"
    kill -9 "$holder" # rank 0; mpirun then stops rank 1
    wait "$mp" 2>/dev/null
    "${MPIRUN[@]}" -np 2 "$BIN" run "$J" --out "$D" >/dev/null 2>"$TMP/err" \
        && ok "mpirun: rerun after SIGKILL of rank 0 takes over" || fail "mpirun: rerun: $(tail -c 400 "$TMP/err")"
    same_items "mpirun: killed, taken over and finished = uninterrupted" "$TMP/ref" "$D"
else
    fail "mpirun not found (scripts/setup.sh installs openmpi-bin)"
fi
test_end
