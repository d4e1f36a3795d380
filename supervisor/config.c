/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/config.c: shimvisord defaults and the ini config file, parsed with libinih. */
#include <errno.h>
#include <limits.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/log.h"
#include "common/passwd.h"
#include "config.h"

void sv_config_defaults(struct sv_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state, sizeof(c->state), "/run/shimvisor");
	snprintf(c->address, sizeof(c->address), "/run/shimvisor/shimvisord.sock");
	snprintf(c->group, sizeof(c->group), "shimvisor");
	snprintf(c->engine_user, sizeof(c->engine_user), "shimvisor");
	snprintf(c->allow_uids, sizeof(c->allow_uids), "0");
	snprintf(c->cgroup_parent, sizeof(c->cgroup_parent), "/shimvisor");
	c->log_max_size = 1 << 20;
	c->log_max_files = 2;
	c->log_level = LOG_INFO;
	snprintf(c->syslog_socket, sizeof(c->syslog_socket), "/dev/log");
	c->reattach_timeout_ms = 2000;
	c->cleanup_timeout_ms = 5000;
	c->warm_worker = true;
	c->warm_delay_ms = 20;
	c->oom_score_adj = -500;
	c->client_idle_ms = 30000;
	c->client_peer_max = 64;
	c->client_root_reserve = 32;
	c->event_queue_max = 16;
	c->client_partial_max = 4 << 20;
	c->ready_fd = -1;
	sv_policy_defaults(&c->policy);
}

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

/* A list of uids or gids: numbers or names, separated by "," or blanks; may be empty. */
#define LIST_SEP ", \t"

static int set_id_list(char *dst, size_t sz, const char *v)
{
	size_t n = 0;

	for (const char *p = v + strspn(v, LIST_SEP); *p; p += strspn(p, LIST_SEP)) {
		size_t k = strcspn(p, LIST_SEP);
		for (size_t i = 0; i < k; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
				    p[i]))
				return -1;
		if (++n > SV_ALLOW_MAX)
			return -1;
		p += k;
	}
	return set_str(dst, sz, v);
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

	if (!strcmp(name, "state")) {
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
	} else if (!strcmp(name, "engine_user_shared")) {
		r = set_int(&b, value, 0, 1);
		if (!r)
			c->engine_user_shared = b;
	} else if (!strcmp(name, "allow_uids")) {
		r = set_id_list(c->allow_uids, sizeof(c->allow_uids), value);
	} else if (!strcmp(name, "allow_gids")) {
		r = set_id_list(c->allow_gids, sizeof(c->allow_gids), value);
		c->allow_gids_set |= r == 0;
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
	} else if (!strcmp(name, "warm_worker")) {
		r = set_int(&b, value, 0, 1);
		if (!r)
			c->warm_worker = b;
	} else if (!strcmp(name, "warm_delay_ms")) {
		r = set_int(&c->warm_delay_ms, value, 0, 10000);
	} else if (!strcmp(name, "oom_score_adj")) {
		r = set_int(&c->oom_score_adj, value, -1000, 1000);
	} else if (!strcmp(name, "client_idle_ms")) {
		r = set_int(&c->client_idle_ms, value, 0, 86400000);
	} else if (!strcmp(name, "client_peer_max")) {
		r = set_int(&c->client_peer_max, value, 1, 65536);
	} else if (!strcmp(name, "client_root_reserve")) {
		r = set_int(&c->client_root_reserve, value, 0, 65536);
	} else if (!strcmp(name, "event_queue_max")) {
		r = set_int(&c->event_queue_max, value, 1, 1000000);
	} else if (!strcmp(name, "client_partial_max")) {
		long long n;
		r = set_size(&n, value);
		if (!r && (n < (256 << 10) || n > (1LL << 30)))
			r = -1;         /* below a large Create, or more than any use */
		if (!r)
			c->client_partial_max = n;
	} else if (!strcmp(name, "seccomp_profile")) {
		r = set_str(c->seccomp_profile, sizeof(c->seccomp_profile), value);
	} else if (!strcmp(name, "log_level")) {
		int l = sv_log_level_parse(value);
		r = l < 0 ? -1 : 0;
		if (!r)
			c->log_level = l;
	} else if (!strcmp(name, "syslog_socket")) {
		r = *value == '/' ? set_str(c->syslog_socket, sizeof(c->syslog_socket), value) : -1;
	} else if (!strcmp(name, "debug")) {
		r = set_int(&b, value, 0, 1);
		if (!r)
			c->log_level = b ? LOG_DEBUG : LOG_INFO;
	}
	return r;
}

struct load_ctx {
	struct sv_config *c;
	FILE *f;
	int line;               /* the line being parsed (1-based) */
	int newlines;           /* newlines read so far */
	int long_line;          /* the first line over inih's buffer, or 0 */
	int max_line;           /* the longest line that fits it */
	char *err;
	size_t errsz;
	int bad;                /* the first line with a bad key or value, or 0 */
};

/* inih's reader: whole lines only, counted, so that an error names its line; a line longer
 * than inih's buffer is cut there, its rest skipped, and the file refused (never read as two
 * lines). */
static char *read_line(char *str, int num, void *stream)
{
	struct load_ctx *l = stream;
	size_t n;
	int ch;

	if (!fgets(str, num, l->f))
		return NULL;
	l->line = l->newlines + 1;
	n = strlen(str);
	if ((n && str[n - 1] == '\n') || feof(l->f)) {
		l->newlines += n && str[n - 1] == '\n';
		return str;
	}
	if (!l->long_line) {
		l->long_line = l->line;
		l->max_line = num - 2;
	}
	while ((ch = getc(l->f)) != EOF && ch != '\n')
		;
	l->newlines++;
	return str;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *l = user;
	int r = !strcmp(section, "daemon") ? sv_config_set(l->c, name, value)
		: !strcmp(section, "policy") ? sv_policy_set(&l->c->policy, name, value) : -1;

	if (r < 0 && !l->bad) {
		l->bad = l->line;
		snprintf(l->err, l->errsz, "[%s] %s = %s: unknown key or bad value", section, name,
			 value);
	}
	return r == 0;
}

