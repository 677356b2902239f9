/* wet.c — WARC/1.0 conversion records to documents (see wet.h).
 *
 * One call reads one record: skip blank lines (the CRLF CRLF between
 * records), the version line, header lines up to the empty line, then the
 * body with linereader_block (bounded by lr->max) or linereader_skip for
 * records that are not documents. */
#include "retrieval/wet.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/utf8.h" /* utf8_valid_prefix */

#define WET_HEADER_MAX ((size_t)1 << 20)

void wet_reader_init(wet_reader *w) { memset(w, 0, sizeof *w); }

void wet_reader_free(wet_reader *w)
{
    free(w->id);
    free(w->uri);
    w->id = w->uri = NULL;
}

static int is_version_line(const char *s, size_t len) { return len >= 5 && memcmp(s, "WARC/", 5) == 0; }

/* Copy at most 40 bytes of s as printable ASCII for a message. */
static const char *snippet(const char *s, size_t len, char out[48])
{
    size_t n = len < 40 ? len : 40, j = 0;
    for (size_t i = 0; i < n; i++)
        out[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    out[j] = 0;
    return out;
}

/* If line is "name: value" (name compared case-insensitively), return a
 * malloc'd copy of value with surrounding blanks trimmed. */
static char *header_value(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return NULL;
    const char *v = line + n + 1, *e = line + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    char *out = xmalloc((size_t)(e - v) + 1);
    memcpy(out, v, (size_t)(e - v));
    out[e - v] = 0;
    return out;
}

static void set_owned(char **slot, char *v)
{
    free(*slot);
    *slot = v;
}

/* Skip blank lines (and, when resynchronising, any line that is not a
 * version line).  Returns 1 with the version line's offset, 0 at end, or a
 * negative code. */
static int find_version_line(wet_reader *w, linereader *lr, uint64_t *off, mn_err *err)
{
    for (;;) {
        const char *line;
        size_t len;
        int r = linereader_line(lr, &line, &len, off);
        if (r == LR_ETOOLONG) {
            if (w->resync)
                continue;
            w->resync = 1; /* not a record: the next real one keeps number record + 1 */
            return mn_errf(err, MN_ERANGE, "record %" PRIu64 " at byte %" PRIu64 ": line of %zu bytes where a 'WARC/1.0' version line was expected (limit %zu)",
                           w->record + 1, *off, len, lr->max);
        }
        if (r <= 0)
            return r;
        if (is_version_line(line, len)) {
            w->record++;
            w->resync = 0;
            return 1;
        }
        if (len == 0 || w->resync)
            continue;
        char sn[48];
        w->resync = 1;
        return mn_errf(err, MN_EFORMAT, "record %" PRIu64 " at byte %" PRIu64 ": expected a 'WARC/1.0' version line, found '%s'",
                       w->record + 1, *off, snippet(line, len, sn));
    }
}

typedef struct wet_header {
    char *type;            /* WARC-Type, owned */
    uint64_t length;       /* Content-Length */
    int has_length;
} wet_header;

static int parse_length(const char *v, uint64_t *out)
{
    if (!isdigit((unsigned char)v[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end)
        return -1;
    *out = x;
    return 0;
}

/* Read header lines up to the empty line.  On error the reader is put in
 * resync mode. */
static int read_header(wet_reader *w, linereader *lr, uint64_t roff, wet_header *h, mn_err *err)
{
    size_t total = 0;
    for (;;) {
        const char *line;
        size_t len;
        uint64_t off;
        int r = linereader_line(lr, &line, &len, &off);
        if (r == LR_ESOURCE)
            return r;
        w->resync = 1;
        if (r == 0)
            return mn_errf(err, MN_EFORMAT, "record %" PRIu64 " at byte %" PRIu64 ": truncated: the stream ends inside the record header",
                           w->record, roff);
        if (r == LR_ETOOLONG)
            return mn_errf(err, MN_ERANGE, "record %" PRIu64 " at byte %" PRIu64 ": header line at byte %" PRIu64 " has %zu bytes (limit %zu)",
                           w->record, roff, off, len, lr->max);
        total += len;
        if (total > WET_HEADER_MAX)
            return mn_errf(err, MN_ERANGE, "record %" PRIu64 " at byte %" PRIu64 ": header longer than %zu bytes",
                           w->record, roff, WET_HEADER_MAX);
        w->resync = 0;
        if (len == 0)
            return 0;
        char *v;
        if ((v = header_value(line, len, "WARC-Type")))
            set_owned(&h->type, v);
        else if ((v = header_value(line, len, "WARC-Target-URI")))
            set_owned(&w->uri, v);
        else if ((v = header_value(line, len, "WARC-Record-ID")))
            set_owned(&w->id, v);
        else if ((v = header_value(line, len, "Content-Length"))) {
            int bad = parse_length(v, &h->length);
            free(v);
            if (bad) {
                char sn[48];
                w->resync = 1;
                return mn_errf(err, MN_EFORMAT, "record %" PRIu64 " at byte %" PRIu64 ": bad Content-Length '%s'",
                               w->record, roff, snippet(line, len, sn));
            }
            h->has_length = 1;
        }
    }
}

/* "<urn:uuid:...>" -> "urn:uuid:..." in place. */
static void strip_brackets(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
        memmove(s, s + 1, n - 2);
        s[n - 2] = 0;
    }
}

/* Skip the body of a record that is not a document (or too long). */
static int skip_body(wet_reader *w, linereader *lr, uint64_t roff, uint64_t n, mn_err *err)
{
    uint64_t got;
    int r = linereader_skip(lr, n, &got);
    if (r == LR_ESOURCE)
        return r;
    if (r == 0)
        return mn_errf(err, MN_EFORMAT, "record %" PRIu64 " at byte %" PRIu64 ": truncated: Content-Length %" PRIu64 " but the stream ends after %" PRIu64 " bytes of body",
                       w->record, roff, n, got);
    return 0;
}

int wet_reader_next(wet_reader *w, linereader *lr, wet_record *out, mn_err *err)
{
    memset(out, 0, sizeof *out);
    for (;;) {
        uint64_t roff;
        int r = find_version_line(w, lr, &roff, err);
        if (r <= 0)
            return r;
        wet_header h = {0};
        set_owned(&w->id, NULL);
        set_owned(&w->uri, NULL);
        if ((r = read_header(w, lr, roff, &h, err)) < 0)
            goto done;
        if (!h.has_length) {
            w->resync = 1;
            r = mn_errf(err, MN_EFORMAT, "record %" PRIu64 " at byte %" PRIu64 ": missing Content-Length header", w->record, roff);
            goto done;
        }
        if (!h.type || strcmp(h.type, "conversion") != 0) {
            w->ignored++;
            r = skip_body(w, lr, roff, h.length, err);
            free(h.type);
            if (r < 0)
                return r;
            continue;
        }
        if (h.length > lr->max) {
            if ((r = skip_body(w, lr, roff, h.length, err)) == 0)
                r = mn_errf(err, MN_ERANGE, "record %" PRIu64 " at byte %" PRIu64 ": Content-Length %" PRIu64 " exceeds the limit of %zu bytes",
                            w->record, roff, h.length, lr->max);
            goto done;
        }
        const char *body;
        size_t got;
        uint64_t boff;
        r = linereader_block(lr, (size_t)h.length, &body, &got, &boff);
        if (r == LR_ESOURCE)
            goto done;
        if (r == 0) {
            r = mn_errf(err, MN_EFORMAT, "record %" PRIu64 " at byte %" PRIu64 ": truncated: Content-Length %" PRIu64 " but the stream ends after %zu bytes of body",
                        w->record, roff, h.length, got);
            goto done;
        }
        size_t ok = utf8_valid_prefix(body, got);
        if (ok < got) {
            r = mn_errf(err, MN_EFORMAT, "record %" PRIu64 " at byte %" PRIu64 ": invalid UTF-8 at byte %zu of the body (stream byte %" PRIu64 ")",
                        w->record, roff, ok, boff + ok);
            goto done;
        }
        if (w->id)
            strip_brackets(w->id);
        out->text = body;
        out->len = got;
        out->id = w->id ? w->id : w->uri;
        out->uri = w->uri;
        out->record = w->record;
        out->offset = roff;
        r = 1;
    done:
        free(h.type);
        return r;
    }
}
