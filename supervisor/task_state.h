/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/task_state.h: the engine's task lifecycle as a state x event table. */
#ifndef SV_SUP_TASK_STATE_H
#define SV_SUP_TASK_STATE_H

enum task_state {
	T_CREATING,     /* spawn or Create in flight */
	T_CREATED,      /* init held before exec */
	T_RUNNING,
	T_STOPPED,      /* exited, not deleted */
	T_DELETING,     /* Delete done: worker shutting down, bundle being removed */
	T_FAILED,       /* create failed: being torn down, invisible to clients */
	T_UNKNOWN,      /* found at start-up, re-attach pending */
	T_NSTATES
};

enum task_event {
	TE_CREATED,         /* the worker created the init */
	TE_STARTED,         /* the init runs the task's process */
	TE_EXITED,          /* the init's exit is known */
	TE_DELETED,         /* the worker deleted the task */
	TE_FAILED,          /* create failed, or a re-attached worker holds no task */
	TE_NEVENTS
};

/* The state after ev; the same state when ev does not move it (a late or repeated event). */
enum task_state task_next(enum task_state st, enum task_event ev);
const char *task_state_str(enum task_state st);

#endif
