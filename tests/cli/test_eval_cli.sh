#!/usr/bin/env bash
# test_eval_cli.sh — `mnemo eval` end to end on a tiny random model with
# the real Qwen3 vocabulary and tokenizer (tests/fixtures/eval/qwen3_vocab +
# deps/tokenizers/qwen3), over the benchmark samples in tests/fixtures/bench:
#   - MMLU by log-likelihood (directory, data.tar, JSONL form, few-shot):
#     records, acc / acc_norm consistent with the recorded log-likelihoods
#     (argmax recomputed here), summary.json and the lm-eval results file;
#     the same results from the directory and from data.tar; batch 1 =
#     batch 8 (predictions equal, log-likelihoods within 1e-5); a rerun
#     with the same seed is byte-identical;
#   - generation: sc:1 gives greedy's samples and answers; sc:4 reruns are
#     identical, another seed differs; bestofn; docsc with a retrieval DB
#     (one sample per retrieved passage); GPQA / MMLU by generation,
#     SimpleQA, generic JSONL;
#   - scoring wired end to end: answers the model did give, written back as
#     references, score as correct;
#   - errors: usage, bad specs, bad --ttc, malformed data (file and line).
# ctest-cost: 73 (seconds under the sanitizers on the CI machine: started first)
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_eval_cli
F=$SRC/tests/fixtures/bench
M=$TMP/model
qwen3_fixture_model "$M" || { test_end; exit 1; }
T=2026-01-02T03:04:05Z
EV=(eval --model "$M" --created "$T")

# --- MMLU by log-likelihood ----------------------------------------------
run "mmlu dir 2-shot" 0 "${EV[@]}" --bench "mmlu:$F/mmlu/data" --shots 2 --out "$TMP/m1"
err_has "mmlu dir" "mnemo: eval: 7 items, accuracy"
[ "$(wc -l <"$TMP/m1/items.jsonl")" -eq 7 ] || fail "mmlu: $(wc -l <"$TMP/m1/items.jsonl") records, expected 7"
# acc = argmax of choices_loglik == gold; correct == acc
bad=$(jq -c 'select((.choices_loglik | to_entries | max_by(.value) | .key) as $p
                    | $p != .pred or ((.pred == .gold) != .correct) or (.metrics.acc != (if .correct then 1 else 0 end)))
             | .id' "$TMP/m1/items.jsonl")
[ -z "$bad" ] && ok "mmlu: pred = argmax, correct = acc" || fail "mmlu: inconsistent records: $bad"
jq -e '.n == 7 and .num_fewshot == 2 and .benchmark == "mmlu" and (.accuracy_ci | length) == 2
       and (.by_subject | length) == 2 and .config.shots == 2 and .model.tokenizer_sha256 != null' \
    "$TMP/m1/summary.json" >/dev/null && ok "summary.json" || fail "summary.json: $(head -c 600 "$TMP/m1/summary.json")"
acc=$(jq -s '[.[] | if .correct then 1 else 0 end] | add / length' "$TMP/m1/items.jsonl")
jq -e --argjson a "$acc" '(.accuracy - $a) | fabs < 1e-12' "$TMP/m1/summary.json" >/dev/null \
    && ok "accuracy = mean of correct" || fail "accuracy differs from the records' mean $acc"
R=$(ls "$TMP"/m1/model/results_*.json 2>/dev/null | head -1)
[ -n "$R" ] && jq -e '.results.mmlu["acc,none"] != null and .groups.mmlu != null and (.group_subtasks.mmlu | length) == 2
                      and .["n-shot"].mmlu_abstract_algebra == 2 and .configs.mmlu_abstract_algebra.output_type == "multiple_choice"' \
    "$R" >/dev/null && ok "lm-eval results layout" || fail "lm-eval results: ${R:-missing}"
run "mmlu data.tar" 0 "${EV[@]}" --bench "mmlu:$F/mmlu/data.tar" --shots 2 --out "$TMP/m2"
cmp -s "$TMP/m1/items.jsonl" "$TMP/m2/items.jsonl" && ok "data.tar = directory" || fail "data.tar records differ from the directory's"
run "mmlu rerun" 0 "${EV[@]}" --bench "mmlu:$F/mmlu/data" --shots 2 --out "$TMP/m3"
cmp -s "$TMP/m1/items.jsonl" "$TMP/m3/items.jsonl" && cmp -s "$TMP/m1/summary.json" "$TMP/m3/summary.json" \
    && ok "rerun byte-identical" || fail "rerun differs"
run "mmlu batch 1" 0 "${EV[@]}" --bench "mmlu:$F/mmlu/data" --shots 2 --batch 1 --out "$TMP/m4"
cmp -s "$TMP/m1/items.jsonl" "$TMP/m4/items.jsonl" && ok "batch 1 = batch 8, byte for byte" \
    || fail "batch 1 and batch 8 differ: $(diff "$TMP/m1/items.jsonl" "$TMP/m4/items.jsonl" | head -c 400)"
