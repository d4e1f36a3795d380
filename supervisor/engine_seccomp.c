/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/engine_seccomp.c: the engine's system calls, an allow-list (libseccomp). Once
 * its start-up is done (signalfd, epoll, fd limit, the spare fd) the engine only moves bytes
 * between sockets it already holds or accepts: everything else (exec, new sockets, connect,
 * ptrace, mount, namespaces, kill, ...) fails with EPERM. The list was taken from strace of
 * the engine under the whole e2e suite, plus what glibc needs to allocate, log and exit. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <seccomp.h>
#include <stddef.h>
#include "engine.h"

static const int allowed[] = {
	/* the loop and its sockets */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl), SCMP_SYS(read),
	SCMP_SYS(write), SCMP_SYS(accept4), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(close), SCMP_SYS(fcntl),
	/* a client's credentials (SO_PEERCRED, SO_PEERGROUPS) before it is served */
	SCMP_SYS(getsockopt),

	/* time, memory, exit, signals (glibc) */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(brk), SCMP_SYS(mmap),
	SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(exit_group),
	SCMP_SYS(exit), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
	/* abort() */
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(tgkill), SCMP_SYS(rt_sigaction),
};

#ifdef __SANITIZE_ADDRESS__
/* A sanitized build only (make SANITIZE=...; DESIGN.md, "Sanitized builds"): what the
 * sanitizer runtime calls by itself. sigaltstack before every noreturn call, sched_yield in its
 * spin locks, and the open of its report file: write-only and created, so that no file can be
 * read (the production filter, without these, is what every other build loads). */
static const int san_allowed[] = { SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield) };

static int san_allow(scmp_filter_ctx ctx)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(san_allowed) / sizeof(san_allowed[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, san_allowed[i], 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,  /* not openat */
				     SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT,
					     O_WRONLY | O_CREAT));
	return r;
}
#else
static int san_allow(scmp_filter_ctx ctx)
{
	(void)ctx;
	return 0;
}
#endif

int engine_confine(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r = ctx ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	if (r == 0)
		r = san_allow(ctx);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	malloc_trim(0);         /* building the filter's heap is not kept for the daemon's life */
	return r;
}
