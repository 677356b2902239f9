/* hash.h — content hashes: a fast 64-bit non-cryptographic hash (chunk
 * dedup keys, shard assignment, the DB content hash) and SHA-256 (the
 * identity of a tokenizer file in a DB manifest).
 *
 * hash64 processes 8 bytes per step (little-endian loads) with
 * multiply-xorshift mixing and MurmurHash3's fmix64 finaliser.  Its value
 * is part of the on-disk DB format (shard = hash64 % S, dedup keys), so it
 * must never change: tests pin known values.
 *
 * Non-goals: resistance to adversarial collisions (dedup compares texts on
 * a hash hit), streaming hash64. */
#ifndef MNEMO_UTIL_HASH_H
#define MNEMO_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit hash of data[0..len) under seed. */
uint64_t hash64(const void *data, size_t len, uint64_t seed);

/* Incremental SHA-256 (FIPS 180-4). */
typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t total;     /* bytes hashed */
    uint8_t buf[64];
    size_t nbuf;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_final(sha256_ctx *c, uint8_t out[32]);

/* SHA-256 of data[0..len) as 64 lower-case hex digits + NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
