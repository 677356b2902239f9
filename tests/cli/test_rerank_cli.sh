#!/usr/bin/env bash
# test_rerank_cli.sh — `mnemo search --rerank MODEL_DIR --rerank-depth N`
# end to end: the qwen3_tiny fixture model with a byte-level tokenizer.json
# written here (bytes = ids 0..255, "no" 256, "ye" 257, "yes" 258 by merges,
# the chat-template special tokens as added tokens 259..262) reranks the
# BM25 top-N of a small DB.  Checks: with k = depth the reranked hits are a
# permutation of the first stage's, scores are probabilities in descending
# order, two runs print the same bytes, a deeper first stage can only raise
# the best score, and the flag errors.  Numerical agreement of P(yes) with a
# direct forward pass is tests/retrieval/test_rerank.c's job.
# Needs MNEMO_BIN and MNEMO_SOURCE_DIR (set by CTest).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_rerank_cli

M=$TMP/reranker
mkdir -p "$M" && cp "$SRC"/tests/fixtures/models/qwen3_tiny/config.json "$SRC"/tests/fixtures/models/qwen3_tiny/*.safetensors* "$M"/
write_bytelevel_tokenizer "$M/tokenizer.json" \
    --vocab '"no": 256, "ye": 257, "yes": 258' --merges '"n o", "y e", "ye s"' \
    --added "$(added_token_json 259 '<|im_start|>' true), $(added_token_json 260 '<|im_end|>' true), $(added_token_json 261 '<think>' false), $(added_token_json 262 '</think>' false)"

# a small corpus where many documents match the query words
awk 'BEGIN { srand(5); split("river stone house tree bird cloud rain field light night sea wind", W, " ");
    for (d = 0; d < 60; d++) { t = ""; n = 6 + int(rand() * 10);
        for (i = 0; i < n; i++) t = t (i ? " " : "") W[1 + int(rand() * 12)];
        printf "{\"id\": \"d%d\", \"text\": \"%s\"}\n", d, t } }' >"$TMP/corpus.jsonl"
"$BIN" ingest --db "$TMP/db" --shards 2 "$TMP/corpus.jsonl" 2>/dev/null || fail "ingest"

Q="river stone bird"
run "bm25 top-8" 0 search --db "$TMP/db" --query "$Q" --k 8
sed 's/.*"chunk_id":\([0-9]*\).*/\1/' "$TMP/out" | sort -n >"$TMP/first.ids"
run "rerank depth 8" 0 search --db "$TMP/db" --query "$Q" --k 8 --rerank "$M" --rerank-depth 8
cp "$TMP/out" "$TMP/rr1"
[ "$(wc -l <"$TMP/rr1")" -eq 8 ] || fail "rerank: expected 8 hits, got $(wc -l <"$TMP/rr1")"
sed 's/.*"chunk_id":\([0-9]*\).*/\1/' "$TMP/rr1" | sort -n | cmp -s - "$TMP/first.ids" \
    && ok "reranked hits are the first stage's hits" || fail "reranked hit set differs from the BM25 top-8"
sed 's/.*"score":\([^,]*\),.*/\1/' "$TMP/rr1" | awk '
    { if ($1 <= 0 || $1 >= 1) bad = bad " not-a-probability:" $1; if (NR > 1 && $1 > prev) bad = bad " not-descending:" $1; prev = $1 }
    END { if (bad != "") { print bad; exit 1 } }' >"$TMP/diag" && ok "scores are descending probabilities" || fail "scores: $(cat "$TMP/diag")"
awk -F'"rank":' '{ split($2, a, ","); if (a[1] != NR) exit 1 }' "$TMP/rr1" && ok "ranks 1..8" || fail "ranks not 1..8"
run "rerank again" 0 search --db "$TMP/db" --query "$Q" --k 8 --rerank "$M" --rerank-depth 8
cmp -s "$TMP/out" "$TMP/rr1" && ok "deterministic" || fail "two reranked runs differ"
run "rerank depth 20, k 3" 0 search --db "$TMP/db" --query "$Q" --k 3 --rerank "$M" --rerank-depth 20
[ "$(wc -l <"$TMP/out")" -eq 3 ] || fail "depth 20 k 3: expected 3 hits"
best8=$(head -1 "$TMP/rr1" | sed 's/.*"score":\([^,]*\),.*/\1/')
best20=$(head -1 "$TMP/out" | sed 's/.*"score":\([^,]*\),.*/\1/')
awk -v a="$best20" -v b="$best8" 'BEGIN { exit !(a >= b - 1e-6) }  # batch shapes round differently (~1e-7)' && ok "deeper first stage keeps the best score or better" \
    || fail "best score at depth 20 ($best20) < at depth 8 ($best8)"

# errors
run "rerank-depth without rerank" 2 search --db "$TMP/db" --query "$Q" --rerank-depth 5
err_has "rerank-depth without rerank" "--rerank-depth is for --rerank"
run "rerank-depth below k" 2 search --db "$TMP/db" --query "$Q" --k 10 --rerank "$M" --rerank-depth 5
err_has "rerank-depth below k" "smaller than --k"
mkdir -p "$TMP/notok" && cp "$M"/config.json "$M"/*.safetensors* "$TMP/notok"/
run "reranker without tokenizer.json" 1 search --db "$TMP/db" --query "$Q" --rerank "$TMP/notok"
err_has "reranker without tokenizer.json" "tokenizer.json"
run "reranker dir missing" 1 search --db "$TMP/db" --query "$Q" --rerank "$TMP/nowhere"

test_end
