/* test_jsonl.c — jsonl_parse_line: one JSON Lines record to text + id, a
 * table of valid lines, field options and every error with its message. */
#include <string.h>

#include "retrieval/jsonl.h"
#include "test.h"

typedef struct jcase {
    const char *line;
    const char *text_field, *id_field;
    int rc;
    const char *text; /* expected text (rc 1) */
    size_t len;       /* expected length when text has a NUL; 0: strlen */
    const char *id;   /* expected id, NULL = none */
    const char *msg;  /* expected error fragment (rc < 0) */
} jcase;

static const jcase CASES[] = {
    {"{\"id\":\"x\",\"text\":\"hello\"}", "text", "id", 1, "hello", 0, "x", NULL},
    {"  {\"text\":\"hi\",\"id\":42}  \r", "text", "id", 1, "hi", 0, "42", NULL},
    {"{\"text\":\"hi\",\"id\":-7}", "text", "id", 1, "hi", 0, "-7", NULL},
    {"{\"text\":\"hi\"}", "text", "id", 1, "hi", 0, NULL, NULL},
    {"{\"text\":\"hi\",\"id\":null}", "text", "id", 1, "hi", 0, NULL, NULL},
    {"{\"text\":\"\"}", "text", "id", 1, "", 0, NULL, NULL},
    {"{\"text\":\"a\\u0000b\"}", "text", "id", 1, "a\0b", 3, NULL, NULL},
    {"{\"text\":\"caf\xc3\xa9 \\u00e9\\n\"}", "text", "id", 1, "caf\xc3\xa9 \xc3\xa9\n", 0, NULL, NULL},
    {"{\"content\":\"c\",\"doc_id\":\"d7\",\"text\":5}", "content", "doc_id", 1, "c", 0, "d7", NULL},
    {"{\"text\":\"t\",\"id\":\"x\"}", "text", "", 1, "t", 0, NULL, NULL},
    {"{\"text\":\"t\",\"id\":\"x\"}", "text", NULL, 1, "t", 0, NULL, NULL},
    {"", "text", "id", 0, NULL, 0, NULL, NULL},
    {" \t \r", "text", "id", 0, NULL, 0, NULL, NULL},
    {"{\"text\":\"hi\",\"id\":1.5}", "text", "id", MN_EFORMAT, NULL, 0, NULL,
     "id field 'id' is not a string or an integer (found number)"},
    {"{\"text\":\"hi\",\"id\":{}}", "text", "id", MN_EFORMAT, NULL, 0, NULL, "(found object)"},
    {"[1,2]", "text", "id", MN_EFORMAT, NULL, 0, NULL, "not a JSON object (found array)"},
    {"\"str\"", "text", "id", MN_EFORMAT, NULL, 0, NULL, "not a JSON object (found string)"},
    {"{\"text\":5}", "text", "id", MN_EFORMAT, NULL, 0, NULL, "text field 'text' is not a string (found integer)"},
    {"{\"text\":null}", "text", "id", MN_EFORMAT, NULL, 0, NULL, "(found null)"},
    {"{\"body\":\"x\"}", "text", "id", MN_EFORMAT, NULL, 0, NULL, "missing text field 'text'"},
    {"{\"text\":\"x\"}", "content", "id", MN_EFORMAT, NULL, 0, NULL, "missing text field 'content'"},
    {"{\"text\":\"a", "text", "id", MN_EFORMAT, NULL, 0, NULL, "invalid JSON at byte"},
    {"{\"text\":\"a\"} x", "text", "id", MN_EFORMAT, NULL, 0, NULL, "invalid JSON at byte"},
    {"{\"text\":\"a\"}{}", "text", "id", MN_EFORMAT, NULL, 0, NULL, "invalid JSON"},
    {"{\"text\":\"\\ud800\"}", "text", "id", MN_EFORMAT, NULL, 0, NULL, "invalid JSON"},
    {"{\"text\":\"caf\xc3\"}", "text", "id", MN_EFORMAT, NULL, 0, NULL, "invalid UTF-8 at byte 12 of the line (0xc3)"},
    {"\xff{\"text\":\"a\"}", "text", "id", MN_EFORMAT, NULL, 0, NULL, "invalid UTF-8 at byte 0 of the line (0xff)"},
    {"{\"text\":\"\xed\xa0\x80\"}", "text", "id", MN_EFORMAT, NULL, 0, NULL, "invalid UTF-8 at byte 9"},
};

static void test_jsonl_parse_table(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const jcase *c = &CASES[i];
        jsonl_record rec;
        mn_err err = {0};
        int rc = jsonl_parse_line(c->line, strlen(c->line), c->text_field, c->id_field, &rec, &err);
        CHECK_MSG(rc == c->rc, "case %zu '%s': rc %d, want %d (%s)", i, c->line, rc, c->rc, err.msg);
        if (rc < 0) {
            CHECK_MSG(strstr(err.msg, c->msg) != NULL, "case %zu: '%s' lacks '%s'", i, err.msg, c->msg);
            CHECK(rec.root == NULL);
            continue;
        }
        if (rc == 0) {
            CHECK(rec.root == NULL && rec.text == NULL);
            continue;
        }
        size_t len = c->len ? c->len : strlen(c->text);
        CHECK_MSG(rec.len == len && memcmp(rec.text, c->text, len) == 0, "case %zu: text '%s' (%zu bytes)", i,
                  rec.text, rec.len);
        if (c->id)
            CHECK_MSG(rec.id && strcmp(rec.id, c->id) == 0, "case %zu: id '%s', want '%s'", i,
                      rec.id ? rec.id : "(null)", c->id);
        else
            CHECK_MSG(rec.id == NULL, "case %zu: id '%s', want none", i, rec.id);
        jsonl_record_clear(&rec);
        CHECK(rec.root == NULL);
    }
}

/* Deep nesting is rejected by jansson's depth limit, not by a stack overflow. */
static void test_jsonl_deep_nesting_is_an_error(void)
{
    size_t n = 200000;
    char *s = malloc(2 * n + 1);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = 0;
    jsonl_record rec;
    mn_err err = {0};
    int rc = jsonl_parse_line(s, 2 * n, "text", "id", &rec, &err);
    free(s);
    CHECK_EQ_INT(rc, MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "invalid JSON");
}

/* The line need not be NUL-terminated: bytes after len are ignored. */
static void test_jsonl_uses_len_not_nul(void)
{
    const char buf[] = "{\"text\":\"ab\"}GARBAGE";
    jsonl_record rec;
    mn_err err = {0};
    CHECK_EQ_INT(jsonl_parse_line(buf, 13, "text", "id", &rec, &err), 1);
    CHECK(rec.len == 2 && memcmp(rec.text, "ab", 2) == 0);
    jsonl_record_clear(&rec);
}

TEST_MAIN(TEST(test_jsonl_parse_table), TEST(test_jsonl_deep_nesting_is_an_error), TEST(test_jsonl_uses_len_not_nul))
