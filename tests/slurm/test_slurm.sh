#!/usr/bin/env bash
# test_slurm.sh — the slurm/ templates on a real one-node Slurm cluster
# (scripts/slurm-local.sh starts one when none is up; needs root):
#   - mnemo-1node.sbatch on the smoke job (jobs/smoke.yaml with its DB and
#     output moved to a temp dir): COMPLETED, exit 0:0, items.jsonl has the
#     summary's n lines;
#   - mnemo-multinode.sbatch with 2 ranks on the one node (srun --mpi=pmix):
#     the same records as the 1-node run, run-stats.json says 2 ranks;
#   - mnemo-sweep.sbatch as an array 0-1 over a two-model sweep (two copies
#     of the smoke model under different names): both tasks complete, each
#     combination's folder holds complete results;
#   - mnemo-requeue.sbatch on a slower job (16 free-form questions with
#     self-consistency, two items per chunk), sent SIGUSR1 after its first
#     commit: mnemo exits 75, the job requeues itself (Restarts=1), the
#     rerun resumes and completes, no item lost or duplicated, no chunk done
#     twice.
# Slurm is stopped at the end only if this test started it.  Jobs run from
# the source tree (the job files' relative paths) with every output under
# the temp dir (MNEMO_SMOKE_JOB names another smoke job file).  About 30 s.
# Rerun alone: cd build && ctest -R test_slurm --output-on-failure
# ctest-label: slow
# ctest-cost: 52
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_slurm
export MNEMO_PROGRESS=log
SMOKE=${MNEMO_SMOKE_JOB:-$SRC/jobs/smoke.yaml}
TOK=$SRC/deps/tokenizers/qwen3/tokenizer.json
t_start=$(date +%s)

