/* SPDX-License-Identifier: Apache-2.0 */
/* worker/runc_options.h: containerd's runc options (containerd.runc.v1.Options): decoding,
 * the fields refused at Create, ShimCgroup joined at `start`, io_uid/io_gid on the pipes. */
#ifndef SV_WORKER_RUNC_OPTIONS_H
#define SV_WORKER_RUNC_OPTIONS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "task.pb.h"

#define SV_RUNC_OPTIONS_URL "containerd.runc.v1.Options"

/* An Any's type URL and value: 1 when it holds runc options (decoded into *o, release with
 * sv_pb_free(sv_RuncOptions_fields, o)); 0 for any other type (ignored, as containerd's
 * other shims do; *o zeroed); -EBADMSG or -EILSEQ (a string holds a NUL) when undecodable. */
int runc_options_from_any(const char *type_url, const uint8_t *val, size_t len,
			  sv_RuncOptions *o);
/* The same from an encoded Any (what `start` reads on stdin); 0 bytes is 0 (no options). */
int runc_options_from_bytes(const uint8_t *buf, size_t len, sv_RuncOptions *o);
/* The fields set (to a value other than their zero) that shimvisor does not honour, by
 * name, into msg ("" when none). Returns how many. */
int runc_options_refused(const sv_RuncOptions *o, char *msg, size_t sz);
/* Move pid into the cgroup path (relative to each hierarchy's root) as runc-v2's `start`
 * does: every v1 hierarchy where the directory exists (at least one must), or, on a host
 * with cgroup2 only, the cgroup2 one. Nothing is created. 0 or -errno. */
int runc_shim_cgroup_join(const char *path, pid_t pid);
/* io_uid/io_gid: the pipes among fds (never a file or a named FIFO) are given to uid:gid,
 * as runc-v2's pipes are. 0 or the first -errno. */
int runc_io_chown(const int *fds, size_t n, uint32_t uid, uint32_t gid);

#endif
