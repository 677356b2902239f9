/* test_safetensors.c — the fixture checkpoints open with the dtypes,
 * shapes and shard files reference.json lists; malformed files and index
 * sets (each generated in a temp dir) fail with the expected code and a
 * message naming the file; F16/BF16 widening is exact. */
#include <stdint.h>

#include "model/safetensors.h"
#include "model/st_build.h"
#include "test.h"

static const char *const FIXTURES[4] = {"llama_tiny", "qwen2_tiny", "qwen3_tiny", "neox_tiny"};

static const char *st_dtype_from_torch(const char *torch)
{
    return strcmp(torch, "float32") == 0 ? "F32" : strcmp(torch, "bfloat16") == 0 ? "BF16"
         : strcmp(torch, "float16") == 0 ? "F16" : "?";
}

/* ------------------------------------------------------------------ */
/* fixtures                                                             */
/* ------------------------------------------------------------------ */

static void test_safetensors_fixtures_match_reference(void)
{
    for (int i = 0; i < 4; i++) {
        char p[512];
        snprintf(p, sizeof p, "tests/fixtures/models/%s/reference.json", FIXTURES[i]);
        json_error_t je;
        json_t *ref = json_load_file(fixture_path(p), 0, &je);
        CHECK(ref);
        const json_t *tensors = json_object_get(json_object_get(ref, "weights"), "tensors");
        snprintf(p, sizeof p, "tests/fixtures/models/%s", FIXTURES[i]);
        st_model *st;
        mn_err err = {0};
        int rc = st_open_dir(fixture_path(p), &st, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        CHECK_EQ_INT(st_count(st), json_object_size(tensors));
        const char *name;
        json_t *want;
        json_object_foreach((json_t *)tensors, name, want) {
            const st_tensor *t = st_find(st, name);
            CHECK_MSG(t != NULL, "%s: %s not found", FIXTURES[i], name);
            CHECK(strcmp(t->name, name) == 0);
            CHECK(strcmp(st_dtype_name(t->dtype), st_dtype_from_torch(json_string_value(json_object_get(want, "dtype")))) == 0);
            const json_t *shape = json_object_get(want, "shape");
            CHECK_EQ_INT(t->ndim, json_array_size(shape));
            size_t numel = 1;
            for (int d = 0; d < t->ndim; d++) {
                CHECK_EQ_INT(t->shape[d], json_integer_value(json_array_get(shape, (size_t)d)));
                numel *= (size_t)t->shape[d];
            }
            CHECK_EQ_INT(t->nbytes, numel * st_dtype_size(t->dtype));
            const char *file = json_string_value(json_object_get(want, "file"));
            size_t fl = strlen(t->file), wl = strlen(file);
            CHECK_MSG(fl > wl && strcmp(t->file + fl - wl, file) == 0 && t->file[fl - wl - 1] == '/',
                      "%s in %s, expected %s", name, t->file, file);
        }
        for (size_t k = 1; k < st_count(st); k++)
            CHECK(strcmp(st_at(st, k - 1)->name, st_at(st, k)->name) < 0);
        CHECK(st_find(st, "no.such.tensor") == NULL);
        CHECK(st_find(st, "") == NULL);
        CHECK(st_at(st, st_count(st)) == NULL);
        CHECK_STR_CONTAINS(st_source(st), i == 2 ? "model.safetensors.index.json" : "model.safetensors");
        st_close(st);
        json_decref(ref);
    }
}

/* ------------------------------------------------------------------ */
/* malformed single files                                               */
/* ------------------------------------------------------------------ */

/* 64 data bytes; a valid header for them is BASE. */
#define BASE_A "\"a\":{\"dtype\":\"F32\",\"shape\":[2,4],\"data_offsets\":[0,32]}"
#define BASE_B "\"b\":{\"dtype\":\"F16\",\"shape\":[4,2],\"data_offsets\":[32,48]}"
#define BASE_C "\"c\":{\"dtype\":\"BF16\",\"shape\":[8],\"data_offsets\":[48,64]}"
#define BASE "{\"__metadata__\":{\"format\":\"pt\"}," BASE_A "," BASE_B "," BASE_C "}"

static unsigned char DATA[64];

/* Write a file with the given header (and true or fake header length) and
 * the first ndata bytes of DATA; open it; return the code and message. */
static int open_raw(const char *header, uint64_t hlen, size_t ndata, char *dir, mn_err *err)
{
    const char *path = stb_path(dir, "model.safetensors");
    stb_write_raw(path, hlen ? hlen : strlen(header), header, DATA, ndata);
    st_model *st = NULL;
    int rc = st_open_file(path, &st, err);
    st_close(st);
    return rc;
}

static void test_safetensors_valid_variants(void)
{
    char *dir = stb_tmpdir();
    static const char *const ok[] = {
        BASE,
        "{}",
        "{" BASE_A "," BASE_C "}  ",                                          /* a gap [32, 48) is allowed */
        "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[8,8]}," BASE_A "}", /* empty, inside a */
        "{\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}",     /* scalar */
        "{\"__metadata__\":{}," BASE_B "}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        mn_err err = {0};
        int rc = open_raw(ok[i], 0, 64, dir, &err);
        CHECK_MSG(rc == 0, "variant %zu: %s", i, err.msg);
    }
    /* st_parse validates in memory, with or without keeping the result */
    unsigned char buf[8 + sizeof BASE + 64];
    size_t h = strlen(BASE);
    memset(buf, 0, sizeof buf);
    buf[0] = (unsigned char)h;
    memcpy(buf + 8, BASE, h);
    mn_err err = {0};
    CHECK_EQ_INT(st_parse("mem", buf, 8 + h + 64, NULL, &err), 0);
    st_model *st;
    CHECK_EQ_INT(st_parse("mem", buf, 8 + h + 64, &st, &err), 0);
    CHECK_EQ_INT(st_count(st), 3);
    CHECK(st_find(st, "b")->data == buf + 8 + h + 32);
    CHECK(st_find(st, "b")->file == NULL);
    CHECK(strcmp(st_source(st), "mem") == 0);
    st_close(st);
    stb_rmdir(dir);
}

static void test_safetensors_rejects_malformed(void)
{
    static const struct {
        const char *header;
        uint64_t hlen;   /* 0: the true length */
        size_t ndata;    /* data bytes written after the header */
        const char *frag;
    } rows[] = {
        /* header length */
        {BASE, 999999, 64, "model.safetensors: byte 8: header length 999999 runs past end of file"},
        {BASE, (uint64_t)1 << 62, 64, "model.safetensors: byte 0: header length 4611686018427387904 is absurdly large"},
        {BASE, 1, 64, "model.safetensors: byte 8: header length 1 is too short"},
        {BASE, 0xffffffffffffffffULL, 64, "absurdly large"},
        /* truncated data: the offsets run past the shorter data area */
        {BASE, 0, 40, "model.safetensors: tensor 'b': data_offsets [32, 48] out of data area (40 bytes)"},
        {BASE, 0, 0, "model.safetensors: tensor 'a': data_offsets [0, 32] out of data area (0 bytes)"},
        /* JSON */
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,4],\"data_offsets\":[0,32]}", 0, 64,
         "model.safetensors: byte 64: header is not valid JSON"},
        {"{\"a\" 1}", 0, 64, "model.safetensors: byte 14: header is not valid JSON"},
        {"[1, 2, 3]", 0, 64, "model.safetensors: byte 8: header is not a JSON object"},
        {"{" BASE_A "," BASE_A "}", 0, 64, "model.safetensors: byte 68: duplicate tensor name 'a'"},
        {"{\"__metadata__\":{\"format\":1}}", 0, 64, "model.safetensors: '__metadata__': key 'format': value is not a string"},
        {"{\"__metadata__\":[]}", 0, 64, "'__metadata__': expected an object"},
        /* entries */
        {"{\"a\":[1]}", 0, 64, "model.safetensors: tensor 'a': expected an object"},
        {"{\"a\":{\"dtype\":\"F17\",\"shape\":[2,4],\"data_offsets\":[0,32]}}", 0, 64,
         "model.safetensors: tensor 'a': unknown dtype 'F17'"},
        {"{\"a\":{\"shape\":[2,4],\"data_offsets\":[0,32]}}", 0, 64, "tensor 'a': 'dtype' missing"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,32]}}", 0, 64, "tensor 'a': 'shape' missing"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,-4],\"data_offsets\":[0,32]}}", 0, 64,
         "tensor 'a': shape[1] is not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,\"4\"],\"data_offsets\":[0,32]}}", 0, 64,
         "tensor 'a': shape[1] is not a non-negative integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,8],\"data_offsets\":[0,32]}}", 0, 64,
         "tensor 'a': shape has 9 dimensions"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,32]}}", 0, 64,
         "model.safetensors: tensor 'a': shape [4, 4] of F32 needs 64 bytes but data_offsets [0, 32] span 32"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,32]}}", 0, 64,
         "tensor 'a': shape [4294967296, 4294967296] of F32 overflows"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,32]}}", 0, 64,
         "overflows"},
        {"{\"x.weight\":{\"dtype\":\"F32\",\"shape\":[24],\"data_offsets\":[0,96]}}", 0, 64,
         "model.safetensors: tensor 'x.weight': data_offsets [0, 96] out of data area (64 bytes)"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[40,32]}}", 0, 64,
         "model.safetensors: tensor 'a': data_offsets [40, 32]: begin is after end"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 0, 64,
         "tensor 'a': 'data_offsets' must be two non-negative integers"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 0, 64, "'data_offsets' must be two"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0, 8.0]}}", 0, 64, "'data_offsets' must be two"},
        /* overlaps */
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[12],\"data_offsets\":[0,48]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[32,64]}}", 0, 64,
         "model.safetensors: tensors 'a' and 'b' overlap at bytes [32, 48)"},
        {"{\"b\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[32,64]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[0,64]}}", 0, 64,
         "model.safetensors: tensors 'a' and 'b' overlap at bytes [32, 64)"},
        {"{\"big\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[0,64]},"
         "\"mid\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
         "\"end\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[56,64]}}", 0, 64,
         "tensors 'big' and 'mid' overlap at bytes [8, 16)"},
        {"{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 0, 64,
         "tensors 'a' and 'b' overlap at bytes [0, 4)"},
    };
    char *dir = stb_tmpdir();
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        mn_err err = {0};
        int rc = open_raw(rows[i].header, rows[i].hlen, rows[i].ndata, dir, &err);
        CHECK_MSG(rc == MN_EFORMAT, "row %zu: rc %d (%s)", i, rc, err.msg);
        CHECK_MSG(strstr(err.msg, rows[i].frag) != NULL, "row %zu: '%s' does not contain '%s'", i, err.msg,
                  rows[i].frag);
        CHECK_STR_CONTAINS(err.msg, dir); /* the full path */
    }
    /* files shorter than the 8-byte length */
    for (size_t n = 0; n < 8; n++) {
        stb_write_bytes(stb_path(dir, "model.safetensors"), "\x10\0\0\0\0\0\0", n);
        st_model *st = NULL;
        mn_err err = {0};
        CHECK_EQ_INT(st_open_file(stb_path(dir, "model.safetensors"), &st, &err), MN_EFORMAT);
        char want[96];
        snprintf(want, sizeof want, "model.safetensors: byte 0: file is %zu bytes, too short", n);
        CHECK_STR_CONTAINS(err.msg, want);
        CHECK(st == NULL);
    }
    stb_rmdir(dir);
}

