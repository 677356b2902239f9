#!/usr/bin/env bash
# test_fault_embed.sh — "fail at call N" over `mnemo embed --db` (lib.sh):
# a 2-shard DB embedded with the qwen3_tiny fixture model (byte-level
# tokenizer) in batches of 5, then an IVF index of 2 lists per shard.
# Outputs: shard-NNN/embeddings.{f32,ids,json} and ivf.bin, each absent or
# equal to the uninterrupted run's after a failure; the rerun (which resumes
# from the part files and progress record a failure keeps) gives the same
# files.  The DB's LMDB files are inputs here (opened read-only; their
# lock file is opened for writing, so it has injection points too).
set -u
SRC=${MNEMO_SOURCE_DIR:?MNEMO_SOURCE_DIR not set}
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/fault/lib.sh"
test_begin test_fault_embed
fi_require

M="$W/model"
fi_tiny_model "$M"
mkdir -p "$W/in"
awk 'BEGIN{srand(11); split("river stone house tree bird cloud rain field light night sea wind fire road hill glass",V," ");
     for(i=0;i<40;i++){n=5+int(rand()*36); s=""; for(j=0;j<n;j++){s=s (j?" ":"") V[1+int(rand()*rand()*16)]}
     printf "{\"id\": %d, \"text\": \"%s\"}\n", i, s}}' >"$W/in/c.jsonl"
"$BIN" ingest --db "$W/db0" --shards 2 --chunk-tokens 12 --overlap 0 "$W/in/c.jsonl" 2>/dev/null || fail "ingest"

fi_class() {
    case $1 in
    # resume state, kept on purpose after a failure (src/retrieval/dense.h):
    # the rerun continues from it and must end with the uninterrupted files
    db/shard-*/embeddings.*.part | db/shard-*/embeddings.progress.json) cls=skip ;;
    db/shard-*/embeddings.* | db/shard-*/ivf.bin) cls=exact ;;
    *) cls=skip ;; # the DB itself
    esac
}

FI_NAME=embed
fi_prepare() { cp -a "$W/db0" "$S/db"; }
FI_CMD=(embed --db "$S/db" --model "$M" --batch 5 --threads 1 --ivf 2)
fault_loop

test_end
