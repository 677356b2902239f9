#!/usr/bin/env bash
# test_run_identity.sh — a resumed `mnemo run` never mixes records made from
# other inputs (issue 12, finding 1).  For each input — the model's weights,
# its tokenizer, the benchmark file, the retrieval DB (an input added and
# ingested) and a reranker model — a run is stopped part way (SIGTERM after
# its first commit: MNEMO_RUN_KILL_AFTER=1 MNEMO_RUN_KILL_SIGNAL=TERM), the
# input is changed, and then:
#   - the rerun is refused (exit 1) with one line naming the input, old vs
#     new hash and --force;
#   - with --force it completes, the old records are set aside (moved to
#     OUT/set-aside/, not deleted) and items.jsonl equals a fresh run's on
#     the new inputs — while the set-aside records differ from the fresh
#     ones, so keeping them would have mixed (what the old code did);
#   - an edited benchmark sets aside only the chunks whose items changed;
#     an edit in chunks not committed yet needs no --force.
# With unchanged inputs a stopped run resumes as before (records identical
# to an uninterrupted run) and the rerun reads the weights' hash from the
# cache beside the checkpoint (run-stats.json: identity.hashed_files 0).
# `mnemo eval` records the same identity in summary.json and the lm-eval
# file; weights_sha256 is the file's sha256sum.
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_run_identity
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MNEMO_PROGRESS=off
# the tiny Qwen3 checkpoint (three shards and an index) with a byte-level
# tokenizer; the reranker: the same weights with yes/no tokens
M0=$SRC/tests/fixtures/models/qwen3_tiny
mkdir -p "$TMP/model" "$TMP/reranker"
cp "$M0"/config.json "$M0"/*.safetensors* "$TMP/model"/ && cp "$M0"/config.json "$M0"/*.safetensors* "$TMP/reranker"/ \
    && chmod u+w "$TMP/model"/* "$TMP/reranker"/*
write_bytelevel_tokenizer "$TMP/model/tokenizer.json"
write_bytelevel_tokenizer "$TMP/reranker/tokenizer.json" \
    --vocab '"no": 256, "ye": 257, "yes": 258' --merges '"n o", "y e", "ye s"' \
    --added "$(added_token_json 259 '<|im_start|>' true), $(added_token_json 260 '<|im_end|>' true), $(added_token_json 261 '<think>' false), $(added_token_json 262 '</think>' false)"
MNEMO="$BIN" bash "$SRC/scripts/smoke-db.sh" "$TMP/db" 2>/dev/null || fail "smoke-db.sh"
for i in $(seq 1 12); do
    printf '{"id": "q%02d", "question": "How is a document split into chunks, question %d? The river and the stone mill.", "answer": "%d"}\n' \
        "$i" "$i" "$((i * 4))"
done >"$TMP/free.jsonl"

# mkcase NAME [RERANK]: copies of the inputs for one case (the case changes
# them) and its job file $TMP/NAME.yaml (no 'out': the runs give --out)
mkcase() {
    local c=$TMP/$1
    mkdir -p "$c"
    cp -r "$TMP/model" "$c/model"
    cp -r "$TMP/db" "$c/db"
    cp "$TMP/free.jsonl" "$c/free.jsonl"
    printf 'model: %s\nbench: jsonl:%s\nchunk: 3\nretrieval:\n  db: %s\n  k: 2\n  budget: 48\n%sttc:\n  max_new_tokens: 4\n' \
        "$c/model" "$c/free.jsonl" "$c/db" "${2:+  rerank: $2\n  rerank_depth: 4\n}" >"$TMP/$1.yaml"
    sed -i 's/\\n/\n/g' "$TMP/$1.yaml"
}
# stop_early NAME DIR [N]: the run stops cleanly after its N-th commit (1)
stop_early() {
    MNEMO_RUN_KILL_AFTER=${3:-1} MNEMO_RUN_KILL_SIGNAL=TERM "$BIN" run "$TMP/$1.yaml" --out "$2" >/dev/null 2>"$TMP/err"
    local rc=$?
    [ "$rc" -eq 75 ] && grep -qs '"chunk"' "$2"/parts/*.jsonl || fail "$1: stop after the first commit: exit $rc: $(tail -c 300 "$TMP/err")"
}
# perturb FILE: overwrite its last 4 KiB with bytes from its middle (other
# float values, same size and header)
perturb() {
    local sz
    sz=$(stat -c %s "$1")
    dd if="$1" of="$1" bs=1 seek=$((sz - 4096)) skip=$((sz / 2)) count=4096 conv=notrunc status=none
}
# same_items NAME A B: identical items.jsonl
same_items() {
    cmp -s "$2/items.jsonl" "$3/items.jsonl" && ok "$1" \
        || fail "$1: items.jsonl differs: $(diff "$2/items.jsonl" "$3/items.jsonl" | head -c 400)"
}
# set_aside_differs NAME DIR FRESH: some set-aside record differs from the
# fresh run's record of the same item (so keeping it would have mixed)
set_aside_differs() {
    local n
    n=$(cat "$2"/set-aside/*/parts/*.jsonl | jq -c 'select(.id)' | jq -s --slurpfile f "$3/items.jsonl" \
        '[.[] | . as $r | ($f | map(select(.id == $r.id)) | .[0]) as $g | select($g != null and $g != $r)] | length')
    [ "${n:-0}" -gt 0 ] && ok "$1: $n set-aside records differ from the new inputs' ($2/set-aside)" \
        || fail "$1: the set-aside records equal the new ones: the change did not matter, the test proves nothing"
}
# changed_case NAME CHANGE FRAGMENT [RERANK] [COMMITS] [FRAGMENT2]: stop,
# change, refused, forced, compared
changed_case() {
    local name=$1 change=$2 frag=$3 D=$TMP/$1-out
    mkcase "$name" "${4:-}"
    [ -n "${4:-}" ] && sed -i "s|rerank: RERANKER|rerank: $TMP/$name/reranker|" "$TMP/$name.yaml"
    [ -n "${4:-}" ] && cp -r "$TMP/reranker" "$TMP/$name/reranker"
    stop_early "$name" "$D" "${5:-1}"
    (cd "$TMP/$name" && eval "$change") || fail "$name: the change failed"
    expect_error "$name: changed input refused" 1 "the inputs changed since the committed records were made" "$frag" \
        "$D/identity.json" "vs" "now" "--force" "another --out" ${6:+"$6"} -- run "$TMP/$name.yaml" --out "$D"
    run "$name: --force completes" 0 run "$TMP/$name.yaml" --out "$D" --force
    err_has "$name: --force says where" "set aside in $D/set-aside/"
    cp "$TMP/err" "$TMP/$name.force.err"
    run "$name: a fresh run on the new inputs" 0 run "$TMP/$name.yaml" --out "$D-fresh"
    same_items "$name: --force gives the fresh run's records" "$D-fresh" "$D"
    set_aside_differs "$name" "$D" "$D-fresh"
    run "$name: the forced folder resumes as it is" 0 run "$TMP/$name.yaml" --out "$D"
}

# --- unchanged inputs: resume, and the weights' hash comes from the cache ----
mkcase same
run "uninterrupted run" 0 run "$TMP/same.yaml" --out "$TMP/ref"
jq -e '.inputs."model.weights".sha256 != null and .inputs.benchmark.items == 12 and .inputs.db.content_hash != null' \
    "$TMP/ref/identity.json" >/dev/null || fail "identity.json: $(head -c 400 "$TMP/ref/identity.json")"
rm -f "$TMP/same/model/.mnemo-sha256.json"
stop_early same "$TMP/same-out"
jq -e '.identity.hashed_files >= 4 and .identity.hashed_bytes >= 727104' "$TMP/same-out/run-stats.json" >/dev/null \
    && ok "first run hashes the weights: $(jq -c .identity "$TMP/same-out/run-stats.json")" \
    || fail "first run: $(jq -c .identity "$TMP/same-out/run-stats.json")"
[ -s "$TMP/same/model/.mnemo-sha256.json" ] && ok "hash cached beside the checkpoint" || fail "no cache beside the checkpoint"
run "unchanged inputs: resumed" 0 run "$TMP/same.yaml" --out "$TMP/same-out"
same_items "unchanged inputs: resumed = uninterrupted" "$TMP/ref" "$TMP/same-out"
jq -e '.identity.hashed_files == 0 and .identity.cached_files >= 4' "$TMP/same-out/run-stats.json" >/dev/null \
    && ok "rerun: nothing re-hashed: $(jq -c .identity "$TMP/same-out/run-stats.json")" \
    || fail "rerun re-hashed: $(jq -c .identity "$TMP/same-out/run-stats.json")"
[ ! -e "$TMP/same-out/set-aside" ] || fail "unchanged inputs: something was set aside"
# the weights' hash: that of the sha256sum listing of the index and shards
listing=$(cd "$TMP/same/model" && sha256sum model.safetensors.index.json model-0000*.safetensors | sort -k2 | sha256sum | cut -c1-64)
jq -e --arg h "$listing" '.inputs."model.weights".sha256 == $h and (.inputs."model.weights".files | length) == 4' \
    "$TMP/same-out/summary.json" >/dev/null && ok "summary.json inputs: weights sha256 = sha256sum of the shards' sha256sum" \
    || fail "summary.json inputs: $(jq -c '.inputs."model.weights"' "$TMP/same-out/summary.json") (want $listing)"
jq -e '.model.weights_sha256 == .inputs."model.weights".sha256' "$TMP/same-out/summary.json" >/dev/null \
    || fail "summary.json model.weights_sha256"
jq -e '.mnemo_inputs.db.content_hash != null' "$TMP"/same-out/model/results_*.json >/dev/null \
    && ok "lm-eval file: mnemo_inputs" || fail "lm-eval file without mnemo_inputs"

# --- each input changed -------------------------------------------------------
changed_case weights 'perturb model/model-00002-of-00003.safetensors' \
    "model weights sha256" "" 1 "model/model-00002-of-00003.safetensors); rerun"
# the tokenizer: merges change how prompts are split
changed_case tokenizer "write_bytelevel_tokenizer model/tokenizer.json --vocab '\"th\": 256, \"the\": 257' --merges '\"t h\", \"th e\"'" \
    "tokenizer sha256"
# the DB: an input added and ingested (its text matches every question)
add_doc='printf "# Chunks\nA document is split into chunks by the river and the stone mill, question after question.\n" >extra.md'
add_doc+=' && "$BIN" ingest --db db --shards 4 --chunk-tokens 64 --overlap 8 extra.md >/dev/null 2>&1'
changed_case corpus "$add_doc" "retrieval DB content_hash"
# a reranker model (Qwen3-Reranker style: the fixture model as judge)
changed_case reranker 'perturb reranker/model-00001-of-00003.safetensors' "reranker weights sha256" RERANKER

# --- the benchmark: only the chunks whose items changed are redone -----------
# two chunks committed, items of the first one edited
changed_case bench 'sed -i "s/\"answer\": \"4\"}/\"answer\": \"5\"}/; s/question 2?/question two?/" free.jsonl' \
    "benchmark sha256" "" 2
grep -q "3 committed records set aside" "$TMP/bench.force.err" && ok "bench: only the changed chunk set aside" \
    || fail "bench: --force: $(cat "$TMP/bench.force.err")"
D=$TMP/bench-out
[ "$(cat "$D"/set-aside/*/parts/*.jsonl | jq -c 'select(.id)' | wc -l)" -eq 6 ] && [ "$(cat "$D"/parts/*-kept-r0.jsonl | jq -r 'select(.id) | .id' | tr '\n' ' ')" = "q04 q05 q06 " ] \
    && ok "bench: chunk 1 kept (parts/*-kept-r0.jsonl), the part files moved aside" \
    || fail "bench: set aside: $(ls -R "$D/set-aside" "$D/parts")"
# an edit of an item no committed chunk holds: resumes, with a note
mkcase late
stop_early late "$TMP/late-out"
sed -i 's/question 11?/question eleven?/' "$TMP/late/free.jsonl"
run "bench: an edit in a chunk still to do" 0 run "$TMP/late.yaml" --out "$TMP/late-out"
err_has "bench: a note, no refusal" "none of the 3 committed records is affected"
run "bench: fresh run of the edited benchmark" 0 run "$TMP/late.yaml" --out "$TMP/late-fresh"
same_items "bench: edit in a later chunk = fresh run" "$TMP/late-fresh" "$TMP/late-out"
[ ! -e "$TMP/late-out/set-aside" ] || fail "bench: late edit set something aside"

# --- a folder without identity.json (an older mnemo's) is not resumed blindly -
mkcase old
stop_early old "$TMP/old-out"
rm "$TMP/old-out/identity.json"
expect_error "no identity.json" 1 "carry no input identity" "--force" -- run "$TMP/old.yaml" --out "$TMP/old-out"
echo '{"version": 1, "inp' >"$TMP/old-out/identity.json"
expect_error "damaged identity.json" 1 "carry no readable input identity" "identity.json" "--force" -- \
    run "$TMP/old.yaml" --out "$TMP/old-out"
# --- a changed job with --force starts over too (it used to keep the records)
sed 's/budget: 48/budget: 40/' "$TMP/old.yaml" >"$TMP/old2.yaml"
expect_error "changed job" 1 "the job changed" "retrieval.budget" "--force" -- run "$TMP/old2.yaml" --out "$TMP/old-out"
run "changed job --force" 0 run "$TMP/old2.yaml" --out "$TMP/old-out" --force
run "changed job: fresh" 0 run "$TMP/old2.yaml" --out "$TMP/old2-fresh"
same_items "changed job --force = fresh run" "$TMP/old2-fresh" "$TMP/old-out"

# --- mnemo eval records the same identity ------------------------------------
run "eval" 0 eval --model "$TMP/same/model" --bench "jsonl:$TMP/same/free.jsonl" --retrieval "$TMP/same/db" --k 2 \
    --budget 48 --max-new-tokens 4 --chunk 3 --out "$TMP/ev"
[ "$(jq -c '.inputs' "$TMP/ev/summary.json")" = "$(jq -c '.inputs' "$TMP/same-out/identity.json")" ] \
    && ok "eval: summary.json inputs = run's identity.json" \
    || fail "eval: $(jq -c .inputs "$TMP/ev/summary.json" | head -c 300)"
same_items "eval: items.jsonl = run's" "$TMP/ref" "$TMP/ev"
test_end
