# tests/run/run_fixture.sh — the inputs of a small free-form `mnemo run`
# (sourced by test_run_damaged.sh and test_run_lock.sh after tests/cli/lib.sh;
# not a test).
#
# free_job CHUNK: $TMP/model (the tiny Qwen3 checkpoint: three shards and an
# index, with a byte-level tokenizer), $TMP/free.jsonl (12 arithmetic
# questions) and the job file $TMP/job.yaml (chunks of CHUNK items, 4 new
# tokens, no 'out': the runs give --out); sets J to the job file.
free_job() {
    local m0=$SRC/tests/fixtures/models/qwen3_tiny
    mkdir -p "$TMP/model" && cp "$m0"/config.json "$m0"/*.safetensors* "$TMP/model"/ && chmod u+w "$TMP/model"/*
    write_bytelevel_tokenizer "$TMP/model/tokenizer.json"
    for i in $(seq 1 12); do
        printf '{"id": "q%02d", "question": "What is %d plus %d? The river and the stone mill.", "answer": "%d"}\n' \
            "$i" "$i" "$((i * 3))" "$((i * 4))"
    done >"$TMP/free.jsonl"
    J=$TMP/job.yaml
    printf 'model: %s\nbench: jsonl:%s\nchunk: %d\nttc:\n  max_new_tokens: 4\n' "$TMP/model" "$TMP/free.jsonl" "$1" >"$J"
}
