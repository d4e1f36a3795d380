/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/spawn.c: bundle and socket creation, and the fixed fd contract of exec'd workers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/unixsock.h"
#include "monitor.h"
#include "spawn.h"
#include "monitor.pb.h"
#include "wire/fdchan.h"
#include "wire/limits.h"

static char *const worker_env[] = {
	"PATH=" SV_DEFAULT_PATH,
	NULL,
};

int monitor_find_worker(const struct sv_config *cfg, char *out, size_t sz)
{
	char dir[PATH_MAX];
	const char *path;

	if (cfg->worker[0]) {
		snprintf(out, sz, "%s", cfg->worker);
		return access(out, X_OK) == 0 ? 0 : -errno;
	}
	if (sv_self_dir(dir, sizeof(dir)) == 0) {
		snprintf(out, sz, "%s/shimvisor-worker", dir);
		if (access(out, X_OK) == 0)
			return 0;
	}
	path = getenv("PATH");
	if (!path)
		path = SV_DEFAULT_PATH;
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n && (size_t)snprintf(out, sz, "%.*s/shimvisor-worker", (int)n, path) < sz &&
		    access(out, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

_Static_assert(SV_FD_LISTEN == 3 && SV_FD_LINK == 4 && SV_FD_HANDOVER == 3,
	       "a worker's contract fds are 3 and 4 (sv_spawn's fds[0], fds[1])");

/* A worker: a new session, 0 on /dev/null, 1 on out (-1: /dev/null), 2 on a log relay of its
 * own (*log_fd gets the monitor's end; without one, out of fds, 2 is /dev/null), fds on 3..,
 * cwd dirfd (or /). */
static int start_worker(struct monitor *m, char *const argv[], int dirfd, int out, const int *fds,
			int nfds, pid_t *pid, int *log_fd)
{
	struct sv_spawn o = { .fds = fds, .nfds = nfds, .std_null = true, .out = out, .err = -1,
			      .dirfd = dirfd, .chdir_root = true, .setsid = true };
	int r, wr = -1;

	r = mon_log_child_relay(m, log_fd, &wr);
	if (r < 0 && r != -EMFILE)
		sv_warn_err(r, "%s: no log relay: its lines are lost", argv[1]);
	o.err = wr;
	r = sv_spawn(m->worker_path, argv, worker_env, &o, pid);
	if (wr >= 0)
		close(wr);
	if (r < 0) {
		mon_log_relay_close(m, *log_fd);
		*log_fd = -1;
	}
	return r;
}

/* Give the warm worker this task. The hand-over socket is spent either way. */
static int hand_over(struct monitor *m, const char *ns, const char *id, const char *bundle,
		     int lfd, int link_fd)
{
	sv_WorkerAssign a = { .bundle = (char *)bundle };
	int fds[2] = { lfd, link_fd }, r;

	snprintf(a.ns, sizeof(a.ns), "%s", ns);
	snprintf(a.id, sizeof(a.id), "%s", id);
	r = fdchan_send(m->idle_fd, sv_WorkerAssign_fields, &a, fds, 2);
	close(m->idle_fd);
	m->idle_fd = -1;
	if (r < 0) {
		/* it died idle: its exit is reaped as an unknown child */
		m->idle_pid = 0;
	}
	return r;
}

int spawn_idle(struct monitor *m, int *log_fd)
{
	int sp[2], r;
	pid_t pid;

	*log_fd = -1;
	/* none wanted (warm_worker = 0), or debug: every spawn execs its worker (the cold path;
	 * the e2e suites use it so) */
	if (m->idle_fd >= 0 || !m->cfg->warm_worker || m->cfg->log_level >= LOG_DEBUG)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	r = start_worker(m, (char *[]){ "shimvisor-worker", "idle", NULL }, -1, -1, &sp[1], 1, &pid,
			 log_fd);
	if (r < 0) {
		close(sp[0]), close(sp[1]);
		return r;
	}
	close(sp[1]);
	m->idle_fd = sp[0];
	m->idle_pid = pid;
	return 0;
}

/* The socket, the address, the link (a socketpair: the worker's end on SV_FD_LINK, the
 * engine's in res->link_fd), the worker (the warm one, or exec'd), its pid file: what a
 * create and a restart both do in a bundle (bfd). On failure *lfd and pair are left for the
 * caller to close. */
static int start_on_bundle(struct monitor *m, const char *ns, const char *id, int bfd,
			   const char *sock, struct spawn_result *res, int *lfd, int pair[2],
			   pid_t *pid)
{
	char pidbuf[32];
	int r;

	*lfd = sv_unix_listen(sock, 0600, 64);   /* anything there is stale */
	if (*lfd < 0)
		return *lfd;
	r = sv_replace_file(bfd, SV_BUNDLE_ADDRESS, res->address, strlen(res->address), 0600);
	if (r < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return -errno;
	if (m->idle_fd >= 0 && hand_over(m, ns, id, res->bundle, *lfd, pair[1]) == 0) {
		*pid = m->idle_pid;
		m->idle_pid = 0;
	} else {
		char *argv[] = { "shimvisor-worker", "-namespace", (char *)ns, "-id", (char *)id,
				 "-bundle", res->bundle, NULL };
		int contract[2] = { *lfd, pair[1] };

		r = start_worker(m, argv, bfd, -1, contract, 2, pid, &res->log_fd);
		if (r < 0)
			return r;
	}
	close(*lfd);
	*lfd = -1;
	close(pair[1]);
	pair[1] = -1;
	snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int)*pid);
	sv_replace_file(bfd, SV_BUNDLE_WORKER_PID, pidbuf, strlen(pidbuf), 0600);
	res->pid = *pid;
	res->link_fd = pair[0];
	pair[0] = -1;
	return 0;
}

/* The paths of ns/id's socket and bundle into res; 0 or -errno. */
static int task_paths(struct monitor *m, const char *ns, const char *id, char *sock, size_t sz,
		      struct spawn_result *res)
{
	int r;

	memset(res, 0, sizeof(*res));
	res->link_fd = -1;
	res->log_fd = -1;
	r = sv_shim_socket_path(m->cfg->state, ns, id, sock, sz);
	if (r < 0)
		return r;
	snprintf(res->address, sizeof(res->address), "unix://%s", sock);
	if ((size_t)snprintf(res->bundle, sizeof(res->bundle), "%s/%s/%s", m->cfg->state, ns, id) >=
	    sizeof(res->bundle))
		return -ENAMETOOLONG;
	return 0;
}

static void close_fds(int lfd, const char *sock, int pair[2])
{
	if (lfd >= 0) {
		close(lfd);
		unlink(sock);
	}
	for (int i = 0; i < 2; i++)
		if (pair[i] >= 0)
			close(pair[i]);
}

int respawn_worker(struct monitor *m, const char *ns, const char *id, struct spawn_result *res)
{
	static const char *const stale[] = { SV_BUNDLE_EXIT, SV_BUNDLE_INIT_PID, "cgroup",
					     SV_BUNDLE_WORKER_PID };
	char sock[PATH_MAX], path[2 * SV_ID_SZ + 2];
	int bfd, lfd = -1, pair[2] = { -1, -1 }, r;
	pid_t pid;

	r = task_paths(m, ns, id, sock, sizeof(sock), res);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", ns, id);
	bfd = openat(m->state_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0)
		return -errno;
	/* only a committed task's bundle, with its config (checked when it was written) */
	if (sv_lexists_at(bfd, SV_BUNDLE_CREATING) == 0) {
		close(bfd);
		return -EBUSY;
	}
	if (sv_lexists_at(bfd, SV_BUNDLE_CONFIG) < 0) {
		r = -errno;
		close(bfd);
		return r;
	}
	for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++)
		if (unlinkat(bfd, stale[i], 0) < 0 && errno != ENOENT)
			sv_warn_err(-errno, "restart %s/%s: remove %s", ns, id, stale[i]);
	unlink(sock);
	r = start_on_bundle(m, ns, id, bfd, sock, res, &lfd, pair, &pid);
	close(bfd);
	if (r < 0)
		close_fds(lfd, sock, pair);
	return r;
}

