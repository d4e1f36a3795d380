/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/process.c: the task's process settings (hostname, sysctl, rlimits, oom score,
 * umask, cwd, stdio or the terminal), the executable's look-up (runc's, at create) and the
 * exec. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "common/kernel.h"
#include "common/procfs.h"
#include "wire/limits.h"
#include "worker/init/init.h"


int process_hostname(struct init *in)
{
	const char *h = in->spec.hostname;

	if (!h)
		return 0;
	if (!in->new_utsns)     /* never rename a uts namespace we joined */
		return init_failmsg(&in->err, -EINVAL, "hostname: needs a new uts namespace");
	if (sethostname(h, strlen(h)) < 0)
		return init_fail(&in->err, -errno, "sethostname %s", h);
	return 0;
}

/* Only sysctls that belong to a namespace the task has may be written. */
static int sysctl_allowed(const struct spec *s, const char *key)
{
	static const char *const ipc[] = {
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
		"kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
	};

	for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
		if (!strcmp(key, ipc[i]))
			return spec_find_ns(s, CLONE_NEWIPC) != NULL;
	if (!strncmp(key, "fs.mqueue.", 10))
		return spec_find_ns(s, CLONE_NEWIPC) != NULL;
	if (!strncmp(key, "net.", 4))
		return spec_find_ns(s, CLONE_NEWNET) != NULL;
	if (!strcmp(key, "kernel.hostname") || !strcmp(key, "kernel.domainname"))
		return spec_find_ns(s, CLONE_NEWUTS) != NULL;
	return 0;
}

int process_sysctl(struct init *in)
{
	for (size_t i = 0; i < in->spec.nsysctl; i++) {
		const struct spec_kv *kv = &in->spec.sysctl[i];
		char path[PATH_MAX];
		size_t l = strlen(kv->value);
		ssize_t n;
		int fd;

		if (!kv->key[0] || strstr(kv->key, "..") || strchr(kv->key, '/') ||
		    kv->key[0] == '.' || !sysctl_allowed(&in->spec, kv->key))
			return init_failmsg(&in->err, -EPERM,
					    "linux.sysctl: %s is not namespaced for this task",
					    kv->key);
		if ((size_t)snprintf(path, sizeof(path), "/proc/sys/%s", kv->key) >= sizeof(path))
			return init_fail(&in->err, -ENAMETOOLONG, "linux.sysctl");
		for (char *c = path + 10; *c; c++)
			if (*c == '.')
				*c = '/';
		fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return init_fail(&in->err, -errno, "sysctl %s", kv->key);
		n = write(fd, kv->value, l);
		if (n < 0 || (size_t)n != l) {
			int rc = n < 0 ? -errno : -EIO;

			close(fd);
			return init_fail(&in->err, rc, "sysctl %s", kv->key);
		}
		close(fd);
	}
	return 0;
}

int process_limits(struct init *in)
{
	const struct spec_process *p = &in->spec.process;

	for (size_t i = 0; i < p->nrlimits; i++) {
		struct rlimit rl = {
			.rlim_cur = (rlim_t)p->rlimits[i].soft,
			.rlim_max = (rlim_t)p->rlimits[i].hard,
		};

		if (setrlimit((__rlimit_resource_t)p->rlimits[i].resource, &rl) < 0)
			return init_fail(&in->err, -errno, "process.rlimits[%zu]", i);
	}
	if (p->has_oom_score_adj) {
		int rc = sv_oom_score_adj_set(0, p->oom_score_adj);

		if (rc < 0)
			return init_fail(&in->err, rc, "process.oomScoreAdj");
	}
	umask(p->has_umask ? (mode_t)p->umask : 022);
	return 0;
}

int process_cwd(struct init *in)
{
	if (chdir(in->spec.process.cwd) < 0)
		return init_fail(&in->err, -errno, "process.cwd %s", in->spec.process.cwd);
	return 0;
}

