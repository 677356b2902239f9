#!/usr/bin/env bash
# run_engine_bench.sh — the engine benchmark: ceilings of this machine
# (bench_sgemm, bench_stream), the engine (bench_engine) and, when
# LLAMA_CPP_DIR is set, llama.cpp's llama-bench on the same random weights,
# at each thread count; prints a Markdown table with the ratios the
# acceptance criteria ask for.  See bench/README.md.
#
# usage: bench/run_engine_bench.sh
# env:
#   BUILD_DIR      mnemo build directory (default: build-bench in the repo)
#   THREADS        thread counts to run (default: "1 2")
#   ROUNDS         interleaved rounds engine/llama.cpp per thread count (default 3)
#   REPS           timed repetitions inside each bench_engine run (default 3)
#   LLAMA_CPP_DIR  a llama.cpp source checkout (gguf-py is used to write the
#                  GGUF); unset: the llama.cpp column is left out
#   LLAMA_BENCH    llama-bench binary (default: /work/peers/llama.cpp-build/bin/llama-bench,
#                  a CPU-only Release build made by hand outside the repo)
#   MODEL_DIR      the random checkpoint (default bench/out/llama110m; made if missing)
# Non-goals: building llama.cpp (done by hand, outside the repo), other models.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
threads_list=${THREADS:-"1 2"}
rounds=${ROUNDS:-3}
reps=${REPS:-3}
model_dir=${MODEL_DIR:-$root/bench/out/llama110m}
gguf=${model_dir%/}-f32.gguf
llama_bench=${LLAMA_BENCH:-/work/peers/llama.cpp-build/bin/llama-bench}
out=$root/bench/out
mkdir -p "$out"
log=$out/run_engine_bench.log
: > "$log"

say() { echo "$@" >&2; }

# 1. build (configured every time, so bench programs added since are found;
#    the build itself is incremental)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
else
  cmake -S "$root" -B "$build" >&2
fi
cmake --build "$build" -j2 --target bench_make_random_llama bench_sgemm bench_stream bench_engine >&2
bin=$build/bench

# 2. the model (and its GGUF twin for llama.cpp)
if [ ! -f "$model_dir/model.safetensors" ]; then
  "$bin/bench_make_random_llama" "$model_dir" >&2
fi
peer=0
if [ -n "${LLAMA_CPP_DIR:-}" ]; then
  if [ ! -x "$llama_bench" ]; then
    say "run_engine_bench.sh: $llama_bench: not built (build llama.cpp outside the repo, or set LLAMA_BENCH)"
    exit 1
  fi
  if [ ! -f "$gguf" ] || [ "$gguf" -ot "$model_dir/model.safetensors" ]; then
    LLAMA_CPP_DIR=$LLAMA_CPP_DIR /usr/bin/python3 "$root/scripts/make-gguf.py" "$model_dir" "$gguf" >&2
  fi
  peer=1
fi

run() { # run a command, keep its output in the log, echo it to stderr
  say "+ $*"
  echo "+ $*" >> "$log"
  "$@" 2>&1 | tee -a "$log" >&2
}

# 3. measurements; llama-bench rounds are interleaved with ours so that
#    bandwidth drift hits both
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for t in $threads_list; do
  run "$bin/bench_sgemm" --threads "$t"
  for r in $(seq 1 "$rounds"); do
    run "$bin/bench_stream" --threads "$t" --reps 5
    run "$bin/bench_engine" "$model_dir" --threads "$t" --reps "$reps"
    if [ $peer = 1 ]; then
      run "$llama_bench" -m "$gguf" -p 512 -n 128 -t "$t" -r "$reps" -o jsonl
    fi
  done
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# 4. the table
echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs; load average before $load_before, after $load_after; ROUNDS=$rounds REPS=$reps"
cfg_file=$model_dir/config.json
awk -v cfg="$(tr -d ' \n' < "$cfg_file")" -v peer=$peer -v threads="$threads_list" '
function cfgint(key,   m) { if (match(cfg, "\"" key "\":[0-9]+")) { m = substr(cfg, RSTART, RLENGTH); sub(/.*:/, "", m); return m + 0 } return 0 }
function kv(line, key,   m) { if (match(line, "(^| )" key "=[^ ]+")) { m = substr(line, RSTART, RLENGTH); sub(/.*=/, "", m); return m } return "" }
function jnum(line, key,   m) { if (match(line, "\"" key "\": *[-0-9.e+]+")) { m = substr(line, RSTART, RLENGTH); sub(/.*: */, "", m); return m + 0 } return "" }
function median(arr, n,   i, j, x) { # sorts arr[1..n] in place
  for (i = 2; i <= n; i++) { x = arr[i]; for (j = i - 1; j >= 1 && arr[j] > x; j--) arr[j + 1] = arr[j]; arr[j + 1] = x }
  return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2 }
