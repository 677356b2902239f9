#!/usr/bin/env bash
# test_db_deep.sh — `mnemo stats --deep`:
#   - clean DBs (1 and 3 shards, word chunks; 2 shards, token chunks with a
#     tokenizer; porter stemming and stop words) report nothing, exit 0,
#     and recompute the manifest's chunk count and content hash;
#   - a DB whose ingest was interrupted is reported; a live ingest (lock
#     held) is "running", not checked.
# Random byte flips: test_db_flips.sh; each kind of damage: test_dbcheck.c.
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_db_deep
TOK=$SRC/deps/tokenizers/qwen3/tokenizer.json
[ -s "$TOK" ] || { fail "$TOK missing (scripts/fetch-tokenizers.sh)"; test_end; exit 1; }

# 3000 JSONL documents (~0.5 MB), skewed vocabulary
awk 'BEGIN{srand(5); split("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega river stone house tree the running",W," ");
     for(i=0;i<3000;i++){n=int(rand()*60); s=""; for(j=0;j<n;j++){s=s (j?" ":"") W[1+int(rand()*rand()*32)]}
     printf "{\"id\": %d, \"text\": \"%s\"}\n", i, s}}' >"$TMP/c.jsonl"
printf '{"id": "t1", "text": "The river and the stone house."}\n{"id": "t2", "text": "A tree by the river."}\n' >"$TMP/small.jsonl"

# deep_clean NAME DB — stats --deep: nothing wrong, the manifest recomputed
deep_clean() {
    run "$1: stats --deep" 0 stats --db "$2" --deep
    [ -s "$TMP/err" ] && fail "$1: stderr: $(head -c 300 "$TMP/err")"
    jq -e '.deep.ok and .deep.problems == 0 and .deep.chunks == .chunks and .deep.content_hash == .content_hash
           and (.deep.shards | length) == .shards and all(.deep.shards[]; .walked and .chunks > 0)
           and .format == "mnemo-retrieval-db"' "$TMP/out" >/dev/null ||
        fail "$1: report: $(jq -c '{chunks, content_hash, deep: (.deep | del(.shards))}' "$TMP/out" | head -c 400)"
}

run "ingest 1 shard" 0 ingest --db "$TMP/one" --shards 1 --chunk-tokens 24 --overlap 6 "$TMP/c.jsonl" "$TMP/small.jsonl"
run "ingest 3 shards" 0 ingest --db "$TMP/three" --shards 3 --chunk-tokens 24 --overlap 6 --batch 500 \
    "$TMP/c.jsonl" "$TMP/small.jsonl"
run "ingest tokens" 0 ingest --db "$TMP/tok" --shards 2 --tokenizer "$TOK" --chunk-tokens 32 --overlap 4 \
    "$TMP/small.jsonl" "$TMP/c.jsonl"
run "ingest stem stop" 0 ingest --db "$TMP/ss" --shards 3 --stem porter --stopwords en "$TMP/c.jsonl"
deep_clean "1 shard" "$TMP/one"
deep_clean "3 shards" "$TMP/three"
deep_clean "tokenizer" "$TMP/tok"
deep_clean "stem stop" "$TMP/ss"

# --- an interrupted ingest is reported; a live one is "running"
cp -r "$TMP/three" "$TMP/int"
MNEMO_INGEST_CRASH_AFTER=1 "$BIN" ingest --db "$TMP/int" --batch 100 --chunk-tokens 24 --overlap 6 \
    "$TMP/small.jsonl" "$SRC/tests/fixtures/README.md" 2>/dev/null
run "interrupted: stats --deep" 1 stats --db "$TMP/int" --deep
err_has "interrupted: stats --deep" "an ingest was interrupted after the manifest was written; rerun it"
jq -e '.deep.ok == false and .deep.problems > 0' "$TMP/out" >/dev/null || fail "interrupted: report $(head -c 300 "$TMP/out")"
exec 9>"$TMP/int/ingest.lock"
flock -n 9 || fail "flock on ingest.lock"
expect_error "running: stats --deep" 1 "$TMP/int: an ingest is running; wait for it to finish" -- \
    stats --db "$TMP/int" --deep
flock -u 9
exec 9>&-

test_end
