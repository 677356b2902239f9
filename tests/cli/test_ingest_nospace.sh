#!/usr/bin/env bash
# test_ingest_nospace.sh — a full disk during ingest: on a 4 MB tmpfs the
# ingest of a ~2 MB corpus (a DB is ~3x its text) fails in one line that
# names the shard and the batch (and, once the store reports a full disk as
# MN_ENOSPACE, says so and how to resume); after the file system is grown,
# the same command resumes and ends with the DB of an uninterrupted ingest.
# Needs root (mount -t tmpfs): elsewhere it says why and skips.  The
# fault-injection tests cover ENOSPC at every write; this one is the real
# thing.  Needs MNEMO_BIN and MNEMO_SOURCE_DIR (set by CTest).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_ingest_nospace

DISK="$TMP/disk"
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=4m tmpfs "$DISK" 2>"$TMP/mount.err"; then
    echo "SKIP: test_ingest_nospace: cannot mount a 4 MB tmpfs here (needs root): $(head -c 200 "$TMP/mount.err")"
    exit 0
fi
trap 'umount "$DISK" 2>/dev/null; rm -rf "$TMP"' EXIT

awk 'BEGIN{srand(17); for(i=0;i<10000;i++){n=int(rand()*50); s="";
     for(j=0;j<n;j++) s=s (j?" ":"") "w" int(rand()*20000); printf "{\"id\": %d, \"text\": \"%s\"}\n", i, s}}' >"$TMP/c.jsonl"
ARGS=(--shards 2 --chunk-tokens 32 --overlap 8 --batch 500)
export MNEMO_PROGRESS=off # the error is the only line
summary() { jq -c '[.chunks, .duplicates, .documents, .total_terms, .content_hash]' "$1/manifest.json" 2>/dev/null; }
run "reference ingest (enough room)" 0 ingest --db "$TMP/ref" "${ARGS[@]}" "$TMP/c.jsonl"

expect_error "ingest onto a full disk" 1 "$DISK/db/shard-00" "(shard " "of 2, batch " -- \
    ingest --db "$DISK/db" "${ARGS[@]}" "$TMP/c.jsonl"
if grep -q "no space left on the device" "$BIN"; then
    err_has "full disk: the reason" "no space left on the device"
    err_has "full disk: what to do" "make room, then rerun the same command to resume"
else
    echo "note: this build's store does not report a full disk as MN_ENOSPACE yet: $(cat "$TMP/err")"
fi
run "stats refuses the unfinished DB" 1 stats --db "$DISK/db"

mount -o remount,size=64m "$DISK" || fail "cannot grow the tmpfs"
run "the same command after making room" 0 ingest --db "$DISK/db" "${ARGS[@]}" "$TMP/c.jsonl"
[ "$(summary "$DISK/db")" = "$(summary "$TMP/ref")" ] ||
    fail "resumed after a full disk: $(summary "$DISK/db") != $(summary "$TMP/ref")"
run "stats" 0 stats --db "$DISK/db"

test_end
