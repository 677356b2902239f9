/* utf8.h — the few UTF-8 primitives the tokenizer needs: strict validation,
 * decoding one scalar value, encoding one, and Rust's `from_utf8_lossy`
 * repair (each maximal ill-formed subpart becomes one U+FFFD).
 *
 * Strict means RFC 3629: no overlong forms, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF.  Noncharacters (U+FFFE, U+10FFFF, ...) and U+0000
 * are valid scalar values and pass.  Non-goals: normalization (utf8proc
 * does that), grapheme segmentation, UTF-16. */
#ifndef MNEMO_UTIL_UTF8_H
#define MNEMO_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the longest valid UTF-8 prefix of s[0..len): len when all of it
 * is valid, else the byte offset of the first ill-formed sequence. */
size_t utf8_valid_prefix(const char *s, size_t len);

/* Decode the sequence starting at s (at most len bytes available).  Returns
 * its length 1..4 and stores the scalar value in *cp, or returns 0 when the
 * bytes there are ill-formed or truncated (*cp untouched). */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Encode scalar value cp (must be <= 0x10FFFF and not a surrogate) into
 * out[0..4); returns the number of bytes written (1..4). */
size_t utf8_encode(uint32_t cp, char *out);

/* Copy in[0..len) to out, replacing every maximal ill-formed subpart with
 * U+FFFD (EF BF BD), exactly like Rust's String::from_utf8_lossy.  out must
 * have room for 3 * len bytes (the worst case: every byte replaced).
 * Returns the number of bytes written. */
size_t utf8_lossy(const char *in, size_t len, char *out);

#endif
