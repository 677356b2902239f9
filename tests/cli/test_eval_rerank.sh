#!/usr/bin/env bash
# test_eval_rerank.sh — `mnemo eval --retrieval DB --rerank self|MODEL_DIR
# --rerank-depth N` end to end on the fixture model with the real Qwen3
# tokenizer (tests/fixtures/eval/qwen3_vocab + deps/tokenizers/qwen3) over
# scripts/smoke-db.sh's DB:
#   - self (UPR): every candidate's score recomputed here one at a time —
#     first stage from `mnemo search` (same hits as `retrieved`), the
#     template text tokenized by `mnemo tokenize` (lm-eval's split: the
#     continuation is the joint encoding after the context's tokens), the
#     log-likelihood by `mnemo loglik`, divided by the question's tokens —
#     then `reranked` must be the best k by that score (ties: first-stage
#     order) and `rerank_scores` their values;
#   - MODEL_DIR: the same model as a Qwen3-Reranker-style judge gives the
#     chunks and P(yes) scores of `mnemo search --rerank`;
#   - rerank_depth = k only reorders the first stage; the prompt follows the
#     reranked order (passages differ from plain retrieval's prompt);
#   - decontamination drops a planted passage before reranking;
#   - determinism: a rerun is byte-identical, --batch 1 and 8 give the same
#     records (reranking, prompts, answers), on multiple choice too;
#   - summary.json's config.retrieval.rerank / rerank_depth;
#   - usage errors (one line, exit 2) and a missing reranker (exit 1).
# ctest-cost: 110 (seconds under the sanitizers on the CI machine: started first)
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_eval_rerank
F=$SRC/tests/fixtures/bench
M=$TMP/model
qwen3_fixture_model "$M" || { test_end; exit 1; }
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MNEMO_PROGRESS=off
MNEMO="$BIN" bash "$SRC/scripts/smoke-db.sh" "$TMP/db" 2>/dev/null || fail "smoke-db.sh"
DB=$TMP/db
cat >"$TMP/q.jsonl" <<'EOF'
{"id": "r1", "question": "How is a document split into chunks for the retrieval DB?", "answer": "tokens"}
{"id": "r2", "question": "Which tokenizer files do the scripts fetch?", "answer": "qwen3"}
{"id": "r3", "question": "Where are the benchmark samples, and what license do they have?", "answer": "MIT"}
{"id": "r4", "question": "Qu'évalue le modèle ? Les fixtures de tests — «réponses»", "answer": "x"}
EOF
T=2026-01-02T03:04:05Z
E0=(eval --model "$M" --created "$T" --bench "jsonl:$TMP/q.jsonl" --max-new-tokens 3)
EV=("${E0[@]}" --retrieval "$DB")

# --- self: scores recomputed one pair at a time ---------------------------
K=2 D=5
run "rerank self" 0 "${EV[@]}" --k $K --rerank self --rerank-depth $D --out "$TMP/s1"
jq -e -s --argjson k $K --argjson d $D 'length == 4 and all(.[]; (.retrieved | length) == $d and (.reranked | length) == $k
        and (.rerank_scores | length) == $k and (.passages_used | length) >= 1
        and ((.reranked - .retrieved) | length) == 0)' "$TMP/s1/items.jsonl" >/dev/null \
    && ok "records: $D candidates, $K kept among them" || fail "records: $(head -c 500 "$TMP/s1/items.jsonl")"
jq -e --argjson d $D '.config.retrieval.rerank == "self" and .config.retrieval.rerank_depth == $d and .config.retrieval.k == 2' \
    "$TMP/s1/summary.json" >/dev/null && ok "summary config.retrieval" || fail "summary: $(jq -c .config.retrieval "$TMP/s1/summary.json")"
