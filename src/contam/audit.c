/* audit.c — the contamination audit over R ranks (audit.h). */
#define _POSIX_C_SOURCE 200809L
#include "contam/audit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/item.h"
#include "contam/ngset.h"
#include "contam/overlap.h"
#include "contam/retrcheck.h"
#include "contam/scan.h"
#include "dist/dsearch.h"
#include "report/contam_report.h"
#include "retrieval/docsource.h"
#include "retrieval/search.h"
#include "retrieval/store.h"
#include "util/msgbuf.h"
#include "util/outfile.h"
#include "util/path.h" /* path_join */
#include "util/progress.h"

#define TEXT_KEEP 4000      /* bytes of a matched chunk's text kept for the report */
#define MATCHED_MAX 200000  /* matched chunks whose text a rank keeps */
#define CORPUS_ID_SHIFT 40  /* raw inputs: chunk id = input << 40 | document number */

void contam_audit_opts_default(contam_audit_opts *o)
{
    memset(o, 0, sizeof *o);
    bench_load_opts_default(&o->load);
    o->n = 13;
    o->threshold = 0.5;
    o->rule = "overlap";
}

/* A matched chunk as the report shows it. */
typedef struct kept_chunk {
    uint64_t id;
    char *source;   /* provenance "FILE[:MEMBER]:line N" */
    char *text;     /* the first TEXT_KEEP bytes */
} kept_chunk;

/* One rank's state. */
typedef struct audit {
    dist *d;
    const contam_audit_opts *o;
    bench_set items;       /* rank 0 */
    ngset *set;
    contam_hits *hits;
    kept_chunk *kept;
    size_t nkept, capkept;
    wbuf skipped;          /* JSON lines {"source", "reason"} */
    size_t nskipped;
} audit;

/* Bytes of text[0..len) to keep, at most max, not cutting a UTF-8
 * sequence (a JSON string must stay valid UTF-8). */
