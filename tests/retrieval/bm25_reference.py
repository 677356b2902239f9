#!/usr/bin/python3
"""bm25_reference.py — a straightforward BM25 over a JSONL corpus, written
independently of src/ to check `mnemo search` (acceptance criterion 1 of
issue 3).  Runs on Debian's /usr/bin/python3, standard library only.

    bm25_reference.py queries --corpus C.jsonl --count N --seed S > Q.jsonl
    bm25_reference.py check --corpus C.jsonl --queries Q.jsonl \
        --results R.jsonl --stem none|porter [--k 10] [--k1 0.9] [--b 0.4]

`queries` samples N queries of 1-4 words from the corpus vocabulary
(deterministic for a seed): each word is drawn either by collection
frequency (frequent words such as "the", "of") or uniformly from the
distinct words (mostly rare ones), some capitalised, joined by spaces or
punctuation, and a few with a word absent from the corpus.

`check` rebuilds what `mnemo ingest --shards 1` stores from the same corpus
with the default word chunking (256 words, overlap 32), scores every query
with BM25 and compares with R.jsonl, the output of `mnemo search --k K`:
the same hits in the same order (ties broken by smaller chunk id), each
score within 1e-5 relative, and each hit's text equal to the chunk text the
reference derived for that chunk id.  Prints a diagnosis of every mismatch
(first 20) and a summary; exits 1 on any mismatch.

What is mirrored, each written here from the documented rule:
  - corpus: field "text" of each line; a word is a run of bytes other than
    ASCII whitespace; chunks are windows of 256 words starting every 224
    words, the last being the first window reaching the end; a chunk's text
    is the bytes from its first word's start to its last word's end
    (src/retrieval/chunker.h).  Exact duplicate chunk texts are dropped,
    the first occurrence kept; with one shard, chunk ids are 0, 1, 2, ...
    in order of first occurrence (src/retrieval/ingest.h).
  - analyzer (src/retrieval/analyzer.h, v1): a token is a maximal run of
    code points of general category L* or N*, a mark (M*) continuing a
    token and dropped elsewhere; lower-casing is Unicode's simple lower-case
    mapping per code point.  Python's str.lower() applies the full mapping
    from SpecialCasing.txt, which differs from the simple mapping for one
    code point only (U+0130 -> "i" + U+0307 instead of "i"), and the
    final-sigma rule, which only applies inside a longer string; so each
    code point is lowered on its own and U+0130 is special-cased.  Runs of
    more than 255 bytes (after lowering) are cut greedily into tokens of at
    most 255 bytes.  Categories come from Python's unicodedata (Unicode
    14.0 in Debian 12's python3; utf8proc 2.8 has 15.0): the corpus'
    non-ASCII code points are listed with their category so a difference
    would show.
  - Porter stemming: the original algorithm (Porter 1980) with the three
    departures of Martin Porter's reference implementation that Lucene's
    PorterStemmer also has (words of <= 2 characters unchanged; step 2
    BLI -> BLE replacing ABLI -> ABLE; extra step 2 rule LOGI -> LOG), over
    UTF-16 code units as Lucene does (any non-aeiou letter, and y after a
    vowel, is a consonant).  It is written below from the paper, not taken
    from src/retrieval/porter.c.  As an independent check it is compared
    with Snowball's "porter" (Debian's libstemmer0d, through ctypes) on
    every ASCII corpus word: every difference must be one of the three
    departures above or Snowball's narrower undoubling (Snowball undoubles
    only bb dd ff gg mm nn pp rr tt after -ed/-ing; the paper and Lucene
    undouble any doubled consonant but l, s, z).
  - BM25 (src/retrieval/bm25.h, Lucene's as Pyserini uses it) in double:
    idf = ln(1 + (N - df + 0.5) / (df + 0.5)), term score = qtf * idf * tf /
    (tf + k1 * (1 - b + b * dl / avgdl)), N = chunks with >= 1 term, avgdl =
    total terms / N; query terms are the distinct analyzed terms with their
    counts, summed per document in order of first occurrence in the query.
"""
import argparse
import ctypes
import ctypes.util
import heapq
import json
import math
import random
import re
import sys
import unicodedata
from collections import Counter

MAX_TERM_BYTES = 255
CHUNK_SIZE, CHUNK_OVERLAP = 256, 32
WORD_RE = re.compile(rb"[^ \t\n\v\f\r]+")
ASCII_TOKEN_RE = re.compile(r"[a-z0-9]+")

