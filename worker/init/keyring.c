/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/keyring.c: a session keyring per task, as runc makes it: the task's init
 * joins (creating it) the keyring named `_ses.<task id>` and makes it searchable by its
 * owner (by anyone, in a user namespace); an exec joins its task's. Not the worker's or the
 * host's: a task sees the keys of no other. None with runc option NoNewKeyring. */
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>

#include "worker/init/init.h"

/* The permission bits runc adds (the kernel's KEY_USR_SEARCH, KEY_OTH_SEARCH). */
#define KEY_USR_SEARCH 0x00080000u
#define KEY_OTH_SEARCH 0x00000008u

int keyring_perm_parse(const char *desc, uint32_t *perm)
{
	const char *p = desc;
	unsigned long v;
	char *end;

	/* "type;uid;gid;perm;description": perm is the fourth, in hex */
	for (int i = 0; i < 3; i++) {
		p = strchr(p, ';');
		if (!p)
			return -EINVAL;
		p++;
	}
	if (!isxdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	v = strtoul(p, &end, 16);
	if (errno || *end != ';' || v > UINT32_MAX)
		return -EINVAL;
	*perm = (uint32_t)v;
	return 0;
}

/* Its permissions as runc sets them: what they were, and search for the owner (another
 * user in the task's user namespace, where the owner is the namespace's root). */
static int keyring_perm(struct init *in, long id)
{
	static char desc[4096 + 64];    /* the kernel's longest description and its fields */
	uint32_t perm;
	long n;

	n = syscall(__NR_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof(desc));
	if (n < 0)
		return init_fail(&in->err, -errno, "session keyring %s: describe", in->keyring);
	if ((size_t)n > sizeof(desc) || keyring_perm_parse(desc, &perm) < 0)
		return init_failmsg(&in->err, -EPROTO, "session keyring %s: an unexpected "
				    "description", in->keyring);
	perm |= spec_find_ns(&in->spec, CLONE_NEWUSER) ? KEY_OTH_SEARCH : KEY_USR_SEARCH;
	if (syscall(__NR_keyctl, KEYCTL_SETPERM, id, perm) < 0)
		return init_fail(&in->err, -errno, "session keyring %s: set its permissions",
				 in->keyring);
	return 0;
}

int keyring_join(struct init *in, int own)
{
	long id;

	if (!in->keyring)
		return 0;
	id = syscall(__NR_keyctl, KEYCTL_JOIN_SESSION_KEYRING, in->keyring);
	if (id < 0 && errno == ENOSYS)
		return 0;       /* a kernel without keys: runc goes on too */
	if (id < 0)
		return init_fail(&in->err, -errno, "session keyring %s: join", in->keyring);
	return own ? keyring_perm(in, id) : 0;
}
