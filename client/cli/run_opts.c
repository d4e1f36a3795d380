/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/run_opts.c: run/create/exec command lines, and the Create request they become. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli/cli.h"
#include "common/fsutil.h"
#include "common/labels.h"
#include "wire/limits.h"

enum {
	O_RM = 1, O_DETACH, O_TTY, O_ROOTFS, O_BUNDLE, O_ENV, O_CWD, O_USER, O_HOSTNAME, O_NET,
	O_MEMORY, O_PIDS, O_CPUS, O_RESTART, O_EXEC_ID, O_VOLUME, O_MOUNT, O_TMPFS, O_READ_ONLY,
	O_ENV_FILE, O_ENTRYPOINT, O_CAP_ADD, O_CAP_DROP, O_SECURITY_OPT, O_LABEL, O_INTERACTIVE,
	O_DETACH_KEYS,
};

#define SECCOMP_FILE_MAX (48u << 10)  /* as the daemon's seccomp_profile */

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
	{ "workdir", 'w', true, O_CWD },
	{ "user", 'u', true, O_USER },
	{ "hostname", 0, true, O_HOSTNAME },
	{ "volume", 'v', true, O_VOLUME },
	{ "mount", 0, true, O_MOUNT },
	{ "tmpfs", 0, true, O_TMPFS },
	{ "read-only", 0, false, O_READ_ONLY },
	{ "env-file", 0, true, O_ENV_FILE },
	{ "entrypoint", 0, true, O_ENTRYPOINT },
	{ "cap-add", 0, true, O_CAP_ADD },
	{ "cap-drop", 0, true, O_CAP_DROP },
	{ "security-opt", 0, true, O_SECURITY_OPT },
	{ "label", 0, true, O_LABEL },
	{ "net", 0, true, O_NET },
	{ "memory", 0, true, O_MEMORY },
	{ "pids", 0, true, O_PIDS },
	{ "cpus", 0, true, O_CPUS },
	{ "restart", 0, true, O_RESTART },
	{ "", 0, false, 0 },
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
	{ "", 0, false, 0 },
};

/* Append s (malloc'd, taken; NULL = out of memory) to the list v of n. */
static int push(char ***v, size_t *n, char *s, const char *cmd, char *err, size_t errsz)
{
	char **nv = s ? realloc(*v, (*n + 1) * sizeof(*nv)) : NULL;

	if (!nv) {
		free(s);
		snprintf(err, errsz, "%s: out of memory", cmd);
		return -ENOMEM;
	}
	*v = nv;
	nv[(*n)++] = s;
	return 0;
}

/* K=V, or K alone: K's value from our environment, as docker does (unset = left out). */
static int env_entry(char ***v, size_t *n, const char *kv, const char *cmd, char *err,
		     size_t errsz)
{
	const char *eq = strchr(kv, '='), *val;
	char *s;

	if (eq)
		return push(v, n, strdup(kv), cmd, err, errsz);
	if (!(val = getenv(kv)))
		return 0;
	if (asprintf(&s, "%s=%s", kv, val) < 0)
		s = NULL;
	return push(v, n, s, cmd, err, errsz);
}

static int add_env(struct run_opts *o, const char *kv, const char *cmd, char *err, size_t errsz)
{
	const char *eq = strchr(kv, '=');

	if (eq == kv || *kv == '\0') {
		snprintf(err, errsz, "%s: invalid -e \"%.64s\": want K=V", cmd, kv);
		return -EINVAL;
	}
	return env_entry(&o->env, &o->env_count, kv, cmd, err, errsz);
}

/* --env-file: docker's format: K=V lines (V as it is, to the end of the line), a bare K
 * takes our environment's, '#' comment lines and blank lines skipped. */
static int add_env_file(struct run_opts *o, const char *path, const char *cmd, char *err,
			size_t errsz)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0, no = 0;

	if (!f) {
		rc = -errno;
		snprintf(err, errsz, "%s: --env-file %.200s: %s", cmd, path, strerror(-rc));
		return rc;
	}
	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		char *k = line;
		size_t kl;

		no++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		while (isspace((unsigned char)*k))
			k++;
		if (!*k || *k == '#')
			continue;
		kl = strcspn(k, "=");
		if (kl == 0 || strcspn(k, " \t") < kl) {
			snprintf(err, errsz, "%s: --env-file %.200s: line %d: want K=V (K without "
				 "blanks)", cmd, path, no);
			rc = -EINVAL;
			break;
		}
		rc = env_entry(&o->file_env, &o->file_env_count, k, cmd, err, errsz);
	}
	if (rc == 0 && ferror(f)) {
		rc = -EIO;
		snprintf(err, errsz, "%s: --env-file %.200s: %s", cmd, path, strerror(EIO));
	}
	free(line);
	fclose(f);
	return rc;
}

