/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_common_htab.c: the intrusive hash table, SipHash-2-4 against its
 * published vectors, and the timer heap against a sorted reference. */
#include <check.h>
#include "tap_main.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/htab.h"
#include "common/timerheap.h"

/* SipHash-2-4's reference vectors: key 00..0f, messages 00..(n-1). */
START_TEST(siphash_vectors)
{
	static const struct { size_t len; uint64_t h; } v[] = {
		{ 0, 0x726fdb47dd0e0e31ull }, { 1, 0x74f839c593dc67fdull },
		{ 7, 0xab0200f58b01d137ull }, { 8, 0x93f5f5799a932462ull },
		{ 15, 0xa129ca6149be45e5ull }, { 63, 0x958a324ceb064572ull },
	};
	uint8_t key[16], msg[64];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_msg(sv_siphash2(key, msg, v[i].len, NULL, 0) == v[i].h, "length %zu", v[i].len);
	/* two parts are the message with a 0 between them */
	msg[3] = 0;
	ck_assert(sv_siphash2(key, msg, 3, msg + 4, 11) == sv_siphash2(key, msg, 15, NULL, 0));
	/* a keyed hash: another key, another value */
	key[0] ^= 1;
	ck_assert(sv_siphash2(key, msg, 15, NULL, 0) != 0xa129ca6149be45e5ull);
	ck_assert_int_eq(sv_hash_key(key), 0);
}
END_TEST

struct item {
	struct sv_hnode node;
	unsigned key;
	bool in;
};

static struct item *find(struct sv_htab *h, unsigned key)
{
	for (struct sv_hnode *n = sv_htab_first(h, sv_hash_u64(key)); n; n = sv_htab_next(n)) {
		struct item *it = sv_container_of(n, struct item, node);
		if (it->key == key)
			return it;
	}
	return NULL;
}

START_TEST(htab_add_find_del)
{
	enum { N = 20000 };
	struct item *items = calloc(N, sizeof(*items));
	struct sv_htab h = { 0 };

	ck_assert_ptr_null(find(&h, 1));        /* empty: no buckets yet */
	for (unsigned i = 0; i < N; i++) {
		items[i].key = i * 7919u;
		ck_assert_int_eq(sv_htab_add(&h, &items[i].node, sv_hash_u64(items[i].key)), 0);
		items[i].in = true;
	}
	ck_assert_uint_eq(h.n, N);
	ck_assert_uint_ge(h.mask + 1, N);       /* grew: chains stay short */
	for (unsigned i = 0; i < N; i += 2) {
		sv_htab_del(&h, &items[i].node);
		items[i].in = false;
	}
	ck_assert_uint_eq(h.n, N / 2);
	for (unsigned i = 0; i < N; i++)
		ck_assert_ptr_eq(find(&h, items[i].key), items[i].in ? &items[i] : NULL);
	ck_assert_ptr_null(find(&h, 5));        /* never added */
	/* a hash shared by two keys: both found, each by its own key */
	struct item a = { .key = 1 }, b = { .key = 2 };
	sv_htab_add(&h, &a.node, 42);
	sv_htab_add(&h, &b.node, 42);
	int seen = 0;
	for (struct sv_hnode *n = sv_htab_first(&h, 42); n; n = sv_htab_next(n))
		seen |= sv_container_of(n, struct item, node)->key;
	ck_assert_int_eq(seen, 3);
	sv_htab_free(&h);
	free(items);
}
END_TEST

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

START_TEST(timerheap_order)
{
	enum { N = 5000 };
	struct sv_timer *t = calloc(N, sizeof(*t));
	int64_t *want = calloc(N, sizeof(*want));
	struct sv_timerheap h = { 0 };
	size_t nwant = 0;

	srand(7);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(sv_timer_arm(&h, &t[i], rand() % 100000), 0);
	/* move some, cancel some (also the first), re-arm a cancelled one */
	for (int i = 0; i < N; i += 3)
		sv_timer_arm(&h, &t[i], rand() % 100000);
	for (int i = 1; i < N; i += 5)
		sv_timer_cancel(&h, &t[i]);
	sv_timer_cancel(&h, sv_timer_first(&h));
	sv_timer_cancel(&h, &t[1]);             /* twice: nothing */
	sv_timer_arm(&h, &t[6], 5);
	for (int i = 0; i < N; i++)
		if (t[i].idx)
			want[nwant++] = t[i].due_ms;
	ck_assert_uint_eq(nwant, h.n);
	qsort(want, nwant, sizeof(*want), cmp64);
	ck_assert_ptr_null(sv_timer_take_due(&h, want[0] - 1));
	for (size_t k = 0; k < nwant; k++) {
		struct sv_timer *x = sv_timer_take_due(&h, INT64_MAX);
		ck_assert_ptr_nonnull(x);
		ck_assert_int_eq(x->due_ms, want[k]);
		ck_assert_uint_eq(x->idx, 0);
	}
	ck_assert_ptr_null(sv_timer_first(&h));
	sv_timerheap_free(&h);
	free(t);
	free(want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_htab");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, siphash_vectors);
	tcase_add_test(tc, htab_add_find_del);
	tcase_add_test(tc, timerheap_order);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
