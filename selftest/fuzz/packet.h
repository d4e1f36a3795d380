/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/packet.h: for the fuzz targets of SEQPACKET decoders (monitor, hand-over):
 * send the input as one packet with fds attached; find an fd leaked by the decoder. */
#ifndef SV_FUZZ_PACKET_H
#define SV_FUZZ_PACKET_H
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

/* One packet with nfds fds (a pipe's ends) attached. */
static inline void send_packet(int fd, const uint8_t *p, size_t len, int nfds)
{
	union { char b[CMSG_SPACE(2 * sizeof(int))]; struct cmsghdr a; } u;
	struct iovec iov = { (void *)p, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int pp[2];

	if (nfds) {
		if (pipe2(pp, O_CLOEXEC) < 0)
			abort();
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), pp, (size_t)nfds * sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)len)
		abort();
	if (nfds) {
		close(pp[0]);
		close(pp[1]);
	}
}

/* The lowest free fd: the same before and after a decode, or the decoder kept one. */
static inline int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

#endif
