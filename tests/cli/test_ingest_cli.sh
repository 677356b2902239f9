#!/usr/bin/env bash
# test_ingest_cli.sh — `mnemo ingest`, `mnemo search`, `mnemo stats` end to
# end: kill-and-resume with real SIGKILLs at random points (the resumed DB
# must end with the chunk count and content hash of an uninterrupted
# ingest), search output format (--query and --queries), --mode
# dense/hybrid without --model, a mismatched analyzer, and bad command
# lines.  Needs MNEMO_BIN and MNEMO_SOURCE_DIR (set by CTest).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_ingest_cli

# a deterministic corpus: 12000 JSONL documents (~2 MB), skewed vocabulary
awk 'BEGIN{srand(5); split("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega river stone house tree",W," ");
     for(i=0;i<12000;i++){n=int(rand()*60); s=""; for(j=0;j<n;j++){s=s (j?" ":"") W[1+int(rand()*rand()*30)]}
     printf "{\"id\": %d, \"text\": \"%s\"}\n", i, s}}' >"$TMP/big.jsonl"
printf '{"id": "t1", "text": "The river and the stone house."}\n{"id": "t2", "text": "A tree by the river."}\n' >"$TMP/small.jsonl"
ARGS=(--shards 3 --chunk-tokens 24 --overlap 6 --batch 150)

summary() { # chunks and content hash of a finished DB, from mnemo stats
    "$BIN" stats --db "$1" 2>/dev/null | grep -E '^  "(chunks|content_hash)"' | tr -d ' \n'
}

# --- the reference: one uninterrupted ingest
start=$(date +%s%N)
run "reference ingest" 0 ingest --db "$TMP/ref" "${ARGS[@]}" "$TMP/big.jsonl" "$TMP/small.jsonl"
ms=$((($(date +%s%N) - start) / 1000000))
err_has "reference ingest" "mnemo: ingest: done:"
# not a terminal: log lines, the last at 100% of the inputs' bytes
err_has "reference ingest: progress log" "mnemo: ingest: 100%"
err_has "reference ingest: progress log" "MB/s  ETA 0:00"
MNEMO_PROGRESS=bar run "ingest with a progress bar" 0 ingest --db "$TMP/bar" "$TMP/small.jsonl"
err_has "progress bar" $'\r\033[Kingest [========================] 100%'
want=$(summary "$TMP/ref")
case "$want" in *'"chunks":'*'"content_hash":"'*) ;; *) fail "reference stats: '$want'" ;; esac

# --- kill -9 at random points, rerun the same command, compare
killed=0
for round in 1 2 3 4 5 6; do
    db="$TMP/kill$round"
    "$BIN" ingest --db "$db" "${ARGS[@]}" "$TMP/big.jsonl" "$TMP/small.jsonl" 2>/dev/null &
    pid=$!
    delay=$(((RANDOM % 90 + 5) * ms / 100)) # 5%..95% of an uninterrupted run
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null
    rc=$?
    if [ "$rc" -eq 137 ]; then
        killed=$((killed + 1))
        "$BIN" stats --db "$db" >/dev/null 2>&1 && fail "round $round: stats accepts a DB killed mid-ingest"
    fi
    if [ "$round" -eq 3 ]; then # kill the resumed run too
        "$BIN" ingest --db "$db" "${ARGS[@]}" "$TMP/big.jsonl" "$TMP/small.jsonl" 2>/dev/null &
        pid=$!
        sleep 0.1
        kill -9 "$pid" 2>/dev/null
        { wait "$pid"; } 2>/dev/null
    fi
    run "round $round: resume" 0 ingest --db "$db" "${ARGS[@]}" "$TMP/big.jsonl" "$TMP/small.jsonl"
    got=$(summary "$db")
    [ "$got" = "$want" ] || fail "round $round (killed after ${delay} ms, rc $rc): '$got' != '$want'"
done
[ "$killed" -ge 3 ] || fail "only $killed of 6 runs were killed mid-ingest (uninterrupted run: $ms ms)"

# --- adding an input later == all at once (only the new input named, --shards omitted)
run "first input" 0 ingest --db "$TMP/inc" "${ARGS[@]}" "$TMP/big.jsonl"
run "second input" 0 ingest --db "$TMP/inc" --chunk-tokens 24 --overlap 6 "$TMP/small.jsonl"
[ "$(summary "$TMP/inc")" = "$want" ] || fail "incremental ingest: '$(summary "$TMP/inc")' != '$want'"

# --- search output
run "search --query" 0 search --db "$TMP/ref" --query "stone house river" --k 3
[ "$(wc -l <"$TMP/out")" -eq 3 ] || fail "search --query: $(wc -l <"$TMP/out") lines, expected 3"
head -1 "$TMP/out" | grep -qE '^\{"query_id":0,"rank":1,"chunk_id":[0-9]+,"score":[0-9.e+-]+,"text":".*"\}$' ||
    fail "search --query: bad line: $(head -1 "$TMP/out")"
