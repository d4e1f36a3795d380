/* SPDX-License-Identifier: Apache-2.0 */
/* worker/loop.c: the worker's one poll() loop: signals via signalfd, clients, init sync, events. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "worker.h"

enum pkind { P_SIG, P_LISTEN, P_CONN, P_SYNC, P_LOGGER, P_PUMP, P_OOM, P_FWD };

struct pset {
	struct pollfd *fds;
	unsigned char *kind;
	void **obj;                 /* the conn, proc or pump an entry is for */
	size_t n, cap;
};

static int pset_add(struct pset *p, int fd, short events, enum pkind k, void *obj)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct pollfd *f = realloc(p->fds, cap * sizeof(*f));
		unsigned char *kk;
		void **oo;

		if (!f)
			return -ENOMEM;
		p->fds = f;
		kk = realloc(p->kind, cap);
		if (!kk)
			return -ENOMEM;
		p->kind = kk;
		oo = realloc(p->obj, cap * sizeof(*oo));
		if (!oo)
			return -ENOMEM;
		p->obj = oo;
		p->cap = cap;
	}
	p->fds[p->n] = (struct pollfd){ .fd = fd, .events = events };
	p->kind[p->n] = (unsigned char)k;
	p->obj[p->n] = obj;
	p->n++;
	return 0;
}

/* Our own socket, by the name the kernel reports for the listening fd (the one its maker
 * derived, in its socket directory), removed through that directory's fd and only if it
 * is a socket: never a path read from the bundle's `address`, which whoever can write the
 * bundle could point anywhere. */
static void unlink_socket(struct worker *w)
{
	struct sockaddr_un sa;
	socklen_t sl = sizeof(sa);
	struct stat st;
	char *slash;
	int dfd;

	if (w->listen_fd < 0 || getsockname(w->listen_fd, (struct sockaddr *)&sa, &sl) < 0 ||
	    sl <= offsetof(struct sockaddr_un, sun_path) || sa.sun_path[0] != '/')
		return;
	((char *)&sa)[sl < sizeof(sa) ? sl : sizeof(sa) - 1] = '\0';
	slash = strrchr(sa.sun_path, '/');
	*slash = '\0';
	dfd = open(slash == sa.sun_path ? "/" : sa.sun_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	if (fstatat(dfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode))
		unlinkat(dfd, slash + 1, 0);
	close(dfd);
}

_Noreturn void w_exit_now(struct worker *w, int code)
{
	unlink_socket(w);
	_exit(code);
}

static int signals_setup(struct worker *w)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	w->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return w->sig_fd < 0 ? -errno : 0;
}

static void signals_input(struct worker *w)
{
	struct signalfd_siginfo si;
	bool chld = false;

	while (read(w->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			chld = true;
		} else if (!w->exiting) {
			sv_debug("signal %u: shutting down", si.ssi_signo);
			w->exiting = true;
			w->exit_deadline_ms = sv_now_ms() + W_EXIT_GRACE_MS;
		}
	}
	if (chld)
		reap_children(w);
}

static int pset_add_proc(struct pset *p, struct proc *pr)
{
	struct pump *pumps[3] = { &pr->io.in, &pr->io.out, &pr->io.err };
	int err = 0, i;

	if (pr->sync_fd >= 0)
		err = pset_add(p, pr->sync_fd, POLLIN, P_SYNC, pr);
	if (!err && pr->io.logger_ready >= 0)
		err = pset_add(p, pr->io.logger_ready, POLLIN, P_LOGGER, pr);
	for (i = 0; i < 3 && !err; i++) {
		short ev = 0;
		int fd = pio_poll_fd(pumps[i], &ev);

		if (fd >= 0)
			err = pset_add(p, fd, ev, P_PUMP, pumps[i]);
	}
	return err;
}

static int pset_add_task(struct pset *p, struct wtask *t)
{
	struct proc *pr;
	int err = pset_add_proc(p, &t->init);

	for (pr = t->execs; pr && !err; pr = pr->next)
		err = pset_add_proc(p, pr);
	if (!err && t->oom_fd >= 0)
		err = pset_add(p, t->oom_fd, POLLIN, P_OOM, NULL);
	return err;
}

/* Is pr still one of the task's processes? */
static bool proc_live(struct worker *w, struct proc *pr)
{
	struct proc *q;

	if (!w->task)
		return false;
	if (pr == &w->task->init)
		return true;
	for (q = w->task->execs; q; q = q->next)
		if (q == pr)
			return true;
	return false;
}

/* Is pp still a pump of one of the task's processes, polling fd? */
static bool pump_live(struct worker *w, struct pump *pp, int fd)
{
	struct proc *q;
	short ev;

	if (!w->task)
		return false;
	for (q = &w->task->init; q; q = q == &w->task->init ? w->task->execs : q->next)
		if (pp == &q->io.in || pp == &q->io.out || pp == &q->io.err)
			return pio_poll_fd(pp, &ev) == fd;
	return false;
}

