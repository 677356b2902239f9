#!/usr/bin/env bash
# test_store_space.sh — issue 12 finding 5 and the full disk of finding 10,
# through `mnemo ingest`:
#   - the map grows: with its floor lowered to 64 KiB (MNEMO_STORE_MAP_MIN;
#     the writer's map then starts at 1 MiB) an ingest of ~3 MB fills the
#     map several times, redoes those batches after growing it, and ends
#     with the same DB (stats, content hash) as an ingest with the default
#     map;
#   - a full disk (a 3 MiB tmpfs in a private mount namespace) stops the
#     ingest with one line "no space left on the device (N MB free on the
#     file system of DIR)" (53b913b: "commit: Input/output error"), and the
#     same command completes once there is room, with the same DB.  Skipped
#     with a note where no tmpfs can be mounted (no root, no user
#     namespaces).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_store_space

python3 - "$TMP/corpus.jsonl" <<'EOF'
import json, random, sys
r = random.Random(12)
words = ["w%d" % i for i in range(3000)]
with open(sys.argv[1], "w") as f:
    for i in range(1500):
        f.write(json.dumps({"id": "d%d" % i, "text": " ".join(r.choice(words) for _ in range(300))}) + "\n")
EOF
ING=(ingest --shards 2 --batch 100 --chunk-tokens 64 --overlap 8 "$TMP/corpus.jsonl")

# --- the map grows --------------------------------------------------------------
run "ingest, default map" 0 "${ING[@]}" --db "$TMP/a"
MNEMO_STORE_MAP_MIN=65536 "$BIN" "${ING[@]}" --db "$TMP/b" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] && ok "ingest, 1 MiB map to start" || fail "ingest, 1 MiB map to start: exit $rc: $(tail -c 400 "$TMP/err")"
"$BIN" stats --db "$TMP/a" >"$TMP/sa" 2>&1
"$BIN" stats --db "$TMP/b" >"$TMP/sb" 2>&1
size=$(stat -c %s "$TMP/b/shard-000/data.mdb")
[ "$size" -gt $((2 << 20)) ] || fail "the shard has $size bytes: too small to have filled a 1 MiB map"
cmp -s "$TMP/sa" "$TMP/sb" && grep -q content_hash "$TMP/sa" && ok "grown map: same DB as the default map" \
    || fail "grown map: stats differ: $(diff "$TMP/sa" "$TMP/sb" | head -5)"

# --- a full disk ----------------------------------------------------------------
# Run "$@" in a private mount namespace where $TMP/small is a 3 MiB tmpfs,
# remounted with room after the first command when ROOM=1.
full_disk() {
    local ns=(unshare -m)
    [ "$(id -u)" -eq 0 ] || ns=(unshare -rm)
    mkdir -p "$TMP/small"
    "${ns[@]}" bash -c '
        d=$1
        shift
        mount -t tmpfs -o size=3m tmpfs "$d" || exit 97
        "$@" >"$TMP/out" 2>"$TMP/err"; echo $? >"$TMP/rc1"
        mount -o remount,size=64m "$d" || exit 98
        "$@" >"$TMP/out2" 2>"$TMP/err2"; echo $? >"$TMP/rc2"
        "$BIN" stats --db "$DB_SMALL" >"$TMP/sc" 2>&1
    ' _ "$TMP/small" "$@"
}
export TMP BIN
export DB_SMALL=$TMP/small/db
full_disk "$BIN" "${ING[@]}" --db "$TMP/small/db" 2>"$TMP/ns.err"
case $? in
97|1) if [ ! -f "$TMP/rc1" ]; then
          echo "skipped: full disk (cannot mount a tmpfs here: $(head -c 200 "$TMP/ns.err"))"
          test_end
          exit
      fi ;;
esac
rc1=$(cat "$TMP/rc1")
msg=$(cat "$TMP/err" | grep -v '^mnemo: ingest: [0-9]' | tail -1)
if [ "$rc1" -eq 1 ] && [[ "$msg" == "mnemo: $TMP/small/db/shard-00"*": no space left on the device ("*" MB free on the file system of $TMP/small/db/shard-00"* ]]; then
    ok "full disk: one line saying so"
else
    fail "full disk: exit $rc1: $msg"
fi
[ "$(cat "$TMP/rc2")" -eq 0 ] && ok "full disk: the same command completes once there is room" \
    || fail "full disk: rerun: exit $(cat "$TMP/rc2"): $(tail -c 300 "$TMP/err2")"
sed "s|$TMP/small/db|X|g" "$TMP/sc" >"$TMP/sc2"
cmp -s "$TMP/sa" "$TMP/sc2" && ok "full disk: then the same DB as an uninterrupted ingest" \
    || fail "full disk: stats differ: $(diff "$TMP/sa" "$TMP/sc2" | head -5)"

test_end