run "mmlu jsonl form" 0 "${EV[@]}" --bench "mmlu:$F/mmlu_test.jsonl" --out "$TMP/m5"
run "mmlu chatml" 0 "${EV[@]}" --bench "mmlu:$F/mmlu/data" --chat chatml --limit 2 --out "$TMP/m6"
[ "$(jq -r .prompt_sha256 "$TMP/m6/items.jsonl" | head -1)" != "$(jq -r .prompt_sha256 "$TMP/m1/items.jsonl" | head -1)" ] \
    || fail "chatml: same prompt as plain text"

# --- generation and test-time compute ------------------------------------
G=("${EV[@]}" --bench "math500:$F/math500.jsonl" --max-new-tokens 10)
run "math500 greedy" 0 "${G[@]}" --out "$TMP/g1"
run "math500 sc:1" 0 "${G[@]}" --ttc sc:1 --out "$TMP/g2"
same=$(jq -s -r --slurpfile b <(jq -c . "$TMP/g2/items.jsonl") '
         [range(length) as $i | .[$i].samples[0].text == $b[$i].samples[0].text and .[$i].answer == $b[$i].answer
          and .[$i].correct == $b[$i].correct] | all' "$TMP/g1/items.jsonl")
[ "$same" = true ] && ok "sc:1 = greedy" || fail "sc:1 differs from greedy"
run "math500 sc:4" 0 "${G[@]}" --ttc sc:4 --out "$TMP/g3"
run "math500 sc:4 rerun" 0 "${G[@]}" --ttc sc:4 --out "$TMP/g4"
run "math500 sc:4 seed 7" 0 "${G[@]}" --ttc sc:4 --seed 7 --out "$TMP/g5"
cmp -s "$TMP/g3/items.jsonl" "$TMP/g4/items.jsonl" && ok "sc:4 rerun identical" || fail "sc:4 rerun differs"
cmp -s "$TMP/g3/items.jsonl" "$TMP/g5/items.jsonl" && fail "sc:4 with another seed gives the same samples"
jq -e 'select((.samples | length) != 4 or .vote == null)' "$TMP/g3/items.jsonl" >/dev/null && fail "sc:4: not 4 samples with a vote"
run "math500 bestofn:3" 0 "${G[@]}" --ttc bestofn:3 --out "$TMP/g6"
jq -e 'select((.verifier_scores | length) != 3)' "$TMP/g6/items.jsonl" >/dev/null && fail "bestofn:3: scores missing"

# docsc over a small retrieval DB
printf '{"id": "a", "text": "The polar coordinates of the point are three and pi over two."}\n{"id": "b", "text": "Fourteen thirds is the value of the fraction."}\n{"id": "c", "text": "Spiders have eight legs and spin silk webs."}\n' >"$TMP/corpus.jsonl"
run "ingest" 0 ingest --db "$TMP/db" --shards 2 "$TMP/corpus.jsonl"
run "math500 docsc" 0 "${G[@]}" --ttc docsc --retrieval "$TMP/db" --k 2 --out "$TMP/g7"
jq -e -s 'all(.[]; (.retrieved | length) >= 1 and (.samples | length) == (.retrieved | length))' "$TMP/g7/items.jsonl" >/dev/null \
    && ok "docsc: one sample per passage" || fail "docsc records: $(head -c 400 "$TMP/g7/items.jsonl")"
# decontamination: a corpus holding one item's problem verbatim
jq -c '{id: "planted", text: ("Found online: " + .problem)}' "$F/math500.jsonl" | head -1 >"$TMP/planted.jsonl"
cat "$TMP/corpus.jsonl" >>"$TMP/planted.jsonl"
run "ingest planted" 0 ingest --db "$TMP/dbp" --shards 2 "$TMP/planted.jsonl"
first=$(jq -r .unique_id "$F/math500.jsonl" | head -1)
run "retrieval without decontamination" 0 "${G[@]}" --retrieval "$TMP/dbp" --k 2 --out "$TMP/d1"
run "retrieval with --decontaminate 8" 0 "${G[@]}" --retrieval "$TMP/dbp" --k 2 --decontaminate 8 --out "$TMP/d2"
planted=$(jq -r --arg id "$first" 'select(.id == $id) | .retrieved[0]' "$TMP/d1/items.jsonl")
jq -e -s --arg id "$first" --argjson c "$planted" 'map(select(.id == $id))[0] | .decontaminated == 1 and ((.retrieved | any(. == $c)) | not) and (.retrieved | length) == 2' \
    "$TMP/d2/items.jsonl" >/dev/null && ok "decontamination drops the planted passage, keeps k" \
    || fail "decontamination: $(jq -c --arg id "$first" 'select(.id == $id) | {retrieved, decontaminated}' "$TMP/d2/items.jsonl") (planted chunk $planted)"
jq -e -s --arg id "$first" 'all(.[]; .id == $id or .decontaminated == 0)' "$TMP/d2/items.jsonl" >/dev/null \
    || fail "decontamination dropped passages of other items"
run "math500 greedy + retrieval" 0 "${G[@]}" --retrieval "$TMP/db" --k 2 --budget 8 --out "$TMP/g8"
jq -e -s 'all(.[]; .passage_tokens <= 8 and (.passages_used | length) >= 1)' "$TMP/g8/items.jsonl" >/dev/null \
    && ok "passage budget respected" || fail "passage budget: $(jq -c '[.passage_tokens, .passages_used]' "$TMP/g8/items.jsonl" | tr '\n' ' ')"
jq -e '.corpus.content_hash != null and .config.retrieval.k == 2' "$TMP/g8/summary.json" >/dev/null || fail "summary: corpus identity"

# other benchmarks
run "gpqa generate" 0 "${EV[@]}" --bench "gpqa:$F/gpqa_main.csv" --method generate --max-new-tokens 8 --out "$TMP/o1"
jq -e -s 'all(.[]; .metrics.acc != null and (.samples | length) == 1)' "$TMP/o1/items.jsonl" >/dev/null || fail "gpqa records"
run "gpqa loglik" 0 "${EV[@]}" --bench "gpqa:$F/gpqa_main.csv" --out "$TMP/o2"
run "simpleqa" 0 "${EV[@]}" --bench "simpleqa:$F/simpleqa.csv" --max-new-tokens 6 --out "$TMP/o3"
jq -e -s 'all(.[]; .metrics.f1 != null and .metrics.rouge_l_f != null)' "$TMP/o3/items.jsonl" >/dev/null || fail "simpleqa metrics"

# scoring wired end to end: the model's own answers as references
run "generic free-form" 0 "${EV[@]}" --bench "jsonl:$F/generic_free.jsonl" --max-new-tokens 4 --out "$TMP/o4"
jq -c '{id, question: .id, answer: (.answer // "")}' "$TMP/o4/items.jsonl" >/dev/null
jq -c --slurpfile q <(jq -c . "$F/generic_free.jsonl") -n '
    [inputs] as $r | range($r | length) as $i
    | {id: $r[$i].id, question: $q[$i].question, answer: ($r[$i].answer // "x")}' "$TMP/o4/items.jsonl" >"$TMP/self.jsonl"
run "self-referenced answers" 0 "${EV[@]}" --bench "jsonl:$TMP/self.jsonl" --max-new-tokens 4 --out "$TMP/o5"
n_ans=$(jq -s '[.[] | select(.answer != null)] | length' "$TMP/o4/items.jsonl")
n_ok=$(jq -s '[.[] | select(.correct)] | length' "$TMP/o5/items.jsonl")
[ "$n_ans" -gt 0 ] && [ "$n_ok" -eq "$n_ans" ] && ok "own answers score as correct ($n_ok)" \
    || fail "own answers: $n_ok correct of $n_ans answered"

# --- errors --------------------------------------------------------------
expect_error "no --bench" 2 "bench" -- eval --model "$M" --out "$TMP/e"
expect_error "unknown kind" 2 "mmlux" -- "${EV[@]}" --bench "mmlux:$F/mmlu" --out "$TMP/e"
expect_error "bad ttc" 2 "--ttc" "sc:0" -- "${EV[@]}" --bench "math500:$F/math500.jsonl" --ttc sc:0 --out "$TMP/e"
expect_error "sc on loglik MC" 2 "--method generate" -- "${EV[@]}" --bench "mmlu:$F/mmlu/data" --ttc sc:4 --out "$TMP/e"
expect_error "docsc without DB" 2 "docsc" -- "${EV[@]}" --bench "math500:$F/math500.jsonl" --ttc docsc --out "$TMP/e"
expect_error "malformed jsonl" 1 "math500_bad_json.jsonl" "line" -- "${EV[@]}" --bench "math500:$F/bad/math500_bad_json.jsonl" --out "$TMP/e"
run "skip malformed rows" 0 "${EV[@]}" --bench "math500:$F/bad/math500_bad_json.jsonl" --on-error skip --max-new-tokens 2 --out "$TMP/e2"
jq -e '.skipped.malformed_rows >= 1' "$TMP/e2/summary.json" >/dev/null || fail "skipped rows not counted in summary.json"
mkdir -p "$TMP/notok" && cp "$M"/config.json "$M"/*.safetensors "$TMP/notok"/
expect_error "no tokenizer.json" 1 "tokenizer.json" -- eval --model "$TMP/notok" --bench "mmlu:$F/mmlu/data" --out "$TMP/e"
expect_error "shots without a pool" 2 "--shots-from" -- "${EV[@]}" --bench "math500:$F/math500.jsonl" --shots 2 --out "$TMP/e"
test_end
