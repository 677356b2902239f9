#!/usr/bin/env bash
# test_model_cli.sh — the model verbs end to end on the fixture models:
#   logits    case 1's T x V float32 file equals caseN.logits.f32 within the
#             fixture tolerance (max |d| / max |ref| < 1e-4), size T*V*4
#   hidden    size (L+1)*T*C*4 and values vs hidden.f32 (case 2)
#   generate  prints exactly the reference greedy new_ids; sampling is
#             reproducible for a seed
#   loglik    {"logprob": X, "greedy": B} with X within 1e-4 relative
#   embed     a JSON array of C floats with unit norm
# and the error paths: empty ids / continuation, id >= vocab, a model dir
# that does not load, a sequence longer than max_position_embeddings, bad
# flags — one "mnemo: ..." line, the documented exit status, nothing on
# stdout, and no --out file (or temp file) left behind.
# Needs MNEMO_BIN and MNEMO_SOURCE_DIR (set by CTest).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
FIX="$SRC/tests/fixtures/models"
. "$SRC/tests/cli/lib.sh"
test_begin test_model_cli

# json_array FILE KEY N — the N-th (1-based) array value of "KEY" in a
# pretty-printed JSON file, space-separated.
json_array() {
    awk -v key="\"$2\": \\[" -v want="$3" '
        $0 ~ key { n++; if (n == want) { grab = 1; next } }
        grab && /\]/ { exit }
        grab { gsub(/[ ,]/, ""); printf "%s%s", sep, $0; sep = " " }
        END { print "" }' "$1"
}

# json_number FILE KEY — the first number value of "KEY".
json_number() { grep -m1 "\"$2\":" "$1" | sed 's/.*: *//; s/,$//'; }

# max_rel GOT REF — max |got - ref| / max |ref| of two float32 files.
max_rel() {
    paste <(od -An -v -tf4 -w4 "$1") <(od -An -v -tf4 -w4 "$2") | awk '
        { d = $1 - $2; if (d < 0) d = -d; if (d > e) e = d
          r = $2 < 0 ? -$2 : $2; if (r > m) m = r; n++ }
        END { printf "%.3g\n", (m > 0 ? e / m : e) }'
}

# lt A B — A < B for floating-point strings.
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

