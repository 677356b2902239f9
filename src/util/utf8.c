/* utf8.c — strict UTF-8 decoding and lossy repair (see utf8.h).
 *
 * One table-free routine, utf8_scan(), classifies the sequence at a
 * position: either a valid scalar of length 1..4, or an ill-formed subpart
 * of length 1..3 (the "maximal subpart" of Unicode §3.9 / WHATWG, which is
 * also what Rust's Utf8Chunks reports).  Everything else builds on it. */
#include "util/utf8.h"

#include <string.h>

/* Valid range of the second byte for each lead byte (Unicode Table 3-7);
 * continuation bytes after the second are always 80..BF. */
static int lead_info(unsigned char b, size_t *width, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF)
        *width = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        *width = 3;
        if (b == 0xE0)
            *lo = 0xA0;
        else if (b == 0xED)
            *hi = 0x9F; /* would encode a surrogate */
    } else if (b >= 0xF0 && b <= 0xF4) {
        *width = 4;
        if (b == 0xF0)
            *lo = 0x90;
        else if (b == 0xF4)
            *hi = 0x8F; /* would exceed U+10FFFF */
    } else
        return 0;
    return 1;
}

/* At s[0..len) (len >= 1): return > 0 = length of a valid sequence (scalar
 * in *cp), or < 0 = minus the length of the maximal ill-formed subpart. */
static int utf8_scan(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char b = s[0], lo, hi;
    size_t width;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (!lead_info(b, &width, &lo, &hi))
        return -1;
    if (len < 2 || s[1] < lo || s[1] > hi)
        return -1;
    uint32_t v = (uint32_t)(b & (0x7F >> width));
    v = (v << 6) | (s[1] & 0x3F);
    for (size_t k = 2; k < width; k++) {
        if (k >= len || (s[k] & 0xC0) != 0x80)
            return -(int)k;
        v = (v << 6) | (s[k] & 0x3F);
    }
    *cp = v;
    return (int)width;
}

size_t utf8_valid_prefix(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (u[i] < 0x80) { /* fast path for ASCII runs */
            i++;
            continue;
        }
        uint32_t cp;
        int r = utf8_scan(u + i, len - i, &cp);
        if (r < 0)
            return i;
        i += (size_t)r;
    }
    return len;
}

size_t utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    if (len == 0)
        return 0;
    uint32_t v;
    int r = utf8_scan((const unsigned char *)s, len, &v);
    if (r < 0)
        return 0;
    *cp = v;
    return (size_t)r;
}

size_t utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t utf8_lossy(const char *in, size_t len, char *out)
{
    const unsigned char *u = (const unsigned char *)in;
    size_t i = 0, o = 0;
    while (i < len) {
        uint32_t cp;
        int r = utf8_scan(u + i, len - i, &cp);
        if (r > 0) {
            memcpy(out + o, in + i, (size_t)r);
            o += (size_t)r;
            i += (size_t)r;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += (size_t)-r;
        }
    }
    return o;
}
