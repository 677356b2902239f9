#!/usr/bin/env bash
# test_embed_resume.sh — `mnemo embed --db` stopped and killed inside a
# shard (issue 12, finding 6), on a 2-shard DB and the qwen3_tiny fixture
# model, --batch 5 --threads 1, durable blocks of 10 rows
# (MNEMO_EMBED_BLOCK_ROWS); every finished DB is compared byte for byte
# with an uninterrupted run's files:
#   SIGTERM/SIGINT  a real SIGTERM sent from outside (the process parks
#                   itself with SIGSTOP at a chosen batch), and SIGINT:
#                   exit 75, no *.tmp.* file; the rerun says "resuming
#                   after row R" and embeds only the rest in this run
#   SIGKILL         inside a block, before the first block, while a
#                   progress record is written (its temporary file of the
#                   dead process is removed by the rerun), between the
#                   commit's renames and the sidecar, after the sidecar:
#                   the rerun completes identical, nothing left over
#   leftovers       embeddings.*.tmp.PID and ivf.bin.tmp.PID of a dead
#                   process (what earlier versions left) go; a live
#                   process's stays
#   long path       a model path of more than 1023 bytes is recorded whole
#                   (finding 9)
#   error exit      a full disk (a part file on /dev/full): exit 1 naming
#                   the file, no temporary file; the rerun completes
#   other config    a rerun with another --batch, or after the DB grew,
#                   starts the shard over, saying why; search accepts it
#   lock            a second embed on a DB being embedded is refused
#   IVF             --ivf after a resumed run; nprobe = nlist equals exact
# Needs MNEMO_BIN and MNEMO_SOURCE_DIR (set by CTest).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_embed_resume

M="$TMP/qwen3"
mkdir -p "$M" && cp "$SRC"/tests/fixtures/models/qwen3_tiny/config.json "$SRC"/tests/fixtures/models/qwen3_tiny/*.safetensors* "$M"/ &&
    chmod u+w "$M"/*
write_bytelevel_tokenizer "$M/tokenizer.json"
awk 'BEGIN{srand(11); split("river stone house tree bird cloud rain field light night sea wind fire road hill glass",W," ");
     for(i=0;i<80;i++){n=5+int(rand()*36); s=""; for(j=0;j<n;j++){s=s (j?" ":"") W[1+int(rand()*rand()*16)]}
     printf "{\"id\": %d, \"text\": \"%s\"}\n", i, s}}' >"$TMP/c.jsonl"
run "ingest" 0 ingest --db "$TMP/db0" --shards 2 --chunk-tokens 12 --overlap 0 "$TMP/c.jsonl"
EMBED=(embed --model "$M" --batch 5 --threads 1)
export MNEMO_EMBED_BLOCK_ROWS=10

# the reference: one uninterrupted run
cp -r "$TMP/db0" "$TMP/ref"
run "uninterrupted" 0 "${EMBED[@]}" --db "$TMP/ref"
c0=$(sed -n 's/.*"count": \([0-9]*\).*/\1/p' "$TMP/ref/shard-000/embeddings.json")
c1=$(sed -n 's/.*"count": \([0-9]*\).*/\1/p' "$TMP/ref/shard-001/embeddings.json")
[ "${c0:-0}" -gt 40 ] && [ "${c1:-0}" -gt 40 ] || fail "reference: shard sizes '$c0' '$c1' (want > 40 each)"
b0=$((c0 / 5)) # full batches of shard 0: shard 1's batch k is batch b0 + k of the process

fresh() { rm -rf "$TMP/$1" && cp -r "$TMP/db0" "$TMP/$1"; }
# same_as_ref NAME DB — DB's embedding files equal the reference's
same_as_ref() {
    local s f
    for s in 000 001; do
        for f in embeddings.f32 embeddings.ids embeddings.json; do
            cmp -s "$2/shard-$s/$f" "$TMP/ref/shard-$s/$f" || fail "$1: shard-$s/$f differs from the uninterrupted run's"
        done
    done
}
# no_leftovers NAME DB — no temporary, part or progress file in DB
no_leftovers() {
    local left
    left=$(cd "$2" && ls -d shard-*/*.tmp.* shard-*/*.part shard-*/embeddings.progress.json 2>/dev/null)
    [ -z "$left" ] || fail "$1: left behind: $left"
}
# rows_in_record DB SHARD — the rows field of the shard's progress record
rows_in_record() { sed -n 's/.*"rows": \([0-9]*\).*/\1/p' "$1/shard-$2/embeddings.progress.json" 2>/dev/null; }

