#!/usr/bin/env bash
# test_demo_models.sh — mnemo against Hugging Face on the demo family
# (datasets/demo/models): the tokenizer gives reference.json's ids (from the
# `tokenizers` library), the last-position logits match transformers' within
# 1e-4 relative, and the greedy tokens (16, or up to EOS) are identical.  Also each model's
# training.json has N, D and compute = 6·N·D.
set -euo pipefail
SRC=${MNEMO_SOURCE_DIR:?}
BIN=${MNEMO_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for dir in "$SRC"/datasets/demo/models/*/; do
  dir=${dir%/}; ref=$dir/reference.json
  got=$(jq -cn --arg t "$(jq -r .prompt "$ref")" '{text:$t}' | "$BIN" tokenize --tokenizer "$dir/tokenizer.json" | jq -c .ids)
  want=$(jq -c .ids "$ref")
  [ "$got" = "$want" ] || { echo "FAIL $dir: ids $got, want $want"; exit 1; }
  "$BIN" logits --model "$dir" --ids "$(jq -r '.ids | join(" ")' "$ref")" --out "$tmp/l.f32"
  python3 - "$tmp/l.f32" "$ref" <<'PY'
import json, struct, sys
ref = json.load(open(sys.argv[2]))["last_logits"]
raw = open(sys.argv[1], "rb").read()
got = struct.unpack("<%df" % (len(raw) // 4), raw)[-len(ref):]
err = max(abs(a - b) for a, b in zip(got, ref)) / max(abs(b) for b in ref)
if not err < 1e-4:
    sys.exit("FAIL %s: logits max rel err %.3g" % (sys.argv[2], err))
print("%s: logits max rel err %.2g" % (sys.argv[2].split("/")[-2], err))
PY
  g=$("$BIN" generate --model "$dir" --prompt-ids "$(jq -r '.ids | join(" ")' "$ref")" --max-new-tokens 16)
  # the reference ran 16 steps without stopping; mnemo stops after EOS
  eos=$(jq .eos_token_id "$dir/config.json")
  want=$(jq -r --argjson e "$eos" '.greedy_new_ids | (index($e) // 15) as $i | .[:$i + 1] | join(" ")' "$ref")
  [ "$g" = "$want" ] || { echo "FAIL $dir: greedy $g, want $want"; exit 1; }
  jq -e '.params > 0 and .tokens > 0 and ((.compute - 6 * .params * .tokens) | fabs) < 1' "$dir/training.json" >/dev/null ||
    { echo "FAIL $dir/training.json"; exit 1; }
  n=$((n + 1))
done
[ "$n" -ge 4 ] || { echo "FAIL: only $n demo models"; exit 1; }
echo "$n demo models agree with Hugging Face"
