/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_worker_pio.c: a process's stdio pumps: FIFOs through pipes, output that
 * never blocks once the reader left (and resumes when one returns), CloseIO and stdin EOF,
 * files and /dev/null handed over directly, a console in the middle. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/fsutil.h"
#include "worker/worker.h"

struct scratch {
	char dir[64], in[96], out[96], err[96];
};

static void scratch_make(struct scratch *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/svpio.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	snprintf(s->in, sizeof(s->in), "%s/in", s->dir);
	snprintf(s->out, sizeof(s->out), "%s/out", s->dir);
	snprintf(s->err, sizeof(s->err), "%s/err", s->dir);
	ck_assert_int_eq(mkfifo(s->in, 0600), 0);
	ck_assert_int_eq(mkfifo(s->out, 0600), 0);
	ck_assert_int_eq(mkfifo(s->err, 0600), 0);
}

static void scratch_done(struct scratch *s)
{
	int tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(tmp, 0);
	ck_assert_int_eq(sv_remove_tree(tmp, s->dir + 5), 0);
	close(tmp);
}

static int open_io(struct pio *io, const char *in, const char *out, const char *err, bool tty,
		   int fds[3])
{
	return pio_open(io, &(struct pio_names){ in, out, err, tty, "t1", "default" }, fds);
}

/* Run the pump until it has nothing more to do (the first wait is bounded at 2 s). */
static void pump_run(struct pump *pp)
{
	for (int k = 0; k < 64; k++) {
		short ev = 0;
		int fd = pio_poll_fd(pp, &ev);
		struct pollfd p = { .fd = fd, .events = ev };

		/* the first event may lag (a pty pushes its input from a work queue) */
		if (fd < 0 || poll(&p, 1, k == 0 ? 2000 : 0) <= 0)
			return;
		pio_ready(pp);
	}
}

