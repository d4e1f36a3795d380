/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/mounts.c: the spec's mounts under the new root: option strings to flags and
 * data, targets resolved inside the root (openat2 RESOLVE_IN_ROOT), created when missing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "common/cgroupfs.h"
#include "common/kernel.h"
#include "worker/init/init.h"

static const struct { const char *name; int clear; unsigned long flag; } flag_opts[] = {
	{ "ro", 0, MS_RDONLY }, { "rw", 1, MS_RDONLY },
	{ "nosuid", 0, MS_NOSUID }, { "suid", 1, MS_NOSUID },
	{ "nodev", 0, MS_NODEV }, { "dev", 1, MS_NODEV },
	{ "noexec", 0, MS_NOEXEC }, { "exec", 1, MS_NOEXEC },
	{ "sync", 0, MS_SYNCHRONOUS }, { "async", 1, MS_SYNCHRONOUS },
	{ "dirsync", 0, MS_DIRSYNC }, { "remount", 0, MS_REMOUNT },
	{ "mand", 0, MS_MANDLOCK }, { "nomand", 1, MS_MANDLOCK },
	{ "noatime", 0, MS_NOATIME }, { "atime", 1, MS_NOATIME },
	{ "nodiratime", 0, MS_NODIRATIME }, { "diratime", 1, MS_NODIRATIME },
	{ "relatime", 0, MS_RELATIME }, { "norelatime", 1, MS_RELATIME },
	{ "strictatime", 0, MS_STRICTATIME }, { "nostrictatime", 1, MS_STRICTATIME },
	{ "lazytime", 0, MS_LAZYTIME }, { "nolazytime", 1, MS_LAZYTIME },
	{ "silent", 0, MS_SILENT }, { "loud", 1, MS_SILENT },
	{ "defaults", 0, 0 },
};

static const struct { const char *name; unsigned long flag; } prop_opts[] = {
	{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC },
	{ "shared", MS_SHARED }, { "rshared", MS_SHARED | MS_REC },
	{ "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int mount_opts_parse(char *const *options, size_t n, struct mount_opts *o)
{
	size_t dl = 0;

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < n; i++) {
		const char *opt = options[i];
		size_t k, l;

		for (k = 0; k < NELEM(flag_opts); k++)
			if (!strcmp(opt, flag_opts[k].name))
				break;
		if (k < NELEM(flag_opts)) {
			if (flag_opts[k].clear) {
				o->flags &= ~flag_opts[k].flag;
				o->clear |= flag_opts[k].flag;
			} else {
				o->flags |= flag_opts[k].flag;
				o->clear &= ~flag_opts[k].flag;
			}
			continue;
		}
		for (k = 0; k < NELEM(prop_opts); k++)
			if (!strcmp(opt, prop_opts[k].name))
				break;
		if (k < NELEM(prop_opts)) {
			o->propagation = prop_opts[k].flag;
			continue;
		}
		if (!strcmp(opt, "bind")) {
			o->bind = 1;
			continue;
		}
		if (!strcmp(opt, "rbind")) {
			o->bind = o->rbind = 1;
			continue;
		}
		l = strlen(opt);
		if (l == 0)
			continue;
		if (strchr(opt, ','))
			return -EINVAL;
		if (dl + !!dl + l >= sizeof(o->data))
			return -E2BIG;
		if (dl)
			o->data[dl++] = ',';
		memcpy(o->data + dl, opt, l + 1);
		dl += l;
	}
	return 0;
}

int mount_target(int rootfd, const char *path, int create, int as_file, int *out)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	int fd;

	fd = sv_open_in_root(rootfd, path, O_PATH, 0);
	if (fd >= 0 || fd != -ENOENT || !create) {
		*out = fd;
		return fd < 0 ? fd : 0;
	}
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	/* Walk the components; create each missing one under its resolved parent. */
	for (size_t end = 0; end < len;) {
		size_t start = end;
		int last, pfd, rc;
		char save;

		while (start < len && buf[start] == '/')
			start++;
		end = start;
		while (end < len && buf[end] != '/')
			end++;
		if (start == end)
			break;
		last = end >= len || strspn(buf + end, "/") == len - end;
		save = buf[end];
		buf[end] = '\0';
		fd = sv_open_in_root(rootfd, buf, O_PATH, 0);
		if (fd == -ENOENT) {
			char name[NAME_MAX + 1];

			if (end - start > NAME_MAX)
				return -ENAMETOOLONG;
			memcpy(name, buf + start, end - start);
			name[end - start] = '\0';
			buf[start] = '\0';
			pfd = sv_open_in_root(rootfd, start ? buf : "/", O_PATH | O_DIRECTORY, 0);
			buf[start] = name[0];
			if (pfd < 0)
				return pfd;
			if (last && as_file) {
				int f = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					       O_CLOEXEC, 0644);

				rc = (f < 0 && errno != EEXIST) ? -errno : 0;
				if (f >= 0)
					close(f);
			} else {
				rc = (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST) ? -errno : 0;
			}
			close(pfd);
			if (rc)
				return rc;
			fd = sv_open_in_root(rootfd, buf, O_PATH, 0);
		}
		buf[end] = save;
		if (fd < 0)
			return fd;
		if (last) {
			*out = fd;
			return 0;
		}
		close(fd);
	}
	*out = sv_open_in_root(rootfd, "/", O_PATH, 0);
	return *out < 0 ? *out : 0;
}