static size_t utf8_cut(const char *text, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static void keep_chunk(audit *a, uint64_t id, const char *source, const char *text, size_t len)
{
    if (a->nkept >= MATCHED_MAX)
        return;
    if (a->nkept == a->capkept)
        a->kept = xrealloc(a->kept, (a->capkept = a->capkept ? 2 * a->capkept : 64) * sizeof *a->kept);
    size_t n = utf8_cut(text, len, TEXT_KEEP);
    char *t = xmalloc(n + 1);
    memcpy(t, text, n);
    t[n] = '\0';
    a->kept[a->nkept++] = (kept_chunk){id, xstrdup(source), t};
}

static void add_skipped(audit *a, const char *source, const char *reason)
{
    json_t *j = json_pack("{s:s, s:s}", "source", source, "reason", reason);
    char *s = json_dumps(j, JSON_COMPACT);
    wb_put(&a->skipped, s, strlen(s));
    wb_put(&a->skipped, "\n", 1);
    a->nskipped++;
    free(s);
    json_decref(j);
}

/* ---- phase 1: the set ---- */

static int build_set(audit *a, mn_err *err)
{
    int rc = 0;
    void *buf = NULL;
    size_t len = 0;
    if (dist_rank(a->d) == 0) {
        bench_load_opts lo = a->o->load;
        lo.on_error = a->o->skip_bad ? BENCH_ON_ERROR_SKIP : BENCH_ON_ERROR_FAIL;
        rc = bench_load(a->o->bench, &lo, &a->items, err);
        if (!rc && a->items.skipped)
            add_skipped(a, a->o->bench, a->items.first_skip_msg ? a->items.first_skip_msg : "malformed items");
        if (!rc)
            rc = ngset_build(a->items.items, a->items.n, a->o->n, &a->set, err);
        if (!rc)
            rc = ngset_serialize(a->set, &buf, &len, err);
    }
    if ((rc = dist_agree(a->d, rc, err)) || (rc = dist_bcast_bytes(a->d, (char **)&buf, &len, err)))
        goto done;
    if (dist_rank(a->d) != 0)
        rc = ngset_deserialize(buf, len, &a->set, err);
    rc = dist_agree(a->d, rc, err);
done:
    free(buf);
    return rc;
}

/* ---- phase 2: the scan ---- */

/* Scan one chunk; keep its text when it matched. */
static void scan_one(audit *a, uint64_t id, const char *source, const char *text, size_t len)
{
    if (contam_scan_text(a->set, text, len, id, a->hits))
        keep_chunk(a, id, source, text, len);
}

static int scan_db(audit *a, mn_err *err)
{
    search_db *db = NULL;
    int R = dist_size(a->d), rank = dist_rank(a->d);
    int rc = search_db_open_part(a->o->db, (uint32_t)rank, (uint32_t)R, SEARCH_DB_NOLOCK, &db, err);
    uint32_t S = rc ? 0 : search_db_config(db)->nshards;
    progress bar;
    progress_init(&bar, "contam scan", 0, 1e6, "MB");
    if (rank != 0)
        bar.style = PROGRESS_OFF;
    double bytes = 0;
    for (uint32_t s = (uint32_t)rank; !rc && s < S; s += (uint32_t)R) {
        const store_meta *m = search_db_meta(db, s);
        for (uint64_t local = 0; !rc && local < m->next_local; local++) {
            uint64_t id = (uint64_t)s << STORE_SHARD_BITS | local;
            store_chunk c;
            int got = search_db_chunk(db, id, &c, err);
            if (got < 0) {
                rc = got;
                break;
            }
            if (!got)
                continue; /* a duplicate's slot */
            char src[600];
            snprintf(src, sizeof src, "%.*s%s%.*s:line %llu", (int)c.source_len, c.source, c.member ? ":" : "",
                     c.member ? (int)c.member_len : 0, c.member ? c.member : "", (unsigned long long)c.line);
            scan_one(a, id, src, c.text, c.text_len);
            bytes += (double)c.text_len;
            progress_update(&bar, bytes, NULL);
        }
    }
    search_db_close(db);
    return rc;
}

static void on_skip(void *ctx, const mn_err *why)
{
    audit *a = ctx;
    add_skipped(a, "corpus", why->msg);
}

static int scan_corpus(audit *a, mn_err *err)
{
    int R = dist_size(a->d), rank = dist_rank(a->d), rc = 0;
    for (size_t i = (size_t)rank; !rc && i < a->o->ncorpus; i += (size_t)R) {
        docsource_opts dopt;
        docsource_opts_default(&dopt);
        dopt.on_error = a->o->skip_bad ? DOCSOURCE_SKIP : DOCSOURCE_FAIL;
        dopt.on_skip = on_skip;
        dopt.skip_ctx = a;
        docsource *ds = NULL;
        docsource_doc doc;
        uint64_t k = 0;
        rc = docsource_open(a->o->corpus[i], &dopt, &ds, err);
        while (!rc && (rc = docsource_next(ds, &doc, err)) == 1) {
            char src[600];
            snprintf(src, sizeof src, "%s%s%s:line %llu", doc.source, doc.member ? ":" : "",
                     doc.member ? doc.member : "", (unsigned long long)(doc.line ? doc.line : doc.record));
            scan_one(a, (uint64_t)i << CORPUS_ID_SHIFT | ++k, src, doc.text, doc.len);
            rc = 0;
        }
        docsource_close(ds);
        if (rc < 0 && a->o->skip_bad) { /* an unreadable input: listed, the rest goes on */
            add_skipped(a, a->o->corpus[i], err->msg);
            rc = 0;
        }
    }
    return rc;
}

/* ---- phase 3: merging ---- */

/* Every rank's hits, kept chunks and skipped lines to rank 0. */
static int gather(audit *a, mn_err *err)
{
    void *hb = NULL;
    size_t hl = 0;
    wbuf m = {0};
    int rc = contam_hits_serialize(a->hits, &hb, &hl, err);
    if (!rc) {
        wb_str(&m, hb, hl);
        wb_u64(&m, a->nkept);
        for (size_t i = 0; i < a->nkept; i++) {
            wb_u64(&m, a->kept[i].id);
            wb_str(&m, a->kept[i].source, strlen(a->kept[i].source));
            wb_str(&m, a->kept[i].text, strlen(a->kept[i].text));
        }
        wb_str(&m, a->skipped.p ? a->skipped.p : "", a->skipped.n);
    }
    free(hb);
    char **all = NULL;
    size_t *lens = NULL;
    if ((rc = dist_agree(a->d, rc, err)) || (rc = dist_gather_bytes(a->d, m.p, m.n, &all, &lens, err)))
        goto done;
    if (dist_rank(a->d) == 0) {
        contam_hits_free(a->hits);
        a->hits = contam_hits_new(a->o->n, 0);
        for (size_t i = 0; i < a->nkept; i++) {
            free(a->kept[i].source);
            free(a->kept[i].text);
        }
        a->nkept = 0;
        free(a->skipped.p);
        a->skipped = (wbuf){0};
        a->nskipped = 0;
        for (int r = 0; !rc && r < dist_size(a->d); r++) {
            rbuf rb = {all[r], lens[r], 0, 0};
            size_t n;
            const char *h = rb_str(&rb, &n);
            rc = h ? contam_hits_merge(a->hits, h, n, err) : mn_errf(err, MN_EFORMAT, "rank %d: bad hits message", r);
            uint64_t nk = rb_u64(&rb);
            for (uint64_t i = 0; !rc && i < nk && !rb.bad; i++) {
                uint64_t id = rb_u64(&rb);
                size_t sl, tl;
                const char *s = rb_str(&rb, &sl), *t = rb_str(&rb, &tl);
                if (!rb.bad) {
                    char *ss = xmalloc(sl + 1);
                    memcpy(ss, s, sl);
                    ss[sl] = '\0';
                    keep_chunk(a, id, ss, t, tl);
                    free(ss);
                }
            }
            size_t skl;
            const char *sk = rb_str(&rb, &skl);
            if (sk && skl) {
                wb_put(&a->skipped, sk, skl);
                for (size_t j = 0; j < skl; j++)
                    a->nskipped += sk[j] == '\n';
            }
            if (!rc && rb.bad)
                rc = mn_errf(err, MN_EFORMAT, "rank %d: truncated audit message", r);
        }
    }
done:
    for (int r = 0; all && r < dist_size(a->d); r++)
        free(all[r]);
    free(all);
    free(lens);
    free(m.p);
    return dist_agree(a->d, rc, err);
}

static int cmp_kept(const void *x, const void *y)
{
    uint64_t a = ((const kept_chunk *)x)->id, b = ((const kept_chunk *)y)->id;
    return (a > b) - (a < b);
}

static const kept_chunk *find_kept(const audit *a, uint64_t id)
{
    kept_chunk key = {id, NULL, NULL};
    return bsearch(&key, a->kept, a->nkept, sizeof *a->kept, cmp_kept);
}

static int write_lines(const char *path, json_t **recs, size_t n, mn_err *err)
{
    outfile of;
    int rc = outfile_open(&of, path, err);
    for (size_t i = 0; !rc && i < n; i++) {
        char *s = json_dumps(recs[i], JSON_COMPACT);
        if (!(rc = outfile_write(&of, s, strlen(s), err)))
            rc = outfile_write(&of, "\n", 1, err);
        free(s);
    }
    if (!rc)
        return outfile_commit(&of, err);
    outfile_abort(&of);
    return rc;
}

static int write_bytes(const char *path, const char *p, size_t n, mn_err *err)
{
    outfile of;
    int rc = outfile_open(&of, path, err);
    if (!rc && !(rc = outfile_write(&of, p ? p : "", n, err)))
        return outfile_commit(&of, err);
    if (!rc)
        return 0;
    outfile_abort(&of);
    return rc;
}

/* out/contamination.jsonl (the records) and out/skipped.jsonl. */
static int write_records(const char *out, json_t **recs, size_t n, const wbuf *skipped, mn_err *err)
{
    char *path = path_join(out, "contamination.jsonl");
    int rc = write_lines(path, recs, n, err);
    free(path);
    if (rc)
        return rc;
    path = path_join(out, "skipped.jsonl");
    rc = write_bytes(path, skipped->p, skipped->n, err);
    free(path);
    return rc;
}

/* ---- phase 4: the records ---- */

#define CHUNK_HITS_SHOWN 5 /* matched chunks with text and provenance per item */

/* The chosen rule: --rule, with --threshold for "overlap". */
static int chosen_rule(const contam_audit_opts *o, contam_rule *r, mn_err *err)
{
    char spec[64];
    if (!strcmp(o->rule, "overlap"))
        snprintf(spec, sizeof spec, "overlap>=%.17g", o->threshold);
    else
        snprintf(spec, sizeof spec, "%s", o->rule);
    return contam_rule_parse(spec, r, err);
}

static json_t *rule_flags(const contam_item_stats *st)
{
    static const contam_rule_kind kinds[] = {CONTAM_RULE_GPT3, CONTAM_RULE_PALM, CONTAM_RULE_MASSIVEDS};
    static const char *names[] = {"gpt3", "palm", "massiveds"};
    json_t *j = json_object();
    for (size_t k = 0; k < 3; k++) {
        contam_rule r = {kinds[k], 0, CONTAM_VIEW_BOTH};
        json_object_set_new(j, names[k], json_boolean(contam_rule_flags(&r, st)));
    }
    const contam_view_stats *b = &st->view[CONTAM_VIEW_BOTH];
    json_object_set_new(j, "llama2", json_string(contam_llama2_label(b->llama_share)));
    json_object_set_new(j, "llama2_share", json_real(b->llama_share));
    json_object_set_new(j, "max_jaccard", json_real(b->max_jaccard));
    return j;
}

/* Item i's line of contamination.jsonl (rank 0). */
static json_t *contam_item_record(audit *a, size_t i, const contam_rule *rule, mn_err *err)
{
    const bench_item *it = &a->items.items[i];
    contam_item_stats st;
    if (contam_item_overlap(it, a->hits, &st, err))
        return NULL;
    const contam_view_stats *b = &st.view[CONTAM_VIEW_BOTH];
    char rname[64];
    contam_rule_format(rule, rname, sizeof rname);
    json_t *r = json_object(), *ids = json_array(), *hits = json_array();
    json_object_set_new(r, "id", json_string(it->id));
    if (it->subject)
        json_object_set_new(r, "subject", json_string(it->subject));
    json_object_set_new(r, "n", json_integer(a->o->n));
    json_object_set_new(r, "flagged", json_boolean(contam_rule_flags(rule, &st)));
    json_object_set_new(r, "rule", json_string(rname));
    json_object_set_new(r, "overlap", json_real(b->overlap));
    json_object_set_new(r, "longest_span", json_integer(b->longest_span));
    json_object_set_new(r, "views", contam_item_stats_to_json(&st));
    json_object_set_new(r, "rules", rule_flags(&st));
    for (size_t c = 0; c < b->nchunks; c++) {
        const contam_chunk_match *m = &b->chunks[c];
        json_array_append_new(ids, json_integer((json_int_t)m->chunk_id));
        const kept_chunk *k = c < CHUNK_HITS_SHOWN ? find_kept(a, m->chunk_id) : NULL;
        if (k)
            json_array_append_new(hits, json_pack("{s:I, s:i, s:f, s:s, s:s}", "chunk", (json_int_t)m->chunk_id,
                                                  "shared", (int)m->shared, "jaccard", m->jaccard, "source", k->source,
                                                  "text", k->text));
    }
    json_object_set_new(r, "chunks", ids);
    json_object_set_new(r, "chunk_hits", hits);
    json_object_set_new(r, "question", json_string(it->question));
    json_object_set_new(r, "answer", json_string(it->answer ? it->answer : ""));
    contam_item_stats_free(&st);
    return r;
}

/* DIR/contam-summary.json: counts per rule, the scan's totals, the inputs. */
static int write_summary(audit *a, json_t **recs, size_t n, mn_err *err)
{
    size_t flagged = 0, gpt3 = 0, palm = 0, massive = 0, dirty = 0, clean = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *rules = json_object_get(recs[i], "rules");
        flagged += json_is_true(json_object_get(recs[i], "flagged"));
        gpt3 += json_is_true(json_object_get(rules, "gpt3"));
        palm += json_is_true(json_object_get(rules, "palm"));
        massive += json_is_true(json_object_get(rules, "massiveds"));
        const char *l = json_string_value(json_object_get(rules, "llama2"));
        dirty += l && !strcmp(l, "dirty");
        clean += l && !strcmp(l, "clean");
    }
    contam_scan_stats ss;
    contam_hits_stats(a->hits, &ss);
    json_t *j = json_pack("{s:s, s:s?, s:i, s:f, s:s, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}, "
                          "s:{s:I, s:I, s:I, s:I}, s:I}",
                          "bench", a->o->bench, "db", a->o->db, "n", (int)a->o->n, "threshold", a->o->threshold,
                          "rule", json_string_value(json_object_get(recs[0], "rule")) ? json_string_value(json_object_get(recs[0], "rule")) : a->o->rule,
                          "items", (json_int_t)n, "flagged", (json_int_t)flagged, "by_rule", "gpt3", (json_int_t)gpt3,
                          "palm", (json_int_t)palm, "massiveds", (json_int_t)massive, "llama2_dirty",
                          (json_int_t)dirty, "llama2_clean", (json_int_t)clean, "scanned", "chunks",
                          (json_int_t)ss.chunks, "bytes", (json_int_t)ss.bytes, "words", (json_int_t)ss.tokens,
                          "ngrams", (json_int_t)ss.ngrams, "skipped", (json_int_t)a->nskipped);
    if (a->o->ncorpus) {
        json_t *c = json_array();
        for (size_t i = 0; i < a->o->ncorpus; i++)
            json_array_append_new(c, json_string(a->o->corpus[i]));
        json_object_set_new(j, "corpus", c);
    }
    char *path = path_join(a->o->out, "contam-summary.json"), *text = json_dumps(j, JSON_INDENT(2));
    int rc = write_bytes(path, text, strlen(text), err);
    free(text);
    free(path);
    json_decref(j);
    return rc;
}

