/* SPDX-License-Identifier: Apache-2.0 */
/* common/unixsock.h: unix stream sockets by path (a "unix://" prefix is accepted). */
#ifndef SV_COMMON_UNIXSOCK_H
#define SV_COMMON_UNIXSOCK_H
#include <sys/types.h>
#include <sys/un.h>

/* Fill sa for path. 0, -EINVAL (no path) or -ENAMETOOLONG. */
int sv_unix_addr(struct sockaddr_un *sa, const char *path);
/* A SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK socket connected to path: the fd, or -errno. A
 * listener whose backlog is full (a wedged peer) is -EAGAIN at once instead of a connect
 * that waits for it (a unix connect never is EINPROGRESS). */
int sv_unix_connect_nb(const char *path);
/* Bind path (a socket file already there is replaced: callers hold the right to the name),
 * chmod it to mode, listen: the fd, or -errno. */
int sv_unix_listen(const char *path, mode_t mode, int backlog);
/* A task's shim socket name, short enough for sun_path whatever its ids: <dir>/<the first 32
 * hex digits of sha256("<prefix>/<ns>/<id>")>, or of "<ns>/<id>" when prefix is "" or NULL.
 * The daemon's prefix is its state dir, containerd's its address. 0 or -ENAMETOOLONG. */
int sv_shim_socket_name(const char *dir, const char *prefix, const char *ns, const char *id,
			char *out, size_t sz);

#endif