for name in llama_tiny qwen2_tiny qwen3_tiny neox_tiny; do
    M="$FIX/$name"
    REF="$M/reference.json"
    V=$(json_number "$M/config.json" vocab_size)
    C=$(json_number "$M/config.json" hidden_size)
    L=$(json_number "$M/config.json" num_hidden_layers)

    # logits of case 1
    ids=$(json_array "$REF" ids 2)
    T=$(wc -w <<<"$ids")
    if "$BIN" logits --model "$M" --ids "$ids" --out "$TMP/logits.f32" --threads 2; then
        size=$(stat -c %s "$TMP/logits.f32")
        rel=$(max_rel "$TMP/logits.f32" "$M/case1.logits.f32")
        if [ "$size" -ne $((T * V * 4)) ]; then fail "$name logits: $size bytes, expected $((T * V * 4))"
        elif ! lt "$rel" 1e-4; then fail "$name logits: max rel err $rel"
        else ok "$name logits [$T, $V]: max rel err $rel"; fi
    else fail "$name logits: exit status $?"; fi

    # hidden states of case 2
    ids2=$(json_array "$REF" ids 3)
    T2=$(wc -w <<<"$ids2")
    if "$BIN" hidden --model "$M" --ids "$ids2" --out "$TMP/hidden.f32"; then
        size=$(stat -c %s "$TMP/hidden.f32")
        rel=$(max_rel "$TMP/hidden.f32" "$M/hidden.f32")
        if [ "$size" -ne $(((L + 1) * T2 * C * 4)) ]; then fail "$name hidden: $size bytes"
        elif ! lt "$rel" 1e-4; then fail "$name hidden: max rel err $rel (whole tensor)"
        else ok "$name hidden [$((L + 1)), $T2, $C]: max rel err $rel"; fi
    else fail "$name hidden: exit status $?"; fi

    # greedy generation through the KV cache
    want=$(json_array "$REF" new_ids 1)
    got=$("$BIN" generate --model "$M" --prompt-ids "$(json_array "$REF" prompt_ids 1)" --max-new-tokens 24)
    if [ "$got" = "$want" ]; then ok "$name generate: $got"
    else fail "$name generate: got '$got', expected '$want'"; fi

    # loglik of case 2: context = first token, continuation = the rest
    ctx=${ids2%% *}
    cont=${ids2#* }
    got=$("$BIN" loglik --model "$M" --context-ids "$ctx" --continuation-ids "$cont")
    ref_lp=$(json_number "$REF" sum_logprob)
    ref_greedy=$(json_number "$REF" is_greedy)
    lp=$(sed -n 's/^{"logprob": \([^,]*\), "greedy": \(true\|false\)}$/\1/p' <<<"$got")
    greedy=$(sed -n 's/.*"greedy": \(true\|false\)}$/\1/p' <<<"$got")
    rel=$(awk -v a="$lp" -v b="$ref_lp" 'BEGIN { d = (a - b) / b; printf "%.3g", d < 0 ? -d : d }')
    if [ -z "$lp" ]; then fail "$name loglik: output '$got'"
    elif ! lt "$rel" 1e-4 || [ "$greedy" != "$ref_greedy" ]; then fail "$name loglik: '$got' vs $ref_lp $ref_greedy"
    else ok "$name loglik: $got (ref $ref_lp, rel $rel)"; fi
done

M="$FIX/llama_tiny"
PROMPT="143 338 72 391 206 380 343"

# sampling: reproducible for a seed, and differs from greedy somewhere
a=$("$BIN" generate --model "$M" --prompt-ids "$PROMPT" --max-new-tokens 16 --temperature 1.5 --top-k 50 --top-p 0.95 --seed 11)
b=$("$BIN" generate --model "$M" --prompt-ids "$PROMPT" --max-new-tokens 16 --temperature 1.5 --top-k 50 --top-p 0.95 --seed 11 --threads 1)
g=$("$BIN" generate --model "$M" --prompt-ids "$PROMPT" --max-new-tokens 16)
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$g" ] && [ "$(wc -w <<<"$a")" -eq 16 ]; then ok "sampling reproducible: $a"
else fail "sampling: '$a' / '$b' (greedy '$g')"; fi
got=$("$BIN" generate --model "$M" --prompt-ids "$PROMPT" --max-new-tokens 0)
[ -z "$got" ] && ok "generate 0 tokens prints an empty line" || fail "generate 0 tokens: '$got'"

# embed: C floats of unit norm, last and mean differ
for pool in last mean; do
    got=$("$BIN" embed --model "$M" --ids "$PROMPT" --pooling $pool)
    norm=$(tr -d '[],' <<<"$got" | awk '{ for (i = 1; i <= NF; i++) s += $i * $i; n += NF } END { printf "%d %.6f", n, sqrt(s) }')
    if [ "$norm" = "64 1.000000" ]; then ok "embed --pooling $pool: 64 floats, norm 1"
    else fail "embed --pooling $pool: '$norm' from '$got'"; fi
done

# --- text mode ----------------------------------------------------------
# A byte-level tokenizer.json for llama_tiny's 512 ids whose decodings are
# easy to predict: ids 0-127 are the ASCII bytes, 128-511 the vocabulary
# entries "<tN>" (made of ASCII, so they decode to themselves), and the
# bytes 128-255, which would decode to U+FFFD alone, get ids 512-639 that
# the model never produces.
TM="$TMP/textmodel"
mkdir -p "$TM" && cp "$M"/config.json "$M"/*.safetensors "$TM"/ && chmod u+w "$TM"/*
write_bytelevel_tokenizer "$TM/tokenizer.json" --high-bytes-from 512 \
    --vocab "$(awk 'BEGIN { for (i = 128; i < 512; i++) printf "%s\"<t%d>\": %d", (i > 128 ? ", " : ""), i, i }')"

# expected_text FILE IDS... — the tokenizer's decoding of IDS, then "\n".
expected_text() {
    local f=$1 id
    shift
    : >"$f"
    for id in "$@"; do
        if [ "$id" -lt 128 ]; then printf "\\$(printf %03o "$id")" >>"$f"; else printf '<t%d>' "$id" >>"$f"; fi
    done
    printf '\n' >>"$f"
}

ids=$("$BIN" generate --model "$TM" --prompt-ids "104 101 108 108 111" --max-new-tokens 24)
"$BIN" generate --model "$TM" --prompt "hello" --max-new-tokens 24 >"$TMP/text.out"
expected_text "$TMP/text.want" $ids
if cmp -s "$TMP/text.out" "$TMP/text.want"; then ok "generate --prompt 'hello' prints the decoded greedy ids"
else fail "generate --prompt: text differs from the decoded ids ($ids)"; fi

# --stop on the first "<tN>" token from the 3rd on that did not occur
# before: the text is cut before it, the ids end with it
stop_id=""
n=0
seen=" "
for id in $ids; do
    n=$((n + 1))
    if [ "$n" -ge 3 ] && [ "$id" -ge 128 ] && [[ "$seen" != *" $id "* ]]; then stop_id=$id; break; fi
    seen="$seen$id "
done
if [ -z "$stop_id" ]; then fail "--stop: no <tN> token among the greedy ids ($ids)"
else
    "$BIN" generate --model "$TM" --prompt "hello" --max-new-tokens 24 --stop "<t$stop_id>" >"$TMP/stop.out"
    expected_text "$TMP/stop.want" $(cut -d' ' -f1-$((n - 1)) <<<"$ids")
    got_ids=$("$BIN" generate --model "$TM" --prompt-ids "104 101 108 108 111" --max-new-tokens 24 --stop "<t$stop_id>")
    if ! cmp -s "$TMP/stop.out" "$TMP/stop.want"; then fail "--stop '<t$stop_id>': text not cut before it"
    elif [ "$got_ids" != "$(cut -d' ' -f1-$n <<<"$ids")" ]; then fail "--stop '<t$stop_id>': ids '$got_ids'"
    else ok "--stop '<t$stop_id>': stops after token $n, text cut before it"; fi
fi

a=$("$BIN" embed --model "$TM" --text "hello")
b=$("$BIN" embed --model "$TM" --ids "104 101 108 108 111")
[ -n "$a" ] && [ "$a" = "$b" ] && ok "embed --text equals embed --ids of its encoding" || fail "embed --text: '$a' vs '$b'"

# --- errors -------------------------------------------------------------
OUT="$TMP/never.f32"
expect_error "empty --ids" 2 "--ids: empty token id list" -- logits --model "$M" --ids "" --out "$OUT"
expect_error "id >= vocab" 1 "--ids: token 3: id 512 >= vocab size 512" -- logits --model "$M" --ids "1 2 512" --out "$OUT"
expect_error "not an id" 2 "--ids: token 2: 'x' is not a token id" -- logits --model "$M" --ids "1 x" --out "$OUT"
expect_error "missing --out" 2 "--out: missing" -- logits --model "$M" --ids "1 2"
expect_error "model dir fails to load" 1 "$TMP/nothing" -- logits --model "$TMP/nothing" --ids "1" --out "$OUT"
long=$(printf '7 %.0s' $(seq 513))
expect_error "longer than max_position_embeddings" 1 "--ids: 513 tokens exceed max_position_embeddings 512" -- \
    logits --model "$M" --ids "$long" --out "$OUT"
expect_error "hidden id >= vocab" 1 "--ids: token 1: id 9999 >= vocab size 512" -- hidden --model "$M" --ids "9999" --out "$OUT"
expect_error "out dir missing" 1 "$TMP/no/dir/x.f32: cannot create" -- logits --model "$M" --ids "1 2" --out "$TMP/no/dir/x.f32"
if ls "$TMP" | grep -q never; then fail "an output or temp file was left behind: $(ls "$TMP")"
else ok "no output file left behind after the failures"; fi

expect_error "empty continuation" 2 "--continuation-ids: empty token id list" -- loglik --model "$M" --context-ids "1" --continuation-ids " "
expect_error "empty context" 2 "--context-ids: empty token id list" -- loglik --model "$M" --context-ids "" --continuation-ids "1"
expect_error "continuation id >= vocab" 1 "--continuation-ids: token 2: id 600 >= vocab size 512" -- loglik --model "$M" --context-ids "1" --continuation-ids "5 600"
expect_error "loglik too long" 1 "exceed max_position_embeddings 512" -- loglik --model "$M" --context-ids "$long" --continuation-ids "1"
expect_error "generate too long" 1 "--prompt-ids: 7 prompt + 600 new tokens exceed max_position_embeddings 512" -- generate --model "$M" --prompt-ids "$PROMPT" --max-new-tokens 600
expect_error "generate bad id" 1 "--prompt-ids: token 1: id 512 >= vocab size 512" -- generate --model "$M" --prompt-ids "512"
expect_error "generate bad top-p" 2 "--top-p" -- generate --model "$M" --prompt-ids "1" --top-p 0
expect_error "generate both prompts" 2 "exactly one of --prompt-ids and --prompt" -- generate --model "$M" --prompt-ids "1" --prompt "x"
expect_error "generate text without tokenizer" 1 "tokenizer.json" -- generate --model "$M" --prompt "hello"
expect_error "generate bad flag" 2 "unknown flag '--temp'" -- generate --model "$M" --prompt-ids "1" --temp 1
expect_error "embed bad pooling" 2 "--pooling: 'max' is not 'last' or 'mean'" -- embed --model "$M" --ids "1" --pooling max
expect_error "bad --threads" 2 "--threads" -- logits --model "$M" --ids "1" --out "$OUT" --threads 0

test_end
