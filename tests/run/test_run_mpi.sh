#!/usr/bin/env bash
# test_run_mpi.sh — `mnemo run JOB` on 1 (no launcher), 2 and 4 MPI ranks,
# killed and resumed:
#   - two jobs over the fixture model with the real Qwen3 tokenizer and a
#     4-shard retrieval DB: MMLU by log-likelihood (1-shot, passages) and a
#     120-item free-form JSONL benchmark by generation with sc:2; items.jsonl
#     byte-identical and summary.json / the lm-eval file identical (but for
#     the creation time) for R = 1, 2, 4;
#   - a job reranking its passages (retrieval.rerank: self): items.jsonl
#     byte-identical for R = 1 and 2 and to `mnemo eval` with the same
#     settings;
#   - SIGKILL of a given rank after its N-th committed chunk
#     (MNEMO_RUN_KILL_AFTER / MNEMO_RUN_KILL_RANK, a test hook in run.c),
#     and of a random rank at a random moment, then reruns with other rank
#     counts: the final records equal the uninterrupted run's, no item lost
#     or duplicated;
#   - SIGTERM (no launcher) and SIGUSR1 (to mpirun, forwarded) after the
#     first commit: exit status 75, records kept, the rerun completes;
#   - a changed job refuses the old directory unless --force; bad job files
#     and arguments get one message from rank 0.
# ctest-cost: 345 (seconds under the sanitizers on the CI machine: started first)
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_run_mpi
if ! command -v mpirun >/dev/null; then
    fail "mpirun not found (scripts/setup.sh installs openmpi-bin)"
    test_end
    exit 1
fi
MPIRUN=(env LSAN_OPTIONS=detect_leaks=0 mpirun --oversubscribe -x OMP_NUM_THREADS=1 -x LSAN_OPTIONS
        -x MNEMO_RUN_KILL_AFTER -x MNEMO_RUN_KILL_RANK -x MNEMO_PROGRESS)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
export MNEMO_PROGRESS=log OMP_NUM_THREADS=1
TOK=$SRC/deps/tokenizers/qwen3/tokenizer.json
[ -s "$TOK" ] || { fail "$TOK missing (scripts/fetch-tokenizers.sh)"; test_end; exit 1; }

MNEMO="$BIN" bash "$SRC/scripts/smoke-db.sh" "$TMP/db" 2>/dev/null || fail "smoke-db.sh"
# a free-form benchmark of 120 items
for i in $(seq 1 120); do
    printf '{"id": "q%02d", "question": "What is %d plus %d? The river and the stone mill.", "answer": "%d"}\n' \
        "$i" "$i" "$((i * 3))" "$((i * 4))"
done >"$TMP/free.jsonl"
job() { # job NAME OUT BENCH EXTRA-YAML
    printf 'name: %s\nmodel: %s\ntokenizer: %s\nbench: %s\nout: %s\nretrieval:\n  db: %s\n  k: 2\n  budget: 48\n%s\n' \
        "$1" "$SRC/tests/fixtures/eval/qwen3_vocab" "$TOK" "$3" "$2" "$TMP/db" "$4" >"$TMP/$1.yaml"
}
job mmlu "$TMP/unused" "mmlu:$SRC/tests/fixtures/bench/mmlu/data" $'shots: 1\nchunk: 2'
job free "$TMP/unused" "jsonl:$TMP/free.jsonl" $'chunk: 3\nttc:\n  kind: sc\n  n: 2\n  max_new_tokens: 12'

same_run() { # same_run NAME REF_DIR DIR — identical results
    cmp -s "$2/items.jsonl" "$3/items.jsonl" || { fail "$1: items.jsonl differs: $(diff "$2/items.jsonl" "$3/items.jsonl" | head -c 300)"; return; }
    [ "$(jq -S -c 'del(.created)' "$2/summary.json")" = "$(jq -S -c 'del(.created)' "$3/summary.json")" ] \
        || { fail "$1: summary.json differs"; return; }
    local ra rb # the newest lm-eval file of each (a resumed directory holds one per finished session)
    ra=$(ls -t "$2"/*/results_*.json | head -1)
    rb=$(ls -t "$3"/*/results_*.json | head -1)
    [ "$(jq -S -c 'del(.date)' "$ra")" = "$(jq -S -c 'del(.date)' "$rb")" ] \
        || { fail "$1: lm-eval results differ"; return; }
    ok "$1"
}

