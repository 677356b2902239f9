#!/usr/bin/python3
"""make-gguf.py — convert a float32 LlamaForCausalLM checkpoint (Hugging Face
layout, one model.safetensors, as written by bench_make_random_llama) into an
f32 GGUF file that llama.cpp's llama-bench can load: the peer run of
bench/run_engine_bench.sh on the very same weights.

usage: LLAMA_CPP_DIR=/path/to/llama.cpp scripts/make-gguf.py HF_DIR OUT.gguf

Uses the gguf-py package inside the llama.cpp checkout ($LLAMA_CPP_DIR/gguf-py,
put on sys.path; nothing of llama.cpp is copied here) and numpy (Debian:
apt-get install -y python3-numpy; run with /usr/bin/python3).

What it does, and why:
  * q_proj / k_proj rows are permuted per head from Hugging Face's rotate-half
    RoPE layout (dim i pairs with i + D/2) to GGML's interleaved layout
    (dim 2i pairs with 2i + 1) — the same row permutation llama.cpp's own
    converter applies to Llama weights — so both engines compute the same
    function.  Every other tensor is written unchanged, in float32.
  * llama.cpp refuses a model without tokenizer metadata, and the benchmark
    feeds token ids, so a dummy SentencePiece-style vocab of vocab_size
    entries is written: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>,
    then unique filler tokens.
Non-goals: other architectures, bf16/f16 inputs, sharded checkpoints, llama3
RoPE scaling (the benchmark model uses default RoPE), a real tokenizer.
"""
import json
import os
import struct
import sys


def die(msg):
    print(f"make-gguf.py: {msg}", file=sys.stderr)
    sys.exit(1)


def read_safetensors(path, np):
    """name -> numpy array (a read-only view of a memory map)."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            die(f"{path}: byte 0: file shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            die(f"{path}: byte 8: header is not JSON: {e}")
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info.get("dtype") != "F32":
            die(f"{path}: tensor '{name}': dtype {info.get('dtype')} (only F32 is supported)")
        a, b = info["data_offsets"]
        out[name] = mm[8 + n + a: 8 + n + b].view(np.float32).reshape(info["shape"])
    return out


def permute_rope(w, n_head, np):
    """Rotate-half row order -> interleaved row order, per head.
    w: [n_head * D, C].  Hugging Face rotates the pair (i, i + D/2) of each
    head; GGML's LLAMA rope rotates the pair (2i, 2i + 1).  Output row
    h*D + 2i takes input row h*D + i, output row h*D + 2i + 1 takes input row
    h*D + D/2 + i, so GGML's pairs hold the same values HF pairs."""
    D = w.shape[0] // n_head
    order = [h * D + (j // 2) + (j % 2) * (D // 2) for h in range(n_head) for j in range(D)]
    return w[np.array(order)]


def main():
    if len(sys.argv) != 3:
        print("usage: LLAMA_CPP_DIR=/path/to/llama.cpp make-gguf.py HF_DIR OUT.gguf", file=sys.stderr)
        sys.exit(2)
    hf_dir, out_path = sys.argv[1], sys.argv[2]
    src = os.environ.get("LLAMA_CPP_DIR")
    if not src or not os.path.isdir(os.path.join(src, "gguf-py", "gguf")):
        die(f"LLAMA_CPP_DIR={src!r}: no gguf-py/gguf package there (set it to a llama.cpp checkout)")
    sys.path.insert(0, os.path.join(src, "gguf-py"))
    try:
        import numpy as np
    except ImportError:
        die("numpy is missing (Debian: apt-get install -y python3-numpy, then run with /usr/bin/python3)")
    import gguf

    cfg_path = os.path.join(hf_dir, "config.json")
    try:
        with open(cfg_path) as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        die(f"{cfg_path}: {e}")
    if cfg.get("architectures") != ["LlamaForCausalLM"]:
        die(f"{cfg_path}: key 'architectures': {cfg.get('architectures')} (only LlamaForCausalLM)")
    rope = cfg.get("rope_parameters") or {}
    if rope.get("rope_type", "default") != "default" or cfg.get("rope_scaling"):
        die(f"{cfg_path}: key 'rope_parameters': only default RoPE is supported")
    if cfg.get("tie_word_embeddings", False):
        die(f"{cfg_path}: key 'tie_word_embeddings': only untied checkpoints are supported")
    C, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    D = cfg.get("head_dim", C // H)
    V = cfg["vocab_size"]
    theta = rope.get("rope_theta", cfg.get("rope_theta", 10000.0))
    if V < 259 + 1:
        die(f"{cfg_path}: key 'vocab_size': {V} is too small for the dummy byte vocab (needs > 259)")

    weights = read_safetensors(os.path.join(hf_dir, "model.safetensors"), np)
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, L)

    w = gguf.GGUFWriter(out_path, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    w.add_name("mnemo-random-llama")
    w.add_context_length(cfg.get("max_position_embeddings", 2048))
    w.add_embedding_length(C)
    w.add_block_count(L)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(H)
    w.add_head_count_kv(KV)
    w.add_rope_dimension_count(D)
    w.add_rope_freq_base(float(theta))
    w.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-6)))
    w.add_vocab_size(V)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)

    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    tokens += [f"\u2581t{i}" for i in range(len(tokens), V)]
    types += [gguf.TokenType.NORMAL] * (V - len(types))
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * V)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)

    for name, t in weights.items():
        if name.endswith("self_attn.q_proj.weight"):
            t = permute_rope(t, H, np)
        elif name.endswith("self_attn.k_proj.weight"):
            t = permute_rope(t, KV, np)
        new = tmap.get_name(name, try_suffixes=(".weight", ".bias"))
        if new is None:
            die(f"{hf_dir}/model.safetensors: tensor '{name}': no GGUF name for it")
        w.add_tensor(new, np.ascontiguousarray(t, dtype=np.float32))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"{out_path}: {len(weights)} tensors, f32, vocab {V}")


if __name__ == "__main__":
    main()
