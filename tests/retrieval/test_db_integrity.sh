#!/usr/bin/env bash
# test_db_integrity.sh — every verb that reads a retrieval DB (stats, search,
# eval --retrieval, run with retrieval, contam --db, embed --db) refuses an
# unfinished DB with stats' one-line message and exit status 1:
#   - an ingest of an added input interrupted after its first commit
#     (MNEMO_INGEST_CRASH_AFTER=1): "an ingest was interrupted after the
#     manifest was written; rerun it" (before: search, eval, run and contam
#     exited 0 and eval recorded the old content hash);
#   - the same while DIR/ingest.lock is held (a live ingest): "an ingest is
#     running (pid P on host H since T); wait for it to finish";
#   - a first ingest that failed, and a DB whose manifest.json is gone: "no
#     manifest.json: no ingest has finished into this DB ...";
# and after the ingest is rerun to completion every verb works again and
# eval and run record the new content hash.
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_db_integrity
export MNEMO_PROGRESS=log OMP_NUM_THREADS=1
TOK=$SRC/deps/tokenizers/qwen3/tokenizer.json
[ -s "$TOK" ] || { fail "$TOK missing (scripts/fetch-tokenizers.sh)"; test_end; exit 1; }
qwen3_fixture_model "$TMP/model" || { test_end; exit 1; }
MMLU=mmlu:$SRC/tests/fixtures/bench/mmlu/data

# a 4-shard DB (scripts/smoke-db.sh) and an input to add to it
MNEMO="$BIN" bash "$SRC/scripts/smoke-db.sh" "$TMP/db" 2>/dev/null || fail "smoke-db.sh"
awk 'BEGIN { for (i = 0; i < 300; i++)
    printf "{\"id\": \"x%d\", \"text\": \"extra note %d on the river mill and the stone house %d\"}\n", i, i, i * 7 }' \
    >"$TMP/extra.jsonl"
stats_field() { "$BIN" stats --db "$1" | jq -r ".$2"; }
old_hash=$(stats_field "$TMP/db" content_hash)
job() { # job FILE DB
    printf 'name: t\nmodel: %s\ntokenizer: %s\nbench: %s\nlimit: 4\nretrieval:\n  db: %s\n  k: 2\n  budget: 48\nout: %s\n' \
        "$SRC/tests/fixtures/eval/qwen3_vocab" "$TOK" "$MMLU" "$2" "$TMP/unused" >"$1"
}
job "$TMP/job.yaml" "$TMP/db"

# readers_refuse NAME DB FRAGMENT... — every reader of DB: exit 1, one line
# with every FRAGMENT, nothing on stdout
n_run=0
readers_refuse() {
    local name=$1 db=$2
    shift 2
    n_run=$((n_run + 1))
    job "$TMP/job$n_run.yaml" "$db"
    expect_error "$name: stats" 1 "$@" -- stats --db "$db"
    expect_error "$name: search" 1 "$@" -- search --db "$db" --query "river mill"
    expect_error "$name: eval --retrieval" 1 "$@" -- eval --model "$SRC/tests/fixtures/eval/qwen3_vocab" \
        --tokenizer "$TOK" --bench "$MMLU" --limit 4 --retrieval "$db" --k 2 --out "$TMP/eval$n_run"
    expect_error "$name: run" 1 "$@" -- run "$TMP/job$n_run.yaml" --out "$TMP/run$n_run"
    expect_error "$name: contam --db" 1 "$@" -- contam --db "$db" --bench "$MMLU" --out "$TMP/contam$n_run"
    expect_error "$name: embed --db" 1 "$@" -- embed --db "$db" --model "$TMP/model"
}

# --- an added input's ingest interrupted after its first commit
MNEMO_INGEST_CRASH_AFTER=1 "$BIN" ingest --db "$TMP/db" --batch 100 --chunk-tokens 64 --overlap 8 \
    "$TMP/extra.jsonl" 2>/dev/null
rc=$?
[ "$rc" -eq 137 ] || fail "crash hook: ingest exit status $rc, expected 137"
readers_refuse "interrupted" "$TMP/db" "$TMP/db/manifest.json: shard 0 holds" \
    "an ingest was interrupted after the manifest was written; rerun it"

