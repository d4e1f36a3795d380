/* SPDX-License-Identifier: Apache-2.0 */
/* common/timerheap.c: the min-heap of common/timerheap.h. */
#include <errno.h>
#include <stdlib.h>
#include "common/timerheap.h"

static void put(struct sv_timerheap *h, size_t i, struct sv_timer *t)
{
	h->a[i] = t;
	t->idx = i + 1;
}

static void up(struct sv_timerheap *h, size_t i)
{
	struct sv_timer *t = h->a[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h->a[p]->due_ms <= t->due_ms)
			break;
		put(h, i, h->a[p]);
		i = p;
	}
	put(h, i, t);
}

static void down(struct sv_timerheap *h, size_t i)
{
	struct sv_timer *t = h->a[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->a[c + 1]->due_ms < h->a[c]->due_ms)
			c++;
		if (t->due_ms <= h->a[c]->due_ms)
			break;
		put(h, i, h->a[c]);
		i = c;
	}
	put(h, i, t);
}

int sv_timer_arm(struct sv_timerheap *h, struct sv_timer *t, int64_t due_ms)
{
	if (t->idx) {
		t->due_ms = due_ms;
		up(h, t->idx - 1);
		down(h, t->idx - 1);
		return 0;
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct sv_timer **a = realloc(h->a, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		h->a = a;
		h->cap = cap;
	}
	t->due_ms = due_ms;
	put(h, h->n++, t);
	up(h, h->n - 1);
	return 0;
}

void sv_timer_cancel(struct sv_timerheap *h, struct sv_timer *t)
{
	size_t i;

	if (!t->idx)
		return;
	i = t->idx - 1;
	t->idx = 0;
	if (i == --h->n)
		return;
	struct sv_timer *moved = h->a[h->n];

	put(h, i, moved);
	up(h, i);
	down(h, moved->idx - 1);
}

struct sv_timer *sv_timer_take_due(struct sv_timerheap *h, int64_t now_ms)
{
	struct sv_timer *t = sv_timer_first(h);

	if (!t || t->due_ms > now_ms)
		return NULL;
	sv_timer_cancel(h, t);
	return t;
}

void sv_timerheap_free(struct sv_timerheap *h)
{
	for (size_t i = 0; i < h->n; i++)
		h->a[i]->idx = 0;
	free(h->a);
	*h = (struct sv_timerheap){ 0 };
}