# --- R = 1, 2, 4 -------------------------------------------------------------
for j in mmlu free; do
    run "$j R=1" 0 run "$TMP/$j.yaml" --out "$TMP/$j-r1"
    err_has "$j R=1" "mnemo: run: "
    n=$(jq .n "$TMP/$j-r1/summary.json")
    [ "$(wc -l <"$TMP/$j-r1/items.jsonl")" -eq "$n" ] && [ "$n" -gt 0 ] || fail "$j R=1: $n items in summary"
    for np in 2 4; do
        "${MPIRUN[@]}" -np $np "$BIN" run "$TMP/$j.yaml" --out "$TMP/$j-r$np" >"$TMP/out" 2>"$TMP/err" \
            || fail "$j -np $np: $(tail -c 400 "$TMP/err")"
        same_run "$j: R=$np = R=1" "$TMP/$j-r1" "$TMP/$j-r$np"
        jq -e --argjson r $np '.ranks == $r and ([.per_rank[].items] | add) == .items' "$TMP/$j-r$np/run-stats.json" >/dev/null \
            || fail "$j -np $np: run-stats.json: $(cat "$TMP/$j-r$np/run-stats.json")"
    done
done
jq -e -s 'all(.[]; (.retrieved | length) == 2 and .passage_tokens <= 48)' "$TMP/mmlu-r1/items.jsonl" >/dev/null \
    || fail "mmlu: retrieval not in the records"
# reranking (self, UPR) happens where a chunk is scored: the same records on
# any number of ranks, and the same as mnemo eval's
job rerank "$TMP/unused" "mmlu:$SRC/tests/fixtures/bench/mmlu/data" $'  rerank: self\n  rerank_depth: 4\nchunk: 2'
run "rerank R=1" 0 run "$TMP/rerank.yaml" --out "$TMP/rerank-r1"
"${MPIRUN[@]}" -np 2 "$BIN" run "$TMP/rerank.yaml" --out "$TMP/rerank-r2" >"$TMP/out" 2>"$TMP/err" \
    || fail "rerank -np 2: $(tail -c 400 "$TMP/err")"
same_run "rerank: R=2 = R=1" "$TMP/rerank-r1" "$TMP/rerank-r2"
jq -e -s 'all(.[]; (.retrieved | length) == 4 and (.reranked | length) == 2 and (.rerank_scores | length) == 2)' \
    "$TMP/rerank-r1/items.jsonl" >/dev/null || fail "rerank: no reranking in the records"
run "rerank: mnemo eval" 0 eval --model "$SRC/tests/fixtures/eval/qwen3_vocab" --tokenizer "$TOK" \
    --bench "mmlu:$SRC/tests/fixtures/bench/mmlu/data" --retrieval "$TMP/db" --k 2 --budget 48 --rerank self \
    --rerank-depth 4 --chunk 2 --out "$TMP/rerank-eval"
cmp -s "$TMP/rerank-r1/items.jsonl" "$TMP/rerank-eval/items.jsonl" && ok "rerank: mnemo run = mnemo eval" \
    || fail "rerank: mnemo run and mnemo eval differ: $(diff "$TMP/rerank-r1/items.jsonl" "$TMP/rerank-eval/items.jsonl" | head -c 300)"
jq -e '.config.retrieval.rerank == "self" and .config.retrieval.rerank_depth == 4' "$TMP/rerank-r2/summary.json" >/dev/null \
    || fail "rerank: summary config.retrieval: $(jq -c .config.retrieval "$TMP/rerank-r2/summary.json")"
