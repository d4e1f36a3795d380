/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/run_mounts.c: -v, --mount and --tmpfs (docker's syntax) as the Create request's
 * mounts; bind sources made absolute here (the daemon resolves nothing against our cwd). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/cli.h"

#define MOUNT_MAX_OPTS 16

static int oom(char *err, size_t errsz)
{
	snprintf(err, errsz, "out of memory");
	return -ENOMEM;
}

/* Append a mount (src: malloc'd or NULL, taken; the rest copied). */
static int push(struct run_opts *o, const char *type, char *src, const char *dst,
		const char *const *opts, size_t nopts, char *err, size_t errsz)
{
	sv_CtlMount *n, *m;

	if (dst[0] != '/') {
		free(src);
		snprintf(err, errsz, "invalid mount destination \"%.200s\": not an absolute path", dst);
		return -EINVAL;
	}
	n = realloc(o->mounts, (o->mounts_count + 1) * sizeof(*n));
	if (!n) {
		free(src);
		return oom(err, errsz);
	}
	o->mounts = n;
	m = &n[o->mounts_count++];
	memset(m, 0, sizeof(*m));
	m->type = strdup(type);
	m->source = src;
	m->destination = strdup(dst);
	m->options = calloc(nopts ? nopts : 1, sizeof(char *));
	if (!m->type || !m->destination || !m->options)
		return oom(err, errsz);
	for (size_t i = 0; i < nopts; i++) {
		if (!(m->options[i] = strdup(opts[i])))
			return oom(err, errsz);
		m->options_count++;
	}
	return 0;
}

/* A bind source: a path (docker's named volumes are not ours), resolved to where it is. */
static int bind_source(const char *src, char **abs, char *err, size_t errsz)
{
	if (src[0] != '/' && src[0] != '.') {
		snprintf(err, errsz, "invalid bind source \"%.200s\": want a path (there are no "
			 "named volumes)", src);
		return -EINVAL;
	}
	*abs = realpath(src, NULL);
	if (!*abs) {
		int rc = -errno;
		snprintf(err, errsz, "bind source %.200s: %s", src, strerror(-rc));
		return rc;
	}
	return 0;
}

int cli_add_volume(struct run_opts *o, const char *arg, char *err, size_t errsz)
{
	char buf[PATH_MAX * 2 + 16], *dst, *mode, *abs;
	const char *opts[2] = { "rbind", "rw" };
	int rc;

	if (strlen(arg) >= sizeof(buf) || !(dst = strchr(strcpy(buf, arg), ':'))) {
		snprintf(err, errsz, "invalid -v \"%.200s\": want SRC:DST[:ro|:rw]", arg);
		return -EINVAL;
	}
	*dst++ = '\0';
	if ((mode = strchr(dst, ':')) != NULL) {
		*mode++ = '\0';
		if (!strcmp(mode, "ro")) {
			opts[1] = "ro";
		} else if (strcmp(mode, "rw")) {
			snprintf(err, errsz, "invalid -v \"%.200s\": mode \"%.32s\": want ro or rw",
				 arg, mode);
			return -EINVAL;
		}
	}
	if ((rc = bind_source(buf, &abs, err, errsz)) < 0)
		return rc;
	return push(o, "bind", abs, dst, opts, 2, err, errsz);
}

static bool truth(const char *v, bool *b)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1"))
		return (*b = true), true;
	if (!strcmp(v, "false") || !strcmp(v, "0"))
		return (*b = false), true;
	return false;
}

