#!/usr/bin/env bash
# bench_bm25.sh — BM25 ingest and search, mnemo against Xapian 1.4 (Debian
# python3-xapian), side by side on the GCIDE corpus (scripts/corpus-gcide.sh:
# 126,236 dictionary entries, 40 MB of text).
#
#   bash bench/bench_bm25.sh [BUILD_DIR (default build)] [ROUNDS (default 3)]
#
# Both engines index the same JSONL, one document per entry (mnemo with
# --chunk-tokens 1000000 --overlap 0, so no entry is split; 7 exact
# duplicate entries are dropped by mnemo's dedup), and rank with BM25 at
# k1 = 0.9, b = 0.4 (Xapian: BM25Weight(0.9, k2=0, k3=1, 0.4, min_normlen=0)).
# Measured, ROUNDS times with the engines interleaved (medians reported,
# since memory bandwidth drifts between runs):
#   - ingest: wall time of `mnemo ingest --shards 1` and of Xapian's
#     TermGenerator indexing (no positions: mnemo stores none), MB/s of
#     document text (39.8 MB);
#   - top-10 for 3-word OR queries, words drawn by collection frequency
#     (500 queries) or uniformly from the vocabulary (5,000 queries): mnemo
#     in one process (bench_bm25: per-query latency, hit texts fetched)
#     and as the CLI (`mnemo search --queries`, output to /dev/null, the
#     whole process timed); Xapian in one Python process (get_mset + each
#     hit's data, timed per query, Python call overhead included);
#   - peak RSS of the search processes against the size of their DBs
#     (mnemo's split into heap and mapped DB pages);
#   - agreement: mean overlap of the two engines' top-10 sets (by text).
# Writes bench/out/bm25/results.json and prints a summary.  Needs
# python3-xapian (installed here with apt-get when missing; not part of
# scripts/setup.sh) and a built BUILD_DIR (mnemo, bench/bench_bm25).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ROUNDS=${2:-3}
PY=/usr/bin/python3
X=bench/bm25_xapian.py
OUT=bench/out/bm25
MNEMO=$BUILD/mnemo
LAT=$BUILD/bench/bench_bm25
K1=0.9 B=0.4
for f in "$MNEMO" "$LAT"; do
  [ -x "$f" ] || { echo "bench_bm25: $f missing: cmake --build $BUILD" >&2; exit 1; }
done
if ! "$PY" -c 'import xapian' 2>/dev/null; then
  echo "bench_bm25: installing python3-xapian" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-xapian >/dev/null
fi
mkdir -p "$OUT"
C=$OUT/gcide.jsonl
[ -s "$C" ] || bash scripts/corpus-gcide.sh "$C"
"$PY" $X sample "$C" 500 1 freq >"$OUT/q-freq.jsonl"
"$PY" $X sample "$C" 5000 2 uniform >"$OUT/q-uniform.jsonl"

secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f", e - s }'; }
R=$OUT/raw.jsonl
: >"$R"
for r in $(seq "$ROUNDS"); do
  rm -rf "$OUT/db-mnemo" "$OUT/db-xapian"
  t=$(secs "$MNEMO" ingest --db "$OUT/db-mnemo" --shards 1 --chunk-tokens 1000000 --overlap 0 "$C")
  echo "{\"what\": \"ingest\", \"engine\": \"mnemo\", \"seconds\": $t}" >>"$R"
  t=$(secs "$PY" $X index "$C" "$OUT/db-xapian")
  echo "{\"what\": \"ingest\", \"engine\": \"xapian\", \"seconds\": $t}" >>"$R"
  echo "bench_bm25: round $r: ingest done" >&2
done
rm -rf "$OUT/db-mnemo-chunked" "$OUT/db-xapian-pos"
t=$(secs "$MNEMO" ingest --db "$OUT/db-mnemo-chunked" --shards 1 "$C")
echo "{\"what\": \"ingest-chunked256\", \"engine\": \"mnemo\", \"seconds\": $t}" >>"$R"
t=$(secs "$PY" $X index "$C" "$OUT/db-xapian-pos" --positions)
echo "{\"what\": \"ingest-positions\", \"engine\": \"xapian\", \"seconds\": $t}" >>"$R"

for r in $(seq "$ROUNDS"); do
  for qs in freq uniform; do
    Q=$OUT/q-$qs.jsonl
    echo "{\"what\": \"search-$qs\", \"engine\": \"mnemo\", \"r\": $("$LAT" "$OUT/db-mnemo" "$Q" 10 $K1 $B)}" >>"$R"
    echo "{\"what\": \"search-$qs\", \"engine\": \"xapian\", \"r\": $("$PY" $X search "$OUT/db-xapian" "$Q" 10 $K1 $B "$OUT/hits-xapian-$qs.jsonl")}" >>"$R"
    s=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$OUT/cli.rss" "$MNEMO" search --db "$OUT/db-mnemo" --queries "$Q" --k 10 --k1 $K1 --b $B \
      >"$OUT/hits-mnemo-$qs.jsonl"
    e=$(date +%s.%N)
    echo "{\"what\": \"search-$qs\", \"engine\": \"mnemo-cli\", \"seconds\": $(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f", e - s }'), \"maxrss_kb\": $(cat "$OUT/cli.rss")}" >>"$R"
  done
  echo "bench_bm25: round $r: search done" >&2
