#!/usr/bin/env python3
"""train.py — the demo's model family: small Llama-architecture models of
increasing pre-training compute, trained on datasets/demo/corpus.jsonl and
saved in Hugging Face layout (config.json, model.safetensors, tokenizer.json)
plus training.json (parameters N, training tokens D, compute 6·N·D, the
recipe and the final loss).

  python3 scripts/demo/train.py DATA_DIR OUT_DIR [--device cuda|cpu] [--only NAME]

Needs PyTorch only (the model, the safetensors writer and the tokenizer are
written here; Hugging Face libraries are not needed to train).  A GPU makes
it quick; the CPU works too (slowly: hours on 2 cores).
Seeded: on the CPU reruns give identical weights; on a GPU, kernels may
differ in the last bits.

The model is the Llama of transformers' modeling_llama.py: RMSNorm,
rotary embeddings (rotate-half layout), SwiGLU MLP, no biases, tied input
and output embeddings, so transformers' LlamaForCausalLM loads the files as
they are."""
import argparse
import copy
import json
import math
import os
import random
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

VOCAB = 1024
SEQ = 256
# One architecture, trained once with a warmup-stable-decay schedule: at each
# checkpoint a copy of the model and optimizer cools down (the learning rate
# decays linearly to 0 over COOLDOWN of the steps so far) and is saved as a
# family member.  The members differ only in training tokens D, so compute
# 6·N·D grows with D along one trajectory (as Pythia's checkpoints do, but each
# one annealed, as in MiniCPM's WSD runs).
ARCH = {"hidden": 128, "layers": 4, "heads": 4, "intermediate": 352}
PEAK_LR = 2.5e-3
BATCH = 32
COOLDOWN = 0.1
# name, tokens before the cooldown
CHECKPOINTS = [("demo-d01", 1_000_000), ("demo-d02", 2_000_000), ("demo-d04", 4_000_000),
               ("demo-d08", 8_000_000), ("demo-d16", 16_000_000)]


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        v = x.float().pow(2).mean(-1, keepdim=True)
        return self.weight * (x.float() * torch.rsqrt(v + self.eps)).to(x.dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Block(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.heads = heads
        self.input_layernorm = RMSNorm(d)
        self.post_attention_layernorm = RMSNorm(d)
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.o_proj = nn.Linear(d, d, bias=False)
        self.gate_proj = nn.Linear(d, ff, bias=False)
        self.up_proj = nn.Linear(d, ff, bias=False)
        self.down_proj = nn.Linear(ff, d, bias=False)

    def forward(self, x, cos, sin):
        b, t, d = x.shape
        h = self.input_layernorm(x)
        q, k, v = (p(h).view(b, t, self.heads, -1).transpose(1, 2)
                   for p in (self.q_proj, self.k_proj, self.v_proj))
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o_proj(a.transpose(1, 2).reshape(b, t, d))
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, d, layers, heads, ff):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, d)
        self.layers = nn.ModuleList(Block(d, heads, ff) for _ in range(layers))
        self.norm = RMSNorm(d)
        hd = d // heads
        inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        ang = torch.outer(torch.arange(2 * SEQ, dtype=torch.float32), inv)
        emb = torch.cat((ang, ang), dim=-1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.embed_tokens(ids)
        cos, sin = self.cos[:t], self.sin[:t]
        for blk in self.layers:
            x = blk(x, cos, sin)
        return self.norm(x) @ self.embed_tokens.weight.t()

    def hf_state(self):
        """Tensors under transformers' LlamaForCausalLM names."""
        out = {"model.embed_tokens.weight": self.embed_tokens.weight,
               "model.norm.weight": self.norm.weight}
        for i, b in enumerate(self.layers):
            p = "model.layers.%d." % i
            out[p + "input_layernorm.weight"] = b.input_layernorm.weight
            out[p + "post_attention_layernorm.weight"] = b.post_attention_layernorm.weight
            for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
                out[p + "self_attn." + n + ".weight"] = getattr(b, n).weight
            for n in ("gate_proj", "up_proj", "down_proj"):
                out[p + "mlp." + n + ".weight"] = getattr(b, n).weight
        return {k: v.detach().float().cpu().contiguous() for k, v in out.items()}


def write_safetensors(path, tensors):
    names = sorted(tensors)
    header, off, blobs = {}, 0, []
    for n in names:
        t = tensors[n]
        raw = t.numpy().astype("<f4").tobytes()
        header[n] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def hf_config(d, layers, heads, ff, eos):
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB,
            "hidden_size": d, "intermediate_size": ff, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_key_value_heads": heads, "head_dim": d // heads,
            "hidden_act": "silu", "max_position_embeddings": 2 * SEQ, "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0, "rope_scaling": None, "tie_word_embeddings": True,
            "attention_bias": False, "mlp_bias": False, "bos_token_id": eos, "eos_token_id": eos,
            "torch_dtype": "float32"}