/* A real checkpoint cut short anywhere fails cleanly with a message (or,
 * cut exactly after its last tensor, still opens). */
static void test_safetensors_truncated_fixture(void)
{
    char *dir = stb_tmpdir();
    FILE *f = fopen(fixture_path("tests/fixtures/models/qwen3_tiny/model-00003-of-00003.safetensors"), "rb");
    CHECK(f);
    static unsigned char buf[140000];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    static const size_t cuts[] = {5, 8, 100, 919, 920, 5000, 133015};
    static const char *const frags[] = {"byte 0: file is 5 bytes", "byte 8: header length 912 runs past end of file (8 bytes)",
                                        "byte 8: header length 912 runs past end of file (100 bytes)",
                                        "runs past end of file (919 bytes)", "out of data area (0 bytes)",
                                        "out of data area (4080 bytes)", "out of data area (132095 bytes)"};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        const char *path = stb_path(dir, "model.safetensors");
        stb_write_bytes(path, buf, cuts[i]);
        st_model *st = NULL;
        mn_err err = {0};
        int rc = st_open_file(path, &st, &err);
        CHECK_MSG(rc == MN_EFORMAT, "cut %zu: rc %d", cuts[i], rc);
        CHECK_MSG(strstr(err.msg, frags[i]), "cut %zu: '%s' lacks '%s'", cuts[i], err.msg, frags[i]);
    }
    /* every cut inside the header and the first tensors, then a sample */
    for (size_t cut = 0; cut < n; cut += cut < 2000 ? 1 : 997) {
        mn_err err = {0};
        int rc = st_parse("cut", buf, cut, NULL, &err);
        CHECK_MSG(rc == MN_EFORMAT && strncmp(err.msg, "cut: ", 5) == 0, "cut %zu: rc %d (%s)", cut, rc, err.msg);
    }
    stb_write_bytes(stb_path(dir, "model.safetensors"), buf, n);
    st_model *st;
    mn_err err = {0};
    CHECK_MSG(st_open_file(stb_path(dir, "model.safetensors"), &st, &err) == 0, "%s", err.msg);
    st_close(st);
    stb_rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* sharded sets                                                         */
