/* porter.c — the original Porter stemmer over UTF-16 code units (see
 * porter.h for the variant and why UTF-16).
 *
 * Notation follows the paper: a word is [C](VC){m}[V]; b[0..k] is the word
 * being stemmed, ends() sets j so that b[0..j] is the stem before a matched
 * suffix; m() measures b[0..j].  Step numbers are the paper's (1a, 1b, 1c,
 * 2, 3, 4, 5a, 5b).  Within each step only the first matching suffix of the
 * list is considered (the lists are ordered longest first where suffixes
 * overlap), and a matched suffix whose condition fails ends the step: this
 * is the paper's "longest matching suffix" rule. */
#include "retrieval/porter.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/utf8.h"

typedef struct stemmer {
    uint16_t *b; /* [k+1] UTF-16 units of the word */
    int k;       /* index of the last unit of the current word */
    int j;       /* index of the last unit of the stem before a suffix */
} stemmer;

/* Is b[i] a consonant?  y is a consonant at the start and after a vowel. */
static int cons(const stemmer *z, int i)
{
    /* Iterative form of "y is a consonant iff not preceded by a consonant":
     * walk back over the run of y's ending at i. */
    int flips = 0;
    while (z->b[i] == 'y') {
        if (i == 0)
            return !(flips & 1);
        i--;
        flips++;
    }
    int c = !(z->b[i] == 'a' || z->b[i] == 'e' || z->b[i] == 'i' || z->b[i] == 'o' || z->b[i] == 'u');
    return (flips & 1) ? !c : c;
}

/* m: the number of VC sequences in b[0..j]. */
static int measure(const stemmer *z)
{
    int n = 0, i = 0;
    while (i <= z->j && cons(z, i))
        i++;
    for (;;) {
        while (i <= z->j && !cons(z, i))
            i++;
        if (i > z->j)
            return n;
        while (i <= z->j && cons(z, i))
            i++;
        n++;
        if (i > z->j)
            return n;
    }
}

/* *v*: does b[0..j] contain a vowel? */
static int vowel_in_stem(const stemmer *z)
{
    for (int i = 0; i <= z->j; i++)
        if (!cons(z, i))
            return 1;
    return 0;
}

/* *d: do b[i-1] and b[i] form a double consonant? */
static int double_cons(const stemmer *z, int i)
{
    return i >= 1 && z->b[i] == z->b[i - 1] && cons(z, i);
}

/* *o: is b[i-2..i] consonant-vowel-consonant with b[i] not w, x or y? */
static int cvc(const stemmer *z, int i)
{
    if (i < 2 || !cons(z, i) || cons(z, i - 1) || !cons(z, i - 2))
        return 0;
    return z->b[i] != 'w' && z->b[i] != 'x' && z->b[i] != 'y';
}

/* Does b[0..k] end with the ASCII string s?  On a match sets j to the
 * index just before the suffix. */
static int ends(stemmer *z, const char *s)
{
    int l = (int)strlen(s), o = z->k - l + 1;
    if (o < 0)
        return 0;
    for (int i = 0; i < l; i++)
        if (z->b[o + i] != (uint8_t)s[i])
            return 0;
    z->j = z->k - l;
    return 1;
}

/* Replace b[j+1..k] with s. */
static void set_to(stemmer *z, const char *s)
{
    int l = (int)strlen(s);
    for (int i = 0; i < l; i++)
        z->b[z->j + 1 + i] = (uint8_t)s[i];
    z->k = z->j + l;
}

/* (m>0) SUFFIX -> s, after ends() matched. */
static void replace_if_m0(stemmer *z, const char *s)
{
    if (measure(z) > 0)
        set_to(z, s);
}

/* Step 1a (plurals) and 1b (-ed, -ing). */
static void step1ab(stemmer *z)
{
    if (z->b[z->k] == 's') {
        if (ends(z, "sses"))
            z->k -= 2;
        else if (ends(z, "ies"))
            set_to(z, "i");
        else if (z->b[z->k - 1] != 's')
            z->k--;
    }
    if (ends(z, "eed")) {
        if (measure(z) > 0)
            z->k--;
    } else if ((ends(z, "ed") || ends(z, "ing")) && vowel_in_stem(z)) {
        z->k = z->j;
        if (ends(z, "at"))
            set_to(z, "ate");
        else if (ends(z, "bl"))
            set_to(z, "ble");
        else if (ends(z, "iz"))
            set_to(z, "ize");
        else if (double_cons(z, z->k)) {
            uint16_t ch = z->b[z->k];
            if (ch != 'l' && ch != 's' && ch != 'z')
                z->k--;
        } else if (measure(z) == 1 && cvc(z, z->k))
            set_to(z, "e");
    }
}