/* --cap-add/--cap-drop: a name with or without CAP_, any case; ALL. As "CAP_X" or "ALL". */
static int add_cap(char ***v, size_t *n, const char *arg, const char *opt, const char *cmd,
		   char *err, size_t errsz)
{
	const char *name = strncasecmp(arg, "CAP_", 4) ? arg : arg + 4;
	size_t len = strlen(name);
	char *s;

	if (len == 0 || len > 32 || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != len) {
		snprintf(err, errsz, "%s: invalid %s \"%.64s\": want a capability name (CHOWN, "
			 "CAP_NET_RAW, ...) or ALL", cmd, opt, arg);
		return -EINVAL;
	}
	if (asprintf(&s, "%s%s", strcasecmp(name, "ALL") ? "CAP_" : "", name) < 0)
		s = NULL;
	for (char *c = s; c && *c; c++)
		*c = (char)toupper((unsigned char)*c);
	return push(v, n, s, cmd, err, errsz);
}

static int read_seccomp(struct run_opts *o, const char *path, const char *cmd, char *err,
			size_t errsz)
{
	char *data = NULL, *abs = realpath(path, NULL);
	size_t len = 0;
	int rc;

	rc = abs ? sv_read_file(AT_FDCWD, abs, SECCOMP_FILE_MAX, &data, &len) : -errno;
	free(abs);
	if (rc == 0 && !(o->seccomp_profile = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(len))))
		rc = -ENOMEM;
	if (rc < 0) {
		free(data);
		snprintf(err, errsz, "%s: --security-opt seccomp=%.200s: %s", cmd, path,
			 rc == -EFBIG ? "over 48 KiB" : strerror(-rc));
		return rc;
	}
	o->seccomp_profile->size = (pb_size_t)len;
	memcpy(o->seccomp_profile->bytes, data, len);
	free(data);
	o->seccomp = "profile";
	return 0;
}

/* --security-opt: seccomp=unconfined|FILE; no-new-privileges (always on). */
static int security_opt(struct run_opts *o, const char *arg, const char *cmd, char *err,
			size_t errsz)
{
	if (!strncmp(arg, "seccomp=", 8) || !strncmp(arg, "seccomp:", 8)) {
		free(o->seccomp_profile);
		o->seccomp_profile = NULL;
		o->seccomp = NULL;
		if (!strcmp(arg + 8, "unconfined")) {
			o->seccomp = "unconfined";
			return 0;
		}
		if (!arg[8]) {
			snprintf(err, errsz, "%s: --security-opt seccomp= needs unconfined or a FILE", cmd);
			return -EINVAL;
		}
		return read_seccomp(o, arg + 8, cmd, err, errsz);
	}
	if (!strcmp(arg, "no-new-privileges") || !strcmp(arg, "no-new-privileges=true") ||
	    !strcmp(arg, "no-new-privileges:true"))
		return 0;
	if (!strncmp(arg, "no-new-privileges", 17)) {
		snprintf(err, errsz, "%s: --security-opt %.64s: no-new-privileges is always on", cmd, arg);
		return -EINVAL;
	}
	snprintf(err, errsz, "%s: --security-opt \"%.64s\": not supported (want seccomp=unconfined, "
		 "seccomp=FILE or no-new-privileges)", cmd, arg);
	return -EINVAL;
}