static int contam_write_report(audit *a, mn_err *err)
{
    char *cj = path_join(a->o->out, "contamination.jsonl"), *sk = path_join(a->o->out, "skipped.jsonl"),
         *md = path_join(a->o->out, "report.md"), *html = path_join(a->o->out, "report.html"),
         *items = a->o->eval_dir ? path_join(a->o->eval_dir, "items.jsonl") : NULL;
    contam_report_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.title = "Contamination audit";
    ro.benchmark = a->o->bench;
    ro.seed = 1234;
    int rc = contam_report_write(cj, items, sk, md, html, &ro, err);
    free(cj);
    free(sk);
    free(md);
    free(html);
    free(items);
    return rc;
}

/* The retrieval-based check of item i: all ranks search (collective). */
static int retrieval_check(audit *a, search_db *db, size_t i, size_t n_items, json_t *rec, mn_err *err)
{
    char *text = NULL;
    size_t len = 0;
    if (dist_rank(a->d) == 0) {
        const bench_item *it = &a->items.items[i];
        size_t ql = strlen(it->question), al = it->answer ? strlen(it->answer) : 0;
        text = xmalloc(ql + al + 2);
        memcpy(text, it->question, ql);
        text[ql] = ' ';
        memcpy(text + ql + 1, it->answer ? it->answer : "", al + 1);
        len = ql + al + 2;
    }
    int rc = dist_bcast_bytes(a->d, &text, &len, err);
    (void)n_items;
    dsearch_opts so;
    memset(&so, 0, sizeof so);
    so.mode = DSEARCH_BM25;
    so.p = bm25_params_default();
    so.k = a->o->retrieval_k;
    dsearch_result res;
    if (!rc && !(rc = dsearch_query(a->d, db, &so, text, strlen(text), "retrieval check", &res, err))) {
        if (dist_rank(a->d) == 0) {
            json_t *arr = json_array();
            for (size_t h = 0; h < res.n; h++) {
                char *t = xmalloc(res.hit[h].len + 1);
                memcpy(t, res.hit[h].text, res.hit[h].len);
                t[res.hit[h].len] = '\0';
                retr_check rcheck;
                retr_check_pair(text, t, &rcheck);
                json_array_append_new(arr, json_pack("{s:I, s:f, s:I, s:f, s:s%}", "chunk", (json_int_t)res.hit[h].doc,
                                                     "score", res.hit[h].score, "lcs_words",
                                                     (json_int_t)rcheck.lcs_words, "rouge_l_f", rcheck.rouge_l_f,
                                                     "text", t, utf8_cut(t, strlen(t), TEXT_KEEP)));
                free(t);
            }
            json_object_set_new(rec, "retrieval", arr);
        }
        dsearch_result_free(&res);
    }
    free(text);
    return rc;
}

