/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/engine_seccomp.c: the engine's system calls, an allow-list (default EPERM), loaded
 * once its start-up is done. The list and why: mk/engine_filter.c, which libseccomp compiles
 * on the build host into $(B)/gen/engine_filter.h, so the daemon itself links no libseccomp. */
#include <errno.h>
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include "engine.h"
#include "engine_filter.h"

int engine_confine(void)
{
	struct sock_fprog prog = {
		.len = sizeof(engine_filter) / sizeof(engine_filter[0]),
		.filter = (struct sock_filter *)engine_filter,
	};

	/* no_new_privs is the caller's (engine_start.c sets it before the exec) */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return -errno;
	return 0;
}
