/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/caps.c: the privilege drop, in order: bounding set, ids (supplementary groups,
 * gid, uid, keeping capabilities across), capability sets and ambient, no_new_privs. */
#include <errno.h>
#include <grp.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <cap-ng.h>

#include "worker/init/init.h"

static const capng_type_t capng_types[CAPSET_COUNT] = {
	[CAPSET_BOUNDING] = CAPNG_BOUNDING_SET, [CAPSET_EFFECTIVE] = CAPNG_EFFECTIVE,
	[CAPSET_PERMITTED] = CAPNG_PERMITTED, [CAPSET_INHERITABLE] = CAPNG_INHERITABLE,
	[CAPSET_AMBIENT] = CAPNG_AMBIENT,
};

int caps_keep_sys_admin(const struct init *in)
{
	const struct spec_process *p = &in->spec.process;

	if (!p->has_caps)
		return p->uid == 0;
	return !!(p->caps[CAPSET_EFFECTIVE] & (UINT64_C(1) << CAP_SYS_ADMIN));
}

static int set_ids(struct init *in)
{
	const struct spec_process *p = &in->spec.process;

	if (setgroups(p->ngids, p->gids) < 0)
		return init_fail(&in->err, -errno, "setgroups");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return init_fail(&in->err, -errno, "setgid %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return init_fail(&in->err, -errno, "setuid %u", p->uid);
	return 0;
}

int caps_apply(struct init *in)
{
	const struct spec_process *p = &in->spec.process;
	int rc;

	if (p->has_caps) {
		capng_clear(CAPNG_SELECT_ALL);
		for (int set = 0; set < CAPSET_COUNT; set++)
			for (unsigned cap = 0; cap < 64; cap++)
				if (p->caps[set] & (UINT64_C(1) << cap))
					/* Capabilities this kernel lacks are skipped, as runc does. */
					(void)capng_update(CAPNG_ADD, capng_types[set], cap);
		if ((rc = capng_apply(CAPNG_SELECT_BOUNDS)))
			return init_failmsg(&in->err, -EPERM,
					    "capabilities: bounding set (capng %d)", rc);
		/* Keep the permitted set across setuid; the sets are applied right after. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return init_fail(&in->err, -errno, "prctl keepcaps");
	}
	if ((rc = set_ids(in)))
		return rc;
	if (p->has_caps) {
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return init_fail(&in->err, -errno, "prctl keepcaps");
		if ((rc = capng_apply(CAPNG_SELECT_CAPS)))
			return init_failmsg(&in->err, -EPERM, "capabilities: capset (capng %d)",
					    rc);
		if ((rc = capng_apply(CAPNG_SELECT_AMBIENT)))
			return init_failmsg(&in->err, -EPERM, "capabilities: ambient (capng %d)",
					    rc);
	}
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return init_fail(&in->err, -errno, "prctl no_new_privs");
	return 0;
}