# --- SIGTERM from outside, inside shard 2 --------------------------------
fresh term
MNEMO_EMBED_SIGNAL_AFTER=$((b0 + 5)) MNEMO_EMBED_SIGNAL=STOP "$BIN" "${EMBED[@]}" --db "$TMP/term" >"$TMP/out" 2>"$TMP/err" &
pid=$!
for _ in $(seq 600); do # parked by SIGSTOP after shard 2's 5th batch (25 rows)
    case $(ps -o stat= -p "$pid" 2>/dev/null) in T*) break ;; esac
    sleep 0.05
done
kill -TERM "$pid"
kill -CONT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 75 ] && ok "SIGTERM: exit 75" || fail "SIGTERM: exit status $rc, expected 75 ($(tail -c 300 "$TMP/err"))"
err_has "SIGTERM" "shard 2/2: stopped after row 25 of $c1"
err_has "SIGTERM" "rerun the same command to resume"
ls "$TMP"/term/shard-*/*.tmp.* >/dev/null 2>&1 && fail "SIGTERM: temporary files left: $(ls "$TMP"/term/shard-*/*.tmp.*)"
[ -s "$TMP/term/shard-000/embeddings.json" ] || fail "SIGTERM: shard 1 was finished but has no sidecar"
[ -e "$TMP/term/shard-001/embeddings.json" ] && fail "SIGTERM: shard 2 has a sidecar"
[ "$(rows_in_record "$TMP/term" 001)" = 25 ] || fail "SIGTERM: progress record rows '$(rows_in_record "$TMP/term" 001)', expected 25"
run "SIGTERM: rerun" 0 "${EMBED[@]}" --db "$TMP/term"
err_has "SIGTERM: rerun" "shard 1/2: embeddings are current, skipped"
err_has "SIGTERM: rerun continues inside the shard" "shard 2/2: resuming after row 25 of $c1"
err_has "SIGTERM: rerun embeds only the rest" "$c1 chunks embedded in"
err_has "SIGTERM: rerun embeds only the rest" "($((c1 - 25)) in this run;"
same_as_ref "SIGTERM" "$TMP/term"
no_leftovers "SIGTERM" "$TMP/term"

# --- SIGINT inside shard 1 ----------------------------------------------
fresh int
MNEMO_EMBED_SIGNAL_AFTER=3 MNEMO_EMBED_SIGNAL=INT run "SIGINT" 75 "${EMBED[@]}" --db "$TMP/int"
err_has "SIGINT" "shard 1/2: stopped after row 15 of $c0"
[ -e "$TMP/int/shard-001/embeddings.f32.part" ] && fail "SIGINT: shard 2 was started after the stop"
run "SIGINT: rerun" 0 "${EMBED[@]}" --db "$TMP/int"
err_has "SIGINT: rerun" "shard 1/2: resuming after row 15 of $c0"
same_as_ref "SIGINT" "$TMP/int"
no_leftovers "SIGINT" "$TMP/int"

# --- SIGKILL at several points --------------------------------------------
# kill_case NAME EXPECT_RESUME_FRAGMENT ENV... — kill with ENV, rerun, compare
kill_case() {
    local name=$1 want=$2
    shift 2
    fresh kill
    { env "$@" "$BIN" "${EMBED[@]}" --db "$TMP/kill" >"$TMP/out" 2>"$TMP/err"; } 2>/dev/null # no "Killed" line
    local rc=$?
    [ "$rc" -eq 137 ] || fail "$name: exit status $rc, expected 137 (SIGKILL)"
    ls -a "$TMP"/kill/shard-* >"$TMP/left.$name"
    run "$name: rerun" 0 "${EMBED[@]}" --db "$TMP/kill"
    [ -z "$want" ] || err_has "$name: rerun" "$want"
    same_as_ref "$name" "$TMP/kill"
    no_leftovers "$name" "$TMP/kill"
}
kill_case "kill inside a block" "shard 2/2: resuming after row 10 of $c1" \
    MNEMO_EMBED_SIGNAL_AFTER=$((b0 + 3)) MNEMO_EMBED_SIGNAL=KILL
