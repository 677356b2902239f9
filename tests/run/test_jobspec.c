/* test_jobspec.c — job files: every kind of mistake with its exact message
 * (tests/fixtures/jobs/bad/, loaded from the source root so paths read as
 * in the messages), the defaults, every key reaching eval_opts, sweep
 * expansion and output folders, canonical text, file checks and the
 * example jobs in jobs/. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run/jobspec.h"
#include "test.h"

/* Tests run from the source root: job paths are relative to the cwd. */
static int to_source_root(void)
{
    const char *root = getenv("MNEMO_SOURCE_DIR");
    return root ? chdir(root) : 0;
}

static job *load_text(const char *text, int check_files, mn_err *err)
{
    job *j = NULL;
    int rc = job_load_memory("dir/t.yaml", text, strlen(text), check_files, &j, err);
    return rc ? NULL : j;
}

#define MINI "model: m/Qwen3\nbench: mmlu:data/mmlu\nout: results/x\n"

/* ---- mistakes ----------------------------------------------------------- */

typedef struct bad_case {
    const char *file; /* under tests/fixtures/jobs/bad/ */
    int code;
    const char *msg;  /* after "tests/fixtures/jobs/bad/FILE: " */
} bad_case;

static const bad_case BAD[] = {
    /* keys */
    {"unknown_key.yaml", MN_EUSAGE, "line 8, column 3: key 'ttc.tempreature': unknown key (known: kind, n, temperature, top_p, top_k, max_new_tokens, verifier)"},
    {"unknown_top.yaml", MN_EUSAGE, "line 1, column 1: key 'modle': unknown key (known: name, model, models, bench, benches, out, tokenizer, split, limit, shots, shots_from, method, style, chat, system, math_cot, add_bos, on_error, fields, gpqa_seed, member, passphrase, retrieval, ttc, seed, batch, threads, chunk, contam)"},
    {"contam_without_db.yaml", MN_EUSAGE, "line 4, column 1: key 'contam' audits the retrieval corpus: it needs 'retrieval.db'"},
    {"duplicate.yaml", MN_EUSAGE, "line 6, column 1: key 'limit': given twice (first at line 5)"},
    {"duplicate_section.yaml", MN_EUSAGE, "line 7, column 3: key 'ttc.top_k': given twice (first at line 6)"},
    {"model_and_models.yaml", MN_EUSAGE, "line 5, column 1: key 'models': 'model' is already given (line 1): give one of 'model' and 'models'"},
    {"key_not_scalar.yaml", MN_EUSAGE, "line 5, column 3: a key must be a name, got a list"},
    {"model_missing.yaml", MN_EUSAGE, "key 'model' is missing (or 'models', a list)"},
    {"bench_missing.yaml", MN_EUSAGE, "key 'bench' is missing (or 'benches', a list)"},
    {"db_missing.yaml", MN_EUSAGE, "line 5, column 1: key 'retrieval.db' is missing (the retrieval DB folder)"},
    /* values */
    {"limit_word.yaml", MN_EUSAGE, "line 5, column 8: key 'limit': expected an integer >= 0, got 'ten'"},
    {"limit_negative.yaml", MN_EUSAGE, "line 5, column 8: key 'limit': expected an integer >= 0, got '-3'"},
    {"limit_quoted.yaml", MN_EUSAGE, "line 5, column 8: key 'limit': expected an integer >= 0, got the quoted string '10' (write it without quotes)"},
    {"limit_float.yaml", MN_EUSAGE, "line 5, column 8: key 'limit': expected an integer >= 0, got '1.5'"},
    {"limit_huge.yaml", MN_EUSAGE, "line 5, column 8: key 'limit': expected an integer >= 0, got '99999999999999999999'"},
    {"limit_mapping.yaml", MN_EUSAGE, "line 5, column 8: key 'limit': expected an integer >= 0, got a mapping"},
    {"shots_range.yaml", MN_EUSAGE, "line 5, column 8: key 'shots': expected an integer in [0, 64], got '65'"},
    {"top_p_range.yaml", MN_EUSAGE, "line 9, column 10: key 'ttc.top_p': expected a number in (0, 1], got '1.5'"},
    {"top_p_zero.yaml", MN_EUSAGE, "line 5, column 14: key 'ttc.top_p': expected a number in (0, 1], got '0'"},
    {"temperature_word.yaml", MN_EUSAGE, "line 6, column 16: key 'ttc.temperature': expected a number in [0, 100], got 'hot'"},
    {"temperature_nan.yaml", MN_EUSAGE, "line 6, column 16: key 'ttc.temperature': expected a number in [0, 100], got '.nan'"},
    {"bool_yes.yaml", MN_EUSAGE, "line 5, column 10: key 'add_bos': expected true or false, got 'yes'"},
    {"enum_method.yaml", MN_EUSAGE, "line 5, column 9: key 'method': expected one of auto, loglik, generate, got 'sample'"},
    {"enum_mode.yaml", MN_EUSAGE, "line 7, column 9: key 'retrieval.mode': expected one of bm25, dense, hybrid, got 'sparse'"},
    {"models_scalar.yaml", MN_EUSAGE, "line 1, column 9: key 'models': expected a non-empty list of paths, got 'models/a'"},
    {"models_empty.yaml", MN_EUSAGE, "line 1, column 9: key 'models': expected a non-empty list of paths, got an empty list"},
    {"out_list.yaml", MN_EUSAGE, "line 4, column 6: key 'out': expected a path, got a list"},
    {"out_null.yaml", MN_EUSAGE, "line 4, column 5: key 'out': expected a path, got nothing (null)"},
    {"retrieval_scalar.yaml", MN_EUSAGE, "line 5, column 12: key 'retrieval': expected a mapping (db, k, mode, embed_model, budget, order, decontaminate, rerank, rerank_depth), got 'db'"},
    {"bench_no_kind.yaml", MN_EUSAGE, "line 3, column 8: key 'bench': expected KIND:PATH with KIND one of mmlu, gpqa, math500, simpleqa, jsonl, got 'tests/fixtures/bench/mmlu/data'"},
    {"bench_bad_kind.yaml", MN_EUSAGE, "line 3, column 8: key 'bench': expected KIND:PATH with KIND one of mmlu, gpqa, math500, simpleqa, jsonl, got 'arc:tests/fixtures/bench'"},
    {"benches_bad_item.yaml", MN_EUSAGE, "line 5, column 5: key 'benches[1]': expected KIND:PATH with KIND one of mmlu, gpqa, math500, simpleqa, jsonl, got 'gpqa:'"},
    {"benches_item_mapping.yaml", MN_EUSAGE, "line 5, column 5: key 'benches[1]': expected KIND:PATH with KIND one of mmlu, gpqa, math500, simpleqa, jsonl, got a mapping"},
    {"fields_empty_question.yaml", MN_EUSAGE, "line 6, column 13: key 'fields.question': expected a non-empty string, got ''"},
    {"tagged.yaml", MN_EUSAGE, "line 5, column 8: key 'limit': YAML tags are not supported (got '!!int')"},
    {"nul_string.yaml", MN_EUSAGE, "line 5, column 7: key 'name': contains a NUL character"},
    {"chat_unknown.yaml", MN_EUSAGE, "line 5, column 7: key 'chat': expected one of none, auto, chatml, llama3, custom:TEMPLATE, got 'chatgpt'"},
    {"chat_custom_bad.yaml", MN_EUSAGE, "line 5, column 7: key 'chat': chat format: column 8: unknown placeholder {assistant} (known: {system}, {user}; write {{ and }} for literal braces)"},
    /* the file as a whole */
    {"syntax_unclosed.yaml", MN_EFORMAT, "line 4, column 4: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 3, column 8)"},
    {"syntax_indent.yaml", MN_EFORMAT, "line 7, column 5: YAML syntax error: mapping values are not allowed in this context"},
    {"syntax_tab.yaml", MN_EFORMAT, "line 6, column 1: YAML syntax error: found character that cannot start any token (while scanning for the next token at line 6, column 1)"},
    {"bad_utf8.yaml", MN_EFORMAT, "byte 164: YAML: incomplete UTF-8 octet sequence"},
    {"empty.yaml", MN_EFORMAT, "empty job file (expected a mapping of settings, 'key: value' lines)"},
    {"comments_only.yaml", MN_EFORMAT, "empty job file (expected a mapping of settings, 'key: value' lines)"},
    {"not_mapping.yaml", MN_EFORMAT, "line 1, column 1: a job file is a mapping of settings ('key: value' lines), got a list"},
    {"scalar_top.yaml", MN_EFORMAT, "line 1, column 1: a job file is a mapping of settings ('key: value' lines), got 'just a line'"},
    {"two_documents.yaml", MN_EFORMAT, "line 6: a second YAML document (a job file holds one mapping)"},
    {"deep_nesting.yaml", MN_EFORMAT, "line 4, column 71: YAML nested more than 64 levels deep (a job file needs 3)"},
    /* impossible combinations */
    {"docsc_no_retrieval.yaml", MN_EUSAGE, "line 7, column 9: key 'ttc.kind': docsc needs a 'retrieval' section (one sample per retrieved passage)"},
    {"rerank_no_db.yaml", MN_EUSAGE, "line 6, column 3: key 'retrieval.rerank': reranks retrieved passages: it needs 'retrieval.db'"},
    {"rerank_depth_no_rerank.yaml", MN_EUSAGE, "line 8, column 3: key 'retrieval.rerank_depth': is for 'retrieval.rerank' (self or a reranker model), which is not given"},
    {"rerank_depth_below_k.yaml", MN_EUSAGE, "line 9, column 17: key 'retrieval.rerank_depth': 4 candidates cannot give k = 5 passages (retrieval.k)"},
    {"rerank_depth_below_default_k.yaml", MN_EUSAGE, "line 8, column 17: key 'retrieval.rerank_depth': 2 candidates cannot give k = 3 passages (the default k)"},
    {"rerank_depth_zero.yaml", MN_EUSAGE, "line 8, column 17: key 'retrieval.rerank_depth': expected an integer in [1, 10000], got '0'"},
    {"dense_no_embed.yaml", MN_EUSAGE, "line 7, column 9: key 'retrieval.mode': dense needs 'retrieval.embed_model' (the model the DB was embedded with)"},
    {"n_with_greedy.yaml", MN_EUSAGE, "line 6, column 3: key 'ttc.n': kind greedy takes no n (n is for sc and bestofn)"},
    {"n_with_docsc.yaml", MN_EUSAGE, "line 7, column 20: key 'ttc.n': kind docsc takes no n (n is for sc and bestofn)"},
    {"sc_without_n.yaml", MN_EUSAGE, "line 7, column 9: key 'ttc.kind': sc needs 'ttc.n' (the number of samples)"},
    {"verifier_sc.yaml", MN_EUSAGE, "line 9, column 3: key 'ttc.verifier': only kind bestofn uses a verifier (kind is sc)"},
    {"loglik_sc.yaml", MN_EUSAGE, "line 7, column 9: key 'ttc.kind': sc samples answers, but 'method' is loglik (line 5): use method generate"},
    {"loglik_mc_generate.yaml", MN_EUSAGE, "line 6, column 8: key 'style': mc-generate needs method generate, but 'method' is loglik (line 5)"},
    {"loglik_free_form.yaml", MN_EUSAGE, "line 5, column 9: key 'method': loglik scores multiple-choice items, but math500:tests/fixtures/bench/math500.jsonl has free-form items"},
    {"sc_mc_auto.yaml", MN_EUSAGE, "line 6, column 9: key 'ttc.kind': sc samples answers, but the multiple-choice items of gpqa:tests/fixtures/bench/gpqa_main.csv are scored by log-likelihood: set method: generate"},
    {"shots_without_pool.yaml", MN_EUSAGE, "line 5, column 8: key 'shots': 3 few-shot examples for gpqa:tests/fixtures/bench/gpqa_main.csv need 'shots_from' (only mmlu has its own dev split)"},
    {"math_cot_shots.yaml", MN_EUSAGE, "line 7, column 11: key 'math_cot': the chain-of-thought prompt is zero-shot, but 'shots' is 2 (line 5)"},
    {"fields_no_jsonl.yaml", MN_EUSAGE, "line 5, column 1: key 'fields': field names are for jsonl benchmarks, and none is given"},
    {"sweep_same_folder.yaml", MN_EUSAGE, "line 3, column 5: key 'models[1]': its output folder 'Qwen3' is also that of models[0] (line 2)"},
    {"sweep_same_bench.yaml", MN_EUSAGE, "line 5, column 5: key 'benches[1]': its output folder 'math500-math500' is also that of benches[0] (line 4)"},
    /* files */
    {"model_not_model.yaml", MN_EIO, "line 1: key 'model': tests/fixtures/bench: not a directory with config.json"},
    {"models_item_not_model.yaml", MN_EIO, "line 3: key 'models[1]': tests/fixtures/eval/nope: not a directory with config.json"},
    {"model_no_tokenizer.yaml", MN_EIO, "line 1: key 'model': tests/fixtures/eval/qwen3_vocab: no tokenizer.json (name one with 'tokenizer')"},
    {"tokenizer_absent.yaml", MN_EIO, "line 2: key 'tokenizer': tests/fixtures/eval/qwen3_vocab/tokenizer.json: not a file"},
    {"bench_path_absent.yaml", MN_EIO, "line 3: key 'bench': tests/fixtures/bench/nope: does not exist"},
    {"shots_from_absent.yaml", MN_EIO, "line 6: key 'shots_from': tests/fixtures/bench/nope.csv: does not exist"},
    {"db_not_db.yaml", MN_EIO, "line 6: key 'retrieval.db': tests/fixtures/bench: not a retrieval DB (no manifest.json)"},
    {"embed_not_model.yaml", MN_EIO, "line 8: key 'retrieval.embed_model': tests/fixtures/bench: not a directory with config.json"},
    {"rerank_not_model.yaml", MN_EIO, "line 7: key 'retrieval.rerank': tests/fixtures/nope: not a directory with config.json"},
    {"rerank_no_tokenizer.yaml", MN_EIO, "line 7: key 'retrieval.rerank': tests/fixtures/eval/qwen3_vocab: no tokenizer.json (a reranker needs its own)"},
    {"verifier_not_model.yaml", MN_EIO, "line 8: key 'ttc.verifier': tests/fixtures/nope: not a directory with config.json"},
};
#define NBAD (sizeof BAD / sizeof BAD[0])

