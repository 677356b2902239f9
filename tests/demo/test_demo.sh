#!/usr/bin/env bash
# test_demo.sh — the README's main job (scripts/demo.sh) end to end, twice,
# in two scratch folders: the compute-multiplier study on the embedded demo.
# Checks issue 7's acceptance: the report and multiplier.json are written from
# the run's own files, closed-book accuracy rises with compute, retrieval
# helps, every augmented configuration has a multiplier with its interval,
# the contamination found equals the planted items, and a rerun gives
# byte-identical multiplier.json and report.md / report.html.
# ctest-label: slow
# ctest-cost: 500
set -euo pipefail
SRC=${MNEMO_SOURCE_DIR:?}
BIN=${MNEMO_BIN:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for run in 1 2; do
  mkdir -p "$work/$run"
  ln -s "$SRC/datasets" "$work/$run/datasets"
  MNEMO_BIN=$BIN DEMO_WORKDIR=$work/$run bash "$SRC/scripts/demo.sh" >"$work/$run.log" 2>&1 ||
    { tail -20 "$work/$run.log"; fail "demo.sh run $run failed"; }
done
out=$work/1/results/demo
for f in multiplier.json report.md report.html clean/multiplier.json clean/report.md; do
  [ -s "$out/$f" ] || fail "missing $f"
  cmp -s "$out/$f" "$work/2/results/demo/$f" || fail "$f differs between two runs"
done
echo "rerun: multiplier.json, report.md, report.html byte-identical"

m=$out/multiplier.json
# closed-book accuracy rises with compute on the free-form benchmark
jq -e '[.fits[] | select(.benchmark | endswith("qa.jsonl")) | .family | sort_by(.compute) | .[].accuracy]
       | . as $a | ($a | length) == 5 and ([range(1; 5) | $a[.] > $a[. - 1]] | all)' "$m" >/dev/null ||
  fail "closed-book accuracy does not rise with compute: $(jq -c '[.fits[].family[].accuracy]' "$m")"
jq -e '[.fits[] | .family | sort_by(.compute) | .[-1].accuracy > .[0].accuracy + 0.3] | all' "$m" >/dev/null ||
  fail "largest model not clearly better than the smallest"
# the family's accuracies are the closed-book runs' own summaries
for s in "$out"/runs/closed-book/*/*/summary.json; do
  dir=${s%/summary.json}; rel=${dir#"$work/1/"}
  want=$(jq .accuracy "$s")
  got=$(jq --arg r "$rel" '.fits[].family[] | select(.result == $r) | .accuracy' "$m")
  [ "$got" = "$want" ] || fail "$rel: family accuracy $got, summary.json says $want"
done
# retrieval helps the two largest models on both benchmarks
jq -e '[.entries[] | select(.config == "retrieval" and (.model | test("d08|d16"))) | .gain > 0.03] | length == 4 and all' "$m" >/dev/null ||
  fail "retrieval gains: $(jq -c '[.entries[] | select(.config == "retrieval") | .gain]' "$m")"
# one entry per augmented configuration and model with the required keys
n=$(jq '[.entries[] | select(has("config") and has("multiplier") and has("ci_low") and has("ci_high")
         and has("effective_compute") and has("compute"))] | length' "$m")
[ "$n" = 25 ] || fail "expected 25 entries (5 models x (3 qa + 2 mc) configurations), got $n"
for c in retrieval retrieval+rerank retrieval+rerank+sc:5; do
  jq -e --arg c "$c" '[.entries[] | select(.config == $c)] | length == 5 or length == 10' "$m" >/dev/null ||
    fail "configuration $c missing"
done
# interior multipliers have finite intervals around them
jq -e '[.entries[] | select(.model | endswith("d08")) | select(.config == "retrieval")
        | .multiplier > 1 and .ci_low <= .multiplier and .multiplier <= .ci_high] | all' "$m" >/dev/null ||
  fail "d08 retrieval multipliers: $(jq -c '[.entries[] | select(.model | endswith("d08")) | [.multiplier, .ci_low, .ci_high]]' "$m")"
# contamination: found == planted, the same items
planted=$(grep -vc '^#' "$SRC/datasets/demo/planted.txt")
jq -e --argjson p "$planted" '.contamination | .planted == $p and .flagged == $p and .flagged_planted == $p and .agree' "$m" >/dev/null ||
  fail "contamination: $(jq -c .contamination "$m")"
# the clean study leaves the flagged items out of every free-form result
jq -e --argjson p "$planted" '.fits | length == 1 and .[0].excluded_items == $p and .[0].items == 640 - $p' "$out/clean/multiplier.json" >/dev/null ||
  fail "clean study: $(jq -c '[.fits[] | {items, excluded_items}]' "$out/clean/multiplier.json")"
# no special token leaks into generated text
! grep -q '<|endoftext|>' "$out"/runs/closed-book/*/jsonl-qa/items.jsonl || fail "EOS token in generated text"
# the report shows the chart, the multipliers and the contamination section
grep -q '<svg' "$out/report.html" || fail "no SVG chart in report.html"
grep -qi 'contamination' "$out/report.md" || fail "no contamination section in report.md"
grep -q 'retrieval+rerank+sc:5' "$out/report.md" || fail "no sc:5 configuration in report.md"
echo "demo: $(grep -o 'in [0-9]* s$' "$work/1.log") ; all checks passed"