int spawn_write_restart(struct monitor *m, const char *ns, const char *id, const void *rec,
			size_t len)
{
	char path[2 * SV_ID_SZ + 2];
	int bfd, r;

	snprintf(path, sizeof(path), "%s/%s", ns, id);
	bfd = openat(m->state_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0)
		return -errno;
	r = sv_replace_file(bfd, SV_BUNDLE_RESTART, rec, len, 0600);
	close(bfd);
	return r;
}

int spawn_worker(struct monitor *m, const char *ns, const char *id, const pb_bytes_array_t *config,
		 const pb_bytes_array_t *summary, struct spawn_result *res)
{
	char sock[PATH_MAX];
	int nsfd = -1, bfd = -1, lfd = -1, pair[2] = { -1, -1 }, r;
	pid_t pid;

	r = task_paths(m, ns, id, sock, sizeof(sock), res);
	if (r < 0)
		return r;
	nsfd = sv_mkdir_open(m->state_fd, ns, 0711);
	if (nsfd < 0)
		return nsfd;
	if (mkdirat(nsfd, id, 0700) < 0) {
		r = -errno;
		close(nsfd);
		return r;           /* -EEXIST: a bundle of that id is still there */
	}
	bfd = openat(nsfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0) {
		r = -errno;
		goto fail;
	}
	/* the intent, first: until the engine commits the create (MonCommit), a restart rolls
	 * the bundle back (monitor_scan.c), so a client told the create failed finds nothing */
	r = openat(bfd, SV_BUNDLE_CREATING, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r < 0) {
		r = -errno;
		goto fail;
	}
	close(r);
	r = sv_replace_file(bfd, SV_BUNDLE_CONFIG, config->bytes, config->size, 0600);
	if (r < 0)
		goto fail;
	/* the engine's summary, as it came (the caller checked its size): inspect after a
	 * restart; a respawn keeps it */
	if (summary && summary->size &&
	    (r = sv_replace_file(bfd, SV_BUNDLE_SUMMARY, summary->bytes, summary->size, 0600)) < 0)
		goto fail;
	if (mkdirat(bfd, SV_BUNDLE_ROOTFS, 0711) < 0) {
		r = -errno;
		goto fail;
	}
	r = start_on_bundle(m, ns, id, bfd, sock, res, &lfd, pair, &pid);
	if (r < 0)
		goto fail;
	close(bfd);
	close(nsfd);
	return 0;
fail:
	close_fds(lfd, sock, pair);
	if (bfd >= 0)
		close(bfd);
	sv_remove_tree(nsfd, id);
	close(nsfd);
	return r;
}

pid_t spawn_cleaner(struct monitor *m, const char *ns, const char *id, int *out_fd, int *log_fd)
{
	char bundle[PATH_MAX];
	int bfd, p[2], r;
	pid_t pid;

	*out_fd = -1;
	*log_fd = -1;
	if ((size_t)snprintf(bundle, sizeof(bundle), "%s/%s/%s", m->cfg->state, ns, id) >= sizeof(bundle))
		return -ENAMETOOLONG;
	bfd = open(bundle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(bfd);
		return -errno;
	}
	r = start_worker(m, (char *[]){ "shimvisor-worker", "-namespace", (char *)ns, "-id",
			 (char *)id, "-bundle", bundle, "delete", NULL }, bfd, p[1], NULL, 0, &pid,
			 log_fd);
	if (r < 0) {
		close(bfd), close(p[0]), close(p[1]);
		return r;
	}
	close(bfd);
	close(p[1]);
	sv_set_nonblock(p[0], 1);
	*out_fd = p[0];
	return pid;
}
