/* SPDX-License-Identifier: Apache-2.0 */
/* common/passwd.h: users and groups read from a root's own passwd and group files, never
 * through NSS (no libnss_* module is ever loaded into the process that asks). */
#ifndef SV_COMMON_PASSWD_H
#define SV_COMMON_PASSWD_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SV_PASSWD_MAX (4u << 20)        /* the largest passwd or group file read */

/* rootfd's etc/NAME ("passwd", "group"), resolved as if rootfd were "/" (no symlink or ".."
 * leads out of it); a regular file of at most SV_PASSWD_MAX bytes (a FIFO would block).
 * FILE (close-on-exec) or NULL with errno. */
FILE *sv_passwd_open(int rootfd, const char *name);
/* The user named name (or, name NULL, of uid *uid) in passwd f: *uid, *gid and its name in
 * name_out (namesz bytes; NULL: not wanted). 1 found, 0 not (f NULL: not). */
int sv_passwd_user(FILE *f, const char *name, uint32_t *uid, uint32_t *gid, char *name_out,
		   size_t namesz);
/* The gid of the group named name in group file f. 1 found, 0 not (f NULL: not). */
int sv_passwd_group(FILE *f, const char *name, uint32_t *gid);
/* The host's /etc/passwd or /etc/group: sv_passwd_open under "/". */
FILE *sv_passwd_host(const char *name);

#endif
