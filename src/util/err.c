/* err.c — error messages (see err.h) and the allocators that exit on failure. */
#include "util/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/utf8.h" /* utf8_decode */

/* Make s safe to print on one terminal line, in place (truncating to
 * MN_ERR_MSG_MAX - 1 bytes): newlines, carriage returns and tabs become
 * spaces; every other control character (C0, DEL, the C1 range U+0080..9F)
 * and every byte of an ill-formed UTF-8 sequence becomes "\xNN".  Messages
 * quote names from untrusted files (archive members, JSON keys), and a
 * raw ESC or CSI there would drive the user's terminal. */
static void one_line(char *s)
{
    char out[MN_ERR_MSG_MAX];
    size_t n = strlen(s), o = 0;
    for (size_t i = 0; i < n && o < sizeof out - 1;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp = 0;
        size_t len = c < 0x80 ? 1 : utf8_decode(s + i, n - i, &cp);
        if (c == '\n' || c == '\r' || c == '\t') {
            out[o++] = ' ';
            i++;
        } else if (c >= 0x20 && c != 0x7f && (c < 0x80 || (len && (cp < 0x80 || cp > 0x9f)))) {
            if (o + len > sizeof out - 1)
                break;
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        } else { /* a control character, or an ill-formed UTF-8 byte */
            if (o + 4 > sizeof out - 1)
                break;
            snprintf(out + o, 5, "\\x%02x", c);
            o += 4;
            i++;
        }
    }
    out[o] = 0;
    memcpy(s, out, o + 1);
}

int mn_verrf(mn_err *err, int code, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    one_line(err->msg);
    return code;
}

int mn_errf(mn_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mn_verrf(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int mn_err_prefix(mn_err *err, const char *fmt, ...)
{
    if (!err)
        return MN_EFORMAT;
    char prefix[MN_ERR_MSG_MAX], old[MN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n >= sizeof err->msg)
        n = sizeof err->msg - 1;
    memcpy(err->msg, prefix, n);
    size_t rest = strnlen(old, sizeof old);
    if (rest > sizeof err->msg - 1 - n)
        rest = sizeof err->msg - 1 - n;
    memcpy(err->msg + n, old, rest);
    err->msg[n + rest] = 0;
    one_line(err->msg);
    return err->code;
}

const char *mn_strerror(int code)
{
    switch (code) {
    case MN_OK: return "success";
    case MN_EUSAGE: return "usage error";
    case MN_EIO: return "I/O error";
    case MN_EFORMAT: return "format error";
    case MN_ERANGE: return "value out of range";
    case MN_EUNSUPPORTED: return "unsupported";
    case MN_ENOMEM: return "out of memory";
    case MN_EMISMATCH: return "mismatch";
    case MN_ENOSPACE: return "no space";
    case MN_EBUSY: return "busy";
    default: return "unknown error";
    }
}

int mn_exit_code(int code)
{
    if (code == MN_OK)
        return 0;
    return code == MN_EUSAGE ? 2 : 1;
}

static void (*oom_cleanup)(void);

void xalloc_set_oom_cleanup(void (*fn)(void))
{
    oom_cleanup = fn;
}

/* Out of memory in bookkeeping: nothing sensible can go on, but it is no
 * crash either.  One line, the registered cleanup (outfile's temporary
 * files), then _exit: exit() would run atexit handlers and flush stdio
 * buffers, which may need the memory that just ran out. */
static void *oom(size_t n)
{
    fprintf(stderr, "mnemo: out of memory allocating %zu bytes\n", n);
    fflush(stderr); /* in case stderr was made buffered */
    if (oom_cleanup)
        oom_cleanup();
    _exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    return p ? p : oom(n);
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    return p ? p : oom(size && n > SIZE_MAX / size ? SIZE_MAX : n * size);
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    return q ? q : oom(n);
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}
