/* SPDX-License-Identifier: Apache-2.0 */
/* wire/fdchan.c: nanopb messages with fds over a SEQPACKET socket. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fdchan.h"
#include "limits.h"
#include "pbio.h"

int fdchan_encode(const pb_msgdesc_t *fields, const void *msg, uint8_t **buf, size_t *len)
{
	int r = sv_pb_encode(fields, msg, buf, len);

	if (r == 0 && (*len > SV_MONITOR_MAX_MSG || *len == 0)) {
		/* a zero-length SEQPACKET reads as EOF: never send one */
		r = *len ? -EMSGSIZE : -EINVAL;
		free(*buf);
		*buf = NULL;
	}
	return r;
}

int fdchan_send(int sock, const pb_msgdesc_t *fields, const void *msg, const int *fds, int nfds)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = fdchan_encode(fields, msg, &buf, &len);

	if (r == 0)
		r = fdchan_send_buf(sock, buf, len, fds, nfds, 0);
	free(buf);
	return r;
}

int fdchan_send_buf(int sock, const uint8_t *buf, size_t len, const int *fds, int nfds, int flags)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * FDCHAN_MAX_FDS)];
	} cm;
	struct msghdr mh = { 0 };
	struct iovec iov;
	ssize_t n;

	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds < 0 || nfds > FDCHAN_MAX_FDS || len == 0)
		return -EINVAL;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static void close_all(int *fds, int *nfds)
{
	for (int i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
}

/* fdchan_recv_buf, also saying the packet's length and whether its fds were cut. */
static int recv_core(int sock, const pb_msgdesc_t *fields, void *msg, int *fds, int *nfds,
		     int flags, uint8_t *buf, size_t bufsz, bool *cut, size_t *len)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * FDCHAN_MAX_FDS)];
	} cm;
	struct msghdr mh = { 0 };
	struct iovec iov;
	ssize_t n;
	int r;

	*nfds = 0;
	iov.iov_base = buf;
	iov.iov_len = bufsz;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
		return r;
	}
	/* take the passed fds; close any beyond the caller's room */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < FDCHAN_MAX_FDS)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	if (n == 0) {
		close_all(fds, nfds);
		return -ECONNRESET;
	}
	*cut = mh.msg_flags & MSG_CTRUNC;
	*len = (size_t)n;
	/* MSG_CTRUNC alone: we are out of fds and the kernel installed fewer than were sent;
	 * the message is whole and comes with the fds that arrived (callers count them) */
	if (mh.msg_flags & MSG_TRUNC) {
		r = -EBADMSG;
	} else {
		r = sv_pb_decode(fields, msg, buf, (size_t)n);
		r = r < 0 ? r : 1;
	}
	if (r < 0)
		close_all(fds, nfds);
	return r;
}

int fdchan_recv_buf(int sock, const pb_msgdesc_t *fields, void *msg, int *fds, int *nfds, int flags,
		    uint8_t *buf, size_t bufsz)
{
	bool cut;
	size_t len;

	return recv_core(sock, fields, msg, fds, nfds, flags, buf, bufsz, &cut, &len);
}

int fdchan_recv_packet(int sock, const pb_msgdesc_t *fields, void *msg, int flags,
		       struct fdchan_got *got)
{
	/* One buffer for the process (each is single-threaded, and the decoded message holds
	 * no pointer into it): its pages are touched only as far as a packet reaches, and a
	 * buffer this size from malloc is an mmap and a munmap per packet. */
	static uint8_t buf[SV_MONITOR_MAX_MSG];

	got->nfds = 0;
	got->cut = false;
	got->len = 0;
	return recv_core(sock, fields, msg, got->fds, &got->nfds, flags, buf, sizeof(buf),
			 &got->cut, &got->len);
}

int fdchan_recv(int sock, const pb_msgdesc_t *fields, void *msg, int *fds, int *nfds, int flags)
{
	struct fdchan_got got;
	int r = fdchan_recv_packet(sock, fields, msg, flags, &got);

	if (got.nfds > 0)       /* fds may be NULL for a message that carries none */
		memcpy(fds, got.fds, sizeof(int) * (size_t)got.nfds);
	*nfds = got.nfds;
	return r;
}

struct fdchan_pkt {
	struct fdchan_pkt *next;
	uint8_t *buf;
	size_t len;
	int fds[FDCHAN_Q_MAX_FDS];
	int nfds;
};

void fdchan_q_init(struct fdchan_q *q)
{
	q->head = NULL;
	q->tail = &q->head;
	q->n = 0;
}

static void pkt_free(struct fdchan_pkt *p)
{
	for (int i = 0; i < p->nfds; i++)
		close(p->fds[i]);
	free(p->buf);
	free(p);
}

void fdchan_q_clear(struct fdchan_q *q)
{
	while (q->head) {
		struct fdchan_pkt *p = q->head;
		q->head = p->next;
		pkt_free(p);
	}
	fdchan_q_init(q);
}

int fdchan_q_flush(struct fdchan_q *q, int sock)
{
	while (q->head) {
		struct fdchan_pkt *p = q->head;
		int r = fdchan_send_buf(sock, p->buf, p->len, p->fds, p->nfds, MSG_DONTWAIT);

		if (r == -EAGAIN || r == -EWOULDBLOCK)
			return 0;
		if (r < 0)
			return r;
		q->head = p->next;
		if (!q->head)
			q->tail = &q->head;
		q->n--;
		pkt_free(p);
	}
	return 0;
}

int fdchan_q_send_fds(struct fdchan_q *q, int sock, const pb_msgdesc_t *fields, const void *msg,
		      const int *fds, int nfds)
{
	struct fdchan_pkt *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	if (nfds < 0 || nfds > FDCHAN_Q_MAX_FDS) {
		free(p);
		return -EINVAL;
	}
	r = fdchan_encode(fields, msg, &p->buf, &p->len);
	for (int i = 0; r == 0 && i < nfds; i++) {
		if ((p->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0)) < 0)
			r = -errno;
		else
			p->nfds++;
	}
	if (r < 0) {
		pkt_free(p);
		return r;
	}
	*q->tail = p;
	q->tail = &p->next;
	q->n++;
	(void)fdchan_q_flush(q, sock);  /* a peer gone is the reader's to see, as EOF */
	return 0;
}

int fdchan_q_send(struct fdchan_q *q, int sock, const pb_msgdesc_t *fields, const void *msg,
		  int fd)
{
	return fdchan_q_send_fds(q, sock, fields, msg, &fd, fd >= 0);
}
