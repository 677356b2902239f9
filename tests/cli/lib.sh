# tests/cli/lib.sh — helpers shared by the shell tests (tests/**/test_*.sh).
# Sourced, not a test: the ctest glob only picks up test_*.sh.  Not a
# framework: a failure counter, running the binary with its output in
# files, a few checks on those files, and the byte-level tokenizer.json the
# model tests give to the fixture checkpoints (which ship without one).
#
#   set -u
#   SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
#   . "$SRC/tests/cli/lib.sh"
#   test_begin test_foo              # BIN, TMP (removed on exit), fails=0
#   run "name" 0 verb --flag ...     # checks, each counts a failure
#   err_has "name" "fragment"
#   test_end                         # last line: "test_foo: N failed", status
#
# Every check counts a failure and goes on; test_end's status (0 iff no
# failure) is the script's exit status.

# test_begin NAME — the test's name (for test_end), BIN from MNEMO_BIN
# (exits if unset), a fresh temp dir TMP removed on exit, fails=0.
test_begin() {
    TEST_NAME=$1
    BIN=${MNEMO_BIN:?MNEMO_BIN not set}
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/mnemo-$1-XXXXXX") || { echo "FAIL: $1: mktemp" >&2; exit 1; }
    trap 'rm -rf "$TMP"' EXIT
    fails=0
}

# test_end — prints "NAME: N failed"; status 0 iff no check failed.  Make it
# the script's last command.
test_end() {
    echo "$TEST_NAME: $fails failed"
    [ "$fails" -eq 0 ]
}

# fail MESSAGE... — count a failure and say why (on stderr).
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# ok MESSAGE... — report a passed check.
ok() { echo "ok   $*"; }

# run NAME EXPECTED_RC ARGS... — runs "$BIN" ARGS (stdin inherited: redirect
# the call for input), stdout in $TMP/out, stderr in $TMP/err; checks only
# the exit status.
run() {
    local name=$1 want_rc=$2 rc
    shift 2
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" -eq "$want_rc" ]; then ok "$name"
    else fail "$name: exit status $rc, expected $want_rc (stderr: $(head -c 400 "$TMP/err"))"; fi
}

# err_has NAME FRAGMENT / out_has NAME FRAGMENT — the last run's stderr /
# stdout contains FRAGMENT (a fixed string).
err_has() { grep -qF -- "$2" "$TMP/err" || fail "$1: stderr lacks '$2': $(head -c 400 "$TMP/err")"; }
out_has() { grep -qF -- "$2" "$TMP/out" || fail "$1: stdout lacks '$2': $(head -c 400 "$TMP/out")"; }

# expect_error NAME EXPECTED_RC FRAGMENT... -- ARGS... — the CLI's error
# contract: runs "$BIN" ARGS like run and checks the exit status, an empty
# stdout, a stderr of exactly one line starting "mnemo: " and containing
# every FRAGMENT.  One failure (listing every broken point) or one ok line.
expect_error() {
    local name=$1 want_rc=$2 rc msg bad="" frag
    local -a frags=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do frags+=("$1"); shift; done
    [ $# -gt 0 ] || { echo "expect_error $name: no '--' before the command" >&2; exit 2; }
    shift
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    msg=$(cat "$TMP/err")
    [ "$rc" -eq "$want_rc" ] || bad="exit status $rc, expected $want_rc"
    [ -s "$TMP/out" ] && bad="$bad; stdout not empty"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] || bad="$bad; stderr has $(wc -l <"$TMP/err") lines"
    [[ "$msg" == "mnemo: "* ]] || bad="$bad; stderr does not start with 'mnemo: '"
    for frag in "${frags[@]}"; do
        [[ "$msg" == *"$frag"* ]] || bad="$bad; missing '$frag'"
    done
    if [ -n "$bad" ]; then fail "$name: ${bad#; }
     stderr: $msg"
    else ok "$name: $msg"; fi
}

# write_bytelevel_tokenizer FILE [--high-bytes-from ID] [--vocab MEMBERS]
#                                [--merges ITEMS] [--added ITEMS]
# Writes a GPT-2 style byte-level BPE tokenizer.json (ByteLevel pre-tokenizer
# and decoder, no normalizer, no post-processor) whose vocabulary maps byte b
# (as its bytes_to_unicode character) to id b, or for b >= 128 to
# ID + b - 128 with --high-bytes-from ID.  --vocab appends JSON object
# members ('"no": 256, "ye": 257'), --merges sets the merges array's items
# ('"n o", "y e"'), --added the added_tokens array's items (see
# added_token_json).  Without options: 256 byte tokens, no merges.
write_bytelevel_tokenizer() {
    local file=$1 high=128 vocab="" merges="" added=""
    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --high-bytes-from) high=$2 ;;
        --vocab) vocab=$2 ;;
        --merges) merges=$2 ;;
        --added) added=$2 ;;
        *) echo "write_bytelevel_tokenizer: unknown option '$1'" >&2; exit 2 ;;
        esac
        shift 2
    done
    {
        printf '{"version": "1.0", "added_tokens": [%s], "normalizer": null, ' "$added"
        printf '"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}, '
        printf '"post_processor": null, '
        printf '"decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}, '
        printf '"model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null, '
        printf '"end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false, "vocab": {'
        awk -v high="$high" 'BEGIN {
            n = 0
            for (b = 0; b < 256; b++) {   # GPT-2 bytes_to_unicode
                cp = ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174)) ? b : 256 + n++
                printf "%s\"\\u%04x\": %d", (b ? ", " : ""), cp, (b < 128 ? b : high + b - 128)
            }
        }'
        printf '%s%s}, "merges": [%s]}}\n' "${vocab:+, }" "$vocab" "$merges"
    } >"$file"
}

# added_token_json ID CONTENT SPECIAL(true|false) — one added_tokens item
# (CONTENT must not need JSON escaping).
added_token_json() {
    printf '{"id": %d, "content": "%s", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": %s}' \
        "$1" "$2" "$3"
}

# qwen3_fixture_model DIR — the tiny Qwen3-vocabulary fixture model
# (tests/fixtures/eval/qwen3_vocab) with the real Qwen3 tokenizer.json beside
# it, copied into DIR; fails (and returns 1) when deps/tokenizers is missing.
qwen3_fixture_model() {
    mkdir -p "$1"
    cp "$SRC"/tests/fixtures/eval/qwen3_vocab/*.json "$SRC"/tests/fixtures/eval/qwen3_vocab/*.safetensors "$1"/
    cp "$SRC/deps/tokenizers/qwen3/tokenizer.json" "$1"/ ||
        { fail "deps/tokenizers/qwen3 missing (scripts/fetch-tokenizers.sh)"; return 1; }
}
