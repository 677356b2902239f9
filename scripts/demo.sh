#!/usr/bin/env bash
# demo.sh — mnemo's main job: the compute-multiplier study on the embedded
# demo (datasets/demo), end to end, on 2 MPI ranks.
#
#   1. check that scripts/demo/make_data.py still makes datasets/demo's data
#      byte for byte (the data are the script's, not hand-edited);
#   2. ingest the biographies of the demo corpus (the demo models'
#      pre-training data) into a 2-shard retrieval DB: results/demo/db;
#   3. evaluate every model of the family (datasets/demo/models: one Llama
#      trained to 5 compute budgets) with `mnemo run` under mpirun -np 2:
#        closed-book                  jobs/demo-closed.yaml
#        retrieval (BM25 top-2)       jobs/demo-rag.yaml
#        retrieval + reranking        jobs/demo-rerank.yaml
#        retrieval + reranking + sc:5 jobs/demo-rerank-sc.yaml (free-form only)
#      on the free-form benchmark (qa.jsonl, exact match) and its
#      multiple-choice variant (mc.jsonl, log-likelihood), into
#      results/demo/runs/<configuration>/<model>/<kind>-<file>;
#   4. audit the benchmark for contamination by the whole corpus file (word
#      8-grams, 2 ranks): results/demo/contam;
#   5. `mnemo multiplier` over every result: results/demo/multiplier.json,
#      report.md and report.html, with the contamination found vs planted
#      (datasets/demo/planted.txt); and the free-form study again on the
#      clean items only (the flagged ones left out): results/demo/clean/.
# Every number in the report comes from these result files.  Deterministic:
# a rerun gives the same multiplier.json and report.md.  About 2 minutes on 2
# cores.
#
# Environment: MNEMO_BIN (default build/mnemo); DEMO_WORKDIR: run in this
# folder instead of the repository root (it needs a `datasets` link to the
# repository's; the tests use it); DEMO_RANKS (default 2).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MNEMO=$(realpath "${MNEMO_BIN:-$ROOT/build/mnemo}")
cd "${DEMO_WORKDIR:-$ROOT}"
OUT=results/demo
RANKS=${DEMO_RANKS:-2}
MPI=(mpirun -np "$RANKS" --oversubscribe --bind-to none)
[ "$(id -u)" = 0 ] && MPI+=(--allow-run-as-root)
t_start=$(date +%s)
step() { printf '\n[%3ds] %s\n' $(($(date +%s) - t_start)) "$*"; }

step "1/5 data: scripts/demo/make_data.py reproduces datasets/demo"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$ROOT/scripts/demo/make_data.py" "$tmp/data" | sed 's/^/  /'
for f in corpus.jsonl qa.jsonl mc.jsonl planted.txt world.jsonl; do
  cmp -s "$tmp/data/$f" datasets/demo/$f || { echo "demo: datasets/demo/$f differs from make_data.py's output" >&2; exit 1; }
done
echo "  identical: corpus.jsonl qa.jsonl mc.jsonl planted.txt world.jsonl"

step "2/5 retrieval DB: the corpus's biographies -> $OUT/db (2 shards)"
# The datastore is the knowledge part of the pre-training corpus, its
# biographies (ids bio-*).  The practice documents and the quiz page share the
# benchmark's question template, and BM25 ranks them above the biography a
# question is about (with them in, the right person's biography is BM25's
# top passage for only 63% of the questions; without them, for all).
rm -rf "$OUT/db" "$OUT/runs" "$OUT/contam"
mkdir -p "$OUT"
jq -c 'select(.id | startswith("bio-"))' datasets/demo/corpus.jsonl >"$tmp/datastore.jsonl"
"$MNEMO" ingest --db "$OUT/db" --shards 2 --chunk-tokens 256 --overlap 32 "$tmp/datastore.jsonl"

step "3/5 evaluations: 5 models x 4 configurations on $RANKS MPI ranks"
for job in demo-closed demo-rag demo-rerank demo-rerank-sc; do
  spec=$ROOT/jobs/$job.yaml
  models=$(grep -c '^  - datasets/demo/models/' "$spec")
  benches=$(grep -c '^  - jsonl:' "$spec")
  # every (model, benchmark) combination of the sweep in turn, in one launch
  "${MPI[@]}" "$MNEMO" run "$spec" --task all --threads 1 2>"$tmp/run.err" ||
    { cat "$tmp/run.err" >&2; exit 1; }
  printf '  %-15s %2d evaluations: ' "$job" $((models * benches))
  out=$(sed -n 's/^out: //p' "$spec") # OUT/<model>/<kind>-<file>/summary.json
  for s in $(find "$out" -name summary.json | LC_ALL=C sort); do
    model=$(basename "$(dirname "$(dirname "$s")")")
    printf '%s %s=%.3f  ' "${model#demo-}" "$(basename "$(dirname "$s")" | sed 's/^jsonl-//')" "$(jq .accuracy "$s")"
  done
  echo
done

step "4/5 contamination audit: qa.jsonl against the whole corpus (word 8-grams, $RANKS ranks)"
"${MPI[@]}" "$MNEMO" contam --bench jsonl:datasets/demo/qa.jsonl --corpus --n 8 \
  --eval "$OUT/runs/closed-book/demo-d16/jsonl-qa" --out "$OUT/contam" datasets/demo/corpus.jsonl 2>"$tmp/contam.err" ||
  { cat "$tmp/contam.err" >&2; exit 1; }
jq -r '"  \(.items) items, \(.flagged) flagged"' "$OUT/contam/contam-summary.json"

step "5/5 compute multipliers and the report"
mapfile -t results < <(find "$OUT/runs" -name summary.json -printf '%h\n' | LC_ALL=C sort)
"$MNEMO" multiplier "${results[@]}" --contam "$OUT/contam" --planted datasets/demo/planted.txt \
  --title "mnemo demo: what retrieval and test-time compute are worth in pre-training compute" \
  --out "$OUT"
echo
# The same study on the clean items only: the 64 the audit flagged (copied
# into the corpus, so even small models may have memorised them) are left
# out of every free-form result.
mapfile -t qa_results < <(printf '%s\n' "${results[@]}" | grep '/jsonl-qa$')
"$MNEMO" multiplier "${qa_results[@]}" --contam "$OUT/contam" --planted datasets/demo/planted.txt --clean \
  --title "mnemo demo, clean items only (contaminated items left out)" --out "$OUT/clean" >/dev/null
jq -r '.entries[] | select(.model | test("d08|d16")) | "  clean: \(.config) \(.model | sub(".*/"; "")): \(.multiplier * 100 | round / 100)x [\(.ci_low * 100 | round / 100), \(.ci_high * 100 | round / 100)]"' "$OUT/clean/multiplier.json"
echo
jq -r '.contamination | "contamination: \(.flagged) of \(.items) items flagged, \(.planted) planted, \(.flagged_planted) in both (agree: \(.agree))"' "$OUT/multiplier.json"
echo "demo: wrote $OUT/report.html, $OUT/report.md and $OUT/multiplier.json in $(($(date +%s) - t_start)) s"