# ---------------------------------------------------------------- analyzer

_lower_cache = {}


def simple_lower(ch):
    """Unicode simple lower-case mapping of one code point."""
    r = _lower_cache.get(ch)
    if r is None:
        if ch == "\u0130":
            r = "i"
        else:
            r = ch.lower()
            if len(r) != 1:
                raise SystemExit(f"bm25_reference: U+{ord(ch):04X}: multi-character lower case {r!r} "
                                 "not accounted for")
        _lower_cache[ch] = r
    return r


def cut(term):
    """A term of more than MAX_TERM_BYTES UTF-8 bytes cut greedily at code
    point boundaries."""
    if len(term) <= MAX_TERM_BYTES // 4 or len(term.encode("utf-8")) <= MAX_TERM_BYTES:
        return [term]
    out, cur, n = [], [], 0
    for ch in term:
        el = len(ch.encode("utf-8"))
        if cur and n + el > MAX_TERM_BYTES:
            out.append("".join(cur))
            cur, n = [], 0
        cur.append(ch)
        n += el
    out.append("".join(cur))
    return out


def tokenize(text, nonascii_seen=None):
    """Lower-cased tokens of text (analyzer v1, no stop words, no stem)."""
    if text.isascii():
        toks = ASCII_TOKEN_RE.findall(text.lower())
        if any(len(t) > MAX_TERM_BYTES for t in toks):
            toks = [p for t in toks for p in cut(t)]
        return toks
    toks, cur = [], []
    for ch in text:
        if ch < "\x80":
            cls = "W" if ch.isalnum() else "S"
        else:
            cat = unicodedata.category(ch)
            if nonascii_seen is not None:
                nonascii_seen[ch] = cat
            cls = "W" if cat[0] in "LN" else "M" if cat[0] == "M" else "S"
        if cls == "S" or (cls == "M" and not cur):
            if cur:
                toks.extend(cut("".join(cur)))
                cur = []
            continue
        cur.append(simple_lower(ch))
    if cur:
        toks.extend(cut("".join(cur)))
    return toks

# ------------------------------------------------------------------ porter


