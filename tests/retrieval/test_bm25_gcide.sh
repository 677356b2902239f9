#!/usr/bin/env bash
# test_bm25_gcide.sh — acceptance criterion 1 of issue 3: `mnemo search`
# BM25 equals a straightforward reference (tests/retrieval/bm25_reference.py,
# Debian's python3) on a real corpus of more than 20 MB: GCIDE, Debian's
# dict-gcide (126,236 dictionary entries, 40 MB of text, 129,271 chunks of
# at most 256 words), converted by scripts/corpus-gcide.sh.  600 queries of
# 1-4 words sampled deterministically from the corpus vocabulary (by
# frequency and uniformly), with and without Porter stemming: every top-10
# list must be identical (ties broken by the smaller chunk id), every score
# within 1e-5 relative, every hit's text the chunk the reference derived
# for its id.  The reference's Porter stemmer is its own, cross-checked
# against Snowball's; its comparison is itself checked on mutated hits.
# Takes about a minute and a half on 2 cores.  Needs MNEMO_BIN (set by
# CTest), dict-gcide, python3 and libstemmer0d (scripts/setup.sh).  Labelled
# slow: the release ctest run includes it, the sanitizer runs skip it (it
# passes under ASan/UBSan too, in about 95 s).
# ctest-label: slow
# ctest-cost: 95
set -u
SRC=${MNEMO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/cli/lib.sh"
test_begin test_bm25_gcide
PY=/usr/bin/python3
REF=$SRC/tests/retrieval/bm25_reference.py

if [ ! -r /usr/share/dictd/gcide.dict.dz ] || [ ! -x "$PY" ]; then
    echo "FAIL: needs Debian's dict-gcide and python3 (run scripts/setup.sh as root)" >&2
    exit 1
fi
bash "$SRC/scripts/corpus-gcide.sh" "$TMP/gcide.jsonl" || { echo "FAIL: corpus-gcide.sh" >&2; exit 1; }
size=$(stat -c %s "$TMP/gcide.jsonl")
[ "$size" -ge 20000000 ] || fail "corpus is $size bytes, under 20 MB"

"$PY" "$REF" queries --corpus "$TMP/gcide.jsonl" --count 600 --seed 3 >"$TMP/queries.jsonl" ||
    { echo "FAIL: query sampling" >&2; exit 1; }
nq=$(grep -c . "$TMP/queries.jsonl")
[ "$nq" -ge 500 ] || fail "only $nq queries"

for stem in none porter; do
    db=$TMP/db-$stem
    if ! "$BIN" ingest --db "$db" --shards 1 --stem "$stem" "$TMP/gcide.jsonl" 2>"$TMP/ingest.err"; then
        fail "ingest --stem $stem: $(tail -c 300 "$TMP/ingest.err")"
        continue
    fi
    if ! "$BIN" search --db "$db" --queries "$TMP/queries.jsonl" --k 10 >"$TMP/hits-$stem.jsonl" 2>"$TMP/search.err"; then
        fail "search --stem $stem: $(tail -c 300 "$TMP/search.err")"
        continue
    fi
    "$PY" "$REF" check --corpus "$TMP/gcide.jsonl" --queries "$TMP/queries.jsonl" \
        --results "$TMP/hits-$stem.jsonl" --stem "$stem" --k 10 || fail "BM25 differs from the reference (stem=$stem)"
done

test_end
