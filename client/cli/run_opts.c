/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/run_opts.c: run/create/exec command lines, and the Create request they become. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli/cli.h"
#include "common/fsutil.h"
#include "wire/limits.h"

enum {
	O_RM = 1, O_DETACH, O_TTY, O_ROOTFS, O_BUNDLE, O_ENV, O_CWD, O_USER, O_HOSTNAME, O_NET,
	O_MEMORY, O_PIDS, O_CPUS, O_RESTART, O_EXEC_ID, O_INTERACTIVE, O_DETACH_KEYS,
};

static const struct opt_def run_defs[] = {
	{ "rm", 0, false, O_RM },
	{ "detach", 'd', false, O_DETACH },
	{ "tty", 't', false, O_TTY },
	{ "interactive", 'i', false, O_INTERACTIVE },
	{ "detach-keys", 0, true, O_DETACH_KEYS },
	{ "rootfs", 0, true, O_ROOTFS },
	{ "bundle", 0, true, O_BUNDLE },
	{ "env", 'e', true, O_ENV },
	{ "cwd", 0, true, O_CWD },
	{ "user", 'u', true, O_USER },
	{ "hostname", 0, true, O_HOSTNAME },
	{ "net", 0, true, O_NET },
	{ "memory", 0, true, O_MEMORY },
	{ "pids", 0, true, O_PIDS },
	{ "cpus", 0, true, O_CPUS },
	{ "restart", 0, true, O_RESTART },
	{ NULL, 0, false, 0 },
};

/* exec: run's options that make sense for one more process, and its exec id. */
static const struct opt_def exec_defs[] = {
	{ "detach", 'd', false, O_DETACH },
	{ "tty", 't', false, O_TTY },
	{ "interactive", 'i', false, O_INTERACTIVE },
	{ "detach-keys", 0, true, O_DETACH_KEYS },
	{ "exec-id", 0, true, O_EXEC_ID },
	{ "env", 'e', true, O_ENV },
	{ "cwd", 0, true, O_CWD },
	{ "user", 'u', true, O_USER },
	{ NULL, 0, false, 0 },
};

static int add_env(struct run_opts *o, const char *kv, const char *cmd, char *err, size_t errsz)
{
	const char *eq = strchr(kv, '=');
	char *s, **n;

	if (eq == kv || *kv == '\0') {
		snprintf(err, errsz, "%s: invalid -e \"%.64s\": want K=V", cmd, kv);
		return -EINVAL;
	}
	if (eq) {
		s = strdup(kv);
	} else {
		/* -e K: take K's value from our environment, as docker does; unset = left out. */
		const char *v = getenv(kv);

		if (!v)
			return 0;
		if (asprintf(&s, "%s=%s", kv, v) < 0)
			s = NULL;
	}
	n = s ? realloc(o->env, (o->env_count + 1) * sizeof(*n)) : NULL;
	if (!n) {
		free(s);
		snprintf(err, errsz, "%s: out of memory", cmd);
		return -ENOMEM;
	}
	o->env = n;
	o->env[o->env_count++] = s;
	return 0;
}

static int not_yet(const char *cmd, const char *what, char *err, size_t errsz)
{
	snprintf(err, errsz, "%s %s: not implemented yet", cmd, what);
	return -ENOSYS;
}

static int set_str(const char **slot, const char *v, const char *cmd, const char *opt,
		    char *err, size_t errsz)
{
	if (*v == '\0') {
		snprintf(err, errsz, "%s: option %s needs a non-empty value", cmd, opt);
		return -EINVAL;
	}
	*slot = v;
	return 0;
}

/* A value parser's result; its "what: why" message (if rc < 0) becomes "cmd: what: why". */
static int with_cmd(int rc, const char *cmd, char *err, size_t errsz)
{
	char m[CLI_ERR_MAX];

	if (rc == 0)
		return 0;
	snprintf(m, sizeof(m), "%s", err);
	snprintf(err, errsz, "%s: %s", cmd, m);
	return rc;
}

