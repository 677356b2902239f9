#!/usr/bin/env bash
# tour.sh — a tour of the pieces on test fixtures (it was the main job before
# the demo models existed; scripts/demo.sh is the main job now).
#
# It runs, on test fixtures, the most complete
# pipeline that works: the inference engine on the four tiny Hugging Face
# reference checkpoints in tests/fixtures/models (Llama with llama3 RoPE,
# Qwen2 in bf16, sharded Qwen3, GPT-NeoX in f16) and the two real tokenizers
# in deps/tokenizers.  For each model it checks logits, greedy generation and
# log-likelihood against the Hugging Face references and writes one JSON line
# per model to results/tour/engine.jsonl (schema in README.md).  Then it
# builds a 2-shard retrieval DB from a real corpus (Debian's dict-gcide,
# 126k dictionary entries, via scripts/corpus-gcide.sh), prints its
# manifest summary and writes the BM25 top-3 of a few queries to
# results/tour/search.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
MNEMO=${MNEMO_BIN:-build/mnemo}
OUT=${1:-results/tour}
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# max |got - ref| / max |ref| over two float32 files
rel_err() {
  paste <(od -An -v -f -w4 "$1") <(od -An -v -f -w4 "$2") | awk '
    { d = $1 - $2; if (d < 0) d = -d; if (d > md) md = d;
      r = $2; if (r < 0) r = -r; if (r > mr) mr = r }
    END { printf "%.3g", (mr > 0 ? md / mr : md) }'
}