/* Every file in bad/ has a case and every case gives its exact message,
 * also through job_load_memory (same text, file checks on). */
static void test_jobspec_bad_files_give_exact_messages(void)
{
    CHECK(to_source_root() == 0);
    for (size_t i = 0; i < NBAD; i++) {
        char path[256], want[1200];
        snprintf(path, sizeof path, "tests/fixtures/jobs/bad/%s", BAD[i].file);
        snprintf(want, sizeof want, "%s: %s", path, BAD[i].msg);
        job *j = NULL;
        mn_err err = {0};
        int rc = job_load(path, &j, &err);
        CHECK_MSG(rc == BAD[i].code && j == NULL, "%s: rc %d (want %d)", BAD[i].file, rc, BAD[i].code);
        CHECK_MSG(!strcmp(err.msg, want), "%s:\n   got  %s\n   want %s", BAD[i].file, err.msg, want);
    }
    DIR *d = opendir("tests/fixtures/jobs/bad");
    CHECK(d);
    struct dirent *e;
    size_t files = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        files++;
        int found = 0;
        for (size_t i = 0; i < NBAD; i++)
            found |= !strcmp(BAD[i].file, e->d_name);
        if (!found)
            closedir(d);
        CHECK_MSG(found, "tests/fixtures/jobs/bad/%s has no case in BAD[]", e->d_name);
    }
    closedir(d);
    CHECK_EQ_INT(files, NBAD);
}

