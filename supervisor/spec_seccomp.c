/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/spec_seccomp.c: the default tasks' seccomp profile (linux.seccomp): the one built
 * in from etc/seccomp-default.json, or the config's seccomp_profile, read once at start. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "engine.h"
#include "wire/limits.h"
#include "seccomp_default.h"    /* build/gen: sv_seccomp_default[], from etc/ */

#define PROFILE_MAX (48 * 1024) /* config.json as a whole travels in 64 KiB */

/* Blank the '#' comment lines in place (JSON has none), then parse; an object with a
 * defaultAction string and a syscalls array, or NULL with err set. */
static cJSON *parse_profile(char *text, size_t len, const char *name, char *err, size_t errsz)
{
	cJSON *p, *da, *sc;

	for (size_t i = 0; i < len; i++) {
		if ((i == 0 || text[i - 1] == '\n') && text[i] == '#')
			for (; i < len && text[i] != '\n'; i++)
				text[i] = ' ';
	}
	p = cJSON_ParseWithLength(text, len);
	da = cJSON_GetObjectItemCaseSensitive(p, "defaultAction");
	sc = cJSON_GetObjectItemCaseSensitive(p, "syscalls");
	if (!cJSON_IsObject(p) || !cJSON_IsString(da) || !cJSON_IsArray(sc)) {
		snprintf(err, errsz, "%s: not a seccomp profile (a JSON object with defaultAction "
			 "and syscalls)", name);
		cJSON_Delete(p);
		return NULL;
	}
	return p;
}

static int read_all(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t n = 0;
	char *b;
	ssize_t r;

	if (fd < 0)
		return -errno;
	b = malloc(PROFILE_MAX + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while ((r = read(fd, b + n, PROFILE_MAX + 1 - n)) > 0 && (n += (size_t)r) <= PROFILE_MAX)
		;
	close(fd);
	if (r < 0 || n > PROFILE_MAX) {
		free(b);
		return r < 0 ? -errno : -EFBIG;
	}
	*out = b;
	*len = n;
	return 0;
}

/* p (consumed) as compact JSON: printed once, each config gets it verbatim (a raw item),
 * not a copy of the tree. NULL p: -EINVAL (err set by the parse). */
static int compact(cJSON *p, char **out, char *err, size_t errsz)
{
	if (!p)
		return -EINVAL;
	*out = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	if (!*out) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int spec_seccomp_parse(const char *json, size_t len, const char *name, char **out, char *err,
		       size_t errsz)
{
	char *text;
	cJSON *p;

	*out = NULL;
	if (len > PROFILE_MAX) {
		snprintf(err, errsz, "%s: over 48 KiB", name);
		return -EFBIG;
	}
	if (!(text = malloc(len + 1)))
		return -ENOMEM;
	memcpy(text, json, len);
	text[len] = 0;
	p = parse_profile(text, len, name, err, errsz);
	free(text);
	return compact(p, out, err, errsz);
}

int spec_seccomp_profile(const char *path, char **out, char *err, size_t errsz)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *p;
	int r;

	*out = NULL;
	if (!path || !path[0]) {
		len = sizeof(sv_seccomp_default) - 1;
		if (!(text = malloc(len)))
			return -ENOMEM;
		memcpy(text, sv_seccomp_default, len);
	} else if ((r = read_all(path, &text, &len)) < 0) {
		snprintf(err, errsz, "seccomp_profile %s: %s", path,
			 r == -EFBIG ? "over 48 KiB" : strerror(-r));
		return r;
	}
	p = parse_profile(text, len, path && path[0] ? path : "built-in profile", err, errsz);
	free(text);
	return compact(p, out, err, errsz);
}
