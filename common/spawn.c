/* SPDX-License-Identifier: Apache-2.0 */
/* common/spawn.c: a vfork-like clone with the fd contract of our helpers (see spawn.h), an
 * exec through an fd for what must not run from a writable path, and the read-only pin of
 * such a file. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "common/kernel.h"
#include "common/log.h"
#include "common/spawn.h"
#include "wire/limits.h"

#define SPAWN_MAX_FDS 6
#define SPAWN_STACK (64 << 10)  /* the child's, until it execs: mapped per spawn, touched little */

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/* ASan follows a child of vfork (it intercepts vfork), not one cloned onto a stack it does
 * not know: a sanitized build takes vfork, whose child gets a copy of the whole fd table. */
#ifdef __SANITIZE_ADDRESS__
#define SPAWN_SHARED_TABLE 0
#else
#define SPAWN_SHARED_TABLE 1
#endif

/* copies of the caller's fds go at or above this, clear of every target */
#define SPAWN_HI_FD (SV_FD_FIRST + SPAWN_MAX_FDS + 1)

/* The calling child's fd table of its own, holding only the fds below keep (Linux 5.9;
 * below, the whole table is copied, as fork does). 0, or -1 with errno. */
static int own_fd_table(unsigned keep)
{
	if (syscall(SYS_close_range, keep, ~0U, CLOSE_RANGE_UNSHARE) == 0)
		return 0;
	return errno == ENOSYS || errno == EINVAL ? unshare(CLONE_FILES) : -1;
}

/* src onto dst, without close-on-exec (also when they are the same fd) */
static int fd_on(int src, int dst)
{
	if (src == dst)
		return fcntl(dst, F_SETFD, 0);
	return dup2(src, dst) < 0 ? -1 : 0;
}

/* What the child of an exec through an fd needs. It shares our memory (vfork) until it execs
 * or exits: it makes system calls only, and leaves its error in err. */
struct fd_child {
	const struct sv_spawn *o;
	const int *hi;
	int exe;                /* -1: exec path */
	unsigned keep;          /* every fd the child uses is below it */
	const char *path;
	char *const *argv, *const *envp;
	volatile int err;
};

/* The fd contract, in order: an fd table of its own holding only what lies below c->keep (a
 * parent with thousands of fds costs no copy of them: the table is shared until here), the
 * handlers, session, cwd, 0-2, the contract fds from their copies above every target, the
 * rest marked close-on-exec (not closed: the exec may still need c->exe). */
static _Noreturn void fd_child(struct fd_child *c)
{
	const struct sv_spawn *o = c->o;
	struct sigaction dfl = { .sa_handler = SIG_DFL }, cur;
	sigset_t none;
	int i, fd;

	if (own_fd_table(c->keep) < 0)
		goto fail;
	/* no handler of ours may run here, and SIGPIPE is at its default */
	for (i = 1; i < NSIG; i++)
		if (sigaction(i, NULL, &cur) == 0 && (i == SIGPIPE ||
		    (cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN)))
			sigaction(i, &dfl, NULL);
	if (o->setsid && setsid() < 0)
		goto fail;
	if (o->dirfd >= 0 ? fchdir(o->dirfd) < 0 : o->chdir_root && chdir("/") < 0)
		goto fail;
	if (o->std_null) {
		if ((fd = open("/dev/null", O_RDWR)) < 0 || (fd != 0 && (dup2(fd, 0) < 0 || close(fd) < 0)))
			goto fail;
		if (fd_on(o->out >= 0 ? o->out : 0, 1) < 0 || fd_on(o->err >= 0 ? o->err : 0, 2) < 0)
			goto fail;
	}
	for (i = 0; i < o->nfds; i++) {
		if (c->hi[i] < 0)
			close(SV_FD_FIRST + i);
		else if (fd_on(c->hi[i], SV_FD_FIRST + i) < 0)
			goto fail;
	}
	if ((errno = -sv_cloexec_from(SV_FD_FIRST + (unsigned)o->nfds)) != 0)
		goto fail;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (c->exe >= 0)
		syscall(SYS_execveat, c->exe, "", c->argv, c->envp, AT_EMPTY_PATH);
	else
		execve(c->path, c->argv, c->envp);
fail:
	c->err = -errno;
	_exit(127);
}

#if SPAWN_SHARED_TABLE
static int child_main(void *arg)
{
	fd_child(arg);
}

