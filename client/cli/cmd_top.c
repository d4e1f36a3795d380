/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cmd_top.c: top ID: the task's processes (the daemon's Pids) as ps shows them,
 * PID USER TIME CMD read from the host's /proc (a process gone meanwhile is left out). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli/cli.h"

struct proc_row {
	uint32_t pid, uid;
	char user[64];
	char time[32];              /* CPU time, ps's [DD-]HH:MM:SS */
	char *cmd;                  /* malloc'd: its command line, or [comm] */
};

/* The whole of a small /proc file, NUL-terminated; its length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, got = 0;

	if (fd < 0)
		return -errno;
	while (got < (ssize_t)size - 1 && (n = read(fd, buf + got, size - 1 - (size_t)got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			got = -errno;
			break;
		}
		got += n;
	}
	close(fd);
	if (got >= 0)
		buf[got] = 0;
	return got;
}

/* One process from /proc/PID: 0, or -errno (-ENOENT: it has gone). */
static int proc_read(uint32_t pid, struct proc_row *r, long hz, FILE *passwd)
{
	char path[64], buf[4096], *p;
	unsigned long long ut = 0, st = 0;
	ssize_t n;

	*r = (struct proc_row){ .pid = pid };
	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	if ((n = read_small(path, buf, sizeof(buf))) < 0)
		return (int)n;
	if (!(p = strstr(buf, "\nUid:")) || sscanf(p + 5, "%u", &r->uid) != 1)
		return -EBADMSG;
	cli_uid_name(passwd, r->uid, r->user, sizeof(r->user));
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	if ((n = read_small(path, buf, sizeof(buf))) < 0)
		return (int)n;
	/* after "pid (comm) ", fields 3..: utime and stime are the 14th and 15th */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -EBADMSG;
	unsigned long long s = hz > 0 ? (ut + st) / (unsigned long long)hz : 0;
	if (s >= 86400)
		snprintf(r->time, sizeof(r->time), "%llu-%02llu:%02llu:%02llu", s / 86400,
			 s % 86400 / 3600, s % 3600 / 60, s % 60);
	else
		snprintf(r->time, sizeof(r->time), "%02llu:%02llu:%02llu", s / 3600, s % 3600 / 60,
			 s % 60);
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	if ((n = read_small(path, buf, sizeof(buf))) < 0)
		return (int)n;
	while (n > 0 && buf[n - 1] == 0)
		n--;
	for (ssize_t i = 0; i < n; i++)
		buf[i] = buf[i] ? buf[i] : ' ';
	buf[n] = 0;
	if (n == 0) {           /* a kernel thread, or a zombie: [comm] as ps */
		char comm[64] = "";
		snprintf(path, sizeof(path), "/proc/%u/comm", pid);
		if (read_small(path, comm, sizeof(comm)) > 0)
			comm[strcspn(comm, "\n")] = 0;
		snprintf(buf, sizeof(buf), "[%s]", comm);
	}
	r->cmd = strdup(buf);
	return r->cmd ? 0 : -ENOMEM;
}

/* A table cell: control characters shown as '?', as ps does. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void top_table(struct sbuf *b, struct proc_row *r, size_t n)
{
	static const char *const head[4] = { "PID", "USER", "TIME", "CMD" };
	size_t width[4] = { 0 };
	char pid[16];

	cli_table_widen(width, 4, head);
	for (size_t i = 0; i < n; i++) {
		snprintf(pid, sizeof(pid), "%u", r[i].pid);
		printable(r[i].cmd);
		cli_table_widen(width, 4, (const char *const[]){ pid, r[i].user, r[i].time, r[i].cmd });
	}
	cli_table_row(b, 4, head, width);
	for (size_t i = 0; i < n; i++) {
		snprintf(pid, sizeof(pid), "%u", r[i].pid);
		cli_table_row(b, 4, (const char *const[]){ pid, r[i].user, r[i].time, r[i].cmd }, width);
	}
}

/* {"id", "processes": [{"pid", "uid", "user", "time", "cmd"}]} */
static void top_json(struct sbuf *b, const char *id, const struct proc_row *r, size_t n)
{
	struct jw w;

	cli_procs_json_open(&w, b, id);
	for (size_t i = 0; i < n; i++) {
		jw_obj(&w);
		jw_key(&w, "pid");
		jw_u64(&w, r[i].pid);
		jw_key(&w, "uid");
		jw_u64(&w, r[i].uid);
		jw_key(&w, "user");
		jw_str(&w, r[i].user);
		jw_key(&w, "time");
		jw_str(&w, r[i].time);
		jw_key(&w, "cmd");
		jw_str(&w, r[i].cmd);
		jw_obj_end(&w);
	}
	cli_procs_json_close(&w);
}

int cmd_top(const struct cli *g, int argc, char **argv)
{
	static const struct opt_def defs[] = { { "format", 0, true, 1 }, { "", 0, false, 0 } };
	struct proc_row *rows = NULL;
	struct sv_client *c;
	struct sbuf b = { 0 };
	struct opt_scan s;
	uint32_t *pids = NULL;
	size_t n = 0, k = 0;
	const char *id;
	bool json = false;
	long hz = sysconf(_SC_CLK_TCK);
	int rc = cli_scan(&s, defs, argc, argv, cli_format_opt, &json);

	if (rc || (rc = cli_one_id(&s, "top ID [--format json]", &id)))
		return rc;
	if (!(c = cli_connect(g)))
		return CLI_EXIT_FAIL;
	rc = sv_pids(c, id, &pids, &n);
	if (rc < 0) {
		rc = cli_call_error(c, rc, "top %s", id);
		sv_close(c);
		return rc;
	}
	sv_close(c);
	if (n && !(rows = calloc(n, sizeof(*rows)))) {
		free(pids);
		return cli_error("top: out of memory");
	}
	FILE *passwd = fopen("/etc/passwd", "re");     /* the host's: the pids are */
	for (size_t i = 0; i < n; i++) {
		int e = proc_read(pids[i], &rows[k], hz, passwd);

		if (e == 0)
			k++;
		else if (e != -ENOENT && e != -ESRCH)   /* gone meanwhile: left out */
			rc = cli_error("top %s: /proc/%u: %s", id, pids[i], strerror(-e));
	}
	if (passwd)
		fclose(passwd);
	if (json)
		top_json(&b, id, rows, k);
	else
		top_table(&b, rows, k);
	if (cli_flush_out(&b, "top"))
		rc = CLI_EXIT_FAIL;
	for (size_t i = 0; i < k; i++)
		free(rows[i].cmd);
	free(rows);
	free(pids);
	return rc;
}
