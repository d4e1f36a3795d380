/* SPDX-License-Identifier: Apache-2.0 */
/* common/htab.c: the intrusive hash table and SipHash-2-4 of common/htab.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "common/htab.h"

static void place(struct sv_hnode **b, size_t mask, struct sv_hnode *n)
{
	struct sv_hnode **head = &b[n->hash & mask];

	n->next = *head;
	*head = n;
}

static void grow(struct sv_htab *h)
{
	size_t nmask = h->mask * 2 + 1;
	struct sv_hnode **nb = calloc(nmask + 1, sizeof(*nb));

	if (!nb)
		return;
	for (size_t i = 0; i <= h->mask; i++) {
		for (struct sv_hnode *n = h->b[i], *next; n; n = next) {
			next = n->next;
			place(nb, nmask, n);
		}
	}
	free(h->b);
	h->b = nb;
	h->mask = nmask;
}

int sv_htab_add(struct sv_htab *h, struct sv_hnode *n, uint64_t hash)
{
	if (!h->b) {
		h->b = calloc(64, sizeof(*h->b));
		if (!h->b)
			return -ENOMEM;
		h->mask = 63;
	}
	n->hash = hash;
	place(h->b, h->mask, n);
	if (++h->n > h->mask + 1)
		grow(h);
	return 0;
}

void sv_htab_del(struct sv_htab *h, struct sv_hnode *n)
{
	if (!h->b)
		return;
	for (struct sv_hnode **pp = &h->b[n->hash & h->mask]; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			h->n--;
			return;
		}
	}
}

struct sv_hnode *sv_htab_first(const struct sv_htab *h, uint64_t hash)
{
	struct sv_hnode *n = h->b ? h->b[hash & h->mask] : NULL;

	while (n && n->hash != hash)
		n = n->next;
	return n;
}

struct sv_hnode *sv_htab_next(const struct sv_hnode *n)
{
	uint64_t hash = n->hash;

	for (n = n->next; n && n->hash != hash; n = n->next)
		;
	return (struct sv_hnode *)n;
}

void sv_htab_free(struct sv_htab *h)
{
	free(h->b);
	*h = (struct sv_htab){ 0 };
}

/* ---- SipHash-2-4 (Aumasson and Bernstein), over a message given in two parts ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sip {
	uint64_t v0, v1, v2, v3;
	uint64_t tail;          /* bytes not yet in a whole word, little-endian */
	size_t len;             /* bytes taken in all */
};

static void sip_rounds(struct sip *s, int n)
{
	while (n--) {
		s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0; s->v0 = ROTL(s->v0, 32);
		s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
		s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
		s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2; s->v2 = ROTL(s->v2, 32);
	}
}

static void sip_word(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_rounds(s, 2);
	s->v0 ^= m;
}

static void sip_bytes(struct sip *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s->tail |= (uint64_t)p[i] << (8 * (s->len & 7));
		if ((++s->len & 7) == 0) {
			sip_word(s, s->tail);
			s->tail = 0;
		}
	}
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

uint64_t sv_siphash2(const uint8_t key[16], const void *a, size_t a_len, const void *b, size_t b_len)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	struct sip s = { .v0 = k0 ^ 0x736f6d6570736575ull, .v1 = k1 ^ 0x646f72616e646f6dull,
			 .v2 = k0 ^ 0x6c7967656e657261ull, .v3 = k1 ^ 0x7465646279746573ull };
	static const uint8_t zero;

	sip_bytes(&s, a, a_len);
	if (b) {
		sip_bytes(&s, &zero, 1);
		sip_bytes(&s, b, b_len);
	}
	sip_word(&s, s.tail | (uint64_t)(s.len & 0xff) << 56);
	s.v2 ^= 0xff;
	sip_rounds(&s, 4);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

int sv_hash_key(uint8_t key[16])
{
	ssize_t n = getrandom(key, 16, 0);

	return n == 16 ? 0 : n < 0 ? -errno : -EIO;
}
