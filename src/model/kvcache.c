/* kvcache.c — per-slot key/value storage (see kvcache.h). */
#include "model/kvcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kvcache {
    int L, kv_dim, n_slots, max_len;
    float *k;  /* [n_slots, L, max_len, kv_dim] */
    float *v;  /* [n_slots, L, max_len, kv_dim] */
    int *len;  /* [n_slots] positions cached per slot */
};

int kvcache_create(int L, int kv_dim, int n_slots, int max_len, kvcache **out, mn_err *err)
{
    if (L <= 0 || kv_dim <= 0 || n_slots <= 0 || max_len <= 0)
        return mn_errf(err, MN_ERANGE,
                       "KV cache: invalid size (%d slots x %d layers x %d positions x %d floats)",
                       n_slots, L, max_len, kv_dim);
    /* in double first: the product can overflow size_t */
    double bytes = 2.0 * sizeof(float) * n_slots * (double)L * max_len * kv_dim;
    double gib = bytes / (1024.0 * 1024.0 * 1024.0);
    /* Linux overcommits: malloc of more than the machine has succeeds and the
     * process is killed later, so refuse that here. */
    double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (phys > 0 && bytes > phys)
        return mn_errf(err, MN_ENOMEM,
                       "KV cache: needs %.2f GiB (%d slots x %d layers x %d positions x %d floats x 2), more than the %.1f GiB of memory",
                       gib, n_slots, L, max_len, kv_dim, phys / (1024.0 * 1024.0 * 1024.0));
    size_t n = (size_t)n_slots * L * max_len * kv_dim;
    kvcache *kv = xcalloc(1, sizeof *kv);
    kv->L = L;
    kv->kv_dim = kv_dim;
    kv->n_slots = n_slots;
    kv->max_len = max_len;
    kv->len = xcalloc((size_t)n_slots, sizeof *kv->len);
    if (bytes > (double)SIZE_MAX || !(kv->k = malloc(n * sizeof(float))) ||
        !(kv->v = malloc(n * sizeof(float)))) {
        kvcache_free(kv);
        return mn_errf(err, MN_ENOMEM,
                       "KV cache: needs %.2f GiB (%d slots x %d layers x %d positions x %d floats x 2)",
                       gib, n_slots, L, max_len, kv_dim);
    }
    *out = kv;
    return MN_OK;
}

void kvcache_free(kvcache *kv)
{
    if (!kv)
        return;
    free(kv->k);
    free(kv->v);
    free(kv->len);
    free(kv);
}

int kvcache_n_slots(const kvcache *kv) { return kv->n_slots; }
int kvcache_max_len(const kvcache *kv) { return kv->max_len; }
int kvcache_len(const kvcache *kv, int slot) { return kv->len[slot]; }

void kvcache_set_len(kvcache *kv, int slot, int len)
{
    kv->len[slot] = len;
}

static size_t layer_offset(const kvcache *kv, int slot, int l)
{
    return ((size_t)slot * kv->L + l) * kv->max_len * kv->kv_dim;
}

float *kvcache_k(kvcache *kv, int slot, int l) { return kv->k + layer_offset(kv, slot, l); }
float *kvcache_v(kvcache *kv, int slot, int l) { return kv->v + layer_offset(kv, slot, l); }

void kvcache_seq_copy(kvcache *kv, int src, int dst)
{
    if (src == dst)
        return;
    size_t n = (size_t)kv->len[src] * kv->kv_dim * sizeof(float);
    for (int l = 0; l < kv->L; l++) {
        memcpy(kvcache_k(kv, dst, l), kvcache_k(kv, src, l), n);
        memcpy(kvcache_v(kv, dst, l), kvcache_v(kv, src, l), n);
    }
    kv->len[dst] = kv->len[src];
}

size_t kvcache_bytes(const kvcache *kv)
{
    return 2 * (size_t)kv->n_slots * kv->L * kv->max_len * kv->kv_dim * sizeof(float);
}