done

"$PY" - "$OUT" "$C" <<'EOF'
import json, os, statistics, subprocess, sys
out, corpus = sys.argv[1:3]
rows = [json.loads(l) for l in open(f"{out}/raw.jsonl")]
mb = 39811755 / 1e6  # document text bytes (mnemo stats "bytes")
def med(what, engine, key=None):
    xs = [(r["r"][key] if key else r["seconds"]) for r in rows if r["what"] == what and r["engine"] == engine]
    return statistics.median(xs)
def dusize(d):
    return int(subprocess.check_output(["du", "-sb", d]).split()[0])
res = {"corpus_mb": mb, "ingest": {}, "search": {}}
for e in ("mnemo", "xapian"):
    s = med("ingest", e)
    res["ingest"][e] = {"seconds": s, "mb_per_s": mb / s}
res["ingest"]["mnemo_chunked256"] = {"seconds": med("ingest-chunked256", "mnemo")}
res["ingest"]["xapian_positions"] = {"seconds": med("ingest-positions", "xapian")}
res["db_bytes"] = {"mnemo": dusize(f"{out}/db-mnemo"), "xapian": dusize(f"{out}/db-xapian")}
for qs in ("freq", "uniform"):
    d = {}
    for e in ("mnemo", "xapian"):
        d[e] = {k: med(f"search-{qs}", e, k) for k in ("qps", "p50_us", "p99_us", "maxrss_kb")}
    d["mnemo"]["rss_anon_kb"] = med(f"search-{qs}", "mnemo", "rss_anon_kb")
    cli = [r for r in rows if r["what"] == f"search-{qs}" and r["engine"] == "mnemo-cli"]
    nq = sum(1 for l in open(f"{out}/q-{qs}.jsonl") if l.strip())
    d["mnemo_cli"] = {"qps": nq / statistics.median(r["seconds"] for r in cli),
                      "maxrss_kb": max(r["maxrss_kb"] for r in cli)}
    hits = {}
    for e in ("mnemo", "xapian"):
        h = {}
        for l in open(f"{out}/hits-{e}-{qs}.jsonl", encoding="utf-8"):
            j = json.loads(l)
            h.setdefault(j["query_id"], set()).add(j["text"].strip())
        hits[e] = h
    ov = [len(hits["mnemo"].get(q, set()) & hits["xapian"].get(q, set())) /
          max(1, max(len(hits["mnemo"].get(q, ())), len(hits["xapian"].get(q, ()))))
          for q in range(nq)]
    d["top10_overlap"] = sum(ov) / nq
    d["queries"] = nq
    res["search"][qs] = d
json.dump(res, open(f"{out}/results.json", "w"), indent=2)
i = res["ingest"]
print(f"ingest: mnemo {i['mnemo']['seconds']:.2f} s ({i['mnemo']['mb_per_s']:.1f} MB/s), "
      f"xapian {i['xapian']['seconds']:.2f} s ({i['xapian']['mb_per_s']:.1f} MB/s): "
      f"mnemo/xapian speed {i['xapian']['seconds'] / i['mnemo']['seconds']:.2f}x; "
      f"mnemo 256-word chunks {i['mnemo_chunked256']['seconds']:.2f} s, xapian with positions "
      f"{i['xapian_positions']['seconds']:.2f} s")
print(f"DB size: mnemo {res['db_bytes']['mnemo'] / 1e6:.1f} MB, xapian {res['db_bytes']['xapian'] / 1e6:.1f} MB")
for qs, d in res["search"].items():
    m, x, c = d["mnemo"], d["xapian"], d["mnemo_cli"]
    print(f"{qs} ({d['queries']} queries): mnemo {m['qps']:.0f} q/s p50 {m['p50_us']:.0f} us p99 {m['p99_us']:.0f} us "
          f"RSS {m['maxrss_kb'] / 1024:.0f} MiB (heap {m['rss_anon_kb'] / 1024:.1f} MiB) | cli {c['qps']:.0f} q/s RSS {c['maxrss_kb'] / 1024:.0f} MiB | "
          f"xapian {x['qps']:.0f} q/s p50 {x['p50_us']:.0f} us p99 {x['p99_us']:.0f} us RSS {x['maxrss_kb'] / 1024:.0f} MiB"
          f" | q/s ratio mnemo/xapian {m['qps'] / x['qps']:.2f} (cli {c['qps'] / x['qps']:.2f}), "
          f"top-10 overlap {d['top10_overlap']:.3f}")
EOF