static int one_opt(struct run_opts *o, int key, const char *arg, const char *cmd,
		   char *err, size_t errsz)
{
	struct cli_limits *l = &o->limits;

	switch (key) {
	case O_RM:       o->rm = true; return 0;
	case O_DETACH:   o->detach = true; return 0;
	case O_TTY:      o->tty = true; return 0;
	case O_INTERACTIVE: o->interactive = true; return 0;
	case O_DETACH_KEYS: {
		struct tty_keys k;

		o->detach_keys = arg;
		return with_cmd(tty_parse_detach_keys(arg, &k, err, errsz), cmd, err, errsz);
	}
	case O_ROOTFS:   return set_str(&o->rootfs, arg, cmd, "--rootfs", err, errsz);
	case O_BUNDLE:   return set_str(&o->bundle, arg, cmd, "--bundle", err, errsz);
	case O_CWD:      return set_str(&o->cwd, arg, cmd, "--cwd", err, errsz);
	case O_HOSTNAME: return set_str(&o->hostname, arg, cmd, "--hostname", err, errsz);
	case O_ENV:      return add_env(o, arg, cmd, err, errsz);
	case O_USER:
		o->set_user = true;
		return with_cmd(cli_parse_user(arg, &o->uid, &o->gid, &o->has_gid, err, errsz),
				cmd, err, errsz);
	case O_NET:
		if (strcmp(arg, "bridge") == 0)
			return not_yet(cmd, "--net bridge", err, errsz);
		if (strcmp(arg, "none") && strcmp(arg, "host") && strcmp(arg, "loopback")) {
			snprintf(err, errsz, "%s: invalid --net \"%.32s\": want none, host or loopback",
				 cmd, arg);
			return -EINVAL;
		}
		o->net = arg;
		return 0;
	case O_MEMORY:
		return with_cmd(cli_parse_bytes(arg, &l->memory, err, errsz), cmd, err, errsz);
	case O_PIDS:
		return with_cmd(cli_parse_pids(arg, &l->pids, err, errsz), cmd, err, errsz);
	case O_CPUS:
		return with_cmd(cli_parse_cpus(arg, &l->cpus_milli, err, errsz), cmd, err, errsz);
	case O_RESTART:
		if (sv_restart_parse(arg, &o->restart) < 0) {
			snprintf(err, errsz, "%s: invalid --restart \"%.32s\": want no, on-failure[:N], "
				 "always or unless-stopped", cmd, arg);
			return -EINVAL;
		}
		o->restart_arg = arg;
		return 0;
	case O_EXEC_ID:
		if (cli_check_id("exec id", arg, err, errsz) < 0)
			return -EINVAL;
		o->exec_id = arg;
		return 0;
	default:         return -EINVAL;
	}
}

/* The options (up to the first operand), then ID and the CMD words after it. */
static int parse_line(int argc, char **argv, const char *cmd, const struct opt_def *defs,
		      const char *usage, struct run_opts *o, char *err, size_t errsz)
{
	struct opt_scan s;
	const char *arg;
	int key, rc;

	opt_init(&s, argc, argv, cmd);
	while ((key = opt_next(&s, defs, &arg)) > 0) {
		rc = one_opt(o, key, arg, cmd, err, errsz);
		if (rc < 0)
			return rc;
	}
	if (key < 0) {
		snprintf(err, errsz, "%s", s.err);
		return -EINVAL;
	}
	if (s.i >= argc) {
		snprintf(err, errsz, "%s: missing ID (usage: %s)", cmd, usage);
		return -EINVAL;
	}
	o->id = argv[s.i++];
	if (cli_check_id("id", o->id, err, errsz) < 0)
		return -EINVAL;
	o->args = argv + s.i;
	o->args_count = (size_t)(argc - s.i);
	return 0;
}

int cli_parse_run(int argc, char **argv, bool create, struct run_opts *o, char *err, size_t errsz)
{
	const char *cmd = create ? "create" : "run";
	char usage[48];
	int rc;

	memset(o, 0, sizeof(*o));
	o->create = create;
	snprintf(usage, sizeof(usage), "%s [options] ID [CMD...]", cmd);
	rc = parse_line(argc, argv, cmd, run_defs, usage, o, err, errsz);
	if (rc < 0)
		return rc;
	if (create && (o->rm || o->detach)) {
		snprintf(err, errsz, "create: %s: only for run (create never starts the task)",
			 o->rm ? "--rm" : "-d");
		return -EINVAL;
	}
	if (o->restart.kind != SV_RESTART_NO && (o->rm || !(create || o->detach))) {
		/* the daemon carries the policy out: nobody attached waits for one run's end */
		snprintf(err, errsz, o->rm ? "run: --restart with --rm: conflicting options (a task "
			 "deleted when it exits is never restarted)" : "run: --restart needs -d (the "
			 "daemon restarts a detached task)");
		return -EINVAL;
	}
	if (o->tty && o->restart.kind != SV_RESTART_NO) {
		snprintf(err, errsz, "%s: --restart with -t: conflicting options (a restarted task "
			 "writes its log, it has no terminal)", cmd);
		return -EINVAL;
	}
	if (o->rm && o->detach) {
		snprintf(err, errsz, "run: --rm with -d: not implemented yet");
		return -ENOSYS;
	}
	if (o->rootfs && o->bundle) {
		snprintf(err, errsz, "%s: --rootfs and --bundle exclude each other", cmd);
		return -EINVAL;
	}
	return 0;
}

