/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/engine_fixture.h: an engine for the fuzz targets of its decoders (control.c,
 * tasks.c's report reader): its epoll, a monitor socket, one client, and one task "t1" in
 * the state the input's first byte picks, with or without a live worker link. */
#ifndef SV_FUZZ_ENGINE_FIXTURE_H
#define SV_FUZZ_ENGINE_FIXTURE_H
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "common/log.h"
#include "supervisor/config.h"
#include "supervisor/engine.h"
#include "wire/bytes.h"

struct fz_engine {
	struct engine e;
	struct conn *client;
	struct task *task;
	int peers[3];           /* the far ends: monitor, client, worker */
};

/* sel: bits 0-2 and 4 the task's state (mod TS_NSTATES), bit 3 a worker link, bit 5 its
 * exit known. */
static inline void fz_engine_init(struct fz_engine *f, uint8_t sel)
{
	/* each engine gets its own copies: a MonSettings the input carries changes them */
	static struct sv_config base, cfg;
	static char *seccomp;
	static int ready;
	struct engine *e = &f->e;
	int sp[2];

	if (!ready) {
		char err[256];

		sv_config_defaults(&base);
		if (spec_seccomp_profile(base.seccomp_profile, &seccomp, err, sizeof(err)) < 0)
			abort();
		sv_log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
		ready = 1;
	}
	cfg = base;
	*f = (struct fz_engine){ .e = { .cfg = &cfg, .seccomp = strdup(seccomp), .ev_sig = EV_SIG,
					 .ev_mon = EV_MON, .ev_ctl = EV_CTL, .mon_ev_mask = EPOLLIN,
					 .max_tasks = 64, .max_clients = 64, .spare_fd = -1,
					 .sig_fd = -1, .ctl_fd = -1, .ready_fd = -1 },
				 .peers = { -1, -1, -1 } };
	fdchan_q_init(&e->mon_q);
	if ((e->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0)
		abort();
	e->mon_fd = sp[0];
	f->peers[0] = sp[1];
	if (ev_watch(e, e->mon_fd, EPOLLIN, &e->ev_mon) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0 ||
	    !(f->client = conn_new(e, sp[0], CONN_CLIENT)))
		abort();
	f->peers[1] = sp[1];
	if (!(f->task = task_new(e, SV_DEFAULT_NS, "t1")))
		abort();
	f->task->st = (enum task_state)(((sel & 7) | (sel & 16) >> 1) % TS_NSTATES);
	f->task->pid = 4242;
	f->task->worker_pid = 4241;
	/* a summary, as a create leaves it: Inspect and List decode it */
	static const uint8_t summary[] = { 0x0a, 0x07, '/', 'b', 'i', 'n', '/', 's', 'h',
					   0xba, 0x01, 0x03, 'k', '=', 'v', 0xe8, 0x01, 0x21 };
	if (!(f->task->summary = sv_bytes_new(summary, sizeof(summary))))
		abort();
	if (sel & 32)
		f->task->exited_at.seconds = 1;
	if (sel & 8) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0 ||
		    !(f->task->link = conn_new(e, sp[0], CONN_WORKER)))
			abort();
		f->task->link->task = f->task;
		f->peers[2] = sp[1];
	}
}

static inline void fz_engine_free(struct fz_engine *f)
{
	struct engine *e = &f->e;

	while (e->tasks) {      /* what the input left owed is dropped, not answered */
		struct task *t = e->tasks;
		while (t->waiters) {
			struct waiter *w = t->waiters;
			t->waiters = w->next;
			free(w);
		}
		t->create_rt = t->start_rt = t->delete_rt = nobody;
		task_free(e, t);
	}
	while (e->nconns)
		conn_close(e, e->conns[0]);
	free(e->conns);
	sv_htab_free(&e->task_index);
	sv_htab_free(&e->seq_index);
	sv_htab_free(&e->conn_index);
	sv_timerheap_free(&e->timers);
	free(e->seccomp);
	fdchan_q_clear(&e->mon_q);
	close(e->mon_fd);
	close(e->ep);
	for (int i = 0; i < 3; i++)
		if (f->peers[i] >= 0)
			close(f->peers[i]);
}

#endif
