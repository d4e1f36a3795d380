/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/clients.c: fair service and bounded memory per client: connections per uid,
 * root's reserve, the idle timeout, the cap on partial request bytes, slow subscribers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common/clock.h"
#include "common/log.h"
#include "engine.h"
#include "monitor.h"
#include "wire/status.h"

/* One uid with connections open; freed with its last. */
struct peer {
	uid_t uid;
	size_t n;
	struct peer *next;
};

#define NBUCKETS (sizeof(((struct engine *)0)->peers) / sizeof(struct peer *))

bool client_admit(bool root, size_t peer_n, size_t nonroot_n, size_t max_clients,
		  size_t peer_max, size_t root_reserve)
{
	if (root)
		return true;    /* max_clients, checked before, is root's only bound */
	return peer_n < peer_max && nonroot_n + root_reserve < max_clients;
}

void client_caps(struct engine *e)
{
	size_t max = e->max_clients, res = (size_t)e->cfg->client_root_reserve;
	size_t share;

	e->root_reserve = res < max ? res : max;
	share = (max - e->root_reserve) / 2;
	e->peer_max = (size_t)e->cfg->client_peer_max < share ? (size_t)e->cfg->client_peer_max : share;
	if (!e->peer_max)
		e->peer_max = 1;
}

/* ---- log lines a client causes: rate-limited ---- */

#define WARN_INTERVAL_MS 2000      /* a burst of 5, then one per 2 s: 5 per 10 s */
#define WARN_BURST       5

void client_warn(struct engine *e, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!sv_rate_take(&e->warn_rate, sv_now_ms(), WARN_INTERVAL_MS, WARN_BURST)) {
		e->refused_quiet++;
		return;
	}
	if (e->refused_quiet)
		sv_warn("engine: %u more client warnings (not logged)", e->refused_quiet);
	e->refused_quiet = 0;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sv_warn("%s", line);
}

/* ---- connections per uid ---- */

static struct peer **bucket(struct engine *e, uid_t uid)
{
	return &e->peers[(uid * 2654435761u) % NBUCKETS];
}

static struct peer *peer_get(struct engine *e, uid_t uid)
{
	struct peer **b = bucket(e, uid), *p;

	for (p = *b; p; p = p->next)
		if (p->uid == uid)
			return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->uid = uid;
	p->next = *b;
	*b = p;
	return p;
}