# ---- the cluster ------------------------------------------------------------
started=0
jobs_submitted=()
cleanup() {
    [ ${#jobs_submitted[@]} -gt 0 ] && scancel "${jobs_submitted[@]}" 2>/dev/null
    if [ "$started" -eq 1 ]; then
        bash "$SRC/scripts/slurm-local.sh" stop >/dev/null 2>&1
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

if bash "$SRC/scripts/slurm-local.sh" status >/dev/null 2>&1; then
    ok "local Slurm already up"
else
    if ! msg=$(bash "$SRC/scripts/slurm-local.sh" start 2>&1); then
        fail "cannot start the local Slurm cluster (scripts/slurm-local.sh start): $msg"
        test_end
        exit 1
    fi
    started=1
    ok "local Slurm started ($(( $(date +%s) - t_start )) s)"
fi
for f in "$SMOKE" "$TOK"; do
    [ -s "$f" ] || { fail "$f missing"; test_end; exit 1; }
done
command -v jq >/dev/null || { fail "jq not found (scripts/setup.sh installs it)"; test_end; exit 1; }

# ---- helpers ----------------------------------------------------------------

# submit NAME SBATCH-ARGS... — submits from the source tree; the job id in
# $ID (0 when sbatch failed).  Not in a subshell: it counts failures.
submit() {
    local name=$1
    shift
    if ID=$(cd "$SRC" && sbatch --parsable "$@" 2>"$TMP/sbatch.err"); then
        ID=${ID%%;*}
        jobs_submitted+=("$ID")
    else
        fail "$name: sbatch failed: $(cat "$TMP/sbatch.err")"
        ID=0
    fi
}

# wait_gone ID SECONDS — poll squeue until the job (all array tasks) left the
# queue (sbatch --wait polls at 2, 10, 42 s...; squeue answers at once).
wait_gone() {
    local id=$1 n=$(($2 * 5))
    while [ $n -gt 0 ]; do
        [ -z "$(squeue -h -j "$id" 2>/dev/null)" ] && return 0
        sleep 0.2
        n=$((n - 1))
    done
    return 1
}

# wait_state ID STATE SECONDS — poll until squeue shows the job in STATE.
wait_state() {
    local id=$1 want=$2 n=$(($3 * 5))
    while [ $n -gt 0 ]; do
        [ "$(squeue -h -j "$id" -o %T 2>/dev/null)" = "$want" ] && return 0
        sleep 0.2
        n=$((n - 1))
    done
    return 1
}

# field ID KEY — KEY's value in `scontrol show job ID` (first task for arrays).
field() { scontrol show job "$1" 2>/dev/null | grep -o "\b$2=[^ ]*" | head -n 1 | cut -d= -f2-; }

# check_done NAME ID LOG — the job (every array task) COMPLETED with 0:0.
check_done() {
    local name=$1 id=$2 log=$3 states
    states=$(scontrol show job "$id" 2>/dev/null | grep -oE 'JobState=[A-Z_]+|ExitCode=[0-9:]+' | paste -sd' ')
    if [ -n "$states" ] && ! grep -qvE '^(JobState=COMPLETED ExitCode=0:0 ?)+$' <<<"$states"; then
        ok "$name: $states"
    else
        fail "$name: job $id: ${states:-unknown to scontrol}; log:
$(tail -n 20 "$log" 2>/dev/null)"
    fi
}

# check_results NAME DIR — DIR/summary.json exists, items.jsonl has its n
# (> 0) lines with distinct ids; n in $N (0 when absent).
check_results() {
    local name=$1 dir=$2 n lines dups
    N=0
    if [ ! -s "$dir/summary.json" ] || [ ! -f "$dir/items.jsonl" ]; then
        fail "$name: $dir lacks summary.json or items.jsonl: $(ls "$dir" 2>&1 | paste -sd' ')"
        return
    fi
    n=$(jq .n "$dir/summary.json")
    lines=$(wc -l <"$dir/items.jsonl")
    dups=$(jq -r .id "$dir/items.jsonl" | sort | uniq -d | head -n 3 | paste -sd' ')
    if [ "$lines" -eq "$n" ] && [ "$n" -gt 0 ] && [ -z "$dups" ]; then
        ok "$name: $n items"
    else
        fail "$name: items.jsonl has $lines lines, summary.json n=$n, duplicate ids: '${dups}'"
    fi
    N=$n
}

sorted() { jq -S -c . "$1" | sort; }

# ---- inputs -----------------------------------------------------------------
MNEMO="$BIN" bash "$SRC/scripts/smoke-db.sh" "$TMP/db" 2>"$TMP/err" || fail "smoke-db.sh: $(tail -c 300 "$TMP/err")"
# the smoke job with its DB and output in TMP
sed -e "s|^\([[:space:]]*db:\).*|\1 $TMP/db|" -e "s|^out:.*|out: $TMP/unused|" "$SMOKE" >"$TMP/smoke.yaml"
grep -q "$TMP/db" "$TMP/smoke.yaml" || fail "smoke.yaml: no retrieval db line to point at $TMP/db"
# the sweep: the smoke job over two copies of its model under other names
model=$(sed -n 's/^model:[[:space:]]*//p' "$SMOKE" | sed -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/')
case $model in /*) ;; *) model=$SRC/$model ;; esac
if [ -d "$model" ]; then
    cp -r "$model" "$TMP/model-a" && cp -r "$model" "$TMP/model-b"
else
    fail "no 'model:' directory in $SMOKE (got '$model')"
fi
sed "s|^model:.*|models: [$TMP/model-a, $TMP/model-b]|" "$TMP/smoke.yaml" >"$TMP/sweep.yaml"
# the slow job for the requeue: 16 free-form questions, 4 samples of up to
# 128 tokens each (about 1 s per item on 2 cores), two items per chunk
for i in $(seq 1 16); do
    printf '{"id": "q%02d", "question": "What is %d times %d? Explain the steps.", "answer": "%d"}\n' \
        "$i" "$i" "$((i + 3))" "$((i * (i + 3)))"
done >"$TMP/free.jsonl"
n_slow=16
cat >"$TMP/slow.yaml" <<EOF
name: slow
model: $SRC/tests/fixtures/eval/qwen3_vocab
tokenizer: $TOK
bench: jsonl:$TMP/free.jsonl
out: $TMP/unused
chunk: 2
ttc:
  kind: sc
  n: 4
  max_new_tokens: 128
EOF

# ---- one node, two ranks, array: submitted together -------------------------
t0=$(date +%s)
submit 1node --output="$TMP/1node-%j.out" slurm/mnemo-1node.sbatch \
    JOB="$TMP/smoke.yaml" OUT="$TMP/o1" MNEMO="$BIN"
id1=$ID
submit multinode -N 1 --ntasks-per-node=2 --output="$TMP/multi-%j.out" slurm/mnemo-multinode.sbatch \
    JOB="$TMP/smoke.yaml" OUT="$TMP/o2" MNEMO="$BIN"
id2=$ID
submit sweep --array=0-1 --output="$TMP/sweep-%A_%a.out" slurm/mnemo-sweep.sbatch \
    JOB="$TMP/sweep.yaml" OUT="$TMP/o3" MNEMO="$BIN"
id3=$ID
wait_gone "$id1,$id2,$id3" 120 || fail "jobs $id1 $id2 $id3 still queued after 120 s: $(squeue)"

check_done "1node" "$id1" "$TMP/1node-$id1.out"
check_results "1node" "$TMP/o1"
n1=$N

check_done "multinode -N1 --ntasks-per-node=2" "$id2" "$TMP/multi-$id2.out"
check_results "multinode" "$TMP/o2"
if [ "$(sorted "$TMP/o1/items.jsonl")" = "$(sorted "$TMP/o2/items.jsonl")" ]; then
    ok "multinode: same records as 1node"
else
    fail "multinode: records differ from 1node: $(diff <(sorted "$TMP/o1/items.jsonl") <(sorted "$TMP/o2/items.jsonl") | head -c 400)"
fi
jq -e '.ranks == 2' "$TMP/o2/run-stats.json" >/dev/null 2>&1 \
    && ok "multinode: 2 ranks in run-stats.json" \
    || fail "multinode: run-stats.json does not say 2 ranks: $(cat "$TMP/o2/run-stats.json" 2>&1 | head -c 300)"

check_done "sweep --array=0-1" "$id3" "$TMP/sweep-${id3}_0.out"
for m in model-a model-b; do
    d=$(dirname "$(find "$TMP/o3/$m" -name summary.json 2>/dev/null | head -n 1)")
    if [ -d "$d" ] && [ "$d" != . ]; then
        check_results "sweep: $m" "$d"
        [ "$N" = "$n1" ] || fail "sweep: $m: $N items, the smoke job has $n1"
    else
        fail "sweep: no summary.json under $TMP/o3/$m: $(find "$TMP/o3" -maxdepth 3 | head -n 10 | paste -sd' ')"
    fi
done
ok "one node, two ranks, array: $(( $(date +%s) - t0 )) s"

# ---- requeue ------------------------------------------------------------------
t0=$(date +%s)
OUT4=$TMP/o4
LOG4=$TMP/requeue.out
submit requeue --output="$LOG4" slurm/mnemo-requeue.sbatch JOB="$TMP/slow.yaml" OUT="$OUT4" MNEMO="$BIN"
id4=$ID
# signal once the first chunk is committed, while 4 of 5 are still to do
n=300
until grep -qs '"chunk"' "$OUT4"/parts/*.jsonl || [ $n -eq 0 ]; do sleep 0.2; n=$((n - 1)); done
[ $n -gt 0 ] || fail "requeue: no chunk committed within 60 s; log: $(tail -n 10 "$LOG4" 2>&1)"
scancel --signal=USR1 --batch "$id4" || fail "requeue: scancel --signal=USR1 --batch $id4 failed"
if wait_state "$id4" PENDING 60; then
    # a requeued job is held back ~2 minutes; let it start now
    sleep 2
    scontrol update JobId="$id4" StartTime=now || fail "requeue: scontrol update StartTime=now failed"
else
    fail "requeue: job $id4 not PENDING 60 s after SIGUSR1 ($(field "$id4" JobState)); log: $(tail -n 10 "$LOG4")"
fi
wait_gone "$id4" 150 || fail "requeue: job $id4 still queued 150 s after the requeue: $(squeue -j "$id4")"
check_done "requeue" "$id4" "$LOG4"
restarts=$(field "$id4" Restarts)
[ "$restarts" = 1 ] && ok "requeue: Restarts=1" || fail "requeue: Restarts=$restarts, expected 1; log:
$(cat "$LOG4")"
grep -q "interrupted (exit 75): requeueing" "$LOG4" && grep -q "restart 1" "$LOG4" \
    && ok "requeue: the log shows exit 75, the requeue and the rerun" \
    || fail "requeue: log lacks the exit-75 requeue or the rerun: $(cat "$LOG4")"
check_results "requeue" "$OUT4"
[ "$N" = "$n_slow" ] || fail "requeue: $N items, the benchmark has $n_slow"
commits=$(cat "$OUT4"/parts/*.jsonl | jq -s '[.[] | select(has("chunk"))] | length')
n_chunks=$(( (n_slow + 1) / 2 ))
sessions=$(ls "$OUT4"/parts | sed 's/-r[0-9]*\.jsonl$//' | sort -u | wc -l)
[ "$commits" = "$n_chunks" ] && [ "$sessions" -ge 2 ] \
    && ok "requeue: $n_chunks chunks committed once each over $sessions sessions" \
    || fail "requeue: $commits chunk commits over $sessions sessions, expected $n_chunks over >= 2"
ok "requeue: $(( $(date +%s) - t0 )) s; whole test $(( $(date +%s) - t_start )) s"

test_end
