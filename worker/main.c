/* SPDX-License-Identifier: Apache-2.0 */
/* worker/main.c: shimvisor-worker entry point: parse flags, run an action or serve the task. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "common/fsutil.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/procfs.h"
#include "worker.h"

/* Under containerd, our stderr goes to the bundle's `log` FIFO (containerd holds it open). */
static void open_log_fifo(void)
{
	struct stat st;
	int fd;

	/* a FIFO, checked before the open (nothing else is opened) and again on what was
	 * opened; never through a link */
	if (fstatat(AT_FDCWD, SV_BUNDLE_LOG, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISFIFO(st.st_mode))
		return;
	fd = open(SV_BUNDLE_LOG, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		close(fd);
		return;
	}
	if (fd != STDERR_FILENO) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

/* The bundle becomes our cwd through an fd opened O_NOFOLLOW: every bundle file is then
 * one name relative to it, and a symlink planted as the bundle itself is never entered
 * (the `delete` action, run as root in a bundle others may write, touches nothing
 * outside it). */
static void enter_bundle(const char *bundle)
{
	int fd = open(bundle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		sv_die(-errno, "bundle %s", bundle);
	if (fchdir(fd) < 0)
		sv_die(-errno, "chdir %s", bundle);
	close(fd);
}

int main(int argc, char **argv)
{
	struct worker w;            /* the one context, passed explicitly from here on */
	int link_fd = -1, r;
	bool under_daemon;

	memset(&w, 0, sizeof(w));
	sv_log_init("shimvisor-worker");
	wopts_parse(&w.o, argc, argv);
	/* under the daemon, fd 2 is the monitor's log relay: every line goes, and the monitor
	 * keeps those of its own current level (a reload changes it for every worker at once);
	 * under containerd, stderr as containerd gave it */
	under_daemon = sv_log_relay_detect();
	sv_log_set_level(under_daemon || w.o.debug ? LOG_DEBUG : LOG_INFO);
	/* the daemon's oom_score_adj (shimvisord.conf) is for the monitor and the engine: a
	 * worker, and the task whose init it forks (unless its spec says), are ordinary */
	if (under_daemon && (r = sv_oom_score_adj_set(0, 0)) < 0)
		sv_warn_err(r, "oom_score_adj 0: kept the daemon's");
	w.listen_fd = -1;
	w.sig_fd = -1;
	w.warm_init_fd = -1;
	w.init_exe = -1;
	if (w.o.action && strcmp(w.o.action, "idle") == 0) {
		/* a warm worker: its task's first stage is exec'd now too, then both wait */
		if (sv_self_dir(w.self_dir, sizeof(w.self_dir)) == 0)
			proc_warm_init(&w);
		worker_await_assignment(&w);
	}
	if (!w.o.ns || !*w.o.ns)
		sv_die(0, "shim namespace cannot be empty");
	if (!sv_id_valid(w.o.ns))
		sv_die(0, "invalid namespace %s", w.o.ns);
	if (!w.o.id || !sv_id_valid(w.o.id))
		sv_die(0, "invalid or missing -id");
	if (w.o.bundle && *w.o.bundle)
		enter_bundle(w.o.bundle);
	if (sv_self_dir(w.self_dir, sizeof(w.self_dir)) < 0)
		sv_die(-errno, "cannot find own directory");

	if (w.o.action && strcmp(w.o.action, "start") == 0)
		return action_start(&w, argc, argv) < 0 ? 1 : 0;
	if (w.o.action && strcmp(w.o.action, "delete") == 0)
		return action_delete(&w) < 0 ? 1 : 0;
	if (w.o.action)
		sv_die(0, "unknown action %s", w.o.action);

	if (fcntl(SV_FD_LINK, F_GETFD) >= 0) {
		link_fd = SV_FD_LINK;
		sv_set_cloexec(link_fd, 1);
		sv_set_nonblock(link_fd, 1);
	} else {
		open_log_fifo();
	}
	if (fcntl(SV_FD_LISTEN, F_GETFD) < 0)
		sv_die(-EBADF, "no listening socket on fd %d", SV_FD_LISTEN);
	w.listen_fd = SV_FD_LISTEN;
	sv_set_cloexec(w.listen_fd, 1);
	sv_set_nonblock(w.listen_fd, 1);
	wev_init(&w, link_fd);
	return w_serve(&w) < 0 ? 1 : 0;
}
