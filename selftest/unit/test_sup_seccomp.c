/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_seccomp.c: the engine's allow-list, loaded in a child: what the
 * engine does still works, what it never does fails with EPERM. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "supervisor/engine.h"
#include "tap_main.h"
#include "build_fixture.h"

/* In a child: confine, then run checks; each failed check is a distinct exit code. */
static int confined_child(void)
{
	int sp[2], p[2];
	char c = 'x';

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 || pipe(p) < 0)
		return 10;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || engine_confine() < 0)
		return 11;
	/* allowed: bytes over held fds, fcntl (the spare slot is a dup), close, memory */
	if (send(sp[0], &c, 1, MSG_NOSIGNAL) != 1 || recv(sp[1], &c, 1, 0) != 1)
		return 12;
	if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1 || fcntl(p[0], F_GETFD) < 0)
		return 13;
	int dup_fd = fcntl(p[0], F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0 || close(dup_fd) < 0)
		return 14;
	void *m = malloc(1 << 20);
	if (!m)
		return 15;
	free(m);
	/* refused: any open (even of /dev/null, for reading), a new socket, exec, fork, kill of
	 * another process */
	if (open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0 || errno != EPERM)
		return 19;
	if (open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC) >= 0 || errno != EPERM)
		return 19;
	if (socket(AF_UNIX, SOCK_STREAM, 0) >= 0 || errno != EPERM)
		return 20;
	char *argv[] = { "/bin/true", NULL };
	execv("/bin/true", argv);
	if (errno != EPERM)
		return 21;
	if (fork() >= 0 || errno != EPERM)
		return 22;
	if (kill(1, 0) == 0 || errno != EPERM)
		return 23;
	return 0;
}

START_TEST(allow_list_holds)
{
	int st;

	FX_QEMU_SKIP(FX_QEMU_NO_SECCOMP);
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(confined_child());
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "the confined child was killed by signal %d", WTERMSIG(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

#ifdef __SANITIZE_ADDRESS__
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sanitizer/common_interface_defs.h>

/* A sanitized build (DESIGN.md, "Sanitized builds"): a report from the confined engine is
 * written, not lost to a refused open: an overflow in a confined child lands in its file. */
START_TEST(sanitizer_reports_under_the_filter)
{
	char dir[] = "/tmp/sv-san-XXXXXX", path[64], line[256];
	int st, found = 0;
	struct dirent *d;
	DIR *dp;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		snprintf(path, sizeof(path), "%s/asan", dir);
		__sanitizer_set_report_path(path);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || engine_confine() < 0)
			_exit(11);
		volatile size_t n = 8;  /* unknown to the compiler: no -Warray-bounds */
		volatile char *p = malloc(n);
		p[n] = 1;               /* one past the end */
		free((void *)p);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "status %#x", st);
	ck_assert_ptr_nonnull(dp = opendir(dir));
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		ck_assert_ptr_nonnull(f = fopen(path, "r"));
		while (fgets(line, sizeof(line), f))
			found |= strstr(line, "heap-buffer-overflow") != NULL;
		fclose(f);
		unlink(path);
	}
	closedir(dp);
	rmdir(dir);
	ck_assert_msg(found, "no report written by the confined child");
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("sup_seccomp");

	SV_TCASE(s, "seccomp", 10, allow_list_holds);
#ifdef __SANITIZE_ADDRESS__
	SV_TCASE(s, "sanitized", 10, sanitizer_reports_under_the_filter);
#endif
	return sv_run_suite(s);
}
