#!/usr/bin/env bash
# test_multiplier_cli.sh — `mnemo multiplier` on synthetic result
# directories whose accuracies put the closed-book family exactly on a
# sigmoid, so every multiplier is known in closed form:
#
#   floor 0.25 (4 options), ceiling 1; models m1, m2, m3 at 1e18, 1e19,
#   1e20 FLOPs with accuracies 16/40, 25/40, 34/40, i.e. p = (a - 0.25) /
#   0.75 = 0.2, 0.5, 0.8: logits -ln 4, 0, ln 4, so x0 = 19, k = ln 4.
#   retrieval on m1: 25/40 -> x = 19 -> effective 1e19, multiplier 10
#   retrieval on m2: 34/40 -> x = 20 -> multiplier 10
#   retrieval on m3: 37/40 -> p = 0.9 -> x = 19 + ln 9 / ln 4: extrapolated,
#                    multiplier 10^(ln 9 / ln 4 - 1), the check out of range
#   retrieval+sc:5 on m2: 40/40 -> beyond the ceiling
#   sc:5 on m1: 16/40 -> multiplier 1
# Then the report files, reruns (byte-identical, any input order), the
# contamination section, and bad inputs (one-line errors naming the file).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_multiplier_cli
cd "$TMP" || exit 1

N=40
BENCH="jsonl:data/mc.jsonl"

# model NAME COMPUTE, result DIR MODEL CORRECT RETRIEVAL TTC_KIND TTC_N
. "$SRC/tests/cli/study_fixture.sh"

study_grid
result r/sc1 m1 16 null sc 5
ALL="r/cb1 r/cb2 r/cb3 r/ret1 r/ret2 r/ret3 r/retsc2 r/sc1"

# jq_check NAME FILTER FILE — the filter is true on the file
jq_check() {
    if jq -e "$2" "$3" >/dev/null 2>&1; then ok "$1"; else fail "$1: $2 on $3: $(jq -c "$2" "$3" 2>&1 | head -c 300)"; fi
}

# shellcheck disable=SC2086
run "study runs" 0 multiplier $ALL --out out1 --bootstrap 200 --seed 7
J=out1/multiplier.json
jq_check "fit floor from choices" '.fits | length == 1 and .[0].floor == 0.25 and .[0].floor_source == "choices" and .[0].ceiling == 1' $J
jq_check "fit x0 = 19, k = ln 4" '.fits[0] | ((.x0 - 19) | fabs) < 1e-6 and ((.k - 1.3862943611198906) | fabs) < 1e-6 and .rmse < 1e-8 and .converged' $J
jq_check "family sorted with intervals" '.fits[0].family | map(.model) == ["models/m1","models/m2","models/m3"] and all(.ci_low <= .accuracy and .accuracy <= .ci_high) and .[0].params == 1000000' $J
jq_check "five entries" '.entries | length == 5 and (map(.config) | unique) == ["retrieval","retrieval+sc:5","sc:5"]' $J
e() { printf '.entries[] | select(.config == "%s" and .model == "models/%s")' "$1" "$2"; }
jq_check "retrieval m1: multiplier 10" "$(e retrieval m1) | ((.multiplier / 10 - 1) | fabs) < 1e-6 and ((.effective_compute / 1e19 - 1) | fabs) < 1e-6 and .extrapolated == false and ((.interp_multiplier / 10 - 1) | fabs) < 1e-9 and .closed_book_accuracy == 0.4 and ((.gain - 0.225) | fabs) < 1e-12" $J
jq_check "retrieval m1: interval around it" "$(e retrieval m1) | .ci_low <= .multiplier and .multiplier <= .ci_high and .ci_high_unbounded == false" $J
jq_check "retrieval m2: multiplier 10" "$(e retrieval m2) | ((.multiplier / 10 - 1) | fabs) < 1e-6 and .extrapolated == false and ((.interp_effective_compute / 1e20 - 1) | fabs) < 1e-9" $J
jq_check "retrieval m3: extrapolated" "$(e retrieval m3) | ((.multiplier / pow(10; (9|log) / (4|log) - 1) - 1) | fabs) < 1e-6 and .extrapolated and .beyond_ceiling == false and .interp_multiplier == null and .interp_effective_compute == null" $J
jq_check "retrieval+sc:5 m2: beyond ceiling" "$(e retrieval+sc:5 m2) | .beyond_ceiling and .extrapolated and .multiplier == null and .effective_compute == null and .accuracy == 1 and .ci_high == null and .ci_high_unbounded" $J
jq_check "sc:5 m1: multiplier 1" "$(e sc:5 m1) | ((.multiplier - 1) | fabs) < 1e-6 and .gain == 0 and .gain_ci_low == 0 and .gain_ci_high == 0" $J
jq_check "bootstrap recorded, no contamination" '.bootstrap.resamples == 200 and .bootstrap.seed == 7 and .bootstrap.level == 0.95 and .contamination == null and .mnemo_version != null' $J
out_has "stdout table" "retrieval+sc:5"
out_has "stdout beyond ceiling" "beyond ceiling"
grep -q '<svg' out1/report.html && grep -q 'class="curve"' out1/report.html && grep -q 'class="curve dashed"' out1/report.html &&
    grep -q 'class="point"' out1/report.html && grep -q '>1e18<' out1/report.html &&
    ok "report.html has the chart" || fail "report.html lacks the chart"
