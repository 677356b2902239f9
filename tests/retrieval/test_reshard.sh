#!/usr/bin/env bash
# test_reshard.sh — `mnemo reshard` end to end: 1 -> 3 and 3 -> 2 shards
# give the manifest (content_hash, per-shard chunks and hashes, counters,
# inputs) and the `mnemo search` output (chunk ids, scores, texts) of a
# fresh `mnemo ingest` with that shard count; a reshard killed at several
# points (MNEMO_INGEST_CRASH_AFTER at every kind of commit, twice in a
# row, SIGKILL at random moments) and rerun ends the same; the copy can be
# extended like a fresh DB; an unfinished source is refused with the
# message `mnemo stats` gives; bad arguments and foreign outputs give one
# line.  Needs MNEMO_BIN and MNEMO_SOURCE_DIR (set by CTest).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_reshard

# A corpus with exact duplicates (dedup must drop the same chunks), empty
# texts, and a tar.gz input with members (provenance is carried over).
awk 'BEGIN{srand(11); split("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu river stone house tree",W," ");
     for(i=0;i<3000;i++){ if(i>0 && i%9==0){printf "{\"id\": %d, \"text\": \"%s\"}\n", i, prev; continue}
       n=int(rand()*70); s=""; for(j=0;j<n;j++){s=s (j?" ":"") W[1+int(rand()*rand()*16)]}
       prev=s; printf "{\"id\": %d, \"text\": \"%s\"}\n", i, s}}' >"$TMP/a.jsonl"
mkdir -p "$TMP/t"
printf '{"id": "m1", "text": "The river and the stone house."}\n{"id": "m2", "text": "alpha beta gamma"}\n' >"$TMP/t/one.jsonl"
printf 'A tree by the river, and a house of stone by the tree.\n' >"$TMP/t/two.txt"
tar czf "$TMP/b.tar.gz" -C "$TMP/t" one.jsonl two.txt
INPUTS=("$TMP/a.jsonl" "$TMP/b.tar.gz")
CHUNK=(--chunk-tokens 24 --overlap 6)
printf '{"id": "q1", "text": "stone house river"}\n{"id": "q2", "text": "alpha gamma"}\n{"id": "q3", "text": "kappa lambda mu tree"}\n' >"$TMP/q.jsonl"

# manifest without the fields that follow the batching (segments) or that
# a reshard cannot know per shard (duplicates; their total is compared)
manifest() { jq -S 'del(.shard_stats[].segments, .shard_stats[].duplicates)' "$1/manifest.json"; }
search_out() { "$BIN" search --db "$1" --queries "$TMP/q.jsonl" --k 8 2>/dev/null; }

# same_as NAME GOT_DB WANT_DB: manifests and search output equal
same_as() {
    if ! cmp -s <(manifest "$2") <(manifest "$3"); then
        fail "$1: manifest differs: $(diff <(manifest "$2") <(manifest "$3") | head -c 600)"
    elif ! cmp -s <(search_out "$2") <(search_out "$3"); then
        fail "$1: search output differs"
    else
        ok "$1: content_hash $(jq -r .content_hash "$2/manifest.json"), search output equal"
    fi
}

for s in 1 2 3; do
    run "fresh ingest, $s shards" 0 ingest --db "$TMP/f$s" --shards "$s" "${CHUNK[@]}" --batch 150 "${INPUTS[@]}"
done
dups=$(jq .duplicates "$TMP/f1/manifest.json")
[ "$dups" -gt 100 ] || fail "the corpus should have duplicates (got $dups)"
[ "$(jq -r .content_hash "$TMP/f1/manifest.json")" != "$(jq -r .content_hash "$TMP/f3/manifest.json")" ] ||
    fail "1 and 3 shards give the same content hash: chunk ids should differ"
[ "$(search_out "$TMP/f3" | wc -l)" -eq 24 ] || fail "search on the fresh DB: $(search_out "$TMP/f3" | wc -l) lines"

# --- 1 -> 3 and 3 -> 2
run "reshard 1 -> 3" 0 reshard --db "$TMP/f1" --shards 3 --out "$TMP/r3" --batch 300
err_has "reshard 1 -> 3: progress" "mnemo: reshard: 100%"
err_has "reshard 1 -> 3: summary" "mnemo: reshard: done:"
same_as "1 -> 3 equals a fresh 3-shard ingest" "$TMP/r3" "$TMP/f3"
[ "$(jq .duplicates "$TMP/r3/manifest.json")" = "$dups" ] || fail "1 -> 3: duplicates total not carried over"
run "stats on the copy" 0 stats --db "$TMP/r3"
run "reshard 3 -> 2" 0 reshard --db "$TMP/r3" --shards 2 --out "$TMP/r2"
same_as "3 -> 2 equals a fresh 2-shard ingest" "$TMP/r2" "$TMP/f2"
run "rerun a finished reshard" 0 reshard --db "$TMP/r3" --shards 2 --out "$TMP/r2"
err_has "rerun a finished reshard" "nothing to do"
same_as "a finished reshard rerun" "$TMP/r2" "$TMP/f2"

# the copy goes on like a fresh DB: adding an input gives the same DB
printf '{"text": "one more document about the river"}\n' >"$TMP/c.jsonl"
run "extend the copy" 0 ingest --db "$TMP/r2" "$TMP/c.jsonl"
run "extend the fresh DB" 0 ingest --db "$TMP/f2" "$TMP/c.jsonl"
same_as "extended copy" "$TMP/r2" "$TMP/f2"

