#!/usr/bin/env bash
# test_ingest_defaults.sh — adding inputs to an existing DB: flags the user
# does not give (chunk size, overlap, tokenizer, stemming, stop words, text
# and id fields, shards) take the DB's recorded configuration, so a bare
# `mnemo ingest --db D new.jsonl` builds the DB a one-shot ingest of all the
# inputs with the original flags would; only given flags are compared, and
# a real conflict is one line naming both values.  Needs MNEMO_BIN and
# MNEMO_SOURCE_DIR (set by CTest).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_ingest_defaults

awk 'BEGIN{srand(9); split("the running houses of a river and stones by trees where rivers ran",W," ");
     for(i=0;i<400;i++){n=int(rand()*50); s=""; for(j=0;j<n;j++) s=s (j?" ":"") W[1+int(rand()*14)];
     printf "{\"key\": \"a%d\", \"body\": \"%s\"}\n", i, s}}' >"$TMP/a.jsonl"
printf '{"key": "b1", "body": "The rivers were flooding the stone houses."}\n' >"$TMP/b.jsonl"
printf '{"key": "c1", "body": "Trees ran where the river ran."}\n' >"$TMP/c.jsonl"
FLAGS=(--shards 3 --chunk-tokens 24 --overlap 6 --stem porter --stopwords en --text-field body --id-field key)
summary() { jq -c '[.shards, .analyzer, .chunking, .text_field, .id_field, .chunks, .content_hash]' "$1/manifest.json"; }

run "one-shot ingest of both inputs" 0 ingest --db "$TMP/all" "${FLAGS[@]}" "$TMP/a.jsonl" "$TMP/b.jsonl"
run "first input with the flags" 0 ingest --db "$TMP/db" "${FLAGS[@]}" "$TMP/a.jsonl"
run "second input without any flag" 0 ingest --db "$TMP/db" "$TMP/b.jsonl"
[ "$(summary "$TMP/db")" = "$(summary "$TMP/all")" ] ||
    fail "added without flags: $(summary "$TMP/db") != $(summary "$TMP/all")"
# "floods" finds "flooding" only through the Porter stemmer
"$BIN" search --db "$TMP/db" --query "floods" --k 1 | grep -q '"text":"The rivers were flooding' ||
    fail "the added document was not analyzed with the DB's stemmer"

# flags that agree with the DB are fine; conflicting ones are named
run "a given flag that agrees" 0 ingest --db "$TMP/db" --stem porter --overlap 6 "$TMP/c.jsonl"
expect_error "--overlap conflicts" 1 "built with --chunk-tokens 24 --overlap 6" "asks for 24 and 5" -- \
    ingest --db "$TMP/db" --overlap 5 "$TMP/c.jsonl"
expect_error "--chunk-tokens 4 alone conflicts (not an overlap error)" 1 "built with --chunk-tokens 24" -- \
    ingest --db "$TMP/db" --chunk-tokens 4 "$TMP/c.jsonl"
expect_error "--stem conflicts" 1 "stem=porter" "stem=none" -- ingest --db "$TMP/db" --stem none "$TMP/c.jsonl"
expect_error "--stopwords conflicts" 1 "stop=en" "stop=none" -- ingest --db "$TMP/db" --stopwords none "$TMP/c.jsonl"
expect_error "--text-field conflicts" 1 "'body'" "'text'" -- ingest --db "$TMP/db" --text-field text "$TMP/c.jsonl"
expect_error "--shards conflicts" 1 "--shards 3" "asks for 2" "mnemo reshard" -- \
    ingest --db "$TMP/db" --shards 2 "$TMP/c.jsonl"

# a DB chunked by tokens needs its tokenizer again (only its sha256 is kept)
write_bytelevel_tokenizer "$TMP/tok.json"
printf '{"text": "tokens tokens tokens"}\n' >"$TMP/t1.jsonl"
printf '{"text": "more tokens"}\n' >"$TMP/t2.jsonl"
run "token-chunked DB" 0 ingest --db "$TMP/tokdb" --tokenizer "$TMP/tok.json" --chunk-tokens 8 --overlap 2 "$TMP/t1.jsonl"
expect_error "adding without its tokenizer" 2 "chunks by tokens" "give --tokenizer" -- \
    ingest --db "$TMP/tokdb" "$TMP/t2.jsonl"
run "adding with its tokenizer only" 0 ingest --db "$TMP/tokdb" --tokenizer "$TMP/tok.json" "$TMP/t2.jsonl"
run "and a word-chunked DB given a tokenizer" 1 ingest --db "$TMP/db" --tokenizer "$TMP/tok.json" "$TMP/c.jsonl"
err_has "and a word-chunked DB given a tokenizer" "'none'"

# a new DB still checks the pair it gets from the defaults
expect_error "new DB: --overlap over the default size" 2 "--overlap 300 must be smaller than --chunk-tokens 256" -- \
    ingest --db "$TMP/new" --overlap 300 "$TMP/b.jsonl"

test_end
