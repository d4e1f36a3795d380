// SPDX-License-Identifier: Apache-2.0
/* selftest/floor/floor_run.c: run a command as if on an older kernel (default Linux 5.4):
 * a seccomp filter answers ENOSYS for every system call newer than the floor, and EINVAL
 * for a setns whose nstype names more than one namespace (a pidfd's, Linux 5.8), then execs
 * the command. The filter is inherited by everything it starts.
 *   floor-run [--floor MAJOR.MINOR] CMD [ARG...] */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define KV(a, b) ((a) * 1000 + (b))

/* Every system call Linux added after 4.19, by name, with the release that added it and its
 * number in the table that x86_64, i386, arm, arm64 and riscv share from 424 on (used when
 * libseccomp 2.5.4 does not know the name yet). */
static const struct newer {
	const char *name;
	int since;
	int nr;
} newer[] = {
	{ "pidfd_send_signal", KV(5, 1), 424 },
	{ "io_uring_setup", KV(5, 1), 425 },
	{ "io_uring_enter", KV(5, 1), 426 },
	{ "io_uring_register", KV(5, 1), 427 },
	{ "open_tree", KV(5, 2), 428 },
	{ "move_mount", KV(5, 2), 429 },
	{ "fsopen", KV(5, 2), 430 },
	{ "fsconfig", KV(5, 2), 431 },
	{ "fsmount", KV(5, 2), 432 },
	{ "fspick", KV(5, 2), 433 },
	{ "pidfd_open", KV(5, 3), 434 },
	{ "clone3", KV(5, 3), 435 },
	{ "close_range", KV(5, 9), 436 },
	{ "openat2", KV(5, 6), 437 },
	{ "pidfd_getfd", KV(5, 6), 438 },
	{ "faccessat2", KV(5, 8), 439 },
	{ "process_madvise", KV(5, 10), 440 },
	{ "epoll_pwait2", KV(5, 11), 441 },
	{ "mount_setattr", KV(5, 12), 442 },
	{ "quotactl_fd", KV(5, 14), 443 },
	{ "landlock_create_ruleset", KV(5, 13), 444 },
	{ "landlock_add_rule", KV(5, 13), 445 },
	{ "landlock_restrict_self", KV(5, 13), 446 },
	{ "memfd_secret", KV(5, 14), 447 },
	{ "process_mrelease", KV(5, 15), 448 },
	{ "futex_waitv", KV(5, 16), 449 },
	{ "set_mempolicy_home_node", KV(5, 17), 450 },
	{ "cachestat", KV(6, 5), 451 },
	{ "fchmodat2", KV(6, 6), 452 },
	{ "map_shadow_stack", KV(6, 6), 453 },
	{ "futex_wake", KV(6, 7), 454 },
	{ "futex_wait", KV(6, 7), 455 },
	{ "futex_requeue", KV(6, 7), 456 },
	{ "statmount", KV(6, 8), 457 },
	{ "listmount", KV(6, 8), 458 },
	{ "lsm_get_self_attr", KV(6, 8), 459 },
	{ "lsm_set_self_attr", KV(6, 8), 460 },
	{ "lsm_list_modules", KV(6, 8), 461 },
	{ "mseal", KV(6, 10), 462 },
	{ "setxattrat", KV(6, 13), 463 },
	{ "getxattrat", KV(6, 13), 464 },
	{ "listxattrat", KV(6, 13), 465 },
	{ "removexattrat", KV(6, 13), 466 },
	{ "open_tree_attr", KV(6, 15), 467 },
	{ "file_getattr", KV(6, 17), 468 },
	{ "file_setattr", KV(6, 17), 469 },
};
/* The last number of that shared table this file knows: anything above is newer still. */
#define NEWER_LAST 469
#define NEWER_MAX 1023

/* The namespaces setns(2) took one at a time before Linux 5.8 (time: 5.6). */
static const int ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

static void die(const char *what, int err)
{
	fprintf(stderr, "floor-run: %s: %s\n", what, strerror(err));
	exit(125);
}

static int parse_floor(const char *s)
{
	unsigned a, b;
	char c;

	if (sscanf(s, "%u.%u%c", &a, &b, &c) != 2 || a > 99 || b > 999) {
		fprintf(stderr, "floor-run: --floor %s: want MAJOR.MINOR\n", s);
		exit(2);
	}
	return (int)KV(a, b);
}

static void add_rules(scmp_filter_ctx ctx, int floor)
{
	uint32_t einval = SCMP_ACT_ERRNO(EINVAL), enosys = SCMP_ACT_ERRNO(ENOSYS);
	size_t n = sizeof(ns_flags) / sizeof(ns_flags[0]);
	int rc, nr;

	for (size_t i = 0; i < sizeof(newer) / sizeof(newer[0]); i++) {
		if (newer[i].since <= floor)
			continue;
		nr = seccomp_syscall_resolve_name(newer[i].name);
		if (nr == __NR_SCMP_ERROR)
			nr = newer[i].nr;
		if (nr < 0)
			continue;       /* not on this architecture */
		if ((rc = seccomp_rule_add(ctx, enosys, nr, 0)) < 0)
			die(newer[i].name, -rc);
	}
	/* and any call numbered after the table's end (a kernel newer than this file) */
	for (nr = NEWER_LAST + 1; nr <= NEWER_MAX; nr++)
		if ((rc = seccomp_rule_add(ctx, enosys, nr, 0)) < 0)
			die("numbers after the table", -rc);
	if (floor >= KV(5, 8))
		return;
	/* setns with two namespace flags or more: only a pidfd takes that (5.8) */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			unsigned m = (unsigned)(ns_flags[i] | ns_flags[j]);

			if ((rc = seccomp_rule_add(ctx, einval, SCMP_SYS(setns), 1,
						   SCMP_A1(SCMP_CMP_MASKED_EQ, m, m))) < 0)
				die("setns", -rc);
		}
	if (floor < KV(5, 6) &&
	    (rc = seccomp_rule_add(ctx, einval, SCMP_SYS(setns), 1,
				   SCMP_A1(SCMP_CMP_MASKED_EQ, CLONE_NEWTIME, CLONE_NEWTIME))) < 0)
		die("setns", -rc);
}

int main(int argc, char **argv)
{
	int floor = KV(5, 4), rc, a = 1;
	scmp_filter_ctx ctx;

	if (a + 1 < argc && strcmp(argv[a], "--floor") == 0) {
		floor = parse_floor(argv[a + 1]);
		a += 2;
	}
	if (a >= argc || argv[a][0] == '-') {
		fprintf(stderr, "usage: floor-run [--floor MAJOR.MINOR] CMD [ARG...]\n");
		return 2;
	}
	if (!(ctx = seccomp_init(SCMP_ACT_ALLOW)))
		die("seccomp_init", ENOMEM);
	/* root keeps setuid usable: CAP_SYS_ADMIN loads the filter without no_new_privs */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, geteuid() != 0)) < 0)
		die("no_new_privs", -rc);
	add_rules(ctx, floor);
	if ((rc = seccomp_load(ctx)) < 0)
		die("seccomp_load", -rc);
	seccomp_release(ctx);
	execvp(argv[a], argv + a);
	die(argv[a], errno);
}
