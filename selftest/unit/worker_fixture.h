/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/worker_fixture.h: what the worker tests share: the build dir, a temporary
 * bundle holding a config.json, and its removal. */
#ifndef SV_WORKER_FIXTURE_H
#define SV_WORKER_FIXTURE_H
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "wire/limits.h"
#include "build_fixture.h"

static inline int fx_have_init(const char *build)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/shimvisor-init", build);
	return access(p, X_OK) == 0;
}

/* A new /tmp/<prefix>.XXXXXX with config.json = cfg; its path into dir. */
static inline void fx_make_bundle(char *dir, size_t dirsz, const char *prefix, const char *cfg, size_t len)
{
	int dfd;

	snprintf(dir, dirsz, "/tmp/%s.XXXXXX", prefix);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(sv_write_atomic(dfd, SV_BUNDLE_CONFIG, cfg, len, 0644), 0);
	close(dfd);
}

static inline void fx_rm_bundle(const char *dir)
{
	int tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(tmp, 0);
	ck_assert_int_eq(strncmp(dir, "/tmp/", 5), 0);
	ck_assert_int_eq(sv_remove_tree(tmp, dir + 5), 0);
	close(tmp);
}

#endif
