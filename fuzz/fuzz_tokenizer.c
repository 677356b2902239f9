/* fuzz_tokenizer.c — libFuzzer target for model/tokenizer.
 *
 * A real tokenizer.json is loaded once (MNEMO_FUZZ_TOKENIZER, default
 * deps/tokenizers/qwen3/tokenizer.json relative to the working directory);
 * loading 10 MB per input would be far too slow.  The first input byte
 * picks what to fuzz with the rest:
 *   0, 1  encode (default / plain-special mode) then decode: valid UTF-8
 *         must encode, invalid UTF-8 must be refused with MN_EFORMAT; every
 *         id must be in range; decode(encode(x)) must equal x — or NFC(x)
 *         when the tokenizer normalizes to NFC (found by a probe at start).
 *   2     decode arbitrary ids (some out of range): success iff all are in
 *         range, and the text is valid UTF-8.
 *   3     tokenizer_load_mem on the bytes as a small tokenizer.json; when it
 *         loads, encode and decode a few strings with it.
 * Run: scripts/fuzz.sh, or build with CC=clang -DMNEMO_FUZZ=ON and run
 * build/fuzz/fuzz_tokenizer -max_total_time=30 CORPUS_DIR. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "model/tokenizer.h" /* tokenizer_* */
#include "util/utf8.h"       /* utf8_valid_prefix */

static tokenizer *g_tok;
static int g_nfc; /* 1: the loaded tokenizer normalizes to NFC; 0: no normalizer */

#define REQUIRE(cond, ...)                                                                        \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "fuzz_tokenizer: %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
            fprintf(stderr, __VA_ARGS__);                                                         \
            fputc('\n', stderr);                                                                  \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

/* Encode then decode s; returns the decoded text (caller frees). */
static char *roundtrip(const tokenizer *tok, const char *s, size_t len, int flags, size_t *out_len)
{
    int32_t *ids = NULL;
    size_t n = 0;
    mn_err err = {0};
    int rc = tokenizer_encode(tok, s, len, flags, &ids, &n, &err);
    REQUIRE(rc == 0, "encode failed on valid UTF-8: %s", err.msg);
    for (size_t i = 0; i < n; i++)
        REQUIRE(ids[i] >= 0 && ids[i] < tokenizer_vocab_size(tok), "id %d out of range", ids[i]);
    char *text = NULL;
    rc = tokenizer_decode(tok, ids, n, &text, out_len, &err);
    REQUIRE(rc == 0, "decode of an encoding failed: %s", err.msg);
    REQUIRE(utf8_valid_prefix(text, *out_len) == *out_len, "decode gave invalid UTF-8");
    free(ids);
    return text;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *path = getenv("MNEMO_FUZZ_TOKENIZER");
    if (!path)
        path = "deps/tokenizers/qwen3/tokenizer.json";
    mn_err err = {0};
    if (tokenizer_load(path, &g_tok, &err)) {
        fprintf(stderr, "fuzz_tokenizer: %s (set MNEMO_FUZZ_TOKENIZER or run "
                        "scripts/fetch-tokenizers.sh)\n", err.msg);
        exit(1);
    }
    /* Probe: U+212B ANGSTROM SIGN survives without a normalizer, becomes
     * U+00C5 under NFC. */
    size_t len;
    char *back = roundtrip(g_tok, "\xe2\x84\xab", 3, 0, &len);
    g_nfc = len == 2 && memcmp(back, "\xc3\x85", 2) == 0;
    REQUIRE(g_nfc || (len == 3 && memcmp(back, "\xe2\x84\xab", 3) == 0),
            "probe decoded to %zu unexpected bytes", len);
    free(back);
    fprintf(stderr, "fuzz_tokenizer: %s loaded, %s\n", path, g_nfc ? "NFC" : "no normalizer");
    return 0;
}