static void fdpath(char *buf, size_t sz, int fd)
{
	snprintf(buf, sz, "/proc/self/fd/%d", fd);
}

/* A mount point that could not be had: one missing in a read-only root (the host's, by
 * default) is never made there. */
static int target_fail(struct init *in, int rc, const char *dest)
{
	if (rc == -EROFS)
		return init_fail(&in->err, rc, "mount %s: no such mount point, and the root is "
				 "read-only (none is made in it)", dest);
	return init_fail(&in->err, rc, "mount %s", dest);
}

/* Re-resolve dest (now covered by the new mount) and apply remount flags and propagation. */
static int finish_mount(struct init *in, const char *dest, unsigned long remount,
			unsigned long prop)
{
	char p[64];
	int fd, rc = 0;

	if (!remount && !prop)
		return 0;
	rc = mount_target(in->rootfd, dest, 0, 0, &fd);
	if (rc)
		return init_fail(&in->err, rc, "mount %s", dest);
	fdpath(p, sizeof(p), fd);
	if (remount && mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | remount, NULL) < 0)
		rc = init_fail(&in->err, -errno, "remount %s", dest);
	if (!rc && prop && mount(NULL, p, NULL, prop, NULL) < 0)
		rc = init_fail(&in->err, -errno, "propagation of %s", dest);
	close(fd);
	return rc;
}

static int bind_one(struct init *in, const struct spec_mount *m, const struct mount_opts *o)
{
	char src[PATH_MAX], p[64];
	struct stat st;
	unsigned long keep = o->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
					 MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
					 MS_STRICTATIME);
	int fd, rc;

	if (!m->source[0])
		return init_failmsg(&in->err, -EINVAL, "mount %s: a bind mount needs a source",
				    m->dest);
	if ((size_t)snprintf(src, sizeof(src), "%s%s%s", m->source[0] == '/' ? "" : in->bundle,
			     m->source[0] == '/' ? "" : "/", m->source) >= sizeof(src))
		return init_fail(&in->err, -ENAMETOOLONG, "mount %s", m->dest);
	if (stat(src, &st) < 0)
		return init_fail(&in->err, -errno, "mount %s: source %s", m->dest, src);
	rc = mount_target(in->rootfd, m->dest, 1, !S_ISDIR(st.st_mode), &fd);
	if (rc)
		return target_fail(in, rc, m->dest);
	fdpath(p, sizeof(p), fd);
	rc = mount(src, p, NULL, MS_BIND | (o->rbind ? MS_REC : 0), NULL);
	rc = rc < 0 ? init_fail(&in->err, -errno, "mount %s", m->dest) : 0;
	close(fd);
	if (rc)
		return rc;
	return finish_mount(in, m->dest, keep, o->propagation);
}

/* Bind the directory src on dest below the new root, then apply the per-mount flags. */
static int bind_dir(struct init *in, const char *src, const char *dest, unsigned long flags)
{
	char p[64];
	int fd, rc;

	rc = mount_target(in->rootfd, dest, 1, 0, &fd);
	if (rc)
		return target_fail(in, rc, dest);
	fdpath(p, sizeof(p), fd);
	rc = mount(src, p, NULL, MS_BIND, NULL) < 0 ? init_fail(&in->err, -errno, "mount %s", dest) : 0;
	close(fd);
	return rc ? rc : finish_mount(in, dest, flags, 0);
}

/* The spec's cgroup mount (`/sys/fs/cgroup`, type cgroup or cgroup2): the task sees its own
 * cgroups, as runc shows them without a cgroup namespace. A v1 host: a tmpfs holding, for
 * every hierarchy, a bind of the task's cgroup directory under the host mount's name (cpu,
 * memory, ..., systemd, and unified for cgroup2). A pure cgroup2 host: the task's cgroup
 * directory itself. Called after cgroups_setup: our cgroups are the task's. */
