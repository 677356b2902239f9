# tests/cli/study_fixture.sh — synthetic model folders and eval result
# folders for `mnemo multiplier` (sourced by test_multiplier_cli.sh and
# tests/fault/test_fault_multiplier.sh; not a test).  Uses N (items per
# result) and BENCH (the benchmark string the summaries name), in the
# current directory.

# model NAME COMPUTE — models/NAME/training.json
model() {
    mkdir -p "models/$1"
    printf '{"params": 1000000, "tokens": 2000000, "compute": %s, "arch": "toy"}\n' "$2" >"models/$1/training.json"
}

# result DIR MODEL CORRECT RETRIEVAL TTC_KIND TTC_N — a result directory
# whose first CORRECT items (of N) are correct; RETRIEVAL is JSON (null or
# an object).
result() {
    local dir=$1 mdl=$2 k=$3 retr=$4 kind=$5 tn=$6
    mkdir -p "$dir"
    awk -v n=$N -v k="$k" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "{\"id\":\"q-%02d\",\"gold\":0,\"choices_loglik\":[-1,-2,-3,-4],\"correct\":%s}\n", i, (i < k ? "true" : "false")
    }' >"$dir/items.jsonl"
    acc=$(awk -v n=$N -v k="$k" 'BEGIN { printf "%.16g", k / n }')
    cat >"$dir/summary.json" <<EOF
{"mnemo_version": "0.2.0", "benchmark": "jsonl", "task": "mc", "output_type": "multiple_choice",
 "n": $N, "accuracy": $acc,
 "config": {"model": "models/$mdl", "bench": "$BENCH", "retrieval": $retr,
            "ttc": {"kind": "$kind", "n": $tn, "temperature": 0.0}},
 "model": {"path": "models/$mdl", "parameters": 1000000}}
EOF
}

# study_grid: three models (1e18, 1e19, 1e20 FLOPs) and seven result folders
# under r/: closed-book cb1..cb3 (cb3 with sc:1), with BM25 retrieval
# ret1..ret3, and retsc2 (retrieval and sc:5); R is the retrieval JSON.
study_grid() {
    R='{"db": "db", "k": 3, "mode": "bm25", "rerank": null}'
    model m1 1e18
    model m2 1e19
    model m3 1e20
    result r/cb1 m1 16 null greedy 1
    result r/cb2 m2 25 null greedy 1
    result r/cb3 m3 34 null sc 1
    result r/ret1 m1 25 "$R" greedy 1
    result r/ret2 m2 34 "$R" greedy 1
    result r/ret3 m3 37 "$R" greedy 1
    result r/retsc2 m2 40 "$R" sc 5
}
