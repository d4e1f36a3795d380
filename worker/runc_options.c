/* SPDX-License-Identifier: Apache-2.0 */
/* worker/runc_options.c: containerd's runc options (containerd.runc.v1.Options, PROTOCOL.md
 * §9), which containerd sends a shim on `start` stdin and in CreateTaskRequest.options.
 * What each field does here:
 *   ShimCgroup      honoured at `start`: the shim joins that cgroup (runc_shim_cgroup_join)
 *   IoUid, IoGid    honoured: the stdio pipes of the init and each exec go to uid:gid
 *   NoNewKeyring    honoured: the init and the execs join no session keyring `_ses.<id>`
 *                   (worker/init/keyring.c), keeping the shim's
 *   NoPivotRoot, BinaryName, Root, SystemdCgroup, CriuPath, CriuImagePath, CriuWorkPath:
 *                   refused at Create, by name, when set (each one's reason in `refused`).
 * A field at its zero value is not set. Another type of options is ignored. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include "common/cgroupfs.h"
#include "common/names.h"
#include "wire/pbio.h"
#include "worker/runc_options.h"

/* The refused fields: tag (field number), containerd's TOML name, the proto name, why. */
struct refusal {
	unsigned char tag;
	char toml[16];
	char proto[16];
	char why[64];
};
SV_NAMES_BEGIN
static const struct refusal refused[] = {
	{ 1, "NoPivotRoot", "no_pivot_root", "shimvisor-init always uses pivot_root" },
	{ 6, "BinaryName", "binary_name", "shimvisor runs no OCI runtime binary" },
	{ 7, "Root", "root", "shimvisor keeps no runc state directory" },
	{ 8, "CriuPath", "criu_path", "checkpoint and restore are not implemented" },
	{ 9, "SystemdCgroup", "systemd_cgroup", "only cgroupfs paths are supported" },
	{ 10, "CriuImagePath", "criu_image_path", "checkpoint and restore are not implemented" },
	{ 11, "CriuWorkPath", "criu_work_path", "checkpoint and restore are not implemented" },
};
SV_NAMES_END

static bool str_set(const char *s)
{
	return s && *s;
}

static bool is_set(const sv_RuncOptions *o, unsigned tag)
{
	switch (tag) {
	case 1: return o->no_pivot_root;
	case 6: return str_set(o->binary_name);
	case 7: return str_set(o->root);
	case 8: return str_set(o->criu_path);
	case 9: return o->systemd_cgroup;
	case 10: return str_set(o->criu_image_path);
	case 11: return str_set(o->criu_work_path);
	}
	return false;
}

int runc_options_from_any(const char *type_url, const uint8_t *val, size_t len,
			  sv_RuncOptions *o)
{
	const char *slash;
	int rc;

	memset(o, 0, sizeof(*o));
	if (!type_url)
		return 0;
	/* containerd writes the bare name; a "type.googleapis.com/" prefix is the same type */
	slash = strrchr(type_url, '/');
	if (strcmp(slash ? slash + 1 : type_url, SV_RUNC_OPTIONS_URL) != 0)
		return 0;
	rc = sv_pb_decode(sv_RuncOptions_fields, o, val, len);
	if (rc < 0) {
		memset(o, 0, sizeof(*o));
		return rc == -EILSEQ ? rc : -EBADMSG;
	}
	return 1;
}

int runc_options_from_bytes(const uint8_t *buf, size_t len, sv_RuncOptions *o)
{
	sv_Any any;
	int rc;

	memset(o, 0, sizeof(*o));
	if (len == 0)
		return 0;
	rc = sv_pb_decode(sv_Any_fields, &any, buf, len);
	if (rc < 0)
		return rc == -EILSEQ ? rc : -EBADMSG;
	rc = runc_options_from_any(any.type_url, any.value ? any.value->bytes : NULL,
				   any.value ? any.value->size : 0, o);
	sv_pb_free(sv_Any_fields, &any);
	return rc;
}

int runc_options_refused(const sv_RuncOptions *o, char *msg, size_t sz)
{
	size_t i, off = 0;
	int n = 0;

	if (sz)
		msg[0] = '\0';
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const struct refusal *r = &refused[i];
		int w;

		if (!is_set(o, r->tag))
			continue;
		w = snprintf(msg + off, sz > off ? sz - off : 0,
			     "%srunc option %s (%s) is not supported: %s", n ? "; " : "",
			     r->toml, r->proto, r->why);
		if (w > 0)
			off = off + (size_t)w < sz ? off + (size_t)w : sz;
		n++;
	}
	if (n && off < sz)
		snprintf(msg + off, sz - off, ": not implemented");
	return n;
}

static int join_one(const struct cg_hier *h, const char *path, const char *pid)
{
	int fd = cgfs_open_dir(h->mnt, path, false, NULL, NULL, NULL), rc;

	if (fd < 0)
		return fd;
	rc = cgfs_write(fd, "cgroup.procs", pid);
	close(fd);
	return rc;
}

int runc_shim_cgroup_join(const char *path, pid_t pid)
{
	struct cg_hier *h = NULL;
	size_t n = 0, i;
	bool any_v1 = false;
	int rc, joined = 0;
	char spid[24];

	if (!str_set(path))
		return -EINVAL;
	rc = cgfs_list(0, &h, &n);
	if (rc < 0)
		return rc;
	snprintf(spid, sizeof(spid), "%d", (int)pid);
	for (i = 0; i < n; i++)
		any_v1 |= !h[i].v2;
	/* runc-v2: cgroups.Load(V1, StaticPath(path)).Add on a v1 or hybrid host, each
	 * hierarchy the directory exists in (the cgroup2 one of a hybrid host is not among
	 * them); cgroupsv2 on a unified host, where the directory must exist */
	for (i = 0; i < n && rc == 0; i++) {
		if (h[i].v2 == any_v1)
			continue;
		rc = join_one(&h[i], path, spid);
		if (rc == -ENOENT && any_v1)
			rc = 0;
		else if (rc == 0)
			joined++;
	}
	cgfs_free(h, n);
	if (rc == 0 && joined == 0)
		rc = -ENOENT;
	return rc;
}

int runc_io_chown(const int *fds, size_t n, uint32_t uid, uint32_t gid)
{
	struct statfs sfs;
	size_t i;

	for (i = 0; i < n; i++) {
		if (fds[i] < 0 || fstatfs(fds[i], &sfs) < 0 || sfs.f_type != PIPEFS_MAGIC)
			continue;
		if (fchown(fds[i], (uid_t)uid, (gid_t)gid) < 0)
			return -errno;
	}
	return 0;
}
