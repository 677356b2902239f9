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

typedef enum st_dtype { ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL } st_dtype;

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
 * dir/model.safetensors.  Errors: MN_EIO, MN_EFORMAT (file and byte offset
 * or tensor name in the message). */
int st_open_dir(const char *dir, st_model **out, mn_err *err);

/* Open one .safetensors file. */
int st_open_file(const char *path, st_model **out, mn_err *err);

/* Validate a safetensors image held in memory (what = name for messages).
 * Used by st_open_file and by the fuzzer.  On success *out (may be NULL to
 * only validate) borrows buf, which must outlive it. */
int st_parse(const char *what, const unsigned char *buf, size_t size, st_model **out, mn_err *err);

/* Look a tensor up by name; NULL if absent. */
const st_tensor *st_find(const st_model *st, const char *name);
/* Number of tensors, and the i-th (in name order). */
size_t st_count(const st_model *st);
const st_tensor *st_at(const st_model *st, size_t i);

void st_close(st_model *st);

/* Element size in bytes, and the safetensors name ("F32", "BF16", ...). */
size_t st_dtype_size(st_dtype t);
const char *st_dtype_name(st_dtype t);

/* Widen n elements of a F32/F16/BF16 tensor to float32 (exact).  dst must
 * hold n floats.  Returns MN_EUNSUPPORTED for other dtypes. */
int st_to_f32(const st_tensor *t, float *dst, size_t n);

#endif