int cli_add_mount(struct run_opts *o, const char *arg, char *err, size_t errsz)
{
	char buf[PATH_MAX * 2 + 64], size[40], mode[24], *save = NULL, *kv;
	const char *type = NULL, *src = NULL, *dst = NULL, *opts[4];
	bool ro = false;
	size_t n = 0;
	char *abs = NULL;

	size[0] = mode[0] = '\0';
	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errsz, "invalid --mount: longer than %zu bytes", sizeof(buf) - 1);
		return -EINVAL;
	}
	for (kv = strtok_r(strcpy(buf, arg), ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		int64_t bytes;
		char *end;
		long m;

		if (v)
			*v++ = '\0';
		if (!strcmp(kv, "type") && v) {
			type = v;
		} else if ((!strcmp(kv, "source") || !strcmp(kv, "src")) && v) {
			src = v;
		} else if ((!strcmp(kv, "target") || !strcmp(kv, "destination") ||
			    !strcmp(kv, "dst")) && v) {
			dst = v;
		} else if ((!strcmp(kv, "readonly") || !strcmp(kv, "ro")) && truth(v, &ro)) {
			;
		} else if (!strcmp(kv, "tmpfs-size") && v) {
			if (cli_parse_bytes(v, &bytes, err, errsz) < 0)
				return -EINVAL;
			snprintf(size, sizeof(size), "size=%lld", (long long)bytes);
		} else if (!strcmp(kv, "tmpfs-mode") && v && (m = strtol(v, &end, 8), *v && !*end) &&
			   m >= 0 && m <= 07777) {
			snprintf(mode, sizeof(mode), "mode=%lo", (unsigned long)m);
		} else {
			snprintf(err, errsz, "invalid --mount \"%.200s\": %.40s%s%.40s: want type, "
				 "source, target, readonly, tmpfs-size or tmpfs-mode", arg, kv,
				 v ? "=" : "", v ? v : "");
			return -EINVAL;
		}
	}
	if (!type || (strcmp(type, "bind") && strcmp(type, "tmpfs"))) {
		snprintf(err, errsz, "invalid --mount \"%.200s\": want type=bind or type=tmpfs", arg);
		return -EINVAL;
	}
	if (!dst || (!strcmp(type, "bind") != !!src) || (!strcmp(type, "bind") && (size[0] || mode[0]))) {
		snprintf(err, errsz, "invalid --mount \"%.200s\": %s", arg, !strcmp(type, "bind") ?
			 "a bind wants source and target" : "a tmpfs wants a target and no source");
		return -EINVAL;
	}
	opts[n++] = ro ? "ro" : "rw";
	if (src) {
		int rc = bind_source(src, &abs, err, errsz);

		if (rc < 0)
			return rc;
		opts[n++] = "rbind";
	}
	if (size[0])
		opts[n++] = size;
	if (mode[0])
		opts[n++] = mode;
	return push(o, type, abs, dst, opts, n, err, errsz);
}

int cli_add_tmpfs(struct run_opts *o, const char *arg, char *err, size_t errsz)
{
	char buf[PATH_MAX + 256], *colon, *save = NULL, *w;
	const char *opts[MOUNT_MAX_OPTS] = { "noexec" };    /* docker's; "exec" undoes it */
	size_t n = 1;

	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errsz, "invalid --tmpfs: longer than %zu bytes", sizeof(buf) - 1);
		return -EINVAL;
	}
	colon = strchr(strcpy(buf, arg), ':');
	if (colon)
		*colon++ = '\0';
	for (w = colon ? strtok_r(colon, ",", &save) : NULL; w; w = strtok_r(NULL, ",", &save)) {
		if (n == MOUNT_MAX_OPTS) {
			snprintf(err, errsz, "invalid --tmpfs \"%.200s\": over %d options", arg,
				 MOUNT_MAX_OPTS - 1);
			return -EINVAL;
		}
		opts[n++] = w;
	}
	return push(o, "tmpfs", NULL, buf, opts, n, err, errsz);
}

void cli_mounts_free(struct run_opts *o)
{
	for (size_t i = 0; i < o->mounts_count; i++) {
		sv_CtlMount *m = &o->mounts[i];

		free(m->type);
		free(m->source);
		free(m->destination);
		for (pb_size_t k = 0; k < m->options_count; k++)
			free(m->options[k]);
		free(m->options);
	}
	free(o->mounts);
	o->mounts = NULL;
	o->mounts_count = 0;
}
