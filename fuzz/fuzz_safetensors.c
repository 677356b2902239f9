/* fuzz_safetensors.c — libFuzzer target: st_parse() on arbitrary bytes.
 *
 * Any input must end in either an error message or a validated tensor set
 * whose every tensor lies inside the buffer; the widening path then reads
 * each F32/F16/BF16 tensor whole, so ASan catches an out-of-range range
 * that validation let through.  Seeds: fuzz/corpus/safetensors/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h" /* st_parse, st_to_f32 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy, so reads past the input are caught exactly */
    unsigned char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    st_model *st = NULL;
    mn_err err = {0};
    if (st_parse("fuzz.safetensors", buf, size, &st, &err) == 0) {
        float tmp[256];
        for (size_t i = 0; i < st_count(st); i++) {
            const st_tensor *t = st_at(st, i);
            if (st_find(st, t->name) != t)
                abort(); /* lookup must find every tensor */
            if (t->nbytes && ((const unsigned char *)t->data < buf ||
                              (const unsigned char *)t->data + t->nbytes > buf + size))
                abort(); /* validation let a range escape the buffer */
            size_t es = st_dtype_size(t->dtype), n = t->nbytes / es;
            for (size_t k = 0; k < n; k += 256) {
                size_t m = n - k < 256 ? n - k : 256;
                if (st_to_f32_at(t, k, tmp, m) == MN_EUNSUPPORTED)
                    break;
            }
        }
        st_close(st);
    } else if (err.code == 0 || err.msg[0] == 0) {
        abort(); /* a failure must carry a message */
    }
    free(buf);
    return 0;
}
