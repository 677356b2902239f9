#!/usr/bin/env bash
# test_bad_checkpoint.sh — `mnemo inspect --model DIR` on broken checkpoints:
# each case builds a damaged copy of a fixture in a temp dir and asserts
# exit status 1, exactly one stderr line "mnemo: ..." containing the
# expected message, and nothing on stdout (in particular no crash, which
# would show as a status >= 128).  Also checks that the intact fixtures
# inspect cleanly.  Needs MNEMO_BIN and MNEMO_SOURCE_DIR (set by CTest).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
FIX="$SRC/tests/fixtures/models"
. "$SRC/tests/cli/lib.sh"
test_begin test_bad_checkpoint

# copy_fixture NAME -> prints a fresh writable copy's directory (runs in a
# subshell, so the name comes from mktemp, not a counter)
copy_fixture() {
    local d
    d=$(mktemp -d "$TMP/$1-XXXX") && cp "$FIX/$1"/config.json "$FIX/$1"/*.safetensors "$d"/ &&
        { [ ! -e "$FIX/$1/model.safetensors.index.json" ] || cp "$FIX/$1/model.safetensors.index.json" "$d"/; } &&
        chmod -R u+w "$d"
    echo "$d"
}

# patch FILE OLD NEW — overwrite the first occurrence of OLD with NEW (same
# length) in place, so the rest of a binary file keeps its offsets.
patch() {
    local f=$1 old=$2 new=$3 off
    [ ${#old} -eq ${#new} ] || { echo "patch: '$old' and '$new' differ in length" >&2; exit 2; }
    off=$(grep -obUaF -m1 -- "$old" "$f" | head -n1 | cut -d: -f1)
    [ -n "$off" ] || { echo "patch: '$old' not found in $f" >&2; exit 2; }
    printf '%s' "$new" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# expect_fail NAME DIR FRAGMENT... — inspect DIR fails with status 1, one
# "mnemo: " stderr line containing every FRAGMENT, nothing on stdout.
expect_fail() {
    local name=$1 dir=$2
    shift 2
    expect_error "$name" 1 "$@" -- inspect --model "$dir"
}

# --- safetensors damage -------------------------------------------------
d=$(copy_fixture llama_tiny)
head -c 300000 "$FIX/llama_tiny/model.safetensors" >"$d/model.safetensors"
expect_fail "truncated safetensors" "$d" \
    "$d/model.safetensors: tensor '" "out of data area (297848 bytes)"

d=$(copy_fixture llama_tiny)
head -c 5 "$FIX/llama_tiny/model.safetensors" >"$d/model.safetensors"
expect_fail "5-byte safetensors" "$d" "$d/model.safetensors: byte 0: file is 5 bytes, too short"

d=$(copy_fixture llama_tiny)
printf '\x3f\x42\x0f\x00\x00\x00\x00\x00' | dd of="$d/model.safetensors" bs=1 conv=notrunc status=none
expect_fail "header length past end of file" "$d" \
    "$d/model.safetensors: byte 8: header length 999999 runs past end of file (560488 bytes)"

d=$(copy_fixture llama_tiny)
printf '\xff\xff\xff\xff\xff\xff\xff\x7f' | dd of="$d/model.safetensors" bs=1 conv=notrunc status=none
expect_fail "absurd header length" "$d" "$d/model.safetensors: byte 0: header length" "absurdly large"

d=$(copy_fixture llama_tiny)
patch "$d/model.safetensors" '"data_offsets":[0,131072]' '"data_offsets":[0,131072}'
expect_fail "invalid JSON header" "$d" "$d/model.safetensors: byte" "header is not valid JSON"

d=$(copy_fixture llama_tiny)
patch "$d/model.safetensors" '[558080,558336]' '[558080,958336]'
expect_fail "data_offsets out of range" "$d" \
    "$d/model.safetensors: tensor 'model.norm.weight': data_offsets [558080, 958336] out of data area (558336 bytes)"

d=$(copy_fixture llama_tiny)
patch "$d/model.safetensors" '[131072,262144]' '[131071,262143]'
expect_fail "overlapping data_offsets" "$d" \
    "$d/model.safetensors: tensors 'lm_head.weight' and 'model.embed_tokens.weight' overlap at bytes [131071, 131072)"

d=$(copy_fixture llama_tiny)
patch "$d/model.safetensors" '"shape":[512,64],"data_offsets":[0,131072]' '"shape":[512,65],"data_offsets":[0,131072]'
expect_fail "shape vs byte size" "$d" "tensor 'lm_head.weight': shape [512, 65] of F32 needs 133120 bytes"

# --- checkpoint contradicts the config -----------------------------------
d=$(copy_fixture llama_tiny)
patch "$d/model.safetensors" '"model.norm.weight":{"dtype":"F32"' '"model.norm.weight":{"dtype":"I32"'
expect_fail "dtype contradicts config" "$d" \
    "$d/model.safetensors: tensor 'model.norm.weight': dtype I32 is not supported (F32, F16, BF16)"

d=$(copy_fixture qwen2_tiny)
patch "$d/model.safetensors" '"model.layers.0.mlp.down_proj.weight":{"dtype":"BF16","shape":[64,160]' \
                             '"model.layers.0.mlp.down_proj.weight":{"dtype":"BF16","shape":[160,64]'
expect_fail "shape contradicts config" "$d" \
    "$d/model.safetensors: tensor 'model.layers.0.mlp.down_proj.weight': shape [160, 64] but config says [64, 160]"

d=$(copy_fixture neox_tiny)
sed -i 's/"intermediate_size": 256/"intermediate_size": 255/' "$d/config.json"
expect_fail "config size contradicts tensors" "$d" \
    "tensor 'gpt_neox.layers.0.mlp.dense_h_to_4h.weight': shape [256, 64] but config says [255, 64]"

d=$(copy_fixture llama_tiny)
patch "$d/model.safetensors" '"model.norm.weight"' '"model.norx.weight"'
expect_fail "missing tensor" "$d" "$d/model.safetensors: tensor 'model.norm.weight': missing"

d=$(copy_fixture qwen3_tiny)
rm "$d/model-00002-of-00003.safetensors"
expect_fail "missing shard" "$d" \
    "$d/model-00002-of-00003.safetensors: cannot open: No such file or directory (named by $d/model.safetensors.index.json)"

d=$(copy_fixture qwen3_tiny)
patch "$d/model.safetensors.index.json" '"model.norm.weight": "model-00003' '"model.norm.weight": "model-00001'
expect_fail "index names the wrong shard" "$d" \
    "$d/model-00001-of-00003.safetensors: tensor 'model.norm.weight': not found"

d=$(copy_fixture llama_tiny)
rm "$d/model.safetensors"
expect_fail "no weights" "$d" "$d/model.safetensors: cannot open"

# --- malformed config.json ---------------------------------------------
d=$(copy_fixture llama_tiny)
head -c 200 "$FIX/llama_tiny/config.json" >"$d/config.json"
expect_fail "truncated config.json" "$d" "$d/config.json: line" "invalid JSON"

d=$(copy_fixture llama_tiny)
sed -i 's/"hidden_size": 64/"hidden_size": -64/' "$d/config.json"
expect_fail "negative hidden_size" "$d" "$d/config.json: key 'hidden_size': value -64 is outside"

d=$(copy_fixture llama_tiny)
sed -i 's/"num_key_value_heads": 2/"num_key_value_heads": 3/' "$d/config.json"
expect_fail "kv heads not dividing" "$d" "$d/config.json: key 'num_key_value_heads': 3 does not divide"

d=$(copy_fixture llama_tiny)
sed -i 's/"rope_type": "llama3"/"rope_type": "yarn"/' "$d/config.json"
expect_fail "unsupported rope type" "$d" "$d/config.json: key 'rope_parameters.rope_type': rope type 'yarn' is not supported"

d=$(copy_fixture neox_tiny)
sed -i 's/"hidden_act": "gelu"/"hidden_act": "gelu_new"/' "$d/config.json"
expect_fail "unsupported activation" "$d" "$d/config.json: key 'hidden_act': activation 'gelu_new' is not supported"

d=$(copy_fixture llama_tiny)
sed -i 's/"LlamaForCausalLM"/"MistralForCausalLM"/' "$d/config.json"
expect_fail "unsupported architecture" "$d" "architecture 'MistralForCausalLM' is not supported"

d="$TMP/empty"; mkdir -p "$d"
expect_fail "empty directory" "$d" "$d/config.json: cannot open: No such file or directory"

# --- intact fixtures ---------------------------------------------------
for m in llama_tiny qwen2_tiny qwen3_tiny neox_tiny; do
    if out=$("$BIN" inspect --model "$FIX/$m" 2>"$TMP/err") && [ ! -s "$TMP/err" ] &&
        [[ "$out" == *'"architecture": '* && "$out" == *'"ignored_tensors": []'* ]]; then
        ok "inspect $m"
    else
        fail "inspect $m: $(cat "$TMP/err")"
    fi
done

run "missing --model is a usage error" 2 inspect

test_end