static void fuzz_encode(const char *s, size_t len, int flags)
{
    if (utf8_valid_prefix(s, len) != len) {
        int32_t *ids = (int32_t *)1;
        size_t n = 1;
        mn_err err = {0};
        int rc = tokenizer_encode(g_tok, s, len, flags, &ids, &n, &err);
        REQUIRE(rc == MN_EFORMAT && ids == NULL && n == 0, "invalid UTF-8 not refused (rc %d)", rc);
        return;
    }
    size_t got_len;
    char *got = roundtrip(g_tok, s, len, flags, &got_len);
    const char *want = s;
    size_t want_len = len;
    utf8proc_uint8_t *nfc = NULL;
    if (g_nfc && len > 0) {
        utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &nfc,
                                          UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        REQUIRE(r >= 0, "utf8proc refused valid UTF-8");
        want = (const char *)nfc;
        want_len = (size_t)r;
    }
    REQUIRE(got_len == want_len && memcmp(got, want, want_len) == 0,
            "decode(encode(x)) != %s(x): %zu vs %zu bytes", g_nfc ? "NFC" : "", got_len, want_len);
    free(nfc);
    free(got);
}

static void fuzz_decode(const uint8_t *d, size_t len)
{
    size_t n = len / 4;
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids), v = tokenizer_vocab_size(g_tok);
    int in_range = 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, d + 4 * i, 4);
        ids[i] = (int32_t)(u % (uint32_t)(v + 64)) - 16; /* mostly valid, some < 0 or >= V */
        in_range &= ids[i] >= 0 && ids[i] < v;
    }
    char *text = NULL;
    size_t tlen = 0;
    mn_err err = {0};
    int rc = tokenizer_decode(g_tok, ids, n, &text, &tlen, &err);
    if (in_range) {
        /* ids inside [0, V) without a token (none in the shipped files) are MN_ERANGE too */
        REQUIRE(rc == 0 || rc == MN_ERANGE, "decode rc %d: %s", rc, err.msg);
        if (rc == 0)
            REQUIRE(utf8_valid_prefix(text, tlen) == tlen && text[tlen] == 0, "bad decode output");
    } else
        REQUIRE(rc == MN_ERANGE && text == NULL, "out-of-range id accepted (rc %d)", rc);
    free(text);
    free(ids);
}

static void fuzz_load(const uint8_t *d, size_t len)
{
    if (len > 4096) /* keep the JSON small: the real file covers big inputs */
        return;
    tokenizer *tok = NULL;
    mn_err err = {0};
    int rc = tokenizer_load_mem("<fuzz>", (const char *)d, len, &tok, &err);
    if (rc) {
        REQUIRE(tok == NULL && err.msg[0] && !strchr(err.msg, '\n'), "bad error report");
        return;
    }
    /* An arbitrary file may fail to encode (an unk_token missing from its
     * vocab is only an error once needed): only MN_EFORMAT is allowed. */
    static const char *texts[] = {"", "a", "Hello world", "  \n\t x<|im_start|>y", "\xc3\xa9\xe2\x84\xab"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        for (int flags = 0; flags < 2; flags++) {
            int32_t *ids = NULL;
            size_t n = 0, tlen;
            char *text = NULL;
            rc = tokenizer_encode(tok, texts[i], strlen(texts[i]), flags, &ids, &n, &err);
            REQUIRE(rc == 0 || rc == MN_EFORMAT, "encode rc %d: %s", rc, err.msg);
            for (size_t k = 0; k < n; k++)
                REQUIRE(ids[k] >= 0 && ids[k] < tokenizer_vocab_size(tok), "id %d out of range", ids[k]);
            rc = tokenizer_decode(tok, ids, n, &text, &tlen, &err);
            REQUIRE(rc == 0, "decode of an encoding failed: %s", err.msg);
            free(text);
            free(ids);
        }
    tokenizer_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] & 3) {
    case 0:
    case 1:
        fuzz_encode((const char *)data + 1, size - 1, (data[0] & 1) ? TOK_PLAIN_SPECIAL : 0);
        break;
    case 2:
        fuzz_decode(data + 1, size - 1);
        break;
    case 3:
        fuzz_load(data + 1, size - 1);
        break;
    }
    return 0;
}