static void test_jobspec_missing_file_is_io_error(void)
{
    job *j = NULL;
    mn_err err = {0};
    CHECK_EQ_INT(job_load("/nonexistent/job.yaml", &j, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/job.yaml");
    CHECK(j == NULL);
}

/* The mistakes a memory buffer can show that a text file cannot easily. */
static void test_jobspec_memory_edge_cases(void)
{
    mn_err err = {0};
    job *j = NULL;
    static const char nul[] = "model: m\nbench: mmlu:x\nout: o\n\0limit: 3\n";
    CHECK(job_load_memory("n.yaml", nul, sizeof nul - 1, 0, &j, &err) == MN_EFORMAT);
    CHECK(!strcmp(err.msg, "n.yaml: byte 30: YAML: control characters are not allowed (#0)")); /* 0-based offset */
    CHECK(job_load_memory("e.yaml", "", 0, 0, &j, &err) == MN_EFORMAT);
    CHECK(!strcmp(err.msg, "e.yaml: empty job file (expected a mapping of settings, 'key: value' lines)"));
    /* a '---' document with nothing in it */
    CHECK(job_load_memory("d.yaml", "---\n", 4, 0, &j, &err) == MN_EFORMAT);
    CHECK(!strcmp(err.msg, "d.yaml: line 2, column 1: a job file is a mapping of settings ('key: value' lines), got nothing (null)"));
    CHECK(j == NULL);
}

/* 100,000 nested '[' (libyaml took 20 s to build that document) fail at
 * the 65th level, fast; 64 levels are still read (and fail on the type). */
static void test_jobspec_deep_nesting_fails_fast(void)
{
    size_t deep = 100000, len = 0;
    char *buf = xmalloc(deep + 64);
    len += (size_t)sprintf(buf, "model: m\nbench: mmlu:x\nlimit: ");
    memset(buf + len, '[', deep);
    len += deep;
    mn_err err = {0};
    job *j = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_EQ_INT(job_load_memory("deep.yaml", buf, len, 0, &j, &err), MN_EFORMAT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    CHECK_MSG(!strcmp(err.msg, "deep.yaml: line 3, column 71: YAML nested more than 64 levels deep (a job file needs 3)"),
              "%s", err.msg);
    CHECK_MSG(s < 1.0, "%.2f s for 100,000 nested lists", s);
    CHECK(j == NULL);
    /* 63 lists inside the top mapping: 64 levels, within the limit */
    len = (size_t)sprintf(buf, "model: m\nbench: mmlu:x\nlimit: ");
    memset(buf + len, '[', 63);
    memset(buf + len + 63, ']', 63);
    len += 126;
    CHECK_EQ_INT(job_load_memory("ok.yaml", buf, len, 0, &j, &err), MN_EUSAGE);
    CHECK_STR_CONTAINS(err.msg, "key 'limit': expected an integer >= 0, got a list");
    free(buf);
}

/* Without 'out' the job loads; the folder must then come from --out. */
static void test_jobspec_out_from_the_command_line(void)
{
    mn_err err = {0};
    job *j = load_text("model: m/Qwen3\nbench: mmlu:data/mmlu\n", 0, &err);
    CHECK_MSG(j, "%s", err.msg);
    eval_opts o;
    CHECK_EQ_INT(job_eval_opts(j, 0, NULL, &o, NULL, 0, &err), MN_EUSAGE);
    CHECK(!strcmp(err.msg, "dir/t.yaml: no output folder: give --out DIR, or the key 'out' in the job file"));
    CHECK(job_eval_opts(j, 0, "cli/out", &o, NULL, 0, &err) == 0 && !strcmp(o.out_dir, "cli/out"));
    char *a = job_canonical(j, 0);
    CHECK(a != NULL); /* the folder is no part of the canonical text */
    free(a);
    job_free(j);
    /* a sweep: OUT/<model>/<bench> under --out */
    j = load_text("models: [m/A, m/B]\nbench: mmlu:data/mmlu\n", 0, &err);
    CHECK_MSG(j, "%s", err.msg);
    char buf[256];
    CHECK_EQ_INT(job_eval_opts(j, 1, NULL, &o, buf, sizeof buf, &err), MN_EUSAGE);
    CHECK(job_eval_opts(j, 1, "o", &o, buf, sizeof buf, &err) == 0 && !strcmp(o.out_dir, "o/B/mmlu-mmlu"));
    job_free(j);
}

/* ---- values --------------------------------------------------------------- */

static void test_jobspec_defaults(void)
{
    mn_err err = {0};
    job *j = load_text(MINI, 0, &err);
    CHECK_MSG(j, "%s", err.msg);
    eval_opts o, d;
    eval_opts_default(&d);
    CHECK_EQ_INT(job_combos(j), 1);
    CHECK_EQ_INT(job_chunk(j), 8);
    CHECK(!strcmp(job_name(j), "t")); /* dir/t.yaml */
    CHECK(job_eval_opts(j, 0, NULL, &o, NULL, 0, &err) == 0);
    CHECK(!strcmp(o.model_dir, "m/Qwen3") && !strcmp(o.bench, "mmlu:data/mmlu") && !strcmp(o.out_dir, "results/x"));
    CHECK(o.tokenizer == NULL && o.shots_from == NULL && o.style == NULL && o.system == NULL && o.db == NULL);
    CHECK(o.embed_model == NULL && o.verifier == NULL && o.created == NULL);
    CHECK(!strcmp(o.chat, d.chat) && !strcmp(o.load.split, d.load.split));
    CHECK(o.shots == d.shots && o.limit == d.limit && o.method == d.method && o.math_cot == d.math_cot);
    CHECK(o.add_bos == d.add_bos && o.k == d.k && o.mode == d.mode && o.budget == d.budget && o.order == d.order);
    CHECK(o.ttc == d.ttc && o.ttc_n == d.ttc_n && o.temperature == d.temperature && o.top_p == d.top_p);
    CHECK(o.top_k == d.top_k && o.max_new == d.max_new && o.seed == d.seed && o.batch == d.batch);
    CHECK(o.threads == d.threads && o.load.seed == d.load.seed && o.load.on_error == d.load.on_error);
    CHECK(o.load.member == NULL && o.load.passphrase == NULL && !strcmp(o.load.fields.question, "question"));
    CHECK(job_eval_opts(j, 0, "elsewhere", &o, NULL, 0, &err) == 0);
    CHECK(!strcmp(o.out_dir, "elsewhere"));
    CHECK(job_eval_opts(j, 1, NULL, &o, NULL, 0, &err) == MN_ERANGE);
    job_free(j);
}

static void test_jobspec_every_key_reaches_eval_opts(void)
{
    static const char *text =
        "name: everything\n"
        "model: models/A\n"
        "tokenizer: tok/tokenizer.json\n"
        "bench: jsonl:data/q.jsonl\n"
        "out: results/all\n"
        "split: dev\n"
        "limit: 50\n"
        "shots: 3\n"
        "shots_from: 'jsonl:data/dev.jsonl'\n"
        "method: generate\n"
        "style: mc-generate\n"
        "chat: \"custom:<|user|>{user}\\n<|bot|>\"\n"
        "system: Be brief.\n"
        "math_cot: false\n"
        "add_bos: true\n"
        "on_error: skip\n"
        "fields: {id: qid, question: prompt, answer: target, choices: options, subject: ''}\n"
        "gpqa_seed: 99\n"
        "member: dataset/q.jsonl\n"
        "passphrase: secret\n"
        "retrieval:\n"
        "  db: results/db\n"
        "  k: 7\n"
        "  mode: hybrid\n"
        "  embed_model: models/E\n"
        "  budget: 300\n"
        "  order: best-last\n"
        "  rerank: models/R\n"
        "  rerank_depth: 12\n"
        "ttc:\n"
        "  kind: bestofn\n"
        "  n: 6\n"
        "  temperature: 0.5\n"
        "  top_p: 0.9\n"
        "  top_k: 40\n"
        "  max_new_tokens: 77\n"
        "  verifier: models/V\n"
        "seed: 4242\n"
        "batch: 3\n"
        "threads: 2\n"
        "chunk: 5\n";
    mn_err err = {0};
    job *j = load_text(text, 0, &err);
    CHECK_MSG(j, "%s", err.msg);
    eval_opts o;
    CHECK(job_eval_opts(j, 0, NULL, &o, NULL, 0, &err) == 0);
    CHECK(!strcmp(job_name(j), "everything") && job_chunk(j) == 5);
    CHECK(!strcmp(o.model_dir, "models/A") && !strcmp(o.tokenizer, "tok/tokenizer.json"));
    CHECK(!strcmp(o.bench, "jsonl:data/q.jsonl") && !strcmp(o.out_dir, "results/all"));
    CHECK(!strcmp(o.load.split, "dev") && o.limit == 50 && o.shots == 3 && !strcmp(o.shots_from, "jsonl:data/dev.jsonl"));
    CHECK(o.method == EVAL_METHOD_GENERATE && !strcmp(o.style, "mc-generate"));
    CHECK(!strcmp(o.chat, "custom:<|user|>{user}\n<|bot|>") && !strcmp(o.system, "Be brief."));
    CHECK(o.math_cot == 0 && o.add_bos == 1 && o.load.on_error == BENCH_ON_ERROR_SKIP);
    CHECK(!strcmp(o.load.fields.id, "qid") && !strcmp(o.load.fields.question, "prompt"));
    CHECK(!strcmp(o.load.fields.answer, "target") && !strcmp(o.load.fields.choices, "options"));
    CHECK(!strcmp(o.load.fields.subject, ""));
    CHECK(o.load.seed == 99 && !strcmp(o.load.member, "dataset/q.jsonl") && !strcmp(o.load.passphrase, "secret"));
    CHECK(!strcmp(o.db, "results/db") && o.k == 7 && o.mode == EVAL_RETR_HYBRID && !strcmp(o.embed_model, "models/E"));
    CHECK(o.budget == 300 && o.order == PROMPT_RAG_BEST_LAST);
    CHECK(!strcmp(o.rerank, "models/R") && o.rerank_depth == 12 && eval_retrieval_depth(&o) == 12);
    CHECK(o.ttc == EVAL_TTC_BESTOFN && o.ttc_n == 6 && o.temperature == 0.5 && o.top_p == 0.9);
    CHECK(o.top_k == 40 && o.max_new == 77 && !strcmp(o.verifier, "models/V"));
    CHECK(o.seed == 4242 && o.batch == 3 && o.threads == 2);
    char *canon = job_canonical(j, 0);
    CHECK(canon);
    CHECK_STR_CONTAINS(canon, "\"passphrase\":\"set\"");
    CHECK_STR_CONTAINS(canon, "\"rerank\":\"models/R\",\"rerank_depth\":12");
    CHECK_MSG(!strstr(canon, "secret") && !strstr(canon, "results/all"), "%s", canon);
    free(canon);
    job_free(j);
}

/* Scalars: what each type accepts. */
static void test_jobspec_scalar_forms(void)
{
    static const struct { const char *extra; int ok; } cases[] = {
        {"name: 123\n", 1},                 /* a plain scalar is a string too */
        {"name: 'quoted: yes'\n", 1},
        {"name: ''\n", 0},                  /* name needs text */
        {"system: ''\n", 1},
        {"limit: 0\n", 1},
        {"limit: 007\n", 1},                /* decimal, leading zeros allowed */
        {"limit: 0x10\n", 0},
        {"limit: 1e3\n", 0},
        {"limit: +5\n", 0},
        {"ttc: {temperature: 0}\n", 1},
        {"ttc: {temperature: 1e-1}\n", 1},
        {"ttc: {temperature: .5}\n", 1},
        {"ttc: {temperature: -0.1}\n", 0},
        {"ttc: {temperature: .inf}\n", 0},
        {"ttc: {top_p: 1}\n", 1},
        {"ttc: {top_p: 1.0000001}\n", 0},
        {"add_bos: false\n", 1},
        {"add_bos: True\n", 0},
        {"add_bos: 'true'\n", 0},
        {"method: 'loglik'\n", 1},          /* names may be quoted */
        {"batch: 0\n", 0},
        {"batch: 4096\n", 1},
        {"chunk: 0\n", 0},
        {"retrieval: {db: d, k: 0}\n", 0},
        {"retrieval: {db: d, k: 1}\n", 1},
        {"retrieval: {}\n", 0},             /* db is required */
        {"ttc: {}\n", 1},                   /* greedy */
        {"ttc: {kind: sc, n: 1025}\n", 0},
        {"seed: 9223372036854775807\n", 1},
        {"seed: 9223372036854775808\n", 0},
        {"chat: auto\n", 1},
        {"chat: 'custom:{system}'\n", 0},   /* a custom template needs {user} */
        {"fields: {id: ''}\n", 0},          /* no jsonl bench */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, MINI "%s", cases[i].extra);
        mn_err err = {0};
        job *j = load_text(text, 0, &err);
        CHECK_MSG(!!j == cases[i].ok, "'%s': %s", cases[i].extra, j ? "accepted" : err.msg);
        if (!j)
            CHECK_MSG(err.msg[0] && !strchr(err.msg, '\n'), "'%s': empty or multi-line message", cases[i].extra);
        job_free(j);
    }
}

/* Anchors and aliases stand for the node they name. */
static void test_jobspec_aliases(void)
{
    mn_err err = {0};
    job *j = load_text("out: &o results/x\nname: *o\nmodel: m\nbench: mmlu:x\n", 0, &err);
    CHECK_MSG(j, "%s", err.msg);
    CHECK(!strcmp(job_name(j), "results/x"));
    job_free(j);
    /* a list that contains itself is not a list of paths; the position is
     * the aliased node's own (its anchor, column 9) */
    CHECK(load_text("models: &l [a, *l]\nbench: mmlu:x\nout: o\n", 0, &err) == NULL);
    CHECK(!strcmp(err.msg, "dir/t.yaml: line 1, column 9: key 'models[1]': expected a path, got a list"));
}

/* ---- sweeps ------------------------------------------------------------- */

static void test_jobspec_sweep_expands_models_times_benches(void)
{
    static const char *text = "models:\n  - models/Qwen3-0.6B\n  - models/Qwen3-1.7B/\n  - /abs/Qwen3-4B\n"
                              "benches: [mmlu:data/mmlu/data.tar, math500:data/math500/test.jsonl.gz]\n"
                              "out: results/sweep\n";
    static const char *want[6][3] = {
        {"models/Qwen3-0.6B", "mmlu:data/mmlu/data.tar", "results/sweep/Qwen3-0.6B/mmlu-data"},
        {"models/Qwen3-0.6B", "math500:data/math500/test.jsonl.gz", "results/sweep/Qwen3-0.6B/math500-test"},
        {"models/Qwen3-1.7B/", "mmlu:data/mmlu/data.tar", "results/sweep/Qwen3-1.7B/mmlu-data"},
        {"models/Qwen3-1.7B/", "math500:data/math500/test.jsonl.gz", "results/sweep/Qwen3-1.7B/math500-test"},
        {"/abs/Qwen3-4B", "mmlu:data/mmlu/data.tar", "results/sweep/Qwen3-4B/mmlu-data"},
        {"/abs/Qwen3-4B", "math500:data/math500/test.jsonl.gz", "results/sweep/Qwen3-4B/math500-test"},
    };
    mn_err err = {0};
    job *j = load_text(text, 0, &err);
    CHECK_MSG(j, "%s", err.msg);
    CHECK_EQ_INT(job_combos(j), 6);
    char buf[256];
    eval_opts o;
    for (size_t t = 0; t < 6; t++) {
        CHECK(job_eval_opts(j, t, NULL, &o, buf, sizeof buf, &err) == 0);
        CHECK_MSG(!strcmp(o.model_dir, want[t][0]) && !strcmp(o.bench, want[t][1]) && !strcmp(o.out_dir, want[t][2]),
                  "combination %zu: %s %s %s", t, o.model_dir, o.bench, o.out_dir);
        CHECK(o.out_dir == buf);
    }
    CHECK(job_eval_opts(j, 5, "/tmp/o", &o, buf, sizeof buf, &err) == 0);
    CHECK(!strcmp(o.out_dir, "/tmp/o/Qwen3-4B/math500-test"));
    CHECK(job_eval_opts(j, 0, NULL, &o, buf, 10, &err) == MN_ERANGE);
    CHECK(job_eval_opts(j, 0, NULL, &o, NULL, 0, &err) == MN_ERANGE);
    CHECK(job_eval_opts(j, 6, NULL, &o, buf, sizeof buf, &err) == MN_ERANGE);
    CHECK(job_canonical(j, 6) == NULL);
    /* each combination's canonical text names its own model and bench */
    char *c0 = job_canonical(j, 0), *c3 = job_canonical(j, 3);
    CHECK(c0 && c3 && strcmp(c0, c3));
    CHECK_STR_CONTAINS(c3, "\"model\":\"models/Qwen3-1.7B/\"");
    CHECK_STR_CONTAINS(c3, "\"bench\":\"math500:data/math500/test.jsonl.gz\"");
    free(c0);
    free(c3);
    job_free(j);
}

/* One model with several benchmarks is a sweep too: OUT/<model>/<bench>. */
static void test_jobspec_bench_sweep_of_one_model(void)
{
    mn_err err = {0};
    job *j = load_text("model: m/base\nbenches: [gpqa:g/gpqa_diamond.csv, gpqa:g/gpqa_main.csv]\nout: r\n", 0, &err);
    CHECK_MSG(j, "%s", err.msg);
    char buf[64];
    eval_opts o;
    CHECK_EQ_INT(job_combos(j), 2);
    CHECK(job_eval_opts(j, 1, NULL, &o, buf, sizeof buf, &err) == 0);
    CHECK(!strcmp(o.out_dir, "r/base/gpqa-gpqa_main"));
    job_free(j);
}

/* ---- canonical text -------------------------------------------------------- */

static void test_jobspec_canonical_is_stable(void)
{
    static const char *a = "model: models/A\nbench: gpqa:data/g.csv\nout: results/a\nmethod: generate\n"
                           "ttc:\n  kind: sc\n  n: 8\n";
    /* the same settings: other key order, flow style, quotes, an explicit default, other out/name/threads */
    static const char *b = "ttc: {n: 8, kind: 'sc'}\nname: other\nthreads: 3\nchunk: 8\nout: elsewhere\n"
                           "bench: \"gpqa:data/g.csv\"\nmethod: generate\nseed: 1234\nmodel: models/A\n";
    static const char *changed[] = {
        "model: models/A\nbench: gpqa:data/g.csv\nout: results/a\nmethod: generate\nttc:\n  kind: sc\n  n: 9\n",
        "model: models/A\nbench: gpqa:data/g.csv\nout: results/a\nmethod: generate\nttc:\n  kind: sc\n  n: 8\nlimit: 5\n",
        "model: models/A\nbench: gpqa:data/g.csv\nout: results/a\nmethod: generate\nttc:\n  kind: sc\n  n: 8\n  temperature: 0.8\n",
        "model: models/B\nbench: gpqa:data/g.csv\nout: results/a\nmethod: generate\nttc:\n  kind: sc\n  n: 8\n",
        "model: models/A\nbench: gpqa:data/g.csv\nout: results/a\nmethod: generate\nttc:\n  kind: sc\n  n: 8\npassphrase: p\n",
        "model: models/A\nbench: gpqa:data/g.csv\nout: results/a\nmethod: generate\nttc:\n  kind: sc\n  n: 8\nbatch: 4\n",
        "model: models/A\nbench: gpqa:data/g.csv\nout: results/a\nmethod: generate\nttc:\n  kind: sc\n  n: 8\nchunk: 2\n",
    };
    mn_err err = {0};
    job *ja = load_text(a, 0, &err), *jb = load_text(b, 0, &err);
    CHECK_MSG(ja && jb, "%s", err.msg);
    char *ca = job_canonical(ja, 0), *cb = job_canonical(jb, 0);
    CHECK(ca && cb);
    CHECK_MSG(!strcmp(ca, cb), "\n%s\n%s", ca, cb);
    static const char *want =
        "{\"add_bos\":false,\"batch\":8,\"bench\":\"gpqa:data/g.csv\",\"chat\":\"none\",\"chunk\":8,"
        "\"fields\":{\"answer\":\"answer\",\"choices\":\"choices\",\"id\":\"id\",\"question\":\"question\",\"subject\":\"subject\"},"
        "\"gpqa_seed\":1234,\"limit\":0,\"math_cot\":false,\"member\":null,\"method\":\"generate\",\"model\":\"models/A\","
        "\"on_error\":\"fail\",\"passphrase\":null,\"retrieval\":null,\"seed\":1234,\"shots\":0,\"shots_from\":null,"
        "\"split\":\"test\",\"style\":null,\"system\":null,\"tokenizer\":\"models/A/tokenizer.json\","
        "\"ttc\":{\"kind\":\"sc\",\"max_new_tokens\":256,\"n\":8,\"temperature\":0.7,\"top_k\":0,\"top_p\":1.0,\"verifier\":null}}";
    CHECK_MSG(!strcmp(ca, want), "\n got  %s\n want %s", ca, want);
    for (size_t i = 0; i < sizeof changed / sizeof changed[0]; i++) {
        job *jc = load_text(changed[i], 0, &err);
        CHECK_MSG(jc, "%s", err.msg);
        char *cc = job_canonical(jc, 0);
        CHECK_MSG(cc && strcmp(cc, ca), "change %zu not seen", i);
        free(cc);
        job_free(jc);
    }
    free(ca);
    free(cb);
    job_free(ja);
    job_free(jb);
}

/* Reranking: absent from the text of jobs without a reranker (their
 * canonical text, stored beside old results, is unchanged); with one, the
 * effective depth (default max(k, 20)) so an explicit default is the same
 * job and another depth or reranker is not. */
static void test_jobspec_canonical_rerank(void)
{
    static const char *base = "model: models/A\nbench: gpqa:data/g.csv\nout: results/a\nretrieval:\n  db: d\n  k: 4\n";
    static const char *tails[] = {"", "  rerank: self\n", "  rerank: self\n  rerank_depth: 20\n",
                                  "  rerank: self\n  rerank_depth: 8\n", "  rerank: models/R\n"};
    char *canon[5];
    mn_err err = {0};
    for (int i = 0; i < 5; i++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s", base, tails[i]);
        job *j = load_text(text, 0, &err);
        CHECK_MSG(j, "%s", err.msg);
        canon[i] = job_canonical(j, 0);
        CHECK(canon[i]);
        job_free(j);
    }
    CHECK_MSG(!strstr(canon[0], "rerank"), "%s", canon[0]);
    CHECK_STR_CONTAINS(canon[1], "\"rerank\":\"self\",\"rerank_depth\":20");
    CHECK_MSG(!strcmp(canon[1], canon[2]), "\n%s\n%s", canon[1], canon[2]);
    CHECK_STR_CONTAINS(canon[3], "\"rerank_depth\":8");
    CHECK_STR_CONTAINS(canon[4], "\"rerank\":\"models/R\"");
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < i; k++)
            CHECK_MSG(k == 1 && i == 2 ? 1 : strcmp(canon[i], canon[k]) != 0, "tails %d and %d give the same text", k, i);
    for (int i = 0; i < 5; i++)
        free(canon[i]);
}

/* ---- file checks ------------------------------------------------------------ */

static int write_file(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void test_jobspec_file_checks_pass_and_fail(void)
{
    char dir[] = "/tmp/mnemo_jobspec_XXXXXX", p[512], text[2048];
    CHECK(mkdtemp(dir));
    static const char *dirs[] = {"model", "embed", "verifier", "db"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, dirs[i]);
        CHECK(mkdir(p, 0755) == 0);
    }
    CHECK(write_file(dir, "model/config.json", "{}") == 0 && write_file(dir, "model/tokenizer.json", "{}") == 0);
    CHECK(write_file(dir, "embed/config.json", "{}") == 0 && write_file(dir, "verifier/config.json", "{}") == 0);
    CHECK(write_file(dir, "db/manifest.json", "{}") == 0 && write_file(dir, "q.jsonl", "{}\n") == 0);
    snprintf(text, sizeof text,
             "model: %s/model\nbench: math500:%s/q.jsonl\nout: %s/out\n"
             "retrieval: {db: %s/db, mode: dense, embed_model: %s/embed}\n"
             "ttc: {kind: bestofn, n: 4, verifier: %s/verifier}\n",
             dir, dir, dir, dir, dir, dir);
    snprintf(p, sizeof p, "%s/job.yaml", dir);
    FILE *f = fopen(p, "w");
    CHECK(f);
    fputs(text, f);
    fclose(f);
    job *j = NULL;
    mn_err err = {0};
    CHECK_MSG(job_load(p, &j, &err) == 0, "%s", err.msg);
    CHECK(!strcmp(job_name(j), "job"));
    job_free(j);
    /* without the manifest the DB is no DB */
    snprintf(p, sizeof p, "%s/db/manifest.json", dir);
    CHECK(remove(p) == 0);
    snprintf(p, sizeof p, "%s/job.yaml", dir);
    CHECK(job_load(p, &j, &err) == MN_EIO);
    char want[1024];
    snprintf(want, sizeof want, "%s: line 4: key 'retrieval.db': %s/db: not a retrieval DB (no manifest.json)", p, dir);
    CHECK_MSG(!strcmp(err.msg, want), "\n got  %s\n want %s", err.msg, want);
    /* the same text without file checks is fine */
    CHECK(job_load_memory("x.yaml", text, strlen(text), 0, &j, &err) == 0);
    job_free(j);
    static const char *files[] = {"job.yaml", "q.jsonl", "model/config.json", "model/tokenizer.json",
                                  "embed/config.json", "verifier/config.json", "model", "embed", "verifier", "db", ""};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        remove(p);
    }
}