static bool all_flushed(const struct worker *w)
{
	const struct wconn *c;

	for (c = w->conns; c; c = c->next)
		if (sv_outq_pending(&c->out))
			return false;
	return wev_idle(w);
}

int w_serve(struct worker *w)
{
	struct pset p = { 0 };
	int err;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		sv_warn_err(-errno, "PR_SET_CHILD_SUBREAPER");
	err = signals_setup(w);
	if (err < 0)
		sv_die(err, "signalfd");
	wev_hello(w);

	for (;;) {
		struct wconn *c, *cn;
		struct proc *pr;
		int64_t now, deadline = 0, pd = 0;
		int timeout = -1, n;
		short fev = 0;
		int ffd;
		size_t i;

		/* Everything produced by the last round may now be flushed. */
		for (c = w->conns; c; c = cn) {
			cn = c->next;
			if (sv_outq_pending(&c->out) && wconn_output(w, c) < 0)
				wconn_close(w, c);
			else if (c->closing && !sv_outq_pending(&c->out))
				wconn_close(w, c);
		}
		if (w->exiting && (all_flushed(w) || sv_now_ms() >= w->exit_deadline_ms))
			w_exit_now(w, 0);

		p.n = 0;
		err = pset_add(&p, w->sig_fd, POLLIN, P_SIG, NULL);
		if (!err && !w->exiting && w->nconns < SV_CONN_MAX)
			err = pset_add(&p, w->listen_fd, POLLIN, P_LISTEN, NULL);
		for (c = w->conns; c && !err; c = c->next) {
			bool held = wtask_holds_conn(w, c->cid);
			short e = 0;

			if (!c->closing && !held && c->out.len - c->out.off < W_OUTQ_HIGH)
				e |= POLLIN;
			if (sv_outq_pending(&c->out))
				e |= POLLOUT;
			if (e || !held)     /* held and quiet: not even its hang-up until then */
				err = pset_add(&p, c->fd, e, P_CONN, c);
		}
		if (!err && w->task)
			err = pset_add_task(&p, w->task);
		ffd = wev_poll_fd(w, &fev);
		if (!err && ffd >= 0)
			err = pset_add(&p, ffd, fev, P_FWD, NULL);
		if (err < 0)
			sv_die(err, "poll set");

		if (w->ev.fwd_deadline_ms)
			deadline = w->ev.fwd_deadline_ms;
		if (w->exiting && (!deadline || w->exit_deadline_ms < deadline))
			deadline = w->exit_deadline_ms;
		if (w->task && (pd = proc_next_deadline(w->task)) && (!deadline || pd < deadline))
			deadline = pd;
		if (deadline) {
			now = sv_now_ms();
			timeout = deadline > now ? (int)(deadline - now) : 0;
		}

		n = poll(p.fds, p.n, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sv_die(-errno, "poll");
		}
		now = sv_now_ms();
		if (w->ev.fwd_deadline_ms && now >= w->ev.fwd_deadline_ms)
			wev_timer(w, now);
		if (pd && now >= pd)
			proc_timers(w, now);
		for (i = 0; i < p.n && n > 0; i++) {
			short re = p.fds[i].revents;

			if (!re)
				continue;
			switch (p.kind[i]) {
			case P_SIG:
				signals_input(w);
				break;
			case P_LISTEN:
				wconn_accept(w);
				break;
			case P_CONN:
				c = p.obj[i];
				if (re & POLLOUT) {
					if (wconn_output(w, c) < 0) {
						wconn_close(w, c);
						p.obj[i] = NULL;
						break;
					}
				}
				if (re & (POLLIN | POLLHUP | POLLERR))
					wconn_input(w, c);  /* may close c */
				break;
			case P_SYNC:
				/* an earlier entry may have ended the process, or the task */
				pr = p.obj[i];
				if (proc_live(w, pr) && pr->sync_fd == p.fds[i].fd)
					proc_sync_input(w, w->task, pr);
				break;
			case P_LOGGER:
				pr = p.obj[i];
				if (proc_live(w, pr) && pr->io.logger_ready == p.fds[i].fd)
					proc_event(w, w->task, pr, &(struct pev){ .type = PE_LOGGER_READY,
						   .err = pio_logger_ready(&pr->io) });
				break;
			case P_PUMP:
				if (pump_live(w, p.obj[i], p.fds[i].fd))
					pio_ready(p.obj[i]);
				break;
			case P_OOM:
				if (w->task && w->task->oom_fd == p.fds[i].fd)
					wtask_oom_ready(w, w->task);
				break;
			case P_FWD:
				wev_fwd_ready(w, re);
				break;
			}
		}
	}
}
