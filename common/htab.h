/* SPDX-License-Identifier: Apache-2.0 */
/* common/htab.h: an intrusive chained hash table (the caller's struct holds its node and
 * compares its own key) and SipHash-2-4, keyed per process, for keys a client chooses. */
#ifndef SV_COMMON_HTAB_H
#define SV_COMMON_HTAB_H
#include <stddef.h>
#include <stdint.h>

struct sv_hnode {
	struct sv_hnode *next;
	uint64_t hash;
};

struct sv_htab {
	struct sv_hnode **b;    /* mask + 1 buckets, a power of two; NULL until the first add */
	size_t mask, n;
};

/* Add n under hash. The table doubles when it holds more nodes than buckets; a doubling
 * that cannot allocate keeps the table as it is (longer chains, never a lost node). 0, or
 * -ENOMEM when the first buckets cannot be allocated. */
int sv_htab_add(struct sv_htab *h, struct sv_hnode *n, uint64_t hash);
/* Remove n, which must be in h. */
void sv_htab_del(struct sv_htab *h, struct sv_hnode *n);
/* The nodes under hash, in turn: for (n = sv_htab_first(h, k); n; n = sv_htab_next(n)). */
struct sv_hnode *sv_htab_first(const struct sv_htab *h, uint64_t hash);
struct sv_hnode *sv_htab_next(const struct sv_hnode *n);
void sv_htab_free(struct sv_htab *h);

/* SipHash-2-4 of (a, a_len) then (b, b_len), as one message with a 0 byte between them. */
uint64_t sv_siphash2(const uint8_t key[16], const void *a, size_t a_len, const void *b, size_t b_len);
/* A key from getrandom(); 0, or -errno. */
int sv_hash_key(uint8_t key[16]);
/* An integer key the process itself assigns (a serial, a sequence number): spread, unkeyed. */
static inline uint64_t sv_hash_u64(uint64_t x)
{
	return x * 0x9e3779b97f4a7c15ull;
}

#define sv_container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

#endif
