/* SPDX-License-Identifier: Apache-2.0 */
/* worker/shim_actions.c: containerd's one-shot actions `start` (daemonize) and `delete` (cleanup). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "common/fsutil.h"
#include "common/kernel.h"
#include "common/log.h"
#include "common/unixsock.h"
#include "wire/pbio.h"
#include "task.pb.h"
#include "cgroup.h"
#include "runc_options.h"
#include "worker.h"

/* the directory shimvisord keeps its own shim sockets in (default state dir): a name no
 * namespace can take */
#define SOCK_DIR "/run/shimvisor/.s"

/* /run/shimvisor/.s/<32 hex of sha256("<address>/<ns>/<id>")> (filepath.Join-like). */
int w_socket_path(const struct wopts *o, char *buf, size_t sz)
{
	return sv_shim_socket_name(SOCK_DIR, o->address, o->ns, o->id, buf, sz);
}

static int sock_answers(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	ok = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return ok;
}

static int write_out(const char *s, size_t len)
{
	return sv_write_all(STDOUT_FILENO, s, len);
}

/* The bundle's `log`, containerd's FIFO: never through a link, never anything but a FIFO
 * (a file planted there is neither truncated nor written). -1 when it is not one. */
static int open_log(void)
{
	struct stat st;
	int fd;

	if (fstatat(AT_FDCWD, SV_BUNDLE_LOG, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISFIFO(st.st_mode))
		return -1;
	fd = open(SV_BUNDLE_LOG, O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static bool str_set(const char *s)
{
	return s && *s;
}

/* start's stdin, read to EOF: an Any, or nothing. Runc options are small: past
 * OPTIONS_MAX it is not theirs, and refused. */
#define OPTIONS_MAX (64u << 10)
static int read_options(sv_RuncOptions *ro)
{
	uint8_t *buf = malloc(OPTIONS_MAX);
	size_t len = 0;
	ssize_t r;
	int rc;

	memset(ro, 0, sizeof(*ro));
	if (!buf)
		return -ENOMEM;
	while (len < OPTIONS_MAX && ((r = read(STDIN_FILENO, buf + len, OPTIONS_MAX - len)) > 0 ||
				     (r < 0 && errno == EINTR)))
		len += r > 0 ? (size_t)r : 0;
	rc = len == OPTIONS_MAX ? -EMSGSIZE : runc_options_from_bytes(buf, len, ro);
	free(buf);
	return rc < 0 ? rc : 0;
}

int action_start(struct worker *w, int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char addr[sizeof(sa.sun_path) + 8];
	int fd, err, reuse = 0, nullfd;
	sv_RuncOptions ro;
	pid_t pid;

	(void)argc;
	/* options (an Any) on stdin: runc's ShimCgroup is joined below, as runc-v2 does;
	 * options of another type are ignored */
	err = read_options(&ro);
	if (err < 0)
		sv_die(err, "runc options (%s) on stdin", SV_RUNC_OPTIONS_URL);

	err = w_socket_path(&w->o, sa.sun_path, sizeof(sa.sun_path));
	if (err < 0)
		sv_die(err, "socket path");
	err = sv_mkdir_p(SOCK_DIR, 0700);
	if (err < 0)
		sv_die(err, "mkdir %s", SOCK_DIR);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		sv_die(-errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EADDRINUSE)
			sv_die(-errno, "bind %s", sa.sun_path);
		if (sock_answers(&sa)) {
			reuse = 1;
		} else {
			unlink(sa.sun_path);
			if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
				sv_die(-errno, "bind %s", sa.sun_path);
		}
	}
	if (!reuse) {
		if (listen(fd, 64) < 0)
			sv_die(-errno, "listen");
		chmod(sa.sun_path, 0600);
	}
	snprintf(addr, sizeof(addr), "unix://%s", sa.sun_path);
	err = sv_write_atomic(AT_FDCWD, SV_BUNDLE_ADDRESS, addr, strlen(addr), 0644);
	if (err < 0)
		sv_die(err, "write %s", SV_BUNDLE_ADDRESS);
	if (reuse) {
		sv_pb_free(sv_RuncOptions_fields, &ro);
		return write_out(addr, strlen(addr));
	}

	pid = fork();
	if (pid < 0)
		sv_die(-errno, "fork");
	if (pid == 0) {
		char *nargv[16];
		int i = 0, logfd;

		setsid();
		nullfd = open("/dev/null", O_RDWR);
		if (nullfd < 0)
			_exit(127);
		dup2(nullfd, STDIN_FILENO);
		dup2(nullfd, STDOUT_FILENO);
		/* stderr: containerd's `log` FIFO (it copies it into its own log), never
		 * blocking: a message containerd does not read in time is lost, not waited on */
		logfd = open_log();
		dup2(logfd >= 0 ? logfd : nullfd, STDERR_FILENO);
		if (fd == SV_FD_LISTEN) {
			fcntl(fd, F_SETFD, 0);
		} else if (dup2(fd, SV_FD_LISTEN) < 0) {
			_exit(127);
		}
		/* No fd 4: its absence is what says "containerd mode". */
		sv_close_range(SV_FD_LISTEN + 1, ~0U);
		nargv[i++] = argv[0];
		nargv[i++] = (char *)"-namespace";
		nargv[i++] = (char *)w->o.ns;
		nargv[i++] = (char *)"-id";
		nargv[i++] = (char *)w->o.id;
		if (w->o.address) {
			nargv[i++] = (char *)"-address";
			nargv[i++] = (char *)w->o.address;
		}
		if (w->o.publish_binary) {
			nargv[i++] = (char *)"-publish-binary";
			nargv[i++] = (char *)w->o.publish_binary;
		}
		if (w->o.debug)
			nargv[i++] = (char *)"-debug";
		nargv[i] = NULL;
		/* by the path containerd ran, so the process is named like it ("containerd-shim") */
		if (argv[0][0] == '/')
			execv(argv[0], nargv);
		execv("/proc/self/exe", nargv);
		_exit(127);
	}
	close(fd);
	if (str_set(ro.shim_cgroup) && (err = runc_shim_cgroup_join(ro.shim_cgroup, pid)) < 0) {
		/* as runc-v2: the daemon is killed, and containerd gets the error */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		unlink(sa.sun_path);
		/* runc-v2's words: "load" when the cgroup is in no hierarchy */
		sv_die(err, "failed to %s cgroup %s", err == -ENOENT ? "load" : "join", ro.shim_cgroup);
	}
	sv_pb_free(sv_RuncOptions_fields, &ro);
	return write_out(addr, strlen(addr));
}

/* Kill a leftover init if it is still the same process; wait (bounded) until it is gone.
 * Below Linux 5.3 (no pidfd): kill(2) after the start-time check, whose window a reused pid
 * could slip through, and the wait polls /proc. */
static void kill_leftover(pid_t pid, unsigned long long starttime)
{
	unsigned long long st;
	int pfd;

	if (pid <= 0 || proc_starttime(pid, &st) < 0 || st != starttime)
		return;
	pfd = sv_pidfd_open(pid);
	if (pfd == -ENOSYS && proc_starttime(pid, &st) == 0 && st == starttime &&
	    kill(pid, SIGKILL) == 0) {
		for (int i = 0; i < 200 && proc_starttime(pid, &st) == 0 && st == starttime; i++)
			nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
		return;
	}
	if (pfd < 0)
		return;
	/* the pidfd pins the identity: no pid reuse race between the check and the kill */
	if (proc_starttime(pid, &st) == 0 && st == starttime &&
	    sv_pidfd_signal(pfd, SIGKILL) == 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		while (poll(&p, 1, 2000) < 0 && errno == EINTR)
			;
	}
	close(pfd);
}

/* The task's own cgroups, as the worker recorded them: kill what is left, remove them. */
static void cleanup_cgroup(int bfd)
{
	struct wcgroup *cg;
	int err;

	cg = wcg_load(bfd, &err);
	if (!cg) {
		if (err != -ENOENT)
			sv_warn_err(err, "cgroup record");
		return;
	}
	wcg_freeze(cg, false, 1000);      /* a frozen process does not die */
	wcg_signal_all(cg, SIGKILL);
	err = wcg_remove(cg, 2000);
	if (err < 0)
		sv_warn_err(err, "remove cgroup");
	wcg_free(cg);
}

/* Our socket under containerd is the name w_socket_path derives from -address, ns and id,
 * in SOCK_DIR: removed there, through that directory's fd, and only if it is a socket. The
 * bundle's `address` is never a path to unlink: it is only compared with ours (one that
 * names anything else was rewritten; said, and left alone). Without -address this is
 * shimvisord's cleaner: its sockets are in <state>/.s, and the monitor removes them. */
static void remove_socket(const struct wopts *o, int bfd)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)], *s = NULL;
	const char *name;
	struct stat st;
	size_t len;
	int dfd;

	if (!o->address || !*o->address || w_socket_path(o, path, sizeof(path)) < 0)
		return;
	if (sv_read_file(bfd, SV_BUNDLE_ADDRESS, 4096, &s, &len) == 0) {
		while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
			s[--len] = '\0';
		if (strncmp(s, "unix://", 7) != 0 || strcmp(s + 7, path) != 0)
			sv_warn("delete: %s names %.200s, not this shim's socket %s: left alone",
				SV_BUNDLE_ADDRESS, s, path);
		free(s);
	}
	dfd = open(SOCK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	name = path + sizeof(SOCK_DIR);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode) &&
	    unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		sv_warn_err(-errno, "delete: unlink %s", path);
	close(dfd);
}