/* ---- the examples ------------------------------------------------------------- */

/* Every .yaml in jobs/ is valid (files unchecked: they name models and data of
 * another machine); smoke.yaml also with file checks when its DB and
 * tokenizer have been made. */
static void test_jobspec_example_jobs_load(void)
{
    CHECK(to_source_root() == 0);
    DIR *d = opendir("jobs");
    CHECK(d);
    struct dirent *e;
    size_t n = 0;
    int smoke = 0, sweep = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml"))
            continue;
        char path[512], *buf = NULL;
        size_t blen = 0;
        snprintf(path, sizeof path, "jobs/%s", e->d_name);
        FILE *f = fopen(path, "rb");
        if (f) {
            buf = malloc(1 << 16);
            blen = fread(buf, 1, 1 << 16, f);
            fclose(f);
        }
        job *j = NULL;
        mn_err err = {0};
        int rc = buf ? job_load_memory(path, buf, blen, 0, &j, &err) : -1;
        free(buf);
        if (rc)
            closedir(d);
        CHECK_MSG(rc == 0, "%s: %s", path, err.msg);
        char *canon = job_canonical(j, 0);
        CHECK(canon);
        free(canon);
        smoke |= !strcmp(e->d_name, "smoke.yaml");
        sweep |= job_combos(j) == 6;
        job_free(j);
        n++;
    }
    closedir(d);
    CHECK_MSG(n >= 7 && smoke && sweep, "%zu jobs, smoke %d, a 3x2 sweep %d", n, smoke, sweep);
    struct stat st;
    if (!stat("results/smoke-db/manifest.json", &st) && !stat("deps/tokenizers/qwen3/tokenizer.json", &st)) {
        job *j = NULL;
        mn_err err = {0};
        CHECK_MSG(job_load("jobs/smoke.yaml", &j, &err) == 0, "%s", err.msg);
        job_free(j);
    } else {
        printf("note: results/smoke-db or the qwen3 tokenizer is absent: smoke.yaml checked without file checks\n");
    }
}

TEST_MAIN(TEST(test_jobspec_bad_files_give_exact_messages), TEST(test_jobspec_missing_file_is_io_error),
          TEST(test_jobspec_memory_edge_cases), TEST(test_jobspec_deep_nesting_fails_fast),
          TEST(test_jobspec_out_from_the_command_line), TEST(test_jobspec_defaults),
          TEST(test_jobspec_every_key_reaches_eval_opts), TEST(test_jobspec_scalar_forms), TEST(test_jobspec_aliases),
          TEST(test_jobspec_sweep_expands_models_times_benches), TEST(test_jobspec_bench_sweep_of_one_model),
          TEST(test_jobspec_canonical_is_stable), TEST(test_jobspec_canonical_rerank), TEST(test_jobspec_file_checks_pass_and_fail),
          TEST(test_jobspec_example_jobs_load))
