#!/usr/bin/env python3
"""hf_check.py — check the demo models with Hugging Face code and record
references for mnemo's conformance test.

  python3 scripts/demo/hf_check.py DATA_DIR MODELS_DIR [--probe N]

For each model folder: transformers' LlamaForCausalLM loads it as is;
`tokenizers` encodes sample texts exactly as scripts/demo/bpe.py does (an
error otherwise); MODEL/reference.json gets the ids of a sample prompt, the
logits at its last position and the greedy continuation (16 tokens).  With
--probe N it also prints quick accuracies on the first N benchmark items
(closed-book greedy, multiple choice by log-likelihood, and greedy with the
person's biography as passage 1) — a sanity check only; mnemo's own
evaluation is the measurement.  Needs torch, transformers and tokenizers."""
import argparse
import json
import os
import sys

import torch
from tokenizers import Tokenizer
from transformers import LlamaForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

SAMPLE = "Question: Which city was Alara Ashgrove born in, according to the archive?\nAnswer:"


def greedy(model, ids, n, stop=None):
    out = []
    x = torch.tensor([ids])
    for _ in range(n):
        nxt = int(model(x).logits[0, -1].argmax())
        out.append(nxt)
        if stop is not None and nxt in stop:
            break
        x = torch.cat([x, torch.tensor([[nxt]])], dim=1)
    return out


def loglik(model, ctx, cont):
    x = torch.tensor([ctx + cont])
    lp = torch.log_softmax(model(x).logits[0].double(), -1)
    return sum(float(lp[len(ctx) - 1 + i, t]) for i, t in enumerate(cont))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("models")
    ap.add_argument("--probe", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(0)
    qa = [json.loads(l) for l in open(os.path.join(a.data, "qa.jsonl"))]
    mc = [json.loads(l) for l in open(os.path.join(a.data, "mc.jsonl"))]
    corpus = [json.loads(l) for l in open(os.path.join(a.data, "corpus.jsonl"))]
    world = [json.loads(l) for l in open(os.path.join(a.data, "world.jsonl"))]
    bio = {}  # name -> the person's first biography (bio-<person index>-0)
    for d in corpus:
        if d["id"].startswith("bio-") and d["id"].endswith("-0"):
            bio[world[int(d["id"].split("-")[1])]["name"]] = d["text"]
    for name in sorted(os.listdir(a.models)):
        d = os.path.join(a.models, name)
        if not os.path.isfile(os.path.join(d, "config.json")):
            continue
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        tj = json.load(open(os.path.join(d, "tokenizer.json")))
        enc = bpe.Encoder([tuple(m) for m in tj["model"]["merges"]], tj["model"]["vocab"])
        for t in [SAMPLE] + [c["text"] for c in corpus[:200]]:
            if tok.encode(t).ids != enc.encode(t):
                sys.exit("%s: tokenizers and bpe.py disagree on %r" % (d, t[:60]))
        model = LlamaForCausalLM.from_pretrained(d, torch_dtype=torch.float32).eval()
        with torch.no_grad():
            ids = enc.encode(SAMPLE)
            logits = model(torch.tensor([ids])).logits[0, -1]
            ref = {"prompt": SAMPLE, "ids": ids, "last_logits": [float(v) for v in logits],
                   "greedy_new_ids": greedy(model, ids, 16)}
            with open(os.path.join(d, "reference.json"), "w") as f:
                json.dump(ref, f)
                f.write("\n")
            if not a.probe:
                continue
            nl = {enc.vocab[t] for t in enc.vocab if "Ċ" in t} | {enc.eos}
            cb = rag = mcc = 0
            for it, m in zip(qa[:a.probe], mc[:a.probe]):
                q = "Question: " + it["question"] + "\nAnswer:"
                got = bpe_decode(tj, greedy(model, enc.encode(q), 8, nl)).strip()
                cb += got == it["answer"]
                # the person: the two capitalised words after "Which"
                name = " ".join([w for w in it["question"].replace(",", "").split()[1:]
                                 if w[0].isupper()][:2])
                p = "Passage 1: " + bio.get(name, "") + "\n\n" + q
                got = bpe_decode(tj, greedy(model, enc.encode(p), 8, nl)).strip()
                rag += got == it["answer"]
                ctx = enc.encode("Question: " + m["question"] + "\nAnswer:")
                ll = [loglik(model, ctx, enc.encode(" " + c)) for c in m["choices"]]
                mcc += max(range(4), key=lambda i: ll[i]) == m["answer"]
            n = min(a.probe, len(qa))
            print("%s: closed-book %.3f  mc %.3f  with biography %.3f  (n=%d)" %
                  (name, cb / n, mcc / n, rag / n, n), flush=True)


def bpe_decode(tj, ids):
    inv = {v: k for k, v in tj["model"]["vocab"].items()}
    u2b = {v: k for k, v in bpe.B2U.items()}
    s = "".join(inv[i] for i in ids if inv[i] != bpe.EOS)
    return bytes(u2b[c] for c in s).decode("utf-8", "replace").split("\n")[0]


if __name__ == "__main__":
    main()