# the contamination phase of a job: the benchmark against the retrieval DB
{ cat "$TMP/mmlu.yaml"; printf 'contam:\n  n: 8\n  retrieval_check: 1\n'; } >"$TMP/mmlu-c.yaml"
run "contam phase R=1" 0 run "$TMP/mmlu-c.yaml" --out "$TMP/mc1"
err_has "contam phase R=1" "mnemo: run: contamination:"
"${MPIRUN[@]}" -np 2 "$BIN" run "$TMP/mmlu-c.yaml" --out "$TMP/mc2" >/dev/null 2>"$TMP/err" || fail "contam phase -np 2: $(tail -c 300 "$TMP/err")"
cmp -s "$TMP/mc1/contam/contamination.jsonl" "$TMP/mc2/contam/contamination.jsonl" && [ -s "$TMP/mc1/contam/report.html" ] \
    && ok "contam phase: the same audit on 1 and 2 ranks, with a report" || fail "contam phase outputs differ or are missing"
# a sweep (two benchmarks): --task all runs both combinations in turn, under
# mpirun as without, and gives what --task 0 and --task 1 give
printf 'model: %s\ntokenizer: %s\nbenches:\n  - mmlu:%s\n  - jsonl:%s\nout: %s\nttc:\n  max_new_tokens: 8\nchunk: 4\n' \
    "$SRC/tests/fixtures/eval/qwen3_vocab" "$TOK" "$SRC/tests/fixtures/bench/mmlu/data" "$TMP/free.jsonl" "$TMP/unused" >"$TMP/sweep.yaml"
expect_error "sweep without --task" 2 "sweep.yaml" "a sweep of 2 combinations" "(or all)" -- run "$TMP/sweep.yaml"
run "sweep --task 0" 0 run "$TMP/sweep.yaml" --task 0 --out "$TMP/sw1"
run "sweep --task 1" 0 run "$TMP/sweep.yaml" --task 1 --out "$TMP/sw1"
"${MPIRUN[@]}" -np 2 "$BIN" run "$TMP/sweep.yaml" --task all --out "$TMP/sw2" >"$TMP/out" 2>"$TMP/err" \
    || fail "sweep --task all -np 2: $(tail -c 400 "$TMP/err")"
for d in qwen3_vocab/mmlu-data qwen3_vocab/jsonl-free; do
    same_run "sweep --task all: $d" "$TMP/sw1/$d" "$TMP/sw2/$d"
done
run "sweep --task all again: nothing left to do" 0 run "$TMP/sweep.yaml" --task all --out "$TMP/sw2"
expect_error "bad --task" 2 "--task" -- run "$TMP/sweep.yaml" --task some

# --- SIGKILL of a rank after its N-th commit, resumed with other rank counts --
D=$TMP/free-kill
killed=0
for step in "4 1 0" "2 1 1" "4 1 3" "1 1 0"; do # ranks, commits before the kill, the rank killed
    set -- $step
    if [ "$1" -eq 1 ]; then
        MNEMO_RUN_KILL_AFTER=$2 MNEMO_RUN_KILL_RANK=$3 "$BIN" run "$TMP/free.yaml" --out "$D" >/dev/null 2>"$TMP/err"
    else
        MNEMO_RUN_KILL_AFTER=$2 MNEMO_RUN_KILL_RANK=$3 "${MPIRUN[@]}" -np "$1" "$BIN" run "$TMP/free.yaml" --out "$D" \
            >/dev/null 2>"$TMP/err"
    fi
    rc=$?
    # the other ranks go on committing until mpirun stops them, so a late
    # step may find the job done: then it finishes normally
    if [ "$rc" -ne 0 ]; then killed=$((killed + 1))
    elif [ ! -e "$D/items.jsonl" ]; then fail "kill step '$step': exit 0 without results: $(tail -c 300 "$TMP/err")"; fi
