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
