#!/usr/bin/env bash
# test_fault_ingest.sh — "fail at call N" over `mnemo ingest` (lib.sh):
#   ingest      a new 2-shard DB from two inputs in 4 batches
#   ingest-add  a third input added to that DB
# After each injected failure of write/fsync/rename/open/alloc the DB need
# not be usable, but no temporary file is left, manifest.json is whole
# JSON, and rerunning the command gives the DB of an uninterrupted ingest:
# the same manifest (but for the per-shard segment count, which depends on
# where the batches were cut) and the same BM25 hits for a few queries.
# ctest-cost: 46 (seconds under the sanitizers on the CI machine: started first)
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/fault/lib.sh"
test_begin test_fault_ingest
fi_require

mkdir -p "$W/in"
awk 'BEGIN{srand(11); split("river stone house tree bird cloud rain field light night sea wind fire road hill glass",V," ");
     for(i=0;i<200;i++){n=5+int(rand()*36); s=""; for(j=0;j<n;j++){s=s (j?" ":"") V[1+int(rand()*rand()*16)]}
     printf "{\"id\": %d, \"text\": \"%s\"}\n", i, s > (i < 140 ? "'"$W"'/in/a.jsonl" : "'"$W"'/in/b.jsonl")}}'
printf '{"id": "c1", "text": "a glass road over the hill at night"}\n{"id": "c2", "text": "wind and rain on the sea"}\n' >"$W/in/c.jsonl"
printf '{"id": "q1", "text": "river stone"}\n{"id": "q2", "text": "glass road night"}\n{"id": "q3", "text": "wind"}\n' >"$W/in/queries.jsonl"
INGEST=(ingest --shards 2 --batch 50 --chunk-tokens 12 --overlap 0)

fi_class() {
    case $1 in
    */manifest.json) cls=json ;;
    *) cls=skip ;; # LMDB files and the lock: the rerun checks them
    esac
}
fi_digest() {
    "$BIN" stats --db "$S/db" 2>&1 | jq -S 'del(.shard_stats[].segments)' 2>&1
    "$BIN" search --db "$S/db" --queries "$W/in/queries.jsonl" --k 5 2>&1
}

FI_NAME=ingest
fi_prepare() { :; }
FI_CMD=("${INGEST[@]}" --db "$S/db" "$W/in/a.jsonl" "$W/in/b.jsonl")
fault_loop

FI_NAME=ingest-add
"$BIN" "${INGEST[@]}" --db "$W/db0" "$W/in/a.jsonl" "$W/in/b.jsonl" 2>/dev/null || fail "ingest of the starting DB"
fi_prepare() { cp -a "$W/db0" "$S/db"; }
FI_CMD=("${INGEST[@]}" --db "$S/db" "$W/in/a.jsonl" "$W/in/b.jsonl" "$W/in/c.jsonl")
fault_loop

test_end
