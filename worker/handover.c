/* SPDX-License-Identifier: Apache-2.0 */
/* worker/handover.c: a warm worker waits, exec'd ahead of need, until the monitor assigns it
 * a task: then it takes the task's listening socket and its link to the engine onto their
 * fixed fds. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "common/ids.h"
#include "common/log.h"
#include "monitor.pb.h"
#include "wire/fdchan.h"
#include "wire/pbio.h"
#include "worker.h"

static char as_ns[SV_ID_SZ], as_id[SV_ID_SZ], as_bundle[PATH_MAX];

static int fd_to(int fd, int target)
{
	if (dup2(fd, target) < 0)
		return -errno;
	close(fd);
	return 0;
}

int handover_take(int sock, char ns[SV_ID_SZ], char id[SV_ID_SZ], char *bundle, size_t bsz, int fds[2])
{
	sv_WorkerAssign a;
	int got[FDCHAN_MAX_FDS], n = 0, r;
	static uint8_t buf[8192];       /* ns, id, bundle: no 256 KiB malloc to shape the heap */

	r = fdchan_recv_buf(sock, sv_WorkerAssign_fields, &a, got, &n, 0, buf, sizeof(buf));
	if (r != 1)
		return r < 0 ? r : -EPROTO;
	r = n == 2 && sv_id_valid(a.ns) && sv_id_valid(a.id) && a.bundle && a.bundle[0] == '/' &&
	    strlen(a.bundle) < bsz ? 0 : -EPROTO;
	if (r == 0) {
		snprintf(ns, SV_ID_SZ, "%s", a.ns);
		snprintf(id, SV_ID_SZ, "%s", a.id);
		snprintf(bundle, bsz, "%s", a.bundle);
		fds[0] = got[0];
		fds[1] = got[1];
	} else {
		while (n > 0)
			close(got[--n]);
	}
	sv_pb_free(sv_WorkerAssign_fields, &a);
	return r;
}

int worker_await_assignment(struct worker *w)
{
	int fds[2], r, l, lk;

	r = handover_take(SV_FD_HANDOVER, as_ns, as_id, as_bundle, sizeof(as_bundle), fds);
	if (r == -ECONNRESET)
		_exit(0);               /* the monitor went away before it needed us */
	if (r == -EPROTO)
		sv_die(r, "hand-over: bad assignment");
	if (r < 0)
		sv_die(r, "hand-over");
	/* lift both fds clear of 3 and 4, then put them in place of the hand-over socket */
	l = fcntl(fds[0], F_DUPFD_CLOEXEC, 10);
	lk = fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
	close(fds[0]);
	close(fds[1]);
	close(SV_FD_HANDOVER);
	if (l < 0 || lk < 0 || fd_to(l, SV_FD_LISTEN) < 0 || fd_to(lk, SV_FD_LINK) < 0)
		sv_die(-errno, "hand-over: fds");
	w->o.ns = as_ns;
	w->o.id = as_id;
	w->o.bundle = as_bundle;
	w->o.action = NULL;
	return 0;
}