/* The cleanup of a task whose server is gone (containerd's dead-shim path, and shimvisord's
 * dead worker), as root in the bundle, which main entered through an O_NOFOLLOW fd. Every
 * bundle entry is opened O_NOFOLLOW relative to it; rootfs is unmounted only when it is a
 * directory of the bundle (UMOUNT_NOFOLLOW); the only socket removed is our own (above).
 * What it trusts: the contents of init.pid (a kill pinned by pidfd and start time), exit,
 * and cgroup (directories that must be cgroups, never a hierarchy's root), which only the
 * worker writes. */
int action_delete(struct worker *w)
{
	sv_DeleteResponse r;
	char *s = NULL;
	size_t len;
	uint8_t *out = NULL;
	size_t olen = 0;
	struct timespec now;
	int pid = 0, bfd, n;
	unsigned long long starttime = 0;
	bool have_exit = false;

	bfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return -errno;
	memset(&r, 0, sizeof(r));
	if (sv_read_file(bfd, SV_BUNDLE_INIT_PID, 128, &s, &len) == 0) {
		if (sscanf(s, "%d %llu", &pid, &starttime) < 1)
			pid = 0;
		free(s);
		s = NULL;
	}
	if (sv_read_file(bfd, SV_BUNDLE_EXIT, 128, &s, &len) == 0) {
		unsigned int status;
		long long sec;
		long nsec;

		if (sscanf(s, "%u %lld %ld", &status, &sec, &nsec) == 3 && nsec >= 0 && nsec < 1000000000) {
			r.exit_status = status;
			r.exited_at.seconds = sec;
			r.exited_at.nanos = (int32_t)nsec;
			have_exit = true;
		}
		free(s);
		s = NULL;
	}
	if (!have_exit) {
		kill_leftover(pid, starttime);
		clock_gettime(CLOCK_REALTIME, &now);
		r.exit_status = 128 + SIGKILL;
		r.exited_at.seconds = now.tv_sec;
		r.exited_at.nanos = (int32_t)now.tv_nsec;
	}
	r.pid = pid > 0 ? (uint32_t)pid : 0;
	r.has_exited_at = true;

	cleanup_cgroup(bfd);
	/* Create may have stacked several mounts on rootfs: take them all down */
	n = sv_umount_all_at(bfd, SV_BUNDLE_ROOTFS, 16);
	if (n < 0)
		sv_warn_err(n, "delete: umount %s", SV_BUNDLE_ROOTFS);
	remove_socket(&w->o, bfd);
	close(bfd);
	if (sv_pb_encode(sv_DeleteResponse_fields, &r, &out, &olen) < 0)
		return -ENOMEM;
	if (olen && write_out((const char *)out, olen) < 0) {
		free(out);
		return -EIO;
	}
	free(out);
	return 0;
}
