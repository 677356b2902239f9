#!/usr/bin/env bash
# test_ingest_lock.sh — DIR/ingest.lock (util/dirlock.h): a live ingest's
# lock file names its host and pid, a second ingest of the same DB is
# refused in one line naming that holder (MN_EBUSY, exit 1), and the lock of
# a holder killed with SIGKILL is taken over by the next ingest, which then
# ends with the DB of an uninterrupted run.  The holder is frozen with
# SIGSTOP, so nothing depends on timing.  Needs MNEMO_BIN and
# MNEMO_SOURCE_DIR (set by CTest).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_ingest_lock

awk 'BEGIN{srand(3); for(i=0;i<20000;i++){n=int(rand()*40); s="";
     for(j=0;j<n;j++) s=s (j?" ":"") "w" int(rand()*5000); printf "{\"id\": %d, \"text\": \"%s\"}\n", i, s}}' >"$TMP/c.jsonl"
ARGS=(--shards 2 --chunk-tokens 16 --overlap 4 --batch 200)
summary() { jq -c '[.chunks, .content_hash, .documents]' "$1/manifest.json" 2>/dev/null; }
run "reference ingest" 0 ingest --db "$TMP/ref" "${ARGS[@]}" "$TMP/c.jsonl"

# start an ingest, wait until its holder line is written, freeze it
"$BIN" ingest --db "$TMP/db" "${ARGS[@]}" "$TMP/c.jsonl" 2>/dev/null &
pid=$!
for _ in $(seq 200); do
    grep -q "pid=$pid " "$TMP/db/ingest.lock" 2>/dev/null && break
    sleep 0.05
done
kill -STOP "$pid"
line=$(cat "$TMP/db/ingest.lock" 2>/dev/null)
case "$line" in
"host=$(hostname) pid=$pid started="*" what=ingest") ok "holder line: $line" ;;
*) fail "holder line: '$line' (pid $pid)" ;;
esac
expect_error "second ingest while the first is alive" 1 "ingest.lock" "held by mnemo ingest" "pid $pid" \
    "on host $(hostname)" -- ingest --db "$TMP/db" "${ARGS[@]}" "$TMP/c.jsonl"
expect_error "reshard into a DB being ingested" 1 "held by mnemo ingest" "pid $pid" -- \
    reshard --db "$TMP/ref" --shards 3 --out "$TMP/db"

# the holder dies: its lock is taken over, and the DB ends as if never killed
{
    kill -KILL "$pid"
    kill -CONT "$pid"
    wait "$pid"
} 2>/dev/null
run "ingest after the holder died" 0 ingest --db "$TMP/db" "${ARGS[@]}" "$TMP/c.jsonl"
[ "$(summary "$TMP/db")" = "$(summary "$TMP/ref")" ] ||
    fail "DB after takeover: $(summary "$TMP/db") != $(summary "$TMP/ref")"
case "$(cat "$TMP/db/ingest.lock")" in
*"pid=$pid "*) fail "the finished ingest left the dead holder's line" ;;
esac

test_end
