/* fuzz_postings.c — libFuzzer target: the postings decoder on arbitrary
 * bytes (lists are read from LMDB pages that may be corrupt).  Whatever the
 * input, decoding must end in a clean MN_EFORMAT with an offset inside the
 * buffer, or in a list that re-encodes to exactly the input bytes (the
 * encoding is canonical) and that the writer rebuilds identically.
 * Seeds: fuzz/corpus/postings/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "retrieval/postings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    postings_iter it;
    mn_err err = {0};
    if (postings_iter_init(&it, data, size, "fuzz", &err)) {
        if (err.code != MN_EFORMAT || it.bad_offset > size || !err.msg[0])
            abort();
        return 0;
    }
    uint64_t count = it.count; /* <= size by the decoder's check */
    posting *p = malloc((size_t)(count ? count : 1) * sizeof *p);
    size_t n = 0;
    int rc;
    while ((rc = postings_iter_next(&it, &err)) == 1) {
        if (n >= count || it.tf == 0 || it.doc > POSTINGS_DOC_MAX || (n && it.doc <= p[n - 1].doc))
            abort();
        p[n++] = (posting){it.doc, it.tf};
    }
    if (rc < 0) {
        if (rc != MN_EFORMAT || it.bad_offset > size || !err.msg[0])
            abort();
    } else {
        if (n != count)
            abort();
        size_t cap = postings_bound(n), len, wlen;
        uint8_t *out = malloc(cap);
        if (postings_encode(p, n, out, cap, &len, &err) || len != size || memcmp(out, data, size))
            abort();
        postings_writer w = {0};
        for (size_t i = 0; i < n; i++)
            if (postings_writer_add(&w, p[i].doc, p[i].tf, &err))
                abort();
        const uint8_t *wb = postings_writer_finish(&w, &wlen);
        if (wlen != size || memcmp(wb, data, size))
            abort();
        postings_writer_free(&w);
        free(out);
    }
    free(p);
    return 0;
}
