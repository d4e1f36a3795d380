/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/task_state.c: the task lifecycle table. Every state change in the engine goes
 * through task_next(): an event that does not apply leaves the state as it is. */
#include "task_state.h"

#define SAME T_NSTATES

static const enum task_state table[T_NSTATES][TE_NEVENTS] = {
	/*               CREATED    STARTED    EXITED     DELETED     FAILED   */
	[T_CREATING] = { T_CREATED, T_RUNNING, T_STOPPED, T_DELETING, T_FAILED },
	[T_CREATED]  = { SAME,      T_RUNNING, T_STOPPED, T_DELETING, T_FAILED },
	[T_RUNNING]  = { SAME,      SAME,      T_STOPPED, T_DELETING, SAME },
	[T_STOPPED]  = { SAME,      SAME,      SAME,      T_DELETING, SAME },
	[T_DELETING] = { SAME,      SAME,      SAME,      SAME,       SAME },
	[T_FAILED]   = { SAME,      SAME,      SAME,      SAME,       SAME },
	[T_UNKNOWN]  = { T_CREATED, T_RUNNING, T_STOPPED, T_DELETING, T_FAILED },
};

enum task_state task_next(enum task_state st, enum task_event ev)
{
	enum task_state n;

	if ((unsigned)st >= T_NSTATES || (unsigned)ev >= TE_NEVENTS)
		return st;
	n = table[st][ev];
	return n == SAME ? st : n;
}

const char *task_state_str(enum task_state st)
{
	static const char *const names[T_NSTATES] = {
		"creating", "created", "running", "stopped", "deleting", "failed", "unknown",
	};
	return (unsigned)st < T_NSTATES ? names[st] : "?";
}
