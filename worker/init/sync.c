/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/sync.c: the InitSync exchange with the worker, and the error record. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "init.pb.h"
#include "wire/pbio.h"
#include "worker/init/cgroups.h"
#include "worker/init/init.h"

static int vfail(struct init_err *e, int rc, int with_errno, const char *fmt, va_list ap)
{
	size_t l;

	if (e->rc)
		return rc;
	e->rc = rc < 0 ? rc : -EINVAL;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	l = strlen(e->msg);
	if (with_errno && l < sizeof(e->msg))
		snprintf(e->msg + l, sizeof(e->msg) - l, ": %s", strerror(-e->rc));
	return rc;
}

int init_fail(struct init_err *e, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(e, rc, 1, fmt, ap);
	va_end(ap);
	return rc;
}

int init_failmsg(struct init_err *e, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(e, rc, 0, fmt, ap);
	va_end(ap);
	return rc;
}

int sync_send_msg(int fd, const sv_InitSync *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int rc;

	rc = sv_pb_encode(sv_InitSync_fields, m, &buf, &len);
	if (rc)
		return rc;
	do
		n = send(fd, buf ? (const void *)buf : "", len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	rc = n < 0 ? -errno : ((size_t)n != len ? -EIO : 0);
	free(buf);
	return rc;
}

int sync_send(int fd, int type, unsigned pid, int err, const char *msg)
{
	sv_InitSync m = sv_InitSync_init_zero;

	m.type = (sv_InitSyncType)type;
	m.pid = pid;
	m.err = err;
	m.message = (char *)msg;
	return sync_send_msg(fd, &m);
}

/* READY with our bounding set as applied (the kernel's, not the spec's: it is what the
 * task holds), read bit by bit until the kernel's last capability. */
int sync_send_ready(int fd, int with_bounding)
{
	sv_InitSync m = sv_InitSync_init_zero;

	m.type = sv_InitSyncType_INIT_READY;
	for (unsigned cap = 0; with_bounding && cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r < 0)
			break;
		if (r)
			m.cap_bounding |= UINT64_C(1) << cap;
	}
	return sync_send_msg(fd, &m);
}

int sync_wait(int fd, int want)
{
	uint8_t buf[256];
	sv_InitSync m;
	ssize_t n;
	int type, rc;

	do
		n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	if ((size_t)n > sizeof(buf))
		return -EMSGSIZE;
	rc = sv_pb_decode(sv_InitSync_fields, &m, buf, (size_t)n);
	if (rc)
		return rc;
	type = m.type;
	sv_pb_free(sv_InitSync_fields, &m);
	return type == want ? 0 : -EBADMSG;
}

int sync_wait_start(int fd)
{
	return sync_wait(fd, sv_InitSyncType_INIT_START);
}

_Noreturn void init_abort(struct init *in)
{
	int err = in->err.rc < 0 ? -in->err.rc : EINVAL;

	cgroups_abandon(in);    /* before the worker hears of it: it may reuse the path */
	sync_send(in->sync_fd, sv_InitSyncType_INIT_ERROR, 0, err,
		  in->err.msg[0] ? in->err.msg : "init: failed");
	_exit(127);
}