/* The child, sharing our memory and fd table until it execs or exits; its pid, or -1 with
 * errno. */
static pid_t start_child(struct fd_child *c)
{
	void *stack = mmap(NULL, SPAWN_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	pid_t p;
	int err;

	if (stack == MAP_FAILED)
		return -1;
	p = clone(child_main, (char *)stack + SPAWN_STACK, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, c);
	err = errno;
	munmap(stack, SPAWN_STACK);
	errno = err;
	return p;
}
#else
static pid_t start_child(struct fd_child *c)
{
	pid_t p = vfork();

	if (p == 0)
		fd_child(c);
	return p;
}
#endif

/* What the child uses, hi[] and exe among them: every fd below the result. */
static unsigned fds_needed(const struct sv_spawn *o, const int *hi, int exe)
{
	int top = 2;

	for (int i = 0; i < o->nfds; i++)
		top = hi[i] > top ? hi[i] : top;
	top = exe > top ? exe : top;
	top = o->dirfd > top ? o->dirfd : top;
	if (o->std_null) {
		top = o->out > top ? o->out : top;
		top = o->err > top ? o->err : top;
	}
	return (unsigned)top + 1;
}

/* As posix_spawn does (CLONE_VM | CLONE_VFORK: no copy of our pages or page tables; a stack
 * of its own), and with CLONE_FILES: the child shares our fd table only until it takes its
 * own, of the few fds it needs. Every signal is blocked until the child has put its
 * handlers back to the defaults. A failed child is reaped here. */
static int spawn_clone(const char *path, const int *hi, int exe, char *const argv[], char *const envp[],
		       const struct sv_spawn *o, pid_t *pid)
{
	struct fd_child c = { .o = o, .hi = hi, .exe = exe, .path = path, .argv = argv, .envp = envp,
			      .keep = fds_needed(o, hi, exe), .err = 0 };
	sigset_t all, old;
	pid_t p;
	int err;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	p = start_child(&c);
	err = p < 0 ? -errno : c.err;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (p > 0 && err < 0)
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
	if (err == 0)
		*pid = p;
	return err;
}

int sv_spawn(const char *path, char *const argv[], char *const envp[], const struct sv_spawn *o,
	     pid_t *pid)
{
	int hi[SPAWN_MAX_FDS], exe = -1, self = -1, i, r = 0;

	if (o->nfds < 0 || o->nfds > SPAWN_MAX_FDS)
		return -EINVAL;
	/* copies above every target first: no dup2 may overwrite another one's source */
	for (i = 0; i < o->nfds; i++)
		hi[i] = -1;
	for (i = 0; i < o->nfds && !r; i++)
		if (o->fds[i] >= 0 && (hi[i] = fcntl(o->fds[i], F_DUPFD_CLOEXEC, SPAWN_HI_FD)) < 0)
			r = -errno;
	if (!r && o->exe_fd && (exe = fcntl(*o->exe_fd, F_DUPFD_CLOEXEC, SPAWN_HI_FD)) < 0)
		r = -errno;
	if (r)
		goto out;
	/* unshare sets the pid namespace of our next child only; setns puts ours back at once.
	 * Where unshare fails the child starts in ours. */
	if (o->newpid) {
		self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (self >= 0 && unshare(CLONE_NEWPID) < 0) {
			close(self);
			self = -1;
		}
	}
	r = spawn_clone(path, hi, exe, argv, envp, o, pid);
	if (self >= 0) {
		if (setns(self, CLONE_NEWPID) < 0)
			sv_die(-errno, "setns back to our pid namespace");
		close(self);
	}
out:
	for (i = 0; i < o->nfds; i++)
		if (hi[i] >= 0)
			close(hi[i]);
	if (exe >= 0)
		close(exe);
	return r;
}

int sv_exe_pin(const char *path)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	int tree, fd = -1, r = 0;

	/* the file itself is bound (links followed): nothing else is in that mount, and no
	 * path buffer is needed (the exe then reads "/"; its comm is still the file's name) */
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return -errno;
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0 ||
	    (fd = (int)syscall(SYS_open_tree, tree, "", AT_EMPTY_PATH | OPEN_TREE_CLOEXEC)) < 0)
		r = -errno;
	/* the last reference to the mount's own namespace: closing it dissolves the mount, which
	 * fd keeps alive, attached nowhere (mount_setattr and open_tree then refuse it) */
	close(tree);
	return r ? r : fd;
}