# --- killed at every kind of commit, then the same command
"$BIN" reshard --db "$TMP/f1" --shards 3 --out "$TMP/count" --batch 300 2>"$TMP/err" >/dev/null
commits=$(sed -n 's/.*(\([0-9]*\) commits).*/\1/p' "$TMP/err")
[ -n "$commits" ] && [ "$commits" -gt 10 ] || fail "commit count: '$commits' ($(cat "$TMP/err"))"
# 1: inputs recorded; 5: inside the copy; commits-1: after the counters,
# before the manifest; commits: after the manifest, before "done"
for n in 1 5 $((commits / 2)) $((commits - 1)) "$commits"; do
    db="$TMP/crash$n"
    MNEMO_INGEST_CRASH_AFTER=$n "$BIN" reshard --db "$TMP/f1" --shards 3 --out "$db" --batch 300 >/dev/null 2>&1
    rc=$?
    [ "$rc" -eq 137 ] || fail "crash after commit $n: exit status $rc, expected 137"
    if [ "$n" -lt $((commits - 1)) ]; then
        expect_error "stats after a crash at commit $n" 1 "no manifest" -- stats --db "$db"
        expect_error "ingest into an unfinished reshard (commit $n)" 1 "has not finished" "rerun that reshard" -- \
            ingest --db "$db" "$TMP/c.jsonl"
    fi
    if [ "$n" -eq 5 ]; then # killed twice
        MNEMO_INGEST_CRASH_AFTER=3 "$BIN" reshard --db "$TMP/f1" --shards 3 --out "$db" --batch 77 >/dev/null 2>&1
        [ $? -eq 137 ] || fail "second crash: exit status, expected 137"
    fi
    run "resume after a crash at commit $n" 0 reshard --db "$TMP/f1" --shards 3 --out "$db" --batch 300
    same_as "crash after commit $n" "$db" "$TMP/f3"
done

# --- SIGKILL at random moments of a slower copy (a commit every 60 chunks)
start=$(date +%s%N)
"$BIN" reshard --db "$TMP/f1" --shards 3 --out "$TMP/slow" --batch 60 2>/dev/null
ms=$((($(date +%s%N) - start) / 1000000))
killed=0
for round in 1 2 3; do
    db="$TMP/kill$round"
    "$BIN" reshard --db "$TMP/f1" --shards 3 --out "$db" --batch 60 2>/dev/null &
    pid=$!
    delay=$(((RANDOM % 80 + 10) * ms / 100)) # 10%..90% of an uninterrupted copy
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null
    [ $? -eq 137 ] && killed=$((killed + 1))
    run "round $round: resume after SIGKILL" 0 reshard --db "$TMP/f1" --shards 3 --out "$db" --batch 60
    same_as "round $round (killed after $delay ms)" "$db" "$TMP/f3"
done
[ "$killed" -ge 1 ] || fail "no copy was killed mid-way (uninterrupted copy: $ms ms)"
echo "SIGKILL: $killed/3 copies killed mid-way (uninterrupted copy: $ms ms)"

# --- the source must be finished: the message of mnemo stats
MNEMO_INGEST_CRASH_AFTER=2 "$BIN" ingest --db "$TMP/half" "${CHUNK[@]}" --batch 100 "${INPUTS[@]}" >/dev/null 2>&1
stats_msg=$("$BIN" stats --db "$TMP/half" 2>&1 >/dev/null)
expect_error "unfinished first ingest" 1 "$stats_msg" -- reshard --db "$TMP/half" --shards 2 --out "$TMP/x1"
cp -r "$TMP/f1" "$TMP/grown"
MNEMO_INGEST_CRASH_AFTER=1 "$BIN" ingest --db "$TMP/grown" --batch 1 "$TMP/c.jsonl" >/dev/null 2>&1
stats_msg=$("$BIN" stats --db "$TMP/grown" 2>&1 >/dev/null)
case "$stats_msg" in *interrupted*) ;; *) fail "stats on an interrupted extension: '$stats_msg'" ;; esac
expect_error "interrupted extension" 1 "$stats_msg" -- reshard --db "$TMP/grown" --shards 2 --out "$TMP/x2"
[ ! -e "$TMP/x1" ] && [ ! -e "$TMP/x2" ] || fail "a refused reshard created its output"

# --- bad arguments and foreign outputs: one line each
expect_error "no --out" 2 "--out" -- reshard --db "$TMP/f1" --shards 2
expect_error "no --shards" 2 "--shards" -- reshard --db "$TMP/f1" --out "$TMP/x3"
expect_error "no --db" 2 "--db" -- reshard --shards 2 --out "$TMP/x3"
expect_error "--shards 0" 2 "--shards" -- reshard --db "$TMP/f1" --shards 0 --out "$TMP/x3"
expect_error "--shards 5000" 2 "--shards" -- reshard --db "$TMP/f1" --shards 5000 --out "$TMP/x3"
expect_error "--out is the DB" 2 "is the DB itself" -- reshard --db "$TMP/f1" --shards 2 --out "$TMP/f1/"
expect_error "no such DB" 1 "$TMP/none" -- reshard --db "$TMP/none" --shards 2 --out "$TMP/x3"
expect_error "stray argument" 2 "unexpected" -- reshard --db "$TMP/f1" --shards 2 --out "$TMP/x3" extra
expect_error "output holds an ingested DB" 1 "not a reshard of" -- reshard --db "$TMP/f1" --shards 2 --out "$TMP/f2"
expect_error "output of another source" 1 "reshard of another DB" -- reshard --db "$TMP/f2" --shards 3 --out "$TMP/r3"
expect_error "output with another shard count" 1 "into 3 shards" "--shards 3 to resume" -- \
    reshard --db "$TMP/f1" --shards 2 --out "$TMP/r3"
same_as "refused runs left the copy alone" "$TMP/r3" "$TMP/f3"

test_end
