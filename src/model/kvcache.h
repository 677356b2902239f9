/* kvcache.h — the key/value cache: for each of n_slots sequences and each
 * of L layers, the keys and values of every position seen so far.
 *
 * A slot is one sequence.  The engine appends to a slot (its positions are
 * 0..len-1); kvcache_seq_copy() forks a slot's prefix into another, so a
 * shared prompt is prefilled once and then decoded as k sequences together
 * (self-consistency, best-of-N).  Keys are stored after RoPE.
 *
 * Layout: K and V are each [n_slots, L, max_len, KV*D] float32, one
 * allocation each.  The allocation is a "try" allocation: failure is
 * MN_ENOMEM with the size needed.  Pages are only touched (and counted in
 * RSS) as positions are written.
 * Non-goals: paging, sharing prefix pages between slots, quantised caches.
 */
#ifndef MNEMO_MODEL_KVCACHE_H
#define MNEMO_MODEL_KVCACHE_H

#include <stddef.h>

#include "util/err.h" /* mn_err */

typedef struct kvcache kvcache;

/* Create an empty cache of n_slots slots of max_len positions for L layers
 * of width kv_dim = KV*D.  Errors: MN_ERANGE (a non-positive size),
 * MN_ENOMEM ("KV cache: needs 3.2 GiB (4 slots x 24 layers x 4096
 * positions x 1024 floats x 2)").  Free with kvcache_free(). */
int kvcache_create(int L, int kv_dim, int n_slots, int max_len, kvcache **out, mn_err *err);
void kvcache_free(kvcache *kv);

/* Sizes given at creation. */
int kvcache_n_slots(const kvcache *kv);
int kvcache_max_len(const kvcache *kv);

/* Number of positions cached in slot (0 for a new or cleared slot). */
int kvcache_len(const kvcache *kv, int slot);

/* Set the length of a slot: clear (len 0), truncate (drop positions >= len)
 * or, for the engine after writing positions, extend.  0 <= len <= max_len. */
void kvcache_set_len(kvcache *kv, int slot, int len);

/* Copy the first len(src) positions of every layer of slot src into slot
 * dst and give dst the same length (dst's old content is dropped). */
void kvcache_seq_copy(kvcache *kv, int src, int dst);

/* Keys / values of layer l of slot: [max_len, KV*D], position p at row p.
 * Borrowed, valid until kvcache_free(). */
float *kvcache_k(kvcache *kv, int slot, int l);
float *kvcache_v(kvcache *kv, int slot, int l);

/* Bytes reserved for K and V together. */
size_t kvcache_bytes(const kvcache *kv);

#endif