done
lines=$(cat "$D"/parts/*.jsonl | grep -c '"chunk"')
[ "$killed" -ge 2 ] && [ "$lines" -gt 0 ] && ok "$killed runs killed by SIGKILL, $lines chunks committed" \
    || fail "after the kills: $killed killed, $lines commits"
# a random rank at a random moment
"${MPIRUN[@]}" -np 2 "$BIN" run "$TMP/free.yaml" --out "$D" >/dev/null 2>&1 &
sleep "0.$((RANDOM % 9 + 1))"
victim=$(pgrep -f "$BIN run $TMP/free.yaml" | shuf -n 1)
[ -n "$victim" ] && kill -9 "$victim" 2>/dev/null
wait
"${MPIRUN[@]}" -np 3 "$BIN" run "$TMP/free.yaml" --out "$D" >/dev/null 2>"$TMP/err" || fail "resume -np 3: $(tail -c 300 "$TMP/err")"
same_run "killed and resumed = uninterrupted" "$TMP/free-r1" "$D"
[ "$(jq -r .id "$D/items.jsonl" | sort | uniq -d | wc -l)" -eq 0 ] || fail "duplicate ids after resume"

# --- SIGTERM / SIGUSR1: clean exit 75, then resume ---------------------------
first_commit() { # wait until a chunk is committed under $1 (max ~20 s)
    for _ in $(seq 200); do grep -qs '"chunk"' "$1"/parts/*.jsonl && return 0; sleep 0.1; done
    return 1
}
D=$TMP/free-term
"$BIN" run "$TMP/free.yaml" --out "$D" >/dev/null 2>"$TMP/err" &
pid=$!
first_commit "$D" || fail "SIGTERM: no commit seen"
kill -TERM $pid
wait $pid
rc=$?
if [ "$rc" -eq 75 ]; then ok "SIGTERM: exit 75"
elif [ "$rc" -eq 0 ]; then ok "SIGTERM: the run had finished before the signal (exit 0)"
else fail "SIGTERM: exit $rc: $(tail -c 300 "$TMP/err")"; fi
[ "$rc" -ne 75 ] || grep -q "rerun the same command to resume" "$TMP/err" || fail "SIGTERM: no resume hint"
run "resume after SIGTERM" 0 run "$TMP/free.yaml" --out "$D"
same_run "SIGTERM and resumed = uninterrupted" "$TMP/free-r1" "$D"
D=$TMP/free-usr1
"${MPIRUN[@]}" -np 2 "$BIN" run "$TMP/free.yaml" --out "$D" >/dev/null 2>"$TMP/err" &
pid=$!
first_commit "$D" || fail "SIGUSR1: no commit seen"
kill -USR1 $pid
wait $pid
rc=$?
[ "$rc" -eq 75 ] || [ "$rc" -eq 0 ] || fail "SIGUSR1 under mpirun: exit $rc: $(tail -c 300 "$TMP/err")"
"${MPIRUN[@]}" -np 2 "$BIN" run "$TMP/free.yaml" --out "$D" >/dev/null 2>"$TMP/err" || fail "resume after SIGUSR1"
same_run "SIGUSR1 (mpirun) and resumed = uninterrupted" "$TMP/free-r1" "$D"

# --- a changed job, bad input ------------------------------------------------
sed 's/^  n: 2$/  n: 3/' "$TMP/free.yaml" >"$TMP/free3.yaml"
expect_error "changed job" 1 "the job changed" "ttc.n" "--force" -- run "$TMP/free3.yaml" --out "$TMP/free-r1"
printf 'model: %s\nbench: mmlu:x\nout: o\ntempreature: 1\n' "$SRC/tests/fixtures/eval/qwen3_vocab" >"$TMP/bad.yaml"
expect_error "unknown key" 2 "bad.yaml" "line 4" "tempreature" -- run "$TMP/bad.yaml"
"${MPIRUN[@]}" -np 2 "$BIN" run "$TMP/bad.yaml" >"$TMP/out" 2>"$TMP/err"
[ "$(grep -c '^mnemo: ' "$TMP/err")" -eq 1 ] && grep -q tempreature "$TMP/err" && ok "bad job under mpirun: one message" \
    || fail "bad job under mpirun: $(head -c 400 "$TMP/err")"
expect_error "no job" 2 "no JOB" -- run
expect_error "missing job file" 1 "nothere.yaml" -- run "$TMP/nothere.yaml"
test_end