# --- the same state while a live process holds ingest.lock: "running"
exec 9>"$TMP/db/ingest.lock"
echo "host=testhost pid=4242 started=2026-01-01T00:00:00Z what=ingest" >&9
flock -n 9 || fail "flock on ingest.lock"
readers_refuse "ingest running" "$TMP/db" \
    "$TMP/db: an ingest is running (pid 4242 on host testhost since 2026-01-01T00:00:00Z); wait for it to finish"
flock -u 9
exec 9>&-

# --- the ingest rerun to completion: every verb works, the new identity recorded
run "rerun ingest" 0 ingest --db "$TMP/db" --batch 100 --chunk-tokens 64 --overlap 8 "$TMP/extra.jsonl"
new_hash=$(stats_field "$TMP/db" content_hash)
[ -n "$new_hash" ] && [ "$new_hash" != "$old_hash" ] || fail "rerun: content hash '$new_hash' (before: '$old_hash')"
run "stats after rerun" 0 stats --db "$TMP/db"
run "search after rerun" 0 search --db "$TMP/db" --query "river mill" --k 2
out_has "search after rerun" '"rank":2'
run "eval after rerun" 0 eval --model "$SRC/tests/fixtures/eval/qwen3_vocab" --tokenizer "$TOK" --bench "$MMLU" \
    --limit 4 --retrieval "$TMP/db" --k 2 --out "$TMP/eval-ok"
[ "$(jq -r .corpus.content_hash "$TMP/eval-ok/summary.json")" = "$new_hash" ] ||
    fail "eval summary.json: corpus $(jq -c .corpus "$TMP/eval-ok/summary.json"), expected content_hash $new_hash"
run "run after rerun" 0 run "$TMP/job.yaml" --out "$TMP/run-ok"
[ "$(jq -r .corpus.content_hash "$TMP/run-ok/summary.json")" = "$new_hash" ] ||
    fail "run summary.json: corpus $(jq -c .corpus "$TMP/run-ok/summary.json"), expected content_hash $new_hash"
run "contam after rerun" 0 contam --db "$TMP/db" --bench "$MMLU" --out "$TMP/contam-ok"
run "embed after rerun" 0 embed --db "$TMP/db" --model "$TMP/model"

# --- a live ingest of a complete DB: readers that register in LMDB's
# reader table may read; --nolock (MDB_NOLOCK) ones may not
exec 9>"$TMP/db/ingest.lock"
flock -n 9 || fail "flock on ingest.lock"
run "search during a live ingest" 0 search --db "$TMP/db" --query "river mill" --k 2
expect_error "search --nolock during a live ingest" 1 "an ingest is running; wait for it to finish" -- \
    search --db "$TMP/db" --query "river mill" --nolock
flock -u 9
exec 9>&-

# --- a first ingest that failed: no manifest
printf '{"text": "the river mill"}\n{"text": broken\n' >"$TMP/bad.jsonl"
run "failed first ingest" 1 ingest --db "$TMP/failed" --shards 2 "$TMP/bad.jsonl"
readers_refuse "first ingest failed" "$TMP/failed" "$TMP/failed" "no manifest.json" # run's job check says it first
expect_error "first ingest failed: the message" 1 \
    "$TMP/failed: no manifest.json: no ingest has finished into this DB (one failed or is still running); rerun mnemo ingest" \
    -- search --db "$TMP/failed" --query river

# --- a DB whose manifest.json is gone (run's job check names it first)
mv "$TMP/db/manifest.json" "$TMP/manifest.moved"
readers_refuse "no manifest" "$TMP/db" "no manifest.json"
mv "$TMP/manifest.moved" "$TMP/db/manifest.json"
run "manifest back" 0 search --db "$TMP/db" --query "river" --k 1

# --- not a DB
mkdir -p "$TMP/empty"
expect_error "not a DB" 1 "$TMP/empty: not a mnemo DB (no shard-000, no manifest.json)" -- \
    search --db "$TMP/empty" --query x
test_end
