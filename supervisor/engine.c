/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/engine.c: the engine's epoll loop, connections and the monitor channel. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "config_reload.h"
#include "engine.h"
#include "monitor.h"
#include "monitor.pb.h"
#include "wire/fdchan.h"
#include "wire/pbio.h"
#include "wire/status.h"

#define OUTQ_MAX (8u << 20)     /* a client that reads nothing loses its connection */
/* a client with this much of its answers unread is not read from until it takes them: a
 * flood of requests never read back costs the engine no more */
#define OUTQ_SOFT (64u << 10)

static bool client_backlogged(const struct conn *c)
{
	return c->kind == CONN_CLIENT && c->out.len - c->out.off > OUTQ_SOFT;
}

int ev_watch(struct engine *e, int fd, uint32_t events, enum ev_kind *tag)
{
	struct epoll_event ev = { .events = events, .data.ptr = tag };

	return epoll_ctl(e->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Before fd is closed: drop it from the set and from the round being handled, so that an
 * event already returned for it is never delivered to a freed object. */
void ev_forget(struct engine *e, int fd, enum ev_kind *tag)
{
	(void)epoll_ctl(e->ep, EPOLL_CTL_DEL, fd, NULL);
	for (int i = 0; i < e->nbatch; i++)
		if (e->batch[i].data.ptr == tag)
			e->batch[i].data.ptr = NULL;
}

static void conn_set_events(struct engine *e, struct conn *c)
{
	uint32_t want = (c->closing || client_backlogged(c) ? 0 : EPOLLIN) |
			(sv_outq_pending(&c->out) ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want, .data.ptr = &c->ev };

	if (want != c->ev_mask && epoll_ctl(e->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ev_mask = want;
}

struct conn *conn_new(struct engine *e, int fd, enum conn_kind kind)
{
	struct conn *c;

	if (e->nconns == e->conns_cap) {
		size_t n = e->conns_cap ? e->conns_cap * 2 : 32;
		struct conn **nc = realloc(e->conns, n * sizeof(*nc));
		if (!nc)
			return NULL;
		e->conns = nc;
		e->conns_cap = n;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->kind = kind;
	c->ev = EV_CONN;
	c->ev_mask = EPOLLIN;
	if (ev_watch(e, fd, EPOLLIN, &c->ev) < 0) {
		free(c);
		return NULL;
	}
	c->serial = ++e->next_serial;
	if (sv_htab_add(&e->conn_index, &c->by_serial, sv_hash_u64(c->serial)) < 0) {
		(void)epoll_ctl(e->ep, EPOLL_CTL_DEL, fd, NULL);
		free(c);
		return NULL;
	}
	c->next_stream = 1;
	c->slot = e->nconns;
	e->conns[e->nconns++] = c;
	e->nclients += kind == CONN_CLIENT;
	return c;
}

struct conn *conn_by_serial(struct engine *e, uint64_t serial)
{
	for (struct sv_hnode *n = sv_htab_first(&e->conn_index, sv_hash_u64(serial)); n;
	     n = sv_htab_next(n)) {
		struct conn *c = sv_container_of(n, struct conn, by_serial);
		if (c->serial == serial)
			return c;
	}
	return NULL;
}

void conn_dirty(struct engine *e, struct conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	sv_dlist_append(&e->dirty, &c->dirty_link);
}

static void dirty_unlink(struct engine *e, struct conn *c)
{
	if (!c->dirty)
		return;
	sv_dlist_remove(&e->dirty, &c->dirty_link);
	c->dirty = false;
}

void conn_subscribe(struct engine *e, struct conn *c, bool on)
{
	if (on == c->subscriber)
		return;
	c->subscriber = on;
	if (on)
		sv_dlist_append(&e->subs, &c->sub_link);
	else
		sv_dlist_remove(&e->subs, &c->sub_link);
}

void conn_close(struct engine *e, struct conn *c)
{
	if (c->kind == CONN_WORKER) {
		link_closed(e, c);      /* (its calls answered: it may mark c dirty again) */
	} else {
		e->nclients--;
		client_gone(e, c);
	}
	e->conns[c->slot] = e->conns[--e->nconns];
	e->conns[c->slot]->slot = c->slot;
	sv_htab_del(&e->conn_index, &c->by_serial);
	dirty_unlink(e, c);
	conn_subscribe(e, c, false);
	ev_forget(e, c->fd, &c->ev);
	close(c->fd);
	ttrpc_reader_free(&c->rd);
	sv_outq_free(&c->out);
	free(c);
}

void reply(struct engine *e, struct reply_to rt, int code, const char *msg,
	   const pb_msgdesc_t *fields, const void *payload)
{
	struct conn *c;

	if (!rt.conn)
		return;
	c = conn_by_serial(e, rt.conn);
	if (!c)
		return;         /* the client went away */
	if (ttrpc_queue_response(&c->out, rt.stream, code, msg, fields, payload) < 0)
		c->closing = true;
	conn_dirty(e, c);
	client_answered(e, c);
}

/* Send what is queued for the monitor; ask for EPOLLOUT while some is left. 0, or -errno
 * when the monitor is gone. */
static int mon_flush(struct engine *e)
{
	int r = fdchan_q_flush(&e->mon_q, e->mon_fd);
	uint32_t want = EPOLLIN | (fdchan_q_pending(&e->mon_q) ? EPOLLOUT : 0);

	if (want != e->mon_ev_mask) {
		struct epoll_event ev = { .events = want, .data.ptr = &e->ev_mon };

		if (epoll_ctl(e->ep, EPOLL_CTL_MOD, e->mon_fd, &ev) == 0)
			e->mon_ev_mask = want;
	}
	return r;
}

int mon_send(struct engine *e, struct task *t, sv_MonRequest *rq)
{
	int r;

	rq->seq = ++e->next_mon_seq;
	if (rq->seq == 0)
		rq->seq = ++e->next_mon_seq;
	if (t)
		task_set_seq(e, t, rq->seq);
	r = fdchan_q_send(&e->mon_q, e->mon_fd, sv_MonRequest_fields, rq, -1);
	if (r == 0)
		(void)mon_flush(e);     /* only for the EPOLLOUT mask: a monitor gone is EOF */
	return r;
}

/* Fds the engine holds whatever the load: stdio, signalfd, epoll, the monitor channel, the
 * listener, the spare, readiness, and room for a monitor reply's fds in flight. */
#define ENGINE_FIXED_FDS 32

void engine_fd_budget(struct engine *e, unsigned long nofile)
{
	unsigned long room = nofile > ENGINE_FIXED_FDS ? nofile - ENGINE_FIXED_FDS : 0;

	e->max_clients = room / 4 < SV_CONN_MAX * 4 ? room / 4 : SV_CONN_MAX * 4;
	e->max_tasks = room - e->max_clients;      /* one fd each: its link */
	client_caps(e);
}

/* Raise the soft fd limit to the hard one and budget it. */
static void fd_limit(struct engine *e)
{
	unsigned long nofile = sv_nofile_raise();

	engine_fd_budget(e, nofile);
	if (e->max_tasks < 4096)
		sv_warn("engine: the fd limit (%lu) allows at most %zu tasks and %zu clients; "
			"raise RLIMIT_NOFILE for more", nofile, e->max_tasks, e->max_clients);
}

/* The spare fd: a slot held, not a file (a dup of the epoll fd), so the engine needs no
 * open() and its seccomp filter refuses every open. */
static int spare_slot(struct engine *e)
{
	return fcntl(e->ep, F_DUPFD_CLOEXEC, 0);
}

/* Refuse one pending connection with the spare fd: the listener would stay readable, and
 * the loop spin, if it were left in the backlog. */
static void refuse_one(struct engine *e)
{
	int fd;

	if (e->spare_fd >= 0) {
		close(e->spare_fd);
		e->spare_fd = -1;
	}
	fd = accept4(e->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		char msg[128];

		snprintf(msg, sizeof(msg), "too many clients: the daemon's fd limit serves %zu",
			 e->max_clients);
		client_refuse(fd, msg);
	}
	e->spare_fd = spare_slot(e);
}

#ifdef __SANITIZE_ADDRESS__
/* Sanitized builds (CI's second half) check every round that no connection was left off
 * the dirty list: each one's registered events are what conns_flush would set, and none is
 * closing with nothing left to send. */
static void conns_check(struct engine *e)
{
	for (size_t i = 0; i < e->nconns; i++) {
		struct conn *c = e->conns[i];
		uint32_t want = (c->closing || client_backlogged(c) ? 0 : EPOLLIN) |
				(sv_outq_pending(&c->out) ? EPOLLOUT : 0);
		if (c->slot != i || want != c->ev_mask || (c->closing && !sv_outq_pending(&c->out)))
			sv_die(0, "engine: connection %llu changed without conn_dirty",
			       (unsigned long long)c->serial);
	}
}
#else
static void conns_check(struct engine *e)
{
	(void)e;
}
#endif

/* Flush the queues of the connections marked dirty; close what is finished. Closing a
 * worker's link can finish a task and queue a reply on a client connection: that one is
 * marked and taken in the same pass, not left until some other wake-up. */
static void conns_flush(struct engine *e)
{
	while (e->dirty.head) {
		struct conn *c = sv_container_of(e->dirty.head, struct conn, dirty_link);
		int r = 0;

		dirty_unlink(e, c);
		if (sv_outq_pending(&c->out))
			r = sv_outq_flush(&c->out, c->fd);
		if (r < 0 || (c->out.len - c->out.off) > OUTQ_MAX)
			c->closing = true, sv_outq_free(&c->out);
		if (c->closing && !sv_outq_pending(&c->out)) {
			conn_close(e, c);
			continue;
		}
		if (c->closing && !c->on_idle)
			client_sync(e, c, false);       /* it has client_idle_ms to read the rest */
		conn_set_events(e, c);
	}
	conns_check(e);
}

/* The peer's uid, or one of its gids (primary or supplementary), is in the allow lists. The
 * kernel's credentials of the connect(): nothing the client sends counts. */
static bool peer_allowed(const struct sv_config *cfg, int fd, struct ucred *uc)
{
	gid_t groups[256];
	socklen_t len = sizeof(*uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, uc, &len) < 0 || len != sizeof(*uc))
		return false;
	for (size_t i = 0; i < cfg->n_allow_uid; i++)
		if (uc->uid == cfg->allow_uid[i])
			return true;
	for (size_t i = 0; i < cfg->n_allow_gid; i++)
		if (uc->gid == cfg->allow_gid[i])
			return true;
	if (!cfg->n_allow_gid)
		return false;
	/* more groups than fit: refused (ERANGE), never guessed */
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t k = 0; k < len / sizeof(gid_t); k++)
		for (size_t i = 0; i < cfg->n_allow_gid; i++)
			if (groups[k] == cfg->allow_gid[i])
				return true;
	return false;
}

static void accept_clients(struct engine *e)
{
	for (;;) {
		int fd;

		if (e->nclients >= e->max_clients)
			conns_flush(e);         /* a client that is done frees its place first */
		if (e->nclients >= e->max_clients) {
			refuse_one(e);          /* over the budget: closed at once */
			return;
		}
		fd = accept4(e->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				sv_warn("engine: out of fds: a client refused");
				refuse_one(e);
			}
			return;
		}
		struct ucred uc = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
		if (!peer_allowed(e->cfg, fd, &uc)) {
			close(fd);      /* before a byte is read */
			client_warn(e, "engine: client of uid %u gid %u pid %d refused: not in "
				    "allow_uids or allow_gids", (unsigned)uc.uid, (unsigned)uc.gid,
				    (int)uc.pid);
			continue;
		}
		client_accept(e, fd, uc.uid);
	}
}

static void signals(struct engine *e)
{
	struct signalfd_siginfo si;

	while (read(e->sig_fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			e->stopping = true;
}

void conn_input(struct engine *e, struct conn *c)
{
	int r;

	for (;;) {
		if (client_backlogged(c))
			return;         /* read again once its answers are taken */
		r = ttrpc_read(&c->rd, c->fd);
		if (r == 0)
			return;
		if (r < 0) {
			if (r == -EMSGSIZE && c->kind == CONN_CLIENT) {
				ttrpc_queue_response(&c->out, c->rd.hdr.stream, SV_RESOURCE_EXHAUSTED,
						     "message exceeds maximum message size", NULL, NULL);
				sv_outq_flush(&c->out, c->fd);
			}
			c->closing = true;
			sv_outq_free(&c->out);
			return;
		}
		if (c->kind == CONN_CLIENT)
			control_request(e, c);
		else
			link_frame(e, c);
		ttrpc_reader_next(&c->rd);
		if (c->closing)
			return;
	}
}

/* One ready registration. */
static int dispatch(struct engine *e, const struct epoll_event *ev)
{
	enum ev_kind *tag = ev->data.ptr;
	int r;

	if (!tag)
		return 0;       /* its object went away earlier in this round */
	switch (*tag) {
	case EV_SIG:
		signals(e);
		break;
	case EV_MON:
		if ((ev->events & EPOLLOUT) && mon_flush(e) < 0) {
			sv_warn("engine: the monitor is gone");
			return -1;
		}
		if ((ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
		    (r = engine_monitor_input(e)) < 0) {
			/* a reply outside the table: a broken monitor, ended with its channel (the
			 * monitor starts another engine, whose scan re-attaches every task) */
			sv_warn("engine: %s", r == -EPROTO ? "a reply outside the table: ending"
							  : "the monitor is gone");
			return -1;
		}
		break;
	case EV_CTL:
		accept_clients(e);
		break;
	case EV_CONN: {
		struct conn *c = (struct conn *)((char *)tag - offsetof(struct conn, ev));
		conn_dirty(e, c);       /* EPOLLOUT: the rest of its queue goes now */
		if (!(ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			break;
		conn_input(e, c);
		if (c->kind == CONN_CLIENT) {
			client_sync(e, c, true);
			clients_partial(e, c);  /* may close c */
		}
		break;
	}
	}
	return 0;
}

void engine_settings(struct engine *e, const sv_MonSettings *s)
{
	static struct sv_config next;   /* ~20 KiB: not on the stack */
	const char *why;
	char *seccomp;

	next = *e->cfg;
	seccomp = strndup((const char *)s->seccomp->bytes, s->seccomp->size);
	if (sv_settings_apply(&next, s, &why) < 0 || !seccomp) {
		sv_warn("engine: the reloaded settings: %s", seccomp ? why : "out of memory");
		free(seccomp);
		return;         /* (the table's check makes the first impossible) */
	}
	free(e->seccomp);
	e->seccomp = seccomp;
	spec_seccomp_sum_text(e->seccomp, &e->seccomp_sum);     /* what inspect shows of it */
	*e->cfg = next;
	sv_log_set_level(e->cfg->log_level);
	client_caps(e);         /* client_peer_max, client_root_reserve */
	sv_info("engine: the reloaded settings are in effect");
}

/* Clients wait in the listening socket's backlog until every task found is re-attached (or
 * late: recovery.c), but no longer than SV_REATTACH_SERVE_MS after the scan's end, nor than
 * reattach_timeout_ms after the engine's start while the scan goes on: on a host with
 * thousands of tasks the daemon answers while re-attach goes on, the tasks not re-attached
 * yet listed unknown (their calls go over their links). Readiness: re-attach over. */
static void check_ready(struct engine *e, int64_t now, int64_t *next)
{
	int64_t due = e->scan_pending ? e->recovery_deadline_ms : e->scan_done_ms + SV_REATTACH_SERVE_MS;

	if (!e->serving && (recovery_over(e) || now >= due)) {
		if (ev_watch(e, e->ctl_fd, EPOLLIN, &e->ev_ctl))
			sv_die(-errno, "engine: epoll_ctl");
		e->serving = true;
		if (!recovery_over(e))
			sv_notice("re-attach: serving clients meanwhile (%zu of %zu tasks done)",
				  e->ra_done, e->ra_found);
	} else if (!e->serving && due < *next) {
		*next = due;
	}
	if (e->ready_fd >= 0 && e->serving && recovery_over(e)) {
		(void)!write(e->ready_fd, "\n", 1);
		close(e->ready_fd);
		e->ready_fd = -1;
	}
}

/* The timers due by now, each to its owner; *next: the earliest one left. */
static void timers_due(struct engine *e, int64_t now, int64_t *next)
{
	struct sv_timer *tm;

	while ((tm = sv_timer_take_due(&e->timers, now))) {
		if (tm->kind == TM_CALL)
			link_call_due(e, tm);
		else if (tm->kind == TM_RESTART)
			task_restart_due(e, tm);
		else
			recovery_progress(e);
	}
	if ((tm = sv_timer_first(&e->timers)) && tm->due_ms < *next)
		*next = tm->due_ms;
}

int engine_run(struct sv_config *cfg, int ctl_fd, int mon_fd, int ready_fd)
{
	struct engine eng = { .cfg = cfg, .ctl_fd = ctl_fd, .mon_fd = mon_fd, .ready_fd = ready_fd,
			      .ev_sig = EV_SIG, .ev_mon = EV_MON, .ev_ctl = EV_CTL,
			      .mon_ev_mask = EPOLLIN };
	struct engine *e = &eng;
	struct epoll_event evs[64];
	int r;

	fdchan_q_init(&e->mon_q);
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	e->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (e->sig_fd < 0)
		sv_die(-errno, "engine: signalfd");
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	if (e->ep < 0)
		sv_die(-errno, "engine: epoll");
	r = sv_hash_key(e->hash_key);
	if (r < 0)
		sv_die(r, "engine: getrandom");
	fd_limit(e);
	e->spare_fd = spare_slot(e);
	sv_set_nonblock(ctl_fd, 1);
	sv_set_nonblock(mon_fd, 1);
	if (ev_watch(e, e->sig_fd, EPOLLIN, &e->ev_sig) || ev_watch(e, mon_fd, EPOLLIN, &e->ev_mon))
		sv_die(-errno, "engine: epoll_ctl");

	/* read before the allow-list below, which opens nothing more */
	char err[256];
	r = spec_seccomp_profile(cfg->seccomp_profile, &e->seccomp, err, sizeof(err));
	if (r < 0)
		sv_die(0, "engine: %s", err);
	spec_seccomp_sum_text(e->seccomp, &e->seccomp_sum);
	e->recovery_deadline_ms = sv_now_ms() + cfg->reattach_timeout_ms;
	recovery_scan(e);
	r = engine_confine();
	if (r < 0)
		sv_die(r, "engine: seccomp");
	/* clients wait in the backlog until the tasks found are re-attached (check_ready) */

	while (!e->stopping) {
		int64_t next = INT64_MAX, now = sv_now_ms();
		int timeout = -1, n;

		timers_due(e, now, &next);
		recovery_pump(e);
		clients_idle(e, now, &next);
		check_ready(e, now, &next);
		/* everything queued since the last wait (dispatch, deadlines, recovery's Connect
		 * calls) goes out now: EPOLLOUT is only asked for what the socket did not take */
		conns_flush(e);
		if (mon_flush(e) < 0) {
			sv_warn("engine: the monitor is gone");
			return 1;
		}
		if (next != INT64_MAX)
			timeout = next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
		n = epoll_wait(e->ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);
		if (n < 0 && errno != EINTR)
			sv_die(-errno, "engine: epoll_wait");
		e->batch = evs;
		e->nbatch = n > 0 ? n : 0;
		for (int i = 0; i < e->nbatch; i++)
			if (dispatch(e, &evs[i]) < 0)
				return 1;
		e->nbatch = 0;
	}
	return 0;
}
