/* safetensors.h — read-only, mmap'd safetensors checkpoints.
 *
 * A checkpoint is one model.safetensors or a sharded set listed by
 * model.safetensors.index.json ("weight_map": tensor -> file).  Every header
 * is validated before any tensor is handed out: 8-byte length inside the
 * file, JSON header, known dtype, shape product x dtype size == byte range,
 * data_offsets inside the data area, ranges not overlapping, and (for
 * sharded sets) each tensor found in the file the index names.
 * Tensor data is borrowed from the mapping: valid until st_close().
 */
#ifndef MNEMO_MODEL_SAFETENSORS_H
#define MNEMO_MODEL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h" /* mn_err */

/* Every dtype of the safetensors format; only F32/F16/BF16 can be widened
 * for the engine, the others parse (so a header is fully validated) but a
 * model refuses them. */
typedef enum st_dtype {
    ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL,
    ST_U16, ST_U32, ST_U64, ST_F8_E4M3, ST_F8_E5M2,
} st_dtype;

#define ST_MAX_DIMS 8

typedef struct st_tensor {
    const char *name;     /* borrowed, valid until st_close() */
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const void *data;     /* borrowed from the mmap */
    size_t nbytes;
    const char *file;     /* path of the shard holding it (borrowed) */
} st_tensor;

typedef struct st_model st_model; /* opaque: one or more mapped files */

/* Open dir/model.safetensors.index.json if present, else
 * dir/model.safetensors.  For an index, every distinct file named in its
 * "weight_map" is opened once, each tensor must be in the file the index
 * names, and a tensor stored in two shards is an error.  Caller frees *out
 * with st_close().  Errors: MN_EIO (a missing or unreadable file, named),
 * MN_EFORMAT (file and byte offset or tensor name in the message). */
int st_open_dir(const char *dir, st_model **out, mn_err *err);

/* Open (mmap) and validate one .safetensors file.  Caller frees *out with
 * st_close().  Errors: MN_EIO, MN_EFORMAT. */
int st_open_file(const char *path, st_model **out, mn_err *err);

/* Validate a safetensors image held in memory (what = name for messages).
 * Used by st_open_file and by the fuzzer.  On success *out (may be NULL to
 * only validate) borrows buf, which must outlive it; its tensors' `file` is
 * NULL.  Checks: size >= 8, header length inside the file and <= 100 MB,
 * header a JSON object without duplicate keys, "__metadata__" {str: str},
 * each tensor a known dtype, <= ST_MAX_DIMS non-negative dims, shape x dtype
 * size == end - begin (overflow-safe), begin <= end <= data size, no two
 * non-empty ranges overlapping.  Errors: MN_EFORMAT ("PATH: byte 8: header
 * length 999999 runs past end of file (4096 bytes)", "PATH: tensor 'x':
 * data_offsets [0, 96] out of data area (64 bytes)", "PATH: tensors 'a' and
 * 'b' overlap at bytes [32, 48)"). */
int st_parse(const char *what, const unsigned char *buf, size_t size, st_model **out, mn_err *err);

/* Look a tensor up by name (binary search); NULL if absent.  The result is
 * borrowed, valid until st_close(). */
const st_tensor *st_find(const st_model *st, const char *name);
/* Number of tensors, and the i-th (in name order). */
size_t st_count(const st_model *st);
const st_tensor *st_at(const st_model *st, size_t i);

/* Where the tensors came from, for messages: the index file of a sharded
 * checkpoint, else the .safetensors path (or `what` of st_parse). */
const char *st_source(const st_model *st);

/* Unmap everything; every st_tensor pointer and its data die.  NULL is ok. */
void st_close(st_model *st);

/* Element size in bytes, and the safetensors name ("F32", "BF16", ...). */
size_t st_dtype_size(st_dtype t);
const char *st_dtype_name(st_dtype t);

/* Widen n elements of a F32/F16/BF16 tensor to float32 (exact).  dst must
 * hold n floats.  Returns MN_EUNSUPPORTED for other dtypes, MN_ERANGE when
 * the tensor has fewer than n elements (no message: a caller's bug). */
int st_to_f32(const st_tensor *t, float *dst, size_t n);
/* The same for elements [first, first + n). */
int st_to_f32_at(const st_tensor *t, size_t first, float *dst, size_t n);

/* Exact scalar widenings (subnormals, inf and nan payloads kept). */
float st_f16_to_f32(uint16_t h);
float st_bf16_to_f32(uint16_t b);

#endif