int contam_audit_run(dist *d, const contam_audit_opts *o, size_t *flagged, size_t *nitems, mn_err *err)
{
    audit a;
    memset(&a, 0, sizeof a);
    a.d = d;
    a.o = o;
    *flagged = 0;
    *nitems = 0;
    int rank = dist_rank(d);
    search_db *db = NULL;
    json_t **recs = NULL;
    size_t n = 0;
    int rc = o->n >= 8 && o->n <= 50 ? 0 : mn_errf(err, MN_EUSAGE, "--n %u: must be within 8..50", o->n);
    if (!rc && !o->db == !o->ncorpus)
        rc = mn_errf(err, MN_EUSAGE, "give exactly one of --db and --corpus");
    if (!rc && rank == 0)
        rc = make_dirs(o->out, err);
    if ((rc = dist_agree(d, rc, err)) || (rc = build_set(&a, err)))
        goto done;
    a.hits = contam_hits_new(o->n, 0);
    rc = o->db ? scan_db(&a, err) : scan_corpus(&a, err);
    if ((rc = dist_agree(d, rc, err)) || (rc = gather(&a, err)))
        goto done;
    if (rank == 0) {
        contam_hits_compact(a.hits);
        if (a.nkept)
            qsort(a.kept, a.nkept, sizeof *a.kept, cmp_kept);
        n = a.items.n;
    }
    /* the retrieval check needs every rank's shards */
    uint64_t nn = n;
    if ((rc = dist_allreduce_u64(d, &nn, 1, err)))
        goto done;
    n = (size_t)nn;
    if (o->db && o->retrieval_k)
        rc = search_db_open_part(o->db, (uint32_t)rank, (uint32_t)dist_size(d), SEARCH_DB_NOLOCK, &db, err);
    if ((rc = dist_agree(d, rc, err)))
        goto done;
    contam_rule rule;
    rc = chosen_rule(o, &rule, err);
    recs = xcalloc(n ? n : 1, sizeof *recs);
    for (size_t i = 0; !rc && i < n; i++) {
        if (rank == 0 && !(recs[i] = contam_item_record(&a, i, &rule, err)))
            rc = err->code ? err->code : MN_EFORMAT;
        if (db && (rc = dist_agree(d, rc, err)) == 0)
            rc = retrieval_check(&a, db, i, n, recs[i], err);
    }
    if ((rc = dist_agree(d, rc, err)) || rank != 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        *flagged += json_is_true(json_object_get(recs[i], "flagged"));
    *nitems = n;
    rc = write_records(o->out, recs, n, &a.skipped, err);
    if (!rc && n)
        rc = write_summary(&a, recs, n, err);
    if (!rc)
        rc = contam_write_report(&a, err);
done:
    rc = dist_agree(d, rc, err);
    for (size_t i = 0; recs && i < n; i++)
        json_decref(recs[i]);
    free(recs);
    search_db_close(db);
    for (size_t i = 0; i < a.nkept; i++) {
        free(a.kept[i].source);
        free(a.kept[i].text);
    }
    free(a.kept);
    free(a.skipped.p);
    contam_hits_free(a.hits);
    ngset_free(a.set);
    bench_set_free(&a.items);
    return rc;
}