records=$OUT/engine.jsonl.tmp
: >"$records"
printf '%-11s %-20s %-9s %-14s %-22s %s\n' model architecture dtype "logits rel.err" "greedy (24 tokens)" "loglik (mnemo / HF)"
for dir in tests/fixtures/models/*/; do
  dir=${dir%/}; name=$(basename "$dir"); ref=$dir/reference.json
  arch=$(jq -r .arch "$ref"); dtype=$(jq -r .dtype_on_disk "$ref")
  ids=$(jq -r '.cases[3].ids | join(" ")' "$ref")
  t0=$(date +%s.%N)
  "$MNEMO" logits --model "$dir" --ids "$ids" --out "$tmp/logits.f32"
  err=$(rel_err "$tmp/logits.f32" "$dir/case3.logits.f32")
  prompt=$(jq -r '.greedy.prompt_ids | join(" ")' "$ref")
  want=$(jq -r '.greedy.new_ids | join(" ")' "$ref")
  got=$("$MNEMO" generate --model "$dir" --prompt-ids "$prompt" --max-new-tokens 24)
  ctx=$(jq -r '.cases[2].ids[:1] | join(" ")' "$ref")
  cont=$(jq -r '.cases[2].ids[1:] | join(" ")' "$ref")
  ll=$("$MNEMO" loglik --model "$dir" --context-ids "$ctx" --continuation-ids "$cont")
  t1=$(date +%s.%N)
  ll_ref=$(jq -r .loglik.sum_logprob "$ref")
  match=$([ "$got" = "$want" ] && echo true || echo false)
  printf '%-11s %-20s %-9s %-14s %-22s %s / %s\n' "$name" "$arch" "$dtype" "$err" \
    "$([ "$match" = true ] && echo identical || echo DIFFERENT)" "$(jq -r .logprob <<<"$ll")" "$ll_ref"
  jq -cn --arg model "$name" --arg arch "$arch" --arg dtype "$dtype" --argjson err "$err" \
     --argjson match "$match" --argjson ll "$ll" --argjson ll_ref "$ll_ref" \
     --argjson secs "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
     '{model:$model, arch:$arch, dtype:$dtype, logits_max_rel_err:$err, greedy_identical:$match,
       loglik:$ll.logprob, loglik_greedy:$ll.greedy, loglik_ref:$ll_ref, seconds:$secs}' >>"$records"
done
mv "$records" "$OUT/engine.jsonl"

echo
echo "real tokenizers (deps/tokenizers): encode, then decode back"
sample='Retrieval at test time: café, 東京, x² = 42 — <|im_start|>user'
for tok in qwen3 llama3_1; do
  jq -cn --arg t "$sample" '{text:$t}' | "$MNEMO" tokenize --tokenizer deps/tokenizers/$tok/tokenizer.json >"$tmp/ids.jsonl"
  back=$("$MNEMO" detokenize --tokenizer deps/tokenizers/$tok/tokenizer.json <"$tmp/ids.jsonl" | jq -r .text)
  printf '  %-9s %3d tokens  %s  round trip: %s\n' "$tok" "$(jq '.ids | length' "$tmp/ids.jsonl")" \
    "$(jq -c .ids "$tmp/ids.jsonl" | cut -c1-60)..." "$([ "$back" = "$sample" ] && echo yes || echo NO)"
done
echo
echo "retrieval: GCIDE dictionary -> 2-shard DB -> BM25 search"
bash scripts/corpus-gcide.sh "$tmp/gcide.jsonl" >/dev/null
"$MNEMO" ingest --db "$tmp/db" --shards 2 --chunk-tokens 1000000 --overlap 0 "$tmp/gcide.jsonl"
"$MNEMO" stats --db "$tmp/db" | jq -r '"  \(.documents) documents, \(.chunks) chunks (\(.duplicates) duplicates dropped), content hash \(.content_hash)"'
printf '%s\n' '{"id": "q1", "text": "retrieval of stored knowledge"}' \
  '{"id": "q2", "text": "compute engine"}' '{"id": "q3", "text": "contamination of water"}' >"$tmp/queries.jsonl"
"$MNEMO" search --db "$tmp/db" --queries "$tmp/queries.jsonl" --k 3 >"$OUT/search.jsonl.tmp"
mv "$OUT/search.jsonl.tmp" "$OUT/search.jsonl"
jq -r '"  \(.query_id) #\(.rank) \(.score | tostring | .[0:6]) \(.text | gsub("\\s+"; " ") | .[0:70])"' "$OUT/search.jsonl"
echo
echo "evaluation: MMLU sample (tests/fixtures/bench), 2-shot, with the top-2 GCIDE passages in each prompt"
echo "  (a tiny random model with the real Qwen3 vocabulary: accuracy is chance; the pipeline is real)"
mkdir -p "$tmp/model"
cp tests/fixtures/eval/qwen3_vocab/*.json tests/fixtures/eval/qwen3_vocab/*.safetensors "$tmp/model"/
cp deps/tokenizers/qwen3/tokenizer.json "$tmp/model"/
rm -rf "$OUT/eval"
"$MNEMO" eval --model "$tmp/model" --bench mmlu:tests/fixtures/bench/mmlu/data --shots 2 \
  --retrieval "$tmp/db" --k 2 --budget 128 --out "$OUT/eval"
jq -r '"  \(.n) items, accuracy \(.accuracy) [\(.accuracy_ci[0]), \(.accuracy_ci[1])], acc_norm \(.metrics.acc_norm.mean)"' "$OUT/eval/summary.json"
echo "  math500 sample with self-consistency sc:4:"
"$MNEMO" eval --model "$tmp/model" --bench math500:tests/fixtures/bench/math500.jsonl --ttc sc:4 \
  --max-new-tokens 16 --out "$OUT/eval-sc4"
echo
echo "cluster run: jobs/smoke.yaml on 2 MPI ranks (4-shard DB, work queue, durable records)"
MNEMO="$MNEMO" bash scripts/smoke-db.sh 2>/dev/null
rm -rf "$OUT/smoke"
MPI=(mpirun --oversubscribe -np 2 -x OMP_NUM_THREADS=1)
[ "$(id -u)" -eq 0 ] && MPI+=(--allow-run-as-root)
"${MPI[@]}" "$MNEMO" run jobs/smoke.yaml --out "$OUT/smoke"
jq -r '"  \(.ranks) ranks, \(.items) items; per rank: \([.per_rank[] | "\(.items) items"] | join(", "))"' "$OUT/smoke/run-stats.json"
echo
echo "tour: wrote $OUT/engine.jsonl, $OUT/search.jsonl, $OUT/eval/, $OUT/eval-sc4/ and $OUT/smoke/"
