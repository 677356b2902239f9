#!/usr/bin/python3
"""bm25_xapian.py — the Xapian side of bench/bench_bm25.sh, plus its query
sampling.
Runs on Debian's /usr/bin/python3; `index` and `search` need Debian's
python3-xapian (Xapian 1.4).

  bm25_xapian.py sample CORPUS.jsonl N SEED freq|uniform > Q.jsonl
      N 3-word OR queries; words are purely alphabetic lower-case corpus
      words (so Xapian's TermGenerator and mnemo's analyzer index them the
      same way), drawn by collection frequency (freq) or uniformly from the
      distinct words (uniform).
  bm25_xapian.py index CORPUS.jsonl DBDIR [--positions]
      one Xapian document per JSONL line: data = text, terms from
      TermGenerator (no stemmer), without positions unless --positions.
      Prints {"docs", "seconds"}.
  bm25_xapian.py search DBDIR Q.jsonl K K1 B OUT.jsonl
      top-K for each query as an OR of its words under
      BM25Weight(K1, k2=0, k3=1, B, min_normlen=0), fetching each hit's
      data (as mnemo prints each hit's text).  Timed per query
      (get_mset + data).  Prints {"queries", "seconds", "qps", "p50_us",
      "p99_us", "maxrss_kb"}; OUT gets {"query_id", "rank", "text"} lines.
"""
import json
import random
import re
import resource
import sys
import time
from collections import Counter


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100.0 * len(s)))]


def summary(lat_ns, seconds, maxrss_kb, n=None):
    n = len(lat_ns) if n is None else n
    return {"queries": n, "seconds": round(seconds, 4), "qps": round(n / seconds, 1),
            "p50_us": round(pct(lat_ns, 50) / 1e3, 1), "p99_us": round(pct(lat_ns, 99) / 1e3, 1),
            "maxrss_kb": maxrss_kb}


def read_queries(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def cmd_sample(corpus, n, seed, how):
    word = re.compile(r"[a-z]+")
    tok = re.compile(r"[^\W_]+")
    freq = Counter()
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            for t in tok.findall(json.loads(line)["text"].lower()):
                if word.fullmatch(t):
                    freq[t] += 1
    vocab = sorted(freq, key=lambda t: (-freq[t], t))
    weights = [freq[t] for t in vocab]
    rng = random.Random(seed)
    for i in range(n):
        if how == "freq":
            ws = rng.choices(vocab, weights, k=3)
        else:
            ws = [vocab[rng.randrange(len(vocab))] for _ in range(3)]
        print(json.dumps({"id": i, "text": " ".join(ws)}))


def cmd_index(corpus, dbdir, positions):
    import xapian
    t0 = time.perf_counter()
    db = xapian.WritableDatabase(dbdir, xapian.DB_CREATE_OR_OVERWRITE)
    tg = xapian.TermGenerator()
    n = 0
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"]
            doc = xapian.Document()
            doc.set_data(text)
            tg.set_document(doc)
            if positions:
                tg.index_text(text)
            else:
                tg.index_text_without_positions(text)
            db.add_document(doc)
            n += 1
    db.commit()
    db.close()
    print(json.dumps({"docs": n, "seconds": round(time.perf_counter() - t0, 3)}))


def cmd_search(dbdir, qpath, k, k1, b, out):
    import xapian
    db = xapian.Database(dbdir)
    enq = xapian.Enquire(db)
    enq.set_weighting_scheme(xapian.BM25Weight(k1, 0.0, 1.0, b, 0.0))
    qs = read_queries(qpath)
    lat = []
    res = []
    t0 = time.perf_counter()
    for q in qs:
        s = time.perf_counter_ns()
        query = xapian.Query(xapian.Query.OP_OR, q["text"].split())
        enq.set_query(query)
        mset = enq.get_mset(0, k)
        hits = [m.document.get_data() for m in mset]
        lat.append(time.perf_counter_ns() - s)
        res.append((q["id"], hits))
    seconds = time.perf_counter() - t0
    with open(out, "w", encoding="utf-8") as o:
        for qid, hits in res:
            for r, h in enumerate(hits):
                o.write(json.dumps({"query_id": qid, "rank": r + 1, "text": h.decode("utf-8")}) + "\n")
    print(json.dumps(summary(lat, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))


def main():
    a = sys.argv[1:]
    if a[:1] == ["sample"] and len(a) == 5:
        cmd_sample(a[1], int(a[2]), int(a[3]), a[4])
    elif a[:1] == ["index"] and len(a) in (3, 4):
        cmd_index(a[1], a[2], a[3:] == ["--positions"])
    elif a[:1] == ["search"] and len(a) == 7:
        cmd_search(a[1], a[2], int(a[3]), float(a[4]), float(a[5]), a[6])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
