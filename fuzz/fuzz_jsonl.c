/* fuzz_jsonl.c — libFuzzer target: JSON Lines records on arbitrary bytes,
 * both one line through jsonl_parse_line (text must be valid UTF-8, an
 * error must carry a message) and the whole input as a .jsonl file through
 * docsource in SKIP mode (every line is a document or a counted skip).
 * Seeds: fuzz/corpus/jsonl/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "retrieval/docsource.h" /* docsource_open_memory */
#include "retrieval/jsonl.h"     /* jsonl_parse_line */
#include "util/utf8.h"           /* utf8_valid_prefix */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    jsonl_record rec;
    mn_err err = {0};
    int r = jsonl_parse_line(s, size, "text", "id", &rec, &err);
    if (r == 1) {
        if (!rec.text || utf8_valid_prefix(rec.text, rec.len) != rec.len)
            abort();
        jsonl_record_clear(&rec);
    } else if (r < 0 && (!err.msg[0] || rec.root)) {
        abort();
    }

    docsource_opts o;
    docsource_opts_default(&o);
    o.on_error = DOCSOURCE_SKIP;
    o.max_record = 256;
    docsource *ds;
    if (docsource_open_memory("fuzz.jsonl", data, size, &o, &ds, &err) < 0)
        return 0;
    docsource_doc d;
    uint64_t n = 0;
    while ((r = docsource_next(ds, &d, &err)) == 1) {
        n++;
        if (d.line == 0 || !d.id || utf8_valid_prefix(d.text, d.len) != d.len)
            abort();
    }
    docsource_stats st;
    docsource_stats_get(ds, &st);
    if (st.docs != n)
        abort();
    docsource_close(ds);
    return 0;
}