class Porter:
    """Porter (1980) with the reference implementation's departures, on
    UTF-16 code units (a list of ints)."""

    VOWELS = frozenset(map(ord, "aeiou"))

    def cons(self, i):
        c = self.b[i]
        if c in self.VOWELS:
            return False
        if c == 0x79:  # y
            return True if i == 0 else not self.cons(i - 1)
        return True

    def m(self):
        """Number of VC sequences in b[0..j]."""
        n, i, j = 0, 0, self.j
        while i <= j and self.cons(i):
            i += 1
        while True:
            while i <= j and not self.cons(i):
                i += 1
            if i > j:
                return n
            while i <= j and self.cons(i):
                i += 1
            n += 1
            if i > j:
                return n

    def vowelinstem(self):
        return any(not self.cons(i) for i in range(self.j + 1))

    def doublec(self, j):
        return j >= 1 and self.b[j] == self.b[j - 1] and self.cons(j)

    def cvc(self, i):
        if i < 2 or not self.cons(i) or self.cons(i - 1) or not self.cons(i - 2):
            return False
        return self.b[i] not in (0x77, 0x78, 0x79)  # w x y

    def ends(self, s):
        n = len(s)
        if n > self.k + 1 or self.b[self.k - n + 1:self.k + 1] != s:
            return False
        self.j = self.k - n
        return True

    def setto(self, s):
        self.b[self.j + 1:] = s
        self.k = self.j + len(s)

    def r(self, s):
        if self.m() > 0:
            self.setto(s)

    @staticmethod
    def u(s):
        return [ord(c) for c in s]

    def step1ab(self):
        b, u = self.b, self.u
        if b[self.k] == ord("s"):
            if self.ends(u("sses")):
                self.k -= 2
            elif self.ends(u("ies")):
                self.setto(u("i"))
            elif b[self.k - 1] != ord("s"):
                self.k -= 1
            del b[self.k + 1:]
        if self.ends(u("eed")):
            if self.m() > 0:
                self.k -= 1
        elif (self.ends(u("ed")) or self.ends(u("ing"))) and self.vowelinstem():
            self.k = self.j
            del b[self.k + 1:]
            if self.ends(u("at")):
                self.setto(u("ate"))
            elif self.ends(u("bl")):
                self.setto(u("ble"))
            elif self.ends(u("iz")):
                self.setto(u("ize"))
            elif self.doublec(self.k):
                if b[self.k] not in (ord("l"), ord("s"), ord("z")):
                    self.k -= 1
            else:
                self.j = self.k
                if self.m() == 1 and self.cvc(self.k):
                    self.setto(u("e"))
        del b[self.k + 1:]

    def step1c(self):
        if self.ends([0x79]) and self.vowelinstem():
            self.b[self.k] = ord("i")

    STEP2 = [("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"),
             ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"),
             ("ization", "ize"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"),
             ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
             ("logi", "log")]
    STEP3 = [("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""),
             ("ness", "")]
    STEP4 = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism",
             "ate", "iti", "ous", "ive", "ize"]

    def rule_list(self, rules):
        """The paper's longest-match rule: the longest suffix of the list
        that the word ends with is the only one tried."""
        best = None
        for suf, rep in rules:
            if (best is None or len(suf) > len(best[0])) and self.ends(self.u(suf)):
                best = (suf, rep)
        if best:
            self.ends(self.u(best[0]))
            self.r(self.u(best[1]))
            del self.b[self.k + 1:]

    def step4(self):
        best = None
        for suf in self.STEP4:
            if (best is None or len(suf) > len(best)) and self.ends(self.u(suf)):
                best = suf
        if best is None:
            return
        self.ends(self.u(best))
        if best == "ion" and not (self.j >= 0 and self.b[self.j] in (ord("s"), ord("t"))):
            return
        if self.m() > 1:
            self.k = self.j
            del self.b[self.k + 1:]

    def step5(self):
        self.j = self.k
        if self.b[self.k] == ord("e"):
            a = self.m()
            if a > 1 or (a == 1 and not self.cvc(self.k - 1)):
                self.k -= 1
        if self.b[self.k] == ord("l") and self.doublec(self.k):
            self.j = self.k
            if self.m() > 1:
                self.k -= 1
        del self.b[self.k + 1:]

    def stem_units(self, units):
        if len(units) <= 2:
            return units
        self.b, self.k, self.j = list(units), len(units) - 1, 0
        self.step1ab()
        if self.k > 0:
            self.step1c()
            self.rule_list(self.STEP2)
            self.rule_list(self.STEP3)
            self.step4()
            self.step5()
        return self.b[:self.k + 1]

    def stem(self, word):
        raw = word.encode("utf-16-le", "surrogatepass")
        units = [raw[i] | raw[i + 1] << 8 for i in range(0, len(raw), 2)]
        out = self.stem_units(units)
        return b"".join(x.to_bytes(2, "little") for x in out).decode("utf-16-le", "surrogatepass")


def snowball_cross_check(words, stem):
    """Compare stem() with Snowball's porter (libstemmer) on ASCII words;
    returns (compared, departures, unexplained list)."""
    name = ctypes.util.find_library("stemmer") or "libstemmer.so.0d"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        lib = ctypes.CDLL("libstemmer.so.0d")
    lib.sb_stemmer_new.restype = ctypes.c_void_p
    lib.sb_stemmer_new.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.sb_stemmer_stem.restype = ctypes.POINTER(ctypes.c_char)
    lib.sb_stemmer_stem.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    lib.sb_stemmer_length.argtypes = [ctypes.c_void_p]
    lib.sb_stemmer_delete.argtypes = [ctypes.c_void_p]
    sb = lib.sb_stemmer_new(b"porter", b"UTF_8")
    compared, departures, bad = 0, 0, []
    for w in words:
        if not w.isascii() or not w.isalpha():
            continue
        e = w.encode()
        p = lib.sb_stemmer_stem(sb, e, len(e))
        snow = p[:lib.sb_stemmer_length(sb)].decode()
        mine = stem(w)
        compared += 1
        if mine == snow:
            continue
        n = len(w)
        suf = 2 if w.endswith("ed") else 3 if w.endswith("ing") else 0
        if (n <= 2 or snow.endswith("bli") or snow.endswith("logi")
                or (suf and n - suf >= 2 and w[n - suf - 1] == w[n - suf - 2] and w[n - suf - 1] in "chjkqvwx")):
            departures += 1
        else:
            bad.append((w, mine, snow))
    lib.sb_stemmer_delete(sb)
    return compared, departures, bad

# ------------------------------------------------------------------ corpus


def chunks_of(text):
    """Chunk texts of one document (word windows)."""
    raw = text.encode("utf-8")
    words = [(m.start(), m.end()) for m in WORD_RE.finditer(raw)]
    out, step, n = [], CHUNK_SIZE - CHUNK_OVERLAP, len(words)
    start = 0
    while start < n:
        end = min(start + CHUNK_SIZE, n)
        out.append(raw[words[start][0]:words[end - 1][1]].decode("utf-8"))
        if end == n:
            break
        start += step
    return out


def read_corpus(path):
    """Yield (chunk id, chunk text) as `mnemo ingest --shards 1` stores them."""
    seen = set()
    nid = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            doc = json.loads(line)
            for c in chunks_of(doc["text"]):
                if c in seen:
                    continue
                seen.add(c)
                yield nid, c
                nid += 1

# ----------------------------------------------------------------- queries


def cmd_queries(a):
    freq = Counter()
    for _, text in read_corpus(a.corpus):
        freq.update(tokenize(text))
    vocab = sorted(freq, key=lambda t: (-freq[t], t))
    weights = [freq[t] for t in vocab]
    rng = random.Random(a.seed)
    seps = [" ", " ", " ", ", ", " - ", "; ", "'s "]
    for q in range(a.count):
        words = []
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            if r < 0.45:
                w = rng.choices(vocab, weights)[0]       # by frequency
            elif r < 0.95:
                w = vocab[rng.randrange(len(vocab))]     # uniform: mostly rare
            else:
                w = "zqxj" + str(rng.randrange(1000))   # not in the corpus
            if rng.random() < 0.2:
                w = w.capitalize()
            words.append(w)
        text = words[0]
        for w in words[1:]:
            text += rng.choice(seps) + w
        print(json.dumps({"id": f"q{q}", "text": text}, ensure_ascii=False))

# ------------------------------------------------------------------- check


def cmd_check(a):
    queries = []
    with open(a.queries, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                queries.append(json.loads(line))
    stemmer = Porter() if a.stem == "porter" else None
    stem_cache = {}

    def analyze(text, seen=None):
        toks = tokenize(text, seen)
        if stemmer:
            out = []
            for t in toks:
                s = stem_cache.get(t)
                if s is None:
                    s = stem_cache[t] = stemmer.stem(t)
                out.append(s)
            toks = out
        return toks

    qterms = []  # per query: [(term, qtf)] in order of first occurrence
    for q in queries:
        c = Counter(analyze(q["text"]))
        qterms.append(list(c.items()))  # Counter keeps insertion order
    wanted = {t for qt in qterms for t, _ in qt}

    postings = {t: [] for t in wanted}
    doclen, texts = {}, {}
    total, nonascii = 0, {}
    for cid, text in read_corpus(a.corpus):
        texts[cid] = text
        toks = analyze(text, nonascii)
        if not toks:
            continue
        doclen[cid] = len(toks)
        total += len(toks)
        c = Counter(toks)
        for t in wanted.intersection(c):
            postings[t].append((cid, c[t]))
    N = len(doclen)
    avgdl = total / N
    k1, b = a.k1, a.b
    norm = {d: k1 * (1.0 - b + b * dl / avgdl) for d, dl in doclen.items()}
    print(f"reference: {len(texts)} chunks, N = {N} with terms, {total} terms, avgdl {avgdl:.6f}, "
          f"{len(queries)} queries, {len(wanted)} distinct query terms, stem={a.stem}")
    cats = Counter(cat for cat in nonascii.values())
    print(f"reference: {len(nonascii)} distinct non-ASCII code points in the corpus, by category: "
          + ", ".join(f"{k} {v}" for k, v in sorted(cats.items())))

    if stemmer:
        vocab = set(stem_cache)
        compared, dep, bad = snowball_cross_check(sorted(vocab), stemmer.stem)
        print(f"reference: Porter vs Snowball porter on {compared} ASCII corpus words: "
              f"{compared - dep - len(bad)} equal, {dep} documented departures, {len(bad)} unexplained")
        for w, mine, snow in bad[:20]:
            print(f"  porter '{w}': reference '{mine}', snowball '{snow}'")
        if bad:
            print("FAIL: the reference Porter stemmer differs from Snowball beyond the documented departures")
            return 1

    got = {}
    with open(a.results, encoding="utf-8") as f:
        for line in f:
            h = json.loads(line)
            got.setdefault(str(h["query_id"]), []).append(h)

    refs, near_ties, exact_ties = [], 0, 0
    for q, qt in zip(queries, qterms):
        acc = {}
        for t, qtf in qt:
            pl = postings[t]
            if not pl:
                continue
            df = len(pl)
            w = qtf * math.log(1.0 + (N - df + 0.5) / (df + 0.5))
            for d, tf in pl:
                acc[d] = acc.get(d, 0.0) + w * tf / (tf + norm[d])
        ranked = heapq.nsmallest(a.k + 1, acc.items(), key=lambda x: (-x[1], x[0]))
        refs.append(ranked[:a.k])
        if len(ranked) > a.k and ranked[a.k][1] == ranked[a.k - 1][1]:
            exact_ties += 1  # rank 10 decided by the smaller chunk id
        if len(ranked) > a.k and ranked[a.k][1] != ranked[a.k - 1][1] and \
                abs(ranked[a.k][1] - ranked[a.k - 1][1]) <= 1e-9 * abs(ranked[a.k - 1][1]):
            near_ties += 1

    bad, hits, maxrel = compare(queries, qterms, refs, got, texts, verbose=True)
    nq_hits = sum(1 for q in queries if got.get(str(q["id"])))
    print(f"check stem={a.stem}: {len(queries)} queries ({nq_hits} with hits), {hits} hits compared, "
          f"max relative score difference {maxrel:.3g}, {near_ties} near-ties (within 1e-9) at rank "
          f"{a.k}/{a.k + 1}, {exact_ties} exact ties there (broken by chunk id), {bad} queries mismatched")
    if bad or not queries or not hits:
        return 1

    # The comparison must catch each kind of error: perturb mnemo's hits.
    qid = next(str(q["id"]) for q in queries if len(got.get(str(q["id"]), [])) >= 2)
    orig = got[qid]
    mutations = {
        "score off by 2e-5 relative": [dict(orig[0], score=orig[0]["score"] * (1 + 2e-5))] + orig[1:],
        "ranks 1 and 2 swapped": [dict(orig[1], rank=1), dict(orig[0], rank=2)] + orig[2:],
        "last hit missing": orig[:-1],
        "wrong chunk text": [dict(orig[0], text=orig[0]["text"] + " ")] + orig[1:],
    }
    for what, hs in mutations.items():
        got[qid] = hs
        if compare(queries, qterms, refs, got, texts, verbose=False)[0] != 1:
            print(f"FAIL: self-test: the comparison misses a mutation ({what}) of query {qid}")
            return 1
    got[qid] = orig
    print(f"self-test: the comparison flags all {len(mutations)} mutations of query {qid}")
    return 0


def compare(queries, qterms, refs, got, texts, verbose):
    """Compare mnemo's hits with the reference lists; returns (queries
    mismatched, hits compared, max relative score difference)."""
    bad, hits, maxrel = 0, 0, 0.0
    for q, qt, ref in zip(queries, qterms, refs):
        mine = got.get(str(q["id"]), [])
        problems = []
        if len(mine) != len(ref):
            problems.append(f"{len(mine)} hits, reference {len(ref)}")
        for r, h in enumerate(mine[:len(ref)]):
            d, s = ref[r]
            if h["rank"] != r + 1:
                problems.append(f"hit {r + 1} has rank {h['rank']}")
            if h["chunk_id"] != d:
                problems.append(f"rank {r + 1}: chunk {h['chunk_id']} score {h['score']!r}, "
                                f"reference chunk {d} score {s!r}")
                continue
            rel = abs(h["score"] - s) / abs(s)
            maxrel = max(maxrel, rel)
            if rel > 1e-5:
                problems.append(f"rank {r + 1} chunk {d}: score {h['score']!r}, reference {s!r} (rel {rel:.2e})")
            if h["text"] != texts[d]:
                problems.append(f"rank {r + 1} chunk {d}: text differs from the reference's chunk {d} "
                                f"({h['text'][:60]!r} vs {texts[d][:60]!r})")
            hits += 1
        if problems:
            bad += 1
            if verbose and bad <= 20:
                print(f"MISMATCH query {q['id']} {q['text']!r} terms {qt}:")
                for p in problems[:5]:
                    print("  " + p)
    return bad, hits, maxrel


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("queries")
    p.add_argument("--corpus", required=True)
    p.add_argument("--count", type=int, default=600)
    p.add_argument("--seed", type=int, default=3)
    p = sub.add_parser("check")
    p.add_argument("--corpus", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--stem", choices=["none", "porter"], default="none")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--k1", type=float, default=0.9)
    p.add_argument("--b", type=float, default=0.4)
    a = ap.parse_args()
    if a.cmd == "queries":
        cmd_queries(a)
        return 0
    return cmd_check(a)


if __name__ == "__main__":
    sys.exit(main())
