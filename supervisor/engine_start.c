/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/engine_start.c: how the engine comes to be: the monitor forks, the child drops
 * every privilege, keeps only the engine's fds on their fixed numbers (wire/limits.h) and
 * execs this same binary as `shimvisord-eng --engine`; the exec'd engine reads its settings
 * (with the monitor's record of the engines before it) and checks it holds nothing it should
 * not. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/kernel.h"
#include "common/log.h"
#include "engine.h"
#include "wire/limits.h"

/* The whole struct is written to a pipe before the fork: it must fit in one pipe's buffer. */
_Static_assert(sizeof(struct sv_config) <= 65536, "struct sv_config fits a pipe's buffer");

/* In the forked child: say why and leave (children never return through exit()). */
_Noreturn static void child_fail(int err, const char *what)
{
	sv_warn("engine: %s%s%s", what, err ? ": " : "", err ? strerror(err) : "");
	_exit(1);
}

/* In the child, after fork: the bounding set, then no supplementary groups, gid and uid (real,
 * effective, saved), which leaves no capability; no new privileges through exec or setuid
 * files ever after. Checked, not assumed: a drop that did not happen ends the child. */
static void drop_privileges(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int cap;

	for (cap = 0; prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0; cap++)
		;
	if (errno != EINVAL || cap == 0)        /* EINVAL: past the kernel's last capability */
		child_fail(errno, "drop the bounding set");
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		child_fail(errno, "drop privileges to engine_user");
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != uid || eu != uid ||
	    su != uid || rg != gid || eg != gid || sg != gid || setuid(0) == 0 ||
	    getgroups(0, NULL) != 0 || prctl(PR_CAPBSET_READ, cap - 1, 0, 0, 0) != 0)
		child_fail(0, "privileges not dropped");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(errno, "no_new_privs");
}

/* Each fds[i].src onto fds[i].dst (src -1: dst stays closed); every other fd above stdio is
 * closed by the exec. */
struct fd_move {
	int src, dst;
};

static void fixed_fds(struct fd_move *fds, size_t n)
{
	/* first out of the way of every target, those that sit on a target's number (a copy
	 * for each would take fds the monitor, near its limit, may not have) */
	for (size_t i = 0; i < n; i++)
		if (fds[i].src >= 0 && fds[i].src <= SV_ENG_FD_LAST &&
		    (fds[i].src = fcntl(fds[i].src, F_DUPFD_CLOEXEC, SV_ENG_FD_LAST + 1)) < 0)
			child_fail(errno, "dup");
	for (size_t i = 0; i < n; i++) {
		if (fds[i].src < 0)
			close(fds[i].dst);
		else if (dup2(fds[i].src, fds[i].dst) < 0)   /* the copy is without FD_CLOEXEC */
			child_fail(errno, "dup2");
	}
	if ((errno = -sv_cloexec_from(SV_ENG_FD_LAST + 1)) != 0)
		child_fail(errno, "close_range");
}

static int write_all(int fd, const void *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);
		if (n < 0 && errno != EINTR)
			return -errno;
		off += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

pid_t engine_spawn(const struct sv_config *cfg, const struct sv_engine_health *health, int ctl_fd,
		   int mon_fd, int log_fd)
{
	char *argv[] = { "shimvisord-eng", SV_ENGINE_ARG, NULL }, *envp[] = { NULL };
	struct sv_config copy = *cfg;
	pid_t monitor = getpid(), pid;
	int p[2], exe, r;

	/* this very file, whatever is at its path by now: the engine's struct sv_config is ours */
	exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		return -errno;
	copy.ready_fd = cfg->ready_fd >= 0 ? SV_ENG_FD_READY : -1;
	copy.health = *health;
	copy.health.last_end[sizeof(copy.health.last_end) - 1] = 0;
	/* the policy is the monitor's alone, and its lists are pointers into our heap: the
	 * engine gets none of it (what crosses the pipe holds no pointer) */
	memset(&copy.policy, 0, sizeof(copy.policy));
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(exe);
		return -errno;
	}
	r = write_all(p[1], &copy, sizeof(copy));      /* fits the pipe: never blocks */
	close(p[1]);
	if (r < 0) {
		close(exe);
		close(p[0]);
		return r;
	}
	pid = fork();
	if (pid != 0) {
		close(exe);
		close(p[0]);
		return pid < 0 ? -errno : pid;
	}
	drop_privileges(cfg->engine_uid, cfg->engine_gid);
	/* after the drop: a change of credentials clears the parent-death signal */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != monitor)
		_exit(1);
	/* its lines go to the monitor's log relay on its stderr (sv_log_relay_detect) */
	fixed_fds((struct fd_move[]){ { mon_fd, SV_ENG_FD_MONITOR }, { ctl_fd, SV_ENG_FD_CONTROL },
				      { p[0], SV_ENG_FD_CONFIG }, { cfg->ready_fd, SV_ENG_FD_READY },
				      { log_fd, STDERR_FILENO } }, log_fd >= 0 ? 5 : 4);
	fexecve(exe, argv, envp);       /* the environment is not passed on: the engine needs none */
	child_fail(errno, "exec /proc/self/exe");
}

/* fd is open and of the kind the monitor gives: a socket of type, or a pipe. */
static bool fd_is(int fd, int type)
{
	struct stat st;
	int t = 0;
	socklen_t len = sizeof(t);

	if (fstat(fd, &st) < 0)
		return false;
	if (!type)
		return S_ISFIFO(st.st_mode);
	return S_ISSOCK(st.st_mode) && getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len) == 0 &&
	       t == type;
}

int engine_main(void)
{
	static struct sv_config cfg;
	size_t got = 0;
	ssize_t n;
	char extra;
	sigset_t set;

	/* the exec made us dumpable again: no ptrace or /proc/PID/mem by our own uid */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NAME, "shimvisord-eng");
	sv_log_init("shimvisord");
	sv_log_relay_detect();          /* fd 2: the monitor's log relay */
	if (getuid() == 0 || geteuid() == 0 || getgroups(0, NULL) != 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 || !fd_is(SV_ENG_FD_MONITOR, SOCK_SEQPACKET) ||
	    !fd_is(SV_ENG_FD_CONTROL, SOCK_STREAM) || !fd_is(SV_ENG_FD_CONFIG, 0))
		sv_die(0, "engine: %s is for the engine the monitor starts, not by hand",
		       SV_ENGINE_ARG);
	while (got < sizeof(cfg) && (n = read(SV_ENG_FD_CONFIG, (char *)&cfg + got,
					      sizeof(cfg) - got)) > 0)
		got += (size_t)n;
	if (got != sizeof(cfg) || read(SV_ENG_FD_CONFIG, &extra, 1) != 0)
		sv_die(0, "engine: a short or long configuration from the monitor");
	close(SV_ENG_FD_CONFIG);
	if (cfg.ready_fd >= 0 && (cfg.ready_fd != SV_ENG_FD_READY || fcntl(cfg.ready_fd, F_GETFD) < 0))
		sv_die(0, "engine: no readiness fd %d", SV_ENG_FD_READY);
	sv_log_set_level(cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return engine_run(&cfg, SV_ENG_FD_CONTROL, SV_ENG_FD_MONITOR, cfg.ready_fd);
}