int process_stdio(struct init *in)
{
	sigset_t all;
	int rc;

	/* With a terminal, the pty slave is 0-2 and the stdio fds are not used. */
	if (in->spec.process.terminal) {
		if ((rc = console_attach(in)))
			return rc;
	} else {
		for (int i = 0; i < 3; i++)
			if (dup2(SV_INIT_FD_STDIO + i, i) < 0)
				return init_fail(&in->err, -errno, "stdio fd %d",
						 SV_INIT_FD_STDIO + i);
	}
	/* Keep 0-2 and the sync fd (close-on-exec); close everything else. */
	if ((rc = sv_close_range(SV_FD_FIRST, SV_INIT_FD_SYNC - 1)) < 0 ||
	    (rc = sv_close_range(SV_INIT_FD_SYNC + 1, ~0U)) < 0)
		return init_fail(&in->err, rc, "close_range");
	in->console_slave = -1;
	/* The task starts with default signal dispositions and nothing blocked. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	return 0;
}

int process_stdio_owner(struct init *in)
{
	struct statfs sf;

	if (in->spec.process.terminal)
		return 0;
	for (int fd = SV_INIT_FD_STDIO; fd < SV_INIT_FD_STDIO + 3; fd++) {
		/* runc-v2 gives a task pipes (or /dev/null): a file is the host's, not the task's */
		if (fstatfs(fd, &sf) < 0 || sf.f_type != PIPEFS_MAGIC)
			continue;
		if (fchown(fd, in->spec.process.uid, (gid_t)-1) < 0 && errno != EPERM &&
		    errno != EINVAL && errno != EROFS)
			return init_fail(&in->err, -errno, "stdio fd %d: give it to uid %u", fd,
					 in->spec.process.uid);
	}
	return 0;
}

/* The process's PATH: the last one, as runc's os.Setenv of each entry leaves it. */
static const char *env_path(char *const *env)
{
	const char *path = SV_DEFAULT_PATH;

	for (; *env; env++)
		if (!strncmp(*env, "PATH=", 5))
			path = *env + 5;
	return path;
}

/* Go's findExecutable, as runc's LookPath uses it: 0 for a file (not a directory) with an
 * execute bit, 1 for anything else that is there; stat's -errno when nothing is. */
static int find_executable(const char *f)
{
	struct stat st;

	if (stat(f, &st) < 0)
		return -errno;
	return !S_ISDIR(st.st_mode) && (st.st_mode & 0111) ? 0 : 1;
}

int process_lookpath(struct init *in)
{
	static char full[PATH_MAX];
	const char *file = in->spec.process.args[0], *path, *p;
	size_t fl = strlen(file);
	int rc;

	if (strchr(file, '/')) {
		if ((rc = find_executable(file)) == 1)
			return init_failmsg(&in->err, -EACCES, "exec: \"%s\": permission denied", file);
		if (rc < 0) {
			/* strerror as Go's syscall.Errno words it (runc's message): lower case */
			char why[128];

			snprintf(why, sizeof(why), "%s", strerror(-rc));
			why[0] = (char)tolower((unsigned char)why[0]);
			return init_failmsg(&in->err, rc, "exec: \"%s\": stat %s: %s", file, file, why);
		}
		in->exec_file = file;
		return 0;
	}
	path = env_path(in->spec.process.env);
	for (p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);

		if (dl + 1 + fl < sizeof(full)) {
			if (dl)
				memcpy(full, p, dl);
			else
				full[dl++] = '.';   /* an empty PATH element is the cwd */
			full[dl] = '/';
			memcpy(full + dl + 1, file, fl + 1);
			if (find_executable(full) == 0) {
				/* Go's ErrDot (1.19, runc 1.1's LookPath): found through a
				 * relative entry ("", ".", "bin"), it is refused */
				if (full[0] != '/')
					return init_failmsg(&in->err, -EACCES, "exec: \"%s\": cannot "
							    "run executable found relative to "
							    "current directory", file);
				in->exec_file = full;
				return 0;
			}
		}
		if (!*end)
			break;
		p = end;
	}
	return init_failmsg(&in->err, -ENOENT, "exec: \"%s\": executable file not found in $PATH",
			    file);
}

int process_exec(struct init *in)
{
	if (!in->exec_file && process_lookpath(in))
		return in->err.rc;
	execve(in->exec_file, in->spec.process.args, in->spec.process.env);
	return init_fail(&in->err, -errno, "exec %s", in->exec_file);
}