/* Step 1c: (*v*) Y -> I. */
static void step1c(stemmer *z)
{
    if (ends(z, "y") && vowel_in_stem(z))
        z->b[z->k] = 'i';
}

/* Step 2: double suffixes to single ones, keyed on the penultimate letter. */
static void step2(stemmer *z)
{
    static const char *const rules[][2] = {
        {"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"}, {"anci", "ance"},
        {"izer", "ize"},    {"bli", "ble"},     {"alli", "al"},   {"entli", "ent"},
        {"eli", "e"},       {"ousli", "ous"},   {"ization", "ize"}, {"ation", "ate"},
        {"ator", "ate"},    {"alism", "al"},    {"iveness", "ive"}, {"fulness", "ful"},
        {"ousness", "ous"}, {"aliti", "al"},    {"iviti", "ive"},   {"biliti", "ble"},
        {"logi", "log"},
    };
    if (z->k == 0)
        return;
    /* Rules sharing the penultimate letter are listed so that a longer
     * suffix precedes any suffix of itself; the first match decides. */
    uint16_t pen = z->b[z->k - 1];
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        const char *suf = rules[r][0];
        if ((uint8_t)suf[strlen(suf) - 2] != pen)
            continue;
        if (ends(z, suf)) {
            replace_if_m0(z, rules[r][1]);
            return;
        }
    }
}

/* Step 3: -ic-, -full, -ness etc. */
static void step3(stemmer *z)
{
    static const char *const rules[][2] = {
        {"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"},
        {"ical", "ic"},  {"ful", ""},   {"ness", ""},
    };
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        if (ends(z, rules[r][0])) {
            replace_if_m0(z, rules[r][1]);
            return;
        }
    }
}

/* Step 4: (m>1) remove -ant, -ence, etc.; (m>1 and (*S or *T)) ION. */
static void step4(stemmer *z)
{
    static const char *const sufs[] = {
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment",
        "ent", "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize",
    };
    if (z->k == 0)
        return;
    uint16_t pen = z->b[z->k - 1];
    for (size_t r = 0; r < sizeof sufs / sizeof sufs[0]; r++) {
        const char *suf = sufs[r];
        if ((uint8_t)suf[strlen(suf) - 2] != pen || !ends(z, suf))
            continue;
        if (!strcmp(suf, "ion") && (z->j < 0 || (z->b[z->j] != 's' && z->b[z->j] != 't')))
            continue; /* -ion only after s or t; "ou" cannot match either */
        if (measure(z) > 1)
            z->k = z->j;
        return;
    }
}

/* Step 5a: (m>1) E ->, (m=1 and not *o) E ->; 5b: (m>1 and *d and *L) -> single L. */
static void step5(stemmer *z)
{
    z->j = z->k;
    if (z->b[z->k] == 'e') {
        int a = measure(z);
        if (a > 1 || (a == 1 && !cvc(z, z->k - 1)))
            z->k--;
    }
    if (z->b[z->k] == 'l' && double_cons(z, z->k) && measure(z) > 1)
        z->k--;
}

/* Stem n UTF-16 units in b; returns the new unit count. */
static int stem_units(uint16_t *b, int n)
{
    if (n <= 2)
        return n; /* the reference implementation leaves 1-2 letter words alone */
    stemmer z = {b, n - 1, 0};
    step1ab(&z);
    step1c(&z);
    step2(&z);
    step3(&z);
    step4(&z);
    step5(&z);
    return z.k + 1;
}

size_t porter_stem(char *word, size_t len)
{
    uint16_t stack[1024], *units = stack;
    size_t n = 0;

    if (len < 3)
        return len;
    if (len > sizeof stack / sizeof stack[0])
        units = xmalloc(len * sizeof *units); /* UTF-16 never needs more units than UTF-8 bytes */
    /* UTF-8 -> UTF-16 units (surrogate pairs for supplementary planes) */
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t l = utf8_decode(word + i, len - i, &cp);
        if (l == 0) { /* caller broke the contract: leave the word alone */
            n = 0;
            break;
        }
        if (cp >= 0x10000) {
            units[n++] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
            units[n++] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
        } else {
            units[n++] = (uint16_t)cp;
        }
        i += l;
    }
    size_t out = len;
    if (n > 0) {
        int m = stem_units(units, (int)n);
        /* UTF-16 -> UTF-8.  Stemming only drops whole characters (ASCII
         * suffix letters, or one of two equal BMP characters) and appends
         * ASCII, so every surrogate pair left is complete. */
        out = 0;
        for (int i = 0; i < m; i++) {
            uint32_t cp = units[i];
            if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < m) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (units[i + 1] - 0xDC00);
                i++;
            }
            out += utf8_encode(cp, word + out);
        }
    }
    if (units != stack)
        free(units);
    return out;
}
