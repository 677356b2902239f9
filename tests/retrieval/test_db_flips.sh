#!/usr/bin/env bash
# test_db_flips.sh — `mnemo stats --deep` on 40 copies of a 1-shard DB, each
# with 20 random bytes of data.mdb flipped (the issue: plain stats passed 30
# of 40 such copies): every copy is either reported (exit 1, problems named
# by shard and table, or a crash inside LMDB caught and named with the
# shard and table being read; never a signal) or reads back exactly like the original (the same deep digest and
# the same search results).  Prints how many of each, and how many plain
# stats passed.  Slow under the sanitizers (each of the 120 runs), so
# labelled slow; test_dbcheck.c covers each kind of damage there.
# ctest-label: slow
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
test_begin test_db_flips
command -v perl >/dev/null || { fail "perl not found"; test_end; exit 1; }

# 3000 JSONL documents (~0.5 MB), skewed vocabulary: a DB of ~1.9 MB
awk 'BEGIN{srand(5); split("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega river stone house tree the running",W," ");
     for(i=0;i<3000;i++){n=int(rand()*60); s=""; for(j=0;j<n;j++){s=s (j?" ":"") W[1+int(rand()*rand()*32)]}
     printf "{\"id\": %d, \"text\": \"%s\"}\n", i, s}}' >"$TMP/c.jsonl"
run "ingest 1 shard" 0 ingest --db "$TMP/one" --shards 1 --chunk-tokens 24 --overlap 6 "$TMP/c.jsonl"
run "clean: stats --deep" 0 stats --db "$TMP/one" --deep

# --- random byte flips in copies of the 1-shard DB
cat >"$TMP/flip.pl" <<'EOF'
# flip.pl FILE SEED N — xor N random bytes of FILE with random non-zero values
my ($f, $seed, $n) = @ARGV;
srand($seed);
open(my $h, '+<', $f) or die "$f: $!";
binmode $h;
my $size = -s $f;
for (1 .. $n) {
    my $o = int(rand($size));
    seek($h, $o, 0); read($h, my $b, 1);
    seek($h, $o, 0); print $h chr(ord($b) ^ (1 + int(rand(255))));
}
close $h or die;
EOF
printf '{"id": 1, "text": "river stone"}\n{"id": 2, "text": "alpha omega tree"}\n{"id": 3, "text": "the house of kappa"}\n' \
    >"$TMP/q.jsonl"
"$BIN" stats --db "$TMP/one" --deep | jq -r .deep.digest >"$TMP/ref.digest"
"$BIN" search --db "$TMP/one" --queries "$TMP/q.jsonl" --k 5 >"$TMP/ref.hits"
reported=0 crashed=0 same=0 plain_ok=0
for seed in $(seq 1 40); do
    c="$TMP/flip"
    rm -rf "$c"
    cp -r "$TMP/one" "$c"
    perl "$TMP/flip.pl" "$c/shard-000/data.mdb" "$seed" 20 || fail "flip.pl"
    "$BIN" stats --db "$c" >/dev/null 2>&1 && plain_ok=$((plain_ok + 1))
    "$BIN" stats --db "$c" --deep >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "^mnemo: $c/shard-000: .*: reading the table crashed (signal" "$TMP/err"; then
        reported=$((reported + 1))
        crashed=$((crashed + 1))
        # a sanitizer build also prints the child's report: the crash must be LMDB's, not mnemo's
        if grep -q "Sanitizer\|runtime error" "$TMP/err" && ! grep -m1 '^ *#0 ' "$TMP/err" | grep -q liblmdb; then
            fail "seed $seed: a crash outside LMDB: $(grep -m3 '^ *#[0-9] ' "$TMP/err")"
        fi
    elif [ "$rc" -eq 1 ] && grep -q "^mnemo: $c/shard-000: " "$TMP/err" && ! grep -qv '^mnemo: ' "$TMP/err"; then
        reported=$((reported + 1))
    elif [ "$rc" -eq 1 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "^mnemo: $c" "$TMP/err"; then
        reported=$((reported + 1)) # no walk possible: shard 0's configuration is unreadable
    elif [ "$rc" -eq 0 ]; then
        "$BIN" search --db "$c" --queries "$TMP/q.jsonl" --k 5 >"$TMP/hits" 2>/dev/null
        if [ "$(jq -r .deep.digest "$TMP/out")" = "$(cat "$TMP/ref.digest")" ] && cmp -s "$TMP/hits" "$TMP/ref.hits"; then
            same=$((same + 1))
        else
            fail "seed $seed: stats --deep passed a copy that reads back differently (digest $(jq -r .deep.digest "$TMP/out"))"
        fi
    else
        fail "seed $seed: stats --deep exit status $rc: $(head -c 300 "$TMP/err")"
    fi
done
[ $((reported + same)) -eq 40 ] || fail "flips: $reported reported + $same unchanged != 40"
[ "$reported" -ge 20 ] || fail "flips: only $reported of 40 damaged copies reported"
echo "flips: 40 copies x 20 bytes: $reported reported ($crashed by a crash inside LMDB, caught), $same read back" \
     "identical; plain stats passed $plain_ok"
test_end
