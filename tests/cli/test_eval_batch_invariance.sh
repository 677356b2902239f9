#!/usr/bin/env bash
# test_eval_batch_invariance.sh — `mnemo eval` gives byte-identical
# items.jsonl whatever --batch and --threads, for every scoring path:
# multiple choice by log-likelihood (MMLU, shared prefills), greedy
# generation, self-consistency (sc:4, forked KV cache, sampled), best-of-N,
# per-document self-consistency over retrieved passages, and reranking
# (UPR).  Before the engine cut its work into batch-independent pieces
# (src/model/linear.h), --batch 1 and --batch 8 disagreed in the 8th digit
# of the log-probabilities on AMD Zen machines (issue 12, finding 8).  The
# engine-level check on every OpenBLAS kernel is tests/model/test_batch_invariance.c
# (which the sanitizer run keeps; this one is numerics only, so it is slow-labelled).
# ctest-label: slow
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_eval_batch_invariance
F=$SRC/tests/fixtures/bench
M=$TMP/model
qwen3_fixture_model "$M" || { test_end; exit 1; }
export MNEMO_PROGRESS=off
MNEMO="$BIN" bash "$SRC/scripts/smoke-db.sh" "$TMP/db" 2>/dev/null || fail "smoke-db.sh"
EV=(eval --model "$M" --created 2026-01-02T03:04:05Z)
G="--bench math500:$F/math500.jsonl --max-new-tokens 6 --limit 6"
configs=(
    "mmlu|--bench mmlu:$F/mmlu/data --shots 2"
    "greedy|$G"
    "sc4|$G --ttc sc:4 --temperature 0.8"
    "bestofn3|$G --ttc bestofn:3"
    "docsc|$G --ttc docsc --retrieval $TMP/db --k 2"
    "rerank|$G --retrieval $TMP/db --k 2 --rerank self --rerank-depth 4"
)
for c in "${configs[@]}"; do
    name=${c%%|*}
    read -r -a flags <<<"${c#*|}"
    ref=
    for setting in "1 1" "8 1" "3 2" "16 2"; do
        read -r batch threads <<<"$setting"
        out=$TMP/$name-b$batch-t$threads
        run "$name --batch $batch --threads $threads" 0 "${EV[@]}" "${flags[@]}" --batch "$batch" --threads "$threads" --out "$out"
        if [ -z "$ref" ]; then
            ref=$out
        elif cmp -s "$ref/items.jsonl" "$out/items.jsonl"; then
            ok "$name: --batch $batch --threads $threads = --batch 1 --threads 1"
        else
            fail "$name: --batch $batch --threads $threads differs: $(diff "$ref/items.jsonl" "$out/items.jsonl" | head -c 300)"
        fi
    done
done
test_end
