/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/config.c: shimvisord defaults and the ini config file, parsed with libinih. */
#include <errno.h>
#include <limits.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

void sv_config_defaults(struct sv_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->root, sizeof(c->root), "/var/lib/shimvisor");
	snprintf(c->state, sizeof(c->state), "/run/shimvisor");
	snprintf(c->address, sizeof(c->address), "/run/shimvisor/shimvisord.sock");
	snprintf(c->group, sizeof(c->group), "shimvisor");
	snprintf(c->engine_user, sizeof(c->engine_user), "nobody");
	snprintf(c->cgroup_parent, sizeof(c->cgroup_parent), "/shimvisor");
	c->log_max_size = 1 << 20;
	c->log_max_files = 2;
	c->reattach_timeout_ms = 2000;
	c->cleanup_timeout_ms = 5000;
	c->warm_delay_ms = 20;
	c->ready_fd = -1;
	sv_policy_defaults(&c->policy);
}

struct load_ctx {
	struct sv_config *c;
	char *err;
	size_t errsz;
	int bad;
};

static int set_str(char *dst, size_t sz, const char *v)
{
	size_t n = strlen(v);

	if (n >= sz)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

static int set_int(int *dst, const char *v, int min, int max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return -1;
	*dst = (int)n;
	return 0;
}

/* bytes, with an optional k/m/g suffix (powers of 1024); 0 allowed */
static int set_size(long long *dst, const char *v)
{
	char *end;
	long long n;
	int shift = 0;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || n < 0)
		return -1;
	if (*end && !end[1])
		shift = *end == 'k' || *end == 'K' ? 10 : *end == 'm' || *end == 'M' ? 20 :
			*end == 'g' || *end == 'G' ? 30 : -1;
	else if (*end)
		shift = -1;
	if (shift < 0 || n > (LLONG_MAX >> 30))
		return -1;
	*dst = n << shift;
	return 0;
}

/* "" (no cgroups), or an absolute cgroup path with no "." or ".." component */
static int set_cgroup_parent(char *dst, size_t sz, const char *v)
{
	if (*v && *v != '/')
		return -1;
	for (const char *p = v; *p; p += strcspn(p, "/")) {
		size_t n;
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') ||
		    memchr(p, '\n', n))
			return -1;
	}
	if (set_str(dst, sz, v) < 0)
		return -1;
	for (size_t n = strlen(dst); n > 1 && dst[n - 1] == '/'; n--)
		dst[n - 1] = 0;
	return 0;
}

int sv_config_set(struct sv_config *c, const char *name, const char *value)
{
	int r = -1, b;

	if (!strcmp(name, "root")) {
		r = set_str(c->root, sizeof(c->root), value);
	} else if (!strcmp(name, "state")) {
		r = set_str(c->state, sizeof(c->state), value);
	} else if (!strcmp(name, "address")) {
		r = set_str(c->address, sizeof(c->address), value);
	} else if (!strcmp(name, "worker")) {
		r = set_str(c->worker, sizeof(c->worker), value);
	} else if (!strcmp(name, "pidfile")) {
		r = set_str(c->pidfile, sizeof(c->pidfile), value);
	} else if (!strcmp(name, "group")) {
		r = set_str(c->group, sizeof(c->group), value);
	} else if (!strcmp(name, "engine_user")) {
		r = *value ? set_str(c->engine_user, sizeof(c->engine_user), value) : -1;
	} else if (!strcmp(name, "cgroup_parent")) {
		r = set_cgroup_parent(c->cgroup_parent, sizeof(c->cgroup_parent), value);
	} else if (!strcmp(name, "task_cgroups")) {
		r = strcmp(value, "always") && strcmp(value, "limits") ? -1 : 0;
		if (!r)
			c->task_cgroups_always = !strcmp(value, "always");
	} else if (!strcmp(name, "log_max_size")) {
		r = set_size(&c->log_max_size, value);
	} else if (!strcmp(name, "log_max_files")) {
		r = set_int(&c->log_max_files, value, 0, 64);
	} else if (!strcmp(name, "reattach_timeout_ms")) {
		r = set_int(&c->reattach_timeout_ms, value, 1, 600000);
	} else if (!strcmp(name, "cleanup_timeout_ms")) {
		r = set_int(&c->cleanup_timeout_ms, value, 1, 600000);
	} else if (!strcmp(name, "warm_delay_ms")) {
		r = set_int(&c->warm_delay_ms, value, 0, 10000);
	} else if (!strcmp(name, "seccomp_profile")) {
		r = set_str(c->seccomp_profile, sizeof(c->seccomp_profile), value);
	} else if (!strcmp(name, "debug")) {
		r = set_int(&b, value, 0, 1);
		if (!r)
			c->debug = b;
	}
	return r;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *l = user;
	int r = !strcmp(section, "daemon") ? sv_config_set(l->c, name, value)
		: !strcmp(section, "policy") ? sv_policy_set(&l->c->policy, name, value) : -1;

	if (r < 0 && !l->bad) {
		l->bad = 1;
		snprintf(l->err, l->errsz, "[%s] %s = %s: unknown key or bad value", section, name, value);
	}
	return r == 0;
}

int sv_config_load(struct sv_config *c, const char *path, bool must_exist, char *err, size_t errsz)
{
	struct load_ctx l = { .c = c, .err = err, .errsz = errsz };
	FILE *f = fopen(path, "re");
	int r;

	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		r = -errno;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return r;
	}
	r = ini_parse_file(f, on_entry, &l);
	fclose(f);
	if (r > 0 && !l.bad)
		snprintf(err, errsz, "%s: line %d: syntax error", path, r);
	else if (l.bad)
		snprintf(err + strlen(err), errsz - strlen(err), " (%s)", path);
	return r ? -EINVAL : 0;
}