/* The earliest of the errors found (line numbers, 0 = none). */
static int first_of(int a, int b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

int sv_config_load(struct sv_config *c, const char *path, bool must_exist, char *err, size_t errsz)
{
	char why[512] = "";
	struct load_ctx l = { .c = c, .err = why, .errsz = sizeof(why) };
	int r, first;

	l.f = fopen(path, "re");
	if (!l.f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		r = -errno;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return r;
	}
	r = ini_parse_stream(read_line, &l, on_entry, &l);
	fclose(l.f);
	if (r < 0) {
		snprintf(err, errsz, "%s: out of memory", path);
		return -ENOMEM;
	}
	first = first_of(first_of(r, l.bad), l.long_line);
	if (!first)
		return 0;
	if (first == l.long_line)
		snprintf(err, errsz, "%s:%d: a line longer than %d bytes", path, first, l.max_line);
	else if (first == l.bad)
		snprintf(err, errsz, "%s:%d: %s", path, first, why);
	else
		snprintf(err, errsz, "%s:%d: syntax error", path, first);
	return -EINVAL;
}

/* Names are looked up in the host's /etc/passwd and /etc/group themselves (common/passwd.c),
 * never through NSS: the resident monitor and engine load no libnss_* module (and nothing it
 * pulls in). A user or group that only an NSS service (LDAP, systemd's dynamic users) knows
 * must be given by number. 1 found, 0 not, -errno if the file cannot be read. */
static int name_to_id(const char *name, bool group, uint32_t *id, uint32_t *gid)
{
	FILE *f = sv_passwd_host(group ? "group" : "passwd");
	uint32_t g;
	int found;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	found = group ? sv_passwd_group(f, name, id) :
			sv_passwd_user(f, name, id, gid ? gid : &g, NULL, 0);
	fclose(f);
	return found;
}

/* A name or number of the list; -1 if unknown (or its file unreadable). */
static long long id_of(const char *tok, bool group)
{
	char *end;
	unsigned long long n;
	uint32_t id;

	errno = 0;
	n = strtoull(tok, &end, 10);
	if (!errno && end != tok && !*end && tok[0] != '-')
		return n < (unsigned long long)(uid_t)-1 ? (long long)n : -1;
	return name_to_id(tok, group, &id, NULL) == 1 ? (long long)id : -1;
}

static int resolve_list(const char *list, bool group, unsigned *out, size_t *n,
			const char *key, char *err, size_t errsz)
{
	char tok[sizeof(((struct sv_config *)0)->allow_uids)];

	*n = 0;
	for (const char *p = list + strspn(list, LIST_SEP); *p; p += strspn(p, LIST_SEP)) {
		size_t k = strcspn(p, LIST_SEP);
		long long id;

		snprintf(tok, sizeof(tok), "%.*s", (int)k, p);
		p += k;
		id = id_of(tok, group);
		if (id < 0) {
			snprintf(err, errsz, "%s: %s: no such %s", key, tok, group ? "group" : "user");
			return -EINVAL;
		}
		if (*n < SV_ALLOW_MAX)
			out[(*n)++] = (unsigned)id;
	}
	return 0;
}

int sv_config_resolve(struct sv_config *c, char *err, size_t errsz)
{
	uint32_t uid = 0, gid = 0;
	int r = name_to_id(c->engine_user, false, &uid, &gid);

	_Static_assert(sizeof(uid_t) == sizeof(unsigned) && sizeof(gid_t) == sizeof(unsigned),
		       "uid_t and gid_t are unsigned int");
	if (r < 0) {
		snprintf(err, errsz, "engine_user %s: /etc/passwd: %s", c->engine_user, strerror(-r));
		return -EINVAL;
	}
	if (r == 0) {
		snprintf(err, errsz, "engine_user %s: no such user in /etc/passwd (make install or "
			 "mk/deps.sh creates the system user shimvisor)", c->engine_user);
		return -EINVAL;
	}
	if (uid == 0) {
		snprintf(err, errsz, "engine_user %s: is root; the engine must run unprivileged",
			 c->engine_user);
		return -EINVAL;
	}
	/* any other process of nobody's uid could signal the engine or read its memory */
	if ((uid == 65534 || !strcmp(c->engine_user, "nobody")) && !c->engine_user_shared) {
		snprintf(err, errsz, "engine_user %s: a uid other processes share (any of them "
			 "could stop or kill the engine); use the user shimvisor, or set "
			 "engine_user_shared = 1 to accept it", c->engine_user);
		return -EINVAL;
	}
	c->engine_uid = uid;
	c->engine_gid = gid;
	c->group_gid = (gid_t)-1;
	if (c->group[0]) {
		r = name_to_id(c->group, true, &gid, NULL);
		if (r <= 0) {
			snprintf(err, errsz, "group %s: %s (make install or mk/deps.sh creates it; "
				 "group = (empty) serves root only)", c->group,
				 r < 0 ? strerror(-r) : "no such group in /etc/group");
			return -EINVAL;
		}
		c->group_gid = gid;
	}
	r = resolve_list(c->allow_uids, false, c->allow_uid, &c->n_allow_uid, "allow_uids",
			 err, errsz);
	if (r == 0)
		r = resolve_list(c->allow_gids_set ? c->allow_gids : c->group, true, c->allow_gid,
				 &c->n_allow_gid, "allow_gids", err, errsz);
	return r;
}