static void read_exact(int fd, const char *want)
{
	char buf[256];
	size_t len = strlen(want), got = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (got < len) {
		ssize_t n;

		ck_assert_int_eq(poll(&p, 1, 2000), 1);
		n = read(fd, buf + got, len - got);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	buf[got] = '\0';
	ck_assert_str_eq(buf, want);
}

START_TEST(test_out_fifo)
{
	struct scratch s;
	struct pio io;
	int fds[3], rd;
	char c;

	scratch_make(&s);
	rd = open(s.out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);      /* the client, already there */
	ck_assert_int_ge(rd, 0);
	ck_assert_int_eq(open_io(&io, "", s.out, "", false, fds), 0);
	ck_assert_int_ge(io.out.src, 0);        /* pumped */
	ck_assert_int_lt(io.err.src, 0);        /* "" is /dev/null, handed over */
	ck_assert_int_eq(write(fds[1], "hello", 5), 5);
	pump_run(&io.out);
	read_exact(rd, "hello");
	/* the process and everyone holding its stdout close it: the client sees EOF */
	close(fds[1]);
	pump_run(&io.out);
	ck_assert_int_lt(io.out.dst, 0);
	ck_assert_int_eq(read(rd, &c, 1), 0);
	close(fds[0]);
	close(fds[2]);
	close(rd);
	pio_close(&io);
	scratch_done(&s);
}
END_TEST

START_TEST(test_out_reader_gone)
{
	static char chunk[4096];
	struct scratch s;
	struct pio io;
	int fds[3], rd;
	size_t total = 0;

	scratch_make(&s);
	rd = open(s.out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(rd, 0);
	ck_assert_int_eq(open_io(&io, "", s.out, "", false, fds), 0);
	close(rd);                              /* the client detached */
	sv_set_nonblock(fds[1], 1);
	memset(chunk, 'x', sizeof(chunk));
	/* 1 MiB: far past what a pipe and a FIFO hold; a blocked pump would stall here */
	for (int k = 0; k < 4096 && total < (1u << 20); k++) {
		ssize_t n = write(fds[1], chunk, sizeof(chunk));

		if (n > 0)
			total += (size_t)n;
		else
			ck_assert_int_eq(errno, EAGAIN);
		pump_run(&io.out);
	}
	ck_assert_uint_eq(total, 1u << 20);
	/* a reader comes back: output reaches it again */
	rd = open(s.out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(rd, 0);
	ck_assert_int_eq(write(fds[1], "again", 5), 5);
	pump_run(&io.out);
	read_exact(rd, "again");
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(rd);
	pio_close(&io);
	scratch_done(&s);
}
END_TEST

START_TEST(test_stdin_closeio_and_eof)
{
	struct scratch s;
	struct pio io;
	int fds[3], wr;
	char buf[8];

	scratch_make(&s);
	ck_assert_int_eq(open_io(&io, s.in, "", "", false, fds), 0);
	wr = open(s.in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);      /* the client's writer */
	ck_assert_int_ge(wr, 0);
	ck_assert_int_eq(write(wr, "abc", 3), 3);
	pump_run(&io.in);
	read_exact(fds[0], "abc");
	/* CloseIO right after a last write: the bytes still arrive, then EOF, although the
	 * client still holds its writer */
	ck_assert_int_eq(write(wr, "late", 4), 4);
	pio_close_stdin(&io);
	read_exact(fds[0], "late");
	ck_assert_int_eq(read(fds[0], buf, sizeof(buf)), 0);
	close(wr);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	pio_close(&io);

	/* the client closing its writer is EOF too */
	ck_assert_int_eq(open_io(&io, s.in, "", "", false, fds), 0);
	wr = open(s.in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(wr, 0);
	ck_assert_int_eq(write(wr, "xy", 2), 2);
	close(wr);
	pump_run(&io.in);
	read_exact(fds[0], "xy");
	ck_assert_int_eq(read(fds[0], buf, sizeof(buf)), 0);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	pio_close(&io);
	scratch_done(&s);
}
END_TEST

START_TEST(test_files_and_schemes)
{
	struct scratch s;
	struct pio io;
	char uri[128], path[96], *got;
	size_t len;
	int fds[3], dfd;

	scratch_make(&s);
	snprintf(path, sizeof(path), "%s/log", s.dir);
	snprintf(uri, sizeof(uri), "file://%s", path);
	ck_assert_int_eq(open_io(&io, "", uri, uri, false, fds), 0);
	ck_assert_int_lt(io.out.src, 0);        /* a file is handed over, not pumped */
	ck_assert_int_eq(write(fds[1], "one\n", 4), 4);
	ck_assert_int_eq(write(fds[2], "two\n", 4), 4);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	pio_close(&io);
	dfd = open(s.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(sv_read_file(dfd, "log", 64, &got, &len), 0);
	ck_assert_str_eq(got, "one\ntwo\n");
	free(got);
	close(dfd);
	ck_assert_int_eq(open_io(&io, "", "", "binary:///usr/bin/logger", false, fds), -EPROTONOSUPPORT);
	ck_assert_int_eq(open_io(&io, "", "file://relative", "", false, fds), -EINVAL);
	ck_assert_int_eq(open_io(&io, "", "/nonexistent/fifo", "", false, fds), -ENOENT);
	scratch_done(&s);
}
END_TEST

START_TEST(test_console)
{
	struct scratch s;
	struct pio io;
	int fds[3], rd, wr, master, slave;
	char buf[64];

	scratch_make(&s);
	rd = open(s.out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(rd, 0);
	ck_assert_int_eq(open_io(&io, s.in, s.out, s.err, true, fds), 0);
	/* until the console arrives nothing is polled */
	ck_assert_int_lt(pio_poll_fd(&io.out, &(short){ 0 }), 0);
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(slave, 0);
	pio_set_console(&io, master);
	/* the process writes its terminal: the client's stdout gets it */
	ck_assert_int_eq(write(slave, "tty-out", 7), 7);
	pump_run(&io.out);
	read_exact(rd, "tty-out");
	/* the client types: the process reads it from its terminal (canonical mode: a line) */
	wr = open(s.in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(wr, 0);
	ck_assert_int_eq(write(wr, "typed\n", 6), 6);
	pump_run(&io.in);
	{
		struct pollfd p = { .fd = slave, .events = POLLIN };
		ssize_t n;

		ck_assert_int_eq(poll(&p, 1, 2000), 1);
		n = read(slave, buf, sizeof(buf) - 1);
		ck_assert_int_eq(n, 6);
		buf[n] = '\0';
		ck_assert_str_eq(buf, "typed\n");
	}
	/* the last process leaves: EIO on the master is EOF, the client sees EOF */
	close(slave);
	pump_run(&io.out);
	ck_assert_int_lt(io.out.dst, 0);
	close(wr);
	close(rd);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	pio_close(&io);
	scratch_done(&s);
}
END_TEST

START_TEST(test_binary_logger)
{
	struct scratch s;
	struct pio io;
	char script[128], uri[256], *got;
	size_t len;
	int fds[3], dfd, st;
	FILE *f;
	pid_t logger;

	scratch_make(&s);
	snprintf(script, sizeof(script), "%s/logger", s.dir);
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\necho \"$CONTAINER_ID $CONTAINER_NAMESPACE $*\" > %s/args\n"
		   "exec 5>&-\ncat <&3 > %s/o & cat <&4 > %s/e; wait\n", s.dir, s.dir, s.dir);
	fclose(f);
	ck_assert_int_eq(chmod(script, 0755), 0);
	snprintf(uri, sizeof(uri), "binary://%s?--flag&k=v%%20x", script);
	ck_assert_int_eq(open_io(&io, "", uri, "", false, fds), 0);
	ck_assert_int_gt(io.logger, 0);
	logger = io.logger;
	ck_assert_int_eq(write(fds[1], "o1", 2), 2);
	ck_assert_int_eq(write(fds[2], "e1", 2), 2);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	io.logger = 0;                          /* let it finish on its own */
	pio_close(&io);
	ck_assert_int_eq(waitpid(logger, &st, 0), logger);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	dfd = open(s.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(sv_read_file(dfd, "args", 256, &got, &len), 0);
	ck_assert_str_eq(got, "t1 default --flag k v x\n");
	free(got);
	ck_assert_int_eq(sv_read_file(dfd, "o", 64, &got, &len), 0);
	ck_assert_str_eq(got, "o1");
	free(got);
	ck_assert_int_eq(sv_read_file(dfd, "e", 64, &got, &len), 0);
	ck_assert_str_eq(got, "e1");
	free(got);
	close(dfd);
	/* a logger that cannot start fails the open */
	ck_assert_int_lt(open_io(&io, "", "binary:///nonexistent/logger", "", false, fds), 0);
	scratch_done(&s);
}
END_TEST

static long file_size(const char *dir, const char *name)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* svlog://: the cap split inside a write, rotation and its limit, keep=0, bad names. */
START_TEST(test_log_sink)
{
	struct scratch sc;
	struct logsink *ls;
	char uri[256], link[160];
	uint8_t buf[700];

	scratch_make(&sc);
	memset(buf, 'x', sizeof(buf));
	snprintf(uri, sizeof(uri), "svlog://%s/log?max=1000&keep=2", sc.dir);
	ck_assert_int_eq(logsink_open(uri, &ls), 0);
	for (int i = 0; i < 6; i++)             /* 4200 bytes: 1000+1000 kept, 1000 dropped */
		logsink_write(ls, buf, sizeof(buf));
	ck_assert_int_eq(file_size(sc.dir, "log"), 200);
	ck_assert_int_eq(file_size(sc.dir, "log.1"), 1000);
	ck_assert_int_eq(file_size(sc.dir, "log.2"), 1000);
	ck_assert_int_eq(file_size(sc.dir, "log.3"), -1);
	logsink_put(ls);
	/* reopened: appends, and rotates once full */
	snprintf(uri, sizeof(uri), "svlog://%s/log?keep=0&max=300", sc.dir);
	ck_assert_int_eq(logsink_open(uri, &ls), 0);
	logsink_write(ls, buf, 150);
	ck_assert_int_eq(file_size(sc.dir, "log"), 50);     /* 200 + 100 = 300, emptied, 50 */
	ck_assert_int_eq(file_size(sc.dir, "log.1"), 1000); /* keep=0 leaves the others alone */
	logsink_put(ls);
	/* a symlink where the log goes is refused */
	snprintf(link, sizeof(link), "%s/ln", sc.dir);
	ck_assert_int_eq(symlink("/etc/passwd", link), 0);
	snprintf(uri, sizeof(uri), "svlog://%s/ln?max=10&keep=1", sc.dir);
	ck_assert_int_lt(logsink_open(uri, &ls), 0);
	unlink(link);
	/* nor a hard link to a file elsewhere: neither truncated (keep=0) nor written */
	snprintf(link, sizeof(link), "%s/log.1", sc.dir);
	snprintf(uri, sizeof(uri), "%s/hl", sc.dir);
	ck_assert_int_eq(linkat(AT_FDCWD, link, AT_FDCWD, uri, 0), 0);
	snprintf(uri, sizeof(uri), "svlog://%s/hl?max=10&keep=0", sc.dir);
	ck_assert_int_lt(logsink_open(uri, &ls), 0);
	ck_assert_int_eq(file_size(sc.dir, "log.1"), 1000);
	const char *bad[] = { "svlog://rel/log?max=1&keep=1", "svlog:///tmp/log", "svlog:///tmp/log?max=1",
			      "svlog:///tmp/log?max=0&keep=1", "svlog:///tmp/log?max=1&keep=65",
			      "svlog:///tmp/?max=1&keep=1", "svlog:///tmp/log?max=1&keep=1&x=2",
			      "svlog:///tmp/..?max=1&keep=1", "svlog:///tmp/log?max=1x&keep=1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(logsink_open(bad[i], &ls) < 0, "%s accepted", bad[i]);
	scratch_done(&sc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pio");

	signal(SIGPIPE, SIG_IGN);       /* as the worker runs (loop.c) */

	SV_TCASE(s, "pio", 20, test_out_fifo, test_out_reader_gone, test_stdin_closeio_and_eof,
		 test_files_and_schemes, test_console, test_binary_logger, test_log_sink);
	return sv_run_suite(s);
}