grep -q 'extrapolated beyond the family' out1/report.md && grep -q 'beyond ceiling' out1/report.md &&
    grep -q 'outside range' out1/report.md && grep -q '| models/m1 | retrieval | 0.400 | 0.625 | +0.225 |' out1/report.md &&
    ok "report.md has the tables" || fail "report.md lacks the tables: $(head -c 600 out1/report.md)"
grep -q 'Contamination' out1/report.md && fail "contamination section without --contam" || ok "no contamination section"

# reruns: byte-identical, whatever the order of the inputs
# shellcheck disable=SC2086
run "rerun" 0 multiplier $ALL --out out2 --bootstrap 200 --seed 7
# shellcheck disable=SC2086
run "rerun reversed" 0 multiplier $(echo $ALL | tr ' ' '\n' | tac) --out out3 --bootstrap 200 --seed 7
for f in multiplier.json report.md report.html; do
    cmp -s out1/$f out2/$f && cmp -s out1/$f out3/$f && ok "byte-identical $f" || fail "$f differs between reruns"
done
# shellcheck disable=SC2086
run "other seed" 0 multiplier $ALL --out out4 --bootstrap 200 --seed 8
cmp -s out1/multiplier.json out4/multiplier.json && fail "seed has no effect" || ok "seed changes the intervals"
# shellcheck disable=SC2086
run "no bootstrap" 0 multiplier $ALL --out out5 --bootstrap 0
jq_check "no intervals" "$(e retrieval m1 | sed 's/^/[/; s/$/]/') | .[0].ci_low == null and .[0].ci_high == null" out5/multiplier.json
# shellcheck disable=SC2086
run "floor option" 0 multiplier $ALL --out out6 --floor 0.1 --bootstrap 0 --title 'Toy <study>'
jq_check "floor option used" '.fits[0].floor == 0.1 and .fits[0].floor_source == "option"' out6/multiplier.json
grep -q '<title>Toy &lt;study&gt;</title>' out6/report.html && ok "title escaped" || fail "title not escaped"

# contamination: 3 flagged (q-00..q-02), planted q-00 q-01 q-05 and one id not in the benchmark
mkdir -p contam
printf '{"bench": "%s", "n": 8, "items": %d, "flagged": 3}\n' "$BENCH" $N >contam/contam-summary.json
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"q-%02d\",\"flagged\":%s,\"overlap\":0}\n", i, (i < 3 ? "true" : "false") }' >contam/contamination.jsonl
printf '# planted items\n\nq-00\n  q-01  \nq-05\nnot-an-item\nq-00\n' >planted.txt
# shellcheck disable=SC2086
run "with contamination" 0 multiplier $ALL --out out7 --bootstrap 50 --contam contam --planted planted.txt
jq_check "contamination numbers" '.contamination | .items == 40 and .planted == 3 and .planted_not_in_benchmark == 1 and .flagged == 3 and .flagged_planted == 2 and ((.precision - 2/3) | fabs) < 1e-12 and ((.recall - 2/3) | fabs) < 1e-12 and .agree == false and .planted_share == 0.075 and .found_share == 0.075' out7/multiplier.json
grep -q '<h2>Contamination</h2>' out7/report.html && grep -q 'precision' out7/report.html &&
    ok "report.html has the contamination section" || fail "report.html lacks the contamination section"
printf 'q-02\nq-01\nq-00\n' >planted2.txt
# shellcheck disable=SC2086
run "contamination agrees" 0 multiplier $ALL --out out8 --bootstrap 0 --contam contam --planted planted2.txt
jq_check "agree" '.contamination | .agree and .precision == 1 and .recall == 1' out8/multiplier.json
# --clean: the 3 flagged items (all correct everywhere) leave every result:
# m1 16/40 -> 13/37, m2 25/40 -> 22/37, m3 34/40 -> 31/37, retrieval on m1 25/40 -> 22/37
# shellcheck disable=SC2086
run "clean study" 0 multiplier $ALL --out outc --bootstrap 0 --contam contam --clean
jq_check "clean: 37 items, 3 excluded" '.fits[0] | .items == 37 and .excluded_items == 3' outc/multiplier.json
jq_check "clean: family accuracies" '[.fits[0].family[].accuracy] | [(.[0] - 13/37), (.[1] - 22/37), (.[2] - 31/37)] | map(fabs < 1e-12) | all' outc/multiplier.json
jq_check "clean: entry accuracy" "$(e retrieval m1) | ((.accuracy - 22/37) | fabs) < 1e-12 and ((.closed_book_accuracy - 13/37) | fabs) < 1e-12" outc/multiplier.json
jq_check "not clean: nothing excluded" '.fits[0].excluded_items == 0' out8/multiplier.json
grep -q '3 excluded' outc/report.md && ok "report says what was excluded" || fail "report.md does not say what was excluded"
run "--clean needs --contam" 2 multiplier r/cb1 r/cb2 --out outx --clean
# shellcheck disable=SC2086
run "contamination without planted list" 0 multiplier $ALL --out out9 --bootstrap 0 --contam contam
jq_check "no planted list" '.contamination | .planted == null and .agree == null and .precision == null and .flagged == 3' out9/multiplier.json

