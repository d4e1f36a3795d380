/* SPDX-License-Identifier: Apache-2.0 */
/* common/dlist.h: an intrusive doubly linked list (the owner's struct holds its link and
 * knows, by a field of its own, whether it is on the list): append and remove in O(1). */
#ifndef SV_COMMON_DLIST_H
#define SV_COMMON_DLIST_H
#include <stddef.h>

struct sv_dlink {
	struct sv_dlink *prev, *next;
};

struct sv_dlist {
	struct sv_dlink *head, *tail;
};

static inline void sv_dlist_append(struct sv_dlist *l, struct sv_dlink *n)
{
	n->next = NULL;
	n->prev = l->tail;
	*(l->tail ? &l->tail->next : &l->head) = n;
	l->tail = n;
}

/* n must be on l. */
static inline void sv_dlist_remove(struct sv_dlist *l, struct sv_dlink *n)
{
	*(n->prev ? &n->prev->next : &l->head) = n->next;
	*(n->next ? &n->next->prev : &l->tail) = n->prev;
	n->prev = n->next = NULL;
}

#endif