kill_case "kill before the first block" "" MNEMO_EMBED_SIGNAL_AFTER=1 MNEMO_EMBED_SIGNAL=KILL
grep -q "earlier progress" "$TMP/err" && fail "kill before the first block: $(cat "$TMP/err")"
kill_case "kill writing a progress record" "shard 1/2: resuming after row 20 of $c0" MNEMO_EMBED_KILL_AT=record-tmp:3
grep -q '^embeddings.progress.json.tmp.[0-9]*$' "$TMP/left.kill writing a progress record" ||
    fail "kill writing a progress record: no temporary record was left to clean: $(cat "$TMP/left.kill writing a progress record")"
err_has "kill writing a progress record: rerun" "shard 1/2: removed 1 files left by an earlier run"
kill_case "kill between renames and sidecar" "shard 1/2: starting over (earlier progress not used: part files missing)" \
    MNEMO_EMBED_KILL_AT=commit-renamed:1
kill_case "kill after the sidecar" "shard 2/2: removed 1 files left by an earlier run" MNEMO_EMBED_KILL_AT=commit-sidecar:2
err_has "kill after the sidecar: rerun" "shard 2/2: embeddings are current, skipped"

# --- temporary files of dead processes (what earlier versions left) --------
sh -c 'exit 0' &
dead=$!
wait "$dead"
cp -r "$TMP/ref" "$TMP/old"
for f in embeddings.f32 embeddings.ids embeddings.json; do : >"$TMP/old/shard-000/$f.tmp.$dead"; done
: >"$TMP/old/shard-001/ivf.bin.tmp.$dead"
: >"$TMP/old/shard-001/embeddings.f32.tmp.$$" # this shell: alive
run "stale temporary files" 0 "${EMBED[@]}" --db "$TMP/old"
err_has "stale temporary files" "shard 1/2: removed 3 files left by an earlier run"
err_has "stale temporary files" "shard 2/2: removed 1 files left by an earlier run"
[ -e "$TMP/old/shard-001/embeddings.f32.tmp.$$" ] || fail "stale temporary files: a live process's file was removed"
rm -f "$TMP/old/shard-001/embeddings.f32.tmp.$$"
no_leftovers "stale temporary files" "$TMP/old"

# --- an error exit (a full disk) leaves no temporary file ------------------
fresh full
ln -s /dev/full "$TMP/full/shard-000/embeddings.ids.part" # writes there fail with ENOSPC
run "full disk" 1 "${EMBED[@]}" --db "$TMP/full"
err_has "full disk" "embeddings.ids.part: write failed: No space left on device"
ls "$TMP"/full/shard-*/*.tmp.* >/dev/null 2>&1 && fail "full disk: temporary files left: $(ls "$TMP"/full/shard-*/*.tmp.*)"
rm "$TMP/full/shard-000/embeddings.ids.part"
run "full disk: rerun" 0 "${EMBED[@]}" --db "$TMP/full"
same_as_ref "full disk" "$TMP/full"
no_leftovers "full disk" "$TMP/full"

