"""bpe.py — a small byte-level BPE trainer and encoder that writes a Hugging
Face `tokenizer.json` (GPT-2 style: ByteLevel pre-tokenizer with GPT-2's
split pattern, ByteLevel decoder, one special token <|endoftext|>).

Deterministic: merges are chosen by (count, then the pair's byte strings),
so the same corpus always gives the same tokenizer.  Training text must be
ASCII without apostrophes: on such text the ASCII pattern below splits
exactly as GPT-2's Unicode pattern does, so Hugging Face tokenizers (and
mnemo) encode it as this module does.  Standard library only."""
import collections
import json
import re

EOS = "<|endoftext|>"
# GPT-2's pattern restricted to ASCII letters/digits (no contractions needed).
SPLIT = re.compile(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+")


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()


def pieces(text):
    return ["".join(B2U[b] for b in m.encode("utf-8")) for m in SPLIT.findall(text)]


def train(texts, vocab_size):
    """Merges [(a, b), ...] and vocab {token: id}: 256 byte tokens, merges, then EOS."""
    words = collections.Counter()
    for t in texts:
        words.update(pieces(t))
    segs = {w: list(w) for w in words}
    merges = []
    base = sorted(B2U.values(), key=lambda c: [k for k, v in B2U.items() if v == c][0])
    while 256 + len(merges) < vocab_size - 1:
        pairs = collections.Counter()
        for w, c in words.items():
            s = segs[w]
            for i in range(len(s) - 1):
                pairs[(s[i], s[i + 1])] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], [-ord(ch) for ch in kv[0][0] + "\0" + kv[0][1]]))[0]
        merges.append(best)
        joined = best[0] + best[1]
        for w in words:
            s = segs[w]
            i, out = 0, []
            while i < len(s):
                if i + 1 < len(s) and s[i] == best[0] and s[i + 1] == best[1]:
                    out.append(joined)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            segs[w] = out
    vocab = {c: i for i, c in enumerate(base)}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    vocab[EOS] = len(vocab)
    return merges, vocab


class Encoder:
    def __init__(self, merges, vocab):
        self.rank = {m: i for i, m in enumerate(merges)}
        self.vocab = vocab
        self.cache = {}
        self.eos = vocab[EOS]

    def word(self, w):
        if w in self.cache:
            return self.cache[w]
        s = list(w)
        while len(s) > 1:
            best = min(range(len(s) - 1), key=lambda i: self.rank.get((s[i], s[i + 1]), 1 << 30))
            if (s[best], s[best + 1]) not in self.rank:
                break
            s = s[:best] + [s[best] + s[best + 1]] + s[best + 2:]
        ids = [self.vocab[t] for t in s]
        self.cache[w] = ids
        return ids

    def encode(self, text):
        out = []
        for w in pieces(text):
            out.extend(self.word(w))
        return out


def tokenizer_json(merges, vocab):
    """The Hugging Face tokenizer.json text."""
    eos = vocab[EOS]
    doc = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": eos, "content": EOS, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [[a, b] for a, b in merges]},
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
