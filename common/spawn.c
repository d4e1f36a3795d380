/* SPDX-License-Identifier: Apache-2.0 */
/* common/spawn.c: posix_spawn with the fd contract of our helpers (see spawn.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>
#include "common/log.h"
#include "common/spawn.h"

#define SPAWN_MAX_FDS 6

/* The file actions, in order: the directory first (dirfd may be closed below), then 0-2,
 * then the contract fds from copies above every target, then nothing else. */
static int actions(posix_spawn_file_actions_t *fa, const struct sv_spawn *o, const int *hi)
{
	int r = 0, i;

	if (o->dirfd >= 0)
		r = posix_spawn_file_actions_addfchdir_np(fa, o->dirfd);
	else if (o->chdir_root)
		r = posix_spawn_file_actions_addchdir_np(fa, "/");
	if (o->std_null) {
		r = r ? r : posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDWR, 0);
		r = r ? r : posix_spawn_file_actions_adddup2(fa, o->out >= 0 ? o->out : 0, 1);
		r = r ? r : posix_spawn_file_actions_adddup2(fa, o->err >= 0 ? o->err : 0, 2);
	}
	for (i = 0; i < o->nfds; i++)
		r = r ? r : hi[i] >= 0 ? posix_spawn_file_actions_adddup2(fa, hi[i], 3 + i) :
			    posix_spawn_file_actions_addclose(fa, 3 + i);
	return r ? r : posix_spawn_file_actions_addclosefrom_np(fa, 3 + o->nfds);
}

static int attrs(posix_spawnattr_t *at, const struct sv_spawn *o)
{
	sigset_t none, dfl;
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	int r;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	if (o->setsid)
		flags |= POSIX_SPAWN_SETSID;
	r = posix_spawnattr_setflags(at, flags);
	r = r ? r : posix_spawnattr_setsigmask(at, &none);
	return r ? r : posix_spawnattr_setsigdefault(at, &dfl);
}

int sv_spawn(const char *path, char *const argv[], char *const envp[], const struct sv_spawn *o,
	     pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int hi[SPAWN_MAX_FDS], self = -1, i, r = 0;

	if (o->nfds < 0 || o->nfds > SPAWN_MAX_FDS)
		return -EINVAL;
	/* copies above every target first: no dup2 may overwrite another one's source */
	for (i = 0; i < o->nfds; i++)
		hi[i] = -1;
	for (i = 0; i < o->nfds && !r; i++)
		if (o->fds[i] >= 0 && (hi[i] = fcntl(o->fds[i], F_DUPFD_CLOEXEC, 3 + SPAWN_MAX_FDS)) < 0)
			r = -errno;
	if (r)
		goto out;
	if ((r = posix_spawnattr_init(&at)) != 0) {
		r = -r;
		goto out;
	}
	if ((r = posix_spawn_file_actions_init(&fa)) != 0) {
		posix_spawnattr_destroy(&at);
		r = -r;
		goto out;
	}
	r = attrs(&at, o);
	r = r ? r : actions(&fa, o, hi);
	/* unshare sets the pid namespace of our next child only; setns puts ours back at once.
	 * Where unshare fails the child starts in ours. */
	if (!r && o->newpid) {
		self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (self >= 0 && unshare(CLONE_NEWPID) < 0) {
			close(self);
			self = -1;
		}
	}
	r = r ? r : posix_spawn(pid, path, &fa, &at, argv, envp);
	if (self >= 0) {
		if (setns(self, CLONE_NEWPID) < 0)
			sv_die(-errno, "setns back to our pid namespace");
		close(self);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	r = -r;
out:
	for (i = 0; i < o->nfds; i++)
		if (hi[i] >= 0)
			close(hi[i]);
	return r;
}
