/* SPDX-License-Identifier: Apache-2.0 */
/* worker/pio_binary.c: stdout "binary:///path?k=v&flag": a logging binary gets the process's
 * stdout and stderr, as containerd's shims start it: fd 3 stdout, fd 4 stderr, fd 5 closed
 * (or written) once it is ready; CONTAINER_ID and CONTAINER_NAMESPACE in its environment;
 * each query key, then its value if any, as arguments. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/kernel.h"
#include "common/log.h"
#include "worker.h"

#define LOGGER_MAX_ARGS 32

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding in place ('+' is a space in a query). */
static int unescape(char *s, bool query)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);

			if (l < 0)
				return -EINVAL;
			*o++ = (char)(h * 16 + l);
			s += 2;
		} else {
			*o++ = query && *s == '+' ? ' ' : *s;
		}
	}
	*o = '\0';
	return 0;
}

/* Split "binary:///path?query" into argv (in buf, which it modifies). */
static int parse_uri(char *buf, char **argv)
{
	char *path = buf + strlen("binary://"), *q = strchr(path, '?'), *kv, *save = NULL;
	int n = 0;

	if (q)
		*q++ = '\0';
	if (*path != '/' || unescape(path, false) < 0)
		return -EINVAL;
	argv[n++] = path;
	for (kv = q ? strtok_r(q, "&", &save) : NULL; kv; kv = strtok_r(NULL, "&", &save)) {
		char *v = strchr(kv, '=');

		if (v)
			*v++ = '\0';
		if (n + 2 >= LOGGER_MAX_ARGS || unescape(kv, true) < 0 || (v && unescape(v, true) < 0))
			return -E2BIG;
		argv[n++] = kv;
		if (v && *v)
			argv[n++] = v;
	}
	argv[n] = NULL;
	return 0;
}

static _Noreturn void logger_exec(char **argv, char **envp, const int fds[3], int chk)
{
	int tmp[3], i;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	for (i = 0; i < 3; i++)
		if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 16)) < 0)
			_exit(127);
	if ((chk = fcntl(chk, F_DUPFD_CLOEXEC, 16)) < 0)
		_exit(127);
	for (i = 0; i < 3; i++)
		if (dup2(tmp[i], SV_LOGGER_FD_STDOUT + i) < 0)
			_exit(127);
	if (dup3(chk, SV_LOGGER_FD_READY + 1, O_CLOEXEC) < 0)
		_exit(127);
	chk = SV_LOGGER_FD_READY + 1;
	sv_close_range(SV_LOGGER_FD_READY + 2, ~0U);
	if (sv_log_relayed())
		dup2(STDIN_FILENO, STDERR_FILENO);  /* /dev/null: the daemon's log relay is not its */
	setsid();
	execve(argv[0], argv, envp);
	i = errno;
	(void)!write(chk, &i, sizeof(i));     /* chk is close-on-exec: EOF there means exec'd */
	_exit(127);
}

int pio_open_binary(struct pio *io, const char *uri, const char *id, const char *ns, int fds[2])
{
	char *buf = strdup(uri), *argv[LOGGER_MAX_ARGS + 1];
	char env_id[128], env_ns[128], *envp[] = { env_id, env_ns, NULL };
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, ready[2] = { -1, -1 }, chk[2] = { -1, -1 }, rc;
	pid_t pid;

	if (!buf)
		return -ENOMEM;
	rc = parse_uri(buf, argv);
	if (rc < 0)
		goto out;
	snprintf(env_id, sizeof(env_id), "CONTAINER_ID=%s", id);
	snprintf(env_ns, sizeof(env_ns), "CONTAINER_NAMESPACE=%s", ns);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0 ||
	    pipe2(chk, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0)
		logger_exec(argv, envp, (const int[3]){ out[0], err[0], ready[1] }, chk[1]);
	io->logger = pid;
	close(ready[1]);
	close(chk[1]);
	ready[1] = chk[1] = -1;
	{
		int e;

		if (read(chk[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
			rc = e > 0 ? -e : -ENOEXEC;
			goto out;
		}
	}
	/* its readiness (a byte, or the end of fd 5) comes in the worker's loop */
	io->logger_ready = ready[0];
	ready[0] = -1;
	fds[0] = out[1];
	fds[1] = err[1];
	out[1] = err[1] = -1;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
		if (ready[i] >= 0)
			close(ready[i]);
		if (chk[i] >= 0)
			close(chk[i]);
	}
	if (rc < 0 && io->logger > 0) {
		kill(io->logger, SIGKILL);      /* reaped as a stranger */
		io->logger = 0;
	}
	free(buf);
	return rc;
}

int pio_logger_ready(struct pio *io)
{
	char c;
	int rc = read(io->logger_ready, &c, 1) < 0 ? -errno : 0;

	close(io->logger_ready);
	io->logger_ready = -1;
	return rc;
}