int cli_parse_exec(int argc, char **argv, struct run_opts *o, char *err, size_t errsz)
{
	int rc;

	memset(o, 0, sizeof(*o));
	rc = parse_line(argc, argv, "exec", exec_defs, CLI_EXEC_USAGE, o, err, errsz);
	if (rc < 0)
		return rc;
	if (o->args_count == 0) {
		snprintf(err, errsz, "exec: missing CMD (usage: %s)", CLI_EXEC_USAGE);
		return -EINVAL;
	}
	if (o->tty && o->detach) {
		snprintf(err, errsz, "exec: -d with -t: conflicting options (a detached exec has no "
			 "stdio; a terminal needs a client)");
		return -EINVAL;
	}
	if (!o->exec_id) {
		snprintf(o->exec_id_buf, sizeof(o->exec_id_buf), "exec-%d", (int)getpid());
		o->exec_id = o->exec_id_buf;
	}
	return 0;
}

void run_opts_free(struct run_opts *o)
{
	for (size_t i = 0; i < o->env_count; i++)
		free(o->env[i]);
	free(o->env);
	free(o->bundle_abs);
	free(o->rootfs_abs);
	free(o->bundle_config);
	o->env = NULL;
	o->env_count = 0;
	o->bundle_abs = NULL;
	o->rootfs_abs = NULL;
	o->bundle_config = NULL;
}

/* The group of uid in the task's /etc/passwd (host's when there is no rootfs), else 0. */
static uint32_t default_gid(const struct run_opts *o)
{
	char path[PATH_MAX];
	struct passwd *pw;
	uint32_t gid = 0;
	FILE *f;

	if (o->bundle)
		return 0;
	if (snprintf(path, sizeof(path), "%s/etc/passwd", o->rootfs ? o->rootfs : "") >=
	    (int)sizeof(path))
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	while ((pw = fgetpwent(f)) != NULL) {
		if (pw->pw_uid == o->uid) {
			gid = pw->pw_gid;
			break;
		}
	}
	fclose(f);
	return gid;
}

static int read_bundle(struct run_opts *o, char *err, size_t errsz)
{
	const char *cmd = o->create ? "create" : "run";
	char *data = NULL;
	size_t len = 0;
	int dfd, rc;

	o->bundle_abs = realpath(o->bundle, NULL);
	if (!o->bundle_abs) {
		rc = -errno;
		snprintf(err, errsz, "%s: bundle %.200s: %s", cmd, o->bundle, strerror(-rc));
		return rc;
	}
	dfd = open(o->bundle_abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = -errno;
		snprintf(err, errsz, "%s: bundle %.200s: %s", cmd, o->bundle, strerror(-rc));
		return rc;
	}
	rc = sv_read_file(dfd, SV_BUNDLE_CONFIG, SV_CONFIG_MAX, &data, &len);
	close(dfd);
	if (rc < 0) {
		if (rc == -EFBIG)
			snprintf(err, errsz, "%s: bundle %.200s: config.json is larger than %u bytes",
				 cmd, o->bundle, SV_CONFIG_MAX);
		else
			snprintf(err, errsz, "%s: bundle %.200s: config.json: %s", cmd, o->bundle,
				 strerror(-rc));
		return rc;
	}
	o->bundle_config = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(len));
	if (!o->bundle_config) {
		free(data);
		snprintf(err, errsz, "%s: out of memory", cmd);
		return -ENOMEM;
	}
	o->bundle_config->size = (pb_size_t)len;
	memcpy(o->bundle_config->bytes, data, len);
	free(data);
	return 0;
}

int run_opts_request(struct run_opts *o, sv_CtlCreateRequest *req, char *err, size_t errsz)
{
	static char *default_args[] = { (char *)"/bin/sh", NULL };
	int rc;

	memset(req, 0, sizeof(*req));
	memcpy(req->id, o->id, strlen(o->id) + 1);     /* validated: < SV_ID_SZ */
	if (o->args_count) {
		req->args = o->args;
		req->args_count = (pb_size_t)o->args_count;
	} else {
		req->args = default_args;
		req->args_count = 1;
	}
	req->env = o->env;
	req->env_count = (pb_size_t)o->env_count;
	req->cwd = (char *)o->cwd;
	if (o->rootfs) {
		/* The daemon resolves nothing against our cwd: send an absolute path. */
		o->rootfs_abs = realpath(o->rootfs, NULL);
		if (!o->rootfs_abs) {
			rc = -errno;
			snprintf(err, errsz, "%s: rootfs %.200s: %s", o->create ? "create" : "run",
				 o->rootfs, strerror(-rc));
			return rc;
		}
		req->rootfs = o->rootfs_abs;
	}
	req->hostname = (char *)o->hostname;
	req->net = (char *)o->net;
	if (o->set_user) {
		req->set_user = true;
		req->uid = o->uid;
		req->gid = o->has_gid ? o->gid : default_gid(o);
	}
	if (o->bundle) {
		rc = read_bundle(o, err, errsz);
		if (rc < 0)
			return rc;
		req->bundle_dir = o->bundle_abs;
		req->bundle_config = o->bundle_config;
	}
	req->detach = o->create || o->detach;
	req->restart = (char *)o->restart_arg;
	req->memory = o->limits.memory;
	req->pids = o->limits.pids;
	req->cpus_milli = o->limits.cpus_milli;
	return 0;
}