# bad inputs: one line naming the file, non-zero exit, no report
model m9 1e21
result r/cb9 m9 38 null greedy 1
rm models/m9/training.json
# shellcheck disable=SC2086
expect_error "missing training.json" 1 "models/m9/training.json" -- multiplier $ALL r/cb9 --out bad1
[ -e bad1/multiplier.json ] && fail "report written after an error" || ok "no report after an error"
echo '{"params": 1, "tokens": 2, "compute": "lots"}' >models/m9/training.json
# shellcheck disable=SC2086
expect_error "malformed training.json" 1 "models/m9/training.json" "compute" -- multiplier $ALL r/cb9 --out bad1
echo '{"params": 1000, "tokens": 2000}' >models/m9/training.json
# shellcheck disable=SC2086
run "compute from 6 N D" 0 multiplier $ALL r/cb9 --out out10 --bootstrap 0
jq_check "compute = 6 N D" '.fits[0].family[0].compute == 12000000 and .fits[0].family[0].model == "models/m9"' out10/multiplier.json

result r/badids m2 34 "$R" sc 3
sed -i 's/"q-07"/"q-77"/' r/badids/items.jsonl
# shellcheck disable=SC2086
expect_error "mismatched ids" 1 "items.jsonl" "q-07" -- multiplier $ALL r/badids --out bad2
expect_error "one closed-book model" 1 "jsonl:data/mc.jsonl" "2 distinct compute" "r/cb1/summary.json" -- multiplier r/cb1 r/ret1 --out bad3
model m1b 1e18
result r/cb2b m1b 25 null greedy 1
expect_error "two closed-book results at one compute" 1 "2 distinct compute" -- multiplier r/cb1 r/cb2b r/ret2 --out bad3
mkdir -p r/badjson && cp r/cb2/items.jsonl r/badjson/ && echo '{"benchmark": "jsonl",' >r/badjson/summary.json
# shellcheck disable=SC2086
expect_error "malformed summary.json" 1 "r/badjson/summary.json" -- multiplier $ALL r/badjson --out bad4
result r/nobench m2 25 null greedy 1
sed -i 's/"bench": /"bench_": /' r/nobench/summary.json
expect_error "summary.json without config.bench" 1 "r/nobench/summary.json" "config.bench" -- multiplier r/cb1 r/nobench --out bad4
result r/badacc m2 25 null greedy 1
sed -i 's/"accuracy": 0.625/"accuracy": 0.7/' r/badacc/summary.json
expect_error "accuracy disagrees" 1 "r/badacc/items.jsonl" "0.700000" -- multiplier r/cb1 r/badacc --out bad4
result r/baditem m2 25 null greedy 1
sed -i '3s/.*/{"id": "q-02", "correct": "yes"}/' r/baditem/items.jsonl
expect_error "malformed items.jsonl" 1 "r/baditem/items.jsonl: line 3" "correct" -- multiplier r/cb1 r/baditem --out bad4
# shellcheck disable=SC2086
expect_error "duplicate result" 1 "duplicate result" "r/cb1/summary.json" -- multiplier $ALL r/cb1 --out bad5
expect_error "missing dir" 1 "r/nope/summary.json" -- multiplier r/cb1 r/nope --out bad6
expect_error "no --out" 2 "--out" -- multiplier r/cb1 r/cb2
expect_error "no results" 2 "RESULT_DIR" -- multiplier --out bad7
expect_error "planted without contam" 2 "--planted needs --contam" -- multiplier r/cb1 r/cb2 --out bad7 --planted planted.txt
expect_error "bad bootstrap" 2 "--bootstrap" -- multiplier r/cb1 r/cb2 --out bad7 --bootstrap -1
expect_error "floor above ceiling" 2 "--floor" -- multiplier r/cb1 r/cb2 --out bad7 --floor 0.9 --ceiling 0.5
echo '{"bench": "x", "items": 41, "flagged": 3}' >contam/contam-summary.json
# shellcheck disable=SC2086
expect_error "contamination counts disagree" 1 "contam/contamination.jsonl" "41" -- multiplier $ALL --out bad8 --contam contam
run "help" 0 multiplier --help
err_has "help lists --planted" "--planted"
test_end
