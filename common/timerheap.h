/* SPDX-License-Identifier: Apache-2.0 */
/* common/timerheap.h: deadlines in a binary min-heap. Each timer lives in its owner's
 * struct and knows its place, so arming, moving and cancelling cost O(log n) and the next
 * deadline O(1): a loop round never walks what is not due. */
#ifndef SV_COMMON_TIMERHEAP_H
#define SV_COMMON_TIMERHEAP_H
#include <stddef.h>
#include <stdint.h>

struct sv_timer {
	int64_t due_ms;
	size_t idx;             /* its slot + 1; 0 = not armed */
	uint8_t kind;           /* what the owner is (the caller's tag) */
};

struct sv_timerheap {
	struct sv_timer **a;
	size_t n, cap;
};

/* Arm t at due_ms, or move it there if armed. 0, or -ENOMEM (t is then not armed). */
int sv_timer_arm(struct sv_timerheap *h, struct sv_timer *t, int64_t due_ms);
/* Disarm t; nothing if it is not armed. */
void sv_timer_cancel(struct sv_timerheap *h, struct sv_timer *t);
/* The earliest armed timer, or NULL. */
static inline struct sv_timer *sv_timer_first(const struct sv_timerheap *h)
{
	return h->n ? h->a[0] : NULL;
}
/* The earliest timer due at now_ms, disarmed; NULL when none is due. */
struct sv_timer *sv_timer_take_due(struct sv_timerheap *h, int64_t now_ms);
void sv_timerheap_free(struct sv_timerheap *h);

#endif