sed -n 3p "$TMP/out" | grep -q '"rank":3' || fail "search --query: third line is not rank 3"
out_has "search --query" '"text":"The river and the stone house."'
printf '{"id": "q-a", "text": "tree"}\n\n{"id": 7, "text": "omega psi"}\n' >"$TMP/q.jsonl"
run "search --queries" 0 search --db "$TMP/ref" --queries "$TMP/q.jsonl" --k 2 --k1 1.2 --b 0.75
[ "$(grep -c '"query_id":"q-a"' "$TMP/out")" -eq 2 ] || fail "search --queries: query q-a"
[ "$(grep -c '"query_id":7,' "$TMP/out")" -eq 2 ] || fail "search --queries: query 7"
run "search 1 vs 3 shards" 0 ingest --db "$TMP/one" --shards 1 --chunk-tokens 24 --overlap 6 "$TMP/big.jsonl" "$TMP/small.jsonl"
"$BIN" search --db "$TMP/one" --queries "$TMP/q.jsonl" --k 5 | sed 's/"chunk_id":[0-9]*,//' >"$TMP/s1"
"$BIN" search --db "$TMP/ref" --queries "$TMP/q.jsonl" --k 5 | sed 's/"chunk_id":[0-9]*,//' >"$TMP/s3"
# same scores rank by rank (chunk ids differ between layouts; ties may reorder texts)
cmp -s <(sed 's/"text".*//' "$TMP/s1") <(sed 's/"text".*//' "$TMP/s3") || fail "1 and 3 shards give different scores"
printf '{"id": "x", "txt": "no text"}\n' >"$TMP/badq.jsonl"
run "bad queries file" 1 search --db "$TMP/ref" --queries "$TMP/badq.jsonl"
err_has "bad queries file" "badq.jsonl: line 1"

# --- a malformed record: named with its line; skip keeps the rest, fail keeps what came before
printf '{"text": "good one"}\n{"text": oops}\n{"text": "good two"}\n' >"$TMP/bad.jsonl"
run "on-error skip" 0 ingest --db "$TMP/skip" --on-error skip "$TMP/bad.jsonl"
err_has "on-error skip" "mnemo: skipped:"
err_has "on-error skip" "bad.jsonl: line 2"
"$BIN" stats --db "$TMP/skip" | grep -q '"chunks": 2,' || fail "on-error skip: expected 2 chunks"
run "on-error fail" 1 ingest --db "$TMP/failed" "$TMP/bad.jsonl"
err_has "on-error fail" "bad.jsonl: line 2"
# the DB has no manifest (the ingest did not finish): readers refuse it, and
# stats --deep still finds the valid document in the shards
run "search a failed ingest" 1 search --db "$TMP/failed" --query "good" --k 5
err_has "search a failed ingest" "no manifest.json: no ingest has finished"
[ "$("$BIN" stats --db "$TMP/failed" --deep 2>/dev/null | jq .deep.chunks)" = 1 ] || fail "on-error fail lost the valid document"

# --- documented limitations and errors
run "mode dense without --model" 2 search --db "$TMP/ref" --query x --mode dense
err_has "mode dense without --model" "needs --model"
run "mode hybrid without --model" 2 search --db "$TMP/ref" --query x --mode hybrid
err_has "mode hybrid without --model" "needs --model"
run "mismatched analyzer" 1 ingest --db "$TMP/ref" --stem porter "$TMP/small.jsonl"
err_has "mismatched analyzer" "stem=none"
err_has "mismatched analyzer" "stem=porter"
run "mismatched shards" 1 ingest --db "$TMP/ref" --shards 2 --chunk-tokens 24 --overlap 6 "$TMP/small.jsonl"
err_has "mismatched shards" "--shards 3"
run "stats" 0 stats --db "$TMP/ref"
out_has "stats" '"format": "mnemo-retrieval-db"'
out_has "stats" '"documents": 12002'
run "stats no db" 1 stats --db "$TMP/none"
err_has "stats no db" "$TMP/none"
run "search no db" 1 search --db "$TMP/none" --query x
run "ingest no input" 2 ingest --db "$TMP/x"
err_has "ingest no input" "no INPUT"
run "ingest no db" 2 ingest "$TMP/small.jsonl"
err_has "ingest no db" "--db"
run "overlap >= size" 2 ingest --db "$TMP/x" --chunk-tokens 8 --overlap 8 "$TMP/small.jsonl"
err_has "overlap >= size" "--overlap"
run "bad stem" 2 ingest --db "$TMP/x" --stem snowball "$TMP/small.jsonl"
err_has "bad stem" "snowball"
run "bad on-error" 2 ingest --db "$TMP/x" --on-error maybe "$TMP/small.jsonl"
run "missing input" 1 ingest --db "$TMP/x" "$TMP/absent.jsonl"
err_has "missing input" "absent.jsonl"
run "both queries" 2 search --db "$TMP/ref" --query x --queries "$TMP/q.jsonl"
run "no query" 2 search --db "$TMP/ref"
run "bad k" 2 search --db "$TMP/ref" --query x --k 0
run "bad b" 2 search --db "$TMP/ref" --query x --b 1.5
run "bad mode" 2 search --db "$TMP/ref" --query x --mode fuzzy
run "unknown flag" 2 search --db "$TMP/ref" --query x --nope 1

# a member name with terminal escape sequences (ESC [ 2 J clears the screen,
# ESC ] 0 ; sets the window title, a raw 0x9b byte is CSI on 8-bit
# terminals): the error names the member with the control bytes as \xNN
python3 - "$TMP/esc.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    data = b'{"id": "a", "text": "fine"}\n{"id": broken\n'
    info = tarfile.TarInfo("docs/\x1b[2J\x1b]0;pwned\x07evil\udc9b.jsonl".encode("utf-8", "surrogateescape").decode("latin-1"))
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
PY
run "malformed member with escapes in its name" 1 ingest --db "$TMP/esc" "$TMP/esc.tar"
if grep -q $'\x1b' "$TMP/err" || grep -qP '\x9b' "$TMP/err" || grep -q $'\x07' "$TMP/err"; then
    fail "raw control bytes reached stderr: $(od -c "$TMP/err" | head -5)"
else
    err_has "member name escaped" '\x1b[2J\x1b]0;pwned\x07evil'
fi

echo "killed $killed/6 runs mid-ingest; uninterrupted run $ms ms"
test_end