static int add_label(struct run_opts *o, const char *kv, const char *cmd, char *err, size_t errsz)
{
	const char *why, **n;
	size_t kl;

	if ((why = sv_label_invalid(kv, &kl)) != NULL) {
		snprintf(err, errsz, "%s: invalid --label \"%.64s\": %s", cmd, kv, why);
		return -EINVAL;
	}
	n = realloc(o->labels, (o->labels_count + 1) * sizeof(*n));
	if (!n) {
		snprintf(err, errsz, "%s: out of memory", cmd);
		return -ENOMEM;
	}
	o->labels = n;
	n[o->labels_count++] = kv;
	return 0;
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
		o->user_name = NULL;
		if (cli_parse_user(arg, &o->uid, &o->gid, &o->has_gid, err, errsz) == 0)
			return 0;
		if (o->exec)
			return with_cmd(-EINVAL, cmd, err, errsz);
		o->user_name = arg;     /* names: looked up in the task's root at the request */
		return 0;
	case O_NET:
		if (strcmp(arg, "bridge") == 0) {
			snprintf(err, errsz, "%s: --net bridge: not supported: the daemon runs no CNI "
				 "plugin (join a namespace made by one with --net PATH)", cmd);
			return -EINVAL;
		}
		if (strcmp(arg, "none") && strcmp(arg, "host") && strcmp(arg, "loopback") &&
		    arg[0] != '/') {
			snprintf(err, errsz, "%s: invalid --net \"%.32s\": want none, host, loopback or "
				 "the absolute path of a network namespace", cmd, arg);
			return -EINVAL;
		}
		o->net = arg;
		return 0;
	case O_VOLUME:     return with_cmd(cli_add_volume(o, arg, err, errsz), cmd, err, errsz);
	case O_MOUNT:      return with_cmd(cli_add_mount(o, arg, err, errsz), cmd, err, errsz);
	case O_TMPFS:      return with_cmd(cli_add_tmpfs(o, arg, err, errsz), cmd, err, errsz);
	case O_READ_ONLY:  o->read_only = true; return 0;
	case O_ENV_FILE:   return add_env_file(o, arg, cmd, err, errsz);
	case O_ENTRYPOINT: return set_str(&o->entrypoint, arg, cmd, "--entrypoint", err, errsz);
	case O_CAP_ADD:
		return add_cap(&o->cap_add, &o->cap_add_count, arg, "--cap-add", cmd, err, errsz);
	case O_CAP_DROP:
		return add_cap(&o->cap_drop, &o->cap_drop_count, arg, "--cap-drop", cmd, err, errsz);
	case O_SECURITY_OPT: return security_opt(o, arg, cmd, err, errsz);
	case O_LABEL:      return add_label(o, arg, cmd, err, errsz);
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

/* A --bundle's config.json says what these would (only --label adds to it). */
static int bundle_conflicts(const struct run_opts *o, const char *cmd, char *err, size_t errsz)
{
	const char *opt = o->mounts_count ? "-v/--mount/--tmpfs" : o->read_only ? "--read-only" :
			  o->cap_add_count ? "--cap-add" : o->cap_drop_count ? "--cap-drop" :
			  o->seccomp ? "--security-opt seccomp" : o->user_name ? "-u NAME" :
			  o->entrypoint ? "--entrypoint" : NULL;

	if (!o->bundle || !opt)
		return 0;
	snprintf(err, errsz, "%s: %s with --bundle: the bundle's config.json says it%s", cmd, opt,
		 o->user_name ? " (-u takes UID[:GID] numbers there)" : "");
	return -EINVAL;
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
	if (o->rootfs && o->bundle) {
		snprintf(err, errsz, "%s: --rootfs and --bundle exclude each other", cmd);
		return -EINVAL;
	}
	return bundle_conflicts(o, cmd, err, errsz);
}

int cli_parse_exec(int argc, char **argv, struct run_opts *o, char *err, size_t errsz)
{
	int rc;

	memset(o, 0, sizeof(*o));
	o->exec = true;
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

static void free_list(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

void run_opts_free(struct run_opts *o)
{
	free_list(&o->env, &o->env_count);
	free_list(&o->file_env, &o->file_env_count);
	free_list(&o->cap_add, &o->cap_add_count);
	free_list(&o->cap_drop, &o->cap_drop_count);
	cli_mounts_free(o);
	cli_user_free(&o->user);
	free(o->bundle_abs);
	free(o->rootfs_abs);
	free(o->bundle_config);
	free(o->seccomp_profile);
	free(o->labels);
	free(o->req_env);
	free(o->req_args);
	o->bundle_abs = NULL;
	o->rootfs_abs = NULL;
	o->bundle_config = NULL;
	o->seccomp_profile = NULL;
	o->labels = NULL;
	o->labels_count = 0;
	o->req_env = o->req_args = NULL;
}

/* -u: a name (or a UID without :GID) from the task's /etc/passwd and /etc/group, as runc:
 * the rootfs's, or the host's for the host-root view; a bundle's: numbers as given. */
static int resolve_user(struct run_opts *o, sv_CtlCreateRequest *req, char *err, size_t errsz)
{
	char spec[32];
	int rc;

	req->set_user = true;
	req->uid = o->uid;
	req->gid = o->has_gid ? o->gid : 0;
	if (o->bundle || (o->has_gid && !o->user_name))
		return 0;
	if (!o->user_name)
		snprintf(spec, sizeof(spec), "%u", o->uid);
	rc = cli_lookup_user(o->rootfs_abs ? o->rootfs_abs : "/", o->user_name ? o->user_name : spec,
			     &o->user, err, errsz);
	if (rc < 0)
		return with_cmd(rc, o->create ? "create" : "run", err, errsz);
	req->uid = o->user.uid;
	req->gid = o->user.gid;
	req->additional_gids = o->user.gids;
	req->additional_gids_count = (pb_size_t)o->user.ngids;
	return 0;
}

/* The command's words (--entrypoint first) and its environment (--env-file's, then -e's:
 * a later K=V of a name wins, as docker's). */
static int words_and_env(struct run_opts *o, sv_CtlCreateRequest *req, char *err, size_t errsz)
{
	static char *default_args[] = { (char *)"/bin/sh", NULL };
	size_t n = o->args_count + (o->entrypoint ? 1 : 0);

	o->req_args = calloc(n + 1, sizeof(char *));
	o->req_env = calloc(o->file_env_count + o->env_count + 1, sizeof(char *));
	if (!o->req_args || !o->req_env) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	if (o->entrypoint)
		o->req_args[0] = (char *)o->entrypoint;
	memcpy(o->req_args + (o->entrypoint ? 1 : 0), o->args, o->args_count * sizeof(char *));
	req->args = n ? o->req_args : default_args;
	req->args_count = (pb_size_t)(n ? n : 1);
	req->env = o->req_env;
	req->env_count = 0;
	for (size_t i = 0; i < o->file_env_count + o->env_count; i++) {
		char *kv = i < o->file_env_count ? o->file_env[i] : o->env[i - o->file_env_count];
		size_t k = strcspn(kv, "="), j;

		/* a name given again replaces its value, in its first place */
		for (j = 0; j < req->env_count; j++)
			if (!strncmp(req->env[j], kv, k + 1))
				break;
		req->env[j] = kv;
		if (j == req->env_count)
			req->env_count++;
	}
	return 0;
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
	int rc;

	memset(req, 0, sizeof(*req));
	memcpy(req->id, o->id, strlen(o->id) + 1);     /* validated: < SV_ID_SZ */
	if ((rc = words_and_env(o, req, err, errsz)) < 0)
		return rc;
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
	if (o->set_user && (rc = resolve_user(o, req, err, errsz)) < 0)
		return rc;
	req->mounts = o->mounts;
	req->mounts_count = (pb_size_t)o->mounts_count;
	req->read_only = o->read_only;
	req->cap_add = o->cap_add;
	req->cap_add_count = (pb_size_t)o->cap_add_count;
	req->cap_drop = o->cap_drop;
	req->cap_drop_count = (pb_size_t)o->cap_drop_count;
	req->seccomp = (char *)o->seccomp;
	req->seccomp_profile = o->seccomp_profile;
	req->labels = (char **)o->labels;
	req->labels_count = (pb_size_t)o->labels_count;
	if (o->bundle) {
		rc = read_bundle(o, err, errsz);
		if (rc < 0)
			return rc;
		req->bundle_dir = o->bundle_abs;
		req->bundle_config = o->bundle_config;
	}
	req->detach = o->create || o->detach;
	req->restart = (char *)o->restart_arg;
	/* the daemon deletes it once it exits: run --rm -d, and run --rm -t, whose client may
	 * detach and never see the exit */
	req->auto_remove = o->rm && (o->detach || o->tty);
	req->memory = o->limits.memory;
	req->pids = o->limits.pids;
	req->cpus_milli = o->limits.cpus_milli;
	return 0;
}