checked=0 long=0
while read -r rec; do
    id=$(jq -r .id <<<"$rec")
    q=$(jq -r --arg id "$id" 'select(.id == $id) | .question' "$TMP/q.jsonl")
    "$BIN" search --db "$DB" --query "$q" --k $D >"$TMP/hits" 2>/dev/null || fail "$id: search"
    [ "$(jq -c -s 'map(.chunk_id)' "$TMP/hits")" = "$(jq -c .retrieved <<<"$rec")" ] \
        || { fail "$id: retrieved $(jq -c .retrieved <<<"$rec") is not the BM25 top-$D $(jq -c -s 'map(.chunk_id)' "$TMP/hits")"; continue; }
    # the template, and template + " question", tokenized
    jq -c --arg q "$q" '{text: ("Passage: " + .text + "\nPlease write a question based on this passage.\nQuestion:")},
                        {text: ("Passage: " + .text + "\nPlease write a question based on this passage.\nQuestion: " + $q)}' \
        "$TMP/hits" | "$BIN" tokenize --tokenizer "$M/tokenizer.json" >"$TMP/ids" || fail "$id: tokenize"
    : >"$TMP/scores"
    for j in $(seq 0 $((D - 1))); do
        ctx=$(sed -n "$((2 * j + 1))p" "$TMP/ids" | jq -r '.ids | map(tostring) | join(" ")')
        cont=$(jq -r -s --slurpfile c <(sed -n "$((2 * j + 1))p" "$TMP/ids") '.[0].ids[($c[0].ids | length):] | map(tostring) | join(" ")' \
            <(sed -n "$((2 * j + 2))p" "$TMP/ids"))
        n=$(wc -w <<<"$cont")
        if [ $(($(wc -w <<<"$ctx") + n - 1)) -gt 512 ]; then # cut to fit the model: tests/bench/test_rerank_upr.c
            long=$((long + 1))
            continue
        fi
        "$BIN" loglik --model "$M" --context-ids "$ctx" --continuation-ids "$cont" >"$TMP/ll" 2>"$TMP/llerr" || fail "$id: loglik $j: $(cat "$TMP/llerr")"
        jq -c --argjson n "$n" --argjson j "$j" '{j: $j, s: (.logprob / $n)}' "$TMP/ll" >>"$TMP/scores"
    done
    # every recomputed score: a kept passage's equals its rerank score; the
    # kept ones are in descending order (ties: first-stage rank); every
    # candidate left out scores below the last kept one (or ties it and
    # comes later in the first stage)
    verdict=$(jq -r -s --argjson r "$rec" '
        ($r.reranked | map(. as $c | $r.retrieved | index($c))) as $kj
        | (map({key: (.j | tostring), value: .s}) | from_entries) as $S
        | ([$kj[] | tostring | $S[.] // empty] | length) as $nk
        | ([range($kj | length) as $i | ($S[$kj[$i] | tostring]) as $s | select($s != null)
            | (($s - $r.rerank_scores[$i]) | fabs) / ($s | fabs)] | max // 0) as $err
        | ([range(1; $kj | length) as $i | $r.rerank_scores[$i - 1] > $r.rerank_scores[$i]
            or ($r.rerank_scores[$i - 1] == $r.rerank_scores[$i] and $kj[$i - 1] < $kj[$i])] | all) as $desc
        | ($r.rerank_scores[-1]) as $last | ($kj[-1]) as $lastj
        | [.[] | select((.j as $j | $kj | index($j)) == null) | select(.s > $last + 1e-9 or (.s == $last and .j < $lastj))] as $bad
        | if ($kj | any(. == null)) then "reranked \($r.reranked) not among retrieved"
          elif ($desc | not) then "rerank scores not in descending order: \($r.rerank_scores)"
          elif $err > 1e-6 then "scores: max relative error \($err): recomputed \($S), recorded \($r.rerank_scores) of ranks \($kj)"
          elif ($bad | length) > 0 then "left out but better: \($bad) (last kept \($last))"
          else "ok \($err) \($nk)" end' "$TMP/scores")
    case $verdict in ok*) checked=$((checked + 1)) ;; *) fail "$id: $verdict" ;; esac
done <"$TMP/s1/items.jsonl"
[ "$checked" -eq 4 ] && ok "self: order and scores of 4 items match one-at-a-time mnemo loglik ($long long candidates cut, not recomputed)" \
    || fail "self: $checked of 4 items checked"
# the prompt holds the reranked passages: its first passage is reranked[0]
run "plain retrieval k=2" 0 "${EV[@]}" --k $K --out "$TMP/p1"
diff_prompts=$(jq -s -r --slurpfile p <(jq -c . "$TMP/p1/items.jsonl") \
    '[range(length) as $i | select(.[$i].reranked != $p[$i].retrieved) | (.[$i].prompt_sha256 != $p[$i].prompt_sha256)] | all' \
    "$TMP/s1/items.jsonl")
[ "$diff_prompts" = true ] && ok "prompts follow the reranked passages" || fail "prompt unchanged although the passages differ"

# --- determinism and batch size -------------------------------------------
run "rerank self rerun" 0 "${EV[@]}" --k $K --rerank self --rerank-depth $D --out "$TMP/s2"
cmp -s "$TMP/s1/items.jsonl" "$TMP/s2/items.jsonl" && ok "rerun byte-identical" || fail "rerun differs"
run "rerank self --batch 1" 0 "${EV[@]}" --k $K --rerank self --rerank-depth $D --batch 1 --out "$TMP/s3"
cmp -s "$TMP/s1/items.jsonl" "$TMP/s3/items.jsonl" && ok "--batch 1 = --batch 8" \
    || fail "--batch 1 differs: $(diff "$TMP/s1/items.jsonl" "$TMP/s3/items.jsonl" | head -c 400)"
MC=(eval --model "$M" --created "$T" --bench "mmlu:$F/mmlu/data" --retrieval "$DB" --k 2 --rerank self --rerank-depth 6 --budget 64)
run "mmlu rerank self" 0 "${MC[@]}" --out "$TMP/m1"
run "mmlu rerank self --batch 1 --chunk 1" 0 "${MC[@]}" --batch 1 --chunk 1 --out "$TMP/m2"
same=$(jq -s -r --slurpfile b <(jq -c . "$TMP/m2/items.jsonl") '[range(length) as $i | .[$i] as $x | $b[$i] as $y
        | $x.reranked == $y.reranked and $x.rerank_scores == $y.rerank_scores and $x.retrieved == $y.retrieved
          and $x.prompt_sha256 == $y.prompt_sha256 and $x.pred == $y.pred] | all' "$TMP/m1/items.jsonl")
[ "$same" = true ] && ok "mmlu: reranking, prompts and predictions independent of batch and chunk" \
    || fail "mmlu: batch 1 / chunk 1 differs: $(diff "$TMP/m1/items.jsonl" "$TMP/m2/items.jsonl" | head -c 400)"

# --- depth = k: a permutation of the first stage --------------------------
run "rerank depth = k" 0 "${EV[@]}" --k 3 --rerank self --rerank-depth 3 --out "$TMP/s4"
jq -e -s 'all(.[]; (.retrieved | length) == 3 and (.reranked | sort) == (.retrieved | sort)
                   and (.rerank_scores | . == (sort | reverse)))' "$TMP/s4/items.jsonl" >/dev/null \
    && ok "depth = k: reranked is a permutation of retrieved, scores descending" || fail "depth = k: $(head -c 400 "$TMP/s4/items.jsonl")"
jq -e -s 'any(.[]; .reranked != .retrieved)' "$TMP/s4/items.jsonl" >/dev/null || echo "note: depth = k kept every first-stage order"
run "default depth" 0 "${EV[@]}" --k 2 --rerank self --out "$TMP/s5"
jq -e -s 'all(.[]; (.retrieved | length) == 20)' "$TMP/s5/items.jsonl" >/dev/null && jq -e '.config.retrieval.rerank_depth == 20' \
    "$TMP/s5/summary.json" >/dev/null && ok "default depth max(k, 20)" || fail "default depth: $(jq -c .config.retrieval "$TMP/s5/summary.json")"

# --- MODEL_DIR: the Qwen3-Reranker-style judge, as mnemo search --rerank ----
run "rerank MODEL_DIR" 0 "${EV[@]}" --k $K --rerank "$M" --rerank-depth $D --out "$TMP/x1"
agree=0
while read -r rec; do
    id=$(jq -r .id <<<"$rec")
    q=$(jq -r --arg id "$id" 'select(.id == $id) | .question' "$TMP/q.jsonl")
    "$BIN" search --db "$DB" --query "$q" --k $K --rerank "$M" --rerank-depth $D >"$TMP/hits" 2>/dev/null || fail "$id: search --rerank"
    jq -e -s --argjson r "$rec" 'map(.chunk_id) == $r.reranked
            and ([range(length) as $i | ((.[$i].score - $r.rerank_scores[$i]) | fabs)] | max) < 1e-12' \
        "$TMP/hits" >/dev/null && agree=$((agree + 1)) || fail "$id: eval $(jq -c '[.reranked, .rerank_scores]' <<<"$rec") vs search $(jq -c -s 'map([.chunk_id, .score])' "$TMP/hits")"
done <"$TMP/x1/items.jsonl"
[ "$agree" -eq 4 ] && ok "MODEL_DIR: chunks and P(yes) of mnemo search --rerank"
jq -e -s 'all(.[]; all(.rerank_scores[]; . > 0 and . < 1))' "$TMP/x1/items.jsonl" >/dev/null || fail "MODEL_DIR: scores not probabilities"

# --- decontamination before reranking -------------------------------------
jq -c -n --arg q "$(jq -r 'select(.id == "r2") | .question' "$TMP/q.jsonl")" '{id: "planted", text: ("Seen online: " + $q + " qwen3")}' >"$TMP/planted.jsonl"
cat "$SRC/tests/fixtures/bench/README.md" >"$TMP/readme.md"
"$BIN" ingest --db "$TMP/dbp" --shards 2 --chunk-tokens 64 "$TMP/planted.jsonl" "$TMP/readme.md" 2>/dev/null || fail "ingest planted"
run "rerank without decontamination" 0 "${E0[@]}" --retrieval "$TMP/dbp" --k 2 --rerank self --rerank-depth 4 --limit 2 --out "$TMP/c1"
run "rerank with decontamination" 0 "${E0[@]}" --retrieval "$TMP/dbp" --k 2 --rerank self --rerank-depth 4 --limit 2 --decontaminate 6 --out "$TMP/c2"
planted=$(jq -r 'select(.id == "r2") | .retrieved[0]' "$TMP/c1/items.jsonl")
jq -e -s --argjson c "$planted" 'map(select(.id == "r2"))[0] | .decontaminated == 1 and (.retrieved | length) == 4
        and ((.retrieved + .reranked) | any(. == $c) | not)' "$TMP/c2/items.jsonl" >/dev/null \
    && ok "decontamination drops the planted passage before reranking, keeps the depth" \
    || fail "decontamination: $(jq -c 'select(.id == "r2") | {retrieved, reranked, decontaminated}' "$TMP/c2/items.jsonl") (planted $planted)"

# --- errors ---------------------------------------------------------------
E=(eval --model "$M" --bench "jsonl:$TMP/q.jsonl" --out "$TMP/e")
expect_error "rerank without retrieval" 2 "--rerank" "--retrieval" -- "${E[@]}" --rerank self
expect_error "depth without rerank" 2 "--rerank-depth is for --rerank" -- "${E[@]}" --retrieval "$DB" --rerank-depth 5
expect_error "depth below k" 2 "--rerank-depth 2 is smaller than --k 3" -- "${E[@]}" --retrieval "$DB" --rerank self --rerank-depth 2
expect_error "depth 0" 2 "--rerank-depth" -- "${E[@]}" --retrieval "$DB" --rerank self --rerank-depth 0
expect_error "reranker dir missing" 1 "$TMP/nowhere" -- "${E[@]}" --retrieval "$DB" --rerank "$TMP/nowhere"
mkdir -p "$TMP/notok" && cp "$M"/config.json "$M"/*.safetensors "$TMP/notok"/
expect_error "reranker without tokenizer.json" 1 "--rerank" "tokenizer.json" -- "${E[@]}" --retrieval "$DB" --rerank "$TMP/notok"
test_end