# --- a model path longer than 1023 bytes (finding 9: realpath() wrote it
# into a 1024-byte field) is recorded whole --------------------------------
long="$TMP"
for i in 1 2 3 4 5; do long="$long/$(printf 'm%.0s' $(seq 240))$i"; done
mkdir -p "$long" && cp "$M"/* "$long"/
fresh longpath
run "long model path" 0 embed --model "$long" --batch 5 --threads 1 --db "$TMP/longpath"
grep -qF "\"model_dir\": \"$long\"" "$TMP/longpath/shard-000/embeddings.json" ||
    fail "long model path: the sidecar's model_dir is not the ${#long}-byte path: $(grep model_dir "$TMP/longpath/shard-000/embeddings.json" | head -c 200)"
grep -q '"pooling": "last"' "$TMP/longpath/shard-000/embeddings.json" || fail "long model path: pooling"
grep -q '"empty": 0,' "$TMP/longpath/shard-000/embeddings.json" && grep -q '"truncated": 0,' "$TMP/longpath/shard-000/embeddings.json" ||
    fail "long model path: counters overwritten: $(grep -E 'empty|truncated' "$TMP/longpath/shard-000/embeddings.json")"
cmp -s "$TMP/longpath/shard-000/embeddings.f32" "$TMP/ref/shard-000/embeddings.f32" || fail "long model path: other rows"

# --- another configuration, a grown DB --------------------------------------
fresh conf
MNEMO_EMBED_SIGNAL_AFTER=$((b0 + 2)) run "stop for --batch 4" 75 "${EMBED[@]}" --db "$TMP/conf"
# the batch and the thread count are not part of the job: a chunk's
# embedding does not depend on them (src/model/linear.h), so a requeued job
# on another node type resumes and still writes the uninterrupted run's bytes
run "rerun with --batch 4 --threads 2" 0 embed --model "$M" --batch 4 --threads 2 --db "$TMP/conf"
err_has "rerun with --batch 4 --threads 2" "shard 2/2: resuming after row"
no_leftovers "rerun with --batch 4 --threads 2" "$TMP/conf"
for s in 000 001; do
    cmp -s "$TMP/conf/shard-$s/embeddings.f32" "$TMP/ref/shard-$s/embeddings.f32" ||
        fail "resumed with --batch 4 --threads 2: shard $s differs from the uninterrupted run"
done
fresh grow
MNEMO_EMBED_SIGNAL_AFTER=$((b0 + 2)) run "stop before the DB grows" 75 "${EMBED[@]}" --db "$TMP/grow"
awk 'BEGIN { printf "{\"id\": \"long\", \"text\": \""; for (i = 0; i < 400; i++) printf "%sword%d", (i ? " " : ""), i % 37; print "\"}" }' \
    >"$TMP/more.jsonl"
run "ingest more" 0 ingest --db "$TMP/grow" --shards 2 --chunk-tokens 12 --overlap 0 "$TMP/c.jsonl" "$TMP/more.jsonl"
run "rerun after the DB grew" 0 "${EMBED[@]}" --db "$TMP/grow"
err_has "rerun after the DB grew" "shard 2/2: starting over (earlier progress not used: made with shard_"
grep -q "resuming" "$TMP/err" && fail "rerun after the DB grew: resumed: $(cat "$TMP/err")"
run "dense search after the DB grew" 0 search --db "$TMP/grow" --mode dense --model "$M" --query "word3 word4" --k 3
no_leftovers "rerun after the DB grew" "$TMP/grow"

# --- one embed per DB -----------------------------------------------------
fresh lock
MNEMO_EMBED_SIGNAL_AFTER=2 MNEMO_EMBED_SIGNAL=STOP "$BIN" "${EMBED[@]}" --db "$TMP/lock" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 600); do
    case $(ps -o stat= -p "$pid" 2>/dev/null) in T*) break ;; esac
    sleep 0.05
done
run "second embed while one runs" 1 "${EMBED[@]}" --db "$TMP/lock"
err_has "second embed while one runs" "embed.lock: held by mnemo embed, pid $pid"
kill -TERM "$pid"
kill -CONT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 75 ] && ok "lock holder stopped" || fail "lock holder: exit status $rc, expected 75"
run "embed after the holder stopped" 0 "${EMBED[@]}" --db "$TMP/lock"
same_as_ref "lock" "$TMP/lock"

# --- IVF after a resumed run ------------------------------------------------
run "IVF after resume" 0 "${EMBED[@]}" --db "$TMP/term" --ivf 4
[ -s "$TMP/term/shard-001/ivf.bin" ] || fail "IVF after resume: no ivf.bin"
run "dense exact" 0 search --db "$TMP/term" --mode dense --model "$M" --query "stone river" --k 5
cp "$TMP/out" "$TMP/exact.out"
run "dense nprobe = nlist" 0 search --db "$TMP/term" --mode dense --model "$M" --query "stone river" --k 5 --nprobe 4
cmp -s "$TMP/out" "$TMP/exact.out" || fail "IVF after resume: nprobe = nlist differs from exact search"
no_leftovers "IVF after resume" "$TMP/term"

test_end