function add(key, val) { n[key]++; v[key, n[key]] = val }
function med(key,   i, a) { if (!(key in n)) return ""; for (i = 1; i <= n[key]; i++) a[i] = v[key, i]; return median(a, n[key]) }
function fmt(x, d) { return x == "" ? "–" : sprintf("%." d "f", x) }
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "" : a / b }
/^sgemm / { add("sgemm " kv($0, "threads") " " kv($0, "shape"), kv($0, "median")) }
/^stream / { add("stream " kv($0, "threads") " " kv($0, "kernel"), kv($0, "median")) }
/^engine metric=(prefill|decode|batch) / { add(kv($0, "metric") " " kv($0, "threads"), kv($0, "median")) }
/^engine metric=rss / { t = kv($0, "threads"); add("rss " t, kv($0, "peak_mib")); wmib = kv($0, "weights_mib"); kvmib[t] = kv($0, "kv_mib"); lim[t] = kv($0, "limit_mib") }
/^\{.*"n_prompt"/ {
  t = jnum($0, "n_threads"); np = jnum($0, "n_prompt"); ng = jnum($0, "n_gen")
  s = $0; sub(/.*"samples_ts": *\[/, "", s); sub(/\].*/, "", s); ns = split(s, sa, /, */)
  for (i = 1; i <= ns; i++) add((np > 0 ? "llama_prefill " : "llama_decode ") t, sa[i] + 0)
}
END {
  C = cfgint("hidden_size"); L = cfgint("num_hidden_layers"); H = cfgint("num_attention_heads")
  KV = cfgint("num_key_value_heads"); F = cfgint("intermediate_size"); V = cfgint("vocab_size")
  D = cfgint("head_dim"); if (!D) D = C / H
  T = 512; G = 128; P = 16
  layer_params = L * (C * H * D + 2 * C * KV * D + H * D * C + 3 * C * F)
  head_params = V * C
  # prefill: every token through every layer matmul, causal attention
  # (QK^T and PV: 4 H D flops per attended position, (T+1)/2 on average),
  # lm_head for the last position only
  pf_flops = 2 * layer_params + L * 4 * H * D * (T + 1) / 2 + 2 * head_params / T
  # decode: every per-token weight read once (layers + lm_head + 2 norms per
  # layer + embedding row), plus the KV cache read at the mean context
  dec_bytes = 4 * (layer_params + head_params + (2 * L + 1) * C + C) + 4 * L * 2 * KV * D * (P + G / 2)
  printf "Model: C=%d L=%d H=%d KV=%d D=%d F=%d V=%d; %.1fM params in layer matmuls, %.1fM in lm_head\n", C, L, H, KV, D, F, V, layer_params / 1e6, head_params / 1e6
  printf "Prefill FLOPs/token (T=%d, last-position logits) = %.1f M; decode bytes/token = %.1f MB\n\n", T, pf_flops / 1e6, dec_bytes / 1e6
  print "| figure | " (peer ? "threads | ours | llama.cpp | ours / llama.cpp | bound | ours / bound | target |" : "threads | ours | bound | ours / bound | target |")
  print "|---|" (peer ? "---|---|---|---|---|---|---|" : "---|---|---|---|---|")
  nt = split(threads, tl, / +/)
  for (k = 1; k <= nt; k++) {
    t = tl[k]
    # sgemm rate at the model shapes: FLOP-weighted harmonic mean of the medians
    s1 = med("sgemm " t " 512x" C "x" (H * D)); s2 = med("sgemm " t " 512x" C "x" (KV * D))
    s3 = med("sgemm " t " 512x" C "x" F); s4 = med("sgemm " t " 512x" F "x" C)
    if (s1 != "" && s2 != "" && s3 != "" && s4 != "") {
      fl1 = 2 * C * H * D * 2; fl2 = 2 * C * KV * D * 2; fl3 = 2 * C * F * 2; fl4 = 2 * F * C
      sg = (fl1 + fl2 + fl3 + fl4) / (fl1 / s1 + fl2 / s2 + fl3 / s3 + fl4 / s4)
    } else sg = med("sgemm " t " 2048x2048x2048")
    bw = med("stream " t " triad")
    pf = med("prefill " t); dc = med("decode " t); bt = med("batch " t)
    lp = med("llama_prefill " t); ld = med("llama_decode " t)
    pf_bound = sg * 1e9 / pf_flops; dc_bound = bw * 1e9 / dec_bytes
    if (peer) {
      printf "| sgemm GFLOP/s (model shapes; 2048^3: %s) | %d | %s | | | | | |\n", fmt(med("sgemm " t " 2048x2048x2048"), 1), t, fmt(sg, 1)
      printf "| STREAM triad GB/s (read: %s) | %d | %s | | | | | |\n", fmt(med("stream " t " read"), 1), t, fmt(bw, 1)
      printf "| prefill T=512, tok/s | %d | %s | %s | %s | %s | %s | ≥ 0.70 of bound, ≥ 1.0 × llama.cpp |\n", t, fmt(pf, 1), fmt(lp, 1), fmt(ratio(pf, lp), 2), fmt(pf_bound, 0), fmt(ratio(pf, pf_bound), 2)
      printf "| decode tg128, tok/s | %d | %s | %s | %s | %s | %s | ≥ 0.80 of bound, ≥ 0.9 × llama.cpp |\n", t, fmt(dc, 1), fmt(ld, 1), fmt(ratio(dc, ld), 2), fmt(dc_bound, 1), fmt(ratio(dc, dc_bound), 2)
      printf "| batched decode B=8, tok/s (÷ single) | %d | %s (%s×) | | | | | ≥ 5× single |\n", t, fmt(bt, 1), fmt(ratio(bt, dc), 2)
      printf "| peak RSS MiB (weights %s + KV %s, +10%% = %s) | %d | %s | | | | %s | ≤ 1.0 |\n", fmt(wmib, 1), fmt(kvmib[t], 1), fmt(lim[t], 1), t, fmt(med("rss " t), 1), fmt(ratio(med("rss " t), lim[t]), 2)
    } else {
      printf "| sgemm GFLOP/s (model shapes; 2048^3: %s) | %d | %s | | | |\n", fmt(med("sgemm " t " 2048x2048x2048"), 1), t, fmt(sg, 1)
      printf "| STREAM triad GB/s (read: %s) | %d | %s | | | |\n", fmt(med("stream " t " read"), 1), t, fmt(bw, 1)
      printf "| prefill T=512, tok/s | %d | %s | %s | %s | ≥ 0.70 |\n", t, fmt(pf, 1), fmt(pf_bound, 0), fmt(ratio(pf, pf_bound), 2)
      printf "| decode tg128, tok/s | %d | %s | %s | %s | ≥ 0.80 |\n", t, fmt(dc, 1), fmt(dc_bound, 1), fmt(ratio(dc, dc_bound), 2)
      printf "| batched decode B=8, tok/s (÷ single) | %d | %s (%s×) | | | ≥ 5× single |\n", t, fmt(bt, 1), fmt(ratio(bt, dc), 2)
      printf "| peak RSS MiB (limit %s) | %d | %s | | %s | ≤ 1.0 |\n", fmt(lim[t], 1), t, fmt(med("rss " t), 1), fmt(ratio(med("rss " t), lim[t]), 2)
    }
  }
}' "$log"