def epoch_stream(docs, eos, rng):
    order = list(range(len(docs)))
    rng.shuffle(order)
    out = []
    for i in order:
        out.extend(docs[i])
        out.append(eos)
    return out


class Batches:
    """Consecutive SEQ+1-token windows of the corpus, reshuffled every epoch."""

    def __init__(self, docs, eos, seed):
        self.docs, self.eos, self.rng = docs, eos, random.Random(seed)
        self.stream, self.pos = [], 0

    def next(self, device):
        rows = []
        for _ in range(BATCH):
            if self.pos + SEQ + 1 > len(self.stream):
                self.stream = self.stream[self.pos:] + epoch_stream(self.docs, self.eos, self.rng)
                self.pos = 0
            rows.append(self.stream[self.pos:self.pos + SEQ + 1])
            self.pos += SEQ
        return torch.tensor(rows, dtype=torch.long, device=device)


def step(model, opt, x, lr):
    for g in opt.param_groups:
        g["lr"] = lr
    logits = model(x[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), x[:, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


def cool_down(model, opt, batches, steps, device):
    """Anneal copies of model and opt; returns the copy and its last loss.
    The copy draws its own batches (a snapshot of the stream), so the main
    trajectory is the same whatever the checkpoints."""
    m, o = copy.deepcopy(model), copy.deepcopy(opt)
    b = copy.deepcopy(batches)
    loss = None
    for i in range(steps):
        loss = step(m, o, b.next(device), PEAK_LR * (1 - (i + 1) / steps))
    return m, loss


def save(model, out, name, params, tokens, loss, ntok, seed, device, eos, tok_text):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, "model.safetensors"), model.hf_state())
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(hf_config(ARCH["hidden"], ARCH["layers"], ARCH["heads"], ARCH["intermediate"], eos),
                  f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        f.write(tok_text)
    meta = {"params": params, "tokens": tokens, "compute": 6.0 * params * tokens,
            "corpus_tokens": ntok, "epochs": round(tokens / ntok, 3),
            "recipe": dict(ARCH, seq=SEQ, batch=BATCH, peak_lr=PEAK_LR,
                           schedule="warmup 500 steps, constant, then a linear cooldown to 0 "
                                    "over %g of the steps" % COOLDOWN,
                           optimizer="AdamW(0.9, 0.95), weight decay 0.1", seed=seed,
                           device=device, torch=torch.__version__),
            "final_loss": round(loss, 4)}
    with open(os.path.join(d, "training.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print("%s: N=%d D=%d C=%.3g loss %.4f" % (name, params, tokens, meta["compute"], loss), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    torch.use_deterministic_algorithms(a.device == "cpu")
    texts = [json.loads(line)["text"] for line in open(os.path.join(a.data, "corpus.jsonl"))]
    merges, vocab = bpe.train(texts, VOCAB)
    enc = bpe.Encoder(merges, vocab)
    tok_text = bpe.tokenizer_json(merges, vocab)
    docs = [enc.encode(t) for t in texts]
    ntok = sum(len(x) + 1 for x in docs)
    print("corpus: %d documents, %d tokens" % (len(docs), ntok), flush=True)

    torch.manual_seed(a.seed)
    model = Llama(ARCH["hidden"], ARCH["layers"], ARCH["heads"], ARCH["intermediate"]).to(a.device)
    params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": other, "weight_decay": 0.0}], lr=PEAK_LR, betas=(0.9, 0.95))
    batches = Batches(docs, enc.eos, a.seed)
    per_step = BATCH * SEQ
    warm, done, ema, t0 = 500, 0, None, time.time()
    for name, tokens in CHECKPOINTS:
        while done < tokens // per_step:
            loss = step(model, opt, batches.next(a.device), PEAK_LR * min(1.0, (done + 1) / warm))
            ema = loss if ema is None else 0.98 * ema + 0.02 * loss
            done += 1
            if done % 500 == 0:
                print("step %d loss %.4f (%.0f s)" % (done, ema, time.time() - t0), flush=True)
        cool = max(1, round(COOLDOWN * done))
        m, loss = cool_down(model, opt, batches, cool, a.device)
        save(m, a.out, name, params, (done + cool) * per_step, loss, ntok, a.seed, a.device,
             enc.eos, tok_text)


if __name__ == "__main__":
    main()