/* ------------------------------------------------------------------ */

/* A two-shard set: s1 holds a, b; s2 holds c.  `index` is the index text. */
static char *make_shards(const char *index)
{
    char *dir = stb_tmpdir();
    const char *h1 = "{" BASE_A "," BASE_B "}", *h2 = "{\"c\":{\"dtype\":\"BF16\",\"shape\":[8],\"data_offsets\":[0,16]}}";
    stb_write_raw(stb_path(dir, "s-1.safetensors"), strlen(h1), h1, DATA, 48);
    stb_write_raw(stb_path(dir, "s-2.safetensors"), strlen(h2), h2, DATA, 16);
    if (index)
        stb_write_bytes(stb_path(dir, "model.safetensors.index.json"), index, strlen(index));
    return dir;
}

static void test_safetensors_index(void)
{
    static const struct {
        const char *index;
        int code;
        const char *frag;
    } rows[] = {
        {"{\"metadata\": {}, \"weight_map\": {\"a\": \"s-1.safetensors\", \"b\": \"s-1.safetensors\", "
         "\"c\": \"s-2.safetensors\"}}", 0, NULL},
        {"{\"weight_map\": {\"a\": \"s-1.safetensors\", \"c\": \"s-3.safetensors\"}}", MN_EIO,
         "s-3.safetensors: cannot open: No such file or directory (named by "},
        {"{\"weight_map\": {\"a\": \"s-1.safetensors\", \"c\": \"s-1.safetensors\"}}", MN_EFORMAT,
         "s-1.safetensors: tensor 'c': not found, but "},
        {"{\"weight_map\": {\"a\": \"s-1.safetensors\", \"a.bias\": \"s-2.safetensors\"}}", MN_EFORMAT,
         "s-2.safetensors: tensor 'a.bias': not found"},
        {"{\"weight\": {}}", MN_EFORMAT, "model.safetensors.index.json: key 'weight_map': missing or not an object"},
        {"{\"weight_map\": {\"a\": 1}}", MN_EFORMAT, "model.safetensors.index.json: weight_map 'a': file name is not a string"},
        {"{\"weight_map\": {\"a\": \"../s-1.safetensors\"}}", MN_EFORMAT, "'../s-1.safetensors' is not a file name"},
        {"{\"weight_map\": {\"a\": \"s-1.safetensors\",}}", MN_EFORMAT, "model.safetensors.index.json: line 1"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *dir = make_shards(rows[i].index);
        st_model *st = NULL;
        mn_err err = {0};
        int rc = st_open_dir(dir, &st, &err);
        if (rc == 0) {
            CHECK_EQ_INT(st_count(st), 3);
            CHECK(strcmp(st_find(st, "c")->file, stb_path(dir, "s-2.safetensors")) == 0);
            CHECK(strcmp(st_find(st, "a")->file, stb_path(dir, "s-1.safetensors")) == 0);
            CHECK(strcmp(st_source(st), stb_path(dir, "model.safetensors.index.json")) == 0);
        }
        st_close(st);
        stb_rmdir(dir);
        CHECK_MSG(rc == rows[i].code, "row %zu: rc %d (%s)", i, rc, err.msg);
        if (rows[i].frag)
            CHECK_MSG(strstr(err.msg, rows[i].frag) != NULL, "row %zu: '%s' lacks '%s'", i, err.msg, rows[i].frag);
    }
}

static void test_safetensors_tensor_in_two_shards(void)
{
    char *dir = make_shards("{\"weight_map\": {\"a\": \"s-1.safetensors\", \"c\": \"s-2.safetensors\", "
                            "\"b\": \"s-3.safetensors\"}}");
    const char *h3 = "{" BASE_B "}";
    stb_write_raw(stb_path(dir, "s-3.safetensors"), strlen(h3), h3, DATA, 48);
    st_model *st = NULL;
    mn_err err = {0};
    int rc = st_open_dir(dir, &st, &err);
    stb_rmdir(dir);
    CHECK_EQ_INT(rc, MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "model.safetensors.index.json: tensor 'b' is stored in both ");
    CHECK(st == NULL);
}

static void test_safetensors_empty_dir(void)
{
    char *dir = stb_tmpdir();
    st_model *st = NULL;
    mn_err err = {0};
    CHECK_EQ_INT(st_open_dir(dir, &st, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "model.safetensors: cannot open");
    CHECK_STR_CONTAINS(err.msg, "no model.safetensors.index.json");
    stb_rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* widening                                                             */
/* ------------------------------------------------------------------ */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void test_safetensors_f16_bf16_exact(void)
{
    static const struct {
        uint16_t in;
        uint32_t out;
    } f16[] = {
        {0x0000, 0x00000000}, {0x8000, 0x80000000},                       /* +-0 */
        {0x0001, 0x33800000}, {0x8001, 0xb3800000},                       /* smallest subnormal 2^-24 */
        {0x0002, 0x34000000}, {0x0003, 0x34400000},                       /* 2^-23, 3 * 2^-24 */
        {0x0200, 0x38000000}, {0x03ff, 0x387fc000},                       /* 2^-15, largest subnormal */
        {0x0400, 0x38800000},                                             /* smallest normal 2^-14 */
        {0x3c00, 0x3f800000}, {0xc000, 0xc0000000}, {0x3555, 0x3eaaa000}, /* 1, -2, 0.333251953125 */
        {0x7bff, 0x477fe000},                                             /* 65504 */
        {0x7c00, 0x7f800000}, {0xfc00, 0xff800000},                       /* +-inf */
        {0x7e00, 0x7fc00000}, {0x7c01, 0x7f802000}, {0xfe01, 0xffc02000}, /* nan, payload kept */
    };
    for (size_t i = 0; i < sizeof f16 / sizeof f16[0]; i++)
        CHECK_MSG(f32_bits(st_f16_to_f32(f16[i].in)) == f16[i].out, "f16 %04x -> %08x, want %08x", f16[i].in,
                  f32_bits(st_f16_to_f32(f16[i].in)), f16[i].out);
    static const struct {
        uint16_t in;
        uint32_t out;
    } bf16[] = {
        {0x0000, 0x00000000}, {0x8000, 0x80000000}, {0x3f80, 0x3f800000}, {0x0001, 0x00010000},
        {0x007f, 0x007f0000}, {0x7f7f, 0x7f7f0000}, {0x7f80, 0x7f800000}, {0xff80, 0xff800000},
        {0x7fc0, 0x7fc00000}, {0xffc1, 0xffc10000},
    };
    for (size_t i = 0; i < sizeof bf16 / sizeof bf16[0]; i++)
        CHECK_MSG(f32_bits(st_bf16_to_f32(bf16[i].in)) == bf16[i].out, "bf16 %04x", bf16[i].in);

    /* every f16 value: exact against ldexp arithmetic */
    for (uint32_t h = 0; h < 0x10000; h++) {
        int e = (h >> 10) & 0x1f, m = h & 0x3ff;
        float got = st_f16_to_f32((uint16_t)h);
        if (e == 0x1f) {
            CHECK(m ? isnan(got) : isinf(got));
            continue;
        }
        double v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
        if (h & 0x8000)
            v = -v;
        CHECK_MSG(got == (float)v && !signbit(got) == !signbit(v), "f16 %04x: %.9g vs %.9g", h, got, v);
    }
#if defined(__FLT16_MAX__)
    for (uint32_t h = 0; h < 0x10000; h++) {
        _Float16 x;
        uint16_t b = (uint16_t)h;
        memcpy(&x, &b, 2);
        float want = (float)x, got = st_f16_to_f32(b);
        CHECK_MSG(isnan(want) ? isnan(got) : f32_bits(want) == f32_bits(got), "f16 %04x vs _Float16", h);
    }
#endif
}

/* st_to_f32 / st_to_f32_at on tensors of each dtype. */
static void test_safetensors_to_f32(void)
{
    static const uint16_t h[4] = {0x3c00, 0x0001, 0xfc00, 0x3555}, b[4] = {0x3f80, 0x0001, 0xff80, 0x4049};
    static const float f[4] = {1.5f, -2.0f, 0.0f, 1e-40f};
    static const int64_t ints[2] = {1, 2};
    stb_tensor t[4] = {
        {"f16", "F16", 1, {4}, h, 8}, {"bf16", "BF16", 1, {4}, b, 8}, {"f32", "F32", 1, {4}, f, 16}, {"i64", "I64", 1, {2}, ints, 16},
    };
    char *dir = stb_tmpdir();
    stb_write(stb_path(dir, "model.safetensors"), t, 4);
    st_model *st;
    mn_err err = {0};
    CHECK_MSG(st_open_dir(dir, &st, &err) == 0, "%s", err.msg);
    float out[4];
    CHECK_EQ_INT(st_to_f32(st_find(st, "f16"), out, 4), 0);
    CHECK(out[0] == 1.0f && out[1] == ldexpf(1, -24) && isinf(out[2]) && out[2] < 0 && out[3] == 0.333251953125f);
    CHECK_EQ_INT(st_to_f32(st_find(st, "bf16"), out, 4), 0);
    CHECK(out[0] == 1.0f && f32_bits(out[1]) == 0x00010000 && isinf(out[2]) && out[3] == 3.140625f);
    CHECK_EQ_INT(st_to_f32(st_find(st, "f32"), out, 4), 0);
    CHECK(memcmp(out, f, sizeof f) == 0);
    CHECK_EQ_INT(st_to_f32_at(st_find(st, "f16"), 2, out, 2), 0);
    CHECK(isinf(out[0]) && out[1] == 0.333251953125f);
    CHECK_EQ_INT(st_to_f32_at(st_find(st, "f16"), 3, out, 2), MN_ERANGE);
    CHECK_EQ_INT(st_to_f32(st_find(st, "f32"), out, 5), MN_ERANGE);
    CHECK_EQ_INT(st_to_f32(st_find(st, "i64"), out, 2), MN_EUNSUPPORTED);
    st_close(st);
    stb_rmdir(dir);
    CHECK(strcmp(st_dtype_name(ST_BF16), "BF16") == 0 && st_dtype_size(ST_BF16) == 2);
    CHECK(strcmp(st_dtype_name(ST_F8_E4M3), "F8_E4M3") == 0 && st_dtype_size(ST_I64) == 8);
}

TEST_MAIN(TEST(test_safetensors_fixtures_match_reference), TEST(test_safetensors_valid_variants),
          TEST(test_safetensors_rejects_malformed), TEST(test_safetensors_truncated_fixture),
          TEST(test_safetensors_index), TEST(test_safetensors_tensor_in_two_shards),
          TEST(test_safetensors_empty_dir), TEST(test_safetensors_f16_bf16_exact), TEST(test_safetensors_to_f32))
