/* fuzz_docsource.c — libFuzzer target: docsource over arbitrary bytes read
 * through libarchive's memory reader (any container / filter it detects).
 * The first byte picks the name that types a non-archive input (.jsonl,
 * .warc.wet, .txt, .tar) and FAIL or SKIP.  Every document must be valid
 * UTF-8 with an id; the stream must end in 0 or an error with a message;
 * after the end every call returns the same.  Seeds: fuzz/corpus/docsource/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "retrieval/docsource.h" /* docsource_open_memory, docsource_next */
#include "util/utf8.h"           /* utf8_valid_prefix */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"fuzz.jsonl", "fuzz.warc.wet", "fuzz.txt", "fuzz.tar"};
    if (size < 1)
        return 0;
    docsource_opts o;
    docsource_opts_default(&o);
    o.on_error = (data[0] & 4) ? DOCSOURCE_SKIP : DOCSOURCE_FAIL;
    o.max_record = (data[0] & 8) ? 64 : 1 << 16;
    docsource *ds;
    mn_err err = {0};
    if (docsource_open_memory(names[data[0] & 3], data + 1, size - 1, &o, &ds, &err) < 0) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    docsource_doc d;
    int r;
    uint64_t n = 0;
    while ((r = docsource_next(ds, &d, &err)) == 1) {
        n++;
        if (!d.id || !d.source || (d.len && !d.text) || utf8_valid_prefix(d.text, d.len) != d.len ||
            d.len > o.max_record)
            abort();
    }
    if (r < 0 && (!err.msg[0] || err.code != r))
        abort();
    mn_err again = {0};
    if (docsource_next(ds, &d, &again) != r)
        abort();
    docsource_stats st;
    docsource_stats_get(ds, &st);
    if (st.docs != n)
        abort();
    docsource_close(ds);
    return 0;
}