static void peer_put(struct engine *e, struct peer *p)
{
	if (--p->n)
		return;
	for (struct peer **pp = bucket(e, p->uid); *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	free(p);
}

void client_refuse(int fd, const char *msg)
{
	uint8_t hdr[SV_TTRPC_HEADER_LEN], *body = NULL;
	size_t len = 0;

	if (ttrpc_encode_response(SV_RESOURCE_EXHAUSTED, msg, NULL, NULL, &body, &len) == 0) {
		struct ttrpc_hdr h = { .len = (uint32_t)len, .stream = 1,
				       .type = SV_TTRPC_TYPE_RESPONSE };
		struct iovec iov[2] = { { hdr, sizeof(hdr) }, { body, len } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

		ttrpc_hdr_pack(hdr, &h);
		(void)sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	free(body);
	close(fd);
}

/* Refused for its uid's share (n: its connections) or the non-root total. */
static void refuse_busy(struct engine *e, int fd, uid_t uid, size_t n)
{
	char msg[200];

	if (n >= e->peer_max)
		snprintf(msg, sizeof(msg), "too many connections from uid %u (client_peer_max %zu)",
			 (unsigned)uid, e->peer_max);
	else
		snprintf(msg, sizeof(msg), "too many clients: the daemon keeps its last %zu "
			 "connections for root (client_root_reserve)", e->root_reserve);
	client_refuse(fd, msg);
	client_warn(e, "engine: client of uid %u refused: %s", (unsigned)uid, msg);
}

void client_accept(struct engine *e, int fd, uid_t uid)
{
	struct peer *p = peer_get(e, uid);
	struct conn *c;

	if (!p) {
		close(fd);
		return;
	}
	if (!client_admit(uid == 0, p->n, e->nonroot_clients, e->max_clients, e->peer_max,
			  e->root_reserve)) {
		p->n++;
		refuse_busy(e, fd, uid, p->n - 1);
		peer_put(e, p);
		return;
	}
	c = conn_new(e, fd, CONN_CLIENT);
	if (!c) {
		close(fd);
		p->n++;
		peer_put(e, p);
		return;
	}
	p->n++;
	e->nonroot_clients += uid != 0;
	c->peer = p;
	client_sync(e, c, true);
	sv_debug("engine: client %llu of uid %u accepted", (unsigned long long)c->serial,
		 (unsigned)uid);
}

/* ---- the idle list ---- */

static void idle_unlink(struct engine *e, struct conn *c)
{
	if (!c->on_idle)
		return;
	sv_dlist_remove(&e->idle, &c->idle_link);
	c->on_idle = false;
}

void client_gone(struct engine *e, struct conn *c)
{
	idle_unlink(e, c);
	e->partial_bytes -= c->held;
	c->held = 0;
	if (c->peer) {
		e->nonroot_clients -= c->peer->uid != 0;
		peer_put(e, c->peer);
		c->peer = NULL;
	}
}

void client_sync(struct engine *e, struct conn *c, bool activity)
{
	bool closable = c->closing || (!c->subscriber && !c->inflight);

	if (c->kind != CONN_CLIENT || (c->on_idle && closable && !activity))
		return;
	idle_unlink(e, c);
	if (!closable)
		return;
	/* appended with the time now: the list stays oldest first */
	c->active_ms = sv_now_ms();
	sv_dlist_append(&e->idle, &c->idle_link);
	c->on_idle = true;
}

void client_answered(struct engine *e, struct conn *c)
{
	c->inflight -= c->inflight > 0;
	client_sync(e, c, true);
}

static struct conn *idle_first(struct engine *e)
{
	return e->idle.head ? sv_container_of(e->idle.head, struct conn, idle_link) : NULL;
}

void clients_idle(struct engine *e, int64_t now, int64_t *next)
{
	int64_t ms = e->cfg->client_idle_ms;

	if (!ms)
		return;
	struct conn *c;

	while ((c = idle_first(e)) && c->active_ms + ms <= now) {

		if (e->cfg->log_level >= LOG_DEBUG)
			sv_debug("engine: client %llu idle for %lld ms: closed",
				 (unsigned long long)c->serial, (long long)ms);
		conn_close(e, c);
	}
	if ((c = idle_first(e)) && c->active_ms + ms < *next)
		*next = c->active_ms + ms;
}

/* ---- partial request bytes ---- */

void clients_partial(struct engine *e, struct conn *c)
{
	size_t max = (size_t)e->cfg->client_partial_max;

	e->partial_bytes += c->rd.cap - c->held;
	c->held = c->rd.cap;
	while (e->partial_bytes > max) {
		struct conn *big = NULL;

		/* a scan of the clients, only when over the cap: each closes one */
		for (size_t i = 0; i < e->nconns; i++)
			if (e->conns[i]->held && (!big || e->conns[i]->held > big->held))
				big = e->conns[i];
		if (!big)
			break;
		client_warn(e, "engine: client of uid %u closed: it held %zu bytes of an unfinished "
			    "request, the most of all when they passed client_partial_max (%zu)",
			    big->peer ? (unsigned)big->peer->uid : 0u, big->held, max);
		conn_close(e, big);
	}
}

/* ---- slow subscribers ---- */

void client_cut_subscriber(struct engine *e, struct conn *c)
{
	size_t lost = sv_outq_drop_unsent(&c->out);
	char msg[200];

	snprintf(msg, sizeof(msg), "events lost: %zu events this subscriber did not read in time "
		 "(more than event_queue_max %d unread): subscription closed", lost,
		 e->cfg->event_queue_max);
	if (ttrpc_queue_response(&c->out, c->sub_stream, SV_RESOURCE_EXHAUSTED, msg, NULL, NULL) < 0)
		sv_outq_free(&c->out);
	conn_subscribe(e, c, false);
	c->closing = true;
	conn_dirty(e, c);
	/* it has until client_idle_ms to read the final frame */
	client_sync(e, c, true);
	client_warn(e, "engine: subscriber of uid %u closed: %zu events lost (event_queue_max %d)",
		    c->peer ? (unsigned)c->peer->uid : 0u, lost, e->cfg->event_queue_max);
}