static int mount_cgroups(struct init *in, const struct spec_mount *m, const struct mount_opts *o)
{
	unsigned long flags = o->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	char src[PATH_MAX], dest[PATH_MAX], p[64];
	struct cg_hier *h = NULL;
	size_t n = 0;
	int fd, rc;

	rc = cgfs_list(0, &h, &n);
	if (rc)
		return init_fail(&in->err, rc, "mount %s: our cgroups", m->dest);
	if (n == 1 && h[0].v2) {
		snprintf(src, sizeof(src), "%s%s", h[0].mnt, strcmp(h[0].path, "/") ? h[0].path : "");
		rc = bind_dir(in, src, m->dest, flags);
		goto out;
	}
	rc = mount_target(in->rootfd, m->dest, 1, 0, &fd);
	if (rc) {
		rc = target_fail(in, rc, m->dest);
		goto out;
	}
	fdpath(p, sizeof(p), fd);
	if (mount("tmpfs", p, "tmpfs", flags & ~MS_RDONLY, "mode=755,size=64k") < 0)
		rc = init_fail(&in->err, -errno, "mount %s (tmpfs)", m->dest);
	close(fd);
	for (size_t i = 0; i < n && !rc; i++) {
		const char *name = strrchr(h[i].mnt, '/');

		if (!name || !name[1] || strchr(name + 1, ','))
			name = NULL;
		if ((size_t)snprintf(dest, sizeof(dest), "%s/%s", m->dest, name ? name + 1 : "x") >= sizeof(dest) ||
		    (size_t)snprintf(src, sizeof(src), "%s%s", h[i].mnt,
				     strcmp(h[i].path, "/") ? h[i].path : "") >= sizeof(src)) {
			rc = init_fail(&in->err, -ENAMETOOLONG, "mount %s", m->dest);
			break;
		}
		if (name)
			rc = bind_dir(in, src, dest, flags | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	}
	if (!rc && (flags & MS_RDONLY))
		rc = finish_mount(in, m->dest, flags, 0);
out:
	cgfs_free(h, n);
	return rc;
}

int mounts_apply(struct init *in)
{
	for (size_t i = 0; i < in->spec.nmounts; i++) {
		const struct spec_mount *m = &in->spec.mounts[i];
		const char *src;
		struct mount_opts o;
		char p[64];
		int fd, rc;

		rc = mount_opts_parse(m->options, m->noptions, &o);
		if (rc)
			return init_fail(&in->err, rc, "mount %s: options", m->dest);
		if (o.bind || !strcmp(m->type, "bind")) {
			if ((rc = bind_one(in, m, &o)))
				return rc;
			continue;
		}
		if (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2")) {
			if ((rc = mount_cgroups(in, m, &o)))
				return rc;
			continue;
		}
		if (!m->type[0])
			return init_failmsg(&in->err, -EINVAL, "mount %s: type is required",
					    m->dest);
		rc = mount_target(in->rootfd, m->dest, 1, 0, &fd);
		if (rc)
			return target_fail(in, rc, m->dest);
		fdpath(p, sizeof(p), fd);
		src = m->source[0] ? m->source : m->type;
		rc = mount(src, p, m->type, o.flags & ~MS_REMOUNT, o.data[0] ? o.data : NULL);
		if (rc < 0 && errno == EPERM && !strcmp(m->type, "sysfs")) {
			/* sysfs needs a new net namespace: fall back to the host's, read-only. */
			rc = mount("/sys", p, NULL, MS_BIND | MS_REC, NULL);
			close(fd);
			if (rc < 0)
				return init_fail(&in->err, -errno, "mount %s", m->dest);
			if ((rc = finish_mount(in, m->dest, o.flags | MS_RDONLY, 0)))
				return rc;
		} else {
			rc = rc < 0 ? -errno : 0;
			close(fd);
			if (rc)
				return init_fail(&in->err, rc, "mount %s (%s)", m->dest, m->type);
		}
		if (o.propagation && (rc = finish_mount(in, m->dest, 0, o.propagation)))
			return rc;
	}
	return 0;
}

static int is_dev(const char *dest)
{
	return !strncmp(dest, "/dev", 4) && dest[4 + strspn(dest + 4, "/")] == '\0';
}

int mounts_dev_is_tmpfs(const struct spec *s)
{
	for (size_t i = 0; i < s->nmounts; i++)
		if (is_dev(s->mounts[i].dest))
			return !strcmp(s->mounts[i].type, "tmpfs");
	return 0;
}

int mounts_default_dev(struct init *in, int *made)
{
	char p[64];
	int fd, rc;

	*made = 0;
	for (size_t i = 0; i < in->spec.nmounts; i++)
		if (is_dev(in->spec.mounts[i].dest))
			return 0;
	rc = mount_target(in->rootfd, "/dev", 1, 0, &fd);
	if (rc)
		return init_fail(&in->err, rc, "mount /dev");
	fdpath(p, sizeof(p), fd);
	rc = mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME,
		   "mode=755,size=65536k");
	rc = rc < 0 ? init_fail(&in->err, -errno, "mount /dev (tmpfs)") : 0;
	close(fd);
	*made = rc == 0;
	return rc;
}
